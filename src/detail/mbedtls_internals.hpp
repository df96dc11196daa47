//
// src/detail/mbedtls_internals.hpp — the one room that reaches into mbedTLS's private state,
// and where every difference between mbedTLS 2.28 and 3.x lives.
//
// mbedTLS's public API does not say everything the engine must know: whether a handshake was
// resumed, what the record mbedTLS just read said, how to undo a refused renegotiation. Each such
// access is one named function here, so that nothing else includes ssl_internal.h or names a
// private field, and a port to another mbedTLS release is a change to this file alone. Version
// checks (2.28 / 3.x) live here and nowhere else: the second half of the file names each difference
// of the public API (versions, groups, key parsing, key export, PSA start-up) as a function the
// rest of the library calls without an #if.
//
#ifndef TLSX_SRC_DETAIL_MBEDTLS_INTERNALS_HPP
#define TLSX_SRC_DETAIL_MBEDTLS_INTERNALS_HPP

#include <mbedtls/version.h>
#include <mbedtls/platform.h>
#include <mbedtls/pk.h>
#include <mbedtls/ecp.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/dhm.h>
#if MBEDTLS_VERSION_MAJOR >= 3
#include <mbedtls/entropy.h>
#include <psa/crypto.h>
#else
#include <mbedtls/bignum.h>
#endif
#if MBEDTLS_VERSION_MAJOR < 3
#include <mbedtls/ssl_internal.h> // handshake params, transforms
#endif
// 3.x installs no internal header (ssl_misc.h stays in its source tree): what 2.x reads from
// ssl_internal.h is either done another way below, or (the renegotiation policies, on the 3.6
// series only) declared here from ssl_misc.h. The private fields of the public structures are
// named with MBEDTLS_PRIVATE, here only.
#if MBEDTLS_VERSION_NUMBER >= 0x03060000 && MBEDTLS_VERSION_NUMBER <= 0x0306FFFF &&                \
    defined(MBEDTLS_SSL_RENEGOTIATION) && defined(MBEDTLS_SSL_PROTO_TLS1_2)
/** What the renegotiation policies need from mbedTLS 3.6 beyond its public API: the undo of a
    client renegotiation that the server refused (abandon_renegotiation()).

    These functions are defined and exported by libmbedtls 3.6 (`nm -D libmbedtls.so.3.6.6` lists
    both as T), but declared only in library/ssl_misc.h, which is not installed. The prototypes
    below are copied from ssl_misc.h of mbedTLS 3.6.6; C linkage checks no types, so this block
    is limited to the 3.6 series, and a new series must be checked against its ssl_misc.h
    before it is let in.
*/
extern "C" {
// library/ssl_misc.h (3.6.6): free what ssl->handshake references (not the pointer itself).
void mbedtls_ssl_handshake_free(mbedtls_ssl_context* ssl);
// library/ssl_misc.h (3.6.6): free what a transform references (not the pointer itself).
void mbedtls_ssl_transform_free(mbedtls_ssl_transform* transform);
}
#define TLSX_MBEDTLS36_RENEGOTIATION_INTERNALS 1
#else
#define TLSX_MBEDTLS36_RENEGOTIATION_INTERNALS 0
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

// The versions tlsx builds against, and the features it needs from them.
#if MBEDTLS_VERSION_MAJOR < 2 || MBEDTLS_VERSION_MAJOR > 3 ||                                      \
    (MBEDTLS_VERSION_MAJOR == 2 && MBEDTLS_VERSION_MINOR < 28)
#error "tlsx needs mbedTLS 2.28 or 3.x"
#endif
#if !defined(MBEDTLS_SSL_ALPN) || !defined(MBEDTLS_SSL_SERVER_NAME_INDICATION) ||                  \
    (MBEDTLS_VERSION_MAJOR < 3 && !defined(MBEDTLS_SSL_EXPORT_KEYS)) ||                            \
    !defined(MBEDTLS_X509_CRT_WRITE_C) || !defined(MBEDTLS_PEM_WRITE_C) || !defined(MBEDTLS_FS_IO)
#error "tlsx needs an mbedTLS built with ALPN, SNI, key export, certificate writing and file I/O"
#endif

/// Whether this mbedTLS can negotiate TLS 1.3 (3.x built with MBEDTLS_SSL_PROTO_TLS1_3).
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define TLSX_HAS_TLS1_3 1
#else
#define TLSX_HAS_TLS1_3 0
#endif

/// Whether the renegotiation policies can run (TLS 1.2 sessions): they need the undo below,
/// written against mbedTLS 2.28's ssl_internal.h and 3.6's ssl_misc.h. Elsewhere
/// renegotiation.cpp compiles a refusing stub.
#if (MBEDTLS_VERSION_MAJOR < 3 && defined(MBEDTLS_SSL_RENEGOTIATION)) ||                           \
    TLSX_MBEDTLS36_RENEGOTIATION_INTERNALS
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

/** A protocol version field read as its integer. mbedTLS may hold a peer's raw wire version
    there (while it parses a ClientHello; in a session being loaded), which is no value of the
    enum, and loading that as the enum is undefined behaviour (UBSan's invalid enum load: found
    by the fuzz_server target). */
template <class Enum>
inline int version_value(const Enum& field) noexcept {
    std::underlying_type_t<Enum> v;
    std::memcpy(&v, &field, sizeof v);
    return static_cast<int>(v);
}

/// Whether the session negotiated TLS 1.3 (after the handshake).
inline bool negotiated_tls13(const mbedtls_ssl_context& ssl) noexcept {
#if TLSX_HAS_TLS1_3
    return version_value(ssl.TLSX_MBEDTLS_FIELD(tls_version)) == MBEDTLS_SSL_VERSION_TLS1_3;
#else
    (void)ssl;
    return false;
#endif
}

