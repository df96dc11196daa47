//
// tlsx benchmarks — the tlsx stack: tlsx::stream over tlsx::test::pipe and tcp::socket.
//
#include "async_stack.hpp"

#include <tlsx/mbedtls.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>

namespace bench {

namespace {

// mbedtls_ssl_conf_curves / _sig_hashes keep the pointer: static storage.
const mbedtls_ecp_group_id p256_only[] = {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
const int sha256_only[] = {MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE};

struct tlsx_traits {
    using mem_stream = tlsx::stream<tlsx::test::pipe>;
    using tcp_stream = tlsx::stream<net::ip::tcp::socket>;
    using handshake_type = tlsx::stream_base::handshake_type;
    static constexpr handshake_type client = tlsx::stream_base::client;
    static constexpr handshake_type server = tlsx::stream_base::server;
    static constexpr const char* name = "tlsx";
    static constexpr const char* unsupported_note = "n/a";

    /// One client and one server context per kind of resumption, as for the other stacks.
    struct contexts {
        tlsx::context client{tlsx::context::tls_client};
        tlsx::context server{tlsx::context::tls_server};
        tlsx::session session; // the client's session to resume
    };
    contexts modes[3];

    tlsx_traits(const credentials& c, suite s) {
        for (int i = 0; i < 3; ++i) {
            auto how = static_cast<resumption>(i);
            contexts& m = modes[i];
            m.server.use_certificate_chain(net::buffer(c.certificate_pem));
            m.server.use_private_key(net::buffer(c.private_key_pem), tlsx::context::pem);
            m.client.add_certificate_authority(net::buffer(c.certificate_pem));
            for (tlsx::context* ctx : {&m.client, &m.server}) {
                ctx->set_max_version(tlsx::tls_version::tls1_2);
                ctx->set_ciphersuites({iana_name(s)});
                mbedtls_ssl_conf_curves(ctx->native_handle(), p256_only);
                mbedtls_ssl_conf_sig_hashes(ctx->native_handle(), sha256_only);
            }
            // Servers issue tickets by default; the full-handshake and session-ID settings
            // have none, like the other stacks'.
            if (how != resumption::ticket)
                m.server.disable_session_tickets();
            if (how == resumption::session_id) {
                m.server.enable_session_cache();
                mbedtls_ssl_conf_session_tickets(m.client.native_handle(),
                                                 MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
            }
        }
    }

    bool supports(resumption) const noexcept { return true; }

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
    template <class Stream>
    void after_handshake(Stream& s, resumption how) {
        contexts& m = modes[static_cast<int>(how)];
        if (how != resumption::none && m.session.empty())
            m.session = s.get_session();
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

std::unique_ptr<stack> make_tlsx_stack(const credentials& c, suite s) {
    return std::make_unique<async_stack<tlsx_traits>>(c, s);
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
