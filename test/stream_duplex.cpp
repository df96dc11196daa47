// Full duplex: one read and one write outstanding on each end at once, on one thread and on two
// threads with strands; output produced by a read is flushed although no write is pending.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "support/duplex.hpp"
#include "support/run.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::checksum;
using tlsx_test::pattern;
using tlsx_test::run_bounded;

namespace {

using tlsx_test::duplex_peer;
using tls_stream = tlsx::stream<tlsx::test::pipe>;

void handshake(net::io_context& io, tlsx::test::tls_pair& p) {
    auto [cec, sec] = tlsx_test::handshake_both(io, p.client, p.server);
    BOOST_REQUIRE(!cec);
    BOOST_REQUIRE(!sec);
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream_duplex)

BOOST_AUTO_TEST_CASE(read_and_write_pending_on_both_ends_single_thread) {
    for (std::size_t chop : {std::size_t(0), std::size_t(1000), std::size_t(7)}) {
        net::io_context io;
        tlsx::test::tls_pair p(io);
        if (chop != 0) {
            p.client.next_layer().set_write_size(chop);
            p.server.next_layer().set_read_size(chop);
        }
        handshake(io, p);
        std::string up = pattern(chop == 7 ? 200000 : 3000000, 1);
        std::string down = pattern(chop == 7 ? 150000 : 2000000, 2);
        duplex_peer c{p.client, up, down.size(), io.get_executor()},
            s{p.server, down, up.size(), io.get_executor()};
        c.start();
        s.start();
        BOOST_TEST(run_bounded(io)); // ran out of work: nothing left parked
        BOOST_TEST(c.write_done);
        BOOST_TEST(c.read_done);
        BOOST_TEST(s.write_done);
        BOOST_TEST(s.read_done);
        BOOST_TEST(!c.write_ec);
        BOOST_TEST(!c.read_ec);
        BOOST_TEST(!s.write_ec);
        BOOST_TEST(!s.read_ec);
        BOOST_TEST(s.received == up.size());
        BOOST_TEST(c.received == down.size());
        BOOST_TEST(s.sum == checksum(up.data(), up.size()));
        BOOST_TEST(c.sum == checksum(down.data(), down.size()));
    }
}

BOOST_AUTO_TEST_CASE(read_and_write_pending_on_both_ends_two_threads_with_strands) {
    net::io_context io;
    // Each stream on its own strand: the two ends really run in parallel.
    auto cstrand = net::make_strand(io);
    auto sstrand = net::make_strand(io);
    tlsx_test::context_pair ctx;
    tlsx::context &cctx = ctx.client, &sctx = ctx.server;
    auto [cp, sp] = tlsx::test::make_pipe(net::any_io_executor(io.get_executor()));
    tls_stream client(tlsx::test::pipe(std::move(cp)), cctx);
    tls_stream server(tlsx::test::pipe(std::move(sp)), sctx);
    client.set_server_name("localhost");
    client.next_layer().set_write_size(3000);

    std::string up = pattern(2000000, 3), down = pattern(2500000, 4);
    duplex_peer c{client, up, down.size(), cstrand}, s{server, down, up.size(), sstrand};
    std::atomic<int> handshakes{0};
    // Every operation of a stream starts and completes on its strand.
    net::dispatch(cstrand, [&] {
        client.async_handshake(tlsx::stream_base::client,
                               net::bind_executor(cstrand, [&](error_code ec) {
                                   if (ec) // counted below: no Boost.Test call off the main thread
                                       return;
                                   ++handshakes;
                                   c.start();
                               }));
    });
    net::dispatch(sstrand, [&] {
        server.async_handshake(tlsx::stream_base::server,
                               net::bind_executor(sstrand, [&](error_code ec) {
                                   if (ec) // counted below: no Boost.Test call off the main thread
                                       return;
                                   ++handshakes;
                                   s.start();
                               }));
    });
    std::thread t([&] { io.run_for(std::chrono::seconds(60)); });
    io.run_for(std::chrono::seconds(60));
    t.join();
    BOOST_TEST(handshakes.load() == 2);
    BOOST_TEST(s.received == up.size());
    BOOST_TEST(c.received == down.size());
    BOOST_TEST(s.sum == checksum(up.data(), up.size()));
    BOOST_TEST(c.sum == checksum(down.data(), down.size()));
    BOOST_TEST(!c.read_ec);
    BOOST_TEST(!s.read_ec);
}

// One pair of contexts shared by many streams handshaking at once on two threads: the context's
// random generator and configuration are shared, never copied per stream.
BOOST_AUTO_TEST_CASE(one_context_serves_many_streams_on_two_threads) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    constexpr int pairs = 24;
    std::vector<std::unique_ptr<tls_stream>> clients, servers;
    std::atomic<int> ok{0}, failed{0};
    for (int i = 0; i < pairs; ++i) {
        auto strand = net::make_strand(io);
        auto [cp, sp] = tlsx::test::make_pipe(net::any_io_executor(strand));
        clients.push_back(
            std::make_unique<tls_stream>(tlsx::test::pipe(std::move(cp)), ctx.client));
        servers.push_back(
            std::make_unique<tls_stream>(tlsx::test::pipe(std::move(sp)), ctx.server));
        clients.back()->set_server_name("localhost");
        auto done = [&](error_code ec) { ++(ec ? failed : ok); };
        net::dispatch(strand, [&, i, done] {
            clients[static_cast<std::size_t>(i)]->async_handshake(tlsx::stream_base::client, done);
            servers[static_cast<std::size_t>(i)]->async_handshake(tlsx::stream_base::server, done);
        });
    }
    std::thread t([&] { io.run_for(std::chrono::seconds(120)); });
    io.run_for(std::chrono::seconds(120));
    t.join();
    BOOST_TEST(ok.load() == 2 * pairs);
    BOOST_TEST(failed.load() == 0);
}

