/* sealpool — route a host's own copy calls through the checks, from any
 * build.
 *
 * Force it into every translation unit of a C or C++ project, first, and
 * link with sealpool:
 *
 *   cc  ... -include boundscheck/memcpy_shim.h ...
 *   c++ ... -include boundscheck/memcpy_shim.h ...
 *
 * with sealpool's include path (the source root in the build tree,
 * <prefix>/include/sealpool once installed; the sealpool::sealpool target
 * and `pkg-config --cflags sealpool` bring it). From then on these calls,
 * written by name in that translation unit, are the checked sp_ functions
 * of sealpool/sealpool.h:
 *
 *   memcpy memmove memset mempcpy
 *   strcpy strncpy stpcpy stpncpy strcat strncat
 *   sprintf snprintf vsprintf vsnprintf
 *   wmemcpy wmemmove wmemset
 *
 * including std::memcpy and friends in C++, &memcpy and function pointers
 * to them, and the copies in libc's own macros (strdupa). Each checks its
 * source for reading and its destination for writing, as sp_memcpy does,
 * and returns exactly what the libc function returns when the copy is
 * allowed. In report mode a refused call returns NULL (the pointer-returning
 * ones) or a negative value (the printf family), and writes nothing — except
 * that when only the source range is refused, the destination range is
 * zeroed (sealpool.h, "Copy checks").
 *
 * Where the compiler knows how large the destination is, the forwarder
 * passes that too, as _FORTIFY_SOURCE=3 does: the forwarders are always
 * inlined and call the _sized checks (sp_memcpy_sized, ...) with
 * __builtin_dynamic_object_size(dst, 0) for the mem* calls and (dst, 1) —
 * the enclosing member or array — for the string calls and vsprintf /
 * vsnprintf. A copy longer than that is refused as object-size even where
 * sealpool owns nothing: a stack buffer, a global, one member of a struct.
 * (sprintf, snprintf and the wmem* calls pass no size: variadic forwarders
 * cannot be inlined, and glibc itself gives wmem* no object size here.)
 * Unknown sizes cost one compare.
 *
 * Turning it off: -DSEALPOOL_CHECKED_MEMCPY=0 (it is on when that macro is
 * undefined or non-zero). -DSEALPOOL_SHIM_NO_EXTENSIONS leaves the POSIX
 * and GNU names (mempcpy, stpcpy, stpncpy) alone, for projects that define
 * their own.
 *
 * It works wherever it is forced in first because it includes no header
 * and changes no declaration:
 *   - it declares the sp_ functions itself (under private names bound to
 *     their symbols, so sealpool.h may still be included), with the
 *     compiler's own types (__SIZE_TYPE__, __builtin_va_list,
 *     __WCHAR_TYPE__ in C, wchar_t in C++), so the project's feature-test
 *     macros (_GNU_SOURCE, _POSIX_C_SOURCE, _XOPEN_SOURCE), defined later
 *     in its sources, still decide everything libc declares;
 *   - each covered name is an object-like macro for a static inline
 *     forwarder, sealpool_shim_<name>, defined here with libc's parameter
 *     types and, in C++, libc's exception specification (noexcept(true) or
 *     throw()). libc's own declaration of <name>, seen later, becomes a
 *     compatible redeclaration of the forwarder; a function-like macro
 *     would instead break libc's prototypes;
 *   - the forwarders are not compiler builtins, so no call is expanded
 *     inline past the check (GCC and Clang expand memcpy, strcpy and
 *     sprintf as builtins; they do not know sealpool_shim_*);
 *   - C++: <cstring>, <cstdio> and <cwchar> #undef the ISO names and then
 *     say `using ::memcpy;` into std. For them this header also defines
 *     ::memcpy (and the other ISO names) as C++ inline functions that call
 *     the checks, so std::memcpy, ::memcpy and plain memcpy stay checked
 *     after those headers. (That needs the shim before <string.h>,
 *     <stdio.h> and <wchar.h>; included after them, only the calls that
 *     still see the macros are checked.)
 *
 * _FORTIFY_SOURCE: fortified glibc headers replace these functions with
 * inline wrappers that call __builtin___memcpy_chk and friends, which would
 * bypass the checks. The shim refuses such builds: with _FORTIFY_SOURCE > 0
 * and optimisation on, it stops with an #error; and if _FORTIFY_SOURCE is
 * defined later, inside a source file, the fortified wrapper is a
 * redefinition of the forwarder defined here, and the compiler stops at
 * "redefinition of 'sealpool_shim_memcpy'" (or another covered name).
 * Build with -U_FORTIFY_SOURCE (or -D_FORTIFY_SOURCE=0) where the shim is
 * used: its checks cover what fortify's object-size checks would, and
 * more (heap objects of any size, sealed memory, freed slots).
 *
 * What it cannot cover:
 *   - calls in code compiled without it (libraries, libc's own internal
 *     copies such as fread into a buffer, other translation units);
 *   - copies the compiler emits itself: struct assignment and
 *     initialisation, by-value arguments, and __builtin_memcpy and the
 *     other __builtin_ names written explicitly;
 *   - the reads sprintf does for its arguments: a "%s" argument is not
 *     checked (only the destination is);
 *   - any identifier spelled like a covered name is renamed, so a
 *     project's own function, member or local called memcpy or stpcpy is
 *     renamed too: consistently inside the translation unit, but a member
 *     of a struct shared with code built without the shim no longer links
 *     by that name, and the project's own definition of, say, stpcpy
 *     collides with the forwarder (-DSEALPOOL_SHIM_NO_EXTENSIONS for the
 *     POSIX and GNU names);
 *   - &memcpy differs between translation units (each has its forwarder);
 *   - C++: a declaration `extern "C" void *memcpy(...)` written in project
 *     code after <cstring> conflicts with the C++ ::memcpy defined here;
 *   - code that relies on memcpy's return value being dst even when a
 *     report-mode copy was refused.
 */
