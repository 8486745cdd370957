// sealpool — the pool: registry, spans, refill/flush and large objects.
//
// PoolImpl objects are type-stable: the one for pool id i is created the
// first time id i is used and is never freed, only reinitialized when id i
// is reused. Lock-free readers (the page-table query, free's fast path)
// may therefore dereference a PoolImpl reached through a stale id without
// faulting; they validate what they read with the pool's cache_key.
//
// Locking: registry mutex -> pool mutex -> arena granule mutex, never the
// other way round, and never two pool mutexes at once (except the fork
// handlers, which take all in id order).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_POOL_IMPL_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_POOL_IMPL_H_

#include <sys/single_threaded.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/hardening.h"
#include "allocator/internal/mutex.h"
#include "allocator/internal/outcome.h"
#include "allocator/internal/arena.h"
#include "allocator/internal/report.h"
#include "allocator/internal/size_class.h"
#include "allocator/internal/slot.h"
#include "allocator/internal/thread_cache.h"
#include "allocator/inspect.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"

namespace sealpool {
namespace internal {

// Extents double from 4 MiB up to 1 GiB.
inline constexpr size_t kFirstExtentGranules = 64;
inline constexpr size_t kMaxExtentGranules = 16384;
// Empty small spans per pool and class that keep their pages (see
// SpanEmptied): one, so that a class whose use swings around a span
// boundary does not pay a system call per swing.
inline constexpr uint32_t kEmptySpansKept = 1;

// ScrubFreed() and the large-object canary check: no canary byte changed.
inline constexpr size_t kCanaryIntact = ~size_t{0};

// Why an allocation failed (the C API turns these into errno values).
enum class AllocError { kOk = 0, kInvalid, kNoMemory, kDestroyed, kSealed };

// The largest alignment AllocateAligned() takes.
inline constexpr size_t kMaxObjectAlign = size_t{1} << 30;

class PoolImpl {
 public:
  // Registry. Create validates everything and never crashes on bad input.
  static OutcomeOr<Pool*> Create(absl::string_view name,
                                      const PoolOptions& options);
  static OutcomeOr<Pool*> Find(absl::string_view name);
  // Lock-free: the PoolImpl for `id` (live or not), or nullptr.
  static PoolImpl* ById(uint32_t id);
  static size_t LiveCount();
  // Live spans with pages moved in (MoveLarge), over all pools.
  static size_t MovedInSpans() { return all_moved_in_.load(std::memory_order_relaxed); }

  // Hot path: allocates `size` bytes; nullptr with *err set on failure.
  void* Allocate(size_t size, AllocError* err);
  // Frees `ptr`; returns kNone or (report mode) the violation. Hot path:
  // a small object into this thread's cache; everything else goes to
  // FreeSlow().
  static ViolationKind Free(void* ptr);
  // Allocates `size` bytes aligned to `align` (a power of two up to
  // kMaxObjectAlign; anything else is kInvalid).
  void* AllocateAligned(size_t size, size_t align, AllocError* err);
  // calloc: n * size bytes, zeroed; kNoMemory when the product overflows.
  void* AllocateZeroed(size_t n, size_t size, AllocError* err);
  // realloc (see Pool::Reallocate): `pool` may be nullptr when `ptr` is
  // not; a bad `ptr` or a `pool` that does not own it is reported (the
  // object is left as it was) and gives nullptr with kInvalid; a sealed
  // object gives kSealed.
  static void* Reallocate(PoolImpl* pool, void* ptr, size_t size,
                          AllocError* err);

  Outcome Destroy();

  // Makes every object allocated so far read-only (see Pool::Seal).
  Outcome Seal();
  // Changes sealed bytes of a write-rare pool through a short-lived alias.
  static Outcome WriteRare(void* dst, const void* src, size_t n);
  // Whole-program mode's heap pools (allocator/malloc/): Seal and Destroy
  // refuse them, since every part of the program allocates from them.
  void MarkHeap() { heap_.store(true, std::memory_order_release); }
  bool heap() const { return heap_.load(std::memory_order_acquire); }
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref();

