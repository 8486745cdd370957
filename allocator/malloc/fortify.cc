// sealpool — whole-program mode: the _FORTIFY_SOURCE entry points.
//
// A program built with _FORTIFY_SOURCE calls __memcpy_chk(d, s, n, size
// of d the compiler knew) and friends instead of memcpy. A length past the
// compiler's size — a stack buffer, a global, a struct member — is
// sealpool's object-size violation (check_copy.h, CheckCopySized), reported
// like every other: the pool or "process stack" / "program data", the
// stack, abort or (report mode) a call that does nothing. With
// check_libc=0 it is glibc's own __chk_fail ("buffer overflow detected"),
// as without sealpool. Then sealpool's checks run, exactly as for the
// plain function: the compiler often does not know a heap object's size,
// sealpool does. The printf family keeps glibc's own functions for memory
// sealpool does not own, so that _FORTIFY_SOURCE=2's %n protection stays;
// a vsnprintf length past the destination is refused first.

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wchar.h>

#include "allocator/malloc/interpose.h"
#include "allocator/malloc/real_libc.h"
#include "boundscheck/checked_string.h"

extern "C" [[noreturn]] void __chk_fail(void);

namespace mi = sealpool::malloc_internal;
using sealpool::CopyDirection;

namespace {

// Whether `need` bytes fit the `have` the compiler knew at d; a refusal is
// reported (abort mode does not return).
inline bool Fits(const void* d, size_t need, size_t have) {
  if (__builtin_expect(need <= have, 1)) return true;
  if (!mi::Checking()) __chk_fail();
  sealpool::CheckCopySized(d, need, CopyDirection::kWrite, have);
  return false;
}

// The same for n wide characters where dl were known (glibc passes the
// size in wchar_t units).
inline bool WideFits(const void* d, size_t n, size_t dl) {
  if (__builtin_expect(n <= dl, 1)) return true;
  const size_t w = sizeof(wchar_t);
  return Fits(d, n > SIZE_MAX / w ? SIZE_MAX : n * w, dl > SIZE_MAX / w ? SIZE_MAX : dl * w);
}

// The I/O calls' refusal: as a bad buffer's (EFAULT).
inline ssize_t Efault() {
  errno = EFAULT;
  return -1;
}

// strlen(s), checked as a read when s is sealpool's; SIZE_MAX if refused.
size_t Length(const char* s) {
  if (mi::Touches(s, 1) && mi::Checking()) return sealpool::CheckedStrnlen(s, SIZE_MAX);
  return strlen(s);
}

size_t LengthN(const char* s, size_t n) {
  if (mi::Touches(s, 1) && mi::Checking()) return sealpool::CheckedStrnlen(s, n);
  return strnlen(s, n);
}

}  // namespace

