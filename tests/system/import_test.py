#!/usr/bin/python3
"""System test of `cdscan db init` and `cdscan import` on the lab's real
PostgreSQL: a generated parent zone of 10,000 delegations ($ORIGIN, $TTL,
$INCLUDE, relative names, omitted owners, glue, multi-line DS), a re-import
with changes, and a broken file that must leave the table as it was.
Usage: import_test.py CDSCAN LAB_DIR"""

import glob
import json
import os
import hashlib
import re
import subprocess
import sys
import tempfile

HERE_SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sql")

from labtest import Database, check, finish, load_lab, psql

N = 10000


def digest(*seed):
    """A digest that depends only on its seed, not on generation order."""
    return hashlib.sha256(repr(seed).encode()).hexdigest().upper()


def generate(removed=(), ds_changed=(), glue_changed=(), added=0):
    """The expected delegations: name -> (ns list, ds list, glue dict)."""
    want = {}
    for i in list(range(N)) + list(range(N, N + added)):
        if i in removed:
            continue
        name = "d%d.import.example." % i
        ns = ["ns1.provider-a.net.", "ns2.provider-b.net."]
        glue = {}
        if i % 10 == 0:
            ns = ["ns1.d%d.import.example." % i, "ns2.provider-b.net."]
            last = 1 + (i // 10) % 250
            if i in glue_changed:
                last = (last + 1) % 250 + 1
            glue = {ns[0]: sorted(["192.0.2.%d" % last, "2001:db8::%x" % last])}
        ds = []
        if i % 3 == 0:
            ds = ["%d 13 2 %s" % (i % 65536, digest(i, 1))]
            if i % 7 == 0:
                ds.append("%d 8 2 %s" % ((i + 1) % 65536, digest(i, 2)))
        if i in ds_changed:
            ds = ["%d 13 2 %s" % ((i + 7) % 65536, digest(i, 3))]
        want[name] = (sorted(ns), sorted(ds), glue)
    return want


def write_zone(directory, want):
    """Half the delegations in the main file, half in an $INCLUDE file."""
    names = sorted(want, key=lambda n: int(n.split(".")[0][1:]))
    half = len(names) // 2
    main = ["$ORIGIN import.example.", "$TTL 1h",
            "@ SOA ns.nic.import.example. hostmaster 1 3600 600 86400 300",
            "@ NS ns.nic", "ns.nic A 192.0.2.53",
            "; delegations follow, relative to the origin"]
    inc = ["$TTL 300"]
    for k, name in enumerate(names):
        out = main if k < half else inc
        ns, ds, glue = want[name]
        rel = name[:-len(".import.example.")]
        out.append("%s NS %s" % (rel, ns[0]))
        out.extend("   NS %s" % n for n in ns[1:])          # omitted owner
        for j, d in enumerate(ds):
            tag, alg, dt, hexd = d.split()
            if j == 0 and int(tag) % 2 == 0:             # multi-line DS
                out.append("%s 3600 IN DS %s %s %s ( %s\n      %s ) ; split"
                           % (rel, tag, alg, dt, hexd[:32], hexd[32:]))
            else:
                out.append("%s DS %s" % (rel, d))
        for host, addrs in glue.items():
            hrel = host[:-len(".import.example.")]
            for a in addrs:
                out.append("%s %s %s" % (hrel, "AAAA" if ":" in a else "A", a))
    main.append("$INCLUDE part2.zone")
    main.append("www A 192.0.2.80 ; not a delegation")
    with open(os.path.join(directory, "parent.zone"), "w") as f:
        f.write("\n".join(main) + "\n")
    with open(os.path.join(directory, "part2.zone"), "w") as f:
        f.write("\n".join(inc) + "\n")
    return len(inc)


def cdscan(binary, db, *args):
    env = dict(os.environ, CDSCAN_DATABASE=db)
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env)


def counts(out):
    m = re.search(r"(\d+) delegations: (\d+) inserted, (\d+) changed, (\d+) unchanged, "
                  r"(\d+) removed", out)
    return tuple(int(x) for x in m.groups()) if m else None


