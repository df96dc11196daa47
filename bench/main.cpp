//
// tlsx_bench — tlsx against boost::asio::ssl::stream (OpenSSL) and raw mbedTLS.
//
//   tlsx_bench [--quick] [--runs N] [--only w1,w2,w3,w4,w5,w6,w7,aead,suites] [--out PREFIX]
//              [--instructions FILE] [--label TEXT] [--tls 1.2|1.3|both] [--slices N]
//
// Workloads (issues 5 and 10), each run for every stack, `runs` times; a run of a timed workload
// is cut into slices, the stacks taking turns slice by slice in a rotating order, so that the
// stacks of one run see the same machine (run_interleaved). Reported as medians, with ratios
// tlsx/other computed run by run:
//   W1  bulk in memory: 256 MiB client -> server in 16 KiB writes, one thread
//   W2  the same over TCP loopback, client and server on their own threads
//   W3  64-byte ping-pong, 100k round trips in memory; allocations per round trip here,
//       instructions per round trip from callgrind (bench/callgrind.sh, --instructions FILE)
//   W4  full handshakes/s in memory
//   W5  resumed handshakes/s, by ticket and by session ID
//   W6  memory per idle established client+server pair (RSS and heap, 2000 pairs, each
//       stack in a fresh child process); allocations per record in W1
//   aead    mbedTLS's and OpenSSL's AEAD speed on 16 KiB records
//   W7  (TLS 1.3, tlsx only) key update round trips/s in memory: async_key_update(true), the
//       peer's read answers, our read takes the answer in; allocations per round trip
//   suites  W1 (64 MiB) with each ECDHE-ECDSA AEAD suite
// Built against mbedTLS 3.x, W1, W3, W4 and W5 by ticket run again in TLS 1.3
// (TLS_AES_128_GCM_SHA256); the results name the backend they were measured on.
// Writes Markdown tables to stdout; with --out PREFIX also PREFIX.csv, .json, .md and .dat
// (the data bench/plot.gp draws). Child modes: --child w1|w3|w4|w5-*|w6 --stack NAME (used by
// bench/callgrind.sh, for profiling, and by W6).
//
#include "bench.hpp"

#include <tlsx/context.hpp>

#include <alloca.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <vector>

//----------------------------------------------------------------------------------------------
// Allocation counting. Replacing malloc, calloc and realloc (forwarding to glibc's own) sees
// every heap allocation in the process, also those of mbedTLS and OpenSSL, which do not use
// operator new; operator new is counted on its own as well.

namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> malloc_count{0};
std::atomic<std::uint64_t> new_count{0};

inline void count(std::atomic<std::uint64_t>& c) noexcept {
    if (counting.load(std::memory_order_relaxed))
        c.fetch_add(1, std::memory_order_relaxed);
}
} // namespace

extern "C" {
void* __libc_malloc(std::size_t) noexcept;
void* __libc_calloc(std::size_t, std::size_t) noexcept;
void* __libc_realloc(void*, std::size_t) noexcept;

void* malloc(std::size_t n) noexcept {
    count(malloc_count);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
    count(malloc_count);
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
    count(malloc_count);
    return __libc_realloc(p, n);
}

__attribute__((noinline)) void tlsx_bench_region(void (*fn)(void*), void* arg) {
    fn(arg);
    asm volatile("" ::: "memory"); // no tail call: callgrind sees the region's end
}
}

