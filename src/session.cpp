//
// src/session.cpp — tlsx::session: resumption data, saved and loaded as bytes.
//
// Session bytes: "TLSX" | format version (1 byte) | mbedTLS version number (4 bytes, big
// endian) | mbedtls_ssl_session_save output. mbedTLS checks its own part again on load (its
// version and configuration flags), so bytes of another build are refused, never misread.
//
#include <tlsx/session.hpp>

#include "detail/session_state.hpp"

#include <boost/system/system_error.hpp>

#include <mbedtls/ssl.h>
#include <mbedtls/version.h>

#include <cstring>

namespace tlsx {

namespace {

constexpr unsigned char magic[4] = {'T', 'L', 'S', 'X'};
constexpr unsigned char format_version = 1;
constexpr std::size_t header_size = sizeof magic + 1 + 4;

void put_header(std::vector<unsigned char>& out) {
    out.insert(out.end(), magic, magic + sizeof magic);
    out.push_back(format_version);
    const unsigned long v = MBEDTLS_VERSION_NUMBER;
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<unsigned char>((v >> shift) & 0xff));
}

bool header_ok(const unsigned char* p, std::size_t n) {
    std::vector<unsigned char> expect;
    put_header(expect);
    return n > header_size && std::memcmp(p, expect.data(), header_size) == 0;
}

} // namespace

std::vector<unsigned char> session::to_bytes() const {
    if (!state_)
        return {};
    return state_->bytes;
}

session session::from_bytes(boost::asio::const_buffer bytes, error_code& ec) {
    const auto* p = static_cast<const unsigned char*>(bytes.data());
    ec = error::invalid_session;
    if (!header_ok(p, bytes.size()))
        return {};
    // Parse once now: a corrupt session is reported here and not as a failed handshake later,
    // and the streams given this session copy the parsed form instead of parsing again.
    auto state = std::make_shared<detail::session_state>();
    if (mbedtls_ssl_session_load(&state->parsed, p + header_size, bytes.size() - header_size) != 0)
        return {};
    state->bytes.assign(p, p + bytes.size());
    ec = {};
    return session(std::move(state));
}

namespace detail {

session save_session(const mbedtls_ssl_context& ssl) {
    auto state = std::make_shared<session_state>();
    if (mbedtls_ssl_get_session(&ssl, &state->parsed) != 0)
        return {};
    std::size_t n = 0;
    mbedtls_ssl_session_save(&state->parsed, nullptr, 0, &n); // asks for the size
    state->bytes.reserve(header_size + n);
    put_header(state->bytes);
    state->bytes.resize(header_size + n);
    if (mbedtls_ssl_session_save(&state->parsed, state->bytes.data() + header_size, n, &n) != 0)
        return {};
    return session(std::move(state));
}

} // namespace detail

session session::from_bytes(boost::asio::const_buffer bytes) {
    error_code ec;
    session s = from_bytes(bytes, ec);
    if (ec)
        throw boost::system::system_error(ec, "tlsx::session::from_bytes");
    return s;
}

} // namespace tlsx
