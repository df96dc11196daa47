//
// tlsx example: an asynchronous TLS proxy, both ways, with C++20 coroutines.
//
//   tls_proxy --mode terminate --backend HOST:PORT [--port N]
//             [--cert FILE --key FILE | --write-cert FILE] [--timeout SECONDS]
//   tls_proxy --mode originate --backend HOST:PORT [--port N]
//             [--cafile FILE] [--servername NAME] [--timeout SECONDS]
//   both:     [--threads N] [--quiet] [--reuse-port] [--write-key FILE]
//
// terminate: TLS in, plain TCP out (a TLS front for a plain server). Without --cert/--key it
//            makes a self-signed certificate for "localhost", written to --write-cert.
// originate: plain TCP in, TLS out (lets a plain client reach a TLS server). It verifies the
//            backend against --cafile (else the system store) and the name --servername (else
//            the backend's HOST), which it also sends as SNI.
//
// Listens on 127.0.0.1 (--port, default 0: a free port); prints "listening on 127.0.0.1:PORT".
//
// Each connection relays both directions at once (full duplex): one coroutine per direction,
// each with one read and one write at a time, so a slow receiver slows its sender down and
// memory stays at one 16 KiB buffer per direction (backpressure). Half-close is carried across:
// a close_notify from the TLS side becomes a TCP FIN (shutdown(send)) on the plain side, and a
// FIN from the plain side becomes a close_notify (async_shutdown(shutdown_type::send)) on the
// TLS side, while the other direction goes on. A TLS side that ends without close_notify
// (stream_truncated) or any error resets both connections instead. A connection with no traffic
// for --timeout seconds (default 60), handshake included, is closed. --threads N runs the
// io_context on N threads, each connection on a strand of its own; --quiet leaves out the
// per-connection lines (bench/load.sh runs thousands of connections through it).
//
// --reuse-port sets SO_REUSEPORT on the listening socket, so that several tls_proxy processes
// can listen on the same --port and the kernel spreads new connections over them: each process
// carries its share within its own descriptor limit (bench/load.sh's 10,000 connections need
// 20,000 descriptors in one process). Every process must pass it, the first with --port 0 (or
// a port) and the others with the port the first printed. They must present the same
// certificate: the first --write-cert FILE --write-key KEYFILE, the others --cert FILE --key
// KEYFILE (the key is written with mode 0600; a test certificate, not one to keep).
//
#include <tlsx/tlsx.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;
using tlsx::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

enum class mode { terminate, originate };

struct options {
    mode m = mode::terminate;
    bool mode_given = false;
    std::string backend_host, backend_port;
    unsigned short port = 0;
    std::string cert_file, key_file, write_cert;
    std::string cafile, servername;
    std::chrono::seconds timeout{60};
    unsigned threads = 1;
    bool quiet = false;
    bool reuse_port = false;
    std::string write_key;
};

bool quiet = false;
std::mutex log_mutex;

[[noreturn]] void usage(const char* why) {
    std::cerr << "tls_proxy: " << why << "\n"
              << "usage: tls_proxy --mode terminate --backend HOST:PORT [--port N]\n"
                 "                 [--cert FILE --key FILE | --write-cert FILE] "
                 "[--timeout SECONDS]\n"
                 "       tls_proxy --mode originate --backend HOST:PORT [--port N]\n"
                 "                 [--cafile FILE] [--servername NAME] [--timeout SECONDS]\n"
                 "       (both: [--threads N] [--quiet] [--reuse-port] [--write-key FILE])\n";
    std::exit(2);
}

unsigned long number(const std::string& v, unsigned long min, unsigned long max, const char* why) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < min || n > max)
        usage(why);
    return n;
}

options parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage("missing value after an option");
            return argv[++i];
        };
        if (arg == "--mode") {
            const std::string v = value();
            if (v != "terminate" && v != "originate")
                usage("--mode is terminate or originate");
            o.m = v == "terminate" ? mode::terminate : mode::originate;
            o.mode_given = true;
        } else if (arg == "--backend") {
            const std::string v = value();
            const auto colon = v.rfind(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == v.size())
                usage("--backend wants HOST:PORT");
            o.backend_host = v.substr(0, colon);
            o.backend_port = v.substr(colon + 1);
        } else if (arg == "--port") {
            o.port = static_cast<unsigned short>(number(value(), 0, 65535, "--port: 0 to 65535"));
        } else if (arg == "--cert") {
            o.cert_file = value();
        } else if (arg == "--key") {
            o.key_file = value();
        } else if (arg == "--write-cert") {
            o.write_cert = value();
        } else if (arg == "--cafile") {
            o.cafile = value();
        } else if (arg == "--servername") {
            o.servername = value();
        } else if (arg == "--timeout") {
            o.timeout = std::chrono::seconds(number(value(), 1, 86400, "--timeout: seconds"));
        } else if (arg == "--threads") {
            o.threads = static_cast<unsigned>(number(value(), 1, 64, "--threads: 1 to 64"));
        } else if (arg == "--quiet") {
            o.quiet = true;
        } else if (arg == "--reuse-port") {
            o.reuse_port = true;
        } else if (arg == "--write-key") {
            o.write_key = value();
        } else {
            usage(arg == "--help" || arg == "-h" ? "a TLS proxy" : "unknown option");
        }
    }
    if (!o.mode_given || o.backend_host.empty())
        usage("--mode and --backend are required");
    if (o.cert_file.empty() != o.key_file.empty())
        usage("--cert and --key go together");
    if (!o.write_key.empty() && (o.write_cert.empty() || !o.cert_file.empty()))
        usage("--write-key goes with --write-cert (a self-signed certificate)");
    if (o.servername.empty())
        o.servername = o.backend_host;
    return o;
}

