// Renegotiation as the GnuTLS seeds describe it: a server asks (gnutls_rehandshake) and a client
// accepts, refuses or ignores; a client asks and the server's policy answers; reads report a
// request under the ask policy (GNUTLS_E_REHANDSHAKE); no application data is lost or reordered.
#include <tlsx/stream.hpp>

#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/duplex.hpp"
#include "support/run.hpp"

#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <thread>

namespace net = boost::asio;
using tlsx::error_code;
using tlsx::renegotiation_policy;
using tlsx_test::duplex_peer;
using tlsx_test::pattern;
using tlsx_test::run_bounded;

namespace {

/// A tls_pair whose sessions are TLS 1.2, the version with renegotiation (3.x would pick 1.3).
struct pair_t : tlsx::test::tls_pair {
    explicit pair_t(net::io_context& io)
        : tls_pair(io) {
        backend::tls12_only(client_ctx);
    }
};

/// The same for the context pairs of the tests over their own transports.
struct tls12_context_pair : tlsx_test::context_pair {
    tls12_context_pair() { backend::tls12_only(client); }
};

void handshake(net::io_context& io, pair_t& p) {
    auto [cec, sec] = tlsx_test::handshake_both(io, p.client, p.server);
    BOOST_REQUIRE_MESSAGE(!cec, cec.message());
    BOOST_REQUIRE_MESSAGE(!sec, sec.message());
}

/// Sends `data` one way and checks it arrives whole.
void check_transfer(net::io_context& io, tlsx::stream<tlsx::test::pipe>& from,
                    tlsx::stream<tlsx::test::pipe>& to, const std::string& data) {
    std::string got(data.size(), '\0');
    error_code wec = net::error::would_block, rec = net::error::would_block;
    net::async_write(from, net::buffer(data), [&](error_code ec, std::size_t) { wec = ec; });
    net::async_read(to, net::buffer(got), [&](error_code ec, std::size_t) { rec = ec; });
    run_bounded(io);
    BOOST_TEST(!wec);
    BOOST_TEST(!rec);
    BOOST_TEST(got == data);
}

} // namespace

BOOST_AUTO_TEST_SUITE(renegotiation)

BOOST_AUTO_TEST_CASE(server_asks_and_an_accepting_client_renegotiates_invisibly) {
    net::io_context io;
    pair_t p(io);
    p.client.set_renegotiation(renegotiation_policy::accept);
    handshake(io, p);
    error_code sec = net::error::would_block, rec = net::error::would_block;
    char buf[64];
    std::size_t n = 0;
    p.client.async_read_some(net::buffer(buf),
                             [&](error_code ec, std::size_t k) { rec = ec, n = k; });
    p.server.async_renegotiate([&](error_code ec) {
        sec = ec;
        // After the new handshake the pending client read gets this, as if nothing happened.
        net::async_write(p.server, net::buffer("after", 5), [](error_code, std::size_t) {});
    });
    run_bounded(io);
    BOOST_TEST(!sec, sec.message());
    BOOST_TEST(!rec, rec.message());
    BOOST_TEST(std::string(buf, n) == "after");
    check_transfer(io, p.client, p.server, pattern(50000, 1));
}

BOOST_AUTO_TEST_CASE(client_refuses_by_default_and_the_connection_goes_on) {
    net::io_context io;
    pair_t p(io);
    handshake(io, p);
    error_code sec = net::error::would_block;
    char buf[64];
    error_code rec = net::error::would_block;
    std::size_t n = 0;
    p.client.async_read_some(net::buffer(buf),
                             [&](error_code ec, std::size_t k) { rec = ec, n = k; });
    p.server.async_renegotiate([&](error_code ec) {
        sec = ec;
        net::async_write(p.server, net::buffer("still here", 10), [](error_code, std::size_t) {});
    });
    run_bounded(io);
    BOOST_TEST(sec == tlsx::error::renegotiation_refused);
    BOOST_TEST(!rec); // the refusal is invisible to the client's read
    BOOST_TEST(std::string(buf, n) == "still here");
    check_transfer(io, p.client, p.server, pattern(30000, 2));
    check_transfer(io, p.server, p.client, pattern(30000, 3));
}

BOOST_AUTO_TEST_CASE(client_ask_reports_the_request_then_handshake_accepts) {
    net::io_context io;
    pair_t p(io);
    p.client.set_renegotiation(renegotiation_policy::ask);
    handshake(io, p);
    // Not a structured binding: clang 14 (the tsan phase) cannot capture one in a lambda.
    error_code sec0, rec;
    error_code sec = net::error::would_block;
    char buf[64];
    rec = net::error::would_block;
    p.client.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) {
        rec = ec;
        if (ec == tlsx::error::renegotiation_requested)
            p.client.async_handshake(tlsx::stream_base::client,
                                     [&](error_code ec2) { sec0 = ec2; });
    });
    p.server.async_renegotiate([&](error_code ec) { sec = ec; });
    run_bounded(io);
    BOOST_TEST(rec == tlsx::error::renegotiation_requested);
    BOOST_TEST(!sec0, sec0.message());
    BOOST_TEST(!sec, sec.message());
    check_transfer(io, p.server, p.client, pattern(20000, 4));
}

