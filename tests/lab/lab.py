#!/usr/bin/python3
"""cdscan's lab: real signed zones on real servers, all on loopback.

    lab.py up   --dir DIR [--scenarios DIR_OR_FILE]... [--no-db]
    lab.py down --dir DIR
    lab.py env  --dir DIR          (shell exports for the running lab)
    lab.py status --dir DIR        (the child zones and how they validate)

`up` reads declarative scenario files (TOML, see tests/lab/README.md), makes
keys with ldns-keygen, signs every zone with ldns-signzone, starts one NSD per
nameserver address (so two providers, or two servers of one provider, can
serve different content for the same zone), an Unbound validating resolver
with the lab root's trust anchor, and a throwaway PostgreSQL cluster on a Unix
socket.  It waits until each answers, then writes DIR/lab.json (everything a
test needs to know) and DIR/lab.env.  `down` stops what `up` started, by pid,
removes the runtime directory and keeps the logs in DIR/log.

PostgreSQL runs as user postgres when the lab runs as root, and that user
may not be able to enter DIR (a checkout in /root, or under a `mktemp -d`
directory): its data directory and socket live in a runtime directory of
their own, /tmp/cdscan-lab.XXXXXXXX, which DIR/run links to.

Only addresses in 127.0.0.0/8 are used, unless `up --pg-tls ADDR` (PostgreSQL
also on ADDR port 5432, TLS only, certificates from a lab CA made in DIR/tls)
or `--resolver-also ADDR` (Unbound also on ADDR) name others: scanners in
network namespaces of their own reach them there (bench/run --hosts).
Servers listen on port 53 (resolvers ask delegated servers on port 53 only),
so `up` needs root or CAP_NET_BIND_SERVICE.
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import pwd
import random
import selectors
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCENARIOS = os.path.join(HERE, "scenarios")

RESOLVER_ADDR = "127.53.0.53"
KRESD_ADDR = "127.53.0.52"      # Knot Resolver, with `up --kresd`
DEFAULT_TTL = 300
ROOT_SERVER = ("a.root-servers.net.", "127.53.0.1")
TLD_SERVER = ("ns.nic.test.", "127.53.0.2")
TLDS = ("test.", "net.")

# Where the children of the lab's TLDs send NOTIFY(CDS) and NOTIFY(CSYNC)
# (RFC 9859): the TLDs' DSYNC records name this host, and test. holds its
# address.  Nothing of the lab listens there: a test starts `cdscan daemon`
# (or a socket of its own) on it.  In lab.json as "notify_target".
NOTIFY_TARGET = {"name": "notify.nic.test.", "address": "127.53.0.54", "port": 53}

# PostgreSQL over TCP with TLS (`up --pg-tls ADDR`): the name its server
# certificate holds (with ADDR as an IP subjectAltName too), which clients
# give as host= beside hostaddr=ADDR for sslmode=verify-full; the port; and
# the user the client certificate names (pg_hba `cert` authentication).
PG_TLS_NAME = "db.lab.test"
PG_TLS_PORT = 5432
PG_TLS_USER = "cdscan"

# The DSYNC records of each TLD, as `cdscan dsync --zone TLD --target
# NOTIFY_TARGET --generic` prints them (tests/system/dsync_test.py checks
# that it does): test. at the wildcard *._dsync.test. (RFC 9859 §3.1), net.
# at _dsync.net. (--no-wildcard), so that a child's discovery (§4.1) takes
# both paths.  In the generic form of RFC 3597: the lab's NSD 4.6 and
# ldns-signzone 1.8 do not know the DSYNC mnemonic.
DSYNC_WILDCARD = {"test.": True, "net.": False}
DSYNC_TTL = 3600

# Knot Resolver 5.6 (`up --kresd`).  Besides the lab's root and trust anchor:
# ALLOW_LOCAL, or kresd ignores the lab's 127.x glue; test. passed on (last
# rule), or kresd answers the RFC 6761 special-use name NXDOMAIN itself; a
# minimum TTL of 0 (its default is 5 s) under the maximum of 5 s, as
# Unbound's cache-max-ttl; the trust anchor read-only (no RFC 5011, no
# bootstrap) and nothing that sends queries of its own (key-tag signalling,
# sentinel, time-skew probe).  IPv4 only, as the lab's Unbound.
KRESD_CONF = """-- the cdscan lab's second validating resolver (lab.py up --kresd)
log_target('stderr')
log_level('notice')
net.ipv6 = false
net.outgoing_v4('%(addr)s')
net.listen('%(addr)s', 53, { kind = 'dns' })
modules.unload('ta_signal_query')
modules.unload('ta_sentinel')
modules.unload('detect_time_skew')
modules.unload('detect_time_jump')
modules.load('hints > iterate')
hints.root({ ['a.root-servers.net.'] = '%(root)s' })
trust_anchors.remove('.')
trust_anchors.add_file('%(ta)s', true)
ta_update.stop(kres.str2dname('.'))
cache.open(10 * MB, 'lmdb://%(d)s/cache')
cache.min_ttl(0)
cache.max_ttl(%(cache)d)
policy.add(policy.all(policy.FLAGS({ 'ALLOW_LOCAL' })))
policy.add(policy.suffix(policy.PASS, policy.todnames({ 'test.' })))
"""

# What a server running as another user must reach (PostgreSQL's data
# directory and socket) lives in a runtime directory made here, not in the
# lab directory: the lab directory may sit below a directory that user
# cannot enter.  /tmp, not $TMPDIR, which may be private to the user.
RUNTIME_BASE = "/tmp"
RUNTIME_PREFIX = "cdscan-lab."

ALGORITHMS = {
    5: "RSASHA1", 7: "RSASHA1-NSEC3-SHA1", 8: "RSASHA256", 10: "RSASHA512",
    13: "ECDSAP256SHA256", 14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448",
}


class LabError(Exception):
    pass


def fqdn(name):
    name = name.lower()
    return name if name.endswith(".") else name + "."


def run(cmd, cwd=None, capture=True):
    p = subprocess.run(cmd, cwd=cwd, capture_output=capture, text=True)
    if p.returncode != 0:
        raise LabError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                               (p.stderr or "").strip()))
    return p.stdout


def rel_time(spec, now):
    """'+30d', '-2h', '-10m', '0' -> absolute epoch seconds."""
    spec = str(spec).strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    sign = 1
    if spec[0] in "+-":
        sign = -1 if spec[0] == "-" else 1
        spec = spec[1:]
    mult = 1
    if spec[-1] in units:
        mult = units[spec[-1]]
        spec = spec[:-1]
    return int(now + sign * int(spec) * mult)


# ---------------------------------------------------------------- keys ----

class Key:
    """A DNSSEC key made by ldns-keygen in the lab's key directory."""

    def __init__(self, keydir, owner, label, spec):
        parts = str(spec).split()
        self.label = label
        self.owner = owner
        self.algorithm = int(parts[0])
        self.ksk = "ksk" in parts[1:]
        # revoke: the key published and signing with the REVOKE flag set
        # (RFC 5011 §3: flags 257 become 385), and so with another key tag.
        revoke = "revoke" in parts[1:]
        if self.algorithm not in ALGORITHMS:
            raise LabError("key %s of %s: unknown algorithm %s" % (label, owner, parts[0]))
        cmd = ["ldns-keygen", "-a", ALGORITHMS[self.algorithm]]
        bits = [p for p in parts[1:] if p.isdigit()]
        if self.algorithm in (5, 7, 8, 10):
            cmd += ["-b", bits[0] if bits else "2048"]
        if self.ksk:
            cmd.append("-k")
        cmd.append(owner)
        self.base = os.path.join(keydir, run(cmd, cwd=keydir).strip())
        for ext in (".ds",):
            if os.path.exists(self.base + ext):
                os.unlink(self.base + ext)
        with open(self.base + ".key") as f:
            # ldns appends ";{id = ..., size = ...}": a comment, not data.
            fields = f.read().split(";")[0].split()
        # "owner TTL IN DNSKEY flags proto alg key..." (ldns writes a TTL).
        i = fields.index("DNSKEY")
        self.flags, self.protocol = int(fields[i + 1]), int(fields[i + 2])
        self.pubkey = "".join(fields[i + 4:])
        if revoke:
            # ldns-signzone and ldns-key2ds take the flags (and so the key
            # tag of the RRSIGs and DS) from the .key file.
            self.flags |= 0x0080
            with open(self.base + ".key", "w") as f:
                f.write("%s 300 IN DNSKEY %s\n" % (owner, self.dnskey_rdata()))
        self.keytag = keytag(self.dnskey_rdata())

    def dnskey_rdata(self):
        return "%d %d %d %s" % (self.flags, self.protocol, self.algorithm, self.pubkey)

    def ds_rdata(self, digest_type=2):
        flag = {1: "-1", 2: "-2", 4: "-4"}.get(digest_type)
        if not flag:
            raise LabError("digest type %d is not supported by the lab" % digest_type)
        out = run(["ldns-key2ds", "-n", flag, self.base + ".key"]).split()
        i = out.index("DS")
        return "%s %s %s %s" % (out[i + 1], out[i + 2], out[i + 3], "".join(out[i + 4:]).upper())


