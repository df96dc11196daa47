//
// tlsx/tlsx.hpp — the umbrella header: everything but the optional beast.hpp, mbedtls.hpp and
// test.hpp.
//
#ifndef TLSX_TLSX_HPP
#define TLSX_TLSX_HPP

/** @file
    Everything of tlsx's public surface except the optional headers:
    <tlsx/mbedtls.hpp> (mbedTLS types for native_handle()) and <tlsx/test.hpp> (test helpers).
*/

/** @namespace tlsx
    TLS streams for Boost.Asio over mbedTLS: @ref tlsx::stream, its @ref tlsx::context, the
    sans-I/O @ref tlsx::engine, sessions and errors.
*/

#include <tlsx/context.hpp>
#include <tlsx/engine.hpp>
#include <tlsx/error.hpp>
#include <tlsx/pinning.hpp>
#include <tlsx/host_name_verification.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/stream_base.hpp>

#endif
