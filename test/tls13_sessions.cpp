// TLS 1.3 resumption: tickets arrive after the handshake, in what reads (and writes) meet; they
// are taken in, never reported as errors, never cost application data. get_session() has the
// session of the latest ticket, none before; a TLS 1.3 session is offered once; a server sends
// set_tickets_per_handshake(n) tickets. A saved TLS 1.2 session still resumes TLS 1.2.
//
// The engine tests drive two engines back to back, so that what is in flight is exact: after
// engine_pair::handshake() the server's tickets wait, unread, in the client's input queue.
#include <tlsx/engine.hpp>
#include <tlsx/mbedtls.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/engine_pair.hpp"
#include "support/interop.hpp"
#include "support/run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::engine_pair;
using tlsx_test::take_output;

namespace {

/// Skips its test unit where the backend has no TLS 1.3 (mbedTLS 2.28), naming why.
const backend::needs_tls13 needs_tls13{
    "its tickets come after the handshake; 2.28's TLS 1.2 tickets are tested in the session suite"};

/// Split a flight of ciphertext into its TLS records (5-byte header + length).
std::vector<std::string> records(const std::string& flight) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at + 5 <= flight.size()) {
        std::size_t len = (static_cast<unsigned char>(flight[at + 3]) << 8) |
                          static_cast<unsigned char>(flight[at + 4]);
        out.push_back(flight.substr(at, 5 + len));
        at += 5 + len;
    }
    BOOST_REQUIRE_EQUAL(at, flight.size());
    return out;
}

void put(tlsx::engine& to, const std::string& bytes) {
    BOOST_REQUIRE_EQUAL(to.put_input(net::buffer(bytes)), bytes.size());
}

/** Both handshakes, with nothing of the server's after the client's end delivered: the
    server's tickets (its last flight) are left in its output queue. */
void handshake_keeping_tickets(engine_pair& p) {
    for (int i = 0; i < 1000 && !(p.client.handshake_done() && p.server.handshake_done()); ++i) {
        auto rc = p.client.handshake(tlsx::stream_base::client);
        BOOST_REQUIRE_MESSAGE(!rc.ec, rc.ec.message());
        p.pump(p.client, p.server, p.client_to_server);
        auto rs = p.server.handshake(tlsx::stream_base::server);
        BOOST_REQUIRE_MESSAGE(!rs.ec, rs.ec.message());
        if (!p.client.handshake_done())
            p.pump(p.server, p.client, p.server_to_client);
    }
    BOOST_REQUIRE(p.client.handshake_done() && p.server.handshake_done());
}

/// Read what the client has (no data expected): taking tickets in ends as want::input.
void client_reads_nothing(engine_pair& p) {
    char buf[64];
    auto r = p.client.read(net::buffer(buf));
    BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
    BOOST_TEST(r.bytes == 0u);
    BOOST_TEST((r.next == tlsx::engine::want::input));
}

/// Send `data` from the server and read it at the client (one read: it must all come back).
void server_sends(engine_pair& p, const std::string& data) {
    auto w = p.server.write(net::buffer(data));
    BOOST_REQUIRE(!w.ec);
    BOOST_REQUIRE_EQUAL(w.bytes, data.size());
    p.pump_all();
    std::string buf(data.size() + 100, '\0');
    auto r = p.client.read(net::buffer(buf));
    BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
    BOOST_TEST(buf.substr(0, r.bytes) == data);
}

/// A new client engine offering `s`; returns whether both ends resumed (and checks they agree).
bool resumes(tlsx_test::context_pair& ctx, const tlsx::session& s,
             const char* version = "TLSv1.3") {
    engine_pair p(ctx.client, ctx.server);
    p.client.set_session(s);
    BOOST_REQUIRE(!p.handshake());
    BOOST_TEST(p.client.protocol_version() == version);
    BOOST_TEST(p.client.session_reused() == p.server.session_reused());
    return p.client.session_reused();
}

using tls_stream = tlsx::stream<tlsx::test::pipe>;

} // namespace

BOOST_AUTO_TEST_SUITE(tls13_sessions)

