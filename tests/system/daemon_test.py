#!/usr/bin/python3
"""cdscan daemon on the lab: RFC 9859 NOTIFY over UDP and TCP leads to a
scan and a change set handed to the output at once; every answer code; the
pace that spreads a cycle; two daemons sharing one database; SIGHUP with a
broken and a good config; SIGTERM that lets running scans finish, and one
whose grace ends first (leases given back).
Usage: daemon_test.py CDSCAN LAB_DIR"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.rcode

from daemontest import (Daemon, notify, notify_message, raw_exchange, rcode_of, wait_for,
                        write_config)
from labtest import Database, check, finish, load_lab, must, psql
from promcheck import chromium_dom, request, scrape

ADDR = "127.0.0.1"
PORT = 5391  # this test's own ports, 5391-5394: others run beside it in the same lab
HTTP = "http://127.0.0.1:9391"


def value(samples, name, **labels):
    """One series' value in a scrape (0 when absent)."""
    return samples.get(name, {}).get(tuple(sorted(labels.items())), 0)


def prepare(binary, lab, db, conf, extra):
    """db init and import of the lab's test. zone, every delegation made
    not due for a year (only what a NOTIFY asks for is scanned)."""
    write_config(conf, lab, db, extra)
    run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                    text=True, timeout=120)
    must(run("db", "init"), "db init")
    must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")),
         "import")
    psql(db, "UPDATE delegations SET next_scan_at = now() + interval '365 days'")
    return run


def changes(db, domain):
    return psql(db, "SELECT c.kind || ':' || c.state FROM change_sets c JOIN delegations d"
                    " ON d.id = c.delegation_id WHERE d.domain = '%s' ORDER BY c.id" % domain)


def notify_cases(binary, lab, tmp):
    """NOTIFY(CDS) over UDP and NOTIFY(CSYNC) over TCP: NOERROR with the
    question echoed, then a scan and a change set spooled at once; the
    other answer codes; a response and a runt get no answer."""
    spool = os.path.join(tmp, "spool")
    os.mkdir(spool)
    with Database(lab, "daemon") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "n.yaml")
        prepare(binary, lab, db, conf,
                "scan:\n  timeout: 1s\n  retries: 2\n  interval: 365d\n"
                "output:\n  spool-dir: %s\nregistries:\n  - name: lab\n    tlds: [test]\n"
                "daemon:\n  listen: ['%s#%d']\n  grace: 10s\n" % (spool, ADDR, PORT))
        d = Daemon(binary, conf, os.path.join(tmp, "n.log"), "--http", "127.0.0.1#9391")
        check(d.started and d.running(), "the daemon starts and says so")
        before = scrape(HTTP + "/metrics")
        t0 = time.monotonic()
        a = notify(ADDR, PORT, "Rollover.TEST", "CDS")
        check(a is not None and rcode_of(a) == "NOERROR" and
              a.opcode() == 4 and a.id is not None and
              [q.to_text() for q in a.question] == ["Rollover.TEST. IN CDS"],
              "NOTIFY(CDS) over UDP: NOERROR, opcode NOTIFY, the question echoed as asked "
              "(%s)" % (a.question if a else rcode_of(a)))
        got = wait_for(lambda: changes(db, "rollover.test.") == "ds:sent", 20)
        latency = time.monotonic() - t0
        check(got and any(f.startswith("rollover.test-") for f in os.listdir(spool)),
              "a change set made and spooled at once (%.2fs after the NOTIFY)" % latency)
        a = notify(ADDR, PORT, "csync-glue.test.", "CSYNC", tcp=True)
        check(rcode_of(a) == "NOERROR", "NOTIFY(CSYNC) over TCP: NOERROR (%s)" % rcode_of(a))
        check(wait_for(lambda: "ns:" in changes(db, "csync-glue.test."), 20),
              "the CSYNC it points at leads to an NS change set: %s"
              % changes(db, "csync-glue.test."))
        a = notify(ADDR, PORT, "csync-glue.test.", "CDNSKEY")
        check(rcode_of(a) == "NOERROR", "NOTIFY(CDNSKEY) is taken too")
        code_cases(db, d)
        http_cases(before, tmp)
        check(d.stop() == 0, "SIGTERM: exit 0")
        log = d.text()
        check("Traceback" not in log and "error" not in log.split("stopping")[0].lower(),
              "no error in the log: %s" % log[-300:])


