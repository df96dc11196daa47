// tlsx::stream over in-memory pipes and TCP loopback: handshakes in every completion style,
// echo of several sizes, fragmentation, verification, bad input, cancellation.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <future>
#include <string>
#include <thread>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::pattern;
using tlsx_test::run_bounded;

namespace {

using pair_t = tlsx::test::tls_pair;

/// An allocator that counts what it hands out, to see that handlers' allocators are used.
template <class T>
struct counting_allocator {
    using value_type = T;
    std::size_t* count;
    explicit counting_allocator(std::size_t* c) noexcept
        : count(c) {}
    template <class U>
    counting_allocator(const counting_allocator<U>& o) noexcept
        : count(o.count) {}
    T* allocate(std::size_t n) {
        ++*count;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    template <class U>
    bool operator==(const counting_allocator<U>& o) const noexcept {
        return count == o.count;
    }
    template <class U>
    bool operator!=(const counting_allocator<U>& o) const noexcept {
        return count != o.count;
    }
};

std::pair<error_code, error_code> handshake(net::io_context& io, pair_t& p) {
    return tlsx_test::handshake_both(io, p.client, p.server);
}

/// Send `data` from one stream to the other with async_write/async_read; returns what arrived.
std::string transfer(net::io_context& io, tlsx::stream<tlsx::test::pipe>& from,
                     tlsx::stream<tlsx::test::pipe>& to, const std::string& data) {
    std::string got(data.size(), '\0');
    error_code wec = net::error::would_block, rec = net::error::would_block;
    net::async_write(from, net::buffer(data), [&](error_code ec, std::size_t) { wec = ec; });
    net::async_read(to, net::buffer(got), [&](error_code ec, std::size_t) { rec = ec; });
    run_bounded(io);
    BOOST_TEST(!wec);
    BOOST_TEST(!rec);
    return got;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stream)

BOOST_AUTO_TEST_CASE(handshake_with_callbacks) {
    net::io_context io;
    pair_t p(io);
    auto [cec, sec] = handshake(io, p);
    BOOST_TEST(!cec);
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(p.client.protocol_version() == backend::default_version);
    BOOST_TEST(p.client.cipher_suite() == p.server.cipher_suite());
    BOOST_TEST(!p.client.peer_certificate().empty());
}

BOOST_AUTO_TEST_CASE(handshake_with_coroutines) {
    net::io_context io;
    pair_t p(io);
    bool client_done = false, server_done = false;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            co_await p.client.async_handshake(tlsx::stream_base::client, net::use_awaitable);
            co_await net::async_write(p.client, net::buffer("ping", 4), net::use_awaitable);
            client_done = true;
        },
        net::detached);
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            co_await p.server.async_handshake(tlsx::stream_base::server, net::use_awaitable);
            char buf[4];
            co_await net::async_read(p.server, net::buffer(buf), net::use_awaitable);
            server_done = std::string(buf, 4) == "ping";
        },
        net::detached);
    run_bounded(io);
    BOOST_TEST(client_done);
    BOOST_TEST(server_done);
}

BOOST_AUTO_TEST_CASE(handshake_with_futures_and_deferred) {
    net::io_context io;
    pair_t p(io);
    std::future<void> f = p.client.async_handshake(tlsx::stream_base::client, net::use_future);
    auto op = p.server.async_handshake(tlsx::stream_base::server, net::deferred);
    error_code sec = net::error::would_block;
    std::move(op)([&](error_code ec) { sec = ec; });
    run_bounded(io);
    BOOST_CHECK_NO_THROW(f.get());
    BOOST_TEST(!sec, sec.message());
}

BOOST_AUTO_TEST_CASE(handshake_sync_on_two_threads_over_tcp) {
    net::io_context io;
    tlsx_test::context_pair ctx;
    tlsx::context &sctx = ctx.server, &cctx = ctx.client;

    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    auto endpoint = acceptor.local_endpoint();
    std::string server_got;
    std::thread server([&] {
        tlsx::stream<net::ip::tcp::socket> s(io, sctx);
        acceptor.accept(s.next_layer());
        s.handshake(tlsx::stream_base::server);
        std::string buf(5, '\0');
        net::read(s, net::buffer(buf));
        server_got = buf;
        net::write(s, net::buffer(buf));
        s.shutdown();
    });
    tlsx::stream<net::ip::tcp::socket> c(io, cctx);
    c.next_layer().connect(endpoint);
    c.set_server_name("localhost");
    c.handshake(tlsx::stream_base::client);
    net::write(c, net::buffer("hello", 5));
    std::string back(5, '\0');
    net::read(c, net::buffer(back));
    error_code ec;
    c.shutdown(ec);
    server.join();
    BOOST_TEST(!ec);
    BOOST_TEST(server_got == "hello");
    BOOST_TEST(back == "hello");
}

