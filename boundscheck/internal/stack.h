// sealpool — the calling thread's stack bounds, cached per thread.

#ifndef SEALPOOL_BOUNDSCHECK_INTERNAL_STACK_H_
#define SEALPOOL_BOUNDSCHECK_INTERNAL_STACK_H_

#include <cstdint>

namespace sealpool {
namespace boundscheck_internal {

// Plain data (no initializers), so that the TLS variable below is a GNU
// __thread one: C++'s extern thread_local would make every access from
// another file call its initialization wrapper first.
struct StackBounds {
  uintptr_t lo;  // lowest address of the stack mapping
  uintptr_t hi;  // one past the highest
};

struct TlsStack {
  StackBounds bounds;
  bool known;
};
extern __thread TlsStack tls_stack __attribute__((tls_model("initial-exec")));

// Asks pthread_getattr_np() for the calling thread's stack.
const StackBounds& ComputeThreadStack();

// Hot path after the first call on a thread: a TLS read. Returns
// lo == hi == 0 when unknown.
inline const StackBounds& ThreadStack() {
  if (__builtin_expect(tls_stack.known, 1)) return tls_stack.bounds;
  return ComputeThreadStack();
}

}  // namespace boundscheck_internal
}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_INTERNAL_STACK_H_
