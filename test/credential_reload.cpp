// Live credential reload (issue 13, item 3): context::reload_certificate_chain_and_key(_file)
// and context::reload_verify_authorities / reload_verify_file replace a serving context's
// certificate, key and trusted authorities. New handshakes use the new ones; established
// connections, their TLS 1.2 renegotiations and handshakes already started keep the old ones;
// bad input leaves the old ones in force with a named error; an SNI callback's per-name context
// reloads the same way; and handshakes on two threads stay correct while the main thread reloads
// again and again (run under ThreadSanitizer by .ci/run tsan).
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/der.hpp"
#include "support/run.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace certs = tlsx_test::certs;
using tlsx::error_code;
using tlsx_test::contains;
using tlsx_test::der_of;
using tlsx_test::pem;
using tlsx_test::run_bounded;
using pipe_stream = tlsx::stream<tlsx::test::pipe>;
using der = std::vector<unsigned char>;

namespace {

/// Two self-signed certificates for "localhost" (A, the one served first, and B, its
/// replacement) and a client context that trusts both.
struct rotation {
    tlsx::self_signed_credentials a = tlsx::generate_self_signed("localhost");
    tlsx::self_signed_credentials b = tlsx::generate_self_signed("localhost");
    tlsx::context server{tlsx::context::tls_server};
    tlsx::context client{tlsx::context::tls_client};

    rotation() {
        server.use_certificate_chain(net::buffer(a.certificate_pem));
        server.use_private_key(net::buffer(a.private_key_pem), tlsx::context::pem);
        client.add_certificate_authority(net::buffer(a.certificate_pem));
        client.add_certificate_authority(net::buffer(b.certificate_pem));
    }
    der a_der() const { return der_of(a.certificate_pem); }
    der b_der() const { return der_of(b.certificate_pem); }
};

/// One client/server pair over the in-memory pipe.
struct connection {
    std::optional<pipe_stream> client, server;
    error_code client_ec, server_ec;

    connection(net::io_context& io, tlsx::context& cctx, tlsx::context& sctx,
               const char* host = "localhost") {
        auto [cp, sp] = tlsx::test::make_pipe(io);
        client.emplace(std::move(cp), cctx);
        server.emplace(std::move(sp), sctx);
        client->set_server_name(host);
    }

    bool handshake(net::io_context& io) {
        std::tie(client_ec, server_ec) = tlsx_test::handshake_both(io, *client, *server);
        return !client_ec && !server_ec;
    }

