//
// tlsx/detail/waiter.hpp — a parking slot for one operation waiting on another, and the allocator
// it uses.
//
#ifndef TLSX_DETAIL_WAITER_HPP
#define TLSX_DETAIL_WAITER_HPP

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace tlsx {
namespace detail {

/** The allocator for memory that lives as long as a pending operation of `Handler`.

    The handler's associated allocator; but where that is `std::allocator<void>` (the default,
    which Boost 1.81's composed operations report even when the user gave none), Asio's per-thread
    recycling allocator, as Asio's own operations do, so steady-state I/O does not touch the heap.
*/
template <class Handler>
struct handler_allocator {
    using associated = boost::asio::associated_allocator_t<Handler, std::allocator<void>>;
    using type = std::conditional_t<std::is_same<associated, std::allocator<void>>::value,
                                    boost::asio::recycling_allocator<void>, associated>;

    static type get(const Handler& h) {
        if constexpr (std::is_same<associated, std::allocator<void>>::value)
            return type();
        else
            return boost::asio::get_associated_allocator(h);
    }
};

/** A slot for one parked operation: a type-erased nullary handler.

    An operation parks here when it must wait for another operation of the same stream (the
    holder of a transport lock) instead of for the transport itself. Waking posts the handler
    to its associated executor (by default the transport's, given when parking), so a waker
    never runs another operation inside its own frame.

    Memory comes from the handler's associated allocator, defaulting to Asio's per-thread
    recycling allocator, so parking and waking allocate nothing from the heap in steady state.
    This is Beast's `saved_handler` idea, reduced to what the stream needs.

    @see boostorg/beast saved_handler; docs/design.md, "The stream" (parked operations).
*/
class waiter {
public:
    waiter() = default;
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    waiter(waiter&& other) noexcept
        : p_(std::exchange(other.p_, nullptr)) {}
    waiter& operator=(waiter&& other) noexcept {
        if (this != &other) {
            reset();
            p_ = std::exchange(other.p_, nullptr);
        }
        return *this;
    }
    ~waiter() { reset(); }

    /// Whether a handler is parked here.
    bool empty() const noexcept { return p_ == nullptr; }

    /// Park `h`; waking posts it through `ex`, the executor it runs on unless it has its own.
    template <class Handler, class Executor>
    void emplace(Handler&& h, Executor ex) {
        using handler_type = std::decay_t<Handler>;
        using node = impl<handler_type, Executor>;
        auto alloc = node::rebind(h);
        node* n = std::allocator_traits<typename node::alloc_type>::allocate(alloc, 1);
        try {
            ::new (static_cast<void*>(n)) node(std::forward<Handler>(h), std::move(ex));
        } catch (...) {
            std::allocator_traits<typename node::alloc_type>::deallocate(alloc, n, 1);
            throw;
        }
        reset();
        p_ = n;
    }

    /// Take the parked handler out and post it to its executor (no-op when empty).
    void post() {
        if (base* p = std::exchange(p_, nullptr))
            p->post();
    }

    /// Destroy the parked handler without invoking it.
    void reset() noexcept {
        if (base* p = std::exchange(p_, nullptr))
            p->destroy();
    }

private:
    struct base {
        virtual void post() = 0;
        virtual void destroy() noexcept = 0;

    protected:
        ~base() = default;
    };

    template <class Handler, class Executor>
    struct impl final : base {
        using alloc_type = typename std::allocator_traits<
            typename handler_allocator<Handler>::type>::template rebind_alloc<impl>;

        static alloc_type rebind(const Handler& h) {
            return alloc_type(handler_allocator<Handler>::get(h));
        }

        impl(Handler&& h, Executor ex)
            : handler_(std::move(h))
            , ex_(std::move(ex)) {}

        void post() override {
            Handler h(std::move(handler_));
            Executor ex(std::move(ex_));
            destroy();
            boost::asio::post(std::move(ex), std::move(h));
        }

        void destroy() noexcept override {
            auto alloc = rebind(handler_);
            this->~impl();
            std::allocator_traits<alloc_type>::deallocate(alloc, this, 1);
        }

        Handler handler_;
        Executor ex_;
    };

    base* p_ = nullptr;
};

} // namespace detail
} // namespace tlsx

#endif
