//
// tlsx/stream.hpp — tlsx::stream<NextLayer>, the TLS stream (AsyncStream and SyncStream).
//
#ifndef TLSX_STREAM_HPP
#define TLSX_STREAM_HPP

#include <tlsx/context.hpp>
#include <tlsx/detail/engine_op.hpp>
#include <tlsx/detail/stream_core.hpp>
#include <tlsx/engine.hpp>
#include <tlsx/error.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream_base.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/system/system_error.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tlsx {

namespace detail {

// The lowest layer, as asio::ssl::stream finds it: the next layer's public lowest_layer(), else
// its socket() (beast::basic_stream keeps lowest_layer() for asio::ssl::stream, a friend, but
// offers socket()), else the next layer itself.
template <class T, class = void>
struct has_lowest_layer : std::false_type {};
template <class T>
struct has_lowest_layer<
    T, std::void_t<typename T::lowest_layer_type, decltype(std::declval<T&>().lowest_layer())>>
    : std::true_type {};

template <class T, class = void>
struct has_socket : std::false_type {};
template <class T>
struct has_socket<T, std::void_t<decltype(std::declval<T&>().socket())>> : std::true_type {};

template <class T, class = void>
struct lowest_layer_of {
    using type = T;
};
template <class T>
struct lowest_layer_of<T, std::enable_if_t<has_lowest_layer<T>::value>> {
    using type = typename T::lowest_layer_type;
};
template <class T>
struct lowest_layer_of<T, std::enable_if_t<!has_lowest_layer<T>::value && has_socket<T>::value>> {
    using type = std::remove_reference_t<decltype(std::declval<T&>().socket())>;
};

template <class T>
auto& lowest_layer(T& t) noexcept {
    if constexpr (has_lowest_layer<std::remove_const_t<T>>::value)
        return t.lowest_layer();
    else if constexpr (has_socket<std::remove_const_t<T>>::value)
        return t.socket();
    else
        return t;
}

/// lowest_layer() as a type, for the drivers (deadline.hpp, engine_op.hpp).
struct lowest_layer_getter {
    template <class T>
    static auto& get(T& t) noexcept {
        return lowest_layer(t);
    }
};

inline void throw_if(const error_code& ec, const char* what) {
    if (ec)
        throw boost::system::system_error(ec, what);
}

} // namespace detail

/** A TLS stream over any Asio stream: an AsyncStream and a SyncStream.

    A drop-in for `boost::asio::ssl::stream<NextLayer>`: the same member names and the same
    completion signatures, with mbedTLS doing the TLS. The protocol work is done by an
    @ref engine; this class only moves bytes between it and the next layer.

    @tparam NextLayer The transport: `tcp::socket`, `beast::tcp_stream`, a local socket,
    `beast::test::stream`, or `tlsx::test::pipe`. A reference type is allowed.

    @par Full duplex
    One read-side operation (`async_read_some`) and one write-side operation (`async_write_some`)
    may be outstanding at once, with an `async_handshake` or `async_shutdown` beside them. Any of
    them may read or write the transport: a read writes the alerts it must send, a write reads
    the records a renegotiation needs. Long-lived streams should keep a read outstanding, as HTTP
    and proxy loops do, so that alerts and requests from the peer are noticed.

    @par Thread Safety
    Distinct objects: safe. Shared objects: unsafe; run all operations of one stream in one
    implicit or explicit strand.

    @par Example
    @code
    tlsx::context ctx{tlsx::context::tls_client};
    ctx.set_default_verify_paths();
    tlsx::stream<boost::asio::ip::tcp::socket> s{io, ctx};
    s.set_server_name("example.com");
    boost::asio::connect(s.next_layer(), endpoints);
    s.handshake(tlsx::stream_base::client);
    @endcode
*/
template <class NextLayer>
class stream : public stream_base {
public:
    /// The type of the next layer.
    using next_layer_type = std::remove_reference_t<NextLayer>;
    /// The type of the lowest layer (the socket under a beast::tcp_stream, say).
    using lowest_layer_type = typename detail::lowest_layer_of<next_layer_type>::type;
    /// The executor of the next layer.
    using executor_type = typename next_layer_type::executor_type;
    /// The mbedTLS session type (include <tlsx/mbedtls.hpp> to use it).
    using native_handle_type = mbedtls_ssl_context*;

    /// Rebinds the stream to another executor.
    /// @tparam Executor The executor type to rebind to.
    template <class Executor>
    struct rebind_executor {
        /// The stream type when rebound to the specified executor.
        using other = stream<typename next_layer_type::template rebind_executor<Executor>::other>;
    };