// A read that produces output (here: the fatal alert for a tampered record) must get it onto
// the wire at once, with no write pending anywhere (the Botan stream bug).
BOOST_AUTO_TEST_CASE(alert_produced_by_a_read_is_sent_without_a_pending_write) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    handshake(io, p);
    error_code wec = net::error::would_block;
    net::async_write(p.client, net::buffer("hello", 5),
                     [&](error_code ec, std::size_t) { wec = ec; });
    run_bounded(io);
    BOOST_REQUIRE(!wec);
    // Take the record off the wire, flip a ciphertext byte, put it back.
    std::string record(p.server.next_layer().available(), '\0');
    net::read(p.server.next_layer(), net::buffer(record));
    record[record.size() - 1] ^= 0x40;
    p.server.next_layer().inject(record);

    error_code cec = net::error::would_block, sec = net::error::would_block;
    char cbuf[16], sbuf[16];
    p.client.async_read_some(net::buffer(cbuf), [&](error_code ec, std::size_t) { cec = ec; });
    p.server.async_read_some(net::buffer(sbuf), [&](error_code ec, std::size_t) { sec = ec; });
    run_bounded(io);
    BOOST_TEST(sec); // bad MAC
    BOOST_TEST(sec == tlsx::condition::protocol);
    // The client learns why: the server's alert (bad_record_mac = 20) arrived.
    BOOST_TEST((cec.category() == tlsx::alert_category()));
    BOOST_TEST(cec.value() == 20);
}

BOOST_AUTO_TEST_CASE(second_concurrent_read_is_refused_not_corrupting) {
    net::io_context io;
    tlsx::test::tls_pair p(io);
    handshake(io, p);
    char b1[8], b2[8];
    error_code e1 = net::error::would_block, e2 = net::error::would_block;
    std::size_t n1 = 0;
    p.server.async_read_some(net::buffer(b1),
                             [&](error_code ec, std::size_t n) { e1 = ec, n1 = n; });
    p.server.async_read_some(net::buffer(b2), [&](error_code ec, std::size_t) { e2 = ec; });
    net::async_write(p.client, net::buffer("abc", 3), [](error_code, std::size_t) {});
    run_bounded(io);
    BOOST_TEST(e2 == tlsx::error::operation_not_permitted);
    BOOST_TEST(!e1);
    BOOST_TEST(std::string(b1, n1) == "abc");
}

BOOST_AUTO_TEST_SUITE_END()
