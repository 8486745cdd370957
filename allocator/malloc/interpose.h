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
#include "boundscheck/check_copy.h"

namespace sealpool {
namespace malloc_internal {

// Whether [p, p + n) needs checking (a wrapping range does too: the rules
// refuse it).
inline bool Touches(const void* p, size_t n) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  return __builtin_expect(internal::InReservation(a, n) || a + n < a, 0);
}

// Whether [p, p + n) stays away from sealpool's memory (and does not wrap):
// compares only, so that a copy of memory sealpool does not own costs a
// few of them and a tail call.
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
void* MemcpyHeap(void* dst, const void* src, size_t n);
void* MemmoveHeap(void* dst, const void* src, size_t n);
void* MemsetHeap(void* dst, int c, size_t n);

// The checked operations behind both the plain entry points and their
// _FORTIFY_SOURCE twins. The memory functions are inline: when neither
// range is near sealpool's memory, a tail call of libc's function.
__attribute__((always_inline)) inline void* Memcpy(void* dst, const void* src, size_t n) {
  if (__builtin_expect(Away(src, n) & Away(dst, n), 1)) return RawMemcpy(dst, src, n);
  return MemcpyHeap(dst, src, n);
}

__attribute__((always_inline)) inline void* Memmove(void* dst, const void* src, size_t n) {
  if (__builtin_expect(Away(src, n) & Away(dst, n), 1)) return RawMemmove(dst, src, n);
  return MemmoveHeap(dst, src, n);
}

__attribute__((always_inline)) inline void* Memset(void* dst, int c, size_t n) {
  if (__builtin_expect(Away(dst, n), 1)) return RawMemset(dst, c, n);
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
