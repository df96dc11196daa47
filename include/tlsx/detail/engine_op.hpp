//
// tlsx/detail/engine_op.hpp — the one asynchronous driver of every stream operation, its policies,
// and the blocking driver.
//
#ifndef TLSX_DETAIL_ENGINE_OP_HPP
#define TLSX_DETAIL_ENGINE_OP_HPP

#include <tlsx/detail/deadline.hpp>
#include <tlsx/detail/stream_core.hpp>
#include <tlsx/engine.hpp>
#include <tlsx/error.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/config.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

namespace tlsx {
namespace detail {

//----------------------------------------------------------------------------------------------
// Policies: what each operation asks of the engine. The driver below does all the I/O, holds
// the locks and busy flags, and decides what a failed transport operation means (by its
// direction, the same for every operation). A policy sees the engine, and one fact only the
// driver knows: whether a user read is outstanding beside it (`read_pending`).
//
// A policy provides:
//   kind                           its op_kind (one outstanding per kind)
//   needs_flush                    whether it completes only once the output it produced is
//                                  written; false lets a read complete while another op is
//                                  writing its alert
//   tracking_name()                its name in Asio's handler tracking
//   step(engine, read_pending)     one engine step
//   may_read_transport(read_pending)  whether it may read the transport now (default: yes)
//   bytes(result)                  the size it completes with
//----------------------------------------------------------------------------------------------

struct policy_base {
    static constexpr bool has_bytes = false;              // completes with a byte count
    static constexpr bool reports_bytes_on_error = false; // ... even when it fails
    static bool may_read_transport(bool /*read_pending*/) noexcept { return true; }
    static std::size_t bytes(const engine::result& r) noexcept { return r.bytes; }
};

/// async_read_some: decrypt into the first non-empty buffer.
template <class MutableBufferSequence>
struct read_policy : policy_base {
    static constexpr op_kind kind = op_kind::read;
    static constexpr bool needs_flush = false;
    static constexpr bool has_bytes = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_read_some";
    }

    MutableBufferSequence buffers;

    engine::result step(engine& e, bool) {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        auto end = boost::asio::buffer_sequence_end(buffers);
        for (; it != end; ++it) {
            boost::asio::mutable_buffer b(*it);
            if (b.size() != 0)
                return e.read(b);
        }
        return {}; // a zero-size read completes at once, as in Asio
    }
};

/// async_write_some: encrypt up to one record, coalescing a gather write into one record.
/// @see boostorg/asio#100 (one record per buffer of a gather write)
template <class ConstBufferSequence>
struct write_policy : policy_base {
    static constexpr op_kind kind = op_kind::write;
    static constexpr bool needs_flush = true;
    static constexpr bool has_bytes = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_write_some";
    }

    ConstBufferSequence buffers;

    engine::result step(engine& e, bool) { return e.write_gathered(buffers); }
};

/** The single-buffer forms of read_policy and write_policy, which the operations of
    asio::async_read / async_write and of most callers use: the buffer goes to the stream's
    progress when the operation begins, so that the operation Asio moves through every transport
    call does not carry it. Steps as the general forms do with one buffer. */
struct read_buffer_policy : policy_base {
    static constexpr op_kind kind = op_kind::read;
    static constexpr bool needs_flush = false;
    static constexpr bool has_bytes = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_read_some";
    }

    static engine::result step(engine& e, bool, const op_progress& p) {
        if (p.buffer.size() == 0)
            return {}; // a zero-size read completes at once, as in Asio
        // The buffer was a mutable one when saved (see reduced_policy).
        return e.read({const_cast<void*>(p.buffer.data()), p.buffer.size()});
    }
};

struct write_buffer_policy : policy_base {
    static constexpr op_kind kind = op_kind::write;
    static constexpr bool needs_flush = true;
    static constexpr bool has_bytes = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_write_some";
    }

    static engine::result step(engine& e, bool, const op_progress& p) {
        return p.buffer.size() == 0 ? engine::result{} : e.write(p.buffer);
    }
};

