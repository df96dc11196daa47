#!/usr/bin/env bash
#
# Load test (issue 14, item 6): N concurrent TLS connections, on loopback only, against
#   1. examples/echo/echo_server (TLS, two threads), and
#   2. examples/tls_proxy --mode terminate (two threads) in front of a plain TCP echo,
# each connection sending checksummed messages and reading their echoes, every other one cut
# mid-transfer without close_notify. tlsx_load (bench/load.cpp) accounts for every connection
# and fails if any failed or any byte did not come back; it reports handshakes/s, throughput,
# p50/p99 round-trip latency and the server's memory per connection. Bounded: every run stops
# by itself (--time-limit), and the servers are stopped at the end whatever happened.
#
#   bench/load.sh                       10,000 connections each (about a minute on 2 cores)
#   bench/load.sh --connections 300     CI's small run (bench-smoke)
#   bench/load.sh --build DIR           build in DIR (default build-load; Release, default backend)
#
# 10,000 connections through the proxy need 20,000+ descriptors in one proxy process (two per
# connection): where it may (root with CAP_SYS_RESOURCE) the script raises the limit with
# prlimit and runs one proxy process on two threads; where the limit is short and cannot be
# raised, it runs the proxy as two processes of one thread each sharing the port
# (tls_proxy --reuse-port: the kernel spreads the connections over them, about half each), and
# says so. Only if even two processes cannot hold them does it cap the run, and say so.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

connections=10000
build=build-load
messages=16
while (($#)); do
    case "$1" in
        --connections) connections="$2"; shift 2 ;;
        --build) build="$2"; shift 2 ;;
        --messages) messages="$2"; shift 2 ;;
        *) echo "load.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTLSX_BUILD_BENCH=ON \
    -DTLSX_BUILD_EXAMPLES=ON -DTLSX_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target tlsx_load echo_server tls_proxy

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# start NAME FDS CMD...: starts a server with room for FDS descriptors (raising its limit with
# prlimit where allowed), waits for its "listening on 127.0.0.1:PORT" line (10 s at most) and
# sets $port and $pid.
start() {
    local name="$1" fds="$2"
    shift 2
    local limit=()
    if ((fds > $(ulimit -Hn))) && prlimit "--nofile=$fds:$fds" true 2>/dev/null; then
        limit=(prlimit "--nofile=$fds:$fds")
    fi
    "${limit[@]}" "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$name.log")"
        [[ -n "$port" ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "load.sh: $name did not start:" >&2
    cat "$work/$name.log" >&2
    return 1
}

# fit PER: the most connections (up to --connections) that a server process needing PER
# descriptors per connection can hold: the hard limit, or more where prlimit may raise it.
fit() {
    local per="$1" n="$connections" need=$((connections * $1 + 100))
    if ((need > $(ulimit -Hn))) && ! prlimit "--nofile=$need:$need" true 2>/dev/null; then
        n=$((($(ulimit -Hn) - 100) / per))
        echo "load.sh: $n connections: the descriptor limit ($(ulimit -Hn)) cannot be raised here" >&2
    fi
    echo "$n"
}

load=("$build/bench/tlsx_load" client --threads 2 --messages "$messages" --time-limit 600)
status=0

# 1. The echo server.
n="$(fit 1)"
start echo_server $((n + 100)) "$build/examples/echo/echo_server" --port 0 --threads 2 --quiet \
    --write-cert "$work/echo-cert.pem"
"${load[@]}" --port "$port" --cafile "$work/echo-cert.pem" --connections "$n" \
    --server-pid "$pid" --label "echo_server (2 threads)" || status=1

# 2. The TLS proxy in front of a plain echo.
start plain_echo $((connections + 100)) "$build/bench/tlsx_load" plain-echo --port 0 --threads 2
backend="$port"
proxy=("$build/examples/tls_proxy/tls_proxy" --mode terminate --backend "127.0.0.1:$backend"
    --quiet)
need=$((2 * connections + 100))
if ((need <= $(ulimit -Hn))) || prlimit "--nofile=$need:$need" true 2>/dev/null; then
    # One process, two threads.
    start tls_proxy "$need" "${proxy[@]}" --port 0 --threads 2 --write-cert "$work/proxy-cert.pem"
    "${load[@]}" --port "$port" --cafile "$work/proxy-cert.pem" --connections "$connections" \
        --server-pid "$pid" --label "tls_proxy terminate (2 threads) -> plain echo" || status=1
else
    # Two processes of one thread each ("two threads"), sharing the port (SO_REUSEPORT), each
    # with the whole limit for about half of the connections.
    n="$connections"
    if ((n > $(ulimit -Hn) - 100)); then
        n=$(($(ulimit -Hn) - 100))
        echo "load.sh: $n connections through the proxy: even two processes cannot hold more" >&2
    fi
    echo "load.sh: the proxy as two processes sharing the port (SO_REUSEPORT): one process" \
        "would need $need descriptors, the hard limit is $(ulimit -Hn) and cannot be raised here" >&2
    fds=$(ulimit -Hn)
    start tls_proxy_1 "$fds" "${proxy[@]}" --port 0 --threads 1 --reuse-port \
        --write-cert "$work/proxy-cert.pem" --write-key "$work/proxy-key.pem"
    first="$pid"
    start tls_proxy_2 "$fds" "${proxy[@]}" --port "$port" --threads 1 --reuse-port \
        --cert "$work/proxy-cert.pem" --key "$work/proxy-key.pem"
    "${load[@]}" --port "$port" --cafile "$work/proxy-cert.pem" --connections "$n" \
        --server-pid "$first" --server-pid "$pid" \
        --label "tls_proxy terminate (2 processes x 1 thread, SO_REUSEPORT) -> plain echo" ||
        status=1
fi

# The servers must have survived it all.
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "load.sh: a server died during the run" >&2; status=1; }
done
((status == 0)) && echo "load.sh: every connection accounted for, nothing lost"
exit "$status"
