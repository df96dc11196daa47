#!/usr/bin/env bash
#
# Installs the Debian packages tlsx needs to build, test and run its demo, if any is missing.
# Used by scripts/demo.sh and .ci/run. Needs root (or sudo) only when something is missing.
#
#   scripts/install-deps.sh
set -euo pipefail

packages=(
    cmake g++ ninja-build         # build
    libboost1.81-dev libmbedtls-dev
    openssl gnutls-bin curl       # interop tests and certificate tooling
    libssl-dev                    # bench/: the asio::ssl::stream baseline
    clang-format                  # formatting checks
    pkgconf                       # CI checks the installed tlsx.pc
    ca-certificates               # the system trust store (set_default_verify_paths)
)

installed() { # installed PACKAGE: whether dpkg has it fully installed
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "install-deps: not root and no sudo; install these by hand: ${missing[*]}" >&2
        exit 1
    fi
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
