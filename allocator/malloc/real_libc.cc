// sealpool — libc's implementations, and the allocator's unchecked calls
// (see real_libc.h).
//
// Built with -fno-builtin and -fno-tree-loop-distribute-patterns: the
// fallback loops must not become calls to the functions they stand in for.

#include "allocator/malloc/real_libc.h"

#include <dlfcn.h>

namespace sealpool {
namespace malloc_internal {

RealLibc g_real;

void ResolveRealLibc() {
#define SEALPOOL_RESOLVE(name, ret, params)                              \
  if (g_real.name.load(std::memory_order_relaxed) == nullptr) {           \
    g_real.name.store(reinterpret_cast<ret(*) params>(                    \
                          dlsym(RTLD_NEXT, #name)),                       \
                      std::memory_order_relaxed);                         \
  }
  SEALPOOL_REAL_LIBC(SEALPOOL_RESOLVE)
#undef SEALPOOL_RESOLVE
}

namespace {

// The library's first constructor: before the program's constructors run.
__attribute__((constructor(101))) void ResolveAtLoad() { ResolveRealLibc(); }

}  // namespace

void* FallbackMemcpy(void* dst, const void* src, size_t n) noexcept {
  void* d = dst;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void* FallbackMemmove(void* dst, const void* src, size_t n) noexcept {
  auto* d = static_cast<volatile unsigned char*>(dst);
  auto* s = static_cast<const volatile unsigned char*>(src);
  if (d < s) {
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
  } else {
    for (size_t i = n; i > 0; --i) d[i - 1] = s[i - 1];
  }
  return dst;
}

void* FallbackMemset(void* dst, int c, size_t n) noexcept {
  void* d = dst;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

}  // namespace malloc_internal
}  // namespace sealpool

// The allocator's (and its libraries') own calls: unchecked, to libc.
using sealpool::malloc_internal::RawMemcpy;
using sealpool::malloc_internal::RawMemmove;
using sealpool::malloc_internal::RawMemset;

extern "C" {

void* __wrap_memcpy(void* d, const void* s, size_t n) { return RawMemcpy(d, s, n); }
void* __wrap_memmove(void* d, const void* s, size_t n) { return RawMemmove(d, s, n); }
void* __wrap_memset(void* d, int c, size_t n) { return RawMemset(d, c, n); }
void* __wrap_mempcpy(void* d, const void* s, size_t n) {
  return static_cast<char*>(RawMemcpy(d, s, n)) + n;
}
char* __wrap_strcpy(char* d, const char* s) { return SEALPOOL_REAL(strcpy)(d, s); }
char* __wrap_strncpy(char* d, const char* s, size_t n) {
  return SEALPOOL_REAL(strncpy)(d, s, n);
}
char* __wrap_stpcpy(char* d, const char* s) { return SEALPOOL_REAL(stpcpy)(d, s); }
char* __wrap_stpncpy(char* d, const char* s, size_t n) {
  return SEALPOOL_REAL(stpncpy)(d, s, n);
}
char* __wrap_strcat(char* d, const char* s) { return SEALPOOL_REAL(strcat)(d, s); }
char* __wrap_strncat(char* d, const char* s, size_t n) {
  return SEALPOOL_REAL(strncat)(d, s, n);
}
wchar_t* __wrap_wmemcpy(wchar_t* d, const wchar_t* s, size_t n) {
  return SEALPOOL_REAL(wmemcpy)(d, s, n);
}
wchar_t* __wrap_wmemmove(wchar_t* d, const wchar_t* s, size_t n) {
  return SEALPOOL_REAL(wmemmove)(d, s, n);
}
wchar_t* __wrap_wmemset(wchar_t* d, wchar_t c, size_t n) {
  return SEALPOOL_REAL(wmemset)(d, c, n);
}
int __wrap_vsnprintf(char* d, size_t n, const char* f, va_list ap) {
  return SEALPOOL_REAL(vsnprintf)(d, n, f, ap);
}
int __wrap_vsprintf(char* d, const char* f, va_list ap) {
  return SEALPOOL_REAL(vsprintf)(d, f, ap);
}
int __wrap_snprintf(char* d, size_t n, const char* f, ...) {
  va_list ap;
  va_start(ap, f);
  const int r = SEALPOOL_REAL(vsnprintf)(d, n, f, ap);
  va_end(ap);
  return r;
}
int __wrap_sprintf(char* d, const char* f, ...) {
  va_list ap;
  va_start(ap, f);
  const int r = SEALPOOL_REAL(vsprintf)(d, f, ap);
  va_end(ap);
  return r;
}
}  // extern "C"
