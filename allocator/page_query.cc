// sealpool — the page-table query (see page_query.h).

#include "allocator/page_query.h"

#include "absl/base/optimization.h"
#include "allocator/internal/arena.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/internal/size_class.h"
#include "allocator/internal/span.h"

namespace sealpool {

using internal::EntryKind;
using internal::g_arena;

// Hot path: a table load, a record load, a slack load; no lock, no divide.
AddressInfo QueryAddress(const void* addr) {
  AddressInfo info;
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  if (!internal::InDataZone(a)) {
    // The data-zone check published the geometry (acquire) if it is set.
    if (g_arena.data_size.load(std::memory_order_acquire) != 0 &&
        a >= g_arena.meta_begin && a < g_arena.meta_end) {
      info.page = PageKind::kMetadata;
    }
    return info;
  }
  const uint64_t e = g_arena.table[internal::PageIndex(a)].load(std::memory_order_acquire);
  info.pool_id = internal::EntryPool(e);
  switch (internal::EntryKindOf(e)) {
    case EntryKind::kUnused:
      info.page = PageKind::kUnused;
      return info;
    case EntryKind::kGuard:
      info.page = PageKind::kGuard;
      return info;
    case EntryKind::kSmall:
      info.page = PageKind::kSmallSpan;
      break;
    case EntryKind::kLarge:
      info.page = PageKind::kLargeSpan;
      break;
  }
  const size_t g = internal::SpanGranule(e, a);
  const internal::SpanRecord* rec = internal::RecordAt(g);
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  info.sealed = rec->sealed.load(std::memory_order_acquire) != 0;
  const uint64_t window =
      internal::g_usercopy_window[info.pool_id <= internal::kMaxPoolIds ? info.pool_id : 0]
          .load(std::memory_order_relaxed);
  info.usercopy_offset = window >> 32;
  info.usercopy_size = window & 0xFFFFFFFFu;
  if (!internal::CanaryOk(rec)) {
    info.corrupt = true;
    return info;
  }
  if (info.page == PageKind::kLargeSpan) {
    const size_t size = rec->mul.load(std::memory_order_relaxed);
    info.slot_size = size;
    // The span's one object, also for its end-alignment padding (where
    // in_slot stays false).
    info.object_start = base;
    info.live = rec->live.load(std::memory_order_acquire) != 0;
    if (info.live) info.object_size = size;
    info.in_slot = a >= base && a - base < size;
    return info;
  }
  const uint64_t rel = a - base;
  const uint64_t idx = (rel * rec->mul.load(std::memory_order_relaxed)) >> internal::kMulShift;
  const uint32_t slot_size = rec->slot_size.load(std::memory_order_relaxed);
  // The constant bound keeps a torn read of a record being recycled inside
  // its slack page.
  if (idx >= rec->nslots.load(std::memory_order_relaxed) ||
      idx >= internal::kMaxSlotsPerSpan) {
    return info;  // the tail of the span after the last slot
  }
  info.in_slot = true;
  info.slot_size = slot_size;
  info.object_start = base + idx * slot_size;
  const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
  const uint8_t* page = internal::SlackPage(g);
  const uint32_t slack =
      wide ? __atomic_load_n(reinterpret_cast<const uint16_t*>(page) + (idx & 2047),
                             __ATOMIC_ACQUIRE)
           : __atomic_load_n(page + idx, __ATOMIC_ACQUIRE);
  const uint32_t cached = wide ? internal::kWideCached : internal::kNarrowCached;
  if (slack >= cached || slack > slot_size) return info;
  info.live = true;
  info.object_size = slot_size - slack;
  info.redzone = slack;
  return info;
}

bool InArena(const void* addr, size_t len) {
  return internal::InReservation(reinterpret_cast<uintptr_t>(addr), len);
}

const char* PoolNameById(uint32_t pool_id) {
  internal::PoolImpl* p = internal::PoolImpl::ById(pool_id);
  return p != nullptr && p->live() ? p->name() : nullptr;
}

}  // namespace sealpool
