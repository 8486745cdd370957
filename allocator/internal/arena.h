// sealpool — the arena: the data reservation holding all pool memory, and
// a separate metadata reservation at a random address.
//
// Layout (every zone between PROT_NONE guard gaps; nothing is committed
// until touched):
//
//   data reservation:      [gap][data][gap]
//   metadata reservation:  [gap][page table][gap][span records][gap]
//                          [slack pages][gap]
//
// The metadata reservation is placed at a random address, apart from
// everything else, so that no data pointer says where an object's slack
// entry or span record is; its address lives only in g_arena, which is
// read-only once the arena exists.
//
//   page table:   one uint64_t entry per data page (PageEntry below)
//   span records: one 64-byte SpanRecord per 64 KiB data granule
//   slack pages:  one 4 KiB page per granule: the per-slot state/slack
//                 array of a small span starting at that granule
//   data:         pool extents, carved into spans of whole granules
//
// A data address `a` maps to page (a - data_base) >> 12 and granule
// (a - data_base) >> 16; both are array indices, so every lookup is O(1)
// without a search. The arena is reserved once, at the first pool creation,
// and never released.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_ARENA_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_ARENA_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "allocator/internal/mutex.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/size_class.h"
#include "allocator/internal/span.h"

namespace sealpool {
namespace internal {

// Page-table entry. 0 = unused. For every kind: bits 0-2 kind, bits 9-24
// pool id.
//   small span pages: bits 3-8 size class, bits 25-26 which granule of its
//     span the page is in, bits 27-55 the class's reciprocal (ClassMul). A
//     small object's span base, slot index and slack entry follow from the
//     address and the entry alone, so the lookup needs one load before the
//     slack byte.
//   guard and large pages: bits 32-63 the granule index of the span's
//     first granule (its record).
enum class EntryKind : uint8_t { kUnused = 0, kGuard = 1, kSmall = 2, kLarge = 3 };
inline constexpr uint64_t MakeEntry(EntryKind kind, uint32_t pool_id,
                                    uint64_t granule) {
  return static_cast<uint64_t>(kind) | (uint64_t{pool_id} << 9) | (granule << 32);
}
inline constexpr uint64_t MakeSmallEntry(uint32_t pool_id, int cls,
                                         uint64_t granule_in_span) {
  return static_cast<uint64_t>(EntryKind::kSmall) |
         (static_cast<uint64_t>(cls) << 3) | (uint64_t{pool_id} << 9) |
         (granule_in_span << 25) | (ClassMul(cls) << 27);
}
inline EntryKind EntryKindOf(uint64_t e) { return static_cast<EntryKind>(e & 7); }
inline int EntryClass(uint64_t e) { return static_cast<int>((e >> 3) & 63); }
inline uint32_t EntryPool(uint64_t e) { return (e >> 9) & 0xFFFF; }
inline uint64_t EntryMul(uint64_t e) { return (e >> 27) & ((uint64_t{1} << 29) - 1); }
inline uint64_t EntryGranuleInSpan(uint64_t e) { return (e >> 25) & 3; }

// The arena's geometry and the process secrets. Written once by InitArena()
// before data_size is published with a release store (readers load
// data_size with acquire); then its page is made read-only.
struct alignas(4096) ArenaGeometry {
  uintptr_t reservation = 0;       // the data reservation
  size_t reservation_size = 0;
  uintptr_t meta_reservation = 0;  // the metadata reservation
  size_t meta_reservation_size = 0;
  uintptr_t meta_begin = 0, meta_end = 0;  // table .. slack (with gaps)
  uintptr_t data_base = 0;
  // Keys of span-record canaries (secret[2]) and slot canaries (0, 1).
  uint64_t secret[3] = {};
  // The kernel has no usable membarrier: fast paths then pay a real fence
  // for the seal and release handshake (see BeginFastPath).
  bool fence_fast_paths = false;
  std::atomic<size_t> data_size{0};        // 0 until initialized
  std::atomic<uint64_t>* table = nullptr;
  SpanRecord* records = nullptr;
  uint8_t* slack = nullptr;
  size_t granules = 0;
};
extern ArenaGeometry g_arena;

// Usercopy window of pool id i: offset << 32 | size (size 0 = whole
// object), set at pool creation. Read lock-free by the object lookup.
inline constexpr uint32_t kMaxPoolIds = 65535;  // 16 bits in an entry
extern std::atomic<uint64_t> g_usercopy_window[kMaxPoolIds + 1];

// Reserves the arena if not yet done. Returns false when the reservation
// fails (then later calls try again). Thread-safe.
bool InitArena();

// The acquire load of data_size must come before the read of data_base, so
// it is a statement of its own; before the arena exists (size 0) data_base
// may be being written and is not read at all.
inline bool InDataZone(uintptr_t a) {
  const size_t size = g_arena.data_size.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(size == 0)) return false;
  return a - g_arena.data_base < size;
}
// True when [a, a+len) overlaps either reservation (data or metadata, with
// their gaps). Four compares after the acquire load.
inline bool InReservation(uintptr_t a, size_t len) {
  if (g_arena.data_size.load(std::memory_order_acquire) == 0) return false;
  return (a < g_arena.reservation + g_arena.reservation_size &&
          a + len > g_arena.reservation) ||
         (a < g_arena.meta_reservation + g_arena.meta_reservation_size &&
          a + len > g_arena.meta_reservation);
}

// The canary of a span record: a keyed hash of its address and of every
// field fixed for the span's life, mixed one field at a time (so that no
// two flipped bits in different fields cancel out). Checked on the slow
// paths and where the checker trusts a large object's size: a few
// multiplies.
inline uint64_t CanaryMix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}
inline uint64_t SpanCanary(const SpanRecord* r) {
  uint64_t h = g_arena.secret[2] ^ reinterpret_cast<uintptr_t>(r);
  h = CanaryMix(h, r->base.load(std::memory_order_relaxed));
  h = CanaryMix(h, r->mul.load(std::memory_order_relaxed));
  h = CanaryMix(h, (uint64_t{r->slot_size.load(std::memory_order_relaxed)} << 32) |
                       r->nslots.load(std::memory_order_relaxed));
  h = CanaryMix(h, (uint64_t{r->pool_id.load(std::memory_order_relaxed)} << 32) |
                       (uint64_t{r->kind.load(std::memory_order_relaxed)} << 24) |
                       (uint64_t{r->wide.load(std::memory_order_relaxed)} << 16) |
                       (uint64_t{r->class_idx} << 8) | r->granules);
  h = CanaryMix(h, r->large_granules);
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}

