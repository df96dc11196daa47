// Beast's WebSocket over tlsx::stream, with <tlsx/beast.hpp>'s teardown overloads: messages and
// the full closing handshake (close frames, close_notify both ways, transport teardown) over
// in-memory pipes and over loopback tcp_stream, and the timeouts that bound each phase.
#include <tlsx/beast.hpp>

#include <tlsx/test.hpp>

#include "support/run.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <future>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;
using boost::beast::get_lowest_layer;
using boost::beast::role_type;
using boost::beast::tcp_stream;
using tcp = net::ip::tcp;
using tlsx::error_code;
using tlsx_test::pattern;
using tlsx_test::run_bounded;

using pipe_ws = websocket::stream<tlsx::stream<tlsx::test::pipe>>;
using tcp_ws = websocket::stream<tlsx::stream<tcp_stream>>;

// The overloads are found by argument-dependent lookup, as Beast's websocket::stream calls them.
static_assert(
    std::is_void_v<decltype(async_teardown(
        role_type::client, std::declval<tlsx::stream<tcp_stream>&>(), [](error_code) {}))>);
static_assert(
    std::is_void_v<decltype(teardown(role_type::client, std::declval<tlsx::stream<tcp::socket>&>(),
                                     std::declval<error_code&>()))>);

namespace {

const error_code pending = net::error::would_block;

/// One completion handler type for every callback in this file (each lambda type would
/// instantiate Beast's composed operations anew, and this file is slow enough to compile).
struct recorder {
    error_code* out;
    void operator()(error_code ec, std::size_t = 0) const { *out = ec; }
};
recorder record(error_code& ec) {
    return recorder{&ec};
}

/// The error of an awaited operation, for the few places that test it (the others throw).
template <class Awaitable>
net::awaitable<error_code> error_of(Awaitable op) {
    try {
        co_await std::move(op);
    } catch (const boost::system::system_error& e) {
        co_return e.code();
    }
    co_return error_code{};
}

/// Run a coroutine on `io`; a thrown exception is kept as text in `failure`.
void spawn(net::io_context& io, net::awaitable<void> task, std::string& failure) {
    net::co_spawn(io, std::move(task), [&failure](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            failure = ex.what();
        }
    });
}

/// The messages each echo test sends: text and binary, empty, small and larger than a record.
struct message {
    bool text;
    std::string payload;
};
std::vector<message> messages() {
    return {
        {true, "hello over wss"}, {false, pattern(100000, 7)}, {true, ""}, {false, pattern(17, 8)}};
}

/// What the echo server saw.
struct server_report {
    std::size_t echoed = 0;
    error_code end = pending; // how its last read ended: websocket::error::closed when clean
    websocket::close_reason reason;
};

/// Echo messages until the client closes; the final read reports websocket::error::closed.
template <class Ws>
net::awaitable<void> echo_until_closed(Ws& ws, server_report& r) {
    boost::beast::flat_buffer buf;
    for (;;) {
        const error_code ec = co_await error_of(ws.async_read(buf, net::use_awaitable));
        if (ec) {
            r.end = ec;
            r.reason = ws.reason();
            co_return;
        }
        ws.text(ws.got_text());
        co_await ws.async_write(buf.data(), net::use_awaitable);
        buf.consume(buf.size());
        ++r.echoed;
    }
}

/// Send each message, read its echo, compare. Returns how many came back intact.
template <class Ws>
net::awaitable<std::size_t> send_and_check(Ws& ws) {
    std::size_t ok = 0;
    for (const message& m : messages()) {
        ws.text(m.text);
        co_await ws.async_write(net::buffer(m.payload), net::use_awaitable);
        boost::beast::flat_buffer buf;
        co_await ws.async_read(buf, net::use_awaitable);
        if (ws.got_text() == m.text && boost::beast::buffers_to_string(buf.data()) == m.payload)
            ++ok;
    }
    co_return ok;
}