// GCC 12 pairs malloc with operator delete in its analysis and warns: these replace both sides.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
    count(new_count);
    if (void* p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    count(new_count);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return operator new(n, std::nothrow);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace bench {

void count_allocations(bool on) noexcept {
    counting.store(on, std::memory_order_relaxed);
}
std::uint64_t malloc_calls() noexcept {
    return malloc_count.load(std::memory_order_relaxed);
}
std::uint64_t new_calls() noexcept {
    return new_count.load(std::memory_order_relaxed);
}

const char* tls_name(tls v) noexcept {
    return v == tls::v1_3 ? "TLS 1.3" : "TLS 1.2";
}

const char* iana_name(suite s, tls v) noexcept {
    if (v == tls::v1_3) {
        switch (s) {
        case suite::aes128_gcm:
            return "TLS_AES_128_GCM_SHA256";
        case suite::aes256_gcm:
            return "TLS_AES_256_GCM_SHA384";
        case suite::chacha20_poly1305:
            return "TLS_CHACHA20_POLY1305_SHA256";
        }
        return "";
    }
    switch (s) {
    case suite::aes128_gcm:
        return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    case suite::aes256_gcm:
        return "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    case suite::chacha20_poly1305:
        return "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    }
    return "";
}

std::vector<unsigned char> pattern(std::size_t n) {
    std::vector<unsigned char> v(n);
    std::uint32_t x = 2463534242u;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<unsigned char>(x);
    }
    return v;
}

namespace {

const char* aead_name(suite s) {
    switch (s) {
    case suite::aes128_gcm:
        return "AES-128-GCM";
    case suite::aes256_gcm:
        return "AES-256-GCM";
    case suite::chacha20_poly1305:
        return "ChaCha20-Poly1305";
    }
    return "";
}

const char* suite_key(suite s) {
    switch (s) {
    case suite::aes128_gcm:
        return "aes128_gcm";
    case suite::aes256_gcm:
        return "aes256_gcm";
    case suite::chacha20_poly1305:
        return "chacha20_poly1305";
    }
    return "";
}

constexpr suite all_suites[] = {suite::aes128_gcm, suite::aes256_gcm, suite::chacha20_poly1305};
const std::vector<std::string> tls_stacks = {"tlsx", "asio_ssl", "mbedtls"};
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double MB = 1e6;
constexpr double KiB = 1024;

std::unique_ptr<stack> make_stack(const std::string& name, const credentials& c, suite s,
                                  tls v = tls::v1_2) {
    if (name == "tlsx")
        return make_tlsx_stack(c, s, v);
    if (name == "asio_ssl")
        return make_asio_ssl_stack(c, s, v);
    if (name == "mbedtls")
        return make_mbedtls_stack(c, s, v);
    throw std::runtime_error("unknown stack " + name);
}

/// The stacks of one protocol version; a stack that cannot be made (TLS 1.3 on mbedTLS 2.28)
/// is kept as its reason, which its rows show.
struct stack_set {
    std::map<std::string, std::unique_ptr<stack>> made;
    std::map<std::string, std::string> missing;

    stack_set(const credentials& c, suite s, tls v) {
        for (const char* n : {"tlsx", "asio_ssl", "mbedtls"}) {
            try {
                made[n] = make_stack(n, c, s, v);
            } catch (const unsupported& e) {
                missing[n] = e.what();
            }
        }
    }

    stack& operator[](const std::string& n) {
        auto it = made.find(n);
        if (it == made.end())
            throw unsupported(missing.count(n) ? missing.at(n) : "n/a");
        return *it->second;
    }
};

credentials make_credentials() {
    auto sc = tlsx::generate_self_signed("localhost");
    return {sc.certificate_pem, sc.private_key_pem};
}

std::size_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

double load_average() {
    std::ifstream f("/proc/loadavg");
    double one = nan;
    f >> one;
    return one;
}

std::size_t heap_bytes() {
    struct mallinfo2 mi = ::mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

//----------------------------------------------------------------------------------------------
// Parameters

struct params {
    std::string label; // what was measured, e.g. the commit (bench/run.sh passes git's)
    bool quick = false;
    int runs = 5;
    std::uint64_t bulk_bytes = 256ull << 20;
    std::uint64_t bulk_warmup = 1ull << 20;
    std::size_t chunk = 16384;
    std::size_t rounds = 100000;
    std::size_t round_size = 64;
    std::size_t round_warmup = 1000;
    std::size_t full_handshakes = 200;
    std::size_t resumed_handshakes = 2000;
    std::size_t pairs = 2000;
    int memory_runs = 3;
    std::uint64_t aead_bytes = 64ull << 20;
    std::uint64_t suite_bytes = 64ull << 20;
    bool tls12 = true; // run the TLS 1.2 workloads (--tls 1.2|1.3|both)
    bool tls13 = true; // ... and the TLS 1.3 ones, when this mbedTLS has TLS 1.3
    // Slices per run of the timed workloads (run_interleaved), each about 0.1-0.3 s on this
    // machine; --slices N sets them all (1: each stack's run in one stretch, back to back).
    int bulk_slices = 32;      // W1, W2: 8 MiB each
    int round_slices = 20;     // W3: 5000 round trips each
    int full_slices = 20;      // W4: 10 handshakes each
    int resumed_slices = 20;   // W5, TLS 1.2: 100 handshakes each
    int resumed13_slices = 40; // W5, TLS 1.3 (a fresh key exchange each): 50 each
    int suite_slices = 8;      // suites: 8 MiB each

    void set_slices(int n) {
        bulk_slices = round_slices = full_slices = resumed_slices = resumed13_slices =
            suite_slices = n;
    }

    void make_quick() {
        quick = true;
        runs = 1;
        bulk_bytes = 4ull << 20;
        bulk_warmup = 256ull << 10;
        rounds = 2000;
        round_warmup = 100;
        full_handshakes = 4;
        resumed_handshakes = 20;
        pairs = 20;
        memory_runs = 1;
        aead_bytes = 4ull << 20;
        suite_bytes = 2ull << 20;
        set_slices(2); // the interleaving is exercised too
    }
};

//----------------------------------------------------------------------------------------------
// Results

double median(std::vector<double> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
    if (v.empty())
        return nan;
    std::sort(v.begin(), v.end());
    std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double min_of(const std::vector<double>& v) {
    double m = nan;
    for (double x : v)
        if (!std::isnan(x) && (std::isnan(m) || x < m))
            m = x;
    return m;
}

double max_of(const std::vector<double>& v) {
    double m = nan;
    for (double x : v)
        if (!std::isnan(x) && (std::isnan(m) || x > m))
            m = x;
    return m;
}

/// One measured quantity for several stacks, one sample per run.
struct series {
    std::string id;       // e.g. "w1.throughput"
    std::string workload; // e.g. "W1 bulk, in memory"
    std::string metric;   // e.g. "throughput"
    std::string unit;     // e.g. "MB/s"
    bool higher_better = true;
    std::vector<std::string> stacks;
    std::map<std::string, std::vector<double>> samples;
    std::map<std::string, std::string> notes; // why a stack has no value
    bool hidden = false;                      // in the CSV and JSON only (wall-clock twins)

    double med(const std::string& s) const {
        auto it = samples.find(s);
        return it == samples.end() ? nan : median(it->second);
    }

    /// tlsx/other, run by run (the two measured back to back).
    std::vector<double> ratios(const std::string& other) const {
        std::vector<double> r;
        auto a = samples.find("tlsx"), b = samples.find(other);
        if (a == samples.end() || b == samples.end())
            return r;
        for (std::size_t i = 0; i < std::min(a->second.size(), b->second.size()); ++i) {
            double x = a->second[i], y = b->second[i];
            r.push_back(std::isnan(x) || std::isnan(y) || y == 0 ? nan : x / y);
        }
        return r;
    }
};

struct report {
    std::deque<series> all; // add() hands out references: they must stay valid
    bool failed = false;
    double load_start = nan; // 1-minute load average when the run began and ended
    double load_end = nan;

    series& add(std::string id, std::string workload, std::string metric, std::string unit,
                bool higher_better, std::vector<std::string> stacks) {
        series s;
        s.id = std::move(id);
        s.workload = std::move(workload);
        s.metric = std::move(metric);
        s.unit = std::move(unit);
        s.higher_better = higher_better;
        s.stacks = std::move(stacks);
        all.push_back(std::move(s));
        return all.back();
    }

    const series* find(const std::string& id) const {
        for (const auto& s : all)
            if (s.id == id)
                return &s;
        return nullptr;
    }
};

/// The wall-clock twin of a CPU-time series, for the CSV and JSON.
series& wall_twin(report& rep, const series& s) {
    series& w = rep.add(s.id + "_wall", s.workload, s.metric + ", wall clock", s.unit,
                        s.higher_better, s.stacks);
    w.hidden = true;
    return w;
}

std::string fmt(double v, bool ratio = false) {
    if (std::isnan(v))
        return "n/a";
    char buf[64];
    if (ratio)
        std::snprintf(buf, sizeof buf, "%.2f", v);
    else if (std::fabs(v) >= 1000)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (std::fabs(v) >= 100)
        std::snprintf(buf, sizeof buf, "%.1f", v);
    else if (std::fabs(v) >= 10 || v == 0)
        std::snprintf(buf, sizeof buf, "%.2f", v);
    else
        std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

void progress(const std::string& what, int run, int runs, const std::string& stack_name,
              double value, const std::string& unit) {
    std::cerr << "  " << what << " run " << run + 1 << "/" << runs << " " << stack_name << ": "
              << fmt(value) << " " << unit << std::endl;
}

//----------------------------------------------------------------------------------------------
// Running workloads

/// One stack's values of run `r` (of `runs`) into the series, in their order; each shown.
void store(const std::vector<series*>& out, const std::string& name, int r, int runs,
           const std::vector<double>& values) {
    for (std::size_t i = 0; i < out.size(); ++i) {
        auto& v = out[i]->samples[name];
        v.resize(static_cast<std::size_t>(runs), nan);
        v[static_cast<std::size_t>(r)] = values[i];
        if (!std::isnan(values[i]) && !out[i]->hidden)
            progress(out[i]->metric, r, runs, name, values[i], out[i]->unit);
    }
}

/// Runs `f()` for stack `name`; returns false, with the reason in the series' notes, when the
/// stack has no such workload (`unsupported`) or it failed (the report then fails too).
template <class F>
bool guarded(report& rep, const std::string& what, const std::vector<series*>& out,
             const std::string& name, F&& f) {
    try {
        f();
        return true;
    } catch (const unsupported& e) {
        for (series* s : out)
            s->notes[name] = e.what();
    } catch (const std::exception& e) {
        std::cerr << "  " << what << " " << name << " FAILED: " << e.what() << std::endl;
        for (series* s : out)
            s->notes[name] = std::string("failed: ") + e.what();
        rep.failed = true;
    }
    return false;
}

/// Runs `one(stack)` for each stack, `runs` times, rotating the order run by run; `one`
/// returns the values of the series (one per series, same order).
template <class One>
void run_workload(report& rep, const std::string& what, std::vector<series*> out, int runs,
                  const std::vector<std::string>& stacks, One one) {
    std::cerr << what << std::endl;
    for (int r = 0; r < runs; ++r) {
        for (std::size_t k = 0; k < stacks.size(); ++k) {
            const std::string& name = stacks[(k + static_cast<std::size_t>(r)) % stacks.size()];
            std::vector<double> values(out.size(), nan);
            guarded(rep, what, out, name, [&] { values = one(name); });
            store(out, name, r, runs, values);
        }
    }
}

/// What one slice of a timed workload did for one stack: `units` is what its rate counts (MB,
/// round trips, handshakes), `items` what its allocations are counted per (records, round
/// trips, handshakes).
struct slice_result {
    region_stats stats;
    double units = 0;
    double items = 0;
};

/// One stack's slices of one run, summed: its rates are over the time of all its slices.
struct totals {
    double units = 0, items = 0, seconds = 0, cpu_seconds = 0, mallocs = 0, news = 0;

    void add(const slice_result& s) {
        units += s.units;
        items += s.items;
        seconds += s.stats.seconds;
        cpu_seconds += s.stats.cpu_seconds;
        mallocs += static_cast<double>(s.stats.mallocs);
        news += static_cast<double>(s.stats.news);
    }
    double per_cpu_second() const { return units / cpu_seconds; }
    double per_second() const { return units / seconds; }
    double mallocs_per_item() const { return mallocs / items; }
    double news_per_item() const { return news / items; }
};

/** Calls `f()` with the stack `bytes` deeper than here. Where the stack sits against the heap
    (its address modulo a page, which the kernel randomises with every process) moves a workload's
    speed by up to 8% here: W1 on mbedTLS 2.28, tlsx/raw ratio from 0.93 to 1.01 in three
    processes, and 1.00-1.01 in four with address randomisation off (`setarch -R`). Slices on
    shifted stacks average each sample over many offsets instead of taking the one the process
    happened to get. */
template <class F>
__attribute__((noinline)) slice_result on_shifted_stack(std::size_t bytes, F& f) {
    volatile char* pad = static_cast<volatile char*>(alloca(bytes + 16));
    pad[0] = 0; // the allocation stays
    return f();
}

/** Runs a timed workload `runs` times; each run is `slices` rounds of one slice per stack, the
    stacks' order rotating slice by slice, and a stack's sample is its totals over its slices.
    On a machine whose speed drifts (a VM sharing its host), stacks measured back to back in one
    long stretch each see different machines; slices a few tenths of a second long, interleaved,
    make the stacks of one run share the same drift. `slice(stack)` runs one slice (its set-up
    outside the measured region), `values(totals)` gives the values of the series from the
    totals (one per series, same order). */
template <class Slice, class Values>
void run_interleaved(report& rep, const std::string& what, std::vector<series*> out, int runs,
                     int slices, const std::vector<std::string>& stacks, Slice slice,
                     Values values) {
    std::cerr << what << " (" << slices << (slices == 1 ? " slice" : " slices") << " per run)"
              << std::endl;
    for (int r = 0; r < runs; ++r) {
        std::map<std::string, totals> sum;
        std::map<std::string, bool> out_of_run; // unsupported or failed: no more slices
        for (int k = 0; k < slices; ++k) {
            for (std::size_t j = 0; j < stacks.size(); ++j) {
                const std::string& name =
                    stacks[(j + static_cast<std::size_t>(r + k)) % stacks.size()];
                if (out_of_run[name])
                    continue;
                // The same offset for every stack of one round of slices; a stride of 37
                // 16-byte steps visits all 256 offsets in a page before it repeats.
                const std::size_t shift = static_cast<std::size_t>(r * slices + k) * 37 * 16 % 4096;
                auto one = [&] { return slice(name); };
                if (!guarded(rep, what, out, name,
                             [&] { sum[name].add(on_shifted_stack(shift, one)); }))
                    out_of_run[name] = true;
            }
        }
        for (const std::string& name : stacks) {
            std::vector<double> v(out.size(), nan);
            if (!out_of_run[name])
                v = values(sum[name]);
            store(out, name, r, runs, v);
        }
    }
}

std::string self_exe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        throw std::runtime_error("cannot find /proc/self/exe");
    return std::string(buf, static_cast<std::size_t>(n));
}

/// W6 in a fresh process: returns {RSS bytes per pair, heap bytes per pair}.
std::pair<double, double> memory_child(const std::string& stack_name, std::size_t pairs) {
    std::string cmd = "'" + self_exe() + "' --child w6 --stack " + stack_name + " --pairs " +
                      std::to_string(pairs);
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f)
        throw std::runtime_error("popen failed");
    double rss = nan, heap = nan;
    int got = std::fscanf(f, "%lf %lf", &rss, &heap);
    int status = ::pclose(f);
    if (got != 2 || status != 0)
        throw std::runtime_error("the memory child failed (" + cmd + ")");
    return {rss, heap};
}

/** W3 instruction counts from bench/callgrind.sh: "stack,rounds,instructions,tls" per line
    (tls "1.2" or "1.3"; a line without it is TLS 1.2). Also tlsx's own share of a round trip:
    tlsx minus raw mbedTLS minus the transport alone (tlsx::test::pipe). */
void read_instructions(report& rep, const std::string& file) {
    std::ifstream f(file);
    if (!f)
        throw std::runtime_error("cannot read " + file);
    std::vector<std::string> with_pipe = tls_stacks;
    with_pipe.push_back("pipe");
    std::map<std::string, std::map<std::string, double>> per_version; // tls -> stack -> instr/rt
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream ls(line);
        std::string name, rounds, instr, version;
        if (!std::getline(ls, name, ',') || !std::getline(ls, rounds, ',') ||
            !std::getline(ls, instr, ',') || name == "stack")
            continue;
        if (!std::getline(ls, version) || version.empty())
            version = "1.2";
        per_version[version][name] = std::stod(instr) / std::stod(rounds);
    }
    for (const auto& [version, counts] : per_version) {
        const bool v13 = version == "1.3";
        const std::string prefix = v13 ? "w3.tls13." : "w3.";
        const std::string w =
            v13 ? "W3 ping-pong 64 B, in memory, TLS 1.3" : "W3 ping-pong 64 B, in memory";
        auto& in = rep.add(prefix + "instructions", w, "instructions per round trip (callgrind)",
                           "instr/rt", false, with_pipe);
        for (const auto& [stack_name, n] : counts)
            in.samples[stack_name] = {n};
        if (counts.count("tlsx") && counts.count("mbedtls") && counts.count("pipe")) {
            auto& own = rep.add(prefix + "own_instructions", w,
                                "tlsx's own instructions per round trip (tlsx - mbedtls - pipe)",
                                "instr/rt", false, {"tlsx"});
            own.samples["tlsx"] = {counts.at("tlsx") - counts.at("mbedtls") - counts.at("pipe")};
        }
    }
}

/// A workload's amount for one of `slices` slices (at least 1).
template <class N>
N share(N total, int slices) {
    return std::max<N>(1, total / static_cast<N>(std::max(1, slices)));
}

slice_result bulk_slice(const bulk_result& r) {
    return {r.stats, static_cast<double>(r.bytes) / MB, static_cast<double>(r.records)};
}

/// W3, W7 (round trips) and W4, W5 (handshakes): the rate and the allocations count the same.
slice_result counted_slice(const pingpong_result& r) {
    double n = static_cast<double>(r.rounds);
    return {r.stats, n, n};
}

slice_result counted_slice(const handshake_result& r) {
    double n = static_cast<double>(r.count);
    return {r.stats, n, n};
}

void run_all(report& rep, const params& p, const std::vector<std::string>& only,
             const std::string& instructions_file) {
    auto wanted = [&](const char* w) {
        return only.empty() || std::find(only.begin(), only.end(), w) != only.end();
    };
    rep.load_start = load_average();
    if (rep.load_start > 0.5)
        std::cerr << "tlsx_bench: warning: load average " << rep.load_start
                  << ": other processes compete for the CPU; wall-clock numbers will be noisy"
                  << std::endl;
    credentials creds = make_credentials();
    // TLS 1.2 first (every workload), then TLS 1.3 (W1, W3, W4, W5 by ticket) when this
    // mbedTLS has it. A TLS 1.3 series is "wN.tls13.*", its workload "..., TLS 1.3".
    std::vector<tls> versions = {tls::v1_2};
    if (mbedtls_has_tls13() && p.tls13)
        versions.push_back(tls::v1_3);
    if (!p.tls12)
        versions.erase(versions.begin());
    for (tls v : versions) {
        stack_set stacks(creds, suite::aes128_gcm, v);
        const bool v13 = v == tls::v1_3;
        auto id = [&](const std::string& w, const std::string& what) {
            return w + (v13 ? ".tls13." : ".") + what;
        };
        auto name = [&](const std::string& w) { return v13 ? w + ", TLS 1.3" : w; };
        if (wanted("w1")) {
            const std::string w = name("W1 bulk, in memory");
            auto& tp = rep.add(id("w1", "throughput"), w, "throughput", "MB/s", true, tls_stacks);
            auto& al = rep.add(id("w1", "allocs"), w, "allocations per record", "allocs/record",
                               false, tls_stacks);
            auto& an = rep.add(id("w1", "news"), w, "operator new per record", "news/record", false,
                               tls_stacks);
            auto& wall = wall_twin(rep, tp);
            const std::uint64_t bytes = share(p.bulk_bytes, p.bulk_slices);
            run_interleaved(
                rep, w, {&tp, &al, &an, &wall}, p.runs, p.bulk_slices, tls_stacks,
                [&](const std::string& n) {
                    return bulk_slice(stacks[n].bulk_memory(bytes, p.chunk, p.bulk_warmup));
                },
                [](const totals& t) {
                    return std::vector<double>{t.per_cpu_second(), t.mallocs_per_item(),
                                               t.news_per_item(), t.per_second()};
                });
        }
        if (wanted("w2") && !v13) {
            auto& tp = rep.add("w2.throughput", "W2 bulk, TCP loopback", "throughput", "MB/s", true,
                               tls_stacks);
            const std::uint64_t bytes = share(p.bulk_bytes, p.bulk_slices);
            run_interleaved(
                rep, "W2 bulk, TCP loopback", {&tp}, p.runs, p.bulk_slices, tls_stacks,
                [&](const std::string& n) {
                    return bulk_slice(stacks[n].bulk_tcp(bytes, p.chunk, p.bulk_warmup));
                },
                [](const totals& t) { return std::vector<double>{t.per_second()}; });
        }
        if (wanted("w3")) {
            const std::string w = name("W3 ping-pong 64 B, in memory");
            std::vector<std::string> with_pipe = tls_stacks;
            with_pipe.push_back("pipe");
            auto& rt = rep.add(id("w3", "rate"), w, "round trips/s", "rt/s", true, with_pipe);
            auto& al = rep.add(id("w3", "allocs"), w, "allocations per round trip", "allocs/rt",
                               false, with_pipe);
            auto& an = rep.add(id("w3", "news"), w, "operator new per round trip", "news/rt", false,
                               with_pipe);
            auto& wall = wall_twin(rep, rt);
            const std::size_t rounds = share(p.rounds, p.round_slices);
            run_interleaved(
                rep, w, {&rt, &al, &an, &wall}, p.runs, p.round_slices, with_pipe,
                [&](const std::string& n) {
                    return counted_slice(
                        n == "pipe" ? pipe_pingpong(rounds, p.round_size, p.round_warmup)
                                    : stacks[n].pingpong(rounds, p.round_size, p.round_warmup));
                },
                [](const totals& t) {
                    return std::vector<double>{t.per_cpu_second(), t.mallocs_per_item(),
                                               t.news_per_item(), t.per_second()};
                });
        }
        if (wanted("w7") && v13) {
            // The cost of one TLS 1.3 key update round trip (tlsx only: the baselines have none).
            const std::string w = name("W7 key update round trip, in memory");
            const std::vector<std::string> tlsx_only{"tlsx"};
            auto& rt =
                rep.add(id("w7", "rate"), w, "key update round trips/s", "ku/s", true, tlsx_only);
            auto& al = rep.add(id("w7", "allocs"), w, "allocations per key update round trip",
                               "allocs/ku", false, tlsx_only);
            auto& wall = wall_twin(rep, rt);
            // One slice: there is no other stack to interleave with.
            run_interleaved(
                rep, w, {&rt, &al, &wall}, p.runs, 1, tlsx_only,
                [&](const std::string&) {
                    return counted_slice(key_update_round_trips(
                        creds, suite::aes128_gcm, p.rounds / 10, p.round_warmup / 10));
                },
                [](const totals& t) {
                    return std::vector<double>{t.per_cpu_second(), t.mallocs_per_item(),
                                               t.per_second()};
                });
        }
        if (wanted("w4")) {
            const std::string w = name("W4 full handshakes");
            auto& hs = rep.add(id("w4", "rate"), w, "handshakes/s", "hs/s", true, tls_stacks);
            auto& wall = wall_twin(rep, hs);
            const std::size_t count = share(p.full_handshakes, p.full_slices);
            run_interleaved(
                rep, w, {&hs, &wall}, p.runs, p.full_slices, tls_stacks,
                [&](const std::string& n) {
                    return counted_slice(stacks[n].handshakes(count, resumption::none));
                },
                [](const totals& t) {
                    return std::vector<double>{t.per_cpu_second(), t.per_second()};
                });
        }
        if (wanted("w5")) {
            for (resumption how : {resumption::ticket, resumption::session_id}) {
                bool ticket = how == resumption::ticket;
                if (v13 && !ticket)
                    continue; // no session IDs in TLS 1.3
                auto& hs = rep.add(id("w5", ticket ? "ticket" : "session_id"),
                                   name(ticket ? "W5 resumed handshakes, ticket"
                                               : "W5 resumed handshakes, session ID"),
                                   "handshakes/s", "hs/s", true, tls_stacks);
                auto& wall = wall_twin(rep, hs);
                const int slices = v13 ? p.resumed13_slices : p.resumed_slices;
                const std::size_t count = share(p.resumed_handshakes, slices);
                run_interleaved(
                    rep, hs.workload, {&hs, &wall}, p.runs, slices, tls_stacks,
                    [&](const std::string& n) {
                        return counted_slice(stacks[n].handshakes(count, how));
                    },
                    [](const totals& t) {
                        return std::vector<double>{t.per_cpu_second(), t.per_second()};
                    });
            }
        }
    }
    if (!instructions_file.empty())
        read_instructions(rep, instructions_file);
    if (wanted("w6")) {
        auto& rss =
            rep.add("w6.rss", "W6 idle established pair", "RSS per pair", "KiB", false, tls_stacks);
        auto& heap = rep.add("w6.heap", "W6 idle established pair", "heap per pair", "KiB", false,
                             tls_stacks);
        run_workload(rep, "W6 memory per idle pair (" + std::to_string(p.pairs) + " pairs)",
                     {&rss, &heap}, p.memory_runs, tls_stacks, [&](const std::string& n) {
                         auto [r, h] = memory_child(n, p.pairs);
                         return std::vector<double>{r / KiB, h / KiB};
                     });
    }
    if (wanted("aead")) {
        for (suite s : all_suites) {
            std::string name = aead_name(s);
            auto& enc = rep.add(std::string("aead.") + suite_key(s) + ".encrypt", "AEAD " + name,
                                "encrypt", "MB/s", true, {"mbedtls", "openssl"});
            auto& dec = rep.add(std::string("aead.") + suite_key(s) + ".decrypt", "AEAD " + name,
                                "decrypt", "MB/s", true, {"mbedtls", "openssl"});
            run_workload(
                rep, "AEAD " + name, {&enc, &dec}, p.runs, {"mbedtls", "openssl"},
                [&](const std::string& n) {
                    aead_result r = n == "mbedtls" ? mbedtls_aead_speed(s, p.aead_bytes)
                                                   : openssl_aead_speed(s, p.aead_bytes);
                    double b = static_cast<double>(r.bytes) / MB;
                    return std::vector<double>{b / r.encrypt_seconds, b / r.decrypt_seconds};
                });
        }
    }
    if (wanted("suites")) {
        for (suite s : all_suites) {
            std::map<std::string, std::unique_ptr<stack>> by_suite;
            for (const auto& n : tls_stacks)
                by_suite[n] = make_stack(n, creds, s);
            auto& tp = rep.add(std::string("suite.") + suite_key(s),
                               std::string("W1 bulk (") + std::to_string(p.suite_bytes >> 20) +
                                   " MiB), " + aead_name(s) + " suite",
                               "throughput", "MB/s", true, tls_stacks);
            auto& wall = wall_twin(rep, tp);
            const std::uint64_t bytes = share(p.suite_bytes, p.suite_slices);
            run_interleaved(
                rep, tp.workload, {&tp, &wall}, p.runs, p.suite_slices, tls_stacks,
                [&](const std::string& n) {
                    return bulk_slice(by_suite[n]->bulk_memory(bytes, p.chunk, p.bulk_warmup));
                },
                [](const totals& t) {
                    return std::vector<double>{t.per_cpu_second(), t.per_second()};
                });
        }
    }
}

//----------------------------------------------------------------------------------------------
// Targets (issues 5 and 10)

struct target {
    std::string name;
    std::string series_id;
    std::string against; // empty: tlsx's own value; else the ratio tlsx/against
    bool at_least;
    double threshold;
};

// Issue 5 (TLS 1.2 on 2.28), and issue 10 (both backends, TLS 1.3, wall clock too, tlsx's own
// instructions). A target whose series was not measured (TLS 1.3 on 2.28) reads n/a.
const std::vector<target> targets = {
    {"W1 bulk in memory >= 0.95x raw mbedTLS", "w1.throughput", "mbedtls", true, 0.95},
    {"W1, wall clock", "w1.throughput_wall", "mbedtls", true, 0.95},
    {"W1 TLS 1.3 >= 0.95x raw mbedTLS", "w1.tls13.throughput", "mbedtls", true, 0.95},
    {"W1 TLS 1.3, wall clock", "w1.tls13.throughput_wall", "mbedtls", true, 0.95},
    {"W2 bulk TCP >= 0.95x raw mbedTLS", "w2.throughput", "mbedtls", true, 0.95},
    {"W3 <= 36k instructions per round trip", "w3.instructions", "", false, 36000},
    {"W3 instructions <= 0.75x asio::ssl", "w3.instructions", "asio_ssl", false, 0.75},
    {"W3 tlsx's own instructions per round trip <= 1200", "w3.own_instructions", "", false, 1200},
    {"W3 TLS 1.3 tlsx's own instructions <= 1200", "w3.tls13.own_instructions", "", false, 1200},
    {"W3 round trips/s >= 1.3x asio::ssl", "w3.rate", "asio_ssl", true, 1.3},
    {"W4 full handshakes >= 0.95x raw mbedTLS", "w4.rate", "mbedtls", true, 0.95},
    {"W4, wall clock", "w4.rate_wall", "mbedtls", true, 0.95},
    {"W4 TLS 1.3 >= 0.95x raw mbedTLS", "w4.tls13.rate", "mbedtls", true, 0.95},
    {"W4 TLS 1.3, wall clock", "w4.tls13.rate_wall", "mbedtls", true, 0.95},
    {"W5 ticket resumption >= 0.95x raw mbedTLS", "w5.ticket", "mbedtls", true, 0.95},
    {"W5 ticket, wall clock", "w5.ticket_wall", "mbedtls", true, 0.95},
    {"W5 session-ID resumption >= 0.95x raw mbedTLS", "w5.session_id", "mbedtls", true, 0.95},
    {"W5 session ID, wall clock", "w5.session_id_wall", "mbedtls", true, 0.95},
    {"W5 TLS 1.3 ticket resumption >= 0.95x raw mbedTLS", "w5.tls13.ticket", "mbedtls", true, 0.95},
    {"W5 TLS 1.3 ticket, wall clock", "w5.tls13.ticket_wall", "mbedtls", true, 0.95},
    {"W6 <= 92 KiB RSS per pair", "w6.rss", "", false, 92},
    {"W6 RSS <= 0.62x asio::ssl", "w6.rss", "asio_ssl", false, 0.62},
    {"0 allocations per record (W1)", "w1.allocs", "", false, 0},
    {"0 allocations per record (W1, TLS 1.3)", "w1.tls13.allocs", "", false, 0},
    {"0 allocations per round trip (W3)", "w3.allocs", "", false, 0},
    {"0 allocations per round trip (W3, TLS 1.3)", "w3.tls13.allocs", "", false, 0},
};

struct verdict {
    const target* t;
    double measured;
    std::string status; // met, MISSED, n/a
    std::string note;
};

std::vector<verdict> evaluate(const report& rep) {
    std::vector<verdict> out;
    for (const auto& t : targets) {
        verdict v{&t, nan, "n/a", ""};
        if (const series* s = rep.find(t.series_id)) {
            v.measured = t.against.empty() ? s->med("tlsx") : median(s->ratios(t.against));
            auto note = s->notes.find("tlsx");
            if (note != s->notes.end())
                v.note = note->second;
        } else if (t.series_id.find(".tls13.") != std::string::npos && !mbedtls_has_tls13()) {
            v.note = "no TLS 1.3 in " + mbedtls_backend();
        } else {
            v.note = "not measured in this run";
        }
        if (!std::isnan(v.measured)) {
            bool ok = t.at_least ? v.measured >= t.threshold : v.measured <= t.threshold;
            v.status = ok ? "met" : "MISSED";
        }
        out.push_back(v);
    }
    return out;
}

//----------------------------------------------------------------------------------------------
// Output

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) {
            auto c = line.find(':');
            return c == std::string::npos ? line : line.substr(c + 2);
        }
    return "unknown";
}

std::string markdown(const report& rep, const params& p) {
    std::ostringstream o;
    o << "Backend: **" << mbedtls_backend() << "** (asio_ssl: " << openssl_backend() << "). ";
    if (!p.label.empty())
        o << "Measured: " << p.label << ". ";
    o << "Medians of " << p.runs << " runs (W6: " << p.memory_runs
      << "); ratios are medians of the run-by-run ratios. Each run of a timed workload is "
      << (p.full_slices == 1 && p.resumed_slices == 1
              ? std::string("one stretch per stack, the stacks back to back")
              : "slices of it, the stacks interleaved slice by slice (W1/W2 " +
                    std::to_string(p.bulk_slices) + ", W3 " + std::to_string(p.round_slices) +
                    ", W4 " + std::to_string(p.full_slices) + ", W5 " +
                    std::to_string(p.resumed_slices) + ", W5 TLS 1.3 " +
                    std::to_string(p.resumed13_slices) + " slices)")
      << ". Rates of the one-thread workloads "
         "(W1, W3, W4, W5, AEAD) are per second of the benchmark thread's CPU time, and their "
         "\"wall clock\" rows per wall-clock second; W2's are per wall-clock second. Load average "
      << fmt(rep.load_start, true) << " at the start, " << fmt(rep.load_end, true)
      << " at the end.";
    if (!mbedtls_has_tls13())
        o << " No TLS 1.3 rows: this mbedTLS has no TLS 1.3.";
    o << "\n\n";
    o << "| Workload | Metric | tlsx | asio_ssl | mbedtls | tlsx/asio_ssl | tlsx/mbedtls |\n";
    o << "|---|---|---:|---:|---:|---:|---:|\n";
    for (const auto& s : rep.all) {
        if (s.id.rfind("aead.", 0) == 0)
            continue;
        o << "| " << s.workload << " | " << s.metric << " (" << s.unit << ")";
        for (const char* n : {"tlsx", "asio_ssl", "mbedtls"}) {
            auto note = s.notes.find(n);
            o << " | " << (note != s.notes.end() ? note->second : fmt(s.med(n)));
        }
        for (const char* n : {"asio_ssl", "mbedtls"})
            o << " | " << fmt(median(s.ratios(n)), true);
        o << " |\n";
        if (s.samples.count("pipe"))
            o << "| " << s.workload << " | " << s.metric << ", transport alone (tlsx::test::pipe)"
              << " | " << fmt(s.med("pipe")) << " | | | | |\n";
    }
    bool any_aead = false;
    for (const auto& s : rep.all)
        any_aead = any_aead || s.id.rfind("aead.", 0) == 0;
    if (any_aead) {
        o << "\n| AEAD (16 KiB records, 13-byte AD) | Direction | " << mbedtls_backend()
          << " (MB/s) | OpenSSL (MB/s) | OpenSSL/mbedTLS |\n";
        o << "|---|---|---:|---:|---:|\n";
        for (const auto& s : rep.all) {
            if (s.id.rfind("aead.", 0) != 0)
                continue;
            double m = s.med("mbedtls"), q = s.med("openssl");
            o << "| " << s.workload.substr(5) << " | " << s.metric << " | " << fmt(m) << " | "
              << fmt(q) << " | " << fmt(q / m, true) << " |\n";
        }
    }
    o << "\n| Target (issues 5, 10) | Measured | Status |\n|---|---:|---|\n";
    for (const auto& v : evaluate(rep)) {
        bool ratio = !v.t->against.empty();
        o << "| " << v.t->name << " | " << (std::isnan(v.measured) ? "n/a" : fmt(v.measured, ratio))
          << " | " << v.status << (v.note.empty() ? "" : " — " + v.note) << " |\n";
    }
    return o.str();
}

std::string json_number(double v) {
    if (std::isnan(v))
        return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string json_string(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            o += '\\';
        if (static_cast<unsigned char>(c) < 0x20)
            continue;
        o += c;
    }
    return o + "\"";
}

std::string json(const report& rep, const params& p) {
    std::ostringstream o;
    o << "{\n  \"meta\": {\"date\": " << json_string(now_utc())
      << ", \"cpu\": " << json_string(cpu_model())
      << ", \"cores\": " << ::sysconf(_SC_NPROCESSORS_ONLN)
      << ", \"label\": " << json_string(p.label)
      << ", \"backend\": " << json_string(mbedtls_backend())
      << ", \"openssl\": " << json_string(openssl_backend())
      << ", \"tls13\": " << (mbedtls_has_tls13() && p.tls13 ? "true" : "false")
      << ", \"load_start\": " << json_number(rep.load_start)
      << ", \"load_end\": " << json_number(rep.load_end)
      << ", \"quick\": " << (p.quick ? "true" : "false") << ", \"runs\": " << p.runs
      << ", \"memory_runs\": " << p.memory_runs << ", \"slices\": {\"bulk\": " << p.bulk_slices
      << ", \"rounds\": " << p.round_slices << ", \"full\": " << p.full_slices
      << ", \"resumed\": " << p.resumed_slices << ", \"resumed_tls13\": " << p.resumed13_slices
      << ", \"suites\": " << p.suite_slices << "}, \"bulk_bytes\": " << p.bulk_bytes
      << ", \"chunk\": " << p.chunk << ", \"rounds\": " << p.rounds
      << ", \"round_size\": " << p.round_size << ", \"full_handshakes\": " << p.full_handshakes
      << ", \"resumed_handshakes\": " << p.resumed_handshakes << ", \"pairs\": " << p.pairs
      << ", \"suite\": \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\""
      << ", \"suite_tls13\": \"TLS_AES_128_GCM_SHA256\", \"curve\": \"P-256\"},\n";
    o << "  \"series\": [\n";
    for (std::size_t i = 0; i < rep.all.size(); ++i) {
        const series& s = rep.all[i];
        o << "    {\"id\": " << json_string(s.id) << ", \"workload\": " << json_string(s.workload)
          << ", \"metric\": " << json_string(s.metric) << ", \"unit\": " << json_string(s.unit)
          << ", \"better\": \"" << (s.higher_better ? "higher" : "lower") << "\",\n";
        o << "     \"stacks\": {";
        bool first = true;
        for (const auto& n : s.stacks) {
            o << (first ? "" : ", ") << json_string(n) << ": {";
            first = false;
            auto it = s.samples.find(n);
            std::vector<double> v = it == s.samples.end() ? std::vector<double>{} : it->second;
            o << "\"median\": " << json_number(median(v)) << ", \"min\": " << json_number(min_of(v))
              << ", \"max\": " << json_number(max_of(v)) << ", \"samples\": [";
            for (std::size_t k = 0; k < v.size(); ++k)
                o << (k ? ", " : "") << json_number(v[k]);
            o << "]";
            auto note = s.notes.find(n);
            if (note != s.notes.end())
                o << ", \"note\": " << json_string(note->second);
            o << "}";
        }
        o << "},\n     \"ratios\": {";
        first = true;
        for (const char* other : {"asio_ssl", "mbedtls"}) {
            if (!s.samples.count("tlsx") || !s.samples.count(other))
                continue;
            auto r = s.ratios(other);
            o << (first ? "" : ", ") << "\"tlsx/" << other
              << "\": {\"median\": " << json_number(median(r)) << ", \"samples\": [";
            first = false;
            for (std::size_t k = 0; k < r.size(); ++k)
                o << (k ? ", " : "") << json_number(r[k]);
            o << "]}";
        }
        o << "}}" << (i + 1 < rep.all.size() ? "," : "") << "\n";
    }
    o << "  ],\n  \"targets\": [\n";
    auto verdicts = evaluate(rep);
    for (std::size_t i = 0; i < verdicts.size(); ++i) {
        const verdict& v = verdicts[i];
        o << "    {\"target\": " << json_string(v.t->name)
          << ", \"series\": " << json_string(v.t->series_id)
          << ", \"of\": " << json_string(v.t->against.empty() ? "tlsx" : "tlsx/" + v.t->against)
          << ", \"bound\": \"" << (v.t->at_least ? ">=" : "<=") << "\""
          << ", \"threshold\": " << json_number(v.t->threshold)
          << ", \"measured\": " << json_number(v.measured)
          << ", \"status\": " << json_string(v.status);
        if (!v.note.empty())
            o << ", \"note\": " << json_string(v.note);
        o << "}" << (i + 1 < verdicts.size() ? "," : "") << "\n";
    }
    o << "  ]\n}\n";
    return o.str();
}

std::string csv(const report& rep) {
    std::ostringstream o;
    o << "id,workload,metric,unit,better,stack,runs,median,min,max,note\n";
    auto row = [&](const series& s, const std::string& who, const std::vector<double>& v,
                   const std::string& unit, const std::string& note) {
        std::size_t n = 0;
        for (double x : v)
            n += std::isnan(x) ? 0 : 1;
        o << s.id << ",\"" << s.workload << "\",\"" << s.metric << "\"," << unit << ","
          << (s.higher_better ? "higher" : "lower") << "," << who << "," << n << ","
          << json_number(median(v)) << "," << json_number(min_of(v)) << ","
          << json_number(max_of(v)) << ",\"" << note << "\"\n";
    };
    for (const auto& s : rep.all) {
        for (const auto& n : s.stacks) {
            auto it = s.samples.find(n);
            auto note = s.notes.find(n);
            row(s, n, it == s.samples.end() ? std::vector<double>{} : it->second, s.unit,
                note == s.notes.end() ? "" : note->second);
        }
        for (const char* other : {"asio_ssl", "mbedtls"})
            if (s.samples.count("tlsx") && s.samples.count(other))
                row(s, std::string("tlsx/") + other, s.ratios(other), "ratio", "");
    }
    return o.str();
}

/// Blocks for bench/plot.gp, in a fixed order: "name value colour label" per stack.
std::string plot_data(const report& rep) {
    static const char* const panels[] = {"w1.throughput",   "w2.throughput", "w3.rate",
                                         "w3.instructions", "w4.rate",       "w5.ticket",
                                         "w5.session_id",   "w6.rss",        "w6.heap",
                                         "w1.allocs",       "w3.allocs",     "w1.tls13.throughput",
                                         "w3.tls13.rate",   "w4.tls13.rate", "w5.tls13.ticket"};
    static const std::map<std::string, std::string> colour = {
        {"tlsx", "2062260"}, {"asio_ssl", "16744206"}, {"mbedtls", "8355711"}}; // RGB
    std::ostringstream o;
    o << "# tlsx_bench, " << mbedtls_backend()
      << ": one block per panel of bench/plot.gp (index 0..15)\n";
    for (const char* id : panels) {
        o << "# " << id << "\n";
        const series* s = rep.find(id);
        for (const auto& n : tls_stacks) {
            double v = s ? s->med(n) : nan;
            o << n << " " << (std::isnan(v) ? 0.0 : v) << " " << colour.at(n) << " \"" << fmt(v)
              << "\"\n";
        }
        o << "\n\n";
    }
    o << "# aead (index 15): name mbedtls-encrypt openssl-encrypt\n";
    for (suite st : all_suites) {
        const series* s = rep.find(std::string("aead.") + suite_key(st) + ".encrypt");
        double m = s ? s->med("mbedtls") : nan, q = s ? s->med("openssl") : nan;
        static const char* const short_name[] = {"AES128-GCM", "AES256-GCM", "ChaCha20-Poly"};
        o << short_name[static_cast<int>(st)] << " " << (std::isnan(m) ? 0.0 : m) << " "
          << (std::isnan(q) ? 0.0 : q) << "\n";
    }
    return o.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
    if (!f)
        throw std::runtime_error("cannot write " + path);
}

//----------------------------------------------------------------------------------------------
// Child modes

int child_w6(const std::string& stack_name, std::size_t pairs) {
    credentials creds = make_credentials();
    auto s = make_stack(stack_name, creds, suite::aes128_gcm, tls::v1_2);
    s->hold_idle_pairs(2, [] {}); // lazily initialised library state, Asio's caches
    std::size_t rss0 = rss_bytes(), heap0 = heap_bytes();
    std::size_t rss1 = 0, heap1 = 0;
    s->hold_idle_pairs(pairs, [&] {
        rss1 = rss_bytes();
        heap1 = heap_bytes();
    });
    double n = static_cast<double>(pairs);
    std::printf("%.1f %.1f\n", (static_cast<double>(rss1) - static_cast<double>(rss0)) / n,
                (static_cast<double>(heap1) - static_cast<double>(heap0)) / n);
    return 0;
}

/// One workload for one stack, for profiling (bench/callgrind.sh runs w3 this way): only the
/// measured region is inside tlsx_bench_region. `count` is round trips (w3), MiB (w1) or
/// handshakes (w4, w5-ticket, w5-session-id).
int child_profile(const std::string& workload, const std::string& stack_name, std::size_t count,
                  std::size_t size, tls v) {
    std::unique_ptr<stack> s;
    if (stack_name != "pipe")
        s = make_stack(stack_name, make_credentials(), suite::aes128_gcm, v);
    else if (workload != "w3")
        throw std::runtime_error("the pipe stack only has w3");
    if (workload == "w3") {
        pingpong_result r = s ? s->pingpong(count, size, 100) : pipe_pingpong(count, size, 100);
        std::printf("%zu round trips, %.0f rt/s, %.3f allocs/rt\n",
                    static_cast<std::size_t>(r.rounds),
                    static_cast<double>(r.rounds) / r.stats.seconds,
                    static_cast<double>(r.stats.mallocs) / static_cast<double>(r.rounds));
    } else if (workload == "w1") {
        bulk_result r = s->bulk_memory(static_cast<std::uint64_t>(count) << 20, 16384, 1 << 20);
        std::printf("%.1f MB/s, %.3f allocs/record\n",
                    static_cast<double>(r.bytes) / MB / r.stats.seconds,
                    static_cast<double>(r.stats.mallocs) / static_cast<double>(r.records));
    } else if (workload == "w4" || workload == "w5-ticket" || workload == "w5-session-id") {
        resumption how = workload == "w4"          ? resumption::none
                         : workload == "w5-ticket" ? resumption::ticket
                                                   : resumption::session_id;
        handshake_result r = s->handshakes(count, how);
        std::printf("%.1f handshakes/s, %.1f allocs/handshake\n",
                    static_cast<double>(r.count) / r.stats.seconds,
                    static_cast<double>(r.stats.mallocs) / static_cast<double>(r.count));
    } else {
        throw std::runtime_error("unknown workload " + workload);
    }
    return 0;
}

void usage() {
    std::cout
        << "usage: tlsx_bench [--quick] [--runs N] [--only LIST] [--out PREFIX]\n"
           "                  [--instructions FILE] [--label TEXT] [--slices N]\n"
           "  --quick          a seconds-long smoke run (small sizes, one run)\n"
           "  --runs N         repetitions of each workload (default 5)\n"
           "  --slices N       slices per run of every timed workload, the stacks interleaved\n"
           "                   slice by slice (default: 8-40, by workload; 1: back to back)\n"
           "  --only LIST      comma-separated subset of w1,w2,w3,w4,w5,w6,aead,suites\n"
           "  --out PREFIX     also write PREFIX.csv, PREFIX.json, PREFIX.md, PREFIX.dat\n"
           "  --instructions FILE  W3 instruction counts from bench/callgrind.sh\n"
           "  --label TEXT     what is measured (e.g. a commit), kept in the JSON and tables\n"
           "  --tls V          1.2, 1.3 or both (default: both, where mbedTLS has TLS 1.3)\n"
           "profiling: --child w1|w3|w4|w5-ticket|w5-session-id --stack NAME [--count N]\n"
           "           [--tls 1.2|1.3]\n"
           "           (only the measured part runs inside tlsx_bench_region, for callgrind)\n"
           "internal:  --child w6 --stack NAME [--pairs N]\n";
}

} // namespace
} // namespace bench

