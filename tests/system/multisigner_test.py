#!/usr/bin/python3
"""Issue #18: a signed zone changes DNS provider through multi-signer, with
cdscan as the parent, and no resolver ever sees a failure.

A lab of its own (tests/lab/multisigner/, every TTL --ttl seconds, which
the resolvers also keep as their cache limit), in a network namespace of
its own: the lab's EPP server applies what it accepts
to test. and the lab's NSD serves it (epp_server.py --publish), so the
parent's DS and NS really change, and cdscan runs as a registry would:

  --driver scan    after each signal: `cdscan scan --domain`, `cdscan epp
                   send` (epp-tls), then `cdscan import` of the parent zone
                   the registry published (as its nightly import would);
  --driver daemon  `cdscan daemon` (epp-tls output) on the lab's NOTIFY
                   target; the child finds it through the TLD's DSYNC
                   records (RFC 9859) and sends NOTIFY(CDS) or NOTIFY(CSYNC)
                   after each signal; the import as above.

The child (tests/lab/multisigner.py) moves move.test. from alpha.net (A)
to beta.net (B), each step waiting the TTLs the servers give.  Throughout,
a glitch detector (tests/lab/glitch_detector.py) asks the lab's validating
Unbound and Knot Resolver, from three client addresses, every 100 ms, for
move.test SOA, TXT and DNSKEY: every answer must be NOERROR with AD (Knot
Resolver giving up on its own iteration limit is shown apart: at most two
such instants).

After each signal the child signals again before the registry's import:
no second change set.  The detector sees what two resolvers happened to
cache; the model (multisigner.unsafe_windows) checks every combination of
DS, NS and DNSKEY RRsets any resolver may hold at every instant (RFC 8901
model 2's two conditions) and must find nothing.  It can: hasty.test moves
the same way with no TTL waited, cdscan taking every step, and there the
model must find where a resolver could fail.

Negative runs, same detector on their zones:
  jump.test   CSYNC moves the NS to B while the DS names only A's key:
              cdscan refuses (csync-breaks-chain) and nothing fails; the
              same NS change forced by a raw EPP update (bypassing cdscan)
              makes the resolvers fail;
  early.test  CDS drops A's key while A still serves: cdscan refuses
              (breaks-chain), nothing fails.

Prints the timeline (step, signal, cdscan's verdict, change set, EPP
applied, parent serial, the detector's counts) and writes it as JSON and
text with --timeline FILE.  Needs root (port 53, unshare).
Usage: multisigner_test.py CDSCAN [--driver scan|daemon] [--ttl N]
                           [--timeline FILE] [--keep DIR]"""

import argparse
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

import dns.exception
import dns.message
import dns.query
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
LABDIR_SRC = os.path.join(HERE, "..", "lab")
sys.path.insert(0, HERE)
sys.path.insert(0, LABDIR_SRC)
from labtest import check, epp_schemas, finish, must, psql, run_in_own_netns  # noqa: E402
from daemontest import wait_for  # noqa: E402
from epp_tls_test import CA, EppServer, lines  # noqa: E402
import lab  # noqa: E402
import multisigner  # noqa: E402
import notify_sender  # noqa: E402
from glitch_detector import Detector  # noqa: E402

CLIENTS = ["127.53.9.1", "127.53.9.2", "127.53.9.3"]
A, B = "alpha.net.", "beta.net."
KRESD = ["--kresd"]
KR_ITER_EDE = "exceeded iteration count limit"


def fq(names):
    return sorted(lab.fqdn(n) for n in names)


def up(d, ttl):
    p = subprocess.run([sys.executable, os.path.join(LABDIR_SRC, "lab.py"), "up", "--dir", d,
                        "--ttl", str(ttl), "--cache-max-ttl", str(ttl), *KRESD, "--scenarios",
                        os.path.join(LABDIR_SRC, "multisigner")],
                       capture_output=True, text=True, timeout=300)
    must(p, "lab.py up (the multi-signer lab)")
    print(p.stdout.strip())
    return json.load(open(os.path.join(d, "lab.json")))