BOOST_AUTO_TEST_CASE(buffered_handshake_uses_bytes_already_read) {
    net::io_context io;
    pair_t p(io);
    // The server's "sniffer" already read the first bytes of the ClientHello.
    p.client.async_handshake(tlsx::stream_base::client, [](error_code) {});
    io.restart();
    io.poll(); // the ClientHello is now in the pipe
    std::string head(3, '\0');
    net::read(p.server.next_layer(), net::buffer(head));
    error_code sec = net::error::would_block;
    std::size_t used = 0;
    p.server.async_handshake(tlsx::stream_base::server, net::buffer(head),
                             [&](error_code ec, std::size_t n) { sec = ec, used = n; });
    run_bounded(io);
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(used == 3u);
}

BOOST_AUTO_TEST_CASE(buffered_handshake_with_more_bytes_than_one_record) {
    net::io_context io;
    pair_t p(io);
    // The whole client flight plus garbage-free padding: more than the input queue holds at once.
    // Here: the complete ClientHello, read by a "sniffer" before the TLS stream existed.
    p.client.async_handshake(tlsx::stream_base::client, [](error_code) {});
    io.restart();
    io.poll();
    std::string hello(p.server.next_layer().available(), '\0');
    net::read(p.server.next_layer(), net::buffer(hello));
    // Deliver it in 1-byte buffers, so the policy walks a long buffer sequence.
    std::vector<net::const_buffer> pieces;
    for (std::size_t i = 0; i < hello.size(); ++i)
        pieces.push_back(net::buffer(&hello[i], 1));
    error_code sec = net::error::would_block;
    std::size_t used = 0;
    p.server.async_handshake(tlsx::stream_base::server, pieces,
                             [&](error_code ec, std::size_t n) { sec = ec, used = n; });
    run_bounded(io);
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(used == hello.size());
}

BOOST_AUTO_TEST_CASE(echo_of_one_byte_16k_and_4m) {
    net::io_context io;
    pair_t p(io);
    BOOST_REQUIRE(!handshake(io, p).first);
    for (std::size_t n : {std::size_t(1), std::size_t(16384), std::size_t(4) << 20}) {
        std::string data = pattern(n, static_cast<unsigned>(n));
        BOOST_TEST(transfer(io, p.client, p.server, data) == data);
        BOOST_TEST(transfer(io, p.server, p.client, data) == data);
    }
}

// 64 MiB out and back, streamed in 1 MiB writes, compared by checksum on arrival.
BOOST_AUTO_TEST_CASE(echo_of_64_mib_checksummed) {
    net::io_context io;
    pair_t p(io);
    BOOST_REQUIRE(!handshake(io, p).first);
    const std::size_t chunk = std::size_t(1) << 20, total = std::size_t(64) << 20;
    const std::string block = pattern(chunk, 64);
    std::uint64_t expected = tlsx_test::checksum(nullptr, 0);
    for (std::size_t i = 0; i < total / chunk; ++i)
        expected = tlsx_test::checksum(block.data(), block.size(), expected);

    std::size_t written = 0, echoed = 0, received = 0;
    std::uint64_t sum = tlsx_test::checksum(nullptr, 0);
    std::vector<char> sbuf(50000), cbuf(30000);
    error_code failure;
    std::function<void()> client_write = [&] {
        net::async_write(p.client, net::buffer(block), [&](error_code ec, std::size_t n) {
            written += n;
            if (ec)
                failure = ec;
            else if (written < total)
                client_write();
        });
    };
    std::function<void()> server_echo = [&] {
        p.server.async_read_some(net::buffer(sbuf), [&](error_code ec, std::size_t n) {
            if (ec)
                return void(failure = ec);
            net::async_write(p.server, net::buffer(sbuf.data(), n),
                             [&](error_code ec, std::size_t n) {
                                 echoed += n;
                                 if (ec)
                                     failure = ec;
                                 else if (echoed < total)
                                     server_echo();
                             });
        });
    };
    std::function<void()> client_read = [&] {
        p.client.async_read_some(net::buffer(cbuf), [&](error_code ec, std::size_t n) {
            sum = tlsx_test::checksum(cbuf.data(), n, sum);
            received += n;
            if (ec)
                failure = ec;
            else if (received < total)
                client_read();
        });
    };
    client_write();
    server_echo();
    client_read();
    run_bounded(io, std::chrono::seconds(300));
    BOOST_TEST(!failure);
    BOOST_TEST(received == total);
    BOOST_TEST(sum == expected);
}