#ifndef SEALPOOL_BOUNDSCHECK_MEMCPY_SHIM_H_
#define SEALPOOL_BOUNDSCHECK_MEMCPY_SHIM_H_

#if !defined(SEALPOOL_CHECKED_MEMCPY) || SEALPOOL_CHECKED_MEMCPY

/* libc's redeclarations of the forwarders are spelled through the macros
 * below; as a system header the shim keeps the project's warning flags
 * (-Wredundant-decls, -pedantic, ...) from counting them against it. */
#pragma GCC system_header

#if defined(_FORTIFY_SOURCE) && defined(__OPTIMIZE__)
#if _FORTIFY_SOURCE > 0
#error "sealpool memcpy_shim.h: _FORTIFY_SOURCE would replace the checked copies with unchecked __builtin___*_chk wrappers; build with -U_FORTIFY_SOURCE where the shim is used"
#endif
#endif

/* The exception specification of glibc's declarations (__THROW). */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define SEALPOOL_SHIM_NOTHROW_ noexcept(true)
#elif defined(__cplusplus)
#define SEALPOOL_SHIM_NOTHROW_ throw()
#else
#define SEALPOOL_SHIM_NOTHROW_
#endif
#define SEALPOOL_SHIM_PRINTF_(f, a) __attribute__((__format__(__printf__, f, a)))

/* What the compiler knows of the destination's size, as _FORTIFY_SOURCE=3
 * asks it: the whole object for the mem* calls (type 0), the enclosing
 * member or array for the string and format calls (type 1); (size_t)-1
 * when it does not know. The forwarders are always inlined, so that the
 * question is asked at the call, where the object is in view. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_dynamic_object_size)
#define SEALPOOL_SHIM_SIZE0_(p) __builtin_dynamic_object_size((p), 0)
#define SEALPOOL_SHIM_SIZE1_(p) __builtin_dynamic_object_size((p), 1)
#endif
#endif
#ifndef SEALPOOL_SHIM_SIZE0_
#define SEALPOOL_SHIM_SIZE0_(p) __builtin_object_size((p), 0)
#define SEALPOOL_SHIM_SIZE1_(p) __builtin_object_size((p), 1)
#endif
#define SEALPOOL_SHIM_INLINE_ \
  static __inline__ __attribute__((__always_inline__))
#define SEALPOOL_SHIM_CXX_INLINE_ inline __attribute__((__always_inline__))

#ifdef __cplusplus
#define SEALPOOL_SHIM_WCHAR_ wchar_t
extern "C" {
#else
#define SEALPOOL_SHIM_WCHAR_ __WCHAR_TYPE__
#endif

/* The checks, under private names bound to the sp_ symbols of
 * sealpool/sealpool.h (ELF assembler names), so that a later
 * #include <sealpool/sealpool.h> is not a redundant redeclaration. */
