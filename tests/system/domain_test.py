#!/usr/bin/python3
"""System test of one domain's state on the lab's PostgreSQL (and its DNS):
the replay baseline an import keeps or resets (a DS change cdscan made, one
made outside, a DS set removed outside: suspended), `cdscan domain
show|history|suspend|resume|approve-csync` with their exit codes and
messages, the claim of a suspended domain, change sets held while it is
suspended, the retry schedule of a domain with an unusable server
(retry-after, doubling, capped), the failing addresses kept per address
and dropped when they answer, and addresses left out after
policy.unreachable-after.  Usage: domain_test.py CDSCAN LAB_DIR"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

from labtest import Database, PsqlError, check, finish, load_lab, psql

ZONE = "state.example."


def ds(tag, *seed):
    return "%d 13 2 %s" % (tag, hashlib.sha256(repr(seed).encode()).hexdigest().upper())


class Env:
    """A database of its own and a configuration for cdscan."""

    def __init__(self, binary, lab, tmp, name, extra=""):
        self.binary, self.lab, self.tmp, self.name = binary, lab, tmp, name
        self.database = Database(lab, "domain_" + name)
        self.db = self.database.conninfo
        self.configure(extra)
        self.run("db", "init")

    def configure(self, extra):
        self.conf = os.path.join(self.tmp, self.name + ".yaml")
        with open(self.conf, "w") as f:
            f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                    "scan:\n  timeout: 1s\n  retries: 2\n%s"
                    % (self.db, self.lab["resolver"], self.lab["trust_anchor"], extra))

    def run(self, *args):
        return subprocess.run([self.binary, "-c", self.conf, *args], capture_output=True,
                              text=True, timeout=300)

    def sql(self, q):
        return psql(self.db, q)

    def drop(self):
        self.database.__exit__(None, None, None)


def write_zone(path, delegations):
    lines = ["$ORIGIN %s" % ZONE, "$TTL 1h", "@ SOA ns.nic hostmaster 1 3600 600 86400 300",
             "@ NS ns.nic", "ns.nic A 192.0.2.53"]
    for name, dss in sorted(delegations.items()):
        lines.append("%s NS ns1.provider-a.net." % name)
        lines.extend("%s DS %s" % (name, d) for d in dss)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def change_set(env, name, action, proposed, state, cltrid):
    """A DS change set as the pipeline writes it (payload: the proposed set);
    its id (psql prints the command tag after the row)."""
    return env.sql(
        "INSERT INTO change_sets (delegation_id, kind, action, payload, state, cltrid)"
        " SELECT id, 'ds', '%s', '%s'::jsonb, '%s', '%s' FROM delegations"
        " WHERE domain = '%s.%s' RETURNING id"
        % (action, json.dumps({"proposed": proposed}), state, cltrid, name, ZONE)).split()[0]


def import_part(binary, lab, tmp):
    env = Env(binary, lab, tmp, "import")
    try:
        names = "abcdefghi"
        old = {n: [ds(10 + i, n, "old")] for i, n in enumerate(names)}
        zone = os.path.join(tmp, "state.zone")
        write_zone(zone, old)
        p = env.run("import", "--zone", zone)
        check(p.returncode == 0 and "9 inserted" in p.stdout and "0 suspended" in p.stdout,
              "first import: %s" % p.stdout.strip())
        check(env.sql("SELECT count(*) FROM delegations WHERE signal_baseline IS NOT NULL")
              == "0", "a first import sets no replay baseline")
        new = dict(old)
        # a: changed by a change set of cdscan (done), whose proposed set is
        # written in lower case: the baseline it set stays.
        new["a"] = [ds(20, "a", "new")]
        cs_a = change_set(env, "a", "update", [x.lower() for x in new["a"]], "done",
                          "cdscan-ds-a")
        # b: changed outside.  c: removed outside.  d: removed by a delete
        # change set of cdscan (sent).  e: cdscan's pending change set wants
        # another set.  f: cdscan's change set for this set failed.  g: the
        # set of an older change set, but cdscan's newest wants another.
        # h: removed while cdscan's newest change set was an update.  i: as
        # it was.
        new["b"] = [ds(21, "b", "new")]
        new["c"] = []
        new["d"] = []
        change_set(env, "d", "delete", [], "sent", "cdscan-ds-d")
        new["e"] = [ds(22, "e", "new")]
        change_set(env, "e", "update", [ds(23, "e", "wanted")], "pending", "cdscan-ds-e")
        new["f"] = [ds(24, "f", "new")]
        change_set(env, "f", "update", new["f"], "failed", "cdscan-ds-f")
        new["g"] = [ds(25, "g", "new")]
        change_set(env, "g", "update", new["g"], "done", "cdscan-ds-g1")
        change_set(env, "g", "update", [ds(26, "g", "newer")], "done", "cdscan-ds-g2")
        new["h"] = []
        change_set(env, "h", "update", [ds(27, "h", "wanted")], "sent", "cdscan-ds-h")
        env.sql("UPDATE delegations SET signal_baseline = '2026-01-01T00:00:00Z'"
                " WHERE domain IN ('a.%s', 'd.%s', 'i.%s')" % (ZONE, ZONE, ZONE))
        write_zone(zone, new)
        p = env.run("import", "--zone", zone)
        check(p.returncode == 0 and "8 changed" in p.stdout and ", 2 suspended" in p.stdout,
              "re-import: 8 changed, 2 suspended: %s" % p.stdout.strip())
        check(all(("%s.%s suspended" % (n, ZONE)) in p.stderr for n in "ch") and
              "2 domains suspended" in p.stderr,
              "the log names the domains suspended and says how many: %s" % p.stderr.strip())
        base = dict(r.split("|", 1) for r in env.sql(
            "SELECT left(domain, 1), coalesce(CASE WHEN signal_baseline = ds_changed_at"
            " THEN 'import' ELSE to_char(signal_baseline AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            " END, 'none') FROM delegations").splitlines())
        want = {"a": "2026-01-01", "b": "import", "c": "import", "d": "2026-01-01",
                "e": "import", "f": "import", "g": "import", "h": "import", "i": "2026-01-01"}
        check(base == want, "replay baselines: kept where cdscan made the change, the import "
              "time elsewhere (%s)" % base)
        susp = env.sql("SELECT string_agg(left(domain, 1) || ':' || suspended_by || ':' ||"
                       " suspended_reason, '|' ORDER BY domain) FROM delegations"
                       " WHERE suspended_at IS NOT NULL")
        check(re.fullmatch(r"c:import:the DS set was removed outside cdscan \(seen by import"
                           r" at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\|h:import:.*", susp or ""),
              "c and h suspended by the import, saying why: %s" % susp)
        ev = env.sql("SELECT string_agg(left(d.domain, 1) || ':' || e.event || ':' || e.actor,"
                     " ' ' ORDER BY d.domain, e.id) FROM domain_events e JOIN delegations d"
                     " ON d.id = e.delegation_id")
        check(ev == "a:ds-changed:import b:ds-changed:import c:ds-changed:import "
              "c:suspend:import d:ds-changed:import e:ds-changed:import f:ds-changed:import "
              "g:ds-changed:import h:ds-changed:import h:suspend:import",
              "an event per DS change and per suspension: %s" % ev)
        why_a = env.sql("SELECT reason FROM domain_events e JOIN delegations d ON"
                        " d.id = e.delegation_id WHERE d.domain = 'a.%s'" % ZONE)
        check(("change set %s proposed" % cs_a) in why_a, "a's event names the change set: "
              + why_a)
        p = env.run("import", "--zone", zone)
        check(p.returncode == 0 and "0 changed" in p.stdout and "0 suspended" in p.stdout and
              env.sql("SELECT count(*) FROM domain_events") == "10",
              "the same file again: nothing changes, no new event: " + p.stdout.strip())
        operator_part(env)
    finally:
        env.drop()


def operator_part(env):
    """suspend, resume, show, history on the imported domains."""
    a = "a." + ZONE
    p = env.run("-q", "domain", "suspend", "A.State.Example", "--reason",
                "multi-signer migration")
    check(p.returncode == 0 and p.stdout.strip() == "%s suspended: multi-signer migration" % a,
          "suspend: exit %d, %s" % (p.returncode, p.stdout.strip()))
    row = env.sql("SELECT suspended_by, suspended_reason FROM delegations WHERE domain = '%s'"
                  % a)
    check(row == "operator|multi-signer migration", "stored: " + row)
    p = env.run("-q", "domain", "suspend", a, "--reason", "again")
    check(p.returncode == 0 and "already suspended" in p.stdout and
          "multi-signer migration" in p.stdout and env.sql(
              "SELECT count(*) FROM domain_events WHERE event = 'suspend' AND actor ="
              " 'operator'") == "1",
          "suspend again: exit 0, nothing changed: " + p.stdout.strip())
    p = env.run("-q", "domain", "suspend", "c." + ZONE)
    check(p.returncode == 0 and "already suspended" in p.stdout and "by import" in p.stdout,
          "an import's suspension is said as such: " + p.stdout.strip())
    p = env.run("-q", "domain", "show", a)
    check(p.returncode == 0 and re.search(r"automation +suspended since \S+Z by operator: "
                                          r"multi-signer migration", p.stdout) and
          re.search(r"replay baseline +2026-01-01T00:00:00Z", p.stdout) and
          "ns1.provider-a.net." in p.stdout,
          "show: the suspension and the baseline:\n" + p.stdout)
    p = env.run("-q", "domain", "show", a, "--json")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = {}
    check(p.returncode == 0 and j.get("suspension", {}).get("by") == "operator" and
          j.get("replay_baseline") == "2026-01-01T00:00:00Z" and j.get("domain") == a,
          "show --json: %s" % p.stdout[:300])
    p = env.run("-q", "domain", "history", a)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 3 and re.search(
        r"suspend +by operator \(\S+\): multi-signer migration$", lines[0]) and
          "ds-changed" in lines[1] and "change-set" in lines[2] and "done" in lines[2],
          "history, newest first:\n" + p.stdout)
    p = env.run("-q", "domain", "history", a, "--limit", "1", "--json")
    try:
        j = json.loads(p.stdout)
    except ValueError:
        j = []
    check(p.returncode == 0 and len(j) == 1 and j[0]["event"] == "suspend" and
          j[0]["actor"] == "operator" and j[0]["login"],
          "history --limit 1 --json: %s" % p.stdout[:300])
    env.sql("UPDATE delegations SET next_scan_at = now() + interval '1 day'")
    p = env.run("-q", "domain", "resume", a, "--reason", "migration done")
    row = env.sql("SELECT suspended_at IS NULL AND suspended_by IS NULL AND next_scan_at <="
                  " now() FROM delegations WHERE domain = '%s'" % a)
    check(p.returncode == 0 and "resumed: migration done" in p.stdout and row == "t",
          "resume: automation on, due now: %s %s" % (p.stdout.strip(), row))
    p = env.run("-q", "domain", "resume", a)
    check(p.returncode == 0 and "not suspended" in p.stdout, "resume again: " + p.stdout.strip())
    p = env.run("-q", "domain", "history", a, "--limit", "1")
    check(re.search(r"resume +by operator \(\S+\): migration done$", p.stdout),
          "the resumption is in the history: " + p.stdout.strip())
    for sub in ("show", "history", "suspend", "resume", "approve-csync"):
        p = env.run("-q", "domain", sub, "nosuch." + ZONE)
        check(p.returncode == 65 and "no delegation nosuch.%s in the database" % ZONE in p.stderr,
              "domain %s of an unknown domain: exit %d, %s" % (sub, p.returncode,
                                                               p.stderr.strip()))
    p = env.run("-q", "domain", "approve-csync", a)
    check(p.returncode == 65 and "not been scanned" in p.stderr,
          "approve-csync before any scan: exit %d, %s" % (p.returncode, p.stderr.strip()))


def verdict_server(env, domain, ok):
    """A (name, address) of a server of the newest verdict that was ok or not."""
    servers = json.loads(env.sql(
        "SELECT s.verdict->'servers' FROM scan_results s JOIN delegations d ON"
        " d.id = s.delegation_id WHERE d.domain = '%s' ORDER BY s.id DESC LIMIT 1" % domain)
        or "[]")
    return next(((s["name"], s["address"]) for s in servers if s["ok"] == ok), (None, None))


def schedule(env, domain):
    """consecutive failures | next scan - the newest scan, in seconds (both are
    the write's now())."""
    return env.sql("SELECT consecutive_failures, extract(epoch FROM next_scan_at - (SELECT"
                   " max(scanned_at) FROM scan_results s WHERE s.delegation_id = d.id"
                   " AND NOT s.dry_run))::integer FROM delegations d WHERE domain = '%s'"
                   % domain)


def lab_conf(env, unreachable="1s", interval="1s"):
    env.configure("  interval: %s\n  retry-after: 2s\n  max-backoff: 1m\npolicy:\n"
                  "  unreachable-after: %s\noutput:\n  spool-dir: %s\n"
                  % (interval, unreachable, os.path.join(env.tmp, "spool")))


def stored_before_json(env):
    """A result written before schema version 11 keeps its verdict in
    verdict_jsonb (sql/0011_verdict_json.sql); show and history read either
    column, and a row with neither is refused."""
    dom = "csync-approve.test."
    did = env.sql("SELECT id FROM delegations WHERE domain = '%s'" % dom)
    old = env.sql(
        "INSERT INTO scan_results (delegation_id, scanned_at, dry_run, ds_action, ns_action,"
        " reasons, verdict_jsonb, scanner) SELECT delegation_id, scanned_at + interval '1 hour',"
        " dry_run, 'reject', ns_action, '{old-row}', jsonb_set(verdict::jsonb, '{ds,reasons}',"
        " '[\"old-row\"]'), 'before-0011' FROM scan_results WHERE delegation_id = %s"
        " ORDER BY id DESC LIMIT 1 RETURNING id" % did).split("\n")[0]
    check(old.isdigit(), "an old-style row written: %r" % old)
    p = env.run("-q", "domain", "history", dom, "--limit", "2")
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and len(lines) == 2 and "DS reject (old-row)" in lines[0] and
          "old-row" not in lines[1] and re.search(r"DS \S+ \(\S", lines[1]),
          "history reads verdict_jsonb and verdict:\n" + p.stdout + p.stderr)
    p = env.run("-q", "domain", "show", dom, "--json")
    try:
        vs = json.loads(p.stdout)["verdicts"]
    except (ValueError, KeyError):
        vs = []
    check(len(vs) >= 2 and vs[0]["verdict"]["ds"]["reasons"] == ["old-row"] and
          vs[1]["verdict"]["domain"] == dom,
          "show --json reads both columns: %s" % p.stdout[:400])
    try:
        refused = "accepted: " + env.sql(
            "INSERT INTO scan_results (delegation_id, scanned_at, dry_run, ds_action, ns_action,"
            " reasons) VALUES (%s, now(), false, 'none', 'none', '{}') RETURNING id" % did)
    except PsqlError as e:
        refused = str(e)
    check("scan_results_has_verdict" in refused, "a result without a verdict is refused: "
          + refused)
    env.sql("DELETE FROM scan_results WHERE id = %s" % (old if old.isdigit() else "0"))


