//
// tlsx example: a WebSocket client over TLS (wss://) that checks an echo server's answers.
//
//   websocket_echo_client [--host H] --port N [--cafile FILE] [--binary-size BYTES]
//                         [MESSAGE...]
//
// Connects to H (default localhost), verifies the server's certificate against --cafile (or the
// system store) and the name H, upgrades to WebSocket, sends each MESSAGE as text (default:
// "hello"), plus one binary message of --binary-size bytes if given, checks every echo, then
// closes: close frames, close_notify both ways, TCP. Exit status 0 when every echo matched and
// the close was clean.
//
#include <tlsx/beast.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

struct options {
    std::string host = "localhost";
    std::string port;
    std::string cafile;
    std::size_t binary_size = 0;
    std::vector<std::string> messages;
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "websocket_echo_client: " << why << "\n"
              << "usage: websocket_echo_client [--host H] --port N [--cafile FILE] "
                 "[--binary-size BYTES] [MESSAGE...]\n";
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
        else if (arg == "--binary-size")
            o.binary_size = std::strtoul(value().c_str(), nullptr, 10);
        else if (arg == "--help" || arg == "-h")
            usage("a wss:// echo client");
        else if (!arg.empty() && arg[0] == '-')
            usage("unknown option");
        else
            o.messages.emplace_back(arg);
    }
    if (o.port.empty())
        usage("--port is required");
    if (o.messages.empty() && o.binary_size == 0)
        o.messages.emplace_back("hello");
    return o;
}

net::awaitable<bool> talk(tlsx::context& ctx, const options& o) {
    auto ex = co_await net::this_coro::executor;
    websocket::stream<tlsx::stream<beast::tcp_stream>> ws(ex, ctx);
    ws.next_layer().set_server_name(o.host); // SNI, and the name the certificate must carry

    tcp::resolver resolver(ex);
    auto endpoints = co_await resolver.async_resolve(o.host, o.port, use_awaitable);
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    co_await beast::get_lowest_layer(ws).async_connect(endpoints, use_awaitable);
    co_await ws.next_layer().async_handshake(tlsx::stream_base::client, use_awaitable);
    beast::get_lowest_layer(ws).expires_never(); // the WebSocket stream times itself from here
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    co_await ws.async_handshake(o.host, "/", use_awaitable);
    std::cout << "connected: " << ws.next_layer().protocol_version() << ", "
              << ws.next_layer().cipher_suite() << std::endl;

    bool all_ok = true;
    auto exchange = [&](const std::string& payload, bool text) -> net::awaitable<void> {
        ws.text(text);
        co_await ws.async_write(net::buffer(payload), use_awaitable);
        beast::flat_buffer buffer;
        co_await ws.async_read(buffer, use_awaitable);
        const bool same =
            ws.got_text() == text && beast::buffers_to_string(buffer.data()) == payload;
        all_ok = all_ok && same;
        if (text)
            std::cout << "echo: '" << beast::make_printable(buffer.data()) << "'"
                      << (same ? "" : " MISMATCH") << std::endl;
        else
            std::cout << "echo: " << buffer.size() << " binary bytes"
                      << (same ? " intact" : " MISMATCH") << std::endl;
    };
    for (const std::string& m : o.messages)
        co_await exchange(m, true);
    if (o.binary_size != 0) {
        std::string data(o.binary_size, '\0');
        for (std::size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<char>((i * 7919u) >> 3);
        co_await exchange(data, false);
    }

    // The closing handshake: our close frame, the server's, then <tlsx/beast.hpp>'s teardown
    // (close_notify both ways, then TCP).
    co_await ws.async_close(websocket::close_code::normal, use_awaitable);
    const auto& tls = ws.next_layer().get_engine();
    const bool clean = tls.close_sent() && tls.peer_closed();
    std::cout << "closed: close frames, then close_notify "
              << (clean ? "both ways" : "NOT both ways") << std::endl;
    co_return all_ok&& clean;
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    try {
        tlsx::context ctx{tlsx::context::tls_client};
        if (o.cafile.empty())
            ctx.set_default_verify_paths();
        else
            ctx.load_verify_file(o.cafile);
        net::io_context io;
        bool ok = false;
        std::exception_ptr failure;
        net::co_spawn(io, talk(ctx, o), [&](std::exception_ptr e, bool result) {
            failure = e;
            ok = result;
        });
        io.run();
        if (failure)
            std::rethrow_exception(failure);
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "websocket_echo_client: " << e.what() << std::endl;
        return 1;
    }
}
