#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Test of mcd-cli against QEMU's MCD stub in qemu-system-arm (cortex-a15,
# TrustZone) and qemu-system-aarch64 (cortex-a53): a script drives the
# session a debugger such as TRACE32 has (connect, discovery, a tiny
# guest written and read back, registers, a breakpoint, run, wait,
# steps, a reset that halts at the reset vector), and the checks read
# what mcd-cli prints.  Then the failures: bad commands, MCD errors,
# timeouts, an unreachable port, bad options.  Then ELF guests that the
# test assembles (AArch64; ARM that calls Thumb code): symbols, load and
# read back, break at a symbol, the view of a stop with the disassembled
# instruction, disas, regs against reg, x; dump and restore of 4 MiB;
# and a session on a pseudo terminal: history, completion, the progress
# bar, Ctrl-C.  Output is TAP.
#
# libmcd and mcd-cli are MIT licensed, so that proprietary debuggers may
# load the library.
#
#   test-mcd-cli.py [--wrapper CMD] path/to/mcd-cli [qemu-build-dir]
#
# The emulators come from QEMU_SYSTEM_ARM and QEMU_SYSTEM_AARCH64, else
# from qemu-build-dir (default build/qemu/build of the repository).
# --wrapper CMD (or MCD_CLI_WRAPPER) runs mcd-cli through CMD: "wine"
# for mcd-cli.exe, which connects to the Linux emulators this test
# starts.  Wine takes the Unix paths of the files as they are (through
# its drive Z:), and the CRLF line ends of mcd-cli.exe read as LF.  The
# terminal subtests need mcd-cli on a pseudo terminal, not through a
# wrapper: they are skipped there, as are the subtests of what mcd-cli
# was built without (--version: disassembly, line editing).

import fcntl
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

GUEST = 0x40200000
BREAK = GUEST + 4

# The ELF guests that the test assembles and links at GUEST: main at
# GUEST + 8 (AArch64) or + 12 (Thumb), table: bytes the x tests read.
ELF_A64 = """\
    .text
    .global _start
_start:
    mov     x0, #0
    b       main
    .global main
    .type   main, %function
main:
    add     x0, x0, #1
    nop
    b       main
    .size   main, .-main
    .balign 16
    .global table
    .type   table, %object
table:
    .ascii  "MCD-CLI test ELF"
    .word   0x11223344, 0x55667788
    .size   table, .-table
"""
ELF_ARM = """\
    .syntax unified
    .arm
    .text
    .global _start
_start:
    mov     r0, #0
    blx     main
    b       _start
    .thumb
    .thumb_func
    .global main
    .type   main, %function
main:
    adds    r0, #1
    nop
    b       main
    .size   main, .-main
"""

TARGETS = [
    dict(name="arm", env="QEMU_SYSTEM_ARM", binary="qemu-system-arm",
         machine="virt,secure=on", cpu="cortex-a15",
         core="cortex-a15-arm-cpu", elf=40, r0="r0", bits=32, pc_id=15,
         guest=(0xe2800001, 0xeafffffd), secure=True,
         cross="arm-linux-gnueabihf-", asflags=["-march=armv7-a"],
         source=ELF_ARM, main=GUEST + 12,
         # disas _start 6: ARM, then Thumb from the mapping symbol $t
         disas=[("e3a00000", "mov", "r0, #0"),
                ("fa000000", "blx", "#0x4020000c <main>"),
                ("eafffffc", "b", "#0x40200000 <_start>"),
                ("3001", "adds", "r0, #1"),
                ("bf00", "nop", ""),
                ("f7ff bffc", "b.w", "#0x4020000c <main>")],
         core_regs=["r%d" % i for i in range(13)] +
         ["sp", "lr", "pc", "cpsr"]),
    dict(name="aarch64", env="QEMU_SYSTEM_AARCH64",
         binary="qemu-system-aarch64", machine="virt", cpu="cortex-a53",
         core="cortex-a53-arm-cpu", elf=183, r0="x0", bits=64, pc_id=32,
         guest=(0x91000400, 0x17ffffff), secure=False,
         cross="aarch64-linux-gnu-", asflags=[], source=ELF_A64,
         main=GUEST + 8,
         disas=[("d2800000", "mov|movz", "x0, #0"),
                ("14000001", "b", "#0x40200008 <main>"),
                ("91000400", "add", "x0, x0, #1"),
                ("d503201f", "nop", ""),
                ("17fffffe", "b", "#0x40200008 <main>")],
         core_regs=["x%d" % i for i in range(31)] + ["sp", "pc", "cpsr"]),
]

count = 0
failed = 0


def ok(cond, desc, detail=None):
    global count, failed
    count += 1
    if not cond:
        failed += 1
    print("%sok %d - %s" % ("" if cond else "not ", count, desc))
    if not cond and detail:
        for line in str(detail).rstrip("\n").split("\n"):
            print("# " + line)
    sys.stdout.flush()
    return cond


def skip(desc, reason):
    global count
    count += 1
    print("ok %d - %s # SKIP %s" % (count, desc, reason))
    sys.stdout.flush()


