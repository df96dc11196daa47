//
// tlsx/detail/stream_core.hpp — what the operations of one stream share: the engine, two transport
// locks, parking slots.
//
#ifndef TLSX_DETAIL_STREAM_CORE_HPP
#define TLSX_DETAIL_STREAM_CORE_HPP

#include <tlsx/detail/waiter.hpp>
#include <tlsx/engine.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/config.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace tlsx {
namespace detail {

class deadline_base; // tlsx/detail/deadline.hpp

/** How far the outstanding operation of one kind has got, and its state: kept in the stream
    rather than in the operation, so that the handler object Asio moves through every transport
    call is only the user's handler, a pointer and the policy. Reset when an operation of that
    kind begins. */
struct op_progress {
    engine::result result{};                // of the last engine step
    std::uint64_t flush_target = 0;         // output_produced() when the step finished
    boost::asio::cancellation_state cancel; // the user's slot, filtered to terminal and partial
    boost::asio::const_buffer buffer;       // a single-buffer read's or write's (reduced_policy)
    bool done = false;        // the step finished; waiting for its output to be written
    bool writing = false;     // the transport operation in flight is a write (else a read)
    bool initiated = false;   // it started I/O or parked: it no longer runs in its initiator
    bool cancellable = false; // the handler's slot was connected (`cancel` has a slot)

    /// Begin an operation whose handler has `slot`: every field as new, member by member
    /// (cheaper than assigning a new op_progress, on every operation). All but `result`, which
    /// the operation's first engine step sets before anything reads it (the driver steps before
    /// it can do I/O, park or finish).
    template <class CancellationSlot>
    void reset(CancellationSlot slot) {
        flush_target = 0;
        cancellable = slot.is_connected();
        cancel =
            cancellable
                ? boost::asio::cancellation_state(slot, boost::asio::enable_partial_cancellation())
                : boost::asio::cancellation_state();
        buffer = {};
        done = writing = initiated = false;
    }
};

/// The kinds of operation a stream may have outstanding at once, one of each.
enum class op_kind : unsigned char { read, write, handshake, shutdown };
constexpr std::size_t op_kind_count = 4;

/** What the operations of one stream share: the engine, the two transport locks, and one
    parking slot and one busy flag per operation kind.

    The read lock is held by whichever operation has a transport read in flight, the write lock
    by whichever has a transport write in flight. No operation waits for one lock while holding
    the other, so a blocked write can never starve a read (rustls#2556), and any operation may
    take either lock: a read flushes the alert it produced, a write reads the records of a
    renegotiation.
*/
struct stream_core {
    explicit stream_core(const context& ctx)
        : engine_(ctx) {}

    stream_core(stream_core&&) = default;
    stream_core& operator=(stream_core&&) = default;

    /// Claim the slot of an operation kind; false if one of that kind is already outstanding.
    bool begin(op_kind k) noexcept {
        bool& b = busy_[static_cast<std::size_t>(k)];
        if (b)
            return false;
        b = true;
        return true;
    }

    /// Release the slot of an operation kind.
    void end(op_kind k) noexcept { busy_[static_cast<std::size_t>(k)] = false; }

    /// Whether an operation of this kind is outstanding.
    bool busy(op_kind k) const noexcept { return busy_[static_cast<std::size_t>(k)]; }

    /// The progress of the outstanding operation of a kind.
    op_progress& progress(op_kind k) noexcept { return progress_[static_cast<std::size_t>(k)]; }

    /** Park `h` in the slot of an operation kind; waking posts it through `ex` (see waiter).
        The slots are counted, so that whether any is taken is one test (asked several times per
        operation). */
    template <class Handler, class Executor>
    void park(op_kind k, Handler&& h, Executor ex) {
        detail::waiter& w = waiters_[static_cast<std::size_t>(k)];
        const bool was_empty = w.empty();
        w.emplace(std::forward<Handler>(h), std::move(ex));
        parked_ += was_empty;
    }

    /// Post the operation parked in the slot of a kind, if any (its cancellation).
    void unpark(op_kind k) {
        detail::waiter& w = waiters_[static_cast<std::size_t>(k)];
        if (!w.empty()) {
            --parked_;
            w.post();
        }
    }

    /// Whether an operation is parked (waiting for another to change something).
    bool any_parked() const noexcept { return parked_ != 0; }

    /// Something changed (a lock was released, input arrived, output drained, an operation
    /// ended): let every parked operation look again. Order: handshake, shutdown, write, read.
    /// Called a few times per operation: the test is inline, the waking is not.
    void wake_all() {
        if (any_parked())
            wake_parked();
    }

private:
    // Out of line, so that wake_all()'s test stays small where it is inlined.
    BOOST_NOINLINE void wake_parked() {
        unpark(op_kind::handshake);
        unpark(op_kind::shutdown);
        unpark(op_kind::write);
        unpark(op_kind::read);
    }

public:
    engine engine_;
    /// The stream's transport (its NextLayer), left here by every asynchronous initiation:
    /// operations find it here instead of each carrying a pointer through every transport call.
    void* next_layer_ = nullptr;
    bool read_locked_ = false;
    bool write_locked_ = false;
    /// The stream's time limits; null until one is set.
    std::shared_ptr<deadline_base> deadlines_;
    /// Bit k (1 << op_kind): operations of kind k call deadlines_'s hooks (a limit is set, or
    /// one pending when another's limit expired is to complete with operation_aborted). One
    /// test per operation start and end, whether the stream has limits or not.
    std::uint8_t timed_kinds_ = 0;

    /// The bit of an operation kind in timed_kinds_.
    static constexpr std::uint8_t kind_bit(op_kind k) noexcept {
        return static_cast<std::uint8_t>(1u << static_cast<unsigned>(k));
    }

private:
    bool busy_[op_kind_count] = {};
    op_progress progress_[op_kind_count];
    detail::waiter waiters_[op_kind_count];
    unsigned parked_ = 0; // how many of waiters_ hold an operation
};

} // namespace detail
} // namespace tlsx

#endif
