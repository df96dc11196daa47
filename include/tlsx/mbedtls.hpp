//
// tlsx/mbedtls.hpp — optional native access: the only public header that exposes mbedTLS types.
//
#ifndef TLSX_MBEDTLS_HPP
#define TLSX_MBEDTLS_HPP

/** @file
    The mbedTLS declarations behind tlsx's `native_handle()` functions.

    The other tlsx headers only forward-declare mbedTLS's types, so that code using tlsx does
    not see mbedTLS at all. Include this header to work with what `native_handle()` returns:
    `context::native_handle()` gives an `mbedtls_ssl_config*` (shared by every stream of that
    context: change it only before handshakes start) and `verify_context::native_handle()` an
    `mbedtls_x509_crt*`. Code that includes it needs mbedTLS's headers on its include path.

    @par Example
    @code
    #include <tlsx/mbedtls.hpp>

    tlsx::context ctx{tlsx::context::tls_client};
    // Offer only the P-256 curve (an mbedTLS setting tlsx has no function for).
    static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
    mbedtls_ssl_conf_curves(ctx.native_handle(), curves);
    @endcode
*/

#include <tlsx/context.hpp>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#endif
