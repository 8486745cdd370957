// sealpool — internal invariant checks (error tier 3).
//
// SEALPOOL_CHECK(cond, msg) is always on: a broken invariant of sealpool's
// own code (not of the caller's) writes one line and aborts. SEALPOOL_DCHECK
// is compiled only in debug builds but still type-checks its expression.
// Neither allocates.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_CHECK_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_CHECK_H_

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"

namespace sealpool {
namespace internal {

// Writes "sealpool: internal check failed: <file>:<line>: <msg>" to stderr
// with write(2) and aborts.
[[noreturn]] ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE void CheckFailed(
    const char* file, int line, const char* msg);

}  // namespace internal
}  // namespace sealpool

#define SEALPOOL_CHECK(cond, msg)                                   \
  do {                                                              \
    if (ABSL_PREDICT_FALSE(!(cond)))                                \
      ::sealpool::internal::CheckFailed(__FILE__, __LINE__, (msg)); \
  } while (0)

#ifdef NDEBUG
#define SEALPOOL_DCHECK(cond, msg)  \
  do {                              \
    if (false) {                    \
      (void)(cond);                 \
      (void)(msg);                  \
    }                               \
  } while (0)
#else
#define SEALPOOL_DCHECK(cond, msg) SEALPOOL_CHECK(cond, msg)
#endif

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_CHECK_H_
