// include/tlsx/context.hpp — tlsx::context, the configuration many TLS streams share.
//
// Also what its callbacks see (verify_context, sni_selection) and generate_self_signed. The
// definitions are in src/context*.cpp and src/self_signed.cpp.
//
#ifndef TLSX_CONTEXT_HPP
#define TLSX_CONTEXT_HPP

#include <tlsx/error.hpp>
#include <tlsx/stream_base.hpp>

#include <boost/asio/buffer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

// mbedTLS types are only forward-declared here; include <tlsx/mbedtls.hpp> to use them.
struct mbedtls_ssl_config;
struct mbedtls_ssl_context;
struct mbedtls_x509_crt;

namespace tlsx {

namespace detail {
struct context_impl;
class engine_impl;
} // namespace detail

/** @var tls_version::tls1_0
    TLS 1.0. On mbedTLS 3.x, which has TLS 1.2 and 1.3 only, a lowest version of TLS 1.0 means
    TLS 1.2 and a highest version of it fails; on 2.28, as far as the build has it.
    @var tls_version::tls1_1
    TLS 1.1, as TLS 1.0.
    @var tls_version::tls1_2
    TLS 1.2, the default lowest version.
    @var tls_version::tls1_3
    TLS 1.3 (mbedTLS 3.6); either bound naming it fails on 2.28.
*/
/// TLS protocol versions, for @ref tlsx::context::set_min_version and
/// @ref tlsx::context::set_max_version.
enum class tls_version { tls1_0, tls1_1, tls1_2, tls1_3 };

/** What a verify callback sees of one certificate of the peer's chain.

    Passed to the callback set with @ref context::set_verify_callback, once per certificate,
    from the root (highest depth) down to the peer's own certificate (depth 0).
*/
class verify_context {
public:
    /// Position in the chain.
    /// @return 0 for the peer's own certificate, 1 for its issuer, and so on.
    int depth() const noexcept { return depth_; }

    /// mbedTLS's verification flags for this certificate.
    /// @return A set of `MBEDTLS_X509_BADCERT_*` bits; 0 when nothing failed.
    std::uint32_t flags() const noexcept { return *flags_; }

    /// A readable description of what failed.
    /// @return E.g. "certificate has expired"; empty when nothing did.
    std::string error_message() const;

    /// The certificate in DER form.
    /// @return A view of the bytes, valid during the callback.
    boost::asio::const_buffer certificate() const noexcept;

    /// The certificate's subject as text.
    /// @return E.g. `CN=example.com`.
    std::string subject() const;

    /// The mbedTLS certificate (include <tlsx/mbedtls.hpp> to use it).
    /// @return The `mbedtls_x509_crt*`, valid during the callback.
    mbedtls_x509_crt* native_handle() const noexcept { return crt_; }

    /// @cond internal
    verify_context(mbedtls_x509_crt* crt, int depth, std::uint32_t* flags) noexcept
        : crt_(crt)
        , depth_(depth)
        , flags_(flags) {}
    /// @endcond

private:
    mbedtls_x509_crt* crt_;
    int depth_;
    std::uint32_t* flags_;
};

/// The signature of verify callbacks: as in Asio, `bool(bool preverified, verify_context&)`.
using verify_callback = std::function<bool(bool preverified, verify_context& ctx)>;

class context;

/** What a server-name (SNI) callback uses to choose the certificate for one connection. */
class sni_selection {
public:
    /// The host name the client asked for.
    /// @return The name, valid during the callback.
    std::string_view server_name() const noexcept { return name_; }

    /** Use the certificate chain and private key of another context for this connection.

        @param other A server context with a certificate and key; it must outlive the
        handshake. The session keeps the certificate and key it chose: a
        @ref context::reload_certificate_chain_and_key of `other` meanwhile (from any thread)
        changes what later handshakes choose, not this one.
    */
    void use(const context& other);

