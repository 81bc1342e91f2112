#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what building QEMU with the MCD stub needs, from Debian's
# packages.  Does nothing when everything is there already.  Needs root
# (or sudo) only when something is missing.
set -euo pipefail
. "$(dirname "$0")/config.sh"

PACKAGES=(
    # building QEMU
    gcc make pkg-config ninja-build python3 python3-venv python3-pycotap
    libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev ccache
    # unpacking Debian's QEMU source package and applying our patches
    dpkg-dev patch xz-utils
    # assembling the demo guest
    binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf
    # the manual, with the reference generated from qapi/mcd.json
    python3-sphinx python3-sphinx-rtd-theme
    # firmware QEMU's source package does not ship, as Debian's own QEMU
    # uses it: the option ROMs of the NICs a plain command line gets, the
    # PC BIOS and VGA BIOS, RISC-V's SBI firmware
    ipxe-qemu seabios opensbi
    # mcd-cli: disassembly (capstone) and line editing with history (libedit,
    # BSD licensed like mcd-cli is MIT; both optional at build time)
    libcapstone-dev libedit-dev
    # libmcd.dll for TRACE32 on Windows: mingw-w64 builds it, wine runs its
    # test against the Linux emulators (buildsys/libmcd-windows.sh)
    gcc-mingw-w64-x86-64 wine wine64
)
# building the x86 option ROMs from QEMU's source (kvmvapic.bin and the
# -kernel loaders), as Debian's QEMU does: 32-bit code, on x86 hosts
case $(dpkg --print-architecture 2>/dev/null) in
amd64|i386) PACKAGES+=(gcc-multilib) ;;
esac
MESON_MIN=1.5

SOURCES_FILE=/etc/apt/sources.list.d/qemu-mcd.sources

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        mcd_die "need root to run: $*"
    fi
}

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed$' || echo "$p"
    done
}

meson_ok() {
    local v
    v=$(meson --version 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge "$MESON_MIN"
}

codename() {
    . /etc/os-release
    echo "${VERSION_CODENAME:-}"
}

# bookworm-backports for meson >= 1.5, and trixie's deb-src for QEMU 10.0.
add_sources() {
    local suite
    suite=$(codename)
    [ -f "$SOURCES_FILE" ] && return 0
    mcd_say "adding $SOURCES_FILE (${suite}-backports packages, trixie sources)"
    as_root tee "$SOURCES_FILE" >/dev/null <<EOS
Types: deb
URIs: http://deb.debian.org/debian
Suites: ${suite}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
    as_root apt-get -q update
}

main() {
    local missing
    missing=$(missing_packages "${PACKAGES[@]}")
    if [ -z "$missing" ] && meson_ok && [ -f "$SOURCES_FILE" ]; then
        return 0
    fi
    command -v apt-get >/dev/null || mcd_die "apt-get not found; install by hand: ${PACKAGES[*]} meson>=$MESON_MIN"
    add_sources
    if [ -n "$missing" ]; then
        mcd_say "installing:" $missing
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends $missing
    fi
    if ! meson_ok; then
        mcd_say "installing meson >= $MESON_MIN from $(codename)-backports"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends \
            -t "$(codename)-backports" meson
        meson_ok || mcd_die "meson >= $MESON_MIN still not available (found: $(meson --version 2>&1))"
    fi
}

main "$@"
