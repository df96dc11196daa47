//
// recycled_blocks.cpp — the per-thread recycling of a connection's large blocks: the record
// queues' storage (allocate_block, deallocate_block in tlsx/detail/record_queues.hpp) and the
// engine's own state (engine.cpp).
//
// A connection's handshake needs an input block (one maximal record) and an output block, and
// gives both back when it ends; its engine state (about 2 KiB) lives as long as the stream.
// Under connection churn the next connection on the thread takes them from here, still in the
// cache, instead of three large heap allocations per end (each of which also makes glibc
// consolidate its small free chunks first).
//
#include <tlsx/detail/record_queues.hpp>

#include "detail/recycled_blocks.hpp"

#include <cstddef>
#include <new>
#include <utility>

namespace tlsx {
namespace detail {

namespace {

constexpr std::size_t per_size = 2; // blocks kept of each size (Asio keeps two handler blocks)
constexpr std::size_t sizes = 3;    // input, output, engine state

/// Plain data, constant-initialised: usable at any point of the thread's life, also while and
/// after its other thread_local objects are destroyed (a stream destroyed late).
struct parked_blocks {
    unsigned char* block[sizes][per_size];
    bool closed; // the thread is exiting: give blocks to the heap
};
thread_local parked_blocks parked{};

/// Frees what the thread kept, when it exits.
struct reaper {
    ~reaper() {
        for (auto& slots : parked.block)
            for (unsigned char*& b : slots)
                delete[] std::exchange(b, nullptr);
        parked.closed = true;
    }
};

unsigned char** slots_for(std::size_t size) noexcept {
    if (size == input_queue::capacity)
        return parked.block[0];
    if (size == output_queue::initial_capacity)
        return parked.block[1];
    if (size == engine_state_size)
        return parked.block[2];
    return nullptr;
}

} // namespace

unsigned char* allocate_block(std::size_t size) noexcept {
    if (unsigned char** slots = slots_for(size)) {
        for (std::size_t i = 0; i < per_size; ++i)
            if (slots[i])
                return std::exchange(slots[i], nullptr);
    }
    return new (std::nothrow) unsigned char[size];
}

void deallocate_block(unsigned char* p, std::size_t size) noexcept {
    if (!p)
        return;
    unsigned char** slots = slots_for(size);
    if (slots && !parked.closed) {
        for (std::size_t i = 0; i < per_size; ++i) {
            if (!slots[i]) {
                static thread_local reaper r; // constructed with the first block kept
                (void)r;
                slots[i] = p;
                return;
            }
        }
    }
    delete[] p;
}

} // namespace detail
} // namespace tlsx
