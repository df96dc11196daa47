//
// src/alerts.cpp — the table from mbedTLS failures to the fatal alerts of RFC 5246 / RFC 8446.
//
#include "alerts.hpp"

#include "detail/mbedtls_internals.hpp"

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509.h>

#include <cstddef>
#include <cstdint>

namespace tlsx {
namespace detail {
namespace alerts {

namespace {

/// RFC 5246 6.2.3: a TLS 1.2 record's fragment is at most 2^14 + 2048 bytes; RFC 8446 5.2: a
/// TLS 1.3 protected record's at most 2^14 + 256.
constexpr std::size_t max_tls12_fragment = 16384 + 2048;
constexpr std::size_t max_tls13_fragment = 16384 + 256;

constexpr int certificate_required = 116; // RFC 8446 6.2 (2.28 has no name for it)

bool is_content_type(int type) noexcept {
    return type == MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC || type == MBEDTLS_SSL_MSG_ALERT ||
           type == MBEDTLS_SSL_MSG_HANDSHAKE || type == MBEDTLS_SSL_MSG_APPLICATION_DATA;
}

/// The alert for a record refused at its clear header, or -1 when the header looks right.
int for_header(const internals::record_header& h, bool tls13) noexcept {
    if (!is_content_type(h.type)) // RFC 8446 5: an unexpected record type
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
    if (h.major != 3 || h.minor > 4) // no TLS version mbedTLS knows
        return MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION;
    if (h.length > (tls13 ? max_tls13_fragment : max_tls12_fragment))
        return MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW;
    if (h.length == 0) // RFC 5246 6.2.1, RFC 8446 5.1: no empty handshake, alert, CCS fragments
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
    return -1;
}

/** MBEDTLS_ERR_SSL_INVALID_RECORD covers every record the record layer refuses; which check
    failed is read back from the record's header and what was decoded of it. */
int for_invalid_record(const mbedtls_ssl_context& ssl) noexcept {
    const internals::record_header h = internals::incoming_record_header(ssl);
    if (!h.present)
        return MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
    const bool tls13 = internals::negotiated_tls13(ssl);
    if (int a = for_header(h, tls13); a >= 0)
        return a;
    const internals::record_view rec = internals::current_record(ssl);
    const bool decoded = rec.type == h.type || h.type == MBEDTLS_SSL_MSG_APPLICATION_DATA;
    if (decoded && rec.type == MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC)
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE; // RFC 8446 5: not the one-byte 0x01
    if (decoded && rec.type == MBEDTLS_SSL_MSG_ALERT)
        return MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR; // not two bytes
    if (decoded && rec.type == MBEDTLS_SSL_MSG_HANDSHAKE)
        return MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR; // shorter than a message header
    if (h.type == MBEDTLS_SSL_MSG_APPLICATION_DATA && tls13 && h.length > 16384 + 17)
        return MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW; // its plaintext is over 2^14
    if (h.type == MBEDTLS_SSL_MSG_APPLICATION_DATA && tls13)
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE; // RFC 8446 5.4: no content type
    return MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
}

int for_verify_failure(const mbedtls_ssl_context& ssl) noexcept {
    const std::uint32_t flags = internals::handshake_verify_result(ssl);
    if (flags & MBEDTLS_X509_BADCERT_REVOKED)
        return MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED;
    if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
        return MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED;
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        return MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA;
    return MBEDTLS_SSL_ALERT_MSG_BAD_CERT;
}

} // namespace

int for_failure(const mbedtls_ssl_context& ssl, int ret) noexcept {
    switch (ret) {
    case 0:
    case MBEDTLS_ERR_SSL_WANT_READ:
    case MBEDTLS_ERR_SSL_WANT_WRITE:
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: // the peer's alert ended it
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
    case MBEDTLS_ERR_SSL_CONN_EOF: // nothing can reach the peer
        return -1;
    default:
        break;
    }
    if (int a = internals::pending_alert(ssl); a >= 0)
        return a;
    if (internals::read_its_own_record(ret)) {
        // 2.28 reads the first ClientHello's record itself and refuses a bad header with the
        // same code as a bad message: tell them apart by the header.
        const internals::record_header h = internals::incoming_record_header(ssl);
        if (int a = h.present ? for_header(h, false) : -1; a >= 0)
            return a;
    }
    if (internals::names_a_bad_message(ret) &&
        internals::current_record(ssl).type != MBEDTLS_SSL_MSG_HANDSHAKE)
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE; // a record out of place, not malformed
    if (int a = internals::series_alert(ret); a >= 0)
        return a;
    switch (ret) {
    case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
    case MBEDTLS_ERR_SSL_INVALID_MAC:
        return MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC;
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
        return for_invalid_record(ssl);
    case MBEDTLS_ERR_SSL_BAD_INPUT_DATA: {
        // mbedtls_ssl_fetch_input's "more data than fits": a record longer than any allowed.
        const internals::record_header h = internals::incoming_record_header(ssl);
        if (h.present && h.length > max_tls13_fragment)
            return MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW;
        return MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR;
    }
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
        return for_verify_failure(ssl);
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
        return internals::negotiated_tls13(ssl) ? certificate_required
                                                : MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
    case MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE:
    case MBEDTLS_ERR_SSL_NON_FATAL:
        return MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
    case MBEDTLS_ERR_ECP_INVALID_KEY:
    case MBEDTLS_ERR_ECP_BAD_INPUT_DATA:
    case MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE:
        return MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER; // the peer's key share or point
    case MBEDTLS_ERR_ECP_VERIFY_FAILED:
    case MBEDTLS_ERR_RSA_VERIFY_FAILED:
    case MBEDTLS_ERR_PK_SIG_LEN_MISMATCH:
        return MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR; // a signature did not verify
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
    case MBEDTLS_ERR_SSL_INTERNAL_ERROR:
    case MBEDTLS_ERR_SSL_BAD_CONFIG:
    case MBEDTLS_ERR_SSL_NO_RNG:
    case MBEDTLS_ERR_SSL_COUNTER_WRAPPING:
    case MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL:
    case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
    case MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED:
        // Our own failure (memory, the RNG, configuration...), not the peer's: RFC 5246 7.2.2.
        return MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR;
    default:
        break;
    }
    // A code with no closer name: during a handshake, that it cannot go on (as tlsx always
    // said before this table); after it, a failure of ours.
    return internals::handshake_over(ssl) ? MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR
                                          : MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
}

} // namespace alerts
} // namespace detail
} // namespace tlsx
