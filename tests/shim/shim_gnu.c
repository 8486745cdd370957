/* The shim force-included into a program that asks for GNU and POSIX
 * declarations itself, at the top of its source, as Lua's lprefix.h does
 * (-std=c11 -pedantic -Werror -Wall -Wextra): popen/pclose and
 * struct sigaction/sigaction must still be declared, with their real
 * types, and the GNU copies (stpcpy, mempcpy) are checked as well as the
 * ISO ones. A refused copy in abort mode aborts with the report. */
#define _GNU_SOURCE 1

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sealpool/sealpool.h>

#include "shim_checks.h"

static volatile sig_atomic_t g_got_signal = 0;

static void OnSignal(int sig) { g_got_signal = sig; }

/* popen and sigaction, which vanish (or come back implicitly declared,
 * returning a truncated pointer) when a header fixes the feature macros
 * before the program does. */
static int PosixStillWorks(void) {
  struct sigaction sa;
  char line[64] = {0};
  FILE *f = popen("echo sealpool-popen", "r");
  if (f == NULL || fgets(line, sizeof(line), f) == NULL) return 0;
  if (pclose(f) != 0 || strcmp(line, "sealpool-popen\n") != 0) return 0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 0;
  raise(SIGUSR1);
  return g_got_signal == SIGUSR1;
}

static int GnuCopiesChecked(void) {
  sp_pool *pool = sp_pool_create("shim-gnu-ext", NULL);
  char *obj = pool != NULL ? (char *)sp_alloc(pool, 8) : NULL;
  int ok = obj != NULL;
  if (!ok) return 0;
  ok &= stpcpy(obj, "1234567") == obj + 7;
  ok &= mempcpy(obj, "abcdefgh", 8) == obj + 8;
  ok &= g_shim_violations == 0;
  ok &= stpcpy(obj, "12345678") == NULL;
  ok &= mempcpy(obj + 1, "abcdefgh", 8) == NULL;
  ok &= g_shim_violations == 2 && g_shim_last_kind == SP_VIOLATION_OUT_OF_BOUNDS;
  ok &= memcmp(obj, "abcdefgh", 8) == 0;
  g_shim_violations = 0;
  sp_free(obj);
  sp_pool_destroy(pool);
  return ok;
}

/* In abort mode (the default) an out-of-bounds strcpy stops the process
 * with the report on stderr, before the write. */
static int AbortModeAborts(void) {
  int status = 0;
  pid_t pid;
  fflush(NULL);
  pid = fork();
  if (pid == 0) {
    sp_pool *pool;
    char *obj;
    sp_set_mode(SP_MODE_ABORT);
    pool = sp_pool_create("shim-gnu-abort", NULL);
    obj = pool != NULL ? (char *)sp_alloc(pool, 8) : NULL;
    if (obj == NULL) _exit(3);
    strcpy(obj, "123456789");
    _exit(0); /* not reached */
  }
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 0;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

int main(void) {
  int failures = 0;
  if (!PosixStillWorks()) {
    fprintf(stderr, "shim_gnu: popen/sigaction broken\n");
    ++failures;
  }
  failures += RunShimChecks("shim-gnu");
  failures += RunShimSizeChecks();
  sp_set_violation_handler(&ShimOnViolation, NULL);
  if (!GnuCopiesChecked()) {
    fprintf(stderr, "shim_gnu: stpcpy/mempcpy not checked\n");
    ++failures;
  }
  sp_set_violation_handler(NULL, NULL);
  if (!AbortModeAborts()) {
    fprintf(stderr, "shim_gnu: abort mode did not abort\n");
    ++failures;
  }
  if (failures != 0) {
    fprintf(stderr, "shim_gnu: %d check(s) failed\n", failures);
    return 1;
  }
  printf("shim_gnu: out-of-bounds strcpy, sprintf, memcpy caught\n");
  return 0;
}
