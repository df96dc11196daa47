#!/usr/bin/env bash
#
# Runs the whole benchmark with one command: installs what is missing, builds tlsx_bench
# (Release, in build-bench/), counts W3 instructions with callgrind, runs every workload, and
# draws the plot.
#
#   bench/run.sh            full size (about 10 minutes on 2 cores); writes bench/results.*
#   bench/run.sh --quick    a smoke run of a few seconds; writes build-bench/quick/results.*
#
# Other arguments are passed to tlsx_bench (e.g. --runs 3, --only w1,w3, --label TEXT; the
# label defaults to the git commit).
# Results: results.md (the tables), results.json and results.csv (every sample, the ratios and
# the targets), results.dat (the plotted medians) and results.png (bench/plot.gp).
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

# ---- Build -----------------------------------------------------------------------------------
build="build-bench"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTLSX_BUILD_BENCH=ON \
    -DTLSX_BUILD_TESTS=OFF -DTLSX_BUILD_EXAMPLES=OFF
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
bench/callgrind.sh "$bench" "$build/callgrind" "$rounds"

# ---- Everything else -------------------------------------------------------------------------
label=()
if rev="$(git rev-parse --short HEAD 2>/dev/null)"; then
    git diff --quiet HEAD 2>/dev/null || rev="$rev + uncommitted changes"
    label=(--label "tlsx $rev")
fi
"$bench" --out "$out/results" --instructions "$build/callgrind/instructions.csv" \
    ${label[@]+"${label[@]}"} ${args[@]+"${args[@]}"}

# ---- Plot ------------------------------------------------------------------------------------
gnuplot -e "datafile='$out/results.dat'; outfile='$out/results.png'" bench/plot.gp
echo "bench: wrote $out/results.{md,json,csv,dat,png}"
