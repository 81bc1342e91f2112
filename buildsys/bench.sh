#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The benchmark of the MCD stub against gdbstub (bench/mcd-bench.c): build
# libmcd if needed, compile the benchmark against it and run it with the
# build's qemu-system-aarch64 (QEMU itself is not rebuilt: run `make`
# first).  The benchmark starts its own QEMUs on free ports.
#
#   buildsys/bench.sh [--quick] [--blocks N] [--cpu MODEL] [--map-cpu MODEL]
#
# The exit status is that of the benchmark: 0, or 1 if a consistency
# check failed.
set -euo pipefail
. "$(dirname "$0")/config.sh"

qemu=$MCD_BUILD/qemu-system-aarch64
[ -x "$qemu" ] ||
    mcd_die "$qemu does not exist: build QEMU first (make)"

# libmcd is built incrementally; someone may be in the middle of an edit
# of contrib/libmcd, so a failed build is tried again after a minute.
lib=$MCD_BUILDROOT/libmcd
if ! "$MCD_REPO/buildsys/libmcd.sh"; then
    mcd_say "building libmcd failed; trying again in 60 s"
    sleep 60
    "$MCD_REPO/buildsys/libmcd.sh" ||
        mcd_die "building libmcd failed, see the errors above"
fi
[ -e "$lib/libmcd.so" ] || mcd_die "$lib/libmcd.so was not built"

out=$MCD_BUILDROOT/bench
mkdir -p "$out"
mcd_say "compiling the benchmark into $out"
gcc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
    -I"$MCD_REPO/contrib/libmcd" \
    -o "$out/mcd-bench" "$MCD_REPO/bench/mcd-bench.c" \
    -L"$lib" -lmcd -Wl,-rpath,"$lib" -lpthread ||
    mcd_die "compiling bench/mcd-bench.c failed"

mcd_say "running $out/mcd-bench with $qemu"
exec "$out/mcd-bench" --qemu "$qemu" "$@"
