// TLS 1.3 against real peers over TCP loopback (mbedTLS 3.6 only): handshake and data both ways
// with openssl s_server/s_client, gnutls-serv/gnutls-cli and curl; HelloRetryRequest in both
// roles; ticket resumption of a tlsx server; close_notify both ways; and a peer's KeyUpdate
// (s_server's and s_client's `k` / `K`), which tlsx takes in inside its pending read (and
// answers `K` with its own), data going on both ways.
//
// The TLS 1.2 lifecycle scenarios are in interop_lifecycle.cpp; the helpers both use are in
// support/lifecycle.hpp. Test names: <tlsx role>_<peer>_<scenario>.
#include "support/lifecycle.hpp"

namespace net = boost::asio;
using net::ip::tcp;
using tlsx::error_code;
using tlsx::shutdown_type;
using tlsx_test::credential_files;
using tlsx_test::have;
using tlsx_test::peer_process;
using namespace tlsx_test::lifecycle;
using namespace std::chrono_literals;

namespace {

/// The peers' one-version priority strings and flags.
const char* const gnutls_tls13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

bool is_tls13_suite(std::string_view suite) {
    return suite == "TLS_AES_128_GCM_SHA256" || suite == "TLS_AES_256_GCM_SHA384" ||
           suite == "TLS_CHACHA20_POLY1305_SHA256";
}

} // namespace

BOOST_AUTO_TEST_SUITE(interop_tls13, *boost::unit_test::precondition(backend::needs_tls13{
                                         "interop under TLS 1.3 needs mbedTLS 3.6"}))

// =============================================================================================
// tlsx client
// =============================================================================================

// Handshake, data both ways and close_notify both ways with s_server pinned to TLS 1.3.
BOOST_AUTO_TEST_CASE(client_openssl_s_server_data_both_ways_and_close_both) {
    if (!have("openssl"))
        return;
    credential_files files;
    const unsigned short port = tlsx_test::free_port();
    auto server = start_s_server(files, port, {"-tls1_3"});
    output_on_failure dump("s_server", [&] { return server->output(); });
    net::io_context io;
    client_context cctx(false);
    tcp_stream s(io, cctx.ctx);
    reader r{s};
    error_code sec = net::error::would_block;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto hec = co_await connect_and_handshake(s, port);
        BOOST_TEST_REQUIRE(!hec, hec.message());
        r.start();
        CO_CHECK_OK(write_all(s, "ping over 1.3\n"));
        CO_CHECK(shows(*server, "ping over 1.3"));
        server->write_stdin("pong over 1.3\n");
        CO_CHECK(eventually([&] { return r.got("pong over 1.3\n"); }));
        std::tie(sec) = co_await s.async_shutdown(shutdown_type::both, awaitable);
        CO_CHECK(eventually([&] { return r.done; }));
    });
    BOOST_TEST(finished);
    BOOST_TEST(s.protocol_version() == "TLSv1.3");
    BOOST_TEST(is_tls13_suite(s.cipher_suite()), s.cipher_suite());
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(r.ec == net::error::eof, r.ec.message()); // s_server's close_notify came
}

// s_server takes P-256 only; the tlsx client sends its key share for x25519 (its first group),
// so the server must answer with a HelloRetryRequest: s_server (-msg) reads two ClientHellos.
BOOST_AUTO_TEST_CASE(client_openssl_s_server_hello_retry_request) {
    if (!have("openssl"))
        return;
    credential_files files;
    const unsigned short port = tlsx_test::free_port();
    auto server = start_s_server(files, port, {"-tls1_3", "-groups", "P-256", "-msg"});
    output_on_failure dump("s_server", [&] { return server->output(); });
    net::io_context io;
    client_context cctx(false);
    tcp_stream s(io, cctx.ctx);
    reader r{s};
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto hec = co_await connect_and_handshake(s, port);
        BOOST_TEST_REQUIRE(!hec, hec.message());
        r.start();
        CO_CHECK_OK(write_all(s, "after a retry\n"));
        CO_CHECK(shows(*server, "after a retry"));
        co_await s.async_shutdown(shutdown_type::send, awaitable);
    });
    BOOST_TEST(finished);
    BOOST_TEST(count(server->output(), "ClientHello") == 2u);
    BOOST_TEST(s.protocol_version() == "TLSv1.3");
}

