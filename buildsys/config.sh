# SPDX-License-Identifier: GPL-2.0-or-later
#
# Settings shared by the build scripts; sourced, not run.
#
# Every path can be overridden from the environment:
#   QEMU_SRC      a QEMU 10.0.x source tree to use instead of Debian's
#                 source package (used read-only, copied into MCD_WORK)
#   MCD_CACHE     where the downloaded and unpacked QEMU source is kept
#   MCD_BUILDROOT where the working copy and the build directory live

MCD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MCD_CACHE=${MCD_CACHE:-${XDG_CACHE_HOME:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache}/qemu-mcd}
MCD_BUILDROOT=${MCD_BUILDROOT:-$MCD_REPO/build}
# The working copy: pristine QEMU + our patches + links to our files.
MCD_WORK=$MCD_BUILDROOT/qemu
# QEMU's build directory inside the working copy.
MCD_BUILD=$MCD_WORK/build

# The QEMU series we build against.
MCD_QEMU_SERIES=10.0

# Targets and features: the smallest QEMU that runs our tests.  The
# targets with descriptions of their own, and m68k for the generic one.
MCD_TARGETS=aarch64-softmmu,arm-softmmu,riscv64-softmmu,riscv32-softmmu,i386-softmmu,x86_64-softmmu,m68k-softmmu
MCD_CONFIGURE_ARGS=(
    --target-list=$MCD_TARGETS
    --without-default-features
    --disable-docs
    --disable-download
    --enable-fdt=system
    --disable-install-blobs
    --enable-werror
    --python=/usr/bin/python3
)

# The directories of the overlay: everything under them is ours and is
# linked into the working copy at the same path.
MCD_OVERLAY_DIRS=(mcdstub include/mcdstub qapi tests docs)

# Cache hits across clones at other paths (CI builds in a fresh clone).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$MCD_WORK}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

# Firmware from Debian's packages (the source package has no blobs),
# linked where the QEMU of the build directory looks for it: the
# directories of Debian's QEMU's --firmwarepath, and the files Debian's
# QEMU links into /usr/share/qemu under the names QEMU asks for.
MCD_FIRMWARE_DIRS=(/usr/lib/ipxe/qemu /usr/share/seabios)
MCD_FIRMWARE_FILES=(
    opensbi-riscv64-generic-fw_dynamic.bin=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
)

mcd_say() {
    printf '==> %s\n' "$*" >&2
}

mcd_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# mcd_configure DIR ARGS...: configure the working copy into the build
# directory DIR (a subdirectory of it) with MCD_CONFIGURE_ARGS and ARGS,
# with ccache, unless DIR is configured with them already.
mcd_configure() {
    local dir=$1 args
    shift
    args="${MCD_CONFIGURE_ARGS[*]} $*"
    [ -f "$dir/build.ninja" ] && [ -f "$dir/.mcd-configure-args" ] &&
        [ "$(cat "$dir/.mcd-configure-args")" = "$args" ] && return 0
    mcd_say "configuring QEMU $(cat "$MCD_WORK/VERSION") in $dir ($*)"
    mkdir -p "$dir"
    (cd "$dir" && ../configure "${MCD_CONFIGURE_ARGS[@]}" "$@" \
        --cc="ccache gcc" --cxx="ccache g++" > configure.log 2>&1) || {
        tail -n 30 "$dir/configure.log" >&2
        rm -f "$dir/build.ninja"
        mcd_die "configure failed, see $dir/configure.log"
    }
    printf '%s\n' "$args" > "$dir/.mcd-configure-args"
}

# mcd_build_roms DIR: build the firmware QEMU's source has (the x86
# option ROMs, with the top-level Makefile as QEMU's `make` does) where
# configure found a compiler for it, and link it with Debian's.
mcd_build_roms() {
    local dir=$1
    if [ -f "$dir/pc-bios/optionrom/config.mak" ]; then
        make -C "$dir" --no-print-directory pc-bios/optionrom/all ||
            mcd_die "building the x86 option ROMs failed"
    fi
    mcd_link_firmware "$dir"
}

# mcd_link_firmware DIR: make Debian's firmware files (MCD_FIRMWARE_DIRS)
# visible to the QEMU built in DIR, which looks in its qemu-bundle
# (`qemu-system-arm -L help` lists where), as an installed QEMU built
# with --firmwarepath would look in those directories.
mcd_link_firmware() {
    local bundle=$1/qemu-bundle/usr/local/share/qemu d f
    mkdir -p "$bundle"
    for d in "$1/pc-bios/optionrom" "${MCD_FIRMWARE_DIRS[@]}"; do
        [ -d "$d" ] || continue
        for f in "$d"/*.bin "$d"/*.rom; do
            [ -e "$f" ] && ln -sfn "$f" "$bundle/$(basename "$f")"
        done
    done
    for f in "${MCD_FIRMWARE_FILES[@]}"; do
        [ -e "${f#*=}" ] && ln -sfn "${f#*=}" "$bundle/${f%%=*}"
    done
    return 0
}