    /// Sends `text` each way and says whether both arrived intact.
    bool exchange(net::io_context& io, const std::string& text) {
        std::string to_server(text.size(), '\0'), to_client(text.size(), '\0');
        error_code e[4];
        for (auto& x : e)
            x = net::error::would_block;
        net::async_write(*client, net::buffer(text),
                         [&](error_code ec, std::size_t) { e[0] = ec; });
        net::async_read(*server, net::buffer(to_server),
                        [&](error_code ec, std::size_t) { e[1] = ec; });
        net::async_write(*server, net::buffer(text),
                         [&](error_code ec, std::size_t) { e[2] = ec; });
        net::async_read(*client, net::buffer(to_client),
                        [&](error_code ec, std::size_t) { e[3] = ec; });
        run_bounded(io);
        return !e[0] && !e[1] && !e[2] && !e[3] && to_server == text && to_client == text;
    }
};

/// The certificate a new connection's client is shown (empty if the handshake failed).
der presented(tlsx::context& cctx, tlsx::context& sctx, const char* host = "localhost") {
    net::io_context io;
    connection c(io, cctx, sctx, host);
    if (!c.handshake(io)) {
        BOOST_TEST_MESSAGE("handshake failed: " << c.client_ec.message() << " / "
                                                << c.server_ec.message());
        return {};
    }
    return c.client->peer_certificate();
}

/// A file under /tmp with the given contents, removed at the end of the test.
struct temp_file {
    std::string path;
    explicit temp_file(std::string_view contents) {
        static int n = 0;
        path = "/tmp/tlsx-credential-reload-" + std::to_string(::getpid()) + "-" +
               std::to_string(n++) + ".pem";
        std::ofstream(path, std::ios::binary) << contents;
    }
    ~temp_file() { std::remove(path.c_str()); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(credential_reload)

BOOST_AUTO_TEST_CASE(new_handshakes_present_the_new_certificate_old_connections_go_on) {
    rotation r;
    net::io_context io;
    connection before(io, r.client, r.server);
    BOOST_TEST_REQUIRE(before.handshake(io), before.client_ec.message());
    BOOST_TEST(before.client->peer_certificate() == r.a_der());

    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(r.b.private_key_pem));

    BOOST_TEST(presented(r.client, r.server) == r.b_der());
    // The connection made before the reload goes on both ways.
    BOOST_TEST(before.exchange(io, tlsx_test::pattern(20000)));
    BOOST_TEST(before.client->peer_certificate() == r.a_der());
    // Back to A: reloading again works the same way.
    r.server.reload_certificate_chain_and_key(net::buffer(r.a.certificate_pem),
                                              net::buffer(r.a.private_key_pem));
    BOOST_TEST(presented(r.client, r.server) == r.a_der());
}

BOOST_AUTO_TEST_CASE(a_handshake_in_flight_completes_with_the_old_certificate) {
    rotation r;
    net::io_context io;
    connection c(io, r.client, r.server);
    error_code cec = net::error::would_block, sec = cec;
    c.client->async_handshake(tlsx::stream_base::client, [&](error_code ec) { cec = ec; });
    c.server->async_handshake(tlsx::stream_base::server, [&](error_code ec) { sec = ec; });
    // Run until the server's session is set up and has the ClientHello in hand (it waits for
    // more, or already answered), then reload before the handshake finishes.
    for (int i = 0; i < 1000 && c.server->native_handle() == nullptr; ++i)
        io.run_one();
    BOOST_TEST_REQUIRE(c.server->native_handle() != nullptr);
    BOOST_TEST_REQUIRE(cec == net::error::would_block); // not finished yet
    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(r.b.private_key_pem));
    run_bounded(io);
    BOOST_TEST_REQUIRE(!cec, cec.message());
    BOOST_TEST_REQUIRE(!sec, sec.message());
    BOOST_TEST(c.client->peer_certificate() == r.a_der());
    BOOST_TEST(presented(r.client, r.server) == r.b_der()); // the next one gets B
}

BOOST_AUTO_TEST_CASE(tls12_renegotiation_after_a_reload_keeps_the_session_certificate) {
    rotation r;
    backend::tls12_only(r.server);
    r.client.set_renegotiation(tlsx::renegotiation_policy::accept);
    net::io_context io;
    connection c(io, r.client, r.server);
    BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message());
    BOOST_TEST_REQUIRE(c.client->protocol_version() == "TLSv1.2");

    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(r.b.private_key_pem));
    // The server renegotiates while the client reads; the new handshake of this session
    // presents the certificate the session started with.
    error_code sec = net::error::would_block, rec = sec;
    char buf[16];
    std::size_t got = 0;
    c.client->async_read_some(net::buffer(buf), [&](error_code ec, std::size_t n) {
        rec = ec;
        got = n;
    });
    c.server->async_renegotiate([&](error_code ec) {
        sec = ec;
        if (!ec)
            net::async_write(*c.server, net::buffer("after", 5), [](error_code, std::size_t) {});
    });
    run_bounded(io);
    BOOST_TEST_REQUIRE(!sec, sec.message());
    BOOST_TEST(!rec, rec.message());
    BOOST_TEST(std::string(buf, got) == "after");
    BOOST_TEST(c.client->peer_certificate() == r.a_der());
    BOOST_TEST(presented(r.client, r.server) == r.b_der());
}

BOOST_AUTO_TEST_CASE(a_session_from_before_the_reload_resumes) {
    // Resumption state (ticket keys, the session cache) is not credentials: a client resumes
    // the session it got before the reload, without a certificate; full handshakes get B.
    rotation r;
    backend::tls12_only(r.server); // the TLS 1.2 ticket is in hand right after the handshake
    tlsx::session saved;
    {
        net::io_context io;
        connection c(io, r.client, r.server);
        BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message());
        saved = c.client->get_session();
    }
    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(r.b.private_key_pem));
    net::io_context io;
    connection resumed(io, r.client, r.server);
    resumed.client->set_session(saved);
    BOOST_TEST_REQUIRE(resumed.handshake(io), resumed.client_ec.message());
    BOOST_TEST(resumed.client->session_reused());
    BOOST_TEST(presented(r.client, r.server) == r.b_der());
}

