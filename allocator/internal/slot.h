// sealpool — slot state: the per-slot entries of a small span's slack page.
//
// Each slot of a small span has one entry (uint8_t for narrow classes,
// uint16_t for wide ones) in the span's slack page, in the metadata
// reservation. Values below kCached are live objects and give the slot's
// bytes after the requested size; kCached marks a slot held by a thread
// cache (free, or quarantined), kFree a slot free in its span.
//
// Transitions: live -> cached (free: a compare-and-swap, so that two frees
// of one object cannot both win; a plain load and store while the process
// has one thread), cached -> live (allocation from the
// thread's own cache: plain store), cached <-> free (refill and flush,
// under the pool mutex).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_SLOT_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_SLOT_H_

#include <cstddef>
#include <cstdint>

#include "allocator/internal/arena.h"
#include "allocator/internal/size_class.h"

namespace sealpool {
namespace internal {

// Slack-entry access for narrow (uint8_t) and wide (uint16_t) spans.
inline uint32_t LoadSlack(const void* p, bool wide) {
  return wide ? __atomic_load_n(static_cast<const uint16_t*>(p), __ATOMIC_ACQUIRE)
              : __atomic_load_n(static_cast<const uint8_t*>(p), __ATOMIC_ACQUIRE);
}
inline void StoreSlack(void* p, bool wide, uint32_t v) {
  if (wide) {
    __atomic_store_n(static_cast<uint16_t*>(p), static_cast<uint16_t>(v),
                     __ATOMIC_RELEASE);
  } else {
    __atomic_store_n(static_cast<uint8_t*>(p), static_cast<uint8_t>(v),
                     __ATOMIC_RELEASE);
  }
}
inline bool CasSlack(void* p, bool wide, uint32_t expected, uint32_t desired) {
  if (wide) {
    uint16_t e = static_cast<uint16_t>(expected);
    return __atomic_compare_exchange_n(static_cast<uint16_t*>(p), &e,
                                       static_cast<uint16_t>(desired), false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
  }
  uint8_t e = static_cast<uint8_t>(expected);
  return __atomic_compare_exchange_n(static_cast<uint8_t*>(p), &e,
                                     static_cast<uint8_t>(desired), false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
inline uint32_t CachedMark(bool wide) { return wide ? kWideCached : kNarrowCached; }
inline uint32_t FreeMark(bool wide) { return wide ? kWideFree : kNarrowFree; }
inline void* SlackEntry(size_t granule, bool wide, size_t idx) {
  uint8_t* page = SlackPage(granule);
  return wide ? static_cast<void*>(reinterpret_cast<uint16_t*>(page) + idx)
              : static_cast<void*>(page + idx);
}

// The span record whose slack page holds entry `slack`.
inline SpanRecord* RecordOfSlack(const void* slack) {
  return RecordAt(static_cast<size_t>(static_cast<const uint8_t*>(slack) -
                                      g_arena.slack) >>
                  kPageShift);
}

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_SLOT_H_
