// src/detail/context_impl.hpp — what a context holds (private).
//
// Shared by the context's files (context*.cpp) and engine.cpp, which sets sessions up from it.
//
#ifndef TLSX_SRC_DETAIL_CONTEXT_IMPL_HPP
#define TLSX_SRC_DETAIL_CONTEXT_IMPL_HPP

#include <tlsx/context.hpp>

#include "detail/mbedtls_internals.hpp"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tlsx {
namespace detail {

/// One certificate chain with the key that matches its leaf (context_credentials.cpp).
struct credential {
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
    bool has_key = false;

    credential();
    ~credential();
    credential(const credential&) = delete;
    credential& operator=(const credential&) = delete;
};

/** A context's own certificates: the chains with their keys, in the order given (stable
    addresses), and mbedTLS's list of complete pairs, which a session's configuration points at.

    The setters (use_certificate_chain, use_private_key, ...) fill the context's current set in
    place; a reload (reload_certificate_chain_and_key) builds a new set and publishes it whole.
    Sessions hold the set they were set up with (credential_snapshot), so a reload frees the
    old set only when the last session using it goes.
*/
struct own_credentials {
    own_credentials();
    ~own_credentials();
    own_credentials(const own_credentials&) = delete;
    own_credentials& operator=(const own_credentials&) = delete;

    std::vector<std::unique_ptr<credential>> list;
    /// Never used for a handshake: it owns the pair list that mbedtls_ssl_conf_own_cert builds
    /// (internals::conf_key_cert reads it), and frees it with mbedtls_ssl_config_free.
    mbedtls_ssl_config pairs;
    bool has_pair = false; // pairs holds at least one certificate with its key
};

/// What a context trusts: its certificate authorities and revocation lists. Replaced whole by
/// reload_verify_authorities, as own_credentials by a reload.
struct trust_store {
    trust_store();
    ~trust_store();
    trust_store(const trust_store&) = delete;
    trust_store& operator=(const trust_store&) = delete;

    mbedtls_x509_crt ca;
    bool has_ca = false;
    mbedtls_x509_crl crl;
    bool has_crl = false;
};

/// The credentials a session is set up with, kept alive for as long as the session lives (its
/// renegotiations present the same certificate and trust the same authorities).
struct credential_snapshot {
    std::shared_ptr<own_credentials> own;
    std::shared_ptr<trust_store> trust;

    /// Point a session's own configuration (a copy of the context's) at these credentials.
    /// Leaves what they lack as the copy has it (set through native_handle(), say).
    void apply(mbedtls_ssl_config& conf) const noexcept;
};

/** Everything a context configures. Held by shared_ptr: streams keep it alive.

    The two mbedtls_ssl_config objects (index = stream_base::handshake_type) point into the other
    members (ciphersuite list, ALPN list, ticket keys, session cache) and at the struct itself
    (the argument of its callbacks), so the struct never moves. They carry no own certificates
    and no CA chain: each session's copy of its configuration gets those from the snapshot it
    takes (credential_snapshot::apply), so that a reload never writes to a configuration that
    another thread may be copying.

    Constructed, destroyed and seeded in context.cpp; authmode is in context_trust.cpp.
*/
struct context_impl {
    explicit context_impl(context::method m);
    ~context_impl();
    context_impl(const context_impl&) = delete;
    context_impl& operator=(const context_impl&) = delete;

    context::method method;

    // asio::ssl compatibility (context.cpp): the version range the method allows (minor numbers,
    // 2 = TLS 1.2, 3 = TLS 1.3) and the options set with set_options.
    int method_min = 2;
    int method_max = 2;
    context::options options = 0;

    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg; // internally locked (MBEDTLS_THREADING_C) or by rng_mutex
#if !defined(MBEDTLS_THREADING_C)
    std::mutex rng_mutex; // without MBEDTLS_THREADING_C the DRBG does not lock itself
#endif

