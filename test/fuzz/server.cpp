// libFuzzer target: the engine as a server, fed arbitrary client bytes. Input: a mode byte
// (support.hpp: bit 0 = TLS 1.2 only), then everything the client sends. Seeds: corpus/server.
#include "fuzz/support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    tlsx_fuzz::fresh_crypto crypto;
    tlsx::context ctx = tlsx_fuzz::server_context(tlsx_fuzz::tls12_mode(data[0]));
    tlsx::engine e(ctx);
    tlsx_fuzz::drive(e, tlsx::stream_base::server, data + 1, size - 1);
    return 0;
}
