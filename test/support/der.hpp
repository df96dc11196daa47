// The DER bytes of a PEM certificate, as a peer receives them (for peer_certificate() checks).
#ifndef TLSX_TEST_SUPPORT_DER_HPP
#define TLSX_TEST_SUPPORT_DER_HPP

#include <mbedtls/x509_crt.h>

#include <string>
#include <string_view>
#include <vector>

namespace tlsx_test {

/// The first certificate of `cert_pem` in DER; empty if it does not parse.
inline std::vector<unsigned char> der_of(std::string_view cert_pem) {
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    std::string s(cert_pem);
    std::vector<unsigned char> der;
    if (mbedtls_x509_crt_parse(&crt, reinterpret_cast<const unsigned char*>(s.c_str()),
                               s.size() + 1) == 0)
        der.assign(crt.raw.p, crt.raw.p + crt.raw.len);
    mbedtls_x509_crt_free(&crt);
    return der;
}

} // namespace tlsx_test

#endif
