/* sealpool — malloc workload "larson": server-like random lifetimes.
 *
 *   larson [--quick] [--seed N] [--threads N] [--slots N] [--ops N]
 *          [--rounds N]
 *
 * Models the benchmark of Larson and Krishnan ("Memory Allocation for
 * Long-Running Server Applications", ISMM 1998): each of --threads chains
 * of work (default 4) owns an array of --slots objects (default 2,000).
 * The main thread first fills every array (so the first frees of every
 * thread are of objects another thread allocated). Then each chain runs
 * --rounds rounds (default 100) of --ops steps (default 40,000); a step
 * picks a random slot, checks and frees its object, and allocates a new
 * one of a random size, 16-1,024 bytes, writing its 16-byte header and its
 * last byte.
 * At the end of a round the thread hands its array to a freshly created
 * thread and exits, as a server's worker threads come and go; objects thus
 * outlive the thread that allocated them and are freed by another.
 *
 * Each chain's steps depend only on its own random sequence, so the
 * checksum (of every object read before it is freed, chain by chain) does
 * not depend on scheduling: every malloc must print the same. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define MAX_CHAINS 256
#define MIN_SIZE 16
#define MAX_SIZE 1024

typedef struct {
  uint32_t size;
  uint32_t chain;
  uint64_t value;
} header;

typedef struct {
  unsigned id;
  uint64_t rng;
  void **slot;
  long rounds_left;
  uint64_t sum;
} chain;

static long n_slots = 2000;
static long n_ops = 40000;

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static unsigned chains_done;
static pthread_attr_t detached;

static void *make(chain *c) {
  const uint64_t r = wl_rnd(&c->rng);
  const uint32_t size = MIN_SIZE + (uint32_t)(r % (MAX_SIZE - MIN_SIZE + 1));
  unsigned char *p = malloc(size);
  if (p == NULL) abort();
  header h = {size, c->id, r >> 10};
  memcpy(p, &h, sizeof h);
  if (size > sizeof h) p[size - 1] = (unsigned char)(r >> 56);
  return p;
}

static void drop(chain *c, void *obj) {
  unsigned char *p = obj;
  header h;
  memcpy(&h, p, sizeof h);
  if (h.size < MIN_SIZE || h.size > MAX_SIZE || h.chain != c->id ||
      (h.size > sizeof h && p[h.size - 1] != (unsigned char)(h.value >> 46)))
    wl_die("larson: object contents corrupted\n");
  c->sum = wl_mix(c->sum, h.value ^ h.size);
  free(p);
}

static void *run_chain(void *arg) {
  chain *c = arg;
  for (;;) {
    for (long n = 0; n < n_ops; ++n) {
      const size_t k = (size_t)(wl_rnd(&c->rng) % (uint64_t)n_slots);
      drop(c, c->slot[k]);
      c->slot[k] = make(c);
    }
    if (--c->rounds_left <= 0) break;
    /* Hand the array on to a new thread; should none be available, carry
     * on in this one (the work stays the same). */
    pthread_t next;
    if (pthread_create(&next, &detached, run_chain, c) == 0) return NULL;
  }
  pthread_mutex_lock(&done_lock);
  ++chains_done;
  pthread_cond_signal(&done_cond);
  pthread_mutex_unlock(&done_lock);
  return NULL;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  unsigned threads = 4;
  long rounds = 100;
  const wl_option opts[] = {
      WL_OPT_UNSIGNED("--threads", threads), WL_OPT_LONG("--slots", n_slots),
      WL_OPT_LONG("--ops", n_ops), WL_OPT_QUICK("--rounds", rounds, 10)};
  if (!wl_parse_args(argc, argv, &seed, opts, WL_COUNT(opts))) return 2;
  if (threads < 1 || threads > MAX_CHAINS || n_slots < 1 || n_ops < 0 ||
      rounds < 1) {
    fprintf(stderr, "larson: bad parameters\n");
    return 2;
  }

  pthread_attr_init(&detached);
  pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);

  static chain chains[MAX_CHAINS];
  for (unsigned i = 0; i < threads; ++i) {
    chain *c = &chains[i];
    c->id = i;
    c->rng = (seed + 1) * WL_GOLDEN ^ ((uint64_t)i << 32 | 0x5bd1e995);
    c->rounds_left = rounds;
    c->sum = WL_FNV_OFFSET;
    c->slot = malloc((size_t)n_slots * sizeof *c->slot);
    if (c->slot == NULL) abort();
    for (long k = 0; k < n_slots; ++k) c->slot[k] = make(c);
  }
  for (unsigned i = 0; i < threads; ++i) {
    pthread_t t;
    wl_spawn(&t, &detached, run_chain, &chains[i], "larson");
  }
  pthread_mutex_lock(&done_lock);
  while (chains_done < threads) pthread_cond_wait(&done_cond, &done_lock);
  pthread_mutex_unlock(&done_lock);

  uint64_t checksum = 0;
  for (unsigned i = 0; i < threads; ++i) {
    chain *c = &chains[i];
    for (long k = 0; k < n_slots; ++k) drop(c, c->slot[k]);
    free(c->slot);
    checksum = (checksum ^ c->sum) * WL_GOLDEN + i;
  }
  printf("larson seed=%llu threads=%u slots=%ld ops=%ld rounds=%ld\n",
         (unsigned long long)seed, threads, n_slots, n_ops, rounds);
  wl_print_checksum(checksum);
  return 0;
}
