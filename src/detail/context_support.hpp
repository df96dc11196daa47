// src/detail/context_support.hpp — private helpers that several of the context's files share.
//
// The context's code lives in one file per concern: context.cpp (construction, protocol
// settings, callbacks), context_credentials.cpp, context_trust.cpp, context_resumption.cpp and
// self_signed.cpp. What more than one of them needs is declared here, once.
//
#ifndef TLSX_SRC_DETAIL_CONTEXT_SUPPORT_HPP
#define TLSX_SRC_DETAIL_CONTEXT_SUPPORT_HPP

#include <tlsx/error.hpp>

#include <string>

namespace tlsx {
namespace detail {

// ---- errors ---------------------------------------------------------------------------------

/// Throws boost::system::system_error(ec) whose what() reads "fn: subject (detail)", leaving
/// out the parts that are empty.
[[noreturn]] void throw_error(const error_code& ec, const char* fn, const std::string& subject,
                              const std::string& detail);

/// Throws boost::system::system_error for a nonzero mbedTLS result; `what` names the step.
void check(int ret, const char* what);

} // namespace detail
} // namespace tlsx

#endif
