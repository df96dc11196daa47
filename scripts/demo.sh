#!/usr/bin/env bash
#
# The quick demo: installs missing packages, builds the lifecycle example in build/ and runs it:
# a TLS server and three clients over loopback, narrating handshake, data, a renegotiation one
# client accepts and another refuses, a session saved and resumed, and bye in both modes (see
# examples/lifecycle/README.md). For the HTTPS server with curl: examples/https_server/demo.sh.
#
#   scripts/demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh

# The same configuration as .ci/run, so that the two share build/ without reconfiguring.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSX_WERROR=ON
cmake --build build --target lifecycle -j "$(nproc)"

echo
exec build/examples/lifecycle/lifecycle "$@"
