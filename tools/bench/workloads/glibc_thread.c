/* sealpool — malloc workload "glibc-thread": per-thread random working sets.
 *
 *   glibc_thread [--quick] [--seed N] [--threads N] [--iterations N]
 *
 * Models glibc's benchtests/bench-malloc-thread: each of --threads threads
 * (default 2) keeps a working set of 1,024 objects and, --iterations times
 * (default 12,000,000 per thread), picks a slot at random, frees its object
 * and allocates one of a random size, 4 bytes to 32 KiB, drawn from an
 * inverse-square distribution (most requests are a few dozen bytes, a few
 * are KiB). Unlike glibc's benchmark (fixed time, no memory touched) the
 * work is fixed and each object's first 4 bytes are written when it is
 * allocated and read when it is freed, for the checksum. The threads share
 * nothing; this measures the per-thread fast paths and how they scale.
 *
 * The checksum (per thread, combined in thread order) depends only on the
 * seed and the parameters. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define WORKING_SET 1024
#define MIN_SIZE 4
#define MAX_SIZE 32768
#define SIZE_TABLE 65536 /* precomputed sizes, as the size draw is not the point */
#define MAX_THREADS 64

typedef struct {
  uint64_t rng;
  long iterations;
  uint64_t sum;
  uint32_t *sizes;
} worker;

/* Inverse-square density on [MIN_SIZE, MAX_SIZE] by inverting its CDF:
 * F(s) = (1/min - 1/s) / (1/min - 1/max). */
static uint32_t draw_size(uint64_t *s) {
  const double u = (double)(wl_rnd(s) >> 11) / 9007199254740992.0; /* [0, 1) */
  const double lo = 1.0 / MIN_SIZE, hi = 1.0 / MAX_SIZE;
  const double v = 1.0 / (lo - u * (lo - hi));
  uint32_t size = (uint32_t)v;
  if (size < MIN_SIZE) size = MIN_SIZE;
  if (size > MAX_SIZE) size = MAX_SIZE;
  return size;
}

static void *run(void *arg) {
  worker *w = arg;
  uint32_t *ws_size = calloc(WORKING_SET, sizeof *ws_size);
  void **ws = calloc(WORKING_SET, sizeof *ws);
  if (ws == NULL || ws_size == NULL) abort();
  uint64_t sum = 0;
  for (long n = 0; n < w->iterations; ++n) {
    const uint64_t r = wl_rnd(&w->rng);
    const size_t k = (size_t)(r % WORKING_SET);
    if (ws[k] != NULL) {
      uint32_t tag;
      memcpy(&tag, ws[k], sizeof tag);
      if ((tag & 0xffff) != (ws_size[k] & 0xffff))
        wl_die("glibc_thread: object contents corrupted\n");
      sum = sum * 31 + tag;
      free(ws[k]);
    }
    const uint32_t size = w->sizes[(r >> 32) % SIZE_TABLE];
    void *p = malloc(size);
    if (p == NULL) abort();
    const uint32_t tag = (uint32_t)(r >> 16 & 0xffff0000u) | (size & 0xffff);
    memcpy(p, &tag, sizeof tag);
    ws[k] = p;
    ws_size[k] = size;
  }
  for (size_t k = 0; k < WORKING_SET; ++k) free(ws[k]);
  free(ws);
  free(ws_size);
  w->sum = sum;
  return NULL;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  unsigned threads = 2;
  long iterations = 12000000;
  const wl_option opts[] = {WL_OPT_UNSIGNED("--threads", threads),
                            WL_OPT_QUICK("--iterations", iterations, 1000000)};
  if (!wl_parse_args(argc, argv, &seed, opts, WL_COUNT(opts))) return 2;
  if (threads < 1 || threads > MAX_THREADS) {
    fprintf(stderr, "glibc_thread: --threads must be 1-%d\n", MAX_THREADS);
    return 2;
  }

  /* One table of sizes, shared read-only by all threads. */
  uint64_t s = wl_seed_state(seed, 3);
  uint32_t *sizes = malloc(SIZE_TABLE * sizeof *sizes);
  if (sizes == NULL) abort();
  for (size_t i = 0; i < SIZE_TABLE; ++i) sizes[i] = draw_size(&s);

  worker w[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  for (unsigned i = 0; i < threads; ++i) {
    w[i].rng = (seed + 11) * 0xD1B54A32D192ED03ULL + i * WL_GOLDEN;
    w[i].iterations = iterations;
    w[i].sum = 0;
    w[i].sizes = sizes;
    wl_spawn(&tid[i], NULL, run, &w[i], "glibc_thread");
  }
  uint64_t checksum = WL_FNV_OFFSET;
  for (unsigned i = 0; i < threads; ++i) {
    pthread_join(tid[i], NULL);
    checksum = wl_mix(checksum, w[i].sum);
  }
  free(sizes);
  printf("glibc-thread seed=%llu threads=%u iterations=%ld\n",
         (unsigned long long)seed, threads, iterations);
  wl_print_checksum(checksum);
  return 0;
}
