// sealpool — write-rare: changing sealed objects through a short-lived
// alias or a protection key, and the fork-child side of write-rare memory.

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/slot.h"

#include <unistd.h>

namespace sealpool {
namespace internal {

namespace {

// Test hook: runs inside every write-rare window (after the copy, before
// the window closes), on the writing thread.
std::atomic<void (*)(void*)> write_rare_hook{nullptr};
std::atomic<void*> write_rare_hook_arg{nullptr};

void RunWriteRareWindowHook() {
  void (*fn)(void*) = write_rare_hook.load(std::memory_order_acquire);
  if (ABSL_PREDICT_FALSE(fn != nullptr)) {
    fn(write_rare_hook_arg.load(std::memory_order_relaxed));
  }
}

}  // namespace

void SetWriteRareWindowHook(void (*fn)(void*), void* arg) {
  write_rare_hook_arg.store(arg, std::memory_order_relaxed);
  write_rare_hook.store(fn, std::memory_order_release);
}

absl::Status PoolImpl::WriteRare(void* dst, const void* src, size_t n) {
  if (n == 0) return absl::OkStatus();
  const uintptr_t a = reinterpret_cast<uintptr_t>(dst);
  ObjectBounds b;
  const Lookup found = LookupObjectInline(a, &b);
  PoolImpl* pool = found == Lookup::kObject ? ById(b.pool_id) : nullptr;
  if (pool == nullptr) {
    // Not a live pool object: a write violation, nothing written.
    Violation v;
    v.kind = ViolationKind::kOutOfBounds;
    v.addr = a;
    v.len = n;
    v.dir = CopyDirection::kWrite;
    v.detail = found == Lookup::kNotOurs ? "write-rare outside any pool"
                                         : "write-rare outside a live object";
    ReportViolation(v, 1);
    return absl::PermissionDeniedError("sealpool: write-rare refused");
  }
  if ((pool->opts_.flags & kPoolWriteRare) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pool '", pool->name_, "' was not created with the write-rare flag"));
  }
  const size_t off = a - b.start;
  if (n > b.size - off) {
    Violation v;
    v.kind = ViolationKind::kOutOfBounds;
    v.pool_id = b.pool_id;
    v.pool_name = pool->name_;
    v.addr = a;
    v.len = n;
    v.dir = CopyDirection::kWrite;
    v.object_start = b.start;
    v.object_size = b.size;
    v.offset = off;
    v.detail = "write-rare runs past the object's end";
    ReportViolation(v, 1);
    return absl::PermissionDeniedError("sealpool: write-rare refused");
  }
  if (!b.sealed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "object in pool '", pool->name_,
        "' is not sealed; write it directly (write-rare is for sealed memory)"));
  }
  MutexLock l(&pool->mu_);
  if (pool->wr_key_ < 0 && pool->memfd_ < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pool '", pool->name_,
        "': write-rare memory is not shared with fork children"));
  }
  const uintptr_t page = a & ~(kPageSize - 1);
  const size_t len = ((a + n + kPageSize - 1) & ~(kPageSize - 1)) - page;
  for (const Extent& e : pool->extents_) {
    const uintptr_t lo = GranuleAddress(e.first);
    if (page < lo || page >= lo + (e.count << kGranuleShift)) continue;
    if (pool->wr_key_ >= 0) {
      // Writes through the key are enabled for this thread alone, for the
      // length of the copy; every other thread's PKRU still disables them.
      SetKeyWritable(pool->wr_key_, true);
      std::memcpy(dst, src, n);
      RunWriteRareWindowHook();
      SetKeyWritable(pool->wr_key_, false);
    } else {
      void* alias = MapAlias(pool->memfd_, e.file_offset + (page - lo), len);
      if (alias == nullptr) {
        return absl::ResourceExhaustedError("sealpool: cannot map a write-rare alias");
      }
      std::memcpy(static_cast<char*>(alias) + (a - page), src, n);
      RunWriteRareWindowHook();
      UnmapAlias(alias, len);
    }
    ++pool->write_rares_;
    return absl::OkStatus();
  }
  return absl::InternalError("sealpool: write-rare object outside its pool's extents");
}

// Fork child: write-rare pools are shared memory (MADV_DONTFORK kept them
// out of the child). Their holes are reserved again so that nothing else is
// mapped there, and the pool refuses further use in the child.
void PoolImpl::ForkChildDropSharedMemory() {
  if (memfd_ < 0 || state_.load(std::memory_order_relaxed) != kLive) return;
  for (const Extent& e : extents_) {
    DecommitPages(reinterpret_cast<void*>(GranuleAddress(e.first)),
                  e.count << kGranuleShift);
  }
  // The child must not reach the parent's pages through the inherited
  // memfd either.
  close(memfd_);
  memfd_ = -1;
  destroyed_.store(true, std::memory_order_release);
  cache_key_.store(NewCacheKey(), std::memory_order_release);
}

}  // namespace internal
}  // namespace sealpool
