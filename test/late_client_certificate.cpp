// The late client-certificate request (issue 13, item 4; the IIS pattern): a TLS 1.2 server
// that served a client without a certificate tightens its verify mode and renegotiates, and the
// new handshake asks for, receives and verifies the client's certificate; a client without one,
// or with one from another authority, fails that renegotiation with the named error. A TLS 1.3
// server cannot (mbedTLS has no post-handshake authentication): set_verify_mode fails with
// error::post_handshake_auth_unsupported and the session goes on unchanged.
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/der.hpp"
#include "support/run.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace net = boost::asio;
using tlsx_test::pem;
namespace certs = tlsx_test::certs;
using tlsx::error_code;
using tlsx_test::der_of;
using tlsx_test::run_bounded;
using pipe_stream = tlsx::stream<tlsx::test::pipe>;

namespace {

/// A server that verifies client certificates against `client_ca` only when told to (its
/// verify mode starts at none), and a client with `client_cert` (none if empty) that accepts
/// renegotiation; TLS 1.2 unless `tls13`.
struct late_pair {
    net::io_context io;
    tlsx::context sctx{tlsx::context::tls_server};
    tlsx::context cctx{tlsx::context::tls_client};
    std::optional<pipe_stream> client, server;

    late_pair(std::string_view client_cert, std::string_view client_key, std::string_view client_ca,
              bool tls13 = false) {
        sctx.use_certificate_chain(pem(certs::server_cert));
        sctx.use_private_key(pem(certs::server_key), tlsx::context::pem);
        sctx.add_certificate_authority(pem(client_ca));
        sctx.set_verify_mode(tlsx::verify_mode::none);
        cctx.add_certificate_authority(pem(certs::ca_cert));
        if (!client_cert.empty()) {
            cctx.use_certificate_chain(pem(client_cert));
            cctx.use_private_key(pem(client_key), tlsx::context::pem);
        }
        if (!tls13)
            backend::tls12_only(cctx);
        cctx.set_renegotiation(tlsx::renegotiation_policy::accept);
        auto [cp, sp] = tlsx::test::make_pipe(io);
        client.emplace(std::move(cp), cctx);
        server.emplace(std::move(sp), sctx);
        client->set_server_name("localhost");
        auto [cec, sec] = tlsx_test::handshake_both(io, *client, *server);
        BOOST_REQUIRE_MESSAGE(!cec, cec.message());
        BOOST_REQUIRE_MESSAGE(!sec, sec.message());
        BOOST_TEST_REQUIRE(client->protocol_version() == (tls13 ? "TLSv1.3" : "TLSv1.2"));
        BOOST_TEST(server->peer_certificate().empty()); // none was asked for
    }

