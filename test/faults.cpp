// Every cut and every fault (issue 14, item 3): a whole conversation — handshake, data both ways,
// renegotiation (TLS 1.2), close, then a resumed connection with data and close — is run again
// and again with the transport cut at every byte offset of it on either end (pipe::fail_after),
// and with the Nth transport operation failing (tlsx::test::fail_count) for every N. Each run must
// end in success or a clean error within a bounded number of handler steps, call every handler
// exactly once, and never lose a byte a writer was told was written when the reader saw a clean
// close. A TLS 1.3 conversation (tickets read with the data, a key update the server asks for
// and the client answers inside a read, resumption) runs the same loops.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/run.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx_test::pattern;

namespace {

using tls_stream = tlsx::stream<tlsx::test::pipe>;

/// What one run injects: a cut on one end of one connection, or a failing Nth operation.
struct fault {
    int connection = -1; // 0 or 1: the connection whose end is cut
    int side = 0;        // 0 client, 1 server
    std::size_t cut = 0; // fail_after(cut)
    tlsx::test::fail_count* count = nullptr;
};

/// How a run ended.
struct outcome {
    bool completed = false;         // every step of the conversation succeeded
    bool hung = false;              // operations pending with nothing left to run
    bool step_limit = false;        // ran out of handler steps
    std::size_t written[2][2] = {}; // [connection][side] transport bytes written
    std::size_t steps = 0;
    std::vector<unsigned char> session_bytes; // connection 0's session, saved
    bool resumed = false;                     // connection 1 resumed it
    std::string failure;                      // a broken rule, if any
};

constexpr std::size_t step_limit = 200000;

/// Runs one conversation's operations: every operation is registered, its handler counts its
/// calls; a side whose operation failed closes its transport, as an application closes its
/// socket, so that the peer learns of it. A pending operation with nothing left to run is a hang.
class driver {
public:
    explicit driver(net::io_context& io, outcome& out)
        : io_(io)
        , out_(out) {}

    /// A handler void(error_code) for a new operation of `side`; `then` runs on completion.
    template <class F>
    auto op(int side, F then) {
        std::size_t id = start();
        return [this, id, side, then = std::move(then)](error_code ec) {
            if (done(id, side, ec))
                then(ec);
        };
    }

    /// A handler void(error_code, std::size_t); `eof_ok`: EOF is this operation's expected end.
    template <class F>
    auto op_n(int side, F then, bool eof_ok = false) {
        std::size_t id = start();
        return [this, id, side, eof_ok, then = std::move(then)](error_code ec, std::size_t n) {
            if (done(id, side, eof_ok && ec == net::error::eof ? error_code() : ec))
                then(ec, n);
        };
    }

    /// Run the operations started so far (and those they start) until none is pending.
    /// Returns false if the conversation cannot go on (hang or step limit).
    bool run(tls_stream* ends[2]) {
        while (pending_ > 0) {
            if (++out_.steps > step_limit) {
                out_.step_limit = true;
                fail("the run did not end within the step bound");
                return false;
            }
            if (io_.stopped())
                io_.restart();
            if (io_.poll_one() != 0)
                continue;
            // Nothing ready: a side that saw an error closes its transport, as an application
            // would; if none is left to close, what is pending waits for nothing.
            bool closed_one = false;
            for (int s = 0; s < 2; ++s) {
                if (failed_[s] && !closed_[s]) {
                    closed_[s] = true;
                    ends[s]->next_layer().close();
                    closed_one = true;
                }
            }
            if (!closed_one) {
                out_.hung = true;
                fail("operations are pending and nothing is left to run (a hang)");
                return false;
            }
        }
        return true;
    }

    std::size_t start() {
        calls_.push_back(0);
        ++pending_;
        return calls_.size() - 1;
    }

    bool done(std::size_t id, int side, error_code ec) {
        if (++calls_[id] != 1) {
            fail("a completion handler was called twice");
            return false;
        }
        --pending_;
        if (ec)
            failed_[side] = true;
        return true;
    }

    bool any_failed() const { return failed_[0] || failed_[1]; }

    void fail(std::string why) {
        if (out_.failure.empty())
            out_.failure = std::move(why);
    }

private:
    net::io_context& io_;
    outcome& out_;
    std::vector<int> calls_;
    std::size_t pending_ = 0;
    bool failed_[2] = {};
    bool closed_[2] = {};
};

/// Bytes one direction of one connection carried, as each application saw them.
struct direction {
    std::string sent;             // what the writer wrote
    std::size_t acknowledged = 0; // what its completions reported as written
    std::string received;         // what the reader read
    bool clean_eof = false;       // the reader saw the writer's close_notify

