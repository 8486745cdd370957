// sealpool — arena reservation, page table stores and the granule allocator.

#include "allocator/internal/arena.h"

#include <unistd.h>

#include <deque>
#include <iterator>
#include <utility>

#include "absl/base/call_once.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/runtime_options.h"

namespace sealpool {
namespace internal {

ArenaGeometry g_arena;
static_assert(sizeof(ArenaGeometry) == 4096,
              "the geometry is one page, made read-only after init");

namespace {

// Free granule ranges: first granule -> count. Ranges never touch.
struct GranuleMap {
  Mutex mu;
  std::map<size_t, size_t> free ABSL_GUARDED_BY(mu);
  // Released pools' ranges not yet free again, oldest pool first.
  std::deque<std::vector<std::pair<size_t, size_t>>> quarantine ABSL_GUARDED_BY(mu);
};

GranuleMap& Granules() {
  static GranuleMap* m = new GranuleMap();  // never destroyed
  return *m;
}

Mutex init_mu;


}  // namespace

bool InitArena() {
  if (g_arena.data_size.load(std::memory_order_acquire) != 0) return true;
  GetRuntimeOptions();  // SEALPOOL_OPTIONS, before any violation can happen
  InstallAsanReportHook();  // ASan builds: reports name the pool
  MutexLock lock(&init_mu);
  if (g_arena.data_size.load(std::memory_order_acquire) != 0) return true;
  SEALPOOL_CHECK(sysconf(_SC_PAGESIZE) == static_cast<long>(kPageSize),
                 "sealpool needs 4 KiB pages");

  // The configured size, or — where the address space is limited (ulimit -v,
  // valgrind) — half of it, down to 1 GiB.
  size_t data_size = static_cast<size_t>(GetRuntimeOptions().arena_gib) << 30;
  size_t granules = 0, table_size = 0, records_size = 0, slack_size = 0;
  size_t total = 0, meta_total = 0;
  // Gaps are a granule wide so that the data zone is granule-aligned.
  const size_t gap = kGranuleSize;
  void* res = nullptr;
  void* meta = nullptr;
  for (; data_size >= (size_t{1} << 30); data_size /= 2) {
    granules = data_size >> kGranuleShift;
    table_size = RoundUp((data_size >> kPageShift) * 8, kPageSize);
    records_size = RoundUp(granules * sizeof(SpanRecord), kPageSize);
    slack_size = granules * kPageSize;
    total = gap + data_size + gap + kGranuleSize;  // + room for alignment
    meta_total = gap + table_size + gap + records_size + gap + slack_size + gap;
    res = ReserveAddressSpace(total);
    if (res == nullptr) continue;
    meta = ReserveAddressSpaceRandom(meta_total);
    if (meta != nullptr) break;
    ReleaseAddressSpace(res, total);
    res = nullptr;
  }
  if (res == nullptr) return false;
  const uintptr_t data =
      RoundUp(reinterpret_cast<uintptr_t>(res), kGranuleSize) + gap;
  const uintptr_t table = reinterpret_cast<uintptr_t>(meta) + gap;
  const uintptr_t records = table + table_size + gap;
  const uintptr_t slack = records + records_size + gap;
  if (!CommitPages(reinterpret_cast<void*>(table), table_size) ||
      !CommitPages(reinterpret_cast<void*>(records), records_size) ||
      !CommitPages(reinterpret_cast<void*>(slack), slack_size)) {
    ReleaseAddressSpace(res, total);
    ReleaseAddressSpace(meta, meta_total);
    return false;
  }
  GetRandomBytes(g_arena.secret, sizeof(g_arena.secret));
  g_arena.fence_fast_paths = !ProcessWideBarrier();
  g_arena.secret[1] |= 1;  // a multiplier (hardening.h): odd
  g_arena.reservation = reinterpret_cast<uintptr_t>(res);
  g_arena.reservation_size = total;
  g_arena.meta_reservation = reinterpret_cast<uintptr_t>(meta);
  g_arena.meta_reservation_size = meta_total;
  g_arena.meta_begin = table;
  g_arena.meta_end = slack + slack_size;
  g_arena.data_base = data;
  g_arena.table = reinterpret_cast<std::atomic<uint64_t>*>(table);
  g_arena.records = reinterpret_cast<SpanRecord*>(records);
  g_arena.slack = reinterpret_cast<uint8_t*>(slack);
  g_arena.granules = granules;
  {
    GranuleMap& m = Granules();
    MutexLock l(&m.mu);
    m.free.clear();
    m.free.emplace(0, granules);
  }
  g_arena.data_size.store(data_size, std::memory_order_release);
  // The geometry and the secrets are never written again: a write through
  // a stray pointer faults instead of redirecting the allocator.
  SEALPOOL_CHECK(ProtectReadOnly(&g_arena, sizeof(g_arena)),
                 "cannot make the arena geometry read-only");
  return true;
}

void SetPageEntries(uintptr_t addr, size_t npages, uint64_t entry) {
  std::atomic<uint64_t>* t = &g_arena.table[PageIndex(addr)];
  for (size_t i = 0; i < npages; ++i) t[i].store(entry, std::memory_order_release);
}

namespace {

bool TakeFreeRange(GranuleMap& m, size_t count, size_t* first)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.mu) {
  for (auto it = m.free.begin(); it != m.free.end(); ++it) {
    if (it->second < count) continue;
    *first = it->first;
    const size_t rest = it->second - count;
    const size_t rest_start = it->first + count;
    m.free.erase(it);
    if (rest > 0) m.free.emplace(rest_start, rest);
    return true;
  }
  return false;
}

void FreeRange(GranuleMap& m, size_t first, size_t count)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.mu) {
  auto next = m.free.lower_bound(first);
  if (next != m.free.end()) {
    SEALPOOL_CHECK(first + count <= next->first, "granule range freed twice");
    if (first + count == next->first) {
      count += next->second;
      next = m.free.erase(next);
    }
  }
  if (next != m.free.begin()) {
    auto prev = std::prev(next);
    SEALPOOL_CHECK(prev->first + prev->second <= first,
                   "granule range freed twice");
    if (prev->first + prev->second == first) {
      prev->second += count;
      return;
    }
  }
  m.free.emplace(first, count);
}

}  // namespace