BOOST_AUTO_TEST_CASE(client_ask_then_reading_on_refuses) {
    net::io_context io;
    pair_t p(io);
    p.client.set_renegotiation(renegotiation_policy::ask);
    handshake(io, p);
    error_code sec = net::error::would_block, rec1 = net::error::would_block,
               rec2 = net::error::would_block;
    char buf[64];
    std::size_t n = 0;
    p.client.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) {
        rec1 = ec;
        p.client.async_read_some(net::buffer(buf),
                                 [&](error_code ec2, std::size_t k) { rec2 = ec2, n = k; });
    });
    p.server.async_renegotiate([&](error_code ec) {
        sec = ec;
        net::async_write(p.server, net::buffer("data", 4), [](error_code, std::size_t) {});
    });
    run_bounded(io);
    BOOST_TEST(rec1 == tlsx::error::renegotiation_requested);
    BOOST_TEST(sec == tlsx::error::renegotiation_refused);
    BOOST_TEST(!rec2);
    BOOST_TEST(std::string(buf, n) == "data");
}

// gnutls_rehandshake: "some application data might have been sent during peer's processing of
// this message ... Care must be taken ... to terminate if it does not start after some
// threshold." A client that ignores the request but keeps sending: the server gives up after
// the enforcement limit, and every byte sent meanwhile is still delivered.
BOOST_AUTO_TEST_CASE(client_that_ignores_the_request_hits_the_enforcement_limit) {
    net::io_context io;
    pair_t p(io);
    p.server_ctx.set_renegotiation_enforcement(2);
    handshake(io, p);
    // The client never reads (so never sees HelloRequest) but writes five records.
    error_code sec = net::error::would_block;
    p.server.async_renegotiate([&](error_code ec) { sec = ec; });
    io.restart();
    io.poll();
    std::string sent;
    for (int i = 0; i < 5; ++i) {
        std::string msg = "record " + std::to_string(i) + ";";
        sent += msg;
        net::write(p.client, net::buffer(msg));
    }
    run_bounded(io);
    BOOST_TEST(sec == tlsx::error::renegotiation_ignored);
    std::string got(sent.size(), '\0');
    error_code rec = net::error::would_block;
    net::async_read(p.server, net::buffer(got), [&](error_code ec, std::size_t) { rec = ec; });
    run_bounded(io);
    BOOST_TEST(!rec);
    BOOST_TEST(got == sent); // nothing dropped
}

BOOST_AUTO_TEST_CASE(data_sent_before_the_client_answers_is_kept_for_the_next_read) {
    net::io_context io;
    pair_t p(io);
    p.client.set_renegotiation(renegotiation_policy::accept);
    handshake(io, p);
    // The client's data is in flight when the server asks; the server has no read pending.
    net::write(p.client, net::buffer("early data", 10));
    error_code sec = net::error::would_block;
    p.server.async_renegotiate([&](error_code ec) {
        sec = ec;
        net::async_write(p.server, net::buffer("ok", 2), [](error_code, std::size_t) {});
    });
    char cbuf[16];
    p.client.async_read_some(net::buffer(cbuf), [](error_code, std::size_t) {});
    BOOST_TEST(run_bounded(io)); // nothing left waiting
    BOOST_TEST(!sec, sec.message());
    std::string got(10, '\0');
    error_code rec = net::error::would_block;
    net::async_read(p.server, net::buffer(got), [&](error_code ec, std::size_t) { rec = ec; });
    run_bounded(io);
    BOOST_TEST(!rec);
    BOOST_TEST(got == "early data");
}

