#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make (or bring up to date) the working copy $MCD_WORK: a copy of the
# pristine QEMU tree given as $1, with patches/*.patch applied and every
# file of our overlay linked in at its QEMU path.  Links, not copies, so
# that editing mcdstub/*.c here reaches the next build at once.
#
# Cheap when nothing changed: the copy is made once per pristine tree,
# and the patches are re-applied only when they change.
set -euo pipefail
. "$(dirname "$0")/config.sh"

PRISTINE=$(cd "${1:?usage: assemble.sh PRISTINE_QEMU_TREE}" && pwd)
STAMP_TREE=$MCD_WORK/.mcd-pristine
STAMP_PATCHES=$MCD_WORK/.mcd-patches

patch_files() {
    find "$MCD_REPO/patches" -name '*.patch' -type f | LC_ALL=C sort
}

# The upstream file a patch changes: patches/system/vl.c.patch -> system/vl.c
patched_path() {
    local p=${1#"$MCD_REPO/patches/"}
    echo "${p%.patch}"
}

make_copy() {
    if [ -f "$STAMP_TREE" ] && [ "$(cat "$STAMP_TREE")" = "$PRISTINE" ]; then
        return 0
    fi
    mcd_say "copying $PRISTINE to $MCD_WORK"
    rm -rf "$MCD_WORK"
    mkdir -p "$(dirname "$MCD_WORK")"
    cp -a "$PRISTINE" "$MCD_WORK"
    rm -rf "$MCD_WORK/build"
    echo "$PRISTINE" > "$STAMP_TREE"
}

apply_patches() {
    local sum f p tmp
    sum=$(patch_files | xargs -r cat | sha256sum | cut -d' ' -f1)
    if [ -f "$STAMP_PATCHES" ] && [ "$(head -n 1 "$STAMP_PATCHES")" = "$sum" ]; then
        return 0
    fi
    # Patch pristine copies of every file that was or will be patched in
    # a scratch tree, then copy over only the files whose content
    # changed, so that the build redoes no more than it must.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    {
        [ -f "$STAMP_PATCHES" ] && tail -n +2 "$STAMP_PATCHES"
        for p in $(patch_files); do patched_path "$p"; done
    } | sort -u > "$tmp/.files"
    while read -r f; do
        mkdir -p "$tmp/$(dirname "$f")"
        cp "$PRISTINE/$f" "$tmp/$f"
    done < "$tmp/.files"
    for p in $(patch_files); do
        patch --batch --forward --no-backup-if-mismatch -s -p1 -d "$tmp" < "$p" ||
            mcd_die "$p does not apply to $PRISTINE (QEMU $(cat "$PRISTINE/VERSION"))"
    done
    while read -r f; do
        if ! cmp -s "$tmp/$f" "$MCD_WORK/$f"; then
            mcd_say "updating $f"
            cp "$tmp/$f" "$MCD_WORK/$f"
        fi
    done < "$tmp/.files"
    { echo "$sum"; for p in $(patch_files); do patched_path "$p"; done; } > "$STAMP_PATCHES"
}

# Link every overlay file into the working copy.  Where a whole directory
# is ours (not in QEMU), the directory itself is linked.
link_overlay() {
    local d f rel top
    for d in "${MCD_OVERLAY_DIRS[@]}"; do
        [ -e "$MCD_REPO/$d" ] || continue
        (cd "$MCD_REPO" && find "$d" -type f) | while read -r rel; do
            [ -e "$PRISTINE/$rel" ] &&
                mcd_die "$rel is an upstream file: change it with a patch in patches/"
            top=$rel
            # the outermost ancestor that QEMU does not have
            f=$rel
            while [ "$f" != . ]; do
                [ -e "$PRISTINE/$f" ] || top=$f
                f=$(dirname "$f")
            done
            if [ -L "$MCD_WORK/$top" ]; then
                continue
            fi
            [ -e "$MCD_WORK/$top" ] && rm -rf "${MCD_WORK:?}/$top"
            mkdir -p "$(dirname "$MCD_WORK/$top")"
            ln -s "$MCD_REPO/$top" "$MCD_WORK/$top"
        done
    done
    # drop links to files that were removed from the overlay
    for d in "${MCD_OVERLAY_DIRS[@]}"; do
        [ -d "$MCD_WORK/$d" ] || continue
        find "$MCD_WORK/$d" -xtype l -delete
    done
}

make_copy
apply_patches
link_overlay
