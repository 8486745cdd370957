// sealpool — per-thread, per-pool caches of free slots.
//
// The fast path of Allocate and Free touches only the calling thread's
// cache: a direct-mapped table of PoolCache pointers indexed by pool id,
// each holding one small stack of free slots per size class. Refill and
// flush move slots between a cache and its pool's spans under the pool
// mutex.
//
// Invalidation: a PoolCache is valid only while its `key` equals its pool's
// cache_key, which changes when the pool is sealed, destroyed or released;
// a stale cache is flushed (or, if its pool is gone, dropped) on the next
// slow path. Slots sitting in a cache have slack state kCached, so the
// checker treats them as freed and a second free of them is a double free.
//
// Each class cache has two parts: a stack of slots ready for reuse, from
// which allocation takes a random entry (random_reuse), and a FIFO
// quarantine ring that every freed slot enters first; a slot reaches the
// stack only when `quarantine` later frees have pushed it out of the ring.
//
// Invariants: every entry's slot (stack and ring) has slack state kCached,
// was zeroed when freed (zero_on_free) and belongs to a span of `pool` with
// class index equal to the entry's class; count <= the class's cache cap
// (ClassCacheCap, at most kCacheCap); q_count <= QuarantineLength() of the
// pool and class; when the ring is full, q[q_head] is its
// oldest entry. `orphaned` is set (under the pool mutex) when the pool's
// memory was released, after which the entries are never touched.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_THREAD_CACHE_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_THREAD_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <new>

#include "allocator/internal/hardening.h"
#include "allocator/internal/reentry.h"
#include "allocator/internal/size_class.h"

namespace sealpool {
namespace internal {

class PoolImpl;

inline constexpr uint32_t kCacheCap = 128;

// The quarantine ring's length for a class: the pool's option, capped per
// class (ClassQuarantineCap).
inline uint32_t QuarantineLength(const Hardening& hard, const ClassInfo& ci) {
  return hard.quarantine < ci.quarantine_cap ? hard.quarantine : ci.quarantine_cap;
}
// Direct-mapped by pool id: a thread that alternates between two pools
// whose ids agree modulo kCacheSlots flushes its caches (and their
// quarantine rings) at each switch.
inline constexpr int kCacheSlots = 64;

// Caches are allocated as internal code: in whole-program mode the
// allocation of a thread's first cache of a pool must not need that cache.
struct InternalNew {
  static void* operator new(size_t n) {
    InternalScope scope;
    return ::operator new(n);
  }
  static void operator delete(void* p) {
    InternalScope scope;
    ::operator delete(p);
  }
};

struct CacheEntry {
  uintptr_t ptr;
  void* slack;  // the slot's slack entry (uint8_t or uint16_t)
};

struct ClassCache : InternalNew {
  uint32_t count = 0;    // stack entries
  uint32_t q_count = 0;  // ring entries
  uint32_t q_head = 0;   // next ring position to write
  // The stack (the class's cache cap of entries) and the ring (the pool's
  // quarantine length for the class), right after the header: a cache of a
  // class of large slots is a few lines, not the 3 KiB of the largest
  // caps, and the memory of a thread's caches follows what they can hold.
  // The stack is found without a load (it follows the header); the ring's
  // pointer is read only by frees.
  CacheEntry* q = nullptr;
  CacheEntry* e() { return reinterpret_cast<CacheEntry*>(this + 1); }

  // A cache with room for `cap` stack and `qlen` ring entries.
  static ClassCache* New(uint32_t cap, uint32_t qlen) {
    void* mem = InternalNew::operator new(sizeof(ClassCache) +
                                          (size_t{cap} + qlen) * sizeof(CacheEntry));
    ClassCache* cc = ::new (mem) ClassCache();
    cc->q = cc->e() + cap;
    return cc;
  }
  // The cache of class `cls` in a pool with hardening `hard`.
  static ClassCache* ForClass(int cls, const Hardening& hard) {
    const ClassInfo& ci = kClassInfo.c[cls];
    return New(ci.cache_cap, QuarantineLength(hard, ci));
  }

  // Hot path: a freed slot enters the ring; what leaves it (or, without a
  // quarantine, the slot itself) goes onto the stack. Requires count < the
  // class's cache cap and qlen <= the ring's room (its length at New).
  void PushFreed(CacheEntry in, uint32_t qlen) {
    if (qlen == 0) {
      e()[count++] = in;
      return;
    }
    const uint32_t h = q_head;
    q_head = h + 1 == qlen ? 0 : h + 1;
    if (q_count < qlen) {
      q[h] = in;
      ++q_count;
      return;
    }
    e()[count++] = q[h];
    q[h] = in;
  }
};

struct PoolCache : InternalNew {
  PoolImpl* pool = nullptr;
  uint32_t pool_id = 0;
  // Set (under pool->mu_, by InvalidateCaches) when the pool's cache key
  // changes: seal, destroy, release. The fast paths test it instead of
  // comparing keys, so they never touch the PoolImpl.
  std::atomic<uint8_t> stale{0};
  // Non-zero while the owning thread is in a fast path that may write a
  // slack entry of this pool: between its check of `stale` and the write.
  // Seal waits for it to clear before making slack pages read-only (see
  // PoolImpl::WaitForFastPaths).
  std::atomic<uint32_t> busy{0};
  // The pool's hardening, copied at registration (fixed for its life).
  Hardening hard;
  uint64_t key = 0;
  // Guarded by pool->mu_:
  bool orphaned = false;
  PoolCache* prev = nullptr;
  PoolCache* next = nullptr;
  // One per class; the zero-size class (kZeroClass) never has one.
  ClassCache* cls[kNumClasses + 1] = {};
};

struct ThreadCache {
  PoolCache* slot[kCacheSlots];
  uint64_t rng;     // RandomBelow() state; seeded with the first cache
  bool registered;  // the thread-exit destructor is armed
};

// __thread rather than thread_local: ThreadCache is plain data, and the
// GNU keyword spares every access the check for a dynamic initializer.
extern __thread ThreadCache tls_cache __attribute__((tls_model("initial-exec")));

// Slow path: the calling thread's valid cache for `pool`, creating (and
// evicting a stale one in its slot) as needed. nullptr when the pool no
// longer accepts allocations.
PoolCache* AcquirePoolCache(PoolImpl* pool);

// Flushes every cache of the calling thread back to its pool.
void FlushThreadCache();

// Gives the calling thread's generator a fresh seed (a fork child must not
// repeat its parent's random choices). Async-signal-safe.
void ReseedThreadRandom();

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_THREAD_CACHE_H_
