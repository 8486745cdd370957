// A program for whole-program mode's tests (whole_program_test.cc), run
// with libsealpool_malloc.so preloaded: `probe CASE`. Each case prints what
// it observed (one line each, "name: value"), and exits 0 when every
// expectation it checks itself holds, 1 otherwise. Cases that plant a bug
// are asserted by the test from the report and the exit status.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

static int failures;

#define EXPECT(cond)                                                   \
  do {                                                                 \
    if (!(cond)) {                                                     \
      printf("FAILED: %s (line %d, errno %d)\n", #cond, __LINE__, errno); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

static int Aligned(const void* p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

// Keep the compiler from seeing through the allocation functions.
static void* volatile sink;
static volatile size_t huge = SIZE_MAX / 2;
static volatile size_t max_size = SIZE_MAX;

static int Api(void) {
  void* a = malloc(0);
  void* b = malloc(0);
  EXPECT(a != NULL && b != NULL && a != b);
  free(a);
  free(b);
  char* p = malloc(37);
  EXPECT(p != NULL && malloc_usable_size(p) == 37 && Aligned(p, 16));
  free(p);
  EXPECT(malloc_usable_size(NULL) == 0);
  errno = 0;
  EXPECT(calloc(huge, 4) == NULL && errno == ENOMEM);
  unsigned char* z = calloc(100, 10);
  int zero = z != NULL;
  for (int i = 0; z != NULL && i < 1000; ++i) zero &= z[i] == 0;
  EXPECT(zero);
  free(z);
  errno = 0;
  EXPECT(reallocarray(NULL, huge, 4) == NULL && errno == ENOMEM);
  char* r = realloc(NULL, 10);
  EXPECT(r != NULL);
  memcpy(r, "0123456789", 10);
  r = realloc(r, 100000);
  EXPECT(r != NULL && memcmp(r, "0123456789", 10) == 0 && malloc_usable_size(r) == 100000);
  r = realloc(r, 4);
  EXPECT(r != NULL && memcmp(r, "0123", 4) == 0 && malloc_usable_size(r) == 4);
  EXPECT(realloc(r, 0) == NULL);  // glibc: frees, returns NULL
  void* m = NULL;
  EXPECT(posix_memalign(&m, 3, 10) == EINVAL && m == NULL);
  EXPECT(posix_memalign(&m, 64, 100) == 0 && Aligned(m, 64));
  free(m);
  EXPECT(posix_memalign(&m, 8192, 100) == 0 && Aligned(m, 8192));
  free(m);
  void* al = aligned_alloc(4096, 4096);
  EXPECT(al != NULL && Aligned(al, 4096));
  free(al);
  void* a3 = aligned_alloc(3, 10);  // glibc 2.36: rounded up to 4
  EXPECT(a3 != NULL && Aligned(a3, 4));
  free(a3);
  void* ma = memalign(24, 10);  // rounded up to 32, as glibc does
  EXPECT(ma != NULL && Aligned(ma, 32));
  free(ma);
  void* va = valloc(10);
  EXPECT(va != NULL && Aligned(va, 4096));
  free(va);
  void* pv = pvalloc(1);
  EXPECT(pv != NULL && Aligned(pv, 4096) && malloc_usable_size(pv) == 4096);
  free(pv);
  void* big = malloc((size_t)1 << 30);
  EXPECT(big != NULL);
  free(big);
  errno = 0;
  sink = malloc(max_size);
  EXPECT(sink == NULL && errno == ENOMEM);
  char* live = malloc(5000);
  struct mallinfo2 mi = mallinfo2();
  EXPECT(mi.uordblks >= 5000 && mi.arena >= mi.uordblks);
  free(live);
  EXPECT(malloc_trim(0) == 0);
  EXPECT(mallopt(M_ARENA_MAX, 1) == 1);
  free(NULL);
  printf("api: %s\n", failures == 0 ? "ok" : "failed");
  return failures != 0;
}

// Threads that allocate, hand half their objects to the next thread to
// free, and exit; the main thread then allocates again.
#define kThreads 4
#define kRounds 20000
static void* volatile handoff[kThreads][64];

static void* Worker(void* arg) {
  const int id = (int)(intptr_t)arg;
  unsigned seed = (unsigned)id * 2654435761u;
  for (int i = 0; i < kRounds; ++i) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = 1 + (seed >> 8) % 3000;
    char* p = malloc(n);
    if (p == NULL) return (void*)1;
    memset(p, id, n);
    const int slot = (int)((seed >> 4) % 64);
    void* old = __atomic_exchange_n(&handoff[(id + 1) % kThreads][slot], p, __ATOMIC_ACQ_REL);
    free(old);
  }
  return NULL;
}

static int Threads(void) {
  pthread_t t[kThreads];
  for (int round = 0; round < 3; ++round) {
    for (intptr_t i = 0; i < kThreads; ++i) pthread_create(&t[i], NULL, Worker, (void*)i);
    for (int i = 0; i < kThreads; ++i) {
      void* rc = NULL;
      pthread_join(t[i], &rc);
      EXPECT(rc == NULL);
    }
  }
  for (int i = 0; i < kThreads; ++i) {
    for (int s = 0; s < 64; ++s) free(handoff[i][s]);
  }
  char* after = malloc(100);
  EXPECT(after != NULL);
  free(after);
  printf("threads: %s\n", failures == 0 ? "ok" : "failed");
  return failures != 0;
}

static volatile int stop_churn;
static void* Churn(void* arg) {
  (void)arg;
  while (!stop_churn) {
    void* p = malloc(200);
    sink = p;
    free(p);
  }
  return NULL;
}

// fork() while other threads allocate: the child's heap works.
static int Fork(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; ++i) pthread_create(&t[i], NULL, Churn, NULL);
  char* kept = strdup("parent data");
  for (int i = 0; i < 20; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      int ok = strcmp(kept, "parent data") == 0;
      free(kept);
      for (int k = 0; k < 1000; ++k) {
        void* p = malloc((size_t)k * 7 + 1);
        ok &= p != NULL;
        free(p);
      }
      _exit(ok ? 0 : 3);
    }
    int status = 0;
    EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0);
  }
  stop_churn = 1;
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  free(kept);
  printf("fork: %s\n", failures == 0 ? "ok" : "failed");
  return failures != 0;
}