def deleted_by_hand(env):
    """cdscan never deletes a delegation, but an operator may, by hand: its
    results go with it (schema version 13: a trigger, where the foreign key
    that cost every result's insert a look-up used to cascade), and the
    other delegations' stay."""
    dom = "csync-approve.test."
    did = env.sql("SELECT id FROM delegations WHERE domain = '%s'" % dom)
    mine = int(env.sql("SELECT count(*) FROM scan_results WHERE delegation_id = %s" % did))
    others = int(env.sql("SELECT count(*) FROM scan_results WHERE delegation_id <> %s" % did))
    check(mine > 0 and others > 0, "results to remove: %d, to keep: %d" % (mine, others))
    env.sql("DELETE FROM delegations WHERE id = %s" % did)
    left = env.sql("SELECT count(*) FROM scan_results WHERE delegation_id = %s" % did)
    kept = int(env.sql("SELECT count(*) FROM scan_results WHERE delegation_id <> %s" % did))
    check(left == "0" and kept == others,
          "a delegation deleted by hand takes its %d results along (%s left), the other"
          " %d stay (%d)" % (mine, left, others, kept))


def lab_part(binary, lab, tmp):
    env = Env(binary, lab, tmp, "lab")
    os.mkdir(os.path.join(tmp, "spool"))
    lab_conf(env)
    try:
        env.run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
        suspended_claim(env, tmp)
        approve(env)
        backoff(env)
        failures(env)
        stored_before_json(env)
        deleted_by_hand(env)
    finally:
        env.drop()


