#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later

"""A seeded, bounded fuzzer of the MCD stub's wire protocols.

It drives a live QEMU over its -mcd socket (docs/interop/mcd.rst) with
the packet protocol and the JSON protocol (the commands of qapi/mcd.json,
read at start, so that every command of the schema gets fuzzed).

QEMU runs a tiny guest that counts in RAM on every core.  Each case is a
handful of requests from a grammar of every command and query, with
valid and edge values, mutated at the value and at the byte level (bad
framing, checksums, NUL bytes, oversized payloads; wrong types, missing
and unknown members, huge numbers, long strings, deep nesting, truncated
objects, duplicate keys), now and then a debugger's whole sequence, an
abrupt disconnect, or much output read late.  After every case a probe
must get its reply within a timeout (QEMU still answers), and everything
QEMU sent must be well framed: packets '+', '-', $...#| or $...#xx with
the right checksum, %...#| or %...#xx, payloads of printable ASCII but
for the binary data of replies to 'x' (extension "binary"), which must
be escaped: no '$' or '%', '}' only before an escaped byte; JSON lines
of one object each, with "return" or "error".  The packet protocol's
extensions are fuzzed too: list replies of several records ("lists"),
'g' and 'G' on register id lists ("regs"), 'E' ("stopregs"), 'x' and
'X' with binary data of up to 1 MiB and payloads of up to 2 MiB
("binary"); now and then a binary write is read back and compared.  At the end of each
protocol the fuzzer detaches (D, mcd-close-server) and checks that the VM
runs, that the guest's code and the RAM around it are unchanged, that
the guest counts on every core and that a new client reads a PC in the
guest.

The fuzzer sends no write that could legitimately change the guest:
memory writes go to a scratch area or to ranges with unmapped bytes
(which the stub must refuse as a whole), register writes only to
registers the guest does not use; cases that mutations turn into other
writes are skipped.  So any change elsewhere is a finding.

Each protocol gets a QEMU of its own.  A finding ends that QEMU's run,
but for replies that are well framed but not ASCII: those are counted,
the first three saved, and the fuzzing goes on.  Prints "wire fuzz: N
cases, N findings" (the cases with a finding); exits 1 on any finding
and saves each failing case (seed, index, bytes, the cases before it
and QEMU's output) under build/fuzz-wire/.  The same seed, protocol and
count replay the same cases.
"""

import argparse
import ast
import json
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.realpath(os.path.join(os.path.dirname(
    os.path.realpath(__file__)), "..", ".."))
SCHEMA = os.path.join(REPO, "qapi", "mcd.json")
OUTDIR = os.path.join(REPO, "build", "fuzz-wire")

# Guest memory layout
GUEST_BASE = 0x40200000
COUNTERS = 0x40202000           # one u64 per core, written by the guest
SCRATCH = 0x40300000            # the fuzzer's writes land here
SCRATCH_END = 0x40500000        # 2 MiB: room for the largest 'X'
CHECKED_END = 0x40600000
RAM_BASE = 0x40000000
RAM_END = 0x48000000            # 128 MiB, QEMU's default
LOOP_OFFSET = 11 * 4            # the counting loop, in both guests

# Regions compared before and after: the guest, the RAM around the
# scratch area and the counters, the end of RAM and the flash at 0.  Not
# the first MiB of RAM: the device tree is there, and every system reset
# writes it again with new random seeds.
CHECKED = [
    (0x00000000, 0x1000),
    (0x40100000, COUNTERS - 0x40100000),
    (COUNTERS + 0x1000, SCRATCH - COUNTERS - 0x1000),
    (SCRATCH_END, CHECKED_END - SCRATCH_END),
    (RAM_END - 0x1000, 0x1000),
]

# Address ranges with nothing mapped on -M virt with 128 MiB of RAM and
# no devices (below 256 GiB, and above any physical address range).  A
# write that touches them must write nothing at all.
UNMAPPED = [(RAM_END, 1 << 38), (1 << 52, 1 << 70)]

# Core 0 powers on core 1 (PSCI CPU_ON over HVC; with one core that call
# fails and nothing happens), then each core counts in COUNTERS + 8 * i.
GUEST_A64 = [
    0xd2800060,     # mov x0, #0x3
    0xf2b88000,     # movk x0, #0xc400, lsl #16 (CPU_ON64)
    0xd2800021,     # mov x1, #1
    0x10000062,     # adr x2, common
    0xd2800003,     # mov x3, #0
    0xd4000002,     # hvc #0
    0xd53800a1,     # common: mrs x1, mpidr_el1
    0x92401c21,     # and x1, x1, #0xff
    0xd2840005,     # mov x5, #0x2000
    0xf2a80405,     # movk x5, #0x4020, lsl #16
    0x8b010ca5,     # add x5, x5, x1, lsl #3
    0xf94000a2,     # loop: ldr x2, [x5]
    0x91000442,     # add x2, x2, #1
    0xf90000a2,     # str x2, [x5]
    0x17fffffd,     # b loop
]
GUEST_A32 = [
    0xe3000003,     # movw r0, #3
    0xe3480400,     # movt r0, #0x8400 (CPU_ON)
    0xe3a01001,     # mov r1, #1
    0xe28f2004,     # adr r2, common
    0xe3a03000,     # mov r3, #0
    0xe1400070,     # hvc #0
    0xee101fb0,     # common: mrc p15, 0, r1, c0, c0, 5 (MPIDR)
    0xe20110ff,     # and r1, r1, #0xff
    0xe3025000,     # movw r5, #0x2000
    0xe3445020,     # movt r5, #0x4020
    0xe0855181,     # add r5, r5, r1, lsl #3
    0xe5952000,     # loop: ldr r2, [r5]
    0xe2822001,     # add r2, r2, #1
    0xe5852000,     # str r2, [r5]
    0xeafffffb,     # b loop
]

CPU = {"aarch64": "cortex-a57", "arm": "cortex-a15"}
GUEST = {"aarch64": GUEST_A64, "arm": GUEST_A32}
# Registers the guest does not use: it uses x0-x3 and x5 (r0-r3, r5),
# pc, sp, the PSTATE/CPSR and the system registers.  Writes to other
# registers than these are skipped.
SAFE_REG = {
    "aarch64": re.compile(r"^(x([46-9]|[12][0-9]|30)|[vqds][0-9]+)$"),
    "arm": re.compile(r"^(r([46-9]|1[0-2])|[dsq][0-9]+)$"),
}

U32 = (1 << 32) - 1
U64 = (1 << 64) - 1

# Seconds a probe may take.  (A qstate of a core that runs may take 2 ms
# to answer, and what follows it waits: nothing next to this.)
PROBE_TIMEOUT = 15.0
# QEMU runs with 128 MiB of guest RAM and uses a few hundred MiB in all
# (more with sanitizers).  A QEMU that takes more than this leaks or
# allocates without end (a loop that never ends can take hundreds of
# MiB a second): it is killed at once, before it takes the machine's
# memory, and that is a finding.
MAX_QEMU_RSS = 4 << 30
PACKET_PROBE = b"#\x00$qprotocol#|$qsystem#|$qtrigger#|"
PACKET_PROBE_REPLIES = ("version=", "qemu-system", "nr_trigger=")
# A case must not hold the probe's queries in this order.
PACKET_PROBE_LOOKALIKE = re.compile(rb"qprotocol.*qsystem.*qtrigger", re.S)
JSON_RESYNC = b"\xff"

EXTENSIONS = ["errors", "steps", "wplen", "resethalt", "stepirq", "notify",
              "stoprec", "txopt", "lists", "regs", "binary", "coreinfo",
              "stopregs"]

MAX_DATA = 16 * 1024            # the most bytes of an 'm', 'M' or 'g'
MAX_BINARY = 1 << 20            # the most bytes of an 'x' or 'X'
MAX_REG_LIST = 4096             # the most ids of a 'g' or 'G'
# The longest payload once "binary" is enabled, and the longest reply
# to 'x' (1 MiB, every byte escaped).
MAX_BINARY_PAYLOAD = 2 * MAX_BINARY + 256
MAX_BINARY_REPLY = 2 * MAX_BINARY

# Binary data: these bytes go as '}' and the byte XOR 0x20.
BINARY_ESCAPE = 0x7d
BINARY_ESCAPED = b"#$%}"
BINARY_ESCAPES = {c ^ 0x20 for c in BINARY_ESCAPED}
NOT_PRINTABLE = re.compile(rb"[^\x20-\x7e]")


class Finding(Exception):
    """QEMU misbehaved."""


def in_ranges(lo, hi, ranges):
    """Whether [lo, hi) meets any of @ranges."""
    return any(lo < e and hi > s for s, e in ranges)


def write_is_harmless(addr, length):
    """A memory write of @length bytes at @addr cannot change what the
    fuzzer checks: it is empty, inside the scratch area, or touches
    unmapped addresses and so must be refused as a whole."""
    if length <= 0:
        return True
    if SCRATCH <= addr and addr + length <= SCRATCH_END:
        return True
    return in_ranges(addr, addr + length, UNMAPPED)


def escape_binary(data):
    """@data as the binary data of 'x' and 'X'."""
    return data.replace(b"}", b"}]").replace(b"#", b"}\x03") \
               .replace(b"$", b"}\x04").replace(b"%", b"}\x05")


def binary_error(payload):
    """What is wrong with @payload as escaped binary data, or None."""
    for c in b"$%#":
        if c in payload:
            return f"byte {c:#04x} not escaped"
    pos = payload.find(b"}")
    while pos >= 0:
        if pos + 1 == len(payload):
            return "'}' at the end"
        if payload[pos + 1] not in BINARY_ESCAPES:
            return f"'}}' before byte {payload[pos + 1]:#04x}"
        pos = payload.find(b"}", pos + 2)
    return None


def unescape_binary(payload):
    """The bytes of escaped binary data @payload (checked first)."""
    out = bytearray()
    pos = 0
    while True:
        esc = payload.find(b"}", pos)
        if esc < 0:
            out += payload[pos:]
            return bytes(out)
        out += payload[pos:esc]
        out.append(payload[esc + 1] ^ 0x20)
        pos = esc + 2


def num(digits):
    """The number of a run of digits as a check reads it; None for more
    digits than Python converts (any such number is out of range)."""
    return int(digits) if len(digits) <= 4000 else None


def id_list_ids(text, limit):
    """The register ids of the id list @text ("0-33,66") as QEMU reads
    it, or None if it holds more than @limit ids."""
    ids = []
    for item in text.split(","):
        first, _, last = item.partition("-")
        first = num(first)
        last = num(last) if last else first
        if first is None or last is None:
            return None
        if last - first + 1 > limit - len(ids):
            return None
        ids += range(first, last + 1)
    return ids


# ---------------------------------------------------------------------
# QEMU, QMP and the sockets
# ---------------------------------------------------------------------

