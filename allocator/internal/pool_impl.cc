// sealpool — pools: registry, span carving, refill/flush, large objects,
// free with violation detection, release.

#include "allocator/internal/pool_impl.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"

namespace sealpool {
namespace internal {
namespace {

constexpr size_t kFirstExtentGranules = 64;      // 4 MiB
constexpr size_t kMaxExtentGranules = 16384;     // 1 GiB

struct Registry {
  Mutex mu;
  absl::flat_hash_map<std::string, PoolImpl*> by_name ABSL_GUARDED_BY(mu);
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

size_t RoundUp(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxPoolNameLength) return false;
  for (char c : name) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool IsPowerOfTwo(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Slack-entry access for narrow (uint8_t) and wide (uint16_t) spans.
inline uint32_t LoadSlack(const void* p, bool wide) {
  return wide ? __atomic_load_n(static_cast<const uint16_t*>(p), __ATOMIC_ACQUIRE)
              : __atomic_load_n(static_cast<const uint8_t*>(p), __ATOMIC_ACQUIRE);
}
inline void StoreSlack(void* p, bool wide, uint32_t v) {
  if (wide) {
    __atomic_store_n(static_cast<uint16_t*>(p), static_cast<uint16_t>(v),
                     __ATOMIC_RELEASE);
  } else {
    __atomic_store_n(static_cast<uint8_t*>(p), static_cast<uint8_t>(v),
                     __ATOMIC_RELEASE);
  }
}
inline bool CasSlack(void* p, bool wide, uint32_t expected, uint32_t desired) {
  if (wide) {
    uint16_t e = static_cast<uint16_t>(expected);
    return __atomic_compare_exchange_n(static_cast<uint16_t*>(p), &e,
                                       static_cast<uint16_t>(desired), false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
  }
  uint8_t e = static_cast<uint8_t>(expected);
  return __atomic_compare_exchange_n(static_cast<uint8_t*>(p), &e,
                                     static_cast<uint8_t>(desired), false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
inline uint32_t CachedMark(bool wide) { return wide ? kWideCached : kNarrowCached; }
inline uint32_t FreeMark(bool wide) { return wide ? kWideFree : kNarrowFree; }
inline void* SlackEntry(size_t granule, bool wide, size_t idx) {
  uint8_t* page = SlackPage(granule);
  return wide ? static_cast<void*>(reinterpret_cast<uint16_t*>(page) + idx)
              : static_cast<void*>(page + idx);
}

// Reports a violation involving `pool_id` (may be 0).
ViolationKind Report(ViolationKind kind, uint32_t pool_id, uintptr_t addr,
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
[[noreturn]] ABSL_ATTRIBUTE_NOINLINE void ReportCorruption(const SpanRecord* rec,
                                                          const char* what) {
  Report(ViolationKind::kMetadataCorruption,
         rec->pool_id.load(std::memory_order_relaxed),
         reinterpret_cast<uintptr_t>(rec), 0, 0, what);
  abort();
}

void ForkPrepare() { PoolImpl::LockAllForFork(); }
void ForkParent() { PoolImpl::UnlockAllAfterFork(); }
void ForkChild() { PoolImpl::UnlockAllAfterForkInChild(); }

}  // namespace

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

absl::StatusOr<Pool*> PoolImpl::Create(absl::string_view name,
                                       const PoolOptions& o) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        "pool name must be 1 to 63 printable ASCII characters");
  }
  if (!IsPowerOfTwo(o.align) || o.align < kMinAlign || o.align > kMaxAlign) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pool '", name, "': alignment ", o.align,
        " is not a power of two between 8 and 4096"));
  }
  if ((o.flags & ~kPoolAllFlags) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pool '", name, "': unknown flags ", o.flags));
  }
  if (o.usercopy_size == 0 && o.usercopy_offset != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "pool '", name, "': usercopy_offset needs a usercopy_size"));
  }
  if (o.usercopy_offset > UINT32_MAX || o.usercopy_size > UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("pool '", name, "': usercopy window out of range"));
  }
  if (!InitArena()) {
    return absl::ResourceExhaustedError(
        "cannot reserve the sealpool arena (mmap failed)");
  }
  static const int fork_handlers =
      pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  (void)fork_handlers;

  Registry& r = GetRegistry();
  MutexLock l(&r.mu);
  if (r.by_name.contains(name)) {
    return absl::AlreadyExistsError(
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
    return absl::ResourceExhaustedError(
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
    p->extents_.clear();
    p->free_spans_.clear();
    std::memset(p->partial_, 0, sizeof(p->partial_));
    p->caches_ = nullptr;
    p->next_extent_granules_ = kFirstExtentGranules;
    p->committed_ = p->small_spans_ = p->large_spans_ = 0;
    p->guard_pages_ = p->metadata_bytes_ = 0;
    p->live_bytes_ = p->live_objects_ = 0;
    p->seals_ = p->sealed_bytes_ = p->abandoned_bytes_ = p->write_rares_ = 0;
    p->permanent_enforced_ = false;
    p->prot_none_guards_ = false;
    p->sealed_metadata_bytes_ = 0;
    p->memfd_ = -1;
    p->memfd_size_ = 0;
    p->wr_key_ = (o.flags & kPoolWriteRareKey) ? WriteRareKey() : -1;
    if (p->opts_.flags & kPoolWriteRareKey) p->opts_.flags |= kPoolWriteRare;
    if ((p->opts_.flags & kPoolWriteRare) && p->wr_key_ < 0) {
      p->memfd_ = CreateMemfd(absl::StrCat("sealpool:", name).c_str());
      if (p->memfd_ < 0) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "pool '", name, "': cannot create the memfd behind write-rare memory"));
      }
    }
    p->destroyed_.store(false, std::memory_order_relaxed);
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

