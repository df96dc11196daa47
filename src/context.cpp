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
#include "detail/mbedtls_internals.hpp"

#include <mbedtls/debug.h>
#include <mbedtls/ecp.h>
#include <mbedtls/version.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

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

// One role's configuration: tlsx's defaults, and what the other files put on it.
void set_up_config(context_impl& impl, stream_base::handshake_type role) {
    mbedtls_ssl_config* conf = &impl.config[role];
    check(mbedtls_ssl_config_defaults(
              conf, role == stream_base::client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
              MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT),
          "tlsx::context: mbedtls_ssl_config_defaults");
    impl.has_config[role] = true;
    mbedtls_ssl_conf_rng(conf, context_impl::random, &impl);
    internals::conf_default_versions(conf); // TLS 1.2 up to the highest this mbedTLS has
    internals::conf_version_bound(conf, impl.method_min, false); // what the method allows
    internals::conf_version_bound(conf, impl.method_max, true);
    mbedtls_ssl_conf_authmode(conf, context_impl::authmode(impl.mode[role]));
    mbedtls_ssl_conf_ciphersuites(conf, default_ciphersuites);
    internals::conf_default_groups(conf);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    // Off in this shared configuration: each session gets its own copy of it (engine.cpp) and
    // switches renegotiation on there only while its renegotiation_policy accepts or asks.
    mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    // Never with a peer that lacks secure renegotiation (RFC 5746), whatever the policy.
    mbedtls_ssl_conf_legacy_renegotiation(conf, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
    apply_keylog(impl, conf);
}

/// Start the crypto layer (PSA Crypto on 3.x; see internals::init_crypto).
void init_crypto() {
    int status = 0;
    if (int code = internals::init_crypto(status))
        throw_error(make_mbedtls_error(code), "tlsx::context", "psa_crypto_init failed",
                    "PSA status " + std::to_string(status));
}

// ---- asio::ssl methods ----------------------------------------------------------------------

/// What a context method allows: its roles and its version range (minor numbers).
struct method_traits {
    bool known = false;
    bool client = false;
    bool server = false;
    int min_minor = 2;
    int max_minor = 2;
};

method_traits traits_of(context::method m) noexcept {
    method_traits t;
    t.known = true;
    t.client = t.server = true;
    t.min_minor = 2;
    t.max_minor = TLSX_HAS_TLS1_3 ? 3 : 2;
    switch (m) {
    case context::tls_client:
    case context::sslv23_client:
        t.server = false;
        break;
    case context::tls_server:
    case context::sslv23_server:
        t.client = false;
        break;
    case context::tls:
    case context::sslv23:
        break;
    case context::tlsv12_client:
        t.server = false;
        t.max_minor = 2;
        break;
    case context::tlsv12_server:
        t.client = false;
        t.max_minor = 2;
        break;
    case context::tlsv12:
        t.max_minor = 2;
        break;
    case context::tlsv13_client:
        t.server = false;
        t.min_minor = t.max_minor = 3;
        break;
    case context::tlsv13_server:
        t.client = false;
        t.min_minor = t.max_minor = 3;
        break;
    case context::tlsv13:
        t.min_minor = t.max_minor = 3;
        break;
    default:
        t.known = false;
    }
    return t;
}

void set_up(context_impl& impl) {
    init_crypto();
    static const unsigned char personalisation[] = {'t', 'l', 's', 'x'};
    check(mbedtls_ctr_drbg_seed(&impl.drbg, drbg_entropy, &impl.entropy, personalisation,
                                sizeof personalisation),
          "tlsx::context: seeding the random generator");

    bool allowed[2] = {false, false};
    const method_traits t = traits_of(impl.method);
    if (!t.known)
        throw_error(error::invalid_argument, "tlsx::context", "unknown method", {});
    if (t.max_minor == 3 && !TLSX_HAS_TLS1_3)
        throw_error(error::invalid_argument, "tlsx::context",
                    "TLS 1.3 (method tlsv13*) is not supported by mbedTLS " MBEDTLS_VERSION_STRING,
                    {});
    allowed[stream_base::client] = t.client;
    allowed[stream_base::server] = t.server;
    impl.method_min = t.min_minor;
    impl.method_max = t.max_minor;

    for (auto role : all_roles)
        if (allowed[role])
            set_up_config(impl, role);
    // Resumption: clients always offer tickets (mbedTLS's default); servers issue them.
    if (impl.has_config[stream_base::server])
        enable_tickets(impl, std::chrono::hours(1));
    // A server-only context bounds its handshakes (slowloris); see stream_base.hpp.
    if (!impl.has_config[stream_base::client]) {
        impl.handshake_timeout = default_server_handshake_timeout;
        impl.handshake_timeout_is_default = true;
    }
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
    return impl_->config_for(impl_->has_config[stream_base::client] ? stream_base::client
                                                                    : stream_base::server);
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

error_code set_group_list(context_impl& impl, const std::vector<std::string>& names,
                          std::string& detail) {
    if (names.empty()) {
        detail = "empty group list";
        return error::invalid_argument;
    }
    // OpenSSL's and the NIST names for the curves mbedTLS calls secpNNNr1.
    static const std::pair<const char*, const char*> aliases[] = {
        {"p-256", "secp256r1"}, {"prime256v1", "secp256r1"}, {"p-384", "secp384r1"},
        {"p-521", "secp521r1"}, {"curve25519", "x25519"},    {"curve448", "x448"}};
    std::vector<internals::group_id> ids;
    ids.reserve(names.size() + 1);
    for (const std::string& name : names) {
        std::string key = name;
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        for (const auto& [alias, real] : aliases)
            if (key == alias)
                key = real;
        // mbedTLS spells brainpool with a capital P: brainpoolP256r1.
        if (key.rfind("brainpoolp", 0) == 0)
            key[9] = 'P';
        internals::group_id id =
            key.empty() ? internals::no_group : internals::group_from_name(key.c_str());
        if (id == internals::no_group) {
            detail = "unknown key-exchange group \"" + name + "\" (not in mbedTLS " +
                     MBEDTLS_VERSION_STRING ")";
            return error::invalid_argument;
        }
        if (std::find(ids.begin(), ids.end(), id) == ids.end())
            ids.push_back(id);
    }
    ids.push_back(internals::no_group);
    impl.groups = std::move(ids);
    for_each_config(
        impl, [&](mbedtls_ssl_config* conf) { internals::conf_groups(conf, impl.groups.data()); });
    return {};
}

const char* version_name(tls_version v) noexcept {
    switch (v) {
    case tls_version::tls1_0:
        return "TLS 1.0";
    case tls_version::tls1_1:
        return "TLS 1.1";
    case tls_version::tls1_2:
        return "TLS 1.2";
    case tls_version::tls1_3:
        return "TLS 1.3";
    }
    return "an unknown TLS version";
}

// Sets one end of the version range on every configuration. A version this mbedTLS lacks is
// refused, except that on 3.x (TLS 1.2 and 1.3 only) a minimum below 1.2 means 1.2.
void set_version_bound(const std::shared_ptr<context_impl>& p, const char* fn, tls_version v,
                       bool is_max) {
    context_impl& impl = need(p, fn);
    const int minor = static_cast<int>(v);
    if (minor < 0 || minor > 3)
        throw_error(error::invalid_argument, fn, "unknown TLS version", {});
    internals::version_fit fit = internals::fit_version(minor, is_max);
    if (fit == internals::version_fit::unsupported)
        throw_error(error::invalid_argument, fn,
                    std::string(version_name(v)) +
                        " is not supported by mbedTLS " MBEDTLS_VERSION_STRING,
                    {});
    const int bound = fit == internals::version_fit::raised ? 2 : minor;
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        internals::conf_version_bound(conf, bound, is_max);
    });
}

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

