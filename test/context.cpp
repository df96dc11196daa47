// tlsx::context: loading credentials and trust (and how failures are reported), ciphersuites,
// versions, ALPN, SNI, certificate verification, client certificates, key log, debug output.
#include <tlsx/context.hpp>
#include <tlsx/mbedtls.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "backend.hpp"
#include "support/certs.hpp"
#include "support/der.hpp"
#include "support/run.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

namespace net = boost::asio;
using tlsx_test::contains;
using tlsx_test::pem;
namespace certs = tlsx_test::certs;
using tlsx::error_code;
using tlsx_test::der_of;
using tlsx_test::run_bounded;

namespace {

using pipe_stream = tlsx::stream<tlsx::test::pipe>;

/// A server context with a certificate and key (by default the CA-signed "localhost" pair).
tlsx::context server_context(std::string_view cert = certs::server_cert,
                             std::string_view key = certs::server_key) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(cert));
    ctx.use_private_key(pem(key), tlsx::context::pem);
    return ctx;
}

/// A client context trusting the test CA.
tlsx::context client_context() {
    tlsx::context ctx(tlsx::context::tls_client);
    ctx.add_certificate_authority(pem(certs::ca_cert));
    return ctx;
}

/// A client and a server stream over an in-memory pipe, and the results of their handshake.
template <class ClientLayer = tlsx::test::pipe>
struct connection {
    tlsx::stream<ClientLayer> client;
    pipe_stream server;
    error_code client_ec = net::error::would_block;
    error_code server_ec = net::error::would_block;

    connection(net::io_context& io, tlsx::context& cctx, tlsx::context& sctx,
               std::string_view host = "localhost")
        : connection(tlsx::test::make_pipe(io), cctx, sctx, host) {}

    /// Run both handshakes to completion (bounded); true when both succeeded. As a real
    /// application would, a side whose handshake fails closes its transport.
    bool handshake(net::io_context& io) {
        client.async_handshake(tlsx::stream_base::client, [this](error_code ec) {
            client_ec = ec;
            if (ec)
                client.next_layer().close();
        });
        server.async_handshake(tlsx::stream_base::server, [this](error_code ec) {
            server_ec = ec;
            if (ec)
                server.next_layer().close();
        });
        BOOST_TEST(run_bounded(io));
        return !client_ec && !server_ec;
    }

private:
    connection(std::pair<tlsx::test::pipe, tlsx::test::pipe> ends, tlsx::context& cctx,
               tlsx::context& sctx, std::string_view host)
        : client(ClientLayer(std::move(ends.first)), cctx)
        , server(std::move(ends.second), sctx) {
        if (!host.empty())
            client.set_server_name(host);
    }
};

/// Checks that a client trusting only `ca_pem` completes a handshake with `sctx` for `host`.
void check_handshake_trusting(std::string_view ca_pem, tlsx::context& sctx, std::string_view host) {
    tlsx::context cctx(tlsx::context::tls_client);
    cctx.add_certificate_authority(pem(ca_pem));
    net::io_context io;
    connection<> c(io, cctx, sctx, host);
    BOOST_TEST(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
}

/// The DER of a PEM certificate.
/// Runs `f` and returns the system_error it throws (a failed check when it throws none).
template <class F>
boost::system::system_error thrown_by(F&& f) {
    try {
        f();
    } catch (const boost::system::system_error& e) {
        return e;
    }
    BOOST_ERROR("no boost::system::system_error was thrown");
    return boost::system::system_error(error_code());
}

/// A file in the temporary directory, removed at the end of the test.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(std::string_view contents) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("tlsx_context_" + std::to_string(::getpid()) + "_" + std::to_string(++counter));
        std::ofstream(path, std::ios::binary) << contents;
    }
    ~temp_file() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

constexpr std::string_view bad_certificate_pem = "-----BEGIN CERTIFICATE-----\n"
                                                 "this is not base64 at all!\n"
                                                 "-----END CERTIFICATE-----\n";

// ---- a chain with an intermediate CA, made with mbedTLS (for the verify depth) -------------

struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    rng() {
        mbedtls_entropy_init(&entropy);
        mbedtls_ctr_drbg_init(&drbg);
        BOOST_REQUIRE(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) ==
                      0);
    }
    ~rng() {
        mbedtls_ctr_drbg_free(&drbg);
        mbedtls_entropy_free(&entropy);
    }
};

struct pk {
    mbedtls_pk_context ctx;
    pk() { mbedtls_pk_init(&ctx); }
    ~pk() { mbedtls_pk_free(&ctx); }
    std::string to_pem() {
        unsigned char buf[1024];
        BOOST_REQUIRE(mbedtls_pk_write_key_pem(&ctx, buf, sizeof buf) == 0);
        return reinterpret_cast<const char*>(buf);
    }
};

void generate_key(pk& key, rng& r) {
    BOOST_REQUIRE(mbedtls_pk_setup(&key.ctx, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
    BOOST_REQUIRE(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key.ctx),
                                      mbedtls_ctr_drbg_random, &r.drbg) == 0);
}

/// A certificate for `subject_key` named `subject`, signed by `issuer_key` named `issuer`.
std::string issue(const char* subject, pk& subject_key, const char* issuer, pk& issuer_key,
                  bool is_ca, int serial_number, rng& r) {
    mbedtls_x509write_cert crt;
    mbedtls_x509write_crt_init(&crt);
#if MBEDTLS_VERSION_MAJOR >= 3
    unsigned char serial[2] = {static_cast<unsigned char>(serial_number >> 8),
                               static_cast<unsigned char>(serial_number & 0xff)};
#else
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    mbedtls_mpi_lset(&serial, serial_number);
#endif
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &subject_key.ctx);
    mbedtls_x509write_crt_set_issuer_key(&crt, &issuer_key.ctx);
    unsigned char buf[4096];
    int ret = mbedtls_x509write_crt_set_subject_name(&crt, subject);
    ret = ret ? ret : mbedtls_x509write_crt_set_issuer_name(&crt, issuer);
#if MBEDTLS_VERSION_MAJOR >= 3
    ret = ret ? ret : mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof serial);
#else
    ret = ret ? ret : mbedtls_x509write_crt_set_serial(&crt, &serial);
#endif
    ret = ret ? ret : mbedtls_x509write_crt_set_validity(&crt, "20240101000000", "21000101000000");
    ret = ret ? ret : mbedtls_x509write_crt_set_basic_constraints(&crt, is_ca, -1);
    ret = ret ? ret
              : mbedtls_x509write_crt_pem(&crt, buf, sizeof buf, mbedtls_ctr_drbg_random, &r.drbg);
#if MBEDTLS_VERSION_MAJOR < 3
    mbedtls_mpi_free(&serial);
