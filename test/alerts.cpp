// The alert a session sends when it fails (issue 14 item 1): engine-level, with crafted bytes.
// Each test feeds one engine what a hostile or broken peer would send and checks what went out:
// exactly one fatal alert record, and the RFC 5246 / RFC 8446 description for the condition.
// Alerts sent before keys are in clear and read off the wire; encrypted ones are counted on the
// wire (one record) and decrypted by the peer engine, which reports the description it got.
#include <tlsx/engine.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/engine_pair.hpp"
#include "support/run.hpp"
#include "support/tls13_records.hpp"

#include <boost/test/unit_test.hpp>

#include <mbedtls/ssl.h>

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

using tlsx_test::engine_pair;
using want = tlsx::engine::want;

namespace {

constexpr int unexpected_message = MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
constexpr int bad_record_mac = MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC;
constexpr int record_overflow = MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW;
constexpr int handshake_failure = MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
constexpr int illegal_parameter = MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER;
constexpr int decode_error = MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
constexpr int protocol_version = MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION;

const auto with_tls13 = boost::unit_test::precondition(backend::needs_tls13{"TLS 1.3 records"});

using contexts = tlsx_test::context_pair;

tlsx::error_code alert(int description) {
    return {description, tlsx::alert_category()};
}

struct record {
    int type;
    std::string body;
};

/// The records of `wire` (a trailing partial record is returned as a record of type -1).
std::vector<record> records_of(const std::string& wire) {
    std::vector<record> out;
    std::size_t i = 0;
    while (i < wire.size()) {
        if (wire.size() - i < 5) {
            out.push_back({-1, wire.substr(i)});
            break;
        }
        const std::size_t len =
            static_cast<unsigned char>(wire[i + 3]) << 8 | static_cast<unsigned char>(wire[i + 4]);
        if (wire.size() - i - 5 < len) {
            out.push_back({-1, wire.substr(i)});
            break;
        }
        out.push_back({static_cast<unsigned char>(wire[i]), wire.substr(i + 5, len)});
        i += 5 + len;
    }
    return out;
}

std::string make_record(int type, const std::string& body, int minor = 3) {
    std::string r{static_cast<char>(type), 3, static_cast<char>(minor),
                  static_cast<char>(body.size() >> 8), static_cast<char>(body.size() & 0xff)};
    return r + body;
}

std::string hs_message(int type, const std::string& body) {
    return std::string{static_cast<char>(type), static_cast<char>(body.size() >> 16),
                       static_cast<char>((body.size() >> 8) & 0xff),
                       static_cast<char>(body.size() & 0xff)} +
           body;
}

/// What `e` queued for the transport, taken out.
std::string drain(tlsx::engine& e) {
    std::string out;
    while (e.has_output()) {
        auto b = e.output();
        out.append(static_cast<const char*>(b.data()), b.size());
        e.consume_output(b.size());
    }
    return out;
}

/// Feed `bytes` to `e` and step it (handshake, or read once it is handshaken) until it fails
/// or wants input that is not there; returns the step's last error.
tlsx::error_code feed(tlsx::engine& e, tlsx::stream_base::handshake_type role,
                      const std::string& bytes) {
    std::size_t off = 0;
    char buf[20000];
    for (int i = 0; i < 100000; ++i) {
        off += e.put_input(boost::asio::buffer(bytes.data() + off, bytes.size() - off));
        tlsx::engine::result r =
            e.handshake_done() ? e.read(boost::asio::buffer(buf)) : e.handshake(role);
        if (r.ec)
            return r.ec;
        if (r.next == want::input && off == bytes.size())
            return {};
        if (r.next == want::nothing && e.handshake_done() && r.bytes == 0 && off == bytes.size())
            return {};
    }
    return boost::asio::error::timed_out;
}

/** "" if `wire` is exactly one record, an alert in clear, fatal, with `description`; else what
    it is instead. */
std::string one_clear_alert(const std::string& wire, int description) {
    const std::vector<record> recs = records_of(wire);
    std::ostringstream s;
    if (recs.size() == 1 && recs[0].type == MBEDTLS_SSL_MSG_ALERT && recs[0].body.size() == 2 &&
        recs[0].body[0] == 2 && static_cast<unsigned char>(recs[0].body[1]) == description)
        return {};
    s << "expected one fatal alert " << description << ", got " << recs.size() << " records:";
    for (const record& r : recs) {
        s << " [type " << r.type << ", " << r.body.size() << " bytes";
        if (r.type == MBEDTLS_SSL_MSG_ALERT && r.body.size() == 2)
            s << ": " << int(r.body[0]) << "/" << int(static_cast<unsigned char>(r.body[1]));
        s << "]";
    }
    return s.str();
}

/// A client's first flight (its ClientHello record) for `cctx`.
std::string client_hello(const tlsx::context& cctx) {
    tlsx::engine c(cctx);
    tlsx::error_code ec;
    c.set_server_name("localhost", ec);
    c.handshake(tlsx::stream_base::client);
    return drain(c);
}

/// A fresh server's answer to `bytes`: its error and its output.
struct answer {
    tlsx::error_code ec;
    std::string out;
};

answer server_answer(const tlsx::context& sctx, const std::string& bytes) {
    tlsx::engine s(sctx);
    answer a;
    a.ec = feed(s, tlsx::stream_base::server, bytes);
    a.out = drain(s);
    return a;
}

/// The ClientHello body (after the record and handshake headers) and where its extensions
/// block starts (the offset of its two-byte length).
struct hello {
    std::string body;
    std::size_t extensions_at = 0;
};

hello parse_hello(const std::string& record_bytes) {
    hello h;
    h.body = record_bytes.substr(9);
    std::size_t i = 2 + 32;
    i += 1 + static_cast<unsigned char>(h.body[i]); // session id
    i += 2 +
         (static_cast<unsigned char>(h.body[i]) << 8 | static_cast<unsigned char>(h.body[i + 1]));
    i += 1 + static_cast<unsigned char>(h.body[i]); // compression methods
    h.extensions_at = i;
    return h;
}

std::string hello_record(const std::string& body) {
    return make_record(MBEDTLS_SSL_MSG_HANDSHAKE, hs_message(MBEDTLS_SSL_HS_CLIENT_HELLO, body), 1);
}

/// A TLS 1.2 handshake stopped where the client's second flight (ClientKeyExchange,
/// ChangeCipherSpec, Finished) is about to reach the server.
struct tls12_second_flight {
    contexts c;
    tlsx::engine client{(backend::tls12_only(c.client), c.client)};
    tlsx::engine server{c.server};
    std::vector<record> flight; // the client's, as records

