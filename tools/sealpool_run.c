/* sealpool-run — run an unmodified program on sealpool's hardened heap.
 *
 * A small C launcher rather than a shell script, so that a program started
 * through it pays one extra exec and no shell: it parses its options,
 * preloads libsealpool_malloc.so, adds its options to SEALPOOL_OPTIONS,
 * says on stderr where the JSON log goes, and replaces itself with the
 * program (same pid, exit status and signals). `sealpool-run --help` is
 * its manual.
 *
 * The library is SEALPOOL_MALLOC_LIB, --lib, or SEALPOOL_RUN_LIB (set by
 * the build) taken relative to this executable's own directory: in the
 * build tree the library next to the malloc sources' build, installed the
 * one in the library directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SEALPOOL_RUN_LIB
#error "SEALPOOL_RUN_LIB (the library's path relative to this program) must be defined"
#endif

static const char kManual[] =
    "NAME\n"
    "    sealpool-run - run a program with sealpool as its malloc, its libc\n"
    "    copies and I/O bounds-checked\n"
    "\n"
    "SYNOPSIS\n"
    "    sealpool-run [OPTION]... [--] PROGRAM [ARGUMENT]...\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs PROGRAM with libsealpool_malloc.so preloaded. The program's heap\n"
    "    lives in sealpool's pools (malloc-0, malloc-1, ...: each allocation\n"
    "    site is assigned one by a keyed hash), with guard pages, canaries,\n"
    "    quarantines, zeroing and double-free detection; and its calls to\n"
    "    libc's memcpy/memmove/memset, strcpy/strcat families, the\n"
    "    _FORTIFY_SOURCE __*_chk functions, snprintf, read/pread/readv,\n"
    "    recv/recvfrom/recvmsg, write/pwrite/writev, send/sendto/sendmsg,\n"
    "    fread/fgets/fwrite are checked against heap objects: a copy or an I/O\n"
    "    buffer that runs past an object, into freed memory or across objects\n"
    "    is refused before it happens, and reported naming the pool and the code\n"
    "    that allocated the object.\n"
    "\n"
    "    Reports go to standard error, and as one JSON line each to a log file\n"
    "    (see --log); sealpool-run says where before the program starts. In the\n"
    "    default abort mode the first violation ends the program (SIGABRT).\n"
    "\n"
    "    sealpool-run replaces itself with PROGRAM (exec): the process id, exit\n"
    "    status and signals are the program's. Child processes inherit the\n"
    "    preload and the options.\n"
    "\n"
    "OPTIONS\n"
    "    --mode=abort|report\n"
    "        abort (default): report, then abort. report: report, refuse the\n"
    "        call (I/O returns -1 with errno EFAULT; copies copy nothing, except\n"
    "        that a refused source leaves zeros in a valid destination, so that\n"
    "        no stale bytes are handed on) and go on.\n"
    "    --log=FILE\n"
    "        Append the JSON log to FILE (default:\n"
    "        ${TMPDIR:-/tmp}/sealpool-run.PID.jsonl), created when the program\n"
    "        starts; child processes append to the same file. A relative FILE is\n"
    "        taken from the current directory.\n"
    "    --no-log\n"
    "        No JSON log; reports go to standard error only.\n"
    "    --stats\n"
    "        Print the per-pool statistics table to standard error at exit.\n"
    "    --pools=N\n"
    "        Spread the heap over N pools, 1 to 64 (default 8).\n"
    "    --no-sites\n"
    "        Do not record where objects were allocated (reports then name the\n"
    "        pool only; saves a 2-byte store per allocation).\n"
    "    --no-check\n"
    "        Do not check libc's copies and I/O: the hardened allocator alone.\n"
    "    --options=STRING\n"
    "        More SEALPOOL_OPTIONS (key=value pairs separated by ':'; see the\n"
    "        README's options table), applied after the ones above.\n"
    "    --lib=PATH\n"
    "        The libsealpool_malloc.so to preload (a path without ':' or white\n"
    "        space, which LD_PRELOAD cannot carry).\n"
    "    -h, --help\n"
    "        This manual.\n"
    "\n"
    "ENVIRONMENT\n"
    "    SEALPOOL_OPTIONS\n"
    "        Kept; the options given to sealpool-run are added after it (so they\n"
    "        win).\n"
    "    LD_PRELOAD\n"
    "        Kept; libsealpool_malloc.so goes first.\n"
    "    SEALPOOL_MALLOC_LIB\n"
    "        The library to preload when --lib is not given.\n"
    "\n"
    "EXIT STATUS\n"
    "    The program's. 2 for a usage error of sealpool-run itself, 127 when\n"
    "    the program or the library cannot be found.\n"
    "\n"
    "EXAMPLES\n"
    "    sealpool-run -- python3 script.py\n"
    "    PYTHONMALLOC=malloc sealpool-run --mode=report --log=py.jsonl python3 x.py\n"
    "    sealpool-run --stats --pools=16 -- redis-server --port 7000\n"
    "\n"
    "LIMITS\n"
    "    Only calls that reach libc are checked: a copy the compiler inlines\n"
    "    (a constant-size memcpy, a struct assignment) or one inside a single\n"
    "    object is not. See README, \"Whole programs\".\n"
;

enum { kMaxOptions = 64 };

static void Die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("sealpool-run: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\nsealpool-run: try 'sealpool-run --help'\n", stderr);
  va_end(ap);
  exit(2);
}

static char* Join(const char* a, const char* b, const char* c) {
  const size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
  char* s = malloc(n);
  if (s == NULL) {
    fputs("sealpool-run: out of memory\n", stderr);
    exit(2);
  }
  snprintf(s, n, "%s%s%s", a, b, c);
  return s;
}

static int StartsWith(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An absolute form of `path` that need not exist (as realpath -m): the
 * real path when it exists, else the path made absolute with "." and ".."
 * components and repeated slashes taken out. */
