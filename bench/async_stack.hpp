//
// tlsx benchmarks — the workloads of an Asio TLS stream, written once for tlsx::stream and
// boost::asio::ssl::stream. Both run over the same transports (tlsx::test::pipe in memory,
// tcp::socket over loopback) with the same completion handlers, so the only difference
// measured is the TLS stream itself.
//
// Traits supply what differs between the two (see tlsx_stack.cpp, asio_ssl_stack.cpp):
//   mem_stream, tcp_stream              the stream types over a pipe and over a socket
//   client, server                      the handshake types
//   version                             the protocol version (tls::v1_2 or tls::v1_3)
//   unsupported_because(how)            why a kind of resumption is not measured (null: it is)
//   make_client/make_server(pipe, how)  a stream over one end of a pipe
//   make_tcp(io, role)                  a stream over a fresh socket
//   prepare_client(s, how)              SNI, host name, the session to resume
//   after_handshake(s, how)             remember the session to resume (in TLS 1.3 with tickets,
//                                       called after the client's first read)
//   resumed(s)                          whether the last handshake resumed
//   forget(s)                           before a handshaken stream is destroyed unclosed
//   suite_name(s)                       the negotiated suite, IANA name
//
#ifndef TLSX_BENCH_ASYNC_STACK_HPP
#define TLSX_BENCH_ASYNC_STACK_HPP

#include "bench.hpp"

#include <tlsx/test.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace bench {

namespace net = boost::asio;
using error_code = boost::system::error_code;

/// Writes `bytes` as consecutive async_write calls of (at most) src.size() bytes each.
template <class Stream>
struct bulk_writer {
    bulk_writer(Stream& stream, const std::vector<unsigned char>& data)
        : s(stream)
        , src(data) {}

    Stream& s;
    const std::vector<unsigned char>& src;
    std::uint64_t left = 0;
    std::uint64_t writes = 0;
    error_code failure;

    void start(std::uint64_t bytes) {
        left = bytes;
        writes = 0;
        if (left != 0)
            step();
    }

    void step() {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(src.size(), left));
        net::async_write(s, net::buffer(src.data(), n), [this](error_code ec, std::size_t k) {
            if (ec) {
                failure = ec;
                return;
            }
            left -= k;
            ++writes;
            if (left != 0)
                step();
        });
    }
};

/// Reads `bytes` with async_read_some into a 16 KiB buffer; optionally checks them against
/// the writer's pattern (the stream is src repeated, every write but the last being full).
template <class Stream>
struct bulk_reader {
    bulk_reader(Stream& stream, const std::vector<unsigned char>& data)
        : s(stream)
        , src(data) {}

    Stream& s;
    const std::vector<unsigned char>& src;
    std::vector<unsigned char> buf = std::vector<unsigned char>(16384);
    std::uint64_t want = 0;
    std::uint64_t got = 0;
    bool verify = false;
    bool corrupt = false;
    error_code failure;

    void start(std::uint64_t bytes, bool check_data) {
        want = bytes;
        got = 0;
        verify = check_data;
        if (want != 0)
            step();
    }

    void step() {
        s.async_read_some(net::buffer(buf), [this](error_code ec, std::size_t n) {
            if (ec) {
                failure = ec;
                return;
            }
            if (verify)
                compare(n);
            got += n;
            if (got < want)
                step();
        });
    }

    void compare(std::size_t n) {
        std::size_t off = 0;
        std::size_t pos = static_cast<std::size_t>(got % src.size());
        while (off < n) {
            std::size_t k = std::min(n - off, src.size() - pos);
            if (std::memcmp(buf.data() + off, src.data() + pos, k) != 0)
                corrupt = true;
            off += k;
            pos = 0;
        }
    }

    void expect_done(const char* what) const {
        if (failure)
            throw std::runtime_error(std::string(what) + ": " + failure.message());
        check(got == want, what);
        check(!corrupt, "received data differs from what was sent");
    }
};

/// Ping-pong: the client writes `size` bytes and then reads the echo; the server reads
/// exactly `size` bytes and writes them back. Sequential on both sides.
template <class Stream>
struct pingpong_driver {
    Stream& client;
    Stream& server;
    std::vector<unsigned char> out, cin, sin;
    std::size_t client_left = 0;
    std::size_t server_left = 0;
    error_code failure;

    pingpong_driver(Stream& c, Stream& s, std::size_t size)
        : client(c)
        , server(s)
        , out(pattern(size))
        , cin(size)
        , sin(size) {}

