#!/usr/bin/python3
"""System test of the Debian package (#17): cpack -G DEB from this source,
`apt-get install ./cdscan_*.deb`, then the installed cdscan: --version, its
default configuration /etc/cdscan/cdscan.yaml, `cdscan check` of a lab zone
with the verdict the scenario expects, the files dpkg lists, `man -w`, the
service user and spool, the installed unit through systemd-analyze verify,
and that nothing enabled the service.  Then `apt-get purge cdscan`, also
when a check failed, and nothing of the package may be left (the user and
group are removed here if the test made them: Debian leaves them on purge).

The package must come from a build for the prefix /usr (cpack refuses
another: its binary would read its configuration from elsewhere).  When the
build tree under test was configured for another prefix, the package is
built in BUILD/deb-build from the same source, build type and compiler.

Needs root or passwordless sudo (apt-get, dpkg): without them it fails and
says so.  It refuses to run when cdscan is already installed, or its files
are there, rather than replace and purge someone's installation.  One
machine-wide lock keeps two build trees from installing at once.
Usage: deb_install_test.py SOURCE_DIR BUILD_DIR LAB_DIR CMAKE CPACK"""

import fcntl
import glob
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import tempfile
import time

from labtest import check, finish, load_lab

LOCK = "/run/lock/cdscan-deb-install.lock"
LOCK_WAIT_S = 600
ZONE = "secure.test."
# What the package must hold besides the migrations.
FILES = ["/usr/bin/cdscan", "/usr/share/man/man8/cdscan.8", "/usr/share/man/man5/cdscan.yaml.5",
         "/usr/share/doc/cdscan/examples/cdscan.yaml", "/etc/cdscan/cdscan.yaml",
         "/lib/systemd/system/cdscan.service", "/usr/lib/sysusers.d/cdscan.conf"]
# What must not be there before the install, nor after the purge.
TRACES = ["/usr/bin/cdscan", "/etc/cdscan", "/var/lib/cdscan",
          "/lib/systemd/system/cdscan.service", "/usr/lib/sysusers.d/cdscan.conf",
          "/usr/share/man/man8/cdscan.8", "/usr/share/cdscan"]
ENABLED = "/etc/systemd/system/multi-user.target.wants/cdscan.service"


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(args, **kw)


def out(p):
    return ((p.stdout or "") + (p.stderr or "")).strip()


def check_why(ok, what, why):
    """check(), with the detail printed only when it failed."""
    return check(ok, what if ok else "%s: %s" % (what, why))


def ran(p, what):
    """A setup command's outcome: its exit code and output tail on failure."""
    return check_why(p.returncode == 0, what, "exit %d %s" % (p.returncode, out(p)[-800:]))


def privilege():
    """The prefix that runs a command as root, or None."""
    if os.geteuid() == 0:
        return []
    try:
        if run(["sudo", "-n", "true"]).returncode == 0:
            return ["sudo", "-n"]
    except OSError:  # no sudo, or none this user may run
        pass
    return None


def lock():
    """The machine-wide lock, held until the process ends."""
    path = LOCK if os.access(os.path.dirname(LOCK), os.W_OK) else \
        os.path.join(tempfile.gettempdir(), os.path.basename(LOCK))
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    deadline = time.monotonic() + LOCK_WAIT_S
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                return None
            if not said:
                print("waiting for %s: another build installs the package" % path)
                said = True
            time.sleep(2)


def dpkg_state():
    """dpkg's two-letter state of cdscan ('ii', 'rc', ...), '' if unknown."""
    p = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "cdscan"])
    return p.stdout.strip() if p.returncode == 0 else ""


def cache_value(build, key):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^%s:[A-Z]+=(.*)$" % re.escape(key), line)
            if m:
                return m.group(1)
    return ""


def package_tree(src, build, cmake):
    """A build tree for the prefix /usr: this one, or BUILD/deb-build."""
    if cache_value(build, "CMAKE_INSTALL_PREFIX") == "/usr":
        return build
    tree = os.path.join(build, "deb-build")
    print("the build tree is for the prefix %s: building the package's binary in %s"
          % (cache_value(build, "CMAKE_INSTALL_PREFIX"), tree))
    args = [cmake, "-S", src, "-B", tree, "-DCMAKE_INSTALL_PREFIX=/usr", "-DCDSCAN_TESTS=OFF"]
    for key in ("CMAKE_BUILD_TYPE", "CMAKE_C_COMPILER", "CDSCAN_WERROR"):
        value = cache_value(build, key)
        if value:
            args.append("-D%s=%s" % (key, value))
    if not ran(run(args), "configure " + tree):
        return None
    if not ran(run([cmake, "--build", tree, "-j2"]), "build " + tree):
        return None
    return tree


