/* The checks the C shim programs share: in-bounds copies into a pool
 * object succeed with libc's result, and the out-of-bounds strcpy, sprintf
 * and memcpy beside them are caught (report mode), leaving the object as it
 * was. C89, and included after the program's own headers, so that every
 * call below goes through whatever the force-included shim made of it.
 *
 * Requires <stdio.h>, <string.h> and <sealpool/sealpool.h>. */
#ifndef SEALPOOL_TESTS_SHIM_SHIM_CHECKS_H_
#define SEALPOOL_TESTS_SHIM_SHIM_CHECKS_H_

static int g_shim_violations = 0;
static int g_shim_last_kind = 0;
static int g_shim_failures = 0;

static void ShimOnViolation(const sp_violation *v, void *arg) {
  (void)arg;
  ++g_shim_violations;
  g_shim_last_kind = v->kind;
}

#define SHIM_EXPECT(cond)                                                  \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
      ++g_shim_failures;                                                   \
    }                                                                      \
  } while (0)

/* One refused copy was reported since the last call, out of bounds. */
#define SHIM_EXPECT_CAUGHT()                                    \
  do {                                                          \
    SHIM_EXPECT(g_shim_violations == 1);                        \
    SHIM_EXPECT(g_shim_last_kind == SP_VIOLATION_OUT_OF_BOUNDS); \
    g_shim_violations = 0;                                      \
    g_shim_last_kind = 0;                                       \
  } while (0)

static int ShimAllAre(const char *p, size_t n, char c) {
  size_t i;
  for (i = 0; i < n; ++i) {
    if (p[i] != c) return 0;
  }
  return 1;
}

/* Runs the shared checks on a fresh 16-byte pool object; returns the
 * number of failed expectations. */
static int RunShimChecks(const char *pool_name) {
  static const char kLong[] = "0123456789abcdef"; /* 16 chars + NUL */
  char out[32];
  char *(*copy_fn)(char *, const char *) = strcpy;
  sp_pool *pool;
  char *obj;

  sp_set_mode(SP_MODE_REPORT);
  sp_set_violation_handler(&ShimOnViolation, NULL);
  pool = sp_pool_create(pool_name, NULL);
  SHIM_EXPECT(pool != NULL);
  if (pool == NULL) return g_shim_failures;
  obj = (char *)sp_alloc(pool, 16);
  SHIM_EXPECT(obj != NULL);
  if (obj == NULL) return g_shim_failures;

  /* strcpy: 16 bytes fit, 17 do not. */
  SHIM_EXPECT(strcpy(obj, "0123456789abcde") == obj);
  SHIM_EXPECT(strcmp(obj, "0123456789abcde") == 0);
  SHIM_EXPECT(g_shim_violations == 0);
  SHIM_EXPECT(strcpy(obj, kLong) == NULL);
  SHIM_EXPECT_CAUGHT();
  SHIM_EXPECT(strcmp(obj, "0123456789abcde") == 0);
  /* The same through a function pointer. */
  SHIM_EXPECT(copy_fn(obj, kLong) == NULL);
  SHIM_EXPECT_CAUGHT();

  /* sprintf: bounded by the object's end. */
  SHIM_EXPECT(sprintf(obj, "%d-%s", 42, "ok") == 5);
  SHIM_EXPECT(strcmp(obj, "42-ok") == 0);
  SHIM_EXPECT(g_shim_violations == 0);
  SHIM_EXPECT(sprintf(obj, "%s-%d", kLong, 7) < 0);
  SHIM_EXPECT_CAUGHT();
  SHIM_EXPECT(strcmp(obj, "42-ok") == 0);
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
  /* snprintf (C99) truncating inside the object is libc's. */
  SHIM_EXPECT(snprintf(obj, 16, "%s%s", kLong, kLong) == 32);
  SHIM_EXPECT(strcmp(obj, "0123456789abcde") == 0);
  SHIM_EXPECT(g_shim_violations == 0);
  SHIM_EXPECT(snprintf(obj, 32, "%s", kLong) < 0);
  SHIM_EXPECT_CAUGHT();
#endif

  /* memcpy: over-write refused, over-read refused with zeros. */
  memset(out, 'o', sizeof(out));
  SHIM_EXPECT(memcpy(obj, out, 16) == obj);
  SHIM_EXPECT(ShimAllAre(obj, 16, 'o'));
  SHIM_EXPECT(memcpy(obj, kLong, 17) == NULL);
  SHIM_EXPECT_CAUGHT();
  SHIM_EXPECT(ShimAllAre(obj, 16, 'o'));
  memset(out, 'x', sizeof(out));
  SHIM_EXPECT(memcpy(out, obj, 17) == NULL);
  SHIM_EXPECT_CAUGHT();
  SHIM_EXPECT(ShimAllAre(out, 17, '\0'));
  SHIM_EXPECT(ShimAllAre(out + 17, sizeof(out) - 17, 'x'));

  SHIM_EXPECT(sp_free(obj) == 0);
  SHIM_EXPECT(sp_pool_destroy(pool) == 0);
  sp_set_violation_handler(NULL, NULL);
  return g_shim_failures;
}

