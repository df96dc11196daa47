// Unit tests of the engine's ciphertext queues (tlsx/detail/record_queues.hpp): no mbedTLS.
#include <tlsx/detail/record_queues.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

using tlsx::detail::input_queue;
using tlsx::detail::output_queue;

namespace {

std::vector<unsigned char> bytes(std::size_t n, unsigned char seed) {
    std::vector<unsigned char> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<unsigned char>(seed + i * 13);
    return v;
}

/// Simulate a transport read of `data` into the queue.
std::size_t receive(input_queue& q, const std::vector<unsigned char>& data) {
    boost::asio::mutable_buffer space = q.prepare();
    std::size_t n = std::min(space.size(), data.size());
    std::memcpy(space.data(), data.data(), n);
    q.commit(n);
    return n;
}

/// Simulate transport reads of each of `records`, in order.
void receive_all(input_queue& q, std::initializer_list<std::vector<unsigned char>> records) {
    for (const auto& r : records)
        receive(q, r);
}

/// A TLS record: the 5-byte header (type, version 3.3, length) and `n` body bytes.
std::vector<unsigned char> record(unsigned char type, std::size_t n, unsigned char seed = 0) {
    std::vector<unsigned char> v = {type, 3, 3, static_cast<unsigned char>(n >> 8),
                                    static_cast<unsigned char>(n & 0xff)};
    auto body = bytes(n, seed);
    v.insert(v.end(), body.begin(), body.end());
    return v;
}

} // namespace

BOOST_AUTO_TEST_SUITE(record_queues)

BOOST_AUTO_TEST_CASE(input_hands_out_bytes_in_the_order_received) {
    input_queue q;
    BOOST_TEST(q.empty());
    // One record received in two transport reads, taken in other pieces.
    auto rec = record(input_queue::application_data, 145, 1);
    std::vector<unsigned char> a(rec.begin(), rec.begin() + 100), b(rec.begin() + 100, rec.end());
    BOOST_TEST(receive(q, a) == 100u);
    BOOST_TEST(receive(q, b) == 50u);
    BOOST_TEST(q.size() == 150u);
    std::vector<unsigned char> out(150);
    BOOST_TEST(q.take(out.data(), 5) == 5u);
    BOOST_TEST(q.take(out.data() + 5, 25) == 25u);
    BOOST_TEST(q.take(out.data() + 30, 500) == 120u);
    BOOST_TEST(q.empty());
    BOOST_TEST(out == rec);
    BOOST_TEST(q.take(out.data(), 10) == 0u);
}

BOOST_AUTO_TEST_CASE(input_is_bounded_by_one_record_and_compacts_to_keep_reads_large) {
    input_queue q;
    // The largest record the queue holds: its body fills the capacity behind the header.
    auto all = record(input_queue::application_data,
                      input_queue::capacity - input_queue::record_header, 3);
    BOOST_TEST(receive(q, all) == input_queue::capacity);
    BOOST_TEST(q.prepare().size() == 0u); // full: a transport read must wait
    std::vector<unsigned char> out(input_queue::capacity);
    BOOST_TEST(q.take(out.data(), 5) == 5u);
    BOOST_TEST(q.take(out.data() + 5, 3995) == 3995u);
    // Little room is left behind the unconsumed bytes: prepare() moves them to the front.
    BOOST_TEST(q.prepare().size() == 4000u);
    q.commit(0);
    BOOST_TEST(q.size() == input_queue::capacity - 4000);
    BOOST_TEST(q.take(out.data() + 4000, out.size()) == input_queue::capacity - 4000);
    BOOST_TEST(out == all); // nothing lost or reordered by the compaction
}