def http_cases(before, tmp):
    """The daemon's HTTP endpoint: /metrics parsed by prometheus_client,
    its counters moved by what the NOTIFYs caused; /healthz; /status as
    JSON and, in headless Chromium, as HTML."""
    after = scrape(HTTP + "/metrics")
    moved = lambda name, **l: value(after, name, **l) - value(before, name, **l)
    check(moved("cdscan_notify_received_total", qtype="CDS") >= 3 and
          moved("cdscan_notify_received_total", qtype="CSYNC") == 1 and
          moved("cdscan_notify_accepted_total") == 3 and
          moved("cdscan_notify_refused_total", rcode="REFUSED") >= 2 and
          moved("cdscan_notify_refused_total", rcode="NOTAUTH") == 1 and
          moved("cdscan_notify_refused_total", rcode="FORMERR") == 1 and
          moved("cdscan_notify_refused_total", rcode="NOTIMP") == 1,
          "/metrics: NOTIFYs counted by type, acceptance and answer code")
    check(moved("cdscan_scans_total", side="ds", action="update") >= 1 and
          moved("cdscan_scans_total", side="ns", action="update") >= 1 and
          moved("cdscan_change_sets_created_total") == 2 and
          moved("cdscan_dns_queries_total") > 0 and moved("cdscan_dns_answers_total") > 0 and
          moved("cdscan_decide_seconds_count") == 3,
          "/metrics: scans by side and action, change sets, queries and decide times moved "
          "(queries +%d)" % moved("cdscan_dns_queries_total"))
    check(value(after, "cdscan_change_sets", state="sent") == 2 and
          value(after, "cdscan_delegations") > 80 and value(after, "cdscan_queue_depth") == 0,
          "/metrics: the database's gauges (change sets sent, delegations, nothing due)")
    status, _, body = request(HTTP + "/healthz")
    check(status == 200 and body.strip() == b"ok", "/healthz: 200 ok (%d %r)" % (status, body))
    status, headers, body = request(HTTP + "/status/rollover.test")
    doc = json.loads(body) if status == 200 else {}
    check(status == 200 and "json" in headers.get("content-type", "") and
          doc.get("domain") == "rollover.test.",
          "/status/DOMAIN: its state as JSON (%d)" % status)
    status, _, _ = request(HTTP + "/status/nosuch.test")
    check(status == 404, "/status of a domain not in the table: 404 (%d)" % status)
    dom = chromium_dom(HTTP + "/status/rollover.test", tmp)
    check("rollover.test." in dom and "<html" in dom.lower(),
          "/status/DOMAIN in headless Chromium: the page shows the domain")


