//
// src/alerts.hpp — which fatal alert tells the peer why the session failed.
//
// mbedTLS sends an alert on most of its failure paths but not all (a record whose header or
// length is wrong, a two-byte ChangeCipherSpec, 2.28's BAD_HS_* returns, an error inside a
// renegotiation that runs within a read...). The engine asks here which alert names the
// failure, and sends it when the failing step queued none, so that the peer gets exactly one
// (RFC 5246 7.2, RFC 8446 6.2). docs/security.md "Alerts" has the table and the tests.
//
#ifndef TLSX_SRC_ALERTS_HPP
#define TLSX_SRC_ALERTS_HPP

#include <mbedtls/ssl.h>

namespace tlsx {
namespace detail {
namespace alerts {

/** The fatal alert (its RFC 5246 / RFC 8446 description) that names mbedTLS's failure `ret`
    of `ssl`, or -1 when no alert is to be sent: the peer's own alert ended the session, the
    transport ended, or `ret` is no failure. An alert mbedTLS 3.x decided on but has not sent
    yet comes first. */
int for_failure(const mbedtls_ssl_context& ssl, int ret) noexcept;

} // namespace alerts
} // namespace detail
} // namespace tlsx

#endif