BOOST_AUTO_TEST_CASE(one_byte_fragments_both_ways) {
    net::io_context io;
    pair_t p(io);
    p.client.next_layer().set_write_size(1);
    p.client.next_layer().set_read_size(1);
    p.server.next_layer().set_write_size(1);
    p.server.next_layer().set_read_size(1);
    BOOST_REQUIRE(!handshake(io, p).first);
    std::string data = pattern(40000, 7);
    BOOST_TEST(transfer(io, p.client, p.server, data) == data);
    BOOST_TEST(transfer(io, p.server, p.client, data) == data);
}

// The handler's associated allocator provides the memory of intermediate operations.
BOOST_AUTO_TEST_CASE(associated_allocator_is_used_for_intermediate_storage) {
    std::size_t used_allocations = 0;
    net::io_context io;
    pair_t p(io);
    error_code cec = net::error::would_block;
    p.client.async_handshake(tlsx::stream_base::client,
                             net::bind_allocator(counting_allocator<char>(&used_allocations),
                                                 [&](error_code ec) { cec = ec; }));
    p.server.async_handshake(tlsx::stream_base::server, [](error_code) {});
    run_bounded(io);
    BOOST_TEST(!cec);
    BOOST_TEST(used_allocations > 0u); // the pending transport reads used it
}

BOOST_AUTO_TEST_CASE(secure_default_refuses_an_untrusted_server) {
    net::io_context io;
    pair_t p(io);
    p.client_ctx = tlsx::context(tlsx::context::tls_client); // the stream keeps the old config
    tlsx::context bare(tlsx::context::tls_client);
    tlsx::stream<tlsx::test::pipe> client(std::move(p.client.next_layer()), bare);
    client.set_server_name("localhost"); // a name, so that only the missing trust fails
    auto [cec, sec] = tlsx_test::handshake_both(io, client, p.server);
    BOOST_TEST(cec == tlsx::error::certificate_untrusted);
    BOOST_TEST(sec); // the client's alert or the closed transport
}

BOOST_AUTO_TEST_CASE(wrong_host_name_is_reported) {
    net::io_context io;
    pair_t p(io);
    p.client.set_server_name("not-localhost.example");
    auto [cec, sec] = handshake(io, p);
    BOOST_TEST(cec == tlsx::error::certificate_name_mismatch);
    BOOST_TEST(cec.message().find("host name mismatch") != std::string::npos);
    BOOST_TEST(sec); // the server receives the client's fatal alert
}

BOOST_AUTO_TEST_CASE(garbage_from_the_peer_is_an_error_not_a_hang) {
    net::io_context io;
    pair_t p(io);
    p.server.next_layer().inject("SSH-2.0-OpenSSH_9.2\r\n");
    p.server.next_layer().close_write(); // and then nothing more ever comes... except EOF
    error_code sec = net::error::would_block;
    p.server.async_handshake(tlsx::stream_base::server, [&](error_code ec) { sec = ec; });
    run_bounded(io);
    BOOST_TEST(sec);
    BOOST_TEST(sec != net::error::would_block);
    BOOST_TEST(!sec.message().empty());
}

BOOST_AUTO_TEST_CASE(cancelled_read_leaves_the_stream_usable) {
    net::io_context io;
    pair_t p(io);
    BOOST_REQUIRE(!handshake(io, p).first);
    net::cancellation_signal sig;
    char buf[16];
    error_code rec;
    p.server.async_read_some(
        net::buffer(buf),
        net::bind_cancellation_slot(sig.slot(), [&](error_code ec, std::size_t) { rec = ec; }));
    io.restart();
    io.poll();
    sig.emit(net::cancellation_type::terminal);
    run_bounded(io);
    BOOST_TEST(rec == net::error::operation_aborted);
    std::string data = "after cancel";
    BOOST_TEST(transfer(io, p.client, p.server, data) == data);
}

BOOST_AUTO_TEST_CASE(transport_failure_mid_stream_is_reported) {
    net::io_context io;
    pair_t p(io);
    BOOST_REQUIRE(!handshake(io, p).first);
    p.client.next_layer().fail_after(p.client.next_layer().bytes_written() + 100);
    std::string data = pattern(100000);
    error_code wec;
    net::async_write(p.client, net::buffer(data), [&](error_code ec, std::size_t) { wec = ec; });
    run_bounded(io);
    BOOST_TEST(wec == net::error::connection_reset);
    // A failed write fails later writes too: part of a record may be on the wire.
    error_code wec2;
    net::async_write(p.client, net::buffer(data), [&](error_code ec, std::size_t) { wec2 = ec; });
    run_bounded(io);
    BOOST_TEST(wec2);
}

BOOST_AUTO_TEST_SUITE_END()
