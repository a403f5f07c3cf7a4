#!/usr/bin/python3
"""Registry profiles on the lab (a registrar's configuration): a registry
that scans CDS itself is skipped and the report says so; a delegation under
no profile is decided and reported but gets no change set; a profile's
policy override decides its delegations.  Usage: registries_test.py CDSCAN
LAB_DIR"""

import json
import os
import subprocess
import sys
import tempfile

from labtest import Database, check, finish, load_lab, must, psql


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    parent = os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")
    ndeleg = sum(1 for z in lab["zones"].values() if not z["provider"])

    def config(db, profiles):
        path = os.path.join(tmp, "c%d.yaml" % len(os.listdir(tmp)))
        with open(path, "w") as f:
            f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                    "scan:\n  timeout: 1s\n  retries: 2\nregistries:\n%s"
                    % (db, lab["resolver"], lab["trust_anchor"], profiles))
        return path

    def run(conf, *args):
        return subprocess.run([binary, "-q", "-c", conf, *args], capture_output=True,
                              text=True, timeout=300)

    with Database(lab, "reg_self") as database:
        db = database.conninfo
        conf = config(db, "  - name: nic-test\n    tlds: [test]\n    scans-cds-itself: true\n")
        must(run(conf, "db", "init"), "db init")
        must(run(conf, "import", "--zone", parent), "import")
        report = os.path.join(tmp, "self.json")
        p = run(conf, "scan", "--report", report, "--format", "json")
        rep = json.load(open(report)) if os.path.exists(report) else {}
        check(p.returncode == 0 and rep.get("registries", {}).get("skipped") ==
              {"nic-test": ndeleg} and rep["summary"]["domains"] == 0,
              "a registry that scans CDS itself: all %d skipped, said in the report: %s"
              % (ndeleg, rep.get("registries")))
        check(psql(db, "SELECT count(*) FROM scan_results") == "0" and
              psql(db, "SELECT count(*) FROM change_sets") == "0",
              "nothing asked, nothing recorded for them")
        p = run(conf, "scan")
        check(p.returncode == 0 and "scanned 0 " in p.stdout and
              psql(db, "SELECT count(*) FROM delegations WHERE next_scan_at <= now()") == "0",
              "skipped delegations are not due again at once")
        text = os.path.join(tmp, "self.txt")
        must(run(conf, "scan", "--domain", "rollover.test", "--report", text),
             "scan --report (text)")
        check("registry nic-test scans CDS itself" in open(text).read(),
              "the text report names the registry")

    with Database(lab, "reg_none") as database:
        db = database.conninfo
        conf = config(db, "  - name: elsewhere\n    tlds: [example]\n")
        must(run(conf, "db", "init"), "db init")
        must(run(conf, "import", "--zone", parent), "import")
        report = os.path.join(tmp, "none.json")
        p = run(conf, "scan", "--domain", "rollover.test", "--domain", "unchanged.test",
                "--report", report, "--format", "json")
        rep = json.load(open(report)) if os.path.exists(report) else {}
        rows = {v["domain"]: v for v in rep.get("domains", [])}
        check(p.returncode == 0 and rows.get("rollover.test.", {}).get("ds", {}).get("action")
              == "update", "a delegation under no profile is still decided (ds-updated)")
        check(psql(db, "SELECT count(*) FROM change_sets") == "0",
              "but gets no change set")
        check(rep.get("registries", {}).get("without_profile") == ["rollover.test."],
              "the report lists it as without a profile: %s" % rep.get("registries"))

    # A profile's policy override: allow-delete false for its delegations.
    conf = config("dbname=unused", "  - name: strict\n    tlds: [test]\n"
                  "    policy:\n      allow-delete: false\n")
    z = lab["zones"]["delete.test."]
    args = ["check", "delete.test", "--json"]
    for a in z["ns_args"]:
        args += ["--ns", a]
    for d in z["ds"]:
        args += ["--ds", d]
    p = run(conf, *args)
    v = json.loads(p.stdout)["ds"] if p.returncode == 0 else {}
    check(v.get("reasons") == ["delete-not-allowed"],
          "the profile's allow-delete: false decides delete.test: %s" % v.get("reasons"))
    conf = config("dbname=unused", "  - name: plain\n    tlds: [test]\n")
    p = run(conf, *args)
    v = json.loads(p.stdout)["ds"] if p.returncode == 0 else {}
    check(v.get("reasons") == ["delete"], "without the override: %s" % v.get("reasons"))
    finish()


if __name__ == "__main__":
    main()
