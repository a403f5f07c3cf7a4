#!/usr/bin/python3
"""The scan report per registry profile, with trends against the previous
scan (issue #19), on the lab: two profiles (nic-test for test., nic-net for
net., both parent zones imported) and a delegation under none.  Scans
alternate between the default policy and one without algorithm 13, which
turns every DS update the lab's children ask for into a rejection
(algorithm-not-allowed) and back:

  A real, default   every domain a first scan; its rejections are new
  B real, strict    the DS updates become new rejections
  C dry,  default   compared with the newest result of any kind (B): fixed
  D real, strict    compared with B (real), not C (dry): still rejected
  E real, strict    B's row of rollover.test rewritten in psql to another
                    reason first: a new rejection, "rejected for a
                    different reason"
  F real, default   text report: fixed, grouped by profile
  G real, strict    HTML report in headless Chromium: the profile table,
                    the trends, a tbody per profile, no console error

Every report's trends are checked against what the reports before it say
(the expected sets are computed from the earlier report's rows), and
against fixed anchors (rollover.test).  Usage: report_trends_test.py
CDSCAN LAB_DIR"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from labtest import Database, all_passed, check, finish, load_lab, must, psql
from promcheck import chromium_dom

ANCHOR = "rollover.test."  # a DS update with algorithm-13 keys (10-ds.toml)
ORPHAN = "orphan.example."  # under no profile


def rejected(v):
    """The reasons of a verdict's rejected sides (empty: not rejected)."""
    out = []
    for side in ("ds", "ns"):
        if v[side]["action"] == "reject":
            out += v[side]["reasons"]
    return out


def expected_trends(before, now):
    """(new, fixed, still) domain sets from two reports' rows; before None:
    every domain's first scan."""
    prev = {v["domain"]: rejected(v) for v in (before or {}).get("domains", [])}
    cur = {v["domain"]: rejected(v) for v in now["domains"]}
    new = {d for d, r in cur.items() if r and (not prev.get(d) or set(prev[d]) != set(r))}
    still = {d for d, r in cur.items() if r and prev.get(d) and set(prev[d]) == set(r)}
    fixed = {d for d, r in prev.items() if r and not cur.get(d)}
    return new, fixed, still


def groups(rep):
    """profile name (None: no profile) -> its object in registries."""
    reg = rep.get("registries", {})
    out = dict(reg.get("profiles", {}))
    if reg.get("no_profile") is not None:
        out[None] = reg["no_profile"]
    return out


def check_trends(rep, before, what):
    """The report's trend lists and counts equal what before and rep's rows
    give, per profile and in total."""
    new, fixed, still = expected_trends(before, rep)
    got_new, got_fixed, n_still = set(), set(), 0
    for name, g in groups(rep).items():
        t = g["trends"]
        got_new |= {x["domain"] for x in t["new_rejection_domains"]}
        got_fixed |= {x["domain"] for x in t["fixed_domains"]}
        n_still += t["still_rejected"]
        check(t["new_rejections"] == len(t["new_rejection_domains"]) and
              t["fixed"] == len(t["fixed_domains"]),
              "%s: %s: the counts are the lists' lengths" % (what, name))
        rows = {v["domain"] for v in rep["domains"] if v.get("registry") == name}
        check({x["domain"] for x in t["new_rejection_domains"]} <= rows,
              "%s: %s: its new rejections are its own rows" % (what, name))
    check(got_new == new, "%s: new rejections %s (want %s)" % (what, sorted(got_new), sorted(new)))
    check(got_fixed == fixed, "%s: fixed %s (want %s)" % (what, sorted(got_fixed), sorted(fixed)))
    check(n_still == len(still), "%s: %d still rejected (want %d)" % (what, n_still, len(still)))
    total = rep.get("trends") or {}
    check(total.get("new_rejections") == len(new) and total.get("fixed") == len(fixed) and
          total.get("still_rejected") == len(still),
          "%s: the top-level trends add up: %s" % (what, total))


def trend_entry(rep, kind, domain):
    """The entry of domain in the new_rejection_domains or fixed_domains of
    any profile, or None."""
    for g in groups(rep).values():
        for x in g["trends"][kind]:
            if x["domain"] == domain:
                return x
    return None


