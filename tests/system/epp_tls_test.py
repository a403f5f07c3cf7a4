#!/usr/bin/python3
"""The epp-tls adapter against the lab's EPP server (tests/lab/epp_server.py:
TLS on loopback, RFC 5734 framing, every command checked against the EPP
schemas when they are present): a wrong password and an unknown
certificate leave everything pending; then change sets end done exactly
once, through a response lost after the change was applied (not resent), a
connection lost before it was (resent with the same clTRID), a 2400 (retried)
and a slow answer; a 2306 fails its change set with the server's message;
host objects are created before and deleted after the domain update that
needs it; a second run sends nothing; a registry lock (2304, or an <info>
showing clientUpdateProhibited) fails the change set and suspends the
domain.  Usage: epp_tls_test.py CDSCAN
LAB_DIR"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

from labtest import Database, check, finish, load_lab, psql

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_cert(path, cn):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path + ".key",
                    "-out", path + ".pem"], check=True, capture_output=True)


def lines(path):
    return [json.loads(x) for x in open(path)] if os.path.exists(path) else []


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    schemas = os.environ.get("CDSCAN_EPP_SCHEMAS",
                             os.path.join(HERE, "..", "..", "..", "shared", "epp-schemas"))
    have_schemas = os.path.exists(os.path.join(schemas, "epp-wrapper.xsd"))
    make_cert(os.path.join(tmp, "server"), "lab-epp")
    make_cert(os.path.join(tmp, "other"), "someone-else")
    sdir = os.path.join(tmp, "epp")
    os.mkdir(sdir)
    port = free_port()
    args = [sys.executable, os.path.join(HERE, "..", "lab", "epp_server.py"), "--port",
            str(port), "--cert", os.path.join(tmp, "server.pem"), "--key",
            os.path.join(tmp, "server.key"), "--dir", sdir, "--zone",
            os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")]
    if have_schemas:
        args += ["--schemas", schemas]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(
        os.path.join(tmp, "epp-server.log"), "w"))
    try:
        for _ in range(100):
            if os.path.exists(os.path.join(sdir, "ready")):
                break
            time.sleep(0.05)
        check(os.path.exists(os.path.join(sdir, "ready")), "the lab EPP server is up")
        with Database(lab, "epptls") as database:
            run_tests(binary, lab, tmp, sdir, port, database.conninfo, have_schemas)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    client_certificates(binary, lab, tmp, args)
    finish()


def client_certificates(binary, lab, tmp, server_args):
    """A registry that requires a client certificate: refused without one,
    served with it."""
    make_cert(os.path.join(tmp, "client"), "lab-registrar")
    sdir = os.path.join(tmp, "epp-cc")
    os.mkdir(sdir)
    port = free_port()
    args = list(server_args)
    args[args.index("--port") + 1] = str(port)
    args[args.index("--dir") + 1] = sdir
    args += ["--client-ca", os.path.join(tmp, "client.pem")]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(os.path.join(sdir, "ready")):
                break
            time.sleep(0.05)
        with Database(lab, "epptlscc") as database:
            db = database.conninfo
            pw = os.path.join(tmp, "pw-cc")
            open(pw, "w").write("lab-password\n")

            def config(extra):
                path = os.path.join(tmp, "cc.yaml")
                open(path, "w").write(
                    "database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                    "scan:\n  timeout: 1s\n  retries: 1\noutput:\n  adapter: epp-tls\n"
                    "registries:\n  - name: lab\n    tlds: [test]\n    epp:\n"
                    "      server: 127.0.0.1\n      port: %d\n      username: lab-registrar\n"
                    "      password-file: %s\n      ca-file: %s\n      retries: 0\n%s"
                    % (db, lab["resolver"], lab["trust_anchor"], port, pw,
                       os.path.join(tmp, "server.pem"), extra))
                return path
            conf = config("")
            run = lambda c, *a: subprocess.run([binary, "-c", c, *a], capture_output=True,
                                               text=True, timeout=120)
            run(conf, "db", "init")
            run(conf, "import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2",
                                                       "test.zone"))
            run(conf, "scan", "--domain", "rollover.test")
            p = run(conf, "epp", "send")
            check(p.returncode == 69 and not lines(os.path.join(sdir, "applied.jsonl")),
                  "a registry that wants a client certificate: nothing sent without one")
            conf = config("      client-certificate: %s\n      client-key: %s\n"
                          % (os.path.join(tmp, "client.pem"), os.path.join(tmp, "client.key")))
            p = run(conf, "epp", "send")
            check(p.returncode == 0 and len(lines(os.path.join(sdir, "applied.jsonl"))) == 1,
                  "with the client certificate: applied (%d) %s" % (p.returncode,
                                                                   p.stderr.strip()[-200:]))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def run_tests(binary, lab, tmp, sdir, port, db, have_schemas):
    pwfile = os.path.join(tmp, "pw")

    def config(password, ca, timeout="3s"):
        open(pwfile, "w").write(password + "\n")
        path = os.path.join(tmp, "c.yaml")
        open(path, "w").write(
            "database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
            "scan:\n  timeout: 1s\n  retries: 1\noutput:\n  adapter: epp-tls\n"
            "registries:\n  - name: lab\n    tlds: [test]\n    epp:\n"
            "      server: 127.0.0.1\n      port: %d\n      username: lab-registrar\n"
            "      password-file: %s\n      ca-file: %s\n      timeout: %s\n      retries: 2\n"
            % (db, lab["resolver"], lab["trust_anchor"], port, pwfile, ca, timeout))
        return path

    def run(conf, *a):
        return subprocess.run([binary, "-c", conf, *a], capture_output=True, text=True,
                              timeout=300)

    good_ca = os.path.join(tmp, "server.pem")
    conf = config("lab-password", good_ca)
    run(conf, "db", "init")
    run(conf, "import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
    run(conf, "scan")
    rows = {}
    for r in psql(db, "SELECT c.id, d.domain, c.kind, c.cltrid FROM change_sets c JOIN"
                      " delegations d ON d.id = c.delegation_id").splitlines():
        k, domain, kind, cltrid = r.split("|")
        rows[k] = (domain, kind, cltrid)
    check(len(rows) >= 10, "%d change sets pending after the scan" % len(rows))

    # A wrong password: the login is refused; nothing is applied or marked.
    conf = config("wrong-secret", good_ca)
    p = run(conf, "epp", "send")
    check(p.returncode == 69 and "login refused" in p.stderr and "wrong-secret" not in p.stderr
          and psql(db, "SELECT count(*) FROM change_sets WHERE state = 'pending'")
          == str(len(rows)),
          "a refused login: exit 69, the reason said, the password not: %d %s"
          % (p.returncode, p.stderr.strip()[-200:]))
    # A server certificate the configured CA did not sign.
    conf = config("lab-password", os.path.join(tmp, "other.pem"))
    p = run(conf, "epp", "send")
    check(p.returncode == 69 and "certificate" in p.stderr and not lines(
        os.path.join(sdir, "applied.jsonl")),
          "an unverifiable certificate: nothing sent: %s" % p.stderr.strip()[-200:])

    # The script: misbehaviour per object name.
    script = {"rollover.test": ["drop-after"], "rollover-done.test": ["drop-before"],
              "cdnskey-only.test": ["2400"], "multi-ok.test": ["slow:1"],
              "fresh.test": ["2306"]}
    json.dump(script, open(os.path.join(sdir, "script.json"), "w"))
    conf = config("lab-password", good_ca)
    p = run(conf, "epp", "send")
    state = dict(r.split("|", 1) for r in psql(
        db, "SELECT d.domain || '/' || c.kind, c.state || '|' || coalesce(c.last_error, '')"
            " FROM change_sets c JOIN delegations d ON d.id = c.delegation_id").splitlines())
    failed = {k: v for k, v in state.items() if not v.startswith("done")}
    check(set(failed) == {"fresh.test./ds"} and "2306" in failed["fresh.test./ds"] and
          "Scripted failure" in failed["fresh.test./ds"],
          "every change set done but the 2306 one, failed with the server's message: %s"
          % failed)
    applied = lines(os.path.join(sdir, "applied.jsonl"))
    counts = Counter(a["cltrid"] for a in applied)
    check(counts and max(counts.values()) == 1,
          "no command applied twice (%d applied)" % len(applied))
    main_ids = {c for (_, _, c) in rows.values()}
    done_ids = {rows[k][2] for k in rows if state.get("%s/%s" % rows[k][:2], "").startswith(
        "done")}
    check(done_ids <= set(counts), "every done change set's command was applied")
    received = lines(os.path.join(sdir, "received.jsonl"))
    by = Counter((r["cltrid"], r["command"]) for r in received)
    roll = rows[[k for k in rows if rows[k][0] == "rollover.test."][0]][2]
    check(by[(roll, "update")] == 1 and by[(roll + "-info", "info")] >= 1,
          "response lost after the change: checked with info, not resent (%d sends)"
          % by[(roll, "update")])
    rdone = rows[[k for k in rows if rows[k][0] == "rollover-done.test."][0]][2]
    check(by[(rdone, "update")] == 2 and counts[rdone] == 1,
          "connection lost before the change: resent with the same clTRID, applied once")
    cdk = rows[[k for k in rows if rows[k][0] == "cdnskey-only.test."][0]][2]
    check(by[(cdk, "update")] == 2 and counts[cdk] == 1, "2400: retried, then applied once")
    if have_schemas:
        bad = [r for r in received if r["valid"] is not True]
        check(not bad, "every command the server received is valid against the EPP schemas"
              " (%d commands)" % len(received))
    else:
        print("note: no EPP schemas (CDSCAN_EPP_SCHEMAS): commands not schema-checked here")
    # Host objects in an order the server accepts (it refuses others).
    order = [(a["command"], a["name"]) for a in applied]
    nh = [i for i, a in enumerate(order) if a == ("create", "ns3.csync-new-host.test")]
    nd = [i for i, a in enumerate(order) if a == ("update", "csync-new-host.test")]
    check(nh and nd and nh[0] < nd[0], "host:create before the domain update that names it")
    dh = [i for i, a in enumerate(order) if a[0] == "delete"]
    dd = [i for i, a in enumerate(order) if a == ("update", "csync-drop-host.test")]
    check(dh and dd and dd[0] < dh[0], "host:delete after the domain update that drops it")
    sv = psql(db, "SELECT count(*) FROM change_sets WHERE state = 'done' AND svtrid LIKE 'LAB-%'")
    check(int(sv or 0) >= len(rows) - 3, "the registry's svTRID is kept (%s)" % sv)
    check(p.returncode == 0 and "applied by the registries" in p.stdout,
          "epp send exit 0: %s" % p.stdout.strip())
    n = len(applied)
    p = run(conf, "epp", "send")
    check(p.returncode == 0 and p.stdout.startswith("0 change sets applied") and
          len(lines(os.path.join(sdir, "applied.jsonl"))) == n, "a second run sends nothing")
    registry_lock(run, conf, sdir, db)


def registry_lock(run, conf, sdir, db):
    """A domain locked at the registry (RFC 5731 §2.3 serverUpdateProhibited,
    clientUpdateProhibited): the update is answered 2304, or an <info>
    after an unknown outcome shows the lock; the change set fails and the
    domain is suspended by the registry, until an operator resumes it."""
    def new_change_set(domain):
        run(conf, "scan", "--domain", domain)
        return psql(db, "SELECT c.id || '|' || c.cltrid FROM change_sets c JOIN delegations d"
                        " ON d.id = c.delegation_id WHERE d.domain = '%s' AND c.state ="
                        " 'pending'" % domain).split("|")

    def outcome(domain, cs_id):
        return psql(db, "SELECT c.state || '|' || coalesce(c.last_error, '') || '|' ||"
                        " coalesce(d.suspended_by, '') || '|' || coalesce(d.suspended_reason, '')"
                        " FROM change_sets c JOIN delegations d ON d.id = c.delegation_id"
                        " WHERE c.id = %s" % cs_id).split("|")

    json.dump({"rollover.test": ["serverUpdateProhibited"],
               "fresh.test": ["clientUpdateProhibited", "clientDeleteProhibited"]},
              open(os.path.join(sdir, "status.json"), "w"))
    roll_id, roll_cltrid = new_change_set("rollover.test.")
    fresh_id, fresh_cltrid = new_change_set("fresh.test.")
    # An earlier send of this one (its change is not in place: the 2306
    # above) was begun and its outcome is unknown.
    psql(db, "UPDATE change_sets SET attempts = 1 WHERE id = %s" % fresh_id)
    p = run(conf, "epp", "send")
    st = outcome("rollover.test.", roll_id)
    check(p.returncode == 0 and st[0] == "failed" and "2304" in st[1] and st[2] == "registry"
          and "2304" in st[3] and "serverUpdateProhibited" in st[3],
          "2304 to the update: the change set fails, the domain is suspended by the registry,"
          " with the status: %s" % st)
    st = outcome("fresh.test.", fresh_id)
    sent = [r for r in lines(os.path.join(sdir, "received.jsonl"))
            if r["cltrid"] == fresh_cltrid]
    check(st[0] == "failed" and st[2] == "registry" and "clientUpdateProhibited" in st[3] and
          "clientDeleteProhibited" not in st[3] and not sent,
          "an <info> showing the lock after an unknown outcome: not sent, failed, suspended:"
          " %s (%d sends)" % (st, len(sent)))
    check("rollover.test. suspended" in p.stderr and "cdscan domain resume" in p.stderr,
          "the log says the domain is suspended and how to resume it")
    ev = psql(db, "SELECT count(*) FROM domain_events WHERE event = 'suspend' AND actor ="
                  " 'registry'")
    check(ev == "2", "the suspensions are in the domains' history (%s)" % ev)
    p = run(conf, "domain", "resume", "rollover.test", "--reason", "lock lifted")
    check(p.returncode == 0 and psql(db, "SELECT suspended_at IS NULL FROM delegations WHERE"
                                         " domain = 'rollover.test.'") == "t",
          "an operator resumes it: " + p.stdout.strip())


if __name__ == "__main__":
    main()