    /// @cond internal
    sni_selection(mbedtls_ssl_context* ssl, std::string_view name,
                  std::vector<std::shared_ptr<const void>>* keep = nullptr) noexcept
        : ssl_(ssl)
        , name_(name)
        , keep_(keep) {}
    int result() const noexcept { return result_; }
    /// @endcond

private:
    mbedtls_ssl_context* ssl_;
    std::string_view name_;
    std::vector<std::shared_ptr<const void>>* keep_; // the session's hold on what use() chose
    int result_ = 0;
};

/** A server-name callback: choose the certificate by host name.

    Return true to go on (with the default certificate unless `selection.use()` chose another);
    return false to abort the handshake with an `unrecognized_name` alert.
*/
using sni_callback = std::function<bool(sni_selection& selection)>;

/// A key-log callback: receives one NSS key-log line (no newline) per handshake.
using keylog_callback = std::function<void(std::string_view line)>;

/// A debug callback: mbedTLS's debug output, one message at a time.
using debug_callback =
    std::function<void(int level, std::string_view file, int line, std::string_view message)>;

/** A key and a self-signed certificate, both PEM, made by generate_self_signed(). */
struct self_signed_credentials {
    /// The certificate, PEM.
    std::string certificate_pem;
    /// The private key (ECDSA P-256), PEM, unencrypted.
    std::string private_key_pem;
};

/** Generate a fresh ECDSA P-256 key and a self-signed certificate for `common_name`.

    The certificate names `common_name` as subject CN and as a DNS subject-alt-name (an IP
    literal also as an IP-address subject-alt-name), is valid from an hour ago for one year, and
    may act as its own certificate authority, so a client that adds it with
    @ref context::add_certificate_authority trusts it. For demos and tests.

    @param common_name The host name (or IP literal) the certificate is for.
    @return The certificate and its private key, PEM.
    @throws boost::system::system_error: @ref error::invalid_argument if `common_name` is not a
    plain host name (letters, digits, `- . _ * :`, at most 64 of them); mbedTLS's error if
    mbedTLS fails.
*/
self_signed_credentials generate_self_signed(std::string_view common_name);

/** A new self-signed certificate for `common_name` over an existing key: a renewal that keeps
    the key, so that SubjectPublicKeyInfo pins (@ref pin_spki_sha256) still match.

    As @ref generate_self_signed(std::string_view), with `private_key_pem` (PEM, unencrypted,
    ECDSA or RSA) instead of a fresh key; the result's `private_key_pem` is that key again.
    @param common_name The host name, as for the other overload.
    @param private_key_pem The key to certify.
    @return The new certificate and the same key, PEM.

    @throws boost::system::system_error: @ref error::invalid_argument for a bad `common_name`;
    mbedTLS's error, naming the key, if `private_key_pem` is not a readable unencrypted key.
*/
self_signed_credentials generate_self_signed(std::string_view common_name,
                                             std::string_view private_key_pem);
// ---- asio::ssl::context_base -----------------------------------------------------------------

namespace detail {
/// The type of the context methods tlsx refuses (@ref context_base::sslv2 and the like).
struct refused_method {
    explicit constexpr refused_method(int id) noexcept
        : id(id) {}
    int id;
};
template <class T>
inline constexpr bool always_false = false;
} // namespace detail

/** The names of `boost::asio::ssl::context_base`: methods, file formats, password purposes and
    options. Base class of @ref context, so `tlsx::context::tlsv12_client` and
    `tlsx::context_base::pem` are spelled as in Asio.
*/
class context_base {
public:
    /** Which roles and protocol versions streams using the context may use.

        What each allows: the generic ones (`tls`, `sslv23`) TLS 1.2 up to the highest
        version this mbedTLS has (1.3 on mbedTLS 3.6, 1.2 on 2.28), as OpenSSL negotiates the
        highest both sides have; the `tlsv12` ones TLS 1.2 only; the `tlsv13` ones TLS 1.3 only
        (on mbedTLS 2.28 constructing the context throws @ref error::invalid_argument saying that
        TLS 1.3 is not supported). `_client` / `_server` restrict the role. `set_min_version`,
        `set_max_version` and the `no_tlsv1_*` options narrow the range further.
    */
    enum method {
        /// Client or server, chosen by each stream's handshake; TLS 1.2 and newer.
        tls,
        /// Client only; TLS 1.2 and newer.
        tls_client,
        /// Server only; TLS 1.2 and newer.
        tls_server,
        /// Asio's generic method: the same as `tls`.
        sslv23,
        /// The same as `tls_client`.
        sslv23_client,
        /// The same as `tls_server`.
        sslv23_server,
        /// Either role; TLS 1.2 only.
        tlsv12,
        /// Client only; TLS 1.2 only.
        tlsv12_client,
        /// Server only; TLS 1.2 only.
        tlsv12_server,
        /// Either role; TLS 1.3 only (mbedTLS 3.x).
        tlsv13,
        /// Client only; TLS 1.3 only (mbedTLS 3.x).
        tlsv13_client,
        /// Server only; TLS 1.3 only (mbedTLS 3.x).
        tlsv13_server
    };

    /** @name Refused methods
        SSLv2, SSLv3, TLS 1.0 and TLS 1.1 are obsolete (RFC 6176, 7568, 8996) and not offered:
        a context constructed with one of these fails to compile with a message naming
        `tlsx::context::tls` (TLS 1.2 and newer) as the replacement.
    */
    ///@{
    /** @var context_base::sslv2
        SSLv2, either role: refused.
        @var context_base::sslv2_client
        SSLv2, client only: refused.
        @var context_base::sslv2_server
        SSLv2, server only: refused.
        @var context_base::sslv3
        SSLv3, either role: refused.
        @var context_base::sslv3_client
        SSLv3, client only: refused.
        @var context_base::sslv3_server
        SSLv3, server only: refused.
        @var context_base::tlsv1
        TLS 1.0, either role: refused.
        @var context_base::tlsv1_client
        TLS 1.0, client only: refused.
        @var context_base::tlsv1_server
        TLS 1.0, server only: refused.
        @var context_base::tlsv11
        TLS 1.1, either role: refused.
        @var context_base::tlsv11_client
        TLS 1.1, client only: refused.
        @var context_base::tlsv11_server
        TLS 1.1, server only: refused.
    */
    static constexpr detail::refused_method sslv2{0}, sslv2_client{0}, sslv2_server{0};
    static constexpr detail::refused_method sslv3{1}, sslv3_client{1}, sslv3_server{1};
    static constexpr detail::refused_method tlsv1{2}, tlsv1_client{2}, tlsv1_server{2};
    static constexpr detail::refused_method tlsv11{3}, tlsv11_client{3}, tlsv11_server{3};
    ///@}

