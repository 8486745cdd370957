// sealpool — small-object allocation: the slow path behind the thread
// cache, refill from spans, span carving, the partial-span lists, and
// thread-cache registration and flush.

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

void* PoolImpl::AllocateSlow(size_t size, size_t align, AllocError* err) {
  if (destroyed_.load(std::memory_order_acquire)) {
    *err = AllocError::kDestroyed;
    return nullptr;
  }
  if (size > g_arena.data_size.load(std::memory_order_relaxed)) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  if (size == 0) return AllocateZero(align, err);
  // Room for the canary (at least one byte of slack) and the redzone.
  const size_t need = size + (redzone_ > room_ ? redzone_ : room_);
  const int cls = need <= kMaxSmallSize ? ClassFor(need, align) : -1;
  if (cls < 0) return AllocateLarge(size, align, err);

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
      cc = ClassCache::ForClass(cls, hard_);
      pc->cls[cls] = cc;
    }
    if (cc->count == 0) {
      MutexLock l(&mu_);
      if (!Refill(pc, cls, err)) return nullptr;
    }
    BeginFastPath(pc);
    if (pc->stale.load(std::memory_order_relaxed) == 0 && cc->count > 0) {
      const uint32_t i =
          hard_.random_reuse ? RandomBelow(&tls_cache.rng, cc->count) : cc->count - 1;
      const CacheEntry e = cc->e()[i];
      cc->e()[i] = cc->e()[--cc->count];
      if (HandOut(hard_, e, cls, size)) {
        EndFastPath(pc);
        return reinterpret_cast<void*>(e.ptr);
      }
      EndFastPath(pc);
      ReportWriteAfterFree(e.ptr, kClassSize[cls]);
      continue;
    }
    EndFastPath(pc);
  }
}

// Zero-size objects: straight from a span of kZeroClass, under the mutex
// (they are rare, and their slots cannot be touched to zero or canary).
// Slots lie 32 bytes apart from a page boundary: an `align` above 32 takes
// the first free slot at an aligned address, from the partial spans in
// list order, else from a new span.
void* PoolImpl::AllocateZero(size_t align, AllocError* err) {
  if (align > kPageSize) {
    *err = AllocError::kInvalid;  // no slot of a zero-size span is aligned
    return nullptr;
  }
  MutexLock l(&mu_);
  if (destroyed_.load(std::memory_order_relaxed)) {
    *err = AllocError::kDestroyed;
    return nullptr;
  }
  const size_t slot = kClassSize[kZeroClass];
  const uint32_t step = align > slot ? static_cast<uint32_t>(align / slot) : 1;
  uint32_t link = partial_[kZeroClass];
  for (;;) {
    SpanRecord* rec = link != 0 ? RecordAt(link - 1) : NewSmallSpan(kZeroClass, err);
    if (rec == nullptr) return nullptr;
    if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
    const size_t g = RecordGranule(rec);
    const uint32_t n = rec->nslots.load(std::memory_order_relaxed) / step;
    if (hard_.random_reuse && tls_cache.rng == 0) ReseedThreadRandom();
    const uint32_t start = hard_.random_reuse ? RandomBelow(&tls_cache.rng, n) : 0;
    for (uint32_t seen = 0, k = start; seen < n; ++seen, k = (k + 1 == n) ? 0 : k + 1) {
      const uint32_t i = k * step;
      void* s = SlackEntry(g, true, i);
      if (LoadSlack(s, true) != kWideFree) continue;
      StoreSlack(s, true, kClassSize[kZeroClass]);  // live, size 0
      if (--rec->free_count == 0) UnlinkPartial(rec);
      return reinterpret_cast<void*>(rec->base.load(std::memory_order_relaxed) +
                                     size_t{i} * slot);
    }
    if (step == 1) ReportCorruption(rec, "partial span has no free slot");
    if (link == 0) ReportCorruption(rec, "new span has no aligned slot");
    link = rec->next;
  }
}

