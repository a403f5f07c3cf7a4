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

# The system tests' configurations scan with "timeout: 1s, retries: 2":
# ctest runs two tests at once on two cores and the sanitizer build is
# several times slower, so the 400 ms without a retry they had gave false
# ns-unreachable verdicts in CI (a whole server's answers lost to a busy
# scheduler).  One retry was not enough either under a CPU hog (two `yes`
# loops on two cores): in the sanitizer build csync-glue and csync-glue6
# got ns-unreachable, "SOA: timeout" at both servers; 16 such checks at
# once failed 30 of 32 with one retry of 1 s, 7 of 32 with one retry of
# 2 s, none with two retries of 1 s (and no UDP datagram was dropped: the
# answers were there).  A server the lab keeps silent costs 3 s per query.


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


def must(p, what):
    """A setup step's finished process: when it failed, every later check
    would be meaningless, so the failure is recorded and the test ends."""
    if p.returncode != 0:
        check(False, "%s: exit %d %s" % (what, p.returncode,
                                         (p.stderr or "").strip()[-500:]))
        finish()
    return p


class PsqlError(RuntimeError):
    """psql failed: a query the test depends on did not run."""


def psql(db, sql, strict=True):
    """The output of one statement.  A failure raises PsqlError (an empty
    string compares equal to no rows, and a test must not read a failed
    UPDATE or a connection error as an answer) unless strict is False."""
    p = subprocess.run(["psql", db, "-XAtc", sql], capture_output=True, text=True)
    if strict and p.returncode != 0:
        raise PsqlError("psql exit %d: %s (%s)" % (p.returncode, p.stderr.strip(), sql))
    return p.stdout.strip()


def _truthy(value):
    return (value or "").strip().lower() in ("1", "on", "true", "yes")


def epp_schemas():
    """(directory, present, required) for the official EPP XSDs: from
    CDSCAN_EPP_SCHEMAS (tests/CMakeLists.txt passes it; default
    ../shared/epp-schemas beside the checkout).  They are required, and their
    absence a failure, when CDSCAN_REQUIRE_EPP_SCHEMAS is on (the CMake
    option of that name; on by default when CI was set at configure time) or
    CI is set now: in CI a missing directory must not turn the schema checks
    into a skip that counts as a pass."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("CDSCAN_EPP_SCHEMAS",
                          os.path.join(here, "..", "..", "..", "shared", "epp-schemas"))
    present = os.path.isfile(os.path.join(path, "epp-wrapper.xsd"))
    required = (_truthy(os.environ.get("CDSCAN_REQUIRE_EPP_SCHEMAS")) or
                _truthy(os.environ.get("CI")))
    return path, present, required


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
        # Not strict: a failure here must not hide the test's own outcome.
        psql(self.admin, "DROP DATABASE IF EXISTS %s" % self.name, strict=False)
        return False


TORN_SQL = ("SELECT count(*) FROM delegations d WHERE"
            " (EXISTS (SELECT 1 FROM scan_results s WHERE s.delegation_id = d.id))"
            " <> (next_scan_at > now() + interval '1 minute')")
"""Delegations with a result but no schedule moved to the next scan (at
least scan.retry-after, 5 minutes, ahead: the tests that use this scan
servers that refuse), or the reverse: a half-written group (results and
schedule are written in one transaction).  A claim's lease (seconds in
those tests) is not a next scan."""


def run_in_own_netns(script, args, name):
    """script --inner args, as root, in a network namespace of its own (a
    test that runs a lab of its own: the lab's addresses and port 53 are
    that run's, whatever else runs, the ctest lab included); its exit
    code."""
    if os.geteuid() != 0:
        sys.exit("%s: needs root (servers on port 53, a network namespace)" % name)
    return subprocess.run(["unshare", "--net", "--", sys.executable, os.path.abspath(script),
                           "--inner", *args]).returncode
