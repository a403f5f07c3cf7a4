#!/usr/bin/python3
"""Differential test: cdscan against BIND's dnssec-cds on the lab's DS
scenarios.  For each zone and each of its nameservers, the child's DNSKEY,
CDS and CDNSKEY (with RRSIGs) as that server serves them go to dnssec-cds
(-f), the parent's DS set (-d): one dnssec-cds outcome per server, as
cdscan asks every server itself (RFC 8901: a multi-signer zone is what
each provider serves, not a merge of them).  cdscan checks the zone once.
Every server's dnssec-cds outcome must equal cdscan's: accept with the same
DS set, or reject (and then dnssec-cds for the reason listed in
REJECT_BECAUSE for cdscan's reason code, so that an input dnssec-cds could
not read is not taken for agreement).  The differences in EXPLAINED are
pinned on both sides: dnssec-cds's outcome per server and cdscan's action
and reason, so the test notices if either side changes.  A dig that gets
no authoritative NOERROR answer fails the zone: a timeout is not an empty
RRset.  Usage: dnssec_cds_diff.py CDSCAN LAB_DIR"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

from labtest import merge_config

# Zones whose outcome legitimately differs: dnssec-cds's outcome ("accept"
# or "reject" at every server, or per server), cdscan's (action, first
# reason code) and why.
EXPLAINED = {
    "sha1-digest.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "digest-not-allowed"),
        "why": "dnssec-cds ignores CDS records with digest types outside -a and keeps the "
               "rest; cdscan drops them only where the key keeps a record of an allowed type "
               "(digest-filter.test: both accept), and here the new key has SHA-1 only: "
               "digest-not-allowed rather than a DS set without the key the child asked for"},
    "rsasha1.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "algorithm-not-allowed"),
        "why": "dnssec-cds has no algorithm policy; cdscan rejects RSASHA1 "
               "(algorithm-not-allowed, RFC 8624)"},
    "too-many.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "too-many-ds"),
        "why": "dnssec-cds has no limit on the DS count; cdscan's policy.max-ds is 1 in this "
               "scenario"},
    "mismatch.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "cds-cdnskey-mismatch"),
        "why": "dnssec-cds prefers CDS and ignores a CDNSKEY RRset that names other keys; "
               "cdscan rejects (cds-cdnskey-mismatch): when both are published they must "
               "describe the same keys"},
    "mixed-delete.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "mixed-delete"),
        "why": "with -a, dnssec-cds drops the delete CDS (digest type 0) and keeps the other "
               "record; cdscan rejects the RRset (mixed-delete, RFC 8078 §4 with erratum "
               "5049)"},
    "delete.test.": {
        "dnssec-cds": "accept", "cdscan": ("delete", "delete"),
        "why": "with -a, dnssec-cds (BIND 9.18) drops the delete CDS, falls back to CDNSKEY "
               "and turns the delete record '0 3 0 AA==' into DS records of algorithm 0; "
               "cdscan proposes the empty DS set (RFC 8078 §4)"},
    "delete-forbidden.test.": {
        "dnssec-cds": "reject", "cdscan": ("reject", "delete-not-allowed"),
        "because": "do not match any -a digest types",
        "why": "both reject, for different reasons: dnssec-cds because the delete CDS "
               "'0 0 0 00' has a digest type outside -a, cdscan because this scenario's "
               "policy.allow-delete is false"},
    "multi-break.test.": {
        "dnssec-cds": {"ns1.provider-a.net.": "accept", "ns1.provider-b.net.": "reject"},
        "cdscan": ("reject", "breaks-chain"),
        "why": "dnssec-cds, given what provider A serves (a DNSKEY RRset signed by ka), "
               "accepts DS(ka); given provider B's (signed by kb) it finds the DNSKEY RRset "
               "unverifiable by DS(ka). cdscan checks the DNSKEY RRset as each provider "
               "serves it (RFC 8901) and rejects the delegation: breaks-chain. (Given one "
               "merged child file, dnssec-cds saw both RRSIGs and accepted.)"},
    "add-rsasha1.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "algorithm-not-allowed"),
        "why": "dnssec-cds has no algorithm policy; cdscan refuses to add a DS of algorithm "
               "5 (algorithm-not-allowed, RFC 8624), while a DS of it the parent holds may "
               "stay (leave-rsasha1.test: both accept)"},
    "junk-cds.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "digest-not-allowed"),
        "why": "BIND's message parser refuses a CDS whose digest does not fit its type (dig: "
               "'malformed message packet'), so dnssec-cds sees no CDS RRset and computes DS "
               "from the CDNSKEY alone; cdscan sees the CDS RRset as served, with the "
               "malformed record, and refuses the signal (digest-not-allowed: 'a CDS record "
               "is malformed')"},
    "junk-cds-only.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "digest-not-allowed"),
        "why": "as junk-cds: dnssec-cds sees no CDS RRset at all (and there is no CDNSKEY) "
               "and keeps the DS set; cdscan refuses the signal with the malformed record "
               "(digest-not-allowed) rather than take what is left of it for the DS set"},
    "revoked.test.": {
        "dnssec-cds": "accept", "cdscan": ("reject", "bogus"),
        "why": "dnssec-cds validates the DNSKEY RRset with the only DS'd key although that "
               "key has the REVOKE flag; for cdscan a revoked key authenticates nothing "
               "(RFC 5011 §2.1): bogus"},
    "steady.test.": {
        "dnssec-cds": "reject", "cdscan": ("none", "signal-unchanged"),
        "why": "dnssec-cds -s (the replay baseline) wants every child RRSIG, the DNSKEY "
               "RRset's too, made after it ('could not validate child DNSKEY RRset'); for "
               "cdscan a signal equal to the DS set is signal-unchanged however old its "
               "signatures (RFC 7344 §6.2, CONTRACT.md)"},
}
# Scenarios outside dnssec-cds's reach (it reads files, not servers).
SKIP = {"ns-unreachable", "ns-inconsistent", "insecure-no-bootstrap"}
# What dnssec-cds says (its "fatal:" line) when it rejects for the reason
# cdscan gives.
REJECT_BECAUSE = {
    "bogus": "could not validate child",
    "not-signed": "missing RRSIG",
    "breaks-chain": "could not validate child DNSKEY RRset with new DS records",
    # dnssec-cds too wants the CDS/CDNSKEY RRset signed by a key the DS
    # set names (RFC 7344 §4.1): a ZSK's signature leaves it unvalidated.
    "signer-not-in-ds": "could not validate child CD",
    # -s: dnssec-cds treats RRSIGs older than the last change as replays,
    # so none is left to validate with.
    "stale-signal": "could not validate child DNSKEY RRset for",
}


class DigError(Exception):
    """No usable answer from a server: not the same as an empty RRset."""


def dig(addr, name, rtype):
    """The answer section of an authoritative NOERROR answer from addr.
    A timeout (dig exit 9), another rcode or a non-authoritative answer
    raises DigError.  Three tries of 3 s: the lab answers at once, a busy
    machine may not."""
    p = subprocess.run(["dig", "@" + addr, "+dnssec", "+norec", "+noall", "+comments",
                        "+answer", "+time=3", "+tries=3", name, rtype],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise DigError("dig @%s %s %s: exit %d %s" % (addr, name, rtype, p.returncode,
                                                     (p.stdout + p.stderr).strip()[-200:]))
    status = re.search(r"status: ([A-Z]+)", p.stdout)
    flags = re.search(r";; flags:([^;]*);", p.stdout)
    if not status or status.group(1) != "NOERROR" or not flags or \
            "aa" not in flags.group(1).split():
        raise DigError("dig @%s %s %s: %s, flags%s" % (
            addr, name, rtype, status.group(1) if status else "no status",
            flags.group(1) if flags else " none"))
    return "".join(line + "\n" for line in p.stdout.splitlines()
                   if line.strip() and not line.startswith(";"))


def norm_ds(lines, zone):
    out = []
    for line in lines.splitlines():
        f = line.split()
        if len(f) >= 7 and f[3] == "DS" and f[0].lower() == zone:
            out.append("%s %s %s %s" % (f[4], f[5], f[6], "".join(f[7:]).upper()))
    return sorted(out)


def dnssec_cds(tmp, lab, name, z, start):
    """dnssec-cds per nameserver: {server: (outcome, DS set or None, its
    fatal message or '')}."""
    df = os.path.join(tmp, name + "ds")
    with open(df, "w") as f:
        f.write("".join("%s 3600 IN DS %s\n" % (name, d) for d in z["ds"]))
    out = {}
    for ns in z["ns"]:
        addr = lab["servers"][ns]["address"]
        cf = os.path.join(tmp, "%s%s.child" % (name, ns))
        with open(cf, "w") as f:
            f.write("".join(dig(addr, name, t) for t in ("DNSKEY", "CDS", "CDNSKEY")))
        # dnssec-cds digests: the digest types cdscan accepts (2, 4).
        p = subprocess.run(["dnssec-cds", "-a", "SHA-256", "-a", "SHA-384", "-s",
                            time.strftime("%Y%m%d%H%M%S", time.gmtime(start)),
                            "-d", df, "-f", cf, name], capture_output=True, text=True)
        fatal = re.search(r"fatal: (.*)", p.stderr)
        if p.returncode == 0:
            out[ns] = ("accept", norm_ds(p.stdout, name), "")
        else:
            out[ns] = ("reject", None, fatal.group(1) if fatal else p.stderr.strip()[-200:])
    return out


def cdscan_check(cdscan, conf, name, z, lc):
    args = [cdscan, "-c", conf, "check", name, "--json"] + lc
    for a in z["ns_args"]:
        args += ["--ns", a]
    for d in z["ds"]:
        args += ["--ds", d]
    q = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if q.returncode != 0:
        raise DigError("cdscan check: exit %d %s" % (q.returncode, q.stderr.strip()[-300:]))
    return json.loads(q.stdout)["ds"]


def judge(name, v, bind):
    """(ok, what): cdscan's DS verdict v against dnssec-cds per server."""
    # No signal and an unchanged signal keep the DS set: dnssec-cds prints
    # it unchanged.
    ours = ("reject", None) if v["action"] == "reject" else ("accept", v["proposed"])
    per = ", ".join("%s %s" % (ns.split(".")[0] + "." + ns.split(".")[1], b[0])
                    for ns, b in sorted(bind.items()))
    head = "%-24s cdscan %s (%s), dnssec-cds %s" % (name, ours[0], v["reasons"][0], per)
    if name in EXPLAINED:
        e = EXPLAINED[name]
        want = e["dnssec-cds"]
        want = want if isinstance(want, dict) else {ns: want for ns in bind}
        bind_ok = {ns: b[0] for ns, b in bind.items()} == want
        ours_ok = (v["action"], v["reasons"][0]) == e["cdscan"]
        differs = any((b[0], b[1]) != ours for b in bind.values()) or "because" in e
        because_ok = "because" not in e or all(e["because"] in b[2] for b in bind.values())
        ok = bind_ok and ours_ok and differs and because_ok
        if ok:
            return True, head + ": differs as explained\n       why: " + e["why"]
        return False, head + ": explained difference did not occur: want dnssec-cds %s, " \
            "cdscan %s%s\n       dnssec-cds: %s" % (
                want, e["cdscan"], "" if because_ok else " (dnssec-cds: %r)" % e["because"],
                {ns: b[2] or b[1] for ns, b in bind.items()})
    errors = []
    for ns, b in sorted(bind.items()):
        if (b[0], b[1]) != ours:
            errors.append("%s: cdscan %s, dnssec-cds %s %s" % (ns, ours[1], b[1], b[2]))
        elif b[0] == "reject":
            because = REJECT_BECAUSE.get(v["reasons"][0])
            if because is None or because not in b[2]:
                errors.append("%s: dnssec-cds rejects for another reason than %s: %s"
                              % (ns, v["reasons"][0], b[2]))
    if errors:
        return False, head + "".join("\n       " + e for e in errors)
    return True, head


