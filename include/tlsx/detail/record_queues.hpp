//
// tlsx/detail/record_queues.hpp — the engine's ciphertext queues: what came from the transport
// and what goes to it.
//
// No mbedTLS here: the engine's callbacks move bytes between these queues and mbedTLS, the
// stream moves them between the queues and the transport. Both queues hand out views of their
// storage to a transport operation in flight; until that operation returns its view (commit /
// consume), the storage neither moves nor is freed.
//
#ifndef TLSX_DETAIL_RECORD_QUEUES_HPP
#define TLSX_DETAIL_RECORD_QUEUES_HPP

#include <boost/asio/buffer.hpp>
#include <boost/config.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace tlsx {
namespace detail {

/** Storage blocks of the queues below, recycled per thread, as Asio's recycling allocator does
    for handler memory. A connection's handshake takes an input and an output block and gives
    them back when it ends (an idle connection holds none); the next connection on the thread
    takes them, warm in the cache, instead of going to the heap. A thread keeps at most two
    blocks of each queue's size (input_queue::capacity, output_queue::initial_capacity), and of
    the engine's state, which comes from here too, until it exits; other sizes, and blocks
    beyond those, go to and come from the heap. */
/// A block of `size` bytes, not initialised; nullptr when memory ran out.
unsigned char* allocate_block(std::size_t size) noexcept;
/// Give back a block of allocate_block(size) (nullptr: nothing).
void deallocate_block(unsigned char* p, std::size_t size) noexcept;

/** Ciphertext received from the transport, not yet taken by mbedTLS.

    Fixed capacity (one maximal record with its header and expansion): mbedTLS keeps a partial
    record in its own buffer across WANT_READ, so the queue never needs to hold more. The storage
    is allocated on first use and not value-initialised, so untouched pages cost no memory; it
    may be given back when empty (release()).
*/
class input_queue {
public:
    /// One maximal TLS record (16 KiB plaintext) with its header and expansion.
    static constexpr std::size_t capacity = 16384 + 2048 + 5;

    /// Allocate the storage if not yet done; false if that failed.
    bool reserve() noexcept {
        if (!buf_)
            buf_.reset(allocate_block(capacity));
        return static_cast<bool>(buf_);
    }

    /// Whether the storage is allocated.
    bool has_storage() const noexcept { return static_cast<bool>(buf_); }

    /** Free the storage if nothing is queued or lent to a transport read (an idle connection
        needs none); the next reserve() or prepare() allocates again. */
    void release() noexcept {
        if (begin_ != end_ || lent_)
            return;
        buf_.reset();
        begin_ = end_ = 0;
    }

    /** The free tail, lent to a transport read until commit(); empty when full or when the
        storage cannot be allocated. Compacts first when little room is left behind the
        unconsumed bytes, so transport reads stay large. */
    boost::asio::mutable_buffer prepare() noexcept {
        boost::asio::mutable_buffer b = tail();
        lent_ = b.size() != 0;
        return b;
    }

    /// `n` bytes of the tail handed out by prepare() were received; the tail is returned.
    void commit(std::size_t n) noexcept {
        end_ = std::min(end_ + n, capacity);
        lent_ = false;
    }

    /// Copy bytes in (when no transport read holds the tail); returns how many fit.
    std::size_t put(const unsigned char* p, std::size_t n) noexcept {
        if (lent_)
            return 0;
        boost::asio::mutable_buffer space = tail();
        std::size_t k = std::min(n, space.size());
        if (k != 0)
            std::memcpy(space.data(), p, k);
        end_ += k;
        return k;
    }

    /** Move up to `n` bytes out to `p` (mbedTLS's receive callback); returns how many: never
        past the end of the current record's header or body (mbedTLS asks for a header, then
        for its body), and 0 while the next record is held back or at the check point. */
    std::size_t take(unsigned char* p, std::size_t n) noexcept {
        std::size_t k = std::min(size(), n);
        if (k != 0)
            k = frame(k);
        if (k == record_header) // a header (mbedTLS asks for one per record): copied inline
            std::memcpy(p, buf_.get() + begin_, record_header);
        else if (k != 0)
            std::memcpy(p, buf_.get() + begin_, k);
        begin_ += k;
        return k;
    }

    // ---- record framing: the gate --------------------------------------------------------
    //
    // The first byte received starts a record, and each record starts with a 5-byte header in
    // clear: content type, version, length. In TLS 1.2, a handshake record (type 22) after the
    // handshake is a peer's renegotiation request, and the renegotiation state machine may hold
    // it back until the application decided. The queue also counts records by type (an alert's
    // or application record's header says which), pauses at the flood guard's check point, and
    // refuses a record longer than the version allows.

    static constexpr std::size_t record_header = 5;
    static constexpr unsigned char alert = 21;
    static constexpr unsigned char handshake = 22;
    static constexpr unsigned char application_data = 23;

