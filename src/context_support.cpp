// src/context_support.cpp — the non-inline part of detail/context_support.hpp.
//
#include "detail/context_support.hpp"

#include <boost/system/system_error.hpp>

namespace tlsx {
namespace detail {

// ---- errors ---------------------------------------------------------------------------------

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

} // namespace detail
} // namespace tlsx
