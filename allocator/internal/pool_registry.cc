// sealpool — the pool registry: creation, lookup by name and id, destroy,
// reference counting and release; the fork handlers that hold every pool
// lock across fork().

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/slot.h"

#include <pthread.h>

#include <string>
#include <unordered_map>

#include "allocator/runtime_options.h"

namespace sealpool {
namespace internal {
namespace {


struct Registry {
  Mutex mu;
  // std::unordered_map, not absl::flat_hash_map: Abseil's hash tables
  // keep a local-exec TLS counter, which a shared object (whole-program
  // mode's libsealpool_malloc.so) cannot hold.
  std::unordered_map<std::string, PoolImpl*> by_name ABSL_GUARDED_BY(mu);
  uint32_t next_id ABSL_GUARDED_BY(mu) = 1;
  size_t live ABSL_GUARDED_BY(mu) = 0;
};

Registry& GetRegistry() {
  static Registry* r = new Registry();  // never destroyed
  return *r;
}

std::atomic<PoolImpl*> g_pools[kMaxPools + 1];
std::atomic<uint64_t> g_next_key{1};

uint64_t NewKey() { return g_next_key.fetch_add(1, std::memory_order_relaxed); }


bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxPoolNameLength) return false;
  for (char c : name) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool IsPowerOfTwo(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

void ForkPrepare() { PoolImpl::LockAllForFork(); }
void ForkParent() { PoolImpl::UnlockAllAfterFork(); }
void ForkChild() {
  PoolImpl::UnlockAllAfterForkInChild();
  ReseedThreadRandom();
}

}  // namespace

uint64_t NewCacheKey() { return NewKey(); }


// Reports a violation involving `pool_id` (may be 0).
ViolationKind ReportPoolViolation(ViolationKind kind, uint32_t pool_id, uintptr_t addr,
                     uintptr_t object, size_t object_size, const char* detail) {
  Violation v;
  v.kind = kind;
  v.pool_id = pool_id;
  if (PoolImpl* p = PoolImpl::ById(pool_id); p != nullptr && p->live()) {
    v.pool_name = p->name();
  }
  v.addr = addr;
  v.object_start = object;
  v.object_size = object_size;
  v.offset = object != 0 ? addr - object : 0;
  v.detail = detail;
  return ReportViolation(v, 1);
}

// Corrupt metadata is never worked around: it is reported (so that the
// handler and the JSON log see it) and then aborts, in every mode.
void ReportCorruption(const SpanRecord* rec,
                                                          const char* what) {
  ReportPoolViolation(ViolationKind::kMetadataCorruption,
         rec->pool_id.load(std::memory_order_relaxed),
         reinterpret_cast<uintptr_t>(rec), 0, 0, what);
  abort();
}

std::atomic<uint64_t> g_usercopy_window[kMaxPools + 1];

PoolImpl::PoolImpl(uint32_t id) : handle_(this), id_(id) {}

PoolImpl* PoolImpl::ById(uint32_t id) {
  if (id == 0 || id > kMaxPools) return nullptr;
  return g_pools[id].load(std::memory_order_acquire);
}

size_t PoolImpl::LiveCount() {
  Registry& r = GetRegistry();
  MutexLock l(&r.mu);
  return r.live;
}

OutcomeOr<Pool*> PoolImpl::Create(absl::string_view name,
                                       const PoolOptions& o) {
  if (!ValidName(name)) {
    return Outcome::InvalidArgument(
        "pool name must be 1 to 63 printable ASCII characters");
  }
  if (!IsPowerOfTwo(o.align) || o.align < kMinAlign || o.align > kMaxAlign) {
    return Outcome::InvalidArgument(absl::StrCat(
        "pool '", name, "': alignment ", o.align,
        " is not a power of two between 8 and 4096"));
  }
  if ((o.flags & ~kPoolAllFlags) != 0) {
    return Outcome::InvalidArgument(
        absl::StrCat("pool '", name, "': unknown flags ", o.flags));
  }
  if (o.usercopy_size == 0 && o.usercopy_offset != 0) {
    return Outcome::InvalidArgument(absl::StrCat(
        "pool '", name, "': usercopy_offset needs a usercopy_size"));
  }
  if (o.usercopy_offset > UINT32_MAX || o.usercopy_size > UINT32_MAX) {
    return Outcome::InvalidArgument(
        absl::StrCat("pool '", name, "': usercopy window out of range"));
  }
  if (!InitArena()) {
    return Outcome::ResourceExhausted(
        "cannot reserve the sealpool arena (mmap failed)");
  }
  static const int fork_handlers =
      pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  (void)fork_handlers;

  Registry& r = GetRegistry();
  MutexLock l(&r.mu);
  if (r.by_name.count(std::string(name)) != 0) {
    return Outcome::AlreadyExists(
        absl::StrCat("a pool named '", name, "' already exists"));
  }
  // Round-robin over ids, so that a just-released id is reused last.
  uint32_t id = 0;
  for (uint32_t i = 0; i < kMaxPools; ++i) {
    const uint32_t cand = (r.next_id + i - 1) % kMaxPools + 1;
    PoolImpl* p = g_pools[cand].load(std::memory_order_acquire);
    if (p == nullptr || p->state_.load(std::memory_order_acquire) == kFree) {
      id = cand;
      break;
    }
  }
  if (id == 0) {
    return Outcome::ResourceExhausted(
        absl::StrCat("too many live pools (", kMaxPools, ")"));
  }
  r.next_id = id % kMaxPools + 1;
  PoolImpl* p = g_pools[id].load(std::memory_order_acquire);
  if (p == nullptr) {
    p = new PoolImpl(id);
    g_pools[id].store(p, std::memory_order_release);
  }
  {
    MutexLock pl(&p->mu_);
    std::memset(p->name_, 0, sizeof(p->name_));
    std::memcpy(p->name_, name.data(), name.size());
    p->opts_ = o;
    p->redzone_ = (o.flags & kPoolRedzones) ? 16 : 0;
    p->simple_ = o.align <= 16 && p->redzone_ == 0;
    const RuntimeOptions& ro = GetRuntimeOptions();
    p->hard_.random_reuse = ro.random_reuse;
    p->hard_.atomic_free = ro.atomic_free;
    p->hard_.zero_on_free = ro.zero_on_free;
    p->hard_.waf_check = ro.write_after_free_check && ro.zero_on_free;
    p->hard_.canaries = ro.canaries;
    p->hard_.canary_words = p->redzone_ != 0 ? 2 : 1;
    p->hard_.any = p->hard_.zero_on_free || p->hard_.waf_check || p->hard_.canaries;
    p->hard_.quarantine = static_cast<uint32_t>(ro.quarantine);
    p->hard_.large_quarantine = static_cast<uint32_t>(ro.large_quarantine);
    p->room_ = ro.canaries ? 1 : 0;
    p->fast_max_ = p->simple_ ? kMaxSmallSize - p->room_ : 0;
    p->waf_abandoned_bytes_.store(0, std::memory_order_relaxed);
    p->extents_.clear();
    p->free_spans_.clear();
    p->large_quarantine_.clear();
    std::memset(p->partial_, 0, sizeof(p->partial_));
    std::memset(p->empty_spans_, 0, sizeof(p->empty_spans_));
    p->caches_ = nullptr;
    p->next_extent_granules_ = kFirstExtentGranules;
    p->committed_ = p->small_spans_ = p->large_spans_ = 0;
    p->guard_pages_ = p->metadata_bytes_ = 0;
    p->live_bytes_ = p->live_objects_ = 0;
    p->seals_ = p->sealed_bytes_ = p->abandoned_bytes_ = p->write_rares_ = 0;
    p->permanent_enforced_ = false;
    p->prot_none_guards_ = false;
    p->sealed_metadata_bytes_ = 0;
    p->wr_shared_ = false;
    p->wr_key_ = (o.flags & kPoolWriteRareKey) ? WriteRareKey() : -1;
    if (p->opts_.flags & kPoolWriteRareKey) p->opts_.flags |= kPoolWriteRare;
    if ((p->opts_.flags & kPoolWriteRare) && p->wr_key_ < 0) {
      // Each extent gets a memfd of its own, closed once mapped. A process
      // that cannot create one (a seccomp filter, no descriptors left) is
      // told here rather than at its first allocation.
      if (!CanCreateMemfd(absl::StrCat("sealpool:", name).c_str())) {
        return Outcome::ResourceExhausted(absl::StrCat(
            "pool '", name, "': cannot create the memfd behind write-rare memory"));
      }
      p->wr_shared_ = true;
    }
    p->destroyed_.store(false, std::memory_order_relaxed);
    p->heap_.store(false, std::memory_order_relaxed);
    p->refs_.store(1, std::memory_order_relaxed);
    p->cache_key_.store(NewKey(), std::memory_order_release);
    g_usercopy_window[id].store(
        (uint64_t{o.usercopy_offset} << 32) | o.usercopy_size,
        std::memory_order_release);
    ResetPoolViolationCount(id);
    p->state_.store(kLive, std::memory_order_release);
  }
  r.by_name.emplace(std::string(name), p);
  ++r.live;
  return &p->handle_;
}

OutcomeOr<Pool*> PoolImpl::Find(absl::string_view name) {
  Registry& r = GetRegistry();
  MutexLock l(&r.mu);
  auto it = r.by_name.find(std::string(name));
  if (it == r.by_name.end()) {
    return Outcome::NotFound(absl::StrCat("no live pool named '", name, "'"));
  }
  it->second->Ref();
  return &it->second->handle_;
}

Outcome PoolImpl::Destroy() {
  if (heap_.load(std::memory_order_acquire)) {
    return Outcome::PermissionDenied(absl::StrCat(
        "pool '", name_, "' is a malloc heap pool: it lives until the process exits"));
  }
  if (opts_.flags & kPoolPermanent) {
    return Outcome::PermissionDenied(absl::StrCat(
        "pool '", name_, "' is permanent: it lives until the process exits"));
  }
  {
    Registry& r = GetRegistry();
    MutexLock l(&r.mu);
    if (destroyed_.exchange(true, std::memory_order_acq_rel)) {
      return Outcome::FailedPrecondition(
          absl::StrCat("pool '", name_, "' was already destroyed"));
    }
    // The name is free for a new pool from now on.
    r.by_name.erase(std::string(name_));
  }
  {
    MutexLock pl(&mu_);
    InvalidateCaches();
  }
  Unref();
  return Outcome::Ok();
}

void PoolImpl::Unref() {
  const int prev = refs_.fetch_sub(1, std::memory_order_acq_rel);
  SEALPOOL_CHECK(prev > 0, "pool reference count underflow");
  // A permanent pool is never released: its memory may be mseal()ed.
  if (prev == 1 && (opts_.flags & kPoolPermanent) == 0) Release();
}

void PoolImpl::Release() {
  Registry& r = GetRegistry();
  MutexLock l(&r.mu);
  {
    MutexLock pl(&mu_);
    // A pool released without Destroy() (its creator dropped the last
    // reference through Unref) also gives up its name.
    auto it = r.by_name.find(std::string(name_));
    if (it != r.by_name.end() && it->second == this) r.by_name.erase(it);
    destroyed_.store(true, std::memory_order_release);
    // No fast path may still be zeroing or writing a slot of this pool when
    // its pages go back to the arena (they may be another pool's soon).
    InvalidateCaches();
    WaitForFastPaths();
    for (PoolCache* pc = caches_; pc != nullptr;) {
      PoolCache* next = pc->next;
      pc->orphaned = true;
      pc->prev = pc->next = nullptr;
      pc = next;
    }
    caches_ = nullptr;
    UnprotectSealedMetadata();
    std::vector<std::pair<size_t, size_t>> released;
    for (const Extent& e : extents_) {
      const uintptr_t start = GranuleAddress(e.first);
      const size_t bytes = e.count << kGranuleShift;
      // Readers first see "unused", then records and slack are cleared.
      SetPageEntries(start, bytes >> kPageShift, 0);
      for (size_t g = e.first; g < e.first + e.count; ++g) {
        SpanRecord* rec = RecordAt(g);
        rec->kind.store(0, std::memory_order_relaxed);
        rec->live.store(0, std::memory_order_relaxed);
        rec->sealed.store(0, std::memory_order_relaxed);
        rec->nslots.store(0, std::memory_order_relaxed);
        rec->pool_id.store(0, std::memory_order_relaxed);
        rec->canary.store(0, std::memory_order_relaxed);
      }
      DiscardPages(SlackPage(e.first), e.count * kPageSize);
      AsanUnpoison(start, e.used << kGranuleShift);
      SEALPOOL_CHECK(DecommitPages(reinterpret_cast<void*>(start), bytes),
                     "cannot return pool memory to the arena");
      if (e.alias_source != 0) {
        UnmapAlias(reinterpret_cast<void*>(e.alias_source), bytes);
      }
      released.emplace_back(e.first, e.count);
    }
    // Not handed to the next pool at once: a stale pointer into this pool
    // keeps meeting unused arena memory for a while.
    ReleaseGranules(released,
                    static_cast<size_t>(GetRuntimeOptions().pool_quarantine));
    extents_.clear();
    free_spans_.clear();
    large_quarantine_.clear();
    wr_shared_ = false;
    // The extents were mapped anew: no span holds moved pages any more.
    ForgetAllMovedIn();
    state_.store(kFree, std::memory_order_release);
  }
  --r.live;
}

std::vector<PoolImpl*> PoolImpl::RefAllLive() {
  std::vector<PoolImpl*> out;
  Registry& r = GetRegistry();
  MutexLock l(&r.mu);  // Release() holds it while a pool turns kFree
  for (uint32_t id = 1; id <= kMaxPools; ++id) {
    PoolImpl* p = g_pools[id].load(std::memory_order_acquire);
    if (p == nullptr || p->state_.load(std::memory_order_acquire) != kLive) continue;
    p->Ref();
    out.push_back(p);
  }
  return out;
}

void PoolImpl::LockAllForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  GetRegistry().mu.Lock();
  for (uint32_t id = 1; id <= kMaxPools; ++id) {
    if (PoolImpl* p = g_pools[id].load(std::memory_order_acquire)) p->mu_.Lock();
  }
  LockGranulesForFork();
}

void PoolImpl::UnlockAllAfterForkInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // A fork child's mappings chain to its parent's: a fresh mapping does not
  // merge with them, so each page move would leave mappings behind for
  // good. Its large reallocs copy.
  page_moves_off_.store(true, std::memory_order_relaxed);
  for (uint32_t id = 1; id <= kMaxPools; ++id) {
    if (PoolImpl* p = g_pools[id].load(std::memory_order_acquire)) {
      p->ForkChildDropSharedMemory();
      // Threads that were inside a fast path at fork() do not exist in the
      // child: their caches must not keep a seal or release waiting.
      for (PoolCache* pc = p->caches_; pc != nullptr; pc = pc->next) {
        pc->busy.store(0, std::memory_order_relaxed);
      }
    }
  }
  UnlockAllAfterFork();
}

void PoolImpl::UnlockAllAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  UnlockGranulesAfterFork();
  for (uint32_t id = kMaxPools; id >= 1; --id) {
    if (PoolImpl* p = g_pools[id].load(std::memory_order_acquire)) p->mu_.Unlock();
  }
  GetRegistry().mu.Unlock();
}

}  // namespace internal
}  // namespace sealpool
