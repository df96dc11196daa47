//
// Test of the https_server example: curl fetches the built-in page and files over HTTP/1.1 with
// ALPN, reuses one connection for several URLs, gets 404 and HEAD right, and refuses a server
// it does not trust.
//
//   test_https_server PATH_TO_https_server
//
#include "example_test.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <string>
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
    return check.summary();
}
