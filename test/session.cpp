// Resumption: session bytes saved by a client, resumed by ticket and by session ID, checked on
// both ends; corrupt bytes refused; bytes saved by another process resume too. These are TLS 1.2
// sessions, whose ticket comes inside the handshake, on both backends; TLS 1.3's tickets come
// after it and are tested in tls13_sessions.cpp.
#include <tlsx/session.hpp>

#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::handshake_both;

namespace {

using tls_stream = tlsx::stream<tlsx::test::pipe>;

/// One connection over a fresh pipe; returns {client, server} after the handshake.
struct connection {
    tls_stream client;
    tls_stream server;

    connection(net::io_context& io, tlsx::context& cctx, tlsx::context& sctx,
               const tlsx::session& offer = {})
        : connection(tlsx::test::make_pipe(net::any_io_executor(io.get_executor())), cctx, sctx) {
        client.set_server_name("localhost");
        client.set_session(offer);
        auto [cec, sec] = handshake_both(io, client, server);
        BOOST_REQUIRE_MESSAGE(!cec, cec.message());
        BOOST_REQUIRE_MESSAGE(!sec, sec.message());
    }

private:
    connection(std::pair<tlsx::test::pipe, tlsx::test::pipe> p, tlsx::context& cctx,
               tlsx::context& sctx)
        : client(std::move(p.first), cctx)
        , server(std::move(p.second), sctx) {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(session)

BOOST_AUTO_TEST_CASE(resumes_by_ticket_by_default) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client); // TLS 1.2 sessions (see the top of the file)
    tlsx::session saved;
    {
        connection first(io, ctx.client, ctx.server);
        BOOST_TEST(!first.client.session_reused());
        BOOST_TEST(!first.server.session_reused());
        saved = first.client.get_session();
        BOOST_TEST(!saved.empty());
    }
    auto bytes = saved.to_bytes();
    connection second(io, ctx.client, ctx.server, tlsx::session::from_bytes(bytes));
    BOOST_TEST(second.client.session_reused());
    BOOST_TEST(second.server.session_reused());
    BOOST_TEST(second.client.cipher_suite() == second.server.cipher_suite());
}

// TLS 1.2 tells of its ticket at once: the handshake brought it.
BOOST_AUTO_TEST_CASE(a_tls12_ticket_is_received_in_the_handshake) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client);
    tlsx::session saved;
    {
        connection first(io, ctx.client, ctx.server);
        BOOST_TEST(first.client.session_ticket_received());
        BOOST_TEST(!first.server.session_ticket_received()); // a server receives none
        saved = first.client.get_session();
        BOOST_REQUIRE(!saved.empty());
        // Asked again, the same session (mbedTLS 3.x exports a session once: tlsx keeps it).
        BOOST_TEST(first.client.get_session().to_bytes() == saved.to_bytes());
    }
    // Resumed by that ticket: the server keeps it (mbedTLS renews no valid ticket), so no new
    // ticket arrived, and the session saved again still resumes (TLS 1.2 sessions can be
    // offered more than once).
    tlsx::session again;
    {
        connection second(io, ctx.client, ctx.server, saved);
        BOOST_REQUIRE(second.client.session_reused());
        BOOST_TEST(!second.client.session_ticket_received());
        again = second.client.get_session();
        BOOST_REQUIRE(!again.empty());
    }
    connection third(io, ctx.client, ctx.server, again);
    BOOST_TEST(third.client.session_reused());
    connection fourth(io, ctx.client, ctx.server, saved);
    BOOST_TEST(fourth.client.session_reused());
}

BOOST_AUTO_TEST_CASE(no_ticket_is_received_from_a_server_without_tickets) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client);
    ctx.server.disable_session_tickets();
    ctx.server.enable_session_cache(10, std::chrono::minutes(5));
    connection c(io, ctx.client, ctx.server);
    BOOST_TEST(!c.client.session_ticket_received());
    BOOST_TEST(!c.client.get_session().empty()); // a session ID to resume with instead
}

BOOST_AUTO_TEST_CASE(resumes_by_session_id_with_the_cache) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client); // the session-ID cache is TLS 1.2's: 1.3 resumes by ticket
    ctx.server.disable_session_tickets();
    ctx.server.enable_session_cache(10, std::chrono::minutes(5));
    tlsx::session saved = connection(io, ctx.client, ctx.server).client.get_session();
    connection second(io, ctx.client, ctx.server, saved);
    BOOST_TEST(second.client.session_reused());
    BOOST_TEST(second.server.session_reused());
}

