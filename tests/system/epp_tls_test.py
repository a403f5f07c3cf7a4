#!/usr/bin/python3
"""The epp-tls adapter against the lab's EPP server (tests/lab/epp_server.py:
TLS on loopback, RFC 5734 framing, every command checked against the EPP
schemas; their absence fails the test where they are required, labtest's
epp_schemas).  A wrong password and an unknown CA leave everything pending;
then change sets end done exactly once, through a response lost after the
change was applied (not resent), a connection lost before it was (resent
with the same clTRID), a 2400 (retried) and a slow answer; a 2306 fails its
change set with the server's message; host objects are created before and
deleted after the domain update that needs it; a second run sends nothing;
a registry lock (2304, or an <info> showing clientUpdateProhibited) fails
the change set and suspends the domain.
Server certificates for another host name (cdscan connecting by name, and
by address), expired, or not yet valid are refused before any command, with
OpenSSL's reason, by a server shown to be up and serving; the right
certificate, reached by name, is accepted.  A registry that wants a client
certificate refuses a session without one (the server shown to be serving
just before) and serves one with it.  The certificates are made here, under
a CA of the test's own (openssl req and openssl ca, for dates in the past
and the future).  Usage: epp_tls_test.py CDSCAN LAB_DIR"""

import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter

from labtest import Database, check, epp_schemas, finish, load_lab, must, psql

HERE = os.path.dirname(os.path.abspath(__file__))

# openssl ca's configuration: a throwaway CA in DIR, leaf certificates with
# the subjectAltName given in the environment.
CA_CONF = """[ca]
default_ca = lab
[lab]
database = %(dir)s/index.txt
new_certs_dir = %(dir)s
serial = %(dir)s/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[leaf]
basicConstraints = CA:false
subjectAltName = ${ENV::SAN}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def openssl(*args, env=None):
    subprocess.run(["openssl", *args], check=True, capture_output=True, env=env)


def make_cert(path, cn):
    """A self-signed certificate (PATH.pem, PATH.key): the client's."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=" + cn, "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", path + ".key", "-out", path + ".pem")


class CA:
    """A CA of the test's own (DIR/ca.pem) that signs server certificates
    with any names and any validity."""

    def __init__(self, directory, cn):
        self.dir = directory
        os.mkdir(directory)
        open(os.path.join(directory, "index.txt"), "w").close()
        open(os.path.join(directory, "serial"), "w").write("01\n")
        self.conf = os.path.join(directory, "ca.cnf")
        open(self.conf, "w").write(CA_CONF % {"dir": directory})
        self.pem = os.path.join(directory, "ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "10", "-subj", "/CN=" + cn, "-keyout",
                os.path.join(directory, "ca.key"), "-out", self.pem)

    def leaf(self, name, san, valid=(-3600, 2 * 86400)):
        """DIR/NAME.pem and .key for CN lab-epp with subjectAltName san,
        valid from now+valid[0] to now+valid[1] seconds."""
        base = os.path.join(self.dir, name)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", "/CN=lab-epp", "-keyout", base + ".key", "-out", base + ".csr")
        stamp = lambda d: time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + d))
        openssl("ca", "-batch", "-config", self.conf, "-cert", self.pem, "-keyfile",
                os.path.join(self.dir, "ca.key"), "-in", base + ".csr", "-out", base + ".pem",
                "-notext", "-extensions", "leaf", "-startdate", stamp(valid[0]),
                "-enddate", stamp(valid[1]), env=dict(os.environ, SAN=san))
        return base


def lines(path):
    return [json.loads(x) for x in open(path)] if os.path.exists(path) else []


