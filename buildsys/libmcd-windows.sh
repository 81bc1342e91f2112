#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build libmcd for 64-bit Windows with Debian's mingw-w64 (meson cross
# file contrib/libmcd/cross/x86_64-w64-mingw32.ini) into
# build/libmcd-win: libmcd.dll, as TRACE32 loads it, the Windows build
# of its test, test-libmcd.exe, and mcd-cli.exe (without disassembly and
# line editing: no capstone and libedit for mingw).
#   buildsys/libmcd-windows.sh        build them
#   buildsys/libmcd-windows.sh test   also run under wine, against the
#                                     Linux emulators in $MCD_BUILD:
#                                     test-libmcd.exe, with
#                                     tests/qemu-control.py starting them
#                                     for it, and tests/test-mcd-cli.py,
#                                     which drives mcd-cli.exe
# The summary of both is the last line: "libmcd-windows: N passed, N
# failed, N skipped" (TAP subtests; the log is in
# build/libmcd-win/meson-logs).
# Where wine cannot run programs the test is skipped with the line
# "libmcd-windows: SKIP ..." and the script succeeds.  It fails if the
# build fails or a subtest fails.
set -euo pipefail
. "$(dirname "$0")/config.sh"

src=$MCD_REPO/contrib/libmcd
out=$MCD_BUILDROOT/libmcd-win
cross=$src/cross/x86_64-w64-mingw32.ini

command -v x86_64-w64-mingw32-gcc >/dev/null ||
    mcd_die "no x86_64-w64-mingw32-gcc: install gcc-mingw-w64-x86-64" \
            "(buildsys/install-deps.sh)"
if [ ! -f "$out/build.ninja" ]; then
    mcd_say "configuring libmcd for Windows in $out"
    meson setup "$out" "$src" --cross-file "$cross" \
        -Dqemu_build="$MCD_BUILD" > /dev/null ||
        mcd_die "meson setup failed, see $out/meson-logs/meson-log.txt"
fi
targets=(libmcd.dll test-libmcd.exe mcd-cli.exe)
mcd_say "building ${targets[*]}"
ninja -C "$out" "${targets[@]}" > /dev/null || {
    ninja -C "$out" "${targets[@]}"
    mcd_die "building libmcd for Windows failed"
}

[ "${1:-}" = test ] || exit 0

# wine in a prefix of its own, quiet, without a display and without the
# prompts to install Mono and Gecko
export WINEPREFIX=$out/wineprefix WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
if ! command -v wine >/dev/null; then
    echo "libmcd-windows: SKIP (no wine: install wine and wine64)"
    exit 0
fi
rc=0
probe=$(timeout 120 wine cmd /c echo wine-runs 2>&1) || rc=$?
if [ $rc -ne 0 ] || [[ $probe != *wine-runs* ]]; then
    echo "libmcd-windows: SKIP (wine cannot run programs here, status $rc:" \
         "$(printf '%s' "$probe" | tail -n 1))"
    exit 0
fi

export QEMU_SYSTEM_ARM=$MCD_BUILD/qemu-system-arm
export QEMU_SYSTEM_AARCH64=$MCD_BUILD/qemu-system-aarch64
mcd_say "testing libmcd.dll and mcd-cli.exe under wine with" \
        "$QEMU_SYSTEM_ARM and $QEMU_SYSTEM_AARCH64"
rm -f "$out/meson-logs/testlog.json"
rc=0
meson test -C "$out" --no-rebuild --print-errorlogs \
    test-libmcd test-mcd-cli || rc=$?
# wine's server of this prefix ends a moment after its last program
timeout 30 wineserver -w 2>/dev/null || wineserver -k 2>/dev/null || true

python3 - "$out/meson-logs/testlog.json" "$rc" <<'EOPY'
import json, os, re, sys

log, rc = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
ran = False
if os.path.exists(log):
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            ran = True
            out = t.get("stdout") or ""
            passed += len(re.findall(r"^ok \d+(?!.*# SKIP)", out, re.M))
            skipped += len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
            bad = len(re.findall(r"^not ok \d+", out, re.M))
            if t["result"] not in ("OK", "EXPECTEDFAIL") and bad == 0:
                bad = 1        # crashed or timed out outside any subtest
            failed += bad
if not ran or (rc != 0 and failed == 0):
    failed += 1
print(f"libmcd-windows: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
EOPY
