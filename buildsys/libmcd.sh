#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build libmcd, the MCD API client library in contrib/libmcd (MIT
# licensed, a meson project of its own), into build/libmcd.
#   buildsys/libmcd.sh        build libmcd.so and its test
#   buildsys/libmcd.sh test   also run the test (meson test "test-libmcd")
#                             against the emulators in $MCD_BUILD
set -euo pipefail
. "$(dirname "$0")/config.sh"

src=$MCD_REPO/contrib/libmcd
out=$MCD_BUILDROOT/libmcd

if [ ! -f "$out/build.ninja" ]; then
    mcd_say "configuring libmcd in $out"
    meson setup "$out" "$src" -Dqemu_build="$MCD_BUILD" > /dev/null ||
        mcd_die "meson setup failed, see $out/meson-logs/meson-log.txt"
fi
mcd_say "building libmcd"
ninja -C "$out" > /dev/null || {
    ninja -C "$out"
    mcd_die "building libmcd failed"
}

if [ "${1:-}" = test ]; then
    export QEMU_SYSTEM_ARM=$MCD_BUILD/qemu-system-arm
    export QEMU_SYSTEM_AARCH64=$MCD_BUILD/qemu-system-aarch64
    mcd_say "testing libmcd with $QEMU_SYSTEM_ARM and $QEMU_SYSTEM_AARCH64"
    meson test -C "$out" --print-errorlogs
fi
