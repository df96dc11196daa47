//
// tlsx benchmarks — the asio_ssl stack: boost::asio::ssl::stream (OpenSSL) over the same
// transports as tlsx (tlsx::test::pipe in memory, tcp::socket), and OpenSSL's AEAD speed.
//
#include "async_stack.hpp"

#include <boost/asio/ssl.hpp>
// Asio is compiled separately (tlsx_asio, BOOST_ASIO_SEPARATE_COMPILATION) without its SSL
// part, which needs OpenSSL: compile that here, once.
#include <boost/asio/ssl/impl/src.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

namespace bench {

namespace {

namespace ssl = net::ssl;

const char* openssl_name(suite s) {
    switch (s) {
    case suite::aes128_gcm:
        return "ECDHE-ECDSA-AES128-GCM-SHA256";
    case suite::aes256_gcm:
        return "ECDHE-ECDSA-AES256-GCM-SHA384";
    case suite::chacha20_poly1305:
        return "ECDHE-ECDSA-CHACHA20-POLY1305";
    }
    return "";
}

void openssl_check(int ret, const char* what) {
    check(ret == 1, what);
}

struct asio_ssl_traits {
    using mem_stream = ssl::stream<tlsx::test::pipe>;
    using tcp_stream = ssl::stream<net::ip::tcp::socket>;
    using handshake_type = ssl::stream_base::handshake_type;
    static constexpr handshake_type client = ssl::stream_base::client;
    static constexpr handshake_type server = ssl::stream_base::server;
    static constexpr const char* name = "asio_ssl";

    /// One client and one server context per kind of resumption.
    struct contexts {
        ssl::context client{ssl::context::tls_client};
        ssl::context server{ssl::context::tls_server};
        SSL_SESSION* session = nullptr; // the client's session to resume
    };
    contexts modes[3];

    tls version;

    asio_ssl_traits(const credentials& c, suite s, tls v)
        : version(v) {
        const bool v13 = v == tls::v1_3;
        for (int i = 0; i < 3; ++i) {
            auto how = static_cast<resumption>(i);
            contexts& m = modes[i];
            for (ssl::context* ctx : {&m.client, &m.server}) {
                SSL_CTX* h = ctx->native_handle();
                const int pinned = v13 ? TLS1_3_VERSION : TLS1_2_VERSION;
                openssl_check(SSL_CTX_set_min_proto_version(h, pinned), "min version");
                openssl_check(SSL_CTX_set_max_proto_version(h, pinned), "max version");
                if (v13)
                    openssl_check(SSL_CTX_set_ciphersuites(h, iana_name(s, v)), "ciphersuites");
                else
                    openssl_check(SSL_CTX_set_cipher_list(h, openssl_name(s)), "cipher list");
                openssl_check(SSL_CTX_set1_groups_list(h, "P-256"), "groups");
                openssl_check(SSL_CTX_set1_sigalgs_list(h, "ECDSA+SHA256"), "sigalgs");
            }
            m.server.use_certificate_chain(net::buffer(c.certificate_pem));
            m.server.use_private_key(net::buffer(c.private_key_pem), ssl::context::pem);
            m.client.add_certificate_authority(net::buffer(c.certificate_pem));
            m.client.set_verify_mode(ssl::verify_peer);
            SSL_CTX* server = m.server.native_handle();
            // TLS 1.3: no tickets but in the ticket setting, and there one, as mbedTLS sends
            // (OpenSSL's SSL_OP_NO_TICKET would send stateful ones in 1.3).
            if (v13)
                openssl_check(SSL_CTX_set_num_tickets(server, how == resumption::ticket ? 1 : 0),
                              "num_tickets");
            switch (how) {
            case resumption::none: // as the mbedTLS servers: no tickets, no session cache
                SSL_CTX_set_options(server, SSL_OP_NO_TICKET);
                SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
                break;
            case resumption::ticket:
                SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_OFF);
                break;
            case resumption::session_id:
                SSL_CTX_set_options(server, SSL_OP_NO_TICKET);
                SSL_CTX_set_options(m.client.native_handle(), SSL_OP_NO_TICKET);
                SSL_CTX_set_session_cache_mode(server, SSL_SESS_CACHE_SERVER);
                break;
            }
        }
    }

    ~asio_ssl_traits() {
        for (contexts& m : modes)
            if (m.session)
                SSL_SESSION_free(m.session);
    }
    asio_ssl_traits(const asio_ssl_traits&) = delete;
    asio_ssl_traits& operator=(const asio_ssl_traits&) = delete;

    const char* unsupported_because(resumption how) const noexcept {
        return version == tls::v1_3 && how == resumption::session_id ? "n/a in TLS 1.3" : nullptr;
    }

    mem_stream make_client(tlsx::test::pipe p, resumption how) {
        return mem_stream(std::move(p), modes[static_cast<int>(how)].client);
    }
    mem_stream make_server(tlsx::test::pipe p, resumption how) {
        return mem_stream(std::move(p), modes[static_cast<int>(how)].server);
    }
    tcp_stream make_tcp(net::io_context& io, handshake_type role) {
        return tcp_stream(io, role == client ? modes[0].client : modes[0].server);
    }

