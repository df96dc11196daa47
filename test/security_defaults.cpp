// Security defaults (issue 14, item 7), read off the wire: a default client offers TLS 1.2 or
// later only, null compression only, no CBC suite, and signals secure renegotiation (RFC 5746);
// CBC is offered only when asked for by name; a server refuses a ClientHello below TLS 1.2 with
// the protocol_version alert; a default client verifies the server. On both backends (the TLS
// 1.3 parts where the backend has it).
#include <tlsx/context.hpp>
#include <tlsx/engine.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/run.hpp"
#include "support/engine_pair.hpp"

#include <boost/test/unit_test.hpp>

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>

#include <cstdint>
#include <string>
#include <vector>

namespace net = boost::asio;
using tlsx_test::pem;
namespace certs = tlsx_test::certs;
using tlsx::error_code;

namespace {

/// What a ClientHello offers, parsed from its first record (RFC 5246 7.4.1.2, RFC 8446 4.1.2).
struct client_hello {
    std::uint16_t legacy_version = 0;
    std::vector<std::uint16_t> suites;
    std::vector<std::uint8_t> compression;
    std::vector<std::uint16_t> extensions;
    std::vector<std::uint16_t> supported_versions; // extension 43
};

std::uint16_t be16(const std::string& s, std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(s.at(at)) << 8 |
                                      static_cast<unsigned char>(s.at(at + 1)));
}

client_hello parse(const std::string& wire) {
    client_hello h;
    BOOST_TEST_REQUIRE(wire.size() > 9);
    BOOST_TEST_REQUIRE(static_cast<unsigned char>(wire[0]) == 22); // handshake record
    BOOST_TEST_REQUIRE(static_cast<unsigned char>(wire[5]) == 1);  // ClientHello
    std::size_t p = 9;
    h.legacy_version = be16(wire, p);
    p += 2 + 32;                                     // version, random
    p += 1 + static_cast<unsigned char>(wire.at(p)); // session id
    const std::size_t suites_len = be16(wire, p);
    for (std::size_t i = 0; i < suites_len; i += 2)
        h.suites.push_back(be16(wire, p + 2 + i));
    p += 2 + suites_len;
    const std::size_t comp_len = static_cast<unsigned char>(wire.at(p));
    for (std::size_t i = 0; i < comp_len; ++i)
        h.compression.push_back(static_cast<std::uint8_t>(wire.at(p + 1 + i)));
    p += 1 + comp_len;
    const std::size_t ext_end = p + 2 + be16(wire, p);
    p += 2;
    while (p + 4 <= ext_end) {
        const std::uint16_t type = be16(wire, p), len = be16(wire, p + 2);
        h.extensions.push_back(type);
        if (type == 43)
            for (std::size_t i = 1; i < len; i += 2)
                h.supported_versions.push_back(be16(wire, p + 4 + i));
        p += 4 + len;
    }
    return h;
}

tlsx::context server_context() {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    ctx.use_private_key(pem(certs::server_key), tlsx::context::pem);
    return ctx;
}

tlsx::context client_context() {
    tlsx::context ctx(tlsx::context::tls_client);
    ctx.add_certificate_authority(pem(certs::ca_cert));
    return ctx;
}

/// The ClientHello a client with `cctx` sends.
std::string client_hello_of(const tlsx::context& cctx) {
    tlsx::engine e(cctx);
    error_code ec;
    e.set_server_name("localhost", ec);
    auto r = e.handshake(tlsx::stream_base::client);
    BOOST_TEST_REQUIRE(!r.ec, r.ec.message());
    auto out = e.output();
    return std::string(static_cast<const char*>(out.data()), out.size());
}

