// sealpool — hooks for tests only.
//
// Fault injection for the platform layer and access to metadata so that
// tests can prove corruption is detected. Not part of the public API; tests
// link the library and include this header directly.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_TESTING_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_TESTING_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace internal {

// Makes the next `count` memory-mapping calls of the platform layer (mmap,
// mprotect to writable) fail with ENOMEM; 0 turns injection off.
void InjectMapFailures(int count);

// Makes the next `count` page moves (MovePages) fail as a kernel refusal
// after the destination was unmapped would: the destination is mapped
// again, empty, and the caller falls back to a copy.
void InjectMoveFailures(int count);
// Live large spans holding pages that a realloc moved in, over all pools.
size_t MovedInSpansForTest();

// Overwrites the canary of the span record that covers `ptr` (a pool
// object) with garbage, so that the next slow-path use detects corruption.
// Returns false if `ptr` is not in a span.
bool CorruptSpanCanaryForTest(const void* ptr);

// Breaks the partial-list link of the span that covers `ptr`, so that the
// next list update detects it. Returns false if `ptr` is not in a span.
bool CorruptSpanLinkForTest(const void* ptr);

// Overwrites the slot-state entry of the small object at `ptr` with
// `value` (e.g. more than its slot's size), as a stray write into the
// slack pages would. Returns false if `ptr` is not in a small span.
bool SetSlotEntryForTest(const void* ptr, uint32_t value);

// Adds `delta` to the free count of the small span that covers `ptr`, so
// that the count and the slot states disagree. False if not a small span.
bool AddToSpanFreeCountForTest(const void* ptr, int delta);

// Sets the high-water mark (SpanRecord::touched) of the small span that
// covers `ptr` to its slot count plus `past` (0: every slot counted as
// used, a valid state). False if not a small span.
bool SetSpanHighWaterMarkForTest(const void* ptr, int past);

// Sets or clears the sealed flag of the span that covers `ptr`, without
// changing page protection, so that checker tests can cover sealed-memory
// rules on their own. Returns false if `ptr` is not in a span.
bool SetSpanSealedForTest(const void* ptr, bool sealed);

// Flushes the calling thread's caches back to their pools.
void FlushThreadCacheForTest();

// Number of kernel mappings in /proc/self/maps.
size_t CountMappings();
// Number of those that overlap the arena reservation.
size_t CountArenaMappings();

// Arena geometry, for tests that probe guard and metadata pages.
uintptr_t ArenaDataBase();
size_t ArenaDataSize();
uintptr_t ArenaMetadataBase();
uintptr_t ArenaMetadataEnd();  // end of the slack zone

// True when guards are MADV_GUARD_INSTALL markers (else PROT_NONE pages).
bool GuardsUseMadvise();

// Makes guards PROT_NONE pages (true) or probes the kernel again (false),
// so that tests cover the fallback on kernels that have guard markers.
// Affects spans created afterwards; call before creating the test's pools.
void ForceProtNoneGuardsForTest(bool force);

// Makes kPoolWriteRareKey pools created afterwards fall back to the memfd
// alias (true), as on a CPU without protection keys; false undoes it.
void DisableProtectionKeysForTest(bool disabled);
// True once this process has allocated its write-rare key, or decided it
// has none (the decision is made once, at the first kPoolWriteRareKey
// pool).
bool ProtectionKeyDecidedForTest();

// Runs `fn(arg)` on the writing thread inside every write-rare window
// (writes enabled: the alias mapped, or the key writable); nullptr removes
// it. Lets a test act while a window is open, without timing.
void SetWriteRareWindowHookForTest(void (*fn)(void*), void* arg);

// The metadata of the small or large object at `ptr`: the address of its
// page-table entry, its span record and its slack page. 0 outside the
// data zone.
struct MetadataAddresses {
  uintptr_t page_entry = 0;
  uintptr_t span_record = 0;
  uintptr_t slack_page = 0;
};
MetadataAddresses MetadataOfForTest(const void* ptr);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_TESTING_H_
