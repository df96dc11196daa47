//
// test/backend.hpp — what the mbedTLS the tests are built against can do, for tests whose
// expectations differ between mbedTLS 2.28 and 3.x.
//
// Tests that need a feature a backend lacks are skipped with a visible reason (Boost.Test's
// precondition decorator logs "skipped on mbedTLS 3.x: ..." and counts the test as skipped),
// never passed silently.
//
#ifndef TLSX_TEST_BACKEND_HPP
#define TLSX_TEST_BACKEND_HPP

#include <tlsx/context.hpp>

#include <boost/test/unit_test.hpp>

#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

namespace backend {

/// Built against mbedTLS 3.x (3.6 LTS) rather than 2.28.
constexpr bool mbedtls3 = MBEDTLS_VERSION_MAJOR >= 3;

/// The backend negotiates TLS 1.3 by default (3.x with MBEDTLS_SSL_PROTO_TLS1_3).
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
constexpr bool has_tls13 = true;
#else
constexpr bool has_tls13 = false;
#endif

/// What protocol_version() says after a handshake with the default versions.
constexpr const char* default_version = has_tls13 ? "TLSv1.3" : "TLSv1.2";

/// A precondition decorator that skips its test unit on mbedTLS 3.x, naming why:
/// `BOOST_AUTO_TEST_CASE(t, *boost::unit_test::precondition(backend::skip_on_mbedtls3{"..."}))`.
struct skip_on_mbedtls3 {
    const char* reason;
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        if (!mbedtls3)
            return true;
        boost::test_tools::assertion_result r(false);
        r.message() << "skipped on mbedTLS 3.x: " << reason;
        return r;
    }
};

/// A precondition decorator that skips its test unit where the backend has no TLS 1.3
/// (mbedTLS 2.28), naming why: `*boost::unit_test::precondition(backend::needs_tls13{"..."})`.
struct needs_tls13 {
    const char* reason; // (a member: an empty functor trips GCC 12's -Wuninitialized here)
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        if (has_tls13)
            return true;
        boost::test_tools::assertion_result r(false);
        r.message() << "skipped: this mbedTLS has no TLS 1.3: " << reason;
        return r;
    }
};

/// Caps a context at TLS 1.2 where the backend would negotiate 1.3: for tests about TLS 1.2
/// behaviour (1.2 suite names, 1.2 record decryption, 1.2 resumption).
inline void tls12_only(tlsx::context& ctx) {
    if constexpr (has_tls13)
        ctx.set_max_version(tlsx::tls_version::tls1_2);
}

} // namespace backend

#endif
