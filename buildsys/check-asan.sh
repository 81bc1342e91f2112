#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build qemu-system-aarch64 with the stub, AddressSanitizer and
# UndefinedBehaviorSanitizer in a third build directory and run the
# qtests on it (mcd-test, mcd-arm-test, mcd-run-test, mcd-json-test,
# mcd-disconnect-test):
# MCD breakpoints next to gdbstub's, gdb connecting, detaching and
# removing its own at the same address, sessions ending in the middle of
# steps and notifications, clients that stop reading, malformed JSON
# must cause no use-after-free, no double free and no undefined
# behaviour.  Expects the working copy that buildsys/build.sh made.
# Leaks are not checked: QEMU itself does not free everything at exit.
set -euo pipefail
. "$(dirname "$0")/config.sh"

dir=$MCD_WORK/build-asan
QTESTS=(mcd-test mcd-arm-test mcd-run-test mcd-json-test mcd-disconnect-test)
mcd_configure "$dir" --target-list=aarch64-softmmu --enable-mcd \
    --enable-asan --enable-ubsan
mcd_link_firmware "$dir"
# the targets of a build directory configured before they existed
ninja -C "$dir" build.ninja
ninja -C "$dir" qemu-system-aarch64 "${QTESTS[@]/#/tests/qtest/}"

cd "$dir"
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
export QTEST_QEMU_BINARY=./qemu-system-aarch64
rc=0
for t in "${QTESTS[@]}"; do
    tests/qtest/$t || rc=1
done
exit $rc
