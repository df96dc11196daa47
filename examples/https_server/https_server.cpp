//
// tlsx example: an asynchronous HTTPS server with Boost.Beast and C++20 coroutines.
//
//   https_server [--address A] [--port N] [--root DIR] [--cert FILE --key FILE]
//                [--write-cert FILE] [--timeout SECONDS]
//
// Serves files from --root, or without it a built-in page that shows the connection's TLS
// parameters. HTTP/1.1 with keep-alive; ALPN selects "http/1.1" (or "http/1.0"). Without
// --cert/--key it makes a self-signed certificate for "localhost" (written to --write-cert for
// clients to trust):
//
//   https_server --port 8443 --write-cert cert.pem &
//   curl --http1.1 --cacert cert.pem https://localhost:8443/
//
// --port 0 picks a free port; the server prints "listening on ADDRESS:PORT" either way.
// SIGINT or SIGTERM stops it. With --cert/--key, SIGHUP reloads both files (certificate
// rotation without a restart): new connections get the new certificate, open ones go on, and
// if the files are bad the server logs why and keeps serving the old one:
//
//   kill -HUP $(pidof https_server)     # logs "reloaded certificate from cert.pem"
//
// Each connection runs under tlsx's deadlines (--timeout, default 30 s, set once on the
// context): the TLS handshake, each read (an idle client) and the TLS close. A write, which
// tlsx does not time, runs under a beast::tcp_stream deadline of the same length.
//
#include <tlsx/beast.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

struct options {
    std::string address = "127.0.0.1";
    unsigned short port = 8443;
    std::string root;
    std::string cert_file;
    std::string key_file;
    std::string write_cert;
    std::chrono::seconds timeout{30};
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "https_server: " << why << "\n"
              << "usage: https_server [--address A] [--port N] [--root DIR] "
                 "[--cert FILE --key FILE] [--write-cert FILE] [--timeout SECONDS]\n";
    std::exit(2);
}

unsigned long number(const std::string& v, unsigned long max, const char* what) {
    char* end = nullptr;
    unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n > max)
        usage(what);
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
        if (arg == "--address")
            o.address = value();
        else if (arg == "--port")
            o.port = static_cast<unsigned short>(
                number(value(), 65535, "--port wants a number from 0 to 65535"));
        else if (arg == "--root")
            o.root = value();
        else if (arg == "--cert")
            o.cert_file = value();
        else if (arg == "--key")
            o.key_file = value();
        else if (arg == "--write-cert")
            o.write_cert = value();
        else if (arg == "--timeout")
            o.timeout = std::chrono::seconds(number(value(), 86400, "--timeout wants seconds"));
        else if (arg == "--help" || arg == "-h")
            usage("an HTTPS server");
        else
            usage("unknown option");
    }
    if (o.cert_file.empty() != o.key_file.empty())
        usage("--cert and --key go together");
    if (!o.cert_file.empty() && !o.write_cert.empty())
        usage("--write-cert is for the generated certificate; leave it out with --cert");
    return o;
}

// The server's context: real credentials from files, or a fresh self-signed certificate for
// "localhost", written out for clients to trust (curl --cacert FILE).
void set_up_context(tlsx::context& ctx, const options& o) {
    // mbedTLS rejects a client whose ALPN list has none of ours (RFC 7301's fatal
    // no_application_protocol), so HTTP/1.0 is listed too: `curl --http1.0` offers only that.
    ctx.set_alpn_protocols({"http/1.1", "http/1.0"});
    // Every stream made from this context takes these limits: a client that stalls in the
    // handshake (slowloris), sits idle between requests, or never answers our close_notify
    // has its connection closed, and the operation completes with asio::error::timed_out.
    ctx.set_handshake_timeout(o.timeout);
    ctx.set_read_idle_timeout(o.timeout);
    ctx.set_shutdown_timeout(o.timeout);
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

//----------------------------------------------------------------------------------------------
// Requests to responses

std::string_view mime_type(std::string_view path) {
    const auto dot = path.rfind('.');
    const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot);
    struct entry {
        std::string_view ext, type;
    };
    static constexpr entry types[] = {
        {".html", "text/html"},     {".htm", "text/html"},
        {".css", "text/css"},       {".txt", "text/plain"},
        {".js", "text/javascript"}, {".json", "application/json"},
        {".png", "image/png"},      {".jpg", "image/jpeg"},
        {".svg", "image/svg+xml"},  {".ico", "image/vnd.microsoft.icon"}};
    for (const entry& e : types)
        if (beast::iequals(ext, e.ext))
            return e.type;
    return "application/octet-stream";
}

