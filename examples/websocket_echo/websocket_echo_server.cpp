//
// tlsx example: a WebSocket echo server over TLS (wss://) with Boost.Beast and C++20 coroutines.
//
//   websocket_echo_server [--port N] [--cert FILE --key FILE] [--write-cert FILE]
//
// Listens on 127.0.0.1 (port 8444 by default; --port 0 picks a free one; the server prints
// "listening on 127.0.0.1:PORT"). Without --cert/--key it makes a self-signed certificate for
// "localhost", written to --write-cert for clients to trust. Each connection: TLS handshake,
// WebSocket upgrade, echo every message (text stays text, binary stays binary) until the client
// closes. The close is the full handshake: close frames, then close_notify both ways (the
// teardown overloads of <tlsx/beast.hpp>), then TCP. SIGINT or SIGTERM stops the server.
//
#include <tlsx/beast.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

struct options {
    unsigned short port = 8444;
    std::string cert_file, key_file, write_cert;
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "websocket_echo_server: " << why << "\n"
              << "usage: websocket_echo_server [--port N] [--cert FILE --key FILE] "
                 "[--write-cert FILE]\n";
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
            const std::string v = value();
            char* end = nullptr;
            const unsigned long port = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || port > 65535)
                usage("--port wants a number from 0 to 65535");
            o.port = static_cast<unsigned short>(port);
        } else if (arg == "--cert") {
            o.cert_file = value();
        } else if (arg == "--key") {
            o.key_file = value();
        } else if (arg == "--write-cert") {
            o.write_cert = value();
        } else {
            usage(arg == "--help" || arg == "-h" ? "a wss:// echo server" : "unknown option");
        }
    }
    if (o.cert_file.empty() != o.key_file.empty())
        usage("--cert and --key go together");
    return o;
}

void set_up_credentials(tlsx::context& ctx, const options& o) {
    if (!o.cert_file.empty()) {
        ctx.use_certificate_chain_file(o.cert_file);
        ctx.use_private_key_file(o.key_file, tlsx::context::pem);
        return;
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
    ctx.use_certificate_chain(net::buffer(creds.certificate_pem));
    ctx.use_private_key(net::buffer(creds.private_key_pem), tlsx::context::pem);
}

using wss = websocket::stream<tlsx::stream<beast::tcp_stream>>;

net::awaitable<void> session(tcp::socket socket, tlsx::context& ctx, int id) {
    wss ws(std::move(socket), ctx);

    // The TLS handshake under a tcp_stream deadline; from then on the WebSocket stream keeps
    // its own timeouts (Beast's advice: turn the tcp_stream's off, or an idle but healthy
    // connection would be cut).
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    co_await ws.next_layer().async_handshake(tlsx::stream_base::server, use_awaitable);
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    co_await ws.async_accept(use_awaitable);
    std::cout << "[" << id << "] upgraded: " << ws.next_layer().protocol_version() << ", "
              << ws.next_layer().cipher_suite() << std::endl;

    beast::flat_buffer buffer;
    std::size_t messages = 0, bytes = 0;
    for (;;) {
        beast::error_code ec;
        co_await ws.async_read(buffer, net::redirect_error(use_awaitable, ec));
        if (ec == websocket::error::closed) {
            // The client's close frame: Beast answered it and tore the connection down, which
            // <tlsx/beast.hpp> does as close_notify both ways, then TCP.
            const auto& tls = ws.next_layer().get_engine();
            std::cout << "[" << id << "] closed by client (code " << ws.reason().code << ") after "
                      << messages << " messages, " << bytes << " bytes; close_notify "
                      << (tls.close_sent() && tls.peer_closed() ? "both ways" : "NOT both ways")
                      << std::endl;
            co_return;
        }
        if (ec)
            throw boost::system::system_error(ec, "read");
        ++messages;
        bytes += buffer.size();
        ws.text(ws.got_text());
        co_await ws.async_write(buffer.data(), use_awaitable);
        buffer.consume(buffer.size());
    }
}

net::awaitable<void> listen(tcp::acceptor& acceptor, tlsx::context& ctx) {
    for (int id = 1;; ++id) {
        tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
        net::co_spawn(acceptor.get_executor(), session(std::move(socket), ctx, id),
                      [id](std::exception_ptr e) {
                          if (!e)
                              return;
                          try {
                              std::rethrow_exception(e);
                          } catch (const std::exception& ex) {
                              std::cout << "[" << id << "] failed: " << ex.what() << std::endl;
                          }
                      });
    }
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    try {
        tlsx::context ctx{tlsx::context::tls_server};
        set_up_credentials(ctx, o);
        net::io_context io;
        tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), o.port));
        std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
        net::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](beast::error_code, int) { io.stop(); });
        net::co_spawn(io, listen(acceptor, ctx), net::detached);
        io.run();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "websocket_echo_server: " << e.what() << std::endl;
        return 1;
    }
}