def code_cases(db, d):
    """REFUSED, NOTAUTH, FORMERR, NOTIMP, and silence."""
    a = notify(ADDR, PORT, "nosuch.test.", "CDS")
    check(rcode_of(a) == "REFUSED", "a zone not in the table: REFUSED (%s)" % rcode_of(a))
    a = notify(ADDR, PORT, "example.org.", "CDS")
    check(rcode_of(a) == "NOTAUTH",
          "a zone outside every registry's namespace: NOTAUTH (%s)" % rcode_of(a))
    a = notify(ADDR, PORT, "rollover.test.", "SOA")
    check(rcode_of(a) == "REFUSED", "NOTIFY(SOA), for secondaries: REFUSED (%s)" % rcode_of(a))
    m = notify_message("rollover.test.").to_wire()
    two = m[:5] + b"\x02" + m[6:] + m[12:]  # QDCOUNT 2, the question twice
    raw = raw_exchange(ADDR, PORT, two)
    check(raw and dns.rcode.to_text(raw[3] & 0xf) == "FORMERR",
          "two questions: FORMERR (%r)" % (raw[:4] if raw else raw))
    query = bytearray(m)
    query[2] &= 0x87  # opcode QUERY
    raw = raw_exchange(ADDR, PORT, bytes(query))
    check(raw and dns.rcode.to_text(raw[3] & 0xf) == "NOTIMP", "a QUERY: NOTIMP")
    resp = bytearray(m)
    resp[2] |= 0x80
    check(raw_exchange(ADDR, PORT, bytes(resp), 0.5) is None,
          "a response gets no answer (no loops between listeners)")
    check(raw_exchange(ADDR, PORT, b"\x00\x01\x02", 0.5) is None, "a runt gets no answer")
    count = lambda: psql(db, "SELECT count(*) FROM scan_results")
    wait_for(lambda: count() == "3", 10)
    time.sleep(0.5)
    check(count() == "3",
          "only what was notified was scanned: rollover once, csync-glue twice (%s)" % count())


def pace(binary, lab, tmp):
    """A table all due at once is spread over scan.interval (daemon.pace
    125%: ~all of it in 80% of the interval), not scanned in one herd; two
    daemons on one database each claim their own (no delegation scanned
    twice in the cycle, both do work)."""
    with Database(lab, "dpace") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "p.yaml")
        prepare(binary, lab, db, conf,
                "scan:\n  timeout: 1s\n  retries: 2\n  interval: 30s\n  lease: 60s\n"
                "  retry-after: 1h\n  max-backoff: 1h\noutput:\n  spool-dir: %s\n"
                % os.path.join(tmp, "pspool"))
        total = int(psql(db, "SELECT count(*) FROM delegations"))
        psql(db, "UPDATE delegations SET next_scan_at = now()")
        scanned = lambda: int(psql(db, "SELECT count(DISTINCT delegation_id) FROM scan_results"))
        a = Daemon(binary, conf, os.path.join(tmp, "p1.log"))
        b = Daemon(binary, conf, os.path.join(tmp, "p2.log"))
        time.sleep(4)
        early = scanned()
        done = wait_for(lambda: scanned() == total, 40, 0.5)
        # Within one cycle (a delegation is due again 30 s after its scan).
        twice = psql(db, "SELECT count(*) FROM (SELECT delegation_id FROM scan_results"
                         " WHERE scanned_at < (SELECT min(scanned_at) FROM scan_results)"
                         " + interval '25 seconds' GROUP BY delegation_id HAVING count(*) > 1) x")
        scanners = psql(db, "SELECT count(DISTINCT scanner) FROM scan_results")
        check(a.stop() == 0 and b.stop() == 0, "both daemons stop with exit 0")
        # Two daemons at 125% each: 88 delegations / 30 s * 2.5 = 7.3/s.
        check(0 < early < total * 0.75,
              "spread, not a herd: %d of %d scanned in the first 4 s" % (early, total))
        check(done, "the whole table scanned within the cycle (%d of %d)" % (scanned(), total))
        check(twice == "0" and scanners == "2",
              "two daemons share the table: none scanned twice (%s), both scanned (%s)"
              % (twice, scanners))


