// sealpool — whole-program mode's internal heap.
//
// While the allocator itself runs on a thread (internal::InInternalCode():
// a pool mutex held, a thread cache being made, a report being written),
// malloc and operator new on that thread are served from here rather than
// from the heap pools, which may be in the middle of changing. Also what
// the process allocates before the heap pools exist (the allocator's own
// start-up).
//
// A simple segregated heap: power-of-two classes from 32 to 64 KiB carved
// from 1 MiB chunks, bigger blocks in page runs (freed runs are reused, and
// their pages discarded); every block has a 16-byte header before it. It
// lives in its own reservation (1 GiB of PROT_NONE address space, less
// where that cannot be had; chunks turn read-write as they are carved), so
// free() knows its blocks by address. Internal use is small and rare; the
// heap is not hardened and never returns chunk memory to the system.

#ifndef SEALPOOL_ALLOCATOR_MALLOC_META_HEAP_H_
#define SEALPOOL_ALLOCATOR_MALLOC_META_HEAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace malloc_internal {

struct MetaRegion {
  std::atomic<uintptr_t> base{0};
  size_t size = 0;
};
extern MetaRegion g_meta_region;

// Whether `p` is a block of the internal heap (small or large).
inline bool IsMetaBlock(const void* p) {
  const uintptr_t b = g_meta_region.base.load(std::memory_order_relaxed);
  return reinterpret_cast<uintptr_t>(p) - b < g_meta_region.size;
}

// nullptr (errno ENOMEM) when out of memory. `align`: a power of two.
void* MetaAlloc(size_t size, size_t align);
void MetaFree(void* p);
// The block's usable size.
size_t MetaSize(const void* p);

// Fork handlers: the heap's lock is the innermost of all.
void MetaLockForFork();
void MetaUnlockAfterFork();

}  // namespace malloc_internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_MALLOC_META_HEAP_H_
