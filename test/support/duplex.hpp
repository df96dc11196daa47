//
// A full-duplex peer for tests: chained writes and chained reads on one stream at once.
//
#ifndef TLSX_TEST_SUPPORT_DUPLEX_HPP
#define TLSX_TEST_SUPPORT_DUPLEX_HPP

#include <tlsx/stream.hpp>
#include <tlsx/test.hpp>

#include "run.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace tlsx_test {

namespace net = boost::asio;
using tlsx::error_code;
using tls_stream = tlsx::stream<tlsx::test::pipe>;

/// Streams `data` out of `s` with chained async_write_some, while a chained async_read_some on
/// the same stream collects `expect` bytes. Both chains run at once: that is full duplex.
struct duplex_peer {
    duplex_peer(tls_stream& stream, const std::string& d, std::size_t e, net::any_io_executor x)
        : s(stream)
        , data(d)
        , expect(e)
        , ex(std::move(x)) {}

    tls_stream& s;
    const std::string& data;
    std::size_t expect;
    net::any_io_executor ex; // every completion of this peer runs here (a strand when threaded)
    std::size_t sent = 0;
    std::size_t received = 0;
    std::uint64_t sum = checksum(nullptr, 0);
    std::vector<char> buf = std::vector<char>(7000);
    error_code write_ec, read_ec;
    bool write_done = false, read_done = false;
    std::function<void()> on_written; // called (on ex) once all of data is written

    void start() {
        write();
        read();
    }

    void write() {
        std::size_t n = std::min<std::size_t>(data.size() - sent, 10000);
        s.async_write_some(net::buffer(data.data() + sent, n),
                           net::bind_executor(ex, [this](error_code ec, std::size_t k) {
                               sent += k;
                               if (ec) {
                                   write_ec = ec;
                                   write_done = true;
                               } else if (sent < data.size()) {
                                   write();
                               } else {
                                   write_done = true;
                                   if (on_written)
                                       on_written();
                               }
                           }));
    }

    void read() {
        s.async_read_some(net::buffer(buf),
                          net::bind_executor(ex, [this](error_code ec, std::size_t k) {
                              sum = checksum(buf.data(), k, sum);
                              received += k;
                              if (ec) {
                                  read_ec = ec;
                                  read_done = true;
                              } else if (received < expect) {
                                  read();
                              } else {
                                  read_done = true;
                              }
                          }));
    }
};

} // namespace tlsx_test

#endif
