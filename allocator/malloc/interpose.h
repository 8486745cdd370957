// sealpool — whole-program mode: what every checked libc entry point asks
// first, and the checked operations they share.
//
// A copy or I/O call is checked only when one of its ranges touches
// sealpool's reservations (the heap's data zone, or the allocator's
// metadata): everything else — stack, globals, libc's own buffers, memory
// from mmap — goes straight to libc after a few compares of the range
// against the arena's bounds. A range that touches them is checked by
// check_copy's rules (boundscheck/check_copy.h), both of a copy's ranges
// then, whatever the other points at.
//
// In report mode a refused call does nothing and fails the way its
// interface allows: I/O calls return -1 with errno EFAULT (as the kernel
// does for a bad buffer), fread/fwrite return 0, fgets NULL, the
// snprintf family -1 with errno EFAULT, and the memory and string
// functions, which cannot fail, return their usual result without
// copying (a refused source leaves zeros in a valid destination).

#ifndef SEALPOOL_ALLOCATOR_MALLOC_INTERPOSE_H_
#define SEALPOOL_ALLOCATOR_MALLOC_INTERPOSE_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "allocator/internal/arena.h"
#include "allocator/malloc/heap.h"
#include "allocator/malloc/real_libc.h"
#include "allocator/malloc/small_copy.h"
#include "boundscheck/check_copy.h"

namespace sealpool {
namespace malloc_internal {

// Whether [a, a + n) overlaps the zone [lo, lo + size), given
// lo1 = lo + 1 and lim = size + n - 1: the range overlaps it exactly when
// a lies in [lo - n + 1, lo + size), which, shifted by n - lo - 1, is one
// unsigned compare (valid for a, n below 2^47, where nothing wraps).
__attribute__((always_inline)) inline bool Overlaps(uintptr_t a, size_t n, uintptr_t lo1,
                                                    size_t lim) {
  return a + n - lo1 < lim;
}

// Addresses and lengths from 2^47 up (past x86-64's 4-level user address
// space) are sent to the full rules, which decide them exactly; below it
// neither a range nor the compares below can wrap.
inline constexpr int kUserAddressBits = 47;

// Whether [a, a + n) or [b, b + n) needs checking: it overlaps one of
// sealpool's reservations, or an end or the length is not below 2^47 (a
// wrapping range among them). A subtraction and a compare per range and
// reservation, each a branch not taken, so that a copy between memory
// sealpool does not own costs these and nothing else.
__attribute__((always_inline)) inline bool TouchesEither(uintptr_t a, uintptr_t b, size_t n) {
  if (__builtin_expect(((a | b | n) >> kUserAddressBits) != 0, 0)) return true;
  // Before the arena exists its bounds are not read (see InDataZone).
  if (__builtin_expect(internal::g_arena.data_size.load(std::memory_order_acquire) == 0, 0)) {
    return false;
  }
  const uintptr_t data = internal::g_arena.reservation + 1;
  const size_t data_lim = internal::g_arena.reservation_size + n - 1;
  if (__builtin_expect(Overlaps(a, n, data, data_lim), 0)) return true;
  if (__builtin_expect(Overlaps(b, n, data, data_lim), 0)) return true;
  const uintptr_t meta = internal::g_arena.meta_reservation + 1;
  const size_t meta_lim = internal::g_arena.meta_reservation_size + n - 1;
  return __builtin_expect(Overlaps(a, n, meta, meta_lim) || Overlaps(b, n, meta, meta_lim), 0);
}

// Whether [p, p + n) needs checking (a wrapping range does too: the rules
// refuse it).
__attribute__((always_inline)) inline bool Touches(const void* p, size_t n) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return TouchesEither(a, a, n);
}

// Whether [p, p + n) stays away from sealpool's memory (and does not wrap):
// compares only, so that a copy of memory sealpool does not own costs a
// few of them and libc's function.
__attribute__((always_inline)) inline bool Away(const void* p, size_t n) {
  return !Touches(p, n);
}

inline bool Checking() { return g_heap.check_libc; }

// Hot path: true when [p, p + n) certainly passes — it lies inside one live
// heap object, or away from sealpool's memory altogether. False sends the
// call to the full rules (CheckCopy and friends), which decide and report.
// Every pool here is a heap pool, never sealed and without a usercopy
// window, so bounds are all there is to check.
__attribute__((always_inline)) inline bool QuickAllowed(const void* p, size_t n) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (internal::InDataZone(a)) {
    ObjectBounds b;
    if (internal::LookupInDataZone(a, &b, kLookupBounds) != Lookup::kObject) {
      return false;
    }
    return n <= b.size - (a - b.start);
  }
  return Away(p, n);
}

