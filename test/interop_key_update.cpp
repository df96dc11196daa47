// TLS 1.3 key updates (RFC 8446 section 4.6.3) between tlsx and real peers over TCP loopback
// (mbedTLS 3.6 only), in both roles: the peer's KeyUpdate with and without update_requested
// (openssl s_server's and s_client's `k` / `K`, gnutls-cli's `^rekey1^` / `^rekey^`), tlsx's
// own key_update(request_peer) toward each peer, and a tlsx server's renegotiate(), which under
// TLS 1.3 is a key update asking the peer to update too (as gnutls_rehandshake does). Each
// scenario runs three rounds, so that keys move through several generations, and checks data
// both ways after every update; the peer's own report (openssl -msg, gnutls -d 4) says which
// KeyUpdate messages crossed the wire in each direction and with which request value.
//
// Test names: <tlsx role>_<peer>_<who updates>.
#include "support/lifecycle.hpp"

#include <string>
#include <vector>

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

const char* const gnutls_tls13 = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

/// Who updates, and how, in a scenario.
enum class update {
    peer_alone,       // the peer updates its keys only (k, ^rekey1^)
    peer_asks,        // the peer updates and asks tlsx to (K, ^rekey^)
    tlsx_alone,       // key_update(false)
    tlsx_asks,        // key_update(true)
    tlsx_renegotiates // renegotiate() on a TLS 1.3 server
};

constexpr int rounds = 3;

/// The KeyUpdate messages an OpenSSL peer's -msg output shows: the request value (0 or 1) of
/// each that it sent (">>>") or received ("<<<"), in order.
struct openssl_updates {
    std::vector<int> sent, received;
};

openssl_updates parse_openssl_msg(const std::string& out) {
    openssl_updates u;
    std::size_t at = 0;
    while ((at = out.find("KeyUpdate", at)) != std::string::npos) {
        const std::size_t line = out.rfind('\n', at) + 1; // npos + 1 == 0
        const std::size_t end = out.find('\n', at);
        const std::size_t next_end = end == std::string::npos ? end : out.find('\n', end + 1);
        // The next line is the message in hex: "18 00 00 01 0v".
        const std::string hex =
            end == std::string::npos ? std::string() : out.substr(end + 1, next_end - end - 1);
        const std::size_t v = hex.find("18 00 00 01 0");
        if (v != std::string::npos) {
            const int value = hex[v + 13] - '0';
            if (out.compare(line, 3, ">>>") == 0)
                u.sent.push_back(value);
            else if (out.compare(line, 3, "<<<") == 0)
                u.received.push_back(value);
        }
        at = end == std::string::npos ? out.size() : end;
    }
    return u;
}

/// What the peer must have sent and received over `rounds` rounds of `how`.
openssl_updates expected(update how) {
    const std::vector<int> none, zeros(rounds, 0), ones(rounds, 1);
    switch (how) {
    case update::peer_alone:
        return {zeros, none};
    case update::peer_asks:
        return {ones, zeros}; // tlsx answers each with update_not_requested
    case update::tlsx_alone:
        return {none, zeros};
    case update::tlsx_asks:
    case update::tlsx_renegotiates:
        return {zeros, ones}; // the peer answers each
    }
    return {};
}

/// One round: tlsx's own update if `how` is one of tlsx's (the peer's was started by the
/// caller), then data both ways under the new keys.
net::awaitable<void> tlsx_update(tcp_stream& s, update how) {
    if (how == update::tlsx_alone || how == update::tlsx_asks) {
        auto [ec] = co_await s.async_key_update(how == update::tlsx_asks, awaitable);
        BOOST_TEST(!ec, "async_key_update: " << ec.message());
    } else if (how == update::tlsx_renegotiates) {
        auto [ec] = co_await s.async_renegotiate(awaitable);
        BOOST_TEST(!ec, "async_renegotiate: " << ec.message());
    }
}

/// `rounds` rounds of `how` between the tlsx stream `s` (read by `r`) and `peer`, whose stdin
/// takes `peer_alone` / `peer_asks` as its command lines; each followed by data both ways.
net::awaitable<void> run_rounds(tcp_stream& s, reader& r, peer_process& peer, update how,
                                const char* peer_alone, const char* peer_asks) {
    for (int i = 0; i < rounds; ++i) {
        if (how == update::peer_alone)
            peer.write_stdin(peer_alone);
        else if (how == update::peer_asks)
            peer.write_stdin(peer_asks);
        co_await tlsx_update(s, how);
        const std::string mine = "from tlsx after update " + std::to_string(i) + "\n";
        const std::string theirs = "from the peer after update " + std::to_string(i) + "\n";
        CO_CHECK_OK(write_all(s, mine));
        CO_REQUIRE(shows(peer, mine));
        peer.write_stdin(theirs);
        CO_REQUIRE(eventually([&] { return r.got(theirs); }));
    }
}

