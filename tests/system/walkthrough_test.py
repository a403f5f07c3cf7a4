#!/usr/bin/python3
"""README's registrar walk-through, run as written (contrib/walkthrough.sh:
a lab of its own with children at two registries, the registries' EPP
servers, then README's commands): it must end well, and each registry must
have received exactly the change its customers' children asked for — the
new DS set of bakery.test at nic-test and of garage.net at nic-net, each
command valid against the EPP schemas, published in the TLD zone — and
nothing for the child that got its signal wrong (florist.test, rejected and
reported by registry) or for those that asked for nothing.  The customers
hear of it by mail, each in the maildir of its contact: bakery.test's and
garage.net's that the change was applied (the DS added named), florist's
that its signal was refused and why; the others get nothing.  Runs in a
network namespace of its own.  Usage: walkthrough_test.py CDSCAN"""

import email
import email.policy
import glob
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from labtest import check, finish, run_in_own_netns  # noqa: E402


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def inner(binary):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = tempfile.mkdtemp(prefix="walkthrough.")
    env = dict(os.environ, CDSCAN=binary, WALKTHROUGH_DIR=work)
    p = subprocess.run([os.path.join(HERE, "..", "..", "contrib", "walkthrough.sh")],
                       env=env, capture_output=True, text=True, timeout=600)
    out = p.stdout + p.stderr
    if not check(p.returncode == 0, "the walk-through runs to its end (exit %d)"
                 % p.returncode):
        print(out[-4000:])
        finish()
    lab = json.load(open(os.path.join(work, "lab", "lab.json")))
    keys = lambda zone, names: sorted(lab["zones"][zone]["keys"][k]["ds"] for k in names)
    want = {"nic-test": {"bakery.test": keys("bakery.test.", ["old", "new"])},
            "nic-net": {"garage.net": keys("garage.net.", ["old", "new"])}}
    for reg, changes in want.items():
        applied = lines(os.path.join(work, reg, "applied.jsonl"))
        received = lines(os.path.join(work, reg, "received.jsonl"))
        published = lines(os.path.join(work, reg, "published.jsonl"))
        check(sorted(a["name"] for a in applied) == sorted(changes),
              "%s applied exactly %s: %s" % (reg, sorted(changes),
                                             [a["name"] for a in applied]))
        check(received and all(c.get("valid") is True for c in received),
              "%s: every command (%d) valid against the EPP schemas" % (reg, len(received)))
        for name, ds in changes.items():
            got = [x["ds"] for x in published if x["name"] == name]
            check(got and sorted(got[-1]) == ds,
                  "%s publishes %s with the DS set its child asked for: %s" % (reg, name, got))
    check("2 change sets applied by the registries, 0 failed" in out,
          "epp send says both change sets were applied")
    report = out[out.find("cdscan scan report"):]
    test_part = report[report.find("registry profile nic-test"):]
    check("registry profile nic-net: 2 domains scanned, 1 change sets created" in report and
          "registry profile nic-test: 3 domains scanned, 1 change sets created" in report and
          "florist.test." in test_part and "cds-cdnskey-mismatch" in test_part,
          "the report groups by registry, with florist.test's rejection under nic-test")
    mails = {}
    for path in glob.glob(os.path.join(work, "registrar", "mail", "*", "new", "*")):
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f, policy=email.policy.default)
        mails.setdefault(os.path.basename(os.path.dirname(os.path.dirname(path))), []).append(m)
    check(sorted(mails) == ["anna@bakery.example", "ben@florist.example", "dan@garage.example"],
          "mail for exactly the customers whose domain changed or was refused: %s"
          % sorted(mails))
    for who, zone, reg in (("anna@bakery.example", "bakery.test.", "nic-test"),
                           ("dan@garage.example", "garage.net.", "nic-net")):
        ms = mails.get(who, [])
        body = ms[0].get_content() if len(ms) == 1 else ""
        new = keys(zone, ["new"])[0]
        check(len(ms) == 1 and ms[0]["To"] == who and zone.rstrip(".") in ms[0]["Subject"] and
              new in body.replace("\n", " "),
              "%s: one mail, to the customer, naming %s and the DS added (%s...): %s"
              % (who, zone, new[:20], [(m["To"], m["Subject"]) for m in ms]))
    ms = mails.get("ben@florist.example", [])
    body = ms[0].get_content() if len(ms) == 1 else ""
    check(len(ms) == 1 and "florist.test" in ms[0]["Subject"] and
          "do not describe the same keys" in body,
          "florist.test's customer: one mail saying why its signal was refused: %s %r"
          % ([m["Subject"] for m in ms], body[:300]))
    finish()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
    else:
        sys.exit(run_in_own_netns(__file__, sys.argv[1:], "walkthrough_test"))


if __name__ == "__main__":
    main()
