// src/context.cpp — a context's construction, its protocol settings and its callbacks.
//
// Builds the mbedTLS configurations for the client and server roles and holds the settings
// that belong to no other concern: ciphersuites, versions, ALPN, renegotiation, and the SNI,
// key-log and debug callbacks. Credentials, trust and resumption have their own context_*.cpp
// files; generate_self_signed is in self_signed.cpp; shared helpers are in
// detail/context_support.hpp.
//
#include <tlsx/context.hpp>

#include "detail/context_impl.hpp"
#include "detail/context_support.hpp"
#include "detail/mbedtls_compat.hpp"

#include <mbedtls/debug.h>
#include <mbedtls/ecp.h>
#include <mbedtls/version.h>
#if MBEDTLS_VERSION_MAJOR >= 3
#include <mbedtls/entropy.h>
#include <psa/crypto.h>
#endif

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

// These checks stand for the whole library, not only this file. tlsx builds against mbedTLS
// 2.28 and 3.x (3.6 LTS); 2.x/3.x differences of the public API are marked with
// `MBEDTLS_VERSION_MAJOR` where they are used (or named in detail/mbedtls_compat.hpp), those of
// the SSL internals are in detail/mbedtls_internals.hpp.
#if MBEDTLS_VERSION_MAJOR < 2 || MBEDTLS_VERSION_MAJOR > 3 ||                                      \
    (MBEDTLS_VERSION_MAJOR == 2 && MBEDTLS_VERSION_MINOR < 28)
#error "tlsx needs mbedTLS 2.28 or 3.x"
#endif

// ALPN, SNI and key export (the key log) are used here, certificate writing in self_signed.cpp,
// file I/O (reading a directory of CAs) in context_trust.cpp. Key export is always there in 3.x.
#if !defined(MBEDTLS_SSL_ALPN) || !defined(MBEDTLS_SSL_SERVER_NAME_INDICATION) ||                  \
    (MBEDTLS_VERSION_MAJOR < 3 && !defined(MBEDTLS_SSL_EXPORT_KEYS)) ||                            \
    !defined(MBEDTLS_X509_CRT_WRITE_C) || !defined(MBEDTLS_PEM_WRITE_C) || !defined(MBEDTLS_FS_IO)
#error "tlsx needs an mbedTLS built with ALPN, SNI, key export, certificate writing and file I/O"
#endif

