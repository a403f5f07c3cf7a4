#!/usr/bin/python3
"""A small EPP server for the lab (RFC 5730, 5731, 5732, 5734, 5910): TLS on a
loopback address, 4-octet length framing, greeting, login, domain and host
info/create/update/delete with secDNS-1.1, logout.  It keeps the registry's
state in memory and enforces what makes command order matter: a domain
cannot name an in-zone host object that does not exist (2303), a host object
still named by a domain cannot be deleted (2305), a host cannot be created
twice (2302).  Every command is checked with xmllint against the EPP
schemas when --schemas is given (2001 when invalid).

A script (DIR/script.json, read at each command) makes it misbehave per
object name: {"rollover.test": ["drop-after", "ok"]} consumes one entry per
command for that object: "ok", "drop-before" (close without applying),
"drop-after" (apply, then close without answering), "slow:SECONDS" (wait,
then answer), or a result code such as "2400" (answer it, apply nothing).
The key "*" is consumed by every non-info command whose name has no steps
of its own: {"*": ["ok", "ok", "drop-after"]} drops the connection at the
third command, whatever it is (the fault campaign's "at a random moment").

A status file (DIR/status.json, read at each command) gives domains
statuses (RFC 5731 §2.3): {"locked.test": ["serverUpdateProhibited"]}.
<info> shows them; a domain with clientUpdateProhibited or
serverUpdateProhibited answers every <update> with 2304 (object status
prohibits operation) and applies nothing.

Logs in DIR: received.jsonl (every command, with its schema verdict) and
applied.jsonl (every change applied, with its clTRID): the tests read them
to prove nothing was applied twice.  DIR/state.json is the registry's state
(every domain's NS and DS, every host's addresses), rewritten atomically
after each change applied: what a test compares with what it asked for.

The registry's state starts from a parent zone file (--zone: NS, DS and
in-zone glue, written one record per line with absolute owners, as the lab
writes test.zone).

With --publish LABDIR the registry also publishes: every domain update it
applies for a domain below one of the lab's TLDs rewrites that TLD's zone
(the domain's NS, DS and in-bailiwick glue from the state), signs it with
the lab's TLD key, bumps the serial and makes the lab's NSD reload it
(lab.py's publish_delegation), before it answers; DIR/published.jsonl
records each (time, name, clTRID, serial, NS, DS).  The parent's DS and NS
then really change, as resolvers see them: a closed loop for the lab.

Usage: epp_server.py --port N --cert PEM --key PEM --dir DIR [--zone FILE]
                     [--address 127.0.0.1] [--user U --password P] [--schemas DIR]
                     [--client-ca PEM]  (then a client certificate is required)
                     [--publish LABDIR]"""

import argparse
import json
import os
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402  (publish_delegation: the closed loop)

LAB_TLDS = lab.TLDS

EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOM = "urn:ietf:params:xml:ns:domain-1.0"
HOST = "urn:ietf:params:xml:ns:host-1.0"
SEC = "urn:ietf:params:xml:ns:secDNS-1.1"
N = {"e": EPP, "d": DOM, "h": HOST, "s": SEC}

STATE = {"domains": {}, "hosts": {}, "svtrid": 0}
LOCK = threading.Lock()
PUBLISH_LOCK = threading.Lock()
ARGS = None


def log(name, entry):
    with open(os.path.join(ARGS.dir, name), "a") as f:
        f.write(json.dumps(entry) + "\n")


def esc(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def response(code, msg, cltrid, resdata="", extension=""):
    with LOCK:
        STATE["svtrid"] += 1
        sv = "LAB-%d" % STATE["svtrid"]
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<epp xmlns="%s"><response><result code="%d"><msg>%s</msg></result>%s%s'
            '<trID>%s<svTRID>%s</svTRID></trID></response></epp>'
            % (EPP, code, esc(msg), resdata, extension,
               "<clTRID>%s</clTRID>" % esc(cltrid) if cltrid else "", sv))


GREETING = ('<?xml version="1.0" encoding="UTF-8"?><epp xmlns="%s"><greeting>'
            '<svID>cdscan lab EPP</svID><svDate>2026-11-29T00:00:00Z</svDate><svcMenu>'
            '<version>1.0</version><lang>en</lang><objURI>%s</objURI><objURI>%s</objURI>'
            '<svcExtension><extURI>%s</extURI></svcExtension></svcMenu><dcp><access><all/>'
            '</access><statement><purpose><admin/></purpose><recipient><ours/></recipient>'
            '<retention><stated/></retention></statement></dcp></greeting></epp>'
            % (EPP, DOM, HOST, SEC))