void check_openssl_saw(const peer_process& peer, update how) {
    const openssl_updates got = parse_openssl_msg(peer.output());
    const openssl_updates want = expected(how);
    BOOST_TEST_CONTEXT("the KeyUpdate messages the peer sent (request values)") {
        BOOST_TEST(got.sent == want.sent, boost::test_tools::per_element());
    }
    BOOST_TEST_CONTEXT("the KeyUpdate messages the peer received (request values)") {
        BOOST_TEST(got.received == want.received, boost::test_tools::per_element());
    }
}

/// A tlsx client toward `openssl s_server -tls1_3 -msg`.
void client_toward_s_server(update how) {
    if (!have("openssl"))
        return;
    credential_files files;
    const unsigned short port = tlsx_test::free_port();
    auto server = start_s_server(files, port, {"-tls1_3", "-msg"});
    output_on_failure dump("s_server", [&] { return server->output(); });
    net::io_context io;
    client_context cctx(false);
    tcp_stream s(io, cctx.ctx);
    reader r{s};
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto hec = co_await connect_and_handshake(s, port);
        BOOST_TEST_REQUIRE(!hec, hec.message());
        BOOST_TEST_REQUIRE(s.protocol_version() == "TLSv1.3");
        r.start();
        co_await run_rounds(s, r, *server, how, "k\n", "K\n");
        co_await s.async_shutdown(shutdown_type::send, awaitable);
    });
    BOOST_TEST(finished);
    BOOST_TEST(!r.done, "the read ended: " << r.ec.message());
    check_openssl_saw(*server, how);
}

/// A tlsx server toward `openssl s_client -tls1_3 -msg`.
void server_toward_s_client(update how) {
    if (!have("openssl"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    peer_process client(s_client_args(server, files, {"-tls1_3", "-msg"}));
    output_on_failure dump("s_client", [&] { return client.output(); });
    std::unique_ptr<tcp_stream> s;
    std::optional<reader> r;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        s = co_await server.accept();
        BOOST_TEST_REQUIRE(s);
        BOOST_TEST_REQUIRE(s->protocol_version() == "TLSv1.3");
        r.emplace(*s).start();
        co_await run_rounds(*s, *r, client, how, "k\n", "K\n");
        co_await s->async_shutdown(shutdown_type::send, awaitable);
    });
    BOOST_TEST(finished);
    BOOST_TEST(!r->done, "the read ended: " << r->ec.message());
    check_openssl_saw(client, how);
}

/// A tlsx server toward `gnutls-cli --inline-commands -d 4` (its log names every KeyUpdate it
/// receives: "received TLS 1.3 key update (v)", and sends: "sending key update (v)").
void server_toward_gnutls_cli(update how) {
    if (!have("gnutls-cli"))
        return;
    credential_files files;
    net::io_context io;
    tlsx_server server(io, false);
    peer_process client(gnutls_cli_args(
        server, files, {"--priority", gnutls_tls13, "--inline-commands", "-d", "4"}));
    output_on_failure dump("gnutls-cli", [&] { return client.output(); });
    std::unique_ptr<tcp_stream> s;
    std::optional<reader> r;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        s = co_await server.accept();
        BOOST_TEST_REQUIRE(s);
        r.emplace(*s).start();
        co_await run_rounds(*s, *r, client, how, "^rekey1^\n", "^rekey^\n");
        client.close_stdin();
        CO_CHECK(eventually([&] { return r->done; }));
        co_await s->async_shutdown(shutdown_type::both, awaitable);
        CO_CHECK(exits(client));
    });
    BOOST_TEST(finished);
    BOOST_TEST(r->ec == net::error::eof, r->ec.message());
    const std::string out = client.output();
    const auto received = [&](int v) {
        return count(out, "received TLS 1.3 key update (" + std::to_string(v) + ")");
    };
    const auto sent = [&](int v) {
        return count(out, "sending key update (" + std::to_string(v) + ")");
    };
    switch (how) {
    case update::peer_alone:
        BOOST_TEST(sent(0) == std::size_t(rounds));
        BOOST_TEST(received(0) + received(1) == 0u);
        BOOST_TEST(count(out, "Rekey was completed") == std::size_t(rounds));
        break;
    case update::peer_asks:
        BOOST_TEST(sent(1) == std::size_t(rounds));
        BOOST_TEST(received(0) == std::size_t(rounds)); // tlsx answered each
        BOOST_TEST(received(1) == 0u);
        break;
    default: // tlsx asks (key_update(true) or renegotiate()): gnutls answers each
        BOOST_TEST(received(1) == std::size_t(rounds));
        BOOST_TEST(sent(0) == std::size_t(rounds));
        break;
    }
}

