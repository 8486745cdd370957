/* sealpool — malloc workloads: wall time and peak RSS of one command.
 *
 *   measure [-o OUT] [-i IN] [-t SECONDS] [-e NAME=VALUE]... [-u NAME]...
 *           [--] PROGRAM [ARG...]
 *
 * Forks, applies the environment changes in the child only (-u unsets
 * NAME, -e sets NAME=VALUE, in the order given; so "-u LD_PRELOAD
 * -e LD_PRELOAD=lib.so" preloads lib.so into PROGRAM and into nothing
 * else), execvp()s PROGRAM with its stdout sent to OUT (default
 * /dev/null) and its stdin read from IN (default /dev/null); stderr is
 * inherited. The parent waits with wait4() and prints one line on stdout:
 *
 *   elapsed=S maxrss_kib=K user=S sys=S status=STATUS
 *
 * elapsed is CLOCK_MONOTONIC time from just before fork() to the return
 * of wait4(); maxrss_kib the child's ru_maxrss (peak resident set, KiB);
 * user and sys its CPU time in seconds; STATUS is "0" on success, the exit
 * code, "signal:N", or "timeout" when -t SECONDS passed first (the child's
 * process group is then killed with SIGKILL). Exit status: 0 when the
 * child exited with 0, 1 otherwise, 2 on a usage or system error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENV_OPS 64

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig) {
  (void)sig;
  timed_out = 1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [-o OUT] [-i IN] [-t SECONDS] [-e NAME=VALUE]... "
          "[-u NAME]... [--] PROGRAM [ARG...]\n",
          argv0);
}

/* Opens `path` and moves it onto descriptor `fd` (in the child). */
static int redirect(const char *path, int flags, int fd) {
  const int f = open(path, flags, 0644);
  if (f < 0) return -1;
  if (f != fd) {
    if (dup2(f, fd) < 0) return -1;
    close(f);
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *out = "/dev/null";
  const char *in = "/dev/null";
  long timeout_s = 0;
  /* Environment operations: 'e' (set, "NAME=VALUE") or 'u' (unset). */
  char env_kind[MAX_ENV_OPS];
  const char *env_arg[MAX_ENV_OPS];
  int n_env = 0;

  int i = 1;
  for (; i < argc; ++i) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      ++i;
      break;
    }
    if (a[0] != '-') break;
    if (i + 1 >= argc || a[1] == '\0' || a[2] != '\0') {
      usage(argv[0]);
      return 2;
    }
    const char *v = argv[++i];
    switch (a[1]) {
      case 'o': out = v; break;
      case 'i': in = v; break;
      case 't': timeout_s = strtol(v, NULL, 10); break;
      case 'e':
      case 'u':
        if (n_env == MAX_ENV_OPS || (a[1] == 'e' && strchr(v, '=') == NULL)) {
          usage(argv[0]);
          return 2;
        }
        env_kind[n_env] = a[1];
        env_arg[n_env++] = v;
        break;
      default: usage(argv[0]); return 2;
    }
  }
  if (i >= argc) {
    usage(argv[0]);
    return 2;
  }
  char **cmd = argv + i;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: wait4() returns EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  fflush(stdout);

  const double t0 = now_s();
  const pid_t pid = fork();
  if (pid < 0) {
    perror("measure: fork");
    return 2;
  }
  if (pid == 0) {
    setpgid(0, 0);
    for (int k = 0; k < n_env; ++k) {
      if (env_kind[k] == 'u') {
        unsetenv(env_arg[k]);
      } else {
        const char *eq = strchr(env_arg[k], '=');
        char name[256];
        const size_t len = (size_t)(eq - env_arg[k]);
        if (len == 0 || len >= sizeof name) _exit(126);
        memcpy(name, env_arg[k], len);
        name[len] = '\0';
        setenv(name, eq + 1, 1);
      }
    }
    if (redirect(in, O_RDONLY, STDIN_FILENO) != 0 ||
        redirect(out, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO) != 0) {
      perror("measure: redirect");
      _exit(126);
    }
    execvp(cmd[0], cmd);
    fprintf(stderr, "measure: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid); /* also in the parent: no race with the kill below */
  if (timeout_s > 0) alarm((unsigned)timeout_s);

  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  int killed = 0;
  for (;;) {
    const pid_t r = wait4(pid, &status, 0, &ru);
    if (r == pid) break;
    if (r < 0 && errno == EINTR) {
      if (timed_out && !killed) {
        kill(-pid, SIGKILL);
        killed = 1;
      }
      continue;
    }
    perror("measure: wait4");
    return 2;
  }
  const double elapsed = now_s() - t0;
  alarm(0);

  char st[32];
  int ok = 0;
  if (killed) {
    snprintf(st, sizeof st, "timeout");
  } else if (WIFEXITED(status)) {
    snprintf(st, sizeof st, "%d", WEXITSTATUS(status));
    ok = WEXITSTATUS(status) == 0;
  } else if (WIFSIGNALED(status)) {
    snprintf(st, sizeof st, "signal:%d", WTERMSIG(status));
  } else {
    snprintf(st, sizeof st, "unknown");
  }
  printf("elapsed=%.6f maxrss_kib=%ld user=%.6f sys=%.6f status=%s\n",
         elapsed, ru.ru_maxrss, tv_s(ru.ru_utime), tv_s(ru.ru_stime), st);
  return ok ? 0 : 1;
}