def valid(xml):
    """xmllint against epp-wrapper.xsd; None when no schemas were given."""
    if not ARGS.schemas:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(xml)
    try:
        p = subprocess.run(["xmllint", "--noout", "--schema",
                            os.path.join(ARGS.schemas, "epp-wrapper.xsd"), f.name],
                           capture_output=True, text=True)
        return p.returncode == 0
    finally:
        os.unlink(f.name)


def script_step(name):
    path = os.path.join(ARGS.dir, "script.json")
    with LOCK:
        try:
            script = json.load(open(path))
        except (OSError, ValueError):
            return "ok"
        key = name if script.get(name) else "*"
        steps = script.get(key, [])
        if not steps:
            return "ok"
        step = steps.pop(0)
        script[key] = steps
        with open(path + ".tmp", "w") as f:
            json.dump(script, f)
        os.replace(path + ".tmp", path)
        return step


def statuses(name):
    """The statuses DIR/status.json gives the domain name (none: [])."""
    try:
        return list(json.load(open(os.path.join(ARGS.dir, "status.json"))).get(name, []))
    except (OSError, ValueError):
        return []


UPDATE_LOCKS = ("clientUpdateProhibited", "serverUpdateProhibited")


def dump_state():
    """DIR/state.json from STATE (the caller holds LOCK)."""
    path = os.path.join(ARGS.dir, "state.json")
    out = {"domains": {n: {k: sorted(v) for k, v in d.items()}
                       for n, d in STATE["domains"].items()},
           "hosts": {n: sorted(a) for n, a in STATE["hosts"].items()}}
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, sort_keys=True)
    os.replace(path + ".tmp", path)


def domain(name):
    return STATE["domains"].setdefault(name, {"ns": set(), "ds": set(), "keys": set()})


def in_zone(host, name):
    return host.endswith("." + name)


def ds_text(el):
    return "%s %s %s %s" % tuple(el.findtext("s:" + k, "", N).strip()
                                 for k in ("keyTag", "alg", "digestType", "digest"))


def key_text(el):
    return "%s %s %s %s" % tuple(el.findtext("s:" + k, "", N).strip()
                                 for k in ("flags", "protocol", "alg", "pubKey"))


