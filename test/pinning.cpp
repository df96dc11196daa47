// tlsx::pin_spki_sha256 and tlsx::spki_sha256: SubjectPublicKeyInfo pins (issue 13, item 5).
// The pin of a certificate agrees with OpenSSL's; a client with a matching pin (the server's
// key, the trusted authority's, or a backup among several) connects, one with none of them is
// rejected; a pin never makes an untrusted chain acceptable unless a composed callback says
// so; a certificate renewed with the same key keeps its pin, a new key does not. Under TLS 1.2
// and, where the backend has it, TLS 1.3.
#include <tlsx/pinning.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/run.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace net = boost::asio;
using tlsx_test::pem;
namespace certs = tlsx_test::certs;
using tlsx::error_code;

namespace {

/// The versions to run the handshakes under: 1.2, and 1.3 where the backend has it.
std::vector<bool> tls12_only_choices() {
    if (backend::has_tls13)
        return {true, false};
    return {true};
}

/// A handshake between a server with `cert`/`key` and a client trusting `ca` that verifies
/// with `cb`; returns the client's result.
error_code handshake(std::string_view cert, std::string_view key, std::string_view ca,
                     tlsx::verify_callback cb, bool tls12) {
    tlsx::context sctx(tlsx::context::tls_server);
    sctx.use_certificate_chain(pem(cert));
    sctx.use_private_key(pem(key), tlsx::context::pem);
    tlsx::context cctx(tlsx::context::tls_client);
    cctx.add_certificate_authority(pem(ca));
    cctx.set_verify_callback(std::move(cb));
    if (tls12)
        backend::tls12_only(cctx);
    net::io_context io;
    auto [cp, sp] = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client(std::move(cp), cctx);
    tlsx::stream<tlsx::test::pipe> server(std::move(sp), sctx);
    client.set_server_name("localhost");
    auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
    BOOST_TEST(cec != net::error::would_block, "the handshake did not finish");
    if (!cec)
        BOOST_TEST(client.protocol_version() ==
                   (tls12 || !backend::has_tls13 ? "TLSv1.2" : "TLSv1.3"));
    return cec;
}

/// OpenSSL's pin of `cert_pem`, or empty without openssl.
std::string openssl_pin(std::string_view cert_pem) {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0)
        return {};
    const auto dir =
        std::filesystem::temp_directory_path() / ("tlsx-pinning-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto file = dir / "cert.pem";
    std::ofstream(file) << cert_pem;
    const std::string cmd = "openssl x509 -in " + file.string() +
                            " -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst "
                            "-sha256 -binary | base64";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[128];
        while (std::fgets(buf, sizeof buf, p))
            out += buf;
        pclose(p);
    }
    std::filesystem::remove_all(dir);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
        out.pop_back();
    return out;
}

std::string pin_of(std::string_view cert_pem) {
    return tlsx::spki_sha256(pem(cert_pem));
}

} // namespace

BOOST_AUTO_TEST_SUITE(pinning)

BOOST_AUTO_TEST_CASE(spki_sha256_agrees_with_openssl) {
    for (std::string_view cert : {certs::server_cert, certs::ca_cert, certs::untrusted_cert}) {
        const std::string theirs = openssl_pin(cert);
        if (theirs.empty()) {
            BOOST_TEST_MESSAGE("openssl is not installed: nothing to compare with");
            return;
        }
        BOOST_TEST(pin_of(cert) == theirs);
        BOOST_TEST(pin_of(cert).size() == 44u);
    }
}

BOOST_AUTO_TEST_CASE(spki_sha256_of_pem_and_der_is_the_same) {
    // The DER as the client received it over a handshake.
    net::io_context io;
    tlsx::test::tls_pair pair(io);
    auto [cec, sec] = tlsx_test::handshake_both(io, pair.client, pair.server);
    BOOST_TEST_REQUIRE(!cec, cec.message());
    const std::vector<unsigned char> der = pair.client.peer_certificate();
    BOOST_TEST(tlsx::spki_sha256(net::buffer(der)) == pin_of(pair.credentials.certificate_pem));
    BOOST_TEST(pin_of(certs::server_cert) != pin_of(pair.credentials.certificate_pem));
}

