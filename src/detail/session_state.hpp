//
// tlsx — private: what a tlsx::session holds.
//
#ifndef TLSX_SRC_DETAIL_SESSION_STATE_HPP
#define TLSX_SRC_DETAIL_SESSION_STATE_HPP

#include <tlsx/session.hpp>

#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>

#include <atomic>
#include <memory>
#include <vector>

namespace tlsx {
namespace detail {

/** The immutable state that copies of one tlsx::session share: the session parsed once, and
    its bytes.

    Keeping the parsed form is what lets a resuming client pay for one mbedTLS copy of the
    session (mbedtls_ssl_set_session, which parses the peer certificate again) instead of also
    parsing the bytes first on every connection.
*/
struct session_state {
    session_state() noexcept { mbedtls_ssl_session_init(&parsed); }
    ~session_state() {
        mbedtls_ssl_session_free(&parsed);
        if (!bytes.empty()) // the master secret is in there
            mbedtls_platform_zeroize(bytes.data(), bytes.size());
    }
    session_state(const session_state&) = delete;
    session_state& operator=(const session_state&) = delete;

    /** Whether a client may offer this session now; `once` (a TLS 1.3 session) lets only the
        first asker offer it. TLS 1.3 clients should use session parameters only once, so that
        a passive observer cannot link two connections by the ticket they show
        (gnutls_session_get_data2); each resumption brings a new ticket instead. The claim is
        shared by the copies of one tlsx::session; bytes loaded again with
        session::from_bytes are a new session. */
    bool claim_offer(bool once) const noexcept {
        return !once || !offered.exchange(true, std::memory_order_relaxed);
    }

    mbedtls_ssl_session parsed;
    std::vector<unsigned char> bytes;         // header (see session.cpp) + mbedtls_ssl_session_save
    mutable std::atomic<bool> offered{false}; // claim_offer(true) was answered
};

/// The session of a finished client handshake (TLS 1.3: of its latest ticket), or an empty one
/// if mbedTLS has none to give (3.x gives each session once).
session save_session(const mbedtls_ssl_context& ssl);

} // namespace detail
} // namespace tlsx

#endif
