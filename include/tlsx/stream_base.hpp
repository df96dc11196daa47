//
// tlsx/stream_base.hpp — roles, shutdown modes and policies shared by streams and engines.
//
#ifndef TLSX_STREAM_BASE_HPP
#define TLSX_STREAM_BASE_HPP

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

} // namespace tlsx

#endif
