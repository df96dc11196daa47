// src/context_credentials.cpp — the context's own certificates and private keys.
//
// Certificate chains (PEM or DER), private keys (PEM or DER, plain or encrypted PKCS#8, with
// the password callback) and how keys pair with the certificates waiting for them.
//
#include <tlsx/context.hpp>

#include "detail/context_impl.hpp"
#include "detail/context_support.hpp"
#include "detail/mbedtls_internals.hpp"
#include "detail/mbedtls_raii.hpp"

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs12.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace tlsx {

using boost::asio::const_buffer;
// The context's state (context_impl.hpp) and shared helpers (context_support.hpp).
using namespace detail;

namespace {

// The high-level part of an mbedTLS code, without a low-level cause added to it.
int high_level_part(int code) noexcept {
    return code < 0 && code > -0x8000 ? -((-code) & 0x7F80) : code;
}

// Parses a certificate (chain) into a new credential of `own`; `parse` fills the given chain.
template <class Parse>
error_code add_credential(own_credentials& own, std::string& detail, Parse&& parse) {
    auto cred = std::make_unique<credential>();
    int ret = parse(&cred->chain);
    if (ret < 0) {
        detail = mbedtls_reason(ret);
        return error::invalid_certificate;
    }
    if (ret > 0) { // mbedtls_x509_crt_parse skipped some certificates of the chain
        detail = std::to_string(ret) + " certificate(s) could not be parsed";
        return error::invalid_certificate;
    }
    if (is_empty(cred->chain))
        return error::invalid_certificate;
    own.list.push_back(std::move(cred));
    return {};
}

error_code load_chain_into(own_credentials& own, const_buffer data, std::string& detail) {
    parse_input in(data);
    return add_credential(own, detail, [&](mbedtls_x509_crt* chain) {
        return mbedtls_x509_crt_parse(chain, in.data(), in.size());
    });
}

error_code load_chain(context_impl& impl, const_buffer data, std::string& detail) {
    return load_chain_into(*impl.own, data, detail);
}

error_code load_certificate(context_impl& impl, const_buffer data, context::file_format format,
                            std::string& detail) {
    parse_input in(data);
    if (format == context::pem) {
        if (!in.is_pem()) {
            detail = mbedtls_reason(MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT);
            return error::invalid_certificate;
        }
        return add_credential(*impl.own, detail, [&](mbedtls_x509_crt* chain) {
            return mbedtls_x509_crt_parse(chain, in.data(), in.size());
        });
    }
    return add_credential(*impl.own, detail, [&](mbedtls_x509_crt* chain) {
        return mbedtls_x509_crt_parse_der(chain, static_cast<const unsigned char*>(data.data()),
                                          data.size());
    });
}

// An encrypted PKCS#8 key in DER is SEQUENCE { SEQUENCE { algorithm ... }, OCTET STRING }; the
// unencrypted forms start with an INTEGER.
bool is_encrypted_pkcs8_der(const_buffer der) noexcept {
    const auto* data = static_cast<const unsigned char*>(der.data());
    auto* p = const_cast<unsigned char*>(data); // mbedtls_asn1_get_tag only reads
    const unsigned char* end = data + der.size();
    std::size_t len = 0;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return false;
    return p < end && *p == (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
}

// mbedTLS's DER path turns every failure to decrypt an encrypted PKCS#8 key (no password,
// unsupported scheme) into "invalid format"; its PEM path reports them as they are. So wrap such
// a key in PEM.
std::string pkcs8_der_to_pem(const_buffer der) {
    std::size_t size = 0;
    mbedtls_base64_encode(nullptr, 0, &size, static_cast<const unsigned char*>(der.data()),
                          der.size()); // only computes the size
    std::string b64(size, '\0');
    mbedtls_base64_encode(reinterpret_cast<unsigned char*>(b64.data()), b64.size(), &size,
                          static_cast<const unsigned char*>(der.data()), der.size());
    b64.resize(size);
    return "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + b64 +
           "\n-----END ENCRYPTED PRIVATE KEY-----\n";
}

int parse_key(context_impl& impl, mbedtls_pk_context* key, const parse_input& in,
              const std::string& password) {
    mbedtls_pk_free(key); // a failed attempt leaves it freed anyway; this keeps retries clean
    mbedtls_pk_init(key);
    // mbedTLS tells "no password" from "wrong password" by a null pointer, not by the length.
    return internals::pk_parse_key(
        key, in.data(), in.size(),
        password.empty() ? nullptr : reinterpret_cast<const unsigned char*>(password.data()),
        password.size(), context_impl::random, &impl);
}

// What a failed parse_key means; `detail` receives mbedTLS's reason and, where it helps, a hint.
error_code key_error(int ret, bool used_password, std::string& detail) {
    detail = mbedtls_reason(ret);
    const int high = high_level_part(ret);
    if (high == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || high == MBEDTLS_ERR_PK_PASSWORD_MISMATCH)
        return error::wrong_password;
    if (used_password && high == MBEDTLS_ERR_PK_KEY_INVALID_FORMAT) {
        // Decryption with a wrong password passes the padding check now and then and
        // yields garbage; a damaged key is far less likely.
        detail += "; most likely a wrong password";
        return error::wrong_password;
    }
    if (high == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE ||
        high == MBEDTLS_ERR_PKCS12_FEATURE_UNAVAILABLE)
        detail += "; this mbedTLS cannot decrypt the key's encryption scheme (e.g. AES in "
                  "PKCS#8): re-encrypt it or store it unencrypted";
    return error::invalid_private_key;
}

error_code parse_private_key(context_impl& impl, const parse_input& in, mbedtls_pk_context* key,
                             std::string& detail) {
    // Try without a password first, so the callback is only asked for encrypted keys.
    int ret = parse_key(impl, key, in, {});
    bool used_password = false;
    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        if (!impl.password_cb) {
            detail = "the key is encrypted and no password callback is set";
            return error::wrong_password;
        }
        scrubbed_string password{impl.password_cb(1024, context::for_reading)};
        ret = parse_key(impl, key, in, password.value);
        used_password = true;
    }
    return ret == 0 ? error_code() : key_error(ret, used_password, detail);
}

// Moves a parsed key into the credential of `own` it belongs to and installs that pair.
error_code pair_key(context_impl& impl, own_credentials& own, mbedtls_pk_context* key) {
    // Keys pair with the certificates still waiting for one, latest first; matching by key
    // rather than by position lets an RSA and an ECDSA pair be given in either order.
    credential* target = nullptr;
    for (auto it = own.list.rbegin(); it != own.list.rend() && !target; ++it)
        if (!(*it)->has_key &&
            internals::pk_check_pair(&(*it)->chain.pk, key, context_impl::random, &impl) == 0)
            target = it->get();
    if (!target)
        return error::key_mismatch;

    std::swap(target->key, *key); // moves the key; the scratch one is empty now
    target->has_key = true;

    if (int r = mbedtls_ssl_conf_own_cert(&own.pairs, &target->chain, &target->key))
        return make_mbedtls_error(r);
    own.has_pair = true;
    return {};
}

error_code load_key_into(context_impl& impl, own_credentials& own, const_buffer data,
                         context::file_format format, std::string& detail) {
    const bool has_target =
        std::any_of(own.list.begin(), own.list.end(), [](const auto& c) { return !c->has_key; });
    if (!has_target) {
        detail = "no certificate waiting for its key: use a certificate first";
        return error::invalid_argument;
    }

    scrubbed_string wrapped;
    if (!has_pem_marker(data)) {
        if (format == context::pem) {
            detail = mbedtls_reason(MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT);
            return error::invalid_private_key;
        }
        if (is_encrypted_pkcs8_der(data))
            wrapped.value = pkcs8_der_to_pem(data);
    }
    parse_input in(wrapped.value.empty() ? data : boost::asio::buffer(wrapped.value));

    detail::unique_pk key;
    if (error_code ec = parse_private_key(impl, in, key.get(), detail))
        return ec;
    return pair_key(impl, own, key.get());
}

error_code load_key(context_impl& impl, const_buffer data, context::file_format format,
                    std::string& detail) {
    return load_key_into(impl, *impl.own, data, format, detail);
}

// ---- reload ---------------------------------------------------------------------------------

/// Which input of a reload failed, for the exception's subject.
enum class reload_input { chain, key };

// A new set of one chain and its key, checked as the setters check them (the key must match
// the chain's first certificate), then published whole. On failure the current set stays.
error_code reload_pair(context_impl& impl, const_buffer chain, const_buffer key,
                       std::string& detail, reload_input& failed) {
    auto fresh = std::make_shared<own_credentials>();
    failed = reload_input::chain;
    if (error_code ec = load_chain_into(*fresh, chain, detail))
        return ec;
    failed = reload_input::key;
    // PEM or DER (asn1 accepts both: a PEM marker is parsed as PEM).
    if (error_code ec = load_key_into(impl, *fresh, key, context::asn1, detail))
        return ec;
    {
        std::lock_guard<std::mutex> lock(impl.credentials_mutex);
        impl.own.swap(fresh);
    }
    return {}; // the old set goes here, or with the last session that uses it
}

error_code reload_pair_files(context_impl& impl, const std::string& chain_path,
                             const std::string& key_path, std::string& detail,
                             reload_input& failed) {
    scrubbed_string chain, key;
    failed = reload_input::chain;
    if (!read_file(chain_path, chain.value))
        return make_error_code(boost::system::errc::no_such_file_or_directory);
    failed = reload_input::key;
    if (!read_file(key_path, key.value))
        return make_error_code(boost::system::errc::no_such_file_or_directory);
    return reload_pair(impl, boost::asio::buffer(chain.value), boost::asio::buffer(key.value),
                       detail, failed);
}

auto certificate_loader(context::file_format format) {
    return [format](context_impl& impl, const_buffer data, std::string& detail) {
        return load_certificate(impl, data, format, detail);
    };
}
auto key_loader(context::file_format format) {
    return [format](context_impl& impl, const_buffer data, std::string& detail) {
        return load_key(impl, data, format, detail);
    };
}

} // namespace

// ---- detail::credential ---------------------------------------------------------------------

namespace detail {

credential::credential() {
    mbedtls_x509_crt_init(&chain);
    mbedtls_pk_init(&key);
}

credential::~credential() {
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&chain);
}

own_credentials::own_credentials() {
    mbedtls_ssl_config_init(&pairs);
}

own_credentials::~own_credentials() {
    mbedtls_ssl_config_free(&pairs); // the pair list first: it points into `list`
}

void credential_snapshot::apply(mbedtls_ssl_config& conf) const noexcept {
    if (own && own->has_pair)
        internals::conf_use_key_cert(conf, internals::conf_key_cert(own->pairs));
    // Without a CA nothing is installed: an empty chain object would be a bogus trust anchor.
    if (trust && trust->has_ca)
        mbedtls_ssl_conf_ca_chain(&conf, &trust->ca, trust->has_crl ? &trust->crl : nullptr);
}

} // namespace detail

