#!/usr/bin/python3
"""System test: `cdscan check --json` on every lab zone whose scenario has an
`expect.ds`, against the real lab servers, with the delegation from
--ns/--ds, from --parent-zone and from DNS (real-DNS mode), and over TCP
only.  Checks the exit code, the verdict's shape (CONTRACT.md), the first DS
reason code and action, the proposed DS set (recomputed here from the keys,
independently of cdscan), add/rem, the detail (`expect.detail`, a
substring), a server's error (`expect.error`), the addresses left out
(`expect.excluded`), and that every DS-side reason code of the contract is
produced by some scenario.  Usage: check_scenarios.py CDSCAN LAB_DIR"""

import base64
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from labtest import merge_config

# DS-side codes a lab scenario must produce through `check` (opted-out is a
# database flag: csync_scenarios.py's scan part; bootstrap-after-delay needs
# the scan's history: bootstrap_test.py).
REQUIRED = {
    "no-signal", "signal-unchanged", "ds-updated", "delete", "delete-not-allowed",
    "ns-unreachable", "ns-inconsistent", "not-signed", "bogus", "cds-cdnskey-mismatch",
    "breaks-chain", "algorithm-not-allowed", "digest-not-allowed", "mixed-delete",
    "stale-signal", "insecure-no-bootstrap", "bootstrap-authenticated",
    "bootstrap-signal-missing", "bootstrap-signal-mismatch", "bootstrap-ns-insecure",
    "bootstrap-signal-bogus", "bootstrap-pending", "signer-not-in-ds",
}
TOP_KEYS = ["domain", "checked_at", "delegation", "secure", "servers", "ds", "ns"]
SIDE_KEYS = ["action", "reasons", "current", "proposed", "add", "rem"]


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.lower().encode()
    return out + b"\0"


def ds_of(owner, dnskey, digest_type=2):
    flags, proto, alg, key = dnskey.split(" ", 3)
    rdata = (int(flags).to_bytes(2, "big") + bytes([int(proto), int(alg)]) +
             base64.b64decode(key.replace(" ", "")))
    tag = 0
    for i, b in enumerate(rdata):
        tag += b if i & 1 else b << 8
    tag = (tag + (tag >> 16)) & 0xFFFF
    h = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}[digest_type]
    return "%d %s %d %s" % (tag, alg, digest_type, h(wire(owner) + rdata).hexdigest().upper())


def rel(spec):
    spec = spec.strip()
    sign = -1 if spec.startswith("-") else 1
    spec = spec.lstrip("+-")
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(spec[-1], 1)
    if spec[-1] in "smhd":
        spec = spec[:-1]
    t = time.time() + sign * int(spec) * mult
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def expected_details(exp, v):
    """What expect.detail, expect.error and expect.excluded ask of verdict v."""
    errors = []
    if "detail" in exp and exp["detail"] not in v["ds"].get("detail", ""):
        errors.append("ds.detail %r does not say %r" % (v["ds"].get("detail"), exp["detail"]))
    if "error" in exp and not any(exp["error"] in (s["error"] or "") for s in v["servers"]):
        errors.append("no server error mentions %r: %s" % (exp["error"],
                                                          [s["error"] for s in v["servers"]]))
    if "excluded" in exp:
        if not any(exp["excluded"] in e for e in v.get("excluded", [])):
            errors.append("excluded %s does not name %r" % (v.get("excluded"), exp["excluded"]))
        left_out = exp["excluded"].split(" (", 1)[1].split(")", 1)[0]
        if any(s["address"] == left_out for s in v["servers"]):
            errors.append("%s left out, yet asked: %s" % (left_out, v["servers"]))
    return errors


