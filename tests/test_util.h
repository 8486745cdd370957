// Shared helpers for the sealpool tests: unique pool names, a pool guard
// that destroys on scope exit, and a fixture that records violations.

#ifndef SEALPOOL_TESTS_TEST_UTIL_H_
#define SEALPOOL_TESTS_TEST_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"

// True when the tests are built with a sanitizer that installs its own
// SIGSEGV handler (the process then exits instead of dying of the signal).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SEALPOOL_TEST_SANITIZER_HANDLES_SEGV 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SEALPOOL_TEST_SANITIZER_HANDLES_SEGV 1
#endif
#endif
#ifndef SEALPOOL_TEST_SANITIZER_HANDLES_SEGV
#define SEALPOOL_TEST_SANITIZER_HANDLES_SEGV 0
#endif

// AddressSanitizer builds (its own allocator is not fork-safe in clang 14:
// a fork while another thread is inside malloc leaves the child's malloc
// locked; clang 18 added the atfork handlers).
#if defined(__SANITIZE_ADDRESS__)
#define SEALPOOL_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEALPOOL_TEST_ASAN 1
#endif
#endif
#ifndef SEALPOOL_TEST_ASAN
#define SEALPOOL_TEST_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define SEALPOOL_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SEALPOOL_TEST_TSAN 1
#endif
#endif
#ifndef SEALPOOL_TEST_TSAN
#define SEALPOOL_TEST_TSAN 0
#endif

namespace sealpool {

// Readable failure messages for the enums the tests compare.
inline void PrintTo(PageKind kind, std::ostream* os) {
  static const char* const kNames[] = {"kNotArena", "kUnused",    "kGuard",
                                       "kMetadata", "kSmallSpan", "kLargeSpan"};
  const int k = static_cast<int>(kind);
  if (k >= 0 && k < 6) {
    *os << kNames[k];
  } else {
    *os << "PageKind(" << k << ")";
  }
}

inline void PrintTo(ViolationKind kind, std::ostream* os) {
  *os << "ViolationKind(" << static_cast<int>(kind) << ")";
}

}  // namespace sealpool

namespace sealpool_test {

inline constexpr size_t kPage = 4096;

// A pool name that no other pool of this process uses: `base` plus a
// process-wide counter. Only [A-Za-z0-9-] are added, so the result can be
// used inside a death-test regex as is when `base` is plain too.
inline std::string UniqueName(const std::string& base) {
  static std::atomic<unsigned> counter{0};
  return base + "-" + std::to_string(counter.fetch_add(1) + 1);
}

inline uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

inline char* AsBytes(void* p) { return static_cast<char*>(p); }

inline uintptr_t PageStart(uintptr_t a) { return a & ~(uintptr_t{kPage} - 1); }
inline uintptr_t PageEnd(uintptr_t a) {
  return (a + kPage - 1) & ~(uintptr_t{kPage} - 1);
}

// Owns the creator's reference to a pool and destroys it on scope exit
// unless the test destroyed it through Destroy().
class ScopedPool {
 public:
  ScopedPool() = default;
  explicit ScopedPool(sealpool::Pool* pool) : pool_(pool) {}
  ScopedPool(ScopedPool&& other) noexcept : pool_(other.pool_) {
    other.pool_ = nullptr;
  }
  ScopedPool& operator=(ScopedPool&& other) noexcept {
    if (this != &other) {
      Reset();
      pool_ = other.pool_;
      other.pool_ = nullptr;
    }
    return *this;
  }
  ScopedPool(const ScopedPool&) = delete;
  ScopedPool& operator=(const ScopedPool&) = delete;
  ~ScopedPool() { Reset(); }

  sealpool::Pool* get() const { return pool_; }
  sealpool::Pool* operator->() const { return pool_; }
  explicit operator bool() const { return pool_ != nullptr; }

  // Destroys the pool now (drops the creator's reference).
  absl::Status Destroy() {
    sealpool::Pool* pool = pool_;
    pool_ = nullptr;
    if (pool == nullptr) return absl::FailedPreconditionError("no pool");
    return pool->Destroy();
  }

