"""What the daemon's system tests share: a daemon started and stopped by
pid, its log, NOTIFY messages sent with dnspython (python3-dnspython), and
waiting for a condition instead of sleeping for one."""

import os
import signal
import socket
import subprocess
import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype


def write_config(path, lab, db, extra):
    """A config for the lab: its database db, resolver and trust anchor,
    the system tests' scan timeouts, then extra (YAML)."""
    with open(path, "w") as f:
        f.write("database: \"%s\"\nresolver:\n  addresses: [%s]\n"
                "  allow-addresses: [127.0.0.0/8, '::1']\n  trust-anchor: %s\n%s"
                % (db, lab["resolver"], lab["trust_anchor"], extra))
    return path


class Daemon:
    """cdscan daemon in the background, its log in a file; stop() sends
    SIGTERM and waits (by pid: nothing else is touched)."""

    def __init__(self, binary, conf, logfile, *args, env=None):
        self.logfile = logfile
        self.log = open(logfile, "w")
        self.p = subprocess.Popen([binary, "-c", conf, "daemon", *args],
                                  stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.started = wait_for(lambda: "daemon started" in self.text() or
                                self.p.poll() is not None, 30)

    def text(self):
        with open(self.logfile) as f:
            return f.read()

    def running(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.running():
            self.p.send_signal(sig)

    def stop(self, timeout=60):
        """SIGTERM, then the exit code (None if it did not end in time:
        then it is killed, by pid)."""
        self.signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None
        finally:
            self.log.close()


def wait_for(cond, timeout, step=0.05):
    """Poll cond until true or timeout seconds; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def notify_message(name, qtype="CDS"):
    m = dns.message.make_query(name, dns.rdatatype.from_text(qtype))
    m.set_opcode(dns.opcode.NOTIFY)
    m.flags &= ~dns.flags.RD
    return m


def notify(addr, port, name, qtype="CDS", tcp=False, source=None, timeout=3):
    """Send NOTIFY(qtype) for name; returns the answer (dns.message) or None
    when none came in time."""
    m = notify_message(name, qtype)
    try:
        if tcp:
            return dns.query.tcp(m, addr, port=port, timeout=timeout, source=source)
        return dns.query.udp(m, addr, port=port, timeout=timeout, source=source)
    except (dns.exception.Timeout, OSError):
        return None


def raw_exchange(addr, port, wire, timeout=1.0):
    """Send raw bytes over UDP; the answer's bytes, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(wire, (addr, port))
        return s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()


def rcode_of(answer):
    return dns.rcode.to_text(answer.rcode()) if answer is not None else "no answer"
