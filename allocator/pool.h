// sealpool — named, reference-counted pools.
//
// A Pool is a named allocator: its objects live in extents of the sealpool
// arena that belong to it alone, in size-class spans (small objects) or in
// spans of their own (large objects), every span between guard pages, all
// bookkeeping out of line. Every pointer the pool hands out can be traced
// back to its pool and its exact requested size in O(1) through the page
// table (see allocator/page_query.h).
//
// Lifetime:  Create -> Allocate/Free ... -> Destroy (drops the creator's
// reference and refuses new allocations) -> memory released when the last
// reference is dropped with Unref().
//
// Thread safety: every member function may be called from any thread at any
// time, except that a Pool* must not be used after the caller's last
// reference to it is gone.

#ifndef SEALPOOL_ALLOCATOR_POOL_H_
#define SEALPOOL_ALLOCATOR_POOL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "allocator/options.h"

namespace sealpool {

namespace internal {
class PoolImpl;
}  // namespace internal

// A snapshot of one pool's accounting. Byte counts are exact at the time of
// the snapshot; counters of objects cached by other threads are included.
struct PoolStats {
  std::string name;
  uint32_t id = 0;
  size_t reserved_bytes = 0;   // address space of the pool's extents
  size_t committed_bytes = 0;  // bytes of spans and large objects in use
  size_t live_bytes = 0;       // sum of requested sizes of live objects
  size_t live_objects = 0;
  size_t small_spans = 0;
  size_t large_spans = 0;
  size_t metadata_bytes = 0;   // span records, slack arrays, page table share
  size_t guard_pages = 0;
  size_t extents = 0;
  uint64_t violations = 0;     // violations attributed to this pool
  bool destroyed = false;      // Destroy() was called
  int refs = 0;
  size_t seals = 0;            // Seal() calls that succeeded
  size_t sealed_bytes = 0;     // address space made read-only by sealing
  size_t abandoned_bytes = 0;  // free slots and spans left behind by seals
  bool permanent = false;      // created with kPoolPermanent
  // Sealing mseal()ed the memory, so not even mprotect can make it writable
  // again. False for a permanent pool where the kernel lacks mseal(2).
  bool permanent_enforced = false;
  bool write_rare = false;     // created with kPoolWriteRare (or ...Key)
  // Write-rare goes through a protection key (kPoolWriteRareKey on a CPU
  // with keys) rather than a memfd alias.
  bool write_rare_key = false;
  // Span records, slack pages and page-table pages of sealed spans made
  // read-only (whole pages only: a page shared with unsealed memory stays
  // writable).
  size_t sealed_metadata_bytes = 0;
  size_t write_rares = 0;      // WriteRare() calls that wrote
};

class Pool {
 public:
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Creates a pool. `name`: 1 to 63 printable ASCII characters, unique among
  // live pools. Returns the pool with one reference owned by the caller, or
  // InvalidArgument (bad name or option), AlreadyExists (name in use),
  // ResourceExhausted (no pool slot or arena space left).
  // Cost: one lock, one extent reservation (a few syscalls).
  static absl::StatusOr<Pool*> Create(absl::string_view name,
                                      const PoolOptions& options = {});

  // Returns the live pool called `name` with a new reference, or NotFound.
  static absl::StatusOr<Pool*> Find(absl::string_view name);

  // Allocates an object of exactly `size` bytes (0 allowed: a unique object
  // of size 0). Returns ResourceExhausted when the pool is over its byte
  // cap or the arena is full, InvalidArgument for absurd sizes,
  // FailedPrecondition when the pool was destroyed.
  // Cost: a few dozen instructions from the thread's cache; a lock on refill.
  absl::StatusOr<void*> Allocate(size_t size);

  // Allocates n objects of `size` bytes, zeroed (calloc). ResourceExhausted
  // also when n * size overflows.
  absl::StatusOr<void*> AllocateZeroed(size_t n, size_t size);