/// Both ends of a TLS session closed cleanly: close_notify sent and received on each side.
template <class Ws>
void check_tls_closed_both_ways(const Ws& client, const Ws& server) {
    BOOST_TEST(client.next_layer().get_engine().close_sent());
    BOOST_TEST(client.next_layer().get_engine().peer_closed());
    BOOST_TEST(server.next_layer().get_engine().close_sent());
    BOOST_TEST(server.next_layer().get_engine().peer_closed());
}

//----------------------------------------------------------------------------------------------
// Loopback: a connected, TLS-handshaken pair of tcp_streams, each under a deadline.

struct loopback {
    net::io_context io;
    tlsx_test::context_pair ctx;
    tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
    std::optional<tcp_ws> client, server;

    /// Connect and run both TLS handshakes (tcp_stream timeouts of 10 s cover them).
    void connect() {
        client.emplace(io, ctx.client);
        server.emplace(io, ctx.server);
        client->next_layer().set_server_name("localhost");
        auto& cl = get_lowest_layer(*client);
        auto& sl = get_lowest_layer(*server);
        error_code accept_ec = pending, connect_ec = pending;
        acceptor.async_accept(sl.socket(), record(accept_ec));
        cl.expires_after(std::chrono::seconds(10));
        cl.async_connect(acceptor.local_endpoint(), record(connect_ec));
        BOOST_REQUIRE(run_bounded(io));
        BOOST_REQUIRE(!accept_ec);
        BOOST_REQUIRE(!connect_ec);
        cl.expires_after(std::chrono::seconds(10));
        sl.expires_after(std::chrono::seconds(10));
        auto [cec, sec] = tlsx_test::handshake_both(io, client->next_layer(), server->next_layer());
        BOOST_REQUIRE(!cec);
        BOOST_REQUIRE(!sec);
        // From here on the WebSocket streams time themselves (Beast's advice: a tcp_stream
        // deadline would also fire under an idle but healthy WebSocket).
        cl.expires_never();
        sl.expires_never();
    }

    /// The WebSocket upgrade, under the given timeouts.
    void upgrade(websocket::stream_base::timeout client_to,
                 websocket::stream_base::timeout server_to) {
        client->set_option(client_to);
        server->set_option(server_to);
        error_code hec = pending, aec = pending;
        client->async_handshake("localhost", "/", record(hec));
        server->async_accept(record(aec));
        BOOST_REQUIRE(run_bounded(io));
        BOOST_REQUIRE(!hec);
        BOOST_REQUIRE(!aec);
    }
};

websocket::stream_base::timeout timeouts(std::chrono::milliseconds handshake) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = handshake;
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    return t;
}

websocket::stream_base::timeout no_timeouts() {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = websocket::stream_base::none();
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    return t;
}

// A WebSocket close frame from a server: FIN + opcode 8, unmasked, 2 bytes: code 1000.
const unsigned char server_close_frame[] = {0x88, 0x02, 0x03, 0xe8};

} // namespace

BOOST_AUTO_TEST_SUITE(beast_integration)

