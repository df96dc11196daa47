//
// tlsx example: an echo server and client in one process, over loopback TCP.
//
//   echo_demo [--message TEXT]
//
// The server listens on 127.0.0.1 at a free port with a freshly generated self-signed
// certificate for "localhost"; the client trusts exactly that certificate
// (context::add_certificate_authority), checks the name, sends a message, reads the echo and
// closes. Both sides close with close_notify. Prints what happens; exits 0 on success, 1 on
// failure (or if nothing finishes within 10 seconds).
//
#include <tlsx/context.hpp>
#include <tlsx/error.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

// The server: accept one connection, echo until the client closes, close.
net::awaitable<void> serve(tcp::acceptor& acceptor, tlsx::context& ctx) {
    tlsx::stream<tcp::socket> s(co_await acceptor.async_accept(use_awaitable), ctx);
    co_await s.async_handshake(tlsx::stream_base::server, use_awaitable);
    std::cout << "server: handshake done" << std::endl;

    char buf[4096];
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(net::buffer(buf), net::as_tuple(use_awaitable));
        if (ec == net::error::eof)
            break; // the client's close_notify
        if (ec == tlsx::error::stream_truncated) {
            // The client vanished without close_notify: treat it as the end of the echo. See
            // the documentation of tlsx::error::stream_truncated in <tlsx/error.hpp>.
            std::cout << "server: client went away without close_notify" << std::endl;
            co_return;
        }
        if (ec)
            throw boost::system::system_error(ec, "server read");
        co_await net::async_write(s, net::buffer(buf, n), use_awaitable);
        std::cout << "server: echoed " << n << " bytes" << std::endl;
    }
    std::cout << "server: client sent close_notify, answering with ours" << std::endl;
    co_await s.async_shutdown(use_awaitable);
}

// The client: connect, verify, send, read the echo, close. Returns whether it all went right.
net::awaitable<bool> talk(tcp::endpoint server, tlsx::context& ctx, std::string message) {
    tlsx::stream<tcp::socket> s(co_await net::this_coro::executor, ctx);
    s.set_server_name("localhost"); // SNI, and the name the certificate must carry
    co_await s.next_layer().async_connect(server, use_awaitable);
    co_await s.async_handshake(tlsx::stream_base::client, use_awaitable);
    std::cout << "client: connected, suite " << s.cipher_suite() << ", version "
              << s.protocol_version() << std::endl;

    co_await net::async_write(s, net::buffer(message), use_awaitable);
    std::cout << "client: sent '" << message << "'" << std::endl;

    std::string echo(message.size(), '\0');
    co_await net::async_read(s, net::buffer(echo), use_awaitable);
    std::cout << "client: received echo '" << echo << "'" << std::endl;
    if (echo != message) {
        std::cout << "client: the echo differs from what was sent" << std::endl;
        co_return false;
    }

    // shutdown_type::both: send our close_notify, complete when the server's arrives.
    co_await s.async_shutdown(use_awaitable);
    const tlsx::engine& e = s.get_engine();
    if (!e.close_sent() || !e.peer_closed()) {
        std::cout << "client: closed, but close_notify did not go both ways" << std::endl;
        co_return false;
    }
    std::cout << "client: closed (close_notify both ways)" << std::endl;
    co_return true;
}

void print_failure(const char* who, std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
        std::cout << who << ": failed: " << ex.what() << " [" << ex.code().category().name() << ":"
                  << ex.code().value() << "]" << std::endl;
    } catch (const std::exception& ex) {
        std::cout << who << ": failed: " << ex.what() << std::endl;
    }
}

} // namespace

int main(int argc, char** argv) {
    std::string message = "hello";
    if (argc == 3 && std::string_view(argv[1]) == "--message") {
        message = argv[2];
    } else if (argc != 1) {
        std::cerr << "usage: echo_demo [--message TEXT]" << std::endl;
        return 2;
    }

    try {
        // The server's credentials, made on the spot; the client trusts exactly this certificate.
        tlsx::self_signed_credentials creds = tlsx::generate_self_signed("localhost");

        tlsx::context server_ctx{tlsx::context::tls_server};
        server_ctx.use_certificate_chain(net::buffer(creds.certificate_pem));
        server_ctx.use_private_key(net::buffer(creds.private_key_pem), tlsx::context::pem);

        tlsx::context client_ctx{tlsx::context::tls_client}; // verifies the server by default
        client_ctx.add_certificate_authority(net::buffer(creds.certificate_pem));

        net::io_context io;
        tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        std::cout << "server: listening on 127.0.0.1:" << acceptor.local_endpoint().port()
                  << std::endl;

        // A watchdog, so that a hang shows up as a failure instead of a stuck process.
        bool timed_out = false;
        net::steady_timer watchdog(io, std::chrono::seconds(10));
        watchdog.async_wait([&](boost::system::error_code ec) {
            if (ec)
                return;
            timed_out = true;
            std::cout << "demo: timed out after 10 seconds" << std::endl;
            io.stop();
        });

        int pending = 2;
        bool server_ok = false;
        bool client_ok = false;
        auto finished = [&] {
            if (--pending == 0)
                watchdog.cancel();
        };

        net::co_spawn(io, serve(acceptor, server_ctx), [&](std::exception_ptr e) {
            if (e)
                print_failure("server", e);
            server_ok = !e;
            finished();
        });
        net::co_spawn(io, talk(acceptor.local_endpoint(), client_ctx, message),
                      [&](std::exception_ptr e, bool ok) {
                          if (e)
                              print_failure("client", e);
                          client_ok = !e && ok;
                          finished();
                      });
        io.run();

        const bool ok = !timed_out && server_ok && client_ok;
        std::cout << (ok ? "demo: OK" : "demo: FAILED") << std::endl;
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout << "demo: failed: " << e.what() << std::endl;
        return 1;
    }
}
