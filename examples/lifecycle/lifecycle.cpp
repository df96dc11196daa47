//
// tlsx example: the life of a TLS session, narrated. A server and four clients in one process
// over loopback TCP, following the GnuTLS calls that define the lifecycle (docs/lifecycle.md),
// under TLS 1.3 where the backend has it (mbedTLS 3.6) and, for renegotiation, TLS 1.2:
//
//   1. handshake (gnutls_handshake): suite and version on both ends; data both ways (client A)
//   2. under TLS 1.3, a rehandshake request (gnutls_rehandshake) on a server is a key update
//      asking the peer to update too: A's pending read takes it in and answers, invisibly; on a
//      client it is an invalid request (a named error, nothing sent); A then updates its own
//      keys (async_key_update); the connection goes on (A)
//   3. the session to save (gnutls_session_get_data2): under TLS 1.3 only once the server's
//      ticket arrived, which a read takes in (A)
//   4. TLS 1.2: the server asks to renegotiate; client B accepts inside its pending read,
//      invisibly; client C refuses (no_renegotiation) and the connection goes on
//   5. client D resumes from A's saved bytes (gnutls_session_set_data): reused on both ends
//   6. bye (gnutls_bye) in both modes: A with shutdown_type::send (GNUTLS_SHUT_WR: returns at
//      once, before the server's close_notify), C with shutdown_type::both (GNUTLS_SHUT_RDWR:
//      waits for the server's close_notify)
//
//   lifecycle
//
// Exits 0 when every step went as described, 1 on anything unexpected (or if nothing finishes
// within 20 seconds).
//
#include <tlsx/context.hpp>
#include <tlsx/error.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using net::use_awaitable;
using tlsx::error_code;
using tls_stream = tlsx::stream<tcp::socket>;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple = net::as_tuple(use_awaitable);

// How long the server waits before it answers a client's close_notify, so that the two bye modes
// differ visibly: `send` returns before this, `both` after.
constexpr std::chrono::milliseconds answer_delay(300);

int failures = 0;

void say(std::string_view who, std::string_view what) {
    std::cout << who << ": " << what << std::endl;
}

void step(std::string_view title) {
    std::cout << "\n== " << title << " ==" << std::endl;
}

/// Records (and prints) an unexpected result; the program then exits 1.
void expect(bool ok, std::string_view what) {
    if (!ok) {
        ++failures;
        std::cout << "UNEXPECTED: " << what << std::endl;
    }
}