// s_server's `k` (KeyUpdate, update_not_requested) and `K` (update_requested): the pending read
// takes it in and goes on; after `K` s_server receives our KeyUpdate (-msg shows both); data
// flows both ways under the new keys.
BOOST_AUTO_TEST_CASE(client_openssl_s_server_key_update_is_taken_in) {
    if (!have("openssl"))
        return;
    for (const char* command : {"k\n", "K\n"}) {
        BOOST_TEST_CONTEXT("s_server command " << command[0]) {
            credential_files files;
            const unsigned short port = tlsx_test::free_port();
            auto server = start_s_server(files, port, {"-tls1_3", "-state", "-msg"});
            output_on_failure dump("s_server", [&] { return server->output(); });
            net::io_context io;
            client_context cctx(false);
            tcp_stream s(io, cctx.ctx);
            reader r{s};
            const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
                auto hec = co_await connect_and_handshake(s, port);
                BOOST_TEST_REQUIRE(!hec, hec.message());
                r.start();
                CO_CHECK_OK(write_all(s, "before the update\n"));
                CO_REQUIRE(shows(*server, "before the update"));
                server->write_stdin(command);
                // Sent by s_server, and after `K` ours received by it.
                CO_REQUIRE(shows(*server, "KeyUpdate", command[0] == 'K' ? 2 : 1));
                server->write_stdin("from s_server\n");
                CO_CHECK(eventually([&] { return r.got("from s_server\n"); }));
                CO_CHECK_OK(write_all(s, "after the update\n"));
                CO_CHECK(shows(*server, "after the update"));
            });
            BOOST_TEST(finished);
            BOOST_TEST(!r.done, r.ec.message()); // the read goes on
            BOOST_TEST(s.get_engine().key_generation(true) == 1u);
            BOOST_TEST(s.get_engine().key_generation(false) == (command[0] == 'K' ? 1u : 0u));
        }
    }
}

// gnutls-serv --echo pinned to TLS 1.3: the echo, then close_notify both ways.
BOOST_AUTO_TEST_CASE(client_gnutls_serv_data_both_ways_and_close) {
    if (!have("gnutls-serv"))
        return;
    credential_files files;
    gnutls_echo_server server(files, {"--priority", gnutls_tls13});
    output_on_failure dump("gnutls-serv", [&] { return server.peer->output(); });
    net::io_context io;
    client_context cctx(false);
    tcp_stream s(server.lo.socket(io), cctx.ctx);
    reader r{s};
    error_code sec = net::error::would_block;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto hec = co_await server.connect(s);
        BOOST_TEST_REQUIRE(!hec, hec.message());
        r.start();
        CO_CHECK_OK(write_all(s, "hello, gnutls-serv, over 1.3\n"));
        CO_CHECK(eventually([&] { return r.got("hello, gnutls-serv, over 1.3\n"); }));
        std::tie(sec) = co_await s.async_shutdown(shutdown_type::both, awaitable);
        CO_CHECK(eventually([&] { return r.done; }));
    });
    BOOST_TEST(finished);
    BOOST_TEST(s.protocol_version() == "TLSv1.3");
    BOOST_TEST(r.data == "hello, gnutls-serv, over 1.3\n");
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(r.ec == net::error::eof, r.ec.message());
}

// gnutls-serv with secp256r1 as its only group: the tlsx client's x25519 key share does not do,
// so the handshake can only succeed through a HelloRetryRequest.
BOOST_AUTO_TEST_CASE(client_gnutls_serv_hello_retry_request) {
    if (!have("gnutls-serv"))
        return;
    credential_files files;
    const std::string priority = std::string(gnutls_tls13) + ":-GROUP-ALL:+GROUP-SECP256R1";
    gnutls_echo_server server(files, {"--priority", priority});
    output_on_failure dump("gnutls-serv", [&] { return server.peer->output(); });
    net::io_context io;
    client_context cctx(false);
    tcp_stream s(server.lo.socket(io), cctx.ctx);
    reader r{s};
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto hec = co_await server.connect(s);
        BOOST_TEST_REQUIRE(!hec, hec.message());
        r.start();
        CO_CHECK_OK(write_all(s, "retried\n"));
        CO_CHECK(eventually([&] { return r.got("retried\n"); }));
        co_await s.async_shutdown(shutdown_type::send, awaitable);
    });
    BOOST_TEST(finished);
    BOOST_TEST(s.protocol_version() == "TLSv1.3");
}