    explicit direction(std::string data)
        : sent(std::move(data)) {}

    void check(driver& d) const {
        if (received.size() > sent.size() || sent.compare(0, received.size(), received) != 0)
            d.fail("the reader read bytes that were not written, or in another order");
        if (clean_eof && received.size() < acknowledged)
            d.fail("bytes the writer was told were written were lost before a clean close");
    }
};

struct conversation_config {
    bool tls13 = false;
    std::size_t client_bytes = 120; // small: every byte is a run, and each run handshakes
    std::size_t server_bytes = 250;
};

/// One connection over a fresh pipe pair: handshake, data both ways, (TLS 1.2, first connection)
/// the server asks to renegotiate and sends more after it, then the client closes (shutdown both)
/// and the server answers the close. Returns whether every step succeeded.
bool connection(net::io_context& io, tlsx_test::context_pair& ctx, const conversation_config& cfg,
                int index, const fault& f, std::optional<tlsx::session>& saved, outcome& out) {
    auto [cp, sp] = tlsx::test::make_pipe(io);
    tls_stream client(std::move(cp), ctx.client);
    tls_stream server(std::move(sp), ctx.server);
    client.set_renegotiation(tlsx::renegotiation_policy::accept);
    error_code ignored;
    client.set_server_name("localhost", ignored);
    if (saved)
        client.set_session(*saved);
    tls_stream* ends[2] = {&client, &server};
    if (f.connection == index)
        ends[f.side]->next_layer().fail_after(f.cut);
    if (f.count) {
        client.next_layer().set_fail_count(f.count);
        server.next_layer().set_fail_count(f.count);
    }
    driver d(io, out);
    auto finish = [&](bool ok) {
        out.written[index][0] = client.next_layer().bytes_written();
        out.written[index][1] = server.next_layer().bytes_written();
        return ok && out.failure.empty();
    };

    // Handshake.
    client.async_handshake(tlsx::stream_base::client, d.op(0, [](error_code) {}));
    server.async_handshake(tlsx::stream_base::server, d.op(1, [](error_code) {}));
    if (!d.run(ends) || d.any_failed())
        return finish(false);

    // Data both ways at once; the client's read takes in TLS 1.3 tickets too.
    direction up(pattern(cfg.client_bytes, 11 + index)),
        down(pattern(cfg.server_bytes, 21 + index));
    up.received.resize(up.sent.size());
    down.received.resize(down.sent.size());
    auto wrote = [](direction& dir) {
        return [&dir](error_code, std::size_t n) { dir.acknowledged += n; };
    };
    auto got = [](direction& dir) {
        return [&dir](error_code, std::size_t n) { dir.received.resize(n); };
    };
    net::async_write(client, net::buffer(up.sent), d.op_n(0, wrote(up)));
    net::async_read(server, net::buffer(up.received), d.op_n(1, got(up)));
    net::async_write(server, net::buffer(down.sent), d.op_n(1, wrote(down)));
    net::async_read(client, net::buffer(down.received), d.op_n(0, got(down)));
    bool ran = d.run(ends);
    up.check(d);
    down.check(d);
    if (!ran || d.any_failed())
        return finish(false);

    if (!cfg.tls13 && index == 0) {
        // Renegotiation asked by the server while the client reads; then more data.
        direction after("after renegotiation");
        after.received.resize(after.sent.size());
        net::async_read(client, net::buffer(after.received), d.op_n(0, got(after)));
        server.async_renegotiate(d.op(1, [&](error_code ec) {
            if (!ec)
                net::async_write(server, net::buffer(after.sent), d.op_n(1, wrote(after)));
        }));
        ran = d.run(ends);
        after.check(d);
        if (!ran || d.any_failed())
            return finish(false);
    }
    if (cfg.tls13 && index == 0) {
        // Key update asked by the server (TLS 1.3's rehandshake) while the client reads; the
        // client answers with its own inside that read; then more data under the new keys.
        direction after("after key update");
        after.received.resize(after.sent.size());
        net::async_read(client, net::buffer(after.received), d.op_n(0, got(after)));
        server.async_key_update(true, d.op(1, [&](error_code ec) {
            if (!ec)
                net::async_write(server, net::buffer(after.sent), d.op_n(1, wrote(after)));
        }));
        ran = d.run(ends);
        after.check(d);
        if (!ran || d.any_failed())
            return finish(false);
        // Both sides moved: the server's keys, and the client's answer to the request.
        if (server.get_engine().key_generation(false) != 1 ||
            client.get_engine().key_generation(true) != 1 ||
            client.get_engine().key_generation(false) != 1)
            d.fail("the key update did not move both sides' keys");
    }

    // Close: the client sends close_notify and waits for the server's; the server reads the
    // client's last bytes to EOF, then answers.
    direction last(pattern(37, 31 + index));
    net::async_write(client, net::buffer(last.sent), d.op_n(0, [&](error_code ec, std::size_t n) {
        last.acknowledged += n;
        if (!ec)
            client.async_shutdown(tlsx::shutdown_type::both, d.op(0, [](error_code) {}));
    }));
    auto buf = std::make_shared<std::vector<char>>(256);
    std::function<void()> read_on = [&, buf] {
        server.async_read_some(net::buffer(*buf),
                               d.op_n(
                                   1,
                                   [&, buf](error_code ec, std::size_t n) {
                                       last.received.append(buf->data(), n);
                                       if (!ec)
                                           return read_on();
                                       if (ec == net::error::eof) {
                                           last.clean_eof = true;
                                           server.async_shutdown(tlsx::shutdown_type::send,
                                                                 d.op(1, [](error_code) {}));
                                       }
                                   },
                                   true));
    };
    read_on();
    ran = d.run(ends);
    last.check(d);
    if (!ran || d.any_failed())
        return finish(false);
    saved = client.get_session();
    if (saved->empty())
        saved.reset();
    else if (index == 0)
        out.session_bytes = saved->to_bytes();
    if (index == 1)
        out.resumed = client.session_reused();
    return finish(true);
}

/// The whole conversation: connection 0, then connection 1 resuming connection 0's session.
/// With `resume`, only connection 1, resuming that saved session (a copy made by from_bytes is
/// offered again, so the cuts of connection 1 need not run connection 0 every time).
outcome conversation(tlsx_test::context_pair& ctx, const conversation_config& cfg,
                     const fault& f = {}, const std::vector<unsigned char>* resume = nullptr) {
    outcome out;
    net::io_context io;
    std::optional<tlsx::session> saved;
    if (resume) {
        saved = tlsx::session::from_bytes(*resume);
        out.completed = connection(io, ctx, cfg, 1, f, saved, out);
        return out;
    }
    bool first = connection(io, ctx, cfg, 0, f, saved, out);
    if (!out.failure.empty())
        return out;
    if (!first)
        saved.reset();
    out.completed = connection(io, ctx, cfg, 1, f, saved, out) && first;
    return out;
}

struct contexts : tlsx_test::context_pair {
    explicit contexts(bool tls13) {
        server.enable_session_tickets();
        if (!tls13)
            backend::tls12_only(client);
    }
};

struct counts {
    std::size_t runs = 0, completed = 0;
};

/// Cut every byte offset of both ends of both connections.
counts cut_everywhere(bool tls13) {
    contexts ctx(tls13);
    conversation_config cfg;
    cfg.tls13 = tls13;
    outcome reference = conversation(ctx, cfg);
    BOOST_TEST_REQUIRE(reference.completed, reference.failure);
    BOOST_TEST_REQUIRE(reference.resumed, "the second connection resumes the first's session");
    BOOST_TEST_MESSAGE("faults: conversation bytes: connection 0 client "
                       << reference.written[0][0] << ", server " << reference.written[0][1]
                       << "; connection 1 client " << reference.written[1][0] << ", server "
                       << reference.written[1][1]);
    counts c;
    for (int conn = 0; conn < 2; ++conn) {
        for (int side = 0; side < 2; ++side) {
            std::size_t total = reference.written[conn][side];
            BOOST_TEST_REQUIRE(total > 0u);
            for (std::size_t cut = 0; cut < total; ++cut) {
                fault f;
                f.connection = conn;
                f.side = side;
                f.cut = cut;
                outcome o =
                    conversation(ctx, cfg, f, conn == 1 ? &reference.session_bytes : nullptr);
                ++c.runs;
                c.completed += o.completed;
                if (!o.failure.empty())
                    BOOST_ERROR("connection " << conn << (side ? " server" : " client")
                                              << " cut after " << cut << " bytes: " << o.failure);
                if (!o.failure.empty())
                    return c;
            }
        }
    }
    return c;
}

/// Fail the Nth transport operation, for every N until a run no longer reaches it.
counts fail_every_operation(bool tls13, error_code ec) {
    contexts ctx(tls13);
    conversation_config cfg;
    cfg.tls13 = tls13;
    counts c;
    for (std::size_t n = 0;; ++n) {
        tlsx::test::fail_count fc(n, ec);
        fault f;
        f.count = &fc;
        outcome o = conversation(ctx, cfg, f);
        ++c.runs;
        if (!o.failure.empty()) {
            BOOST_ERROR("operation " << n << " failed with " << ec.message() << ": " << o.failure);
            return c;
        }
        if (!fc.tripped()) {
            BOOST_TEST(o.completed, "a run without a fault completes");
            return c;
        }
        // A run whose fault came last may still complete (the failed operation was a read
        // after the end); every other one must have ended in an error.
        c.completed += o.completed;
        BOOST_TEST_REQUIRE(n < 100000u);
    }
}

} // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(fail_count_fails_the_nth_operation_and_every_later_one) {
    net::io_context io;
    auto [a, b] = tlsx::test::make_pipe(io);
    tlsx::test::fail_count fc(2, net::error::broken_pipe);
    a.set_fail_count(&fc);
    b.set_fail_count(&fc);
    error_code ec;
    char c = 'x';
    BOOST_TEST(a.write_some(net::buffer(&c, 1), ec) == 1u); // operation 0: sync write
    BOOST_TEST(!ec);
    std::size_t got = 99;
    error_code rec;
    b.async_read_some(net::buffer(&c, 1), [&](error_code e, std::size_t n) { rec = e, got = n; });
    io.run(); // operation 1: async read
    BOOST_TEST(!rec);
    BOOST_TEST(got == 1u);
    BOOST_TEST(!fc.tripped());
    BOOST_TEST(a.write_some(net::buffer(&c, 1), ec) == 0u); // operation 2 fails, moves nothing
    BOOST_TEST(ec == net::error::broken_pipe);
    BOOST_TEST(b.available() == 0u);
    BOOST_TEST(fc.tripped());
    error_code wec;
    a.async_write_some(net::buffer(&c, 1), [&](error_code e, std::size_t n) { wec = e, got = n; });
    io.restart();
    io.run(); // and every later one, async too
    BOOST_TEST(wec == net::error::broken_pipe);
    BOOST_TEST(got == 0u);
    BOOST_TEST(b.read_some(net::buffer(&c, 1), ec) == 0u);
    BOOST_TEST(ec == net::error::broken_pipe);
    BOOST_TEST(fc.count() == 2u);
}

