//
// src/renegotiation.hpp — the renegotiation state machine of one session (TLS 1.2).
//
// It owns the policy (refuse / accept / ask), the state of a request in play, the bounds (how
// many renegotiations a peer may start, how many records a server takes after asking), the
// stash of application data read while a renegotiation step waited, and mbedTLS's
// renegotiation switch, which it sets in one place. The engine consults it at a few named
// points and acts on the verdicts it returns; it never calls back into the engine.
//
#ifndef TLSX_SRC_RENEGOTIATION_HPP
#define TLSX_SRC_RENEGOTIATION_HPP

#include <tlsx/context.hpp>
#include <tlsx/detail/record_queues.hpp>
#include <tlsx/engine.hpp>
#include <tlsx/error.hpp>
#include <tlsx/stream_base.hpp>

#include "detail/mbedtls_internals.hpp"

#include <mbedtls/ssl.h>

#include <boost/assert.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace tlsx {
namespace detail {

class renegotiation {
public:
    /// Where a session stands; see docs/design.md "Renegotiation phases" for the transitions.
    using phase = engine::renegotiation_phase;

    /// What the engine is to do after consulting the state machine.
    struct verdict {
        enum class kind {
            proceed,    // go on (with mbedtls_ssl_read, mbedtls_ssl_write, ...); a step: done
            want_input, // commit more input, then call again
            requested,  // report error::renegotiation_requested (ask policy)
            outcome,    // a step ended without a new handshake: report `ec`
            read_error, // mbedTLS failed a read with `ret`: as mbedtls_ssl_read's failure
            fatal,      // mbedTLS failed the handshake with `ret`: the session fails
        };
        kind what = kind::proceed;
        int ret = 0;
        error_code ec{};
    };

    /// How many renegotiations a peer may start on one connection before it is refused: a
    /// client asking again and again cannot pin a server's CPU with full handshakes.
    static constexpr int max_peer_renegotiations = 3;

    // ---- configuration ----------------------------------------------------------------------

    /// The policy for the peer's requests (before or after attach()).
    void set_policy(renegotiation_policy p);
    /// Whether set_policy() was called (else attach() takes the context's).
    bool has_policy() const noexcept { return has_policy_; }

    /// Bind to a session being set up: its context, its own copy of the configuration (whose
    /// renegotiation switch this object owns), its input queue (whose gate for handshake
    /// records this object sets), with the context's defaults.
    void attach(mbedtls_ssl_context& ssl, mbedtls_ssl_config& conf, input_queue& in,
                stream_base::handshake_type role, renegotiation_policy context_policy,
                int max_records);

    // ---- points the engine consults ---------------------------------------------------------

    /// Application data read by renegotiation steps, for the next read: copies up to `n` bytes
    /// to `p` and returns how many (0: none kept).
    // The points on the path of every record are inline: in the common case (nothing in play)
    // each is a comparison or two, and the work is out of line.

    std::size_t take_stashed(unsigned char* p, std::size_t n) noexcept {
        return stash_begin_ == stash_end_ ? 0 : unstash(p, n);
    }

    /// Whether a read has nothing to do here: no data kept, no request awaiting an answer
    /// (take_stashed() would give nothing and reading_on() would do nothing).
    bool quiet_for_reads() const noexcept {
        return stash_begin_ == stash_end_ && phase_ != phase::peer_request;
    }

    /// The application reads on: a request it was told about (ask policy) is refused.
    void reading_on() {
        if (phase_ == phase::peer_request)
            refuse_request();
    }

    /// Before mbedtls_ssl_read: under the ask policy, whether the next record is the peer's
    /// request, held back at the input queue's gate (requested).
    verdict before_record() { return policy_ == renegotiation_policy::ask ? peek() : verdict{}; }

    /// After every mbedTLS call that may have run a handshake step or read a record: follows
    /// mbedTLS's status, and while our request is in play looks at what the call read (the
    /// peer's no_renegotiation answer, application records against the enforcement bound).
    void after_call() { after_call(*ssl_); }

    /// after_call() given the context attach() was given, by its owner, who reaches it without
    /// the pointer this keeps (the engine's plain read and write: one load less).
    void after_call(const mbedtls_ssl_context& ssl) {
        BOOST_ASSERT(&ssl == ssl_);
        int status = internals::renegotiation_status(ssl);
        if (status != last_status_ || ours())
            follow(status);
    }

    /// after_call(ssl) for mbedtls_ssl_read's result `ret`: true if it is to be called again,
    /// because it stopped (WANT_READ) at the peer's no_renegotiation answer with more input
    /// queued.
    bool after_read(int ret, const mbedtls_ssl_context& ssl) {
        answered_ = false;
        after_call(ssl);
        return answered_ && ret == MBEDTLS_ERR_SSL_WANT_READ && !in_->empty();
    }

    /// mbedtls_ssl_write met application data before the server's answer to our request:
    /// read it into the stash (proceed: call mbedtls_ssl_write again).
    verdict read_into_stash();

    /// Whether the application answers a peer's request (handshake() after requested).
    bool answering() const noexcept {
        return phase_ == phase::peer_request || phase_ == phase::accepting;
    }

    /// The current phase.
    phase current() const noexcept { return phase_; }

    /// handshake() after renegotiation_requested: accept the peer's request and run it.
    verdict accept();

    /// renegotiate(): ask the peer, then run the new handshake (proceed: it is done). `begin`:
    /// the first step of a new request; an outcome nobody collected is forgotten.
    verdict ask(bool begin = false);

    /// Changes whenever a renegotiation ended or a request arrived or was answered.
    std::uint64_t events() const noexcept { return events_; }
    /// Application data bytes read into the stash so far (progress the flood guard did not see
    /// as it happened).
    std::uint64_t stashed() const noexcept { return stashed_; }

private:
    std::size_t unstash(unsigned char* p, std::size_t n) noexcept;
    void refuse_request();
    verdict peek();
    void follow(int status);
    bool follow_request();
    bool allowed() const noexcept;
    bool holds() const noexcept;
    void settle();
    void allow(bool on);
    verdict drive();
    bool is_no_renegotiation_alert() const noexcept;
    void withdraw_request(phase answer);
    /// Our request is in play: asked, or its handshake runs.
    bool ours() const noexcept { return phase_ == phase::asked || phase_ == phase::handshaking; }

    mbedtls_ssl_context* ssl_ = nullptr;
    mbedtls_ssl_config* conf_ = nullptr;
    input_queue* in_ = nullptr;
    stream_base::handshake_type role_ = stream_base::client;
    renegotiation_policy policy_ = renegotiation_policy::refuse;
    bool has_policy_ = false;
    int max_records_ = 256;

    phase phase_ = phase::idle;
    int status_before_request_ = 0; // mbedTLS's status, restored when our request is withdrawn
    int last_status_ = 0;           // mbedTLS's status after the last call (see after_call())
    std::uint64_t records_at_request_ = 0; // application records taken when we asked
    std::uint64_t alerts_seen_ = 0;        // alert records taken, as of the last look
    bool answered_ = false;       // the peer's no_renegotiation was just read (see after_read())
    int peer_renegotiations_ = 0; // renegotiations the peer started (the bound)
    std::uint64_t events_ = 0;
    std::uint64_t stashed_ = 0; // application data bytes read into the stash, ever

    std::unique_ptr<unsigned char[]> stash_; // application data read by renegotiation steps
    std::size_t stash_begin_ = 0;
    std::size_t stash_end_ = 0;
};

} // namespace detail
} // namespace tlsx

#endif
