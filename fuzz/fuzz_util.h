// sealpool fuzzing — what the library fuzzers share: a finding reporter
// that stays visible when libFuzzer silences the target's stderr, and a
// violation recorder for report mode.
//
// The library fuzzers run sealpool in report mode, where every expected
// violation is also written to stderr. tools/fuzz.sh passes libFuzzer
// -close_fd_mask=2, which sends the target's stderr to /dev/null while
// libFuzzer's own lines and sanitizer reports go on to the real stderr;
// findings of the harness are written to a copy of stderr taken at start-up
// (before libFuzzer closes it), so they are seen either way.

#ifndef SEALPOOL_FUZZ_FUZZ_UTIL_H_
#define SEALPOOL_FUZZ_FUZZ_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "allocator/runtime_options.h"
#include "allocator/violation.h"

namespace sealpool_fuzz {

// The stream findings go to: a duplicate of stderr made by InitFuzzing().
inline int g_finding_fd = STDERR_FILENO;

// A finding: the library disagreed with the model, lost data, or broke an
// invariant. Writes one line and traps, so that libFuzzer saves the input.
[[noreturn]] __attribute__((format(printf, 1, 2))) inline void Finding(
    const char* format, ...) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof(buf), "sealpool fuzz finding: ");
  va_list args;
  va_start(args, format);
  const int m = std::vsnprintf(buf + n, sizeof(buf) - n - 1, format, args);
  va_end(args);
  n += m < 0 ? 0
             : (m >= static_cast<int>(sizeof(buf)) - n - 1
                    ? static_cast<int>(sizeof(buf)) - n - 2
                    : m);
  buf[n++] = '\n';
  const char* p = buf;
  while (n > 0) {
    const ssize_t w = write(g_finding_fd, p, static_cast<size_t>(n));
    if (w <= 0) break;
    p += w;
    n -= static_cast<int>(w);
  }
  __builtin_trap();
}

// Checks a model invariant; a failure is a finding.
#define SEALPOOL_FUZZ_CHECK(cond, ...)                                       \
  do {                                                                       \
    if (__builtin_expect(!(cond), 0)) ::sealpool_fuzz::Finding(__VA_ARGS__); \
  } while (0)

// Library bugs that a fuzzer has found and that are not fixed yet are
// listed in README.md ("Findings"), each with a short name. A fuzzer
// that reaches one reaches it again within seconds, so a long run that is
// to look for others may name it in SEALPOOL_FUZZ_SKIP (comma-separated);
// nothing skips by default, and tools/fuzz.sh never sets it.
inline bool SkipKnownFinding(const char* name) {
  static const char* const skip = std::getenv("SEALPOOL_FUZZ_SKIP");
  if (skip == nullptr) return false;
  const size_t n = std::strlen(name);
  for (const char* p = skip; (p = std::strstr(p, name)) != nullptr; p += n) {
    const bool starts = p == skip || p[-1] == ',';
    const bool ends = p[n] == '\0' || p[n] == ',';
    if (starts && ends) return true;
  }
  return false;
}

// One violation as the handler saw it, copied out of the record.
struct Recorded {
  sealpool::ViolationKind kind = sealpool::ViolationKind::kNone;
  bool has_pool_name = false;
  char pool_name[64] = {};
  uint32_t pool_id = 0;
  uintptr_t addr = 0;
  size_t len = 0;
  sealpool::CopyDirection dir = sealpool::CopyDirection::kNone;
  uintptr_t object_start = 0;
  size_t object_size = 0;
  size_t offset = 0;
};

// Records the violations of one operation. The handler neither allocates
// nor locks; more than kMax violations in one operation are counted only.
class ViolationLog {
 public:
  static constexpr int kMax = 8;

  static void Handler(const sealpool::Violation& v, void* arg) {
    auto* self = static_cast<ViolationLog*>(arg);
    if (self->count_ < kMax) {
      Recorded& r = self->records_[self->count_];
      r = Recorded();
      r.kind = v.kind;
      r.has_pool_name = v.pool_name != nullptr;
      if (v.pool_name != nullptr) {
        std::strncpy(r.pool_name, v.pool_name, sizeof(r.pool_name) - 1);
      }
      r.pool_id = v.pool_id;
      r.addr = v.addr;
      r.len = v.len;
      r.dir = v.dir;
      r.object_start = v.object_start;
      r.object_size = v.object_size;
      r.offset = v.offset;
    }
    ++self->count_;
  }

  void Clear() { count_ = 0; }
  int count() const { return count_; }
  const Recorded& at(int i) const { return records_[i]; }

 private:
  int count_ = 0;
  Recorded records_[kMax];
};

// Start-up for a library fuzzer: keeps a copy of stderr for findings, turns
// off stack traces and symbolization in reports (every expected violation
// is reported; symbolizing each would dominate the run time), and switches
// to report mode with `log` recording every violation.
inline void InitFuzzing(ViolationLog* log) {
  const int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd >= 0) g_finding_fd = fd;
  if (!sealpool::SetRuntimeOptions("stack_depth=0:symbolize=0").ok()) {
    Finding("cannot set the runtime options");
  }
  sealpool::SetMode(sealpool::Mode::kReport);
  sealpool::SetViolationHandler(&ViolationLog::Handler, log);
}

}  // namespace sealpool_fuzz

#endif  // SEALPOOL_FUZZ_FUZZ_UTIL_H_
