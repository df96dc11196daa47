#!/usr/bin/env bash
# test/port/run_port_test.sh — run one ported Beast example against a peer (CTest label "port").
#
#   run_port_test.sh http-server SERVER          curl -k fetches three files over one connection
#   run_port_test.sh websocket SERVER CLIENT     the ported client's text comes back echoed
#   run_port_test.sh http-client SERVER CLIENT   the ported client fetches a file from SERVER
#
# Servers listen on 127.0.0.1 at a free port. Clients are Beast's: they connect to the host
# they verify, www.example.com (the name in Beast's test certificate), so they run in a private
# user and mount namespace (unshare -rm) whose /etc/hosts maps www.example.com to 127.0.0.1.
set -euo pipefail

mode="$1"
server="$2"
client="${3:-}"
work="$(mktemp -d "${TMPDIR:-/tmp}/tlsx-port.XXXXXX")"
server_pid=
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [[ -f "$work/server.log" ]] && { echo "--- server output:" >&2; cat "$work/server.log" >&2; }
    exit 1
}

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# start_server ARGS...: runs the server and waits until it accepts connections.
start_server() {
    "$server" "$@" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || fail "$(basename "$server") exited at start-up"
        sleep 0.1
    done
    fail "$(basename "$server") does not listen on port $port"
}

# The servers' arguments: the sync ones take no thread count.
threads=(1)
[[ "$(basename "$server")" == *_sync_* ]] && threads=()

# run_client ARGS...: runs the client with www.example.com resolving to 127.0.0.1.
run_client() {
    printf '127.0.0.1 localhost\n127.0.0.1 www.example.com\n' >"$work/hosts"
    unshare -rm sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh \
        "$work/hosts" "$client" "$@"
}

case "$mode" in
http-server)
    mkdir "$work/root"
    for f in one two three; do echo "file $f served by $(basename "$server")" >"$work/root/$f.txt"; done
    start_server 127.0.0.1 "$port" "$work/root" "${threads[@]}"
    curl -sS -k -v "https://127.0.0.1:$port/one.txt" "https://127.0.0.1:$port/two.txt" \
        "https://127.0.0.1:$port/three.txt" >"$work/out" 2>"$work/curl.log" ||
        { cat "$work/curl.log" >&2; fail "curl failed"; }
    cat "$work/root/one.txt" "$work/root/two.txt" "$work/root/three.txt" >"$work/expected"
    cmp -s "$work/out" "$work/expected" || { cat "$work/out" >&2; fail "curl got other bytes"; }
    reused="$(grep -c 'Re-using existing connection' "$work/curl.log" || true)"
    connects="$(grep -c '^\* Connected to' "$work/curl.log" || true)"
    [[ "$reused" == 2 && "$connects" == 1 ]] ||
        { cat "$work/curl.log" >&2; fail "not one connection: $connects connects, $reused re-uses"; }
    echo "ok: three files over one connection (curl -k)"
    ;;
websocket)
    start_server 127.0.0.1 "$port" "${threads[@]}"
    text="echo me through $(basename "$client")"
    run_client www.example.com "$port" "$text" >"$work/out" 2>"$work/client.log" ||
        { cat "$work/out" "$work/client.log" >&2; fail "$(basename "$client") failed"; }
    grep -qxF "$text" "$work/out" || { cat "$work/out" "$work/client.log" >&2; fail "no echo"; }
    echo "ok: $(basename "$client") got its text echoed by $(basename "$server")"
    ;;
http-client)
    mkdir "$work/root"
    echo "page for $(basename "$client")" >"$work/root/page.txt"
    start_server 127.0.0.1 "$port" "$work/root" "${threads[@]}"
    run_client www.example.com "$port" /page.txt >"$work/out" 2>"$work/client.log" ||
        { cat "$work/out" "$work/client.log" >&2; fail "$(basename "$client") failed"; }
    grep -q '^HTTP/1.1 200 OK' "$work/out" || { cat "$work/out" >&2; fail "no 200 OK"; }
    grep -qxF "page for $(basename "$client")" "$work/out" || { cat "$work/out" >&2; fail "no page"; }
    echo "ok: $(basename "$client") fetched a page, verifying www.example.com"
    ;;
*)
    echo "usage: $0 http-server SERVER | websocket SERVER CLIENT | http-client SERVER CLIENT" >&2
    exit 2
    ;;
esac
