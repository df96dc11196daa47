//
// recycled_blocks.hpp — the sizes recycled per thread besides the record queues' (see
// recycled_blocks.cpp and allocate_block in tlsx/detail/record_queues.hpp).
//
#ifndef TLSX_SRC_DETAIL_RECYCLED_BLOCKS_HPP
#define TLSX_SRC_DETAIL_RECYCLED_BLOCKS_HPP

#include <cstddef>

namespace tlsx {
namespace detail {

/// sizeof the engine's state (engine.cpp), whose memory comes from allocate_block(): one block
/// per stream, recycled as the queues' are.
extern const std::size_t engine_state_size;

} // namespace detail
} // namespace tlsx

#endif