absl::StatusOr<Pool*> PoolImpl::Find(absl::string_view name) {
  Registry& r = GetRegistry();
  MutexLock l(&r.mu);
  auto it = r.by_name.find(name);
  if (it == r.by_name.end()) {
    return absl::NotFoundError(absl::StrCat("no live pool named '", name, "'"));
  }
  it->second->Ref();
  return &it->second->handle_;
}

absl::Status PoolImpl::Destroy() {
  if (opts_.flags & kPoolPermanent) {
    return absl::PermissionDeniedError(absl::StrCat(
        "pool '", name_, "' is permanent: it lives until the process exits"));
  }
  {
    Registry& r = GetRegistry();
    MutexLock l(&r.mu);
    if (destroyed_.exchange(true, std::memory_order_acq_rel)) {
      return absl::FailedPreconditionError(
          absl::StrCat("pool '", name_, "' was already destroyed"));
    }
    // The name is free for a new pool from now on.
    r.by_name.erase(name_);
  }
  cache_key_.store(NewKey(), std::memory_order_release);
  Unref();
  return absl::OkStatus();
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
    auto it = r.by_name.find(name_);
    if (it != r.by_name.end() && it->second == this) r.by_name.erase(it);
    destroyed_.store(true, std::memory_order_release);
    cache_key_.store(NewKey(), std::memory_order_release);
    for (PoolCache* pc = caches_; pc != nullptr;) {
      PoolCache* next = pc->next;
      pc->orphaned = true;
      pc->prev = pc->next = nullptr;
      pc = next;
    }
    caches_ = nullptr;
    UnprotectSealedMetadata();
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
      FreeGranules(e.first, e.count);
    }
    extents_.clear();
    free_spans_.clear();
    if (memfd_ >= 0) {
      close(memfd_);
      memfd_ = -1;
    }
    state_.store(kFree, std::memory_order_release);
  }
  --r.live;
}

// ---------------------------------------------------------------------------
// Allocation.

void* PoolImpl::AllocateSlow(size_t size, AllocError* err) {
  if (destroyed_.load(std::memory_order_acquire)) {
    *err = AllocError::kDestroyed;
    return nullptr;
  }
  if (size > g_arena.data_size.load(std::memory_order_relaxed)) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  const int cls = size + redzone_ <= kMaxSmallSize
                      ? ClassFor(size + redzone_, opts_.align)
                      : -1;
  if (cls < 0) return AllocateLarge(size, err);

  // A seal between the refill and the slack write makes the cache stale
  // (its slots may be sealed now): the write happens under the handshake
  // of BeginFastPath(), and a stale cache starts over.
  for (;;) {
    PoolCache* pc = AcquirePoolCache(this);
    if (pc == nullptr) {
      *err = AllocError::kDestroyed;
      return nullptr;
    }
    ClassCache* cc = pc->cls[cls];
    if (cc == nullptr) {
      cc = new ClassCache();
      pc->cls[cls] = cc;
    }
    if (cc->count == 0) {
      MutexLock l(&mu_);
      if (!Refill(pc, cls, err)) return nullptr;
    }
    BeginFastPath(pc);
    if (pc->key == cache_key_.load(std::memory_order_relaxed) && cc->count > 0) {
      const CacheEntry e = cc->e[--cc->count];
      StoreSlack(e.slack, IsWide(cls),
                 kClassSize[cls] - static_cast<uint32_t>(size));
      AsanObjectAllocated(e.ptr, size, kClassSize[cls]);
      pc->AddLive(static_cast<int64_t>(size), 1);
      EndFastPath(pc);
      return reinterpret_cast<void*>(e.ptr);
    }
    EndFastPath(pc);
  }
}

bool PoolImpl::Refill(PoolCache* pc, int cls, AllocError* err) {
  ClassCache* cc = pc->cls[cls];
  const bool wide = IsWide(cls);
  const uint32_t free_mark = FreeMark(wide);
  while (cc->count < kCacheCap / 2) {
    SpanRecord* rec = partial_[cls] != 0 ? RecordAt(partial_[cls] - 1)
                                         : NewSmallSpan(cls, err);
    if (rec == nullptr) break;
    if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
    const size_t g = RecordGranule(rec);
    const uint32_t n = rec->nslots.load(std::memory_order_relaxed);
    const uintptr_t base = rec->base.load(std::memory_order_relaxed);
    uint32_t i = rec->scan_cursor;
    for (uint32_t seen = 0; seen < n && rec->free_count > 0 &&
                            cc->count < kCacheCap / 2;
         ++seen, i = (i + 1 == n) ? 0 : i + 1) {
      void* s = SlackEntry(g, wide, i);
      if (LoadSlack(s, wide) != free_mark) continue;
      StoreSlack(s, wide, CachedMark(wide));
      --rec->free_count;
      cc->e[cc->count++] = CacheEntry{base + size_t{i} * kClassSize[cls], s};
    }
    rec->scan_cursor = i;
    if (rec->free_count == 0) UnlinkPartial(rec);
  }
  return cc->count > 0;
}