    tls12_second_flight() {
        tlsx::error_code ec;
        client.set_server_name("localhost", ec);
        client.handshake(tlsx::stream_base::client);
        BOOST_REQUIRE(!feed(server, tlsx::stream_base::server, drain(client)));
        BOOST_REQUIRE(!feed(client, tlsx::stream_base::client, drain(server)));
        flight = records_of(drain(client));
    }

    std::size_t index_of(int type) const {
        for (std::size_t i = 0; i < flight.size(); ++i)
            if (flight[i].type == type)
                return i;
        return flight.size();
    }

    /// The flight with record `i` replaced by `replacement` (several records, or none).
    std::string with(std::size_t i, const std::string& replacement) const {
        std::string out;
        for (std::size_t k = 0; k < flight.size(); ++k)
            out += k == i ? replacement : make_record(flight[k].type, flight[k].body);
        return out;
    }
};

/// A finished handshake between `c`'s contexts; the server's first application record (or
/// alert) has sequence number 0 (no tickets).
struct established {
    tlsx_test::key_log client_keys;
    engine_pair p;

    explicit established(contexts& c)
        : p((c.server.disable_session_tickets(),
             c.client.set_keylog_callback([this](std::string_view l) { client_keys.add(l); }),
             c.client),
            c.server) {
        BOOST_REQUIRE(!p.handshake());
    }

    /// Feed `bytes` to the server as the client would send them; returns the server's error
    /// and leaves its output in `out`.
    tlsx::error_code to_server(const std::string& bytes, std::string& out) {
        tlsx::error_code ec = feed(p.server, tlsx::stream_base::server, bytes);
        out = drain(p.server);
        return ec;
    }

