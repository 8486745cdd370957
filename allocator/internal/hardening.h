// sealpool — slot hardening: canaries, zero-on-free, the write-after-free
// check and the random choice of the slot to reuse.
//
// Canaries. The bytes right after a small object (the first 8 bytes of its
// slot's slack, all of it when shorter; the whole 16-byte redzone of a
// kPoolRedzones pool), and the gaps around a large object (up to
// kCanaryMax bytes each, next to the object) hold a canary keyed by the
// per-process secrets and the slot's address: the byte j bytes from the
// start of the canary is byte (j & 7) of SlotCanary(slot). A linear
// overflow (or, for a large object, underflow) of any length changes a
// canary byte first. Every canary byte is non-zero, so an off-by-one NUL
// terminator is caught too. Canaries are written at allocation and checked
// at free.
//
// Zero on free and the write-after-free check. A freed slot is zeroed
// whole (data and slack); when it is handed out again it must still read
// zero, else something wrote through a stale pointer. Fresh pages read
// zero too, so the check holds for every slot a span hands out.
//
// The helpers touch memory that AddressSanitizer builds keep poisoned
// (free slots, slack), so they are not instrumented. Their word loads and
// stores are __builtin_memcpy: one move each even where the allocator is
// compiled with -fno-builtin (libsealpool_malloc.so, whose memcpy is the
// checked one), where std::memcpy would be a call.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_HARDENING_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_HARDENING_H_

#include <emmintrin.h>

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "allocator/internal/arena.h"

namespace sealpool {
namespace internal {

// The hardening a pool runs with: SEALPOOL_OPTIONS at the pool's creation
// (see options.inc), fixed for the pool's life.
struct Hardening {
  bool any = true;              // zero_on_free, waf_check or canaries
  bool atomic_free = true;      // free's slot transition is a CAS
  bool random_reuse = true;     // random slot from the thread cache
  bool zero_on_free = true;     // freed slots are zeroed
  bool waf_check = true;        // reused slots must still be zero
  bool canaries = true;         // slack, redzone and large-gap canaries
  uint8_t canary_words = 1;     // words of a small slot's canary (2: redzones)
  uint32_t quarantine = 32;     // freed slots held per thread-cache class
  uint32_t large_quarantine = 64;  // freed large spans held per pool
};

// Most bytes of canary on each side of an object.
inline constexpr size_t kCanaryMax = 64;

// Largest per-class quarantine (SEALPOOL_OPTIONS quarantine).
inline constexpr uint32_t kMaxQuarantine = 64;

// Hot path: the canary word of the slot (or large object) at `slot`: one
// multiply keyed by two secrets (secret[1] is odd); every byte non-zero.
inline uint64_t SlotCanary(uintptr_t slot) {
  const uint64_t x = (slot ^ g_arena.secret[0]) * g_arena.secret[1];
  return (x ^ (x >> 29)) | 0x0101010101010101ull;
}

inline size_t CanaryLength(size_t gap) {
  return gap < kCanaryMax ? gap : kCanaryMax;
}

// Byte j of a canary region.
inline uint8_t CanaryByte(uint64_t k, size_t j) {
  return static_cast<uint8_t>(k >> ((j & 7) * 8));
}

// Writes the canary over [p, p + len) (large-object gaps).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline void WriteCanary(uintptr_t p,
                                                           size_t len,
                                                           uint64_t k) {
  size_t j = 0;
  for (; j + 8 <= len; j += 8) __builtin_memcpy(reinterpret_cast<void*>(p + j), &k, 8);
  for (; j < len; ++j) {
    reinterpret_cast<volatile uint8_t*>(p)[j] = CanaryByte(k, j);
  }
}

// True when [p, p + len) still holds the canary (large-object gaps).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline bool CanaryIntact(uintptr_t p,
                                                            size_t len,
                                                            uint64_t k) {
  uint64_t diff = 0, w;
  size_t j = 0;
  for (; j + 8 <= len; j += 8) {
    __builtin_memcpy(&w, reinterpret_cast<const void*>(p + j), 8);
    diff |= w ^ k;
  }
  for (; j < len; ++j) {
    diff |= reinterpret_cast<const uint8_t*>(p)[j] ^ CanaryByte(k, j);
  }
  return diff == 0;
}

// The length of a small slot's canary: `words` words (1; 2 for redzone
// pools, whose slack is at least 16 bytes), or the whole slack when that
// is shorter than a word.
inline size_t SlotCanaryLength(size_t slack, unsigned words) {
  return slack < 8 ? slack : 8 * size_t{words};
}

