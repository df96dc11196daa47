//
// tlsx/test.hpp — an in-memory transport pair and a connected TLS client/server pair for unit
// tests.
//
#ifndef TLSX_TEST_HPP
#define TLSX_TEST_HPP

/** @file
    For users' own unit tests: an in-memory transport and a connected client/server pair.

    @namespace tlsx::test
    In-memory transports and a ready TLS pair, for unit tests (<tlsx/test.hpp>).

    @code
    boost::asio::io_context io;
    tlsx::test::tls_pair p{io};                 // self-signed server, client trusts it
    p.client.next_layer().set_write_size(1);    // fragment every transport write to 1 byte
    // ... async_handshake both, async_write/async_read, io.run()
    @endcode
*/

#include <tlsx/context.hpp>
#include <tlsx/detail/waiter.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/allocator.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/relationship.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/require.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tlsx {
namespace test {

namespace detail {

/// One direction of a pipe: bytes in flight, EOF flag, at most one pending async read.
struct channel {
    struct pending_read {
        virtual void fill(channel& c) = 0;     // copy data (or EOF) and post
        virtual void abort(error_code ec) = 0; // post with an error
        virtual void cancelled() = 0;          // the handler's cancellation slot fired
        virtual void destroy() noexcept = 0;

    protected:
        ~pending_read() = default;
    };

    /// Bytes in flight; a vector with a read offset keeps its capacity, so steady-state traffic
    /// does not allocate (a deque would allocate and free blocks all the time).
    struct byte_queue {
        std::vector<unsigned char> buf;
        std::size_t head = 0;

        bool empty() const noexcept { return head == buf.size(); }
        std::size_t size() const noexcept { return buf.size() - head; }
        const unsigned char* begin() const noexcept { return buf.data() + head; }
        const unsigned char* end() const noexcept { return buf.data() + buf.size(); }
        template <class It>
        void insert(const unsigned char*, It first, It last) {
            if (empty())
                clear();
            buf.insert(buf.end(), first, last);
        }
        void pop(std::size_t n) noexcept {
            head += n;
            if (empty())
                clear();
        }
        void clear() noexcept {
            buf.clear();
            head = 0;
        }
    };

    byte_queue data;
    bool eof = false;
    pending_read* reader = nullptr;
    std::condition_variable cv;
    int waiters = 0; // blocking reads waiting on cv (notify_all is not free even with none)

    // Called with the pipe mutex held, as is notify().
    void wake_waiters() {
        if (waiters != 0)
            cv.notify_all();
    }

    ~channel() {
        if (reader)
            reader->destroy();
    }

    // Called with the pipe mutex held.
    void notify() {
        wake_waiters();
        if (reader && (!data.empty() || eof)) {
            pending_read* r = std::exchange(reader, nullptr);
            r->fill(*this);
        }
    }
};

struct shared_state {
    std::mutex mutex;
    channel chan[2]; // chan[i]: bytes written by end i, read by end 1-i
};

} // namespace detail

/** Fail the Nth transport operation, as Beast's `beast::test::fail_count`.

    Counts operations (read_some, write_some, async_read_some, async_write_some) of every pipe
    end it is attached to (see basic_pipe::set_fail_count); the Nth one (counting from 0) and
    every later one fail with the chosen error, so a test can loop N over 0, 1, 2, ... until a
    whole conversation succeeds, and thus fail every operation of it once.

    @code
    tlsx::test::fail_count fc{n, boost::asio::error::connection_reset};
    p.client.next_layer().set_fail_count(&fc);
    p.server.next_layer().set_fail_count(&fc);
    @endcode

    @par Thread Safety
    Shared objects: safe (one counter may count both ends, on different threads).
*/
class fail_count {
public:
    /// Fail operation number n (from 0) and all after it with `ec`.
    /// @param n The number of operations that succeed before the first failure.
    /// @param ec The error the failing operations report (default: `connection_reset`).
    explicit fail_count(std::size_t n, error_code ec = boost::asio::error::make_error_code(
                                           boost::asio::error::connection_reset))
        : n_(n)
        , ec_(ec) {}

    fail_count(const fail_count&) = delete;
    fail_count& operator=(const fail_count&) = delete;

