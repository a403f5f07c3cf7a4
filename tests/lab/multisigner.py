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
    msg = lab.exchange(addr, qname, QTYPES[qtype], timeout, edns=True)
    want = {"answer": 0, "authority": 1}[section]
    return next((ttl for sec, rtype, ttl, _ in lab.records(msg or b"")
                 if sec == want and rtype == QTYPES[qtype]), None)


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
        self.history = [self.snapshot(0.0, 0.0)]

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
        started = time.time()
        now = int(started)
        for p in self.providers():
            path = os.path.join(self.workdir, p.domain + "zone")
            with open(path, "w") as f:
                f.write(self.render(p))
            signed = lab.signzone(self.zone, path, [self.keys[k]["base"] for k in p.keys],
                                  (now - 3600, now + 30 * 86400))
            for _, addr in p.servers:
                lab.serve_zone(self.info["dir"], addr, self.zone, signed, self.serial)
        self.history.append(self.snapshot(started, time.time()))
        return self.serial

    def snapshot(self, started, done):
        """What the providers serve from started (the first server may
        have it) on, all of them from done: (started, done, {provider:
        DNSKEY labels}, providers named by the apex NS)."""
        return (started, done, {p: frozenset(k) for p, k in self.dnskey.items()},
                frozenset(p.domain for p in self.providers()
                          if any(lab.owner_in(lab.fqdn(n), p.domain) for n in self.ns)))

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


# ------------------------------------------------------------ the model ----
#
# The glitch detector sees what two resolvers happen to cache.  The model
# sees what any resolver may cache: at every instant of the run (a 0.1 s
# grid) it takes every parent DS set and NS set, every apex NS set and
# every DNSKEY RRset some resolver may still hold (served at most one TTL
# ago), and checks the two conditions of RFC 8901 model 2 for each
# combination:
#   I1  each provider a resolver may ask has its KSK in every DS set a
#       resolver may hold (its DNSKEY RRset is signed by that KSK alone);
#   I2  each provider a resolver may ask has its ZSK in every DNSKEY RRset
#       a resolver may hold from any provider (its data is signed by that
#       ZSK, and checked against whichever DNSKEY RRset is cached).
# Publication times get SLACK seconds either side.

SLACK = 0.5


def parent_states(info, zone, published):
    """[(time, DS key labels, NS provider domains)] of zone at its parent:
    the lab's delegation, then each publication (epp_server's
    published.jsonl entries)."""
    z = info["zones"][zone]
    by_ds = {k["ds"]: label for label, k in z["keys"].items() if k.get("ds")}
    providers = {lab.fqdn(n).split(".", 1)[1] for n in z["ns"]}

    def state(t, ds, ns):
        return (t, frozenset(by_ds.get(d.upper(), d) for d in ds),
                frozenset(p for p in providers if any(lab.owner_in(lab.fqdn(n), p) for n in ns)))
    out = [state(0.0, z["ds"], z["parent_ns"])]
    for e in published:
        if "ns" in e:
            out.append(state(e["time"], e["ds"], e["ns"]))
    return out


def held(states, t, ttl, start=lambda s: s[0], end=None):
    """The states a resolver may hold at t: served at some time in
    [t - ttl, t].  states in order; end(i): when state i stopped being
    served (default: when the next began)."""
    out = []
    for i, s in enumerate(states):
        stop = end(i) if end else (states[i + 1][0] if i + 1 < len(states) else float("inf"))
        if start(s) - SLACK <= t and stop + SLACK + ttl >= t:
            out.append(s)
    return out


def unsafe_windows(op, parent, ttl, t0, t1, step=0.1):
    """Where the model finds a resolver could fail: [(from, to, why)]
    (times in seconds), merged over the grid; [] when nowhere.  op: the
    ChildOperator (its history), parent: parent_states(), ttl: {"DS",
    "NS", "DNSKEY", "child NS"} in seconds."""
    keys = {p.domain: (p.ksk, p.zsk) for p in op.providers()}
    hist = op.history
    # A child state is served from its start until the next one is done.
    cend = lambda i: hist[i + 1][1] if i + 1 < len(hist) else float("inf")  # noqa: E731
    grid = [t0 + i * step for i in range(int((t1 - t0) / step) + 1)]

    def asked(t):
        ps = set()
        for s in held(parent, t, ttl["NS"]):
            ps |= s[2]
        for s in held(hist, t, ttl["child NS"], end=cend):
            ps |= s[3]
        return ps
    ask = [asked(t) for t in grid]
    bad = []
    for i, t in enumerate(grid):
        for p in sorted(ask[i]):
            for s in held(parent, t, ttl["DS"]):
                if keys[p][0] not in s[1]:
                    bad.append((t, "%s may be asked, a cached DS set %s lacks its KSK %s"
                                % (p, sorted(s[1]), keys[p][0])))
            lo = max(0, i - int(ttl["DNSKEY"] / step))
            for q in keys:
                if not any(q in a for a in ask[lo:i + 1]):
                    continue
                for s in held(hist, t, ttl["DNSKEY"], end=cend):
                    if keys[p][1] not in s[2][q]:
                        bad.append((t, "%s may be asked, a cached DNSKEY RRset from %s %s "
                                    "lacks its ZSK %s" % (p, q, sorted(s[2][q]), keys[p][1])))
    out = []
    for t, why in sorted(set(bad), key=lambda b: (b[1], b[0])):
        if out and out[-1][2] == why and t - out[-1][1] <= step * 1.5:
            out[-1][1] = t
        else:
            out.append([t, t, why])
    return sorted(tuple(w) for w in out)