namespace tlsx {

using boost::asio::const_buffer;
// The context's state (context_impl.hpp) and shared helpers (context_support.hpp).
using namespace detail;

// ---- construction ---------------------------------------------------------------------------

namespace {

void apply_keylog(context_impl& impl, mbedtls_ssl_config* conf) noexcept; // with the callbacks

void release(context_impl& impl) noexcept {
    // Configurations first: they point at everything else.
    mbedtls_ssl_config_free(&impl.config[stream_base::client]);
    mbedtls_ssl_config_free(&impl.config[stream_base::server]);
    impl.has_config[stream_base::client] = impl.has_config[stream_base::server] = false;
    mbedtls_x509_crt_free(&impl.ca);
    mbedtls_x509_crl_free(&impl.crl);
    mbedtls_ssl_ticket_free(&impl.ticket);
    mbedtls_ssl_cache_free(&impl.cache);
    mbedtls_ctr_drbg_free(&impl.drbg);
    mbedtls_entropy_free(&impl.entropy);
}

/// The default TLS 1.3 suites, in the same order as the TLS 1.2 ones below (all three are AEAD
/// with forward secrecy by construction). Also appended to a set_ciphersuites list that names
/// none, as OpenSSL keeps its TLS 1.3 suites apart from its cipher list: a TLS 1.2 list then
/// does not make every TLS 1.3 handshake fail.
#if TLSX_HAS_TLS1_3
const int default_tls13_ciphersuites[] = {MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
                                          MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
                                          MBEDTLS_TLS1_3_AES_256_GCM_SHA384};
#endif

/// The default suites, fastest first as measured on this mbedTLS build (docs/performance.md:
/// ChaCha20-Poly1305 runs ~1.5x AES-GCM here): forward secrecy and AEAD only.
const int default_ciphersuites[] = {
#if TLSX_HAS_TLS1_3
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0};

/// Key-exchange curves, cheapest first (mbedTLS's default puts P-521 first, which made
/// handshakes with GnuTLS peers several times slower). 3.x names them by their IANA group
/// numbers (the same list serves TLS 1.3 key shares).
#if MBEDTLS_VERSION_MAJOR >= 3
const std::uint16_t default_groups[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
#else
const mbedtls_ecp_group_id default_curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                               MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
                                               MBEDTLS_ECP_DP_NONE};
#endif

// One role's configuration: tlsx's defaults, and what the other files put on it.
void set_up_config(context_impl& impl, stream_base::handshake_type role) {
    mbedtls_ssl_config* conf = &impl.config[role];
    check(mbedtls_ssl_config_defaults(
              conf, role == stream_base::client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
              MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT),
          "tlsx::context: mbedtls_ssl_config_defaults");
    impl.has_config[role] = true;
    mbedtls_ssl_conf_rng(conf, context_impl::random, &impl);
#if MBEDTLS_VERSION_MAJOR >= 3
    // TLS 1.2 up to the highest this build has (1.3 where MBEDTLS_SSL_PROTO_TLS1_3 is on).
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(conf, TLSX_HAS_TLS1_3 ? MBEDTLS_SSL_VERSION_TLS1_3
                                                           : MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    mbedtls_ssl_conf_authmode(conf, context_impl::authmode(impl.mode[role]));
    mbedtls_ssl_conf_ciphersuites(conf, default_ciphersuites);
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_ssl_conf_groups(conf, default_groups);
#else
    mbedtls_ssl_conf_curves(conf, default_curves);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    // Off in this shared configuration: each session gets its own copy of it (engine.cpp) and
    // switches renegotiation on there only while its renegotiation_policy accepts or asks.
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    // Never with a peer that lacks secure renegotiation (RFC 5746), whatever the policy.
    mbedtls_ssl_conf_legacy_renegotiation(conf, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
    apply_trust(impl, conf);
    apply_keylog(impl, conf);
}

#if MBEDTLS_VERSION_MAJOR >= 3
/// mbedTLS 3.x computes with PSA Crypto (TLS 1.3's key schedule always, more with
/// MBEDTLS_USE_PSA_CRYPTO), which must be initialised first. Idempotent and, with
/// MBEDTLS_THREADING_C, thread-safe: every context calls it.
void init_psa() {
    const psa_status_t status = psa_crypto_init();
    if (status == PSA_SUCCESS)
        return;
    const int code = status == PSA_ERROR_INSUFFICIENT_MEMORY    ? MBEDTLS_ERR_SSL_ALLOC_FAILED
                     : status == PSA_ERROR_INSUFFICIENT_ENTROPY ? MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
                                                                : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    throw_error(make_mbedtls_error(code), "tlsx::context", "psa_crypto_init failed",
                "PSA status " + std::to_string(static_cast<int>(status)));
}
#endif

void set_up(context_impl& impl) {
#if MBEDTLS_VERSION_MAJOR >= 3
    init_psa();
#endif
    static const unsigned char personalisation[] = {'t', 'l', 's', 'x'};
    check(mbedtls_ctr_drbg_seed(&impl.drbg, mbedtls_entropy_func, &impl.entropy, personalisation,
                                sizeof personalisation),
          "tlsx::context: seeding the random generator");

    bool allowed[2] = {false, false};
    switch (impl.method) {
    case context::tls:
        allowed[stream_base::client] = allowed[stream_base::server] = true;
        break;
    case context::tls_client:
        allowed[stream_base::client] = true;
        break;
    case context::tls_server:
        allowed[stream_base::server] = true;
        break;
    default:
        throw_error(error::invalid_argument, "tlsx::context", "unknown method", {});
    }

    for (auto role : all_roles)
        if (allowed[role])
            set_up_config(impl, role);
    // Resumption: clients always offer tickets (mbedTLS's default); servers issue them.
    if (impl.has_config[stream_base::server])
        enable_tickets(impl, std::chrono::hours(1));
}

} // namespace

namespace detail {

context_impl::context_impl(context::method m)
    : method(m) {
    // Initialise everything first (cannot fail), so release() is safe whatever set_up reached.
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&config[stream_base::client]);
    mbedtls_ssl_config_init(&config[stream_base::server]);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crl_init(&crl);
    mbedtls_ssl_ticket_init(&ticket);
    mbedtls_ssl_cache_init(&cache);
    try {
        set_up(*this);
    } catch (...) {
        release(*this);
        throw;
    }
}

context_impl::~context_impl() {
    release(*this);
    // `credentials` goes after this body, once no configuration points at it any more.
}

int context_impl::random(void* p, unsigned char* out, std::size_t len) {
    auto& impl = *static_cast<context_impl*>(p);
#if !defined(MBEDTLS_THREADING_C)
    std::lock_guard<std::mutex> lock(impl.rng_mutex);
#endif
    // With MBEDTLS_THREADING_C the DRBG locks itself, so streams on several threads may share it.
    return mbedtls_ctr_drbg_random(&impl.drbg, out, len);
}

} // namespace detail

context::context(method m)
    : impl_(std::make_shared<context_impl>(m)) {}

context::context(context&&) noexcept = default;
context& context::operator=(context&&) noexcept = default;
context::~context() = default;

context::method context::get_method() const noexcept {
    return impl_ ? impl_->method : tls;
}

mbedtls_ssl_config* context::native_handle() noexcept {
    if (!impl_)
        return nullptr;
    return impl_->config_for(impl_->method == tls_server ? stream_base::server
                                                         : stream_base::client);
}

mbedtls_ssl_config* context::native_handle(stream_base::handshake_type role) noexcept {
    return impl_ ? impl_->config_for(role) : nullptr;
}

// ---- protocol -------------------------------------------------------------------------------

namespace {

error_code set_suites(context_impl& impl, const std::vector<std::string>& names,
                      std::string& detail) {
    if (names.empty()) {
        detail = "empty ciphersuite list";
        return error::invalid_argument;
    }
    std::vector<int> ids;
    ids.reserve(names.size() + 1);
    for (const std::string& name : names) {
        // IANA names differ from mbedTLS's only by '_' for '-'.
        std::string key = name;
        std::replace(key.begin(), key.end(), '_', '-');
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        int id = key.empty() ? 0 : mbedtls_ssl_get_ciphersuite_id(key.c_str());
#if TLSX_HAS_TLS1_3
        // TLS 1.3 suites: IANA's TLS_AES_128_GCM_SHA256 is mbedTLS's TLS1-3-AES-128-GCM-SHA256.
        if (id == 0 && key.rfind("TLS-", 0) == 0)
            id = mbedtls_ssl_get_ciphersuite_id(("TLS1-3-" + key.substr(4)).c_str());
#endif
        if (id == 0) {
            detail = name.empty() ? std::string("(empty name)") : name;
            return error::unknown_ciphersuite;
        }
        ids.push_back(id);
    }
#if TLSX_HAS_TLS1_3
    // A list without TLS 1.3 suites chooses the TLS 1.2 ones only (see default_tls13_ciphersuites).
    const bool names_tls13 = std::any_of(ids.begin(), ids.end(), [](int id) {
        return std::find(std::begin(default_tls13_ciphersuites),
                         std::end(default_tls13_ciphersuites),
                         id) != std::end(default_tls13_ciphersuites) ||
               id == MBEDTLS_TLS1_3_AES_128_CCM_SHA256 || id == MBEDTLS_TLS1_3_AES_128_CCM_8_SHA256;
    });
    if (!names_tls13)
        ids.insert(ids.end(), std::begin(default_tls13_ciphersuites),
                   std::end(default_tls13_ciphersuites));
#endif
    ids.push_back(0);
    impl.ciphersuites = std::move(ids);
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        mbedtls_ssl_conf_ciphersuites(conf, impl.ciphersuites.data());
    });
    return {};
}

#if MBEDTLS_VERSION_MAJOR >= 3
// mbedTLS 3.x has TLS 1.2 and (if built with it) 1.3 only. A minimum below 1.2 is 1.2; a
// maximum below 1.2 cannot be had and is refused, as is 1.3 where the build lacks it.
mbedtls_ssl_protocol_version protocol_version_of(tls_version v, bool is_max, const char* fn) {
    switch (v) {
    case tls_version::tls1_0:
    case tls_version::tls1_1:
        if (!is_max)
            return MBEDTLS_SSL_VERSION_TLS1_2;
        throw_error(error::invalid_argument, fn,
                    std::string(v == tls_version::tls1_0 ? "TLS 1.0" : "TLS 1.1") +
                        " is not supported by mbedTLS " MBEDTLS_VERSION_STRING,
                    {});
    case tls_version::tls1_2:
        return MBEDTLS_SSL_VERSION_TLS1_2;
    case tls_version::tls1_3:
#if TLSX_HAS_TLS1_3
        return MBEDTLS_SSL_VERSION_TLS1_3;
#else
        throw_error(error::invalid_argument, fn,
                    "TLS 1.3 is not supported by this build of mbedTLS " MBEDTLS_VERSION_STRING,
                    {});
#endif
    }
    throw_error(error::invalid_argument, fn, "unknown TLS version", {});
}

void set_version_bound(const std::shared_ptr<context_impl>& p, const char* fn, tls_version v,
                       bool is_max) {
    context_impl& impl = need(p, fn);
    const mbedtls_ssl_protocol_version version = protocol_version_of(v, is_max, fn);
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        if (is_max)
            mbedtls_ssl_conf_max_tls_version(conf, version);
        else
            mbedtls_ssl_conf_min_tls_version(conf, version);
    });
}
#else
// The TLS minor version on the wire (major is 3): TLS 1.0 is 3.1, ..., TLS 1.2 is 3.3.
int wire_minor(tls_version v, const char* fn) {
    switch (v) {
    case tls_version::tls1_0:
        return MBEDTLS_SSL_MINOR_VERSION_1;
    case tls_version::tls1_1:
        return MBEDTLS_SSL_MINOR_VERSION_2;
    case tls_version::tls1_2:
        return MBEDTLS_SSL_MINOR_VERSION_3;
    case tls_version::tls1_3:
        throw_error(error::invalid_argument, fn,
                    "TLS 1.3 is not supported by mbedTLS " MBEDTLS_VERSION_STRING, {});
    }
    throw_error(error::invalid_argument, fn, "unknown TLS version", {});
}

