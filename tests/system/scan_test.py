#!/usr/bin/python3
"""System test of `cdscan scan` on the lab (real NSD, Unbound, PostgreSQL):
dry run, real run with change sets, no duplicate open change set, the
scenarios that need their own configuration or a replay baseline (each
scanned alone), two scanners sharing one database over 2,000 delegations,
kill -9 in the middle of a run followed by a rerun, and the next batch
claimed while the one before is started.
Usage: scan_test.py CDSCAN LAB_DIR"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from labtest import TORN_SQL, Database, check, finish, load_lab, merge_config, psql


class Env:
    """A database of its own, and a configuration pointing cdscan at it."""

    def __init__(self, binary, lab, tmp, name, extra=""):
        self.binary = binary
        self.lab = lab
        self.database = Database(lab, "scan_" + name)
        self.db = self.database.conninfo
        self.conf = os.path.join(tmp, name + ".yaml")
        self.configure("scan:\n" + extra if extra else "")
        self.run("db", "init")

    def configure(self, extra):
        """The configuration, with extra (YAML) merged in."""
        with open(self.conf, "w") as f:
            f.write(merge_config("database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n"
                                 "  trust-anchor: %s\nscan:\n  timeout: 1s\n  retries: 2\n"
                                 "  per-server-qps: 100000\n  per-server-queries-in-flight: 200\n"
                                 % (self.db, self.lab["resolver"], self.lab["trust_anchor"]),
                                 extra))

    def run(self, *args, wait=True):
        cmd = [self.binary, "-q", "-c", self.conf, *args]
        if not wait:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        return subprocess.run(cmd, capture_output=True, text=True)

    def drop(self):
        self.database.__exit__(None, None, None)


def lab_part(binary, lab, tmp):
    env = Env(binary, lab, tmp, "lab")
    try:
        parent = os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")
        env.run("import", "--zone", parent)
        zones = {n: z for n, z in lab["zones"].items() if not z["provider"]}
        # The scenarios whose outcome needs no extra config or --last-change.
        plain = {n: z["expect"] for n, z in zones.items()
                 if "ds" in z.get("expect", {}) and "config" not in z["expect"]
                 and "last-change" not in z["expect"]}
        report = os.path.join(tmp, "dry.json")
        p = env.run("scan", "--dry-run", "--report", report, "--format", "json")
        check(p.returncode == 0, "dry run: %s %s" % (p.stdout.strip(), p.stderr.strip()))
        rep = json.load(open(report))
        check(rep["dry_run"] is True and rep["summary"]["domains"] == len(zones),
              "report: %d domains scanned, dry_run true" % rep["summary"]["domains"])
        verdicts = {v["domain"]: v for v in rep["domains"]}
        wrong = [n for n, e in plain.items()
                 if e["ds"] not in ("no-signal", "signal-unchanged", "insecure-no-bootstrap")
                 and (n not in verdicts or verdicts[n]["ds"]["reasons"][0] != e["ds"])]
        check(not wrong, "every scenario's reason in the report (%s)" % wrong)
        listed = all(v["ds"]["action"] != "none" or v["ns"]["action"] != "none"
                     for v in rep["domains"])
        check(listed, "the report lists only domains with an action or a rejection")
        check(psql(env.db, "SELECT count(*) FROM change_sets") == "0",
              "a dry run creates no change set")
        check(psql(env.db, "SELECT count(*) FROM scan_results WHERE dry_run") == str(len(zones)),
              "a dry run records its results, marked dry")
        p = env.run("scan", "--report", os.path.join(tmp, "real.txt"))
        want = sum(1 for n, v in verdicts.items() if v["ds"]["action"] in ("update", "delete", "bootstrap"))
        got = psql(env.db, "SELECT count(*), count(DISTINCT delegation_id), count(DISTINCT cltrid)"
                           " FROM change_sets WHERE state = 'pending' AND kind = 'ds'")
        check(got == "%d|%d|%d" % (want, want, want),
              "one pending change set per changing domain: %s (want %d)" % (got, want))
        text = open(os.path.join(tmp, "real.txt")).read()
        check("ds-updated" in text and "rollover.test." in text, "text report names domains and reasons")
        p = env.run("scan", "--domain", "rollover.test")
        check("scanned 1 " in p.stdout and
              psql(env.db, "SELECT count(*) FROM change_sets WHERE kind = 'ds'") == str(want),
              "a forced rescan adds no second open change set: " + p.stdout.strip())
        p = env.run("scan")
        check("scanned 0 " in p.stdout, "nothing is due after a run: " + p.stdout.strip())
        applied_then_import(env, parent)

        # A domain whose nameserver stays down backs off, and is flagged in
        # the report from the third failed scan on (flag-unreachable-after: 3).
        for _ in range(2):
            env.run("scan", "--domain", "one-down.test")
        rep3 = os.path.join(tmp, "flag.json")
        env.run("scan", "--domain", "one-down.test", "--report", rep3, "--format", "json")
        # RFC 9975 §3: retried after scan.retry-after (5m), doubling: 5m, 10m,
        # 20m, 40m (next_scan_at and scanned_at share the write's now()).
        row = psql(env.db, "SELECT consecutive_failures, extract(epoch FROM next_scan_at -"
                           " (SELECT max(scanned_at) FROM scan_results s WHERE"
                           " s.delegation_id = d.id))::integer"
                           " FROM delegations d WHERE domain = 'one-down.test.'")
        check(row == "4|2400", "four failed scans: failures and back-off to 40 minutes (%s)" % row)
        flagged = json.load(open(rep3))["summary"]["flagged_unreachable"]
        check(flagged == 1, "the report flags the unreachable domain (%s)" % flagged)
        psql(env.db, "UPDATE delegations SET next_scan_at = now()")
        p = env.run("scan", "--dry-run", "--limit", "5")
        check("scanned 5 " in p.stdout, "--limit 5: " + p.stdout.strip())
    finally:
        env.drop()


def rel(spec):
    """'-10m' -> an RFC 3339 time that long from now."""
    sign = -1 if spec.startswith("-") else 1
    n, unit = int(spec.lstrip("+-")[:-1]), spec[-1]
    t = time.time() + sign * n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def configured_part(binary, lab, tmp):
    """The DS scenarios a plain scan cannot show: those with a configuration
    of their own (expect.config) or a replay baseline (expect.last-change,
    set in the delegation table as scan keeps it), each scanned alone (dry
    run); the verdict the scan stored must be the scenario's."""
    zones = {n: z["expect"] for n, z in lab["zones"].items()
             if not z["provider"] and "ds" in z.get("expect", {})
             and ("config" in z["expect"] or "last-change" in z["expect"])}
    env = Env(binary, lab, tmp, "configured")
    try:
        env.run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
        for n, e in sorted(zones.items()):
            env.configure(e.get("config", ""))
            if "last-change" in e:
                psql(env.db, "UPDATE delegations SET signal_baseline = '%s' WHERE domain = '%s'"
                     % (rel(e["last-change"]), n))
            p = env.run("scan", "--dry-run", "--domain", n)
            v = json.loads(psql(env.db, "SELECT s.verdict FROM scan_results s JOIN delegations d"
                                " ON d.id = s.delegation_id WHERE d.domain = '%s'"
                                " ORDER BY s.id DESC LIMIT 1" % n) or "null")
            ds = (v or {}).get("ds", {})
            ok = (p.returncode == 0 and ds.get("reasons", [None])[0] == e["ds"]
                  and ds.get("action") == e.get("action", ds.get("action"))
                  and e.get("detail", "") in ds.get("detail", "")
                  and (not e.get("excluded") or
                       any(e["excluded"] in x for x in v.get("excluded", []))))
            check(ok, "%s scanned alone with its configuration%s: %s (%s)%s"
                  % (n, " and baseline" if "last-change" in e else "", ds.get("reasons"),
                     ds.get("detail", ""), "" if ok else " " + p.stderr.strip()))
    finally:
        env.drop()


