#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Run a test program that cannot start QEMU itself (test-libmcd.exe
# under wine, which cannot fork the Linux emulators) with a QEMU control
# it can ask: a loopback listener whose address goes to the program in
# LIBMCD_QEMU_CONTROL=127.0.0.1:PORT.
#
#   qemu-control.py [--wrapper CMD] PROGRAM [ARGS...]
#
# Requests and answers are a line each (test-libmcd.c, qemu_spawn()):
#   start<TAB>/path/qemu-system-X<TAB>arg...   ok <pid> | error <text>
#   status                                     running | exited <status>
#   stop                                       ok
# One QEMU at a time per connection; it is stopped when the connection
# ends, and all are stopped when the program exits.  Only emulators named
# qemu-system-* are started.  The program's output and exit status are
# passed on.
#
# libmcd is MIT licensed, so that proprietary debuggers may load it.

import argparse
import ctypes
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
started = []            # every QEMU, to stop what is left at the end
started_lock = threading.Lock()


def die_with_parent():
    """In the child: end with the driver (Linux), whatever ends it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start(args):
    binary = args[0]
    if not os.path.basename(binary).startswith("qemu-system-"):
        return None, f"error not an emulator: {binary}"
    # the emulator may be rebuilt right now: give it a moment
    deadline = time.monotonic() + 60
    while not os.access(binary, os.X_OK) and time.monotonic() < deadline:
        time.sleep(0.5)
    try:
        # QEMU's output must not mix with the TAP output
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=sys.stderr.fileno(),
                                preexec_fn=die_with_parent)
    except OSError as e:
        return None, f"error cannot run {binary}: {e}"
    with started_lock:
        started.append(proc)
    return proc, f"ok {proc.pid}"


def serve(conn):
    proc = None
    f = conn.makefile("rwb", buffering=0)
    try:
        for line in f:
            words = line.decode(errors="replace").rstrip("\r\n").split("\t")
            if words[0] == "start" and len(words) > 1:
                stop(proc)
                proc, answer = start(words[1:])
            elif words[0] == "status":
                if proc is None:
                    answer = "exited -1"
                elif proc.poll() is None:
                    answer = "running"
                else:
                    answer = f"exited {proc.returncode}"
            elif words[0] == "stop":
                stop(proc)
                proc = None
                answer = "ok"
            else:
                answer = f"error unknown request {words[0]!r}"
            f.write(answer.encode() + b"\n")
    except OSError:
        pass
    finally:
        stop(proc)
        conn.close()


def listen(server):
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--wrapper", default="",
                    help="command that runs PROGRAM, such as wine")
    ap.add_argument("program", nargs=argparse.REMAINDER)
    opts = ap.parse_args()
    if not opts.program:
        ap.error("no program")

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    threading.Thread(target=listen, args=(server,), daemon=True).start()
    env = dict(os.environ)
    env["LIBMCD_QEMU_CONTROL"] = "127.0.0.1:%d" % server.getsockname()[1]
    cmd = shlex.split(opts.wrapper) + opts.program
    sys.stdout.flush()
    try:
        rc = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        rc = 130
    finally:
        server.close()
        with started_lock:
            for proc in started:
                stop(proc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
