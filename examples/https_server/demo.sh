#!/usr/bin/env bash
#
# The HTTPS demo: builds the https_server example (Beast over tlsx), starts it on a free loopback
# port with a fresh self-signed certificate for localhost, fetches its page with curl (HTTP/1.1,
# verifying that certificate), then twice more over one kept-alive connection, and stops it.
#
#   bash examples/https_server/demo.sh
#
# Uses build/ with the configuration of scripts/demo.sh and .ci/run, and installs what is
# missing first (scripts/install-deps.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSX_WERROR=ON >/dev/null
cmake --build build --target https_server -j "$(nproc)"

work="$(mktemp -d)"
server_pid=
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

build/examples/https_server/https_server --port 0 --write-cert "$work/cert.pem" >"$work/log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$work/log" 2>/dev/null && break
    sleep 0.1
done
port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log")"
[[ -n "$port" ]] || { cat "$work/log"; echo "demo: the server did not start" >&2; exit 1; }
url="https://localhost:$port/"

echo
echo "\$ curl --http1.1 --cacert cert.pem $url"
curl --http1.1 --silent --show-error --max-time 10 --cacert "$work/cert.pem" \
    --resolve "localhost:$port:127.0.0.1" "$url"
echo
echo "\$ curl --http1.1 --cacert cert.pem -v $url $url   (one connection, kept alive)"
curl --http1.1 --silent --show-error --max-time 10 --cacert "$work/cert.pem" \
    --resolve "localhost:$port:127.0.0.1" --verbose "$url" "$url" -o /dev/null -o /dev/null 2>&1 |
    grep -E 'SSL connection using|ALPN: server accepted|Re-using existing connection|^< HTTP/' || true
echo
echo "server log:"
sleep 0.2
sed 's/^/  /' "$work/log"
echo "demo: OK"