def main():
    cdscan, labdir = sys.argv[1], sys.argv[2]
    lab = json.load(open(os.path.join(labdir, "lab.json")))
    failures = checks = 0
    tmp = tempfile.mkdtemp()
    conf = os.path.join(tmp, "c.yaml")
    # Both compute SHA-256 and SHA-384 DS from CDNSKEY (dnssec-cds: -a twice).
    base = ("scan:\n  timeout: 1s\n  retries: 2\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n"
            "policy:\n  compute-digests: [2, 4]\n" % lab["resolver"])
    seen = set()
    for name, z in sorted(lab["zones"].items()):
        exp = z.get("expect", {})
        # dnssec-cds maintains an existing DS set; bootstrapping an insecure
        # delegation is outside its reach.
        if "ds" not in exp or exp["ds"] in SKIP or not z["ds"]:
            continue
        checks += 1
        seen.add(name)
        start = time.time() - 86400
        lc = []
        if "last-change" in exp:
            spec = exp["last-change"]
            secs = int(spec.strip("+-")[:-1]) * {"m": 60, "h": 3600, "d": 86400}[spec[-1]]
            start = time.time() + (secs if spec[0] == "+" else -secs)
            lc = ["--last-change", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))]
        # A scenario's own keys go under the same mappings (policy:, resolver:).
        with open(conf, "w") as f:
            f.write(merge_config(base, exp.get("config", "")))
        try:
            bind = dnssec_cds(tmp, lab, name, z, start)
            v = cdscan_check(cdscan, conf, name, z, lc)
        except DigError as e:
            print("FAIL %-24s %s" % (name, e))
            failures += 1
            continue
        ok, what = judge(name, v, bind)
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures += 1
    # An explained difference whose zone is gone would pin nothing.
    for name in sorted(set(EXPLAINED) - seen):
        print("FAIL %-24s explained, but not among the lab's DS scenarios" % name)
        failures += 1
        checks += 1
    print("%d passed, %d failed" % (checks - failures, failures))
    sys.exit(1 if failures or checks == 0 else 0)


if __name__ == "__main__":
    main()
