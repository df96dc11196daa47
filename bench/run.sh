#!/usr/bin/env bash
#
# Runs the whole benchmark with one command, on one mbedTLS backend: installs what is missing,
# builds tlsx_bench (Release, in a build directory of that backend's own), counts W3
# instructions with callgrind, runs every workload, and draws the plot.
#
#   bench/run.sh            mbedTLS 2.28 (the system's): build-bench/, bench/results-2.28.*
#   TLSX_MBEDTLS_ROOT=/opt/tlsx-deps/mbedtls-3.6 bench/run.sh
#                           mbedTLS 3.6, TLS 1.3 rows too: build-bench-3.6/, bench/results-3.6.*
#   bench/run.sh --quick    a smoke run of a few seconds; writes <build dir>/quick/results.*
#
# Other arguments are passed to tlsx_bench (e.g. --runs 3, --only w1,w3, --tls 1.3, --label
# TEXT; the label defaults to the git commit).
# Results: results-V.md (the tables), results-V.json and results-V.csv (every sample, the
# ratios and the targets), results-V.dat (the plotted medians); bench/results.png
# (bench/plot.gp) shows every backend that has a results-V.dat side by side.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

quick=0
args=()
for a in "$@"; do
    [[ "$a" == --quick ]] && quick=1
    args+=("$a")
done

# ---- Dependencies: the build's (scripts/install-deps.sh, with libssl-dev), then the
# benchmark's own tools: gnuplot for the plot, valgrind for instruction counts.
scripts/install-deps.sh
missing=()
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v valgrind >/dev/null || missing+=(valgrind)
if ((${#missing[@]})); then
    echo "bench: installing ${missing[*]}"
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- Backend: the system's mbedTLS, or the one under TLSX_MBEDTLS_ROOT --------------------
mbedtls_root="${TLSX_MBEDTLS_ROOT:-}"
version_header=/usr/include/mbedtls/version.h
# Without a root, the system's package (2.28 on Debian 12): tlsx's CMake would otherwise take
# the cached 3.6 of scripts/install-mbedtls36.sh, the library's default backend.
cmake_backend=(-DTLSX_SYSTEM_MBEDTLS=ON)
if [[ -n "$mbedtls_root" ]]; then
    version_header="$mbedtls_root/include/mbedtls/build_info.h"
    [[ -f "$version_header" ]] || version_header="$mbedtls_root/include/mbedtls/version.h"
    cmake_backend=(-DTLSX_MBEDTLS_ROOT="$mbedtls_root")
fi
version="$(awk '/#define MBEDTLS_VERSION_STRING / { gsub("\"", "", $3); print $3; exit }' \
    "$version_header" 2>/dev/null || true)"
[[ -n "$version" ]] || {
    echo "bench: cannot read the mbedTLS version from $version_header" >&2
    exit 1
}
tag="${version%.*}" # 2.28, 3.6
versions="1.2"
[[ "${version%%.*}" -ge 3 ]] && versions="1.2 1.3"
echo "bench: mbedTLS $version (TLS $versions)"

# ---- Build -----------------------------------------------------------------------------------
build="build-bench"
[[ "$tag" == 2.28 && -z "$mbedtls_root" ]] || build="build-bench-$tag"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTLSX_BUILD_BENCH=ON \
    -DTLSX_BUILD_TESTS=OFF -DTLSX_BUILD_EXAMPLES=OFF ${cmake_backend[@]+"${cmake_backend[@]}"}
cmake --build "$build" -j "$(nproc)" --target tlsx_bench
bench="$build/bench/tlsx_bench"

if ((quick)); then
    out="$build/quick"
    rounds=200
else
    out=bench
    rounds=2000
fi
mkdir -p "$out"

# ---- W3 instructions per round trip (callgrind; repeatable, so one run each) ----------------
bench/callgrind.sh "$bench" "$build/callgrind" "$rounds" "$versions"

# ---- Everything else -------------------------------------------------------------------------
label=()
if rev="$(git rev-parse --short HEAD 2>/dev/null)"; then
    git diff --quiet HEAD 2>/dev/null || rev="$rev + uncommitted changes"
    label=(--label "tlsx $rev")
fi
"$bench" --out "$out/results-$tag" --instructions "$build/callgrind/instructions.csv" \
    ${label[@]+"${label[@]}"} ${args[@]+"${args[@]}"}

# ---- Plot: 2.28 and 3.6 side by side (a backend not measured yet shows n/a) --------------
gnuplot -e "file228='$out/results-2.28.dat'; file36='$out/results-3.6.dat'; \
outfile='$out/results.png'" bench/plot.gp
echo "bench: wrote $out/results-$tag.{md,json,csv,dat} and $out/results.png"
