//
// src/error.cpp — the error categories (tlsx, tlsx.mbedtls, tlsx.alert) and their messages.
//
// The four error categories of tlsx: its own errors, raw mbedTLS codes, received TLS alerts and
// the coarse conditions that group them.
//
#include <tlsx/error.hpp>

#include "detail/mbedtls_internals.hpp"

#include <boost/asio/error.hpp>

#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>

#include <cstring>
#include <string>

namespace tlsx {

namespace {

using boost::system::error_condition;

// Fixed category ids make categories compare equal even when this library ends up linked into
// several shared objects (each with its own function-local static instance).
constexpr unsigned long long tlsx_category_id = 0x746c73785f657272ULL;      // "tlsx_err"
constexpr unsigned long long mbedtls_category_id = 0x746c73785f6d6274ULL;   // "tlsx_mbt"
constexpr unsigned long long alert_category_id = 0x746c73785f616c74ULL;     // "tlsx_alt"
constexpr unsigned long long condition_category_id = 0x746c73785f636e64ULL; // "tlsx_cnd"

error_condition make_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

// ---- mbedTLS code classification ------------------------------------------------------------
//
// An mbedTLS code is -(high | low): bits 7..14 name the high-level module and its error, bits
// 0..6 an optional low-level cause (e.g. X509_INVALID_FORMAT + ASN1_OUT_OF_DATA). Classify by
// the high-level part, which is what the user can act on.

int high_level_part(int code) noexcept {
    // mbedTLS codes lie in -0x7FFF..-1; anything else has no module (and -INT_MIN would overflow).
    return code < 0 && code > -0x8000 ? -((-code) & 0x7F80) : 0;
}

bool in_range(int high, int first, int last) noexcept {
    return high <= first && high >= last; // codes are negative: first is the larger one
}

// Errors of parsing keys and certificates the application gave us: PEM, PKCS#5/#12 (encrypted
// keys), PK and X.509 (except certificate verification, which is about the peer).
bool is_parse_error(int high) noexcept {
    if (high == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
        return false;
    return in_range(high, MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT,
                    MBEDTLS_ERR_PEM_BAD_INPUT_DATA) ||
           in_range(high, -0x1E00, -0x1F80) || // PKCS#12
           in_range(high, MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE,
                    MBEDTLS_ERR_X509_BUFFER_TOO_SMALL) ||
           high == MBEDTLS_ERR_X509_FATAL_ERROR || in_range(high, -0x2E00, -0x2F80) || // PKCS#5
           in_range(high, -0x3880, MBEDTLS_ERR_PK_ALLOC_FAILED); // PK (2.28 and 3.x alike)
}

// The SSL module owns -0x5E80..-0x5F80, -0x6000, -0x6480..-0x6F80 and -0x7000..-0x7F80; the
// cipher module sits in between (-0x6080..-0x6400).
bool is_ssl_error(int high) noexcept {
    return in_range(high, -0x5E80, -0x5F80) || high == -0x6000 ||
           in_range(high, -0x6480, -0x6F80) || in_range(high, -0x7000, -0x7F80);
}

struct gloss_entry {
    int code;
    const char* text;
};

// What an mbedTLS error usually means for the user, for the codes people actually meet.
constexpr gloss_entry glosses[] = {
    {MBEDTLS_ERR_SSL_CONN_EOF, "the transport ended in the middle of a TLS record or handshake"},
    {MBEDTLS_ERR_SSL_INVALID_RECORD,
     "the peer sent bytes that are not a valid TLS record: not TLS, or corrupted"},
    {MBEDTLS_ERR_SSL_INVALID_MAC,
     "a record failed its integrity check: corrupted or tampered with in transit"},
// Codes differ between mbedTLS releases: each is named where this mbedTLS defines it. 3.x folded
// 2.28's per-message codes (BAD_HS_*, NO_USABLE_CIPHERSUITE, ...) into a few that follow the
// alert sent.
#if defined(MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE)
    {MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION,
     "no TLS version in common with the peer (see set_min_version/set_max_version)"},
    {MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE,
     "the handshake failed: no ciphersuite, group or signature algorithm in common with the "
     "peer, or its parameters were unacceptable"},
    {MBEDTLS_ERR_SSL_DECODE_ERROR,
     "the peer sent a malformed handshake message: often a non-TLS peer or a bug in it"},
    {MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER,
     "the peer sent a handshake message with a value the protocol does not allow"},
    {MBEDTLS_ERR_SSL_BAD_CERTIFICATE,
     "the peer's certificate message was malformed or its certificate unusable"},
    {MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION, "the peer sent an extension that was not allowed"},
    {MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL, "no ALPN protocol in common with the peer"},
    {MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME, "the server does not serve the host name asked for"},
#if defined(MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME)
    {MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME,
     "a verifying client must name the server it expects: call set_server_name"},
#endif
#else
    {MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION,
     "no TLS version in common with the peer (see set_min_version/set_max_version)"},
    {MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN, "no ciphersuite in common with the peer"},
    {MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE, "no ciphersuite in common with the peer"},
    {MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED, "the peer could not be authenticated"},
#endif
    {MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, "the peer aborted the connection with a fatal alert"},
    {MBEDTLS_ERR_X509_CERT_VERIFY_FAILED,
     "the peer's certificate failed verification (expired, untrusted or for another host name)"},
    {MBEDTLS_ERR_PK_PASSWORD_REQUIRED, "the private key is encrypted: set a password callback"},
    {MBEDTLS_ERR_PK_PASSWORD_MISMATCH, "the password of the encrypted private key is wrong"},
    {MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT,
     "no -----BEGIN ...----- block found: the data is not PEM"},
    {MBEDTLS_ERR_PEM_INVALID_DATA, "the PEM block is damaged (bad base64 or headers)"},
    {MBEDTLS_ERR_X509_INVALID_FORMAT,
     "the certificate data is malformed: not a certificate, or truncated/corrupted"},
    {MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT, "the data is neither a PEM nor a DER certificate"},
    {MBEDTLS_ERR_X509_FILE_IO_ERROR, "a certificate file or directory could not be read"},
    {MBEDTLS_ERR_PK_KEY_INVALID_FORMAT,
     "the private key data is malformed: not a key, or truncated/corrupted"},
    {MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "the key uses an algorithm this mbedTLS build does not know"},
    {MBEDTLS_ERR_PK_TYPE_MISMATCH, "the key is of the wrong type for this use"},
#if defined(MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO)
    {MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO, "the client's hello was malformed or unacceptable: often "
                                          "a non-TLS client or an unsupported protocol version"},
    {MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO, "the server's hello was malformed or unacceptable"},
    {MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE,
     "the peer's certificate message was malformed or its certificate unusable"},
    {MBEDTLS_ERR_SSL_BAD_HS_FINISHED, "the handshake was tampered with or the keys do not match"},
#endif
    {MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE,
     "the peer sent a message that the TLS protocol does not allow at this point"},
    {MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE,
     "the client sent no certificate although the server requires one"},
    {MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED,
     "no trusted certificate authority is configured: add one, or do not verify"},
    {MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED,
     "a certificate and private key are needed (use_certificate_chain, use_private_key)"},
#if defined(MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED)
    {MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED,
     "a certificate and private key are needed (use_certificate_chain, use_private_key)"},
#endif
#if !TLSX_HAS_RENEGOTIATION
    {MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE,
     "not available with this mbedTLS (tlsx renegotiates with mbedTLS 2.28 only, for now)"},
#endif
    {MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY, "the peer closed the TLS session"},
    {MBEDTLS_ERR_SSL_BAD_CONFIG, "the TLS configuration is inconsistent"},
    {MBEDTLS_ERR_SSL_BAD_INPUT_DATA,
     "mbedTLS rejected an argument (a configuration mistake or a bug in the caller)"},
    {MBEDTLS_ERR_SSL_ALLOC_FAILED, "out of memory"},
    {MBEDTLS_ERR_X509_ALLOC_FAILED, "out of memory"},
    {MBEDTLS_ERR_PK_ALLOC_FAILED, "out of memory"},
    {MBEDTLS_ERR_SSL_INTERNAL_ERROR, "an internal error in mbedTLS"},
};

const char* mbedtls_gloss(int code) noexcept {
    for (const gloss_entry& g : glosses)
        if (g.code == code)
            return g.text;
    return nullptr;
}

// ---- categories -----------------------------------------------------------------------------

class tlsx_category_impl final : public boost::system::error_category {
public:
    constexpr tlsx_category_impl() noexcept
        : error_category(tlsx_category_id) {}

    const char* name() const noexcept override { return "tlsx"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::stream_truncated:
            return "stream truncated: the transport ended without a TLS close_notify (the data "
                   "may be incomplete)";
        case error::not_handshaken:
            return "the TLS handshake has not been completed";
        case error::closed:
            return "the TLS session is closed";
        case error::renegotiation_refused:
            return "the peer refused to renegotiate";
        case error::renegotiation_ignored:
            return "the peer did not renegotiate within the enforced limit";
        case error::renegotiation_requested:
            return "the peer asks to renegotiate (handshake to accept, read on to refuse)";
        case error::invalid_session:
            return "invalid saved session: corrupt, truncated or from another library";
        case error::certificate_expired:
            return "certificate verification failed: the peer's certificate has expired";
        case error::certificate_not_yet_valid:
            return "certificate verification failed: the peer's certificate is not valid yet";
        case error::certificate_untrusted:
            return "certificate verification failed: not trusted (it does not chain to a "
                   "trusted certificate authority)";
        case error::certificate_name_mismatch:
            return "certificate verification failed: host name mismatch (the certificate does "
                   "not name the host that was asked for)";
        case error::certificate_revoked:
            return "certificate verification failed: the peer's certificate has been revoked";
        case error::certificate_rejected:
            return "certificate verification failed: rejected by the verify callback";
        case error::certificate_invalid:
            return "certificate verification failed: the peer's certificate is not acceptable "
                   "(key usage, key type or format)";
        case error::no_peer_certificate:
            return "the peer sent no certificate although one is required";
        case error::unknown_ciphersuite:
            return "unknown ciphersuite: not supported by this mbedTLS build";
        case error::invalid_certificate:
            return "the certificate could not be parsed (not PEM/DER, or corrupted)";
        case error::invalid_private_key:
            return "the private key could not be parsed (not PEM/DER, or corrupted)";
        case error::wrong_password:
            return "the private key is encrypted and the password is missing or wrong";
        case error::key_mismatch:
            return "the private key does not match the certificate";
        case error::invalid_argument:
            return "invalid argument";
        case error::operation_not_permitted:
            return "operation not permitted in the current state";
        case error::server_name_required:
            return "no server name to verify the certificate against: call set_server_name(host) "
                   "before the handshake, or set_server_name_required(false) for chain-only "
                   "verification";
        case error::key_update_unsupported:
            return "no TLS 1.3 key update on this session: TLS 1.2 has none, and it needs mbedTLS "
                   "3.6 (with another mbedTLS a peer's KeyUpdate ends the session with an "
                   "unexpected_message alert)";
        case error::invalid_request:
            return "invalid request for this session (TLS 1.3 has no renegotiation: a TLS 1.3 "
                   "client cannot ask for one)";
        case error::post_handshake_auth_unsupported:
            return "a TLS 1.3 server cannot request a client certificate after the handshake "
                   "with this mbedTLS (no post-handshake authentication): set the verify mode "
                   "before the handshake, or use TLS 1.2 and renegotiate";
        case error::sync_deadline_unsupported:
            return "a synchronous operation cannot have a deadline on this transport (its lowest "
                   "layer is not a socket): use the asynchronous operation, or clear the timeout";
        case error::too_many_ignored_records:
            return "the peer sent too many records in a row that carry no data (empty records, "
                   "warning alerts, tickets, refused renegotiation requests): a flood, ended "
                   "with an unexpected_message alert";
        }
        return "unknown tlsx error " + std::to_string(ev);
    }

    error_condition default_error_condition(int ev) const noexcept override {
        switch (static_cast<error>(ev)) {
        case error::stream_truncated:
            return make_condition(condition::truncated);
        case error::certificate_expired:
        case error::certificate_not_yet_valid:
        case error::certificate_untrusted:
        case error::certificate_name_mismatch:
        case error::certificate_revoked:
        case error::certificate_rejected:
        case error::certificate_invalid:
        case error::no_peer_certificate:
            return make_condition(condition::certificate);
        case error::renegotiation_refused:
        case error::renegotiation_ignored:
        case error::key_update_unsupported:
        case error::too_many_ignored_records:
            return make_condition(condition::protocol);
        case error::server_name_required:
        case error::unknown_ciphersuite:
        case error::invalid_certificate:
        case error::invalid_private_key:
        case error::wrong_password:
        case error::key_mismatch:
        case error::invalid_argument:
        case error::sync_deadline_unsupported:
            return make_condition(condition::configuration);
        default:
            return {ev, *this};
        }
    }
};

class mbedtls_category_impl final : public boost::system::error_category {
public:
    constexpr mbedtls_category_impl() noexcept
        : error_category(mbedtls_category_id) {}