bool PoolImpl::CarveGranules(size_t count, size_t* first, AllocError* err) {
  // 1. A freed large span, first fit.
  for (size_t i = 0; i < free_spans_.size(); ++i) {
    auto& fs = free_spans_[i];
    if (fs.second < count) continue;
    const uintptr_t addr = GranuleAddress(fs.first);
    if (!RemoveGuard(reinterpret_cast<void*>(addr), count << kGranuleShift)) {
      *err = AllocError::kNoMemory;
      return false;
    }
    *first = fs.first;
    fs.first += count;
    fs.second -= count;
    if (fs.second == 0) free_spans_.erase(free_spans_.begin() + i);
    return true;
  }
  // 2. The rest of the newest extent.
  if (!extents_.empty()) {
    Extent& e = extents_.back();
    if (e.count - e.used >= count) {
      if (!CommitRange(e, e.first + e.used, count)) {
        *err = AllocError::kNoMemory;
        return false;
      }
      *first = e.first + e.used;
      e.used += count;
      return true;
    }
  }
  // 3. A new extent, twice the size of the last one.
  size_t want = next_extent_granules_ > count ? next_extent_granules_ : count;
  size_t start = 0;
  if (!AllocateGranules(want, &start)) {
    want = count;
    if (!AllocateGranules(want, &start)) {
      *err = AllocError::kNoMemory;
      return false;
    }
  }
  Extent e{start, want, count, 0, memfd_size_};
  if (memfd_ >= 0 && !ResizeMemfd(memfd_, memfd_size_ + (want << kGranuleShift))) {
    FreeGranules(start, want);
    *err = AllocError::kNoMemory;
    return false;
  }
  if (!CommitRange(e, start, count)) {
    FreeGranules(start, want);
    *err = AllocError::kNoMemory;
    return false;
  }
  if (memfd_ >= 0) memfd_size_ += want << kGranuleShift;
  extents_.push_back(e);
  if (next_extent_granules_ < kMaxExtentGranules) next_extent_granules_ *= 2;
  *first = start;
  return true;
}

// Makes granules [first, first+count) of extent `e` usable: private
// anonymous pages, or the matching part of the pool's memfd (kept out of
// fork children, which must not share a write-rare pool's pages).
bool PoolImpl::CommitRange(const Extent& e, size_t first, size_t count) {
  void* addr = reinterpret_cast<void*>(GranuleAddress(first));
  const size_t bytes = count << kGranuleShift;
  if (memfd_ < 0) return CommitPages(addr, bytes);
  const uint64_t off = e.file_offset + ((first - e.first) << kGranuleShift);
  if (!CommitSharedPages(addr, bytes, memfd_, off)) return false;
  if (!DontFork(addr, bytes)) {
    DecommitPages(addr, bytes);
    return false;
  }
  return true;
}