    /// Hold back handshake records (or stop): take() gives nothing while the next one is.
    void hold_handshake(bool on) noexcept { hold_ = on; }

    /// Whether the next record is a handshake record held back (its first byte is here).
    bool holding() const noexcept {
        return hold_ && !release_ && at_boundary() && !empty() && buf_[begin_] == handshake;
    }

    /// Let the next record through even if it is held back (once).
    void release_held() noexcept { release_ = true; }

    /** Begin no record once `records` records were begun (records_taken()): take() gives
        nothing there, and paused() says so, until pause_before() is called again (a later
        count lets the next record through). The flood guard's check point, so that the
        receive callback tests nothing on the way (default: no check point). */
    void pause_before(std::uint64_t records) noexcept { pause_at_ = records; }

    /// Whether the next record to begin is at the check point (received yet or not): take()
    /// gives nothing until pause_before() moves the point.
    bool paused() const noexcept { return at_boundary() && records_ >= pause_at_; }

    /** Refuse records whose header gives a body longer than `max` bytes (TLS 1.3's 2^14 + 256;
        0xffff, the default, refuses none): take() gives nothing from the last byte of such a
        header on, and oversized() says why. */
    void limit_record_body(std::uint16_t max) noexcept { max_body_ = max; }

    /// Whether a record over the limit was met (take() gives nothing more).
    bool oversized() const noexcept { return oversized_; }

    /// How many records of `type` (alert, handshake, application_data) take() began to hand
    /// out.
    std::uint64_t records_taken(unsigned char type) const noexcept {
        const unsigned slot = type - first_counted;
        return slot < counted_types ? by_type_[slot] : 0;
    }

    /// How many records of any type take() began to hand out (the flood guard's clock).
    std::uint64_t records_taken() const noexcept { return records_; }

    /// Bytes received and not yet taken.
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return end_ == begin_; }

    /// The transport reported end of stream; once empty, nothing more will come.
    void set_eof() noexcept { eof_ = true; }
    bool eof() const noexcept { return eof_; }

private:
    bool at_boundary() const noexcept { return header_seen_ == 0 && body_left_ == 0; }

    /// How many of the next `k` (> 0) bytes may go now: 0 if they start a record at the check
    /// point or held back, else no more than the rest of the current header or body.
    std::size_t frame(std::size_t k) noexcept {
        const unsigned char* b = buf_.get() + begin_;
        if (at_boundary()) { // a record starts here: its first byte is its type
            if (records_ >= pause_at_)
                return 0;
            if (b[0] == handshake && hold_ && !release_)
                return 0;
            release_ = false;
            ++records_;
            if (const unsigned slot = b[0] - first_counted; slot < counted_types)
                ++by_type_[slot];
        }
        if (header_seen_ < record_header) {
            k = std::min(k, record_header - header_seen_);
            if (k == record_header) { // a whole header at once (mbedTLS asks for 5 bytes)
                body_left_ = std::size_t(b[3]) << 8 | b[4];
                header_seen_ = body_left_ == 0 ? 0 : record_header;
                return body_left_ > max_body_ ? refuse_oversized(0) : k;
            }
            std::memcpy(header_ + header_seen_, b, k);
            if (header_seen_ + k == record_header) {
                body_left_ = std::size_t(header_[3]) << 8 | header_[4];
                if (body_left_ > max_body_)
                    return refuse_oversized(header_seen_);
                header_seen_ = body_left_ == 0 ? 0 : record_header; // 0: the next one starts
                return k;
            }
            header_seen_ += k;
            return k;
        }
        k = std::min(k, body_left_);
        body_left_ -= k;
        if (body_left_ == 0)
            header_seen_ = 0;
        return k;
    }

    /// A header over the limit, `seen` bytes of it taken before: take nothing, now or later
    /// (the state stays where it was before the header's last bytes, which stay queued).
    BOOST_NOINLINE std::size_t refuse_oversized(std::size_t seen) noexcept {
        oversized_ = true;
        header_seen_ = seen;
        body_left_ = 0;
        return 0;
    }