/* One copy refused for the destination's compiler-known size. */
#define SHIM_EXPECT_SIZE_CAUGHT()                                \
  do {                                                           \
    SHIM_EXPECT(g_shim_violations == 1);                         \
    SHIM_EXPECT(g_shim_last_kind == SP_VIOLATION_OBJECT_SIZE);   \
    g_shim_violations = 0;                                       \
    g_shim_last_kind = 0;                                        \
  } while (0)

struct ShimRecord {
  char name[8];
  int id;
};
static char g_shim_global[8];

/* The room the string calls see in ShimRecord.name. GCC measures the
 * member (__builtin_dynamic_object_size type 1); clang, through the
 * inlined forwarder, the rest of the whole object (LLVM's object-size
 * lowering has no sub-object mode). */
#if defined(__clang__)
#define SHIM_MEMBER_ROOM sizeof(struct ShimRecord)
#else
#define SHIM_MEMBER_ROOM sizeof(((struct ShimRecord *)0)->name)
#endif

/* Memory sealpool does not own, measured by the compiler: a stack buffer,
 * a global and a struct member take exactly their size, and a byte more is
 * refused (object-size) with nothing written. The lengths are volatile, so
 * that the compiler cannot see the overflow at build time. */
static int RunShimSizeChecks(void) {
  static const char kLong[] = "0123456789abcdef";
  char local[8];
  struct ShimRecord rec;
  volatile size_t eight = 8;
  volatile size_t nine = 9;

  sp_set_mode(SP_MODE_REPORT);
  sp_set_violation_handler(&ShimOnViolation, NULL);
  g_shim_violations = 0;

  SHIM_EXPECT(memset(local, 'l', eight) == local);
  SHIM_EXPECT(memcpy(local, kLong, eight) == local);
  SHIM_EXPECT(g_shim_violations == 0);
  SHIM_EXPECT(memcpy(local, kLong + 1, nine) == NULL);
  SHIM_EXPECT_SIZE_CAUGHT();
  SHIM_EXPECT(memcmp(local, kLong, 8) == 0);

  SHIM_EXPECT(memset(g_shim_global, 'g', eight) == g_shim_global);
  SHIM_EXPECT(memmove(g_shim_global, kLong, nine) == NULL);
  SHIM_EXPECT_SIZE_CAUGHT();
  SHIM_EXPECT(ShimAllAre(g_shim_global, 8, 'g'));

  /* A member: the enclosing array's room (see SHIM_MEMBER_ROOM). */
  rec.id = 42;
  SHIM_EXPECT(strcpy(rec.name, "1234567") == rec.name);
  SHIM_EXPECT(g_shim_violations == 0);
  /* SHIM_MEMBER_ROOM characters and the NUL: one byte too many. */
  SHIM_EXPECT(strcpy(rec.name, kLong + 16 - SHIM_MEMBER_ROOM) == NULL);
  SHIM_EXPECT_SIZE_CAUGHT();
  SHIM_EXPECT(strcat(rec.name, kLong + 16 - (SHIM_MEMBER_ROOM - 7)) == NULL);
  SHIM_EXPECT_SIZE_CAUGHT();
  SHIM_EXPECT(strcmp(rec.name, "1234567") == 0);
  SHIM_EXPECT(rec.id == 42);

  sp_set_violation_handler(NULL, NULL);
  return g_shim_failures;
}

#endif /* SEALPOOL_TESTS_SHIM_SHIM_CHECKS_H_ */
