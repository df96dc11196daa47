//
// Helpers for interop tests: run a real TLS peer (openssl, gnutls-cli, curl) as a child process,
// find a free loopback port, keep files in a temporary directory. POSIX only.
//
#ifndef TLSX_TEST_SUPPORT_PEER_PROCESS_HPP
#define TLSX_TEST_SUPPORT_PEER_PROCESS_HPP

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <optional>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace tlsx_test {

/// The full path of an executable found on PATH, or an empty string.
inline std::string find_program(std::string_view name) {
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!rest.empty()) {
        const std::size_t colon = rest.find(':');
        std::string dir(rest.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        if (dir.empty())
            dir = ".";
        std::string candidate = dir + "/" + std::string(name);
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
inline unsigned short free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("free_port: socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("free_port: bind failed");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

/// Try to connect to 127.0.0.1:port until it accepts or `timeout` passes; the probing
/// connections are closed at once.
inline bool wait_for_port(unsigned short port,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return false;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (ok)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

/// A temporary directory, removed with its contents on destruction.
class temp_dir {
public:
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "tlsx_test_XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            throw std::runtime_error("temp_dir: mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

    /// Write a file in the directory; returns its full path.
    std::string write(const std::string& name, std::string_view contents) const {
        const auto p = path_ / name;
        std::ofstream(p, std::ios::binary) << contents;
        return p.string();
    }

private:
    std::filesystem::path path_;
};

/** A child process with its stdin a pipe that the test holds open and its stdout and stderr
    captured to a temporary file.

    The destructor ends the process if it still runs (SIGTERM to its process group, then SIGKILL
    after a grace period) and reaps it, so no test leaves a peer behind.
*/
class peer_process {
public:
    /// Start `argv[0]` (looked up on PATH) with the given arguments.
    explicit peer_process(std::vector<std::string> argv) {
        // Writing to the stdin of a peer that has exited must fail with EPIPE, not kill us.
        std::signal(SIGPIPE, SIG_IGN);

        std::string pattern =
            (std::filesystem::temp_directory_path() / "tlsx_peer_XXXXXX").string();
        int out = ::mkstemp(pattern.data());
        if (out < 0)
            throw std::runtime_error("peer_process: mkstemp failed");
        output_path_ = pattern;

        int in[2];
        if (::pipe2(in, O_CLOEXEC) != 0) {
            ::close(out);
            throw std::runtime_error("peer_process: pipe2 failed");
        }

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out, STDERR_FILENO);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        // Its own process group, so that ending it ends whatever it started too; default
        // signal handling (we ignore SIGPIPE, the child must not inherit that).
        sigset_t defaults;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        const int err = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        ::close(in[0]);
        ::close(out);
        if (err != 0) {
            ::close(in[1]);
            std::filesystem::remove(output_path_);
            pid_ = -1;
            throw std::runtime_error("peer_process: cannot start " + argv[0] + ": " +
                                     std::strerror(err));
        }
        stdin_ = in[1];
        for (const auto& a : argv)
            command_ += (command_.empty() ? "" : " ") + a;
    }

    ~peer_process() {
        close_stdin();
        if (pid_ > 0 && !exit_status_) {
            ::kill(-pid_, SIGTERM);
            if (!wait_exit(std::chrono::seconds(2))) {
                ::kill(-pid_, SIGKILL);
                int status = 0;
                while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
                }
            }
        }
        std::error_code ec;
        std::filesystem::remove(output_path_, ec);
    }

    peer_process(const peer_process&) = delete;
    peer_process& operator=(const peer_process&) = delete;

    /// The command line, for messages.
    const std::string& command() const noexcept { return command_; }

    /// Write to the peer's stdin; false if it cannot take it (exited).
    bool write_stdin(std::string_view data) {
        while (!data.empty()) {
            if (stdin_ < 0)
                return false;
            const ssize_t n = ::write(stdin_, data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Close the peer's stdin (EOF for it).
    void close_stdin() {
        if (stdin_ >= 0) {
            ::close(stdin_);
            stdin_ = -1;
        }
    }

    /// Everything the peer printed so far (stdout and stderr, interleaved).
    std::string output() const {
        std::ifstream in(output_path_, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }

    /// Wait until the output contains `text`, at most `timeout`.
    bool wait_for_output(std::string_view text,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (output().find(text) != std::string::npos)
                return true;
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    /// Wait for the peer to exit, at most `timeout`; its wait status, or nothing if it runs on.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!exit_status_ && pid_ > 0) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exit_status_ = status;
                break;
            }
            if (r < 0 && errno != EINTR)
                break;
            if (std::chrono::steady_clock::now() >= deadline)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return exit_status_;
    }

    /// Whether the peer still runs.
    bool running() { return pid_ > 0 && !wait_exit(std::chrono::milliseconds(0)); }

    /// Send `sig` to the peer itself (SIGHUP to reload, say); false if it is not running.
    bool send_signal(int sig) { return running() && ::kill(pid_, sig) == 0; }

private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    std::string output_path_;
    std::string command_;
    std::optional<int> exit_status_;
};

} // namespace tlsx_test

#endif
