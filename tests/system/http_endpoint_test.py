#!/usr/bin/python3
"""The daemon's HTTP endpoint (issue #17) on the lab: after db init, import
and a real scan of the lab's parent zone, tests/system/http_serve.c serves
the real cds_http with real metrics and that database.  Checks: /metrics
parses with prometheus_client and keeps the format's rules, every metric is
there, the gauges agree with the tables, the counters move by what the
program added on SIGUSR1 and nothing else moves; /healthz 200, 503 with the
resolver down, the database gone, and 200 again after the database dropped
the connection (reconnected); stopped and started again in the process,
nothing left behind; a database that blocks costs a request the
statement timeout, not the endpoint; /status/DOMAIN: the delegation and
verdict as `domain show --json` gives them and nothing internal (no ids,
clTRIDs, operator's reasons), 400/404/405/414; the status page in headless
Chromium: the reason's advice, no operator's reason, a registry's hostile
status shown as text; the connection limits.
Usage: http_endpoint_test.py CDSCAN HTTP_SERVE LAB_DIR"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from labtest import Database, all_passed, check, finish, load_lab, must, psql
from promcheck import METRICS_CONTENT_TYPE, chromium_dom, request, scrape, scrape_full

DOMAIN = "rollover.test."
HOSTILE = ('<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
           ' & "quoted"')

# Every sample the endpoint exposes with the store up (cdscan(8), METRICS).
SAMPLES = [
    "cdscan_scans_total", "cdscan_scan_reasons_total", "cdscan_scans_unusable_total",
    "cdscan_scans_skipped_total", "cdscan_change_sets_created_total",
    "cdscan_dns_queries_total", "cdscan_dns_answers_total", "cdscan_dns_timeouts_total",
    "cdscan_dns_tcp_fallbacks_total", "cdscan_decide_seconds_bucket",
    "cdscan_decide_seconds_sum", "cdscan_decide_seconds_count",
    "cdscan_notify_received_total", "cdscan_notify_accepted_total",
    "cdscan_notify_rate_limited_total", "cdscan_notify_refused_total",
    "cdscan_epp_errors_total", "cdscan_error_reports_total",
    "cdscan_config_reloads_total", "cdscan_database_up",
    "cdscan_delegations", "cdscan_queue_depth", "cdscan_oldest_due_seconds",
    "cdscan_change_sets", "cdscan_suspended_delegations", "cdscan_build_info",
    "cdscan_start_time_seconds",
]
STORE_GAUGES = ["cdscan_delegations", "cdscan_queue_depth", "cdscan_oldest_due_seconds",
                "cdscan_change_sets", "cdscan_suspended_delegations"]

# What one SIGUSR1 adds (tests/system/http_serve.c, bump()).
BUMP = {
    ("cdscan_scans_total", (("action", "update"), ("side", "ds"))): 1,
    ("cdscan_scans_total", (("action", "reject"), ("side", "ds"))): 1,
    ("cdscan_scans_total", (("action", "none"), ("side", "ns"))): 2,
    ("cdscan_scan_reasons_total", (("reason", "ds-updated"), ("side", "ds"))): 1,
    ("cdscan_scan_reasons_total", (("reason", "ns-unreachable"), ("side", "ds"))): 1,
    ("cdscan_scan_reasons_total", (("reason", "no-csync"), ("side", "ns"))): 2,
    ("cdscan_scans_unusable_total", ()): 1,
    ("cdscan_scans_skipped_total", ()): 1,
    ("cdscan_change_sets_created_total", ()): 2,
    ("cdscan_dns_queries_total", ()): 10,
    ("cdscan_dns_answers_total", ()): 9,
    ("cdscan_dns_timeouts_total", ()): 1,
    ("cdscan_dns_tcp_fallbacks_total", ()): 1,
    ("cdscan_decide_seconds_count", ()): 2,
    ("cdscan_notify_accepted_total", ()): 1,
    ("cdscan_epp_errors_total", ()): 1,
    ("cdscan_config_reloads_total", (("result", "ok"),)): 1,
    ("cdscan_config_reloads_total", (("result", "error"),)): 1,
}
for q in ("CDS", "CDNSKEY", "CSYNC", "other"):
    BUMP[("cdscan_notify_received_total", (("qtype", q),))] = 1
for b in ("source", "domain"):
    BUMP[("cdscan_notify_rate_limited_total", (("by", b),))] = 1
for rc in ("REFUSED", "NOTAUTH", "FORMERR", "NOTIMP"):
    BUMP[("cdscan_notify_refused_total", (("rcode", rc),))] = 1
# 0.003 s and 0.7 s: one in every bucket from 0.005 up, two from 1 up.
for le in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5"):
    BUMP[("cdscan_decide_seconds_bucket", (("le", le),))] = 1
for le in ("1", "2", "+Inf"):
    BUMP[("cdscan_decide_seconds_bucket", (("le", le),))] = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """http_serve running, its stdout read line by line (waited for, not
    slept for), its stderr in a file."""

    def __init__(self, program, tmp, name, database, *extra):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = os.path.join(tmp, name + ".log")
        self.proc = subprocess.Popen(
            [program, "--listen", "127.0.0.1#%d" % self.port, "--database", database, *extra],
            stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        self.ready = self.expect("listening %d" % self.port)

    def expect(self, want, timeout=30):
        """Read lines until one equals want; False on EOF or timeout."""
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([self.proc.stdout], [], [], max(0, end - time.time()))
            if not r:
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.strip() == want:
                return True
        return False

    def signal(self, sig, want):
        self.proc.send_signal(sig)
        return self.expect(want)

    def stop(self):
        """SIGTERM; True when it stopped cleanly (exit 0, "stopped", no
        sanitizer report)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        stopped = self.expect("stopped")
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        err = open(self.log).read()
        clean = stopped and rc == 0 and "Sanitizer" not in err and "runtime error" not in err
        if not clean:
            print("http_serve exit %s, stderr:\n%s" % (rc, err[-3000:]))
        return clean


