//
// Shared by the interop suites that drive real peers through the session lifecycle over TCP
// loopback (interop_lifecycle: TLS 1.2 scenarios; interop_tls13: TLS 1.3 ones): bounded waits
// on the peers' output, a reader that keeps one read outstanding, a tlsx server on a free port,
// the peers' command lines, and a private loopback for gnutls-serv.
//
#ifndef TLSX_TEST_SUPPORT_LIFECYCLE_HPP
#define TLSX_TEST_SUPPORT_LIFECYCLE_HPP

// GCC 12 warns -Wmismatched-new-delete at the end of some coroutines here and in the suites that
// include this, depending on what it inlines: Asio's coroutine frame operator new inlines down
// to aligned_alloc and its operator delete to free, which GCC cannot pair up. A false positive
// on Asio's own pair (asio/detail/memory.hpp); the examples switch it off the same way
// (examples/echo/CMakeLists.txt). Before any coroutine of this header is seen.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <tlsx/context.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>

#include "../backend.hpp"
#include "certs.hpp"
#include "interop.hpp"
#include "peer_process.hpp"
#include "run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <memory>
#include <net/if.h>
#include <optional>
#include <sched.h>
#include <string>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

// Checks of a co_await's result. The result goes to a local first, which keeps the suspension out
// of BOOST_TEST's expression template and its temporaries: GCC 12 mishandles some temporaries of
// a co_await's full-expression (see eventually() below).
#define CO_CHECK(expr)                                                                             \
    do {                                                                                           \
        const bool co_check_ok = co_await(expr);                                                   \
        BOOST_TEST(co_check_ok, #expr);                                                            \
    } while (false)
#define CO_REQUIRE(expr)                                                                           \
    do {                                                                                           \
        const bool co_check_ok = co_await(expr);                                                   \
        BOOST_TEST_REQUIRE(co_check_ok, #expr);                                                    \
    } while (false)
#define CO_CHECK_OK(expr)                                                                          \
    do {                                                                                           \
        const error_code co_check_ec = co_await(expr);                                             \
        BOOST_TEST(!co_check_ec, #expr << ": " << co_check_ec.message());                          \
    } while (false)

namespace tlsx_test {
namespace lifecycle {

namespace net = boost::asio;
namespace certs = tlsx_test::certs;
using net::ip::tcp;
using tlsx::error_code;
using namespace std::chrono_literals;

using tlsx_test::credential_files;
using tlsx_test::have;

using tcp_stream = tlsx::stream<tcp::socket>;
inline constexpr auto awaitable = net::as_tuple(net::use_awaitable);
inline constexpr auto step_limit = 10s; // one step: a handshake, a reply, a peer's message
inline constexpr auto io_limit = 40s;   // one whole case

inline bool run_coroutine(net::io_context& io, std::function<net::awaitable<void>()> body) {
    return tlsx_test::run_coroutine(io, std::move(body), io_limit);
}

// ---- Small helpers ------------------------------------------------------------------------

using tlsx_test::contains;

inline std::size_t count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string_view::npos;
         at = text.find(what, at + what.size()))
        ++n;
    return n;
}

/** The lines of a peer's output that start with `prefix`, in order, after removing the peer's own
    messages that may have landed in the middle of them: s_server and s_client write what they
    read with write(2) in chunks, and their status messages go through other buffers, so a
    message can split one of our lines. */
inline std::string lines_starting_with(std::string out, std::string_view prefix) {
    for (std::string_view noise :
         {"depth=0 CN = localhost\n", "depth=1 CN = tlsx test CA\n", "verify return:1\n",
          "SSL_do_handshake -> 1\n", "Read BLOCK\n", "Write BLOCK\n", "read R BLOCK\n",
          "write R BLOCK\n", "read W BLOCK\n", "write W BLOCK\n"}) {
        for (std::size_t at = out.find(noise); at != std::string::npos; at = out.find(noise, at))
            out.erase(at, noise.size());
    }
    std::string lines;
    for (std::size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
        if (out.compare(at, prefix.size(), prefix) == 0)
            lines.append(out, at, end + 1 - at);
    }
    return lines;
}

/// Whether `ec` reports the fatal alert `alert` received from the peer ("tlsx.alert" category).
inline bool is_alert(const error_code& ec, int alert) {
    return ec.category() == tlsx::alert_category() && ec.value() == alert;
}
inline constexpr int handshake_failure = 40; // RFC 5246 AlertDescription
inline constexpr int internal_error = 80;

/// The test credentials as files, for the peers' command lines.

/** Prints a peer's output (stdout and stderr) to stderr if a check failed while this lived: the
    peers' own account of the session is what explains a failure. Declare it after the peer.
    With TLSX_SHOW_PEER_OUTPUT=1 in the environment it always prints. */
class output_on_failure {
public:
    output_on_failure(std::string name, std::function<std::string()> output)
        : name_(std::move(name))
        , output_(std::move(output))
        , failed_before_(failed()) {}
    ~output_on_failure() {
        if (failed() > failed_before_ || std::getenv("TLSX_SHOW_PEER_OUTPUT"))
            std::cerr << "---- " << name_ << " output ----\n"
                      << output_() << "\n---- end of " << name_ << " output ----" << std::endl;
    }
    output_on_failure(const output_on_failure&) = delete;
    output_on_failure& operator=(const output_on_failure&) = delete;

private:
    static std::size_t failed() {
        namespace ut = boost::unit_test;
        return ut::results_collector.results(ut::framework::current_test_case().p_id)
            .p_assertions_failed;
    }

    std::string name_;
    std::function<std::string()> output_;
    std::size_t failed_before_;
};

/// Waits, without blocking the io_context, until `ready()` holds (true) or `timeout` passes
/// (false). Polls every 10 ms: the peers' output is a file, and tlsx state changes inside
/// operations that run on this same io_context.
///
/// GCC 12 mishandles coroutine arguments that need destruction: a std::function parameter made
/// from a lambda that captured a std::string was destroyed twice here ("munmap_chunk(): invalid
/// pointer"). So the helpers below take only trivially destructible arguments (string_views of
/// literals or of named strings, lambdas capturing by reference), and callers build anything else
/// as a named local first.
template <class Ready>
net::awaitable<bool> eventually(Ready ready, std::chrono::milliseconds timeout = step_limit) {
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready()) {
        if (std::chrono::steady_clock::now() >= deadline)
            co_return false;
        timer.expires_after(10ms);
        co_await timer.async_wait(awaitable);
    }
    co_return true;
}

/// Waits until the peer has printed `text` (at least `times` times).
inline net::awaitable<bool> shows(const peer_process& peer, std::string_view text,
                                  std::size_t times = 1,
                                  std::chrono::milliseconds timeout = step_limit) {
    auto ready = [&peer, text, times] { return count(peer.output(), text) >= times; };
    const bool ok = co_await eventually(ready, timeout);
    co_return ok;
}

/// Waits until the peer process has exited.
inline net::awaitable<bool> exits(peer_process& peer,
                                  std::chrono::milliseconds timeout = step_limit) {
    auto ready = [&peer] { return !peer.running(); };
    const bool ok = co_await eventually(ready, timeout);
    co_return ok;
}

/** Keeps one read outstanding on a stream, as long-lived streams should (a peer's request to
    renegotiate, or its close_notify, is noticed by a pending read), and collects what arrives.

    Under the `ask` policy a read completes with renegotiation_requested: if `answer_as` is set,
    the reader accepts with async_handshake(*answer_as) (gnutls_handshake after
    GNUTLS_E_REHANDSHAKE); otherwise it reads on, which refuses.
*/
struct reader {
    explicit reader(tcp_stream& stream,
                    std::optional<tlsx::stream_base::handshake_type> answer = std::nullopt)
        : s(stream)
        , answer_as(answer) {}

    tcp_stream& s;
    std::optional<tlsx::stream_base::handshake_type> answer_as;
    std::string data;
    error_code ec = net::error::would_block; // how reading ended
    bool done = false;
    int requests = 0;                               // renegotiation_requested seen
    error_code answer_ec = net::error::would_block; // the async_handshake that accepted

    void start() { net::co_spawn(s.get_executor(), run(), net::detached); }

    bool got(std::string_view text) const { return contains(data, text); }

    net::awaitable<void> run() {
        char buf[4096];
        for (;;) {
            auto [rec, n] = co_await s.async_read_some(net::buffer(buf), awaitable);
            data.append(buf, n);
            if (rec == tlsx::error::renegotiation_requested) {
                ++requests;
                if (answer_as)
                    std::tie(answer_ec) = co_await s.async_handshake(*answer_as, awaitable);
                continue;
            }
            if (rec) {
                ec = rec;
                done = true;
                co_return;
            }
        }
    }
};

/// Writes all of `text`, which must outlive the operation (a literal, or a named local).
inline net::awaitable<error_code> write_all(tcp_stream& s, std::string_view text) {
    auto [ec, n] = co_await net::async_write(s, net::buffer(text), awaitable);
    co_return ec;
}

using tlsx_test::pem;

/// A tlsx client context that trusts the test CA and counts its handshakes (each handshake,
/// renegotiations and resumptions included, emits one key-log line).
struct client_context {
    tlsx::context ctx{tlsx::context::tls_client};
    int handshakes = 0;

    /// `tls12`: capped at TLS 1.2 (the 1.2 lifecycle scenarios, on both backends); otherwise
    /// the default versions (1.2-1.3 where the backend has 1.3).
    explicit client_context(bool tls12 = true) {
        if (tls12)
            backend::tls12_only(ctx);
        ctx.add_certificate_authority(pem(certs::ca_cert));
        ctx.set_keylog_callback([this](std::string_view) { ++handshakes; });
    }
};

/// A tlsx server on 127.0.0.1 at a port the kernel chose (its "free port"), with the test
/// certificate; counts its handshakes like client_context.
struct tlsx_server {
    /// `tls12` as for client_context.
    explicit tlsx_server(net::io_context& io, bool tls12 = true)
        : acceptor(io, {net::ip::make_address("127.0.0.1"), 0}) {
        if (tls12)
            backend::tls12_only(ctx);
        ctx.use_certificate_chain(pem(certs::server_cert));
        ctx.use_private_key(pem(certs::server_key), tlsx::context::pem);
        ctx.set_keylog_callback([this](std::string_view) { ++handshakes; });
    }

    tcp::acceptor acceptor;
    tlsx::context ctx{tlsx::context::tls_server};
    int handshakes = 0;

    unsigned short port() const { return acceptor.local_endpoint().port(); }
    std::string address() const { return "127.0.0.1:" + std::to_string(port()); }

    /// Accepts one connection and runs the server handshake; null (and a failed check) if
    /// either fails or takes longer than step_limit.
    net::awaitable<std::unique_ptr<tcp_stream>> accept() {
        net::steady_timer timer(acceptor.get_executor());
        timer.expires_after(step_limit);
        auto accepted = std::make_shared<bool>(false);
        timer.async_wait([this, accepted](error_code ec) {
            if (!ec && !*accepted)
                acceptor.cancel(); // no client came: fail rather than wait for io_limit
        });
        auto [aec, socket] = co_await acceptor.async_accept(awaitable);
        *accepted = true;
        timer.cancel();
        BOOST_TEST(!aec, "accept: " << aec.message());
        if (aec)
            co_return nullptr;
        auto s = std::make_unique<tcp_stream>(std::move(socket), ctx);
        auto [hec] = co_await s->async_handshake(tlsx::stream_base::server, awaitable);
        BOOST_TEST(!hec, "server handshake: " << hec.message());
        if (hec)
            co_return nullptr;
        co_return s;
    }
};

/// Connects `s` to 127.0.0.1:port and runs the client handshake for "localhost".
inline net::awaitable<error_code> connect_and_handshake(tcp_stream& s, unsigned short port) {
    auto [cec] = co_await s.next_layer().async_connect({net::ip::make_address("127.0.0.1"), port},
                                                       awaitable);
    if (cec)
        co_return cec;
    s.set_server_name("localhost");
    auto [hec] = co_await s.async_handshake(tlsx::stream_base::client, awaitable);
    co_return hec;
}

/// Starts `openssl s_server` on 127.0.0.1:port with the test certificate and `extra` options,
/// and waits until it listens. Its stdin stays open (EOF there would end it) for `r` and data.
inline std::unique_ptr<peer_process>
start_s_server(const credential_files& files, unsigned short port, std::vector<std::string> extra) {
    std::vector<std::string> argv{
        "openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
        "-cert",   files.cert, "-key",    files.key};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<peer_process>(argv);
    BOOST_TEST_REQUIRE(tlsx_test::wait_for_port(port), "s_server is not listening:\n"
                                                           << p->output());
    return p;
}

/// The arguments that make `openssl s_client` connect to a tlsx_server and verify it.
inline std::vector<std::string> s_client_args(const tlsx_server& server,
                                              const credential_files& files,
                                              std::vector<std::string> extra) {
    std::vector<std::string> argv{"openssl",          "s_client",    "-connect",
                                  server.address(),   "-servername", "localhost",
                                  "-CAfile",          files.ca,      "-verify_return_error",
                                  "-verify_hostname", "localhost"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

/// The arguments that make `gnutls-cli` connect to a tlsx_server and verify it.
inline std::vector<std::string> gnutls_cli_args(const tlsx_server& server,
                                                const credential_files& files,
                                                std::vector<std::string> extra) {
    std::vector<std::string> argv{"gnutls-cli", "--x509cafile", files.ca, "-p",
                                  std::to_string(server.port())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("localhost");
    return argv;
}

/// Serves a connection whose client came only to handshake (to get or to resume a session):
/// reads until the client ends it and answers a close_notify with ours. Returns how reading
/// ended.
inline net::awaitable<error_code> drain_and_close(tcp_stream& s) {
    reader r{s};
    co_await r.run();
    if (r.ec == net::error::eof)
        co_await s.async_shutdown(awaitable); // may fail if the client is gone: not checked
    // Close TCP too: s_client waits up to 500 ms for it after its close_notify.
    error_code ignored;
    s.next_layer().close(ignored);
    co_return r.ec;
}

/** `gnutls-cli --resume` (connect, then reconnect with the session) toward `server`, with
    `extra` options: both ends must report the second connection resumed, the first not. */
inline void check_gnutls_cli_resumes(net::io_context& io, tlsx_server& server,
                                     const credential_files& files,
                                     std::vector<std::string> extra) {
    extra.push_back("--resume");
    peer_process client(gnutls_cli_args(server, files, extra));
    output_on_failure dump("gnutls-cli", [&] { return client.output(); });
    client.close_stdin();
    std::vector<bool> reused;
    const bool finished = run_coroutine(io, [&]() -> net::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            auto s = co_await server.accept();
            BOOST_TEST_REQUIRE(s);
            reused.push_back(s->session_reused());
            co_await drain_and_close(*s);
        }
        CO_CHECK(exits(client));
    });
    const std::string out = client.output();
    BOOST_TEST(finished);
    BOOST_TEST(contains(out, "This is a resumed session"));
    BOOST_TEST(!contains(out, "NOT resumed"));
    BOOST_TEST_REQUIRE(reused.size() == 2u);
    BOOST_TEST(!reused[0]);
    BOOST_TEST(reused[1]);
}

/** A private network namespace with its own loopback, for a peer that cannot be told to listen
    on 127.0.0.1 only: gnutls-serv listens on all addresses (it has no option for an address).
    Processes started and
    sockets opened through run() belong to it; the test reaches the peer through sockets made
    there, which it then uses from any thread.

    Making one (unshare(CLONE_NEWNET) on a helper thread, as `unshare -n` does) needs
    CAP_SYS_ADMIN. Without it everything runs in the test's own namespace: the peer then listens
    on all addresses of this host at a free port for the second or two of the case, and only the
    test's loopback connections reach it.
*/
class private_loopback {
public:
    private_loopback() {
        std::thread([this] {
            if (::unshare(CLONE_NEWNET) != 0)
                return;
            int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                return;
            ifreq ifr{};
            std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
            bool up = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
            ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
            up = up && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
            ::close(fd);
            if (up)
                ns_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        }).join();
        if (ns_ < 0)
            BOOST_TEST_MESSAGE("no private network namespace (needs CAP_SYS_ADMIN): the peer "
                               "listens on all addresses for this case");
    }
    ~private_loopback() {
        if (ns_ >= 0)
            ::close(ns_);
    }
    private_loopback(const private_loopback&) = delete;
    private_loopback& operator=(const private_loopback&) = delete;

    bool isolated() const noexcept { return ns_ >= 0; }

    /// Runs `f` inside the namespace (on a helper thread that joins it).
    void run(const std::function<void()>& f) const {
        if (ns_ < 0)
            return f();
        std::exception_ptr e;
        std::thread([&] {
            try {
                if (::setns(ns_, CLONE_NEWNET) != 0)
                    throw std::runtime_error("setns failed");
                f();
            } catch (...) {
                e = std::current_exception();
            }
        }).join();
        if (e)
            std::rethrow_exception(e);
    }

    /// A TCP socket of the namespace, ready for async_connect to 127.0.0.1.
    tcp::socket socket(net::io_context& io) const {
        int fd = -1;
        run([&] { fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
        if (fd < 0)
            throw std::runtime_error("socket failed");
        return tcp::socket(io, tcp::v4(), fd);
    }

private:
    int ns_ = -1;
};

/// `gnutls-serv --echo` in a private_loopback, with the test certificate, not asking for a
/// client certificate (-a); started and listening.
struct gnutls_echo_server {
    gnutls_echo_server(const credential_files& files, std::vector<std::string> extra) {
        lo.run([&] {
            port = tlsx_test::free_port();
            std::vector<std::string> argv{"gnutls-serv",    "--echo",   "-a",
                                          "--x509certfile", files.cert, "--x509keyfile",
                                          files.key,        "-p",       std::to_string(port)};
            argv.insert(argv.end(), extra.begin(), extra.end());
            peer = std::make_unique<peer_process>(argv);
            listening = tlsx_test::wait_for_port(port);
        });
        BOOST_TEST_REQUIRE(listening, "gnutls-serv is not listening:\n" << peer->output());
    }

    /// Connects a tlsx client stream, in the namespace, and runs its handshake.
    net::awaitable<error_code> connect(tcp_stream& s) {
        auto [cec] = co_await s.next_layer().async_connect(
            {net::ip::make_address("127.0.0.1"), port}, awaitable);
        if (cec)
            co_return cec;
        s.set_server_name("localhost");
        auto [hec] = co_await s.async_handshake(tlsx::stream_base::client, awaitable);
        co_return hec;
    }

    private_loopback lo;
    unsigned short port = 0;
    std::unique_ptr<peer_process> peer;
    bool listening = false;
};

} // namespace lifecycle
} // namespace tlsx_test

#endif
