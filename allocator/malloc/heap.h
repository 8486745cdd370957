// sealpool — whole-program mode's heap: the pools malloc allocates from.
//
// The heap is `heap_pools` pools (SEALPOOL_OPTIONS), named malloc-0 to
// malloc-<N-1>, as the kernel's random kmalloc caches: each allocation goes
// to the pool that a keyed hash of its call site (the return address into
// the program) picks, with a key drawn from the kernel at start-up. Objects
// from unrelated code therefore rarely share a span, and which code shares
// one changes from run to run. Heap pools are never sealable and never
// destroyed.
//
// The heap starts on the first allocation (which may come before any
// constructor has run) and allocations on a thread that is inside the
// allocator go to the internal heap (meta_heap.h).

#ifndef SEALPOOL_ALLOCATOR_MALLOC_HEAP_H_
#define SEALPOOL_ALLOCATOR_MALLOC_HEAP_H_

#include <errno.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "allocator/internal/alloc_site.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/internal/reentry.h"

namespace sealpool {
namespace malloc_internal {

inline constexpr int kMaxHeapPools = 64;

struct Heap {
  enum State : int { kNone = 0, kStarting = 1, kReady = 2, kFailed = 3 };
  std::atomic<int> state{kNone};
  uint32_t npools = 0;
  uint64_t key = 0;
  bool check_libc = true;
  internal::PoolImpl* pools[kMaxHeapPools] = {};
};
extern Heap g_heap;

// The return address of the function this is used in: the allocation site.
#define SEALPOOL_CALL_SITE() \
  reinterpret_cast<uintptr_t>(__builtin_extract_return_addr(__builtin_return_address(0)))

inline internal::PoolImpl* PoolForSite(uintptr_t site) {
  const uint64_t h = (site ^ g_heap.key) * 0x9e3779b97f4a7c15ull;
  return g_heap.pools[((h >> 32) * g_heap.npools) >> 32];
}

// Everything but the ready heap's hot path: start-up, internal code, and a
// heap that failed to start.
void* AllocateCold(size_t size, size_t align, uintptr_t site);

// malloc's path: `align` is a power of two (16 for plain malloc); nullptr
// with errno ENOMEM on failure.
inline void* HeapAllocate(size_t size, size_t align, uintptr_t site) {
  if (__builtin_expect(g_heap.state.load(std::memory_order_acquire) != Heap::kReady ||
                           internal::InInternalCode(),
                       0)) {
    return AllocateCold(size, align, site);
  }
  internal::PoolImpl* p = PoolForSite(site);
  internal::AllocError err;
  void* r = align <= 16 ? p->Allocate(size, &err)
                        : p->AllocateAligned(size, align, &err);
  if (__builtin_expect(r == nullptr, 0)) {
    errno = ENOMEM;
    return nullptr;
  }
  internal::RecordAllocSite(reinterpret_cast<uintptr_t>(r), site);
  return r;
}

// calloc's path: n * size bytes, zero; ENOMEM when the product overflows.
void* HeapAllocateZeroed(size_t n, size_t size, uintptr_t site);
// free's path (nullptr is a no-op).
void HeapFree(void* p);
// realloc's path, with glibc's meaning of size 0 (the block is freed and
// nullptr returned).
void* HeapReallocate(void* p, size_t size, uintptr_t site);
// The object's exact size; 0 for nullptr or memory that is not a live
// heap object.
size_t HeapUsableSize(const void* p);

}  // namespace malloc_internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_MALLOC_HEAP_H_
