// The truncation policy (issue 13, item 2): a transport that ends without close_notify reads as
// error::stream_truncated by default, and as boost::asio::error::eof under
// truncation_policy::allow (context or stream), for protocols that frame their own data; then
// the stream counts the peer as closed (peer_closed(), writes go on over a half-closed
// transport, shutdown does not wait). A record cut short stays stream_truncated either way.
// Under TLS 1.2 and, where the backend has it, 1.3.
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx::truncation_policy;
using tlsx_test::run_bounded;

namespace {

std::vector<bool> tls12_choices() {
    if (backend::has_tls13)
        return {true, false};
    return {true};
}

/// A handshaken pair (TLS 1.2 if `tls12`), the server's context set to `context_policy`
/// before the handshake.
struct pair_t : tlsx::test::tls_pair {
    pair_t(net::io_context& io, bool tls12, truncation_policy context_policy)
        : tls_pair(io) {
        if (tls12)
            backend::tls12_only(client_ctx);
        server_ctx.set_truncation_policy(context_policy);
    }
    void handshake(net::io_context& io) {
        auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
        BOOST_REQUIRE_MESSAGE(!cec, cec.message());
        BOOST_REQUIRE_MESSAGE(!sec, sec.message());
    }
};

/// The client writes `data`, then its transport ends without close_notify (a FIN: its write
/// side closes). Returns what the server read and how its reading ended.
std::pair<std::string, error_code> read_until_the_end(net::io_context& io, pair_t& p,
                                                      const std::string& data) {
    net::async_write(p.client, net::buffer(data), [&](error_code ec, std::size_t) {
        BOOST_TEST(!ec);
        p.client.next_layer().close_write();
    });
    std::string got;
    error_code end = net::error::would_block;
    std::vector<char> buf(4096);
    std::function<void()> next = [&] {
        p.server.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t n) {
            got.append(buf.data(), n);
            if (ec) {
                end = ec;
                return;
            }
            next();
        });
    };
    next();
    run_bounded(io);
    return {got, end};
}

} // namespace

BOOST_AUTO_TEST_SUITE(truncation)

BOOST_AUTO_TEST_CASE(by_default_an_end_without_close_notify_is_stream_truncated) {
    for (bool tls12 : tls12_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            net::io_context io;
            pair_t p(io, tls12, truncation_policy::error);
            p.handshake(io);
            auto [got, end] = read_until_the_end(io, p, "all of it");
            BOOST_TEST(got == "all of it");
            BOOST_TEST(end == tlsx::error::stream_truncated, end.message());
            BOOST_TEST(!p.server.get_engine().peer_closed());
        }
    }
}

BOOST_AUTO_TEST_CASE(allow_on_the_context_reads_it_as_eof_and_writes_go_on) {
    for (bool tls12 : tls12_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            net::io_context io;
            pair_t p(io, tls12, truncation_policy::allow);
            p.handshake(io);
            auto [got, end] = read_until_the_end(io, p, "GET / HTTP/1.1\r\n\r\n");
            BOOST_TEST(got == "GET / HTTP/1.1\r\n\r\n");
            BOOST_TEST(end == net::error::eof, end.message());
            BOOST_TEST(p.server.get_engine().peer_closed());
            // Another read says the same; the server may still answer over the half-closed
            // transport, and the client reads it all.
            char c;
            error_code again;
            p.server.read_some(net::buffer(&c, 1), again);
            BOOST_TEST(again == net::error::eof, again.message());
            const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            std::string read_back(answer.size(), '\0');
            error_code wec = net::error::would_block, rec = wec;
            net::async_write(p.server, net::buffer(answer),
                             [&](error_code ec, std::size_t) { wec = ec; });
            net::async_read(p.client, net::buffer(read_back),
                            [&](error_code ec, std::size_t) { rec = ec; });
            run_bounded(io);
            BOOST_TEST(!wec, wec.message());
            BOOST_TEST(!rec, rec.message());
            BOOST_TEST(read_back == answer);
            // shutdown(both) does not wait for a close_notify that cannot come.
            error_code sec = net::error::would_block;
            p.server.async_shutdown(tlsx::shutdown_type::both, [&](error_code ec) { sec = ec; });
            run_bounded(io);
            BOOST_TEST(!sec, sec.message());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_stream_setting_overrides_the_context) {
    for (bool tls12 : tls12_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            net::io_context io;
            pair_t strict(io, tls12, truncation_policy::allow);
            strict.server.set_truncation_policy(truncation_policy::error);
            strict.handshake(io);
            BOOST_TEST(read_until_the_end(io, strict, "x").second == tlsx::error::stream_truncated);

            net::io_context io2;
            pair_t lax(io2, tls12, truncation_policy::error);
            lax.handshake(io2);
            lax.server.set_truncation_policy(truncation_policy::allow); // after the handshake
            BOOST_TEST(read_until_the_end(io2, lax, "x").second == net::error::eof);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_record_cut_short_stays_truncated_under_allow) {
    for (bool tls12 : tls12_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            net::io_context io;
            pair_t p(io, tls12, truncation_policy::allow);
            p.handshake(io);
            // The start of an application-data record (header: 100 bytes to come), then the
            // end of the transport: data the peer sent was lost.
            p.server.next_layer().inject(std::string("\x17\x03\x03\x00\x64", 5) + "0123456789");
            p.client.next_layer().close_write();
            char buf[64];
            error_code ec = net::error::would_block;
            p.server.async_read_some(net::buffer(buf), [&](error_code e, std::size_t) { ec = e; });
            run_bounded(io);
            BOOST_TEST(ec == tlsx::error::stream_truncated, ec.message());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
