// The renegotiation state machine at the engine level: two engines back to back, no Asio I/O.
// Each test follows the phases (engine::renegotiation_phase) through one scenario.
#include <tlsx/engine.hpp>

#include "backend.hpp"
#include "support/engine_pair.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

using tlsx::renegotiation_policy;
using tlsx_test::engine_pair;
using phase = tlsx::engine::renegotiation_phase;
using want = tlsx::engine::want;

namespace {

struct fixture {
    tlsx::self_signed_credentials cred = tlsx::generate_self_signed("localhost");
    tlsx::context cctx{tlsx::context::tls_client};
    tlsx::context sctx{tlsx::context::tls_server};
    std::unique_ptr<engine_pair> p;

    explicit fixture(int enforcement = 256) {
        sctx.use_certificate_chain(boost::asio::buffer(cred.certificate_pem));
        sctx.use_private_key(boost::asio::buffer(cred.private_key_pem), tlsx::context::pem);
        sctx.set_renegotiation_enforcement(enforcement);
        cctx.add_certificate_authority(boost::asio::buffer(cred.certificate_pem));
        backend::tls12_only(cctx); // renegotiation is TLS 1.2's (3.x would negotiate 1.3)
        p = std::make_unique<engine_pair>(cctx, sctx);
        tlsx::error_code ec;
        p->client.set_server_name("localhost", ec);
        BOOST_REQUIRE(!ec);
        BOOST_REQUIRE(!p->handshake());
    }

    tlsx::engine& client() { return p->client; }
    tlsx::engine& server() { return p->server; }

    /// Read what is there (pumping first); returns the data, stops at the first error.
    std::string read_all(tlsx::engine& e, tlsx::error_code& ec) {
        std::string got;
        char buf[20000];
        p->pump_all();
        for (;;) {
            // Whenever the engine says a read would only wait (the stream then reads the
            // transport without a step), the read must indeed only wait: every scenario here
            // checks that at every read.
            const bool waits = e.read_waits_for_input();
            const auto produced = e.output_produced();
            const auto events = e.events();
            auto r = e.read(boost::asio::buffer(buf));
            if (waits)
                BOOST_TEST((r.next == want::input && r.bytes == 0 && !r.ec &&
                            e.output_produced() == produced && e.events() == events));
            if (r.ec) {
                ec = r.ec;
                break;
            }
            if (r.next != want::nothing)
                break;
            got.append(buf, r.bytes);
        }
        p->pump_all();
        return got;
    }

    /// Write all of `data` (queued, not pumped).
    void write(tlsx::engine& e, const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            auto r = e.write(boost::asio::buffer(data.data() + sent, data.size() - sent));
            BOOST_REQUIRE(!r.ec);
            BOOST_REQUIRE(r.next == want::nothing);
            sent += r.bytes;
        }
    }

    /// Step `e.renegotiate()` while the other side reads, until it completes; returns its error.
    tlsx::error_code renegotiate(tlsx::engine& e, tlsx::engine& other, std::string& other_got,
                                 std::vector<phase>* seen = nullptr) {
        for (int i = 0; i < 1000; ++i) {
            auto r = e.renegotiate();
            note(e, seen);
            if (r.next == want::nothing)
                return r.ec;
            tlsx::error_code ec;
            other_got += read_all(other, ec);
            note(e, seen);
            if (ec)
                return ec;
        }
        return boost::asio::error::timed_out;
    }

    static void note(tlsx::engine& e, std::vector<phase>* seen) {
        if (seen && (seen->empty() || seen->back() != e.renegotiation_state()))
            seen->push_back(e.renegotiation_state());
    }

