// src/context_trust.cpp — what the context trusts, and how it verifies the peer.
//
// Certificate authorities (buffers, files, directories, the system store), revocation lists,
// and the verify mode, callback and depth; also what a verify callback sees (verify_context).
//
#include <tlsx/context.hpp>
#include <tlsx/host_name_verification.hpp>

#include "detail/context_impl.hpp"
#include "detail/context_support.hpp"
#include "detail/mbedtls_raii.hpp"

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>

#include <cctype>
#include <cstring>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tlsx {

using boost::asio::const_buffer;
// The context's state (context_impl.hpp) and shared helpers (context_support.hpp).
using namespace detail;

namespace {

// mbedTLS cannot splice one chain onto another (the head node is not heap-allocated), so copy
// the certificates over; their DER parses again quickly. Parsing into a scratch chain first and
// appending only on success keeps a failed call from leaving half its certificates behind.
int append_chain(mbedtls_x509_crt& to, const mbedtls_x509_crt& from) noexcept {
    for (const mbedtls_x509_crt* c = &from; c && c->raw.p; c = c->next)
        if (int ret = mbedtls_x509_crt_parse_der(&to, c->raw.p, c->raw.len))
            return ret;
    return 0;
}

// Sessions point their configurations at the trust store when they are set up
// (credential_snapshot::apply), so adding to it is all a setter does.
error_code add_trusted(context_impl& impl, const mbedtls_x509_crt& chain) {
    if (int ret = append_chain(impl.trust->ca, chain))
        return make_mbedtls_error(ret);
    impl.trust->has_ca = true;
    return {};
}

// `lenient`: accept a bundle some of whose certificates this build cannot parse (system
// bundles may hold algorithms it lacks), as long as at least one loads.
/** Parse the certificates in `data` (PEM or DER) into `into`: invalid_certificate, with what
    failed in `detail`, when none parsed or (unless `lenient`) any did not. */
error_code parse_cas(mbedtls_x509_crt& into, const_buffer data, bool lenient, std::string& detail) {
    parse_input in(data);
    int ret = mbedtls_x509_crt_parse(&into, in.data(), in.size());
    if (ret < 0 || (ret > 0 && !lenient) || is_empty(into)) {
        detail = ret < 0   ? mbedtls_reason(ret)
                 : ret > 0 ? std::to_string(ret) + " certificate(s) could not be parsed"
                           : std::string("no certificate found");
        return error::invalid_certificate;
    }
    return {};
}

error_code load_ca(context_impl& impl, const_buffer data, bool lenient, std::string& detail) {
    detail::unique_crt scratch;
    if (error_code ec = parse_cas(*scratch.get(), data, lenient, detail))
        return ec;
    return add_trusted(impl, *scratch.get());
}

error_code load_ca_strict(context_impl& impl, const_buffer data, std::string& detail) {
    return load_ca(impl, data, false, detail);
}

error_code load_ca_path(context_impl& impl, const std::string& path, std::string& detail) {
    detail::unique_crt scratch;
    // A positive result counts files that did not parse; a directory commonly holds other
    // files too, so those are skipped as long as some certificate loaded.
    int ret = mbedtls_x509_crt_parse_path(scratch.get(), path.c_str());
    if (ret == MBEDTLS_ERR_X509_FILE_IO_ERROR)
        return make_error_code(boost::system::errc::no_such_file_or_directory);
    if (ret < 0 || is_empty(*scratch.get())) {
        detail = ret < 0 ? mbedtls_reason(ret) : std::string("no certificate found");
        return error::invalid_certificate;
    }
    return add_trusted(impl, *scratch.get());
}

error_code load_default_paths(context_impl& impl, std::string& detail) {
    // As OpenSSL's default paths: SSL_CERT_FILE / SSL_CERT_DIR override the system locations.
    const char* env_file = std::getenv("SSL_CERT_FILE");
    const char* env_dir = std::getenv("SSL_CERT_DIR");
    const std::string file =
        env_file && *env_file ? env_file : "/etc/ssl/certs/ca-certificates.crt";
    const std::string dir = env_dir && *env_dir ? env_dir : "/etc/ssl/certs";

    std::string ignored;
    if (!from_file(file, [](context_impl& i, const_buffer b, std::string& d) {
            return load_ca(i, b, true, d);
        })(impl, ignored))
        return {};
    if (!load_ca_path(impl, dir, ignored))
        return {};
    detail = "no CA bundle at " + file + " and no certificates in " + dir;
    return make_error_code(boost::system::errc::no_such_file_or_directory);
}

error_code load_crl(context_impl& impl, const_buffer data, std::string& detail) {
    parse_input in(data);
    detail::unique_crl scratch;
    if (int ret = mbedtls_x509_crl_parse(scratch.get(), in.data(), in.size())) {
        detail = mbedtls_reason(ret);
        return error::invalid_certificate;
    }
    for (const mbedtls_x509_crl* c = scratch.get(); c && c->raw.p; c = c->next)
        if (int ret = mbedtls_x509_crl_parse_der(&impl.trust->crl, c->raw.p, c->raw.len))
            return make_mbedtls_error(ret);
    impl.trust->has_crl = true;
    return {};
}

// A new trust store with these authorities (strictly parsed: every certificate must load) and
// the current revocation lists, published whole; on failure the current store stays.
error_code reload_ca(context_impl& impl, const_buffer data, std::string& detail) {
    auto fresh = std::make_shared<trust_store>();
    if (error_code ec = parse_cas(fresh->ca, data, false, detail))
        return ec;
    fresh->has_ca = true;
    const std::shared_ptr<trust_store> current = impl.snapshot().trust;
    if (current->has_crl) {
        for (const mbedtls_x509_crl* c = &current->crl; c && c->raw.p; c = c->next)
            if (int r = mbedtls_x509_crl_parse_der(&fresh->crl, c->raw.p, c->raw.len))
                return make_mbedtls_error(r);
        fresh->has_crl = true;
    }
    {
        std::lock_guard<std::mutex> lock(impl.credentials_mutex);
        impl.trust.swap(fresh);
    }
    return {}; // the old store goes here, or with the last session that uses it
}

} // namespace