// Every checked call with exactly the right lengths: data arrives intact.
static int LegalIo(void) {
  int sv[2];
  EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  char* out = malloc(64);
  char* in = malloc(64);
  for (int i = 0; i < 64; ++i) out[i] = (char)('a' + i % 26);
  EXPECT(write(sv[0], out, 64) == 64 && read(sv[1], in, 64) == 64 && memcmp(in, out, 64) == 0);
  memset(in, 0, 64);
  EXPECT(send(sv[0], out, 64, 0) == 64 && recv(sv[1], in, 64, 0) == 64 && memcmp(in, out, 64) == 0);
  memset(in, 0, 64);
  EXPECT(sendto(sv[0], out, 64, 0, NULL, 0) == 64 &&
         recvfrom(sv[1], in, 64, 0, NULL, NULL) == 64 && memcmp(in, out, 64) == 0);
  struct iovec wv[2] = {{out, 32}, {out + 32, 32}};
  struct iovec rv[2] = {{in, 40}, {in + 40, 24}};
  memset(in, 0, 64);
  EXPECT(writev(sv[0], wv, 2) == 64 && readv(sv[1], rv, 2) == 64 && memcmp(in, out, 64) == 0);
  struct msghdr wm = {0}, rm = {0};
  wm.msg_iov = wv;
  wm.msg_iovlen = 2;
  rm.msg_iov = rv;
  rm.msg_iovlen = 2;
  memset(in, 0, 64);
  EXPECT(sendmsg(sv[0], &wm, 0) == 64 && recvmsg(sv[1], &rm, 0) == 64 && memcmp(in, out, 64) == 0);
  char path[] = "/tmp/sealpool-probe-XXXXXX";
  int fd = mkstemp(path);
  EXPECT(fd >= 0 && pwrite(fd, out, 64, 0) == 64);
  memset(in, 0, 64);
  EXPECT(pread(fd, in, 64, 0) == 64 && memcmp(in, out, 64) == 0);
  FILE* f = fdopen(fd, "w+");
  EXPECT(f != NULL && fwrite(out, 1, 64, f) == 64 && fputc('\n', f) != EOF && fflush(f) == 0);
  rewind(f);
  memset(in, 0, 64);
  EXPECT(fread(in, 1, 64, f) == 64 && memcmp(in, out, 64) == 0);
  rewind(f);
  EXPECT(fgets(in, 64, f) == in && strlen(in) == 63);
  fclose(f);
  unlink(path);
  char* s = malloc(16);
  strcpy(s, "fifteen chars!!");
  EXPECT(strlen(s) == 15);
  EXPECT(snprintf(s, 16, "%d-%s", 42, "abcdefghijkl") == 15 && strcmp(s, "42-abcdefghijkl") == 0);
  memcpy(in, out, 64);
  memmove(in + 1, in, 63);
  memset(in, 'x', 64);
  EXPECT(in[63] == 'x');
  free(s);
  free(in);
  free(out);
  printf("legal-io: %s\n", failures == 0 ? "ok" : "failed");
  return failures != 0;
}

