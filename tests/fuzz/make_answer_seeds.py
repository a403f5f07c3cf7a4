#!/usr/bin/python3
"""Write seeds for fuzz_answer from a running lab: for some scenario zones,
the real answers of two of their servers.  Usage:
make_answer_seeds.py LAB_DIR OUT_DIR"""
import json
import os
import random
import socket
import struct
import sys
import time

TYPES = [6, 48, 59, 60, 62, 2]  # SOA DNSKEY CDS CDNSKEY CSYNC NS


def ask(addr, name, qtype):
    q = struct.pack(">HHHHHH", random.randrange(65536), 0, 1, 0, 0, 1)
    for label in name.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1) + b"\0" + struct.pack(">HHIH", 41, 4096, 0x8000, 0)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    s.sendto(q, (addr, 53))
    try:
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return b""


def main():
    lab = json.load(open(os.path.join(sys.argv[1], "lab.json")))
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in ("rollover.test.", "multi-ok.test.", "delete.test.", "cdnskey-only.test.",
                 "mismatch.test.", "mixed-delete.test.", "multi-break.test.", "secure.test."):
        z = lab["zones"][name]
        addrs = [lab["servers"][n]["address"] for n in z["ns"]][:2]
        addrs = (addrs * 2)[:2]
        blob = name.encode() + b"\0" + (z["ds"][0].encode() if z["ds"] else b"") + b"\0"
        blob += struct.pack(">I", int(time.time()))
        for a in addrs:
            for t in TYPES:
                m = ask(a, name, t)
                blob += struct.pack(">H", len(m)) + m
        with open(os.path.join(out, name.rstrip(".")), "wb") as f:
            f.write(blob)
    # Insecure delegations (DS text "-"): the apex answers, six empty CSYNC
    # data messages, a status byte (all secure, read over TCP), then the
    # RFC 9615 signal as the first nameserver's provider serves it.
    for name in ("bootstrap-one.test.", "bootstrap-mismatch.test."):
        z = lab["zones"][name]
        addrs = ([lab["servers"][n]["address"] for n in z["ns"]] * 2)[:2]
        blob = (name.encode() + b"\0-" + z["ns"][-1].encode() + b"\0" +
                struct.pack(">I", int(time.time())))
        for a in addrs:
            for t in TYPES:
                m = ask(a, name, t)
                blob += struct.pack(">H", len(m)) + m
        blob += b"\0\0" * 6 + b"\x40"
        signal = "_dsboot.%s_signal.%s" % (name, z["ns"][-1])
        for t in (59, 60):
            m = ask(lab["servers"][z["ns"][-1]]["address"], signal, t)
            blob += struct.pack(">H", len(m)) + m
        with open(os.path.join(out, name.rstrip(".")), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