BOOST_AUTO_TEST_CASE(websocket_messages_and_close_over_pipes) {
    for (std::size_t fragment : {std::size_t(0), std::size_t(5)}) {
        BOOST_TEST_CONTEXT("transport fragment size " << fragment) {
            net::io_context io;
            tlsx::test::tls_pair p(io);
            if (fragment != 0) {
                for (auto* s : {&p.client, &p.server}) {
                    s->next_layer().set_read_size(fragment);
                    s->next_layer().set_write_size(fragment);
                }
            }
            pipe_ws client(std::move(p.client));
            pipe_ws server(std::move(p.server));

            server_report sr;
            std::size_t intact = 0;
            error_code close_ec = pending;
            std::string server_failure, client_failure;
            // A named lambda: a coroutine keeps a pointer to its closure, which must outlive it.
            auto serve = [&]() -> net::awaitable<void> {
                co_await server.next_layer().async_handshake(tlsx::stream_base::server,
                                                             net::use_awaitable);
                co_await server.async_accept(net::use_awaitable);
                co_await echo_until_closed(server, sr);
            };
            spawn(io, serve(), server_failure);
            auto talk = [&]() -> net::awaitable<void> {
                co_await client.next_layer().async_handshake(tlsx::stream_base::client,
                                                             net::use_awaitable);
                co_await client.async_handshake("localhost", "/", net::use_awaitable);
                intact = co_await send_and_check(client);
                close_ec = co_await error_of(
                    client.async_close(websocket::close_code::normal, net::use_awaitable));
            };
            spawn(io, talk(), client_failure);
            BOOST_TEST(run_bounded(io));

            BOOST_TEST(server_failure == "");
            BOOST_TEST(client_failure == "");
            BOOST_TEST(intact == messages().size());
            BOOST_TEST(sr.echoed == messages().size());
            BOOST_TEST(!close_ec, close_ec.message());
            BOOST_TEST(sr.end == error_code(websocket::error::closed), sr.end.message());
            BOOST_TEST(sr.reason.code == websocket::close_code::normal);
            BOOST_TEST(!client.is_open());
            BOOST_TEST(!server.is_open());
            check_tls_closed_both_ways(client, server);
        }
    }
}

BOOST_AUTO_TEST_CASE(server_initiated_close_over_pipes) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    pipe_ws client(std::move(p.client));
    pipe_ws server(std::move(p.server));

    error_code server_close = pending, client_end = pending;
    std::string received;
    std::string server_failure, client_failure;
    auto serve = [&]() -> net::awaitable<void> {
        co_await server.next_layer().async_handshake(tlsx::stream_base::server, net::use_awaitable);
        co_await server.async_accept(net::use_awaitable);
        co_await server.async_write(net::buffer(std::string("bye")), net::use_awaitable);
        server_close = co_await error_of(
            server.async_close(websocket::close_code::going_away, net::use_awaitable));
    };
    spawn(io, serve(), server_failure);
    auto talk = [&]() -> net::awaitable<void> {
        co_await client.next_layer().async_handshake(tlsx::stream_base::client, net::use_awaitable);
        co_await client.async_handshake("localhost", "/", net::use_awaitable);
        boost::beast::flat_buffer buf;
        co_await client.async_read(buf, net::use_awaitable);
        received = boost::beast::buffers_to_string(buf.data());
        // The next read sees the server's close frame, answers it and tears down.
        client_end = co_await error_of(client.async_read(buf, net::use_awaitable));
    };
    spawn(io, talk(), client_failure);
    BOOST_TEST(run_bounded(io));

    BOOST_TEST(server_failure == "");
    BOOST_TEST(client_failure == "");
    BOOST_TEST(received == "bye");
    BOOST_TEST(!server_close, server_close.message());
    BOOST_TEST(client_end == error_code(websocket::error::closed), client_end.message());
    BOOST_TEST(client.reason().code == websocket::close_code::going_away);
    check_tls_closed_both_ways(client, server);
}

BOOST_AUTO_TEST_CASE(websocket_messages_and_close_over_loopback_tcp_stream) {
    loopback lb;
    lb.connect();
    lb.upgrade(websocket::stream_base::timeout::suggested(role_type::client),
               websocket::stream_base::timeout::suggested(role_type::server));

    server_report sr;
    std::size_t intact = 0;
    error_code close_ec = pending;
    std::string server_failure, client_failure;
    spawn(lb.io, echo_until_closed(*lb.server, sr), server_failure);
    auto talk = [&]() -> net::awaitable<void> {
        intact = co_await send_and_check(*lb.client);
        close_ec = co_await error_of(
            lb.client->async_close(websocket::close_code::normal, net::use_awaitable));
    };
    spawn(lb.io, talk(), client_failure);
    BOOST_TEST(run_bounded(lb.io));

    BOOST_TEST(server_failure == "");
    BOOST_TEST(client_failure == "");
    BOOST_TEST(intact == messages().size());
    BOOST_TEST(!close_ec, close_ec.message());
    BOOST_TEST(sr.end == error_code(websocket::error::closed), sr.end.message());
    check_tls_closed_both_ways(*lb.client, *lb.server);
    // The transport teardown closed both sockets.
    BOOST_TEST(!get_lowest_layer(*lb.client).socket().is_open());
    BOOST_TEST(!get_lowest_layer(*lb.server).socket().is_open());
}

