#!/usr/bin/python3
"""System test of CSYNC processing (RFC 7477) on the lab: `cdscan check` on
every zone whose scenario has an `expect.ns` (with --ns/--ds, with
--parent-zone, over TCP only, and in real-DNS mode where every server
answers), checking the NS side of the verdict: reason, action, proposed NS
set, proposed glue, add/rem, the detail (`expect.ns-detail`, a substring);
then `cdscan scan` of the same zones into
PostgreSQL, checking the NS change sets (ordered operations, clTRID, one
open per domain) and the report.  Every NS-side reason code of the contract
must be produced (csync-approved needs an approval kept in the database:
domain_test.py).  Delegations opted out in the database get opted-out on
both sides and no change set, and get one once opted in again.  Usage:
csync_scenarios.py CDSCAN LAB_DIR"""

import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

from labtest import Database, check, finish, load_lab, merge_config, must, psql

REQUIRED = {
    "no-csync", "csync-unchanged", "ns-updated", "csync-not-signed", "csync-bogus",
    "csync-inconsistent", "csync-soa-serial", "csync-serial-changed", "csync-unknown-flags",
    "csync-unknown-type", "csync-multiple", "csync-not-immediate", "csync-no-glue",
    "csync-empty-ns", "csync-breaks-chain", "csync-bad-host-name",
}
# Delegations the operator opts out of automation (delegations.opted_out,
# sql/0001), scanned in a database of their own: each would get a change
# set otherwise, an NS one (csync-add-signer.test) and a DS one
# (rollover.test).  Both sides of their verdicts must say opted-out.
# `check` has no database: opted-out is a scan's reason only.
OPTED_OUT = {"csync-add-signer.test.": "ns", "rollover.test.": "ds"}


def write_conf(tmp, name, lab, extra="", database=None):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        if database:
            f.write("database: \"%s\"\n" % database)
        f.write(merge_config("resolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                             "scan:\n  timeout: 1s\n  retries: 2\n"
                             % (lab["resolver"], lab["trust_anchor"]), extra))
    return path


def verdict(cdscan, conf, name, extra):
    p = subprocess.run([cdscan, "-c", conf, "check", name, "--json"] + extra,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip())
    return json.loads(p.stdout), None


def judge(v, z):
    """The NS side of verdict v against the scenario's expectations."""
    exp, ns, errors = z["expect"], v["ns"], []
    if ns["reasons"][0] != exp["ns"]:
        errors.append("ns.reasons %s, want %s (%s)" % (ns["reasons"], exp["ns"],
                                                      ns.get("detail", "")))
    if ns["action"] != exp["ns-action"]:
        errors.append("ns.action %s, want %s" % (ns["action"], exp["ns-action"]))
    parent_ns = sorted(n if n.endswith(".") else n + "." for n in z["parent_ns"])
    if ns["current"] != parent_ns:
        errors.append("ns.current %s, the lab delegates to %s" % (ns["current"], parent_ns))
    if "ns-proposed" in exp and ns["proposed"] != sorted(exp["ns-proposed"]):
        errors.append("ns.proposed %s, want %s" % (ns["proposed"], exp["ns-proposed"]))
    cur, prop = set(ns["current"]), set(ns["proposed"])
    if set(ns["add"]) != prop - cur or set(ns["rem"]) != cur - prop:
        errors.append("add/rem %s/%s do not follow from current/proposed" % (ns["add"], ns["rem"]))
    if ns["action"] != "update" and (ns["proposed"] != ns["current"]
                                     or ns["glue"] != ns["current_glue"]):
        errors.append("proposal differs from the delegation without an action")
    if "ns-detail" in exp and exp["ns-detail"] not in ns.get("detail", ""):
        errors.append("ns.detail %r does not say %r" % (ns.get("detail"), exp["ns-detail"]))
    if "glue" in exp and ns["glue"] != {k: sorted(a) for k, a in exp["glue"].items()}:
        errors.append("ns.glue %s, want %s" % (ns["glue"], exp["glue"]))
    for name in ns["glue"]:
        if not name.endswith("." + v["domain"]) and name != v["domain"]:
            errors.append("glue for an out-of-bailiwick name %s" % name)
    return errors