def table(db):
    rows = psql(db, "SELECT json_agg(json_build_object('d', domain, 'ns', ns, 'ds', ds,"
                    " 'glue', glue, 'removed', removed_at IS NOT NULL)) FROM delegations")
    return {r["d"]: r for r in json.loads(rows or "[]")}


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    with Database(lab, "import") as database:
        db = database.conninfo
        tmp = tempfile.mkdtemp()
        p = cdscan(binary, db, "db", "init")
        latest = max(int(os.path.basename(f)[:4]) for f in
                     glob.glob(os.path.join(HERE_SQL, "[0-9][0-9][0-9][0-9]_*.sql")))
        check(p.returncode == 0 and "from version 0 to %d" % latest in p.stdout,
              "db init creates the schema (every migration): " + p.stdout.strip())
        p = cdscan(binary, db, "db", "init")
        check(p.returncode == 0 and "up to date" in p.stdout, "db init again changes nothing")

        want = generate()
        write_zone(tmp, want)
        zone = os.path.join(tmp, "parent.zone")
        p = cdscan(binary, db, "import", "--zone", zone)
        check(p.returncode == 0 and counts(p.stdout) == (N, N, 0, 0, 0),
              "first import: %s %s" % (p.stdout.strip(), p.stderr.strip()))
        got = table(db)
        check(len(got) == N, "%d rows (want %d)" % (len(got), N))
        bad = [n for n in want if n not in got or got[n]["ns"] != want[n][0] or
               got[n]["ds"] != want[n][1] or got[n]["glue"] != want[n][2]]
        check(not bad, "every row equals the generated delegation (%d differ, e.g. %s)"
              % (len(bad), bad[:1] and (got.get(bad[0]), want[bad[0]])))
        check(psql(db, "SELECT count(*) FROM delegations WHERE ds_changed_at IS NOT NULL") == "0",
              "a first import records no DS change time")
        # The claims plan with statistics from the first scan on (import.c,
        # cds_db_import_analyze); autovacuum's own analyze is last_autoanalyze.
        analyzed = psql(db, "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables"
                            " WHERE relname = 'delegations'")
        check(analyzed == "t", "the import analyzed delegations (%s)" % analyzed)

        # Re-import with changes: 50 removed, 100 DS changed, 10 glue changed, 25 added.
        removed = set(range(100, 150))
        ds_changed = set(range(3000, 3100))
        glue_changed = set(range(5000, 5100, 10))
        want2 = generate(removed, ds_changed, glue_changed, added=25)
        write_zone(tmp, want2)
        p = cdscan(binary, db, "import", "--zone", zone)
        c = counts(p.stdout)
        changed = len(ds_changed) + len(glue_changed)
        check(c == (len(want2), 25, changed, len(want2) - 25 - changed, 50),
              "re-import with changes: %s (want %d changed)" % (p.stdout.strip(), changed))
        got = table(db)
        check(sum(1 for r in got.values() if r["removed"]) == 50, "50 rows marked removed, kept")
        check(psql(db, "SELECT count(*) FROM delegations WHERE ds_changed_at IS NOT NULL")
              == str(sum(1 for n in want2 if n in want and want2[n][1] != want[n][1])),
              "DS change time recorded for the changed DS sets only")
        bad = [n for n in want2 if got[n]["ns"] != want2[n][0] or got[n]["ds"] != want2[n][1]
               or got[n]["glue"] != want2[n][2] or got[n]["removed"]]
        check(not bad, "every row equals the changed zone (%d differ)" % len(bad))
        p = cdscan(binary, db, "import", "--zone", zone)
        check(counts(p.stdout) == (len(want2), 0, 0, len(want2), 0),
              "the same file again: all unchanged: " + p.stdout.strip())

        # A broken record deep in the included file: exit 65, file:line, no change.
        before = psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text || glue::text,"
                          " ',' ORDER BY domain)) FROM delegations")
        inc = os.path.join(tmp, "part2.zone")
        lines = open(inc).read().splitlines()
        lines.insert(3000, "broken DS 1 13 2 NOT-HEX")
        open(inc, "w").write("\n".join(lines) + "\n")
        p = cdscan(binary, db, "import", "--zone", zone)
        check(p.returncode == 65 and "part2.zone:3001:" in p.stderr,
              "broken record: exit %d, %s" % (p.returncode, p.stderr.strip()))
        after = psql(db, "SELECT md5(string_agg(domain || ns::text || ds::text || glue::text,"
                         " ',' ORDER BY domain)) FROM delegations")
        check(before == after, "the table is unchanged after the failed import")
        p = cdscan(binary, db, "import", "--zone", os.path.join(tmp, "missing.zone"))
        check(p.returncode == 65 and "missing.zone" in p.stderr, "missing file: exit 65")
        p = cdscan(binary, "host=/nonexistent dbname=x", "import", "--zone", zone)
        check(p.returncode == 69, "database down: exit %d" % p.returncode)
        # A database migrated by a newer cdscan is refused, and left alone.
        psql(db, "INSERT INTO schema_version (version, name) VALUES (99, '0099_future.sql')")
        p = cdscan(binary, db, "db", "init")
        check(p.returncode == 65 and "newer" in p.stderr and
              psql(db, "SELECT max(version) FROM schema_version") == "99",
              "db init refuses a newer schema: exit %d, %s" % (p.returncode, p.stderr.strip()))
    finish()


if __name__ == "__main__":
    main()