/// The handshake's state (MBEDTLS_SSL_HELLO_REQUEST ... MBEDTLS_SSL_HANDSHAKE_OVER and 3.x's
/// TLS 1.3 states): a step that moves it took a handshake message in (the flood guard).
inline int handshake_state(const mbedtls_ssl_context& ssl) noexcept {
    return static_cast<int>(ssl.TLSX_MBEDTLS_FIELD(state));
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

/// The verify mode (MBEDTLS_SSL_VERIFY_NONE < OPTIONAL < REQUIRED) that a configuration gives
/// the handshakes it starts.
inline int conf_authmode(const mbedtls_ssl_config& conf) noexcept {
    return conf.TLSX_MBEDTLS_FIELD(authmode);
}

/// The verification flags of the handshake in progress (or that just failed): during a
/// renegotiation mbedtls_ssl_get_verify_result reports the old session's, not the new one's.
inline std::uint32_t handshake_verify_result(const mbedtls_ssl_context& ssl) noexcept {
    const mbedtls_ssl_session* s = ssl.TLSX_MBEDTLS_FIELD(session_negotiate);
    if (s && s != ssl.TLSX_MBEDTLS_FIELD(session))
        return s->TLSX_MBEDTLS_FIELD(verify_result);
    return mbedtls_ssl_get_verify_result(&ssl);
}

/// Whether mbedTLS holds part of a record it has not finished reading (so a transport EOF now
/// cuts a record short).
inline bool record_partly_read(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(in_left) != 0;
}

// ---- records ----------------------------------------------------------------------------------

/// What the record layer holds as the current message (the record mbedTLS read last).
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

/// Whether the current record is kept for the next mbedTLS call to process.
inline bool current_record_kept(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(keep_current_message) != 0;
}

/// Whether mbedTLS holds an unsent part of a record (never with the engine's send callback,
/// which always accepts everything; checked anyway before skipping mbedtls_ssl_read).
inline bool output_pending(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(out_left) != 0;
}

/// Let the next mbedTLS read drop the current record instead of processing it again (a record
/// mbedTLS kept for a handshake step that will not run).
inline void drop_current_record(mbedtls_ssl_context& ssl) noexcept {
    ssl.TLSX_MBEDTLS_FIELD(keep_current_message) = 0;
}

// ---- renegotiation ----------------------------------------------------------------------------

/// Whether the peer offered RFC 5746 secure renegotiation in the first handshake.
inline bool peer_supports_secure_renegotiation(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(secure_renegotiation) == MBEDTLS_SSL_SECURE_RENEGOTIATION;
}

/// The values of mbedTLS's renegotiation status: MBEDTLS_SSL_INITIAL_HANDSHAKE,
/// _RENEGOTIATION_IN_PROGRESS, _DONE and _PENDING of 2.28's ssl_internal.h, the same values in
/// 3.6.6's library/ssl_misc.h (not installed, so copied here).
enum renegotiation_status_value : int {
    initial_handshake = 0,
    renegotiation_in_progress = 1,
    renegotiation_done = 2,    // done or aborted
    renegotiation_pending = 3, // requested (server only)
};
#if MBEDTLS_VERSION_MAJOR < 3
static_assert(initial_handshake == MBEDTLS_SSL_INITIAL_HANDSHAKE &&
              renegotiation_in_progress == MBEDTLS_SSL_RENEGOTIATION_IN_PROGRESS &&
              renegotiation_done == MBEDTLS_SSL_RENEGOTIATION_DONE &&
              renegotiation_pending == MBEDTLS_SSL_RENEGOTIATION_PENDING);
#endif

/// mbedTLS's renegotiation status (a renegotiation_status_value).
inline int renegotiation_status(const mbedtls_ssl_context& ssl) noexcept {
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    return ssl.TLSX_MBEDTLS_FIELD(renego_status);
#else
    (void)ssl;
    return initial_handshake;
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
/// The same on 2.28 and 3.6: what 3.6's ssl_handshake_init (library/ssl_tls.c) allocates when
/// a renegotiation starts is exactly these three.
inline void abandon_renegotiation(mbedtls_ssl_context& ssl) noexcept {
    mbedtls_ssl_handshake_free(&ssl);
    mbedtls_free(ssl.TLSX_MBEDTLS_FIELD(handshake));
    ssl.TLSX_MBEDTLS_FIELD(handshake) = nullptr;
    if (auto* t = ssl.TLSX_MBEDTLS_FIELD(transform_negotiate)) {
        mbedtls_ssl_transform_free(t);
        mbedtls_free(t);
        ssl.TLSX_MBEDTLS_FIELD(transform_negotiate) = nullptr;
    }
    if (auto* s = ssl.TLSX_MBEDTLS_FIELD(session_negotiate)) {
        mbedtls_ssl_session_free(s);
        mbedtls_free(s);
        ssl.TLSX_MBEDTLS_FIELD(session_negotiate) = nullptr;
    }
    ssl.TLSX_MBEDTLS_FIELD(state) = MBEDTLS_SSL_HANDSHAKE_OVER;
}
#endif

// ==== The public API where 2.28 and 3.x differ ==================================================

// ---- start-up and keys ------------------------------------------------------------------------

/** Start the crypto layer. 3.x computes with PSA Crypto (TLS 1.3's key schedule always), which
    must be initialised first; psa_crypto_init() is idempotent and, with MBEDTLS_THREADING_C,
    thread-safe, so every context calls this. Returns 0, or an mbedTLS error code with the PSA
    status in `status`. */
inline int init_crypto(int& status) noexcept {
    status = 0;
#if MBEDTLS_VERSION_MAJOR >= 3
    const psa_status_t s = psa_crypto_init();
    status = static_cast<int>(s);
    if (s == PSA_SUCCESS)
        return 0;
    return s == PSA_ERROR_INSUFFICIENT_MEMORY    ? MBEDTLS_ERR_SSL_ALLOC_FAILED
           : s == PSA_ERROR_INSUFFICIENT_ENTROPY ? MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
                                                 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
#else
    return 0;
#endif
}

using rng_function = int (*)(void*, unsigned char*, std::size_t);

/// mbedtls_pk_parse_key; 3.x wants a random generator (for blinding), 2.28 takes none.
inline int pk_parse_key(mbedtls_pk_context* key, const unsigned char* data, std::size_t size,
                        const unsigned char* password, std::size_t password_size,
                        rng_function f_rng, void* p_rng) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_parse_key(key, data, size, password, password_size, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_key(key, data, size, password, password_size);
#endif
}

/// mbedtls_pk_check_pair; 3.x wants a random generator, 2.28 takes none.
inline int pk_check_pair(const mbedtls_pk_context* pub, const mbedtls_pk_context* prv,
                         rng_function f_rng, void* p_rng) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

/// Set a certificate's serial from its big-endian bytes (3.x deprecates the mbedtls_mpi form).
inline int x509write_set_serial(mbedtls_x509write_cert* crt, const unsigned char* bytes,
                                std::size_t size) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_x509write_crt_set_serial_raw(crt, const_cast<unsigned char*>(bytes), size);
#else
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    int ret = mbedtls_mpi_read_binary(&serial, bytes, size);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_serial(crt, &serial);
    mbedtls_mpi_free(&serial);
    return ret;
#endif
}

/// The list of own certificate and key pairs that mbedtls_ssl_conf_own_cert built on `conf`
/// (credential reload: a set of pairs is built on a configuration of its own, and each
/// session's copy of the context's configuration points at the set it was set up with).
inline mbedtls_ssl_key_cert* conf_key_cert(const mbedtls_ssl_config& conf) noexcept {
    return conf.TLSX_MBEDTLS_FIELD(key_cert);
}

/// Points `conf` at a pair list owned by another configuration. `conf` must then never be freed
/// with mbedtls_ssl_config_free (a session's shallow copy never is).
inline void conf_use_key_cert(mbedtls_ssl_config& conf, mbedtls_ssl_key_cert* list) noexcept {
    conf.TLSX_MBEDTLS_FIELD(key_cert) = list;
}

/// The error for a server with no usable certificate and key: 3.x has no
/// MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED, so both cases are PRIVATE_KEY_REQUIRED there.
inline int no_credentials_error(bool has_certificates) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    (void)has_certificates;
    return MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED;
#else
    return has_certificates ? MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED
                            : MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED;
#endif
}

/** Let a client verify the server's chain without a host name (the application chose
    chain-only verification). 3.6.3 and later fail such a handshake
    (MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME, CVE-2025-27809) unless the host
    name is set to NULL explicitly; earlier versions check no name when none was set. */
inline void verify_without_host_name(mbedtls_ssl_context& ssl) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    (void)mbedtls_ssl_set_hostname(&ssl, nullptr);
#else
    (void)ssl;
#endif
}

// ---- protocol versions and groups -------------------------------------------------------------

/// A TLS version as tlsx numbers them: 0 = 1.0, 1 = 1.1, 2 = 1.2, 3 = 1.3.
enum class version_fit {
    fits,        // this mbedTLS has it
    raised,      // below what this mbedTLS has: as a minimum it means TLS 1.2 (3.x)
    unsupported, // not in this mbedTLS (as a maximum: below 1.2 on 3.x; 1.3 on 2.28)
};

/// What this mbedTLS makes of `minor` (0..3 for TLS 1.0..1.3) as the minimum or the maximum.
inline version_fit fit_version(int minor, bool is_max) noexcept {
    if (minor == 3)
        return TLSX_HAS_TLS1_3 ? version_fit::fits : version_fit::unsupported;
#if MBEDTLS_VERSION_MAJOR >= 3
    if (minor < 2) // 3.x has TLS 1.2 and 1.3 only
        return is_max ? version_fit::unsupported : version_fit::raised;
#endif
    (void)is_max;
    return version_fit::fits;
}

