// asio::ssl's names in tlsx (issue 12): context methods and what each allows, options, verify
// flags, the Asio-signature verify callback, host_name_verification, use_tmp_dh, and the
// unqualified Beast calls that ADL finds through tlsx::stream.
#include <tlsx/beast.hpp>
#include <tlsx/host_name_verification.hpp>
#include <tlsx/mbedtls.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/run.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/test/unit_test.hpp>

#include <mbedtls/x509_crt.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace net = boost::asio;
using tlsx_test::contains;
using tlsx_test::pem;
namespace certs = tlsx_test::certs;
using tlsx::error_code;

namespace {

// ---- compile-time: the names and what they are ------------------------------------------------

// Asio spellings through a namespace alias, as ported programs use them.
namespace ssl = tlsx;
static_assert(std::is_same_v<decltype(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert),
                             tlsx::verify_flags>);
static_assert(tlsx::to_verify_mode(ssl::verify_none) == tlsx::verify_mode::none);
static_assert(tlsx::to_verify_mode(ssl::verify_peer) == tlsx::verify_mode::required);
static_assert(tlsx::to_verify_mode(ssl::verify_fail_if_no_peer_cert) == tlsx::verify_mode::none);
static_assert(tlsx::to_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert |
                                   ssl::verify_client_once) == tlsx::verify_mode::required);
static_assert(std::is_same_v<ssl::context_base::password_purpose, ssl::context::password_purpose>);
static_assert(ssl::context::file_format::pem == ssl::context_base::pem);
static_assert(std::is_same_v<ssl::context::options, long>);
static_assert(!std::is_constructible_v<ssl::context, int>);

// get_lowest_layer and teardown found by ADL, unqualified, through tlsx::stream (alone, and as
// a WebSocket stream's next layer, over a plain socket and over beast::tcp_stream).
using tcp = net::ip::tcp;
using tls_socket = tlsx::stream<tcp::socket>;
using ws_socket = boost::beast::websocket::stream<tls_socket>;
using ws_tcp_stream = boost::beast::websocket::stream<tlsx::stream<boost::beast::tcp_stream>>;
static_assert(std::is_same_v<decltype(get_lowest_layer(std::declval<ws_socket&>())), tcp::socket&>);
static_assert(
    std::is_same_v<decltype(get_lowest_layer(std::declval<tls_socket&>())), tcp::socket&>);
static_assert(std::is_same_v<decltype(get_lowest_layer(std::declval<ws_tcp_stream&>())),
                             boost::beast::tcp_stream&>);
static_assert(
    std::is_same_v<decltype(teardown(boost::beast::role_type::client, std::declval<tls_socket&>(),
                                     std::declval<error_code&>())),
                   void>);

// ---- helpers ------------------------------------------------------------------------------

/// A server context of `m` with the CA-signed "localhost" certificate.
tlsx::context server_of(tlsx::context::method m) {
    tlsx::context ctx(m);
    ctx.use_certificate_chain(pem(certs::server_cert));
    ctx.use_private_key(pem(certs::server_key), tlsx::context::pem);
    return ctx;
}

/// A client context of `m` trusting the test CA.
tlsx::context client_of(tlsx::context::method m) {
    tlsx::context ctx(m);
    ctx.add_certificate_authority(pem(certs::ca_cert));
    return ctx;
}

/// The outcome of one handshake over a pipe.
struct outcome {
    error_code client_ec;
    error_code server_ec;
    std::string version; // the client's protocol_version() on success
    bool ok() const { return !client_ec && !server_ec; }
};

/// Handshake a client of `cctx` (for "localhost", unless `host` is empty) with a server of
/// `sctx`.
template <class Setup = void (*)(tlsx::stream<tlsx::test::pipe>&)>
outcome handshake(
    tlsx::context& cctx, tlsx::context& sctx, std::string_view host = "localhost",
    Setup setup = [](tlsx::stream<tlsx::test::pipe>&) {}) {
    net::io_context io;
    auto ends = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client(std::move(ends.first), cctx);
    tlsx::stream<tlsx::test::pipe> server(std::move(ends.second), sctx);
    if (!host.empty())
        client.set_server_name(host);
    setup(client);
    outcome r;
    r.client_ec = r.server_ec = net::error::would_block;
    client.async_handshake(tlsx::stream_base::client, [&](error_code ec) {
        r.client_ec = ec;
        if (ec)
            client.next_layer().close();
    });
    server.async_handshake(tlsx::stream_base::server, [&](error_code ec) {
        r.server_ec = ec;
        if (ec)
            server.next_layer().close();
    });
    BOOST_TEST(tlsx_test::run_bounded(io));
    if (r.ok())
        r.version = client.protocol_version();
    return r;
}