    /// Encodings of keys and certificates, as `asio::ssl::context::file_format`.
    enum file_format {
        /// DER (ASN.1) encoding.
        asn1,
        /// PEM encoding.
        pem,
        /// Same as asn1.
        der = asn1
    };

    /// Why a password is asked for, as `asio::ssl::context::password_purpose`.
    enum password_purpose {
        /// The password is needed for reading (decrypting a private key).
        for_reading,
        /// The password is needed for writing (tlsx never asks for this).
        for_writing
    };

    /** Bit mask of options for @ref context::set_options and @ref context::clear_options.

        What each does with mbedTLS:
        - `no_tlsv1_2`, `no_tlsv1_3`: take that version out of the context's range (raise the
          minimum to 1.3, lower the maximum to 1.2); a context left with no version throws.
        - `no_sslv2`, `no_sslv3`, `no_tlsv1`, `no_tlsv1_1`: nothing; tlsx never offers those.
        - `default_workarounds`: nothing; mbedTLS has no OpenSSL bug workarounds to enable.
        - `single_dh_use`: nothing; mbedTLS makes a fresh (EC)DHE key for every handshake.
        - `no_compression`: nothing; mbedTLS never compresses.
    */
    using options = long;
    /// Nothing to do: mbedTLS has no bug workarounds to switch on.
    static constexpr options default_workarounds = 0x0001;
    /// Nothing to do: every handshake uses a fresh ephemeral key.
    static constexpr options single_dh_use = 0x0002;
    /// Nothing to do: SSLv2 is never offered.
    static constexpr options no_sslv2 = 0x0004;
    /// Nothing to do: SSLv3 is never offered.
    static constexpr options no_sslv3 = 0x0008;
    /// Nothing to do: TLS 1.0 is never offered.
    static constexpr options no_tlsv1 = 0x0010;
    /// Nothing to do: TLS 1.1 is never offered.
    static constexpr options no_tlsv1_1 = 0x0020;
    /// Do not offer or accept TLS 1.2.
    static constexpr options no_tlsv1_2 = 0x0040;
    /// Do not offer or accept TLS 1.3.
    static constexpr options no_tlsv1_3 = 0x0080;
    /// Nothing to do: mbedTLS never compresses.
    static constexpr options no_compression = 0x0100;

protected:
    ~context_base() = default;
};

/** Configuration shared by many TLS streams: credentials, trust, protocol settings.

    Modelled on `boost::asio::ssl::context`. A context is set up once and then used by any number
    of streams, also from several threads at once. Streams keep the configuration alive, so the
    context object itself may be destroyed before them.

    @par Thread Safety
    Distinct objects: safe. Shared objects: safe for streams using it concurrently once set up;
    the setters must not run concurrently with handshakes, except the reload_* functions
    (@ref reload_certificate_chain_and_key, @ref reload_verify_authorities), which may.

    @par Example
    @code
    tlsx::context ctx{tlsx::context::tls_server};
    ctx.use_certificate_chain_file("cert.pem");
    ctx.use_private_key_file("key.pem", tlsx::context::pem);
    @endcode
*/
class context : public context_base {
public:
    /// The signature of password callbacks: `std::string(std::size_t max_length, purpose)`.
    using password_callback = std::function<std::string(std::size_t, password_purpose)>;

    /** Construct a context for the given roles.

        Clients verify the server's certificate (@ref verify_mode::required) by default.
        @param m Which roles streams using this context may play.
        @throws boost::system::system_error if the random generator cannot be seeded.
    */
    explicit context(method m);

    /// SSLv2, SSLv3, TLS 1.0 and TLS 1.1 are refused: this fails to compile.
    template <class Refused,
              std::enable_if_t<std::is_same_v<Refused, detail::refused_method>, int> = 0>
    explicit context(Refused) {
        static_assert(detail::always_false<Refused>,
                      "tlsx::context: SSLv2, SSLv3, TLS 1.0 and TLS 1.1 are not supported; "
                      "use tlsx::context::tls, tls_client or tls_server (TLS 1.2 and 1.3)");
    }

    /// Move-construct; the moved-from context is empty.
    context(context&&) noexcept;
    /// Move-assign.
    /// @return `*this`.
    context& operator=(context&&) noexcept;
    /// Destroy; streams using the configuration keep it alive.
    ~context();

    /// The method given at construction.
    /// @return `tls`, `tls_client` or `tls_server`.
    method get_method() const noexcept;

    // ---- Credentials ------------------------------------------------------------------------