bool PoolImpl::Refill(PoolCache* pc, int cls, AllocError* err) {
  ClassCache* cc = pc->cls[cls];
  const bool wide = IsWide(cls);
  const uint32_t free_mark = FreeMark(wide);
  const uint32_t fill = kClassInfo.c[cls].cache_cap / 2;
  while (cc->count < fill) {
    SpanRecord* rec = partial_[cls] != 0 ? RecordAt(partial_[cls] - 1)
                                         : NewSmallSpan(cls, err);
    if (rec == nullptr) break;
    if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
    const size_t g = RecordGranule(rec);
    const uint32_t n = rec->nslots.load(std::memory_order_relaxed);
    const uintptr_t base = rec->base.load(std::memory_order_relaxed);
    if (rec->free_count == n) LeaveEmpty(rec);  // the loop takes a slot
    // Free slots below the high-water mark first, in address order from
    // the cursor, where the last refill stopped (a run of neighbours, which
    // allocation then hands out in random order); a fresh slot only when
    // none is left below the mark. So a span's touched pages grow with its
    // peak use, not with how many slots have passed through it.
    uint32_t t = rec->touched;
    uint32_t i = rec->scan_cursor;
    if (t > n || i > t) ReportCorruption(rec, "span high-water mark or cursor out of range");
    // A cache this small cannot choose among its entries (classes of 2.5 KiB
    // and up: refills of 1 to 3 slots, from spans of at most 99): with
    // random_reuse the scan starts at a random slot below the mark instead.
    // (Random starts for every class cost xmalloc 14% and larson 5% of
    // their time, in alternated runs: the runs of neighbours were lost.)
    if (pc->hard.random_reuse && fill < 4 && t > 1) {
      if (tls_cache.rng == 0) ReseedThreadRandom();
      i = RandomBelow(&tls_cache.rng, t);
    }
    uint32_t skipped = 0;
    while (rec->free_count > 0 && cc->count < fill) {
      uint32_t take;
      if (rec->free_count > n - t) {
        if (i >= t) i = 0;
        if (LoadSlack(SlackEntry(g, wide, i), wide) != free_mark) {
          // A whole lap without a free slot: the count and the slot
          // states disagree. Never spin on it.
          if (++skipped > t) {
            ReportCorruption(rec, "span free count does not match its slot states");
          }
          ++i;
          continue;
        }
        take = i++;
      } else {
        take = t++;
        if (LoadSlack(SlackEntry(g, wide, take), wide) != free_mark) {
          ReportCorruption(rec, "span slot past its high-water mark is not free");
        }
      }
      skipped = 0;
      void* s = SlackEntry(g, wide, take);
      StoreSlack(s, wide, CachedMark(wide));
      --rec->free_count;
      cc->e()[cc->count++] = CacheEntry{base + size_t{take} * kClassSize[cls], s};
    }
    rec->scan_cursor = static_cast<uint16_t>(i >= t ? 0 : i);
    rec->touched = static_cast<uint16_t>(t);
    if (rec->free_count == 0) UnlinkPartial(rec);
  }
  return cc->count > 0;
}

