#!/usr/bin/python3
"""Seeds for fuzz_report_channel: answers with OPT records carrying the
Report-Channel option (RFC 9567 §5) and its malformed variants, each named
by its SHA-1 as libFuzzer names its finds.  Usage:
make_report_channel_seeds.py tests/fuzz/corpus/report_channel"""
import hashlib
import os
import struct
import sys


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def message(opt_rdatas, answer=True):
    head = struct.pack("!HHHHHH", 0x1234, 0x8400, 1, 1 if answer else 0, 0, len(opt_rdatas))
    q = name("child.test.") + struct.pack("!HH", 6, 1)
    body = b""
    if answer:  # child.test. SOA, compressed owner
        soa = name("ns1.child.test.") + name("h.child.test.") + struct.pack("!IIIII", 1, 2, 3, 4, 5)
        body = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 300, len(soa)) + soa
    for rd in opt_rdatas:
        body += b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000, len(rd)) + rd
    return head + q + body


def option(code, data):
    return struct.pack("!HH", code, len(data)) + data


SEEDS = [
    message([option(18, name("agent.test."))]),
    message([option(10, bytes(8)) + option(18, name("Agent.Example.NET."))]),
    message([option(18, name("agent.test.")) + option(18, name("other.test."))]),
    message([option(18, name("agent.test."))], answer=False),
    message([option(18, name("agent.test.")), option(18, name("agent.test."))]),
    message([option(18, b"\x01a\xc0\x0c")]),
    message([option(18, b"\0")]),
    message([option(18, b"\x03a.b\x04test\0")]),
    message([option(18, name(".".join(["x" * 63] * 3) + ".test."))]),
    message([option(15, b"\x00\x07") + option(18, name("a.b.c.d.e.f.g."))]),
]

for seed in SEEDS:
    path = os.path.join(sys.argv[1], hashlib.sha1(seed).hexdigest())
    with open(path, "wb") as f:
        f.write(seed)