/// Runs `f` and returns the system_error it throws (a failed check when it throws none).
template <class F>
boost::system::system_error thrown_by(F&& f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return e;
    }
    BOOST_ERROR("no boost::system::system_error was thrown");
    return boost::system::system_error(error_code());
}

/// A parsed certificate, for calling verify callbacks directly.
struct parsed_cert {
    mbedtls_x509_crt crt;
    explicit parsed_cert(std::string_view pem_text) {
        mbedtls_x509_crt_init(&crt);
        std::string s(pem_text);
        BOOST_REQUIRE(mbedtls_x509_crt_parse(&crt,
                                             reinterpret_cast<const unsigned char*>(s.c_str()),
                                             s.size() + 1) == 0);
    }
    ~parsed_cert() { mbedtls_x509_crt_free(&crt); }
    parsed_cert(const parsed_cert&) = delete;
    parsed_cert& operator=(const parsed_cert&) = delete;
};

// Beast's DH parameters (example/common/server_certificate.hpp), 2048 bits.
constexpr std::string_view beast_dh =
    "-----BEGIN DH PARAMETERS-----\n"
    "MIIBCAKCAQEArzQc5mpm0Fs8yahDeySj31JZlwEphUdZ9StM2D8+Fo7TMduGtSi+\n"
    "/HRWVwHcTFAgrxVdm+dl474mOUqqaz4MpzIb6+6OVfWHbQJmXPepZKyu4LgUPvY/\n"
    "4q3/iDMjIS0fLOu/bLuObwU5ccZmDgfhmz1GanRlTQOiYRty3FiOATWZBRh6uv4u\n"
    "tff4A9Bm3V9tLx9S6djq31w31Gl7OQhryodW28kc16t9TvO1BzcV3HjRPwpe701X\n"
    "oEEZdnZWANkkpR/m/pfgdmGPU66S2sXMHgsliViQWpDCYeehrvFRHEdR9NV+XJfC\n"
    "QMUk26jPTIVTLfXmmwU0u8vUkpR7LQKkwwIBAg==\n"
    "-----END DH PARAMETERS-----\n";

// 512-bit parameters (openssl dhparam 512): too short.
constexpr std::string_view short_dh =
    "-----BEGIN DH PARAMETERS-----\n"
    "MEYCQQCgEoXXZQKplLUbiLj2nGPMD73S9+D1APJO+HysbL3QX8ggSR16aQm7GpmX\n"
    "7A0nllUMudiDlf/R1xMyF/B6M0enAgEC\n"
    "-----END DH PARAMETERS-----\n";

} // namespace

BOOST_AUTO_TEST_SUITE(asio_compat)

// ---- methods ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(method_roles) {
    using c = tlsx::context;
    struct {
        c::method m;
        bool client, server;
    } cases[] = {{c::tls, true, true},
                 {c::sslv23, true, true},
                 {c::tlsv12, true, true},
                 {c::tls_client, true, false},
                 {c::sslv23_client, true, false},
                 {c::tlsv12_client, true, false},
                 {c::tls_server, false, true},
                 {c::sslv23_server, false, true},
                 {c::tlsv12_server, false, true}};
    for (auto& k : cases) {
        tlsx::context ctx(k.m);
        BOOST_TEST((ctx.native_handle(tlsx::stream_base::client) != nullptr) == k.client);
        BOOST_TEST((ctx.native_handle(tlsx::stream_base::server) != nullptr) == k.server);
        BOOST_TEST(ctx.get_method() == k.m);
        BOOST_TEST(ctx.native_handle() != nullptr);
    }
}

BOOST_AUTO_TEST_CASE(generic_methods_negotiate_the_highest_version) {
    for (auto m : {tlsx::context::tls, tlsx::context::sslv23}) {
        tlsx::context cctx = client_of(tlsx::context::sslv23_client);
        tlsx::context sctx = server_of(m);
        outcome r = handshake(cctx, sctx);
        BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
        BOOST_TEST(r.version == backend::default_version);
    }
}