#endif
    mbedtls_x509write_crt_free(&crt);
    BOOST_REQUIRE(ret == 0);
    return reinterpret_cast<const char*>(buf);
}

/// A leaf ("CN=leaf") signed by an intermediate CA signed by the test CA: chain PEM and key.
std::pair<std::string, std::string> chain_with_intermediate() {
    rng r;
    pk ca_key, intermediate_key, leaf_key;
    std::string ca_key_pem(certs::ca_key);
    const auto* ca_key_data = reinterpret_cast<const unsigned char*>(ca_key_pem.c_str());
#if MBEDTLS_VERSION_MAJOR >= 3 // 3.x wants a random generator
    const int parsed = mbedtls_pk_parse_key(&ca_key.ctx, ca_key_data, ca_key_pem.size() + 1,
                                            nullptr, 0, mbedtls_ctr_drbg_random, &r.drbg);
#else
    const int parsed =
        mbedtls_pk_parse_key(&ca_key.ctx, ca_key_data, ca_key_pem.size() + 1, nullptr, 0);
#endif
    BOOST_REQUIRE(parsed == 0);
    generate_key(intermediate_key, r);
    generate_key(leaf_key, r);
    std::string intermediate = issue("CN=tlsx test intermediate", intermediate_key,
                                     "CN=tlsx test CA", ca_key, true, 1001, r);
    std::string leaf =
        issue("CN=leaf", leaf_key, "CN=tlsx test intermediate", intermediate_key, false, 1002, r);
    return {leaf + intermediate, leaf_key.to_pem()};
}

// ---- reading TLS records, for the key log check ----------------------------------------------

struct record {
    unsigned char type;
    std::string_view header;  // 5 bytes
    std::string_view payload; // the fragment
};

std::vector<record> records_of(std::string_view bytes) {
    std::vector<record> out;
    while (bytes.size() >= 5) {
        std::size_t len =
            (static_cast<unsigned char>(bytes[3]) << 8) | static_cast<unsigned char>(bytes[4]);
        if (bytes.size() < 5 + len)
            break;
        out.push_back(
            {static_cast<unsigned char>(bytes[0]), bytes.substr(0, 5), bytes.substr(5, len)});
        bytes.remove_prefix(5 + len);
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

[[maybe_unused]] std::string to_hex(std::string_view raw) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 0x0F];
    }
    return out;
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

/// The random of the hello (1: ClientHello, 2: ServerHello) that opens `transcript`.
std::string hello_random(std::string_view transcript, unsigned char hello_type) {
    auto records = records_of(transcript);
    BOOST_TEST_REQUIRE(!records.empty());
    BOOST_TEST_REQUIRE(records[0].type == 22); // handshake
    BOOST_TEST_REQUIRE(records[0].payload.at(0) == hello_type);
    return std::string(records[0].payload.substr(6, 32));
}

/// Decrypts the fragment of the client's AES-128-GCM application-data record with sequence
/// number 1; `key_block` is client_write_key[16] server_write_key[16] client_write_IV[4] ...
std::string decrypt_client_record(std::string_view fragment, const unsigned char* key_block) {
    const std::size_t length = fragment.size() - 8 - 16;
    unsigned char nonce[12];
    std::memcpy(nonce, key_block + 32, 4);
    std::memcpy(nonce + 4, fragment.data(), 8);
    // additional_data: seq_num (8 bytes), type 23, version 3.3, length.
    unsigned char aad[13] = {0, 0, 0, 0, 0, 0, 0, 1, 23, 3, 3, 0, 0};
    aad[11] = static_cast<unsigned char>(length >> 8);
    aad[12] = static_cast<unsigned char>(length & 0xFF);
    std::string plain(length, '\0');
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    BOOST_TEST_REQUIRE(mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key_block, 128) == 0);
    const int ret = mbedtls_gcm_auth_decrypt(
        &gcm, length, nonce, sizeof nonce, aad, sizeof aad, bytes(fragment.substr(8 + length)), 16,
        bytes(fragment.substr(8)), reinterpret_cast<unsigned char*>(plain.data()));
    mbedtls_gcm_free(&gcm);
    BOOST_TEST(ret == 0);
    return plain;
}

/// A transport that records every byte it reads and writes, around another one.
template <class NextLayer>
class recording_layer {
public:
    using executor_type = typename NextLayer::executor_type;

    explicit recording_layer(NextLayer next)
        : next_(std::move(next)) {}

    executor_type get_executor() noexcept { return next_.get_executor(); }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                next_.async_read_some(
                    b, [this, b, h = std::move(handler)](error_code ec, std::size_t n) mutable {
                        append(read, b, n);
                        std::move(h)(ec, n);
                    });
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                next_.async_write_some(
                    b, [this, b, h = std::move(handler)](error_code ec, std::size_t n) mutable {
                        append(written, b, n);
                        std::move(h)(ec, n);
                    });
            },
            token, buffers);
    }

    void close() { next_.close(); }

    std::string read;    // every byte read from the transport
    std::string written; // every byte written to it

private:
    template <class Buffers>
    static void append(std::string& to, const Buffers& b, std::size_t n) {
        for (auto it = net::buffer_sequence_begin(b); n && it != net::buffer_sequence_end(b);
             ++it) {
            net::const_buffer cb(*it);
            std::size_t k = std::min(n, cb.size());
            to.append(static_cast<const char*>(cb.data()), k);
            n -= k;
        }
    }

    NextLayer next_;
};

} // namespace