SpanRecord* PoolImpl::NewSmallSpan(int cls, AllocError* err) {
  const size_t granules = SpanGranules(cls);
  const size_t data_bytes = SpanDataBytes(granules);
  if (opts_.max_bytes != 0 && committed_ + data_bytes > opts_.max_bytes) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  size_t g = 0;
  if (!CarveGranules(granules, &g, err)) return nullptr;
  const uintptr_t start = GranuleAddress(g);
  const uintptr_t end = start + (granules << kGranuleShift);
  if (!InstallGuard(reinterpret_cast<void*>(start), kPageSize, &prot_none_guards_) ||
      !InstallGuard(reinterpret_cast<void*>(end - kPageSize), kPageSize,
                    &prot_none_guards_)) {
    free_spans_.emplace_back(g, granules);
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  const bool wide = IsWide(cls);
  const uint32_t n = SlotCount(cls);
  SpanRecord* rec = RecordAt(g);
  rec->base.store(start + kPageSize, std::memory_order_relaxed);
  rec->mul.store(ClassMul(cls), std::memory_order_relaxed);
  rec->slot_size.store(kClassSize[cls], std::memory_order_relaxed);
  rec->nslots.store(n, std::memory_order_relaxed);
  rec->pool_id.store(id_, std::memory_order_relaxed);
  rec->kind.store(static_cast<uint8_t>(SpanKind::kSmall), std::memory_order_relaxed);
  rec->wide.store(wide ? 1 : 0, std::memory_order_relaxed);
  rec->sealed.store(0, std::memory_order_relaxed);
  rec->live.store(0, std::memory_order_relaxed);
  rec->class_idx = static_cast<uint8_t>(cls);
  rec->granules = static_cast<uint8_t>(granules);
  rec->large_granules = 0;
  rec->free_count = n;
  rec->scan_cursor = 0;
  rec->prev = rec->next = 0;
  SealCanary(rec);
  for (uint32_t i = 0; i < n; ++i) StoreSlack(SlackEntry(g, wide, i), wide, FreeMark(wide));
  AsanPoison(start + kPageSize, size_t{n} * kClassSize[cls]);
  // Publish: the record is complete before any page points at it.
  SetPageEntries(start, 1, MakeEntry(EntryKind::kGuard, id_, g));
  for (size_t i = 0; i < granules; ++i) {
    // Data pages of granule i: all but the guard pages at the span's ends.
    const uintptr_t lo = i == 0 ? start + kPageSize : start + (i << kGranuleShift);
    const uintptr_t hi = i + 1 == granules ? end - kPageSize
                                           : start + ((i + 1) << kGranuleShift);
    SetPageEntries(lo, (hi - lo) >> kPageShift, MakeSmallEntry(id_, cls, i));
  }
  SetPageEntries(end - kPageSize, 1, MakeEntry(EntryKind::kGuard, id_, g));
  committed_ += data_bytes;
  ++small_spans_;
  guard_pages_ += 2;
  metadata_bytes_ += sizeof(SpanRecord) + n * SlackWidth(cls) +
                     (granules * kPagesPerGranule) * sizeof(uint64_t);
  PushPartial(rec);
  return rec;
}

void* PoolImpl::AllocateLarge(size_t size, AllocError* err) {
  if (size > (size_t{1} << 40)) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  const size_t align = opts_.align < 16 ? 16 : opts_.align;
  const size_t span_pages =
      (RoundUp(size + align, kPageSize) >> kPageShift) + 2;
  const size_t granules = RoundUp(span_pages, kPagesPerGranule) / kPagesPerGranule;
  MutexLock l(&mu_);
  if (destroyed_.load(std::memory_order_relaxed)) {
    *err = AllocError::kDestroyed;
    return nullptr;
  }
  // Object pages: from the page holding the (aligned, end-placed) start to
  // the trailing guard page.
  const size_t g_bytes = granules << kGranuleShift;
  const size_t end_off = g_bytes - kPageSize;
  const size_t obj_off = (end_off - size) & ~(align - 1);
  const size_t first_page_off = obj_off & ~(kPageSize - 1);
  const size_t obj_pages = (end_off - first_page_off) >> kPageShift;
  if (opts_.max_bytes != 0 &&
      committed_ + (obj_pages << kPageShift) > opts_.max_bytes) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  size_t g = 0;
  if (!CarveGranules(granules, &g, err)) return nullptr;
  const uintptr_t start = GranuleAddress(g);
  if (!InstallGuard(reinterpret_cast<void*>(start), first_page_off,
                    &prot_none_guards_) ||
      !InstallGuard(reinterpret_cast<void*>(start + end_off), kPageSize,
                    &prot_none_guards_)) {
    InstallGuard(reinterpret_cast<void*>(start), g_bytes);
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
  AsanObjectAllocated(start + first_page_off, obj_off - first_page_off + size,
                      end_off - first_page_off);
  AsanPoison(start + first_page_off, obj_off - first_page_off);
  return reinterpret_cast<void*>(start + obj_off);
}

// ---------------------------------------------------------------------------
// Sealing and write-rare.

absl::Status PoolImpl::Seal() {
  MutexLock l(&mu_);
  if (destroyed_.load(std::memory_order_relaxed)) {
    return absl::FailedPreconditionError(
        absl::StrCat("pool '", name_, "' was destroyed; it cannot be sealed"));
  }
  // Every thread's cache of this pool goes stale: slots cached in spans
  // sealed now are never handed out (they are abandoned). Fast paths that
  // read the old key finish before any slack page turns read-only.
  cache_key_.store(NewKey(), std::memory_order_release);
  const bool protect_slack = WaitForFastPaths();
  const bool permanent = (opts_.flags & kPoolPermanent) != 0;
  bool enforced = true;
  for (Extent& e : extents_) {
    if (e.used == e.sealed) continue;
    void* addr = reinterpret_cast<void*>(GranuleAddress(e.first + e.sealed));
    const size_t bytes = (e.used - e.sealed) << kGranuleShift;
    // One call per extent, whatever the object count: read-only pages, or
    // (protection-key write-rare pools) pages tagged with the key that
    // every thread's PKRU keeps write-disabled.
    const bool ok = wr_key_ >= 0 ? ProtectWithKey(addr, bytes, wr_key_)
                                 : ProtectReadOnly(addr, bytes);
    if (!ok) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "pool '", name_, "': mprotect(PROT_READ) failed while sealing"));
    }
    SealSpans(e.first + e.sealed, e.used - e.sealed);
    if (permanent && SealMappings(addr, bytes) != 0) enforced = false;
    sealed_bytes_ += bytes;
    ProtectSealedMetadata(e.first, e.sealed, e.used, protect_slack, permanent);
    e.sealed = e.used;
  }
  // Freed large spans inside sealed ranges cannot be reused.
  for (auto it = free_spans_.begin(); it != free_spans_.end();) {
    bool in_sealed = false;
    for (const Extent& e : extents_) {
      in_sealed |= it->first >= e.first && it->first < e.first + e.sealed;
    }
    if (in_sealed) {
      abandoned_bytes_ += it->second << kGranuleShift;
      it = free_spans_.erase(it);
    } else {
      ++it;
    }
  }
  if (permanent) permanent_enforced_ = (seals_ == 0 || permanent_enforced_) && enforced;
  ++seals_;
  return absl::OkStatus();
}

// The seal side of the handshake described at BeginFastPath(): after the
// key change, a process-wide barrier, then a wait until no cache of this
// pool is inside a fast path. False (slack pages are then left writable)
// where the kernel has no membarrier.
bool PoolImpl::WaitForFastPaths() {
  if (!ProcessWideBarrier()) return false;
  for (PoolCache* pc = caches_; pc != nullptr; pc = pc->next) {
    // A fast path is a few dozen instructions with no lock or call: the
    // wait ends as soon as its thread runs again.
    while (pc->busy.load(std::memory_order_acquire) != 0) sched_yield();
  }
  return true;
}