BOOST_AUTO_TEST_CASE(client_asks_and_each_server_policy_answers) {
    for (auto policy :
         {renegotiation_policy::accept, renegotiation_policy::refuse, renegotiation_policy::ask}) {
        net::io_context io;
        pair_t p(io);
        p.server.set_renegotiation(policy);
        handshake(io, p);
        error_code cec = net::error::would_block, rec = net::error::would_block,
                   hec = net::error::would_block;
        char buf[64];
        p.server.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) {
            rec = ec;
            if (ec == tlsx::error::renegotiation_requested)
                p.server.async_handshake(tlsx::stream_base::server,
                                         [&](error_code ec2) { hec = ec2; });
        });
        p.client.async_renegotiate([&](error_code ec) {
            cec = ec;
            net::async_write(p.client, net::buffer("x", 1), [](error_code, std::size_t) {});
        });
        run_bounded(io);
        if (policy == renegotiation_policy::refuse) {
            BOOST_TEST(cec == tlsx::error::renegotiation_refused);
            BOOST_TEST(!rec); // the server's read just got "x"
        } else if (policy == renegotiation_policy::accept) {
            BOOST_TEST(!cec, cec.message());
            BOOST_TEST(!rec);
        } else {
            BOOST_TEST(rec == tlsx::error::renegotiation_requested);
            BOOST_TEST(!hec, hec.message());
            BOOST_TEST(!cec, cec.message());
            check_transfer(io, p.client, p.server, ""); // nothing lost: the "x" is next
            char x = 0;
            error_code xec = net::error::would_block;
            net::async_read(p.server, net::buffer(&x, 1),
                            [&](error_code ec, std::size_t) { xec = ec; });
            run_bounded(io);
            BOOST_TEST(!xec);
            BOOST_TEST(x == 'x');
        }
        check_transfer(io, p.client, p.server, pattern(20000, 5));
        check_transfer(io, p.server, p.client, pattern(20000, 6));
    }
}

// A client asking again and again cannot pin the server's CPU with full handshakes: after three
// renegotiations on one connection, further requests are refused (the connection goes on).
BOOST_AUTO_TEST_CASE(a_server_accepts_at_most_three_client_renegotiations_per_connection) {
    net::io_context io;
    pair_t p(io);
    p.server.set_renegotiation(renegotiation_policy::accept);
    handshake(io, p);
    std::vector<error_code> results;
    char buf[64];
    std::function<void()> read_loop = [&] {
        p.server.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) {
            if (!ec)
                read_loop();
        });
    };
    read_loop();
    std::function<void(int)> ask = [&](int left) {
        p.client.async_renegotiate([&, left](error_code ec) {
            results.push_back(ec);
            if (left > 1)
                ask(left - 1);
            else
                p.server.next_layer().close(); // ends the server's read loop
        });
    };
    ask(5);
    run_bounded(io);
    BOOST_REQUIRE(results.size() == 5u);
    BOOST_TEST(!results[0]);
    BOOST_TEST(!results[1]);
    BOOST_TEST(!results[2]);
    BOOST_TEST(results[3] == tlsx::error::renegotiation_refused);
    BOOST_TEST(results[4] == tlsx::error::renegotiation_refused);
}

// The bound holds under ask too: after three renegotiations the app accepted, the fourth request
// is refused without asking (the app is not asked to say no to a flood).
BOOST_AUTO_TEST_CASE(the_bound_also_applies_when_the_application_accepts) {
    net::io_context io;
    pair_t p(io);
    p.server.set_renegotiation(renegotiation_policy::ask);
    handshake(io, p);
    int asked = 0;
    std::vector<error_code> results;
    char buf[64];
    std::function<void()> read_loop = [&] {
        p.server.async_read_some(net::buffer(buf), [&](error_code ec, std::size_t) {
            if (ec == tlsx::error::renegotiation_requested) {
                ++asked;
                p.server.async_handshake(tlsx::stream_base::server,
                                         [&](error_code) { read_loop(); });
            } else if (!ec) {
                read_loop();
            }
        });
    };
    read_loop();
    std::function<void(int)> ask = [&](int left) {
        p.client.async_renegotiate([&, left](error_code ec) {
            results.push_back(ec);
            if (left > 1)
                ask(left - 1);
            else
                p.server.next_layer().close();
        });
    };
    ask(4);
    run_bounded(io);
    BOOST_REQUIRE(results.size() == 4u);
    BOOST_TEST(asked == 3);
    BOOST_TEST(!results[0]);
    BOOST_TEST(!results[2]);
    BOOST_TEST(results[3] == tlsx::error::renegotiation_refused);
}