BOOST_AUTO_TEST_CASE(without_tickets_or_cache_a_full_handshake_runs) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client); // TLS 1.2 sessions (see the top of the file)
    ctx.server.disable_session_tickets();
    tlsx::session saved = connection(io, ctx.client, ctx.server).client.get_session();
    connection second(io, ctx.client, ctx.server, saved);
    BOOST_TEST(!second.client.session_reused());
    BOOST_TEST(!second.server.session_reused());
}

BOOST_AUTO_TEST_CASE(a_ticket_from_another_server_key_falls_back_to_a_full_handshake) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client); // TLS 1.2 sessions (see the top of the file)
    tlsx::session saved = connection(io, ctx.client, ctx.server).client.get_session();
    ctx.server.enable_session_tickets(std::chrono::hours(1)); // a fresh key: old tickets fail
    connection second(io, ctx.client, ctx.server, saved);
    BOOST_TEST(!second.client.session_reused());
}

BOOST_AUTO_TEST_CASE(corrupt_or_foreign_bytes_are_invalid_session) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client); // TLS 1.2 sessions (see the top of the file)
    auto good = connection(io, ctx.client, ctx.server).client.get_session().to_bytes();
    BOOST_REQUIRE(!tlsx::session::from_bytes(good).empty());

    auto expect_invalid = [](const std::vector<unsigned char>& bytes, const char* what) {
        error_code ec;
        tlsx::session s = tlsx::session::from_bytes(bytes, ec);
        BOOST_TEST(ec == tlsx::error::invalid_session, what);
        BOOST_TEST(s.empty(), what);
    };
    expect_invalid({}, "empty");
    expect_invalid({good.begin(), good.begin() + 9}, "header only");
    expect_invalid({good.begin(), good.end() - 5}, "truncated");
    auto flipped = good;
    flipped[0] ^= 1;
    expect_invalid(flipped, "magic");
    auto version = good;
    version[4] = 99;
    expect_invalid(version, "format version");
    auto inner = good;
    inner[9] ^= 0xff; // mbedTLS's own version header
    expect_invalid(inner, "mbedTLS header");
    std::string pem = "-----BEGIN SSL SESSION PARAMETERS-----\nMIIB...\n";
    expect_invalid({pem.begin(), pem.end()}, "OpenSSL's session file");
    BOOST_CHECK_THROW(tlsx::session::from_bytes(std::string("garbage")),
                      boost::system::system_error);
    BOOST_TEST(tlsx::session().empty());
}

// gnutls_session_get_data2's use: one process saves the session, another resumes it.
BOOST_AUTO_TEST_CASE(bytes_saved_by_another_process_resume) {
    tlsx_test::context_pair ctx;
    backend::tls12_only(ctx.client); // TLS 1.2 sessions (see the top of the file)
    net::io_context io;
    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    const auto endpoint = acceptor.local_endpoint();
    char path[] = "/tmp/tlsx-session-XXXXXX";
    int fd = ::mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    ::close(fd);

    pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        // The first process: connect, handshake, save the session bytes, exit.
        int status = 1;
        try {
            net::io_context cio;
            tlsx::stream<net::ip::tcp::socket> c(cio, ctx.client);
            c.next_layer().connect(endpoint);
            c.set_server_name("localhost");
            c.handshake(tlsx::stream_base::client);
            auto bytes = c.get_session().to_bytes();
            std::ofstream(path, std::ios::binary)
                .write(reinterpret_cast<const char*>(bytes.data()),
                       static_cast<std::streamsize>(bytes.size()));
            error_code ignored;
            c.shutdown(ignored);
            status = bytes.empty() ? 2 : 0;
        } catch (...) {
        }
        ::_exit(status);
    }
    {
        tlsx::stream<net::ip::tcp::socket> s(io, ctx.server);
        acceptor.accept(s.next_layer());
        s.handshake(tlsx::stream_base::server);
        error_code ignored;
        s.shutdown(ignored);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    std::remove(path);
    tlsx::session saved = tlsx::session::from_bytes(bytes);

    bool server_reused = false;
    std::thread server([&] {
        tlsx::stream<net::ip::tcp::socket> s(io, ctx.server);
        acceptor.accept(s.next_layer());
        s.handshake(tlsx::stream_base::server);
        server_reused = s.session_reused();
        error_code ignored;
        s.shutdown(ignored);
    });
    net::io_context cio;
    tlsx::stream<net::ip::tcp::socket> c(cio, ctx.client);
    c.next_layer().connect(endpoint);
    c.set_server_name("localhost");
    c.set_session(saved);
    c.handshake(tlsx::stream_base::client);
    bool client_reused = c.session_reused();
    error_code ignored;
    c.shutdown(ignored);
    server.join();
    BOOST_TEST(client_reused);
    BOOST_TEST(server_reused);
}

BOOST_AUTO_TEST_SUITE_END()
