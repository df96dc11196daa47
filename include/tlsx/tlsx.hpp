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

#include <tlsx/context.hpp>
#include <tlsx/engine.hpp>
#include <tlsx/error.hpp>
#include <tlsx/host_name_verification.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream.hpp>
#include <tlsx/stream_base.hpp>

#endif
