// TLS 1.3 KeyUpdate (RFC 8446 4.6.3), engine to engine and with crafted records: a peer's
// KeyUpdate taken in inside reads (and update_requested answered), engine::key_update both
// ways, renegotiate() on a 1.3 server, the automatic update, the key log of each generation,
// and malformed or misplaced KeyUpdates answered with the right alert. On mbedTLS 2.28 the
// calls fail with error::key_update_unsupported (checked) and the TLS 1.3 cases are skipped.
#include <tlsx/engine.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/duplex.hpp"
#include "support/engine_pair.hpp"
#include "support/run.hpp"
#include "support/tls13_records.hpp"

#include "detail/mbedtls_internals.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <mbedtls/gcm.h>
#include <mbedtls/md.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <string>
#include <string_view>
#include <utility>

using tlsx_test::engine_pair;
using tlsx_test::take_output;

namespace {

namespace ut = boost::unit_test;

const auto with_tls13 =
    ut::precondition(backend::needs_tls13{"TLS 1.3 key updates need mbedTLS 3.6"});

using contexts = tlsx_test::context_pair;

/// application_traffic_secret_N+1 (RFC 8446 7.2), for TLS_AES_128_GCM_SHA256.
std::string next_secret(const std::string& secret) {
    return tlsx_test::hkdf_expand_label(secret, "traffic upd", 32);
}

/// A 1.3 pair pinned to TLS_AES_128_GCM_SHA256, with no tickets (so that the server's first
/// application record has sequence number 0), whose secrets are collected from the key log.
struct keyed_pair {
    contexts c;
    tlsx_test::key_log server_keys;
    tlsx_test::key_log client_keys;
    std::unique_ptr<engine_pair> p;

    explicit keyed_pair(std::uint64_t client_threshold = 0) {
        c.client.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        c.server.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        c.server.disable_session_tickets();
        c.server.set_keylog_callback([this](std::string_view l) { server_keys.add(l); });
        c.client.set_keylog_callback([this](std::string_view l) { client_keys.add(l); });
        if (client_threshold != 0)
            c.client.set_key_update_threshold(client_threshold);
        p = std::make_unique<engine_pair>(c.client, c.server);
    }
};

/// Read at `e` until it wants input; returns the data (fails the test on an error).
std::string read_all(tlsx::engine& e) {
    std::string got;
    char buf[4096];
    for (;;) {
        auto r = e.read(boost::asio::buffer(buf));
        BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
        if (r.next != tlsx::engine::want::nothing || r.bytes == 0)
            return got;
        got.append(buf, r.bytes);
    }
}

/// Feed a crafted KeyUpdate record (sealed by `server_out`) to the client and check that the
/// client refuses it with one fatal alert `alert` (encrypted under its first keys).
void expect_alert(keyed_pair& k, const std::string& records, unsigned char alert) {
    engine_pair& p = *k.p;
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(records)) == records.size());
    char buf[64];
    auto r = p.client.read(boost::asio::buffer(buf));
    BOOST_TEST(r.ec);
    BOOST_TEST(p.client.failed());
    const std::string wire = take_output(p.client);
    tlsx_test::tls13_protector client_out(k.client_keys["CLIENT_TRAFFIC_SECRET_0"]);
    std::string content;
    std::size_t used = 0;
    BOOST_REQUIRE(!wire.empty());
    BOOST_TEST(client_out.open(wire, content, used) == 21);
    BOOST_TEST(content == std::string({'\x02', static_cast<char>(alert)}),
               "alert " << (content.size() == 2 ? int(static_cast<unsigned char>(content[1])) : -1)
                        << " size " << content.size());
    BOOST_TEST(used == wire.size()); // exactly one alert
    BOOST_TEST(p.client.key_generation(true) == 0u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(key_update)

// ---- a peer's KeyUpdate --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(peer_update_not_requested_moves_the_inbound_keys_only, *with_tls13) {
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    BOOST_REQUIRE(!p.server.has_output());
    const std::string s0 = k.server_keys["SERVER_TRAFFIC_SECRET_0"];
    tlsx_test::tls13_protector gen0(s0);
    tlsx_test::tls13_protector gen1(next_secret(s0));
    // Data, KeyUpdate, data under the next keys: one read stream, the update invisible.
    std::string records = gen0.seal(23, "before "); // (in order: each seal takes a number)
    records += gen0.seal(22, tlsx_test::key_update_message(0));
    records += gen1.seal(23, "after");
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(records)) == records.size());
    BOOST_TEST(read_all(p.client) == "before after");
    BOOST_TEST(p.client.key_generation(true) == 1u);
    BOOST_TEST(p.client.key_generation(false) == 0u);
    BOOST_TEST(!p.client.has_output()); // not asked: no answer
    BOOST_TEST(k.client_keys["SERVER_TRAFFIC_SECRET_1"] == next_secret(s0));
}

