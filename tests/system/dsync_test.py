#!/usr/bin/python3
"""RFC 9859 on the lab, issue #17: `cdscan dsync` prints the DSYNC records
the lab's TLDs publish (test. at *._dsync.test., net. at _dsync.net.), the
lab's Unbound returns them validated, bad input is exit 64, and a child
operator (tests/lab/notify_sender.py) finds the NOTIFY target the RFC 9859
§4.1 way and sends a NOTIFY whose wire form a socket on the target checks
and answers by hand; then `cdscan daemon` listens there and answers the
child's NOTIFYs itself.  Usage: dsync_test.py CDSCAN LAB_DIR"""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

from daemontest import Daemon, wait_for, write_config
from labtest import Database, check, finish, load_lab, must, psql

import notify_sender as ns

# The address the test's NOTIFYs are sent from (a socket of the test's own;
# nothing of the lab uses it).
SOURCE = "127.53.0.99"


def dsync(binary, args):
    return subprocess.run([binary, "dsync", *args], capture_output=True, text=True, timeout=30)


def parse_record(line):
    """A record line of `cdscan dsync` in either form, as (owner, ttl,
    class, (rrtype, scheme, port, target)); the generic form's rdata is
    decoded from the wire (RFC 3597 §5), the DSYNC form's from its fields
    (RFC 9859 §2.2)."""
    f = line.split()
    owner, ttl, cls, rtype = f[0], int(f[1]), f[2], f[3]
    if rtype == "DSYNC" and len(f) == 8:
        scheme = 1 if f[5] == "NOTIFY" else int(f[5])
        return owner, ttl, cls, (ns.type_code(f[4]), scheme, int(f[6]), f[7])
    if rtype == "TYPE66" and f[4] == "\\#":
        rdata = bytes.fromhex("".join(f[6:]))
        if len(rdata) != int(f[5]):
            raise ValueError("length %s, %d octets" % (f[5], len(rdata)))
        d = ns.parse_dsync(rdata)
        return owner, ttl, cls, (d.rrtype, d.scheme, d.port, d.target)
    raise ValueError("not a DSYNC record line: %r" % line)


def split_output(text):
    """(header comments, [(record line, its comment without '; ')])."""
    lines = text.splitlines()
    header = []
    while lines and lines[0].startswith(";"):
        header.append(lines.pop(0))
    pairs = []
    while lines:
        rec = lines.pop(0)
        com = lines.pop(0) if lines and lines[0].startswith("; ") else None
        pairs.append((rec, com[2:] if com else None))
    return header, pairs


def check_output(binary, lab):
    """cdscan dsync with each TLD's arguments prints exactly what it
    publishes, both forms of each record say the same, and the fields are
    those of the lab's NOTIFY target."""
    tgt = lab["notify_target"]
    want_rdata = {(ns.T_CDS, 1, tgt["port"], tgt["name"]), (ns.T_CSYNC, 1, tgt["port"], tgt["name"])}
    for tld, pub in sorted(lab["dsync"].items()):
        owner = ("_dsync." if "--no-wildcard" in pub["args"] else "*._dsync.") + tld
        for generic in (True, False):
            args = pub["args"] if generic else [a for a in pub["args"] if a != "--generic"]
            p = dsync(binary, args)
            header, pairs = split_output(p.stdout)
            what = "cdscan dsync %s" % " ".join(args)
            ok = (p.returncode == 0 and not p.stderr and len(header) == 2 and len(pairs) == 2 and
                  all(c for _, c in pairs))
            if not check(ok, "%s: exit 0, 2 comment lines, 2 records each with a comment%s"
                         % (what, "" if ok else " (exit %d, %r %r)"
                            % (p.returncode, p.stdout, p.stderr))):
                continue
            check(tld in header[0] and "%s port %d" % (tgt["name"], tgt["port"]) in header[1],
                  "%s: the header names zone and target: %s" % (what, header))
            records = [r for r, _ in pairs] if generic else [c for _, c in pairs]
            check(records == pub["records"],
                  "%s: the generic records are exactly what %s publishes: %s" % (what, tld, records))
            try:
                parsed = [(parse_record(r), parse_record(c)) for r, c in pairs]
            except ValueError as e:
                check(False, "%s: a line does not parse: %s" % (what, e))
                continue
            check(all(a == b for a, b in parsed),
                  "%s: each record's comment is the same record in the other form: %s"
                  % (what, parsed))
            check({r[3] for r, _ in parsed} == want_rdata and
                  all(r[:3] == (owner, 3600, "IN") for r, _ in parsed),
                  "%s: %s 3600 IN, CDS and CSYNC, NOTIFY, port %d, %s: %s"
                  % (what, owner, tgt["port"], tgt["name"], parsed))
            mnemonic = [r for r, _ in pairs] if not generic else [c for _, c in pairs]
            check(mnemonic == ["%s 3600 IN DSYNC %s NOTIFY %d %s" % (owner, t, tgt["port"],
                                                                   tgt["name"])
                               for t in ("CDS", "CSYNC")],
                  "%s: the DSYNC form as RFC 9859 §2.2 writes it: %s" % (what, mnemonic))
    return want_rdata


