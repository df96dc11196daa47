//
// tlsx — TLS streams for Boost.Asio over mbedTLS
//
// Session bytes: "TLSX" | format version (1 byte) | mbedTLS version number (4 bytes, big
// endian) | mbedtls_ssl_session_save output. mbedTLS checks its own part again on load (its
// version and configuration flags), so bytes of another build are refused, never misread.
//
#include <tlsx/session.hpp>

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

session session::from_mbedtls(const unsigned char* data, std::size_t size) {
    session s;
    s.bytes_.reserve(header_size + size);
    put_header(s.bytes_);
    s.bytes_.insert(s.bytes_.end(), data, data + size);
    return s;
}

boost::asio::const_buffer session::mbedtls_bytes() const noexcept {
    if (bytes_.size() <= header_size)
        return {};
    return {bytes_.data() + header_size, bytes_.size() - header_size};
}

session session::from_bytes(boost::asio::const_buffer bytes, error_code& ec) {
    const auto* p = static_cast<const unsigned char*>(bytes.data());
    ec = error::invalid_session;
    if (!header_ok(p, bytes.size()))
        return {};
    // Let mbedTLS parse it once now, so that a corrupt session is reported here and not as a
    // failed handshake later.
    mbedtls_ssl_session probe;
    mbedtls_ssl_session_init(&probe);
    int ret = mbedtls_ssl_session_load(&probe, p + header_size, bytes.size() - header_size);
    mbedtls_ssl_session_free(&probe);
    if (ret != 0)
        return {};
    session s;
    s.bytes_.assign(p, p + bytes.size());
    ec = {};
    return s;
}

session session::from_bytes(boost::asio::const_buffer bytes) {
    error_code ec;
    session s = from_bytes(bytes, ec);
    if (ec)
        throw boost::system::system_error(ec, "tlsx::session::from_bytes");
    return s;
}

} // namespace tlsx