// The peer answers the close frame but never sends close_notify nor closes the connection: the
// TLS shutdown inside async_teardown would wait forever. Either timeout ends it: the WebSocket
// stream's own (handshake_timeout covers close) or the tcp_stream's deadline.
BOOST_AUTO_TEST_CASE(close_times_out_when_peer_withholds_close_notify) {
    for (bool websocket_timeout : {true, false}) {
        BOOST_TEST_CONTEXT((websocket_timeout ? "websocket timeout" : "tcp_stream deadline")) {
            loopback lb;
            lb.connect();
            lb.upgrade(websocket_timeout ? timeouts(std::chrono::milliseconds(300)) : no_timeouts(),
                       no_timeouts());

            // The server reads the client's close frame below the WebSocket layer and answers
            // with its own, then only reads (the client's close_notify) and never answers.
            std::string server_failure;
            error_code server_read = pending;
            auto answer_close_frame_only = [&]() -> net::awaitable<void> {
                auto& tls = lb.server->next_layer();
                unsigned char frame[8]; // 2-byte header, 4-byte mask, 2-byte code
                co_await net::async_read(tls, net::buffer(frame), net::use_awaitable);
                co_await net::async_write(tls, net::buffer(server_close_frame), net::use_awaitable);
                char more[64];
                server_read =
                    co_await error_of(tls.async_read_some(net::buffer(more), net::use_awaitable));
            };
            spawn(lb.io, answer_close_frame_only(), server_failure);

            error_code close_ec = pending;
            if (!websocket_timeout)
                get_lowest_layer(*lb.client).expires_after(std::chrono::milliseconds(300));
            const auto start = std::chrono::steady_clock::now();
            lb.client->async_close(websocket::close_code::normal, record(close_ec));
            lb.io.restart();
            lb.io.run_for(std::chrono::seconds(10));
            const auto elapsed = std::chrono::steady_clock::now() - start;

            BOOST_TEST(server_failure == "");
            // Beast's close operation hands the WebSocket timeout only to operations that look
            // for it: one that fires during the teardown shows as operation_aborted (as with
            // asio::ssl::stream). The tcp_stream's deadline is a timeout error of the shutdown.
            const error_code expected = websocket_timeout
                                            ? error_code(net::error::operation_aborted)
                                            : error_code(boost::beast::error::timeout);
            BOOST_TEST(close_ec == expected, close_ec.message());
            BOOST_TEST((elapsed >= std::chrono::milliseconds(250)));
            BOOST_TEST((elapsed < std::chrono::seconds(10)));
            // Our close_notify went out; the server's read saw it.
            BOOST_TEST(lb.client->next_layer().get_engine().close_sent());
            BOOST_TEST(!lb.client->next_layer().get_engine().peer_closed());
            BOOST_TEST(server_read == error_code(net::error::eof), server_read.message());
            BOOST_TEST(!get_lowest_layer(*lb.client).socket().is_open());
        }
    }
}

// Deadlines on the other phases: a WebSocket handshake nobody answers, a read from a silent
// peer, a write to a peer that does not read.
BOOST_AUTO_TEST_CASE(websocket_handshake_times_out) {
    loopback lb;
    lb.connect();
    lb.client->set_option(timeouts(std::chrono::milliseconds(300)));
    error_code hec = pending;
    lb.client->async_handshake("localhost", "/", record(hec));
    BOOST_TEST(run_bounded(lb.io, std::chrono::seconds(10)));
    BOOST_TEST(hec == error_code(boost::beast::error::timeout), hec.message());
}

