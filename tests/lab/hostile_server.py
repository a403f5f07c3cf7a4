#!/usr/bin/python3
"""A hostile nameserver for the lab: one address, UDP and TCP on port 53,
serving child zones built to hurt a parent-side scanner (issue #16).

    hostile_server.py build --dir DIR --origin PARENT --address ADDR
    hostile_server.py serve --dir DIR --address ADDR

`build` makes the zones below PARENT (one per hostile kind, named
h-KIND.PARENT), signs those that carry data with ldns-signzone (real keys
from ldns-keygen, really signed data), and writes DIR/zones.json (what
`serve` answers from), DIR/parent.zone (the NS, glue and DS lines of every
hostile delegation, for the parent zone) and DIR/expect.json (per zone: the
reason code a scanner with cdscan's default limits must give, and a piece
of the detail naming the limit or the defect).  `serve` answers raw DNS on
ADDR#53, crafting the broken wire itself; it runs until SIGTERM.

The kinds (KINDS below): KeyTrap keys (many keys sharing one key tag) and
signatures (many RRSIGs over one RRset that all fail but the last), NSEC3
with 2,500 iterations, compression-pointer loops and pointers past the end,
an RRset of 1,500 records, a TCP answer dripped one byte per second, answers
with a wrong ID, question or class, CNAME and DNAME at the apex, a referral
to itself instead of an answer, an apex NS set of 1,000 names, and a valid
CSYNC over an apex NS set of 100 names (above scan.csync-max-ns).  Each
hostile zone's delegation carries a DS for its real key, so that the
validator is exercised, not skipped.

Python's standard library only; ldns's tools as the lab uses them."""

import argparse
import base64
import binascii
import calendar
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Key, LabError, fqdn, keytag, listen53, nsec3_hash, run  # noqa: E402

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "TXT": 16, "AAAA": 28, "DNAME": 39, "OPT": 41,
         "DS": 43, "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "NSEC3": 50, "NSEC3PARAM": 51,
         "CDS": 59, "CDNSKEY": 60, "CSYNC": 62}
TYPE_NAMES = {v: k for k, v in TYPES.items()}

# What a scan with cdscan's default limits must give each kind: on which
# side of the verdict, the action and the first reason code (CONTRACT.md),
# and a piece of the detail or a server's error that names the limit or
# the defect.  An NSEC3 proof over the iteration limit is not a rejection:
# it proves nothing, so the parent's data is kept (cdscan(8) LIMITS), and
# the detail says why.
KINDS = {
    "keytrap": ("ds", "reject", "bogus", "limits.keys-per-tag"),
    "sigtrap": ("ds", "reject", "bogus", "limits.verifications-per-rrset"),
    "nsec3": ("ns", "none", "csync-unchanged", "limits.nsec3-max-iterations"),
    "compress": ("ds", "reject", "ns-unreachable", "malformed answer"),
    "bigrrset": ("ds", "reject", "ns-unreachable", "limits.records-per-rrset"),
    "drip": ("ds", "reject", "ns-unreachable", "timeout"),
    "wrongid": ("ds", "reject", "ns-unreachable", "only answers that are not for the query"),
    "alias": ("ds", "reject", "ns-unreachable", "CNAME at the zone apex"),
    "selfref": ("ds", "reject", "ns-unreachable", "referral instead of an answer"),
    "manyns": ("ds", "reject", "ns-unreachable", "limits.records-per-rrset"),
    "csyncns": ("ns", "reject", "csync-ns-not-serving", "scan.csync-max-ns"),
}

# Sizes of the attacks.
KEYTRAP_KEYS = 30        # keys with one key tag (limits.keys-per-tag: 4; dnskeys-per-rrset: 32)
KEYTRAP_SIGS = 16        # RRSIGs over CDS and CDNSKEY, all at limits.rrsigs-per-rrset
SIGTRAP_KEYS = 4         # at limits.keys-per-tag: allowed
SIGTRAP_SIGS = 16        # at limits.rrsigs-per-rrset: allowed; 15 fail, the last is good
NSEC3_ITERATIONS = 2500  # limits.nsec3-max-iterations: 150
BIG_RRSET = 1500         # CDS records (limits.records-per-rrset: 512); ~55 KB over TCP
MANY_NS = 1000           # apex NS names
CSYNC_NS = 100           # apex NS names with a valid CSYNC: under records-per-rrset,
                         # above scan.csync-max-ns (16), so none of them is asked