def run_zone(cdscan, lab, name, z, tmp):
    exp = z["expect"]
    conf = write_conf(tmp, name + "check", lab, exp.get("config", ""))
    args = []
    for a in z["ns_args"]:
        args += ["--ns", a]
    for d in z["ds"]:
        args += ["--ds", d]
    v, err = verdict(cdscan, conf, name, args)
    if err:
        return [err], None
    errors = judge(v, z)
    # The same NS verdict whatever the delegation's source and transport.
    parent = os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")
    modes = [("--parent-zone", conf, ["--parent-zone", parent])]
    tcp = conf + ".tcp"
    with open(tcp, "w") as f:
        f.write(open(conf).read().replace("scan:\n", "scan:\n  transport: tcp\n", 1))
    modes.append(("TCP only", tcp, args))
    if not any(lab["servers"].get(n, {}).get("down") for n in z["ns"]):
        modes.append(("real-DNS", conf, []))
    for mode, c, extra in modes:
        w, err = verdict(cdscan, c, name, extra)
        if err:
            errors.append("%s: %s" % (mode, err))
            continue
        for key in ("action", "reasons", "proposed", "glue"):
            if w["ns"][key] != v["ns"][key]:
                errors.append("%s: ns.%s %s, with --ns/--ds %s" % (mode, key, w["ns"][key],
                                                                   v["ns"][key]))
        if "ns-detail" in exp and exp["ns-detail"] not in w["ns"].get("detail", ""):
            errors.append("%s: ns.detail %r does not say %r" % (mode, w["ns"].get("detail"),
                                                                exp["ns-detail"]))
    return errors, v


def scan_part(cdscan, lab, zones, tmp):
    """The NS change sets a real scan writes, and the report."""
    with Database(lab, "csync") as db:
        conf = write_conf(tmp, "scan", lab, database=db.conninfo)
        run = lambda *a: subprocess.run([cdscan, "-q", "-c", conf, *a], capture_output=True,
                                        text=True, timeout=300)
        p = run("db", "init")
        check(p.returncode == 0, "db init: %s" % p.stderr.strip())
        parent = os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")
        p = run("import", "--zone", parent)
        check(p.returncode == 0, "import: %s" % p.stderr.strip())
        plain = {n: z for n, z in zones.items() if "config" not in z["expect"]}
        doms = []
        for n in sorted(plain):
            doms += ["--domain", n]
        report = os.path.join(tmp, "scan.json")
        p = run("scan", *doms, "--report", report, "--format", "json")
        check(p.returncode == 0, "scan of %d CSYNC zones: %s" % (len(plain), p.stderr.strip()))
        rep = json.load(open(report))
        reported = {v["domain"]: v["ns"] for v in rep["domains"]}
        want_updates = sorted(n for n, z in plain.items() if z["expect"]["ns-action"] == "update")
        rows = psql(db.conninfo, "SELECT d.domain || '|' || c.action || '|' || c.cltrid || '|' ||"
                    " c.payload::text FROM change_sets c JOIN delegations d"
                    " ON d.id = c.delegation_id WHERE c.kind = 'ns' ORDER BY d.domain")
        got = {}
        for line in rows.splitlines():
            dom, action, cltrid, payload = line.split("|", 3)
            got[dom] = (action, cltrid, json.loads(payload))
        check(sorted(got) == want_updates,
              "NS change sets for exactly the ns-updated zones: %s" % sorted(got))
        for n in want_updates:
            if n not in got:
                continue
            action, cltrid, payload = got[n]
            exp = plain[n]["expect"]
            ops = [o["op"] for o in payload["ops"]]
            check(action == "update" and cltrid.startswith("cdscan-ns-")
                  and payload["proposed"] == sorted(exp["ns-proposed"])
                  and ops == exp["ops"],
                  "%s: change set %s ops %s proposed %s" % (n, cltrid, ops, payload["proposed"]))
            check(reported.get(n, {}).get("action") == "update",
                  "%s: in the report as an NS update" % n)
            if "glue" in exp:
                want = {k: sorted(a) for k, a in exp["glue"].items()}
                check(payload.get("glue") == want,
                      "%s: the change set's glue %s" % (n, payload.get("glue")))
        for n, z in plain.items():
            if "ns-detail" in z["expect"] and z["expect"]["ns-action"] != "none":
                check(z["expect"]["ns-detail"] in reported.get(n, {}).get("detail", ""),
                      "%s: the report's detail says %r" % (n, z["expect"]["ns-detail"]))
        for n, z in plain.items():
            if z["expect"]["ns-action"] == "reject":
                check(reported.get(n, {}).get("reasons", [None])[0] == z["expect"]["ns"],
                      "%s: in the report as rejected (%s)" % (n, z["expect"]["ns"]))
        check(rep["summary"]["ns"].get("update") == len(want_updates),
              "report summary: %s NS updates" % rep["summary"]["ns"].get("update"))
        # A rescan while the change sets are open adds none.
        before = psql(db.conninfo, "SELECT count(*) FROM change_sets WHERE kind = 'ns'")
        p = run("scan", *doms)
        after = psql(db.conninfo, "SELECT count(*) FROM change_sets WHERE kind = 'ns'")
        check(p.returncode == 0 and before == after,
              "rescan: still %s NS change sets (one open per domain)" % after)


