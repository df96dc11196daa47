//
// src/renegotiation.cpp — the renegotiation state machine of one session (TLS 1.2).
//
// mbedTLS renegotiates by itself inside mbedtls_ssl_read and mbedtls_ssl_write when its switch
// (mbedtls_ssl_conf_renegotiation) is on, and answers a request with no_renegotiation when it
// is off. What it does not do is tell anyone: a peer's request, the peer's refusal of ours, or
// a peer that ignores ours. This file sees those at the input queue's gate (a record's content
// type is in clear in its header: a peer's request is held back there until the application
// decided) and in what mbedTLS read, keeps the switch on exactly while a renegotiation is
// wanted, and reports outcomes as verdicts.
//
// Only secure renegotiation (RFC 5746) is ever performed, on TLS 1.2 sessions (and below on
// 2.28): on a TLS 1.3 session the machine stands aside. Where the needed mbedTLS internals are
// not available (TLSX_HAS_RENEGOTIATION is 0: neither 2.28 nor the 3.6 series), the second
// half of this file is a stub that refuses every request.
//
#include "renegotiation.hpp"

#include "detail/mbedtls_internals.hpp"

#include <tlsx/engine.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace tlsx {
namespace detail {

using verdict = renegotiation::verdict;

namespace {

verdict proceed() {
    return {};
}

[[maybe_unused]] verdict want_input() {
    return {verdict::kind::want_input, 0, {}};
}

verdict outcome(error_code ec) {
    return {verdict::kind::outcome, 0, ec};
}

[[maybe_unused]] verdict read_error(int ret) {
    return {verdict::kind::read_error, ret, {}};
}

[[maybe_unused]] verdict fatal(int ret) {
    return {verdict::kind::fatal, ret, {}};
}

} // namespace

void renegotiation::set_policy(renegotiation_policy p) {
    policy_ = p;
    has_policy_ = true;
    if (conf_)
        settle();
}

void renegotiation::attach(mbedtls_ssl_context& ssl, mbedtls_ssl_config& conf, input_queue& in,
                           stream_base::handshake_type role, renegotiation_policy context_policy,
                           int max_records) {
    ssl_ = &ssl;
    conf_ = &conf;
    in_ = &in;
    role_ = role;
    if (!has_policy_)
        policy_ = context_policy;
    max_records_ = max_records;
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_legacy_renegotiation(conf_, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
    mbedtls_ssl_conf_renegotiation_enforced(conf_, MBEDTLS_SSL_RENEGOTIATION_NOT_ENFORCED);
#endif
    settle();
}

std::size_t renegotiation::unstash(unsigned char* p, std::size_t n) noexcept {
    std::size_t k = std::min(n, stash_end_ - stash_begin_);
    std::memcpy(p, stash_.get() + stash_begin_, k);
    stash_begin_ += k;
    if (stash_begin_ == stash_end_)
        stash_begin_ = stash_end_ = 0;
    return k;
}

#if TLSX_HAS_RENEGOTIATION

/// Whether mbedTLS may renegotiate now: while we asked or accepted, or always under the accept
/// policy (a server: until the peer used up its bound).
bool renegotiation::allowed() const noexcept {
    if (ours() || phase_ == phase::accepting)
        return true;
    if (policy_ != renegotiation_policy::accept)
        return false;
    return role_ != stream_base::server || peer_renegotiations_ < max_peer_renegotiations;
}

/** Whether the input queue holds back a handshake record, which after the handshake is the
    peer's request: under the ask policy, while nothing is in play and the peer is within its
    bound. Otherwise it passes, and mbedTLS acts on it as the switch says. */
bool renegotiation::holds() const noexcept {
    if (policy_ != renegotiation_policy::ask ||
        (phase_ != phase::idle && phase_ != phase::peer_request))
        return false;
    if (role_ == stream_base::server && peer_renegotiations_ >= max_peer_renegotiations)
        return false;
    return internals::handshake_over(*ssl_) && !internals::negotiated_tls13(*ssl_);
}

/// The one place that sets mbedTLS's switch, and the input queue's gate, from the state.
void renegotiation::settle() {
    allow(allowed());
    in_->hold_handshake(holds());
}

void renegotiation::allow(bool on) {
    mbedtls_ssl_conf_renegotiation(conf_, on ? MBEDTLS_SSL_RENEGOTIATION_ENABLED
                                             : MBEDTLS_SSL_RENEGOTIATION_DISABLED);
}

void renegotiation::refuse_request() {
    // The held request goes to mbedTLS, which answers no_renegotiation (the switch is off).
    phase_ = phase::idle;
    in_->release_held();
    settle();
}

/// Follow mbedTLS: our request's handshake starts when mbedTLS enters IN_PROGRESS, and a
/// renegotiation has finished when it leaves IN_PROGRESS with the handshake over.
void renegotiation::follow(int status) {
    if (ours() && follow_request())
        return;
    if (phase_ == phase::asked && status == internals::renegotiation_in_progress)
        phase_ = phase::handshaking;
    if (last_status_ == internals::renegotiation_in_progress &&
        status != internals::renegotiation_in_progress && internals::handshake_over(*ssl_)) {
        if (!ours()) // the peer's request, whether accepted by policy or by the app (ask)
            ++peer_renegotiations_;
        if (ours())
            phase_ = phase::done; // ask() reports it once
        else if (phase_ == phase::accepting)
            phase_ = phase::idle;
        settle();
        ++events_;
    }
    last_status_ = status;
}

/** While our request is in play, what mbedTLS does not report about the records it just read:
    the peer's no_renegotiation answer (an alert record; mbedTLS 2.28 and 3.6 ignore it and
    wait on), and application records past the enforcement bound (server, before the peer
    started the handshake). True if the request ended. */
bool renegotiation::follow_request() {
    const bool server = role_ == stream_base::server;
    if (std::uint64_t alerts = in_->records_taken(input_queue::alert); alerts != alerts_seen_) {
        alerts_seen_ = alerts;
        // The answer comes instead of the ClientHello (server) or the ServerHello (client).
        bool waiting = server ? phase_ == phase::asked : internals::awaiting_server_hello(*ssl_);
        if (waiting && is_no_renegotiation_alert()) {
            if (!server) {
                // The handshake we started waits for a ServerHello that will not come: free it
                // (and the alert mbedTLS kept for it), so that the old session goes on.
                internals::drop_current_record(*ssl_);
                internals::abandon_renegotiation(*ssl_);
            }
            answered_ = true;
            withdraw_request(phase::refused);
            return true;
        }
    }
    if (phase_ == phase::asked && server && max_records_ >= 0 &&
        internals::renegotiation_status(*ssl_) == internals::renegotiation_pending &&
        in_->records_taken(input_queue::application_data) - records_at_request_ >
            static_cast<std::uint64_t>(max_records_)) {
        // Enforcement, done here rather than by mbedTLS, which would fail the session; the
        // record past the bound is delivered by the read that took it.
        withdraw_request(phase::ignored);
        return true;
    }
    return false;
}

/// Under the ask policy, before mbedtls_ssl_read: a handshake record at the gate is the peer's
/// request; tell the application, which answers with handshake() (accept) or a read (refuse).
verdict renegotiation::peek() {
    settle(); // the gate opens or closes with the phase; first armed after the handshake
    if (phase_ == phase::idle && in_->holding()) {
        phase_ = phase::peer_request;
        ++events_;
        return {verdict::kind::requested, 0, {}};
    }
    return proceed();
}

/// The current record (which mbedTLS just read) is a no_renegotiation warning.
bool renegotiation::is_no_renegotiation_alert() const noexcept {
    const internals::record_view rec = internals::current_record(*ssl_);
    return rec.type == MBEDTLS_SSL_MSG_ALERT && rec.length >= 2 &&
           rec.msg[0] == MBEDTLS_SSL_ALERT_LEVEL_WARNING &&
           rec.msg[1] == MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION;
}

/// Our request ended without a new handshake (refused or ignored): the session goes on as it
/// was before the request.
void renegotiation::withdraw_request(phase answer) {
    internals::set_renegotiation_status(*ssl_, status_before_request_);
    last_status_ = status_before_request_;
    phase_ = answer;
    settle();
    ++events_;
}

verdict renegotiation::accept() {
    if (phase_ == phase::peer_request) {
        // The gate opens and the switch is on: mbedTLS reads the held request and answers it
        // (a client with its ClientHello) inside drive()'s read.
        phase_ = phase::accepting;
        settle();
    }
    return drive();
}

verdict renegotiation::ask(bool begin) {
    if (begin && (phase_ == phase::done || phase_ == phase::refused || phase_ == phase::ignored))
        phase_ = phase::idle; // an earlier request's outcome, which its cancelled caller left
    if (phase_ == phase::peer_request) // the peer asked first: our request is its answer
        return accept();
    if (phase_ == phase::idle) {
        // (A TLS 1.3 session never gets here: engine::renegotiate answers it with a named
        // error first, so mbedtls_ssl_renegotiate is never called on one.)
        // Only secure renegotiation (RFC 5746): never with a peer that lacks it.
        if (!internals::peer_supports_secure_renegotiation(*ssl_))
            return outcome(error::renegotiation_refused);
        phase_ = phase::asked;
        records_at_request_ = in_->records_taken(input_queue::application_data);
        alerts_seen_ = in_->records_taken(input_queue::alert);
        status_before_request_ = internals::renegotiation_status(*ssl_);
        settle();
        int ret = mbedtls_ssl_renegotiate(ssl_);
        if (role_ == stream_base::server)
            internals::suppress_hello_request_resends(*ssl_);
        after_call();
        if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_READ)
            return fatal(ret);
    }
    return drive();
}

/// Run the renegotiation handshake until it is done, refused or ignored.
verdict renegotiation::drive() {
    for (;;) {
        switch (phase_) {
        case phase::done: // our request: the new handshake is done
            phase_ = phase::idle;
            return proceed();
        case phase::refused:
            phase_ = phase::idle;
            return outcome(error::renegotiation_refused);
        case phase::ignored:
            phase_ = phase::idle;
            return outcome(error::renegotiation_ignored);
        case phase::idle: // the peer's request that we accepted: done
        case phase::peer_request:
            return proceed();
        case phase::accepting:
        case phase::asked:
        case phase::handshaking:
            break;
        }
        if (internals::renegotiation_status(*ssl_) != internals::renegotiation_in_progress ||
            internals::handshake_over(*ssl_)) {
            // Waiting for the peer to start (server), or for the kept ClientHello to be
            // processed: let mbedtls_ssl_read do it, keeping any application data.
            if (verdict v = read_into_stash(); v.what != verdict::kind::proceed)
                return v;
            continue;
        }
        int ret = mbedtls_ssl_handshake(ssl_);
        after_call();
        if (ret == 0 || phase_ == phase::refused)
            continue;
        if (ret == MBEDTLS_ERR_SSL_WANT_READ)
            return want_input();
        if (ret != MBEDTLS_ERR_SSL_WAITING_SERVER_HELLO_RENEGO)
            return fatal(ret);
        if (verdict s = read_into_stash(); s.what != verdict::kind::proceed)
            return s;
    }
}

/// One mbedtls_ssl_read whose application data (if any) is kept for the next read.
verdict renegotiation::read_into_stash() {
    if (phase_ == phase::refused || phase_ == phase::ignored)
        return proceed(); // the call that needed the read saw the peer's answer
    if (!stash_)
        stash_.reset(new (std::nothrow) unsigned char[engine::max_record_plaintext]);
    if (!stash_)
        return fatal(MBEDTLS_ERR_SSL_ALLOC_FAILED);
    if (stash_begin_ == stash_end_)
        stash_begin_ = stash_end_ = 0;
    std::size_t space = engine::max_record_plaintext - stash_end_;
    if (space == 0)
        return want_input(); // a read must drain it first
    verdict v = before_record();
    if (v.what == verdict::kind::requested)
        return proceed();
    if (v.what != verdict::kind::proceed)
        return v;
    int ret = mbedtls_ssl_read(ssl_, stash_.get() + stash_end_, space);
    after_call();
    if (ret > 0) {
        stash_end_ += static_cast<std::size_t>(ret);
        stashed_ += static_cast<std::size_t>(ret);
        return proceed();
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ && (phase_ == phase::refused || phase_ == phase::ignored))
        return proceed(); // this read saw the peer's answer
    return read_error(ret);
}

#else // !TLSX_HAS_RENEGOTIATION: every request is refused (mbedTLS's switch stays off)

bool renegotiation::allowed() const noexcept {
    return false;
}
void renegotiation::settle() {}
void renegotiation::allow(bool) {}
void renegotiation::refuse_request() {}
void renegotiation::follow(int) {}
bool renegotiation::holds() const noexcept {
    return false;
}
bool renegotiation::follow_request() {
    return false;
}
verdict renegotiation::peek() {
    return proceed();
}
verdict renegotiation::read_into_stash() {
    return proceed();
}
verdict renegotiation::accept() {
    return proceed();
}
verdict renegotiation::ask(bool) {
    return outcome(make_mbedtls_error(MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE));
}

#endif

} // namespace detail
} // namespace tlsx
