// sealpool — pool options.
//
// The knobs a pool is created with. They are validated once, by
// Pool::Create(); a pool's options never change after creation.

#ifndef SEALPOOL_ALLOCATOR_OPTIONS_H_
#define SEALPOOL_ALLOCATOR_OPTIONS_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {

// Pool flags (bit set). The numeric values are shared with the C API's
// SP_POOL_* constants.
enum PoolFlag : uint32_t {
  // Seal also mseal()s the pool's memory; the pool can never be destroyed.
  kPoolPermanent = 1u << 0,
  // Sealed objects may be changed through WriteRare().
  kPoolWriteRare = 1u << 1,
  // Every small object gets a redzone after its requested bytes (at least
  // 16 bytes of slot slack that check_copy rejects).
  kPoolRedzones = 1u << 2,
  // Write-rare (implies kPoolWriteRare) through a memory protection key
  // where the CPU has them: sealed pages stay writable in the page tables
  // but every thread's PKRU register disables writes, and WriteRare()
  // enables them for the calling thread alone, for the length of the copy
  // (no system call). Falls back to the memfd alias where keys are
  // unavailable; PoolStats::write_rare_key says which. See README,
  // "Write-rarely".
  kPoolWriteRareKey = 1u << 3,
};
inline constexpr uint32_t kPoolAllFlags =
    kPoolPermanent | kPoolWriteRare | kPoolRedzones | kPoolWriteRareKey;

// Limits on options, checked by Pool::Create().
inline constexpr size_t kMinAlign = 8;
inline constexpr size_t kMaxAlign = 4096;
inline constexpr size_t kMaxPoolNameLength = 63;

struct PoolOptions {
  // Alignment of every object: a power of two in [8, 4096]. Objects are at
  // least 16-byte aligned whatever this says.
  size_t align = 16;
  // Usercopy window: only bytes [usercopy_offset, usercopy_offset +
  // usercopy_size) of each object may be copied by checked copies, as with
  // the kernel's kmem_cache_create_usercopy(). usercopy_size == 0 means the
  // whole object (and then usercopy_offset must be 0).
  size_t usercopy_offset = 0;
  size_t usercopy_size = 0;
  // Cap on the bytes of object memory (spans and large objects, without
  // guard pages and metadata) the pool may commit; 0 = no cap.
  size_t max_bytes = 0;
  // PoolFlag bits.
  uint32_t flags = 0;
};

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_OPTIONS_H_
