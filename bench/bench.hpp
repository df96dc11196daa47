//
// tlsx benchmarks — what the driver (main.cpp) and the three stacks share.
//
// A "stack" is one way of running TLS between a client and a server in this process:
//   tlsx      tlsx::stream over tlsx::test::pipe (in memory) or tcp::socket
//   asio_ssl  boost::asio::ssl::stream (OpenSSL) over the same transports
//   mbedtls   two mbedtls_ssl_contexts over in-memory queues or blocking sockets, no Asio
// Each stack implements the same workloads under the same TLS settings (one protocol version,
// TLS 1.2 or 1.3, one suite, P-256, ECDSA with SHA-256, the client verifies the server's
// certificate and host name). TLS 1.3 needs mbedTLS 3.x: on 2.28 its rows say so.
//
#ifndef TLSX_BENCH_BENCH_HPP
#define TLSX_BENCH_BENCH_HPP

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// The measured part of every workload runs inside this function, so that
// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=tlsx_bench_region` counts
// exactly the steady state (no set-up, no handshake, no warm-up). Defined in main.cpp.
extern "C" void tlsx_bench_region(void (*fn)(void*), void* arg);

namespace bench {

/// The AEAD of the ECDHE-ECDSA suite under test.
enum class suite { aes128_gcm, aes256_gcm, chacha20_poly1305 };

/// The protocol version a stack is set up for (exactly that version, on both ends).
enum class tls { v1_2, v1_3 };

/// "TLS 1.2" or "TLS 1.3".
const char* tls_name(tls v) noexcept;

/// The IANA name of a suite, e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; in TLS 1.3 the
/// suite of the same AEAD (TLS_AES_128_GCM_SHA256).
const char* iana_name(suite s, tls v = tls::v1_2) noexcept;

/// The mbedTLS this benchmark is built against, e.g. "mbedTLS 3.6.6" (mbedtls_stack.cpp).
std::string mbedtls_backend();
/// Whether that mbedTLS speaks TLS 1.3.
bool mbedtls_has_tls13() noexcept;
/// The OpenSSL of the asio_ssl stack, e.g. "OpenSSL 3.0.17" (asio_ssl_stack.cpp).
std::string openssl_backend();

/// How a resumed handshake finds its session.
enum class resumption { none, ticket, session_id };

/// The server's certificate (self-signed ECDSA P-256, CN and SAN "localhost") and key, PEM.
struct credentials {
    std::string certificate_pem;
    std::string private_key_pem;
};

/// What the allocation counter saw and how long a region took.
struct region_stats {
    double seconds = 0;        // wall clock
    double cpu_seconds = 0;    // CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID)
    std::uint64_t mallocs = 0; // malloc/calloc/realloc calls (operator new included)
    std::uint64_t news = 0;    // operator new calls
};

// ---- Allocation counter (main.cpp replaces malloc, calloc, realloc and operator new) ------
void count_allocations(bool on) noexcept;
std::uint64_t malloc_calls() noexcept;
std::uint64_t new_calls() noexcept;

/// CPU time consumed by the calling thread so far.
inline double thread_cpu_seconds() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Run `f` as the measured region: timed, allocations counted, visible to callgrind.
template <class F>
region_stats measure(F&& f) {
    using clock = std::chrono::steady_clock;
    std::uint64_t m0 = malloc_calls(), n0 = new_calls();
    double c0 = thread_cpu_seconds();
    auto t0 = clock::now();
    count_allocations(true);
    tlsx_bench_region([](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); }, &f);
    count_allocations(false);
    auto t1 = clock::now();
    region_stats r;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.cpu_seconds = thread_cpu_seconds() - c0;
    r.mallocs = malloc_calls() - m0;
    r.news = new_calls() - n0;
    return r;
}

/// W1/W2: `bytes` of application data from client to server, `records` writes.
struct bulk_result {
    region_stats stats;
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;
};

