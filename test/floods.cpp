//
// test/floods.cpp — a peer cannot make tlsx spend unbounded CPU or memory (issue 14 item 5):
// floods of empty records, warning alerts, HelloRequests, TLS 1.3 ChangeCipherSpec records and
// NewSessionTickets are cut off after flood_guard's bound (docs/security.md "Floods"), 1-byte
// records are progress, and a peer writing faster than the application reads is held at one
// record. Engine level: the flooding peer is a real engine driven through its mbedTLS handle
// (mbedtls_ssl_write of 0 bytes writes an empty record, mbedtls_ssl_send_alert_message a
// warning alert, mbedtls_ssl_renegotiate on a server a HelloRequest), or records crafted in
// clear before the keys and under TLS 1.3 traffic keys (support/tls13_records.hpp).
//
#include <tlsx/engine.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "flood_guard.hpp"
#include "support/engine_pair.hpp"
#include "support/run.hpp"
#include "support/tls13_records.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <mbedtls/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using tlsx_test::engine_pair;
using tlsx_test::take_output;
using want = tlsx::engine::want;

namespace {

namespace ut = boost::unit_test;

const auto with_tls13 =
    ut::precondition(backend::needs_tls13{"TLS 1.3 tickets and records need mbedTLS 3.6"});

constexpr int bound = static_cast<int>(tlsx::detail::flood_guard::max_ignored_records);

/// An established pair; the server sends no tickets (they would count against the bound), so
/// that every record a test sends is one it counts.
struct established {
    tlsx_test::context_pair c;
    tlsx_test::key_log server_keys;
    tlsx_test::key_log client_keys;
    std::unique_ptr<engine_pair> p;

    explicit established(bool tls12) {
        if (tls12) {
            backend::tls12_only(c.client);
        } else {
            c.client.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
            c.server.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        }
        c.server.disable_session_tickets();
        c.server.set_keylog_callback([this](std::string_view l) { server_keys.add(l); });
        c.client.set_keylog_callback([this](std::string_view l) { client_keys.add(l); });
        p = std::make_unique<engine_pair>(c.client, c.server);
        BOOST_REQUIRE(!p->handshake());
        BOOST_REQUIRE(!p->server.has_output());
    }
};

struct read_outcome {
    std::string data;
    tlsx::error_code ec;
};

/// Feed `wire` to `e` (as much as fits, then read, and again) and read until it wants input.
read_outcome feed_and_read(tlsx::engine& e, const std::string& wire) {
    read_outcome out;
    std::size_t fed = 0;
    char buf[4096];
    for (int turns = 0; turns < 100000; ++turns) {
        fed += e.put_input(boost::asio::buffer(wire.data() + fed, wire.size() - fed));
        auto r = e.read(boost::asio::buffer(buf));
        if (r.ec) {
            out.ec = r.ec;
            return out;
        }
        if (r.next == want::nothing) {
            out.data.append(buf, r.bytes);
            continue;
        }
        if (fed == wire.size())
            return out;
    }
    out.ec = boost::asio::error::timed_out;
    return out;
}

/// The fatal alert `from` sent, as the peer `to` reads it (an alert received is named by its
/// number in alert_category): the alert on the wire, decrypted by the real peer.
tlsx::error_code alert_seen_by_peer(tlsx::engine& from, tlsx::engine& to) {
    const std::string wire = take_output(from);
    BOOST_TEST_REQUIRE(!wire.empty());
    return feed_and_read(to, wire).ec;
}

/// The server's engine writes records through its mbedTLS session (the flooding peer).
struct flooder {
    tlsx::engine& e;

