/* sealpool — C API.
 *
 * A thin C layer over the C++ API (allocator/pool.h, allocator/violation.h
 * and, for copy checks, boundscheck/check_copy.h). Errors follow C
 * conventions: functions returning pointers return NULL and set errno
 * (EINVAL, EEXIST, ENOMEM, EPERM); functions returning int return 0 or a
 * negative errno, except sp_free() and sp_check_copy(), which return a
 * violation code (SP_VIOLATION_*) in report mode, and the checked printf
 * family, which returns libc's count (or minus a violation code).
 */
#ifndef SEALPOOL_SEALPOOL_H_
#define SEALPOOL_SEALPOOL_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sp_pool sp_pool;

/* Pool flags (sp_pool_options.flags). */
#define SP_POOL_PERMANENT 0x1u  /* seal also mseal()s; never destroyed */
#define SP_POOL_WRITE_RARE 0x2u /* sealed objects changeable via sp_write_rare */
#define SP_POOL_REDZONES 0x4u   /* redzone after every small object */
/* Write-rare through a protection key where the CPU has one (implies
 * SP_POOL_WRITE_RARE; falls back to the memfd alias elsewhere). */
#define SP_POOL_WRITE_RARE_KEY 0x8u

typedef struct sp_pool_options {
  size_t align;           /* power of two, 8..4096 (default 16) */
  size_t usercopy_offset; /* usercopy window start */
  size_t usercopy_size;   /* window size; 0 = whole object */
  size_t max_bytes;       /* object-memory cap; 0 = none */
  uint32_t flags;         /* SP_POOL_* */
} sp_pool_options;

typedef enum sp_copy_dir {
  SP_COPY_READ = 1,
  SP_COPY_WRITE = 2,
  /* Any int is a valid value (others give -EINVAL): these two give the enum
   * the range of int in C++ and the type int in C. */
  SP_COPY_DIR_INT_MIN_ = -0x7fffffff - 1,
  SP_COPY_DIR_INT_MAX_ = 0x7fffffff
} sp_copy_dir;

typedef enum sp_mode {
  SP_MODE_ABORT = 0,
  SP_MODE_REPORT = 1,
  /* Any int is a valid value (others mean abort), as for sp_copy_dir. */
  SP_MODE_INT_MIN_ = -0x7fffffff - 1,
  SP_MODE_INT_MAX_ = 0x7fffffff
} sp_mode;

/* Violation codes (sp_violation.kind; return values in report mode). */
typedef enum sp_violation_kind {
  SP_VIOLATION_NONE = 0,
  SP_VIOLATION_DOUBLE_FREE = 1,
  SP_VIOLATION_INVALID_FREE = 2,
  SP_VIOLATION_SEALED_FREE = 3,
  SP_VIOLATION_METADATA_CORRUPTION = 4,
  SP_VIOLATION_OUT_OF_BOUNDS = 5,
  SP_VIOLATION_USE_AFTER_FREE = 6,
  SP_VIOLATION_GUARD_PAGE = 7,
  SP_VIOLATION_METADATA_PAGE = 8,
  SP_VIOLATION_UNUSED_PAGE = 9,
  SP_VIOLATION_SEALED_WRITE = 10,
  SP_VIOLATION_USERCOPY_WINDOW = 11,
  SP_VIOLATION_BOGUS_POINTER = 12,
  SP_VIOLATION_STACK = 13,
  SP_VIOLATION_IMAGE_SEGMENT = 14,
  SP_VIOLATION_HEAP_OVERFLOW = 15,    /* a canary was overwritten (at free) */
  SP_VIOLATION_WRITE_AFTER_FREE = 16, /* a freed slot was written (at reuse) */
  SP_VIOLATION_STACK_FRAME = 17,      /* a copy reaches a stack frame's saved
                                         return address or leaves the frame */
  SP_VIOLATION_OBJECT_SIZE = 18       /* a copy runs past the object size the
                                         compiler knew (the _sized calls) */
} sp_violation_kind;

typedef struct sp_violation {
  int kind;                /* sp_violation_kind */
  const char *pool_name;   /* NULL outside pools */
  uint32_t pool_id;
  uintptr_t addr;
  size_t len;
  int dir;                 /* 0 (not a copy), SP_COPY_READ, SP_COPY_WRITE */
  uintptr_t object_start;
  size_t object_size;
  size_t offset;
  const char *detail;
} sp_violation;

typedef void (*sp_violation_handler)(const sp_violation *v, void *arg);

/* Pools. sp_pool_create with opts == NULL uses the defaults of
 * sp_pool_options_init(). */
void sp_pool_options_init(sp_pool_options *opts);
sp_pool *sp_pool_create(const char *name, const sp_pool_options *opts);
int sp_pool_destroy(sp_pool *pool);       /* -EPERM for permanent pools */
/* Makes every object allocated so far read-only (0 or -errno). */
int sp_pool_seal(sp_pool *pool);
/* Changes sealed bytes of an SP_POOL_WRITE_RARE pool without making the
 * shared view writable: 0, -EINVAL (no flag, not sealed), -EPERM (range not
 * inside one live object: a violation), -ENOMEM. */
