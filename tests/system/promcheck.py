"""What system tests of an HTTP endpoint share: a request with its status,
headers and body; a Prometheus scrape parsed by prometheus_client (the
official client library's parser, python3-prometheus-client) into
{sample name: {labels: value}}, with the format rules that parser does not
enforce checked on the text; and a page's DOM after headless Chromium ran
it.  Only the test scripts import prometheus_client: the lab itself needs
nothing beyond the standard library."""

import http.client
import os
import re
import shutil
import subprocess
import urllib.parse

from prometheus_client.parser import text_string_to_metric_families

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"


def request(url, method="GET", headers=None, body=None, timeout=30):
    """(status, {lower-case header: value}, body bytes) of one request on a
    fresh connection."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def labels_key(labels):
    """A sample's labels as a hashable key: sorted (name, value) pairs."""
    return tuple(sorted(labels.items()))


def parse(text):
    """{sample name: {labels key: value}} and {family name: type}, as
    prometheus_client reads the text (counters' family names lose _total
    there; sample names keep it)."""
    samples, types = {}, {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            series = samples.setdefault(s.name, {})
            key = labels_key(s.labels)
            if key in series:
                raise ValueError("series %s%s twice" % (s.name, dict(key)))
            series[key] = s.value
    return samples, types


NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def _family_of(name, declared):
    if name in declared:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and declared.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return None


def _lint_line(line, n, declared, helped, problems):
    if line.startswith("# HELP "):
        name = line.split(" ", 3)[2]
        if name in helped or name in declared:
            problems.append("line %d: HELP of %s after its TYPE or twice" % (n, name))
        helped.add(name)
    elif line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        if name in declared or name not in helped or not NAME.match(name):
            problems.append("line %d: TYPE of %s twice, without HELP or misnamed" % (n, name))
        if kind == "counter" and not name.endswith("_total"):
            problems.append("line %d: counter %s does not end in _total" % (n, name))
        declared[name] = kind
    elif not line.startswith("#"):
        m = SAMPLE.match(line)
        if not m:
            problems.append("line %d: not a sample: %r" % (n, line))
        elif _family_of(m.group(1), declared) is None:
            problems.append("line %d: %s before its TYPE" % (n, m.group(1)))
        elif m.group(3) is not None and "".join(
                x[0] + '="' + x[1] + '"' + x[2] for x in LABEL.findall(m.group(3))) != m.group(3):
            problems.append("line %d: labels not well formed: %r" % (n, m.group(3)))


def _lint_histograms(samples, declared, problems):
    for name, kind in declared.items():
        if kind != "histogram":
            continue
        buckets = samples.get(name + "_bucket", {})
        bounds = sorted((float(dict(k)["le"]), v) for k, v in buckets.items())
        counts = [v for _, v in bounds]
        if not bounds or bounds[-1][0] != float("inf"):
            problems.append("%s: no +Inf bucket" % name)
        elif counts != sorted(counts):
            problems.append("%s: buckets not cumulative: %s" % (name, bounds))
        elif samples.get(name + "_count", {}).get(()) != counts[-1]:
            problems.append("%s: _count is not the +Inf bucket" % name)


def lint(text, samples):
    """What the format (0.0.4) demands and prometheus_client lets pass: a
    final newline, HELP then TYPE once per family and before its samples,
    counters named *_total, well-formed labels, histograms with cumulative
    buckets ending in +Inf equal to _count.  A list of problems."""
    problems = [] if text.endswith("\n") else ["no final newline"]
    declared, helped = {}, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        _lint_line(line, n, declared, helped, problems)
    _lint_histograms(samples, declared, problems)
    return problems


def scrape_full(url):
    """One scrape: (status, content type, samples, types, problems) with
    samples and types as parse() gives them and problems as lint() finds
    them."""
    status, headers, body = request(url)
    text = body.decode("utf-8")
    samples, types = parse(text)
    return status, headers.get("content-type", ""), samples, types, lint(text, samples)


def scrape(url):
    """{sample name: {labels key: value}} of one scrape; raises ValueError
    unless it is a 200 in the 0.0.4 text format that keeps its rules."""
    status, ctype, samples, _, problems = scrape_full(url)
    if status != 200 or not ctype.startswith(METRICS_CONTENT_TYPE) or problems:
        raise ValueError("scrape of %s: %d %s %s" % (url, status, ctype, problems[:5]))
    return samples


def chromium_dom(url, profile_dir, timeout=120, console=False):
    """The DOM of url after headless Chromium loaded it and ran its scripts
    (--dump-dom), or raises when Chromium is missing or fails.  console:
    (DOM, the page's console messages: errors, CSP refusals, anything a
    script logged; --enable-logging writes them to stderr as CONSOLE
    lines)."""
    browser = shutil.which("chromium")
    if not browser:
        raise RuntimeError("chromium is not installed (contrib/install-deps.sh installs it)")
    p = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-proxy-server",
                        "--user-data-dir=" + os.path.join(profile_dir, "chromium"),
                        "--enable-logging=stderr", "--v=0", "--dump-dom", url],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("chromium exit %d: %s" % (p.returncode, p.stderr.strip()[-500:]))
    if console:
        return p.stdout, [line for line in p.stderr.splitlines()
                          if ":CONSOLE(" in line or ":CONSOLE:" in line or "Uncaught" in line]
    return p.stdout
