// sealpool — per-thread caches: creation, eviction and thread exit.

#include "allocator/internal/thread_cache.h"

#include <pthread.h>

#include "absl/base/call_once.h"
#include "allocator/internal/check.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/pool_impl.h"

namespace sealpool {
namespace internal {

__thread ThreadCache tls_cache __attribute__((tls_model("initial-exec")));
__thread int tls_internal_depth __attribute__((tls_model("initial-exec")));

namespace {

pthread_key_t exit_key;
absl::once_flag exit_key_once;

void DeletePoolCache(PoolCache* pc) {
  for (ClassCache*& cc : pc->cls) {
    delete cc;
    cc = nullptr;
  }
  delete pc;
}

// Flushes and deletes the cache in slot `s` of the calling thread.
void EvictSlot(ThreadCache* tc, int s) {
  PoolCache* pc = tc->slot[s];
  if (pc == nullptr) return;
  tc->slot[s] = nullptr;
  pc->pool->EvictCache(pc);
  DeletePoolCache(pc);
}

void OnThreadExit(void*) {
  ThreadCache* tc = &tls_cache;
  for (int s = 0; s < kCacheSlots; ++s) EvictSlot(tc, s);
  tc->registered = false;
}

void ArmThreadExit(ThreadCache* tc) {
  absl::call_once(exit_key_once, [] {
    SEALPOOL_CHECK(pthread_key_create(&exit_key, OnThreadExit) == 0,
                   "pthread_key_create failed");
  });
  // Any non-null value makes the destructor run at thread exit. Internal:
  // for a key past the first 32, glibc allocates its second-level block,
  // which in whole-program mode must not come back here.
  {
    InternalScope scope;
    pthread_setspecific(exit_key, tc);
  }
  tc->registered = true;
}

}  // namespace

PoolCache* AcquirePoolCache(PoolImpl* pool) {
  ThreadCache* tc = &tls_cache;
  const int s = static_cast<int>(pool->id() & (kCacheSlots - 1));
  PoolCache* pc = tc->slot[s];
  if (pc != nullptr && pc->pool == pool && pc->key == pool->cache_key()) {
    return pc;
  }
  EvictSlot(tc, s);
  if (!tc->registered) ArmThreadExit(tc);
  if (tc->rng == 0) ReseedThreadRandom();
  pc = new PoolCache();
  if (!pool->RegisterCache(pc)) {
    DeletePoolCache(pc);
    return nullptr;
  }
  tc->slot[s] = pc;
  return pc;
}

void ReseedThreadRandom() {
  // Per thread, from the kernel: unpredictable to an attacker.
  uint64_t seed = 0;
  GetRandomBytes(&seed, sizeof(seed));
  tls_cache.rng = seed | 1;
}

void FlushThreadCache() {
  ThreadCache* tc = &tls_cache;
  for (int s = 0; s < kCacheSlots; ++s) EvictSlot(tc, s);
}

}  // namespace internal
}  // namespace sealpool
