//
// Test of the ported Beast example (http_server_async_ssl): it serves a directory on two
// threads; curl fetches several files over one kept-alive connection, HEAD and 404 work, and the
// https_client example fetches a page too. Both clients verify Beast's test certificate (for
// www.example.com), which this driver reads out of the ported server_certificate.hpp.
//
//   test_beast_port PATH_TO_http_server_async_ssl PATH_TO_https_client
//   PATH_TO_server_certificate.hpp
//
#include "../https_server/example_test.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

using example_test::run;

namespace {

// The certificate PEM from the C++ string literals of server_certificate.hpp.
std::string certificate_from_header(const std::string& path) {
    std::ifstream in(path);
    std::string line, pem;
    bool inside = false;
    while (std::getline(in, line)) {
        const auto first = line.find('"');
        const auto last = line.rfind('"');
        if (first == std::string::npos || last <= first)
            continue;
        std::string text = line.substr(first + 1, last - first - 1);
        if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\\n") == 0)
            text.resize(text.size() - 2);
        if (text == "-----BEGIN CERTIFICATE-----")
            inside = true;
        if (inside)
            pem += text + "\n";
        if (text == "-----END CERTIFICATE-----")
            break;
    }
    return pem;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: test_beast_port SERVER HTTPS_CLIENT SERVER_CERTIFICATE_HPP\n";
        return 2;
    }
    example_test::checks check("test_beast_port");
    if (tlsx_test::find_program("curl").empty()) {
        std::cout << "curl not found: skipped" << std::endl;
        return 0;
    }
    tlsx_test::temp_dir dir;
    const std::string cert = dir.write("beast-cert.pem", certificate_from_header(argv[3]));
    if (!check(read_file(cert).find("END CERTIFICATE") != std::string::npos,
               "the certificate is read from server_certificate.hpp"))
        return check.summary();
    std::filesystem::create_directories(dir.path() / "root");
    dir.write("root/index.html", "<p>ported index</p>\n");
    dir.write("root/a.txt", "file a\n");
    dir.write("root/b.json", "{\"b\": 1}\n");
    const std::string root = (dir.path() / "root").string();

    // Beast's example takes <address> <port> <doc_root> <threads> and prints nothing.
    const unsigned short port = tlsx_test::free_port();
    tlsx_test::peer_process server({argv[1], "127.0.0.1", std::to_string(port), root, "2"});
    if (!check(tlsx_test::wait_for_port(port, std::chrono::seconds(10)), "the server listens",
               server.output()))
        return check.summary();

    const std::string base = "https://www.example.com:" + std::to_string(port);
    const std::string resolve = "www.example.com:" + std::to_string(port) + ":127.0.0.1";
    const std::string out = (dir.path() / "out").string();
    auto r = run({"curl",         "--http1.1", "--silent",
                  "--show-error", "--verbose", "--max-time",
                  "20",           "--cacert",  cert,
                  "--resolve",    resolve,     base + "/",
                  "-o",           out + "1",   base + "/a.txt",
                  "-o",           out + "2",   base + "/b.json",
                  "-o",           out + "3"});
    check(r.ok(), "curl fetches three files", r.output);
    check(read_file(out + "1") == "<p>ported index</p>\n" && read_file(out + "2") == "file a\n" &&
              read_file(out + "3") == "{\"b\": 1}\n",
          "the bodies are the files");
    check(r.count("Re-using existing connection") == 2, "one connection, kept alive", r.output);
    check(r.has("application/json"), "the example's MIME types", r.output);

    r = run({"curl", "--silent", "--show-error", "--max-time", "20", "--cacert", cert, "--resolve",
             resolve, "--head", base + "/a.txt"});
    check(r.ok() && r.has("200 OK") && r.has("Content-Length: 7"), "HEAD", r.output);
    r = run({"curl", "--silent", "--show-error", "--max-time", "20", "--cacert", cert, "--resolve",
             resolve, base + "/nope.txt"});
    check(r.ok() && r.has("The resource '/nope.txt' was not found."), "404 page", r.output);

    r = run({argv[2], "--cafile", cert, "--resolve", "127.0.0.1", base + "/a.txt"});
    check(r.ok() && r.has("file a"), "the https_client example (tlsx on both ends)", r.output);

    // The server prints only failures; curl and https_client close cleanly.
    check(server.output().find("handshake") == std::string::npos &&
              server.output().find("shutdown") == std::string::npos,
          "the server reported no failed handshake or shutdown", server.output());
    return check.summary();
}
