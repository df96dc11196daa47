#!/usr/bin/env bash
#
# W3 instructions per 64-byte round trip, for each stack, counted by callgrind.
#
#   bench/callgrind.sh TLSX_BENCH OUT_DIR [ROUNDS]
#
# Runs `TLSX_BENCH --child w3 --stack S --count ROUNDS` under callgrind with collection on only
# inside tlsx_bench_region (the measured round trips: no set-up, handshake or warm-up), and
# writes OUT_DIR/instructions.csv ("stack,rounds,instructions") for `tlsx_bench --instructions`.
# The callgrind.S.out files stay in OUT_DIR for callgrind_annotate. Instruction counts are
# repeatable run to run (unlike times), so one run per stack is enough.
set -euo pipefail

bench="${1:?usage: callgrind.sh TLSX_BENCH OUT_DIR [ROUNDS]}"
out="${2:?usage: callgrind.sh TLSX_BENCH OUT_DIR [ROUNDS]}"
rounds="${3:-2000}"

command -v valgrind >/dev/null || {
    echo "callgrind.sh: valgrind is not installed" >&2
    exit 1
}
mkdir -p "$out"
csv="$out/instructions.csv"
echo "stack,rounds,instructions" >"$csv.tmp"
for stack in tlsx asio_ssl mbedtls pipe; do
    file="$out/callgrind.$stack.out"
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=tlsx_bench_region \
        --callgrind-out-file="$file" "$bench" --child w3 --stack "$stack" --count "$rounds" \
        >"$out/callgrind.$stack.log" 2>&1 || {
        echo "callgrind.sh: $stack failed; see $out/callgrind.$stack.log" >&2
        exit 1
    }
    # The "summary:" line holds the total of the only event collected (Ir).
    instr="$(awk '/^summary:/ { print $2 }' "$file")"
    [[ -n "$instr" ]] || {
        echo "callgrind.sh: no summary in $file" >&2
        exit 1
    }
    echo "$stack,$rounds,$instr" >>"$csv.tmp"
    printf 'callgrind: %-8s %12s instructions / %s round trips = %s per round trip\n' \
        "$stack" "$instr" "$rounds" "$((instr / rounds))"
done
mv "$csv.tmp" "$csv"
