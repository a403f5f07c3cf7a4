#!/usr/bin/python3
"""The service files as systemd reads them: `systemd-analyze verify` on
contrib/cdscan.service (fails on anything it says about the unit, not only
on its exit code, which stays 0 for an unknown key), the sysusers.d file
applied to an empty root by systemd-sysusers, and the packaged configuration
through `cdscan --check-config`.  verify insists that ExecStart's binary
exists, so it reads a copy whose ExecStart names the freshly built binary;
the shipped file must keep /usr/bin/cdscan.
Usage: systemd_unit.py SOURCE_DIR CDSCAN PACKAGED_CONF"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

SHIPPED_EXEC = "ExecStart=/usr/bin/cdscan -c /etc/cdscan/cdscan.yaml daemon"
# The daemon's drain grace (cdscan.yaml(5), daemon.grace): TimeoutStopSec
# must exceed it, or systemd kills a draining daemon.
DRAIN_GRACE_S = 30

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
    return ok


def seconds(value):
    """A systemd time span such as 90s, 2min or 1min 30s, in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0
    for num, unit in re.findall(r"(\d+)\s*([a-z]*)", value):
        total += int(num) * units.get(unit, 0)
    return total


def settings(text):
    """Key -> list of values of the unit's assignments."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def verify_unit(src, cdscan, tmp):
    with open(os.path.join(src, "contrib", "cdscan.service")) as f:
        text = f.read()
    check(text.count(SHIPPED_EXEC) == 1,
          "the shipped unit runs %r" % SHIPPED_EXEC)
    s = settings(text)
    check(s.get("Type") == ["notify"], "Type=notify (the daemon sends READY=1)")
    check(s.get("User") == ["cdscan"] and s.get("Group") == ["cdscan"], "runs as cdscan:cdscan")
    check("cdscan" in " ".join(s.get("StateDirectory", [])).split(), "StateDirectory=cdscan")
    stop = seconds(s.get("TimeoutStopSec", ["0"])[0])
    check(stop > DRAIN_GRACE_S, "TimeoutStopSec %ds exceeds the drain grace %ds"
          % (stop, DRAIN_GRACE_S))
    # man:cdscan(8) and man:cdscan.yaml(5) are looked up: the tree's pages.
    man = os.path.join(tmp, "man")
    for page, section in (("cdscan.8", "man8"), ("cdscan.yaml.5", "man5")):
        os.makedirs(os.path.join(man, section), exist_ok=True)
        shutil.copy(os.path.join(src, "man", page), os.path.join(man, section, page))
    unit = os.path.join(tmp, "cdscan.service")
    with open(unit, "w") as f:
        f.write(text.replace("ExecStart=/usr/bin/cdscan ", "ExecStart=%s " % cdscan, 1))
    p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       env=dict(os.environ, MANPATH=man, SYSTEMD_LOG_COLOR="0"))
    said = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
    # A line about another unit (a dependency's own file) is not ours.
    other = re.compile(r"^(/\S+/)?(?!cdscan\.service)[\w@.\\-]+\.(service|target|socket|mount):")
    ours = [l for l in said if not other.match(l)]
    for l in said:
        if l not in ours:
            print("note (another unit): " + l)
    check(p.returncode == 0 and not ours,
          "systemd-analyze verify: exit %d%s" % (p.returncode,
                                                 "".join("\n    " + l for l in ours)))


def verify_sysusers(src, tmp):
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "etc"))
    conf = os.path.join(src, "contrib", "cdscan.sysusers")
    p = subprocess.run(["systemd-sysusers", "--root=" + root, conf],
                       capture_output=True, text=True)
    said = [l for l in (p.stdout + p.stderr).splitlines()
            if l.strip() and not l.startswith("Creating ")]
    check(p.returncode == 0 and not said, "systemd-sysusers: exit %d %s" % (p.returncode, said))
    with open(os.path.join(root, "etc", "passwd")) as f:
        user = [l for l in f.read().splitlines() if l.startswith("cdscan:")]
    check(len(user) == 1 and user[0].split(":")[5] == "/var/lib/cdscan"
          and user[0].endswith("nologin"),
          "sysusers makes user cdscan, home /var/lib/cdscan, no login: %s" % user)


def verify_conf(cdscan, conf):
    p = subprocess.run([cdscan, "-c", conf, "--check-config"], capture_output=True, text=True)
    check(p.returncode == 0, "packaged configuration %s: exit %d %s"
          % (conf, p.returncode, (p.stdout + p.stderr).strip()))
    with open(conf) as f:
        check("spool-dir: /var/lib/cdscan/spool" in f.read(),
              "the packaged spool is in the unit's StateDirectory")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, cdscan, conf = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        verify_unit(src, os.path.abspath(cdscan), tmp)
        verify_sysusers(src, tmp)
    verify_conf(cdscan, conf)
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