// Heartbleed's shape: a 64-byte record, a peer-claimed length of 4096.
__attribute__((noinline)) static char* MakeRecord(void) {
  char* r = malloc(64);
  memset(r, 'R', 64);
  return r;
}

static int Overread(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  char* rec = MakeRecord();
  errno = 0;
  const ssize_t w = write(sv[0], rec, 4096);
  printf("write: %zd errno %d\n", w, errno);
  char buf[16];
  const ssize_t got = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
  printf("peer received: %zd\n", got);
  return 0;
}

__attribute__((noinline)) static char* MakeSmallBuffer(void) { return malloc(32); }

static int ShortRead(void) {
  int p[2];
  pipe(p);
  char data[256];
  memset(data, 'D', sizeof(data));
  write(p[1], data, sizeof(data));
  char* buf = MakeSmallBuffer();
  char* next = malloc(32);
  memset(next, 'N', 32);
  errno = 0;
  const ssize_t r = read(p[0], buf, 256);
  int intact = 1;
  for (int i = 0; i < 32; ++i) intact &= next[i] == 'N';
  printf("read: %zd errno %d\nneighbour intact: %d\n", r, errno, intact);
  return 0;
}

__attribute__((noinline)) static char* MakeName(void) { return malloc(16); }

static int StrcpyOverflow(void) {
  char src[101];
  memset(src, 'S', 100);
  src[100] = '\0';
  char* name = MakeName();
  name[0] = '\0';
  strcpy(name, src);
  printf("name length: %zu\n", strlen(name));
  return 0;
}

__attribute__((noinline)) static char* MakeBig(void) { return malloc(4096); }

static int ReallocStale(int into) {
  char* b = MakeBig();
  memset(b, 'B', 4096);
  char* small = realloc(b, 64);
  static char other[4096];
  if (into) {
    memcpy(small, other, 4096);  // stale length, into the shrunk object
  } else {
    memcpy(other, small, 4096);  // stale length, out of it
  }
  printf("other[100]: %d\n", other[100]);
  return 0;
}

static int UseAfterFree(void) {
  char* p = malloc(100);
  free(p);
  char buf[100];
  memcpy(buf, p, 100);
  return 0;
}

/* The second free is reported both ways a free can run: while the process
 * has one thread (a plain load and store of the slot state) and after it
 * has had two (a compare-and-swap). */