def rrsig_of(m, covered):
    """(labels, original TTL) of each RRSIG over covered in the answer."""
    return [(rr[4][3], struct.unpack(">I", rr[4][4:8])[0]) for rr in m.answer
            if rr[1] == 46 and struct.unpack(">H", rr[4][:2])[0] == covered]


def check_resolver(lab, want_rdata):
    """The lab's Unbound returns the same DSYNC RRset, validated: for any
    child of test. (the wildcard, RRSIG labels 2), at _dsync.net., and a
    validated denial where net. has none."""
    res = lab["resolver"]
    children = sorted(z for z, v in lab["zones"].items()
                      if z.endswith(".test.") and z.count(".") == 2)[:3] + ["no-such-child.test."]
    names = [c.split(".")[0] + "._dsync.test." for c in children] + ["_dsync.net."]
    for name in names:
        try:
            m = ns.query(res, name, ns.T_DSYNC)
            got = {(d.rrtype, d.scheme, d.port, d.target)
                   for d in (ns.parse_dsync(rr[4]) for rr in m.answer if rr[1] == ns.T_DSYNC)}
        except ns.NotifyError as e:
            check(False, "%s DSYNC through %s: %s" % (name, res, e))
            continue
        check(m.rcode == 0 and m.flags & ns.AD and got == want_rdata,
              "%s DSYNC through Unbound: NOERROR, AD, the RRset cdscan prints (%s, AD %s, %s)"
              % (name, ns.rcode_text(m.rcode), bool(m.flags & ns.AD), got))
        check(rrsig_of(m, ns.T_DSYNC) == [(2, 3600)],
              "%s: one RRSIG over TYPE66 with labels 2 (%s) and original TTL 3600: %s"
              % (name, "the wildcard" if name.endswith("test.") else "_dsync.net.",
                 rrsig_of(m, ns.T_DSYNC)))
    m = ns.query(res, "provider-a._dsync.net.", ns.T_DSYNC)
    check(m.rcode == 3 and m.flags & ns.AD and
          [rr[0] for rr in m.authority if rr[1] == ns.T_SOA] == ["net."],
          "provider-a._dsync.net. DSYNC: NXDOMAIN, AD, SOA net. (the fallback's cause): %s %s"
          % (ns.rcode_text(m.rcode), bool(m.flags & ns.AD)))


def check_usage(binary):
    """Bad input: exit 64, a message, nothing on stdout."""
    cases = [
        ([], "--zone PARENT is required"),
        (["--zone", "test"], "--target NAME is required"),
        (["--zone", "a..test", "--target", "n.test"], "--zone 'a..test': not a domain name"),
        (["--zone", "test", "--target", "."], "--target '.': not a host name"),
        (["--zone", "test", "--target", "bad name.test"], "not a host name"),
        (["--zone", "test", "--target", "n.test", "--port", "0"], "from 1 to 65535"),
        (["--zone", "test", "--target", "n.test", "--port", "65536"], "from 1 to 65535"),
        (["--zone", "test", "--target", "n.test", "--ttl", "-5"], "from 0 to 2147483647"),
        (["--zone", "test", "--target", "n.test", "--child", "a.net"],
         "'a.net.' is not below the zone test."),
        (["--zone", "test", "--target", "n.test", "--child", "a.test", "--no-wildcard"],
         "exclude each other"),
        (["--zone", "test", "--target", "n.test", "stray"], "unexpected argument 'stray'"),
        (["--zone", "test", "--target", "n.test", "--frob"], "unknown option '--frob'"),
    ]
    for args, part in cases:
        p = dsync(binary, args)
        check(p.returncode == 64 and part in p.stderr and not p.stdout,
              "cdscan dsync %s: exit 64, '%s' (exit %d, %r, stdout %r)"
              % (" ".join(args), part, p.returncode, p.stderr.strip(), p.stdout))