def check_grouping(rep, counts, what):
    """Each row carries its profile; each profile's summary counts its
    domains; the groups add up to the summary."""
    want = {"nic-test": ".test.", "nic-net": ".net."}
    rows_ok = all(v.get("registry") == next((n for n, s in want.items()
                                             if v["domain"].endswith(s)), None)
                  for v in rep["domains"])
    check(rows_ok and any(v["registry"] is None for v in rep["domains"]),
          "%s: every domain entry names its registry profile (null: none)" % what)
    g = groups(rep)
    check(set(g) == {"nic-test", "nic-net", None},
          "%s: groups nic-test, nic-net and no profile: %s" % (what, sorted(map(str, g))))
    for name, n in counts.items():
        s = g.get(name, {}).get("summary", {})
        check(s.get("domains") == n and sum(s.get("ds", {}).values()) == n and
              sum(s.get("ns", {}).values()) == n,
              "%s: %s: %d domains scanned, DS and NS actions add up: %s"
              % (what, name, n, s))
        rej = sum(1 for v in rep["domains"] if v.get("registry") == name and
                  v["ds"]["action"] == "reject")
        check(s.get("ds", {}).get("reject", 0) == rej,
              "%s: %s: DS reject %d, as its rows" % (what, name, rej))
    total = rep["summary"]
    for key in ("domains", "change_sets", "flagged_unreachable"):
        check(sum(x["summary"][key] for x in g.values()) == total[key],
              "%s: the groups' %s add up to the summary's" % (what, key))
    for side in ("ds", "ns"):
        for action, n in total[side].items():
            check(sum(x["summary"][side].get(action, 0) for x in g.values()) == n,
                  "%s: the groups' %s %s add up (%d)" % (what, side, action, n))