    /// Data still flows both ways after whatever happened.
    void check_data_flows() {
        std::string a, b;
        BOOST_TEST(!p->transfer(client(), server(), std::string(30000, 'c'), a));
        BOOST_TEST(!p->transfer(server(), client(), std::string(30000, 's'), b));
        BOOST_TEST(a.size() == 30000u);
        BOOST_TEST(b.size() == 30000u);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(engine_renegotiation)

BOOST_AUTO_TEST_CASE(idle_after_the_first_handshake) {
    fixture f;
    BOOST_TEST((f.client().renegotiation_state() == phase::idle));
    BOOST_TEST((f.server().renegotiation_state() == phase::idle));
}

BOOST_AUTO_TEST_CASE(server_asks_accepting_client_asked_handshaking_idle) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::accept);
    std::vector<phase> seen;
    std::string client_got;
    BOOST_TEST(!f.renegotiate(f.server(), f.client(), client_got, &seen));
    // The client accepted by policy: for it nothing was ever in play.
    BOOST_TEST((f.client().renegotiation_state() == phase::idle));
    BOOST_TEST((seen == std::vector<phase>{phase::asked, phase::handshaking, phase::idle}));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(a_handshake_finished_inside_a_read_is_done_until_renegotiate_reports_it) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::accept);
    auto r = f.server().renegotiate();
    BOOST_TEST((r.next == want::input));
    BOOST_TEST((f.server().renegotiation_state() == phase::asked));
    tlsx::error_code ec;
    for (int i = 0; i < 20 && f.server().renegotiation_state() != phase::done; ++i) {
        f.read_all(f.client(), ec);
        f.read_all(f.server(), ec); // the server's read runs the new handshake
        BOOST_REQUIRE(!ec);
    }
    BOOST_TEST((f.server().renegotiation_state() == phase::done));
    r = f.server().renegotiate(); // reports it once
    BOOST_TEST((r.next == want::nothing));
    BOOST_TEST(!r.ec);
    BOOST_TEST((f.server().renegotiation_state() == phase::idle));
}

BOOST_AUTO_TEST_CASE(refusing_client_moves_the_server_asked_refused_idle) {
    fixture f; // clients refuse by default
    f.server().renegotiate();
    BOOST_TEST((f.server().renegotiation_state() == phase::asked));
    tlsx::error_code ec;
    f.read_all(f.client(), ec); // answers no_renegotiation
    BOOST_TEST(!ec);
    f.read_all(f.server(), ec); // a read sees the answer
    BOOST_TEST(!ec);
    BOOST_TEST((f.server().renegotiation_state() == phase::refused));
    auto r = f.server().renegotiate(); // reports it once
    BOOST_TEST((r.ec == tlsx::error::renegotiation_refused));
    BOOST_TEST((f.server().renegotiation_state() == phase::idle));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(ask_policy_peer_request_then_handshake_accepting_idle) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::ask);
    auto r = f.server().renegotiate();
    BOOST_TEST((r.next == want::input));
    tlsx::error_code ec;
    f.read_all(f.client(), ec);
    BOOST_TEST((ec == tlsx::error::renegotiation_requested));
    BOOST_TEST((f.client().renegotiation_state() == phase::peer_request));
    r = f.client().handshake(tlsx::stream_base::client); // the application accepts
    BOOST_TEST((f.client().renegotiation_state() == phase::accepting));
    ec = {};
    for (int i = 0; i < 50 && r.next != want::nothing; ++i) {
        f.p->pump_all();
        f.read_all(f.server(), ec);
        BOOST_REQUIRE_MESSAGE(!ec, ec.message());
        r = f.client().handshake(tlsx::stream_base::client);
    }
    BOOST_TEST(!r.ec);
    BOOST_TEST((f.client().renegotiation_state() == phase::idle));
    std::string client_got;
    BOOST_TEST(!f.renegotiate(f.server(), f.client(), client_got)); // the server's side ends
    BOOST_TEST((f.server().renegotiation_state() == phase::idle));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(ask_policy_reading_on_refuses_the_request) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::ask);
    f.server().renegotiate();
    tlsx::error_code ec;
    f.read_all(f.client(), ec);
    BOOST_TEST((ec == tlsx::error::renegotiation_requested));
    ec = {};
    f.read_all(f.client(), ec); // reading on is the answer: no
    BOOST_TEST(!ec);
    BOOST_TEST((f.client().renegotiation_state() == phase::idle));
    std::string client_got;
    BOOST_TEST(
        (f.renegotiate(f.server(), f.client(), client_got) == tlsx::error::renegotiation_refused));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(enforcement_gives_up_after_the_record_bound_and_keeps_every_record) {
    fixture f(3); // the server takes 3 application records after asking
    f.client().set_renegotiation(renegotiation_policy::ask);
    f.server().renegotiate();
    f.p->pump_all();
    // The client ignores the request: it never reads, it only writes.
    std::string sent;
    for (int i = 0; i < 4; ++i) {
        std::string record(100, static_cast<char>('a' + i));
        f.write(f.client(), record);
        sent += record;
    }
    tlsx::error_code ec;
    std::string got;
    for (int i = 0; i < 3; ++i) { // one record per read
        got += f.read_all(f.server(), ec);
        BOOST_REQUIRE(!ec);
    }
    BOOST_TEST(got == sent); // nothing lost, nothing reordered
    BOOST_TEST((f.server().renegotiation_state() == phase::ignored));
    auto r = f.server().renegotiate();
    BOOST_TEST((r.ec == tlsx::error::renegotiation_ignored));
    BOOST_TEST((f.server().renegotiation_state() == phase::idle));
}