# ---------------------------------------------------------------- model ----

class Server:
    """One nameserver address: one NSD instance, unless it is `down`."""

    def __init__(self, name, address, down=False, flip=False, agent=None, query_log=False):
        self.name = fqdn(name)
        self.address = address
        self.down = down
        # agent: answers carry the RFC 9567 Report-Channel option naming
        # this agent domain; query_log: every query is logged.  Either
        # puts a front (cmd_front) on port 53 before NSD on FRONT_PORT.
        self.agent = agent
        self.query_log = query_log
        # flip: a zone "reload" between any two SOA queries: SOA answers
        # alternate between the zones as built and the same zones one serial
        # later (two NSDs behind a small proxy; see cmd_flip).
        self.flip = flip
        self.zones = {}        # zone name -> zone file text (unsigned input handled by Zone)
        self.zones_next = {}   # flip: the zones one serial later
        if not ipaddress.ip_address(address).is_loopback:
            raise LabError("server %s: %s is not a loopback address" % (name, address))


class Zone:
    """A zone of the lab with its keys, records, and per-server variants."""

    def __init__(self, name, spec, keydir):
        self.name = fqdn(name)
        self.spec = spec
        self.keys = {label: Key(keydir, self.name, label, ks)
                     for label, ks in spec.get("keys", {}).items()}
        self.ns = [fqdn(n) for n in spec.get("ns", [])]   # the lab servers serving it
        # The delegation in the parent: by default the serving servers; a
        # scenario may delegate to other names (in-bailiwick, with glue).
        self.parent_ns = [fqdn(n) for n in spec.get("parent-ns", spec.get("ns", []))]
        self.parent_glue = {fqdn(n): list(a) for n, a in spec.get("parent-glue", {}).items()}
        self.records = list(spec.get("records", []))
        self.variants = {fqdn(s): v for s, v in spec.get("at", {}).items()}

    def key(self, label):
        if label not in self.keys:
            raise LabError("zone %s: no key '%s'" % (self.name, label))
        return self.keys[label]

    def option(self, server, key, default=None):
        """A setting for one server: its variant's value, else the zone's."""
        v = self.variants.get(server, {})
        if key in v:
            return v[key]
        return self.spec.get(key, default)

    def ds_set(self, items):
        out = []
        for item in items:
            if " " in item:
                out.append(item.upper())
            else:
                label, _, dt = item.partition(":")
                out.append(self.key(label).ds_rdata(int(dt or 2)))
        return out

    def dnskey_rdatas(self, items):
        out = []
        for item in items:
            out.append(item if " " in item else self.key(item).dnskey_rdata())
        return out


def keytag(dnskey):
    """RFC 4034 Appendix B key tag of a DNSKEY in presentation form."""
    flags, proto, alg, key = dnskey.split(" ", 3)
    rdata = (int(flags).to_bytes(2, "big") + bytes([int(proto), int(alg)]) +
             base64.b64decode(key.replace(" ", "")))
    ac = sum(b if i & 1 else b << 8 for i, b in enumerate(rdata))
    return (ac + (ac >> 16)) & 0xFFFF


def nsec3_hash(name, iterations=0, salt=b""):
    """RFC 5155 §5 hash of a name, as the first label of an NSEC3 owner."""
    wire = b"".join(bytes([len(l)]) + l.encode() for l in fqdn(name).split(".")[:-1]) + b"\0"
    h = hashlib.sha1(wire + salt).digest()
    for _ in range(iterations):
        h = hashlib.sha1(h + salt).digest()
    return base64.b32hexencode(h).decode().lower()


def rtype(addr):
    return "AAAA" if ":" in addr else "A"


def wire_name(name):
    """A name in uncompressed wire form."""
    return b"".join(bytes([len(l)]) + l.encode() for l in fqdn(name).split(".")[:-1]) + b"\0"


def dsync_args(tld):
    """The `cdscan dsync` arguments whose records the TLD publishes."""
    args = ["--zone", tld, "--target", NOTIFY_TARGET["name"], "--port",
            str(NOTIFY_TARGET["port"]), "--ttl", str(DSYNC_TTL), "--generic"]
    return args + ([] if DSYNC_WILDCARD[tld] else ["--no-wildcard"])


def dsync_records(tld):
    """The records (no comments) `cdscan dsync` prints with dsync_args(tld):
    DSYNC for CDS and for CSYNC (RFC 9859 §2.1: RRtype, scheme 1 = NOTIFY,
    port, uncompressed target), as TYPE66 with RFC 3597 rdata."""
    owner = ("*._dsync." if DSYNC_WILDCARD[tld] else "_dsync.") + ("" if tld == "." else tld)
    out = []
    for covered in (59, 62):  # CDS, CSYNC
        rdata = (struct.pack(">HBH", covered, 1, NOTIFY_TARGET["port"]) +
                 wire_name(NOTIFY_TARGET["name"]))
        out.append("%s %d IN TYPE66 \\# %d %s"
                   % (owner, DSYNC_TTL, len(rdata), rdata.hex().upper()))
    return out


def owner_in(name, zone):
    return zone == "." or name == zone or name.endswith("." + zone)