BOOST_AUTO_TEST_CASE(tls12_conversation_survives_a_cut_at_every_byte) {
    counts c = cut_everywhere(false);
    BOOST_TEST_MESSAGE("faults: TLS 1.2 cut runs " << c.runs << ", completed " << c.completed);
    BOOST_TEST(c.runs > 1000u);
}

BOOST_AUTO_TEST_CASE(tls12_conversation_survives_every_failed_operation) {
    for (error_code ec : {error_code(net::error::connection_reset), error_code(net::error::eof)}) {
        counts c = fail_every_operation(false, ec);
        BOOST_TEST_MESSAGE("faults: TLS 1.2 fail_count runs (" << ec.message() << ") " << c.runs);
        BOOST_TEST(c.runs > 20u);
    }
}

BOOST_AUTO_TEST_CASE(tls13_conversation_survives_a_cut_at_every_byte,
                     *boost::unit_test::precondition(backend::needs_tls13{
                         "a TLS 1.3 conversation"})) {
    counts c = cut_everywhere(true);
    BOOST_TEST_MESSAGE("faults: TLS 1.3 cut runs " << c.runs << ", completed " << c.completed);
    BOOST_TEST(c.runs > 1000u);
}

BOOST_AUTO_TEST_CASE(tls13_conversation_survives_every_failed_operation,
                     *boost::unit_test::precondition(backend::needs_tls13{
                         "a TLS 1.3 conversation"})) {
    for (error_code ec : {error_code(net::error::connection_reset), error_code(net::error::eof)}) {
        counts c = fail_every_operation(true, ec);
        BOOST_TEST_MESSAGE("faults: TLS 1.3 fail_count runs (" << ec.message() << ") " << c.runs);
        BOOST_TEST(c.runs > 20u);
    }
}

BOOST_AUTO_TEST_SUITE_END()
