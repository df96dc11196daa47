// tlsx against real TLS implementations over TCP loopback: OpenSSL's s_server and s_client,
// GnuTLS's gnutls-cli and curl. Each peer runs as a child process; a missing program skips its
// case with a message.
#include <tlsx/context.hpp>
#include <tlsx/stream.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/interop.hpp"
#include "support/peer_process.hpp"
#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace net = boost::asio;
using tlsx_test::contains;
using tlsx_test::pem;
namespace certs = tlsx_test::certs;
using net::ip::tcp;
using tlsx::error_code;
using tlsx_test::peer_process;
using tlsx_test::run_bounded;

namespace {

using tlsx_test::credential_files;
using tlsx_test::have;

using tcp_stream = tlsx::stream<tcp::socket>;
constexpr auto awaitable = net::as_tuple(net::use_awaitable);
constexpr std::chrono::seconds io_limit(20);

bool run_coroutine(net::io_context& io, std::function<net::awaitable<void>()> body) {
    return tlsx_test::run_coroutine(io, std::move(body), io_limit);
}

/// The test credentials as files, for the peers' command lines.

tlsx::context server_context() {
    tlsx::context ctx(tlsx::context::tls_server);
    backend::tls12_only(ctx); // these are TLS 1.2 scenarios, on both backends
    ctx.use_certificate_chain(pem(certs::server_cert));
    ctx.use_private_key(pem(certs::server_key), tlsx::context::pem);
    return ctx;
}

/// Accept one connection, handshake, then hand the stream to `serve`; records the errors.
struct one_shot_server {
    explicit one_shot_server(net::io_context& context)
        : io(context) {}

    net::io_context& io;
    tlsx::context ctx = server_context();
    tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
    error_code handshake_ec = net::error::would_block;
    error_code shutdown_ec = net::error::would_block;
    std::string cipher_suite, protocol_version, alpn_protocol;

    unsigned short port() const { return acceptor.local_endpoint().port(); }

    /// `serve` does the application part; then the server closes with close_notify.
    bool run(std::function<net::awaitable<void>(tcp_stream&)> serve) {
        return run_coroutine(io, [&]() -> net::awaitable<void> {
            auto [aec, socket] = co_await acceptor.async_accept(awaitable);
            BOOST_TEST_REQUIRE(!aec, aec.message());
            tcp_stream s(std::move(socket), ctx);
            std::tie(handshake_ec) =
                co_await s.async_handshake(tlsx::stream_base::server, awaitable);
            if (handshake_ec)
                co_return;
            cipher_suite = s.cipher_suite();
            protocol_version = s.protocol_version();
            alpn_protocol = s.alpn_protocol();
            co_await serve(s);
            std::tie(shutdown_ec) = co_await s.async_shutdown(awaitable);
        });
    }
};

/// Echo one line back, prefixed with "echo: ".
net::awaitable<void> echo_one_line(tcp_stream& s) {
    std::string line;
    auto [rec, n] = co_await net::async_read_until(s, net::dynamic_buffer(line), '\n', awaitable);
    BOOST_TEST_REQUIRE(!rec, rec.message());
    const std::string reply = "echo: " + line.substr(0, n);
    auto [wec, m] = co_await net::async_write(s, net::buffer(reply), awaitable);
    BOOST_TEST(!wec, wec.message());
}

} // namespace

BOOST_AUTO_TEST_SUITE(interop)