def make_package(src, build, cmake, cpack, outdir):
    tree = package_tree(src, build, cmake)
    if not tree:
        return None
    p = run([cpack, "-G", "DEB", "-B", outdir, "--config", os.path.join(tree, "CPackConfig.cmake")],
            cwd=tree)
    debs = glob.glob(os.path.join(outdir, "cdscan_*.deb"))
    if not check_why(p.returncode == 0 and len(debs) == 1, "cpack -G DEB: one package",
                     "exit %d, %s %s" % (p.returncode, debs, out(p)[-800:])):
        return None
    # apt reads the file as its sandbox user _apt.
    os.chmod(outdir, 0o755)
    return debs[0]


def check_binary(deb):
    """dpkg's version, the binary's, and its default configuration."""
    version = run(["dpkg-deb", "-f", deb, "Version"]).stdout.strip()
    p = run(["dpkg-query", "-W", "-f=${Status} ${Version}", "cdscan"])
    check(p.stdout.strip() == "install ok installed " + version,
          "dpkg: %s (want installed %s)" % (out(p), version))
    p = run(["/usr/bin/cdscan", "--version"])
    check(p.returncode == 0 and p.stdout.strip() == "cdscan " + version,
          "/usr/bin/cdscan --version: exit %d %r (package %s)" % (p.returncode, out(p), version))
    # The binary's default configuration is the conffile the package ships.
    p = run(["/usr/bin/cdscan", "--check-config"])
    check(p.returncode == 0 and p.stdout.strip() == "/etc/cdscan/cdscan.yaml: ok",
          "/usr/bin/cdscan --check-config: exit %d %r" % (p.returncode, out(p)))


def check_files(src):
    """What dpkg lists, the conffile, and the manuals through man."""
    listed = set(run(["dpkg", "-L", "cdscan"]).stdout.split())
    sql = ["/usr/share/cdscan/sql/" + os.path.basename(f)
           for f in sorted(glob.glob(os.path.join(src, "sql", "*.sql")))]
    missing = [f for f in FILES + sql if f not in listed]
    check(sql and not missing, "dpkg -L cdscan lists the binary, manuals, unit, sysusers.d file, "
          "configuration and %d migrations%s" % (len(sql), ": missing %s" % missing if missing else ""))
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "cdscan"]).stdout.split()
    check("/etc/cdscan/cdscan.yaml" in conffiles,
          "/etc/cdscan/cdscan.yaml is a conffile: %s" % conffiles)

    for page, want in (("cdscan", "/usr/share/man/man8/cdscan.8"),
                       ("cdscan.yaml", "/usr/share/man/man5/cdscan.yaml.5")):
        p = run(["man", "-aw", page])
        found = p.stdout.split()
        check(any(f in (want, want + ".gz") for f in found),
              "man -w %s finds %s: %s" % (page, want, out(p)))
    p = run(["man", "8", "cdscan"], env=dict(os.environ, MANPAGER="cat", PAGER="cat",
                                              MANWIDTH="100"))
    text = re.sub(r".\x08", "", p.stdout)
    check(p.returncode == 0 and "cdscan.service" in text,
          "man 8 cdscan renders and names cdscan.service: exit %d" % p.returncode)


def check_service():
    """The user, the spool, the unit as installed, and nothing enabled."""
    try:
        user = pwd.getpwnam("cdscan")
    except KeyError:
        user = None
    check(user and user.pw_dir == "/var/lib/cdscan" and user.pw_shell.endswith("nologin"),
          "service user cdscan, home /var/lib/cdscan, no login: %s"
          % ("%s, %s" % (user.pw_dir, user.pw_shell) if user else "none"))
    spool = "/var/lib/cdscan/spool"
    st = os.stat(spool) if os.path.isdir(spool) else None
    check(st and user and st.st_uid == user.pw_uid, "%s exists, owned by cdscan" % spool)
    check(not os.path.lexists(ENABLED), "the package does not enable the service")
    # The unit as installed, its binary and manuals in place: nothing to say.
    p = run(["systemd-analyze", "verify", "/lib/systemd/system/cdscan.service"])
    check_why(p.returncode == 0 and not out(p), "systemd-analyze verify says nothing of the "
              "installed unit", "exit %d %s" % (p.returncode, out(p)))


