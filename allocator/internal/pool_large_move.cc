// sealpool — realloc's growth of a large object that has no room left
// before its guard page: its pages move to the new span (mremap) instead of
// being copied, as glibc's realloc moves an mmapped chunk.
//
// A copy reads every byte and faults in every page of the new span; a move
// is a few system calls whatever the size (on this project's machine,
// 15 µs against 440 µs for 1 MiB). The new object starts at the same place
// in its first page as the old one, so that whole pages carry every byte
// to its new address; the bytes around the object in its first and last
// page (the canaries, keyed by the object's address) are rewritten after
// the move.

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "allocator/internal/hardening.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"

namespace sealpool {
namespace internal {
namespace {

// Below this a copy costs less than the system calls of a move.
constexpr size_t kMinPageMove = size_t{64} << 10;
// Live spans with pages moved in, at most (each is two mappings more than
// the arena's own; a process has about 65,000, vm.max_map_count).
constexpr size_t kMaxMovedIn = 4096;

uintptr_t PageDown(uintptr_t a) { return a & ~(kPageSize - 1); }
uintptr_t PageUp(uintptr_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

}  // namespace

std::atomic<size_t> PoolImpl::all_moved_in_{0};

void PoolImpl::ForgetMovedIn() {
  --moved_in_;
  all_moved_in_.fetch_sub(1, std::memory_order_relaxed);
}

void PoolImpl::ForgetAllMovedIn() {
  all_moved_in_.fetch_sub(moved_in_, std::memory_order_relaxed);
  moved_in_ = 0;
}

void* PoolImpl::MoveLarge(const ObjectBounds& b, size_t size, size_t room) {
  const size_t align = opts_.align < 16 ? 16 : opts_.align;
  const uintptr_t phase = b.start & (kPageSize - 1);
  size_t want = 0;
  if (b.size < kMinPageMove || (phase & (align - 1)) != 0 || align > kGranuleSize ||
      __builtin_add_overflow(size, room, &want) ||
      all_moved_in_.load(std::memory_order_relaxed) >= kMaxMovedIn) {
    return nullptr;
  }
  const uint64_t e = g_arena.table[PageIndex(b.start)].load(std::memory_order_acquire);
  if (EntryKindOf(e) != EntryKind::kLarge) return nullptr;
  SpanRecord* old_rec = RecordAt(SpanGranule(e, b.start));
  {
    MutexLock l(&mu_);
    // Shared (write-rare) memory would move its file pages, keyed pages
    // their key; a permanent pool's memory may be mseal()ed.
    if (wr_shared_ || wr_key_ >= 0 ||
        (opts_.flags & (kPoolPermanent | kPoolWriteRare | kPoolWriteRareKey)) != 0) {
      return nullptr;
    }
    if (!ResizableLocked(old_rec) || old_rec->live.load(std::memory_order_relaxed) == 0 ||
        old_rec->base.load(std::memory_order_relaxed) != b.start ||
        old_rec->mul.load(std::memory_order_relaxed) != b.size ||
        !LargeCanariesIntactLocked(old_rec, b)) {
      return nullptr;
    }
  }
  if (want > g_arena.data_size.load(std::memory_order_relaxed)) return nullptr;
  AllocError err = AllocError::kOk;
  void* q = AllocateLarge(want, align, &err, phase);
  if (q == nullptr) return nullptr;
  const uintptr_t n = reinterpret_cast<uintptr_t>(q);
  ObjectBounds nb;
  nb.start = n;
  nb.size = want;
  if (!ShrinkInPlace(nb, size, /*fresh=*/true)) {
    Free(q);
    return nullptr;
  }
  const uintptr_t src = PageDown(b.start);
  const size_t len = PageUp(b.start + b.size) - src;
  const uintptr_t dst = PageDown(n);
  const uint64_t ne = g_arena.table[PageIndex(n)].load(std::memory_order_acquire);
  SpanRecord* new_rec = RecordAt(SpanGranule(ne, n));
  const uintptr_t end = LargeSpanEnd(new_rec);
  if (!MovePages(reinterpret_cast<void*>(src), len, reinterpret_cast<void*>(dst))) {
    // The destination's pages are empty now: its canaries are written
    // again, and the object is copied after all.
    if (hard_.canaries) WriteLargeCanaries(dst, n, size, end);
    std::memcpy(q, reinterpret_cast<const void*>(b.start), b.size);
    Free(reinterpret_cast<void*>(b.start));
    return q;
  }
  // The moved last page holds the old object's tail canary (and zeros)
  // past its end: bytes the object gains, zeroed. Both canaries are then
  // written with the new address's key.
  ZeroPastEnd(n + b.size, dst + len - (n + b.size));
  if (hard_.canaries) WriteLargeCanaries(dst, n, size, end);
  {
    MutexLock l(&mu_);
    new_rec->moved_in = 1;
    ++moved_in_;
    all_moved_in_.fetch_add(1, std::memory_order_relaxed);
  }
  FreeLarge(b.start, old_rec, /*moved=*/true);
  return q;
}

}  // namespace internal
}  // namespace sealpool
