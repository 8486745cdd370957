// sealpool — thread stack bounds.

#include "boundscheck/internal/stack.h"

#include <pthread.h>

namespace sealpool {
namespace boundscheck_internal {
thread_local TlsStack tls_stack __attribute__((tls_model("initial-exec")));

namespace {

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