def down(d):
    subprocess.run([sys.executable, os.path.join(LABDIR_SRC, "lab.py"), "down", "--dir", d],
                   timeout=120)


class Parent:
    """The registry's side: cdscan with its configuration, the lab's EPP
    server, and the import of each zone the registry publishes."""

    def __init__(self, binary, info, tmp, driver):
        self.binary, self.info, self.tmp, self.driver = binary, info, tmp, driver
        self.db = info["database"]
        schemas, have, required = epp_schemas()
        if required and not have:
            check(False, "the EPP schemas are required here but %s has none" % schemas)
            finish()
        ca = CA(os.path.join(tmp, "ca"), "lab-ca")
        cert = ca.leaf("server", "DNS:localhost,IP:127.0.0.1")
        self.epp = EppServer(tmp, "registry", cert, info, schemas if have else None,
                             extra=("--publish", info["dir"]))
        pw = os.path.join(tmp, "epp.pw")
        open(pw, "w").write("lab-password\n")
        self.conf = os.path.join(tmp, "cdscan.yaml")
        with open(self.conf, "w") as f:
            f.write(CONFIG % {"db": self.db, "resolver": info["resolver"],
                              "ta": info["trust_anchor"], "port": self.epp.port, "pw": pw,
                              "ca": ca.pem, "target": info["notify_target"]["address"]})
        self.parent_zone = info["parents"]["test."]["unsigned"]
        must(self.run("db", "init"), "db init")
        must(self.run("import", "--zone", self.parent_zone), "import of test.")
        self.daemon = None
        if driver == "daemon":
            self.daemon_log = os.path.join(tmp, "daemon.log")
            self.daemon = subprocess.Popen([binary, "-c", self.conf, "daemon"],
                                           stdout=open(self.daemon_log, "w"),
                                           stderr=subprocess.STDOUT)
            ok = wait_for(lambda: "daemon started" in open(self.daemon_log).read() or
                          self.daemon.poll() is not None, 60)
            if not check(ok and self.daemon.poll() is None, "cdscan daemon started"):
                print(open(self.daemon_log).read()[-3000:])
                finish()

    def run(self, *args):
        return subprocess.run([self.binary, "-c", self.conf, *args], capture_output=True,
                              text=True, timeout=300)

    def signal(self, zone, qtype):
        """The child told the parent (daemon: a NOTIFY after RFC 9859
        discovery) or the registry's next scan of it (scan): what happened,
        for the timeline."""
        if self.driver == "daemon":
            # The sender's discovery asks the lab's resolver, which the
            # detectors keep busy: on a loaded machine an answer can come
            # late.  A real operator sends again (RFC 1996 §3.6); what
            # cdscan does with the NOTIFY is what the test checks.
            for attempt in range(1, 4):
                try:
                    target, reply = notify_sender.notify(zone, qtype, self.info["resolver"])
                    return "NOTIFY(%s) to %s: %s" % (qtype, target.address, reply.rcode_text)
                except notify_sender.NotifyError as e:
                    print("NOTIFY(%s) for %s, try %d: %s" % (qtype, zone, attempt, e))
                    if attempt == 3:
                        raise
                    time.sleep(1)
        must(self.run("scan", "--domain", zone), "scan --domain %s" % zone)
        must(self.run("epp", "send"), "epp send")
        return "scan + epp send"

    def import_zone(self):
        must(self.run("import", "--zone", self.parent_zone), "import of the published test.")

    def published(self, zone, since):
        return [e for e in lines(os.path.join(self.epp.dir, "published.jsonl"))
                if e["name"] == zone.rstrip(".") and e["time"] >= since]

    def results(self, zone, since):
        """scan_results of zone since (epoch): [(time, ds action, ns action,
        reasons, id)]."""
        out = psql(self.db, "SELECT extract(epoch FROM r.scanned_at), r.ds_action, r.ns_action,"
                   " array_to_string(r.reasons, ' '), r.id FROM scan_results r JOIN delegations d"
                   " ON d.id = r.delegation_id WHERE d.domain = '%s' AND r.scanned_at >="
                   " to_timestamp(%f) ORDER BY r.scanned_at" % (lab.fqdn(zone), since))
        return [(float(t), da, na, rs, int(i)) for t, da, na, rs, i in
                (row.split("|") for row in out.splitlines() if row)]

    def change_sets(self, zone, since=0):
        out = psql(self.db, "SELECT c.id, c.kind, array_to_string(c.add, ','),"
                   " array_to_string(c.rem, ','), c.cltrid, c.state,"
                   " extract(epoch FROM c.created_at) FROM change_sets c JOIN delegations d"
                   " ON d.id = c.delegation_id WHERE d.domain = '%s' AND c.created_at >="
                   " to_timestamp(%f) ORDER BY c.id" % (lab.fqdn(zone), since))
        return [dict(zip(("id", "kind", "add", "rem", "cltrid", "state", "created"),
                         row.split("|"))) for row in out.splitlines() if row]

    def stop(self):
        if self.daemon:
            if self.daemon.poll() is None:
                self.daemon.terminate()
            try:
                rc = self.daemon.wait(60)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                rc = self.daemon.wait()
            log = open(self.daemon_log).read()
            check(rc == 0 and "daemon stopped" in log and "runtime error" not in log and
                  "Sanitizer" not in log, "the daemon ends cleanly on SIGTERM (exit %s), no "
                  "sanitizer report" % rc)
        self.epp.stop()