void *sealpool_shim_sp_memcpy_(void *dst, const void *src, __SIZE_TYPE__ n)
    __asm__("sp_memcpy");
void *sealpool_shim_sp_memmove_(void *dst, const void *src, __SIZE_TYPE__ n)
    __asm__("sp_memmove");
void *sealpool_shim_sp_memset_(void *dst, int c, __SIZE_TYPE__ n)
    __asm__("sp_memset");
void *sealpool_shim_sp_mempcpy_(void *dst, const void *src, __SIZE_TYPE__ n)
    __asm__("sp_mempcpy");
char *sealpool_shim_sp_strcpy_(char *dst, const char *src)
    __asm__("sp_strcpy");
char *sealpool_shim_sp_strncpy_(char *dst, const char *src, __SIZE_TYPE__ n)
    __asm__("sp_strncpy");
char *sealpool_shim_sp_stpcpy_(char *dst, const char *src)
    __asm__("sp_stpcpy");
char *sealpool_shim_sp_stpncpy_(char *dst, const char *src, __SIZE_TYPE__ n)
    __asm__("sp_stpncpy");
char *sealpool_shim_sp_strcat_(char *dst, const char *src)
    __asm__("sp_strcat");
char *sealpool_shim_sp_strncat_(char *dst, const char *src, __SIZE_TYPE__ n)
    __asm__("sp_strncat");
int sealpool_shim_sp_vsprintf_(char *dst, const char *fmt,
                               __builtin_va_list ap) __asm__("sp_vsprintf");
int sealpool_shim_sp_vsnprintf_(char *dst, __SIZE_TYPE__ n, const char *fmt,
                                __builtin_va_list ap) __asm__("sp_vsnprintf");
SEALPOOL_SHIM_WCHAR_ *sealpool_shim_sp_wmemcpy_(
    SEALPOOL_SHIM_WCHAR_ *dst, const SEALPOOL_SHIM_WCHAR_ *src,
    __SIZE_TYPE__ n) __asm__("sp_wmemcpy");
SEALPOOL_SHIM_WCHAR_ *sealpool_shim_sp_wmemmove_(
    SEALPOOL_SHIM_WCHAR_ *dst, const SEALPOOL_SHIM_WCHAR_ *src,
    __SIZE_TYPE__ n) __asm__("sp_wmemmove");
SEALPOOL_SHIM_WCHAR_ *sealpool_shim_sp_wmemset_(SEALPOOL_SHIM_WCHAR_ *dst,
                                                SEALPOOL_SHIM_WCHAR_ c,
                                                __SIZE_TYPE__ n)
    __asm__("sp_wmemset");

/* The checks that take the destination's compiler-known size
 * (sealpool.h, "the same checks with the destination's size"). */
void *sealpool_shim_sp_memcpy_sized_(void *dst, const void *src,
                                     __SIZE_TYPE__ n, __SIZE_TYPE__ size)
    __asm__("sp_memcpy_sized");
void *sealpool_shim_sp_memmove_sized_(void *dst, const void *src,
                                      __SIZE_TYPE__ n, __SIZE_TYPE__ size)
    __asm__("sp_memmove_sized");
void *sealpool_shim_sp_memset_sized_(void *dst, int c, __SIZE_TYPE__ n,
                                     __SIZE_TYPE__ size)
    __asm__("sp_memset_sized");
void *sealpool_shim_sp_mempcpy_sized_(void *dst, const void *src,
                                      __SIZE_TYPE__ n, __SIZE_TYPE__ size)
    __asm__("sp_mempcpy_sized");
char *sealpool_shim_sp_strcpy_sized_(char *dst, const char *src,
                                     __SIZE_TYPE__ size)
    __asm__("sp_strcpy_sized");