// What the built-in page shows about the connection.
struct connection_info {
    int id;
    std::string_view suite, version, alpn;
};

template <class Body>
void finish(http::response<Body>& res, const http::request<http::string_body>& req) {
    res.set(http::field::server, "tlsx-https-server (" BOOST_BEAST_VERSION_STRING ")");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
}

http::message_generator text_response(const http::request<http::string_body>& req,
                                      http::status status, std::string_view content_type,
                                      std::string body) {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::content_type, content_type);
    res.body() = std::move(body);
    finish(res, req);
    if (req.method() == http::verb::head)
        res.body().clear(); // Content-Length stays that of the GET
    return res;
}

http::message_generator built_in_page(const http::request<http::string_body>& req,
                                      const connection_info& c) {
    if (req.target() != "/" && req.target() != "/index.html")
        return text_response(req, http::status::not_found, "text/plain",
                             "not found: " + std::string(req.target()) + "\n");
    std::string page = "<!doctype html>\n<html><head><title>tlsx</title></head><body>\n"
                       "<h1>Hello from tlsx over Beast</h1>\n<ul>\n";
    page += "<li>connection " + std::to_string(c.id) + "</li>\n";
    page += "<li>cipher suite: " + std::string(c.suite) + "</li>\n";
    page += "<li>protocol: " + std::string(c.version) + "</li>\n";
    page += "<li>ALPN: " + std::string(c.alpn.empty() ? "(none)" : c.alpn) + "</li>\n";
    page += "</ul>\n</body></html>\n";
    return text_response(req, http::status::ok, "text/html", std::move(page));
}

http::message_generator file_response(const http::request<http::string_body>& req,
                                      const std::string& root) {
    const std::string_view target = req.target();
    if (target.empty() || target[0] != '/' || target.find("..") != std::string_view::npos)
        return text_response(req, http::status::bad_request, "text/plain", "bad target\n");
    std::string path = root;
    if (!path.empty() && path.back() == '/')
        path.pop_back();
    path.append(target.data(), target.size());
    if (target.back() == '/')
        path += "index.html";

    beast::error_code ec;
    http::file_body::value_type body;
    body.open(path.c_str(), beast::file_mode::scan, ec);
    if (ec == beast::errc::no_such_file_or_directory)
        return text_response(req, http::status::not_found, "text/plain",
                             "not found: " + std::string(target) + "\n");
    if (ec)
        return text_response(req, http::status::internal_server_error, "text/plain",
                             ec.message() + "\n");
    const auto size = body.size();
    if (req.method() == http::verb::head) {
        http::response<http::empty_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, mime_type(path));
        finish(res, req);
        res.content_length(size);
        return res;
    }
    http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                        std::make_tuple(http::status::ok, req.version())};
    res.set(http::field::content_type, mime_type(path));
    finish(res, req);
    return res;
}

http::message_generator handle(const http::request<http::string_body>& req, const options& o,
                               const connection_info& c) {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
        return text_response(req, http::status::bad_request, "text/plain", "only GET and HEAD\n");
    return o.root.empty() ? built_in_page(req, c) : file_response(req, o.root);
}

//----------------------------------------------------------------------------------------------
// Connections

using tls_stream = tlsx::stream<beast::tcp_stream>;