BOOST_AUTO_TEST_CASE(bad_input_leaves_the_old_certificate_in_force) {
    rotation r;
    const std::string garbage = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                                "-----END CERTIFICATE-----\n";
    const std::string bad_key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    error_code ec;

    r.server.reload_certificate_chain_and_key(net::buffer(garbage),
                                              net::buffer(r.b.private_key_pem), ec);
    BOOST_TEST(ec == tlsx::error::invalid_certificate, ec.message());
    BOOST_TEST(presented(r.client, r.server) == r.a_der());

    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(bad_key), ec);
    BOOST_TEST(ec == tlsx::error::invalid_private_key, ec.message());
    BOOST_TEST(presented(r.client, r.server) == r.a_der());

    // B's certificate with A's key.
    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(r.a.private_key_pem), ec);
    BOOST_TEST(ec == tlsx::error::key_mismatch, ec.message());
    BOOST_TEST(presented(r.client, r.server) == r.a_der());

    // An encrypted key with no password callback.
    r.server.reload_certificate_chain_and_key(pem(certs::server_cert),
                                              pem(certs::server_key_encrypted), ec);
    BOOST_TEST(ec == tlsx::error::wrong_password, ec.message());
    BOOST_TEST(presented(r.client, r.server) == r.a_der());

    // Missing files, either one.
    temp_file cert(r.b.certificate_pem), key(r.b.private_key_pem);
    r.server.reload_certificate_chain_and_key_file("/nonexistent/cert.pem", key.path, ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory, ec.message());
    r.server.reload_certificate_chain_and_key_file(cert.path, "/nonexistent/key.pem", ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory, ec.message());
    BOOST_TEST(presented(r.client, r.server) == r.a_der());

    // The throwing overloads name what failed.
    try {
        r.server.reload_certificate_chain_and_key_file(cert.path, "/nonexistent/key.pem");
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == boost::system::errc::no_such_file_or_directory);
        BOOST_TEST(contains(e.what(), "/nonexistent/key.pem"), e.what());
        BOOST_TEST(contains(e.what(), "reload_certificate_chain_and_key_file"), e.what());
    }
    try {
        r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                                  net::buffer(r.a.private_key_pem));
        BOOST_FAIL("no exception");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == tlsx::error::key_mismatch);
        BOOST_TEST(contains(e.what(), "private key"), e.what());
    }
    BOOST_TEST(presented(r.client, r.server) == r.a_der());

    // A moved-from context says so.
    tlsx::context moved = std::move(r.server);
    r.server.reload_certificate_chain_and_key(net::buffer(r.b.certificate_pem),
                                              net::buffer(r.b.private_key_pem), ec);
    BOOST_TEST(ec == tlsx::error::operation_not_permitted, ec.message());
}