// Resumption by the server's TLS 1.3 ticket toward gnutls-serv: the ticket arrives after the
// handshake and is taken in by a read (the echo), after which get_session() has it; the second
// connection offers it and both ends report the resumption.
BOOST_AUTO_TEST_CASE(client_gnutls_serv_resumes_by_ticket) {
    if (!have("gnutls-serv"))
        return;
    credential_files files;
    gnutls_echo_server server(files, {"--priority", gnutls_tls13});
    output_on_failure dump("gnutls-serv", [&] { return server.peer->output(); });
    net::io_context io;
    client_context cctx(false);
    tlsx::session saved;
    bool ticket_before_read = true, ticket_after_read = false, reused[2] = {true, false};
    std::string versions[2];
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            tcp_stream s(server.lo.socket(io), cctx.ctx);
            if (i == 1)
                s.set_session(saved);
            auto hec = co_await server.connect(s);
            BOOST_TEST_REQUIRE(!hec, hec.message());
            reused[i] = s.session_reused();
            versions[i] = std::string(s.protocol_version());
            if (i == 0)
                ticket_before_read = s.session_ticket_received();
            reader r{s};
            r.start();
            CO_CHECK_OK(write_all(s, "echo me\n"));
            CO_CHECK(eventually([&] { return r.got("echo me\n"); }));
            if (i == 0) {
                CO_CHECK(eventually([&] { return s.session_ticket_received(); }));
                ticket_after_read = s.session_ticket_received();
                saved = s.get_session();
            }
            co_await s.async_shutdown(shutdown_type::both, awaitable);
            CO_CHECK(eventually([&] { return r.done; }));
        }
    });
    BOOST_TEST(finished);
    BOOST_TEST(versions[0] == "TLSv1.3");
    BOOST_TEST(versions[1] == "TLSv1.3");
    BOOST_TEST(!ticket_before_read); // nothing to save right after the handshake
    BOOST_TEST(ticket_after_read);
    BOOST_TEST(!saved.empty());
    BOOST_TEST(!reused[0]);
    BOOST_TEST(reused[1]);
    BOOST_TEST(contains(server.peer->output(), "This is a resumed session"));
}

// =============================================================================================
// tlsx server
// =============================================================================================

// s_client pinned to TLS 1.3: data both ways, verification, close_notify from tlsx answered.
BOOST_AUTO_TEST_CASE(server_openssl_s_client_data_both_ways_and_close) {
    if (!have("openssl"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    peer_process client(s_client_args(server, files, {"-tls1_3"}));
    output_on_failure dump("s_client", [&] { return client.output(); });
    std::unique_ptr<tcp_stream> s;
    std::optional<reader> r;
    error_code sec = net::error::would_block;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        s = co_await server.accept();
        BOOST_TEST_REQUIRE(s);
        r.emplace(*s).start();
        client.write_stdin("hello from s_client over 1.3\n");
        CO_CHECK(eventually([&] { return r->got("hello from s_client over 1.3\n"); }));
        CO_CHECK_OK(write_all(*s, "hello from tlsx over 1.3\n"));
        CO_CHECK(shows(client, "hello from tlsx over 1.3"));
        std::tie(sec) = co_await s->async_shutdown(shutdown_type::both, awaitable);
        CO_CHECK(eventually([&] { return r->done; }));
    });
    BOOST_TEST(finished);
    BOOST_TEST(s->protocol_version() == "TLSv1.3");
    BOOST_TEST(contains(client.output(), "Verification: OK"));
    BOOST_TEST(contains(client.output(), "TLSv1.3"));
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(r->ec == net::error::eof, r->ec.message()); // s_client answered with "closed"
}