// Sets one end of the version range on every configuration; `bound` is
// mbedtls_ssl_conf_min_version or mbedtls_ssl_conf_max_version.
void set_version_bound(const std::shared_ptr<context_impl>& p, const char* fn, tls_version v,
                       void (*bound)(mbedtls_ssl_config*, int, int)) {
    context_impl& impl = need(p, fn);
    const int minor = wire_minor(v, fn);
    for_each_config(
        impl, [&](mbedtls_ssl_config* conf) { bound(conf, MBEDTLS_SSL_MAJOR_VERSION_3, minor); });
}
#endif

} // namespace

void context::set_ciphersuites(const std::vector<std::string>& names) {
    const char* fn = "tlsx::context::set_ciphersuites";
    std::string detail;
    error_code ec = set_suites(need(impl_, fn), names, detail);
    if (ec) // the detail is the offending name: name it first, as a file overload names its path
        throw_error(ec, fn, detail, {});
}

void context::set_ciphersuites(const std::vector<std::string>& names, error_code& ec) {
    ec = run(impl_, [&](context_impl& impl, std::string& detail) {
        return set_suites(impl, names, detail);
    });
}

void context::set_min_version(tls_version v) {
#if MBEDTLS_VERSION_MAJOR >= 3
    set_version_bound(impl_, "tlsx::context::set_min_version", v, false);
#else
    set_version_bound(impl_, "tlsx::context::set_min_version", v, mbedtls_ssl_conf_min_version);
#endif
}