    /// Count one operation: returns true and sets `ec` if it is to fail.
    /// @param ec Set to the chosen error if the operation is to fail, else left alone.
    /// @return Whether the operation is to fail.
    bool fail(error_code& ec) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        if (i_ < n_) {
            ++i_;
            return false;
        }
        tripped_ = true;
        ec = ec_;
        return true;
    }

    /// Operations counted so far that did not fail.
    /// @return Their number; at most n.
    std::size_t count() const noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        return i_;
    }
    /// Whether an operation has failed.
    /// @return True once fail() has returned true.
    bool tripped() const noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        return tripped_;
    }

private:
    mutable std::mutex mutex_;
    std::size_t n_;
    std::size_t i_ = 0;
    bool tripped_ = false;
    error_code ec_;
};

/** An in-memory AsyncStream and SyncStream: one end of a connected pair made by make_pipe.

    Everything written to one end is read from the other. Knobs for tests:
    - set_read_size(n) / set_write_size(n): each read_some / write_some moves at most n bytes,
      which fragments TLS records on the way.
    - fail_after(n): after this end has written n bytes in all, its reads and writes fail with
      `boost::asio::error::connection_reset` (the transport breaks mid-stream).
    - set_fail_count(&fc): the Nth operation counted by a tlsx::test::fail_count, and every
      later one, fails with its error (Beast's fail_count); a failed write moves no byte, a
      failed read takes none.
    - close_write(): the peer reads EOF after the buffered bytes (a TCP FIN).
    - inject(bytes): put raw bytes into this end's inbox, as if the peer had sent them.

    Completion handlers run on their associated executor, else on the pipe's executor. Memory for
    a pending read comes from the handler's associated allocator (default: Asio's recycling
    allocator), so steady-state I/O does not touch the heap.

    @par Thread Safety
    The two ends may be used from different threads; one end's operations must be serialised.
*/
template <class Executor = boost::asio::any_io_executor>
class basic_pipe {
public:
    /// The executor of the pipe's completion handlers (unless they have their own).
    using executor_type = Executor;
    /// The pipe is its own lowest layer.
    using lowest_layer_type = basic_pipe;

    /// Rebinds the pipe to another executor.
    /// @tparam Executor1 The executor type to rebind to.
    template <class Executor1>
    struct rebind_executor {
        /// The pipe type when rebound to the specified executor.
        using other = basic_pipe<Executor1>;
    };

    /// @cond internal
    basic_pipe(Executor ex, std::shared_ptr<detail::shared_state> state, int side)
        : ex_(std::move(ex))
        , state_(std::move(state))
        , side_(side) {}
    /// @endcond

    /// Move-construct; the moved-from end may only be destroyed or assigned to.
    basic_pipe(basic_pipe&&) noexcept = default;
    /// Move-assign; no operation may be outstanding on either end.
    /// @return `*this`.
    basic_pipe& operator=(basic_pipe&&) noexcept = default;

    ~basic_pipe() {
        if (state_)
            close();
    }

    /// Get the executor associated with the object.
    /// @return The executor given to make_pipe().
    executor_type get_executor() const noexcept { return ex_; }
    /// The lowest layer: the pipe itself.
    /// @return `*this`.
    lowest_layer_type& lowest_layer() noexcept { return *this; }
    /// @copydoc lowest_layer()
    const lowest_layer_type& lowest_layer() const noexcept { return *this; }

    /// Each read moves at most n bytes (n >= 1).
    /// @param n The limit; 0 counts as 1.
    void set_read_size(std::size_t n) noexcept { read_size_ = std::max<std::size_t>(n, 1); }
    /// Each write moves at most n bytes (n >= 1).
    /// @param n The limit; 0 counts as 1.
    void set_write_size(std::size_t n) noexcept { write_size_ = std::max<std::size_t>(n, 1); }
    /// Fail this end's reads and writes once it has written n bytes in all.
    /// @param n The number of bytes this end may write; a write stops short at it.
    void fail_after(std::size_t n) noexcept { fail_after_ = n; }
    /// Count this end's operations with `fc` (nullptr: stop counting); it must outlive them.
    /// @param fc The counter, which may count other pipe ends too; not owned.
    void set_fail_count(fail_count* fc) noexcept { fail_count_ = fc; }
    /// Bytes this end has written so far.
    /// @return The running total.
    std::size_t bytes_written() const noexcept { return written_; }

    /// Bytes waiting in this end's inbox.
    /// @return The number of bytes written by the peer (or injected) and not read yet.
    std::size_t available() const {
        std::lock_guard<std::mutex> lock(state_->mutex);
        return inbox().data.size();
    }