def signals(binary, lab, tmp):
    """SIGHUP: a broken file is refused with file:line and the running
    configuration stays (NOTIFY still answered); a good one is taken.
    SIGTERM: a running scan (a silent server: seconds of timeouts) finishes
    and is written; with no grace left it is abandoned and its lease given
    back, due at once."""
    with Database(lab, "dsig") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "s.yaml")
        base = ("scan:\n  timeout: 1s\n  retries: 2\n  interval: 365d\n"
                "output:\n  spool-dir: %s\ndaemon:\n  listen: ['%s#%d']\n"
                % (os.path.join(tmp, "sspool"), ADDR, PORT + 1))
        prepare(binary, lab, db, conf, base + "  grace: 30s\n")
        d = Daemon(binary, conf, os.path.join(tmp, "s.log"))
        with open(conf, "a") as f:
            f.write("  pace: nonsense\n")
        d.signal(signal.SIGHUP)
        check(wait_for(lambda: "the running configuration stays" in d.text(), 10) and
              "s.yaml:15:" in d.text() and "daemon.pace" in d.text(),
              "SIGHUP with a broken file: refused, file:line and key named: %s"
              % [l for l in d.text().splitlines() if "reload" in l][-1:])
        check(rcode_of(notify(ADDR, PORT + 1, "rollover.test.")) == "NOERROR",
              "and the daemon goes on (NOTIFY answered)")
        # A file that parses but would not start (a trust anchor that is
        # not there, RFC 9615 bootstrap on): refused before anything stops.
        write_config(conf, lab, db, base + "  grace: 30s\n")
        good = open(conf).read()
        open(conf, "w").write(good.replace(lab["trust_anchor"], "/nonexistent/root.key"))
        d.signal(signal.SIGHUP)
        check(wait_for(lambda: d.text().count("the running configuration stays") == 2, 10) and
              "/nonexistent/root.key" in d.text(),
              "SIGHUP with a file that would not start (no trust anchor): refused, named")
        psql(db, "UPDATE delegations SET next_scan_at = now() + interval '365 days'")
        results = int(psql(db, "SELECT count(*) FROM scan_results"))
        notify(ADDR, PORT + 1, "fresh.test.")
        check(wait_for(lambda: int(psql(db, "SELECT count(*) FROM scan_results")) == results + 1,
                       10),
              "and the daemon still scans under the running configuration")
        write_config(conf, lab, db, base + "  grace: 30s\n  pace: 150\n")
        d.signal(signal.SIGHUP)
        check(wait_for(lambda: "the new configuration is in use" in d.text(), 20),
              "SIGHUP with a good file: the new configuration is in use")
        # A delegation with a silent server: its scan takes seconds.
        check(rcode_of(notify(ADDR, PORT + 1, "one-down.test.")) == "NOERROR",
              "NOTIFY for a delegation with a silent server")
        wait_for(lambda: "one-down" in psql(db, "SELECT domain FROM delegations WHERE"
                                                " leased_until > now()"), 5)
        t0 = time.monotonic()
        code = d.stop()
        took = time.monotonic() - t0
        check(code == 0 and psql(db, "SELECT count(*) FROM scan_results r JOIN delegations d"
                                     " ON d.id = r.delegation_id WHERE d.domain ="
                                     " 'one-down.test.'") == "1",
              "SIGTERM: the running scan finished and was written, exit 0 (%s, %.1fs)"
              % (code, took))
        check(psql(db, "SELECT count(*) FROM delegations WHERE leased_until > now()") == "0",
              "no lease left behind")
        # No grace: the scan is abandoned, its lease given back.
        write_config(conf, lab, db, base + "  grace: 0s\n")
        psql(db, "UPDATE delegations SET next_scan_at = now() + interval '365 days'")
        d = Daemon(binary, conf, os.path.join(tmp, "s2.log"))
        notify(ADDR, PORT + 1, "one-down.test.")
        wait_for(lambda: "one-down" in psql(db, "SELECT domain FROM delegations WHERE"
                                                " leased_until > now()"), 5)
        code = d.stop()
        check(code == 0 and "abandoned" in d.text() and
              psql(db, "SELECT leased_until IS NULL AND next_scan_at <= now() FROM delegations"
                       " WHERE domain = 'one-down.test.'") == "t",
              "grace over: exit 0, the scan abandoned and its delegation due again at once "
              "(%s)" % code)