/// What an operation keeps of its policy (the policy itself, or a single-buffer form whose
/// buffer save() puts in the progress once the operation owns its kind).
template <class Policy>
struct reduced_policy {
    using type = Policy;
    static type&& stored(Policy& p) noexcept { return std::move(p); }
    static void save(const Policy&, op_progress&) noexcept {}
};
template <>
struct reduced_policy<read_policy<boost::asio::mutable_buffer>> {
    using type = read_buffer_policy;
    static type stored(const read_policy<boost::asio::mutable_buffer>&) noexcept { return {}; }
    static void save(const read_policy<boost::asio::mutable_buffer>& r, op_progress& p) noexcept {
        p.buffer = r.buffers;
    }
};
template <class Buffer>
struct reduced_write_policy {
    using type = write_buffer_policy;
    static type stored(const write_policy<Buffer>&) noexcept { return {}; }
    static void save(const write_policy<Buffer>& w, op_progress& p) noexcept {
        p.buffer = w.buffers;
    }
};
template <>
struct reduced_policy<write_policy<boost::asio::const_buffer>>
    : reduced_write_policy<boost::asio::const_buffer> {};
template <>
struct reduced_policy<write_policy<boost::asio::mutable_buffer>>
    : reduced_write_policy<boost::asio::mutable_buffer> {};

/// A policy's step, with the operation's progress for the policies that keep state there.
template <class P>
auto policy_step(P& policy, engine& e, bool read_pending, op_progress& p)
    -> decltype(policy.step(e, read_pending, p)) {
    return policy.step(e, read_pending, p);
}
template <class P>
auto policy_step(P& policy, engine& e, bool read_pending, const op_progress&)
    -> decltype(policy.step(e, read_pending)) {
    return policy.step(e, read_pending);
}

/// async_handshake: run the handshake in one role.
struct handshake_policy : policy_base {
    static constexpr op_kind kind = op_kind::handshake;
    static constexpr bool needs_flush = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_handshake";
    }

    stream_base::handshake_type type;

    engine::result step(engine& e, bool) { return e.handshake(type); }
};

/// async_handshake with bytes already read from the transport (e.g. by a protocol sniffer).
template <class ConstBufferSequence>
struct buffered_handshake_policy : handshake_policy {
    static constexpr bool has_bytes = true; // how many of the caller's bytes were used
    static constexpr bool reports_bytes_on_error = true;
    ConstBufferSequence buffers;
    std::size_t used = 0;

    buffered_handshake_policy(stream_base::handshake_type t, const ConstBufferSequence& b)
        : handshake_policy{{}, t}
        , buffers(b) {}

    engine::result step(engine& e, bool) {
        // The caller's bytes may not all fit in the input queue at once: keep feeding them as
        // the engine consumes, so that "wants input" only ever means the transport.
        for (;;) {
            std::size_t before = used;
            feed(e);
            engine::result r = e.handshake(type);
            if (r.next != engine::want::input || used == before)
                return r;
        }
    }

    // Serve the caller's bytes before reading the transport.
    bool may_read_transport(bool) const noexcept {
        return used == boost::asio::buffer_size(buffers);
    }

    std::size_t bytes(const engine::result&) const noexcept { return used; }

private:
    // put_input() takes nothing while a transport read holds the input queue's free space.
    void feed(engine& e) {
        std::size_t skip = used;
        auto it = boost::asio::buffer_sequence_begin(buffers);
        auto end = boost::asio::buffer_sequence_end(buffers);
        for (; it != end; ++it) {
            boost::asio::const_buffer b(*it);
            if (skip >= b.size()) {
                skip -= b.size();
                continue;
            }
            b += skip;
            skip = 0;
            std::size_t n = e.put_input(b);
            used += n;
            if (n < b.size())
                break;
        }
    }
};

/// async_renegotiate: ask the peer to renegotiate and run the new handshake.
struct renegotiate_policy : policy_base {
    static constexpr op_kind kind = op_kind::handshake;
    static constexpr bool needs_flush = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_renegotiate";
    }

    bool begun = false; // the first step begins a new request (engine::renegotiate)

    engine::result step(engine& e, bool) {
        engine::result r = e.renegotiate(!begun);
        begun = true;
        return r;
    }

    // A pending read processes the records (and keeps their data); only read the transport
    // when nobody else will.
    static bool may_read_transport(bool read_pending) noexcept { return !read_pending; }
};

