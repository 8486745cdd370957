// sealpool — realloc's growth of a large object that has no room left
// before its guard page: its pages move to the new span (mremap) instead of
// being copied, as glibc's realloc moves an mmapped chunk.
//
// A copy reads every byte and faults in every page of the new span; a move
// is a few system calls whatever the size (on this project's machine,
// about 17 µs against 490 µs for 1 MiB). The new object starts at the same place
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


}  // namespace

std::atomic<size_t> PoolImpl::all_moved_in_{0};
std::atomic<bool> PoolImpl::page_moves_off_{false};

void PoolImpl::ForgetMovedIn() {
  --moved_in_;
  all_moved_in_.fetch_sub(1, std::memory_order_relaxed);
}

void PoolImpl::ForgetAllMovedIn() {
  all_moved_in_.fetch_sub(moved_in_, std::memory_order_relaxed);
  moved_in_ = 0;
}

// Whether this pool's memory may move: shared (write-rare) memory would
// move its file pages, keyed pages their key; a permanent pool's memory
// may be mseal()ed.
bool PoolImpl::PagesMayMoveLocked() const {
  return !wr_shared_ && wr_key_ < 0 && !destroyed_.load(std::memory_order_relaxed) &&
         (opts_.flags & (kPoolPermanent | kPoolWriteRare | kPoolWriteRareKey)) == 0;
}

void* PoolImpl::MoveLarge(const ObjectBounds& b, size_t size, size_t room) {
  const size_t align = opts_.align < 16 ? 16 : opts_.align;
  const uintptr_t phase = b.start & (kPageSize - 1);
  size_t want = 0;
  if (b.size < kMinPageMove || (phase & (align - 1)) != 0 || align > kGranuleSize ||
      page_moves_off_.load(std::memory_order_relaxed) ||
      __builtin_add_overflow(size, room, &want) ||
      want > g_arena.data_size.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  SpanRecord* old_rec = LargeRecordAt(b.start);
  if (old_rec == nullptr) return nullptr;
  // A place under the cap, taken first so that racing moves cannot pass it.
  if (all_moved_in_.fetch_add(1, std::memory_order_relaxed) >= kMaxMovedIn) {
    all_moved_in_.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  AllocError err = AllocError::kOk;
  void* q = AllocateLarge(want, align, &err, phase);
  ObjectBounds nb;
  nb.start = reinterpret_cast<uintptr_t>(q);
  nb.size = want;
  if (q == nullptr || !ShrinkInPlace(nb, size, /*fresh=*/true)) {
    all_moved_in_.fetch_sub(1, std::memory_order_relaxed);
    if (q != nullptr) Free(q);
    return nullptr;
  }
  const uintptr_t n = nb.start;
  const uintptr_t src = b.start & ~(kPageSize - 1);
  const size_t len = RoundUp(b.start + b.size, kPageSize) - src;
  const uintptr_t dst = n & ~(kPageSize - 1);
  SpanRecord* new_rec = LargeRecordAt(n);
  const uintptr_t end = LargeSpanEnd(new_rec);
  bool claimed = false;
  bool moved = false;
  {
    // Held through the move: a seal, a destroy or a racing free of either
    // object waits for it, so the pages moved are still the object's, and
    // the new span still unsealed and this pool's when they land.
    MutexLock l(&mu_);
    // The new object too is still the one just made: a stray free of it
    // meanwhile (a host bug) must not have the pages land in a freed span.
    claimed = PagesMayMoveLocked() && ResizableLocked(old_rec) && ResizableLocked(new_rec) &&
              old_rec->live.load(std::memory_order_relaxed) != 0 &&
              old_rec->base.load(std::memory_order_relaxed) == b.start &&
              old_rec->mul.load(std::memory_order_relaxed) == b.size &&
              new_rec->live.load(std::memory_order_relaxed) != 0 &&
              new_rec->base.load(std::memory_order_relaxed) == n &&
              new_rec->mul.load(std::memory_order_relaxed) == size &&
              LargeCanariesIntactLocked(old_rec, b);
    if (claimed) {
      moved = MovePages(reinterpret_cast<void*>(src), len, reinterpret_cast<void*>(dst),
                        end - dst);
      if (moved) {
        // The moved last page holds the old object's tail canary (and
        // zeros) past its end: bytes the object gains, zeroed.
        ZeroPastEnd(n + b.size, dst + len - (n + b.size));
        new_rec->moved_in = 1;
        ++moved_in_;
        uintptr_t unused = kCanaryIntact;
        ReleaseLargeLocked(old_rec, b.start, /*moved=*/true, &unused);
      }
      // Both canaries with the new address's key (after a failed move the
      // destination's pages are empty).
      if (hard_.canaries) WriteLargeCanaries(dst, n, size, end);
    }
    if (!moved) all_moved_in_.fetch_sub(1, std::memory_order_relaxed);
    // Not claimed: the old object changed, overflowed, or the pool was
    // sealed meanwhile; the copying path decides. A new object sealed with
    // the pool cannot be freed: it stays, empty.
    if (!claimed && new_rec->sealed.load(std::memory_order_relaxed) != 0) return nullptr;
  }
  if (!claimed) {
    Free(q);
    return nullptr;
  }
  if (!moved) {
    std::memcpy(q, reinterpret_cast<const void*>(b.start), b.size);
    Free(reinterpret_cast<void*>(b.start));
  }
  return q;
}

}  // namespace internal
}  // namespace sealpool
