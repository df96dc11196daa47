//
// TLS 1.3 records made and opened by hand, for engine tests with crafted input (a peer's
// KeyUpdate, which no mbedTLS can send) and for reading what an engine sent (its alerts are
// encrypted). Keys come from the NSS key-log lines the contexts emit; AES-128-GCM-SHA256 only
// (tests pin that suite). RFC 8446 section 5.2 (record protection) and 7.1/7.3 (traffic keys).
//
#ifndef TLSX_TEST_SUPPORT_TLS13_RECORDS_HPP
#define TLSX_TEST_SUPPORT_TLS13_RECORDS_HPP

#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tlsx_test {

/// The secrets of NSS key-log lines ("LABEL <client random hex> <secret hex>"), by label.
struct key_log {
    std::map<std::string, std::string> secrets; // label -> secret bytes

    void add(std::string_view line) {
        const std::size_t a = line.find(' ');
        const std::size_t b = line.find(' ', a + 1);
        if (a == std::string_view::npos || b == std::string_view::npos)
            return;
        secrets[std::string(line.substr(0, a))] = unhex(line.substr(b + 1));
    }

    const std::string& operator[](const std::string& label) const {
        auto it = secrets.find(label);
        if (it == secrets.end())
            throw std::runtime_error("no key-log line " + label);
        return it->second;
    }

    static std::string unhex(std::string_view hex) {
        std::string out;
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
            out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
        return out;
    }
};

/// HKDF-Expand-Label(secret, label, "", length) with SHA-256 (RFC 8446 section 7.1).
inline std::string hkdf_expand_label(const std::string& secret, std::string_view label,
                                     std::size_t length) {
    std::string info;
    info.push_back(static_cast<char>(length >> 8));
    info.push_back(static_cast<char>(length & 0xff));
    const std::string full = "tls13 " + std::string(label);
    info.push_back(static_cast<char>(full.size()));
    info += full;
    info.push_back(0); // empty context
    std::string out(length, '\0');
    const int ret =
        mbedtls_hkdf_expand(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                            reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                            reinterpret_cast<const unsigned char*>(info.data()), info.size(),
                            reinterpret_cast<unsigned char*>(out.data()), out.size());
    if (ret != 0)
        throw std::runtime_error("mbedtls_hkdf_expand failed");
    return out;
}

/// One direction's record protection for TLS_AES_128_GCM_SHA256, from its traffic secret.
class tls13_protector {
public:
    explicit tls13_protector(const std::string& traffic_secret)
        : key_(hkdf_expand_label(traffic_secret, "key", 16))
        , iv_(hkdf_expand_label(traffic_secret, "iv", 12)) {}

    /// Seal `content` of real content type `type` (22 handshake, 23 application data, 21
    /// alert) into one record, as the next record of this direction.
    std::string seal(unsigned char type, std::string_view content) {
        std::string inner(content);
        inner.push_back(static_cast<char>(type));
        std::string record = header(inner.size() + 16);
        std::string out(inner.size(), '\0');
        unsigned char tag[16];
        crypt(MBEDTLS_GCM_ENCRYPT, record, inner, out, tag);
        record += out;
        record.append(reinterpret_cast<const char*>(tag), 16);
        return record;
    }

    /// Open the next record of this direction at the start of `wire`; returns the real
    /// content type and sets `content` (throws if it does not authenticate) and `used`.
    unsigned char open(std::string_view wire, std::string& content, std::size_t& used) {
        if (wire.size() < 5 + 17)
            throw std::runtime_error("short record");
        const std::size_t len =
            (static_cast<unsigned char>(wire[3]) << 8) | static_cast<unsigned char>(wire[4]);
        if (wire.size() < 5 + len || len < 17)
            throw std::runtime_error("truncated record");
        const std::string aad(wire.substr(0, 5));
        const std::string sealed(wire.substr(5, len - 16));
        std::string plain(sealed.size(), '\0');
        unsigned char tag[16];
        crypt(MBEDTLS_GCM_DECRYPT, aad, sealed, plain, tag);
        if (std::string_view(reinterpret_cast<const char*>(tag), 16) !=
            wire.substr(5 + len - 16, 16))
            throw std::runtime_error("record does not authenticate");
        used = 5 + len;
        std::size_t end = plain.find_last_not_of('\0'); // strip the padding
        if (end == std::string::npos)
            throw std::runtime_error("no content type");
        content = plain.substr(0, end);
        return static_cast<unsigned char>(plain[end]);
    }

    std::uint64_t sequence() const noexcept { return seq_; }

private:
    static std::string header(std::size_t length) {
        return {'\x17', '\x03', '\x03', static_cast<char>(length >> 8),
                static_cast<char>(length & 0xff)};
    }

    void crypt(int mode, const std::string& aad, const std::string& in, std::string& out,
               unsigned char tag[16]) {
        unsigned char nonce[12];
        for (int i = 0; i < 12; ++i)
            nonce[i] = static_cast<unsigned char>(iv_[i]);
        for (int i = 0; i < 8; ++i)
            nonce[11 - i] ^= static_cast<unsigned char>(seq_ >> (8 * i));
        ++seq_;
        mbedtls_gcm_context gcm;
        mbedtls_gcm_init(&gcm);
        int ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES,
                                     reinterpret_cast<const unsigned char*>(key_.data()), 128);
        if (ret == 0)
            ret = mbedtls_gcm_crypt_and_tag(&gcm, mode, in.size(), nonce, sizeof nonce,
                                            reinterpret_cast<const unsigned char*>(aad.data()),
                                            aad.size(),
                                            reinterpret_cast<const unsigned char*>(in.data()),
                                            reinterpret_cast<unsigned char*>(out.data()), 16, tag);
        mbedtls_gcm_free(&gcm);
        if (ret != 0)
            throw std::runtime_error("AES-GCM failed");
    }

    std::string key_;
    std::string iv_;
    std::uint64_t seq_ = 0;
};

/// A KeyUpdate handshake message (RFC 8446 section 4.6.3): request 0 = update_not_requested,
/// 1 = update_requested.
inline std::string key_update_message(unsigned char request) {
    return {'\x18', '\x00', '\x00', '\x01', static_cast<char>(request)};
}

} // namespace tlsx_test

#endif
