#!/usr/bin/python3
"""The layers of src/ kept apart, and functions kept short.

    layers.py SRC_DIR

Project headers are kept apart by the build (each layer's library sees only
its own headers and those of the layers it links; CMakeLists.txt).  This
check covers what the build cannot: which foreign library's headers each
folder may include (a policy that includes <uv.h> compiles, because libuv's
headers are on the system path, but it has become an engine), and that no
function grows past MAX_LINES lines (STYLE.md: decisions are stages, not
ladders).  Exit 1 with one line per finding.
"""
import os
import re
import sys

# Foreign headers, by the library they belong to.
FOREIGN = {
    "libuv": re.compile(r"^uv\.h$|^uv/"),
    "libpq": re.compile(r"^libpq-fe\.h$|^libpq/"),
    "json-c": re.compile(r"^json-c/"),
    "libyaml": re.compile(r"^yaml\.h$"),
    "libxml2": re.compile(r"^libxml/"),
    "openssl": re.compile(r"^openssl/"),
    "ldns": re.compile(r"^ldns/"),
    "getdns": re.compile(r"^getdns/"),
    "libsystemd": re.compile(r"^systemd/"),
    "uthash": re.compile(r"^uthash\.h$"),
    "libmicrohttpd": re.compile(r"^microhttpd\.h$"),
    "libcurl": re.compile(r"^curl/"),
}

# What each folder (or file) of src/ may include of them.
ALLOWED = {
    "util": set(), "log": set(),
    "dns": {"openssl"},
    "dns/transport.c": {"libuv"}, "dns/trust.c": {"libuv"},
    "zone": {"ldns"},
    "model": {"json-c"},
    "conf": {"libyaml"},
    "policy": set(),
    "scan": {"libuv"},
    "db": {"libpq", "json-c"},
    "portfolio": {"json-c"},
    "report": {"json-c"},
    "pipeline": {"libuv"},
    "epp": {"libxml2", "openssl"},
    "outbox": {"openssl"},
    # Notifications: webhooks (libcurl, HMAC by OpenSSL), notices' JSON.
    "notifier": {"libcurl", "openssl", "json-c"},
    # The HTTP endpoint; the daemon's loop, NOTIFY listener, sd_notify and
    # the rate limiters' hash tables.
    "daemon": {"libmicrohttpd", "libuv", "libsystemd", "uthash"},
    "cli": set(), "cmd": {"libuv"}, "main.c": set(),
}

MAX_LINES = 80
INCLUDE = re.compile(r'^\s*#\s*include\s*<([^>]+)>')


def allowed_for(rel):
    if rel in ALLOWED:
        return ALLOWED[rel]
    return ALLOWED.get(rel.split("/")[0])


def check_includes(rel, lines, out):
    allowed = allowed_for(rel)
    if allowed is None:
        out.append("%s: a folder the layering check does not know: add it to ALLOWED" % rel)
        return
    for n, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        for lib, pat in FOREIGN.items():
            if pat.search(m.group(1)) and lib not in allowed:
                out.append("%s:%d: includes <%s> (%s), which this layer may not use"
                           % (rel, n, m.group(1), lib))


def check_lengths(rel, lines, out):
    """Function bodies: from a line '{' at column 0 to the next '}'."""
    start = name = None
    for n, line in enumerate(lines, 1):
        if line.startswith("{") and start is None:
            start = n
            k = n - 2
            while k >= 0 and not re.match(r"^[a-z_]", lines[k]):
                k -= 1
            name = lines[k].strip() if k >= 0 else "?"
        elif line.startswith("}") and start is not None:
            length = n - start + 1
            if length > MAX_LINES and "=" not in name:
                out.append("%s:%d: %d lines: %s" % (rel, start, length, name))
            start = None


def main():
    src = sys.argv[1]
    out = []
    for root, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().split("\n")
            check_includes(rel, lines, out)
            if f.endswith(".c"):
                check_lengths(rel, lines, out)
    for o in out:
        print(o)
    print("layers: %d finding%s" % (len(out), "" if len(out) == 1 else "s"))
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