def suspended_claim(env, tmp):
    """A suspended domain is claimed with its suspension; its change sets wait."""
    dom = "rollover.test."
    p = env.run("-q", "scan", "--domain", dom)
    cs = env.sql("SELECT c.id FROM change_sets c JOIN delegations d ON d.id = c.delegation_id"
                 " WHERE d.domain = '%s' AND c.state = 'pending'" % dom)
    check(p.returncode == 0 and cs, "a pending change set for %s (%s)" % (dom, cs))
    base = env.sql("SELECT coalesce(extract(epoch FROM d.signal_baseline)::bigint::text, '')"
                   " FROM delegations d WHERE domain = '%s'" % dom)
    if base:
        check(0 < int(base) <= int(env.sql("SELECT extract(epoch FROM now())::bigint")),
              "the DS change set set the replay baseline to its signal's inception (%s)" % base)
    else:
        print("note: the decision sets no signal_inception yet: no baseline to check")
    env.run("-q", "domain", "suspend", dom, "--reason", "operator check")
    report = os.path.join(tmp, "suspended.json")
    p = env.run("-vv", "scan", "--dry-run", "--domain", dom, "--report", report, "--format",
                "json")
    check(p.returncode == 0 and "%s: suspended (operator check)" % dom in p.stderr,
          "the claim carries the suspension: %s" % [l for l in p.stderr.splitlines()
                                                    if "suspended" in l])
    reasons = json.load(open(report))["summary"]["reasons"] if p.returncode == 0 else {}
    if "suspended" in reasons:
        check(reasons.get("ds-updated", 0) == 0, "the decision says suspended: %s" % reasons)
    else:
        print("note: the decision does not report 'suspended' yet (%s)" % reasons)
    spool = os.path.join(tmp, "spool")
    p = env.run("epp", "send")
    held = env.sql("SELECT state FROM change_sets WHERE id = %s" % cs)
    check(p.returncode == 0 and held == "pending" and "1 change sets held" in p.stderr and
          not any(f.startswith("rollover.test-") for f in os.listdir(spool)),
          "epp send holds the change set of a suspended domain: %s, %s" % (held,
                                                                          p.stderr.strip()))
    env.run("-q", "domain", "resume", dom)
    p = env.run("-q", "epp", "send")
    check(env.sql("SELECT state FROM change_sets WHERE id = %s" % cs) == "sent" and
          os.path.exists(os.path.join(spool, "rollover.test-%s.xml" % cs)),
          "resumed: the change set goes out")


