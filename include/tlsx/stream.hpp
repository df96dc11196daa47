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
    template <class Executor>
    struct rebind_executor {
        using other = stream<typename next_layer_type::template rebind_executor<Executor>::other>;
    };

    /** Construct a stream; `arg` constructs the next layer (an io_context, an executor, or a
        transport to move in).

        The context's configuration is shared, not copied, and stays alive with the stream.
    */
    template <class Arg>
    stream(Arg&& arg, context& ctx)
        : next_layer_(std::forward<Arg>(arg))
        , core_(ctx) {}

    /// Move-construct. No operation may be outstanding on `other`.
    stream(stream&& other) = default;
    /// Move-assign. No operation may be outstanding on either stream.
    stream& operator=(stream&& other) = default;

    /// The executor of the next layer.
    executor_type get_executor() noexcept { return next_layer_.get_executor(); }

    /// The next layer.
    next_layer_type& next_layer() noexcept { return next_layer_; }
    /// @copydoc next_layer
    const next_layer_type& next_layer() const noexcept { return next_layer_; }

    /// The lowest layer: the socket, as with `asio::ssl::stream`.
    lowest_layer_type& lowest_layer() noexcept { return detail::lowest_layer(next_layer_); }
    /// @copydoc lowest_layer
    const lowest_layer_type& lowest_layer() const noexcept {
        return detail::lowest_layer(next_layer_);
    }

    /// The mbedTLS session; null before the handshake starts.
    native_handle_type native_handle() noexcept { return core_.engine_.native_handle(); }

    /// The engine that does the TLS work (for inspection and tests).
    const engine& get_engine() const noexcept { return core_.engine_; }

    // ---- Settings ---------------------------------------------------------------------------

    /** Set the host name: sent as SNI and checked against the server's certificate.

        Replaces `SSL_set_tlsext_host_name(s.native_handle(), host)` of Asio/OpenSSL code. Call
        it before a client handshake: a client that verifies the server and has no host name
        fails its handshake with @ref error::server_name_required, unless chain-only
        verification was chosen with @ref set_server_name_required.
    */
    void set_server_name(std::string_view host) {
        error_code ec;
        set_server_name(host, ec);
        detail::throw_if(ec, "tlsx::stream::set_server_name");
    }
    /// @copydoc set_server_name
    void set_server_name(std::string_view host, error_code& ec) {
        core_.engine_.set_server_name(host, ec);
    }

    /** Whether this client needs a host name to verify the server against (overrides
        context::set_server_name_required; `false` chooses chain-only verification).
    */
    void set_server_name_required(bool required) {
        core_.engine_.set_server_name_required(required);
    }

    /// Override the context's verify mode for this stream (before the handshake).
    void set_verify_mode(verify_mode mode) { core_.engine_.set_verify_mode(mode); }
    /// @copydoc set_verify_mode
    void set_verify_mode(verify_mode mode, error_code& ec) {
        core_.engine_.set_verify_mode(mode);
        ec = {};
    }
    /// Override the context's verify mode with Asio's flags, e.g. `tlsx::verify_peer` (see
    /// @ref verify_flags for what each combination means).
    void set_verify_mode(verify_flags flags) { set_verify_mode(to_verify_mode(flags)); }
    /// @copydoc set_verify_mode(verify_flags)
    void set_verify_mode(verify_flags flags, error_code& ec) {
        set_verify_mode(to_verify_mode(flags), ec);
    }

    /** Set how this stream answers the peer's requests to renegotiate (overrides the
        context's setting).

        Call it before the handshake, or at any time to change the answer to future requests.
    */
    void set_renegotiation(renegotiation_policy policy) { core_.engine_.set_renegotiation(policy); }

    /** Offer to resume a saved session in the next client handshake (gnutls_session_set_data).

        If the server cannot resume it, a full handshake runs instead; session_reused() tells.
    */
    void set_session(const session& s) { core_.engine_.set_session(s); }

    /** The session to save for a later resumption, after a client handshake
        (gnutls_session_get_data2); empty before the handshake or on a server.
    */
    session get_session() const { return core_.engine_.get_session(); }

    /** Whether a session ticket has arrived (client; GNUTLS_SFLAGS_SESSION_TICKET). Under TLS
        1.3 tickets come after the handshake and are taken in by reads: until one has,
        get_session() is empty. Under TLS 1.2: the handshake brought a new ticket.
    */
    bool session_ticket_received() const noexcept {
        return core_.engine_.session_ticket_received();
    }

    /// Whether the handshake resumed an earlier session (on either end).
    bool session_reused() const noexcept { return core_.engine_.session_reused(); }

    /// Override the context's verify depth for this stream.
    void set_verify_depth(int depth) { core_.engine_.set_verify_depth(depth); }

    /// Override the context's verify callback: `bool(bool preverified, verify_context&)`.
    template <class VerifyCallback>
    void set_verify_callback(VerifyCallback cb) {
        core_.engine_.set_verify_callback(verify_callback(std::move(cb)));
    }

    // ---- Handshake --------------------------------------------------------------------------

    /** Perform the handshake, blocking.

        @throws boost::system::system_error on failure: certificate errors in the "tlsx"
        category (e.g. error::certificate_untrusted), received alerts in "tlsx.alert".
    */
    void handshake(handshake_type type) {
        error_code ec;
        handshake(type, ec);
        detail::throw_if(ec, "tlsx::stream::handshake");
    }

    /// @copydoc handshake(handshake_type)
    void handshake(handshake_type type, error_code& ec) {
        detail::handshake_policy p{{}, type};
        detail::run_sync(next_layer_, core_, p, ec);
    }

    /// Perform the handshake, blocking, starting with bytes already read from the transport.
    /// @return The number of bytes of `buffers` the handshake used.
    template <class ConstBufferSequence>
    std::size_t handshake(handshake_type type, const ConstBufferSequence& buffers) {
        error_code ec;
        std::size_t n = handshake(type, buffers, ec);
        detail::throw_if(ec, "tlsx::stream::handshake");
        return n;
    }

    /// @copydoc handshake(handshake_type,const ConstBufferSequence&)
    template <class ConstBufferSequence>
    std::size_t handshake(handshake_type type, const ConstBufferSequence& buffers, error_code& ec) {
        detail::buffered_handshake_policy<ConstBufferSequence> p(type, buffers);
        return detail::run_sync(next_layer_, core_, p, ec);
    }

    /** Start an asynchronous handshake.

        May read and write the next layer any number of times.

        @par Completion Signature
        @code void(error_code) @endcode

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled handshake leaves the stream failed: close it.
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

        @par Completion Signature
        @code void(error_code, std::size_t bytes_used) @endcode

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled handshake leaves the stream failed: close it.
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
        enforcement limit. In both cases the stream stays usable.
    */
    void renegotiate() {
        error_code ec;
        renegotiate(ec);
        detail::throw_if(ec, "tlsx::stream::renegotiate");
    }

    /// @copydoc renegotiate()
    void renegotiate(error_code& ec) {
        detail::renegotiate_policy p;
        detail::run_sync(next_layer_, core_, p, ec);
    }

    /** Start a renegotiation: ask the peer for a new handshake and run it.

        A server sends HelloRequest; a client sends a new ClientHello. Completes when the new
        handshake is done, or with error::renegotiation_refused (the peer said no_renegotiation)
        or error::renegotiation_ignored (a client sent more records than the enforcement limit
        without renegotiating). Either way the stream stays usable. Application data arriving
        meanwhile goes to a pending read, or is kept for the next one. Only secure
        renegotiation (RFC 5746) is performed: with a peer that lacks it, this completes with
        renegotiation_refused at once.

        May read and write the next layer; with a read pending, that read processes the
        incoming records and this operation waits for it.

        @par Completion Signature
        @code void(error_code) @endcode

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled renegotiation leaves the stream failed: close it.
    */
    template <class RenegotiateToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_renegotiate(
        RenegotiateToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<RenegotiateToken, void(error_code)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            detail::renegotiate_policy{});
    }

    // ---- Data -------------------------------------------------------------------------------

    /** Read some decrypted data, blocking.

        @return The number of bytes read (at least 1 unless `buffers` is empty).
        @throws boost::system::system_error: `boost::asio::error::eof` after the peer's
        close_notify, @ref error::stream_truncated when the transport ended without one.
    */
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers) {
        error_code ec;
        std::size_t n = read_some(buffers, ec);
        detail::throw_if(ec, "tlsx::stream::read_some");
        return n;
    }

    /// @copydoc read_some(const MutableBufferSequence&)
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
        detail::read_policy<MutableBufferSequence> p{{}, buffers};
        return detail::run_sync(next_layer_, core_, p, ec);
    }

    /** Start an asynchronous read of decrypted data.

        May read the next layer, and may write it too (to send an alert the read produced).

        @par Completion Signature
        @code void(error_code, std::size_t bytes_transferred) @endcode
        `boost::asio::error::eof` after the peer's close_notify; @ref error::stream_truncated
        when the transport ended without one.

        @par Per-Operation Cancellation
        Terminal and partial. A cancelled read leaves the stream usable: a partially received
        record stays buffered and the next read goes on with it.
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

        Several small buffers are coalesced into one record.
    */
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers) {
        error_code ec;
        std::size_t n = write_some(buffers, ec);
        detail::throw_if(ec, "tlsx::stream::write_some");
        return n;
    }

    /// @copydoc write_some(const ConstBufferSequence&)
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, error_code& ec) {
        detail::write_policy<ConstBufferSequence> p{{}, buffers};
        return detail::run_sync(next_layer_, core_, p, ec);
    }

    /** Start an asynchronous write of some data: at most one record (16 KiB).

        Several small buffers are coalesced into one record. Completes once the record is
        written to the next layer. May read the next layer too (during a renegotiation).

        @par Completion Signature
        @code void(error_code, std::size_t bytes_transferred) @endcode

        @par Per-Operation Cancellation
        Terminal and partial. After a cancelled write the stream only fails further writes
        (part of a record may be on the wire); reads go on, and the stream can be closed.
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
    */
    void shutdown(shutdown_type how = shutdown_type::both) {
        error_code ec;
        shutdown(how, ec);
        detail::throw_if(ec, "tlsx::stream::shutdown");
    }

    /// @copydoc shutdown(shutdown_type)
    void shutdown(error_code& ec) { shutdown(shutdown_type::both, ec); }

    /// @copydoc shutdown(shutdown_type)
    void shutdown(shutdown_type how, error_code& ec) {
        detail::shutdown_policy p{{}, how};
        detail::run_sync(next_layer_, core_, p, ec);
    }

    /** Start closing the TLS session (gnutls_bye).

        With `shutdown_type::both` (the default) completes when the peer's close_notify arrives,
        or when the transport ends right after ours was sent (as Asio does). If a read is
        pending it keeps the data and reports `eof`; otherwise data arriving meanwhile is
        discarded. With `shutdown_type::send` completes once our close_notify is written, and
        reads go on until the peer's. Neither waits past a cancellation or the transport's own
        timeout (e.g. `beast::tcp_stream::expires_after`).

        @par Completion Signature
        @code void(error_code) @endcode

        @par Per-Operation Cancellation
        Terminal and partial. After a cancelled shutdown the stream only fails further writes.
    */
    template <class ShutdownToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_shutdown(
        shutdown_type how,
        ShutdownToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<ShutdownToken, void(error_code)>(
            detail::initiate_engine_op<next_layer_type>(next_layer_, core_), token,
            detail::shutdown_policy{{}, how});
    }

    /// @copydoc async_shutdown(shutdown_type,ShutdownToken&&)
    template <class ShutdownToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_shutdown(
        ShutdownToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return async_shutdown(shutdown_type::both, std::forward<ShutdownToken>(token));
    }

    // ---- Information after the handshake ----------------------------------------------------

    /// IANA name of the negotiated ciphersuite; valid while the stream lives.
    std::string_view cipher_suite() const noexcept { return core_.engine_.cipher_suite(); }
    /// Negotiated protocol version, e.g. "TLSv1.2".
    std::string_view protocol_version() const noexcept { return core_.engine_.protocol_version(); }
    /// Protocol chosen by ALPN; empty when none.
    std::string_view alpn_protocol() const noexcept { return core_.engine_.alpn_protocol(); }
    /// The peer's certificate, DER; empty when none.
    std::vector<unsigned char> peer_certificate() const { return core_.engine_.peer_certificate(); }

private:
    NextLayer next_layer_;
    detail::stream_core core_;
};

} // namespace tlsx

#endif