void context::set_max_version(tls_version v) {
#if MBEDTLS_VERSION_MAJOR >= 3
    set_version_bound(impl_, "tlsx::context::set_max_version", v, true);
#else
    set_version_bound(impl_, "tlsx::context::set_max_version", v, mbedtls_ssl_conf_max_version);
#endif
}

void context::set_alpn_protocols(const std::vector<std::string>& protocols) {
    const char* fn = "tlsx::context::set_alpn_protocols";
    context_impl& impl = need(impl_, fn);
    if (protocols.empty())
        throw_error(error::invalid_argument, fn, "empty protocol list", {});
    std::size_t total = 0;
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255)
            throw_error(error::invalid_argument, fn, "a protocol name must be 1 to 255 bytes long",
                        {});
        total += p.size() + 1;
    }
    if (total > 65535)
        throw_error(error::invalid_argument, fn, "protocol list too long", {});

    // mbedTLS keeps the pointer array, which points into the strings: both live in the impl.
    impl.alpn = protocols;
    impl.alpn_ptrs.clear();
    for (const std::string& p : impl.alpn)
        impl.alpn_ptrs.push_back(p.c_str());
    impl.alpn_ptrs.push_back(nullptr);
    error_code ec;
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        if (int ret = mbedtls_ssl_conf_alpn_protocols(conf, impl.alpn_ptrs.data()); ret && !ec)
            ec = make_mbedtls_error(ret);
    });
    if (ec)
        throw_error(ec, fn, {}, {});
}