class Lab:
    def __init__(self, directory, scenario_paths, with_db=True, ttl=DEFAULT_TTL,
                 kresd=False, cache_max_ttl=5, pg_tls=None, resolver_also=None):
        self.dir = os.path.abspath(directory)
        self.with_db = with_db
        # PostgreSQL also on this address, over TLS only (`up --pg-tls`).
        self.pg_tls = pg_tls
        # Unbound also answers on this address (`up --resolver-also`).
        self.resolver_also = resolver_also
        # Every record's TTL and the SOA minimum (negative answers): short
        # in a lab whose tests wait TTLs out (tests/system/multisigner_test.py).
        self.ttl = ttl
        self.kresd = kresd
        # The resolvers keep nothing longer: 5 s lets the tests see a
        # change at once; a test that waits TTLs out sets it to the TTL.
        self.cache_max_ttl = cache_max_ttl
        self.now = int(time.time())
        self.specs = {"provider": {}, "zone": {}}
        for path in scenario_paths:
            self._read(path)
        self.keydir = os.path.join(self.dir, "keys")
        self.servers = {}      # name -> Server
        self.zones = {}        # name -> Zone (children and providers)
        self.infra = {}        # name -> Zone (root, TLDs)

    def _read(self, path):
        files = [path]
        if os.path.isdir(path):
            files = sorted(os.path.join(path, f) for f in os.listdir(path)
                           if f.endswith(".toml"))
        for f in files:
            with open(f, "rb") as fh:
                try:
                    data = tomllib.load(fh)
                except tomllib.TOMLDecodeError as e:
                    raise LabError("%s: %s" % (f, e))
            for section in data:
                if section not in self.specs:
                    raise LabError("%s: unknown section [%s]" % (f, section))
                for name, spec in data[section].items():
                    n = fqdn(name)
                    if n in self.specs[section]:
                        raise LabError("%s: %s %s defined twice" % (f, section, n))
                    spec["_file"] = f
                    self.specs[section][n] = spec

    # -- building ---------------------------------------------------------

    def build(self):
        os.makedirs(self.keydir)
        self.servers[ROOT_SERVER[0]] = Server(*ROOT_SERVER)
        self.servers[TLD_SERVER[0]] = Server(*TLD_SERVER)
        for pname, p in self.specs["provider"].items():
            for host, addr in p.get("servers", {}).items():
                sname = fqdn(host + "." + pname)
                self.servers[sname] = Server(sname, addr, down=p.get("down", False),
                                             flip=p.get("flip-serial", False),
                                             agent=p.get("report-channel"),
                                             query_log=p.get("query-log", False))
        for name, spec in self.specs["provider"].items():
            # A provider that is down serves nothing, not even its own zone:
            # its server names get their addresses from the TLD zone.
            if spec.get("down", False):
                continue
            signed = spec.get("signed", True)
            pspec = dict(spec)
            pspec.setdefault("ns", [h + "." + name for h in spec.get("servers", {})])
            pspec.setdefault("keys", {"k": "13 ksk"} if signed else {})
            pspec.setdefault("ds", ["k"] if signed and spec.get("secure", True) else [])
            self.zones[name] = Zone(name, pspec, self.keydir)
        for name, spec in self.specs["zone"].items():
            if not any(owner_in(name, t) and name != t for t in TLDS):
                raise LabError("%s: zone %s is not below %s" % (spec["_file"], name, TLDS))
            self.zones[name] = Zone(name, spec, self.keydir)
            for ns in self.zones[name].ns:
                if ns not in self.servers:
                    raise LabError("%s: zone %s: nameserver %s is not a lab server"
                                   % (spec["_file"], name, ns))
        for t in ("." ,) + TLDS:
            self.infra[t] = Zone(t, {"keys": {"k": "13 ksk"},
                                     "ns": [ROOT_SERVER[0] if t == "." else TLD_SERVER[0]]},
                                 self.keydir)
        # Children first: their parents need their DS.
        for z in self.zones.values():
            self._sign_child(z)
        for t in TLDS:
            self._sign_tld(t)
        self._sign_root()

    def _zone_text(self, z, server, ns, dnskeys, extra, serial_step=0):
        serial = z.option(server, "serial", 2026112901) + serial_step
        lines = ["$ORIGIN %s" % z.name, "$TTL %d" % self.ttl,
                 "@ SOA %s hostmaster.%s %d 3600 600 86400 %d"
                 % (ns[0] if ns else TLD_SERVER[0], z.name if z.name != "." else "", serial,
                    self.ttl)]
        lines += ["@ NS %s" % n for n in ns]
        lines += ["@ DNSKEY %s" % k for k in dnskeys]
        lines += extra
        return "\n".join(lines) + "\n"

    def _sign(self, z, text, workdir, fname, sign_with, window, sigkeys_for=None,
              nsec3=None, strip=()):
        """Sign text with keys sign_with; return the signed zone text.
        sigkeys_for: [(types, keys, window, owner)] re-signs those types'
        RRSIGs at owner with other keys or another validity window, or drops
        them (keys empty): broken-signature cases.  nsec3: the number of
        NSEC3 iterations (no salt) to deny with NSEC3 instead of NSEC.
        strip: owners whose NSEC or NSEC3 record (and its RRSIG) is removed
        after signing: empty answers there come without their proof."""
        path = os.path.join(workdir, fname)
        with open(path, "w") as f:
            f.write(text)
        if not sign_with:
            return text
        signed = signzone(z.name, path, [z.key(k).base for k in sign_with],
                          [rel_time(w, self.now) for w in window], nsec3)
        for types, keys, win, owner in sigkeys_for or []:
            other = self._sign(z, text, workdir, fname + ".alt", keys, win) if keys else ""
            signed = replace_rrsigs(signed, other, types, owner)
        for owner in strip:
            signed = strip_denial(signed, owner, nsec3, z.name)
        return signed

    def _sign_child(self, z):
        for server in z.ns:
            srv = self.servers[server]
            if srv.down or z.option(server, "refuse", False):
                continue
            keys = list(z.keys)
            ns = [fqdn(n) for n in z.option(server, "child-ns", z.ns)]
            dnskeys = z.dnskey_rdatas(z.option(server, "dnskey", keys))
            extra = []
            for rr in z.ds_set(z.option(server, "cds", [])):
                extra.append("@ CDS %s" % rr)
            for rr in z.dnskey_rdatas(z.option(server, "cdnskey", [])):
                extra.append("@ CDNSKEY %s" % rr)
            for rr in z.option(server, "csync", []):
                extra.append("@ CSYNC %s" % rr)
            extra += z.option(server, "records", [])
            if z.name in self.specs["provider"]:
                extra += ["%s %s %s" % (s.name, rtype(s.address), s.address)
                          for s in self.servers.values() if owner_in(s.name, z.name)]
                extra += self._signals_in(z)
            sign_with = z.option(server, "sign-with", [k for k in keys])
            window = z.option(server, "sig-window", ["-1h", "+30d"])
            broken = []
            types = ["CDS", "CDNSKEY"]
            if z.option(server, "signal-unsigned", False):
                broken.append((types, [], None, z.name))
            elif z.option(server, "signal-signed-by") or z.option(server, "signal-sig-window"):
                broken.append((types, z.option(server, "signal-signed-by", sign_with),
                               z.option(server, "signal-sig-window", window), z.name))
            # resign = [{ types = [...], owner = "ns1", with = [keys], window = [..] }]:
            # any RRset's RRSIGs replaced (with = []: removed).
            for rs in z.option(server, "resign", []):
                owner = rs.get("owner", "@")
                broken.append((rs["types"], rs.get("with", []), rs.get("window", window),
                               z.name if owner == "@" else fqdn(owner + "." + z.name)))
            workdir = os.path.join(self.dir, "zones", srv.address)
            os.makedirs(workdir, exist_ok=True)
            # nsec3 = true (0 iterations, RFC 9276 §3.1) or a number of
            # iterations; strip-nsec = ["ns1", "@"]: no proof at those owners.
            nsec3 = z.option(server, "nsec3", False)
            nsec3 = None if nsec3 is False else 0 if nsec3 is True else int(nsec3)
            strip = [z.name if o == "@" else fqdn(o + "." + z.name)
                     for o in z.option(server, "strip-nsec", [])]
            text = self._zone_text(z, server, ns, dnskeys if sign_with else [], extra)
            srv.zones[z.name] = self._sign(z, text, workdir, z.name + "zone", sign_with,
                                           window, broken, nsec3, strip)
            if srv.flip:
                text = self._zone_text(z, server, ns, dnskeys if sign_with else [], extra, 1)
                srv.zones_next[z.name] = self._sign(z, text, workdir, z.name + "zone.next",
                                                    sign_with, window, broken, nsec3, strip)

    def _signals_in(self, provider):
        """RFC 9615 signals a provider zone publishes for its children:
        _dsboot.<child>._signal.<ns host> CDS and CDNSKEY, for every child
        with `dsboot` whose NS host names are in this zone."""
        lines = []
        for c in self.zones.values():
            cfg = c.spec.get("dsboot")
            if not cfg or c.name in self.specs["provider"]:
                continue
            cfg = cfg if isinstance(cfg, dict) else {}
            skip = {fqdn(h) for h in cfg.get("skip", [])}
            at = {fqdn(h): v for h, v in cfg.get("at", {}).items()}
            for host in c.parent_ns:
                if not owner_in(host, provider.name) or owner_in(host, c.name) or host in skip:
                    continue
                over = at.get(host, {})
                owner = "_dsboot.%s_signal.%s" % (c.name, host)
                for rr in c.ds_set(over.get("cds", cfg.get("cds", c.spec.get("cds", [])))):
                    lines.append("%s CDS %s" % (owner, rr))
                for rr in c.dnskey_rdatas(over.get("cdnskey",
                                                   cfg.get("cdnskey", c.spec.get("cdnskey", [])))):
                    lines.append("%s CDNSKEY %s" % (owner, rr))
        return lines

    def _delegation(self, child):
        """NS, DS and glue lines for a child in its parent zone."""
        lines = ["%s NS %s" % (child.name, n) for n in child.parent_ns]
        lines += ["%s DS %s" % (child.name, d) for d in child.ds_set(child.spec.get("ds", []))]
        for n in child.parent_ns:
            if owner_in(n, child.name):
                for a in self.glue_of(child, n):
                    lines.append("%s %s %s" % (n, rtype(a), a))
        return lines

    def ns_args(self, child):
        """`cdscan check --ns` arguments for child's delegation: NAME@ADDR
        for every address the lab knows, NAME alone where it knows none.
        With `resolve-ns = true` an NS name outside the zone goes without
        its address, so that cdscan looks it up through the resolver, as
        it does for a delegation from a parent zone file or from DNS."""
        by_name = child.spec.get("resolve-ns", False)
        addrs = {n: [] if by_name and not owner_in(n, child.name) else self.glue_of(child, n)
                 for n in child.parent_ns}
        return (["%s@%s" % (n, a) for n in child.parent_ns for a in addrs[n]]
                + [n for n in child.parent_ns if not addrs[n]])

    def glue_of(self, child, name):
        """The parent's addresses for one NS name of child: its parent-glue,
        else the lab server's address."""
        if name in child.parent_glue:
            return child.parent_glue[name]
        return [self.servers[name].address] if name in self.servers else []

    def _sign_tld(self, t):
        z = self.infra[t]
        extra = []
        for child in self.zones.values():
            if owner_in(child.name, t):
                extra += self._delegation(child)
        # Server names below this TLD that no served zone holds ("down"
        # providers, the TLD server itself) get their address here.
        for s in self.servers.values():
            if owner_in(s.name, t) and not any(owner_in(s.name, c) for c in self.zones):
                extra.append("%s %s %s" % (s.name, rtype(s.address), s.address))
        extra += dsync_records(t)
        if owner_in(NOTIFY_TARGET["name"], t):
            extra.append("%s %s %s" % (NOTIFY_TARGET["name"], rtype(NOTIFY_TARGET["address"]),
                                       NOTIFY_TARGET["address"]))
        workdir = os.path.join(self.dir, "zones", TLD_SERVER[1])
        os.makedirs(workdir, exist_ok=True)
        text = self._zone_text(z, None, [TLD_SERVER[0]], [z.key("k").dnskey_rdata()], extra)
        self.servers[TLD_SERVER[0]].zones[t] = self._sign(z, text, workdir, t + "zone", ["k"],
                                                          ["-1h", "+30d"])

    def _sign_root(self):
        z = self.infra["."]
        extra = ["%s A %s" % ROOT_SERVER, "%s A %s" % TLD_SERVER]
        for t in TLDS:
            extra += ["%s NS %s" % (t, TLD_SERVER[0]),
                      "%s DS %s" % (t, self.infra[t].key("k").ds_rdata(2))]
        workdir = os.path.join(self.dir, "zones", ROOT_SERVER[1])
        os.makedirs(workdir, exist_ok=True)
        text = self._zone_text(z, None, [ROOT_SERVER[0]], [z.key("k").dnskey_rdata()], extra)
        self.servers[ROOT_SERVER[0]].zones["."] = self._sign(z, text, workdir, "root.zone",
                                                             ["k"], ["-1h", "+30d"])
        with open(os.path.join(self.dir, "root.key"), "w") as f:
            f.write(". IN DS %s\n" % z.key("k").ds_rdata(2))

    # -- running ----------------------------------------------------------

    def check_free(self):
        """Every address the lab listens on must be free on port 53: a lab
        left running elsewhere would otherwise answer in our place."""
        addrs = [s.address for s in self.servers.values() if s.zones or s.down == "silent"]
        for addr in addrs + list(self.resolvers().values()):
            probe = socket.socket(family(addr), socket.SOCK_DGRAM)
            try:
                probe.bind((addr, 53))
            except OSError as e:
                raise LabError("%s port 53 is in use (%s): another lab running? stop it "
                               "with 'lab.py down --dir ITS_DIR'" % (addr, e.strerror))
            finally:
                probe.close()

    def start(self):
        self.check_free()
        os.makedirs(os.path.join(self.dir, "log"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "pids"), exist_ok=True)
        for srv in self.servers.values():
            if not srv.down and srv.zones and srv.flip:
                self._start_nsd(srv, FLIP_PORTS[0], srv.zones)
                self._start_nsd(srv, FLIP_PORTS[1], srv.zones_next)
                for port in FLIP_PORTS:
                    wait_answer(srv.address, next(iter(srv.zones)), "nsd %s#%d" % (srv.address, port),
                                self._log("nsd-%s-%d" % (srv.address, port)), port=port)
                self._spawn("flip-" + srv.address,
                            [sys.executable, os.path.abspath(__file__), "flip", srv.address],
                            "python3")
            elif not srv.down and srv.zones and (srv.agent or srv.query_log):
                self._start_nsd(srv, FRONT_PORT)
                wait_answer(srv.address, next(iter(srv.zones)),
                            "nsd %s#%d" % (srv.address, FRONT_PORT),
                            self._log("nsd-%s-%d" % (srv.address, FRONT_PORT)), port=FRONT_PORT)
                cmd = [sys.executable, os.path.abspath(__file__), "front", srv.address]
                if srv.agent:
                    cmd += ["--agent", srv.agent]
                if srv.query_log:
                    cmd += ["--query-log", self._log("queries-" + srv.address)]
                self._spawn("front-" + srv.address, cmd, "python3")
            elif not srv.down and srv.zones:
                self._start_nsd(srv)
            elif srv.down == "silent":
                self._spawn("silent-" + srv.address,
                            [sys.executable, os.path.abspath(__file__), "blackhole",
                             srv.address], "python3")
        for srv in self.servers.values():
            if not srv.down and srv.zones:
                zone = next(iter(srv.zones))
                wait_answer(srv.address, zone, "nsd %s" % srv.address, self._log(srv.address))
        self._start_unbound()
        wait_answer(RESOLVER_ADDR, ".", "unbound", self._log("unbound"), rd=True, want_ad=True)
        if self.kresd:
            self._start_kresd()
            wait_answer(KRESD_ADDR, ".", "kresd", self._log("kresd"), rd=True, want_ad=True)
        if self.with_db:
            self._start_postgres()

    def _log(self, name):
        return os.path.join(self.dir, "log", name + ".log")

    def _spawn(self, name, cmd, exe):
        log = open(self._log(name), "ab")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        log.close()
        record_pid(self.dir, name, p.pid, exe)
        time.sleep(0.01)
        if p.poll() is not None:
            raise LabError("%s exited at once (see %s)" % (name, self._log(name)))
        return p

    def _start_nsd(self, srv, port=53, zones=None):
        tag = srv.address if port == 53 else "%s-%d" % (srv.address, port)
        d = os.path.join(self.dir, "nsd", tag)
        os.makedirs(d, exist_ok=True)
        conf = ["server:", "  ip-address: %s" % srv.address, "  port: %d" % port,
                '  username: ""', '  chroot: ""', "  zonesdir: %s" % d,
                '  database: ""', "  zonelistfile: %s/zone.list" % d,
                "  xfrdfile: %s/xfrd.state" % d, "  pidfile: %s/nsd.pid" % d,
                "  server-count: 1", "  verbosity: 1", "  hide-version: yes",
                "  refuse-any: yes", "  tcp-count: 256",
                # Response rate limiting (on by default) would drop the
                # scanner's queries: one client asking thousands per second.
                "  rrl-ratelimit: 0",
                "remote-control:", "  control-enable: no"]
        for zname, text in (srv.zones if zones is None else zones).items():
            fname = "root.zone" if zname == "." else zname + "zone"
            with open(os.path.join(d, fname), "w") as f:
                f.write(text)
            conf += ["zone:", '  name: "%s"' % zname, "  zonefile: %s" % fname]
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")
        run(["nsd-checkconf", os.path.join(d, "nsd.conf")])
        self._spawn("nsd-" + tag, ["nsd", "-d", "-c", os.path.join(d, "nsd.conf")], "nsd")

    def _start_unbound(self):
        d = os.path.join(self.dir, "unbound")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "root.hints"), "w") as f:
            f.write(". 3600000 NS %s\n%s 3600000 A %s\n" % (ROOT_SERVER[0], *ROOT_SERVER))
        conf = """server:
  interface: %(addr)s
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%(d)s"
  pidfile: "%(d)s/unbound.pid"
  logfile: ""
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
%(also)s  root-hints: "%(d)s/root.hints"
  trust-anchor-file: "%(ta)s"
  module-config: "validator iterator"
  harden-below-nxdomain: yes
  qname-minimisation: yes
  cache-max-ttl: %(cache)d
  cache-max-negative-ttl: %(cache)d
  num-threads: 1
  # test. is special-use (RFC 6761): Unbound answers it locally unless told.
  local-zone: "test." nodefault
remote-control:
  control-enable: no
""" % {"addr": RESOLVER_ADDR, "d": d, "ta": os.path.join(self.dir, "root.key"),
       "cache": self.cache_max_ttl, "also": self._resolver_also_conf()}
        with open(os.path.join(d, "unbound.conf"), "w") as f:
            f.write(conf)
        run(["unbound-checkconf", os.path.join(d, "unbound.conf")])
        self._spawn("unbound", ["unbound", "-d", "-c", os.path.join(d, "unbound.conf")],
                    "unbound")

    def _resolver_also_conf(self):
        """Unbound's lines for `--resolver-also ADDR`: that interface too,
        and queries allowed from its /24 (the scanners' hosts beside it)."""
        if not self.resolver_also:
            return ""
        net = ipaddress.ip_network(self.resolver_also + "/24", strict=False)
        return "  interface: %s\n  access-control: %s allow\n" % (self.resolver_also, net)

    def _start_kresd(self):
        """Knot Resolver on KRESD_ADDR (`up --kresd`): a second validating
        resolver, another implementation than Unbound, for tests that watch
        what resolvers see (tests/system/multisigner_test.py).  It never
        changes user; its cache stays in the lab directory."""
        d = os.path.join(self.dir, "kresd")
        os.makedirs(os.path.join(d, "cache"), exist_ok=True)
        with open(os.path.join(d, "kresd.conf"), "w") as f:
            f.write(KRESD_CONF % {"addr": KRESD_ADDR, "root": ROOT_SERVER[1], "d": d,
                                  "ta": os.path.join(self.dir, "root.key"),
                                  "cache": self.cache_max_ttl})
        self._spawn("kresd", ["kresd", "-n", "-c", os.path.join(d, "kresd.conf"), d], "kresd")

    def _start_postgres(self):
        bindir = find_pg_bindir()
        # initdb refuses to run as root: run the cluster as an unprivileged
        # user when the lab runs as root.
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            try:
                pw = pwd.getpwnam(user)
            except KeyError:
                raise LabError("running as root needs the 'postgres' user (install postgresql)")
        # The cluster's user must reach its data directory and socket, and
        # may not be able to enter the lab directory: they go in the
        # runtime directory, in pg/ (that user's alone, as initdb wants).
        d = os.path.join(runtime_make(self.dir), "pg")
        data, sock = os.path.join(d, "data"), os.path.join(d, "sock")
        os.mkdir(d, 0o700)
        os.mkdir(sock, 0o700)
        if user:
            for p in (d, sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", user, "--"] if user else []
        # PostgreSQL's programs look up their own path and change back to
        # the working directory, which must be one the user can enter.
        run(prefix + [os.path.join(bindir, "initdb"), "-D", data, "-U", "cdscan",
                      "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], cwd=d)
        # In the configuration file rather than on pg_ctl's command line,
        # so that `pg-restart` keeps it: the Unix socket only, or with
        # --pg-tls that address too, TLS only.
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("\n# cdscan lab\nlisten_addresses = '%s'\n" % (self.pg_tls or ""))
        if self.pg_tls:
            self._pg_tls_setup(d, data, pw if user else None)
        pg_ctl(bindir, prefix, d, "start", self._log("postgres"))
        with open(os.path.join(data, "postmaster.pid")) as f:
            pid = int(f.readline())
        record_pid(self.dir, "postgres", pid, "postgres")
        self.database = "host=%s user=cdscan dbname=postgres" % sock
        run([os.path.join(bindir, "psql"), self.database, "-qAtc", "CREATE DATABASE cdscan"])
        self.database = "host=%s user=cdscan dbname=cdscan" % sock

    def _pg_tls_setup(self, d, data, pw):
        """`--pg-tls ADDR`: a lab CA (DIR/tls/ca.crt), PostgreSQL's server
        certificate for PG_TLS_NAME and ADDR, a client certificate for
        PG_TLS_USER; ssl on, and TCP clients admitted only over TLS with a
        certificate of that CA naming their user (pg_hba `cert`)."""
        tls = os.path.join(self.dir, "tls")
        os.makedirs(tls, mode=0o700, exist_ok=True)
        ca = make_ca(tls, "cdscan lab CA")
        make_cert(tls, "server", ca, PG_TLS_NAME,
                  "subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\n"
                  % (PG_TLS_NAME, self.pg_tls))
        make_cert(tls, "client", ca, PG_TLS_USER, "extendedKeyUsage=clientAuth\n")
        # The server's copies where its user reads them (the key that
        # user's alone, as PostgreSQL demands).
        for name in ("server.crt", "server.key", "ca.crt"):
            dst = os.path.join(d, name)
            shutil.copyfile(os.path.join(tls, name), dst)
            os.chmod(dst, 0o600)
            if pw:
                os.chown(dst, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(data, "postgresql.conf"), "a") as f:
            f.write("ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\nssl_ca_file = '%s'\n"
                    "ssl_min_protocol_version = 'TLSv1.3'\nport = %d\n"
                    % (os.path.join(d, "server.crt"), os.path.join(d, "server.key"),
                       os.path.join(d, "ca.crt"), PG_TLS_PORT))
        # The socket as before; over TCP, TLS with a client certificate or
        # nothing (no `host` line: a connection without TLS matches none).
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhostssl all all 0.0.0.0/0 cert\n")
        self.pg_tls_info = {
            "address": self.pg_tls, "port": PG_TLS_PORT, "name": PG_TLS_NAME,
            "ca": os.path.join(tls, "ca.crt"), "cert": os.path.join(tls, "client.crt"),
            "key": os.path.join(tls, "client.key"),
            "database": ("host=%s hostaddr=%s port=%d user=%s dbname=cdscan "
                         "sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s"
                         % (PG_TLS_NAME, self.pg_tls, PG_TLS_PORT, PG_TLS_USER,
                            os.path.join(tls, "ca.crt"), os.path.join(tls, "client.crt"),
                            os.path.join(tls, "client.key")))}

    # -- describing -------------------------------------------------------

    def resolvers(self):
        """The lab's validating resolvers by name."""
        out = {"unbound": RESOLVER_ADDR}
        if self.kresd:
            out["kresd"] = KRESD_ADDR
        return out

    def describe(self):
        servers = {s.name: {"address": s.address, "down": s.down} for s in self.servers.values()}
        zones = {}
        for z in self.zones.values():
            zones[z.name] = {
                "file": z.spec.get("_file"),
                "provider": z.name in self.specs["provider"],
                "ns": z.ns,
                "parent_ns": z.parent_ns,
                "ns_args": self.ns_args(z),
                "ds": sorted(z.ds_set(z.spec.get("ds", []))),
                "keys": {l: {"keytag": k.keytag, "algorithm": k.algorithm, "ksk": k.ksk,
                             "dnskey": k.dnskey_rdata(), "base": k.base,
                             "ds": k.ds_rdata(2) if k.ksk else None}
                         for l, k in z.keys.items()},
                "expect": z.spec.get("expect", {}),
                "comment": z.spec.get("comment", ""),
            }
        # What publish_delegation needs to rewrite, sign and reload a TLD
        # zone (the lab's EPP server applying a registry's change).
        parents = {t: {"server": TLD_SERVER[1], "key": self.infra[t].key("k").base,
                       "unsigned": os.path.join(self.dir, "zones", TLD_SERVER[1], t + "zone")}
                   for t in TLDS}
        info = {"dir": self.dir, "runtime": runtime_dir(self.dir), "resolver": RESOLVER_ADDR,
                "ttl": self.ttl, "parents": parents, "resolvers": self.resolvers(),
                "trust_anchor": os.path.join(self.dir, "root.key"),
                "database": getattr(self, "database", None),
                "pg_tls": getattr(self, "pg_tls_info", None),
                "resolver_also": self.resolver_also,
                "servers": servers, "zones": zones, "notify_target": NOTIFY_TARGET,
                "dsync": {t: {"args": dsync_args(t), "records": dsync_records(t)}
                          for t in TLDS}}
        with open(os.path.join(self.dir, "lab.json"), "w") as f:
            json.dump(info, f, indent=1, sort_keys=True)
        with open(os.path.join(self.dir, "lab.env"), "w") as f:
            f.write(env_text(info))
        return info


def env_text(info):
    out = ["export CDSCAN_LAB_DIR='%s'" % info["dir"],
           "export CDSCAN_LAB_RESOLVER='%s'" % info["resolver"],
           "export CDSCAN_LAB_TRUST_ANCHOR='%s'" % info["trust_anchor"]]
    if info.get("database"):
        out.append("export CDSCAN_DATABASE='%s'" % info["database"])
    return "\n".join(out) + "\n"


def strip_denial(signed, owner, nsec3, origin):
    """signed without the NSEC record at owner (with nsec3: the NSEC3 record
    of owner's hash) and the RRSIG over it."""
    target = fqdn(owner) if nsec3 is None else fqdn(nsec3_hash(owner, nsec3) + "." + origin)
    rtype = "NSEC" if nsec3 is None else "NSEC3"
    def is_target(line):
        f = line.split()
        return (len(f) > 4 and fqdn(f[0]) == target and
                (f[3] == rtype or (f[3] == "RRSIG" and f[4] == rtype)))
    kept = [l for l in signed.splitlines() if not is_target(l)]
    if len(kept) == len(signed.splitlines()):
        raise LabError("strip-nsec: no %s at %s in the signed zone" % (rtype, target))
    return "\n".join(kept) + "\n"


def merge_config(base, extra):
    """YAML configuration text base with extra's keys added (a scenario's
    expect.config beside a test's own settings): a top-level mapping both
    name gets extra's second-level keys, replacing base's of the same name.
    Only the block style the lab and its tests write (two-space indents)."""
    def sections(text):
        out = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            if not line.startswith(" "):
                key = line.split(":", 1)[0]
                out[key] = {"head": line, "items": {}}
            elif line.startswith("  ") and not line.startswith("   "):
                sub = line.strip().split(":", 1)[0]
                out[key]["items"][sub] = [line]
            else:
                out[key]["items"][sub].append(line)
        return out
    merged = sections(base)
    for key, sec in sections(extra).items():
        if key in merged and sec["items"]:
            merged[key]["items"].update(sec["items"])
        else:
            merged[key] = sec
    lines = []
    for sec in merged.values():
        lines.append(sec["head"])
        for item in sec["items"].values():
            lines += item
    return "\n".join(lines) + "\n"


def replace_rrsigs(signed, other, types, owner):
    """Swap the RRSIGs covering `types` at owner in signed for those in
    other (nothing when other is empty): used to publish signals or data
    signed by a foreign key, with an expired signature, or with none."""
    def is_target(line):
        f = line.split()
        return (len(f) > 4 and f[3] == "RRSIG" and f[4] in types and fqdn(f[0]) == owner)
    kept = [l for l in signed.splitlines() if not is_target(l)]
    kept += [l for l in other.splitlines() if is_target(l)]
    return "\n".join(kept) + "\n"


# ------------------------------------------------------------- processes ----

def record_pid(directory, name, pid, exe):
    with open(os.path.join(directory, "pids", name + ".pid"), "w") as f:
        f.write("%d %s\n" % (pid, exe))


def pid_alive(pid, exe):
    """True if pid runs and is the program we started (not a reused pid)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and os.path.basename(argv0).startswith(exe)


def stop(directory):
    """Stop every process recorded in directory/pids: SIGTERM, then SIGKILL."""
    piddir = os.path.join(directory, "pids")
    if not os.path.isdir(piddir):
        return []
    stopped = []
    procs = []
    for fname in sorted(os.listdir(piddir)):
        with open(os.path.join(piddir, fname)) as f:
            fields = f.read().split()
        pid, exe = int(fields[0]), fields[1]
        if pid_alive(pid, exe):
            os.kill(pid, signal.SIGTERM)
            procs.append((pid, exe, fname))
        os.unlink(os.path.join(piddir, fname))
    deadline = time.time() + 15
    for pid, exe, fname in procs:
        while pid_alive(pid, exe) and time.time() < deadline:
            reap(pid)
            time.sleep(0.05)
        if pid_alive(pid, exe):
            os.kill(pid, signal.SIGKILL)
        stopped.append(fname[:-4])
    return stopped


def reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def find_pg_bindir():
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for v in sorted(os.listdir(base), key=lambda s: int(s) if s.isdigit() else 0,
                        reverse=True):
            if os.path.exists(os.path.join(base, v, "bin", "initdb")):
                return os.path.join(base, v, "bin")
    if shutil.which("initdb"):
        return os.path.dirname(shutil.which("initdb"))
    raise LabError("PostgreSQL server binaries (initdb) not found: install postgresql")


def pg_ctl(bindir, prefix, d, action, log):
    """pg_ctl start or restart for the cluster in d (data/, sock/), as the
    cluster's user (prefix).  The server's output goes to log through a
    descriptor opened here: the cluster's user may not be able to open a
    file in the lab directory, and the log belongs there with the others."""
    opts = "-k %s -c fsync=off" % os.path.join(d, "sock")
    cmd = prefix + [os.path.join(bindir, "pg_ctl"), "-D", os.path.join(d, "data"), "-w",
                    "-t", "60", "-o", opts, action]
    if action == "restart":
        cmd[-1:-1] = ["-m", "fast"]
    with open(log, "ab") as out:
        p = subprocess.run(cmd, cwd=d, stdout=out, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise LabError("%s failed (%d): %s (see %s)" % (" ".join(cmd), p.returncode,
                                                        p.stderr.strip(), log))


def make_ca(directory, cn):
    """A CA (EC P-256, 30 days) in directory/ca.{key,crt}; the cert's path."""
    key, crt = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=" + cn,
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return crt


def make_cert(directory, name, ca_crt, cn, extensions):
    """directory/NAME.{key,crt}: an EC P-256 key and a certificate for cn
    signed by the CA beside ca_crt, with these x509v3 extensions."""
    key, csr = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".csr")
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write(extensions)
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=" + cn])
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt,
         "-CAkey", ca_crt[:-4] + ".key", "-CAcreateserial", "-days", "30",
         "-extfile", ext, "-out", os.path.join(directory, name + ".crt")])
    os.chmod(key, 0o600)


