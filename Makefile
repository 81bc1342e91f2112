# SPDX-License-Identifier: GPL-2.0-or-later
#
# Entry points; the work is done by the scripts in buildsys/.
#   make demo    build QEMU with the MCD stub and run the demo guest
#   make check   build everything and run every test
#   make         build qemu-system-aarch64 and qemu-system-arm
#   make fuzz    build and run the libFuzzer target of the protocol layer
#   make fuzz-wire  fuzz both wire protocols against a live QEMU
#                (FUZZ_CASES cases per protocol, default 100000; FUZZ_SEED)
#   make libmcd  build the MCD API client library and run its test
#   make libmcd-windows  build libmcd.dll and mcd-cli.exe for 64-bit Windows
#                (mingw-w64) and run their tests under wine
#   make bench   time the MCD stub against gdbstub on one QEMU (bench/;
#                BENCH_ARGS=--quick for a smoke run)
# Use your own QEMU 10.0.x tree with QEMU_SRC=/path/to/qemu.

.PHONY: all build demo check fuzz fuzz-wire libmcd libmcd-windows bench \
	assemble \
	regen-patches clean

all: build

build:
	buildsys/build.sh

demo:
	buildsys/demo.sh

check:
	buildsys/check.sh

fuzz:
	buildsys/fuzz.sh

fuzz-wire:
	buildsys/fuzz-wire.sh

libmcd:
	buildsys/libmcd.sh test

libmcd-windows:
	buildsys/libmcd-windows.sh test

bench:
	buildsys/bench.sh $(BENCH_ARGS)

# Bring the working copy build/qemu up to date without building.
assemble:
	buildsys/install-deps.sh
	buildsys/assemble.sh "$$(buildsys/fetch-qemu.sh)"

# After editing upstream files in build/qemu: rewrite patches/.
# FILES= names upstream files that have no patch yet.
regen-patches:
	buildsys/regen-patches.sh $(FILES)

clean:
	rm -rf build