extern "C" {

void* __memcpy_chk(void* d, const void* s, size_t n, size_t dl) noexcept {
  if (!Fits(d, n, dl)) return d;
  return mi::Memcpy(d, s, n);
}
void* __memmove_chk(void* d, const void* s, size_t n, size_t dl) noexcept {
  if (!Fits(d, n, dl)) return d;
  return mi::Memmove(d, s, n);
}
void* __memset_chk(void* d, int c, size_t n, size_t dl) noexcept {
  if (!Fits(d, n, dl)) return d;
  return mi::Memset(d, c, n);
}
void* __mempcpy_chk(void* d, const void* s, size_t n, size_t dl) noexcept {
  if (!Fits(d, n, dl)) return static_cast<char*>(d) + n;
  return mi::Mempcpy(d, s, n);
}

char* __strcpy_chk(char* d, const char* s, size_t dl) noexcept {
  const size_t len = Length(s);
  if (len == SIZE_MAX || !Fits(d, len + 1, dl)) return d;  // refused
  return mi::Strcpy(d, s);
}
char* __stpcpy_chk(char* d, const char* s, size_t dl) noexcept {
  const size_t len = Length(s);
  if (len == SIZE_MAX || !Fits(d, len + 1, dl)) return d;
  return mi::Stpcpy(d, s);
}
char* __strncpy_chk(char* d, const char* s, size_t n, size_t dl) noexcept {
  if (!Fits(d, n, dl)) return d;
  return mi::Strncpy(d, s, n);
}
char* __stpncpy_chk(char* d, const char* s, size_t n, size_t dl) noexcept {
  if (!Fits(d, n, dl)) return d;
  return mi::Stpncpy(d, s, n);
}
char* __strcat_chk(char* d, const char* s, size_t dl) noexcept {
  const size_t have = Length(d);
  const size_t add = Length(s);
  if (have == SIZE_MAX || add == SIZE_MAX || !Fits(d, have + add + 1, dl)) {
    return d;
  }
  return mi::Strcat(d, s);
}
char* __strncat_chk(char* d, const char* s, size_t n, size_t dl) noexcept {
  const size_t have = Length(d);
  const size_t add = LengthN(s, n);
  if (have == SIZE_MAX || add == SIZE_MAX || !Fits(d, have + add + 1, dl)) {
    return d;
  }
  return mi::Strncat(d, s, n);
}

wchar_t* __wmemcpy_chk(wchar_t* d, const wchar_t* s, size_t n, size_t dl) noexcept {
  if (!WideFits(d, n, dl)) return d;
  return mi::Wmemcpy(d, s, n);
}
wchar_t* __wmemmove_chk(wchar_t* d, const wchar_t* s, size_t n, size_t dl) noexcept {
  if (!WideFits(d, n, dl)) return d;
  return mi::Wmemmove(d, s, n);
}
wchar_t* __wmemset_chk(wchar_t* d, wchar_t c, size_t n, size_t dl) noexcept {
  if (!WideFits(d, n, dl)) return d;
  return mi::Wmemset(d, c, n);
}

// The printf family: glibc's own when the destination and the format are
// not sealpool's (so that _FORTIFY_SOURCE=2's `flag` checks, %n in a
// writable format, stay); else the bound, then sealpool's checked
// formatting.
int __vsnprintf_chk(char* d, size_t n, int flag, size_t dl, const char* f,
                    va_list ap) noexcept {
  if (!Fits(d, n, dl)) {
    errno = EFAULT;
    return -1;
  }
  if (!((mi::Touches(d, n) || mi::Touches(f, 1)) && mi::Checking())) {
    return SEALPOOL_REAL(__vsnprintf_chk)(d, n, flag, dl, f, ap);
  }
  return mi::Vsnprintf(d, n, f, ap);
}
int __snprintf_chk(char* d, size_t n, int flag, size_t dl, const char* f, ...) noexcept {
  va_list ap;
  va_start(ap, f);
  const int r = __vsnprintf_chk(d, n, flag, dl, f, ap);
  va_end(ap);
  return r;
}
// The destination's known size bounds what is formatted: a longer result
// fails as glibc's does.
int __vsprintf_chk(char* d, int flag, size_t dl, const char* f, va_list ap) noexcept {
  if (!((mi::Touches(d, 1) || mi::Touches(f, 1)) && mi::Checking())) {
    return SEALPOOL_REAL(__vsprintf_chk)(d, flag, dl, f, ap);
  }
  if (dl > static_cast<size_t>(INT32_MAX)) return mi::Vsprintf(d, f, ap);
  va_list copy;
  va_copy(copy, ap);
  const int r = mi::Vsnprintf(d, dl, f, copy);
  va_end(copy);
  if (r >= 0 && static_cast<size_t>(r) >= dl) __chk_fail();
  return r;
}
int __sprintf_chk(char* d, int flag, size_t dl, const char* f, ...) noexcept {
  va_list ap;
  va_start(ap, f);
  const int r = __vsprintf_chk(d, flag, dl, f, ap);
  va_end(ap);
  return r;
}

ssize_t __read_chk(int fd, void* buf, size_t n, size_t bl) {
  if (!Fits(buf, n, bl)) return Efault();
  return read(fd, buf, n);
}
ssize_t __pread_chk(int fd, void* buf, size_t n, off_t off, size_t bl) {
  if (!Fits(buf, n, bl)) return Efault();
  return pread(fd, buf, n, off);
}
ssize_t __pread64_chk(int fd, void* buf, size_t n, off_t off, size_t bl) {
  if (!Fits(buf, n, bl)) return Efault();
  return pread(fd, buf, n, off);
}
ssize_t __recv_chk(int fd, void* buf, size_t n, size_t bl, int flags) {
  if (!Fits(buf, n, bl)) return Efault();
  return recv(fd, buf, n, flags);
}
ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t bl, int flags,
                       struct sockaddr* addr, socklen_t* addrlen) {
  if (!Fits(buf, n, bl)) return Efault();
  return recvfrom(fd, buf, n, flags, addr, addrlen);
}
size_t __fread_chk(void* buf, size_t bl, size_t size, size_t n, FILE* fp) {
  size_t bytes;
  if (__builtin_mul_overflow(size, n, &bytes)) __chk_fail();
  if (!Fits(buf, bytes, bl)) return 0;
  return fread(buf, size, n, fp);
}
// glibc fails only when the line read reaches the compiler's size, not
// for a large `n` alone: its own function keeps that; sealpool checks the
// buffer first, as for fgets.
char* __fgets_chk(char* buf, size_t bl, int n, FILE* fp) {
  if (n > 0 && !mi::Allowed(buf, static_cast<size_t>(n) < bl ? static_cast<size_t>(n) : bl,
                            CopyDirection::kWrite)) {
    errno = EFAULT;
    return nullptr;
  }
  return SEALPOOL_REAL(__fgets_chk)(buf, bl, n, fp);
}

}  // extern "C"