    /// Use a certificate chain (PEM: leaf first, then intermediates).
    /// @param chain The PEM text; copied.
    /// @throws boost::system::system_error with @ref error::invalid_certificate if it does not
    /// parse.
    void use_certificate_chain(boost::asio::const_buffer chain);
    /// Use a certificate chain (PEM: leaf first, then intermediates).
    /// @param chain The PEM text; copied.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_certificate_chain(boost::asio::const_buffer chain, error_code& ec);
    /// Use a certificate chain from a PEM file.
    /// @param path The file's name.
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, @ref error::invalid_certificate if it does not parse.
    void use_certificate_chain_file(const std::string& path);
    /// Use a certificate chain from a PEM file.
    /// @param path The file's name.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_certificate_chain_file(const std::string& path, error_code& ec);
    /// Use a single certificate (PEM or DER); for a chain use use_certificate_chain.
    /// @param cert The certificate; copied.
    /// @param format Its encoding.
    /// @throws boost::system::system_error with @ref error::invalid_certificate if it does not
    /// parse.
    void use_certificate(boost::asio::const_buffer cert, file_format format);
    /// Use a single certificate (PEM or DER); for a chain use use_certificate_chain.
    /// @param cert The certificate; copied.
    /// @param format Its encoding.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_certificate(boost::asio::const_buffer cert, file_format format, error_code& ec);
    /// Use a certificate (PEM or DER) from a file.
    /// @param path The file's name.
    /// @param format Its encoding.
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, @ref error::invalid_certificate if it does not parse.
    void use_certificate_file(const std::string& path, file_format format);
    /// Use a certificate (PEM or DER) from a file.
    /// @param path The file's name.
    /// @param format Its encoding.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_certificate_file(const std::string& path, file_format format, error_code& ec);

    /** Use a private key (PEM or DER, optionally encrypted: see set_password_callback).

        The key pairs with a certificate given before it that still waits for its key and that
        it matches (the latest such first), so a server may hold, say, an RSA and an ECDSA
        certificate at once, their keys given in either order.

        @param key The key; copied (and wiped when the context goes).
        @param format Its encoding.
        @throws boost::system::system_error: @ref error::invalid_private_key,
        @ref error::wrong_password, @ref error::key_mismatch, or @ref error::invalid_argument
        when no certificate waits for a key.
    */
    void use_private_key(boost::asio::const_buffer key, file_format format);
    /// Use a private key (PEM or DER, optionally encrypted: see set_password_callback).
    /// @param key The key; copied.
    /// @param format Its encoding.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_private_key(boost::asio::const_buffer key, file_format format, error_code& ec);
    /// Use a private key from a file, as use_private_key().
    /// @param path The file's name.
    /// @param format Its encoding.
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, else as use_private_key().
    void use_private_key_file(const std::string& path, file_format format);
    /// Use a private key from a file, as use_private_key().
    /// @param path The file's name.
    /// @param format Its encoding.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_private_key_file(const std::string& path, file_format format, error_code& ec);

    /// Set the callback that supplies the password of encrypted private keys.
    /// @param cb Called with the longest password accepted and the purpose; returns the
    /// password. Call it before the key is given.
    void set_password_callback(password_callback cb);

    // ---- Live reload ------------------------------------------------------------------------

    /** Replace the certificate chain and private key while the context serves (certificate
        rotation without a restart).

        The chain and the key are parsed and checked first (the key must match the chain's
        first certificate); only then do they replace the context's own certificates, all of
        them, at once. Handshakes that start afterwards present the new chain; established
        connections and handshakes already started keep the chain they started with, also
        for a TLS 1.2 renegotiation, and free it when they end. Sessions resumed after the
        reload (tickets, session cache) stay valid: a resumption presents no certificate.
        On failure the old chain and key stay in force.

        Unlike the other setters, this may run while other threads run handshakes with the
        context, and while this context serves as an SNI callback's per-name context
        (@ref sni_selection::use).

        @param chain The chain, PEM (leaf first, then intermediates) or one DER certificate.
        @param key The private key, PEM or DER; an encrypted one through the password
        callback (@ref set_password_callback).
        @throws boost::system::system_error naming the input that failed:
        @ref error::invalid_certificate, @ref error::invalid_private_key,
        @ref error::wrong_password or @ref error::key_mismatch.

        @par Example
        @code
        // On SIGHUP: new connections get the renewed certificate, old ones go on.
        error_code ec;
        ctx.reload_certificate_chain_and_key_file("cert.pem", "key.pem", ec);
        if (ec)
            log("reload failed, still serving the old certificate: " + ec.message());
        @endcode
    */
    void reload_certificate_chain_and_key(boost::asio::const_buffer chain,
                                          boost::asio::const_buffer key);
    /// Replace the certificate chain and private key while the context serves; as the
    /// throwing overload.
    /// @param chain The chain, PEM or one DER certificate.
    /// @param key The private key, PEM or DER.
    /// @param ec Set to the error the throwing overload would throw (the old credentials then
    /// stay in force), else cleared.
    void reload_certificate_chain_and_key(boost::asio::const_buffer chain,
                                          boost::asio::const_buffer key, error_code& ec);
    /// Replace the certificate chain and private key from files while the context serves; as
    /// reload_certificate_chain_and_key().
    /// @param chain_path The chain's file (PEM).
    /// @param key_path The key's file (PEM or DER).
    /// @throws boost::system::system_error naming the file that failed:
    /// `errc::no_such_file_or_directory` if one cannot be read, else as
    /// reload_certificate_chain_and_key().
    void reload_certificate_chain_and_key_file(const std::string& chain_path,
                                               const std::string& key_path);
    /// Replace the certificate chain and private key from files while the context serves.
    /// @param chain_path The chain's file (PEM).
    /// @param key_path The key's file (PEM or DER).
    /// @param ec Set to the error the throwing overload would throw (the old credentials then
    /// stay in force), else cleared.
    void reload_certificate_chain_and_key_file(const std::string& chain_path,
                                               const std::string& key_path, error_code& ec);

