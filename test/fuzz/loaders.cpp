// libFuzzer target: the context's PEM/DER loaders. Input: a selector byte, then the bytes to
// load: 0 certificate chain, 1 certificate (PEM), 2 certificate (DER), 3 private key (PEM),
// 4 private key (DER), 5 encrypted private key (password "secret"), 6 CRL, 7 CA certificates.
// A load that fails must fail with an error code, and leave a context that still works.
#include "fuzz/support.hpp"

#include <boost/asio/buffer.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1)
        return 0;
    tlsx_fuzz::fresh_crypto crypto;
    const auto bytes = boost::asio::buffer(data + 1, size - 1);
    tlsx::context ctx(tlsx::context::tls);
    tlsx::error_code ec;
    switch (data[0] % 8) {
    case 0:
        ctx.use_certificate_chain(bytes, ec);
        break;
    case 1:
        ctx.use_certificate(bytes, tlsx::context::pem, ec);
        break;
    case 2:
        ctx.use_certificate(bytes, tlsx::context::der, ec);
        break;
    case 3:
        ctx.use_private_key(bytes, tlsx::context::pem, ec);
        break;
    case 4:
        ctx.use_private_key(bytes, tlsx::context::der, ec);
        break;
    case 5:
        ctx.set_password_callback(
            [](std::size_t, tlsx::context::password_purpose) { return std::string("secret"); });
        ctx.use_private_key(bytes, tlsx::context::pem, ec);
        break;
    case 6:
        ctx.add_crl(bytes, ec);
        break;
    case 7:
        ctx.add_certificate_authority(bytes, ec);
        break;
    }
    (void)ec;
    tlsx::engine e(ctx); // the context stays usable whatever was loaded
    (void)e.handshake(tlsx::stream_base::client);
    return 0;
}
