/* sealpool tests — functions whose stack frames the stack-frame rule
 * judges, built three times with different code generation (see
 * tests/CMakeLists.txt): with frame pointers (prefix fp_), without them
 * (nofp_), and without frame pointers or unwind tables (nounwind_). Each
 * victim has a 50-byte local buffer and copies into it (or out of it) with
 * a checked call made 1, 2 or 3 frames below its own. */

#include <stddef.h>

#include "sealpool/sealpool.h"
#include "tests/stack_frames/frames.h"

#define SF_JOIN2(a, b) a##b
#define SF_JOIN(a, b) SF_JOIN2(a, b)
#define SF(name) SF_JOIN(SF_PREFIX, name)

/* Keeps a call from becoming a tail call (which would drop the frame). */
#define SF_KEEP_FRAME() __asm__ volatile("" ::: "memory")

/* What the innermost frame does with the buffer. */
static int SF(act)(int op, char *buf, const char *heap, size_t n) {
  switch (op) {
    case SF_COPY_IN:
      return sp_memcpy(buf, heap, n) != NULL ? 0 : -1;
    case SF_COPY_OUT:
      return sp_memcpy((char *)heap, buf, n) != NULL ? 0 : -1;
    default:
      return sp_check_copy(buf, n, SP_COPY_WRITE);
  }
}

__attribute__((noinline)) int SF(level2)(int op, char *buf, const char *heap,
                                         size_t n) {
  const int r = SF(act)(op, buf, heap, n);
  SF_KEEP_FRAME();
  return r;
}

__attribute__((noinline)) int SF(level1)(int depth, int op, char *buf,
                                         const char *heap, size_t n) {
  const int r = depth > 2 ? SF(level2)(op, buf, heap, n)
                          : SF(act)(op, buf, heap, n);
  SF_KEEP_FRAME();
  return r;
}

__attribute__((noinline)) int SF(victim)(int depth, int op, const char *heap,
                                         size_t n, struct sf_result *out) {
  char buf[SF_BUFFER];
  for (size_t i = 0; i < sizeof(buf); ++i) buf[i] = (char)('a' + i % 26);
  if (out != NULL) {
    out->buf = (uintptr_t)buf;
    out->cfa = sf_caller_cfa();
  }
  int r;
  __asm__ volatile("" : : "r"(buf) : "memory");
  if (depth <= 1) {
    r = SF(act)(op, buf, heap, n);
  } else {
    r = SF(level1)(depth, op, buf, heap, n);
  }
  SF_KEEP_FRAME();
  if (out != NULL) {
    out->sum = 0;
    for (size_t i = 0; i < sizeof(buf); ++i) out->sum += (unsigned char)buf[i];
  }
  return r;
}