namespace {

// The whole pages inside [begin, end).
std::pair<uintptr_t, uintptr_t> InnerPages(uintptr_t begin, uintptr_t end) {
  const uintptr_t b = (begin + kPageSize - 1) & ~(kPageSize - 1);
  const uintptr_t e = end & ~(kPageSize - 1);
  return {b, e > b ? e : b};
}

// The metadata of the granules [first, first + n) of an extent starting at
// `first`, as whole pages: page-table entries, span records, slack pages.
struct MetadataPages {
  std::pair<uintptr_t, uintptr_t> table, records, slack;
};
MetadataPages MetadataOf(size_t first, size_t n) {
  const size_t pages_per_granule = kGranuleSize >> kPageShift;
  const auto table = [&](size_t g) {
    return reinterpret_cast<uintptr_t>(&g_arena.table[g * pages_per_granule]);
  };
  const auto record = [](size_t g) {
    return reinterpret_cast<uintptr_t>(RecordAt(g));
  };
  const auto slack = [](size_t g) {
    return reinterpret_cast<uintptr_t>(SlackPage(g));
  };
  return {InnerPages(table(first), table(first + n)),
          InnerPages(record(first), record(first + n)),
          InnerPages(slack(first), slack(first + n))};
}

}  // namespace

// Makes read-only the metadata pages that the sealed granules [first,
// first + new_sealed) of an extent now cover whole and [first, first +
// old_sealed) did not: nothing writes them until destroy (frees of sealed
// objects are refused before any write, flushes skip sealed spans, the
// partial lists no longer link them). A page shared with unsealed
// granules or another pool stays writable. Permanent pools mseal them too.
void PoolImpl::ProtectSealedMetadata(size_t first, size_t old_sealed,
                                     size_t new_sealed, bool protect_slack,
                                     bool permanent) {
  const MetadataPages before = MetadataOf(first, old_sealed);
  const MetadataPages after = MetadataOf(first, new_sealed);
  const auto protect = [&](std::pair<uintptr_t, uintptr_t> was,
                           std::pair<uintptr_t, uintptr_t> now) {
    const uintptr_t b = was.second > now.first ? was.second : now.first;
    if (now.second <= b) return;
    void* addr = reinterpret_cast<void*>(b);
    if (!ProtectReadOnly(addr, now.second - b)) return;
    if (permanent) SealMappings(addr, now.second - b);
    sealed_metadata_bytes_ += now.second - b;
  };
  protect(before.table, after.table);
  protect(before.records, after.records);
  if (protect_slack) protect(before.slack, after.slack);
}

// Destroy: the sealed metadata becomes writable again, to be cleared.
void PoolImpl::UnprotectSealedMetadata() {
  if (sealed_metadata_bytes_ == 0) return;
  for (const Extent& e : extents_) {
    if (e.sealed == 0) continue;
    const MetadataPages m = MetadataOf(e.first, e.sealed);
    for (const auto& r : {m.table, m.records, m.slack}) {
      if (r.second > r.first) {
        SEALPOOL_CHECK(ProtectReadWrite(reinterpret_cast<void*>(r.first),
                                        r.second - r.first),
                       "cannot make sealed metadata writable again");
      }
    }
  }
  sealed_metadata_bytes_ = 0;
}

// Marks the spans in granules [first, first+count) sealed and takes them
// off the partial lists. Where any guard of this pool is a PROT_NONE page,
// the mprotect that sealed the range made it readable: guards are put back
// (one call per guard, so only pools on that fallback pay per span).
void PoolImpl::SealSpans(size_t first, size_t count) {
  const bool marker_guards = !prot_none_guards_;
  for (size_t g = first; g < first + count;) {
    SpanRecord* rec = RecordAt(g);
    const auto kind = static_cast<SpanKind>(rec->kind.load(std::memory_order_relaxed));
    size_t step = 1;
    const uintptr_t start = GranuleAddress(g);
    if (kind == SpanKind::kSmall) {
      step = rec->granules;
      if (rec->free_count > 0) {
        UnlinkPartial(rec);
        abandoned_bytes_ += size_t{rec->free_count} *
                            rec->slot_size.load(std::memory_order_relaxed);
      }
      if (!marker_guards) {
        InstallGuard(reinterpret_cast<void*>(start), kPageSize);
        InstallGuard(reinterpret_cast<void*>(start + (step << kGranuleShift) - kPageSize),
                     kPageSize);
      }
    } else if (kind == SpanKind::kLarge) {
      step = rec->large_granules;
      const uintptr_t base = rec->base.load(std::memory_order_relaxed);
      const uintptr_t first_page = base & ~(kPageSize - 1);
      const uintptr_t end = start + (step << kGranuleShift) - kPageSize;
      if (!marker_guards) {
        InstallGuard(reinterpret_cast<void*>(start), first_page - start);
        InstallGuard(reinterpret_cast<void*>(end), kPageSize);
        if (rec->live.load(std::memory_order_relaxed) == 0) {
          InstallGuard(reinterpret_cast<void*>(first_page), end - first_page);
        }
      }
    }
    rec->sealed.store(1, std::memory_order_release);
    g += step == 0 ? 1 : step;
  }
}

namespace {

// Test hook: runs inside every write-rare window (after the copy, before
// the window closes), on the writing thread.
std::atomic<void (*)(void*)> write_rare_hook{nullptr};
std::atomic<void*> write_rare_hook_arg{nullptr};

void RunWriteRareWindowHook() {
  void (*fn)(void*) = write_rare_hook.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(fn != nullptr)) {
    fn(write_rare_hook_arg.load(std::memory_order_relaxed));
  }
}

}  // namespace