int sp_write_rare(void *dst, const void *src, size_t n);
sp_pool *sp_pool_ref(sp_pool *pool);
void sp_pool_unref(sp_pool *pool);
const char *sp_pool_name(const sp_pool *pool);

/* Objects. sp_alloc(pool, 0) returns a unique zero-size object, which any
 * access of a byte or more faults on or is refused. sp_free(NULL) is a
 * no-op that returns 0. */
void *sp_alloc(sp_pool *pool, size_t size);
int sp_free(void *ptr);
size_t sp_object_size(const void *ptr);

/* What allocator hooks need (lua_Alloc, cJSON_InitHooks, zlib's zalloc,
 * std::pmr): the C allocation family, per pool.
 *
 * sp_calloc: n * size zeroed bytes; NULL + ENOMEM when the product
 * overflows.
 * sp_realloc: with ptr == NULL, sp_alloc(pool, size). Otherwise the block
 * stays in the pool that owns ptr (pool may then be NULL; a non-NULL pool
 * that does not own ptr is an invalid-free violation: NULL + EINVAL, the
 * block untouched); its first min(old, size) bytes are kept and the new
 * object's bounds are exactly size. A shrink never fails: when no new block
 * can be had (byte cap, destroyed pool, full arena) the object shrinks in
 * place. On failure the old block is untouched and NULL + ENOMEM is
 * returned (EINVAL for a destroyed pool, as sp_alloc). size == 0 frees ptr
 * and returns a zero-size object of the same pool. A ptr that is not the
 * start of a live object is reported like the same sp_free() (NULL +
 * EINVAL in report mode); a sealed object is a sealed-free violation (NULL
 * + EPERM, the object stays).
 * sp_alloc_aligned: align a power of two up to 2^30, else NULL + EINVAL
 * (zero-size objects: up to 4096).
 * sp_strdup / sp_strndup: a copy of s (at most n bytes of it), always
 * NUL-terminated; s == NULL gives NULL + EINVAL. s is read as a checked
 * copy's source: never past the end of its pool object, so a pool string
 * without a NUL before its object's end (or a freed one) is a violation
 * (NULL + EFAULT in report mode).
 * sp_pool_of: the pool of the live object that contains ptr (or is the
 * zero-size object at ptr), without a new reference; NULL for memory
 * sealpool does not own, freed memory and NULL.
 * sp_owns: 1 when ptr is inside a live pool object (zero-size ones too),
 * else 0 - the question a free() hook asks to route a pointer.
 * sp_pool_find: the live pool called name with a new reference (drop it
 * with sp_pool_unref), or NULL + ENOENT (EINVAL for a bad name). */
void *sp_calloc(sp_pool *pool, size_t n, size_t size);
void *sp_realloc(sp_pool *pool, void *ptr, size_t size);
void *sp_alloc_aligned(sp_pool *pool, size_t align, size_t size);
char *sp_strdup(sp_pool *pool, const char *s);
char *sp_strndup(sp_pool *pool, const char *s, size_t n);
sp_pool *sp_pool_of(const void *ptr);
int sp_owns(const void *ptr);
sp_pool *sp_pool_find(const char *name);

/* Copy checks (boundscheck/check_copy.h). sp_check_copy returns 0 when the
 * copy is allowed, else (report mode) minus the violation code, or -EINVAL
 * for a bad direction. The checked copies check the source for reading and
 * the destination for writing, and return what libc's function returns.
 * On a violation in report mode they return NULL and:
 *   - when the source range is refused and the destination range is valid,
 *     the destination range gets zeros instead of the bytes it would have
 *     received (a caller ignoring the refusal hands on no stale memory);
 *   - when the destination range is refused, nothing is written.
 * Only the first refused range is reported. sp_memset has no source. */
int sp_check_copy(const void *ptr, size_t len, sp_copy_dir dir);
void *sp_memcpy(void *dst, const void *src, size_t n);
void *sp_memmove(void *dst, const void *src, size_t n);
void *sp_memset(void *dst, int c, size_t n);
/* Checked string, wide and format copies (boundscheck/checked_string.h):
 * the same rules, for the range each libc function reads and writes.
 * Strings are read up to their NUL (or n bytes, for the n variants), and
 * inside a pool object never past its end: no NUL before the end is an
 * out-of-bounds read. strncpy/stpncpy write n bytes, strcat/strncat the
 * range from dst to the result's NUL, wmem* n * sizeof(wchar_t) bytes.
 * Zeroed on a refused source: strcpy/stpcpy as many bytes as the refused
 * source range, strncpy/stpncpy n bytes, strcat/strncat that many bytes
 * from dst's NUL on. The printf family checks its format (a refused one
 * leaves "" in dst when dst can take a byte) and the bytes it writes:
 * length + 1 for sprintf (measured first), min(n, length + 1) for snprintf
 * (none when n == 0, where dst may be NULL); the arguments are not
 * checked. Refused, it returns minus the violation code (< 0) and writes
 * nothing more. `ap` is a va_list. */
