/* sealpool — malloc workload "churn": single-threaded small-object churn.
 *
 *   churn [--quick] [--seed N] [--ops N]
 *
 * Models programs like cfrac (big-number arithmetic) and espresso (logic
 * minimisation): one thread allocating and freeing very many small
 * objects of mixed sizes, 8-512 bytes, most of them 8-64. Objects live in
 * three places, as temporaries, intermediate results and data structures
 * do in those programs:
 *
 *   - a stack of temporaries (LIFO: most frees are of the newest object),
 *   - a FIFO of intermediate results that live for about 1,000 operations,
 *   - a table of 8,192 long-lived objects, replaced at random, rarely.
 *
 * Every object is written in full when allocated (a header with its size
 * and a tag, the rest a fill byte) and read when freed (header, fill at the
 * end); a few percent come from calloc() and are checked to be zero first.
 * The output is the parameters and a checksum of everything read, which
 * depends only on the seed: every malloc must print the same. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define STACK_CAP 96
#define FIFO_LEN 1024
#define LONG_LIVED 8192

typedef struct {
  uint32_t size;
  uint32_t tag;
} header;

static uint64_t rng_state;

static uint64_t rnd(void) { return wl_rnd(&rng_state); }

static uint64_t checksum = WL_FNV_OFFSET;

/* wl_mix with a fold of the high bits: churn's checksum. */
static void mix(uint64_t v) {
  checksum = wl_mix(checksum, v);
  checksum ^= checksum >> 29;
}

/* 8-512 bytes, skewed to small: half 8-32, then 33-64, 65-128, ... */
static uint32_t pick_size(void) {
  const uint64_t r = rnd();
  const unsigned c = (unsigned)(r % 100);
  const uint32_t u = (uint32_t)(r >> 32);
  if (c < 50) return 8 + u % 25;
  if (c < 80) return 33 + u % 32;
  if (c < 92) return 65 + u % 64;
  if (c < 98) return 129 + u % 128;
  return 257 + u % 256;
}

static void *make(void) {
  const uint32_t size = pick_size();
  const uint32_t tag = (uint32_t)rnd();
  unsigned char *p;
  if ((tag & 31) == 0) {
    p = calloc(1, size);
    if (p == NULL) abort();
    /* calloc memory must read as zero; check a few bytes of it. */
    if (p[0] | p[size / 2] | p[size - 1])
      wl_die("churn: calloc returned non-zero memory\n");
  } else {
    p = malloc(size);
    if (p == NULL) abort();
  }
  header h = {size, tag};
  memcpy(p, &h, sizeof h);
  memset(p + sizeof h, (int)(tag & 0xff), size - sizeof h);
  return p;
}

static void drop(void *obj) {
  unsigned char *p = obj;
  header h;
  memcpy(&h, p, sizeof h);
  if (h.size < sizeof h || h.size > 512 ||
      (h.size > sizeof h && p[h.size - 1] != (h.tag & 0xff)))
    wl_die("churn: object contents corrupted\n");
  mix((uint64_t)h.size << 32 | h.tag);
  free(p);
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  long ops = 16000000;
  const wl_option opts[] = {WL_OPT_QUICK("--ops", ops, 1500000)};
  if (!wl_parse_args(argc, argv, &seed, opts, WL_COUNT(opts))) return 2;
  rng_state = wl_seed_state(seed, 1);

  void *stack[STACK_CAP];
  int depth = 0;
  void **fifo = calloc(FIFO_LEN, sizeof *fifo);
  void **table = calloc(LONG_LIVED, sizeof *table);
  if (fifo == NULL || table == NULL) abort();
  for (int i = 0; i < LONG_LIVED; ++i) table[i] = make();
  size_t head = 0;

  for (long n = 0; n < ops; ++n) {
    const unsigned op = (unsigned)(rnd() % 100);
    if (op < 52) {
      /* Push a temporary; a full stack unwinds half of itself, as when an
       * expression is finished. */
      if (depth == STACK_CAP) {
        while (depth > STACK_CAP / 2) drop(stack[--depth]);
      }
      stack[depth++] = make();
    } else if (op < 86) {
      /* Pop a temporary: usually the newest, sometimes one deeper down. */
      if (depth > 0) {
        int k = depth - 1;
        if ((op & 3) == 0 && depth > 4) k = depth - 1 - (int)(rnd() % 4);
        drop(stack[k]);
        stack[k] = stack[--depth];
      }
    } else if (op < 98) {
      /* An intermediate result: replaces the oldest one. */
      if (fifo[head] != NULL) drop(fifo[head]);
      fifo[head] = make();
      head = (head + 1) % FIFO_LEN;
    } else {
      /* Rarely, a long-lived object is replaced. */
      const size_t k = (size_t)(rnd() % LONG_LIVED);
      drop(table[k]);
      table[k] = make();
    }
  }

  while (depth > 0) drop(stack[--depth]);
  for (int i = 0; i < FIFO_LEN; ++i)
    if (fifo[i] != NULL) drop(fifo[i]);
  for (int i = 0; i < LONG_LIVED; ++i) drop(table[i]);
  free(fifo);
  free(table);

  printf("churn seed=%llu ops=%ld\n", (unsigned long long)seed, ops);
  wl_print_checksum(checksum);
  return 0;
}
