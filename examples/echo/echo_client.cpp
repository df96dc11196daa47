//
// tlsx example: a TLS echo client with C++20 coroutines.
//
//   echo_client [--host H] --port N --cafile FILE [--message TEXT]
//
// Connects to H (default localhost), trusts only the certificate authorities in FILE, checks
// that the server's certificate names H, sends TEXT (default "hello"), reads the echo, and
// closes the TLS session. Exits 1 if anything fails or the echo differs from what was sent.
//
#include <tlsx/context.hpp>
#include <tlsx/error.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

struct options {
    std::string host = "localhost";
    std::string port;
    std::string cafile;
    std::string message = "hello";
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "echo_client: " << why << "\n"
              << "usage: echo_client [--host H] --port N --cafile FILE [--message TEXT]\n";
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
        if (arg == "--host")
            o.host = value();
        else if (arg == "--port")
            o.port = value();
        else if (arg == "--cafile")
            o.cafile = value();
        else if (arg == "--message")
            o.message = value();
        else if (arg == "--help" || arg == "-h")
            usage("an echo client over TLS");
        else
            usage("unknown option");
    }
    if (o.port.empty() || o.cafile.empty())
        usage("--port and --cafile are required");
    return o;
}

// Returns true when the echo matched.
net::awaitable<bool> run(tlsx::context& ctx, const options& o) {
    auto ex = co_await net::this_coro::executor;

    tlsx::stream<tcp::socket> s(ex, ctx);
    // SNI, and the name the server's certificate must carry.
    s.set_server_name(o.host);

    tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve(o.host, o.port, use_awaitable);
    co_await net::async_connect(s.next_layer(), endpoints, use_awaitable);
    co_await s.async_handshake(tlsx::stream_base::client, use_awaitable);
    std::cout << "suite: " << s.cipher_suite() << " version: " << s.protocol_version() << std::endl;

    co_await net::async_write(s, net::buffer(o.message), use_awaitable);
    std::cout << "sent: " << o.message << std::endl;

    // Read exactly as many bytes as were sent. A server that closes early makes this fail with
    // eof (after its close_notify) or tlsx::error::stream_truncated (without one; see the
    // documentation of that error in <tlsx/error.hpp>).
    std::string echo(o.message.size(), '\0');
    co_await net::async_read(s, net::buffer(echo), use_awaitable);
    std::cout << "echo: " << echo << std::endl;

    // Send close_notify and wait for the server's.
    co_await s.async_shutdown(use_awaitable);

    co_return echo == o.message;
}

} // namespace

int main(int argc, char** argv) {
    options o = parse_options(argc, argv);
    try {
        tlsx::context ctx{tlsx::context::tls_client}; // verifies the server by default
        ctx.load_verify_file(o.cafile);

        net::io_context io;
        bool matched = false;
        std::exception_ptr error;
        net::co_spawn(io, run(ctx, o), [&](std::exception_ptr e, bool ok) {
            error = e;
            matched = ok;
        });
        io.run();
        if (error)
            std::rethrow_exception(error);
        if (!matched) {
            std::cerr << "echo_client: the echo differs from the message" << std::endl;
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "echo_client: " << e.what() << std::endl;
        return 1;
    }
}