/// async_key_update: queue our KeyUpdate (TLS 1.3), then flush it to the next layer.
struct key_update_policy : policy_base {
    static constexpr op_kind kind = op_kind::handshake;
    static constexpr bool needs_flush = true;
    static constexpr const char* tracking_name() noexcept {
        return "tlsx::stream::async_key_update";
    }

    bool request_peer = false;
    bool sent = false; // one KeyUpdate per operation, whatever the number of steps

    engine::result step(engine& e, bool) {
        if (sent)
            return {};
        sent = true;
        return e.key_update(request_peer);
    }

    static bool may_read_transport(bool) noexcept { return false; } // never waits for input
};

/// async_shutdown: queue close_notify, and for shutdown_type::both wait for the peer's.
struct shutdown_policy : policy_base {
    static constexpr op_kind kind = op_kind::shutdown;
    static constexpr bool needs_flush = true;
    static constexpr const char* tracking_name() noexcept { return "tlsx::stream::async_shutdown"; }

    shutdown_type how;

    // A pending read owns the application data: the engine leaves it to that read.
    engine::result step(engine& e, bool read_pending) { return e.shutdown(how, read_pending); }

    static bool may_read_transport(bool read_pending) noexcept { return !read_pending; }
};

//----------------------------------------------------------------------------------------------

// engine_op::run() builds each step's result over the previous one without destroying it.
static_assert(std::is_trivially_destructible<engine::result>::value,
              "engine::result is reconstructed in place");

/** The one asynchronous driver: runs a policy's steps and moves ciphertext.

    Loop: step the engine; if ciphertext is queued and the write lock is free, take it and write
    the whole queue; if the step needs input and the read lock is free, take it and read; else
    park until the lock holder wakes us. Completion waits until the op's own output is written,
    except that a read may leave its output (an alert) to an active writer, who always drains
    the whole queue before completing: output produced while reading never sits unsent
    (Botan's stream) and a read's output never waits for a write (openssl#8677, h2o#597).

    Hand-written rather than built with asio::async_compose, as Asio's own ssl::detail::io_op
    is: a composed_op holds and moves an outstanding-work guard (a type-erased executor) through
    every intermediate step, whose cost docs/performance.md gives.
    The transport operations started here already keep the handler's executor busy, and a
    parked op is always woken by one of them, so no guard is needed. What async_compose gave is
    kept: the handler's associated executor, allocator and everything else Asio associates
    (the associator below), terminal and partial cancellation (cancel_, filtered as before),
    and never completing inside the initiating function (a post to the handler's executor).
*/
template <class NextLayer, class Policy, class Handler>
class engine_op {
public:
    using cancellation_slot_type = boost::asio::cancellation_slot;

    // The operation itself is the user's handler, the stream's core and the policy: what Asio
    // moves through every transport call (several moves per call). Everything else it needs
    // (the transport, its cancellation state, which transport operation is in flight, whether
    // one was started) is kept in the core, per operation kind, as its progress is.
    template <class H>
    engine_op(stream_core& core, Policy policy, H&& handler)
        : handler_(std::forward<H>(handler))
        , core_(&core)
        , policy_(std::move(policy)) {}

    engine_op(engine_op&&) = default;

    /// The slot of the intermediate operations (the user's, filtered to terminal and partial).
    cancellation_slot_type get_cancellation_slot() const noexcept { return state().cancel.slot(); }

    /// Begin: called once by the initiation; `save` puts what the policy keeps in the
    /// progress there (see reduced_policy).
    template <class Save>
    void start(Save&& save) {
        if (!core_->begin(Policy::kind)) {
            // Another operation of this kind is outstanding and owns the kind's state: touch
            // none of it, and complete (never inside the initiating function) with the error.
            post_completion(error::operation_not_permitted);
            return;
        }
        op_progress& p = state();
        p.reset(boost::asio::get_associated_cancellation_slot(handler_));
        save(p);
        if (core_->timed_kinds_ & stream_core::kind_bit(Policy::kind))
            core_->deadlines_->arm(Policy::kind, *core_);
        if constexpr (std::is_same<Policy, read_buffer_policy>::value) {
            // The common read: nothing received and nothing else to do, which the engine
            // knows without a step (that step would only want input). Read the transport now.
            if (!core_->read_locked_ && p.buffer.size() != 0 &&
                core_->engine_.read_waits_for_input())
                return read_transport(p);
        }
        run();
    }

