// sealpool — whole-program mode's internal heap (see meta_heap.h).

#include "allocator/malloc/meta_heap.h"

#include <errno.h>
#include <sys/mman.h>

#include <mutex>

namespace sealpool {
namespace malloc_internal {

MetaRegion g_meta_region;

namespace {

constexpr size_t kPage = 4096;
// Reserved PROT_NONE (no commit charge, whatever the overcommit policy),
// halved down to kMinRegion where the address space is limited; chunks are
// made read-write as they are carved.
constexpr size_t kRegionSize = size_t{1} << 30;
constexpr size_t kMinRegion = size_t{64} << 20;
constexpr size_t kChunkSize = size_t{1} << 20;
constexpr int kMinShift = 5;                      // 32 bytes
constexpr int kNumClasses = 12;                   // up to 64 KiB
constexpr size_t kMaxSmall = size_t{1} << (kMinShift + kNumClasses - 1);
constexpr uint32_t kMagic = 0x5350u << 16;        // "SP"
constexpr uint32_t kLargeClass = 0xff;
constexpr int kMaxFreeRuns = 256;

struct Header {
  uint32_t tag;     // kMagic | class (kLargeClass for a mapped run)
  uint32_t offset;  // from the block's start to the user pointer
  uint64_t size;    // usable bytes from the user pointer
};
static_assert(sizeof(Header) == 16, "one header per block");

struct FreeBlock {
  FreeBlock* next;
};

struct Run {
  uintptr_t start;
  size_t bytes;
};

struct State {
  std::mutex mu;
  uintptr_t next = 0;  // bump pointer of the region
  uintptr_t end = 0;
  FreeBlock* free[kNumClasses] = {};
  uintptr_t carve_next[kNumClasses] = {};  // the class's current chunk
  uintptr_t carve_end[kNumClasses] = {};
  Run runs[kMaxFreeRuns] = {};
  int nruns = 0;
};
State g;

bool ReserveLocked() {
  if (g.end != 0) return true;
  for (size_t size = kRegionSize; size >= kMinRegion; size /= 2) {
    void* p = mmap(nullptr, size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) continue;
    g.next = reinterpret_cast<uintptr_t>(p);
    g.end = g.next + size;
    g_meta_region.size = size;
    g_meta_region.base.store(g.next, std::memory_order_release);
    return true;
  }
  return false;
}

uintptr_t BumpLocked(size_t bytes) {
  if (g.end - g.next < bytes) return 0;
  const uintptr_t p = g.next;
  if (mprotect(reinterpret_cast<void*>(p), bytes, PROT_READ | PROT_WRITE) != 0) return 0;
  g.next += bytes;
  return p;
}

int ClassOf(size_t bytes) {
  int c = 0;
  while ((size_t{1} << (kMinShift + c)) < bytes) ++c;
  return c;
}

// A freed block of the class if there is one, else the next one carved
// from the class's current chunk: a chunk's pages are touched only as its
// blocks are handed out.
uintptr_t SmallBlockLocked(int c) {
  if (FreeBlock* b = g.free[c]) {
    g.free[c] = b->next;
    return reinterpret_cast<uintptr_t>(b);
  }
  const size_t block = size_t{1} << (kMinShift + c);
  if (g.carve_end[c] - g.carve_next[c] < block) {
    const uintptr_t chunk = BumpLocked(kChunkSize);
    if (chunk == 0) return 0;
    g.carve_next[c] = chunk;
    g.carve_end[c] = chunk + kChunkSize;
  }
  const uintptr_t p = g.carve_next[c];
  g.carve_next[c] += block;
  return p;
}

// A freed run of at least `*bytes` (up to twice as big: *bytes becomes its
// size), else a new one.
uintptr_t LargeRunLocked(size_t* bytes) {
  for (int i = 0; i < g.nruns; ++i) {
    if (g.runs[i].bytes >= *bytes && g.runs[i].bytes <= 2 * *bytes) {
      const uintptr_t p = g.runs[i].start;
      *bytes = g.runs[i].bytes;
      g.runs[i] = g.runs[--g.nruns];
      return p;
    }
  }
  return BumpLocked(*bytes);
}

}  // namespace

void* MetaAlloc(size_t size, size_t align) {
  if (align < 16) align = 16;
  if (size > kRegionSize || align > (size_t{1} << 20)) {
    errno = ENOMEM;
    return nullptr;
  }
  // Room for the header and for moving the user pointer up to `align`.
  const size_t need = size + sizeof(Header) + (align > 16 ? align : 0);
  uintptr_t block;
  uint32_t cls;
  size_t capacity;
  {
    std::lock_guard<std::mutex> l(g.mu);
    if (!ReserveLocked()) {
      errno = ENOMEM;
      return nullptr;
    }
    if (need <= kMaxSmall) {
      const int c = ClassOf(need);
      block = SmallBlockLocked(c);
      cls = static_cast<uint32_t>(c);
      capacity = size_t{1} << (kMinShift + c);
    } else {
      capacity = (need + kPage - 1) & ~(kPage - 1);
      block = LargeRunLocked(&capacity);
      cls = kLargeClass;
    }
  }
  if (block == 0) {
    errno = ENOMEM;
    return nullptr;
  }
  uintptr_t user = (block + sizeof(Header) + align - 1) & ~(align - 1);
  Header* h = reinterpret_cast<Header*>(user - sizeof(Header));
  h->tag = kMagic | cls;
  h->offset = static_cast<uint32_t>(user - block);
  h->size = capacity - (user - block);
  return reinterpret_cast<void*>(user);
}

size_t MetaSize(const void* p) {
  return reinterpret_cast<const Header*>(p)[-1].size;
}

void MetaFree(void* p) {
  Header* h = reinterpret_cast<Header*>(p) - 1;
  if ((h->tag & 0xffff0000u) != kMagic) return;  // not a block start: ignored
  const uint32_t cls = h->tag & 0xffu;
  const uintptr_t block = reinterpret_cast<uintptr_t>(p) - h->offset;
  const size_t capacity = h->size + h->offset;
  h->tag = 0;
  std::lock_guard<std::mutex> l(g.mu);
  if (cls == kLargeClass) {
    madvise(reinterpret_cast<void*>(block), capacity, MADV_DONTNEED);
    if (g.nruns < kMaxFreeRuns) g.runs[g.nruns++] = Run{block, capacity};
    return;
  }
  if (cls >= static_cast<uint32_t>(kNumClasses)) return;
  auto* b = reinterpret_cast<FreeBlock*>(block);
  b->next = g.free[cls];
  g.free[cls] = b;
}

void MetaLockForFork() { g.mu.lock(); }
void MetaUnlockAfterFork() { g.mu.unlock(); }

}  // namespace malloc_internal
}  // namespace sealpool
