// sealpool — the calling thread's stack bounds, cached per thread.

#ifndef SEALPOOL_BOUNDSCHECK_INTERNAL_STACK_H_
#define SEALPOOL_BOUNDSCHECK_INTERNAL_STACK_H_

#include <cstdint>

namespace sealpool {
namespace boundscheck_internal {

struct StackBounds {
  uintptr_t lo = 0;  // lowest address of the stack mapping
  uintptr_t hi = 0;  // one past the highest
};

// Hot path after the first call on a thread: a TLS read. The first call
// asks pthread_getattr_np(). Returns lo == hi == 0 when unknown.
const StackBounds& ThreadStack();

}  // namespace boundscheck_internal
}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_INTERNAL_STACK_H_
