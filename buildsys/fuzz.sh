#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the libFuzzer target tests/unit/fuzz-mcd-protocol.c with clang
# (Debian's clang-14 with libclang-rt-14-dev), with AddressSanitizer and
# UndefinedBehaviorSanitizer, and run it.
#
#   FUZZ_RUNS   how many inputs to try (default 1000000)
# Further arguments go to the fuzzer (for example -max_total_time=60).
set -euo pipefail
. "$(dirname "$0")/config.sh"

CLANG=clang-14
if ! command -v $CLANG >/dev/null ||
   ! dpkg-query -W -f='${Status}\n' libclang-rt-14-dev 2>/dev/null |
     grep -q '^install ok installed$'; then
    mcd_say "installing clang-14 and libclang-rt-14-dev"
    if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -q -y \
        --no-install-recommends clang-14 libclang-rt-14-dev
fi

# The QEMU build provides the generated headers and libqemuutil.a.
"$MCD_REPO/buildsys/build.sh" tests/unit/test-mcd-protocol >&2

out=$MCD_BUILDROOT/fuzz
mkdir -p "$out/corpus"
W=$MCD_WORK
B=$MCD_BUILD
glib_cflags=$(pkg-config --cflags glib-2.0)
glib_libs=$(pkg-config --libs glib-2.0)
cflags=(-g -O1 -std=gnu11 -fno-strict-aliasing -fno-common -fwrapv
        -fsanitize=fuzzer-no-link,address,undefined
        -fno-sanitize-recover=undefined
        -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE
        -I"$B" -I"$B/qapi" -I"$B/trace" -I"$W/tests/unit"
        -isystem "$W/linux-headers" -iquote "$W" -iquote "$W/include"
        -iquote "$W/host/include/x86_64" -iquote "$W/host/include/generic"
        $glib_cflags)
objs=()
for src in mcdstub/packet.c mcdstub/protocol.c mcdstub/model.c \
           tests/unit/mcd-fake-core.c tests/unit/fuzz-mcd-protocol.c; do
    obj=$out/$(basename "$src" .c).o
    $CLANG "${cflags[@]}" -c "$W/$src" -o "$obj"
    objs+=("$obj")
done
# libqemuutil needs QOM, as for QEMU's own unit tests
$CLANG -fsanitize=fuzzer,address,undefined -o "$out/fuzz-mcd-protocol" \
    "${objs[@]}" "$B"/libevent-loop-base.a.p/*.o "$B"/libqom.a.p/*.o \
    -Wl,--start-group "$B/libqemuutil.a" $glib_libs -lrt -lm -pthread \
    -Wl,--end-group

# A seed corpus of what a client says.
i=0
for pkt in '$I#|' '$qsystem#|' '$qcores#|' '$i0#|$qmemoryf0#|$qmemoryc1#|' \
           '$i0#|$qregf0#|$qregc1#|$qregc2#|' '$qresetf0#|$qresetc1#|' \
           '$qprotocolerrors#|$i7#|$d0#|$D#|' '$qsystem#16' '$I#x-+' \
           '$i0#|$qreggroupf0#|$qreggroupc1#|$d0#|'; do
    printf '\001%s' "$pkt" > "$out/corpus/seed$i"
    i=$((i + 1))
done

mcd_say "running $out/fuzz-mcd-protocol"
cd "$out"
./fuzz-mcd-protocol -runs="${FUZZ_RUNS:-1000000}" -max_len=8192 \
    -print_final_stats=1 "$@" corpus
