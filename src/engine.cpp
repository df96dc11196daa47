//
// src/engine.cpp — the sans-I/O engine: one mbedTLS session driven by ciphertext queues.
//
// Nothing here creates an Asio error code: a program may compile Asio in another mode
// (BOOST_ASIO_SEPARATE_COMPILATION) than this library, and then it has two copies of Asio's
// error categories. The inline parts of engine.hpp do that mapping in the user's mode.
//
// mbedTLS is driven through two callbacks:
// - send: always accepts the whole record and appends it to the output queue, so mbedTLS never
//   sees MBEDTLS_ERR_SSL_WANT_WRITE and never keeps a half-sent record in its out_buf (which
//   would make the "same arguments" rule of mbedtls_ssl_write bind the next caller, whoever it is).
// - recv: serves what the input queue holds, or MBEDTLS_ERR_SSL_WANT_READ (0 after input_eof()).
//   mbedtls_ssl_fetch_input keeps partial records in its in_buf across WANT_READ, so the queue
//   never needs to hold a whole record. The queue frames records by their clear headers, so
//   that the renegotiation state machine can hold a peer's request back from mbedTLS.
//
#include <tlsx/detail/record_queues.hpp>
#include <tlsx/engine.hpp>

#include "alerts.hpp"
#include "detail/context_impl.hpp"
#include "detail/session_state.hpp"
#include "flood_guard.hpp"
#include "key_update.hpp"
#include "renegotiation.hpp"

#include "detail/mbedtls_internals.hpp"
#include "detail/recycled_blocks.hpp"

#include <boost/config.hpp>

#include <mbedtls/ssl.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tlsx {
namespace detail {

namespace {

/// write() stops taking plaintext while this much ciphertext is waiting (backpressure).
constexpr std::size_t output_high_water = engine::input_capacity;

static_assert(input_queue::capacity == engine::input_capacity);

} // namespace

/// The state of one session, and the steps that change it. engine's own definitions at the end
/// of this file read and set the state directly (no forwarding hallway).
class engine_impl {
    friend class tlsx::engine;

public:
    explicit engine_impl(std::shared_ptr<context_impl> ctx)
        : ctx_(std::move(ctx)) {
        mbedtls_ssl_init(&ssl_);
    }

    ~engine_impl() { mbedtls_ssl_free(&ssl_); }

    /// The state's memory is recycled per thread, as the queues' storage is (a connection's
    /// largest allocation after mbedTLS's own buffers: recycled_blocks.cpp).
    static void* operator new(std::size_t n) {
        if (void* p = allocate_block(n))
            return p;
        throw std::bad_alloc();
    }
    static void operator delete(void* p, std::size_t n) noexcept {
        deallocate_block(static_cast<unsigned char*>(p), n);
    }

    engine_impl(const engine_impl&) = delete;
    engine_impl& operator=(const engine_impl&) = delete;

    // ---- settings --------------------------------------------------------------------------

    void set_server_name(std::string_view host, error_code& ec) {
        if (host.empty() || host.size() > 255 || host.find('\0') != std::string_view::npos) {
            ec = error::invalid_argument;
            return;
        }
        hostname_.assign(host.data(), host.size());
        ec = {};
        if (setup_) {
            int ret = mbedtls_ssl_set_hostname(&ssl_, hostname_.c_str());
            if (ret != 0)
                ec = make_mbedtls_error(ret);
        }
    }

    // ---- steps -----------------------------------------------------------------------------

    engine::result handshake(stream_base::handshake_type type) {
        step_began_ = out_.produced();
        if (failure_)
            return done(failure_);
        // A handshake whose flight could not be written cannot finish: the peer waits for it.
        if (output_failure_ && (!hs_done_ || reneg_.answering()))
            return fail(output_failure_);
        if (hs_done_ && reneg_.answering())
            return renegotiation_progress(apply(reneg_.accept()));
        if (hs_done_)
            return done({});
        if (!setup_) {
            error_code ec = setup(type);
            if (ec)
                return fail(ec);
        }
        int ret = run_handshake();
        if (ret == 0) {
            first_handshake_done();
            return done({});
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ)
            return {engine::want::input, 0, {}};
        return fail_alerting(ret);
    }

    /** Decrypt into `p`. The common case of a read waiting for the next record (nothing
        received, nothing mbedTLS still holds, nothing else to do) is answered here, inline in
        engine::read_some_impl without a frame of its own; everything else is read_on(). */
    engine::result read(unsigned char* p, std::size_t n) {
        if (reads_wait_ && n != 0) { // reads_quiet() held when the last call ended
            if (in_.empty() && !in_.eof())
                return {engine::want::input, 0, {}};
            return read_on(p, n, true);
        }
        if (read_waits(n))
            return wait_for_input(); // (a tail call: no frame here)
        return read_on(p, n, false);
    }

    /** read() when it would only say WANT_READ: from now on it says so inline (reads_wait_,
        also engine::read_waits_for_input()), and the stream reads the transport into the input
        queue, which must have its storage (given back after the first handshake). Out of line:
        the allocation is not the common case's. */
    BOOST_NOINLINE engine::result wait_for_input() {
        if (!in_.reserve())
            return fail_alerting(MBEDTLS_ERR_SSL_ALLOC_FAILED);
        reads_wait_ = true;
        return {engine::want::input, 0, {}};
    }

    /** Whether read() would only say WANT_READ, with no other effect: the early way out of
        read_on() with every test before it passed. */
    bool read_waits(std::size_t n) const noexcept {
        return n != 0 && in_.empty() && !in_.eof() && reads_quiet();
    }

    /// read_waits() but for what the input queue and the caller's buffer say (engine::
    /// read_waits_for_input() tests those inline): what reads_wait_ caches.
    bool reads_quiet() const noexcept {
        return hs_done_ && !peer_closed_ && reneg_.quiet_for_reads() && !failure_ && mbedtls_idle();
    }

    /// Nothing received and nothing mbedTLS still holds: mbedtls_ssl_read would only say
    /// WANT_READ, after a dozen calls deep.
    bool nothing_to_read() const noexcept { return in_.empty() && !in_.eof() && mbedtls_idle(); }

    /// mbedTLS holds no input, wants to send nothing, and is between handshakes.
    bool mbedtls_idle() const noexcept {
        return internals::handshake_over(ssl_) && !internals::output_pending(ssl_) &&
               nothing_pending();
    }

