// Unit tests of the sans-I/O engine: two engines back to back, no Asio I/O.
#include <tlsx/engine.hpp>

#include "backend.hpp"
#include "support/engine_pair.hpp"
#include "support/run.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>

using engine_t = tlsx::engine;
using tlsx_test::engine_pair;

namespace {

using contexts = tlsx_test::context_pair;

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(handshake_completes_back_to_back) {
    contexts c;
    engine_pair p(c.client, c.server);
    tlsx::error_code ec;
    p.client.set_server_name("localhost", ec);
    BOOST_REQUIRE(!ec);
    BOOST_REQUIRE_EQUAL(p.handshake().message(), tlsx::error_code().message());
    BOOST_TEST(p.client.handshake_done());
    BOOST_TEST(p.server.handshake_done());
    BOOST_TEST(p.client.protocol_version() == backend::default_version);
    BOOST_TEST(p.client.cipher_suite() == p.server.cipher_suite());
    BOOST_TEST(p.client.cipher_suite().substr(0, 4) == "TLS_");
    BOOST_TEST(p.client.cipher_suite().find('-') == std::string_view::npos);
    BOOST_TEST(!p.client.peer_certificate().empty());
    BOOST_TEST(p.server.peer_certificate().empty()); // no client certificate asked for
}

BOOST_AUTO_TEST_CASE(data_flows_both_ways_intact) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    std::string up = pattern(100000), down = pattern(70001), got_up, got_down;
    BOOST_REQUIRE(!p.transfer(p.client, p.server, up, got_up));
    BOOST_REQUIRE(!p.transfer(p.server, p.client, down, got_down));
    BOOST_TEST(got_up == up);
    BOOST_TEST(got_down == down);
}

BOOST_AUTO_TEST_CASE(one_byte_fragments_still_work) {
    contexts c;
    engine_pair p(c.client, c.server);
    p.chunk = 1;
    BOOST_REQUIRE(!p.handshake());
    std::string data = pattern(20000), got;
    BOOST_REQUIRE(!p.transfer(p.client, p.server, data, got));
    BOOST_TEST(got == data);
}

BOOST_AUTO_TEST_CASE(write_takes_at_most_one_record) {
    contexts c;
    backend::tls12_only(c.client); // 2^14-byte records; 3.6 fills TLS 1.3 ones to 2^14 - 1
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    std::string data = pattern(50000);
    auto r = p.client.write(boost::asio::buffer(data));
    BOOST_TEST(!r.ec);
    BOOST_TEST(r.bytes == engine_t::max_record_plaintext);
    BOOST_TEST(p.client.has_output());
}

BOOST_AUTO_TEST_CASE(write_applies_backpressure_over_high_water) {
    contexts c;
    backend::tls12_only(c.client); // 2^14-byte records; 3.6 fills TLS 1.3 ones to 2^14 - 1
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    std::string data = pattern(16384);
    auto r1 = p.client.write(boost::asio::buffer(data));
    BOOST_REQUIRE(!r1.ec);
    auto r2 = p.client.write(boost::asio::buffer(data));
    BOOST_REQUIRE(!r2.ec);
    auto r3 = p.client.write(boost::asio::buffer(data));
    BOOST_TEST((r3.next == engine_t::want::output));
    BOOST_TEST(r3.bytes == 0u);
    p.pump_all();
    auto r4 = p.client.write(boost::asio::buffer(data));
    BOOST_TEST((r4.next == engine_t::want::nothing));
    BOOST_TEST(r4.bytes == data.size());
}

BOOST_AUTO_TEST_CASE(output_handed_out_stays_valid_while_queue_grows) {
    contexts c;
    backend::tls12_only(c.client); // 2^14-byte records; 3.6 fills TLS 1.3 ones to 2^14 - 1
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    std::string small = "x";
    BOOST_REQUIRE(!p.client.write(boost::asio::buffer(small)).ec);
    auto first = p.client.output(); // as if a transport write were in flight
    std::string copy(static_cast<const char*>(first.data()), first.size());
    std::string big = pattern(16384);
    BOOST_REQUIRE(!p.client.write(boost::asio::buffer(big)).ec); // forces the queue to grow
    BOOST_TEST(std::memcmp(first.data(), copy.data(), copy.size()) == 0);
    // The "transport write" of the first bytes completes only now.
    BOOST_REQUIRE_EQUAL(p.server.put_input(boost::asio::buffer(copy)), copy.size());
    p.client.consume_output(first.size());
    p.pump_all();
    std::vector<char> buf(20000);
    std::string all;
    for (;;) {
        auto r = p.server.read(boost::asio::buffer(buf));
        if (r.next != engine_t::want::nothing || r.ec)
            break;
        all.append(buf.data(), r.bytes);
    }
    BOOST_TEST(all == small + big);
}