    /// A transport read or write completed.
    void operator()(error_code ec, std::size_t n) {
        clear_slot();
        stream_core& core = *core_;
        if (state().writing) {
            core.write_locked_ = false;
            core.engine_.consume_output(n);
            core.wake_all();
            // Part of a record may be on the wire: nothing more can be written in this session
            // (reads may go on). The same for every operation.
            if (ec) {
                core.engine_.fail_output(ec);
                return finish(ec);
            }
        } else {
            core.read_locked_ = false;
            core.engine_.commit_input(n);
            core.wake_all();
            if (ec) { // compared with eof only when set: the comparison is not free
                if (ec != boost::asio::error::eof) {
                    // A failed or cancelled read leaves the session as it was: a partial record
                    // stays buffered and the next step resumes it. The same for every operation.
                    return finish(ec);
                }
                core.engine_.input_eof(); // the engine decides: close_notify seen or truncated
            }
        }
        run();
    }

    /// Woken from parking.
    void operator()() {
        clear_slot();
        // Cancelled while waiting for another operation's transport I/O: that operation goes on
        // and the session stays as it is. If our own step had finished and only the flush of its
        // records was pending, they are queued and the writer in flight sends them: complete as
        // the step did (a write reports its bytes), never "aborted" for data that will go out.
        if (state().cancel.cancelled() != boost::asio::cancellation_type::none) {
            const op_progress& p = state();
            return finish(p.done ? p.result.ec : error_code(boost::asio::error::operation_aborted));
        }
        run();
    }

    /// Intermediate operations run as continuations of this one (Asio's scheduling hint).
    friend bool asio_handler_is_continuation(engine_op* op) {
        return op->state().initiated
                   ? true
                   : boost_asio_handler_cont_helpers::is_continuation(op->handler_);
    }

    Handler handler_; // public for the associator

private:
    // The steady state of one operation is: a step, one transport call, a step (or none), the
    // handler. The loop asks the engine as little as it can: whether output is queued once per
    // turn, the flush counters only when output is queued, and the event counter only while
    // another operation is parked (nobody else could be woken by a change). Inline in its
    // three callers: its own entry and exit cost more than the copies (docs/performance.md).
    BOOST_FORCEINLINE void run() {
        stream_core& core = *core_;
        engine& e = core.engine_;
        op_progress& p = core.progress(Policy::kind);
        for (;;) {
            bool output;
            if (!p.done) {
                const bool watch = core.any_parked();
                const std::uint64_t events = watch ? e.events() : 0;
                // Built where it is kept (a prvalue initialises it in place), not assigned
                // from a temporary: one 48-byte copy less per step. engine::result is
                // trivially destructible, so the old value needs no destructor call.
                ::new (static_cast<void*>(&p.result))
                    engine::result(policy_step(policy_, e, core.busy(op_kind::read), p));
                output = e.has_output();
                if (p.result.next == engine::want::nothing) {
                    p.done = true;
                    // Nothing queued: everything this step produced has been written.
                    p.flush_target = output ? e.output_produced() : 0;
                }
                // E.g. a read finished a renegotiation that a parked renegotiate waits for,
                // with no transport event to wake it.
                if (watch && e.events() != events)
                    core.wake_all();
            } else {
                output = e.has_output();
            }
            if (output && !core.write_locked_) {
                core.write_locked_ = true;
                p.writing = true;
                p.initiated = true;
                // One write_some at a time: the loop comes back here until the queue is empty
                // (cheaper than a composed asio::async_write around every record).
                BOOST_ASIO_HANDLER_LOCATION((__FILE__, __LINE__, Policy::tracking_name()));
                next().async_write_some(e.output(), std::move(*this));
                return;
            }
            if (p.done) {
                if (!output || e.output_consumed() >= p.flush_target ||
                    (!Policy::needs_flush && core.write_locked_))
                    return finish(p.result.ec);
                return park(); // the writer wakes us when our records are out
            }
            // Read the transport only when nothing received is left unconsumed: otherwise
            // another operation must consume it first (e.g. a read draining data that a
            // renegotiation step kept), and a read started now might never return while that
            // operation finishes the work this one waits for.
            if (p.result.next == engine::want::input && !core.read_locked_ && e.input_size() == 0 &&
                policy_.may_read_transport(core.busy(op_kind::read))) {
                return read_transport(p);
            }
            return park(); // another op holds the lock we need
        }
    }