    /// `quiet`: reads_quiet() holds, n != 0 and something was received, so that none of the
    /// tests before the records applies.
    BOOST_NOINLINE engine::result read_on(unsigned char* p, std::size_t n, bool quiet) {
        reads_wait_ = false; // set again below only where it is tested
        if (!quiet) {
            if (failure_)
                return done(failure_);
            if (!hs_done_)
                return done(error::not_handshaken);
            if (peer_closed_)
                return closed();
            if (n == 0)
                return done({});
            // Application data that arrived while a renegotiation step was reading.
            if (std::size_t k = reneg_.take_stashed(p, n); k != 0)
                return {engine::want::nothing, k, {}};
            reneg_.reading_on();   // after renegotiation_requested, reading on refuses
            if (nothing_to_read()) // e.g. after reading_on() refused a request
                return {engine::want::input, 0, {}};
        }
        // (before_record() queues nothing: what apply() queues counts from here)
        if (auto v = reneg_.before_record(); v.what != renegotiation::verdict::kind::proceed) {
            step_began_ = out_.produced();
            return apply(v, true);
        }
        int ret = 0;
        for (;;) {
            const std::uint64_t records = in_.records_taken(input_queue::application_data);
            step_began_ = out_.produced(); // after a KeyUpdate answered in the turn before
            do // again if mbedTLS stopped at the peer's answer to our request (WANT_READ)
                ret = ssl_read(p, n);
            while (reneg_.after_read(ret, ssl_));
            if (ret > 0) {
                flood_.progress(in_.records_taken()); // flood_clock() after the handshake
                // The next read may begin with the transport. (read_on() returned before
                // here unless hs_done_ and no failure or close_notify: a read that returns
                // data changes none of them.)
                reads_wait_ = reneg_.quiet_for_reads() && mbedtls_idle();
                return {engine::want::nothing, static_cast<std::size_t>(ret), {}};
            }
            if (ret != MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE || !internals::negotiated_tls13(ssl_))
                break;
            // A TLS 1.3 post-handshake message mbedTLS does not process: a KeyUpdate is taken
            // in here, and the read goes on under the new keys.
            const std::uint64_t taken = in_.records_taken(input_queue::application_data) -
                                        std::max(records, ticket_records_);
            if (engine::result r = take_post_handshake_message(ret, taken); r.ec)
                return r;
            flood_.progress(flood_clock()); // a KeyUpdate moved the keys
        }
        return finish_read_error(ret);
    }

    /** A TLS 1.3 handshake message that mbedtls_ssl_read refused (the current message): a
        KeyUpdate moves the inbound keys, and with update_requested we answer with ours at
        once, before any more application data (RFC 8446 4.6.3), unless our previous answer is
        still waiting in the output queue: then that one answers this request too (the RFC's
        "a single update" for several requests received while silent), so that a peer that
        asks again and again makes tlsx queue at most one unsent answer. Anything else, or a
        malformed KeyUpdate, ends the session with an alert. */
    engine::result take_post_handshake_message(int ret, std::uint64_t records) {
        if (!TLSX_HAS_KEY_UPDATE || current_handshake_type() != key_update_type)
            return reject_post_handshake_message(ret);
        // RFC 8446 5.1: a KeyUpdate is aligned with a record boundary. A read that took more
        // than one record to end at it had the message split (each TLS 1.3 record's outer
        // type is application_data; mbedtls_ssl_read returns at each data record or ticket).
        const detail::key_update::received r =
            records > 1 ? detail::key_update::received{MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE,
                                                       MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE}
                        : ku_.receive(ssl_);
        if (r.error != 0) {
            mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL, r.alert);
            return fail(make_mbedtls_error(r.error));
        }
        if (r.requested && out_.consumed() >= answer_end_ && !close_sent_ && !output_failure_) {
            if (int e = ku_.send(ssl_, false); e != 0)
                return fail_alerting(e);
            answer_end_ = out_.produced();
        }
        return done({});
    }

    /** mbedtls_ssl_check_pending() == 0, for a stream transport (its datagram case never
        applies), without the call: that ends in a debug message call even when Debian's
        MBEDTLS_DEBUG_C prints nothing, and runs for every read that waits for a record. The
        same three tests, in 2.28 and 3.6: a record held back, more handshake messages in the
        current record, an application record part-way read. */
    bool nothing_pending() const noexcept {
        if (internals::current_record_kept(ssl_) || internals::application_record_open(ssl_))
            return false;
        const internals::record_view r = internals::current_record(ssl_);
        return !(r.hs_length > 0 && r.hs_length < r.length);
    }