    void empty_record() {
        unsigned char none = 0;
        BOOST_REQUIRE(mbedtls_ssl_write(e.native_handle(), &none, 0) == 0);
    }
    void warning_alert() { // user_canceled: mbedTLS ignores warning alerts
        BOOST_REQUIRE(mbedtls_ssl_send_alert_message(e.native_handle(),
                                                     MBEDTLS_SSL_ALERT_LEVEL_WARNING, 90) == 0);
    }
    void hello_request() { BOOST_REQUIRE(mbedtls_ssl_renegotiate(e.native_handle()) == 0); }
    void data(const std::string& s) { // past tlsx's own state machine, as the rest
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        BOOST_REQUIRE(mbedtls_ssl_write(e.native_handle(), p, s.size()) ==
                      static_cast<int>(s.size()));
    }
};

const tlsx::error_code flood_error = tlsx::error::too_many_ignored_records;
const tlsx::error_code unexpected_message_alert(10, tlsx::alert_category());

/// `n` ignored records made by `one` (a flooder step), then "data": delivered up to the bound;
/// past it, the client fails with too_many_ignored_records and the unexpected_message alert.
void check_bound(bool tls12, void (*one)(flooder&, int), bool refusals = false) {
    for (int n : {bound, bound + 1}) {
        BOOST_TEST_CONTEXT(n << " ignored records") {
            established s(tls12);
            flooder f{s.p->server};
            for (int i = 0; i < n; ++i)
                one(f, i);
            f.data("data");
            read_outcome r = feed_and_read(s.p->client, take_output(s.p->server));
            if (n <= bound) {
                BOOST_TEST(!r.ec, r.ec.message());
                BOOST_TEST(r.data == "data");
            } else {
                BOOST_TEST(r.ec == flood_error, r.ec.message());
                BOOST_TEST(r.data.empty());
                BOOST_TEST(s.p->client.failed());
                if (!refusals) {
                    BOOST_TEST(alert_seen_by_peer(s.p->client, s.p->server) ==
                               unexpected_message_alert);
                    continue;
                }
                // Each HelloRequest taken cost a no_renegotiation warning; then the fatal alert.
                // (The flooding server's own guard would stop at those warnings: count them.)
                const std::string out = take_output(s.p->client);
                std::size_t records = 0, at = 0;
                while (at + 5 <= out.size()) {
                    BOOST_TEST(out[at] == '\x15'); // every record an alert
                    at += 5 + (std::size_t(static_cast<unsigned char>(out[at + 3])) << 8 |
                               static_cast<unsigned char>(out[at + 4]));
                    ++records;
                }
                BOOST_TEST(at == out.size());
                BOOST_TEST(records == std::size_t(n) + 1);
            }
        }
    }
}

/// A ClientHello of `client`'s first flight.
std::string client_hello(tlsx::engine& client) {
    auto r = client.handshake(tlsx::stream_base::client);
    BOOST_REQUIRE(!r.ec);
    return take_output(client);
}

/// A TLS 1.3 NewSessionTicket message (RFC 8446 4.6.1) with a 16-byte ticket.
std::string new_session_ticket(int i) {
    std::string body;
    body += std::string("\x00\x00\x0e\x10", 4);            // lifetime 3600 s
    body += std::string("\x01\x02\x03\x04", 4);            // age_add
    body += std::string("\x01", 1) + static_cast<char>(i); // nonce<1>
    body += std::string("\x00\x10", 2) + std::string(16, static_cast<char>('A' + i % 26));
    body += std::string("\x00\x00", 2); // no extensions
    return std::string("\x04\x00\x00", 3) + static_cast<char>(body.size()) + body;
}

} // namespace

BOOST_AUTO_TEST_SUITE(floods)

// ---- mbedTLS's own bound: empty records -----------------------------------------------------

BOOST_AUTO_TEST_CASE(a_fourth_empty_record_in_a_row_is_a_bad_record_mac_in_mbedtls) {
    for (bool tls12 : {true, false}) {
        if (!tls12 && !backend::has_tls13)
            continue;
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "TLS 1.3")) {
            for (int n : {3, 4}) {
                established s(tls12);
                flooder f{s.p->server};
                for (int i = 0; i < n; ++i)
                    f.empty_record();
                f.data("data");
                read_outcome r = feed_and_read(s.p->client, take_output(s.p->server));
                if (n == 3) {
                    BOOST_TEST(!r.ec, r.ec.message());
                    BOOST_TEST(r.data == "data");
                } else {
                    BOOST_TEST(r.ec == tlsx::make_mbedtls_error(MBEDTLS_ERR_SSL_INVALID_MAC),
                               r.ec.message());
                    BOOST_TEST(alert_seen_by_peer(s.p->client, s.p->server) ==
                               tlsx::error_code(20, tlsx::alert_category())); // bad_record_mac
                }
            }
        }
    }
}