# ------------------------------------------------------- runtime directory ----

def runtime_make(directory):
    """Make the lab's runtime directory and link DIR/run to it; its path."""
    rt = tempfile.mkdtemp(prefix=RUNTIME_PREFIX, dir=RUNTIME_BASE)
    os.symlink(rt, os.path.join(directory, "run"))
    # Other users (the cluster's) may pass through, not list; what is
    # inside is made by each server's user for itself.
    os.chmod(rt, 0o711)
    return rt


def runtime_dir(directory):
    """The runtime directory DIR/run names (gone after `down`), or None."""
    try:
        return os.readlink(os.path.join(directory, "run"))
    except OSError:
        return None


def runtime_remove(directory):
    """Remove the runtime directory DIR/run names, once nothing runs in it,
    if it is one the lab made (a directory of ours named cdscan-lab.* in
    /tmp).  DIR/run stays, naming it, so that anything that survived can
    still be found by that path.  Returns the path removed, or None."""
    rt = runtime_dir(directory)
    if rt is None:
        return None
    try:
        st = os.lstat(rt)
    except FileNotFoundError:
        return None
    if (os.path.dirname(rt) != RUNTIME_BASE or not os.path.basename(rt).startswith(RUNTIME_PREFIX)
            or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid()):
        print("lab: warning: %s (from %s) is not a runtime directory of the lab: left alone"
              % (rt, os.path.join(directory, "run")), file=sys.stderr)
        return None
    # A server's last child may still be removing its files: try again.
    for _ in range(20):
        shutil.rmtree(rt, ignore_errors=True)
        if not os.path.lexists(rt):
            return rt
        time.sleep(0.1)
    raise LabError("could not remove the runtime directory %s" % rt)


