//
// tlsx/error.hpp — error codes: the tlsx, tlsx.mbedtls and tlsx.alert categories and their
// conditions.
//
#ifndef TLSX_ERROR_HPP
#define TLSX_ERROR_HPP

#include <boost/system/error_code.hpp>
#include <ostream>
#include <type_traits>

namespace tlsx {

/// The error code type used throughout tlsx.
using error_code = boost::system::error_code;

/** Errors that tlsx itself reports, in the category named "tlsx".

    Errors that come straight from mbedTLS use @ref mbedtls_category (the raw negative mbedTLS
    code is the value), and fatal alerts received from the peer use @ref alert_category (the
    alert number is the value). Use @ref condition to test for groups of errors.
*/
enum class error {
    /// The transport ended without a close_notify from the peer (possible truncation attack).
    stream_truncated = 1,
    /// The operation needs a completed handshake.
    not_handshaken,
    /// The session was closed (close_notify sent or a fatal error happened) and cannot be used.
    closed,
    /// The peer refused to renegotiate (no_renegotiation alert).
    renegotiation_refused,
    /// The peer went past the renegotiation enforcement limit without renegotiating.
    renegotiation_ignored,
    /// The peer asks to renegotiate; call handshake to accept or read on to refuse. Not fatal.
    renegotiation_requested,
    /// Bytes given to session::from_bytes are corrupt, truncated or from another library.
    invalid_session,
    /// The peer's certificate has expired.
    certificate_expired,
    /// The peer's certificate is not valid yet.
    certificate_not_yet_valid,
    /// The peer's certificate does not chain to a trusted certificate authority.
    certificate_untrusted,
    /// The peer's certificate does not name the host we connected to.
    certificate_name_mismatch,
    /// The peer's certificate has been revoked.
    certificate_revoked,
    /// The verify callback rejected the peer's certificate.
    certificate_rejected,
    /// The peer's certificate failed verification for another reason (key usage, bad key, ...).
    certificate_invalid,
    /// The peer sent no certificate although one is required.
    no_peer_certificate,
    /// A ciphersuite name given to the context is not known to this mbedTLS build.
    unknown_ciphersuite,
    /// The certificate PEM/DER could not be parsed.
    invalid_certificate,
    /// The private key could not be parsed.
    invalid_private_key,
    /// The private key is encrypted and the password is missing or wrong.
    wrong_password,
    /// The private key does not match the certificate.
    key_mismatch,
    /// An argument (ALPN protocol, host name, version bound, ...) is invalid.
    invalid_argument,
    /// The operation is not allowed in the current state (e.g. a second concurrent read).
    operation_not_permitted,
    /// A client that verifies the server's certificate was given no host name to check it
    /// against: call `set_server_name(host)` before the handshake, or choose chain-only
    /// verification explicitly with `set_server_name_required(false)`.
    server_name_required,
    /// No key update here: key_update() on a TLS 1.2 session or with mbedTLS 2.28 (not
    /// fatal); or, with an mbedTLS other than the 3.6 series, a peer's KeyUpdate (tlsx sent
    /// the unexpected_message alert and the session is over).
    key_update_unsupported,
    /// The request has no meaning for this session (e.g. a TLS 1.3 client asking to
    /// renegotiate: TLS 1.3 has no renegotiation), as GNUTLS_E_INVALID_REQUEST. Not fatal.
    invalid_request,
    /// A TLS 1.3 server cannot ask for a client certificate after the handshake with this
    /// mbedTLS (it has no post-handshake authentication): set the verify mode before the
    /// handshake, or cap the session at TLS 1.2 and renegotiate. Not fatal.
    post_handshake_auth_unsupported,
    /// A synchronous operation with a deadline on a transport whose lowest layer is not a
    /// socket (e.g. tlsx::test::pipe): it cannot wait with a time limit there. Use the
    /// asynchronous form, or clear the limit. Nothing was done.
    sync_deadline_unsupported,
    /// The peer sent more records in a row that carry no application data than tlsx takes
    /// (empty records, warning alerts, TLS 1.3 ChangeCipherSpec records during the handshake,
    /// NewSessionTickets, renegotiation requests that were refused: docs/security.md
    /// "Floods"). Fatal: tlsx sent the unexpected_message alert.
    too_many_ignored_records,
};

/** Coarse groups of errors, for `ec == tlsx::condition::certificate` style tests. */
enum class condition {
    /// The session ended without close_notify.
    truncated = 1,
    /// A TLS protocol failure: bad records, fatal alerts, handshake failures.
    protocol,
    /// The peer's certificate failed verification.
    certificate,
    /// The transport (socket, pipe) failed.
    transport,
    /// The application's configuration was rejected (bad PEM, password, ciphersuite name).
    configuration,
};

/// The category of @ref error values, named "tlsx".
/// @return The one instance of the category.
const boost::system::error_category& tlsx_category() noexcept;

/** The category of raw mbedTLS error codes, named "tlsx.mbedtls".

    The value is the negative code mbedTLS returned, so `ec.value() == MBEDTLS_ERR_...` works. The
    message is `mbedtls_strerror`'s text, followed by what it usually means for the user.

    @return The one instance of the category.
*/
const boost::system::error_category& mbedtls_category() noexcept;

/** The category of fatal alerts received from the peer, named "tlsx.alert".

    The value is the alert number from RFC 5246 (e.g. 40 for handshake_failure); the message
    names the alert.

    @return The one instance of the category.
*/
const boost::system::error_category& alert_category() noexcept;

/// The category of @ref condition values, named "tlsx.condition".
/// @return The one instance of the category.
const boost::system::error_category& condition_category() noexcept;

/// Makes an error_code from a tlsx error (found by ADL).
/// @param e The error.
/// @return The code, in @ref tlsx_category.
inline error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), tlsx_category()};
}

/// Makes an error_condition from a tlsx condition (found by ADL).
/// @param c The condition.
/// @return The condition, in @ref condition_category.
inline boost::system::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

/// Writes "tlsx:N (message)", as error_code's own operator<< does, for logs and test output.
/// @param os The stream written to.
/// @param e The error.
/// @return `os`.
inline std::ostream& operator<<(std::ostream& os, error e) {
    return os << make_error_code(e) << " (" << make_error_code(e).message() << ")";
}

/// Writes the condition's category and value ("tlsx.condition:N").
/// @param os The stream written to.
/// @param c The condition.
/// @return `os`.
inline std::ostream& operator<<(std::ostream& os, condition c) {
    return os << make_error_condition(c).category().name() << ":" << static_cast<int>(c);
}

/// Makes an error_code from a raw (negative) mbedTLS return value.
/// @param mbedtls_code The value an mbedTLS function returned.
/// @return The code, in @ref mbedtls_category.
inline error_code make_mbedtls_error(int mbedtls_code) noexcept {
    return {mbedtls_code, mbedtls_category()};
}

} // namespace tlsx

namespace boost {
namespace system {
/// Makes tlsx::error convertible to error_code, so that `ec == tlsx::error::x` works.
template <>
struct is_error_code_enum<::tlsx::error> : std::true_type {};
/// Makes tlsx::condition an error_condition, so that `ec == tlsx::condition::x` works.
template <>
struct is_error_condition_enum<::tlsx::condition> : std::true_type {};
} // namespace system
} // namespace boost

#endif
