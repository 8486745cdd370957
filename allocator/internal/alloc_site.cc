// sealpool — the allocation-site table and shadow (see alloc_site.h).

#include "allocator/internal/alloc_site.h"

#include <sys/mman.h>

#include "allocator/internal/mutex.h"

namespace sealpool {
namespace internal {

AllocSiteShadow g_alloc_sites;

namespace {

constexpr size_t kTableSize = size_t{1} << 16;  // entry 0 is never used

// Open addressing; an entry, once set, never changes, so a lookup needs no
// lock. Reserved at enable time (512 KiB, resident as sites appear).
std::atomic<uintptr_t>* g_table = nullptr;
std::atomic<uint32_t> g_used{0};
Mutex g_enable_mu;

void* Reserve(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

inline size_t Slot(uintptr_t site) {
  return static_cast<size_t>((site * 0x9e3779b97f4a7c15ull) >> 48);
}

}  // namespace

bool EnableAllocSites() {
  MutexLock l(&g_enable_mu);
  if (g_alloc_sites.entries.load(std::memory_order_acquire) != nullptr) {
    return true;
  }
  const size_t data = g_arena.data_size.load(std::memory_order_acquire);
  if (data == 0) return false;
  static_assert(kMaxSlotsPerSpan <= (size_t{1} << 12), "a span's run of entries is 4096");
  const size_t count = (data >> kGranuleShift) << 12;
  auto* table = static_cast<std::atomic<uintptr_t>*>(
      Reserve(kTableSize * sizeof(uintptr_t)));
  if (table == nullptr) return false;
  auto* entries = static_cast<uint16_t*>(Reserve(count * sizeof(uint16_t)));
  if (entries == nullptr) {
    munmap(table, kTableSize * sizeof(uintptr_t));
    return false;
  }
  g_table = table;
  g_alloc_sites.count = count;
  g_alloc_sites.entries.store(entries, std::memory_order_release);
  return true;
}

uint16_t InternAllocSite(uintptr_t site) {
  std::atomic<uintptr_t>* t = g_table;
  if (site == 0 || t == nullptr) return 0;
  size_t i = Slot(site);
  for (size_t probes = 0; probes < kTableSize; ++probes) {
    if (i == 0) i = 1;
    uintptr_t cur = t[i].load(std::memory_order_acquire);
    if (cur == site) return static_cast<uint16_t>(i);
    if (cur == 0) {
      // Keep a quarter of the table free: long probe runs cost every
      // allocation from a site that did not fit.
      if (g_used.load(std::memory_order_relaxed) >= kTableSize / 4 * 3) return 0;
      if (t[i].compare_exchange_strong(cur, site, std::memory_order_acq_rel)) {
        g_used.fetch_add(1, std::memory_order_relaxed);
        return static_cast<uint16_t>(i);
      }
      if (cur == site) return static_cast<uint16_t>(i);
    }
    i = (i + 1) & (kTableSize - 1);
  }
  return 0;
}

uintptr_t AllocSiteOf(uintptr_t obj) {
  const uint16_t* entry = AllocSiteEntry(obj);
  if (entry == nullptr) return 0;
  const uint16_t id = __atomic_load_n(entry, __ATOMIC_RELAXED);
  return id == 0 ? 0 : g_table[id].load(std::memory_order_acquire);
}

}  // namespace internal
}  // namespace sealpool