  PoolStats Stats() const;
  // Every pool that is live (or destroyed but still referenced), each with
  // a new reference the caller drops with Unref(); in id order.
  static std::vector<PoolImpl*> RefAllLive();
  // The pool's stats and spans, in address order (allocator/inspect.h).
  void View(PoolView* out) const;

  Pool* handle() { return &handle_; }
  uint32_t id() const { return id_; }
  const char* name() const { return name_; }
  const PoolOptions& options() const { return opts_; }
  uint64_t cache_key() const {
    return cache_key_.load(std::memory_order_acquire);
  }
  bool live() const { return state_.load(std::memory_order_acquire) == kLive; }

  // Called by thread caches (pool mutex taken inside).
  bool RegisterCache(PoolCache* pc);
  void EvictCache(PoolCache* pc);
  // Fork handlers.
  static void LockAllForFork();
  static void UnlockAllAfterFork();
  static void UnlockAllAfterForkInChild();

 private:
  enum State : uint8_t { kFree = 0, kLive = 1 };
  struct Extent {
    size_t first;          // granule index
    size_t count;          // granules reserved
    size_t used;           // granules carved, from the start
    size_t sealed;         // granules sealed read-only, from the start
    // Permanent shared-memory write-rare pools: an unsealed PROT_NONE
    // duplicate of the extent, at a random address, that write-rare
    // aliases are made from (mremap refuses to duplicate mseal()ed
    // memory); 0 if none.
    uintptr_t alias_source;
  };

  explicit PoolImpl(uint32_t id);