namespace {

/// Splits an NSS key-log line "CLIENT_RANDOM <64 hex> <96 hex>" into {random, secret} hex
/// strings; both empty when the line has another form.
std::pair<std::string, std::string> parse_keylog(const std::string& line) {
    auto is_hex = [](std::string_view v, std::size_t n) {
        return v.size() == n && v.find_first_not_of("0123456789abcdef") == std::string_view::npos;
    };
    const std::string_view prefix = "CLIENT_RANDOM ";
    std::string_view v = line;
    if (v.substr(0, prefix.size()) != prefix || v.size() != prefix.size() + 64 + 1 + 96 ||
        v[prefix.size() + 64] != ' ')
        return {};
    std::string_view random = v.substr(prefix.size(), 64), secret = v.substr(prefix.size() + 65);
    if (!is_hex(random, 64) || !is_hex(secret, 96))
        return {};
    return {std::string(random), std::string(secret)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(context)

// ---- credentials ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_pem_certificate_is_invalid_certificate_naming_the_problem) {
    tlsx::context ctx(tlsx::context::tls_server);
    error_code ec;
    ctx.use_certificate_chain(pem(bad_certificate_pem), ec);
    BOOST_TEST(ec == tlsx::error::invalid_certificate);
    BOOST_TEST(ec == tlsx::condition::configuration);
    BOOST_TEST(contains(ec.message(), "certificate"));

    auto e = thrown_by([&] { ctx.use_certificate_chain(pem(bad_certificate_pem)); });
    BOOST_TEST(e.code() == tlsx::error::invalid_certificate);
    BOOST_TEST_MESSAGE(e.what());
    BOOST_TEST(contains(e.what(), "tlsx::context::use_certificate_chain"));
    BOOST_TEST(contains(e.what(), "PEM")); // mbedTLS's reason: the PEM block is damaged

    // Not PEM at all, and an empty buffer.
    ctx.use_certificate_chain(net::buffer("hello, world", 12), ec);
    BOOST_TEST(ec == tlsx::error::invalid_certificate);
    ctx.use_certificate_chain(net::const_buffer(), ec);
    BOOST_TEST(ec == tlsx::error::invalid_certificate);

    // The file overload names the path.
    temp_file file(bad_certificate_pem);
    auto fe = thrown_by([&] { ctx.use_certificate_chain_file(file.path.string()); });
    BOOST_TEST(fe.code() == tlsx::error::invalid_certificate);
    BOOST_TEST(contains(fe.what(), "tlsx::context::use_certificate_chain_file"));
    BOOST_TEST(contains(fe.what(), file.path.string()));

    // A bad CA is reported the same way.
    ctx.add_certificate_authority(pem(bad_certificate_pem), ec);
    BOOST_TEST(ec == tlsx::error::invalid_certificate);
}

BOOST_AUTO_TEST_CASE(bad_private_key_is_invalid_private_key) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    error_code ec;
    ctx.use_private_key(pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                        tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::invalid_private_key);
    BOOST_TEST(ec == tlsx::condition::configuration);
    // A certificate is not a key.
    ctx.use_private_key(pem(certs::server_cert), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::invalid_private_key);
    // Garbage announced as DER.
    ctx.use_private_key(net::buffer("\x30\x03\x02\x01", 4), tlsx::context::der, ec);
    BOOST_TEST(ec == tlsx::error::invalid_private_key);

    auto e = thrown_by([&] {
        ctx.use_private_key(pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
                            tlsx::context::pem);
    });
    BOOST_TEST(e.code() == tlsx::error::invalid_private_key);
    BOOST_TEST(contains(e.what(), "tlsx::context::use_private_key"));

    // The certificate is still waiting for its key: the right one is accepted now.
    ctx.use_private_key(pem(certs::server_key), tlsx::context::pem, ec);
    BOOST_TEST(!ec);
}

BOOST_AUTO_TEST_CASE(encrypted_key_without_password_callback_is_wrong_password) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    error_code ec;
    ctx.use_private_key(pem(certs::server_key_encrypted), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::wrong_password);
    BOOST_TEST(ec == tlsx::condition::configuration);
    ctx.use_private_key(pem(certs::server_key_encrypted_legacy), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::wrong_password);
}

BOOST_AUTO_TEST_CASE(encrypted_key_with_wrong_password_is_wrong_password) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    int asked = 0;
    ctx.set_password_callback([&](std::size_t, tlsx::context::password_purpose) {
        ++asked;
        return std::string("not the password");
    });
    error_code ec;
    ctx.use_private_key(pem(certs::server_key_encrypted), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::wrong_password);
    ctx.use_private_key(pem(certs::server_key_encrypted_legacy), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::wrong_password);
    BOOST_TEST(asked == 2);
    auto e = thrown_by(
        [&] { ctx.use_private_key(pem(certs::server_key_encrypted), tlsx::context::pem); });
    BOOST_TEST(e.code() == tlsx::error::wrong_password);
    BOOST_TEST(contains(e.what(), "password"));
}

BOOST_AUTO_TEST_CASE(encrypted_key_with_right_password_serves_a_handshake) {
    for (std::string_view key : {certs::server_key_encrypted, certs::server_key_encrypted_legacy}) {
        tlsx::context sctx(tlsx::context::tls_server);
        sctx.use_certificate_chain(pem(certs::server_cert));
        std::size_t max_length = 0;
        tlsx::context::password_purpose purpose = tlsx::context::for_writing;
        sctx.set_password_callback([&](std::size_t n, tlsx::context::password_purpose p) {
            max_length = n;
            purpose = p;
            return std::string(certs::server_key_password);
        });
        error_code ec;
        sctx.use_private_key(pem(key), tlsx::context::pem, ec);
        BOOST_TEST(!ec, ec.message());
        BOOST_TEST(max_length > 0u);
        BOOST_TEST(purpose == tlsx::context::for_reading);

        net::io_context io;
        tlsx::context cctx = client_context();
        connection<> c(io, cctx, sctx);
        BOOST_TEST(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
    }
}

#if MBEDTLS_VERSION_MAJOR >= 3
BOOST_AUTO_TEST_CASE(aes_encrypted_pkcs8_key_is_read_by_mbedtls3) {
    // 3.x decrypts PBES2 with AES (2.28 cannot: see the test below on that backend).
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    ctx.set_password_callback(
        [](std::size_t, tlsx::context::password_purpose) { return std::string("secret"); });
    ctx.use_private_key(pem(certs::server_key_encrypted_pkcs8_aes256), tlsx::context::pem);
}
#else
BOOST_AUTO_TEST_CASE(aes_encrypted_pkcs8_key_is_reported_as_unreadable_by_this_mbedtls) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    ctx.set_password_callback(
        [](std::size_t, tlsx::context::password_purpose) { return std::string("secret"); });
    auto e = thrown_by([&] {
        ctx.use_private_key(pem(certs::server_key_encrypted_pkcs8_aes256), tlsx::context::pem);
    });
    BOOST_TEST(e.code() == tlsx::error::invalid_private_key);
    BOOST_TEST_MESSAGE(e.what());
    BOOST_TEST(contains(e.what(), "cannot decrypt"));
}
#endif

BOOST_AUTO_TEST_CASE(key_not_matching_the_certificate_is_key_mismatch) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(pem(certs::server_cert));
    error_code ec;
    ctx.use_private_key(pem(certs::other_host_key), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::key_mismatch);
    BOOST_TEST(ec == tlsx::condition::configuration);
    auto e =
        thrown_by([&] { ctx.use_private_key(pem(certs::other_host_key), tlsx::context::pem); });
    BOOST_TEST(e.code() == tlsx::error::key_mismatch);
    BOOST_TEST(contains(e.what(), "does not match"));
}