def check_lab_zone(lab):
    """`cdscan check` from the installed path, in real-DNS mode through the
    lab's resolver: the verdict the scenario expects."""
    z = lab["zones"].get(ZONE)
    if not check(z is not None, "the lab has %s" % ZONE):
        return
    exp = z["expect"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as conf:
        # The lab's nameservers are on loopback, which is never asked unless
        # allowed; timeouts as labtest.py explains.
        conf.write("resolver:\n  allow-addresses: [127.0.0.0/8, '::1']\n"
                   "scan:\n  timeout: 1s\n  retries: 2\n")
        conf.flush()
        args = ["/usr/bin/cdscan", "-c", conf.name, "check", ZONE, "--resolver", lab["resolver"],
                "--trust-anchor", lab["trust_anchor"], "--json"]
        p = run(args, timeout=120)
    try:
        v = json.loads(p.stdout)
    except ValueError:
        v = None
    if not check_why(p.returncode == 0 and v is not None, " ".join(args),
                     "exit %d %s" % (p.returncode, out(p)[-500:])):
        return
    check(v["domain"] == ZONE and v["secure"] is (exp["resolver"] == "secure"),
          "check %s: domain %s, secure %s" % (ZONE, v["domain"], v["secure"]))
    check(sorted(v["delegation"]["ns"]) == sorted(z.get("parent_ns", z["ns"]))
          and v["delegation"]["ds"] == sorted(z["ds"]),
          "check %s: the delegation from DNS %s" % (ZONE, v["delegation"]))
    check(v["ds"]["reasons"][:1] == [exp["ds"]] and v["ds"]["action"] == exp["action"],
          "check %s: ds %s %s, want %s %s" % (ZONE, v["ds"]["action"], v["ds"]["reasons"],
                                              exp["action"], exp["ds"]))


def purge(priv, user_existed, group_existed):
    p = run(priv + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q",
                    "-o", "DPkg::Lock::Timeout=300", "cdscan"])
    ran(p, "apt-get purge -y cdscan")
    check(dpkg_state() in ("", "un", "pn"), "dpkg forgot cdscan: state %r" % dpkg_state())
    left = [t for t in TRACES if os.path.lexists(t)]
    check(not left, "nothing of the package is left: %s" % left)
    if not user_existed and run(["getent", "passwd", "cdscan"]).returncode == 0:
        p = run(priv + ["userdel", "cdscan"])
        ran(p, "userdel cdscan (the test made the user)")
    if not group_existed and run(["getent", "group", "cdscan"]).returncode == 0:
        p = run(priv + ["groupdel", "cdscan"])
        ran(p, "groupdel cdscan (the test made the group)")


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    src, build, labdir, cmake, cpack = sys.argv[1:]
    # ctest's timeout and ^C end the test through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    priv = privilege()
    if priv is None:
        check(False, "deb_install installs a package: run it as root or with passwordless sudo "
              "(CI runs as root)")
        finish()
    if lock() is None:
        check(False, "another deb_install held %s for %d s" % (LOCK, LOCK_WAIT_S))
        finish()
    state = dpkg_state()
    there = [t for t in TRACES if os.path.lexists(t)]
    if not check_why(state in ("", "un", "pn") and not there, "cdscan is not installed here",
                     "dpkg state %r, files %s: this test would replace and remove that "
                     "installation; purge it first (apt-get purge cdscan)" % (state, there)):
        finish()
    user_existed = run(["getent", "passwd", "cdscan"]).returncode == 0
    group_existed = run(["getent", "group", "cdscan"]).returncode == 0
    lab = load_lab(labdir)
    attempted = False
    with tempfile.TemporaryDirectory(prefix="cdscan-deb.") as outdir:
        try:
            deb = make_package(src, build, cmake, cpack, outdir)
            if deb:
                attempted = True
                p = run(priv + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install",
                                "-y", "-q", "--no-install-recommends",
                                "-o", "DPkg::Lock::Timeout=300", "./" + os.path.basename(deb)],
                        cwd=outdir)
                if ran(p, "apt-get install -y ./" + os.path.basename(deb)):
                    check_binary(deb)
                    check_files(src)
                    check_service()
                    check_lab_zone(lab)
        finally:
            if attempted:
                purge(priv, user_existed, group_existed)
    finish()


if __name__ == "__main__":
    main()