def metrics_part(srv, db):
    status, ctype, s1, types, problems = scrape_full(srv.url + "/metrics")
    check(status == 200 and ctype.startswith(METRICS_CONTENT_TYPE),
          "/metrics: 200, %s" % ctype)
    check(not problems, "/metrics keeps the format's rules (%s)" % problems[:5])
    missing = [n for n in SAMPLES if n not in s1]
    check(not missing, "every metric is there (missing %s)" % missing)
    check(types.get("cdscan_decide_seconds") == "histogram" and
          types.get("cdscan_scans") == "counter" and types.get("cdscan_queue_depth") == "gauge",
          "types: histogram, counter, gauge as declared")
    g = lambda n, **l: s1.get(n, {}).get(tuple(sorted(l.items())))
    check(g("cdscan_database_up") == 1, "cdscan_database_up 1")
    want = int(psql(db, "SELECT count(*) FROM delegations WHERE removed_at IS NULL"))
    check(g("cdscan_delegations") == want, "cdscan_delegations %s (want %d)"
          % (g("cdscan_delegations"), want))
    rows = psql(db, "SELECT e::text, (SELECT count(*) FROM change_sets c WHERE c.state = e)"
                    " FROM unnest(enum_range(NULL::change_state)) e").split("\n")
    states = {r.split("|")[0]: float(r.split("|")[1]) for r in rows}
    got = {dict(k)["state"]: v for k, v in s1["cdscan_change_sets"].items()}
    check(got == states and states["pending"] > 0,
          "cdscan_change_sets per state as in the table: %s" % got)
    version = subprocess.run([sys.argv[1], "--version"], capture_output=True,
                             text=True).stdout.split()[-1]
    check(g("cdscan_build_info", version=version) == 1, "cdscan_build_info{version=%s}" % version)
    check(time.time() - 600 < g("cdscan_start_time_seconds") <= time.time(),
          "cdscan_start_time_seconds is the start")
    # Due now: one domain an hour overdue; suspended: one, by the operator.
    psql(db, "UPDATE delegations SET next_scan_at = now() - interval '1 hour'"
             " WHERE domain = '%s'" % DOMAIN)
    due = int(psql(db, "SELECT count(*) FROM delegations"
                       " WHERE removed_at IS NULL AND next_scan_at <= now()"))
    must(subprocess.run([sys.argv[1], "-q", "-c", CONF, "domain", "suspend", DOMAIN,
                         "--reason", HOSTILE], capture_output=True, text=True), "domain suspend")
    check(srv.signal(signal.SIGUSR1, "bumped 1"), "SIGUSR1: the program bumped its metrics")
    _, _, s2, _, problems = scrape_full(srv.url + "/metrics")
    check(not problems, "second scrape keeps the rules (%s)" % problems[:5])
    g2 = lambda n: s2.get(n, {}).get(())
    check(g2("cdscan_queue_depth") == due and due >= 1, "cdscan_queue_depth %s (want %d)"
          % (g2("cdscan_queue_depth"), due))
    check(3600 <= g2("cdscan_oldest_due_seconds") < 3900,
          "cdscan_oldest_due_seconds %s: an hour" % g2("cdscan_oldest_due_seconds"))
    check(g2("cdscan_suspended_delegations") == 1, "cdscan_suspended_delegations 1")
    wrong = []
    for name, series in s2.items():
        if name in STORE_GAUGES or name == "cdscan_decide_seconds_sum":
            continue
        for key, v in series.items():
            delta = v - s1.get(name, {}).get(key, 0)
            if delta != BUMP.get((name, key), 0):
                wrong.append("%s%s %+g" % (name, dict(key), delta))
    check(not wrong and all(s2[n][k] - s1[n][k] == d for (n, k), d in BUMP.items()),
          "the counters moved by what was added, nothing else moved (%s)" % wrong[:5])
    d = g2("cdscan_decide_seconds_sum") - s1["cdscan_decide_seconds_sum"][()]
    check(abs(d - 0.703) < 1e-6, "cdscan_decide_seconds_sum +0.703 (%g)" % d)
    status, headers, body = request(srv.url + "/metrics", method="HEAD")
    check(status == 200 and body == b"" and
          headers.get("content-type", "").startswith(METRICS_CONTENT_TYPE),
          "HEAD /metrics: 200, no body")


