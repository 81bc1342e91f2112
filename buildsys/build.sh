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

if [ ! -f "$MCD_BUILD/build.ninja" ]; then
    mcd_say "configuring QEMU $(cat "$MCD_WORK/VERSION") in $MCD_BUILD"
    mkdir -p "$MCD_BUILD"
    (cd "$MCD_BUILD" &&
        ../configure "${MCD_CONFIGURE_ARGS[@]}" --enable-mcd \
            --cc="ccache gcc" --cxx="ccache g++" > configure.log 2>&1) || {
        tail -n 30 "$MCD_BUILD/configure.log" >&2
        rm -f "$MCD_BUILD/build.ninja"
        mcd_die "configure failed, see $MCD_BUILD/configure.log"
    }
fi

# Cache hits across clones at other paths (CI builds in a fresh clone).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$MCD_WORK}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(qemu-system-aarch64 qemu-system-arm)
mcd_say "building ${targets[*]}"
ninja -C "$MCD_BUILD" "${targets[@]}"
