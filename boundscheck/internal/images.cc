// sealpool — image segment table.

#include "boundscheck/internal/images.h"

#include <link.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace sealpool {
namespace boundscheck_internal {
namespace {

struct Range {
  uintptr_t lo, hi;
};

// Ranges kept per kind; a process with more (after merging) has the rest
// unchecked, which can only let a copy through, never refuse a good one.
constexpr uint32_t kMaxRanges = 1024;

// A sorted, disjoint set of ranges in a flat array, with its overall bounds
// for a one-compare rejection.
struct RangeSet {
  uintptr_t lo = 0, hi = 0;
  uint32_t n = 0;
  Range r[kMaxRanges];

  void Assign(std::vector<Range>& v) {
    n = static_cast<uint32_t>(std::min<size_t>(v.size(), kMaxRanges));
    std::copy(v.begin(), v.begin() + n, r);
    lo = n > 0 ? r[0].lo : 0;
    hi = n > 0 ? r[n - 1].hi : 0;
  }

  // The range [a, end) touches, or nullptr: a binary search for the first
  // range that ends after a.
  const Range* Find(uintptr_t a, uintptr_t end) const {
    if (end <= lo || a >= hi) return nullptr;
    uint32_t first = 0, len = n;
    while (len > 0) {
      const uint32_t half = len / 2;
      if (r[first + half].hi <= a) {
        first += half + 1;
        len -= half + 1;
      } else {
        len = half;
      }
    }
    return first < n && r[first].lo < end ? &r[first] : nullptr;
  }
};

// Immutable once published. Replaced snapshots are never freed — a reader
// may still hold one, and there is one per load/unload event at most — but
// stay reachable through `previous`.
struct Snapshot {
  const Snapshot* previous = nullptr;
  unsigned long long generation = 0;  // dl_iterate_phdr adds + subs
  RangeSet read_only;
  RangeSet code;
};

// Collected ranges before they are sorted into a snapshot.
struct Collected {
  unsigned long long generation = 0;
  std::vector<Range> read_only;
  std::vector<Range> code;
};

std::atomic<const Snapshot*> g_snapshot{nullptr};
std::atomic<unsigned long long> g_epoch{0};  // snapshots built
std::mutex g_build_mu;
constexpr uint32_t kRecheckEvery = 1024;
thread_local uint32_t tls_countdown = 0;

void Merge(std::vector<Range>* v) {
  std::sort(v->begin(), v->end(),
            [](const Range& x, const Range& y) { return x.lo < y.lo; });
  std::vector<Range> out;
  for (const Range& r : *v) {
    if (!out.empty() && r.lo <= out.back().hi) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  *v = std::move(out);
}

int Collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<Collected*>(data);
  s->generation = info->dlpi_adds + info->dlpi_subs;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    const uintptr_t hi = lo + ph.p_memsz;
    if (ph.p_memsz == 0) continue;
    if (ph.p_type == PT_LOAD) {
      if ((ph.p_flags & PF_X) != 0) s->code.push_back({lo, hi});
      if ((ph.p_flags & PF_W) == 0) s->read_only.push_back({lo, hi});
    } else if (ph.p_type == PT_GNU_RELRO) {
      s->read_only.push_back({lo, hi});
    }
  }
  return 0;
}

int ReadGeneration(struct dl_phdr_info* info, size_t, void* data) {
  *static_cast<unsigned long long*>(data) = info->dlpi_adds + info->dlpi_subs;
  return 1;  // the counters are the same in every entry
}

const Snapshot* Build() {
  std::lock_guard<std::mutex> l(g_build_mu);
  Collected c;
  dl_iterate_phdr(Collect, &c);
  Merge(&c.read_only);
  Merge(&c.code);
  auto* s = new Snapshot();
  s->previous = g_snapshot.load(std::memory_order_relaxed);
  s->generation = c.generation;
  s->read_only.Assign(c.read_only);
  s->code.Assign(c.code);
  g_snapshot.store(s, std::memory_order_release);
  g_epoch.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

const Snapshot* Current() {
  const Snapshot* s = g_snapshot.load(std::memory_order_acquire);
  if (__builtin_expect(s == nullptr, 0)) return Build();
  if (__builtin_expect(tls_countdown-- == 0, 0)) {
    tls_countdown = kRecheckEvery - 1;
    unsigned long long gen = 0;
    dl_iterate_phdr(ReadGeneration, &gen);
    if (gen != s->generation) return Build();
  }
  return s;
}

}  // namespace

ImageHit FindImageRange(uintptr_t a, size_t len, bool include_read_only,
                        uintptr_t* range_start) {
  const Snapshot* s = Current();
  const uintptr_t end = a + len;
  if (const Range* r = s->code.Find(a, end)) {
    *range_start = r->lo;
    return ImageHit::kCode;
  }
  if (!include_read_only) return ImageHit::kNone;
  if (const Range* r = s->read_only.Find(a, end)) {
    *range_start = r->lo;
    return ImageHit::kReadOnly;
  }
  return ImageHit::kNone;
}

void RefreshImages() { Build(); }

unsigned long long ImageEpoch() {
  return g_epoch.load(std::memory_order_acquire);
}

}  // namespace boundscheck_internal
}  // namespace sealpool
