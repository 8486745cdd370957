// sealpool — large objects: one span each, end-aligned against a
// trailing guard page; free turns the object's pages into guard pages.

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/slot.h"

namespace sealpool {
namespace internal {
namespace {


}  // namespace

// The object is end-aligned to the pool's alignment (16 bytes at least),
// so up to align - 1 bytes lie between its end and the trailing guard
// page, and up to a page before it on its first page. Both gaps carry a
// canary next to the object (see hardening.h).
void PoolImpl::WriteLargeCanaries(uintptr_t first_page, uintptr_t base,
                                  size_t size, uintptr_t end) {
  const uint64_t k = SlotCanary(base);
  const size_t head = CanaryLength(base - first_page);
  WriteCanary(base - head, head, k);
  WriteCanary(base + size, CanaryLength(end - (base + size)), k);
}

namespace {

// kCanaryIntact, or the address of the first overwritten canary byte (the
// tail's lowest, else the head's highest: an underflow runs downwards).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS uintptr_t LargeCanaryMismatch(uintptr_t first_page, uintptr_t base, size_t size,
                           uintptr_t end) {
  const uint64_t k = SlotCanary(base);
  const size_t head = CanaryLength(base - first_page);
  const size_t tail = CanaryLength(end - (base + size));
  if (!CanaryIntact(base + size, tail, k)) {
    return base + size + FirstCanaryMismatch(base + size, tail, k);
  }
  if (!CanaryIntact(base - head, head, k)) {
    for (size_t j = head; j-- > 0;) {
      if (reinterpret_cast<const uint8_t*>(base - head)[j] != CanaryByte(k, j)) {
        return base - head + j;
      }
    }
  }
  return kCanaryIntact;
}

}  // namespace

bool PoolImpl::LargeCanariesIntactLocked(const SpanRecord* rec, const ObjectBounds& b) {
  if (!hard_.canaries) return true;
  return LargeCanaryMismatch(b.start & ~(kPageSize - 1), b.start, b.size,
                             LargeSpanEnd(rec)) == kCanaryIntact;
}

void* PoolImpl::AllocateLarge(size_t size, size_t align_req, AllocError* err,
                              uintptr_t phase) {
  if (size > (size_t{1} << 40)) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  const size_t align = align_req < 16 ? 16 : align_req;
  // An alignment above a granule cannot be had from the granule offset
  // alone: room for it is reserved and the object placed once the span's
  // address is known.
  const size_t slop = align > kGranuleSize ? align : 0;
  // A start at a given place in its page may lie up to a page before the
  // end-aligned one.
  const bool phased = phase != kAnyPhase && slop == 0;
  const size_t span_pages =
      (RoundUp(size + align + slop + (phased ? kPageSize : 0), kPageSize) >> kPageShift) +
      2;
  const size_t granules = RoundUp(span_pages, kPagesPerGranule) / kPagesPerGranule;
  MutexLock l(&mu_);
  if (destroyed_.load(std::memory_order_relaxed)) {
    *err = AllocError::kDestroyed;
    return nullptr;
  }
  const size_t g_bytes = granules << kGranuleShift;
  const size_t end_off = g_bytes - kPageSize;
  // Object pages: from the page holding the (aligned, end-placed) start to
  // the trailing guard page. Granules are 64 KiB-aligned, so up to that
  // alignment the offsets do not depend on the span's address; above it
  // the cap is checked with the most pages the object can take.
  const size_t step = align > kPageSize ? align : kPageSize;
  size_t obj_off = phased ? ((end_off - size - phase) & ~(step - 1)) + phase
                          : (end_off - size) & ~(align - 1);
  size_t first_page_off = obj_off & ~(kPageSize - 1);
  size_t obj_pages = slop == 0 ? (end_off - first_page_off) >> kPageShift
                               : (RoundUp(size + align, kPageSize) >> kPageShift) + 1;
  if (opts_.max_bytes != 0 &&
      committed_ + (obj_pages << kPageShift) > opts_.max_bytes) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  size_t g = 0;
  bool guarded = false;
  if (!CarveGranules(granules, &g, &guarded, err)) return nullptr;
  const uintptr_t start = GranuleAddress(g);
  if (slop != 0) {
    obj_off = ((start + end_off - size) & ~(align - 1)) - start;
    first_page_off = obj_off & ~(kPageSize - 1);
    obj_pages = (end_off - first_page_off) >> kPageShift;
  }
  // A freed span's granules are guards already: only the object's pages
  // open (one system call); fresh ones get their head and tail guards.
  const bool ok =
      guarded ? OpenPages(start + first_page_off, end_off - first_page_off)
              : InstallGuard(reinterpret_cast<void*>(start), first_page_off,
                             &prot_none_guards_) &&
                    InstallGuard(reinterpret_cast<void*>(start + end_off), kPageSize,
                                 &prot_none_guards_);
  if (!ok) {
    if (!guarded) InstallGuard(reinterpret_cast<void*>(start), g_bytes, &prot_none_guards_);
    free_spans_.emplace_back(g, granules);
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  SpanRecord* rec = RecordAt(g);
  rec->base.store(start + obj_off, std::memory_order_relaxed);
  rec->mul.store(size, std::memory_order_relaxed);  // large: the exact size
  rec->slot_size.store(0, std::memory_order_relaxed);
  rec->nslots.store(1, std::memory_order_relaxed);
  rec->pool_id.store(id_, std::memory_order_relaxed);
  rec->kind.store(static_cast<uint8_t>(SpanKind::kLarge), std::memory_order_relaxed);
  rec->wide.store(0, std::memory_order_relaxed);
  rec->sealed.store(0, std::memory_order_relaxed);
  rec->class_idx = 0;
  rec->granules = 0;
  rec->large_granules = static_cast<uint32_t>(granules);
  rec->moved_in = 0;
  rec->free_count = 0;
  rec->prev = rec->next = 0;
  SealCanary(rec);
  rec->live.store(1, std::memory_order_release);
  SetPageEntries(start, first_page_off >> kPageShift,
                 MakeEntry(EntryKind::kGuard, id_, g));
  SetPageEntries(start + first_page_off, obj_pages,
                 MakeEntry(EntryKind::kLarge, id_, g));
  SetPageEntries(start + end_off, 1, MakeEntry(EntryKind::kGuard, id_, g));
  committed_ += obj_pages << kPageShift;
  ++large_spans_;
  guard_pages_ += (first_page_off >> kPageShift) + 1;
  metadata_bytes_ += sizeof(SpanRecord) + (g_bytes >> kPageShift) * sizeof(uint64_t);
  live_bytes_ += static_cast<int64_t>(size);
  ++live_objects_;
  if (hard_.canaries) {
    WriteLargeCanaries(start + first_page_off, start + obj_off, size, start + end_off);
  }
  AsanObjectAllocated(start + first_page_off, obj_off - first_page_off + size,
                      end_off - first_page_off);
  AsanPoison(start + first_page_off, obj_off - first_page_off);
  return reinterpret_cast<void*>(start + obj_off);
}


ViolationKind PoolImpl::FreeLarge(uintptr_t a, SpanRecord* rec) {
  const uint32_t pool_id = rec->pool_id.load(std::memory_order_relaxed);
  PoolImpl* pool = VerifiedOwner(rec, a);
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  const size_t size = rec->mul.load(std::memory_order_relaxed);
  uintptr_t overflow = kCanaryIntact;
  ViolationKind bad;
  {
    MutexLock l(&pool->mu_);
    bad = pool->ReleaseLargeLocked(rec, a, /*moved=*/false, &overflow);
  }
  if (overflow != kCanaryIntact) return pool->ReportOverflow(base, size, overflow);
  if (bad == ViolationKind::kNone) return bad;
  return ReportPoolViolation(bad, pool_id, a, base, size,
                bad == ViolationKind::kInvalidFree ? "not the start of a live object"
                                                   : nullptr);
}

ViolationKind PoolImpl::ReleaseLargeLocked(SpanRecord* rec, uintptr_t a, bool moved,
                                           uintptr_t* overflow) {
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  const size_t size = rec->mul.load(std::memory_order_relaxed);
  if (a != base) return ViolationKind::kInvalidFree;
  if (rec->live.load(std::memory_order_relaxed) == 0) return ViolationKind::kDoubleFree;
  if (rec->sealed.load(std::memory_order_relaxed) != 0) return ViolationKind::kSealedFree;
  rec->live.store(0, std::memory_order_release);
  AsanPoison(base, size);
  const size_t g = RecordGranule(rec);
  const size_t granules = rec->large_granules;
  const uintptr_t first_page = base & ~(kPageSize - 1);
  const uintptr_t end = LargeSpanEnd(rec);
  if (hard_.canaries && !moved) {
    *overflow = LargeCanaryMismatch(first_page, base, size, end);
  }
  // Pages moved in are a mapping of their own (their offsets are the
  // source's): a fresh mapping in their place merges with the arena's
  // again.
  if (rec->moved_in != 0) {
    rec->moved_in = 0;
    ForgetMovedIn();
    SEALPOOL_CHECK(RenewPages(reinterpret_cast<void*>(first_page), end - first_page),
                   "could not map a freed large object's pages anew");
  }
  // The object's pages become guard pages until the span is reused, so
  // that a stale pointer faults; the table keeps naming the object so
  // that the checker reports a use after free.
  if (!InstallGuard(reinterpret_cast<void*>(first_page), end - first_page,
                    &prot_none_guards_)) {
    // Out of kernel mappings (PROT_NONE fallback): the pages are still
    // dropped and the table still calls them freed, they just do not
    // fault on a plain access.
    DiscardPages(reinterpret_cast<void*>(first_page), end - first_page);
  }
  committed_ -= end - first_page;
  guard_pages_ += (end - first_page) >> kPageShift;
  live_bytes_ -= static_cast<int64_t>(size);
  --live_objects_;
  // Not reused at once: a stale pointer keeps meeting guard pages.
  large_quarantine_.emplace_back(g, granules);
  while (large_quarantine_.size() > hard_.large_quarantine) {
    free_spans_.push_back(large_quarantine_.front());
    large_quarantine_.pop_front();
  }
  return ViolationKind::kNone;
}

}  // namespace internal
}  // namespace sealpool