def apply_command(cmd, verb, obj, ext):
    """Apply one command to the state: (code, message, resData, extension)."""
    name = (obj.findtext("d:name", None, N) or obj.findtext("h:name", "", N)).strip().lower()
    with LOCK:
        if obj.tag == "{%s}info" % DOM:
            d = STATE["domains"].get(name)
            if d is None:
                return 2303, "Object does not exist", "", ""
            ns = "".join("<domain:hostObj>%s</domain:hostObj>" % n for n in sorted(d["ns"]))
            st = "".join('<domain:status s="%s"/>' % esc(x) for x in statuses(name))
            res = ('<resData><domain:infData xmlns:domain="%s"><domain:name>%s</domain:name>'
                   '<domain:roid>LAB-1</domain:roid>%s%s<domain:clID>lab</domain:clID>'
                   '</domain:infData></resData>'
                   % (DOM, name, st, "<domain:ns>%s</domain:ns>" % ns if ns else ""))
            sec = "".join(
                "<secDNS:dsData><secDNS:keyTag>%s</secDNS:keyTag><secDNS:alg>%s</secDNS:alg>"
                "<secDNS:digestType>%s</secDNS:digestType><secDNS:digest>%s</secDNS:digest>"
                "</secDNS:dsData>" % tuple(x.split()) for x in sorted(d["ds"]))
            sec += "".join(
                "<secDNS:keyData><secDNS:flags>%s</secDNS:flags><secDNS:protocol>%s"
                "</secDNS:protocol><secDNS:alg>%s</secDNS:alg><secDNS:pubKey>%s"
                "</secDNS:pubKey></secDNS:keyData>" % tuple(x.split()) for x in sorted(d["keys"]))
            ext_out = ('<extension><secDNS:infData xmlns:secDNS="%s">%s</secDNS:infData>'
                       '</extension>' % (SEC, sec)) if sec else ""
            return 1000, "Command completed successfully", res, ext_out
        if obj.tag == "{%s}info" % HOST:
            h = STATE["hosts"].get(name)
            if h is None:
                return 2303, "Object does not exist", "", ""
            addrs = "".join('<host:addr ip="%s">%s</host:addr>' % ("v6" if ":" in a else "v4", a)
                            for a in sorted(h))
            return (1000, "Command completed successfully",
                    '<resData><host:infData xmlns:host="%s"><host:name>%s</host:name>'
                    '<host:roid>LAB-H</host:roid>%s<host:clID>lab</host:clID></host:infData>'
                    '</resData>' % (HOST, name, addrs), "")
        if obj.tag == "{%s}create" % HOST:
            if name in STATE["hosts"]:
                return 2302, "Object exists", "", ""
            STATE["hosts"][name] = {a.text.strip() for a in obj.findall("h:addr", N)}
            return 1000, "Command completed successfully", "", ""
        if obj.tag == "{%s}update" % HOST:
            h = STATE["hosts"].get(name)
            if h is None:
                return 2303, "Object does not exist", "", ""
            for a in obj.findall("h:add/h:addr", N):
                h.add(a.text.strip())
            for a in obj.findall("h:rem/h:addr", N):
                h.discard(a.text.strip())
            return 1000, "Command completed successfully", "", ""
        if obj.tag == "{%s}delete" % HOST:
            if name not in STATE["hosts"]:
                return 2303, "Object does not exist", "", ""
            if any(name in d["ns"] for d in STATE["domains"].values()):
                return 2305, "Object association prohibits operation", "", ""
            del STATE["hosts"][name]
            return 1000, "Command completed successfully", "", ""
        if obj.tag == "{%s}update" % DOM:
            if any(x in UPDATE_LOCKS for x in statuses(name)):
                return 2304, "Object status prohibits operation", "", ""
            d = domain(name)
            add = [(e.findtext("d:hostName", "", N) if e.tag.endswith("hostAttr") else e.text)
                   .strip().lower() for e in obj.findall("d:add/d:ns/*", N)]
            rem = [(e.findtext("d:hostName", "", N) if e.tag.endswith("hostAttr") else e.text)
                   .strip().lower() for e in obj.findall("d:rem/d:ns/*", N)]
            for h in add:
                if in_zone(h, name) and h not in STATE["hosts"] and \
                        not obj.findall("d:add/d:ns/d:hostAttr", N):
                    return 2303, "Object does not exist: host %s" % h, "", ""
            d["ns"] -= set(rem)
            d["ns"] |= set(add)
            upd = ext.find("s:update", N) if ext is not None else None
            if upd is not None:
                if upd.find("s:rem/s:all", N) is not None:
                    d["ds"].clear()
                    d["keys"].clear()
                for e in upd.findall("s:rem/s:dsData", N):
                    d["ds"].discard(ds_text(e))
                for e in upd.findall("s:add/s:dsData", N):
                    d["ds"].add(ds_text(e))
                for e in upd.findall("s:add/s:keyData", N):
                    d["keys"].add(key_text(e))
            return 1000, "Command completed successfully", "", ""
    return 2101, "Unimplemented command", "", ""


def publish(name, cltrid):
    """The domain's delegation as the state has it, into the lab's TLD zone
    (--publish): served before the command is answered."""
    tld = next((t for t in LAB_TLDS if in_zone(name, t.rstrip("."))), None)
    if tld is None:
        return
    # One publication at a time, each reading the state it publishes: two
    # updates in two threads must not publish the older state last.
    with PUBLISH_LOCK:
        with LOCK:
            d = domain(name)
            ns, ds = sorted(d["ns"]), sorted(d["ds"])
            glue = {h: sorted(STATE["hosts"].get(h, ())) for h in ns if in_zone(h, name)}
        publish_state(tld, name, cltrid, ns, ds, glue)


def publish_state(tld, name, cltrid, ns, ds, glue):
    try:
        serial = lab.publish_delegation(ARGS.publish, tld, name, ns, ds, glue)
    except (lab.LabError, OSError) as e:
        # Applied but not published: the test reading published.jsonl sees why.
        log("published.jsonl", {"time": time.time(), "name": name, "cltrid": cltrid,
                                "error": str(e)})
        return
    log("published.jsonl", {"time": time.time(), "name": name, "cltrid": cltrid,
                            "serial": serial, "ns": ns, "ds": ds})