SERIAL = 2026120101


# ------------------------------------------------------------- building ----

def collide(key, count, rng):
    """count DNSKEY rdatas (presentation) other than key's, with its key
    tag: its RSA modulus with one octet raised and another lowered, both
    at even offsets of the rdata, so that the RFC 4034 Appendix B sum, and
    so the tag, stays the same.  Each is a valid RSA public key a validator
    must try (and fail) with every signature naming the tag."""
    pub = bytearray(base64.b64decode(key.pubkey))
    elen = pub[0]
    start = 1 + elen + 1          # after the modulus's top octet
    out, seen = [], set()
    # rdata offset = 4 + pub index: even pub indices are the high octets.
    places = [i for i in range(start, len(pub) - 1) if i % 2 == 0]
    while len(out) < count:
        p, q = rng.sample(places, 2)
        if pub[p] == 255 or pub[q] == 0 or (p, q) in seen:
            continue
        seen.add((p, q))
        b = bytearray(pub)
        b[p] += 1
        b[q] -= 1
        rdata = "%d %d %d %s" % (key.flags, key.protocol, key.algorithm,
                                 base64.b64encode(bytes(b)).decode())
        if keytag(rdata) != key.keytag:
            raise LabError("key tag collision failed")
        out.append(rdata)
    return out


def bad_copies(signed, owner, types, count, rng):
    """count RRSIG lines per type in types at owner, copies of the real one
    with another signature.  They are served before it (a validator takes
    RRSIGs in the order of the answer), so that one must try each with
    every key of the tag before it reaches the one that validates."""
    out = []
    for line in signed.splitlines():
        f = line.split()
        if len(f) > 12 and f[3] == "RRSIG" and f[4] in types and fqdn(f[0]) == owner:
            sig = bytes(base64.b64decode("".join(f[12:])))
            for _ in range(count):
                bad = bytearray(sig)
                for i in rng.sample(range(len(bad)), 8):
                    bad[i] ^= 0x5A
                out.append("\t".join(f[:12]) + " " + base64.b64encode(bytes(bad)).decode())
    return out


def sign(workdir, zone, text, key, nsec3=None):
    path = os.path.join(workdir, zone + "zone")
    with open(path, "w") as f:
        f.write(text)
    now = int(time.time())
    cmd = ["ldns-signzone", "-i", str(now - 3600), "-e", str(now + 30 * 86400), "-o", zone,
           "-f", path + ".signed"]
    if nsec3 is not None:
        cmd += ["-n", "-t", str(nsec3)]
    run(cmd + [path, key.base])
    with open(path + ".signed") as f:
        return f.read()