    boost::asio::mutable_buffer tail() noexcept {
        if (!reserve())
            return {};
        if (begin_ == end_) {
            begin_ = end_ = 0;
        } else if (begin_ > 0 && capacity - end_ < compact_below) {
            std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        return {buf_.get() + end_, capacity - end_};
    }

    /// Compact when less than this is free behind the unconsumed bytes.
    static constexpr std::size_t compact_below = 2048;

    struct give_back {
        void operator()(unsigned char* p) const noexcept { deallocate_block(p, capacity); }
    };
    std::unique_ptr<unsigned char[], give_back> buf_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    bool lent_ = false;
    bool eof_ = false;
    bool hold_ = false;                          // hold back handshake records
    bool release_ = false;                       // but let the next one through
    bool oversized_ = false;                     // a header over max_body_ was met
    unsigned char header_[record_header] = {};   // of the current record
    std::uint16_t max_body_ = 0xffff;            // the longest body a header may give
    std::size_t header_seen_ = 0;                // how much of it was taken
    std::size_t body_left_ = 0;                  // of its body, not yet taken
    std::uint64_t records_ = 0;                  // records begun
    std::uint64_t pause_at_ = std::uint64_t(-1); // begin none while records_ >= this
    // Records begun, by type: change_cipher_spec (20), alert, handshake, application_data.
    static constexpr unsigned first_counted = 20;
    static constexpr unsigned counted_types = 4;
    std::uint64_t by_type_[counted_types] = {};
};

/** Ciphertext records waiting for the transport, in the order mbedTLS produced them.

    Grows to the largest flight ever queued (a handshake's certificates, say) and may be given
    back when idle (release()). Counts every byte in and out, so that an operation can tell when
    the records it produced have left: produced() when it finished, against consumed() later.
*/
class output_queue {
public:
    /// Initial capacity; the queue doubles as needed.
    static constexpr std::size_t initial_capacity = 4096;

    output_queue() = default;
    output_queue(const output_queue&) = delete;
    output_queue& operator=(const output_queue&) = delete;
    /// A block of the initial size goes back to the thread's recycled blocks, as release()
    /// gives it: a client ends its handshake with its last flight still queued, so its block
    /// is only given back with the stream.
    ~output_queue() {
        if (cap_ == initial_capacity)
            deallocate_block(buf_.release(), cap_);
    }

    /** The queued bytes, lent to a transport write until consume(): until then the queue may
        grow, but neither moves nor frees these bytes. */
    boost::asio::const_buffer front() const noexcept {
        pinned_ = end_ != begin_;
        return {buf_.get() + begin_, end_ - begin_};
    }

    /// Remove `n` written bytes from the front; the view handed out by front() is returned.
    void consume(std::size_t n) noexcept {
        n = std::min(n, size());
        begin_ += n;
        consumed_ += n;
        pinned_ = false;
        if (retired_) // almost never (and the free out of line, so that this stays inline)
            free_retired();
        if (begin_ == end_)
            begin_ = end_ = 0;
    }

    /// Append one record; false if memory ran out (nothing appended).
    bool append(const unsigned char* p, std::size_t n) {
        if (!reserve(n))
            return false;
        std::memcpy(buf_.get() + end_, p, n);
        end_ += n;
        produced_ += n;
        return true;
    }

    /// Drop everything queued, as if written (the transport is gone for writing). The storage
    /// stays: a transport write may still be reading it.
    void discard() noexcept {
        consumed_ += size();
        begin_ = end_ = 0;
    }

    /// Free the storage if nothing is queued or lent out; the next append allocates again.
    void release() noexcept {
        if (begin_ != end_ || pinned_)
            return;
        deallocate_block(buf_.release(), cap_);
        retired_.reset();
        cap_ = begin_ = end_ = 0;
    }

    bool empty() const noexcept { return end_ == begin_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    /// Bytes ever appended.
    std::uint64_t produced() const noexcept { return produced_; }
    /// Bytes ever consumed (or discarded).
    std::uint64_t consumed() const noexcept { return consumed_; }

private:
    bool reserve(std::size_t len) {
        if (begin_ == end_)
            begin_ = end_ = 0;
        if (cap_ - end_ >= len)
            return true;
        return make_room(len);
    }

    BOOST_NOINLINE void free_retired() noexcept { retired_.reset(); }

    /// reserve() when the free tail is too short: compact or grow. Out of line, so that the
    /// common append (mbedTLS's send callback, once per record) stays small.
    BOOST_NOINLINE bool make_room(std::size_t len) {
        std::size_t used = size();
        if (!pinned_ && begin_ > 0 && cap_ - used >= len) {
            std::memmove(buf_.get(), buf_.get() + begin_, used);
            begin_ = 0;
            end_ = used;
            return true;
        }
        std::size_t cap = std::max({cap_ * 2, used + len, initial_capacity});
        std::unique_ptr<unsigned char[]> bigger(allocate_block(cap));
        if (!bigger)
            return false;
        if (used != 0)
            std::memcpy(bigger.get(), buf_.get() + begin_, used);
        if (pinned_ && !retired_)
            retired_ = std::move(buf_); // a transport write is reading it: free it on consume
        buf_ = std::move(bigger);
        cap_ = cap;
        begin_ = 0;
        end_ = used;
        return true;
    }

    std::unique_ptr<unsigned char[]> buf_;
    std::unique_ptr<unsigned char[]> retired_; // the storage a transport write still reads
    mutable bool pinned_ = false;              // front() was handed out and not yet consumed
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::uint64_t produced_ = 0;
    std::uint64_t consumed_ = 0;
};

} // namespace detail
} // namespace tlsx

#endif
