// Deadlines on any next layer: the handshake (and the renegotiation or key update a handshake
// operation runs), the shutdown and the read idle limit. Each peer here simply never answers, the
// limits are short (50 ms), and each test checks the error, that the transport got closed and
// that the handler ran exactly once; none asserts how long anything took.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::run_bounded;
using namespace std::chrono_literals;

namespace {

constexpr auto short_limit = 50ms;
constexpr auto long_limit = 60s; // never reached by a test that passes

/// What a completion handler saw: how often it ran and its last error.
struct outcome {
    int calls = 0;
    error_code ec;
    std::size_t bytes = 0;

    auto handler() {
        return [this](error_code e) {
            ++calls;
            ec = e;
        };
    }
    auto bytes_handler() {
        return [this](error_code e, std::size_t n) {
            ++calls;
            ec = e;
            bytes = n;
        };
    }
};

/// Whether a pipe end was closed: a write to it fails with broken_pipe.
bool pipe_closed(tlsx::test::pipe& p) {
    error_code ec;
    p.write_some(net::buffer("x", 1), ec);
    return ec == net::error::broken_pipe;
}

/// A connected pair of loopback TCP sockets.
std::pair<net::ip::tcp::socket, net::ip::tcp::socket> tcp_pair(net::io_context& io) {
    net::ip::tcp::acceptor acceptor(io, {net::ip::address_v4::loopback(), 0});
    net::ip::tcp::socket a(io), b(io);
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
    return {std::move(a), std::move(b)};
}

/// A tls_pair whose handshake has been done (with the given version cap).
struct connected : tlsx::test::tls_pair {
    net::io_context& io;
    explicit connected(net::io_context& i, bool tls12 = false)
        : tls_pair(i)
        , io(i) {
        if (tls12) {
            backend::tls12_only(client_ctx);
            client_ctx.set_renegotiation(tlsx::renegotiation_policy::accept);
        }
        auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
        BOOST_REQUIRE(!cec);
        BOOST_REQUIRE(!sec);
    }
};

/// Fill the kernel's buffers from `s` towards a peer that does not read, so that the next write
/// waits (raw bytes beside TLS: the peer never reads any of them).
template <class Socket>
void fill_send_buffer(Socket& s) {
    std::vector<char> junk(65536, 'j');
    s.non_blocking(true);
    error_code ec;
    while (!ec)
        s.write_some(net::buffer(junk), ec);
    BOOST_REQUIRE(ec == net::error::would_block);
    s.non_blocking(false);
}

} // namespace

BOOST_AUTO_TEST_SUITE(deadlines)

// ---- Defaults ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(server_contexts_have_a_handshake_limit_and_others_none) {
    for (auto m :
         {tlsx::context::tls_server, tlsx::context::tlsv12_server, tlsx::context::sslv23_server}) {
        tlsx::context ctx(m);
        BOOST_TEST((ctx.handshake_timeout() == tlsx::default_server_handshake_timeout));
        BOOST_TEST((ctx.shutdown_timeout() == tlsx::no_timeout));
        BOOST_TEST((ctx.read_idle_timeout() == tlsx::no_timeout));
    }
    BOOST_TEST((tlsx::default_server_handshake_timeout == std::chrono::seconds(30)));
    for (auto m : {tlsx::context::tls_client, tlsx::context::tls, tlsx::context::tlsv12,
                   tlsx::context::tlsv12_client}) {
        tlsx::context ctx(m);
        BOOST_TEST((ctx.handshake_timeout() == tlsx::no_timeout));
        BOOST_TEST((ctx.shutdown_timeout() == tlsx::no_timeout));
        BOOST_TEST((ctx.read_idle_timeout() == tlsx::no_timeout));
    }
}