static void* Nothing(void* arg) { return arg; }
static int DoubleFree(int threaded) {
  if (threaded) {
    pthread_t t;
    if (pthread_create(&t, NULL, Nothing, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
  }
  fprintf(stderr, "single-threaded: %d\n", __libc_single_threaded);
  char* p = malloc(100);
  free(p);
  free(p);
  return 0;
}

void* __memcpy_chk(void* d, const void* s, size_t n, size_t dl);
void* __memmove_chk(void* d, const void* s, size_t n, size_t dl);
void* __memset_chk(void* d, int c, size_t n, size_t dl);
void* __mempcpy_chk(void* d, const void* s, size_t n, size_t dl);
char* __strcpy_chk(char* d, const char* s, size_t dl);
char* __stpcpy_chk(char* d, const char* s, size_t dl);
char* __strncpy_chk(char* d, const char* s, size_t n, size_t dl);
char* __stpncpy_chk(char* d, const char* s, size_t n, size_t dl);
char* __strcat_chk(char* d, const char* s, size_t dl);
char* __strncat_chk(char* d, const char* s, size_t n, size_t dl);
wchar_t* __wmemcpy_chk(wchar_t* d, const wchar_t* s, size_t n, size_t dl);
wchar_t* __wmemmove_chk(wchar_t* d, const wchar_t* s, size_t n, size_t dl);
wchar_t* __wmemset_chk(wchar_t* d, wchar_t c, size_t n, size_t dl);
int __snprintf_chk(char* d, size_t n, int flag, size_t dl, const char* f, ...);
ssize_t __read_chk(int fd, void* buf, size_t n, size_t bl);
ssize_t __pread_chk(int fd, void* buf, size_t n, off_t off, size_t bl);
ssize_t __recv_chk(int fd, void* buf, size_t n, size_t bl, int flags);
ssize_t __recvfrom_chk(int fd, void* buf, size_t n, size_t bl, int flags,
                       struct sockaddr* addr, socklen_t* addrlen);
size_t __fread_chk(void* buf, size_t bl, size_t size, size_t n, FILE* fp);

static char g_fortify_small[8];

// The _FORTIFY_SOURCE entry points with the compiler's size: 0 a stack
// buffer, 2 a global, 3 a stack strcpy — each 8 bytes, given 16 — and 1 a
// heap object whose size the compiler did not know; 4 the legal
// neighbours (exactly 8 bytes). Prints whether the 8 bytes kept their
// 's' filling (report mode: the refused calls wrote nothing).
static int Fortify(int which) {
  char src[100] = {0};
  char small[8];
  memset(small, 's', sizeof(small));
  memset(g_fortify_small, 's', sizeof(g_fortify_small));
  const char* dst = small;
  switch (which) {
    case 0:
      __memcpy_chk(small, src, 16, sizeof(small));
      break;
    case 1:
      __memcpy_chk(MakeRecord(), src, 100, (size_t)-1);
      break;
    case 2:
      __memcpy_chk(g_fortify_small, src, 16, sizeof(g_fortify_small));
      dst = g_fortify_small;
      break;
    case 3:
      __strcpy_chk(small, "0123456789", sizeof(small));
      break;
    default:
      __memcpy_chk(small, "01234567", 8, sizeof(small));
      __strcpy_chk(g_fortify_small, "0123456", sizeof(g_fortify_small));
      printf("legal: %d %d\n", memcmp(small, "01234567", 8) == 0,
             strcmp(g_fortify_small, "0123456") == 0);
      return 0;
  }
  int intact = 1;
  for (int i = 0; i < 8; ++i) intact &= dst[i] == 's';
  printf("intact: %d\n", intact);
  return 0;
}

// Every _FORTIFY_SOURCE entry point with a compiler size of 8 bytes (2
// wide characters): `extra` 1 asks each for one byte (character) more
// than that, which must be refused (report mode) with the buffer
// untouched; `extra` 0 asks for exactly 8, the legal neighbour, which must
// do the call's work. Prints one line per call: "NAME: ok" when it did
// what was expected, "NAME: WRONG" otherwise.
static void FortifyOne(const char* name, int ok) {
  printf("%s: %s\n", name, ok ? "ok" : "WRONG");
}

static int FortifyEach(size_t extra) {
  const int refusing = extra != 0;
  const size_t n = 8 + extra;
  char src[32];
  memset(src, 'q', sizeof(src));
  src[31] = '\0';
  char b[8];
  wchar_t wsrc[4] = {L'w', L'w', L'w', L'w'};
  wchar_t wb[2];
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  FILE* f = tmpfile();
  if (f == NULL) return 1;
  fwrite(src, 1, sizeof(src), f);
  fflush(f);
#define SEALPOOL_FILL() memset(b, 's', sizeof(b))
#define SEALPOOL_KEPT() (memcmp(b, "ssssssss", 8) == 0)
#define SEALPOOL_COPIED() (memcmp(b, "qqqqqqqq", 8) == 0)
#define SEALPOOL_MEM(name, call)                                          \
  do {                                                                    \
    SEALPOOL_FILL();                                                      \
    call;                                                                 \
    FortifyOne(name, refusing ? SEALPOOL_KEPT() : SEALPOOL_COPIED());     \
  } while (0)
  SEALPOOL_MEM("memcpy", __memcpy_chk(b, src, n, sizeof(b)));
  SEALPOOL_MEM("memmove", __memmove_chk(b, src, n, sizeof(b)));
  SEALPOOL_MEM("memset", __memset_chk(b, 'q', n, sizeof(b)));
  SEALPOOL_MEM("mempcpy", __mempcpy_chk(b, src, n, sizeof(b)));
  SEALPOOL_MEM("strncpy", __strncpy_chk(b, src, n, sizeof(b)));
  SEALPOOL_MEM("stpncpy", __stpncpy_chk(b, src, n, sizeof(b)));
  /* The string copies: 7 or 8 characters and the NUL. */
  const char* text = src + sizeof(src) - 1 - (7 + extra);
  SEALPOOL_FILL();
  __strcpy_chk(b, text, sizeof(b));
  FortifyOne("strcpy", refusing ? SEALPOOL_KEPT() : strcmp(b, text) == 0);
  SEALPOOL_FILL();
  __stpcpy_chk(b, text, sizeof(b));
  FortifyOne("stpcpy", refusing ? SEALPOOL_KEPT() : strcmp(b, text) == 0);
  strcpy(b, "abc");
  __strcat_chk(b, text + 3, sizeof(b));
  FortifyOne("strcat", refusing ? strcmp(b, "abc") == 0 : strlen(b) == 7);
  strcpy(b, "abc");
  __strncat_chk(b, text + 3, 4 + extra, sizeof(b));
  FortifyOne("strncat", refusing ? strcmp(b, "abc") == 0 : strlen(b) == 7);
  wb[0] = wb[1] = L's';
  __wmemcpy_chk(wb, wsrc, 2 + extra, 2);
  FortifyOne("wmemcpy", refusing ? wb[0] == L's' && wb[1] == L's'
                                 : wb[0] == L'w' && wb[1] == L'w');
  wb[0] = wb[1] = L's';
  __wmemmove_chk(wb, wsrc, 2 + extra, 2);
  FortifyOne("wmemmove", refusing ? wb[0] == L's' && wb[1] == L's'
                                  : wb[0] == L'w' && wb[1] == L'w');
  wb[0] = wb[1] = L's';
  __wmemset_chk(wb, L'w', 2 + extra, 2);
  FortifyOne("wmemset", refusing ? wb[0] == L's' && wb[1] == L's'
                                 : wb[0] == L'w' && wb[1] == L'w');
  SEALPOOL_FILL();
  const int r = __snprintf_chk(b, n, 1, sizeof(b), "%s", "xy");
  FortifyOne("snprintf", refusing ? r == -1 && errno == EFAULT && SEALPOOL_KEPT()
                                  : r == 2 && strcmp(b, "xy") == 0);
  /* Data flowing in: refused with EFAULT, nothing read. */
#define SEALPOOL_IN(name, call)                                            \
  do {                                                                     \
    SEALPOOL_FILL();                                                       \
    errno = 0;                                                             \
    const ssize_t got = (call);                                            \
    FortifyOne(name, refusing ? got == -1 && errno == EFAULT && SEALPOOL_KEPT() \
                              : got == 8 && SEALPOOL_COPIED());            \
  } while (0)
  (void)!write(sv[0], src, 24);  /* 8 bytes for each of the three */
  SEALPOOL_IN("read", __read_chk(sv[1], b, n, sizeof(b)));
  SEALPOOL_IN("recv", __recv_chk(sv[1], b, n, sizeof(b), MSG_DONTWAIT));
  SEALPOOL_IN("recvfrom",
              __recvfrom_chk(sv[1], b, n, sizeof(b), MSG_DONTWAIT, NULL, NULL));
  SEALPOOL_IN("pread", __pread_chk(fileno(f), b, n, 0, sizeof(b)));
  SEALPOOL_FILL();
  rewind(f);
  const size_t items = __fread_chk(b, sizeof(b), 1, n, f);
  FortifyOne("fread", refusing ? items == 0 && SEALPOOL_KEPT()
                               : items == 8 && SEALPOOL_COPIED());
#undef SEALPOOL_IN
#undef SEALPOOL_MEM
#undef SEALPOOL_COPIED
#undef SEALPOOL_KEPT
#undef SEALPOOL_FILL
  fclose(f);
  close(sv[0]);
  close(sv[1]);
  return 0;
}

// coreutils' close_stdout: an exit handler that closes stderr, run before
// sealpool's (registered later, so earlier in exit's order).
static void CloseStderr(void) { fclose(stderr); }

static int ClosesStderrAtExit(void) {
  sink = malloc(10);
  atexit(CloseStderr);
  return 0;
}

// Report mode: every checked entry point, given a heap buffer one byte too
// short (or a source one byte too long), is refused without reaching libc.
// Prints one "NAME: refused" or "NAME: PASSED THROUGH" line each; the test
// counts the reports. The legal neighbours are legal-io's.
static int RefuseEach(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  char* obj = MakeRecord();  // 64 bytes
  char* text = malloc(16);
  memcpy(text, "0123456789abcde", 16);
  char stack[128] = {0};
  FILE* f = tmpfile();
  fputs("a line of text long enough\n", f);
  rewind(f);
  struct iovec v = {obj, 65};
  struct msghdr m = {0};
  m.msg_iov = &v;
  m.msg_iovlen = 1;
#define REFUSED_IO(name, call) \
  do {                                                                       \
    errno = 0;                                                               \
    const long r = (long)(call);                                             \
    printf("%s: %s\n", name, (r == -1 && errno == EFAULT) ? "refused" : "PASSED THROUGH"); \
  } while (0)
  REFUSED_IO("read", read(sv[1], obj, 65));
  REFUSED_IO("pread", pread(fileno(f), obj, 65, 0));
  REFUSED_IO("readv", readv(sv[1], &v, 1));
  REFUSED_IO("recv", recv(sv[1], obj, 65, MSG_DONTWAIT));
  REFUSED_IO("recvfrom", recvfrom(sv[1], obj, 65, MSG_DONTWAIT, NULL, NULL));
  REFUSED_IO("recvmsg", recvmsg(sv[1], &m, MSG_DONTWAIT));
  REFUSED_IO("write", write(sv[0], obj, 65));
  REFUSED_IO("pwrite", pwrite(fileno(f), obj, 65, 0));
  REFUSED_IO("writev", writev(sv[0], &v, 1));
  REFUSED_IO("send", send(sv[0], obj, 65, 0));
  REFUSED_IO("sendto", sendto(sv[0], obj, 65, 0, NULL, 0));
  REFUSED_IO("sendmsg", sendmsg(sv[0], &m, 0));
  errno = 0;
  printf("fread: %s\n", fread(obj, 1, 65, f) == 0 && errno == EFAULT ? "refused" : "PASSED THROUGH");
  errno = 0;
  printf("fwrite: %s\n", fwrite(obj, 1, 65, f) == 0 && errno == EFAULT ? "refused" : "PASSED THROUGH");
  errno = 0;
  printf("fgets: %s\n", fgets(obj, 65, f) == NULL && errno == EFAULT ? "refused" : "PASSED THROUGH");
  // The memory and string functions: nothing past the object changes.
  char* after = malloc(64);
  memset(after, 'N', 64);
  memmove(obj, stack, 65);
  memset(obj, 'x', 65);
  strncpy(text, "0123456789abcdefg", 17);
  strcat(text, "z");
  snprintf(text, 17, "%s", "0123456789abcdefgh");
  wmemcpy((wchar_t*)text, (const wchar_t*)stack, 5);
  int intact = 1;
  for (int i = 0; i < 64; ++i) intact &= after[i] == 'N';
  printf("neighbour intact: %d\n", intact);
  fclose(f);
  return 0;
}

// The legal neighbour of fortify-heap: the compiler's size unknown, the
// heap object's exact size copied.
static int FortifyHeapLegal(void) {
  char src[64];
  memset(src, 'q', sizeof(src));
  char* heap = MakeRecord();
  __memcpy_chk(heap, src, 64, (size_t)-1);
  printf("copied: %d\n", heap[63] == 'q');
  return 0;
}

// A daemon's start-up: every descriptor above stderr closed, then files
// of its own opened (getting the lowest numbers, the log's among them);
// then a refused write (report mode). The program's file must not get the
// report's JSON line. Prints the file's size.
static int ClosesEveryDescriptor(void) {
  sink = malloc(10);  // the heap (and the log) start
  for (int fd = 3; fd < 1024; ++fd) close(fd);
  char path[] = "/tmp/sealpool-probe-own-XXXXXX";
  const int own = mkstemp(path);
  char* rec = MakeRecord();
  errno = 0;
  const ssize_t w = write(own, rec, 4096);  // refused: nothing reaches the file
  const off_t size = lseek(own, 0, SEEK_END);
  printf("write: %zd errno %d\nown file size: %lld\n", w, errno, (long long)size);
  close(own);
  unlink(path);
  return 0;
}

// The interposed memory functions do short copies themselves
// (allocator/malloc/small_copy.h) and hand longer ones to libc: every
// length from 0 to 300 at every alignment of each end, between heap
// objects, the stack and both, and memmove's overlaps in both directions,
// must give exactly what a byte loop gives.
static unsigned char Pattern(size_t i) { return (unsigned char)(i * 37 + 11); }

static int SameAs(const unsigned char* got, const unsigned char* want, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (got[i] != want[i]) return 0;
  }
  return 1;
}

enum { kRoom = 320 };

static int OneCopy(unsigned char* dst, const unsigned char* src, size_t n, int fn) {
  unsigned char want[kRoom + 16];
  for (size_t i = 0; i < kRoom; ++i) dst[i] = (unsigned char)~Pattern(i);
  for (size_t i = 0; i < kRoom; ++i) want[i] = dst[i];
  for (size_t i = 0; i < n; ++i) want[i] = fn == 4 ? 0xA5 : src[i];
  void* r = NULL;
  switch (fn) {
    case 0: r = memcpy(dst, src, n); break;
    case 1: r = memmove(dst, src, n); break;
    case 2: r = mempcpy(dst, src, n); break;
    case 3: bcopy(src, dst, n); r = dst; break;
    case 4: r = memset(dst, 0xA5, n); break;
  }
  const void* expect_r = fn == 2 ? (const void*)(dst + n) : (const void*)dst;
  return r == expect_r && SameAs(dst, want, kRoom);
}

static int OneOverlap(unsigned char* buf, size_t d, size_t s, size_t n) {
  unsigned char want[2 * kRoom];
  for (size_t i = 0; i < 2 * kRoom; ++i) buf[i] = want[i] = Pattern(i);
  unsigned char tmp[kRoom];
  for (size_t i = 0; i < n; ++i) tmp[i] = want[s + i];
  for (size_t i = 0; i < n; ++i) want[d + i] = tmp[i];
  memmove(buf + d, buf + s, n);
  return SameAs(buf, want, 2 * kRoom);
}

static int CopySizes(void) {
  unsigned char* heap_src = malloc(kRoom + 16);
  unsigned char* heap_dst = malloc(kRoom + 16);
  unsigned char* heap_both = malloc(2 * kRoom);
  unsigned char stack_src[kRoom + 16], stack_dst[kRoom + 16], stack_both[2 * kRoom];
  for (size_t i = 0; i < kRoom + 16; ++i) heap_src[i] = stack_src[i] = Pattern(i);
  unsigned char* srcs[2] = {heap_src, stack_src};
  unsigned char* dsts[2] = {heap_dst, stack_dst};
  long cases = 0, wrong = 0;
  for (int where = 0; where < 4; ++where) {
    for (int fn = 0; fn < 5; ++fn) {
      for (size_t n = 0; n <= 300; ++n) {
        for (size_t so = 0; so < 16; so += 3) {
          for (size_t dof = 0; dof < 16; dof += 5) {
            if (n + dof > kRoom || n + so > kRoom + 16) continue;
            ++cases;
            wrong += !OneCopy(dsts[where >> 1] + dof, srcs[where & 1] + so, n, fn);
          }
        }
      }
    }
  }
  for (int where = 0; where < 2; ++where) {
    unsigned char* buf = where ? stack_both : heap_both;
    for (size_t n = 0; n <= 300; ++n) {
      for (size_t shift = 1; shift <= 33 && shift + n <= 2 * kRoom; shift += 4) {
        cases += 2;
        wrong += !OneOverlap(buf, shift, 0, n);  // forward overlap
        wrong += !OneOverlap(buf, 0, shift, n);  // backward overlap
      }
    }
  }
  printf("copy cases: %ld wrong: %ld\n", cases, wrong);
  free(heap_src);
  free(heap_dst);
  free(heap_both);
  return wrong != 0;
}

// One byte past a heap object, at each short length the interposed
// functions copy themselves: refused (report mode), nothing written past
// the object; the exact length is copied.
static int ShortOverflows(void) {
  static const size_t sizes[] = {1, 2, 5, 8, 15, 16, 31, 48, 64, 100, 127};
  unsigned char src[256];
  memset(src, 'S', sizeof(src));
  int intact = 1, copied = 1;
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); ++k) {
    const size_t n = sizes[k];
    unsigned char* obj = malloc(n);
    unsigned char* next = malloc(n);
    memset(next, 'N', n);
    memset(obj, 'O', n);
    memcpy(obj, src, n + 1);
    memmove(obj, src, n + 1);
    memset(obj, 'x', n + 1);
    for (size_t i = 0; i < n; ++i) intact &= obj[i] == 'O' && next[i] == 'N';
    memcpy(obj, src, n);
    for (size_t i = 0; i < n; ++i) copied &= obj[i] == 'S';
    free(obj);
    free(next);
  }
  printf("short overflows: intact %d copied %d\n", intact, copied);
  return !(intact && copied);
}