def opted_out(cdscan, lab, tmp):
    """opted_out set on delegations that would change: both sides opted-out,
    in the stored verdict and the report, and no change set; opted in
    again, the change sets come.  A database of its own: no earlier scan's
    change sets."""
    with Database(lab, "optout") as database:
        db = database.conninfo
        conf = write_conf(tmp, "optout", lab, database=db)
        run = lambda *a: subprocess.run([cdscan, "-q", "-c", conf, *a], capture_output=True,
                                        text=True, timeout=300)
        must(run("db", "init"), "db init")
        must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2",
                                                  "test.zone")), "import")
        opted_out_scan(run, db, tmp)


def opted_out_scan(run, db, tmp):
    doms = sorted(OPTED_OUT)
    names = ", ".join("'%s'" % d for d in doms)
    psql(db, "UPDATE delegations SET opted_out = true, next_scan_at = now()"
             " WHERE domain IN (%s)" % names)
    check(psql(db, "SELECT count(*) FROM delegations WHERE opted_out") == str(len(doms)),
          "opted out in the database: %s" % ", ".join(doms))
    report = os.path.join(tmp, "opted-out.json")
    args = sum((["--domain", d] for d in doms), [])
    p = run("scan", *args, "--report", report, "--format", "json")
    check(p.returncode == 0, "scan of the opted-out delegations: %s" % p.stderr.strip())
    rep = json.load(open(report)) if os.path.exists(report) else {}
    for d in doms:
        out = psql(db, "SELECT verdict FROM scan_results s JOIN delegations d"
                       " ON d.id = s.delegation_id WHERE d.domain = '%s'"
                       " ORDER BY s.id DESC LIMIT 1" % d)
        v = json.loads(out) if out else {}
        sides = [(v.get(k, {}).get("action"), v.get(k, {}).get("reasons")) for k in ("ds", "ns")]
        check(sides == [("none", ["opted-out"])] * 2,
              "%s opted out: DS and NS none (opted-out): %s" % (d, sides))
    # The report lists domains with an action or a rejection only; its
    # summary counts every reason, once per side.
    summary = rep.get("summary", {})
    check(summary.get("reasons", {}).get("opted-out") == 2 * len(doms) and
          summary.get("ds") == {"none": len(doms)} and summary.get("ns") == {"none": len(doms)}
          and not rep.get("domains"),
          "the report counts opted-out on both sides, no action: %s" % summary)
    n = psql(db, "SELECT count(*) FROM change_sets c JOIN delegations d"
                 " ON d.id = c.delegation_id WHERE d.domain IN (%s)" % names)
    check(n == "0", "no change set for an opted-out delegation (%s)" % n)
    # The flag made the difference: opted in again, each gets its change set.
    psql(db, "UPDATE delegations SET opted_out = false, next_scan_at = now()"
             " WHERE domain IN (%s)" % names)
    p = run("scan", *args)
    got = psql(db, "SELECT d.domain || ' ' || c.kind FROM change_sets c JOIN delegations d"
                   " ON d.id = c.delegation_id WHERE d.domain IN (%s) ORDER BY 1" % names)
    want = "\n".join("%s %s" % (d, OPTED_OUT[d]) for d in doms)
    check(p.returncode == 0 and got == want,
          "opted in again: %s" % got.replace("\n", ", "))


def main():
    cdscan, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    zones = {n: z for n, z in sorted(lab["zones"].items()) if "ns" in z.get("expect", {})}
    seen = set()
    with tempfile.TemporaryDirectory() as tmp:
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            futs = {n: ex.submit(run_zone, cdscan, lab, n, z, tmp) for n, z in zones.items()}
            for n, fut in futs.items():
                errors, v = fut.result()
                if v:
                    seen.update(v["ns"]["reasons"])
                check(not errors, "%-30s %s%s" % (n, v["ns"]["reasons"][0] if v else "-",
                                                   "".join("\n    " + e for e in errors)))
        # Every other lab zone publishes no CSYNC.
        others = [n for n, z in lab["zones"].items() if n not in zones and not z["provider"]
                  and "ds" in z.get("expect", {})]
        if others:
            conf = write_conf(tmp, "plain", lab)
            z = lab["zones"][others[0]]
            args = sum((["--ns", a] for a in z["ns_args"]), [])
            v, err = verdict(cdscan, conf, others[0], args)
            if v:
                seen.update(v["ns"]["reasons"])
        missing = REQUIRED - seen
        check(not missing, "every NS-side reason code produced (missing: %s)"
              % (", ".join(sorted(missing)) or "none"))
        scan_part(cdscan, lab, zones, tmp)
        opted_out(cdscan, lab, tmp)
    finish()


if __name__ == "__main__":
    main()