    /** Replace the trusted certificate authorities while the context serves.

        The new authorities replace all those added before (revocation lists added with
        add_crl stay). Handshakes that start afterwards verify the peer against them;
        established connections and handshakes already started keep the authorities they
        started with. A session resumed after the reload was verified when it was made and is
        not verified again: to have every client verify against the new authorities, disable
        resumption or restart. On failure the old authorities stay in force. Safe while other
        threads run handshakes with the context.

        @param cas The authorities, PEM (one or more) or one DER certificate; every
        certificate must parse.
        @throws boost::system::system_error with @ref error::invalid_certificate if one does
        not parse or none is found.
    */
    void reload_verify_authorities(boost::asio::const_buffer cas);
    /// Replace the trusted certificate authorities while the context serves; as the throwing
    /// overload.
    /// @param cas The authorities, PEM or one DER certificate.
    /// @param ec Set to the error the throwing overload would throw (the old authorities then
    /// stay in force), else cleared.
    void reload_verify_authorities(boost::asio::const_buffer cas, error_code& ec);
    /// Replace the trusted certificate authorities from a file, as reload_verify_authorities().
    /// @param path The file's name (PEM or DER).
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, else as reload_verify_authorities().
    void reload_verify_file(const std::string& path);
    /// Replace the trusted certificate authorities from a file while the context serves.
    /// @param path The file's name (PEM or DER).
    /// @param ec Set to the error the throwing overload would throw (the old authorities then
    /// stay in force), else cleared.
    void reload_verify_file(const std::string& path, error_code& ec);

    // ---- asio::ssl spellings: RSA keys, DH parameters ---------------------------------------

    /// Asio's name for use_private_key: any key type mbedTLS parses is accepted, RSA included.
    /// @param key The key; copied (and wiped when the context goes).
    /// @param format Its encoding.
    /// @throws boost::system::system_error as use_private_key().
    void use_rsa_private_key(boost::asio::const_buffer key, file_format format);
    /// Asio's name for use_private_key: any key type mbedTLS parses is accepted, RSA included.
    /// @param key The key; copied.
    /// @param format Its encoding.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_rsa_private_key(boost::asio::const_buffer key, file_format format, error_code& ec);
    /// Asio's name for use_private_key_file.
    /// @param path The file's name.
    /// @param format Its encoding.
    /// @throws boost::system::system_error as use_private_key_file().
    void use_rsa_private_key_file(const std::string& path, file_format format);
    /// Asio's name for use_private_key_file.
    /// @param path The file's name.
    /// @param format Its encoding.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_rsa_private_key_file(const std::string& path, file_format format, error_code& ec);

    /** Use Diffie-Hellman parameters (PEM "DH PARAMETERS" or DER) for DHE ciphersuites.

        The parameters are checked and installed on the server configuration
        (mbedtls_ssl_conf_dh_param_bin). tlsx's default ciphersuites are all ECDHE, which needs
        no parameters, so they matter only if @ref set_ciphersuites names a DHE suite
        (`TLS_DHE_RSA_WITH_AES_128_GCM_SHA256`) that this mbedTLS build has.

        @param dh The parameters; copied.
        @throws boost::system::system_error with mbedTLS's DHM error (e.g. "DHM - The ASN.1 data
        is not formatted correctly") for input that is not DH parameters; @ref
        error::invalid_argument for a prime under 1024 bits, or a build without the DHM module.
    */
    void use_tmp_dh(boost::asio::const_buffer dh);
    /// Use Diffie-Hellman parameters (PEM or DER) for DHE ciphersuites: see use_tmp_dh.
    /// @param dh The parameters; copied.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_tmp_dh(boost::asio::const_buffer dh, error_code& ec);
    /// Use Diffie-Hellman parameters from a file: see use_tmp_dh.
    /// @param path The file's name.
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, else as use_tmp_dh().
    void use_tmp_dh_file(const std::string& path);
    /// Use Diffie-Hellman parameters from a file: see use_tmp_dh.
    /// @param path The file's name.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void use_tmp_dh_file(const std::string& path, error_code& ec);

    // ---- Trust ------------------------------------------------------------------------------