    engine::result finish_read_error(int ret) {
        if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
            if (internals::pending_handshake_fragment(ssl_) == key_update_type)
                return split_key_update(); // its first part ended a record (RFC 8446 5.1)
            return {engine::want::input, 0, {}};
        }
        if (ret == 0) // mbedtls_ssl_read's way of saying MBEDTLS_ERR_SSL_CONN_EOF
            return transport_ended();
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            peer_closed_ = true;
            ++closed_events_;
            return closed();
        }
        if (ret == MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE && internals::negotiated_tls13(ssl_))
            return reject_post_handshake_message(ret);
        if (ret == MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE) {
            // TLS 1.2 has no KeyUpdate; mbedTLS refuses one silently: tell the peer.
            if (current_handshake_type() == key_update_type) {
                mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                               MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE);
                return fail(translate(ret));
            }
        }
        if (ret == MBEDTLS_ERR_SSL_INVALID_RECORD && internals::negotiated_tls13(ssl_)) {
            // A handshake record too short for a message header: mbedTLS 3.6 wants the whole
            // header in the first fragment and tells the peer nothing. A KeyUpdate split so
            // is not aligned with a record boundary either (RFC 8446 5.1).
            if (current_handshake_type() == key_update_type &&
                internals::current_record(ssl_).length < 4)
                return split_key_update();
        }
        return fail_alerting(ret);
    }

    engine::result split_key_update() {
        mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE);
        return fail(make_mbedtls_error(MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE));
    }

    static constexpr int key_update_type = 24; // RFC 8446 HandshakeType

    /// The type of the handshake message mbedTLS holds as its current message; -1 when the
    /// current message is no handshake message.
    int current_handshake_type() const noexcept {
        const internals::record_view rec = internals::current_record(ssl_);
        return rec.type == MBEDTLS_SSL_MSG_HANDSHAKE && rec.msg && rec.length != 0 ? rec.msg[0]
                                                                                   : -1;
    }

    /** mbedTLS 3.6 processes no TLS 1.3 post-handshake message but NewSessionTicket: a
        KeyUpdate (or a CertificateRequest) makes mbedtls_ssl_read fail with
        UNEXPECTED_MESSAGE and tells the peer nothing, so the peer would wait for an answer
        that never comes. Tell it (unexpected_message, RFC 8446 6.2) and name a KeyUpdate. */
    engine::result reject_post_handshake_message(int ret) {
        const int type = current_handshake_type();
        if (type < 0)
            return fail_alerting(ret); // not a handshake message: mbedTLS's alert, or ours
        mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE);
        return fail(type == key_update_type ? error_code(error::key_update_unsupported)
                                            : translate(ret));
    }

    /** Encrypt up to one record of `p`. The plain write (a session that may send, room in the
        queue, no key update due, mbedtls_ssl_write takes the data) is here, small; everything
        else is write_on(). */
    engine::result write(const unsigned char* p, std::size_t n) {
        // Application data out changes nothing a read waits on, unless mbedTLS began a
        // handshake (a renegotiation; a ticket taken in, which only happens while one is
        // pending), records were read into the stash, or the call failed: reads_wait_
        // survives only the plain write.
        const bool quiet = std::exchange(reads_wait_, false);
        if (n == 0 || !may_send() || out_.size() >= output_high_water)
            return write_on(p, n, false, no_write_yet);
        if (ku_.record_due()) // RFC 8446 5.5: the key's record limit is near
            return write_on(p, n, true, no_write_yet);
        step_began_ = out_.produced();
        int ret = ssl_write(p, std::min(n, engine::max_record_plaintext));
        reneg_.after_call(ssl_);
        if (ret < 0)
            return write_on(p, n, false, ret);
        reads_wait_ = quiet && internals::handshake_over(ssl_);
        return {engine::want::nothing, static_cast<std::size_t>(ret), {}};
    }

    /// write_on()'s `ret` when write() called no mbedtls_ssl_write (any value >= 0).
    static constexpr int no_write_yet = 1;

    /** write() but for the plain case. `key_due`: write() found the key's record limit
        reached (ku_.record_due() counted this record); `ret`: the error of the
        mbedtls_ssl_write that write() made, or no_write_yet. */
    BOOST_NOINLINE engine::result write_on(const unsigned char* p, std::size_t n, bool key_due,
                                           int ret) {
        if (ret >= 0) {
            if (error_code ec = cannot_send())
                return done(ec);
            if (n == 0)
                return done({});
            if (out_.size() >= output_high_water)
                return {engine::want::output, 0, {}};
        }
        for (;;) {
            if (ret >= 0) {
                if (key_due || ku_.record_due()) { // RFC 8446 5.5: the key's record limit
                    if (engine::result r = automatic_key_update(); r.ec)
                        return r;
                }
                key_due = false;
                step_began_ = out_.produced();
                ret = ssl_write(p, std::min(n, engine::max_record_plaintext));
                reneg_.after_call(ssl_);
                if (ret >= 0)
                    return {engine::want::nothing, static_cast<std::size_t>(ret), {}};
            }
            if (ret == MBEDTLS_ERR_SSL_WANT_READ)
                return {engine::want::input, 0, {}};
            if (ret != MBEDTLS_ERR_SSL_WAITING_SERVER_HELLO_RENEGO)
                return fail_alerting(ret);
            // Application data came before the server's answer to our renegotiation: keep it
            // for the next read, then go on.
            if (auto v = reneg_.read_into_stash(); v.what != renegotiation::verdict::kind::proceed)
                return apply(v);
            ret = no_write_yet;
        }
    }

    engine::result close() {
        if (close_sent_)
            return done({});
        if (failure_)
            return done(failure_);
        if (output_failure_)
            return done(output_failure_);
        if (!hs_done_) // no session yet (mbedTLS would send nothing and say it did)
            return done(error::not_handshaken);
        step_began_ = out_.produced();
        int ret = mbedtls_ssl_close_notify(&ssl_);
        if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_READ)
            return fail_alerting(ret);
        close_sent_ = true;
        sending_ = false;
        return done({});
    }

    engine::result shutdown(shutdown_type how, bool leave_data) {
        if (!close_sent_) {
            engine::result r = close();
            if (r.ec)
                return r;
        }
        if (how == shutdown_type::send)
            return done({});
        for (;;) {
            if (peer_closed_)
                return done({});
            if (failure_) // the transport ended right after our close_notify: done, as in Asio
                return done(failure_ == error::stream_truncated ? error_code() : failure_);
            if (leave_data)
                return {engine::want::input, 0, {}};
            unsigned char scratch[512];
            engine::result r = read(scratch, sizeof scratch);
            if (r.peer_closed)
                return done({});
            if (r.ec || r.next != engine::want::nothing)
                return r.ec == error::stream_truncated ? done({}) : r;
        }
    }

    // ---- ciphertext queues -----------------------------------------------------------------

    input_queue in_;
    output_queue out_;

    void fail_hard(error_code ec) noexcept {
        if (!failure_)
            failure_ = ec;
        sending_ = false;
    }

    /// Ask the peer to renegotiate and run the new handshake (gnutls_rehandshake + handshake).
    engine::result renegotiate(bool begin) {
        step_began_ = out_.produced();
        if (error_code ec = cannot_send())
            return done(ec);
        if (peer_closed_)
            return done(error::closed);
        // TLS 1.3 has no renegotiation (mbedtls_ssl_renegotiate would send a HelloRequest inside
        // TLS 1.3 and kill the peer). As gnutls_rehandshake: a client's request is invalid; a
        // server's would be a key update, which this mbedTLS cannot send. Neither is fatal.
        if (internals::negotiated_tls13(ssl_)) {
            if (role_ == stream_base::client)
                return done(error::invalid_request);
            return begin ? key_update(true) : done({}); // the server's way under TLS 1.3
        }
        return renegotiation_progress(apply(reneg_.ask(begin)));
    }

    /// A renegotiation (ours or an accepted request) that completed, or the peer's refusal of
    /// ours (the answer we asked for), is progress for the flood guard: its records are no
    /// flood. The peer's own requests are bounded apart (renegotiation::max_peer_renegotiations).
    engine::result renegotiation_progress(engine::result r) {
        if (r.next == engine::want::nothing && !failure_ &&
            (!r.ec || r.ec == error::renegotiation_refused))
            flood_.progress(flood_clock());
        return r;
    }

    /** The flood guard's clock: records begun, but during the first handshake not handshake
        records (fragments of one message are no flood; mbedTLS bounds a message's size). */
    std::uint64_t flood_clock() const noexcept {
        const std::uint64_t all = in_.records_taken();
        return hs_done_ ? all : all - in_.records_taken(input_queue::handshake);
    }

    /** Send our KeyUpdate and move our outbound keys; `request_peer`: ask the peer to update
        its own (it answers with a KeyUpdate that a read takes in). Done once the KeyUpdate is
        in the output queue. */
    engine::result automatic_key_update() {
        if (!TLSX_HAS_KEY_UPDATE || !internals::negotiated_tls13(ssl_)) {
            ku_.disarm(); // TLS 1.2 has no key update
            return done({});
        }
        return key_update(false, true);
    }

    engine::result key_update(bool request_peer, bool automatic = false) {
        if (error_code ec = cannot_send())
            return done(ec);
        if (!TLSX_HAS_KEY_UPDATE || !internals::negotiated_tls13(ssl_))
            return done(error::key_update_unsupported);
        step_began_ = out_.produced();
        if (int ret = ku_.send(ssl_, request_peer, automatic); ret != 0)
            return fail_alerting(ret);
        return done({});
    }

