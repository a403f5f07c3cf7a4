#!/usr/bin/python3
"""System test of `cdscan import --domains FILE --from dns` (#19) on the lab:
the NS set of each domain from a referral by test.'s own server
(127.53.0.2, RD=0), its DS set through the lab's resolver and validated by
cdscan from the lab's trust anchor; both equal the lab's test.zone.  A
domain test. does not delegate is an error naming its line, nothing
changed.  Usage: portfolio_dns_test.py CDSCAN LAB_DIR"""

import json
import os
import subprocess
import sys
import tempfile

from labtest import Database, check, finish, load_lab, must, psql


def zone_delegations(path):
    """NS and DS of each delegation in the lab's test.zone (absolute owners)."""
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) < 3 or not f[0].endswith(".") or f[0].count(".") < 2:
            continue
        owner = f[0].lower()
        rr = [x for x in f[1:] if not x.isdigit() and x != "IN"]
        if not rr:
            continue
        d = out.setdefault(owner, {"ns": set(), "ds": set()})
        if rr[0] == "NS":
            d["ns"].add(rr[1].lower())
        elif rr[0] == "DS":
            tag, alg, dt = [x for x in f[f.index("DS") + 1:f.index("DS") + 4]]
            digest = "".join(f[f.index("DS") + 4:]).upper()
            d["ds"].add("%s %s %s %s" % (tag, alg, dt, digest))
    return {n: d for n, d in out.items() if d["ns"]}


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    want = zone_delegations(os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
    names = sorted(want)[:40]
    with Database(lab, "pfdns") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "cdscan.yaml")
        with open(conf, "w") as f:
            f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n"
                    "  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                    "scan:\n  timeout: 1s\n  retries: 2\n"
                    % (db, lab["resolver"], lab["trust_anchor"]))
        run = lambda *a: subprocess.run([binary, "-c", conf, *a], capture_output=True,
                                        text=True, timeout=300)
        must(run("db", "init"), "db init")
        csv = os.path.join(tmp, "p.csv")
        with open(csv, "w") as f:
            f.write("".join(n + "\n" for n in names))
        p = run("import", "--domains", csv, "--from", "dns")
        check(p.returncode == 0 and "%d inserted" % len(names) in p.stdout,
              "csv --from dns: %s %s" % (p.stdout.strip(), p.stderr.strip()[-400:]))
        rows = json.loads(psql(db, "SELECT json_agg(json_build_object('d', domain, 'ns', ns,"
                                   " 'ds', ds)) FROM delegations") or "[]")
        got = {r["d"]: r for r in rows}
        bad = [n for n in names if n not in got or got[n]["ns"] != sorted(want[n]["ns"]) or
               got[n]["ds"] != sorted(want[n]["ds"])]
        check(not bad, "NS from the referral and validated DS equal test.zone (%d differ, "
              "e.g. %s: %s vs %s)" % (len(bad), bad[:1], bad and got.get(bad[0]),
                                      bad and want[bad[0]]))
        before = psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text, ','"
                          " ORDER BY domain)) FROM delegations")
        with open(csv, "w") as f:
            f.write("".join(n + "\n" for n in names[:3]) + "not-delegated-here.test\n")
        p = run("import", "--domains", csv, "--from", "dns")
        check(p.returncode in (65, 69) and "%s:4: not-delegated-here.test.: from dns" % csv
              in p.stderr, "a domain the parent does not delegate: exit %d, %s"
              % (p.returncode, p.stderr.strip()[-600:]))
        check(psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text, ','"
                       " ORDER BY domain)) FROM delegations") == before, "nothing changed")
    finish()


if __name__ == "__main__":
    main()