/// A tlsx client toward `gnutls-serv --echo -d 4`: tlsx updates, the echo goes on.
void client_toward_gnutls_serv(update how) {
    if (!have("gnutls-serv"))
        return;
    credential_files files;
    gnutls_echo_server server(files, {"--priority", gnutls_tls13, "-d", "4"});
    output_on_failure dump("gnutls-serv", [&] { return server.peer->output(); });
    net::io_context io;
    client_context cctx(false);
    tcp_stream s(server.lo.socket(io), cctx.ctx);
    reader r{s};
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        auto hec = co_await server.connect(s);
        BOOST_TEST_REQUIRE(!hec, hec.message());
        r.start();
        for (int i = 0; i < rounds; ++i) {
            co_await tlsx_update(s, how);
            const std::string line = "echoed after update " + std::to_string(i) + "\n";
            CO_CHECK_OK(write_all(s, line));
            CO_REQUIRE(eventually([&] { return r.got(line); }));
        }
        co_await s.async_shutdown(shutdown_type::both, awaitable);
        CO_CHECK(eventually([&] { return r.done; }));
    });
    BOOST_TEST(finished);
    BOOST_TEST(r.ec == net::error::eof, r.ec.message());
    const std::string out = server.peer->output();
    const int asked = how == update::tlsx_asks ? 1 : 0;
    BOOST_TEST(count(out, "received TLS 1.3 key update (" + std::to_string(asked) + ")") ==
               std::size_t(rounds));
    BOOST_TEST(count(out, "sending key update (0)") == std::size_t(asked ? rounds : 0));
}

} // namespace

BOOST_AUTO_TEST_SUITE(interop_key_update, *boost::unit_test::precondition(backend::needs_tls13{
                                              "key update needs TLS 1.3 (mbedTLS 3.6)"}))

BOOST_AUTO_TEST_CASE(client_openssl_s_server_peer_updates_alone) {
    client_toward_s_server(update::peer_alone);
}
BOOST_AUTO_TEST_CASE(client_openssl_s_server_peer_asks_tlsx_to_update) {
    client_toward_s_server(update::peer_asks);
}
BOOST_AUTO_TEST_CASE(client_openssl_s_server_tlsx_updates_alone) {
    client_toward_s_server(update::tlsx_alone);
}
BOOST_AUTO_TEST_CASE(client_openssl_s_server_tlsx_asks_the_peer_to_update) {
    client_toward_s_server(update::tlsx_asks);
}

BOOST_AUTO_TEST_CASE(server_openssl_s_client_peer_updates_alone) {
    server_toward_s_client(update::peer_alone);
}
BOOST_AUTO_TEST_CASE(server_openssl_s_client_peer_asks_tlsx_to_update) {
    server_toward_s_client(update::peer_asks);
}
BOOST_AUTO_TEST_CASE(server_openssl_s_client_tlsx_updates_alone) {
    server_toward_s_client(update::tlsx_alone);
}
BOOST_AUTO_TEST_CASE(server_openssl_s_client_tlsx_asks_the_peer_to_update) {
    server_toward_s_client(update::tlsx_asks);
}
BOOST_AUTO_TEST_CASE(server_openssl_s_client_tlsx_renegotiates) {
    server_toward_s_client(update::tlsx_renegotiates);
}

BOOST_AUTO_TEST_CASE(server_gnutls_cli_peer_updates_alone) {
    server_toward_gnutls_cli(update::peer_alone);
}
BOOST_AUTO_TEST_CASE(server_gnutls_cli_peer_asks_tlsx_to_update) {
    server_toward_gnutls_cli(update::peer_asks);
}
BOOST_AUTO_TEST_CASE(server_gnutls_cli_tlsx_renegotiates) {
    server_toward_gnutls_cli(update::tlsx_renegotiates);
}

BOOST_AUTO_TEST_CASE(client_gnutls_serv_tlsx_updates_alone) {
    client_toward_gnutls_serv(update::tlsx_alone);
}
BOOST_AUTO_TEST_CASE(client_gnutls_serv_tlsx_asks_the_peer_to_update) {
    client_toward_gnutls_serv(update::tlsx_asks);
}

BOOST_AUTO_TEST_SUITE_END()
