#!/usr/bin/python3
"""System test of issue #16: 1,000 normal zones scanned together with 11
hostile ones (tests/lab/hostile_server.py: KeyTrap keys and signatures,
NSEC3 with 2,500 iterations, compression-pointer loops and pointers past
the end, an RRset of 1,500 records, a TCP answer dripped one byte per
second, answers with a wrong ID, question or class, CNAME and DNAME at the
apex, a referral to itself, an apex NS set of 1,000 names, a valid CSYNC
over 100 NS names).

The normal zones are bench/genzones's mix (two NSDs on 127.53.30.1 and
127.53.30.2), with its 0.5% lame delegations, whose second address
(127.53.30.3) takes queries and never answers: every real scan meets some,
and each holds the scanner for its timeouts.  That is the baseline a
hostile server is held to: it may cost the scanner what a dead server
costs (its timeouts), never more, and never anything to other zones.  The
hostile server is on 127.53.31.1.  All are started here, with their files
and logs in LAB_DIR/hostile (where contrib/run-tests.sh looks for survivors),
and stopped by pid (lab.py's record_pid and stop); the directory is removed
when every check passed and kept, with the servers' logs, when one failed.
The same 1,000 delegations are scanned twice into two databases of the
lab's PostgreSQL: (a) alone, (b) with the 11 hostile delegations spread
among them.  Checks: every normal verdict of (b) equals that of (a)
(checked_at aside), every hostile zone gets the reason code expect.json
names and a detail or server error naming the limit or defect, (b)'s wall
time is at most twice (a)'s, and no sanitizer report in cdscan's stderr.
Usage: hostile_test.py CDSCAN LAB_DIR GENZONES"""

import json
import os
import shutil
import subprocess
import sys
import time

from labtest import Database, all_passed, check, finish, load_lab, must, psql

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "lab")
sys.path.insert(0, LAB)
from lab import record_pid, stop, wait_answer  # noqa: E402

NORMAL = ("127.53.30.1", "127.53.30.2")
SILENT = "127.53.30.3"
HOSTILE = "127.53.31.1"
ZONES = 1000
SANITIZER = ("runtime error", "AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer")


def spawn(work, name, cmd, exe):
    """Start a server of this test, its pid recorded in work/pids (stopped
    by this test) and in the lab's pids as hostile-NAME: should this test be
    killed (a ctest timeout), lab_down stops it with the lab's own."""
    log = open(os.path.join(work, "log", name + ".log"), "ab")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    log.close()
    record_pid(work, name, p.pid, exe)
    record_pid(os.path.dirname(work), "hostile-" + name, p.pid, exe)
    return p


def stop_own(work):
    """Stop this test's servers, and drop their entries from the lab's pids."""
    names = os.listdir(os.path.join(work, "pids"))
    stop(work)
    for f in names:
        try:
            os.unlink(os.path.join(os.path.dirname(work), "pids", "hostile-" + f))
        except FileNotFoundError:
            pass


def start_nsd(work, tag, addr, zones_list):
    d = os.path.join(work, "nsd-" + tag)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nsd.conf")
    with open(conf, "w") as f:
        f.write("server:\n  ip-address: %s\n  port: 53\n  username: \"\"\n  chroot: \"\"\n"
                "  zonesdir: %s\n  database: \"\"\n  zonelistfile: %s/zone.list\n"
                "  xfrdfile: %s/xfrd.state\n  pidfile: %s/nsd.pid\n  server-count: 1\n"
                "  verbosity: 0\n  hide-version: yes\n  rrl-ratelimit: 0\n  tcp-count: 512\n"
                "remote-control:\n  control-enable: no\ninclude: %s\n"
                % (addr, d, d, d, d, zones_list))
    return spawn(work, "nsd-" + tag, ["nsd", "-d", "-c", conf], "nsd")


def mixed_parent(clean, hostile, out):
    """The parent zone with the hostile delegations spread among the
    normal ones (one before every 100th), in import order."""
    with open(hostile) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    blocks = [lines[i:i + 3] for i in range(0, len(lines), 3)]
    out_lines = []
    with open(clean) as f:
        for line in f.read().splitlines():
            if blocks and line.startswith("z") and line.split()[1:2] == ["NS"]:
                n = int(line.split(".")[0][1:])
                if n % 100 == 50 and line.split()[2].startswith("ns1."):
                    out_lines += blocks.pop(0)
            out_lines.append(line)
    for b in blocks:
        out_lines += b
    with open(out, "w") as f:
        f.write("\n".join(out_lines) + "\n")