def health_part(srv, db):
    status, _, body = request(srv.url + "/healthz")
    check(status == 200 and body == b"ok\n", "/healthz 200 ok (%d %r)" % (status, body))
    check(srv.signal(signal.SIGUSR2, "resolver down"), "SIGUSR2: resolver flag down")
    status, _, body = request(srv.url + "/healthz")
    check(status == 503 and b"resolver unreachable" in body,
          "/healthz 503 with the resolver down (%d %r)" % (status, body))
    check(srv.signal(signal.SIGUSR2, "resolver up"), "SIGUSR2: resolver flag up")
    status, _, _ = request(srv.url + "/healthz")
    check(status == 200, "/healthz 200 again")
    # The database drops the endpoint's connection (a restart, a failover):
    # the next request reconnects and is answered.
    name = db.split("dbname=")[1].split()[0]
    pid_sql = ("SELECT pid FROM pg_stat_activity WHERE datname = '%s'"
               " AND application_name = 'cdscan-http'" % name)
    before = psql(db, pid_sql)
    psql(db, "SELECT pg_terminate_backend(%s)" % before)
    # pg_terminate_backend only signals: wait until the backend is gone.
    for _ in range(200):
        if not psql(db, "SELECT 1 FROM pg_stat_activity WHERE pid = %s" % before):
            break
        time.sleep(0.05)
    status, _, _ = request(srv.url + "/healthz")
    after = psql(db, pid_sql)
    check(status == 200 and before and after and after != before and "\n" not in after,
          "/healthz 200 after the server dropped its connection: one new connection"
          " (pid %s, then %s)" % (before, after))


def restart_part(srv, db):
    """Stopped and started again on the same address (SIGHUP, as a reload
    would): the listening socket and the database connection are released
    by the stop, so the new one binds and nothing is left behind."""
    def fds():
        """The program's descriptors once the last client connection is
        closed on its side too (it closes it just after the response)."""
        n = -1
        for _ in range(50):
            m = len(os.listdir("/proc/%d/fd" % srv.proc.pid))
            if m == n:
                return m
            n = m
            time.sleep(0.1)
        return n
    close = {"Connection": "close"}
    request(srv.url + "/healthz", headers=close)
    before = fds()
    check(srv.signal(signal.SIGHUP, "restarted %d" % srv.port),
          "stopped and started again on the same port")
    status, _, _ = request(srv.url + "/healthz", headers=close)
    name = db.split("dbname=")[1].split()[0]
    conns = psql(db, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
                     " AND application_name = 'cdscan-http'" % name)
    check(status == 200 and fds() == before and conns == "1",
          "then answering, with as many descriptors as before (%d, %d) and one database"
          " connection (%s)" % (before, fds(), conns))