    /// Put raw bytes into this end's inbox, as if the peer had written them.
    /// @param bytes The bytes; copied. A pending read receives them.
    void inject(std::string_view bytes) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        auto& c = inbox();
        c.data.insert(c.data.end(), bytes.begin(), bytes.end());
        c.notify();
    }

    /// Half-close: the peer reads EOF once it has read what was written before.
    void close_write() {
        std::lock_guard<std::mutex> lock(state_->mutex);
        auto& c = outbox();
        c.eof = true;
        c.notify();
    }

    /// Close both directions: the peer reads EOF, our pending read fails with
    /// operation_aborted.
    void close() {
        std::lock_guard<std::mutex> lock(state_->mutex);
        auto& out = outbox();
        out.eof = true;
        out.notify();
        auto& in = inbox();
        in.eof = true;
        if (in.reader)
            std::exchange(in.reader, nullptr)->abort(boost::asio::error::operation_aborted);
        in.wake_waiters();
    }

    /// Cancel a pending read: it completes with operation_aborted.
    void cancel() {
        std::lock_guard<std::mutex> lock(state_->mutex);
        auto& in = inbox();
        if (in.reader)
            std::exchange(in.reader, nullptr)->abort(boost::asio::error::operation_aborted);
    }

    // ---- SyncReadStream / SyncWriteStream ----------------------------------------------------

    /** Read some bytes, blocking until some are available, the peer closed, or the pipe
        failed.

        @param buffers Where the bytes go.
        @param ec Set to `boost::asio::error::eof` once the peer closed and everything was
        read, `connection_reset` after fail_after(), else cleared.
        @return The number of bytes read (at most set_read_size()'s limit); 0 for empty
        `buffers`.
    */
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
        std::unique_lock<std::mutex> lock(state_->mutex);
        auto& c = inbox();
        if (boost::asio::buffer_size(buffers) == 0) {
            ec = {};
            return 0;
        }
        if (counted_failure(ec))
            return 0;
        ++c.waiters;
        c.cv.wait(lock, [&] { return !c.data.empty() || c.eof || failed(); });
        --c.waiters;
        return take(c, buffers, ec);
    }

    /** Read some bytes, blocking until some are available, the peer closed, or the pipe
        failed.

        @param buffers Where the bytes go.
        @return The number of bytes read.
        @throws boost::system::system_error: `eof`, `connection_reset`, as the other overload
        reports them.
    */
    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers) {
        error_code ec;
        std::size_t n = read_some(buffers, ec);
        if (ec)
            throw boost::system::system_error(ec, "tlsx::test::pipe::read_some");
        return n;
    }

    /** Write some bytes into the peer's inbox; never blocks.

        @param buffers The bytes.
        @param ec Set to `boost::asio::error::broken_pipe` after close_write() or close(),
        `connection_reset` after fail_after(), else cleared.
        @return The number of bytes written (at most set_write_size()'s limit).
    */
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, error_code& ec) {
        if (counted_failure(ec))
            return 0;
        std::lock_guard<std::mutex> lock(state_->mutex);
        return put(buffers, ec);
    }

    /** Write some bytes into the peer's inbox; never blocks.

        @param buffers The bytes.
        @return The number of bytes written.
        @throws boost::system::system_error: `broken_pipe`, `connection_reset`, as the other
        overload reports them.
    */
    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers) {
        error_code ec;
        std::size_t n = write_some(buffers, ec);
        if (ec)
            throw boost::system::system_error(ec, "tlsx::test::pipe::write_some");
        return n;
    }

    // ---- AsyncReadStream / AsyncWriteStream --------------------------------------------------

    /** Start an asynchronous read: completes when bytes are available, the peer closed, or the
        pipe failed.

        @param buffers Where the bytes go; the caller must keep them valid until the
        completion handler is called.
        @param token The completion token.
        @return What the completion token makes of the operation.

        @par Completion Signature
        @code void(error_code ec, std::size_t bytes_transferred) @endcode
        `eof` once the peer closed and everything was read; `connection_reset` after
        fail_after(); `boost::asio::error::in_progress` if another read is pending on this end;
        `operation_aborted` after cancel() or close().

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function: it is posted to its
        associated executor, else the pipe's.

        @par Per-Operation Cancellation
        Terminal, partial and total: a pending read completes with `operation_aborted`,
        nothing read.
    */
    template <class MutableBufferSequence,
              class ReadToken = boost::asio::default_completion_token_t<executor_type>>
    auto
    async_read_some(const MutableBufferSequence& buffers,
                    ReadToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<ReadToken, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBufferSequence& b) {
                this->start_read(std::move(handler), b);
            },
            token, buffers);
    }

    /** Start an asynchronous write. The bytes are copied into the peer's inbox at once; the
        completion is posted.

        @param buffers The bytes; copied before this function returns.
        @param token The completion token.
        @return What the completion token makes of the operation.

        @par Completion Signature
        @code void(error_code ec, std::size_t bytes_transferred) @endcode
        As write_some(const ConstBufferSequence&, error_code&).

        @par Handler invocation
        Regardless of whether the asynchronous operation completes immediately or not, the
        completion handler will not be invoked from within this function: it is posted to its
        associated executor, else the pipe's.

        @par Per-Operation Cancellation
        None: the write is done before the function returns.
    */
    template <class ConstBufferSequence,
              class WriteToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_write_some(
        const ConstBufferSequence& buffers,
        WriteToken&& token = boost::asio::default_completion_token_t<executor_type>()) {
        return boost::asio::async_initiate<WriteToken, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBufferSequence& b) {
                error_code ec;
                std::size_t n = 0;
                if (!counted_failure(ec)) {
                    std::lock_guard<std::mutex> lock(state_->mutex);
                    n = put(b, ec);
                }
                post_handler(std::move(handler), ec, n);
            },
            token, buffers);
    }