def check_discovery(lab):
    """notify_sender finds the lab's target by each path of RFC 9859 §4.1,
    only with validated answers, and nothing where nothing is published."""
    res, tgt = lab["resolver"], lab["notify_target"]
    want = (tgt["name"], tgt["address"], tgt["port"])
    provider = sorted(z for z in lab["zones"] if z.endswith(".net."))[0]
    plabel = provider.split(".")[0]
    cases = [
        ("secure.test.", "CDS", ["secure._dsync.test."]),
        ("secure.test.", "CSYNC", ["secure._dsync.test."]),
        # A zone of net.: its own name is denied, _dsync.net. answers.
        (provider, "CDS", [plabel + "._dsync.net.", "_dsync.net."]),
        # A zone delegated from test. two labels up: the denial's SOA
        # (test.) makes the second name (RFC 9859 §4.1 step 3, first case).
        ("x.b.nowhere.test.", "CSYNC", ["x._dsync.b.nowhere.test.", "x.b.nowhere._dsync.test."]),
    ]
    targets = {}
    for child, qtype, lookups in cases:
        try:
            t = ns.discover(child, qtype, res)
        except ns.NotifyError as e:
            check(False, "discover %s %s: %s" % (child, qtype, e))
            continue
        targets[(child, qtype)] = t
        check((t.name, t.address, t.port) == want and t.lookups == lookups and
              t.owner == lookups[-1],
              "discover %s %s: %s %s#%d from %s, asked %s (want %s, asked %s)"
              % (child, qtype, t.name, t.address, t.port, t.owner, t.lookups, want, lookups))
    # Below a zone that publishes nothing: both names denied, no target.
    try:
        t = ns.discover("x.secure.test.", "CDS", res)
        check(False, "discover x.secure.test.: no target expected, got %s" % t)
    except ns.NoTarget as e:
        check("x._dsync.secure.test., _dsync.secure.test." in str(e),
              "discover x.secure.test.: no target, after both names: %s" % e)
    except ns.NotifyError as e:
        check(False, "discover x.secure.test.: %s" % e)
    # Answers without the AD bit (the TLD's own server) are not taken.
    tld_server = lab["servers"]["ns.nic.test."]["address"]
    try:
        t = ns.discover("secure.test.", "CDS", tld_server)
        check(False, "discover through %s (no AD): refused expected, got %s" % (tld_server, t))
    except ns.NoTarget as e:
        check(False, "discover through %s: %s" % (tld_server, e))
    except ns.NotifyError as e:
        check("not validated" in str(e), "discover through %s: not validated: %s"
              % (tld_server, e))
    return targets


# -------------------------------------------------------- the target ----

def reply_to(query, rcode=0, qid=None):
    """The reply RFC 1996 §4.7 asks for, made by hand: the query's header
    with QR and AA set, RCODE, and its question echoed."""
    q_id, flags = struct.unpack(">HH", query[:4])
    flags = ns.QR | (flags & 0x7800) | ns.AA | rcode
    return struct.pack(">HHHHHH", q_id if qid is None else qid, flags, 1, 0, 0, 0) + query[12:]


def notify_fields(data):
    """What a NOTIFY says of itself: header fields, the question and
    whether anything follows it."""
    qid, flags, qd, an, nsc, ar = struct.unpack(">HHHHHH", data[:12])
    name, off = ns.read_name(data, 12)
    qtype, qclass = struct.unpack(">HH", data[off:off + 4])
    return {"qr": bool(flags & ns.QR), "opcode": (flags >> 11) & 0xF, "aa": bool(flags & ns.AA),
            "tc": bool(flags & ns.TC), "rd": bool(flags & ns.RD), "rcode": flags & 0xF,
            "counts": (qd, an, nsc, ar), "question": (name, qtype, qclass),
            "rest": len(data) - off - 4}


def want_fields(child, qtype):
    return {"qr": False, "opcode": 4, "aa": True, "tc": False, "rd": False, "rcode": 0,
            "counts": (1, 0, 0, 0), "question": (child, qtype, 1), "rest": 0}


