// sealpool — what allocator hooks need beyond allocate and free: aligned
// allocation, and realloc with C's semantics (the block stays in its
// pool, a shrink never fails).

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/slot.h"

namespace sealpool {
namespace internal {
namespace {


}  // namespace

void* PoolImpl::AllocateAligned(size_t size, size_t align, AllocError* err) {
  if (align == 0 || (align & (align - 1)) != 0 || align > kMaxObjectAlign) {
    *err = AllocError::kInvalid;
    return nullptr;
  }
  // Every object is aligned to the pool's alignment, and at least 16.
  if (align <= opts_.align || align <= 16) return Allocate(size, err);
  return AllocateSlow(size, align, err);
}

void* PoolImpl::AllocateZeroed(size_t n, size_t size, AllocError* err) {
  size_t bytes = 0;
  if (__builtin_mul_overflow(n, size, &bytes)) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  void* p = Allocate(bytes, err);
  if (p == nullptr) return nullptr;
  // A small slot is known to be zero when freed slots are zeroed and the
  // hand-out checked that it still was. A large object's pages always are:
  // they were never mapped before, or a freed large object's pages were
  // emptied when they became guard pages (MADV_GUARD_INSTALL, or PROT_NONE
  // and MADV_DONTNEED), or a released pool's extent was mapped anew; small
  // spans never give their granules to large objects. So a large calloc
  // leaves its pages untouched until they are used.
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const EntryKind kind =
      EntryKindOf(g_arena.table[PageIndex(a)].load(std::memory_order_relaxed));
  const bool known_zero = kind == EntryKind::kLarge ||
                          (kind == EntryKind::kSmall && hard_.zero_on_free &&
                           hard_.waf_check);
  if (!known_zero) std::memset(p, 0, bytes);
  return p;
}

void* PoolImpl::Reallocate(PoolImpl* pool, void* ptr, size_t size,
                           AllocError* err) {
  if (ptr == nullptr) {
    if (pool == nullptr) {
      *err = AllocError::kInvalid;
      return nullptr;
    }
    return pool->Allocate(size, err);
  }
  ObjectBounds b;
  const Lookup hit = LookupObject(ptr, &b, kLookupSealed);
  if (hit != Lookup::kObject || b.start != reinterpret_cast<uintptr_t>(ptr)) {
    // Not the start of a live object: the free path tells which bad free
    // this is, reports it (abort mode aborts) and changes nothing.
    Free(ptr);
    *err = AllocError::kInvalid;
    return nullptr;
  }
  PoolImpl* owner = ById(b.pool_id);
  if (owner == nullptr || (pool != nullptr && pool != owner)) {
    ReportPoolViolation(ViolationKind::kInvalidFree, b.pool_id, b.start, b.start,
                        b.size, "realloc through a pool that does not own the object");
    *err = AllocError::kInvalid;
    return nullptr;
  }
  if (b.sealed) {
    Free(ptr);  // reports the sealed free; the object stays
    *err = AllocError::kSealed;
    return nullptr;
  }
  if (size == b.size && size != 0) return ptr;
  if (owner->ResizeSmallInPlace(b, size)) return ptr;
  // A large block that stays large shrinks in place (its given-up pages
  // go back to the system): no copy, no new span.
  if (size < b.size && size > kMaxSmallSize && owner->LargeTailIntact(b) &&
      owner->ShrinkInPlace(b, size)) {
    return ptr;
  }
  if (size > b.size && size > kMaxSmallSize) {
    if (owner->GrowLarge(b, size)) return ptr;
    // A large block that grows by realloc is likely to grow again: it gets
    // a quarter more room to grow into in place (GrowLarge). The room is
    // address space and untouched pages: it costs no memory until used.
    const size_t room = size / 4;
    // A big object's pages move instead (pool_large_move.cc).
    if (void* moved = owner->MoveLarge(b, size, room)) return moved;
    AllocError e = AllocError::kOk;
    void* q = size + room > size ? owner->Allocate(size + room, &e) : nullptr;
    if (q != nullptr) {
      ObjectBounds nb;
      nb.start = reinterpret_cast<uintptr_t>(q);
      nb.size = size + room;
      if (owner->ShrinkInPlace(nb, size, /*fresh=*/true)) {
        std::memcpy(q, ptr, b.size);
        Free(ptr);
        return q;
      }
      Free(q);
    }
  }
  AllocError fresh = AllocError::kOk;
  void* q = owner->Allocate(size, &fresh);
  if (q != nullptr) {
    std::memcpy(q, ptr, size < b.size ? size : b.size);
    // An overflow of the old block is reported here, as by any free.
    Free(ptr);
    return q;
  }
  if (size != 0 && size < b.size && owner->ShrinkInPlace(b, size)) return ptr;
  *err = fresh;
  return nullptr;
}

// Whether the span of `rec` is this pool's and unsealed (a corrupt record
// is reported, and aborts).
bool PoolImpl::ResizableLocked(const SpanRecord* rec) {
  if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
  return rec->pool_id.load(std::memory_order_relaxed) == id_ &&
         rec->sealed.load(std::memory_order_relaxed) == 0;
}

// A small object whose new size needs its own slot's class keeps the slot:
// nothing is copied, no slot changes hands. The old end's canary is checked
// first (an overflowed object goes the copying way, whose free reports
// it); a growth zeroes the bytes the object gains (they held the canary)
// and writes the canary at the new end.
bool PoolImpl::ResizeSmallInPlace(const ObjectBounds& b, size_t size) {
  if (!simple_ || size == 0 || size > fast_max_) return false;
  const uint64_t e =
      g_arena.table[PageIndex(b.start)].load(std::memory_order_acquire);
  if (EntryKindOf(e) != EntryKind::kSmall ||
      ClassForRequest(size, room_) != EntryClass(e)) {
    return false;
  }
  SpanRecord* rec = RecordAt(SpanGranule(e, b.start));
  MutexLock l(&mu_);
  if (!ResizableLocked(rec)) return false;
  const uint32_t slot_size = rec->slot_size.load(std::memory_order_relaxed);
  const uint64_t key = SlotCanary(b.start);
  // An overflowed object is not resized in place, either way (that would
  // erase the evidence): the copying path's free reports it.
  if (hard_.canaries &&
      !SlotCanaryIntact(b.start, b.size, slot_size, hard_.canary_words, key)) {
    return false;
  }
  if (size < b.size) return ShrinkSmall(rec, b, size);
  // A destroyed pool takes no new bytes, in place or not.
  if (destroyed_.load(std::memory_order_relaxed)) return false;
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
  const uint64_t idx = (b.start - base) / slot_size;
  if (base + idx * slot_size != b.start || size > slot_size) return false;
  void* s = SlackEntry(RecordGranule(rec), wide, idx);
  const uint32_t old = slot_size - static_cast<uint32_t>(b.size);
  const uint32_t slack = slot_size - static_cast<uint32_t>(size);
  if (!CasSlack(s, wide, old, slack)) return false;  // freed meanwhile
  ZeroPastEnd(b.start + b.size, size - b.size);
  if (hard_.canaries) {
    WriteCanary(b.start + size, SlotCanaryLength(slack, hard_.canary_words), key);
  }
  AsanObjectAllocated(b.start, size, slot_size);
  return true;
}

bool PoolImpl::ShrinkInPlace(const ObjectBounds& b, size_t size, bool fresh) {
  const uint64_t e =
      g_arena.table[PageIndex(b.start)].load(std::memory_order_acquire);
  const EntryKind kind = EntryKindOf(e);
  if (kind != EntryKind::kSmall && kind != EntryKind::kLarge) return false;
  SpanRecord* rec = RecordAt(SpanGranule(e, b.start));
  MutexLock l(&mu_);
  if (!ResizableLocked(rec)) return false;
  return kind == EntryKind::kSmall ? ShrinkSmall(rec, b, size)
                                   : ShrinkLarge(rec, b, size, fresh);
}

// The slot keeps its class; its entry records the larger slack and the
// canary moves to the new end. The bytes given up are zeroed.
bool PoolImpl::ShrinkSmall(SpanRecord* rec, const ObjectBounds& b, size_t size) {
  if (rec->class_idx == kZeroClass) return false;
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  const uint32_t slot_size = rec->slot_size.load(std::memory_order_relaxed);
  const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
  const uint64_t idx = (b.start - base) / slot_size;
  if (base + idx * slot_size != b.start) return false;
  void* s = SlackEntry(RecordGranule(rec), wide, idx);
  const uint32_t old = slot_size - static_cast<uint32_t>(b.size);
  const uint32_t slack = slot_size - static_cast<uint32_t>(size);
  // The entry first: a free racing the resize (a host bug) then either
  // wins, and the slot is not touched here, or loses to the new size. The
  // bytes given up are still the caller's until the call returns.
  if (!CasSlack(s, wide, old, slack)) return false;  // freed meanwhile
  std::memset(reinterpret_cast<void*>(b.start + size), 0, b.size - size);
  if (hard_.canaries) {
    WriteCanary(b.start + size, SlotCanaryLength(slack, hard_.canary_words),
                SlotCanary(b.start));
  }
  AsanObjectAllocated(b.start, size, slot_size);
  return true;
}

// The span keeps its pages; its record gets the new size (and a new
// canary), and the tail canary moves to the new end. The object is then
// no longer end-aligned against its guard page: the bytes between it and
// the guard are zero, and a copy past its end is refused as for any
// object.
bool PoolImpl::ShrinkLarge(SpanRecord* rec, const ObjectBounds& b, size_t size,
                           bool fresh) {
  if (rec->live.load(std::memory_order_relaxed) == 0 ||
      rec->base.load(std::memory_order_relaxed) != b.start ||
      rec->mul.load(std::memory_order_relaxed) != b.size) {
    return false;
  }
  const uintptr_t end = LargeSpanEnd(rec);
  if (fresh) {
    // Only the canary at the old end was ever written.
    ZeroPastEnd(b.start + b.size, CanaryLength(end - (b.start + b.size)));
  } else {
    // The canary after the old end goes too: a later growth into the room
    // must not hand its bytes (keyed) to the program.
    ZeroPastEnd(b.start + b.size, CanaryLength(end - (b.start + b.size)));
    // Whole pages given up are discarded (zero again, and no longer
    // resident) rather than written; private memory only: a shared-memory
    // (write-rare) pool's pages would keep their bytes.
    uintptr_t zero_end = b.start + b.size;
    const uintptr_t first = RoundUp(b.start + size, kPageSize);
    const uintptr_t last = (b.start + b.size) & ~(kPageSize - 1);
    if (!wr_shared_ && last > first) {
      DiscardPages(reinterpret_cast<void*>(first), last - first);
      std::memset(reinterpret_cast<void*>(last), 0, b.start + b.size - last);
      zero_end = first;
    }
    std::memset(reinterpret_cast<void*>(b.start + size), 0, zero_end - (b.start + size));
  }
  if (hard_.canaries) {
    WriteCanary(b.start + size, CanaryLength(end - (b.start + size)),
                SlotCanary(b.start));
  }
  AsanPoison(b.start + size, b.size - size);
  rec->mul.store(size, std::memory_order_release);
  SealCanary(rec);
  live_bytes_ -= static_cast<int64_t>(b.size - size);
  return true;
}

bool PoolImpl::LargeTailIntact(const ObjectBounds& b) {
  if (!hard_.canaries) return true;
  const SpanRecord* rec = LargeRecordAt(b.start);
  if (rec == nullptr) return false;
  MutexLock l(&mu_);
  if (!ResizableLocked(rec)) return false;
  const uintptr_t end = LargeSpanEnd(rec);
  return CanaryIntact(b.start + b.size, CanaryLength(end - (b.start + b.size)),
                      SlotCanary(b.start));
}

// The mirror of ShrinkLarge: an object with room between its end and the
// trailing guard page (one that was shrunk, or placed with room to grow by
// Reallocate) grows into it. The old end's canary must be intact (an
// overflowed object takes the copying path, whose free reports it); its
// bytes become the object's, zeroed; the canary moves to the new end.
bool PoolImpl::GrowLarge(const ObjectBounds& b, size_t size) {
  SpanRecord* rec = LargeRecordAt(b.start);
  if (rec == nullptr) return false;
  MutexLock l(&mu_);
  if (!ResizableLocked(rec) || destroyed_.load(std::memory_order_relaxed) ||
      rec->live.load(std::memory_order_relaxed) == 0 ||
      rec->base.load(std::memory_order_relaxed) != b.start ||
      rec->mul.load(std::memory_order_relaxed) != b.size) {
    return false;
  }
  const uintptr_t end = LargeSpanEnd(rec);
  if (size <= b.size || size > end - b.start) return false;
  const uint64_t k = SlotCanary(b.start);
  const size_t old_tail = CanaryLength(end - (b.start + b.size));
  if (hard_.canaries) {
    if (!CanaryIntact(b.start + b.size, old_tail, k)) return false;
    ZeroPastEnd(b.start + b.size, old_tail);
    WriteCanary(b.start + size, CanaryLength(end - (b.start + size)), k);
  }
  AsanUnpoison(b.start + b.size, size - b.size);
  rec->mul.store(size, std::memory_order_release);
  SealCanary(rec);
  live_bytes_ += static_cast<int64_t>(size - b.size);
  return true;
}

}  // namespace internal
}  // namespace sealpool