def build(args):
    d = os.path.abspath(args.dir)
    keydir = os.path.join(d, "keys")
    os.makedirs(keydir, exist_ok=True)
    rng = random.Random(16)
    origin = fqdn(args.origin)
    zones, parent, expect = {}, [], {}
    for kind in KINDS:
        zone = "h-%s.%s" % (kind, origin)
        # RSA for the KeyTrap zones (colliding keys are made from its
        # modulus), 4,096 bits: the largest limits.rsa-max-bits lets through,
        # the dearest to verify.
        alg = "8 ksk 4096" if kind in ("keytrap", "sigtrap") else "13 ksk"
        key = Key(keydir, zone, "k", alg)
        ns = "ns." + zone
        head = ["$ORIGIN " + zone, "$TTL 300",
                "@ SOA %s hostmaster.%s %d 3600 600 86400 300" % (ns, zone, SERIAL),
                "@ NS " + ns, "ns A " + args.address, "@ DNSKEY " + key.dnskey_rdata()]
        extra, nsec3, bad = [], None, []
        if kind == "keytrap":
            extra += ["@ DNSKEY " + r for r in collide(key, KEYTRAP_KEYS, rng)]
        if kind == "sigtrap":
            extra += ["@ DNSKEY " + r for r in collide(key, SIGTRAP_KEYS - 1, rng)]
        if kind in ("keytrap", "sigtrap"):
            extra += ["@ CDS " + key.ds_rdata(2), "@ CDNSKEY " + key.dnskey_rdata()]
        if kind == "nsec3":
            # RFC 7477: the CSYNC makes the scanner ask for ns's AAAA, whose
            # absence only an NSEC3 proof of 2,500 iterations shows.
            nsec3 = NSEC3_ITERATIONS
            extra += ["@ CSYNC %d 3 NS A AAAA" % SERIAL]
        if kind == "bigrrset":
            extra += ["@ CDS %d 13 1 %s" % (rng.randrange(65536), "%040X" % rng.getrandbits(160))
                      for _ in range(BIG_RRSET)]
        if kind == "manyns":
            extra += ["@ NS ns%04d.%s" % (i, zone) for i in range(MANY_NS - 1)]
            extra += ["@ CSYNC %d 1 NS" % SERIAL]
        if kind == "csyncns":
            extra += ["@ NS ns%04d.%s" % (i, zone) for i in range(CSYNC_NS - 1)]
            extra += ["@ CSYNC %d 1 NS A AAAA" % SERIAL]
        signed = sign(d, zone, "\n".join(head + extra) + "\n", key, nsec3)
        # The DNSKEY RRset keeps its one good RRSIG: only keys a DS names
        # are tried for it (RFC 4035 §5.2), so the colliding keys cost
        # nothing there.  The CDS and CDNSKEY RRsets are checked with the
        # whole DNSKEY RRset: there every key of the tag is a candidate.
        if kind == "keytrap":
            bad = bad_copies(signed, zone, ("CDS", "CDNSKEY"), KEYTRAP_SIGS - 1, rng)
        if kind == "sigtrap":
            bad = bad_copies(signed, zone, ("CDS", "CDNSKEY"), SIGTRAP_SIGS - 1, rng)
        # The failing RRSIGs first: they are served in this order.
        records = bad + [l.split(";")[0] for l in signed.splitlines() if l.strip()]
        zones[zone] = {"kind": kind, "records": records, "nsec3": nsec3, "ns": ns}
        parent += ["%s NS %s" % (zone, ns), "%s A %s" % (ns, args.address),
                   "%s DS %s" % (zone, key.ds_rdata(2))]
        side, action, code, detail = KINDS[kind]
        expect[zone] = {"kind": kind, "side": side, "action": action, "reason": code,
                        "detail": detail}
    with open(os.path.join(d, "zones.json"), "w") as f:
        json.dump({"address": args.address, "zones": zones}, f)
    with open(os.path.join(d, "parent.zone"), "w") as f:
        f.write("\n".join(parent) + "\n")
    with open(os.path.join(d, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1, sort_keys=True)
    print("hostile: %d zones below %s in %s" % (len(zones), origin, d))


# ----------------------------------------------------------------- wire ----

def name_wire(name):
    name = fqdn(name)
    if name == ".":
        return b"\0"
    return b"".join(bytes([len(l)]) + l.encode() for l in name[:-1].split(".")) + b"\0"


def bitmap(types):
    """RFC 4034 §4.1.2 type bit maps."""
    windows = {}
    for t in types:
        n = TYPES[t] if t in TYPES else int(t[4:])
        windows.setdefault(n >> 8, set()).add(n & 0xFF)
    out = b""
    for w in sorted(windows):
        bits = bytearray(32)
        for b in windows[w]:
            bits[b >> 3] |= 0x80 >> (b & 7)
        n = max(b >> 3 for b in windows[w]) + 1
        out += bytes([w, n]) + bytes(bits[:n])
    return out


def sig_time(s):
    return calendar.timegm(time.strptime(s, "%Y%m%d%H%M%S")) if len(s) == 14 else int(s)


def rdata_wire(rtype, f):
    """The rdata of one record in presentation fields f."""
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, f[0])
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, f[0])
    if rtype in ("NS", "CNAME", "DNAME"):
        return name_wire(f[0])
    if rtype == "SOA":
        return name_wire(f[0]) + name_wire(f[1]) + struct.pack(">5I", *map(int, f[2:7]))
    if rtype in ("DNSKEY", "CDNSKEY"):
        return struct.pack(">HBB", int(f[0]), int(f[1]), int(f[2])) + base64.b64decode("".join(f[3:]))
    if rtype in ("DS", "CDS"):
        return struct.pack(">HBB", int(f[0]), int(f[1]), int(f[2])) + binascii.unhexlify("".join(f[3:]))
    if rtype == "RRSIG":
        return (struct.pack(">HBBIIIH", TYPES[f[0]], int(f[1]), int(f[2]), int(f[3]),
                            sig_time(f[4]), sig_time(f[5]), int(f[6]))
                + name_wire(f[7]) + base64.b64decode("".join(f[8:])))
    if rtype == "NSEC":
        return name_wire(f[0]) + bitmap(f[1:])
    if rtype == "NSEC3":
        salt = b"" if f[3] == "-" else binascii.unhexlify(f[3])
        nxt = base64.b32hexdecode(f[4].upper())
        return (struct.pack(">BBH", int(f[0]), int(f[1]), int(f[2])) + bytes([len(salt)]) + salt
                + bytes([len(nxt)]) + nxt + bitmap(f[5:]))
    if rtype == "NSEC3PARAM":
        salt = b"" if f[3] == "-" else binascii.unhexlify(f[3])
        return struct.pack(">BBH", int(f[0]), int(f[1]), int(f[2])) + bytes([len(salt)]) + salt
    if rtype == "CSYNC":
        return struct.pack(">IH", int(f[0]), int(f[1])) + bitmap(f[2:])
    raise LabError("hostile: no wire form for %s" % rtype)