    /// Read the transport into the engine's input queue (the read lock is free).
    BOOST_NOINLINE void read_transport(op_progress& p) {
        stream_core& core = *core_;
        core.read_locked_ = true;
        p.writing = false;
        p.initiated = true;
        BOOST_ASIO_HANDLER_LOCATION((__FILE__, __LINE__, Policy::tracking_name()));
        next().async_read_some(core.engine_.prepare_input(), std::move(*this));
    }

    /// Take our intermediate operation's handler out of the user's slot (only if connected:
    /// the common handler has no slot, and clearing one is an out-of-line call).
    void clear_slot() noexcept {
        op_progress& p = state();
        if (p.cancellable)
            p.cancel.slot().clear();
    }

    /// Wait for the lock holder; a cancellation takes us out of the slot.
    void park() {
        op_progress& p = state();
        p.initiated = true;
        auto slot = p.cancel.slot();
        if (slot.is_connected())
            slot.template emplace<unparker>(core_);
        stream_core& core = *core_;
        auto ex = next().get_executor();
        core.park(Policy::kind, std::move(*this), std::move(ex));
    }

    struct unparker {
        explicit unparker(stream_core* c) noexcept
            : core(c) {} // C++17: no aggregate emplace
        stream_core* core;
        void operator()(boost::asio::cancellation_type) { core->unpark(Policy::kind); }
    };

    /// Complete with `ec`, and the byte count of the policy's result. Everything the handler
    /// gets is copied out of the stream first: the handler may destroy the stream, or start
    /// another operation of the same kind.
    void finish(const error_code& result) {
        if (core_->timed_kinds_ & stream_core::kind_bit(Policy::kind)) // deadline.hpp
            return finish_with(core_->deadlines_->disarm(Policy::kind, result));
        finish_with(result);
    }
    /// finish() with the operation's final error code.
    void finish_with(error_code ec) {
        op_progress& p = state();
        std::size_t n = policy_.bytes(p.result);
        if (ec && ec != boost::asio::error::eof && !Policy::reports_bytes_on_error)
            n = 0;
        const bool initiated = p.initiated;
        NextLayer& transport = next();
        core_->end(Policy::kind);
        core_->wake_all(); // e.g. a shutdown waiting for this read to see close_notify
        if (!initiated)
            return post_completion(ec, n, transport);
        if constexpr (Policy::has_bytes)
            std::move(handler_)(ec, n);
        else
            std::move(handler_)(ec);
    }

    /// Complete without having started any I/O: never inside the initiating function, so post
    /// the handler to its executor (the transport's by default), as a transport operation would.
    void post_completion(error_code ec, std::size_t n = 0) { post_completion(ec, n, next()); }
    void post_completion(error_code ec, std::size_t n, NextLayer& transport) {
        if constexpr (Policy::has_bytes)
            boost::asio::post(transport.get_executor(),
                              boost::asio::append(std::move(handler_), ec, n));
        else
            boost::asio::post(transport.get_executor(),
                              boost::asio::append(std::move(handler_), ec));
    }

    /// This operation's state in the stream (valid from start() on, while it owns its kind).
    op_progress& state() const noexcept { return core_->progress(Policy::kind); }
    /// The transport, which the initiation leaves in the core.
    NextLayer& next() const noexcept { return *static_cast<NextLayer*>(core_->next_layer_); }

    stream_core* core_;
    Policy policy_;
};

/// The initiation of every asynchronous operation of a stream (for asio::async_initiate).
template <class NextLayer>
class initiate_engine_op {
public:
    using executor_type = typename NextLayer::executor_type;

    initiate_engine_op(NextLayer& next, stream_core& core) noexcept
        : next_(next)
        , core_(core) {}