BOOST_AUTO_TEST_CASE(streams_take_their_contexts_limits_and_may_override_them) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    BOOST_TEST((p.server.handshake_timeout() == tlsx::default_server_handshake_timeout));
    BOOST_TEST((p.client.handshake_timeout() == tlsx::no_timeout));
    BOOST_TEST((p.client.read_idle_timeout() == tlsx::no_timeout));

    p.client_ctx.set_handshake_timeout(5s);
    p.client_ctx.set_shutdown_timeout(6s);
    p.client_ctx.set_read_idle_timeout(7s);
    auto [a, b] = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> s(std::move(a), p.client_ctx);
    BOOST_TEST((s.handshake_timeout() == 5s));
    BOOST_TEST((s.shutdown_timeout() == 6s));
    BOOST_TEST((s.read_idle_timeout() == 7s));
    s.set_handshake_timeout(tlsx::no_timeout);
    s.set_read_idle_timeout(1s);
    BOOST_TEST((s.handshake_timeout() == tlsx::no_timeout));
    BOOST_TEST((s.read_idle_timeout() == 1s));
    BOOST_TEST((p.client_ctx.handshake_timeout() == 5s)); // the context keeps its own

    p.server.set_handshake_timeout(tlsx::no_timeout); // a server may switch its limit off
    BOOST_TEST((p.server.handshake_timeout() == tlsx::no_timeout));

    BOOST_CHECK_EXCEPTION(s.set_shutdown_timeout(-1s), boost::system::system_error,
                          [](const auto& e) { return e.code() == tlsx::error::invalid_argument; });
    BOOST_CHECK_EXCEPTION(p.client_ctx.set_read_idle_timeout(-1ms), boost::system::system_error,
                          [](const auto& e) { return e.code() == tlsx::error::invalid_argument; });
    (void)b;
}

// ---- Handshake -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(handshake_times_out_on_the_test_pipe) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    auto [a, b] = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client(std::move(a), ctx.client);
    client.set_server_name("localhost");
    client.set_handshake_timeout(short_limit);
    outcome o;
    client.async_handshake(tlsx::stream_base::client, o.handler());
    BOOST_REQUIRE(run_bounded(io)); // the peer (b) never answers
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::timed_out);
    BOOST_TEST(pipe_closed(client.next_layer()));
    BOOST_TEST(b.available() > 0u); // the ClientHello went out; then b's peer closed
}

BOOST_AUTO_TEST_CASE(server_handshake_times_out_on_a_tcp_socket) {
    // A slowloris: the client connects and never sends a byte.
    net::io_context io;
    tlsx_test::context_pair ctx;
    auto [silent, accepted] = tcp_pair(io);
    tlsx::stream<net::ip::tcp::socket> server(std::move(accepted), ctx.server);
    server.set_handshake_timeout(short_limit); // instead of the server context's 30 s
    outcome o;
    server.async_handshake(tlsx::stream_base::server, o.handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::timed_out);
    BOOST_TEST(!server.lowest_layer().is_open());
    // The silent client sees the connection end.
    char c;
    error_code ec;
    silent.read_some(net::buffer(&c, 1), ec);
    BOOST_TEST(ec == net::error::eof);
}

BOOST_AUTO_TEST_CASE(client_handshake_times_out_on_a_local_socket) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    using socket = net::local::stream_protocol::socket;
    tlsx::stream<socket> client(io, ctx.client);
    socket silent(io);
    net::local::connect_pair(client.next_layer(), silent);
    client.set_server_name("localhost");
    client.set_handshake_timeout(short_limit);
    outcome o;
    client.async_handshake(tlsx::stream_base::client, o.handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::timed_out);
    BOOST_TEST(!client.lowest_layer().is_open());
}

BOOST_AUTO_TEST_CASE(handshakes_in_time_complete_and_leave_no_timer_behind) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    p.client.set_handshake_timeout(long_limit);
    p.server.set_handshake_timeout(long_limit);
    p.client.set_read_idle_timeout(long_limit);
    p.client.set_shutdown_timeout(long_limit);
    p.server.set_shutdown_timeout(long_limit);
    auto [cec, sec] = tlsx_test::handshake_both(io, p.client, p.server);
    BOOST_TEST(!cec);
    BOOST_TEST(!sec);
    // run_bounded returned: no armed timer kept the io_context busy for the long limit.
    BOOST_TEST(io.stopped());

    std::string got(5, '\0');
    outcome r, w;
    net::async_read(p.client, net::buffer(got), r.bytes_handler());
    net::async_write(p.server, net::buffer(std::string("hello")), w.bytes_handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(r.calls == 1);
    BOOST_TEST(!r.ec);
    BOOST_TEST(got == "hello");

    outcome cs, ss;
    p.client.async_shutdown(cs.handler());
    p.server.async_shutdown(ss.handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(cs.calls == 1);
    BOOST_TEST(!cs.ec);
    BOOST_TEST(ss.calls == 1);
    BOOST_TEST(!ss.ec);
}

// ---- Read idle -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(read_idle_limit_closes_a_silent_connection) {
    net::io_context io;
    connected p(io);
    p.client.set_read_idle_timeout(short_limit);
    char buf[16];
    outcome o;
    p.client.async_read_some(net::buffer(buf), o.bytes_handler());
    BOOST_REQUIRE(run_bounded(io)); // the server never writes
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::timed_out);
    BOOST_TEST(o.bytes == 0u);
    BOOST_TEST(pipe_closed(p.client.next_layer()));
    // The server sees the transport end without close_notify.
    outcome s;
    p.server.async_read_some(net::buffer(buf), s.bytes_handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(s.ec == tlsx::error::stream_truncated);
}

