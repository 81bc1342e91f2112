#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The main job: build QEMU with the MCD stub, assemble the demo guest
# and run it with the stub listening.  Quit QEMU with Ctrl-A X.
#
#   DEMO_ARCH   aarch64 (default) or arm
#   MCD_DEVICE  the -mcd argument (default: "default" = tcp:127.0.0.1:1235)
# Further arguments are passed to QEMU (for example -S to start stopped).
set -euo pipefail
. "$(dirname "$0")/config.sh"

arch=${DEMO_ARCH:-aarch64}
device=${MCD_DEVICE:-default}
case "$arch" in
aarch64) cross=aarch64-linux-gnu- cpu=cortex-a57 asflags=() ;;
arm)     cross=arm-linux-gnueabihf- cpu=cortex-a15 asflags=(-march=armv7-a) ;;
*)       mcd_die "DEMO_ARCH must be aarch64 or arm, not $arch" ;;
esac

"$MCD_REPO/buildsys/build.sh" "qemu-system-$arch" >&2

out=$MCD_BUILDROOT/demo
mkdir -p "$out"
"${cross}as" "${asflags[@]}" -o "$out/guest-$arch.o" "$MCD_REPO/demo/guest-$arch.s"
"${cross}ld" -Ttext=0x40200000 -e _start -o "$out/guest-$arch.elf" "$out/guest-$arch.o"
counter=$("${cross}nm" "$out/guest-$arch.elf" | awk '$3 == "counter" { print $1 }')

case "$device" in
default) where="TCP 127.0.0.1:1235" ;;
*)       where="$device" ;;
esac
cat >&2 <<EOM

QEMU $(cat "$MCD_WORK/VERSION") with the MCD stub: $MCD_BUILD/qemu-system-$arch
Guest: $out/guest-$arch.elf at 0x40200000 ($cpu); it counts in memory at 0x$counter
MCD stub listening on $where: connect an MCD client there
(TRACE32 with the MCD client library, or any client of the protocol
in docs/interop/mcd.rst).  Quit with Ctrl-A X.

EOM
exec "$MCD_BUILD/qemu-system-$arch" -M virt -cpu "$cpu" -accel tcg -m 256 -nic none \
    -nographic -kernel "$out/guest-$arch.elf" -mcd "$device" "$@"