BOOST_AUTO_TEST_CASE(keys_pair_with_their_waiting_certificates_in_either_order) {
    const tlsx::self_signed_credentials first = tlsx::generate_self_signed("first.example");
    const tlsx::self_signed_credentials second = tlsx::generate_self_signed("second.example");
    tlsx::context sctx(tlsx::context::tls_server);
    sctx.use_certificate(pem(first.certificate_pem), tlsx::context::pem);
    sctx.use_certificate(pem(second.certificate_pem), tlsx::context::pem);
    // The first certificate's key, although the second certificate came last.
    error_code ec;
    sctx.use_private_key(pem(first.private_key_pem), tlsx::context::pem, ec);
    BOOST_TEST(!ec, ec.message());
    sctx.use_private_key(pem(second.private_key_pem), tlsx::context::pem, ec);
    BOOST_TEST(!ec, ec.message());
    // No certificate waits for a key any more.
    sctx.use_private_key(pem(second.private_key_pem), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::invalid_argument, ec.message());

    // Both are ECDSA, so mbedTLS serves the first pair; the handshake proves it has its own key.
    check_handshake_trusting(first.certificate_pem, sctx, "first.example");
}

BOOST_AUTO_TEST_CASE(key_before_any_certificate_is_invalid_argument) {
    tlsx::context ctx(tlsx::context::tls_server);
    error_code ec;
    ctx.use_private_key(pem(certs::server_key), tlsx::context::pem, ec);
    BOOST_TEST(ec == tlsx::error::invalid_argument);
}

BOOST_AUTO_TEST_CASE(missing_file_is_no_such_file_or_directory) {
    const std::string path = "/nonexistent/tlsx/missing.pem";
    tlsx::context ctx(tlsx::context::tls);
    error_code ec;
    ctx.use_certificate_chain_file(path, ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);
    ctx.use_certificate_file(path, tlsx::context::pem, ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);
    ctx.load_verify_file(path, ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);
    ctx.add_verify_path("/nonexistent/tlsx", ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);
    ctx.use_certificate_chain(pem(certs::server_cert));
    ctx.use_private_key_file(path, tlsx::context::pem, ec);
    BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory);

    auto e = thrown_by([&] { ctx.load_verify_file(path); });
    BOOST_TEST(e.code() == boost::system::errc::no_such_file_or_directory);
    BOOST_TEST(contains(e.what(), "tlsx::context::load_verify_file"));
    BOOST_TEST(contains(e.what(), path));
}

BOOST_AUTO_TEST_CASE(credentials_load_from_files) {
    temp_file cert(certs::server_cert), key(certs::server_key), ca(certs::ca_cert);
    tlsx::context sctx(tlsx::context::tls_server);
    sctx.use_certificate_chain_file(cert.path.string());
    sctx.use_private_key_file(key.path.string(), tlsx::context::pem);
    tlsx::context cctx(tlsx::context::tls_client);
    cctx.load_verify_file(ca.path.string());
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
}

// ---- ciphersuites, versions, ALPN -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_ciphersuite_is_reported_with_its_name) {
    tlsx::context ctx(tlsx::context::tls_client);
    const std::vector<std::string> names = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                            "TLS_NO_SUCH_SUITE_WITH_ROT13"};
    error_code ec;
    ctx.set_ciphersuites(names, ec);
    BOOST_TEST(ec == tlsx::error::unknown_ciphersuite);
    BOOST_TEST(ec == tlsx::condition::configuration);
    auto e = thrown_by([&] { ctx.set_ciphersuites(names); });
    BOOST_TEST(e.code() == tlsx::error::unknown_ciphersuite);
    BOOST_TEST(contains(e.what(), "TLS_NO_SUCH_SUITE_WITH_ROT13"));
    BOOST_TEST(contains(e.what(), "set_ciphersuites"));
}

BOOST_AUTO_TEST_CASE(iana_and_mbedtls_names_choose_the_negotiated_suite) {
    struct {
        const char* given;
        const char* negotiated;
        bool on_server;
    } cases[] = {
        {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
         "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", true},
        {"TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
         true},
        // CBC suites are not in the defaults (AEAD only): a client offering one needs a server
        // that enables it too; here the client picks another default suite by IANA name.
        {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
         false},
        {"TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
         false},
    };
    for (const auto& k : cases) {
        BOOST_TEST_CONTEXT(k.given << (k.on_server ? " on the server" : " on the client")) {
            tlsx::context sctx = server_context();
            tlsx::context cctx = client_context();
            (k.on_server ? sctx : cctx).set_ciphersuites({k.given});
            backend::tls12_only(cctx); // TLS 1.2 suites (1.3 has its own, tested below)
            net::io_context io;
            connection<> c(io, cctx, sctx);
            BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message()
                                                    << " / " << c.server_ec.message());
            BOOST_TEST(c.client.cipher_suite() == k.negotiated);
            BOOST_TEST(c.server.cipher_suite() == k.negotiated);
        }
    }
}

BOOST_AUTO_TEST_CASE(no_common_ciphersuite_fails_the_handshake) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    sctx.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"});
    cctx.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"});
    backend::tls12_only(cctx); // else both keep the default TLS 1.3 suites, and agree on one
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::condition::protocol, c.client_ec.message());
    BOOST_TEST(c.server_ec == tlsx::condition::protocol, c.server_ec.message());
}

BOOST_AUTO_TEST_CASE(alpn_selects_the_protocol_both_offer) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    cctx.set_alpn_protocols({"h2", "http/1.1"});
    sctx.set_alpn_protocols({"http/1.1"});
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io));
    BOOST_TEST(c.client.alpn_protocol() == "http/1.1");
    BOOST_TEST(c.server.alpn_protocol() == "http/1.1");
}

BOOST_AUTO_TEST_CASE(alpn_is_empty_when_the_client_offers_none) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io));
    BOOST_TEST(c.client.alpn_protocol().empty());
    BOOST_TEST(c.server.alpn_protocol().empty());
}

BOOST_AUTO_TEST_CASE(alpn_without_a_common_protocol_fails_with_no_application_protocol) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    cctx.set_alpn_protocols({"h2"});
    sctx.set_alpn_protocols({"http/1.1"});
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == error_code(120, tlsx::alert_category()), c.client_ec.message());
    BOOST_TEST(contains(c.client_ec.message(), "no_application_protocol"));
    BOOST_TEST(c.server_ec);
}

