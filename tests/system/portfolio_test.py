#!/usr/bin/python3
"""System test of `cdscan import --domains` (a registrar's portfolio, #19)
on the lab's PostgreSQL: a JSON-lines portfolio over two registry profiles
(names in any case, without the trailing dot), a re-import from standard
input with domains gone, DS sets changed and removed (the zone import's
bookkeeping: baselines, events, suspensions), the removal scope (only the
registries the file covers, never a zone import's delegations), and bad
input of every kind: exit 65 naming file:line, the table unchanged.
Usage: portfolio_test.py CDSCAN LAB_DIR"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

from labtest import Database, check, finish, load_lab, must, psql

N = 2000


def digest(*seed):
    return hashlib.sha256(repr(seed).encode()).hexdigest()


def portfolio(removed=(), ds_changed=(), ds_removed=(), only=None):
    """name -> line object; even i under test. (nic-test, named in the line
    in half of them), odd i under example. (nic-example, from its TLD)."""
    lines = {}
    for i in range(N):
        tld = "test" if i % 2 == 0 else "example"
        if i in removed or (only and tld != only):
            continue
        name = "P%d.Portfolio.%s" % (i, tld)            # any case, no final dot
        o = {"domain": name,
             "ns": ["NS2.provider-b.net", "ns1.provider-a.net.", "ns1.provider-a.net"]}
        if i % 4 == 0:
            o["registry"] = "nic-test"
        ds = []
        if i % 3 == 0:
            ds = ["%d 13 2 %s" % (i, digest(i))]
        if i in ds_changed:
            ds = ["%d 13 2 %s" % (i + 1, digest(i, 2))]
        if i in ds_removed:
            ds = []
        o["ds"] = ds
        lines[name.lower() + "."] = o
    return lines


def write(path, lines, extra=()):
    with open(path, "w") as f:
        for o in lines.values():
            f.write(json.dumps(o) + "\n")
        for x in extra:
            f.write(x + "\n")


def counts(out):
    m = re.search(r"(\d+) delegations: (\d+) inserted, (\d+) changed, (\d+) unchanged, "
                  r"(\d+) removed, (\d+) suspended", out)
    return tuple(int(x) for x in m.groups()) if m else None


def table(db):
    rows = psql(db, "SELECT json_agg(json_build_object('d', domain, 'ns', ns, 'ds', ds,"
                    " 'zone', zone, 'registry', registry, 'source', source,"
                    " 'removed', removed_at IS NOT NULL, 'suspended', suspended_at IS NOT NULL))"
                    " FROM delegations")
    return {r["d"]: r for r in json.loads(rows or "[]")}


def fingerprint(db):
    return psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text || zone ||"
                    " coalesce(registry, '-') || (removed_at IS NULL)::text, ',' ORDER BY domain))"
                    " FROM delegations")


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    with Database(lab, "portfolio") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "cdscan.yaml")
        with open(conf, "w") as f:
            f.write("database: \"%s\"\n"
                    "registries:\n"
                    "  - name: nic-test\n    tlds: [test]\n"
                    "  - name: nic-example\n    tlds: [example]\n"
                    "import:\n  max-ns: 4\n  max-ds: 3\n  max-line: 2000\n" % db)

        def run(*args, stdin=None):
            return subprocess.run([binary, "-c", conf, *args], capture_output=True, text=True,
                                  input=stdin, timeout=300)

        must(run("db", "init"), "db init")
        # A delegation of a zone import, under test.: no portfolio removes it.
        zone = os.path.join(tmp, "test.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN test.\n@ SOA ns hostmaster 1 3600 600 86400 300\n"
                    "zoned NS ns1.provider-a.net.\n")
        must(run("import", "--zone", zone), "zone import of test.")

        want = portfolio()
        path = os.path.join(tmp, "portfolio.jsonl")
        write(path, want, extra=["", "# a comment line"])
        p = run("import", "--domains", path, "--format", "jsonl")
        check(p.returncode == 0 and counts(p.stdout) == (N, N, 0, 0, 0, 0) and
              "in 2 zones" in p.stdout,
              "first import: %s %s" % (p.stdout.strip(), p.stderr.strip()))
        got = table(db)
        bad = []
        for name, o in want.items():
            r = got.get(name)
            tld = name.split(".")[-2]
            ds = sorted(d.upper().replace(" 13 2 ", " 13 2 ") for d in o["ds"])
            if not r or r["ns"] != ["ns1.provider-a.net.", "ns2.provider-b.net."] or \
               r["ds"] != ds or r["zone"] != "portfolio.%s." % tld or \
               r["registry"] != "nic-" + tld or r["source"] != "portfolio":
                bad.append((name, r))
        check(not bad, "every row normalised: names lower case with the final dot, NS sorted "
              "without duplicates, DS digests upper case, zone = parent, registry from the "
              "line or the TLD (%d differ, e.g. %s)" % (len(bad), bad[:1]))
        check(got["zoned.test."]["source"] == "zone", "the zone import's row is left alone")
        check(psql(db, "SELECT string_agg(zone, ',' ORDER BY zone) FROM zone_imports")
              == "portfolio.example.,portfolio.test.,test.",
              "every zone of the portfolio counts as imported (zone_imports)")

        # Again from standard input: nic-test only, 10 gone, 30 DS changed,
        # 20 DS sets removed.  nic-example is not in the file: untouched.
        removed = set(range(100, 120, 2))
        ds_changed = set(range(300, 360, 2))
        ds_removed = set(range(600, 720, 6))
        want2 = portfolio(removed, ds_changed, ds_removed, only="test")
        p = run("import", "--domains", "-", "--format", "jsonl",
                stdin="".join(json.dumps(o) + "\n" for o in want2.values()))
        changed = len(ds_changed) + len(ds_removed)
        check(p.returncode == 0 and counts(p.stdout) ==
              (len(want2), 0, changed, len(want2) - changed, len(removed), len(ds_removed)),
              "stdin re-import: %s %s" % (p.stdout.strip(), p.stderr.strip()))
        got = table(db)
        check(sum(1 for r in got.values() if r["removed"]) == len(removed) and
              all(got["p%d.portfolio.test." % i]["removed"] for i in removed),
              "the domains gone from nic-test are marked removed, kept")
        check(not any(r["removed"] for n, r in got.items() if n.endswith(".example.")),
              "nic-example, which the file does not cover, keeps every domain")
        check(not got["zoned.test."]["removed"], "the zone import's delegation is not removed")
        check(psql(db, "SELECT count(*) FROM domain_events WHERE event = 'ds-changed'"
                       " AND actor = 'import'") == str(changed),
              "a ds-changed event per changed DS set")
        check(psql(db, "SELECT count(*) FROM delegations WHERE signal_baseline IS NOT NULL")
              == str(changed), "the replay baseline moved for the changes made outside cdscan")
        check(all(got["p%d.portfolio.test." % i]["suspended"] for i in ds_removed) and
              sum(1 for r in got.values() if r["suspended"]) == len(ds_removed),
              "a DS set removed outside cdscan suspends the domain, as the zone import does")
        p = run("import", "--domains", "-", "--format", "jsonl",
                stdin="".join(json.dumps(o) + "\n" for o in want2.values()))
        check(p.returncode == 0 and counts(p.stdout) == (len(want2), 0, 0, len(want2), 0, 0),
              "the same portfolio again: all unchanged: " + p.stdout.strip())

        bad_input(run, db, tmp, want2)
    finish()


def bad_input(run, db, tmp, good):
    """Each broken portfolio: exit 65 naming file:line, nothing changed."""
    before = fingerprint(db)
    base = [json.dumps(o) for o in list(good.values())[:50]]
    d = digest("x").upper()
    cases = [
        ("not JSON", '{"domain": "a.test", "ns": ["ns1.x."], "ds": []', "not a JSON object"),
        ("trailing text", '{"domain": "a.test", "ns": ["n."], "ds": []} x', "JSON"),
        ("unknown key", '{"domain": "a.test", "ns": ["n."], "ds": [], "glue": 1}',
         "unknown key"),
        ("bad DS digest length", '{"domain": "a.test", "ns": ["n."], "ds": ["1 13 2 ABCD"]}',
         "KEYTAG ALG"),
        ("delete DS", '{"domain": "a.test", "ns": ["n."], "ds": ["0 0 0 00"]}', "KEYTAG ALG"),
        ("bad domain", '{"domain": "a..test", "ns": ["n."], "ds": []}', "not a domain name"),
        ("a TLD", '{"domain": "test", "ns": ["n."], "ds": []}', "top-level"),
        ("wildcard NS", '{"domain": "a.test", "ns": ["*.x."], "ds": []}', "not a host name"),
        ("no NS", '{"domain": "a.test", "ns": [], "ds": []}', "at least one nameserver"),
        ("no ds key", '{"domain": "a.test", "ns": ["n."]}', 'no "ds"'),
        ("too many NS", '{"domain": "a.test", "ns": ["a.", "b.", "c.", "d.", "e."], "ds": []}',
         "import.max-ns"),
        ("too many DS", '{"domain": "a.test", "ns": ["n."], "ds": [%s]}'
         % ", ".join('"%d 13 2 %s"' % (k, d) for k in range(4)), "import.max-ds"),
        ("line too long", '{"domain": "a.test", "ns": ["n."], "ds": [], "x": "%s"}'
         % ("y" * 3000), "import.max-line"),
        ("unknown registry", '{"domain": "a.test", "registry": "nic-xx", "ns": ["n."],'
         ' "ds": []}', "unknown registry 'nic-xx'"),
        ("registry for another TLD", '{"domain": "a.test", "registry": "nic-example",'
         ' "ns": ["n."], "ds": []}', "does not serve a.test."),
        ("duplicate domain", json.loads(base[3])["domain"].upper().join(
            ['{"domain": "', '", "ns": ["n."], "ds": []}']), "is also on line 4"),
        ("NUL string", '{"domain": "a.test\\u0000x", "ns": ["n."], "ds": []}', "NUL"),
    ]
    path = os.path.join(tmp, "bad.jsonl")
    for what, line, msg in cases:
        with open(path, "w") as f:
            f.write("\n".join(base[:30] + [line] + base[30:]) + "\n")
        p = run("import", "--domains", path, "--format", "jsonl")
        check(p.returncode == 65 and "%s:31:" % path in p.stderr and msg in p.stderr,
              "%s: exit %d, %s" % (what, p.returncode, p.stderr.strip()[:200]))
    check(fingerprint(db) == before, "the table is unchanged after every failed import")
    csv = os.path.join(tmp, "p.csv")
    with open(csv, "w") as f:
        f.write('domain,registry\r\n"p0.portfolio.test",nic-test\r\n')
    p = run("import", "--domains", csv)
    check(p.returncode == 65 and "%s:2:" % csv in p.stderr and "--from" in p.stderr,
          "csv without --from: the NS and DS are not known: exit %d, %s"
          % (p.returncode, p.stderr.strip()))
    p = run("import", "--domains", os.path.join(tmp, "missing.jsonl"), "--format", "jsonl")
    check(p.returncode == 65 and "missing.jsonl" in p.stderr, "missing file: exit 65")
    for args in (["--domains", csv, "--format", "xml"], ["--domains", csv, "--from", "whois"],
                 ["--domains", csv, "--zone", csv], ["--domains", csv, "--origin", "test"]):
        p = run("import", *args)
        check(p.returncode == 64, "usage error %s: exit %d" % (args, p.returncode))
    check(fingerprint(db) == before, "the table is unchanged")


if __name__ == "__main__":
    main()