def systemd_notify(binary, lab, tmp):
    """The Type=notify protocol as systemd speaks it (no systemd here): a
    datagram socket in NOTIFY_SOCKET gets READY=1 once the daemon is up,
    WATCHDOG=1 twice per WATCHDOG_USEC, STOPPING=1 at SIGTERM."""
    import socket
    with Database(lab, "dsd") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "sd.yaml")
        prepare(binary, lab, db, conf, "scan:\n  interval: 365d\n"
                "daemon:\n  listen: ['%s#%d']\n" % (ADDR, PORT + 2))
        path = os.path.join(tmp, "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(0.2)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        d = Daemon(binary, conf, os.path.join(tmp, "sd.log"), env=env)
        got = []
        end = time.monotonic() + 3
        while time.monotonic() < end:
            try:
                got.append(s.recv(4096).decode())
            except socket.timeout:
                pass
        up = rcode_of(notify(ADDR, PORT + 2, "rollover.test.")) == "NOERROR"
        code = d.stop()
        try:
            while True:
                got.append(s.recv(4096).decode())
        except socket.timeout:
            pass
        s.close()
        ready = [i for i, m in enumerate(got) if "READY=1" in m]
        dogs = sum("WATCHDOG=1" in m for m in got)
        check(ready and up and dogs >= 5 and any("STOPPING=1" in m for m in got) and code == 0,
              "sd_notify: READY=1 when up (listener answering), WATCHDOG=1 every 0.2 s (%d in "
              "3 s), STOPPING=1 at SIGTERM: %s" % (dogs, [m.split("\n")[0] for m in got][:3]))


def limits(binary, lab, tmp):
    """daemon.notify.max-scans: with 1, NOTIFYs for five delegations (one
    of them with a silent server: seconds) are scanned one at a time, never
    all at once.  A NOTIFY over its domain's limit is answered and its scan
    comes when the interval has passed, not lost."""
    with Database(lab, "dlim") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "l.yaml")
        prepare(binary, lab, db, conf,
                "scan:\n  timeout: 1s\n  retries: 2\n  interval: 365d\n"
                "output:\n  spool-dir: %s\ndaemon:\n  listen: ['%s#%d']\n"
                "  notify:\n    max-scans: 1\n    domain-interval: 3s\n    domain-burst: 1\n"
                % (os.path.join(tmp, "lspool"), ADDR, PORT + 3))
        d = Daemon(binary, conf, os.path.join(tmp, "l.log"))
        names = ["one-down.test.", "rollover.test.", "secure.test.", "insecure.test.",
                 "fresh.test."]
        for n in names:
            notify(ADDR, PORT + 3, n)
        most = 0
        end = time.monotonic() + 8
        while time.monotonic() < end:
            most = max(most, int(psql(db, "SELECT count(*) FROM delegations"
                                          " WHERE leased_until > now()")))
            if psql(db, "SELECT count(DISTINCT delegation_id) FROM scan_results") == "5":
                break
            time.sleep(0.05)
        done = psql(db, "SELECT count(DISTINCT delegation_id) FROM scan_results")
        check(most == 1 and done == "5",
              "max-scans 1: the five notified delegations scanned one at a time (at most %d "
              "at once, %s done)" % (most, done))
        of = lambda: int(psql(db, "SELECT count(*) FROM scan_results r JOIN delegations d ON"
                                  " d.id = r.delegation_id WHERE d.domain = 'secure.test.'"))
        time.sleep(3)  # its token back (domain-interval 3s, burst 1)
        first = of()
        notify(ADDR, PORT + 3, "secure.test.")
        wait_for(lambda: of() == first + 1, 5)
        a = notify(ADDR, PORT + 3, "secure.test.")  # its token spent: over the limit
        time.sleep(1)
        early = of()
        later = wait_for(lambda: of() == first + 2, 8)
        check(rcode_of(a) == "NOERROR" and early == first + 1 and later,
              "over its domain's limit: NOERROR, not scanned at once (%d), but once the "
              "interval has passed (%d)" % (early - first, of() - first))
        check(d.stop() == 0, "exit 0")


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    with tempfile.TemporaryDirectory() as tmp:
        notify_cases(binary, lab, tmp)
        systemd_notify(binary, lab, tmp)
        signals(binary, lab, tmp)
        limits(binary, lab, tmp)
        pace(binary, lab, tmp)
    finish()


if __name__ == "__main__":
    main()
