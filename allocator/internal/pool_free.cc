// sealpool — free: the thread-cache fast path, and the slow path that
// detects double, invalid and sealed frees.

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

// Everything but the fast path of Free(): large objects, zero-size
// objects, frees from threads without a valid cache for the pool, and
// every kind of bad free.
ViolationKind PoolImpl::FreeSlow(void* ptr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  if (ABSL_PREDICT_FALSE(!InDataZone(a))) {
    if (ptr == nullptr) return ViolationKind::kNone;
    return ReportPoolViolation(ViolationKind::kInvalidFree, 0, a, 0, 0,
                               "not a pool object");
  }
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  SpanRecord* rec = RecordAt(SpanGranule(e, a));
  if (EntryKindOf(e) == EntryKind::kSmall) return FreeSmallSlow(a, rec);
  if (EntryKindOf(e) == EntryKind::kLarge) return FreeLarge(a, rec);
  return ReportPoolViolation(ViolationKind::kInvalidFree, EntryPool(e), a, 0, 0,
                             EntryKindOf(e) == EntryKind::kGuard
                                 ? "guard page"
                                 : "unused arena memory");
}

// The pool that owns span `rec` (the span of address `a`), after its
// canary and pool id verify. A record is rewritten, under its new owner's
// mutex, when its granules are carved again; a free racing that (a stale
// pointer, freed once more) can read it half-written. So a record that
// does not verify is read again under the mutex of the pool the page table
// now names before it is called corrupt (which aborts).
PoolImpl* PoolImpl::VerifiedOwner(const SpanRecord* rec, uintptr_t a) {
  if (ABSL_PREDICT_TRUE(CanaryOk(rec))) {
    if (PoolImpl* pool = ById(rec->pool_id.load(std::memory_order_relaxed))) {
      return pool;
    }
  }
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  if (PoolImpl* owner = ById(EntryPool(e))) {
    MutexLock l(&owner->mu_);
    if (CanaryOk(rec)) {
      if (PoolImpl* pool = ById(rec->pool_id.load(std::memory_order_relaxed))) {
        return pool;
      }
    }
  }
  if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
  ReportCorruption(rec, "span record pool id");
}

ViolationKind PoolImpl::ReportOverflow(uintptr_t object, size_t size,
                                       uintptr_t bad) {
  Violation v;
  v.kind = ViolationKind::kHeapOverflow;
  v.pool_id = id_;
  v.pool_name = name_;
  v.addr = bad;
  v.object_start = object;
  v.object_size = size;
  // Below the object (a large object's head canary): the report prints a
  // negative offset from addr and object_start.
  v.offset = bad >= object ? bad - object : 0;
  v.detail = bad >= object ? "canary after the object overwritten"
                           : "canary before the object overwritten";
  return ReportViolation(v, 2);
}

void PoolImpl::ReportWriteAfterFree(uintptr_t slot, size_t slot_size) {
  const size_t off = FirstNonZero(slot, slot_size);
  Violation v;
  v.kind = ViolationKind::kWriteAfterFree;
  v.pool_id = id_;
  v.pool_name = name_;
  v.addr = slot + off;
  v.object_start = slot;
  v.object_size = slot_size;
  v.offset = off;
  v.detail = "freed slot no longer zero; the slot is abandoned";
  // The slot stays kCached and in no cache: it is never handed out again.
  waf_abandoned_bytes_.fetch_add(slot_size, std::memory_order_relaxed);
  ReportViolation(v, 3);
}

ViolationKind PoolImpl::FreeSmallSlow(uintptr_t a, SpanRecord* rec) {
  const uint32_t pool_id = rec->pool_id.load(std::memory_order_relaxed);
  PoolImpl* pool = VerifiedOwner(rec, a);
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  const uint32_t slot_size = rec->slot_size.load(std::memory_order_relaxed);
  const uint64_t idx = (a - base) / slot_size;
  const uintptr_t slot = base + idx * slot_size;
  if (idx >= rec->nslots.load(std::memory_order_relaxed)) {
    return ReportPoolViolation(ViolationKind::kInvalidFree, pool_id, a, 0, 0,
                  "past the last slot of its span");
  }
  const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
  void* s = SlackEntry(RecordGranule(rec), wide, idx);
  // Free into this thread's cache when it can have one (the pool still
  // takes allocations, the class is not the zero-size one); else straight
  // back to the span.
  const int cls = rec->class_idx;
  PoolCache* pc = AcquirePoolCache(pool);
  ClassCache* cc = nullptr;
  if (pc != nullptr && cls != kZeroClass) {
    cc = pc->cls[cls];
    if (cc == nullptr) cc = pc->cls[cls] = ClassCache::ForClass(cls, pool->hard_);
  }
  ViolationKind bad = ViolationKind::kNone;
  const char* detail = nullptr;
  uint32_t old = 0;
  size_t overflow = kCanaryIntact;
  {
    MutexLock l(&pool->mu_);
    old = LoadSlack(s, wide);
    if (old < CachedMark(wide) && old > slot_size) {
      ReportCorruption(rec, "slot entry larger than its slot");
    }
    if (slot != a) {
      bad = ViolationKind::kInvalidFree;
      detail = "not the start of a live object";
    } else if (old >= CachedMark(wide)) {
      bad = ViolationKind::kDoubleFree;
    } else if (rec->sealed.load(std::memory_order_relaxed) != 0) {
      bad = ViolationKind::kSealedFree;
    } else if (!CasSlack(s, wide, old, CachedMark(wide))) {
      bad = ViolationKind::kDoubleFree;  // lost a race with another free
    } else {
      // Under the mutex: a seal cannot turn the slot read-only meanwhile.
      if (cls != kZeroClass) {
        overflow = ScrubFreed(pool->hard_, a, slot_size - old, slot_size);
        AsanPoison(a, slot_size);
      }
      if (cc != nullptr && pc->stale.load(std::memory_order_relaxed) == 0) {
        const ClassInfo& ci = kClassInfo.c[cls];
        const uint32_t cap = ci.cache_cap;
        if (cc->count >= cap) {
          // Full: hand the older half back to the spans.
          const uint32_t half = cc->count / 2;
          for (uint32_t i = 0; i < half; ++i) {
            pool->ReturnSlot(RecordOfSlack(cc->e()[i].slack), cc->e()[i].slack);
          }
          std::memmove(&cc->e()[0], &cc->e()[half], (cc->count - half) * sizeof(CacheEntry));
          cc->count -= half;
        }
        cc->PushFreed(CacheEntry{a, s}, QuarantineLength(pool->hard_, ci));
      } else {
        pool->ReturnSlot(rec, s);
      }
    }
  }
  if (overflow != kCanaryIntact) {
    return pool->ReportOverflow(a, slot_size - old, a + overflow);
  }
  if (bad == ViolationKind::kNone) return bad;
  const bool live = old < CachedMark(wide);
  return ReportPoolViolation(bad, pool_id, a, slot, live ? slot_size - old : 0,
                             detail);
}

}  // namespace internal
}  // namespace sealpool