    /** Construct a stream; `arg` constructs the next layer (an io_context, an executor, or a
        transport to move in).

        The context's configuration is shared, not copied, and stays alive with the stream.

        @param arg The argument to be passed to initialise the next layer.
        @param ctx The context whose configuration the stream uses (it may be destroyed before
        the stream).
        @throws boost::system::system_error with @ref error::invalid_argument if `ctx` was
        moved from; whatever the next layer's constructor throws.
    */
    template <class Arg>
    stream(Arg&& arg, context& ctx)
        : next_layer_(std::forward<Arg>(arg))
        , core_(ctx) {
        // The context's default limits (a server context's handshake limit, say).
        if (ctx.handshake_timeout() != no_timeout)
            set_timeout(detail::op_kind::handshake, ctx.handshake_timeout(),
                        ctx.handshake_timeout_is_default());
        if (ctx.shutdown_timeout() != no_timeout)
            set_timeout(detail::op_kind::shutdown, ctx.shutdown_timeout());
        if (ctx.read_idle_timeout() != no_timeout)
            set_timeout(detail::op_kind::read, ctx.read_idle_timeout());
    }

    /// Move-construct. No operation may be outstanding on `other`.
    /// @param other The stream to move from.
    stream(stream&& other) = default;
    /// Move-assign. No operation may be outstanding on either stream.
    /// @param other The stream to move from.
    /// @return `*this`.
    stream& operator=(stream&& other) = default;

    /// Get the executor associated with the object.
    /// @return The next layer's executor; the default executor of the stream's operations.
    executor_type get_executor() noexcept { return next_layer_.get_executor(); }

    /// Get a reference to the next layer.
    /// @return The next layer, e.g. the socket given at construction. Use it to connect or
    /// accept before the handshake; reading or writing it directly bypasses TLS.
    next_layer_type& next_layer() noexcept { return next_layer_; }
    /// @copydoc next_layer
    const next_layer_type& next_layer() const noexcept { return next_layer_; }

    /// Get a reference to the lowest layer: the socket, as with `asio::ssl::stream`.
    /// @return The next layer's `lowest_layer()`, else its `socket()`, else the next layer.
    lowest_layer_type& lowest_layer() noexcept { return detail::lowest_layer(next_layer_); }
    /// @copydoc lowest_layer
    const lowest_layer_type& lowest_layer() const noexcept {
        return detail::lowest_layer(next_layer_);
    }

    /// Get the underlying mbedTLS session (include <tlsx/mbedtls.hpp> to use it).
    /// @return The `mbedtls_ssl_context*`; null before the handshake starts.
    native_handle_type native_handle() noexcept { return core_.engine_.native_handle(); }

    /// The engine that does the TLS work (for inspection and tests).
    /// @return The stream's @ref engine; valid while the stream lives.
    const engine& get_engine() const noexcept { return core_.engine_; }

    // ---- Settings ---------------------------------------------------------------------------

    /** Set the host name: sent as SNI and checked against the server's certificate.

        Replaces `SSL_set_tlsext_host_name(s.native_handle(), host)` of Asio/OpenSSL code. Call
        it before a client handshake: a client that verifies the server and has no host name
        fails its handshake with @ref error::server_name_required, unless chain-only
        verification was chosen with @ref set_server_name_required.

        @param host The host name (a DNS name or an IP literal); copied.
        @throws boost::system::system_error with @ref error::invalid_argument if `host` is
        empty, longer than 255 bytes or contains a NUL.
    */
    void set_server_name(std::string_view host) {
        error_code ec;
        set_server_name(host, ec);
        detail::throw_if(ec, "tlsx::stream::set_server_name");
    }
    /** Set the host name: sent as SNI and checked against the server's certificate.

        @param host The host name (a DNS name or an IP literal); copied.
        @param ec Set to @ref error::invalid_argument if `host` is empty, longer than 255 bytes
        or contains a NUL, else cleared.
    */
    void set_server_name(std::string_view host, error_code& ec) {
        core_.engine_.set_server_name(host, ec);
    }

    /** Whether this client needs a host name to verify the server against (overrides
        context::set_server_name_required; `false` chooses chain-only verification).

        @param required Whether a verifying client without a host name fails its handshake.
    */
    void set_server_name_required(bool required) {
        core_.engine_.set_server_name_required(required);
    }

