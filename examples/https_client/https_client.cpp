//
// tlsx example: an HTTPS GET with Boost.Beast, verifying the server.
//
//   https_client [--cafile FILE] [--resolve ADDRESS] [--timeout SECONDS] [--head] URL
//
// URL is https://HOST[:PORT][/TARGET]. The client sends HOST as SNI and checks that the
// server's certificate chains to a trusted CA and names HOST: the CAs of --cafile, or else the
// system store (/etc/ssl/certs). --resolve connects to ADDRESS instead of resolving HOST (as
// curl's --resolve), so a certificate's name can be checked against any address. ALPN offers
// "http/1.1". The response body goes to stdout, everything else to stderr.
//
// Exit status: 0 for a 2xx or 3xx response, 1 for any failure (including verification) or
// another status, 2 for bad arguments.
//
#include <tlsx/beast.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;

namespace {

struct options {
    std::string host;
    std::string port = "443";
    std::string target = "/";
    std::string cafile;
    std::string resolve;
    bool head = false;
    std::chrono::seconds timeout{30};
};

[[noreturn]] void usage(const char* why) {
    std::cerr << "https_client: " << why << "\n"
              << "usage: https_client [--cafile FILE] [--resolve ADDRESS] [--timeout SECONDS] "
                 "[--head] https://HOST[:PORT][/TARGET]\n";
    std::exit(2);
}

// https://HOST[:PORT][/TARGET]; HOST may be [IPv6].
void parse_url(std::string_view url, options& o) {
    constexpr std::string_view scheme = "https://";
    if (url.substr(0, scheme.size()) != scheme)
        usage("the URL must start with https://");
    url.remove_prefix(scheme.size());
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos)
        o.target = std::string(url.substr(slash));
    std::string_view host = authority;
    if (!authority.empty() && authority[0] == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            usage("unbalanced [ in the URL");
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
            o.port = std::string(authority.substr(close + 2));
    } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        o.port = std::string(authority.substr(colon + 1));
    }
    if (host.empty() || o.port.empty())
        usage("the URL has no host or an empty port");
    o.host = std::string(host);
}

options parse_options(int argc, char** argv) {
    options o;
    bool have_url = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage("missing value after an option");
            return argv[++i];
        };
        if (arg == "--cafile") {
            o.cafile = value();
        } else if (arg == "--resolve") {
            o.resolve = value();
        } else if (arg == "--timeout") {
            const std::string v = value();
            char* end = nullptr;
            const unsigned long s = std::strtoul(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || s == 0 || s > 86400)
                usage("--timeout wants seconds");
            o.timeout = std::chrono::seconds(s);
        } else if (arg == "--head") {
            o.head = true;
        } else if (arg == "--help" || arg == "-h") {
            usage("an HTTPS client");
        } else if (!arg.empty() && arg[0] == '-') {
            usage("unknown option");
        } else if (!have_url) {
            parse_url(arg, o);
            have_url = true;
        } else {
            usage("one URL only");
        }
    }
    if (!have_url)
        usage("no URL");
    return o;
}

// Connect, verify, GET, read the response, close. Returns the status code.
net::awaitable<unsigned> fetch(tlsx::context& ctx, const options& o) {
    auto ex = co_await net::this_coro::executor;
    tlsx::stream<beast::tcp_stream> s(ex, ctx);
    auto& tcp = beast::get_lowest_layer(s);

    // SNI, and the name the certificate must carry. Replaces OpenSSL's
    // SSL_set_tlsext_host_name(s.native_handle(), host) of asio::ssl code.
    s.set_server_name(o.host);

    tcp::resolver resolver(ex);
    const auto endpoints = co_await resolver.async_resolve(o.resolve.empty() ? o.host : o.resolve,
                                                           o.port, use_awaitable);
    tcp.expires_after(o.timeout);
    const tcp::endpoint peer = co_await tcp.async_connect(endpoints, use_awaitable);
    std::cerr << "connected to " << peer << std::endl;

    tcp.expires_after(o.timeout);
    co_await s.async_handshake(tlsx::stream_base::client, use_awaitable);
    std::cerr << "TLS: " << s.protocol_version() << ", " << s.cipher_suite() << ", ALPN "
              << (s.alpn_protocol().empty() ? "(none)" : s.alpn_protocol()) << ", certificate "
              << (o.cafile.empty() ? "verified against the system store"
                                   : "verified against " + o.cafile)
              << " for " << o.host << std::endl;

    http::request<http::empty_body> req{o.head ? http::verb::head : http::verb::get, o.target, 11};
    req.set(http::field::host, o.host);
    req.set(http::field::user_agent, "tlsx-https-client (" BOOST_BEAST_VERSION_STRING ")");
    req.set(http::field::connection, "close");
    tcp.expires_after(o.timeout);
    co_await http::async_write(s, req, use_awaitable);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.skip(o.head); // a response to HEAD has no body, whatever Content-Length says
    parser.body_limit(64u << 20);
    tcp.expires_after(o.timeout);
    co_await http::async_read(s, buffer, parser, use_awaitable);
    const auto& res = parser.get();
    std::cerr << "HTTP/" << res.version() / 10 << "." << res.version() % 10 << " "
              << res.result_int() << " " << res.reason() << std::endl;
    for (const auto& field : res)
        std::cerr << "  " << field.name_string() << ": " << field.value() << std::endl;
    std::cout << res.body() << std::flush;

    // close_notify both ways. Servers often close TCP right after their own close_notify or
    // without one (then the shutdown ends with eof or stream_truncated): the response was
    // complete and self-delimited, so neither matters. See tlsx::error::stream_truncated.
    tcp.expires_after(o.timeout);
    beast::error_code ec;
    co_await s.async_shutdown(net::redirect_error(use_awaitable, ec));
    if (ec && ec != net::error::eof && ec != tlsx::error::stream_truncated &&
        ec != net::error::connection_reset && ec != net::error::broken_pipe)
        std::cerr << "shutdown: " << ec.message() << std::endl;
    co_return res.result_int();
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    try {
        tlsx::context ctx{tlsx::context::tls_client}; // verifies the server: verify_mode::required
        if (o.cafile.empty())
            ctx.set_default_verify_paths();
        else
            ctx.load_verify_file(o.cafile);
        ctx.set_alpn_protocols({"http/1.1"});

        net::io_context io;
        unsigned status = 0;
        std::exception_ptr failure;
        net::co_spawn(io, fetch(ctx, o), [&](std::exception_ptr e, unsigned s) {
            failure = e;
            status = s;
        });
        io.run();
        if (failure)
            std::rethrow_exception(failure);
        return status >= 200 && status < 400 ? 0 : 1;
    } catch (const boost::system::system_error& e) {
        // Verification failures read e.g. "certificate verification failed: host name mismatch".
        std::cerr << "https_client: " << e.what() << " [" << e.code().category().name() << ":"
                  << e.code().value() << "]" << std::endl;
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "https_client: " << e.what() << std::endl;
        return 1;
    }
}
