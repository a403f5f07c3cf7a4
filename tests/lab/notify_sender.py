#!/usr/bin/python3
"""A child DNS operator's side of RFC 9859 in the lab: find where the parent
wants a NOTIFY(CDS) or NOTIFY(CSYNC) for a child zone, and send it there.

    notify_sender.py --resolver ADDR[#PORT] [--source ADDR] [--timeout S]
                     [--tcp] [--discover-only] CHILD CDS|CSYNC

Discovery (RFC 9859 §4.1) asks a validating resolver for DSYNC at the
child's name with _dsync inserted after its first label; when that is
denied, at the name the denial's SOA implies (the child's labels below the
parent zone, then _dsync and the parent: a child delegated from further up)
or at _dsync.PARENT; the first positive answer is the answer.  Every answer,
positive or negative, must have the AD bit, and so must the target's
address.  The NOTIFY (RFC 1996, RFC 9859 §4) goes to the target's first
address at the DSYNC's port, by UDP (or TCP): opcode NOTIFY, AA set, RD
clear, one question CHILD/QTYPE/IN.  A reply counts when it comes from
there with the ID and QR set (RFC 1996 §4.7); its RCODE and echoed question
are returned for the caller to judge.

Standard library only, as the rest of the lab (the lab's dnspython 2.3 does
not know DSYNC either): type 66 is read from the wire here.

As a library (tests/system):

    t = discover("child.test.", "CDS", "127.53.0.53")        # a Target
    r = send_notify(t, "child.test.", "CDS", source="127.53.0.99")   # a Reply
    r.rcode == 0 and r.question == ("child.test.", 59, 1)
    t, r = notify("child.test.", "CDS", "127.53.0.53")      # both

Errors raise NotifyError; NoTarget (one of them) when the parent publishes
no usable target for the child and type.  Exit codes of the command: 0 the
reply's RCODE is NOERROR (--discover-only: a target was found), 1 another
RCODE, 2 no target or an error.
"""

import argparse
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

# RR types and the rest of the numbers this file uses.
T_A, T_NS, T_SOA, T_AAAA, T_OPT, T_CDS, T_CSYNC, T_DSYNC = 1, 2, 6, 28, 41, 59, 62, 66
CLASS_IN = 1
OPCODE_NOTIFY = 4                 # RFC 1996 §3.1
SCHEME_NOTIFY = 1                 # RFC 9859 §2.3
NOTIFY_TYPES = {"CDS": T_CDS, "CSYNC": T_CSYNC}
TYPE_NAMES = {T_A: "A", T_NS: "NS", T_SOA: "SOA", T_AAAA: "AAAA", T_CDS: "CDS",
              T_CSYNC: "CSYNC", T_DSYNC: "DSYNC", 60: "CDNSKEY", 48: "DNSKEY"}
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
          "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]
QR, AA, TC, RD, AD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0020


class NotifyError(Exception):
    """Discovery or sending failed."""


class NoTarget(NotifyError):
    """The parent publishes no usable NOTIFY target for this child and type."""


@dataclass
class Dsync:
    """One DSYNC record (RFC 9859 §2.1)."""
    rrtype: int
    scheme: int
    port: int
    target: str


@dataclass
class Target:
    """Where a NOTIFY goes, and how it was found."""
    name: str                 # the DSYNC's target
    address: str              # its first validated address
    port: int
    owner: str                # the name whose DSYNC RRset answered
    records: list             # that RRset (Dsync), every type and scheme
    lookups: list             # the names asked for DSYNC, in order
    addresses: list = field(default_factory=list)   # every address of name


@dataclass
class Reply:
    """The answer to a NOTIFY."""
    rcode: int
    rcode_text: str
    qid: int
    flags: int
    opcode: int
    question: tuple           # (name, qtype, qclass) of the first question, or None
    qdcount: int
    ignored: int = 0          # datagrams from elsewhere or with another ID


@dataclass
class Message:
    qid: int
    flags: int
    questions: list           # (name, qtype, qclass)
    answer: list              # (name, type, class, ttl, rdata)
    authority: list
    additional: list

    @property
    def rcode(self):
        return self.flags & 0xF

    @property
    def opcode(self):
        return (self.flags >> 11) & 0xF


def fqdn(name):
    name = name.lower()
    return name if name.endswith(".") else name + "."


def type_code(name_or_code):
    if isinstance(name_or_code, int):
        return name_or_code
    key = name_or_code.upper()
    if key in NOTIFY_TYPES:
        return NOTIFY_TYPES[key]
    if key.startswith("TYPE") and key[4:].isdigit():
        return int(key[4:])
    raise ValueError("unknown RR type %r (want CDS or CSYNC)" % name_or_code)


