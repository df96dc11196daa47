#!/usr/bin/env bash
#
# W3 instructions per 64-byte round trip, for each stack, counted by callgrind.
#
#   bench/callgrind.sh TLSX_BENCH OUT_DIR [ROUNDS] [VERSIONS]
#
# Runs `TLSX_BENCH --child w3 --stack S --count ROUNDS --tls V` under callgrind with collection
# on only inside tlsx_bench_region (the measured round trips: no set-up, handshake or warm-up),
# for each TLS version V of VERSIONS (default "1.2"; "1.2 1.3" on mbedTLS 3.x), and writes
# OUT_DIR/instructions.csv ("stack,rounds,instructions,tls") for `tlsx_bench --instructions`.
# The transport alone (pipe) has no TLS: it runs once and is listed under every version.
# The callgrind.S[-13].out files stay in OUT_DIR for callgrind_annotate. Instruction counts are
# repeatable run to run (unlike times), so one run per stack is enough.
set -euo pipefail

usage="usage: callgrind.sh TLSX_BENCH OUT_DIR [ROUNDS] [VERSIONS]"
bench="${1:?$usage}"
out="${2:?$usage}"
rounds="${3:-2000}"
versions="${4:-1.2}"

command -v valgrind >/dev/null || {
    echo "callgrind.sh: valgrind is not installed" >&2
    exit 1
}
mkdir -p "$out"
csv="$out/instructions.csv"
echo "stack,rounds,instructions,tls" >"$csv.tmp"

# count STACK VERSION FILE-SUFFIX: run one stack, print its total
count() {
    local stack="$1" version="$2" file="$out/callgrind.$1$3.out"
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=tlsx_bench_region \
        --callgrind-out-file="$file" "$bench" --child w3 --stack "$stack" --count "$rounds" \
        --tls "$version" >"$out/callgrind.$stack$3.log" 2>&1 || {
        echo "callgrind.sh: $stack (TLS $version) failed; see $out/callgrind.$stack$3.log" >&2
        exit 1
    }
    # The "summary:" line holds the total of the only event collected (Ir).
    local instr
    instr="$(awk '/^summary:/ { print $2 }' "$file")"
    [[ -n "$instr" ]] || {
        echo "callgrind.sh: no summary in $file" >&2
        exit 1
    }
    printf 'callgrind: TLS %s %-8s %12s instructions / %s round trips = %s per round trip\n' \
        "$version" "$stack" "$instr" "$rounds" "$((instr / rounds))" >&2
    echo "$instr"
}

pipe="$(count pipe 1.2 "")"
for version in $versions; do
    suffix=""
    [[ "$version" == 1.2 ]] || suffix="-${version//./}"
    declare -A n=()
    for stack in tlsx asio_ssl mbedtls; do
        n[$stack]="$(count "$stack" "$version" "$suffix")"
        echo "$stack,$rounds,${n[$stack]},$version" >>"$csv.tmp"
    done
    echo "pipe,$rounds,$pipe,$version" >>"$csv.tmp"
    printf "callgrind: TLS %s tlsx's own share (tlsx - mbedtls - pipe) = %s per round trip\n" \
        "$version" "$(((n[tlsx] - n[mbedtls] - pipe) / rounds))" >&2
done
mv "$csv.tmp" "$csv"
