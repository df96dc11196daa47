//
// What the example test drivers share: run a program to its end with a bounded wait, start a
// server and learn its port from its "listening on ADDRESS:PORT" line, count checks. Built on
// test/support/peer_process.hpp (child processes in their own process group, ended and reaped
// by the destructor, so no test leaves one behind).
//
#ifndef TLSX_EXAMPLES_EXAMPLE_TEST_HPP
#define TLSX_EXAMPLES_EXAMPLE_TEST_HPP

#include "support/peer_process.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <vector>

namespace example_test {

/// Counts checks and prints one line per check; `summary()` is the exit status.
class checks {
public:
    explicit checks(std::string name)
        : name_(std::move(name)) {}

    /// Record one check; on failure print `detail` (usually a program's output) too.
    bool operator()(bool ok, std::string_view what, std::string_view detail = {}) {
        std::cout << (ok ? "  ok      " : "  FAILED  ") << what << std::endl;
        if (ok) {
            ++passed_;
        } else {
            ++failed_;
            if (!detail.empty())
                std::cout << "---- output ----\n" << detail << "\n---- end ----" << std::endl;
        }
        return ok;
    }

    /// Print "NAME: N passed, M failed"; returns the exit status (0 when nothing failed).
    int summary() const {
        std::cout << name_ << ": " << passed_ << " passed, " << failed_ << " failed" << std::endl;
        return failed_ == 0 && passed_ > 0 ? 0 : 1;
    }

private:
    std::string name_;
    int passed_ = 0;
    int failed_ = 0;
};

/// How a program run to its end went.
struct result {
    std::optional<int> status; // wait status; empty if it was still running at the deadline
    std::string output;        // stdout and stderr

    bool exited_with(int code) const {
        return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
    }
    bool ok() const { return exited_with(0); }
    bool has(std::string_view text) const { return output.find(text) != std::string::npos; }
    /// How often `text` occurs in the output.
    std::size_t count(std::string_view text) const {
        std::size_t n = 0;
        for (auto p = output.find(text); p != std::string::npos; p = output.find(text, p + 1))
            ++n;
        return n;
    }
};

/// Run a program to its end, at most `limit`; a program still running then is ended.
inline result run(std::vector<std::string> argv,
                  std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::cout << "  $ ";
    for (const auto& a : argv)
        std::cout << a << ' ';
    std::cout << std::endl;
    tlsx_test::peer_process p(std::move(argv));
    p.close_stdin();
    result r;
    r.status = p.wait_exit(limit);
    r.output = p.output();
    return r;
}

/// A server started in the background; the destructor ends it (SIGTERM, then SIGKILL).
struct server {
    std::unique_ptr<tlsx_test::peer_process> process;
    unsigned short port = 0;

    /// Start `argv` and wait for its "listening on ADDRESS:PORT" line; port stays 0 on failure.
    explicit server(std::vector<std::string> argv,
                    std::chrono::seconds limit = std::chrono::seconds(20)) {
        std::cout << "  $ ";
        for (const auto& a : argv)
            std::cout << a << ' ';
        std::cout << "&" << std::endl;
        process = std::make_unique<tlsx_test::peer_process>(std::move(argv));
        if (!process->wait_for_output("listening on ", limit))
            return;
        // The line may still be arriving: wait for the end of the number.
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const std::string out = process->output();
            const auto at = out.find("listening on ");
            const auto colon = out.find(':', at);
            const auto end = out.find_first_not_of("0123456789", colon + 1);
            if (colon != std::string::npos && end != std::string::npos && end > colon + 1) {
                port = static_cast<unsigned short>(
                    std::strtoul(out.substr(colon + 1, end - colon - 1).c_str(), nullptr, 10));
                return;
            }
            if (std::chrono::steady_clock::now() >= deadline)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    std::string port_string() const { return std::to_string(port); }
    std::string output() const { return process->output(); }
};

} // namespace example_test

#endif
