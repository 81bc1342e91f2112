#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the libFuzzer targets tests/unit/fuzz-mcd-protocol.c (packet
# protocol) and tests/unit/fuzz-mcd-json.c (JSON protocol) with clang
# (Debian's clang-14 with libclang-rt-14-dev), with AddressSanitizer and
# UndefinedBehaviorSanitizer, and run them.
#
#   FUZZ_RUNS     how many inputs to try (default 1000000)
#   FUZZ_SANITIZE the sanitizers (default address,undefined).  With
#                 "undefined" alone (built into build/fuzz-undefined) the
#                 JSON target runs ten times as fast (about 3,000 instead
#                 of 270 executions a second here; AddressSanitizer's
#                 bookkeeping of QEMU's JSON parser's many small
#                 allocations is most of the time): for long runs
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

sanitize=${FUZZ_SANITIZE:-address,undefined}
out=$MCD_BUILDROOT/fuzz
[ "$sanitize" = address,undefined ] || out=$out-${sanitize//,/-}
mkdir -p "$out/corpus"
W=$MCD_WORK
B=$MCD_BUILD
glib_cflags=$(pkg-config --cflags glib-2.0)
glib_libs=$(pkg-config --libs glib-2.0)
cflags=(-g -O1 -std=gnu11 -fno-strict-aliasing -fno-common -fwrapv
        -fsanitize=fuzzer-no-link,$sanitize
        -fno-sanitize-recover=undefined
        -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE
        -I"$B" -I"$B/qapi" -I"$B/trace" -I"$W/tests/unit"
        -isystem "$W/linux-headers" -iquote "$W" -iquote "$W/include"
        -iquote "$W/host/include/x86_64" -iquote "$W/host/include/generic"
        $glib_cflags)
compile() {
    local obj=$out/$(basename "$1" .c).o
    $CLANG "${cflags[@]}" -c "$1" -o "$obj"
    echo "$obj"
}
link() {
    local name=$1
    shift
    # libqemuutil needs QOM, as for QEMU's own unit tests
    $CLANG -fsanitize=fuzzer,$sanitize -o "$out/$name" "$@" \
        "$B"/libevent-loop-base.a.p/*.o "$B"/libqom.a.p/*.o \
        -Wl,--start-group "$B/libqemuutil.a" $glib_libs -lrt -lm -pthread \
        -Wl,--end-group
}
common=()
for src in mcdstub/model.c tests/unit/mcd-fake-core.c; do
    common+=("$(compile "$W/$src")")
done
objs=("${common[@]}")
for src in mcdstub/packet.c mcdstub/protocol.c \
           tests/unit/fuzz-mcd-protocol.c; do
    objs+=("$(compile "$W/$src")")
done
link fuzz-mcd-protocol "${objs[@]}"
# the JSON front-end with its generated marshallers
objs=("${common[@]}")
for src in "$B"/mcdstub/mcd-qapi-*.c "$W/mcdstub/json.c" \
           "$W/tests/unit/fuzz-mcd-json.c"; do
    objs+=("$(compile "$src")")
done
link fuzz-mcd-json "${objs[@]}"

# A seed corpus of what a client says.
i=0
for pkt in '$I#|' '$qsystem#|' '$qcores#|' '$i0#|$qmemoryf0#|$qmemoryc1#|' \
           '$i0#|$qregf0#|$qregc1#|$qregc2#|' '$qresetf0#|$qresetc1#|' \
           '$qprotocolerrors#|$i7#|$d0#|$D#|' '$qsystem#16' '$I#x-+' \
           '$i0#|$qreggroupf0#|$qreggroupc1#|$d0#|'; do
    printf '\001%s' "$pkt" > "$out/corpus/seed$i"
    i=$((i + 1))
done
# The extensions lists, regs and binary.  The first byte of a seed is the
# size of the reads the input is cut into, in octal: 001 is one byte at a
# time (slow), 100 64 bytes, 000 the whole input at once.
seed() {
    printf "\\$1%s" "$2" > "$out/corpus/seed$i"
    i=$((i + 1))
}
ext='$qprotocollists,regs,binary,errors#|$i0#|$qregf0#|$g0;0-1,15#|$G0;0,15;0100000078563412#|$x0;1;4096;8#|$X0;1;4096;3;a}]b#|'
seed 001 "$ext"
seed 100 "$ext"
seed 000 "$ext"
seed 100 '$I#|$qprotocollists#|$i0#|$i1#|$qregf0#|$qregc1#|$qmemoryf0#|$qreggroupf0#|$qresetf0#|$qresetc1#|$qregf1#|$qmemoryf1#|$qcores#|'
seed 100 '$qprotocolregs,errors#|$i0#|$g0;15,0,15#|$g0;0,15,100#|$G0;0,100,15;02000000000000000000000011111111#|$g0;0-4096#|$g0;5-3#|$g0;0-0,15-15#|$G0;0;0100#|$G0;100;0000000000000000#|$g1;0#|'
seed 100 $'$qprotocolbinary,errors,txopt#|$i0#|$X0;1;4096;6;a}\x03}\x04}\x05}]b#|$x0;1;4096;6#|$x0;1;4096;6;2#|$x0;1;4096;0#|$x0;1;69632;1#|$x0;1;4096;1048577#|$X0;1;4096;1;}#|$X0;1;4096;2;abc#|$X0;1;4096;0;#|$x0;1;4096;65536#|'
# binary data with a NUL byte, and binary exchanges with checksums
printf '\100$qprotocolbinary#|$i0#|$X0;1;4096;4;a\000}]b#|$x0;1;4096;4#|$X0;1;4096;3;\000\000\000#|' \
    > "$out/corpus/seed$i"
i=$((i + 1))
seed 000 $'$qprotocolbinary,errors#31$i0#99$X0;1;4100;2;}\x03}]#f6$x0;1;4100;2#81$x0;1;4096;8#95'

# and what a JSON client says
mkdir -p "$out/corpus-json"
i=0
for req in '{"execute":"mcd-open-server","arguments":{"system-key":"","config-string":""}}' \
           '{"execute":"mcd-initialize","arguments":{"version-req":{"v-api-major":1,"v-api-minor":1,"author":"f"}}}' \
           '{"execute":"mcd-qry-servers","arguments":{"host":"","running":true,"start-index":0,"num-servers":1}}' \
           '{"execute":"mcd-qry-error-info","arguments":{"core-uid":0}}' \
           '{"execute":"mcd-open-server","arguments":{}}{"execute":"mcd-open-core","arguments":{"core-con-info":{"host":"","server-port":0,"server-key":"","system-key":"","device-key":"","system":"","system-instance":"","acc-hw":"","device-type":0,"device":"","device-id":0,"core":"","core-type":0,"core-id":0}}}{"execute":"mcd-qry-mem-spaces","arguments":{"core-uid":1,"start-index":0,"num-mem-spaces":9}}{"execute":"mcd-stop","arguments":{"core-uid":1,"global":true}}{"execute":"mcd-step","arguments":{"core-uid":1,"global":false,"step-type":2,"n-steps":2}}{"execute":"mcd-qry-state","arguments":{"core-uid":1}}'; do
    printf '\001%s' "$req" > "$out/corpus-json/seed$i"
    i=$((i + 1))
done

cd "$out"
mcd_say "running $out/fuzz-mcd-protocol"
./fuzz-mcd-protocol -runs="${FUZZ_RUNS:-1000000}" -max_len=8192 \
    -print_final_stats=1 "$@" corpus
mcd_say "running $out/fuzz-mcd-json"
./fuzz-mcd-json -runs="${FUZZ_RUNS:-1000000}" -max_len=8192 \
    -print_final_stats=1 "$@" corpus-json