bool PoolImpl::CarveGranules(size_t count, size_t* first, bool* guarded,
                             AllocError* err) {
  *guarded = false;
  // 1. A freed large span, first fit. With marker guards its pages are all
  // guard pages (a freed object's pages became guards; its head and tail
  // were), and stay so: the new span opens only its data pages, one system
  // call.
  for (size_t i = 0; i < free_spans_.size(); ++i) {
    auto& fs = free_spans_[i];
    if (fs.second < count) continue;
    const uintptr_t addr = GranuleAddress(fs.first);
    if (wr_shared_ || prot_none_guards_ || !GuardsUseMadvise()) {
      // Opened whole, as fresh memory: PROT_NONE fallback guards (a free
      // that ran out of mappings left its pages unguarded), and a
      // write-rare pool's pages, which belong to its memfd and keep their
      // bytes under guards: zeroed, so that reused memory is fresh (and
      // passes the write-after-free check) there too.
      if (!RemoveGuard(reinterpret_cast<void*>(addr), count << kGranuleShift)) {
        *err = AllocError::kNoMemory;
        return false;
      }
      if (wr_shared_) ZeroSlot(addr, count << kGranuleShift);
    } else {
      *guarded = true;
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
  Extent e{start, want, count, 0, 0};
  if (!MapNewExtent(&e)) {
    FreeGranules(start, want);
    *err = AllocError::kNoMemory;
    return false;
  }
  extents_.push_back(e);
  if (next_extent_granules_ < kMaxExtentGranules) next_extent_granules_ *= 2;
  *first = start;
  return true;
}

// Makes granules [first, first+count) of extent `e` usable: private
// anonymous pages, or (write-rare pools) pages of the extent's shared
// mapping, which MapNewExtent() made PROT_NONE and kept out of fork
// children. Either way one mprotect.
bool PoolImpl::OpenPages(uintptr_t addr, size_t size) {
  return size == 0 ||
         RemoveGuard(reinterpret_cast<void*>(addr), size, prot_none_guards_);
}

bool PoolImpl::CommitRange(const Extent& /*e*/, size_t first, size_t count) {
  return CommitPages(reinterpret_cast<void*>(GranuleAddress(first)),
                     count << kGranuleShift);
}

SpanRecord* PoolImpl::NewSmallSpan(int cls, AllocError* err) {
  const size_t granules = SpanGranules(cls);
  const size_t data_bytes = SpanDataBytes(granules);
  // Zero-size spans commit nothing: they do not count against the cap.
  if (cls != kZeroClass && opts_.max_bytes != 0 &&
      committed_ + data_bytes > opts_.max_bytes) {
    *err = AllocError::kNoMemory;
    return nullptr;
  }
  size_t g = 0;
  bool guarded = false;
  if (!CarveGranules(granules, &g, &guarded, err)) return nullptr;
  const uintptr_t start = GranuleAddress(g);
  const uintptr_t end = start + (granules << kGranuleShift);
  // A zero-size span is guard pages from end to end: its objects own no
  // byte, and any access through one faults.
  const bool zero = cls == kZeroClass;
  const bool ok =
      guarded ? zero || OpenPages(start + kPageSize, end - start - 2 * kPageSize)
              : InstallGuard(reinterpret_cast<void*>(start), zero ? end - start : kPageSize,
                             &prot_none_guards_) &&
                    (zero || InstallGuard(reinterpret_cast<void*>(end - kPageSize),
                                          kPageSize, &prot_none_guards_));
  if (!ok) {
    if (!guarded) InstallGuard(reinterpret_cast<void*>(start), end - start, &prot_none_guards_);
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
  rec->scan_cursor = 0;
  rec->touched = 0;
  rec->prev = rec->next = 0;
  rec->purged = 1;  // empty, and no page touched yet
  SealCanary(rec);
  // Zero-size objects honour the pool's alignment: only every step-th slot
  // of their span is used; the others stay cached (never handed out).
  const uint32_t step = zero && opts_.align > kClassSize[cls]
                            ? static_cast<uint32_t>(opts_.align / kClassSize[cls])
                            : 1;
  uint32_t usable = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const bool use = i % step == 0;
    usable += use;
    StoreSlack(SlackEntry(g, wide, i), wide, use ? FreeMark(wide) : CachedMark(wide));
  }
  rec->free_count = usable;
  if (!zero) AsanPoison(start + kPageSize, size_t{n} * kClassSize[cls]);
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
  if (!zero) committed_ += data_bytes;
  ++small_spans_;
  guard_pages_ += zero ? granules * kPagesPerGranule : 2;
  metadata_bytes_ += sizeof(SpanRecord) + n * SlackWidth(cls) +
                     (granules * kPagesPerGranule) * sizeof(uint64_t);
  PushPartial(rec);
  return rec;
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
  if (rec->free_count == rec->nslots.load(std::memory_order_relaxed)) SpanEmptied(rec);
}

void PoolImpl::SpanEmptied(SpanRecord* rec) {
  const int cls = rec->class_idx;
  if (cls == kZeroClass) return;  // no data pages
  // Write-rare pools' pages belong to their shared mapping, where
  // MADV_DONTNEED would not free them.
  if (wr_shared_ || empty_spans_[cls] < kEmptySpansKept) {
    ++empty_spans_[cls];
    return;
  }
  // Every slot is free, so zero (zero_on_free) or stale: nothing to keep.
  DiscardPages(reinterpret_cast<void*>(rec->base.load(std::memory_order_relaxed)),
               SpanDataBytes(rec->granules));
  rec->purged = 1;
  rec->scan_cursor = rec->touched = 0;  // every page fresh again
}

void PoolImpl::LeaveEmpty(SpanRecord* rec) {
  if (rec->class_idx == kZeroClass) return;
  if (rec->purged != 0) {
    rec->purged = 0;
  } else {
    --empty_spans_[rec->class_idx];
  }
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
  pc->hard = hard_;
  pc->stale.store(0, std::memory_order_relaxed);
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
    const auto give_back = [&](const CacheEntry& e) {
      SpanRecord* rec = RecordOfSlack(e.slack);
      if (!CanaryOk(rec)) ReportCorruption(rec, "span record canary");
      ReturnSlot(rec, e.slack);
    };
    for (uint32_t i = 0; i < cc->count; ++i) give_back(cc->e()[i]);
    for (uint32_t i = 0; i < cc->q_count; ++i) give_back(cc->q[i]);
    cc->count = cc->q_count = cc->q_head = 0;
  }
}

void PoolImpl::EvictCache(PoolCache* pc) {
  MutexLock l(&mu_);
  if (pc->orphaned) return;
  FlushLocked(pc);
  if (pc->prev != nullptr) pc->prev->next = pc->next;
  if (pc->next != nullptr) pc->next->prev = pc->prev;
  if (caches_ == pc) caches_ = pc->next;
  pc->prev = pc->next = nullptr;
  pc->orphaned = true;
}

void PoolImpl::InvalidateCaches() {
  cache_key_.store(NewCacheKey(), std::memory_order_release);
  for (PoolCache* pc = caches_; pc != nullptr; pc = pc->next) {
    pc->stale.store(1, std::memory_order_relaxed);
  }
}

}  // namespace internal
}  // namespace sealpool