    template <class Stream>
    void prepare_client(Stream& s, resumption how) {
        SSL* h = s.native_handle();
        openssl_check(static_cast<int>(SSL_set_tlsext_host_name(h, "localhost")), "SNI");
        openssl_check(SSL_set1_host(h, "localhost"), "host name");
        if (SSL_SESSION* saved = modes[static_cast<int>(how)].session)
            openssl_check(SSL_set_session(h, saved), "SSL_set_session");
    }

    template <class Stream>
    void after_handshake(Stream& s, resumption how) {
        contexts& m = modes[static_cast<int>(how)];
        if (how != resumption::none && !m.session)
            m.session = SSL_get1_session(s.native_handle());
    }

    // OpenSSL makes the session of an SSL freed without SSL_shutdown non-resumable and drops it
    // from the server's cache. The benchmark closes no connection (nor do the other stacks):
    // mark it shut down, which sends nothing.
    template <class Stream>
    void forget(Stream& s) {
        SSL_set_shutdown(s.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }

    template <class Stream>
    bool resumed(Stream& s) {
        return SSL_session_reused(s.native_handle()) == 1;
    }

    template <class Stream>
    std::string suite_name(Stream& s) {
        const SSL_CIPHER* c = SSL_get_current_cipher(s.native_handle());
        const char* n = c ? SSL_CIPHER_standard_name(c) : nullptr;
        return n ? n : "";
    }
};

} // namespace

std::unique_ptr<stack> make_asio_ssl_stack(const credentials& c, suite s, tls v) {
    return std::make_unique<async_stack<asio_ssl_traits>>(c, s, v);
}

std::string openssl_backend() {
    return OpenSSL_version(OPENSSL_VERSION);
}

aead_result openssl_aead_speed(suite s, std::uint64_t bytes) {
    const EVP_CIPHER* cipher = s == suite::aes128_gcm   ? EVP_aes_128_gcm()
                               : s == suite::aes256_gcm ? EVP_aes_256_gcm()
                                                        : EVP_chacha20_poly1305();
    constexpr std::size_t record = 16384;
    std::vector<unsigned char> plain = pattern(record), sealed(record), opened(record);
    unsigned char key[32] = {1, 2, 3}, iv[12] = {}, ad[13] = {23, 3, 3}, tag[16];
    std::uint64_t records = bytes / record;

    struct ctx_deleter {
        void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
    };
    std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter> enc(EVP_CIPHER_CTX_new()),
        dec(EVP_CIPHER_CTX_new());
    openssl_check(EVP_EncryptInit_ex(enc.get(), cipher, nullptr, key, iv), "EVP_EncryptInit_ex");
    openssl_check(EVP_DecryptInit_ex(dec.get(), cipher, nullptr, key, iv), "EVP_DecryptInit_ex");

    auto seal = [&](std::uint64_t i) {
        std::memcpy(iv + 4, &i, sizeof i);
        int n = 0;
        openssl_check(EVP_EncryptInit_ex(enc.get(), nullptr, nullptr, nullptr, iv), "iv");
        openssl_check(EVP_EncryptUpdate(enc.get(), nullptr, &n, ad, sizeof ad), "ad");
        openssl_check(EVP_EncryptUpdate(enc.get(), sealed.data(), &n, plain.data(), record),
                      "encrypt");
        openssl_check(EVP_EncryptFinal_ex(enc.get(), sealed.data() + n, &n), "final");
        openssl_check(EVP_CIPHER_CTX_ctrl(enc.get(), EVP_CTRL_AEAD_GET_TAG, 16, tag), "tag");
    };
    seal(0); // the record the decryption loop opens again and again
    auto open = [&] {
        std::uint64_t zero = 0;
        std::memcpy(iv + 4, &zero, sizeof zero);
        int n = 0;
        openssl_check(EVP_DecryptInit_ex(dec.get(), nullptr, nullptr, nullptr, iv), "iv");
        openssl_check(EVP_DecryptUpdate(dec.get(), nullptr, &n, ad, sizeof ad), "ad");
        openssl_check(EVP_DecryptUpdate(dec.get(), opened.data(), &n, sealed.data(), record),
                      "decrypt");
        openssl_check(EVP_CIPHER_CTX_ctrl(dec.get(), EVP_CTRL_AEAD_SET_TAG, 16, tag), "tag");
        openssl_check(EVP_DecryptFinal_ex(dec.get(), opened.data() + n, &n), "authenticate");
    };
    open();
    check(opened == plain, "OpenSSL AEAD round trip");

    aead_result r;
    r.bytes = records * record;
    r.decrypt_seconds = measure([&] {
                            for (std::uint64_t i = 0; i < records; ++i)
                                open();
                        }).cpu_seconds;
    r.encrypt_seconds = measure([&] {
                            for (std::uint64_t i = 1; i <= records; ++i)
                                seal(i);
                        }).cpu_seconds;
    return r;
}

} // namespace bench