    void run(net::io_context& io, std::size_t rounds) {
        client_left = server_left = rounds;
        if (rounds == 0)
            return;
        server_read();
        client_write();
        io.restart();
        io.run();
        if (failure)
            throw std::runtime_error("ping-pong: " + failure.message());
        check(client_left == 0 && server_left == 0, "ping-pong stopped early");
        check(cin == out, "ping-pong: the echo differs");
    }

    void client_write() {
        net::async_write(client, net::buffer(out), [this](error_code ec, std::size_t) {
            if (ec)
                return void(failure = ec);
            client_read();
        });
    }
    void client_read() {
        net::async_read(client, net::buffer(cin), [this](error_code ec, std::size_t) {
            if (ec)
                return void(failure = ec);
            if (--client_left != 0)
                client_write();
        });
    }
    void server_read() {
        net::async_read(server, net::buffer(sin), [this](error_code ec, std::size_t) {
            if (ec)
                return void(failure = ec);
            server_write();
        });
    }
    void server_write() {
        net::async_write(server, net::buffer(sin), [this](error_code ec, std::size_t) {
            if (ec)
                return void(failure = ec);
            if (--server_left != 0)
                server_read();
        });
    }
};

/// Both handshakes on one io_context (in memory), or each end's on its own thread's.
template <class Traits, class Stream>
void handshake_both(net::io_context& io, Stream& c, Stream& s) {
    error_code cec = net::error::would_block;
    error_code sec = net::error::would_block;
    c.async_handshake(Traits::client, [&](error_code ec) { cec = ec; });
    s.async_handshake(Traits::server, [&](error_code ec) { sec = ec; });
    io.restart();
    io.run();
    if (cec || sec)
        throw std::runtime_error(std::string(Traits::name) + " handshake failed: client " +
                                 cec.message() + ", server " + sec.message());
}

template <class Traits, class Stream>
void handshake_one(net::io_context& io, Stream& s, typename Traits::handshake_type type) {
    error_code result = net::error::would_block;
    s.async_handshake(type, [&](error_code ec) { result = ec; });
    io.restart();
    io.run();
    if (result)
        throw std::runtime_error(std::string(Traits::name) +
                                 " handshake failed: " + result.message());
}

template <class Traits>
class async_stack final : public stack {
public:
    using mem_stream = typename Traits::mem_stream;
    using tcp_stream = typename Traits::tcp_stream;

    async_stack(const credentials& c, suite s, tls v)
        : traits_(c, s, v)
        , suite_(s) {}

    bulk_result bulk_memory(std::uint64_t total, std::size_t chunk, std::uint64_t warmup) override {
        mem_pair p(traits_, io_, resumption::none);
        establish(p, resumption::none);
        auto src = pattern(chunk);
        bulk_writer<mem_stream> w(p.client, src);
        bulk_reader<mem_stream> r(p.server, src);
        auto phase = [&](std::uint64_t bytes, bool verify) {
            w.start(bytes);
            r.start(bytes, verify);
            io_.restart();
            io_.run();
            if (w.failure)
                throw std::runtime_error("bulk write: " + w.failure.message());
            r.expect_done("bulk read");
        };
        phase(warmup, true);
        bulk_result res;
        res.stats = measure([&] { phase(total, false); });
        res.bytes = total;
        res.records = w.writes;
        return res;
    }

    bulk_result bulk_tcp(std::uint64_t total, std::size_t chunk, std::uint64_t warmup) override {
        using clock = std::chrono::steady_clock;
        net::io_context cio, sio;
        net::ip::tcp::acceptor acceptor(sio, {net::ip::address_v4::loopback(), 0});
        tcp_stream client = traits_.make_tcp(cio, Traits::client);
        tcp_stream server = traits_.make_tcp(sio, Traits::server);
        client.next_layer().connect(acceptor.local_endpoint());
        acceptor.accept(server.next_layer());
        client.next_layer().set_option(net::ip::tcp::no_delay(true));
        server.next_layer().set_option(net::ip::tcp::no_delay(true));
        traits_.prepare_client(client, resumption::none);

        auto src = pattern(chunk);
        gate server_ready, client_ready, go;
        clock::time_point end;
        std::exception_ptr server_error, client_error;
        std::thread server_thread([&] {
            try {
                handshake_one<Traits>(sio, server, Traits::server);
                bulk_reader<tcp_stream> r(server, src);
                r.start(warmup, true);
                sio.restart();
                sio.run();
                r.expect_done("bulk read (tcp)");
                server_ready.open();
                go.wait();
                r.start(total, false);
                sio.restart();
                sio.run();
                end = clock::now();
                r.expect_done("bulk read (tcp)");
            } catch (...) {
                server_error = std::current_exception();
                server_ready.open();
            }
        });
        std::thread client_thread([&] {
            try {
                handshake_one<Traits>(cio, client, Traits::client);
                bulk_writer<tcp_stream> w(client, src);
                w.start(warmup);
                cio.restart();
                cio.run();
                client_ready.open();
                go.wait();
                w.start(total);
                cio.restart();
                cio.run();
                if (w.failure)
                    throw std::runtime_error("bulk write (tcp): " + w.failure.message());
            } catch (...) {
                client_error = std::current_exception();
                client_ready.open();
            }
        });
        server_ready.wait();
        client_ready.wait();
        auto start = clock::now();
        go.open();
        client_thread.join();
        server_thread.join();
        if (server_error)
            std::rethrow_exception(server_error);
        if (client_error)
            std::rethrow_exception(client_error);
        bulk_result res;
        res.stats.seconds = std::chrono::duration<double>(end - start).count();
        res.bytes = total;
        res.records = (total + chunk - 1) / chunk;
        return res;
    }

