//
// src/key_update.hpp — TLS 1.3 KeyUpdate (RFC 8446 4.6.3) of one session.
//
// mbedTLS 3.6 has no KeyUpdate; this room keeps what tlsx needs to do it: the current
// application traffic secret of each direction and its generation, the client random (for the
// key log), the record transforms it installs into mbedTLS (mbedtls_internals.hpp, "Key
// update"), and the records-per-key countdown of the automatic rekey. The engine calls it at
// named points (a read that met a KeyUpdate, key_update(), a write whose countdown ran out); it
// never calls back into the engine.
//
#ifndef TLSX_SRC_KEY_UPDATE_HPP
#define TLSX_SRC_KEY_UPDATE_HPP

#include <tlsx/error.hpp>

#include "detail/mbedtls_internals.hpp"

#include <mbedtls/ssl.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

namespace tlsx {
namespace detail {

class key_update {
public:
    /** Records sent under one key before tlsx updates it by itself: 2^23. RFC 8446 5.5 limits
        AES-GCM to 2^24.5 full-size records per key (ChaCha20-Poly1305 has no practical limit);
        2^23 is a third of that, and even at 16 KiB per record a key protects 128 GiB. */
    static constexpr std::uint64_t default_threshold = std::uint64_t(1) << 23;

    key_update() = default;
    ~key_update();
    key_update(const key_update&) = delete;
    key_update& operator=(const key_update&) = delete;

    /** Before the handshake: take the first-generation secrets from mbedTLS's key export, and
        pass every secret on to `forward` (the context's key log) when it is set. `threshold`:
        records per key, 0 for no automatic rekey. */
    void attach(mbedtls_ssl_context& ssl, bool is_client, const internals::keylog_target* forward,
                std::uint64_t threshold) noexcept;

    /// What a peer's KeyUpdate did.
    struct received {
        int error = 0;           // 0, or the mbedTLS error that ends the session
        unsigned char alert = 0; // the alert to send with it
        bool requested = false;  // update_requested: send ours before any more data
    };

    /** The peer's KeyUpdate, the current message (mbedtls_ssl_read refused it): check it and
        move the inbound keys to the next generation. */
    received receive(mbedtls_ssl_context& ssl) noexcept;

    /** Send our KeyUpdate (asking the peer to update too, or not) under the current keys, then
        move the outbound keys. 0 or an mbedTLS error. */
    int send(mbedtls_ssl_context& ssl, bool request_peer, bool automatic = false) noexcept;

    /// Counted once per record about to be written: whether `threshold` records went out under
    /// the current key (update first; this record then counts under the new one).
    bool record_due() noexcept { return records_left_-- == 0; }
    /// No automatic update for this session (TLS 1.2).
    void disarm() noexcept { records_left_ = std::numeric_limits<std::uint64_t>::max(); }

    /// The generation of each direction's keys (0 after the handshake).
    std::uint64_t inbound_generation() const noexcept { return peer_n_; }
    std::uint64_t outbound_generation() const noexcept { return own_n_; }
    std::uint64_t peer_updates_requested() const noexcept { return requests_; }

private:
    static void export_sink(void* p, const char* label, const unsigned char* client_random,
                            const unsigned char* secret, std::size_t size);
    int next_transform(mbedtls_ssl_context& ssl, bool inbound,
                       mbedtls_ssl_transform*& out) noexcept;
    void log(const char* side, std::uint64_t n, const unsigned char* secret) noexcept;
    /// After an update that a record_due() asked for, that record counts under the new key
    /// (the countdown has no other user: an explicit update restarts it the same way).
    void reset_countdown(bool counted) noexcept {
        records_left_ =
            threshold_ ? threshold_ - (counted ? 1 : 0) : std::numeric_limits<std::uint64_t>::max();
    }

    internals::keylog_target target_;
    const internals::keylog_target* forward_ = nullptr;
    bool is_client_ = false;
    bool have_secrets_ = false;
    unsigned got_ = 0; // 1: the client's first secret, 2: the server's
    unsigned char client_random_[32] = {};
    unsigned char client_secret_[internals::max_traffic_secret] = {};
    unsigned char server_secret_[internals::max_traffic_secret] = {};
    std::size_t secret_size_ = 0;
    std::uint64_t own_n_ = 0;
    std::uint64_t peer_n_ = 0;
    std::uint64_t requests_ = 0;
    std::uint64_t threshold_ = default_threshold;
    std::uint64_t records_left_ = std::numeric_limits<std::uint64_t>::max();
    /// Three transforms, allocated at the first key update and reused: one installed inbound,
    /// one outbound, one being made (the session's own stays owned by mbedTLS).
    std::unique_ptr<internals::transform_storage[]> slots_;
};

} // namespace detail
} // namespace tlsx

#endif
