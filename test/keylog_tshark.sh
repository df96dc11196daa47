#!/usr/bin/env bash
#
# Proves that tshark decrypts a tlsx connection with the NSS key-log lines tlsx emits, and shows
# its application data: keylog_capture writes one connection (an HTTP request and response over
# TLS VERSION) as a pcap file plus the client's key log; tshark must then
#   1. see the negotiated version in the handshake,
#   2. with the key log: dissect the decrypted records as HTTP and show the request URI and the
#      response body that keylog_capture sent (strings that exist only in the plaintext),
#   3. with an empty key log, and with one whose secrets are altered: show no HTTP at all, while
#      still seeing the encrypted application-data records (so that 2 is decryption, not luck).
#
#   4. (1.3-key-update) across key updates in each direction: every request and response of every
#      generation decrypted, and the key log has a line for every generation of both directions.
#
#   keylog_tshark.sh KEYLOG_CAPTURE VERSION WORKDIR      (VERSION: 1.2, 1.3 or 1.3-key-update)
#
# Registered in CTest by test/CMakeLists.txt (1.3 only where the backend has TLS 1.3). Needs
# tshark (Debian's package; scripts/install-deps.sh installs it); without it the test fails.
set -euo pipefail

capture="$1" mode="$2" work="$3"
version="${mode%-key-update}"
fail() {
    echo "keylog_tshark: FAILED: $*" >&2
    exit 1
}

command -v tshark >/dev/null ||
    fail "tshark is not installed (scripts/install-deps.sh installs Debian's package)"

rm -rf "$work"
mkdir -p "$work/home"
# tshark reads preferences from the user's profile; a private one keeps the user's out.
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"

"$capture" "$mode" "$work/tls.pcap" "$work/keys.txt"

# run_tshark KEYLOG ARGS...: tshark on the capture with that key log; stderr kept for failures.
run_tshark() {
    local keylog="$1"
    shift
    tshark -n -r "$work/tls.pcap" -o "tls.keylog_file:$keylog" -o tcp.check_checksum:TRUE \
        "$@" 2>"$work/tshark.err" || {
        cat "$work/tshark.err" >&2
        fail "tshark failed"
    }
}

echo "--- key log ($(wc -l <"$work/keys.txt") lines, secrets elided)"
cut -c1-40 "$work/keys.txt" | sed 's/$/.../'
case "$version" in
    1.2) labels="CLIENT_RANDOM" ;;
    1.3) labels="CLIENT_HANDSHAKE_TRAFFIC_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET CLIENT_TRAFFIC_SECRET_0 SERVER_TRAFFIC_SECRET_0" ;;
    *) fail "unknown version '$version'" ;;
esac
markers="$version"
if [[ "$mode" == 1.3-key-update ]]; then
    # One line per generation and direction: _1.._3 (tlsx logs them; tshark derives its own).
    labels+=" CLIENT_TRAFFIC_SECRET_1 CLIENT_TRAFFIC_SECRET_2 CLIENT_TRAFFIC_SECRET_3"
    labels+=" SERVER_TRAFFIC_SECRET_1 SERVER_TRAFFIC_SECRET_2 SERVER_TRAFFIC_SECRET_3"
    markers+=" client-1-server-0 client-2-server-1 client-3-server-2 client-3-server-3"
fi
for l in $labels; do
    grep -q "^$l " "$work/keys.txt" || fail "no $l line in the key log"
done

# The capture is well formed: no IP or TCP checksum is wrong (keylog_capture computes them).
bad="$(run_tshark /dev/null -o ip.check_checksum:TRUE \
    -Y 'ip.checksum.status == 0 || tcp.checksum.status == 0' -T fields -e frame.number)"
[[ -z "$bad" ]] || fail "frames with a bad checksum: $bad"

# 1. The version, from the ServerHello (1.3: the supported_versions extension says 0x0304).
hello="$(run_tshark /dev/null -Y 'tls.handshake.type == 2' -T fields \
    -e tls.handshake.version -e tls.handshake.extensions.supported_version)"
echo "--- ServerHello version, supported_versions: $hello"
case "$version" in
    1.2) [[ "$hello" == 0x0303* && "$hello" != *0x0304* ]] || fail "the ServerHello is not TLS 1.2" ;;
    1.3) [[ "$hello" == *0x0304* ]] || fail "the ServerHello is not TLS 1.3" ;;
esac

# 2. Decrypted with the key log: the HTTP request and response, as tshark dissects them.
http_fields=(-Y http -T fields -e http.request.method -e http.request.uri -e http.response.code
    -e http.file_data)
decrypted="$(run_tshark "$work/keys.txt" "${http_fields[@]}")"
echo "--- tshark -Y http, with the key log:"
echo "$decrypted"
for m in $markers; do
    grep -q "GET"$'\t'"/tlsx-keylog-request-$m" <<<"$decrypted" ||
        fail "tshark did not show the decrypted request $m"
    grep -q "200"$'\t'".*tlsx-keylog-response-body-$m" <<<"$decrypted" ||
        fail "tshark did not show the decrypted response body $m"
done
if [[ "$mode" == 1.3-key-update ]]; then
    updates="$(run_tshark "$work/keys.txt" -Y 'tls.handshake.type == 24' -T fields \
        -e tls.handshake.key_update.request_update | wc -l)"
    echo "--- KeyUpdate messages tshark decrypted: $updates"
    ((updates == 6)) || fail "tshark decrypted $updates KeyUpdate messages, not 6 (4 + 2 answers)"
fi

# The same plaintext as raw bytes: tshark's hex dump of the decrypted records.
run_tshark "$work/keys.txt" -x >"$work/hexdump.txt"
grep -q "Decrypted TLS" "$work/hexdump.txt" || fail "tshark's hex dump has no decrypted TLS"

# 3. Without the right key log: the records are there, encrypted, and no HTTP is shown.
: >"$work/empty.txt"
# Altered: the last hex digit of every secret changed.
awk '{ d = substr($3, length($3)); r = (d == "0") ? "1" : "0"
       print $1, $2, substr($3, 1, length($3) - 1) r }' "$work/keys.txt" >"$work/wrong.txt"
for k in empty wrong; do
    records="$(run_tshark "$work/$k.txt" -Y tls.app_data -T fields \
        -e frame.number | wc -l)"
    shown="$(run_tshark "$work/$k.txt" "${http_fields[@]}")"
    echo "--- with the $k key log: $records application-data records, HTTP: '${shown}'"
    ((records > 0)) || fail "tshark sees no application-data records with the $k key log"
    [[ -z "$shown" ]] || fail "tshark showed HTTP with the $k key log"
    if grep -q "tlsx-keylog" <(run_tshark "$work/$k.txt" -x); then
        fail "the plaintext is visible with the $k key log"
    fi
done

echo "keylog_tshark: TLS $mode decrypted by tshark with tlsx's key log: OK"
