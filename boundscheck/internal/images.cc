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

// Immutable once published. Replaced snapshots are never freed: a reader
// may still hold one, and there is one per load/unload event at most.
struct Snapshot {
  unsigned long long generation = 0;  // dl_iterate_phdr adds + subs
  std::vector<Range> read_only;       // sorted, disjoint
  std::vector<Range> code;            // sorted, disjoint
};

std::atomic<const Snapshot*> g_snapshot{nullptr};
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
  auto* s = static_cast<Snapshot*>(data);
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
  auto* s = new Snapshot();
  dl_iterate_phdr(Collect, s);
  Merge(&s->read_only);
  Merge(&s->code);
  g_snapshot.store(s, std::memory_order_release);
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

// The range of `v` that [a, a+len) touches, or nullptr.
const Range* Find(const std::vector<Range>& v, uintptr_t a, uintptr_t end) {
  auto it = std::upper_bound(v.begin(), v.end(), a,
                             [](uintptr_t x, const Range& r) { return x < r.hi; });
  if (it != v.end() && it->lo < end) return &*it;
  return nullptr;
}

}  // namespace

ImageHit FindImageRange(uintptr_t a, size_t len, bool include_read_only,
                        uintptr_t* range_start) {
  const Snapshot* s = Current();
  const uintptr_t end = a + len;
  if (const Range* r = Find(s->code, a, end)) {
    *range_start = r->lo;
    return ImageHit::kCode;
  }
  if (!include_read_only) return ImageHit::kNone;
  if (const Range* r = Find(s->read_only, a, end)) {
    *range_start = r->lo;
    return ImageHit::kReadOnly;
  }
  return ImageHit::kNone;
}

void RefreshImages() { Build(); }

}  // namespace boundscheck_internal
}  // namespace sealpool
