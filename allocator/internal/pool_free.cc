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

// ---------------------------------------------------------------------------
// Free.

ViolationKind PoolImpl::Free(void* ptr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  if (ABSL_PREDICT_FALSE(!InDataZone(a))) {
    if (ptr == nullptr) return ViolationKind::kNone;
    return ReportPoolViolation(ViolationKind::kInvalidFree, 0, a, 0, 0, "not a pool object");
  }
  // Hot path: a small object freed into this thread's cache.
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  const uint64_t span_granule = SpanGranule(e, a);
  SpanRecord* rec = RecordAt(span_granule);
  if (ABSL_PREDICT_TRUE(EntryKindOf(e) == EntryKind::kSmall)) {
    const uintptr_t base = rec->base.load(std::memory_order_relaxed);
    const uint64_t rel = a - base;
    const uint64_t idx = (rel * rec->mul.load(std::memory_order_relaxed)) >> kMulShift;
    const uint32_t slot_size = rec->slot_size.load(std::memory_order_relaxed);
    PoolCache* pc = tls_cache.slot[EntryPool(e) & (kCacheSlots - 1)];
    if (ABSL_PREDICT_TRUE(
            idx < rec->nslots.load(std::memory_order_relaxed) &&
            idx * slot_size == rel && CanaryOk(rec) && pc != nullptr &&
            pc->pool_id == EntryPool(e))) {
      BeginFastPath(pc);
      ClassCache* cc = pc->cls[rec->class_idx];
      if (ABSL_PREDICT_TRUE(
              pc->key == pc->pool->cache_key_.load(std::memory_order_relaxed) &&
              rec->sealed.load(std::memory_order_relaxed) == 0 &&
              cc != nullptr && cc->count < kCacheCap)) {
        const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
        void* s = SlackEntry(span_granule, wide, idx);
        const uint32_t old = LoadSlack(s, wide);
        // A plain load and store, not a locked exchange: only a double free
        // racing itself on two threads in the same instant could slip by
        // (glibc's tcache makes the same trade); the slow path uses CAS.
        if (ABSL_PREDICT_TRUE(old < CachedMark(wide))) {
          StoreSlack(s, wide, CachedMark(wide));
          AsanPoison(a, slot_size);
          cc->e[cc->count++] = CacheEntry{a, s};
          pc->AddLive(-static_cast<int64_t>(slot_size - old), -1);
          EndFastPath(pc);
          return ViolationKind::kNone;
        }
      }
      EndFastPath(pc);
    }
    return FreeSmallSlow(a, rec);
  }
  if (EntryKindOf(e) == EntryKind::kLarge) return FreeLarge(a, rec);
  const uint32_t pool_id = EntryPool(e);
  return ReportPoolViolation(ViolationKind::kInvalidFree, pool_id, a, 0, 0,
                EntryKindOf(e) == EntryKind::kGuard ? "guard page"
                                                    : "unused arena memory");
}

// The pool that owns span `rec`, after its canary and pool id verify
// (corruption aborts).
PoolImpl* PoolImpl::VerifiedOwner(const SpanRecord* rec) {
  if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
  PoolImpl* pool = ById(rec->pool_id.load(std::memory_order_relaxed));
  if (pool == nullptr) ReportCorruption(rec, "span record pool id");
  return pool;
}

ViolationKind PoolImpl::FreeSmallSlow(uintptr_t a, SpanRecord* rec) {
  const uint32_t pool_id = rec->pool_id.load(std::memory_order_relaxed);
  PoolImpl* pool = VerifiedOwner(rec);
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
  // takes allocations); else straight back to the span.
  PoolCache* pc = AcquirePoolCache(pool);
  ClassCache* cc = nullptr;
  if (pc != nullptr) {
    cc = pc->cls[rec->class_idx];
    if (cc == nullptr) cc = pc->cls[rec->class_idx] = new ClassCache();
  }
  ViolationKind bad = ViolationKind::kNone;
  const char* detail = nullptr;
  uint32_t old = 0;
  {
    MutexLock l(&pool->mu_);
    old = LoadSlack(s, wide);
    if (slot != a) {
      bad = ViolationKind::kInvalidFree;
      detail = "not the start of a live object";
    } else if (old >= CachedMark(wide)) {
      bad = ViolationKind::kDoubleFree;
    } else if (rec->sealed.load(std::memory_order_relaxed) != 0) {
      bad = ViolationKind::kSealedFree;
    } else if (!CasSlack(s, wide, old, CachedMark(wide))) {
      bad = ViolationKind::kDoubleFree;  // lost a race with another free
    } else if (cc != nullptr && pc->key == pool->cache_key_.load(
                                               std::memory_order_relaxed)) {
      if (cc->count == kCacheCap) {
        // Full: hand the older half back to the spans.
        for (uint32_t i = 0; i < kCacheCap / 2; ++i) {
          const CacheEntry& e = cc->e[i];
          pool->ReturnSlot(RecordAt(static_cast<size_t>(
                               static_cast<uint8_t*>(e.slack) - g_arena.slack) >>
                           kPageShift),
                           e.slack);
        }
        std::memmove(&cc->e[0], &cc->e[kCacheCap / 2],
                     (kCacheCap / 2) * sizeof(CacheEntry));
        cc->count = kCacheCap / 2;
      }
      cc->e[cc->count++] = CacheEntry{a, s};
      pc->AddLive(-static_cast<int64_t>(slot_size - old), -1);
      AsanPoison(a, slot_size);
    } else {
      AsanPoison(a, slot_size);
      pool->ReturnSlot(rec, s);
      pool->live_bytes_ -= slot_size - old;
      --pool->live_objects_;
    }
  }
  if (bad == ViolationKind::kNone) return bad;
  const bool live = old < CachedMark(wide);
  return ReportPoolViolation(bad, pool_id, a, slot, live ? slot_size - old : 0, detail);
}

}  // namespace internal
}  // namespace sealpool