# ------------------------------------------------------------------ DNS ----

def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listen53(address, backlog=64):
    """A nameserver's sockets on ADDRESS port 53, UDP and TCP, registered
    for reading in a new selector: (selector, udp, tcp)."""
    fam = family(address)
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    tcp = socket.socket(fam, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, 53))
    tcp.listen(backlog)
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ)
    sel.register(tcp, selectors.EVENT_READ)
    return sel, udp, tcp


def dns_query(addr, qname, qtype, rd=False, do=True, timeout=0.5, port=53):
    """One UDP query; returns (rcode, flags) or None on timeout."""
    qid = random.randrange(65536)
    flags = 0x0100 if rd else 0
    wire = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1)
    for label in qname.strip(".").split("."):
        if label:
            wire += bytes([len(label)]) + label.encode()
    wire += b"\0" + struct.pack(">HH", qtype, 1)
    wire += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000 if do else 0, 0)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(wire, (addr, port))
        while True:
            data, _ = s.recvfrom(65535)
            if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid:
                fl = struct.unpack(">H", data[2:4])[0]
                return fl & 0xF, fl
    except (socket.timeout, OSError):
        return None
    finally:
        s.close()


def read_tcp_message(sock):
    """One length-prefixed DNS message over TCP (RFC 1035 4.2.2), or None."""
    data = b""
    while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
        want = 2 - len(data) if len(data) < 2 else 2 + struct.unpack(">H", data[:2])[0] - len(data)
        chunk = sock.recv(want)
        if not chunk:
            return None
        data += chunk
    return data


