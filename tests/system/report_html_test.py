#!/usr/bin/python3
"""The HTML scan report in a real browser: scan the lab (dry run) into an
HTML report, open it in headless Chromium with #reason=bogus, and check the
DOM after the page's own script ran: exactly the bogus domains are shown,
every row of the JSON report is in the table, and the chart has a bar per
reason.  Usage: report_html_test.py CDSCAN LAB_DIR"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from labtest import Database, check, finish, load_lab, must, psql


def main():
    binary, labdir = sys.argv[1], sys.argv[2]
    lab = load_lab(labdir)
    browser = shutil.which("chromium")
    if not check(browser, "chromium is installed (contrib/install-deps.sh installs it)"):
        finish()
    tmp = tempfile.mkdtemp()
    with Database(lab, "html") as database:
        db = database.conninfo
        conf = os.path.join(tmp, "c.yaml")
        open(conf, "w").write("database: \"%s\"\nresolver:\n  addresses: [%s]\n  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\nscan:\n"
                              "  timeout: 1s\n  retries: 2\n" % (db, lab["resolver"], lab["trust_anchor"]))
        run = lambda *a: subprocess.run([binary, "-q", "-c", conf, *a], capture_output=True, text=True)
        must(run("db", "init"), "db init")
        must(run("import", "--zone", os.path.join(lab["dir"], "zones", "127.53.0.2",
                                                "test.zone")), "import")
        html, js = os.path.join(tmp, "report.html"), os.path.join(tmp, "report.json")
        p = run("scan", "--dry-run", "--report", html, "--format", "html")
        check(p.returncode == 0 and os.path.getsize(html) > 0, "HTML report written")
        # The same scan again as JSON, for the expected rows.
        psql(db, "UPDATE delegations SET next_scan_at = now()")
        must(run("scan", "--dry-run", "--report", js, "--format", "json"),
             "the same scan as a JSON report")
        rows = json.load(open(js))["domains"]
        bogus = sorted(v["domain"] for v in rows if "bogus" in v["ds"]["reasons"])
        text = open(html).read()
        check("<script src" not in text and "<link" not in text and "http://" not in
              text.replace('xmlns="http://www.w3.org/2000/svg"', ""),
              "self-contained: no external script, style or link")
        p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                            "--no-first-run", "--disable-background-networking",
                            "--disable-component-update", "--disable-sync",
                            "--user-data-dir=" + os.path.join(tmp, "profile"), "--dump-dom",
                            "file://" + html + "#reason=bogus"],
                           capture_output=True, text=True, timeout=120)
        must(p, "chromium --dump-dom")
        dom = p.stdout
        trs = re.findall(r'<tr data-reasons="([^"]*)"( class="([^"]*)")?><td>([^<]*)</td>', dom)
        check(len(trs) == len(rows), "the table has a row per reported domain (%d of %d)"
              % (len(trs), len(rows)))
        shown = sorted(t[3] for t in trs if "hidden" not in t[2])
        check(shown == bogus and len(bogus) > 0,
              "#reason=bogus shows exactly the bogus domains: %s (want %s)" % (shown, bogus))
        m = re.search(r'<span id="shown">(\d+) shown</span>', dom)
        check(m is not None and int(m.group(1)) == len(bogus), "the page counts what it shows")
        reasons = set(json.load(open(js))["summary"]["reasons"])
        bars = set(re.findall(r'<rect class="bar" data-reason="([a-z-]+)"', dom))
        check(bars == reasons, "the chart has bars for every reason (%d)" % len(bars))
    shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