char *sealpool_shim_sp_strncpy_sized_(char *dst, const char *src,
                                      __SIZE_TYPE__ n, __SIZE_TYPE__ size)
    __asm__("sp_strncpy_sized");
char *sealpool_shim_sp_stpcpy_sized_(char *dst, const char *src,
                                     __SIZE_TYPE__ size)
    __asm__("sp_stpcpy_sized");
char *sealpool_shim_sp_stpncpy_sized_(char *dst, const char *src,
                                      __SIZE_TYPE__ n, __SIZE_TYPE__ size)
    __asm__("sp_stpncpy_sized");
char *sealpool_shim_sp_strcat_sized_(char *dst, const char *src,
                                     __SIZE_TYPE__ size)
    __asm__("sp_strcat_sized");
char *sealpool_shim_sp_strncat_sized_(char *dst, const char *src,
                                      __SIZE_TYPE__ n, __SIZE_TYPE__ size)
    __asm__("sp_strncat_sized");
int sealpool_shim_sp_vsprintf_sized_(char *dst, __SIZE_TYPE__ size,
                                     const char *fmt, __builtin_va_list ap)
    __asm__("sp_vsprintf_sized");
int sealpool_shim_sp_vsnprintf_sized_(char *dst, __SIZE_TYPE__ n,
                                      __SIZE_TYPE__ size, const char *fmt,
                                      __builtin_va_list ap)
    __asm__("sp_vsnprintf_sized");

/* The forwarders, one per covered name. libc's declarations of the names
 * become redeclarations of these. A "redefinition of 'sealpool_shim_...'"
 * error pointing here means that a fortified libc header
 * (_FORTIFY_SOURCE defined in the source) tried to define its unchecked
 * wrapper under that name: see the top of this file. */