/// Set one end of a configuration's version range to `minor` (fit_version() did not say
/// unsupported).
inline void conf_version_bound(mbedtls_ssl_config* conf, int minor, bool is_max) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    const mbedtls_ssl_protocol_version v =
        minor >= 3 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2;
    if (is_max)
        mbedtls_ssl_conf_max_tls_version(conf, v);
    else
        mbedtls_ssl_conf_min_tls_version(conf, v);
#else
    // On the wire TLS 1.x is version 3.(x+1).
    if (is_max)
        mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor + 1);
    else
        mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor + 1);
#endif
}

/// tlsx's default versions: TLS 1.2 up to the highest this mbedTLS has.
inline void conf_default_versions(mbedtls_ssl_config* conf) noexcept {
    conf_version_bound(conf, 2, false);
    conf_version_bound(conf, TLSX_HAS_TLS1_3 ? 3 : 2, true);
}

/** tlsx's default key-exchange groups, cheapest first: mbedTLS's own default puts P-521 first,
    which made handshakes with GnuTLS peers several times slower. 3.x names them by IANA group
    number (the same list serves TLS 1.3 key shares). */
inline void conf_default_groups(mbedtls_ssl_config* conf) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    static const std::uint16_t groups[] = {
        MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
    mbedtls_ssl_conf_groups(conf, groups);
#else
    static const mbedtls_ecp_group_id curves[] = {
        MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
        MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE};
    mbedtls_ssl_conf_curves(conf, curves);
#endif
}

/// A key-exchange group as this mbedTLS's configuration lists them: the IANA group number on
/// 3.x (one list for TLS 1.2's ECDHE and TLS 1.3's key shares), the curve id on 2.28.
#if MBEDTLS_VERSION_MAJOR >= 3
using group_id = std::uint16_t;
inline constexpr group_id no_group = MBEDTLS_SSL_IANA_TLS_GROUP_NONE;
#else
using group_id = mbedtls_ecp_group_id;
inline constexpr group_id no_group = MBEDTLS_ECP_DP_NONE;
#endif

/// The group this mbedTLS build knows by `name` (mbedTLS's curve name in lower case:
/// "x25519", "secp256r1", ...), or no_group.
inline group_id group_from_name(const char* name) noexcept {
    const mbedtls_ecp_curve_info* info = mbedtls_ecp_curve_info_from_name(name);
    if (!info)
        return no_group;
#if MBEDTLS_VERSION_MAJOR >= 3
    return info->tls_id;
#else
    return info->grp_id;
#endif
}

/// Set a configuration's groups, most preferred first; `list` ends with no_group and must
/// outlive the configuration.
inline void conf_groups(mbedtls_ssl_config* conf, const group_id* list) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_ssl_conf_groups(conf, list);
#else
    mbedtls_ssl_conf_curves(conf, list);
#endif
}

// ---- key export (the NSS key log) -------------------------------------------------------------

/// Where exported secrets go: an NSS key-log label (CLIENT_RANDOM, CLIENT_TRAFFIC_SECRET_0,
/// ...), the ClientHello random (32 bytes) and the secret.
struct keylog_target {
    void (*sink)(void* p, const char* label, const unsigned char* client_random,
                 const unsigned char* secret, std::size_t size) = nullptr;
    void* p = nullptr;
};

#if MBEDTLS_VERSION_MAJOR >= 3
/// 3.x exports each secret once derived: TLS 1.2's master secret, TLS 1.3's traffic secrets.
/// Early data is off in tlsx; the exporter secret has no NSS line.
inline void keylog_trampoline(void* p, mbedtls_ssl_key_export_type type,
                              const unsigned char* secret, std::size_t secret_size,
                              const unsigned char client_random[32], const unsigned char[32],
                              mbedtls_tls_prf_types) {
    const char* label = nullptr;
    switch (type) {
    case MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET:
        label = "CLIENT_RANDOM";
        break;
#if TLSX_HAS_TLS1_3
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_EARLY_SECRET:
        label = "CLIENT_EARLY_TRAFFIC_SECRET";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_HANDSHAKE_TRAFFIC_SECRET:
        label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_HANDSHAKE_TRAFFIC_SECRET:
        label = "SERVER_HANDSHAKE_TRAFFIC_SECRET";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET:
        label = "CLIENT_TRAFFIC_SECRET_0";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET:
        label = "SERVER_TRAFFIC_SECRET_0";
        break;
#endif
    default:
        return;
    }
    const auto& t = *static_cast<const keylog_target*>(p);
    t.sink(t.p, label, client_random, secret, secret_size);
}
#else
/// 2.28 exports TLS 1.2's master secret (48 bytes) with the randoms.
inline int keylog_trampoline(void* p, const unsigned char* master_secret, const unsigned char*,
                             std::size_t, std::size_t, std::size_t,
                             const unsigned char client_random[32], const unsigned char[32],
                             mbedtls_tls_prf_types) {
    const auto& t = *static_cast<const keylog_target*>(p);
    t.sink(t.p, "CLIENT_RANDOM", client_random, master_secret, 48);
    return 0;
}
#endif

/// Key export on a configuration (2.28, where it is set per configuration; a no-op on 3.x).
/// `target` null switches it off.
inline void conf_keylog(mbedtls_ssl_config* conf, const keylog_target* target) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    (void)conf;
    (void)target;
#else
    mbedtls_ssl_conf_export_keys_ext_cb(conf, target ? keylog_trampoline : nullptr,
                                        const_cast<keylog_target*>(target));
#endif
}

/// Key export on a session being set up (3.x, where it is set per session; a no-op on 2.28,
/// whose sessions take it from their configuration).
inline void ssl_keylog(mbedtls_ssl_context& ssl, const keylog_target* target) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    if (target)
        mbedtls_ssl_set_export_keys_cb(&ssl, keylog_trampoline, const_cast<keylog_target*>(target));
#else
    (void)ssl;
    (void)target;
#endif
}

// ==== Session tickets ===========================================================================
//
// A TLS 1.2 ticket comes inside the handshake (NewSessionTicket before the server's Finished), on
// 2.28 and 3.x alike: the session of the finished handshake carries it. A TLS 1.3 ticket (3.x)
// comes after the handshake, at any time, in a NewSessionTicket message that a read meets. A 3.6
// client ignores those unless told to signal them; then the read that meets one returns
// WANT_READ with the state left at MBEDTLS_SSL_TLS1_3_NEW_SESSION_TICKET (nothing more to
// receive), and the next mbedTLS call (read, write or handshake) takes the ticket into the
// session and returns MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET. From then on
// mbedtls_ssl_get_session exports the session of that ticket, once (3.x exports each session
// once; 2.28 as often as asked). A 3.6 server sends its tickets as the last steps of its
// handshake (see handshake_over), mbedtls_ssl_conf_new_session_tickets of them after a full
// handshake and at most one after a resumed one.

#if TLSX_HAS_TLS1_3 && defined(MBEDTLS_SSL_SESSION_TICKETS)
#define TLSX_HAS_TLS13_TICKETS 1
#else
#define TLSX_HAS_TLS13_TICKETS 0
#endif

/// Have a client session report each TLS 1.3 ticket it receives (3.x; nothing to do on 2.28).
inline void conf_signal_tickets(mbedtls_ssl_config* conf) noexcept {
#if TLSX_HAS_TLS13_TICKETS && defined(MBEDTLS_SSL_CLI_C)
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#else
    (void)conf;
#endif
}

