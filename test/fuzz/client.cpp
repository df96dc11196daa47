// libFuzzer target: the engine as a client (verifying "localhost"), fed arbitrary server
// flights. Input: a mode byte (support.hpp: bit 0 = TLS 1.2 only), then everything the server
// sends. Seeds: corpus/client (with deterministic randoms a recorded flight replays).
#include "fuzz/support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    tlsx_fuzz::fresh_crypto crypto;
    tlsx::context ctx = tlsx_fuzz::client_context(tlsx_fuzz::tls12_mode(data[0]));
    tlsx::engine e(ctx);
    tlsx::error_code ec;
    e.set_server_name("localhost", ec);
    tlsx_fuzz::drive(e, tlsx::stream_base::client, data + 1, size - 1);
    return 0;
}
