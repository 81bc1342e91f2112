#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build everything and run every test of the MCD stub: the unit tests and
# the qtests against the six system emulators (through QEMU's meson
# test suite), the tests of the MCD client library (its own meson
# project) on Linux, its threads under ThreadSanitizer and, built with
# mingw-w64, under wine, a smoke test
# of the demo, a build with --disable-mcd, the gdbstub and MCD stub
# qtests under AddressSanitizer, the manual, checkpatch, and a short run
# of the wire fuzzer against a live QEMU.
# Ends with one line "mcd: N passed, N failed" and exits non-zero if
# anything failed.
set -uo pipefail
. "$(dirname "$0")/config.sh"

TESTS=(test-mcd-packet test-mcd-protocol test-mcd-json
       qtest-aarch64/mcd-test qtest-arm/mcd-test
       qtest-riscv64/mcd-test qtest-riscv32/mcd-test
       qtest-i386/mcd-test qtest-x86_64/mcd-test
       qtest-m68k/mcd-test qtest-m68k/mcd-generic-test
       qtest-aarch64/mcd-arm-test qtest-arm/mcd-arm-test
       qtest-aarch64/mcd-run-test qtest-arm/mcd-run-test
       qtest-aarch64/mcd-json-test qtest-arm/mcd-json-test
       qtest-aarch64/mcd-disconnect-test qtest-arm/mcd-disconnect-test
       qtest-riscv64/mcd-target-test qtest-riscv32/mcd-target-test
       qtest-i386/mcd-target-test
       qtest-x86_64/mcd-target-test)

# What TESTS need: each test program, and the emulators of the qtests.
build=()
for t in "${TESTS[@]}"; do
    case $t in
    qtest-*/*)
        arch=${t%%/*}
        build+=("tests/qtest/${t#*/}" "qemu-system-${arch#qtest-}")
        ;;
    *) build+=("tests/unit/$t") ;;
    esac
done
mapfile -t build < <(printf '%s\n' "${build[@]}" | sort -u)
"$MCD_REPO/buildsys/build.sh" "${build[@]}" || mcd_die "build failed"

mcd_say "running ${TESTS[*]}"
meson test -C "$MCD_BUILD" --no-rebuild --print-errorlogs "${TESTS[@]}"

mcd_say "checking a build without the MCD stub"
"$MCD_REPO/buildsys/check-disabled.sh"
disabled_rc=$?

mcd_say "running the gdbstub + MCD stub qtests under AddressSanitizer"
"$MCD_REPO/buildsys/check-asan.sh" > "$MCD_BUILD/meson-logs/check-asan.log" 2>&1
asan_rc=$?
grep -E '^(not )?ok ' "$MCD_BUILD/meson-logs/check-asan.log" | tail -n 3
[ $asan_rc -eq 0 ] || tail -n 40 "$MCD_BUILD/meson-logs/check-asan.log"

mcd_say "building the manual"
"$MCD_REPO/buildsys/check-docs.sh" > "$MCD_BUILD/meson-logs/check-docs.log" 2>&1
docs_rc=$?
cat "$MCD_BUILD/meson-logs/check-docs.log"

mcd_say "running checkpatch"
"$MCD_REPO/buildsys/checkpatch.sh"
style_rc=$?

mcd_say "building and testing libmcd"
rm -f "$MCD_BUILDROOT/libmcd/meson-logs/testlog.json"
"$MCD_REPO/buildsys/libmcd.sh" test

mcd_say "building libmcd.dll and testing it under wine"
"$MCD_REPO/buildsys/libmcd-windows.sh" test \
    > "$MCD_BUILD/meson-logs/libmcd-windows.log" 2>&1
win_rc=$?
tail -n 1 "$MCD_BUILD/meson-logs/libmcd-windows.log"

# libmcd and its test built with a sanitizer, in build/<name>, and run
# for at most <seconds> with <env> and <test args>; the log is
# meson-logs/<name>.log.
libmcd_sanitized() {
    local name=$1 san=$2 secs=$3 env=$4
    local dir=$MCD_BUILDROOT/$name log=$MCD_BUILD/meson-logs/$name.log rc
    shift 4
    {
        { [ -f "$dir/build.ninja" ] ||
          meson setup "$dir" "$MCD_REPO/contrib/libmcd" -Db_sanitize="$san" \
              -Db_lundef=false -Dqemu_build="$MCD_BUILD"; } &&
        ninja -C "$dir" libmcd.so.1.1.0 test-libmcd &&
        env "$env" timeout "$secs" "$dir/test-libmcd" "$@" \
            "$dir/libmcd.so.1.1.0"
    } > "$log" 2>&1
    rc=$?
    echo "$name: $(grep -c '^ok ' "$log") passed," \
         "$(grep -c '^not ok ' "$log") failed (exit $rc)"
    return $rc
}

mcd_say "running libmcd's threads test under ThreadSanitizer"
libmcd_sanitized libmcd-tsan thread 120 \
    "TSAN_OPTIONS=halt_on_error=1 exitcode=66" --threads
tsan_rc=$?

mcd_say "running libmcd's test under AddressSanitizer"
libmcd_sanitized libmcd-asan address 300 \
    "ASAN_OPTIONS=detect_leaks=0 exitcode=66"