def type_text(code):
    return TYPE_NAMES.get(code, "TYPE%d" % code)


def rcode_text(code):
    return RCODES[code] if code < len(RCODES) else "RCODE%d" % code


def parse_addr(text, port=53):
    """'ADDR' or 'ADDR#PORT' (cdscan's form) -> (address, port)."""
    addr, sep, p = text.partition("#")
    return addr, int(p) if sep else port


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


# ------------------------------------------------------------ wire form ----

def wire_name(name):
    name = fqdn(name)
    if name == ".":
        return b"\0"
    out = b""
    for label in name[:-1].split("."):
        if not label or len(label) > 63:
            raise ValueError("bad name %r" % name)
        out += bytes([len(label)]) + label.encode()
    if len(out) + 1 > 255:
        raise ValueError("name too long: %r" % name)
    return out + b"\0"


def read_name(msg, off, compress=True):
    """The name at off in msg (pointers followed when compress) and the
    offset after it.  Names come back in lower case with the trailing dot."""
    labels, end, hops = [], None, 0
    while True:
        if off >= len(msg):
            raise NotifyError("name runs past the end of the message")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if not compress:
                raise NotifyError("compressed name where RFC 9859 §2.1 forbids it")
            if off + 1 >= len(msg) or hops > 64:
                raise NotifyError("bad compression pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            continue
        if n & 0xC0:
            raise NotifyError("unknown label type 0x%02x" % n)
        off += 1
        if n == 0:
            break
        if off + n > len(msg):
            raise NotifyError("label runs past the end of the message")
        labels.append(msg[off:off + n].decode("ascii", "replace").lower())
        off += n
    name = ".".join(labels) + "."
    if len(name) + 1 > 256:
        raise NotifyError("name longer than 255 octets")
    return name, end if end is not None else off


def parse_message(msg):
    """A DNS message: header, questions and the three RR sections."""
    if len(msg) < 12:
        raise NotifyError("message of %d octets is shorter than a header" % len(msg))
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    questions = []
    for _ in range(qd):
        name, off = read_name(msg, off)
        if off + 4 > len(msg):
            raise NotifyError("truncated question")
        qtype, qclass = struct.unpack(">HH", msg[off:off + 4])
        questions.append((name, qtype, qclass))
        off += 4
    sections = []
    for count in (an, ns, ar):
        rrs = []
        for _ in range(count):
            name, off = read_name(msg, off)
            if off + 10 > len(msg):
                raise NotifyError("truncated resource record")
            rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10
            if off + rdlen > len(msg):
                raise NotifyError("rdata runs past the end of the message")
            rrs.append((name, rtype, rclass, ttl, msg[off:off + rdlen]))
            off += rdlen
        sections.append(rrs)
    return Message(qid, flags, questions, *sections)


def parse_dsync(rdata):
    """DSYNC rdata (RFC 9859 §2.1): RRtype, Scheme, Port, uncompressed Target."""
    if len(rdata) < 6:
        raise NotifyError("DSYNC rdata of %d octets is too short" % len(rdata))
    rrtype, scheme, port = struct.unpack(">HBH", rdata[:5])
    target, end = read_name(rdata, 5, compress=False)
    if end != len(rdata):
        raise NotifyError("DSYNC rdata has %d octets after the target" % (len(rdata) - end))
    return Dsync(rrtype, scheme, port, target)


def build_query(qid, qname, qtype):
    """A recursive query with EDNS(0) and DO, for a validating resolver."""
    return (struct.pack(">HHHHHH", qid, RD, 1, 0, 0, 1) + wire_name(qname) +
            struct.pack(">HH", qtype, CLASS_IN) +
            b"\0" + struct.pack(">HHIH", T_OPT, 1232, 0x8000, 0))


def build_notify(qid, child, qtype):
    """RFC 1996 §3.7 and §4 (its example: flags AA), RFC 9859 §4: opcode
    NOTIFY, one question CHILD/QTYPE/IN, nothing else; RD clear."""
    return (struct.pack(">HHHHHH", qid, (OPCODE_NOTIFY << 11) | AA, 1, 0, 0, 0) +
            wire_name(child) + struct.pack(">HH", qtype, CLASS_IN))


# ------------------------------------------------------------ transport ----

def _tcp_exchange(addr, port, wire, timeout, source=None):
    """One message and its answer over TCP (RFC 1035 §4.2.2: each with a
    two-octet length)."""
    data = b""
    try:
        with socket.socket(family(addr), socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            if source:
                s.bind((source, 0))
            s.connect((addr, port))
            s.sendall(struct.pack(">H", len(wire)) + wire)
            while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    raise NotifyError("%s#%d closed the TCP connection" % (addr, port))
                data += chunk
    except OSError as e:
        raise NotifyError("TCP to %s#%d: %s" % (addr, port, e))
    return data[2:2 + struct.unpack(">H", data[:2])[0]]


def query(resolver, qname, qtype, timeout=2.0, tries=3):
    """Ask the resolver (ADDR or ADDR#PORT); the answer as a Message, after
    TCP when the UDP answer was truncated."""
    addr, port = parse_addr(resolver)
    qname, qtype = fqdn(qname), type_code(qtype)
    qid = random.randrange(65536)
    wire = build_query(qid, qname, qtype)
    for _ in range(tries):
        with socket.socket(family(addr), socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.connect((addr, port))
            s.send(wire)
            deadline = time.monotonic() + timeout
            try:
                while time.monotonic() < deadline:
                    m = parse_message(s.recv(65535))
                    if m.qid == qid and m.flags & QR and m.questions[:1] == [
                            (qname, qtype, CLASS_IN)]:
                        if m.flags & TC:
                            m = parse_message(_tcp_exchange(addr, port, wire, timeout))
                        return m
            except (socket.timeout, ConnectionRefusedError):
                continue
    raise NotifyError("no answer from the resolver %s for %s %s" % (resolver, qname,
                                                                   type_text(qtype)))


def _validated(m, resolver, what):
    if m.rcode not in (0, 3):
        raise NotifyError("%s: %s from the resolver %s" % (what, rcode_text(m.rcode), resolver))
    if not m.flags & AD:
        raise NotifyError("%s: the answer of %s is not validated (no AD bit)" % (what, resolver))
    return m


# ------------------------------------------------------------ discovery ----

def addresses(name, resolver, timeout=2.0):
    """The validated A, then AAAA, records of name."""
    out = []
    for qtype in (T_A, T_AAAA):
        m = _validated(query(resolver, name, qtype, timeout), resolver,
                       "%s %s" % (name, type_text(qtype)))
        for rr in m.answer:
            if rr[1] == qtype == T_A and len(rr[4]) == 4:
                out.append(socket.inet_ntop(socket.AF_INET, rr[4]))
            elif rr[1] == qtype == T_AAAA and len(rr[4]) == 16:
                out.append(socket.inet_ntop(socket.AF_INET6, rr[4]))
    return out


def _next_lookup(child_labels, before, after, parent):
    """RFC 9859 §4.1 step 3 after a denial whose SOA names parent: the next
    name to ask, or None.  The lookup name was before + _dsync + after."""
    if after != parent and (parent == "." or after.endswith("." + parent)):
        # The parent is further up than the label above _dsync: the child's
        # labels below the parent zone, then _dsync (example: subsub._dsync.
        # sub.child.example denied by example. -> subsub.sub.child._dsync.example.).
        keep = len(child_labels) - (0 if parent == "." else len(parent[:-1].split(".")))
        return ".".join(child_labels[:keep] + ["_dsync"]) + "." + ("" if parent == "." else parent)
    if before:
        return "_dsync." + ("" if after == "." else after)
    return None


def discover(child, qtype, resolver, timeout=2.0):
    """The NOTIFY target for child (a zone) and qtype (CDS or CSYNC, name or
    number) the RFC 9859 §4.1 way, through the validating resolver."""
    child, qt = fqdn(child), type_code(qtype)
    if child == ".":
        raise ValueError("the root has no parent")
    labels = child[:-1].split(".")
    lookup = labels[0] + "._dsync." + (".".join(labels[1:]) + "." if labels[1:] else "")
    lookups = []
    while lookup is not None and len(lookups) < len(labels) + 2:
        lookups.append(lookup)
        m = _validated(query(resolver, lookup, T_DSYNC, timeout), resolver,
                       "%s DSYNC" % lookup)
        found = [parse_dsync(rr[4]) for rr in m.answer if rr[1] == T_DSYNC]
        if m.rcode == 0 and found:
            return _target(found, lookup, lookups, qt, resolver, timeout)
        soa = [rr[0] for rr in m.authority if rr[1] == T_SOA]
        if not soa:
            raise NotifyError("%s DSYNC: a denial without SOA" % lookup)
        before, _, after = ("." + lookup).partition("._dsync.")
        lookup = _next_lookup(labels, before[1:], after or ".", soa[0])
    raise NoTarget("no DSYNC for %s (asked %s)" % (child, ", ".join(lookups)))


def _target(found, owner, lookups, qt, resolver, timeout):
    """The positive answer: its record for qt with scheme NOTIFY (records of
    scheme 0 or port 0 are ignored, RFC 9859 §2.1), and the target's
    address."""
    usable = [d for d in found if d.rrtype == qt and d.scheme == SCHEME_NOTIFY and d.port]
    if not usable:
        raise NoTarget("DSYNC at %s has no NOTIFY record for %s: %s"
                       % (owner, type_text(qt), found))
    d = usable[0]
    addrs = addresses(d.target, resolver, timeout)
    if not addrs:
        raise NotifyError("the NOTIFY target %s has no address record" % d.target)
    return Target(d.target, addrs[0], d.port, owner, found, lookups, addrs)


# ---------------------------------------------------------------- NOTIFY ----

def _reply(data, qid, ignored):
    m = parse_message(data)
    return Reply(m.rcode, rcode_text(m.rcode), m.qid, m.flags, m.opcode,
                 m.questions[0] if m.questions else None, len(m.questions), ignored)


def send_notify(target, child, qtype, source=None, timeout=2.0, tries=3, tcp=False, qid=None):
    """Send NOTIFY(qtype) for child to target (a Target, or (address, port))
    and wait for the reply: one with the ID and QR set from the target's
    address and port (anything else is counted in Reply.ignored).  source:
    the local address to send from.  Raises NotifyError when none comes."""
    addr, port = (target.address, target.port) if isinstance(target, Target) else target
    qid = random.randrange(65536) if qid is None else qid
    wire = build_notify(qid, fqdn(child), type_code(qtype))
    if tcp:
        return _reply(_tcp_exchange(addr, port, wire, timeout, source), qid, 0)
    ignored = 0
    with socket.socket(family(addr), socket.SOCK_DGRAM) as s:
        if source:
            s.bind((source, 0))
        for _ in range(tries):
            # RFC 1996 §3.6: sent again, the same message, when no reply came.
            s.sendto(wire, (addr, port))
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                s.settimeout(left)
                try:
                    data, peer = s.recvfrom(65535)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    raise NotifyError("%s#%d refused the NOTIFY (port closed)" % (addr, port))
                if (peer[0], peer[1]) != (addr, port) or len(data) < 12 or \
                        struct.unpack(">H", data[:2])[0] != qid or not data[2] & 0x80:
                    ignored += 1
                    continue
                return _reply(data, qid, ignored)
    raise NotifyError("no reply to NOTIFY(%s) %s from %s#%d after %d tries"
                      % (type_text(type_code(qtype)), fqdn(child), addr, port, tries))


def notify(child, qtype, resolver, source=None, timeout=2.0, tries=3, tcp=False):
    """discover, then send_notify: (Target, Reply)."""
    t = discover(child, qtype, resolver, timeout)
    return t, send_notify(t, child, qtype, source, timeout, tries, tcp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resolver", required=True, help="validating resolver, ADDR or ADDR#PORT")
    ap.add_argument("--source", help="send the NOTIFY from this local address")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds per try (default 2)")
    ap.add_argument("--tcp", action="store_true", help="send the NOTIFY by TCP")
    ap.add_argument("--discover-only", action="store_true", help="find the target, send nothing")
    ap.add_argument("child")
    ap.add_argument("qtype", choices=["CDS", "CSYNC", "cds", "csync"])
    a = ap.parse_args(argv)
    child, qtype = fqdn(a.child), a.qtype.upper()
    try:
        t = discover(child, qtype, a.resolver, a.timeout)
        print("target %s %s#%d (DSYNC at %s, validated; asked %s)"
              % (t.name, t.address, t.port, t.owner, ", ".join(t.lookups)))
        if a.discover_only:
            return 0
        r = send_notify(t, child, qtype, a.source, a.timeout, tcp=a.tcp)
    except NotifyError as e:
        print("notify_sender: %s" % e, file=sys.stderr)
        return 2
    q = "%s %s %s" % (r.question[0], type_text(r.question[1]),
                      "IN" if r.question[2] == CLASS_IN else "CLASS%d" % r.question[2]) \
        if r.question else "(none)"
    print("reply %s, opcode %d, question %s" % (r.rcode_text, r.opcode, q))
    return 0 if r.rcode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