def html_part(browser, tmp, html, counts):
    """The G report in the browser."""
    check("<script src" not in open(html).read(), "HTML: self-contained")
    # The console check must be able to fail: a copy with a broken script.
    broken = os.path.join(tmp, "broken.html")
    open(broken, "w").write(open(html).read().replace("<script>", "<script>nosuch();", 1))
    _, errs = chromium_dom("file://" + broken, tmp, console=True)
    check(errs, "HTML: a script error is seen on the console (%d lines)" % len(errs))
    dom, errs = chromium_dom("file://" + html + "#reason=algorithm-not-allowed", tmp,
                             console=True)
    check(not errs, "HTML: no console message: %s" % errs[:3])
    table = re.search(r'<table id="registries">(.*?)</table>', dom, re.S)
    rows = dict(re.findall(r'<tr data-registry="([^"]*)"><td>.*?</td><td class="num">(\d+)</td>',
                           table.group(1) if table else ""))
    want = {("" if k is None else k): str(v) for k, v in counts.items()}
    check(rows == want, "HTML: the profile table counts each profile's domains: %s" % rows)
    trends = re.search(r'<table class="trends" data-registry="nic-test">(.*?)</table>', dom, re.S)
    check(trends and re.search(r'<tr class="new-rejection"><td>%s</td>' % re.escape(ANCHOR),
                               trends.group(1)),
          "HTML: nic-test's trends list %s as a new rejection" % ANCHOR)
    bodies = re.findall(r'<tbody data-registry="([^"]*)">(.*?)</tbody>', dom, re.S)
    check([b[0] for b in bodies] == ["nic-net", "nic-test", ""],
          "HTML: a tbody per profile, no profile last: %s" % [b[0] for b in bodies])
    misplaced = [d for name, body in bodies
                 for d in re.findall(r'<tr data-reasons="[^"]*"(?: class="[^"]*")?><td>([^<]*)</td>',
                                     body)
                 if (name == "nic-test") != d.endswith(".test.") or
                 (name == "nic-net") != d.endswith(".net.")]
    check(not misplaced, "HTML: every domain row in its profile's tbody: %s" % misplaced)
    shown = re.findall(r'<tr data-reasons="([^"]*)"><td>', dom)
    check(shown and all("algorithm-not-allowed" in s for s in shown),
          "HTML: #reason=algorithm-not-allowed shows only those rows (%d)" % len(shown))


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    browser = shutil.which("chromium")
    if not check(browser, "chromium is installed (contrib/install-deps.sh installs it)"):
        finish()
    tmp = tempfile.mkdtemp()
    zones = os.path.join(lab["dir"], "zones", "127.53.0.2")
    with Database(lab, "trends") as database:
        db = database.conninfo

        def config(name, extra=""):
            path = os.path.join(tmp, name + ".yaml")
            with open(path, "w") as f:
                f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n"
                        "  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
                        "scan:\n  timeout: 1s\n  retries: 2\nregistries:\n"
                        "  - name: nic-test\n    tlds: [test]\n"
                        "  - name: nic-net\n    tlds: [net]\n%s"
                        % (db, lab["resolver"], lab["trust_anchor"], extra))
            return path

        base, strict = config("base"), config("strict", "policy:\n  algorithms: [8, 15]\n")
        run = lambda conf, *a: subprocess.run([binary, "-q", "-c", conf, *a],
                                              capture_output=True, text=True, timeout=600)
        must(run(base, "db", "init"), "db init")
        must(run(base, "import", "--zone", os.path.join(zones, "test.zone")), "import test.")
        must(run(base, "import", "--zone", os.path.join(zones, "net.zone")), "import net.")
        # Under no profile: a delegation of a zone no profile takes, served
        # by nobody (provider-a refuses it: ns-unreachable).
        psql(db, "INSERT INTO delegations (domain, zone, ns) VALUES ('%s', 'example.',"
                 " '{ns1.provider-a.net.}')" % ORPHAN)
        counts = {"nic-test": int(psql(db, "SELECT count(*) FROM delegations WHERE zone = 'test.'")),
                  "nic-net": int(psql(db, "SELECT count(*) FROM delegations WHERE zone = 'net.'")),
                  None: 1}
        check(counts["nic-test"] > 10 and counts["nic-net"] > 3,
              "both parent zones imported: %s" % counts)

        def scan(conf, name, fmt="json", dry=False):
            psql(db, "UPDATE delegations SET next_scan_at = now()")
            path = os.path.join(tmp, "%s.%s" % (name, fmt))
            args = ["scan", "--report", path, "--format", fmt] + (["--dry-run"] if dry else [])
            must(run(conf, *args), "scan %s" % name)
            return json.load(open(path)) if fmt == "json" else path

        a = scan(base, "A")
        check_grouping(a, counts, "A")
        check(a["trends"]["first_scans"] == a["summary"]["domains"] and
              a["trends"]["previous"] == "real",
              "A: every domain a first scan, compared with real scans: %s" % a["trends"])
        check_trends(a, None, "A")
        orphan = trend_entry(a, "new_rejection_domains", ORPHAN)
        check(orphan and orphan["previous"] is None and orphan["rejected"] and
              groups(a)[None]["trends"]["new_rejections"] == 1,
              "A: the orphan's first-scan rejection is new, under no profile: %s" % orphan)

        b = scan(strict, "B")
        check_grouping(b, counts, "B")
        check_trends(b, a, "B")
        x = trend_entry(b, "new_rejection_domains", ANCHOR)
        check(x and x["rejected"] == ["algorithm-not-allowed"] and x["ds"] == "reject" and
              x["previous"] and x["previous"]["ds"] == "update" and
              x["previous"]["rejected"] == [] and x["previous"]["dry_run"] is False and
              re.match(r"\d{4}-\d\d-\d\dT", x["previous"]["scanned_at"]),
              "B: %s newly rejected (algorithm-not-allowed), was an update: %s" % (ANCHOR, x))
        check(b["trends"]["still_rejected"] > 0, "B: some still rejected (the lab's rejects)")

        c = scan(base, "C", dry=True)
        check(c["trends"]["previous"] == "any", "C: a dry run compares with any result")
        check_trends(c, b, "C")
        x = trend_entry(c, "fixed_domains", ANCHOR)
        check(x and x["ds"] == "update" and "ds-updated" in x["reasons"] and
              x["previous"]["rejected"] == ["algorithm-not-allowed"],
              "C: %s fixed, was algorithm-not-allowed: %s" % (ANCHOR, x))

        d = scan(strict, "D")
        check_trends(d, b, "D (against B: C was a dry run)")
        check(trend_entry(d, "new_rejection_domains", ANCHOR) is None and
              groups(d)["nic-test"]["trends"]["new_rejections"] == 0,
              "D: %s not new: the dry run in between does not count" % ANCHOR)

        # D's result of the anchor rewritten to another reject reason.
        psql(db, "UPDATE scan_results SET verdict = jsonb_set(verdict::jsonb, '{ds,reasons}',"
                 " '[\"bogus\"]')::json"
                 " WHERE id = (SELECT max(s.id) FROM scan_results s JOIN delegations g"
                 " ON g.id = s.delegation_id WHERE g.domain = '%s')" % ANCHOR)
        e = scan(strict, "E")
        x = trend_entry(e, "new_rejection_domains", ANCHOR)
        check(x and x["rejected"] == ["algorithm-not-allowed"] and
              x["previous"]["rejected"] == ["bogus"],
              "E: rejected for a different reason than before is new: %s" % x)
        check(groups(e)["nic-test"]["trends"]["new_rejections"] == 1,
              "E: the only new rejection of nic-test")

        text = open(scan(base, "F", fmt="text")).read()
        parts = re.split(r"\n(?=registry profile |no registry profile:)", text)
        heads = [p.split(":")[0] for p in parts[1:]]
        check(heads == ["registry profile nic-net", "registry profile nic-test",
                        "no registry profile"], "F: text grouped by profile: %s" % heads)
        nt = next((p for p in parts if p.startswith("registry profile nic-test:")), "")
        check(nt.startswith("registry profile nic-test: %d domains scanned" % counts["nic-test"])
              and re.search(r"^  DS none \d+, update \d+(, [a-z]+ \d+)*, reject \d+; NS none \d+,"
                            r" update \d+, reject \d+$", nt, re.M),
              "F: nic-test's counts in the text")
        if not all_passed():
            print(text)
        fixed = nt.split("  fixed:\n")[1].split("\n  domains")[0] if "  fixed:\n" in nt else ""
        check(re.search(r"^    %s\s+now DS update" % re.escape(ANCHOR), fixed, re.M) and
              "before: rejected: algorithm-not-allowed" in fixed,
              "F: %s listed as fixed under nic-test with its old reason" % ANCHOR)
        check(re.search(r"against the previous scan: \d+ new rejections, [1-9]\d* fixed, \d+ "
                        r"still rejected, 0 first scans", nt), "F: nic-test's trend counts")

        html_part(browser, tmp, scan(strict, "G", fmt="html"), counts)
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