lasan_rc=$?

mcd_say "running the demo smoke test"
python3 "$MCD_REPO/buildsys/demo-smoke.py" \
    > "$MCD_BUILD/meson-logs/demo-smoke.log" 2>&1
demo_rc=$?
cat "$MCD_BUILD/meson-logs/demo-smoke.log"

mcd_say "running the wire fuzzer (short run)"
"$MCD_REPO/buildsys/fuzz-wire.sh" --short \
    > "$MCD_BUILD/meson-logs/fuzz-wire.log" 2>&1
fuzz_rc=$?
grep -E '^(wire fuzz|FINDING|  )' "$MCD_BUILD/meson-logs/fuzz-wire.log"

# Count the test cases: the TAP lines of every test, plus the checks.
LIBMCD_LOG=$MCD_BUILDROOT/libmcd/meson-logs/testlog.json \
python3 - "$MCD_BUILD/meson-logs/testlog.json" "$demo_rc" "$style_rc" \
    "$disabled_rc" "$asan_rc" "$docs_rc" "$fuzz_rc" "$win_rc" "$tsan_rc" \
    "$lasan_rc" "${TESTS[@]}" test-libmcd test-mcd-cli <<'EOPY'
import json, os, re, sys

log, names = sys.argv[1], sys.argv[11:]
lines = []
for path in (log, os.environ["LIBMCD_LOG"]):
    if os.path.exists(path):
        with open(path) as f:
            lines += f.readlines()
(demo_rc, style_rc, disabled_rc, asan_rc, docs_rc, fuzz_rc, win_rc,
 tsan_rc, lasan_rc) = map(int, sys.argv[2:11])
passed = failed = 0
seen = set()
for line in lines:
    t = json.loads(line)
    name = t["name"].split(" / ")[-1]
    if name not in names:
        continue
    seen.add(name)
    out = t.get("stdout") or ""
    # a skipped case neither passed nor failed
    ok = len(re.findall(r"^ok \d+(?!.*# SKIP)", out, re.M))
    bad = len(re.findall(r"^not ok \d+", out, re.M))
    if t["result"] not in ("OK", "EXPECTEDFAIL") and bad == 0:
        bad = 1        # crashed or timed out outside any test case
    passed += ok
    failed += bad
    print(f"{name}: {ok} passed, {bad} failed ({t['result']})")
for name in set(names) - seen:
    print(f"{name}: did not run")
    failed += 1
# libmcd.dll's test under wine: its own summary line
win_log = os.path.join(os.path.dirname(log), "libmcd-windows.log")
win = ""
if os.path.exists(win_log):
    with open(win_log, errors="replace") as f:
        win = [l.strip() for l in f if l.startswith("libmcd-windows: ")]
        win = win[-1] if win else ""
m = re.match(r"libmcd-windows: (\d+) passed, (\d+) failed", win)
if m:
    passed += int(m.group(1))
    failed += int(m.group(2))
if win_rc and not (m and int(m.group(2))):
    failed += 1         # the build failed, or the test crashed
print(win or f"libmcd-windows: FAILED (see {win_log})")
# libmcd's threads under ThreadSanitizer, its test under
# AddressSanitizer: TAP lines
for san, san_rc in (("libmcd-tsan", tsan_rc), ("libmcd-asan", lasan_rc)):
    san_log = os.path.join(os.path.dirname(log), san + ".log")
    san_ok = san_bad = 0
    if os.path.exists(san_log):
        with open(san_log, errors="replace") as f:
            out = f.read()
        san_ok = len(re.findall(r"^ok \d+(?!.*# SKIP)", out, re.M))
        san_bad = len(re.findall(r"^not ok \d+", out, re.M))
    if san_rc and not san_bad:
        san_bad = 1     # the build failed, a report, or a crash
    passed += san_ok
    failed += san_bad
    print(f"{san}: {san_ok} passed, {san_bad} failed"
          + (f" (see {san_log})" if san_bad else ""))
logs = os.path.dirname(log)
for what, rc, name in (
        ("demo smoke test", demo_rc, "demo-smoke.log"),
        ("build without the stub", disabled_rc, None),
        ("gdbstub and MCD stub under ASan", asan_rc, "check-asan.log"),
        ("the manual, warnings as errors", docs_rc, "check-docs.log"),
        ("checkpatch", style_rc, None),
        ("wire fuzz", fuzz_rc, "fuzz-wire.log")):
    text = []
    if name and os.path.exists(os.path.join(logs, name)):
        with open(os.path.join(logs, name), errors="replace") as f:
            text = [l.strip() for l in f if l.strip()]
    flaky = [l for l in text if l.startswith("FLAKY")][:2]
    if rc == 0:
        passed += 1
        print(f"{what}: passed" + "".join(f" ({l})" for l in flaky))
        continue
    failed += 1
    # the reason, where the end of the output is all that is seen
    why = ""
    if text:
        why = [l for l in text if l.startswith(("FAILED", "FINDING"))]
        why = why[:3] or text[-3:]
        why = f" ({os.path.join(logs, name)}: {' | '.join(why)})"
    print(f"{what}: FAILED{why}")
print(f"mcd: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOPY
