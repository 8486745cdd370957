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

// Overwrites the canary of the span record that covers `ptr` (a pool
// object) with garbage, so that the next slow-path use detects corruption.
// Returns false if `ptr` is not in a span.
bool CorruptSpanCanaryForTest(const void* ptr);

// Breaks the partial-list link of the span that covers `ptr`, so that the
// next list update detects it. Returns false if `ptr` is not in a span.
bool CorruptSpanLinkForTest(const void* ptr);

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

// True when guards are MADV_GUARD_INSTALL markers (else PROT_NONE pages).
bool GuardsUseMadvise();

// Makes guards PROT_NONE pages (true) or probes the kernel again (false),
// so that tests cover the fallback on kernels that have guard markers.
// Affects spans created afterwards; call before creating the test's pools.
void ForceProtNoneGuardsForTest(bool force);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_TESTING_H_