BOOST_AUTO_TEST_CASE(close_notify_reads_as_eof_and_half_close_allows_writes) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_REQUIRE(!p.client.close().ec);
    BOOST_TEST(p.client.close_sent());
    p.pump_all();
    char buf[64];
    auto r = p.server.read(boost::asio::buffer(buf));
    BOOST_TEST(r.ec == boost::asio::error::eof);
    BOOST_TEST(p.server.peer_closed());
    BOOST_TEST(p.server.read(boost::asio::buffer(buf)).ec == boost::asio::error::eof);
    // The server may still write until it sends its own close_notify.
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.server, p.client, "after close", got));
    BOOST_TEST(got == "after close");
    // The client sent its close_notify: it may not write any more.
    BOOST_TEST(p.client.write(boost::asio::buffer("x", 1)).ec == tlsx::error::closed);
    BOOST_TEST(p.server.map_eof(boost::asio::error::eof) == boost::asio::error::eof);
}

// engine::read_waits_for_input(): true only where a read would only want input (the stream's
// driver then reads the transport without a step), and known after the reads and writes of a
// connection's steady state.
BOOST_AUTO_TEST_CASE(read_waits_for_input_only_when_a_read_would_only_wait) {
    using want = engine_t::want;
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    char buf[64];
    // What the flag promises, checked wherever it is set: the read wants input, takes nothing,
    // queues nothing, and the flag stays.
    auto only_waits = [&](engine_t& e) {
        const auto produced = e.output_produced();
        auto r = e.read(boost::asio::buffer(buf));
        return r.next == want::input && r.bytes == 0 && !r.ec && e.output_produced() == produced &&
               e.read_waits_for_input();
    };
    BOOST_TEST((p.server.read(boost::asio::buffer(buf)).next == want::input));
    BOOST_TEST(p.server.read_waits_for_input()); // known after a read that waited
    BOOST_TEST(only_waits(p.server));

    BOOST_REQUIRE(!p.client.write(boost::asio::buffer("0123456789", 10)).ec);
    p.pump_all();
    BOOST_TEST(!p.server.read_waits_for_input()); // a record arrived
    auto r = p.server.read(boost::asio::buffer(buf, 4));
    BOOST_TEST(r.bytes == 4u);
    BOOST_TEST(!p.server.read_waits_for_input()); // mbedTLS holds the rest of the record
    r = p.server.read(boost::asio::buffer(buf));
    BOOST_TEST(r.bytes == 6u);
    BOOST_TEST(p.server.read_waits_for_input()); // known after a read that returned data
    BOOST_TEST(only_waits(p.server));

    BOOST_REQUIRE(!p.server.write(boost::asio::buffer("abc", 3)).ec);
    BOOST_TEST(p.server.read_waits_for_input()); // a plain write keeps it
    BOOST_TEST(only_waits(p.server));

    p.server.set_truncation_policy(tlsx::truncation_policy::error);
    BOOST_TEST(!p.server.read_waits_for_input()); // any other call: unknown until a read
    BOOST_TEST((p.server.read(boost::asio::buffer(buf)).next == want::input));
    BOOST_TEST(p.server.read_waits_for_input());

    BOOST_REQUIRE(!p.client.close().ec);
    p.pump_all();
    BOOST_TEST(!p.server.read_waits_for_input()); // close_notify arrived
    BOOST_TEST(p.server.read(boost::asio::buffer(buf)).ec == boost::asio::error::eof);
    BOOST_TEST(!p.server.read_waits_for_input()); // a read after close_notify says eof

    // The transport's end, and a failure, give a read work too.
    engine_pair q(c.client, c.server);
    BOOST_REQUIRE(!q.handshake());
    BOOST_TEST((q.server.read(boost::asio::buffer(buf)).next == want::input));
    BOOST_REQUIRE(q.server.read_waits_for_input());
    q.server.input_eof();
    BOOST_TEST(!q.server.read_waits_for_input());
    engine_pair f(c.client, c.server);
    BOOST_REQUIRE(!f.handshake());
    BOOST_TEST((f.server.read(boost::asio::buffer(buf)).next == want::input));
    BOOST_REQUIRE(f.server.read_waits_for_input());
    f.server.fail(tlsx::error::closed);
    BOOST_TEST(!f.server.read_waits_for_input());
    BOOST_TEST(f.server.read(boost::asio::buffer(buf)).ec == tlsx::error::closed);
}

BOOST_AUTO_TEST_CASE(transport_eof_without_close_notify_is_truncation) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_TEST(p.server.map_eof(boost::asio::error::eof) == tlsx::error::stream_truncated);
    p.server.input_eof();
    char buf[64];
    auto r = p.server.read(boost::asio::buffer(buf));
    BOOST_TEST(r.ec == tlsx::error::stream_truncated);
    BOOST_TEST(r.ec == tlsx::condition::truncated);
    BOOST_TEST(p.server.failed());
}

