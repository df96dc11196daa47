// Closing a tlsx::stream: shutdown_type::both and ::send, eof after close_notify, half-close,
// truncation, shutdown that must not hang, data that arrives while shutting down.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "support/run.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <string>
#include <sys/socket.h>
#include <thread>

namespace net = boost::asio;
namespace beast = boost::beast;
using tlsx::error_code;
using tlsx::shutdown_type;
using tlsx_test::run_bounded;

namespace {

using pair_t = tlsx::test::tls_pair;

/// Not yet completed.
const error_code pending = net::error::would_block;

/// A short bound for runs whose only work is the operation under test: failing to stop in
/// time means the operation hung.
constexpr std::chrono::seconds short_bound(10);

void handshake(net::io_context& io, pair_t& p) {
    error_code cec = pending, sec = pending;
    p.client.async_handshake(tlsx::stream_base::client, [&](error_code ec) { cec = ec; });
    p.server.async_handshake(tlsx::stream_base::server, [&](error_code ec) { sec = ec; });
    BOOST_REQUIRE(run_bounded(io));
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
}

/// One async_read_some; returns {ec, data}.
std::pair<error_code, std::string> read_once(net::io_context& io,
                                             tlsx::stream<tlsx::test::pipe>& s) {
    char buf[256];
    error_code rec = pending;
    std::size_t n = 0;
    s.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t k) { rec = ec, n = k; });
    BOOST_TEST(run_bounded(io, short_bound));
    return {rec, std::string(buf, n)};
}

/// Credentials and contexts for TCP tests.
struct tcp_contexts {
    tlsx::self_signed_credentials cred = tlsx::generate_self_signed("localhost");
    tlsx::context server{tlsx::context::tls_server};
    tlsx::context client{tlsx::context::tls_client};
    tcp_contexts() {
        server.use_certificate_chain(net::buffer(cred.certificate_pem));
        server.use_private_key(net::buffer(cred.private_key_pem), tlsx::context::pem);
        client.add_certificate_authority(net::buffer(cred.certificate_pem));
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(stream_close)

BOOST_AUTO_TEST_CASE(clean_close_both_modes) {
    // shutdown_type::both: completes when the peer's close_notify arrives.
    {
        net::io_context io;
        pair_t p(io);
        handshake(io, p);
        char buf[16];
        error_code server_read = pending, server_shut = pending, client_shut = pending;
        bool peer_closed_at_completion = false;
        p.server.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) {
            server_read = ec;
            p.server.async_shutdown([&](error_code ec2) { server_shut = ec2; });
        });
        p.client.async_shutdown(shutdown_type::both, [&](error_code ec) {
            client_shut = ec;
            peer_closed_at_completion = p.client.get_engine().peer_closed();
        });
        BOOST_TEST(run_bounded(io, short_bound));
        BOOST_TEST(server_read == net::error::eof);
        BOOST_TEST(!server_shut);
        BOOST_TEST(!client_shut);
        // The client's shutdown waited for the server's answer.
        BOOST_TEST(peer_closed_at_completion);
    }
    // shutdown_type::send: completes once ours is written, though the peer does nothing.
    {
        net::io_context io;
        pair_t p(io);
        handshake(io, p);
        error_code client_shut = pending;
        p.client.async_shutdown(shutdown_type::send, [&](error_code ec) { client_shut = ec; });
        BOOST_TEST(run_bounded(io, short_bound)); // nothing waits on the silent peer
        BOOST_TEST(!client_shut);
        BOOST_TEST(p.client.get_engine().close_sent());
        BOOST_TEST(!p.client.get_engine().peer_closed());
        BOOST_TEST(p.server.next_layer().available() > 0u); // the close_notify is on the wire

        // Reads go on until the server's close_notify.
        error_code server_shut = pending;
        p.server.async_shutdown(shutdown_type::both, [&](error_code ec) { server_shut = ec; });
        BOOST_TEST(run_bounded(io, short_bound));
        BOOST_TEST(!server_shut);
        BOOST_TEST(read_once(io, p.client).first == net::error::eof);
    }
}