static char* Absolute(const char* path) {
  char* real = realpath(path, NULL);
  if (real != NULL) return real;
  char cwd[PATH_MAX];
  const char* base = "";
  if (path[0] != '/') {
    if (getcwd(cwd, sizeof(cwd)) == NULL) return Join(path, "", "");
    base = cwd;
  }
  char* whole = Join(base, "/", path);
  char* out = malloc(strlen(whole) + 2);
  if (out == NULL) return whole;
  size_t n = 0;
  for (char* part = strtok(whole, "/"); part != NULL; part = strtok(NULL, "/")) {
    if (strcmp(part, ".") == 0) continue;
    if (strcmp(part, "..") == 0) {
      while (n > 0 && out[n - 1] != '/') --n;
      if (n > 0) --n;
      continue;
    }
    out[n++] = '/';
    const size_t len = strlen(part);
    memcpy(out + n, part, len);
    n += len;
  }
  if (n == 0) out[n++] = '/';
  out[n] = '\0';
  free(whole);
  return out;
}

/* Whether `name` runs as a command: a path with a slash that is an
 * executable file, or a name found so in PATH (as `command -v`). */
static int IsCommand(const char* name) {
  if (strchr(name, '/') != NULL) return access(name, X_OK) == 0;
  const char* path = getenv("PATH");
  if (path == NULL) path = "/usr/local/bin:/usr/bin:/bin";
  char* dirs = Join(path, "", "");
  int found = 0;
  for (char* d = dirs; !found;) {
    char* colon = strchr(d, ':');
    if (colon != NULL) *colon = '\0';
    char* candidate = Join(*d != '\0' ? d : ".", "/", name);
    found = access(candidate, X_OK) == 0;
    free(candidate);
    if (colon == NULL) break;
    d = colon + 1;
  }
  free(dirs);
  return found;
}

/* The library next to this executable: its directory + SEALPOOL_RUN_LIB. */
static char* DefaultLibrary(void) {
  char* self = realpath("/proc/self/exe", NULL);
  if (self == NULL) return Join(SEALPOOL_RUN_LIB, "", "");
  char* slash = strrchr(self, '/');
  if (slash != NULL) *slash = '\0';
  char* lib = Join(self, "/", SEALPOOL_RUN_LIB);
  free(self);
  return lib;
}

