//
// tlsx/detail/deadline.hpp — per-stream time limits: the handshake, the shutdown and the read idle
// limit, on any next layer.
//
#ifndef TLSX_DETAIL_DEADLINE_HPP
#define TLSX_DETAIL_DEADLINE_HPP

#include <tlsx/detail/stream_core.hpp>
#include <tlsx/error.hpp>
#include <tlsx/stream_base.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#if !defined(BOOST_ASIO_WINDOWS)
#include <poll.h>
#endif

namespace tlsx {
namespace detail {

/** The time limits of one stream, and what its operations do with them.

    Allocated once per stream, when a limit is first set (by the stream or by its context's
    defaults); a stream without limits has none, and its operations pay one null test at their
    start and one at their end. Each limited operation kind gets a timer, made at its first
    operation and then re-armed (expires_after + async_wait, from Asio's recycling allocator)
    and cancelled per operation.

    On expiry the transport's lowest layer is closed: every transport operation in flight
    completes (operation_aborted), so the timed operation completes with
    `boost::asio::error::timed_out` and the operations pending beside it with
    `operation_aborted`; none hangs and each handler runs once, from its own completion.

    The timers' handlers hold a weak reference: a stream destroyed with a timer pending leaves
    the handler nothing to touch.
*/
class deadline_base : public std::enable_shared_from_this<deadline_base> {
public:
    deadline_base() = default;
    deadline_base(const deadline_base&) = delete;
    deadline_base& operator=(const deadline_base&) = delete;
    virtual ~deadline_base() = default;

    /// The limit of an operation kind (no_timeout: none; writes have none).
    timeout_duration limit(op_kind k) const noexcept { return limit_[index(k)]; }
    /// Set the limit of an operation kind, for its operations that begin afterwards.
    /// @param implicit The limit is a server context's default, not the user's: a blocking
    /// operation that cannot wait with a limit runs without it rather than failing.
    void set_limit(stream_core& core, op_kind k, timeout_duration d,
                   bool implicit = false) noexcept {
        limit_[index(k)] = d;
        implicit_[index(k)] = implicit;
        update_bit(core, k);
    }
    /// Whether the limit of a kind is a server context's default (set_limit).
    bool implicit(op_kind k) const noexcept { return implicit_[index(k)]; }

    /// An asynchronous operation of kind `k` has begun (it owns the kind): start its clock.
    void arm(op_kind k, stream_core& core) {
        const std::size_t i = index(k);
        aborted_[i] = false;
        core_ = &core;
        if (limit_[i] == no_timeout)
            return;
        armed_[i] = true;
        expired_[i] = false;
        start_timer(k, limit_[i], ++generation_[i]);
    }

    /** An asynchronous operation of kind `k` completes with `ec`: stop its clock, and say what
        it completes with: `timed_out` when its own limit expired; `operation_aborted` for an
        error of an operation that was pending when another's limit expired; else `ec`. */
    error_code disarm(op_kind k, error_code ec) {
        const std::size_t i = index(k);
        if (armed_[i]) {
            armed_[i] = false;
            ++generation_[i]; // a timer that fired meanwhile is ignored
            update_bit(*core_, k);
            if (expired_[i]) {
                expired_[i] = false;
                return boost::asio::error::timed_out;
            }
            cancel_timer(k);
        }
        if (aborted_[i]) {
            aborted_[i] = false;
            update_bit(*core_, k);
            if (ec)
                return boost::asio::error::operation_aborted;
        }
        return ec;
    }

protected:
    static std::size_t index(op_kind k) noexcept { return static_cast<std::size_t>(k); }

    /// A timer of kind `k` fired (not cancelled) for the arming numbered `generation`.
    void expire(op_kind k, unsigned generation) {
        const std::size_t i = index(k);
        if (!armed_[i] || generation != generation_[i])
            return; // the operation completed, or another began, before the handler ran
        expired_[i] = true;
        for (std::size_t j = 0; j < op_kind_count; ++j)
            if (j != i && core_->busy(static_cast<op_kind>(j))) {
                aborted_[j] = true;
                update_bit(*core_, static_cast<op_kind>(j));
            }
        close_transport(*core_);
    }

private:
    // Whether operations of kind k must call the hooks: stream_core::timed_kinds_.
    void update_bit(stream_core& core, op_kind k) noexcept {
        const std::size_t i = index(k);
        if (limit_[i] != no_timeout || aborted_[i] || armed_[i])
            core.timed_kinds_ |= stream_core::kind_bit(k);
        else
            core.timed_kinds_ &= static_cast<std::uint8_t>(~stream_core::kind_bit(k));
    }

    virtual void start_timer(op_kind k, timeout_duration d, unsigned generation) = 0;
    virtual void cancel_timer(op_kind k) noexcept = 0;
    virtual void close_transport(stream_core& core) noexcept = 0;

    timeout_duration limit_[op_kind_count] = {};
    unsigned generation_[op_kind_count] = {};
    bool armed_[op_kind_count] = {};
    bool expired_[op_kind_count] = {};
    bool aborted_[op_kind_count] = {};
    bool implicit_[op_kind_count] = {};
    stream_core* core_ = nullptr; // the stream's, as of the last arm (streams do not move then)
};

template <class T, class = void>
struct has_close_ec : std::false_type {};
template <class T>
struct has_close_ec<T, std::void_t<decltype(std::declval<T&>().close(std::declval<error_code&>()))>>
    : std::true_type {};

/// Close a transport's lowest layer, whatever its close() looks like.
template <class Lowest>
void close_lowest(Lowest& l) noexcept {
    if constexpr (has_close_ec<Lowest>::value) {
        error_code ignored;
        l.close(ignored);
    } else {
        try {
            l.close();
        } catch (...) {
        }
    }
}

/// The deadlines of a stream<NextLayer>: timers on the next layer's executor.
template <class NextLayer, class LowestOf>
class deadline_impl final : public deadline_base {
public:
    using executor_type = typename NextLayer::executor_type;
    using timer_type =
        boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                          boost::asio::wait_traits<std::chrono::steady_clock>,
                                          executor_type>;