BOOST_AUTO_TEST_CASE(read_times_out_by_tcp_stream_deadline) {
    loopback lb;
    lb.connect();
    lb.upgrade(no_timeouts(), no_timeouts());
    boost::beast::flat_buffer buf;
    error_code rec = pending;
    get_lowest_layer(*lb.client).expires_after(std::chrono::milliseconds(300));
    lb.client->async_read(buf, record(rec));
    BOOST_TEST(run_bounded(lb.io, std::chrono::seconds(10)));
    BOOST_TEST(rec == error_code(boost::beast::error::timeout), rec.message());
}

BOOST_AUTO_TEST_CASE(read_times_out_by_websocket_idle_timeout) {
    loopback lb;
    lb.connect();
    auto t = no_timeouts();
    t.idle_timeout = std::chrono::milliseconds(300);
    lb.upgrade(t, no_timeouts());
    boost::beast::flat_buffer buf;
    error_code rec = pending;
    lb.client->async_read(buf, record(rec));
    BOOST_TEST(run_bounded(lb.io, std::chrono::seconds(10)));
    BOOST_TEST(rec == error_code(boost::beast::error::timeout), rec.message());
}

BOOST_AUTO_TEST_CASE(write_times_out_by_tcp_stream_deadline) {
    loopback lb;
    lb.connect();
    lb.upgrade(no_timeouts(), no_timeouts());
    // Far more than the loopback socket buffers hold; the server never reads.
    const std::string big(32u << 20, 'x');
    lb.client->binary(true);
    error_code wec = pending;
    get_lowest_layer(*lb.client).expires_after(std::chrono::milliseconds(500));
    lb.client->async_write(net::buffer(big), record(wec));
    BOOST_TEST(run_bounded(lb.io, std::chrono::seconds(20)));
    BOOST_TEST(wec == error_code(boost::beast::error::timeout), wec.message());
}

// The blocking teardown overload: synchronous WebSocket close over tlsx::stream<tcp::socket>,
// the server on its own thread.
BOOST_AUTO_TEST_CASE(sync_close_uses_blocking_teardown) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    websocket::stream<tlsx::stream<tcp::socket>> client(io, ctx.client);
    websocket::stream<tlsx::stream<tcp::socket>> server(io, ctx.server);
    client.next_layer().set_server_name("localhost");

    auto server_done = std::async(std::launch::async, [&]() -> std::string {
        try {
            acceptor.accept(server.next_layer().next_layer());
            server.next_layer().handshake(tlsx::stream_base::server);
            server.accept();
            boost::beast::flat_buffer buf;
            server.read(buf);
            server.text(server.got_text());
            server.write(buf.data());
            error_code ec;
            server.read(buf, ec); // the client's close frame: answered, then torn down
            return ec == websocket::error::closed ? "" : "final read: " + ec.message();
        } catch (const std::exception& e) {
            return e.what();
        }
    });

    std::string client_failure;
    error_code close_ec = pending;
    std::string echoed;
    try {
        client.next_layer().next_layer().connect(acceptor.local_endpoint());
        client.next_layer().handshake(tlsx::stream_base::client);
        client.handshake("localhost", "/");
        client.write(net::buffer(std::string("sync hello")));
        boost::beast::flat_buffer buf;
        client.read(buf);
        echoed = boost::beast::buffers_to_string(buf.data());
        close_ec = {};
        client.close(websocket::close_code::normal, close_ec);
    } catch (const std::exception& e) {
        client_failure = e.what();
    }

    // A backstop against a hang: shut the sockets down under the blocked calls.
    if (server_done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        for (auto* s : {&client, &server})
            if (s->next_layer().next_layer().is_open())
                ::shutdown(s->next_layer().next_layer().native_handle(), SHUT_RDWR);
        BOOST_ERROR("the server thread hung");
    }
    const std::string server_failure = server_done.get();

    BOOST_TEST(client_failure == "");
    BOOST_TEST(server_failure == "");
    BOOST_TEST(echoed == "sync hello");
    BOOST_TEST(!close_ec, close_ec.message());
    check_tls_closed_both_ways(client, server);
    BOOST_TEST(!client.next_layer().next_layer().is_open());
}

BOOST_AUTO_TEST_SUITE_END()