def blocked_part(srv, db):
    """A table locked for 8 s: the gauge query gives up after the statement
    timeout (1 s here), the scrape still answers, /healthz too."""
    locker = subprocess.Popen(["psql", db, "-XAtc", "BEGIN; LOCK TABLE delegations IN ACCESS"
                               " EXCLUSIVE MODE; SELECT pg_sleep(8); COMMIT"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if psql(db, "SELECT count(*) FROM pg_locks WHERE relation = 'delegations'::regclass"
                        " AND mode = 'AccessExclusiveLock' AND granted", strict=False) == "1":
                break
            time.sleep(0.05)
        t = time.time()
        status, _, s, _, _ = scrape_full(srv.url + "/metrics")
        took = time.time() - t
        check(status == 200 and s["cdscan_database_up"][()] == 0 and
              "cdscan_delegations" not in s and took < 4,
              "/metrics with the table locked: 200 in %.1f s, database_up 0, no store gauges"
              % took)
        status, _, _ = request(srv.url + "/healthz")
        check(status == 200, "/healthz 200 meanwhile (its query needs no table)")
    finally:
        locker.wait(timeout=60)
    s = scrape(srv.url + "/metrics")
    check(s["cdscan_database_up"][()] == 1, "database_up 1 once the lock is gone")
    log = open(srv.log).read()
    check("http: the database does not answer (database error (ERROR:  canceling statement"
          " due to statement timeout))" in log and "http: the database answers again" in log,
          "the log says so once each way, the server's message without a newline")


def status_part(srv, db):
    shown = json.loads(must(subprocess.run([sys.argv[1], "-q", "-c", CONF, "domain", "show",
                                            DOMAIN, "--json"], capture_output=True, text=True),
                            "domain show --json").stdout)
    for path in ("/status/" + DOMAIN, "/status/ROLLOVER.Test"):
        status, headers, body = request(srv.url + path)
        got = json.loads(body) if status == 200 else {}
        same = all(got.get(k) == shown[k] for k in ("domain", "zone", "ns", "ds", "glue"))
        check(status == 200 and headers.get("content-type") == "application/json" and
              headers.get("vary") == "Accept" and same and got.get("verdicts") and
              got["verdicts"][0] == shown["verdicts"][0],
              "GET %s: 200, the delegation and latest verdict as domain show --json has "
              "them (%d)" % (path, status))
    # For the domain's holder: no internal data.  The operator's reason
    # for the suspension, clTRIDs, ids, attempts, the replay baseline stay
    # out; the suspension says by whom; done change sets are there too.
    text = body.decode()
    inner = [k for k in ("cltrid", '"id"', "attempts", "last_error", "replay_baseline",
                         "csync_approved_serial", "pwned") if k in text]
    check(not inner and got.get("automation") == "suspended" and
          got.get("suspension", {}).get("by") == "operator" and
          "registry_status" in got.get("suspension", {}) and
          got["suspension"]["registry_status"] is None,
          "the status JSON holds nothing internal (%s), the suspension by the operator "
          "without the operator's reason" % (inner or "none"))
    status, headers, _ = request(srv.url + "/status/" + DOMAIN, headers={"Accept": "text/html"})
    check(status == 200 and headers.get("content-type", "").startswith("text/html") and
          "default-src 'none'" in headers.get("content-security-policy", ""),
          "Accept: text/html gets the page, under a restrictive CSP")
    status, headers, _ = request(srv.url + "/status/" + DOMAIN,
                                 headers={"Accept": "application/json, text/html;q=0.5"})
    check(status == 200 and headers.get("content-type") == "application/json",
          "a client preferring JSON gets JSON")
    cases = [("GET", "/status/nope.test", 404, {"error": "no such delegation",
                                               "domain": "nope.test."}),
             ("GET", "/status/a..b", 400, {"error": "malformed domain name"}),
             ("GET", "/status/", 400, {"error": "malformed domain name"}),
             ("GET", "/status/%3Cscript%3E.test", 400, {"error": "malformed domain name"}),
             ("GET", "/status/" + "a" * 2000, 414, None),
             ("GET", "/nothing", 404, None), ("GET", "/metrics/", 404, None),
             ("POST", "/metrics", 405, None), ("DELETE", "/healthz", 405, None),
             ("PUT", "/status/" + DOMAIN, 405, None)]
    for method, path, want, body_want in cases:
        status, headers, body = request(srv.url + path, method=method,
                                        body=b"x=1" if method != "GET" else None)
        ok = status == want
        if body_want is not None:
            ok = ok and json.loads(body) == body_want
        if want == 405:
            ok = ok and headers.get("allow") == "GET, HEAD"
        check(ok, "%s %s: %d (%d %r)" % (method, path[:40], want, status, body[:80]))
    # Headers beyond the memory a connection may use: refused, and the
    # endpoint goes on.
    status, _, _ = request(srv.url + "/healthz", headers={"X-Big": "b" * 40000})
    check(status in (413, 414, 431), "a 40 kB header is refused (%d)" % status)
    status, _, _ = request(srv.url + "/healthz", body=b"body", method="GET")
    check(status == 400, "a GET with a body: 400 (%d)" % status)
    check(request(srv.url + "/healthz")[0] == 200, "the endpoint answers after those")


def cds_advice(code):
    """The advice src/report/advice.c gives for code (read from the source:
    the page must show exactly that)."""
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                            "report", "advice.c")).read()
    part = src.split('{"%s", ' % code, 1)[1].split("},", 1)[0]
    return "".join(p.split('"', 1)[1].rsplit('"', 1)[0] for p in part.split("\n")
                   if '"' in p)


