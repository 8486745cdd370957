// sealpool — test hooks (see testing.h).

#include "allocator/internal/testing.h"

#include <cstdio>

#include "allocator/internal/arena.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/internal/slot.h"
#include "allocator/internal/thread_cache.h"

namespace sealpool {
namespace internal {
namespace {

SpanRecord* SpanOf(const void* ptr) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  if (!InDataZone(a)) return nullptr;
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  const EntryKind k = EntryKindOf(e);
  if (k != EntryKind::kSmall && k != EntryKind::kLarge) return nullptr;
  return RecordAt(SpanGranule(e, a));
}

}  // namespace

void InjectMapFailures(int count) { SetInjectedMapFailures(count); }
void InjectMoveFailures(int count) { SetInjectedMoveFailures(count); }
size_t MovedInSpansForTest() { return PoolImpl::MovedInSpans(); }

bool CorruptSpanCanaryForTest(const void* ptr) {
  SpanRecord* r = SpanOf(ptr);
  if (r == nullptr) return false;
  r->canary.store(r->canary.load() ^ 0x5a5a5a5a5a5a5a5aull);
  return true;
}

bool CorruptSpanLinkForTest(const void* ptr) {
  SpanRecord* r = SpanOf(ptr);
  if (r == nullptr) return false;
  // Point both links at a granule that is not on the list.
  r->next = static_cast<uint32_t>(g_arena.granules);
  r->prev = static_cast<uint32_t>(g_arena.granules);
  return true;
}

bool SetSlotEntryForTest(const void* ptr, uint32_t value) {
  SpanRecord* r = SpanOf(ptr);
  if (r == nullptr || r->kind.load() != static_cast<uint8_t>(SpanKind::kSmall)) {
    return false;
  }
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  const uint32_t slot_size = r->slot_size.load();
  const size_t idx = (a - r->base.load()) / slot_size;
  const bool wide = r->wide.load() != 0;
  StoreSlack(SlackEntry(RecordGranule(r), wide, idx), wide, value);
  return true;
}

bool AddToSpanFreeCountForTest(const void* ptr, int delta) {
  SpanRecord* r = SpanOf(ptr);
  if (r == nullptr || r->kind.load() != static_cast<uint8_t>(SpanKind::kSmall)) {
    return false;
  }
  r->free_count += delta;
  return true;
}

bool SetSpanHighWaterMarkForTest(const void* ptr, int past) {
  SpanRecord* r = SpanOf(ptr);
  if (r == nullptr || r->kind.load() != static_cast<uint8_t>(SpanKind::kSmall)) {
    return false;
  }
  r->touched = static_cast<uint16_t>(r->nslots.load() + past);
  return true;
}

bool SetSpanSealedForTest(const void* ptr, bool sealed) {
  SpanRecord* r = SpanOf(ptr);
  if (r == nullptr) return false;
  r->sealed.store(sealed ? 1 : 0, std::memory_order_release);
  return true;
}

void FlushThreadCacheForTest() { FlushThreadCache(); }

size_t CountMappings() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return 0;
  size_t n = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) n += c == '\n';
  std::fclose(f);
  return n;
}

void ForceProtNoneGuardsForTest(bool force) { SetForceProtNoneGuards(force); }

void DisableProtectionKeysForTest(bool disabled) {
  SetProtectionKeysDisabled(disabled);
}

bool ProtectionKeyDecidedForTest() { return ProtectionKeyDecided(); }

void SetWriteRareWindowHookForTest(void (*fn)(void*), void* arg) {
  SetWriteRareWindowHook(fn, arg);
}

MetadataAddresses MetadataOfForTest(const void* ptr) {
  MetadataAddresses m;
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  if (!InDataZone(a)) return m;
  const uint64_t e = g_arena.table[PageIndex(a)].load(std::memory_order_acquire);
  const size_t g = SpanGranule(e, a);
  m.page_entry = reinterpret_cast<uintptr_t>(&g_arena.table[PageIndex(a)]);
  m.span_record = reinterpret_cast<uintptr_t>(RecordAt(g));
  m.slack_page = reinterpret_cast<uintptr_t>(SlackPage(g));
  return m;
}

size_t CountArenaMappings() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return 0;
  const uintptr_t lo = g_arena.reservation;
  const uintptr_t hi = lo + g_arena.reservation_size;
  const uintptr_t meta_lo = g_arena.meta_reservation;
  const uintptr_t meta_hi = meta_lo + g_arena.meta_reservation_size;
  size_t n = 0;
  char line[512];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long start = 0, end = 0;
    if (std::sscanf(line, "%lx-%lx", &start, &end) == 2 &&
        ((start < hi && end > lo) || (start < meta_hi && end > meta_lo))) {
      ++n;
    }
  }
  std::fclose(f);
  return n;
}

uintptr_t ArenaDataBase() { return g_arena.data_base; }
size_t ArenaDataSize() { return g_arena.data_size.load(); }
uintptr_t ArenaMetadataBase() { return g_arena.meta_begin; }
uintptr_t ArenaMetadataEnd() { return g_arena.meta_end; }

}  // namespace internal
}  // namespace sealpool
