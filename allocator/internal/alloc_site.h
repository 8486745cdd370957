// sealpool — where each heap object was allocated (whole-program mode).
//
// A report about a heap object says which code allocated it: the return
// address of the call into malloc (or new, realloc, ...). Sites are
// interned into a table of up to 65535 distinct addresses, and each slot
// has a 16-bit site number. A small span of 192-byte slots or larger keeps
// them in its slack page, after the slot states, which leave room for them
// (kSiteOffset); any other span owns a run of 4096 entries of a shadow at
// its first granule (4096 * granule index), in which the entry of slot i
// is entry i (a large object's span has one slot). Entries are indexed by
// slot, not by address, so the pages they take follow the number of slots
// used, not the bytes they span (a span of 5 KiB slots: 49 entries, in its
// slack page).
//
// Cost: one table probe, the page-table entry and one 2-byte store per
// allocation; the shadow is reserved (two bytes per 16 of the data zone,
// untouched until used). A freed object keeps its entry until its slot is
// reused, so a use-after-free report still says where the object was
// allocated. Sites past the table's capacity are recorded as unknown. Off
// unless EnableAllocSites() is called.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_ALLOC_SITE_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_ALLOC_SITE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "allocator/internal/arena.h"
#include "allocator/internal/size_class.h"

namespace sealpool {
namespace internal {

struct AllocSiteShadow {
  std::atomic<uint16_t*> entries{nullptr};  // null: recording is off
  size_t count = 0;                         // entries
};
extern AllocSiteShadow g_alloc_sites;

// Starts recording; the arena must exist. False (recording stays off) when
// the shadow or the table cannot be reserved. Idempotent.
bool EnableAllocSites();

// The site's number in the table, interning it; 0 when the table is full.
uint16_t InternAllocSite(uintptr_t site);

// Where a small span of class c keeps its sites when its slack page has
// room for them after the slot states (classes of 192 bytes and up): the
// offset there, else 0 (the shadow). Such a span's sites take no page of
// their own.
struct SiteOffsetTable {
  uint16_t c[kClassFieldValues];
};
constexpr SiteOffsetTable MakeSiteOffsets() {
  SiteOffsetTable t{};
  for (int c = 0; c < kNumClasses; ++c) {
    const size_t off = (SlotCount(c) * SlackWidth(c) + 1) & ~size_t{1};
    if (off + 2 * SlotCount(c) <= kPageSize) t.c[c] = static_cast<uint16_t>(off);
  }
  return t;
}
inline constexpr SiteOffsetTable kSiteOffset = MakeSiteOffsets();

// The site entry of the slot holding `obj`: in a small span, entry (slot
// index) of its slack page's sites or of the shadow's run of 4096 at the
// span's first granule; a large span's first shadow entry. Null for an
// address in no span, or when recording is off.
inline uint16_t* AllocSiteEntry(uintptr_t obj) {
  uint16_t* shadow = g_alloc_sites.entries.load(std::memory_order_acquire);
  if (shadow == nullptr) return nullptr;
  const uintptr_t rel = obj - g_arena.data_base;
  if (rel >= g_arena.data_size.load(std::memory_order_acquire)) return nullptr;
  const uint64_t e = g_arena.table[rel >> kPageShift].load(std::memory_order_acquire);
  size_t i;
  if (EntryKindOf(e) == EntryKind::kSmall) {
    const int c = EntryClass(e);
    const SmallSlotPosition pos = SmallSlotAt(e, rel);
    const size_t g = pos.granule;
    const uint64_t slot = pos.index;
    if (slot >= kClassInfo.c[c].slots) return nullptr;
    if (kSiteOffset.c[c] != 0) {
      return reinterpret_cast<uint16_t*>(SlackPage(g) + kSiteOffset.c[c]) + slot;
    }
    i = (g << 12) + slot;
  } else if (EntryKindOf(e) == EntryKind::kLarge) {
    // A freed large span's pages keep their entries, naming its first
    // granule, when part of its range is reused: that granule must still
    // start a large span that holds `obj`, else the site would be another
    // object's.
    const size_t g = SpanGranule(e, obj);
    const SpanRecord* r = RecordAt(g);
    if (r->kind.load(std::memory_order_relaxed) != static_cast<uint8_t>(SpanKind::kLarge) ||
        (rel >> kGranuleShift) - g >= __atomic_load_n(&r->large_granules, __ATOMIC_RELAXED)) {
      return nullptr;
    }
    i = g << 12;
  } else {
    return nullptr;
  }
  return i < g_alloc_sites.count ? shadow + i : nullptr;
}

// Hot path: records `site` for the object at `obj`.
inline void RecordAllocSite(uintptr_t obj, uintptr_t site) {
  uint16_t* entry = AllocSiteEntry(obj);
  if (entry == nullptr) return;
  const uint16_t id = InternAllocSite(site);
  // A store only when it changes: a slot reused by the same site leaves the
  // page clean.
  if (__atomic_load_n(entry, __ATOMIC_RELAXED) != id) {
    __atomic_store_n(entry, id, __ATOMIC_RELAXED);
  }
}

// The recorded site of the object starting at `obj`, or 0.
uintptr_t AllocSiteOf(uintptr_t obj);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_ALLOC_SITE_H_
