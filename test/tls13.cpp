// TLS 1.3 on mbedTLS 3.6, engine to engine: versions and suite names, key-exchange groups and
// HelloRetryRequest, renegotiate() on a 1.3 client (a named error, nothing sent), crafted
// records read normally, and half-close. Key updates (and renegotiate() on a 1.3 server, which
// is one) are in key_update.cpp. The group
// setter's validation runs on both backends.
#include <tlsx/engine.hpp>

#include "backend.hpp"
#include "support/engine_pair.hpp"
#include "support/run.hpp"
#include "support/tls13_records.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

using tlsx_test::engine_pair;

namespace {

namespace ut = boost::unit_test;

const auto with_tls13 =
    ut::precondition(backend::needs_tls13{"TLS 1.3 handshakes need mbedTLS 3.6"});

using contexts = tlsx_test::context_pair;

/// The random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 section 4.1.3).
const std::string_view hrr_random =
    "\xCF\x21\xAD\x74\xE5\x9A\x61\x11\xBE\x1D\x8C\x02\x1E\x65\xB8\x91"
    "\xC2\xA2\x11\x16\x7A\xBB\x8C\x5E\x07\x9E\x09\xE2\xC8\xA8\x33\x9C";

bool sent_hello_retry_request(const engine_pair& p) {
    return p.server_to_client.find(hrr_random) != std::string::npos;
}

/// A 1.3 pair pinned to TLS_AES_128_GCM_SHA256, with no tickets (so that the server's first
/// application record has sequence number 0), whose secrets are collected from the key log.
struct keyed_pair {
    contexts c;
    tlsx_test::key_log server_keys;
    tlsx_test::key_log client_keys;
    std::unique_ptr<engine_pair> p;

    keyed_pair() {
        c.client.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        c.server.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        c.server.disable_session_tickets();
        c.server.set_keylog_callback([this](std::string_view l) { server_keys.add(l); });
        c.client.set_keylog_callback([this](std::string_view l) { client_keys.add(l); });
        p = std::make_unique<engine_pair>(c.client, c.server);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(tls13)

BOOST_AUTO_TEST_CASE(default_handshake_is_tls13_with_iana_suite_names, *with_tls13) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_TEST(p.client.protocol_version() == "TLSv1.3");
    BOOST_TEST(p.server.protocol_version() == "TLSv1.3");
    const std::string suite(p.client.cipher_suite());
    BOOST_TEST((suite == "TLS_AES_128_GCM_SHA256" || suite == "TLS_CHACHA20_POLY1305_SHA256" ||
                suite == "TLS_AES_256_GCM_SHA384"),
               suite);
    BOOST_TEST(p.server.cipher_suite() == p.client.cipher_suite());
    BOOST_TEST(!sent_hello_retry_request(p)); // x25519 first on both sides: one round trip
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.client, p.server, "hello over 1.3", got));
    BOOST_TEST(got == "hello over 1.3");
}

BOOST_AUTO_TEST_CASE(each_tls13_suite_by_its_iana_name, *with_tls13) {
    for (const char* name :
         {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
        BOOST_TEST_CONTEXT(name) {
            contexts c;
            c.client.set_ciphersuites({name});
            engine_pair p(c.client, c.server);
            BOOST_REQUIRE(!p.handshake());
            BOOST_TEST(p.client.cipher_suite() == name);
            BOOST_TEST(p.server.cipher_suite() == name);
        }
    }
}

BOOST_AUTO_TEST_CASE(hello_retry_request_when_the_server_takes_another_group, *with_tls13) {
    contexts c;
    c.client.set_groups({"x25519", "secp256r1"}); // key share for x25519 only
    c.server.set_groups({"secp256r1"});
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_TEST(sent_hello_retry_request(p));
    BOOST_TEST(p.client.protocol_version() == "TLSv1.3");
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.server, p.client, "after a retry", got));
    BOOST_TEST(got == "after a retry");
}

BOOST_AUTO_TEST_CASE(no_common_group_fails_with_a_handshake_failure_alert, *with_tls13) {
    contexts c;
    c.client.set_groups({"x25519"});
    c.server.set_groups({"secp384r1"});
    engine_pair p(c.client, c.server);
    BOOST_TEST(p.handshake());
    // Whichever side noticed first, the client learns it as handshake_failure (no common
    // parameters, RFC 8446 section 4.1.1) once the server's alert arrives.
    p.pump_all();
    auto r = p.client.handshake(tlsx::stream_base::client);
    BOOST_TEST((r.ec.category() == tlsx::alert_category()), r.ec.message());
    BOOST_TEST(r.ec.value() == 40);
}

