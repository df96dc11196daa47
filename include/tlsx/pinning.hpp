//
// tlsx/pinning.hpp — SubjectPublicKeyInfo pinning: a verify callback that accepts a peer only if
// a certificate of its verified chain has one of a set of public keys (the pin-sha256 form of
// HPKP, RFC 7469 section 2.4, and of OkHttp's CertificatePinner), on top of normal verification.
//
#ifndef TLSX_PINNING_HPP
#define TLSX_PINNING_HPP

#include <tlsx/context.hpp>

#include <boost/asio/buffer.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace tlsx {

/** The pin of a certificate: base64 of the SHA-256 hash of its DER SubjectPublicKeyInfo, as in
    `pin-sha256="..."` (RFC 7469) and OkHttp's `sha256/...`; 44 characters.

    The same as `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64`. A certificate renewed with the same key has the same
    pin.

    @param certificate A certificate, PEM (the first one of the text) or DER.
    @return The pin: 44 characters of base64.
    @throws boost::system::system_error with the parser's error if it is not a certificate.
*/
std::string spki_sha256(boost::asio::const_buffer certificate);

/** A verify callback that accepts a peer only if its chain verifies as usual and a certificate
    of that chain has one of `pins` as its @ref spki_sha256.

    The chain is the one mbedTLS verified: the peer's certificate, the intermediates it sent, and
    the trusted authority the chain ends at. So a pin may name the server's own key, an
    intermediate's or the root's; keep a backup pin (a second key) as RFC 7469 advises. Nothing
    is cached between handshakes.

    Use it as any verify callback, on a context or a stream:

        ctx.set_verify_callback(tlsx::pin_spki_sha256({"Vjs8r4z+80wjNcr1YKepWQboSIRi63WsWXhIMN+eWys="}));

    Composition: `next`, if given, is called first for every certificate with the usual
    `preverified`, and its answer stands in for `preverified` (so `host_name_verification` or a
    callback of your own can run before the pin check). Without `next` the chain's own
    verification result is kept: a pin never makes an untrusted or expired chain acceptable.

    A peer whose chain has none of the pins fails the handshake with
    @ref error::certificate_rejected (in the @ref condition::certificate group); one whose chain
    does not verify fails as it would without pins.

    @param pins base64 SHA-256 pins, 44 characters each, optionally prefixed `sha256/` (OkHttp's
    form); at least one.
    @param next A callback to consult first, or none.
    @return The verify callback, for context::set_verify_callback or stream::set_verify_callback;
    it holds its own copy of the pins.
    @throws boost::system::system_error with @ref error::invalid_argument, naming the pin, if
    `pins` is empty or a pin is not the base64 of 32 bytes.
*/
verify_callback pin_spki_sha256(const std::vector<std::string>& pins, verify_callback next = {});

} // namespace tlsx

#endif // TLSX_PINNING_HPP
