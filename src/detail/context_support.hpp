// src/detail/context_support.hpp — private helpers that several of the context's files share.
//
// The context's code lives in one file per concern: context.cpp (construction, protocol
// settings, callbacks), context_credentials.cpp, context_trust.cpp, context_resumption.cpp and
// self_signed.cpp. What more than one of them needs is declared here, once.
//
#ifndef TLSX_SRC_DETAIL_CONTEXT_SUPPORT_HPP
#define TLSX_SRC_DETAIL_CONTEXT_SUPPORT_HPP

#include <tlsx/error.hpp>
#include <tlsx/stream_base.hpp>

#include "detail/context_impl.hpp"

#include <boost/asio/buffer.hpp>

#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace tlsx {
namespace detail {

/** The entropy source that seeds a context's DRBG: mbedTLS's entropy pool, except in fuzz builds
    (TLSX_FUZZING, set by -DTLSX_BUILD_FUZZERS=ON only), where it is a constant, so that a
    fuzzer's input replays the same handshake (same randoms, same keys) every time. */
inline int drbg_entropy(void* pool, unsigned char* out, std::size_t len) {
#if defined(TLSX_FUZZING)
    (void)pool;
    for (std::size_t i = 0; i < len; ++i)
        out[i] = static_cast<unsigned char>(0x5a ^ i);
    return 0;
#else
    return mbedtls_entropy_func(pool, out, len);
#endif
}

/// Both roles, as they index context_impl::config.
inline constexpr stream_base::handshake_type all_roles[] = {stream_base::client,
                                                            stream_base::server};

/// Calls f(conf) for each configuration the context's method allows.
template <class F>
void for_each_config(context_impl& impl, F&& f) {
    for (auto role : all_roles)
        if (mbedtls_ssl_config* conf = impl.config_for(role))
            f(conf);
}

// ---- errors ---------------------------------------------------------------------------------

/// "mbedTLS: " and mbedTLS's description of `code`, for the detail of an exception.
std::string mbedtls_reason(int code);

/// Throws boost::system::system_error(ec) whose what() reads "fn: subject (detail)", leaving
/// out the parts that are empty.
[[noreturn]] void throw_error(const error_code& ec, const char* fn, const std::string& subject,
                              const std::string& detail);

/// Throws boost::system::system_error for a nonzero mbedTLS result; `what` names the step.
void check(int ret, const char* what);

/// What a setter of a moved-from context fails with.
inline error_code moved_from() noexcept {
    return error::operation_not_permitted;
}

/// The context's state, or a throw naming `fn` if the context was moved from.
context_impl& need(const std::shared_ptr<context_impl>& impl, const char* fn);

// A configuration step is `error_code(context_impl&, std::string& detail)`; `detail` receives
// what the thrown exception should add (mbedTLS's reason, the offending name). The throwing and
// the error_code overloads of a setter run the same step.
template <class Step>
error_code run(const std::shared_ptr<context_impl>& impl, Step&& step) {
    if (!impl)
        return moved_from();
    std::string detail;
    return step(*impl, detail);
}

template <class Step>
void run_or_throw(const std::shared_ptr<context_impl>& impl, const char* fn,
                  const std::string& subject, Step&& step) {
    std::string detail;
    error_code ec = step(need(impl, fn), detail);
    if (ec)
        throw_error(ec, fn, subject, detail);
}

// ---- input buffers --------------------------------------------------------------------------

// A std::string that is wiped when it goes away: private keys and passwords pass through these.
// Best effort only: buffers the string let go of while growing are not wiped.
struct scrubbed_string {
    std::string value;
    ~scrubbed_string() { mbedtls_platform_zeroize(value.data(), value.size()); }
};

/// Reads a whole file into `out`; false if it cannot be read (or is a directory).
bool read_file(const std::string& path, std::string& out);

// Turns a step on a buffer into a step on a file's contents, so that both overloads share the
// parsing code.
template <class Load>
auto from_file(const std::string& path, Load load) {
    return [&path, load](context_impl& impl, std::string& detail) -> error_code {
        scrubbed_string data;
        if (!read_file(path, data.value))
            return make_error_code(boost::system::errc::no_such_file_or_directory);
        return load(impl, boost::asio::buffer(data.value), detail);
    };
}

template <class Load>
auto from_buffer(boost::asio::const_buffer buffer, Load load) {
    return [buffer, load](context_impl& impl, std::string& detail) -> error_code {
        return load(impl, buffer, detail);
    };
}

/// Whether the input holds a PEM block ("-----BEGIN").
bool has_pem_marker(boost::asio::const_buffer in) noexcept;

// Input prepared for mbedTLS's parsers.
//
// They take PEM only from a NUL-terminated buffer whose length counts the terminator, and DER
// only as is (a trailing NUL would be an extra byte), so PEM is copied and terminated.
class parse_input {
public:
    explicit parse_input(boost::asio::const_buffer in);

    parse_input(const parse_input&) = delete; // data_ may point into pem_
    parse_input& operator=(const parse_input&) = delete;

    const unsigned char* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool is_pem() const noexcept { return is_pem_; }

private:
    scrubbed_string pem_;
    const unsigned char* data_ = nullptr;
    std::size_t size_ = 0;
    bool is_pem_ = false;
};

/// Whether a chain holds no certificate (mbedTLS's head node is a certificate only once filled).
inline bool is_empty(const mbedtls_x509_crt& chain) noexcept {
    return chain.raw.p == nullptr;
}

// ---- what construction takes from the other files -------------------------------------------
//
// context.cpp sets up each configuration; these put the other files' part on it.

/// Issue and accept session tickets on the server configuration; the ticket module's key
/// rotates every `lifetime`, and a ticket is accepted for at most `lifetime`
/// (context_resumption.cpp).
void enable_tickets(context_impl& impl, std::chrono::seconds lifetime);

} // namespace detail
} // namespace tlsx

#endif