BOOST_AUTO_TEST_CASE(groups_apply_to_tls12_ecdhe_too) {
    // A TLS 1.2 server that takes secp384r1 only: a client without it has no ECDHE group in
    // common (all default suites are ECDHE), one with the default groups has.
    for (bool with_p384 : {false, true}) {
        BOOST_TEST_CONTEXT("client offers P-384: " << with_p384) {
            contexts c;
            backend::tls12_only(c.client);
            c.server.set_groups({"secp384r1"});
            if (!with_p384)
                c.client.set_groups({"x25519", "secp256r1"});
            engine_pair p(c.client, c.server);
            const tlsx::error_code ec = p.handshake();
            BOOST_TEST(!ec == with_p384, ec.message());
            if (with_p384)
                BOOST_TEST(p.client.protocol_version() == "TLSv1.2");
        }
    }
}

BOOST_AUTO_TEST_CASE(set_groups_names_what_it_does_not_know) {
    tlsx::context ctx(tlsx::context::tls_client);
    ctx.set_groups({"X25519", "P-256", "prime256v1", "secp384r1", "P-521"}); // aliases, any case
    try {
        ctx.set_groups({"x25519", "kyber768"});
        BOOST_FAIL("an unknown group was accepted");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == tlsx::error::invalid_argument);
        BOOST_TEST(std::string(e.what()).find("kyber768") != std::string::npos, e.what());
    }
    tlsx::error_code ec;
    ctx.set_groups({}, ec);
    BOOST_TEST(ec == tlsx::error::invalid_argument);
    ctx.set_groups({"secp256r1"}, ec);
    BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(renegotiate_on_a_tls13_client_is_an_invalid_request, *with_tls13) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    const auto before = p.client.output_produced();
    auto r = p.client.renegotiate(true);
    BOOST_TEST(r.ec == tlsx::error::invalid_request);
    BOOST_TEST(r.ec.message().find("TLS 1.3") != std::string::npos);
    BOOST_TEST(p.client.output_produced() == before); // no HelloRequest inside TLS 1.3
    BOOST_TEST(!p.client.failed());                   // not fatal: the session goes on
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.client, p.server, "still fine", got));
    BOOST_TEST(got == "still fine");
}

BOOST_AUTO_TEST_CASE(crafted_application_data_is_read_normally, *with_tls13) {
    // The control for key_update.cpp's crafted KeyUpdates: the same crafting, as application
    // data, is just data (so the alerts there answer the KeyUpdate, not a bad record).
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    tlsx_test::tls13_protector server_out(k.server_keys["SERVER_TRAFFIC_SECRET_0"]);
    const std::string record = server_out.seal(23, "crafted");
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(record)) == record.size());
    char buf[64];
    auto r = p.client.read(boost::asio::buffer(buf));
    BOOST_TEST(!r.ec);
    BOOST_TEST(std::string(buf, r.bytes) == "crafted");
}

BOOST_AUTO_TEST_CASE(half_close_both_ways, *with_tls13) {
    for (bool client_first : {true, false}) {
        BOOST_TEST_CONTEXT((client_first ? "client" : "server") << " closes first") {
            contexts c;
            engine_pair p(c.client, c.server);
            BOOST_REQUIRE(!p.handshake());
            BOOST_REQUIRE(p.client.protocol_version() == "TLSv1.3");
            tlsx::engine& closer = client_first ? p.client : p.server;
            tlsx::engine& other = client_first ? p.server : p.client;
            BOOST_REQUIRE(!closer.shutdown(tlsx::shutdown_type::send).ec);
            p.pump_all();
            char buf[64];
            auto r = other.read(boost::asio::buffer(buf));
            BOOST_TEST(r.peer_closed);
            // The other side still writes, and the closer still reads, until its own close.
            std::string got;
            BOOST_REQUIRE(!p.transfer(other, closer, "late but delivered", got));
            BOOST_TEST(got == "late but delivered");
            BOOST_REQUIRE(!other.close().ec);
            p.pump_all();
            r = closer.read(boost::asio::buffer(buf));
            BOOST_TEST(r.peer_closed);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