// Heap shards: the main thread and a second one allocate at the same site,
// and each then copies one byte too many into its object (report mode).
// The two reports name the pool each object came from.
__attribute__((noinline)) static char* MakeShardObject(void) { return malloc(40); }

static void OverflowOwnObject(void) {
  char src[41] = {0};
  char* obj = MakeShardObject();
  memcpy(obj, src, sizeof(src));
  free(obj);
}

static void* ShardWorker(void* arg) {
  (void)arg;
  OverflowOwnObject();
  return NULL;
}

static int Shards(void) {
  OverflowOwnObject();
  pthread_t t;
  pthread_create(&t, NULL, ShardWorker, NULL);
  pthread_join(t, NULL);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* c = argv[1];
  setvbuf(stdout, NULL, _IONBF, 0);
  if (strcmp(c, "api") == 0) return Api();
  if (strcmp(c, "threads") == 0) return Threads();
  if (strcmp(c, "fork") == 0) return Fork();
  if (strcmp(c, "legal-io") == 0) return LegalIo();
  if (strcmp(c, "copy-sizes") == 0) return CopySizes();
  if (strcmp(c, "shards") == 0) return Shards();
  if (strcmp(c, "short-overflows") == 0) return ShortOverflows();
  if (strcmp(c, "overread") == 0) return Overread();
  if (strcmp(c, "short-read") == 0) return ShortRead();
  if (strcmp(c, "strcpy") == 0) return StrcpyOverflow();
  if (strcmp(c, "realloc-into") == 0) return ReallocStale(1);
  if (strcmp(c, "realloc-out") == 0) return ReallocStale(0);
  if (strcmp(c, "uaf") == 0) return UseAfterFree();
  if (strcmp(c, "double-free") == 0) return DoubleFree(0);
  if (strcmp(c, "double-free-threaded") == 0) return DoubleFree(1);
  if (strcmp(c, "close-stderr") == 0) return ClosesStderrAtExit();
  if (strcmp(c, "closefrom") == 0) return ClosesEveryDescriptor();
  if (strcmp(c, "refuse-each") == 0) return RefuseEach();
  if (strcmp(c, "fortify-heap-legal") == 0) return FortifyHeapLegal();
  if (strcmp(c, "fortify-stack") == 0) return Fortify(0);
  if (strcmp(c, "fortify-heap") == 0) return Fortify(1);
  if (strcmp(c, "fortify-global") == 0) return Fortify(2);
  if (strcmp(c, "fortify-strcpy") == 0) return Fortify(3);
  if (strcmp(c, "fortify-legal") == 0) return Fortify(4);
  if (strcmp(c, "fortify-each") == 0) return FortifyEach(1);
  if (strcmp(c, "fortify-each-legal") == 0) return FortifyEach(0);
  return 2;
}
