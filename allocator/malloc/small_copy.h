// sealpool — whole-program mode: copies and fills of at most
// kSmallCopyMax bytes, done in place by the interposed memcpy, memmove and
// memset instead of a second call into libc.
//
// Most of a program's copies are short; for them the call into libc's
// function (an indirect call through real_libc.h's pointer, then libc's
// size dispatch) costs as much as the check before it. These do the same
// work with unaligned 8- and 16-byte moves, the way libc's own small-size
// paths do: every load happens before any store, from the first and last
// bytes of the range with overlapping moves, so each function has
// memmove's semantics (any overlap of dst and src is safe) and no loop.
// Longer ranges go to libc, whose vector and `rep movsb` paths win there.

#ifndef SEALPOOL_ALLOCATOR_MALLOC_SMALL_COPY_H_
#define SEALPOOL_ALLOCATOR_MALLOC_SMALL_COPY_H_

#include <emmintrin.h>
#include <stddef.h>
#include <stdint.h>

namespace sealpool {
namespace malloc_internal {

inline constexpr size_t kSmallCopyMax = 128;

namespace small_copy {

// Unaligned, alias-anything loads and stores (no call of memcpy, which
// here is the function being implemented).
typedef uint64_t __attribute__((may_alias, aligned(1))) U64;
typedef uint32_t __attribute__((may_alias, aligned(1))) U32;
typedef uint16_t __attribute__((may_alias, aligned(1))) U16;

__attribute__((always_inline)) inline __m128i Load16(const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
__attribute__((always_inline)) inline void Store16(char* p, __m128i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
}

}  // namespace small_copy

// Copies n <= kSmallCopyMax bytes from src to dst; the ranges may overlap.
__attribute__((always_inline)) inline void SmallMove(void* dst, const void* src, size_t n) {
  using namespace small_copy;
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  if (n >= 16) {
    if (n <= 32) {
      const __m128i a = Load16(s), z = Load16(s + n - 16);
      Store16(d, a);
      Store16(d + n - 16, z);
    } else if (n <= 64) {
      const __m128i a = Load16(s), b = Load16(s + 16);
      const __m128i y = Load16(s + n - 32), z = Load16(s + n - 16);
      Store16(d, a);
      Store16(d + 16, b);
      Store16(d + n - 32, y);
      Store16(d + n - 16, z);
    } else {
      const __m128i a = Load16(s), b = Load16(s + 16), c = Load16(s + 32),
                    e = Load16(s + 48);
      const __m128i w = Load16(s + n - 64), x = Load16(s + n - 48),
                    y = Load16(s + n - 32), z = Load16(s + n - 16);
      Store16(d, a);
      Store16(d + 16, b);
      Store16(d + 32, c);
      Store16(d + 48, e);
      Store16(d + n - 64, w);
      Store16(d + n - 48, x);
      Store16(d + n - 32, y);
      Store16(d + n - 16, z);
    }
  } else if (n >= 8) {
    const uint64_t a = *reinterpret_cast<const U64*>(s);
    const uint64_t z = *reinterpret_cast<const U64*>(s + n - 8);
    *reinterpret_cast<U64*>(d) = a;
    *reinterpret_cast<U64*>(d + n - 8) = z;
  } else if (n >= 4) {
    const uint32_t a = *reinterpret_cast<const U32*>(s);
    const uint32_t z = *reinterpret_cast<const U32*>(s + n - 4);
    *reinterpret_cast<U32*>(d) = a;
    *reinterpret_cast<U32*>(d + n - 4) = z;
  } else if (n >= 2) {
    const uint16_t a = *reinterpret_cast<const U16*>(s);
    const uint16_t z = *reinterpret_cast<const U16*>(s + n - 2);
    *reinterpret_cast<U16*>(d) = a;
    *reinterpret_cast<U16*>(d + n - 2) = z;
  } else if (n == 1) {
    *d = *s;
  }
}

// Sets n <= kSmallCopyMax bytes at dst to (unsigned char)c.
__attribute__((always_inline)) inline void SmallSet(void* dst, int c, size_t n) {
  using namespace small_copy;
  char* d = static_cast<char*>(dst);
  const uint64_t v = 0x0101010101010101ull * static_cast<unsigned char>(c);
  if (n >= 16) {
    const __m128i x = _mm_set1_epi8(static_cast<char>(c));
    Store16(d, x);
    Store16(d + n - 16, x);
    if (n > 32) {
      Store16(d + 16, x);
      Store16(d + n - 32, x);
      if (n > 64) {
        Store16(d + 32, x);
        Store16(d + 48, x);
        Store16(d + n - 64, x);
        Store16(d + n - 48, x);
      }
    }
  } else if (n >= 8) {
    *reinterpret_cast<U64*>(d) = v;
    *reinterpret_cast<U64*>(d + n - 8) = v;
  } else if (n >= 4) {
    *reinterpret_cast<U32*>(d) = static_cast<uint32_t>(v);
    *reinterpret_cast<U32*>(d + n - 4) = static_cast<uint32_t>(v);
  } else if (n >= 2) {
    *reinterpret_cast<U16*>(d) = static_cast<uint16_t>(v);
    *reinterpret_cast<U16*>(d + n - 2) = static_cast<uint16_t>(v);
  } else if (n == 1) {
    *d = static_cast<char>(c);
  }
}

}  // namespace malloc_internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_MALLOC_SMALL_COPY_H_