// One connection: TLS handshake, requests until the client is done, TLS close. The handshake,
// each read and the close run under the context's tlsx deadlines; each write under a
// tcp_stream deadline: a stalled client cannot hold the connection forever.
net::awaitable<void> session(tls_stream s, const options& o, int id) {
    auto& tcp = beast::get_lowest_layer(s);
    co_await s.async_handshake(tlsx::stream_base::server, use_awaitable);
    const connection_info info{id, s.cipher_suite(), s.protocol_version(), s.alpn_protocol()};
    std::cout << "[" << id << "] handshake: " << info.suite << ", " << info.version << ", ALPN "
              << (info.alpn.empty() ? "(none)" : info.alpn) << std::endl;

    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(s, buffer, req, net::as_tuple(use_awaitable));
        (void)n;
        if (ec == http::error::end_of_stream)
            break; // the client's close_notify between requests: close ours below
        if (ec == tlsx::error::stream_truncated) {
            // The TCP connection ended without close_notify. HTTP frames its own messages, so
            // nothing was lost between complete requests; see tlsx::error::stream_truncated.
            std::cout << "[" << id << "] client left without close_notify" << std::endl;
            co_return;
        }
        if (ec == net::error::timed_out) {
            std::cout << "[" << id << "] idle for " << o.timeout.count() << " s: closed"
                      << std::endl;
            co_return; // tlsx closed the transport
        }
        if (ec)
            throw boost::system::system_error(ec, "read");

        http::message_generator res = handle(req, o, info);
        const bool keep_alive = res.keep_alive();
        std::cout << "[" << id << "] " << req.method_string() << " " << req.target()
                  << (keep_alive ? "" : " (last)") << std::endl;
        tcp.expires_after(o.timeout);
        co_await beast::async_write(s, std::move(res), use_awaitable);
        tcp.expires_never();
        if (!keep_alive)
            break; // "Connection: close" or HTTP/1.0
    }

    // close_notify both ways, under the shutdown deadline.
    auto [ec] = co_await s.async_shutdown(net::as_tuple(use_awaitable));
    if (ec && ec != net::error::eof && ec != net::error::connection_reset &&
        ec != net::error::broken_pipe)
        throw boost::system::system_error(ec, "shutdown");
    // A client that closes TCP right after its close_notify may reset ours: still a clean end.
    std::cout << "[" << id << "] closed" << std::endl;
}

net::awaitable<void> listen(tcp::acceptor& acceptor, tlsx::context& ctx, const options& o) {
    for (int id = 1;; ++id) {
        auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(use_awaitable));
        if (ec == net::error::operation_aborted)
            co_return; // stopping
        if (ec) {
            std::cout << "accept: " << ec.message() << std::endl;
            continue;
        }
        net::co_spawn(acceptor.get_executor(), session(tls_stream(std::move(socket), ctx), o, id),
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
        set_up_context(ctx, o);

        net::io_context io;
        tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address(o.address), o.port));
        std::cout << "listening on " << o.address << ":" << acceptor.local_endpoint().port()
                  << (o.root.empty() ? " (built-in page)" : " serving " + o.root) << std::endl;

        net::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](beast::error_code ec, int) {
            if (ec)
                return;
            std::cout << "stopping" << std::endl;
            io.stop();
        });
        // SIGHUP: reload --cert/--key. tlsx::context::reload_* checks the new pair first and
        // swaps it in whole, so a bad file changes nothing; handshakes already started and
        // open connections keep the certificate they began with.
        net::signal_set hangup(io, SIGHUP);
        std::function<void()> await_hangup = [&] {
            hangup.async_wait([&](beast::error_code ec, int) {
                if (ec)
                    return;
                if (o.cert_file.empty()) {
                    std::cout << "SIGHUP: no --cert/--key to reload" << std::endl;
                } else {
                    try { // the throwing overload's message names the file that failed
                        ctx.reload_certificate_chain_and_key_file(o.cert_file, o.key_file);
                        std::cout << "reloaded certificate from " << o.cert_file << std::endl;
                    } catch (const boost::system::system_error& e) {
                        std::cout << "reload failed, still serving the old certificate: "
                                  << e.what() << std::endl;
                    }
                }
                await_hangup();
            });
        };
        await_hangup();

        net::co_spawn(io, listen(acceptor, ctx, o), net::detached);
        io.run();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "https_server: " << e.what() << std::endl;
        return 1;
    }
}