BOOST_AUTO_TEST_CASE(empty_alpn_name_is_invalid_argument) {
    tlsx::context ctx(tlsx::context::tls_client);
    auto e = thrown_by([&] { ctx.set_alpn_protocols({"h2", ""}); });
    BOOST_TEST(e.code() == tlsx::error::invalid_argument);
    BOOST_TEST(contains(e.what(), "set_alpn_protocols"));
    BOOST_TEST(thrown_by([&] { ctx.set_alpn_protocols({}); }).code() ==
               tlsx::error::invalid_argument);
    BOOST_TEST(thrown_by([&] { ctx.set_alpn_protocols({std::string(256, 'x')}); }).code() ==
               tlsx::error::invalid_argument);
}

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
BOOST_AUTO_TEST_CASE(tls13_is_the_default_with_iana_suite_names) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
    BOOST_TEST(c.client.protocol_version() == "TLSv1.3");
    BOOST_TEST(c.server.protocol_version() == "TLSv1.3");
    BOOST_TEST(c.client.cipher_suite() == "TLS_CHACHA20_POLY1305_SHA256"); // first by default
    BOOST_TEST(c.server.cipher_suite() == c.client.cipher_suite());
}

BOOST_AUTO_TEST_CASE(tls13_suites_are_chosen_by_iana_and_mbedtls_names) {
    for (const char* given : {"TLS_AES_128_GCM_SHA256", "TLS1-3-AES-256-GCM-SHA384"}) {
        BOOST_TEST_CONTEXT(given) {
            tlsx::context sctx = server_context();
            tlsx::context cctx = client_context();
            cctx.set_ciphersuites({given, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
            for (tlsx::context* ctx : {&sctx, &cctx})
                ctx->set_min_version(tlsx::tls_version::tls1_3);
            net::io_context io;
            connection<> c(io, cctx, sctx);
            BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message()
                                                    << " / " << c.server_ec.message());
            BOOST_TEST(c.client.protocol_version() == "TLSv1.3");
            const std::string want = std::string(given) == "TLS_AES_128_GCM_SHA256"
                                         ? "TLS_AES_128_GCM_SHA256"
                                         : "TLS_AES_256_GCM_SHA384";
            BOOST_TEST(c.client.cipher_suite() == want);
            BOOST_TEST(c.server.cipher_suite() == want);
        }
    }
}

BOOST_AUTO_TEST_CASE(versions_below_tls12_cannot_be_the_maximum_on_mbedtls3) {
    tlsx::context ctx(tlsx::context::tls);
    for (auto v : {tlsx::tls_version::tls1_0, tlsx::tls_version::tls1_1}) {
        auto e = thrown_by([&] { ctx.set_max_version(v); });
        BOOST_TEST(e.code() == tlsx::error::invalid_argument);
        BOOST_TEST(contains(e.what(), "not supported by mbedTLS"), e.what());
        ctx.set_min_version(v); // means TLS 1.2, the lowest there is
    }
}
#else
BOOST_AUTO_TEST_CASE(tls13_is_refused_with_an_error_naming_it) {
    tlsx::context ctx(tlsx::context::tls);
    for (auto set : {&tlsx::context::set_max_version, &tlsx::context::set_min_version}) {
        auto e = thrown_by([&] { (ctx.*set)(tlsx::tls_version::tls1_3); });
        BOOST_TEST(e.code() == tlsx::error::invalid_argument);
        BOOST_TEST_MESSAGE(e.what());
        BOOST_TEST(contains(e.what(), "TLS 1.3"));
    }
}
#endif

BOOST_AUTO_TEST_CASE(tls12_as_minimum_and_maximum_negotiates_tls12) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    for (tlsx::context* ctx : {&sctx, &cctx}) {
        ctx->set_min_version(tlsx::tls_version::tls1_2);
        ctx->set_max_version(tlsx::tls_version::tls1_2);
    }
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io));
    BOOST_TEST(c.client.protocol_version() == "TLSv1.2");
    BOOST_TEST(c.server.protocol_version() == "TLSv1.2");
}

BOOST_AUTO_TEST_CASE(client_capped_below_the_servers_minimum_fails,
                     *boost::unit_test::precondition(backend::skip_on_mbedtls3{
                         "it has no TLS 1.0/1.1, so no maximum below TLS 1.2 can be set (see "
                         "versions_below_tls12_cannot_be_the_maximum_on_mbedtls3)"})) {
    tlsx::context sctx = server_context(); // default minimum: TLS 1.2
    tlsx::context cctx = client_context();
    cctx.set_min_version(tlsx::tls_version::tls1_0);
    cctx.set_max_version(tlsx::tls_version::tls1_1);
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec, c.client_ec.message());
    BOOST_TEST(c.server_ec, c.server_ec.message());
    BOOST_TEST_MESSAGE("client: " << c.client_ec.message()
                                  << "; server: " << c.server_ec.message());
}

// ---- SNI --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sni_callback_serves_another_certificate_for_its_host) {
    tlsx::context other = server_context(certs::other_host_cert, certs::other_host_key);
    tlsx::context sctx = server_context(); // default: the "localhost" certificate
    std::vector<std::string> seen;
    sctx.set_sni_callback([&](tlsx::sni_selection& s) {
        seen.emplace_back(s.server_name());
        if (s.server_name() == "other.example")
            s.use(other);
        return true;
    });
    tlsx::context cctx = client_context();

    net::io_context io;
    connection<> c(io, cctx, sctx, "other.example");
    BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
    BOOST_TEST(c.client.peer_certificate() == der_of(certs::other_host_cert));

    connection<> d(io, cctx, sctx, "localhost");
    BOOST_TEST_REQUIRE(d.handshake(io), d.client_ec.message() << " / " << d.server_ec.message());
    BOOST_TEST(d.client.peer_certificate() == der_of(certs::server_cert));

    BOOST_TEST(seen == (std::vector<std::string>{"other.example", "localhost"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sni_callback_returning_false_aborts_the_handshake) {
    tlsx::context sctx = server_context();
    sctx.set_sni_callback([](tlsx::sni_selection&) { return false; });
    tlsx::context cctx = client_context();
    net::io_context io;
    connection<> c(io, cctx, sctx, "unknown.example");
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == error_code(112, tlsx::alert_category()), c.client_ec.message());
    BOOST_TEST(contains(c.client_ec.message(), "unrecognized_name"));
    BOOST_TEST(c.server_ec);
}

// ---- verification -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(certificate_authority_in_der_is_trusted) {
    const std::vector<unsigned char> der = der_of(certs::ca_cert);
    BOOST_TEST_REQUIRE(!der.empty());
    tlsx::context cctx(tlsx::context::tls_client);
    error_code ec;
    cctx.add_certificate_authority(net::buffer(der), ec);
    BOOST_TEST(!ec, ec.message());
    tlsx::context sctx = server_context();
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
}

