//
// tlsx/engine.hpp — tlsx::engine, the sans-I/O TLS engine (ciphertext in and out, plaintext in and
// out).
//
#ifndef TLSX_ENGINE_HPP
#define TLSX_ENGINE_HPP

#include <tlsx/context.hpp>
#include <tlsx/detail/record_queues.hpp>
#include <tlsx/error.hpp>
#include <tlsx/session.hpp>
#include <tlsx/stream_base.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

namespace tlsx {

/** The sans-I/O TLS engine: ciphertext in, ciphertext out, plaintext in and out.

    An engine owns one mbedTLS session and two byte queues. It performs no I/O and knows nothing
    of executors: whoever drives it moves ciphertext between the queues and a transport.

    - Input: read the transport into @ref prepare_input, then @ref commit_input; report the
      transport's end with @ref input_eof.
    - Output: write @ref output to the transport, then @ref consume_output. mbedTLS never sees a
      full transport: every record it produces is queued, so no half-sent record is ever stranded
      inside it.
    - Steps (@ref handshake, @ref read, @ref write, @ref close) say what they want next. Whether
      ciphertext is waiting to go out is asked separately with @ref has_output, after every step:
      a read can produce output (an alert), a write can need input (a renegotiation).

    @par Thread Safety
    Distinct objects: safe. Shared objects: unsafe.
*/
class engine {
public:
    /// What a step needs before it can make progress.
    enum class want {
        /// The step finished (successfully or not: see result::ec).
        nothing,
        /// Commit more input, then call the step again.
        input,
        /// The output queue is over its high-water mark: drain it, then call the step again.
        output
    };

    /// The outcome of a step.
    struct result {
        /** @var next
            What the step needs next; want::nothing when it finished.
            @var bytes
            Plaintext bytes the step read or took for writing (0 for other steps).
            @var ec
            The step's error, when it finished with one (sticky errors come back from every
            later step: see failed()).
        */
        want next = want::nothing;
        std::size_t bytes = 0;
        error_code ec;
        /// The peer's close_notify was received: no more application data will come (read()
        /// also reports it as `asio::error::eof`, as Asio's streams do).
        bool peer_closed = false;
    };

    /** Where a session stands with renegotiation (TLS 1.2); docs/design.md has the table of
        phases and the events that move between them. */
    enum class renegotiation_phase {
        /// Nothing in play (under the accept policy mbedTLS may run the peer's inside reads).
        idle,
        /// Ask policy: the peer's request awaits the application's answer (handshake() accepts,
        /// read() refuses).
        peer_request,
        /// The application accepted the peer's request; the new handshake runs.
        accepting,
        /// We asked (renegotiate()); the peer has not started the new handshake yet.
        asked,
        /// Our request's new handshake runs.
        handshaking,
        /// Our request's handshake finished; renegotiate() reports success once.
        done,
        /// The peer refused our request; renegotiate() reports renegotiation_refused once.
        refused,
        /// The peer went past the enforcement bound; renegotiate() reports
        /// renegotiation_ignored once.
        ignored
    };

    /// Capacity of the input queue: one maximal TLS record with its header and expansion.
    static constexpr std::size_t input_capacity = 16384 + 2048 + 5;
    /// Largest plaintext carried by one record.
    static constexpr std::size_t max_record_plaintext = 16384;

    /// Construct an engine using the context's configuration (kept alive by the engine).
    /// @param ctx The context; it may be destroyed before the engine.
    /// @throws boost::system::system_error with @ref error::invalid_argument if `ctx` was
    /// moved from.
    explicit engine(const context& ctx);
    /// Move-construct.
    engine(engine&&) noexcept;
    /// Move-assign.
    /// @return `*this`.
    engine& operator=(engine&&) noexcept;
    /// Destroy, wiping key material.
    ~engine();

    // ---- Settings before the handshake --------------------------------------------------