// ---- context --------------------------------------------------------------------------------

void context::reload_certificate_chain_and_key(const_buffer chain, const_buffer key) {
    const char* fn = "tlsx::context::reload_certificate_chain_and_key";
    std::string detail;
    reload_input failed = reload_input::chain;
    if (error_code ec = reload_pair(need(impl_, fn), chain, key, detail, failed))
        throw_error(ec, fn, failed == reload_input::chain ? "certificate chain" : "private key",
                    detail);
}

void context::reload_certificate_chain_and_key(const_buffer chain, const_buffer key,
                                               error_code& ec) {
    std::string detail;
    reload_input failed = reload_input::chain;
    ec = impl_ ? reload_pair(*impl_, chain, key, detail, failed) : moved_from();
}

void context::reload_certificate_chain_and_key_file(const std::string& chain_path,
                                                    const std::string& key_path) {
    const char* fn = "tlsx::context::reload_certificate_chain_and_key_file";
    std::string detail;
    reload_input failed = reload_input::chain;
    if (error_code ec = reload_pair_files(need(impl_, fn), chain_path, key_path, detail, failed))
        throw_error(ec, fn, failed == reload_input::chain ? chain_path : key_path, detail);
}

void context::reload_certificate_chain_and_key_file(const std::string& chain_path,
                                                    const std::string& key_path, error_code& ec) {
    std::string detail;
    reload_input failed = reload_input::chain;
    ec = impl_ ? reload_pair_files(*impl_, chain_path, key_path, detail, failed) : moved_from();
}