class Target:
    """A UDP socket (and a TCP listener) on the lab's NOTIFY target: each
    datagram it gets is kept with its sender, and answered by the next
    function of a script (its result: the datagrams to send back)."""

    def __init__(self, address, port):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((address, port))
        self.udp.settimeout(10)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((address, port))
        self.tcp.listen(4)
        self.tcp.settimeout(10)
        self.got = []

    def serve(self, script):
        def loop():
            for answer in script:
                try:
                    data, peer = self.udp.recvfrom(65535)
                except socket.timeout:
                    return
                self.got.append((data, peer))
                for out in answer(data):
                    self.udp.sendto(out, peer)
        self.got = []
        th = threading.Thread(target=loop, daemon=True)
        th.start()
        return th

    def serve_tcp(self, answer):
        def one():
            try:
                conn, peer = self.tcp.accept()
            except socket.timeout:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                    chunk = conn.recv(65535)
                    if not chunk:
                        return
                    data += chunk
                msg = data[2:]
                self.got.append((msg, peer))
                for out in answer(msg):
                    conn.sendall(struct.pack(">H", len(out)) + out)
        self.got = []
        th = threading.Thread(target=one, daemon=True)
        th.start()
        return th

    def close(self):
        self.udp.close()
        self.tcp.close()


def send_case(target, th, disc, child, qtype, **kw):
    """send_notify to the discovered target; (Reply or the error, what the
    socket got)."""
    try:
        r = ns.send_notify(disc, child, qtype, source=SOURCE, **kw)
    except ns.NotifyError as e:
        r = e
    th.join(15)
    return r, list(target.got)


def check_notify(lab, targets):
    """The NOTIFY's wire form and the sender's reading of replies."""
    tgt = lab["notify_target"]
    t_cds = targets.get(("secure.test.", "CDS"))
    t_csync = targets.get(("secure.test.", "CSYNC"))
    if not t_cds or not t_csync:
        check(False, "no discovered target to send to")
        return
    target = Target(tgt["address"], tgt["port"])
    try:
        # NOERROR: the reply's rcode and echoed question come back.
        th = target.serve([lambda q: [reply_to(q)]])
        r, got = send_case(target, th, t_cds, "secure.test.", "CDS", timeout=2)
        f = notify_fields(got[0][0]) if got else {}
        check(len(got) == 1 and f == want_fields("secure.test.", ns.T_CDS),
              "NOTIFY(CDS) secure.test. on the wire: opcode NOTIFY, AA, RD clear, one question "
              "secure.test./CDS/IN, nothing else: %s" % f)
        check(got and got[0][1][0] == SOURCE,
              "sent from --source %s: %s" % (SOURCE, got[0][1] if got else None))
        check(isinstance(r, ns.Reply) and r.rcode == 0 and r.rcode_text == "NOERROR" and
              r.opcode == 4 and r.question == ("secure.test.", ns.T_CDS, 1) and
              r.qdcount == 1 and r.ignored == 0 and
              r.qid == struct.unpack(">H", got[0][0][:2])[0],
              "the hand-made NOERROR reply read back: rcode, opcode, echoed question: %s" % r)

        # Another ID first (ignored), then REFUSED: the rcode is returned.
        th = target.serve([lambda q: [reply_to(q, 0, qid=(struct.unpack(">H", q[:2])[0] + 1)
                                               & 0xFFFF), reply_to(q, 5)]])
        r, got = send_case(target, th, t_csync, "secure.test.", "CSYNC", timeout=2)
        f = notify_fields(got[0][0]) if got else {}
        check(f == want_fields("secure.test.", ns.T_CSYNC),
              "NOTIFY(CSYNC) secure.test. on the wire: %s" % f)
        check(isinstance(r, ns.Reply) and r.rcode == 5 and r.rcode_text == "REFUSED" and
              r.ignored == 1 and r.question == ("secure.test.", ns.T_CSYNC, 1),
              "a reply with another ID is ignored, REFUSED is returned: %s" % r)

        # The first datagram lost: the same message again, then answered.
        th = target.serve([lambda q: [], lambda q: [reply_to(q)]])
        r, got = send_case(target, th, t_cds, "secure.test.", "CDS", timeout=0.5, tries=3)
        check(len(got) == 2 and got[0][0] == got[1][0] and isinstance(r, ns.Reply) and
              r.rcode == 0,
              "no reply: the NOTIFY is sent again unchanged (RFC 1996 §3.6), and the reply to "
              "it taken: %d datagrams, %s" % (len(got), r))

        # No reply at all: an error after the tries, not a result.
        th = target.serve([lambda q: [], lambda q: []])
        r, got = send_case(target, th, t_cds, "secure.test.", "CDS", timeout=0.3, tries=2)
        check(isinstance(r, ns.NotifyError) and "no reply" in str(r) and len(got) == 2,
              "no reply to 2 tries: NotifyError (%r), %d datagrams" % (r, len(got)))

        # By TCP: the same message, length-prefixed (RFC 1035 §4.2.2).
        th = target.serve_tcp(lambda q: [reply_to(q)])
        r, got = send_case(target, th, t_cds, "secure.test.", "CDS", timeout=2, tcp=True)
        f = notify_fields(got[0][0]) if got else {}
        check(f == want_fields("secure.test.", ns.T_CDS) and isinstance(r, ns.Reply) and
              r.rcode == 0 and r.question == ("secure.test.", ns.T_CDS, 1),
              "NOTIFY(CDS) by TCP: %s, %s" % (f, r))
    finally:
        target.close()