BOOST_AUTO_TEST_CASE(reads_that_get_data_in_time_go_on) {
    net::io_context io;
    connected p(io);
    p.client.set_read_idle_timeout(long_limit);
    std::string got(3, '\0');
    for (const char* msg : {"one", "two", "six"}) {
        outcome r;
        net::async_read(p.client, net::buffer(got), r.bytes_handler());
        net::async_write(p.server, net::buffer(msg, 3), [](error_code, std::size_t) {});
        BOOST_REQUIRE(run_bounded(io));
        BOOST_TEST(r.calls == 1);
        BOOST_TEST(!r.ec);
        BOOST_TEST(got == msg);
    }
}

BOOST_AUTO_TEST_CASE(a_cancelled_read_with_a_limit_is_aborted_and_the_stream_goes_on) {
    net::io_context io;
    connected p(io);
    p.client.set_read_idle_timeout(long_limit);
    char buf[16];
    net::cancellation_signal sig;
    outcome o;
    p.client.async_read_some(net::buffer(buf),
                             net::bind_cancellation_slot(sig.slot(), o.bytes_handler()));
    io.restart();
    io.poll(); // the read waits in the transport
    sig.emit(net::cancellation_type::terminal);
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::operation_aborted);
    // The limit did not fire, the transport is open, and the next read gets data.
    outcome r;
    std::string got(2, '\0');
    net::async_read(p.client, net::buffer(got), r.bytes_handler());
    net::async_write(p.server, net::buffer("ok", 2), [](error_code, std::size_t) {});
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(!r.ec);
    BOOST_TEST(got == "ok");
}

// ---- Shutdown --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(shutdown_times_out_when_the_peer_never_sends_close_notify) {
    net::io_context io;
    connected p(io);
    p.client.set_shutdown_timeout(short_limit);
    outcome o;
    p.client.async_shutdown(tlsx::shutdown_type::both, o.handler());
    BOOST_REQUIRE(run_bounded(io)); // the server never reads, so never answers
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::timed_out);
    BOOST_TEST(pipe_closed(p.client.next_layer()));
}

// ---- Renegotiation and key update --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(handshake_limit_covers_a_renegotiation) {
    // TLS 1.2: the server asks, the client never reads the request. A read pending on the
    // server beside the renegotiation completes with operation_aborted.
    net::io_context io;
    connected p(io, true);
    BOOST_REQUIRE(p.server.protocol_version() == "TLSv1.2");
    p.server.set_handshake_timeout(short_limit);
    char buf[16];
    outcome rd, rn;
    p.server.async_read_some(net::buffer(buf), rd.bytes_handler());
    p.server.async_renegotiate(rn.handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(rn.calls == 1);
    BOOST_TEST(rn.ec == net::error::timed_out);
    BOOST_TEST(rd.calls == 1);
    BOOST_TEST(rd.ec == net::error::operation_aborted);
    BOOST_TEST(pipe_closed(p.server.next_layer()));
}

BOOST_AUTO_TEST_CASE(handshake_limit_covers_a_key_update,
                     *boost::unit_test::precondition(backend::needs_tls13{
                         "TLS 1.3 key updates need mbedTLS 3.6"})) {
    // TLS 1.3: the KeyUpdate cannot be written, the peer reads nothing and its buffers are full.
    net::io_context io;
    tlsx_test::context_pair ctx;
    using socket = net::local::stream_protocol::socket;
    tlsx::stream<socket> client(io, ctx.client), server(io, ctx.server);
    net::local::connect_pair(client.next_layer(), server.next_layer());
    client.set_server_name("localhost");
    auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
    BOOST_REQUIRE(client.protocol_version() == "TLSv1.3");
    fill_send_buffer(client.next_layer());
    client.set_handshake_timeout(short_limit);
    outcome o;
    client.async_key_update(true, o.handler());
    BOOST_REQUIRE(run_bounded(io));
    BOOST_TEST(o.calls == 1);
    BOOST_TEST(o.ec == net::error::timed_out);
    BOOST_TEST(!client.lowest_layer().is_open());
}