class Zone:
    """A zone's records by (owner, type), RRSIGs by (owner, covered type)."""

    def __init__(self, name, spec):
        self.name = name
        self.kind = spec["kind"]
        self.nsec3 = spec["nsec3"]
        self.ns = spec["ns"]
        self.rrsets = {}
        self.sigs = {}
        self.owners = set()
        for line in spec["records"]:
            f = line.split()
            owner, ttl, rtype = fqdn(f[0]), int(f[1]), f[3]
            rd = rdata_wire(rtype, f[4:])
            self.owners.add(owner)
            if rtype == "RRSIG":
                self.sigs.setdefault((owner, f[4]), []).append((ttl, rd))
            else:
                self.rrsets.setdefault((owner, rtype), []).append((ttl, rd))
        if self.nsec3 is not None:
            self.owners = {o for o in self.owners if (o, "NSEC3") not in self.rrsets}

    def rrs(self, owner, rtype):
        """[(owner, type, ttl, rdata)] of the RRset and its RRSIGs."""
        out = [(owner, TYPES[rtype], t, rd) for t, rd in self.rrsets.get((owner, rtype), [])]
        out += [(owner, 46, t, rd) for t, rd in self.sigs.get((owner, rtype), [])]
        return out

    def denial(self, qname):
        if self.nsec3 is None:
            return self.rrs(qname, "NSEC")
        h = "%s.%s" % (nsec3_hash(qname, self.nsec3), self.name)
        return self.rrs(h, "NSEC3")


def parse_query(q):
    """(id, flags, qname, qtype, qclass, question wire, EDNS size, DO) or None."""
    if len(q) < 17 or struct.unpack(">H", q[4:6])[0] != 1:
        return None
    qid, flags = struct.unpack(">HH", q[:4])
    o, labels = 12, []
    while o < len(q) and q[o]:
        if q[o] > 63:
            return None
        labels.append(q[o + 1:o + 1 + q[o]].decode("ascii", "replace").lower())
        o += 1 + q[o]
    o += 1
    if o + 4 > len(q):
        return None
    qtype, qclass = struct.unpack(">HH", q[o:o + 4])
    question = q[12:o + 4]
    size, do = None, False
    rest = q[o + 4:]
    # The OPT record, when it is the only additional record (as cdscan sends).
    if len(rest) >= 11 and rest[0] == 0 and struct.unpack(">H", rest[1:3])[0] == 41:
        size = max(512, struct.unpack(">H", rest[3:5])[0])
        do = bool(struct.unpack(">I", rest[5:9])[0] & 0x8000)
    return qid, flags, ".".join(labels) + ".", qtype, qclass, question, size, do


