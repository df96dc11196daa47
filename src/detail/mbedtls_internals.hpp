//
// src/detail/mbedtls_internals.hpp — the one room that reaches into mbedTLS's private state.
//
// mbedTLS's public API does not say everything the engine must know: whether a handshake was
// resumed, what the next record is before mbedtls_ssl_read acts on it, how to undo a refused
// renegotiation. Each such access is one named function here, so that nothing else includes
// ssl_internal.h or names a private field, and a port to another mbedTLS release is a change
// to this file alone. Version checks (2.28 / 3.x) live here and nowhere else.
//
#ifndef TLSX_SRC_DETAIL_MBEDTLS_INTERNALS_HPP
#define TLSX_SRC_DETAIL_MBEDTLS_INTERNALS_HPP

#include <mbedtls/version.h>
#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>
#if MBEDTLS_VERSION_MAJOR < 3
#include <mbedtls/ssl_internal.h> // handshake params, transforms, mbedtls_ssl_read_record
#endif
// 3.x installs no internal header (ssl_misc.h stays in its source tree): what 2.x reads from
// ssl_internal.h is either done another way below or not available (TLSX_HAS_RENEGOTIATION).
// The private fields of the public structures are named with MBEDTLS_PRIVATE, here only.

#include <cstddef>
#include <limits>

/// Whether the renegotiation policies can run: they need the record peek and the undo below,
/// written against mbedTLS 2.x's internals. Elsewhere renegotiation.cpp compiles a refusing stub.
#if MBEDTLS_VERSION_MAJOR < 3 && defined(MBEDTLS_SSL_RENEGOTIATION)
#define TLSX_HAS_RENEGOTIATION 1
#else
#define TLSX_HAS_RENEGOTIATION 0
#endif

#if MBEDTLS_VERSION_MAJOR >= 3
#define TLSX_MBEDTLS_FIELD(x) MBEDTLS_PRIVATE(x)
#else
#define TLSX_MBEDTLS_FIELD(x) x
#endif

namespace tlsx {
namespace detail {
namespace internals {

// ---- handshake --------------------------------------------------------------------------------

/** Whether no handshake (first or renegotiation) is in progress.

    On 3.x, a TLS 1.3 server's states after MBEDTLS_SSL_HANDSHAKE_OVER (sending
    NewSessionTicket) are still steps of the handshake here: mbedtls_ssl_handshake, too, runs
    until the state is MBEDTLS_SSL_HANDSHAKE_OVER itself, so the tickets go out with the
    server's last flight. */
inline bool handshake_over(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(state) == MBEDTLS_SSL_HANDSHAKE_OVER;
}

/// Whether an unfinished handshake awaits the server's ServerHello (a client's renegotiation).
inline bool awaiting_server_hello(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(state) == MBEDTLS_SSL_SERVER_HELLO;
}

/** Whether a handshake resumed a session: shown each state before its step is run.

    2.x: the handshake parameters say so (`resume`); read before each step, since mbedTLS frees
    them when the handshake ends.

    3.x: the handshake parameters are an incomplete type (their definition is in ssl_misc.h),
    so the state sequence tells instead. A full handshake always passes through
    MBEDTLS_SSL_SERVER_CERTIFICATE, on both sides, in TLS 1.2 (after ServerHello, whatever the
    key exchange) and in TLS 1.3 (after EncryptedExtensions/CertificateRequest). A resumed one
    never does: TLS 1.2 goes from ServerHello to ChangeCipherSpec, TLS 1.3 with a PSK from
    EncryptedExtensions to the server's Finished.
*/
class resumption_probe {
public:
    void before_step(const mbedtls_ssl_context& ssl) noexcept {
#if MBEDTLS_VERSION_MAJOR < 3
        resumed_ = ssl.handshake != nullptr && ssl.handshake->resume != 0;
#else
        started_ = true;
        if (ssl.MBEDTLS_PRIVATE(state) == MBEDTLS_SSL_SERVER_CERTIFICATE)
            full_ = true;
#endif
    }