def handle(xml):
    """One EPP data unit: (response text or None to drop, close after?)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return response(2001, "Command syntax error", ""), False
    cmd = root.find("e:command", N)
    if cmd is None:
        return response(2001, "Command syntax error", ""), False
    cltrid = cmd.findtext("e:clTRID", "", N)
    ok = valid(xml)
    verb = next((c for c in cmd if c.tag != "{%s}clTRID" % EPP and
                 c.tag != "{%s}extension" % EPP), None)
    vname = verb.tag.split("}")[1] if verb is not None else "?"
    obj = verb[0] if verb is not None and len(verb) else None
    name = ""
    if obj is not None:
        name = (obj.findtext("d:name", None, N) or obj.findtext("h:name", "", N)).strip().lower()
    log("received.jsonl", {"cltrid": cltrid, "command": vname, "object": obj.tag if obj is not None
                           else None, "name": name, "valid": ok})
    if ok is False:
        return response(2001, "Command syntax error (schema)", cltrid), False
    if vname == "login":
        good = (cmd.findtext("e:login/e:clID", "", N) == ARGS.user and
                cmd.findtext("e:login/e:pw", "", N) == ARGS.password)
        return response(1000 if good else 2200,
                        "Command completed successfully" if good else "Authentication error",
                        cltrid), not good
    if vname == "logout":
        return response(1500, "Command completed successfully; ending session", cltrid), True
    if obj is None:
        return response(2001, "Command syntax error", cltrid), False
    ext = cmd.find("e:extension", N)
    step = "ok" if vname == "info" else script_step(name)
    if step == "drop-before":
        return None, True
    if step.isdigit():
        return response(int(step), "Scripted failure %s" % step, cltrid), False
    if step.startswith("slow:"):
        time.sleep(float(step[5:]))
    code, msg, res, ext_out = apply_command(cmd, vname, obj, ext)
    if vname != "info" and code == 1000:
        with LOCK:
            log("applied.jsonl", {"cltrid": cltrid, "command": vname, "name": name,
                                  "time": time.time()})
            dump_state()
        if ARGS.publish and obj.tag == "{%s}update" % DOM:
            publish(name, cltrid)
    if step == "drop-after":
        return None, True
    return response(code, msg, cltrid, res, ext_out), False


class Handler(socketserver.BaseRequestHandler):
    def send(self, text):
        data = text.encode()
        self.request.sendall(struct.pack(">I", len(data) + 4) + data)

    def read(self):
        hdr = b""
        while len(hdr) < 4:
            chunk = self.request.recv(4 - len(hdr))
            if not chunk:
                return None
            hdr += chunk
        n = struct.unpack(">I", hdr)[0] - 4
        body = b""
        while len(body) < n:
            chunk = self.request.recv(n - len(body))
            if not chunk:
                return None
            body += chunk
        return body.decode()

    def handle(self):
        try:
            self.send(GREETING)
            while True:
                xml = self.read()
                if xml is None:
                    return
                out, close = handle(xml)
                if out is not None:
                    self.send(out)
                if close:
                    return
        except (OSError, ssl.SSLError):
            return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx):
        super().__init__(addr, Handler)
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(30)
        try:
            return self.ctx.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError):
            sock.close()
            raise


def load_zone(path):
    """NS, DS and glue of a lab parent zone into the state."""
    for line in open(path):
        f = line.split()
        if len(f) < 3 or not f[0].endswith(".") or f[0] in ("@",):
            continue
        owner, rtype, rest = f[0].rstrip(".").lower(), f[1], f[2:]
        if rtype == "NS":
            domain(owner)["ns"].add(rest[0].rstrip(".").lower())
        elif rtype == "DS" and len(rest) == 4:
            domain(owner)["ds"].add("%s %s %s %s" % (rest[0], rest[1], rest[2], rest[3].upper()))
        elif rtype in ("A", "AAAA"):
            STATE["hosts"].setdefault(owner, set()).add(rest[0])


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--user", default="lab-registrar")
    p.add_argument("--password", default="lab-password")
    p.add_argument("--schemas")
    p.add_argument("--zone")
    p.add_argument("--client-ca", help="require a client certificate signed by this CA")
    p.add_argument("--publish", metavar="LABDIR",
                   help="apply domain updates to the lab's TLD zones and reload them")
    ARGS = p.parse_args()
    if ARGS.zone:
        load_zone(ARGS.zone)
    dump_state()
    if not ARGS.address.startswith("127.") and ARGS.address != "::1":
        sys.exit("epp_server: loopback addresses only")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(ARGS.cert, ARGS.key)
    if ARGS.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(ARGS.client_ca)
    srv = Server((ARGS.address, ARGS.port), ctx)
    with open(os.path.join(ARGS.dir, "ready"), "w") as f:
        f.write(str(os.getpid()))
    srv.serve_forever()


if __name__ == "__main__":
    main()
