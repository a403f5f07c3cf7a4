#!/usr/bin/python3
"""cdscan daemon under a NOTIFY flood: 50,000 NOTIFY(CDS) from one source
(127.0.0.1) for delegations that are not due, while the cycle scans the
due half of the table.  The cycle keeps its pace (scans per second of the
due half during the flood, against the seconds before it), the flood costs
at most what daemon.notify.source-* allow, and a genuine NOTIFY from another
source (127.1.0.1, another /24) for another domain still leads to a change
set at once.  Usage: daemon_flood_test.py CDSCAN LAB_DIR"""

import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

from daemontest import Daemon, notify, notify_message, rcode_of, wait_for, write_config
from labtest import Database, check, finish, load_lab, must, psql
from promcheck import scrape

ADDR, PORT = "127.0.0.1", 5397  # its own: daemon_test takes 5391-5394, db_restart 5395
FLOOD = 50000
FLOOD_RATE = 6000.0  # per second: the flood lasts ~8 s, long enough to measure the pace
GENUINE = "rollover.test."


def flood(names, count, rate):
    """count NOTIFY(CDS) from 127.0.0.1, round the names, at rate per
    second; answers are read and thrown away.  Returns (sent, seconds)."""
    wires = []
    for n in names:
        m = notify_message(n)
        wires.append(bytearray(m.to_wire()))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    t0 = time.monotonic()
    sent = 0
    while sent < count:
        due = int((time.monotonic() - t0) * rate) + 1
        while sent < min(due, count):
            w = wires[sent % len(wires)]
            w[0], w[1] = (sent >> 8) & 0xff, sent & 0xff
            try:
                s.sendto(w, (ADDR, PORT))
                sent += 1
            except BlockingIOError:
                break
        try:
            while True:
                s.recv(512)
        except BlockingIOError:
            pass
        time.sleep(0.001)
    s.close()
    return sent, time.monotonic() - t0


def scans_between(db, ids, t0, t1):
    """Scans of the delegations ids written between epoch seconds t0, t1."""
    return int(psql(db, "SELECT count(*) FROM scan_results WHERE delegation_id IN (%s) AND"
                        " scanned_at >= to_timestamp(%f) AND scanned_at < to_timestamp(%f)"
                        % (ids, t0, t1)))


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    with tempfile.TemporaryDirectory() as tmp, Database(lab, "dflood") as database:
        db = database.conninfo
        conf = write_config(
            os.path.join(tmp, "f.yaml"), lab, db,
            "scan:\n  timeout: 1s\n  retries: 2\n  interval: 40s\n  retry-after: 1h\n"
            "  max-backoff: 1h\noutput:\n  spool-dir: %s\n"
            "daemon:\n  listen: ['%s#%d']\n  pace: 100\n" % (os.path.join(tmp, "spool"),
                                                           ADDR, PORT))
        run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                        text=True, timeout=120)
        must(run("db", "init"), "db init")
        must(run("import", "--zone",
                 os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")), "import")
        rows = [r.split("|") for r in psql(db, "SELECT id, domain FROM delegations ORDER BY id")
                .splitlines()]
        random.Random(17).shuffle(rows)
        rows = [r for r in rows if r[1] != GENUINE]
        cycle = [r for r in rows[:len(rows) // 2]]
        quiet = [r for r in rows[len(rows) // 2:]]
        cycle_ids = ",".join(r[0] for r in cycle)
        psql(db, "UPDATE delegations SET next_scan_at = now() + interval '365 days'")
        psql(db, "UPDATE delegations SET next_scan_at = now() WHERE id IN (%s)" % cycle_ids)
        d = Daemon(binary, conf, os.path.join(tmp, "f.log"), "--http", "127.0.0.1#9393")
        check(d.started and d.running(), "the daemon starts")
        start = time.time()
        time.sleep(7)
        before = time.time()
        names = [r[1] for r in quiet] + ["nosuch%d.test." % i for i in range(50)]
        t_flood = time.time()
        box = {}

        # The genuine NOTIFY goes out in the middle of the flood.
        def genuine():
            time.sleep(3)
            box["t"] = time.time()
            box["answer"] = notify(ADDR, PORT, GENUINE, source="127.1.0.1")
        g = threading.Thread(target=genuine)
        g.start()
        sent, took = flood(names, FLOOD, FLOOD_RATE)
        g.join()
        after = time.time()
        base_rate = scans_between(db, cycle_ids, start + 1, before) / (before - start - 1)
        flood_rate = scans_between(db, cycle_ids, t_flood, after) / (after - t_flood)
        check(sent == FLOOD, "%d NOTIFYs sent from one source in %.1fs (%.0f/s)"
              % (sent, took, sent / took))
        check(base_rate > 0 and flood_rate >= 0.6 * base_rate,
              "the cycle keeps its pace: %.2f scans/s of the due half before the flood, "
              "%.2f/s during it (ratio %.2f)"
              % (base_rate, flood_rate, flood_rate / base_rate if base_rate else 0))
        a = box.get("answer")
        got = wait_for(lambda: "ds" in psql(
            db, "SELECT c.kind FROM change_sets c JOIN delegations d ON d.id = c.delegation_id"
                " WHERE d.domain = '%s'" % GENUINE), 15)
        made = psql(db, "SELECT extract(epoch FROM min(c.created_at)) FROM change_sets c JOIN"
                        " delegations d ON d.id = c.delegation_id WHERE d.domain = '%s'"
                        % GENUINE)
        latency = float(made or "nan") - box["t"]
        check(rcode_of(a) == "NOERROR" and got,
              "a genuine NOTIFY from another /24 during the flood: %s, its change set %.2fs "
              "after" % (rcode_of(a), latency))
        quiet_ids = ",".join(r[0] for r in quiet)
        cost = scans_between(db, quiet_ids, t_flood - 1, time.time() + 1)
        # source-burst 100 + source-rate 20/s over the flood, at most
        # domain-burst 2 scans for each of the quiet delegations.
        allowed = min(100 + 20 * took + 1, 2 * len(quiet))
        check(cost <= allowed,
              "the flood cost %d out-of-turn scans (at most %d allowed by the limits)"
              % (cost, allowed))
        m = scrape("http://127.0.0.1:9393/metrics")
        limited = m.get("cdscan_notify_rate_limited_total", {})
        by = {dict(k)["by"]: v for k, v in limited.items()}
        received = sum(m.get("cdscan_notify_received_total", {}).values())
        check(by.get("source", 0) >= received - 100 - 20 * took - 5 and by.get("source", 0) > 0,
              "/metrics counts the flood: received %d, rate-limited %s"
              % (received, {k: int(v) for k, v in by.items()}))
        code = d.stop()
        stats = re.search(r"NOTIFY statistics \(received (\d+), accepted (\d+).*?by source "
                          r"(\d+), by everyone (\d+), by domain (\d+)", d.text())
        check(code == 0 and stats, "SIGTERM: exit 0, NOTIFY statistics logged")
        if stats:
            received, accepted, by_source = (int(stats.group(i)) for i in (1, 2, 3))
            # What the kernel dropped before the daemon read it (a full
            # socket buffer: the sanitizer build reads slower) is not
            # counted; of what was read, all but the source's allowance
            # was rate-limited.
            check(received > 0 and by_source >= received - 100 - 20 * took - 5,
                  "read %d (the kernel dropped %d), accepted %d, rate-limited by source %d, "
                  "by domain %s" % (received, FLOOD - received, accepted, by_source,
                                    stats.group(5)))
    finish()


if __name__ == "__main__":
    main()
