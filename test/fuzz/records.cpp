// libFuzzer target: records on an established session. Each input handshakes two engines in
// memory (fixed credentials, deterministic randoms), then gives one of them the input as what
// its peer sends next. Input: a mode byte, then the payload.
//   bit 0: TLS 1.2 (else 1.3); bit 1: the server receives (else the client).
//   TLS 1.2: the payload is raw bytes on the wire.
//   TLS 1.3: the payload is a list of (content type, 2-byte length, content), each sealed as the
//   peer's next application-key record (TLS_AES_128_GCM_SHA256, keys from the key log), so the
//   fuzzer reaches what a record carries: handshake messages after the handshake (KeyUpdate,
//   NewSessionTicket), alerts, application data, zero-length and padded records.
#include "fuzz/support.hpp"

#include "support/engine_pair.hpp"
#include "support/tls13_records.hpp"

#include <memory>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    const bool tls12 = (data[0] & 1) != 0;
    const bool to_server = (data[0] & 2) != 0;
    tlsx_fuzz::fresh_crypto crypto;
    tlsx_test::key_log server_keys, client_keys;
    tlsx::context cctx = tlsx_fuzz::client_context(tls12);
    tlsx::context sctx = tlsx_fuzz::server_context(tls12);
    if (!tls12) {
        cctx.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        sctx.set_ciphersuites({"TLS_AES_128_GCM_SHA256"});
        sctx.disable_session_tickets(); // the server's first record after the handshake: seq 0
        sctx.set_keylog_callback([&](std::string_view l) { server_keys.add(l); });
        cctx.set_keylog_callback([&](std::string_view l) { client_keys.add(l); });
    }
    tlsx_test::engine_pair p(cctx, sctx);
    if (p.handshake())
        std::abort(); // the fixed handshake must succeed: the target would test nothing
    std::string wire;
    const std::uint8_t* in = data + 1;
    const std::uint8_t* end = data + size;
    if (tls12) {
        wire.assign(reinterpret_cast<const char*>(in), end - in);
    } else {
        tlsx_test::tls13_protector peer(to_server ? client_keys["CLIENT_TRAFFIC_SECRET_0"]
                                                  : server_keys["SERVER_TRAFFIC_SECRET_0"]);
        while (end - in >= 3) {
            const unsigned char type = in[0];
            std::size_t len = (std::size_t(in[1]) << 8) | in[2];
            in += 3;
            if (len > std::size_t(end - in))
                len = std::size_t(end - in);
            wire += peer.seal(type, std::string_view(reinterpret_cast<const char*>(in), len));
            in += len;
        }
    }
    tlsx::engine& e = to_server ? p.server : p.client;
    tlsx_fuzz::drive(e, to_server ? tlsx::stream_base::server : tlsx::stream_base::client,
                     reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size());
    return 0;
}
