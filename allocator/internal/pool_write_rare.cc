// sealpool — write-rare: the shared memory behind write-rare extents,
// changing sealed objects through a short-lived alias or a protection key,
// and the fork-child side of write-rare memory.
//
// Shared-memory pools keep no file descriptor: each extent is mapped from
// its own memfd, which is sealed against other writers and closed at once
// (a file-write bug cannot reach the pages through /proc/self/fd). An
// alias is a duplicate of the extent's mapping (mremap with old size 0)
// made writable for one copy. Permanent pools are mseal()ed, and mremap
// refuses to duplicate sealed mappings, so their extents also keep an
// unsealed PROT_NONE duplicate to make aliases from.

#include "allocator/internal/pool_impl.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "allocator/internal/asan.h"
#include "allocator/internal/check.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/slot.h"
#include "allocator/page_query.h"

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

Outcome PoolImpl::WriteRare(void* dst, const void* src, size_t n) {
  if (n == 0) return Outcome::Ok();
  const uintptr_t a = reinterpret_cast<uintptr_t>(dst);
  ObjectBounds b;
  const Lookup found = LookupObjectInline(a, &b);
  PoolImpl* pool = found == Lookup::kObject ? ById(b.pool_id) : nullptr;
  if (pool == nullptr) {
    // Not a live pool object: a write violation, nothing written. Memory
    // of a pool (a freed slot, slack, a guard page) names that pool.
    Violation v;
    v.kind = ViolationKind::kOutOfBounds;
    v.addr = a;
    v.len = n;
    v.dir = CopyDirection::kWrite;
    v.detail = "write-rare outside any pool";
    if (found != Lookup::kNotOurs) {
      v.detail = "write-rare outside a live object";
      const AddressInfo info = QueryAddress(dst);
      if (info.pool_id != 0) {
        v.pool_id = info.pool_id;
        v.pool_name = PoolNameById(info.pool_id);
      }
      if (info.page == PageKind::kGuard) {
        v.detail = "write-rare into a guard page";
      } else if (info.in_slot && !info.live) {
        v.object_start = info.object_start;
        v.offset = a - info.object_start;
        v.detail = "write-rare into a freed slot";
      } else if (info.in_slot) {
        v.object_start = info.object_start;
        v.object_size = info.object_size;
        v.offset = a - info.object_start;
        v.detail = "write-rare starts after the object's end (slack or redzone)";
      }
    }
    ReportViolation(v, 1);
    return Outcome::PermissionDenied("sealpool: write-rare refused");
  }
  if ((pool->opts_.flags & kPoolWriteRare) == 0) {
    return Outcome::FailedPrecondition(absl::StrCat(
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
    return Outcome::PermissionDenied("sealpool: write-rare refused");
  }
  if (!b.sealed) {
    return Outcome::FailedPrecondition(absl::StrCat(
        "object in pool '", pool->name_,
        "' is not sealed; write it directly (write-rare is for sealed memory)"));
  }
  MutexLock l(&pool->mu_);
  if (pool->wr_key_ < 0 && !pool->wr_shared_) {
    return Outcome::FailedPrecondition(absl::StrCat(
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
      // Duplicated from the extent's own mapping, or from its unsealed
      // duplicate where the extent is mseal()ed.
      const uintptr_t from =
          (e.alias_source != 0 ? e.alias_source : lo) + (page - lo);
      void* alias = MapAlias(reinterpret_cast<const void*>(from), len);
      if (alias == nullptr) {
        return Outcome::ResourceExhausted("sealpool: cannot map a write-rare alias");
      }
      std::memcpy(static_cast<char*>(alias) + (a - page), src, n);
      RunWriteRareWindowHook();
      UnmapAlias(alias, len);
    }
    ++pool->write_rares_;
    return Outcome::Ok();
  }
  return Outcome::Internal("sealpool: write-rare object outside its pool's extents");
}

// A new extent of a shared-memory pool is mapped whole from a memfd of its
// own size, PROT_NONE until carved (shmem pages cost nothing until
// touched), and the memfd is closed; then its first granules are
// committed. Other pools only commit.
bool PoolImpl::MapNewExtent(Extent* e) {
  void* addr = reinterpret_cast<void*>(GranuleAddress(e->first));
  const size_t bytes = e->count << kGranuleShift;
  if (wr_shared_) {
    // "sealpool:<pool name>", as /proc/self/maps shows it.
    constexpr char kPrefix[] = "sealpool:";
    char name[sizeof(kPrefix) + kMaxPoolNameLength];
    std::memcpy(name, kPrefix, sizeof(kPrefix) - 1);
    std::memcpy(name + sizeof(kPrefix) - 1, name_, sizeof(name_));
    if (!MapSharedMemory(addr, bytes, name)) return false;
    if (opts_.flags & kPoolPermanent) {
      void* source = DuplicateShared(addr, bytes);
      if (source == nullptr) {
        DecommitPages(addr, bytes);
        return false;
      }
      e->alias_source = reinterpret_cast<uintptr_t>(source);
    }
  }
  if (CommitRange(*e, e->first, e->used)) return true;
  if (wr_shared_) {
    DecommitPages(addr, bytes);
    if (e->alias_source != 0) {
      UnmapAlias(reinterpret_cast<void*>(e->alias_source), bytes);
      e->alias_source = 0;
    }
  }
  return false;
}

// Fork child: write-rare pools are shared memory, which MADV_DONTFORK kept
// out of the child (their alias sources too). Their holes are reserved
// again so that nothing else is mapped there, and the pool refuses further
// use in the child. No descriptor to the parent's pages exists to be
// inherited.
void PoolImpl::ForkChildDropSharedMemory() {
  if (!wr_shared_ || state_.load(std::memory_order_relaxed) != kLive) return;
  for (Extent& e : extents_) {
    DecommitPages(reinterpret_cast<void*>(GranuleAddress(e.first)),
                  e.count << kGranuleShift);
    e.alias_source = 0;
  }
  wr_shared_ = false;
  destroyed_.store(true, std::memory_order_release);
  InvalidateCaches();
}

}  // namespace internal
}  // namespace sealpool