// ---- detail::context_impl -------------------------------------------------------------------

namespace detail {

trust_store::trust_store() {
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crl_init(&crl);
}

trust_store::~trust_store() {
    mbedtls_x509_crl_free(&crl);
    mbedtls_x509_crt_free(&ca);
}

int context_impl::authmode(verify_mode m) noexcept {
    switch (m) {
    case verify_mode::none:
        return MBEDTLS_SSL_VERIFY_NONE;
    case verify_mode::optional:
        return MBEDTLS_SSL_VERIFY_OPTIONAL;
    case verify_mode::required:
        break;
    }
    return MBEDTLS_SSL_VERIFY_REQUIRED;
}

} // namespace detail

// ---- verify_context -------------------------------------------------------------------------

std::string verify_context::error_message() const {
    if (*flags_ == 0)
        return {};
    char buf[2048];
    buf[0] = '\0';
    mbedtls_x509_crt_verify_info(buf, sizeof buf, "", *flags_); // may truncate: still useful
    // One line per problem; join them into one readable line.
    std::string text;
    std::string_view rest = buf;
    while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
            line.remove_prefix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.remove_suffix(1);
        if (!line.empty()) {
            if (!text.empty())
                text += "; ";
            text += line;
        }
        if (end == std::string_view::npos)
            break;
        rest.remove_prefix(end + 1);
    }
    return text;
}

boost::asio::const_buffer verify_context::certificate() const noexcept {
    if (!crt_)
        return {};
    return {crt_->raw.p, crt_->raw.len};
}

std::string verify_context::subject() const {
    if (!crt_)
        return {};
    std::string buf(256, '\0');
    for (;;) {
        const int n = mbedtls_x509_dn_gets(buf.data(), buf.size(), &crt_->subject);
        if (n >= 0) {
            buf.resize(static_cast<std::size_t>(n));
            return buf;
        }
        if (n != MBEDTLS_ERR_X509_BUFFER_TOO_SMALL || buf.size() >= 65536)
            return {};
        buf.resize(buf.size() * 4);
    }
}

// ---- context --------------------------------------------------------------------------------

void context::add_certificate_authority(const_buffer ca) {
    run_or_throw(impl_, "tlsx::context::add_certificate_authority", {},
                 from_buffer(ca, load_ca_strict));
}

void context::add_certificate_authority(const_buffer ca, error_code& ec) {
    ec = run(impl_, from_buffer(ca, load_ca_strict));
}

void context::load_verify_file(const std::string& path) {
    run_or_throw(impl_, "tlsx::context::load_verify_file", path, from_file(path, load_ca_strict));
}

void context::load_verify_file(const std::string& path, error_code& ec) {
    ec = run(impl_, from_file(path, load_ca_strict));
}

void context::add_verify_path(const std::string& path) {
    run_or_throw(
        impl_, "tlsx::context::add_verify_path", path,
        [&](context_impl& impl, std::string& detail) { return load_ca_path(impl, path, detail); });
}

void context::add_verify_path(const std::string& path, error_code& ec) {
    ec = run(impl_, [&](context_impl& impl, std::string& detail) {
        return load_ca_path(impl, path, detail);
    });
}

void context::set_default_verify_paths() {
    run_or_throw(impl_, "tlsx::context::set_default_verify_paths", {}, load_default_paths);
}

