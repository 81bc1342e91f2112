#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Provide a pristine QEMU 10.0.x source tree and print its path.
#
# With QEMU_SRC set, that tree is checked and used as it is.  Otherwise
# Debian's qemu source package (trixie) is downloaded with apt-get source
# and unpacked with dpkg-source, which applies Debian's patches.  The
# unpacked tree is cached in $MCD_CACHE and never modified afterwards.
set -euo pipefail
. "$(dirname "$0")/config.sh"

qemu_version() {
    [ -f "$1/VERSION" ] && tr -d '[:space:]' < "$1/VERSION"
}

check_tree() {
    local tree=$1 version
    [ -f "$tree/meson.build" ] && [ -f "$tree/system/vl.c" ] ||
        mcd_die "$tree does not look like a QEMU source tree (no meson.build or system/vl.c)"
    version=$(qemu_version "$tree") || mcd_die "$tree has no VERSION file"
    case "$version" in
    "$MCD_QEMU_SERIES".*) ;;
    *) return 1 ;;
    esac
}

from_user_tree() {
    local tree
    tree=$(cd "$QEMU_SRC" 2>/dev/null && pwd) || mcd_die "QEMU_SRC=$QEMU_SRC: no such directory"
    if ! check_tree "$tree"; then
        mcd_say "warning: $tree is QEMU $(qemu_version "$tree"), not $MCD_QEMU_SERIES.x;" \
                "the patches may not apply"
    fi
    echo "$tree"
}

from_debian() {
    local dl=$MCD_CACHE/download dsc version upstream tree
    mkdir -p "$dl"
    dsc=$(ls -t "$dl"/qemu_*.dsc 2>/dev/null | head -n 1 || true)
    if [ -z "$dsc" ]; then
        mcd_say "downloading Debian's qemu source package into $dl"
        (cd "$dl" && apt-get source --download-only qemu >&2) ||
            mcd_die "apt-get source qemu failed: is a deb-src entry for trixie configured? (buildsys/install-deps.sh adds one)"
        dsc=$(ls -t "$dl"/qemu_*.dsc 2>/dev/null | head -n 1 || true)
        [ -n "$dsc" ] || mcd_die "apt-get source produced no .dsc file in $dl"
    fi
    version=$(sed -n 's/^Version: //p' "$dsc" | head -n 1)
    # 1:10.0.13+ds-0+deb13u1 -> 10.0.13
    upstream=${version#*:}
    upstream=${upstream%%[+~-]*}
    case "$upstream" in
    "$MCD_QEMU_SERIES".*) ;;
    *)
        mcd_die "Debian's qemu source package is version $version (upstream $upstream)," \
                "not $MCD_QEMU_SERIES.x; set QEMU_SRC to a QEMU $MCD_QEMU_SERIES.x tree instead"
        ;;
    esac
    tree=$MCD_CACHE/qemu-$upstream
    if [ ! -f "$tree/.mcd-unpacked" ]; then
        mcd_say "unpacking $(basename "$dsc") (with Debian's patches) into $tree"
        rm -rf "$tree"
        dpkg-source -x "$dsc" "$tree" >&2 ||
            mcd_die "dpkg-source -x $dsc failed"
        check_tree "$tree" ||
            mcd_die "unpacked tree $tree is QEMU $(qemu_version "$tree"), not $MCD_QEMU_SERIES.x"
        echo "$version" > "$tree/.mcd-unpacked"
    fi
    echo "$tree"
}

if [ -n "${QEMU_SRC:-}" ]; then
    from_user_tree
else
    from_debian
fi