void context::use_certificate_chain(const_buffer chain) {
    run_or_throw(impl_, "tlsx::context::use_certificate_chain", {}, from_buffer(chain, load_chain));
}

void context::use_certificate_chain(const_buffer chain, error_code& ec) {
    ec = run(impl_, from_buffer(chain, load_chain));
}

void context::use_certificate_chain_file(const std::string& path) {
    run_or_throw(impl_, "tlsx::context::use_certificate_chain_file", path,
                 from_file(path, load_chain));
}

void context::use_certificate_chain_file(const std::string& path, error_code& ec) {
    ec = run(impl_, from_file(path, load_chain));
}

void context::use_certificate(const_buffer cert, file_format format) {
    run_or_throw(impl_, "tlsx::context::use_certificate", {},
                 from_buffer(cert, certificate_loader(format)));
}

void context::use_certificate(const_buffer cert, file_format format, error_code& ec) {
    ec = run(impl_, from_buffer(cert, certificate_loader(format)));
}

void context::use_certificate_file(const std::string& path, file_format format) {
    run_or_throw(impl_, "tlsx::context::use_certificate_file", path,
                 from_file(path, certificate_loader(format)));
}

void context::use_certificate_file(const std::string& path, file_format format, error_code& ec) {
    ec = run(impl_, from_file(path, certificate_loader(format)));
}

