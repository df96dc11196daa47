// tlsx::stream with Beast: HTTP over pipes and over tcp_stream, get_lowest_layer,
// tcp_stream timeouts, a large body.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::beast::get_lowest_layer;
using boost::beast::tcp_stream;
using tcp = net::ip::tcp;
using tlsx::error_code;
using tlsx_test::pattern;
using tlsx_test::run_bounded;

// Beast's get_lowest_layer follows next_layer(): for a stream over a tcp_stream it stops at the
// tcp_stream (which has no next_layer()), where expires_after lives.
static_assert(std::is_same_v<decltype(get_lowest_layer(std::declval<tlsx::stream<tcp_stream>&>())),
                             tcp_stream&>);
static_assert(
    std::is_same_v<boost::beast::lowest_layer_type<tlsx::stream<tcp_stream>>, tcp_stream>);
static_assert(std::is_same_v<decltype(get_lowest_layer(std::declval<tlsx::stream<tcp::socket>&>())),
                             tcp::socket&>);
static_assert(
    std::is_same_v<decltype(get_lowest_layer(std::declval<tlsx::stream<tlsx::test::pipe>&>())),
                   tlsx::test::pipe&>);
// lowest_layer() reaches the socket under a tcp_stream, as asio::ssl::stream's does, so ported
// code such as s.lowest_layer().set_option(tcp::no_delay(true)) compiles.
static_assert(std::is_same_v<tlsx::stream<tcp_stream>::lowest_layer_type, tcp::socket>);
static_assert(std::is_same_v<decltype(std::declval<tlsx::stream<tcp_stream>&>().lowest_layer()),
                             tcp::socket&>);
static_assert(std::is_same_v<tlsx::stream<tcp::socket>::lowest_layer_type,
                             tcp::socket::lowest_layer_type>); // basic_socket, as in Asio
static_assert(std::is_same_v<tlsx::stream<tlsx::test::pipe>::lowest_layer_type, tlsx::test::pipe>);
static_assert(boost::beast::is_async_stream<tlsx::stream<tcp_stream>>::value);
static_assert(boost::beast::is_sync_stream<tlsx::stream<tcp::socket>>::value);

