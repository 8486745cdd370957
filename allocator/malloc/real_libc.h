// sealpool — libc's own implementations of the functions whole-program
// mode interposes.
//
// libsealpool_malloc.so defines memcpy, read, fwrite, ... (checked_*.cc);
// the checked versions call libc's through these pointers, which are
// looked up with dlsym(RTLD_NEXT) when the library is initialized (before
// any constructor of the program, since a preloaded library depends only on
// libc). A function called before that (another library's constructor, or
// the allocator's own start-up) is looked up on first use; the memory
// functions, which the allocator itself needs before dlsym is safe to call,
// have plain fallbacks instead.
//
// The library is linked with --wrap for every interposed memory, string
// and format function (allocator/malloc/CMakeLists.txt), so the
// allocator's own calls (and those of the C++ runtime and Abseil code
// linked into it) reach the __wrap_ functions in real_libc.cc, which go
// straight to libc: the allocator's copies — zeroing a freed slot,
// realloc's copy — are not checked against the objects they are changing,
// and cost nothing extra. Its I/O calls (a report's write to stderr) are
// checked like the program's; they never involve heap objects.

#ifndef SEALPOOL_ALLOCATOR_MALLOC_REAL_LIBC_H_
#define SEALPOOL_ALLOCATOR_MALLOC_REAL_LIBC_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <wchar.h>

#include <atomic>

namespace sealpool {
namespace malloc_internal {

// X(name, return type, parameter list). The memory and string functions
// are noexcept, as glibc declares them to C++: a call through their
// pointers is then a tail call, with no exception region around it.
#define SEALPOOL_REAL_LIBC(X)                                                  \
  X(memcpy, void*, (void*, const void*, size_t) noexcept)                      \
  X(memmove, void*, (void*, const void*, size_t) noexcept)                     \
  X(memset, void*, (void*, int, size_t) noexcept)                              \
  X(mempcpy, void*, (void*, const void*, size_t) noexcept)                     \
  X(strcpy, char*, (char*, const char*) noexcept)                              \
  X(strncpy, char*, (char*, const char*, size_t) noexcept)                     \
  X(stpcpy, char*, (char*, const char*) noexcept)                              \
  X(stpncpy, char*, (char*, const char*, size_t) noexcept)                     \
  X(strcat, char*, (char*, const char*) noexcept)                              \
  X(strncat, char*, (char*, const char*, size_t) noexcept)                     \
  X(wmemcpy, wchar_t*, (wchar_t*, const wchar_t*, size_t) noexcept)            \
  X(wmemmove, wchar_t*, (wchar_t*, const wchar_t*, size_t) noexcept)           \
  X(wmemset, wchar_t*, (wchar_t*, wchar_t, size_t) noexcept)                   \
  X(vsnprintf, int, (char*, size_t, const char*, va_list))                     \
  X(vsprintf, int, (char*, const char*, va_list))                              \
  X(read, ssize_t, (int, void*, size_t))                                       \
  X(pread, ssize_t, (int, void*, size_t, off_t))                               \
  X(readv, ssize_t, (int, const struct iovec*, int))                           \
  X(recv, ssize_t, (int, void*, size_t, int))                                  \
  X(recvfrom, ssize_t, (int, void*, size_t, int, struct sockaddr*, socklen_t*)) \
  X(recvmsg, ssize_t, (int, struct msghdr*, int))                              \
  X(write, ssize_t, (int, const void*, size_t))                                \
  X(pwrite, ssize_t, (int, const void*, size_t, off_t))                        \
  X(writev, ssize_t, (int, const struct iovec*, int))                          \
  X(send, ssize_t, (int, const void*, size_t, int))                            \
  X(sendto, ssize_t, (int, const void*, size_t, int, const struct sockaddr*,   \
                      socklen_t))                                              \
  X(sendmsg, ssize_t, (int, const struct msghdr*, int))                        \
  X(fread, size_t, (void*, size_t, size_t, FILE*))                             \
  X(fwrite, size_t, (const void*, size_t, size_t, FILE*))                      \
  X(fgets, char*, (char*, int, FILE*))                                         \
  X(__vsnprintf_chk, int, (char*, size_t, int, size_t, const char*, va_list))  \
  X(__vsprintf_chk, int, (char*, int, size_t, const char*, va_list))           \
  X(__fgets_chk, char*, (char*, size_t, int, FILE*))

struct RealLibc {
#define SEALPOOL_REAL_FIELD(name, ret, params) std::atomic<ret(*) params> name;
  SEALPOOL_REAL_LIBC(SEALPOOL_REAL_FIELD)
#undef SEALPOOL_REAL_FIELD
};
extern RealLibc g_real;

// Looks every function up (idempotent, thread-safe).
void ResolveRealLibc();

// libc's `name`, looked up now if it has not been.
#define SEALPOOL_REAL(name)                                                \
  (__builtin_expect(                                                       \
       ::sealpool::malloc_internal::g_real.name.load(                       \
           std::memory_order_relaxed) != nullptr,                          \
       1)                                                                  \
       ? ::sealpool::malloc_internal::g_real.name.load(                     \
             std::memory_order_relaxed)                                    \
       : (::sealpool::malloc_internal::ResolveRealLibc(),                   \
          ::sealpool::malloc_internal::g_real.name.load(                    \
              std::memory_order_relaxed)))

// Plain loops, for before start-up has looked libc's functions up.
void* FallbackMemcpy(void* dst, const void* src, size_t n) noexcept;
void* FallbackMemmove(void* dst, const void* src, size_t n) noexcept;
void* FallbackMemset(void* dst, int c, size_t n) noexcept;

// Unchecked copies for the allocator and the checked functions alike:
// libc's (a tail call through the pointer) once it is known.
inline void* RawMemcpy(void* dst, const void* src, size_t n) {
  if (auto* f = g_real.memcpy.load(std::memory_order_relaxed)) return f(dst, src, n);
  return FallbackMemcpy(dst, src, n);
}
inline void* RawMemmove(void* dst, const void* src, size_t n) {
  if (auto* f = g_real.memmove.load(std::memory_order_relaxed)) return f(dst, src, n);
  return FallbackMemmove(dst, src, n);
}
inline void* RawMemset(void* dst, int c, size_t n) {
  if (auto* f = g_real.memset.load(std::memory_order_relaxed)) return f(dst, c, n);
  return FallbackMemset(dst, c, n);
}

}  // namespace malloc_internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_MALLOC_REAL_LIBC_H_
