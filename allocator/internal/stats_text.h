// sealpool — pool statistics as text, for the statistics table
// (inspect.cc) and the arena map (arena_map.cc).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_STATS_TEXT_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_STATS_TEXT_H_

#include <string>

#include "allocator/pool.h"

namespace sealpool {
namespace internal {

// "12.3 MiB", "512 B".
std::string Bytes(double b);
// The pool's flags ("sealed permanent(mseal)", ...), or "-".
std::string Flags(const PoolStats& s);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_STATS_TEXT_H_