BOOST_AUTO_TEST_CASE(get_session_is_empty_before_the_ticket,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    engine_pair p(ctx.client, ctx.server);
    BOOST_REQUIRE(!p.handshake()); // the tickets wait in the client's input, unread
    BOOST_TEST(p.client.protocol_version() == "TLSv1.3");
    BOOST_TEST(p.client.input_size() > 0u);
    BOOST_TEST(!p.client.session_ticket_received());
    BOOST_TEST(p.client.get_session().empty());
    BOOST_TEST(!p.client.session_reused());
    BOOST_TEST(!p.server.session_reused());
    BOOST_TEST(!p.server.session_ticket_received()); // a server receives none
    BOOST_TEST(p.server.get_session().empty());
}

BOOST_AUTO_TEST_CASE(a_ticket_before_data_in_one_flight_costs_no_data_and_no_error,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    engine_pair p(ctx.client, ctx.server);
    BOOST_REQUIRE(!p.handshake());
    const std::string data = tlsx_test::pattern(3000);
    auto w = p.server.write(net::buffer(data));
    BOOST_REQUIRE(!w.ec);
    p.pump_all(); // the client's input: NewSessionTicket x2, then the data
    std::string buf(4000, '\0');
    auto r = p.client.read(net::buffer(buf));
    BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
    BOOST_TEST((r.next == tlsx::engine::want::nothing));
    BOOST_TEST(buf.substr(0, r.bytes) == data); // all of it, from this one read
    BOOST_TEST(p.client.session_ticket_received());
    tlsx::session s = p.client.get_session();
    BOOST_TEST(!s.empty());
    // Each call returns the latest ticket's session, not only the first (mbedTLS exports once).
    BOOST_TEST(p.client.get_session().to_bytes() == s.to_bytes());
    BOOST_TEST(resumes(ctx, s));
}

BOOST_AUTO_TEST_CASE(a_ticket_alone_is_taken_in_and_the_read_waits_for_data,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    engine_pair p(ctx.client, ctx.server);
    BOOST_REQUIRE(!p.handshake());
    client_reads_nothing(p); // tickets only: no data, no error, wants input
    BOOST_TEST(p.client.session_ticket_received());
    BOOST_TEST(!p.client.get_session().empty());
    server_sends(p, "after the tickets");
}

BOOST_AUTO_TEST_CASE(a_write_that_meets_a_ticket_takes_it_in,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    engine_pair p(ctx.client, ctx.server);
    BOOST_REQUIRE(!p.handshake());
    // An mbedTLS read of its own (through native_handle) stops at the first ticket, half taken
    // in; the next mbedTLS call, here the engine's write, finishes it.
    unsigned char buf[64];
    BOOST_REQUIRE_EQUAL(mbedtls_ssl_read(p.client.native_handle(), buf, sizeof buf),
                        MBEDTLS_ERR_SSL_WANT_READ);
    BOOST_TEST(!p.client.session_ticket_received());
    const std::string data = "written past a ticket";
    auto w = p.client.write(net::buffer(data));
    BOOST_REQUIRE_MESSAGE(!w.ec, w.ec.message());
    BOOST_TEST(w.bytes == data.size());
    BOOST_TEST(p.client.session_ticket_received());
    BOOST_TEST(!p.client.get_session().empty());
    p.pump_all();
    std::string got(100, '\0');
    auto r = p.server.read(net::buffer(got));
    BOOST_REQUIRE(!r.ec);
    BOOST_TEST(got.substr(0, r.bytes) == data);
    client_reads_nothing(p); // the second ticket, by a read
}

BOOST_AUTO_TEST_CASE(resumption_is_tls13_and_both_ends_say_so,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    tlsx::session s;
    {
        engine_pair first(ctx.client, ctx.server);
        BOOST_REQUIRE(!first.handshake());
        BOOST_TEST(!first.client.session_reused());
        BOOST_TEST(!first.server.session_reused());
        server_sends(first, "x");
        s = first.client.get_session();
        BOOST_REQUIRE(!s.empty());
    }
    engine_pair second(ctx.client, ctx.server);
    second.client.set_session(tlsx::session::from_bytes(s.to_bytes()));
    BOOST_REQUIRE(!second.handshake());
    BOOST_TEST(second.client.session_reused());
    BOOST_TEST(second.server.session_reused());
    BOOST_TEST(second.client.protocol_version() == "TLSv1.3");
    BOOST_TEST(second.server.protocol_version() == "TLSv1.3");
    BOOST_TEST(second.client.cipher_suite() == second.server.cipher_suite());
}

