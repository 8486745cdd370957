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

#include "allocator/kernel_calls.h"

namespace sealpool {
namespace internal {

inline constexpr size_t kPageShift = 12;
inline constexpr size_t kPageSize = size_t{1} << kPageShift;

// v rounded up to a multiple of a (a power of two).
inline constexpr uintptr_t RoundUp(uintptr_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

// Reserves `size` bytes of PROT_NONE, MAP_NORESERVE address space. Costs no
// physical memory. Returns nullptr on failure.
void* ReserveAddressSpace(size_t size);

// The same, at a random address in the user address space (the kernel's
// choice when several random spots are taken).
void* ReserveAddressSpaceRandom(size_t size);

// Gives a reservation back to the kernel (munmap).
void ReleaseAddressSpace(void* addr, size_t size);

// Makes [addr, addr+size) readable and writable (pages appear on first
// touch). False on failure (errno set).
bool CommitPages(void* addr, size_t size);

// Returns [addr, addr+size) to reserved PROT_NONE state, dropping contents
// and any guard markers. False on failure.
bool DecommitPages(void* addr, size_t size);

// Turns committed pages into guard pages (any access faults) and drops their
// contents. False on failure. Sets *prot_none (when given) if the guard is a
// PROT_NONE page rather than a marker — a later mprotect of the range would
// undo it.
bool InstallGuard(void* addr, size_t size, bool* prot_none = nullptr);

// Turns guard pages back into committed, zero-filled pages. `prot_none`:
// some of them may be PROT_NONE fallback guards (InstallGuard's *prot_none),
// which takes an mprotect as well; marker guards need only the madvise.
bool RemoveGuard(void* addr, size_t size, bool prot_none = true);

// Makes [addr, addr+size) read-only. False on failure.
bool ProtectReadOnly(void* addr, size_t size);

// mseal(2) (Linux 6.10+): afterwards mprotect, munmap and mremap of the
// range fail with EPERM. Returns 0 or -errno (-ENOSYS where missing).
int SealMappings(void* addr, size_t size);

// Shared memory for write-rare pools, reachable through no file descriptor.
//
// MapSharedMemory() maps [addr, addr+size) of reserved space MAP_SHARED and
// PROT_NONE from a new memfd named `name`, sized to `size` (shmem pages
// cost nothing until touched; CommitPages() makes parts usable), keeps it
// out of fork children (MADV_DONTFORK), seals the memfd against every other
// way of writing it (F_SEAL_FUTURE_WRITE, no growing or shrinking, no more
// seals: a reopen through /proc/self/map_files cannot pwrite or map it
// writable) and closes it. False on failure; the range is then reserved
// space again.
bool MapSharedMemory(void* addr, size_t size, const char* name);
// True when a memfd can be created now (one is created and closed).
bool CanCreateMemfd(const char* name);

// A short-lived writable alias of the shared pages [src, src+size), at a
// random address: mremap() with old size 0 duplicates a shared mapping
// without a file descriptor, then mprotect() makes the duplicate writable
// (the original mapping may always be made writable). `src` must not be
// mseal()ed (mremap refuses it). nullptr on failure. Unmap with
// UnmapAlias().
void* MapAlias(const void* src, size_t size);
void UnmapAlias(void* addr, size_t size);

// A lasting duplicate of the shared pages [src, src+size), at a random
// address, with the protection they have now (PROT_NONE right after
// MapSharedMemory) and kept out of fork children: the alias source of
// memory that will be mseal()ed. nullptr on failure; unmap with
// UnmapAlias().
void* DuplicateShared(const void* src, size_t size);

// Keeps [addr, addr+size) out of fork children (MADV_DONTFORK).
bool DontFork(void* addr, size_t size);

// Moves the pages [src, src+size) to dst without copying them, and makes
// [dst, dst+dst_size) (dst_size > size) one mapping: the moved pages, then
// empty ones. Both ranges page-aligned and disjoint, read-write, private
// and anonymous (MAP_NORESERVE); the source must lie in one mapping. The
// source range is mapped anew, empty, at once (mremap leaves it unmapped):
// if anything else was mapped there meanwhile, this aborts rather than
// replace it. The destination stays a mapping of its own (its page offsets
// are the source's) until RenewPages replaces it. False when the pages
// were not moved: the source is as it was, the destination mapped again,
// read-write and empty (its contents are lost); aborts if it cannot be.
bool MovePages(void* src, size_t size, void* dst, size_t dst_size);
// Replaces [addr, addr+size) with a fresh private read-write mapping (its
// contents are dropped), which merges with its neighbours: for pages that
// MovePages moved in. Best effort: false when the kernel refused.
bool RenewPages(void* addr, size_t size);

// Releases the physical pages of [addr, addr+size); they read as zero later.
void DiscardPages(void* addr, size_t size);

// True when guards are MADV_GUARD_INSTALL markers.
bool GuardsUseMadvise();
// Test hook: force PROT_NONE guards (true) or re-probe (false).
void SetForceProtNoneGuards(bool force);

// Makes [addr, addr+size) writable again after ProtectReadOnly (metadata
// of a sealed pool, on destroy). False on failure.
bool ProtectReadWrite(void* addr, size_t size);

// membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED: when it returns, every
// thread of the process that was running has executed a full memory
// barrier. Lets a rare slow path pair with fast paths that use only a
// compiler barrier. Registers on first use; false where the kernel lacks it.
bool ProcessWideBarrier();

// Memory protection keys (x86 PKU), for write-rare pools.
//
// WriteRareKey() allocates one key for the process on first use, with
// writes disabled (reads allowed) in the calling thread; threads created
// later inherit that. Threads that already exist would get the kernel's
// default (no access at all) and could not even read the pool, so the key
// is only allocated while the process has one thread. Returns the key, or
// -1 where the CPU or kernel has none, the process was multi-threaded at
// the first call, or tests disabled keys.
int WriteRareKey();
// pkey_mprotect(PROT_READ | PROT_WRITE, key): the page tables allow
// writes; the thread's PKRU register decides.
bool ProtectWithKey(void* addr, size_t size, int key);
// Allows (true) or disables (false) writes through `key` for the calling
// thread only (WRPKRU; no system call).
void SetKeyWritable(int key, bool writable);
// Test hook: WriteRareKey() answers -1 while `disabled` (the fallback).
void SetProtectionKeysDisabled(bool disabled);
// True once WriteRareKey() has decided (a key, or none) for this process.
bool ProtectionKeyDecided();

// Fills `out` with random bytes from the kernel; aborts if none are had.
void GetRandomBytes(void* out, size_t size);

// Fault injection for tests: the next `count` mapping calls fail (ENOMEM);
// the next `count` SealMappings calls fail with ENOSYS.
void SetInjectedMapFailures(int count);
void SetInjectedSealFailures(int count);
void SetInjectedMoveFailures(int count);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_PLATFORM_H_