def big_zone(tmp, n):
    path = os.path.join(tmp, "big.zone")
    with open(path, "w") as f:
        f.write("$ORIGIN scale.example.\n@ SOA ns hostmaster 1 3600 600 86400 300\n")
        for i in range(n):
            # provider-a refuses these zones: a quick, real answer.
            f.write("d%d NS ns1.provider-a.net.\n" % i)
    return path


def concurrency_part(binary, lab, tmp):
    env = Env(binary, lab, tmp, "two", "  batch-size: 50\n")
    try:
        env.run("import", "--zone", big_zone(tmp, 2000))
        a = env.run("scan", wait=False)
        b = env.run("scan", wait=False)
        oa, ea = a.communicate(timeout=300)
        ob, eb = b.communicate(timeout=300)
        check(a.returncode == 0 and b.returncode == 0, "two scanners ran: %s | %s" % (oa.strip(), ob.strip()))
        got = psql(env.db, "SELECT count(*), count(DISTINCT delegation_id) FROM scan_results")
        check(got == "2000|2000", "two scanners: each of 2,000 delegations scanned exactly once (%s)" % got)
    finally:
        env.drop()

    env = Env(binary, lab, tmp, "kill", "  batch-size: 50\n  lease: 2s\n")
    try:
        env.run("import", "--zone", big_zone(tmp, 2000))
        p = env.run("scan", wait=False)
        deadline = time.time() + 60
        while time.time() < deadline and psql(env.db, "SELECT count(*) FROM scan_results") in ("", "0"):
            time.sleep(0.02)
        p.send_signal(signal.SIGKILL)
        p.wait()
        done = int(psql(env.db, "SELECT count(*) FROM scan_results"))
        # Results and schedule are written in one transaction per group: a
        # delegation has a result exactly when its next scan moved ahead.
        torn = psql(env.db, TORN_SQL)
        check(0 < done < 2000 and done % 50 == 0 and torn == "0",
              "kill -9 mid-run: %d results in whole batches, %s half-written" % (done, torn))
        # What the killed scanner had claimed is due again when its lease
        # ends.
        time.sleep(2.5)
        p = env.run("scan")
        got = psql(env.db, "SELECT count(*), count(DISTINCT delegation_id) FROM scan_results")
        check(p.returncode == 0 and got == "2000|2000",
              "after a rerun every delegation scanned exactly once (%s)" % got)
    finally:
        env.drop()