BOOST_AUTO_TEST_CASE(peer_update_requested_is_answered_before_more_data, *with_tls13) {
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    const std::string s0 = k.server_keys["SERVER_TRAFFIC_SECRET_0"];
    const std::string c0 = k.client_keys["CLIENT_TRAFFIC_SECRET_0"];
    tlsx_test::tls13_protector server_gen0(s0);
    tlsx_test::tls13_protector server_gen1(next_secret(s0));
    const std::string records =
        server_gen0.seal(22, tlsx_test::key_update_message(1)) + server_gen1.seal(23, "data");
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(records)) == records.size());
    BOOST_TEST(read_all(p.client) == "data");
    BOOST_REQUIRE(p.client.write(boost::asio::buffer("reply", 5)).bytes == 5u);
    // On the wire: our KeyUpdate(update_not_requested) under the old keys, then the data under
    // the new ones.
    const std::string wire = take_output(p.client);
    tlsx_test::tls13_protector client_gen0(c0);
    tlsx_test::tls13_protector client_gen1(next_secret(c0));
    std::string content;
    std::size_t used = 0;
    BOOST_TEST(client_gen0.open(wire, content, used) == 22);
    BOOST_TEST(content == tlsx_test::key_update_message(0));
    std::size_t used2 = 0;
    BOOST_TEST(client_gen1.open(std::string_view(wire).substr(used), content, used2) == 23);
    BOOST_TEST(content == "reply");
    BOOST_TEST(used + used2 == wire.size());
    BOOST_TEST(p.client.key_generation(false) == 1u);
    BOOST_TEST(k.client_keys["CLIENT_TRAFFIC_SECRET_1"] == next_secret(c0));
}

// ---- our KeyUpdate -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(key_update_both_roles_both_ways_with_the_key_log_of_each_generation,
                     *with_tls13) {
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    int round = 0;
    for (bool request : {false, true, false, true}) {
        for (tlsx::engine* e : {&p.client, &p.server}) {
            BOOST_TEST_CONTEXT("round " << round << (e == &p.client ? " client" : " server")
                                        << " request_peer " << request) {
                auto r = e->key_update(request);
                BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
                std::string got;
                BOOST_REQUIRE(!p.transfer(p.client, p.server, "to server", got));
                BOOST_TEST(got == "to server");
                got.clear();
                BOOST_REQUIRE(!p.transfer(p.server, p.client, "to client", got));
                BOOST_TEST(got == "to client");
                ++round;
            }
        }
    }
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.client, p.server, "last", got)); // brings the last answer
    BOOST_TEST(got == "last");
    // Each side updated itself 4 times and answered the peer's 2 requests once each.
    BOOST_TEST(p.client.key_generation(false) == 6u);
    BOOST_TEST(p.server.key_generation(false) == 6u);
    BOOST_TEST(p.client.key_generation(true) == 6u);
    BOOST_TEST(p.server.key_generation(true) == 6u);
    // Both key logs, every generation, each the HKDF-Expand-Label of the previous.
    for (const char* side : {"CLIENT", "SERVER"}) {
        std::string secret = k.client_keys[std::string(side) + "_TRAFFIC_SECRET_0"];
        for (int n = 1; n <= 6; ++n) {
            const std::string label = std::string(side) + "_TRAFFIC_SECRET_" + std::to_string(n);
            secret = next_secret(secret);
            BOOST_TEST(k.client_keys[label] == secret, label);
            BOOST_TEST(k.server_keys[label] == secret, label);
        }
    }
}