// A tlsx server that takes secp256r1 only; s_client sends its key share for X25519 first:
// the server asks for another with a HelloRetryRequest (s_client -msg writes two ClientHellos).
BOOST_AUTO_TEST_CASE(server_openssl_s_client_hello_retry_request) {
    if (!have("openssl"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    server.ctx.set_groups({"secp256r1"});
    peer_process client(
        s_client_args(server, files, {"-tls1_3", "-groups", "X25519:P-256", "-msg"}));
    output_on_failure dump("s_client", [&] { return client.output(); });
    std::unique_ptr<tcp_stream> s;
    std::optional<reader> r;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        s = co_await server.accept();
        BOOST_TEST_REQUIRE(s);
        r.emplace(*s).start();
        client.write_stdin("after a retry\n");
        CO_CHECK(eventually([&] { return r->got("after a retry\n"); }));
        co_await s->async_shutdown(shutdown_type::send, awaitable);
    });
    BOOST_TEST(finished);
    BOOST_TEST(count(client.output(), "ClientHello") == 2u);
    BOOST_TEST(s->protocol_version() == "TLSv1.3");
}

// s_client's `k` and `K` toward a tlsx server: its pending read takes the KeyUpdate in (and
// answers `K`), and data flows both ways under the new keys.
BOOST_AUTO_TEST_CASE(server_openssl_s_client_key_update_is_taken_in) {
    if (!have("openssl"))
        return;
    for (const char* command : {"k\n", "K\n"}) {
        BOOST_TEST_CONTEXT("s_client command " << command[0]) {
            credential_files files;
            net::io_context io;
            tlsx_server server(io, false);
            peer_process client(s_client_args(server, files, {"-tls1_3", "-state", "-msg"}));
            output_on_failure dump("s_client", [&] { return client.output(); });
            std::unique_ptr<tcp_stream> s;
            std::optional<reader> r;
            const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
                s = co_await server.accept();
                BOOST_TEST_REQUIRE(s);
                r.emplace(*s).start();
                client.write_stdin("before the update\n");
                CO_REQUIRE(eventually([&] { return r->got("before the update\n"); }));
                client.write_stdin(command);
                CO_CHECK(shows(client, "KEYUPDATE"));
                // s_client -msg: its KeyUpdate, and after `K` ours.
                CO_REQUIRE(shows(client, "KeyUpdate", command[0] == 'K' ? 2 : 1));
                client.write_stdin("after the update\n");
                CO_CHECK(eventually([&] { return r->got("after the update\n"); }));
                CO_CHECK_OK(write_all(*s, "from tlsx\n"));
                CO_CHECK(shows(client, "from tlsx"));
            });
            BOOST_TEST(finished);
            BOOST_TEST(!r->done, r->ec.message()); // the read goes on
            BOOST_TEST(s->get_engine().key_generation(true) == 1u);
            BOOST_TEST(s->get_engine().key_generation(false) == (command[0] == 'K' ? 1u : 0u));
        }
    }
}

// s_client -sess_out, then -sess_in: the second connection resumes by the tlsx server's TLS
// 1.3 ticket (s_client: "Reused, TLSv1.3"; the server: session_reused()).
BOOST_AUTO_TEST_CASE(server_openssl_s_client_resumes_by_ticket) {
    if (!have("openssl"))
        return;
    credential_files files;
    const std::string sess = (files.dir.path() / "session.pem").string();
    net::io_context io;
    tlsx_server server(io, false);
    std::vector<bool> reused;
    std::string outputs[2];
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            std::vector<std::string> extra{"-tls1_3", i == 0 ? "-sess_out" : "-sess_in", sess};
            peer_process client(s_client_args(server, files, extra));
            output_on_failure dump("s_client", [&] { return client.output(); });
            auto s = co_await server.accept();
            BOOST_TEST_REQUIRE(s);
            reused.push_back(s->session_reused());
            reader r{*s};
            r.start();
            // A line both ways, so that s_client has read the ticket before it leaves.
            client.write_stdin("ping\n");
            CO_CHECK(eventually([&] { return r.got("ping\n"); }));
            CO_CHECK_OK(write_all(*s, "pong\n"));
            CO_CHECK(shows(client, "pong"));
            client.close_stdin();
            CO_CHECK(eventually([&] { return r.done; }));
            co_await s->async_shutdown(awaitable);
            error_code ignored;
            s->next_layer().close(ignored);
            CO_CHECK(exits(client));
            outputs[i] = client.output();
        }
    });
    BOOST_TEST(finished);
    BOOST_TEST(contains(outputs[0], "New, TLSv1.3"));
    BOOST_TEST(contains(outputs[1], "Reused, TLSv1.3"));
    BOOST_TEST_REQUIRE(reused.size() == 2u);
    BOOST_TEST(!reused[0]);
    BOOST_TEST(reused[1]);
}