BOOST_AUTO_TEST_CASE(garbage_from_the_peer_fails_the_handshake_with_a_clear_error) {
    contexts c;
    engine_t server(c.server);
    std::string garbage = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    BOOST_REQUIRE_EQUAL(server.put_input(boost::asio::buffer(garbage)), garbage.size());
    auto r = server.handshake(tlsx::stream_base::server);
    BOOST_TEST(r.ec);
    BOOST_TEST(r.ec == tlsx::condition::protocol);
    BOOST_TEST(!r.ec.message().empty());
    BOOST_TEST(server.failed());
    // Sticky: every further step reports the same error.
    BOOST_TEST(server.handshake(tlsx::stream_base::server).ec == r.ec);
}

BOOST_AUTO_TEST_CASE(garbage_after_the_handshake_fails_the_read) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    std::string garbage(64, '\x17');
    garbage[1] = 3, garbage[2] = 3, garbage[3] = 0, garbage[4] = 59; // header of a 59-byte record
    p.server.put_input(boost::asio::buffer(garbage));
    char buf[64];
    auto r = p.server.read(boost::asio::buffer(buf));
    BOOST_TEST(r.ec);
    BOOST_TEST(r.ec == tlsx::condition::protocol);
    BOOST_TEST(p.server.failed());
}

BOOST_AUTO_TEST_CASE(a_client_offering_only_unsupported_suites_fails_on_both_sides) {
    contexts c;
    c.client.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"}); // not a default
    backend::tls12_only(c.client); // else the default TLS 1.3 suites stay offered
    engine_pair p(c.client, c.server);
    auto ec = p.handshake();
    BOOST_TEST(ec);
    BOOST_TEST(ec != boost::asio::error::would_block, ec.message()); // failed, did not stall
    BOOST_TEST(p.server.failed());
}

BOOST_AUTO_TEST_CASE(steps_before_the_handshake_fail_with_not_handshaken) {
    contexts c;
    engine_t e(c.client);
    char buf[4];
    BOOST_TEST(e.read(boost::asio::buffer(buf)).ec == tlsx::error::not_handshaken);
    BOOST_TEST(e.write(boost::asio::buffer(buf)).ec == tlsx::error::not_handshaken);
}

BOOST_AUTO_TEST_CASE(close_before_the_handshake_is_done_sends_nothing_and_says_so) {
    contexts c;
    engine_pair p(c.client, c.server);
    auto r = p.client.handshake(tlsx::stream_base::client); // ClientHello queued, then waits
    BOOST_TEST((r.next == engine_t::want::input));
    auto produced = p.client.output_produced();
    BOOST_TEST((p.client.close().ec == tlsx::error::not_handshaken));
    BOOST_TEST(!p.client.close_sent());
    BOOST_TEST(p.client.output_produced() == produced);
}

BOOST_AUTO_TEST_CASE(a_first_handshake_whose_flight_cannot_be_written_fails) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_TEST((p.client.handshake(tlsx::stream_base::client).next == engine_t::want::input));
    p.client.fail_output(boost::asio::error::connection_reset);
    auto r = p.client.handshake(tlsx::stream_base::client);
    BOOST_TEST((r.next == engine_t::want::nothing));
    BOOST_TEST((r.ec == boost::asio::error::connection_reset));
}

BOOST_AUTO_TEST_CASE(a_client_only_context_cannot_act_as_server) {
    contexts c;
    engine_t e(c.client);
    auto r = e.handshake(tlsx::stream_base::server);
    BOOST_TEST(r.ec == tlsx::error::operation_not_permitted);
}

BOOST_AUTO_TEST_CASE(verification_failures_name_what_failed) {
    contexts c;
    {
        tlsx::context untrusting{tlsx::context::tls_client}; // trusts nothing
        engine_pair p(untrusting, c.server);
        auto ec = p.handshake();
        BOOST_TEST(ec == tlsx::error::certificate_untrusted);
        BOOST_TEST(ec == tlsx::condition::certificate);
        BOOST_TEST(ec.message().find("not trusted") != std::string::npos);
    }
    {
        engine_pair p(c.client, c.server);
        tlsx::error_code ec;
        p.client.set_server_name("example.com", ec);
        BOOST_TEST(p.handshake() == tlsx::error::certificate_name_mismatch);
    }
    {
        engine_pair p(c.client, c.server);
        tlsx::error_code ec;
        p.client.set_server_name("localhost", ec);
        p.client.set_verify_callback([](bool, tlsx::verify_context&) { return false; });
        BOOST_TEST(p.handshake() == tlsx::error::certificate_rejected);
    }
}

BOOST_AUTO_TEST_CASE(verify_mode_none_per_engine_accepts_an_untrusted_server) {
    contexts c;
    tlsx::context untrusting{tlsx::context::tls_client};
    engine_pair p(untrusting, c.server);
    p.client.set_verify_mode(tlsx::verify_mode::none);
    BOOST_TEST(!p.handshake());
}

BOOST_AUTO_TEST_SUITE_END()
