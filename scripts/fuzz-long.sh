#!/usr/bin/env bash
#
# Build the libFuzzer targets (test/fuzz, clang 14, ASan + UBSan, mbedTLS 3.6) and run each for a
# fixed time; fails on any finding (a crash, a leak, undefined behaviour, a timeout). CI's `fuzz`
# phase runs the short form (.ci/run fuzz); for a long run give more seconds:
#
#   scripts/fuzz-long.sh                        every target 20 s (what CI runs)
#   scripts/fuzz-long.sh --seconds 3600         an hour each
#   scripts/fuzz-long.sh --seconds 600 server   only the server target
#   scripts/fuzz-long.sh --seeds                rewrite test/fuzz/corpus from real handshakes
#
# Options: --build DIR (default build-fuzz), --seconds N (per target), --seeds.
# Each target starts from its committed seeds (test/fuzz/corpus/<target>) plus what earlier runs
# in DIR found (DIR/corpus/<target>); it first replays every committed regression input
# (test/fuzz/regressions/<target>/*, one file per fixed finding). A finding is written to
# DIR/artifacts/<target>-crash-... and the script exits non-zero; copy that file into
# test/fuzz/regressions/<target>/ once fixed. At the end: executions per target and in total.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build=build-fuzz
seconds=20
seeds=0
targets=()
while (($#)); do
    case "$1" in
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --seeds) seeds=1; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "fuzz-long: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=(server client records session loaders)

CXX="${CXX:-clang++-14}" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTLSX_BUILD_FUZZERS=ON -DTLSX_SANITIZE=address,undefined -DTLSX_WERROR=ON \
    -DTLSX_BUILD_TESTS=OFF -DTLSX_BUILD_EXAMPLES=OFF -UTLSX_MBEDTLS_ROOT -UMbedTLS_ROOT \
    -UTLSX_SYSTEM_MBEDTLS >/dev/null
version="$(sed -n 's/^TLSX_MBEDTLS_VERSION:INTERNAL=//p' "$build/CMakeCache.txt")"
[[ "$version" =~ ^3\. ]] || { echo "fuzz-long: fuzzing wants mbedTLS 3.6, got '$version'" >&2; exit 1; }
cmake --build "$build" -j "${JOBS:-2}"

if ((seeds)); then
    "$build/test/fuzz/fuzz_make_corpus" test/fuzz/corpus
    exit 0
fi

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build/artifacts"
total=0
summary=()
for t in "${targets[@]}"; do
    exe="$build/test/fuzz/fuzz_$t"
    [[ -x "$exe" ]] || { echo "fuzz-long: no target $t" >&2; exit 2; }
    if compgen -G "test/fuzz/regressions/$t/*" >/dev/null; then
        echo "== fuzz $t: replaying test/fuzz/regressions/$t"
        "$exe" test/fuzz/regressions/"$t"/*
    fi
    mkdir -p "$build/corpus/$t"
    log="$build/fuzz-$t.log"
    echo "== fuzz $t: ${seconds}s"
    if ! "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "test/fuzz/corpus/$t" \
        >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz-long: target $t found something: $(ls "$build/artifacts/$t-"* 2>/dev/null)" >&2
        exit 1
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    total=$((total + runs))
    summary+=("$(printf '  %-8s %12s executions in %ss' "$t" "$runs" "$seconds")")
done
echo "== fuzz: no findings"
printf '%s\n' "${summary[@]}"
echo "  total    $(printf '%12s' "$total") executions"