def wait_answer(addr, zone, what, log, rd=False, want_ad=False, limit=20.0, port=53):
    deadline = time.time() + limit
    last = None
    while time.time() < deadline:
        last = dns_query(addr, zone, 6, rd=rd, port=port)
        if last and last[0] == 0 and (not want_ad or last[1] & 0x20):
            return
        time.sleep(0.05)
    raise LabError("%s at %s does not answer SOA %s%s (last: %s; see %s)"
                   % (what, addr, zone, " with AD" if want_ad else "", last, log))


# ----------------------------------------------------- changing zones ----
#
# A lab zone changes while the lab runs when a test plays a child's DNS
# operator (re-signing a zone at one provider's servers) or the registry
# (the lab's EPP server publishing a new parent zone): the zone text is
# signed again, written over the file one NSD serves, and that NSD reloads
# it on SIGHUP (NSD 4 rereads the zone files whose mtime changed).

def signzone(origin, path, key_bases, window, nsec3=None):
    """ldns-signzone of the zone file path with the keys key_bases
    (ldns-keygen's K... base names), RRSIG validity window = (inception,
    expiration) in epoch seconds; the signed text.  ldns-signzone's
    default: keys with the SEP flag sign the DNSKEY RRset, the others
    everything (RFC 8901 model 2: each provider its own KSK and ZSK)."""
    denial = [] if nsec3 is None else ["-n", "-t", str(nsec3)]
    run(["ldns-signzone", "-d", "-i", str(window[0]), "-e", str(window[1]), "-o", origin] +
        denial + ["-f", path + ".signed", path] + list(key_bases))
    with open(path + ".signed") as f:
        return f.read()


def skip_name(msg, off):
    """The offset after the (possibly compressed) name at off."""
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def exchange(addr, qname, qtype, timeout=0.5, port=53, edns=False):
    """One UDP query (RD=0; EDNS with DO when edns), the answer's octets
    if its ID matches, else None."""
    qid = random.randrange(65536)
    wire = (struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1 if edns else 0) + wire_name(qname) +
            struct.pack(">HH", qtype, 1))
    if edns:
        wire += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 0)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(wire, (addr, port))
        msg = s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()
    return msg if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid else None


def records(msg):
    """(section, type, TTL, rdata offset) of each record of an answer in
    the answer (0) and authority (1) sections; stops at a malformed one."""
    try:
        qd, an, ns = struct.unpack(">HHH", msg[4:10])
        off = 12
        for _ in range(qd):
            off = skip_name(msg, off) + 4
        for i in range(an + ns):
            off = skip_name(msg, off)
            rtype, _, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            yield (0 if i < an else 1), rtype, ttl, off + 10
            off += 10 + rdlen
    except (struct.error, IndexError):
        return


def soa_serial(addr, zone, timeout=0.5, port=53):
    """The SOA serial addr serves for zone (RD=0), or None."""
    msg = exchange(addr, zone, 6, timeout, port)
    if msg is None or struct.unpack(">H", msg[2:4])[0] & 0xF:
        return None
    for section, rtype, _, rd in records(msg):
        if section == 0 and rtype == 6:
            try:
                rd = skip_name(msg, skip_name(msg, rd))
                return struct.unpack(">I", msg[rd:rd + 4])[0]
            except (struct.error, IndexError):
                return None
    return None


