// src/self_signed.cpp — self-signed certificates for demos and tests (generate_self_signed).
//
// A fresh ECDSA P-256 key and a certificate that is its own CA, written with mbedTLS's X.509
// writer. Needs no context: it seeds its own random generator.
//
#include <tlsx/context.hpp>

#include "detail/context_support.hpp"
#include "detail/mbedtls_internals.hpp"
#include "detail/mbedtls_raii.hpp"

#include <boost/asio/ip/address.hpp>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace tlsx {

using detail::check;
using detail::throw_error;

namespace {

// ---- names, ASN.1, time ---------------------------------------------------------------------

// A host name that fits the subject DN ("CN=<name>") without escaping and is a valid dNSName
// (IA5String): letters, digits and - . _ * (wildcards), and : for IPv6 literals.
bool is_plain_host_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64) // ub-common-name
        return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '*' || c == ':';
    });
}

// SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName, with
// dNSName [2] IMPLICIT IA5String and iPAddress [7] IMPLICIT OCTET STRING.
// mbedTLS 2.28 has no writer for it. asn1write writes backwards from the end of `buf`.
std::size_t write_subject_alt_name(unsigned char* buf, std::size_t size, std::string_view name,
                                   const std::vector<unsigned char>& ip) {
    unsigned char* p = buf + size;
    std::size_t len = 0;
    auto add = [&](int ret) {
        check(ret < 0 ? ret : 0, "tlsx::generate_self_signed: subjectAltName");
        len += static_cast<std::size_t>(ret);
    };
    auto add_general_name = [&](unsigned char tag, const unsigned char* data, std::size_t n) {
        const std::size_t before = len;
        add(mbedtls_asn1_write_raw_buffer(&p, buf, data, n));
        add(mbedtls_asn1_write_len(&p, buf, len - before));
        add(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag));
    };
    // Written backwards: the dNSName ends up after the iPAddress.
    add_general_name(MBEDTLS_X509_SAN_DNS_NAME, reinterpret_cast<const unsigned char*>(name.data()),
                     name.size());
    if (!ip.empty())
        add_general_name(7, ip.data(), ip.size());
    add(mbedtls_asn1_write_len(&p, buf, len));
    add(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    std::memmove(buf, p, len);
    return len;
}

std::string utc_time(std::time_t t) {
    std::tm tm{};
#if defined(_WIN32)
    gmtime_s(&tm, &t);
#else
    gmtime_r(&t, &tm);
#endif
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

// ---- the steps of generate_self_signed ------------------------------------------------------
//
// In the order it takes them (the key, the serial and the signature draw from one generator in
// this order); each throws on failure.

void seed(mbedtls_ctr_drbg_context* drbg, mbedtls_entropy_context* entropy) {
    static const unsigned char personalisation[] = "tlsx.generate_self_signed";
    check(mbedtls_ctr_drbg_seed(drbg, mbedtls_entropy_func, entropy, personalisation,
                                sizeof personalisation - 1),
          "tlsx::generate_self_signed: seeding the random generator");
}

void generate_key(mbedtls_pk_context* key, mbedtls_ctr_drbg_context* drbg) {
    check(mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)),
          "tlsx::generate_self_signed: mbedtls_pk_setup");
    check(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                              mbedtls_ctr_drbg_random, drbg),
          "tlsx::generate_self_signed: generating the key");
}

void set_names(mbedtls_x509write_cert* crt, mbedtls_pk_context* key, std::string_view common_name) {
    mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(crt, key);
    mbedtls_x509write_crt_set_issuer_key(crt, key);

    const std::string dn = "CN=" + std::string(common_name);
    check(mbedtls_x509write_crt_set_subject_name(crt, dn.c_str()),
          "tlsx::generate_self_signed: subject name");
    check(mbedtls_x509write_crt_set_issuer_name(crt, dn.c_str()),
          "tlsx::generate_self_signed: issuer name");
}

void set_serial(mbedtls_x509write_cert* crt, mbedtls_ctr_drbg_context* drbg) {
    // 16 random bytes, the top bit cleared (serials are positive) and the next one set so the
    // serial keeps its full length.
    unsigned char serial_bytes[16];
    check(mbedtls_ctr_drbg_random(drbg, serial_bytes, sizeof serial_bytes),
          "tlsx::generate_self_signed: serial");
    serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7F) | 0x40);
    check(detail::internals::x509write_set_serial(crt, serial_bytes, sizeof serial_bytes),
          "tlsx::generate_self_signed: serial");
}

void set_validity(mbedtls_x509write_cert* crt) {
    const std::time_t now = std::time(nullptr);
    const std::string not_before = utc_time(now - 3600); // tolerate clocks a little behind
    const std::string not_after = utc_time(now + 365 * 24 * 3600);
    check(mbedtls_x509write_crt_set_validity(crt, not_before.c_str(), not_after.c_str()),
          "tlsx::generate_self_signed: validity");
}