private:
    /// Whether cannot_send() has nothing to say (tested without building its error code).
    bool may_send() const noexcept { return sending_; }

    /// Why this session can send no more application or handshake records; empty when it can.
    error_code cannot_send() const noexcept {
        if (failure_)
            return failure_;
        if (output_failure_)
            return output_failure_;
        if (!hs_done_)
            return error::not_handshaken;
        if (close_sent_)
            return error::closed;
        return {};
    }

    static engine::result done(error_code ec) { return {engine::want::nothing, 0, ec}; }

    engine::result fail(error_code ec) {
        fail_hard(ec);
        return done(ec);
    }

    /// The peer's close_notify, as a read reports it.
    static engine::result closed() {
        engine::result r;
        r.peer_closed = true;
        return r;
    }

    /** Act on what the renegotiation state machine said. Outside a read (`reading`), the
        peer's close_notify ends the step with error::closed: no renegotiation can follow it. */
    engine::result apply(const renegotiation::verdict& v, bool reading = false) {
        using kind = renegotiation::verdict::kind;
        switch (v.what) {
        case kind::proceed:
            return done({});
        case kind::want_input:
            return {engine::want::input, 0, {}};
        case kind::requested:
            return done(error::renegotiation_requested);
        case kind::outcome:
            return done(v.ec);
        case kind::read_error: {
            engine::result r = finish_read_error(v.ret);
            if (r.peer_closed && !reading)
                r.ec = error::closed;
            return r;
        }
        case kind::fatal:
            break;
        }
        return fail_alerting(v.ret);
    }

    /// The verify mode for this session's handshakes from now on. Once set up, the session's
    /// own configuration takes it, so that a renegotiation (TLS 1.2) after the handshake uses
    /// it: the late client-certificate request. TLS 1.3 would need post-handshake
    /// authentication, which mbedTLS lacks, so a 1.3 server cannot tighten its mode then.
    error_code set_verify_mode(verify_mode mode) {
        if (own_conf_) {
            const int want = context_impl::authmode(mode);
            if (hs_done_ && role_ == stream_base::server && internals::negotiated_tls13(ssl_) &&
                want > internals::conf_authmode(*own_conf_))
                return error::post_handshake_auth_unsupported;
            mbedtls_ssl_conf_authmode(&*own_conf_, want);
        }
        mode_override_ = mode;
        has_mode_override_ = true;
        return {};
    }

    /// The transport ended without close_notify after the handshake (a read got EOF).
    engine::result transport_ended() {
        // Under `allow` only an end between records is taken for the peer's close: a record cut
        // short is a truncation TLS itself sees, whatever the application frames.
        if (truncation_ != truncation_policy::allow || internals::record_partly_read(ssl_))
            return fail(error::stream_truncated);
        // The application frames its own data: take the EOF for the peer's close; writes may go
        // on (a half-closed transport).
        if (!peer_closed_) {
            peer_closed_ = true;
            ++closed_events_;
        }
        return closed();
    }

    error_code setup(stream_base::handshake_type type) {
        mbedtls_ssl_config* conf = ctx_->config_for(type);
        if (!conf)
            return error::operation_not_permitted;
        // Each session gets its own copy of the configuration: renegotiation is switched on
        // and off per session (only while we accept one), and a per-stream verify mode needs
        // its own authmode. mbedtls_ssl_config is plain data pointing into the context
        // (lists, ticket keys), which the shared_ptr keeps alive, so a shallow copy is complete
        // and costs no parsing. Settings held in the configuration itself (verify mode,
        // versions, renegotiation) are copied now and later changes to the context do not
        // reach this session; what it points to (lists, ticket keys) is shared, which is why a
        // context in use must not be changed, except by a reload (below).
        // Held in the engine itself (mbedTLS points at it; the engine never moves): one
        // allocation fewer per session than a heap copy.
        conf = &own_conf_.emplace(*conf);
        // The context's own certificates and trust as they are now, held for the session's
        // life: a reload publishes new ones for later sessions and leaves these alone.
        creds_ = ctx_->snapshot();
        creds_.apply(*conf);
        if (type == stream_base::server && ctx_->sni_cb)
            mbedtls_ssl_conf_sni(conf, &engine_impl::sni_cb, this); // keeps what it chooses
        if (!has_truncation_override_)
            truncation_ = ctx_->truncation;
        if (has_mode_override_)
            mbedtls_ssl_conf_authmode(conf, context_impl::authmode(mode_override_));
        if (type == stream_base::client)
            internals::conf_signal_tickets(conf); // TLS 1.3 tickets: see ssl_read()
        in_.pause_before(0); // the flood guard looks at the first record (took_nothing())
        reneg_.attach(ssl_, *conf, in_, type, ctx_->renegotiation, ctx_->renegotiation_max_records);
        if (!in_.reserve())
            return make_mbedtls_error(MBEDTLS_ERR_SSL_ALLOC_FAILED);
        int ret = mbedtls_ssl_setup(&ssl_, conf);
        if (ret != 0)
            return make_mbedtls_error(ret);
        setup_ = true;
        role_ = type;
        mbedtls_ssl_set_bio(&ssl_, this, &engine_impl::send_cb, &engine_impl::recv_cb, nullptr);
        mbedtls_ssl_set_verify(&ssl_, &engine_impl::verify_cb, this);
        attach_keylog(*ctx_, ssl_);
        ku_.attach(ssl_, type == stream_base::client,
                   ctx_->keylog_cb ? &ctx_->keylog_target : nullptr, ctx_->key_update_threshold);
        if (!hostname_.empty()) {
            ret = mbedtls_ssl_set_hostname(&ssl_, hostname_.c_str());
            if (ret != 0)
                return make_mbedtls_error(ret);
        } else if (type == stream_base::client && verifies_server()) {
            // A certificate that chains to a trusted authority but may name any host proves
            // little: without a name, verifying needs an explicit choice of chain-only.
            bool required = name_required_ >= 0 ? name_required_ != 0 : ctx_->server_name_required;
            if (required)
                return error::server_name_required;
            internals::verify_without_host_name(ssl_);
        }
        if (type == stream_base::client && !offered_session_.empty()) {
            // A copy of the session parsed when it was saved or loaded (session_state). Not
            // offered (a full handshake runs) outside this client's versions, nor, for a TLS
            // 1.3 session, a second time (session_state::claim_offer).
            const session_state& s = *offered_session_.state();
            if (internals::session_version_allowed(*conf, s.parsed) &&
                s.claim_offer(internals::session_is_tls13(s.parsed))) {
                if (mbedtls_ssl_set_session(&ssl_, &s.parsed) != 0)
                    return error::invalid_session;
                offered_ = offered_session_;
            }
        }
        return {};
    }

    /// Whether a client session checks the server's certificate (verify mode other than none).
    bool verifies_server() const noexcept {
        verify_mode m = has_mode_override_ ? mode_override_ : ctx_->mode[stream_base::client];
        return m != verify_mode::none;
    }

    /// mbedtls_ssl_handshake, one step at a time, so that whether the session was resumed can
    /// be read before mbedTLS frees its handshake parameters.
    int run_handshake() {
        int ret = 0;
        while (!internals::handshake_over(ssl_)) {
            resumption_.before_step(ssl_);
            step_began_ = out_.produced(); // (see send_cb: TLS 1.3 hides an alert's type)
            flood_.handshake_state(internals::handshake_state(ssl_), flood_clock());
            in_.limit_record_body(internals::record_body_limit(ssl_)); // as the version is now
            ret = mbedtls_ssl_handshake_step(&ssl_);
            if (ret != 0)
                break;
        }
        return ret;
    }

    void first_handshake_done() {
        // The handshake's flights needed a few KiB; an idle connection needs none. The first
        // write, and the first read that waits for input, allocate again, once (steady state
        // stays allocation-free). The input queue keeps records that came behind the
        // handshake's, and its storage while mbedTLS holds input (which came through it).
        out_.release();
        if (nothing_pending())
            in_.release();
        hs_done_ = true;
        sending_ = !failure_ && !output_failure_ && !close_sent_;
        flood_.progress(flood_clock());
        in_.limit_record_body(internals::record_body_limit(ssl_)); // the version is settled
        tls12_ticket_ = role_ == stream_base::client && !internals::negotiated_tls13(ssl_) &&
                        handshake_brought_ticket();
    }

    /** Whether a TLS 1.2 handshake received a NewSessionTicket: the session holds a ticket
        other than the one offered. (mbedTLS keeps the offered ticket in the session when the
        server neither resumes nor issues a new one, and a server that resumes by ticket may
        keep it; either way nothing new arrived.) */
    bool handshake_brought_ticket() const noexcept {
        const mbedtls_ssl_session* s = internals::current_session(ssl_);
        if (!s)
            return false;
        internals::ticket_view t = internals::session_ticket(*s);
        if (t.size == 0)
            return false;
        internals::ticket_view old;
        if (!offered_.empty())
            old = internals::session_ticket(offered_.state()->parsed);
        return t.size != old.size || std::memcmp(t.data, old.data, t.size) != 0;
    }

    // ---- session tickets -------------------------------------------------------------------

    /** mbedtls_ssl_read with TLS 1.3 tickets taken in. A NewSessionTicket is neither data nor
        an error: the read goes on past it, so that data after it in the same flight is
        delivered by this read, and a ticket alone ends as WANT_READ (internals: "Session
        tickets" says how mbedTLS reports one). Each turn takes a ticket in, so it ends. */
    int ssl_read(unsigned char* p, std::size_t n) {
        bool retried = false;
        int ret = mbedtls_ssl_read(&ssl_, p, n);
        while (ret <= 0 && (took_ticket(ret, retried) || empty_record(ret))) // data: at once
            ret = mbedtls_ssl_read(&ssl_, p, n);
        return ret;
    }

    /** Whether mbedtls_ssl_read's 0 is an empty application record, not the transport's end:
        it skips one empty record (OpenSSL's IV randomisation), but a second in a row it
        delivers, as 0 bytes, which is also how it says CONN_EOF. recv_cb says EOF only once
        the transport ended and the queue is empty; until then, records that came before the
        end (data, close_notify) are still to be read. Empty records are bounded (mbedTLS
        fails a fourth in a row; the flood guard counts them), so reading on ends. */
    bool empty_record(int ret) const noexcept { return ret == 0 && !(in_.eof() && in_.empty()); }

    /// mbedtls_ssl_write with TLS 1.3 tickets taken in (mbedtls_ssl_write finishes a ticket
    /// that a read left half taken in).
    int ssl_write(const unsigned char* p, std::size_t n) {
        bool retried = false;
        int ret = mbedtls_ssl_write(&ssl_, p, n);
        while (ret < 0 && took_ticket(ret, retried)) // taken: at once
            ret = mbedtls_ssl_write(&ssl_, p, n);
        return ret;
    }

    /** Whether `ret` is a ticket being taken in (counted) rather than the call's result. A call
        parked at a ticket is called again once; parked again (no progress: mbedTLS wants
        input after all), its WANT_READ stands, so that nothing can spin. */
    bool took_ticket(int ret, bool& retried) noexcept {
        if (internals::ticket_signalled(ret)) {
            ++tickets_;
            ticket_records_ = in_.records_taken(input_queue::application_data);
            retried = false;
            return true;
        }
        if (ret != MBEDTLS_ERR_SSL_WANT_READ || !internals::ticket_parked(ssl_) || retried)
            return false;
        retried = true;
        ticket_records_ = in_.records_taken(input_queue::application_data);
        return true;
    }

    /** The session to save (client, after the handshake): TLS 1.3, that of the latest ticket,
        none before one came (so none after a resumption until the server sends a new ticket);
        TLS 1.2, that of the handshake (on 2.28, of the latest renegotiation).

        Exported when asked, not when the ticket arrives: the session mbedTLS holds is that of
        its latest ticket until the next one, and exporting copies (and parses) the peer's
        certificate, which a read that meets tickets should not pay for, nor allocate in the
        steady state. mbedTLS 3.x exports each session once, so the export is kept and handed
        out again until there is a newer one to export. */
    session saved_session() const {
        if (!hs_done_ || role_ != stream_base::client)
            return {};
        if (internals::negotiated_tls13(ssl_) && tickets_ == 0)
            return {};
        session s = save_session(ssl_);
        if (!s.empty())
            saved_ = std::move(s);
        return saved_;
    }

    bool ticket_received() const noexcept {
        if (!hs_done_ || role_ != stream_base::client)
            return false;
        return internals::negotiated_tls13(ssl_) ? tickets_ != 0 : tls12_ticket_;
    }

    /** The session failed with mbedTLS's `ret`, in a handshake (the first, a renegotiation
        inside a read or a write, a key update) or after it: make sure the peer learns why,
        then fail. */
    engine::result fail_alerting(int ret) {
        tell_peer(ret);
        return fail(translate(ret));
    }

    /** Make sure the peer gets exactly one fatal alert, and the one that names the failure.

        mbedTLS sends an alert on most failure paths, but not on all (a record it refuses at
        its header, a two-byte ChangeCipherSpec, 2.28's BAD_HS_* returns, ...), which leaves
        the peer waiting for a flight that never comes. If this step queued no alert record,
        queue the one src/alerts.cpp chooses for `ret` (none when the peer's alert or the
        transport's end ended the session). */
    void tell_peer(int ret) {
        if (output_failure_ || alert_end_ > step_began_)
            return; // nothing can reach the peer, or the failing call told it already
        if (flood_.tripped())
            return; // refuse_flood() sent unexpected_message
        const int alert = in_.oversized() ? MBEDTLS_SSL_ALERT_MSG_RECORD_OVERFLOW
                                          : alerts::for_failure(ssl_, ret);
        if (alert >= 0)
            mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                           static_cast<unsigned char>(alert));
    }

    /// Turn an mbedTLS failure into the most telling error_code.
    error_code translate(int ret) const {
        if (flood_.tripped())
            return error::too_many_ignored_records; // recv_cb refused a record
        switch (ret) {
        case MBEDTLS_ERR_SSL_CONN_EOF:
            return error::stream_truncated;
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: {
            // The record layer keeps the alert in in_msg: [level, description].
            const unsigned char* msg = internals::received_alert(ssl_);
            if (msg)
                return {msg[1], alert_category()};
            break;
        }
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
            return verify_error(internals::handshake_verify_result(ssl_));
        case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
            return error::no_peer_certificate;
        case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
            // Verification is required but no certificate authority was loaded: nothing can be
            // trusted (the secure default of a bare client context).
            return error::certificate_untrusted;
        default:
            break;
        }
        return make_mbedtls_error(ret);
    }

    error_code verify_error(std::uint32_t flags) const {
        if (flags & MBEDTLS_X509_BADCERT_REVOKED)
            return error::certificate_revoked;
        if (flags & MBEDTLS_X509_BADCERT_MISSING)
            return error::no_peer_certificate;
        if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
            return error::certificate_untrusted;
        if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
            return error::certificate_expired;
        if (flags & MBEDTLS_X509_BADCERT_FUTURE)
            return error::certificate_not_yet_valid;
        if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
            return error::certificate_name_mismatch;
        if (callback_rejected_)
            return error::certificate_rejected;
        return error::certificate_invalid;
    }

    /** mbedTLS is sending an alert while it handles the peer's HelloRequest or ClientHello
        after a TLS 1.2 handshake and stays after it: its no_renegotiation warning for a refused
       request (the only alert mbedTLS sends there), after which the same call reads on and may fail
        without an alert of its own. tell_peer() must not count it as the failure's alert. */
    bool refusing_renegotiation() const noexcept {
        if (internals::negotiated_tls13(ssl_) || !internals::handshake_over(ssl_))
            return false;
        // The request in hand: mbedTLS clears hs_length when it moves past a message.
        const internals::record_view rec = internals::current_record(ssl_);
        return rec.type == MBEDTLS_SSL_MSG_HANDSHAKE && rec.hs_length != 0 && rec.msg &&
               (rec.msg[0] == MBEDTLS_SSL_HS_HELLO_REQUEST ||
                rec.msg[0] == MBEDTLS_SSL_HS_CLIENT_HELLO);
    }

    static int send_cb(void* p, const unsigned char* buf, std::size_t len) {
        auto& self = *static_cast<engine_impl*>(p);
        if (self.output_failed_)          // output_failure_, in one flag
            return static_cast<int>(len); // the transport is gone for writing: drop
        if (!self.out_.append(buf, len))
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        // mbedTLS 2.x/3.x hand over whole records, so the first byte is the content type. A
        // TLS 1.3 record hides its type (and mbedTLS keeps no trace of it once encrypted): an
        // mbedTLS call that fails queues no other record than its alert, so a record queued
        // by the failing call counts as one (tell_peer()).
        const unsigned char type = len != 0 ? buf[0] : 0;
        if (type == MBEDTLS_SSL_MSG_ALERT && self.refusing_renegotiation())
            return static_cast<int>(len); // a warning, which tells the peer no failure
        if (type == MBEDTLS_SSL_MSG_ALERT ||
            (type == MBEDTLS_SSL_MSG_APPLICATION_DATA && internals::negotiated_tls13(self.ssl_)))
            self.alert_end_ = self.out_.produced();
        return static_cast<int>(len);
    }

    static int recv_cb(void* p, unsigned char* buf, std::size_t len) {
        auto& self = *static_cast<engine_impl*>(p);
        std::size_t k = self.in_.take(buf, len); // 0 also at a check point, or held back
        return k != 0 ? static_cast<int>(k) : self.took_nothing(buf, len);
    }

    /** recv_cb() when the input queue gave nothing: a record over the version's limit, the
        flood guard's check point (before every record during the first handshake, whose
        records stop its clock; after it, where the bound would be reached if no progress came
        meanwhile), a handshake record held back, or no input. */
    BOOST_NOINLINE int took_nothing(unsigned char* buf, std::size_t len) {
        if (!in_.oversized() && in_.paused()) {
            if (flood_.exceeded(flood_clock()) && !unseen_progress())
                return refuse_flood(); // refuse to begin one more record
            in_.pause_before(hs_done_ ? flood_.bound_reached_at() : in_.records_taken() + 1);
            if (std::size_t k = in_.take(buf, len); k != 0)
                return static_cast<int>(k);
        }
        if (in_.oversized()) // over record_body_limit(): tell_peer() names it
            return MBEDTLS_ERR_SSL_INVALID_RECORD;
        if (in_.eof() && in_.empty())
            return 0;
        // The stream reads the transport into the queue next: it needs its storage.
        return in_.reserve() ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }

    static int sni_cb(void* p, mbedtls_ssl_context* ssl, const unsigned char* name,
                      std::size_t len) {
        auto& self = *static_cast<engine_impl*>(p);
        return run_sni_callback(*self.ctx_, ssl, name, len, &self.sni_keep_);
    }

    /** Progress that the flood guard does not see as it happens (looked at only when the
        bound is reached, off the hot path): application data a renegotiation step read into
        the stash (delivered by a later read), a renegotiation that completed inside
        mbedtls_ssl_read. Either resets the count. A completed renegotiation is looked at once,
        so it lets at most one bound's worth more through. */
    bool unseen_progress() noexcept {
        bool moved = false;
        if (reneg_.stashed() != stash_seen_) {
            stash_seen_ = reneg_.stashed();
            moved = true;
        }
        if (reneg_.events() != reneg_events_seen_) {
            reneg_events_seen_ = reneg_.events();
            moved = moved || reneg_.current() == engine::renegotiation_phase::done;
        }
        if (moved)
            flood_.progress(flood_clock());
        return moved;
    }

    /** The flood guard's bound is reached: the next record would be one too many. Tell the peer
        (unexpected_message, as Go's crypto/tls for "too many ignored records") and fail the
        mbedTLS call that wanted it; translate() names the error. mbedTLS sends nothing for a
        receive callback's failure, and its output is never pending here (send_cb takes every
        record), so the alert goes out whole, after whatever mbedTLS queued before. */
    int refuse_flood() {
        if (!flood_.tripped()) {
            flood_.trip();
            mbedtls_ssl_send_alert_message(&ssl_, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                           MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE);
        }
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }

    static int verify_cb(void* p, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags) {
        auto& self = *static_cast<engine_impl*>(p);
        int max_depth = self.depth_override_ >= 0 ? self.depth_override_ : self.ctx_->verify_depth;
        if (max_depth >= 0 && depth > max_depth + 1)
            *flags |= MBEDTLS_X509_BADCERT_OTHER; // chain longer than allowed
        const verify_callback& cb = self.verify_cb_ ? self.verify_cb_ : self.ctx_->verify_cb;
        if (cb) {
            verify_context vc(crt, depth, flags);
            bool ok = false;
            try {
                ok = cb(*flags == 0, vc);
            } catch (...) {
                ok = false; // never let an exception unwind through mbedTLS
            }
            if (ok) {
                *flags = 0;
            } else if (*flags == 0) {
                *flags = MBEDTLS_X509_BADCERT_OTHER;
                self.callback_rejected_ = true;
            }
        }
        return 0;
    }

    std::shared_ptr<context_impl> ctx_;
    credential_snapshot creds_; // what own_conf_ points at (certificates, trust)
    std::vector<std::shared_ptr<const void>> sni_keep_; // what SNI callbacks chose (use())
    mbedtls_ssl_context ssl_;
    std::optional<mbedtls_ssl_config> own_conf_; // set up by setup()
    bool setup_ = false;
    stream_base::handshake_type role_ = stream_base::client;

    std::string hostname_;
    session offered_session_;
    session offered_;                  // offered_session_, if it was offered
    std::uint32_t tickets_ = 0;        // TLS 1.3 tickets received
    std::uint64_t ticket_records_ = 0; // records taken when the latest ticket was
    bool tls12_ticket_ = false;        // the TLS 1.2 handshake brought a ticket
    mutable session saved_;            // the latest export (saved_session())

    renegotiation reneg_;
    std::uint64_t reneg_events_seen_ = 0; // reneg_.events() when the flood guard last looked
    std::uint64_t stash_seen_ = 0;        // reneg_.stashed() when the flood guard last looked
    flood_guard flood_;
    detail::key_update ku_;
    std::uint64_t answer_end_ = 0; // out_.produced() after our latest answer to update_requested
    std::unique_ptr<unsigned char[]> staging_; // engine::write_gathered()
    std::uint64_t closed_events_ = 0;          // the peer's close_notify was seen (see events())
    internals::resumption_probe resumption_;
    verify_mode mode_override_ = verify_mode::required;
    bool has_mode_override_ = false;
    verify_callback verify_cb_;
    int depth_override_ = -1;
    int name_required_ = -1; // -1: the context's setting
    truncation_policy truncation_ = truncation_policy::error;
    bool has_truncation_override_ = false;
    bool callback_rejected_ = false;

    std::uint64_t step_began_ = 0; // out_.produced() when the current mbedTLS call began
    std::uint64_t alert_end_ = 0;  // out_.produced() after the latest record that may be an
                                   // alert (send_cb)
    bool hs_done_ = false;
    bool peer_closed_ = false;
    // A read with a buffer and an empty input queue would only want input (reads_quiet() held
    // when the last engine call ended): engine::read_waits_for_input(). Set where it was just
    // tested (read(), a read that returned data), kept by a plain write, cleared by every other
    // engine call.
    bool reads_wait_ = false;
    bool close_sent_ = false;
    // may_send(): hs_done_, and no close_sent_, failure_ or output_failure_ (each set once, for
    // good), kept where they are set so that a write tests one flag.
    bool sending_ = false;
    bool output_failed_ = false; // output_failure_ is set (send_cb tests this once per record)
    error_code failure_;
    error_code output_failure_;
    mutable const char* suite_source_ = nullptr; // what suite_ was made from
    mutable char suite_[64] = {};
    mutable std::size_t suite_size_ = 0;
};