def set_serial(text, serial):
    """The zone text with the serial of its '@ SOA' line replaced."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 9 and f[0] == "@" and f[1] == "SOA":
            f[4] = str(serial)
            line = " ".join(f)
        out.append(line)
    return "\n".join(out) + "\n"


def text_serial(text):
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 9 and f[0] == "@" and f[1] == "SOA":
            return int(f[4])
    raise LabError("no '@ SOA' line in the zone text")


def nsd_zone_file(labdir, address, zone):
    """The file the NSD on address serves zone from."""
    return os.path.join(labdir, "nsd", address, "root.zone" if zone == "." else zone + "zone")


def serve_zone(labdir, address, zone, signed, serial, limit=20.0):
    """Replace the zone the NSD on address serves with signed (whose SOA
    serial is serial), make that NSD reload, and wait until it answers
    with the serial."""
    path = nsd_zone_file(labdir, address, zone)
    if not os.path.exists(path):
        raise LabError("the NSD on %s does not serve %s" % (address, zone))
    old = os.stat(path).st_mtime_ns
    with open(path + ".tmp", "w") as f:
        f.write(signed)
    # Two writes within one second must still differ in mtime, whatever
    # resolution NSD compares.
    new = max(time.time_ns(), old + 1_000_000_000)
    os.utime(path + ".tmp", ns=(new, new))
    os.replace(path + ".tmp", path)
    with open(os.path.join(labdir, "pids", "nsd-%s.pid" % address)) as f:
        pid = int(f.read().split()[0])
    if not pid_alive(pid, "nsd"):
        raise LabError("the NSD on %s (pid %d) is not running" % (address, pid))
    deadline = time.time() + limit
    hup = 0.0
    while soa_serial(address, zone) != serial:
        if time.time() > deadline:
            raise LabError("the NSD on %s did not load %s serial %d (see %s)"
                           % (address, zone, serial, os.path.join(labdir, "log")))
        # Again each second: a SIGHUP that arrives while NSD reloads may
        # be merged with that reload, which read the file before.
        if time.time() - hup >= 1.0:
            os.kill(pid, signal.SIGHUP)
            hup = time.time()
        time.sleep(0.02)


def publish_delegation(labdir, tld, domain, ns, ds, glue=None):
    """The registry's side: the delegation of domain in tld becomes NS ns,
    DS ds (rdata texts) and glue ({in-bailiwick name: [addresses]}); the
    TLD zone is rewritten with the next serial, signed with its key, and
    served.  Serialised by a lock file: the EPP server applies commands in
    threads.  Returns the new serial."""
    import fcntl
    with open(os.path.join(labdir, "lab.json")) as f:
        par = json.load(f)["parents"][fqdn(tld)]
    domain = fqdn(domain)
    glue = {fqdn(n): a for n, a in (glue or {}).items()}
    with open(os.path.join(labdir, "publish.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(par["unsigned"]) as f:
            text = f.read()
        keep = []
        for line in text.splitlines():
            f = line.split()
            owner = f[0].lower() if f else ""
            if len(f) >= 3 and ((owner == domain and f[1] in ("NS", "DS")) or
                                (f[1] in ("A", "AAAA") and owner.endswith("." + domain))):
                continue
            keep.append(line)
        keep += ["%s NS %s" % (domain, fqdn(n)) for n in sorted(ns)]
        keep += ["%s DS %s" % (domain, d) for d in sorted(ds)]
        keep += ["%s %s %s" % (n, rtype(a), a) for n in sorted(glue) for a in sorted(glue[n])]
        serial = text_serial(text) + 1
        text = set_serial("\n".join(keep), serial)
        with open(par["unsigned"] + ".tmp", "w") as f:
            f.write(text)
        os.replace(par["unsigned"] + ".tmp", par["unsigned"])
        now = int(time.time())
        signed = signzone(fqdn(tld), par["unsigned"], [par["key"]], (now - 3600, now + 30 * 86400))
        serve_zone(labdir, par["server"], fqdn(tld), signed, serial)
    return serial


# ------------------------------------------------------------------ main ----

def cmd_up(args):
    if os.geteuid() != 0:
        print("lab: warning: not root; servers on port 53 need CAP_NET_BIND_SERVICE",
              file=sys.stderr)
    for tool in ("nsd", "unbound", "ldns-signzone", "ldns-keygen", "ldns-key2ds"):
        if not shutil.which(tool):
            raise LabError("%s not found: run contrib/install-deps.sh" % tool)
    d = os.path.abspath(args.dir)
    if os.path.isdir(d):
        stop(d)
        runtime_remove(d)
        shutil.rmtree(d)
    os.makedirs(d)
    if args.kresd and not shutil.which("kresd"):
        raise LabError("kresd not found: run contrib/install-deps.sh (knot-resolver)")
    if args.pg_tls and args.no_db:
        raise LabError("--pg-tls needs the database (drop --no-db)")
    lab = Lab(d, args.scenarios or [DEFAULT_SCENARIOS], with_db=not args.no_db, ttl=args.ttl,
              kresd=args.kresd, cache_max_ttl=args.cache_max_ttl, pg_tls=args.pg_tls,
              resolver_also=args.resolver_also)
    t0 = time.time()
    try:
        lab.build()
        t1 = time.time()
        lab.start()
        info = lab.describe()
    except BaseException:
        stop(d)
        runtime_remove(d)
        raise
    print("lab: %d zones on %d servers, resolver %s%s (built in %.1fs, started in %.1fs)"
          % (len(info["zones"]), sum(1 for s in lab.servers.values() if s.zones and not s.down),
             RESOLVER_ADDR, ", database up" if lab.with_db else "", t1 - t0, time.time() - t1))
    print("lab: source %s for its settings" % os.path.join(d, "lab.env"))


def cmd_down(args):
    d = os.path.abspath(args.dir)
    stopped = stop(d)
    removed = runtime_remove(d)
    print("lab: stopped %s%s" % (", ".join(stopped) if stopped else "nothing (none running)",
                                 "; removed %s" % removed if removed else ""))


def validation_state(resolver, name):
    """How Unbound sees name's SOA: secure, insecure, bogus or an rcode."""
    p = subprocess.run(["kdig", "@" + resolver, "+dnssec", "+time=2", "+retry=1", name, "SOA"],
                       capture_output=True, text=True)
    status = p.stdout.split("status: ", 1)[1].split(";")[0] if "status: " in p.stdout else "TIMEOUT"
    flags = p.stdout.split(";; Flags: ", 1)[1].split(";")[0].split() if ";; Flags: " in p.stdout else []
    if status == "SERVFAIL":
        return "bogus"
    if status == "NOERROR":
        return "secure" if "ad" in flags else "insecure"
    return status.lower()


def cmd_status(args):
    """A table of the lab's child zones as a person would check them: the
    parent's NS and DS, what the servers publish, and how Unbound validates."""
    with open(os.path.join(os.path.abspath(args.dir), "lab.json")) as f:
        info = json.load(f)
    rows = []
    for name, z in sorted(info["zones"].items()):
        if z["provider"]:
            continue
        signals = set()
        for ns in z["ns"]:
            srv = info["servers"][ns]
            if srv["down"]:
                signals.add("down")
                continue
            for rtype in ("CDS", "CDNSKEY", "CSYNC"):
                p = subprocess.run(["kdig", "@" + srv["address"], "+norec", "+short", "+time=1",
                                    "+retry=0", name, rtype], capture_output=True, text=True)
                if p.stdout.strip():
                    signals.add(rtype)
        verdict = ""
        if args.cdscan:
            verdict = cdscan_verdict(args.cdscan, info, name, z)
        rows.append((name, str(len(z["ns"])), str(len(z["ds"])),
                     ",".join(sorted(signals)) or "-",
                     validation_state(info["resolver"], name), verdict, z.get("comment", "")))
    head = ("zone", "NS", "DS", "signals", "validation", "cdscan DS verdict", "scenario")
    if not args.cdscan:  # drop the verdict column
        head = head[:5] + head[6:]
        rows = [r[:5] + r[6:] for r in rows]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head) - 1)]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])


def cdscan_verdict(binary, info, name, z):
    """`cdscan check` on one lab zone, as 'action (reason)'."""
    exp = z.get("expect", {})
    conf = os.path.join(info["dir"], "status-%s.yaml" % name.rstrip("."))
    with open(conf, "w") as f:
        f.write(merge_config("resolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\nscan:\n"
                             "  timeout: 500ms\n  retries: 0\n"
                             % (info["resolver"], info["trust_anchor"]), exp.get("config", "")))
    cmd = [binary, "-q", "-c", conf, "check", name, "--json"]
    for a in z["ns_args"]:
        cmd += ["--ns", a]
    for d in z["ds"]:
        cmd += ["--ds", d]
    if "last-change" in exp:
        cmd += ["--last-change", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(
            rel_time(exp["last-change"], time.time())))]
    p = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(conf)
    if p.returncode != 0:
        return "exit %d" % p.returncode
    ds = json.loads(p.stdout)["ds"]
    return "%s (%s)" % (ds["action"], ",".join(ds["reasons"]))