def holder_pages(srv, tmp):
    """The pages of a rejected lab domain and of an insecure one: reason,
    words and advice; the RFC 9615 signal names; no console message (the
    check is shown able to fail on a page with a script error)."""
    bad = os.path.join(tmp, "bad.html")
    with open(bad, "w") as f:
        f.write("<html><body><script>undefinedFunction();</script></body></html>")
    _, msgs = chromium_dom("file://" + bad, tmp, console=True)
    check(msgs, "the console check sees a broken page's script error (%d lines)" % len(msgs))
    dom, msgs = chromium_dom(srv.url + "/status/foreign-signed.test", tmp, console=True)
    check('class="reason">bogus</code>' in dom and
          cds_advice("bogus") in dom.replace("&amp;", "&") and '<td id="ds-action">reject' in dom
          and not msgs, "a rejected domain's page: reject, bogus, what to do, no console "
          "message (%s)" % msgs[:2])
    dom, msgs = chromium_dom(srv.url + "/status/bootstrap-missing.test", tmp, console=True)
    names = ["_dsboot.bootstrap-missing.test._signal.%s" % n
             for n in ("ns1.provider-a.net.", "ns1.provider-b.net.")]
    check(all("<code>%s</code>" % n in dom for n in names) and
          'class="reason">bootstrap-signal-missing</code>' in dom and not msgs,
          "an insecure domain's page names its RFC 9615 signal names %s" % names)


def html_part(srv, tmp, db):
    holder_pages(srv, tmp)
    dom = chromium_dom(srv.url + "/status/" + DOMAIN, tmp)
    check("pwned" not in dom and "onerror" not in dom,
          "the operator's suspension reason is not on the holder's page")
    check(cds_advice("ds-updated") in dom.replace("&amp;", "&"),
          "the verdict's reason comes with what to do about it")
    # A registry's lock is shown (the holder can act on it): a hostile
    # one, as text.
    psql(db, "UPDATE delegations SET suspended_by = 'registry', suspended_reason = '%s'"
             " WHERE domain = '%s'" % (HOSTILE.replace("'", "''"), DOMAIN))
    dom = chromium_dom(srv.url + "/status/" + DOMAIN, tmp)
    check('<h1 id="domain">%s</h1>' % DOMAIN in dom and
          "<title>cdscan: %s</title>" % DOMAIN in dom,
          "the page in Chromium: its domain in the heading and the title (not changed)")
    check('<td id="ds-action">update</td>' in dom and 'class="reason">ds-updated</code>' in dom,
          "the latest verdict: DS update, ds-updated")
    escaped = HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    check('<span id="suspension">%s</span>' % escaped in dom and "<img" not in dom and
          "pwned" not in dom.split("<body")[0],
          "the registry's hostile suspension reason is text in the DOM, not markup")


