//
// tlsx — TLS streams for Boost.Asio over mbedTLS
//
#ifndef TLSX_SESSION_HPP
#define TLSX_SESSION_HPP

#include <tlsx/error.hpp>

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <utility>
#include <vector>

namespace tlsx {

/** Resumption data of a TLS session, owned by the application (gnutls_session_get_data2).

    A client takes it from a stream after its handshake (`stream::get_session()`), keeps it
    anywhere as bytes (`to_bytes()`), and gives it to a new stream before its handshake
    (`stream::set_session()`), which then offers to resume: by the server's session ticket, or
    by session ID. If the server cannot resume, a full handshake runs instead.

    The bytes hold the session's master secret: store them as you would store a key.

    @par Thread Safety
    Distinct objects: safe. Shared objects: safe for const members.
*/
class session {
public:
    /// An empty session: a stream given it performs a full handshake.
    session() = default;

    /// Whether this holds no session.
    bool empty() const noexcept { return bytes_.empty(); }

    /** The session as bytes, to store anywhere.

        Versioned: a `from_bytes` of another tlsx or mbedTLS build refuses them with
        error::invalid_session rather than misreading them.
    */
    std::vector<unsigned char> to_bytes() const { return bytes_; }

    /** Rebuild a session from `to_bytes()` output.

        @throws boost::system::system_error with error::invalid_session when the bytes are
        corrupt, truncated, or not tlsx session bytes.
    */
    static session from_bytes(boost::asio::const_buffer bytes);

    /// @copydoc from_bytes(boost::asio::const_buffer)
    static session from_bytes(boost::asio::const_buffer bytes, error_code& ec);

    /// Rebuild from any contiguous bytes: a `std::vector<unsigned char>`, a `std::string`, ...
    template <class ContiguousBytes,
              class = decltype(boost::asio::buffer(std::declval<const ContiguousBytes&>()))>
    static session from_bytes(const ContiguousBytes& bytes) {
        return from_bytes(boost::asio::const_buffer(boost::asio::buffer(bytes)));
    }

    /// @copydoc from_bytes(const ContiguousBytes&)
    template <class ContiguousBytes,
              class = decltype(boost::asio::buffer(std::declval<const ContiguousBytes&>()))>
    static session from_bytes(const ContiguousBytes& bytes, error_code& ec) {
        return from_bytes(boost::asio::const_buffer(boost::asio::buffer(bytes)), ec);
    }

    /// @cond internal
    /// Wrap mbedtls_ssl_session_save output; used by the engine.
    static session from_mbedtls(const unsigned char* data, std::size_t size);
    /// The mbedtls_ssl_session_save part; used by the engine.
    boost::asio::const_buffer mbedtls_bytes() const noexcept;
    /// @endcond

private:
    std::vector<unsigned char> bytes_; // header (see session.cpp) + mbedtls_ssl_session_save
};

} // namespace tlsx

#endif