BOOST_AUTO_TEST_CASE(expired_certificate_is_certificate_expired) {
    tlsx::context sctx = server_context(certs::expired_cert, certs::expired_key);
    tlsx::context cctx = client_context();
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::error::certificate_expired, c.client_ec.message());
    BOOST_TEST(c.client_ec == tlsx::condition::certificate);
    BOOST_TEST(contains(c.client_ec.message(), "expired"));
    BOOST_TEST(c.server_ec); // the client's fatal alert
}

BOOST_AUTO_TEST_CASE(untrusted_certificate_is_certificate_untrusted) {
    tlsx::context sctx = server_context(certs::untrusted_cert, certs::untrusted_key);
    tlsx::context cctx = client_context();
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::error::certificate_untrusted, c.client_ec.message());
    BOOST_TEST(c.client_ec == tlsx::condition::certificate);
    BOOST_TEST(contains(c.client_ec.message(), "not trusted"));
    BOOST_TEST(c.server_ec);
}

BOOST_AUTO_TEST_CASE(certificate_of_another_host_is_certificate_name_mismatch) {
    tlsx::context sctx = server_context(certs::other_host_cert, certs::other_host_key);
    tlsx::context cctx = client_context();
    net::io_context io;
    connection<> c(io, cctx, sctx, "localhost");
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::error::certificate_name_mismatch, c.client_ec.message());
    BOOST_TEST(c.client_ec == tlsx::condition::certificate);
    BOOST_TEST(contains(c.client_ec.message(), "host name mismatch"));
    BOOST_TEST(c.server_ec);
}

BOOST_AUTO_TEST_CASE(certificate_of_another_ca_is_certificate_untrusted) {
    tlsx::context sctx = server_context();
    tlsx::context cctx(tlsx::context::tls_client);
    cctx.add_certificate_authority(pem(certs::other_ca_cert));
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::error::certificate_untrusted, c.client_ec.message());
}

BOOST_AUTO_TEST_CASE(verify_callback_sees_each_depth_of_the_chain) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    struct seen_cert {
        int depth;
        bool preverified;
        std::string subject;
        std::size_t der_size;
    };
    std::vector<seen_cert> seen;
    cctx.set_verify_callback([&](bool preverified, tlsx::verify_context& v) {
        seen.push_back({v.depth(), preverified, v.subject(), v.certificate().size()});
        BOOST_TEST(v.native_handle() != nullptr);
        BOOST_TEST(v.flags() == 0u);
        BOOST_TEST(v.error_message().empty());
        return preverified;
    });
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message());
    BOOST_TEST_REQUIRE(seen.size() == 2u);
    // From the root down to the peer's own certificate.
    BOOST_TEST(seen[0].depth == 1);
    BOOST_TEST(contains(seen[0].subject, "tlsx test CA"));
    BOOST_TEST(seen[1].depth == 0);
    BOOST_TEST(contains(seen[1].subject, "localhost"));
    for (const auto& s : seen) {
        BOOST_TEST(s.preverified);
        BOOST_TEST(s.der_size > 0u);
    }
    BOOST_TEST(seen[1].der_size == der_of(certs::server_cert).size());
}

BOOST_AUTO_TEST_CASE(verify_callback_can_accept_an_untrusted_certificate) {
    tlsx::context sctx = server_context(certs::untrusted_cert, certs::untrusted_key);
    tlsx::context cctx = client_context();
    bool saw_failure = false;
    std::string why;
    cctx.set_verify_callback([&](bool preverified, tlsx::verify_context& v) {
        if (!preverified && v.depth() == 0) {
            saw_failure = true;
            why = v.error_message();
        }
        return true;
    });
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(c.handshake(io), c.client_ec.message());
    BOOST_TEST(saw_failure);
    BOOST_TEST_MESSAGE("verify_context::error_message(): " << why);
    BOOST_TEST(contains(why, "not"));
    BOOST_TEST(c.client.peer_certificate() == der_of(certs::untrusted_cert));
}

BOOST_AUTO_TEST_CASE(verify_callback_returning_false_is_certificate_rejected) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    cctx.set_verify_callback([](bool, tlsx::verify_context& v) { return v.depth() != 0; });
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::error::certificate_rejected, c.client_ec.message());
    BOOST_TEST(c.client_ec == tlsx::condition::certificate);
}

BOOST_AUTO_TEST_CASE(verify_depth_limits_the_intermediates) {
    auto [chain, key] = chain_with_intermediate();
    tlsx::context sctx = server_context(chain, key);
    // As OpenSSL: depth N allows N intermediates between the peer and the trust anchor.
    for (int depth : {-1, 0, 1, 2}) {
        BOOST_TEST_CONTEXT("set_verify_depth(" << depth << ")") {
            tlsx::context cctx = client_context();
            if (depth >= 0)
                cctx.set_verify_depth(depth);
            net::io_context io;
            connection<> c(io, cctx, sctx, "leaf"); // the leaf is CN=leaf
            const bool ok = c.handshake(io);
            if (depth == 0) {
                BOOST_TEST(!ok);
                BOOST_TEST(c.client_ec == tlsx::condition::certificate, c.client_ec.message());
            } else {
                BOOST_TEST(ok, c.client_ec.message());
            }
        }
    }
    // A leaf signed by the root itself passes with depth 0.
    tlsx::context direct = server_context();
    tlsx::context cctx = client_context();
    cctx.set_verify_depth(0);
    net::io_context io;
    connection<> c(io, cctx, direct);
    BOOST_TEST(c.handshake(io), c.client_ec.message());
}

BOOST_AUTO_TEST_CASE(server_requiring_a_client_certificate_receives_it) {
    tlsx::context sctx = server_context();
    sctx.add_certificate_authority(pem(certs::ca_cert));
    sctx.set_verify_mode(tlsx::verify_mode::required);
    tlsx::context cctx = client_context();
    cctx.use_certificate_chain(pem(certs::client_cert));
    cctx.use_private_key(pem(certs::client_key), tlsx::context::pem);
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
    BOOST_TEST(c.server.peer_certificate() == der_of(certs::client_cert));
    BOOST_TEST(c.client.peer_certificate() == der_of(certs::server_cert));
}

BOOST_AUTO_TEST_CASE(server_requiring_a_client_certificate_fails_without_one) {
    tlsx::context sctx = server_context();
    sctx.add_certificate_authority(pem(certs::ca_cert));
    sctx.set_verify_mode(tlsx::verify_mode::required);
    tlsx::context cctx = client_context();
    // In TLS 1.3 the client's handshake ends before the server judges its certificate (the
    // alert comes with the client's first read): this is about TLS 1.2's handshake.
    backend::tls12_only(cctx);
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.server_ec == tlsx::error::no_peer_certificate, c.server_ec.message());
    BOOST_TEST(c.client_ec, c.client_ec.message());
    // As OpenSSL and GnuTLS servers do, the server tells the client why with a fatal alert
    // (rather than leaving it waiting until the transport closes).
    BOOST_TEST(std::string(c.client_ec.category().name()) == "tlsx.alert",
               "the client got no alert, only: " << c.client_ec.message());
}