class QMP:
    def __init__(self, path, proc, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        self._read()                        # the greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise Finding("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            rsp = self._read()
            if "event" in rsp:
                continue
            if "error" in rsp:
                raise Finding(f"QMP {name}: {rsp['error']}")
            return rsp["return"]

    def close(self):
        self.sock.close()


class Qemu:
    def __init__(self, binary, arch, smp, workdir, log):
        self.arch, self.smp = arch, smp
        guest = os.path.join(workdir, "guest.bin")
        with open(guest, "wb") as f:
            f.write(struct.pack(f"<{len(GUEST[arch])}I", *GUEST[arch]))
        self.qmp_path = os.path.join(workdir, "qmp.sock")
        self.workdir = workdir
        self.log_path = log
        for attempt in range(5):
            self.port = free_port()
            args = [binary, "-M", "virt", "-cpu", CPU[arch], "-accel", "tcg",
                    "-nodefaults", "-display", "none", "-S",
                    "-smp", str(smp),
                    "-device", f"loader,file={guest},addr={GUEST_BASE:#x},"
                               "cpu-num=0,force-raw=on",
                    "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
                    "-mcd", f"tcp:127.0.0.1:{self.port}"]
            self.log = open(log, "ab")
            self.log.write(("$ " + " ".join(args) + "\n").encode())
            self.log.flush()
            env = dict(os.environ)
            # for QEMU built with sanitizers: stop at the first error
            env.setdefault("ASAN_OPTIONS", "detect_leaks=0:halt_on_error=1:"
                           "abort_on_error=1")
            env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:"
                           "halt_on_error=1:abort_on_error=1")
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=self.log,
                                         env=env)
            try:
                self.qmp = QMP(self.qmp_path, self.proc)
                return
            except (OSError, Finding):
                self.proc.kill()
                self.proc.wait()
                self.log.close()
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def alive(self):
        return self.proc.poll() is None

    def check_memory(self):
        """Kill QEMU and raise a Finding if it uses more than
        MAX_QEMU_RSS; looks at most twice a second."""
        now = time.monotonic()
        if now < getattr(self, "mem_checked", 0) + 0.5:
            return
        self.mem_checked = now
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
        except OSError:
            return
        if m and int(m.group(1)) << 10 > MAX_QEMU_RSS and self.alive():
            self.proc.kill()
            self.proc.wait()
            self.killed = (f"killed by the fuzzer: it used "
                           f"{int(m.group(1)) >> 10} MiB of memory, more "
                           f"than {MAX_QEMU_RSS >> 20} MiB")
            raise Finding(f"QEMU {self.killed}")

    def exit_status(self):
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if getattr(self, "killed", None):
            return self.killed
        return f"exited with status {rc}" if rc >= 0 else \
            f"killed by signal {-rc}"

    def read_mem(self, addr, size):
        path = os.path.join(self.workdir, "mem.bin")
        self.qmp.cmd("pmemsave", val=addr, size=size, filename=path)
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data

    def image(self):
        return [self.read_mem(a, n) for a, n in CHECKED]

    def counters(self):
        data = self.read_mem(COUNTERS, 8 * self.smp)
        return struct.unpack(f"<{self.smp}Q", data)

    def status(self):
        return self.qmp.cmd("query-status")["status"]

    def stop(self):
        # a QEMU whose main loop hangs does not answer: do not wait for
        # it long (it may be taking memory meanwhile)
        quit_sent = False
        try:
            if self.alive():
                self.qmp.sock.settimeout(5)
                self.qmp.cmd("quit")
                quit_sent = True
        except (OSError, Finding):
            pass
        try:
            self.proc.wait(timeout=10 if quit_sent else 2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def sanitizer_report(self):
        """The first line of a sanitizer's report in QEMU's output."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return None
        m = re.search(r".*(ERROR: \w+Sanitizer|runtime error:).*", text)
        return m.group(0) if m else None

    def stderr_tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    """A client connection to the stub; collects everything received."""

    def __init__(self, port, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket()
            # a small window, so that big replies make QEMU wait for us
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(("127.0.0.1", port))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise Finding("cannot connect to the MCD stub")
                time.sleep(0.05)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.closed = False
        self.watch = None           # called while waiting (QEMU's memory)

    def send(self, chunks, sink):
        """Send @chunks (each with its own send()), handing what arrives
        meanwhile to @sink so that neither side blocks."""
        for data in chunks:
            view = memoryview(data)
            deadline = time.monotonic() + PROBE_TIMEOUT
            while view:
                r, w, _ = select.select([self.sock], [self.sock], [], 0.5)
                if r:
                    self.recv_into(sink)
                if self.watch:
                    self.watch()
                if w:
                    try:
                        n = self.sock.send(view)
                    except BlockingIOError:
                        n = 0
                    except OSError as e:
                        raise Finding(f"send failed: {e}")
                    view = view[n:]
                if time.monotonic() > deadline:
                    raise Finding("QEMU takes no input: send timed out")

    def recv_into(self, sink):
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError as e:
            raise Finding(f"connection error: {e}")
        if not data:
            self.closed = True
            raise Finding("QEMU closed the connection")
        sink(data)

    def wait(self, sink, done, timeout=PROBE_TIMEOUT):
        """Receive until done() holds."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise Finding(f"no reply to the probe within {timeout:g} s")
            r, _, _ = select.select([self.sock], [], [], min(left, 0.5))
            if r:
                self.recv_into(sink)
            if self.watch:
                self.watch()

    def close(self, how="fin"):
        """Close with a FIN, or with a RST (@how "rst")."""
        try:
            if how == "rst":
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------
# Checking what QEMU sends
# ---------------------------------------------------------------------

def json_call(conn, stream, req, rid, resync=True):
    """Send @req with the id @rid and return its reply."""
    req = dict(req, id=rid)
    conn.send([(JSON_RESYNC if resync else b"") + json.dumps(req).encode()],
              stream.feed)
    box = [None]

    def done():
        box[0] = stream.take(rid)
        return box[0] is not None
    conn.wait(stream.feed, done)
    return box[0]


def keep_tail(stream, data, keep=1 << 16):
    """Keep the last bytes received, for the reports."""
    stream.total += len(data)
    stream.raw += data
    if len(stream.raw) > 4 * keep:
        del stream.raw[:-keep]


def received_since(stream, total):
    return bytes(stream.raw[len(stream.raw) - min(stream.total - total,
                                                  len(stream.raw)):])


class PacketStream:
    """Parses and checks the packet protocol from QEMU: only '+', '-',
    $payload#| or $payload#xx (with the right checksum) and %payload#|
    or %payload#xx; payloads are printable ASCII.  Once the session has
    the extension "binary" (as the replies to qprotocol say), a reply
    may be binary data (to 'x'): then it may hold any byte, but must be
    escaped properly, and may be up to 2 MiB long."""

    def __init__(self):
        self.buf = bytearray()
        self.events = []            # ("+"|"-"|"$"|"%", payload)
        self.raw = bytearray()      # the last bytes received
        self.total = 0
        self.stats = {}
        self.soft = []              # findings after which QEMU goes on
        # whether the last reply to qprotocol had "binary" enabled: the
        # probe asks after every case, and a new connection has none
        self.binary = False

    def feed(self, data):
        keep_tail(self, data)
        self.buf += data
        buf = self.buf
        i = 0
        while i < len(buf):
            c = buf[i]
            if c in b"+-":
                self.events.append((chr(c), None))
                i += 1
                continue
            if c not in b"$%":
                raise Finding(f"bad framing: byte {c:#04x} outside a packet "
                              f"at {bytes(buf[max(0, i - 40):i + 40])!r}")
            end = buf.find(b"#", i + 1)
            if end < 0:
                limit = MAX_BINARY_REPLY if self.binary else 1 << 20
                if len(buf) - i > limit + 1:
                    raise Finding(f"bad framing: a reply of more than "
                                  f"{limit} bytes without '#'")
                break
            if end + 1 >= len(buf):
                break
            payload = bytes(buf[i + 1:end])
            if buf[end + 1] == ord("|"):
                nxt = end + 2
            else:
                if end + 2 >= len(buf):
                    break
                cks = bytes(buf[end + 1:end + 3])
                if not re.fullmatch(rb"[0-9a-f]{2}", cks):
                    raise Finding(f"bad framing: packet {payload[:80]!r} "
                                  f"ends with {cks!r}")
                if int(cks, 16) != sum(payload) & 0xff:
                    raise Finding(f"bad checksum {cks!r} of packet "
                                  f"{payload[:80]!r}")
                nxt = end + 3
            bad = NOT_PRINTABLE.search(payload)
            key = None
            if bad and self.binary and c == ord("$"):
                # binary data, to an 'x'
                err = binary_error(payload)
                if err:
                    self.soft.append(f"binary reply badly escaped ({err}):"
                                     f" {payload[:200]!r}")
                key = "binary"
            elif bad:
                # well framed still: QEMU goes on, and so does the fuzzer
                self.soft.append(f"reply payload not printable ASCII (byte "
                                 f"{payload[bad.start()]:#04x}): "
                                 f"{payload[:200]!r}")
            if c == ord("$") and payload.startswith(b"version="):
                m = re.search(rb"\.enabled=([^.]*)\.", payload)
                self.binary = bool(m) and b"binary" in m.group(1).split(b",")
            text = payload.decode("latin-1")
            self.events.append((chr(c), text))
            key = key or c == ord("%") and "notification" or \
                re.match(r"[a-z_ -]*", text).group(0)[:24] or \
                ("hex" if re.fullmatch(r"[0-9a-f]+", text) else
                 text[:2] if text[:1].isdigit() else "empty")
            self.stats[key] = self.stats.get(key, 0) + 1
            i = nxt
        del buf[:i]

    def take_probe(self):
        """Drop events up to and including the probe's three replies;
        True if they came."""
        pkts = [(k, ev) for k, ev in enumerate(self.events)
                if ev[0] == "$"]
        for j in range(len(pkts) - 2):
            if all(pkts[j + n][1][1].startswith(PACKET_PROBE_REPLIES[n])
                   for n in range(3)):
                del self.events[:pkts[j + 2][0] + 1]
                return True
        return False


class JsonStream:
    """Checks the JSON protocol from QEMU: lines of one JSON object each,
    with "return" or "error"."""

    def __init__(self):
        self.buf = bytearray()
        self.replies = []
        self.raw = bytearray()      # the last bytes received
        self.total = 0
        self.last_uid = None
        self.stats = {}

    def feed(self, data):
        keep_tail(self, data)
        self.buf += data
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                if len(self.buf) > 64 << 20:
                    raise Finding("a reply line longer than 64 MiB")
                return
            line = bytes(self.buf[:nl])
            del self.buf[:nl + 1]
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise Finding(f"reply line is not JSON ({e}): {line[:300]!r}")
            if not isinstance(obj, dict) or \
               ("return" in obj) == ("error" in obj):
                raise Finding(f"reply is not one return or error: "
                              f"{line[:300]!r}")
            ret = obj.get("return")
            key = "error " + obj["error"].get("class", "?") \
                if isinstance(obj.get("error"), dict) else \
                f"status {ret.get('return-status')}" \
                if isinstance(ret, dict) else "other"
            self.stats[key] = self.stats.get(key, 0) + 1
            if isinstance(ret, dict) and \
               isinstance(ret.get("server-uid"), int):
                self.last_uid = ret["server-uid"]
            self.replies.append(obj)

    def take(self, probe_id):
        for k, obj in enumerate(self.replies):
            if obj.get("id") == probe_id:
                del self.replies[:k + 1]
                return obj
        return None


# ---------------------------------------------------------------------
# Generating cases: shared pieces
# ---------------------------------------------------------------------

def interesting_ints():
    return [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 63, 64, 127, 128, 255,
            256, 1023, 1024, 4095, 4096, 16383, 16384, 16385, 33792, 65535,
            65536, (1 << 31) - 1, 1 << 31, U32 - 1, U32, 1 << 32,
            (1 << 32) + 1, (1 << 63) - 1, 1 << 63, U64 - 1, U64, 1 << 64,
            (1 << 64) + 1, 10 ** 30]


INTS = interesting_ints()


def mutate_bytes(r, data, ops=None):
    """Byte-level mutations: flips, interesting bytes, deletions,
    insertions, duplications, truncation."""
    data = bytearray(data)
    for _ in range(ops or r.randint(1, 4)):
        if not data:
            data += bytes([r.randrange(256)])
            continue
        op = r.randrange(7)
        pos = r.randrange(len(data))
        if op == 0:
            data[pos] ^= 1 << r.randrange(8)
        elif op == 1:
            data[pos] = r.choice(b"$#|~+-%;,.:{}[]\"'\\\x00\xff\n 019aAfFzq")
        elif op == 2:
            del data[pos:pos + r.randint(1, 8)]
        elif op == 3:
            data[pos:pos] = bytes(r.randrange(256)
                                  for _ in range(r.randint(1, 8)))
        elif op == 4:
            n = r.randint(1, 32)
            data[pos:pos] = data[pos:pos + n]
        elif op == 5:
            del data[pos:]
        else:
            data[pos] = r.randrange(256)
    return bytes(data)


def split_chunks(r, data):
    """Send the case in one piece or in several."""
    if len(data) < 2 or r.random() < 0.9:
        return [data]
    cuts = sorted(r.sample(range(1, len(data)), min(len(data) - 1,
                                                    r.randint(1, 4))))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


class Target:
    """What the fuzzer learnt of the target at start."""

    def __init__(self, arch, smp):
        self.arch, self.smp = arch, smp
        self.regs = []              # (id, name, bytes, space)
        self.safe_regs = set()
        self.pc_id = None
        self.packet_spaces = []     # (id, name, type)
        self.json_spaces = []
        self.json_reg_space = None

    def learn_regs(self, regs):
        self.regs = regs
        safe = SAFE_REG[self.arch]
        self.safe_regs = {i for i, name, _, _ in regs if safe.match(name)}
        self.safe_list = [rg for rg in regs if rg[0] in self.safe_regs]
        self.pc_id = next(i for i, name, _, _ in regs if name == "pc")

    def cores(self):
        return list(range(self.smp))

    def code_addr(self, r):
        return GUEST_BASE + 4 * r.randrange(len(GUEST[self.arch]))

    def read_addr(self, r):
        return r.choice([
            GUEST_BASE, GUEST_BASE + LOOP_OFFSET, self.code_addr(r),
            COUNTERS, COUNTERS + 8, SCRATCH, SCRATCH + r.randrange(4096),
            SCRATCH_END - 1, 0, 4, 0x1000, 0x08000000, 0x08010000,
            0x09000000, 0x09000018, 0x09020000, 0x0a000000, 0x10000000,
            0x3f000000, RAM_BASE, RAM_END - 1, RAM_END - 2, RAM_END,
            0x50000000, U32, U32 - 3, 1 << 32, GUEST_BASE + (1 << 32),
            1 << 40, 1 << 48, (1 << 63), U64, U64 - 1, U64 - 7,
            r.randrange(1 << 64)])

    def write_range(self, r, length=None):
        """An address and length that are safe to write."""
        if length is None:
            length = r.choice([0, 1, 2, 3, 4, 8, 16, 64, 256, 4096])
        choice = r.randrange(10)
        if choice < 7 and length <= SCRATCH_END - SCRATCH:
            addr = SCRATCH + r.randint(0, SCRATCH_END - SCRATCH - length)
        elif choice == 7:
            addr = r.choice([RAM_END - 1, RAM_END - 2, RAM_END, 0x50000000,
                             U32 - 1, U32, 1 << 32, (1 << 38) - 2])
            if addr < RAM_END and addr + length <= RAM_END:
                addr = RAM_END
        elif choice == 8:
            # beyond 32 bits: AArch32 must refuse them, not truncate
            addr = r.choice([GUEST_BASE, GUEST_BASE + LOOP_OFFSET, COUNTERS,
                             SCRATCH]) + (1 << 32)
        else:
            addr = r.choice([U64, U64 - 1, U64 - 3, 1 << 63, 1 << 52,
                             (1 << 64) - 4096])
        return addr, length


# ---------------------------------------------------------------------
# The packet protocol
# ---------------------------------------------------------------------

# Parameters that are not what the grammar asks for.
BAD_PARAMS = ["", "-1", "-0", "+1", " 1", "1 ", "0x10", "1e3", "a", "0001",
              "00", "1.5", "9" * 25, "1" * 1000, "\t2", "4294967296",
              "18446744073709551616", "18446744073709551615", ",", "*", "!",
              "4294967295", "zz"]


def hexdata(r, n):
    """@n bytes in hex, now and then malformed."""
    x = r.random()
    data = bytes(r.randrange(256) for _ in range(n))
    if x < 0.85:
        return data.hex()
    if x < 0.9:
        return data.hex().upper()
    if x < 0.94:
        return data.hex()[:-1]
    if x < 0.97:
        return data.hex() + "zz"
    return "g" * (2 * n)


def binary_bytes(r, n):
    """@n bytes for 'X': random, or rich in the bytes that are escaped,
    or all NUL, or all escaped."""
    x = r.random()
    if x < 0.55:
        return r.randbytes(n)
    if x < 0.85:
        pattern = bytes(r.choice(b"#$%}\x00\x03\x04\x05]|~+-\xff\n ")
                        for _ in range(256))
        return (pattern * (n // 256 + 1))[:n]
    if x < 0.93:
        return bytes(n)
    return bytes([r.choice(BINARY_ESCAPED)]) * n


def binary_text(r, data):
    """@data escaped for 'X', as text; now and then malformed: a '}' at
    the end, a byte more or less than the length says, bytes that are
    not escaped, an unescaped '#' (that ends the packet), or more bytes
    escaped than need be (which QEMU takes)."""
    x = r.random()
    if x < 0.8 or not data:
        enc = escape_binary(data)
        if not data and r.random() < 0.2:
            enc += b"}"
    elif x < 0.84:
        enc = escape_binary(data) + b"}"
    elif x < 0.87:
        enc = escape_binary(data + bytes([r.randrange(256)]))
    elif x < 0.90:
        enc = escape_binary(data[:-1])
    elif x < 0.94:
        # escaping 0x03 would make a '#'
        head = b"".join(bytes([BINARY_ESCAPE, c ^ 0x20]) if c != 0x03
                        else b"\x03" for c in data[:4096])
        enc = head + escape_binary(data[4096:])
    elif x < 0.97:
        enc = data.replace(b"#", b"}\x03")
    else:
        enc = escape_binary(data)
        pos = r.randrange(len(enc) + 1)
        enc = enc[:pos] + b"#" + enc[pos:]
    return enc.decode("latin-1")


def reg_id_list(r, t):
    """A list of register ids for 'g': ids, ranges, lists of them, all
    registers, too many ids or bytes, malformed lists."""
    ids = [rg[0] for rg in t.regs]
    top = max(ids)

    def item():
        a = r.choice(ids)
        if r.random() < 0.5:
            return str(a)
        return f"{a}-{min(top, a + r.choice([0, 1, 3, 15, 33, 100]))}"
    x = r.random()
    if x < 0.3:
        return str(r.choice(ids))
    if x < 0.5:
        return item()
    if x < 0.7:
        return ",".join(item() for _ in range(r.randint(2, 6)))
    if x < 0.8:
        return f"0-{top}"
    if x < 0.87:
        # more than MAX_REG_LIST ids, or more than MAX_DATA bytes
        return ",".join([f"0-{top}"] * r.randint(2, 20))
    if x < 0.93:
        return r.choice([f"0-{MAX_REG_LIST - 1}", f"0-{MAX_REG_LIST}",
                         f"{top}-{top + 1}", str(top + 1), f"{top},{top}",
                         ",".join(["0"] * MAX_REG_LIST),
                         ",".join(["0"] * (MAX_REG_LIST + 1)),
                         str(U32), str(U64), f"{U64 - 1}-{U64}",
                         f"0,{U64}"])
    return r.choice(["", "5-3", "1,", ",1", "1-", "-1", "1--2", "1,,2",
                     f"0-{U64}", str(U64 + 1), "1-2-3", "a", "1;2",
                     str(U32 + 1), " 1", "1 ", "0x1", "1-1"])


def safe_reg_list(r, t, distinct=False):
    """A list of register ids for 'G', of registers the guest does not
    use: (the list, the ids, the bytes of their values).  @distinct: no
    id twice and no registers that overlap (AArch32's q and d)."""
    sizes = {i: size for i, _, size, _ in t.regs}
    names = {i: name for i, name, _, _ in t.regs}
    safe = sorted(i for i in t.safe_regs
                  if not (distinct and names[i].startswith("q")))
    runs = []
    for i in safe:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    items = []
    for _ in range(r.choice([1, 1, 2, 3, 5])):
        run = r.choice(runs)
        a = r.choice(run)
        b = a if r.random() < 0.5 else r.choice([i for i in run if i >= a])
        items.append((a, b))
    if distinct:
        seen, uniq = set(), []
        for a, b in items:
            if not seen & set(range(a, b + 1)):
                seen |= set(range(a, b + 1))
                uniq.append((a, b))
        items = uniq
    elif r.random() < 0.05:
        # more than MAX_DATA bytes
        run = max(runs, key=len)
        items = [(run[0], run[-1])] * r.randint(20, 60)
    ids = [i for a, b in items for i in range(a, b + 1)]
    text = ",".join(str(a) if a == b else f"{a}-{b}" for a, b in items)
    return text, ids, sum(sizes[i] for i in ids)


def packet_request(r, t):
    """One request of the grammar of docs/interop/mcd.rst, with values
    that make sense: (head, [parameters])."""
    core = r.choice(t.cores())
    k = r.randrange(124)
    if k < 2:
        return "I", []
    if k < 3:
        return r.choice(["D", "I"]), []
    if k < 26:
        q = r.choice(["system", "cores", "resetf", "resetc", "trigger",
                      "memoryf", "memoryc", "reggroupf", "reggroupc", "regf",
                      "regc", "state", "state", "state", "protocol",
                      "protocol", "coreinfo", "foo", ""])
        if q in ("resetf", "memoryf", "reggroupf", "regf", "state"):
            return "q" + q, [str(core)]
        if q == "coreinfo":
            return "qcoreinfo", [str(r.choice([core, core, 1, 2, 7, U32]))]
        if q in ("resetc", "memoryc", "reggroupc", "regc"):
            return "q" + q, [str(r.choice([0, 1, 1, 2, 3, 5, 20, 300,
                                           len(t.regs) - 1, len(t.regs)]))]
        if q == "protocol":
            names = r.sample(EXTENSIONS, r.randint(0, len(EXTENSIONS)))
            if r.random() < 0.15:
                names.append(r.choice(["foo", "", "ERRORS", "errors ",
                                       "x" * 300, "errors\x01", "err\xe9"]))
            return "qprotocol", [",".join(names)]
        return "q" + q, []
    if k < 31:
        return r.choice("iiiid"), [str(core)]
    if k < 43:
        return "p", [str(core), str(r.choice(t.regs)[0])]
    mem_spaces = [s[0] for s in t.packet_spaces if not s[2] & 1]
    if r.random() < 0.1:
        mem_spaces = [s[0] for s in t.packet_spaces]
    if k < 51:
        reg, _, size, _ = r.choice(t.safe_list)
        n = size if r.random() < 0.9 else r.choice([0, 1, size + 1, 256])
        return "P", [str(core), str(reg), str(size), hexdata(r, n)]
    if k < 62:
        space = r.choice(mem_spaces)
        length = r.choice([0, 1, 2, 4, 4, 4, 8, 16, 64, 4096, 16384, 16385,
                           U32])
        params = [str(core), str(space), str(t.read_addr(r)), str(length)]
        if r.random() < 0.2:
            params.append(str(r.choice([0, 1, 2, 2, 3, 4, 0x80])))
        return "m", params
    if k < 70:
        space = r.choice(mem_spaces)
        if r.random() < 0.05:
            addr, length = SCRATCH, 16384
        else:
            addr, length = t.write_range(r)
        n = length if r.random() < 0.9 else r.choice([0, 1, length + 1])
        return "M", [str(core), str(space), str(addr), str(length),
                     hexdata(r, n)]
    if k < 82:
        letter = r.choice("CCbbbccc")
        params = [str(r.choice([0, 0, 0, 1])), str(core)]
        if letter == "c" and r.random() < 0.5:
            params.append(str(r.choice([1, 2, 10, 1000, 100000, 0, U32])))
        return letter, params
    if k < 86:
        params = [str(r.choice([0, 1, 1]))]
        if r.random() < 0.5:
            params += [str(core), str(r.choice([0, 1, 1]))]
        return "r", params
    if k < 97:
        typ = r.choice([1, 1, 2, 3, 4])
        addr = r.choice([GUEST_BASE + LOOP_OFFSET, GUEST_BASE + LOOP_OFFSET
                         + 4, t.code_addr(r), COUNTERS, COUNTERS + 8,
                         SCRATCH, 0, U64, U64 - 3])
        params = [str(core), str(typ), str(addr),
                  str(r.choice([0, 0, 1, 2, 7, 16, 17, U32]))]
        if r.random() < 0.3:
            params.append(str(r.choice([1, 2, 4, 8, 3, 0, 4096, U64])))
        return r.choice("ttT"), params
    if k < 100:
        return r.choice(["x", "Z0", "?", "vCont", "qSupported", "g", "k",
                         "s", "\x7f", "\xff", "X", "G"]), []
    # the extensions "regs" and "binary"
    if k < 105:
        if r.random() < 0.3:
            # "stopregs": the registers of the stop notifications
            return "E", [str(core)] + ([reg_id_list(r, t)]
                                       if r.random() < 0.8 else [])
        return "g", [str(core), reg_id_list(r, t)]
    if k < 110:
        text, _, size = safe_reg_list(r, t)
        n = size if r.random() < 0.9 else r.choice([0, 1, size - 1,
                                                     size + 1])
        return "G", [str(core), text, hexdata(r, max(n, 0))]
    if k < 117:
        space = r.choice(mem_spaces)
        length = r.choice([0, 1, 4, 4, 16, 256, 4096, 4096, 16384, 16385,
                           65536, MAX_BINARY, MAX_BINARY, MAX_BINARY + 1,
                           U32])
        addr = SCRATCH if length > 65536 and r.random() < 0.5 \
            else t.read_addr(r)
        params = [str(core), str(space), str(addr), str(length)]
        if r.random() < 0.3:
            params.append(str(r.choice([0, 1, 2, 2, 3, 4, 0x80])))
        return "x", params
    space = r.choice(mem_spaces)
    addr, length = t.write_range(r, r.choice([
        0, 1, 2, 3, 4, 8, 64, 256, 4096, 16385, 65536, MAX_BINARY,
        MAX_BINARY + 1]))
    return "X", [str(core), str(space), str(addr), str(length),
                 binary_text(r, binary_bytes(r, length))]


def packet_command(r, t):
    """A request's payload; three in ten have bad parameters: edge
    values, missing, extra or empty ones."""
    head, params = packet_request(r, t)
    if r.random() < 0.3:
        for _ in range(r.choice([1, 1, 2])):
            op = r.randrange(5)
            if op <= 1 and params:
                params[r.randrange(len(params))] = r.choice(
                    BAD_PARAMS + [str(v) for v in INTS])
            elif op == 2 and params:
                del params[r.randrange(len(params))]
            elif op == 3:
                params.insert(r.randrange(len(params) + 1),
                              r.choice(["0", "1", "", "4", U64]))
            else:
                params.append(str(r.choice(INTS)))
    return head + ";".join(str(p) for p in params)


def frame_packet(r, payload):
    body = payload.encode("latin-1")
    x = r.random()
    if x < 0.70:
        pkt = b"$" + body + b"#|"
    elif x < 0.74:
        pkt = b"$" + body + b"#~"
    elif x < 0.86:
        cks = b"%02x" % (sum(body) & 0xff)
        pkt = b"$" + body + b"#" + (cks.upper() if r.random() < 0.2
                                     else cks)
    elif x < 0.89:
        pkt = b"$" + body + b"#%02x" % ((sum(body) + 1) & 0xff)
    elif x < 0.91:
        pkt = b"$" + body
    elif x < 0.93:
        pkt = b"$" + body + b"#" + r.choice([b"x", b"\x00", b"#", b"$", b"g0",
                                            b"0g", b"0"])
    elif x < 0.95:
        pkt = body + b"#|"
    else:
        pkt = b"$" + body + b"#|"
        if len(pkt) < 1024:
            pkt += b"\x00" * (1024 - len(pkt))     # the era-1 client
    return pkt


def packet_scenario(r, t):
    """A debugger's sequence that reaches deep states: hits, steps,
    resets with halt, run control of one core while others run."""
    c = r.choice(t.cores())
    loop = GUEST_BASE + LOOP_OFFSET
    space = [s[0] for s in t.packet_spaces if not s[2] & 1][-1]
    ext = "qprotocol" + ",".join(r.sample(EXTENSIONS,
                                          r.randint(3, len(EXTENSIONS))))
    # the extensions of lists, registers and binary data, with others
    ext_new = "qprotocol" + ",".join(
        ["lists", "regs", "binary", "errors", "steps"] +
        r.sample(EXTENSIONS[2:8], r.randint(0, 6)))
    top = max(rg[0] for rg in t.regs)
    regs, _, size = safe_reg_list(r, t)
    blob = binary_bytes(r, r.choice([1, 3, 4096, 65536, MAX_BINARY]))
    addr = SCRATCH + r.randint(0, SCRATCH_END - SCRATCH - len(blob))
    scenarios = [
        ["I", "qprotocolerrors,notify,stoprec,regs,stopregs", f"i{c}",
         f"E{c};{regs}", f"c0;{c}", f"qstate{c}", f"t{c};1;{loop};5",
         "C1;0", f"qstate{c}", f"T{c};1;{loop};5", f"E{c}", f"c0;{c}",
         "C1;0"],
        ["I", ext, f"i{c}", f"t{c};1;{loop};5", "C1;0", f"qstate{c}",
         f"p{c};{t.pc_id}", f"T{c};1;{loop};5", f"c0;{c};10", f"qstate{c}",
         "C1;0"],
        ["I", ext, f"i{c}", f"t{c};3;{COUNTERS + 8 * c};0;8", "C1;0",
         f"qstate{c}", f"c0;{c}", f"T{c};3;{COUNTERS + 8 * c};0;8",
         f"C0;{c}"],
        ["I", ext, f"i{c}", f"r0;{c};1", f"qstate{c}", f"p{c};{t.pc_id}",
         f"c0;{c};3", f"qstate{c}", "C1;0"],
        ["I", ext, f"i{c}", f"b0;{c}", f"c0;{c};100000", f"b0;{c}",
         f"qstate{c}", f"C0;{c}"],
        ["I", ext, f"i{c}", f"r1;{c};0", f"qstate{c}", "r0", f"qstate{c}"],
        ["I", ext] + [f"i{k}" for k in t.cores()] + ["b1;0"] +
        [f"m{k};{space};{loop};16" for k in t.cores()] + [f"C0;{c}",
                                                          f"qstate{c}",
                                                          "C1;0"],
        ["I", ext, f"i{c}", f"t{c};1;{loop};0", f"t{c};1;{loop + 4};0",
         "C1;0", f"d{c}", f"i{c}", f"qstate{c}", "D", "I"],
        # whole lists in one reply, registers by the list
        ["I", ext_new, f"i{c}", f"qregf{c}", "qregc1", f"qregc{top}",
         f"qmemoryf{c}", f"qreggroupf{c}", f"qresetf{c}", "qresetc1",
         f"g{c};0-{top}", f"b0;{c}", f"G{c};{regs};{hexdata(r, size)}",
         f"g{c};{regs}", f"g{c};{t.pc_id},{regs}", f"C0;{c}",
         f"g{c};0-{top}"],
        # binary data, up to 1 MiB
        ["I", ext_new, f"i{c}",
         f"X{c};{space};{addr};{len(blob)};{binary_text(r, blob)}",
         f"x{c};{space};{addr};{len(blob)}",
         f"x{c};{space};{GUEST_BASE};{r.choice([64, MAX_BINARY])};"
         f"{r.choice([0, 1, 2])}",
         f"m{c};{space};{addr};16", "D", f"x{c};{space};{addr};1"],
        # a state query of a core that steps waits for the steps (2 ms
        # at most)
        ["I", ext_new, f"i{c}", f"b0;{c}",
         f"c0;{c};{r.choice([1, 1000, 100000])}", f"qstate{c}",
         f"qstate{c}", f"g{c};{t.pc_id}", f"b0;{c}", f"qstate{c}",
         f"C0;{c}", f"qstate{c}"],
    ]
    return [b"$" + p.encode("latin-1") + b"#|" for p in r.choice(scenarios)]


def packet_case(r, t, index):
    parts = []
    if r.random() < 0.05:
        parts = packet_scenario(r, t)
        data = b"".join(parts)
        return mutate_bytes(r, data) if r.random() < 0.2 else data
    if index == 0 or r.random() < 0.08:
        setup = ["I"]
        if r.random() < 0.7:
            setup.append("qprotocol" + ",".join(
                r.sample(EXTENSIONS, r.randint(0, len(EXTENSIONS)))))
        setup += [f"i{c}" for c in t.cores()]
        if r.random() < 0.5:
            setup.append(r.choice(["b1;0"] + [f"b0;{c}"
                                              for c in t.cores()]))
        parts += [b"$" + p.encode() + b"#|" for p in setup]
    for _ in range(r.choice([1, 1, 1, 2, 2, 3, 4])):
        x = r.random()
        if x < 0.01:
            # an oversized payload
            parts.append(b"$M0;3;" + str(SCRATCH).encode() + b";20480;"
                         + b"0" * (40 * 1024) + b"#|")
        elif x < 0.013:
            # oversized even with "binary"
            parts.append(b"$X0;2;%d;%d;" % (SCRATCH, MAX_BINARY) + b"\x00" *
                         (MAX_BINARY_PAYLOAD + r.choice([1, 4096])) + b"#|")
        elif x < 0.03:
            cmd = packet_command(r, t).encode("latin-1")
            pos = r.randrange(len(cmd) + 1)
            parts.append(b"$" + cmd[:pos] + b"\x00" + cmd[pos:] + b"#|")
        elif x < 0.07:
            parts.append(r.choice([b"+", b"-", b"--", b"\x00" * 16, b"|",
                                   b"#", b"~", b"garbage", b"%stop=0.#|",
                                   b"\xff\xfe", b"\r\n"]))
        else:
            parts.append(frame_packet(r, packet_command(r, t)))
    data = b"".join(parts)
    if r.random() < 0.25:
        data = mutate_bytes(r, data)
    return data


def packet_unsafe(data, t):
    """Whether @data may hold a write that could change the guest: a
    memory write (M, X) outside the scratch area that is all mapped, or
    a write (P, G) to a register the guest depends on.  Numbers are read
    leniently."""
    # memory writes, in hex (M) or binary data (X)
    for m in re.finditer(rb"[MX](\d+);(\d+);(\d+);(\d+)", data):
        addr, length = num(m.group(3)), num(m.group(4))
        if addr is None or length is None or \
           not write_is_harmless(addr, length):
            return True
    for m in re.finditer(rb"P(\d+);(\d+)", data):
        if num(m.group(2)) not in t.safe_regs:
            return True
    # register lists of G: the longest list QEMU could read
    for m in re.finditer(rb"G(\d+);(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)",
                         data):
        ids = id_list_ids(m.group(2).decode(), MAX_REG_LIST)
        if ids is None or not t.safe_regs.issuperset(ids):
            return True
    return False


# ---------------------------------------------------------------------
# The JSON protocol
# ---------------------------------------------------------------------

def load_schema(path):
    """The commands and structs of qapi/mcd.json."""
    with open(path) as f:
        text = "\n".join(re.sub(r"#.*", "", line) for line in f)
    exprs, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                src = text[start:i + 1].replace("true", "True") \
                                       .replace("false", "False")
                exprs.append(ast.literal_eval(src))
    commands = {e["command"]: e.get("data") or {}
                for e in exprs if "command" in e}
    structs = {e["struct"]: e["data"] for e in exprs if "struct" in e}
    return commands, structs


class JsonGen:
    """Requests of every command of the schema, from its types, with
    values that make sense for the target and edge values."""

    def __init__(self, t, schema):
        self.t = t
        self.commands, self.structs = schema
        self.names = sorted(self.commands)
        # commands that end the session or a core come less often
        rare = {"mcd-exit": 0.15, "mcd-close-server": 0.3,
                "mcd-close-core": 0.3}
        self.weights = [rare.get(n, 1.0) for n in self.names]
        self.server_uid = 1

    # -- values by type and member name --------------------------------

    def uint(self, r, bits, name, ctx):
        t = self.t
        good = None
        if name == "core-uid":
            good = r.choice([c + 1 for c in t.cores()] * 8 + [0, t.smp + 1])
        elif name == "server-uid":
            good = r.choice([self.server_uid] * 4 + [0, self.server_uid + 1])
        elif name == "core-id":
            good = r.choice(t.cores() * 4 + [t.smp, U32])
        elif name in ("start-index",):
            good = r.choice([0] * 8 + [1, 2, 5, 300])
        elif name.startswith("num-") or name == "n-registers":
            good = r.choice([0, 1, 1, 2, 5, 100, 1000])
        elif name == "mem-space-id":
            good = r.choice([s[0] for s in t.json_spaces] + [0, 99])
        elif name == "reg-group-id":
            good = r.choice([0, 1, 2, 3, 4, 5, 99])
        elif name == "address":
            good = ctx.get("address", t.read_addr(r))
        elif name == "addr-range":
            good = r.choice([0, 0, 1, 3, 7, 4095, U64])
        elif name == "type" and ctx.get("trig"):
            good = r.choice([1, 1, 1, 2, 4, 8, 1, 2, 4, 8, 0x10, 0, 3, U32])
        elif name == "action":
            good = r.choice([1, 1, 1, 2, 0, 3, 4, U32])
        elif name in ("option", "action-param", "state-mask", "data-size",
                      "hw-thread-id", "core-mode-mask", "addr-space-id",
                      "addr-space-type", "core-mode"):
            good = r.choice([0, 0, 0, 0, 1, 2, 0x80, U32 & (1 << bits) - 1])
        elif name == "access-type":
            good = ctx.get("access-type", 1)
        elif name == "access-width":
            good = r.choice([0, 0, 1, 2, 4, 8, 3])
        elif name == "options":
            good = r.choice([0, 0, 1, 2, 3, 0x80, 0x100])
        elif name == "num-bytes":
            good = ctx.get("num-bytes", r.choice([0, 1, 4, 8, 64]))
        elif name == "step-type":
            good = r.choice([2, 2, 2, 1, 0, 3])
        elif name == "n-steps":
            # the reply waits for the steps: keep them few
            good = r.choice([1, 1, 2, 3, 10, 100, 1000, 0])
        elif name == "rst-class-vector":
            good = r.choice([1, 1, 2, 2, 3, 0, 4, U32])
        elif name == "rst-class":
            good = r.choice([0, 1, 2, 31, 32, 255])
        elif name == "trig-id":
            good = r.choice([1, 1, 2, 2, 3, 4, 5, 8, 16, 0, 17, 100, U32])
        elif name == "v-api-major":
            good = r.choice([1, 1, 1, 0, 2])
        elif name == "v-api-minor":
            good = r.choice([0, 1, 1, 2])
        if good is None or r.random() < 0.08:
            good = r.choice([0, 1, 2, (1 << bits) - 1, r.randrange(1 << bits)]
                            + [v for v in INTS if v < 1 << bits])
        if name == "n-steps" and good > 100000:
            good = 100000
        return good

    def string(self, r, name):
        x = r.random()
        if x < 0.94:
            return r.choice(["", "", "QEMU", "localhost", "McdHostName=\"x\"",
                             "cortex-a57", "Process ID: 1"])
        if x < 0.97:
            return "x" * r.choice([63, 64, 255, 256, 4096, 100000])
        return r.choice(["\u00e9\u20ac\U0001f600", "\x00", "\n\"\\", "%s%n",
                         "\ud800", "a\x01b", "\ufeff", "\x7f", "\udfff\ud800"])

    def value(self, r, typ, name, ctx, depth=0):
        if isinstance(typ, list):
            n = r.choice([0, 1, 1, 2, 3])
            return [self.value(r, typ[0], name, ctx, depth + 1)
                    for _ in range(n)]
        if typ == "uint8":
            return self.uint(r, 8, name, ctx)
        if typ == "uint16":
            return self.uint(r, 16, name, ctx)
        if typ == "uint32":
            return self.uint(r, 32, name, ctx)
        if typ == "uint64":
            return self.uint(r, 64, name, ctx)
        if typ == "bool":
            return r.random() < 0.5
        if typ == "str":
            return self.string(r, name)
        if typ == "MCDTxlist":
            return self.txlist(r)
        if typ == "MCDTrig":
            return self.trig(r)
        return self.struct(r, typ, ctx, depth)

    def struct(self, r, typ, ctx, depth):
        out = {}
        for member, mtyp in self.structs[typ].items():
            optional = member.startswith("*")
            member = member.lstrip("*")
            if optional and r.random() < 0.3:
                continue
            out[member] = self.value(r, mtyp, member, ctx, depth + 1)
        return out

    def trig(self, r):
        ctx = {"trig": True,
               "address": r.choice([GUEST_BASE + LOOP_OFFSET, COUNTERS,
                                    COUNTERS + 8, self.t.code_addr(r),
                                    SCRATCH, 0, U64])}
        x = r.random()
        kinds = ["trig-simple-core"] if x < 0.65 else \
            ["trig-complex-core"] if x < 0.94 else \
            [] if x < 0.97 else ["trig-simple-core", "trig-complex-core"]
        typ = {"trig-simple-core": "MCDTrigSimpleCore",
               "trig-complex-core": "MCDTrigComplexCore"}
        return {k: self.struct(r, typ[k], ctx, 1) for k in kinds}

    def txlist(self, r):
        txs = []
        for _ in range(r.choice([0, 1, 1, 1, 2, 3, 8])):
            x = r.random()
            ctx = {}
            if x < 0.45:
                ctx["access-type"] = 1
                ctx["num-bytes"] = r.choice([0, 1, 2, 4, 8, 16, 64, 4096,
                                             16000, 16001, U32])
            elif x < 0.8:
                ctx["access-type"] = 2
                ctx["address"], ctx["num-bytes"] = self.t.write_range(r)
            elif x < 0.95 and self.t.json_reg_space is not None:
                # a register of the register space
                reg, _, size, _ = r.choice(self.t.regs)
                if r.random() < 0.5 and self.t.safe_list:
                    ctx["access-type"] = 2
                    reg, _, size, _ = r.choice(self.t.safe_list)
                else:
                    ctx["access-type"] = 1
                ctx["address"], ctx["num-bytes"] = reg, size
                ctx["space"] = self.t.json_reg_space
            else:
                ctx["access-type"] = r.choice([0, 3, 4, 99, U32])
                ctx["num-bytes"] = 4
                ctx["address"] = SCRATCH
            tx = self.struct(r, "MCDTx", ctx, 1)
            if "space" in ctx:
                tx["addr"]["mem-space-id"] = ctx["space"]
            elif r.random() < 0.8:
                tx["addr"]["mem-space-id"] = r.choice(
                    [s[0] for s in self.t.json_spaces
                     if s[0] != self.t.json_reg_space] or [1])
            nb = tx["num-bytes"]
            if ctx["access-type"] != 1 and nb <= 1 << 16:
                n = nb if r.random() < 0.85 else r.choice([0, nb + 1,
                                                           max(nb - 1, 0)])
                tx["data"] = [r.randrange(256) for _ in range(n)]
            txs.append(tx)
        ntx = len(txs) if r.random() < 0.85 else r.choice([0, len(txs) + 1,
                                                           U32])
        return {"tx": txs, "num-tx": ntx, "num-tx-ok": 0}

    # -- requests -------------------------------------------------------

    def request(self, r, name=None):
        name = name or r.choices(self.names, self.weights)[0]
        args = {m.lstrip("*"): self.value(r, typ, m.lstrip("*"), {})
                for m, typ in self.commands[name].items()
                if not (m.startswith("*") and r.random() < 0.3)}
        req = {"execute": name}
        if args or r.random() < 0.5:
            req["arguments"] = args
        return req

    def setup(self):
        reqs = [{"execute": "mcd-open-server",
                 "arguments": {"system-key": "", "config-string": ""}}]
        for c in self.t.cores():
            reqs.append({"execute": "mcd-open-core", "arguments": {
                "core-con-info": self.con_info(c)}})
        return reqs

    def con_info(self, core):
        info = {m: ("" if typ == "str" else 0)
                for m, typ in self.structs["MCDCoreConInfo"].items()}
        info["core-id"] = core
        return info


def wrong_value(r):
    return r.choice([None, True, False, -1, -(1 << 63), 1 << 64, 1 << 65,
                     10 ** 40, 1.5, 1e308, -0.0, "1", "", "x" * 70000, [],
                     [1, 2], {}, {"a": 1}, 2 ** 32, 256, 65536])


def structural_mutation(r, req):
    """Mutate the decoded request: wrong types, missing and unknown
    members, huge numbers, long strings, deep nesting."""
    paths = []

    def walk(obj, path):
        if isinstance(obj, dict):
            for k, v in obj.items():
                paths.append((obj, k))
                walk(v, path + [k])
        elif isinstance(obj, list):
            for k, v in enumerate(obj):
                paths.append((obj, k))
                walk(v, path + [k])
    walk(req, [])
    for _ in range(r.randint(1, 3)):
        if not paths:
            break
        parent, key = r.choice(paths)
        op = r.randrange(6)
        try:
            if op == 0:
                parent[key] = wrong_value(r)
            elif op == 1 and isinstance(parent, dict):
                del parent[key]
                paths = [(p, k) for p, k in paths
                         if not (p is parent and k == key)]
            elif op == 2 and isinstance(parent, dict):
                parent[r.choice(["unknown", "x", "id", "arguments",
                                 "execute", "exec-oob", "core_uid", ""])] = \
                    wrong_value(r)
            elif op == 3:
                # replaced by the nesting in encode_json()
                parent[key] = "__deep_%s_%d__" % (r.choice("la"), r.choice(
                    [8, 8, 64, 64, 1000, 1000, 1023, 1023, 1025, 5000]))
            elif op == 4 and isinstance(parent[key], int) and \
                    not isinstance(parent[key], bool):
                parent[key] = r.choice([parent[key] + 1, parent[key] - 1,
                                        -parent[key], parent[key] << 32,
                                        U32 + 1, U64 + 1, -1])
            elif op == 5 and isinstance(parent[key], str):
                parent[key] = (parent[key] * r.randint(2, 1000))[:200000]
        except (KeyError, IndexError, TypeError):
            pass
    if r.random() < 0.1:
        req = r.choice([[], "x", 1, None, {"execute": 1},
                        {"arguments": {}}, {"execute": "mcd-unknown"},
                        {"execute": "query-status"}, {"execute": ""},
                        {"execute": "mcd-exit", "arguments": []}])
    return req


def encode_json(r, req):
    """Compact JSON, with text-level oddities now and then."""
    text = json.dumps(req, separators=(",", ":"),
                      ensure_ascii=r.random() < 0.7, allow_nan=True)
    text = re.sub(r'"__deep_([la])_(\d+)__"', lambda m: (
        "[" * int(m.group(2)) + "1" + "]" * int(m.group(2))
        if m.group(1) == "l" else
        '{"a":' * int(m.group(2)) + "1" + "}" * int(m.group(2))), text)
    x = r.random()
    if x < 0.05 and isinstance(req, dict) and req:
        # a duplicate key
        k = r.choice(list(req))
        text = "{" + json.dumps(k) + ":" + json.dumps(wrong_value(r)) + "," \
            + text[1:]
    elif x < 0.08:
        text = text.replace('"', "'")           # QEMU's single quotes
    elif x < 0.12:
        text = re.sub(r"([,:{}\[\]])", lambda m: m.group(1)
                      + r.choice([" ", "\n", "\t", "\r\n", ""]), text)
    elif x < 0.15:
        text = text.replace("mcd", "\\u006dcd", 1)
    data = text.encode("utf-8", "surrogatepass")
    x = r.random()
    if x < 0.05:
        data = data[:r.randrange(len(data) + 1)]         # truncated
    elif x < 0.07:
        data += r.choice([b"}", b"]", b"x", b"\x00", b"\"", b"{", b"nul",
                          b"\xc3", b"\n\n"])
    elif x < 0.09:
        pos = r.randrange(len(data) + 1)
        data = data[:pos] + r.choice([b"\xff", b"\xfe", b"\xc0\x80",
                                      b"\xed\xa0\x80", b"\x01"]) + data[pos:]
    return data


def json_scenario(r, gen):
    """A debugger's sequence that reaches deep states."""
    t = gen.t
    c = r.choice(t.cores())
    uid = c + 1
    loop = GUEST_BASE + LOOP_OFFSET
    space = [s[0] for s in t.json_spaces if not s[2] & 1][-1]

    def trig(typ, addr, rng=0):
        return {"trig-simple-core": {
            "type": typ, "option": 0, "action": 1, "action-param": 0,
            "modified": False, "state-mask": 0,
            "addr-start": {"address": addr, "mem-space-id": space,
                           "addr-space-id": 0, "addr-space-type": 0},
            "addr-range": rng}}

    def q(name, **args):
        return {"execute": name, "arguments": args}
    seqs = [
        [q("mcd-create-trig", **{"core-uid": uid, "trig": trig(1, loop)}),
         q("mcd-run", **{"core-uid": uid, "global": True}),
         q("mcd-qry-state", **{"core-uid": uid}),
         q("mcd-step", **{"core-uid": uid, "global": False, "step-type": 2,
                          "n-steps": r.choice([1, 5, 1000])}),
         q("mcd-qry-trig-set", **{"core-uid": uid, "start-index": 0,
                                  "num-trigs": 16}),
         q("mcd-remove-trig-set", **{"core-uid": uid}),
         q("mcd-run", **{"core-uid": uid, "global": True})],
        [q("mcd-create-trig", **{"core-uid": uid, "trig": trig(
            4, COUNTERS + 8 * c, 7)}),
         q("mcd-run", **{"core-uid": uid, "global": r.random() < 0.5}),
         q("mcd-qry-state", **{"core-uid": uid}),
         q("mcd-qry-trig", **{"core-uid": uid, "trig-id": 1}),
         q("mcd-qry-trig-set-state", **{"core-uid": uid}),
         q("mcd-qry-trig-state", **{"core-uid": uid, "trig-id": 1}),
         q("mcd-remove-trig-set", **{"core-uid": uid}),
         q("mcd-run", **{"core-uid": uid, "global": True})],
        [q("mcd-rst", **{"core-uid": uid, "rst-class-vector": 1,
                         "rst-and-halt": True}),
         q("mcd-qry-state", **{"core-uid": uid}),
         q("mcd-step", **{"core-uid": uid, "global": False, "step-type": 2,
                          "n-steps": 3}),
         q("mcd-run", **{"core-uid": uid, "global": True})],
        [q("mcd-stop", **{"core-uid": uid, "global": False}),
         q("mcd-step", **{"core-uid": uid, "global": False, "step-type": 2,
                          "n-steps": 100000}),
         q("mcd-qry-state", **{"core-uid": uid}),
         q("mcd-run", **{"core-uid": uid, "global": False})],
        [q("mcd-rst", **{"core-uid": uid, "rst-class-vector": 2,
                         "rst-and-halt": r.random() < 0.5}),
         q("mcd-qry-state", **{"core-uid": uid}),
         q("mcd-rst", **{"core-uid": uid, "rst-class-vector": 1,
                         "rst-and-halt": False})],
        [q("mcd-stop", **{"core-uid": uid, "global": True}),
         q("mcd-execute-txlist", **{"core-uid": uid, "txlist": gen.txlist(
             r)}),
         q("mcd-close-core", **{"core-uid": uid}),
         q("mcd-exit")],
    ]
    return [json.dumps(x).encode() for x in gen.setup() + r.choice(seqs)]


def json_case(r, gen, index):
    if r.random() < 0.05:
        data = b"".join(json_scenario(r, gen))
        return mutate_bytes(r, data) if r.random() < 0.15 else data
    reqs = []
    if index == 0 or r.random() < 0.15:
        reqs += [json.dumps(q, separators=(",", ":")).encode()
                 for q in gen.setup()]
    for _ in range(r.choice([1, 1, 1, 2, 2, 3])):
        x = r.random()
        if x < 0.03:
            reqs.append(r.choice([b"[" * 2000, b"{\"a\":" * 1500,
                                  b"\"" + b"x" * 100000 + b"\"",
                                  b"1" * 5000, b"nulltruefalse", b"{}", b"[]",
                                  b"{\"execute\":\"mcd-exit\"}" * 5]))
            continue
        req = gen.request(r)
        if r.random() < 0.25:
            req = structural_mutation(r, req)
        reqs.append(encode_json(r, req))
    data = b"".join(reqs)
    if r.random() < 0.15:
        data = mutate_bytes(r, data)
    return data


def _multi_hook(pairs):
    d = {}
    for k, v in pairs:
        d.setdefault(k, []).append(v)
    return MultiDict(d)


class MultiDict(dict):
    """A JSON object that keeps every value of a duplicate key."""


def _decode_all(text):
    """Every JSON object that starts at a '{' of @text, leniently, with
    the span of text it covers."""
    dec = json.JSONDecoder(object_pairs_hook=_multi_hook, strict=False)
    found = []
    for m in re.finditer(r"\{", text):
        try:
            obj, end = dec.raw_decode(text, m.start())
            found.append((obj, m.start(), end))
        except (ValueError, RecursionError):
            pass
    return found


# The members whose values json_unsafe() checks.
WATCHED = re.compile(r"access-type|n-steps")


def json_unsafe(data, t):
    """Whether @data may hold a transaction that writes where it could
    change the guest, or a step of many instructions (its reply would
    wait for them).  Every object of the text is decoded leniently (with
    duplicate keys kept, and again with QEMU's single quotes); a watched
    member that no decoded object covers is unsafe."""
    if b"txlist" not in data and b"step" not in data:
        return False
    if data.count(b"{") > 400:
        return True
    text = data.decode("utf-8", "replace")
    variants = [text] + ([text.replace("'", '"')] if "'" in text else [])
    objs = []
    for v in variants:
        found = _decode_all(v)
        for m in WATCHED.finditer(v):
            if not any(s < m.start() < e for _, s, e in found):
                return True
        objs += [o for o, _, _ in found]

    def values(d, key):
        return d.get(key, []) if isinstance(d, MultiDict) else []

    def ints(vals):
        return [int(v) for v in vals if isinstance(v, (int, float))
                and not isinstance(v, bool) and abs(v) < 1e30]

    def unsafe(obj):
        if isinstance(obj, list):
            return any(unsafe(v) for v in obj)
        if not isinstance(obj, MultiDict):
            return False
        if any(v > 10 ** 6 for v in ints(values(obj, "n-steps"))):
            return True
        if 2 in ints(values(obj, "access-type")):
            length = max(ints(values(obj, "num-bytes")) or [0])
            for addr in values(obj, "addr"):
                spaces = values(addr, "mem-space-id") or [None]
                for a in ints(values(addr, "address")):
                    for sp in spaces:
                        if sp is not None and sp == t.json_reg_space:
                            if a not in t.safe_regs:
                                return True
                        elif not write_is_harmless(a, length):
                            return True
        return any(unsafe(v) for vs in obj.values() for v in vs)

    try:
        return any(unsafe(o) for o in objs)
    except RecursionError:
        return True


# ---------------------------------------------------------------------
# The fuzzing sessions
# ---------------------------------------------------------------------

class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.arch, self.smp = args.arch, args.smp
        self.qemu_bin = args.qemu or os.path.join(
            REPO, "build", "qemu", "build", f"qemu-system-{self.arch}")
        self.t = Target(self.arch, self.smp)
        self.cases = 0
        self.findings = 0
        self.soft_findings = 0
        self.filtered = 0
        self.history = []

    def log(self, msg):
        if self.args.verbose:
            print(msg, flush=True)

    def case_rng(self, proto, index, attempt=0):
        return random.Random(f"mcd-wire-fuzz/{self.args.seed}/{proto}/"
                             f"{index}/{attempt}")

    # -- start and discovery ----------------------------------------

    def start(self, workdir, proto):
        os.makedirs(OUTDIR, exist_ok=True)
        log = os.path.join(OUTDIR, f"qemu-{self.arch}-smp{self.smp}-{proto}-"
                           f"seed{self.args.seed}.log")
        if os.path.exists(log):
            os.unlink(log)
        self.qemu = Qemu(self.qemu_bin, self.arch, self.smp, workdir, log)
        self.image = self.qemu.image()
        self.qemu.qmp.cmd("cont")
        self.discover()

    def packet_session(self):
        conn = Conn(self.qemu.port)
        conn.watch = self.qemu.check_memory
        stream = PacketStream()
        return conn, stream

    def packet_query(self, conn, stream, payload):
        conn.send([b"$" + payload.encode() + b"#|"], stream.feed)
        conn.wait(stream.feed, lambda: any(e[0] == "$"
                                           for e in stream.events))
        for k, ev in enumerate(stream.events):
            if ev[0] == "$":
                del stream.events[:k + 1]
                return ev[1]

    def packet_list(self, conn, stream, first, nxt):
        recs = []
        reply = self.packet_query(conn, stream, first)
        while True:
            k, _, rec = reply.partition("!")
            if rec:
                recs.append(dict(f.split("=", 1) for f in rec.split(".")
                                 if "=" in f))
            if k in ("0", ""):
                return recs
            reply = self.packet_query(conn, stream, nxt + k)

    def discover(self):
        conn, stream = self.packet_session()
        try:
            self.packet_query(conn, stream, "I")
            self.packet_query(conn, stream, "qprotocolerrors")
            self.packet_query(conn, stream, "i0")
            regs = self.packet_list(conn, stream, "qregf0", "qregc")
            self.t.learn_regs([(int(g["id"]), g["name"], int(g["size"]) // 8,
                                int(g["memspaceid"])) for g in regs])
            spaces = self.packet_list(conn, stream, "qmemoryf0", "qmemoryc")
            self.t.packet_spaces = [(int(s["id"]), s["name"], int(s["type"]))
                                    for s in spaces]
            self.packet_query(conn, stream, "D")
        finally:
            conn.close()
        self.log(f"{len(self.t.regs)} registers, {len(self.t.safe_regs)} "
                 f"safe to write, memory spaces {self.t.packet_spaces}")

    def json_discover(self, conn, stream):
        gen = JsonGen(self.t, self.schema)
        rsp = json_call(conn, stream, gen.setup()[0], "fuzz-discover", False)
        uid = rsp["return"].get("server-uid")
        json_call(conn, stream, gen.setup()[1], "fuzz-discover", False)
        rsp = json_call(conn, stream, {
            "execute": "mcd-qry-mem-spaces", "arguments": {
                "core-uid": 1, "start-index": 0, "num-mem-spaces": 100}},
            "fuzz-discover", False)
        spaces = rsp["return"].get("mem-spaces", [])
        self.t.json_spaces = [(s["mem-space-id"], s["mem-space-name"],
                               s["mem-type"]) for s in spaces]
        regs = [s[0] for s in self.t.json_spaces if s[2] & 1]
        self.t.json_reg_space = regs[0] if regs else None
        if uid:
            json_call(conn, stream, {"execute": "mcd-close-server",
                                     "arguments": {"server-uid": uid}},
                      "fuzz-discover", False)
        stream.last_uid = None
        self.log(f"JSON memory spaces {self.t.json_spaces}")

    # -- running cases ----------------------------------------------

    def make_case(self, proto, index, gen):
        for attempt in range(20):
            r = self.case_rng(proto, index, attempt)
            if proto == "packet":
                data = packet_case(r, self.t, index)
                bad = packet_unsafe(data, self.t) or \
                    PACKET_PROBE_LOOKALIKE.search(data)
            else:
                data = json_case(r, gen, index)
                bad = json_unsafe(data, self.t)
            if not bad:
                return data, split_chunks(r, data)
            self.filtered += 1
        return b"", [b""]

    def connect(self, proto):
        conn = Conn(self.qemu.port)
        conn.watch = self.qemu.check_memory
        return conn, PacketStream() if proto == "packet" else JsonStream()

    def add_stats(self, stream):
        """Count the replies of @stream, a connection that ends."""
        for k, v in stream.stats.items():
            self.stats[k] = self.stats.get(k, 0) + v
        stream.stats = {}

    def run_protocol(self, proto):
        self.stats = {}
        self.conn, self.stream = self.connect(proto)
        gen = None
        if proto == "json":
            gen = JsonGen(self.t, self.schema)
            self.json_discover(self.conn, self.stream)
        start = time.monotonic()
        self.history = []
        index = -1
        try:
            for index in range(self.args.cases):
                if gen:
                    gen.server_uid = self.stream.last_uid or 1
                self.run_case(proto, index, gen)
                self.cases += 1
            self.log(f"{proto}: {self.args.cases} cases in "
                     f"{time.monotonic() - start:.1f} s")
            if self.args.verbose:
                self.add_stats(self.stream)
                self.log("  replies: " + ", ".join(
                    f"{k!r}: {v}" for k, v in sorted(
                        self.stats.items(), key=lambda x: -x[1])))
            index = "end"
            self.detach(proto, self.conn, self.stream)
        except Finding as f:
            self.finding(proto, index, str(f), self.stream)
            self.conn.close()
            return False
        self.conn.close()
        try:
            self.check_guest(proto)
        except Finding as f:
            self.finding(proto, "end", str(f), self.stream)
            return False
        return True

    def run_case(self, proto, index, gen):
        """Send a case and probe.  Now and then the case is followed by
        an abrupt end of the connection (FIN or RST) and a new one, by a
        packet client in between (JSON), asks for much output and is
        read only after a pause, or writes memory and registers and
        reads them back (packet)."""
        x = self.case_rng(proto, index, "special").random()
        special = "reconnect" if x < 0.004 else \
            "interlude" if x < 0.006 and proto == "json" else \
            "slow" if x < 0.009 else \
            "roundtrip" if x < 0.02 and proto == "packet" else None
        check = None
        if special == "slow":
            data = self.big_output_case(proto, index)
            chunks = [data]
        elif special == "roundtrip":
            data, check = self.roundtrip_case(index)
            chunks = [data]
        else:
            data, chunks = self.make_case(proto, index, gen)
        self.history.append((index, data, special))
        del self.history[:-20]
        if self.args.verbose > 1:
            self.log(f"{proto} {index}{' ' + special if special else ''}: "
                     f"{data[:300]!r}")
        seen = self.stream.total
        self.conn.send(chunks, self.stream.feed)
        resync = True
        if check:
            check()
        if special == "slow":
            time.sleep(0.2)
        elif special in ("reconnect", "interlude"):
            self.conn.close("rst" if x < 0.002 else "fin")
            if special == "interlude":
                self.packet_interlude()
            last_uid = getattr(self.stream, "last_uid", None)
            self.add_stats(self.stream)
            self.conn, self.stream = self.connect(proto)
            if proto == "json":
                # a JSON session outlives its connection
                self.stream.last_uid = last_uid
            seen = 0
            # the first byte of a JSON connection must be '{'
            resync = False
        self.probe(proto, self.conn, self.stream, index, resync)
        if getattr(self.stream, "soft", None):
            self.finding(proto, index, "; ".join(self.stream.soft),
                         self.stream, fatal=False)
            self.stream.soft = []
        if self.args.verbose > 2:
            self.log(f"  <- {received_since(self.stream, seen)[:600]!r}")

    def roundtrip_case(self, index):
        """A binary write ('X') and its read ('x') of the same bytes, and
        registers written with 'G' and read with 'g', in a session with
        "errors": (the case, a function that checks the replies)."""
        r = self.case_rng("packet", index, "roundtrip")
        t = self.t
        c = r.choice(t.cores())
        mem = [s for s in t.packet_spaces if not s[2] & 1]
        space = ([s[0] for s in mem if s[2] & 0x10] or [mem[-1][0]])[0]
        n = r.choice([1, 2, 3, 16, 255, 4096, 65536, MAX_BINARY])
        blob = binary_bytes(r, n)
        addr = SCRATCH + r.randint(0, SCRATCH_END - SCRATCH - n)
        regs, _, size = safe_reg_list(r, t, distinct=True)
        value = r.randbytes(size)
        reqs = ["I", "qprotocolerrors,regs,binary", f"i{c}", f"b0;{c}",
                f"X{c};{space};{addr};{n};"
                + escape_binary(blob).decode("latin-1"),
                f"x{c};{space};{addr};{n}",
                f"G{c};{regs};{value.hex()}", f"g{c};{regs}", f"C0;{c}"]
        data = b"".join(b"$" + q.encode("latin-1") + b"#|" for q in reqs)
        stream = self.stream

        def check():
            replies = []

            def done():
                # every command answers, with "errors"; notifications
                # may come in between
                while stream.events and len(replies) < len(reqs):
                    kind, text = stream.events.pop(0)
                    if kind == "$":
                        replies.append(text)
                return len(replies) == len(reqs)
            self.conn.wait(stream.feed, done)
            what = dict(zip(["I", "qprotocol", "i", "b", "X", "x", "G", "g",
                             "C"], replies))
            if not what["qprotocol"].startswith("version=") or \
               "binary" not in what["qprotocol"]:
                raise Finding(f"qprotocol with binary answered "
                              f"{what['qprotocol'][:200]!r}")
            if what["X"] != "success":
                raise Finding(f"a binary write of {n} bytes at {addr:#x} "
                              f"answered {what['X'][:200]!r}")
            got = what["x"].encode("latin-1")
            err = binary_error(got)
            if err:
                raise Finding(f"the binary read of {n} bytes at {addr:#x} "
                              f"is badly escaped ({err}): {got[:200]!r}")
            got = unescape_binary(got)
            if got != blob:
                off = next((i for i in range(min(len(got), n))
                            if got[i] != blob[i]), min(len(got), n))
                raise Finding(f"the binary read of {n} bytes at {addr:#x} "
                              f"does not give what was written: "
                              f"{len(got)} bytes, first difference at "
                              f"{off}: {got[off:off + 16].hex()} instead "
                              f"of {blob[off:off + 16].hex()}")
            if what["G"] == "success" and what["g"] != value.hex():
                raise Finding(f"g{c};{regs} after G{c};{regs};{value.hex()}"
                              f" answered {what['g'][:200]!r}")
            if what["b"] == "success" and what["G"] != "success":
                raise Finding(f"G{c};{regs} on a stopped core answered "
                              f"{what['G'][:200]!r}")
        return data, check

    def big_output_case(self, proto, index):
        """Requests for much more output than QEMU buffers (64 KiB)."""
        r = self.case_rng(proto, index, "big")
        core = r.choice(self.t.cores())
        n = r.randint(6, 40)
        if proto == "packet" and r.random() < 0.4:
            # binary reads of 1 MiB each
            space = [s[0] for s in self.t.packet_spaces if not s[2] & 1][-1]
            return b"$I#|$qprotocolbinary#|$i%d#|" % core + b"".join(
                b"$x%d;%d;%d;%d#|" % (core, space, SCRATCH + 4096 * k,
                                      MAX_BINARY)
                for k in range(r.randint(2, 6)))
        if proto == "packet":
            space = [s[0] for s in self.t.packet_spaces if not s[2] & 1][-1]
            return b"$I#|$i%d#|" % core + b"".join(
                b"$m%d;%d;%d;16384#|" % (core, space, SCRATCH)
                for _ in range(n))
        space = [s[0] for s in self.t.json_spaces if not s[2] & 1][0]
        req = {"execute": "mcd-execute-txlist", "arguments": {
            "core-uid": core + 1, "txlist": {"num-tx": 1, "num-tx-ok": 0,
                                             "tx": [{
                "addr": {"address": SCRATCH, "mem-space-id": space,
                         "addr-space-id": 0, "addr-space-type": 0},
                "access-type": 1, "options": 0, "access-width": 0,
                "core-mode": 0, "data": [], "num-bytes": 16000,
                "num-bytes-ok": 0}]}}}
        return b"".join(json.dumps(q).encode() for q in JsonGen(
            self.t, self.schema).setup()) + json.dumps(req).encode() * n

    def packet_interlude(self):
        """A packet client comes between two JSON connections: it ends
        the JSON session."""
        conn, stream = self.connect("packet")
        try:
            conn.send([b"$I#|$qprotocolerrors#|$i0#|$b0;0#|$qstate0#|$C1;0#|"
                       b"$D#|" + PACKET_PROBE], stream.feed)
            conn.wait(stream.feed, stream.take_probe)
        finally:
            conn.close()

    def probe(self, proto, conn, stream, index, resync=True):
        if not self.qemu.alive():
            raise Finding(f"QEMU {self.qemu.exit_status()}")
        try:
            if proto == "packet":
                conn.send([PACKET_PROBE if resync else PACKET_PROBE[2:]],
                          stream.feed)
                conn.wait(stream.feed, stream.take_probe)
            else:
                json_call(conn, stream, {"execute": "mcd-qry-error-info",
                                         "arguments": {"core-uid": 0}},
                          f"fuzz-{index}", resync)
        except Finding:
            if not self.qemu.alive():
                raise Finding(f"QEMU {self.qemu.exit_status()}")
            raise

    def detach(self, proto, conn, stream):
        """End the session as a client does: D, or mcd-close-server.
        Then no session may be left: a new one opens and closes."""
        if proto == "packet":
            conn.send([b"#\x00$D#|"], stream.feed)
            self.probe(proto, conn, stream, "detach")
            return

        def close(uid):
            rsp = json_call(conn, stream, {"execute": "mcd-close-server",
                                           "arguments": {"server-uid": uid}},
                            "fuzz-detach")
            return rsp.get("return", {}).get("return-status") == 0

        def open_():
            rsp = json_call(conn, stream, {"execute": "mcd-open-server",
                                           "arguments": {}}, "fuzz-detach")
            return rsp.get("return", {}).get("server-uid")

        last = stream.last_uid or 0
        if last:
            close(last)
        uid = open_()
        if uid is None:
            # the reply of the last mcd-open-server went with a connection
            # the fuzzer closed: the server-uid is one of the next ones
            if not any(close(u) for u in range(last + 1, last + 11)):
                raise Finding(f"a session is open after mcd-close-server "
                              f"{last}, and none of the server-uids after "
                              f"it closes it")
            uid = open_()
            if uid is None:
                raise Finding("a session is open after mcd-close-server")
        if not close(uid):
            raise Finding(f"mcd-close-server {uid} failed")

    # -- checks at the end --------------------------------------------

    def counters_move(self, timeout=2.0):
        before = self.qemu.counters()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.qemu.counters()
            moved = [a != b for a, b in zip(before, now)]
            if all(moved):
                return True, before, now
        return False, before, now

    def check_guest(self, proto):
        q = self.qemu
        if not q.alive():
            raise Finding(f"QEMU {q.exit_status()}")
        # the stub lets a VM it stopped run again at once
        deadline = time.monotonic() + 5
        status = q.status()
        while status != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
            status = q.status()
        if status != "running":
            raise Finding(f"after the detach the VM is {status}, not running")
        image = q.image()
        for (addr, size), old, new in zip(CHECKED, self.image, image):
            if old != new:
                off = next(i for i in range(size) if old[i] != new[i])
                raise Finding(f"guest memory changed at {addr + off:#x}: "
                              f"{old[off:off + 16].hex()} -> "
                              f"{new[off:off + 16].hex()}")
        ok, before, now = self.counters_move()
        if not ok:
            # a core reset leaves a core outside the guest (at the reset
            # vector), legitimately; in the guest, a core must count
            pcs = self.read_pcs()
            for c, (a, b) in enumerate(zip(before, now)):
                if a == b and self.in_guest(pcs[c]):
                    raise Finding(f"core {c} is in the guest at pc "
                                  f"{pcs[c]:#x} but does not count")
            # start the guest again; held cores would stay held
            self.log(f"{proto}: counters {before} -> {now}, pcs "
                     f"{[hex(p) for p in pcs]}: system_reset")
            q.qmp.cmd("system_reset")
            ok, before, now = self.counters_move()
            if not ok:
                raise Finding(f"the guest does not run on every core after "
                              f"the detach and a system_reset: counters "
                              f"{before} -> {now}")
        # a new client sees a sane PC on every core
        for c, pc in enumerate(self.read_pcs()):
            if not self.in_guest(pc):
                raise Finding(f"core {c} runs the guest but its PC reads "
                              f"{pc!r}")
        if q.status() != "running":
            raise Finding("the VM stopped after a short session")

    def in_guest(self, pc):
        return pc is not None and \
            GUEST_BASE <= pc < GUEST_BASE + 4 * len(GUEST[self.arch])

    def read_pcs(self):
        """The PC of every core, as a new packet client reads it."""
        conn, stream = self.packet_session()
        pcs = []
        try:
            self.packet_query(conn, stream, "I")
            self.packet_query(conn, stream, "qprotocolerrors")
            for c in self.t.cores():
                self.packet_query(conn, stream, f"i{c}")
                val = self.packet_query(conn, stream, f"p{c};{self.t.pc_id}")
                pcs.append(int.from_bytes(bytes.fromhex(val), "little")
                           if re.fullmatch(r"([0-9a-f]{2})+", val) else None)
            self.packet_query(conn, stream, "D")
        finally:
            conn.close()
        return pcs

    # -- findings ---------------------------------------------------------

    def finding(self, proto, index, what, stream, fatal=True):
        """Report and save a finding.  QEMU goes on after one that is not
        @fatal, and so does the fuzzer; only the first few of those are
        saved and shown."""
        self.findings += 1
        if not fatal:
            self.soft_findings += 1
            if self.soft_findings > 3:
                if self.soft_findings == 4:
                    print("FINDING: more of these, not shown or saved",
                          flush=True)
                return
        os.makedirs(OUTDIR, exist_ok=True)
        name = (f"finding-{self.arch}-smp{self.smp}-{proto}-seed"
                f"{self.args.seed}-case{index}")
        path = os.path.join(OUTDIR, name + ".txt")
        data = self.history[-1][1] if self.history and index != "end" \
            else b""
        special = self.history[-1][2] if self.history and index != "end" \
            else None
        with open(path, "w") as f:
            f.write(f"what: {what}\n")
            f.write(f"qemu: {self.qemu_bin} ({self.qemu.exit_status()})\n")
            f.write(f"config: --arch {self.arch} --smp {self.smp} "
                    f"--protocol {proto} --seed {self.args.seed}\n")
            f.write(f"case: {index}\n")
            if special:
                f.write(f"special: {special} (see Fuzzer.run_case)\n")
            f.write(f"replay: {sys.argv[0]} --arch {self.arch} --smp "
                    f"{self.smp} --protocol {proto} --seed {self.args.seed} "
                    f"--cases {index + 1 if isinstance(index, int) else ''}"
                    "\n")
            f.write(f"bytes (hex): {data.hex()}\n")
            f.write(f"bytes: {data!r}\n")
            f.write("after every case the fuzzer sends the probe "
                    f"{PACKET_PROBE if proto == 'packet' else JSON_RESYNC!r}"
                    f"...\n")
            f.write(f"received last: {bytes(stream.raw[-2000:])!r}\n")
            f.write("the cases before it:\n")
            for i, d, sp in self.history[:-1]:
                f.write(f"  {i}{' ' + sp if sp else ''}: {d.hex()}\n"
                        f"      {d[:400]!r}\n")
            f.write("QEMU's output:\n" + self.qemu.stderr_tail() + "\n")
        with open(os.path.join(OUTDIR, name + ".bin"), "wb") as f:
            f.write(data)
        print(f"FINDING: {self.arch} smp {self.smp} {proto} seed "
              f"{self.args.seed} case {index}: {what}\n"
              f"  bytes: {data[:300]!r}{'...' if len(data) > 300 else ''}\n"
              f"  saved in {path}", flush=True)

    def run_qemu(self, workdir, proto):
        findings = self.findings
        try:
            self.start(workdir, proto)
            self.run_protocol(proto)
        except (Finding, OSError) as f:
            if hasattr(self, "qemu"):
                self.finding(proto, "start", str(f), PacketStream())
            else:
                print(f"FINDING: QEMU does not start: {f}")
                self.findings += 1
        finally:
            if hasattr(self, "qemu"):
                self.qemu.stop()
                report = self.qemu.sanitizer_report()
                if report and self.findings == findings:
                    self.finding(proto, "end", f"sanitizer report in "
                                 f"QEMU's output: {report}", PacketStream())
                del self.qemu

    def run(self):
        self.schema = load_schema(SCHEMA)
        protos = ["packet", "json"] if self.args.protocol == "both" \
            else [self.args.protocol]
        # a QEMU of its own for each protocol: what one did does not
        # change the other's cases, and the other still runs after a
        # finding
        for proto in protos:
            with tempfile.TemporaryDirectory(prefix="mcd-wire-fuzz-") as wd:
                self.run_qemu(wd, proto)
        print(f"wire fuzz: {self.cases} cases, {self.findings} findings "
              f"({self.arch}, smp {self.smp}, {self.args.protocol}, seed "
              f"{self.args.seed}, {self.filtered} unsafe variants skipped)",
              flush=True)
        return 1 if self.findings else 0


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=1000,
                    help="cases per protocol (default 1000)")
    ap.add_argument("--protocol", choices=["packet", "json", "both"],
                    default="both")
    ap.add_argument("--smp", type=int, choices=[1, 2], default=1)
    ap.add_argument("--arch", choices=["arm", "aarch64"], default="aarch64")
    ap.add_argument("--qemu", help="the QEMU binary (default: the build's "
                    "qemu-system-ARCH)")
    ap.add_argument("-v", "--verbose", action="count", default=0,
                    help="progress; -vv: every case; -vvv: and the replies")
    args = ap.parse_args()
    return Fuzzer(args).run()


if __name__ == "__main__":
    sys.exit(main())