// The keys of each generation are re-keyed into reused transforms (without allocating): a
// third party holding only the key log opens every record, generation after generation.
BOOST_AUTO_TEST_CASE(every_generation_of_reused_transforms_seals_with_its_own_keys, *with_tls13) {
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    std::string secret = k.client_keys["CLIENT_TRAFFIC_SECRET_0"];
    auto current = std::make_unique<tlsx_test::tls13_protector>(secret);
    for (int n = 1; n <= 10; ++n) { // three transform slots: each re-keyed three times or more
        BOOST_TEST_CONTEXT("generation " << n) {
            auto r = p.client.key_update(false);
            BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
            const std::string data = "generation " + std::to_string(n);
            auto w = p.client.write(boost::asio::buffer(data));
            BOOST_REQUIRE_MESSAGE(!w.ec, w.ec.message());
            const std::string wire = take_output(p.client);
            std::string content;
            std::size_t used = 0;
            BOOST_REQUIRE(current->open(wire, content, used) == 22); // the KeyUpdate, old keys
            BOOST_TEST(content == std::string({'\x18', '\0', '\0', '\x01', '\0'}));
            secret = next_secret(secret);
            current = std::make_unique<tlsx_test::tls13_protector>(secret);
            std::size_t used2 = 0;
            BOOST_REQUIRE(current->open(wire.substr(used), content, used2) == 23);
            BOOST_TEST(content == data);
            BOOST_TEST(used + used2 == wire.size());
            // The server (its inbound transforms re-keyed the same way) reads it too.
            BOOST_REQUIRE(p.server.put_input(boost::asio::buffer(wire)) == wire.size());
            BOOST_TEST(read_all(p.server) == data);
        }
    }
    BOOST_TEST(p.server.key_generation(true) == 10u);
}

// tlsx's HKDF-Expand-Label (no heap) gives mbedTLS's bytes (PSA), for both TLS 1.3 hashes and
// every label and length a key update uses.
BOOST_AUTO_TEST_CASE(hkdf_expand_label_matches_mbedtls, *with_tls13) {
    namespace in = tlsx::detail::internals;
    for (bool sha384 : {false, true}) {
        in::tls13_suite s;
#if TLSX_HAS_KEY_UPDATE
        s.hash = sha384 ? PSA_ALG_SHA_384 : PSA_ALG_SHA_256;
#endif
        s.hash_len = sha384 ? 48 : 32;
        unsigned char secret[48];
        for (int i = 0; i < 48; ++i)
            secret[i] = static_cast<unsigned char>(i * 7 + (sha384 ? 3 : 1));
        const std::pair<const char*, std::size_t> uses[] = {
            {"traffic upd", s.hash_len}, {"key", 16}, {"key", 32}, {"iv", 12}};
        for (auto [label, length] : uses) {
            BOOST_TEST_CONTEXT("sha384 " << sha384 << " " << label << " " << length) {
                unsigned char ours[48] = {}, theirs[48] = {};
                BOOST_REQUIRE(in::hkdf_expand_label(s, secret, label, ours, length) == 0);
                BOOST_REQUIRE(in::mbedtls_hkdf_expand_label(s, secret, label, theirs, length) == 0);
                BOOST_TEST(std::string(ours, ours + 48) == std::string(theirs, theirs + 48));
            }
        }
        unsigned char out[64];
        BOOST_TEST(in::hkdf_expand_label(s, secret, "key", out, s.hash_len + 1) ==
                   MBEDTLS_ERR_SSL_BAD_INPUT_DATA); // longer than one HMAC block
    }
}

#if TLSX_MBEDTLS36_GCM_REKEY
namespace {
/// AES-GCM of a fixed message under `g`'s key: ciphertext and tag.
std::string gcm_seal(mbedtls_gcm_context& g) {
    const unsigned char iv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const unsigned char ad[13] = {23, 3, 3, 0, 33};
    unsigned char msg[40], out[40 + 16];
    for (int i = 0; i < 40; ++i)
        msg[i] = static_cast<unsigned char>(i * 13);
    BOOST_REQUIRE(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, sizeof msg, iv, sizeof iv, ad,
                                            sizeof ad, msg, out, 16, out + 40) == 0);
    return std::string(out, out + sizeof out);
}
} // namespace

