// sealpool — whole-program mode: the C malloc family, and glibc's extras.
//
// Semantics are glibc's where the C standard leaves a choice: malloc(0)
// returns a unique pointer (to a zero-size object: any access faults),
// realloc(p, 0) frees p and returns NULL, memalign accepts any power of
// two, malloc_usable_size returns the object's exact size (the bytes a
// checked copy may touch, never slack). See README, "Whole programs".

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocator/inspect.h"
#include "allocator/internal/thread_cache.h"
#include "allocator/malloc/heap.h"
#include "allocator/malloc/real_libc.h"

using sealpool::malloc_internal::HeapAllocate;
using sealpool::malloc_internal::HeapFree;
using sealpool::malloc_internal::HeapReallocate;
using sealpool::malloc_internal::HeapUsableSize;

namespace {

constexpr size_t kPage = 4096;

bool PowerOfTwo(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

void* Aligned(size_t align, size_t size, uintptr_t site) {
  return HeapAllocate(size, align < 16 ? 16 : align, site);
}

}  // namespace

extern "C" {

void* malloc(size_t size) { return HeapAllocate(size, 16, SEALPOOL_CALL_SITE()); }

void free(void* p) { HeapFree(p); }

void* calloc(size_t n, size_t size) {
  return sealpool::malloc_internal::HeapAllocateZeroed(n, size, SEALPOOL_CALL_SITE());
}

void* realloc(void* p, size_t size) {
  return HeapReallocate(p, size, SEALPOOL_CALL_SITE());
}

void* reallocarray(void* p, size_t n, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(n, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return HeapReallocate(p, bytes, SEALPOOL_CALL_SITE());
}

int posix_memalign(void** out, size_t align, size_t size) {
  if (!PowerOfTwo(align) || align % sizeof(void*) != 0) return EINVAL;
  const int saved = errno;
  void* p = Aligned(align, size, SEALPOOL_CALL_SITE());
  if (p == nullptr) {
    const int e = errno;
    errno = saved;
    return e == 0 ? ENOMEM : e;
  }
  *out = p;
  return 0;
}

// glibc 2.36 (Debian 12) rounds an alignment that is not a power of two up
// to one, in memalign and aligned_alloc alike.
static void* RoundedAligned(size_t align, size_t size, uintptr_t site) {
  if (align > (size_t{1} << 62)) {
    errno = EINVAL;
    return nullptr;
  }
  size_t a = 1;
  while (a < align) a <<= 1;
  return Aligned(a, size, site);
}

void* aligned_alloc(size_t align, size_t size) {
  return RoundedAligned(align, size, SEALPOOL_CALL_SITE());
}

void* memalign(size_t align, size_t size) {
  return RoundedAligned(align, size, SEALPOOL_CALL_SITE());
}

void* valloc(size_t size) { return Aligned(kPage, size, SEALPOOL_CALL_SITE()); }

void* pvalloc(size_t size) {
  const size_t rounded = (size + kPage - 1) & ~(kPage - 1);
  if (rounded < size) {
    errno = ENOMEM;
    return nullptr;
  }
  return Aligned(kPage, rounded == 0 ? kPage : rounded, SEALPOOL_CALL_SITE());
}

size_t malloc_usable_size(void* p) { return HeapUsableSize(p); }

// Gives the calling thread's cached free slots back to their pools (the
// only memory a trim can hand back; spans stay mapped). Returns 0: no
// memory went back to the system.
int malloc_trim(size_t) {
  sealpool::internal::FlushThreadCache();
  return 0;
}

// Tuning knobs of glibc's allocator have no meaning here: accepted, ignored.
int mallopt(int, int) { return 1; }

// The heap pools' totals, in glibc's fields: arena = bytes committed to
// spans and large objects, uordblks = bytes of live objects, fordblks =
// committed bytes not in live objects, hblks/hblkhd = 0 (no separate
// mmapped chunks), keepcost = 0.
struct mallinfo2 mallinfo2(void) {
  struct mallinfo2 mi;
  sealpool::malloc_internal::RawMemset(&mi, 0, sizeof(mi));
  const sealpool::malloc_internal::Heap& h = sealpool::malloc_internal::g_heap;
  if (h.state.load(std::memory_order_acquire) != h.kReady) return mi;
  sealpool::internal::InternalScope scope;
  for (uint32_t i = 0; i < h.count(); ++i) {
    const sealpool::PoolStats s = h.pools[i]->Stats();
    mi.arena += s.committed_bytes;
    mi.uordblks += s.live_bytes;
    mi.ordblks += s.small_spans + s.large_spans;
  }
  mi.fordblks = mi.arena > mi.uordblks ? mi.arena - mi.uordblks : 0;
  return mi;
}

struct mallinfo mallinfo(void) {
  const struct mallinfo2 m2 = mallinfo2();
  struct mallinfo mi;
  sealpool::malloc_internal::RawMemset(&mi, 0, sizeof(mi));
  auto clamp = [](size_t v) { return v > 0x7fffffff ? 0x7fffffff : static_cast<int>(v); };
  mi.arena = clamp(m2.arena);
  mi.ordblks = clamp(m2.ordblks);
  mi.uordblks = clamp(m2.uordblks);
  mi.fordblks = clamp(m2.fordblks);
  return mi;
}

// The per-pool statistics table (sp_dump_stats) on stderr.
void malloc_stats(void) {
  sealpool::internal::InternalScope scope;
  sealpool::DumpStats(stderr);
}

int malloc_info(int options, FILE* fp) {
  if (options != 0 || fp == nullptr) {
    errno = EINVAL;
    return -1;
  }
  sealpool::internal::InternalScope scope;
  fputs("<malloc version=\"sealpool\">\n", fp);
  const sealpool::malloc_internal::Heap& h = sealpool::malloc_internal::g_heap;
  if (h.state.load(std::memory_order_acquire) == h.kReady) {
    for (uint32_t i = 0; i < h.count(); ++i) {
      const sealpool::PoolStats s = h.pools[i]->Stats();
      fprintf(fp,
              "<pool name=\"%s\" committed=\"%zu\" live_bytes=\"%zu\" "
              "live_objects=\"%zu\"/>\n",
              s.name.c_str(), s.committed_bytes, s.live_bytes, s.live_objects);
    }
  }
  fputs("</malloc>\n", fp);
  return 0;
}

}  // extern "C"
