/* Shared helpers of the planted-bug programs (the .c files next to it).
 *
 * Each program takes one argument naming its case, makes one libc call that
 * is either out of bounds of a heap object (the planted bug) or its legal
 * neighbour, and prints what it observed, one fact per line, for
 * run_planted.sh to judge. The programs judge nothing themselves: under a
 * plain malloc a planted bug simply happens, and the script says so.
 *
 * What "the bytes next to the victim were not changed" means here, for the
 * calls that write into a heap object (read, strcpy, memcpy into): the
 * program records, before the call, the bytes [victim + size, victim + len)
 * that an unchecked call would have written, read through /proc/self/mem
 * (so that a guard page or an unmapped page is not a crash), and after the
 * call counts the bytes of that range that now hold what the call would
 * have written there and did not before (see planted_check_range). It
 * also allocates sentinel objects right after the victim, by the victim's
 * allocating function, fills them with a known byte, and checks that every
 * one of them still holds it.
 */
#ifndef SEALPOOL_TESTS_PROGRAMS_PLANTED_H_
#define SEALPOOL_TESTS_PROGRAMS_PLANTED_H_

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLANTED_UNUSED __attribute__((unused))

/* Unbuffered stdout: no stdio buffer on the heap, nothing printed twice by
 * a fork, and every line out before an abort. */
static PLANTED_UNUSED void planted_init(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
}

static PLANTED_UNUSED const char* planted_errno_name(int e) {
  switch (e) {
    case 0: return "0";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    default: return "other";
  }
}

/* The result of a read/write-like call: "NAME: returned R errno E". */
static PLANTED_UNUSED void planted_print_result(const char* call, long ret,
                                                int err) {
  printf("%s: returned %ld errno %s\n", call, ret,
         ret < 0 ? planted_errno_name(err) : "0");
}

/* ---- Sentinels: objects allocated right after the victim, by the same
 * allocating function (so from the same call site: the same pool, when the
 * allocator picks pools by call site, and its next free slots). */

#define PLANTED_SENTINELS 16
#define PLANTED_SENTINEL_BYTE 0x3C

static void* planted_sentinel[PLANTED_SENTINELS];
static size_t planted_sentinel_size;

static PLANTED_UNUSED void planted_alloc_sentinels(size_t size,
                                                   void* (*alloc)(void)) {
  planted_sentinel_size = size;
  for (int i = 0; i < PLANTED_SENTINELS; ++i) {
    unsigned char* s = alloc();
    if (s == NULL) {
      printf("sentinel allocation failed\n");
      exit(3);
    }
    for (size_t k = 0; k < size; ++k) s[k] = PLANTED_SENTINEL_BYTE;
    planted_sentinel[i] = s;
  }
}

/* "sentinels: N intact, K changed, W within the overflow range". */
static PLANTED_UNUSED void planted_check_sentinels(const void* victim,
                                                   size_t len) {
  int intact = 0, changed = 0, within = 0;
  uintptr_t lo = (uintptr_t)victim, hi = lo + len;
  for (int i = 0; i < PLANTED_SENTINELS; ++i) {
    const unsigned char* s = planted_sentinel[i];
    int ok = 1;
    for (size_t k = 0; k < planted_sentinel_size; ++k) {
      if (s[k] != PLANTED_SENTINEL_BYTE) ok = 0;
    }
    if (ok) {
      ++intact;
    } else {
      ++changed;
    }
    if ((uintptr_t)s < hi && (uintptr_t)s + planted_sentinel_size > lo) {
      ++within;
    }
  }
  printf("sentinels: %d intact, %d changed, %d within the overflow range\n",
         intact, changed, within);
}

/* ---- The overflow range, read through /proc/self/mem. */

#define PLANTED_MAX_RANGE 8192

static unsigned char planted_before[PLANTED_MAX_RANGE];
static unsigned char planted_after[PLANTED_MAX_RANGE];
static unsigned char planted_readable[PLANTED_MAX_RANGE];

/* Reads [addr, addr + len) page piece by page piece; a piece that cannot be
 * read is marked unreadable. Returns the number of unreadable bytes. */
