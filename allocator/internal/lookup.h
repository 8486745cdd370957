// sealpool — the object lookup behind LookupObject() and ObjectSize(),
// inline so that the allocator's own hot paths pay no call.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_LOOKUP_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_LOOKUP_H_

#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "allocator/internal/arena.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/page_query.h"

namespace sealpool {
namespace internal {

// Hot path: the body of LookupObject(), inlined where it matters.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Lookup LookupObjectInline(uintptr_t a,
                                                            ObjectBounds* out) {
  if (ABSL_PREDICT_FALSE(!InDataZone(a))) {
    return InArena(reinterpret_cast<const void*>(a), 1) ? Lookup::kBad
                                                        : Lookup::kNotOurs;
  }
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  const EntryKind kind = EntryKindOf(e);
  const SpanRecord* rec = RecordAt(EntryGranule(e));
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  uintptr_t start;
  size_t size;
  if (ABSL_PREDICT_TRUE(kind == EntryKind::kSmall)) {
    const uint64_t idx =
        ((a - base) * rec->mul.load(std::memory_order_relaxed)) >> kMulShift;
    const uint32_t slot_size = rec->slot_size.load(std::memory_order_relaxed);
    if (ABSL_PREDICT_FALSE(idx >= rec->nslots.load(std::memory_order_relaxed) ||
                           idx >= kMaxSlotsPerSpan)) {
      return Lookup::kBad;
    }
    const uint8_t* page = SlackPage(EntryGranule(e));
    uint32_t slack;
    if (rec->wide.load(std::memory_order_relaxed) != 0) {
      slack = __atomic_load_n(reinterpret_cast<const uint16_t*>(page) + (idx & 2047),
                              __ATOMIC_ACQUIRE);
      if (ABSL_PREDICT_FALSE(slack >= kWideCached)) return Lookup::kBad;
    } else {
      slack = __atomic_load_n(page + idx, __ATOMIC_ACQUIRE);
      if (ABSL_PREDICT_FALSE(slack >= kNarrowCached)) return Lookup::kBad;
    }
    start = base + idx * slot_size;
    size = slot_size - slack;
  } else if (kind == EntryKind::kLarge) {
    if (rec->live.load(std::memory_order_acquire) == 0) return Lookup::kBad;
    start = base;
    size = rec->mul.load(std::memory_order_relaxed);
  } else {
    return Lookup::kBad;
  }
  // Inside the object's bytes; a zero-size object owns its start only.
  if (ABSL_PREDICT_FALSE(a - start >= size && a != start)) return Lookup::kBad;
  const uint32_t pool_id = EntryPool(e);
  const uint64_t window =
      g_usercopy_window[pool_id <= kMaxPools ? pool_id : 0]
          .load(std::memory_order_relaxed);
  out->start = start;
  out->size = size;
  out->pool_id = pool_id;
  out->sealed = rec->sealed.load(std::memory_order_acquire) != 0;
  out->usercopy_offset = static_cast<uint32_t>(window >> 32);
  out->usercopy_size = static_cast<uint32_t>(window);
  return Lookup::kObject;
}

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_LOOKUP_H_