/// Whether an mbedTLS call returned because it took a TLS 1.3 ticket in (not an error).
inline bool ticket_signalled(int ret) noexcept {
#if TLSX_HAS_TLS13_TICKETS
    return ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
#else
    (void)ret;
    return false;
#endif
}

/// Whether a read stopped at a TLS 1.3 ticket it has yet to take in: its WANT_READ needs no
/// input, the next call goes on.
inline bool ticket_parked(const mbedtls_ssl_context& ssl) noexcept {
#if TLSX_HAS_TLS13_TICKETS
    return ssl.MBEDTLS_PRIVATE(state) == MBEDTLS_SSL_TLS1_3_NEW_SESSION_TICKET;
#else
    (void)ssl;
    return false;
#endif
}

/// How many tickets a TLS 1.3 server sends after a full handshake (a no-op without TLS 1.3).
inline void conf_tickets_per_handshake(mbedtls_ssl_config* conf, std::uint16_t n) noexcept {
#if TLSX_HAS_TLS13_TICKETS && defined(MBEDTLS_SSL_SRV_C)
    mbedtls_ssl_conf_new_session_tickets(conf, n);
#else
    (void)conf;
    (void)n;
#endif
}

/// Whether a saved session is a TLS 1.3 one (a ticket and its resumption secret).
inline bool session_is_tls13(const mbedtls_ssl_session& s) noexcept {
#if TLSX_HAS_TLS1_3
    return version_value(s.MBEDTLS_PRIVATE(tls_version)) == MBEDTLS_SSL_VERSION_TLS1_3;
#else
    (void)s;
    return false;
#endif
}

/** Whether a configuration's versions include a saved session's. 3.x resumes in the session's
    version whatever the configuration says: a TLS 1.3 session under a client capped at 1.2
    would negotiate 1.3, and a 1.2 session makes the client offer 1.2 only. (2.28 sessions carry
    no version; the server's answer decides.) */
inline bool session_version_allowed(const mbedtls_ssl_config& conf,
                                    const mbedtls_ssl_session& s) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    const int v = version_value(s.MBEDTLS_PRIVATE(tls_version));
    return v >= version_value(conf.MBEDTLS_PRIVATE(min_tls_version)) &&
           v <= version_value(conf.MBEDTLS_PRIVATE(max_tls_version));
#else
    (void)conf;
    (void)s;
    return true;
#endif
}

/// The ticket a client's session holds (null and 0 when none).
struct ticket_view {
    const unsigned char* data = nullptr;
    std::size_t size = 0;
};

inline ticket_view session_ticket(const mbedtls_ssl_session& s) noexcept {
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    return {s.TLSX_MBEDTLS_FIELD(ticket), s.TLSX_MBEDTLS_FIELD(ticket_len)};
#else
    (void)s;
    return {};
#endif
}

/// The session of the connection (that of its last finished handshake), or null.
inline const mbedtls_ssl_session* current_session(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(session);
}

// ---- Diffie-Hellman parameters (context::use_tmp_dh) -----------------------------------------

/** Parse DH parameters (PEM with its NUL counted, or DER) and install them on a server
    configuration. 2.28 has the prime and generator as public members; 3.x gives them out through
    mbedtls_dhm_get_value. Returns an mbedTLS error, or 1 when the prime has under `min_bits`
    bits, or 2 when this mbedTLS build has no DHM module. */
inline int conf_dh_params(mbedtls_ssl_config* conf, const unsigned char* in, std::size_t len,
                          std::size_t min_bits, std::size_t& bits) noexcept {
#if defined(MBEDTLS_DHM_C)
    mbedtls_dhm_context dhm;
    mbedtls_dhm_init(&dhm);
    mbedtls_mpi p, g;
    mbedtls_mpi_init(&p);
    mbedtls_mpi_init(&g);
    unsigned char pb[MBEDTLS_MPI_MAX_SIZE], gb[MBEDTLS_MPI_MAX_SIZE];
    int ret = mbedtls_dhm_parse_dhm(&dhm, in, len);
    if (ret == 0) {
#if MBEDTLS_VERSION_MAJOR >= 3
        bits = mbedtls_dhm_get_bitlen(&dhm);
        ret = mbedtls_dhm_get_value(&dhm, MBEDTLS_DHM_PARAM_P, &p);
        if (ret == 0)
            ret = mbedtls_dhm_get_value(&dhm, MBEDTLS_DHM_PARAM_G, &g);
#else
        bits = mbedtls_mpi_bitlen(&dhm.P);
        ret = mbedtls_mpi_copy(&p, &dhm.P);
        if (ret == 0)
            ret = mbedtls_mpi_copy(&g, &dhm.G);
#endif
    }
    if (ret == 0 && bits < min_bits)
        ret = 1;
    const std::size_t plen = mbedtls_mpi_size(&p), glen = mbedtls_mpi_size(&g);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&p, pb, plen);
    if (ret == 0)
        ret = mbedtls_mpi_write_binary(&g, gb, glen);
#if defined(MBEDTLS_SSL_SRV_C)
    if (ret == 0 && conf)
        ret = mbedtls_ssl_conf_dh_param_bin(conf, pb, plen, gb, glen);
#endif
    mbedtls_mpi_free(&p);
    mbedtls_mpi_free(&g);
    mbedtls_dhm_free(&dhm);
    return ret;
#else
    (void)conf, (void)in, (void)len, (void)min_bits, (void)bits;
    return 2;
#endif
}

} // namespace internals
} // namespace detail
} // namespace tlsx

// ==== Key update ================================================================================
//
// mbedTLS 3.6 neither sends nor receives a TLS 1.3 KeyUpdate (RFC 8446 4.6.3): a peer's makes
// mbedtls_ssl_read fail with UNEXPECTED_MESSAGE, with the message still in in_msg. tlsx does the
// key update itself from the pieces of 3.6's key schedule, which are exported by libmbedtls but
// declared only in headers 3.6 does not install (library/ssl_tls13_keys.h, library/ssl_misc.h):
// the next secret is HKDF-Expand-Label(secret, "traffic upd", "", Hash.length), its keys are
// HKDF-Expand-Label(secret, "key"/"iv", "", length) (RFC 8446 7.3; both computed here by the
// SHA modules, no heap: mbedTLS's own goes through PSA, which allocates), and
// mbedtls_ssl_tls13_populate_transform turns them into a record transform (later generations
// re-key that transform's cipher contexts in place, through tlsx_mbedtls36_transform_head)
// that becomes the session's transform_in or transform_out (what
// mbedtls_ssl_set_inbound/outbound_transform of library/ssl_msg.c do: set the pointer, zero the
// sequence number; those two are not exported by the shared library, so done here). A KeyUpdate
// is written as a handshake record with mbedtls_ssl_write_record: mbedtls_ssl_write_handshake_msg
// refuses any message but HelloRequest outside a handshake. The first-generation secrets come
// from the key-export callback (public API), so no private session field is read for them.
//
// C linkage checks no types: this block is limited to the 3.6 series, whose prototypes below
// were copied from mbedTLS 3.6.6 (each verified with `nm -D libmbedtls.so.3.6.6`: T). A later
// mbedTLS with a native KeyUpdate would replace all of it (see docs/design.md, "Key update").

#if TLSX_HAS_TLS1_3 && MBEDTLS_VERSION_NUMBER >= 0x03060000 && MBEDTLS_VERSION_NUMBER <= 0x0306FFFF
#define TLSX_HAS_KEY_UPDATE 1
#else
#define TLSX_HAS_KEY_UPDATE 0
#endif

#if TLSX_HAS_KEY_UPDATE
#include <mbedtls/cipher.h>
#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