void context::set_groups(const std::vector<std::string>& names) {
    const char* fn = "tlsx::context::set_groups";
    std::string detail;
    error_code ec = set_group_list(need(impl_, fn), names, detail);
    if (ec)
        throw_error(ec, fn, detail, {});
}

void context::set_groups(const std::vector<std::string>& names, error_code& ec) {
    ec = run(impl_, [&](context_impl& impl, std::string& detail) {
        return set_group_list(impl, names, detail);
    });
}

void context::set_min_version(tls_version v) {
    set_version_bound(impl_, "tlsx::context::set_min_version", v, false);
}

void context::set_max_version(tls_version v) {
    set_version_bound(impl_, "tlsx::context::set_max_version", v, true);
}

// ---- asio::ssl options ------------------------------------------------------------------------

namespace {

constexpr context::options all_options = context::default_workarounds | context::single_dh_use |
                                         context::no_sslv2 | context::no_sslv3 | context::no_tlsv1 |
                                         context::no_tlsv1_1 | context::no_tlsv1_2 |
                                         context::no_tlsv1_3 | context::no_compression;

/// Make `opts` the context's options: narrow the method's version range by the version options.
error_code apply_options(context_impl& impl, context::options opts, std::string& detail) {
    if (opts & ~all_options) {
        detail = "unknown option bits";
        return error::invalid_argument;
    }
    int lo = impl.method_min, hi = impl.method_max;
    if ((opts & context::no_tlsv1_2) && lo == 2)
        lo = 3;
    if ((opts & context::no_tlsv1_3) && hi == 3)
        hi = 2;
    if (lo > hi) {
        detail = "no TLS version left: the options exclude every version the method and "
                 "mbedTLS " MBEDTLS_VERSION_STRING " allow";
        return error::invalid_argument;
    }
    impl.options = opts;
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        internals::conf_version_bound(conf, lo, false);
        internals::conf_version_bound(conf, hi, true);
    });
    return {};
}

} // namespace

