// fork(): a child forked while another parent thread allocates, frees and
// creates pools can use inherited pools and create new ones without deadlock.

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::UniqueName;

constexpr size_t kParentSize = 3000;
constexpr unsigned char kParentFill = 0x9d;

// Runs in the child: no gtest, only exit codes. Returns 0 on success.
int ChildWork(Pool* pool, void* parent_object, int iteration) {
  // A deadlocked child is killed instead of hanging the test.
  alarm(60);
  if (Pool::ObjectSize(parent_object) != kParentSize) return 10;
  const unsigned char* c = static_cast<const unsigned char*>(parent_object);
  for (size_t i = 0; i < kParentSize; ++i) {
    if (c[i] != kParentFill) return 11;
  }
  std::vector<void*> objects;
  for (size_t size : {size_t{8}, size_t{64}, size_t{500}, size_t{4000},
                      size_t{20000}, size_t{300000}}) {
    for (int i = 0; i < 20; ++i) {
      absl::StatusOr<void*> p = pool->Allocate(size);
      if (!p.ok()) return 12;
      std::memset(*p, 0x12, size);
      if (Pool::ObjectSize(*p) != size) return 13;
      objects.push_back(*p);
    }
  }
  for (void* p : objects) {
    if (!Pool::Free(p).ok()) return 14;
  }
  if (!Pool::Free(parent_object).ok()) return 15;

  const std::string name = "fork-child-" + std::to_string(getpid()) + "-" +
                           std::to_string(iteration);
  absl::StatusOr<Pool*> fresh = Pool::Create(name);
  if (!fresh.ok()) return 16;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<void*> p = (*fresh)->Allocate(16 + i * 37);
    if (!p.ok()) return 17;
    std::memset(*p, 0x34, 16 + i * 37);
    if (!Pool::Free(*p).ok()) return 18;
  }
  absl::StatusOr<void*> large = (*fresh)->Allocate(1 << 20);
  if (!large.ok()) return 19;
  std::memset(*large, 0x56, 1 << 20);
  if (!Pool::Free(*large).ok()) return 20;
  if ((*fresh)->Stats().live_objects != 0) return 21;
  if (!(*fresh)->Destroy().ok()) return 22;
  return 0;
}