private:
    detail::channel& inbox() const noexcept { return state_->chan[1 - side_]; }
    detail::channel& outbox() const noexcept { return state_->chan[side_]; }
    bool failed() const noexcept { return written_ >= fail_after_; }
    bool counted_failure(error_code& ec) noexcept { return fail_count_ && fail_count_->fail(ec); }

    /** Queue the completion on the handler's executor. A handler that is a continuation (an
        intermediate step of a composed operation, which asio_handler_is_continuation says) is
        deferred, as Asio's own sockets complete one: on an io_context running on this thread
        it goes to the thread's private queue, behind the handler that started it, without
        taking the scheduler's lock or waking another thread. Anything else is posted.

        When that executor is a plain io_context's behind the polymorphic wrapper (the common
        case: make_pipe(io)), the completion goes to the io_context's executor itself, which
        runs the handler where its associated executor would have: asio::post/defer on the
        wrapper would build and destroy about nine type-erased executors per completion (the
        blocking, relationship and allocator properties, one each, and a work_dispatcher with
        its own copy and outstanding-work guard to hand the handler to that same executor). */
    template <class Handler>
    void post_handler(Handler&& h, error_code ec, std::size_t n) {
        namespace execution = boost::asio::execution;
        auto ex = boost::asio::get_associated_executor(h, ex_);
        const bool continuation = boost_asio_handler_cont_helpers::is_continuation(h);
        if constexpr (std::is_same<decltype(ex), boost::asio::any_io_executor>::value) {
            if (auto* io = ex.template target<boost::asio::io_context::executor_type>()) {
                auto alloc = boost::asio::get_associated_allocator(h);
                auto run = [h = std::decay_t<Handler>(std::forward<Handler>(h)), ec, n]() mutable {
                    std::move(h)(ec, n);
                };
                auto never = boost::asio::require(*io, execution::blocking.never,
                                                  execution::allocator(alloc));
                if (continuation)
                    boost::asio::require(never, execution::relationship.continuation)
                        .execute(std::move(run));
                else
                    boost::asio::require(never, execution::relationship.fork)
                        .execute(std::move(run));
                return;
            }
        }
        auto done = boost::asio::append(std::forward<Handler>(h), ec, n);
        if (continuation)
            boost::asio::defer(ex, std::move(done));
        else
            boost::asio::post(ex, std::move(done));
    }

    // Mutex held.
    template <class MutableBufferSequence>
    std::size_t take(detail::channel& c, const MutableBufferSequence& buffers, error_code& ec) {
        if (failed()) {
            ec = boost::asio::error::connection_reset;
            return 0;
        }
        if (c.data.empty()) {
            ec = c.eof ? error_code(boost::asio::error::eof) : error_code();
            return 0;
        }
        std::size_t limit = std::min(read_size_, c.data.size());
        std::size_t n = 0;
        auto it = boost::asio::buffer_sequence_begin(buffers);
        auto end = boost::asio::buffer_sequence_end(buffers);
        for (; it != end && n < limit; ++it) {
            boost::asio::mutable_buffer b(*it);
            std::size_t k = std::min(b.size(), limit - n);
            std::copy_n(c.data.begin(), k, static_cast<unsigned char*>(b.data()));
            c.data.pop(k);
            n += k;
        }
        ec = {};
        return n;
    }

    // Mutex held.
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
        auto& c = outbox();
        if (failed()) {
            ec = boost::asio::error::connection_reset;
            return 0;
        }
        if (c.eof) {
            ec = boost::asio::error::broken_pipe;
            return 0;
        }
        std::size_t limit = std::min(write_size_, fail_after_ - written_);
        std::size_t n = 0;
        auto it = boost::asio::buffer_sequence_begin(buffers);
        auto end = boost::asio::buffer_sequence_end(buffers);
        for (; it != end && n < limit; ++it) {
            boost::asio::const_buffer b(*it);
            std::size_t k = std::min(b.size(), limit - n);
            auto p = static_cast<const unsigned char*>(b.data());
            c.data.insert(c.data.end(), p, p + k);
            n += k;
        }
        written_ += n;
        ec = {};
        c.notify();
        if (failed()) {
            // The transport breaks: a read pending on this end fails too.
            auto& in = inbox();
            if (in.reader)
                std::exchange(in.reader, nullptr)->abort(boost::asio::error::connection_reset);
            in.wake_waiters();
        }
        return n;
    }

    template <class Handler, class MutableBufferSequence>
    struct read_op final : detail::channel::pending_read {
        using work_type = boost::asio::executor_work_guard<Executor>;
        using alloc_type = typename std::allocator_traits<typename tlsx::detail::handler_allocator<
            Handler>::type>::template rebind_alloc<read_op>;

        read_op(basic_pipe* self, Handler&& h, const MutableBufferSequence& b)
            : self_(self)
            , handler_(std::move(h))
            , buffers_(b)
            , work_(self->ex_) {}

        static alloc_type allocator(const Handler& h) {
            return alloc_type(tlsx::detail::handler_allocator<Handler>::get(h));
        }

        void fill(detail::channel& c) override {
            error_code ec;
            std::size_t n = self_->take(c, buffers_, ec);
            finish(ec, n, true);
        }

        void abort(error_code ec) override { finish(ec, 0, true); }

        // Runs inside the slot's handler, which must not be destroyed from within: leave it.
        void cancelled() override { finish(boost::asio::error::operation_aborted, 0, false); }

        void finish(error_code ec, std::size_t n, bool clear_slot) {
            basic_pipe* self = self_;
            Handler h(std::move(handler_));
            // The executor stays busy until the handler is posted: a writer on another thread
            // must not let the reader's io_context run out of work in between.
            work_type work(std::move(work_));
            destroy();
            if (clear_slot)
                boost::asio::get_associated_cancellation_slot(h).clear();
            self->post_handler(std::move(h), ec, n);
        }

        void destroy() noexcept override {
            auto a = allocator(handler_);
            this->~read_op();
            std::allocator_traits<alloc_type>::deallocate(a, this, 1);
        }

        basic_pipe* self_;
        Handler handler_;
        MutableBufferSequence buffers_;
        work_type work_;
    };

    struct read_canceller {
        explicit read_canceller(basic_pipe* p) noexcept
            : self(p) {} // C++17: no aggregate emplace
        basic_pipe* self;
        void operator()(boost::asio::cancellation_type) {
            std::lock_guard<std::mutex> lock(self->state_->mutex);
            auto& in = self->inbox();
            if (in.reader)
                std::exchange(in.reader, nullptr)->cancelled();
        }
    };

    template <class Handler, class MutableBufferSequence>
    void start_read(Handler&& h, const MutableBufferSequence& buffers) {
        error_code fec;
        if (boost::asio::buffer_size(buffers) != 0 && counted_failure(fec)) {
            post_handler(std::forward<Handler>(h), fec, 0);
            return;
        }
        std::unique_lock<std::mutex> lock(state_->mutex);
        auto& c = inbox();
        if (boost::asio::buffer_size(buffers) == 0 || !c.data.empty() || c.eof || failed() ||
            c.reader) {
            error_code ec;
            std::size_t n = 0;
            if (c.reader)
                ec = boost::asio::error::in_progress;
            else if (boost::asio::buffer_size(buffers) != 0)
                n = take(c, buffers, ec);
            lock.unlock();
            post_handler(std::forward<Handler>(h), ec, n);
            return;
        }
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        if (slot.is_connected())
            slot.template emplace<read_canceller>(this);
        using op = read_op<std::decay_t<Handler>, MutableBufferSequence>;
        auto a = op::allocator(h);
        op* p = std::allocator_traits<typename op::alloc_type>::allocate(a, 1);
        ::new (static_cast<void*>(p)) op(this, std::forward<Handler>(h), buffers);
        c.reader = p;
    }

    Executor ex_;
    std::shared_ptr<detail::shared_state> state_;
    int side_;
    std::size_t read_size_ = std::numeric_limits<std::size_t>::max();
    std::size_t write_size_ = std::numeric_limits<std::size_t>::max();
    std::size_t fail_after_ = std::numeric_limits<std::size_t>::max();
    std::size_t written_ = 0;
    fail_count* fail_count_ = nullptr;
};

