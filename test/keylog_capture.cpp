//
// keylog_capture: one tlsx connection (client and server engines back to back, no sockets), its
// ciphertext written to a pcap file as a TCP connection between 127.0.0.1:40000 and
// 127.0.0.1:443 with synthetic Ethernet/IPv4/TCP headers, and the client's NSS key-log lines
// written to a key-log file. test/keylog_tshark.sh then asks tshark to decrypt it.
//
//   keylog_capture 1.2|1.3|1.3-key-update OUT.pcap OUT.keys
//
// Over the connection the client sends an HTTP request and the server answers it, both with
// marker strings the script looks for in tshark's dissection of the decrypted records; then both
// send close_notify. With 1.3-key-update the connection then goes through key updates (RFC 8446
// section 4.6.3) in each direction, each side asking the other to update too in turn, with
// another request and response under every new generation of keys, before the close. Writing the
// capture ourselves needs no privileges and no dumpcap (which containers may not allow), and makes
// the capture the exact bytes the engines produced.
//
// Exit status: 0 written; 1 the connection or a file failed (the reason on stderr); 2 usage.
//
#include <tlsx/context.hpp>
#include <tlsx/engine.hpp>

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---- pcap: classic format, LINKTYPE_ETHERNET -------------------------------------------------

class pcap_writer {
public:
    explicit pcap_writer(const std::string& path)
        : out_(path, std::ios::binary | std::ios::trunc) {
        if (!out_)
            throw std::runtime_error("cannot create " + path);
        put32(0xa1b2c3d4); // magic, microsecond timestamps, this machine's byte order
        put16(2);          // version 2.4
        put16(4);
        put32(0);     // thiszone
        put32(0);     // sigfigs
        put32(65535); // snaplen
        put32(1);     // LINKTYPE_ETHERNET
    }

    /// One TCP segment from `from_client`'s side, with `flags` and `payload`.
    void segment(bool from_client, std::uint8_t flags, std::string_view payload) {
        tcp_end& src = from_client ? client_ : server_;
        tcp_end& dst = from_client ? server_ : client_;
        std::vector<std::uint8_t> f;
        // Ethernet: destination, source, IPv4.
        const std::array<std::uint8_t, 6> mac_c{0x02, 0, 0, 0, 0, 1}, mac_s{0x02, 0, 0, 0, 0, 2};
        append(f, from_client ? mac_s : mac_c);
        append(f, from_client ? mac_c : mac_s);
        be16(f, 0x0800);
        // IPv4 header (20 bytes).
        const std::size_t ip = f.size();
        const std::size_t ip_len = 20 + 20 + payload.size();
        f.push_back(0x45);
        f.push_back(0);
        be16(f, static_cast<std::uint16_t>(ip_len));
        be16(f, ip_id_++);
        be16(f, 0x4000); // don't fragment
        f.push_back(64); // TTL
        f.push_back(6);  // TCP
        be16(f, 0);      // checksum, below
        be32(f, 0x7f000001);
        be32(f, 0x7f000001);
        put_checksum(f, ip + 10, checksum(f.data() + ip, 20, 0));
        // TCP header (20 bytes).
        const std::size_t tcp = f.size();
        be16(f, src.port);
        be16(f, dst.port);
        be32(f, src.seq);
        be32(f, (flags & ack) ? dst.seq : 0);
        f.push_back(5 << 4);
        f.push_back(flags);
        be16(f, 65535); // window
        be16(f, 0);     // checksum, below
        be16(f, 0);     // urgent pointer
        f.insert(f.end(), payload.begin(), payload.end());
        // TCP checksum over the pseudo-header (addresses, protocol, length) and the segment.
        std::uint32_t pseudo =
            0x7f00 + 0x0001 + 0x7f00 + 0x0001 + 6 + static_cast<std::uint32_t>(20 + payload.size());
        put_checksum(f, tcp + 16, checksum(f.data() + tcp, f.size() - tcp, pseudo));

        src.seq += static_cast<std::uint32_t>(payload.size());
        if (flags & (syn | fin))
            ++src.seq;

        usec_ += 1000; // 1 ms apart: deterministic, and ordered
        put32(static_cast<std::uint32_t>(1767225600 + usec_ / 1000000));
        put32(static_cast<std::uint32_t>(usec_ % 1000000));
        put32(static_cast<std::uint32_t>(f.size()));
        put32(static_cast<std::uint32_t>(f.size()));
        out_.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    }

    /// `data` from one side as segments of at most one Ethernet MSS.
    void data(bool from_client, std::string_view bytes) {
        while (!bytes.empty()) {
            const std::size_t n = std::min<std::size_t>(bytes.size(), 1460);
            segment(from_client, psh | ack, bytes.substr(0, n));
            bytes.remove_prefix(n);
        }
    }

    void close() {
        out_.close();
        if (!out_)
            throw std::runtime_error("cannot write the capture");
    }