tlsx::context make_context(const options& o) {
    if (o.m == mode::originate) {
        tlsx::context ctx{tlsx::context::tls_client}; // verifies the backend by default
        if (o.cafile.empty())
            ctx.set_default_verify_paths();
        else
            ctx.load_verify_file(o.cafile);
        return ctx;
    }
    tlsx::context ctx{tlsx::context::tls_server};
    if (!o.cert_file.empty()) {
        ctx.use_certificate_chain_file(o.cert_file);
        ctx.use_private_key_file(o.key_file, tlsx::context::pem);
        return ctx;
    }
    tlsx::self_signed_credentials creds = tlsx::generate_self_signed("localhost");
    if (!o.write_cert.empty()) {
        std::ofstream out(o.write_cert, std::ios::binary | std::ios::trunc);
        out << creds.certificate_pem;
        out.close();
        if (!out)
            throw std::runtime_error("cannot write the certificate to " + o.write_cert);
        std::cout << "wrote self-signed certificate for localhost to " << o.write_cert << std::endl;
    }
    if (!o.write_key.empty()) { // for other processes sharing the port (--reuse-port)
        const int fd = ::open(o.write_key.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const std::string& pem = creds.private_key_pem;
        const bool ok =
            fd >= 0 && ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
        if (fd >= 0)
            ::close(fd);
        if (!ok)
            throw std::runtime_error("cannot write the private key to " + o.write_key);
    }
    ctx.use_certificate_chain(net::buffer(creds.certificate_pem));
    ctx.use_private_key(net::buffer(creds.private_key_pem), tlsx::context::pem);
    return ctx;
}

//----------------------------------------------------------------------------------------------

// One proxied connection: a TLS side and a plain side, two relay coroutines and a watchdog.
//
// Why a watchdog timer and not beast::tcp_stream's deadlines: tcp_stream::expires_after must
// not be called while both a read and a write are pending on the stream (Beast asserts), and
// that is the normal state of a full-duplex relay.
struct connection : std::enable_shared_from_this<connection> {
    connection(tcp::socket plain_socket, tcp::socket tls_socket, tlsx::context& ctx,
               std::chrono::seconds timeout, int id)
        : plain(std::move(plain_socket))
        , tls(std::move(tls_socket), ctx)
        , watchdog(plain.get_executor())
        , timeout(timeout)
        , id(id) {}

    tcp::socket plain;
    tlsx::stream<tcp::socket> tls;
    net::steady_timer watchdog;
    std::chrono::seconds timeout;
    clock_type::time_point last_activity = clock_type::now();
    int id;
    int directions_open = 2;
    bool aborted = false;
    std::size_t to_plain = 0, to_tls = 0; // bytes relayed each way

    void touch() { last_activity = clock_type::now(); }

    // One whole line, also when several threads log at once.
    void log(std::string_view what) const {
        if (quiet)
            return;
        std::lock_guard<std::mutex> lock(log_mutex);
        std::cout << "[" << id << "] " << what << std::endl;
    }

    // An error or a timeout: reset both sides at once, so neither peer mistakes it for a clean
    // end. The plain side gets an RST (linger 0), not a FIN; the TLS side gets no close_notify,
    // so its peer sees a truncated stream, which is what happened.
    void abort(std::string_view why) {
        if (aborted)
            return;
        aborted = true;
        log("reset: " + std::string(why));
        error_code ignored;
        if (plain.is_open()) {
            plain.set_option(tcp::socket::linger(true, 0), ignored);
            plain.close(ignored);
        }
        tls.next_layer().close(ignored);
        watchdog.cancel();
    }

    // One direction is done (its half-close carried across); after both, close the sockets.
    void direction_done() {
        if (--directions_open > 0 || aborted)
            return;
        log("closed: " + std::to_string(to_plain) + " bytes from the TLS side, " +
            std::to_string(to_tls) + " bytes from the plain side");
        error_code ignored;
        plain.close(ignored);
        tls.next_layer().close(ignored);
        watchdog.cancel();
    }
};

// TLS side -> plain side. The peer's close_notify becomes our FIN on the plain side.
net::awaitable<void> tls_to_plain(std::shared_ptr<connection> c) {
    char buf[16384];
    for (;;) {
        auto [ec, n] =
            co_await c->tls.async_read_some(net::buffer(buf), net::as_tuple(use_awaitable));
        if (ec == net::error::eof) {
            // close_notify: the TLS peer has finished sending. Pass the half-close on.
            error_code ignored;
            c->plain.shutdown(tcp::socket::shutdown_send, ignored);
            c->log("TLS side sent close_notify: FIN to the plain side");
            c->direction_done();
            co_return;
        }
        if (ec == tlsx::error::stream_truncated)
            co_return c->abort("TLS side ended without close_notify (stream_truncated)");
        if (ec)
            co_return c->abort("TLS read: " + ec.message());
        c->touch();
        auto [wec, wn] =
            co_await net::async_write(c->plain, net::buffer(buf, n), net::as_tuple(use_awaitable));
        if (wec)
            co_return c->abort("plain write: " + wec.message());
        c->to_plain += wn;
        c->touch();
    }
}

// Plain side -> TLS side. The plain peer's FIN becomes our close_notify on the TLS side; reads
// from the TLS side go on (shutdown_type::send is the half-close).
net::awaitable<void> plain_to_tls(std::shared_ptr<connection> c) {
    char buf[16384];
    for (;;) {
        auto [ec, n] =
            co_await c->plain.async_read_some(net::buffer(buf), net::as_tuple(use_awaitable));
        if (ec == net::error::eof) {
            auto [sec] = co_await c->tls.async_shutdown(tlsx::shutdown_type::send,
                                                        net::as_tuple(use_awaitable));
            if (sec)
                co_return c->abort("TLS shutdown: " + sec.message());
            c->log("plain side sent FIN: close_notify to the TLS side");
            c->direction_done();
            co_return;
        }
        if (ec)
            co_return c->abort("plain read: " + ec.message());
        c->touch();
        auto [wec, wn] =
            co_await net::async_write(c->tls, net::buffer(buf, n), net::as_tuple(use_awaitable));
        if (wec)
            co_return c->abort("TLS write: " + wec.message());
        c->to_tls += wn;
        c->touch();
    }
}

// Closes the connection after `timeout` without traffic in either direction.
net::awaitable<void> watch(std::shared_ptr<connection> c) {
    for (;;) {
        c->watchdog.expires_at(c->last_activity + c->timeout);
        auto [ec] = co_await c->watchdog.async_wait(net::as_tuple(use_awaitable));
        if (ec || c->aborted || c->directions_open == 0)
            co_return; // cancelled: the connection ended
        if (clock_type::now() >= c->last_activity + c->timeout)
            co_return c->abort("idle timeout");
    }
}

// Set up one connection (handshake, backend connection) and relay until both directions end.
net::awaitable<void> serve(tcp::socket accepted, tlsx::context& ctx, const options& o,
                           tcp::resolver::results_type backend, int id) {
    auto ex = accepted.get_executor();
    const bool terminate = o.m == mode::terminate;
    // terminate: the accepted socket is the TLS side; originate: it is the plain side.
    auto c = std::make_shared<connection>(terminate ? tcp::socket(ex) : std::move(accepted),
                                          terminate ? std::move(accepted) : tcp::socket(ex), ctx,
                                          o.timeout, id);
    net::co_spawn(ex, watch(c), net::detached); // covers the handshake and connect too

    try {
        if (terminate) {
            co_await c->tls.async_handshake(tlsx::stream_base::server, use_awaitable);
            c->touch();
            co_await net::async_connect(c->plain, backend, use_awaitable);
        } else {
            c->tls.set_server_name(o.servername); // SNI, and the name to verify
            co_await net::async_connect(c->tls.next_layer(), backend, use_awaitable);
            c->touch();
            co_await c->tls.async_handshake(tlsx::stream_base::client, use_awaitable);
        }
    } catch (const boost::system::system_error& e) {
        c->abort(std::string("setup: ") + e.what());
        co_return;
    }
    c->touch();
    c->log(std::string("relaying: ") + std::string(c->tls.protocol_version()) + ", " +
           std::string(c->tls.cipher_suite()));

    // Full duplex: both directions at once, on one stream (one read and one write pending).
    net::co_spawn(ex, tls_to_plain(c), net::detached);
    net::co_spawn(ex, plain_to_tls(c), net::detached);
}

net::awaitable<void> listen(tcp::acceptor& acceptor, tlsx::context& ctx, const options& o,
                            tcp::resolver::results_type backend) {
    for (int id = 1;; ++id) {
        // Each connection on a strand of its own: its two directions and its watchdog never run
        // at the same time on two threads (--threads).
        auto [ec, socket] = co_await acceptor.async_accept(
            net::make_strand(acceptor.get_executor()), net::as_tuple(use_awaitable));
        if (ec == net::error::operation_aborted)
            co_return;
        if (ec) {
            std::cout << "accept: " << ec.message() << std::endl;
            continue;
        }
        auto ex = socket.get_executor();
        net::co_spawn(ex, serve(std::move(socket), ctx, o, backend, id), net::detached);
    }
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    quiet = o.quiet;
    try {
        tlsx::context ctx = make_context(o);
        net::io_context io;
        tcp::resolver resolver(io);
        const auto backend = resolver.resolve(o.backend_host, o.backend_port);
        const tcp::endpoint at(net::ip::make_address("127.0.0.1"), o.port);
        tcp::acceptor acceptor(io, at.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        if (o.reuse_port) {
            const int one = 1;
            if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one,
                             sizeof one) != 0)
                throw std::runtime_error("--reuse-port: SO_REUSEPORT cannot be set here");
        }
        acceptor.bind(at);
        acceptor.listen();
        std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << " ("
                  << (o.m == mode::terminate ? "TLS in, plain out" : "plain in, TLS out") << ") to "
                  << o.backend_host << ":" << o.backend_port << std::endl;

        net::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](error_code, int) { io.stop(); });
        net::co_spawn(io, listen(acceptor, ctx, o, backend), net::detached);
        std::vector<std::thread> more;
        for (unsigned i = 1; i < o.threads; ++i)
            more.emplace_back([&io] { io.run(); });
        io.run();
        for (auto& t : more)
            t.join();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "tls_proxy: " << e.what() << std::endl;
        return 1;
    }
}