/// A pipe end on the polymorphic I/O executor.
using pipe = basic_pipe<>;

/// Make two connected pipe ends on the same executor.
/// @param ex The executor of both ends.
/// @return The two ends: what one writes, the other reads.
template <class Executor>
std::pair<basic_pipe<Executor>, basic_pipe<Executor>> make_pipe(const Executor& ex) {
    auto state = std::make_shared<detail::shared_state>();
    return {basic_pipe<Executor>(ex, state, 0), basic_pipe<Executor>(ex, state, 1)};
}

/// Make two connected pipe ends on an execution context's executor.
/// @param ctx The execution context (an `io_context`, say).
/// @return The two ends, as @ref pipe.
template <class ExecutionContext, class = std::enable_if_t<std::is_convertible<
                                      ExecutionContext&, boost::asio::execution_context&>::value>>
std::pair<pipe, pipe> make_pipe(ExecutionContext& ctx) {
    return make_pipe(boost::asio::any_io_executor(ctx.get_executor()));
}

/** A connected TLS client and server over an in-memory pipe, ready to handshake.

    The server uses a fresh self-signed certificate for "localhost"; the client trusts exactly
    that certificate and verifies the host name. Both contexts are members, so tests may change
    settings before the handshake.
*/
struct tls_pair {
    /// Make the pair on an io_context's executor.
    /// @param io The io_context that runs both streams.
    /// @throws boost::system::system_error if the certificate cannot be made.
    explicit tls_pair(boost::asio::io_context& io)
        : tls_pair(boost::asio::any_io_executor(io.get_executor())) {}