bool AllocateGranules(size_t count, size_t* first) {
  GranuleMap& m = Granules();
  MutexLock l(&m.mu);
  if (TakeFreeRange(m, count, first)) return true;
  // Out of room: quarantined ranges are handed out rather than failing.
  while (!m.quarantine.empty()) {
    for (const auto& r : m.quarantine.front()) FreeRange(m, r.first, r.second);
    m.quarantine.pop_front();
    if (TakeFreeRange(m, count, first)) return true;
  }
  return false;
}

void FreeGranules(size_t first, size_t count) {
  GranuleMap& m = Granules();
  MutexLock l(&m.mu);
  FreeRange(m, first, count);
}

void ReleaseGranules(const std::vector<std::pair<size_t, size_t>>& ranges,
                     size_t quarantine) {
  GranuleMap& m = Granules();
  MutexLock l(&m.mu);
  m.quarantine.push_back(ranges);
  while (m.quarantine.size() > quarantine) {
    for (const auto& r : m.quarantine.front()) FreeRange(m, r.first, r.second);
    m.quarantine.pop_front();
  }
}

size_t FreeGranuleCount() {
  GranuleMap& m = Granules();
  MutexLock l(&m.mu);
  size_t n = 0;
  for (const auto& r : m.free) n += r.second;
  for (const auto& pool : m.quarantine) {
    for (const auto& r : pool) n += r.second;
  }
  return n;
}

void LockGranulesForFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Granules().mu.Lock();
}
void UnlockGranulesAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Granules().mu.Unlock();
}


}  // namespace internal
}  // namespace sealpool