BOOST_AUTO_TEST_CASE(tlsx_client_talks_to_openssl_s_server) {
    if (!have("openssl"))
        return;
    credential_files files;
    const unsigned short port = tlsx_test::free_port();
    peer_process server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                         "-cert", files.cert, "-key", files.key, "-rev"});
    BOOST_TEST_REQUIRE(tlsx_test::wait_for_port(port), "s_server is not listening:\n"
                                                           << server.output());

    tlsx::context ctx(tlsx::context::tls_client);
    backend::tls12_only(ctx);
    ctx.load_verify_file(files.ca);
    ctx.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"});
    net::io_context io;
    tcp_stream s(io, ctx);
    std::string reversed;
    error_code eof_ec, shutdown_ec;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        co_await s.next_layer().async_connect({net::ip::make_address("127.0.0.1"), port},
                                              net::use_awaitable);
        s.set_server_name("localhost");
        co_await s.async_handshake(tlsx::stream_base::client, net::use_awaitable);
        co_await net::async_write(s, net::buffer(std::string("hello, openssl\n")),
                                  net::use_awaitable);
        std::string line;
        std::size_t n =
            co_await net::async_read_until(s, net::dynamic_buffer(line), '\n', net::use_awaitable);
        reversed = line.substr(0, n);
        // "CLOSE" makes s_server send its close_notify: our reads then end with eof.
        co_await net::async_write(s, net::buffer(std::string("CLOSE\n")), net::use_awaitable);
        std::string rest;
        std::tie(eof_ec, std::ignore) =
            co_await net::async_read(s, net::dynamic_buffer(rest), awaitable);
        std::tie(shutdown_ec) = co_await s.async_shutdown(awaitable);
    });
    BOOST_TEST_INFO("s_server output:\n" << server.output());
    BOOST_TEST(finished);
    BOOST_TEST(reversed == "lssnepo ,olleh\n");
    BOOST_TEST(s.protocol_version() == "TLSv1.2");
    BOOST_TEST(s.cipher_suite() == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    BOOST_TEST(eof_ec == net::error::eof, eof_ec.message());
    BOOST_TEST(!shutdown_ec, shutdown_ec.message());
}

BOOST_AUTO_TEST_CASE(tlsx_client_reads_the_openssl_s_server_status_page) {
    if (!have("openssl"))
        return;
    credential_files files;
    const unsigned short port = tlsx_test::free_port();
    peer_process server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                         "-cert", files.cert, "-key", files.key, "-www"});
    BOOST_TEST_REQUIRE(tlsx_test::wait_for_port(port), "s_server is not listening:\n"
                                                           << server.output());

    tlsx::context ctx(tlsx::context::tls_client);
    backend::tls12_only(ctx);
    ctx.load_verify_file(files.ca);
    ctx.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"});
    std::string keylog;
    ctx.set_keylog_callback([&](std::string_view line) { keylog = line; });
    net::io_context io;
    tcp_stream s(io, ctx);
    std::string page;
    error_code read_ec;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        co_await s.next_layer().async_connect({net::ip::make_address("127.0.0.1"), port},
                                              net::use_awaitable);
        s.set_server_name("localhost");
        co_await s.async_handshake(tlsx::stream_base::client, net::use_awaitable);
        co_await net::async_write(s, net::buffer(std::string("GET / HTTP/1.0\r\n\r\n")),
                                  net::use_awaitable);
        // The page ends with s_server's close_notify.
        std::tie(read_ec, std::ignore) =
            co_await net::async_read(s, net::dynamic_buffer(page), awaitable);
    });
    BOOST_TEST_INFO("s_server output:\n" << server.output());
    BOOST_TEST(finished);
    BOOST_TEST(read_ec == net::error::eof, read_ec.message());
    BOOST_TEST(contains(page, "HTTP/1.0 200 ok"), page);
    // The status page describes the session as s_server sees it: the same suite, and the same
    // master secret as our key log line.
    BOOST_TEST(contains(page, "New, TLSv1.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305"), page);
    BOOST_TEST(s.cipher_suite() == "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    const std::size_t at = page.find("Master-Key: ");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    std::string master = page.substr(at + 12, 96);
    for (char& c : master)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    BOOST_TEST_REQUIRE(keylog.size() == 14u + 64 + 1 + 96, keylog);
    BOOST_TEST(keylog.substr(14 + 64 + 1) == master);
}