    static constexpr std::uint8_t fin = 0x01, syn = 0x02, psh = 0x08, ack = 0x10;

private:
    struct tcp_end {
        std::uint16_t port;
        std::uint32_t seq;
    };

    template <class C>
    static void append(std::vector<std::uint8_t>& f, const C& c) {
        f.insert(f.end(), c.begin(), c.end());
    }
    static void be16(std::vector<std::uint8_t>& f, std::uint16_t v) {
        f.push_back(static_cast<std::uint8_t>(v >> 8));
        f.push_back(static_cast<std::uint8_t>(v));
    }
    static void be32(std::vector<std::uint8_t>& f, std::uint32_t v) {
        be16(f, static_cast<std::uint16_t>(v >> 16));
        be16(f, static_cast<std::uint16_t>(v));
    }
    static std::uint16_t checksum(const std::uint8_t* p, std::size_t n, std::uint32_t sum) {
        for (std::size_t i = 0; i + 1 < n; i += 2)
            sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
        if (n % 2)
            sum += static_cast<std::uint32_t>(p[n - 1] << 8);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        return static_cast<std::uint16_t>(~sum);
    }
    static void put_checksum(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
        f[at] = static_cast<std::uint8_t>(v >> 8);
        f[at + 1] = static_cast<std::uint8_t>(v);
    }
    void put16(std::uint16_t v) { out_.write(reinterpret_cast<const char*>(&v), 2); }
    void put32(std::uint32_t v) { out_.write(reinterpret_cast<const char*>(&v), 4); }

    std::ofstream out_;
    tcp_end client_{40000, 0x10000000};
    tcp_end server_{443, 0x20000000};
    std::uint16_t ip_id_ = 1;
    std::uint64_t usec_ = 0;
};

// ---- The connection ---------------------------------------------------------------------------

struct connection {
    tlsx::engine client;
    tlsx::engine server;
    pcap_writer& pcap;

    /// Moves all queued ciphertext of both engines to their peers, recording it. Returns bytes.
    std::size_t pump() { return pump(client, server, true) + pump(server, client, false); }

    std::size_t pump(tlsx::engine& from, tlsx::engine& to, bool from_client) {
        std::size_t moved = 0;
        while (from.has_output()) {
            auto out = from.output();
            const std::size_t n = to.put_input(out);
            if (n == 0)
                break;
            pcap.data(from_client, std::string_view(static_cast<const char*>(out.data()), n));
            from.consume_output(n);
            moved += n;
        }
        return moved;
    }

    void handshake() {
        for (int i = 0; i < 10000; ++i) {
            auto rc = client.handshake(tlsx::stream_base::client);
            auto rs = server.handshake(tlsx::stream_base::server);
            if (rc.ec)
                throw std::runtime_error("client handshake: " + rc.ec.message());
            if (rs.ec)
                throw std::runtime_error("server handshake: " + rs.ec.message());
            const std::size_t moved = pump();
            if (rc.next == tlsx::engine::want::nothing && rs.next == tlsx::engine::want::nothing &&
                moved == 0)
                return;
            if (moved == 0)
                throw std::runtime_error("handshake stuck");
        }
        throw std::runtime_error("handshake did not finish");
    }

    /// `from` writes `message`; `to` reads until it has all of it.
    void send(tlsx::engine& from, tlsx::engine& to, const std::string& message) {
        std::size_t sent = 0;
        std::string got;
        std::vector<char> buf(20000);
        for (int i = 0; i < 10000 && got.size() < message.size(); ++i) {
            if (sent < message.size()) {
                auto r =
                    from.write(boost::asio::buffer(message.data() + sent, message.size() - sent));
                if (r.ec)
                    throw std::runtime_error("write: " + r.ec.message());
                sent += r.bytes;
            }
            pump();
            for (;;) {
                auto r = to.read(boost::asio::buffer(buf));
                if (r.ec)
                    throw std::runtime_error("read: " + r.ec.message());
                if (r.next != tlsx::engine::want::nothing)
                    break;
                got.append(buf.data(), r.bytes);
            }
            pump();
        }
        if (got != message)
            throw std::runtime_error("the message did not arrive intact");
    }

    /// Both send close_notify, and each reads the other's.
    /// `from` sends a KeyUpdate (asking `to` to update too when `request_peer`); `to` reads it
    /// as a pending read would (no application data arrives), and its answer is delivered.
    void key_update(tlsx::engine& from, tlsx::engine& to, bool request_peer) {
        if (auto r = from.key_update(request_peer); r.ec)
            throw std::runtime_error("key_update: " + r.ec.message());
        pump();
        char buf[64];
        auto r = to.read(boost::asio::buffer(buf));
        if (r.ec || r.bytes != 0 || r.next != tlsx::engine::want::input)
            throw std::runtime_error("the peer did not take the KeyUpdate: " + r.ec.message());
        pump();
    }

