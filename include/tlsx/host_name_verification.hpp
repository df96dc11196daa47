// include/tlsx/host_name_verification.hpp — tlsx::host_name_verification, as Asio 1.81's.
//
#ifndef TLSX_HOST_NAME_VERIFICATION_HPP
#define TLSX_HOST_NAME_VERIFICATION_HPP

#include <tlsx/context.hpp>

#include <string>

namespace tlsx {

/** A verify callback that checks the peer's certificate against a host name, as
    `boost::asio::ssl::host_name_verification` (Asio 1.81) does.

    Pass it to `set_verify_callback` of a @ref context or a @ref stream, or call it from your own
    callback. For each certificate of the chain it returns false if `preverified` is false; for
    the intermediates and the root (depth > 0) it then returns true; for the peer's own
    certificate (depth 0) it returns whether the certificate names the host:
    - a host that is an IPv4 or IPv6 literal must equal an iPAddress subject-alt-name;
    - otherwise the host must match a dNSName subject-alt-name, or, if the certificate has no
      dNSName, its subject's last common name (CN); the match ignores case and a trailing dot,
      and a name whose leftmost label is `*` matches exactly one label there (`*.example.com`
      matches `www.example.com`, not `example.com` nor `a.b.example.com`).

    Note that `stream::set_server_name(host)` already makes a client check the host name (and
    sends it as SNI); this class is for code written for Asio and for servers that check a
    client's certificate. Without `set_server_name`, a client that verifies needs
    `set_server_name_required(false)` (the name is then checked here).

    @par Example
    @code
    ctx.set_verify_mode(tlsx::verify_peer);
    ctx.set_verify_callback(tlsx::host_name_verification("www.example.com"));
    @endcode
*/
class host_name_verification {
public:
    /// The result type, as Asio's.
    using result_type = bool;

    /// Check certificates against `host` (a DNS name, or an IPv4 / IPv6 address).
    /// @param host The host name or address literal; copied.
    explicit host_name_verification(const std::string& host)
        : host_(host) {}

    /// Verify one certificate of the chain (see the class description).
    /// @param preverified Whether the certificate passed mbedTLS's own verification.
    /// @param ctx The certificate and its depth in the chain.
    /// @return False if `preverified` is false; else true for depth > 0, and for the peer's own
    /// certificate whether it names the host.
    bool operator()(bool preverified, verify_context& ctx) const;

private:
    std::string host_;
};

} // namespace tlsx

#endif
