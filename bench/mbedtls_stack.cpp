//
// tlsx benchmarks — the mbedtls stack: two mbedtls_ssl_contexts driven directly, no Asio.
// In memory they talk over two byte queues on one thread; over TCP each has a blocking socket
// and its own thread. This is the limit for any stream built on mbedTLS. Also: the AEAD speed
// of mbedTLS's cipher API.
//
#include "bench.hpp"
#include "mbedtls_compat.hpp"

#include <mbedtls/cipher.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

namespace bench {

namespace {

void mbed_check(int ret, const char* what) {
    if (ret != 0) {
        char text[160];
        mbedtls_strerror(ret, text, sizeof text);
        throw std::runtime_error(std::string(what) + ": " + text);
    }
}

/// Bytes in flight in one direction; keeps its capacity, so steady state does not allocate.
struct byte_queue {
    std::vector<unsigned char> buf;
    std::size_t head = 0;

    void push(const unsigned char* p, std::size_t n) {
        if (head == buf.size()) {
            buf.clear();
            head = 0;
        }
        buf.insert(buf.end(), p, p + n);
    }
    std::size_t pop(unsigned char* p, std::size_t n) {
        n = std::min(n, buf.size() - head);
        std::memcpy(p, buf.data() + head, n);
        head += n;
        return n;
    }
    bool empty() const noexcept { return head == buf.size(); }
};

/// One end over in-memory queues.
struct mem_end {
    mbedtls_ssl_context ssl;
    byte_queue* in = nullptr;
    byte_queue* out = nullptr;
    std::uint64_t sent = 0;

    mem_end() { mbedtls_ssl_init(&ssl); }
    ~mem_end() { mbedtls_ssl_free(&ssl); }
    mem_end(const mem_end&) = delete;
    mem_end& operator=(const mem_end&) = delete;

    void setup(const mbedtls_ssl_config* conf, byte_queue* i, byte_queue* o) {
        in = i;
        out = o;
        mbed_check(mbedtls_ssl_setup(&ssl, conf), "mbedtls_ssl_setup");
        mbedtls_ssl_set_bio(&ssl, this, send_cb, recv_cb, nullptr);
    }

    static int send_cb(void* p, const unsigned char* buf, std::size_t len) {
        auto& self = *static_cast<mem_end*>(p);
        self.out->push(buf, len);
        self.sent += len;
        return static_cast<int>(len);
    }
    static int recv_cb(void* p, unsigned char* buf, std::size_t len) {
        auto& self = *static_cast<mem_end*>(p);
        if (self.in->empty())
            return MBEDTLS_ERR_SSL_WANT_READ;
        return static_cast<int>(self.in->pop(buf, len));
    }
};

/// A client and a server over two queues. Not movable: the ends point at the queues.
struct mem_pair {
    byte_queue c2s, s2c;
    mem_end client, server;

    mem_pair(const mbedtls_ssl_config* cconf, const mbedtls_ssl_config* sconf) {
        client.setup(cconf, &s2c, &c2s);
        server.setup(sconf, &c2s, &s2c);
        mbed_check(mbedtls_ssl_set_hostname(&client.ssl, "localhost"), "set_hostname");
    }

    void handshake() {
        bool cdone = false, sdone = false;
        for (int i = 0; i < 64 && !(cdone && sdone); ++i) {
            if (!cdone)
                cdone = step(client.ssl, "client handshake");
            if (!sdone)
                sdone = step(server.ssl, "server handshake");
        }
        check(cdone && sdone, "mbedtls handshake did not finish");
    }