BOOST_AUTO_TEST_CASE(read_after_peer_close_notify_is_eof) {
    net::io_context io;
    pair_t p(io);
    handshake(io, p);
    error_code wec = pending, sec = pending;
    net::async_write(p.client, net::buffer("last", 4), [&](error_code ec, std::size_t) {
        wec = ec;
        p.client.async_shutdown(shutdown_type::send, [&](error_code ec2) { sec = ec2; });
    });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!wec);
    BOOST_TEST(!sec);

    auto [ec1, data] = read_once(io, p.server);
    BOOST_TEST(!ec1); // data sent before close_notify comes first
    BOOST_TEST(data == "last");
    auto r2 = read_once(io, p.server);
    BOOST_TEST(r2.first == net::error::eof);
    BOOST_TEST(r2.second.empty());
    auto r3 = read_once(io, p.server);
    BOOST_TEST(r3.first == net::error::eof); // and again
    char c;
    error_code sync_ec;
    BOOST_TEST(p.server.read_some(net::buffer(&c, 1), sync_ec) == 0u);
    BOOST_TEST(sync_ec == net::error::eof);
}

BOOST_AUTO_TEST_CASE(half_close_allows_writing_after_peer_close) {
    net::io_context io;
    pair_t p(io);
    handshake(io, p);
    error_code client_shut = pending;
    p.client.async_shutdown(shutdown_type::send, [&](error_code ec) { client_shut = ec; });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!client_shut);

    BOOST_TEST(read_once(io, p.server).first == net::error::eof);
    BOOST_TEST(p.server.get_engine().peer_closed());

    // The server still writes; the client, which only sent its close_notify, still reads.
    const std::string reply = "written after the peer's close_notify";
    error_code wec = pending;
    net::async_write(p.server, net::buffer(reply), [&](error_code ec, std::size_t) { wec = ec; });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!wec);
    std::string got(reply.size(), '\0');
    error_code rec = pending;
    net::async_read(p.client, net::buffer(got), [&](error_code ec, std::size_t) { rec = ec; });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!rec);
    BOOST_TEST(got == reply);

    // shutdown(both) completes once ours is written: the peer's already arrived. Nobody reads
    // on the client, so waiting for anything more would hang.
    error_code server_shut = pending;
    p.server.async_shutdown(shutdown_type::both, [&](error_code ec) { server_shut = ec; });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!server_shut);
    BOOST_TEST(p.client.next_layer().available() > 0u);
    BOOST_TEST(read_once(io, p.client).first == net::error::eof);
}

BOOST_AUTO_TEST_CASE(transport_eof_without_close_notify_is_stream_truncated) {
    net::io_context io;
    pair_t p(io);
    handshake(io, p);
    p.client.next_layer().close_write(); // a FIN with no close_notify before it
    auto [ec, data] = read_once(io, p.server);
    BOOST_TEST(ec == tlsx::error::stream_truncated);
    BOOST_TEST(ec == tlsx::condition::truncated);
    BOOST_TEST(ec != net::error::eof);
    BOOST_TEST(data.empty());
}

BOOST_AUTO_TEST_CASE(shutdown_both_completes_on_transport_eof_after_ours) {
    net::io_context io;
    pair_t p(io);
    handshake(io, p);
    error_code client_shut = pending;
    p.client.async_shutdown(shutdown_type::both, [&](error_code ec) { client_shut = ec; });
    io.restart();
    io.poll(); // our close_notify goes out; then the shutdown waits for the peer's
    BOOST_TEST(client_shut == pending);
    BOOST_TEST(p.server.next_layer().available() > 0u);

    p.server.next_layer().close(); // the peer closes the transport instead of answering
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!client_shut);
}

