// sealpool — sealing: read-only spans, the fast-path handshake, and the
// protection of sealed spans' metadata.

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/slot.h"

#include <sched.h>

namespace sealpool {
namespace internal {

Outcome PoolImpl::Seal() {
  if (heap_.load(std::memory_order_acquire)) {
    return Outcome::FailedPrecondition(absl::StrCat(
        "pool '", name_, "' is a malloc heap pool; it cannot be sealed"));
  }
  MutexLock l(&mu_);
  if (destroyed_.load(std::memory_order_relaxed)) {
    return Outcome::FailedPrecondition(
        absl::StrCat("pool '", name_, "' was destroyed; it cannot be sealed"));
  }
  // Every thread's cache of this pool goes stale: slots cached in spans
  // sealed now are never handed out (they are abandoned). Fast paths that
  // read the old key finish before any slack page turns read-only.
  InvalidateCaches();
  WaitForFastPaths();
  const bool protect_slack = true;
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
      return Outcome::ResourceExhausted(absl::StrCat(
          "pool '", name_, "': mprotect(PROT_READ) failed while sealing"));
    }
    SealSpans(e.first + e.sealed, e.used - e.sealed);
    if (permanent && SealMappings(addr, bytes) != 0) enforced = false;
    sealed_bytes_ += bytes;
    ProtectSealedMetadata(e.first, e.sealed, e.used, protect_slack, permanent);
    e.sealed = e.used;
  }
  // Freed large spans inside sealed ranges cannot be reused.
  const auto abandon_sealed = [this](auto* spans) {
    for (auto it = spans->begin(); it != spans->end();) {
      bool in_sealed = false;
      for (const Extent& e : extents_) {
        in_sealed |= it->first >= e.first && it->first < e.first + e.sealed;
      }
      if (in_sealed) {
        abandoned_bytes_ += it->second << kGranuleShift;
        it = spans->erase(it);
      } else {
        ++it;
      }
    }
  };
  abandon_sealed(&large_quarantine_);
  abandon_sealed(&free_spans_);
  if (permanent) permanent_enforced_ = (seals_ == 0 || permanent_enforced_) && enforced;
  ++seals_;
  return Outcome::Ok();
}

// The seal and release side of the handshake described at
// BeginFastPath(): after the caches were marked stale, a process-wide
// barrier (or, without membarrier, a fence that pairs with the fast paths'
// own), then a wait until no cache of this pool is inside a fast path.
void PoolImpl::WaitForFastPaths() {
  if (g_arena.fence_fast_paths) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  } else {
    SEALPOOL_CHECK(ProcessWideBarrier(), "membarrier failed after it had worked");
  }
  for (PoolCache* pc = caches_; pc != nullptr; pc = pc->next) {
    // A fast path has no lock or call: the wait ends as soon as its thread
    // runs again.
    while (pc->busy.load(std::memory_order_acquire) != 0) sched_yield();
  }
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
      const bool zero = rec->class_idx == kZeroClass;
      if (rec->free_count > 0) {
        UnlinkPartial(rec);
        // Zero-size slots own no memory: nothing is abandoned with them.
        if (!zero) {
          abandoned_bytes_ += size_t{rec->free_count} *
                              rec->slot_size.load(std::memory_order_relaxed);
        }
      }
      if (!marker_guards && zero) {
        // A zero-size span is guard pages end to end.
        InstallGuard(reinterpret_cast<void*>(start), step << kGranuleShift);
      } else if (!marker_guards) {
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

}  // namespace internal
}  // namespace sealpool