BOOST_AUTO_TEST_CASE(a_session_is_offered_once_and_a_later_ticket_resumes,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    tlsx::session s;
    {
        engine_pair first(ctx.client, ctx.server);
        BOOST_REQUIRE(!first.handshake());
        server_sends(first, "x");
        s = first.client.get_session();
        BOOST_REQUIRE(!s.empty());
    }
    tlsx::session later;
    {
        engine_pair second(ctx.client, ctx.server);
        second.client.set_session(s);
        BOOST_REQUIRE(!second.handshake());
        BOOST_REQUIRE(second.client.session_reused());
        // The session resumed with is not handed back: none until the server's new ticket.
        BOOST_TEST(second.client.get_session().empty());
        BOOST_TEST(!second.client.session_ticket_received());
        server_sends(second, "y"); // mbedTLS sends one ticket after a resumption
        BOOST_TEST(second.client.session_ticket_received());
        later = second.client.get_session();
        BOOST_REQUIRE(!later.empty());
        BOOST_TEST(later.to_bytes() != s.to_bytes());
    }
    // The same session (a copy of it) again: not offered, a full handshake.
    tlsx::session copy = s;
    BOOST_TEST(!resumes(ctx, copy));
    // The later ticket's session resumes.
    BOOST_TEST(resumes(ctx, later));
}

BOOST_AUTO_TEST_CASE(three_tickets_per_handshake_resume_three_times,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    ctx.server.set_tickets_per_handshake(3);
    engine_pair p(ctx.client, ctx.server);
    handshake_keeping_tickets(p);
    auto tickets = records(take_output(p.server));
    BOOST_REQUIRE_EQUAL(tickets.size(), 3u); // one record per NewSessionTicket
    std::vector<tlsx::session> saved;
    for (const auto& t : tickets) {
        put(p.client, t);
        client_reads_nothing(p);
        BOOST_TEST(p.client.session_ticket_received());
        saved.push_back(p.client.get_session()); // each after its ticket
        BOOST_REQUIRE(!saved.back().empty());
        if (saved.size() > 1)
            BOOST_TEST(saved.back().to_bytes() != saved[saved.size() - 2].to_bytes());
    }
    for (const auto& s : saved)
        BOOST_TEST(resumes(ctx, s));
}

BOOST_AUTO_TEST_CASE(by_default_a_server_sends_two_tickets,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    engine_pair p(ctx.client, ctx.server);
    handshake_keeping_tickets(p);
    BOOST_TEST(records(take_output(p.server)).size() == 2u);
}

BOOST_AUTO_TEST_CASE(no_tickets_per_handshake_means_no_session,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    ctx.server.set_tickets_per_handshake(0);
    engine_pair p(ctx.client, ctx.server);
    handshake_keeping_tickets(p);
    BOOST_TEST(!p.server.has_output()); // nothing after the handshake
    server_sends(p, "no ticket before this");
    BOOST_TEST(!p.client.session_ticket_received());
    BOOST_TEST(p.client.get_session().empty());
}

// The session-ID cache is TLS 1.2's: without tickets a TLS 1.3 client has nothing to resume.
BOOST_AUTO_TEST_CASE(the_session_cache_resumes_no_tls13_client,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    ctx.server.disable_session_tickets();
    ctx.server.enable_session_cache(10, std::chrono::minutes(5));
    engine_pair p(ctx.client, ctx.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_TEST(p.client.protocol_version() == "TLSv1.3");
    server_sends(p, "no ticket, no session ID resumption");
    BOOST_TEST(!p.client.session_ticket_received());
    BOOST_TEST(p.client.get_session().empty());
}

BOOST_AUTO_TEST_CASE(tickets_per_handshake_is_validated) {
    tlsx_test::context_pair ctx;
    BOOST_CHECK_NO_THROW(ctx.server.set_tickets_per_handshake(16));
    BOOST_CHECK_NO_THROW(ctx.server.set_tickets_per_handshake(0));
    try {
        ctx.server.set_tickets_per_handshake(17);
        BOOST_ERROR("17 tickets per handshake were accepted");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == tlsx::error::invalid_argument);
        BOOST_TEST(std::string(e.what()).find("set_tickets_per_handshake") != std::string::npos);
    }
    BOOST_CHECK_NO_THROW(ctx.client.set_tickets_per_handshake(1)); // no server role: nothing
}

