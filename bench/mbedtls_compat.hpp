//
// tlsx benchmarks — what differs between mbedTLS 2.28 and 3.6 for the benchmark's own mbedTLS
// calls (the raw mbedtls stack, and the tlsx stack's narrowing of its contexts to P-256 and
// ECDSA with SHA-256). The library keeps its own differences in src/detail/mbedtls_internals.hpp;
// the benchmark is not part of the library and keeps its own here, in one place.
//
#ifndef TLSX_BENCH_MBEDTLS_COMPAT_HPP
#define TLSX_BENCH_MBEDTLS_COMPAT_HPP

#include "bench.hpp"

#include <mbedtls/cipher.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#include <psa/crypto.h>
#endif

#include <cstddef>
#include <cstdint>
#include <string>

namespace bench {
namespace compat {

/// Whether this mbedTLS speaks TLS 1.3.
constexpr bool has_tls13 =
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    true;
#else
    false;
#endif

/// P-256 only, and ECDSA with SHA-256 only (in TLS 1.3: ecdsa_secp256r1_sha256).
inline void conf_p256_sha256(mbedtls_ssl_config* conf) {
#if MBEDTLS_VERSION_MAJOR >= 3
    // mbedtls_ssl_conf_groups / _sig_algs keep the pointer: static storage.
    static const std::uint16_t groups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                           MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
    static const std::uint16_t sig_algs[] = {MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256,
                                             MBEDTLS_TLS1_3_SIG_NONE};
    mbedtls_ssl_conf_groups(conf, groups);
    mbedtls_ssl_conf_sig_algs(conf, sig_algs);
#else
    static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
    static const int hashes[] = {MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE};
    mbedtls_ssl_conf_curves(conf, curves);
    mbedtls_ssl_conf_sig_hashes(conf, hashes);
#endif
}

/// Exactly one protocol version (the caller checked has_tls13 for 1.3).
inline void conf_version(mbedtls_ssl_config* conf, tls v) {
#if MBEDTLS_VERSION_MAJOR >= 3
    auto p = v == tls::v1_3 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2;
    mbedtls_ssl_conf_min_tls_version(conf, p);
    mbedtls_ssl_conf_max_tls_version(conf, p);
#else
    (void)v;
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

/// A TLS 1.3 client is told of each NewSessionTicket (MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
/// from mbedtls_ssl_read), so that it can save the session; without this it ignores them.
inline void conf_signal_tickets(mbedtls_ssl_config* conf) {
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3) &&                             \
    defined(MBEDTLS_SSL_SESSION_TICKETS)
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#else
    (void)conf;
#endif
}

/// The mbedtls_ssl_read result that says a TLS 1.3 ticket arrived (never on 2.28).
constexpr int received_ticket =
#if MBEDTLS_VERSION_MAJOR >= 3
    MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
#else
    1; // no mbedTLS error is positive
#endif

/// mbedtls_pk_parse_key; 3.x wants a random generator.
inline int pk_parse_key(mbedtls_pk_context* key, const unsigned char* data, std::size_t size,
                        int (*f_rng)(void*, unsigned char*, std::size_t), void* p_rng) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_parse_key(key, data, size, nullptr, 0, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_parse_key(key, data, size, nullptr, 0);
#endif
}

/// A cipher's key size in bits (a private field in 3.x).
inline std::size_t key_bitlen(const mbedtls_cipher_info_t* info) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_cipher_info_get_key_bitlen(info);
#else
    return info->key_bitlen;
#endif
}

/// 3.x computes with PSA Crypto (TLS 1.3's key schedule always): start it once.
inline int init_crypto() {
#if MBEDTLS_VERSION_MAJOR >= 3
    return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
    return 0;
#endif
}

/// mbedTLS's name of a suite from its IANA name: dashes, and TLS 1.3's "TLS_X" as "TLS1-3-X".
inline std::string mbedtls_suite_name(const std::string& iana, tls v) {
    std::string s = v == tls::v1_3 ? "TLS1-3-" + iana.substr(4) : iana;
    for (char& c : s)
        if (c == '_')
            c = '-';
    return s;
}

} // namespace compat
} // namespace bench

#endif
