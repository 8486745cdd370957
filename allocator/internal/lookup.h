// sealpool — the object lookup behind LookupObject() and ObjectSize(),
// inline so that neither the allocator nor the checker pays a call for it.
// Included by allocator/page_query.h; not for direct use outside
// allocator/.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_LOOKUP_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_LOOKUP_H_

#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "allocator/internal/arena.h"
#include "allocator/page_query.h"

namespace sealpool {
namespace internal {

// Hot path: the body of LookupObject(), inlined where it matters.
// `fields` (LookupFields; a constant at most call sites) picks the
// attributes to load: the size query needs neither the sealed state (a load
// from the span record's cache line) nor the usercopy window.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Lookup LookupInDataZone(
    uintptr_t a, ObjectBounds* out, unsigned fields);

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Lookup LookupObjectInline(
    uintptr_t a, ObjectBounds* out, unsigned fields = kLookupAll) {
  if (ABSL_PREDICT_FALSE(!InDataZone(a))) {
    return InReservation(a, 1) ? Lookup::kBad : Lookup::kNotOurs;
  }
  return LookupInDataZone(a, out, fields);
}

// The lookup of an address the caller knows to be in the data zone
// (InDataZone(a)): kObject or kBad.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Lookup LookupInDataZone(
    uintptr_t a, ObjectBounds* out, unsigned fields) {
  const uintptr_t r = a - g_arena.data_base;  // offset in the data zone
  const uint64_t e = g_arena.table[r >> kPageShift].load(std::memory_order_acquire);
  const EntryKind kind = EntryKindOf(e);
  const SpanRecord* rec = RecordAt(SpanGranule(e, a));
  uintptr_t start;
  size_t size;
  if (ABSL_PREDICT_TRUE(kind == EntryKind::kSmall)) {
    const int cls = EntryClass(e);
    const ClassInfo& ci = kClassInfo.c[cls];
    // The span's first granule, and a's offset in the span's slots (which
    // start one guard page into it): from a's offset in its own granule
    // and which granule of the span that is.
    const uint64_t in_span = EntryGranuleInSpan(e);
    const uint64_t g = (r >> kGranuleShift) - in_span;
    const uint64_t rel =
        (r & (kGranuleSize - 1)) + (in_span << kGranuleShift) - kPageSize;
    const uint64_t idx = (rel * EntryMul(e)) >> kMulShift;
    if (ABSL_PREDICT_FALSE(idx >= ci.slots)) return Lookup::kBad;  // span tail
    const uint8_t* page = SlackPage(g);
    uint32_t slack;
    if (IsWide(cls)) {
      slack = __atomic_load_n(reinterpret_cast<const uint16_t*>(page) + idx,
                              __ATOMIC_ACQUIRE);
      if (ABSL_PREDICT_FALSE(slack >= kWideCached)) return Lookup::kBad;
    } else {
      slack = __atomic_load_n(page + idx, __ATOMIC_ACQUIRE);
      if (ABSL_PREDICT_FALSE(slack >= kNarrowCached)) return Lookup::kBad;
    }
    // A live entry is at most the slot size; more is a corrupt entry.
    if (ABSL_PREDICT_FALSE(slack > ci.size)) return Lookup::kBad;
    start = a - (rel - idx * ci.size);
    size = ci.size - slack;
  } else if (kind == EntryKind::kLarge) {
    if (rec->live.load(std::memory_order_acquire) == 0) return Lookup::kBad;
    start = rec->base.load(std::memory_order_relaxed);
    size = rec->mul.load(std::memory_order_relaxed);
    // The record's size is trusted only with its canary: a raised size in
    // a forged record is not a bigger object.
    if (ABSL_PREDICT_FALSE(!CanaryOk(rec))) return Lookup::kBad;
  } else {
    return Lookup::kBad;
  }
  // Inside the object's bytes; a zero-size object owns its start only.
  if (ABSL_PREDICT_FALSE(a - start >= size && a != start)) return Lookup::kBad;
  const uint32_t pool_id = EntryPool(e);
  out->start = start;
  out->size = size;
  out->pool_id = pool_id;
  if (fields & kLookupWindow) {
    const uint64_t window = g_usercopy_window[pool_id <= kMaxPoolIds ? pool_id : 0]
                                .load(std::memory_order_relaxed);
    out->usercopy_offset = static_cast<uint32_t>(window >> 32);
    out->usercopy_size = static_cast<uint32_t>(window);
  }
  if (fields & kLookupSealed) {
    out->sealed = rec->sealed.load(std::memory_order_acquire) != 0;
  }
  return Lookup::kObject;
}

}  // namespace internal

inline bool InArenaInline(const void* addr, size_t len) {
  return internal::InReservation(reinterpret_cast<uintptr_t>(addr), len);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Lookup LookupObject(const void* addr,
                                                        ObjectBounds* out,
                                                        unsigned fields) {
  return internal::LookupObjectInline(reinterpret_cast<uintptr_t>(addr), out,
                                      fields);
}

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_LOOKUP_H_