    /** Override the context's verify mode for this stream's handshakes.

        Before the handshake it applies to it. After it, to the next handshake: a TLS 1.2
        server that tightens its mode (say to @ref verify_mode::required) and then calls
        async_renegotiate() asks for the client's certificate in the new handshake and
        verifies it (the late client-certificate request; peer_certificate() and
        verify_result() then describe it). A TLS 1.3 server cannot ask for more after its
        handshake (mbedTLS has no post-handshake authentication): that fails with
        @ref error::post_handshake_auth_unsupported and changes nothing.
        @param mode How the peer's certificate is verified.
        @throws boost::system::system_error on failure.
    */
    void set_verify_mode(verify_mode mode) {
        error_code ec;
        set_verify_mode(mode, ec);
        detail::throw_if(ec, "tlsx::stream::set_verify_mode");
    }
    /// As set_verify_mode(verify_mode), reporting a failure in `ec` instead of throwing.
    /// @param mode How the peer's certificate is verified.
    /// @param ec Set to @ref error::post_handshake_auth_unsupported (a TLS 1.3 server asking
    /// for more after its handshake; nothing changed), else cleared.
    void set_verify_mode(verify_mode mode, error_code& ec) {
        core_.engine_.set_verify_mode(mode, ec);
    }
    /// Override the context's verify mode with Asio's flags, e.g. `tlsx::verify_peer` (see
    /// @ref verify_flags for what each combination means).
    /// @param flags The flags; set_verify_mode(to_verify_mode(flags)).
    /// @throws boost::system::system_error as set_verify_mode(verify_mode).
    void set_verify_mode(verify_flags flags) { set_verify_mode(to_verify_mode(flags)); }
    /// As set_verify_mode(verify_flags), reporting a failure in `ec` instead of throwing.
    /// @param flags The flags; set_verify_mode(to_verify_mode(flags), ec).
    /// @param ec Set as by set_verify_mode(verify_mode, error_code&).
    void set_verify_mode(verify_flags flags, error_code& ec) {
        set_verify_mode(to_verify_mode(flags), ec);
    }

    /** Set how this stream answers the peer's requests to renegotiate (overrides the
        context's setting).

        Call it before the handshake, or at any time to change the answer to future requests.

        @param policy Refuse, accept, or ask the application (@ref renegotiation_policy).
    */
    void set_renegotiation(renegotiation_policy policy) { core_.engine_.set_renegotiation(policy); }

    /** Set what reads report when the transport ends without the peer's close_notify
        (overrides the context's setting; at any time).

        @param policy truncation_policy::error (the default): @ref error::stream_truncated;
        truncation_policy::allow: `boost::asio::error::eof`, as after a close_notify, for
        protocols that frame their own data (@ref truncation_policy says when that is safe).
    */
    void set_truncation_policy(truncation_policy policy) {
        core_.engine_.set_truncation_policy(policy);
    }

    /** Offer to resume a saved session in the next client handshake (gnutls_session_set_data).

        If the server cannot resume it, a full handshake runs instead; session_reused() tells.

        @param s The session, from get_session() or session::from_bytes(); an empty session
        asks for a full handshake. Copied (cheaply: the state is shared).
    */
    void set_session(const session& s) { core_.engine_.set_session(s); }

    /** The session to save for a later resumption, after a client handshake
        (gnutls_session_get_data2); empty before the handshake or on a server.

        @return The session; under TLS 1.3, empty until a ticket has arrived
        (see session_ticket_received()).
    */
    session get_session() const { return core_.engine_.get_session(); }

    /** Whether a session ticket has arrived (client; GNUTLS_SFLAGS_SESSION_TICKET). Under TLS
        1.3 tickets come after the handshake and are taken in by reads: until one has,
        get_session() is empty. Under TLS 1.2: the handshake brought a new ticket.

        @return Whether a ticket has been received.
    */
    bool session_ticket_received() const noexcept {
        return core_.engine_.session_ticket_received();
    }

    /// Whether the handshake resumed an earlier session (on either end).
    /// @return True after a resumed handshake (by ticket or session ID).
    bool session_reused() const noexcept { return core_.engine_.session_reused(); }

    /// Override the context's verify depth for this stream.
    /// @param depth The longest chain accepted (intermediates between the peer and a root).
    void set_verify_depth(int depth) { core_.engine_.set_verify_depth(depth); }

    /** Override the context's verify callback for this stream (before the handshake).

        @param cb A function object with the signature
        `bool(bool preverified, verify_context& ctx)`, called once per certificate of the
        peer's chain during the handshake; it returns whether to accept the certificate.
        Copied into the stream.
    */
    template <class VerifyCallback>
    void set_verify_callback(VerifyCallback cb) {
        core_.engine_.set_verify_callback(verify_callback(std::move(cb)));
    }

    // ---- Deadlines --------------------------------------------------------------------------