void *sp_mempcpy(void *dst, const void *src, size_t n);
char *sp_strcpy(char *dst, const char *src);
char *sp_strncpy(char *dst, const char *src, size_t n);
char *sp_stpcpy(char *dst, const char *src);
char *sp_stpncpy(char *dst, const char *src, size_t n);
char *sp_strcat(char *dst, const char *src);
char *sp_strncat(char *dst, const char *src, size_t n);
#if defined(__GNUC__)
#define SP_PRINTF_FORMAT_(f, a) __attribute__((__format__(__printf__, f, a)))
#else
#define SP_PRINTF_FORMAT_(f, a)
#endif
int sp_sprintf(char *dst, const char *fmt, ...) SP_PRINTF_FORMAT_(2, 3);
int sp_snprintf(char *dst, size_t n, const char *fmt, ...)
    SP_PRINTF_FORMAT_(3, 4);
int sp_vsprintf(char *dst, const char *fmt, __builtin_va_list ap)
    SP_PRINTF_FORMAT_(2, 0);
int sp_vsnprintf(char *dst, size_t n, const char *fmt, __builtin_va_list ap)
    SP_PRINTF_FORMAT_(3, 0);
wchar_t *sp_wmemcpy(wchar_t *dst, const wchar_t *src, size_t n);
wchar_t *sp_wmemmove(wchar_t *dst, const wchar_t *src, size_t n);
wchar_t *sp_wmemset(wchar_t *dst, wchar_t c, size_t n);

/* The same checks with the destination's size as the compiler knows it, as
 * _FORTIFY_SOURCE=3 passes it: __builtin_dynamic_object_size(dst, 0) for
 * the mem* calls, (dst, 1) — the enclosing member or array — for the
 * string and format calls; SP_SIZE_UNKNOWN ((size_t)-1) when it knows
 * nothing, which makes each call exactly its plain twin. A copy longer than
 * that size is refused as SP_VIOLATION_OBJECT_SIZE wherever dst is: a stack
 * buffer, a global, a member of a pool object — memory the other rules
 * cannot measure. Such a destination is never written or zeroed; the
 * source is judged first, as by the plain call. sp_vsnprintf_sized also
 * refuses n > dst_size whatever the output's length (as glibc does).
 * boundscheck/memcpy_shim.h passes the sizes by itself. */
#define SP_SIZE_UNKNOWN ((size_t)-1)
int sp_check_copy_sized(const void *ptr, size_t len, sp_copy_dir dir,
                        size_t size);
void *sp_memcpy_sized(void *dst, const void *src, size_t n, size_t dst_size);
void *sp_memmove_sized(void *dst, const void *src, size_t n, size_t dst_size);
void *sp_memset_sized(void *dst, int c, size_t n, size_t dst_size);
void *sp_mempcpy_sized(void *dst, const void *src, size_t n, size_t dst_size);
char *sp_strcpy_sized(char *dst, const char *src, size_t dst_size);
char *sp_stpcpy_sized(char *dst, const char *src, size_t dst_size);
char *sp_strncpy_sized(char *dst, const char *src, size_t n, size_t dst_size);
char *sp_stpncpy_sized(char *dst, const char *src, size_t n, size_t dst_size);
char *sp_strcat_sized(char *dst, const char *src, size_t dst_size);
char *sp_strncat_sized(char *dst, const char *src, size_t n, size_t dst_size);
int sp_vsprintf_sized(char *dst, size_t dst_size, const char *fmt,
                      __builtin_va_list ap) SP_PRINTF_FORMAT_(3, 0);
int sp_vsnprintf_sized(char *dst, size_t n, size_t dst_size, const char *fmt,
                       __builtin_va_list ap) SP_PRINTF_FORMAT_(4, 0);
#undef SP_PRINTF_FORMAT_
/* Re-reads the loaded images after dlopen/dlclose (also noticed by itself
 * within 1024 checks). */
void sp_refresh_images(void);

/* Modes and handlers. */
void sp_set_mode(sp_mode mode);
void sp_set_violation_handler(sp_violation_handler fn, void *arg);
uint64_t sp_violation_count(void);

/* Inspection. sp_dump_stats prints the per-pool statistics table (also at
 * exit with SEALPOOL_OPTIONS=print_stats=1); sp_dump_map writes an SVG
 * picture of the arena to `path` (0 or -errno). */
void sp_dump_stats(FILE *out);
int sp_dump_map(const char *path);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* SEALPOOL_SEALPOOL_H_ */
