/* sealpool — start-up cost of linking sealpool.
 *
 *   startup_bench ROUNDS PROGRAM_A PROGRAM_B
 *
 * Runs A and B alternately ROUNDS times each (fork + exec, wait), and
 * prints per program the median wall time of one run (exec to exit, in
 * microseconds) and the median minor page faults of the child
 * (getrusage), then the medians of the differences B - A of adjacent runs.
 * Alternating keeps drift on a noisy machine out of the ratio. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One run of `prog`: wall time and minor faults of the child. */
static int run(const char *prog, double *us, long *faults) {
  const double t0 = now_us();
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execl(prog, prog, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid) return -1;
  *us = now_us() - t0;
  *faults = ru.ru_minflt;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(double), cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  if (argc != 4 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: %s ROUNDS PROGRAM_A PROGRAM_B\n", argv[0]);
    return 2;
  }
  const int n = atoi(argv[1]);
  double *t[2], *f[2], *dt, *df;
  for (int k = 0; k < 2; ++k) {
    t[k] = calloc((size_t)n, sizeof(double));
    f[k] = calloc((size_t)n, sizeof(double));
  }
  dt = calloc((size_t)n, sizeof(double));
  df = calloc((size_t)n, sizeof(double));
  if (!t[0] || !t[1] || !f[0] || !f[1] || !dt || !df) return 1;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 2; ++k) {
      long faults = 0;
      if (run(argv[2 + k], &t[k][i], &faults) != 0) {
        fprintf(stderr, "%s: %s failed\n", argv[0], argv[2 + k]);
        return 1;
      }
      f[k][i] = (double)faults;
    }
    dt[i] = t[1][i] - t[0][i];
    df[i] = f[1][i] - f[0][i];
  }
  for (int k = 0; k < 2; ++k) {
    printf("%-40s median %8.1f us  %6.0f minor faults\n", argv[2 + k],
           median(t[k], n), median(f[k], n));
  }
  printf("B - A (median of %d adjacent pairs): %+.1f us, %+.0f minor faults\n", n,
         median(dt, n), median(df, n));
  return 0;
}
