//
// Test of the tls_proxy example, against backends that run inside this driver:
//   - an HTTP backend (Beast, plain): GET /hello, GET /big (20 MiB), POST /sum (checksums a body);
//   - a "sink" backend: reads until EOF, then answers with what it got and closes.
//
// Proxies: T = terminate (TLS in, plain out) in front of the HTTP backend; O = originate (plain
// in, TLS out) in front of T; T2 and O2 the same in front of the sink.
//
//   curl https://localhost:T/hello          TLS to T, plain to the backend
//   curl http://127.0.0.1:O/hello           plain to O, TLS from O to T, plain to the backend
//   curl https://.../big, 20 MiB            checked by checksum at the end
//   curl --data-binary 20 MiB via O and T   the backend's checksum matches ours
//   half-close via O2 and T2                our FIN -> close_notify -> FIN at the sink; its
//                                           answer comes back after our FIN, then its FIN
//   idle timeout                            a silent connection is closed after --timeout
//
//   test_tls_proxy PATH_TO_tls_proxy
//
#include "../https_server/example_test.hpp"
#include "support/run.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using example_test::run;
using net::use_awaitable;

namespace {

constexpr std::size_t big_size = 20u << 20;

std::string summary(const std::string& data) {
    return "bytes=" + std::to_string(data.size()) +
           " fnv=" + std::to_string(tlsx_test::checksum(data.data(), data.size()));
}

//----------------------------------------------------------------------------------------------
// The backends

net::awaitable<void> http_session(tcp::socket s, const std::string& big) {
    beast::flat_buffer buf;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(64u << 20);
        beast::error_code ec;
        co_await http::async_read(s, buf, parser, net::redirect_error(use_awaitable, ec));
        if (ec)
            co_return; // end_of_stream or the proxy went away
        const auto& req = parser.get();
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.keep_alive(req.keep_alive());
        if (req.target() == "/hello")
            res.body() = "hello from the plain backend\n";
        else if (req.target() == "/big")
            res.body() = big;
        else if (req.target() == "/sum")
            res.body() = summary(req.body()) + "\n";
        else
            res.result(http::status::not_found);
        res.prepare_payload();
        co_await http::async_write(s, res, net::redirect_error(use_awaitable, ec));
        if (ec || !res.keep_alive())
            co_return;
    }
}

// Reads until EOF, answers "bytes=N fnv=X", then half-closes and waits for the peer's close.
net::awaitable<void> sink_session(tcp::socket s) {
    std::string got;
    beast::error_code ec;
    co_await net::async_read(s, net::dynamic_buffer(got), net::redirect_error(use_awaitable, ec));
    if (ec != net::error::eof)
        co_return;
    const std::string answer = "sink got " + summary(got) + "\n";
    co_await net::async_write(s, net::buffer(answer), net::redirect_error(use_awaitable, ec));
    s.shutdown(tcp::socket::shutdown_send, ec);
    char rest[64];
    co_await s.async_read_some(net::buffer(rest), net::redirect_error(use_awaitable, ec));
}

template <class Session>
net::awaitable<void> accept_loop(tcp::acceptor& a, Session session) {
    for (;;) {
        auto s = co_await a.async_accept(use_awaitable);
        net::co_spawn(a.get_executor(), session(std::move(s)), net::detached);
    }
}

//----------------------------------------------------------------------------------------------
// A raw TCP client (POSIX, with receive timeouts, so nothing here blocks forever)

