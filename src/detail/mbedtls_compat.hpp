//
// src/detail/mbedtls_compat.hpp — differences of mbedTLS's *public* API between 2.28 and 3.x.
//
// Used by more than one file, so named once here. Differences that touch the SSL internals are
// in mbedtls_internals.hpp instead; one-off public differences stay beside their single caller.
//
#ifndef TLSX_SRC_DETAIL_MBEDTLS_COMPAT_HPP
#define TLSX_SRC_DETAIL_MBEDTLS_COMPAT_HPP

#include <mbedtls/version.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>

#include <cstddef>

/// Whether this mbedTLS can negotiate TLS 1.3 (3.x built with MBEDTLS_SSL_PROTO_TLS1_3).
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define TLSX_HAS_TLS1_3 1
#else
#define TLSX_HAS_TLS1_3 0
#endif

namespace tlsx {
namespace detail {
namespace compat {

/// mbedtls_pk_parse_key; 3.x wants a random generator (for blinding), 2.28 takes none.
inline int pk_parse_key(mbedtls_pk_context* key, const unsigned char* data, std::size_t size,
                        const unsigned char* password, std::size_t password_size,
                        int (*f_rng)(void*, unsigned char*, std::size_t), void* p_rng) {
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
                         int (*f_rng)(void*, unsigned char*, std::size_t), void* p_rng) {
#if MBEDTLS_VERSION_MAJOR >= 3
    return mbedtls_pk_check_pair(pub, prv, f_rng, p_rng);
#else
    (void)f_rng;
    (void)p_rng;
    return mbedtls_pk_check_pair(pub, prv);
#endif
}

} // namespace compat
} // namespace detail
} // namespace tlsx

#endif
