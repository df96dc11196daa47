//
// Shared by the interop suites: the embedded credentials as files for the peers, skipping when
// a peer program is missing, and running a test body as a bounded coroutine.
//
#ifndef TLSX_TEST_SUPPORT_INTEROP_HPP
#define TLSX_TEST_SUPPORT_INTEROP_HPP

#include "certs.hpp"
#include "peer_process.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace tlsx_test {

/// The CA, server certificate and key as files, for peers that take paths.
struct credential_files {
    temp_dir dir;
    std::string ca = dir.write("ca.pem", certs::ca_cert);
    std::string cert = dir.write("server.pem", certs::server_cert);
    std::string key = dir.write("server.key", certs::server_key);
};

/// Skips the calling test case (returns false) when `program` is not installed.
inline bool have(std::string_view program) {
    if (!find_program(program).empty())
        return true;
    BOOST_TEST_MESSAGE("skipped: `" << program << "` is not installed");
    return false;
}

/// Runs `body` as a coroutine on `io` until it finishes or `limit` passes; exceptions fail the
/// test. When the body is done the io_context stops: readers it left pending are abandoned (the
/// streams close when they go out of scope). Returns whether the body finished.
inline bool run_coroutine(boost::asio::io_context& io,
                          std::function<boost::asio::awaitable<void>()> body,
                          std::chrono::steady_clock::duration limit) {
    bool finished = false;
    boost::asio::co_spawn(io, std::move(body), [&](std::exception_ptr e) {
        finished = true;
        io.stop();
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                BOOST_ERROR("exception: " << x.what());
            }
        }
    });
    io.restart();
    io.run_for(limit);
    return finished;
}

} // namespace tlsx_test

#endif
