// src/context_resumption.cpp — server-side session resumption: tickets and the session cache.
//
// Tickets (RFC 5077, and TLS 1.3's) are on by default for servers, with a key that mbedTLS's
// ticket module rotates, two per TLS 1.3 handshake; the session-ID cache is off until enabled,
// and resumes TLS 1.2 only (TLS 1.3 resumes by ticket). Clients resume with tlsx::session.
//
#include <tlsx/context.hpp>

#include "detail/context_impl.hpp"
#include "detail/context_support.hpp"
#include "detail/mbedtls_internals.hpp"

#include <mbedtls/cipher.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tlsx {

// The context's state (context_impl.hpp) and shared helpers (context_support.hpp).
using namespace detail;

namespace {

/// Tickets per TLS 1.3 handshake of a new server context (context::set_tickets_per_handshake).
constexpr std::uint16_t default_tickets_per_handshake = 2;
constexpr std::size_t max_tickets_per_handshake = 16;

void install_ticket_key(context_impl& impl, std::chrono::seconds lifetime) {
    if (!impl.has_config[stream_base::server])
        return;
    if (lifetime.count() <= 0 || lifetime.count() > 7 * 24 * 3600)
        throw_error(error::invalid_argument, "tlsx::context::enable_session_tickets",
                    "the lifetime must be between 1 second and 7 days", {});
    mbedtls_ssl_ticket_free(&impl.ticket);
    mbedtls_ssl_ticket_init(&impl.ticket);
    impl.has_ticket = false;
    check(mbedtls_ssl_ticket_setup(&impl.ticket, context_impl::random, &impl,
                                   MBEDTLS_CIPHER_AES_256_GCM,
                                   static_cast<std::uint32_t>(lifetime.count())),
          "tlsx::context::enable_session_tickets: mbedtls_ssl_ticket_setup");
    impl.has_ticket = true;
    mbedtls_ssl_conf_session_tickets_cb(&impl.config[stream_base::server], mbedtls_ssl_ticket_write,
                                        mbedtls_ssl_ticket_parse, &impl.ticket);
}

} // namespace

// A new server context's tickets: the key, and how many per TLS 1.3 handshake (mbedTLS's own
// default is one, which a client that offers each ticket once uses up on its first reconnection).
void detail::enable_tickets(context_impl& impl, std::chrono::seconds lifetime) {
    install_ticket_key(impl, lifetime);
    if (impl.has_config[stream_base::server])
        internals::conf_tickets_per_handshake(&impl.config[stream_base::server],
                                              default_tickets_per_handshake);
}

// ---- context --------------------------------------------------------------------------------

void context::enable_session_tickets(std::chrono::seconds lifetime) {
    install_ticket_key(need(impl_, "tlsx::context::enable_session_tickets"), lifetime);
}

void context::set_tickets_per_handshake(std::size_t n) {
    const char* fn = "tlsx::context::set_tickets_per_handshake";
    auto& impl = need(impl_, fn);
    if (n > max_tickets_per_handshake)
        throw_error(error::invalid_argument, fn, "at most 16 tickets per handshake", {});
    if (impl.has_config[stream_base::server])
        internals::conf_tickets_per_handshake(&impl.config[stream_base::server],
                                              static_cast<std::uint16_t>(n));
}

void context::disable_session_tickets() {
    auto& impl = need(impl_, "tlsx::context::disable_session_tickets");
    if (impl.has_config[stream_base::server])
        mbedtls_ssl_conf_session_tickets_cb(&impl.config[stream_base::server], nullptr, nullptr,
                                            nullptr);
    mbedtls_ssl_ticket_free(&impl.ticket);
    mbedtls_ssl_ticket_init(&impl.ticket);
    impl.has_ticket = false;
}

void context::enable_session_cache(std::size_t max_entries, std::chrono::seconds timeout) {
    const char* fn = "tlsx::context::enable_session_cache";
    auto& impl = need(impl_, fn);
    if (max_entries == 0 || max_entries > 1000000 || timeout.count() <= 0 ||
        timeout.count() > 7 * 24 * 3600)
        throw_error(error::invalid_argument, fn,
                    "max_entries must be 1..1000000 and the timeout 1 s..7 days", {});
    mbedtls_ssl_cache_set_max_entries(&impl.cache, static_cast<int>(max_entries));
    mbedtls_ssl_cache_set_timeout(&impl.cache, static_cast<int>(timeout.count()));
    impl.has_cache = true;
    if (impl.has_config[stream_base::server])
        mbedtls_ssl_conf_session_cache(&impl.config[stream_base::server], &impl.cache,
                                       mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
}

void context::disable_session_cache() {
    auto& impl = need(impl_, "tlsx::context::disable_session_cache");
    if (impl.has_config[stream_base::server])
        mbedtls_ssl_conf_session_cache(&impl.config[stream_base::server], nullptr, nullptr,
                                       nullptr);
    impl.has_cache = false;
}

} // namespace tlsx
