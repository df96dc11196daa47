//
// Test of the websocket_echo example: the client sends text and a 1 MB binary message through
// the server, checks the echoes and closes; both sides report close_notify both ways. A client
// that does not trust the server fails.
//
//   test_websocket_echo PATH_TO_websocket_echo_server PATH_TO_websocket_echo_client
//
#include "../https_server/example_test.hpp"

#include <iostream>
#include <string>

using example_test::run;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: test_websocket_echo SERVER CLIENT\n";
        return 2;
    }
    example_test::checks check("test_websocket_echo");
    tlsx_test::temp_dir dir;
    const std::string cert = (dir.path() / "cert.pem").string();

    example_test::server server({argv[1], "--port", "0", "--write-cert", cert});
    if (!check(server.port != 0, "the server prints its port", server.output()))
        return check.summary();

    auto r = run({argv[2], "--port", server.port_string(), "--cafile", cert, "--binary-size",
                  "1000000", "hello", "wss over tlsx"});
    check(r.ok(), "the client exits 0", r.output);
    check(r.has("echo: 'hello'") && r.has("echo: 'wss over tlsx'"), "text messages echoed",
          r.output);
    check(r.has("echo: 1000000 binary bytes intact"), "a 1 MB binary message echoed intact",
          r.output);
    check(r.has("closed: close frames, then close_notify both ways"),
          "the client closed cleanly: close frames, close_notify both ways", r.output);
    check(server.process->wait_for_output("closed by client (code 1000) after 3 messages"),
          "the server saw the close after 3 messages", server.output());
    check(server.output().find("close_notify both ways") != std::string::npos,
          "the server's teardown exchanged close_notify both ways", server.output());

    r = run({argv[2], "--port", server.port_string(), "hello"});
    check(r.exited_with(1) && r.has("not trusted"),
          "without --cafile the client refuses the self-signed server", r.output);
    r = run({argv[2], "--port", server.port_string(), "--cafile", cert, "again"});
    check(r.ok() && r.has("echo: 'again'"), "the server still serves after that", r.output);
    return check.summary();
}
