#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Smoke test of the main job: run buildsys/demo.sh for each architecture
# with the stub on a Unix socket, wait for the guest's banner on the
# serial console, and do the handshake the era-1 client does.
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 60


def packet(payload):
    """A packet as the era-1 client sends it: framed, NUL-padded to 1024."""
    return (b"$" + payload + b"#|").ljust(1024, b"\0")


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    return data


def exchange(sock, cmd, reply):
    sock.sendall(packet(cmd))
    expected = b"+$" + reply + b"#|"
    got = recv_exactly(sock, len(expected))
    if got != expected:
        raise RuntimeError(f"{cmd!r}: expected {expected!r}, got {got!r}")


def run(arch):
    banner = {"aarch64": b"MCD demo guest (AArch64) running",
              "arm": b"MCD demo guest (AArch32) running"}[arch]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mcd.sock")
        env = dict(os.environ, DEMO_ARCH=arch, MCD_DEVICE="unix:" + path)
        out = open(os.path.join(tmp, "serial"), "w+b")
        err = open(os.path.join(tmp, "stderr"), "w+b")
        qemu = subprocess.Popen([os.path.join(HERE, "demo.sh")], env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err)
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:
                out.seek(0)
                if banner in out.read() and os.path.exists(path):
                    break
                if qemu.poll() is not None:
                    err.seek(0)
                    raise RuntimeError("demo exited: " +
                                       err.read().decode(errors="replace"))
                if time.monotonic() > deadline:
                    raise RuntimeError("no banner on the serial console")
                time.sleep(0.1)
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(TIMEOUT)
                sock.connect(path)
                exchange(sock, b"I", b"shaking your hand")
                exchange(sock, b"qsystem", b"qemu-system")
            if qemu.poll() is not None:
                raise RuntimeError("QEMU exited after the session")
        finally:
            qemu.send_signal(signal.SIGTERM)
            qemu.wait(timeout=TIMEOUT)
    print(f"demo {arch}: banner seen, handshake answered")


def main():
    for arch in ("aarch64", "arm"):
        run(arch)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # report and fail, never hang
        print(f"demo smoke test failed: {e}")
        sys.exit(1)