 private:
  void Reset() {
    if (pool_ != nullptr) {
      absl::Status status = pool_->Destroy();
      EXPECT_TRUE(status.ok()) << status;
      pool_ = nullptr;
    }
  }
  sealpool::Pool* pool_ = nullptr;
};

// Creates a pool or fails the current test (use only in void functions,
// i.e. test bodies).
#define SEALPOOL_ASSERT_CREATE(var, name, options)            \
  ::sealpool_test::ScopedPool var;                            \
  do {                                                        \
    absl::StatusOr<::sealpool::Pool*> var##_or =              \
        ::sealpool::Pool::Create((name), (options));          \
    ASSERT_TRUE(var##_or.ok())                                \
        << "Create(" << (name) << "): " << var##_or.status(); \
    var = ::sealpool_test::ScopedPool(*var##_or);             \
  } while (0)

// Allocates or fails the current test.
#define SEALPOOL_ASSERT_ALLOC(var, pool, size)                  \
  void* var = nullptr;                                          \
  do {                                                          \
    absl::StatusOr<void*> var##_or = (pool)->Allocate(size);    \
    ASSERT_TRUE(var##_or.ok())                                  \
        << "Allocate(" << (size) << "): " << var##_or.status(); \
    var = *var##_or;                                            \
    ASSERT_NE(var, nullptr);                                    \
  } while (0)

// One violation as seen by the handler, copied out of the record.
struct RecordedViolation {
  sealpool::ViolationKind kind = sealpool::ViolationKind::kNone;
  bool has_pool_name = false;
  std::string pool_name;
  uint32_t pool_id = 0;
  uintptr_t addr = 0;
  uintptr_t object_start = 0;
  size_t object_size = 0;
};

class ViolationRecorder {
 public:
  static void Handler(const sealpool::Violation& v, void* arg) {
    auto* self = static_cast<ViolationRecorder*>(arg);
    RecordedViolation r;
    r.kind = v.kind;
    r.has_pool_name = v.pool_name != nullptr;
    if (v.pool_name != nullptr) r.pool_name = v.pool_name;
    r.pool_id = v.pool_id;
    r.addr = v.addr;
    r.object_start = v.object_start;
    r.object_size = v.object_size;
    std::lock_guard<std::mutex> lock(self->mu_);
    self->records_.push_back(std::move(r));
  }

  std::vector<RecordedViolation> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<RecordedViolation> out;
    out.swap(records_);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<RecordedViolation> records_;
};

// Runs each test in report mode with a recording handler; restores abort
// mode and removes the handler afterwards.
class ReportModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sealpool::SetMode(sealpool::Mode::kReport);
    sealpool::SetViolationHandler(&ViolationRecorder::Handler, &recorder_);
  }
  void TearDown() override {
    sealpool::SetViolationHandler(nullptr, nullptr);
    sealpool::SetMode(sealpool::Mode::kAbort);
  }

  ViolationRecorder recorder_;
};

// Allocates objects of `size` from `pool` until two of them touch (the end
// of *lower is the start of *upper); every object allocated is appended to
// *all for the caller to free. Returns false if 64 tries found no pair.
inline bool AllocateAdjacentPair(sealpool::Pool* pool, size_t size, void** lower,
                                 void** upper, std::vector<void*>* all) {
  *lower = *upper = nullptr;
  for (int i = 0; i < 64; ++i) {
    absl::StatusOr<void*> q = pool->Allocate(size);
    if (!q.ok()) return false;
    for (void* o : *all) {
      if (AsBytes(o) + size == *q) {
        *lower = o;
        *upper = *q;
      } else if (AsBytes(*q) + size == o) {
        *lower = *q;
        *upper = o;
      }
    }
    all->push_back(*q);
    if (*lower != nullptr) return true;
  }
  return false;
}

// Exit predicate for death tests of stray loads and stores: the process was
// killed by SIGSEGV (or, under a sanitizer that catches SIGSEGV itself,
// exited with a failure status).
inline bool DiedOfSegv(int status) {
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) return true;
#if SEALPOOL_TEST_SANITIZER_HANDLES_SEGV
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return true;
#endif
  return false;
}

// One line of /proc/self/maps.
struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  std::string perms;
  std::string path;
};

