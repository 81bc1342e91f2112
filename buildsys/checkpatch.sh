#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run QEMU's scripts/checkpatch.pl on every file of the overlay and on
# every patch.  Needs the working copy (make assemble).
set -uo pipefail
. "$(dirname "$0")/config.sh"

checkpatch=$MCD_WORK/scripts/checkpatch.pl
[ -x "$checkpatch" ] || mcd_die "no $checkpatch: run make assemble first"
cd "$MCD_REPO" || exit 1

# Warnings count as failures too.
run() {
    local out
    out=$("$checkpatch" --no-tree -q "$@" 2>&1)
    [ -z "$out" ] && return 0
    printf '%s\n' "$out"
    return 1
}

rc=0
for f in $(git ls-files -co --exclude-standard "${MCD_OVERLAY_DIRS[@]}" |
           grep -E '\.(c|h)$'); do
    run -f "$f" || rc=1
done
for p in $(find patches -name '*.patch' | LC_ALL=C sort); do
    run --no-signoff "$p" || rc=1
done
[ $rc -eq 0 ] && mcd_say "checkpatch: clean"
exit $rc