  // `align`: a power of two, at least the pool's alignment.
  void* AllocateSlow(size_t size, size_t align, AllocError* err);
  // `phase`: where in its first page the object must start (for a page
  // move, see MoveLarge), or kAnyPhase.
  static constexpr uintptr_t kAnyPhase = ~uintptr_t{0};
  void* AllocateLarge(size_t size, size_t align, AllocError* err,
                      uintptr_t phase = kAnyPhase);
  void* AllocateZero(size_t align, AllocError* err);
  // Resizes the live, unsealed object `b` of this pool to `size` < b.size
  // bytes in place (a shrink that must not fail); false if the object
  // changed meanwhile (a racing free).
  // `fresh`: a large object that was never written (only its canaries
  // need clearing).
  bool ShrinkInPlace(const ObjectBounds& b, size_t size, bool fresh = false);
  // Grows the live large object `b` to `size` into the room before its
  // trailing guard page; false (nothing changed) when there is not enough,
  // or the object changed meanwhile or overflowed its end.
  bool GrowLarge(const ObjectBounds& b, size_t size);
  // realloc's growth of the live large object `b` to `size` bytes that
  // does not fit in place: a new span with room for `room` more bytes, into
  // which the object's pages are moved (MovePages) rather than copied, and
  // the old span freed. nullptr (nothing changed) when the object is too
  // small for a move to pay, this pool's memory cannot be moved (shared,
  // keyed or permanent pools), its canaries are not intact (the copying
  // path's free reports that), or there is no memory; the caller copies.
  // The new span's object pages are one mapping (MovePages), so that the
  // next move of the object moves one mapping too.
  void* MoveLarge(const ObjectBounds& b, size_t size, size_t room);
  bool PagesMayMoveLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A span with pages moved in was freed (or its pool released).
  void ForgetMovedIn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetAllMovedIn() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether both canaries of the large object `b` (span `rec`) are intact.
  bool LargeCanariesIntactLocked(const SpanRecord* rec, const ObjectBounds& b)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the large object `b`'s tail canary is unchanged (true without
  // canaries).
  bool LargeTailIntact(const ObjectBounds& b);
  // Resizes the live small object `b` to `size` (either way) within its
  // slot when `size` needs the slot's class; false (nothing changed) when
  // it does not, or the object changed meanwhile or overflowed its end.
  bool ResizeSmallInPlace(const ObjectBounds& b, size_t size);
  bool ResizableLocked(const SpanRecord* rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ShrinkSmall(SpanRecord* rec, const ObjectBounds& b, size_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ShrinkLarge(SpanRecord* rec, const ObjectBounds& b, size_t size,
                   bool fresh) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands out the cache entry `e` of class `cls` for an object of `size`
  // bytes: the write-after-free check, the canary, the slot state. False
  // when the slot was written while free: the caller ends its fast path,
  // then reports (ReportWriteAfterFree abandons the slot).
  bool HandOut(const Hardening& hard, const CacheEntry& e, int cls, size_t size);
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void ReportWriteAfterFree(
      uintptr_t slot, size_t slot_size);
  // Scrubs the slot at `a` (object of `size` bytes in a `slot_size` slot)
  // that the caller just turned kCached: checks the canary, zeroes the
  // slot (the caller then poisons it in ASan builds). Returns the offset of the first overwritten canary byte, or
  // kCanaryIntact; the caller reports (outside any lock or fast path).
  static size_t ScrubFreed(const Hardening& hard, uintptr_t a, uint32_t size,
                           uint32_t slot_size);
  // Reports a heap-overflow: `bad` is the first overwritten canary byte.
  ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD ViolationKind ReportOverflow(
      uintptr_t object, size_t size, uintptr_t bad);
  bool Refill(PoolCache* pc, int cls, AllocError* err)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  SpanRecord* NewSmallSpan(int cls, AllocError* err)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Granules for a new span. *guarded: they are a freed span's, still
  // guard pages end to end (the caller opens the pages it needs with
  // OpenPages); else plain committed memory (the caller installs guards).
  bool CarveGranules(size_t count, size_t* first, bool* guarded, AllocError* err)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool OpenPages(uintptr_t addr, size_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CommitRange(const Extent& e, size_t first, size_t count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Backs the new extent `*e` (granules reserved, none mapped yet) and
  // commits its first e->used granules; false (nothing left mapped) on
  // failure.
  bool MapNewExtent(Extent* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SealSpans(size_t first, size_t count) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The seal and release side of the fast-path handshake; call after
  // InvalidateCaches().
  void WaitForFastPaths() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ProtectSealedMetadata(size_t first, size_t old_sealed, size_t new_sealed,
                             bool protect_slack, bool permanent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnprotectSealedMetadata() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new cache key, and every registered thread cache marked stale.
  void InvalidateCaches() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Live small objects and their bytes, from the spans' slot states.
  void CountSmallLive(size_t* objects, size_t* bytes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForkChildDropSharedMemory() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReturnSlot(SpanRecord* rec, void* slack)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushLocked(PoolCache* pc) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PushPartial(SpanRecord* rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A small span's last slot came back (SpanEmptied) or its first slot is
  // being taken (LeaveEmpty): the empty-span count, and beyond
  // kEmptySpansKept per class the span's data pages go back to the kernel
  // (they read zero when next touched, as a freed slot must).
  void SpanEmptied(SpanRecord* rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LeaveEmpty(SpanRecord* rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnlinkPartial(SpanRecord* rec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static PoolImpl* VerifiedOwner(const SpanRecord* rec, uintptr_t a);
  static ViolationKind FreeSlow(void* ptr);
  static ViolationKind FreeSmallSlow(uintptr_t a, SpanRecord* rec);
  static ViolationKind FreeLarge(uintptr_t a, SpanRecord* rec);
  // FreeLarge's work on this pool's span `rec`, the caller reporting: kNone,
  // or the kind of bad free (nothing changed). *overflow: the first
  // overwritten canary byte, if any. `moved`: the object's pages were moved
  // away (MoveLarge), so its canaries, checked before the move, are not
  // there to check.
  ViolationKind ReleaseLargeLocked(SpanRecord* rec, uintptr_t a, bool moved,
                                   uintptr_t* overflow) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Large-object canaries: the head gap's last bytes and the tail gap.
  void WriteLargeCanaries(uintptr_t first_page, uintptr_t base, size_t size,
                          uintptr_t end);
  void Release();

  Pool handle_;
  const uint32_t id_;
  // Changes whenever thread caches of this pool must be dropped.
  std::atomic<uint64_t> cache_key_{0};
  std::atomic<uint8_t> state_{kFree};
  std::atomic<bool> destroyed_{false};
  std::atomic<bool> heap_{false};
  std::atomic<int> refs_{0};
  char name_[kMaxPoolNameLength + 1] = {};
  PoolOptions opts_;
  bool simple_ = true;  // align <= 16 and no redzones: table class lookup
  size_t redzone_ = 0;
  Hardening hard_;
  // Bytes a slot keeps after the object for its canary (hard_.canaries),
  // and the largest size the fast path takes (kMaxSmallSize - room; 0 when
  // the pool is not simple_, whose sizes need ClassFor()).
  size_t room_ = 0;
  size_t fast_max_ = kMaxSmallSize;
  // Slots dropped because they were written while free (lock-free adds).
  std::atomic<size_t> waf_abandoned_bytes_{0};

  mutable Mutex mu_;
  std::vector<Extent> extents_ ABSL_GUARDED_BY(mu_);
  // Freed large spans (first granule, count), reused first-fit once they
  // leave the quarantine (oldest first, at most hard_.large_quarantine).
  std::vector<std::pair<size_t, size_t>> free_spans_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<size_t, size_t>> large_quarantine_ ABSL_GUARDED_BY(mu_);
  // Partial spans per class, kZeroClass included: granule + 1.
  uint32_t partial_[kNumClasses + 1] ABSL_GUARDED_BY(mu_) = {};
  // Spans per class whose every slot is free and whose data pages are still
  // committed (at most kEmptySpansKept; SpanEmptied gives the pages of any
  // more back to the kernel).
  uint32_t empty_spans_[kNumClasses + 1] ABSL_GUARDED_BY(mu_) = {};
  PoolCache* caches_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t next_extent_granules_ ABSL_GUARDED_BY(mu_) = 0;
  size_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  size_t small_spans_ ABSL_GUARDED_BY(mu_) = 0;
  size_t large_spans_ ABSL_GUARDED_BY(mu_) = 0;
  size_t guard_pages_ ABSL_GUARDED_BY(mu_) = 0;
  size_t metadata_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Live large objects (small ones are counted from their slot states).
  int64_t live_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t live_objects_ ABSL_GUARDED_BY(mu_) = 0;
  // Sealing and write-rare.
  // Write-rare pools without a protection key: each extent is shared
  // memory from its own memfd, closed once mapped (no descriptor to the
  // pool's memory stays open); aliases are made with mremap. False in a
  // fork child, which does not get the pages.
  bool wr_shared_ ABSL_GUARDED_BY(mu_) = false;
  size_t seals_ ABSL_GUARDED_BY(mu_) = 0;
  size_t sealed_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t abandoned_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool permanent_enforced_ ABSL_GUARDED_BY(mu_) = false;
  // Live spans of this pool with pages moved in (MoveLarge), and of all
  // pools: each is two mappings more, so moves stop at kMaxMovedIn and
  // objects are copied instead.
  size_t moved_in_ ABSL_GUARDED_BY(mu_) = 0;
  static std::atomic<size_t> all_moved_in_;
  // Set in fork children (see UnlockAllAfterForkInChild): no page moves.
  static std::atomic<bool> page_moves_off_;
  // Some guard of this pool is a PROT_NONE page (no guard markers here).
  bool prot_none_guards_ ABSL_GUARDED_BY(mu_) = false;
  size_t write_rares_ ABSL_GUARDED_BY(mu_) = 0;
  // kPoolWriteRareKey pools on a CPU with keys: the protection key.
  int wr_key_ ABSL_GUARDED_BY(mu_) = -1;
  // Sealing made metadata read-only (and the bytes it covers).
  size_t sealed_metadata_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

// A fresh cache key (see PoolImpl::cache_key()); never repeats.
uint64_t NewCacheKey();

// Reports a violation involving pool `pool_id` (0 = none), naming the pool
// when it is live; returns what ReportViolation() returns.
ViolationKind ReportPoolViolation(ViolationKind kind, uint32_t pool_id,
                                  uintptr_t addr, uintptr_t object,
                                  size_t object_size, const char* detail);

// Corrupt metadata is never worked around: it is reported (so that the
// handler and the JSON log see it) and then aborts, in every mode.
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void ReportCorruption(
    const SpanRecord* rec, const char* what);

// Test hook (internal/testing.h): `fn(arg)` runs on the writing thread
// inside every write-rare window; nullptr removes it.
void SetWriteRareWindowHook(void (*fn)(void*), void* arg);

// The fast-path side of the seal handshake. A fast path marks its cache
// busy, then checks its stale flag, then may write a slack entry; Seal
// marks every cache of the pool stale, then runs a process-wide barrier
// (membarrier), then waits for every cache of the pool to be idle. The
// barrier orders the busy store before the flag load on the fast path's
// CPU, so either Seal sees the cache busy and waits for the write, or the
// fast path sees the flag and takes the slow path: no slack write lands
// after the slack pages turn read-only. The fast path pays two plain
// stores. Release (the pool's memory goes back to the arena) waits the
// same way before it touches any page. Where the kernel has no membarrier,
// both sides fence instead (g_arena.fence_fast_paths).
inline void BeginFastPath(PoolCache* pc) {
  pc->busy.store(1, std::memory_order_relaxed);
  if (ABSL_PREDICT_FALSE(g_arena.fence_fast_paths)) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}
inline void EndFastPath(PoolCache* pc) {
  pc->busy.store(0, std::memory_order_release);
}

// Hot path of PoolImpl::Allocate: a (random) pop from the thread's cache.
inline void* PoolImpl::Allocate(size_t size, AllocError* err) {
  // size - 1 wraps for size 0: zero-size objects take the slow path.
  if (ABSL_PREDICT_TRUE(size - 1 < fast_max_)) {
    PoolCache* pc = tls_cache.slot[id_ & (kCacheSlots - 1)];
    if (ABSL_PREDICT_TRUE(pc != nullptr && pc->pool == this)) {
      BeginFastPath(pc);
      const int cls = ClassForRequest(size, room_);
      ClassCache* cc = pc->cls[cls];
      if (ABSL_PREDICT_TRUE(pc->stale.load(std::memory_order_relaxed) == 0 &&
                            cc != nullptr && cc->count > 0)) {
        const uint32_t i = pc->hard.random_reuse
                               ? RandomBelow(&tls_cache.rng, cc->count)
                               : cc->count - 1;
        const CacheEntry e = cc->e()[i];
        cc->e()[i] = cc->e()[--cc->count];
        if (ABSL_PREDICT_TRUE(HandOut(pc->hard, e, cls, size))) {
          EndFastPath(pc);
          return reinterpret_cast<void*>(e.ptr);
        }
        // Reported outside the fast path: a handler may take locks.
        EndFastPath(pc);
        ReportWriteAfterFree(e.ptr, kClassSize[cls]);
        return AllocateSlow(size, opts_.align, err);
      }
      EndFastPath(pc);
    }
  }
  return AllocateSlow(size, opts_.align, err);
}

// Hot path of PoolImpl::Free: everything comes from the page-table entry
// and the per-class table, so the span record is read for its sealed flag
// only (its canary is checked on the slow paths, which trust its fields).
inline ViolationKind PoolImpl::Free(void* ptr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  const uintptr_t rel = a - g_arena.data_base;
  // data_size is 0 until the arena exists: then every pointer goes slow.
  if (ABSL_PREDICT_TRUE(rel < g_arena.data_size.load(std::memory_order_acquire))) {
    const uint64_t e = g_arena.table[rel >> kPageShift].load(std::memory_order_acquire);
    const uint32_t pool_id = EntryPool(e);
    PoolCache* pc = tls_cache.slot[pool_id & (kCacheSlots - 1)];
    if (ABSL_PREDICT_TRUE(EntryKindOf(e) == EntryKind::kSmall && pc != nullptr &&
                          pc->pool_id == pool_id)) {
      const int cls = EntryClass(e);
      const ClassInfo& ci = kClassInfo.c[cls];
      const SmallSlotPosition pos = SmallSlotAt(e, rel);
      const size_t g = pos.granule;
      const uint64_t idx = pos.index;
      if (ABSL_PREDICT_TRUE(idx < ci.slots && idx * ci.size == pos.offset)) {
        BeginFastPath(pc);
        // kZeroClass has no class cache: zero-size objects go slow.
        ClassCache* cc = pc->cls[cls];
        if (ABSL_PREDICT_TRUE(
                pc->stale.load(std::memory_order_relaxed) == 0 &&
                cc != nullptr && cc->count < ci.cache_cap &&
                RecordAt(g)->sealed.load(std::memory_order_relaxed) == 0)) {
          const bool wide = IsWide(cls);
          void* s = SlackEntry(g, wide, idx);
          const uint32_t cached = CachedMark(wide);
          const uint32_t old = LoadSlack(s, wide);
          // The live -> cached transition is a compare-and-swap: of two
          // frees of one object, racing or not, exactly one wins; the other
          // goes to the slow path and is reported there. atomic_free=0: a
          // plain load and store (a double free racing itself on two threads
          // in the same instant can slip by). While the process has one
          // thread there is nobody to race, and the plain pair does what the
          // locked instruction would, without its drain of the store buffer:
          // glibc clears __libc_single_threaded before it starts a second
          // thread, never after, so no free in flight sees it set wrongly.
          // (Of all the cycles of a single-threaded free, the CAS took a
          // fifth.) Threads glibc does not know of (a raw clone with
          // CLONE_VM, a thread of another link namespace's libc) leave the
          // flag set; glibc's own malloc then skips its arena locks too.
          // A live slot's entry is at most its size; anything else (a
          // corrupt entry) goes to the slow path, which reports it.
          bool won = old < cached && old <= ci.size;
          if (__libc_single_threaded != 0 || ABSL_PREDICT_FALSE(!pc->hard.atomic_free)) {
            if (won) StoreSlack(s, wide, cached);
          } else {
            won = won && CasSlack(s, wide, old, cached);
          }
          if (ABSL_PREDICT_TRUE(won)) {
            const uint32_t size = ci.size - old;
            const size_t bad =
                pc->hard.any ? ScrubFreed(pc->hard, a, size, ci.size) : kCanaryIntact;
            AsanPoison(a, ci.size);
            cc->PushFreed(CacheEntry{a, s}, QuarantineLength(pc->hard, ci));
            EndFastPath(pc);
            if (ABSL_PREDICT_FALSE(bad != kCanaryIntact)) {
              return pc->pool->ReportOverflow(a, size, a + bad);
            }
            return ViolationKind::kNone;
          }
        }
        EndFastPath(pc);
      }
    }
  }
  return FreeSlow(ptr);
}

// Hot path: see the declaration.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool PoolImpl::HandOut(const Hardening& hard,
                                                           const CacheEntry& e,
                                                           int cls, size_t size) {
  const uint32_t slot_size = kClassSize[cls];
  const uint32_t slack = slot_size - static_cast<uint32_t>(size);
  if (hard.any) {
    if (hard.waf_check && ABSL_PREDICT_FALSE(!SlotIsZero(e.ptr, slot_size))) {
      return false;
    }
    if (hard.canaries) {
      WriteSlotCanary(e.ptr, size, slot_size, hard.canary_words, SlotCanary(e.ptr));
    }
  }
  StoreSlack(e.slack, IsWide(cls), slack);
  AsanObjectAllocated(e.ptr, size, slot_size);
  return true;
}

// Hot path: see the declaration.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t PoolImpl::ScrubFreed(
    const Hardening& hard, uintptr_t a, uint32_t size, uint32_t slot_size) {
  size_t bad = kCanaryIntact;
  if (hard.canaries) {
    const uint64_t k = SlotCanary(a);
    if (ABSL_PREDICT_FALSE(!SlotCanaryIntact(a, size, slot_size, hard.canary_words, k))) {
      bad = size + FirstCanaryMismatch(
                       a + size, SlotCanaryLength(slot_size - size, hard.canary_words), k);
    }
  }
  if (hard.zero_on_free) ZeroSlot(a, slot_size);
  return bad;
}

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_POOL_IMPL_H_
