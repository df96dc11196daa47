//
// tlsx/stream_base.hpp — roles, shutdown modes and policies shared by streams and engines.
//
#ifndef TLSX_STREAM_BASE_HPP
#define TLSX_STREAM_BASE_HPP

#include <chrono>

namespace tlsx {

/** Base class of @ref stream "stream": the handshake roles, spelled as in
    `boost::asio::ssl::stream_base`.

    Porting code writes `tlsx::stream_base::client` where it wrote `ssl::stream_base::client`.
*/
struct stream_base {
    /// Which side of the handshake this stream plays.
    enum handshake_type {
        /// Perform the handshake as a client.
        client,
        /// Perform the handshake as a server.
        server
    };

protected:
    ~stream_base() = default;
};

/** @var shutdown_type::send
    Send our close_notify; don't wait for the peer's (GNUTLS_SHUT_WR).
    @var shutdown_type::both
    Send our close_notify and wait for the peer's (GNUTLS_SHUT_RDWR). The default.
*/
/** How @ref tlsx::stream::shutdown "stream::shutdown" closes the TLS session (gnutls_bye's `how`).

    - `both` (GNUTLS_SHUT_RDWR): send our close_notify and complete when the peer's arrives, or when
      the transport ends right after ours was sent. The default, as in Asio.
    - `send` (GNUTLS_SHUT_WR): complete once our close_notify is written; reads go on until the
      peer's close_notify, which they report as `boost::asio::error::eof`.
*/
enum class shutdown_type { send, both };

/** @var verify_mode::none
    The peer's certificate is not checked; a server does not ask for one.
    @var verify_mode::optional
    Verified, but a failure does not fail the handshake; a server asks for a client certificate
    but does not require it.
    @var verify_mode::required
    A missing or failing certificate fails the handshake. The default for clients.
*/
/** Whether and how the peer's certificate is verified.

    - `none`: the peer's certificate is not checked (a server does not ask for one).
    - `optional`: verified, but a failure does not fail the handshake; a server asks for a client
      certificate but does not require it.
    - `required`: a missing or failing certificate fails the handshake. The default for clients.
*/
enum class verify_mode { none, optional, required };

// ---- asio::ssl's verify-mode flags ----------------------------------------------------------

/** Asio's verify-mode flags (`boost::asio::ssl::verify_peer` ...), combinable with `|` and
    accepted by `set_verify_mode` on @ref tlsx::context "context" and @ref tlsx::stream "stream",
    next to @ref tlsx::verify_mode "verify_mode".

    What each combination means here (@ref to_verify_mode):
    - no `verify_peer` (e.g. `verify_none`): @ref verify_mode::none, as in OpenSSL, where
      `verify_fail_if_no_peer_cert` and `verify_client_once` mean nothing without `verify_peer`.
    - `verify_peer`, with or without the others: @ref verify_mode::required
      "verify_mode::required": a missing or failing certificate fails the handshake. On a client
      this is OpenSSL's meaning. On a server OpenSSL accepts a client that sends no certificate
      unless `verify_fail_if_no_peer_cert` is given; mbedTLS cannot fail a bad certificate
      without also failing a missing one, so tlsx errs on the safe side and requires one. For a
      server that asks for a client certificate but accepts none, use @ref verify_mode::optional
      and check the result yourself.
    - `verify_client_once`: mbedTLS asks for the client certificate in the first handshake
      only (and in a renegotiation, which re-verifies), so this flag changes nothing.
*/
enum verify_flags : int {
    /// Do not verify the peer (OpenSSL's SSL_VERIFY_NONE).
    verify_none = 0x00,
    /// Verify the peer's certificate (SSL_VERIFY_PEER).
    verify_peer = 0x01,
    /// With verify_peer on a server: fail if the client sends no certificate.
    verify_fail_if_no_peer_cert = 0x02,
    /// With verify_peer on a server: ask for the client certificate once only.
    verify_client_once = 0x04
};

/// Combine verify-mode flags, as `ssl::verify_peer | ssl::verify_fail_if_no_peer_cert`.
/// @param a Flags.
/// @param b More flags.
/// @return The flags either has.
constexpr verify_flags operator|(verify_flags a, verify_flags b) noexcept {
    return static_cast<verify_flags>(static_cast<int>(a) | static_cast<int>(b));
}
/// The flags both sides have.
/// @param a Flags.
/// @param b Flags to test for, e.g. `verify_peer`.
/// @return The flags both have.
constexpr verify_flags operator&(verify_flags a, verify_flags b) noexcept {
    return static_cast<verify_flags>(static_cast<int>(a) & static_cast<int>(b));
}
/// Add flags.
/// @param a The flags to add to.
/// @param b The flags to add.
/// @return `a`.
constexpr verify_flags& operator|=(verify_flags& a, verify_flags b) noexcept {
    return a = a | b;
}

/// What a combination of Asio's flags means as a @ref verify_mode (see @ref verify_flags).
/// @param flags Asio's flags.
/// @return @ref verify_mode::required if `flags` has `verify_peer`, else @ref verify_mode::none.
constexpr verify_mode to_verify_mode(verify_flags flags) noexcept {
    return (flags & verify_peer) ? verify_mode::required : verify_mode::none;
}

/** @var renegotiation_policy::refuse
    Answer with a no_renegotiation warning alert and go on. The default.
    @var renegotiation_policy::accept
    Renegotiate inside whichever operation is pending, invisibly to the application.
    @var renegotiation_policy::ask
    Complete the pending read with error::renegotiation_requested; the application then calls
    `handshake` to renegotiate, or reads on, which refuses.
*/
/** How a stream answers a peer's request to renegotiate.

    - `refuse`: answer with a no_renegotiation warning alert and go on.
    - `accept`: renegotiate inside whichever operation is pending, invisibly to the application.
    - `ask`: complete the pending read with @ref error::renegotiation_requested; the application
      then calls `handshake` to renegotiate, or reads on, which refuses.
*/
enum class renegotiation_policy { refuse, accept, ask };

/** What a read reports when the transport ends without the peer's close_notify.

    - `error` (the default): @ref error::stream_truncated, since an attacker who cuts the
      connection could otherwise pass a truncated message off as complete.
    - `allow`: `boost::asio::error::eof`, as after a close_notify, for protocols that frame their
      own data and so notice a truncation themselves: HTTP with Content-Length or chunked bodies,
      WebSocket (close frames), length-prefixed records. Not safe where the end of the stream
      marks the end of the data (HTTP/1.0 bodies read to EOF, a file sent until EOF). The
      transport EOF then counts as the peer's close: peer_closed() is true, a shutdown(both)
      does not wait for a close_notify that will not come, and writes may go on.
*/
enum class truncation_policy { error, allow };

/// The type of the time limits of streams and contexts (stream::set_handshake_timeout, ...).
using timeout_duration = std::chrono::steady_clock::duration;

/// No time limit: the default of every limit except a server context's handshake limit.
inline constexpr timeout_duration no_timeout = timeout_duration::zero();

/** The handshake limit a server context (`tls_server`, `tlsv12_server`, ...) starts with: 30
    seconds. A client that opens a connection and then sends nothing, or one byte at a time
    (slowloris), holds a server stream for at most this long; 30 s leaves room for a slow client
    on a lossy mobile link (several retransmissions of each flight). Clients and `tls` contexts
    default to no limit, as Asio does.
*/
inline constexpr timeout_duration default_server_handshake_timeout = std::chrono::seconds(30);

} // namespace tlsx

#endif