int main(int argc, char** argv) {
    using namespace bench;
    params p;
    std::vector<std::string> only;
    std::string out, instructions, child, child_stack;
    std::size_t child_count = 0;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc)
                    throw std::runtime_error(a + " needs a value");
                return argv[++i];
            };
            if (a == "--quick") {
                p.make_quick();
            } else if (a == "--runs") {
                p.runs = std::max(1, std::stoi(value()));
                p.memory_runs = std::min(p.memory_runs, p.runs);
            } else if (a == "--only") {
                std::istringstream l(value());
                std::string w;
                while (std::getline(l, w, ','))
                    only.push_back(w);
            } else if (a == "--label") {
                p.label = value();
            } else if (a == "--out") {
                out = value();
            } else if (a == "--instructions") {
                instructions = value();
            } else if (a == "--child") {
                child = value();
            } else if (a == "--stack") {
                child_stack = value();
            } else if (a == "--count") {
                child_count = std::stoul(value());
            } else if (a == "--tls") {
                std::string v = value();
                if (v != "1.2" && v != "1.3" && v != "both")
                    throw std::runtime_error("--tls takes 1.2, 1.3 or both");
                p.tls12 = v != "1.3";
                p.tls13 = v != "1.2";
            } else if (a == "--slices") {
                p.set_slices(std::max(1, std::stoi(value())));
            } else if (a == "--pairs") {
                p.pairs = std::stoul(value());
            } else if (a == "--help" || a == "-h") {
                usage();
                return 0;
            } else {
                std::cerr << "tlsx_bench: unknown argument " << a << "\n";
                usage();
                return 2;
            }
        }
        if (child == "w6")
            return child_w6(child_stack, p.pairs);
        if (!child.empty())
            return child_profile(child, child_stack, child_count ? child_count : 2000, p.round_size,
                                 p.tls12 ? tls::v1_2 : tls::v1_3);

        report rep;
        run_all(rep, p, only, instructions);
        rep.load_end = load_average();
        std::string md = markdown(rep, p);
        std::cout << "\n" << md;
        if (!out.empty()) {
            write_file(out + ".md", md);
            write_file(out + ".json", json(rep, p));
            write_file(out + ".csv", csv(rep));
            write_file(out + ".dat", plot_data(rep));
            std::cerr << "wrote " << out << ".{md,json,csv,dat}" << std::endl;
        }
        return rep.failed ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "tlsx_bench: " << e.what() << std::endl;
        return 1;
    }
}