def cmd_blackhole(args):
    """A nameserver that takes every query (UDP and TCP) and never answers:
    what a server behind a dropping firewall looks like to the scanner."""
    sel, udp, tcp = listen53(args.address)
    conns = []
    while True:
        for key, _ in sel.select():
            if key.fileobj is udp:
                udp.recvfrom(65535)
            elif key.fileobj is tcp:
                c, _ = tcp.accept()
                conns = conns[-200:] + [c]
                sel.register(c, selectors.EVENT_READ)
            else:
                if not key.fileobj.recv(65535):
                    sel.unregister(key.fileobj)
                    key.fileobj.close()


FLIP_PORTS = (5300, 5301)


def cmd_flip(args):
    """The front of a `flip-serial` server: every query goes to the NSD with
    the zones as built (port 5300), except that SOA queries alternate between
    it and the NSD with the same zones one serial later (port 5301), as if
    the zone were reloaded between any two SOA queries (RFC 7477 §3.4)."""
    import threading
    fam = family(args.address)
    state = {"soa": 0}
    lock = threading.Lock()

    def upstream_port(query):
        o = 12
        while o < len(query) and query[o]:
            o += 1 + query[o]
        qtype = struct.unpack(">H", query[o + 1:o + 3])[0] if o + 3 <= len(query) else 0
        if qtype != 6:
            return FLIP_PORTS[0]
        with lock:
            state["soa"] += 1
            return FLIP_PORTS[(state["soa"] + 1) % 2]

    def over_tcp(conn):
        try:
            while True:
                q = read_tcp_message(conn)
                if q is None:
                    return
                with socket.create_connection((args.address, upstream_port(q[2:])), 3) as up:
                    up.sendall(q)
                    r = read_tcp_message(up)
                if r is None:
                    return
                conn.sendall(r)
        except OSError:
            return
        finally:
            conn.close()

    sel, udp, tcp = listen53(args.address)
    while True:
        for key, _ in sel.select():
            if key.fileobj is tcp:
                c, _ = tcp.accept()
                threading.Thread(target=over_tcp, args=(c,), daemon=True).start()
                continue
            q, client = udp.recvfrom(65535)
            up = socket.socket(fam, socket.SOCK_DGRAM)
            up.settimeout(2)
            try:
                up.sendto(q, (args.address, upstream_port(q)))
                udp.sendto(up.recv(65535), client)
            except OSError:
                pass
            finally:
                up.close()


FRONT_PORT = 5302


def wire_to_text(msg, off):
    """The (possibly compressed) name at off as lower-case text."""
    labels = []
    for _ in range(128):
        n = msg[off]
        if n == 0:
            break
        if n & 0xC0 == 0xC0:
            off = (n & 0x3F) << 8 | msg[off + 1]
            continue
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace").lower())
        off += 1 + n
    return ".".join(labels) + "."


def add_report_channel(answer, agent):
    """answer with the Report-Channel option (RFC 9567 §5, code 18, the
    agent domain uncompressed) added to its OPT record; unchanged when it
    has none (the query had no EDNS) or does not parse."""
    try:
        counts = struct.unpack(">HHHH", answer[4:12])
        off = 12
        for _ in range(counts[0]):
            off = skip_name(answer, off) + 4
        for _ in range(sum(counts[1:])):
            start = off
            off = skip_name(answer, off)
            rtype, _, _, rdlen = struct.unpack(">HHIH", answer[off:off + 10])
            end = off + 10 + rdlen
            if rtype == 41 and answer[start] == 0:
                data = wire_name(agent)
                opt = struct.pack(">HH", 18, len(data)) + data
                return (answer[:off + 8] + struct.pack(">H", rdlen + len(opt)) +
                        answer[off + 10:end] + opt + answer[end:])
            off = end
    except (IndexError, struct.error):
        pass
    return answer


def cmd_front(args):
    """The front of a `report-channel` or `query-log` server: every query
    goes to the NSD behind it (FRONT_PORT); answers get the Report-Channel
    option naming --agent (NSD cannot add it), and each query is logged to
    --query-log as 'QNAME QTYPE udp|tcp' (NSD 4.6 logs no queries)."""
    import threading
    fam = family(args.address)
    lock = threading.Lock()
    log = open(args.query_log, "a", buffering=1) if args.query_log else None

    def seen(query, proto):
        if not log or len(query) < 17:
            return
        try:
            o = skip_name(query, 12)
            qtype = struct.unpack(">H", query[o:o + 2])[0]
            with lock:
                log.write("%s %d %s\n" % (wire_to_text(query, 12), qtype, proto))
        except (IndexError, struct.error):
            pass

    def answer(a):
        return add_report_channel(a, args.agent) if args.agent else a

    def over_tcp(conn):
        try:
            while True:
                q = read_tcp_message(conn)
                if q is None:
                    return
                seen(q[2:], "tcp")
                with socket.create_connection((args.address, FRONT_PORT), 3) as up:
                    up.sendall(q)
                    r = read_tcp_message(up)
                if r is None:
                    return
                r = answer(r[2:])
                conn.sendall(struct.pack(">H", len(r)) + r)
        except OSError:
            return
        finally:
            conn.close()

    sel, udp, tcp = listen53(args.address)
    while True:
        for key, _ in sel.select():
            if key.fileobj is tcp:
                c, _ = tcp.accept()
                threading.Thread(target=over_tcp, args=(c,), daemon=True).start()
                continue
            q, client = udp.recvfrom(65535)
            seen(q, "udp")
            up = socket.socket(fam, socket.SOCK_DGRAM)
            up.settimeout(2)
            try:
                up.sendto(q, (args.address, FRONT_PORT))
                udp.sendto(answer(up.recv(65535)), client)
            except OSError:
                pass
            finally:
                up.close()


def cmd_pg_restart(args):
    """Restart the lab's PostgreSQL (tests of a database that goes away) and
    record the new postmaster's pid, so that `down` still stops it."""
    d = os.path.abspath(args.dir)
    rt = runtime_dir(d)
    if rt is None or not os.path.isdir(os.path.join(rt, "pg")):
        raise LabError("%s runs no PostgreSQL (no runtime directory at %s)"
                       % (d, os.path.join(d, "run")))
    pg = os.path.join(rt, "pg")
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    pg_ctl(find_pg_bindir(), prefix, pg, "restart", os.path.join(d, "log", "postgres.log"))
    with open(os.path.join(pg, "data", "postmaster.pid")) as f:
        record_pid(d, "postgres", int(f.readline()), "postgres")
    print("lab: postgres restarted")


def cmd_env(args):
    with open(os.path.join(os.path.abspath(args.dir), "lab.json")) as f:
        sys.stdout.write(env_text(json.load(f)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build and start the lab")
    up.add_argument("--dir", required=True)
    up.add_argument("--scenarios", action="append",
                    help="scenario file or directory (default: tests/lab/scenarios)")
    up.add_argument("--no-db", action="store_true", help="do not start PostgreSQL")
    up.add_argument("--kresd", action="store_true",
                    help="also start Knot Resolver on %s (a second validating resolver)"
                    % KRESD_ADDR)
    up.add_argument("--cache-max-ttl", type=int, default=5,
                    help="the resolvers cache nothing longer (default 5 s)")
    up.add_argument("--ttl", type=int, default=DEFAULT_TTL,
                    help="TTL of every record and SOA minimum (default %d)" % DEFAULT_TTL)
    up.add_argument("--pg-tls", metavar="ADDR",
                    help="PostgreSQL also on ADDR port %d, TLS only (lab CA in DIR/tls, "
                    "lab.json's pg_tls)" % PG_TLS_PORT)
    up.add_argument("--resolver-also", metavar="ADDR",
                    help="Unbound also on ADDR, answering its /24")
    down = sub.add_parser("down", help="stop what 'up' started")
    down.add_argument("--dir", required=True)
    env = sub.add_parser("env", help="print shell exports for the lab")
    env.add_argument("--dir", required=True)
    st = sub.add_parser("status", help="show the lab's child zones and how they validate")
    st.add_argument("--dir", required=True)
    st.add_argument("--cdscan", help="add each zone's verdict from this cdscan binary")
    pr = sub.add_parser("pg-restart", help="restart the lab's PostgreSQL")
    pr.add_argument("--dir", required=True)
    bh = sub.add_parser("blackhole", help="(internal) a server that never answers")
    bh.add_argument("address")
    fl = sub.add_parser("flip", help="(internal) the front of a flip-serial server")
    fl.add_argument("address")
    fr = sub.add_parser("front", help="(internal) the front of a report-channel or "
                        "query-log server")
    fr.add_argument("address")
    fr.add_argument("--agent", help="add the Report-Channel option naming this agent domain")
    fr.add_argument("--query-log", help="log every query to this file")
    args = ap.parse_args()
    try:
        {"up": cmd_up, "down": cmd_down, "env": cmd_env, "status": cmd_status,
         "blackhole": cmd_blackhole, "flip": cmd_flip, "front": cmd_front,
         "pg-restart": cmd_pg_restart}[args.cmd](args)
    except LabError as e:
        print("lab: error: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
