#!/usr/bin/env bash
#
# Installs what tlsx needs to build, test and run its demo, if anything is missing: the Debian
# packages below, then mbedTLS 3.6 LTS (scripts/install-mbedtls36.sh: the system's where it is
# 3.6, as on Debian 13; on Debian 12 Debian's own 3.6 source package, built once into a cache
# that a plain `cmake -S . -B build` then finds). Used by scripts/demo.sh and .ci/run. Needs root
# (or sudo) only when a package is missing.
#
#   scripts/install-deps.sh                  packages, then mbedTLS 3.6
#   scripts/install-deps.sh --no-mbedtls36   packages only (.ci/run builds 3.6 as its own phase)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
with_36=1
case "${1:-}" in
    "") ;;
    --no-mbedtls36) with_36=0 ;;
    *)
        echo "install-deps: unknown argument '$1' (usage: install-deps.sh [--no-mbedtls36])" >&2
        exit 2
        ;;
esac

# shellcheck source=/dev/null
codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
boost=libboost-dev # Debian 13 and later: Boost 1.83 or newer
boost_context=libboost-context-dev
boost_coroutine=libboost-coroutine-dev
[[ "$codename" == bookworm ]] && boost=libboost1.81-dev # bookworm's libboost-dev is 1.74
[[ "$codename" == bookworm ]] && boost_context=libboost-context1.81-dev
[[ "$codename" == bookworm ]] && boost_coroutine=libboost-coroutine1.81-dev

packages=(
    cmake g++ ninja-build         # build
    "$boost"
    libmbedtls-dev                # the system's mbedTLS (Debian 12: 2.28, CI's build-228)
    openssl gnutls-bin curl       # interop tests and certificate tooling
    tshark                        # the key-log test: tshark decrypts a tlsx capture
    libssl-dev                    # bench/: the asio::ssl::stream baseline
    clang-format                  # formatting checks
    doxygen                       # scripts/docs.sh: the reference manual (CI's docs phase)
    clang-14 libfuzzer-14-dev libclang-rt-14-dev # CI fuzz (libFuzzer) and tsan phases
    pkgconf                       # CI checks the installed tlsx.pc
    ca-certificates               # the system trust store (set_default_verify_paths)
    libboost1.81-doc              # test/port: Beast's own SSL examples, ported at test time
    "$boost_context"              # test/port: Beast's coro examples use asio::spawn,
    "$boost_coroutine"            # whose overload without a completion token is Boost.Coroutine
)

installed() { # installed PACKAGE: whether dpkg has it fully installed
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

install_packages() {
    if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then
        echo "install-deps: not a Debian system; install by hand: a C++17 compiler, CMake 3.25," \
            "Ninja, Boost 1.81+, mbedTLS 3.6 (or 2.28) headers, OpenSSL and GnuTLS tools, curl," \
            "tshark, pkg-config, doxygen" >&2
        return 0
    fi
    local missing=() p
    for p in "${packages[@]}"; do
        installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        echo "install-deps: all ${#packages[@]} packages present"
        return 0
    fi

    echo "install-deps: installing ${missing[*]}"
    local sudo=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null; then
            sudo=(sudo)
        else
            echo "install-deps: not root and no sudo; install these by hand: ${missing[*]}" >&2
            exit 1
        fi
    fi
    # tshark's package asks whether non-root users may capture; answer no beforehand, so that
    # the noninteractive install never waits on it (tlsx's test writes its capture itself).
    echo "wireshark-common wireshark-common/install-setuid boolean false" |
        "${sudo[@]}" debconf-set-selections
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

install_packages

if ((with_36)); then
    prefix="$("$root/scripts/install-mbedtls36.sh")"
    echo "install-deps: mbedTLS 3.6 in $prefix (a plain cmake configure finds it)"
fi
