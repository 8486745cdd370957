// sealpool — whole-program mode: libc's memory and string functions,
// checked (see interpose.h for what is checked and what a refusal does).

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "allocator/malloc/interpose.h"
#include "allocator/malloc/real_libc.h"
#include "boundscheck/checked_string.h"

namespace sealpool {
namespace malloc_internal {
namespace {

inline size_t WideBytes(size_t n) {
  return n > SIZE_MAX / sizeof(wchar_t) ? SIZE_MAX : n * sizeof(wchar_t);
}

// Either end of a copy in sealpool's memory.
inline bool Either(const void* a, size_t an, const void* b, size_t bn) {
  return (Touches(a, an) || Touches(b, bn)) && Checking();
}

}  // namespace

// With checks on, both ranges through QuickAllowed (evaluated together,
// with `&`: the two lookups are independent loads), then libc's function;
// anything else is decided by the full rules. With check_libc=0 not even
// the lookups are made.
void* MemcpyHeap(void* dst, const void* src, size_t n) noexcept {
  if (!Checking() || __builtin_expect(QuickAllowed(src, n) & QuickAllowed(dst, n), 1)) {
    return CopyNow(dst, src, n);
  }
  CheckedMemcpy(dst, src, n);
  return dst;
}

void* MemmoveHeap(void* dst, const void* src, size_t n) noexcept {
  if (!Checking() || __builtin_expect(QuickAllowed(src, n) & QuickAllowed(dst, n), 1)) {
    return MoveNow(dst, src, n);
  }
  CheckedMemmove(dst, src, n);
  return dst;
}

void* MemsetHeap(void* dst, int c, size_t n) noexcept {
  if (!Checking() || __builtin_expect(QuickAllowed(dst, n), 1)) {
    return SetNow(dst, c, n);
  }
  CheckedMemset(dst, c, n);
  return dst;
}

char* Strcpy(char* dst, const char* src) {
  if (!Either(dst, 1, src, 1)) return SEALPOOL_REAL(strcpy)(dst, src);
  CheckedStrcpy(dst, src);
  return dst;
}

char* Stpcpy(char* dst, const char* src) {
  if (!Either(dst, 1, src, 1)) return SEALPOOL_REAL(stpcpy)(dst, src);
  char* end = CheckedStpcpy(dst, src);
  return end != nullptr ? end : dst;
}

char* Strncpy(char* dst, const char* src, size_t n) {
  if (!Either(dst, n, src, 1)) return SEALPOOL_REAL(strncpy)(dst, src, n);
  CheckedStrncpy(dst, src, n);
  return dst;
}

char* Stpncpy(char* dst, const char* src, size_t n) {
  if (!Either(dst, n, src, 1)) return SEALPOOL_REAL(stpncpy)(dst, src, n);
  char* end = CheckedStpncpy(dst, src, n);
  return end != nullptr ? end : dst;
}

char* Strcat(char* dst, const char* src) {
  if (!Either(dst, 1, src, 1)) return SEALPOOL_REAL(strcat)(dst, src);
  CheckedStrcat(dst, src);
  return dst;
}

char* Strncat(char* dst, const char* src, size_t n) {
  if (!Either(dst, 1, src, 1)) return SEALPOOL_REAL(strncat)(dst, src, n);
  CheckedStrncat(dst, src, n);
  return dst;
}

wchar_t* Wmemcpy(wchar_t* dst, const wchar_t* src, size_t n) {
  if (!Either(dst, WideBytes(n), src, WideBytes(n))) {
    return SEALPOOL_REAL(wmemcpy)(dst, src, n);
  }
  CheckedWmemcpy(dst, src, n);
  return dst;
}

wchar_t* Wmemmove(wchar_t* dst, const wchar_t* src, size_t n) {
  if (!Either(dst, WideBytes(n), src, WideBytes(n))) {
    return SEALPOOL_REAL(wmemmove)(dst, src, n);
  }
  CheckedWmemmove(dst, src, n);
  return dst;
}

wchar_t* Wmemset(wchar_t* dst, wchar_t c, size_t n) {
  if (!(Touches(dst, WideBytes(n)) && Checking())) {
    return SEALPOOL_REAL(wmemset)(dst, c, n);
  }
  CheckedWmemset(dst, c, n);
  return dst;
}

int Vsnprintf(char* dst, size_t n, const char* fmt, va_list ap) {
  if (!Either(dst, n, fmt, 1)) return SEALPOOL_REAL(vsnprintf)(dst, n, fmt, ap);
  const int r = CheckedVsnprintf(dst, n, fmt, ap);
  if (r < 0) errno = EFAULT;
  return r < 0 ? -1 : r;
}

int Vsprintf(char* dst, const char* fmt, va_list ap) {
  if (!Either(dst, 1, fmt, 1)) return SEALPOOL_REAL(vsprintf)(dst, fmt, ap);
  const int r = CheckedVsprintf(dst, fmt, ap);
  if (r < 0) errno = EFAULT;
  return r < 0 ? -1 : r;
}

}  // namespace malloc_internal
}  // namespace sealpool

namespace mi = sealpool::malloc_internal;

extern "C" {

void* memcpy(void* d, const void* s, size_t n) noexcept { return mi::Memcpy(d, s, n); }
void* memmove(void* d, const void* s, size_t n) noexcept { return mi::Memmove(d, s, n); }
void* memset(void* d, int c, size_t n) noexcept { return mi::Memset(d, c, n); }
void* mempcpy(void* d, const void* s, size_t n) noexcept { return mi::Mempcpy(d, s, n); }
void bcopy(const void* s, void* d, size_t n) noexcept { mi::Memmove(d, s, n); }

void explicit_bzero(void* d, size_t n) noexcept {
  mi::Memset(d, 0, n);
  // The stores must happen even if `d` is never read again.
  asm volatile("" : : "r"(d) : "memory");
}

char* strcpy(char* d, const char* s) noexcept { return mi::Strcpy(d, s); }
char* stpcpy(char* d, const char* s) noexcept { return mi::Stpcpy(d, s); }
char* strncpy(char* d, const char* s, size_t n) noexcept { return mi::Strncpy(d, s, n); }
char* stpncpy(char* d, const char* s, size_t n) noexcept { return mi::Stpncpy(d, s, n); }
char* strcat(char* d, const char* s) noexcept { return mi::Strcat(d, s); }
char* strncat(char* d, const char* s, size_t n) noexcept { return mi::Strncat(d, s, n); }

wchar_t* wmemcpy(wchar_t* d, const wchar_t* s, size_t n) noexcept {
  return mi::Wmemcpy(d, s, n);
}
wchar_t* wmemmove(wchar_t* d, const wchar_t* s, size_t n) noexcept {
  return mi::Wmemmove(d, s, n);
}
wchar_t* wmemset(wchar_t* d, wchar_t c, size_t n) noexcept { return mi::Wmemset(d, c, n); }

int vsnprintf(char* d, size_t n, const char* f, va_list ap) noexcept {
  return mi::Vsnprintf(d, n, f, ap);
}
int vsprintf(char* d, const char* f, va_list ap) noexcept { return mi::Vsprintf(d, f, ap); }
int snprintf(char* d, size_t n, const char* f, ...) noexcept {
  va_list ap;
  va_start(ap, f);
  const int r = mi::Vsnprintf(d, n, f, ap);
  va_end(ap);
  return r;
}
int sprintf(char* d, const char* f, ...) noexcept {
  va_list ap;
  va_start(ap, f);
  const int r = mi::Vsprintf(d, f, ap);
  va_end(ap);
  return r;
}

}  // extern "C"