    /// Make the pair on an executor.
    /// @param ex The executor of both streams.
    /// @throws boost::system::system_error if the certificate cannot be made.
    explicit tls_pair(boost::asio::any_io_executor ex)
        : credentials(generate_self_signed("localhost"))
        , client_ctx(context::tls_client)
        , server_ctx(context::tls_server)
        , client(make(ex, 0, client_ctx))
        , server(make(ex, 1, server_ctx)) {
        server_ctx.use_certificate_chain(boost::asio::buffer(credentials.certificate_pem));
        server_ctx.use_private_key(boost::asio::buffer(credentials.private_key_pem), context::pem);
        client_ctx.add_certificate_authority(boost::asio::buffer(credentials.certificate_pem));
        client.set_server_name("localhost");
    }

private:
    std::shared_ptr<detail::shared_state> state_ = std::make_shared<detail::shared_state>();

public:
    /** @var credentials
        The server's self-signed certificate and key, for "localhost".
        @var client_ctx
        The client's context: trusts exactly the server's certificate.
        @var server_ctx
        The server's context: uses the certificate and key.
        @var client
        The client stream (host name "localhost" set); `client.next_layer()` is its pipe end.
        @var server
        The server stream.
    */
    self_signed_credentials credentials;
    context client_ctx;
    context server_ctx;
    stream<pipe> client;
    stream<pipe> server;

private:
    stream<pipe> make(boost::asio::any_io_executor ex, int side, context& ctx) {
        return stream<pipe>(pipe(std::move(ex), state_, side), ctx);
    }
};

} // namespace test
} // namespace tlsx

#endif