void SetWriteRareWindowHook(void (*fn)(void*), void* arg) {
  write_rare_hook_arg.store(arg, std::memory_order_relaxed);
  write_rare_hook.store(fn, std::memory_order_release);
}

absl::Status PoolImpl::WriteRare(void* dst, const void* src, size_t n) {
  if (n == 0) return absl::OkStatus();
  const uintptr_t a = reinterpret_cast<uintptr_t>(dst);
  ObjectBounds b;
  const Lookup found = LookupObjectInline(a, &b);
  PoolImpl* pool = found == Lookup::kObject ? ById(b.pool_id) : nullptr;
  if (pool == nullptr) {
    // Not a live pool object: a write violation, nothing written.
    Violation v;
    v.kind = ViolationKind::kOutOfBounds;
    v.addr = a;
    v.len = n;
    v.dir = CopyDirection::kWrite;
    v.detail = found == Lookup::kNotOurs ? "write-rare outside any pool"
                                         : "write-rare outside a live object";
    ReportViolation(v, 1);
    return absl::PermissionDeniedError("sealpool: write-rare refused");
  }
  if ((pool->opts_.flags & kPoolWriteRare) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pool '", pool->name_, "' was not created with the write-rare flag"));
  }
  const size_t off = a - b.start;
  if (n > b.size - off) {
    Violation v;
    v.kind = ViolationKind::kOutOfBounds;
    v.pool_id = b.pool_id;
    v.pool_name = pool->name_;
    v.addr = a;
    v.len = n;
    v.dir = CopyDirection::kWrite;
    v.object_start = b.start;
    v.object_size = b.size;
    v.offset = off;
    v.detail = "write-rare runs past the object's end";
    ReportViolation(v, 1);
    return absl::PermissionDeniedError("sealpool: write-rare refused");
  }
  if (!b.sealed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "object in pool '", pool->name_,
        "' is not sealed; write it directly (write-rare is for sealed memory)"));
  }
  MutexLock l(&pool->mu_);
  if (pool->wr_key_ < 0 && pool->memfd_ < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pool '", pool->name_,
        "': write-rare memory is not shared with fork children"));
  }
  const uintptr_t page = a & ~(kPageSize - 1);
  const size_t len = ((a + n + kPageSize - 1) & ~(kPageSize - 1)) - page;
  for (const Extent& e : pool->extents_) {
    const uintptr_t lo = GranuleAddress(e.first);
    if (page < lo || page >= lo + (e.count << kGranuleShift)) continue;
    if (pool->wr_key_ >= 0) {
      // Writes through the key are enabled for this thread alone, for the
      // length of the copy; every other thread's PKRU still disables them.
      SetKeyWritable(pool->wr_key_, true);
      std::memcpy(dst, src, n);
      RunWriteRareWindowHook();
      SetKeyWritable(pool->wr_key_, false);
    } else {
      void* alias = MapAlias(pool->memfd_, e.file_offset + (page - lo), len);
      if (alias == nullptr) {
        return absl::ResourceExhaustedError("sealpool: cannot map a write-rare alias");
      }
      std::memcpy(static_cast<char*>(alias) + (a - page), src, n);
      RunWriteRareWindowHook();
      UnmapAlias(alias, len);
    }
    ++pool->write_rares_;
    return absl::OkStatus();
  }
  return absl::InternalError("sealpool: write-rare object outside its pool's extents");
}

// Fork child: write-rare pools are shared memory (MADV_DONTFORK kept them
// out of the child). Their holes are reserved again so that nothing else is
// mapped there, and the pool refuses further use in the child.
void PoolImpl::ForkChildDropSharedMemory() {
  if (memfd_ < 0 || state_.load(std::memory_order_relaxed) != kLive) return;
  for (const Extent& e : extents_) {
    DecommitPages(reinterpret_cast<void*>(GranuleAddress(e.first)),
                  e.count << kGranuleShift);
  }
  // The child must not reach the parent's pages through the inherited
  // memfd either.
  close(memfd_);
  memfd_ = -1;
  destroyed_.store(true, std::memory_order_release);
  cache_key_.store(NewKey(), std::memory_order_release);
}

// ---------------------------------------------------------------------------
// Partial-span lists (doubly linked through granule index + 1, with the
// neighbours' links verified on every update, as CONFIG_DEBUG_LIST does).

void PoolImpl::PushPartial(SpanRecord* rec) {
  const int cls = rec->class_idx;
  const uint32_t me = static_cast<uint32_t>(RecordGranule(rec)) + 1;
  const uint32_t head = partial_[cls];
  if (head != 0) {
    SpanRecord* h = RecordAt(head - 1);
    if (h->prev != 0) ReportCorruption(h, "partial list head has a prev link");
    h->prev = me;
  }
  rec->prev = 0;
  rec->next = head;
  partial_[cls] = me;
}

