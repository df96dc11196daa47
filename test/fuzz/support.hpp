//
// What the libFuzzer targets share (issue 14, item 2): fixed credentials, the contexts of both
// roles, an engine driven over a byte string, and determinism.
//
// Determinism: a fuzz build (-DTLSX_BUILD_FUZZERS=ON defines TLSX_FUZZING for the library)
// seeds every context's DRBG with a constant (src/detail/context_support.hpp); support.cpp fixes
// time() and the platform entropy that PSA Crypto (mbedTLS 3.x's TLS 1.3 key shares) draws; and
// `fresh_crypto` restarts PSA Crypto after each input, so that every input replays exactly.
//
#ifndef TLSX_TEST_FUZZ_SUPPORT_HPP
#define TLSX_TEST_FUZZ_SUPPORT_HPP

#include <tlsx/context.hpp>
#include <tlsx/engine.hpp>

#include "support/certs.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace tlsx_fuzz {

/// Restarts PSA Crypto (its random generator is process-global) when an input is done.
struct fresh_crypto {
    fresh_crypto() = default;
    fresh_crypto(const fresh_crypto&) = delete;
    fresh_crypto& operator=(const fresh_crypto&) = delete;
    ~fresh_crypto();
};

/// The first byte of a handshake input: bit 0 caps both ends at TLS 1.2.
inline bool tls12_mode(std::uint8_t mode) {
    return (mode & 1) != 0;
}

/// A server context with the test server certificate (certs.hpp), both versions unless `tls12`.
tlsx::context server_context(bool tls12);
/// A client context that trusts the test CA and verifies, both versions unless `tls12`.
tlsx::context client_context(bool tls12);

/// Feed `data` to `e` as what its peer sends, stepping the handshake and then reads (and one
/// write) until the engine fails, wants input that is not there, or a step bound is reached.
/// Everything the engine outputs is appended to `out` (if given).
void drive(tlsx::engine& e, tlsx::stream_base::handshake_type role, const std::uint8_t* data,
           std::size_t size, std::string* out = nullptr);

} // namespace tlsx_fuzz

#endif