const std::size_t engine_state_size = sizeof(engine_impl);
static_assert(sizeof(engine_impl) != input_queue::capacity &&
                  sizeof(engine_impl) != output_queue::initial_capacity,
              "recycled_blocks.cpp tells the recycled blocks apart by size");

} // namespace detail

//----------------------------------------------------------------------------------------------

engine::engine(const context& ctx) {
    if (!ctx.impl())
        throw boost::system::system_error(error::invalid_argument,
                                          "tlsx::engine: the context was moved from");
    impl_ = std::make_unique<detail::engine_impl>(ctx.impl());
    in_ = &impl_->in_;
    out_ = &impl_->out_;
    reads_wait_ = &impl_->reads_wait_;
}

engine::engine(engine&& other) noexcept
    : impl_(std::move(other.impl_))
    , in_(std::exchange(other.in_, nullptr))
    , out_(std::exchange(other.out_, nullptr))
    , reads_wait_(std::exchange(other.reads_wait_, nullptr)) {}
engine& engine::operator=(engine&& other) noexcept {
    impl_ = std::move(other.impl_);
    in_ = std::exchange(other.in_, nullptr);
    out_ = std::exchange(other.out_, nullptr);
    reads_wait_ = std::exchange(other.reads_wait_, nullptr);
    return *this;
}
engine::~engine() = default;