namespace {

using pair_t = tlsx::test::tls_pair;

const error_code pending = net::error::would_block;

struct exchange_result {
    error_code client_write = pending, server_read = pending, server_write = pending,
               client_read = pending;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
};

/// Handshake, then the client sends `body` in a POST to /echo and the server answers 200 with
/// the same body, on the streams' executor; `r` records what each side saw.
template <class Stream>
void http_exchange(Stream& client, Stream& server, const std::string& body, exchange_result& r) {
    struct state {
        boost::beast::flat_buffer client_buf, server_buf;
        http::request<http::string_body> out_req{http::verb::post, "/echo", 11};
        http::request_parser<http::string_body> parser;
        http::response<http::string_body> out_res;
        http::response_parser<http::string_body> res_parser;
    };
    auto st = std::make_shared<state>();
    st->out_req.set(http::field::host, "localhost");
    st->out_req.body() = body;
    st->out_req.prepare_payload();
    st->parser.body_limit(8u << 20);
    st->res_parser.body_limit(8u << 20);

    server.async_handshake(tlsx::stream_base::server, [&, st](error_code ec) {
        if (ec)
            return void(r.server_read = ec);
        http::async_read(server, st->server_buf, st->parser, [&, st](error_code ec, std::size_t) {
            r.server_read = ec;
            if (ec)
                return;
            r.request = st->parser.release();
            st->out_res.result(http::status::ok);
            st->out_res.version(11);
            st->out_res.set(http::field::server, "tlsx-test");
            st->out_res.body() = r.request.body();
            st->out_res.prepare_payload();
            http::async_write(server, st->out_res,
                              [&, st](error_code ec, std::size_t) { r.server_write = ec; });
        });
    });
    client.async_handshake(tlsx::stream_base::client, [&, st](error_code ec) {
        if (ec)
            return void(r.client_write = ec);
        http::async_write(client, st->out_req, [&, st](error_code ec, std::size_t) {
            r.client_write = ec;
            if (ec)
                return;
            http::async_read(client, st->client_buf, st->res_parser,
                             [&, st](error_code ec, std::size_t) {
                                 r.client_read = ec;
                                 if (!ec)
                                     r.response = st->res_parser.release();
                             });
        });
    });
}

void check(const exchange_result& r, const std::string& body) {
    BOOST_TEST(!r.client_write);
    BOOST_TEST(!r.server_read);
    BOOST_TEST(!r.server_write);
    BOOST_TEST(!r.client_read);
    BOOST_TEST(r.request.method() == http::verb::post);
    BOOST_TEST(r.request.target() == "/echo");
    BOOST_TEST(r.request[http::field::host] == "localhost");
    BOOST_TEST(r.request.body().size() == body.size());
    BOOST_TEST((r.request.body() == body));
    BOOST_TEST(r.response.result_int() == 200u);
    BOOST_TEST(r.response[http::field::server] == "tlsx-test");
    BOOST_TEST(r.response.body().size() == body.size());
    BOOST_TEST((r.response.body() == body));
}

struct tcp_contexts {
    tlsx::self_signed_credentials cred = tlsx::generate_self_signed("localhost");
    tlsx::context server{tlsx::context::tls_server};
    tlsx::context client{tlsx::context::tls_client};
    tcp_contexts() {
        server.use_certificate_chain(net::buffer(cred.certificate_pem));
        server.use_private_key(net::buffer(cred.private_key_pem), tlsx::context::pem);
        client.add_certificate_authority(net::buffer(cred.certificate_pem));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(beast)

BOOST_AUTO_TEST_CASE(http_request_and_response_over_pipes) {
    for (std::size_t fragment : {std::size_t(0), std::size_t(1)}) {
        BOOST_TEST_CONTEXT("transport fragment size " << fragment) {
            net::io_context io;
            pair_t p(io);
            if (fragment != 0) {
                for (auto* s : {&p.client, &p.server}) {
                    s->next_layer().set_read_size(fragment);
                    s->next_layer().set_write_size(fragment);
                }
            }
            const std::string body = "hello over tls";
            exchange_result r;
            http_exchange(p.client, p.server, body, r);
            BOOST_TEST(run_bounded(io));
            check(r, body);
        }
    }
}

BOOST_AUTO_TEST_CASE(http_over_tcp_stream_loopback) {
    net::io_context io;
    tcp_contexts ctx;
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    tlsx::stream<tcp_stream> client(io, ctx.client);
    tlsx::stream<tcp_stream> server(io, ctx.server);
    client.set_server_name("localhost");

    // Beast's lowest layer is the tcp_stream itself: where expires_after lives.
    BOOST_TEST(&get_lowest_layer(client) == &client.next_layer());

    // Connect.
    get_lowest_layer(client).expires_after(std::chrono::seconds(10));
    error_code connect_ec = pending, accept_ec = pending;
    acceptor.async_accept(get_lowest_layer(server).socket(),
                          [&](error_code ec) { accept_ec = ec; });
    get_lowest_layer(client).async_connect(acceptor.local_endpoint(),
                                           [&](error_code ec) { connect_ec = ec; });
    BOOST_REQUIRE(run_bounded(io));
    BOOST_REQUIRE(!accept_ec);
    BOOST_REQUIRE(!connect_ec);

    // Handshake, request, response: each side under a deadline.
    get_lowest_layer(client).expires_after(std::chrono::seconds(10));
    get_lowest_layer(server).expires_after(std::chrono::seconds(10));
    const std::string body = pattern(50000, 3);
    exchange_result r;
    http_exchange(client, server, body, r);
    BOOST_TEST(run_bounded(io));
    check(r, body);
    BOOST_TEST(client.protocol_version() == backend::default_version);

    // Close: both send close_notify and wait for the other's.
    get_lowest_layer(client).expires_after(std::chrono::seconds(10));
    get_lowest_layer(server).expires_after(std::chrono::seconds(10));
    error_code client_shut = pending, server_shut = pending;
    client.async_shutdown([&](error_code ec) { client_shut = ec; });
    server.async_shutdown([&](error_code ec) { server_shut = ec; });
    BOOST_TEST(run_bounded(io));
    BOOST_TEST(!client_shut);
    BOOST_TEST(!server_shut);
    BOOST_TEST(client.get_engine().peer_closed());
    BOOST_TEST(server.get_engine().peer_closed());
}

BOOST_AUTO_TEST_CASE(tcp_stream_timeout_applies_to_handshake) {
    net::io_context io;
    tcp_contexts ctx;
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    tcp::socket silent(io); // accepts, then never reads nor writes
    tlsx::stream<tcp_stream> client(io, ctx.client);
    client.set_server_name("localhost");
    error_code accept_ec = pending, connect_ec = pending;
    acceptor.async_accept(silent, [&](error_code ec) { accept_ec = ec; });
    get_lowest_layer(client).async_connect(acceptor.local_endpoint(),
                                           [&](error_code ec) { connect_ec = ec; });
    BOOST_REQUIRE(run_bounded(io));
    BOOST_REQUIRE(!accept_ec);
    BOOST_REQUIRE(!connect_ec);

    error_code hec = pending;
    get_lowest_layer(client).expires_after(std::chrono::milliseconds(200));
    auto start = std::chrono::steady_clock::now();
    client.async_handshake(tlsx::stream_base::client, [&](error_code ec) { hec = ec; });
    BOOST_TEST(run_bounded(io, std::chrono::seconds(10)));
    auto elapsed = std::chrono::steady_clock::now() - start;
    BOOST_TEST(hec == error_code(boost::beast::error::timeout));
    BOOST_TEST((elapsed >= std::chrono::milliseconds(150)));
    BOOST_TEST((elapsed < std::chrono::seconds(10)));
    BOOST_TEST(silent.available() > 0u); // the ClientHello went out; nobody answered it
}

BOOST_AUTO_TEST_CASE(large_body_roundtrip) {
    net::io_context io;
    pair_t p(io);
    const std::string body = pattern(std::size_t(1) << 20, 11);
    exchange_result r;
    http_exchange(p.client, p.server, body, r);
    BOOST_TEST(run_bounded(io));
    check(r, body);
    BOOST_TEST(tlsx_test::checksum(r.response.body().data(), r.response.body().size()) ==
               tlsx_test::checksum(body.data(), body.size()));
}

BOOST_AUTO_TEST_SUITE_END()
