//
// src/key_update.cpp — TLS 1.3 KeyUpdate of one session (see key_update.hpp).
//
#include "key_update.hpp"

#include <mbedtls/platform_util.h>

#include <cstdio>
#include <cstring>
#include <new>

namespace tlsx {
namespace detail {

key_update::~key_update() {
    if (slots_)
        for (int i = 0; i < 3; ++i)
            internals::free_transform(slots_[i]);
    mbedtls_platform_zeroize(client_secret_, sizeof client_secret_);
    mbedtls_platform_zeroize(server_secret_, sizeof server_secret_);
}

void key_update::attach(mbedtls_ssl_context& ssl, bool is_client,
                        const internals::keylog_target* forward, std::uint64_t threshold) noexcept {
    is_client_ = is_client;
    forward_ = forward;
    threshold_ = threshold;
    reset_countdown(false);
#if TLSX_HAS_KEY_UPDATE
    target_ = {&key_update::export_sink, this};
    internals::ssl_keylog(ssl, &target_);
#else
    (void)ssl;
#endif
}

void key_update::export_sink(void* p, const char* label, const unsigned char* client_random,
                             const unsigned char* secret, std::size_t size) {
    auto& self = *static_cast<key_update*>(p);
    if (self.forward_)
        self.forward_->sink(self.forward_->p, label, client_random, secret, size);
    unsigned char* into = nullptr;
    if (std::strcmp(label, "CLIENT_TRAFFIC_SECRET_0") == 0)
        into = self.client_secret_;
    else if (std::strcmp(label, "SERVER_TRAFFIC_SECRET_0") == 0)
        into = self.server_secret_;
    if (!into || size > internals::max_traffic_secret)
        return;
    std::memcpy(into, secret, size);
    std::memcpy(self.client_random_, client_random, sizeof self.client_random_);
    self.secret_size_ = size;
    self.got_ |= into == self.client_secret_ ? 1 : 2;
    self.have_secrets_ = self.got_ == 3;
}

void key_update::log(const char* side, std::uint64_t n, const unsigned char* secret) noexcept {
    if (!forward_)
        return;
    char label[48];
    std::snprintf(label, sizeof label, "%s_TRAFFIC_SECRET_%llu", side,
                  static_cast<unsigned long long>(n));
    forward_->sink(forward_->p, label, client_random_, secret, secret_size_);
}

/// A transform of the current secrets for one direction, in a slot that neither direction uses.
int key_update::next_transform(mbedtls_ssl_context& ssl, bool inbound,
                               mbedtls_ssl_transform*& out) noexcept {
    internals::tls13_suite suite;
    if (!have_secrets_ || !internals::negotiated_suite(ssl, suite) ||
        suite.hash_len != secret_size_)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    if (!slots_) {
        slots_.reset(new (std::nothrow) internals::transform_storage[3]);
        if (!slots_)
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    const mbedtls_ssl_transform* in = internals::inbound_transform(ssl);
    const mbedtls_ssl_transform* outb = internals::outbound_transform(ssl);
    for (int i = 0; i < 3; ++i) {
        internals::transform_storage& s = slots_[i];
        if (s.get() == in || s.get() == outb)
            continue;
        int ret = internals::make_transform(s, ssl, suite, client_secret_, server_secret_, inbound);
        if (ret != 0) {
            internals::free_transform(s);
            return ret;
        }
        out = s.get();
        return 0;
    }
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR; // unreachable: two transforms use at most two slots
}

key_update::received key_update::receive(mbedtls_ssl_context& ssl) noexcept {
    received r;
#if !TLSX_HAS_KEY_UPDATE // (never called there: the engine refuses every KeyUpdate)
    (void)ssl;
    r.error = MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
    r.alert = MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
    return r;
#else
    const internals::record_view rec = internals::current_record(ssl);
    // RFC 8446 4.6.3: struct { KeyUpdateRequest request_update; } KeyUpdate; one byte.
    if (rec.hs_length != 5 || rec.length < 5 || rec.msg[1] != 0 || rec.msg[2] != 0 ||
        rec.msg[3] != 1) {
        r.error = MBEDTLS_ERR_SSL_DECODE_ERROR;
        r.alert = MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR;
        return r;
    }
    // RFC 8446 5.1: a KeyUpdate must end at a record boundary (the keys change after it).
    if (rec.length != rec.hs_length) {
        r.error = MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE;
        r.alert = MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE;
        return r;
    }
    if (rec.msg[4] > 1) {
        r.error = MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER;
        r.alert = MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER;
        return r;
    }
    unsigned char* peer = is_client_ ? server_secret_ : client_secret_;
    internals::tls13_suite suite;
    mbedtls_ssl_transform* t = nullptr;
    int ret = internals::negotiated_suite(ssl, suite) ? internals::next_traffic_secret(suite, peer)
                                                      : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    if (ret == 0)
        ret = next_transform(ssl, true, t);
    if (ret != 0) {
        r.error = ret;
        r.alert = MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR;
        return r;
    }
    internals::set_inbound_transform(ssl, t);
    ++peer_n_;
    log(is_client_ ? "SERVER" : "CLIENT", peer_n_, peer);
    r.requested = rec.msg[4] == 1;
    if (r.requested)
        ++requests_;
    return r;
#endif
}

int key_update::send(mbedtls_ssl_context& ssl, bool request_peer, bool automatic) noexcept {
    if (!have_secrets_)
        return MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE;
    int ret = internals::write_key_update(ssl, request_peer);
    if (ret != 0)
        return ret;
    unsigned char* own = is_client_ ? client_secret_ : server_secret_;
    internals::tls13_suite suite;
    mbedtls_ssl_transform* t = nullptr;
    ret = internals::negotiated_suite(ssl, suite) ? internals::next_traffic_secret(suite, own)
                                                  : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    if (ret == 0)
        ret = next_transform(ssl, false, t);
    if (ret != 0)
        return ret; // the KeyUpdate is out: the session cannot go on with the old keys
    internals::set_outbound_transform(ssl, t);
    ++own_n_;
    log(is_client_ ? "CLIENT" : "SERVER", own_n_, own);
    reset_countdown(automatic);
    return 0;
}

} // namespace detail
} // namespace tlsx