def limits_part(program, tmp, db):
    """Two connections from one address at most; an idle one closed after
    2 s."""
    srv = Server(program, tmp, "limits", db, "--per-ip", "2", "--timeout", "2")
    check(srv.ready, "http_serve with --per-ip 2 --timeout 2 listening")
    try:
        idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(2)]
        time.sleep(0.3)
        third = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        try:
            third.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            got = third.recv(100)
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            got = b""
        third.close()
        check(got == b"", "a third connection from the same address is closed unanswered")
        t = time.time()
        idle[0].settimeout(10)
        closed = idle[0].recv(100) == b""
        check(closed and time.time() - t < 4, "an idle connection is closed after the timeout"
              " (%.1f s)" % (time.time() - t))
        for s in idle:
            s.close()
        time.sleep(0.3)
        check(request(srv.url + "/healthz")[0] == 200, "a new connection is served once the"
              " others are gone")
    finally:
        check(srv.stop(), "the limited endpoint stops cleanly")


def down_part(program, tmp):
    """A database that is not there: /healthz 503, /metrics without the
    store's gauges, /status 503, each at once."""
    srv = Server(program, tmp, "nodb", "host=/nonexistent-cdscan dbname=x connect_timeout=2")
    check(srv.ready, "http_serve starts without a database")
    try:
        t = time.time()
        status, _, body = request(srv.url + "/healthz")
        check(status == 503 and body == b"database unavailable\n",
              "/healthz 503 without a database (%d %r)" % (status, body))
        status, _, s, _, problems = scrape_full(srv.url + "/metrics")
        check(status == 200 and not problems and s["cdscan_database_up"][()] == 0 and
              not any(n in s for n in STORE_GAUGES) and "cdscan_scans_total" in s,
              "/metrics 200 without a database: database_up 0, no store gauges")
        status, _, body = request(srv.url + "/status/" + DOMAIN)
        check(status == 503 and json.loads(body) == {"error": "database unavailable"},
              "/status 503 without a database")
        check(time.time() - t < 5, "each answered at once (%.1f s for three)" % (time.time() - t))
    finally:
        check(srv.stop(), "it stops cleanly")


CONF = None


def main():
    global CONF
    binary, program, labdir = sys.argv[1], sys.argv[2], sys.argv[3]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    with Database(lab, "http") as database:
        db = database.conninfo
        CONF = os.path.join(tmp, "c.yaml")
        with open(CONF, "w") as f:
            f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses:"
                    " [127.0.0.0/8, '::1']\n  trust-anchor: %s\nscan:\n  timeout: 1s\n"
                    "  retries: 2\n" % (db, lab["resolver"], lab["trust_anchor"]))
        run = lambda *a: subprocess.run([binary, "-q", "-c", CONF, *a], capture_output=True,
                                        text=True)
        must(run("db", "init"), "db init")
        must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2",
                                                "test.zone")), "import")
        must(run("scan"), "scan")
        srv = Server(program, tmp, "main", db, "--statement-ms", "1000")
        if not check(srv.ready, "http_serve listening on port %d" % srv.port):
            srv.stop()
            finish()
        try:
            metrics_part(srv, db)
            health_part(srv, db)
            restart_part(srv, db)
            blocked_part(srv, db)
            status_part(srv, db)
            html_part(srv, tmp, db)
        finally:
            check(srv.stop(), "SIGTERM: the endpoint stops cleanly, exit 0")
        limits_part(program, tmp, db)
        down_part(program, tmp)
    if all_passed():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("kept %s (the endpoints' logs)" % tmp)
    finish()


if __name__ == "__main__":
    main()