// gcm_rekey (a context's new key without mbedtls_gcm_setkey's allocation) leaves the context
// as mbedtls_gcm_setkey does, table and all, and with the table computed for the portable
// multiplication (acceleration 0) it seals as the accelerated one.
BOOST_AUTO_TEST_CASE(gcm_rekey_in_place_is_mbedtls_gcm_setkey, *with_tls13) {
    namespace in = tlsx::detail::internals;
    for (unsigned bits : {128u, 256u}) {
        unsigned char key0[32], key1[32];
        for (int i = 0; i < 32; ++i) {
            key0[i] = static_cast<unsigned char>(i);
            key1[i] = static_cast<unsigned char>(0xA5 ^ (i * 29));
        }
        mbedtls_gcm_context fresh, reused;
        mbedtls_gcm_init(&fresh);
        mbedtls_gcm_init(&reused);
        BOOST_REQUIRE(mbedtls_gcm_setkey(&fresh, MBEDTLS_CIPHER_ID_AES, key1, bits) == 0);
        BOOST_REQUIRE(mbedtls_gcm_setkey(&reused, MBEDTLS_CIPHER_ID_AES, key0, bits) == 0);
        BOOST_REQUIRE(in::gcm_rekey(reused, key1, bits) == 0);
        BOOST_TEST(std::memcmp(fresh.MBEDTLS_PRIVATE(H), reused.MBEDTLS_PRIVATE(H),
                               sizeof fresh.MBEDTLS_PRIVATE(H)) == 0,
                   "bits " << bits << " acceleration " << int(fresh.MBEDTLS_PRIVATE(acceleration)));
        const std::string want = gcm_seal(fresh);
        BOOST_TEST(gcm_seal(reused) == want);
        // The portable table (what a CPU without carry-less multiplication uses).
        reused.MBEDTLS_PRIVATE(acceleration) = 0;
        BOOST_REQUIRE(in::gcm_rekey(reused, key0, bits) == 0);
        BOOST_REQUIRE(in::gcm_rekey(reused, key1, bits) == 0);
        BOOST_TEST(gcm_seal(reused) == want, "bits " << bits << " small table");
        // A key of another length is refused, not misused.
        BOOST_TEST(in::gcm_rekey(reused, key1, bits == 128 ? 256 : 128) != 0);
        mbedtls_gcm_free(&fresh);
        mbedtls_gcm_free(&reused);
    }
}
#endif

BOOST_AUTO_TEST_CASE(renegotiate_on_a_tls13_server_is_a_key_update_asking_the_peer, *with_tls13) {
    contexts c;
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    p.pump_all();
    auto r = p.server.renegotiate(true);
    BOOST_REQUIRE_MESSAGE(!r.ec, r.ec.message());
    BOOST_TEST(p.server.key_generation(false) == 1u);
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.server, p.client, "after rehandshake", got));
    BOOST_TEST(got == "after rehandshake");
    BOOST_TEST(p.client.key_generation(true) == 1u);
    BOOST_TEST(p.client.key_generation(false) == 1u); // the client answered
    got.clear();
    BOOST_REQUIRE(!p.transfer(p.client, p.server, "answer", got));
    BOOST_TEST(got == "answer");
    BOOST_TEST(p.server.key_generation(true) == 1u);
    // A client's request stays invalid (TLS 1.3 has no renegotiation).
    BOOST_TEST(p.client.renegotiate(true).ec == tlsx::error::invalid_request);
}

BOOST_AUTO_TEST_CASE(automatic_update_after_the_threshold, *with_tls13) {
    keyed_pair k(3); // the client updates after every 3 records
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    std::string sent, got;
    for (int i = 0; i < 20; ++i) {
        const std::string rec = "record " + std::to_string(i) + ";";
        sent += rec;
        BOOST_REQUIRE(p.client.write(boost::asio::buffer(rec)).bytes == rec.size());
        p.pump_all();
        got += read_all(p.server);
    }
    BOOST_TEST(got == sent);
    // Records 1-3 under key 0, 4-6 under key 1, ...: 20 records need 6 updates.
    BOOST_TEST(p.client.key_generation(false) == 6u);
    BOOST_TEST(p.server.key_generation(true) == 6u);
    BOOST_TEST(p.server.key_generation(false) == 0u); // not asked
}

// ---- bad input -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(request_value_other_than_0_or_1_is_an_illegal_parameter, *with_tls13) {
    keyed_pair k;
    BOOST_REQUIRE(!k.p->handshake());
    tlsx_test::tls13_protector gen0(k.server_keys["SERVER_TRAFFIC_SECRET_0"]);
    expect_alert(k, gen0.seal(22, tlsx_test::key_update_message(2)), 47);
}

BOOST_AUTO_TEST_CASE(key_update_followed_by_more_handshake_data_is_unexpected, *with_tls13) {
    keyed_pair k;
    BOOST_REQUIRE(!k.p->handshake());
    tlsx_test::tls13_protector gen0(k.server_keys["SERVER_TRAFFIC_SECRET_0"]);
    expect_alert(
        k, gen0.seal(22, tlsx_test::key_update_message(0) + tlsx_test::key_update_message(0)), 10);
}