// mbedtls_ssl_read delivers a second empty record in a row as 0 bytes, its way of saying the
// transport ended: neither truncation nor a close, and what follows is read, even when the
// transport's end came in with it.
BOOST_AUTO_TEST_CASE(empty_records_are_not_the_end_of_the_stream) {
    for (bool tls12 : {true, false}) {
        if (!tls12 && !backend::has_tls13)
            continue;
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "TLS 1.3")) {
            established s(tls12);
            flooder f{s.p->server};
            f.empty_record();
            f.empty_record();
            f.data("data");
            f.empty_record();
            f.empty_record();
            BOOST_REQUIRE(mbedtls_ssl_close_notify(s.p->server.native_handle()) == 0);
            const std::string wire = take_output(s.p->server);
            tlsx::engine& c = s.p->client;
            BOOST_REQUIRE(c.put_input(boost::asio::buffer(wire)) == wire.size());
            c.input_eof();
            char buf[64];
            auto r = c.read(boost::asio::buffer(buf));
            BOOST_TEST(!r.ec, r.ec.message());
            BOOST_TEST(std::string(buf, r.bytes) == "data");
            r = c.read(boost::asio::buffer(buf));
            BOOST_TEST(r.ec == boost::asio::error::eof, r.ec.message()); // the close_notify
            BOOST_TEST(c.peer_closed());
        }
    }
}

// ---- tlsx's bound: flood_guard::max_ignored_records -------------------------------------------

BOOST_AUTO_TEST_CASE(warning_alerts_are_bounded_tls12) {
    check_bound(true, [](flooder& f, int) { f.warning_alert(); });
}

BOOST_AUTO_TEST_CASE(warning_alerts_are_bounded_tls13, *with_tls13) {
    check_bound(false, [](flooder& f, int) { f.warning_alert(); });
}

// mbedTLS resets its empty-record count at any non-empty record: three empty records and a
// warning alert, again and again, it takes forever.
BOOST_AUTO_TEST_CASE(empty_records_between_warning_alerts_are_bounded_tls12) {
    check_bound(true, [](flooder& f, int i) { i % 4 == 3 ? f.warning_alert() : f.empty_record(); });
}

BOOST_AUTO_TEST_CASE(empty_records_between_warning_alerts_are_bounded_tls13, *with_tls13) {
    check_bound(false,
                [](flooder& f, int i) { i % 4 == 3 ? f.warning_alert() : f.empty_record(); });
}

// A refused HelloRequest costs the client a no_renegotiation warning alert of its own: without
// a bound, the client's output would grow with the flood.
BOOST_AUTO_TEST_CASE(hello_requests_refused_are_bounded) {
    check_bound(
        true, [](flooder& f, int) { f.hello_request(); }, true);
}

// A TLS 1.2 client asking again and again: a server that refuses (the default) answers each
// request with a warning and goes on, until the bound: it answers the 33rd in a row and ends
// the session at once. (For the client each refusal is the answer it asked for: progress.)
BOOST_AUTO_TEST_CASE(renegotiation_requests_refused_are_bounded) {
    established s(true);
    tlsx::engine& c = s.p->client;
    tlsx::engine& sv = s.p->server;
    tlsx::error_code server_ec;
    int refused = 0;
    char buf[64];
    for (int i = 0; i < 2 * bound && !server_ec; ++i) {
        auto r = c.renegotiate(true);
        for (int k = 0; k < 20 && r.next != want::nothing && !r.ec; ++k) {
            s.p->pump_all();
            auto sr = sv.read(boost::asio::buffer(buf));
            if (sr.ec) {
                server_ec = sr.ec;
                break;
            }
            s.p->pump_all();
            r = c.renegotiate();
        }
        if (r.ec == tlsx::error::renegotiation_refused)
            ++refused;
    }
    BOOST_TEST(server_ec == flood_error, server_ec.message());
    BOOST_TEST(refused == bound); // the 33rd's answer comes with the fatal alert
    BOOST_TEST(alert_seen_by_peer(sv, c) == unexpected_message_alert);
}

