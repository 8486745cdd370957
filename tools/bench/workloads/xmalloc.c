/* sealpool — malloc workload "xmalloc": producer/consumer across threads.
 *
 *   xmalloc [--quick] [--seed N] [--threads N] [--objects N]
 *
 * Models xmalloc-test (Lever and Boreham, "malloc() Performance in a
 * Multithreaded Linux Environment", USENIX 2000): some threads only
 * allocate, others only free, so every object is freed by a different
 * thread than the one that allocated it. --threads N starts N producers
 * and N consumers (default 2 + 2). Each producer allocates --objects
 * objects (sizes 8-256 bytes from a fixed list, small ones more often),
 * writes them, collects them in batches of 64 (the batch itself is also a
 * malloc'd object) and appends each batch to a shared queue; consumers take
 * batches off the queue, read and check every object, and free the objects
 * and the batch. The queue holds at most 64 batches, so producers wait for
 * consumers and the memory in flight stays bounded.
 *
 * The checksum is a sum over all objects of a value written by the
 * producer: it does not depend on which consumer freed which batch, only on
 * the seed and the parameters. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define BATCH 64
#define MAX_QUEUED 64
#define MAX_THREADS 64

typedef struct batch {
  struct batch *next;
  unsigned count;
  void *obj[BATCH];
} batch;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty;
  pthread_cond_t not_full;
  batch *head, *tail;
  unsigned length;
  unsigned producers_left;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
           PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0};

/* The sizes xmalloc-style tests draw from; repeats weight the small ones. */
static const uint32_t sizes[] = {8,  8,  12, 16, 16, 16, 24,  24,  32,  32,
                                 32, 48, 48, 64, 64, 96, 128, 160, 192, 256};
#define N_SIZES (sizeof sizes / sizeof sizes[0])

typedef struct {
  unsigned id;
  uint64_t seed;
  long objects;
  uint64_t sum; /* consumers: sum of the values read */
  long freed;
} worker;

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += WL_GOLDEN);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void push(batch *b) {
  pthread_mutex_lock(&queue.lock);
  while (queue.length >= MAX_QUEUED) pthread_cond_wait(&queue.not_full, &queue.lock);
  b->next = NULL;
  if (queue.tail != NULL) {
    queue.tail->next = b;
  } else {
    queue.head = b;
  }
  queue.tail = b;
  ++queue.length;
  pthread_cond_signal(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
}

/* The next batch, or NULL once the producers are done and the queue empty. */
static batch *pop(void) {
  pthread_mutex_lock(&queue.lock);
  while (queue.head == NULL && queue.producers_left > 0)
    pthread_cond_wait(&queue.not_empty, &queue.lock);
  batch *b = queue.head;
  if (b != NULL) {
    queue.head = b->next;
    if (queue.head == NULL) queue.tail = NULL;
    --queue.length;
    pthread_cond_signal(&queue.not_full);
  }
  pthread_mutex_unlock(&queue.lock);
  return b;
}

static batch *new_batch(void) {
  batch *b = malloc(sizeof *b);
  if (b == NULL) abort();
  b->count = 0;
  return b;
}

static void *producer(void *arg) {
  worker *w = arg;
  uint64_t s = w->seed;
  batch *b = new_batch();
  for (long n = 0; n < w->objects; ++n) {
    const uint64_t r = splitmix(&s);
    const uint32_t size = sizes[r % N_SIZES];
    unsigned char *p = malloc(size);
    if (p == NULL) abort();
    /* The first word: random bits above, the size in the low 16 bits; the
     * rest of the object is filled with bits 16-23 of it. */
    const uint64_t word = (r & ~(uint64_t)0xffff) | size;
    memcpy(p, &word, sizeof word);
    if (size > sizeof word)
      memset(p + sizeof word, (int)((word >> 16) & 0xff), size - sizeof word);
    b->obj[b->count++] = p;
    if (b->count == BATCH) {
      push(b);
      b = new_batch();
    }
  }
  if (b->count > 0) {
    push(b);
  } else {
    free(b);
  }
  pthread_mutex_lock(&queue.lock);
  if (--queue.producers_left == 0) pthread_cond_broadcast(&queue.not_empty);
  pthread_mutex_unlock(&queue.lock);
  return NULL;
}

static void *consumer(void *arg) {
  worker *w = arg;
  batch *b;
  while ((b = pop()) != NULL) {
    for (unsigned k = 0; k < b->count; ++k) {
      unsigned char *p = b->obj[k];
      uint64_t word;
      memcpy(&word, p, sizeof word);
      const uint32_t size = (uint32_t)(word & 0xffff);
      if (size < 8 || size > 256 ||
          (size > sizeof word && p[size - 1] != ((word >> 16) & 0xff)))
        wl_die("xmalloc: object contents corrupted\n");
      w->sum += word * WL_GOLDEN;
      free(p);
    }
    w->freed += b->count;
    free(b);
  }
  return NULL;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  unsigned threads = 2;
  long objects = 4000000;
  const wl_option opts[] = {WL_OPT_UNSIGNED("--threads", threads),
                            WL_OPT_QUICK("--objects", objects, 300000)};
  if (!wl_parse_args(argc, argv, &seed, opts, WL_COUNT(opts))) return 2;
  if (threads < 1 || threads > MAX_THREADS / 2) {
    fprintf(stderr, "xmalloc: --threads must be 1-%d\n", MAX_THREADS / 2);
    return 2;
  }

  worker w[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  memset(w, 0, sizeof w);
  queue.producers_left = threads;
  for (unsigned i = 0; i < 2 * threads; ++i) {
    w[i].id = i;
    w[i].seed = seed * WL_FNV_PRIME + i;
    w[i].objects = objects;
    wl_spawn(&tid[i], NULL, i < threads ? producer : consumer, &w[i], "xmalloc");
  }
  uint64_t sum = 0;
  long freed = 0;
  for (unsigned i = 0; i < 2 * threads; ++i) {
    pthread_join(tid[i], NULL);
    sum += w[i].sum;
    freed += w[i].freed;
  }
  if (freed != objects * (long)threads)
    wl_die("xmalloc: %ld objects freed, %ld allocated\n", freed,
           objects * (long)threads);
  printf("xmalloc seed=%llu threads=%u+%u objects=%ld\n", (unsigned long long)seed,
         threads, threads, objects);
  wl_print_checksum(sum);
  return 0;
}
