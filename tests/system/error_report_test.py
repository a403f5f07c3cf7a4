#!/usr/bin/python3
"""RFC 9567 error reporting end to end (issue #19): a child's nameservers
name agent.test in the Report-Channel EDNS option (tests/lab/lab.py's
`front` adds it to NSD's answers), cdscan rejects the child's signal, and
the report arrives at the agent's nameserver (NSD behind a front that logs
every query) through the lab's validating Unbound: the exact QNAME
(_er.QTYPE.DOMAIN.EDE._er.agent.test.), once per agent although two
servers named it, nothing for accepted children or children whose servers
name no agent, nothing with error-reporting.enabled false, and no more than
error-reporting.per-agent-rate in one scan.  It also times scans with and
without reporting on the same lab.  A lab of its own
(tests/lab/error-reporting) in a network namespace of its own.  Needs root.

Usage: error_report_test.py CDSCAN [--keep DIR]"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LABDIR_SRC = os.path.join(HERE, "..", "lab")
sys.path.insert(0, HERE)
from labtest import check, finish, must, run_in_own_netns  # noqa: E402

AGENT_SERVER = "127.53.2.1"

CONFIG = """database: "%(db)s"
resolver:
  addresses: [%(resolver)s]
  allow-addresses: [127.0.0.0/8]
  trust-anchor: %(ta)s
scan:
  timeout: 1s
  retries: 2
  interval: %(interval)s
error-reporting:
  enabled: %(enabled)s
  per-agent-rate: %(rate)d
"""


BULK = """[zone."bulk%(i)d.test"]
ns = ["ns1.rc-provider.net"]
keys = { ksk = "13 ksk", new = "13 ksk", zsk = "13" }
ds = ["ksk"]
cds = ["ksk", "new"]
signal-sig-window = ["-30d", "-1d"]
"""


def up(d, tmp, bulk):
    """The lab of tests/lab/error-reporting, with bulk more children like
    expired.test (for the timing: a report for every one)."""
    extra = os.path.join(tmp, "bulk.toml")
    with open(extra, "w") as f:
        f.write("\n".join(BULK % {"i": i} for i in range(bulk)))
    p = subprocess.run([sys.executable, os.path.join(LABDIR_SRC, "lab.py"), "up", "--dir", d,
                        "--scenarios", os.path.join(LABDIR_SRC, "error-reporting"),
                        "--scenarios", extra],
                       capture_output=True, text=True, timeout=600)
    must(p, "lab.py up (the error-reporting lab)")
    return json.load(open(os.path.join(d, "lab.json")))


def down(d):
    subprocess.run([sys.executable, os.path.join(LABDIR_SRC, "lab.py"), "down", "--dir", d],
                   timeout=120)


class Run:
    def __init__(self, binary, info, tmp):
        self.binary, self.info, self.tmp = binary, info, tmp
        self.qlog = os.path.join(info["dir"], "log", "queries-%s.log" % AGENT_SERVER)
        self.parent = info["parents"]["test."]["unsigned"]

    def conf(self, enabled=True, rate=60, interval="1d"):
        path = os.path.join(self.tmp, "cdscan-%s-%d-%s.yaml" % (enabled, rate, interval))
        with open(path, "w") as f:
            f.write(CONFIG % {"db": self.info["database"], "resolver": self.info["resolver"],
                              "ta": self.info["trust_anchor"], "interval": interval,
                              "enabled": "true" if enabled else "false", "rate": rate})
        return path

    def cdscan(self, conf, *args, timeout=120):
        return subprocess.run([self.binary, "-c", conf, *args], capture_output=True, text=True,
                              timeout=timeout)

    def check(self, domain, conf):
        p = self.cdscan(conf, "check", domain, "--parent-zone", self.parent, "--json")
        must(p, "check %s" % domain)
        return json.loads(p.stdout)

    def reports(self):
        """The TXT queries the agent's server got, in order (QNAME list)."""
        try:
            lines = open(self.qlog).read().splitlines()
        except OSError:
            return []
        return [ln.split()[0] for ln in lines if len(ln.split()) == 3 and ln.split()[1] == "16"]