BOOST_AUTO_TEST_CASE(openssl_s_client_gets_its_line_echoed_by_a_tlsx_server) {
    if (!have("openssl"))
        return;
    credential_files files;
    net::io_context io;
    one_shot_server server(io);
    std::string sni;
    server.ctx.set_sni_callback([&](tlsx::sni_selection& s) {
        sni = s.server_name();
        return true;
    });
    peer_process client({"openssl", "s_client", "-connect",
                         "127.0.0.1:" + std::to_string(server.port()), "-servername", "localhost",
                         "-CAfile", files.ca, "-verify_return_error", "-verify_hostname",
                         "localhost", "-quiet"});
    client.write_stdin("hello from s_client\n");
    const bool finished = server.run(echo_one_line);
    const bool exited = client.wait_exit(std::chrono::seconds(5)).has_value();
    const std::string out = client.output();
    BOOST_TEST_INFO("s_client output:\n" << out);
    BOOST_TEST(finished);
    BOOST_TEST(!server.handshake_ec, server.handshake_ec.message());
    BOOST_TEST(!server.shutdown_ec, server.shutdown_ec.message());
    BOOST_TEST(contains(out, "echo: hello from s_client\n"));
    BOOST_TEST(exited); // s_client answers our close_notify and exits
    BOOST_TEST(server.protocol_version == "TLSv1.2");
    BOOST_TEST(!server.cipher_suite.empty());
    BOOST_TEST(sni == "localhost");
}

BOOST_AUTO_TEST_CASE(gnutls_cli_gets_its_line_echoed_by_a_tlsx_server) {
    if (!have("gnutls-cli"))
        return;
    credential_files files;
    net::io_context io;
    one_shot_server server(io);
    peer_process client(
        {"gnutls-cli", "--x509cafile", files.ca, "-p", std::to_string(server.port()), "localhost"});
    client.write_stdin("hello from gnutls-cli\n");
    const bool finished = server.run(echo_one_line);
    const bool exited = client.wait_exit(std::chrono::seconds(5)).has_value();
    const std::string out = client.output();
    BOOST_TEST_INFO("gnutls-cli output:\n" << out);
    BOOST_TEST(finished);
    BOOST_TEST(!server.handshake_ec, server.handshake_ec.message());
    BOOST_TEST(!server.shutdown_ec, server.shutdown_ec.message());
    BOOST_TEST(contains(out, "echo: hello from gnutls-cli\n"));
    BOOST_TEST(exited); // gnutls-cli leaves once we closed
    BOOST_TEST(server.protocol_version == "TLSv1.2");
}

BOOST_AUTO_TEST_CASE(curl_fetches_a_page_from_a_tlsx_server) {
    if (!have("curl"))
        return;
    credential_files files;
    net::io_context io;
    one_shot_server server(io);
    server.ctx.set_alpn_protocols({"http/1.1"});
    const std::string body = "hello from tlsx\n";
    std::string request;
    peer_process client({"curl", "--silent", "--show-error", "--max-time", "15", "--cacert",
                         files.ca,
                         "https://localhost:" + std::to_string(server.port()) + "/index.txt"});
    const bool finished = server.run([&](tcp_stream& s) -> net::awaitable<void> {
        auto [rec, n] =
            co_await net::async_read_until(s, net::dynamic_buffer(request), "\r\n\r\n", awaitable);
        BOOST_TEST_REQUIRE(!rec, rec.message());
        const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                     "Content-Length: " +
                                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                                     body;
        auto [wec, m] = co_await net::async_write(s, net::buffer(response), awaitable);
        BOOST_TEST(!wec, wec.message());
    });
    const auto status = client.wait_exit(std::chrono::seconds(5));
    const std::string out = client.output();
    BOOST_TEST_INFO("curl output:\n" << out);
    BOOST_TEST(finished);
    BOOST_TEST(!server.handshake_ec, server.handshake_ec.message());
    BOOST_TEST(contains(request, "GET /index.txt HTTP/1.1\r\n"), request);
    BOOST_TEST(server.alpn_protocol == "http/1.1");
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(WIFEXITED(*status));
    BOOST_TEST(WEXITSTATUS(*status) == 0);
    BOOST_TEST(out == body);
}

BOOST_AUTO_TEST_SUITE_END()
