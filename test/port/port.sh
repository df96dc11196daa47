#!/usr/bin/env bash
# test/port/port.sh — port Beast's own SSL examples (Boost 1.81) from asio::ssl to tlsx.
#
#   test/port/port.sh [--trust-beast-test-certificate] SRC DEST
#
# SRC is Beast's example directory (Debian's libboost1.81-doc:
# /usr/share/doc/libboost1.81-doc/examples/libs/beast/example); DEST receives the ported files
# under the same relative paths (DEST/http/server/async-ssl/..., DEST/example/common/...), so
# that `#include "example/common/server_certificate.hpp"` finds the ported helper with -I DEST.
#
# The port applies exactly the rules of docs/migrating.md ("The port: replacement list"):
#   1. #include <boost/beast/ssl.hpp>, <boost/beast/websocket/ssl.hpp> -> #include <tlsx/beast.hpp>
#      #include <boost/asio/ssl.hpp>, <boost/asio/ssl/...> -> #include <tlsx/tlsx.hpp>
#   2. namespace ssl = boost::asio::ssl; (or net::ssl) -> namespace ssl = tlsx;
#      boost::asio::ssl:: and net::ssl::           -> tlsx:: and ssl::
#   3. beast::ssl_stream<                          -> tlsx::stream<
#   4. if(! SSL_set_tlsext_host_name(S.native_handle(), H)) <error block>  -> S.set_server_name(H);
#
# --trust-beast-test-certificate (the port test only, not part of the port): Beast's
# root_certificates.hpp does not hold the self-signed certificate of server_certificate.hpp, so
# Beast's clients cannot verify Beast's servers, with asio::ssl as with tlsx. This prepends that
# certificate to the ported root list, so that the ported clients can fetch from the ported
# servers with verification on.
set -euo pipefail

trust=0
if [[ "${1:-}" == --trust-beast-test-certificate ]]; then
    trust=1
    shift
fi
if (($# != 2)); then
    echo "usage: $0 [--trust-beast-test-certificate] SRC DEST" >&2
    exit 2
fi
src="$1"
dest="$2"

# The 14 SSL examples, the two system-executor variants, and the two helpers.
files=(
    http/server/async-ssl/http_server_async_ssl.cpp
    http/server/sync-ssl/http_server_sync_ssl.cpp
    http/server/coro-ssl/http_server_coro_ssl.cpp
    http/server/stackless-ssl/http_server_stackless_ssl.cpp
    websocket/server/async-ssl/websocket_server_async_ssl.cpp
    websocket/server/sync-ssl/websocket_server_sync_ssl.cpp
    websocket/server/coro-ssl/websocket_server_coro_ssl.cpp
    websocket/server/stackless-ssl/websocket_server_stackless_ssl.cpp
    http/client/async-ssl/http_client_async_ssl.cpp
    http/client/sync-ssl/http_client_sync_ssl.cpp
    http/client/coro-ssl/http_client_coro_ssl.cpp
    http/client/async-ssl-system-executor/http_client_async_ssl_system_executor.cpp
    websocket/client/async-ssl/websocket_client_async_ssl.cpp
    websocket/client/sync-ssl/websocket_client_sync_ssl.cpp
    websocket/client/coro-ssl/websocket_client_coro_ssl.cpp
    websocket/client/async-ssl-system-executor/websocket_client_async_ssl_system_executor.cpp
    common/server_certificate.hpp
    common/root_certificates.hpp
)

for f in "${files[@]}"; do
    in="$src/$f"
    out="$dest/$f"
    [[ "$f" == common/* ]] && out="$dest/example/$f"
    [[ -f "$in" ]] || { echo "port.sh: missing $in (install libboost1.81-doc)" >&2; exit 1; }
    mkdir -p "$(dirname "$out")"
    perl -0777 -pe '
        # 1. includes
        s{#include <boost/beast/(?:websocket/)?ssl\.hpp>}{#include <tlsx/beast.hpp>}g;
        s{#include <boost/asio/ssl(?:\.hpp|/[a-z_/]+\.hpp)>}{#include <tlsx/tlsx.hpp>}g;
        # 2. the namespace
        s{namespace ssl = (?:boost::asio|net)::ssl;}{namespace ssl = tlsx;}g;
        s{boost::asio::ssl::}{tlsx::}g;
        s{\bnet::ssl::}{ssl::}g;
        # 3. the stream type
        s{beast::ssl_stream<}{tlsx::stream<}g;
        # 4. the SNI block: "if(! SSL_set_tlsext_host_name(S.native_handle(), H))" and the
        #    error handling after it (a braced block, or one statement up to its semicolon)
        s{if\s*\(\s*!\s*SSL_set_tlsext_host_name\(\s*(\S+?)\.native_handle\(\)\s*,\s*([^,]+?)\)\s*\)[ \t]*\n
          (?: [ \t]*\{.*?\n[ \t]*\}[ \t]*\n | [^;]*;[ \t]*\n )}
         {$1.set_server_name($2);\n}sgx;
    ' "$in" >"$out"
    # What must be gone (comments such as "// from <boost/asio/ssl.hpp>" may stay).
    if sed 's|//.*||' "$out" |
        grep -n 'SSL_\|ERR_get_error\|get_ssl_category\|boost/asio/ssl\|beast/ssl\|asio::ssl' >&2; then
        echo "port.sh: $f: OpenSSL or asio::ssl code left after the port" >&2
        exit 1
    fi
done

if ((trust)); then
    pem="$(grep -o '"[^"]*"' "$src/common/server_certificate.hpp" |
        sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' | tr '\n' ' ')"
    [[ -n "$pem" ]] || { echo "port.sh: no certificate in server_certificate.hpp" >&2; exit 1; }
    roots="$dest/example/common/root_certificates.hpp"
    PEM="$pem" perl -0777 -i -pe \
        's{(std::string cert =\s*\n)}{$1        "# Beast test certificate (port test only)\\n" $ENV{PEM}\n}' "$roots"
    grep -q 'Beast test certificate' "$roots" || { echo "port.sh: could not extend $roots" >&2; exit 1; }
fi
