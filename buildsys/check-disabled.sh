#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build qemu-system-arm with --disable-mcd in a second build directory
# and check that it builds and that -mcd then fails with a clear error.
# Expects the working copy that buildsys/build.sh made.
set -euo pipefail
. "$(dirname "$0")/config.sh"

dir=$MCD_WORK/build-nomcd
mcd_configure "$dir" --target-list=arm-softmmu --disable-mcd
ninja -C "$dir" qemu-system-arm

expected="mcdstub: this QEMU was built without the MCD stub"
set +e
out=$("$dir/qemu-system-arm" -M virt -accel tcg -nodefaults -display none \
      -mcd default 2>&1)
rc=$?
set -e
if [ $rc -ne 1 ] || [[ "$out" != *"$expected"* ]]; then
    mcd_die "--disable-mcd: expected exit 1 and '$expected', got $rc: $out"
fi
echo "disabled build: -mcd answers: $out"
