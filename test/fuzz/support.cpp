// The fuzz targets' shared code; see support.hpp. Also interposes time() and syscall() (for
// SYS_getrandom only) for the whole fuzz executable: fuzz builds only, never the library.
#include "fuzz/support.hpp"

#include <psa/crypto.h>

#include <boost/asio/buffer.hpp>

#include <dlfcn.h>
#include <sys/syscall.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace tlsx_fuzz {

fresh_crypto::~fresh_crypto() {
    mbedtls_psa_crypto_free();
}

namespace {
void set_versions(tlsx::context& ctx, bool tls12) {
    if (tls12)
        ctx.set_max_version(tlsx::tls_version::tls1_2);
}
} // namespace

tlsx::context server_context(bool tls12) {
    tlsx::context ctx(tlsx::context::tls_server);
    ctx.use_certificate_chain(boost::asio::buffer(std::string(tlsx_test::certs::server_cert)));
    ctx.use_private_key(boost::asio::buffer(std::string(tlsx_test::certs::server_key)),
                        tlsx::context::pem);
    set_versions(ctx, tls12);
    return ctx;
}

tlsx::context client_context(bool tls12) {
    tlsx::context ctx(tlsx::context::tls_client);
    ctx.add_certificate_authority(boost::asio::buffer(std::string(tlsx_test::certs::ca_cert)));
    set_versions(ctx, tls12);
    return ctx;
}

namespace {
/// TLSX_FUZZ_TRACE=1: each input's end is printed (how far a seed replays).
void trace(bool established, const tlsx::engine::result& r) {
    static const bool on = std::getenv("TLSX_FUZZ_TRACE") != nullptr;
    if (on)
        std::fprintf(stderr, "tlsx-fuzz: %s, %s\n", established ? "established" : "handshaking",
                     r.ec ? r.ec.message().c_str() : "no error");
}
} // namespace

void drive(tlsx::engine& e, tlsx::stream_base::handshake_type role, const std::uint8_t* data,
           std::size_t size, std::string* out) {
    const std::uint8_t* end = data + size;
    bool established = false, wrote = false, eof = false;
    static char buf[tlsx::engine::max_record_plaintext];
    tlsx::engine::result r;
    struct at_end {
        bool& established;
        tlsx::engine::result& r;
        ~at_end() { trace(established, r); }
    } report{established, r};
    for (int step = 0; step < 100000; ++step) {
        if (!established)
            r = e.handshake(role);
        else if (!wrote)
            r = e.write(boost::asio::buffer("fuzz", 4));
        else
            r = e.read(boost::asio::buffer(buf));
        while (e.has_output()) {
            auto o = e.output();
            if (out)
                out->append(static_cast<const char*>(o.data()), o.size());
            e.consume_output(o.size());
        }
        if (r.ec)
            return;
        if (!established && r.next == tlsx::engine::want::nothing) {
            established = true;
            continue;
        }
        if (established && !wrote && r.next != tlsx::engine::want::input) {
            wrote = true;
            continue;
        }
        if (r.next == tlsx::engine::want::input) {
            if (data == end) {
                if (eof)
                    return;
                eof = true;
                e.input_eof();
                continue;
            }
            std::size_t n = e.put_input(boost::asio::buffer(data, end - data));
            if (n == 0)
                return; // the engine takes nothing more: it would wait forever
            data += n;
        }
    }
}

} // namespace tlsx_fuzz

// ---- Determinism for the whole fuzz executable ------------------------------------------------

/// A fixed clock: 2026-01-01 00:00:00 UTC (the test certificates are valid 2025..2125).
extern "C" std::time_t time(std::time_t* t) noexcept {
    const std::time_t now = 1767225600;
    if (t)
        *t = now;
    return now;
}

/// mbedTLS's platform entropy calls syscall(SYS_getrandom, ...); that one call gets constant
/// bytes, every other system call goes to the C library's syscall().
extern "C" long syscall(long number, ...) {
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& x : a)
        x = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_getrandom) {
        auto* p = reinterpret_cast<unsigned char*>(a[0]);
        auto n = static_cast<std::size_t>(a[1]);
        for (std::size_t i = 0; i < n; ++i)
            p[i] = static_cast<unsigned char>(0xa5 ^ (i * 7));
        return static_cast<long>(n);
    }
    using real_syscall = long (*)(long, ...);
    static auto real = reinterpret_cast<real_syscall>(dlsym(RTLD_NEXT, "syscall"));
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
