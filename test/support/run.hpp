//
// Helpers shared by the stream tests.
//
#ifndef TLSX_TEST_SUPPORT_RUN_HPP
#define TLSX_TEST_SUPPORT_RUN_HPP

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tlsx_test {

/// Run the io_context until it has no work, but never longer than a bound: a deadlock shows as
/// a failed check instead of a hung test. Returns true when the context ran out of work.
inline bool run_bounded(boost::asio::io_context& io,
                        std::chrono::seconds limit = std::chrono::seconds(60)) {
    io.restart();
    io.run_for(limit);
    return io.stopped();
}

/// Deterministic test data: not periodic on record boundaries.
inline std::string pattern(std::size_t n, unsigned seed = 1) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u ^ seed;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s[i] = static_cast<char>(x);
    }
    return s;
}

/// FNV-1a, to compare large transfers without keeping both copies.
inline std::uint64_t checksum(const char* p, std::size_t n,
                              std::uint64_t h = 1469598103934665603ull) {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= static_cast<unsigned char>(p[i]);
        h *= 1099511628211ull;
    }
    return h;
}

} // namespace tlsx_test

#endif
