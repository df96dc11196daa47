//
// src/flood_guard.hpp — the bound on records that carry no data (issue 14 item 5).
//
// A peer can send records that cost a decryption and move nothing forward: empty records,
// warning alerts (mbedTLS ignores them), TLS 1.3 ChangeCipherSpec records during the handshake
// (ignored), NewSessionTickets, renegotiation requests that are refused. mbedTLS bounds only
// consecutive empty records (a fourth is a bad_record_mac); an interleaving of them with warning
// alerts, or any of the others alone, it takes forever. The guard counts the records taken
// since the latest progress and refuses to hand mbedTLS another one past the limit: the step
// that wanted it fails with error::too_many_ignored_records and the unexpected_message alert.
// 32 such records in a row go by; after a 33rd no record is taken (docs/security.md "Floods").
//
// Progress: application data delivered; a handshake state that moved (a handshake message
// taken in); during the first handshake every handshake record (a fragment of a message, whose
// size mbedTLS bounds); a KeyUpdate taken in; a renegotiation completed, or our request refused
// (the answer we asked for). Progress the engine does not see as it happens (data a
// renegotiation step stashes, a renegotiation inside mbedtls_ssl_read) it looks for only when
// the bound is reached. The clock is the input queue's count of records begun, and the queue
// pauses where the bound would be reached with no progress meanwhile (its check point; before
// every record during the first handshake), where the engine looks: the hot path pays one
// comparison per record begun and one store per read that delivered data.
//
#ifndef TLSX_SRC_FLOOD_GUARD_HPP
#define TLSX_SRC_FLOOD_GUARD_HPP

#include <cstdint>

namespace tlsx {
namespace detail {

class flood_guard {
public:
    /// How many records in a row may carry no progress; the next one is refused. Go's
    /// crypto/tls takes 16 ignored records, OpenSSL 32 empty ones; 32 here, so that a server's
    /// 16 tickets per handshake (the most set_tickets_per_handshake allows) and a renegotiation
    /// handshake's records (about 7) fit with room to spare.
    static constexpr std::uint64_t max_ignored_records = 32;

    /// Progress: the records taken until now (clock value `now`) are no flood.
    void progress(std::uint64_t now) noexcept { mark_ = now; }

    /// Before a handshake step: a state other than the one seen last is progress.
    void handshake_state(int state, std::uint64_t now) noexcept {
        if (state != state_) {
            state_ = state;
            mark_ = now;
        }
    }

    /// Whether the records begun (clock value `now`) are past the bound: the latest one
    /// begun is the first one too many, and no more is to be handed to mbedTLS.
    bool exceeded(std::uint64_t now) const noexcept { return now - mark_ > max_ignored_records; }

    /// The clock value at which exceeded() holds if no progress comes first (the input
    /// queue's check point, when the clock counts every record).
    std::uint64_t bound_reached_at() const noexcept { return mark_ + max_ignored_records + 1; }

    /// The guard refused a record: the session fails with error::too_many_ignored_records.
    void trip() noexcept { tripped_ = true; }
    bool tripped() const noexcept { return tripped_; }

private:
    std::uint64_t mark_ = 0;
    int state_ = -1;
    bool tripped_ = false;
};

} // namespace detail
} // namespace tlsx

#endif