void context::set_default_verify_paths(error_code& ec) {
    ec = run(impl_, load_default_paths);
}

void context::add_crl(const_buffer crl) {
    run_or_throw(impl_, "tlsx::context::add_crl", {}, from_buffer(crl, load_crl));
}

void context::add_crl(const_buffer crl, error_code& ec) {
    ec = run(impl_, from_buffer(crl, load_crl));
}

void context::reload_verify_authorities(const_buffer cas) {
    run_or_throw(impl_, "tlsx::context::reload_verify_authorities", {},
                 from_buffer(cas, reload_ca));
}

void context::reload_verify_authorities(const_buffer cas, error_code& ec) {
    ec = run(impl_, from_buffer(cas, reload_ca));
}

void context::reload_verify_file(const std::string& path) {
    run_or_throw(impl_, "tlsx::context::reload_verify_file", path, from_file(path, reload_ca));
}

void context::reload_verify_file(const std::string& path, error_code& ec) {
    ec = run(impl_, from_file(path, reload_ca));
}

void context::set_verify_mode(verify_mode mode) {
    context_impl& impl = need(impl_, "tlsx::context::set_verify_mode");
    impl.mode[stream_base::client] = impl.mode[stream_base::server] = mode;
    for_each_config(impl, [&](mbedtls_ssl_config* conf) {
        mbedtls_ssl_conf_authmode(conf, context_impl::authmode(mode));
    });
}

void context::set_verify_mode(verify_flags flags) {
    set_verify_mode(to_verify_mode(flags));
}

void context::set_verify_mode(verify_flags flags, error_code& ec) {
    if (!impl_) {
        ec = moved_from();
        return;
    }
    set_verify_mode(to_verify_mode(flags));
    ec = {};
}

void context::set_verify_callback(verify_callback cb) {
    // The engine installs a per-session verify function that consults this.
    need(impl_, "tlsx::context::set_verify_callback").verify_cb = std::move(cb);
}

void context::set_server_name_required(bool required) {
    need(impl_, "tlsx::context::set_server_name_required").server_name_required = required;
}

void context::set_verify_depth(int depth) {
    need(impl_, "tlsx::context::set_verify_depth").verify_depth = depth;
}

// ---- host_name_verification -----------------------------------------------------------------

namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

std::string_view without_dot(std::string_view s) noexcept {
    if (!s.empty() && s.back() == '.')
        s.remove_suffix(1);
    return s;
}

/// Whether a certificate's DNS name (`*.example.com` allowed) matches the host.
bool dns_match(std::string_view pattern, std::string_view host) noexcept {
    pattern = without_dot(pattern);
    host = without_dot(host);
    if (pattern.empty() || host.empty())
        return false;
    if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
        const std::string_view suffix = pattern.substr(1); // ".example.com"
        if (suffix.find('.', 1) == std::string_view::npos)
            return false; // "*.com": too wide
        const std::size_t dot = host.find('.');
        if (dot == 0 || dot == std::string_view::npos)
            return false;
        return iequal(host.substr(dot), suffix);
    }
    return iequal(pattern, host);
}

} // namespace

bool host_name_verification::operator()(bool preverified, verify_context& ctx) const {
    if (!preverified)
        return false;
    if (ctx.depth() > 0)
        return true;
    const mbedtls_x509_crt* crt = ctx.native_handle();
    if (!crt)
        return false;

    unsigned char ip[16];
    std::size_t ip_len = 0;
    if (::inet_pton(AF_INET, host_.c_str(), ip) == 1)
        ip_len = 4;
    else if (::inet_pton(AF_INET6, host_.c_str(), ip) == 1)
        ip_len = 16;

    bool has_dns = false;
    for (const mbedtls_x509_sequence* san = &crt->subject_alt_names; san && san->buf.p;
         san = san->next) {
        const int type = san->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK;
        const std::string_view value(reinterpret_cast<const char*>(san->buf.p), san->buf.len);
        if (type == 2) { // dNSName
            has_dns = true;
            if (ip_len == 0 && dns_match(value, host_))
                return true;
        } else if (type == 7 && ip_len != 0) { // iPAddress
            if (san->buf.len == ip_len && std::memcmp(san->buf.p, ip, ip_len) == 0)
                return true;
        }
    }
    if (ip_len != 0 || has_dns)
        return false;

    // No dNSName: the subject's last common name.
    std::string_view cn;
    for (const mbedtls_x509_name* n = &crt->subject; n && n->oid.p; n = n->next)
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
            cn = std::string_view(reinterpret_cast<const char*>(n->val.p), n->val.len);
    return !cn.empty() && dns_match(cn, host_);
}

} // namespace tlsx