class Run:
    """One database, imported from one parent zone, scanned once."""

    def __init__(self, binary, lab, work, name, parent):
        self.binary = binary
        self.db = Database(lab, "hostile_" + name)
        self.conf = os.path.join(work, name + ".yaml")
        with open(self.conf, "w") as f:
            # The other system tests' timeout and retries (labtest.py): a
            # busy sanitizer build must not turn normal answers into
            # timeouts.  200 delegations at once as bench --smoke.
            f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n"
                    "  allow-addresses: [127.0.0.0/8]\n  trust-anchor: %s\n"
                    "scan:\n  concurrency: 200\n  timeout: 1s\n  retries: 2\n"
                    "  per-server-qps: 1000000\n  per-server-queries-in-flight: 2048\n"
                    "  max-queries-in-flight: 4096\n  batch-size: 500\n"
                    % (self.db.conninfo, lab["resolver"], lab["trust_anchor"]))
        self.stderr = ""
        must(self.cdscan("db", "init"), name + ": db init")
        must(self.cdscan("import", "--zone", parent, "--origin", "bench"), name + ": import")

    def cdscan(self, *args):
        p = subprocess.run([self.binary, "-q", "-c", self.conf, *args], capture_output=True,
                           text=True)
        self.stderr += p.stderr
        return p

    def scan(self):
        t0 = time.monotonic()
        p = self.cdscan("scan", "--dry-run")
        self.wall = time.monotonic() - t0
        must(p, "scan")
        return self.wall

    def verdicts(self):
        out = {}
        rows = psql(self.db.conninfo, "SELECT s.verdict FROM scan_results s ORDER BY s.id")
        for line in rows.splitlines():
            v = json.loads(line)
            v.pop("checked_at", None)
            out[v["domain"]] = v
        return out

    def drop(self):
        self.db.__exit__(None, None, None)


def texts(v, side):
    """Everything in a verdict that may name the limit or the defect."""
    out = [v[side].get("detail", ""), v["ds"].get("detail", ""), v["ns"].get("detail", "")]
    out += [s.get("error") or "" for s in v.get("servers", [])]
    return " | ".join(x for x in out if x)


def main():
    binary, labdir, genzones = sys.argv[1], sys.argv[2], sys.argv[3]
    lab = load_lab(labdir)
    # In the lab directory: what it starts there is found by the same
    # search for survivors as the lab's own servers (contrib/run-tests.sh).
    work = os.path.join(os.path.abspath(labdir), "hostile")
    if os.path.isdir(work):
        stop_own(work)
        shutil.rmtree(work)
    for d in ("pids", "log"):
        os.makedirs(os.path.join(work, d))
    runs = []
    ok = False
    try:
        zdir = os.path.join(work, "zones")
        os.makedirs(zdir)
        must(subprocess.run([genzones, zdir, str(ZONES)] + list(NORMAL) + [SILENT],
                            capture_output=True,
                            text=True), "genzones")
        hdir = os.path.join(work, "hostile")
        must(subprocess.run([sys.executable, os.path.join(LAB, "hostile_server.py"), "build",
                             "--dir", hdir, "--origin", "bench", "--address", HOSTILE],
                            capture_output=True, text=True), "hostile zones")
        for tag, addr in zip("ab", NORMAL):
            start_nsd(work, tag, addr, os.path.join(zdir, "nsd-%s.zones" % tag))
        spawn(work, "silent", [sys.executable, os.path.join(LAB, "lab.py"), "blackhole", SILENT],
              "python3")
        spawn(work, "hostile", [sys.executable, os.path.join(LAB, "hostile_server.py"), "serve",
                                "--dir", hdir, "--address", HOSTILE], "python3")
        for addr in NORMAL:
            wait_answer(addr, "z%d.bench." % (ZONES - 1), "nsd", work, limit=120)
        wait_answer(HOSTILE, "h-keytrap.bench.", "hostile server", work)
        expect = json.load(open(os.path.join(hdir, "expect.json")))

        clean = os.path.join(zdir, "bench.zone")
        mixed = os.path.join(work, "mixed.zone")
        mixed_parent(clean, os.path.join(hdir, "parent.zone"), mixed)
        a = Run(binary, lab, work, "clean", clean)
        runs.append(a)
        b = Run(binary, lab, work, "mixed", mixed)
        runs.append(b)
        ta = a.scan()
        tb = b.scan()
        va, vb = a.verdicts(), b.verdicts()
        check(len(va) == ZONES and len(vb) == ZONES + len(expect),
              "scanned %d delegations alone, %d with the hostile ones" % (len(va), len(vb)))
        differ = [n for n in va if vb.get(n) != va[n]]
        check(not differ, "every normal verdict identical with the hostile zones beside them "
              "(%d differ%s)" % (len(differ), ": " + ", ".join(differ[:5]) if differ else ""))
        for zone, e in sorted(expect.items()):
            v = vb.get(zone)
            if v is None:
                check(False, "%s: no verdict" % zone)
                continue
            side = v[e["side"]]
            said = texts(v, e["side"])
            check(side["reasons"][0] == e["reason"] and side["action"] == e["action"]
                  and e["detail"] in said,
                  "%s (%s): %s %s %s, want %s %s naming '%s' (%s)"
                  % (zone, e["kind"], e["side"], side["action"], side["reasons"][0],
                     e["action"], e["reason"], e["detail"], said[:400]))
        check(tb <= 2 * ta, "with the hostile zones the scan took %.1fs, alone %.1fs (ratio %.2f,"
              " at most 2)" % (tb, ta, tb / ta))
        reports = [l for r in runs for l in r.stderr.splitlines() if any(s in l for s in SANITIZER)]
        check(not reports, "no sanitizer report in cdscan's stderr%s"
              % (": " + reports[0] if reports else ""))
        ok = all_passed()
    finally:
        for r in runs:
            r.drop()
        stop_own(work)
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("hostile: servers' logs kept in %s/log" % work)
    finish()


if __name__ == "__main__":
    main()