int main(int argc, char** argv) {
  const char* env_lib = getenv("SEALPOOL_MALLOC_LIB");
  char* lib = env_lib != NULL && env_lib[0] != '\0' ? Join(env_lib, "", "") : DefaultLibrary();
  const char* tmp = getenv("TMPDIR");
  char pid[32];
  snprintf(pid, sizeof(pid), "%ld", (long)getpid());
  char* pidfile = Join("/sealpool-run.", pid, ".jsonl");
  char* log = Join(tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", pidfile, "");
  const char* opts[kMaxOptions];
  int nopts = 0;
  int i = 1;
  for (; i < argc; ++i) {
    const char* a = argv[i];
    const char* opt = NULL;
    if (strcmp(a, "--mode=abort") == 0 || strcmp(a, "--mode=report") == 0) {
      opt = Join("mode=", a + strlen("--mode="), "");
    } else if (StartsWith(a, "--mode=")) {
      Die("--mode takes abort or report, not '%s'", a + strlen("--mode="));
    } else if (StartsWith(a, "--log=") && a[strlen("--log=")] != '\0') {
      log = Join(a + strlen("--log="), "", "");
    } else if (strcmp(a, "--no-log") == 0) {
      log = Join("", "", "");
    } else if (strcmp(a, "--stats") == 0) {
      opt = "print_stats=1";
    } else if (StartsWith(a, "--pools=")) {
      const char* v = a + strlen("--pools=");
      const size_t digits = strspn(v, "0123456789");
      const unsigned long n = digits > 0 && digits <= 3 && v[digits] == '\0' ? strtoul(v, NULL, 10) : 0;
      if (n < 1 || n > 64) Die("--pools takes 1 to 64, not '%s'", v);
      opt = Join("heap_pools=", v, "");
    } else if (strcmp(a, "--no-sites") == 0) {
      opt = "alloc_sites=0";
    } else if (strcmp(a, "--no-check") == 0) {
      opt = "check_libc=0";
    } else if (StartsWith(a, "--options=")) {
      if (a[strlen("--options=")] != '\0') opt = a + strlen("--options=");
    } else if (StartsWith(a, "--lib=") && a[strlen("--lib=")] != '\0') {
      lib = Join(a + strlen("--lib="), "", "");
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(kManual, stdout);
      return 0;
    } else if (strcmp(a, "--") == 0) {
      ++i;
      break;
    } else if (a[0] == '-') {
      Die("unknown option '%s'", a);
    } else {
      break;
    }
    if (opt != NULL) {
      if (nopts == kMaxOptions) Die("more than %d options", kMaxOptions);
      opts[nopts++] = opt;
    }
  }
  if (i >= argc) Die("no program to run");
  /* Children may change directory: both paths are made absolute.
   * LD_PRELOAD splits at ':' and white space, SEALPOOL_OPTIONS at ':'. */
  lib = Absolute(lib);
  if (strpbrk(lib, ": \t\n\v\f\r") != NULL) {
    Die("the library path must not contain ':' or white space: '%s'", lib);
  }
  if (log[0] != '\0') log = Absolute(log);
  if (access(lib, R_OK) != 0) {
    fprintf(stderr,
            "sealpool-run: cannot find libsealpool_malloc.so (looked for '%s'; set --lib or "
            "SEALPOOL_MALLOC_LIB)\n",
            lib);
    return 127;
  }
  if (!IsCommand(argv[i])) {
    fprintf(stderr, "sealpool-run: %s: command not found\n", argv[i]);
    return 127;
  }
  if (strchr(log, ':') != NULL) {
    Die("the log path must not contain ':' (it goes into SEALPOOL_OPTIONS)");
  }
  if (log[0] != '\0') {
    fprintf(stderr, "sealpool-run: reports go to stderr and, as JSON lines, to %s\n", log);
  } else {
    fputs("sealpool-run: reports go to stderr\n", stderr);
  }
  /* log_path first (also over one SEALPOOL_OPTIONS names), then ours. */
  const char* old = getenv("SEALPOOL_OPTIONS");
  char* options = Join(old != NULL && old[0] != '\0' ? old : "",
                       old != NULL && old[0] != '\0' ? ":" : "", "log_path=");
  options = Join(options, log, "");
  for (int k = 0; k < nopts; ++k) options = Join(options, ":", opts[k]);
  const char* preload = getenv("LD_PRELOAD");
  char* ld = Join(lib, preload != NULL && preload[0] != '\0' ? ":" : "",
                  preload != NULL ? preload : "");
  if (setenv("SEALPOOL_OPTIONS", options, 1) != 0 || setenv("LD_PRELOAD", ld, 1) != 0) {
    fprintf(stderr, "sealpool-run: cannot set the environment: %s\n", strerror(errno));
    return 2;
  }
  execvp(argv[i], &argv[i]);
  fprintf(stderr, "sealpool-run: %s: %s\n", argv[i], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