/// W3: `rounds` round trips of one small message.
struct pingpong_result {
    region_stats stats;
    std::uint64_t rounds = 0;
};

/// W4/W5: `count` handshakes (both ends).
struct handshake_result {
    region_stats stats;
    std::uint64_t count = 0;
};

/// Thrown by a workload a stack does not have; the tables show its text instead of a number.
struct unsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/** One TLS stack; every workload runs the client and the server inside this process. */
class stack {
public:
    virtual ~stack() = default;

    /// W1: `total` bytes client -> server in `chunk`-byte writes, one thread, in memory. The
    /// first `warmup` bytes are sent (and checked) before the measured region.
    virtual bulk_result bulk_memory(std::uint64_t total, std::size_t chunk,
                                    std::uint64_t warmup) = 0;

    /// W2: the same over TCP loopback, the client and the server on their own threads.
    virtual bulk_result bulk_tcp(std::uint64_t total, std::size_t chunk, std::uint64_t warmup) = 0;

    /// W3: `rounds` round trips of `size` bytes (client writes, server echoes, client reads),
    /// in memory, one thread; `warmup` round trips first, outside the measured region.
    virtual pingpong_result pingpong(std::size_t rounds, std::size_t size, std::size_t warmup) = 0;

    /// W4/W5: `count` handshakes in memory, each on a fresh pair of streams. In TLS 1.3 with
    /// tickets, each handshake is followed by one byte from the server, which the client reads:
    /// the ticket comes after the handshake, and that read is where a client takes it in.
    virtual handshake_result handshakes(std::size_t count, resumption how) = 0;

    /// W6: establish `pairs` client+server pairs in memory, call `while_held` while they are
    /// all alive and idle, then destroy them.
    virtual void hold_idle_pairs(std::size_t pairs, const std::function<void()>& while_held) = 0;
};

/// The stacks, set up for one protocol version (TLS 1.3 on 2.28 throws `unsupported`).
std::unique_ptr<stack> make_tlsx_stack(const credentials& c, suite s, tls v);
std::unique_ptr<stack> make_asio_ssl_stack(const credentials& c, suite s, tls v);
std::unique_ptr<stack> make_mbedtls_stack(const credentials& c, suite s, tls v);

/// The transport alone (tlsx::test::pipe, no TLS): the floor under tlsx and asio_ssl in W3.
pingpong_result pipe_pingpong(std::size_t rounds, std::size_t size, std::size_t warmup);

/// W7 (tlsx, TLS 1.3 only): `rounds` key update round trips in memory: the client's
/// async_key_update(true), the server's read taking it in and answering, the client's read
/// taking the answer in (both directions move one generation). Throws `unsupported` without
/// TLS 1.3. Neither asio::ssl nor raw mbedTLS 3.6 has a key update to compare with.
pingpong_result key_update_round_trips(const credentials& c, suite s, std::size_t rounds,
                                       std::size_t warmup);

/// Speed of one AEAD on 16 KiB records with a 13-byte header as additional data.
struct aead_result {
    double encrypt_seconds = 0;
    double decrypt_seconds = 0;
    std::uint64_t bytes = 0;
};

/// mbedTLS's cipher API (mbedtls_cipher_auth_encrypt_ext / _decrypt_ext).
aead_result mbedtls_aead_speed(suite s, std::uint64_t bytes);
/// OpenSSL's EVP API, for comparison.
aead_result openssl_aead_speed(suite s, std::uint64_t bytes);

/// Deterministic, non-periodic bytes.
std::vector<unsigned char> pattern(std::size_t n);

/// A one-shot gate between threads: wait() blocks until open() (std::latch is C++20).
class gate {
public:
    void open() {
        std::lock_guard<std::mutex> lock(mutex_);
        open_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

/// Throw std::runtime_error(what) unless `ok`.
inline void check(bool ok, const char* what) {
    if (!ok)
        throw std::runtime_error(what);
}

} // namespace bench

#endif