    const char* name() const noexcept override { return "tlsx.mbedtls"; }

    std::string message(int ev) const override {
        if (ev == 0)
            return "success";
        char buf[256];
        // Also describes combined codes ("X509 - ... : ASN1 - ...").
        mbedtls_strerror(ev, buf, sizeof buf);
        std::string text = buf;
        const char* gloss = mbedtls_gloss(ev);
        if (!gloss) // a combined code: explain its high-level part
            gloss = mbedtls_gloss(high_level_part(ev));
        if (gloss) {
            text += " \xE2\x80\x94 "; // em dash
            text += gloss;
        }
        return text;
    }

    error_condition default_error_condition(int ev) const noexcept override {
        const int high = high_level_part(ev);
        if (high == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
            return make_condition(condition::certificate);
        if (is_parse_error(high))
            return make_condition(condition::configuration);
        if (is_ssl_error(high))
            return make_condition(condition::protocol);
        return {ev, *this};
    }
};

struct alert_entry {
    int number;
    const char* name;
};

// Alert numbers and names (RFC 5246 §7.2, RFC 8446 §6, RFC 6066), in one table: mbedTLS's
// MBEDTLS_SSL_ALERT_MSG_* where it defines one, else the wire value from the RFC.
constexpr alert_entry alerts[] = {
    {MBEDTLS_SSL_ALERT_MSG_CLOSE_NOTIFY, "close_notify"},
    {MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE, "unexpected_message"},
    {MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC, "bad_record_mac"},
    {MBEDTLS_SSL_ALERT_MSG_DECRYPTION_FAILED, "decryption_failed"},
    {MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW, "record_overflow"},
    {MBEDTLS_SSL_ALERT_MSG_DECOMPRESSION_FAILURE, "decompression_failure"},
    {MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE, "handshake_failure"},
    {MBEDTLS_SSL_ALERT_MSG_NO_CERT, "no_certificate"},
    {MBEDTLS_SSL_ALERT_MSG_BAD_CERT, "bad_certificate"},
    {MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT, "unsupported_certificate"},
    {MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED, "certificate_revoked"},
    {MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED, "certificate_expired"},
    {MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN, "certificate_unknown"},
    {MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER, "illegal_parameter"},
    {MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA, "unknown_ca"},
    {MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, "access_denied"},
    {MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR, "decode_error"},
    {MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR, "decrypt_error"},
    {MBEDTLS_SSL_ALERT_MSG_EXPORT_RESTRICTION, "export_restriction"},
    {MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION, "protocol_version"},
    {MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY, "insufficient_security"},
    {MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR, "internal_error"},
    {MBEDTLS_SSL_ALERT_MSG_INAPROPRIATE_FALLBACK, "inappropriate_fallback"},
    {MBEDTLS_SSL_ALERT_MSG_USER_CANCELED, "user_canceled"},
    {MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION, "no_renegotiation"},
    {109, "missing_extension"},
    {MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_EXT, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {MBEDTLS_SSL_ALERT_MSG_UNKNOWN_PSK_IDENTITY, "unknown_psk_identity"},
    {116, "certificate_required"},
    {MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL, "no_application_protocol"},
};

const char* alert_name(int alert) noexcept {
    for (const alert_entry& a : alerts)
        if (a.number == alert)
            return a.name;
    return nullptr;
}

const char* alert_explanation(int alert) noexcept {
    switch (alert) {
    case 10:
        return "the peer got a message it did not expect at this point";
    case 20:
        return "a record failed the peer's integrity check";
    case 40:
        return "the peer found no acceptable parameters (ciphersuites, curves, signatures)";
    case 42:
        return "the peer rejected our certificate";
    case 43:
        return "the peer does not support our certificate's type";
    case 44:
        return "the peer says our certificate has been revoked";
    case 45:
        return "the peer says our certificate has expired";
    case 46:
        return "the peer could not accept our certificate";
    case 47:
        return "the peer found a field of our handshake out of range";
    case 48:
        return "the peer does not trust our certificate's issuer";
    case 50:
        return "the peer could not decode our message";
    case 51:
        return "a signature or the handshake integrity check failed at the peer";
    case 70:
        return "the peer does not support a protocol version we allow";
    case 71:
        return "the peer requires stronger ciphersuites than we offer";
    case 80:
        return "the peer hit an internal error";
    case 86:
        return "the peer detected a protocol downgrade";
    case 100:
        return "the peer refuses to renegotiate";
    case 112:
        return "the server does not serve the host name we asked for (SNI)";
    case 115:
        return "the peer does not know our pre-shared key identity";
    case 116:
        return "the peer requires a client certificate";
    case 120:
        return "no application protocol (ALPN) in common with the peer";
    default:
        return nullptr;
    }
}

class alert_category_impl final : public boost::system::error_category {
public:
    constexpr alert_category_impl() noexcept
        : error_category(alert_category_id) {}

    const char* name() const noexcept override { return "tlsx.alert"; }

    std::string message(int ev) const override {
        const char* name = alert_name(ev);
        std::string text = "received fatal alert: ";
        text += name ? name : "unknown";
        text += " (" + std::to_string(ev) + ")";
        if (const char* why = alert_explanation(ev)) {
            text += ": ";
            text += why;
        }
        return text;
    }

    error_condition default_error_condition(int) const noexcept override {
        return make_condition(condition::protocol);
    }
};

class condition_category_impl final : public boost::system::error_category {
public:
    constexpr condition_category_impl() noexcept
        : error_category(condition_category_id) {}

    const char* name() const noexcept override { return "tlsx.condition"; }

    std::string message(int ev) const override {
        switch (static_cast<condition>(ev)) {
        case condition::truncated:
            return "the TLS stream ended without close_notify";
        case condition::protocol:
            return "TLS protocol failure";
        case condition::certificate:
            return "certificate verification failed";
        case condition::transport:
            return "transport failure";
        case condition::configuration:
            return "invalid TLS configuration";
        }
        return "unknown tlsx condition " + std::to_string(ev);
    }

    bool equivalent(const error_code& code, int cond) const noexcept override {
        const auto& cat = code.category();
        if (cond == static_cast<int>(condition::transport)) {
            // Asio reports socket errors in the system category and eof, not_found, ... in its
            // misc category. Generic-category codes are left out on purpose: tlsx uses them for
            // unreadable files, which are configuration problems, not transport ones.
            // The misc category has no fixed id, so a copy from another shared object (Asio
            // compiled separately there) is recognised by name as well.
            return cat == boost::system::system_category() ||
                   cat == boost::asio::error::get_misc_category() ||
                   std::strcmp(cat.name(), "asio.misc") == 0;
        }
        // For tlsx's own categories the groups are defined once, in default_error_condition.
        if (cat == tlsx_category() || cat == mbedtls_category() || cat == alert_category())
            return cat.default_error_condition(code.value()) == error_condition(cond, *this);
        return false;
    }
};

} // namespace

const boost::system::error_category& tlsx_category() noexcept {
    static const tlsx_category_impl instance;
    return instance;
}

const boost::system::error_category& mbedtls_category() noexcept {
    static const mbedtls_category_impl instance;
    return instance;
}

const boost::system::error_category& alert_category() noexcept {
    static const alert_category_impl instance;
    return instance;
}

const boost::system::error_category& condition_category() noexcept {
    static const condition_category_impl instance;
    return instance;
}

} // namespace tlsx
