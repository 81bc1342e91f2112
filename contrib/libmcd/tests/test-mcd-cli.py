#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Test of mcd-cli against QEMU's MCD stub in qemu-system-arm (cortex-a15,
# TrustZone) and qemu-system-aarch64 (cortex-a53): a script drives the
# session a debugger such as TRACE32 has (connect, discovery, a tiny
# guest written and read back, registers, a breakpoint, run, wait,
# steps, a reset that halts at the reset vector), and the checks read
# what mcd-cli prints.  Then the failures: bad commands, MCD errors,
# timeouts, an unreachable port, bad options.  Output is TAP.
#
# libmcd and mcd-cli are MIT licensed, so that proprietary debuggers may
# load the library.
#
#   test-mcd-cli.py path/to/mcd-cli [qemu-build-dir]
#
# The emulators come from QEMU_SYSTEM_ARM and QEMU_SYSTEM_AARCH64, else
# from qemu-build-dir (default build/qemu/build of the repository).

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

GUEST = 0x40200000
BREAK = GUEST + 4

TARGETS = [
    dict(name="arm", env="QEMU_SYSTEM_ARM", binary="qemu-system-arm",
         machine="virt,secure=on", cpu="cortex-a15",
         core="cortex-a15-arm-cpu", elf=40, r0="r0", bits=32, pc_id=15,
         guest=(0xe2800001, 0xeafffffd), secure=True),
    dict(name="aarch64", env="QEMU_SYSTEM_AARCH64",
         binary="qemu-system-aarch64", machine="virt", cpu="cortex-a53",
         core="cortex-a53-arm-cpu", elf=183, r0="x0", bits=64, pc_id=32,
         guest=(0x91000400, 0x17ffffff), secure=False),
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

    def __init__(self, cli, args, stdin=None, timeout=120):
        p = subprocess.run([cli] + args, input=stdin, capture_output=True,
                           text=True, timeout=timeout)
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

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
    pc = re.search(r"^pc\s+(\d+)\s+(\d+)  (.*)$", text, re.M)
    r0 = re.search(r"^%s\s+0\s+%d  Core Registers$" % (t["r0"], t["bits"]),
                   text, re.M)
    total = re.search(r"^(\d+) registers$", text, re.M)
    ok(pc and r0 and total and int(pc.group(1)) == t["pc_id"] and
       int(pc.group(2)) == t["bits"] and pc.group(3) == "Core Registers" and
       int(total.group(1)) > 100,
       "%s: regs: name, id, bits, group of every register" % n,
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
             "regs", "reg", "read", "write", "writew", "go", "stop", "step",
             "state", "wait", "break", "watch", "triggers", "delete",
             "resets", "reset", "info", "help", "quit"]
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
    ok(r.rc == 0 and re.match(r"mcd-cli \d+\.\d+\.\d+, with QEMU ", r.out),
       "--version", r)
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
        finally:
            q.stop()


def main():
    if len(sys.argv) < 2:
        print("usage: test-mcd-cli.py path/to/mcd-cli [qemu-build-dir]",
              file=sys.stderr)
        return 2
    cli = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    build = sys.argv[2] if len(sys.argv) > 2 else \
        os.path.join(here, "..", "..", "..", "build", "qemu", "build")

    check_options(cli)
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
        except subprocess.TimeoutExpired as e:
            ok(False, "%s: mcd-cli finishes in time" % t["name"], e)
        finally:
            q.stop()
    check_big_endian(cli, build)
    print("1..%d" % count)
    diag("%d passed, %d failed" % (count - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
