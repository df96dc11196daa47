//
// tlsx — private: scope guards for mbedTLS structures.
//
#ifndef TLSX_SRC_DETAIL_MBEDTLS_RAII_HPP
#define TLSX_SRC_DETAIL_MBEDTLS_RAII_HPP

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

namespace tlsx {
namespace detail {

/** An mbedTLS structure that is initialised on construction and freed on destruction.

    mbedTLS structures are plain C structs with `_init` and `_free` functions; wrapping them
    keeps early returns and exceptions from leaking what a half-done parse allocated. The object
    neither copies nor moves: mbedTLS keeps pointers into some of them (a parsed chain links its
    own nodes, configurations point at certificates).
*/
template <class T, void (*Init)(T*), void (*Free)(T*)>
class unique_mbedtls {
public:
    unique_mbedtls() noexcept { Init(&obj_); }
    ~unique_mbedtls() { Free(&obj_); }
    unique_mbedtls(const unique_mbedtls&) = delete;
    unique_mbedtls& operator=(const unique_mbedtls&) = delete;

    /// The wrapped structure, for passing to mbedTLS functions.
    T* get() noexcept { return &obj_; }
    /// @copydoc get
    const T* get() const noexcept { return &obj_; }
    /// Member access to the wrapped structure.
    T* operator->() noexcept { return &obj_; }
    /// @copydoc operator->
    const T* operator->() const noexcept { return &obj_; }

private:
    T obj_;
};

using unique_pk = unique_mbedtls<mbedtls_pk_context, mbedtls_pk_init, mbedtls_pk_free>;
using unique_crt = unique_mbedtls<mbedtls_x509_crt, mbedtls_x509_crt_init, mbedtls_x509_crt_free>;
using unique_crl = unique_mbedtls<mbedtls_x509_crl, mbedtls_x509_crl_init, mbedtls_x509_crl_free>;
using unique_mpi = unique_mbedtls<mbedtls_mpi, mbedtls_mpi_init, mbedtls_mpi_free>;
using unique_entropy =
    unique_mbedtls<mbedtls_entropy_context, mbedtls_entropy_init, mbedtls_entropy_free>;
using unique_drbg =
    unique_mbedtls<mbedtls_ctr_drbg_context, mbedtls_ctr_drbg_init, mbedtls_ctr_drbg_free>;

#if defined(MBEDTLS_X509_CRT_WRITE_C)
using unique_crt_writer =
    unique_mbedtls<mbedtls_x509write_cert, mbedtls_x509write_crt_init, mbedtls_x509write_crt_free>;
#endif

} // namespace detail
} // namespace tlsx

#endif
