// sealpool — pool statistics and the span view behind the inspection
// tools.

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

PoolStats PoolImpl::Stats() const {
  PoolStats s;
  MutexLock l(&mu_);
  s.name = name_;
  s.id = id_;
  // Small objects are counted from their slot states (the fast paths keep
  // no counters), large ones under the mutex.
  size_t small_objects = 0, small_bytes = 0;
  CountSmallLive(&small_objects, &small_bytes);
  s.live_bytes = static_cast<size_t>(live_bytes_) + small_bytes;
  s.live_objects = static_cast<size_t>(live_objects_) + small_objects;
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
  s.abandoned_bytes =
      abandoned_bytes_ + waf_abandoned_bytes_.load(std::memory_order_relaxed);
  s.permanent = (opts_.flags & kPoolPermanent) != 0;
  s.permanent_enforced = permanent_enforced_;
  s.write_rare = (opts_.flags & kPoolWriteRare) != 0;
  s.write_rare_key = wr_key_ >= 0;
  s.sealed_metadata_bytes = sealed_metadata_bytes_;
  s.write_rares = write_rares_;
  return s;
}


namespace {

// The live objects of the small span `rec` at granule g; adds their bytes
// to *bytes.
uint32_t LiveSlots(const SpanRecord* rec, size_t g, size_t* bytes) {
  const bool wide = rec->wide.load(std::memory_order_relaxed) != 0;
  const uint32_t slot = rec->slot_size.load(std::memory_order_relaxed);
  const uint32_t n = rec->nslots.load(std::memory_order_relaxed);
  uint32_t live = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t v = LoadSlack(SlackEntry(g, wide, i), wide);
    if (v < CachedMark(wide)) {
      ++live;
      *bytes += slot - v;
    }
  }
  return live;
}

}  // namespace

void PoolImpl::CountSmallLive(size_t* objects, size_t* bytes) const {
  for (const Extent& e : extents_) {
    for (size_t g = e.first; g < e.first + e.used;) {
      const SpanRecord* rec = RecordAt(g);
      const auto kind = static_cast<SpanKind>(rec->kind.load(std::memory_order_relaxed));
      if (kind == SpanKind::kLarge && rec->large_granules > 0) {
        g += rec->large_granules;
        continue;
      }
      if (kind != SpanKind::kSmall || rec->granules == 0) {
        ++g;
        continue;
      }
      *objects += LiveSlots(rec, g, bytes);
      g += rec->granules;
    }
  }
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
        size_t live_bytes = 0;
        v.live = LiveSlots(rec, g, &live_bytes);
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

}  // namespace internal
}  // namespace sealpool