CONFIG = """database: "%(db)s"
resolver:
  addresses: [%(resolver)s]
  allow-addresses: [127.0.0.0/8]
  trust-anchor: %(ta)s
scan:
  timeout: 1s
  retries: 2
  interval: 7d
registries:
  - name: lab
    tlds: [test]
    epp:
      server: 127.0.0.1
      port: %(port)d
      username: lab-registrar
      password-file: %(pw)s
      ca-file: %(ca)s
output:
  adapter: epp-tls
daemon:
  listen: ["%(target)s"]
  notify:
    domain-interval: 1s
    domain-burst: 5
"""


def rel(t, t0):
    return "%6.1f" % (t - t0) if t else "     -"


def operator(info, zone):
    a = multisigner.Provider(info, zone, A, "ka", "za")
    b = multisigner.Provider(info, zone, B, "kb", "zb")
    return multisigner.ChildOperator(info, zone, a, b, ['@ TXT "multi-signer provider change"'])


def run_story(parent, info, detector, t0, zone="move.test.", hasty=False):
    """Every step of multisigner.provider_change for zone, the parent
    driven by cdscan; hasty: the child waits out no TTL (the model must
    then find where a resolver could fail).  (rows, op, done)."""
    op = operator(info, zone)
    rows = []
    for n, step in enumerate(multisigner.provider_change(op), 1):
        detector.mark("%s step %d" % (zone, n))
        before = {r: detector.counts(zone, r) for r in info["resolvers"]}
        start = time.time()
        # The TTLs before the change and after it: the longer is waited.
        ttls = dict(step.wait(op))
        serial = step.act()
        row = {"step": n if not hasty else "H%d" % n, "name": step.name, "start": start,
               "child_serial": serial, "signal": step.signal or "-"}
        if step.signal:
            if not parent_step(parent, zone, step, n, start, row):
                return rows, op, False
        else:
            check(not parent.change_sets(zone, start) and not parent.published(zone, start),
                  "%s step %d (%s): no signal, and no change set, nothing published"
                  % (zone, n, step.name))
        waits = [(w, max(secs, ttls.get(w, 0))) for w, secs in step.wait(op)]
        row["waits"] = [] if hasty else waits
        if not hasty:
            # The TTLs run at once: wait out the longest (and a second
            # more, for the resolvers' rounding and the time an answer
            # takes).
            time.sleep(max(secs for _, secs in waits) + 1)
        after = {r: detector.counts(zone, r) for r in info["resolvers"]}
        row["answers"] = sum(after[r][0] - before[r][0] for r in after)
        row["glitches"] = sum(after[r][1] - before[r][1] for r in after)
        row["end"] = time.time()
        if not hasty:
            # Each resolver asked all along (a detector thread that died
            # would leave a gap): at least a third of the intended rate.
            want = (row["end"] - start) * 10 * len(CLIENTS) * 4 / 3
            for r in after:
                check(after[r][0] - before[r][0] >= want, "%s step %d: %s answered %d times "
                      "(at least %d)" % (zone, n, r, after[r][0] - before[r][0], want))
        rows.append(row)
        print_row(row, t0)
    return rows, op, True