    /// After the handshake is over.
    bool resumed() const noexcept {
#if MBEDTLS_VERSION_MAJOR < 3
        return resumed_;
#else
        return started_ && !full_;
#endif
    }

private:
#if MBEDTLS_VERSION_MAJOR < 3
    bool resumed_ = false;
#else
    bool started_ = false;
    bool full_ = false;
#endif
};

// ---- records ----------------------------------------------------------------------------------

/// What the record layer holds as the current message (after read_record_ahead()).
struct record_view {
    int type;                 // MBEDTLS_SSL_MSG_*
    const unsigned char* msg; // the message (decrypted), or null
    std::size_t length;       // of the message
    std::size_t hs_length;    // of the handshake message, when type is handshake
};

inline record_view current_record(const mbedtls_ssl_context& ssl) noexcept {
    return {ssl.TLSX_MBEDTLS_FIELD(in_msgtype), ssl.TLSX_MBEDTLS_FIELD(in_msg),
            ssl.TLSX_MBEDTLS_FIELD(in_msglen), ssl.TLSX_MBEDTLS_FIELD(in_hslen)};
}

/// The [level, description] of the alert the record layer just received (its current message).
inline const unsigned char* received_alert(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(in_msg);
}

/// Whether mbedtls_ssl_read is part-way through an application record (in_offt set): the next
/// read continues it rather than reading a new record.
inline bool application_record_open(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(in_offt) != nullptr;
}

/// Whether the current record is kept for the next mbedTLS call to process (read ahead).
inline bool current_record_kept(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(keep_current_message) != 0;
}

/// Whether mbedTLS holds an unsent part of a record (never with the engine's send callback,
/// which always accepts everything; checked anyway before skipping mbedtls_ssl_read).
inline bool output_pending(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(out_left) != 0;
}

#if TLSX_HAS_RENEGOTIATION
/** Read and decrypt the next record and keep it current, so that the next mbedTLS call acts on
    it as if it had not been read yet. Returns what mbedtls_ssl_read_record returned (0, or what
    mbedtls_ssl_read would have returned for this record, e.g. WANT_READ or a fatal error).
*/
inline int read_record_ahead(mbedtls_ssl_context& ssl) noexcept {
    int ret = mbedtls_ssl_read_record(&ssl, 1);
    if (ret == 0)
        ssl.TLSX_MBEDTLS_FIELD(keep_current_message) = 1;
    return ret;
}

/// Let the next mbedTLS read drop the current record instead of processing it.
inline void drop_current_record(mbedtls_ssl_context& ssl) noexcept {
    ssl.TLSX_MBEDTLS_FIELD(keep_current_message) = 0;
}
#endif // TLSX_HAS_RENEGOTIATION: mbedtls_ssl_read_record is declared in 3.x's ssl_misc.h only

// ---- renegotiation ----------------------------------------------------------------------------

/// Whether the peer offered RFC 5746 secure renegotiation in the first handshake.
inline bool peer_supports_secure_renegotiation(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(secure_renegotiation) == MBEDTLS_SSL_SECURE_RENEGOTIATION;
}

/// mbedTLS's renegotiation status (MBEDTLS_SSL_INITIAL_HANDSHAKE, _RENEGOTIATION_IN_PROGRESS, ...).
inline int renegotiation_status(const mbedtls_ssl_context& ssl) noexcept {
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    return ssl.TLSX_MBEDTLS_FIELD(renego_status);
#else
    (void)ssl;
    return MBEDTLS_SSL_INITIAL_HANDSHAKE;
#endif
}

/// Put the status back as it was before a request that ended without a handshake.
inline void set_renegotiation_status(mbedtls_ssl_context& ssl, int status) noexcept {
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    ssl.TLSX_MBEDTLS_FIELD(renego_status) = status;
#else
    (void)ssl;
    (void)status;
#endif
}

/** Stop a server from re-sending HelloRequest while its request is pending.

    mbedTLS 2.28's server re-sends HelloRequest for each application record that arrives while
    its request is pending (a DTLS retransmission rule it applies to TLS too); a client already
    waiting for ServerHello rejects the duplicate with decode_error. With enforcement off it
    stops once this counter is past a few "doublings": start it there (tlsx counts records
    itself for enforcement).
*/
inline void suppress_hello_request_resends(mbedtls_ssl_context& ssl) noexcept {
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    ssl.TLSX_MBEDTLS_FIELD(renego_records_seen) = std::numeric_limits<int>::max() / 2;
#else
    (void)ssl;
#endif
}

#if TLSX_HAS_RENEGOTIATION
/// Undo a client renegotiation that the server refused: free what mbedTLS allocated for the
/// new handshake. The current transform and session were never touched, so the session goes on.
inline void abandon_renegotiation(mbedtls_ssl_context& ssl) noexcept {
    mbedtls_ssl_handshake_free(&ssl);
    mbedtls_free(ssl.handshake);
    ssl.handshake = nullptr;
    if (ssl.transform_negotiate) {
        mbedtls_ssl_transform_free(ssl.transform_negotiate);
        mbedtls_free(ssl.transform_negotiate);
        ssl.transform_negotiate = nullptr;
    }
    if (ssl.session_negotiate) {
        mbedtls_ssl_session_free(ssl.session_negotiate);
        mbedtls_free(ssl.session_negotiate);
        ssl.session_negotiate = nullptr;
    }
    ssl.state = MBEDTLS_SSL_HANDSHAKE_OVER;
}
#endif

} // namespace internals
} // namespace detail
} // namespace tlsx

#endif