    /// Set the host name: sent as SNI and checked against the server's certificate.
    /// @param host The host name; copied.
    /// @param ec Set to @ref error::invalid_argument if `host` is empty, longer than 255 bytes
    /// or contains a NUL, else cleared.
    void set_server_name(std::string_view host, error_code& ec);
    /** Override the context's verify mode for this session's handshakes.

        Before the handshake it applies to it. After it, it applies to the next handshake of the
        session: a TLS 1.2 server that asks for a client certificate this way and then calls
        renegotiate() gets it in the new handshake (the late client-certificate request). A TLS
        1.3 server cannot ask for more after its handshake (mbedTLS has no post-handshake
        authentication): that fails with @ref error::post_handshake_auth_unsupported and the
        mode stays as it was.
        @param mode How the peer's certificate is verified.
        @throws boost::system::system_error on failure.
    */
    void set_verify_mode(verify_mode mode);
    /// As set_verify_mode(verify_mode), reporting a failure in `ec` instead of throwing.
    /// @param mode How the peer's certificate is verified.
    /// @param ec Set to @ref error::post_handshake_auth_unsupported (a TLS 1.3 server asking
    /// for more after its handshake; nothing changed), else cleared.
    void set_verify_mode(verify_mode mode, error_code& ec);
    /// Override the context's verify callback for this session.
    /// @param cb Called once per certificate of the peer's chain; returns whether to accept it.
    void set_verify_callback(verify_callback cb);
    /// Override the context's verify depth for this session.
    /// @param depth The longest chain accepted.
    void set_verify_depth(int depth);
    /// Override context::set_server_name_required for this session.
    /// @param required Whether a verifying client without a host name fails its handshake.
    void set_server_name_required(bool required);
    /// Override the context's answer to a peer's renegotiation request for this session.
    /// @param policy Refuse, accept, or ask the application.
    void set_renegotiation(renegotiation_policy policy);
    /// Override the context's truncation policy for this session (at any time).
    /// @param policy What a transport EOF without close_notify reads as.
    void set_truncation_policy(truncation_policy policy);
    /** Offer to resume `s` in the next client handshake (an empty session: a full handshake).
        A TLS 1.3 session is offered once: the first handshake that starts with it (or a copy)
        offers it, a later one runs a full handshake. TLS 1.2 sessions are offered every time.
        @param s The session (copied cheaply: the state is shared).
    */
    void set_session(const session& s);

    // ---- Steps ------------------------------------------------------------------------------

    /// Run the handshake in the given role until it needs input or is done.
    /// @param type Client or server.
    /// @return What it needs next; `ec` when it failed.
    result handshake(stream_base::handshake_type type);
    /// Decrypt application data into `buf`. After the peer's close_notify: `peer_closed`, with
    /// `asio::error::eof`.
    /// @param buf Where the plaintext goes.
    /// @return `bytes` decrypted, or what the read needs next.
    result read(boost::asio::mutable_buffer buf) {
        // Inline: asio::error::eof must come from the caller's copy of Asio (see engine.cpp).
        result r = read_some_impl(buf);
        if (r.peer_closed && !r.ec)
            r.ec = boost::asio::error::eof;
        return r;
    }
    /// Encrypt up to one record of `buf` into the output queue; `bytes` says how much was taken.
    /// @param buf The plaintext. A step that wants more must be retried with the same data.
    /// @return `bytes` taken, or what the write needs next.
    result write(boost::asio::const_buffer buf);
    /** Encrypt up to one record from a buffer sequence: several small buffers are copied into
        one record-sized staging buffer first, so that a gather write leaves as one record, not
        one per buffer. Calling it again with the same buffers copies the same bytes, so the
        same-data rule of mbedtls_ssl_write holds across retries.
        @see boostorg/asio#100
        @param buffers The plaintext.
        @return As write().
    */
    template <class ConstBufferSequence>
    result write_gathered(const ConstBufferSequence& buffers) {
        auto it = boost::asio::buffer_sequence_begin(buffers);
        auto end = boost::asio::buffer_sequence_end(buffers);
        while (it != end && boost::asio::const_buffer(*it).size() == 0)
            ++it;
        if (it == end)
            return {};
        boost::asio::const_buffer first(*it);
        auto next = std::next(it);
        while (next != end && boost::asio::const_buffer(*next).size() == 0)
            ++next;
        boost::asio::mutable_buffer stage;
        if (first.size() >= max_record_plaintext || next == end || (stage = staging()).size() == 0)
            return write(first);
        return write(
            boost::asio::const_buffer(stage.data(), boost::asio::buffer_copy(stage, buffers)));
    }
    /// Queue our close_notify (once).
    /// @return Done; with @ref error::not_handshaken before the handshake, or the session's
    /// failure.
    result close();
    /** Close the session, as gnutls_bye: queue our close_notify (once); with
        shutdown_type::both, then read until the peer's close_notify, discarding application
        data, unless `leave_data` (a pending read takes it: wait with want::input for that read to
        see close_notify). A transport that ends right after our close_notify also completes it,
        as Asio's shutdown does.
        @param how Whether to wait for the peer's close_notify.
        @param leave_data Leave application data to a pending read instead of discarding it.
        @return What the shutdown needs next; done when it completed.
    */
    result shutdown(shutdown_type how, bool leave_data = false);
    /** Ask the peer to renegotiate and run the new handshake. Done when it completes, or with
        error::renegotiation_refused / renegotiation_ignored; the session goes on either way.
        Application data read meanwhile is kept for the next read(). Call it again until done;
        pass `begin` on the first call of a new request, so that the outcome of an earlier
        request that nobody collected (its operation was cancelled) is not reported for it.
        TLS 1.3: on a server, key_update(true) (when `begin`); on a client,
        error::invalid_request.
        @param begin True on the first call of a new request.
        @return What the renegotiation needs next; done when it completed or failed.
    */
    result renegotiate(bool begin = false);