BOOST_AUTO_TEST_CASE(a_record_under_the_bound_does_not_end_the_request) {
    fixture f(3);
    f.client().set_renegotiation(renegotiation_policy::ask);
    f.server().renegotiate();
    f.p->pump_all();
    for (int i = 0; i < 3; ++i)
        f.write(f.client(), std::string(10, 'x'));
    tlsx::error_code ec;
    BOOST_TEST(f.read_all(f.server(), ec).size() == 30u);
    BOOST_TEST(!ec);
    BOOST_TEST((f.server().renegotiation_state() == phase::asked));
}

BOOST_AUTO_TEST_CASE(client_asks_refusing_server_handshaking_refused_idle) {
    fixture f;                         // servers refuse by default
    auto r = f.client().renegotiate(); // ClientHello sent at once
    BOOST_TEST((r.next == want::input));
    BOOST_TEST((f.client().renegotiation_state() == phase::handshaking));
    tlsx::error_code ec;
    f.read_all(f.server(), ec); // answers no_renegotiation
    BOOST_TEST(!ec);
    f.read_all(f.client(), ec); // a read sees the answer and undoes the handshake
    BOOST_TEST(!ec);
    BOOST_TEST((f.client().renegotiation_state() == phase::refused));
    r = f.client().renegotiate();
    BOOST_TEST((r.ec == tlsx::error::renegotiation_refused));
    BOOST_TEST((f.client().renegotiation_state() == phase::idle));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(client_asks_and_the_whole_refusal_runs_inside_renegotiate) {
    fixture f;
    std::vector<phase> seen;
    std::string server_got;
    auto ec = f.renegotiate(f.client(), f.server(), server_got, &seen);
    BOOST_TEST((ec == tlsx::error::renegotiation_refused));
    BOOST_TEST((seen == std::vector<phase>{phase::handshaking, phase::idle}));
}

BOOST_AUTO_TEST_CASE(a_server_accepts_three_client_renegotiations_then_refuses) {
    fixture f;
    f.server().set_renegotiation(renegotiation_policy::accept);
    std::string server_got;
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(!f.renegotiate(f.client(), f.server(), server_got), "renegotiation " << i);
    BOOST_TEST(
        (f.renegotiate(f.client(), f.server(), server_got) == tlsx::error::renegotiation_refused));
    BOOST_TEST((f.server().renegotiation_state() == phase::idle));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(records_queued_before_a_request_keep_their_order_and_a_write_waits) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::accept);
    std::string before(30000, 'b'); // two records queued, not yet sent
    f.write(f.client(), before);
    auto r = f.server().renegotiate();
    BOOST_TEST((r.next == want::input));
    f.p->pump(f.server(), f.client(), f.p->server_to_client); // the HelloRequest only
    tlsx::error_code ec;
    char buf[16];
    auto rr = f.client().read(boost::asio::buffer(buf)); // accepts: ClientHello queued
    BOOST_TEST(!rr.ec);
    BOOST_TEST((rr.next == want::input));
    // While the new handshake runs, the client's write waits for it (once the queue is below
    // its high-water mark: the server takes the first record).
    f.p->pump(f.client(), f.server(), f.p->client_to_server);
    auto w = f.client().write(boost::asio::buffer("during", 6));
    BOOST_TEST((w.next == want::input));
    // The server gets the earlier records first, intact, then finishes the handshake.
    std::string got;
    std::string client_got;
    for (int i = 0; i < 50 && got.size() < before.size(); ++i) {
        f.p->pump(f.client(), f.server(), f.p->client_to_server);
        got += f.read_all(f.server(), ec);
        BOOST_REQUIRE(!ec);
    }
    BOOST_TEST(got == before);
    BOOST_TEST(!f.renegotiate(f.server(), f.client(), client_got));
    for (int i = 0; i < 50 && w.next != want::nothing; ++i) {
        f.read_all(f.client(), ec);
        w = f.client().write(boost::asio::buffer("during", 6));
    }
    BOOST_TEST(!w.ec);
    BOOST_TEST(w.bytes == 6u);
    BOOST_TEST(f.read_all(f.server(), ec) == "during");
}

