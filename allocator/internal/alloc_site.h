// sealpool — where each heap object was allocated (whole-program mode).
//
// A report about a heap object says which code allocated it: the return
// address of the call into malloc (or new, realloc, ...). Sites are
// interned into a table of up to 65535 distinct addresses, and a shadow of
// the data zone keeps one 16-bit site number per 16 bytes: the entry of an
// object's first byte names its site. Objects start 16-byte aligned
// (whole-program pools align to 16), so no two objects share an entry.
//
// Cost: one table probe and one 2-byte store per allocation; the shadow is
// reserved (an eighth of the data zone, untouched until used) and its pages
// are resident only where objects were allocated. A freed object keeps its
// entry until its slot is reused, so a use-after-free report still says
// where the object was allocated. Sites past the table's capacity are
// recorded as unknown. Off unless EnableAllocSites() is called.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_ALLOC_SITE_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_ALLOC_SITE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace internal {

struct AllocSiteShadow {
  std::atomic<uint16_t*> entries{nullptr};  // null: recording is off
  uintptr_t base = 0;                       // the data zone's start
  size_t count = 0;                         // entries
};
extern AllocSiteShadow g_alloc_sites;

// Starts recording; the arena must exist. False (recording stays off) when
// the shadow or the table cannot be reserved. Idempotent.
bool EnableAllocSites();

// The site's number in the table, interning it; 0 when the table is full.
uint16_t InternAllocSite(uintptr_t site);

// Hot path: records `site` for the object at `obj`.
inline void RecordAllocSite(uintptr_t obj, uintptr_t site) {
  uint16_t* e = g_alloc_sites.entries.load(std::memory_order_relaxed);
  if (e == nullptr) return;
  const size_t i = (obj - g_alloc_sites.base) >> 4;
  if (i >= g_alloc_sites.count) return;
  const uint16_t id = InternAllocSite(site);
  // A store only when it changes: a slot reused by the same site leaves the
  // shadow page clean.
  if (__atomic_load_n(&e[i], __ATOMIC_RELAXED) != id) {
    __atomic_store_n(&e[i], id, __ATOMIC_RELAXED);
  }
}

// The recorded site of the object starting at `obj`, or 0.
uintptr_t AllocSiteOf(uintptr_t obj);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_ALLOC_SITE_H_