/// library/ssl_misc.h (3.6.6): MBEDTLS_SSL_SOME_SUITES_USE_MAC, recomputed from the public
/// configuration (config_adjust_legacy_crypto.h defines the MBEDTLS_SSL_HAVE_* it tests).
#if defined(MBEDTLS_SSL_PROTO_TLS1_2) &&                                                           \
    (defined(MBEDTLS_CIPHER_NULL_CIPHER) ||                                                        \
     (defined(MBEDTLS_SSL_HAVE_CBC) &&                                                             \
      (defined(MBEDTLS_SSL_HAVE_AES) || defined(MBEDTLS_SSL_HAVE_CAMELLIA) ||                      \
       defined(MBEDTLS_SSL_HAVE_ARIA))))
#define TLSX_MBEDTLS36_SOME_SUITES_USE_MAC 1
#else
#define TLSX_MBEDTLS36_SOME_SUITES_USE_MAC 0
#endif

/** The head of library/ssl_misc.h (3.6.6) struct mbedtls_ssl_transform up to its cipher
    contexts, field for field under the same conditions (without MBEDTLS_USE_PSA_CRYPTO: with
    it the transform holds PSA key ids and this is not used). Read only after a transform
    populated by mbedTLS was checked to match it (transform_head_matches). */
struct tlsx_mbedtls36_transform_head {
    std::size_t minlen;
    std::size_t ivlen;
    std::size_t fixed_ivlen;
    std::size_t maclen;
    std::size_t taglen;
    unsigned char iv_enc[16];
    unsigned char iv_dec[16];
#if TLSX_MBEDTLS36_SOME_SUITES_USE_MAC
    mbedtls_md_context_t md_ctx_enc;
    mbedtls_md_context_t md_ctx_dec;
#if defined(MBEDTLS_SSL_ENCRYPT_THEN_MAC)
    int encrypt_then_mac;
#endif
#endif
    mbedtls_ssl_protocol_version tls_version;
    mbedtls_cipher_context_t cipher_ctx_enc;
    mbedtls_cipher_context_t cipher_ctx_dec;
};

/// library/ssl_misc.h (3.6.6) struct mbedtls_ssl_key_set, with MBEDTLS_SSL_MAX_KEY_LENGTH 32 and
/// MBEDTLS_SSL_MAX_IV_LENGTH 16 (fixed values there, not configuration options).
struct tlsx_mbedtls36_key_set {
    unsigned char client_write_key[32];
    unsigned char server_write_key[32];
    unsigned char client_write_iv[16];
    unsigned char server_write_iv[16];
    std::size_t key_len;
    std::size_t iv_len;
};

extern "C" {
// library/ssl_tls13_keys.h (3.6.6)
int mbedtls_ssl_tls13_hkdf_expand_label(psa_algorithm_t hash_alg, const unsigned char* secret,
                                        std::size_t secret_len, const unsigned char* label,
                                        std::size_t label_len, const unsigned char* ctx,
                                        std::size_t ctx_len, unsigned char* buf,
                                        std::size_t buf_len);
// library/ssl_tls13_keys.h (3.6.6)
int mbedtls_ssl_tls13_populate_transform(mbedtls_ssl_transform* transform, int endpoint,
                                         int ciphersuite,
                                         const tlsx_mbedtls36_key_set* traffic_keys,
                                         mbedtls_ssl_context* ssl);
// library/ssl_misc.h (3.6.6)
void mbedtls_ssl_transform_init(mbedtls_ssl_transform* transform);
// library/ssl_misc.h (3.6.6): free what a transform references (not the pointer itself).
void mbedtls_ssl_transform_free(mbedtls_ssl_transform* transform);
// library/ssl_misc.h (3.6.6)
int mbedtls_ssl_write_record(mbedtls_ssl_context* ssl, int force_flush);
}
#endif