def newest_verdict(env, domain):
    """The verdict of domain's newest scan, as stored."""
    return json.loads(env.sql(
        "SELECT s.verdict FROM scan_results s JOIN delegations d ON d.id = s.delegation_id"
        " WHERE d.domain = '%s' ORDER BY s.id DESC LIMIT 1" % domain) or "{}")


def ns_change_sets(env, domain):
    """domain's NS change sets: [(state, payload)]."""
    rows = env.sql("SELECT c.state || '|' || c.payload::text FROM change_sets c JOIN"
                   " delegations d ON d.id = c.delegation_id WHERE d.domain = '%s' AND"
                   " c.kind = 'ns' ORDER BY c.id" % domain)
    return [(r.split("|", 1)[0], json.loads(r.split("|", 1)[1])) for r in rows.splitlines()]


def approve(env):
    """RFC 7477 §2.1.1.2: a CSYNC without the immediate flag waits for the
    operator (csync-not-immediate); approved, the next scan acts on it once
    (csync-approved, an NS change set); the scan after that waits again.
    The lab's csync-approve.test adds provider B's server, which serves the
    zone: an update that is valid but for the flag.  Only scan can show
    this: the approval is kept in the database, and check keeps no state
    (csync_scenarios.py checks the zone's csync-not-immediate in every
    check mode)."""
    dom = "csync-approve.test."
    p = env.run("-q", "domain", "approve-csync", dom)
    check(p.returncode == 65 and "not been scanned" in p.stderr,
          "approve-csync before a scan: exit %d" % p.returncode)
    env.run("-q", "scan", "--domain", dom)
    ns = newest_verdict(env, dom).get("ns", {})
    check(ns.get("reasons", [None])[0] == "csync-not-immediate" and not ns_change_sets(env, dom),
          "a CSYNC without the immediate flag: %s, no change set" % ns.get("reasons"))
    env.sql("UPDATE delegations SET next_scan_at = now() + interval '1 day'")
    p = env.run("-q", "domain", "approve-csync", "rollover.test")
    check(p.returncode == 65 and "not csync-not-immediate" in p.stderr and
          env.sql("SELECT count(*) FROM delegations WHERE csync_approved_serial IS NOT NULL")
          == "0",
          "approve-csync refuses a verdict that is not csync-not-immediate: %d %s"
          % (p.returncode, p.stderr.strip()))
    p = env.run("-q", "domain", "approve-csync", dom)
    row = env.sql("SELECT csync_approved_serial, next_scan_at <= now() FROM delegations"
                  " WHERE domain = '%s'" % dom)
    ev = env.sql("SELECT e.actor || ':' || e.reason FROM domain_events e JOIN delegations d ON"
                 " d.id = e.delegation_id WHERE d.domain = '%s' AND e.event = 'approve-csync'"
                 % dom)
    check(p.returncode == 0 and "CSYNC serial 2026112901 approved" in p.stdout and
          row == "2026112901|t" and ev.startswith("operator:CSYNC serial 2026112901"),
          "approve-csync records the serial, makes it due, says so: %s %s %s"
          % (p.stdout.strip(), row, ev))
    p = env.run("-q", "domain", "show", dom)
    check(re.search(r"csync approval +serial 2026112901 approved", p.stdout),
          "show says the approval")
    p = env.run("-vv", "scan", "--domain", dom)
    check("%s: CSYNC serial 2026112901 approved by an operator" % dom in p.stderr,
          "the claim carries the approval")
    ns = newest_verdict(env, dom).get("ns", {})
    check(ns.get("reasons", [None])[0] == "csync-approved" and ns.get("action") == "update" and
          "approved by an operator" in ns.get("detail", ""),
          "the approved scan: %s %s (%s)" % (ns.get("action"), ns.get("reasons"),
                                              ns.get("detail")))
    sets = ns_change_sets(env, dom)
    want = ["ns1.provider-a.net.", "ns1.provider-b.net.", "ns2.provider-a.net."]
    check(len(sets) == 1 and sets[0][0] == "pending" and sets[0][1].get("proposed") == want and
          [o["op"] for o in sets[0][1].get("ops", [])] == ["domain-update"],
          "one NS change set adding provider B's server: %s" % sets)
    left = env.sql("SELECT coalesce(csync_approved_serial::text, 'used') FROM delegations"
                   " WHERE domain = '%s'" % dom)
    check(left == "used" and env.sql("SELECT count(*) FROM domain_events WHERE event ="
                                     " 'csync-approval-used'") == "1",
          "the approval is used up, and said so (%s)" % left)
    env.run("-q", "scan", "--domain", dom)
    ns = newest_verdict(env, dom).get("ns", {})
    check(ns.get("reasons", [None])[0] == "csync-not-immediate" and
          len(ns_change_sets(env, dom)) == 1,
          "the scan after that waits again: %s, still one change set" % ns.get("reasons"))