    static bool step(mbedtls_ssl_context& ssl, const char* what) {
        int ret = mbedtls_ssl_handshake(&ssl);
        if (ret == 0)
            return true;
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            mbed_check(ret, what);
        return false;
    }
};

/// Write all of [p, p+n) as records (the in-memory send callback never blocks).
void write_all(mbedtls_ssl_context& ssl, const unsigned char* p, std::size_t n) {
    while (n != 0) {
        int ret = mbedtls_ssl_write(&ssl, p, n);
        if (ret < 0)
            mbed_check(ret, "mbedtls_ssl_write");
        p += ret;
        n -= static_cast<std::size_t>(ret);
    }
}

/// Read exactly n bytes, given that they are all queued already. A TLS 1.3 ticket met on the way
/// is counted in `tickets` and read past: mbedtls_ssl_read first says WANT_READ (it keeps the
/// NewSessionTicket message for its handshake code, with the bytes still queued), then, called
/// again, MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET once the ticket is taken in.
void read_exactly(mbedtls_ssl_context& ssl, unsigned char* p, std::size_t n,
                  int* tickets = nullptr) {
    int retries = 0;
    while (n != 0) {
        int ret = mbedtls_ssl_read(&ssl, p, n);
        if (ret == compat::received_ticket && tickets) {
            ++*tickets;
            continue;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ && tickets && ++retries <= 4)
            continue;
        if (ret <= 0)
            mbed_check(ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret, "mbedtls_ssl_read");
        p += ret;
        n -= static_cast<std::size_t>(ret);
    }
}

struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0)
            ::close(fd);
    }
};

class mbedtls_stack final : public stack {
public:
    mbedtls_stack(const credentials& c, suite s, tls v)
        : suite_(s)
        , tls_(v) {
        if (v == tls::v1_3 && !compat::has_tls13)
            throw unsupported("needs mbedTLS 3");
        mbed_check(compat::init_crypto(), "psa_crypto_init");
        mbedtls_entropy_init(&entropy_);
        mbedtls_ctr_drbg_init(&drbg_);
        mbedtls_x509_crt_init(&cert_);
        mbedtls_pk_init(&key_);
        mbedtls_ssl_cache_init(&cache_);
        mbedtls_ssl_ticket_init(&ticket_);
        for (auto& conf : client_conf_)
            mbedtls_ssl_config_init(&conf);
        for (auto& conf : server_conf_)
            mbedtls_ssl_config_init(&conf);

        static const unsigned char personalisation[] = {'b', 'e', 'n', 'c', 'h'};
        mbed_check(mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, personalisation,
                                         sizeof personalisation),
                   "mbedtls_ctr_drbg_seed");
        mbed_check(mbedtls_x509_crt_parse(
                       &cert_, reinterpret_cast<const unsigned char*>(c.certificate_pem.c_str()),
                       c.certificate_pem.size() + 1),
                   "certificate");
        mbed_check(compat::pk_parse_key(
                       &key_, reinterpret_cast<const unsigned char*>(c.private_key_pem.c_str()),
                       c.private_key_pem.size() + 1, mbedtls_ctr_drbg_random, &drbg_),
                   "private key");
        mbed_check(mbedtls_ssl_ticket_setup(&ticket_, mbedtls_ctr_drbg_random, &drbg_,
                                            MBEDTLS_CIPHER_AES_256_GCM, 86400),
                   "mbedtls_ssl_ticket_setup");

        suites_[0] =
            mbedtls_ssl_get_ciphersuite_id(compat::mbedtls_suite_name(iana_name(s, v), v).c_str());
        check(suites_[0] != 0, "mbedTLS lacks the suite under test");

        for (int i = 0; i < 3; ++i) {
            auto how = static_cast<resumption>(i);
            configure(client_conf_[i], MBEDTLS_SSL_IS_CLIENT);
            configure(server_conf_[i], MBEDTLS_SSL_IS_SERVER);
            mbedtls_ssl_conf_ca_chain(&client_conf_[i], &cert_, nullptr);
            mbedtls_ssl_conf_authmode(&client_conf_[i], MBEDTLS_SSL_VERIFY_REQUIRED);
            mbed_check(mbedtls_ssl_conf_own_cert(&server_conf_[i], &cert_, &key_), "own cert");
            mbedtls_ssl_conf_authmode(&server_conf_[i], MBEDTLS_SSL_VERIFY_NONE);
            if (how == resumption::ticket) {
                mbedtls_ssl_conf_session_tickets_cb(&server_conf_[i], mbedtls_ssl_ticket_write,
                                                    mbedtls_ssl_ticket_parse, &ticket_);
                compat::conf_signal_tickets(&client_conf_[i]);
            }
            if (how == resumption::session_id) {
                mbedtls_ssl_conf_session_tickets(&client_conf_[i],
                                                 MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
                mbedtls_ssl_conf_session_cache(&server_conf_[i], &cache_, mbedtls_ssl_cache_get,
                                               mbedtls_ssl_cache_set);
            }
        }
        for (auto& session : saved_)
            mbedtls_ssl_session_init(&session);
    }