int connect_loopback(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Read until EOF (true), an error or the receive timeout (false).
bool read_to_eof(int fd, std::string& out) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0)
            return true;
        if (n < 0)
            return false;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: test_tls_proxy PATH_TO_tls_proxy\n";
        return 2;
    }
    const std::string proxy = argv[1];
    example_test::checks check("test_tls_proxy");
    if (tlsx_test::find_program("curl").empty()) {
        std::cout << "curl not found: skipped" << std::endl;
        return 0;
    }
    tlsx_test::temp_dir dir;

    // The backends, on their own thread.
    const std::string big = tlsx_test::pattern(big_size, 5);
    net::io_context io;
    tcp::acceptor http_acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    tcp::acceptor sink_acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    net::co_spawn(io,
                  accept_loop(http_acceptor,
                              [&big](tcp::socket s) { return http_session(std::move(s), big); }),
                  net::detached);
    net::co_spawn(
        io, accept_loop(sink_acceptor, [](tcp::socket s) { return sink_session(std::move(s)); }),
        net::detached);
    auto work = net::make_work_guard(io);
    std::thread backend_thread([&io] { io.run(); });
    struct stop_backends {
        net::io_context& io;
        std::thread& t;
        ~stop_backends() {
            io.stop();
            t.join();
        }
    } stopper{io, backend_thread};
    const std::string http_backend =
        "127.0.0.1:" + std::to_string(http_acceptor.local_endpoint().port());
    const std::string sink_backend =
        "127.0.0.1:" + std::to_string(sink_acceptor.local_endpoint().port());

    // The proxies.
    const std::string cert = (dir.path() / "t.pem").string();
    const std::string cert2 = (dir.path() / "t2.pem").string();
    example_test::server t({proxy, "--mode", "terminate", "--backend", http_backend, "--write-cert",
                            cert, "--timeout", "2"});
    if (!check(t.port != 0, "terminate proxy T listens", t.output()))
        return check.summary();
    example_test::server o({proxy, "--mode", "originate", "--backend",
                            "localhost:" + t.port_string(), "--cafile", cert});
    if (!check(o.port != 0, "originate proxy O listens", o.output()))
        return check.summary();
    example_test::server t2(
        {proxy, "--mode", "terminate", "--backend", sink_backend, "--write-cert", cert2});
    example_test::server o2({proxy, "--mode", "originate", "--backend",
                             "127.0.0.1:" + t2.port_string(), "--servername", "localhost",
                             "--cafile", cert2});
    if (!check(t2.port != 0 && o2.port != 0, "proxies T2 and O2 listen", t2.output() + o2.output()))
        return check.summary();

    auto curl = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {"curl", "--silent", "--show-error", "--max-time", "60"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, std::chrono::seconds(90));
    };
    const std::string https_t = "https://localhost:" + t.port_string();
    const std::string resolve_t = "localhost:" + t.port_string() + ":127.0.0.1";
    const std::string http_o = "http://127.0.0.1:" + o.port_string();

    // 1. curl through the TLS-terminating proxy, and through both.
    auto r = curl({"--cacert", cert, "--resolve", resolve_t, https_t + "/hello"});
    check(r.ok() && r.has("hello from the plain backend"),
          "curl https -> T (terminate) -> plain backend", r.output);
    r = curl({http_o + "/hello"});
    check(r.ok() && r.has("hello from the plain backend"),
          "curl http -> O (originate, verifies T) -> T -> plain backend", r.output);

    // 2. 20 MiB down, through T, checked by checksum.
    const std::string down = (dir.path() / "down").string();
    r = curl({"--cacert", cert, "--resolve", resolve_t, "--output", down, https_t + "/big"});
    const std::string got = read_file(down);
    check(r.ok() && got.size() == big.size() &&
              tlsx_test::checksum(got.data(), got.size()) ==
                  tlsx_test::checksum(big.data(), big.size()),
          "20 MiB download through T arrives intact (size and checksum)", r.output);

    // 3. 20 MiB up, through O and T: the backend's checksum is ours.
    const std::string up = (dir.path() / "up").string();
    const std::string up_data = tlsx_test::pattern(big_size, 9);
    std::ofstream(up, std::ios::binary) << up_data;
    r = curl({"--data-binary", "@" + up, "-H", "Expect:", "-H",
              "Content-Type: application/octet-stream", http_o + "/sum"});
    check(r.ok() && r.has(summary(up_data)),
          "20 MiB upload through O and T: the backend's checksum matches", r.output);

    // 4. Half-close carried across both proxies: FIN -> close_notify -> FIN, and back.
    {
        const std::string data = tlsx_test::pattern(1u << 20, 3);
        const int fd = connect_loopback(o2.port);
        bool sent = fd >= 0;
        for (std::size_t off = 0; sent && off < data.size();) {
            const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            sent = n > 0;
            off += sent ? static_cast<std::size_t>(n) : 0;
        }
        sent = sent && ::shutdown(fd, SHUT_WR) == 0; // our FIN: nothing more from us
        std::string answer;
        const bool eof = sent && read_to_eof(fd, answer);
        if (fd >= 0)
            ::close(fd);
        check(sent && eof && answer == "sink got " + summary(data) + "\n",
              "half-close: after our FIN the sink still answers through both proxies, then EOF",
              "answer: '" + answer + "'\n" + o2.output() + t2.output());
        check(o2.process->wait_for_output("plain side sent FIN: close_notify to the TLS side") &&
                  t2.process->wait_for_output("TLS side sent close_notify: FIN to the plain side"),
              "our FIN became close_notify at O2 and a FIN again at T2", o2.output() + t2.output());
        check(t2.process->wait_for_output("plain side sent FIN: close_notify to the TLS side") &&
                  o2.process->wait_for_output("TLS side sent close_notify: FIN to the plain side"),
              "the sink's FIN came back the same way", o2.output() + t2.output());
    }

    // 5. Idle timeout: T (--timeout 2) drops a connection that never starts its handshake.
    {
        const auto start = std::chrono::steady_clock::now();
        const int fd = connect_loopback(t.port);
        std::string ignored;
        const bool closed = fd >= 0 && read_to_eof(fd, ignored);
        if (fd >= 0)
            ::close(fd);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        check(closed && elapsed >= std::chrono::milliseconds(1500) &&
                  elapsed < std::chrono::seconds(15),
              "an idle connection is closed after --timeout", t.output());
        check(t.process->wait_for_output("idle timeout"), "T logs the idle timeout", t.output());
    }

    check(t.output().find("reset: TLS") == std::string::npos &&
              o.output().find("reset: TLS") == std::string::npos,
          "no relay failed on the TLS side", t.output() + o.output());
    return check.summary();
}