    pingpong_result pingpong(std::size_t rounds, std::size_t size, std::size_t warmup) override {
        mem_pair p(traits_, io_, resumption::none);
        establish(p, resumption::none);
        pingpong_driver<mem_stream> d(p.client, p.server, size);
        d.run(io_, warmup);
        pingpong_result res;
        res.stats = measure([&] { d.run(io_, rounds); });
        res.rounds = rounds;
        return res;
    }

    handshake_result handshakes(std::size_t count, resumption how) override {
        if (const char* why = traits_.unsupported_because(how))
            throw unsupported(why);
        // Two outside the region: the first is full and leaves the session to resume.
        one_handshake(how, false);
        one_handshake(how, how != resumption::none);
        std::size_t resumed = 0;
        handshake_result res;
        res.stats = measure([&] {
            for (std::size_t i = 0; i < count; ++i)
                resumed += one_handshake(how, false) ? 1 : 0;
        });
        check(resumed == (how == resumption::none ? 0 : count),
              "a handshake did not resume (or one resumed that should not)");
        res.count = count;
        return res;
    }

    void hold_idle_pairs(std::size_t pairs, const std::function<void()>& while_held) override {
        std::vector<std::unique_ptr<mem_pair>> held;
        held.reserve(pairs);
        for (std::size_t i = 0; i < pairs; ++i) {
            held.push_back(std::make_unique<mem_pair>(traits_, io_, resumption::none));
            establish(*held.back(), resumption::none);
        }
        while_held();
    }

private:
    struct mem_pair {
        mem_stream client;
        mem_stream server;

        mem_pair(Traits& t, net::io_context& io, resumption how)
            : mem_pair(t, tlsx::test::make_pipe(io), how) {}

        mem_pair(Traits& t, std::pair<tlsx::test::pipe, tlsx::test::pipe> ends, resumption how)
            : client(t.make_client(std::move(ends.first), how))
            , server(t.make_server(std::move(ends.second), how)) {}
    };

    /// Handshake a fresh pair and check the suite; returns whether the session was resumed.
    bool establish(mem_pair& p, resumption how) {
        traits_.prepare_client(p.client, how);
        handshake_both<Traits>(io_, p.client, p.server);
        if (traits_.version == tls::v1_3 && how == resumption::ticket)
            take_ticket(p);
        traits_.after_handshake(p.client, how);
        if (!suite_checked_) {
            check(traits_.suite_name(p.client) == iana_name(suite_, traits_.version),
                  "the negotiated suite is not the one under test");
            suite_checked_ = true;
        }
        return traits_.resumed(p.client);
    }

    /// TLS 1.3: the ticket follows the handshake. The server sends one byte behind it and the
    /// client reads that byte, taking the ticket in on the way (as the raw mbedtls stack does).
    void take_ticket(mem_pair& p) {
        unsigned char out = 1, in = 0;
        error_code wec = net::error::would_block, rec = net::error::would_block;
        net::async_write(p.server, net::buffer(&out, 1),
                         [&](error_code ec, std::size_t) { wec = ec; });
        net::async_read(p.client, net::buffer(&in, 1),
                        [&](error_code ec, std::size_t) { rec = ec; });
        io_.restart();
        io_.run();
        if (wec || rec)
            throw std::runtime_error(std::string(Traits::name) + " ticket read failed: write " +
                                     wec.message() + ", read " + rec.message());
        check(in == out, "the byte after the ticket differs");
    }

    bool one_handshake(resumption how, bool must_resume) {
        mem_pair p(traits_, io_, how);
        bool resumed = establish(p, how);
        traits_.forget(p.client);
        traits_.forget(p.server);
        if (must_resume)
            check(resumed, "the second handshake did not resume");
        return resumed;
    }

    Traits traits_;
    suite suite_;
    bool suite_checked_ = false;
    net::io_context io_;
};

} // namespace bench

#endif
