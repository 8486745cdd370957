/* sealpool — malloc workload "realloc": buffers grown and shrunk by realloc.
 *
 *   realloc [--quick] [--seed N] [--buffers N]
 *
 * Models string builders, growable arrays and I/O buffers: six buffers at
 * a time, interleaved, each grown by appending data (memcpy) with a
 * realloc() whenever it is full, from a few bytes to its target size, then
 * shrunk with realloc() to 1/8-1/2 of its length, and then either grown
 * again to half its target or freed. Each buffer has a growth policy:
 *
 *   exact    realloc to the exact new length on every append of 8-256
 *            bytes (naive string concatenation), to 4-64 KiB;
 *   double   capacity doubled (a vector), to 256 KiB-8 MiB;
 *   quarter  capacity + 25% + 4 KiB, to 256 KiB-8 MiB;
 *   linear   capacity + 64 KiB, to 256 KiB-4 MiB.
 *
 * The three large policies append 1-16 KiB at a time. Small objects
 * (32-2,048 bytes) are allocated and freed between the appends, so that the
 * buffers do not have the heap to themselves. After every realloc() the
 * first and last bytes of the old contents are checked; after every shrink
 * and before every free the whole buffer is compared with what was written.
 * --buffers N sets how many buffers are grown in all (default 360).
 *
 * The output (parameters and a checksum of lengths and contents) depends
 * only on the seed. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define ACTIVE 6
#define PLEN 4093           /* the pattern's period (a prime) */
#define MAX_CHUNK (16 << 10) /* the longest append */
#define NOISE 512

enum policy { EXACT, DOUBLE, QUARTER, LINEAR };

typedef struct {
  unsigned char *data;
  size_t len, cap, target;
  size_t off; /* byte i of the buffer is pattern[(i + off) % PLEN] */
  enum policy policy;
  int regrown;
} buffer;

static unsigned char pattern[PLEN + MAX_CHUNK];
static uint64_t rng_state;
static uint64_t checksum = WL_FNV_OFFSET;

static uint64_t rnd(void) { return wl_rnd(&rng_state); }

static size_t between(size_t lo, size_t hi) {
  return lo + (size_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static void mix(uint64_t v) { checksum = wl_mix(checksum, v); }

static void corrupted(const char *what, size_t at) {
  wl_die("realloc: contents corrupted (%s, byte %zu)\n", what, at);
}

/* Compares bytes [from, to) of b with the pattern. */
static void verify(const buffer *b, size_t from, size_t to, const char *what) {
  size_t i = from;
  while (i < to) {
    const size_t o = (i + b->off) % PLEN;
    size_t n = to - i;
    if (n > MAX_CHUNK) n = MAX_CHUNK;
    if (memcmp(b->data + i, pattern + o, n) != 0) corrupted(what, i);
    i += n;
  }
}

static void resize(buffer *b, size_t cap) {
  const size_t old_len = b->len < cap ? b->len : cap;
  unsigned char *p = realloc(b->data, cap);
  if (p == NULL) wl_die("realloc: out of memory (%zu bytes)\n", cap);
  b->data = p;
  b->cap = cap;
  /* The old contents must have come along: check both ends. */
  const size_t edge = old_len < 64 ? old_len : 64;
  verify(b, 0, edge, "start after realloc");
  verify(b, old_len - edge, old_len, "end after realloc");
  mix(cap);
}

static void start(buffer *b) {
  memset(b, 0, sizeof *b);
  b->policy = (enum policy)(rnd() % 4);
  b->off = (size_t)(rnd() % PLEN);
  switch (b->policy) {
    case EXACT: b->target = between(4 << 10, 64 << 10); break;
    case LINEAR: b->target = between(256 << 10, 4 << 20); break;
    default: b->target = between(256 << 10, 8 << 20); break;
  }
  mix(b->target);
}

static void append(buffer *b) {
  const size_t n = b->policy == EXACT ? between(8, 256) : between(1, MAX_CHUNK);
  const size_t need = b->len + n;
  if (need > b->cap) {
    size_t cap = b->cap;
    switch (b->policy) {
      case EXACT: cap = need; break;
      case DOUBLE: cap = cap ? 2 * cap : 64; break;
      case QUARTER: cap += cap / 4 + 4096; break;
      case LINEAR: cap += 64 << 10; break;
    }
    if (cap < need) cap = need;
    resize(b, cap);
  }
  memcpy(b->data + b->len, pattern + (b->len + b->off) % PLEN, n);
  b->len = need;
}

/* The buffer reached its target: shrink it; then grow it once more, or
 * free it. Returns 1 when it was freed. */
static int finish(buffer *b) {
  const size_t keep = b->len / between(2, 8);
  b->len = keep;
  resize(b, keep > 0 ? keep : 1);
  verify(b, 0, b->len, "after shrink");
  mix(b->len);
  mix(b->len ? b->data[b->len / 2] : 0);
  if (!b->regrown && (rnd() & 1)) {
    b->regrown = 1;
    b->target /= 2;
    if (b->target <= b->len) b->target = b->len + 1;
    return 0;
  }
  verify(b, 0, b->len, "before free");
  free(b->data);
  b->data = NULL;
  return 1;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  long total = 360;
  const wl_option opts[] = {WL_OPT_QUICK("--buffers", total, 36)};
  if (!wl_parse_args(argc, argv, &seed, opts, WL_COUNT(opts))) return 2;
  rng_state = wl_seed_state(seed, 7);
  for (size_t i = 0; i < PLEN; ++i) pattern[i] = (unsigned char)(rnd() >> 40);
  for (size_t i = PLEN; i < sizeof pattern; ++i) pattern[i] = pattern[i - PLEN];

  void *noise[NOISE];
  for (int i = 0; i < NOISE; ++i) {
    noise[i] = malloc(between(32, 2048));
    if (noise[i] == NULL) abort();
    memset(noise[i], i & 0xff, 32);
  }

  buffer buf[ACTIVE];
  long started = 0, finished = 0;
  for (int i = 0; i < ACTIVE; ++i) {
    if (started < total) {
      start(&buf[i]);
      ++started;
    } else {
      buf[i].target = 0;
    }
  }
  while (finished < total) {
    const int k = (int)(rnd() % ACTIVE);
    buffer *b = &buf[k];
    if (b->target == 0) continue; /* idle slot, all buffers started */
    append(b);
    if ((rnd() & 3) == 0) {
      const size_t j = (size_t)(rnd() % NOISE);
      free(noise[j]);
      noise[j] = malloc(between(32, 2048));
      if (noise[j] == NULL) abort();
      memset(noise[j], (int)(j & 0xff), 32);
    }
    if (b->len >= b->target && finish(b)) {
      ++finished;
      if (started < total) {
        start(b);
        ++started;
      } else {
        b->target = 0;
      }
    }
  }
  for (int i = 0; i < NOISE; ++i) free(noise[i]);

  printf("realloc seed=%llu buffers=%ld\n", (unsigned long long)seed, total);
  wl_print_checksum(checksum);
  return 0;
}
