//
// tlsx_load: many concurrent TLS connections against a TLS echo service (issue 14, item 6).
//
//   tlsx_load client --port P --cafile FILE [--connections N] [--parallel-handshakes H]
//                    [--messages M] [--message-size S] [--cut-every K] [--threads T]
//                    [--time-limit SECONDS] [--server-pid PID]... [--label TEXT]
//   tlsx_load plain-echo [--port P] [--threads T]
//
// client: opens N connections to 127.0.0.1:P (at most H handshakes at a time), and holds them
// all open: only when every handshake has ended does any connection send. Then each connection
// sends M messages of S bytes (a pattern of its own) and reads each one's echo back before the
// next, checking it byte for byte and timing the round trip. Every K-th connection (K = 2: half
// of them) is cut mid-transfer: after M/2 messages it closes its socket without close_notify,
// as a client that goes away does. The others end with close_notify both ways
// (async_shutdown(both)). Every connection ends in one of: completed, cut as planned, failed
// (with the error, counted by kind). Nothing is lost: a message that was sent whole and whose
// echo did not come back whole and equal is a failure. It prints one report line:
//
//   load <label>: 10000 connections (10000 at once), 10000 handshakes in 6.1 s = 1639/s, ...
//
// and the server's memory per connection (VmRSS of --server-pid before the first connection
// and with all of them open; summed when --server-pid is given once per process of a server
// of several processes). Exit status 0 only if every connection completed or was cut as
// planned; 1 otherwise (the reasons printed); 2 usage. The whole run stops by itself after
// --time-limit seconds (default 300), counting unfinished connections as failures.
//
// plain-echo: a plain TCP echo server on 127.0.0.1 (the backend for tls_proxy --mode
// terminate); prints "listening on 127.0.0.1:PORT"; runs until killed.
//
// bench/load.sh runs both setups (the echo server, and tls_proxy in front of plain-echo);
// CI runs it small (bench-smoke).
//
#include <tlsx/context.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using tlsx::error_code;
using clock_type = std::chrono::steady_clock;
constexpr auto as_tuple = net::as_tuple(net::use_awaitable);

namespace {

struct options {
    std::string mode;
    unsigned short port = 0;
    std::string cafile;
    std::size_t connections = 10000;
    std::size_t parallel_handshakes = 256;
    std::size_t messages = 16;
    std::size_t message_size = 1024;
    std::size_t cut_every = 2;
    unsigned threads = 2;
    unsigned time_limit = 300;
    std::vector<long> server_pids; // their VmRSS is summed (a server of several processes)
    std::string label = "run";
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "tlsx_load: " << why << "\n"
              << "usage: tlsx_load client --port P --cafile FILE [--connections N]\n"
                 "                 [--parallel-handshakes H] [--messages M] [--message-size S]\n"
                 "                 [--cut-every K] [--threads T] [--time-limit SECONDS]\n"
                 "                 [--server-pid PID]... [--label TEXT]\n"
                 "       tlsx_load plain-echo [--port P] [--threads T]\n";
    std::exit(2);
}

std::size_t number(const std::string& v, std::size_t lo, std::size_t hi, const char* what) {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi)
        usage(std::string(what) + ": " + std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<std::size_t>(n);
}

options parse(int argc, char** argv) {
    if (argc < 2)
        usage("client or plain-echo?");
    options o;
    o.mode = argv[1];
    if (o.mode != "client" && o.mode != "plain-echo")
        usage("the first argument is client or plain-echo");
    for (int i = 2; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage("missing value after " + std::string(a));
            return argv[++i];
        };
        if (a == "--port")
            o.port = static_cast<unsigned short>(number(value(), 0, 65535, "--port"));
        else if (a == "--cafile")
            o.cafile = value();
        else if (a == "--connections")
            o.connections = number(value(), 1, 100000, "--connections");
        else if (a == "--parallel-handshakes")
            o.parallel_handshakes = number(value(), 1, 4096, "--parallel-handshakes");
        else if (a == "--messages")
            o.messages = number(value(), 2, 100000, "--messages");
        else if (a == "--message-size")
            o.message_size = number(value(), 1, 1 << 20, "--message-size");
        else if (a == "--cut-every")
            o.cut_every = number(value(), 0, 1000000, "--cut-every (0: none)");
        else if (a == "--threads")
            o.threads = static_cast<unsigned>(number(value(), 1, 64, "--threads"));
        else if (a == "--time-limit")
            o.time_limit = static_cast<unsigned>(number(value(), 1, 86400, "--time-limit"));
        else if (a == "--server-pid")
            o.server_pids.push_back(static_cast<long>(number(value(), 1, 1 << 30, "--server-pid")));
        else if (a == "--label")
            o.label = value();
        else
            usage("unknown option " + std::string(a));
    }
    if (o.mode == "client" && (o.port == 0 || o.cafile.empty()))
        usage("client needs --port and --cafile");
    return o;
}