BOOST_AUTO_TEST_CASE(a_new_request_forgets_an_outcome_nobody_collected) {
    fixture f; // the client refuses
    f.server().renegotiate(true);
    tlsx::error_code ec;
    f.read_all(f.client(), ec);
    f.read_all(f.server(), ec);
    BOOST_TEST((f.server().renegotiation_state() == phase::refused)); // its caller went away
    auto r = f.server().renegotiate(true);                            // a new request: asks again
    BOOST_TEST((r.next == want::input));
    BOOST_TEST((f.server().renegotiation_state() == phase::asked));
    std::string client_got;
    BOOST_TEST(
        (f.renegotiate(f.server(), f.client(), client_got) == tlsx::error::renegotiation_refused));
}

BOOST_AUTO_TEST_CASE(an_accepted_handshake_whose_flight_cannot_be_written_fails) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::ask);
    f.server().renegotiate(true);
    tlsx::error_code ec;
    f.read_all(f.client(), ec);
    BOOST_TEST((ec == tlsx::error::renegotiation_requested));
    f.client().fail_output(boost::asio::error::broken_pipe); // the transport broke for writing
    auto r = f.client().handshake(tlsx::stream_base::client);
    BOOST_TEST((r.next == want::nothing)); // fails at once instead of waiting for the peer
    BOOST_TEST((r.ec == boost::asio::error::broken_pipe));
}

BOOST_AUTO_TEST_CASE(under_ask_the_records_before_the_request_are_read_first) {
    fixture f;
    f.client().set_renegotiation(renegotiation_policy::ask);
    f.write(f.server(), "before");
    f.server().renegotiate();
    f.p->pump_all();
    char buf[64];
    auto r = f.client().read(boost::asio::buffer(buf));
    BOOST_TEST(!r.ec);
    BOOST_TEST(std::string(buf, r.bytes) == "before");
    BOOST_TEST((f.client().renegotiation_state() == phase::idle));
    r = f.client().read(boost::asio::buffer(buf)); // now the HelloRequest, held back
    BOOST_TEST((r.ec == tlsx::error::renegotiation_requested));
    BOOST_TEST((f.client().renegotiation_state() == phase::peer_request));
    r = f.client().read(boost::asio::buffer(buf)); // reading on refuses it
    BOOST_TEST(!r.ec);
    BOOST_TEST((r.next == want::input));
    std::string client_got;
    BOOST_TEST(
        (f.renegotiate(f.server(), f.client(), client_got) == tlsx::error::renegotiation_refused));
    f.check_data_flows();
}

BOOST_AUTO_TEST_CASE(a_server_read_goes_on_past_the_refusal_to_the_data_behind_it) {
    fixture f; // the client refuses
    f.server().renegotiate();
    tlsx::error_code ec;
    f.read_all(f.client(), ec); // answers no_renegotiation
    BOOST_REQUIRE(!ec);
    f.write(f.client(), "behind");
    f.p->pump_all();
    char buf[64];
    auto r = f.server().read(boost::asio::buffer(buf)); // one read: the answer, then the data
    BOOST_TEST(!r.ec);
    BOOST_TEST((r.next == want::nothing));
    BOOST_TEST(std::string(buf, r.bytes) == "behind");
    BOOST_TEST((f.server().renegotiation_state() == phase::refused));
}

BOOST_AUTO_TEST_CASE(a_client_read_goes_on_past_the_refusal_to_the_data_behind_it) {
    fixture f;                         // the server refuses
    auto r = f.client().renegotiate(); // ClientHello sent at once
    BOOST_TEST((r.next == want::input));
    tlsx::error_code ec;
    f.read_all(f.server(), ec); // answers no_renegotiation
    BOOST_REQUIRE(!ec);
    f.write(f.server(), "behind");
    f.p->pump_all();
    char buf[64];
    r = f.client().read(boost::asio::buffer(buf)); // the old session goes on, in this read
    BOOST_TEST(!r.ec);
    BOOST_TEST((r.next == want::nothing));
    BOOST_TEST(std::string(buf, r.bytes) == "behind");
    BOOST_TEST((f.client().renegotiation_state() == phase::refused));
    r = f.client().renegotiate();
    BOOST_TEST((r.ec == tlsx::error::renegotiation_refused));
    f.check_data_flows();
}

BOOST_AUTO_TEST_SUITE_END()