    void close() {
        if (auto r = client.close(); r.ec)
            throw std::runtime_error("client close: " + r.ec.message());
        pump();
        if (auto r = server.close(); r.ec)
            throw std::runtime_error("server close: " + r.ec.message());
        pump();
        char buf[64];
        // A read may first take in records queued before close_notify (TLS 1.3 tickets).
        for (tlsx::engine* e : {&server, &client}) {
            for (int i = 0;; ++i) {
                auto r = e->read(boost::asio::buffer(buf));
                if (r.peer_closed)
                    break;
                if (r.ec || i == 16)
                    throw std::runtime_error("no close_notify arrived: " + r.ec.message());
            }
        }
    }
};

/// A request and its response carrying `marker`: what tshark must show decrypted.
void http_exchange(connection& c, const std::string& marker) {
    const std::string body = "tlsx-keylog-response-body-" + marker + "\n";
    c.send(c.client, c.server,
           "GET /tlsx-keylog-request-" + marker +
               " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: keylog_capture\r\n\r\n");
    c.send(c.server, c.client,
           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
}

int run(std::string_view mode, const std::string& pcap_path, const std::string& keys_path) {
    const bool key_updates = mode == "1.3-key-update";
    const std::string_view version = key_updates ? "1.3" : mode;
    const bool tls13 = version == "1.3";
    const auto v = tls13 ? tlsx::tls_version::tls1_3 : tlsx::tls_version::tls1_2;

    tlsx::self_signed_credentials cred = tlsx::generate_self_signed("localhost");
    tlsx::context sctx{tlsx::context::tls_server};
    sctx.use_certificate_chain(boost::asio::buffer(cred.certificate_pem));
    sctx.use_private_key(boost::asio::buffer(cred.private_key_pem), tlsx::context::pem);
    tlsx::context cctx{tlsx::context::tls_client};
    cctx.add_certificate_authority(boost::asio::buffer(cred.certificate_pem));
    // Both ends pinned to the one version, so that the capture is of that version or nothing.
    for (tlsx::context* c : {&cctx, &sctx}) {
        c->set_min_version(v);
        c->set_max_version(v);
    }
    std::string keylog;
    cctx.set_keylog_callback([&](std::string_view line) {
        keylog.append(line);
        keylog += '\n';
    });

    pcap_writer pcap(pcap_path);
    // The TCP handshake, so that the capture reads like a connection from its start.
    pcap.segment(true, pcap_writer::syn, {});
    pcap.segment(false, pcap_writer::syn | pcap_writer::ack, {});
    pcap.segment(true, pcap_writer::ack, {});

    connection c{tlsx::engine(cctx), tlsx::engine(sctx), pcap};
    tlsx::error_code ec;
    c.client.set_server_name("localhost", ec);
    if (ec)
        throw std::runtime_error("set_server_name: " + ec.message());
    c.handshake();
    const std::string want_version = tls13 ? "TLSv1.3" : "TLSv1.2";
    if (c.client.protocol_version() != want_version)
        throw std::runtime_error("negotiated " + std::string(c.client.protocol_version()) +
                                 ", not " + want_version);

    // Markers the script looks for: they reach tshark's output only through decryption.
    http_exchange(c, std::string(version));
    if (key_updates) {
        // Generations 1..3 in each direction: the client updates alone, then asks the server
        // to update too (its answer moves the server's keys), then the server asks the client,
        // then updates alone. Each marker names the generations its request and response use.
        c.key_update(c.client, c.server, false);
        http_exchange(c, "client-1-server-0");
        c.key_update(c.client, c.server, true);
        http_exchange(c, "client-2-server-1");
        c.key_update(c.server, c.client, true);
        http_exchange(c, "client-3-server-2");
        c.key_update(c.server, c.client, false);
        http_exchange(c, "client-3-server-3");
    }
    c.close();
    pcap.segment(true, pcap_writer::fin | pcap_writer::ack, {});
    pcap.segment(false, pcap_writer::fin | pcap_writer::ack, {});
    pcap.segment(true, pcap_writer::ack, {});
    pcap.close();

    std::ofstream keys(keys_path, std::ios::binary | std::ios::trunc);
    keys << keylog;
    keys.close();
    if (!keys)
        throw std::runtime_error("cannot write " + keys_path);
    std::cout << "keylog_capture: " << c.client.protocol_version() << ' ' << c.client.cipher_suite()
              << ", " << std::count(keylog.begin(), keylog.end(), '\n') << " key-log lines\n";
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc == 4 ? argv[1] : "";
    if (mode != "1.2" && mode != "1.3" && mode != "1.3-key-update") {
        std::cerr << "usage: keylog_capture 1.2|1.3|1.3-key-update OUT.pcap OUT.keys\n";
        return 2;
    }
    try {
        return run(argv[1], argv[2], argv[3]);
    } catch (const std::exception& e) {
        std::cerr << "keylog_capture: " << e.what() << '\n';
        return 1;
    }
}