bool is_cbc(std::uint16_t id) {
    const char* name = mbedtls_ssl_get_ciphersuite_name(id);
    return name && std::string(name).find("CBC") != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(security_defaults)

BOOST_AUTO_TEST_CASE(a_default_client_hello_offers_nothing_below_tls12_nor_compression_nor_cbc) {
    for (bool tls12 : {false, true}) {
        BOOST_TEST_CONTEXT((tls12 ? "capped at TLS 1.2" : "default versions")) {
            tlsx::context cctx = client_context();
            if (tls12)
                backend::tls12_only(cctx);
            const client_hello h = parse(client_hello_of(cctx));
            // TLS 1.2's version field: 1.3 keeps it at 0x0303 too (RFC 8446 4.1.2).
            BOOST_TEST(h.legacy_version == 0x0303);
            for (std::uint16_t v : h.supported_versions)
                BOOST_TEST(v >= 0x0303, "offers version " << std::hex << v);
            if (backend::has_tls13 && !tls12) {
                BOOST_TEST(h.supported_versions.size() == 2u); // 1.3 and 1.2
            }
            BOOST_TEST(h.compression == std::vector<std::uint8_t>{0}, "only null compression");
            BOOST_TEST(!h.suites.empty());
            for (std::uint16_t s : h.suites) {
                BOOST_TEST(!is_cbc(s),
                           "offers a CBC suite: " << mbedtls_ssl_get_ciphersuite_name(s));
            }
            // Secure renegotiation (RFC 5746): the renegotiation_info extension or its SCSV.
            const bool scsv = std::find(h.suites.begin(), h.suites.end(), 0x00FF) != h.suites.end();
            const bool ext =
                std::find(h.extensions.begin(), h.extensions.end(), 0xFF01) != h.extensions.end();
            BOOST_TEST((scsv || ext), "no secure renegotiation signal");
        }
    }
}

BOOST_AUTO_TEST_CASE(cbc_is_offered_only_when_asked_for_by_name) {
    tlsx::context cctx = client_context();
    backend::tls12_only(cctx);
    cctx.set_ciphersuites(
        {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
    const client_hello h = parse(client_hello_of(cctx));
    const bool cbc = std::any_of(h.suites.begin(), h.suites.end(), is_cbc);
    BOOST_TEST(cbc, "the suite asked for is not offered");
}

BOOST_AUTO_TEST_CASE(a_server_refuses_a_client_hello_below_tls12_with_protocol_version) {
    tlsx::context cctx = client_context();
    backend::tls12_only(cctx); // a 1.2 ClientHello has no supported_versions extension
    std::string hello = client_hello_of(cctx);
    const client_hello h = parse(hello);
    BOOST_TEST_REQUIRE(h.supported_versions.empty());
    // Make it a TLS 1.1 ClientHello: the client_version field.
    hello[9] = 3;
    hello[10] = 2;
    tlsx::context sctx = server_context();
    tlsx::engine server(sctx);
    BOOST_TEST_REQUIRE(server.put_input(net::buffer(hello)) == hello.size());
    auto r = server.handshake(tlsx::stream_base::server);
    for (int i = 0; i < 8 && !r.ec && r.next == tlsx::engine::want::output; ++i) {
        server.consume_output(server.output().size());
        r = server.handshake(tlsx::stream_base::server);
    }
    BOOST_TEST(r.ec, "the server accepted a TLS 1.1 ClientHello");
    // Its answer is a fatal protocol_version alert (70), in clear: no keys yet.
    auto out = server.output();
    const std::string wire(static_cast<const char*>(out.data()), out.size());
    BOOST_TEST_REQUIRE(wire.size() >= 7u);
    BOOST_TEST(static_cast<unsigned char>(wire[0]) == 21); // alert
    BOOST_TEST(static_cast<unsigned char>(wire[5]) == 2);  // fatal
    BOOST_TEST(static_cast<unsigned char>(wire[6]) == 70); // protocol_version
}

BOOST_AUTO_TEST_CASE(a_default_client_verifies_the_server) {
    // A server whose certificate does not chain to the client's trusted authority.
    tlsx::context sctx(tlsx::context::tls_server);
    sctx.use_certificate_chain(pem(certs::untrusted_cert));
    sctx.use_private_key(pem(certs::untrusted_key), tlsx::context::pem);
    tlsx::context cctx = client_context(); // nothing set: the defaults
    tlsx_test::engine_pair p(cctx, sctx);
    const error_code ec = p.handshake();
    BOOST_TEST(ec == tlsx::error::certificate_untrusted, ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
