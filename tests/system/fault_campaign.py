#!/usr/bin/python3
"""A fault campaign (issue #16): ROUNDS rounds of `cdscan scan` and `cdscan
epp send` (epp-tls to the lab EPP server, tests/lab/epp_server.py), each
with one fault drawn at random, then reruns as an operator would until
nothing is left to do; after each round every change set must have been
applied exactly once at the registry: none lost, none duplicated, the
database and the registry agreeing.

Each round starts from the same place, so that what it must produce is
known: a database of its own (db init, import of the lab's test. zone)
and a fresh EPP server whose registry holds that same zone.  A first round
without a fault (round 0) records the change sets a full scan of the lab
makes (about 29: DS updates, deletes, bootstraps, CSYNC changes with host
objects created and deleted); every later round must make exactly those.

The faults (--faults picks some; one per round, each once in the first
rounds, then drawn at random):
  kill-scan      kill -9 of `cdscan scan` after a random delay
  kill-send      kill -9 of `cdscan epp send` after a random delay
  pg-scan        PostgreSQL restarted (lab.py pg-restart) during the scan
  pg-send        PostgreSQL restarted during the send
  drop-before    the EPP server closes the connection at a random command
                 without applying it
  drop-after     the EPP server applies a random command, then closes the
                 connection without answering (the idempotency case: the
                 sender must find the change in place and not send it again)
  disk-full      the send goes to the epp-spool adapter on a tiny tmpfs
                 (mounted in a mount namespace of the test's own: it
                 re-executes itself under `unshare --mount` when root; not
                 root, the fault is left out and says so) with a random
                 number of free pages; a spool reader (here, as a registry's
                 would be) takes files as they appear and applies them,
                 recognising a resend by its clTRID (CONTRACT.md "EPP
                 spool"); the operator frees space and reruns the send.
                 What was spooled before the disk filled must not be
                 spooled again: only the change set being written when it
                 filled may come again (with its clTRID)

The recovery, as an operator would do it: wait until the leases of what a
stopped scanner had claimed have ended, then `cdscan scan` and `cdscan epp
send`, again until both exit 0 and nothing is due, leased, pending or sent.

Checked after each round: the change sets are exactly round 0's (by domain
and kind, one each); each is done (spool: sent and read); each clTRID was
applied exactly once by the server (applied.jsonl) and no domain was
updated twice; the server's state (state.json) holds every change set's
proposed DS or NS set and glue, and every other domain as imported; no
scan group is half-written (labtest.TORN_SQL).  Then a table of faults x
outcomes: how often the fault landed while the program worked, the exit
codes and messages the faulted command showed, the reruns needed, change
sets applied exactly once, lost, duplicated, half-applied, and resends the
sender (or the spool reader) recognised.

The seed is printed; --seed S --rounds N replays a campaign, and --only R
one round of it (each round's draws come from its own generator).

In ctest (fault_campaign, RUN_SERIAL: it restarts the shared cluster) it
runs 10 rounds.  The 100-round campaign, by hand, on a running lab (in a
network namespace of its own, as every lab):

    unshare --net bash -c 'ip link set lo up &&
        tests/lab/lab.py up --dir /tmp/flab &&
        tests/system/fault_campaign.py BUILD/cdscan /tmp/flab --rounds 100;
        tests/lab/lab.py down --dir /tmp/flab'

Usage: fault_campaign.py CDSCAN LAB_DIR [--rounds N] [--seed S] [--only R]
                         [--faults F,F...]"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

from labtest import TORN_SQL, Database, check, epp_schemas, finish, load_lab, psql

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from epp_tls_test import CA, EppServer, lines  # noqa: E402

FAULTS = ["kill-scan", "kill-send", "pg-scan", "pg-send", "drop-before", "drop-after",
          "disk-full"]
NS_ENV = "CDSCAN_FAULT_CAMPAIGN_MOUNTNS"
PAGE = 4096


def log(text):
    print(text, flush=True)


class Campaign:
    def __init__(self, args):
        self.binary = os.path.abspath(args.cdscan)
        self.labdir = os.path.abspath(args.lab_dir)
        self.lab = load_lab(self.labdir)
        self.zone = os.path.join(self.lab["dir"], "zones", "127.53.0.2", "test.zone")
        self.tmp = tempfile.mkdtemp(prefix="cdscan-faults.")
        self.schemas, have, required = epp_schemas()
        if not have:
            if required:
                check(False, "the EPP schemas are required here but %s has no"
                      " epp-wrapper.xsd" % self.schemas)
                finish()
            log("note: no EPP schemas at %s: commands not schema-checked" % self.schemas)
            self.schemas = None
        ca = CA(os.path.join(self.tmp, "ca"), "fault-ca")
        self.cert = ca.leaf("server", "DNS:localhost,IP:127.0.0.1")
        self.ca = ca.pem
        self.pwfile = os.path.join(self.tmp, "pw")
        open(self.pwfile, "w").write("lab-password\n")
        self.spool = os.path.join(self.tmp, "spool")
        os.mkdir(self.spool)
        self.tmpfs = os.environ.get(NS_ENV) == "1" and self.mount_spool()
        self.expected = None      # {(domain, kind)} from round 0
        self.scan_s = 3.0         # round 0's durations: where the faults aim
        self.send_s = 2.0
        self.rows = defaultdict(Counter)   # fault -> outcome -> count
        self.codes = defaultdict(Counter)  # fault -> "exit N: message" -> count
        self.failed_rounds = []

    # --- the spool's tiny file system -------------------------------------

    def mount_spool(self):
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "cdscan-spool",
                            self.spool], capture_output=True, text=True)
        if p.returncode != 0:
            log("note: no tmpfs for the spool (%s): disk-full left out" % p.stderr.strip())
            return False
        return True

    def fill_spool(self, free_pages):
        """Fill the spool's file system, then give back free_pages pages."""
        filler = os.path.join(self.spool, ".filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while os.write(fd, b"\0" * PAGE * 16) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        size = os.path.getsize(filler) // PAGE * PAGE
        os.truncate(filler, max(0, size - free_pages * PAGE))
        return filler

    # --- one round's world -------------------------------------------------

    def config(self, db, port, adapter="epp-tls"):
        path = os.path.join(self.tmp, "%s.yaml" % adapter)
        open(path, "w").write(
            "database: \"%s\"\nresolver:\n  addresses: [%s]\n"
            "  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n"
            "scan:\n  timeout: 1s\n  retries: 2\n  lease: 3s\n  batch-size: 8\n"
            "output:\n  adapter: %s\n  spool-dir: %s\n"
            "registries:\n  - name: lab\n    tlds: [test]\n    epp:\n"
            "      server: 127.0.0.1\n      port: %d\n      username: lab-registrar\n"
            "      password-file: %s\n      ca-file: %s\n      timeout: 3s\n      retries: 2\n"
            % (db, self.lab["resolver"], self.lab["trust_anchor"], adapter, self.spool, port,
               self.pwfile, self.ca))
        return path

    def cmd(self, conf, *args):
        return [self.binary, "-c", conf, *args]

    def run(self, conf, *args):
        return subprocess.run(self.cmd(conf, *args), capture_output=True, text=True,
                              timeout=300)

    def pg_restart(self):
        subprocess.run([sys.executable, os.path.join(HERE, "..", "lab", "lab.py"),
                        "pg-restart", "--dir", self.labdir], check=True, capture_output=True)

    def wait_db(self, db):
        deadline = time.time() + 60
        while time.time() < deadline:
            if psql(db, "SELECT 1", strict=False) == "1":
                return
            time.sleep(0.1)

    # --- the faults --------------------------------------------------------

    def faulted(self, conf, args, delay, action):
        """Run cdscan ARGS, do action() after delay seconds; (process,
        whether it was still working when the fault came)."""
        p = subprocess.Popen(self.cmd(conf, *args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        while time.time() - t0 < delay and p.poll() is None:
            time.sleep(0.01)
        hit = p.poll() is None
        if hit:
            action(p)
        out, err = p.communicate(timeout=300)
        p.stdout_text, p.stderr_text = out, err
        return p, hit

    @staticmethod
    def said(p, err=None):
        """The exit code and the line a person would read."""
        text = err if err is not None else (p.stderr_text if hasattr(p, "stderr_text")
                                            else p.stderr) or ""
        msgs = [x for x in text.splitlines() if x.startswith("cdscan:") or " error: " in x]
        code = p.returncode
        first = msgs[-1] if msgs else ""
        # Numbers that differ from round to round out of the message.
        first = " ".join("N" if w.strip("(),;:").isdigit() else w for w in first.split())
        first = re.sub(r"/\S*/spool/\S+:", "SPOOL/FILE:", first)
        if "cdscan[" in first:
            first = first.split(": ", 1)[-1]
        return "exit %s%s" % ("-9 (killed)" if code == -9 else code,
                              (": " + first[:110]) if first else "")

    def inject(self, fault, rng, conf, db, server):
        """Scan and send with the fault; returns (hit, what was shown)."""
        kill = lambda p: p.send_signal(signal.SIGKILL)
        pgr = lambda p: self.pg_restart()
        if fault in ("kill-scan", "pg-scan"):
            delay = rng.uniform(0.05, self.scan_s)
            p, hit = self.faulted(conf, ["scan"], delay, kill if fault == "kill-scan" else pgr)
            return hit, self.said(p), delay
        if fault in ("kill-send", "pg-send"):
            s = self.run(conf, "scan")
            if s.returncode != 0:
                return False, "scan before the send: " + self.said(s), 0
            delay = rng.uniform(0.02, self.send_s)
            p, hit = self.faulted(conf, ["epp", "send"], delay,
                                  kill if fault == "kill-send" else pgr)
            return hit, self.said(p), delay
        if fault in ("drop-before", "drop-after"):
            # One connection dropped at a random command (of about 40).
            k = rng.randrange(0, self.commands)
            json.dump({"*": ["ok"] * k + [fault]},
                      open(os.path.join(server.dir, "script.json"), "w"))
            s = self.run(conf, "scan")
            p = self.run(conf, "epp", "send")
            left = json.load(open(os.path.join(server.dir, "script.json"))).get("*", [])
            return not left, self.said(p) if s.returncode == 0 else self.said(s), k
        if fault == "disk-full":
            return self.disk_full(rng, conf, db, server)
        raise ValueError(fault)

    def disk_full(self, rng, conf, db, server):
        s = self.run(conf, "scan")
        if s.returncode != 0:
            return False, "scan before the send: " + self.said(s), 0
        free = rng.randrange(0, len(self.expected) + 10)
        filler = self.fill_spool(free)
        p = self.run(conf, "epp", "send")
        # A registry's spool reader takes what has appeared so far.
        self.read_spool(server)
        os.unlink(filler)
        hit = p.returncode != 0
        return hit, self.said(p), free

    # --- a registry's spool reader ----------------------------------------

    def read_spool(self, server):
        """Send every complete file in the spool to the EPP server (host
        commands before and after the domain update as their names say),
        remove it once answered; a clTRID already applied is a resend
        (CONTRACT.md: recognisable by its clTRID) and is not sent again."""
        files = sorted(f for f in os.listdir(self.spool)
                       if f.endswith(".xml") and not f.startswith("."))
        if not files:
            return

        def order(f):
            m = re.match(r"^(.*?)-(\d+)(?:\.(before|after)-(\d+))?\.xml$", f)
            return (int(m.group(2)), {"before": 0, None: 1, "after": 2}[m.group(3)],
                    int(m.group(4) or 0))
        ctx = ssl.create_default_context(cafile=self.ca)
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as raw, \
                ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            def frame(text=None):
                if text is not None:
                    data = text.encode()
                    tls.sendall(struct.pack(">I", len(data) + 4) + data)
                hdr = b""
                while len(hdr) < 4:
                    hdr += tls.recv(4 - len(hdr))
                n = struct.unpack(">I", hdr)[0] - 4
                body = b""
                while len(body) < n:
                    body += tls.recv(n - len(body))
                return body.decode()
            frame()
            login = frame(
                '<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:'
                'epp-1.0"><command><login><clID>lab-registrar</clID><pw>lab-password</pw>'
                '<options><version>1.0</version><lang>en</lang></options><svcs><objURI>'
                'urn:ietf:params:xml:ns:domain-1.0</objURI><objURI>urn:ietf:params:xml:ns:'
                'host-1.0</objURI><svcExtension><extURI>urn:ietf:params:xml:ns:secDNS-1.1'
                '</extURI></svcExtension></svcs></login><clTRID>spool-reader</clTRID>'
                '</command></epp>')
            if 'code="1000"' not in login:
                raise RuntimeError("spool reader: login refused: " + login)
            applied = {a["cltrid"] for a in server.applied()}
            for f in sorted(files, key=order):
                path = os.path.join(self.spool, f)
                xml = open(path).read()
                cltrid = xml.split("<clTRID>")[1].split("</clTRID>")[0]
                if cltrid in applied:
                    self.spool_resends += 1
                    self.spool_resent.add(order(f)[0])
                else:
                    ans = frame(xml)
                    if 'code="1000"' not in ans:
                        raise RuntimeError("spool reader: %s: %s" % (f, ans[-300:]))
                    applied.add(cltrid)
                os.unlink(path)

    # --- the operator ------------------------------------------------------

    def quiescent(self, db):
        return psql(db, "SELECT (SELECT count(*) FROM delegations WHERE next_scan_at <= now())"
                        " + (SELECT count(*) FROM delegations d WHERE NOT EXISTS (SELECT 1"
                        " FROM scan_results s WHERE s.delegation_id = d.id))"
                        " + (SELECT count(*) FROM change_sets WHERE state IN ('pending',"
                        " 'sent'))") == "0"

    def wait_leases(self, db):
        """Until no delegation is leased by a scanner that stopped."""
        deadline = time.time() + 30
        while time.time() < deadline and psql(
                db, "SELECT count(*) FROM delegations WHERE leased_until > now()") != "0":
            time.sleep(0.2)

    @staticmethod
    def count(text, word):
        """N from the summary line 'scanned N delegations' or 'N change sets'."""
        for line in text.splitlines():
            w = line.split()
            if word == "scanned" and len(w) > 1 and w[0] == "scanned":
                return int(w[1])
            if word == "sets" and len(w) > 2 and w[1:3] == ["change", "sets"]:
                return int(w[0])
        return None

    def recover(self, conf, db, server, spool):
        """Rerun scan and send until nothing is left: (the outcome, what
        the failed reruns showed).  The outcome: "in the run" when the first
        rerun found nothing to scan or send (the faulted run finished the
        work itself, retrying), "1 rerun" or "2+ reruns" when it took that
        many, None when eight were not enough."""
        shown = []
        work = 0
        for n in range(1, 9):
            self.wait_db(db)
            self.wait_leases(db)
            s = self.run(conf, "scan")
            if s.returncode != 0:
                shown.append("rerun scan " + self.said(s))
                work += 1
                continue
            p = self.run(conf, "epp", "send")
            if spool:
                self.read_spool(server)
            if p.returncode != 0:
                shown.append("rerun send " + self.said(p))
                work += 1
                continue
            if self.count(s.stdout, "scanned") or self.count(p.stdout, "sets"):
                work += 1
            if spool:
                # The spool adapter leaves its change sets 'sent' (handed over).
                quiet = psql(db, "SELECT (SELECT count(*) FROM change_sets WHERE state ="
                                 " 'pending') + (SELECT count(*) FROM delegations WHERE"
                                 " next_scan_at <= now())") == "0"
            else:
                quiet = self.quiescent(db)
            if quiet:
                return ("in the run" if work == 0 else "1 rerun" if work == 1
                        else "2+ reruns"), shown
        return None, shown

    # --- the checks --------------------------------------------------------

    def change_sets(self, db):
        rows = []
        for r in psql(db, "SELECT c.id, d.domain, c.kind, c.state, c.cltrid,"
                          " coalesce(c.svtrid, ''), c.payload::text FROM change_sets c JOIN"
                          " delegations d ON d.id = c.delegation_id ORDER BY c.id").splitlines():
            i, domain, kind, state, cltrid, svtrid, payload = r.split("|", 6)
            rows.append({"id": int(i), "domain": domain, "kind": kind, "state": state,
                         "cltrid": cltrid, "svtrid": svtrid, "payload": json.loads(payload)})
        return rows

    def verify(self, db, server, initial, spool):
        """Outcome counts of one round and the problems found."""
        out, problems = Counter(), []
        rows = self.change_sets(db)
        keys = Counter((r["domain"], r["kind"]) for r in rows)
        for k, n in keys.items():
            if n > 1:
                out["duplicated"] += n - 1
                problems.append("%s/%s: %d change sets" % (k[0], k[1], n))
        for k in sorted(self.expected - set(keys)):
            out["lost"] += 1
            problems.append("%s/%s: no change set" % k)
        for k in sorted(set(keys) - self.expected):
            problems.append("%s/%s: a change set round 0 did not make" % k)
            out["unexpected"] += 1
        applied = server.applied()
        per_cltrid = Counter(a["cltrid"] for a in applied)
        for c, n in per_cltrid.items():
            if n > 1:
                out["duplicated"] += n - 1
                problems.append("clTRID %s applied %d times" % (c, n))
        # A domain updated more often than it has change sets, under other
        # clTRIDs than those counted above (a resend under a new clTRID).
        per_domain_sets = Counter(r["domain"].rstrip(".") for r in rows)
        per_domain_cltrids = Counter(a["name"] for a in {(a["cltrid"], a["name"]): a
                                                         for a in applied}.values()
                                     if a["command"] == "update" and a["name"].count(".") == 1)
        for d, n in per_domain_cltrids.items():
            if n > per_domain_sets[d]:
                out["duplicated"] += n - per_domain_sets[d]
                problems.append("%s updated under %d clTRIDs for %d change sets"
                                % (d, n, per_domain_sets[d]))
        state = json.load(open(os.path.join(server.dir, "state.json")))
        want_state = "sent" if spool else "done"
        touched = set()
        for r in rows:
            name = r["domain"].rstrip(".")
            touched.add(name)
            ok = True
            if r["state"] != want_state:
                problems.append("%s/%s: %s, not %s" % (name, r["kind"], r["state"], want_state))
                ok = False
            if per_cltrid[r["cltrid"]] == 0:
                out["lost"] += 1
                problems.append("%s/%s: clTRID %s never applied" % (name, r["kind"], r["cltrid"]))
                ok = False
            d = state["domains"].get(name, {"ns": [], "ds": []})
            proposed = r["payload"].get("proposed", [])
            if r["kind"] == "ds":
                good = sorted(d["ds"]) == sorted(proposed)
            else:
                good = sorted(d["ns"]) == sorted(x.rstrip(".") for x in proposed)
                for host, addrs in r["payload"].get("glue", {}).items():
                    good &= sorted(state["hosts"].get(host.rstrip("."), [])) == sorted(addrs)
                for op in r["payload"].get("ops", []):
                    if op.get("op") == "host-delete":
                        good &= op["name"].rstrip(".") not in state["hosts"]
            if not good:
                out["half-applied"] += 1
                problems.append("%s/%s: the registry holds %s, the change set proposed %s"
                                % (name, r["kind"], d, proposed))
                ok = False
            if ok and per_cltrid[r["cltrid"]] == 1:
                out["applied once"] += 1
            if r["svtrid"] == "(already in place)":
                out["resend recognised"] += 1
        for name, d in initial["domains"].items():
            if name not in touched and state["domains"].get(name) != d:
                problems.append("%s changed at the registry without a change set" % name)
                out["stray change"] += 1
        torn = psql(db, TORN_SQL)
        if torn != "0":
            problems.append("%s delegations half-written" % torn)
            out["half-written scan"] += int(torn)
        return out, problems

    # --- a round -----------------------------------------------------------

    def round(self, n, fault, rng):
        t0 = time.time()
        with Database(self.lab, "fault%d" % n) as database, \
                EppServer(self.tmp, "epp-r%d" % n, self.cert, self.lab, self.schemas) as server:
            db = database.conninfo
            spool = fault == "disk-full"
            conf = self.config(db, server.port, "epp-spool" if spool else "epp-tls")
            for args in (["db", "init"], ["import", "--zone", self.zone]):
                p = self.run(conf, *args)
                if p.returncode != 0:
                    raise RuntimeError("%s: %s" % (args, p.stderr))
            initial = json.load(open(os.path.join(server.dir, "state.json")))
            self.spool_resends = 0
            self.spool_resent = set()  # change sets whose files came twice
            if fault is None:
                t = time.time()
                s = self.run(conf, "scan")
                self.scan_s = time.time() - t
                t = time.time()
                p = self.run(conf, "epp", "send")
                self.send_s = time.time() - t
                hit, shown, param = False, self.said(p), 0
                if s.returncode or p.returncode:
                    raise RuntimeError("round 0 without a fault failed: %s / %s"
                                       % (self.said(s), self.said(p)))
                self.expected = {(r["domain"], r["kind"]) for r in self.change_sets(db)}
                # The commands a script step is consumed by.
                self.commands = len([r for r in server.received() if r["command"] not in
                                     ("login", "logout", "info")])
            else:
                hit, shown, param = self.inject(fault, rng, conf, db, server)
            reruns, rerun_shown = self.recover(conf, db, server, spool)
            out, problems = self.verify(db, server, initial, spool)
            if spool:
                out["resend recognised"] += self.spool_resends
                # What was spooled before the disk filled stays spooled:
                # only the change set being written when it did comes again.
                if len(self.spool_resent) > 1:
                    out["duplicated"] += len(self.spool_resent) - 1
                    problems.append("%d change sets spooled twice (ids %s): only the one"
                                    " being written when the disk filled may come again"
                                    % (len(self.spool_resent), sorted(self.spool_resent)))
            if reruns is None:
                problems.append("not quiescent after 8 reruns: %s" % rerun_shown[-3:])
            if problems:
                log("round %d (%s): %s" % (n, fault, "; ".join(problems[:10])))
                log("  change sets: %s" % psql(db, "SELECT string_agg(d.domain || '/' ||"
                    " c.kind || '=' || c.state || coalesce(' ' || c.last_error, ''), ', ')"
                    " FROM change_sets c JOIN delegations d ON d.id = c.delegation_id",
                    strict=False)[:1500])
            row = self.rows[fault or "none (round 0)"]
            row["rounds"] += 1
            row["fault landed"] += hit
            self.codes[fault or "none (round 0)"][shown] += 1
            for s in rerun_shown:
                self.codes[fault or "none (round 0)"][s] += 1
            if reruns is not None:
                row["recovered " + reruns] += 1
            row.update(out)
            row["changes expected"] += len(self.expected)
            ok = not problems
            if not ok:
                self.failed_rounds.append(n)
            log("round %3d %-12s %s landed=%-5s %s -> reruns %s, %d applied once%s (%.1fs)"
                % (n, fault or "none", "param=%-6s" % (("%.2fs" % param) if isinstance(
                    param, float) else param), hit, shown[:70], reruns, out["applied once"],
                   "" if ok else " PROBLEMS", time.time() - t0))
            return ok

    def table(self, seed, rounds, wall):
        cols = ["rounds", "fault landed", "recovered in the run", "recovered 1 rerun",
                "recovered 2+ reruns",
                "changes expected", "applied once", "lost", "duplicated", "half-applied",
                "unexpected", "stray change", "half-written scan", "round broke off",
                "resend recognised"]
        lines_ = ["fault campaign: seed %d, %d rounds, %.0f s wall" % (seed, rounds, wall), "",
                  "| fault | " + " | ".join(cols) + " |",
                  "|---" * (len(cols) + 1) + "|"]
        order = ["none (round 0)"] + FAULTS
        total = Counter()
        for f in order:
            if f in self.rows:
                lines_.append("| %s | %s |" % (f, " | ".join(str(self.rows[f][c])
                                                             for c in cols)))
                total.update(self.rows[f])
        lines_.append("| total | %s |" % " | ".join(str(total[c]) for c in cols))
        lines_ += ["", "What the faulted commands and the reruns showed (exit code and"
                   " the last message; N: a number):", ""]
        for f in order:
            for text, n in sorted(self.codes[f].items(), key=lambda x: -x[1]):
                lines_.append("  %-15s %3d x %s" % (f, n, text))
        return "\n".join(lines_)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cdscan")
    ap.add_argument("lab_dir")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--only", type=int, help="replay this round of the campaign only")
    ap.add_argument("--faults", default=",".join(FAULTS))
    ap.add_argument("--table", help="also write the table to this file")
    args = ap.parse_args()
    # A mount namespace of our own, for the spool's tmpfs.
    if os.geteuid() == 0 and os.environ.get(NS_ENV) != "1" and shutil.which("unshare") and \
            subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                           capture_output=True).returncode == 0:
        os.environ[NS_ENV] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private",
                              sys.executable, os.path.abspath(__file__), *sys.argv[1:]])
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 31)
    log("fault campaign: seed %d, %d rounds (replay: --seed %d --rounds %d [--only R])"
        % (seed, args.rounds, seed, args.rounds))
    c = Campaign(args)
    faults = [f for f in args.faults.split(",") if f]
    for f in faults:
        if f not in FAULTS:
            ap.error("unknown fault %s (known: %s)" % (f, ", ".join(FAULTS)))
    if "disk-full" in faults and not c.tmpfs:
        log("note: disk-full left out: no tmpfs of the test's own (needs root and unshare)")
        faults.remove("disk-full")
    t0 = time.time()
    try:
        c.round(0, None, None)
        log("round 0: %d change sets expected, scan %.1fs, send %.1fs, %d EPP commands"
            % (len(c.expected), c.scan_s, c.send_s, c.commands))
        check(len(c.expected) >= 20, "round 0 made %d change sets" % len(c.expected))
        # Every fault once in the first rounds (in an order of the seed's),
        # so that 10 rounds cover them all; then drawn at random.
        first = random.Random(seed).sample(faults, len(faults))
        for n in range(1, args.rounds + 1):
            # Each round's draws from its own generator: --only replays it.
            rng = random.Random("%d/%d" % (seed, n))
            fault = first[n - 1] if n <= len(first) else rng.choice(faults)
            if args.only is not None and n != args.only:
                continue
            try:
                c.round(n, fault, rng)
            except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as e:
                # The campaign goes on: the round counts as failed, its
                # table row says so.
                log("round %d (%s): %s: %s" % (n, fault, type(e).__name__, e))
                c.failed_rounds.append(n)
                c.rows[fault]["rounds"] += 1
                c.rows[fault]["round broke off"] += 1
    finally:
        if c.tmpfs:
            subprocess.run(["umount", c.spool], capture_output=True)
    wall = time.time() - t0
    table = c.table(seed, args.rounds, wall)
    log("\n" + table + "\n")
    if args.table:
        open(args.table, "w").write(table + "\n")
    check(not c.failed_rounds, "every round: each change set applied exactly once, none lost,"
          " none duplicated, database and registry agree (failed rounds: %s; replay with"
          " --seed %d --only R)" % (c.failed_rounds, seed))
    if c.failed_rounds:
        log("the campaign's files (EPP server logs and state per round): %s" % c.tmp)
    else:
        shutil.rmtree(c.tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