BOOST_AUTO_TEST_CASE(input_refuses_copies_while_its_tail_is_lent_to_a_transport_read) {
    input_queue q;
    auto data = bytes(10, 5);
    boost::asio::mutable_buffer lent = q.prepare();
    BOOST_TEST(lent.size() == input_queue::capacity);
    BOOST_TEST(q.put(data.data(), data.size()) == 0u); // would write where the read writes
    q.commit(0);
    BOOST_TEST(q.put(data.data(), data.size()) == 10u);
    BOOST_TEST(q.size() == 10u);
}

BOOST_AUTO_TEST_CASE(input_release_frees_only_an_empty_queue_not_lent_to_a_read) {
    input_queue q;
    BOOST_TEST(!q.has_storage()); // allocated on first use
    auto rec = record(input_queue::application_data, 20, 7);
    BOOST_TEST(q.put(rec.data(), rec.size()) == rec.size());
    q.release(); // bytes queued: kept
    BOOST_TEST(q.has_storage());
    BOOST_TEST(q.size() == rec.size());
    std::vector<unsigned char> out(rec.size());
    BOOST_TEST(q.take(out.data(), input_queue::record_header) == input_queue::record_header);
    BOOST_TEST(q.take(out.data() + input_queue::record_header, out.size()) == 20u);
    BOOST_TEST(out == rec);
    boost::asio::mutable_buffer lent = q.prepare();
    q.release(); // a transport read writes there: kept
    BOOST_TEST(q.has_storage());
    q.commit(0);
    q.release();
    BOOST_TEST(!q.has_storage());
    BOOST_TEST(q.empty());
    lent = q.prepare(); // allocates again, with the whole capacity free
    BOOST_TEST(q.has_storage());
    BOOST_TEST(lent.size() == input_queue::capacity);
    std::memcpy(lent.data(), rec.data(), rec.size());
    q.commit(rec.size());
    std::vector<unsigned char> again(rec.size());
    BOOST_TEST(q.take(again.data(), input_queue::record_header) == input_queue::record_header);
    BOOST_TEST(q.take(again.data() + input_queue::record_header, again.size()) == 20u);
    BOOST_TEST(again == rec); // framing starts afresh at a record boundary
}

BOOST_AUTO_TEST_CASE(input_eof_is_remembered) {
    input_queue q;
    BOOST_TEST(!q.eof());
    q.set_eof();
    BOOST_TEST(q.eof());
}

