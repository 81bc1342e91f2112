#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fuzz the wire protocols of the MCD stub against a live QEMU: run the
# seeded fuzzer tests/fuzz/mcd-wire-fuzz.py (packet and JSON protocol)
# on qemu-system-aarch64 and qemu-system-arm, each with one and with two
# cores.  Failing cases are saved under build/fuzz-wire/.  Ends with one
# line "wire fuzz: N cases, N findings" and exits non-zero on a finding.
#
#   FUZZ_CASES  cases per protocol and configuration (default 100000)
#   FUZZ_SEED   the seed (default: a new one, printed; the same seed and
#               count replay the same cases)
#   --short     the short run of make check: seed 1 and 3000 cases per
#               protocol and configuration (about a minute in all), on
#               the emulators as they are built
# Other arguments go to the fuzzer (for example -v).
set -uo pipefail
. "$(dirname "$0")/config.sh"

short=false
args=()
for arg in "$@"; do
    case $arg in
    --short) short=true ;;
    *) args+=("$arg") ;;
    esac
done

if $short; then
    cases=${FUZZ_CASES:-3000}
    seed=${FUZZ_SEED:-1}
else
    cases=${FUZZ_CASES:-100000}
    seed=${FUZZ_SEED:-$(( $(date +%s) % 1000000 ))}
    "$MCD_REPO/buildsys/build.sh" qemu-system-aarch64 qemu-system-arm >&2 ||
        mcd_die "build failed"
fi
for arch in aarch64 arm; do
    [ -x "$MCD_BUILD/qemu-system-$arch" ] ||
        mcd_die "no $MCD_BUILD/qemu-system-$arch: build it first"
done

mkdir -p "$MCD_BUILDROOT/fuzz-wire"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
mcd_say "wire fuzz: seed $seed, $cases cases per protocol and configuration"
total=0
findings=0
rc=0
start=$SECONDS
for arch in aarch64 arm; do
    for smp in 1 2; do
        python3 "$MCD_REPO/tests/fuzz/mcd-wire-fuzz.py" \
            --arch $arch --smp $smp --protocol both --seed "$seed" \
            --cases "$cases" --qemu "$MCD_BUILD/qemu-system-$arch" \
            ${args[@]+"${args[@]}"} | tee "$out"
        status=${PIPESTATUS[0]}
        summary=$(grep '^wire fuzz: ' "$out" | tail -n 1)
        if [[ $summary =~ ^wire\ fuzz:\ ([0-9]+)\ cases,\ ([0-9]+)\ findings ]]
        then
            total=$((total + BASH_REMATCH[1]))
            findings=$((findings + BASH_REMATCH[2]))
        elif [ $status -ne 0 ]; then
            findings=$((findings + 1))      # the fuzzer itself failed
        fi
        [ $status -eq 0 ] || rc=1
    done
done
echo "wire fuzz: $total cases, $findings findings" \
     "(seed $seed, $((SECONDS - start)) s)"
exit $rc