void PoolImpl::UnlinkPartial(SpanRecord* rec) {
  const int cls = rec->class_idx;
  const uint32_t me = static_cast<uint32_t>(RecordGranule(rec)) + 1;
  if (rec->next > g_arena.granules || rec->prev > g_arena.granules) {
    ReportCorruption(rec, "partial list: link out of range");
  }
  if (rec->next != 0 && RecordAt(rec->next - 1)->prev != me) {
    ReportCorruption(rec, "partial list: next->prev does not point back");
  }
  if (rec->prev != 0 ? RecordAt(rec->prev - 1)->next != me
                     : partial_[cls] != me) {
    ReportCorruption(rec, "partial list: prev->next does not point back");
  }
  if (rec->next != 0) RecordAt(rec->next - 1)->prev = rec->prev;
  if (rec->prev != 0) {
    RecordAt(rec->prev - 1)->next = rec->next;
  } else {
    partial_[cls] = rec->next;
  }
  rec->prev = rec->next = 0;
}

void PoolImpl::ReturnSlot(SpanRecord* rec, void* slack) {
  if (rec->sealed.load(std::memory_order_relaxed) != 0) {
    // A slot cached before its span was sealed: abandoned with the span
    // (whose slack page may be read-only now).
    abandoned_bytes_ += rec->slot_size.load(std::memory_order_relaxed);
    return;
  }
  const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
  StoreSlack(slack, wide, FreeMark(wide));
  if (rec->free_count++ == 0) PushPartial(rec);
}

// ---------------------------------------------------------------------------
// Free.

