// Compiled with -std=c++17 by .ci/run: every public async and sync operation instantiated, with
// callbacks, use_future and deferred, so that the library stays C++17 beyond its declarations.
#include <tlsx/beast.hpp>
#include <tlsx/tlsx.hpp>
#include <tlsx/test.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

namespace net = boost::asio;

void instantiate(tlsx::stream<net::ip::tcp::socket>& s, tlsx::stream<tlsx::test::pipe>& p) {
    char buf[16];
    auto cb = [](tlsx::error_code, std::size_t) {};
    auto cb0 = [](tlsx::error_code) {};
    s.async_handshake(tlsx::stream_base::client, cb0);
    s.async_handshake(tlsx::stream_base::server, net::buffer(buf), cb);
    s.async_read_some(net::buffer(buf), cb);
    s.async_write_some(net::buffer(buf), cb);
    s.async_renegotiate(cb0);
    s.async_shutdown(cb0);
    s.async_shutdown(tlsx::shutdown_type::send, cb0);
    auto f1 = s.async_handshake(tlsx::stream_base::client, net::use_future);
    auto f2 = s.async_read_some(net::buffer(buf), net::use_future);
    auto d1 = p.async_write_some(net::buffer(buf), net::deferred);
    std::move(d1)(cb);
    tlsx::error_code ec;
    s.handshake(tlsx::stream_base::client, ec);
    s.read_some(net::buffer(buf), ec);
    s.write_some(net::buffer(buf), ec);
    s.renegotiate(ec);
    s.shutdown(tlsx::shutdown_type::send, ec);
    (void)f1;
    (void)f2;
}

int main() {}