BOOST_AUTO_TEST_CASE(a_saved_tls12_session_resumes_tls12_under_a_tls13_client,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    tlsx::context old_client{tlsx::context::tls_client};
    old_client.add_certificate_authority(net::buffer(ctx.credentials.certificate_pem));
    old_client.set_max_version(tlsx::tls_version::tls1_2);
    tlsx::session s12;
    {
        engine_pair p(old_client, ctx.server);
        BOOST_REQUIRE(!p.handshake());
        BOOST_TEST(p.client.protocol_version() == "TLSv1.2");
        BOOST_TEST(p.client.session_ticket_received()); // TLS 1.2: inside the handshake
        s12 = p.client.get_session();
        BOOST_REQUIRE(!s12.empty());
    }
    // ctx.client allows 1.2-1.3; with the 1.2 session it offers 1.2 only, and resumes.
    BOOST_TEST(resumes(ctx, s12, "TLSv1.2"));
    // TLS 1.2 sessions are not offered-once: the same one resumes again.
    BOOST_TEST(resumes(ctx, s12, "TLSv1.2"));
}

BOOST_AUTO_TEST_CASE(a_tls12_session_against_a_tls13_only_server,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    tlsx::context old_client{tlsx::context::tls_client};
    old_client.add_certificate_authority(net::buffer(ctx.credentials.certificate_pem));
    old_client.set_max_version(tlsx::tls_version::tls1_2);
    tlsx::session s12;
    {
        engine_pair p(old_client, ctx.server);
        BOOST_REQUIRE(!p.handshake());
        s12 = p.client.get_session();
        BOOST_REQUIRE(!s12.empty());
    }
    ctx.server.set_min_version(tlsx::tls_version::tls1_3);
    engine_pair p(ctx.client, ctx.server);
    p.client.set_session(s12);
    error_code ec = p.handshake();
    BOOST_TEST_MESSAGE("1.2 session, 1.3-only server: " << ec.message());
    BOOST_TEST(ec);
}

BOOST_AUTO_TEST_CASE(a_tls13_session_under_a_tls12_only_client,
                     *boost::unit_test::precondition(needs_tls13)) {
    tlsx_test::context_pair ctx;
    tlsx::session s13;
    {
        engine_pair p(ctx.client, ctx.server);
        BOOST_REQUIRE(!p.handshake());
        server_sends(p, "x");
        s13 = p.client.get_session();
        BOOST_REQUIRE(!s13.empty());
    }
    ctx.client.set_max_version(tlsx::tls_version::tls1_2);
    engine_pair p(ctx.client, ctx.server);
    p.client.set_session(s13);
    error_code ec = p.handshake();
    BOOST_TEST_MESSAGE("1.3 session, 1.2-only client: " << ec.message());
    BOOST_TEST(!ec);
    BOOST_TEST(p.client.protocol_version() == "TLSv1.2");
    BOOST_TEST(!p.client.session_reused());
}

// The same through streams: a read takes the tickets in with the data after them.
BOOST_AUTO_TEST_CASE(streams_take_tickets_in_reads_and_resume,
                     *boost::unit_test::precondition(needs_tls13)) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    auto run = [&](const tlsx::session& offer, tlsx::session& next, bool& client_reused,
                   bool& server_reused) {
        auto pipes = tlsx::test::make_pipe(io);
        tls_stream client(std::move(pipes.first), ctx.client);
        tls_stream server(std::move(pipes.second), ctx.server);
        client.set_server_name("localhost");
        client.set_session(offer);
        auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
        BOOST_REQUIRE_MESSAGE(!cec, cec.message());
        BOOST_REQUIRE_MESSAGE(!sec, sec.message());
        BOOST_TEST(client.protocol_version() == "TLSv1.3");
        BOOST_TEST(!client.session_ticket_received());
        BOOST_TEST(client.get_session().empty());
        client_reused = client.session_reused();
        server_reused = server.session_reused();
        std::string got(16, '\0');
        error_code wec, rec;
        std::size_t n = 0;
        net::async_write(server, net::buffer(std::string_view("hello")),
                         [&](error_code ec, std::size_t) { wec = ec; });
        client.async_read_some(net::buffer(got), [&](error_code ec, std::size_t k) {
            rec = ec;
            n = k;
        });
        BOOST_REQUIRE(tlsx_test::run_bounded(io));
        BOOST_REQUIRE_MESSAGE(!wec, wec.message());
        BOOST_REQUIRE_MESSAGE(!rec, rec.message());
        BOOST_TEST(got.substr(0, n) == "hello");
        BOOST_TEST(client.session_ticket_received());
        next = client.get_session();
        BOOST_TEST(!next.empty());
    };
    tlsx::session s1, s2;
    bool creused = true, sreused = true;
    run({}, s1, creused, sreused);
    BOOST_TEST(!creused);
    BOOST_TEST(!sreused);
    run(s1, s2, creused, sreused);
    BOOST_TEST(creused);
    BOOST_TEST(sreused);
}

