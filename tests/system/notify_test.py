#!/usr/bin/python3
"""Notifications (#19) on the lab, end to end with real components: a
registrar's CSV (domain,registry,contact) across two registry profiles,
imported --from dns; a scan that rejects bogus-dnskey.test (bogus) and makes
a DS change set for rollover.test; `epp send` to the lab's EPP server (TLS),
which applies it (change-applied).  The mails are read back from a maildir
per customer with Python's email module (headers, recipient, the reason's
text and advice in the body); the webhooks are received by a small HTTP
server here, which checks the HMAC signature and answers 500 once (the
delivery is retried, after its back-off, by the next run); the json
channel's lines are read.  Then: a scan with no state change sends nothing;
the rejection lasting `consecutive` scans sends exactly one
rejected-repeatedly; a suspension exactly one suspended; two scanners at
once on a changed state exactly one notice; an unwritable maildir leaves
the delivery pending and the next run delivers it; the daemon delivers a
suspension its scan saw and counts it in cdscan_notifications_total
(parsed by prometheus_client).
Usage: notify_test.py CDSCAN LAB_DIR"""

import email
import email.policy
import glob
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

from daemontest import Daemon, wait_for
from epp_tls_test import CA, EppServer, free_port
from labtest import Database, check, finish, load_lab, must, psql
from promcheck import scrape

SECRET = "lab-webhook-secret"


class Hooks:
    """A webhook receiver on 127.0.0.1: every POST kept (headers, body,
    whether its signature is right); the first answered 500."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ts = self.headers.get("X-Cdscan-Timestamp", "")
                want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                with outer.lock:
                    first = not outer.got
                    outer.got.append({"headers": dict(self.headers), "body": body,
                                      "signed": hmac.compare_digest(
                                          want, self.headers.get("X-Cdscan-Signature", "")),
                                      "status": 500 if first else 200})
                self.send_response(500 if first else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ok(self):
        with self.lock:
            return [h for h in self.got if h["status"] == 200]


def mails(root):
    """Every message in every customer's maildir: (customer, message)."""
    out = []
    for path in sorted(glob.glob(os.path.join(root, "*", "new", "*"))):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        out.append((path.split(os.sep)[-3], msg))
    return out


def config(tmp, lab, db, epp_port, ca_file, hooks, maildir):
    pw = os.path.join(tmp, "epp.pw")
    open(pw, "w").write("lab-password\n")
    secret = os.path.join(tmp, "hook.secret")
    open(secret, "w").write(SECRET + "\n")
    path = os.path.join(tmp, "cdscan.yaml")
    open(path, "w").write(f"""database: "{db}"
resolver:
  addresses: [{lab["resolver"]}]
  allow-addresses: [127.0.0.0/8, '::1']
  trust-anchor: {lab["trust_anchor"]}
scan:
  timeout: 1s
  retries: 2
  interval: 20s
output:
  adapter: epp-tls
registries:
  - name: lab-test
    tlds: [test]
    epp:
      server: 127.0.0.1
      port: {epp_port}
      username: lab-registrar
      password-file: {pw}
      ca-file: {ca_file}
      retries: 0
    notify:
      contact: hostmaster@registrar.example
      change-applied: [customers, hook, log]
      signal-rejected: [customers, hook, log]
      rejected-repeatedly: [customers, mta]
      suspended: [customers]
  - name: lab-net
    tlds: [net]
notifications:
  consecutive: 3
  interval: 1s
  backoff: 1s
  max-backoff: 2s
  channels:
    - name: customers
      type: mail
      maildir: {maildir}/{{contact}}
      from: dnssec@registrar.example
      from-name: Registrar DNSSEC
    - name: mta
      type: mail
      sendmail: [/usr/bin/tee, -a]
      from: dnssec@registrar.example
    - name: hook
      type: webhook
      url: http://127.0.0.1:{hooks.port}/cdscan
      secret-file: {secret}
      timeout: 5s
    - name: log
      type: json
      file: {tmp}/notices.jsonl
  templates:
    signal-rejected:
      subject: "{{domain}}: DNSSEC change refused ({{reason}})"
      body: |
        Dear customer,

        the change your DNS operator asks for was not made for {{domain}}.
        Why: {{reason_text}}
        Detail: {{detail}}
        What to do: {{advice}}
  default:
    signal-rejected: [log]
""")
    return path


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    tmp = tempfile.mkdtemp()
    ca = CA(os.path.join(tmp, "ca"), "lab-ca")
    cert = ca.leaf("server", "DNS:localhost,IP:127.0.0.1")
    hooks = Hooks()
    maildir = os.path.join(tmp, "mail")
    with EppServer(tmp, "epp", cert, lab) as server, Database(lab, "notify") as database:
        db = database.conninfo
        conf = config(tmp, lab, db, server.port, ca.pem, hooks, maildir)
        run_tests(binary, conf, db, tmp, hooks, maildir, server)
    hooks.server.shutdown()
    finish()