void context::set_renegotiation(renegotiation_policy policy) {
    need(impl_, "tlsx::context::set_renegotiation").renegotiation = policy;
}

void context::set_renegotiation_enforcement(int max_records) {
    need(impl_, "tlsx::context::set_renegotiation_enforcement").renegotiation_max_records =
        max_records;
}

// ---- callbacks ------------------------------------------------------------------------------
//
// mbedTLS calls C functions with a void* argument; these forward to the std::function stored
// in the context_impl that is that argument. Exceptions must not cross mbedTLS's C frames.

namespace {

int sni_trampoline(void* p, mbedtls_ssl_context* ssl, const unsigned char* name, std::size_t len) {
    auto& impl = *static_cast<context_impl*>(p);
    if (!impl.sni_cb)
        return 0;
    sni_selection selection(ssl, std::string_view(reinterpret_cast<const char*>(name), len));
    try {
        // Failing makes mbedTLS abort the handshake with an unrecognized_name alert.
        if (!impl.sni_cb(selection))
            return -1;
    } catch (...) {
        return -1;
    }
    return selection.result();
}

void append_hex(std::string& out, const unsigned char* data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0x0F];
    }
}

/// One line of the NSS key log format
/// (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
/// "LABEL <client random> <secret>", in hex.
void emit_keylog(context_impl& impl, const char* label, const unsigned char client_random[32],
                 const unsigned char* secret, std::size_t secret_size) {
    if (!impl.keylog_cb)
        return;
    scrubbed_string line;
    line.value.reserve(std::strlen(label) + 1 + 64 + 1 + 2 * secret_size);
    line.value = label;
    line.value += ' ';
    append_hex(line.value, client_random, 32);
    line.value += ' ';
    append_hex(line.value, secret, secret_size);
    try {
        impl.keylog_cb(line.value);
    } catch (...) {
        // A failing key log must not fail the connection it describes.
    }
}

#if MBEDTLS_VERSION_MAJOR >= 3
// 3.x exports each secret once it is derived: TLS 1.2's master secret, TLS 1.3's traffic
// secrets (the labels of the NSS format name them). Early data is off in tlsx, and the early
// exporter secret has no NSS line.
void keylog_trampoline(void* p, mbedtls_ssl_key_export_type type, const unsigned char* secret,
                       std::size_t secret_size, const unsigned char client_random[32],
                       const unsigned char[32], mbedtls_tls_prf_types) {
    const char* label = nullptr;
    switch (type) {
    case MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET:
        label = "CLIENT_RANDOM";
        break;
#if TLSX_HAS_TLS1_3
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_EARLY_SECRET:
        label = "CLIENT_EARLY_TRAFFIC_SECRET";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_HANDSHAKE_TRAFFIC_SECRET:
        label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_HANDSHAKE_TRAFFIC_SECRET:
        label = "SERVER_HANDSHAKE_TRAFFIC_SECRET";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET:
        label = "CLIENT_TRAFFIC_SECRET_0";
        break;
    case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET:
        label = "SERVER_TRAFFIC_SECRET_0";
        break;
#endif
    default:
        return;
    }
    emit_keylog(*static_cast<context_impl*>(p), label, client_random, secret, secret_size);
}

