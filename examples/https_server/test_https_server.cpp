//
// Test of the https_server example: curl fetches the built-in page and files over HTTP/1.1 with
// ALPN, reuses one connection for several URLs, gets 404 and HEAD right, and refuses a server
// it does not trust. With --cert/--key, SIGHUP reloads the certificate while curl fetches in a
// loop: no request fails, later connections present the new certificate, a connection open
// across the reload goes on, and a bad file keeps the server on the certificate it has.
//
//   test_https_server PATH_TO_https_server
//
#include "example_test.hpp"

#include <tlsx/context.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

using example_test::run;

namespace {
std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: test_https_server PATH_TO_https_server\n";
        return 2;
    }
    const std::string program = argv[1];
    example_test::checks check("test_https_server");
    if (tlsx_test::find_program("curl").empty()) {
        std::cout << "curl not found: skipped" << std::endl;
        return 0;
    }
    tlsx_test::temp_dir dir;

    // A document root with a page, a text file and a larger binary-ish file.
    std::filesystem::create_directories(dir.path() / "www" / "sub");
    dir.write("www/index.html", "<h1>index page</h1>\n");
    dir.write("www/hello.txt", "hello, file\n");
    std::string big;
    for (int i = 0; i < 300000; ++i)
        big += static_cast<char>('a' + i % 26);
    dir.write("www/sub/big.txt", big);
    const std::string root = (dir.path() / "www").string();
    const std::string cert = (dir.path() / "cert.pem").string();
    const std::string cert2 = (dir.path() / "cert2.pem").string();

    // curl with the test's defaults: bounded, trusting the written certificate, and resolving
    // localhost to the IPv4 loopback the server listens on.
    auto curl = [&](unsigned short port, std::vector<std::string> args) {
        std::vector<std::string> argv = {
            "curl",       "--http1.1",
            "--silent",   "--show-error",
            "--max-time", "20",
            "--resolve",  "localhost:" + std::to_string(port) + ":127.0.0.1"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    };

    {
        std::cout << "built-in page" << std::endl;
        example_test::server server({program, "--port", "0", "--write-cert", cert});
        if (!check(server.port != 0, "server prints its port", server.output()))
            return check.summary();
        const std::string url = "https://localhost:" + server.port_string() + "/";

        auto r = curl(server.port, {"--cacert", cert, url});
        check(r.ok() && r.has("Hello from tlsx over Beast"), "curl fetches the built-in page",
              r.output);
        check(r.has("ALPN: http/1.1"), "ALPN negotiated http/1.1", r.output);
        // TLS 1.2 with mbedTLS 2.28; TLS 1.3 with 3.6 (curl prefers it).
        check(r.has("protocol: TLSv1.2") || r.has("protocol: TLSv1.3"),
              "the page shows the protocol version", r.output);

        r = curl(server.port, {"--cacert", cert, "--write-out", "%{http_code}", "--output",
                               "/dev/null", url + "missing"});
        check(r.ok() && r.has("404"), "an unknown path is 404", r.output);

        // HTTP/1.0: ALPN "http/1.0", and the server closes after the response.
        r = curl(server.port, {"--http1.0", "--verbose", "--cacert", cert, url});
        check(r.ok() && r.has("Hello from tlsx over Beast") &&
                  r.has("ALPN: server accepted http/1.0"),
              "an HTTP/1.0 client gets the page (ALPN http/1.0)", r.output);

        // No --cacert: the system store does not know this certificate.
        r = curl(server.port, {url});
        check(r.exited_with(60), "curl refuses the server without the certificate (exit 60)",
              r.output);
    }

    {
        std::cout << "files, keep-alive" << std::endl;
        example_test::server server(
            {program, "--port", "0", "--write-cert", cert2, "--root", root});
        if (!check(server.port != 0, "server prints its port", server.output()))
            return check.summary();
        const std::string base = "https://localhost:" + server.port_string();

        // Three URLs in one invocation: one TLS connection, reused for each request.
        // Bodies go to files: curl's --verbose lines on stderr would interleave with stdout.
        const std::string out = (dir.path() / "out").string();
        auto r = curl(server.port, {"--verbose", "--cacert", cert2, base + "/", "-o", out + "1",
                                    base + "/hello.txt", "-o", out + "2", base + "/sub/big.txt",
                                    "-o", out + "3"});
        check(r.ok(), "curl fetches three URLs", r.output);
        check(read_file(out + "1") == "<h1>index page</h1>\n" &&
                  read_file(out + "2") == "hello, file\n" && read_file(out + "3") == big,
              "all three bodies arrive intact");
        check(r.count("Re-using existing connection") == 2,
              "curl re-uses the connection for the 2nd and 3rd request", r.output);
        check(r.has("ALPN: server accepted http/1.1"), "curl sees ALPN http/1.1", r.output);
        check(r.count("Connected to localhost") == 1, "exactly one TCP connection", r.output);

        r = curl(server.port, {"--cacert", cert2, "--head", base + "/sub/big.txt"});
        check(r.ok() && r.has("HTTP/1.1 200") && r.has("Content-Length: 300000") &&
                  r.has("text/plain"),
              "HEAD gives the size and type without the body", r.output);

        r = curl(server.port, {"--cacert", cert2, "--write-out", "%{http_code}", "--output",
                               "/dev/null", "--path-as-is", base + "/../etc/passwd"});
        check(r.ok() && r.has("400"), "a target with .. is refused", r.output);

        // The server logged one handshake per connection, and the requests of the first.
        const std::string log = server.output();
        check(log.find("GET /sub/big.txt") != std::string::npos, "the server logged the requests",
              log);
        check(log.find("failed") == std::string::npos, "no connection failed on the server", log);
    }

    {
        std::cout << "certificate reload on SIGHUP" << std::endl;
        // Two certificates for localhost: A is served first, B replaces it. The loop trusts
        // both; a client that trusts only one tells which the server presents.
        const tlsx::self_signed_credentials a = tlsx::generate_self_signed("localhost");
        const tlsx::self_signed_credentials b = tlsx::generate_self_signed("localhost");
        const std::string only_a = dir.write("only-a.pem", a.certificate_pem);
        const std::string only_b = dir.write("only-b.pem", b.certificate_pem);
        const std::string both = dir.write("both.pem", a.certificate_pem + b.certificate_pem);
        const std::string cert_file = dir.write("live-cert.pem", a.certificate_pem);
        const std::string key_file = dir.write("live-key.pem", a.private_key_pem);
        // Files are replaced as deployment tools do: write aside, then rename over.
        auto replace = [&](const std::string& path, std::string_view contents) {
            const std::string aside = dir.write("aside.pem", contents);
            std::filesystem::rename(aside, path);
        };

        example_test::server server(
            {program, "--port", "0", "--cert", cert_file, "--key", key_file});
        if (!check(server.port != 0, "server prints its port", server.output()))
            return check.summary();
        const std::string url = "https://localhost:" + server.port_string() + "/";
        auto fetch = [&](const std::string& ca) {
            auto r = curl(server.port, {"--cacert", ca, url});
            return r.ok() && r.has("Hello from tlsx over Beast");
        };
        check(fetch(only_a), "before the reload the server presents A");
        check(!fetch(only_b), "... and not B");

        // curl in a loop, one connection (and full handshake) per fetch, trusting both.
        std::atomic<int> done{0};
        std::atomic<bool> stop{false};
        int failed = 0;
        std::string first_failure;
        std::thread loop([&] {
            while (!stop) {
                auto r = curl(server.port, {"--cacert", both, url});
                if (!(r.ok() && r.has("Hello from tlsx over Beast")) && failed++ == 0)
                    first_failure = r.output;
                ++done;
            }
        });
        auto wait_for_fetches = [&](int n) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (done < n && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        };
        wait_for_fetches(5);
        // A connection open across the reload: ten requests for /index.html on one
        // connection, two a second, trusting only A. The reload waits for its first request.
        example_test::result kept;
        std::thread keep_alive([&] {
            std::vector<std::string> args = {"--verbose",          "--rate", "2/s",
                                             "--cacert",           only_a,   "--write-out",
                                             "code=%{http_code}\n"};
            for (int i = 0; i < 10; ++i)
                args.insert(args.end(), {url + "index.html", "-o", "/dev/null"});
            kept = curl(server.port, args);
        });
        check(server.process->wait_for_output("GET /index.html", std::chrono::seconds(20)),
              "the kept-alive connection made its first request", server.output());
        replace(cert_file, b.certificate_pem);
        replace(key_file, b.private_key_pem);
        check(server.process->send_signal(SIGHUP), "SIGHUP sent");
        check(server.process->wait_for_output("reloaded certificate from " + cert_file,
                                              std::chrono::seconds(10)),
              "the server logs the reload", server.output());
        const int at_reload = done;
        wait_for_fetches(at_reload + 10);
        stop = true;
        loop.join();
        keep_alive.join();
        check(failed == 0 && done >= at_reload + 10,
              "no fetch failed around the reload (" + std::to_string(done) + " fetches, " +
                  std::to_string(at_reload) + " before it)",
              first_failure);
        check(kept.ok() && kept.count("code=200") == 10 &&
                  kept.count("Re-using existing connection") == 9,
              "the connection open across the reload served all ten requests", kept.output);
        {
            // It really was open across the reload: the server logged some of its ten GETs
            // before the reload line and some after.
            const std::string log = server.output();
            const auto reload_at = log.find("reloaded certificate from");
            std::map<std::string, std::vector<std::size_t>> gets; // "[id]" -> positions
            for (auto p = log.find("] GET /index.html"); p != std::string::npos;
                 p = log.find("] GET /index.html", p + 1)) {
                const auto open = log.rfind('[', p);
                gets[log.substr(open, p - open + 1)].push_back(p);
            }
            bool spanned = false;
            for (const auto& [id, at] : gets)
                if (at.size() == 10 && at.front() < reload_at && at.back() > reload_at)
                    spanned = true;
            check(spanned, "... and it was open across the reload", log);
        }
        check(fetch(only_b), "after the reload new connections get B");
        check(!fetch(only_a), "... and not A");

        // A bad key: the server says so and goes on with B.
        replace(key_file, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        check(server.process->send_signal(SIGHUP), "SIGHUP sent");
        check(server.process->wait_for_output("reload failed, still serving the old certificate",
                                              std::chrono::seconds(10)),
              "a bad key file is logged", server.output());
        check(server.output().find(key_file) != std::string::npos,
              "the log names the file that failed", server.output());
        check(fetch(only_b), "the server still serves B");
        // A key that does not match the certificate, the same.
        replace(key_file, a.private_key_pem);
        check(server.process->send_signal(SIGHUP), "SIGHUP sent");
        check(server.process->wait_for_output("the private key does not match the certificate",
                                              std::chrono::seconds(10)),
              "a key that does not match is logged", server.output());
        check(fetch(only_b), "the server still serves B");
        check(server.process->running(), "the server is still running");
    }

    {
        // tlsx's deadlines (--timeout 1): a client that connects and never starts the
        // handshake, and one that completes it and then sends nothing, both have their
        // connection closed by the server (each client waits at most 20 s for that), and the
        // server goes on serving.
        std::cout << "deadlines" << std::endl;
        const std::string cert3 = (dir.path() / "cert3.pem").string();
        example_test::server server(
            {program, "--port", "0", "--write-cert", cert3, "--timeout", "1"});
        if (!check(server.port != 0, "server prints its port", server.output()))
            return check.summary();
        auto r = run({"timeout", "20", "bash", "-c",
                      "exec 3<>/dev/tcp/127.0.0.1/" + server.port_string() +
                          " && cat <&3 >/dev/null; echo closed-by-server"});
        check(r.ok() && r.has("closed-by-server"),
              "a client that never sends its ClientHello is disconnected", r.output);
        check(server.process->wait_for_output("Connection timed out", std::chrono::seconds(10)),
              "... by the handshake deadline (the server logs timed_out)", server.output());
        if (!tlsx_test::find_program("openssl").empty()) {
            r = run({"timeout", "20", "bash", "-c",
                     "openssl s_client -quiet -connect 127.0.0.1:" + server.port_string() +
                         " < <(sleep 30) >/dev/null 2>&1; echo closed-by-server"});
            check(r.ok() && r.has("closed-by-server"),
                  "a client idle after its handshake is disconnected", r.output);
            check(server.process->wait_for_output("idle for 1 s: closed", std::chrono::seconds(10)),
                  "... by the read idle deadline", server.output());
        }
        auto ok = curl(server.port,
                       {"--cacert", cert3, "https://localhost:" + server.port_string() + "/"});
        check(ok.ok() && ok.has("Hello from tlsx over Beast"),
              "the server still serves after closing both", ok.output);
    }
    return check.summary();
}
