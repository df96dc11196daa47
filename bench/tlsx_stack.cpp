//
// tlsx benchmarks — the tlsx stack: tlsx::stream over tlsx::test::pipe and tcp::socket.
//
#include "async_stack.hpp"
#include "mbedtls_compat.hpp"

#include <tlsx/mbedtls.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

namespace bench {

namespace {

/// Whether tlsx's streams say when a TLS 1.3 ticket arrived (`session_ticket_received()`, with
/// `get_session()` then holding it): TLS 1.3 resumption is measured only with that API; until
/// then its row says "pending".
template <class S, class = void>
struct has_ticket_api : std::false_type {};
template <class S>
struct has_ticket_api<
    S, std::void_t<decltype(bool(std::declval<const S&>().session_ticket_received()))>>
    : std::true_type {};

/// Whether the bench keeps the servers' default time limits (TLSX_BENCH_SERVER_LIMITS=default).
bool default_server_limits() {
    const char* v = std::getenv("TLSX_BENCH_SERVER_LIMITS");
    return v && std::string(v) == "default";
}

struct tlsx_traits {
    using mem_stream = tlsx::stream<tlsx::test::pipe>;
    using tcp_stream = tlsx::stream<net::ip::tcp::socket>;
    using handshake_type = tlsx::stream_base::handshake_type;
    static constexpr handshake_type client = tlsx::stream_base::client;
    static constexpr handshake_type server = tlsx::stream_base::server;
    static constexpr const char* name = "tlsx";

    /// One client and one server context per kind of resumption, as for the other stacks.
    struct contexts {
        tlsx::context client{tlsx::context::tls_client};
        tlsx::context server{tlsx::context::tls_server};
        tlsx::session session; // the client's session to resume
    };
    contexts modes[3];

    tls version;

