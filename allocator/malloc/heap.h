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
// Each of those pools can be `heap_shards` pools, one per group of threads:
// threads are dealt shards in turn at their first allocation, and allocate
// from their own shard only (free takes an object back to its own pool,
// whichever thread frees it). Two threads allocating at the same site then
// do not share spans: without shards their objects, slots and slot states
// interleave in the same cache lines, and every free's compare-and-swap
// and every zeroing contends for lines the other thread is writing. Shard
// 0 of pool i is malloc-i, shard k > 0 malloc-i.k: a program with one
// thread sees only malloc-0 to malloc-<N-1>.
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
  uint32_t npools = 0;   // site pools (heap_pools)
  uint32_t nshards = 1;  // shards of each (heap_shards); npools * nshards <= 64
  uint64_t key = 0;
  bool check_libc = true;
  std::atomic<uint32_t> next_shard{0};
  // Shard k of site pool i at [i * nshards + k].
  internal::PoolImpl* pools[kMaxHeapPools] = {};
  // Every heap pool, shards included.
  uint32_t count() const { return npools * nshards; }
};
extern Heap g_heap;

// The calling thread's shard plus one; 0 until its first allocation.
extern __thread uint32_t tls_heap_shard __attribute__((tls_model("initial-exec")));
// Deals the calling thread its shard (out of line: once per thread).
uint32_t AssignShard();

// The return address of the function this is used in: the allocation site.
#define SEALPOOL_CALL_SITE() \
  reinterpret_cast<uintptr_t>(__builtin_extract_return_addr(__builtin_return_address(0)))

inline internal::PoolImpl* PoolForSite(uintptr_t site) {
  const uint64_t h = (site ^ g_heap.key) * 0x9e3779b97f4a7c15ull;
  uint32_t shard = tls_heap_shard;
  if (__builtin_expect(shard == 0, 0)) shard = AssignShard();
  const uint32_t i = static_cast<uint32_t>(((h >> 32) * g_heap.npools) >> 32);
  return g_heap.pools[i * g_heap.nshards + shard - 1];
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
