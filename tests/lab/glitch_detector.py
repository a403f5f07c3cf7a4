#!/usr/bin/python3
"""A glitch detector: what validating resolvers answer for a zone while it
changes.  Every INTERVAL (default 100 ms) each client (a source address of
its own) asks each resolver for each name and type (RD=1, DO=1; NAME/TYPE/
NXDOMAIN for a name that must be denied, validated), and every
answer is logged, one JSON object per line: time, resolver, client, name,
type, rcode (or "timeout", or "error: ..." for an answer that does not
parse), the AD bit and any Extended DNS Error (RFC 8914) the answer carries.  A glitch is any answer that is
not the expected rcode (NOERROR unless told) with AD: a SERVFAIL, a
timeout, or an answer the resolver did not validate.

    glitch_detector.py --resolver unbound=127.53.0.53 --resolver kresd=127.53.0.52 \\
        --client 127.53.9.1 --client 127.53.9.2 --query move.test/SOA \\
        --query move.test/TXT --query move.test/DNSKEY --log FILE

runs until SIGTERM or SIGINT and prints the counts.  From Python:
Detector(...).ready(), .start(), .counts(name, resolver), .mark(label),
.stop().  dnspython
(python3-dnspython)."""

import argparse
import json
import signal
import sys
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode


class Detector:
    def __init__(self, resolvers, clients, queries, logfile, interval=0.1, timeout=3.0):
        """resolvers: {name: address}; clients: source addresses; queries:
        [(name, type)] or [(name, type, rcode)]: the rcode expected (with AD
        always), NOERROR unless given (NXDOMAIN: a validated denial)."""
        self.resolvers, self.clients = resolvers, clients
        self.queries = [tuple(q) if len(q) == 3 else (q[0], q[1], "NOERROR") for q in queries]
        self.interval, self.timeout = interval, timeout
        self.log = open(logfile, "a")
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []
        self.answers = 0
        self.glitches = []        # the log entries of glitches
        self.by = {}              # (name, resolver) -> [answers, glitches]

    def start(self):
        for rname, raddr in self.resolvers.items():
            for client in self.clients:
                t = threading.Thread(target=self._run, args=(rname, raddr, client), daemon=True)
                t.start()
                self.threads.append(t)
        return self

    def _ask(self, raddr, client, name, rtype):
        q = dns.message.make_query(name, rtype, want_dnssec=True, payload=1232)
        q.flags |= dns.flags.RD
        try:
            r = dns.query.udp(q, raddr, timeout=self.timeout, source=client)
            if r.flags & dns.flags.TC:
                r = dns.query.tcp(q, raddr, timeout=self.timeout, source=client)
        except dns.exception.Timeout:
            return "timeout", False, None
        except Exception as e:  # noqa: BLE001  a malformed answer is a glitch too
            return "error: %s" % type(e).__name__, False, None
        # RFC 8914 Extended DNS Errors (option 15): why a resolver failed.
        ede = ["%d %s" % (int.from_bytes(o.to_wire()[:2], "big"),
                          o.to_wire()[2:].decode(errors="replace"))
               for o in r.options if o.otype == 15]
        return dns.rcode.to_text(r.rcode()), bool(r.flags & dns.flags.AD), ede or None

    def _run(self, rname, raddr, client):
        tick = time.monotonic()
        while not self.stopping.is_set():
            for name, rtype, want in self.queries:
                rcode, ad, ede = self._ask(raddr, client, name, rtype)
                entry = {"t": round(time.time(), 3), "resolver": rname, "client": client,
                         "name": name, "type": rtype, "rcode": rcode, "ad": ad,
                         "bad": rcode != want or not ad}
                if ede:
                    entry["ede"] = ede
                self._record(entry)
            tick += self.interval
            self.stopping.wait(max(0.0, tick - time.monotonic()))

    def _record(self, entry):
        bad = entry["bad"]
        with self.lock:
            self.answers += 1
            c = self.by.setdefault((entry["name"], entry["resolver"]), [0, 0])
            c[0] += 1
            if bad:
                c[1] += 1
                self.glitches.append(entry)
            self.log.write(json.dumps(entry) + "\n")

    def counts(self, name=None, resolver=None):
        """(answers, glitches), for one name and/or one resolver, or all."""
        with self.lock:
            sel = [c for (n, r), c in self.by.items()
                   if name in (None, n) and resolver in (None, r)]
            return sum(c[0] for c in sel), sum(c[1] for c in sel)

    def mark(self, label):
        """A line in the log between answers: where a step began."""
        with self.lock:
            self.log.write(json.dumps({"t": round(time.time(), 3), "mark": label}) + "\n")
            self.log.flush()

    def ready(self, limit=30.0):
        """Wait until every resolver answers every query NOERROR with AD
        (a resolver's very first resolution, cold, is not part of what is
        watched); the queries that never did, [] when all did."""
        left = [(r, a, q) for r, a in self.resolvers.items() for q in self.queries]
        deadline = time.monotonic() + limit
        while left and time.monotonic() < deadline:
            left = [(r, a, q) for r, a, q in left
                    if self._ask(a, self.clients[0], q[0], q[1])[:2] != (q[2], True)]
            if left:
                time.sleep(0.2)
        return ["%s %s/%s" % (r, q[0], q[1]) for r, _, q in left]

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(self.timeout + 1)
        with self.lock:
            self.log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resolver", action="append", required=True, help="NAME=ADDRESS")
    ap.add_argument("--client", action="append", required=True, help="source address")
    ap.add_argument("--query", action="append", required=True, help="NAME/TYPE")
    ap.add_argument("--log", required=True)
    ap.add_argument("--interval", type=float, default=0.1)
    args = ap.parse_args()
    d = Detector(dict(r.split("=", 1) for r in args.resolver), args.client,
                 [tuple(q.split("/")) for q in args.query], args.log, args.interval)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    cold = d.ready()
    if cold:
        sys.exit("never NOERROR with AD: %s" % ", ".join(cold))
    d.start()
    done.wait()
    d.stop()
    answers, glitches = d.counts()
    print("%d answers, %d glitches" % (answers, glitches))
    sys.exit(1 if glitches else 0)


if __name__ == "__main__":
    main()
