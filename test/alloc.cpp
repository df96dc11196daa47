// Steady state: reading and writing application data allocates nothing on the heap, and a gather
// write of many small buffers leaves as one record.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// Counting allocator: malloc, calloc and realloc are replaced (forwarding to glibc's own), so
// every heap allocation in the process is seen: operator new's (libstdc++'s calls malloc) and
// mbedTLS's, which calls calloc.
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
} // namespace

// AddressSanitizer needs its own allocator; under it the I/O still runs (and is checked for
// memory errors) but allocations are not counted.
#if defined(__SANITIZE_ADDRESS__)
#define TLSX_TEST_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TLSX_TEST_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef TLSX_TEST_COUNT_ALLOCATIONS
#define TLSX_TEST_COUNT_ALLOCATIONS 1
#endif

#if TLSX_TEST_COUNT_ALLOCATIONS
extern "C" {
void* __libc_malloc(std::size_t) noexcept;
void* __libc_calloc(std::size_t, std::size_t) noexcept;
void* __libc_realloc(void*, std::size_t) noexcept;

void* malloc(std::size_t n) noexcept {
    if (counting.load(std::memory_order_relaxed))
        allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
    if (counting.load(std::memory_order_relaxed))
        allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
    if (counting.load(std::memory_order_relaxed))
        allocations.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
}
#endif

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::run_bounded;

namespace {

/// Ping-pong `rounds` messages of `size` bytes: client writes, server echoes, client reads.
/// Returns the heap allocations made while the I/O ran (the harness's own set-up not counted).
template <class Stream>
std::size_t ping_pong(net::io_context& io, Stream& client, Stream& server, std::size_t size,
                      int rounds) {
    std::vector<char> out(size, 'p'), sbuf(size), cbuf(size);
    int left = rounds;
    std::function<void()> round; // set up before counting starts
    error_code failure;
    // Each read starts before the write that feeds it, so reads wait in the transport (and
    // their handlers' memory comes from the allocator the stream passes down).
    round = [&] {
        net::async_read(server, net::buffer(sbuf), [&](error_code ec, std::size_t) {
            if (ec) {
                failure = ec;
                return;
            }
            net::async_read(client, net::buffer(cbuf), [&](error_code ec, std::size_t) {
                if (ec)
                    failure = ec;
                else if (--left > 0)
                    round();
            });
            net::async_write(server, net::buffer(sbuf), [&](error_code ec, std::size_t) {
                if (ec)
                    failure = ec;
            });
        });
        net::async_write(client, net::buffer(out), [&](error_code ec, std::size_t) {
            if (ec)
                failure = ec;
        });
    };
    io.restart();
    allocations = 0;
    counting = true;
    round();
    io.run_for(std::chrono::seconds(60));
    counting = false;
    BOOST_REQUIRE(!failure);
    BOOST_REQUIRE(left == 0);
    return allocations.load();
}

void expect_no_allocations(std::size_t n) {
#if TLSX_TEST_COUNT_ALLOCATIONS
    BOOST_TEST(n == 0u);
#else
    (void)n;
    BOOST_TEST_MESSAGE("allocations are not counted under AddressSanitizer");
#endif
}

template <class Stream>
void handshake(net::io_context& io, Stream& client, Stream& server) {
    auto [cec, sec] = tlsx_test::handshake_both(io, client, server);
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
}

} // namespace

BOOST_AUTO_TEST_SUITE(alloc)

BOOST_AUTO_TEST_CASE(steady_state_io_allocates_nothing_over_pipes) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    handshake(io, p.client, p.server);
    ping_pong(io, p.client, p.server, 64, 20);   // warm up: buffers reach their size,
    ping_pong(io, p.client, p.server, 40000, 3); // Asio's recycling caches fill
    std::size_t small = ping_pong(io, p.client, p.server, 64, 500);
    std::size_t large = ping_pong(io, p.client, p.server, 40000, 20);
    expect_no_allocations(small + large);
}