def counts(db, tmp, hooks, maildir):
    log = os.path.join(tmp, "notices.jsonl")
    return (len(mails(maildir)), len(hooks.got),
            len(open(log).readlines()) if os.path.exists(log) else 0,
            int(psql(db, "SELECT count(*) FROM notices")))


def run_tests(binary, conf, db, tmp, hooks, maildir, server):
    # The mta channel's command is tee: a real program run the way a
    # sendmail is (no shell, the message on its standard input, the
    # recipient its last argument), appending to a file named after it.
    mta = os.path.join(tmp, "mta")
    os.mkdir(mta)

    def run(*a):
        return subprocess.run([binary, "-c", conf, *a], capture_output=True, text=True,
                              timeout=300, cwd=mta)

    must(run("db", "init"), "db init")
    csv = os.path.join(tmp, "portfolio.csv")
    open(csv, "w").write("domain,registry,contact\n"
                         "rollover.test,lab-test,alice@customer-a.example\n"
                         "bogus-dnskey.test,lab-test,bob@customer-b.example\n"
                         "secure.test,,\"carol@customer-c.example\"\n"
                         "unchanged.test\n"
                         "provider-a.net,lab-net,dave@customer-d.example\n")
    must(run("import", "--domains", csv, "--from", "dns"), "import --domains --from dns")
    check(psql(db, "SELECT string_agg(domain || '=' || coalesce(contact, '-'), ' ' ORDER BY"
                   " domain) FROM delegations") ==
          "bogus-dnskey.test.=bob@customer-b.example provider-a.net.=dave@customer-d.example "
          "rollover.test.=alice@customer-a.example secure.test.=carol@customer-c.example "
          "unchanged.test.=-", "the contacts are stored with the delegations")

    # A contact that could inject a header is refused at the import.
    bad = os.path.join(tmp, "bad.jsonl")
    open(bad, "w").write(json.dumps({"domain": "secure.test", "registry": "lab-test",
                                     "ns": ["ns1.provider-a.net"],
                                     "contact": "bob@x.example\r\nBcc: eve@evil.example"})
                         + "\n")
    p = run("import", "--domains", bad, "--format", "jsonl")
    check(p.returncode == 65 and "bad.jsonl:1: contact" in p.stderr,
          "a contact with CR LF is refused (exit %d: %s)" % (p.returncode, p.stderr.strip()))

    p = run("scan")
    check(p.returncode == 0 and "could not remove" not in p.stderr,
          "scan (and its pruning of results and notices): exit %d %s"
          % (p.returncode, p.stderr.strip()[-300:]))
    c = counts(db, tmp, hooks, maildir)
    check(c[0] == 1 and c[2] == 1, "after the scan: one mail and one json line, for the "
          "rejection (mails, hooks, json lines, notices: %s)" % (c,))
    check(len(hooks.got) == 1 and hooks.got[0]["status"] == 500 and
          psql(db, "SELECT state || ' ' || attempts FROM notice_deliveries WHERE channel ="
                   " 'hook'") == "pending 1",
          "the webhook answered 500: the delivery waits for its retry")
    time.sleep(1.5)
    p = run("epp", "send")
    check(p.returncode == 0 and "1 change sets applied" in p.stdout,
          "epp send: %s %s" % (p.stdout.strip(), p.stderr.strip()[-300:]))

    got = mails(maildir)
    by = {who: m for who, m in got}
    check(sorted(by) == ["alice@customer-a.example", "bob@customer-b.example"],
          "mails in each customer's maildir: %s" % sorted(by))
    bob = by.get("bob@customer-b.example")
    if bob:
        body = bob.get_content()
        check(str(bob["To"]) == "bob@customer-b.example" and
              "registrar.example" in str(bob["From"]) and
              str(bob["Subject"]) == "bogus-dnskey.test: DNSSEC change refused (bogus)" and
              bob["Date"] and bob["Message-ID"] and bob["MIME-Version"] == "1.0" and
              bob.get_content_type() == "text/plain" and
              bob.get_content_charset() == "utf-8",
              "the rejection mail's headers: %s" % dict(bob.items()))
        check("does not validate with the current DS set" in body and
              "Fix the zone's signatures" in body and "Detail: " in body,
              "its body has the reason's text, the detail and the advice: %r" % body[:600])
        check(str(bob["From"]).startswith("Registrar DNSSEC"), "the From display name")
    alice = by.get("alice@customer-a.example")
    if alice:
        body = alice.get_content()
        check("rollover.test" in str(alice["Subject"]) and "applied" in str(alice["Subject"])
              and "DS records added:" in body and "(none)" not in body.split("DS records "
                                                                               "added:")[1]
              .split("\n")[0], "the change-applied mail names the DS added: %r" % body[:600])

    ok = hooks.ok()
    events = sorted(json.loads(h["body"])["event"] for h in ok)
    check(events == ["change-applied", "signal-rejected"],
          "webhooks delivered: %s (of %d requests)" % (events, len(hooks.got)))
    check(all(h["signed"] for h in hooks.got), "every webhook's HMAC-SHA256 signature checks")
    first = hooks.got[0]["headers"].get("X-Cdscan-Notice")
    check(any(h["headers"].get("X-Cdscan-Notice") == first for h in ok),
          "the request answered 500 was delivered again (notice %s)" % first)
    sig = [h for h in ok if json.loads(h["body"])["event"] == "signal-rejected"]
    if sig:
        b = json.loads(sig[0]["body"])
        check(b["domain"] == "bogus-dnskey.test." and b["registry"] == "lab-test" and
              b["verdict"]["ds"]["reasons"] == ["bogus"] and
              b["contact"] == "bob@customer-b.example",
              "the webhook's body is the notice with the verdict JSON")
    lines = [json.loads(x) for x in open(os.path.join(tmp, "notices.jsonl"))]
    check(sorted(x["event"] for x in lines) == ["change-applied", "signal-rejected"],
          "json channel: one line per notice")

    # No state change: nothing new.
    before = counts(db, tmp, hooks, maildir)
    p = run("scan", "--domain", "bogus-dnskey.test", "--domain", "secure.test",
            "--domain", "provider-a.net")
    after = counts(db, tmp, hooks, maildir)
    check(p.returncode == 0 and after == before,
          "a second scan with no state change sends nothing (%s -> %s)" % (before, after))
    # The third rejecting scan: rejected-repeatedly, to the customer only.
    p = run("scan", "--domain", "bogus-dnskey.test")
    after2 = counts(db, tmp, hooks, maildir)
    check(after2[0] == after[0] + 1 and after2[1:3] == after[1:3] and after2[3] == after[3] + 1,
          "the third rejecting scan: exactly one rejected-repeatedly mail (%s -> %s)"
          % (after, after2))
    newest = sorted(mails(maildir), key=lambda m: str(m[1]["Date"]))
    check(any("still not made after 3 checks" in str(m["Subject"]) for _, m in newest),
          "its subject counts the scans")
    piped = os.path.join(mta, "bob@customer-b.example")
    msg = email.message_from_binary_file(open(piped, "rb"), policy=email.policy.default) \
        if os.path.exists(piped) else {}
    check(os.listdir(mta) == ["bob@customer-b.example"] and
          "still not made after 3 checks" in str(msg["Subject"]) and
          "Fix the zone's signatures" in msg.get_content(),
          "and the same went to the sendmail command, with the recipient as its argument")

    # A state change: suspended, exactly one message.
    must(run("domain", "suspend", "bogus-dnskey.test", "--reason", "provider move"),
         "domain suspend")
    p = run("scan", "--domain", "bogus-dnskey.test")
    after3 = counts(db, tmp, hooks, maildir)
    check(after3[0] == after2[0] + 1 and after3[3] == after2[3] + 1,
          "suspended: exactly one more mail (%s -> %s)" % (after2, after3))

    # Resumed: rejected again; two scanners at once make one notice.
    must(run("domain", "resume", "bogus-dnskey.test"), "domain resume")
    procs = [subprocess.Popen([binary, "-c", conf, "scan", "--domain", "bogus-dnskey.test"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    for pr in procs:
        pr.wait(timeout=300)
    n = psql(db, "SELECT count(*) FROM notices n JOIN delegations d ON d.id = n.delegation_id"
                 " WHERE d.domain = 'bogus-dnskey.test.' AND n.event = 'signal-rejected'")
    check(n == "2", "two scanners at once on the changed state: one notice (signal-rejected "
          "notices of the domain: %s, one from before)" % n)

    # The maildir cannot be written: the delivery stays pending, the next run
    # delivers it (at least once, nothing lost).
    psql(db, "UPDATE notice_deliveries SET state = 'pending', next_attempt_at = now(),"
             " attempts = 0 WHERE id = (SELECT max(id) FROM notice_deliveries WHERE channel ="
             " 'customers')")
    os.rename(maildir, maildir + ".away")
    open(maildir, "w").close()
    run("epp", "send")
    pending = psql(db, "SELECT count(*) FROM notice_deliveries WHERE state = 'pending'"
                       " AND channel = 'customers'")
    os.unlink(maildir)
    os.rename(maildir + ".away", maildir)
    psql(db, "UPDATE notice_deliveries SET next_attempt_at = now() WHERE state = 'pending'")
    m0 = len(mails(maildir))
    run("epp", "send")
    check(pending == "1" and len(mails(maildir)) == m0 + 1 and
          psql(db, "SELECT count(*) FROM notice_deliveries WHERE state = 'pending'") == "0",
          "an unwritable maildir: pending (%s), delivered by the next run" % pending)
    check(psql(db, "SELECT count(*) FROM notice_deliveries WHERE state = 'failed'") == "0",
          "nothing given up")

    # The daemon: its scan sees a suspension, it delivers the notice on
    # its own, and /metrics counts it.
    must(run("domain", "suspend", "unchanged.test", "--reason", "holder asked"), "suspend")
    psql(db, "UPDATE delegations SET next_scan_at = now()")
    seen = set(glob.glob(os.path.join(maildir, "*", "new", "*")))
    m0 = len(seen)
    port = free_port()
    d = Daemon(binary, conf, os.path.join(tmp, "daemon.log"), "--http", "127.0.0.1#%d" % port)
    host = os.path.join(maildir, "hostmaster@registrar.example", "new", "*")
    got = wait_for(lambda: glob.glob(host), 60, 0.2)
    metric = lambda: scrape("http://127.0.0.1:%d/metrics" % port).get(
        "cdscan_notifications_total", {}).get((("channel", "customers"), ("outcome", "sent")))
    # Every mail the daemon wrote is counted (the bogus-dnskey.test
    # rejection may reach its third scan meanwhile: a mail of its own).
    count = lambda: len(set(glob.glob(os.path.join(maildir, "*", "new", "*"))) - seen)
    counted = wait_for(lambda: metric() == count(), 10, 0.2) if got else False
    rc = d.stop()
    new = glob.glob(host)
    msg = email.message_from_binary_file(open(new[0], "rb"), policy=email.policy.default) \
        if len(new) == 1 else {}
    check(got and len(new) == 1 and
          str(msg["Subject"]) == "unchanged.test: DNSSEC automation suspended" and
          "holder asked" in msg.get_content(),
          "the daemon's scan saw the suspension and delivered one mail, to the profile's "
          "contact (%d)" % len(new))
    check(counted, "cdscan_notifications_total{channel=customers,outcome=sent} counts the "
          "daemon's mails (%s, %d)" % (metric() if d.running() else "-", count()))
    check(rc == 0, "the daemon ended cleanly on SIGTERM (%s)" % rc)


if __name__ == "__main__":
    main()