def check_daemon(binary, lab, tmp):
    """Both sides together: `cdscan daemon` listening at the target the
    TLDs' DSYNC records name, and notify_sender's NOTIFYs for a delegation
    of the test. zone found there the RFC 9859 way, answered NOERROR over
    UDP and TCP; a name no delegation has is REFUSED."""
    res, tgt = lab["resolver"], lab["notify_target"]
    with Database(lab, "dsync") as database:
        conf = write_config(os.path.join(tmp, "d.yaml"), lab, database.conninfo,
                            "scan:\n  timeout: 1s\n  retries: 2\n  interval: 365d\n"
                            "output:\n  spool-dir: %s\n" % tmp)
        run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True,
                                        text=True, timeout=120)
        must(run("db", "init"), "db init")
        must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2",
                                                  "test.zone")), "import")
        # Only what a NOTIFY asks for is scanned.
        psql(database.conninfo, "UPDATE delegations SET next_scan_at = now() + interval '1 year'")
        d = Daemon(binary, conf, os.path.join(tmp, "daemon.log"), "--listen", tgt["address"])
        try:
            check(d.started and d.running(), "cdscan daemon --listen %s starts" % tgt["address"])
            for child, qtype, tcp, want in (("secure.test.", "CDS", False, "NOERROR"),
                                            ("secure.test.", "CSYNC", True, "NOERROR"),
                                            ("x.b.nowhere.test.", "CSYNC", False, "REFUSED"),
                                            ("rollover.test.", "CDS", False, "NOERROR"),
                                            ("csync-glue.test.", "CSYNC", True, "NOERROR")):
                try:
                    t, r = ns.notify(child, qtype, res, source=SOURCE, tcp=tcp)
                    got = (r.rcode_text, r.question, (t.address, t.port))
                except ns.NotifyError as e:
                    got = str(e)
                check(got == (want, (child, ns.type_code(qtype), 1),
                              (tgt["address"], tgt["port"])),
                      "notify_sender %s %s%s to the daemon at the DSYNC target: %s (%s)"
                      % (child, qtype, " by TCP" if tcp else "", want, got))
            # End to end: each operator's NOTIFY led to its change set.
            made = lambda: psql(database.conninfo,
                                "SELECT string_agg(d.domain || ' ' || c.kind, ', ' ORDER BY"
                                " d.domain) FROM change_sets c JOIN delegations d ON"
                                " d.id = c.delegation_id")
            got = wait_for(lambda: made() == "csync-glue.test. ns, rollover.test. ds", 20)
            check(got, "the NOTIFYs found through DSYNC led to change sets: DS for "
                       "rollover.test., NS for csync-glue.test. (%s)" % made())
        finally:
            check(d.stop() == 0, "the daemon stops on SIGTERM with exit 0")


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    want_rdata = check_output(binary, lab)
    check_resolver(lab, want_rdata)
    check_usage(binary)
    targets = check_discovery(lab)
    check_notify(lab, targets)
    check_daemon(binary, lab, tempfile.mkdtemp())
    finish()


if __name__ == "__main__":
    main()
