//
// tlsx/beast.hpp — optional Boost.Beast integration: teardown and async_teardown for tlsx::stream.
//
#ifndef TLSX_BEAST_HPP
#define TLSX_BEAST_HPP

/** @file
    Optional Boost.Beast integration: `websocket::stream<tlsx::stream<...>>` closes cleanly.

    Beast's WebSocket stream ends a connection by calling `teardown` / `async_teardown` on its
    next layer, found by argument-dependent lookup. This header provides them for
    @ref tlsx::stream, as `<boost/beast/websocket/ssl.hpp>` does for `asio::ssl::stream`: close
    the TLS session (send our close_notify, wait for the peer's), then tear down the transport
    below as Beast does for it (for TCP, role-aware: the server sends its FIN first).

    It also provides them, and `beast_close_socket`, for the in-memory
    @ref tlsx::test::basic_pipe, so WebSocket code can be unit-tested over `tlsx::test::tls_pair`.

    The core headers never include Beast; include this one where Beast's WebSocket is used.
    It includes <tlsx/tlsx.hpp>, so a ported Beast program needs only this include.

    @par Example
    @code
    #include <tlsx/beast.hpp>
    #include <boost/beast/websocket.hpp>

    boost::beast::websocket::stream<tlsx::stream<boost::beast::tcp_stream>> ws{io, ctx};
    // ... connect, ws.next_layer().async_handshake(...), ws.async_handshake(...)
    ws.async_close(boost::beast::websocket::close_code::normal, handler); // close frames,
    // then close_notify both ways, then the TCP teardown
    @endcode
*/

#include <tlsx/tlsx.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream_fwd.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace tlsx {

namespace test {
template <class Executor>
class basic_pipe; // <tlsx/test.hpp>
} // namespace test

namespace detail {

// Closes the TLS session, then tears down the next layer: what Beast's ssl_shutdown_op does for
// asio::ssl::stream (boost/beast/websocket/impl/ssl.hpp). The first error wins; Beast's
// websocket close treats a final net::error::eof as success.
template <class NextLayer>
class tls_teardown_op : public boost::asio::coroutine {
public:
    tls_teardown_op(stream<NextLayer>& s, boost::beast::role_type role) noexcept
        : s_(s)
        , role_(role) {}

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
        BOOST_ASIO_CORO_REENTER(*this) {
            // As Beast: the caller may cancel the whole teardown, whatever its own slot allows.
            self.reset_cancellation_state(boost::asio::enable_total_cancellation());

            // shutdown_type::both: our close_notify, then the peer's (or the transport's end).
            BOOST_ASIO_CORO_YIELD s_.async_shutdown(shutdown_type::both, std::move(self));
            ec_ = ec;

            {
                using boost::beast::websocket::async_teardown;
                BOOST_ASIO_CORO_YIELD async_teardown(role_, s_.next_layer(), std::move(self));
            }
            if (!ec_)
                ec_ = ec;
            self.complete(ec_);
        }
    }

private:
    stream<NextLayer>& s_;
    boost::beast::role_type role_;
    error_code ec_;
};

// Tears down one end of an in-memory pipe as Beast tears down a TCP socket: the server sends its
// EOF first and then waits for the client's; the client waits for the server's EOF and then
// sends its own. Bytes that still arrive are discarded.
template <class Executor>
class pipe_teardown_op : public boost::asio::coroutine {
public:
    pipe_teardown_op(test::basic_pipe<Executor>& p, boost::beast::role_type role)
        : p_(p)
        , role_(role)
        , buf_(new char[buffer_size]) {}

    template <class Self>
    void operator()(Self& self, error_code ec = {}, std::size_t = 0) {
        BOOST_ASIO_CORO_REENTER(*this) {
            self.reset_cancellation_state(boost::asio::enable_total_cancellation());
            if (role_ == boost::beast::role_type::server)
                p_.close_write();
            for (;;) {
                // The buffer lives on the heap: this operation object moves while a read is
                // pending.
                BOOST_ASIO_CORO_YIELD p_.async_read_some(
                    boost::asio::buffer(buf_.get(), buffer_size), std::move(self));
                if (ec == boost::asio::error::eof) {
                    ec = {};
                    break;
                }
                if (ec)
                    break;
            }
            if (!ec) {
                if (role_ == boost::beast::role_type::client)
                    p_.close_write();
                p_.close();
            }
            self.complete(ec);
        }
    }

private:
    static constexpr std::size_t buffer_size = 1024;
    test::basic_pipe<Executor>& p_;
    boost::beast::role_type role_;
    std::unique_ptr<char[]> buf_;
};

} // namespace detail

//----------------------------------------------------------------------------------------------

/** Tear down a @ref stream, blocking: close the TLS session, then the transport.

    Called by `boost::beast::websocket::stream` (found by argument-dependent lookup) at the end of
    the WebSocket closing handshake, as Beast's own overload for `asio::ssl::stream`:
    `s.shutdown(shutdown_type::both)` sends our close_notify and waits for the peer's (or for the
    transport's end), then the next layer is torn down with its own `teardown` overload (for a TCP
    socket, Beast's: the server sends its FIN first, then both read until the other's FIN).

    @param role The role of the local endpoint (client or server).
    @param s The stream to tear down.
    @param ec Set to the first error: the TLS shutdown's, else the transport teardown's. Beast's
    WebSocket treats `boost::asio::error::eof` as success here.
*/
template <class NextLayer>
void teardown(boost::beast::role_type role, stream<NextLayer>& s, error_code& ec) {
    s.shutdown(shutdown_type::both, ec);
    using boost::beast::websocket::teardown;
    error_code ec2;
    teardown(role, s.next_layer(), ec ? ec2 : ec);
}

