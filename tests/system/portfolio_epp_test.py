#!/usr/bin/python3
"""System test of `cdscan import --domains FILE --from epp` (#19) against the
lab's EPP server (tests/lab/epp_server.py, its registry state loaded from the
lab's test.zone): a CSV portfolio of every domain the registry holds, NS and
DS read with <domain:info> in a few sessions at once and stored as the
registry has them, with its statuses (clientUpdateProhibited); a JSON line that gives its NS takes only the DS from the
registry; a domain the registry does not hold is exit 65 naming file:line,
nothing changed; the registry out of reach is exit 69.  A scan honours the
statuses (registries[].lock-statuses): a domain whose child asks for a DS
change is `suspended` while the registry reports clientUpdateProhibited,
with no change set, and gets its change set once an import no longer reads
the lock.
Usage: portfolio_epp_test.py CDSCAN LAB_DIR"""

import json
import os
import subprocess
import sys
import tempfile

from epp_tls_test import CA, EppServer, epp_config
from labtest import Database, check, epp_schemas, finish, load_lab, must, psql


def table(db):
    rows = psql(db, "SELECT json_agg(json_build_object('d', domain, 'ns', ns, 'ds', ds,"
                    " 'registry', registry)) FROM delegations WHERE removed_at IS NULL")
    return {r["d"]: r for r in json.loads(rows or "[]")}


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    schemas, have_schemas, _ = epp_schemas()
    ca = CA(os.path.join(tmp, "ca"), "lab-ca")
    cert = ca.leaf("server", "DNS:localhost,IP:127.0.0.1")
    with EppServer(tmp, "epp", cert, lab, schemas if have_schemas else None) as server, \
            Database(lab, "pfepp") as database:
        db = database.conninfo
        conf = epp_config(tmp, "pf", lab, db, "127.0.0.1", server.port, ca.pem,
                          "      info-sessions: 3\n")
        run = lambda *a: subprocess.run([binary, "-c", conf, *a], capture_output=True,
                                        text=True, timeout=300)
        must(run("db", "init"), "db init")
        state = json.load(open(os.path.join(server.dir, "state.json")))["domains"]
        held = sorted(n for n, d in state.items() if "." in n and d.get("ns"))
        locked = "rollover" + ".test" if "rollover.test" in held else held[0]
        with open(os.path.join(server.dir, "status.json"), "w") as f:
            json.dump({locked: ["clientUpdateProhibited", "clientTransferProhibited"]}, f)
        csv = os.path.join(tmp, "portfolio.csv")
        with open(csv, "w") as f:
            f.write("domain,registry\n" + "".join("%s,lab\n" % n.upper() for n in held))
        p = run("import", "--domains", csv, "--from", "epp")
        check(p.returncode == 0 and "%d inserted" % len(held) in p.stdout,
              "csv --from epp: %d domains: %s %s" % (len(held), p.stdout.strip(),
                                                     p.stderr.strip()[-300:]))
        got = table(db)
        bad = [n for n in held if got.get(n + ".", {}).get("ns") !=
               sorted(x + "." for x in state[n]["ns"]) or
               got.get(n + ".", {}).get("ds") != sorted(state[n]["ds"]) or
               got.get(n + ".", {}).get("registry") != "lab"]
        check(not bad, "every domain's NS and DS as the registry holds them (%d differ, e.g. "
              "%s: %s vs %s)" % (len(bad), bad[:1], bad and got.get(bad[0] + "."),
                                 bad and state[bad[0]]))
        st = psql(db, "SELECT registry_status FROM delegations WHERE domain = '%s.'" % locked)
        check(st == "{clientTransferProhibited,clientUpdateProhibited}" or
              st == "{clientUpdateProhibited,clientTransferProhibited}",
              "the registry's statuses are kept (registry_status): %s" % st)
        check(psql(db, "SELECT count(*) FROM delegations WHERE registry_status = '{}'")
              == str(len(held) - 1), "a domain without statuses gets an empty list")
        infos = [c for c in server.received() if c["command"] == "info"]
        logins = [c for c in server.received() if c["command"] == "login"]
        check(len(infos) == len(held) and 1 <= len(logins) <= 3 and
              all(c["valid"] is not False for c in infos),
              "one domain:info per domain, in at most epp.info-sessions (3) sessions: %d "
              "infos, %d logins" % (len(infos), len(logins)))
        check(locked == "rollover.test", "the lab's rollover.test is held by the registry")
        verdict = lambda: json.loads(psql(
            db, "SELECT s.verdict FROM scan_results s JOIN delegations d ON"
                " d.id = s.delegation_id WHERE d.domain = 'rollover.test.'"
                " ORDER BY s.id DESC LIMIT 1") or "{}")
        changes = lambda: psql(db, "SELECT count(*) FROM change_sets c JOIN delegations d ON"
                                   " d.id = c.delegation_id WHERE d.domain = 'rollover.test.'")
        p = run("scan", "--domain", "rollover.test", "--output", "json")
        v = verdict()
        check(p.returncode == 0 and v.get("ds", {}).get("reasons") == ["suspended"] and
              "clientUpdateProhibited" in v["ds"].get("detail", "") and
              "clientTransferProhibited" not in v["ds"].get("detail", "") and
              v.get("ns", {}).get("reasons") == ["suspended"] and changes() == "0",
              "locked at the registry: suspended, naming the lock, no change set: %s %s %s"
              % (v.get("ds"), changes(), p.stderr.strip()[-300:]))
        with open(os.path.join(server.dir, "status.json"), "w") as f:
            json.dump({locked: ["clientTransferProhibited"]}, f)
        must(run("import", "--domains", csv, "--from", "epp"), "import after the lock is lifted")
        p = run("scan", "--domain", "rollover.test", "--output", "json")
        v = verdict()
        check(p.returncode == 0 and v.get("ds", {}).get("action") == "update" and
              changes() == "1",
              "the lock lifted by the registry, read by the next import: the change set is made"
              " (%s, %s change sets)" % (v.get("ds", {}).get("reasons"), changes()))
        signed = next(n for n in held if state[n]["ds"])
        before = psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text, ','"
                          " ORDER BY domain)) FROM delegations")
        jl = os.path.join(tmp, "p.jsonl")
        other = next(n for n in held if n != signed)
        with open(jl, "w") as f:
            f.write(json.dumps({"domain": other, "ns": ["ns1.x.example"], "ds": []}) + "\n")
            f.write(json.dumps({"domain": signed, "ns": ["ns9.elsewhere.example"]}) + "\n")
        asked = len([c for c in server.received() if c["command"] == "info"])
        p = run("import", "--domains", jl, "--format", "jsonl", "--from", "epp")
        asked = len([c for c in server.received() if c["command"] == "info"]) - asked
        check(asked == 1, "only the line that lacks something is asked for, once: %d infos"
              % asked)
        got = table(db)
        check(p.returncode == 0 and got[signed + "."]["ns"] == ["ns9.elsewhere.example."] and
              got[signed + "."]["ds"] == sorted(state[signed]["ds"]),
              "a line that gives NS takes only the DS from the registry: %s %s"
              % (p.stdout.strip(), p.stderr.strip()[-300:]))
        before = psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text ||"
                          " (removed_at IS NULL)::text, ',' ORDER BY domain)) FROM delegations")
        with open(csv, "w") as f:
            f.write("".join("%s\n" % n for n in held[:5]) + "nosuch-domain.test\n" +
                    "".join("%s\n" % n for n in held[5:]))
        p = run("import", "--domains", csv, "--from", "epp")
        check(p.returncode == 65 and "%s:6: nosuch-domain.test.: domain:info" % csv in p.stderr
              and "2303" in p.stderr,
              "a domain the registry does not hold: exit %d, %s" % (p.returncode,
                                                                    p.stderr.strip()[-300:]))
        after = psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text ||"
                         " (removed_at IS NULL)::text, ',' ORDER BY domain)) FROM delegations")
        check(before == after, "the table is unchanged")
        server.stop()
        p = run("import", "--domains", csv, "--from", "epp")
        check(p.returncode == 69, "the registry out of reach: exit %d, %s"
              % (p.returncode, p.stderr.strip()[-300:]))
    finish()


if __name__ == "__main__":
    main()