  // Allocates `size` bytes aligned to `align`, a power of two up to 1 GiB
  // (InvalidArgument otherwise). Alignments up to the pool's come from the
  // ordinary classes; larger ones from a class whose slots are aligned, or
  // a large-object span. A zero-size object can be aligned up to 4096.
  absl::StatusOr<void*> AllocateAligned(size_t align, size_t size);

  // realloc for an object of this pool (or nullptr: Allocate(size)). The
  // block stays in this pool; its first min(old, size) bytes are kept and
  // the new object's bounds are exactly `size`. A shrink never fails: when
  // no new block can be had (byte cap, destroyed pool, full arena) the
  // object is shrunk in place. On failure the old block is untouched.
  // size 0 frees the object and returns a zero-size object of the pool.
  // A pointer that is not a live object of this pool is a violation
  // (invalid-free: InvalidArgument in report mode); a sealed object gives
  // PermissionDenied (sealed-free) and stays as it was.
  absl::StatusOr<void*> Reallocate(void* ptr, size_t size);

  // A NUL-terminated copy of `s` in this pool (strdup / strndup).
  absl::StatusOr<char*> Duplicate(absl::string_view s);

  // Frees an object of any pool. Returns OK, or — in report mode — DataLoss
  // for a double, invalid or sealed free (nothing is changed); in abort mode
  // those abort. Corrupt metadata (a bad canary or list link) is reported
  // and aborts in every mode. Free(nullptr) is OK.
  static absl::Status Free(void* ptr);

  // Exact requested size of the live object that contains `ptr`, or 0 when
  // `ptr` is not inside a live pool object. Lock-free, O(1).
  static size_t ObjectSize(const void* ptr);

  // The pool of the live object that contains `ptr` (or starts at it, for
  // zero-size objects), without a new reference; nullptr otherwise.
  static Pool* Owner(const void* ptr);

  // True when `ptr` is inside a live pool object (or is a zero-size one):
  // what a host's free() hook asks to route a pointer. Lock-free, O(1).
  static bool Owns(const void* ptr);

  // Drops the creator's reference and refuses later allocations. Frees of
  // existing objects still work while references remain. Returns
  // FailedPrecondition if called twice, PermissionDenied for a permanent
  // pool (which lives until the process exits).
  absl::Status Destroy();

  // Makes every object allocated so far read-only: one mprotect(PROT_READ)
  // per extent, whatever the object count. Later allocations come from
  // fresh spans, which a later Seal() covers; free slots of sealed spans
  // are abandoned (Stats().abandoned_bytes). Freeing a sealed object is a
  // violation; CheckCopy refuses writes into it. A permanent pool's sealed
  // memory is also mseal()ed (Linux 6.10+): Stats().permanent_enforced says
  // whether the kernel enforces it. Returns FailedPrecondition after
  // Destroy(), ResourceExhausted if mprotect fails.
  absl::Status Seal();

  // Writes n bytes from src into sealed memory of a kPoolWriteRare pool,
  // through a writable alias of the same pages mapped at a random address
  // and unmapped before returning; the shared view never becomes writable.
  // [dst, dst+n) must lie inside one live object: else a violation is
  // reported and PermissionDenied returned (abort mode aborts), nothing
  // written. FailedPrecondition for a pool without the flag or an object
  // that is not sealed. Cost: two syscalls (mmap, munmap) and a lock.
  static absl::Status WriteRare(void* dst, const void* src, size_t n);

  // Adds a reference; returns this.
  Pool* Ref();
  // Drops a reference; the last one releases the pool's memory (it returns
  // to PROT_NONE and its page-table entries to "unused").
  void Unref();

  absl::string_view name() const;
  uint32_t id() const;
  const PoolOptions& options() const;
  PoolStats Stats() const;

  // Internal representation; not part of the API.
  internal::PoolImpl* impl() { return impl_; }
  const internal::PoolImpl* impl() const { return impl_; }

 private:
  friend class internal::PoolImpl;
  explicit Pool(internal::PoolImpl* impl) : impl_(impl) {}
  internal::PoolImpl* impl_;
};

// Number of live pools.
size_t LivePoolCount();

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_POOL_H_