BOOST_AUTO_TEST_CASE(framed_input_hands_out_one_record_at_a_time_and_counts_them_by_type) {
    input_queue q;
    auto app = record(input_queue::application_data, 100, 1);
    auto alert = record(input_queue::alert, 2, 2);
    receive_all(q, {app, alert});
    std::vector<unsigned char> out(500);
    BOOST_TEST(q.take(out.data(), 3) == 3u);         // part of the first header
    BOOST_TEST(q.take(out.data() + 3, 500) == 2u);   // its rest, no more
    BOOST_TEST(q.take(out.data() + 5, 500) == 100u); // the body, no more
    BOOST_TEST(q.records_taken(input_queue::application_data) == 1u);
    BOOST_TEST(q.records_taken(input_queue::alert) == 0u);
    BOOST_TEST(q.take(out.data() + 105, 500) == 5u);
    BOOST_TEST(q.take(out.data() + 110, 500) == 2u);
    BOOST_TEST(q.records_taken(input_queue::alert) == 1u);
    BOOST_TEST(std::memcmp(out.data(), app.data(), app.size()) == 0);
    BOOST_TEST(std::memcmp(out.data() + 105, alert.data(), alert.size()) == 0);
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(framed_input_hands_out_a_header_received_in_parts) {
    input_queue q;
    auto app = record(input_queue::application_data, 10);
    receive(q, {app.begin(), app.begin() + 3});
    unsigned char out[64];
    BOOST_TEST(q.take(out, sizeof out) == 3u); // nothing stays behind waiting for the rest
    BOOST_TEST(q.empty());
    receive(q, {app.begin() + 3, app.end()});
    BOOST_TEST(q.take(out + 3, sizeof out) == 2u);
    BOOST_TEST(q.take(out + 5, sizeof out) == 10u);
    BOOST_TEST(std::memcmp(out, app.data(), app.size()) == 0);
    BOOST_TEST(q.records_taken(input_queue::application_data) == 1u);
}

BOOST_AUTO_TEST_CASE(the_gate_holds_handshake_records_and_releases_one_at_a_time) {
    input_queue q;
    q.hold_handshake(true);
    auto app = record(input_queue::application_data, 20, 1);
    auto hs1 = record(input_queue::handshake, 4, 2);
    auto hs2 = record(input_queue::handshake, 4, 3);
    receive(q, app);
    receive(q, hs1);
    receive(q, hs2);
    std::vector<unsigned char> out(100);
    BOOST_TEST(!q.holding()); // application data first: it passes
    BOOST_TEST(q.take(out.data(), 100) == 5u);
    BOOST_TEST(q.take(out.data(), 100) == 20u);
    BOOST_TEST(q.holding());
    BOOST_TEST(q.take(out.data(), 100) == 0u); // held back, nothing lost
    BOOST_TEST(q.size() == 18u);
    q.release_held();
    BOOST_TEST(!q.holding());
    BOOST_TEST(q.take(out.data(), 100) == 5u);
    BOOST_TEST(q.take(out.data() + 5, 100) == 4u);
    BOOST_TEST(std::memcmp(out.data(), hs1.data(), hs1.size()) == 0);
    BOOST_TEST(q.holding()); // the release was for one record
    BOOST_TEST(q.take(out.data(), 100) == 0u);
    q.hold_handshake(false);
    BOOST_TEST(!q.holding());
    BOOST_TEST(q.take(out.data(), 100) == 5u);
    BOOST_TEST(q.take(out.data() + 5, 100) == 4u);
    BOOST_TEST(std::memcmp(out.data(), hs2.data(), hs2.size()) == 0);
}

BOOST_AUTO_TEST_CASE(the_gate_does_not_cut_a_handshake_record_already_begun) {
    input_queue q;
    auto hs = record(input_queue::handshake, 40, 4);
    receive(q, hs);
    std::vector<unsigned char> out(100);
    BOOST_TEST(q.take(out.data(), 5) == 5u);
    BOOST_TEST(q.take(out.data() + 5, 5) == 5u);
    q.hold_handshake(true); // armed mid-record: the record goes on
    BOOST_TEST(!q.holding());
    BOOST_TEST(q.take(out.data() + 10, 100) == 35u);
    BOOST_TEST(std::memcmp(out.data(), hs.data(), hs.size()) == 0);
}

BOOST_AUTO_TEST_CASE(input_pauses_at_its_check_point_until_moved_on) {
    input_queue q;
    BOOST_TEST(!q.paused()); // no check point by default
    q.pause_before(0);
    BOOST_TEST(q.paused()); // the point holds before anything arrived
    const auto first = record(input_queue::application_data, 10, 1);
    const auto second = record(input_queue::alert, 2, 2);
    receive_all(q, {first, second});
    std::vector<unsigned char> out(100);
    BOOST_TEST(q.take(out.data(), 100) == 0u); // the first record is not begun
    BOOST_TEST(q.records_taken() == 0u);
    BOOST_TEST(q.size() == first.size() + second.size()); // nothing lost
    // Let one record through.
    q.pause_before(1);
    BOOST_TEST(!q.paused());
    BOOST_TEST(q.take(out.data(), 100) == 5u);
    BOOST_TEST(!q.paused()); // never inside a record
    BOOST_TEST(q.take(out.data() + 5, 100) == 10u);
    BOOST_TEST(q.paused()); // at the second record, the check point
    BOOST_TEST(q.take(out.data() + 15, 100) == 0u);
    BOOST_TEST(q.records_taken() == 1u);
    q.pause_before(std::uint64_t(-1));
    BOOST_TEST(q.take(out.data() + 15, 100) == 5u);
    BOOST_TEST(q.take(out.data() + 20, 100) == 2u);
    BOOST_TEST(std::memcmp(out.data(), first.data(), first.size()) == 0);
    BOOST_TEST(std::memcmp(out.data() + 15, second.data(), second.size()) == 0);
    BOOST_TEST(!q.paused());
    q.pause_before(2); // the point holds before the next record arrives
    BOOST_TEST(q.paused());
    receive(q, first);
    BOOST_TEST(q.take(out.data(), 100) == 0u);
    q.pause_before(3);
    BOOST_TEST(q.take(out.data(), 100) == 5u);
}

BOOST_AUTO_TEST_CASE(input_refuses_a_record_longer_than_its_limit) {
    // TLS 1.3's limit: a body of 2^14 + 256 passes, one byte more is refused at its header.
    const std::uint16_t limit = 16384 + 256;
    input_queue q;
    q.limit_record_body(limit);
    auto fits = record(input_queue::application_data, limit, 1);
    receive(q, fits);
    std::vector<unsigned char> out(input_queue::capacity);
    BOOST_TEST(q.take(out.data(), 5) == 5u);
    BOOST_TEST(q.take(out.data() + 5, out.size()) == std::size_t(limit));
    BOOST_TEST(!q.oversized());
    auto over = record(input_queue::application_data, limit + 1, 2);
    receive(q, over);
    BOOST_TEST(q.take(out.data(), 5) == 0u); // the header is refused whole
    BOOST_TEST(q.oversized());
    BOOST_TEST(q.take(out.data(), 5) == 0u); // and stays refused
    BOOST_TEST(q.size() == over.size());
}

BOOST_AUTO_TEST_CASE(input_refuses_an_oversized_header_received_in_parts) {
    input_queue q;
    q.limit_record_body(100);
    auto over = record(input_queue::application_data, 101);
    receive(q, {over.begin(), over.begin() + 4});
    unsigned char out[16];
    BOOST_TEST(q.take(out, sizeof out) == 4u); // the length is not all here yet
    BOOST_TEST(!q.oversized());
    receive(q, {over.begin() + 4, over.begin() + 5});
    BOOST_TEST(q.take(out + 4, sizeof out) == 0u); // its last byte completes it: refused
    BOOST_TEST(q.oversized());
    BOOST_TEST(q.take(out + 4, sizeof out) == 0u);
    // Without a limit (the default, and TLS 1.2's), any length a header can give is framed.
    input_queue plain;
    auto big = record(input_queue::application_data, 0xffff);
    receive(plain, {big.begin(), big.begin() + 5});
    BOOST_TEST(plain.take(out, sizeof out) == 5u);
    BOOST_TEST(!plain.oversized());
}

// The storage a queue gives back goes to the next queue on the same thread (queue_storage.cpp),
// not to the heap: under connection churn each handshake takes the previous one's blocks.
BOOST_AUTO_TEST_CASE(released_storage_goes_to_the_next_queue_on_the_thread) {
    // On a fresh thread, so that no block kept by an earlier test is there to be taken.
    bool in_reused = false, out_reused = false, out_intact = false, in_freed = false;
    std::thread([&] {
        const void* in_block = nullptr;
        const void* out_block = nullptr;
        {
            input_queue in;
            in_block = in.prepare().data(); // empty queue: the tail is the whole block
            in.commit(0);
            in.release();
            in_freed = !in.has_storage();
            output_queue out;
            auto r = bytes(100, 3);
            out.append(r.data(), r.size());
            out_block = out.front().data();
            out.consume(r.size());
            out.release();
        }
        input_queue in;
        in_reused = in.prepare().data() == in_block;
        in.commit(0);
        output_queue out;
        auto r = bytes(50, 4);
        out_reused = out.append(r.data(), r.size()) && out.front().data() == out_block;
        out_intact = std::memcmp(out.front().data(), r.data(), r.size()) == 0;
    }).join();
    BOOST_TEST(in_freed);
    BOOST_TEST(in_reused);
    BOOST_TEST(out_reused);
    BOOST_TEST(out_intact);
}

// A client ends its handshake with its last flight still queued, so its output block is only
// given back with the stream: the queue's destructor recycles it as release() does.
BOOST_AUTO_TEST_CASE(an_output_queue_destroyed_with_bytes_queued_gives_its_block_back) {
    bool kept = false, reused = false;
    std::thread([&] {
        const void* block = nullptr;
        auto r = bytes(100, 5);
        {
            output_queue out;
            out.append(r.data(), r.size());
            block = out.front().data();
            out.release(); // bytes queued (and lent out): not released
            kept = out.size() == r.size();
        }
        output_queue next;
        next.append(r.data(), r.size());
        reused = next.front().data() == block;
    }).join();
    BOOST_TEST(kept);
    BOOST_TEST(reused);
}

BOOST_AUTO_TEST_CASE(output_counts_what_was_produced_and_consumed) {
    output_queue q;
    auto r1 = bytes(300, 1);
    auto r2 = bytes(200, 2);
    BOOST_TEST(q.append(r1.data(), r1.size()));
    BOOST_TEST(q.append(r2.data(), r2.size()));
    BOOST_TEST(q.produced() == 500u);
    BOOST_TEST(q.size() == 500u);
    boost::asio::const_buffer f = q.front();
    BOOST_TEST(f.size() == 500u);
    BOOST_TEST(std::memcmp(f.data(), r1.data(), 300) == 0);
    q.consume(320);
    BOOST_TEST(q.consumed() == 320u);
    f = q.front();
    BOOST_TEST(f.size() == 180u);
    BOOST_TEST(std::memcmp(f.data(), r2.data() + 20, 180) == 0);
    q.consume(1000); // more than queued: clamped
    BOOST_TEST(q.consumed() == 500u);
    BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(output_lent_to_a_transport_write_survives_growth) {
    output_queue q;
    auto first = bytes(output_queue::initial_capacity, 9);
    BOOST_TEST(q.append(first.data(), first.size()));
    boost::asio::const_buffer lent = q.front(); // a transport write is reading this
    std::vector<unsigned char> copy(static_cast<const unsigned char*>(lent.data()),
                                    static_cast<const unsigned char*>(lent.data()) + lent.size());
    auto more = bytes(3 * output_queue::initial_capacity, 4); // forces a reallocation
    BOOST_TEST(q.append(more.data(), more.size()));
    BOOST_TEST(std::memcmp(lent.data(), copy.data(), copy.size()) == 0); // still readable
    q.consume(lent.size());
    boost::asio::const_buffer rest = q.front();
    BOOST_TEST(rest.size() == more.size());
    BOOST_TEST(std::memcmp(rest.data(), more.data(), more.size()) == 0);
}

BOOST_AUTO_TEST_CASE(output_discard_drops_everything_as_if_written) {
    output_queue q;
    auto r = bytes(700, 6);
    BOOST_TEST(q.append(r.data(), r.size()));
    q.discard();
    BOOST_TEST(q.empty());
    BOOST_TEST(q.consumed() == q.produced()); // an operation waiting for its records ends
}

BOOST_AUTO_TEST_CASE(output_release_frees_only_an_idle_queue) {
    output_queue q;
    auto r = bytes(100, 8);
    BOOST_TEST(q.append(r.data(), r.size()));
    q.release(); // not idle: kept
    BOOST_TEST(q.size() == 100u);
    boost::asio::const_buffer lent = q.front();
    q.consume(lent.size());
    q.release();
    BOOST_TEST(q.empty());
    BOOST_TEST(q.append(r.data(), r.size())); // allocates again
    BOOST_TEST(std::memcmp(q.front().data(), r.data(), r.size()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
