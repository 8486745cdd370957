// sealpool — the operating-system primitives, behind one small interface.
//
// Everything sealpool asks of the kernel about memory goes through here:
// reserving address space, making pages usable or not, guard pages, and
// random bytes. Guards use MADV_GUARD_INSTALL (Linux 6.13+), which costs no
// kernel mapping; where the kernel lacks it they fall back to PROT_NONE
// pages, which split mappings (see README, "Memory layout").
//
// Test builds can make the mapping calls fail (internal/testing.h).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_PLATFORM_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_PLATFORM_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace internal {

inline constexpr size_t kPageShift = 12;
inline constexpr size_t kPageSize = size_t{1} << kPageShift;

// Reserves `size` bytes of PROT_NONE, MAP_NORESERVE address space. Costs no
// physical memory. Returns nullptr on failure.
void* ReserveAddressSpace(size_t size);

// Makes [addr, addr+size) readable and writable (pages appear on first
// touch). False on failure (errno set).
bool CommitPages(void* addr, size_t size);

// Returns [addr, addr+size) to reserved PROT_NONE state, dropping contents
// and any guard markers. False on failure.
bool DecommitPages(void* addr, size_t size);

// Turns committed pages into guard pages (any access faults) and drops their
// contents. False on failure.
bool InstallGuard(void* addr, size_t size);

// Turns guard pages back into committed, zero-filled pages.
bool RemoveGuard(void* addr, size_t size);

// Releases the physical pages of [addr, addr+size); they read as zero later.
void DiscardPages(void* addr, size_t size);

// True when guards are MADV_GUARD_INSTALL markers.
bool GuardsUseMadvise();
// Test hook: force PROT_NONE guards (true) or re-probe (false).
void SetForceProtNoneGuards(bool force);

// Fills `out` with random bytes from the kernel; aborts if none are had.
void GetRandomBytes(void* out, size_t size);

// Fault injection for tests: the next `count` mapping calls fail (ENOMEM).
void SetInjectedMapFailures(int count);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_PLATFORM_H_