BOOST_AUTO_TEST_CASE(steady_state_io_allocates_nothing_over_local_sockets) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    tlsx::context &cctx = ctx.client, &sctx = ctx.server;
    using socket = net::local::stream_protocol::socket;
    tlsx::stream<socket> client(io, cctx), server(io, sctx);
    net::local::connect_pair(client.next_layer(), server.next_layer());
    client.set_server_name("localhost"); // a verifying client names the server
    handshake(io, client, server);
    ping_pong(io, client, server, 64, 20);
    ping_pong(io, client, server, 40000, 3);
    std::size_t small = ping_pong(io, client, server, 64, 300);
    std::size_t large = ping_pong(io, client, server, 40000, 10);
    expect_no_allocations(small + large);
}

// TLS 1.3 key updates in the steady state (automatic, every 4 records each way, so each
// ping-pong round moves keys and reads take the peer's KeyUpdates in) allocate nothing, mbedTLS's
// calloc included: the room's transform slots are allocated and populated by the first updates,
// and later ones re-key them in place (HKDF on the stack, AES-GCM's table computed in place).
BOOST_AUTO_TEST_CASE(key_updates_in_the_steady_state_allocate_nothing,
                     *boost::unit_test::precondition(backend::needs_tls13{
                         "TLS 1.3 key updates need mbedTLS 3.6"})) {
    for (const char* suite :
         {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
        BOOST_TEST_CONTEXT(suite) {
            net::io_context io;
            tlsx::test::tls_pair p(io);
            p.client_ctx.set_ciphersuites({suite});
            p.client_ctx.set_key_update_threshold(4);
            p.server_ctx.set_key_update_threshold(4);
            handshake(io, p.client, p.server);
            BOOST_TEST(p.client.cipher_suite() == suite);
            ping_pong(io, p.client, p.server, 64, 20); // warm up (and the first updates)
            ping_pong(io, p.client, p.server, 40000, 3);
            const std::uint64_t before = p.client.get_engine().key_generation(false);
            std::size_t n = ping_pong(io, p.client, p.server, 64, 200);
            BOOST_TEST(p.client.get_engine().key_generation(false) >= before + 200 / 4);
            BOOST_TEST(p.server.get_engine().key_generation(true) >= before + 200 / 4);
            expect_no_allocations(n);
        }
    }
}

// With limits set, every read and write arms and cancels its stream's timer (the read idle limit),
// and still nothing is allocated once the timers exist and Asio's recycling caches are warm.
BOOST_AUTO_TEST_CASE(reads_with_an_idle_limit_allocate_nothing) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    handshake(io, p.client, p.server);
    p.client.set_read_idle_timeout(std::chrono::seconds(60));
    p.server.set_read_idle_timeout(std::chrono::seconds(60));
    ping_pong(io, p.client, p.server, 64, 20); // warm up: the timers are made at the first read
    ping_pong(io, p.client, p.server, 40000, 3);
    std::size_t small = ping_pong(io, p.client, p.server, 64, 500);
    std::size_t large = ping_pong(io, p.client, p.server, 40000, 20);
    expect_no_allocations(small + large);
}

BOOST_AUTO_TEST_CASE(gather_write_of_small_buffers_becomes_one_record) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    handshake(io, p.client, p.server);
    std::array<std::string, 100> parts;
    std::vector<net::const_buffer> bufs;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        parts[i] = std::string(10, static_cast<char>('a' + i % 26));
        bufs.push_back(net::buffer(parts[i]));
    }
    std::size_t before = p.client.next_layer().bytes_written();
    error_code wec = net::error::would_block;
    std::size_t written = 0;
    p.client.async_write_some(bufs, [&](error_code ec, std::size_t n) { wec = ec, written = n; });
    run_bounded(io);
    BOOST_REQUIRE(!wec);
    BOOST_TEST(written == 1000u);
    // One record: 5-byte header + 8-byte explicit nonce + 1000 bytes + 16-byte tag (AEAD), or
    // with ChaCha20-Poly1305 no explicit nonce. Either way far below 100 records' overhead.
    std::size_t wire = p.client.next_layer().bytes_written() - before;
    BOOST_TEST(wire <= 1000u + 5 + 8 + 16);
    std::string raw(p.server.next_layer().available(), '\0');
    net::read(p.server.next_layer(), net::buffer(raw));
    BOOST_TEST(raw.size() == wire);
    BOOST_TEST(static_cast<unsigned char>(raw[0]) == 23u); // application_data
    std::size_t len =
        (static_cast<unsigned char>(raw[3]) << 8) | static_cast<unsigned char>(raw[4]);
    BOOST_TEST(len + 5 == raw.size()); // exactly one record header covers it all
}

