// src/context_support.cpp — the non-inline part of detail/context_support.hpp.
//
#include "detail/context_support.hpp"

#include <boost/system/system_error.hpp>

#include <mbedtls/error.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <system_error>

namespace tlsx {
namespace detail {

// ---- errors ---------------------------------------------------------------------------------

std::string mbedtls_reason(int code) {
    char buf[256];
    mbedtls_strerror(code, buf, sizeof buf);
    return std::string("mbedTLS: ") + buf;
}

[[noreturn]] void throw_error(const error_code& ec, const char* fn, const std::string& subject,
                              const std::string& detail) {
    std::string what = fn;
    if (!subject.empty())
        what += ": " + subject;
    if (!detail.empty())
        what += " (" + detail + ")";
    throw boost::system::system_error(ec, what);
}

void check(int ret, const char* what) {
    if (ret != 0)
        throw boost::system::system_error(make_mbedtls_error(ret), what);
}

context_impl& need(const std::shared_ptr<context_impl>& impl, const char* fn) {
    if (!impl)
        throw_error(moved_from(), fn, "moved-from context", {});
    return *impl;
}

// ---- input buffers --------------------------------------------------------------------------

bool read_file(const std::string& path, std::string& out) {
    std::error_code fs_ec;
    if (std::filesystem::is_directory(path, fs_ec)) // opens fine, but reads fail silently
        return false;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

bool has_pem_marker(boost::asio::const_buffer in) noexcept {
    return std::string_view(static_cast<const char*>(in.data()), in.size()).find("-----BEGIN") !=
           std::string_view::npos;
}

parse_input::parse_input(boost::asio::const_buffer in) {
    if (has_pem_marker(in)) {
        pem_.value.assign(static_cast<const char*>(in.data()), in.size());
        data_ = reinterpret_cast<const unsigned char*>(pem_.value.c_str());
        size_ = pem_.value.size() + 1;
        is_pem_ = true;
    } else {
        data_ = static_cast<const unsigned char*>(in.data());
        size_ = in.size();
    }
}

} // namespace detail
} // namespace tlsx
