"""What the system tests share: pass/fail bookkeeping with the closing line
ctest's log shows, psql, and a throwaway database on the lab's cluster."""

import json
import os
import subprocess
import sys

# The lab's own helpers (tests/lab/lab.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from lab import merge_config  # noqa: E402,F401  (a scenario's config beside a test's)

_results = []

# The system tests' configurations scan with "timeout: 1s, retries: 1":
# ctest runs two tests at once on two cores and the sanitizer build is
# several times slower, so the 400 ms without a retry they had gave false
# ns-unreachable verdicts in CI (a whole server's answers lost to a busy
# scheduler).  A server the lab keeps silent costs 2 s per query.


def check(ok, what):
    """Record one check and print it."""
    _results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + what)
    return ok


def all_passed():
    """True while no check has failed."""
    return all(_results)


def finish():
    """Print 'N passed, N failed' and exit 0 only if every check passed."""
    print("%d passed, %d failed" % (_results.count(True), _results.count(False)))
    sys.exit(0 if _results and all(_results) else 1)


def psql(db, sql):
    return subprocess.run(["psql", db, "-XAtc", sql], capture_output=True,
                          text=True).stdout.strip()


def load_lab(labdir):
    with open(os.path.join(labdir, "lab.json")) as f:
        return json.load(f)


class Database:
    """A database of its own on the lab's cluster, dropped on exit."""

    def __init__(self, lab, name):
        self.admin = lab["database"].replace("dbname=cdscan", "dbname=postgres")
        self.name = "cdscan_%s_%d" % (name, os.getpid())
        psql(self.admin, "CREATE DATABASE %s" % self.name)
        self.conninfo = lab["database"].replace("dbname=cdscan", "dbname=" + self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        psql(self.admin, "DROP DATABASE IF EXISTS %s" % self.name)
        return False


TORN_SQL = ("SELECT count(*) FROM delegations d WHERE"
            " (EXISTS (SELECT 1 FROM scan_results s WHERE s.delegation_id = d.id))"
            " <> (next_scan_at > now() + interval '1 minute')")
"""Delegations with a result but no schedule moved to the next scan (at
least scan.retry-after, 5 minutes, ahead: the tests that use this scan
servers that refuse), or the reverse: a half-written group (results and
schedule are written in one transaction).  A claim's lease (seconds in
those tests) is not a next scan."""