void engine::set_server_name(std::string_view host, error_code& ec) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->set_server_name(host, ec);
}
void engine::set_verify_mode(verify_mode mode) {
    error_code ec;
    set_verify_mode(mode, ec);
    if (ec)
        throw boost::system::system_error(ec, "tlsx::engine::set_verify_mode");
}
void engine::set_verify_mode(verify_mode mode, error_code& ec) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    ec = impl_->set_verify_mode(mode);
}
void engine::set_verify_callback(verify_callback cb) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->verify_cb_ = std::move(cb);
}
void engine::set_verify_depth(int depth) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->depth_override_ = depth;
}
void engine::set_server_name_required(bool required) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->name_required_ = required ? 1 : 0;
}
void engine::set_truncation_policy(truncation_policy policy) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->truncation_ = policy;
    impl_->has_truncation_override_ = true;
}
void engine::set_renegotiation(renegotiation_policy policy) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->reneg_.set_policy(policy);
}
engine::result engine::renegotiate(bool begin) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    return impl_->renegotiate(begin);
}
engine::result engine::key_update(bool request_peer) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    return impl_->key_update(request_peer);
}
std::uint64_t engine::key_generation(bool inbound) const noexcept {
    return inbound ? impl_->ku_.inbound_generation() : impl_->ku_.outbound_generation();
}
void engine::set_session(const session& s) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->offered_session_ = s;
}