BOOST_AUTO_TEST_CASE(server_rejects_a_client_certificate_from_another_ca) {
    tlsx::context sctx = server_context();
    sctx.add_certificate_authority(pem(certs::other_ca_cert));
    sctx.set_verify_mode(tlsx::verify_mode::required);
    tlsx::context cctx = client_context();
    cctx.use_certificate_chain(pem(certs::client_cert));
    cctx.use_private_key(pem(certs::client_key), tlsx::context::pem);
    backend::tls12_only(cctx); // as above: TLS 1.3's client is done before the server judges
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.server_ec == tlsx::error::certificate_untrusted, c.server_ec.message());
    BOOST_TEST(std::string(c.client_ec.category().name()) == "tlsx.alert", c.client_ec.message());
}

BOOST_AUTO_TEST_CASE(server_with_optional_verification_accepts_a_client_without_certificate) {
    tlsx::context sctx = server_context();
    sctx.add_certificate_authority(pem(certs::ca_cert));
    sctx.set_verify_mode(tlsx::verify_mode::optional);
    tlsx::context cctx = client_context();
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());
    BOOST_TEST(c.server.peer_certificate().empty());
}

BOOST_AUTO_TEST_CASE(default_verify_paths_load_the_system_store) {
    const char* bundle = "/etc/ssl/certs/ca-certificates.crt";
    if (!std::filesystem::exists(bundle)) {
        BOOST_TEST_MESSAGE("skipped: no " << bundle);
        return;
    }
    tlsx::context cctx(tlsx::context::tls_client);
    error_code ec;
    cctx.set_default_verify_paths(ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_CHECK_NO_THROW(cctx.set_default_verify_paths());
    // The system store does not know the test CA.
    tlsx::context sctx = server_context();
    net::io_context io;
    connection<> c(io, cctx, sctx);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(c.client_ec == tlsx::error::certificate_untrusted, c.client_ec.message());
}

// ---- generate_self_signed ---------------------------------------------------------------------

namespace {

/// The subjectAltName entries of a PEM certificate, as {tag, value} pairs.
std::set<std::pair<int, std::string>> subject_alt_names(std::string_view cert_pem) {
    std::set<std::pair<int, std::string>> out;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    const std::vector<unsigned char> der = der_of(cert_pem);
    if (mbedtls_x509_crt_parse_der(&crt, der.data(), der.size()) == 0)
        for (const mbedtls_x509_sequence* s = &crt.subject_alt_names; s && s->buf.p; s = s->next)
            out.emplace(s->buf.tag,
                        std::string(reinterpret_cast<const char*>(s->buf.p), s->buf.len));
    mbedtls_x509_crt_free(&crt);
    return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(self_signed_certificate_for_a_host_name_serves_a_verified_handshake) {
    const tlsx::self_signed_credentials cred = tlsx::generate_self_signed("localhost");
    const std::set<std::pair<int, std::string>> dns_only = {{0x82, "localhost"}};
    BOOST_TEST((subject_alt_names(cred.certificate_pem) == dns_only));
    tlsx::context sctx = server_context(cred.certificate_pem, cred.private_key_pem);
    check_handshake_trusting(cred.certificate_pem, sctx, "localhost");
}

BOOST_AUTO_TEST_CASE(self_signed_certificate_for_an_ip_literal_names_it_as_address_and_text) {
    const tlsx::self_signed_credentials v4 = tlsx::generate_self_signed("127.0.0.1");
    const std::set<std::pair<int, std::string>> v4_names = {{0x82, "127.0.0.1"},
                                                            {0x87, std::string("\x7f\0\0\x01", 4)}};
    BOOST_TEST((subject_alt_names(v4.certificate_pem) == v4_names));
    const tlsx::self_signed_credentials v6 = tlsx::generate_self_signed("::1");
    const std::set<std::pair<int, std::string>> v6_names = {{0x82, "::1"},
                                                            {0x87, std::string(15, '\0') + '\x01'}};
    BOOST_TEST((subject_alt_names(v6.certificate_pem) == v6_names));

    // mbedTLS 2.28 matches the host name against the dNSName as text.
    tlsx::context sctx = server_context(v4.certificate_pem, v4.private_key_pem);
    check_handshake_trusting(v4.certificate_pem, sctx, "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(self_signed_refuses_a_name_that_is_not_a_plain_host_name) {
    for (const std::string& name :
         std::vector<std::string>{"", "two words", "CN=x", "quote\"d", std::string(65, 'a')}) {
        const auto e = thrown_by([&] { tlsx::generate_self_signed(name); });
        BOOST_TEST(e.code() == tlsx::error::invalid_argument, name);
        BOOST_TEST(contains(e.what(), "\"" + name + "\""), e.what());
    }
    BOOST_CHECK_NO_THROW(tlsx::generate_self_signed(std::string(64, 'a')));
    BOOST_CHECK_NO_THROW(tlsx::generate_self_signed("*.a_b-c.example"));
}

// ---- observability ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(keylog_gives_one_line_per_handshake_in_nss_format) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    backend::tls12_only(cctx); // one CLIENT_RANDOM line; TLS 1.3's four lines are tested below
    std::vector<std::string> client_lines, server_lines;
    cctx.set_keylog_callback([&](std::string_view l) { client_lines.emplace_back(l); });
    sctx.set_keylog_callback([&](std::string_view l) { server_lines.emplace_back(l); });
    net::io_context io;
    for (int i = 0; i < 2; ++i) {
        connection<> c(io, cctx, sctx);
        BOOST_TEST_REQUIRE(c.handshake(io));
    }
    BOOST_TEST_REQUIRE(client_lines.size() == 2u);
    BOOST_TEST(client_lines == server_lines, boost::test_tools::per_element());
    for (const auto& l : client_lines)
        BOOST_TEST(!parse_keylog(l).first.empty(), l);
    BOOST_TEST(client_lines[0] != client_lines[1]);
}

BOOST_AUTO_TEST_CASE(keylog_secret_decrypts_application_data) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    cctx.set_ciphersuites({"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"});
    backend::tls12_only(cctx); // the decryption below is TLS 1.2's key block and record format
    std::vector<std::string> lines;
    cctx.set_keylog_callback([&](std::string_view l) { lines.emplace_back(l); });

    net::io_context io;
    using tap = recording_layer<tlsx::test::pipe>;
    connection<tap> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io));
    BOOST_TEST_REQUIRE(c.client.cipher_suite() == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    BOOST_TEST_REQUIRE(lines.size() == 1u);

    const std::size_t handshake_bytes = c.client.next_layer().written.size();
    const std::string message = "the quick brown fox jumps over the lazy dog";
    std::string got(message.size(), '\0');
    net::async_write(c.client, net::buffer(message),
                     [](error_code ec, std::size_t) { BOOST_TEST(!ec); });
    net::async_read(c.server, net::buffer(got),
                    [](error_code ec, std::size_t) { BOOST_TEST(!ec); });
    BOOST_TEST(run_bounded(io));
    BOOST_TEST(got == message);

    // The randoms: client's from the key log (checked against the ClientHello), server's from
    // the ServerHello the client read.
    const auto [random_hex, secret_hex] = parse_keylog(lines[0]);
    BOOST_TEST_REQUIRE(!random_hex.empty(), lines[0]);
    const std::string client_random = from_hex(random_hex);
    const std::string master = from_hex(secret_hex);

    BOOST_TEST(hello_random(c.client.next_layer().written, 1) == client_random);
    const std::string server_random = hello_random(c.client.next_layer().read, 2);

    // key_block = PRF(master, "key expansion", server_random + client_random): for AES-128-GCM
    // client_write_key[16] server_write_key[16] client_write_IV[4] server_write_IV[4].
    const std::string seed = server_random + client_random;
    unsigned char key_block[40];
    BOOST_TEST_REQUIRE(mbedtls_ssl_tls_prf(MBEDTLS_SSL_TLS_PRF_SHA256, bytes(master), master.size(),
                                           "key expansion", bytes(seed), seed.size(), key_block,
                                           sizeof key_block) == 0);

    // The first application-data record the client wrote (sequence number 1: Finished was 0).
    auto app = records_of(std::string_view(c.client.next_layer().written).substr(handshake_bytes));
    BOOST_TEST_REQUIRE(app.size() == 1u);
    BOOST_TEST_REQUIRE(app[0].type == 23);
    std::string_view fragment = app[0].payload;
    BOOST_TEST_REQUIRE(fragment.size() == 8 + message.size() + 16);
    const std::string plain = decrypt_client_record(fragment, key_block);
    BOOST_TEST(plain == message);
}

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
BOOST_AUTO_TEST_CASE(keylog_gives_the_four_tls13_secrets_in_nss_format) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    cctx.set_ciphersuites({"TLS_AES_128_GCM_SHA256"}); // SHA-256: 32-byte secrets
    std::vector<std::string> client_lines, server_lines;
    cctx.set_keylog_callback([&](std::string_view l) { client_lines.emplace_back(l); });
    sctx.set_keylog_callback([&](std::string_view l) { server_lines.emplace_back(l); });
    net::io_context io;
    using tap = recording_layer<tlsx::test::pipe>;
    connection<tap> c(io, cctx, sctx);
    BOOST_TEST_REQUIRE(c.handshake(io));
    BOOST_TEST_REQUIRE(c.client.protocol_version() == "TLSv1.3");
    const std::string client_random_hex = to_hex(hello_random(c.client.next_layer().written, 1));

    std::set<std::string> labels, secrets;
    for (const std::string& l : client_lines) {
        BOOST_TEST_CONTEXT(l) {
            // "LABEL <64 hex: client random> <64 hex: secret>"
            const std::size_t a = l.find(' '), b = l.find(' ', a + 1);
            BOOST_TEST_REQUIRE(a != std::string::npos);
            BOOST_TEST_REQUIRE(b == a + 65);
            BOOST_TEST(l.substr(a + 1, 64) == client_random_hex);
            const std::string secret = l.substr(b + 1);
            BOOST_TEST(secret.size() == 64u);
            BOOST_TEST(secret.find_first_not_of("0123456789abcdef") == std::string::npos);
            labels.insert(l.substr(0, a));
            secrets.insert(secret);
        }
    }
    const std::set<std::string> expected = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"};
    BOOST_TEST(client_lines.size() == 4u);
    BOOST_TEST(labels == expected, boost::test_tools::per_element());
    BOOST_TEST(secrets.size() == 4u); // four different secrets
    // Both ends derive the same secrets (in the same order).
    BOOST_TEST(client_lines == server_lines, boost::test_tools::per_element());
}
#endif