void context::use_private_key(const_buffer key, file_format format) {
    run_or_throw(impl_, "tlsx::context::use_private_key", {}, from_buffer(key, key_loader(format)));
}

void context::use_private_key(const_buffer key, file_format format, error_code& ec) {
    ec = run(impl_, from_buffer(key, key_loader(format)));
}

void context::use_private_key_file(const std::string& path, file_format format) {
    run_or_throw(impl_, "tlsx::context::use_private_key_file", path,
                 from_file(path, key_loader(format)));
}

void context::use_private_key_file(const std::string& path, file_format format, error_code& ec) {
    ec = run(impl_, from_file(path, key_loader(format)));
}

void context::set_password_callback(password_callback cb) {
    need(impl_, "tlsx::context::set_password_callback").password_cb = std::move(cb);
}

} // namespace tlsx

// ---- asio::ssl spellings: RSA keys, DH parameters -------------------------------------------

namespace tlsx {

void context::use_rsa_private_key(const_buffer key, file_format format) {
    run_or_throw(impl_, "tlsx::context::use_rsa_private_key", {},
                 from_buffer(key, key_loader(format)));
}

void context::use_rsa_private_key(const_buffer key, file_format format, error_code& ec) {
    ec = run(impl_, from_buffer(key, key_loader(format)));
}

void context::use_rsa_private_key_file(const std::string& path, file_format format) {
    run_or_throw(impl_, "tlsx::context::use_rsa_private_key_file", path,
                 from_file(path, key_loader(format)));
}

void context::use_rsa_private_key_file(const std::string& path, file_format format,
                                       error_code& ec) {
    ec = run(impl_, from_file(path, key_loader(format)));
}

namespace {

/// DH parameters shorter than this are refused, as mbedTLS's client refuses them by default.
constexpr std::size_t min_dh_bits = 1024;

error_code load_dh(context_impl& impl, const_buffer in, std::string& detail) {
    parse_input input(in);
    std::size_t bits = 0;
    int ret = internals::conf_dh_params(nullptr, input.data(), input.size(), min_dh_bits, bits);
    if (ret == 1) {
        detail = "DH prime of " + std::to_string(bits) + " bits; at least " +
                 std::to_string(min_dh_bits) + " needed";
        return error::invalid_argument;
    }
    if (ret == 2) {
        detail = "this mbedTLS build has no DHM module";
        return error::invalid_argument;
    }
    if (ret != 0) {
        detail = mbedtls_reason(ret);
        return make_mbedtls_error(ret);
    }
    // Checked: now install them (servers only use them).
    if (mbedtls_ssl_config* conf = impl.config_for(stream_base::server)) {
        ret = internals::conf_dh_params(conf, input.data(), input.size(), min_dh_bits, bits);
        if (ret != 0) {
            detail = mbedtls_reason(ret);
            return make_mbedtls_error(ret);
        }
    }
    return {};
}

} // namespace

void context::use_tmp_dh(const_buffer dh) {
    run_or_throw(impl_, "tlsx::context::use_tmp_dh", {}, from_buffer(dh, load_dh));
}

void context::use_tmp_dh(const_buffer dh, error_code& ec) {
    ec = run(impl_, from_buffer(dh, load_dh));
}

void context::use_tmp_dh_file(const std::string& path) {
    run_or_throw(impl_, "tlsx::context::use_tmp_dh_file", path, from_file(path, load_dh));
}

void context::use_tmp_dh_file(const std::string& path, error_code& ec) {
    ec = run(impl_, from_file(path, load_dh));
}

} // namespace tlsx
