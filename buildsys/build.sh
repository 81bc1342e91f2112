#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch QEMU, assemble the working copy, configure it once and build the
# ninja targets given as arguments (default: both system emulators).
# Every step is skipped when its result is up to date, so a rebuild after
# editing mcdstub/*.c compiles just that.
set -euo pipefail
. "$(dirname "$0")/config.sh"

"$MCD_REPO/buildsys/install-deps.sh"
pristine=$("$MCD_REPO/buildsys/fetch-qemu.sh")
"$MCD_REPO/buildsys/assemble.sh" "$pristine"

mcd_configure "$MCD_BUILD" --enable-mcd

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(qemu-system-aarch64 qemu-system-arm)
mcd_say "building ${targets[*]}"
ninja -C "$MCD_BUILD" "${targets[@]}"
mcd_build_roms "$MCD_BUILD"