/** Start tearing down a @ref stream "stream": close the TLS session, then the transport.

    The asynchronous form of @ref teardown, called by `boost::beast::websocket::stream` at the end
    of the WebSocket closing handshake: `async_shutdown(shutdown_type::both)`, then
    `async_teardown(role, s.next_layer(), ...)`.

    Timeouts: over a `beast::tcp_stream`, its `expires_after` applies to the TLS shutdown. The
    WebSocket stream's own timeout (`websocket::stream_base::timeout`) covers the whole closing
    handshake: when it fires it closes the socket, which ends the teardown.

    @param role The role of the local endpoint (client or server).
    @param s The stream to tear down.
    @param handler Called with `void(error_code)`: the first error, the TLS shutdown's, else the
    transport teardown's. Never called from within this function (its first step,
    `async_shutdown`, never completes inside its initiating function).

    @par Per-Operation Cancellation
    Terminal, partial and total, forwarded to the TLS shutdown and to the transport teardown,
    as far as those support them.
*/
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, stream<NextLayer>& s, TeardownHandler&& handler) {
    boost::asio::async_compose<TeardownHandler, void(error_code)>(
        detail::tls_teardown_op<NextLayer>(s, role), handler, s);
}

/** @name get_lowest_layer, found by argument-dependent lookup

    `beast::ssl_stream` lives in namespace `boost::beast`, so Beast programs call
    `get_lowest_layer(stream)` and `get_lowest_layer(ws)` unqualified. These overloads make the
    same calls find `boost::beast::get_lowest_layer` through @ref tlsx::stream, alone or as the
    next layer of a WebSocket stream. They return what Beast's does: the lowest layer (for
    `tlsx::stream<beast::tcp_stream>`, the `tcp_stream`).
*/
///@{
/// The lowest layer of a @ref tlsx::stream "stream".
/// @param s The stream.
/// @return `boost::beast::get_lowest_layer(s)`.
template <class NextLayer>
boost::beast::lowest_layer_type<stream<NextLayer>>&
get_lowest_layer(stream<NextLayer>& s) noexcept {
    return boost::beast::get_lowest_layer(s);
}

/// The lowest layer of a WebSocket stream over a @ref tlsx::stream "stream".
/// @param ws The WebSocket stream.
/// @return `boost::beast::get_lowest_layer(ws)`.
template <class NextLayer, bool Deflate>
boost::beast::lowest_layer_type<boost::beast::websocket::stream<stream<NextLayer>, Deflate>>&
get_lowest_layer(boost::beast::websocket::stream<stream<NextLayer>, Deflate>& ws) noexcept {
    return boost::beast::get_lowest_layer(ws);
}
///@}

namespace test {

/** Tear down one end of an in-memory pipe, blocking, as Beast tears down a TCP socket.

    The server half-closes first (@ref basic_pipe::close_write) and reads until the client's
    EOF; the client reads until the server's EOF, then half-closes. Both then close their end.
    Lets `websocket::stream<tlsx::stream<tlsx::test::pipe>>` complete its closing handshake.

    @param role The role of the local endpoint (client or server).
    @param p The pipe end to tear down.
    @param ec Set to the first read error other than `eof`, else cleared.
*/
template <class Executor>
void teardown(boost::beast::role_type role, basic_pipe<Executor>& p, error_code& ec) {
    if (role == boost::beast::role_type::server)
        p.close_write();
    char buf[1024];
    for (;;) {
        p.read_some(boost::asio::buffer(buf), ec);
        if (ec == boost::asio::error::eof) {
            ec = {};
            break;
        }
        if (ec)
            return;
    }
    if (role == boost::beast::role_type::client)
        p.close_write();
    p.close();
}

/** Start tearing down one end of an in-memory pipe, as Beast tears down a TCP socket.

    @param role The role of the local endpoint (client or server).
    @param p The pipe end to tear down.
    @param handler Called with `void(error_code)`: the first read error other than `eof`, else
    success. Never called from within this function.

    @par Per-Operation Cancellation
    Terminal, partial and total: a cancelled teardown completes with `operation_aborted`
    and does not close the pipe end.

    @see teardown(boost::beast::role_type, basic_pipe<Executor>&, error_code&)
*/
template <class Executor, class TeardownHandler>
void async_teardown(boost::beast::role_type role, basic_pipe<Executor>& p,
                    TeardownHandler&& handler) {
    boost::asio::async_compose<TeardownHandler, void(error_code)>(
        tlsx::detail::pipe_teardown_op<Executor>(p, role), handler, p);
}

/** Close one end of an in-memory pipe at once, as `boost::beast::close_socket` does a socket.

    Found by argument-dependent lookup from `boost::beast::close_socket`, which Beast's WebSocket
    stream calls on its lowest layer when a timeout fires or a close is cancelled.

    @param p The pipe end to close: the peer reads EOF, a pending read fails with
    `operation_aborted`.
*/
template <class Executor>
void beast_close_socket(basic_pipe<Executor>& p) {
    p.close();
}

} // namespace test

} // namespace tlsx

#endif
