#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Write patches/<file>.patch from the working copy: for every upstream
# file that already has a patch, and for each file named on the command
# line (paths relative to the QEMU tree, e.g. hw/arm/virt.c).  Edit the
# upstream file in build/qemu/, run this, commit the patch.  A file that
# no longer differs from the pristine tree loses its patch.
set -euo pipefail
. "$(dirname "$0")/config.sh"

[ -f "$MCD_WORK/.mcd-pristine" ] || mcd_die "no working copy in $MCD_WORK: run make assemble first"
PRISTINE=$(cat "$MCD_WORK/.mcd-pristine")

files=$( { (cd "$MCD_REPO/patches" && find . -name '*.patch' -type f |
           sed 's|^\./||; s|\.patch$||'); printf '%s\n' "$@"; } | LC_ALL=C sort -u)

for f in $files; do
    [ -f "$PRISTINE/$f" ] || mcd_die "$f is not a file of the QEMU tree $PRISTINE"
    out=$MCD_REPO/patches/$f.patch
    mkdir -p "$(dirname "$out")"
    # Three lines of context, as git and QEMU use.
    if (cd "$MCD_WORK/.." && diff -U3 --label "a/$f" --label "b/$f" \
            "$PRISTINE/$f" "$MCD_WORK/$f") > "$out.tmp"; then
        rm -f "$out" "$out.tmp"
        mcd_say "$f: no change, patch removed"
    else
        [ $? -eq 1 ] || mcd_die "diff failed for $f"
        mv "$out.tmp" "$out"
        mcd_say "$f: wrote ${out#"$MCD_REPO/"}"
    fi
done
# the working copy already has these changes
"$MCD_REPO/buildsys/assemble.sh" "$PRISTINE"