    /** TLS 1.3 KeyUpdate (RFC 8446 4.6.3): send ours and move our outbound keys to the next
        generation; with `request_peer`, ask the peer to update its keys too (it answers with
        its own KeyUpdate, which a later read takes in; this does not wait for it). Done, in
        one call, once the KeyUpdate is in the output queue: data written afterwards goes under
        the new keys. error::key_update_unsupported on a TLS 1.2 session or with mbedTLS 2.28
        (not fatal); error::not_handshaken / closed as write(). A peer's KeyUpdate needs
        nothing from the application: read() takes it in (and answers update_requested).
        @param request_peer Whether the KeyUpdate asks the peer to update its keys too
        (update_requested).
        @return Done at once, or the error. */
    result key_update(bool request_peer);

    /// How many key updates moved the keys of one direction (TLS 1.3; 0 after the handshake).
    /// @param inbound The peer's keys (true) or ours (false).
    /// @return The generation N of CLIENT_/SERVER_TRAFFIC_SECRET_N.
    std::uint64_t key_generation(bool inbound) const noexcept;

    // ---- Ciphertext queues ------------------------------------------------------------------

    // Inline: a stream's driver calls these around every step (docs/performance.md).

    /// The free space into which the next transport read may go.
    /// @return The buffer; empty when the input queue is full.
    boost::asio::mutable_buffer prepare_input() noexcept { return in_->prepare(); }
    /// Mark `n` bytes of prepare_input() as received.
    /// @param n How many bytes the transport read put there.
    void commit_input(std::size_t n) noexcept { in_->commit(n); }
    /// Copy received bytes into the input queue. Takes nothing between prepare_input() and
    /// commit_input(): a transport read owns the free space then.
    /// @param data The received ciphertext.
    /// @return How many bytes fit.
    std::size_t put_input(boost::asio::const_buffer data) noexcept {
        return in_->put(static_cast<const unsigned char*>(data.data()), data.size());
    }
    /// The transport reported end of stream.
    void input_eof() noexcept { in_->set_eof(); }
    /** Whether read() with a non-empty buffer would only return want::input now: nothing
        received, and nothing else to do (no renegotiation, close_notify or failure pending,
        nothing mbedTLS still holds). A driver may then read the transport without a first
        step. Known after a read that waited or returned data, and kept by a write of
        application data; false (unknown: step) after any other call, so a false answer says
        nothing.
        @return True when a read can only wait for input. */
    bool read_waits_for_input() const noexcept {
        return *reads_wait_ && in_->empty() && !in_->eof();
    }
    /// Bytes received but not yet consumed by mbedTLS.
    /// @return The number of bytes.
    std::size_t input_size() const noexcept { return in_->size(); }

    /// The ciphertext waiting to be written (front of the output queue).
    /// @return The bytes, valid until the next step or consume_output(); empty when none.
    boost::asio::const_buffer output() const noexcept { return out_->front(); }
    /// Remove `n` written bytes from the output queue.
    /// @param n How many bytes of output() the transport wrote.
    void consume_output(std::size_t n) noexcept { out_->consume(n); }
    /// Whether ciphertext is waiting to be written.
    /// @return True when output() is not empty.
    bool has_output() const noexcept { return !out_->empty(); }
    /// Bytes ever queued for output; with output_consumed(), tells when a record has gone out.
    /// @return The running total.
    std::uint64_t output_produced() const noexcept { return out_->produced(); }
    /// Bytes ever removed from the output queue.
    /// @return The running total.
    std::uint64_t output_consumed() const noexcept { return out_->consumed(); }

