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

bool PoolImpl::ShrinkInPlace(const ObjectBounds& b, size_t size) {
  const uint64_t e =
      g_arena.table[PageIndex(b.start)].load(std::memory_order_acquire);
  const EntryKind kind = EntryKindOf(e);
  if (kind != EntryKind::kSmall && kind != EntryKind::kLarge) return false;
  SpanRecord* rec = RecordAt(SpanGranule(e, b.start));
  MutexLock l(&mu_);
  if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
  if (rec->pool_id.load(std::memory_order_relaxed) != id_ ||
      rec->sealed.load(std::memory_order_relaxed) != 0) {
    return false;
  }
  return kind == EntryKind::kSmall ? ShrinkSmall(rec, b, size)
                                   : ShrinkLarge(rec, b, size);
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
bool PoolImpl::ShrinkLarge(SpanRecord* rec, const ObjectBounds& b, size_t size) {
  if (rec->live.load(std::memory_order_relaxed) == 0 ||
      rec->base.load(std::memory_order_relaxed) != b.start ||
      rec->mul.load(std::memory_order_relaxed) != b.size) {
    return false;
  }
  const uintptr_t start = GranuleAddress(RecordGranule(rec));
  const uintptr_t end = start + (size_t{rec->large_granules} << kGranuleShift) - kPageSize;
  std::memset(reinterpret_cast<void*>(b.start + size), 0, b.size - size);
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

}  // namespace internal
}  // namespace sealpool