BOOST_AUTO_TEST_CASE(new_session_tickets_are_bounded, *with_tls13) {
    for (int n : {bound, bound + 1}) {
        BOOST_TEST_CONTEXT(n << " tickets") {
            established s(false);
            tlsx_test::tls13_protector gen0(s.server_keys["SERVER_TRAFFIC_SECRET_0"]);
            std::string wire;
            for (int i = 0; i < n; ++i)
                wire += gen0.seal(22, new_session_ticket(i));
            wire += gen0.seal(23, "data");
            read_outcome r = feed_and_read(s.p->client, wire);
            if (n <= bound) {
                BOOST_TEST(!r.ec, r.ec.message());
                BOOST_TEST(r.data == "data");
                BOOST_TEST(s.p->client.session_ticket_received());
            } else {
                BOOST_TEST(r.ec == flood_error, r.ec.message());
                BOOST_TEST(r.data.empty());
                const std::string out = take_output(s.p->client);
                tlsx_test::tls13_protector client0(s.client_keys["CLIENT_TRAFFIC_SECRET_0"]);
                std::string content;
                std::size_t used = 0;
                BOOST_REQUIRE(!out.empty());
                BOOST_TEST(client0.open(out, content, used) == 21);
                BOOST_TEST(content == std::string("\x02\x0a", 2)); // fatal unexpected_message
                BOOST_TEST(used == out.size());                    // and nothing else
            }
        }
    }
}

// Progress resets the count: a flood broken by data now and then goes on as long as the data.
BOOST_AUTO_TEST_CASE(data_between_ignored_records_resets_the_count) {
    for (bool tls12 : {true, false}) {
        if (!tls12 && !backend::has_tls13)
            continue;
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "TLS 1.3")) {
            established s(tls12);
            flooder f{s.p->server};
            std::string sent;
            for (int round = 0; round < 10; ++round) {
                for (int i = 0; i < bound; ++i)
                    f.warning_alert();
                const std::string d = "d" + std::to_string(round);
                f.data(d);
                sent += d;
            }
            read_outcome r = feed_and_read(s.p->client, take_output(s.p->server));
            BOOST_TEST(!r.ec, r.ec.message());
            BOOST_TEST(r.data == sent);
        }
    }
}

// ---- during the handshake -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(warning_alerts_in_clear_during_the_handshake_are_bounded) {
    const std::string alert("\x15\x03\x03\x00\x02\x01\x5a", 7); // warning user_canceled
    for (int n : {bound, bound + 1}) {
        BOOST_TEST_CONTEXT(n << " alerts after the ClientHello") {
            tlsx_test::context_pair c;
            backend::tls12_only(c.client);
            engine_pair p(c.client, c.server);
            std::string wire = client_hello(p.client);
            for (int i = 0; i < n; ++i)
                wire += alert;
            BOOST_REQUIRE(p.server.put_input(boost::asio::buffer(wire)) == wire.size());
            auto r = p.server.handshake(tlsx::stream_base::server);
            if (n <= bound) {
                BOOST_TEST(!r.ec, r.ec.message());
                BOOST_TEST(!p.handshake()); // and the handshake goes on to its end
                BOOST_TEST(p.server.handshake_done());
            } else {
                BOOST_TEST(r.ec == flood_error, r.ec.message());
                // The server's flight, then the fatal alert in clear, last and alone.
                const std::string out = take_output(p.server);
                BOOST_TEST(out.size() > 7u);
                BOOST_TEST(out.substr(out.size() - 7) ==
                           std::string("\x15\x03\x03\x00\x02\x02\x0a", 7));
                BOOST_TEST(out.find(std::string("\x15\x03\x03", 3)) == out.size() - 7);
            }
        }
    }
}