// Hot path: writes a small slot's canary after an object of `size` bytes
// in the slot [slot, slot + slot_size); one store. A slack shorter than a
// word is written through the slot's last word, whose first bytes are the
// object's tail: they are zero at allocation (or, with zero_on_free=0,
// stale bytes the new object has not been given yet).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline void WriteSlotCanary(
    uintptr_t slot, size_t size, size_t slot_size, unsigned words, uint64_t k) {
  const size_t slack = slot_size - size;
  if (ABSL_PREDICT_TRUE(slack >= 8)) {
    __builtin_memcpy(reinterpret_cast<void*>(slot + size), &k, 8);
    if (words > 1) __builtin_memcpy(reinterpret_cast<void*>(slot + size + 8), &k, 8);
    return;
  }
  const uint64_t w = k << (8 * (8 - slack));
  __builtin_memcpy(reinterpret_cast<void*>(slot + slot_size - 8), &w, 8);
}

// Hot path: true when the canary WriteSlotCanary() wrote is unchanged; one
// load and a compare.
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline bool SlotCanaryIntact(
    uintptr_t slot, size_t size, size_t slot_size, unsigned words, uint64_t k) {
  const size_t slack = slot_size - size;
  uint64_t w;
  if (ABSL_PREDICT_TRUE(slack >= 8)) {
    __builtin_memcpy(&w, reinterpret_cast<const void*>(slot + size), 8);
    uint64_t diff = w ^ k;
    if (words > 1) {
      __builtin_memcpy(&w, reinterpret_cast<const void*>(slot + size + 8), 8);
      diff |= w ^ k;
    }
    return diff == 0;
  }
  __builtin_memcpy(&w, reinterpret_cast<const void*>(slot + slot_size - 8), 8);
  const unsigned shift = static_cast<unsigned>(8 * (8 - slack));
  return (w >> shift) == (k << shift) >> shift;
}

// The offset in [p, p + len) of the first byte that is not canary (len if
// none). Slow path, for reports.
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline size_t FirstCanaryMismatch(
    uintptr_t p, size_t len, uint64_t k) {
  for (size_t j = 0; j < len; ++j) {
    if (reinterpret_cast<const uint8_t*>(p)[j] != CanaryByte(k, j)) return j;
  }
  return len;
}

// Zeroes bytes past an object's end (its canary, or bytes it is about to
// gain), which AddressSanitizer builds keep poisoned until then. Short
// ranges, any alignment; the empty asm keeps the loop from becoming a
// memset call (the checked one, in whole-program mode).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline void ZeroPastEnd(uintptr_t p, size_t n) {
  auto* b = reinterpret_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    b[i] = 0;
    __asm__("" : : "r"(b) : "memory");
  }
}

// Hot path: zeroes a slot; `size` is a multiple of 16 and p 16-aligned.
// The empty asm keeps compilers from turning the loop into a call to
// memset, which costs a call here and which AddressSanitizer intercepts.
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline void ZeroSlot(uintptr_t p, size_t size) {
  const __m128i z = _mm_setzero_si128();
  __m128i* q = reinterpret_cast<__m128i*>(p);
  __m128i* const end = q + size / 16;
  for (; q + 2 <= end; q += 2) {
    _mm_store_si128(q, z);
    _mm_store_si128(q + 1, z);
    __asm__("" : "+r"(q));
  }
  if (q != end) _mm_store_si128(q, z);
}

// Hot path: true when the slot [p, p + size) reads all zero; `size` is a
// multiple of 16 and p 16-aligned.
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline bool SlotIsZero(uintptr_t p, size_t size) {
  const __m128i* q = reinterpret_cast<const __m128i*>(p);
  const size_t n = size / 16;
  __m128i acc = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(_mm_load_si128(q + i),
                                                      _mm_load_si128(q + i + 1)),
                                         _mm_or_si128(_mm_load_si128(q + i + 2),
                                                      _mm_load_si128(q + i + 3))));
  }
  for (; i < n; ++i) acc = _mm_or_si128(acc, _mm_load_si128(q + i));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) == 0xFFFF;
}

// The offset of the first non-zero byte of [p, p + size) (size if none).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS inline size_t FirstNonZero(uintptr_t p,
                                                             size_t size) {
  for (size_t j = 0; j < size; ++j) {
    if (reinterpret_cast<const uint8_t*>(p)[j] != 0) return j;
  }
  return size;
}

// Hot path: a uniformly chosen index below n (n >= 1), from the calling
// thread's generator (xorshift64, seeded from the process secret).
inline uint32_t RandomBelow(uint64_t* state, uint32_t n) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return static_cast<uint32_t>(((x >> 32) * n) >> 32);
}

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_HARDENING_H_