    // ---- State ------------------------------------------------------------------------------

    /// A counter that changes when a step changed state that other operations may wait for
    /// (a renegotiation ended, a request arrived, close_notify was seen).
    /// @return The counter's value.
    std::uint64_t events() const noexcept;
    /// Whether the first handshake has completed.
    /// @return True once it has.
    bool handshake_done() const noexcept;
    /// Whether the peer's close_notify was received.
    /// @return True once it was.
    bool peer_closed() const noexcept;
    /// Whether our close_notify was queued.
    /// @return True once it was.
    bool close_sent() const noexcept;
    /// Whether a fatal error happened; every further step then fails with failure().
    /// @return True once one did.
    bool failed() const noexcept;
    /// The sticky error after failed().
    /// @return The error; cleared while not failed().
    error_code failure() const noexcept;
    /// Mark the engine failed: every further step reports `ec` (e.g. a cancelled handshake).
    /// @param ec The error to report.
    void fail(error_code ec) noexcept;
    /** The transport failed or was cancelled under a write: queued ciphertext is dropped and
        further writes and close() report `ec`; reads go on.
        @param ec The transport's error. */
    void fail_output(error_code ec) noexcept;
    /// Translate a transport EOF: stream_truncated unless the peer's close_notify was seen (or
    /// truncation_policy::allow took the EOF for it).
    /// @param ec A transport error.
    /// @return @ref error::stream_truncated for an unexpected `eof`, else `ec`.
    error_code map_eof(error_code ec) const noexcept {
        if (ec == boost::asio::error::eof && !peer_closed())
            return error::stream_truncated;
        return ec;
    }

    // ---- Information after the handshake ----------------------------------------------------

    /// IANA name of the negotiated ciphersuite (e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256).
    /// @return The name, valid while the engine lives; empty before the handshake.
    std::string_view cipher_suite() const noexcept;
    /// Negotiated protocol version.
    /// @return `"TLSv1.2"` or `"TLSv1.3"`, valid while the engine lives.
    std::string_view protocol_version() const noexcept;
    /// Protocol chosen by ALPN.
    /// @return The protocol; empty when none was negotiated.
    std::string_view alpn_protocol() const noexcept;
    /// The peer's certificate.
    /// @return The certificate in DER form; empty when the peer sent none.
    std::vector<unsigned char> peer_certificate() const;
    /** The session to resume later (client, after the handshake); empty when there is none.
        TLS 1.2: the handshake's session. TLS 1.3: the session of the latest ticket, which
        arrives after the handshake, in what read() meets; empty before one arrived, so also
        after a resumption until the server sends a new ticket.
        @return The session, or an empty one. */
    session get_session() const;
    /** Whether a session ticket arrived (client; GnuTLS's GNUTLS_SFLAGS_SESSION_TICKET).
        TLS 1.3: a NewSessionTicket was read since the handshake, so get_session() has a
        session. TLS 1.2: the first handshake brought a new ticket (false when the server
        issues none, or resumed by ticket and kept the ticket).
        @return Whether a ticket arrived. */
    bool session_ticket_received() const noexcept;
    /// Whether the handshake resumed an earlier session (by ticket or session ID).
    /// @return True after a resumed handshake.
    bool session_reused() const noexcept;
    /// The renegotiation phase (for tests and diagnostics).
    /// @return The phase.
    renegotiation_phase renegotiation_state() const noexcept;
    /// mbedTLS's verification flags for the peer's certificate.
    /// @return `MBEDTLS_X509_BADCERT_*` bits; 0 when it was verified.
    std::uint32_t verify_result() const noexcept;

    /// The mbedTLS session (include <tlsx/mbedtls.hpp> to use it).
    /// @return The `mbedtls_ssl_context*`; null before the handshake.
    mbedtls_ssl_context* native_handle() noexcept;

private:
    result read_some_impl(boost::asio::mutable_buffer buf);
    /// The staging buffer of write_gathered(), one record long; allocated on first use (empty
    /// if that failed).
    boost::asio::mutable_buffer staging() noexcept;

    std::unique_ptr<detail::engine_impl> impl_;
    // The ciphertext queues, which live in *impl_ (so they never move): the accessors above
    // reach them without a call. Null in a moved-from engine, as impl_ is.
    detail::input_queue* in_ = nullptr;
    detail::output_queue* out_ = nullptr;
    const bool* reads_wait_ = nullptr; // in *impl_: see read_waits_for_input()
};

} // namespace tlsx

#endif