/// Lets this process hold `fds` descriptors if the hard limit allows (root may raise it).
void raise_fd_limit(std::size_t fds) {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= fds)
        return;
    rlimit want = r;
    want.rlim_cur = fds;
    if (want.rlim_max < fds)
        want.rlim_max = fds; // only root can raise the hard limit
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
        want.rlim_max = r.rlim_max;
        want.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &want);
    }
}

/// VmRSS of `pid` in KiB, 0 if unknown.
std::size_t rss_kib(long pid);

/// The summed VmRSS of the server's processes (--server-pid, once per process) in KiB.
std::size_t rss_kib(const std::vector<long>& pids) {
    std::size_t sum = 0;
    for (long pid : pids)
        sum += rss_kib(pid);
    return sum;
}

std::size_t rss_kib(long pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (f >> key) {
        if (key == "VmRSS:") {
            std::size_t kib = 0;
            f >> kib;
            return kib;
        }
        f.ignore(1 << 12, '\n');
    }
    return 0;
}

void run_threads(net::io_context& io, unsigned threads) {
    std::vector<std::thread> more;
    for (unsigned i = 1; i < threads; ++i)
        more.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : more)
        t.join();
}

// ---- plain-echo ------------------------------------------------------------------------------

net::awaitable<void> echo_plain(tcp::socket s) {
    char buf[16384];
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(net::buffer(buf), as_tuple);
        if (ec) {
            error_code ignored;
            s.shutdown(tcp::socket::shutdown_send, ignored); // carry the end (FIN) back
            co_return;
        }
        auto [wec, wn] = co_await net::async_write(s, net::buffer(buf, n), as_tuple);
        if (wec)
            co_return;
    }
}

int plain_echo(const options& o) {
    raise_fd_limit(65536);
    net::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), o.port));
    std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            for (;;) {
                auto [ec, s] =
                    co_await acceptor.async_accept(net::make_strand(io.get_executor()), as_tuple);
                if (ec) {
                    // Out of descriptors, say: wait a little rather than spin.
                    net::steady_timer t(io, std::chrono::milliseconds(10));
                    co_await t.async_wait(as_tuple);
                    continue;
                }
                auto ex = s.get_executor();
                net::co_spawn(ex, echo_plain(std::move(s)), net::detached);
            }
        },
        net::detached);
    run_threads(io, o.threads);
    return 0;
}

// ---- client ----------------------------------------------------------------------------------

/// How connections ended, and the round trips they timed; shared by all threads.
struct tally {
    std::mutex m;
    std::size_t handshakes_ok = 0, handshakes_failed = 0;
    std::size_t completed = 0, cut = 0, failed = 0;
    std::map<std::string, std::size_t> failures; // reason -> count
    std::vector<double> rtt_us;
    std::uint64_t bytes_echoed = 0; // sent and received back intact

    void fail(const std::string& why) {
        std::lock_guard<std::mutex> lock(m);
        ++failed;
        ++failures[why];
    }
};

struct run_state;

/// One connection: its stream, its strand, the timer it waits on until all are open.
struct connection : std::enable_shared_from_this<connection> {
    connection(net::any_io_executor ex, tlsx::context& ctx, std::size_t i)
        : tls(tcp::socket(ex), ctx)
        , go(ex, clock_type::time_point::max())
        , index(i) {}
    tlsx::stream<tcp::socket> tls;
    net::steady_timer go;
    std::size_t index;
};