    /// The server renegotiates while the client reads (as a waiting client does); returns the
    /// server's and the client read's results.
    std::pair<error_code, error_code> renegotiate() {
        error_code sec = net::error::would_block, rec = net::error::would_block;
        static char buf[64];
        client->async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) { rec = ec; });
        server->async_renegotiate([&](error_code ec) {
            sec = ec;
            // Something for the client's read once the new handshake is done.
            if (!ec)
                net::async_write(*server, net::buffer("after", 5), [](error_code, std::size_t) {});
            else
                server->next_layer().close();
        });
        run_bounded(io);
        return {sec, rec};
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(late_client_certificate)

BOOST_AUTO_TEST_CASE(tls12_server_tightens_and_renegotiates_to_get_the_certificate) {
    late_pair p(certs::client_cert, certs::client_key, certs::ca_cert);
    p.server->set_verify_mode(tlsx::verify_mode::required);
    auto [sec, rec] = p.renegotiate();
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(!rec, rec.message());
    // The server now has the client's certificate, verified.
    const std::vector<unsigned char> got = p.server->peer_certificate();
    BOOST_TEST(p.server->verify_result() == 0u);
    BOOST_TEST(got == der_of(certs::client_cert));
    // The connection goes on both ways.
    std::string a(5000, 'a'), b(7000, 'b'), ra(a.size(), 0), rb(b.size(), 0);
    error_code e1 = net::error::would_block, e2 = e1, e3 = e1, e4 = e1;
    net::async_write(*p.client, net::buffer(a), [&](error_code ec, std::size_t) { e1 = ec; });
    net::async_read(*p.server, net::buffer(ra), [&](error_code ec, std::size_t) { e2 = ec; });
    net::async_write(*p.server, net::buffer(b), [&](error_code ec, std::size_t) { e3 = ec; });
    net::async_read(*p.client, net::buffer(rb), [&](error_code ec, std::size_t) { e4 = ec; });
    run_bounded(p.io);
    BOOST_TEST(!e1);
    BOOST_TEST(!e2);
    BOOST_TEST(!e3);
    BOOST_TEST(!e4);
    BOOST_TEST(ra == a);
    BOOST_TEST(rb == b);
}

BOOST_AUTO_TEST_CASE(tls12_client_without_a_certificate_fails_the_renegotiation) {
    late_pair p({}, {}, certs::ca_cert);
    p.server->set_verify_mode(tlsx::verify_mode::required);
    auto [sec, rec] = p.renegotiate();
    BOOST_TEST(sec == tlsx::error::no_peer_certificate, sec.message());
    BOOST_TEST(rec, "the client's read went on: " << rec.message());
    BOOST_TEST(p.server->peer_certificate().empty());
}

BOOST_AUTO_TEST_CASE(tls12_client_certificate_from_another_authority_is_rejected) {
    late_pair p(certs::client_cert, certs::client_key, certs::other_ca_cert);
    p.server->set_verify_mode(tlsx::verify_mode::required);
    auto [sec, rec] = p.renegotiate();
    BOOST_TEST(sec == tlsx::error::certificate_untrusted, sec.message());
    BOOST_TEST(rec, "the client's read went on: " << rec.message());
}

BOOST_AUTO_TEST_CASE(tls12_optional_takes_a_certificate_if_offered) {
    late_pair p(certs::client_cert, certs::client_key, certs::ca_cert);
    p.server->set_verify_mode(tlsx::verify_mode::optional);
    auto [sec, rec] = p.renegotiate();
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(p.server->peer_certificate() == der_of(certs::client_cert));
    late_pair none({}, {}, certs::ca_cert);
    none.server->set_verify_mode(tlsx::verify_mode::optional);
    std::tie(sec, rec) = none.renegotiate();
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(none.server->peer_certificate().empty());
}

BOOST_AUTO_TEST_CASE(tls13_server_cannot_tighten_after_the_handshake,
                     *boost::unit_test::precondition(backend::needs_tls13{
                         "the TLS 1.3 refusal needs mbedTLS 3.6"})) {
    late_pair p(certs::client_cert, certs::client_key, certs::ca_cert, true);
    error_code ec;
    p.server->set_verify_mode(tlsx::verify_mode::required, ec);
    BOOST_TEST(ec == tlsx::error::post_handshake_auth_unsupported, ec.message());
    BOOST_CHECK_THROW(p.server->set_verify_mode(tlsx::verify_mode::optional),
                      boost::system::system_error);
    // Loosening asks nothing of the peer: allowed.
    p.server->set_verify_mode(tlsx::verify_mode::none, ec);
    BOOST_TEST(!ec, ec.message());
    // The session is unchanged and goes on.
    std::string got(4, '\0');
    error_code wec = net::error::would_block, rec = wec;
    net::async_write(*p.client, net::buffer("ping", 4),
                     [&](error_code e, std::size_t) { wec = e; });
    net::async_read(*p.server, net::buffer(got), [&](error_code e, std::size_t) { rec = e; });
    run_bounded(p.io);
    BOOST_TEST(!wec);
    BOOST_TEST(!rec);
    BOOST_TEST(got == "ping");
    BOOST_TEST(p.server->peer_certificate().empty());
}

BOOST_AUTO_TEST_SUITE_END()