void set_ca_extensions(mbedtls_x509write_cert* crt) {
    // Its own CA, so that trusting it with add_certificate_authority is enough.
    check(mbedtls_x509write_crt_set_basic_constraints(crt, 1, 0),
          "tlsx::generate_self_signed: basicConstraints");
    check(mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                                       MBEDTLS_X509_KU_KEY_CERT_SIGN),
          "tlsx::generate_self_signed: keyUsage");
    check(mbedtls_x509write_crt_set_subject_key_identifier(crt),
          "tlsx::generate_self_signed: subjectKeyIdentifier");
    check(mbedtls_x509write_crt_set_authority_key_identifier(crt),
          "tlsx::generate_self_signed: authorityKeyIdentifier");
}

// The address bytes of an IP literal (4 or 16), or none for a host name.
std::vector<unsigned char> ip_address_bytes(std::string_view name) {
    std::vector<unsigned char> ip;
    boost::system::error_code ip_ec;
    const auto address = boost::asio::ip::make_address(std::string(name), ip_ec);
    if (!ip_ec) {
        if (address.is_v4()) {
            const auto bytes = address.to_v4().to_bytes();
            ip.assign(bytes.begin(), bytes.end());
        } else {
            const auto bytes = address.to_v6().to_bytes();
            ip.assign(bytes.begin(), bytes.end());
        }
    }
    return ip;
}

void set_subject_alt_name(mbedtls_x509write_cert* crt, std::string_view common_name) {
    // Clients match host names against the subjectAltName, not the CN. For an IP literal add an
    // iPAddress (what OpenSSL and browsers match) and keep the dNSName, because mbedTLS 2.28
    // compares every SAN entry to the host name as text.
    unsigned char san[256];
    const std::size_t san_len =
        write_subject_alt_name(san, sizeof san, common_name, ip_address_bytes(common_name));
    check(mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                              MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                              san, san_len),
          "tlsx::generate_self_signed: subjectAltName");
}

self_signed_credentials write_pem(mbedtls_x509write_cert* crt, mbedtls_pk_context* key,
                                  mbedtls_ctr_drbg_context* drbg) {
    self_signed_credentials out;
    unsigned char pem[4096];
    check(mbedtls_x509write_crt_pem(crt, pem, sizeof pem, mbedtls_ctr_drbg_random, drbg),
          "tlsx::generate_self_signed: writing the certificate");
    out.certificate_pem = reinterpret_cast<const char*>(pem);

    int ret = mbedtls_pk_write_key_pem(key, pem, sizeof pem);
    if (ret == 0)
        out.private_key_pem = reinterpret_cast<const char*>(pem);
    mbedtls_platform_zeroize(pem, sizeof pem);
    check(ret, "tlsx::generate_self_signed: writing the key");
    return out;
}

} // namespace

// ---- generate_self_signed -------------------------------------------------------------------

namespace {

void check_common_name(std::string_view common_name) {
    if (!is_plain_host_name(common_name))
        throw_error(error::invalid_argument, "tlsx::generate_self_signed",
                    "invalid common name \"" + std::string(common_name) +
                        "\" (expected a host name: letters, digits, - . _ * :, at most 64)",
                    {});
}

self_signed_credentials certify(std::string_view common_name, mbedtls_pk_context* key,
                                mbedtls_ctr_drbg_context* drbg) {
    detail::unique_crt_writer crt;
    set_names(crt.get(), key, common_name);
    set_serial(crt.get(), drbg);
    set_validity(crt.get());
    set_ca_extensions(crt.get());
    set_subject_alt_name(crt.get(), common_name);
    return write_pem(crt.get(), key, drbg);
}

} // namespace

self_signed_credentials generate_self_signed(std::string_view common_name) {
    check_common_name(common_name);
    detail::unique_entropy entropy;
    detail::unique_drbg drbg;
    seed(drbg.get(), entropy.get());
    detail::unique_pk key;
    generate_key(key.get(), drbg.get());
    return certify(common_name, key.get(), drbg.get());
}

self_signed_credentials generate_self_signed(std::string_view common_name,
                                             std::string_view private_key_pem) {
    check_common_name(common_name);
    detail::unique_entropy entropy;
    detail::unique_drbg drbg;
    seed(drbg.get(), entropy.get());
    detail::unique_pk key;
    // mbedTLS parses PEM only with the terminating NUL counted in the size.
    std::string pem(private_key_pem);
    const int ret = detail::internals::pk_parse_key(
        key.get(), reinterpret_cast<const unsigned char*>(pem.c_str()), pem.size() + 1, nullptr, 0,
        mbedtls_ctr_drbg_random, drbg.get());
    mbedtls_platform_zeroize(pem.data(), pem.size());
    check(ret, "tlsx::generate_self_signed: the private key (PEM, unencrypted)");
    return certify(common_name, key.get(), drbg.get());
}

} // namespace tlsx
