//
// tlsx example: an asynchronous TLS echo server with C++20 coroutines.
//
//   echo_server [--port N] [--cert FILE --key FILE] [--write-cert FILE] [--once]
//               [--threads N] [--quiet]
//
// Listens on 127.0.0.1 (port 4433 by default; --port 0 picks a free one, printed). Without
// --cert/--key it makes a self-signed certificate for "localhost" and writes it to --write-cert
// (default ./echo-cert.pem), for the client to trust:
//
//   echo_server --port 4433 &
//   echo_client --port 4433 --cafile echo-cert.pem --message hello
//
// Each connection: handshake, print the negotiated suite and version, echo until the peer
// closes, then close the TLS session (close_notify). With --once the server exits after the
// first connection. --threads N runs the io_context on N threads (each connection on its own
// strand); --quiet leaves out the per-connection lines (bench/load.sh runs thousands).
//
#include <tlsx/context.hpp>
#include <tlsx/error.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <boost/asio/strand.hpp>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

struct options {
    unsigned short port = 4433;
    std::string cert_file;
    std::string key_file;
    std::string write_cert = "echo-cert.pem";
    bool once = false;
    unsigned threads = 1;
    bool quiet = false;
};

bool quiet = false;
std::mutex log_mutex;

// One line about connection `id`, whole even when several threads log at once.
void log(int id, const std::string& line) {
    if (quiet)
        return;
    std::lock_guard<std::mutex> lock(log_mutex);
    std::cout << "[" << id << "] " << line << std::endl;
}

[[noreturn]] void usage(const char* why) {
    std::cerr << "echo_server: " << why << "\n"
              << "usage: echo_server [--port N] [--cert FILE --key FILE] [--write-cert FILE] "
                 "[--once] [--threads N] [--quiet]\n";
    std::exit(2);
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
        if (arg == "--port") {
            std::string v = value();
            char* end = nullptr;
            unsigned long port = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || port > 65535)
                usage("--port wants a number from 0 to 65535");
            o.port = static_cast<unsigned short>(port);
        } else if (arg == "--cert") {
            o.cert_file = value();
        } else if (arg == "--key") {
            o.key_file = value();
        } else if (arg == "--write-cert") {
            o.write_cert = value();
        } else if (arg == "--once") {
            o.once = true;
        } else if (arg == "--threads") {
            std::string v = value();
            char* end = nullptr;
            unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || n < 1 || n > 64)
                usage("--threads wants a number from 1 to 64");
            o.threads = static_cast<unsigned>(n);
        } else if (arg == "--quiet") {
            o.quiet = true;
        } else if (arg == "--help" || arg == "-h") {
            usage("an echo server over TLS");
        } else {
            usage("unknown option");
        }
    }
    if (o.cert_file.empty() != o.key_file.empty())
        usage("--cert and --key go together");
    return o;
}

// The server's credentials: from files, or a fresh self-signed certificate whose PEM is written
// out so that a client can trust it (echo_client --cafile).
void set_up_credentials(tlsx::context& ctx, const options& o) {
    if (!o.cert_file.empty()) {
        ctx.use_certificate_chain_file(o.cert_file);
        ctx.use_private_key_file(o.key_file, tlsx::context::pem);
        return;
    }
    tlsx::self_signed_credentials creds = tlsx::generate_self_signed("localhost");
    std::ofstream out(o.write_cert, std::ios::binary | std::ios::trunc);
    out << creds.certificate_pem;
    out.close();
    if (!out)
        throw std::runtime_error("cannot write the certificate to " + o.write_cert);
    std::cout << "wrote self-signed certificate for localhost to " << o.write_cert << std::endl;
    ctx.use_certificate_chain(net::buffer(creds.certificate_pem));
    ctx.use_private_key(net::buffer(creds.private_key_pem), tlsx::context::pem);
}

// One connection: handshake, echo until the peer closes, close.
net::awaitable<void> session(tlsx::stream<tcp::socket> s, int id) {
    co_await s.async_handshake(tlsx::stream_base::server, use_awaitable);
    log(id, "handshake done: suite " + std::string(s.cipher_suite()) + ", version " +
                std::string(s.protocol_version()));

    char buf[4096];
    std::size_t total = 0;
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(net::buffer(buf), net::as_tuple(use_awaitable));
        if (ec == net::error::eof) {
            // The peer sent close_notify: a clean end. Answer with ours below.
            log(id, "peer closed (close_notify) after " + std::to_string(total) + " bytes");
            break;
        }
        if (ec == tlsx::error::stream_truncated) {
            // The TCP connection ended without a close_notify, so an attacker could have cut
            // the data short. An echo server loses nothing by treating it as the end; a protocol
            // that frames its own messages (HTTP with Content-Length) may do the same. See the
            // documentation of tlsx::error::stream_truncated in <tlsx/error.hpp>.
            log(id, "peer went away without close_notify (stream_truncated)");
            co_return; // nothing to send a close_notify to
        }
        if (ec)
            throw boost::system::system_error(ec, "read");
        total += n;
        co_await net::async_write(s, net::buffer(buf, n), use_awaitable);
    }

    co_await s.async_shutdown(use_awaitable);
    log(id, "closed");
}

// Reports how a session ended, without taking the server down.
auto report(int id) {
    return [id](std::exception_ptr e) {
        if (!e)
            return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log(id, std::string("failed: ") + ex.what());
        }
    };
}

net::awaitable<void> listen(tcp::acceptor& acceptor, tlsx::context& ctx, bool once) {
    for (int id = 1;; ++id) {
        // Each connection on a strand of its own: with --threads, its operations never run at
        // the same time on two threads.
        tcp::socket socket = co_await acceptor.async_accept(
            net::make_strand(acceptor.get_executor()), use_awaitable);
        if (!quiet) {
            boost::system::error_code ec; // a peer gone already is not the server's failure
            std::ostringstream from;
            from << socket.remote_endpoint(ec);
            log(id, "connection from " + from.str());
        }
        tlsx::stream<tcp::socket> s(std::move(socket), ctx);
        if (once) {
            // Serve this one connection to its end, then return: io_context::run() finishes.
            // A failure propagates to main and makes the exit status 1.
            co_await session(std::move(s), id);
            co_return;
        }
        auto ex = s.get_executor();
        net::co_spawn(ex, session(std::move(s), id), report(id));
    }
}

} // namespace

int main(int argc, char** argv) {
    options o = parse_options(argc, argv);
    quiet = o.quiet;
    try {
        tlsx::context ctx{tlsx::context::tls_server};
        set_up_credentials(ctx, o);

        net::io_context io;
        tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), o.port));
        std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;

        bool failed = false;
        net::co_spawn(io, listen(acceptor, ctx, o.once), [&](std::exception_ptr e) {
            if (!e)
                return;
            failed = true;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "echo_server: " << ex.what() << std::endl;
            }
        });
        std::vector<std::thread> more;
        for (unsigned i = 1; i < o.threads; ++i)
            more.emplace_back([&io] { io.run(); });
        io.run();
        for (auto& t : more)
            t.join();
        return failed ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "echo_server: " << e.what() << std::endl;
        return 1;
    }
}