// True when [p, p + n) may be read (kRead) or written (kWrite); a refusal
// is reported (abort mode does not return).
inline bool Allowed(const void* p, size_t n, CopyDirection dir) {
  return __builtin_expect(QuickAllowed(p, n), 1) || !Checking() ||
         CheckCopy(p, n, dir) == ViolationKind::kNone;
}

// The heap side of the memory functions, out of line (checked_libc.cc):
// the lookups, then libc's function or the full rules.
void* MemcpyHeap(void* dst, const void* src, size_t n) noexcept;
void* MemmoveHeap(void* dst, const void* src, size_t n) noexcept;
void* MemsetHeap(void* dst, int c, size_t n) noexcept;

// The copy itself, once the ranges are allowed: in place up to
// kSmallCopyMax bytes (small_copy.h), else libc's function.
__attribute__((always_inline)) inline void* CopyNow(void* dst, const void* src, size_t n) {
  if (n <= kSmallCopyMax) {
    SmallMove(dst, src, n);
    return dst;
  }
  return RawMemcpy(dst, src, n);
}
__attribute__((always_inline)) inline void* MoveNow(void* dst, const void* src, size_t n) {
  if (n <= kSmallCopyMax) {
    SmallMove(dst, src, n);
    return dst;
  }
  return RawMemmove(dst, src, n);
}
__attribute__((always_inline)) inline void* SetNow(void* dst, int c, size_t n) {
  if (n <= kSmallCopyMax) {
    SmallSet(dst, c, n);
    return dst;
  }
  return RawMemset(dst, c, n);
}

// The checked operations behind both the plain entry points and their
// _FORTIFY_SOURCE twins. The memory functions are inline: when neither
// range is near sealpool's memory, the copy itself (small_copy.h) or a tail
// call of libc's function.
__attribute__((always_inline)) inline bool BothAway(const void* dst, const void* src,
                                                    size_t n) {
  return !TouchesEither(reinterpret_cast<uintptr_t>(dst), reinterpret_cast<uintptr_t>(src), n);
}

__attribute__((always_inline)) inline void* Memcpy(void* dst, const void* src, size_t n) {
  if (__builtin_expect(BothAway(dst, src, n), 1)) return CopyNow(dst, src, n);
  return MemcpyHeap(dst, src, n);
}

__attribute__((always_inline)) inline void* Memmove(void* dst, const void* src, size_t n) {
  if (__builtin_expect(BothAway(dst, src, n), 1)) return MoveNow(dst, src, n);
  return MemmoveHeap(dst, src, n);
}

__attribute__((always_inline)) inline void* Memset(void* dst, int c, size_t n) {
  if (__builtin_expect(Away(dst, n), 1)) return SetNow(dst, c, n);
  return MemsetHeap(dst, c, n);
}

__attribute__((always_inline)) inline void* Mempcpy(void* dst, const void* src, size_t n) {
  return static_cast<char*>(Memcpy(dst, src, n)) + n;
}

char* Strcpy(char* dst, const char* src);
char* Stpcpy(char* dst, const char* src);
char* Strncpy(char* dst, const char* src, size_t n);
char* Stpncpy(char* dst, const char* src, size_t n);
char* Strcat(char* dst, const char* src);
char* Strncat(char* dst, const char* src, size_t n);
wchar_t* Wmemcpy(wchar_t* dst, const wchar_t* src, size_t n);
wchar_t* Wmemmove(wchar_t* dst, const wchar_t* src, size_t n);
wchar_t* Wmemset(wchar_t* dst, wchar_t c, size_t n);
int Vsnprintf(char* dst, size_t n, const char* fmt, va_list ap);
int Vsprintf(char* dst, const char* fmt, va_list ap);

}  // namespace malloc_internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_MALLOC_INTERPOSE_H_
