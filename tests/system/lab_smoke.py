#!/usr/bin/python3
"""Smoke test of the running lab: every zone is served authoritatively by each
of its nameservers, validates through Unbound as its scenario expects
(secure: AD set; insecure: no AD; bogus: SERVFAIL), and PostgreSQL takes a
connection.  Usage: lab_smoke.py LAB_DIR"""

import json
import os
import re
import subprocess
import sys

failures = []
checks = 0


def kdig(server, name, rtype, *flags):
    p = subprocess.run(["kdig", "@" + server, "+time=2", "+retry=1", *flags, name, rtype],
                       capture_output=True, text=True)
    status = re.search(r"status: (\w+)", p.stdout)
    hdr = re.search(r";; Flags: ([^;]*);", p.stdout)
    return (status.group(1) if status else "TIMEOUT", hdr.group(1).split() if hdr else [],
            p.stdout)


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def main():
    with open(os.path.join(sys.argv[1], "lab.json")) as f:
        lab = json.load(f)
    resolver = lab["resolver"]

    # The trust anchor alone makes answers secure: the root validates.
    status, flags, _ = kdig(resolver, ".", "SOA", "+dnssec")
    check(status == "NOERROR" and "ad" in flags, "root SOA through unbound: %s %s" % (status, flags))

    for name, z in sorted(lab["zones"].items()):
        for ns in z["ns"]:
            srv = lab["servers"][ns]
            if srv["down"]:
                continue
            status, flags, _ = kdig(srv["address"], name, "SOA", "+norec", "+dnssec")
            check(status in ("NOERROR", "REFUSED"),
                  "%s SOA at %s (%s): %s" % (name, ns, srv["address"], status))
            if status == "NOERROR":
                check("aa" in flags, "%s at %s: answer not authoritative %s" % (name, ns, flags))
        want = z.get("expect", {}).get("resolver")
        if not want:
            continue
        status, flags, out = kdig(resolver, name, "SOA", "+dnssec")
        got = ("bogus" if status == "SERVFAIL" else
               "secure" if status == "NOERROR" and "ad" in flags else
               "insecure" if status == "NOERROR" else status)
        check(got == want, "%s through unbound: %s, want %s (%s %s)"
              % (name, got, want, status, flags))

    # A DS set matching the zone's keys is what makes it secure: the DS the
    # lab published for secure.test is the SHA-256 digest of its KSK.
    ds = lab["zones"]["secure.test."]["ds"]
    check(len(ds) == 1 and ds[0].split()[0] == str(lab["zones"]["secure.test."]["keys"]["ksk"]["keytag"]),
          "secure.test. DS %s is not its KSK's" % ds)

    if lab.get("database"):
        p = subprocess.run(["psql", lab["database"], "-XAtc", "SELECT 6*7"],
                           capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.strip() == "42",
              "PostgreSQL at %s: %s %s" % (lab["database"], p.stdout.strip(), p.stderr.strip()))
    else:
        check(False, "the lab runs no PostgreSQL")

    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
