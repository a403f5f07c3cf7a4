#!/usr/bin/python3
"""PostgreSQL restarted under a running `cdscan scan`: the scanner stops with
exit 69 and a clear message, no batch is half-written, and once the lease of
what it had claimed has ended, a rerun scans every delegation exactly once
(nothing before: the claimed ones are not due until then).  Then the daemon
outlives a restart, and a delegation taken out of turn (scan --domain)
whose scanner is killed is scanned again once its lease ends, not a round
later.  Restarts the lab's cluster: run alone
(ctest RUN_SERIAL).  Usage: db_restart_test.py CDSCAN LAB_DIR"""

import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
from labtest import TORN_SQL, Database, check, finish, load_lab, must, psql


def write_conf(path, db, lab, scan):
    """A configuration on the lab's resolver; scan: more keys of scan:
    (timeout 1s, 2 retries), indented as the first."""
    with open(path, "w") as f:
        f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n"
                "  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                "scan:\n  timeout: 1s\n  retries: 2\n  %s\n"
                % (db, lab["resolver"], lab["trust_anchor"], scan))


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    with Database(lab, "restart") as database:
        db = database.conninfo
        zone = os.path.join(tmp, "z.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN restart.example.\n@ SOA ns h 1 3600 600 86400 300\n")
            for i in range(2000):
                f.write("d%d NS ns1.provider-a.net.\n" % i)
        conf = os.path.join(tmp, "c.yaml")
        # Slow enough (600 queries/s to the one server) that the restart
        # lands in the middle of the run; 50 in flight, so that whatever is
        # claimed is still leased when the scanner has stopped.
        write_conf(conf, db, lab, "batch-size: 50\n  concurrency: 50\n  lease: 5s\n"
                   "  per-server-qps: 600")
        run = lambda *a, **k: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                             text=True, **k)
        must(run("db", "init"), "db init")
        must(run("import", "--zone", zone), "import of 2000 delegations")
        p = subprocess.Popen([binary, "-q", "-c", conf, "scan"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and psql(db, "SELECT count(*) FROM scan_results") in ("", "0"):
            time.sleep(0.05)
        subprocess.run([sys.executable, os.path.join(HERE, "..", "lab", "lab.py"), "pg-restart",
                        "--dir", labdir], check=True, capture_output=True)
        out, err = p.communicate(timeout=120)
        done = int(psql(db, "SELECT count(*) FROM scan_results") or 0)
        check(p.returncode == 69 and "not written" in err,
              "the scanner stops with exit 69 and says so: %d %s" % (p.returncode, err.strip()[:200]))
        torn = psql(db, TORN_SQL)
        check(0 < done < 2000 and done % 50 == 0 and torn == "0",
              "%d results, in whole batches, %s half-written" % (done, torn))
        # What the stopped scanner had claimed and not written is leased
        # (leased_until set: a result's write clears it), and exactly what
        # it said it lost.  Counted without now(): the lease may already
        # have ended on a busy machine (the restart alone can take
        # seconds), and that says nothing about cdscan.
        leased = psql(db, "SELECT count(*) FROM delegations d WHERE leased_until IS NOT NULL"
                      " AND NOT EXISTS (SELECT 1 FROM scan_results s"
                      " WHERE s.delegation_id = d.id)")
        m = re.search(r"(\d+) claimed delegations were not written", err)
        # A COMMIT whose answer the restart cut off is in doubt: the
        # scanner counts its batch as not written, and it may have been
        # (seen once in CI: 50 leased, 100 said, 100 results).  Anything
        # else said must be leased, and nothing leased left unsaid.
        said = int(m.group(1)) if m else -1
        check(m is not None and 0 < int(leased or 0) <= said and
              (said - int(leased)) % 50 == 0 and said - int(leased) <= 50,
              "the unwritten delegations are leased, as the message says (%s leased, %d said,"
              " at most one batch in doubt)" % (leased, said))
        # The rerun once every lease has ended: waited for, not slept for.
        deadline = time.time() + 60
        while time.time() < deadline and psql(
                db, "SELECT count(*) FROM delegations WHERE leased_until > now()") != "0":
            time.sleep(0.2)
        p = run("scan", timeout=300)
        got = psql(db, "SELECT count(*), count(DISTINCT delegation_id) FROM scan_results")
        check(p.returncode == 0 and got == "2000|2000",
              "a rerun completes: every delegation scanned exactly once (%s)" % got)
        daemon_outage(binary, labdir, db, conf, tmp)
        lost_out_of_turn(binary, lab, db, tmp)
    finish()


def daemon_outage(binary, labdir, db, conf, tmp):
    """The daemon does not exit when PostgreSQL restarts under it: it
    reconnects, and a NOTIFY afterwards leads to a scan again."""
    from daemontest import Daemon, notify, rcode_of, wait_for
    with open(conf, "a") as f:
        f.write("  interval: 365d\ndaemon:\n  listen: ['127.0.0.1#5395']\n")
    psql(db, "UPDATE delegations SET next_scan_at = now() + interval '365 days'")
    d = Daemon(binary, conf, os.path.join(tmp, "d.log"))
    before = psql(db, "SELECT count(*) FROM scan_results")
    subprocess.run([sys.executable, os.path.join(HERE, "..", "lab", "lab.py"), "pg-restart",
                    "--dir", labdir], check=True, capture_output=True)
    # The store's loss is found by the next statement: a NOTIFY's look-up.
    notify("127.0.0.1", 5395, "d7.restart.example.")
    back = wait_for(lambda: "connected to the database again" in d.text() or
                    rcode_of(notify("127.0.0.1", 5395, "d8.restart.example.")) == "NOERROR",
                    60, 1.0)
    of_d9 = lambda: psql(db, "SELECT count(*) FROM scan_results r JOIN delegations d"
                             " ON d.id = r.delegation_id WHERE d.domain = 'd9.restart.example.'")
    earlier = of_d9()
    a = notify("127.0.0.1", 5395, "d9.restart.example.")
    scanned = wait_for(lambda: int(of_d9()) == int(earlier) + 1, 20)
    check(back and d.running() and rcode_of(a) == "NOERROR" and scanned,
          "the daemon outlives a PostgreSQL restart: NOTIFY answered %s, scanned after it "
          "(%s results before)" % (rcode_of(a), before))
    check(d.stop() == 0, "and stops with exit 0")


def lost_out_of_turn(binary, lab, db, tmp):
    """A delegation claimed before it is due (scan --domain, as a NOTIFY
    does) whose scanner is killed: the claim brought its next scan to the
    lease's end, so it is not lost until its next round (a year here); no
    scan takes it while the lease holds, and the first scan after it does,
    once."""
    zone = os.path.join(tmp, "lost.zone")
    with open(zone, "w") as f:
        f.write("$ORIGIN lostclaim.example.\n@ SOA ns h 1 3600 600 86400 300\n"
                "gone NS ns1.silent.net.\n")
    conf = os.path.join(tmp, "lost.yaml")
    write_conf(conf, db, lab, "lease: 20s\n  interval: 365d")
    run = lambda *a, **k: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                         text=True, **k)
    name = "gone.lostclaim.example."
    must(run("import", "--zone", zone), "import of " + name)
    psql(db, "UPDATE delegations SET next_scan_at = now() + interval '365 days',"
             " leased_until = NULL")
    results = lambda: psql(db, "SELECT count(*) FROM scan_results s JOIN delegations d"
                               " ON d.id = s.delegation_id WHERE d.domain = '%s'" % name)
    # Its only server never answers: the scan waits out timeout and
    # retries, long enough to be killed once the claim has committed.
    p = subprocess.Popen([binary, "-q", "-c", conf, "scan", "--domain", name],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and p.poll() is None and psql(
            db, "SELECT leased_until IS NOT NULL FROM delegations WHERE domain = '%s'"
            % name) != "t":
        time.sleep(0.02)
    p.kill()
    p.communicate(timeout=30)
    row = psql(db, "SELECT next_scan_at = leased_until, leased_until > now() + interval"
                   " '2 seconds', next_scan_at < now() + interval '1 minute' FROM delegations"
                   " WHERE domain = '%s'" % name)
    check(p.returncode == -9 and results() == "0" and row == "t|t|t",
          "scan --domain killed after its claim: next scan at the lease's end, not in a year"
          " (same, lease still > 2 s, within a minute: %s; exit %s)" % (row, p.returncode))
    q = run("scan", timeout=120)
    still = psql(db, "SELECT leased_until > now() FROM delegations WHERE domain = '%s'" % name)
    check(q.returncode == 0 and results() == "0" and still == "t",
          "a scan while the lease holds leaves it alone (exit %d, %s results, leased %s)"
          % (q.returncode, results(), still))
    deadline = time.time() + 60
    while time.time() < deadline and psql(
            db, "SELECT leased_until > now() FROM delegations WHERE domain = '%s'" % name) == "t":
        time.sleep(0.2)
    q = run("scan", timeout=120)
    got = psql(db, "SELECT s.ds_action || ' ' || array_to_string(s.reasons, ',')"
                   " FROM scan_results s JOIN delegations d ON d.id = s.delegation_id"
                   " WHERE d.domain = '%s'" % name)
    check(q.returncode == 0 and got.startswith("reject ns-unreachable"),
          "the first scan after the lease takes it, once: exit %d, %r %s"
          % (q.returncode, got, q.stderr.strip()[-300:]))


if __name__ == "__main__":
    main()
