#!/usr/bin/env bash
#
# The quick demo: installs what is missing (scripts/install-deps.sh: packages and mbedTLS 3.6),
# builds the lifecycle example in build/ on the default backend (mbedTLS 3.6, TLS 1.2 and 1.3;
# docs/mbedtls.md) and runs it:
# a TLS server and three clients over loopback, narrating handshake, data, a renegotiation one
# client accepts and another refuses, a session saved and resumed, and bye in both modes (see
# examples/lifecycle/README.md). For the HTTPS server with curl: examples/https_server/demo.sh.
#
#   scripts/demo.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh

# The same configuration as .ci/run, so that the two share build/ without reconfiguring. No
# mbedTLS flag: CMake finds the 3.6 that install-deps.sh provided.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DTLSX_WERROR=ON
cmake --build build --target lifecycle -j "$(nproc)"

echo
exec build/examples/lifecycle/lifecycle "$@"
