// A verifying client needs a host name (error::server_name_required) unless chain-only
// verification is chosen explicitly; on both backends (3.6.3+ would otherwise fail with its own
// code, 2.28 would silently check no name).
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "support/run.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::handshake_both;

namespace {

/// A server for "localhost" and a client stream over the other pipe end, with no server name.
struct unnamed_client {
    net::io_context io;
    tlsx_test::context_pair ctx;
    std::pair<tlsx::test::pipe, tlsx::test::pipe> ends = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client{std::move(ends.first), ctx.client};
    tlsx::stream<tlsx::test::pipe> server{std::move(ends.second), ctx.server};

    /// The client's handshake alone, for the cases refused before the ClientHello: nothing
    /// reaches the server, so a server handshake beside it would wait for the whole bound.
    error_code client_handshake() {
        error_code cec = net::error::would_block;
        client.async_handshake(tlsx::stream_base::client, [&](error_code ec) { cec = ec; });
        tlsx_test::run_bounded(io);
        return cec;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(host_names)

BOOST_AUTO_TEST_CASE(verifying_client_without_a_name_fails_before_sending_anything) {
    unnamed_client t;
    const error_code cec = t.client_handshake();
    BOOST_TEST(cec == tlsx::error::server_name_required);
    BOOST_TEST(cec.message().find("set_server_name") != std::string::npos);
    BOOST_TEST((cec == tlsx::condition::configuration));
    // Refused before the ClientHello: nothing reached the server.
    BOOST_TEST(t.client.get_engine().output_produced() == 0u);
    BOOST_TEST(t.server.next_layer().available() == 0u);
}

BOOST_AUTO_TEST_CASE(optional_verification_needs_a_name_too) {
    unnamed_client t;
    t.client.set_verify_mode(tlsx::verify_mode::optional);
    BOOST_TEST(t.client_handshake() == tlsx::error::server_name_required);
}

BOOST_AUTO_TEST_CASE(no_verification_needs_no_name) {
    unnamed_client t;
    t.client.set_verify_mode(tlsx::verify_mode::none);
    auto [cec, sec] = handshake_both(t.io, t.client, t.server);
    BOOST_TEST(!cec);
    BOOST_TEST(!sec);
}

BOOST_AUTO_TEST_CASE(chain_only_verification_on_the_context) {
    unnamed_client t;
    t.ctx.client.set_server_name_required(false); // before the stream's handshake sets it up
    auto [cec, sec] = handshake_both(t.io, t.client, t.server);
    BOOST_TEST(!cec);
    BOOST_TEST(!sec);
    BOOST_TEST(t.client.get_engine().verify_result() == 0u); // the chain was verified
}

BOOST_AUTO_TEST_CASE(chain_only_verification_still_rejects_an_untrusted_chain) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    tlsx::context bare(tlsx::context::tls_client); // trusts nothing
    bare.set_server_name_required(false);
    auto ends = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client(std::move(ends.first), bare);
    tlsx::stream<tlsx::test::pipe> server(std::move(ends.second), ctx.server);
    auto [cec, sec] = handshake_both(io, client, server);
    BOOST_TEST(cec == tlsx::error::certificate_untrusted);
    BOOST_TEST(sec);
}

BOOST_AUTO_TEST_CASE(stream_overrides_the_context_both_ways) {
    {
        unnamed_client t; // context requires a name, the stream opts out
        t.client.set_server_name_required(false);
        auto [cec, sec] = handshake_both(t.io, t.client, t.server);
        BOOST_TEST(!cec);
        BOOST_TEST(!sec);
    }
    {
        unnamed_client t; // context opts out, the stream insists
        t.ctx.client.set_server_name_required(false);
        t.client.set_server_name_required(true);
        BOOST_TEST(t.client_handshake() == tlsx::error::server_name_required);
    }
}

BOOST_AUTO_TEST_CASE(a_name_is_checked_even_when_not_required) {
    unnamed_client t;
    t.ctx.client.set_server_name_required(false);
    t.client.set_server_name("other.example");
    auto [cec, sec] = handshake_both(t.io, t.client, t.server);
    BOOST_TEST(cec == tlsx::error::certificate_name_mismatch);
}

BOOST_AUTO_TEST_SUITE_END()