SEALPOOL_SHIM_INLINE_ void *sealpool_shim_memcpy(void *dst, const void *src,
                                             __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_memcpy_sized_(dst, src, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_INLINE_ void *sealpool_shim_memmove(void *dst, const void *src,
                                              __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_memmove_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_INLINE_ void *sealpool_shim_memset(void *dst, int c,
                                                  __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_memset_sized_(dst, c, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_INLINE_ char *sealpool_shim_strcpy(char *dst, const char *src)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strcpy_sized_(dst, src, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_INLINE_ char *sealpool_shim_strncpy(char *dst, const char *src,
                                              __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strncpy_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_INLINE_ char *sealpool_shim_strcat(char *dst, const char *src)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strcat_sized_(dst, src, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_INLINE_ char *sealpool_shim_strncat(char *dst, const char *src,
                                              __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strncat_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_INLINE_ int sealpool_shim_vsprintf(char *dst, const char *fmt,
                                             __builtin_va_list ap)
    SEALPOOL_SHIM_NOTHROW_ SEALPOOL_SHIM_PRINTF_(2, 0);
SEALPOOL_SHIM_INLINE_ int sealpool_shim_vsnprintf(char *dst, __SIZE_TYPE__ n,
                                              const char *fmt,
                                              __builtin_va_list ap)
    SEALPOOL_SHIM_NOTHROW_ SEALPOOL_SHIM_PRINTF_(3, 0);
static __inline__ int sealpool_shim_sprintf(char *dst, const char *fmt, ...)
    SEALPOOL_SHIM_NOTHROW_ SEALPOOL_SHIM_PRINTF_(2, 3);
static __inline__ int sealpool_shim_snprintf(char *dst, __SIZE_TYPE__ n,
                                             const char *fmt, ...)
    SEALPOOL_SHIM_NOTHROW_ SEALPOOL_SHIM_PRINTF_(3, 4);
SEALPOOL_SHIM_INLINE_ int sealpool_shim_vsprintf(char *dst, const char *fmt,
                                             __builtin_va_list ap)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_vsprintf_sized_(dst, SEALPOOL_SHIM_SIZE1_(dst), fmt,
                                          ap);
}
SEALPOOL_SHIM_INLINE_ int sealpool_shim_vsnprintf(char *dst, __SIZE_TYPE__ n,
                                              const char *fmt,
                                              __builtin_va_list ap)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_vsnprintf_sized_(dst, n, SEALPOOL_SHIM_SIZE1_(dst),
                                           fmt, ap);
}
static __inline__ int sealpool_shim_sprintf(char *dst, const char *fmt, ...)
    SEALPOOL_SHIM_NOTHROW_ {
  __builtin_va_list ap;
  int r;
  __builtin_va_start(ap, fmt);
  r = sealpool_shim_sp_vsprintf_(dst, fmt, ap);
  __builtin_va_end(ap);
  return r;
}
static __inline__ int sealpool_shim_snprintf(char *dst, __SIZE_TYPE__ n,
                                             const char *fmt, ...)
    SEALPOOL_SHIM_NOTHROW_ {
  __builtin_va_list ap;
  int r;
  __builtin_va_start(ap, fmt);
  r = sealpool_shim_sp_vsnprintf_(dst, n, fmt, ap);
  __builtin_va_end(ap);
  return r;
}
static __inline__ SEALPOOL_SHIM_WCHAR_ *sealpool_shim_wmemcpy(
    SEALPOOL_SHIM_WCHAR_ *dst, const SEALPOOL_SHIM_WCHAR_ *src,
    __SIZE_TYPE__ n) SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_wmemcpy_(dst, src, n);
}
static __inline__ SEALPOOL_SHIM_WCHAR_ *sealpool_shim_wmemmove(
    SEALPOOL_SHIM_WCHAR_ *dst, const SEALPOOL_SHIM_WCHAR_ *src,
    __SIZE_TYPE__ n) SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_wmemmove_(dst, src, n);
}
static __inline__ SEALPOOL_SHIM_WCHAR_ *sealpool_shim_wmemset(
    SEALPOOL_SHIM_WCHAR_ *dst, SEALPOOL_SHIM_WCHAR_ c, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_wmemset_(dst, c, n);
}
#ifndef SEALPOOL_SHIM_NO_EXTENSIONS
SEALPOOL_SHIM_INLINE_ void *sealpool_shim_mempcpy(void *dst, const void *src,
                                              __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_mempcpy_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_INLINE_ char *sealpool_shim_stpcpy(char *dst, const char *src)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_stpcpy_sized_(dst, src, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_INLINE_ char *sealpool_shim_stpncpy(char *dst, const char *src,
                                              __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_stpncpy_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE1_(dst));
}
#endif /* SEALPOOL_SHIM_NO_EXTENSIONS */

#ifdef __cplusplus
}  /* extern "C" */

/* C++: the ISO names that <cstring>, <cstdio> and <cwchar> #undef and
 * bring into std with using-declarations. Defined only while libc has not
 * declared them yet (glibc's include guards), i.e. when the shim comes
 * first. */
#ifndef _STRING_H
SEALPOOL_SHIM_CXX_INLINE_
void *memcpy(void *dst, const void *src, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_memcpy_sized_(dst, src, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_CXX_INLINE_
void *memmove(void *dst, const void *src, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_memmove_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_CXX_INLINE_
void *memset(void *dst, int c, __SIZE_TYPE__ n) SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_memset_sized_(dst, c, n, SEALPOOL_SHIM_SIZE0_(dst));
}
SEALPOOL_SHIM_CXX_INLINE_
char *strcpy(char *dst, const char *src) SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strcpy_sized_(dst, src, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_CXX_INLINE_
char *strncpy(char *dst, const char *src, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strncpy_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_CXX_INLINE_
char *strcat(char *dst, const char *src) SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strcat_sized_(dst, src, SEALPOOL_SHIM_SIZE1_(dst));
}
SEALPOOL_SHIM_CXX_INLINE_
char *strncat(char *dst, const char *src, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_strncat_sized_(
      dst, src, n, SEALPOOL_SHIM_SIZE1_(dst));
}
#endif /* _STRING_H */
#ifndef _STDIO_H
SEALPOOL_SHIM_CXX_INLINE_
int vsprintf(char *dst, const char *fmt, __builtin_va_list ap)
    SEALPOOL_SHIM_NOTHROW_ SEALPOOL_SHIM_PRINTF_(2, 0);
SEALPOOL_SHIM_CXX_INLINE_
int vsprintf(char *dst, const char *fmt, __builtin_va_list ap)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_vsprintf_sized_(dst, SEALPOOL_SHIM_SIZE1_(dst), fmt,
                                          ap);
}
SEALPOOL_SHIM_CXX_INLINE_
int vsnprintf(char *dst, __SIZE_TYPE__ n, const char *fmt,
                     __builtin_va_list ap) SEALPOOL_SHIM_NOTHROW_
    SEALPOOL_SHIM_PRINTF_(3, 0);
SEALPOOL_SHIM_CXX_INLINE_
int vsnprintf(char *dst, __SIZE_TYPE__ n, const char *fmt,
                     __builtin_va_list ap) SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_vsnprintf_sized_(dst, n, SEALPOOL_SHIM_SIZE1_(dst),
                                           fmt, ap);
}
inline int sprintf(char *dst, const char *fmt, ...) SEALPOOL_SHIM_NOTHROW_
    SEALPOOL_SHIM_PRINTF_(2, 3);
inline int sprintf(char *dst, const char *fmt, ...) SEALPOOL_SHIM_NOTHROW_ {
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  const int r = sealpool_shim_sp_vsprintf_(dst, fmt, ap);
  __builtin_va_end(ap);
  return r;
}
inline int snprintf(char *dst, __SIZE_TYPE__ n, const char *fmt, ...)
    SEALPOOL_SHIM_NOTHROW_ SEALPOOL_SHIM_PRINTF_(3, 4);
inline int snprintf(char *dst, __SIZE_TYPE__ n, const char *fmt, ...)
    SEALPOOL_SHIM_NOTHROW_ {
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  const int r = sealpool_shim_sp_vsnprintf_(dst, n, fmt, ap);
  __builtin_va_end(ap);
  return r;
}
#endif /* _STDIO_H */
#ifndef _WCHAR_H
inline wchar_t *wmemcpy(wchar_t *dst, const wchar_t *src, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_wmemcpy_(dst, src, n);
}
inline wchar_t *wmemmove(wchar_t *dst, const wchar_t *src, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_wmemmove_(dst, src, n);
}
inline wchar_t *wmemset(wchar_t *dst, wchar_t c, __SIZE_TYPE__ n)
    SEALPOOL_SHIM_NOTHROW_ {
  return sealpool_shim_sp_wmemset_(dst, c, n);
}
#endif /* _WCHAR_H */
#endif /* __cplusplus */

#undef SEALPOOL_SHIM_NOTHROW_
#undef SEALPOOL_SHIM_PRINTF_
#undef SEALPOOL_SHIM_WCHAR_
#undef SEALPOOL_SHIM_INLINE_
#undef SEALPOOL_SHIM_CXX_INLINE_
#undef SEALPOOL_SHIM_SIZE0_
#undef SEALPOOL_SHIM_SIZE1_

/* From here on every covered name means its forwarder. */
#undef memcpy
#undef memmove
#undef memset
#undef strcpy
#undef strncpy
#undef strcat
#undef strncat
#undef sprintf
#undef snprintf
#undef vsprintf
#undef vsnprintf
#undef wmemcpy
#undef wmemmove
#undef wmemset
#define memcpy sealpool_shim_memcpy
#define memmove sealpool_shim_memmove
#define memset sealpool_shim_memset
#define strcpy sealpool_shim_strcpy
#define strncpy sealpool_shim_strncpy
#define strcat sealpool_shim_strcat
#define strncat sealpool_shim_strncat
#define sprintf sealpool_shim_sprintf
#define snprintf sealpool_shim_snprintf
#define vsprintf sealpool_shim_vsprintf
#define vsnprintf sealpool_shim_vsnprintf
#define wmemcpy sealpool_shim_wmemcpy
#define wmemmove sealpool_shim_wmemmove
#define wmemset sealpool_shim_wmemset
#ifndef SEALPOOL_SHIM_NO_EXTENSIONS
#undef mempcpy
#undef stpcpy
#undef stpncpy
#define mempcpy sealpool_shim_mempcpy
#define stpcpy sealpool_shim_stpcpy
#define stpncpy sealpool_shim_stpncpy
#endif /* SEALPOOL_SHIM_NO_EXTENSIONS */

#endif /* SEALPOOL_CHECKED_MEMCPY */

#endif /* SEALPOOL_BOUNDSCHECK_MEMCPY_SHIM_H_ */