def ahead_part(binary, lab, tmp):
    """A batch scan claims its next batch in the thread pool while it
    starts the one before (pipeline.c, struct claim_job): of 2,000
    delegations in batches of 50, the first batch is claimed on the loop,
    the other 39 and the empty claim that ends the run ahead; each
    delegation is scanned exactly once."""
    env = Env(binary, lab, tmp, "ahead", "  batch-size: 50\n")
    try:
        env.run("import", "--zone", big_zone(tmp, 2000))
        p = subprocess.run([binary, "-c", env.conf, "scan"], capture_output=True, text=True)
        m = re.search(r"claims (\d+), (\d+) of them ahead, (\d+) waited for", p.stderr)
        got = psql(env.db, "SELECT count(*), count(DISTINCT delegation_id) FROM scan_results")
        leased = psql(env.db, "SELECT count(*) FROM delegations WHERE leased_until IS NOT NULL")
        check(p.returncode == 0 and m is not None and (m.group(1), m.group(2)) == ("41", "40")
              and got == "2000|2000" and leased == "0",
              "claims made ahead: %s (want 41 claims, 40 ahead); results %s, leases left %s%s"
              % (m.group(0) if m else "no statistics", got, leased,
                 "" if p.returncode == 0 else " " + p.stderr.strip()[-400:]))
    finally:
        env.drop()


def applied_then_import(env, parent):
    """The registry applied rollover.test's change set (done), and the
    parent zone and the table do not have it yet: rescans propose nothing
    new (0005_zone_imports.sql) until an import has finished since; after
    an import of a zone that still lacks the change it is proposed again."""
    count = lambda: psql(env.db, "SELECT count(*) FROM change_sets c JOIN delegations d"  # noqa
                                 " ON d.id = c.delegation_id WHERE d.domain = 'rollover.test.'"
                                 " AND c.kind = 'ds'")
    psql(env.db, "UPDATE change_sets SET state = 'done', updated_at = now() FROM delegations d"
                 " WHERE d.id = change_sets.delegation_id AND d.domain = 'rollover.test.'")
    before = count()
    for _ in range(2):
        env.run("scan", "--domain", "rollover.test")
    check(count() == before == "1",
          "done, not yet imported: two rescans create no second change set (%s, %s)"
          % (before, count()))
    env.run("import", "--zone", parent)
    env.run("scan", "--domain", "rollover.test")
    check(count() == "2", "an import since, and the parent still lacks it: proposed again (%s)"
          % count())
    psql(env.db, "DELETE FROM change_sets c USING delegations d WHERE d.id = c.delegation_id"
                 " AND d.domain = 'rollover.test.' AND c.state = 'pending'")


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    lab_part(binary, lab, tmp)
    configured_part(binary, lab, tmp)
    concurrency_part(binary, lab, tmp)
    ahead_part(binary, lab, tmp)
    finish()


if __name__ == "__main__":
    main()