    ~mbedtls_stack() override {
        for (auto& session : saved_)
            mbedtls_ssl_session_free(&session);
        for (auto& conf : client_conf_)
            mbedtls_ssl_config_free(&conf);
        for (auto& conf : server_conf_)
            mbedtls_ssl_config_free(&conf);
        mbedtls_ssl_ticket_free(&ticket_);
        mbedtls_ssl_cache_free(&cache_);
        mbedtls_pk_free(&key_);
        mbedtls_x509_crt_free(&cert_);
        mbedtls_ctr_drbg_free(&drbg_);
        mbedtls_entropy_free(&entropy_);
    }

    bulk_result bulk_memory(std::uint64_t total, std::size_t chunk, std::uint64_t warmup) override {
        mem_pair p(&client_conf_[0], &server_conf_[0]);
        p.handshake();
        check_suite(p.client.ssl);
        auto src = pattern(chunk);
        std::vector<unsigned char> buf(16384);
        std::uint64_t records = 0;
        auto phase = [&](std::uint64_t bytes, bool verify) {
            records = 0;
            while (bytes != 0) {
                std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, bytes));
                write_all(p.client.ssl, src.data(), n);
                ++records;
                // The server reads the record it was sent (one read per record, as the
                // Asio stacks' reader does when it keeps up).
                std::size_t got = 0;
                while (got < n) {
                    int ret = mbedtls_ssl_read(&p.server.ssl, buf.data(), buf.size());
                    if (ret <= 0)
                        mbed_check(ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret, "mbedtls_ssl_read");
                    if (verify)
                        check(std::memcmp(buf.data(), src.data() + got,
                                          static_cast<std::size_t>(ret)) == 0,
                              "received data differs from what was sent");
                    got += static_cast<std::size_t>(ret);
                }
                bytes -= n;
            }
        };
        phase(warmup, true);
        bulk_result res;
        res.stats = measure([&] { phase(total, false); });
        res.bytes = total;
        res.records = records;
        return res;
    }

    bulk_result bulk_tcp(std::uint64_t total, std::size_t chunk, std::uint64_t warmup) override {
        using clock = std::chrono::steady_clock;
        fd_guard listener, client_fd, server_fd;
        listener.fd = ::socket(AF_INET, SOCK_STREAM, 0);
        check(listener.fd >= 0, "socket");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        check(::bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "bind");
        check(::listen(listener.fd, 1) == 0, "listen");
        check(::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0,
              "getsockname");
        client_fd.fd = ::socket(AF_INET, SOCK_STREAM, 0);
        check(client_fd.fd >= 0, "socket");
        check(::connect(client_fd.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0,
              "connect");
        server_fd.fd = ::accept(listener.fd, nullptr, nullptr);
        check(server_fd.fd >= 0, "accept");
        int one = 1;
        ::setsockopt(client_fd.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(server_fd.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

        mbedtls_net_context cnet{client_fd.fd}, snet{server_fd.fd};
        mem_end client, server; // only their ssl contexts: the bio is the socket
        mbed_check(mbedtls_ssl_setup(&client.ssl, &client_conf_[0]), "mbedtls_ssl_setup");
        mbed_check(mbedtls_ssl_setup(&server.ssl, &server_conf_[0]), "mbedtls_ssl_setup");
        mbed_check(mbedtls_ssl_set_hostname(&client.ssl, "localhost"), "set_hostname");
        mbedtls_ssl_set_bio(&client.ssl, &cnet, mbedtls_net_send, mbedtls_net_recv, nullptr);
        mbedtls_ssl_set_bio(&server.ssl, &snet, mbedtls_net_send, mbedtls_net_recv, nullptr);

        auto src = pattern(chunk);
        gate server_ready, client_ready, go;
        clock::time_point end;
        std::exception_ptr server_error, client_error;
        std::thread server_thread([&] {
            try {
                mbed_check(mbedtls_ssl_handshake(&server.ssl), "server handshake");
                std::vector<unsigned char> buf(16384);
                auto read = [&](std::uint64_t bytes) {
                    while (bytes != 0) {
                        int ret = mbedtls_ssl_read(&server.ssl, buf.data(), buf.size());
                        if (ret <= 0)
                            mbed_check(ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret, "read");
                        bytes -= static_cast<std::uint64_t>(ret);
                    }
                };
                read(warmup);
                server_ready.open();
                go.wait();
                read(total);
                end = clock::now();
            } catch (...) {
                server_error = std::current_exception();
                server_ready.open();
            }
        });
        std::thread client_thread([&] {
            try {
                mbed_check(mbedtls_ssl_handshake(&client.ssl), "client handshake");
                auto write = [&](std::uint64_t bytes) {
                    while (bytes != 0) {
                        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, bytes));
                        write_all(client.ssl, src.data(), n);
                        bytes -= n;
                    }
                };
                write(warmup);
                client_ready.open();
                go.wait();
                write(total);
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
        mem_pair p(&client_conf_[0], &server_conf_[0]);
        p.handshake();
        check_suite(p.client.ssl);
        auto out = pattern(size);
        std::vector<unsigned char> sin(size), cin(size);
        auto run = [&](std::size_t n) {
            for (std::size_t i = 0; i < n; ++i) {
                write_all(p.client.ssl, out.data(), size);
                read_exactly(p.server.ssl, sin.data(), size);
                write_all(p.server.ssl, sin.data(), size);
                read_exactly(p.client.ssl, cin.data(), size);
            }
        };
        run(warmup);
        check(cin == out, "ping-pong: the echo differs");
        pingpong_result res;
        res.stats = measure([&] { run(rounds); });
        res.rounds = rounds;
        return res;
    }

    handshake_result handshakes(std::size_t count, resumption how) override {
        const int i = static_cast<int>(how);
        if (tls_ == tls::v1_3 && how == resumption::session_id)
            throw unsupported("n/a in TLS 1.3");
        // TLS 1.3 tickets come after the handshake: the server sends a byte behind its ticket,
        // and the client reads it, absorbing the ticket (every handshake of the workload).
        const bool late_ticket = tls_ == tls::v1_3 && how == resumption::ticket;
        auto take_ticket = [&](mem_pair& p) {
            unsigned char byte = 1;
            write_all(p.server.ssl, &byte, 1);
            int tickets = 0;
            read_exactly(p.client.ssl, &byte, 1, &tickets);
            check(tickets == 1, "the TLS 1.3 client did not receive one ticket");
        };
        // The first handshake is full: remember its server flight and the session.
        std::uint64_t full_flight = 0;
        {
            mem_pair p(&client_conf_[i], &server_conf_[i]);
            p.handshake();
            check_suite(p.client.ssl);
            full_flight = p.server.sent;
            if (late_ticket)
                take_ticket(p);
            if (how != resumption::none) {
                mbedtls_ssl_session_free(&saved_[i]);
                mbedtls_ssl_session_init(&saved_[i]);
                mbed_check(mbedtls_ssl_get_session(&p.client.ssl, &saved_[i]), "get_session");
            }
        }
        // A resumed handshake sends no Certificate: its server flight is much smaller.
        auto one = [&] {
            mem_pair p(&client_conf_[i], &server_conf_[i]);
            if (how != resumption::none)
                mbed_check(mbedtls_ssl_set_session(&p.client.ssl, &saved_[i]), "set_session");
            p.handshake();
            bool resumed = p.server.sent + cert_.raw.len / 2 < full_flight;
            if (late_ticket)
                take_ticket(p);
            return resumed;
        };
        bool warm = one();
        check(warm == (how != resumption::none), "resumption did not happen as configured");
        std::size_t resumed = 0;
        handshake_result res;
        res.stats = measure([&] {
            for (std::size_t k = 0; k < count; ++k)
                resumed += one() ? 1 : 0;
        });
        check(resumed == (how == resumption::none ? 0 : count),
              "a handshake did not resume (or one resumed that should not)");
        res.count = count;
        return res;
    }

    void hold_idle_pairs(std::size_t pairs, const std::function<void()>& while_held) override {
        std::vector<std::unique_ptr<mem_pair>> held;
        held.reserve(pairs);
        for (std::size_t k = 0; k < pairs; ++k) {
            held.push_back(std::make_unique<mem_pair>(&client_conf_[0], &server_conf_[0]));
            held.back()->handshake();
        }
        while_held();
    }

private:
    void configure(mbedtls_ssl_config& conf, int endpoint) {
        mbed_check(mbedtls_ssl_config_defaults(&conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                               MBEDTLS_SSL_PRESET_DEFAULT),
                   "mbedtls_ssl_config_defaults");
        mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg_);
        compat::conf_version(&conf, tls_);
        mbedtls_ssl_conf_ciphersuites(&conf, suites_);
        compat::conf_p256_sha256(&conf);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
        mbedtls_ssl_conf_renegotiation(&conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    }

    void check_suite(const mbedtls_ssl_context& ssl) const {
        check(mbedtls_ssl_get_ciphersuite(&ssl) ==
                  compat::mbedtls_suite_name(iana_name(suite_, tls_), tls_),
              "the negotiated suite is not the one under test");
    }

    suite suite_;
    tls tls_;
    int suites_[2] = {0, 0};
    mbedtls_entropy_context entropy_;
    mbedtls_ctr_drbg_context drbg_;
    mbedtls_x509_crt cert_;
    mbedtls_pk_context key_;
    mbedtls_ssl_cache_context cache_;
    mbedtls_ssl_ticket_context ticket_;
    mbedtls_ssl_config client_conf_[3];
    mbedtls_ssl_config server_conf_[3];
    mbedtls_ssl_session saved_[3];
};

} // namespace

std::unique_ptr<stack> make_mbedtls_stack(const credentials& c, suite s, tls v) {
    return std::make_unique<mbedtls_stack>(c, s, v);
}

std::string mbedtls_backend() {
    return std::string("mbedTLS ") + MBEDTLS_VERSION_STRING;
}

bool mbedtls_has_tls13() noexcept {
    return compat::has_tls13;
}

aead_result mbedtls_aead_speed(suite s, std::uint64_t bytes) {
    mbedtls_cipher_type_t type = s == suite::aes128_gcm   ? MBEDTLS_CIPHER_AES_128_GCM
                                 : s == suite::aes256_gcm ? MBEDTLS_CIPHER_AES_256_GCM
                                                          : MBEDTLS_CIPHER_CHACHA20_POLY1305;
    const mbedtls_cipher_info_t* info = mbedtls_cipher_info_from_type(type);
    check(info != nullptr, "mbedTLS lacks the AEAD under test");
    constexpr std::size_t record = 16384, tag = 16;
    std::vector<unsigned char> plain = pattern(record), sealed(record + tag), opened(record);
    unsigned char key[32] = {1, 2, 3}, iv[12] = {}, ad[13] = {23, 3, 3};
    std::uint64_t records = bytes / record;

    struct cipher {
        mbedtls_cipher_context_t ctx;
        cipher() { mbedtls_cipher_init(&ctx); }
        ~cipher() { mbedtls_cipher_free(&ctx); }
    } enc, dec;
    const int bits = static_cast<int>(compat::key_bitlen(info));
    mbed_check(mbedtls_cipher_setup(&enc.ctx, info), "mbedtls_cipher_setup");
    mbed_check(mbedtls_cipher_setkey(&enc.ctx, key, bits, MBEDTLS_ENCRYPT), "setkey");
    mbed_check(mbedtls_cipher_setup(&dec.ctx, info), "mbedtls_cipher_setup");
    mbed_check(mbedtls_cipher_setkey(&dec.ctx, key, bits, MBEDTLS_DECRYPT), "setkey");

    std::size_t sealed_len = 0;
    auto seal = [&](std::uint64_t i) {
        std::memcpy(iv + 4, &i, sizeof i);
        mbed_check(mbedtls_cipher_auth_encrypt_ext(&enc.ctx, iv, sizeof iv, ad, sizeof ad,
                                                   plain.data(), record, sealed.data(),
                                                   sealed.size(), &sealed_len, tag),
                   "mbedtls_cipher_auth_encrypt_ext");
    };
    seal(0);
    auto open = [&] {
        std::uint64_t zero = 0;
        std::memcpy(iv + 4, &zero, sizeof zero);
        std::size_t n = 0;
        mbed_check(mbedtls_cipher_auth_decrypt_ext(&dec.ctx, iv, sizeof iv, ad, sizeof ad,
                                                   sealed.data(), sealed_len, opened.data(),
                                                   opened.size(), &n, tag),
                   "mbedtls_cipher_auth_decrypt_ext");
    };
    open();
    check(opened == plain, "mbedTLS AEAD round trip");

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
