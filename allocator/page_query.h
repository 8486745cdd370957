// sealpool — the page-table query.
//
// The one narrow question other layers (boundscheck/, tools, tests) may ask
// the allocator about an address: "what is here?". The answer comes from the
// page-flag table and the span records, with acquire loads and no lock, so
// it is safe while other threads allocate, free, seal or destroy. A miss in
// the table for an arena address is answered kUnused, never "not ours".

#ifndef SEALPOOL_ALLOCATOR_PAGE_QUERY_H_
#define SEALPOOL_ALLOCATOR_PAGE_QUERY_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {

enum class PageKind : uint8_t {
  kNotArena = 0,   // memory sealpool does not own
  kUnused,         // arena page that no pool owns
  kGuard,          // guard page
  kMetadata,       // allocator metadata (page table, span records, slack)
  kSmallSpan,      // page of a small-object span
  kLargeSpan,      // page of a large object's span
};

struct AddressInfo {
  PageKind page = PageKind::kNotArena;
  uint32_t pool_id = 0;        // 0 when no pool owns the page
  // For kSmallSpan / kLargeSpan pages:
  bool in_slot = false;        // addr lies inside an object slot
  bool live = false;           // that slot holds a live object
  bool sealed = false;         // the span is sealed (read-only)
  uintptr_t object_start = 0;  // slot start (valid when in_slot; for a
                               // large span, also in its padding)
  size_t object_size = 0;      // requested size (valid when live)
  size_t slot_size = 0;        // size-class slot (or large span data) size
  size_t usercopy_offset = 0;  // the pool's usercopy window
  size_t usercopy_size = 0;    // 0 = whole object
  size_t redzone = 0;          // bytes after object_size that are redzone
  bool corrupt = false;        // the span record's canary does not verify
};

// The three answers of the checker's lookup: memory sealpool does not own,
// a byte inside one live object, or arena memory that no copy may touch
// (guard, metadata, unused, slack, a free slot). Never "not ours" for an
// arena address.
enum class Lookup : uint8_t { kNotOurs = 0, kObject = 1, kBad = 2 };

struct ObjectBounds {
  uintptr_t start = 0;          // first byte of the object
  size_t size = 0;              // its requested size
  uint32_t pool_id = 0;
  bool sealed = false;
  uint32_t usercopy_offset = 0;  // the pool's window; size 0 = whole object
  uint32_t usercopy_size = 0;
};

// Hot path: the live object whose bytes include `addr` (for a zero-size
// object, whose start is `addr`). On kBad, QueryAddress() tells why.
// Inline: a table load, a load from a constant per-class table and a slack
// load; no lock, no divide, no call.
//
// `fields` says which of the object's attributes the caller needs: start,
// size and pool id always come back; the sealed state and the usercopy
// window only when asked for (each is another load). Fields not asked for
// are left as they were.
enum LookupFields : unsigned {
  kLookupBounds = 0,      // start, size, pool id
  kLookupWindow = 1,      // + usercopy_offset, usercopy_size
  kLookupSealed = 2,      // + sealed
  kLookupAll = kLookupWindow | kLookupSealed,
};
inline Lookup LookupObject(const void* addr, ObjectBounds* out,
                           unsigned fields = kLookupAll);

// Answers what `addr` is, in full (for reports and tools). One compare for non-arena addresses,
// then a table load, a span-record load and a slack load. Never blocks.
AddressInfo QueryAddress(const void* addr);

// True when [addr, addr+len) overlaps the arena's reserved range (data,
// metadata or table). O(1).
bool InArena(const void* addr, size_t len);
// The same, inline, for hot paths.
inline bool InArenaInline(const void* addr, size_t len);

// Name of a live pool by id, or nullptr. The returned string stays valid
// until the pool is released. Lock-free.
const char* PoolNameById(uint32_t pool_id);

}  // namespace sealpool

// The inline definition of LookupObject().
#include "allocator/internal/lookup.h"

#endif  // SEALPOOL_ALLOCATOR_PAGE_QUERY_H_