def backoff(env):
    """RFC 9975 §3: retry-after (2s), doubling, at most max(max-backoff, interval)."""
    dom = "one-down.test."
    got = []
    for _ in range(3):
        env.run("-q", "scan", "--domain", dom)
        got.append(schedule(env, dom))
    check(got == ["1|2", "2|4", "3|8"], "back-off after 1, 2, 3 failed scans: %s" % got)
    env.sql("UPDATE delegations SET consecutive_failures = 40 WHERE domain = '%s'" % dom)
    env.run("-q", "scan", "--domain", dom)
    got = schedule(env, dom)
    check(got == "41|60", "capped at max-backoff (1m): %s" % got)
    lab_conf(env, interval="5m")
    env.run("-q", "scan", "--domain", dom)
    got = schedule(env, dom)
    check(got == "42|300", "capped at the interval when that is longer (5m): %s" % got)
    lab_conf(env)
    env.run("-q", "scan", "--domain", "rollover.test")
    got = schedule(env, "rollover.test.")
    check(got == "0|1", "every server answered: the interval (1s): %s" % got)
    before = schedule(env, dom)
    env.run("-q", "scan", "--dry-run", "--domain", dom)
    check(schedule(env, dom) == before, "a dry run leaves the schedule")


def failures(env):
    dom = "one-down.test."
    rows = lambda: env.sql("SELECT ns_name || ' ' || address || ' ' || failures || ' ' ||"
                           " (first_failed_at <= last_failed_at) || ' ' || coalesce(last_error, '') FROM"
                           " server_failures f JOIN delegations d ON d.id = f.delegation_id"
                           " WHERE d.domain = '%s' ORDER BY 1" % dom).splitlines()
    bad = verdict_server(env, dom, False)
    good = verdict_server(env, dom, True)
    got = rows()
    check(bad[0] == "ns1.silent.net." and len(got) == 1 and
          got[0].startswith("%s %s 5 true " % bad) and "timeout" in got[0],
          "a row for the failing address, counted per scan: %s" % got)
    # An address that failed before answers now: its row goes.
    env.sql("INSERT INTO server_failures (delegation_id, ns_name, address, first_failed_at,"
            " last_failed_at, failures) SELECT id, '%s', '%s', now() - interval '1 day',"
            " now(), 9 FROM delegations WHERE domain = '%s'" % (good[0], good[1], dom))
    env.run("-q", "scan", "--dry-run", "--domain", dom)
    check(len(rows()) == 2, "a dry run leaves the failures as they are")
    env.run("-q", "scan", "--domain", dom)
    got = rows()
    check(len(got) == 1 and got[0].startswith("%s %s 6 " % bad),
          "the answering address's row is gone, the failing one counts on: %s" % got)
    excluded(env, dom, bad)
    # An address no longer asked (the NS name left the delegation) goes too.
    env.sql("UPDATE delegations SET ns = '{%s}' WHERE domain = '%s'" % (good[0], dom))
    env.run("-q", "scan", "--domain", dom)
    check(rows() == [], "the address of a removed NS name is forgotten: %s" % rows())