BOOST_AUTO_TEST_CASE(tlsv12_methods_allow_tls12_only) {
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    tlsx::context sctx = server_of(tlsx::context::tlsv12_server);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == "TLSv1.2");

    tlsx::context c12 = client_of(tlsx::context::tlsv12_client);
    tlsx::context s = server_of(tlsx::context::tls);
    r = handshake(c12, s);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == "TLSv1.2");
}

BOOST_AUTO_TEST_CASE(tlsv13_methods_allow_tls13_only,
                     *boost::unit_test::precondition(backend::needs_tls13{"tlsv13 methods"})) {
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    tlsx::context sctx = server_of(tlsx::context::tlsv13_server);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == "TLSv1.3");

    // A TLS 1.3-only client and a TLS 1.2-only server have no version in common.
    tlsx::context c13 = client_of(tlsx::context::tlsv13_client);
    tlsx::context s12 = server_of(tlsx::context::tlsv12_server);
    r = handshake(c13, s12);
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.client_ec);
}

BOOST_AUTO_TEST_CASE(tlsv13_methods_refused_without_tls13) {
    if (backend::has_tls13) {
        for (auto m :
             {tlsx::context::tlsv13, tlsx::context::tlsv13_client, tlsx::context::tlsv13_server})
            BOOST_CHECK_NO_THROW(tlsx::context{m});
        return;
    }
    for (auto m :
         {tlsx::context::tlsv13, tlsx::context::tlsv13_client, tlsx::context::tlsv13_server}) {
        auto e = thrown_by([&] { tlsx::context ctx(m); });
        BOOST_TEST(e.code() == tlsx::error::invalid_argument);
        BOOST_TEST(contains(e.what(), "TLS 1.3"), e.what());
        BOOST_TEST(contains(e.what(), "not supported"), e.what());
    }
}

// ---- options ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(no_tlsv1_3_narrows_to_tls12) {
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    tlsx::context sctx = server_of(tlsx::context::tls_server);
    sctx.set_options(tlsx::context::no_tlsv1_3);
    BOOST_TEST(sctx.get_options() == tlsx::context::no_tlsv1_3);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == "TLSv1.2");

    // Cleared: back to what the method allows.
    sctx.clear_options(tlsx::context::no_tlsv1_3);
    BOOST_TEST(sctx.get_options() == 0);
    r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == backend::default_version);
}

BOOST_AUTO_TEST_CASE(no_tlsv1_2_narrows_to_tls13_or_throws) {
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    if (!backend::has_tls13) {
        auto e = thrown_by([&] { cctx.set_options(tlsx::context::no_tlsv1_2); });
        BOOST_TEST(e.code() == tlsx::error::invalid_argument);
        BOOST_TEST(contains(e.what(), "no TLS version left"), e.what());
        BOOST_TEST(cctx.get_options() == 0); // unchanged
        error_code ec;
        cctx.set_options(tlsx::context::no_tlsv1_2, ec);
        BOOST_TEST(ec == tlsx::error::invalid_argument);
        return;
    }
    cctx.set_options(tlsx::context::no_tlsv1_2);
    tlsx::context s12 = server_of(tlsx::context::tlsv12_server);
    BOOST_TEST(!handshake(cctx, s12).ok()); // the client no longer speaks TLS 1.2
    tlsx::context s = server_of(tlsx::context::tls_server);
    outcome r = handshake(cctx, s);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == "TLSv1.3");

    // On a TLS 1.2-only method nothing would be left.
    tlsx::context c12(tlsx::context::tlsv12_client);
    auto e = thrown_by([&] { c12.set_options(tlsx::context::no_tlsv1_2); });
    BOOST_TEST(e.code() == tlsx::error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(beast_options_change_nothing) {
    // Beast's server_certificate.hpp: default_workarounds | no_sslv2 | single_dh_use.
    tlsx::context sctx = server_of(tlsx::context::tlsv12);
    const tlsx::context::options o = tlsx::context::default_workarounds | tlsx::context::no_sslv2 |
                                     tlsx::context::single_dh_use | tlsx::context::no_sslv3 |
                                     tlsx::context::no_tlsv1 | tlsx::context::no_tlsv1_1 |
                                     tlsx::context::no_compression;
    sctx.set_options(o);
    BOOST_TEST(sctx.get_options() == o);
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(r.version == "TLSv1.2");
}

BOOST_AUTO_TEST_CASE(unknown_option_bits_are_refused) {
    tlsx::context ctx(tlsx::context::tls);
    auto e = thrown_by([&] { ctx.set_options(0x10000); });
    BOOST_TEST(e.code() == tlsx::error::invalid_argument);
    BOOST_TEST(contains(e.what(), "unknown option"), e.what());
}

// ---- verify modes -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(verify_flags_on_context_and_stream) {
    // A server requiring a client certificate with Asio's flags: a client without one fails.
    tlsx::context sctx = server_of(tlsx::context::tls_server);
    sctx.add_certificate_authority(pem(certs::ca_cert));
    sctx.set_verify_mode(tlsx::verify_peer | tlsx::verify_fail_if_no_peer_cert);
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(!r.ok());
    BOOST_TEST(r.server_ec);

    // With the client's certificate it succeeds.
    cctx.use_certificate_chain(pem(certs::client_cert));
    cctx.use_private_key(pem(certs::client_key), tlsx::context::pem);
    r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());

    // A client that trusts nothing fails with verify_peer, succeeds with the stream's
    // verify_none.
    tlsx::context lone(tlsx::context::tls_client);
    lone.set_verify_mode(tlsx::verify_peer);
    tlsx::context plain = server_of(tlsx::context::tls_server);
    r = handshake(lone, plain);
    BOOST_TEST(r.client_ec == tlsx::error::certificate_untrusted, r.client_ec.message());
    r = handshake(lone, plain, "localhost",
                  [](tlsx::stream<tlsx::test::pipe>& s) { s.set_verify_mode(tlsx::verify_none); });
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
}