BOOST_AUTO_TEST_CASE(reload_from_files_and_encrypted_keys) {
    rotation r;
    temp_file cert(r.b.certificate_pem), key(r.b.private_key_pem);
    error_code ec;
    r.server.reload_certificate_chain_and_key_file(cert.path, key.path, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(presented(r.client, r.server) == r.b_der());

    // An encrypted key goes through the password callback, as use_private_key's does.
    r.server.set_password_callback(
        [](std::size_t, tlsx::context::password_purpose) { return std::string("secret"); });
    r.client.add_certificate_authority(pem(certs::ca_cert));
    r.server.reload_certificate_chain_and_key(pem(certs::server_cert),
                                              pem(certs::server_key_encrypted_legacy), ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(presented(r.client, r.server) == der_of(certs::server_cert));
}

BOOST_AUTO_TEST_CASE(reloading_the_authorities_changes_which_client_certificates_pass) {
    tlsx_test::context_pair p; // server: self-signed localhost; client trusts it
    p.server.add_certificate_authority(pem(certs::ca_cert));
    p.server.set_verify_mode(tlsx::verify_mode::required);
    p.client.use_certificate_chain(pem(certs::client_cert)); // issued by ca_cert
    p.client.use_private_key(pem(certs::client_key), tlsx::context::pem);

    auto client_passes = [&](error_code& server_ec) {
        net::io_context io;
        connection c(io, p.client, p.server);
        const bool ok = c.handshake(io);
        server_ec = c.server_ec;
        return ok;
    };
    error_code sec;
    BOOST_TEST(client_passes(sec), sec.message());

    // A connection made now goes on after the authorities change.
    net::io_context io;
    connection before(io, p.client, p.server);
    BOOST_TEST_REQUIRE(before.handshake(io), before.server_ec.message());

    p.server.reload_verify_authorities(pem(certs::other_ca_cert));
    BOOST_TEST(!client_passes(sec));
    BOOST_TEST(sec == tlsx::error::certificate_untrusted, sec.message());
    BOOST_TEST(before.exchange(io, "still here"));

    // Bad input keeps other_ca_cert.
    error_code ec;
    p.server.reload_verify_authorities(pem("-----BEGIN CERTIFICATE-----\nxx\n"), ec);
    BOOST_TEST(ec == tlsx::error::invalid_certificate, ec.message());
    p.server.reload_verify_file("/nonexistent/ca.pem", ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory, ec.message());
    BOOST_TEST(!client_passes(sec));

    // From a file, with both authorities: accepted again.
    temp_file bundle(std::string(certs::other_ca_cert) + std::string(certs::ca_cert));
    p.server.reload_verify_file(bundle.path, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(client_passes(sec), sec.message());

    // A client context reloads the authorities it checks servers against in the same way.
    p.client.reload_verify_authorities(pem(certs::other_ca_cert));
    BOOST_TEST(!client_passes(sec));
}

BOOST_AUTO_TEST_CASE(an_sni_per_name_context_reloads) {
    rotation r;
    r.client.add_certificate_authority(pem(certs::ca_cert)); // other_host_cert's issuer
    const tlsx::self_signed_credentials renewed = tlsx::generate_self_signed("other.example");
    r.client.add_certificate_authority(net::buffer(renewed.certificate_pem));
    tlsx::context other(tlsx::context::tls_server);
    other.use_certificate_chain(pem(certs::other_host_cert));
    other.use_private_key(pem(certs::other_host_key), tlsx::context::pem);
    r.server.set_sni_callback([&](tlsx::sni_selection& s) {
        if (s.server_name() == "other.example")
            s.use(other);
        return true;
    });
    BOOST_TEST(presented(r.client, r.server, "other.example") == der_of(certs::other_host_cert));

    // A handshake that has chosen the per-name certificate keeps it across a reload of that
    // context: the callback reloads `other` right after choosing it, in the middle of the
    // handshake. The next handshake gets the new certificate.
    bool reload_now = true;
    error_code reload_ec = net::error::would_block;
    r.server.set_sni_callback([&](tlsx::sni_selection& s) {
        if (s.server_name() != "other.example")
            return true;
        s.use(other);
        if (reload_now) {
            reload_now = false;
            other.reload_certificate_chain_and_key(net::buffer(renewed.certificate_pem),
                                                   net::buffer(renewed.private_key_pem), reload_ec);
        }
        return true;
    });
    net::io_context io;
    connection in_flight(io, r.client, r.server, "other.example");
    BOOST_TEST_REQUIRE(in_flight.handshake(io), in_flight.client_ec.message());
    BOOST_TEST_REQUIRE(!reload_ec, reload_ec.message());
    BOOST_TEST(in_flight.client->peer_certificate() == der_of(certs::other_host_cert));

    BOOST_TEST(presented(r.client, r.server, "other.example") == der_of(renewed.certificate_pem));
    BOOST_TEST(presented(r.client, r.server, "localhost") == r.a_der()); // the default's own
    BOOST_TEST(in_flight.exchange(io, "per-name"));
}

BOOST_AUTO_TEST_CASE(handshakes_on_two_threads_while_the_main_thread_reloads) {
    // Each worker runs full handshakes one after another on its own io_context against the
    // shared contexts; the main thread reloads the server's certificate (A, B, A, ...) and the
    // client's authorities until both workers are done. Every handshake must succeed and show
    // A or B. Checked on the main thread (no Boost.Test macro on the workers).
    rotation r;
    r.server.disable_session_tickets(); // full handshakes only
    const der a = r.a_der(), b = r.b_der();
    const std::string both = r.a.certificate_pem + r.b.certificate_pem;
    constexpr int per_thread = 25;

    struct outcome {
        int ok = 0, saw_a = 0, saw_b = 0;
        std::vector<std::string> failures;
    };
    outcome results[2];
    std::atomic<int> running{2};
    auto worker = [&](outcome& out) {
        for (int i = 0; i < per_thread; ++i) {
            net::io_context io;
            connection c(io, r.client, r.server);
            if (!c.handshake(io) || !c.exchange(io, "x")) {
                out.failures.push_back(c.client_ec.message() + " / " + c.server_ec.message());
                continue;
            }
            const der got = c.client->peer_certificate();
            if (got == a)
                ++out.saw_a;
            else if (got == b)
                ++out.saw_b;
            else
                out.failures.push_back("an unknown certificate");
            ++out.ok;
        }
        --running;
    };
    std::thread t1(worker, std::ref(results[0]));
    std::thread t2(worker, std::ref(results[1]));
    int reloads = 0;
    error_code reload_ec;
    while (running.load() != 0) {
        const auto& next = reloads % 2 == 0 ? r.b : r.a;
        error_code e1, e2;
        r.server.reload_certificate_chain_and_key(net::buffer(next.certificate_pem),
                                                  net::buffer(next.private_key_pem), e1);
        r.client.reload_verify_authorities(net::buffer(both), e2);
        if (!reload_ec)
            reload_ec = e1 ? e1 : e2;
        ++reloads;
        std::this_thread::yield();
    }
    t1.join();
    t2.join();
    BOOST_TEST(!reload_ec, reload_ec.message());
    BOOST_TEST(reloads > 0);
    for (const outcome& o : results) {
        BOOST_TEST(o.ok == per_thread);
        BOOST_TEST(o.failures.empty(), (o.failures.empty() ? "" : o.failures.front()));
    }
    BOOST_TEST_MESSAGE("reloads: " << reloads << "; A seen " << results[0].saw_a + results[1].saw_a
                                   << " times, B " << results[0].saw_b + results[1].saw_b);
    // After the last reload, a new handshake shows the last certificate loaded.
    BOOST_TEST(presented(r.client, r.server) == (reloads % 2 == 1 ? b : a));
}

BOOST_AUTO_TEST_SUITE_END()
