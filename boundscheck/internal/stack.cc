// sealpool — thread stack bounds.

#include "boundscheck/internal/stack.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace sealpool {
namespace boundscheck_internal {
__thread TlsStack tls_stack __attribute__((tls_model("initial-exec")));

namespace {

// The end of the mapping that holds `addr` (from /proc/self/maps), or 0.
uintptr_t MappingEnd(uintptr_t addr) {
  const int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  size_t have = 0;
  uintptr_t end = 0;
  for (;;) {
    const ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    buf[have] = '\0';
    char* line = buf;
    char* nl;
    while ((nl = strchr(line, '\n')) != nullptr) {
      *nl = '\0';
      char* dash = nullptr;
      const uintptr_t lo = strtoull(line, &dash, 16);
      if (dash != nullptr && *dash == '-') {
        const uintptr_t hi = strtoull(dash + 1, nullptr, 16);
        if (addr >= lo && addr < hi) end = hi;
      }
      line = nl + 1;
    }
    have = static_cast<size_t>(buf + have - line);
    memmove(buf, line, have);
    if (end != 0 || have == sizeof(buf) - 1) break;
  }
  close(fd);
  return end;
}

void Compute(TlsStack* s) {
  pthread_attr_t attr;
  void* addr = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      s->bounds.lo = reinterpret_cast<uintptr_t>(addr);
      s->bounds.hi = s->bounds.lo + size;
    }
    pthread_attr_destroy(&attr);
  }
  // The main thread's stack as glibc gives it ends at the page above
  // __libc_stack_end; the process's arguments, environment and auxiliary
  // vector lie above that, in the same mapping, and are copied from by
  // programs (setproctitle, getenv users). The whole mapping is the stack.
  if (s->bounds.hi != 0 && getpid() == static_cast<pid_t>(syscall(SYS_gettid))) {
    const uintptr_t end = MappingEnd(s->bounds.hi - 1);
    if (end > s->bounds.hi) s->bounds.hi = end;
  }
  s->known = true;
}

}  // namespace

const StackBounds& ComputeThreadStack() {
  TlsStack* s = &tls_stack;
  if (!s->known) Compute(s);
  return s->bounds;
}

}  // namespace boundscheck_internal
}  // namespace sealpool