def message(qid, flags, question, an=(), ns=(), ar=(), opt=None, qname=None):
    """A DNS message; an owner equal to qname is compressed to the question."""
    def rr(owner, rtype, ttl, rd):
        o = b"\xc0\x0c" if qname and owner == qname else name_wire(owner)
        return o + struct.pack(">HHIH", rtype, 1, ttl, len(rd)) + rd
    body = b"".join(rr(*r) for r in an) + b"".join(rr(*r) for r in ns) + b"".join(rr(*r) for r in ar)
    extra = 0
    if opt is not None:
        body += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000 if opt else 0, 0)
        extra = 1
    head = struct.pack(">HHHHHH", qid, flags, 1, len(an), len(ns), len(ar) + extra)
    return head + question + body


class Server:
    def __init__(self, directory, address):
        with open(os.path.join(directory, "zones.json")) as f:
            spec = json.load(f)
        self.address = address
        self.zones = {n: Zone(n, z) for n, z in spec["zones"].items()}

    def zone_of(self, qname):
        best = None
        for z in self.zones:
            if (qname == z or qname.endswith("." + z)) and (not best or len(z) > len(best)):
                best = z
        return self.zones.get(best)

    def answer(self, q, tcp):
        """The answer to query q (bytes), or None to stay silent; over TCP
        also whether to drip it."""
        p = parse_query(q)
        if p is None:
            return None
        qid, qflags, qname, qtype, qclass, question, size, do = p
        rd = qflags & 0x0100
        opt = do if size is not None else None
        z = self.zone_of(qname)
        if z is None:
            return message(qid, 0x8000 | rd | 5, question, opt=opt)  # REFUSED
        kind = z.kind
        if kind == "compress":
            return self.compress(qid, rd, question, qtype)
        if kind == "wrongid":
            return self.wrong(qid, rd, question, qtype, qname)
        if kind == "selfref":
            # Not authoritative, nothing in the answer: a referral to the
            # zone itself, at the same server (a loop for an iterator).
            return message(qid, 0x8000 | rd, question, ns=[(z.name, 2, 300, name_wire(z.ns))],
                           ar=[(z.ns, 1, 300, socket.inet_pton(socket.AF_INET, self.address))],
                           opt=opt)
        if kind == "alias" and qname == z.name and qtype != 5:
            # CNAME and DNAME at the apex instead of the zone's data.
            return message(qid, 0x8400 | rd, question,
                           an=[(z.name, 39, 300, name_wire("elsewhere.example.")),
                               (z.name, 5, 300, name_wire("elsewhere.example."))],
                           opt=opt, qname=qname)
        m = self.data(z, qid, rd, question, qname, qtype, opt)
        limit = 65535 if tcp else (size or 512)
        if kind == "drip" and not tcp:
            limit = 0  # always truncated: the real answer is over TCP
        if len(m) > limit:
            return message(qid, 0x8400 | 0x0200 | rd, question, opt=opt)
        return m

    def data(self, z, qid, rd, question, qname, qtype, opt):
        """An authoritative answer from the zone's records (NODATA with the
        SOA and the denial proof, NXDOMAIN with the SOA)."""
        tname = TYPE_NAMES.get(qtype)
        an = z.rrs(qname, tname) if tname and (qname, tname) in z.rrsets else []
        flags = 0x8400 | rd
        ns = []
        if not an:
            ns = z.rrs(z.name, "SOA")
            if qname in z.owners:
                ns += z.denial(qname)
            else:
                flags |= 3
        return message(qid, flags, question, an=an, ns=ns, opt=opt, qname=qname)

    def compress(self, qid, rd, question, qtype):
        """An answer whose one record's owner is a compression pointer to
        itself (a loop) or past the end of the message."""
        head = struct.pack(">HHHHHH", qid, 0x8400 | rd, 1, 1, 0, 0)
        at = len(head) + len(question)
        rdata = b"\x7f\0\0\1"
        if qtype in (6, 59, 62):
            owner = struct.pack(">H", 0xC000 | at)            # points at itself
        else:
            owner = struct.pack(">H", 0xC000 | (at + 400))    # past the end
        return head + question + owner + struct.pack(">HHIH", 1, 1, 300, len(rdata)) + rdata

    def wrong(self, qid, rd, question, qtype, qname):
        """Answers that are not for the query: wrong ID, wrong name, wrong
        class, wrong type, or no QR bit, depending on the type asked."""
        soa = struct.pack(">HHIH", 6, 1, 300, 22) + b"\0\0" + struct.pack(">5I", 1, 2, 3, 4, 5)
        def msg(i, flags, quest):
            return struct.pack(">HHHHHH", i, flags, 1, 1, 0, 0) + quest + b"\xc0\x0c" + soa
        if qtype == 6:
            return msg(qid ^ 0x5A5A, 0x8400 | rd, question)
        if qtype == 48:
            return msg(qid, 0x8400 | rd, name_wire("other." + qname) + question[-4:])
        if qtype == 59:
            return msg(qid, 0x8400 | rd, question[:-2] + b"\0\3")        # class CH
        if qtype == 60:
            return msg(qid, 0x8400 | rd, question[:-4] + b"\0\6" + question[-2:])  # type SOA
        if qtype == 62:
            return msg(qid, 0x0400 | rd, question)                      # QR clear
        return msg((qid + 1) & 0xFFFF, 0x8400 | rd, question)

    # -- sockets --------------------------------------------------------

    def serve(self):
        sel, udp, tcp = listen53(self.address, 128)
        print("hostile: serving %d zones on %s#53" % (len(self.zones), self.address), flush=True)
        while True:
            for key, _ in sel.select():
                if key.fileobj is tcp:
                    c, _ = tcp.accept()
                    threading.Thread(target=self.over_tcp, args=(c,), daemon=True).start()
                    continue
                try:
                    q, client = udp.recvfrom(65535)
                    a = self.answer(q, False)
                    if a is not None:
                        udp.sendto(a, client)
                except OSError:
                    pass
                except Exception as e:  # a bug here must not stop the server
                    print("hostile: error: %r" % e, flush=True)

    def over_tcp(self, conn):
        """RFC 7766 framing; the drip zone's answers one octet per second."""
        try:
            conn.settimeout(30)
            while True:
                head = recv_all(conn, 2)
                if head is None:
                    return
                q = recv_all(conn, struct.unpack(">H", head)[0])
                if q is None:
                    return
                a = self.answer(q, True)
                if a is None:
                    continue
                out = struct.pack(">H", len(a)) + a
                p = parse_query(q)
                z = self.zone_of(p[2]) if p else None
                if z is not None and z.kind == "drip":
                    for i in range(len(out)):
                        conn.sendall(out[i:i + 1])
                        time.sleep(1)
                else:
                    conn.sendall(out)
        except (OSError, ValueError):
            return
        except Exception as e:
            print("hostile: error: %r" % e, flush=True)
        finally:
            conn.close()


def recv_all(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="make and sign the hostile zones")
    b.add_argument("--dir", required=True)
    b.add_argument("--origin", required=True)
    b.add_argument("--address", required=True)
    s = sub.add_parser("serve", help="answer for the hostile zones until SIGTERM")
    s.add_argument("--dir", required=True)
    s.add_argument("--address", required=True)
    args = ap.parse_args()
    try:
        if args.cmd == "build":
            build(args)
        else:
            Server(os.path.abspath(args.dir), args.address).serve()
    except LabError as e:
        print("hostile: error: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
