// sealpool — four Abseil internals, defined here for libsealpool_malloc.so.
//
// Debian's static libabsl_base.a compiles sysinfo.cc with local-exec TLS
// (GetCachedTID's per-thread cache), which no shared object may contain,
// and the Abseil code sealpool links (SpinLock, via absl::Status's Cord and
// absl::Symbolize's LowLevelAlloc) needs that object only for these
// functions. Defining them here keeps it out of the link. Same contracts
// as Abseil's (absl/base/internal/sysinfo.h): the CPU count and nominal
// frequency feed SpinLock's adaptive spinning and the cycle clock only.
// The namespace is Debian's Abseil build's (20220623); another Abseil
// release fails to link here rather than silently mixing definitions.

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace absl {
namespace debian3 {
namespace base_internal {

using pid_t = ::pid_t;

int NumCPUs() {
  static const int n = [] {
    const long v = sysconf(_SC_NPROCESSORS_ONLN);
    return v > 0 ? static_cast<int>(v) : 1;
  }();
  return n;
}

// Abseil's own returns the TSC frequency where it can find it; only the
// cycle clock's unit conversion uses it, which sealpool never calls.
double NominalCPUFrequency() { return 1.0; }

pid_t GetTID() { return static_cast<pid_t>(syscall(SYS_gettid)); }

pid_t GetCachedTID() { return GetTID(); }

}  // namespace base_internal
}  // namespace debian3
}  // namespace absl