BOOST_AUTO_TEST_CASE(large_write_some_takes_one_record_and_async_write_takes_all) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    handshake(io, p.client, p.server);
    std::string data = tlsx_test::pattern(100000);
    std::size_t n = 0;
    p.client.async_write_some(net::buffer(data), [&](error_code, std::size_t k) { n = k; });
    run_bounded(io);
    // mbedTLS 3.6 puts at most 2^14 - 1 bytes in a TLS 1.3 record (its buffer also holds the
    // inner content type): still one record.
    const std::size_t one_record = backend::has_tls13 ? tlsx::engine::max_record_plaintext - 1
                                                      : tlsx::engine::max_record_plaintext;
    BOOST_TEST(n == one_record);
}

// The queues' storage blocks are recycled per thread: a connection's handshake takes an input
// and an output block and gives them back when it ends, and the next one on the thread takes
// them without a heap allocation. A thread keeps at most two of each size; other sizes go to the
// heap. On a fresh thread, so that no block kept by an earlier test is there.
BOOST_AUTO_TEST_CASE(queue_storage_is_recycled_per_thread_two_blocks_of_each_size) {
    using tlsx::detail::allocate_block;
    using tlsx::detail::deallocate_block;
    const std::size_t sizes[] = {tlsx::detail::input_queue::capacity,
                                 tlsx::detail::output_queue::initial_capacity};
    std::size_t heap[2] = {}, odd = 0;
    bool reused[2] = {};
    std::thread([&] {
        for (int k = 0; k < 2; ++k) {
            const std::size_t size = sizes[k];
            unsigned char* first[3] = {allocate_block(size), allocate_block(size),
                                       allocate_block(size)};
            for (unsigned char* b : first)
                deallocate_block(b, size); // two kept, the third freed
            allocations = 0;
            counting = true;
            unsigned char* again[3] = {allocate_block(size), allocate_block(size),
                                       allocate_block(size)};
            counting = false;
            heap[k] = allocations.load();
            reused[k] = (again[0] == first[0] || again[0] == first[1]) &&
                        (again[1] == first[0] || again[1] == first[1]) && again[0] != again[1];
            for (unsigned char* b : again)
                deallocate_block(b, size);
        }
        unsigned char* other = allocate_block(1000); // not a queue's size: never kept
        deallocate_block(other, 1000);
        allocations = 0;
        counting = true;
        other = allocate_block(1000);
        counting = false;
        odd = allocations.load();
        deallocate_block(other, 1000);
    }).join();
    for (int k = 0; k < 2; ++k) {
        BOOST_TEST_CONTEXT("block size " << sizes[k]) {
            BOOST_TEST(reused[k]); // the two kept blocks come back
#if TLSX_TEST_COUNT_ALLOCATIONS
            BOOST_TEST(heap[k] == 1u); // only the third goes to the heap
#endif
        }
    }
#if TLSX_TEST_COUNT_ALLOCATIONS
    BOOST_TEST(odd == 1u);
#else
    (void)odd;
#endif
}

// A stream's engine state (about 2 KiB) is recycled the same way: the second engine made on a
// thread takes the first one's block, one heap allocation fewer.
BOOST_AUTO_TEST_CASE(engine_state_is_recycled_per_thread) {
    tlsx_test::context_pair ctx;
    std::size_t first = 0, second = 0;
    std::thread([&] {
        for (std::size_t* count : {&first, &second}) {
            std::optional<tlsx::engine> e;
            allocations = 0;
            counting = true;
            e.emplace(ctx.client); // (its destruction, which parks the block, not counted)
            counting = false;
            *count = allocations.load();
        }
    }).join();
#if TLSX_TEST_COUNT_ALLOCATIONS
    BOOST_TEST(first == 1u); // the engine's state: its only allocation
    BOOST_TEST(second == 0u);
#else
    (void)first;
    (void)second;
#endif
}

BOOST_AUTO_TEST_SUITE_END()
