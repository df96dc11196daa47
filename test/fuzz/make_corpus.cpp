// Writes the fuzz targets' seed corpora (test/fuzz/corpus/<target>/) from real handshakes run in
// memory with the fuzz build's deterministic randoms and clock, so that a recorded TLS 1.2 flight
// replays in the targets to the end of the handshake and beyond. (TLS 1.3 seeds replay up to the
// peer's first encrypted flight: PSA Crypto's generator, shared by both engines here, draws in
// another order than in a target that runs one engine.) Run by scripts/fuzz-long.sh --seeds:
//
//   build-fuzz/test/fuzz/fuzz_make_corpus test/fuzz/corpus
#include "fuzz/support.hpp"

#include "support/engine_pair.hpp"
#include "support/tls13_records.hpp"

#include <mbedtls/base64.h>

#include <boost/asio/buffer.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;

namespace {

fs::path root;

void write(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(root / target);
    std::ofstream(root / target / name, std::ios::binary) << bytes;
    std::cout << target << "/" << name << ": " << bytes.size() << " bytes\n";
}

std::string der(std::string_view pem) {
    std::string body;
    std::size_t a = pem.find('\n'), b = pem.find("-----END");
    for (char c : pem.substr(a + 1, b - a - 1))
        if (c != '\n')
            body.push_back(c);
    std::string out(body.size(), '\0');
    std::size_t n = 0;
    mbedtls_base64_decode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &n,
                          reinterpret_cast<const unsigned char*>(body.data()), body.size());
    out.resize(n);
    return out;
}

void conversation(bool tls12) {
    const std::string v = tls12 ? "tls12" : "tls13";
    const std::string mode(1, tls12 ? '\x01' : '\x00');
    tlsx_fuzz::fresh_crypto crypto;
    tlsx::context cctx = tlsx_fuzz::client_context(tls12);
    tlsx::context sctx = tlsx_fuzz::server_context(tls12);
    tlsx_test::engine_pair p(cctx, sctx);
    if (p.handshake())
        throw std::runtime_error("handshake failed");
    std::string got;
    p.transfer(p.client, p.server, "GET / HTTP/1.1\r\n\r\n", got);
    got.clear();
    p.transfer(p.server, p.client, "HTTP/1.1 200 OK\r\n\r\n", got); // 1.3: tickets too
    write("session", v, [&] {
        auto b = p.client.get_session().to_bytes();
        return std::string(b.begin(), b.end());
    }());
    p.client.close();
    p.server.close();
    p.pump_all();
    write("server", v, mode + p.client_to_server);
    write("client", v, mode + p.server_to_client);
}

void records() {
    {
        tlsx_fuzz::fresh_crypto crypto;
        tlsx::context cctx = tlsx_fuzz::client_context(true);
        tlsx::context sctx = tlsx_fuzz::server_context(true);
        tlsx_test::engine_pair p(cctx, sctx);
        if (p.handshake())
            throw std::runtime_error("handshake failed");
        std::size_t c0 = p.client_to_server.size(), s0 = p.server_to_client.size();
        std::string got;
        p.transfer(p.server, p.client, "to the client", got);
        got.clear();
        p.transfer(p.client, p.server, "to the server", got);
        write("records", "tls12-to-client", "\x01" + p.server_to_client.substr(s0));
        write("records", "tls12-to-server", "\x03" + p.client_to_server.substr(c0));
    }
    auto item = [](unsigned char type, const std::string& content) {
        std::string s(1, static_cast<char>(type));
        s.push_back(static_cast<char>(content.size() >> 8));
        s.push_back(static_cast<char>(content.size() & 0xff));
        return s + content;
    };
    const std::string data =
        item(23, "hello") + item(23, "") + item(21, std::string("\x01\x00", 2));
    write("records", "tls13-to-client", std::string(1, '\0') + data);
    write("records", "tls13-to-server", "\x02" + data);
    write("records", "tls13-key-update",
          std::string(1, '\x00') + item(22, tlsx_test::key_update_message(1)) + item(23, "after"));
}

void loaders() {
    using namespace tlsx_test::certs;
    write("loaders", "chain",
          std::string(1, '\0') + std::string(server_cert) + std::string(ca_cert));
    write("loaders", "cert-pem", "\x01" + std::string(server_cert));
    write("loaders", "cert-der", "\x02" + der(server_cert));
    write("loaders", "key-pem", "\x03" + std::string(server_key));
    write("loaders", "key-der", "\x04" + der(server_key));
    write("loaders", "key-encrypted", "\x05" + std::string(server_key_encrypted));
    write("loaders", "key-encrypted-legacy", "\x05" + std::string(server_key_encrypted_legacy));
    write("loaders", "ca", "\x07" + std::string(ca_cert));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_make_corpus DIR\n";
        return 2;
    }
    root = argv[1];
    conversation(true);
    conversation(false);
    records();
    loaders();
    return 0;
}