void context::set_options(options o) {
    run_or_throw(impl_, "tlsx::context::set_options", {},
                 [o](context_impl& impl, std::string& detail) {
                     return apply_options(impl, impl.options | o, detail);
                 });
}

void context::set_options(options o, error_code& ec) {
    ec = run(impl_, [o](context_impl& impl, std::string& detail) {
        return apply_options(impl, impl.options | o, detail);
    });
}

void context::clear_options(options o) {
    run_or_throw(impl_, "tlsx::context::clear_options", {},
                 [o](context_impl& impl, std::string& detail) {
                     return apply_options(impl, impl.options & ~o, detail);
                 });
}

void context::clear_options(options o, error_code& ec) {
    ec = run(impl_, [o](context_impl& impl, std::string& detail) {
        return apply_options(impl, impl.options & ~o, detail);
    });
}

context::options context::get_options() const noexcept {
    return impl_ ? impl_->options : 0;
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

void context::set_truncation_policy(truncation_policy policy) {
    need(impl_, "tlsx::context::set_truncation_policy").truncation = policy;
}

namespace {

timeout_duration& timeout_of(const std::shared_ptr<context_impl>& p,
                             timeout_duration context_impl::*m, timeout_duration d,
                             const char* fn) {
    context_impl& impl = need(p, fn);
    if (d < timeout_duration::zero())
        throw_error(error::invalid_argument, fn, "a time limit cannot be negative", {});
    return impl.*m = d;
}

timeout_duration timeout_or_none(const std::shared_ptr<context_impl>& p,
                                 timeout_duration context_impl::*m) noexcept {
    return p ? (*p).*m : no_timeout;
}

} // namespace

void context::set_handshake_timeout(timeout_duration limit) {
    timeout_of(impl_, &context_impl::handshake_timeout, limit,
               "tlsx::context::set_handshake_timeout");
    impl_->handshake_timeout_is_default = false;
}

void context::set_shutdown_timeout(timeout_duration limit) {
    timeout_of(impl_, &context_impl::shutdown_timeout, limit,
               "tlsx::context::set_shutdown_timeout");
}

void context::set_read_idle_timeout(timeout_duration limit) {
    timeout_of(impl_, &context_impl::read_idle_timeout, limit,
               "tlsx::context::set_read_idle_timeout");
}

timeout_duration context::handshake_timeout() const noexcept {
    return timeout_or_none(impl_, &context_impl::handshake_timeout);
}

bool context::handshake_timeout_is_default() const noexcept {
    return impl_ && impl_->handshake_timeout_is_default;
}

timeout_duration context::shutdown_timeout() const noexcept {
    return timeout_or_none(impl_, &context_impl::shutdown_timeout);
}

timeout_duration context::read_idle_timeout() const noexcept {
    return timeout_or_none(impl_, &context_impl::read_idle_timeout);
}

void context::set_renegotiation_enforcement(int max_records) {
    need(impl_, "tlsx::context::set_renegotiation_enforcement").renegotiation_max_records =
        max_records;
}

void context::set_key_update_threshold(std::uint64_t records) {
    need(impl_, "tlsx::context::set_key_update_threshold").key_update_threshold = records;
}

// ---- callbacks ------------------------------------------------------------------------------
//
// mbedTLS calls C functions with a void* argument; these forward to the std::function stored
// in the context_impl that is that argument. Exceptions must not cross mbedTLS's C frames.

namespace {

// What the context's configuration calls; a tlsx session's own configuration calls
// run_sni_callback through its engine instead, which keeps the chosen credentials alive.
int sni_trampoline(void* p, mbedtls_ssl_context* ssl, const unsigned char* name, std::size_t len) {
    return run_sni_callback(*static_cast<context_impl*>(p), ssl, name, len, nullptr);
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

void keylog_sink(void* p, const char* label, const unsigned char* client_random,
                 const unsigned char* secret, std::size_t size) {
    emit_keylog(*static_cast<context_impl*>(p), label, client_random, secret, size);
}

// 2.28 exports keys per configuration, 3.x per session (attach_keylog, at engine setup).
void apply_keylog(context_impl& impl, mbedtls_ssl_config* conf) noexcept {
    impl.keylog_target = {keylog_sink, &impl};
    internals::conf_keylog(conf, impl.keylog_cb ? &impl.keylog_target : nullptr);
}

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

// Only reads the context: engines on several threads set up sessions from one context at once
// (keylog_target was set by apply_keylog when the context was configured).
void attach_keylog(context_impl& impl, mbedtls_ssl_context& ssl) noexcept {
    internals::ssl_keylog(ssl, impl.keylog_cb ? &impl.keylog_target : nullptr);
}

int run_sni_callback(context_impl& impl, mbedtls_ssl_context* ssl, const unsigned char* name,
                     std::size_t len, std::vector<std::shared_ptr<const void>>* keep) {
    if (!impl.sni_cb)
        return 0;
    sni_selection selection(ssl, std::string_view(reinterpret_cast<const char*>(name), len), keep);
    try {
        // Failing makes mbedTLS abort the handshake with an unrecognized_name alert.
        if (!impl.sni_cb(selection))
            return -1;
    } catch (...) {
        return -1;
    }
    return selection.result();
}

} // namespace detail

void sni_selection::use(const context& other) {
    const auto& impl = other.impl();
    if (!impl) {
        result_ = MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
        return;
    }
    // The other context's current set, held by the session for as long as it lives: a reload
    // of that context (another thread may run one now) publishes a new set and leaves this one.
    const std::shared_ptr<own_credentials> own = impl->snapshot().own;
    if (keep_)
        keep_->push_back(own);
    // Every complete pair of the other context, so mbedTLS can still choose by the client's
    // ciphersuites between, say, an RSA and an ECDSA certificate.
    bool any = false;
    for (const auto& cred : own->list) {
        if (!cred->has_key)
            continue;
        if (int ret = mbedtls_ssl_set_hs_own_cert(ssl_, &cred->chain, &cred->key)) {
            result_ = ret;
            return;
        }
        any = true;
    }
    if (!any)
        result_ = internals::no_credentials_error(!own->list.empty());
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