    /// Configurations by role; `has_config[r]` says whether the method allows role r.
    mbedtls_ssl_config config[2];
    bool has_config[2] = {false, false};

    /// The current own certificates and trust. The pointers change only under
    /// credentials_mutex (a reload may run while other threads set sessions up); what they
    /// point to is filled by the setters before use and never changed by a reload.
    std::shared_ptr<own_credentials> own = std::make_shared<own_credentials>();
    std::shared_ptr<trust_store> trust = std::make_shared<trust_store>();
    mutable std::mutex credentials_mutex;

    /// The current credentials, for a session being set up (thread-safe with reloads).
    credential_snapshot snapshot() const {
        std::lock_guard<std::mutex> lock(credentials_mutex);
        return {own, trust};
    }

    verify_mode mode[2] = {verify_mode::required, verify_mode::none};
    verify_callback verify_cb;
    int verify_depth = -1;            // -1: mbedTLS's default
    bool server_name_required = true; // a verifying client needs set_server_name

    std::vector<int> ciphersuites;           // 0-terminated when set
    std::vector<internals::group_id> groups; // no_group-terminated when set
    std::vector<std::string> alpn;           // storage for alpn_ptrs
    std::vector<const char*> alpn_ptrs;      // nullptr-terminated when set

    // Server-side resumption. Tickets are on by default (lifetime 1 h, the ticket module rotates
    // its key every lifetime); the session-ID cache is off until enabled.
    mbedtls_ssl_ticket_context ticket;
    bool has_ticket = false;
    mbedtls_ssl_cache_context cache;
    bool has_cache = false;

    // Renegotiation: how streams answer a peer's request, and how many records a server
    // accepts after its own request before giving up on the peer (negative: unlimited).
    renegotiation_policy renegotiation = renegotiation_policy::refuse;
    truncation_policy truncation = truncation_policy::error;
    int renegotiation_max_records = 256;
    std::uint64_t key_update_threshold = std::uint64_t(1) << 23; // key_update::default_threshold
    // Streams' default time limits (no_timeout: none); a server-only context's handshake limit
    // is default_server_handshake_timeout (set_up).
    timeout_duration handshake_timeout = no_timeout;
    timeout_duration shutdown_timeout = no_timeout;
    timeout_duration read_idle_timeout = no_timeout;
    bool handshake_timeout_is_default = false; // the server default, not set by the user

    sni_callback sni_cb;
    keylog_callback keylog_cb;
    internals::keylog_target keylog_target; // where mbedTLS's key export goes (context.cpp)
    debug_callback debug_cb;
    context::password_callback password_cb;

    /// The configuration for a role, or nullptr when the method does not allow it.
    mbedtls_ssl_config* config_for(stream_base::handshake_type role) noexcept {
        return has_config[role] ? &config[role] : nullptr;
    }

    /// Translate a verify_mode to the MBEDTLS_SSL_VERIFY_* value of mbedtls_ssl_conf_authmode.
    static int authmode(verify_mode m) noexcept;

    /// The random generator for mbedtls_ssl_conf_rng and other consumers (thread-safe).
    static int random(void* impl, unsigned char* out, std::size_t len);
};

/** Run the context's SNI callback for a server session (context.cpp). `keep` receives the
    credentials of each context that `sni_selection::use` chose, so that a reload of that
    context does not free them while this session uses them. */
int run_sni_callback(context_impl& impl, mbedtls_ssl_context* ssl, const unsigned char* name,
                     std::size_t len, std::vector<std::shared_ptr<const void>>* keep);

/** Install the context's key-log callback on a session being set up (context.cpp). mbedTLS 3.x
    exports keys per session; 2.x's callback is on the configuration, which the session copies,
    so there this does nothing. */
void attach_keylog(context_impl& impl, mbedtls_ssl_context& ssl) noexcept;

} // namespace detail
} // namespace tlsx

#endif