    /** Limit each handshake-kind operation of this stream (overrides the context's
        default, context::set_handshake_timeout; a server context's is 30 s).

        Covers async_handshake, async_renegotiate and async_key_update and their blocking
        forms, each from its start. When the limit passes first, the operation completes with
        `boost::asio::error::timed_out`, the lowest layer is closed, and the operations pending
        beside it complete with `boost::asio::error::operation_aborted`. Works on any next
        layer; a blocking operation with a limit needs a socket as the lowest layer (else it
        fails with @ref error::sync_deadline_unsupported). Applies to operations that begin
        afterwards.

        The timer runs on the next layer's executor: with several threads, give the next
        layer a strand (as for beast::tcp_stream's own timer).

        @param limit The limit; @ref no_timeout (zero): none.
        @throws boost::system::system_error with @ref error::invalid_argument if `limit` is
        negative.
    */
    void set_handshake_timeout(timeout_duration limit) {
        set_timeout(detail::op_kind::handshake, limit);
    }
    /** Limit each shutdown of this stream (overrides context::set_shutdown_timeout): a
        shutdown whose peer never sends close_notify completes with
        `boost::asio::error::timed_out` after `limit`, and the lowest layer is closed. As
        set_handshake_timeout otherwise.

        @param limit The limit; @ref no_timeout (zero): none.
        @throws boost::system::system_error with @ref error::invalid_argument if `limit` is
        negative.
    */
    void set_shutdown_timeout(timeout_duration limit) {
        set_timeout(detail::op_kind::shutdown, limit);
    }
    /** Limit how long each read of this stream waits for application data (overrides
        context::set_read_idle_timeout): a read that has received none `limit` after it began
        completes with `boost::asio::error::timed_out`, and the lowest layer is closed. A
        reader that keeps one read outstanding so closes a connection idle for `limit`. As
        set_handshake_timeout otherwise.

        @param limit The limit; @ref no_timeout (zero): none.
        @throws boost::system::system_error with @ref error::invalid_argument if `limit` is
        negative.
    */
    void set_read_idle_timeout(timeout_duration limit) {
        set_timeout(detail::op_kind::read, limit);
    }

    /// The handshake limit (set_handshake_timeout).
    /// @return The limit; @ref no_timeout for none.
    timeout_duration handshake_timeout() const noexcept {
        return timeout(detail::op_kind::handshake);
    }
    /// The shutdown limit (set_shutdown_timeout).
    /// @return The limit; @ref no_timeout for none.
    timeout_duration shutdown_timeout() const noexcept {
        return timeout(detail::op_kind::shutdown);
    }
    /// The read idle limit (set_read_idle_timeout).
    /// @return The limit; @ref no_timeout for none.
    timeout_duration read_idle_timeout() const noexcept { return timeout(detail::op_kind::read); }

    // ---- Handshake --------------------------------------------------------------------------

    /** Perform the handshake, blocking.

        Reads and writes the next layer (`read_some` / `write_some`) until the handshake is done
        or fails. Also accepts a renegotiation that the peer asked for under
        @ref renegotiation_policy::ask.

        @param type Whether to perform the handshake as a client or as a server.
        @throws boost::system::system_error on failure: certificate errors in the "tlsx"
        category (e.g. error::certificate_untrusted), received alerts in "tlsx.alert",
        transport errors as the next layer reports them.
    */
    void handshake(handshake_type type) {
        error_code ec;
        handshake(type, ec);
        detail::throw_if(ec, "tlsx::stream::handshake");
    }

    /** Perform the handshake, blocking.

        Reads and writes the next layer (`read_some` / `write_some`) until the handshake is done
        or fails.

        @param type Whether to perform the handshake as a client or as a server.
        @param ec Set to the error on failure (certificate errors in the "tlsx" category,
        received alerts in "tlsx.alert", transport errors), else cleared.
    */
    void handshake(handshake_type type, error_code& ec) {
        detail::handshake_policy p{{}, type};
        detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Perform the handshake, blocking, starting with bytes already read from the transport.

        The handshake consumes `buffers` before it reads the next layer.

        @param type Whether to perform the handshake as a client or as a server.
        @param buffers Bytes already read from the next layer (e.g. while sniffing for TLS);
        they must stay valid until this function returns.
        @return The number of bytes of `buffers` the handshake used.
        @throws boost::system::system_error on failure, as handshake(handshake_type).
    */
    template <class ConstBufferSequence>
    std::size_t handshake(handshake_type type, const ConstBufferSequence& buffers) {
        error_code ec;
        std::size_t n = handshake(type, buffers, ec);
        detail::throw_if(ec, "tlsx::stream::handshake");
        return n;
    }

    /** Perform the handshake, blocking, starting with bytes already read from the transport.

        @param type Whether to perform the handshake as a client or as a server.
        @param buffers Bytes already read from the next layer; they must stay valid until this
        function returns.
        @param ec Set to the error on failure, else cleared.
        @return The number of bytes of `buffers` the handshake used (also on failure).
    */
    template <class ConstBufferSequence>
    std::size_t handshake(handshake_type type, const ConstBufferSequence& buffers, error_code& ec) {
        detail::buffered_handshake_policy<ConstBufferSequence> p(type, buffers);
        return detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Start an asynchronous handshake.

        This function is used to asynchronously perform a TLS handshake on the stream (or to
        accept a renegotiation the peer asked for under @ref renegotiation_policy::ask). It is
        an initiating function for an asynchronous operation, and always returns immediately.

        The operation is implemented in terms of zero or more calls to the next layer's
        `async_read_some` and `async_write_some` functions (both, one of each in flight at
        most), and is known as a composed operation.

        If another handshake or renegotiation is outstanding on this stream, completes with
        @ref error::operation_not_permitted without disturbing it.

        @param type Whether to perform the handshake as a client or as a server.
        @param token The completion token used to produce a completion handler, which will be
        called when the handshake completes. Potential completion tokens include
        `use_future`, `use_awaitable`, `yield_context`, or a function object with the correct
        completion signature.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec) @endcode
        `ec` holds certificate errors in the "tlsx" category (e.g.
        error::certificate_untrusted), received alerts in "tlsx.alert", transport errors as the
        next layer reports them.

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled handshake leaves the stream failed: close it.
        The cancellation is forwarded to the transport operation in flight; an operation
        waiting for another operation's transport I/O completes with
        `boost::asio::error::operation_aborted` and leaves the session as it is.
    */
    template <class HandshakeToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_handshake(
        handshake_type type,
        HandshakeToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<HandshakeToken, void(error_code)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            detail::handshake_policy{{}, type});
    }