BOOST_AUTO_TEST_CASE(shutdown_both_does_not_hang_when_peer_never_answers) {
    // Per-operation cancellation.
    {
        net::cancellation_signal sig; // outlives the operations that use its slot
        net::io_context io;
        pair_t p(io);
        handshake(io, p);
        error_code client_shut = pending;
        p.client.async_shutdown(
            shutdown_type::both,
            net::bind_cancellation_slot(sig.slot(), [&](error_code ec) { client_shut = ec; }));
        io.restart();
        io.poll();
        BOOST_TEST(client_shut == pending); // waiting for the peer
        sig.emit(net::cancellation_type::terminal);
        BOOST_TEST(run_bounded(io, short_bound));
        BOOST_TEST(client_shut == net::error::operation_aborted);
    }
    // The transport's timeout: beast::tcp_stream::expires_after.
    {
        net::io_context io;
        tcp_contexts ctx;
        net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
        tlsx::stream<beast::tcp_stream> client(io, ctx.client);
        tlsx::stream<beast::tcp_stream> server(io, ctx.server);
        client.set_server_name("localhost");
        error_code cec = pending, sec = pending;
        acceptor.async_accept(server.next_layer().socket(), [&](error_code ec) {
            BOOST_REQUIRE(!ec);
            server.async_handshake(tlsx::stream_base::server, [&](error_code e) { sec = e; });
        });
        client.next_layer().expires_after(std::chrono::seconds(10));
        client.next_layer().async_connect(acceptor.local_endpoint(), [&](error_code ec) {
            BOOST_REQUIRE(!ec);
            client.async_handshake(tlsx::stream_base::client, [&](error_code e) { cec = e; });
        });
        BOOST_REQUIRE(run_bounded(io, short_bound));
        BOOST_REQUIRE(!cec);
        BOOST_REQUIRE(!sec);

        // The server keeps the connection open and never reads or answers.
        error_code client_shut = pending;
        client.next_layer().expires_after(std::chrono::milliseconds(200));
        auto start = std::chrono::steady_clock::now();
        client.async_shutdown(shutdown_type::both, [&](error_code ec) { client_shut = ec; });
        BOOST_TEST(run_bounded(io, short_bound));
        auto elapsed = std::chrono::steady_clock::now() - start;
        BOOST_TEST(client_shut != pending);
        BOOST_TEST(client_shut);
        BOOST_TEST(
            (client_shut == beast::error::timeout || client_shut == net::error::operation_aborted),
            "shutdown completed with " << client_shut.message());
        BOOST_TEST((elapsed >= std::chrono::milliseconds(150)));
        BOOST_TEST((elapsed < short_bound));
    }
}

BOOST_AUTO_TEST_CASE(shutdown_with_pending_read_keeps_data) {
    // Either order: the read started first (it owns the transport read), or the shutdown did
    // (it reads the transport, and must hand what arrives to the read).
    for (bool read_first : {true, false}) {
        BOOST_TEST_CONTEXT((read_first ? "read started first" : "shutdown started first")) {
            net::io_context io;
            pair_t p(io);
            handshake(io, p);
            char buf[64];
            std::string first, second = "unset";
            error_code rec1 = pending, rec2 = pending, client_shut = pending;
            auto start_read = [&] {
                p.client.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t n) {
                    rec1 = ec;
                    first.assign(buf, n);
                    p.client.async_read_some(net::buffer(buf), [&](error_code ec2, std::size_t n2) {
                        rec2 = ec2;
                        second.assign(buf, n2);
                    });
                });
            };
            auto start_shutdown = [&] {
                p.client.async_shutdown(shutdown_type::both,
                                        [&](error_code ec) { client_shut = ec; });
            };
            io.restart();
            if (read_first) {
                start_read();
                io.poll();
                start_shutdown();
            } else {
                start_shutdown();
                io.poll();
                start_read();
            }
            io.poll(); // the client's close_notify is out; its read and its shutdown wait
            BOOST_TEST(client_shut == pending);
            BOOST_TEST(rec1 == pending);
            BOOST_TEST(p.server.next_layer().available() > 0u);

            // The server answers with data, then its own close_notify.
            error_code wec = pending, server_shut = pending;
            net::async_write(p.server, net::buffer("tail", 4), [&](error_code ec, std::size_t) {
                wec = ec;
                p.server.async_shutdown(shutdown_type::both,
                                        [&](error_code ec2) { server_shut = ec2; });
            });
            BOOST_TEST(run_bounded(io, short_bound));
            BOOST_TEST(!wec);
            BOOST_TEST(!server_shut);
            BOOST_TEST(!rec1);
            BOOST_TEST(first == "tail"); // delivered to the pending read, not discarded
            BOOST_TEST(rec2 == net::error::eof);
            BOOST_TEST(second.empty());
            BOOST_TEST(!client_shut);
        }
    }
}