    /// Trust the certificate authorities in a buffer (PEM, or one certificate in DER).
    /// @param ca The certificates; copied.
    /// @throws boost::system::system_error with @ref error::invalid_certificate if one does
    /// not parse.
    void add_certificate_authority(boost::asio::const_buffer ca);
    /// Trust the certificate authorities in a buffer (PEM, or one certificate in DER).
    /// @param ca The certificates; copied.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void add_certificate_authority(boost::asio::const_buffer ca, error_code& ec);
    /// Trust the certificate authorities in a PEM or DER file.
    /// @param path The file's name.
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, @ref error::invalid_certificate if a certificate does not parse.
    void load_verify_file(const std::string& path);
    /// Trust the certificate authorities in a PEM or DER file.
    /// @param path The file's name.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void load_verify_file(const std::string& path, error_code& ec);
    /// Trust every certificate in a directory of PEM files.
    /// @param path The directory's name.
    /// @throws boost::system::system_error: `errc::no_such_file_or_directory` if it cannot be
    /// read, @ref error::invalid_certificate if it holds no certificate that parses.
    void add_verify_path(const std::string& path);
    /// Trust every certificate in a directory of PEM files.
    /// @param path The directory's name.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void add_verify_path(const std::string& path, error_code& ec);
    /// Trust the system's certificate store (Debian: /etc/ssl/certs/ca-certificates.crt, else
    /// the directory /etc/ssl/certs; `SSL_CERT_FILE` and `SSL_CERT_DIR` override them, as in
    /// OpenSSL).
    /// @throws boost::system::system_error with `errc::no_such_file_or_directory` if neither
    /// holds a certificate that parses.
    void set_default_verify_paths();
    /// Trust the system's certificate store (Debian: /etc/ssl/certs/ca-certificates.crt).
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void set_default_verify_paths(error_code& ec);
    /// Add a certificate revocation list (PEM or DER buffer).
    /// @param crl The list; copied.
    /// @throws boost::system::system_error with @ref error::invalid_certificate if it does not
    /// parse.
    void add_crl(boost::asio::const_buffer crl);
    /// Add a certificate revocation list (PEM or DER buffer).
    /// @param crl The list; copied.
    /// @param ec Set to the error the throwing overload would throw, else cleared.
    void add_crl(boost::asio::const_buffer crl, error_code& ec);

    /** Set how the peer's certificate is verified.

        Clients default to @ref verify_mode::required, servers to @ref verify_mode::none (no
        client certificate is asked for).

        @param mode How the peer's certificate is verified.
    */
    void set_verify_mode(verify_mode mode);
    /// Set the verify mode with Asio's flags, e.g. `tlsx::verify_peer |
    /// tlsx::verify_fail_if_no_peer_cert` (see @ref verify_flags for what each means).
    /// @param flags The flags; set_verify_mode(to_verify_mode(flags)).
    void set_verify_mode(verify_flags flags);
    /// Set the verify mode with Asio's flags (see @ref verify_flags for what each means).
    /// @param flags The flags; set_verify_mode(to_verify_mode(flags)).
    /// @param ec Set to @ref error::operation_not_permitted for a moved-from context, else
    /// cleared.
    void set_verify_mode(verify_flags flags, error_code& ec);
    /// Set the callback consulted for each certificate of the peer's chain.
    /// @param cb Called as `cb(preverified, ctx)` from the root down to the peer's own
    /// certificate; returning false fails the handshake (error::certificate_rejected).
    void set_verify_callback(verify_callback cb);
    /// Set the longest chain accepted (intermediates between the peer and a trusted root).
    /// @param depth The number of intermediates accepted.
    void set_verify_depth(int depth);

    /** Whether a client that verifies the server needs a host name to check it against
        (default: yes).

        A verifying client (@ref verify_mode::required or @ref verify_mode::optional) whose
        stream was given no `set_server_name(host)` fails its handshake with
        @ref error::server_name_required before sending anything: a certificate that chains to
        a trusted authority but may name any host proves little. `set_server_name_required(false)`
        chooses chain-only verification explicitly (the certificate must chain to a trusted
        authority; its names are not checked). Streams may override it.

        @param required Whether a verifying client without a host name fails its handshake.
    */
    void set_server_name_required(bool required);

    // ---- Protocol ---------------------------------------------------------------------------

    /** Set the ciphersuites, most preferred first, by IANA name
        (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`) or mbedTLS name
        (`TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256`).

        @param names The suites' names.
        @throws boost::system::system_error with @ref error::unknown_ciphersuite naming the first
        unknown name.
    */
    void set_ciphersuites(const std::vector<std::string>& names);
    /// Set the ciphersuites, most preferred first, by IANA or mbedTLS name.
    /// @param names The suites' names.
    /// @param ec Set to @ref error::unknown_ciphersuite if a name is unknown, else cleared.
    void set_ciphersuites(const std::vector<std::string>& names, error_code& ec);
    /** Set the key-exchange groups, most preferred first, for TLS 1.2's ECDHE and TLS 1.3's
        key shares: `"x25519"`, `"secp256r1"` (also `"P-256"`, `"prime256v1"`), `"secp384r1"`
        (`"P-384"`), `"secp521r1"` (`"P-521"`), `"x448"`, and the brainpool curves, as far as
        this mbedTLS build has them. Names are case-insensitive.

        The default is x25519, secp256r1, secp384r1, secp521r1 (cheapest first). A TLS 1.3
        client sends a key share for its first group only; a server that prefers another of
        the client's groups answers with a HelloRetryRequest, which costs one round trip.

        @param names The groups' names.
        @throws boost::system::system_error with @ref error::invalid_argument naming the first
        unknown group (or an empty list).
    */
    void set_groups(const std::vector<std::string>& names);
    /// Set the key-exchange groups, most preferred first (names as the throwing overload).
    /// @param names The groups' names.
    /// @param ec Set to @ref error::invalid_argument for an unknown group or an empty list,
    /// else cleared.
    void set_groups(const std::vector<std::string>& names, error_code& ec);
    /// Set the lowest protocol version accepted (default TLS 1.2).
    /// @param v The version.
    /// @throws boost::system::system_error with @ref error::invalid_argument if this mbedTLS
    /// does not support `v`.
    void set_min_version(tls_version v);
    /// Set the highest protocol version offered (default the highest this build has).
    /// @param v The version.
    /// @throws boost::system::system_error with @ref error::invalid_argument if this mbedTLS
    /// does not support `v`.
    void set_max_version(tls_version v);
    // ---- asio::ssl options ------------------------------------------------------------------