    tlsx_traits(const credentials& c, suite s, tls v)
        : version(v) {
        if (v == tls::v1_3 && !compat::has_tls13)
            throw unsupported("needs mbedTLS 3");
        const tlsx::tls_version pinned =
            v == tls::v1_3 ? tlsx::tls_version::tls1_3 : tlsx::tls_version::tls1_2;
        for (int i = 0; i < 3; ++i) {
            auto how = static_cast<resumption>(i);
            contexts& m = modes[i];
            m.server.use_certificate_chain(net::buffer(c.certificate_pem));
            m.server.use_private_key(net::buffer(c.private_key_pem), tlsx::context::pem);
            m.client.add_certificate_authority(net::buffer(c.certificate_pem));
            for (tlsx::context* ctx : {&m.client, &m.server}) {
                ctx->set_min_version(pinned);
                ctx->set_max_version(pinned);
                ctx->set_ciphersuites({iana_name(s, v)});
                compat::conf_p256_sha256(ctx->native_handle());
            }
            // Servers issue tickets by default; the full-handshake and session-ID settings
            // have none, like the other stacks'.
            if (how != resumption::ticket)
                m.server.disable_session_tickets();
            // No time limits, as the other stacks have none: a server context's default
            // handshake limit arms a timer, and an io_context's first timer brings in the epoll
            // reactor, which Asio's scheduler then polls on every turn (about 360 instructions
            // per W3 round trip over the in-memory pipe; nothing over sockets, whose io_context
            // has the reactor anyway). TLSX_BENCH_SERVER_LIMITS=default keeps the default, to
            // measure that (docs/performance.md).
            if (!default_server_limits())
                m.server.set_handshake_timeout(tlsx::no_timeout);
            if (how == resumption::session_id) {
                m.server.enable_session_cache();
                mbedtls_ssl_conf_session_tickets(m.client.native_handle(),
                                                 MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
            }
        }
    }

    /// Why a kind of resumption is not measured; null when it is.
    const char* unsupported_because(resumption how) const noexcept {
        if (version == tls::v1_3 && how == resumption::session_id)
            return "n/a in TLS 1.3";
        if (version == tls::v1_3 && how == resumption::ticket && !has_ticket_api<mem_stream>::value)
            return "pending: TLS 1.3 tickets in tlsx (session_ticket_received) not merged yet";
        return nullptr;
    }

    mem_stream make_client(tlsx::test::pipe p, resumption how) {
        return {std::move(p), modes[static_cast<int>(how)].client};
    }
    mem_stream make_server(tlsx::test::pipe p, resumption how) {
        return {std::move(p), modes[static_cast<int>(how)].server};
    }
    tcp_stream make_tcp(net::io_context& io, handshake_type role) {
        return {io, role == client ? modes[0].client : modes[0].server};
    }

    template <class Stream>
    void prepare_client(Stream& s, resumption how) {
        s.set_server_name("localhost");
        const tlsx::session& saved = modes[static_cast<int>(how)].session;
        if (!saved.empty())
            s.set_session(saved);
    }
    /// After the handshake, and in TLS 1.3 with tickets after the client's first read.
    template <class Stream>
    void after_handshake(Stream& s, resumption how) {
        contexts& m = modes[static_cast<int>(how)];
        if constexpr (has_ticket_api<Stream>::value) {
            if (version == tls::v1_3 && how == resumption::ticket)
                check(s.session_ticket_received(), "the TLS 1.3 client received no ticket");
        }
        // A TLS 1.3 session is offered once (tlsx's default, as the seed recommends): each
        // resumption takes the ticket its handshake brought. TLS 1.2 sessions are reused.
        const bool latest = version == tls::v1_3 && how == resumption::ticket;
        if (how != resumption::none && (m.session.empty() || latest)) {
            tlsx::session fresh = s.get_session();
            if (!fresh.empty())
                m.session = std::move(fresh);
        }
    }
    template <class Stream>
    void forget(Stream&) {}
    template <class Stream>
    bool resumed(Stream& s) {
        return s.session_reused();
    }
    template <class Stream>
    std::string suite_name(Stream& s) {
        return std::string(s.cipher_suite());
    }
};

} // namespace

std::unique_ptr<stack> make_tlsx_stack(const credentials& c, suite s, tls v) {
    return std::make_unique<async_stack<tlsx_traits>>(c, s, v);
}

pingpong_result key_update_round_trips(const credentials& c, suite s, std::size_t rounds,
                                       std::size_t warmup) {
    if (!compat::has_tls13)
        throw unsupported("needs mbedTLS 3 (TLS 1.3)");
    tlsx::context cctx{tlsx::context::tls_client}, sctx{tlsx::context::tls_server};
    sctx.use_certificate_chain(net::buffer(c.certificate_pem));
    sctx.use_private_key(net::buffer(c.private_key_pem), tlsx::context::pem);
    cctx.add_certificate_authority(net::buffer(c.certificate_pem));
    if (!default_server_limits())
        sctx.set_handshake_timeout(tlsx::no_timeout); // as in tlsx_traits
    for (tlsx::context* ctx : {&cctx, &sctx}) {
        ctx->set_min_version(tlsx::tls_version::tls1_3);
        ctx->set_max_version(tlsx::tls_version::tls1_3);
        ctx->set_ciphersuites({iana_name(s, tls::v1_3)});
        ctx->set_key_update_threshold(0); // only the updates measured
    }
    net::io_context io;
    auto ends = tlsx::test::make_pipe(io);
    tlsx::stream<tlsx::test::pipe> client(std::move(ends.first), cctx);
    tlsx::stream<tlsx::test::pipe> server(std::move(ends.second), sctx);
    client.set_server_name("localhost");
    tlsx::error_code cec = net::error::would_block, sec = cec;
    client.async_handshake(tlsx::stream_base::client, [&](tlsx::error_code ec) { cec = ec; });
    server.async_handshake(tlsx::stream_base::server, [&](tlsx::error_code ec) { sec = ec; });
    io.run();
    check(!cec && !sec, "the key-update handshake failed");
    // A read outstanding on each end, as a long-lived connection has: it takes the peer's
    // KeyUpdate in (and answers it) and completes only when the pipe closes at the end.
    char cbuf[64], sbuf[64];
    bool read_ended = false;
    client.async_read_some(net::buffer(cbuf),
                           [&](tlsx::error_code, std::size_t) { read_ended = true; });
    server.async_read_some(net::buffer(sbuf),
                           [&](tlsx::error_code, std::size_t) { read_ended = true; });
    io.restart();
    auto one = [&] {
        const std::uint64_t want = client.get_engine().key_generation(true) + 1;
        bool sent = false;
        client.async_key_update(true, [&](tlsx::error_code ec) {
            check(!ec, "async_key_update failed");
            sent = true;
        });
        while (!sent || client.get_engine().key_generation(true) < want) {
            check(!read_ended, "a read ended during the key updates");
            check(io.run_one_for(std::chrono::seconds(5)) != 0, "a key update round trip stalled");
        }
    };
    for (std::size_t i = 0; i < warmup; ++i)
        one();
    pingpong_result res;
    res.stats = measure([&] {
        for (std::size_t i = 0; i < rounds; ++i)
            one();
    });
    res.rounds = rounds;
    check(server.get_engine().key_generation(false) == warmup + rounds,
          "the server did not answer every request");
    client.next_layer().close();
    server.next_layer().close();
    io.run_for(std::chrono::seconds(5));
    return res;
}

pingpong_result pipe_pingpong(std::size_t rounds, std::size_t size, std::size_t warmup) {
    net::io_context io;
    auto ends = tlsx::test::make_pipe(io);
    pingpong_driver<tlsx::test::pipe> d(ends.first, ends.second, size);
    d.run(io, warmup);
    pingpong_result res;
    res.stats = measure([&] { d.run(io, rounds); });
    res.rounds = rounds;
    return res;
}

} // namespace bench