ViolationKind PoolImpl::Free(void* ptr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  if (ABSL_PREDICT_FALSE(!InDataZone(a))) {
    if (ptr == nullptr) return ViolationKind::kNone;
    return Report(ViolationKind::kInvalidFree, 0, a, 0, 0, "not a pool object");
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
  return Report(ViolationKind::kInvalidFree, pool_id, a, 0, 0,
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
    return Report(ViolationKind::kInvalidFree, pool_id, a, 0, 0,
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
  return Report(bad, pool_id, a, slot, live ? slot_size - old : 0, detail);
}

ViolationKind PoolImpl::FreeLarge(uintptr_t a, SpanRecord* rec) {
  const uint32_t pool_id = rec->pool_id.load(std::memory_order_relaxed);
  PoolImpl* pool = VerifiedOwner(rec);
  const uintptr_t base = rec->base.load(std::memory_order_relaxed);
  const size_t size = rec->mul.load(std::memory_order_relaxed);
  ViolationKind bad = ViolationKind::kNone;
  {
    MutexLock l(&pool->mu_);
    if (a != base) {
      bad = ViolationKind::kInvalidFree;
    } else if (rec->live.load(std::memory_order_relaxed) == 0) {
      bad = ViolationKind::kDoubleFree;
    } else if (rec->sealed.load(std::memory_order_relaxed) != 0) {
      bad = ViolationKind::kSealedFree;
    } else {
      rec->live.store(0, std::memory_order_release);
      AsanPoison(base, size);
      const size_t g = RecordGranule(rec);
      const uintptr_t start = GranuleAddress(g);
      const size_t granules = rec->large_granules;
      const uintptr_t first_page = base & ~(kPageSize - 1);
      const uintptr_t end = start + (granules << kGranuleShift) - kPageSize;
      // The object's pages become guard pages until the span is reused, so
      // that a stale pointer faults; the table keeps naming the object so
      // that the checker reports a use after free.
      if (!InstallGuard(reinterpret_cast<void*>(first_page), end - first_page,
                        &pool->prot_none_guards_)) {
        // Out of kernel mappings (PROT_NONE fallback): the pages are still
        // dropped and the table still calls them freed, they just do not
        // fault on a plain access.
        DiscardPages(reinterpret_cast<void*>(first_page), end - first_page);
      }
      pool->committed_ -= end - first_page;
      pool->guard_pages_ += (end - first_page) >> kPageShift;
      pool->live_bytes_ -= static_cast<int64_t>(size);
      --pool->live_objects_;
      pool->free_spans_.emplace_back(g, granules);
    }
  }
  if (bad == ViolationKind::kNone) return bad;
  return Report(bad, pool_id, a, base, size,
                bad == ViolationKind::kInvalidFree ? "not the start of a live object"
                                                   : nullptr);
}

// ---------------------------------------------------------------------------
// Thread caches.

bool PoolImpl::RegisterCache(PoolCache* pc) {
  MutexLock l(&mu_);
  if (destroyed_.load(std::memory_order_relaxed) ||
      state_.load(std::memory_order_relaxed) != kLive) {
    return false;
  }
  pc->pool = this;
  pc->pool_id = id_;
  pc->key = cache_key_.load(std::memory_order_relaxed);
  pc->orphaned = false;
  pc->prev = nullptr;
  pc->next = caches_;
  if (caches_ != nullptr) caches_->prev = pc;
  caches_ = pc;
  return true;
}

void PoolImpl::FlushLocked(PoolCache* pc) {
  for (int cls = 0; cls < kNumClasses; ++cls) {
    ClassCache* cc = pc->cls[cls];
    if (cc == nullptr) continue;
    for (uint32_t i = 0; i < cc->count; ++i) {
      const size_t g =
          static_cast<size_t>(static_cast<uint8_t*>(cc->e[i].slack) - g_arena.slack) >>
          kPageShift;
      SpanRecord* rec = RecordAt(g);
      if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
      ReturnSlot(rec, cc->e[i].slack);
    }
    cc->count = 0;
  }
}

void PoolImpl::EvictCache(PoolCache* pc) {
  MutexLock l(&mu_);
  if (pc->orphaned) return;
  FlushLocked(pc);
  live_bytes_ += pc->live_bytes.load(std::memory_order_relaxed);
  live_objects_ += pc->live_objects.load(std::memory_order_relaxed);
  pc->live_bytes.store(0, std::memory_order_relaxed);
  pc->live_objects.store(0, std::memory_order_relaxed);
  if (pc->prev != nullptr) pc->prev->next = pc->next;
  if (pc->next != nullptr) pc->next->prev = pc->prev;
  if (caches_ == pc) caches_ = pc->next;
  pc->prev = pc->next = nullptr;
  pc->orphaned = true;
}

// ---------------------------------------------------------------------------
// Stats and fork.

PoolStats PoolImpl::Stats() const {
  PoolStats s;
  MutexLock l(&mu_);
  s.name = name_;
  s.id = id_;
  int64_t live_bytes = live_bytes_, live_objects = live_objects_;
  for (const PoolCache* pc = caches_; pc != nullptr; pc = pc->next) {
    live_bytes += pc->live_bytes.load(std::memory_order_relaxed);
    live_objects += pc->live_objects.load(std::memory_order_relaxed);
  }
  s.live_bytes = live_bytes > 0 ? static_cast<size_t>(live_bytes) : 0;
  s.live_objects = live_objects > 0 ? static_cast<size_t>(live_objects) : 0;
  for (const Extent& e : extents_) s.reserved_bytes += e.count << kGranuleShift;
  s.committed_bytes = committed_;
  s.small_spans = small_spans_;
  s.large_spans = large_spans_;
  s.metadata_bytes = metadata_bytes_;
  s.guard_pages = guard_pages_;
  s.extents = extents_.size();
  s.violations = PoolViolationCount(id_);
  s.destroyed = destroyed_.load(std::memory_order_relaxed);
  s.refs = refs_.load(std::memory_order_relaxed);
  s.seals = seals_;
  s.sealed_bytes = sealed_bytes_;
  s.abandoned_bytes = abandoned_bytes_;
  s.permanent = (opts_.flags & kPoolPermanent) != 0;
  s.permanent_enforced = permanent_enforced_;
  s.write_rare = (opts_.flags & kPoolWriteRare) != 0;
  s.write_rare_key = wr_key_ >= 0;
  s.sealed_metadata_bytes = sealed_metadata_bytes_;
  s.write_rares = write_rares_;
  return s;
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

void PoolImpl::View(PoolView* out) const {
  out->stats = Stats();
  MutexLock l(&mu_);
  out->spans.clear();
  for (const Extent& e : extents_) {
    // Runs of granules with no span (never carved, or left over from a
    // reused large span), merged.
    auto add_uncarved = [&](size_t g, size_t n) {
      if (n == 0) return;
      const uintptr_t start = GranuleAddress(g);
      const bool sealed = g < e.first + e.sealed;
      if (!out->spans.empty()) {
        SpanView& last = out->spans.back();
        if (last.kind == SpanView::Kind::kUncarved && last.sealed == sealed &&
            last.start + last.bytes == start) {
          last.bytes += n << kGranuleShift;
          return;
        }
      }
      SpanView v;
      v.kind = SpanView::Kind::kUncarved;
      v.start = start;
      v.bytes = n << kGranuleShift;
      v.sealed = sealed;
      out->spans.push_back(v);
    };
    for (size_t g = e.first; g < e.first + e.used;) {
      const SpanRecord* rec = RecordAt(g);
      const auto kind = static_cast<SpanKind>(rec->kind.load(std::memory_order_relaxed));
      SpanView v;
      v.start = GranuleAddress(g);
      v.sealed = rec->sealed.load(std::memory_order_relaxed) != 0;
      size_t step = 1;
      if (kind == SpanKind::kSmall && rec->granules > 0) {
        step = rec->granules;
        v.kind = SpanView::Kind::kSmall;
        v.slot_size = rec->slot_size.load(std::memory_order_relaxed);
        v.slots = rec->nslots.load(std::memory_order_relaxed);
        v.guard_bytes = 2 * kPageSize;
        const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
        for (uint32_t i = 0; i < v.slots; ++i) {
          v.live += LoadSlack(SlackEntry(g, wide, i), wide) < CachedMark(wide);
        }
      } else if (kind == SpanKind::kLarge && rec->large_granules > 0) {
        step = rec->large_granules;
        v.kind = SpanView::Kind::kLarge;
        v.slots = 1;
        v.live = rec->live.load(std::memory_order_relaxed);
        const uintptr_t first_page =
            rec->base.load(std::memory_order_relaxed) & ~(kPageSize - 1);
        v.guard_bytes = v.live ? first_page - v.start + kPageSize
                               : step << kGranuleShift;
      } else {
        add_uncarved(g, 1);
        ++g;
        continue;
      }
      v.bytes = step << kGranuleShift;
      out->spans.push_back(v);
      g += step;
    }
    add_uncarved(e.first + e.used, e.count - e.used);
  }
}

void PoolImpl::LockAllForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  GetRegistry().mu.Lock();
  for (uint32_t id = 1; id <= kMaxPools; ++id) {
    if (PoolImpl* p = g_pools[id].load(std::memory_order_acquire)) p->mu_.Lock();
  }
  LockGranulesForFork();
}

void PoolImpl::UnlockAllAfterForkInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (uint32_t id = 1; id <= kMaxPools; ++id) {
    if (PoolImpl* p = g_pools[id].load(std::memory_order_acquire)) {
      p->ForkChildDropSharedMemory();
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
