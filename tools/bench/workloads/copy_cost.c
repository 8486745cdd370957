/* sealpool — what one memcpy costs, by where its ends are: heap to heap
 * (64 bytes, 4 KiB) and stack to stack (64 bytes, 4 KiB: memory sealpool
 * does not own). Prints "case ns-per-copy" lines; copy_bench.sh runs it
 * under glibc and with libsealpool_malloc.so preloaded, alternately.
 *
 * Built with -fno-builtin and the length in a volatile: every copy is a
 * call of libc's (or the preloaded) memcpy, as a program's copies of
 * run-time lengths are. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile size_t small_len = 64, page_len = 4096;

static double Time(char* dst, const char* src, size_t len, long iters) {
  const double t0 = Now();
  for (long i = 0; i < iters; ++i) {
    memcpy(dst, src, len);
    __asm__ volatile("" : : "r"(dst) : "memory");
  }
  return (Now() - t0) / (double)iters * 1e9;
}

int main(int argc, char** argv) {
  const long iters = argc > 1 ? atol(argv[1]) : 20000000;
  char* heap_src = malloc(4096);
  char* heap_dst = malloc(4096);
  char stack_src[4096], stack_dst[4096];
  if (heap_src == NULL || heap_dst == NULL) return 1;
  memset(heap_src, 1, 4096);
  memset(stack_src, 1, 4096);
  printf("heap-64 %.3f\n", Time(heap_dst, heap_src, small_len, iters));
  printf("heap-4096 %.3f\n", Time(heap_dst, heap_src, page_len, iters / 16));
  printf("stack-64 %.3f\n", Time(stack_dst, stack_src, small_len, iters));
  printf("stack-4096 %.3f\n", Time(stack_dst, stack_src, page_len, iters / 16));
  free(heap_src);
  free(heap_dst);
  return 0;
}