    explicit deadline_impl(executor_type ex)
        : ex_(std::move(ex)) {}

private:
    struct on_timer {
        std::weak_ptr<deadline_base> self;
        op_kind kind;
        unsigned generation;
        void operator()(error_code ec) const {
            if (ec) // cancelled: the operation completed in time
                return;
            if (auto p = self.lock())
                static_cast<deadline_impl&>(*p).expire(kind, generation);
        }
    };

    void start_timer(op_kind k, timeout_duration d, unsigned generation) override {
        std::optional<timer_type>& t = timers_[index(k)];
        if (!t)
            t.emplace(ex_);
        t->expires_after(d);
        t->async_wait(on_timer{weak_from_this(), k, generation});
    }

    void cancel_timer(op_kind k) noexcept override {
        if (std::optional<timer_type>& t = timers_[index(k)])
            t->cancel();
    }

    void close_transport(stream_core& core) noexcept override {
        close_lowest(LowestOf::get(*static_cast<NextLayer*>(core.next_layer_)));
    }

    executor_type ex_;
    std::optional<timer_type> timers_[op_kind_count];
};

//----------------------------------------------------------------------------------------------
// Blocking operations with a limit. A timer needs someone to run the io_context, which a
// blocking caller does not; so the blocking driver waits for the socket itself, with poll(2)
// and the time left, the socket in non-blocking mode meanwhile. That needs a socket as the
// lowest layer (tcp::socket, a local socket, beast::tcp_stream's); on any other (the test pipe)
// a blocking operation with a limit the user set fails at once with
// error::sync_deadline_unsupported (a server context's default limit is not enforced there).
//----------------------------------------------------------------------------------------------

/// Whether blocking operations on a NextLayer whose lowest layer is `Lowest` can have a limit.
template <class Lowest, class = void>
struct sync_deadline_supported : std::false_type {};
#if !defined(BOOST_ASIO_WINDOWS)
template <class Lowest>
struct sync_deadline_supported<
    Lowest,
    std::void_t<decltype(std::declval<Lowest&>().native_handle()),
                decltype(std::declval<Lowest&>().non_blocking(true, std::declval<error_code&>()))>>
    : std::bool_constant<
          std::is_base_of_v<boost::asio::socket_base, Lowest> &&
          std::is_convertible_v<decltype(std::declval<Lowest&>().native_handle()), int>> {};
#endif

/// The transport calls of the blocking driver with no limit: plain blocking calls.
template <class NextLayer>
struct plain_sync_io {
    NextLayer& next;

    std::size_t write(boost::asio::const_buffer b, error_code& ec) {
        return boost::asio::write(next, b, ec);
    }
    std::size_t read_some(boost::asio::mutable_buffer b, error_code& ec) {
        return next.read_some(b, ec);
    }
};

#if defined(BOOST_ASIO_WINDOWS)
template <class NextLayer, class Lowest>
class timed_sync_io; // never used: sync_deadline_supported is false
#else
/// The transport calls of the blocking driver with a limit: each waits with poll(2) for at most
/// the time left; at the limit the socket is closed and the call fails with `timed_out`.
template <class NextLayer, class Lowest>
class timed_sync_io {
public:
    timed_sync_io(NextLayer& next, Lowest& socket, timeout_duration limit)
        : next_(next)
        , socket_(socket)
        , deadline_(std::chrono::steady_clock::now() + limit) {
        was_non_blocking_ = socket_.non_blocking();
        error_code ignored;
        socket_.non_blocking(true, ignored);
    }
    timed_sync_io(const timed_sync_io&) = delete;
    timed_sync_io& operator=(const timed_sync_io&) = delete;
    ~timed_sync_io() {
        error_code ignored;
        if (socket_.is_open())
            socket_.non_blocking(was_non_blocking_, ignored);
    }

    std::size_t write(boost::asio::const_buffer b, error_code& ec) {
        for (;;) {
            std::size_t n = next_.write_some(b, ec);
            if (!would_block(ec))
                return n;
            if (!wait(POLLOUT, ec))
                return 0;
        }
    }

    std::size_t read_some(boost::asio::mutable_buffer b, error_code& ec) {
        for (;;) {
            std::size_t n = next_.read_some(b, ec);
            if (!would_block(ec))
                return n;
            if (!wait(POLLIN, ec))
                return 0;
        }
    }

private:
    static bool would_block(const error_code& ec) noexcept {
        return ec == boost::asio::error::would_block || ec == boost::asio::error::try_again;
    }

    // Wait until the socket is ready for `events` or the deadline; false (ec set) past it.
    bool wait(short events, error_code& ec) {
        for (;;) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(
                deadline_ - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                close_lowest(socket_);
                ec = boost::asio::error::timed_out;
                return false;
            }
            ::pollfd p{};
            p.fd = socket_.native_handle();
            p.events = events;
            const int ms = left.count() > 1000000 ? 1000000 : static_cast<int>(left.count());
            const int r = ::poll(&p, 1, ms);
            if (r > 0) // ready, or an error or hang-up that the next call reports
                return true;
            if (r < 0 && errno != EINTR) {
                ec = error_code(errno, boost::system::system_category());
                return false;
            }
        }
    }

    NextLayer& next_;
    Lowest& socket_;
    std::chrono::steady_clock::time_point deadline_;
    bool was_non_blocking_ = false;
};
#endif

} // namespace detail
} // namespace tlsx

#endif