def test_check(r, info):
    """Each zone through `cdscan check`: the verdict, and the reports."""
    conf = r.conf()
    zones = {z: e for z, e in expectations(info).items() if not z.startswith("rate")}
    for zone, exp in sorted(zones.items()):
        before = r.reports()
        v = r.check(zone, conf)
        check(exp["reason"] in v["ds"]["reasons"],
              "%s: %s (got %s)" % (zone, exp["reason"], v["ds"]["reasons"]))
        new = r.reports()[len(before):]
        if "report" in exp:
            # check's process ends once the report's answer is in: the
            # agent's server has seen the query by then.
            check(new == [exp["report"]],
                  "%s: the agent got exactly one report, %s (got %s)"
                  % (zone, exp["report"], new))
        else:
            check(new == [], "%s: no report (got %s)" % (zone, new))
    before = r.reports()
    v = r.check("expired.test.", r.conf(enabled=False))
    check(v["ds"]["reasons"] == ["bogus"] and r.reports() == before,
          "error-reporting.enabled false: rejected, nothing reported (got %s)"
          % r.reports()[len(before):])


def expectations(info):
    return {name: z["expect"] for name, z in info["zones"].items()
            if "reason" in z.get("expect", {})}


def scan(r, conf, domains):
    t0 = time.monotonic()
    p = r.cdscan(conf, "-v", "scan", "--dry-run", *sum((["--domain", d] for d in domains), []))
    wall = time.monotonic() - t0
    must(p, "scan --dry-run")
    return p, wall


def test_scan_rate(r, info):
    """One scan, four children with errors for one agent, a rate of 2 a
    minute: two reports arrive, two are held back and counted."""
    conf = r.conf(rate=2)
    must(r.cdscan(conf, "db", "init"), "db init")
    must(r.cdscan(conf, "import", "--zone", r.parent), "import of test.")
    domains = ["expired.test", "unsigned.test", "rate1.test", "rate2.test"]
    before = r.reports()
    p, _ = scan(r, conf, domains)
    new = r.reports()[len(before):]
    wanted = {e["report"] for z, e in expectations(info).items()
              if z.rstrip(".") in domains}
    check(len(new) == 2 and set(new) <= wanted and len(set(new)) == 2,
          "per-agent-rate 2: two distinct reports arrived (got %s)" % new)
    m = re.search(r"error reports \(RFC 9567\): (\d+) sent, (\d+) suppressed as duplicates, "
                  r"(\d+) over error-reporting limits", p.stderr)
    check(m and m.groups() == ("2", "0", "2"),
          "scan counts 2 sent, 2 over the limits (%s)" % (m.group(0) if m else p.stderr[-400:]))


def test_timing(r, info, rounds=5):
    """The same scan with and without reporting (every report sent: a high
    rate; each round its own process, so nothing is deduplicated)."""
    domains = [z.rstrip(".") for z in info["zones"] if z.startswith("bulk")]
    domains += [z.rstrip(".") for z in expectations(info)]
    on, off = r.conf(rate=100000), r.conf(enabled=False)
    times = {True: [], False: []}
    reporting = [z for z in domains if "report" in expectations(info).get(z + ".", {})
                 or z.startswith("bulk")]
    # What arrives is counted as distinct names per scan: on a loaded
    # machine the lab's Unbound asks the agent's server again when the
    # logging front answers late (a CI run logged 291 queries for 275
    # reports), and such a repeat can land just after the scan has ended.
    # That cdscan sent each report once is its own count (-v).
    sent, distinct, repeats, stray = {True: 0, False: 0}, {True: 0, False: 0}, 0, []
    last = set()
    for _ in range(rounds):
        for enabled, conf in ((True, on), (False, off)):
            before = len(r.reports())
            p, wall = scan(r, conf, domains)
            times[enabled].append(wall)
            new = r.reports()[before:]
            m = re.search(r"error reports \(RFC 9567\): (\d+) sent", p.stderr)
            sent[enabled] += int(m.group(1)) if m else 0
            if enabled:
                distinct[True] += len(set(new))
                repeats += len(new) - len(set(new))
                last = set(new)
            else:
                # a late repeat of the scan just before, nothing else
                distinct[False] += len(set(new) - last)
                stray += sorted(set(new) & last)
    want = len(reporting) * rounds
    check(sent == {True: want, False: 0} and distinct == {True: want, False: 0},
          "every scan with reporting reported every error, once (cdscan sent %d in %d scans, "
          "%d distinct arrived, %d repeated by the resolver); without, none (sent %d, "
          "%d arrived, %d late repeats of the scan before)"
          % (sent[True], rounds, distinct[True], repeats, sent[False], distinct[False],
             len(stray)))
    a, b = statistics.median(times[True]), statistics.median(times[False])
    print("timing: scan of %d delegations, median of %d: with reporting %.3fs, without "
          "%.3fs, ratio %.2f" % (len(domains), rounds, a, b, a / b))
    # Generous: the machine is shared and the scans are short; what is
    # checked is that the scan does not wait report by report.
    check(a < b * 1.5 + 0.5, "reporting does not slow the scan noticeably (%.3fs vs %.3fs)"
          % (a, b))


