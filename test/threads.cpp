// Threads (issue 14, item 4): what the threaded suites (stream_duplex: full duplex with strands,
// one context shared by streams on two threads; renegotiation: renegotiation during full-duplex
// traffic on two threads) do not cover yet. CI runs these suites under ThreadSanitizer (`.ci/run
// tsan`, docs/testing.md).
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "support/run.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tlsx::error_code;

namespace {

using tls_stream = tlsx::stream<tlsx::test::pipe>;

/// One client after another on its own strand: each handshakes (resuming the session of the one
/// before) and hands on its session; until `until`, at most `rounds` connections.
struct serial_clients {
    net::strand<net::io_context::executor_type> strand;
    tlsx_test::context_pair& ctx;
    int rounds;
    std::chrono::steady_clock::time_point until;
    std::atomic<int>& ok;
    std::atomic<int>& failed;
    std::atomic<int>& resumed;
    tlsx::session saved;
    std::unique_ptr<tls_stream> client, server;
    int handshakes = 0;
    int connections = 0;

    void next() {
        if (rounds-- == 0 || std::chrono::steady_clock::now() >= until)
            return;
        ++connections;
        auto [cp, sp] = tlsx::test::make_pipe(net::any_io_executor(strand));
        client = std::make_unique<tls_stream>(std::move(cp), ctx.client);
        server = std::make_unique<tls_stream>(std::move(sp), ctx.server);
        client->set_server_name("localhost");
        if (!saved.empty())
            client->set_session(saved);
        handshakes = 0;
        auto done = [this](error_code ec) {
            ++(ec ? failed : ok);
            if (++handshakes < 2)
                return;
            if (client->session_reused())
                ++resumed;
            saved = client->get_session();
            net::post(strand, [this] { next(); });
        };
        client->async_handshake(tlsx::stream_base::client, done);
        server->async_handshake(tlsx::stream_base::server, done);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(threads)

// The server context's ticket key rotates every second (mbedTLS's ticket module, locked by its
// own mutex) while streams on two threads issue and resume tickets with it. The clients go on for
// 2.5 s (the only use of the clock: so that at least two rotations fall into the run; nothing
// asserts a time), and every handshake succeeds: a ticket made with an old key is either still
// accepted (the previous key stays valid one more lifetime) or falls back to a full handshake.
BOOST_AUTO_TEST_CASE(ticket_key_rotation_during_handshakes_on_two_threads) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    ctx.server.enable_session_tickets(std::chrono::seconds(1));
    ctx.client.set_max_version(tlsx::tls_version::tls1_2); // 1.2: tickets come in the handshake
    constexpr int strands = 4, rounds = 20000;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
    std::atomic<int> ok{0}, failed{0}, resumed{0};
    std::vector<std::unique_ptr<serial_clients>> clients;
    for (int i = 0; i < strands; ++i) {
        clients.push_back(std::make_unique<serial_clients>(serial_clients{
            net::make_strand(io), ctx, rounds, until, ok, failed, resumed, {}, {}, {}, 0, 0}));
        net::dispatch(clients.back()->strand, [c = clients.back().get()] { c->next(); });
    }
    std::thread t([&] { io.run_for(std::chrono::seconds(120)); });
    io.run_for(std::chrono::seconds(120));
    t.join();
    int connections = 0;
    for (auto& c : clients)
        connections += c->connections;
    BOOST_TEST(ok.load() == 2 * connections);
    BOOST_TEST(failed.load() == 0);
    BOOST_TEST(connections > strands);
    // Every client after the first of its strand offered a ticket; most resume.
    BOOST_TEST(resumed.load() > 0);
    BOOST_TEST_MESSAGE("threads: " << connections << " connections, " << resumed.load() << " of "
                                   << connections - strands << " offered tickets resumed");
}

BOOST_AUTO_TEST_SUITE_END()
