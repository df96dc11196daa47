//
// Helpers shared by the stream tests.
//
#ifndef TLSX_TEST_SUPPORT_RUN_HPP
#define TLSX_TEST_SUPPORT_RUN_HPP

#include <tlsx/context.hpp>
#include <tlsx/error.hpp>
#include <tlsx/stream_base.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace tlsx_test {

/// A buffer over PEM (or any) text, for the context's loaders.
inline boost::asio::const_buffer pem(std::string_view s) {
    return boost::asio::buffer(s.data(), s.size());
}

/// Whether `text` contains `what`.
inline bool contains(std::string_view text, std::string_view what) {
    return text.find(what) != std::string_view::npos;
}

/// Run the io_context until it has no work, but never longer than a bound: a deadlock shows as
/// a failed check instead of a hung test. Returns true when the context ran out of work.
inline bool run_bounded(boost::asio::io_context& io,
                        std::chrono::seconds limit = std::chrono::seconds(60)) {
    io.restart();
    io.run_for(limit);
    return io.stopped();
}

/// Deterministic test data: not periodic on record boundaries.
inline std::string pattern(std::size_t n, unsigned seed = 1) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u ^ seed;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s[i] = static_cast<char>(x);
    }
    return s;
}

/// FNV-1a, to compare large transfers without keeping both copies.
inline std::uint64_t checksum(const char* p, std::size_t n,
                              std::uint64_t h = 1469598103934665603ull) {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(p[i]);
        h *= 1099511628211ull;
    }
    return h;
}

/// Run both handshakes with callbacks until the io_context is idle; returns {client, server}.
/// An operation that never completed reports would_block.
template <class ClientStream, class ServerStream>
std::pair<tlsx::error_code, tlsx::error_code>
handshake_both(boost::asio::io_context& io, ClientStream& client, ServerStream& server) {
    tlsx::error_code cec = boost::asio::error::would_block;
    tlsx::error_code sec = boost::asio::error::would_block;
    client.async_handshake(tlsx::stream_base::client, [&](tlsx::error_code ec) { cec = ec; });
    server.async_handshake(tlsx::stream_base::server, [&](tlsx::error_code ec) { sec = ec; });
    run_bounded(io);
    return {cec, sec};
}

/// A server context with a fresh self-signed certificate for "localhost" and a client context
/// that trusts exactly that certificate.
struct context_pair {
    tlsx::self_signed_credentials credentials = tlsx::generate_self_signed("localhost");
    tlsx::context client{tlsx::context::tls_client};
    tlsx::context server{tlsx::context::tls_server};

    context_pair() {
        server.use_certificate_chain(boost::asio::buffer(credentials.certificate_pem));
        server.use_private_key(boost::asio::buffer(credentials.private_key_pem),
                               tlsx::context::pem);
        client.add_certificate_authority(boost::asio::buffer(credentials.certificate_pem));
    }
};

} // namespace tlsx_test

#endif
