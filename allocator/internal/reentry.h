// sealpool — knowing when the allocator itself is running on this thread.
//
// Whole-program mode (allocator/malloc/) is the process's malloc, so any
// allocation the allocator makes for itself — a container grown under a
// pool mutex, a thread cache, a report's symbolizer — would otherwise come
// back into the pools it is in the middle of changing. Every internal
// Mutex held, and every InternalScope, counts on the calling thread;
// while the count is not zero, whole-program malloc serves the thread from
// its internal heap instead (allocator/malloc/meta_heap.h). In a program
// that links sealpool as a library the count is kept and never read.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_REENTRY_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_REENTRY_H_

namespace sealpool {
namespace internal {

// Initial-exec: usable from a preloaded shared object without
// __tls_get_addr (which may itself allocate).
extern __thread int tls_internal_depth __attribute__((tls_model("initial-exec")));

inline bool InInternalCode() { return tls_internal_depth != 0; }

class InternalScope {
 public:
  InternalScope() { ++tls_internal_depth; }
  ~InternalScope() { --tls_internal_depth; }
  InternalScope(const InternalScope&) = delete;
  InternalScope& operator=(const InternalScope&) = delete;
};

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_REENTRY_H_