BOOST_AUTO_TEST_CASE(key_update_split_across_records_is_unexpected, *with_tls13) {
    for (std::size_t cut : {1, 4}) {
        for (bool together : {true, false}) {
            BOOST_TEST_CONTEXT("first part " << cut << " bytes, records "
                                             << (together ? "together" : "apart")) {
                keyed_pair k;
                engine_pair& p = *k.p;
                BOOST_REQUIRE(!p.handshake());
                tlsx_test::tls13_protector gen0(k.server_keys["SERVER_TRAFFIC_SECRET_0"]);
                const std::string m = tlsx_test::key_update_message(0);
                const std::string first = gen0.seal(22, m.substr(0, cut));
                const std::string second = gen0.seal(22, m.substr(cut));
                if (together) {
                    expect_alert(k, first + second, 10);
                } else {
                    // The first part alone: the read must not wait for the rest.
                    expect_alert(k, first, 10);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(key_update_of_the_wrong_length_is_a_decode_error, *with_tls13) {
    keyed_pair k;
    BOOST_REQUIRE(!k.p->handshake());
    tlsx_test::tls13_protector gen0(k.server_keys["SERVER_TRAFFIC_SECRET_0"]);
    expect_alert(k, gen0.seal(22, std::string("\x18\x00\x00\x02\x00\x00", 6)), 50);
}

BOOST_AUTO_TEST_CASE(a_flood_of_update_requests_queues_at_most_one_answer, *with_tls13) {
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(!p.handshake());
    std::string secret = k.server_keys["SERVER_TRAFFIC_SECRET_0"];
    const std::string c0 = k.client_keys["CLIENT_TRAFFIC_SECRET_0"];
    // 200 requests, each under the next key, and nothing of the client's output is sent.
    std::string records;
    for (int i = 0; i < 200; ++i) {
        tlsx_test::tls13_protector gen(secret);
        records += gen.seal(22, tlsx_test::key_update_message(1));
        secret = next_secret(secret);
    }
    tlsx_test::tls13_protector last(secret);
    records += last.seal(23, "end");
    std::size_t fed = 0;
    std::string got;
    while (fed < records.size()) {
        fed += p.client.put_input(boost::asio::buffer(records.data() + fed, records.size() - fed));
        got += read_all(p.client);
    }
    BOOST_TEST(got == "end");
    BOOST_TEST(p.client.key_generation(true) == 200u);
    // One answer, not 200: it answers them all (RFC 8446 4.6.3: "a single update").
    BOOST_TEST(p.client.key_generation(false) == 1u);
    std::string wire = take_output(p.client);
    tlsx_test::tls13_protector client_gen0(c0);
    std::string content;
    std::size_t used = 0;
    BOOST_TEST(client_gen0.open(wire, content, used) == 22);
    BOOST_TEST(content == tlsx_test::key_update_message(0));
    BOOST_TEST(used == wire.size());
    // Once that answer is sent, the next request gets its own.
    tlsx_test::tls13_protector again(secret);
    again.seal(23, "end"); // (sequence 0 was "end")
    records = again.seal(22, tlsx_test::key_update_message(1));
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(records)) == records.size());
    read_all(p.client);
    BOOST_TEST(p.client.key_generation(false) == 2u);
    tlsx_test::tls13_protector client_gen1(next_secret(c0));
    wire = take_output(p.client);
    BOOST_TEST(client_gen1.open(wire, content, used) == 22);
    BOOST_TEST(content == tlsx_test::key_update_message(0));
    BOOST_TEST(used == wire.size());
}

BOOST_AUTO_TEST_CASE(key_update_before_the_handshake_completes_is_unexpected, *with_tls13) {
    // The server's first encrypted handshake record (EncryptedExtensions...) replaced by a
    // KeyUpdate under the server's handshake keys: the client refuses it with
    // unexpected_message.
    keyed_pair k;
    engine_pair& p = *k.p;
    BOOST_REQUIRE(p.client.handshake(tlsx::stream_base::client).next == tlsx::engine::want::input);
    p.pump_all();
    p.server.handshake(tlsx::stream_base::server);
    const std::string flight = take_output(p.server);
    // Pass the records in clear (ServerHello, a compatibility ChangeCipherSpec), then the
    // crafted one instead of the encrypted rest.
    std::size_t at = 0;
    while (at + 5 <= flight.size() && flight[at] != '\x17')
        at += 5 + ((static_cast<unsigned char>(flight[at + 3]) << 8) |
                   static_cast<unsigned char>(flight[at + 4]));
    BOOST_REQUIRE(at < flight.size()); // the encrypted part starts here
    tlsx_test::tls13_protector hs(k.server_keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"]);
    const std::string input = flight.substr(0, at) + hs.seal(22, tlsx_test::key_update_message(0));
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(input)) == input.size());
    auto r = p.client.handshake(tlsx::stream_base::client);
    BOOST_TEST(r.ec);
    BOOST_TEST(p.client.failed());
    BOOST_TEST(!p.client.handshake_done());
    // The alert: in clear, or under the client's handshake keys.
    std::string wire = take_output(p.client);
    std::size_t from = 0;
    while (from + 5 <= wire.size() && wire[from] == '\x14') // a ChangeCipherSpec first
        from += 5 + static_cast<unsigned char>(wire[from + 4]);
    BOOST_REQUIRE(from + 5 < wire.size());
    std::string content;
    if (wire[from] == '\x15') {
        content = wire.substr(from + 5, 2);
    } else {
        tlsx_test::tls13_protector chs(k.client_keys["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]);
        std::size_t used = 0;
        BOOST_TEST(chs.open(std::string_view(wire).substr(from), content, used) == 21);
    }
    BOOST_TEST(content == std::string("\x02\x0a", 2));
}

// ---- where there is no key update ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(key_update_on_a_tls12_session_is_unsupported) {
    contexts c;
    c.client.set_max_version(tlsx::tls_version::tls1_2);
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_REQUIRE(p.client.protocol_version() == "TLSv1.2");
    const auto before = p.client.output_produced();
    BOOST_TEST(p.client.key_update(false).ec == tlsx::error::key_update_unsupported);
    BOOST_TEST(p.server.key_update(true).ec == tlsx::error::key_update_unsupported);
    BOOST_TEST(p.client.output_produced() == before);
    BOOST_TEST(!p.client.failed());
    std::string got;
    BOOST_REQUIRE(!p.transfer(p.client, p.server, "still fine", got));
    BOOST_TEST(got == "still fine");
}

namespace {

/// TLS 1.2 PRF with SHA-256 (RFC 5246 section 5).
std::string prf12(const std::string& secret, const std::string& label_seed, std::size_t n) {
    const mbedtls_md_info_t* md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    auto hmac = [&](const std::string& m) {
        unsigned char out[32];
        BOOST_REQUIRE(mbedtls_md_hmac(
                          md, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                          reinterpret_cast<const unsigned char*>(m.data()), m.size(), out) == 0);
        return std::string(reinterpret_cast<char*>(out), 32);
    };
    std::string a = label_seed, out;
    while (out.size() < n) {
        a = hmac(a);
        out += hmac(a + label_seed);
    }
    return out.substr(0, n);
}

/// One TLS 1.2 AES-128-GCM record of the server's (RFC 5288): explicit nonce = the sequence.
std::string seal12(const std::string& key, const std::string& salt, std::uint64_t seq,
                   unsigned char type, const std::string& content) {
    std::string seqb;
    for (int i = 7; i >= 0; --i)
        seqb.push_back(static_cast<char>(seq >> (8 * i)));
    std::string aad = seqb;
    aad += {static_cast<char>(type), '\x03', '\x03', static_cast<char>(content.size() >> 8),
            static_cast<char>(content.size() & 0xff)};
    const std::string nonce = salt + seqb;
    std::string out(content.size(), '\0');
    unsigned char tag[16];
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES,
                                 reinterpret_cast<const unsigned char*>(key.data()), 128);
    if (ret == 0)
        ret = mbedtls_gcm_crypt_and_tag(
            &gcm, MBEDTLS_GCM_ENCRYPT, content.size(),
            reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size(),
            reinterpret_cast<const unsigned char*>(aad.data()), aad.size(),
            reinterpret_cast<const unsigned char*>(content.data()),
            reinterpret_cast<unsigned char*>(out.data()), 16, tag);
    mbedtls_gcm_free(&gcm);
    BOOST_REQUIRE(ret == 0);
    const std::size_t len = 8 + out.size() + 16;
    std::string rec = {static_cast<char>(type), '\x03', '\x03', static_cast<char>(len >> 8),
                       static_cast<char>(len & 0xff)};
    return rec + seqb + out + std::string(reinterpret_cast<char*>(tag), 16);
}

} // namespace

BOOST_AUTO_TEST_CASE(key_update_under_tls12_is_unexpected) {
    // A KeyUpdate means nothing in TLS 1.2: the server's next record (sequence 1, after its
    // Finished) carries one, crafted from the key log's master secret and the hello randoms.
    contexts c;
    c.client.set_max_version(tlsx::tls_version::tls1_2);
    c.client.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
    c.server.disable_session_tickets();
    tlsx_test::key_log keys;
    c.client.set_keylog_callback([&](std::string_view l) { keys.add(l); });
    engine_pair p(c.client, c.server);
    BOOST_REQUIRE(!p.handshake());
    BOOST_REQUIRE(p.client.protocol_version() == "TLSv1.2");
    // The randoms: record header (5), handshake header (4), version (2), then 32 bytes.
    const std::string client_random = p.client_to_server.substr(11, 32);
    const std::string server_random = p.server_to_client.substr(11, 32);
    const std::string block =
        prf12(keys["CLIENT_RANDOM"], "key expansion" + server_random + client_random, 40);
    const std::string server_key = block.substr(16, 16), server_salt = block.substr(36, 4);
    const std::string record =
        seal12(server_key, server_salt, 1, 22, tlsx_test::key_update_message(0));
    BOOST_REQUIRE(p.client.put_input(boost::asio::buffer(record)) == record.size());
    char buf[64];
    auto r = p.client.read(boost::asio::buffer(buf));
    BOOST_TEST(r.ec);
    BOOST_TEST(p.client.failed());
    // The client's fatal unexpected_message alert, its record 1 under its keys: the same
    // record sealed here (GCM is deterministic for a given key, nonce and content).
    const std::string wire = take_output(p.client);
    const std::string client_key = block.substr(0, 16), client_salt = block.substr(32, 4);
    BOOST_TEST(wire == seal12(client_key, client_salt, 1, 21, std::string("\x02\x0a", 2)));
}

BOOST_AUTO_TEST_CASE(key_update_before_the_handshake_is_not_handshaken) {
    contexts c;
    tlsx::engine e(c.client);
    BOOST_TEST(e.key_update(false).ec == tlsx::error::not_handshaken);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- streams: full duplex while keys move --------------------------------------------------

namespace {

namespace net = boost::asio;
using tlsx::error_code;
using tls_stream = tlsx::stream<tlsx::test::pipe>;

/// `rounds` chained async_key_update on `s` (every other one asking the peer), each started
/// when the previous completed, on `ex`; `done` counts completions, `ec` keeps the first error.
struct updater {
    updater(tls_stream& stream, net::any_io_executor x, int n)
        : s(stream)
        , ex(std::move(x))
        , rounds(n) {}

    tls_stream& s;
    net::any_io_executor ex;
    int rounds;
    std::atomic<int> done{0};
    error_code ec;

    void start() {
        s.async_key_update(done % 2 == 1, net::bind_executor(ex, [this](error_code e) {
                               if (e && !ec)
                                   ec = e;
                               if (++done < rounds && !e)
                                   start();
                           }));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(key_update) // (one CTest test per file: the file's suite, again)
BOOST_AUTO_TEST_SUITE(streams)

BOOST_AUTO_TEST_CASE(updates_while_a_read_and_a_write_are_pending_single_thread, *with_tls13) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    p.server_ctx.set_key_update_threshold(5); // and the server's automatic updates
    p.client.next_layer().set_write_size(1000);
    auto [cec, sec] = tlsx_test::handshake_both(io, p.client, p.server);
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
    const std::string up = tlsx_test::pattern(400000, 1), down = tlsx_test::pattern(300000, 2);
    tlsx_test::duplex_peer c{p.client, up, down.size(), io.get_executor()},
        s{p.server, down, up.size(), io.get_executor()};
    updater cu{p.client, io.get_executor(), 6}, su{p.server, io.get_executor(), 6};
    c.start();
    s.start();
    cu.start();
    su.start();
    BOOST_TEST(tlsx_test::run_bounded(io));
    BOOST_TEST(!cu.ec);
    BOOST_TEST(!su.ec);
    BOOST_TEST(cu.done.load() == 6);
    BOOST_TEST(su.done.load() == 6);
    BOOST_TEST(!c.read_ec);
    BOOST_TEST(!s.read_ec);
    BOOST_TEST(c.sum == tlsx_test::checksum(down.data(), down.size()));
    BOOST_TEST(s.sum == tlsx_test::checksum(up.data(), up.size()));
    // Each side's 6 updates and at least one answer to the peer's 3 requests (answers to
    // requests that arrive while one is unsent coalesce), and the server's automatic ones.
    // What a side received is what the other sent, but for updates sent after the last read.
    const tlsx::engine& ce = p.client.get_engine();
    const tlsx::engine& se = p.server.get_engine();
    BOOST_TEST(ce.key_generation(false) >= 7u);
    BOOST_TEST(se.key_generation(false) >= 7u + 300000 / 10000 / 5 / 2);
    BOOST_TEST(se.key_generation(true) <= ce.key_generation(false));
    BOOST_TEST(ce.key_generation(true) <= se.key_generation(false));
    BOOST_TEST(ce.key_generation(true) >= 1u);
}

BOOST_AUTO_TEST_CASE(updates_while_a_read_and_a_write_are_pending_two_threads_with_strands,
                     *with_tls13) {
    net::io_context io;
    auto cstrand = net::make_strand(io);
    auto sstrand = net::make_strand(io);
    tlsx_test::context_pair ctx;
    ctx.client.set_key_update_threshold(7);
    ctx.server.set_key_update_threshold(11);
    auto [cp, sp] = tlsx::test::make_pipe(net::any_io_executor(io.get_executor()));
    tls_stream client(tlsx::test::pipe(std::move(cp)), ctx.client);
    tls_stream server(tlsx::test::pipe(std::move(sp)), ctx.server);
    client.set_server_name("localhost");
    client.next_layer().set_write_size(3000);
    const std::string up = tlsx_test::pattern(1000000, 3), down = tlsx_test::pattern(800000, 4);
    tlsx_test::duplex_peer c{client, up, down.size(), cstrand}, s{server, down, up.size(), sstrand};
    updater cu{client, cstrand, 10}, su{server, sstrand, 10};
    std::atomic<int> handshakes{0};
    net::dispatch(cstrand, [&] {
        client.async_handshake(tlsx::stream_base::client,
                               net::bind_executor(cstrand, [&](error_code ec) {
                                   if (ec) // counted below: no Boost.Test call off the main thread
                                       return;
                                   ++handshakes;
                                   c.start();
                                   cu.start();
                               }));
    });
    net::dispatch(sstrand, [&] {
        server.async_handshake(tlsx::stream_base::server,
                               net::bind_executor(sstrand, [&](error_code ec) {
                                   if (ec) // counted below: no Boost.Test call off the main thread
                                       return;
                                   ++handshakes;
                                   s.start();
                                   su.start();
                               }));
    });
    std::thread t([&] { io.run_for(std::chrono::seconds(60)); });
    io.run_for(std::chrono::seconds(60));
    t.join();
    BOOST_TEST(handshakes.load() == 2);
    BOOST_TEST(cu.done.load() == 10);
    BOOST_TEST(su.done.load() == 10);
    BOOST_TEST(!cu.ec);
    BOOST_TEST(!su.ec);
    BOOST_TEST(!c.read_ec);
    BOOST_TEST(!s.read_ec);
    BOOST_TEST(s.sum == tlsx_test::checksum(up.data(), up.size()));
    BOOST_TEST(c.sum == tlsx_test::checksum(down.data(), down.size()));
    BOOST_TEST(client.get_engine().key_generation(false) > 10u); // automatic ones too
    BOOST_TEST(server.get_engine().key_generation(false) > 10u);
}

BOOST_AUTO_TEST_CASE(sync_key_update_and_its_error_on_tls12) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    if (backend::has_tls13) {
        auto [cec, sec] = tlsx_test::handshake_both(io, p.client, p.server);
        BOOST_REQUIRE(!cec);
        BOOST_REQUIRE(!sec);
        error_code ec;
        p.client.key_update(true, ec); // written to the pipe: nothing else needs to run
        BOOST_TEST(!ec);
        BOOST_TEST(p.client.get_engine().key_generation(false) == 1u);
    }
    tlsx::test::tls_pair q(io);
    q.client_ctx.set_max_version(tlsx::tls_version::tls1_2);
    auto [cec, sec] = tlsx_test::handshake_both(io, q.client, q.server);
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
    error_code ec;
    q.client.key_update(false, ec);
    BOOST_TEST(ec == tlsx::error::key_update_unsupported);
    BOOST_CHECK_THROW(q.server.key_update(true), boost::system::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
BOOST_AUTO_TEST_SUITE_END()