class EppServer:
    """tests/lab/epp_server.py with one certificate, its files in a
    directory of their own; started, waited for (its ready file), stopped."""

    def __init__(self, tmp, name, cert, lab, schemas=None, extra=()):
        self.dir = os.path.join(tmp, name)
        os.mkdir(self.dir)
        self.port = free_port()
        self.log = os.path.join(tmp, name + "-server.log")
        args = [sys.executable, os.path.join(HERE, "..", "lab", "epp_server.py"), "--port",
                str(self.port), "--cert", cert + ".pem", "--key", cert + ".key", "--dir",
                self.dir, "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"),
                *extra]
        if schemas:
            args += ["--schemas", schemas]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "w"))
        # Python's start-up under a loaded machine: waited for, not slept for.
        deadline = time.time() + 60
        ready = os.path.join(self.dir, "ready")
        while not os.path.exists(ready) and self.proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if not check(os.path.exists(ready), "the lab EPP server %s is up" % name):
            print(open(self.log).read()[-2000:])
            self.stop()
            finish()

    def received(self):
        return lines(os.path.join(self.dir, "received.jsonl"))

    def applied(self):
        return lines(os.path.join(self.dir, "applied.jsonl"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def greeting(port, client=None):
    """The server's first EPP frame through a TLS session that verifies
    nothing (with a client certificate when given), or the error: proves the
    server is up and serving without sending it a command."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if client:
        ctx.load_cert_chain(client + ".pem", client + ".key")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, \
                ctx.wrap_socket(raw) as tls:
            data = b""
            while len(data) < 4 or len(data) < struct.unpack(">I", data[:4])[0]:
                chunk = tls.recv(65536)
                if not chunk:
                    return "closed after %d octets" % len(data)
                data += chunk
            return data[4:].decode()
    except (OSError, ssl.SSLError) as e:
        return "error: %s" % e


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    schemas, have_schemas, required = epp_schemas()
    if not have_schemas:
        if required:
            check(False, "the EPP schemas are required here (CI or CDSCAN_REQUIRE_EPP_SCHEMAS)"
                  " but %s has no epp-wrapper.xsd: the lab EPP server would check no command"
                  " (put them there or point CDSCAN_EPP_SCHEMAS at them)" % schemas)
            finish()
        print("note: no EPP schemas at %s: commands not schema-checked here" % schemas)
    ca = CA(os.path.join(tmp, "ca"), "lab-ca")
    other_ca = CA(os.path.join(tmp, "other-ca"), "someone-else")
    server_cert = ca.leaf("server", "DNS:localhost,IP:127.0.0.1")
    with EppServer(tmp, "epp", server_cert, lab, schemas if have_schemas else None) as server:
        with Database(lab, "epptls") as database:
            run_tests(binary, lab, tmp, server, ca, other_ca, database.conninfo, have_schemas)
    certificate_refusals(binary, lab, tmp, ca, server_cert)
    with Database(lab, "epptlscc") as database:
        client_certificates(binary, lab, tmp, ca, server_cert, database.conninfo)
    finish()


def epp_config(tmp, name, lab, db, server, port, ca_file, extra=""):
    """A configuration for one registry reached at server:port."""
    pw = os.path.join(tmp, name + ".pw")
    open(pw, "w").write("lab-password\n")
    path = os.path.join(tmp, name + ".yaml")
    open(path, "w").write(
        "database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
        "scan:\n  timeout: 1s\n  retries: 2\noutput:\n  adapter: epp-tls\n"
        "registries:\n  - name: lab\n    tlds: [test]\n    epp:\n"
        "      server: %s\n      port: %d\n      username: lab-registrar\n"
        "      password-file: %s\n      ca-file: %s\n      retries: 0\n%s"
        % (db, lab["resolver"], lab["trust_anchor"], server, port, pw, ca_file, extra))
    return path


def one_pending(binary, lab, conf, db):
    """db init, import, and a scan of rollover.test: one DS change set."""
    run = lambda *a: subprocess.run([binary, "-c", conf, *a], capture_output=True, text=True,
                                    timeout=120)
    must(run("db", "init"), "db init")
    must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")),
         "import")
    must(run("scan", "--domain", "rollover.test"), "scan of rollover.test")
    n = psql(db, "SELECT count(*) FROM change_sets WHERE state = 'pending'")
    if not check(n == "1", "one change set pending for the session tests (%s)" % n):
        finish()


def certificate_refusals(binary, lab, tmp, ca, good):
    """Each server certificate wrong in one way: cdscan ends the session in
    the handshake (exit 69, "certificate: " and OpenSSL's reason in its
    log), the server, serving, receives no command, nothing is applied.
    Then the right certificate, reached by name: applied.  Each case has a
    database of its own, so that one accepted certificate cannot make the
    next case pass for want of anything to send."""
    cases = [
        # (what, cdscan connects to, the certificate's names, validity, OpenSSL's reason)
        ("a certificate for another host name, reached by name", "localhost",
         "DNS:epp.other.invalid,IP:127.0.0.1", None, "hostname mismatch"),
        ("a certificate for another address, reached by address", "127.0.0.1",
         "DNS:localhost,IP:127.0.0.2", None, "IP address mismatch"),
        ("an expired certificate", "127.0.0.1", "DNS:localhost,IP:127.0.0.1",
         (-3 * 86400, -86400), "certificate has expired"),
        ("a certificate not yet valid", "127.0.0.1", "DNS:localhost,IP:127.0.0.1",
         (86400, 3 * 86400), "certificate is not yet valid"),
    ]
    for i, (what, host, san, valid, reason) in enumerate(cases):
        cert = ca.leaf("bad%d" % i, san, *([valid] if valid else []))
        with Database(lab, "epptlscert%d" % i) as database, \
                EppServer(tmp, "epp-bad%d" % i, cert, lab) as server:
            db = database.conninfo
            conf = epp_config(tmp, "bad%d" % i, lab, db, host, server.port, ca.pem)
            one_pending(binary, lab, conf, db)
            hello = greeting(server.port)
            check("<greeting>" in hello, "%s: the server is up and greets%s"
                  % (what, "" if "<greeting>" in hello else ": " + hello[:200]))
            p = subprocess.run([binary, "-c", conf, "epp", "send"], capture_output=True,
                               text=True, timeout=120)
            want = "%s: certificate: %s" % (host, reason)
            check(p.returncode == 69 and want in p.stderr,
                  "%s: refused, exit 69, \"%s\" said: %d %s"
                  % (what, want, p.returncode, p.stderr.strip()[-300:]))
            check(not server.received() and not server.applied() and
                  psql(db, "SELECT state FROM change_sets") == "pending",
                  "%s: the server received no command (%d), the change set stays pending"
                  % (what, len(server.received())))
    with Database(lab, "epptlsname") as database, \
            EppServer(tmp, "epp-good", good, lab) as server:
        db = database.conninfo
        conf = epp_config(tmp, "good", lab, db, "localhost", server.port, ca.pem)
        one_pending(binary, lab, conf, db)
        p = subprocess.run([binary, "-c", conf, "epp", "send"], capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0 and len(server.applied()) == 1 and
              psql(db, "SELECT state FROM change_sets") == "done",
              "the right certificate, reached by name (localhost): applied (%d) %s"
              % (p.returncode, p.stderr.strip()[-200:]))


def client_certificates(binary, lab, tmp, ca, server_cert, db):
    """A registry that requires a client certificate: refused without one,
    served with it."""
    client = os.path.join(tmp, "client")
    make_cert(client, "lab-registrar")
    with EppServer(tmp, "epp-cc", server_cert, lab,
                   extra=("--client-ca", client + ".pem")) as server:
        conf = epp_config(tmp, "cc", lab, db, "127.0.0.1", server.port, ca.pem)
        one_pending(binary, lab, conf, db)
        # Serving sessions with the certificate right before the refusal, so
        # that the refusal cannot be a server that is not there.
        hello = greeting(server.port, client)
        check("<greeting>" in hello, "the server greets a session with the client certificate%s"
              % ("" if "<greeting>" in hello else ": " + hello[:200]))
        p = subprocess.run([binary, "-c", conf, "epp", "send"], capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 69 and "out of reach" in p.stderr and not server.received()
              and psql(db, "SELECT state FROM change_sets") == "pending",
              "a registry that wants a client certificate: nothing sent without one: %d %s"
              % (p.returncode, p.stderr.strip()[-400:]))
        conf = epp_config(tmp, "cc-cert", lab, db, "127.0.0.1", server.port, ca.pem,
                          "      client-certificate: %s.pem\n      client-key: %s.key\n"
                          % (client, client))
        p = subprocess.run([binary, "-c", conf, "epp", "send"], capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0 and len(server.applied()) == 1,
              "with the client certificate: applied (%d) %s" % (p.returncode,
                                                               p.stderr.strip()[-200:]))


def run_tests(binary, lab, tmp, server, ca, other_ca, db, have_schemas):
    sdir, port = server.dir, server.port
    pwfile = os.path.join(tmp, "pw")

    def config(password, ca, timeout="3s"):
        open(pwfile, "w").write(password + "\n")
        path = os.path.join(tmp, "c.yaml")
        open(path, "w").write(
            "database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
            "scan:\n  timeout: 1s\n  retries: 2\noutput:\n  adapter: epp-tls\n"
            "registries:\n  - name: lab\n    tlds: [test]\n    epp:\n"
            "      server: 127.0.0.1\n      port: %d\n      username: lab-registrar\n"
            "      password-file: %s\n      ca-file: %s\n      timeout: %s\n      retries: 2\n"
            % (db, lab["resolver"], lab["trust_anchor"], port, pwfile, ca, timeout))
        return path

    def run(conf, *a):
        return subprocess.run([binary, "-c", conf, *a], capture_output=True, text=True,
                              timeout=300)

    good_ca = ca.pem
    conf = config("lab-password", good_ca)
    must(run(conf, "db", "init"), "db init")
    must(run(conf, "import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2",
                                                    "test.zone")), "import")
    must(run(conf, "scan"), "scan")
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
    # A server certificate the configured CA did not sign (the server
    # answered the login just before: it is up).
    received = len(server.received())
    conf = config("lab-password", other_ca.pem)
    p = run(conf, "epp", "send")
    want = "127.0.0.1: certificate: unable to get local issuer certificate"
    check(p.returncode == 69 and want in p.stderr and len(server.received()) == received
          and not server.applied(),
          "a certificate of an unknown CA: exit 69, \"%s\" said, no command received: %d %s"
          % (want, p.returncode, p.stderr.strip()[-200:]))

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
    registry_lock(run, conf, sdir, db, lab)


def registry_lock(run, conf, sdir, db, lab):
    """A domain locked at the registry (RFC 5731 §2.3 serverUpdateProhibited,
    clientUpdateProhibited): the update is answered 2304, or an <info>
    after an unknown outcome shows the lock; the change set fails and the
    domain is suspended by the registry, until an operator resumes it."""
    def new_change_set(domain):
        # The registry's next import first: without it the change already
        # applied (done) is awaited, not proposed again (0005_zone_imports).
        run(conf, "import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone"))
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
