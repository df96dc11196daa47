//
// Two engines wired back to back with no Asio I/O at all: unit tests of the protocol logic.
//
#ifndef TLSX_TEST_SUPPORT_ENGINE_PAIR_HPP
#define TLSX_TEST_SUPPORT_ENGINE_PAIR_HPP

#include <tlsx/engine.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace tlsx_test {

/// Everything `e` has queued for the wire, taken out of it.
inline std::string take_output(tlsx::engine& e) {
    std::string wire;
    while (e.has_output()) {
        auto out = e.output();
        wire.append(static_cast<const char*>(out.data()), out.size());
        e.consume_output(out.size());
    }
    return wire;
}

/// Moves ciphertext between two engines, optionally in chunks of `chunk` bytes.
struct engine_pair {
    tlsx::engine client;
    tlsx::engine server;
    std::size_t chunk = static_cast<std::size_t>(-1);
    std::string client_to_server; // everything the client ever sent (for inspection)
    std::string server_to_client;

    engine_pair(const tlsx::context& cctx, const tlsx::context& sctx)
        : client(cctx)
        , server(sctx) {
        // A verifying client names the server it expects (mbedTLS 3.6.3+ refuses to verify
        // without a name); tests of name checks set another one.
        tlsx::error_code ec;
        client.set_server_name("localhost", ec);
    }

    /// Move all queued output of `from` into `to`'s input (as much as fits). Returns bytes moved.
    std::size_t pump(tlsx::engine& from, tlsx::engine& to, std::string& log) {
        std::size_t moved = 0;
        while (from.has_output()) {
            auto out = from.output();
            auto space = to.prepare_input();
            std::size_t n = std::min({out.size(), space.size(), chunk});
            if (n == 0)
                break;
            std::copy_n(static_cast<const char*>(out.data()), n, static_cast<char*>(space.data()));
            log.append(static_cast<const char*>(out.data()), n);
            to.commit_input(n);
            from.consume_output(n);
            moved += n;
        }
        return moved;
    }

    std::size_t pump_all() {
        return pump(client, server, client_to_server) + pump(server, client, server_to_client);
    }

    /// Drive both handshakes to the end; returns the first error seen.
    tlsx::error_code handshake() {
        for (int i = 0; i < 100000; ++i) {
            auto rc = client.handshake(tlsx::stream_base::client);
            auto rs = server.handshake(tlsx::stream_base::server);
            if (rc.ec)
                return rc.ec;
            if (rs.ec)
                return rs.ec;
            std::size_t moved = pump_all();
            if (rc.next == tlsx::engine::want::nothing && rs.next == tlsx::engine::want::nothing &&
                moved == 0)
                return {};
            if (moved == 0 && rc.next == tlsx::engine::want::input &&
                rs.next == tlsx::engine::want::input)
                return boost::asio::error::would_block; // stuck: a bug
        }
        return boost::asio::error::timed_out;
    }

    /// Write all of `data` from one engine and read it at the other.
    tlsx::error_code transfer(tlsx::engine& from, tlsx::engine& to, const std::string& data,
                              std::string& received) {
        std::size_t sent = 0;
        std::vector<char> buf(20000);
        for (int i = 0; i < 1000000 && received.size() < data.size(); ++i) {
            if (sent < data.size()) {
                auto r = from.write(boost::asio::buffer(data.data() + sent, data.size() - sent));
                if (r.ec)
                    return r.ec;
                sent += r.bytes;
            }
            pump_all();
            for (;;) {
                auto r = to.read(boost::asio::buffer(buf));
                if (r.ec)
                    return r.ec;
                if (r.next != tlsx::engine::want::nothing)
                    break;
                received.append(buf.data(), r.bytes);
            }
            pump_all();
        }
        return {};
    }
};

} // namespace tlsx_test

#endif