// The callback is per session in 3.x: attach_keylog (engine setup) installs it.
void apply_keylog(context_impl&, mbedtls_ssl_config*) noexcept {}
#else
int keylog_trampoline(void* p, const unsigned char* master_secret, const unsigned char*,
                      std::size_t, std::size_t, std::size_t, const unsigned char client_random[32],
                      const unsigned char[32], mbedtls_tls_prf_types) {
    emit_keylog(*static_cast<context_impl*>(p), "CLIENT_RANDOM", client_random, master_secret, 48);
    return 0;
}

void apply_keylog(context_impl& impl, mbedtls_ssl_config* conf) noexcept {
    if (impl.keylog_cb)
        mbedtls_ssl_conf_export_keys_ext_cb(conf, keylog_trampoline, &impl);
    else
        mbedtls_ssl_conf_export_keys_ext_cb(conf, nullptr, nullptr);
}
#endif

void debug_trampoline(void* p, int level, const char* file, int line, const char* message) {
    auto& impl = *static_cast<context_impl*>(p);
    if (!impl.debug_cb)
        return;
    std::string_view text = message ? message : "";
    if (!text.empty() && text.back() == '\n') // mbedTLS ends each message with one
        text.remove_suffix(1);
    try {
        impl.debug_cb(level, file ? file : "", line, text);
    } catch (...) {
        // Debug output must not change what the connection does.
    }
}

void raise_debug_threshold(int level) {
#if defined(MBEDTLS_DEBUG_C)
    // The threshold is process-wide: keep the highest any context asked for.
    static std::mutex mutex;
    static int highest = 0;
    std::lock_guard<std::mutex> lock(mutex);
    if (level > highest) {
        highest = level;
        mbedtls_debug_set_threshold(level);
    }
#else
    (void)level;
#endif
}

} // namespace

namespace detail {

void attach_keylog(context_impl& impl, mbedtls_ssl_context& ssl) noexcept {
#if MBEDTLS_VERSION_MAJOR >= 3
    if (impl.keylog_cb)
        mbedtls_ssl_set_export_keys_cb(&ssl, keylog_trampoline, &impl);
#else
    (void)impl; // 2.x: set on the configuration (apply_keylog), which the session copies
    (void)ssl;
#endif
}

} // namespace detail

void sni_selection::use(const context& other) {
    const auto& impl = other.impl();
    if (!impl) {
        result_ = MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
        return;
    }
    // Every complete pair of the other context, so mbedTLS can still choose by the client's
    // ciphersuites between, say, an RSA and an ECDSA certificate.
    bool any = false;
    for (const auto& cred : impl->credentials) {
        if (!cred->has_key)
            continue;
        if (int ret = mbedtls_ssl_set_hs_own_cert(ssl_, &cred->chain, &cred->key)) {
            result_ = ret;
            return;
        }
        any = true;
    }
    if (!any)
#if MBEDTLS_VERSION_MAJOR >= 3
        // 3.x has no MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED: both cases lack a usable pair.
        result_ = MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED;
#else
        result_ = impl->credentials.empty() ? MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED
                                            : MBEDTLS_ERR_SSL_PRIVATE_KEY_REQUIRED;
#endif
}

void context::set_sni_callback(sni_callback cb) {
    context_impl& impl = need(impl_, "tlsx::context::set_sni_callback");
    impl.sni_cb = std::move(cb);
    if (mbedtls_ssl_config* conf = impl.config_for(stream_base::server)) {
        if (impl.sni_cb)
            mbedtls_ssl_conf_sni(conf, sni_trampoline, &impl);
        else
            mbedtls_ssl_conf_sni(conf, nullptr, nullptr);
    }
}

void context::set_keylog_callback(keylog_callback cb) {
    context_impl& impl = need(impl_, "tlsx::context::set_keylog_callback");
    impl.keylog_cb = std::move(cb);
    for_each_config(impl, [&](mbedtls_ssl_config* conf) { apply_keylog(impl, conf); });
}

void context::set_debug_callback(int level, debug_callback cb) {
    context_impl& impl = need(impl_, "tlsx::context::set_debug_callback");
    impl.debug_cb = std::move(cb);
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        if (impl.debug_cb)
            mbedtls_ssl_conf_dbg(conf, debug_trampoline, &impl);
        else
            mbedtls_ssl_conf_dbg(conf, nullptr, nullptr);
    });
    if (impl.debug_cb)
        raise_debug_threshold(std::clamp(level, 0, 4));
}

} // namespace tlsx
