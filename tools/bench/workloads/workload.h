/* sealpool — malloc workloads: the parts every workload program shares.
 *
 * Header-only (static inline), included by churn.c, xmalloc.c, larson.c,
 * realloc.c and glibc_thread.c after their feature-test macro; nothing
 * here allocates, so none of it shows in what the workloads measure.
 *
 *   - wl_rnd: the xorshift64* step, on a state the caller keeps (one per
 *     program or one per thread); wl_seed_state: seed * WL_GOLDEN + stream,
 *     a non-trivial starting state for stream `stream` of a seed;
 *   - wl_mix: one FNV-1a-style step of a 64-bit checksum
 *     (start from WL_FNV_OFFSET); wl_print_checksum: the last output line;
 *   - wl_parse_args: [--quick] [--seed N] and a table of the program's own
 *     numeric options, with the usage line built from that table;
 *   - wl_die: a message on stderr and exit status 1 (corrupted objects,
 *     out of memory); wl_spawn: pthread_create or wl_die. */
#ifndef SEALPOOL_WORKLOAD_H
#define SEALPOOL_WORKLOAD_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2^64 / golden ratio, the usual odd constant for spreading seeds. */
#define WL_GOLDEN 0x9E3779B97F4A7C15ULL
/* FNV-1a's 64-bit offset basis and prime. */
#define WL_FNV_OFFSET 0xcbf29ce484222325ULL
#define WL_FNV_PRIME 0x100000001b3ULL

#define WL_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define WL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WL_PRINTF(f, a)
#endif

/* xorshift64*: advances *s and returns the next value. */
static inline uint64_t wl_rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* The starting state of random stream `stream` for `seed`. */
static inline uint64_t wl_seed_state(uint64_t seed, uint64_t stream) {
  return seed * WL_GOLDEN + stream;
}

/* One checksum step: h combined with v. */
static inline uint64_t wl_mix(uint64_t h, uint64_t v) {
  return (h ^ v) * WL_FNV_PRIME;
}

/* The last line of every workload's output. */
static inline void wl_print_checksum(uint64_t checksum) {
  printf("checksum %016llx\n", (unsigned long long)checksum);
}

/* Prints the message (printf-style, on stderr) and exits with status 1. */
WL_PRINTF(1, 2) _Noreturn static inline void wl_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  exit(1);
}

/* pthread_create, or "PROG: pthread_create failed" and exit status 1. */
static inline void wl_spawn(pthread_t *tid, const pthread_attr_t *attr,
                            void *(*fn)(void *), void *arg, const char *prog) {
  if (pthread_create(tid, attr, fn, arg) != 0)
    wl_die("%s: pthread_create failed\n", prog);
}

/* One of a program's own options, "NAME N". N is read into *value with
 * strtol(N, NULL, 10) or, when value is NULL, into *uvalue with
 * (unsigned)strtoul(N, NULL, 10). If `quick` is set, --quick stores
 * quick_value into *value. Build entries with the WL_OPT_* macros. */
typedef struct {
  const char *name;
  long *value;
  unsigned *uvalue;
  int quick;
  long quick_value;
} wl_option;

#define WL_OPT_LONG(name, var) {(name), &(var), NULL, 0, 0}
#define WL_OPT_UNSIGNED(name, var) {(name), NULL, &(var), 0, 0}
#define WL_OPT_QUICK(name, var, quick_value) {(name), &(var), NULL, 1, (quick_value)}

/* "usage: ARGV0 [--quick] [--seed N] [NAME N]...", the options in table
 * order. */
static inline void wl_usage(const char *argv0, const wl_option *opt,
                            size_t n_opt) {
  fprintf(stderr, "usage: %s [--quick] [--seed N]", argv0);
  for (size_t k = 0; k < n_opt; ++k) fprintf(stderr, " [%s N]", opt[k].name);
  fputc('\n', stderr);
}

/* Reads argv in order, so that a later option overrides an earlier one
 * (--quick included): --quick sets the table's quick values, --seed N
 * stores strtoull(N, NULL, 10) into *seed, and the table's options their
 * values. Anything else, or an option without its value, prints the usage
 * line and returns 0; returns 1 otherwise. Defaults are the caller's: the
 * variables keep their values unless an option sets them. */
static inline int wl_parse_args(int argc, char **argv, uint64_t *seed,
                                const wl_option *opt, size_t n_opt) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const int has_value = i + 1 < argc;
    if (strcmp(a, "--quick") == 0) {
      for (size_t k = 0; k < n_opt; ++k)
        if (opt[k].quick) *opt[k].value = opt[k].quick_value;
      continue;
    }
    if (strcmp(a, "--seed") == 0 && has_value) {
      *seed = strtoull(argv[++i], NULL, 10);
      continue;
    }
    size_t k = 0;
    while (k < n_opt && strcmp(a, opt[k].name) != 0) ++k;
    if (k == n_opt || !has_value) {
      wl_usage(argv[0], opt, n_opt);
      return 0;
    }
    const char *v = argv[++i];
    if (opt[k].value != NULL) {
      *opt[k].value = strtol(v, NULL, 10);
    } else {
      *opt[k].uvalue = (unsigned)strtoul(v, NULL, 10);
    }
  }
  return 1;
}

#endif /* SEALPOOL_WORKLOAD_H */
