// sealpool — whole-program mode's heap: start-up, free, realloc.

#include "allocator/malloc/heap.h"

#include <pthread.h>
#include <sched.h>

#include "allocator/internal/platform.h"
#include "allocator/internal/report.h"
#include "allocator/malloc/meta_heap.h"
#include "allocator/malloc/real_libc.h"
#include "allocator/page_query.h"
#include "allocator/runtime_options.h"

namespace sealpool {
namespace malloc_internal {

Heap g_heap;
__thread uint32_t tls_heap_shard __attribute__((tls_model("initial-exec"))) = 0;

uint32_t AssignShard() {
  const uint32_t s =
      1 + g_heap.next_shard.fetch_add(1, std::memory_order_relaxed) % g_heap.nshards;
  tls_heap_shard = s;
  return s;
}

namespace {

void SayOnce(const char* what) {
  char buf[256];
  internal::FixedWriter w(buf, sizeof(buf));
  w.Str("sealpool: ").Str(what).Str("; the process runs on sealpool's internal heap, unhardened\n");
  internal::WriteAll(2, w.data(), w.length());
}

// Runs once, on the first allocation outside internal code.
void Start() {
  internal::InternalScope scope;
  // Registered before the pools' handlers: fork's prepare step runs them in
  // reverse, so the internal heap's lock is taken last (it is taken under
  // pool mutexes) and released first.
  pthread_atfork(MetaLockForFork, MetaUnlockAfterFork, MetaUnlockAfterFork);
  const RuntimeOptions& o = GetRuntimeOptions();
  uint64_t key = 0;
  internal::GetRandomBytes(&key, sizeof(key));
  g_heap.key = key;
  g_heap.check_libc = o.check_libc;
  const int n = o.heap_pools < 1 ? 1 : (o.heap_pools > kMaxHeapPools ? kMaxHeapPools : o.heap_pools);
  int shards = o.heap_shards;
  if (shards == 0) {
    cpu_set_t cpus;
    shards = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
    if (shards > 8) shards = 8;
  }
  if (shards < 1) shards = 1;
  if (shards > kMaxHeapPools / n) shards = kMaxHeapPools / n;
  PoolOptions po;
  po.align = 16;
  for (int j = 0; j < n * shards; ++j) {
    const int i = j / shards, k = j % shards;
    char name[24];
    internal::FixedWriter w(name, sizeof(name));
    w.Str("malloc-").Dec(static_cast<uint64_t>(i));
    if (k > 0) w.Str(".").Dec(static_cast<uint64_t>(k));
    name[w.length()] = '\0';
    auto pool = internal::PoolImpl::Create(name, po);
    if (!pool.ok()) {
      SayOnce("the heap pools cannot be created (no arena?)");
      g_heap.state.store(Heap::kFailed, std::memory_order_release);
      return;
    }
    internal::PoolImpl* impl = pool.value()->impl();
    impl->MarkHeap();
    g_heap.pools[j] = impl;
  }
  g_heap.npools = static_cast<uint32_t>(n);
  g_heap.nshards = static_cast<uint32_t>(shards);
  if (o.alloc_sites) internal::EnableAllocSites();
  g_heap.state.store(Heap::kReady, std::memory_order_release);
}

}  // namespace

void* AllocateCold(size_t size, size_t align, uintptr_t site) {
  if (!internal::InInternalCode()) {
    int s = g_heap.state.load(std::memory_order_acquire);
    if (s == Heap::kNone &&
        g_heap.state.compare_exchange_strong(s, Heap::kStarting,
                                             std::memory_order_acq_rel)) {
      Start();
    }
    while ((s = g_heap.state.load(std::memory_order_acquire)) == Heap::kStarting) {
      sched_yield();
    }
    if (s == Heap::kReady) return HeapAllocate(size, align, site);
  }
  return MetaAlloc(size, align);
}

void* HeapAllocateZeroed(size_t n, size_t size, uintptr_t site) {
  size_t bytes;
  if (__builtin_mul_overflow(n, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (g_heap.state.load(std::memory_order_acquire) == Heap::kReady &&
      !internal::InInternalCode()) {
    internal::AllocError err;
    // Writes nothing where the memory is known to be zero (large objects'
    // fresh pages, slots verified zero at hand-out).
    void* r = PoolForSite(site)->AllocateZeroed(n, size, &err);
    if (r == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    internal::RecordAllocSite(reinterpret_cast<uintptr_t>(r), site);
    return r;
  }
  void* r = AllocateCold(bytes, 16, site);
  if (r != nullptr && bytes != 0) RawMemset(r, 0, bytes);
  return r;
}

void HeapFree(void* p) {
  if (p == nullptr) return;
  if (IsMetaBlock(p)) {
    MetaFree(p);
    return;
  }
  internal::PoolImpl::Free(p);
}

void* HeapReallocate(void* p, size_t size, uintptr_t site) {
  if (p == nullptr) return HeapAllocate(size, 16, site);
  if (size == 0) {
    HeapFree(p);
    return nullptr;
  }
  if (IsMetaBlock(p)) {
    void* n = HeapAllocate(size, 16, site);
    if (n == nullptr) return nullptr;
    const size_t old = MetaSize(p);
    RawMemcpy(n, p, old < size ? old : size);
    MetaFree(p);
    return n;
  }
  internal::AllocError err = internal::AllocError::kOk;
  void* r = internal::PoolImpl::Reallocate(nullptr, p, size, &err);
  if (r == nullptr) {
    errno = err == internal::AllocError::kSealed ? EPERM : ENOMEM;
    return nullptr;
  }
  internal::RecordAllocSite(reinterpret_cast<uintptr_t>(r), site);
  return r;
}

size_t HeapUsableSize(const void* p) {
  if (p == nullptr) return 0;
  if (IsMetaBlock(p)) return MetaSize(p);
  ObjectBounds b;
  if (LookupObject(p, &b, kLookupBounds) != Lookup::kObject ||
      b.start != reinterpret_cast<uintptr_t>(p)) {
    return 0;
  }
  return b.size;
}

}  // namespace malloc_internal
}  // namespace sealpool