    executor_type get_executor() const noexcept { return next_.get_executor(); }

    template <class Handler, class Policy>
    void operator()(Handler&& handler, Policy policy) const {
        // Where the stream's transport is: a stream does not move while operations are
        // outstanding, so this holds until they complete.
        core_.next_layer_ = &next_;
        using reduced = reduced_policy<Policy>;
        engine_op<NextLayer, typename reduced::type, std::decay_t<Handler>>(
            core_, reduced::stored(policy), std::forward<Handler>(handler))
            .start([&policy](op_progress& p) { reduced::save(policy, p); });
    }

private:
    NextLayer& next_;
    stream_core& core_;
};

//----------------------------------------------------------------------------------------------

/** The blocking driver: the same policies over synchronous transport calls (Asio's detail::io).

    Sync operations must not run concurrently with async ones on the same stream.
*/
template <class NextLayer, class Policy, class Io>
std::size_t run_sync_with(Io& io, stream_core& core, Policy& policy, error_code& ec) {
    if (!core.begin(Policy::kind)) {
        ec = error::operation_not_permitted;
        return 0;
    }
    struct releaser {
        stream_core& c;
        ~releaser() { c.end(Policy::kind); }
    } release{core};

    engine& e = core.engine_;
    for (;;) {
        engine::result r = policy.step(e, false);
        while (e.has_output()) {
            std::size_t n = io.write(e.output(), ec);
            e.consume_output(n);
            if (ec) {
                e.fail_output(ec); // as in engine_op: decided by the direction that failed
                return 0;
            }
        }
        if (r.next == engine::want::nothing) {
            ec = r.ec;
            return policy.bytes(r);
        }
        if (r.next == engine::want::input) {
            std::size_t n = io.read_some(e.prepare_input(), ec);
            e.commit_input(n);
            if (ec == boost::asio::error::eof) {
                e.input_eof();
            } else if (ec) {
                return 0;
            }
        }
    }
}

/** The blocking driver: the same policies over synchronous transport calls (Asio's detail::io).
    With a time limit for the operation's kind it waits for a socket with poll(2) (deadline.hpp);
    `LowestOf::get(next)` is the next layer's lowest layer.

    Sync operations must not run concurrently with async ones on the same stream.
*/
template <class LowestOf, class NextLayer, class Policy>
std::size_t run_sync(NextLayer& next, stream_core& core, Policy& policy, error_code& ec) {
    if ((core.timed_kinds_ & stream_core::kind_bit(Policy::kind)) &&
        core.deadlines_->limit(Policy::kind) != no_timeout) {
        auto& lowest = LowestOf::get(next);
        using lowest_type = std::remove_reference_t<decltype(lowest)>;
        if constexpr (sync_deadline_supported<lowest_type>::value) {
            timed_sync_io<NextLayer, lowest_type> io(next, lowest,
                                                     core.deadlines_->limit(Policy::kind));
            return run_sync_with<NextLayer>(io, core, policy, ec);
        } else if (!core.deadlines_->implicit(Policy::kind)) {
            (void)lowest;
            ec = error::sync_deadline_unsupported;
            return 0;
        }
    }
    plain_sync_io<NextLayer> io{next};
    return run_sync_with<NextLayer>(io, core, policy, ec);
}

} // namespace detail
} // namespace tlsx

namespace boost {
namespace asio {

/// An engine_op is associated with whatever its handler is: executor, allocator, and anything
/// else Asio associates (the cancellation slot is its own: engine_op::get_cancellation_slot).
template <template <class, class> class Associator, class NextLayer, class Policy, class Handler,
          class DefaultCandidate>
struct associator<Associator, tlsx::detail::engine_op<NextLayer, Policy, Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const tlsx::detail::engine_op<NextLayer, Policy, Handler>& op) noexcept {
        return Associator<Handler, DefaultCandidate>::get(op.handler_);
    }

    static auto get(const tlsx::detail::engine_op<NextLayer, Policy, Handler>& op,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(op.handler_, c)) {
        return Associator<Handler, DefaultCandidate>::get(op.handler_, c);
    }
};

} // namespace asio
} // namespace boost

#endif
