#!/usr/bin/env bash
#
# The quick demo: installs missing packages, builds only the echo_demo example in build/ and runs
# it (a TLS echo server and client in one process over loopback; see examples/echo/README.md).
#
#   scripts/demo.sh [--message TEXT]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh

# The same configuration as .ci/run, so that the two share build/ without reconfiguring.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSX_WERROR=ON
cmake --build build --target echo_demo -j "$(nproc)"

echo
exec build/examples/echo/echo_demo "$@"