long long ms_since(clock_type::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

/// Writes `text`, which must outlive the operation (a literal or a named string).
net::awaitable<void> write_text(tls_stream& s, std::string_view text) {
    co_await net::async_write(s, net::buffer(text.data(), text.size()), use_awaitable);
}

/// Reads one line; `buffer` keeps what came after it for the next call.
net::awaitable<std::string> read_line(tls_stream& s, std::string& buffer) {
    const std::size_t n =
        co_await net::async_read_until(s, net::dynamic_buffer(buffer), '\n', use_awaitable);
    std::string line = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    co_return line;
}

/// Reads until the peer's close_notify (eof); anything else is unexpected.
net::awaitable<void> read_until_close_notify(tls_stream& s, std::string_view who) {
    char byte;
    auto [ec, n] = co_await s.async_read_some(net::buffer(&byte, 1), tuple);
    expect(ec == net::error::eof,
           std::string(who) + ": expected the peer's close_notify (eof), got " + ec.message());
}

std::string describe(const tls_stream& s) {
    return std::string(s.protocol_version()) + ", " + std::string(s.cipher_suite());
}

// Shared by server and clients (one thread): the client whose close_notify the server last
// answered, to tell when each bye mode returned.
std::string server_answered;

// ---- The server ------------------------------------------------------------------------------

net::awaitable<tls_stream> accept(tcp::acceptor& acceptor, tlsx::context& ctx) {
    tls_stream s(co_await acceptor.async_accept(use_awaitable), ctx);
    co_await s.async_handshake(tlsx::stream_base::server, use_awaitable);
    co_return s;
}

/// Answers a client's close_notify after answer_delay, with ours.
net::awaitable<void> answer_bye(tls_stream& s, std::string_view client) {
    co_await read_until_close_notify(s, "server");
    say("server", "client " + std::string(client) + " sent close_notify; answering in " +
                      std::to_string(answer_delay.count()) + " ms");
    net::steady_timer timer(co_await net::this_coro::executor, answer_delay);
    co_await timer.async_wait(use_awaitable);
    server_answered = client;
    auto [ec] = co_await s.async_shutdown(tuple);
    expect(!ec, "server: shutdown failed: " + ec.message());
}

bool is_tls13(const tls_stream& s) {
    return s.protocol_version() == "TLSv1.3";
}

net::awaitable<void> server(tcp::acceptor& acceptor, tlsx::context& ctx) {
    {
        // Client A (TLS 1.3 where the backend has it): data; a rehandshake request, which under
        // TLS 1.3 is a key update asking the client to update too; bye in `send` mode.
        tls_stream s = co_await accept(acceptor, ctx);
        say("server", "handshake with client A done: " + describe(s));
        std::string buffer;
        const std::string line = co_await read_line(s, buffer);
        say("server", "received '" + line + "'");
        co_await write_text(s, "hello, client A\n");
        if (is_tls13(s)) {
            say("server", "asking client A to rehandshake (async_renegotiate)");
            auto [rec] = co_await s.async_renegotiate(tuple);
            expect(!rec, "server: the key update failed: " + rec.message());
            say("server", "under TLS 1.3 that is a key update asking A to update too: sent, our "
                          "sending keys are now generation " +
                              std::to_string(s.get_engine().key_generation(false)));
        }
        co_await write_text(s, "still here\n");
        co_await answer_bye(s, "A");
    }
    {
        // Client B (TLS 1.2): a renegotiation it accepts inside its pending read.
        tls_stream s = co_await accept(acceptor, ctx);
        say("server", "handshake with client B done: " + describe(s));
        say("server", "asking client B to renegotiate (async_renegotiate: HelloRequest)");
        auto [rec] = co_await s.async_renegotiate(tuple);
        expect(!rec, "server: renegotiation with client B: " + rec.message());
        if (!rec)
            say("server", "renegotiated with client B: " + describe(s));
        co_await write_text(s, "after the renegotiation\n");
        co_await read_until_close_notify(s, "server");
        co_await s.async_shutdown(tuple);
    }
    {
        // Client C (TLS 1.2): a renegotiation it refuses, data after it, bye in `both` mode.
        tls_stream s = co_await accept(acceptor, ctx);
        say("server", "handshake with client C done: " + describe(s));
        say("server", "asking client C to renegotiate");
        auto [rec] = co_await s.async_renegotiate(tuple);
        expect(rec == tlsx::error::renegotiation_refused,
               "server: expected renegotiation_refused from client C, got " + rec.message());
        say("server", "client C refused (" + rec.message() + "); the connection goes on");
        co_await write_text(s, "still here\n");
        std::string buffer;
        const std::string line = co_await read_line(s, buffer);
        say("server", "received '" + line + "'");
        co_await answer_bye(s, "C");
    }
    {
        // Client D: resumes client A's session.
        tls_stream s = co_await accept(acceptor, ctx);
        say("server", "handshake with client D done: " + describe(s) +
                          ", reused: " + (s.session_reused() ? "yes" : "no"));
        expect(s.session_reused(), "server: client D's session was not resumed");
        co_await write_text(s, "welcome back\n");
        co_await read_until_close_notify(s, "server");
        auto [ec] = co_await s.async_shutdown(tuple);
        expect(!ec, "server: shutdown with client D failed: " + ec.message());
    }
}

// ---- The clients -----------------------------------------------------------------------------

net::awaitable<void> connect(tls_stream& s, tcp::endpoint server) {
    s.set_server_name("localhost");
    co_await s.next_layer().async_connect(server, use_awaitable);
    co_await s.async_handshake(tlsx::stream_base::client, use_awaitable);
}

/// `ctx` negotiates the highest version both have (TLS 1.3 on mbedTLS 3.6), `ctx12` TLS 1.2.
net::awaitable<void> clients(tcp::endpoint server, tlsx::context& ctx, tlsx::context& ctx12) {
    std::vector<unsigned char> saved;

    step("client A: handshake, data, rehandshake requests, the ticket, save the session, bye "
         "(send)");
    {
        tls_stream s(co_await net::this_coro::executor, ctx);
        co_await connect(s, server);
        say("client A", "connected: " + describe(s));
        if (is_tls13(s)) {
            // TLS 1.3: the session to resume comes with a ticket after the handshake.
            expect(s.get_session().empty(), "client A: a TLS 1.3 session before any ticket");
            say("client A", "get_session() right after the handshake: empty (no ticket yet)");
        }
        co_await write_text(s, "hello from client A\n");
        std::string buffer;
        std::string line = co_await read_line(s, buffer);
        say("client A", "received '" + line + "'");
        if (is_tls13(s)) {
            auto [rec] = co_await s.async_renegotiate(tuple);
            expect(rec == tlsx::error::invalid_request,
                   "client A: expected invalid_request, got " + rec.message());
            say("client A", "async_renegotiate on a TLS 1.3 client: '" + rec.message() + "'");
        }
        line = co_await read_line(s, buffer);
        say("client A", "received '" + line + "'");
        expect(line == "still here", "client A: wrong data after the rehandshake request");
        if (is_tls13(s)) {
            // The read took in the server's KeyUpdate and answered it with ours.
            const auto in = s.get_engine().key_generation(true);
            const auto out = s.get_engine().key_generation(false);
            expect(in == 1 && out == 1, "client A: the server's key update was not taken in");
            say("client A", "that read took in the server's KeyUpdate and answered it: keys now "
                            "generation " +
                                std::to_string(in) + " both ways");
            auto [kec] = co_await s.async_key_update(false, tuple);
            expect(!kec, "client A: async_key_update: " + kec.message());
            say("client A", "async_key_update(false): our sending keys are generation " +
                                std::to_string(s.get_engine().key_generation(false)) +
                                ", the server's stay as they are");
        }
        say("client A", std::string("session ticket received: ") +
                            (s.session_ticket_received() ? "yes" : "no") +
                            (is_tls13(s) ? " (taken in by the reads, never reported)" : ""));
        saved = s.get_session().to_bytes();
        expect(!saved.empty(), "client A: no session to save");
        say("client A", "session saved: " + std::to_string(saved.size()) + " bytes");

        const auto start = clock_type::now();
        co_await s.async_shutdown(tlsx::shutdown_type::send, use_awaitable);
        say("client A", "bye (shutdown_type::send) returned after " +
                            std::to_string(ms_since(start)) +
                            " ms, without waiting for the server");
        expect(server_answered != "A", "client A: shutdown(send) waited for the server");
        co_await read_until_close_notify(s, "client A");
        say("client A", "the server's close_notify arrived after " +
                            std::to_string(ms_since(start)) + " ms: reads end with eof");
    }

    step("client B (TLS 1.2): the server renegotiates, B accepts inside its read");
    {
        tls_stream s(co_await net::this_coro::executor, ctx12);
        s.set_renegotiation(tlsx::renegotiation_policy::accept); // over the context's refuse
        co_await connect(s, server);
        say("client B", "connected: " + describe(s));
        std::string buffer;
        // The HelloRequest arrives during this read: with the accept policy the read runs the
        // new handshake and goes on, and the application sees only the data.
        const std::string line = co_await read_line(s, buffer);
        say("client B", "received '" + line + "' (the renegotiation happened inside this read)");
        expect(line == "after the renegotiation", "client B: wrong data after renegotiation");
        co_await s.async_shutdown(use_awaitable);
    }

    step("client C (TLS 1.2): the server renegotiates, C refuses, data goes on, bye (both)");
    {
        tls_stream s(co_await net::this_coro::executor, ctx12); // refuse: the default
        co_await connect(s, server);
        say("client C", "connected: " + describe(s));
        std::string buffer;
        // The HelloRequest arrives during this read: refuse answers no_renegotiation and reads on.
        const std::string line = co_await read_line(s, buffer);
        say("client C", "received '" + line + "' (refused the renegotiation inside this read)");
        expect(line == "still here", "client C: wrong data after refusing");
        co_await write_text(s, "fine, thanks\n");

        const auto start = clock_type::now();
        co_await s.async_shutdown(tlsx::shutdown_type::both, use_awaitable);
        say("client C", "bye (shutdown_type::both) returned after " +
                            std::to_string(ms_since(start)) +
                            " ms, once the server's close_notify came");
        expect(server_answered == "C", "client C: shutdown(both) returned too early");
    }

    step("client D: resume from client A's saved bytes");
    {
        tls_stream s(co_await net::this_coro::executor, ctx);
        s.set_session(tlsx::session::from_bytes(saved)); // throws invalid_session on bad bytes
        co_await connect(s, server);
        say("client D",
            "connected: " + describe(s) + ", reused: " + (s.session_reused() ? "yes" : "no"));
        expect(s.session_reused(), "client D: the saved session was not resumed");
        std::string buffer;
        const std::string line = co_await read_line(s, buffer);
        say("client D", "received '" + line + "'");
        co_await s.async_shutdown(use_awaitable); // shutdown_type::both, the default
        say("client D", "bye (both)");
    }
}

} // namespace

