//
// tlsx/session.hpp — tlsx::session, resumption data owned by the application.
//
#ifndef TLSX_SESSION_HPP
#define TLSX_SESSION_HPP

#include <tlsx/error.hpp>

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace tlsx {

namespace detail {
struct session_state;
} // namespace detail

/** Resumption data of a TLS session, owned by the application (gnutls_session_get_data2).

    A client takes it from a stream after its handshake (`stream::get_session()`), keeps it
    anywhere as bytes (`to_bytes()`), and gives it to a new stream before its handshake
    (`stream::set_session()`), which then offers to resume: by the server's session ticket, or
    by session ID. If the server cannot resume, a full handshake runs instead.

    The bytes hold the session's master secret: store them as you would store a key.

    @par Thread Safety
    Distinct objects: safe. Shared objects: safe for const members. Copies are cheap and share
    one immutable state, parsed once, so one saved session can be handed to many streams.
*/
class session {
public:
    /// An empty session: a stream given it performs a full handshake.
    session() = default;

    /// Whether this holds no session.
    /// @return True for a default-constructed session, or one a server's stream returned.
    bool empty() const noexcept { return !state_; }

    /** The session as bytes, to store anywhere.

        Versioned: a `from_bytes` of another tlsx or mbedTLS build refuses them with
        error::invalid_session rather than misreading them.

        @return The bytes; empty for an empty session. They hold the master secret.
    */
    std::vector<unsigned char> to_bytes() const;

    /** Rebuild a session from `to_bytes()` output.

        @param bytes What to_bytes() returned.
        @return The session.
        @throws boost::system::system_error with error::invalid_session when the bytes are
        corrupt, truncated, or not tlsx session bytes.
    */
    static session from_bytes(boost::asio::const_buffer bytes);

    /// Rebuild a session from `to_bytes()` output.
    /// @param bytes What to_bytes() returned.
    /// @param ec Set to @ref error::invalid_session when the bytes are corrupt, truncated, or
    /// not tlsx session bytes, else cleared.
    /// @return The session; empty on error.
    static session from_bytes(boost::asio::const_buffer bytes, error_code& ec);

    /// Rebuild from any contiguous bytes: a `std::vector<unsigned char>`, a `std::string`, ...
    /// @param bytes What to_bytes() returned, in any container `boost::asio::buffer` accepts.
    /// @return The session.
    /// @throws boost::system::system_error with error::invalid_session, as
    /// from_bytes(boost::asio::const_buffer).
    template <class ContiguousBytes,
              class = decltype(boost::asio::buffer(std::declval<const ContiguousBytes&>()))>
    static session from_bytes(const ContiguousBytes& bytes) {
        return from_bytes(boost::asio::const_buffer(boost::asio::buffer(bytes)));
    }

    /// Rebuild from any contiguous bytes: a `std::vector<unsigned char>`, a `std::string`, ...
    /// @param bytes What to_bytes() returned, in any container `boost::asio::buffer` accepts.
    /// @param ec Set to @ref error::invalid_session when the bytes are not a session, else
    /// cleared.
    /// @return The session; empty on error.
    template <class ContiguousBytes,
              class = decltype(boost::asio::buffer(std::declval<const ContiguousBytes&>()))>
    static session from_bytes(const ContiguousBytes& bytes, error_code& ec) {
        return from_bytes(boost::asio::const_buffer(boost::asio::buffer(bytes)), ec);
    }

    /// @cond internal
    explicit session(std::shared_ptr<const detail::session_state> state) noexcept
        : state_(std::move(state)) {}
    /// The parsed session and its bytes; used by the engine.
    const detail::session_state* state() const noexcept { return state_.get(); }
    /// @endcond

private:
    std::shared_ptr<const detail::session_state> state_;
};

} // namespace tlsx

#endif