engine::result engine::handshake(stream_base::handshake_type type) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    return impl_->handshake(type);
}
engine::result engine::read_some_impl(boost::asio::mutable_buffer buf) {
    return impl_->read(static_cast<unsigned char*>(buf.data()), buf.size());
}
engine::result engine::write(boost::asio::const_buffer buf) {
    return impl_->write(static_cast<const unsigned char*>(buf.data()), buf.size());
}
boost::asio::mutable_buffer engine::staging() noexcept {
    auto& stage = impl_->staging_;
    if (!stage)
        stage.reset(new (std::nothrow) unsigned char[max_record_plaintext]);
    if (!stage)
        return {};
    return {stage.get(), max_record_plaintext};
}
engine::result engine::close() {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    return impl_->close();
}
engine::result engine::shutdown(shutdown_type how, bool leave_data) {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    return impl_->shutdown(how, leave_data);
}

// ---- state ---------------------------------------------------------------------------------

std::uint64_t engine::events() const noexcept {
    return impl_->closed_events_ + impl_->reneg_.events();
}
bool engine::handshake_done() const noexcept {
    return impl_->hs_done_;
}
bool engine::peer_closed() const noexcept {
    return impl_->peer_closed_;
}
bool engine::close_sent() const noexcept {
    return impl_->close_sent_;
}
bool engine::failed() const noexcept {
    return static_cast<bool>(impl_->failure_);
}
error_code engine::failure() const noexcept {
    return impl_->failure_;
}
void engine::fail(error_code ec) noexcept {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    impl_->fail_hard(ec);
}
void engine::fail_output(error_code ec) noexcept {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    auto& d = *impl_;
    if (!d.output_failure_)
        d.output_failure_ = ec;
    d.output_failed_ = true;
    d.sending_ = false;
    d.out_.discard(); // whatever is queued can no longer be framed correctly on the wire
}