// Sets and checks canaries.
inline void SealCanary(SpanRecord* r) {
  r->canary.store(SpanCanary(r), std::memory_order_relaxed);
}
inline bool CanaryOk(const SpanRecord* r) {
  return r->canary.load(std::memory_order_relaxed) == SpanCanary(r);
}
inline size_t PageIndex(uintptr_t a) {
  return (a - g_arena.data_base) >> kPageShift;
}
inline size_t GranuleIndex(uintptr_t a) {
  return (a - g_arena.data_base) >> kGranuleShift;
}
// The first granule of the span that page entry `e` (for address a)
// belongs to: where its record and slack page are.
inline uint64_t SpanGranule(uint64_t e, uintptr_t a) {
  return EntryKindOf(e) == EntryKind::kSmall
             ? GranuleIndex(a) - EntryGranuleInSpan(e)
             : e >> 32;
}
// A small span's page entry `e` for data-zone offset `rel`: the span's
// first granule, the offset from its first slot and that offset's slot
// index. Below the first slot (the leading guard page) the offset wraps,
// and the index is then far past any span's slots.
struct SmallSlotPosition {
  size_t granule;
  uint64_t offset;
  uint64_t index;
};
inline SmallSlotPosition SmallSlotAt(uint64_t e, uintptr_t rel) {
  const size_t g = (rel >> kGranuleShift) - EntryGranuleInSpan(e);
  const uint64_t off = rel - (g << kGranuleShift) - kPageSize;
  return {g, off, (off * EntryMul(e)) >> kMulShift};
}
inline uintptr_t GranuleAddress(size_t g) {
  return g_arena.data_base + (g << kGranuleShift);
}
inline SpanRecord* RecordAt(size_t g) { return &g_arena.records[g]; }
// The span record of the large object whose page holds `a` (in the data
// zone), or nullptr when that page is not a large object's.
inline SpanRecord* LargeRecordAt(uintptr_t a) {
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  return EntryKindOf(e) == EntryKind::kLarge ? RecordAt(SpanGranule(e, a)) : nullptr;
}
inline size_t RecordGranule(const SpanRecord* r) {
  return static_cast<size_t>(r - g_arena.records);
}
// A large span's trailing guard page: the end of its object's room.
inline uintptr_t LargeSpanEnd(const SpanRecord* r) {
  return GranuleAddress(RecordGranule(r)) +
         (size_t{r->large_granules} << kGranuleShift) - kPageSize;
}
inline uint8_t* SlackPage(size_t g) {
  return g_arena.slack + (g << kPageShift);
}

// Stores `entry` (release) for the `npages` pages from `addr`.
void SetPageEntries(uintptr_t addr, size_t npages, uint64_t entry);

// Granule ranges of the data zone. Thread-safe (arena mutex).
// ReleaseGranules() quarantines the ranges of one destroyed pool: they
// are handed out again only after `quarantine` later pools were released,
// or when the arena has no other room. FreeGranules() makes a range free
// at once.
bool AllocateGranules(size_t count, size_t* first);
void FreeGranules(size_t first, size_t count);
void ReleaseGranules(const std::vector<std::pair<size_t, size_t>>& ranges,
                     size_t quarantine);
size_t FreeGranuleCount();
// Fork handlers: hold the granule mutex across fork().
void LockGranulesForFork();
void UnlockGranulesAfterFork();


}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_ARENA_H_