// mbedTLS 3.6 ignores every ChangeCipherSpec record of a TLS 1.3 handshake (middlebox
// compatibility mode; RFC 8446 5 allows one). The client's own is one of the bound's.
BOOST_AUTO_TEST_CASE(change_cipher_spec_records_during_a_tls13_handshake_are_bounded, *with_tls13) {
    const std::string ccs("\x14\x03\x03\x00\x01\x01", 6);
    for (int n : {bound - 1, bound + 1}) {
        BOOST_TEST_CONTEXT(n << " ChangeCipherSpec records after the ClientHello") {
            tlsx_test::context_pair c;
            tlsx_test::key_log keys;
            c.server.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
            c.server.set_keylog_callback([&keys](std::string_view l) { keys.add(l); });
            engine_pair p(c.client, c.server);
            std::string wire = client_hello(p.client);
            for (int i = 0; i < n; ++i)
                wire += ccs;
            BOOST_REQUIRE(p.server.put_input(boost::asio::buffer(wire)) == wire.size());
            auto r = p.server.handshake(tlsx::stream_base::server);
            if (n < bound) {
                BOOST_TEST(!r.ec, r.ec.message());
                const tlsx::error_code ec = p.handshake();
                BOOST_TEST(!ec, ec.message());
                BOOST_TEST(p.server.handshake_done());
            } else { // the 33rd taken, the server refuses to take another
                BOOST_TEST(r.ec == flood_error, r.ec.message());
                BOOST_TEST(p.server.failed());
                // The server's flight, then the alert. mbedTLS 3.6 seals it under the server's
                // handshake keys (its outbound keys until the client's Finished, although RFC
                // 8446 7.1 has the server send under application keys after its own
                // Finished), so the client, already on application keys, cannot read it:
                // open the records here with the handshake keys instead.
                const std::string out = take_output(p.server);
                tlsx_test::tls13_protector hs(keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"]);
                std::size_t at = 0;
                unsigned char last_type = 0;
                std::string last;
                while (at + 5 <= out.size()) {
                    const std::size_t len = std::size_t(static_cast<unsigned char>(out[at + 3]))
                                                << 8 |
                                            static_cast<unsigned char>(out[at + 4]);
                    if (out[at] == '\x17') {
                        std::size_t used = 0;
                        last_type = hs.open(std::string_view(out).substr(at), last, used);
                    } else {
                        last_type = static_cast<unsigned char>(out[at]);
                        last = out.substr(at + 5, len);
                    }
                    at += 5 + len;
                }
                BOOST_TEST(at == out.size());
                BOOST_TEST(last_type == 21);
                BOOST_TEST(last == std::string("\x02\x0a", 2)); // fatal unexpected_message
            }
        }
    }
}

// ---- what is progress -----------------------------------------------------------------------

// 1-byte records cost a record's work per byte, as they cost the peer, and each is delivered:
// no bound is reached, nothing is buffered beyond a record.
BOOST_AUTO_TEST_CASE(one_byte_records_are_each_delivered) {
    for (bool tls12 : {true, false}) {
        if (!tls12 && !backend::has_tls13)
            continue;
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "TLS 1.3")) {
            established s(tls12);
            std::string sent, wire;
            for (int i = 0; i < 3000; ++i) {
                const std::string one(1, static_cast<char>('a' + i % 26));
                BOOST_REQUIRE(s.p->server.write(boost::asio::buffer(one)).bytes == 1u);
                sent += one;
                wire += take_output(s.p->server);
            }
            BOOST_TEST(wire.size() > 3000u * 5u); // one record each
            std::size_t fed = 0, reads = 0;
            std::string got;
            char buf[4096];
            while (got.size() < sent.size()) {
                fed += s.p->client.put_input(
                    boost::asio::buffer(wire.data() + fed, wire.size() - fed));
                BOOST_TEST_REQUIRE(s.p->client.input_size() <= tlsx::engine::input_capacity);
                auto r = s.p->client.read(boost::asio::buffer(buf));
                BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
                if (r.next == want::nothing) {
                    BOOST_TEST_REQUIRE(r.bytes == 1u); // one record, one byte, one read
                    got.append(buf, r.bytes);
                    ++reads;
                }
            }
            BOOST_TEST(got == sent);
            BOOST_TEST(reads == 3000u);
        }
    }
}

// ---- memory: a peer writing faster than the application reads --------------------------------