BOOST_AUTO_TEST_CASE(full_duplex_traffic_survives_renegotiation_single_thread) {
    for (bool server_asks : {true, false}) {
        BOOST_TEST_CONTEXT("server_asks " << server_asks) {
            net::io_context io;
            pair_t p(io);
            p.client.set_renegotiation(renegotiation_policy::accept);
            p.server.set_renegotiation(renegotiation_policy::accept);
            p.client.next_layer().set_write_size(3000);
            handshake(io, p);
            std::string up = pattern(1500000, 7), down = pattern(1200000, 8);
            duplex_peer c{p.client, up, down.size(), io.get_executor()};
            duplex_peer s{p.server, down, up.size(), io.get_executor()};
            c.start();
            s.start();
            error_code rec = net::error::would_block;
            io.restart();
            for (int i = 0; i < 20; ++i)
                io.run_one(); // let traffic flow first
            auto& asker = server_asks ? p.server : p.client;
            asker.async_renegotiate([&](error_code ec) { rec = ec; });
            BOOST_TEST(run_bounded(io));
            BOOST_TEST(!rec, rec.message());
            BOOST_TEST(s.received == up.size());
            BOOST_TEST(c.received == down.size());
            BOOST_TEST(s.sum == tlsx_test::checksum(up.data(), up.size()));
            BOOST_TEST(c.sum == tlsx_test::checksum(down.data(), down.size()));
            BOOST_TEST(!c.read_ec);
            BOOST_TEST(!s.read_ec);
            BOOST_TEST(!c.write_ec);
            BOOST_TEST(!s.write_ec);
        }
    }
}

BOOST_AUTO_TEST_CASE(full_duplex_traffic_survives_renegotiation_two_threads_with_strands) {
    net::io_context io;
    auto cstrand = net::make_strand(io), sstrand = net::make_strand(io);
    tls12_context_pair ctx;
    ctx.client.set_renegotiation(renegotiation_policy::accept);
    ctx.server.set_renegotiation_enforcement(-1); // megabytes are in flight when it asks
    auto [cp, sp] = tlsx::test::make_pipe(net::any_io_executor(io.get_executor()));
    tlsx_test::tls_stream client(tlsx::test::pipe(std::move(cp)), ctx.client);
    tlsx_test::tls_stream server(tlsx::test::pipe(std::move(sp)), ctx.server);
    client.set_server_name("localhost");
    // A client only answers a HelloRequest while it reads (as with GnuTLS). So that the race of
    // threads cannot end its reading before the renegotiation ends, the server sends one more
    // byte once both its data and the renegotiation are done, and the client reads up to it.
    std::string up = pattern(1000000, 9), down = pattern(1000000, 10);
    const std::string trailer = "!";
    duplex_peer c{client, up, down.size() + trailer.size(), cstrand};
    duplex_peer s{server, down, up.size(), sstrand};
    error_code rec = net::error::would_block, tec = net::error::would_block;
    bool renegotiated = false;
    auto send_trailer = [&] { // on sstrand
        if (renegotiated && s.write_done)
            net::async_write(
                server, net::buffer(trailer),
                net::bind_executor(sstrand, [&](error_code ec, std::size_t) { tec = ec; }));
    };
    s.on_written = send_trailer;
    net::dispatch(cstrand, [&] {
        client.async_handshake(tlsx::stream_base::client,
                               net::bind_executor(cstrand, [&](error_code) { c.start(); }));
    });
    net::dispatch(sstrand, [&] {
        server.async_handshake(
            tlsx::stream_base::server, net::bind_executor(sstrand, [&](error_code) {
                s.start();
                server.async_renegotiate(net::bind_executor(sstrand, [&](error_code ec) {
                    rec = ec;
                    renegotiated = true;
                    send_trailer();
                }));
            }));
    });
    std::thread t([&] { io.run_for(std::chrono::seconds(60)); });
    io.run_for(std::chrono::seconds(60));
    t.join();
    BOOST_TEST(!rec, rec.message());
    BOOST_TEST(!tec, tec.message());
    BOOST_TEST(s.received == up.size());
    BOOST_TEST(c.received == down.size() + trailer.size());
    BOOST_TEST(s.sum == tlsx_test::checksum(up.data(), up.size()));
    BOOST_TEST(c.sum == tlsx_test::checksum(trailer.data(), trailer.size(),
                                            tlsx_test::checksum(down.data(), down.size())));
}

BOOST_AUTO_TEST_CASE(sync_renegotiate_over_tcp_on_two_threads) {
    net::io_context io;
    tls12_context_pair ctx;
    ctx.client.set_renegotiation(renegotiation_policy::accept);
    net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    error_code server_ec = net::error::would_block;
    std::thread server([&] {
        tlsx::stream<net::ip::tcp::socket> s(io, ctx.server);
        acceptor.accept(s.next_layer());
        s.handshake(tlsx::stream_base::server);
        s.renegotiate(server_ec);
        net::write(s, net::buffer("done", 4));
    });
    tlsx::stream<net::ip::tcp::socket> c(io, ctx.client);
    c.next_layer().connect(acceptor.local_endpoint());
    c.set_server_name("localhost");
    c.handshake(tlsx::stream_base::client);
    std::string got(4, '\0');
    net::read(c, net::buffer(got)); // renegotiates inside this read
    server.join();
    BOOST_TEST(!server_ec, server_ec.message());
    BOOST_TEST(got == "done");
}

BOOST_AUTO_TEST_SUITE_END()