def other_modes(cdscan, lab, name, conf, v, last_change):
    """The same check with the delegation from the parent zone file and from
    DNS through the resolver: the DS verdict must not depend on the source."""
    errors = []
    parent = os.path.join(lab["dir"], "zones", "127.53.0.2", "test.zone")
    modes = [("--parent-zone", ["--parent-zone", parent])]
    # Real-DNS mode asks Unbound for the NS set, and Unbound's own back-off
    # towards a dead child server can outlast any client timeout: only zones
    # whose servers all answer take this path.
    if not any(lab["servers"][n]["down"] for n in lab["zones"][name]["ns"]):
        modes.append(("real-DNS", []))
    for mode, extra in modes:
        p = subprocess.run([cdscan, "-c", conf, "check", name, "--json"] + extra + last_change,
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            errors.append("%s: exit %d %s" % (mode, p.returncode, p.stderr.strip()))
            continue
        w = json.loads(p.stdout)
        for key in ("action", "reasons", "current", "proposed"):
            if w["ds"][key] != v["ds"][key]:
                errors.append("%s: ds.%s %s, with --ns/--ds %s" % (mode, key, w["ds"][key],
                                                                   v["ds"][key]))
        if sorted(w["delegation"]["ns"]) != sorted(v["delegation"]["ns"]):
            errors.append("%s: delegation.ns %s" % (mode, w["delegation"]["ns"]))
        errors += ["%s: %s" % (mode, e) for e in expected_details(lab["zones"][name]["expect"], w)]
    return errors


def run_zone(cdscan, lab, name, z, tmp):
    exp = z["expect"]
    conf = os.path.join(tmp, name + "yaml")
    with open(conf, "w") as f:
        f.write(merge_config("resolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                             "scan:\n  timeout: 1s\n  retries: 2\n"
                             % (lab["resolver"], lab["trust_anchor"]), exp.get("config", "")))
    args = [cdscan, "-c", conf, "check", name, "--json"]
    for a in z["ns_args"]:
        args += ["--ns", a]
    for d in z["ds"]:
        args += ["--ds", d]
    last_change = []
    if "last-change" in exp:
        last_change = ["--last-change", rel(exp["last-change"])]
    args += last_change
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    errors = []
    if p.returncode != 0:
        return ["exit %d: %s" % (p.returncode, p.stderr.strip())], None
    try:
        v = json.loads(p.stdout)
    except ValueError as e:
        return ["not JSON (%s): %s" % (e, p.stdout[:200])], None
    # "excluded" (added to the contract) is there when an address was left out.
    if [k for k in v if k != "excluded"] != TOP_KEYS or (
            "excluded" in v and list(v).index("excluded") != TOP_KEYS.index("servers") + 1):
        errors.append("top-level keys %s" % list(v))
    for side in ("ds", "ns"):
        if list(v[side])[:6] != SIDE_KEYS:
            errors.append("%s keys %s" % (side, list(v[side])))
        if not v[side]["reasons"]:
            errors.append("%s side has no reason" % side)
    if v["domain"] != name:
        errors.append("domain %s" % v["domain"])
    if sorted(v["delegation"]["ns"]) != sorted(z.get("parent_ns", z["ns"])):
        errors.append("delegation.ns %s" % v["delegation"]["ns"])
    if v["delegation"]["ds"] != sorted(z["ds"]):
        errors.append("delegation.ds %s, lab %s" % (v["delegation"]["ds"], z["ds"]))
    ds = v["ds"]
    if ds["reasons"][0] != exp["ds"]:
        errors.append("ds.reasons %s, want %s (%s)" % (ds["reasons"], exp["ds"],
                                                       p.stderr.strip()))
    if "action" in exp and ds["action"] != exp["action"]:
        errors.append("ds.action %s, want %s" % (ds["action"], exp["action"]))
    for lst in ("current", "proposed", "add", "rem"):
        if ds[lst] != sorted(ds[lst]):
            errors.append("ds.%s not sorted" % lst)
    if "proposed" in exp:
        want = sorted(ds_of(name, z["keys"][k]["dnskey"]) for k in exp["proposed"])
        if ds["proposed"] != want:
            errors.append("ds.proposed %s, want %s" % (ds["proposed"], want))
    cur, prop = set(ds["current"]), set(ds["proposed"])
    if set(ds["add"]) != prop - cur or set(ds["rem"]) != cur - prop:
        errors.append("add/rem %s/%s do not follow from current/proposed" % (ds["add"], ds["rem"]))
    if ds["action"] in ("none", "reject") and ds["proposed"] != ds["current"]:
        errors.append("proposed differs from current without an action")
    errors += expected_details(exp, v)
    errors += other_modes(cdscan, lab, name, conf, v, last_change)
    if exp.get("tcp"):
        # Truncated UDP answers must have been asked again over TCP.
        d = subprocess.run(args[:3] + ["-vv"] + args[3:], capture_output=True, text=True)
        m = re.search(r"tcp fallbacks (\d+)", d.stderr)
        if not m or int(m.group(1)) == 0:
            errors.append("no TCP fallback logged: %s" % d.stderr.strip()[-300:])
    # The same verdict over TCP only (scan.transport: tcp).
    tcp_conf = conf + ".tcp"
    with open(tcp_conf, "w") as f:
        f.write(open(conf).read().replace("scan:\n", "scan:\n  transport: tcp\n", 1))
    t = subprocess.run([args[0], "-c", tcp_conf] + args[3:], capture_output=True, text=True,
                       timeout=60)
    if t.returncode != 0 or json.loads(t.stdout)["ds"]["reasons"] != ds["reasons"]:
        errors.append("over TCP only: %s %s" % (t.returncode, t.stdout[-300:] or t.stderr))
    else:
        errors += ["over TCP only: " + e for e in expected_details(exp, json.loads(t.stdout))]
    return errors, v


def main():
    cdscan, labdir = sys.argv[1], sys.argv[2]
    with open(os.path.join(labdir, "lab.json")) as f:
        lab = json.load(f)
    zones = {n: z for n, z in sorted(lab["zones"].items()) if "ds" in z.get("expect", {})}
    seen = set()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(4) as ex:
        futs = {n: ex.submit(run_zone, cdscan, lab, n, z, tmp) for n, z in zones.items()}
        for n, fut in futs.items():
            errors, v = fut.result()
            if v:
                seen.update(v["ds"]["reasons"])
            if errors:
                failures += 1
                print("FAIL %s (%s)" % (n, zones[n]["comment"]))
                for e in errors:
                    print("    " + e)
            else:
                print("ok   %-26s %s" % (n, v["ds"]["reasons"][0]))
    missing = REQUIRED - seen
    if missing:
        failures += 1
        print("FAIL reason codes no scenario produced: %s" % ", ".join(sorted(missing)))
    total = len(zones) + 1
    print("%d passed, %d failed" % (total - failures, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