struct run_state {
    const options& o;
    net::io_context& io;
    tlsx::context& ctx;
    tcp::endpoint server;
    tally t;
    std::atomic<std::size_t> next{0};       // the next connection to start
    std::atomic<std::size_t> handshaken{0}; // handshakes ended (either way)
    std::atomic<std::size_t> finished{0};   // connections ended (any way)
    std::mutex open_m;
    std::vector<std::shared_ptr<connection>> open; // handshaken, waiting for "go"
    clock_type::time_point start, all_up, end;
    std::size_t rss_before = 0, rss_all_up = 0;

    run_state(const options& opt, net::io_context& i, tlsx::context& c)
        : o(opt)
        , io(i)
        , ctx(c)
        , server(net::ip::make_address("127.0.0.1"), opt.port) {}

    void launch_next();
    void handshake_ended(const std::shared_ptr<connection>& c);
    void connection_ended();
    net::awaitable<void> run(std::shared_ptr<connection> c);
};

void run_state::launch_next() {
    const std::size_t i = next.fetch_add(1);
    if (i >= o.connections)
        return;
    auto c = std::make_shared<connection>(net::make_strand(io.get_executor()), ctx, i);
    auto ex = c->tls.get_executor();
    net::co_spawn(ex, run(std::move(c)), net::detached);
}

void run_state::handshake_ended(const std::shared_ptr<connection>& c) {
    if (c) {
        std::lock_guard<std::mutex> lock(open_m);
        open.push_back(c);
    }
    launch_next(); // at most parallel_handshakes in flight
    if (handshaken.fetch_add(1) + 1 != o.connections)
        return;
    // The last handshake: every connection is open at once. Measure, then let them all go.
    all_up = clock_type::now();
    if (!o.server_pids.empty())
        rss_all_up = rss_kib(o.server_pids);
    std::lock_guard<std::mutex> lock(open_m);
    for (auto& w : open)
        net::post(w->tls.get_executor(), [w] { w->go.cancel(); });
    open.clear();
}

void run_state::connection_ended() {
    if (finished.fetch_add(1) + 1 == o.connections) {
        end = clock_type::now();
        io.stop();
    }
}

std::string reason(const char* step, const error_code& ec) {
    return std::string(step) + ": " + ec.message();
}

net::awaitable<void> run_state::run(std::shared_ptr<connection> c) {
    // Handshake.
    auto [cec] = co_await c->tls.next_layer().async_connect(server, as_tuple);
    error_code hec = cec;
    if (!hec) {
        c->tls.set_server_name("localhost");
        std::tie(hec) = co_await c->tls.async_handshake(tlsx::stream_base::client, as_tuple);
    }
    {
        std::lock_guard<std::mutex> lock(t.m);
        ++(hec ? t.handshakes_failed : t.handshakes_ok);
    }
    if (hec) {
        t.fail(reason(cec ? "connect" : "handshake", hec));
        handshake_ended(nullptr);
        connection_ended();
        co_return;
    }
    handshake_ended(c);
    co_await c->go.async_wait(as_tuple); // cancelled once all are open

    // Data: messages of a pattern of this connection's own, each echoed back before the next.
    const bool cut = o.cut_every != 0 && c->index % o.cut_every == o.cut_every - 1;
    const std::size_t count = cut ? o.messages / 2 : o.messages;
    std::string out(o.message_size, '\0'), in(o.message_size, '\0');
    std::uint32_t x = 2463534242u ^ static_cast<std::uint32_t>(c->index * 2654435761u);
    std::vector<double> rtts;
    rtts.reserve(count);
    std::uint64_t echoed = 0;
    for (std::size_t m = 0; m < count; ++m) {
        for (char& ch : out) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ch = static_cast<char>(x);
        }
        const auto sent_at = clock_type::now();
        auto [wec, wn] = co_await net::async_write(c->tls, net::buffer(out), as_tuple);
        if (wec) {
            t.fail(reason("write", wec));
            connection_ended();
            co_return;
        }
        auto [rec, rn] = co_await net::async_read(c->tls, net::buffer(in), as_tuple);
        if (rec) {
            t.fail(reason("read", rec));
            connection_ended();
            co_return;
        }
        if (in != out) {
            t.fail("an echo differed from what was sent (data corrupted or reordered)");
            connection_ended();
            co_return;
        }
        echoed += 2 * o.message_size;
        rtts.push_back(
            std::chrono::duration<double, std::micro>(clock_type::now() - sent_at).count());
    }
    if (cut) {
        // Go away mid-transfer without close_notify, as a client that crashes or loses its
        // network does: the server must clean up after it.
        error_code ignored;
        c->tls.next_layer().close(ignored);
    } else {
        auto [sec] = co_await c->tls.async_shutdown(tlsx::shutdown_type::both, as_tuple);
        if (sec) {
            t.fail(reason("shutdown", sec));
            connection_ended();
            co_return;
        }
    }
    {
        std::lock_guard<std::mutex> lock(t.m);
        ++(cut ? t.cut : t.completed);
        t.bytes_echoed += echoed;
        t.rtt_us.insert(t.rtt_us.end(), rtts.begin(), rtts.end());
    }
    connection_ended();
}

