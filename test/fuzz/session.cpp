// libFuzzer target: tlsx::session::from_bytes on arbitrary bytes; what it accepts must survive
// to_bytes and from_bytes again, and be offered by a client's first handshake step.
#include "fuzz/support.hpp"

#include <tlsx/session.hpp>

#include <boost/asio/buffer.hpp>

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    tlsx_fuzz::fresh_crypto crypto;
    tlsx::error_code ec;
    tlsx::session s = tlsx::session::from_bytes(boost::asio::buffer(data, size), ec);
    if (ec || s.empty())
        return 0;
    const std::vector<unsigned char> bytes = s.to_bytes();
    tlsx::session again = tlsx::session::from_bytes(boost::asio::buffer(bytes), ec);
    if (ec || again.to_bytes() != bytes)
        std::abort(); // an accepted session must round-trip
    tlsx::context ctx = tlsx_fuzz::client_context(false);
    tlsx::engine e(ctx);
    e.set_server_name("localhost", ec);
    e.set_session(s);
    (void)e.handshake(tlsx::stream_base::client);
    return 0;
}
