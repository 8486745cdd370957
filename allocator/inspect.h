// sealpool — looking at the allocator from outside: a per-pool statistics
// table and a picture of the arena.
//
// These walk every live pool under its lock; they are for tools, tests and
// end-of-run summaries, not hot paths. All are thread-safe.

#ifndef SEALPOOL_ALLOCATOR_INSPECT_H_
#define SEALPOOL_ALLOCATOR_INSPECT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/pool.h"

namespace sealpool {

// One span of a pool, or a part of an extent that holds no span yet.
struct SpanView {
  enum class Kind : uint8_t {
    kSmall,      // size-class span: slots of `slot_size` bytes
    kLarge,      // one large object (live or freed)
    kUncarved,   // reserved extent space not carved into spans yet
  };
  Kind kind = Kind::kUncarved;
  uintptr_t start = 0;     // first byte (the leading guard page for spans)
  size_t bytes = 0;        // whole span, guard pages included
  size_t guard_bytes = 0;  // guard pages inside [start, start + bytes)
  uint32_t slot_size = 0;  // small spans
  uint32_t slots = 0;      // small spans: slot count; large: 1
  uint32_t live = 0;       // live objects in the span
  bool sealed = false;
};

// One pool: its statistics, and its extents split into spans in address
// order.
struct PoolView {
  PoolStats stats;
  std::vector<SpanView> spans;
};

// Every live pool (including destroyed pools whose memory is still held by
// references), in id order.
std::vector<PoolView> SnapshotPools();

// Writes the per-pool statistics table (objects, live / committed /
// reserved bytes, spans, guard pages, sealed bytes, metadata bytes,
// violations) as aligned text. The C API's sp_dump_stats().
void DumpStats(FILE* out);

// Writes a self-contained SVG picture of the arena to `path`: one band per
// pool, its extents drawn to scale, spans coloured by size class, guard
// pages, sealed versus writable memory, metadata, with a legend and the
// pool names. The C API's sp_dump_map().
absl::Status WriteArenaMap(const std::string& path);

// The SVG as a string (what WriteArenaMap writes).
std::string RenderArenaMap(const std::vector<PoolView>& pools);

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INSPECT_H_