int client(const options& o) {
    raise_fd_limit(o.connections + 64);
    tlsx::context ctx(tlsx::context::tls_client);
    ctx.load_verify_file(o.cafile);
    net::io_context io;
    run_state s(o, io, ctx);
    if (!o.server_pids.empty())
        s.rss_before = rss_kib(o.server_pids);

    bool timed_out = false;
    net::steady_timer limit(io, std::chrono::seconds(o.time_limit));
    limit.async_wait([&](error_code ec) {
        if (!ec) {
            timed_out = true;
            io.stop();
        }
    });
    s.start = clock_type::now();
    for (std::size_t i = 0; i < std::min(o.parallel_handshakes, o.connections); ++i)
        net::post(io, [&s] { s.launch_next(); });
    run_threads(io, o.threads);
    if (timed_out)
        s.end = clock_type::now();

    tally& t = s.t;
    const std::size_t unfinished = o.connections - s.finished.load();
    const double handshake_s =
        std::chrono::duration<double>((s.handshaken == o.connections ? s.all_up : s.end) - s.start)
            .count();
    const double data_s = s.handshaken == o.connections
                              ? std::chrono::duration<double>(s.end - s.all_up).count()
                              : 0.0;
    std::sort(t.rtt_us.begin(), t.rtt_us.end());
    auto pct = [&](double p) {
        return t.rtt_us.empty() ? 0.0
                                : t.rtt_us[std::min(t.rtt_us.size() - 1,
                                                    static_cast<std::size_t>(p * t.rtt_us.size()))];
    };
    std::ostringstream r;
    r << std::fixed << std::setprecision(1);
    r << "load " << o.label << ": " << o.connections << " connections (" << t.handshakes_ok
      << " open at once), " << t.handshakes_ok << " handshakes in " << handshake_s
      << " s = " << (handshake_s > 0 ? static_cast<double>(t.handshakes_ok) / handshake_s : 0.0)
      << "/s; data " << static_cast<double>(t.bytes_echoed) / 1e6 << " MB echoed in " << data_s
      << " s = " << (data_s > 0 ? static_cast<double>(t.bytes_echoed) / 1e6 / data_s : 0.0)
      << " MB/s; round trip (" << o.message_size << " B) p50 " << pct(0.50) / 1000 << " ms, p99 "
      << pct(0.99) / 1000 << " ms; ended: " << t.completed << " completed, " << t.cut
      << " cut as planned, " << t.failed << " failed, " << unfinished << " unfinished";
    if (!o.server_pids.empty() && s.rss_all_up > s.rss_before)
        r << "; server memory " << std::setprecision(1)
          << static_cast<double>(s.rss_all_up - s.rss_before) / static_cast<double>(o.connections)
          << " KiB per connection (VmRSS " << s.rss_before / 1024 << " -> " << s.rss_all_up / 1024
          << " MiB)";
    std::cout << r.str() << std::endl;
    for (const auto& [why, n] : t.failures)
        std::cout << "  failed " << n << "x: " << why << std::endl;
    if (timed_out)
        std::cout << "  stopped by --time-limit " << o.time_limit << " s" << std::endl;
    const std::size_t cut_expected =
        o.cut_every ? (o.connections / o.cut_every) : 0; // indexes K-1, 2K-1, ...
    const bool ok = t.failed == 0 && unfinished == 0 && t.cut == cut_expected &&
                    t.completed == o.connections - cut_expected;
    return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    try {
        return o.mode == "client" ? client(o) : plain_echo(o);
    } catch (const std::exception& e) {
        std::cerr << "tlsx_load: " << e.what() << std::endl;
        return 1;
    }
}
