#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build QEMU's manual from the working copy with our pages in it
# (docs/interop/mcd.rst, mcd-client.rst and mcd-qapi-ref.rst, the
# reference that QEMU's qapi-doc extension generates from qapi/mcd.json),
# with warnings as errors as QEMU's own docs build does.  The QEMU build
# itself is configured without docs; this is the docs build.
set -euo pipefail
. "$(dirname "$0")/config.sh"

out=$MCD_BUILDROOT/docs
version=$(cat "$MCD_WORK/VERSION")
rm -rf "$out"
sphinx-build -W --keep-going -q -b html -D version="$version" \
    -D release="$version" "$MCD_WORK/docs" "$out"
echo "docs built: $out/interop/mcd.html, $out/interop/mcd-qapi-ref.html"