namespace tlsx {
namespace detail {
namespace internals {

/// The largest TLS 1.3 traffic secret (SHA-384).
inline constexpr std::size_t max_traffic_secret = 48;

/** Room for one mbedtls_ssl_transform, an incomplete type outside library/ssl_misc.h:
    sizeof(mbedtls_ssl_transform) is 456 (alignment 8) in 3.6.6 with tlsx's configuration
    (measured with that ssl_misc.h); the fields that could grow it (connection IDs, MAC
    contexts) are bounded well below this. */
struct alignas(std::max_align_t) transform_storage {
    unsigned char bytes[1024];
    bool in_use = false;    // initialised (and populated): free before reuse
    bool rekeyable = false; // its head matched tlsx_mbedtls36_transform_head when populated
    int suite = 0;          // the ciphersuite it was populated for
    mbedtls_ssl_transform* get() noexcept {
        return reinterpret_cast<mbedtls_ssl_transform*>(bytes);
    }
};

/// What a TLS 1.3 suite's key schedule needs.
struct tls13_suite {
    int id = 0;
    int cipher = 0; // mbedtls_cipher_type_t
#if TLSX_HAS_KEY_UPDATE
    psa_algorithm_t hash = 0;
#endif
    std::size_t hash_len = 0;
    std::size_t key_len = 0;
    std::size_t iv_len = 0;
};

/// The negotiated suite's hash and key lengths (a TLS 1.3 session); false when unknown.
inline bool negotiated_suite(const mbedtls_ssl_context& ssl, tls13_suite& s) noexcept {
#if TLSX_HAS_KEY_UPDATE
    s.id = mbedtls_ssl_get_ciphersuite_id_from_ssl(&ssl);
    const mbedtls_ssl_ciphersuite_t* info = mbedtls_ssl_ciphersuite_from_id(s.id);
    if (!info)
        return false;
    switch (static_cast<mbedtls_md_type_t>(info->MBEDTLS_PRIVATE(mac))) {
    case MBEDTLS_MD_SHA256:
        s.hash = PSA_ALG_SHA_256;
        break;
    case MBEDTLS_MD_SHA384:
        s.hash = PSA_ALG_SHA_384;
        break;
    default:
        return false;
    }
    s.cipher = info->MBEDTLS_PRIVATE(cipher);
    s.hash_len = PSA_HASH_LENGTH(s.hash);
    s.key_len = mbedtls_ssl_ciphersuite_get_cipher_key_bitlen(info) / 8;
    s.iv_len = 12; // every TLS 1.3 AEAD (RFC 8446 5.3)
    return s.hash_len <= max_traffic_secret && s.key_len != 0 && s.key_len <= 32;
#else
    (void)ssl;
    (void)s;
    return false;
#endif
}

#if TLSX_HAS_KEY_UPDATE
/** H(a || b) with the suite's hash (SHA-256 or SHA-384), by the hash modules directly: their
    contexts live on the stack (mbedtls_md_setup and PSA's HMAC allocate). 0 or an error. */
inline int hash_two(const tls13_suite& s, const unsigned char* a, std::size_t a_len,
                    const unsigned char* b, std::size_t b_len, unsigned char* out) noexcept {
    int ret;
    if (s.hash == PSA_ALG_SHA_256) {
        mbedtls_sha256_context c;
        mbedtls_sha256_init(&c);
        if ((ret = mbedtls_sha256_starts(&c, 0)) == 0 &&
            (ret = mbedtls_sha256_update(&c, a, a_len)) == 0 &&
            (ret = mbedtls_sha256_update(&c, b, b_len)) == 0)
            ret = mbedtls_sha256_finish(&c, out);
        mbedtls_sha256_free(&c);
    } else {
        mbedtls_sha512_context c;
        mbedtls_sha512_init(&c);
        if ((ret = mbedtls_sha512_starts(&c, 1)) == 0 && // 1: SHA-384
            (ret = mbedtls_sha512_update(&c, a, a_len)) == 0 &&
            (ret = mbedtls_sha512_update(&c, b, b_len)) == 0)
            ret = mbedtls_sha512_finish(&c, out);
        mbedtls_sha512_free(&c);
    }
    return ret;
}
#endif

/** HKDF-Expand-Label(secret, label, "", length) of RFC 8446 7.1 with the suite's hash, for
    length <= Hash.length (one HMAC block: every TLS 1.3 secret, key and IV). Computed here,
    with no heap allocation, rather than by mbedtls_ssl_tls13_hkdf_expand_label, whose PSA key
    derivation allocates; test/key_update.cpp checks both give the same bytes. 0 or an
    mbedTLS error. */
inline int hkdf_expand_label(const tls13_suite& s, const unsigned char* secret, const char* label,
                             unsigned char* out, std::size_t length) noexcept {
#if TLSX_HAS_KEY_UPDATE
    const std::size_t label_len = std::strlen(label);
    const std::size_t block = s.hash == PSA_ALG_SHA_256 ? 64 : 128;
    if ((s.hash != PSA_ALG_SHA_256 && s.hash != PSA_ALG_SHA_384) || length > s.hash_len ||
        label_len > 249 || s.hash_len > block)
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    // HkdfLabel { uint16 length; opaque label<7..255> = "tls13 " + label; opaque context<0..255>
    // = ""; } followed by HKDF-Expand's block counter 0x01 (RFC 5869 2.3: T(1) is all we need).
    unsigned char info[2 + 1 + 255 + 1 + 1];
    std::size_t n = 0;
    info[n++] = static_cast<unsigned char>(length >> 8);
    info[n++] = static_cast<unsigned char>(length);
    info[n++] = static_cast<unsigned char>(6 + label_len);
    std::memcpy(info + n, "tls13 ", 6);
    n += 6;
    std::memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = 0; // empty context
    info[n++] = 1; // T(1)
    // HMAC(secret, info) = H(secret ^ opad || H(secret ^ ipad || info)) (RFC 2104); the secret
    // (Hash.length) is shorter than a block, so it is the key as it is, zero-padded.
    unsigned char pad[128];
    unsigned char inner[max_traffic_secret];
    std::memset(pad, 0x36, block);
    for (std::size_t i = 0; i < s.hash_len; ++i)
        pad[i] ^= secret[i];
    int ret = hash_two(s, pad, block, info, n, inner);
    if (ret == 0) {
        for (std::size_t i = 0; i < block; ++i)
            pad[i] ^= 0x36 ^ 0x5c;
        unsigned char t1[max_traffic_secret];
        ret = hash_two(s, pad, block, inner, s.hash_len, t1);
        if (ret == 0)
            std::memcpy(out, t1, length);
        mbedtls_platform_zeroize(t1, sizeof t1);
    }
    mbedtls_platform_zeroize(pad, sizeof pad);
    mbedtls_platform_zeroize(inner, sizeof inner);
    return ret;
#else
    (void)s;
    (void)secret;
    (void)label;
    (void)out;
    (void)length;
    return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
#endif
}

/** mbedTLS's own HKDF-Expand-Label (library/ssl_tls13_keys.c, through PSA), for the test that
    compares hkdf_expand_label with it. 0 or an mbedTLS error. */
inline int mbedtls_hkdf_expand_label(const tls13_suite& s, const unsigned char* secret,
                                     const char* label, unsigned char* out,
                                     std::size_t length) noexcept {
#if TLSX_HAS_KEY_UPDATE
    return mbedtls_ssl_tls13_hkdf_expand_label(s.hash, secret, s.hash_len,
                                               reinterpret_cast<const unsigned char*>(label),
                                               std::strlen(label), nullptr, 0, out, length);
#else
    (void)s;
    (void)secret;
    (void)label;
    (void)out;
    (void)length;
    return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
#endif
}

/// application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)
/// (RFC 8446 7.2), in place. 0 or an mbedTLS error.
inline int next_traffic_secret(const tls13_suite& s, unsigned char* secret) noexcept {
    unsigned char next[max_traffic_secret];
    int ret = hkdf_expand_label(s, secret, "traffic upd", next, s.hash_len);
    if (ret == 0)
        std::memcpy(secret, next, s.hash_len);
    mbedtls_platform_zeroize(next, sizeof next);
    return ret;
}

/// Free a transform made by make_transform (nothing if none).
inline void free_transform(transform_storage& t) noexcept {
#if TLSX_HAS_KEY_UPDATE
    if (t.in_use)
        mbedtls_ssl_transform_free(t.get());
#endif
    t.in_use = false;
    t.rekeyable = false;
}

#if TLSX_HAS_KEY_UPDATE && !defined(MBEDTLS_USE_PSA_CRYPTO)
/// Whether a transform mbedTLS populated for suite `s` has tlsx_mbedtls36_transform_head's
/// layout: both cipher contexts where the head puts them, set up for the suite's cipher, and
/// the IV and tag lengths where it puts them.
inline bool transform_head_matches(mbedtls_ssl_transform* t, const tls13_suite& s) noexcept {
    const auto* h = reinterpret_cast<const tlsx_mbedtls36_transform_head*>(t);
    const mbedtls_cipher_info_t* info =
        mbedtls_cipher_info_from_type(static_cast<mbedtls_cipher_type_t>(s.cipher));
    return info && h->ivlen == s.iv_len && h->fixed_ivlen == s.iv_len && h->maclen == 0 &&
           (h->taglen == 16 || h->taglen == 8) &&
           version_value(h->tls_version) == MBEDTLS_SSL_VERSION_TLS1_3 &&
           h->cipher_ctx_enc.MBEDTLS_PRIVATE(cipher_info) == info &&
           h->cipher_ctx_dec.MBEDTLS_PRIVATE(cipher_info) == info &&
           h->cipher_ctx_enc.MBEDTLS_PRIVATE(cipher_ctx) != nullptr &&
           h->cipher_ctx_dec.MBEDTLS_PRIVATE(cipher_ctx) != nullptr;
}
#endif

#if TLSX_HAS_KEY_UPDATE && !defined(MBEDTLS_USE_PSA_CRYPTO) && defined(MBEDTLS_GCM_C) &&           \
    !defined(MBEDTLS_GCM_ALT) && !defined(MBEDTLS_BLOCK_CIPHER_C)
#define TLSX_MBEDTLS36_GCM_REKEY 1
/// library/gcm.c (3.6.6): the values of mbedtls_gcm_context::acceleration.
inline constexpr unsigned char gcm_acc_aesni = 2, gcm_acc_aesce = 3;

/** mbedtls_gcm_setkey without its allocation, for a context it set up before with a key of the
    same cipher and length: mbedtls_gcm_setkey frees and sets up its AES context anew (a
    calloc) before gcm_gen_table (static in library/gcm.c) computes H = E(K, 0^128) and the
    table of its multiples. Here the AES context takes the new key in place
    (mbedtls_cipher_setkey of an ECB context allocates nothing) and the table is computed as
    gcm_gen_table of 3.6.6 does, for the acceleration mbedtls_gcm_setkey chose (a property of
    the CPU, kept in the context). test/key_update.cpp checks it against mbedtls_gcm_setkey. */
inline int gcm_rekey(mbedtls_gcm_context& g, const unsigned char* key, unsigned bits) noexcept {
    mbedtls_cipher_context_t& aes = g.MBEDTLS_PRIVATE(cipher_ctx);
    int ret = mbedtls_cipher_setkey(&aes, key, static_cast<int>(bits), MBEDTLS_ENCRYPT);
    if (ret != 0)
        return ret;
    unsigned char h[16] = {};
    std::size_t olen = 0;
    if ((ret = mbedtls_cipher_update(&aes, h, 16, h, &olen)) != 0)
        return ret;
    auto& H = g.MBEDTLS_PRIVATE(H);
    constexpr int size = MBEDTLS_GCM_HTABLE_SIZE;
    std::memcpy(H[size / 2], h, 16); // the bytes of H, as gcm_gen_table's u64h
    mbedtls_platform_zeroize(h, sizeof h);
    const unsigned char acc = g.MBEDTLS_PRIVATE(acceleration);
    if (acc == gcm_acc_aesni || acc == gcm_acc_aesce)
        return 0; // carry-less multiplication needs H alone
    // gcm_gen_table's table: H[i] = H times i in GF(2^128), each entry's halves as big-endian
    // 64-bit words (gcm_gen_table_rightshift), then packed as host words (small table only).
    auto get_be = [](const std::uint64_t& w) {
        unsigned char b[8];
        std::memcpy(b, &w, 8);
        std::uint64_t v = 0;
        for (int k = 0; k < 8; ++k)
            v = (v << 8) | b[k];
        return v;
    };
    auto put_be = [](std::uint64_t v, std::uint64_t& w) {
        unsigned char b[8];
        for (int k = 7; k >= 0; --k, v >>= 8)
            b[k] = static_cast<unsigned char>(v);
        std::memcpy(&w, b, 8);
    };
    H[0][0] = 0;
    H[0][1] = 0;
    for (int i = size / 4; i > 0; i >>= 1) {
        const std::uint64_t* src = H[i * 2];
        std::uint64_t* dst = H[i];
        unsigned char s8[16];
        std::memcpy(s8, src, 16);
        put_be(get_be(src[1]) >> 1, dst[1]);
        unsigned char d8[16];
        std::memcpy(d8, dst, 16);
        d8[8] |= static_cast<unsigned char>((s8[7] & 0x01) << 7);
        std::memcpy(dst, d8, 16);
        put_be(get_be(src[0]) >> 1, dst[0]);
        std::memcpy(d8, dst, 16);
        d8[0] ^= (s8[15] & 0x01) ? 0xE1 : 0;
        std::memcpy(dst, d8, 16);
    }
#if !defined(MBEDTLS_GCM_LARGE_TABLE)
    for (int i = size / 2; i > 0; i >>= 1) {
        const std::uint64_t w0 = H[i][0], w1 = H[i][1];
        put_be(w0, H[i][0]);
        put_be(w1, H[i][1]);
    }
#endif
    for (int i = 2; i < size; i <<= 1)
        for (int j = 1; j < i; ++j) {
            H[i + j][0] = H[i][0] ^ H[j][0];
            H[i + j][1] = H[i][1] ^ H[j][1];
        }
    return 0;
}
#else
#define TLSX_MBEDTLS36_GCM_REKEY 0
#endif

/** Make `t` the record protection of the given generation of secrets, for the direction it is
    about to be installed in (`inbound`: decryption, else encryption). A slot populated before
    for the same suite is re-keyed in place: the direction's IV copied and its cipher context
    given the new key (mbedtls_cipher_setkey on the context mbedTLS set up; its other direction
    keeps an older key and is re-keyed when the slot serves that direction). Any other slot is
    populated by mbedTLS (mbedtls_ssl_tls13_populate_transform, which sets up both cipher
    contexts: their allocations). The keys come from hkdf_expand_label. 0 or an mbedTLS error. */
inline int make_transform(transform_storage& t, mbedtls_ssl_context& ssl, const tls13_suite& s,
                          const unsigned char* client_secret, const unsigned char* server_secret,
                          bool inbound) noexcept {
#if TLSX_HAS_KEY_UPDATE
    const bool is_server =
        ssl.MBEDTLS_PRIVATE(conf)->MBEDTLS_PRIVATE(endpoint) == MBEDTLS_SSL_IS_SERVER;
    tlsx_mbedtls36_key_set keys;
    std::memset(&keys, 0, sizeof keys);
    keys.key_len = s.key_len;
    keys.iv_len = s.iv_len;
    int ret = 0;
    if ((ret = hkdf_expand_label(s, client_secret, "key", keys.client_write_key, s.key_len)) == 0 &&
        (ret = hkdf_expand_label(s, client_secret, "iv", keys.client_write_iv, s.iv_len)) == 0 &&
        (ret = hkdf_expand_label(s, server_secret, "key", keys.server_write_key, s.key_len)) == 0)
        ret = hkdf_expand_label(s, server_secret, "iv", keys.server_write_iv, s.iv_len);
    if (ret != 0) {
        mbedtls_platform_zeroize(&keys, sizeof keys);
        return ret;
    }
#if !defined(MBEDTLS_USE_PSA_CRYPTO)
    if (t.in_use && t.rekeyable && t.suite == s.id) {
        auto* h = reinterpret_cast<tlsx_mbedtls36_transform_head*>(t.get());
        // Ours is the client's key when we are the client and it encrypts, or the server and
        // it decrypts.
        const bool client_key = is_server == inbound;
        const unsigned char* key = client_key ? keys.client_write_key : keys.server_write_key;
        const unsigned char* iv = client_key ? keys.client_write_iv : keys.server_write_iv;
        std::memcpy(inbound ? h->iv_dec : h->iv_enc, iv, s.iv_len);
        mbedtls_cipher_context_t& c = inbound ? h->cipher_ctx_dec : h->cipher_ctx_enc;
#if TLSX_MBEDTLS36_GCM_REKEY
        if (mbedtls_cipher_info_get_mode(c.MBEDTLS_PRIVATE(cipher_info)) == MBEDTLS_MODE_GCM)
            ret = gcm_rekey(*static_cast<mbedtls_gcm_context*>(c.MBEDTLS_PRIVATE(cipher_ctx)), key,
                            static_cast<unsigned>(s.key_len * 8));
        else
#endif
            ret = mbedtls_cipher_setkey(&c, key, static_cast<int>(s.key_len * 8),
                                        inbound ? MBEDTLS_DECRYPT : MBEDTLS_ENCRYPT);
        mbedtls_platform_zeroize(&keys, sizeof keys);
        if (ret != 0)
            free_transform(t);
        return ret;
    }
#endif
    free_transform(t);
    mbedtls_ssl_transform_init(t.get());
    t.in_use = true;
    ret = mbedtls_ssl_tls13_populate_transform(
        t.get(), is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT, s.id, &keys, &ssl);
    mbedtls_platform_zeroize(&keys, sizeof keys);
    t.suite = s.id;
#if !defined(MBEDTLS_USE_PSA_CRYPTO)
    t.rekeyable = ret == 0 && transform_head_matches(t.get(), s);
#endif
    return ret;
#else
    (void)t;
    (void)ssl;
    (void)s;
    (void)client_secret;
    (void)server_secret;
    (void)inbound;
    return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
#endif
}

inline mbedtls_ssl_transform* inbound_transform(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(transform_in);
}
inline mbedtls_ssl_transform* outbound_transform(const mbedtls_ssl_context& ssl) noexcept {
    return ssl.TLSX_MBEDTLS_FIELD(transform_out);
}

/// mbedtls_ssl_set_inbound_transform (library/ssl_msg.c 3.6.6): the next record read is
/// number 0 of the new keys.
inline void set_inbound_transform(mbedtls_ssl_context& ssl, mbedtls_ssl_transform* t) noexcept {
#if TLSX_HAS_KEY_UPDATE
    ssl.MBEDTLS_PRIVATE(transform_in) = t;
    std::memset(ssl.MBEDTLS_PRIVATE(in_ctr), 0, MBEDTLS_SSL_SEQUENCE_NUMBER_LEN);
#else
    (void)ssl;
    (void)t;
#endif
}

/// mbedtls_ssl_set_outbound_transform (library/ssl_msg.c 3.6.6).
inline void set_outbound_transform(mbedtls_ssl_context& ssl, mbedtls_ssl_transform* t) noexcept {
#if TLSX_HAS_KEY_UPDATE
    ssl.MBEDTLS_PRIVATE(transform_out) = t;
    std::memset(ssl.MBEDTLS_PRIVATE(cur_out_ctr), 0, sizeof ssl.MBEDTLS_PRIVATE(cur_out_ctr));
#else
    (void)ssl;
    (void)t;
#endif
}

/// Send KeyUpdate(request_update) under the current outbound keys, as one handshake record
/// (RFC 8446 4.6.3: it ends at a record boundary). 0 or an mbedTLS error.
inline int write_key_update(mbedtls_ssl_context& ssl, bool request_update) noexcept {
#if TLSX_HAS_KEY_UPDATE
    if (ssl.MBEDTLS_PRIVATE(out_left) != 0) // a record not yet handed over (never in tlsx)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    unsigned char* m = ssl.MBEDTLS_PRIVATE(out_msg);
    m[0] = 24; // HandshakeType key_update
    m[1] = 0;
    m[2] = 0;
    m[3] = 1;
    m[4] = request_update ? 1 : 0;
    ssl.MBEDTLS_PRIVATE(out_msgtype) = MBEDTLS_SSL_MSG_HANDSHAKE;
    ssl.MBEDTLS_PRIVATE(out_msglen) = 5;
    return mbedtls_ssl_write_record(&ssl, 1);
#else
    (void)ssl;
    (void)request_update;
    return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
#endif
}

/** The handshake type of a message whose first fragment mbedTLS holds, waiting for the rest
    (a message split across records), or -1. 3.6.3 and later reassemble such messages (the
    field counts the bytes so far, in TLS; DTLS uses it for bad MACs), with the fragments
    gathered after in_buf's 8-byte counter and the 5-byte record header; earlier releases
    refuse them (an error from the read). */
inline int pending_handshake_fragment(const mbedtls_ssl_context& ssl) noexcept {
#if TLSX_HAS_KEY_UPDATE && MBEDTLS_VERSION_NUMBER >= 0x03060300
    if (ssl.MBEDTLS_PRIVATE(badmac_seen_or_in_hsfraglen) == 0 ||
        ssl.MBEDTLS_PRIVATE(conf)->MBEDTLS_PRIVATE(transport) != MBEDTLS_SSL_TRANSPORT_STREAM)
        return -1;
    return ssl.MBEDTLS_PRIVATE(in_buf)[MBEDTLS_SSL_SEQUENCE_NUMBER_LEN + 5];
#else
    (void)ssl;
    return -1;
#endif
}

// ---- alerts -----------------------------------------------------------------------------------

/** The fatal alert mbedTLS 3.x decided on and has not sent yet (mbedtls_ssl_pend_fatal_alert;
    it sends it at the end of the handshake step), or -1. 2.28 sends its alerts at once. */
inline int pending_alert(const mbedtls_ssl_context& ssl) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    return ssl.MBEDTLS_PRIVATE(send_alert) != 0 ? ssl.MBEDTLS_PRIVATE(alert_type) : -1;
#else
    (void)ssl;
    return -1;
#endif
}

/// The clear header of the record the record layer read last (or is reading): in_hdr keeps
/// it until the next record's header is read over it.
struct record_header {
    int type = -1;            // the outer content type
    int major = 0, minor = 0; // the record's version
    std::size_t length = 0;   // the length field
    bool present = false;     // the five header bytes were read
};

inline record_header incoming_record_header(const mbedtls_ssl_context& ssl) noexcept {
    record_header h;
    const unsigned char* p = ssl.TLSX_MBEDTLS_FIELD(in_hdr);
    const unsigned char* buf = ssl.TLSX_MBEDTLS_FIELD(in_buf);
    if (!p || !buf) // (in_left is 0 again once a record was taken whole: not a test)
        return h;
    h.type = p[0];
    h.major = p[1];
    h.minor = p[2];
    h.length = static_cast<std::size_t>(p[3]) << 8 | p[4];
    h.present = true;
    return h;
}

/** The longest record body the session's version allows, for the input queue's framing to
    refuse (record_overflow) before mbedTLS sees the record: 2^14 + 256 under TLS 1.3 (RFC 8446
    5.2), which mbedTLS 3.6 would try to decrypt (and answer with bad_record_mac) instead of
    refusing. Under TLS 1.2 mbedTLS refuses an oversized record itself: no limit (0xffff). */
inline std::uint16_t record_body_limit(const mbedtls_ssl_context& ssl) noexcept {
    return negotiated_tls13(ssl) ? std::uint16_t(16384 + 256) : std::uint16_t(0xffff);
}

/// Whether `ret` may come from a record header that mbedTLS checked on its own, outside its
/// record layer: 2.28 parses the first ClientHello's record itself (for SSLv2 hellos) and
/// refuses a wrong type, version or length with MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO.
inline bool read_its_own_record(int ret) noexcept {
#if MBEDTLS_VERSION_MAJOR < 3
    return ret == MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO;
#else
    (void)ret;
    return false;
#endif
}

/** Whether `ret` is one of 2.28's "bad handshake message" codes that its parsers also return,
    without an alert, when the current record is no handshake record at all (application
    data where a ClientKeyExchange belongs, say). Not BAD_HS_CLIENT_HELLO: the first
    ClientHello is read outside the record layer, which leaves the current record unset. */
inline bool names_a_bad_message(int ret) noexcept {
#if MBEDTLS_VERSION_MAJOR < 3
    switch (ret) {
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_REQUEST:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE:
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_VERIFY:
    case MBEDTLS_ERR_SSL_BAD_HS_FINISHED:
    case MBEDTLS_ERR_SSL_BAD_HS_NEW_SESSION_TICKET:
        return true;
    default:
        return false;
    }
#else
    (void)ret;
    return false;
#endif
}

/** The alert for the error codes whose meaning differs between the series: 2.28's
    MBEDTLS_ERR_SSL_BAD_HS_* name the message that could not be parsed (3.x folded them into
    DECODE_ERROR, HANDSHAKE_FAILURE, ... and reuses some of their values for other codes).
    -1: not such a code. */
inline int series_alert(int ret) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    switch (ret) {
    case MBEDTLS_ERR_SSL_DECODE_ERROR:
        return MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
        return MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION;
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
        return MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
    case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER:
        return MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER;
    case MBEDTLS_ERR_SSL_BAD_CERTIFICATE:
        return MBEDTLS_SSL_ALERT_MSG_BAD_CERT;
    case MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION:
        return MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_EXT;
    case MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL:
        return MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL;
    case MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME:
        return MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME;
    default:
        return -1;
    }
#else
    switch (ret) {
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_REQUEST:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE:
    case MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE:
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE:
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_RP:
    case MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_CS:
    case MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_VERIFY:
    case MBEDTLS_ERR_SSL_BAD_HS_FINISHED:
    case MBEDTLS_ERR_SSL_BAD_HS_NEW_SESSION_TICKET:
        return MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
    case MBEDTLS_ERR_SSL_BAD_HS_CHANGE_CIPHER_SPEC:
        return MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
    case MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION:
        return MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION;
    case MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE:
    case MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN:
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
        return MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE;
    case MBEDTLS_ERR_SSL_UNKNOWN_CIPHER:
        return MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER;
    case MBEDTLS_ERR_SSL_INVALID_VERIFY_HASH:
        return MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR;
    default:
        return -1;
    }
#endif
}

} // namespace internals
} // namespace detail
} // namespace tlsx

#endif