// ---- Blocking operations ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(blocking_handshake_times_out_on_a_tcp_socket) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    auto [a, silent] = tcp_pair(io);
    tlsx::stream<net::ip::tcp::socket> client(std::move(a), ctx.client);
    client.set_server_name("localhost");
    client.set_handshake_timeout(short_limit);
    error_code ec;
    client.handshake(tlsx::stream_base::client, ec);
    BOOST_TEST(ec == net::error::timed_out);
    BOOST_TEST(!client.lowest_layer().is_open());
    // The throwing form says the same.
    auto [c, silent2] = tcp_pair(io);
    tlsx::stream<net::ip::tcp::socket> client2(std::move(c), ctx.client);
    client2.set_server_name("localhost");
    client2.set_handshake_timeout(short_limit);
    BOOST_CHECK_EXCEPTION(client2.handshake(tlsx::stream_base::client), boost::system::system_error,
                          [](const auto& e) { return e.code() == net::error::timed_out; });
}

BOOST_AUTO_TEST_CASE(blocking_operations_with_a_limit_work_in_time) {
    // Blocking client, asynchronous server on another io_context's thread would need threads;
    // a blocking read with a limit over a socket whose data is already there completes.
    net::io_context io;
    tlsx_test::context_pair ctx;
    using socket = net::local::stream_protocol::socket;
    tlsx::stream<socket> client(io, ctx.client), server(io, ctx.server);
    net::local::connect_pair(client.next_layer(), server.next_layer());
    client.set_server_name("localhost");
    auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
    net::write(server, net::buffer("data", 4));
    client.set_read_idle_timeout(long_limit);
    char buf[4];
    error_code ec;
    std::size_t n = net::read(client, net::buffer(buf), ec);
    BOOST_TEST(!ec);
    BOOST_TEST(std::string(buf, n) == "data");
    BOOST_TEST(client.lowest_layer().is_open());
    BOOST_TEST(!client.lowest_layer().non_blocking()); // the socket's mode is restored
    // And a blocking read past the limit times out.
    client.set_read_idle_timeout(short_limit);
    n = client.read_some(net::buffer(buf), ec);
    BOOST_TEST(ec == net::error::timed_out);
    BOOST_TEST(n == 0u);
    BOOST_TEST(!client.lowest_layer().is_open());
}

BOOST_AUTO_TEST_CASE(blocking_operation_with_a_limit_on_a_pipe_is_refused_by_name) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    auto [a, b] = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client(std::move(a), ctx.client);
    client.set_server_name("localhost");
    client.set_handshake_timeout(short_limit);
    error_code ec;
    client.handshake(tlsx::stream_base::client, ec);
    BOOST_TEST(ec == tlsx::error::sync_deadline_unsupported);
    BOOST_TEST(b.available() == 0u); // nothing was sent
    BOOST_TEST(!pipe_closed(client.next_layer()));
}

BOOST_AUTO_TEST_CASE(a_server_contexts_default_does_not_refuse_blocking_handshakes_on_a_pipe) {
    // The 30 s default cannot be enforced on a blocking pipe: it is not, and the handshake runs.
    // A limit the user set is refused by name instead.
    net::io_context io; // never run: everything here blocks
    tlsx::test::tls_pair p(io);
    error_code cec = net::error::would_block, sec = net::error::would_block;
    std::thread client([&] { p.client.handshake(tlsx::stream_base::client, cec); });
    p.server.handshake(tlsx::stream_base::server, sec);
    client.join();
    BOOST_TEST(!sec);
    BOOST_TEST(!cec);

    p.server_ctx.set_handshake_timeout(tlsx::default_server_handshake_timeout);
    auto [a, b] = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> server(std::move(a), p.server_ctx);
    b.close(); // were the handshake to run, it would end at once instead of blocking
    error_code ec;
    server.handshake(tlsx::stream_base::server, ec);
    BOOST_TEST(ec == tlsx::error::sync_deadline_unsupported);
}

BOOST_AUTO_TEST_SUITE_END()