// gnutls-cli pinned to TLS 1.3: data both ways; on stdin EOF it sends close_notify and waits
// for ours.
BOOST_AUTO_TEST_CASE(server_gnutls_cli_data_both_ways_and_close) {
    if (!have("gnutls-cli"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    peer_process client(gnutls_cli_args(server, files, {"--priority", gnutls_tls13}));
    output_on_failure dump("gnutls-cli", [&] { return client.output(); });
    std::unique_ptr<tcp_stream> s;
    std::optional<reader> r;
    error_code sec = net::error::would_block;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        s = co_await server.accept();
        BOOST_TEST_REQUIRE(s);
        r.emplace(*s).start();
        client.write_stdin("hello from gnutls-cli\n");
        CO_REQUIRE(eventually([&] { return r->got("hello from gnutls-cli\n"); }));
        CO_CHECK_OK(write_all(*s, "hello from tlsx\n"));
        CO_CHECK(shows(client, "hello from tlsx"));
        client.close_stdin();
        CO_CHECK(eventually([&] { return r->done; }));
        std::tie(sec) = co_await s->async_shutdown(shutdown_type::both, awaitable);
        CO_CHECK(exits(client));
    });
    BOOST_TEST(finished);
    BOOST_TEST(s->protocol_version() == "TLSv1.3");
    BOOST_TEST(contains(client.output(), "TLS1.3"));
    BOOST_TEST(r->ec == net::error::eof, r->ec.message());
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(contains(client.output(), "Peer has closed the GnuTLS connection"));
}

// gnutls-cli --resume: the second connection resumes by the tlsx server's TLS 1.3 ticket (it
// waits for the NewSessionTicket before reconnecting).
BOOST_AUTO_TEST_CASE(server_gnutls_cli_resumes_by_ticket) {
    if (!have("gnutls-cli"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    check_gnutls_cli_resumes(io, server, files, {"--priority", gnutls_tls13});
}

// curl pinned to TLS 1.3 fetches a page.
BOOST_AUTO_TEST_CASE(server_curl_fetches_a_page) {
    if (!have("curl"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    server.ctx.set_alpn_protocols({"http/1.1"});
    const std::string url = "https://localhost:" + std::to_string(server.port()) + "/page";
    peer_process client({"curl", "--silent", "--show-error", "--max-time", "15", "--tlsv1.3",
                         "--tls-max", "1.3", "--cacert", files.ca, url});
    output_on_failure dump("curl", [&] { return client.output(); });
    std::string version, request;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto s = co_await server.accept();
        BOOST_TEST_REQUIRE(s);
        version = std::string(s->protocol_version());
        auto [rec, n] =
            co_await net::async_read_until(*s, net::dynamic_buffer(request), "\r\n\r\n", awaitable);
        BOOST_TEST_REQUIRE(!rec, rec.message());
        const std::string response =
            "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nserved by 1.3";
        CO_CHECK_OK(write_all(*s, response));
        co_await s->async_shutdown(awaitable);
        CO_CHECK(exits(client));
    });
    BOOST_TEST(finished);
    BOOST_TEST(version == "TLSv1.3");
    BOOST_TEST(request.substr(0, request.find("\r\n")) == "GET /page HTTP/1.1");
    BOOST_TEST(client.output() == "served by 1.3");
}

BOOST_AUTO_TEST_SUITE_END()
