#!/usr/bin/python3
"""epp-spool on the lab: scan, `cdscan epp send`, and every spooled document
validated by xmllint against the official EPP schemas (read from
CDSCAN_EPP_SCHEMAS, default ../shared/epp-schemas; without them the test
reports itself skipped, exit 77).  Also: a broken document is rejected (the
check can fail), a resend writes nothing, file names and clTRIDs follow the
contract.  Usage: epp_spool_test.py CDSCAN LAB_DIR"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from labtest import Database, check, finish, load_lab, psql

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    schemas = os.environ.get("CDSCAN_EPP_SCHEMAS",
                             os.path.join(HERE, "..", "..", "..", "shared", "epp-schemas"))
    wrapper = os.path.join(schemas, "epp-wrapper.xsd")
    if not os.path.exists(wrapper):
        print("SKIP: no EPP schemas at %s (set CDSCAN_EPP_SCHEMAS)" % schemas)
        sys.exit(77)
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    spool = os.path.join(tmp, "spool")
    os.mkdir(spool)
    with Database(lab, "epp") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "c.yaml")
        open(conf, "w").write("database: \"%s\"\nresolver:\n  addresses: [%s]\n  trust-anchor: %s\nscan:\n"
                              "  timeout: 400ms\n  retries: 0\noutput:\n  spool-dir: %s\n"
                              % (db, lab["resolver"], lab["trust_anchor"], spool))
        run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                        text=True)
        run("db", "init")
        run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
        run("scan")
        pending = {r.split("|")[0]: r.split("|")[1:] for r in
                   psql(db, "SELECT c.id, d.domain, c.cltrid, c.action FROM change_sets c"
                            " JOIN delegations d ON d.id = c.delegation_id"
                            " WHERE c.state = 'pending' AND c.kind = 'ds'").splitlines()}
        check(len(pending) >= 5, "%d pending change sets after the scan" % len(pending))
        p = run("epp", "send")
        files = sorted(os.listdir(spool))
        want = sorted("%s-%s.xml" % (v[0].rstrip("."), k) for k, v in pending.items())
        check(p.returncode == 0 and files == want,
              "one file per change set, named DOMAIN-ID.xml: %s" % (files if files != want else len(files)))
        bad = []
        for f in files:
            x = subprocess.run(["xmllint", "--noout", "--schema", wrapper, os.path.join(spool, f)],
                               capture_output=True, text=True)
            if x.returncode != 0:
                bad.append((f, x.stderr.strip()[:200]))
        check(not bad, "every document validates against epp-wrapper.xsd %s" % bad)
        for k, (domain, cltrid, action) in pending.items():
            text = open(os.path.join(spool, "%s-%s.xml" % (domain.rstrip("."), k))).read()
            ok = ("<clTRID>%s</clTRID>" % cltrid in text and
                  "<domain:name>%s</domain:name>" % domain.rstrip(".") in text and
                  (("<secDNS:all>true</secDNS:all>" in text) == (action == "delete")))
            if not check(ok, "%s: clTRID %s, name, %s" % (domain, cltrid, action)):
                print(text)
        check(psql(db, "SELECT count(*) FROM change_sets WHERE state = 'pending'"
                       " AND kind = 'ds'") == "0" and
              psql(db, "SELECT count(*) FROM change_sets WHERE state = 'sent'") == str(len(pending)),
              "every spooled change set is marked sent")
        check(not glob.glob(os.path.join(spool, ".*")), "no temporary file left in the spool")
        p = run("epp", "send")
        check(p.returncode == 0 and sorted(os.listdir(spool)) == files and
              p.stdout.startswith("0 change sets"), "a second send writes nothing")
        # The schema check can fail: an algorithm number out of range.
        broken = os.path.join(tmp, "broken.xml")
        text = open(os.path.join(spool, files[0])).read()
        open(broken, "w").write(re.sub(r"<secDNS:alg>\d+</secDNS:alg>", "<secDNS:alg>300</secDNS:alg>",
                                       text, count=1) if "<secDNS:alg>" in text
                                else text.replace("<secDNS:all>true", "<secDNS:all>maybe"))
        x = subprocess.run(["xmllint", "--noout", "--schema", wrapper, broken],
                           capture_output=True, text=True)
        check(x.returncode == 3, "a broken document is rejected by the schemas (exit %d)" % x.returncode)

    # The json adapter: one change set per line, then marked sent.
    with Database(lab, "eppjson") as database:
        db = database.conninfo
        lines = os.path.join(tmp, "changes.jsonl")
        conf = os.path.join(tmp, "j.yaml")
        open(conf, "w").write("database: \"%s\"\nresolver:\n  addresses: [%s]\n  trust-anchor: %s\nscan:\n"
                              "  timeout: 400ms\n  retries: 0\noutput:\n  adapter: json\n"
                              "  json-file: %s\n" % (db, lab["resolver"], lab["trust_anchor"], lines))
        run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                        text=True)
        run("db", "init")
        run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
        run("scan")
        want = dict(r.split("|", 1) for r in psql(
            db, "SELECT cltrid, action FROM change_sets WHERE state = 'pending'"
                " AND kind = 'ds'").splitlines())
        p = run("epp", "send")
        got = [json.loads(line) for line in open(lines)]
        check(p.returncode == 0 and {g["cltrid"]: g["action"] for g in got} == want and
              all(set(g) == {"id", "domain", "kind", "action", "add", "rem", "cltrid"} for g in got),
              "json adapter: one line per change set (%d)" % len(got))
        check(psql(db, "SELECT count(*) FROM change_sets WHERE state = 'sent'") == str(len(want)),
              "json adapter: every written change set is marked sent")
        run("epp", "send")
        check(len(open(lines).readlines()) == len(got), "json adapter: a second send writes nothing")
    finish()


if __name__ == "__main__":
    main()