// The lines of /proc/self/maps.
inline std::vector<Mapping> ReadMaps() {
  std::vector<Mapping> out;
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return out;
  char line[4096];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long start = 0, end = 0;  // NOLINT(runtime/int): sscanf format
    char perms[8] = {};
    int consumed = 0;
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms,
                    &consumed) >= 3) {
      Mapping m{static_cast<uintptr_t>(start), static_cast<uintptr_t>(end),
                perms, ""};
      if (consumed > 0) {
        m.path = line + consumed;
        while (!m.path.empty() &&
               (m.path.back() == '\n' || m.path.back() == ' ')) {
          m.path.pop_back();
        }
      }
      out.push_back(m);
    }
  }
  std::fclose(f);
  return out;
}

// Permissions of the mapping that holds `addr` ("" if none does).
inline std::string PermsAt(const void* addr) {
  const uintptr_t a = Addr(addr);
  for (const Mapping& m : ReadMaps()) {
    if (a >= m.start && a < m.end) return m.perms;
  }
  return "";
}

// Number of writable mappings that overlap the pages of [p, p+size).
inline size_t WritableMappingsOver(const void* p, size_t size) {
  const uintptr_t lo = PageStart(Addr(p));
  const uintptr_t hi = PageEnd(Addr(p) + (size == 0 ? 1 : size));
  size_t n = 0;
  for (const Mapping& m : ReadMaps()) {
    if (m.start < hi && m.end > lo && m.perms.size() > 1 && m.perms[1] == 'w') {
      ++n;
    }
  }
  return n;
}

// Forks; the child restores the default SIGSEGV action and exits with
// fn()'s result. Returns the wait status (-1 if fork failed).
template <typename Fn>
int RunInChild(Fn fn) {
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    alarm(60);
    _exit(fn());
  }
  if (pid < 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

inline bool KilledBySegv(int status) {
  return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}
inline bool ExitedZero(int status) {
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The hardening options at their defaults (allocator/internal/options.inc).
inline constexpr const char kHardeningDefaults[] =
    "atomic_free=1:random_reuse=1:quarantine=32:large_quarantine=64:"
    "pool_quarantine=16:"
    "zero_on_free=1:write_after_free_check=1:canaries=1";

// Redirects stderr into a temporary file for its lifetime; Text() returns
// what was written so far.
class StderrCapture {
 public:
  StderrCapture() {
    char path[] = "/tmp/sealpool-test-stderr-XXXXXX";
    fd_ = mkstemp(path);
    if (fd_ >= 0) {
      path_ = path;
      saved_ = dup(STDERR_FILENO);
      dup2(fd_, STDERR_FILENO);
    }
  }
  ~StderrCapture() {
    Restore();
    if (fd_ >= 0) {
      close(fd_);
      unlink(path_.c_str());
    }
  }
  bool ok() const { return fd_ >= 0; }
  void Restore() {
    if (saved_ >= 0) {
      dup2(saved_, STDERR_FILENO);
      close(saved_);
      saved_ = -1;
    }
  }
  std::string Text() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

// The whole file at `path` ("" if it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Applies SEALPOOL_OPTIONS keys (e.g. "canaries=0") to the pools created in
// the scope, and puts the hardening defaults back at its end. Pools read
// their hardening when they are created.
class ScopedOptions {
 public:
  explicit ScopedOptions(const char* text) {
    EXPECT_TRUE(sealpool::SetRuntimeOptions(text).ok()) << text;
  }
  ~ScopedOptions() {
    EXPECT_TRUE(sealpool::SetRuntimeOptions(kHardeningDefaults).ok());
  }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;
};

// One byte at p + off, read or written unseen by AddressSanitizer and by
// the compiler's bounds checks: the stray access of an attack test (into
// slack, a freed slot or a canary).
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS ABSL_ATTRIBUTE_NOINLINE inline unsigned char
PeekUnchecked(const void* p, ptrdiff_t off) {
  return static_cast<const volatile unsigned char*>(p)[off];
}
ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS ABSL_ATTRIBUTE_NOINLINE inline void PokeUnchecked(
    void* p, ptrdiff_t off, unsigned char v) {
  static_cast<volatile unsigned char*>(p)[off] = v;
}

}  // namespace sealpool_test

#endif  // SEALPOOL_TESTS_TEST_UTIL_H_