// The writer's engine stops taking plaintext at its high-water mark, the reader's input queue
// takes one record's worth and no more: the rest waits in the transport (TCP backpressure).
BOOST_AUTO_TEST_CASE(a_fast_writer_is_held_at_one_record_by_a_reader_that_reads_nothing) {
    for (bool tls12 : {true, false}) {
        if (!tls12 && !backend::has_tls13)
            continue;
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "TLS 1.3")) {
            established s(tls12);
            tlsx::engine& w = s.p->server;
            tlsx::engine& r = s.p->client;
            std::string data(4 << 20, '\0');
            for (std::size_t i = 0; i < data.size(); ++i)
                data[i] = static_cast<char>(i * 2654435761u >> 24);
            std::size_t written = 0, max_input = 0, max_output = 0;
            bool blocked = false;
            // Phase 1: the reader reads nothing; the writer writes as long as it is let.
            for (int turn = 0; turn < 1000 && !blocked; ++turn) {
                auto res =
                    w.write(boost::asio::buffer(data.data() + written, data.size() - written));
                BOOST_TEST_REQUIRE(!res.ec);
                written += res.bytes;
                s.p->pump(w, r, s.p->server_to_client);
                max_input = std::max(max_input, r.input_size());
                max_output =
                    std::max<std::size_t>(max_output, w.output_produced() - w.output_consumed());
                blocked =
                    res.next == want::output && w.has_output() && r.prepare_input().size() == 0;
            }
            BOOST_TEST(blocked); // the writer waits for the transport, the reader holds a record
            BOOST_TEST(written <= 3u * tlsx::engine::input_capacity);
            BOOST_TEST(max_input <= tlsx::engine::input_capacity);
            BOOST_TEST(max_output <= 2u * tlsx::engine::input_capacity);
            // Phase 2: the reader reads; everything arrives, in order, still a record at a time.
            std::string got;
            char buf[16384];
            for (int turn = 0; turn < 1000000 && got.size() < data.size(); ++turn) {
                if (written < data.size()) {
                    auto res =
                        w.write(boost::asio::buffer(data.data() + written, data.size() - written));
                    BOOST_TEST_REQUIRE(!res.ec);
                    written += res.bytes;
                }
                s.p->pump(w, r, s.p->server_to_client);
                max_input = std::max(max_input, r.input_size());
                for (;;) {
                    auto rr = r.read(boost::asio::buffer(buf));
                    BOOST_TEST_REQUIRE(!rr.ec, rr.ec.message());
                    if (rr.next != want::nothing)
                        break;
                    got.append(buf, rr.bytes);
                }
            }
            BOOST_TEST(got.size() == data.size());
            BOOST_TEST((got == data));
            BOOST_TEST(max_input <= tlsx::engine::input_capacity);
        }
    }
}

// The same through a stream: with no read pending, a stream takes nothing from its transport,
// so all the peer wrote stays there (over TCP: the peer's send blocks); each read then takes
// at most a record's worth into the engine.
BOOST_AUTO_TEST_CASE(a_stream_that_reads_nothing_takes_nothing_from_its_transport) {
    boost::asio::io_context io;
    tlsx::test::tls_pair p{io};
    tlsx::error_code cec = boost::asio::error::would_block, sec = cec;
    p.client.async_handshake(tlsx::stream_base::client, [&](tlsx::error_code ec) { cec = ec; });
    p.server.async_handshake(tlsx::stream_base::server, [&](tlsx::error_code ec) { sec = ec; });
    io.run();
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
    std::string data(4 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 40503u >> 8);
    boost::asio::write(p.server, boost::asio::buffer(data)); // the pipe takes it all
    BOOST_TEST(p.client.get_engine().input_size() == 0u);
    BOOST_TEST(p.client.next_layer().available() > data.size()); // waiting in the transport
    std::string got;
    std::vector<char> buf(1 << 16);
    std::size_t max_input = 0;
    while (got.size() < data.size()) {
        const std::size_t n = p.client.read_some(boost::asio::buffer(buf));
        got.append(buf.data(), n);
        max_input = std::max(max_input, p.client.get_engine().input_size());
    }
    BOOST_TEST((got == data));
    BOOST_TEST(max_input <= tlsx::engine::input_capacity);
}

BOOST_AUTO_TEST_SUITE_END()