    /** Start an asynchronous handshake with bytes already read from the transport.

        The handshake consumes `buffers` first; only then does it call the next layer's
        `async_read_some`. It may call `async_write_some` at any time (one of each in flight at
        most). It is an initiating function for an asynchronous operation, and always returns
        immediately.

        If another handshake or renegotiation is outstanding on this stream, completes with
        @ref error::operation_not_permitted without disturbing it.

        @param type Whether to perform the handshake as a client or as a server.
        @param buffers Bytes already read from the next layer (e.g. while sniffing for TLS).
        Although the buffers object may be copied as necessary, ownership of the underlying
        buffers is retained by the caller, which must guarantee that they remain valid until
        the completion handler is called.
        @param token The completion token used to produce a completion handler, which will be
        called when the handshake completes.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec, std::size_t bytes_used) @endcode
        `bytes_used` is the number of bytes of `buffers` the handshake consumed, also on
        failure.

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled handshake leaves the stream failed: close it.
        The cancellation is forwarded to the transport operation in flight; an operation
        waiting for another operation's transport I/O completes with
        `boost::asio::error::operation_aborted` and leaves the session as it is.
    */
    template <class ConstBufferSequence,
              class BufferedHandshakeToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_handshake(
        handshake_type type, const ConstBufferSequence& buffers,
        BufferedHandshakeToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        using policy = detail::buffered_handshake_policy<ConstBufferSequence>;
        return boost::asio::async_initiate<BufferedHandshakeToken, void(error_code, std::size_t)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            policy(type, buffers));
    }

    // ---- Renegotiation ----------------------------------------------------------------------

    /** Renegotiate, blocking (gnutls_rehandshake + gnutls_handshake on a server; a
        client-initiated renegotiation on a client).

        @throws boost::system::system_error: error::renegotiation_refused when the peer answers
        no_renegotiation, error::renegotiation_ignored when a client goes past the context's
        enforcement limit. In both cases the stream stays usable. TLS 1.3 has no renegotiation:
        on a TLS 1.3 server this is key_update(true), as gnutls_rehandshake; on a TLS 1.3
        client it fails with error::invalid_request.
    */
    void renegotiate() {
        error_code ec;
        renegotiate(ec);
        detail::throw_if(ec, "tlsx::stream::renegotiate");
    }

    /** Renegotiate, blocking.

        @param ec Set to error::renegotiation_refused or error::renegotiation_ignored (the
        stream stays usable), or to the failure, else cleared.
    */
    void renegotiate(error_code& ec) {
        detail::renegotiate_policy p;
        detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Start a renegotiation: ask the peer for a new handshake and run it.

        A server sends HelloRequest; a client sends a new ClientHello. Completes when the new
        handshake is done, or with error::renegotiation_refused (the peer said no_renegotiation)
        or error::renegotiation_ignored (a client sent more records than the enforcement limit
        without renegotiating). Either way the stream stays usable. Application data arriving
        meanwhile goes to a pending read, or is kept for the next one. Only secure
        renegotiation (RFC 5746) is performed: with a peer that lacks it, this completes with
        renegotiation_refused at once. On a TLS 1.3 server it is async_key_update(true); on a
        TLS 1.3 client it completes with error::invalid_request.

        Under TLS 1.3 there is no renegotiation: see docs/lifecycle.md for the named error each
        end and backend completes with (the connection goes on).

        Implemented in terms of zero or more calls to the next layer's `async_write_some` and,
        unless an `async_read_some` of this stream is pending, `async_read_some`: with a read
        pending, that read processes the incoming records and this operation waits for it.

        If another handshake or renegotiation is outstanding on this stream, completes with
        @ref error::operation_not_permitted without disturbing it.

        @param token The completion token used to produce a completion handler, which will be
        called when the renegotiation completes.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec) @endcode

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled renegotiation leaves the stream failed: close it.
        The cancellation is forwarded to the transport operation in flight; an operation
        waiting for another operation's transport I/O completes with
        `boost::asio::error::operation_aborted` and leaves the session as it is.
    */
    template <class RenegotiateToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_renegotiate(
        RenegotiateToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<RenegotiateToken, void(error_code)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            detail::renegotiate_policy{});
    }

    // ---- Key update (TLS 1.3) ---------------------------------------------------------------

    /** Update our sending keys (TLS 1.3 KeyUpdate, RFC 8446 4.6.3), blocking; with
        `request_peer`, ask the peer to update its own too (gnutls_session_key_update with
        GNUTLS_KU_PEER). Returns once our KeyUpdate has been written to the next layer; it does
        not wait for the peer's answer, which a later read takes in (the peer's updates, asked
        for or not, need nothing from the application). tlsx also updates by itself after
        context::set_key_update_threshold records.

        @param request_peer Whether to ask the peer to update its keys too.
        @throws boost::system::system_error: error::key_update_unsupported on a TLS 1.2 session
        or with mbedTLS 2.28 (the stream stays usable).
    */
    void key_update(bool request_peer) {
        error_code ec;
        key_update(request_peer, ec);
        detail::throw_if(ec, "tlsx::stream::key_update");
    }

    /// As key_update(bool), reporting a failure in `ec` instead of throwing.
    /// @param request_peer Whether to ask the peer to update its keys too.
    /// @param ec Set to the failure (error::key_update_unsupported, not_handshaken, a transport
    /// error), else cleared.
    void key_update(bool request_peer, error_code& ec) {
        detail::key_update_policy p;
        p.request_peer = request_peer;
        detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Start a key update: queue our KeyUpdate (TLS 1.3) and write it to the next layer.

        Completes once the KeyUpdate has been written (data written after it goes under the
        new keys); with `request_peer` it does not wait for the peer's KeyUpdate. Never reads
        the next layer, so it may run while a read and a write are pending (it counts as a
        handshake operation: not at the same time as a handshake, renegotiate or another key
        update). error::key_update_unsupported on a TLS 1.2 session or with mbedTLS 2.28.

        @param request_peer Whether to ask the peer to update its keys too.
        @param token The completion token (a handler `void(error_code)`, use_awaitable, ...).
        @return As async_initiate for `token`.

        @par Completion Signature
        @code void(error_code) @endcode

        @par Per-Operation Cancellation
        Terminal and partial: the KeyUpdate may be half written; close the stream then.
    */
    template <class KeyUpdateToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_key_update(
        bool request_peer,
        KeyUpdateToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        detail::key_update_policy p;
        p.request_peer = request_peer;
        return boost::asio::async_initiate<KeyUpdateToken, void(error_code)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token, p);
    }

    // ---- Data -------------------------------------------------------------------------------

    /** Read some decrypted data, blocking.

        Blocks until at least one byte of application data has been decrypted, calling the
        next layer's `read_some` as needed, and its `write_some` for the alerts and handshake
        messages the records it reads call for (a renegotiation under
        @ref renegotiation_policy::accept, say).

        @param buffers One or more buffers into which the data will be read.
        @return The number of bytes read (at least 1 unless `buffers` is empty).
        @throws boost::system::system_error: `boost::asio::error::eof` after the peer's
        close_notify, @ref error::stream_truncated when the transport ended without one,
        @ref error::renegotiation_requested under @ref renegotiation_policy::ask, alerts
        received in "tlsx.alert", transport errors.
    */
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers) {
        error_code ec;
        std::size_t n = read_some(buffers, ec);
        detail::throw_if(ec, "tlsx::stream::read_some");
        return n;
    }

    /** Read some decrypted data, blocking.

        @param buffers One or more buffers into which the data will be read.
        @param ec Set to the error (`boost::asio::error::eof` after the peer's close_notify,
        @ref error::stream_truncated, ...), else cleared.
        @return The number of bytes read; 0 on error.
    */
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
        detail::read_policy<MutableBufferSequence> p{{}, buffers};
        return detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Start an asynchronous read of decrypted data.

        This function is used to asynchronously read one or more bytes of data from the
        stream. It is an initiating function for an asynchronous operation, and always returns
        immediately.

        Implemented in terms of zero or more calls to the next layer's `async_read_some`, and
        of `async_write_some` too to send what the records it reads call for: an alert, or the
        messages of a renegotiation under @ref renegotiation_policy::accept. When another
        operation of this stream is writing, that one sends them; when another is reading the
        next layer, this one waits for it.

        If another read is outstanding on this stream, completes with
        @ref error::operation_not_permitted without disturbing it.

        @param buffers The buffers into which the data will be read. Although the buffers
        object may be copied as necessary, ownership of the underlying buffers is retained by
        the caller, which must guarantee that they remain valid until the completion handler
        is called.
        @param token The completion token used to produce a completion handler, which will be
        called when the read completes. Potential completion tokens include `use_future`,
        `use_awaitable`, `yield_context`, or a function object with the correct completion
        signature.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec, std::size_t bytes_transferred) @endcode
        `boost::asio::error::eof` after the peer's close_notify; @ref error::stream_truncated
        when the transport ended without one; @ref error::renegotiation_requested under
        @ref renegotiation_policy::ask.

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @note The read operation may not read all of the requested number of bytes. Consider
        using `boost::asio::async_read` if you need to ensure that the requested amount of data
        is read before the asynchronous operation completes.

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled read leaves the stream usable: a partially received
        record stays buffered and the next read goes on with it.
        The cancellation is forwarded to the transport operation in flight; an operation
        waiting for another operation's transport I/O completes with
        `boost::asio::error::operation_aborted` and leaves the session as it is.
    */
    template <class MutableBufferSequence,
              class ReadToken = boost::asio::default_completion_token_t<executor_type>>
    auto
    async_read_some(const MutableBufferSequence& buffers,
                    ReadToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        using policy = detail::read_policy<MutableBufferSequence>;
        return boost::asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            policy{{}, buffers});
    }

    /** Write some data, blocking: at most one record (16 KiB).

        Several small buffers are coalesced into one record. Returns once the record is written
        to the next layer (`write_some`); may call its `read_some` too, during a
        renegotiation.

        @param buffers The data to be written.
        @return The number of bytes of `buffers` written (at most 16384).
        @throws boost::system::system_error on failure: the session's failure, or the
        transport's error.
    */
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers) {
        error_code ec;
        std::size_t n = write_some(buffers, ec);
        detail::throw_if(ec, "tlsx::stream::write_some");
        return n;
    }

    /** Write some data, blocking: at most one record (16 KiB).

        @param buffers The data to be written.
        @param ec Set to the error, else cleared.
        @return The number of bytes of `buffers` written; 0 on error.
    */
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, error_code& ec) {
        detail::write_policy<ConstBufferSequence> p{{}, buffers};
        return detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Start an asynchronous write of some data: at most one record (16 KiB).

        Several small buffers are coalesced into one record. It is an initiating function for
        an asynchronous operation, and always returns immediately.

        Implemented in terms of zero or more calls to the next layer's `async_write_some`
        (until the record, and whatever else is queued, is written), and of `async_read_some`
        during a renegotiation, whose records it may have to read before it can write.
        Completes once its record is written to the next layer.

        If another write is outstanding on this stream, completes with
        @ref error::operation_not_permitted without disturbing it.

        @param buffers The data to be written. Although the buffers object may be copied as
        necessary, ownership of the underlying buffers is retained by the caller, which must
        guarantee that they remain valid until the completion handler is called.
        @param token The completion token used to produce a completion handler, which will be
        called when the write completes.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec, std::size_t bytes_transferred) @endcode

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @note The write operation may not transmit all of the data to the peer. Consider using
        `boost::asio::async_write` if you need to ensure that all data is written before the
        asynchronous operation completes.

        @par Per-Operation Cancellation
        Terminal and partial. After a cancelled write the stream only fails further writes
        (part of a record may be on the wire); reads go on, and the stream can be closed.
        The cancellation is forwarded to the transport operation in flight; an operation
        waiting for another operation's transport I/O completes with
        `boost::asio::error::operation_aborted` and leaves the session as it is.
    */
    template <class ConstBufferSequence,
              class WriteToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_write_some(
        const ConstBufferSequence& buffers,
        WriteToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        using policy = detail::write_policy<ConstBufferSequence>;
        return boost::asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            policy{{}, buffers});
    }

    // ---- Close ------------------------------------------------------------------------------

    /** Close the TLS session, blocking (gnutls_bye).

        `shutdown_type::both` (the default) sends our close_notify and returns when the peer's
        arrives or the transport ends; application data arriving meanwhile is discarded unless a
        read is pending. `shutdown_type::send` returns once ours is written.

        @param how Whether to wait for the peer's close_notify (`both`) or not (`send`).
        @throws boost::system::system_error on failure; `boost::asio::error::eof` is not an
        error here.
    */
    void shutdown(shutdown_type how = shutdown_type::both) {
        error_code ec;
        shutdown(how, ec);
        detail::throw_if(ec, "tlsx::stream::shutdown");
    }

    /// Close the TLS session, blocking, waiting for the peer's close_notify
    /// (`shutdown_type::both`).
    /// @param ec Set to the error, else cleared.
    void shutdown(error_code& ec) { shutdown(shutdown_type::both, ec); }

    /// Close the TLS session, blocking (gnutls_bye).
    /// @param how Whether to wait for the peer's close_notify (`both`) or not (`send`).
    /// @param ec Set to the error, else cleared.
    void shutdown(shutdown_type how, error_code& ec) {
        detail::shutdown_policy p{{}, how};
        detail::run_sync<detail::lowest_layer_getter>(next_layer_, core_, p, ec);
    }

    /** Start closing the TLS session (gnutls_bye).

        With `shutdown_type::both` (the default) completes when the peer's close_notify arrives,
        or when the transport ends right after ours was sent (as Asio does). If a read is
        pending it keeps the data and reports `eof`; otherwise data arriving meanwhile is
        discarded. With `shutdown_type::send` completes once our close_notify is written, and
        reads go on until the peer's. Neither waits past a cancellation or the transport's own
        timeout (e.g. `beast::tcp_stream::expires_after`).

        Implemented in terms of calls to the next layer's `async_write_some` (our
        close_notify) and, with `shutdown_type::both` and no `async_read_some` of this stream
        pending, its `async_read_some` (with a read pending, that read sees the peer's
        close_notify and this operation waits for it).

        If another shutdown is outstanding on this stream, completes with
        @ref error::operation_not_permitted without disturbing it.

        @param how Whether to wait for the peer's close_notify (`both`) or not (`send`).
        @param token The completion token used to produce a completion handler, which will be
        called when the shutdown completes.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec) @endcode

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @par Per-Operation Cancellation
        Terminal and partial. After a cancelled shutdown the stream only fails further writes.
        The cancellation is forwarded to the transport operation in flight; an operation
        waiting for another operation's transport I/O completes with
        `boost::asio::error::operation_aborted` and leaves the session as it is.
    */
    template <class ShutdownToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_shutdown(
        shutdown_type how,
        ShutdownToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<ShutdownToken, void(error_code)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            detail::shutdown_policy{{}, how});
    }

    /** Start closing the TLS session, waiting for the peer's close_notify: the same as
        `async_shutdown(shutdown_type::both, token)` (Asio's signature).

        @param token The completion token used to produce a completion handler, which will be
        called when the shutdown completes.
        @return What the completion token makes of the operation (nothing for a plain
        handler, a future for `use_future`, an awaitable for `use_awaitable`).

        @par Completion Signature
        @code void(error_code ec) @endcode

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function. On immediate
        completion, invocation of the handler will be performed in a manner equivalent to using
        `boost::asio::post`.

        @par Per-Operation Cancellation
        As async_shutdown(shutdown_type,ShutdownToken&&).
    */
    template <class ShutdownToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_shutdown(
        ShutdownToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return async_shutdown(shutdown_type::both, std::forward<ShutdownToken>(token));
    }

    // ---- Information after the handshake ----------------------------------------------------

    /// IANA name of the negotiated ciphersuite.
    /// @return E.g. `TLS_AES_128_GCM_SHA256`; valid while the stream lives; empty before the
    /// handshake.
    std::string_view cipher_suite() const noexcept { return core_.engine_.cipher_suite(); }
    /// Negotiated protocol version.
    /// @return `"TLSv1.2"` or `"TLSv1.3"`; valid while the stream lives.
    std::string_view protocol_version() const noexcept { return core_.engine_.protocol_version(); }
    /// Protocol chosen by ALPN.
    /// @return E.g. `"h2"`; empty when none was negotiated.
    std::string_view alpn_protocol() const noexcept { return core_.engine_.alpn_protocol(); }
    /// The peer's certificate.
    /// @return The certificate in DER form; empty when the peer sent none.
    std::vector<unsigned char> peer_certificate() const { return core_.engine_.peer_certificate(); }
    /// mbedTLS's verification flags for the peer's certificate.
    /// @return `MBEDTLS_X509_BADCERT_*` bits: 0 when it was verified, or when verification was
    /// not asked for (verify_mode::none).
    std::uint32_t verify_result() const noexcept { return core_.engine_.verify_result(); }

private:
    void set_timeout(detail::op_kind k, timeout_duration limit, bool implicit = false) {
        if (limit < timeout_duration::zero())
            throw boost::system::system_error(error::invalid_argument,
                                              "tlsx::stream: a time limit cannot be negative");
        if (!core_.deadlines_) {
            if (limit == no_timeout)
                return;
            core_.deadlines_ = std::make_shared<
                detail::deadline_impl<next_layer_type, detail::lowest_layer_getter>>(
                next_layer_.get_executor());
        }
        core_.deadlines_->set_limit(core_, k, limit, implicit);
    }

    timeout_duration timeout(detail::op_kind k) const noexcept {
        return core_.deadlines_ ? core_.deadlines_->limit(k) : no_timeout;
    }

    NextLayer next_layer_;
    detail::stream_core core_;
};

} // namespace tlsx

#endif