// Against OpenSSL's server: its tickets (two after a full handshake) are taken in by the read
// of its -www status page, which says "New" or "Reused" and the version.
BOOST_AUTO_TEST_CASE(openssl_s_server_tickets_resume_once_each,
                     *boost::unit_test::precondition(needs_tls13)) {
    if (!tlsx_test::have("openssl"))
        return;
    tlsx_test::credential_files files;
    const unsigned short port = tlsx_test::free_port();
    tlsx_test::peer_process server({"openssl", "s_server", "-accept",
                                    "127.0.0.1:" + std::to_string(port), "-cert", files.cert,
                                    "-key", files.key, "-www", "-tls1_3"});
    BOOST_REQUIRE_MESSAGE(tlsx_test::wait_for_port(port), server.output());
    tlsx::context ctx{tlsx::context::tls_client};
    ctx.add_certificate_authority(net::buffer(tlsx_test::certs::ca_cert));
    using tcp_stream = tlsx::stream<net::ip::tcp::socket>;
    // One connection offering `offer`: the page's first status line, and the session after.
    auto fetch = [&](const tlsx::session& offer, std::string& status, tlsx::session& next,
                     bool& reused) {
        net::io_context io;
        const bool finished = tlsx_test::run_coroutine(
            io,
            [&]() -> net::awaitable<void> {
                constexpr auto tuple = net::as_tuple(net::use_awaitable);
                tcp_stream s(io, ctx);
                co_await s.next_layer().async_connect({net::ip::make_address("127.0.0.1"), port},
                                                      net::use_awaitable);
                s.set_server_name("localhost");
                s.set_session(offer);
                co_await s.async_handshake(tlsx::stream_base::client, net::use_awaitable);
                reused = s.session_reused();
                BOOST_TEST(s.protocol_version() == "TLSv1.3");
                BOOST_TEST(!s.session_ticket_received());
                co_await net::async_write(
                    s, net::buffer(std::string_view("GET / HTTP/1.0\r\n\r\n")), net::use_awaitable);
                std::string page;
                auto [ec, n] = co_await net::async_read(s, net::dynamic_buffer(page), tuple);
                BOOST_TEST((ec == net::error::eof || ec == tlsx::error::stream_truncated),
                           ec.message());
                for (const char* word : {"New, ", "Reused, "})
                    if (auto at = page.find(word); at != std::string::npos)
                        status = page.substr(at, page.find(',', at + std::strlen(word)) - at);
                BOOST_TEST(s.session_ticket_received());
                next = s.get_session();
            },
            std::chrono::seconds(30));
        BOOST_REQUIRE(finished);
    };
    std::string status;
    tlsx::session first, second, ignored;
    bool reused = true;
    fetch({}, status, first, reused);
    BOOST_TEST(status == "New, TLSv1.3");
    BOOST_TEST(!reused);
    BOOST_REQUIRE(!first.empty());
    fetch(first, status, second, reused);
    BOOST_TEST(status == "Reused, TLSv1.3");
    BOOST_TEST(reused);
    BOOST_REQUIRE(!second.empty());
    fetch(first, status, ignored, reused); // offered once: not again
    BOOST_TEST(status == "New, TLSv1.3");
    BOOST_TEST(!reused);
    fetch(second, status, ignored, reused); // the resumed connection's new ticket
    BOOST_TEST(status == "Reused, TLSv1.3");
    BOOST_TEST(reused);
}

BOOST_AUTO_TEST_SUITE_END()
