#!/usr/bin/python3
"""The child's side of a DNS provider change through multi-signer (RFC 8901
model 2: each provider signs with its own KSK and ZSK, and both DNSKEY
RRsets hold both providers' keys), played on a running lab.

`ChildOperator` owns one lab zone served by two providers' servers (the
lab's NSDs): it renders the zone for each provider from the current state
(DNSKEY RRset, apex NS, CDS/CDNSKEY, CSYNC, SOA serial), signs it with that
provider's own keys (ldns-signzone) and makes each server reload it
(lab.py's serve_zone), one serial for all servers: a parent's CSYNC check
wants the new servers at the serial the old ones serve.

`provider_change(a, b)` is the process as a list of `Step`s, in the order
the multi-signer process (RFC 8901 §8, and the ADD-SIGNER / REMOVE-SIGNER
procedures it is automated with) requires:

    0  A alone: DNSKEY(A) = {KSK_A, ZSK_A}, NS = A, DS = KSK_A
    1  key exchange: both DNSKEY RRsets hold KSK_A, ZSK_A, KSK_B, ZSK_B
       -> wait the DNSKEY TTL
    2  CDS/CDNSKEY at both providers name KSK_A and KSK_B
       -> the parent adds DS(KSK_B); wait the parent's DS TTL
    3  apex NS = A + B, CSYNC(NS)
       -> the parent adds B's NS; wait the NS TTLs (parent's and child's)
    4  apex NS = B, CSYNC(NS)
       -> the parent removes A's NS; wait the NS TTLs
    5  CDS/CDNSKEY name KSK_B alone
       -> the parent removes DS(KSK_A); wait the parent's DS TTL
    6  A's keys leave B's DNSKEY RRset -> wait the DNSKEY TTL

Each wait is the TTL the servers actually give the records (asked of them,
RD=0), never a constant.  A step that signals the parent says what it
expects the parent to hold afterwards; the caller (the test) drives the
parent and checks it.  Standard library only, beside lab.py."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402

QTYPES = {"NS": 2, "SOA": 6, "DS": 43, "DNSKEY": 48, "CDS": 59, "CDNSKEY": 60, "CSYNC": 62}


class Provider:
    """One DNS provider of the zone: its servers (name, address) among the
    lab's, and the labels of its own keys in the zone's key set."""

    def __init__(self, info, zone, domain, ksk, zsk):
        self.domain = lab.fqdn(domain)
        self.ksk, self.zsk = ksk, zsk
        self.servers = [(n, info["servers"][n]["address"]) for n in info["zones"][zone]["ns"]
                        if lab.owner_in(n, self.domain)]
        if not self.servers:
            raise lab.LabError("no server of %s serves %s" % (domain, zone))

    @property
    def names(self):
        return [n for n, _ in self.servers]

    @property
    def keys(self):
        return [self.ksk, self.zsk]


def ttl_of(addr, qname, qtype, section="answer", timeout=1.0):
    """The TTL of the first qtype record in an answer from addr (RD=0),
    in the answer or the authority section (a referral's NS), or None."""
    qid = int.from_bytes(os.urandom(2), "big")
    wire = (struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1) + lab.wire_name(qname) +
            struct.pack(">HH", QTYPES[qtype], 1) + b"\0" + struct.pack(">HHIH", 41, 1232,
                                                                      0x8000, 0))
    s = socket.socket(lab.family(addr), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(wire, (addr, 53))
        msg = s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()
    try:
        rid, _, qd, an, ns = struct.unpack(">HHHHH", msg[:10])
        if rid != qid:
            return None
        off = 12
        for _ in range(qd):
            off = lab.skip_name(msg, off) + 4
        counts = {"answer": (0, an), "authority": (an, an + ns)}[section]
        for i in range(counts[1]):
            off = lab.skip_name(msg, off)
            rtype, _, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10 + rdlen
            if i >= counts[0] and rtype == QTYPES[qtype]:
                return ttl
    except (struct.error, IndexError):
        return None
    return None


class ChildOperator:
    """The zone's DNS operators, acting together (as the multi-signer
    process has them: each provider publishes what the step says)."""

    def __init__(self, info, zone, a, b, records=()):
        self.info = info
        self.zone = lab.fqdn(zone)
        z = info["zones"][self.zone]
        self.keys = z["keys"]
        self.a, self.b = a, b
        self.records = list(records)
        self.workdir = os.path.join(info["dir"], "operator", self.zone.rstrip("."))
        os.makedirs(self.workdir, exist_ok=True)
        first = a.servers[0][1]
        self.serial = lab.soa_serial(first, self.zone)
        if self.serial is None:
            raise lab.LabError("%s does not answer SOA %s" % (first, self.zone))
        # Step 0 as the lab built it: each provider with its own keys.
        self.dnskey = {a.domain: a.keys, b.domain: b.keys}
        self.ns = a.names
        self.cds = []
        self.csync = None

    def providers(self):
        return (self.a, self.b)

    def render(self, p):
        """The zone text provider p serves, unsigned."""
        lines = ["$ORIGIN %s" % self.zone, "$TTL %d" % self.info["ttl"],
                 "@ SOA %s hostmaster.%s %d 3600 600 86400 %d"
                 % (self.ns[0], self.zone, self.serial, self.info["ttl"])]
        lines += ["@ NS %s" % n for n in self.ns]
        lines += ["@ DNSKEY %s" % self.keys[k]["dnskey"] for k in self.dnskey[p.domain]]
        lines += ["@ CDS %s" % self.keys[k]["ds"] for k in self.cds]
        lines += ["@ CDNSKEY %s" % self.keys[k]["dnskey"] for k in self.cds]
        if self.csync:
            lines.append("@ CSYNC %d %s" % (self.serial, self.csync))
        lines += self.records
        return "\n".join(lines) + "\n"

    def publish(self, dnskey=None, ns=None, cds=None, csync=False):
        """Change the state (None: unchanged; csync: the CSYNC flags and
        types, e.g. "3 NS", or False for none), serve it at every server of
        both providers at the next serial, each signed with its provider's
        keys.  Returns the serial."""
        if dnskey is not None:
            self.dnskey = {p.domain: list(dnskey[p.domain]) for p in self.providers()}
        if ns is not None:
            self.ns = list(ns)
        if cds is not None:
            self.cds = list(cds)
        self.csync = csync or None
        self.serial += 1
        now = int(time.time())
        for p in self.providers():
            path = os.path.join(self.workdir, p.domain + "zone")
            with open(path, "w") as f:
                f.write(self.render(p))
            signed = lab.signzone(self.zone, path, [self.keys[k]["base"] for k in p.keys],
                                  (now - 3600, now + 30 * 86400))
            for _, addr in p.servers:
                lab.serve_zone(self.info["dir"], addr, self.zone, signed, self.serial)
        return self.serial

    # -- the TTLs the process waits out, as served ------------------------

    def child_ttl(self, qtype):
        """The TTL the zone's servers give qtype at the apex (the largest
        over the servers that answer)."""
        ttls = [ttl_of(addr, self.zone, qtype) for p in self.providers() for _, addr in p.servers]
        ttls = [t for t in ttls if t is not None]
        if not ttls:
            raise lab.LabError("no server gives a TTL for %s %s" % (self.zone, qtype))
        return max(ttls)

    def parent_ttl(self, qtype):
        """The TTL the parent's server gives the delegation's DS (answer)
        or NS (referral's authority section)."""
        tld = next(t for t in self.info["parents"] if lab.owner_in(self.zone, t))
        addr = self.info["parents"][tld]["server"]
        ttl = ttl_of(addr, self.zone, qtype, "answer" if qtype == "DS" else "authority")
        if ttl is None:
            raise lab.LabError("the parent gives no TTL for %s %s" % (self.zone, qtype))
        return ttl


class Step:
    """One step of the process: what the child publishes (act), the signal
    it sends the parent (None, "CDS" or "CSYNC"), what the parent must hold
    afterwards (expect: {"ds": [...], "ns": [...]}, None when nothing
    changes), and the TTLs to wait out after it (wait: a function of the
    operator giving [(what, seconds)])."""

    def __init__(self, name, act, signal, expect, wait):
        self.name, self.act, self.signal, self.expect, self.wait = name, act, signal, expect, wait


def provider_change(op):
    """The steps that move op's zone from provider op.a to op.b."""
    a, b, k = op.a, op.b, op.keys
    both = {a.domain: a.keys + b.keys, b.domain: b.keys + a.keys}
    # A no longer serves the zone to anyone (not delegated, NS TTLs out):
    # its servers keep their last version, as a provider winding down.
    only_b = {a.domain: a.keys + b.keys, b.domain: b.keys}
    ds = lambda *labels: sorted(k[x]["ds"] for x in labels)  # noqa: E731
    dnskey_ttl = lambda o: [("DNSKEY TTL", o.child_ttl("DNSKEY"))]  # noqa: E731
    ds_ttl = lambda o: [("parent DS TTL", o.parent_ttl("DS"))]  # noqa: E731
    ns_ttl = lambda o: [("parent NS TTL", o.parent_ttl("NS")),  # noqa: E731
                        ("child NS TTL", o.child_ttl("NS"))]
    return [
        Step("key exchange: both DNSKEY RRsets hold A's and B's keys",
             lambda: op.publish(dnskey=both), None, None, dnskey_ttl),
        Step("CDS/CDNSKEY at both providers: KSK_A and KSK_B",
             lambda: op.publish(cds=[a.ksk, b.ksk]), "CDS",
             {"ds": ds(a.ksk, b.ksk), "ns": a.names}, ds_ttl),
        Step("apex NS = A + B, CSYNC",
             lambda: op.publish(ns=a.names + b.names, csync="3 NS"), "CSYNC",
             {"ds": ds(a.ksk, b.ksk), "ns": a.names + b.names}, ns_ttl),
        Step("apex NS = B, CSYNC",
             lambda: op.publish(ns=b.names, csync="3 NS"), "CSYNC",
             {"ds": ds(a.ksk, b.ksk), "ns": b.names}, ns_ttl),
        Step("CDS/CDNSKEY: KSK_B alone",
             lambda: op.publish(cds=[b.ksk]), "CDS",
             {"ds": ds(b.ksk), "ns": b.names}, ds_ttl),
        Step("A's keys leave B's DNSKEY RRset",
             lambda: op.publish(dnskey=only_b), None, None, dnskey_ttl),
    ]