BOOST_AUTO_TEST_CASE(spki_sha256_of_garbage_names_the_certificate) {
    try {
        tlsx::spki_sha256(
            pem("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"));
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == tlsx::error::invalid_certificate, e.code().message());
        BOOST_TEST(std::string(e.what()).find("tlsx::spki_sha256") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(a_renewed_certificate_with_the_same_key_keeps_its_pin) {
    const auto first = tlsx::generate_self_signed("localhost");
    const auto renewed = tlsx::generate_self_signed("localhost", first.private_key_pem);
    const auto rekeyed = tlsx::generate_self_signed("localhost");
    BOOST_TEST(renewed.certificate_pem != first.certificate_pem); // a new serial, new signature
    BOOST_TEST(pin_of(renewed.certificate_pem) == pin_of(first.certificate_pem));
    BOOST_TEST(pin_of(rekeyed.certificate_pem) != pin_of(first.certificate_pem));
    const auto pin = tlsx::pin_spki_sha256({pin_of(first.certificate_pem)});
    for (bool tls12 : tls12_only_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            error_code ec = handshake(renewed.certificate_pem, renewed.private_key_pem,
                                      renewed.certificate_pem, pin, tls12);
            BOOST_TEST(!ec, "the renewed certificate: " << ec.message());
            ec = handshake(rekeyed.certificate_pem, rekeyed.private_key_pem,
                           rekeyed.certificate_pem, pin, tls12);
            BOOST_TEST(ec == tlsx::error::certificate_rejected, ec.message());
        }
    }
}

BOOST_AUTO_TEST_CASE(generate_self_signed_with_a_bad_key_names_it) {
    try {
        tlsx::generate_self_signed("localhost", "not a key");
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("private key") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(a_matching_pin_connects_a_missing_one_is_rejected) {
    const std::string leaf = pin_of(certs::server_cert), root = pin_of(certs::ca_cert),
                      other = pin_of(certs::untrusted_cert);
    struct row {
        const char* what;
        std::vector<std::string> pins;
        bool connects;
    };
    const std::vector<row> rows{
        {"the server's own key", {leaf}, true},
        {"the trusted authority's key (not sent by the server)", {root}, true},
        {"a backup pin after one that does not match", {other, leaf}, true},
        {"OkHttp's sha256/ form", {"sha256/" + leaf}, true},
        {"no pin of the chain", {other}, false},
    };
    for (bool tls12 : tls12_only_choices()) {
        for (const row& r : rows) {
            BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2, " : "default versions, ") << r.what) {
                const error_code ec =
                    handshake(certs::server_cert, certs::server_key, certs::ca_cert,
                              tlsx::pin_spki_sha256(r.pins), tls12);
                if (r.connects) {
                    BOOST_TEST(!ec, ec.message());
                } else {
                    BOOST_TEST(ec == tlsx::error::certificate_rejected, ec.message());
                    BOOST_TEST(ec == tlsx::condition::certificate);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_pin_does_not_make_an_untrusted_chain_acceptable) {
    // The untrusted certificate's own pin, but the client trusts only the test CA.
    const auto pin = tlsx::pin_spki_sha256({pin_of(certs::untrusted_cert)});
    for (bool tls12 : tls12_only_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            const error_code ec =
                handshake(certs::untrusted_cert, certs::untrusted_key, certs::ca_cert, pin, tls12);
            BOOST_TEST(ec == tlsx::error::certificate_untrusted, ec.message());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_composed_callback_decides_preverified_before_the_pin) {
    int calls = 0;
    auto accept_all = [&calls](bool, tlsx::verify_context&) {
        ++calls;
        return true;
    };
    for (bool tls12 : tls12_only_choices()) {
        BOOST_TEST_CONTEXT((tls12 ? "TLS 1.2" : "default versions")) {
            // The composed callback accepts the untrusted chain; the pin then decides.
            error_code ec = handshake(
                certs::untrusted_cert, certs::untrusted_key, certs::ca_cert,
                tlsx::pin_spki_sha256({pin_of(certs::untrusted_cert)}, accept_all), tls12);
            BOOST_TEST(!ec, ec.message());
            ec = handshake(certs::untrusted_cert, certs::untrusted_key, certs::ca_cert,
                           tlsx::pin_spki_sha256({pin_of(certs::server_cert)}, accept_all), tls12);
            // Rejected; the error names the chain's own failure, which nothing accepted.
            BOOST_TEST(ec == tlsx::error::certificate_untrusted, ec.message());
        }
    }
    BOOST_TEST(calls > 0);
}

BOOST_AUTO_TEST_CASE(bad_pins_are_named) {
    const std::vector<std::vector<std::string>> bad{
        {},
        {"not base64!"},
        {pin_of(certs::server_cert), "AAAA"}, // base64, but of 3 bytes: the second pin
    };
    for (const auto& pins : bad) {
        try {
            tlsx::pin_spki_sha256(pins);
            BOOST_FAIL("no exception");
        } catch (const boost::system::system_error& e) {
            BOOST_TEST(e.code() == tlsx::error::invalid_argument, e.code().message());
            const std::string what = e.what();
            BOOST_TEST(what.find("tlsx::pin_spki_sha256") != std::string::npos, what);
            if (pins.size() == 2)
                BOOST_TEST(what.find("pin 2 \"AAAA\"") != std::string::npos, what);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
