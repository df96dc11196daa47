//
// Test of the https_client example: it fetches the https_server example's page and the status
// page of `openssl s_server -www`, sends SNI, and refuses servers it must not trust (unknown CA,
// wrong host name).
//
//   test_https_client PATH_TO_https_client PATH_TO_https_server
//
#include "../https_server/example_test.hpp"

#include <iostream>
#include <string>

using example_test::run;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: test_https_client PATH_TO_https_client PATH_TO_https_server\n";
        return 2;
    }
    const std::string client = argv[1];
    const std::string server_program = argv[2];
    example_test::checks check("test_https_client");
    tlsx_test::temp_dir dir;
    const std::string cert = (dir.path() / "cert.pem").string();

    {
        std::cout << "against the https_server example" << std::endl;
        example_test::server server({server_program, "--port", "0", "--write-cert", cert});
        if (!check(server.port != 0, "https_server prints its port", server.output()))
            return check.summary();
        const std::string url = "https://localhost:" + server.port_string() + "/";

        auto r = run({client, "--cafile", cert, "--resolve", "127.0.0.1", url});
        check(r.ok() && r.has("Hello from tlsx over Beast"), "GET / with --cafile", r.output);
        check(r.has("ALPN http/1.1") && r.has("HTTP/1.1 200 OK"), "ALPN http/1.1, status 200",
              r.output);

        // localhost resolves to ::1 too, where nothing listens: the client goes on to 127.0.0.1.
        r = run({client, "--cafile", cert, url + "missing"});
        check(r.exited_with(1) && r.has("404"), "a 404 is reported and fails", r.output);

        r = run({client, "--resolve", "127.0.0.1", url});
        check(r.exited_with(1) && r.has("not trusted"),
              "without --cafile the system store does not trust the self-signed certificate",
              r.output);

        r = run({client, "--cafile", cert, "--resolve", "127.0.0.1",
                 "https://wrong-name.test:" + server.port_string() + "/"});
        check(r.exited_with(1) && r.has("host name mismatch"),
              "a certificate for another name is refused", r.output);
    }

    if (tlsx_test::find_program("openssl").empty()) {
        std::cout << "openssl not found: s_server part skipped" << std::endl;
        return check.summary();
    }
    {
        std::cout << "against openssl s_server -www" << std::endl;
        const std::string key = (dir.path() / "ossl-key.pem").string();
        const std::string ocert = (dir.path() / "ossl-cert.pem").string();
        auto r =
            run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", ocert, "-days",
                 "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"});
        if (!check(r.ok(), "openssl makes a certificate for localhost", r.output))
            return check.summary();

        const unsigned short port = tlsx_test::free_port();
        tlsx_test::peer_process s_server({"openssl", "s_server", "-accept",
                                          "127.0.0.1:" + std::to_string(port), "-cert", ocert,
                                          "-key", key, "-www", "-tlsextdebug"});
        if (!check(tlsx_test::wait_for_port(port), "s_server listens", s_server.output()))
            return check.summary();
        // wait_for_port's probe connection makes s_server print an error; that is fine.
        r = run({client, "--cafile", ocert, "--resolve", "127.0.0.1",
                 "https://localhost:" + std::to_string(port) + "/"});
        check(r.ok() && r.has("Ciphers supported in s_server binary"),
              "GET / returns s_server's status page", r.output);
        check(s_server.wait_for_output("server name"), "s_server saw the SNI extension",
              s_server.output());
        check(s_server.output().find("localhost") != std::string::npos, "the SNI names localhost",
              s_server.output());
    }
    return check.summary();
}
