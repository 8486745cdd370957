/* sealpool_bench — the copies BM_CheckedCopy* (frame_bench.cc) time, in a
 * C translation unit built twice: with frame pointers (prefix fp_) and
 * without (nofp_). Each is one call below the frame whose buffer it
 * copies into, as a host's helper would be. */

#include <stddef.h>

#include "sealpool/sealpool.h"

#define FC_JOIN2(a, b) a##b
#define FC_JOIN(a, b) FC_JOIN2(a, b)
#define FC(name) FC_JOIN(FC_PREFIX, name)

int FC(copy_into_local)(const char *src, size_t n);
int FC(copy_into_object)(char *dst, const char *src, size_t n);

/* sp_memcpy into a 64-byte local buffer of this frame. */
__attribute__((noinline)) int FC(copy_into_local)(const char *src, size_t n) {
  char buf[64];
  void *r = sp_memcpy(buf, src, n);
  __asm__ volatile("" : : "r"(buf) : "memory");
  return r != NULL ? buf[0] : -1;
}

/* The same copy into a pool object: the baseline. */
__attribute__((noinline)) int FC(copy_into_object)(char *dst, const char *src,
                                                   size_t n) {
  void *r = sp_memcpy(dst, src, n);
  __asm__ volatile("" : : "r"(dst) : "memory");
  return r != NULL ? dst[0] : -1;
}
