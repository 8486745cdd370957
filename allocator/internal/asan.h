// sealpool — AddressSanitizer interplay.
//
// In ASan builds the allocator keeps ASan's shadow in step with its own
// idea of which bytes may be touched: a slot is poisoned while it is free
// or cached, and the bytes after an object's requested size (slack and
// redzone) stay poisoned while it is live. So a plain out-of-bounds load or
// store — not only a checked copy — is caught by ASan as use-after-poison.
// ASan's report then gets one more line naming the sealpool pool, object
// and offset (InstallAsanReportHook).
//
// Without ASan every function here is an empty inline: no cost.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_ASAN_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_ASAN_H_

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define SEALPOOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEALPOOL_ASAN 1
#endif
#endif
#ifndef SEALPOOL_ASAN
#define SEALPOOL_ASAN 0
#endif

#if SEALPOOL_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace sealpool {
namespace internal {

// [a, a+n) may not be touched.
inline void AsanPoison(uintptr_t a, size_t n) {
#if SEALPOOL_ASAN
  __asan_poison_memory_region(reinterpret_cast<const void*>(a), n);
#else
  (void)a;
  (void)n;
#endif
}

// [a, a+n) may be touched.
inline void AsanUnpoison(uintptr_t a, size_t n) {
#if SEALPOOL_ASAN
  __asan_unpoison_memory_region(reinterpret_cast<const void*>(a), n);
#else
  (void)a;
  (void)n;
#endif
}

// A slot of `slot_size` bytes now holds a live object of `size` bytes at
// its start: the object is addressable, the rest of the slot is not.
inline void AsanObjectAllocated(uintptr_t slot, size_t size, size_t slot_size) {
  AsanPoison(slot, slot_size);
  AsanUnpoison(slot, size);
}

// Registers, once, ASan's error-report callback that adds the sealpool line
// (a user callback registered later replaces it). No-op without ASan.
void InstallAsanReportHook();

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_ASAN_H_
