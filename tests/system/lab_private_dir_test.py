#!/usr/bin/python3
"""The lab from a checkout other users cannot enter (a clone in /root, or in a
`mktemp -d` directory, mode 0700): `lab.py up` under such a directory starts
PostgreSQL (as user postgres when run as root), NSD and Unbound, and they
answer; `pg-restart`, `env` and the EPP server work there too; `down` stops
everything it started and removes the lab's runtime directory, keeping the
logs.  The second lab runs in a network namespace of its own, so that it
does not meet the ctest lab on 127.53.0.0/16 port 53.  Needs root (as the
lab does).  Usage: lab_private_dir_test.py"""

import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "lab", "lab.py")
sys.path.insert(0, HERE)
from labtest import all_passed, check, finish  # noqa: E402

SCENARIO = """\
[provider."private-provider.net"]
servers = { ns1 = "127.53.1.1" }

[zone."private.test"]
ns = ["ns1.private-provider.net"]
keys = { ksk = "13 ksk", zsk = "13" }
ds = ["ksk"]
cds = ["ksk"]
expect = { resolver = "secure" }
"""


def lab(*args):
    return subprocess.run([sys.executable, LAB, *args], capture_output=True, text=True,
                          timeout=240)


def kdig(server, *args):
    """(status, header flags) of one kdig query."""
    out = subprocess.run(["kdig", "@" + server, "+time=2", "+retry=2", *args],
                         capture_output=True, text=True).stdout
    status = out.split("status: ", 1)[1].split(";")[0] if "status: " in out else "TIMEOUT"
    flags = out.split(";; Flags: ", 1)[1].split(";")[0].split() if ";; Flags: " in out else []
    return status, flags


def psql_answer(db):
    p = subprocess.run(["psql", db, "-XAtc", "SELECT 6*7"], capture_output=True, text=True)
    return p.stdout.strip() or p.stderr.strip()


def alive(pid, exe):
    """pid runs (not a zombie) and is still the program the lab started."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and os.path.basename(argv0).startswith(exe)


def processes_naming(paths):
    """Every process whose command line contains one of paths."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(p in cmdline for p in paths):
            found.append("%s %s" % (entry, cmdline.strip()))
    return found


def epp_greeting(parent, zone):
    """Start the lab's EPP server with its files in the private directory and
    read its greeting over TLS (RFC 5734: 4-octet length, then the XML)."""
    key, cert = os.path.join(parent, "epp.key"), os.path.join(parent, "epp.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=lab-epp",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    sdir = os.path.join(parent, "epp")
    os.mkdir(sdir)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "lab", "epp_server.py"),
                               "--port", str(port), "--cert", cert, "--key", key, "--dir", sdir,
                               "--zone", zone], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(parent, "epp-server.log"), "w"))
    try:
        for _ in range(200):
            if os.path.exists(os.path.join(sdir, "ready")):
                break
            time.sleep(0.05)
        ctx = ssl.create_default_context(cafile=cert)
        with socket.create_connection(("127.0.0.1", port), 10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                data = b""
                while len(data) < 4 or len(data) < struct.unpack(">I", data[:4])[0]:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        return data[4:].decode(errors="replace")
    except OSError as e:
        return "no greeting (%s)" % e
    finally:
        server.terminate()
        server.wait(timeout=10)


def inner(parent):
    """In the network namespace: a lab under parent, used, then stopped."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    labdir = os.path.join(parent, "lab")
    scenarios = os.path.join(parent, "scenarios")
    os.mkdir(scenarios)
    with open(os.path.join(scenarios, "private.toml"), "w") as f:
        f.write(SCENARIO)
    pids = []
    try:
        p = lab("up", "--dir", labdir, "--scenarios", scenarios)
        if not check(p.returncode == 0, "lab.py up under a 0700 directory (exit %d) %s"
                     % (p.returncode, p.stderr.strip()[-600:])):
            return
        with open(os.path.join(labdir, "lab.json")) as f:
            info = json.load(f)
        for fname in os.listdir(os.path.join(labdir, "pids")):
            with open(os.path.join(labdir, "pids", fname)) as f:
                pid, exe = f.read().split()[:2]
            pids.append((int(pid), exe, fname))
        check(psql_answer(info["database"]) == "42",
              "PostgreSQL takes a connection (%s)" % info["database"])
        status, flags = kdig("127.53.1.1", "+norec", "private.test", "SOA")
        check(status == "NOERROR" and "aa" in flags,
              "NSD answers private.test SOA authoritatively (%s %s)" % (status, flags))
        status, flags = kdig(info["resolver"], "+dnssec", "private.test", "SOA")
        check(status == "NOERROR" and "ad" in flags,
              "Unbound validates private.test: secure (%s %s)" % (status, flags))
        p = lab("pg-restart", "--dir", labdir)
        check(p.returncode == 0 and psql_answer(info["database"]) == "42",
              "pg-restart, then PostgreSQL takes a connection again (%s)" % p.stderr.strip())
        with open(os.path.join(labdir, "pids", "postgres.pid")) as f:
            pid, exe = f.read().split()[:2]
        pids.append((int(pid), exe, "postgres.pid (restarted)"))
        p = lab("env", "--dir", labdir)
        check("CDSCAN_DATABASE='%s'" % info["database"] in p.stdout,
              "lab.py env names the database: %s" % p.stdout.strip().replace("\n", "; "))
        greeting = epp_greeting(parent, os.path.join(labdir, "zones", "127.53.0.2", "test.zone"))
        check("<greeting>" in greeting, "the EPP server greets: %s" % greeting[:120])
    finally:
        p = lab("down", "--dir", labdir)
        check(p.returncode == 0, "lab.py down (exit %d) %s" % (p.returncode, p.stderr.strip()))
    survivors = ["%d %s" % (pid, fname) for pid, exe, fname in pids if alive(pid, exe)]
    check(pids and not survivors, "down stopped every pid the lab recorded (%d; left: %s)"
          % (len(pids), survivors))
    log = os.path.join(labdir, "log", "postgres.log")
    check(os.path.exists(log) and os.path.getsize(log) > 0,
          "the PostgreSQL log is kept in the lab directory (%s)" % log)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
        finish()
    if not check(os.geteuid() == 0, "runs as root (the lab needs port 53 and a network "
                 "namespace)"):
        finish()
    parent = tempfile.mkdtemp(prefix="cdscan-private.")
    check(os.stat(parent).st_mode & 0o777 == 0o700, "%s has mode 0700" % parent)
    p = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", parent])
    check(p.returncode != 0, "user postgres cannot enter %s (the case under test)" % parent)
    p = subprocess.run(["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                        "--inner", parent], timeout=600)
    check(p.returncode == 0, "the lab under %s, in its own network namespace (exit %d)"
          % (parent, p.returncode))
    # Whatever the inner run did, nothing naming the lab's directories may
    # still run: not in the lab directory, not in its runtime directory.
    labdir = os.path.join(parent, "lab")
    paths = [parent]
    link = os.path.join(labdir, "run")
    if check(os.path.islink(link), "the lab directory names its runtime directory (%s)" % link):
        paths.append(os.readlink(link))
        check(not os.path.lexists(os.readlink(link)),
              "down removed the runtime directory %s" % os.readlink(link))
    left = processes_naming(paths)
    check(not left, "no process names %s: %s" % (" or ".join(paths), left))
    if left:
        lab("down", "--dir", labdir)
    if all_passed():
        shutil.rmtree(parent)
    else:
        print("kept %s for its logs" % parent)
    finish()


if __name__ == "__main__":
    main()
