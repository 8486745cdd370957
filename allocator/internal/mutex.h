// sealpool — the allocator's mutex.
//
// A plain pthread mutex (through std::mutex) with Abseil's thread-safety
// annotations. sealpool does not use absl::Mutex inside the allocator:
// Debian's Abseil is built without ThreadSanitizer annotations, so TSan
// cannot see its lock edges, and its deadlock detector allocates on the
// locking path. Locks here guard slow paths only. A held Mutex counts as
// internal code on its thread (reentry.h).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_MUTEX_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "allocator/internal/reentry.h"

namespace sealpool {
namespace internal {

class ABSL_LOCKABLE Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.lock();
    ++tls_internal_depth;
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    --tls_internal_depth;
    mu_.unlock();
  }

 private:
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_MUTEX_H_