BOOST_AUTO_TEST_CASE(debug_callback_receives_mbedtls_messages) {
    tlsx::context sctx = server_context();
    tlsx::context cctx = client_context();
    std::size_t messages = 0;
    bool well_formed = true;
    cctx.set_debug_callback(
        1, [&](int level, std::string_view file, int line, std::string_view text) {
            ++messages;
            well_formed = well_formed && level >= 1 && !file.empty() && line > 0 && !text.empty();
        });
    // Level 1 is where mbedTLS reports failures: a refused certificate produces some.
    tlsx::context untrusted = server_context(certs::untrusted_cert, certs::untrusted_key);
    net::io_context io;
    connection<> c(io, cctx, untrusted);
    BOOST_TEST(!c.handshake(io));
    BOOST_TEST(messages > 0u);
    BOOST_TEST(well_formed);

    // A successful handshake with a verbose level talks too.
    messages = 0;
    sctx.set_debug_callback(3, [&](int, std::string_view, int, std::string_view) { ++messages; });
    connection<> d(io, cctx, sctx);
    BOOST_TEST(d.handshake(io));
    BOOST_TEST(messages > 0u);
}

BOOST_AUTO_TEST_CASE(streams_keep_working_after_their_context_is_moved) {
    net::io_context io;
    auto sctx = std::make_unique<tlsx::context>(server_context());
    auto cctx = std::make_unique<tlsx::context>(client_context());
    connection<> c(io, *cctx, *sctx);
    tlsx::context moved_server(std::move(*sctx));
    tlsx::context moved_client = std::move(*cctx);
    // The moved-from contexts refuse to be configured...
    BOOST_TEST(thrown_by([&] { sctx->set_verify_mode(tlsx::verify_mode::none); }).code() ==
               tlsx::error::operation_not_permitted);
    error_code ec;
    cctx->add_certificate_authority(pem(certs::ca_cert), ec);
    BOOST_TEST(ec == tlsx::error::operation_not_permitted);
    BOOST_TEST(sctx->native_handle() == nullptr);
    // ...and may go away; the streams keep the configuration.
    sctx.reset();
    cctx.reset();
    BOOST_TEST(c.handshake(io), c.client_ec.message() << " / " << c.server_ec.message());

    // The moved-to contexts serve new streams.
    connection<> d(io, moved_client, moved_server);
    BOOST_TEST(d.handshake(io), d.client_ec.message() << " / " << d.server_ec.message());
}

BOOST_AUTO_TEST_SUITE_END()