def test_daemon(r, info):
    """The daemon scans every delegation again each second: each report
    reaches the agent once (dedup-window) however often the error is seen.
    A reload (SIGHUP) while reports are in flight frees the old scanner
    only once they are in, and the daemon still ends cleanly."""
    conf = r.conf(rate=100000, interval="1s")
    before = len(r.reports())
    log = open(os.path.join(r.tmp, "daemon.log"), "w")
    d = subprocess.Popen([r.binary, "-c", conf, "-v", "daemon"], stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        time.sleep(6)
        new = r.reports()[before:]
        counts = {q: new.count(q) for q in new}
        wanted = {e["report"] for e in expectations(info).values() if "report" in e}
        check(wanted <= set(new) and all(c == 1 for c in counts.values()),
              "daemon, 6 s of scans every second: every report once (%d reports, %d names, "
              "repeated: %s)" % (len(new), len(counts),
                                 sorted(q for q, c in counts.items() if c > 1)[:3]))
        d.send_signal(signal.SIGHUP)
        time.sleep(3)
        d.send_signal(signal.SIGTERM)
        rc = d.wait(timeout=60)
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
        log.close()
    text = open(os.path.join(r.tmp, "daemon.log")).read()
    check(rc == 0 and "reload:" in text and "AddressSanitizer" not in text,
          "daemon: reloaded and stopped cleanly, exit %s (%s)" % (rc, text.strip()[-300:]))
    # The counts are the daemon's, over both scanners (before and after
    # the reload, each with its own memory of what it sent).
    m = re.search(r"scan statistics \(scans (\d+),", text)
    e = re.search(r"error report statistics \(RFC 9567: sent (\d+), duplicates (\d+)", text)
    check(m and e and int(e.group(2)) > 0 and int(m.group(1)) > 2 * len(info["zones"]),
          "daemon: delegations scanned again and again (%s), repeats held back (%s)"
          % (m.group(0) if m else "?", e.group(0) if e else "?"))


def test_agent_down(r, info):
    """The agent's server stops answering: a check that reports waits no
    more than error-reporting.timeout (500 ms) for the report's answer,
    not the resolver's seconds of trying the agent."""
    piddir = os.path.join(info["dir"], "pids")
    for name in ("front-%s.pid" % AGENT_SERVER, "nsd-%s-5302.pid" % AGENT_SERVER):
        pid = int(open(os.path.join(piddir, name)).read().split()[0])
        os.kill(pid, signal.SIGTERM)  # the lab's own, started by this test
    time.sleep(0.5)
    walls = {}
    for enabled in (True, False):
        conf = r.conf(enabled=enabled)
        t0 = time.monotonic()
        v = r.check("unsigned.test.", conf)
        walls[enabled] = time.monotonic() - t0
        check(v["ds"]["reasons"] == ["not-signed"], "agent down: the verdict is the same")
    print("agent down: check with reporting %.3fs, without %.3fs" % (walls[True], walls[False]))
    check(walls[True] < walls[False] + 1.5,
          "agent down: reporting adds at most about error-reporting.timeout (%.3fs vs %.3fs)"
          % (walls[True], walls[False]))


def inner(args):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = args.keep or tempfile.mkdtemp(prefix="cdscan-er-")
    labdir = os.path.join(tmp, "lab")
    try:
        info = up(labdir, tmp, args.bulk)
        info["dir"] = labdir
        r = Run(args.cdscan, info, tmp)
        test_check(r, info)
        test_scan_rate(r, info)
        test_timing(r, info)
        test_daemon(r, info)
        test_agent_down(r, info)
    finally:
        down(labdir)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cdscan")
    ap.add_argument("--keep", help="work in this directory and keep it (lab logs)")
    ap.add_argument("--bulk", type=int, default=50,
                    help="children with an error added for the timing (default 50)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.cdscan = os.path.abspath(args.cdscan)
    if args.inner:
        return inner(args)
    cmd = [args.cdscan, "--bulk", str(args.bulk)]
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        cmd += ["--keep", os.path.abspath(args.keep)]
    sys.exit(run_in_own_netns(__file__, cmd, "error_report_test"))


if __name__ == "__main__":
    main()