// ---- the verify callback ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(asio_signature_callback_sees_a_bad_chain_and_may_override) {
    // Trusts another CA only: the chain does not verify (mbedTLS refuses a client with no CA at
    // all before any verification).
    tlsx::context cctx(tlsx::context::tlsv12_client);
    cctx.add_certificate_authority(pem(certs::other_ca_cert));
    cctx.set_verify_mode(tlsx::verify_peer);
    std::vector<bool> preverified;
    std::vector<int> depths;
    bool saw_der = false, saw_native = false, saw_flags = false;
    cctx.set_verify_callback([&](bool ok, tlsx::verify_context& v) {
        preverified.push_back(ok);
        depths.push_back(v.depth());
        saw_der = saw_der || v.certificate().size() > 0;
        saw_native = saw_native || v.native_handle() != nullptr;
        saw_flags = saw_flags || v.flags() != 0;
        return true; // accept whatever the chain
    });
    tlsx::context sctx = server_of(tlsx::context::tls_server);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_REQUIRE(!preverified.empty());
    BOOST_TEST(depths.back() == 0);
    BOOST_TEST(!preverified.back()); // untrusted: preverified false at the peer's certificate
    BOOST_TEST(saw_der);
    BOOST_TEST(saw_native);
    BOOST_TEST(saw_flags);

    // Returning preverified keeps the failure.
    cctx.set_verify_callback([](bool ok, tlsx::verify_context&) { return ok; });
    r = handshake(cctx, sctx);
    BOOST_TEST(r.client_ec == tlsx::error::certificate_untrusted, r.client_ec.message());
}

// ---- host_name_verification ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(host_name_verification_direct) {
    parsed_cert leaf(certs::server_cert); // CN=localhost, SAN DNS:localhost IP:127.0.0.1
    std::uint32_t flags = 0;
    tlsx::verify_context at0(&leaf.crt, 0, &flags);
    tlsx::verify_context at1(&leaf.crt, 1, &flags);
    BOOST_TEST(tlsx::host_name_verification("localhost")(true, at0));
    BOOST_TEST(tlsx::host_name_verification("LOCALHOST.")(true, at0));
    BOOST_TEST(tlsx::host_name_verification("127.0.0.1")(true, at0));
    BOOST_TEST(!tlsx::host_name_verification("127.0.0.2")(true, at0));
    BOOST_TEST(!tlsx::host_name_verification("other.example")(true, at0));
    BOOST_TEST(!tlsx::host_name_verification("localhost")(false, at0));   // not preverified
    BOOST_TEST(tlsx::host_name_verification("other.example")(true, at1)); // not the leaf
    BOOST_TEST(!tlsx::host_name_verification("other.example")(false, at1));

    // Wildcards: one leftmost label; CN only without dNSName.
    tlsx::self_signed_credentials wild = tlsx::generate_self_signed("*.example.com");
    parsed_cert w(wild.certificate_pem);
    tlsx::verify_context wv(&w.crt, 0, &flags);
    BOOST_TEST(tlsx::host_name_verification("www.example.com")(true, wv));
    BOOST_TEST(!tlsx::host_name_verification("example.com")(true, wv));
    BOOST_TEST(!tlsx::host_name_verification("a.b.example.com")(true, wv));
}