int main() {
    try {
        // A fresh self-signed certificate for "localhost", trusted by the clients.
        const tlsx::self_signed_credentials credentials = tlsx::generate_self_signed("localhost");
        tlsx::context server_ctx(tlsx::context::tls_server); // session tickets are on by default
        server_ctx.use_certificate_chain(net::buffer(credentials.certificate_pem));
        server_ctx.use_private_key(net::buffer(credentials.private_key_pem), tlsx::context::pem);
        tlsx::context client_ctx(tlsx::context::tls_client); // TLS 1.3 where mbedTLS has it
        client_ctx.add_certificate_authority(net::buffer(credentials.certificate_pem));
        // Renegotiation exists in TLS 1.2 only: clients B and C cap their version.
        tlsx::context client12_ctx(tlsx::context::tls_client);
        client12_ctx.add_certificate_authority(net::buffer(credentials.certificate_pem));
        client12_ctx.set_max_version(tlsx::tls_version::tls1_2);

        net::io_context io;
        tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
        std::cout << "server: listening on 127.0.0.1:" << acceptor.local_endpoint().port()
                  << std::endl;

        bool server_done = false, clients_done = false;
        auto report = [&](const char* who, bool& done) {
            return [&done, who](std::exception_ptr e) {
                done = true;
                if (!e)
                    return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    expect(false, std::string(who) + ": " + x.what());
                }
            };
        };
        net::co_spawn(io, server(acceptor, server_ctx), report("server", server_done));
        net::co_spawn(io, clients(acceptor.local_endpoint(), client_ctx, client12_ctx),
                      report("clients", clients_done));
        io.run_for(std::chrono::seconds(20));
        expect(server_done && clients_done, "the demo did not finish within 20 seconds");
    } catch (const std::exception& e) {
        expect(false, e.what());
    }
    std::cout << "\nlifecycle: " << (failures == 0 ? "OK" : "FAILED") << std::endl;
    return failures == 0 ? 0 : 1;
}