def parent_serves(info, zone):
    """(NS names, DS rdata) the parent's server gives for zone, RD=0:
    the referral's NS and the DS answer; None when it did not answer."""
    addr = info["parents"]["test."]["server"]
    ask = lambda t: dns.query.udp(dns.message.make_query(zone, t, flags=0), addr,  # noqa
                                  timeout=2)
    try:
        ns, ds = ask("NS"), ask("DS")
    except dns.exception.Timeout:
        # A loaded machine: the callers poll, and say what they saw last.
        return None
    names = [r.target.to_text() for rr in ns.authority + ns.answer
             if rr.rdtype == dns.rdatatype.NS for r in rr]
    digests = [r.to_text().upper() for rr in ds.answer if rr.rdtype == dns.rdatatype.DS
               for r in rr]
    return fq(names), sorted("%s %s %s %s" % (d.split()[0], d.split()[1], d.split()[2],
                                             "".join(d.split()[3:])) for d in digests)


def parent_step(parent, zone, step, n, start, row):
    """The parent's part of a signalling step: cdscan takes it, the
    registry publishes it, the child signals again before the import (no
    second change set), the import.  False when the parent never got
    there."""
    row["sent"] = parent.signal(zone, step.signal)
    pub = wait_for(lambda: [p for p in parent.published(zone, start)
                            if fq(p.get("ns", [])) == fq(step.expect["ns"]) and
                            sorted(p.get("ds", [])) == step.expect["ds"]], 120)
    if not check(pub, "%s step %d (%s): the parent holds NS %s, DS %s"
                 % (zone, n, step.name, fq(step.expect["ns"]), step.expect["ds"])):
        print("published:", parent.published(zone, start))
        print("scans:", parent.results(zone, start))
        return False
    # The child, as a real one, waits from what the parent's server
    # serves (RD=0), not from what the registry says it published.
    serves = wait_for(lambda: parent_serves(parent.info, zone) == (fq(step.expect["ns"]),
                                                                  step.expect["ds"]), 30, 0.1)
    check(serves, "%s step %d: the parent's server serves that NS and DS set (%s)"
          % (zone, n, parent_serves(parent.info, zone)))
    # The child signals again (a NOTIFY resent, the next scan) once the
    # registry has applied the change and before its import: the change
    # set is done, the parent zone has it, the table not yet.
    done = wait_for(lambda: [c for c in parent.change_sets(zone, start) if c["state"] == "done"],
                    60)
    again = time.time()
    row["again"] = parent.signal(zone, step.signal)
    rescan = wait_for(lambda: parent.results(zone, again), 30, 0.1)
    check(done and rescan, "%s step %d: change set done, and the signal seen again by a scan "
          "before the import (%s)" % (zone, n, rescan))
    parent.import_zone()
    res = [r for r in parent.results(zone, start) if "update" in r[1:3]]
    cs = parent.change_sets(zone, start)
    applied = {e["cltrid"]: e["time"] for e in parent.epp.applied()}
    row.update(seen=res[0][0] if res else None,
               verdict=("DS %s, NS %s: %s" % res[0][1:4]) if res else "-",
               change_sets=["#%s %s +[%s] -[%s]" % (c["id"], c["kind"], c["add"], c["rem"])
                            for c in cs],
               applied=max((applied.get(c["cltrid"], 0) for c in cs), default=None),
               parent_serial=pub[0].get("serial"), published=pub[0]["time"])
    kind = "ds" if step.signal == "CDS" else "ns"
    check(len(cs) == 1 and cs[0]["kind"] == kind and cs[0]["state"] == "done",
          "%s step %d: one %s change set, done, none for the signal seen again (%s)"
          % (zone, n, kind, row["change_sets"]))
    return True