BOOST_AUTO_TEST_CASE(sync_shutdown_over_tcp_on_two_threads) {
    tcp_contexts ctx;
    net::io_context io;
    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});

    for (shutdown_type client_how : {shutdown_type::send, shutdown_type::both}) {
        BOOST_TEST_CONTEXT("client shutdown "
                           << (client_how == shutdown_type::send ? "send" : "both")) {
            tlsx::stream<net::ip::tcp::socket> server(io, ctx.server);
            tlsx::stream<net::ip::tcp::socket> client(io, ctx.client);
            client.set_server_name("localhost");
            client.next_layer().connect(acceptor.local_endpoint());
            acceptor.accept(server.next_layer());

            // With shutdown_type::send the client's shutdown returns before the server answers:
            // the server only sends its close_notify once told so.
            std::promise<void> client_shut_returned;
            auto shut_returned = client_shut_returned.get_future();

            // Server: handshake, read "bye", read eof, answer with the opposite mode.
            auto server_done = std::async(std::launch::async, [&] {
                error_code ec;
                server.handshake(tlsx::stream_base::server, ec);
                if (ec)
                    return std::string("handshake: ") + ec.message();
                char buf[16];
                std::size_t n = net::read(server, net::buffer(buf, 3), ec);
                if (ec || std::string(buf, n) != "bye")
                    return std::string("read: ") + ec.message();
                server.read_some(net::buffer(buf), ec);
                if (ec != net::error::eof)
                    return std::string("expected eof: ") + ec.message();
                if (client_how == shutdown_type::send &&
                    shut_returned.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
                    return std::string("the client's shutdown(send) did not return");
                server.shutdown(client_how == shutdown_type::send ? shutdown_type::both
                                                                  : shutdown_type::send,
                                ec);
                return ec ? std::string("shutdown: ") + ec.message() : std::string("ok");
            });
            auto client_done = std::async(std::launch::async, [&] {
                error_code ec;
                client.handshake(tlsx::stream_base::client, ec);
                if (ec)
                    return std::string("handshake: ") + ec.message();
                net::write(client, net::buffer("bye", 3), ec);
                if (ec)
                    return std::string("write: ") + ec.message();
                client.shutdown(client_how, ec);
                if (ec)
                    return std::string("shutdown: ") + ec.message();
                if (client_how == shutdown_type::send) {
                    client_shut_returned.set_value();
                    char c;
                    client.read_some(net::buffer(&c, 1), ec);
                    if (ec != net::error::eof)
                        return std::string("expected eof: ") + ec.message();
                }
                return std::string("ok");
            });

            // Watchdog: unblock both threads instead of hanging the test run.
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            bool in_time = server_done.wait_until(deadline) == std::future_status::ready &&
                           client_done.wait_until(deadline) == std::future_status::ready;
            if (!in_time) {
                ::shutdown(server.next_layer().native_handle(), SHUT_RDWR);
                ::shutdown(client.next_layer().native_handle(), SHUT_RDWR);
            }
            BOOST_TEST(in_time);
            BOOST_TEST(server_done.get() == "ok");
            BOOST_TEST(client_done.get() == "ok");
            BOOST_TEST(client.get_engine().peer_closed());
            BOOST_TEST(server.get_engine().peer_closed());
        }
    }
}

BOOST_AUTO_TEST_CASE(write_after_our_close_notify_fails_with_closed) {
    net::io_context io;
    pair_t p(io);
    handshake(io, p);
    error_code client_shut = pending;
    p.client.async_shutdown(shutdown_type::send, [&](error_code ec) { client_shut = ec; });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(!client_shut);

    std::size_t before = p.client.next_layer().bytes_written();
    error_code wec = pending;
    std::size_t n = 99;
    p.client.async_write_some(net::buffer("x", 1), [&](error_code ec, std::size_t k) {
        wec = ec;
        n = k;
    });
    BOOST_TEST(run_bounded(io, short_bound));
    BOOST_TEST(wec == tlsx::error::closed);
    BOOST_TEST(n == 0u);
    error_code sync_ec;
    BOOST_TEST(p.client.write_some(net::buffer("x", 1), sync_ec) == 0u);
    BOOST_TEST(sync_ec == tlsx::error::closed);
    BOOST_TEST(p.client.next_layer().bytes_written() == before); // nothing reached the wire
}

BOOST_AUTO_TEST_SUITE_END()
