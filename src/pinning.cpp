// src/pinning.cpp — SubjectPublicKeyInfo pins (pin_spki_sha256, spki_sha256).
//
// A pin is base64(SHA-256(the certificate's DER SubjectPublicKeyInfo)), which mbedTLS keeps as
// mbedtls_x509_crt::pk_raw in both 2.28 and 3.x. The callback runs inside mbedTLS's chain
// verification, which calls it once per certificate from the top of the verified chain (the
// trusted authority) down to the peer's own certificate (depth 0), all on one thread within one
// mbedtls_x509_crt_verify call; a pin seen above depth 0 is remembered for that one walk in a
// thread-local slot, which depth 0 reads and clears.
//
#include <tlsx/pinning.hpp>

#include "detail/context_support.hpp"
#include "detail/mbedtls_raii.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tlsx {

using detail::throw_error;

namespace {

using digest = std::array<unsigned char, 32>;

digest spki_digest(const mbedtls_x509_crt& crt) {
    digest d{};
    // SHA-256 is in every mbedTLS configuration TLS needs; a failure is not expected.
    mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), crt.pk_raw.p, crt.pk_raw.len,
               d.data());
    return d;
}

std::string base64(const digest& d) {
    unsigned char out[64];
    std::size_t n = 0;
    mbedtls_base64_encode(out, sizeof out, &n, d.data(), d.size());
    return std::string(reinterpret_cast<const char*>(out), n);
}

digest decode_pin(std::string_view pin, std::size_t index) {
    std::string_view b64 = pin;
    if (b64.substr(0, 7) == "sha256/")
        b64.remove_prefix(7);
    digest d{};
    std::size_t n = 0;
    unsigned char out[48];
    const int ret = mbedtls_base64_decode(
        out, sizeof out, &n, reinterpret_cast<const unsigned char*>(b64.data()), b64.size());
    if (ret != 0 || n != d.size())
        throw_error(error::invalid_argument, "tlsx::pin_spki_sha256",
                    "pin " + std::to_string(index + 1) + " \"" + std::string(pin) + "\"",
                    "not the base64 of a SHA-256 hash (44 characters, optionally after "
                    "\"sha256/\")");
    std::copy(out, out + n, d.begin());
    return d;
}

struct pin_set {
    std::vector<digest> pins;
    verify_callback next;

    bool pinned(const mbedtls_x509_crt& crt) const {
        const digest d = spki_digest(crt);
        return std::find(pins.begin(), pins.end(), d) != pins.end();
    }
};

// The pin set whose pin a certificate above depth 0 matched during the current chain walk on
// this thread (see the file comment); null otherwise.
thread_local const pin_set* matched_above = nullptr;

} // namespace

std::string spki_sha256(boost::asio::const_buffer certificate) {
    detail::unique_crt crt;
    const auto* p = static_cast<const unsigned char*>(certificate.data());
    const std::size_t n = certificate.size();
    const bool is_pem =
        std::string_view(reinterpret_cast<const char*>(p), n).find("-----BEGIN CERTIFICATE-----") !=
        std::string_view::npos;
    int ret;
    if (is_pem) {
        // mbedTLS parses PEM only with the terminating NUL counted in the size.
        std::string text(reinterpret_cast<const char*>(p), n);
        ret = mbedtls_x509_crt_parse(
            crt.get(), reinterpret_cast<const unsigned char*>(text.c_str()), text.size() + 1);
        if (ret > 0)
            ret = MBEDTLS_ERR_X509_INVALID_FORMAT; // some blocks did not parse
    } else {
        ret = mbedtls_x509_crt_parse_der(crt.get(), p, n);
    }
    if (ret != 0 && crt.get()->raw.p == nullptr)
        throw_error(error::invalid_certificate, "tlsx::spki_sha256", "the certificate",
                    detail::mbedtls_reason(ret));
    return base64(spki_digest(*crt.get()));
}

verify_callback pin_spki_sha256(const std::vector<std::string>& pins, verify_callback next) {
    if (pins.empty())
        throw_error(error::invalid_argument, "tlsx::pin_spki_sha256", "the pins",
                    "at least one pin is needed");
    auto set = std::make_shared<pin_set>();
    for (std::size_t i = 0; i < pins.size(); ++i)
        set->pins.push_back(decode_pin(pins[i], i));
    set->next = std::move(next);
    return [set](bool preverified, verify_context& vc) {
        if (set->next)
            preverified = set->next(preverified, vc);
        const mbedtls_x509_crt* crt = vc.native_handle();
        if (vc.depth() > 0) {
            if (crt && set->pinned(*crt))
                matched_above = set.get();
            return preverified;
        }
        const bool above = matched_above == set.get();
        matched_above = nullptr;
        return preverified && (above || (crt && set->pinned(*crt)));
    };
}

} // namespace tlsx