def diag(text):
    for line in text.rstrip("\n").split("\n"):
        print("# " + line)
    sys.stdout.flush()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Qemu:
    def __init__(self, binary, machine, cpu, extra=()):
        self.port = free_port()
        # the emulator may be rebuilt right now: give it a moment
        deadline = time.time() + 60
        while not os.access(binary, os.X_OK) and time.time() < deadline:
            time.sleep(0.5)
        self.proc = subprocess.Popen(
            [binary, "-M", machine, "-cpu", cpu, "-S", "-display", "none",
             "-monitor", "none", "-serial", "none", "-nic", "none",
             "-mcd", "tcp:127.0.0.1:%d" % self.port] + list(extra),
            stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("QEMU exited with status %d"
                                   % self.proc.returncode)
            if port_accepts(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("QEMU does not listen on port %d" % self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Run:
    """One run of mcd-cli: exit status, stdout, stderr."""

    def __init__(self, cli, args, stdin=None, timeout=120, env=None):
        # Files, not pipes: the first program of a wine session starts
        # wine's services, which inherit its handles and live on; a pipe
        # would never see its end.
        with tempfile.TemporaryFile() as fin, \
                tempfile.TemporaryFile() as fout, \
                tempfile.TemporaryFile() as ferr:
            if stdin is not None:
                fin.write(stdin.encode())
                fin.seek(0)
            p = subprocess.Popen(wrapper + [cli] + args,
                                 stdin=fin if stdin is not None
                                 else subprocess.DEVNULL,
                                 stdout=fout, stderr=ferr,
                                 env=dict(os.environ, **(env or {})))
            try:
                self.rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise
            fout.seek(0)
            ferr.seek(0)
            # CRLF of mcd-cli.exe (wine) reads as LF
            self.out = fout.read().decode(errors="replace") \
                .replace("\r\n", "\n")
            self.err = ferr.read().decode(errors="replace") \
                .replace("\r\n", "\n")

    def __str__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.rc, self.out,
                                                          self.err)

    def sections(self):
        """The output of each command echoed with -x: [(cmd, text)]."""
        result = []
        for line in self.out.splitlines():
            if line.startswith("mcd> "):
                result.append([line[5:], ""])
            elif result:
                result[-1][1] += line + "\n"
        return [tuple(r) for r in result]


def reg_value(text, name):
    m = re.search(r"^%s = 0x([0-9a-f]+)" % re.escape(name), text, re.M)
    return int(m.group(1), 16) if m else None


def check_session(cli, t, q):
    n = t["name"]
    words = " ".join("0x%08x" % w for w in t["guest"])
    script = """\
# a TRACE32-like session
connect 127.0.0.1:{port}
cores
core 0
spaces
groups
regs
reg pc                          # the reset vector
writew 0x40200000 {words}
read 0x40200000 256
reg pc 0x40200000; reg {r0} 0
break 0x40200004
triggers
go
wait 10
delete all
triggers
step
state
reg pc
step 3
reg {r0}
reset system halt
reg pc
quit
state
""".format(port=q.port, words=words, r0=t["r0"])
    with tempfile.NamedTemporaryFile("w", suffix=".mcd",
                                     delete=False) as f:
        f.write(script)
        path = f.name
    try:
        r = Run(cli, ["-x", "-f", path])
    finally:
        os.unlink(path)
    ok(r.rc == 0 and r.err == "", "%s: the session script runs" % n, r)
    secs = r.sections()
    cmds = [c for c, _ in secs]
    ok(cmds[-1] == "quit" and cmds.count("state") == 1,
       "%s: quit ends the script" % n, r)
    out = dict()
    for c, text in secs:
        out.setdefault(c, []).append(text)

    def get(cmd, i=0):
        texts = out.get(cmd, [])
        return texts[i] if i < len(texts) else ""

    text = get("connect 127.0.0.1:%d" % q.port)
    ok(text == "connected to 127.0.0.1:%d: qemu-system, virt, 1 core\n"
       % q.port, "%s: connect" % n, text)
    text = get("cores")
    ok("system: qemu-system" in text and "device: virt" in text and
       re.search(r"^core 0: %s #0, core type %d$" % (t["core"], t["elf"]),
                 text, re.M), "%s: cores lists the system, device and core"
       % n, text)
    text = get("core 0")
    ok(text == "core 0: %s #0, open\n" % t["core"], "%s: core 0" % n, text)

    text = get("spaces")
    want = ["Non Secure", "Physical (Non Secure)", "GPR Registers"]
    if t["secure"]:
        want += ["Secure", "Physical (Secure)"]
    names = re.findall(r"^\s*\d+  (\S+(?: \S+)*?)\s{2,}0x", text, re.M)
    ok(all(w in names for w in want) and
       re.search(r"^\s*\d+  Non Secure\s+0x22\s+program,logical\s+little"
                 r"\s+default$", text, re.M) and
       re.search(r"^\s*\d+  GPR Registers\s+0x1\s+registers\s", text, re.M),
       "%s: spaces: ids, names, types; Non Secure is the default" % n, text)
    text = get("groups")
    ok(re.search(r"^\s*1  Core Registers\s+\d+$", text, re.M) and
       re.search(r"^\s*\d+  System Registers\s+\d+$", text, re.M),
       "%s: groups" % n, text)
    text = get("regs")
    # name, id, bits, group, value (in hex, as wide as the register)
    pc = re.search(r"^pc\s+(\d+)\s+(\d+)  (\S+(?: \S+)*)\s+0x([0-9a-f]+)$",
                   text, re.M)
    r0 = re.search(r"^%s\s+0\s+%d  Core Registers\s+0x[0-9a-f]{%d}$"
                   % (t["r0"], t["bits"], t["bits"] // 4), text, re.M)
    total = re.search(r"^(\d+) registers$", text, re.M)
    ok(pc and r0 and total and int(pc.group(1)) == t["pc_id"] and
       int(pc.group(2)) == t["bits"] and pc.group(3) == "Core Registers" and
       len(pc.group(4)) == t["bits"] // 4 and int(total.group(1)) > 100,
       "%s: regs: name, id, bits, group and value of every register" % n,
       text[:2000])

    reset_pc = reg_value(get("reg pc", 0), "pc")
    ok(reset_pc is not None, "%s: read the pc at start: %s" % (
        n, hex(reset_pc) if reset_pc is not None else None), get("reg pc"))

    text = get("writew 0x40200000 " + words)
    ok(text == "wrote 2 words at Non Secure:0x40200000\n",
       "%s: write the guest with writew" % n, text)
    text = get("read 0x40200000 256")
    lines = text.splitlines()
    b = b"".join(w.to_bytes(4, "little") for w in t["guest"])
    first = "40200000: " + " ".join("%02x" % x for x in b) + \
        " 00" * 8 + "  " + "".join(chr(x) if 32 <= x < 127 else "."
                                   for x in b) + "." * 8
    shape = all(re.fullmatch(r"%08x:( [0-9a-f]{2}){16}  .{16}"
                             % (GUEST + 16 * i), line)
                for i, line in enumerate(lines))
    ok(len(lines) == 16 and lines[0] == first and shape,
       "%s: read 256 bytes back: a hex dump with the guest" % n, text)

    text = get("reg pc 0x40200000")
    ok(reg_value(text, "pc") == GUEST, "%s: write the pc, read back" % n,
       text)
    text = get("reg %s 0" % t["r0"])
    ok(reg_value(text, t["r0"]) == 0, "%s: write %s" % (n, t["r0"]), text)
    text = get("break 0x40200004")
    ok(text == "breakpoint 1 at Non Secure:0x40200004\n",
       "%s: break" % n, text)
    text = get("triggers", 0)
    ok(re.search(r"^\s*1  breakpoint\s+Non Secure:0x40200004\s+-  active$",
                 text, re.M), "%s: triggers lists the breakpoint" % n, text)
    text = get("go")
    ok(text == "core 0: running\n", "%s: go" % n, text)
    text = get("wait 10")
    ok(text == "core 0: debug, pc 0x40200004; stopped at a breakpoint at "
       "0x40200004 (trigger 1); core 0 stopped by the debugger\n" or
       re.match(r"core 0: debug, pc 0x40200004; [^;]*breakpoint[^;]*"
                r"\(trigger 1\)", text),
       "%s: wait: stopped at the breakpoint, pc 0x40200004" % n, text)
    text = get("delete all")
    ok(text == "deleted all triggers\n", "%s: delete all" % n, text)
    text = get("triggers", 1)
    ok(text == "no triggers\n", "%s: no triggers left" % n, text)
    text = get("step")
    ok(re.match(r"core 0: debug, pc 0x40200000;", text),
       "%s: step: b .-4 goes back to 0x40200000" % n, text)
    text = get("state")
    ok(re.match(r"core 0: debug, pc 0x40200000[;\n]", text),
       "%s: state shows the pc moved" % n, text)
    ok(reg_value(get("reg pc", 1), "pc") == GUEST,
       "%s: reg pc is the breakpoint minus 4" % n, get("reg pc", 1))
    text = get("step 3")
    ok(re.match(r"core 0: debug, pc 0x40200004;", text),
       "%s: step 3: add, b, add" % n, text)
    text = get("reg " + t["r0"], 0)
    ok(reg_value(text, t["r0"]) == 3, "%s: %s counted to 3" % (n, t["r0"]),
       text)
    text = get("reset system halt")
    ok(re.match(r"core 0: debug, pc 0x%x; stopped at the reset vector"
                % (reset_pc or 0), text),
       "%s: reset system halt stops at the reset vector" % n, text)
    text = get("reg pc", 2)
    ok(reg_value(text, "pc") == reset_pc,
       "%s: reg pc is the pc read at start" % n, text)


def check_failures(cli, q):
    target = "127.0.0.1:%d" % q.port

    r = Run(cli, ["-c", target, "-e", "cores; bogus 1; cores"])
    ok(r.rc == 1 and r.out.count("device: virt") == 1 and
       "error: unknown command 'bogus' (try 'help')\n" in r.err and
       "stopped at -e: bogus 1" in r.err,
       "a bad command fails, exit 1, and stops the script", r)
    r = Run(cli, ["-k", "-c", target, "-e", "cores; bogus 1; cores"])
    ok(r.rc == 1 and r.out.count("device: virt") == 2 and
       "unknown command 'bogus'" in r.err,
       "-k goes on after the failure, still exit 1", r)
    r = Run(cli, ["-c", target, "-e", "reg"])
    ok(r.rc == 1 and r.err.startswith("error: usage: reg NAME|ID [VALUE]"),
       "a command without its arguments shows its usage", r)

    # errors of the library carry the MCD error code
    r = Run(cli, ["-c", target, "-e",
                  'core 0; stop; read "physical (non secure)":0xffffff00 16'])
    ok(r.rc == 1 and
       re.search(r"^error: .*0xffffff00.* \(code 0x2100\)$", r.err, re.M),
       "an unmapped read: MCD_ERR_TXLIST_READ from the library", r)
    r = Run(cli, ["-c", target, "-e", "delete 7"])
    ok(r.rc == 1 and
       re.search(r"^error: .*trigger 7.* \(code 0x3201\)$", r.err, re.M),
       "deleting an unknown trigger: MCD_ERR_TRIG_ACCESS", r)
    r = Run(cli, ["-c", target, "-e", "reg nosuchreg"])
    ok(r.rc == 1 and "no register 'nosuchreg'" in r.err,
       "an unknown register", r)
    r = Run(cli, ["-c", target, "-e", "read nospace:0x0 4"])
    ok(r.rc == 1 and "no memory space 'nospace'" in r.err,
       "an unknown memory space", r)
    r = Run(cli, ["-c", target, "-e", "read phys:0x40200000 4"])
    ok(r.rc == 1 and "ambiguous memory space 'phys': 'Physical (Secure)', "
       "'Physical (Non Secure)'" in r.err, "an ambiguous memory space", r)
    r = Run(cli, ["-c", target, "-e", "core 0; stop; reg pc 0x40200000; "
                  "space 4; read 0x40200000 4; read secure:0x40200000 4"])
    ok(r.rc == 0 and "default memory space: 4 Physical (Non Secure)\n"
       in r.out and r.out.count("40200000: ") == 2,
       "space sets the default memory space; names by prefix", r)

    # wait times out on a core that runs
    # (the guest runs again whenever mcd-cli disconnects)
    r = Run(cli, ["-c", target, "-e", "core 0; stop; writew 0x40200000 "
                  "0xeafffffe; reg pc 0x40200000; go; wait 0.3"])
    ok(r.rc == 1 and "error: core 0 still running after 0.3 s" in r.err,
       "wait fails on timeout", r)
    r = Run(cli, ["-c", target, "-e", "stop all; state"])
    ok(r.rc == 0 and re.search(r"^core 0: debug, pc 0x40200000; stopped "
                               r"on request", r.out, re.M),
       "stop all stops the loop", r)

    # commands from stdin: comments, several commands on a line
    r = Run(cli, [], stdin="connect %s  # the stub\n\n# nothing\n"
            "core 0 ; stop ; reg pc;reg pc 0x40200004\nquit\ncores\n"
            % target)
    ok(r.rc == 0 and r.err == "" and
       r.out.count("pc = 0x40200000") == 1 and
       r.out.count("pc = 0x40200004") == 1 and "device:" not in r.out,
       "commands from stdin, with comments and ';'", r)
    r = Run(cli, [], stdin="connect %s\nbogus\ncores\n" % target)
    ok(r.rc == 1 and "device:" not in r.out and
       "stopped at stdin:2: bogus" in r.err,
       "a script on stdin stops at the first failure", r)

    r = Run(cli, ["-e", "help"])
    names = ["connect", "disconnect", "cores", "core", "spaces", "groups",
             "regs", "reg", "read", "x", "write", "writew", "disas", "go",
             "continue", "stop", "step", "state", "wait", "break", "watch",
             "triggers", "delete", "file", "syms", "load", "dump", "restore",
             "print", "resets", "reset", "info", "help", "quit"]
    listed = re.findall(r"^  (\w+)", r.out, re.M)
    ok(r.rc == 0 and all(c in listed for c in names),
       "help documents every command", r)
    r = Run(cli, ["-c", target, "-e", "resets; info; disconnect"])
    ok(r.rc == 0 and re.search(r"^ 0  full_system_reset$", r.out, re.M) and
       "library: QEMU" in r.out and "server: McdHostName=\"127.0.0.1\" "
       "McdServerPort=\"%d\"" % q.port in r.out and
       r.out.endswith("disconnected\n"),
       "resets, info and disconnect", r)


def check_options(cli):
    r = Run(cli, ["--help"])
    ok(r.rc == 0 and r.out.startswith("Usage: mcd-cli") and
       "--keep-going" in r.out, "--help exits 0 with the usage", r)
    r = Run(cli, ["--version"])
    m = re.search(r"^disassembly: (.*); line editing: (.*)$", r.out, re.M)
    ok(r.rc == 0 and re.match(r"mcd-cli \d+\.\d+\.\d+, with QEMU ", r.out)
       and m, "--version, with the disassembler and line editor", r)
    if m:
        features["disas"] = m.group(1) != "none"
        features["editing"] = m.group(2) != "none"
        diag("mcd-cli with disassembly: %s, line editing: %s"
             % (m.group(1), m.group(2)))
    r = Run(cli, ["--help"])
    ok(r.rc == 0 and
       all(re.search(r"^  %s.*  [a-z]" % re.escape(c), r.out, re.M)
           for c in ["regs [GROUP]", "x[/NU] [SPACE:]ADDR", "disas",
                     "file [ELF]", "load [ELF]", "dump [SPACE:]ADDR LEN FILE",
                     "restore FILE [SPACE:]ADDR", "continue", "break"]) and
       "--elf FILE" in r.out,
       "--help lists the commands briefly, and --elf", r)
    r = Run(cli, ["--no-such-option"])
    ok(r.rc == 2 and "Usage: mcd-cli" in r.err, "a bad option exits 2", r)
    r = Run(cli, ["-f", "/nonexistent/script.mcd"])
    ok(r.rc == 2 and "cannot read /nonexistent/script.mcd" in r.err,
       "a missing script exits 2", r)
    port = free_port()
    r = Run(cli, ["-c", "127.0.0.1:%d" % port, "-e", "cores"])
    ok(r.rc == 1 and r.out == "" and
       re.search(r"^error: .*127\.0\.0\.1.* \(code 0x200\)$", r.err, re.M),
       "an unreachable port exits 1 with MCD_ERR_CONNECTION", r)
    r = Run(cli, ["-e", "cores"])
    ok(r.rc == 1 and "not connected" in r.err,
       "commands need a connection", r)


# what mcd-cli was built with: set from --version
features = dict(disas=True, editing=True)


def build_elf(t, tmp):
    """Assemble and link the ELF guest of @t; None without the tools."""
    gas = shutil.which(t["cross"] + "as")
    ld = shutil.which(t["cross"] + "ld")
    if not gas or not ld:
        return None
    src = os.path.join(tmp, "guest-%s.s" % t["name"])
    obj = os.path.join(tmp, "guest-%s.o" % t["name"])
    elf = os.path.join(tmp, "guest-%s.elf" % t["name"])
    with open(src, "w") as f:
        f.write(t["source"])
    subprocess.run([gas] + t["asflags"] + ["-o", obj, src], check=True,
                   capture_output=True)
    # one segment at GUEST, without the ELF headers (-N)
    args = ["-N", "-Ttext=0x%x" % GUEST, "-e", "_start", "-o", elf, obj]
    if subprocess.run([ld, "--no-warn-rwx-segments"] + args,
                      capture_output=True).returncode != 0:
        subprocess.run([ld] + args, check=True, capture_output=True)
    return elf


def load_segments(path):
    """The PT_LOAD segments of an ELF file with bytes: [(paddr, bytes)]."""
    with open(path, "rb") as f:
        data = f.read()
    is64 = data[4] == 2
    e = "<" if data[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(e + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 54)
    else:
        phoff, = struct.unpack_from(e + "I", data, 28)
        phentsize, phnum = struct.unpack_from(e + "HH", data, 42)
    segs = []
    for i in range(phnum):
        o = phoff + i * phentsize
        if is64:
            ptype, _, off, _, paddr, filesz = \
                struct.unpack_from(e + "IIQQQQ", data, o)
        else:
            ptype, off, _, paddr, filesz = \
                struct.unpack_from(e + "IIIII", data, o)
        if ptype == 1 and filesz:
            segs.append((paddr, data[off:off + filesz]))
    return segs


DISAS_LINE = re.compile(r"^(=>|  ) 0x([0-9a-f]+)(?: <([^>]+)>)?:\s+"
                        r"([0-9a-f]{4,8}(?: [0-9a-f]{4})*)(?:\s+(\S+)"
                        r"(?: +(.*?))?)?\s*$")


def disas_lines(text):
    """disas output: [(marker, addr, symbol, bytes, mnemonic, operands)]."""
    result = []
    for line in text.splitlines():
        m = DISAS_LINE.match(line)
        if m:
            result.append((m.group(1), int(m.group(2), 16), m.group(3),
                           m.group(4), m.group(5) or "", m.group(6) or ""))
    return result


def insn_matches(line, want):
    """A disas line is the instruction (bytes, mnemonic|..., operands)."""
    raw, mnemonic, operands = want
    return line[3] == raw and (not features["disas"] or (
        re.fullmatch(mnemonic, line[4]) and line[5] == operands))


def check_elf(cli, t, q, tmp):
    """Symbols, load, disassembly, the stop view, regs and x of an ELF."""
    n = t["name"]
    try:
        elf = build_elf(t, tmp)
    except subprocess.CalledProcessError as e:
        ok(False, "%s: assemble the ELF guest" % n, e.stderr)
        return None
    if not elf:
        print("# SKIP %s ELF: no %sas/ld" % (n, t["cross"]))
        return None
    (seg_addr, seg), = load_segments(elf)
    segfile = os.path.join(tmp, "segment-%s.bin" % n)
    main = t["main"]
    r1 = "x1" if t["bits"] == 64 else "r1"
    r1_value = 0x1122334455667788 if t["bits"] == 64 else 0x11223344
    script = """\
core 0
stop
file {elf}
syms
print main+4
load
reg pc
dump 0x{seg_addr:x} {seg_len} {segfile}
{disas}
break main
continue 10
reg cpsr
step
state
reg {r1} 0x{r1_value:x}
regs core
{reg_cmds}
regs
""".format(elf=elf, seg_addr=seg_addr, seg_len=len(seg), segfile=segfile,
           disas="disas _start %d" % len(t["disas"]) if features["disas"]
           else "", r1=r1, r1_value=r1_value,
           reg_cmds="\n".join("reg " + r for r in t["core_regs"]))
    if "table" in t["source"]:
        script += "x/16b table\nx/2w table\nx\nx/4h table+16\nx/1g table+16\n"
    r = Run(cli, ["-c", "127.0.0.1:%d" % q.port, "-x", "-e",
                  script.replace("\n", ";")])
    ok(r.rc == 0 and r.err == "", "%s: the ELF session runs" % n, r)
    out = dict()
    for c, text in r.sections():
        out.setdefault(c, []).append(text)

    def get(cmd, i=0):
        texts = out.get(cmd, [])
        return texts[i] if i < len(texts) else ""

    text = get("file " + elf)
    ok(re.fullmatch(r"%s: %s ELF%d little-endian, \d+ symbols, 1 loadable "
                    r"segment, entry 0x40200000 <_start>\n"
                    % (re.escape(elf), "AArch64" if t["bits"] == 64
                       else "ARM", t["bits"]), text),
       "%s: file reads the ELF: machine, class, symbols, entry" % n, text)
    text = get("syms")
    ok(re.search(r"^0x%08x\s+\d+\s+func\s+global\s+main%s$"
                 % (main, " \\(thumb\\)" if t["bits"] == 32 else ""),
                 text, re.M) and
       re.search(r"^0x40200000\s+0\s+notype\s+global\s+_start$", text, re.M),
       "%s: syms lists main (a function) and _start" % n, text)
    text = get("print main+4")
    ok(text == "main+4 = 0x%x (%d) <main+0x4>\n" % (main + 4, main + 4),
       "%s: print main+4: a symbol in an expression, func+off out" % n,
       text)

    text = get("load")
    ok(text == "segment 0: 0x40200000 <_start>, %d bytes\nloaded %d bytes in "
       "1 segment of %s to Non Secure\npc = 0x40200000 <_start>\n"
       % (len(seg), len(seg), elf),
       "%s: load writes the segment, sets the pc to the entry" % n, text)
    ok(reg_value(get("reg pc"), "pc") == GUEST,
       "%s: reg pc is the entry after load" % n, get("reg pc"))
    try:
        with open(segfile, "rb") as f:
            back = f.read()
    except OSError as e:
        back = e
    ok(back == seg, "%s: the memory read back is the segment of the ELF "
       "(%d bytes)" % (n, len(seg)), back)

    desc = "%s: disas _start: the known instructions, func+off, => at " \
        "the pc" % n
    if not features["disas"]:
        r = Run(cli, ["-c", "127.0.0.1:%d" % q.port, "-e", "disas"])
        ok(r.rc == 1 and "error: no disassembly: mcd-cli was built without "
           "capstone" in r.err, "%s: disas without capstone says so" % n, r)
        skip(desc, "mcd-cli without capstone")
    else:
        text = get("disas _start %d" % len(t["disas"]))
        lines = disas_lines(text)
        ok(len(lines) == len(t["disas"]) and
           all(insn_matches(line, want)
               for line, want in zip(lines, t["disas"])) and
           lines[0][0] == "=>" and lines[0][2] == "_start" and
           lines[0][1] == GUEST and
           any(x[1] == main and x[2] == "main" for x in lines), desc, text)

    text = get("break main")
    ok(text == "breakpoint 1 at Non Secure:0x%x <main>\n" % main,
       "%s: break main: a breakpoint at a symbol" % n, text)
    text = get("continue 10")
    lines = text.splitlines()
    # main: the third instruction from the end of t["disas"], then a nop
    main_insn = t["disas"][-3]
    stop = disas_lines(text)
    ok(len(lines) == 3 and lines[0] == "core 0: running" and
       re.match(r"core 0: debug, pc 0x%x <main>; [^;]*breakpoint[^;]*"
                r"\(trigger 1\)" % main, lines[1]) and
       len(stop) == 1 and stop[0][0] == "=>" and stop[0][1] == main and
       stop[0][2] == "main" and insn_matches(stop[0], main_insn),
       "%s: continue stops at main: pc, symbol, reason, the instruction "
       "(%s)" % (n, main_insn[1]), text)
    cpsr = reg_value(get("reg cpsr"), "cpsr")
    ok(cpsr is not None and (t["bits"] == 64 or cpsr & 0x20),
       "%s: the core runs %s at main (cpsr 0x%x)"
       % (n, "A64" if t["bits"] == 64 else "Thumb: the T bit", cpsr or 0),
       get("reg cpsr"))
    text = get("step")
    stop = disas_lines(text)
    ok(re.match(r"core 0: debug, pc 0x%x <main\+0x%x>;" % (
        main + len(main_insn[0].replace(" ", "")) // 2,
        len(main_insn[0].replace(" ", "")) // 2), text) and
       len(stop) == 1 and insn_matches(stop[0], t["disas"][-2]),
       "%s: step shows the next instruction (nop)" % n, text)
    ok(get("state") == text, "%s: state shows the same view" % n,
       get("state"))

    # regs shows what reg reads, register by register
    text = get("regs core")
    values = dict((m.group(1), int(m.group(2), 16)) for m in re.finditer(
        r"^(\w+)\s+\d+\s+\d+  Core Registers\s+0x([0-9a-f]+)", text, re.M))
    single = dict((name, reg_value(get("reg " + name, -1), name))
                  for name in t["core_regs"])
    ok(values.get(r1) == r1_value and
       sorted(values) == sorted(t["core_regs"]) and values == single,
       "%s: regs core shows the values that reg reads (%d registers)"
       % (n, len(single)), "regs: %r\nreg: %r" % (values, single))
    ok(re.search(r"^pc\s.*0x0*%x <main\+0x[0-9a-f]+>$" % (values.get("pc")
                                                          or 0), text, re.M),
       "%s: regs shows the pc as func+off too" % n, text)
    text = get("regs")
    total = re.search(r"^(\d+) registers$", text, re.M)
    vals = re.findall(r"^\S+\s+\d+\s+\d+  .*?  (0x[0-9a-f]+|<.*>)", text,
                      re.M)
    # a register that cannot be read would show <why> instead
    ok(total and int(total.group(1)) > 100 and
       len(vals) == int(total.group(1)) and
       sum(v.startswith("0x") for v in vals) > 100,
       "%s: regs: every register, each with its value" % n, text[:3000])

    if "table" in t["source"]:
        text = get("x/16b table")
        ok(text == "0x40200020 <table>: 4d 43 44 2d 43 4c 49 20 74 65 73 74 "
           "20 45 4c 46  MCD-CLI test ELF\n", "%s: x/16b: bytes and ASCII"
           % n, text)
        text = get("x/2w table")
        ok(text == "0x40200020 <table>: 0x2d44434d 0x20494c43\n",
           "%s: x/2w: little-endian words" % n, text)
        text = get("x")
        lines = text.splitlines()
        ok(len(lines) == 4 and lines[0] == "0x40200028 <table+0x8>: "
           "0x74736574 0x464c4520 0x11223344 0x55667788" and
           re.fullmatch(r"0x40200038: {12}( 0x[0-9a-f]{8}){4}", lines[1]),
           "%s: x goes on after the last x, 64 bytes, labels lined up" % n,
           text)
        text = get("x/4h table+16")
        ok(text == "0x40200030 <table+0x10>: 0x3344 0x1122 0x7788 0x5566\n",
           "%s: x/4h: halfwords" % n, text)
        text = get("x/1g table+16")
        ok(text == "0x40200030 <table+0x10>: 0x5566778811223344\n",
           "%s: x/1g: 64-bit units" % n, text)
    return elf, seg


def check_transfers(cli, t, q, tmp, elf, seg):
    """dump and restore 4 MiB; their errors; symbols without a session."""
    n = t["name"]
    target = "127.0.0.1:%d" % q.port
    a = os.path.join(tmp, "dump-%s-a.bin" % n)
    b = os.path.join(tmp, "dump-%s-b.bin" % n)
    # no progress bar off a terminal, even when it would show at once
    r = Run(cli, ["-c", target, "--elf", elf, "-e",
                  "core 0; stop; dump 0x40200000 4M %s; restore %s "
                  "0x40800000; dump 0x40800000 0x400000 %s" % (a, a, b)],
            env=dict(MCD_CLI_PROGRESS_DELAY="0"))
    rate = r"( in \d+\.\d\d s \(\d+\.\d MiB/s\))?"
    ok(r.rc == 0 and r.err == "" and
       re.search(r"^dumped 4\.0 MiB \(4194304 bytes\) from Non Secure:"
                 r"0x40200000 <_start> to %s%s$" % (re.escape(a), rate),
                 r.out, re.M) and
       re.search(r"^restored 4\.0 MiB \(4194304 bytes\) from %s to "
                 r"Non Secure:0x40800000%s$" % (re.escape(a), rate),
                 r.out, re.M) and
       re.search(r"^dumped 4\.0 MiB \(4194304 bytes\) from Non Secure:"
                 r"0x40800000 to %s%s$" % (re.escape(b), rate), r.out, re.M),
       "%s: dump 4 MiB, restore it elsewhere, dump that" % n, r)
    ok("\r" not in r.out and "[#" not in r.out and "\x1b" not in r.out,
       "%s: no progress bar when stdout is not a terminal" % n, repr(r.out))
    try:
        with open(a, "rb") as f:
            da = f.read()
        with open(b, "rb") as f:
            db = f.read()
    except OSError as e:
        da, db = e, None
    ok(isinstance(da, bytes) and len(da) == 4 << 20 and da == db and
       da.startswith(seg), "%s: the restored copy equals the dump, which "
       "starts with the loaded segment" % n, "%d and %d bytes" % (
           len(da) if isinstance(da, bytes) else -1,
           len(db) if isinstance(db, bytes) else -1))

    r = Run(cli, ["--elf", elf, "-k", "-c", target, "-e",
                  "x/3q table; break nosuch; dump 0x40200000 4K "
                  "/nonexistent/f; restore /nonexistent/f 0x40200000; "
                  "disas main 0; file %s; dump main 0 %s; print $nosuchreg; "
                  "print main" % (a, b)])
    errors = ["error: bad format '/3q': ", "error: no symbol 'nosuch' in ",
              "error: cannot create /nonexistent/f: ",
              "error: cannot open /nonexistent/f: ",
              "error: bad count 0: 1 to " if features["disas"] else
              "error: no disassembly: mcd-cli was built without capstone",
              "error: %s: not an ELF file" % a, "error: bad length '0'",
              "error: core 0 has no register 'nosuchreg'"]
    ok(r.rc == 1 and all(re.search("^" + re.escape(e), r.err, re.M)
                         for e in errors) and
       r.out.endswith("main = 0x%x (%d) <main>\n" % (t["main"], t["main"])),
       "%s: errors of x, break, dump, restore, disas, file, print" % n, r)
    r = Run(cli, ["--elf", elf, "-e", "print main; syms tab"])
    ok(r.rc == 0 and "main = 0x%x (%d) <main>\n" % (t["main"], t["main"])
       in r.out and r.out.endswith("1 symbol\n" if "table" in t["source"]
                                   else "0 symbols\n"),
       "%s: --elf: symbols without a connection" % n, r)
    r = Run(cli, ["-e", "print main"])
    ok(r.rc == 1 and "error: no symbol 'main': no symbols loaded" in r.err,
       "%s: a symbol without an ELF file" % n, r)


def controlling_terminal():
    """In the child: make its standard input its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """mcd-cli on a pseudo terminal: stdin, stdout and stderr."""

    def __init__(self, cli, args, env):
        self.master, slave = os.openpty()
        # a session of its own with the terminal as its controlling one:
        # Ctrl-C typed is SIGINT to mcd-cli alone, as in a shell
        self.proc = subprocess.Popen([cli] + args, stdin=slave, stdout=slave,
                                     stderr=slave, close_fds=True,
                                     env=dict(os.environ, **env),
                                     start_new_session=True,
                                     preexec_fn=controlling_terminal)
        os.close(slave)
        self.out = b""
        self.mark = 0

    def expect(self, pattern, timeout=30):
        """Read until @pattern (bytes regex) shows after the last match."""
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, self.out[self.mark:], re.S)
            if m:
                start = self.mark
                self.mark += m.end()
                return self.out[start:self.mark]
            left = deadline - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    if self.proc.poll() is not None:
                        return None
                    time.sleep(0.05)
                self.out += data

    def send(self, data):
        os.write(self.master, data)

    def close(self):
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        return self.proc.returncode


# the subtests of check_terminal(); 2, 3 and 8 need line editing
TERMINAL = [
    "terminal: mcd-cli prompts",
    "terminal: a typed line runs",
    "terminal: Ctrl-P recalls the last line (history)",
    "terminal: Tab completes a command",
    "terminal: dump draws a progress bar and erases it",
    "terminal: Ctrl-C stops the core that continue waits for",
    "terminal: Ctrl-C at the prompt drops the line, not mcd-cli",
    "terminal: quit ends mcd-cli, exit 0",
    "terminal: the history is saved in $MCD_CLI_HISTORY",
]


def check_terminal(cli, q, tmp):
    """A session on a terminal: prompt, history, completion, progress."""
    if wrapper:
        # a Windows program sees the console that wine makes of a
        # terminal, and SIGINT would go to wine: not what these check
        for desc in TERMINAL:
            skip(desc, "mcd-cli runs through %s: no pseudo terminal"
                 % os.path.basename(wrapper[0]))
        return
    history = os.path.join(tmp, "history")
    dump = os.path.join(tmp, "dump-tty.bin")
    term = Terminal(cli, ["-c", "127.0.0.1:%d" % q.port],
                    dict(TERM="xterm", MCD_CLI_HISTORY=history,
                         MCD_CLI_PROGRESS_DELAY="0"))
    try:
        ok(term.expect(rb"mcd> ") is not None, TERMINAL[0], repr(term.out))
        term.send(b"print 1+2\r")
        ok(term.expect(rb"1\+2 = 0x3 \(3\)\r\n.*?mcd> ") is not None,
           TERMINAL[1], repr(term.out))
        if features["editing"]:
            term.send(b"\x10\r")            # Ctrl-P: the line before
            ok(term.expect(rb"1\+2 = 0x3 \(3\)\r\n.*?mcd> ") is not None,
               TERMINAL[2], repr(term.out))
            term.send(b"pri\t7\r")          # Tab completes "print"
            ok(term.expect(rb"\n7 = 0x7 \(7\)\r\n.*?mcd> ") is not None,
               TERMINAL[3], repr(term.out))
        else:
            for desc in TERMINAL[2:4]:
                skip(desc, "mcd-cli without libedit")
        term.send(b"core 0; stop; dump 0x40200000 4M %s\r" % dump.encode())
        text = term.expect(rb"dumped 4\.0 MiB[^\n]*\n.*?mcd> ")
        ok(text is not None and
           re.search(rb"\rdump    \[#*-*\] +\d+%  [^\r]* of 4\.0 MiB", text)
           and b"\rdump    [" + b"#" * 24 + b"] 100%" in text and
           b"\r\x1b[Kdumped 4.0 MiB" in text,
           TERMINAL[4],
           repr(text if text is not None else term.out[term.mark:]))
        # Ctrl-C (SIGINT) while continue waits stops the core, not mcd-cli
        term.send(b"continue\r")
        started = term.expect(rb"core 0: running\r\n")
        if started is not None:
            time.sleep(0.3)
            term.proc.send_signal(signal.SIGINT)
        text = term.expect(rb"mcd> ")
        ok(started is not None and text is not None and
           re.search(rb"^interrupted: stopping core 0\r\ncore 0: debug, "
                     rb"pc 0x[0-9a-f]+; stopped on request[^\n]*\n=> 0x",
                     text, re.M),
           TERMINAL[5],
           repr(text if text is not None else term.out[term.mark:]))
        # Ctrl-C typed at the prompt: the line typed so far is dropped
        # and mcd-cli reads the next one (the new prompt it shows is not
        # checked: a Ctrl-C that comes while libedit echoes can leave the
        # terminal to echo the next line itself)
        term.send(b"print 4")
        term.expect(rb"print 4")
        term.send(b"\x03")
        dropped = term.expect(rb"\^C")
        term.send(b"print 6\r")
        text = term.expect(rb"\n6 = 0x6 \(6\)\r\n.*?mcd> ")
        ok(dropped is not None and text is not None and
           term.proc.poll() is None,
           TERMINAL[6], repr(term.out[-300:]))
        term.send(b"quit\r")
        term.expect(rb"quit", 5)
    finally:
        rc = term.close()
    ok(rc == 0, TERMINAL[7], rc)
    if features["editing"]:
        try:
            with open(history) as f:
                saved = f.read()
        except OSError as e:
            saved = str(e)
        ok("print" in saved and "quit" in saved, TERMINAL[8], saved)
    else:
        skip(TERMINAL[8], "mcd-cli without libedit")


def check_big_endian(cli, build):
    """Register values of a big-endian target read and write as numbers."""
    binary = os.environ.get("QEMU_SYSTEM_M68K") or \
        os.path.join(build, "qemu-system-m68k")
    if not os.path.exists(binary):
        print("# SKIP big-endian: no %s" % binary)
        return
    with tempfile.TemporaryDirectory() as tmp:
        kernel = os.path.join(tmp, "guest.bin")
        with open(kernel, "wb") as f:
            # movea.l #0x20000, a0; addq.l #1, d0; move.l d0, (a0); bra.s
            f.write(bytes.fromhex("207c000200005280208060fa"))
        q = Qemu(binary, "an5206", "m5206", ["-kernel", kernel])
        try:
            r = Run(cli, ["-c", "127.0.0.1:%d" % q.port, "-x", "-e",
                          "reg pc; reg d0 0x12345678; step; state; "
                          "read 0x10000 6"])
            out = dict(r.sections())
            ok(r.rc == 0, "m68k: the session succeeds", r)
            ok(reg_value(out.get("reg pc", ""), "pc") == 0x10000,
               "m68k: pc reads 0x10000 (big-endian on the wire)", r)
            ok(reg_value(out.get("reg d0 0x12345678", ""), "d0") ==
               0x12345678, "m68k: d0 writes and reads back 0x12345678", r)
            ok("pc 0x10006;" in out.get("step", ""),
               "m68k: a step of movea.l moves the pc by 6", r)
            ok("00010000: 20 7c 00 02 00 00" in out.get("read 0x10000 6", ""),
               "m68k: memory bytes in address order", r)
            # -k: x after a disas that fails without capstone
            r = Run(cli, ["-c", "127.0.0.1:%d" % q.port, "-k", "-e",
                          "disas 0x10000 4; x/3w 0x10000; x/6h 0x10000"])
            lines = disas_lines(r.out)
            want = [("207c 0002 0000", "movea.l", "#$20000, a0"),
                    ("5280", "addq.l", "#$1, d0"),
                    ("2080", "move.l", "d0, (a0)"),
                    ("60fa", "bra.b|bra.s", "$10006")]
            if features["disas"]:
                ok(r.rc == 0 and len(lines) == 4 and
                   all(insn_matches(x, w) for x, w in zip(lines, want)),
                   "m68k: disas of big-endian code", r)
            else:
                skip("m68k: disas of big-endian code",
                     "mcd-cli without capstone")
            ok("0x00010000: 0x207c0002 0x00005280 0x208060fa\n" in r.out and
               "0x00010000: 0x207c 0x0002 0x0000 0x5280 0x2080 0x60fa\n"
               in r.out, "m68k: x shows big-endian words and halfwords", r)
        finally:
            q.stop()


# the command that runs mcd-cli, as a list: --wrapper, MCD_CLI_WRAPPER
wrapper = []


def main():
    global wrapper
    args = sys.argv[1:]
    wrapper = shlex.split(os.environ.get("MCD_CLI_WRAPPER", ""))
    if args[:1] == ["--wrapper"] and len(args) > 1:
        wrapper = shlex.split(args[1])
        args = args[2:]
    if not args or args[0].startswith("-"):
        print("usage: test-mcd-cli.py [--wrapper CMD] path/to/mcd-cli "
              "[qemu-build-dir]", file=sys.stderr)
        return 2
    cli = os.path.abspath(args[0])
    here = os.path.dirname(os.path.abspath(__file__))
    build = args[1] if len(args) > 1 else \
        os.path.join(here, "..", "..", "..", "build", "qemu", "build")
    if wrapper:
        # no notes of wine on stderr, which the checks read
        os.environ.setdefault("WINEDEBUG", "-all")
        diag("mcd-cli runs through %s" % " ".join(wrapper))

    check_options(cli)
    tmp = tempfile.TemporaryDirectory()
    for t in TARGETS:
        binary = os.environ.get(t["env"]) or os.path.join(build, t["binary"])
        try:
            q = Qemu(binary, t["machine"], t["cpu"])
        except (OSError, RuntimeError) as e:
            ok(False, "%s: start %s" % (t["name"], binary), e)
            continue
        try:
            check_session(cli, t, q)
            if t["name"] == "arm":
                check_failures(cli, q)
            loaded = check_elf(cli, t, q, tmp.name)
            if loaded:
                check_transfers(cli, t, q, tmp.name, *loaded)
            if t["name"] == "aarch64":
                check_terminal(cli, q, tmp.name)
        except subprocess.TimeoutExpired as e:
            ok(False, "%s: mcd-cli finishes in time" % t["name"], e)
        finally:
            q.stop()
    tmp.cleanup()
    check_big_endian(cli, build)
    print("1..%d" % count)
    diag("%d passed, %d failed" % (count - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