    /// What the client makes of `wire` from the server (the alert it reports, decrypted).
    tlsx::error_code client_reads(const std::string& wire) {
        return feed(p.client, tlsx::stream_base::client, wire);
    }
};

/** A TLS 1.3 peer's handshake-keyed records in `flight` (after its clear ones), opened with
    `secret`: their contents in order (handshake type 22 or alert 21 each). */
std::vector<std::string> open_tls13_flight(const std::string& secret, const std::string& flight,
                                           std::vector<unsigned char>* types = nullptr) {
    tlsx_test::tls13_protector hs(secret);
    std::vector<std::string> out;
    for (const record& r : records_of(flight)) {
        if (r.type != MBEDTLS_SSL_MSG_APPLICATION_DATA)
            continue;
        std::string content;
        std::size_t used = 0;
        const unsigned char t = hs.open(make_record(r.type, r.body), content, used);
        if (types)
            types->push_back(t);
        out.push_back(content);
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(alerts)

// ---- the first handshake, in clear ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(truncated_client_hello_gets_decode_error_at_every_length) {
    contexts c;
    const hello h = parse_hello(client_hello(c.client));
    BOOST_REQUIRE(h.body.size() > 100);
    std::string failures;
    int runs = 0;
    for (std::size_t k = 0; k < h.body.size(); ++k) {
        if (k == h.extensions_at)
            continue; // a ClientHello without extensions: well formed (RFC 5246 7.4.1.2)
        ++runs;
        answer a = server_answer(c.server, hello_record(h.body.substr(0, k)));
        std::string why = one_clear_alert(a.out, decode_error);
        if (!a.ec)
            why += " (no error)";
        if (!why.empty())
            failures += "\n  length " + std::to_string(k) + ": " + why;
    }
    BOOST_TEST(runs > 100);
    BOOST_TEST(failures.empty(), failures);
}

/// The ClientHello `h` with `pad` bytes more at its end, inside its extensions block (whose
/// length then runs past the last extension: a truncated extension header or body).
std::string padded_inside_extensions(const hello& h, std::size_t pad) {
    std::string body = h.body + std::string(pad, '\x01');
    const std::size_t at = h.extensions_at;
    const std::size_t len =
        (static_cast<unsigned char>(body[at]) << 8 | static_cast<unsigned char>(body[at + 1])) +
        pad;
    body[at] = static_cast<char>(len >> 8);
    body[at + 1] = static_cast<char>(len & 0xff);
    return body;
}

BOOST_AUTO_TEST_CASE(padded_client_hello_gets_decode_error) {
    for (bool tls12 : {true, false}) {
        contexts c;
        if (tls12)
            backend::tls12_only(c.client);
        const hello h = parse_hello(client_hello(c.client));
        std::string failures;
        for (std::size_t pad : {1, 2, 3, 4, 5, 7, 16, 100, 1000}) {
            answer a = server_answer(c.server, hello_record(padded_inside_extensions(h, pad)));
            std::string why = one_clear_alert(a.out, decode_error);
            if (!a.ec)
                why += " (no error)";
            if (!why.empty())
                failures += "\n  " + std::to_string(pad) + " bytes more: " + why;
        }
        BOOST_TEST(failures.empty(), (tls12 ? "TLS 1.2 hello" : "default hello") << failures);
    }
}

// Bytes after the extensions block, which its length does not cover: RFC 5246 7.4.1.2 and RFC
// 8446 4.1.2 have nothing there, so the message's length is wrong (decode_error). Measured:
BOOST_AUTO_TEST_CASE(bytes_after_the_client_hello_extensions) {
    for (bool tls12 : {true, false}) {
        contexts c;
        if (tls12)
            backend::tls12_only(c.client);
        const hello h = parse_hello(client_hello(c.client));
        std::string report;
        for (std::size_t pad : {1, 2, 5, 100}) {
            answer a = server_answer(c.server, hello_record(h.body + std::string(pad, '\x01')));
            const std::vector<record> recs = records_of(a.out);
            const bool accepted =
                !a.ec && !recs.empty() && recs[0].type == MBEDTLS_SSL_MSG_HANDSHAKE;
            report += " " + std::to_string(pad) + (accepted ? ":accepted" : ":refused");
            // mbedTLS 3.6's TLS 1.3 ClientHello parser stops at the end of the extensions
            // block and ignores what follows; its TLS 1.2 parser (and 2.28's) refuses it.
            const bool lenient = backend::has_tls13 && !tls12;
            BOOST_TEST(accepted == lenient, "pad " << pad << ": " << a.ec.message());
            if (!accepted) {
                BOOST_TEST(one_clear_alert(a.out, decode_error) == "", "pad " << pad);
            }
        }
        BOOST_TEST_MESSAGE((tls12 ? "TLS 1.2 hello" : "default hello") << report);
    }
}

BOOST_AUTO_TEST_CASE(records_split_at_odd_places_on_the_transport_still_succeed) {
    for (std::size_t chunk : {1, 2, 3, 4, 5, 6, 7, 11, 13, 97, 1000, 1500}) {
        BOOST_TEST_CONTEXT("chunks of " << chunk) {
            contexts c;
            engine_pair p(c.client, c.server);
            p.chunk = chunk;
            BOOST_TEST(!p.handshake());
            std::string got;
            BOOST_TEST(!p.transfer(p.client, p.server, "after an odd split", got));
            BOOST_TEST(got == "after an odd split");
        }
    }
}

// RFC 5246 6.2.1 and RFC 8446 5.1 let a handshake message span records. What each backend
// does with a ClientHello so split, measured (docs/security.md "Alerts").
BOOST_AUTO_TEST_CASE(client_hello_fragmented_over_records) {
    contexts c;
    const std::string whole = client_hello(c.client);
    const std::string msg = whole.substr(5); // the handshake message
    std::string report;
    for (std::size_t at : {std::size_t(1), std::size_t(3), std::size_t(4), std::size_t(5),
                           std::size_t(40), msg.size() / 2, msg.size() - 1}) {
        const std::string split = make_record(MBEDTLS_SSL_MSG_HANDSHAKE, msg.substr(0, at), 1) +
                                  make_record(MBEDTLS_SSL_MSG_HANDSHAKE, msg.substr(at), 1);
        answer a = server_answer(c.server, split);
        const std::vector<record> recs = records_of(a.out);
        const bool accepted = !a.ec && !recs.empty() && recs[0].type == MBEDTLS_SSL_MSG_HANDSHAKE;
        BOOST_TEST_CONTEXT("split after " << at << " bytes") {
            if (backend::mbedtls3 && at >= 4) {
                // mbedTLS 3.6.3 and later reassemble a message whose header is in the first
                // fragment: the server answers with its ServerHello.
                BOOST_TEST(accepted, a.ec.message());
            } else {
                // A header split itself (both backends), or any split on 2.28: refused, with
                // one alert naming it.
                BOOST_TEST(!accepted);
                BOOST_TEST(a.ec);
                BOOST_TEST(one_clear_alert(a.out, decode_error) == "");
            }
        }
        report += " " + std::to_string(at) + (accepted ? ":accepted" : ":refused");
    }
    BOOST_TEST_MESSAGE("ClientHello split over two records, by first fragment size:" << report);
}

BOOST_AUTO_TEST_CASE(oversized_first_record_gets_record_overflow) {
    contexts c;
    // 2^14 + 2048 + 1 bytes: over RFC 5246's limit for any record.
    std::string rec = make_record(MBEDTLS_SSL_MSG_HANDSHAKE, std::string(16384 + 2048 + 1, 'x'), 1);
    answer a = server_answer(c.server, rec);
    BOOST_TEST(a.ec);
    BOOST_TEST(one_clear_alert(a.out, record_overflow) == "");
}

BOOST_AUTO_TEST_CASE(client_hello_of_an_old_version_gets_protocol_version) {
    contexts c;
    backend::tls12_only(c.client);
    hello h = parse_hello(client_hello(c.client));
    h.body[0] = 3;
    h.body[1] = 2; // TLS 1.1, below the server's minimum
    answer a = server_answer(c.server, hello_record(h.body));
    BOOST_TEST(a.ec);
    BOOST_TEST(one_clear_alert(a.out, protocol_version) == "");
}

BOOST_AUTO_TEST_CASE(no_common_cipher_suite_gets_handshake_failure) {
    contexts c;
    backend::tls12_only(c.client);
    c.client.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
    c.server.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"});
    answer a = server_answer(c.server, client_hello(c.client));
    BOOST_TEST(a.ec);
    BOOST_TEST(one_clear_alert(a.out, handshake_failure) == "");
}

BOOST_AUTO_TEST_CASE(unknown_record_type_gets_unexpected_message) {
    contexts c;
    answer a = server_answer(c.server, make_record(0x30, "\x01\x02\x03", 1));
    BOOST_TEST(a.ec);
    BOOST_TEST(one_clear_alert(a.out, unexpected_message) == "");
}

// A ClientHello's record version is legacy (RFC 5246 E.1, RFC 8446 5.1: ignored), and the
// backends differ on what they take there. Measured: 3.6 takes 2.0 but nothing above 3.4;
// 2.28 takes any major version from 3 up but not 2.0. What is refused gets protocol_version.
BOOST_AUTO_TEST_CASE(client_hello_record_version) {
    struct {
        const char* version;
        bool accepted; // by this backend
    } const cases[] = {{"\x02\x00", backend::mbedtls3},
                       {"\x03\x05", !backend::mbedtls3},
                       {"\x04\x01", !backend::mbedtls3}};
    contexts c;
    for (const auto& k : cases) {
        std::string hello = client_hello(c.client);
        hello[1] = k.version[0];
        hello[2] = k.version[1];
        answer a = server_answer(c.server, hello);
        BOOST_TEST_CONTEXT("record version " << int(k.version[0]) << "." << int(k.version[1])) {
            if (k.accepted) {
                const std::vector<record> recs = records_of(a.out);
                BOOST_TEST(!a.ec, a.ec.message());
                BOOST_TEST((!recs.empty() && recs[0].type == MBEDTLS_SSL_MSG_HANDSHAKE));
            } else {
                BOOST_TEST(a.ec);
                BOOST_TEST(one_clear_alert(a.out, protocol_version) == "");
            }
        }
    }
}

// mbedTLS refuses a ChangeCipherSpec of the wrong length and tells the peer nothing; tlsx
// sends unexpected_message, RFC 8446 5's alert for it (RFC 5246 7.1 names none).
BOOST_AUTO_TEST_CASE(two_byte_change_cipher_spec_in_tls12_gets_unexpected_message) {
    tls12_second_flight f;
    const std::size_t ccs = f.index_of(MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC);
    BOOST_REQUIRE(ccs < f.flight.size());
    tlsx::error_code ec =
        feed(f.server, tlsx::stream_base::server,
             f.with(ccs, make_record(MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC, "\x01\x01")));
    BOOST_TEST(ec);
    BOOST_TEST(one_clear_alert(drain(f.server), unexpected_message) == "");
}

BOOST_AUTO_TEST_CASE(application_data_before_change_cipher_spec_gets_unexpected_message) {
    tls12_second_flight f;
    const std::size_t ccs = f.index_of(MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC);
    BOOST_REQUIRE(ccs < f.flight.size());
    tlsx::error_code ec = feed(f.server, tlsx::stream_base::server,
                               f.with(ccs, make_record(MBEDTLS_SSL_MSG_APPLICATION_DATA, "early")));
    BOOST_TEST(ec);
    BOOST_TEST(one_clear_alert(drain(f.server), unexpected_message) == "");
}

BOOST_AUTO_TEST_CASE(application_data_before_client_key_exchange_gets_unexpected_message) {
    tls12_second_flight f;
    BOOST_REQUIRE(!f.flight.empty());
    BOOST_REQUIRE(f.flight[0].type == MBEDTLS_SSL_MSG_HANDSHAKE);
    const std::string early = make_record(MBEDTLS_SSL_MSG_APPLICATION_DATA, "early") +
                              make_record(f.flight[0].type, f.flight[0].body);
    tlsx::error_code ec = feed(f.server, tlsx::stream_base::server, f.with(0, early));
    BOOST_TEST(ec);
    BOOST_TEST(one_clear_alert(drain(f.server), unexpected_message) == "");
}

// TLS 1.3: RFC 8446 5: a change_cipher_spec other than the single byte 0x01 gets
// unexpected_message. The server has its handshake keys by then: its alert is encrypted, and
// opened here with the server's handshake traffic secret after its own flight's records.
BOOST_AUTO_TEST_CASE(two_byte_change_cipher_spec_in_tls13_gets_unexpected_message, *with_tls13) {
    for (const std::string& ccs : {std::string("\x01\x01", 2), std::string("\x02", 1)}) {
        BOOST_TEST_CONTEXT("change_cipher_spec of " << ccs.size() << " bytes") {
            contexts c;
            tlsx_test::key_log server_keys;
            c.server.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
            c.server.set_keylog_callback([&](std::string_view l) { server_keys.add(l); });
            tlsx::engine server(c.server);
            BOOST_REQUIRE(!feed(server, tlsx::stream_base::server, client_hello(c.client)));
            const std::string flight = drain(server);
            BOOST_TEST(feed(server, tlsx::stream_base::server,
                            make_record(MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC, ccs)));
            const std::string out = drain(server);
            BOOST_REQUIRE(records_of(out).size() == 1u);
            tlsx_test::tls13_protector hs(server_keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"]);
            std::string content;
            std::size_t used = 0;
            for (const record& r : records_of(flight))
                if (r.type == MBEDTLS_SSL_MSG_APPLICATION_DATA)
                    hs.open(make_record(r.type, r.body), content, used);
            BOOST_TEST(hs.open(out, content, used) == MBEDTLS_SSL_MSG_ALERT);
            BOOST_TEST(content.size() == 2u);
            BOOST_TEST((content.size() == 2 && content[0] == 2 && content[1] == unexpected_message),
                       "alert " << int(content[0]) << "/"
                                << int(content.size() > 1 ? content[1] : -1));
        }
    }
}

// mbedTLS's own alert in a TLS 1.3 handshake is encrypted: its record's header says
// application_data, and tlsx, which looked at that header, sent handshake_failure after it.
BOOST_AUTO_TEST_CASE(corrupted_tls13_client_finished_gets_one_bad_record_mac, *with_tls13) {
    contexts c;
    tlsx_test::key_log server_keys;
    c.server.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
    c.server.set_keylog_callback([&](std::string_view l) { server_keys.add(l); });
    tlsx::engine client(c.client);
    tlsx::engine server(c.server);
    tlsx::error_code ec;
    client.set_server_name("localhost", ec);
    client.handshake(tlsx::stream_base::client);
    BOOST_REQUIRE(!feed(server, tlsx::stream_base::server, drain(client)));
    const std::string server_flight = drain(server);
    BOOST_REQUIRE(!feed(client, tlsx::stream_base::client, server_flight));
    BOOST_REQUIRE(client.handshake_done());
    std::string flight = drain(client);
    BOOST_REQUIRE(flight.size() > 20);
    flight[flight.size() - 3] ^= 0x40; // in the last record's tag
    BOOST_TEST(feed(server, tlsx::stream_base::server, flight));
    const std::string out = drain(server);
    BOOST_REQUIRE(records_of(out).size() == 1u);
    // mbedTLS 3.6 still writes under its handshake keys until the client's Finished is in.
    tlsx_test::tls13_protector hs(server_keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"]);
    std::string content;
    std::size_t used = 0;
    for (const record& r : records_of(server_flight))
        if (r.type == MBEDTLS_SSL_MSG_APPLICATION_DATA)
            hs.open(make_record(r.type, r.body), content, used);
    BOOST_TEST(hs.open(out, content, used) == MBEDTLS_SSL_MSG_ALERT);
    BOOST_TEST((content.size() == 2 && content[0] == 2 && content[1] == bad_record_mac));
}

// ---- after the handshake: encrypted alerts, one record, decrypted by the peer ---------------

BOOST_AUTO_TEST_CASE(garbage_after_the_tls12_handshake_gets_bad_record_mac) {
    contexts c;
    backend::tls12_only(c.client);
    established e(c);
    std::string out;
    BOOST_TEST(
        e.to_server(make_record(MBEDTLS_SSL_MSG_APPLICATION_DATA, std::string(64, '\xab')), out));
    const std::vector<record> recs = records_of(out);
    BOOST_REQUIRE(recs.size() == 1u);
    BOOST_TEST(recs[0].type == MBEDTLS_SSL_MSG_ALERT); // TLS 1.2 headers show the type
    BOOST_TEST(e.client_reads(out) == alert(bad_record_mac));
}

BOOST_AUTO_TEST_CASE(garbage_after_the_tls13_handshake_gets_bad_record_mac, *with_tls13) {
    contexts c;
    established e(c);
    std::string out;
    BOOST_TEST(
        e.to_server(make_record(MBEDTLS_SSL_MSG_APPLICATION_DATA, std::string(64, '\xab')), out));
    BOOST_REQUIRE(records_of(out).size() == 1u);
    BOOST_TEST(e.client_reads(out) == alert(bad_record_mac));
}

BOOST_AUTO_TEST_CASE(oversized_record_after_the_handshake_gets_record_overflow) {
    for (bool tls13 : {false, true}) {
        if (tls13 && !backend::has_tls13)
            continue;
        BOOST_TEST_CONTEXT((tls13 ? "TLS 1.3" : "TLS 1.2")) {
            contexts c;
            if (!tls13)
                backend::tls12_only(c.client);
            established e(c);
            // Over the limit of the version: 2^14 + 256 (1.3), 2^14 + 2048 (1.2).
            const std::size_t n = tls13 ? 16384 + 256 + 1 : 16384 + 2048 + 1;
            std::string out;
            BOOST_TEST(e.to_server(
                make_record(MBEDTLS_SSL_MSG_APPLICATION_DATA, std::string(n, 'x')), out));
            BOOST_REQUIRE(records_of(out).size() == 1u);
            BOOST_TEST(e.client_reads(out) == alert(record_overflow));
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_key_update_gets_one_alert, *with_tls13) {
    contexts c;
    c.client.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
    established e(c);
    tlsx_test::tls13_protector client_out(e.client_keys["CLIENT_TRAFFIC_SECRET_0"]);
    std::string out;
    // request_update 2: neither value RFC 8446 4.6.3 allows.
    BOOST_TEST(e.to_server(client_out.seal(22, tlsx_test::key_update_message(2)), out));
    BOOST_REQUIRE(records_of(out).size() == 1u);
    BOOST_TEST(e.client_reads(out) == alert(illegal_parameter));
}

BOOST_AUTO_TEST_CASE(garbage_after_a_key_update_gets_bad_record_mac, *with_tls13) {
    contexts c;
    established e(c);
    BOOST_REQUIRE(!e.p.client.key_update(false).ec);
    std::string got;
    BOOST_REQUIRE(!e.p.transfer(e.p.client, e.p.server, "under the new keys", got));
    BOOST_REQUIRE(e.p.server.key_generation(true) == 1u);
    std::string out;
    BOOST_TEST(
        e.to_server(make_record(MBEDTLS_SSL_MSG_APPLICATION_DATA, std::string(40, '\x5a')), out));
    BOOST_REQUIRE(records_of(out).size() == 1u);
    BOOST_TEST(e.client_reads(out) == alert(bad_record_mac));
}

// The client's write starts an automatic key update (its record threshold is reached): the
// KeyUpdate, then the data under the new key. That record arrives corrupted: the server, which
// took the KeyUpdate, fails under the new key with one alert, bad_record_mac, that the client
// reads under the server's unchanged key.
BOOST_AUTO_TEST_CASE(failure_after_an_automatic_key_update_in_a_write_gets_bad_record_mac,
                     *with_tls13) {
    contexts c;
    c.client.set_key_update_threshold(3);
    established e(c);
    std::string wire, last;
    for (int i = 0; i < 100 && e.p.client.key_generation(false) == 0; ++i) {
        BOOST_REQUIRE(!e.p.client.write(boost::asio::buffer("data", 4)).ec);
        last = drain(e.p.client);
        wire += last;
    }
    BOOST_REQUIRE(e.p.client.key_generation(false) == 1u); // that write updated the key
    const std::vector<record> recs = records_of(last);
    BOOST_REQUIRE(recs.size() == 2u); // the KeyUpdate, the data
    wire[wire.size() - 1] ^= 0x01;    // the data record's tag
    std::string out;
    BOOST_TEST(e.to_server(wire, out), "the server's read failed");
    BOOST_TEST(e.p.server.key_generation(true) == 1u, "the server took the KeyUpdate");
    BOOST_REQUIRE(records_of(out).size() == 1u);
    BOOST_TEST(e.client_reads(out) == alert(bad_record_mac));
}

// mbedTLS answers a refused renegotiation request with a no_renegotiation warning and reads on
// within the same call; a bad record right behind the request then fails that call without
// an alert of mbedTLS's. The warning does not count as telling the peer: the fatal alert
// follows it (two alert records), and the client learns unexpected_message.
BOOST_AUTO_TEST_CASE(failure_after_a_no_renegotiation_warning_still_gets_a_fatal_alert) {
    contexts c;
    backend::tls12_only(c.client);
    c.server.set_renegotiation(tlsx::renegotiation_policy::refuse);
    established e(c);
    BOOST_REQUIRE(!e.p.client.renegotiate(true).ec); // its ClientHello, encrypted
    const std::string request = drain(e.p.client);
    BOOST_REQUIRE(!request.empty());
    std::string out;
    BOOST_TEST(e.to_server(request + make_record(0x63, std::string(10, 'x')), out),
               "the server's read failed");
    const std::vector<record> recs = records_of(out);
    BOOST_REQUIRE(recs.size() == 2u);
    BOOST_TEST(recs[0].type == MBEDTLS_SSL_MSG_ALERT); // no_renegotiation (warning)
    BOOST_TEST(recs[1].type == MBEDTLS_SSL_MSG_ALERT); // the fatal one
    tlsx::error_code got = e.client_reads(out);
    for (int i = 0; i < 3 && got && got.category() != tlsx::alert_category(); ++i)
        got = e.client_reads(""); // past the refusal the client reports first
    BOOST_TEST(got == alert(unexpected_message), got.message());
}

// ---- inside a renegotiation that runs within a read ------------------------------------------

// The server accepts the client's renegotiation inside its read, and now wants a certificate
// the client does not have: the failure happens inside mbedtls_ssl_read, where tlsx sent no
// alert before this table; now the client learns it, in one record.
BOOST_AUTO_TEST_CASE(failure_inside_a_renegotiation_within_a_read_sends_one_alert) {
    contexts c;
    backend::tls12_only(c.client);
    c.server.set_renegotiation(tlsx::renegotiation_policy::accept);
    established e(c);
    e.p.server.set_verify_mode(tlsx::verify_mode::required); // the next handshake asks
    std::string server_wire, client_wire;
    tlsx::error_code server_ec, client_ec;
    char buf[1000];
    for (int i = 0; i < 1000 && !server_ec && !client_ec; ++i) {
        auto rc = e.p.client.renegotiate(i == 0);
        if (rc.ec && rc.ec != tlsx::error_code())
            client_ec = rc.ec;
        e.p.pump(e.p.client, e.p.server, client_wire);
        auto rs = e.p.server.read(boost::asio::buffer(buf)); // the renegotiation runs in here
        if (rs.ec)
            server_ec = rs.ec;
        std::string before = e.p.server_to_client;
        e.p.pump(e.p.server, e.p.client, e.p.server_to_client);
        server_wire += e.p.server_to_client.substr(before.size());
        if (rc.next == want::nothing && !rc.ec)
            break;
    }
    BOOST_TEST(server_ec, "the server's read failed");
    // The server's renegotiation flight, then exactly one alert record (type in clear in 1.2).
    int alerts_sent = 0;
    for (const record& r : records_of(server_wire))
        alerts_sent += r.type == MBEDTLS_SSL_MSG_ALERT;
    BOOST_TEST(alerts_sent == 1);
    auto rc = e.p.client.renegotiate();
    const tlsx::error_code got = client_ec ? client_ec : rc.ec;
    BOOST_TEST((got.category() == tlsx::alert_category()), got.message());
    BOOST_TEST(got == alert(handshake_failure), got.message());
}

// The client's renegotiation goes on inside its next write (mbedtls_ssl_write finishes a
// handshake in progress); the server's flight arrives corrupted. One alert, bad_record_mac.
BOOST_AUTO_TEST_CASE(failure_inside_a_renegotiation_within_a_write_sends_one_alert) {
    contexts c;
    backend::tls12_only(c.client);
    c.server.set_renegotiation(tlsx::renegotiation_policy::accept);
    established e(c);
    auto r = e.p.client.renegotiate(true); // its ClientHello
    BOOST_REQUIRE(!r.ec);
    std::string ignored;
    char buf[100];
    e.p.pump(e.p.client, e.p.server, ignored);
    e.p.server.read(boost::asio::buffer(buf)); // takes it, answers with its flight
    std::string flight = drain(e.p.server);
    BOOST_REQUIRE(flight.size() > 40);
    BOOST_REQUIRE(flight[0] == MBEDTLS_SSL_MSG_HANDSHAKE);
    flight[20] ^= 0x01; // inside the first record (the ServerHello, encrypted)
    e.p.client.put_input(boost::asio::buffer(flight));
    tlsx::error_code ec;
    for (int i = 0; i < 10 && !ec; ++i)
        ec = e.p.client.write(boost::asio::buffer("data", 4)).ec;
    BOOST_TEST(ec, "the write failed");
    const std::string out = drain(e.p.client);
    const std::vector<record> recs = records_of(out);
    BOOST_REQUIRE(recs.size() == 1u);
    BOOST_TEST(recs[0].type == MBEDTLS_SSL_MSG_ALERT);
    BOOST_TEST(feed(e.p.server, tlsx::stream_base::server, out) == alert(bad_record_mac));
}

// ---- certificates and signatures: mbedTLS's own alerts, checked per version -----------------

namespace {

/// The versions to run a test under: TLS 1.2, and TLS 1.3 where the backend has it.
std::vector<bool> versions() {
    return backend::has_tls13 ? std::vector<bool>{false, true} : std::vector<bool>{false};
}

/** What a verifying client sends when it refuses the server's first flight, and what the server
    then reports (its error on reading that). mbedTLS 3.6's TLS 1.3 client switches its own
    output to the handshake keys only when it writes its second flight, so an alert before
    that goes in clear, in a TLS 1.3 handshake too. */
struct client_failure {
    tlsx::error_code client_ec, server_ec;
    std::string out;
};

client_failure client_fails_on_server_flight(tlsx::context& cctx, tlsx::context& sctx,
                                             const char* server_name, bool tls13) {
    if (!tls13)
        backend::tls12_only(cctx);
    tlsx::engine client(cctx);
    tlsx::engine server(sctx);
    tlsx::error_code ec;
    client.set_server_name(server_name, ec);
    client.handshake(tlsx::stream_base::client);
    BOOST_REQUIRE(!feed(server, tlsx::stream_base::server, drain(client)));
    client_failure f;
    f.client_ec = feed(client, tlsx::stream_base::client, drain(server));
    f.out = drain(client);
    f.server_ec = feed(server, tlsx::stream_base::server, f.out);
    return f;
}

/// `f`'s checks: the client failed, one fatal alert `description` in clear went out, and a
/// TLS 1.2 server reports it (a TLS 1.3 one expects handshake-keyed records: docs/security.md).
void check_client_failure(const client_failure& f, int description, bool tls13) {
    BOOST_TEST(f.client_ec, "the client refused the server's flight");
    BOOST_TEST(one_clear_alert(f.out, description) == "");
    if (!tls13)
        BOOST_TEST(f.server_ec == alert(description), f.server_ec.message());
    else
        BOOST_TEST(f.server_ec, "the server failed too");
}

} // namespace

// RFC 5246 7.2.2 / RFC 8446 6.2: a chain whose root the client does not trust: unknown_ca.
BOOST_AUTO_TEST_CASE(untrusted_server_chain_gets_unknown_ca) {
    for (bool tls13 : versions()) {
        BOOST_TEST_CONTEXT((tls13 ? "TLS 1.3" : "TLS 1.2")) {
            contexts c;
            tlsx::context stranger{tlsx::context::tls_client}; // trusts another root only
            const tlsx::self_signed_credentials other = tlsx::generate_self_signed("localhost");
            stranger.add_certificate_authority(boost::asio::buffer(other.certificate_pem));
            check_client_failure(
                client_fails_on_server_flight(stranger, c.server, "localhost", tls13),
                MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA, tls13);
        }
    }
}

// A certificate for another name: bad_certificate (RFC 5246 7.2.2: "corrupt, ... or failed to
// verify"; no closer description exists for a name mismatch).
BOOST_AUTO_TEST_CASE(server_certificate_for_another_name_gets_bad_certificate) {
    for (bool tls13 : versions()) {
        BOOST_TEST_CONTEXT((tls13 ? "TLS 1.3" : "TLS 1.2")) {
            contexts c;
            check_client_failure(
                client_fails_on_server_flight(c.client, c.server, "elsewhere.example", tls13),
                MBEDTLS_SSL_ALERT_MSG_BAD_CERT, tls13);
        }
    }
}

// A certificate past its notAfter (test/support/certs.hpp's expired_cert, 2020-2021, signed by
// the test CA the client trusts): certificate_expired.
BOOST_AUTO_TEST_CASE(expired_server_certificate_gets_certificate_expired) {
    namespace certs = tlsx_test::certs;
    for (bool tls13 : versions()) {
        BOOST_TEST_CONTEXT((tls13 ? "TLS 1.3" : "TLS 1.2")) {
            tlsx::context server{tlsx::context::tls_server};
            server.use_certificate_chain(
                boost::asio::buffer(certs::expired_cert.data(), certs::expired_cert.size()));
            server.use_private_key(
                boost::asio::buffer(certs::expired_key.data(), certs::expired_key.size()),
                tlsx::context::pem);
            tlsx::context client{tlsx::context::tls_client};
            client.add_certificate_authority(
                boost::asio::buffer(certs::ca_cert.data(), certs::ca_cert.size()));
            check_client_failure(client_fails_on_server_flight(client, server, "localhost", tls13),
                                 MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED, tls13);
        }
    }
}

// A server that requires a client certificate and gets none: RFC 5246 7.4.6 lets a TLS 1.2
// server answer handshake_failure (mbedTLS sends none there: the table does). RFC 8446 4.4.2.4
// names certificate_required (116), but mbedTLS 3.6 sends its own no_certificate (41, the SSL
// 3.0 code RFC 8446 lists as reserved) before tlsx sees the failure: asserted as it is, and
// listed in docs/security.md as mbedTLS's deviation.
BOOST_AUTO_TEST_CASE(missing_client_certificate_gets_certificate_required_or_handshake_failure) {
    for (bool tls13 : versions()) {
        BOOST_TEST_CONTEXT((tls13 ? "TLS 1.3" : "TLS 1.2")) {
            contexts c;
            tlsx_test::key_log server_keys;
            if (!tls13)
                backend::tls12_only(c.client);
            c.server.set_verify_mode(tlsx::verify_mode::required);
            c.server.add_certificate_authority(boost::asio::buffer(c.credentials.certificate_pem));
            if (tls13)
                c.client.set_ciphersuites({"TLS_AES_128_GCM_SHA256"}); // the protector's
            c.server.set_keylog_callback([&](std::string_view l) { server_keys.add(l); });
            tlsx::engine client(c.client);
            tlsx::engine server(c.server);
            tlsx::error_code ec;
            client.set_server_name("localhost", ec);
            client.handshake(tlsx::stream_base::client);
            BOOST_REQUIRE(!feed(server, tlsx::stream_base::server, drain(client)));
            const std::string server_flight = drain(server);
            BOOST_REQUIRE(!feed(client, tlsx::stream_base::client, server_flight));
            BOOST_TEST(feed(server, tlsx::stream_base::server, drain(client)),
                       "the server refused the session");
            const std::string out = drain(server);
            if (!tls13) {
                BOOST_TEST(one_clear_alert(out, handshake_failure) == "");
                continue;
            }
            // 1.3: the server writes its alert under its handshake keys.
            BOOST_REQUIRE(records_of(out).size() == 1u);
            std::vector<unsigned char> types;
            const std::vector<std::string> got = open_tls13_flight(
                server_keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"], server_flight + out, &types);
            BOOST_REQUIRE(!types.empty());
            BOOST_TEST(int(types.back()) == MBEDTLS_SSL_MSG_ALERT);
            BOOST_TEST((got.back().size() == 2 && got.back()[0] == 2 &&
                        static_cast<unsigned char>(got.back()[1]) == MBEDTLS_SSL_ALERT_MSG_NO_CERT),
                       "alert " << int(got.back()[0]) << "/"
                                << int(static_cast<unsigned char>(got.back()[1])));
        }
    }
}

// A TLS 1.3 CertificateVerify whose signature does not verify: decrypt_error (RFC 8446 4.4.3).
// The server's encrypted flight is opened, one byte of the signature flipped, and resealed.
BOOST_AUTO_TEST_CASE(corrupted_tls13_certificate_verify_gets_decrypt_error, *with_tls13) {
    contexts c;
    tlsx_test::key_log client_keys;
    c.client.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
    c.client.set_keylog_callback([&](std::string_view l) { client_keys.add(l); });
    tlsx::engine client(c.client);
    tlsx::engine server(c.server);
    tlsx::error_code ec;
    client.set_server_name("localhost", ec);
    client.handshake(tlsx::stream_base::client);
    BOOST_REQUIRE(!feed(server, tlsx::stream_base::server, drain(client)));
    const std::vector<record> flight = records_of(drain(server));
    // The clear records go through untouched; that gives the client its handshake keys.
    std::string clear, sealed;
    for (const record& r : flight)
        (r.type == MBEDTLS_SSL_MSG_APPLICATION_DATA ? sealed : clear) +=
            make_record(r.type, r.body);
    BOOST_REQUIRE(!sealed.empty());
    BOOST_REQUIRE(!feed(client, tlsx::stream_base::client, clear));
    const std::string secret = client_keys["SERVER_HANDSHAKE_TRAFFIC_SECRET"];
    std::vector<std::string> contents = open_tls13_flight(secret, sealed);
    std::string all;
    for (const std::string& s : contents)
        all += s;
    std::size_t i = 0, cv_end = 0;
    while (i + 4 <= all.size()) { // handshake messages: type, 3-byte length
        const std::size_t len = static_cast<unsigned char>(all[i + 1]) << 16 |
                                static_cast<unsigned char>(all[i + 2]) << 8 |
                                static_cast<unsigned char>(all[i + 3]);
        if (all[i] == 15) // CertificateVerify
            cv_end = i + 4 + len;
        i += 4 + len;
    }
    BOOST_REQUIRE(cv_end > 8);
    all[cv_end - 1] ^= 0x01; // the signature's last byte
    tlsx_test::tls13_protector reseal(secret);
    std::string forged;
    std::size_t at = 0;
    for (const std::string& s : contents) {
        forged += reseal.seal(MBEDTLS_SSL_MSG_HANDSHAKE, all.substr(at, s.size()));
        at += s.size();
    }
    BOOST_TEST(feed(client, tlsx::stream_base::client, forged), "the client refused it");
    const std::string out = drain(client);
    // In clear: the client has not switched its output to the handshake keys yet (above).
    BOOST_TEST(one_clear_alert(out, MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR) == "");
    BOOST_TEST(feed(server, tlsx::stream_base::server, out), "the server failed too");
}

BOOST_AUTO_TEST_SUITE_END()