static PLANTED_UNUSED size_t planted_snapshot(uintptr_t addr, size_t len,
                                              unsigned char* out) {
  static int fd = -1;
  if (fd < 0) fd = open("/proc/self/mem", O_RDONLY);
  size_t unreadable = 0;
  size_t done = 0;
  while (done < len) {
    uintptr_t a = addr + done;
    size_t piece = 4096 - (a & 4095);
    if (piece > len - done) piece = len - done;
    ssize_t got = fd < 0 ? -1 : pread(fd, out + done, piece, (off_t)a);
    int ok = got == (ssize_t)piece;
    for (size_t k = 0; k < piece; ++k) {
      if (out == planted_before) planted_readable[done + k] = (unsigned char)ok;
      if (!ok) out[done + k] = 0;
    }
    if (!ok) unreadable += piece;
    done += piece;
  }
  return unreadable;
}

static uintptr_t planted_range_start;
static size_t planted_range_len;

/* Call before the copy: the bytes past the victim's end (victim_size) up to
 * where a copy of len bytes would reach. */
static PLANTED_UNUSED void planted_record_range(const void* victim,
                                                size_t victim_size,
                                                size_t len) {
  planted_range_start = (uintptr_t)victim + victim_size;
  planted_range_len = len > victim_size ? len - victim_size : 0;
  if (planted_range_len > PLANTED_MAX_RANGE) {
    printf("overflow range too long\n");
    exit(3);
  }
  planted_snapshot(planted_range_start, planted_range_len, planted_before);
}

/* Call after the copy, with what the copy would have written at offset
 * victim_size onwards. Prints "overflow range: L bytes, U unreadable, C
 * changed, D hold the copied data": D counts the bytes that now hold what
 * the copy would have written there, and did not before, in runs of at
 * least PLANTED_MIN_RUN bytes. The range is not the program's own memory:
 * whatever the allocator does meanwhile (the report it writes may allocate,
 * and the objects it hands out may lie in the range) changes bytes there,
 * and a changed byte may equal the copy's by chance; eight in a row of the
 * copy's high, ever-changing bytes do not. */
#define PLANTED_MIN_RUN 8

static PLANTED_UNUSED void planted_check_range(const unsigned char* would) {
  planted_snapshot(planted_range_start, planted_range_len, planted_after);
  size_t unreadable = 0, changed = 0, copied = 0, run = 0;
  for (size_t k = 0; k <= planted_range_len; ++k) {
    int hit = 0;
    if (k < planted_range_len) {
      if (!planted_readable[k]) {
        ++unreadable;
      } else {
        if (planted_after[k] != planted_before[k]) ++changed;
        hit = planted_after[k] == would[k] && planted_before[k] != would[k];
      }
    }
    if (hit) {
      ++run;
    } else {
      if (run >= PLANTED_MIN_RUN) copied += run;
      run = 0;
    }
  }
  printf("overflow range: %zu bytes, %zu unreadable, %zu changed, "
         "%zu hold the copied data\n",
         planted_range_len, unreadable, changed, copied);
}

/* "NAME: matches" or "NAME: differs in N of M bytes[, now all zero]". */
static PLANTED_UNUSED void planted_compare(const char* what,
                                           const unsigned char* now,
                                           const unsigned char* expected,
                                           size_t len) {
  size_t diff = 0, zero = 0;
  for (size_t k = 0; k < len; ++k) {
    diff += now[k] != expected[k];
    zero += now[k] == 0;
  }
  if (diff == 0) {
    printf("%s: matches\n", what);
  } else {
    printf("%s: differs in %zu of %zu bytes%s\n", what, diff, len,
           zero == len ? ", now all zero" : "");
  }
}

/* The length the program claims, from the command line when given, so that
 * no compiler can see it and fold or check the call. */
static PLANTED_UNUSED size_t planted_len(int argc, char** argv, int index,
                                         size_t fallback) {
  if (argc > index) return (size_t)strtoul(argv[index], NULL, 0);
  volatile size_t v = fallback;
  return v;
}

#endif  /* SEALPOOL_TESTS_PROGRAMS_PLANTED_H_ */
