#!/usr/bin/python3
"""epp-spool on the lab: scan, `cdscan epp send`, and every spooled document
validated by xmllint against the official EPP schemas (read from
CDSCAN_EPP_SCHEMAS, default ../shared/epp-schemas; without them the test
fails where they are required, in CI among others, and elsewhere reports
itself skipped, exit 77: labtest.epp_schemas).  Also: a broken document is rejected (the
check can fail), a resend writes nothing, file names and clTRIDs follow the
contract, a write that fails part-way keeps what was spooled before it.
Usage: epp_spool_test.py CDSCAN LAB_DIR"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from labtest import Database, check, epp_schemas, finish, load_lab, must, psql

def partial_failure(binary, lab, tmp):
    """A write that fails part-way through a batch (the fault campaign's
    full disk, here made certain by a directory where one change set's
    temporary file goes): exit 70 naming the file; the change sets spooled
    before it stay sent and are not spooled again once the spool's reader
    has taken them; the failed one and those after it are spooled by the
    next run."""
    with Database(lab, "eppfail") as database:
        db = database.conninfo
        spool = os.path.join(tmp, "fail-spool")
        os.mkdir(spool)
        run = prepare(binary, lab, db, os.path.join(tmp, "f.yaml"),
                      "output:\n  spool-dir: %s\n" % spool)
        ids = [r.split("|") for r in psql(
            db, "SELECT c.id, d.domain FROM change_sets c JOIN delegations d ON"
                " d.id = c.delegation_id WHERE c.kind = 'ds' ORDER BY c.id").splitlines()]
        cut, domain = ids[len(ids) // 2]
        planted = os.path.join(spool, ".%s-%s.xml.tmp" % (domain.rstrip("."), cut))
        os.mkdir(planted)
        p = run("epp", "send")
        state = dict(r.split("|") for r in psql(db, "SELECT id, state FROM change_sets")
                     .splitlines())
        before = {k for k in state if int(k) < int(cut)}
        check(p.returncode == 70 and "/%s-%s.xml: " % (domain.rstrip("."), cut) in p.stderr,
              "a spool write that fails: exit 70, the file named: %d %s"
              % (p.returncode, p.stderr.strip()[-200:]))
        check(before and all(state[k] == "sent" for k in before) and
              all(state[k] == "pending" for k in state if k not in before),
              "what was spooled before the failure stays sent (%d), the rest pending (%d)"
              % (len(before), len(state) - len(before)))
        # The registry's reader takes what is there; the operator mends the
        # spool and sends again.
        taken = [f for f in os.listdir(spool) if not f.startswith(".")]
        for f in taken:
            os.unlink(os.path.join(spool, f))
        os.rmdir(planted)
        p = run("epp", "send")
        again = sorted(f for f in os.listdir(spool) if not f.startswith("."))
        resent = sorted(set(again) & set(taken))
        check(p.returncode == 0 and again and not resent and
              psql(db, "SELECT count(*) FROM change_sets WHERE state <> 'sent'") == "0",
              "the next send spools the rest (%d files), nothing taken before again %s"
              % (len(again), resent))



def prepare(binary, lab, db, conf, extra, scan=True):
    """Write a config to conf: the database db, the lab's resolver and trust
    anchor, scan timeouts, then extra (YAML); db init, import of the lab's
    test. zone and (unless scan is False) a scan, each checked.  Returns
    run(*args): cdscan with that config."""
    with open(conf, "w") as f:
        f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n"
                "  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                "scan:\n  timeout: 1s\n  retries: 2\n%s"
                % (db, lab["resolver"], lab["trust_anchor"], extra))
    run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                    text=True)
    must(run("db", "init"), "db init")
    must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")),
         "import")
    if scan:
        must(run("scan"), "scan")
    return run


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    schemas, present, required = epp_schemas()
    wrapper = os.path.join(schemas, "epp-wrapper.xsd")
    if not present and required:
        check(False, "the EPP schemas are required here (CI or CDSCAN_REQUIRE_EPP_SCHEMAS)"
              " but %s has no epp-wrapper.xsd: nothing could be validated (put them there"
              " or point CDSCAN_EPP_SCHEMAS at them)" % schemas)
        finish()
    if not present:
        print("SKIP: no EPP schemas at %s (set CDSCAN_EPP_SCHEMAS)" % schemas)
        sys.exit(77)
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    spool = os.path.join(tmp, "spool")
    os.mkdir(spool)
    with Database(lab, "epp") as database:
        db = database.conninfo
        run = prepare(binary, lab, db, os.path.join(tmp, "c.yaml"),
                      "output:\n  spool-dir: %s\n" % spool)
        pending = {}
        for r in psql(db, "SELECT c.id, d.domain, c.cltrid, c.action, c.kind, c.payload::text"
                          " FROM change_sets c JOIN delegations d ON d.id = c.delegation_id"
                          " WHERE c.state = 'pending'").splitlines():
            k, domain, cltrid, action, kind, payload = r.split("|", 5)
            pending[k] = (domain, cltrid, action, kind, json.loads(payload))
        nds = sum(1 for v in pending.values() if v[3] == "ds")
        nns = sum(1 for v in pending.values() if v[3] == "ns")
        check(nds >= 5 and nns >= 3, "%d DS and %d NS change sets pending after the scan"
              % (nds, nns))
        # Another account sharing the spool directory plants links where
        # the temporary files will be made (#16 finding 5): the write must
        # not follow them into a file of its choice.
        victim = os.path.join(tmp, "victim")
        open(victim, "w").write("not the spool's\n")
        for k, (domain, _, _, _, _) in pending.items():
            os.symlink(victim, os.path.join(spool, ".%s-%s.xml.tmp" % (domain.rstrip("."), k)))
        p = run("epp", "send")
        check(open(victim).read() == "not the spool's\n",
              "a link planted at a temporary file's name is not written through")
        files = sorted(os.listdir(spool))
        # Expected files: DOMAIN-ID.xml for the change set's own command;
        # for NS change sets with host objects, host:create/update before it
        # (DOMAIN-ID.before-K.xml) and host:delete after it (after-K).
        want, steps = [], {}
        for k, (domain, cltrid, action, kind, payload) in pending.items():
            base = "%s-%s" % (domain.rstrip("."), k)
            plan = []
            if kind == "ns":
                ops = payload["ops"]
                pre = [o for o in ops if o["op"] in ("host-create", "host-update")]
                post = [o for o in ops if o["op"] == "host-delete"]
                dom = [o for o in ops if o["op"] == "domain-update"]
                if not dom and pre:
                    dom, pre = [pre[-1]], pre[:-1]
                plan += [("before-%d" % (i + 1), "%s-b%d" % (cltrid, i + 1), o)
                         for i, o in enumerate(pre)]
                plan += [("", cltrid, dom[0])]
                plan += [("after-%d" % (i + 1), "%s-a%d" % (cltrid, i + 1), o)
                         for i, o in enumerate(post)]
            else:
                plan = [("", cltrid, None)]
            steps[k] = [(base + ("." + sfx if sfx else "") + ".xml", trid, o) for sfx, trid, o in plan]
            want += [f for f, _, _ in steps[k]]
        want.sort()
        check(p.returncode == 0 and files == want,
              "one file per command, the change set's named DOMAIN-ID.xml: %s"
              % (files if files != want else len(files)))
        bad = []
        for f in files:
            x = subprocess.run(["xmllint", "--noout", "--schema", wrapper, os.path.join(spool, f)],
                               capture_output=True, text=True)
            if x.returncode != 0:
                bad.append((f, x.stderr.strip()[:200]))
        check(not bad, "every document validates against epp-wrapper.xsd %s" % bad)
        verbs = {"host-create": "<host:create", "host-update": "<host:update",
                 "host-delete": "<host:delete", "domain-update": "<domain:update"}
        for k, (domain, cltrid, action, kind, payload) in pending.items():
            for f, trid, op in steps[k]:
                path = os.path.join(spool, f)
                text = open(path).read() if os.path.exists(path) else ""
                ok = "<clTRID>%s</clTRID>" % trid in text
                if kind == "ds":
                    ok = ok and ("<domain:name>%s</domain:name>" % domain.rstrip(".") in text and
                                 (("<secDNS:all>true</secDNS:all>" in text) == (action == "delete")))
                    what = action
                else:
                    ok = ok and verbs[op["op"]] in text
                    if op["op"] == "domain-update":
                        ok = ok and all("<domain:hostObj>%s</domain:hostObj>" % n.rstrip(".")
                                        in text for n in op["add"] + op["rem"])
                    elif op["op"] == "host-create":
                        ok = ok and all(">%s</host:addr>" % a in text for a in op["addrs"])
                    what = op["op"]
                if not check(ok, "%s: %s, clTRID %s, %s" % (domain, f, trid, what)):
                    print(text)
        check(psql(db, "SELECT count(*) FROM change_sets WHERE state = 'pending'") == "0" and
              psql(db, "SELECT count(*) FROM change_sets WHERE state = 'sent'") == str(len(pending)),
              "every spooled change set is marked sent")
        check(not glob.glob(os.path.join(spool, ".*")), "no temporary file left in the spool")
        p = run("epp", "send")
        check(p.returncode == 0 and sorted(os.listdir(spool)) == files and
              p.stdout.startswith("0 change sets"), "a second send writes nothing")
        # The schema check can fail: an algorithm number out of range.
        broken = os.path.join(tmp, "broken.xml")
        text = open(os.path.join(spool, [f for f in files if "secDNS" in
                                         open(os.path.join(spool, f)).read()][0])).read()
        open(broken, "w").write(re.sub(r"<secDNS:alg>\d+</secDNS:alg>", "<secDNS:alg>300</secDNS:alg>",
                                       text, count=1) if "<secDNS:alg>" in text
                                else text.replace("<secDNS:all>true", "<secDNS:all>maybe"))
        x = subprocess.run(["xmllint", "--noout", "--schema", wrapper, broken],
                           capture_output=True, text=True)
        check(x.returncode == 3, "a broken document is rejected by the schemas (exit %d)" % x.returncode)

    # A registry profile taking keyData and hostAttr: every document still
    # validates; NS changes are one domain update each; a DS change whose
    # child publishes no CDNSKEY cannot be keyData and fails alone.
    with Database(lab, "eppprofile") as database:
        db = database.conninfo
        pspool = os.path.join(tmp, "profile-spool")
        os.mkdir(pspool)
        run = prepare(binary, lab, db, os.path.join(tmp, "p.yaml"),
            "output:\n  spool-dir: %s\n"
            "registries:\n  - name: lab\n    tlds: [test]\n    ds-interface: keyData\n"
            "    host-model: hostAttr\n    spool-dir: %s\n"
            % (spool, pspool))
        rows = [r.split("|", 4) for r in psql(
            db, "SELECT c.id, d.domain, c.kind, c.action, c.payload::text FROM change_sets c"
                " JOIN delegations d ON d.id = c.delegation_id").splitlines()]
        p = run("epp", "send")
        files = sorted(os.listdir(pspool))
        keyless = {k for k, _, kind, action, pl in rows
                   if kind == "ds" and action != "delete" and not json.loads(pl).get("keys")}
        want = sorted("%s-%s.xml" % (d.rstrip("."), k) for k, d, _, _, _ in rows
                      if k not in keyless)
        check(p.returncode == 0 and files == want,
              "keyData/hostAttr profile: one file per change set in the profile's spool-dir "
              "(%d), none for the %d without CDNSKEY" % (len(files), len(keyless)))
        bad = [f for f in files if subprocess.run(
            ["xmllint", "--noout", "--schema", wrapper, os.path.join(pspool, f)],
            capture_output=True).returncode != 0]
        check(not bad, "keyData/hostAttr documents validate against epp-wrapper.xsd %s" % bad)
        texts = {f: open(os.path.join(pspool, f)).read() for f in files}
        ds_files = [t for t in texts.values() if "secDNS" in t]
        check(ds_files and all("<secDNS:keyData>" in t and "<secDNS:dsData>" not in t
                               for t in ds_files if "<secDNS:all>" not in t or "<secDNS:add>" in t),
              "DS changes are sent as keyData")
        ns_files = [t for t in texts.values() if "<domain:ns>" in t]
        check(ns_files and all("<domain:hostAttr>" in t and "hostObj" not in t for t in ns_files)
              and not any("<host:" in t for t in texts.values()),
              "NS changes as hostAttr, no host object commands (%d)" % len(ns_files))
        glue = [t for t in ns_files if "<domain:hostAddr" in t]
        check(glue, "in-bailiwick names carry their addresses (%d)" % len(glue))
        failed = psql(db, "SELECT count(*) FROM change_sets WHERE state = 'failed'"
                          " AND last_error LIKE '%keyData%CDNSKEY%'")
        check(failed == str(len(keyless)) and len(keyless) > 0,
              "change sets without CDNSKEY fail with the reason: %s of %d" % (failed, len(keyless)))

    # The json adapter: one change set per line, then marked sent.
    with Database(lab, "eppjson") as database:
        db = database.conninfo
        lines = os.path.join(tmp, "changes.jsonl")
        run = prepare(binary, lab, db, os.path.join(tmp, "j.yaml"),
                      "output:\n  adapter: json\n  json-file: %s\n" % lines)
        want = dict(r.split("|", 1) for r in psql(
            db, "SELECT cltrid, action FROM change_sets WHERE state = 'pending'").splitlines())
        p = run("epp", "send")
        got = [json.loads(line) for line in open(lines)]
        check(p.returncode == 0 and {g["cltrid"]: g["action"] for g in got} == want and
              all(set(g) == {"id", "domain", "kind", "action", "add", "rem", "cltrid", "payload"}
                  for g in got) and
              all("ops" in g["payload"] for g in got if g["kind"] == "ns"),
              "json adapter: one line per change set, NS ones with their operations (%d)"
              % len(got))
        check(psql(db, "SELECT count(*) FROM change_sets WHERE state = 'sent'") == str(len(want)),
              "json adapter: every written change set is marked sent")
        p = run("epp", "send")
        check(p.returncode == 0 and len(open(lines).readlines()) == len(got),
              "json adapter: a second send writes nothing")

    partial_failure(binary, lab, tmp)

    # scan --spool-dir hands its change sets over at once (no epp send).
    with Database(lab, "eppdirect") as database:
        db = database.conninfo
        direct = os.path.join(tmp, "direct")
        os.mkdir(direct)
        run = prepare(binary, lab, db, os.path.join(tmp, "d.yaml"), "", scan=False)
        p = run("scan", "--spool-dir", direct)
        n = psql(db, "SELECT count(*) FROM change_sets WHERE state = 'sent'")
        check(p.returncode == 0 and int(n) > 0 and
              psql(db, "SELECT count(*) FROM change_sets WHERE state = 'pending'") == "0" and
              len([f for f in os.listdir(direct) if not f.startswith(".")]) >= int(n),
              "scan --spool-dir spools its change sets directly (%s sent)" % n)
    finish()


if __name__ == "__main__":
    main()