def excluded(env, dom, bad):
    """policy.unreachable-after: 1s here (the first failure is minutes old
    after backdating); 0 never; 2h not yet."""
    text = "%s %s" % bad
    env.sql("UPDATE server_failures SET first_failed_at = now() - interval '1 hour'")
    p = env.run("-q", "domain", "show", dom)
    check(re.search(r"excluded +%s$" % re.escape(text), p.stdout, re.M),
          "show names the excluded address:\n" + p.stdout)
    p = env.run("-vv", "scan", "--dry-run", "--domain", dom)
    check("%s: %s left out" % (dom, text) in p.stderr, "the claim carries it as excluded")
    for value, want in (("0", False), ("2h", False)):
        lab_conf(env, unreachable=value)
        p = env.run("-vv", "scan", "--dry-run", "--domain", dom)
        s = env.run("-q", "domain", "show", dom)
        check(("left out" in p.stderr) == want and
              (re.search(r"excluded +-$", s.stdout, re.M) is not None) != want,
              "unreachable-after %s: %s" % (value, "excluded" if want else "not excluded"))
    env.sql("UPDATE server_failures SET first_failed_at = now() - interval '3 hours'")
    p = env.run("-vv", "scan", "--dry-run", "--domain", dom)
    check("left out" in p.stderr, "unreachable-after 2h, failing for 3h: excluded")
    p = env.run("-q", "domain", "show", dom, "--json")
    failing = json.loads(p.stdout)["failing"] if p.returncode == 0 else []
    check([f["excluded"] for f in failing] == [True], "show --json marks it: %s" % failing)
    lab_conf(env)


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    import_part(binary, lab, tmp)
    lab_part(binary, lab, tmp)
    finish()


if __name__ == "__main__":
    main()
