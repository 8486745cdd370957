// check_copy while the arena changes under it (also run under
// ThreadSanitizer): checker threads ask about their own live objects (always
// allowed) and about random addresses around another thread's objects
// (report mode: any answer, no crash), while a churn thread allocates,
// frees, and creates and destroys whole pools.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::UniqueName;

#if SEALPOOL_TEST_TSAN
constexpr int kCheckerThreads = 2;
constexpr int kRandomChecks = 4000;
constexpr int kChurnOps = 1500;
#else
constexpr int kCheckerThreads = 3;
constexpr int kRandomChecks = 20000;
constexpr int kChurnOps = 6000;
#endif
constexpr int kPublished = 256;
constexpr int kOwnedObjects = 64;

// Redirects stderr to a file for the expected reports; on restore, passes
// through anything that is not a sealpool report (sanitizer warnings).
class ReportSink {
 public:
  ReportSink() {
    char path[] = "/tmp/sealpool-cc-concurrency-XXXXXX";
    fd_ = mkstemp(path);
    if (fd_ < 0) return;
    path_ = path;
    saved_ = dup(STDERR_FILENO);
    dup2(fd_, STDERR_FILENO);
  }
  // Returns the lines that are not part of a sealpool report.
  std::string Restore() {
    std::string other;
    if (saved_ >= 0) {
      dup2(saved_, STDERR_FILENO);
      close(saved_);
      saved_ = -1;
      std::ifstream in(path_);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("sealpool: ", 0) == 0 || line.rfind("  kind: ", 0) == 0) {
          continue;
        }
        other += line;
        other += '\n';
      }
    }
    return other;
  }
  ~ReportSink() {
    Restore();
    if (fd_ >= 0) {
      close(fd_);
      unlink(path_.c_str());
    }
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

TEST(CheckCopyConcurrencyTest, ChecksStayCorrectWhilePoolsChurn) {
  std::atomic<uintptr_t> published[kPublished];
  for (auto& p : published) p.store(0, std::memory_order_relaxed);
  std::atomic<bool> done{false};
  std::atomic<int> owned_failures{0};
  std::atomic<int> copy_failures{0};
  std::atomic<uint64_t> refused{0};

  absl::StatusOr<Pool*> owned_or = Pool::Create(UniqueName("ccc-owned"));
  ASSERT_TRUE(owned_or.ok()) << owned_or.status();
  sealpool_test::ScopedPool owned(*owned_or);

  ASSERT_TRUE(SetRuntimeOptions("stack_depth=0:symbolize=0").ok());
  SetMode(Mode::kReport);  // after SetRuntimeOptions, which sets a mode
  const uint64_t violations_before = ViolationCount();
  std::string stray_output;
  {
    ReportSink sink;

    std::thread churn([&] {
      std::mt19937_64 rng(0xc0ffee);
      struct Live {
        void* p;
        int pool;
      };
      std::vector<Pool*> pools;
      std::vector<Live> live;
      for (int i = 0; i < 3; ++i) {
        absl::StatusOr<Pool*> p = Pool::Create(UniqueName("ccc-churn"));
        if (!p.ok()) {
          ADD_FAILURE() << p.status();
          return;
        }
        pools.push_back(*p);
      }
      for (int op = 0; op < kChurnOps; ++op) {
        const int what = static_cast<int>(rng() % 100);
        if (what < 55 || live.empty()) {
          const int pool = static_cast<int>(rng() % pools.size());
          const size_t size = rng() % 8 == 0 ? 16385 + rng() % 50000
                                             : rng() % 2049;
          absl::StatusOr<void*> p = pools[pool]->Allocate(size);
          if (!p.ok()) continue;
          live.push_back({*p, pool});
          published[rng() % kPublished].store(Addr(*p),
                                              std::memory_order_relaxed);
        } else if (what < 98) {
          const size_t i = rng() % live.size();
          if (!Pool::Free(live[i].p).ok()) ADD_FAILURE() << "free failed";
          live[i] = live.back();
          live.pop_back();
        } else {
          // Destroy a whole pool with its objects still in it.
          const int victim = static_cast<int>(rng() % pools.size());
          std::vector<Live> kept;
          for (const Live& l : live) {
            if (l.pool != victim) kept.push_back(l);
          }
          live.swap(kept);
          if (!pools[victim]->Destroy().ok()) ADD_FAILURE() << "destroy";
          absl::StatusOr<Pool*> p = Pool::Create(UniqueName("ccc-churn"));
          if (!p.ok()) {
            ADD_FAILURE() << p.status();
            return;
          }
          pools[victim] = *p;
        }
      }
      for (const Live& l : live) (void)Pool::Free(l.p);
      for (Pool* p : pools) (void)p->Destroy();
      done.store(true, std::memory_order_release);
    });

    std::vector<std::thread> checkers;
    for (int t = 0; t < kCheckerThreads; ++t) {
      checkers.emplace_back([&, t] {
        std::mt19937_64 rng(1000 + t);
        struct Mine {
          char* p;
          size_t size;
        };
        std::vector<Mine> mine;
        for (int i = 0; i < kOwnedObjects; ++i) {
          const size_t size = i % 16 == 0 ? 20000 + rng() % 30000
                                           : 1 + rng() % 1024;
          absl::StatusOr<void*> p = owned->Allocate(size);
          if (!p.ok()) {
            ADD_FAILURE() << p.status();
            return;
          }
          mine.push_back({AsBytes(*p), size});
        }
        char buf[128];
        uint64_t my_refused = 0;
        for (int i = 0; i < kRandomChecks || !done.load(std::memory_order_acquire);
             ++i) {
          // An object of our own: always allowed, whatever else happens.
          const Mine& m = mine[rng() % mine.size()];
          const size_t off = rng() % m.size;
          const size_t len = rng() % (m.size - off + 1);
          const CopyDirection dir =
              rng() % 2 == 0 ? CopyDirection::kRead : CopyDirection::kWrite;
          if (CheckCopy(m.p + off, len, dir) != ViolationKind::kNone ||
              CheckCopy(m.p, m.size, CopyDirection::kRead) !=
                  ViolationKind::kNone) {
            owned_failures.fetch_add(1, std::memory_order_relaxed);
          }
          if (i % 8 == 0) {
            const size_t n = m.size < sizeof(buf) ? m.size : sizeof(buf);
            std::memset(buf, i & 0x7f, n);
            if (CheckedMemcpy(m.p, buf, n) != m.p ||
                std::memcmp(m.p, buf, n) != 0) {
              copy_failures.fetch_add(1, std::memory_order_relaxed);
            }
          }
          // Somewhere around another thread's (possibly freed, possibly
          // released) object: any answer, but an answer.
          const uintptr_t base =
              published[rng() % kPublished].load(std::memory_order_relaxed);
          if (base != 0) {
            const uintptr_t a = base - 64 + rng() % 4224;
            const size_t n = rng() % 129;
            if (CheckCopy(reinterpret_cast<const void*>(a), n, dir) !=
                ViolationKind::kNone) {
              ++my_refused;
            }
          }
          if (i > 50 * kRandomChecks) break;  // churn stuck: fail below
        }
        refused.fetch_add(my_refused, std::memory_order_relaxed);
        for (const Mine& m : mine) {
          if (!Pool::Free(m.p).ok()) ADD_FAILURE() << "free of own object";
        }
      });
    }
    churn.join();
    for (std::thread& t : checkers) t.join();
    stray_output = sink.Restore();
  }
  const uint64_t violations = ViolationCount() - violations_before;
  ASSERT_TRUE(SetRuntimeOptions("stack_depth=32:symbolize=1").ok());
  SetMode(Mode::kAbort);

  EXPECT_TRUE(done.load());
  EXPECT_EQ(owned_failures.load(), 0);
  EXPECT_EQ(copy_failures.load(), 0);
  // Every refusal was reported and counted once; nothing else was.
  EXPECT_EQ(violations, refused.load());
  EXPECT_EQ(stray_output, "");
  std::printf("concurrent checks refused (as expected): %llu\n",
              static_cast<unsigned long long>(refused.load()));
}

TEST(CheckCopyConcurrencyTest, ManyThreadsCheckOneObject) {
  absl::StatusOr<Pool*> pool_or = Pool::Create(UniqueName("ccc-shared"));
  ASSERT_TRUE(pool_or.ok()) << pool_or.status();
  sealpool_test::ScopedPool pool(*pool_or);
  absl::StatusOr<void*> p = pool->Allocate(100);
  ASSERT_TRUE(p.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        if (CheckCopy(*p, 100, CopyDirection::kRead) != ViolationKind::kNone ||
            CheckCopy(AsBytes(*p) + (i % 100), 100 - (i % 100),
                      CopyDirection::kWrite) != ViolationKind::kNone) {
          failures.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(Pool::Free(*p).ok());
}

}  // namespace
}  // namespace sealpool