def print_row(r, t0):
    print("  %-3s %-52s %s signal %-5s seen %s applied %s parent serial %s | %s | "
          "answers %d glitches %d" % (
              r["step"], r["name"][:52], rel(r["start"], t0), r["signal"],
              rel(r.get("seen"), t0), rel(r.get("applied"), t0), r.get("parent_serial", "-"),
              ", ".join("%s %ds" % w for w in r["waits"]), r["answers"], r["glitches"]))


def epp_raw_update(port, domain, add_ns, rem_ns):
    """A registrar's own <domain:update> over TLS, bypassing cdscan (the
    forced negative run): login, update, logout; the update's result code."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    epp = "urn:ietf:params:xml:ns:epp-1.0"
    dom = "urn:ietf:params:xml:ns:domain-1.0"

    def frame(tls, xml=None):
        if xml is not None:
            data = ('<?xml version="1.0" encoding="UTF-8"?>' + xml).encode()
            tls.sendall(struct.pack(">I", len(data) + 4) + data)
        hdr = b""
        while len(hdr) < 4:
            hdr += tls.recv(4 - len(hdr))
        n, body = struct.unpack(">I", hdr)[0] - 4, b""
        while len(body) < n:
            body += tls.recv(n - len(body))
        return body.decode()

    hosts = lambda ns: "".join("<domain:hostObj>%s</domain:hostObj>" % h.rstrip(".")  # noqa
                               for h in ns)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, \
            ctx.wrap_socket(raw) as tls:
        frame(tls)
        frame(tls, '<epp xmlns="%s"><command><login><clID>lab-registrar</clID>'
              '<pw>lab-password</pw><options><version>1.0</version><lang>en</lang></options>'
              '<svcs><objURI>%s</objURI></svcs></login><clTRID>forced-login</clTRID>'
              '</command></epp>' % (epp, dom))
        out = frame(tls, '<epp xmlns="%s"><command><update><domain:update xmlns:domain="%s">'
                    '<domain:name>%s</domain:name><domain:add><domain:ns>%s</domain:ns>'
                    '</domain:add><domain:rem><domain:ns>%s</domain:ns></domain:rem>'
                    '</domain:update></update><clTRID>forced-ns</clTRID></command></epp>'
                    % (epp, dom, domain.rstrip("."), hosts(add_ns), hosts(rem_ns)))
        frame(tls, '<epp xmlns="%s"><command><logout/><clTRID>forced-logout</clTRID>'
              '</command></epp>' % epp)
    return out.split('code="', 1)[1][:4] if 'code="' in out else out


def verdict_of(parent, zone, since, reason, timeout):
    """Wait for a scan of zone since (scan driver: run one) whose reasons
    include reason; the result row or None."""
    return wait_for(lambda: next((r for r in parent.results(zone, since)
                                  if reason in r[3].split()), None), timeout, 0.2)


def refused(parent, det, zone, qtype, reason, ttl, label, what):
    """The child signals qtype; cdscan must refuse with reason, make no
    change set, send the registry nothing, and the detector stay clean
    (for a TTL after the refusal too).  The timeline row."""
    start = time.time()
    sent = parent.signal(zone, qtype)
    r = verdict_of(parent, zone, start, reason, 60)
    check(r is not None, "%s cdscan refuses the %s with %s (%s)"
          % (zone, qtype, reason, parent.results(zone, start)[-1:] or "no scan"))
    time.sleep(ttl + 1)
    check(not parent.change_sets(zone), "%s no change set" % zone)
    check(not [e for e in parent.epp.received() if e["name"] == zone.rstrip(".")],
          "%s the registry received no command for it" % zone)
    clean = det.counts(zone)
    check(clean[0] > 0 and clean[1] == 0,
          "%s no glitch, before or after cdscan refused (%d answers, %d glitches)"
          % ((zone,) + clean))
    return {"step": label, "name": what, "start": start, "signal": qtype, "sent": sent,
            "seen": r[0] if r else None, "verdict": r[3] if r else "-",
            "answers": clean[0], "glitches": clean[1]}


def negatives(parent, info, tmp, t0):
    """The two children that get the order wrong: (rows, ok)."""
    ttl = info["ttl"]
    det = watch(info, tmp, ["jump.test.", "early.test."], "detector-negative")
    rows = []
    try:
        time.sleep(ttl)
        # (1) CSYNC for B before the DS names B's key.
        rows.append(refused(parent, det, "jump.test.", "CSYNC", "csync-breaks-chain", ttl,
                            "N1", "jump.test: CSYNC NS=B while DS names only KSK_A"))
        clean = det.counts("jump.test.")
        forced = time.time()
        a_ns = info["zones"]["jump.test."]["parent_ns"]
        b_ns = [n for n in info["zones"]["jump.test."]["ns"] if n not in a_ns]
        code = epp_raw_update(parent.epp.port, "jump.test", b_ns, a_ns)
        check(code == "1000", "jump.test: the forced EPP update is accepted (%s)" % code)
        pub = wait_for(lambda: parent.published("jump.test.", forced), 30)
        check(pub and fq(pub[0]["ns"]) == fq(b_ns),
              "jump.test: the registry publishes NS %s (bypassing cdscan)" % fq(b_ns))
        # Each resolver fails once what it cached from A is out: the NS
        # from the parent, then the DNSKEY RRset (refreshed from A until
        # the NS went): up to about two TTLs after the parent's change, and
        # one resolver can fail a TTL after the other (a CI run under load
        # saw Knot Resolver fail and Unbound not yet, a TTL after Knot's
        # first failure).  So wait for every one, not for the first.
        resolvers = sorted(info["resolvers"])
        failed = wait_for(lambda: all(det.counts("jump.test.", r)[1] > 0 for r in resolvers),
                          4 * ttl + 10, 0.1)
        after = det.counts("jump.test.")
        check(failed, "jump.test: the detector records failures after the forced update "
              "(%d answers, %d glitches since)" % (after[0] - clean[0], after[1] - clean[1]))
        kinds = sorted({"%s %s %s" % (g["resolver"], g["rcode"], "AD" if g["ad"] else "no-AD")
                        for g in det.glitches if g["name"] == "jump.test."})
        for resolver in resolvers:
            n = sum(1 for g in det.glitches
                    if g["name"] == "jump.test." and g["resolver"] == resolver)
            check(n > 0, "jump.test: %s fails too (%d failed answers: %s)"
                  % (resolver, n, ", ".join(k for k in kinds if k.startswith(resolver))))
        rows.append({"step": "N1f", "name": "jump.test: the same NS change forced by raw EPP",
                     "start": forced, "signal": "-", "applied": pub[0]["time"] if pub else None,
                     "parent_serial": pub[0].get("serial") if pub else None,
                     "answers": after[0] - clean[0], "glitches": after[1] - clean[1],
                     "failures": kinds})
        # (2) CDS drops A's key while A still serves.
        rows.append(refused(parent, det, "early.test.", "CDS", "breaks-chain", ttl,
                            "N2", "early.test: CDS drops KSK_A while A serves"))
    finally:
        det.stop()
    return rows


def timeline_text(rows, t0, driver, ttl):
    out = ["multi-signer provider change of move.test. (driver: %s, TTL %d s); times in s "
           "from the start" % (driver, ttl), "",
           "| step | what | t | signal | cdscan saw | change set | EPP applied | parent serial "
           "| TTL waits | answers | glitches |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d |" % (
            r["step"], r["name"], rel(r["start"], t0).strip(),
            r["signal"] + (" (%s)" % r["sent"] if r.get("sent") else ""),
            ("%s: %s" % (rel(r["seen"], t0).strip(), r.get("verdict", ""))) if r.get("seen")
            else "-", "; ".join(r.get("change_sets", [])) or "-",
            rel(r.get("applied"), t0).strip(), r.get("parent_serial") or "-",
            ", ".join("%s %d" % w for w in r.get("waits", [])) or "-",
            r["answers"], r["glitches"]))
    return "\n".join(out) + "\n"


def watch(info, tmp, zones, name):
    """A glitch detector on zones (SOA, TXT, DNSKEY, a denied name), started once every
    resolver has answered each query NOERROR with AD."""
    # A name that does not exist: each provider's denial (NSEC, signed by
    # its ZSK) must validate too, whichever DNSKEY RRset is cached.
    det = Detector(info["resolvers"], CLIENTS,
                   [(z, t) for z in zones for t in ("SOA", "TXT", "DNSKEY")] +
                   [("nx." + z, "A", "NXDOMAIN") for z in zones],
                   os.path.join(tmp, name + ".jsonl"))
    cold = det.ready()
    check(not cold, "every resolver answers %s NOERROR with AD before anything changes (%s)"
          % ("+".join(zones), cold or "all"))
    return det.start()


def model(parent, info, op, zone, t_from, t_to):
    """multisigner.unsafe_windows over [t_from, t_to] with the TTLs the
    servers give."""
    ttl = {"DS": op.parent_ttl("DS"), "NS": op.parent_ttl("NS"),
           "DNSKEY": op.child_ttl("DNSKEY"), "child NS": op.child_ttl("NS")}
    states = multisigner.parent_states(info, zone, parent.published(zone, 0))
    return multisigner.unsafe_windows(op, states, ttl, t_from, t_to)


def positive(parent, info, tmp, t0):
    """move.test moves, the detector watching: rows of the timeline."""
    zone = "move.test."
    det = watch(info, tmp, [zone], "detector")
    try:
        time.sleep(1)
        rows, op, done = run_story(parent, info, det, t0, zone)
    finally:
        det.stop()
    answers, _ = det.counts(zone)
    check(done, "every step of the provider change was taken by the parent")
    # Knot Resolver's own work budget per request (KR_ITER_LIMIT, 100
    # steps) ends in a SERVFAIL with this Extended DNS Error; a CI run with
    # both suites on two cores met it once, at two clients at the same
    # instant, while Unbound answered with AD throughout and the model
    # below found no cache state that fails.  Shown, not counted, at most
    # two such instants: more is a failure like any other.
    given_up = [g for g in det.glitches if g["rcode"] == "SERVFAIL"
                and any(KR_ITER_EDE in e for e in g.get("ede") or [])]
    real = [g for g in det.glitches if g not in given_up]
    instants = sorted({round(g["t"]) for g in given_up})
    by = {}
    for g in real:
        by.setdefault("%s %s %s %s" % (g["resolver"], g["type"], g["rcode"], g.get("ede", "")),
                      []).append(g["t"])
    check(not real and len(instants) <= 2 and answers > 0,
          "no glitch from the first step to the last: %d answers from %s, every one NOERROR "
          "with AD (glitches: %s; Knot Resolver's iteration limit, not counted: %d answers "
          "at %s)" % (answers, "+".join(sorted(info["resolvers"])),
                      {k: [rel(t, t0) for t in v[:5]] for k, v in by.items()} or "none",
                      len(given_up), [rel(t, t0) for t in instants] or "none"))
    unsafe = model(parent, info, op, zone, rows[0]["start"] - 1, time.time()) if rows else ["-"]
    check(not unsafe, "the model: no resolver, whatever it cached, could have failed "
          "(%s)" % (unsafe[:3] or "none"))
    final = parent.published(zone, 0)[-1:] or [{}]
    b = op.b
    check(fq(final[0].get("ns", [])) == fq(b.names) and
          final[0].get("ds") == [op.keys[b.ksk]["ds"]],
          "the parent ends with B's NS and B's DS alone: %s" % final[0])
    return rows


def hasty_run(parent, info, tmp, t0):
    """hasty.test moves the same way, cdscan taking every step, but the
    child waits out no TTL: the model must find where resolvers could
    fail (proof that it can), the detector says what two resolvers met."""
    zone = "hasty.test."
    det = watch(info, tmp, [zone], "detector-hasty")
    try:
        rows, op, done = run_story(parent, info, det, t0, zone, hasty=True)
        time.sleep(info["ttl"] + 1)
    finally:
        det.stop()
    check(done, "hasty.test: cdscan took every step (they are in order)")
    unsafe = model(parent, info, op, zone, rows[0]["start"] - 1, time.time()) if rows else []
    check(unsafe, "hasty.test, no TTL waited: the model finds where a resolver could fail "
          "(%d windows, e.g. %s)" % (len(unsafe), ["%+.1f..%+.1f s: %s" % (a - t0, b - t0, w)
                                                   for a, b, w in unsafe[:2]]))
    answers, glitches = det.counts(zone)
    print("hasty.test: the detector saw %d glitches in %d answers" % (glitches, answers))
    for r in rows:
        r["name"] = "hasty.test: " + r["name"] + " (no TTL waited)"
    return rows


def inner(args):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    tmp = args.keep or tempfile.mkdtemp(prefix="cdscan-ms.")
    labdir = os.path.join(tmp, "lab")
    info = up(labdir, args.ttl)
    parent = None
    try:
        parent = Parent(args.cdscan, info, tmp, args.driver)
        t0 = time.time()
        rows = positive(parent, info, tmp, t0)
        rows += hasty_run(parent, info, tmp, t0)
        rows += negatives(parent, info, tmp, t0)
        text = timeline_text(rows, t0, args.driver, info["ttl"])
        print(text)
        if args.timeline:
            with open(args.timeline, "w") as f:
                f.write(text)
            with open(args.timeline + ".json", "w") as f:
                json.dump({"t0": t0, "driver": args.driver, "ttl": info["ttl"], "rows": rows},
                          f, indent=1)
    finally:
        if parent:
            parent.stop()
        down(labdir)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cdscan")
    ap.add_argument("--driver", choices=("scan", "daemon"), default="scan")
    ap.add_argument("--ttl", type=int, default=10,
                    help="every TTL in the lab, and the resolvers' cache limit (default 10)")
    ap.add_argument("--timeline", help="write the timeline here (and FILE.json)")
    ap.add_argument("--keep", help="work in this directory and keep it (logs, detector)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.cdscan = os.path.abspath(args.cdscan)
    if args.inner:
        return inner(args)
    cmd = [args.cdscan, "--driver", args.driver, "--ttl", str(args.ttl)]
    if args.timeline:
        cmd += ["--timeline", os.path.abspath(args.timeline)]
    if args.keep:
        if os.path.isdir(args.keep) and os.listdir(args.keep):
            sys.exit("multisigner_test: --keep %s is not empty" % args.keep)
        os.makedirs(args.keep, exist_ok=True)
        cmd += ["--keep", os.path.abspath(args.keep)]
    sys.exit(run_in_own_netns(__file__, cmd, "multisigner_test"))


if __name__ == "__main__":
    main()