    /** Set options (a bit mask of @ref context_base::options, e.g. `default_workarounds |
        no_sslv2`); see context_base::options for what each does. The version options narrow
        the range the method allows, applied on top of it (a later set_min_version /
        set_max_version sets the bound it names directly).

        @param o The options to add to those already set.
        @throws boost::system::system_error with @ref error::invalid_argument if no TLS version
        would be left (e.g. `no_tlsv1_2` on mbedTLS 2.28), or for an unknown bit; the options
        are then unchanged.
    */
    void set_options(options o);
    /// Set options (a bit mask of @ref context_base::options), as the throwing overload.
    /// @param o The options to add to those already set.
    /// @param ec Set to the error the throwing overload would throw (the options then
    /// unchanged), else cleared.
    void set_options(options o, error_code& ec);
    /// Clear options set with set_options (the version range widens back to the method's).
    /// @param o The options to clear; the others stay set.
    void clear_options(options o);
    /// Clear options set with set_options (the version range widens back to the method's).
    /// @param o The options to clear; the others stay set.
    /// @param ec Set to @ref error::operation_not_permitted for a moved-from context, else
    /// cleared.
    void clear_options(options o, error_code& ec);
    /// The options set.
    /// @return The bit mask set_options and clear_options left; 0 for a moved-from context.
    options get_options() const noexcept;

    /// Set the ALPN protocols, most preferred first (e.g. `{"h2", "http/1.1"}`).
    /// @param protocols The names, each 1 to 255 bytes.
    /// @throws boost::system::system_error with @ref error::invalid_argument for an empty
    /// list, a name of 0 or over 255 bytes, or a list over 65535 bytes.
    void set_alpn_protocols(const std::vector<std::string>& protocols);
    /// Set the server-side SNI callback that may choose the certificate per host name.
    /// @param cb Called during each server handshake whose client sent a host name.
    void set_sni_callback(sni_callback cb);

    // ---- Renegotiation ----------------------------------------------------------------------

    /** Set how streams answer a peer's request to renegotiate (default: refuse).

        Only secure renegotiation (RFC 5746) is ever performed; a peer without it is refused.
        Streams may override this with stream::set_renegotiation.

        @param policy Refuse, accept, or ask the application.
    */
    void set_renegotiation(renegotiation_policy policy);

    /** Set what streams' reads report when the transport ends without the peer's close_notify:
        @ref error::stream_truncated (truncation_policy::error, the default) or
        `boost::asio::error::eof` (truncation_policy::allow, for protocols that frame their own
        data; @ref truncation_policy says when that is safe). Streams may override it with
        stream::set_truncation_policy. Applies to handshakes that start afterwards.

        @param policy error or allow.
    */
    void set_truncation_policy(truncation_policy policy);

    // ---- Deadlines --------------------------------------------------------------------------

    /** Set the default handshake time limit of streams made with this context afterwards
        (stream::set_handshake_timeout overrides it per stream).

        Covers async_handshake, async_renegotiate, async_key_update and their blocking forms,
        each from its start. On expiry the operation completes with
        `boost::asio::error::timed_out` and the stream's transport is closed. Default:
        @ref default_server_handshake_timeout (30 s) for a server-only context (`tls_server`,
        `tlsv12_server`, `tlsv13_server`, `sslv23_server`), @ref no_timeout for the others.

        @param limit The limit; @ref no_timeout (zero): none.
        @throws boost::system::system_error with @ref error::invalid_argument if `limit` is
        negative.
    */
    void set_handshake_timeout(timeout_duration limit);
    /** Set the default shutdown time limit of streams made with this context afterwards
        (stream::set_shutdown_timeout overrides it): an async_shutdown or shutdown that has not
        completed after `limit` (a peer that never sends its close_notify) completes with
        `boost::asio::error::timed_out` and closes the transport. Default: @ref no_timeout.

        @param limit The limit; @ref no_timeout (zero): none.
        @throws boost::system::system_error with @ref error::invalid_argument if `limit` is
        negative.
    */
    void set_shutdown_timeout(timeout_duration limit);
    /** Set the default read idle limit of streams made with this context afterwards
        (stream::set_read_idle_timeout overrides it): a read that has received no application
        data `limit` after it started completes with `boost::asio::error::timed_out` and closes
        the transport. Default: @ref no_timeout.

        @param limit The limit; @ref no_timeout (zero): none.
        @throws boost::system::system_error with @ref error::invalid_argument if `limit` is
        negative.
    */
    void set_read_idle_timeout(timeout_duration limit);
    /// The default handshake limit of new streams.
    /// @return The limit; @ref no_timeout for none (also for a moved-from context).
    timeout_duration handshake_timeout() const noexcept;
    /// @cond internal
    // Whether handshake_timeout() is a server context's default, not one the user set: blocking
    // operations on a non-socket transport run without it instead of failing.
    bool handshake_timeout_is_default() const noexcept;
    /// @endcond
    /// The default shutdown limit of new streams.
    /// @return The limit; @ref no_timeout for none (also for a moved-from context).
    timeout_duration shutdown_timeout() const noexcept;
    /// The default read idle limit of new streams.
    /// @return The limit; @ref no_timeout for none (also for a moved-from context).
    timeout_duration read_idle_timeout() const noexcept;