BOOST_AUTO_TEST_CASE(host_name_verification_as_callback) {
    tlsx::context sctx = server_of(tlsx::context::tls_server);
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    cctx.set_verify_mode(tlsx::verify_peer);
    cctx.set_server_name_required(false); // the callback checks the name, as with Asio
    cctx.set_verify_callback(tlsx::host_name_verification("localhost"));
    outcome r = handshake(cctx, sctx, "");
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());

    cctx.set_verify_callback(tlsx::host_name_verification("www.example.com"));
    r = handshake(cctx, sctx, "");
    BOOST_TEST(r.client_ec == tlsx::error::certificate_rejected, r.client_ec.message());

    // Composed in the user's own callback, on the stream.
    int calls = 0;
    r = handshake(cctx, sctx, "", [&](tlsx::stream<tlsx::test::pipe>& s) {
        s.set_verify_callback(
            [&, v = tlsx::host_name_verification("127.0.0.1")](bool ok, tlsx::verify_context& ctx) {
                ++calls;
                return v(ok, ctx);
            });
    });
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    BOOST_TEST(calls >= 1);
}

// ---- use_tmp_dh, use_rsa_private_key ------------------------------------------------------

BOOST_AUTO_TEST_CASE(use_tmp_dh_accepts_dh_parameters) {
    tlsx::context ctx(tlsx::context::tlsv12);
    BOOST_CHECK_NO_THROW(ctx.use_tmp_dh(pem(beast_dh)));
    error_code ec = tlsx::error::invalid_argument;
    ctx.use_tmp_dh(pem(beast_dh), ec);
    BOOST_TEST(!ec, ec.message());
}

BOOST_AUTO_TEST_CASE(use_tmp_dh_bad_input) {
    tlsx::context ctx(tlsx::context::tls_server);
    // Not DH parameters at all.
    auto e = thrown_by([&] { ctx.use_tmp_dh(pem(certs::server_cert)); });
    BOOST_TEST(e.code().category().name() == std::string("tlsx.mbedtls"));
    BOOST_TEST(contains(e.what(), "tlsx::context::use_tmp_dh"), e.what());
    BOOST_TEST(contains(e.what(), "DHM"), e.what());
    // Garbage inside a DH PEM block.
    std::string broken = "-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n";
    error_code ec;
    ctx.use_tmp_dh(pem(broken), ec);
    BOOST_TEST(ec);
    // Too short a prime.
    auto s = thrown_by([&] { ctx.use_tmp_dh(pem(short_dh)); });
    BOOST_TEST(s.code() == tlsx::error::invalid_argument);
    BOOST_TEST(contains(s.what(), "512 bits"), s.what());
    // A missing file.
    ctx.use_tmp_dh_file("/nonexistent/dh.pem", ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);
}

BOOST_AUTO_TEST_CASE(use_rsa_private_key_is_use_private_key) {
    tlsx::context sctx(tlsx::context::tls_server);
    sctx.use_certificate_chain(pem(certs::server_cert));
    sctx.use_rsa_private_key(pem(certs::server_key), tlsx::context::pem);
    tlsx::context cctx = client_of(tlsx::context::tls_client);
    outcome r = handshake(cctx, sctx);
    BOOST_TEST(r.ok(), r.client_ec.message() << " / " << r.server_ec.message());
    // Bad input fails as use_private_key's does.
    error_code ec, ec2;
    sctx.use_rsa_private_key(pem(certs::server_cert), tlsx::context::pem, ec);
    sctx.use_private_key(pem(certs::server_cert), tlsx::context::pem, ec2);
    BOOST_TEST(ec);
    BOOST_TEST(ec == ec2, ec.message() << " / " << ec2.message());
}

BOOST_AUTO_TEST_SUITE_END()