// ---- information after the handshake -------------------------------------------------------

/// mbedTLS names suites as IANA does but with dashes, and TLS 1.3's with "TLS1-3-" where IANA
/// has "TLS_" (TLS1-3-AES-128-GCM-SHA256 is TLS_AES_128_GCM_SHA256). Looked up again after a
/// renegotiation, which may change the suite; the names are mbedTLS's static strings.
std::string_view engine::cipher_suite() const noexcept {
    auto& d = *impl_;
    if (!d.hs_done_)
        return {};
    const char* name = mbedtls_ssl_get_ciphersuite(&d.ssl_);
    if (name != d.suite_source_) {
        d.suite_source_ = name;
        std::size_t n = name ? std::min(std::strlen(name), sizeof d.suite_ - 1) : 0;
        constexpr std::string_view tls13_prefix = "TLS1-3-";
        std::size_t skip = 0;
        if (std::string_view(name ? name : "", n).substr(0, tls13_prefix.size()) == tls13_prefix)
            skip = tls13_prefix.size() - 4; // keep "TLS_"'s place: "TLS1-3-X" -> "TLS_X"
        if (skip != 0) {
            std::memcpy(d.suite_, "TLS_", 4);
            std::replace_copy(name + tls13_prefix.size(), name + n, d.suite_ + 4, '-', '_');
        } else {
            std::replace_copy(name, name + n, d.suite_, '-', '_');
        }
        d.suite_size_ = n - skip;
    }
    return {d.suite_, d.suite_size_};
}
std::string_view engine::protocol_version() const noexcept {
    const char* v = impl_->hs_done_ ? mbedtls_ssl_get_version(&impl_->ssl_) : nullptr;
    return v ? std::string_view(v) : std::string_view();
}
std::string_view engine::alpn_protocol() const noexcept {
    const char* p = impl_->hs_done_ ? mbedtls_ssl_get_alpn_protocol(&impl_->ssl_) : nullptr;
    return p ? std::string_view(p) : std::string_view();
}
std::vector<unsigned char> engine::peer_certificate() const {
    const mbedtls_x509_crt* crt =
        impl_->hs_done_ ? mbedtls_ssl_get_peer_cert(&impl_->ssl_) : nullptr;
    if (!crt)
        return {};
    return {crt->raw.p, crt->raw.p + crt->raw.len};
}
session engine::get_session() const {
    return impl_->saved_session();
}
bool engine::session_ticket_received() const noexcept {
    return impl_->ticket_received();
}
bool engine::session_reused() const noexcept {
    return impl_->hs_done_ && impl_->resumption_.resumed();
}
engine::renegotiation_phase engine::renegotiation_state() const noexcept {
    return impl_->reneg_.current();
}
std::uint32_t engine::verify_result() const noexcept {
    return impl_->setup_ ? mbedtls_ssl_get_verify_result(&impl_->ssl_) : 0;
}
mbedtls_ssl_context* engine::native_handle() noexcept {
    impl_->reads_wait_ = false; // see read_waits_for_input()
    return impl_->setup_ ? &impl_->ssl_ : nullptr;
}

} // namespace tlsx