// Forks, runs ChildWork in the child and returns its wait status.
int ForkAndWait(Pool* pool, void* parent_object, int iteration) {
  const pid_t pid = fork();
  if (pid == 0) _exit(ChildWork(pool, parent_object, iteration));
  if (pid < 0) return -1;
  int status = 0;
  pid_t waited;
  do {
    waited = waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  return waited == pid ? status : -1;
}

std::string DescribeStatus(int status) {
  if (status == -1) return "fork or waitpid failed";
  if (WIFEXITED(status)) {
    return "child exited with " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "child killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "child status " + std::to_string(status);
}

TEST(ForkTest, ChildCanUseInheritedAndNewPools) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fork-simple"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(obj, pool, kParentSize);
  std::memset(obj, kParentFill, kParentSize);
  const int status = ForkAndWait(pool.get(), obj, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeStatus(status);
  // The parent's object is untouched by the child's free.
  EXPECT_EQ(Pool::ObjectSize(obj), kParentSize);
  EXPECT_TRUE(Pool::Free(obj).ok());
}

TEST(ForkTest, ForkWhileAnotherThreadAllocates) {
  if (SEALPOOL_TEST_ASAN) {
    GTEST_SKIP() << "clang 14's ASan allocator is not fork-safe while another "
                    "thread allocates (atfork handlers came in clang 18); "
                    "covered by the release build";
  }
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fork-busy"), PoolOptions{});
  SEALPOOL_ASSERT_CREATE(other, UniqueName("fork-busy-other"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(obj, pool, kParentSize);
  std::memset(obj, kParentFill, kParentSize);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> progress{0};
  std::atomic<int> worker_errors{0};
  std::thread worker([&] {
    std::vector<void*> held;
    uint64_t i = 0;
    while (!stop.load(std::memory_order_acquire)) {
      Pool* target = (i % 2 == 0) ? pool.get() : other.get();
      const size_t size =
          (i % 13 == 0) ? 40000 + i % 1000 : 8 + (i * 53) % 3000;
      absl::StatusOr<void*> p = target->Allocate(size);
      if (p.ok()) {
        std::memset(*p, 0x21, size);
        held.push_back(*p);
      } else {
        worker_errors.fetch_add(1);
      }
      if (held.size() > 64) {
        for (void* q : held) {
          if (!Pool::Free(q).ok()) worker_errors.fetch_add(1);
        }
        held.clear();
      }
      if (i % 50 == 0) {
        // Pool creation and destruction take the global locks too.
        absl::StatusOr<Pool*> churn = Pool::Create(UniqueName("fork-churn"));
        if (churn.ok()) {
          absl::StatusOr<void*> q = (*churn)->Allocate(100);
          if (q.ok()) (void)Pool::Free(*q);
          if (!(*churn)->Destroy().ok()) worker_errors.fetch_add(1);
        } else {
          worker_errors.fetch_add(1);
        }
      }
      ++i;
      progress.store(i, std::memory_order_release);
    }
    for (void* q : held) {
      if (!Pool::Free(q).ok()) worker_errors.fetch_add(1);
    }
  });

  for (int iteration = 0; iteration < 20; ++iteration) {
    // Let the worker make progress between forks (no sleeping).
    const uint64_t seen = progress.load(std::memory_order_acquire);
    while (progress.load(std::memory_order_acquire) < seen + 10) {
      std::this_thread::yield();
    }
    const int status = ForkAndWait(pool.get(), obj, iteration);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "iteration " << iteration << ": " << DescribeStatus(status);
    if (HasFailure()) break;
  }
  stop.store(true, std::memory_order_release);
  worker.join();

  EXPECT_EQ(worker_errors.load(), 0);
  EXPECT_EQ(Pool::ObjectSize(obj), kParentSize);
  EXPECT_TRUE(Pool::Free(obj).ok());
  EXPECT_EQ(pool->Stats().live_objects, 0u);
  EXPECT_EQ(other->Stats().live_objects, 0u);
}

// A fork child does not repeat its parent's random slot choices: both take
// 32 slots from the same inherited cache of 96, and the orders differ (the
// chance that two independent draws agree is far below 2^-100).
TEST(ForkTest, ChildDrawsItsOwnRandomSlots) {
  ::sealpool_test::ScopedOptions scope("quarantine=0:random_reuse=1");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fork-random"), PoolOptions{});
  std::vector<void*> objects;
  for (int i = 0; i < 96; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 32);
    objects.push_back(p);
  }
  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  const auto draw = [&pool] {
    std::vector<uintptr_t> order;
    for (int i = 0; i < 32; ++i) {
      absl::StatusOr<void*> p = pool->Allocate(32);
      order.push_back(p.ok() ? reinterpret_cast<uintptr_t>(*p) : 0);
    }
    return order;
  };
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(60);
    const std::vector<uintptr_t> order = draw();
    const ssize_t n = write(fds[1], order.data(), order.size() * sizeof(uintptr_t));
    _exit(n == static_cast<ssize_t>(order.size() * sizeof(uintptr_t)) ? 0 : 1);
  }
  close(fds[1]);
  const std::vector<uintptr_t> mine = draw();
  std::vector<uintptr_t> theirs(mine.size());
  size_t got = 0;
  while (got < theirs.size() * sizeof(uintptr_t)) {
    const ssize_t n = read(fds[0], reinterpret_cast<char*>(theirs.data()) + got,
                           theirs.size() * sizeof(uintptr_t) - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, theirs.size() * sizeof(uintptr_t));
  for (uintptr_t a : mine) EXPECT_NE(a, 0u);
  EXPECT_NE(mine, theirs) << "the child drew the parent's slots in the same order";
  for (uintptr_t a : mine) EXPECT_TRUE(Pool::Free(reinterpret_cast<void*>(a)).ok());
}

}  // namespace
}  // namespace sealpool