    /** Set how many records a server accepts after asking to renegotiate before it gives up on
        the peer (its async_renegotiate then completes with error::renegotiation_ignored).
        Negative: wait forever. Default: 256 records (up to 4 MiB that may already be in flight
        when the request is sent; mbedTLS's own default of 16 trips on bulk transfers).

        @param max_records The number of records, or a negative number.
    */
    void set_renegotiation_enforcement(int max_records);

    /** TLS 1.3: after this many records sent under one key, send a KeyUpdate (not asking the
        peer to update) before the next record, as RFC 8446 5.5 requires before an AEAD's
        limit. The default, 2^23 records, is a third of AES-GCM's 2^24.5 (at 16 KiB per record,
        128 GiB per key); 0 switches the automatic update off. Applies to sessions set up
        afterwards. No effect on TLS 1.2 sessions, nor where key updates are unavailable
        (mbedTLS 2.28).

        @param records Records per key before an automatic update; 0: never.
    */
    void set_key_update_threshold(std::uint64_t records);

    // ---- Resumption (server) ---------------------------------------------------------------

    /** Issue session tickets (RFC 5077) valid for `lifetime`, and accept them.

        On by default for server contexts, with a lifetime of one hour. The ticket key is
        generated at random and rotated every lifetime; the previous key stays valid for one more
        lifetime so that fresh tickets survive a rotation.

        @param lifetime How long a ticket stays valid.
        @throws boost::system::system_error with @ref error::invalid_argument if `lifetime` is
        not between 1 second and 7 days.
    */
    void enable_session_tickets(std::chrono::seconds lifetime = std::chrono::hours(1));
    /// Issue no session tickets and accept none.
    void disable_session_tickets();
    /** How many tickets a server sends after each full TLS 1.3 handshake (0: none), so that a
        client can resume that many times: a TLS 1.3 client offers each ticket once. After a
        resumed handshake mbedTLS sends one at most, to replace the ticket used. Default: 2, as
        OpenSSL and GnuTLS (one to reconnect with, one spare). TLS 1.2 has one ticket per
        handshake, which this does not change; without TLS 1.3 (mbedTLS 2.28) it has no effect.
        @param n The number of tickets.
        @throws boost::system::system_error error::invalid_argument when `n` is over 16.
    */
    void set_tickets_per_handshake(std::size_t n);
    /** Keep up to `max_entries` sessions for `timeout` for session-ID resumption (off by
        default).

        @param max_entries The cache's size, 1 to 1000000.
        @param timeout How long a session stays resumable, 1 second to 7 days.
        @throws boost::system::system_error with @ref error::invalid_argument outside those.
    */
    void enable_session_cache(std::size_t max_entries = 1000,
                              std::chrono::seconds timeout = std::chrono::hours(1));
    /// Stop session-ID resumption.
    void disable_session_cache();

    // ---- Observability ----------------------------------------------------------------------

    /** Emit NSS key-log lines (`CLIENT_RANDOM <random> <master secret>`) for each handshake.

        What `SSLKEYLOGFILE` holds: Wireshark and tshark decrypt a capture with it. Never enable
        this in production; the lines are the session keys.

        @param cb Called with each line, without its newline.
    */
    void set_keylog_callback(keylog_callback cb);

    /** Receive mbedTLS's debug output up to `level` (0 none ... 4 verbose).

        mbedTLS's debug threshold is process-wide: the highest level set by any context applies.

        @param level The verbosity, 0 to 4.
        @param cb Called with each message's level, source file, line and text.
    */
    void set_debug_callback(int level, debug_callback cb);

    /// The mbedTLS configuration of this context's default role.
    /// @return The server configuration of a `tls_server` context, else the client one; null
    /// for a moved-from context.
    mbedtls_ssl_config* native_handle() noexcept;
    /// The mbedTLS configuration used for handshakes of the given role.
    /// @param role The role.
    /// @return The configuration; null if the context cannot play `role`, or was moved from.
    mbedtls_ssl_config* native_handle(stream_base::handshake_type role) noexcept;

    /// @cond internal
    const std::shared_ptr<detail::context_impl>& impl() const noexcept { return impl_; }
    /// @endcond

private:
    std::shared_ptr<detail::context_impl> impl_;
};

} // namespace tlsx

#endif
