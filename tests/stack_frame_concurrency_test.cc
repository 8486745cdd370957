// The stack-frame rule from several threads at once (run under
// ThreadSanitizer): the rule cache, cold at the start, is filled and read
// by four threads walking their own frames (1 to 3 up, with and without
// frame pointers), which must all be allowed their exact fits; then the
// overflows, from the same now-shared cache, must all be refused. (The
// refusals run on one thread: concurrent reports are not what this test
// is about.)

#include <atomic>
#include <thread>
#include <vector>

#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/stack_frames/frames.h"

extern "C" uintptr_t sf_caller_cfa(void) { return 0; }

namespace sealpool {
namespace {

TEST(StackFrameConcurrencyTest, ThreadsShareTheRuleCache) {
  SetMode(Mode::kReport);
  std::atomic<int> wrong{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) {
      }
      for (int i = 0; i < kRounds; ++i) {
        const int depth = 1 + (i + t) % 3;
        auto victim = (i + t) % 2 == 0 ? fp_victim : nofp_victim;
        if (victim(depth, SF_CHECK, nullptr, SF_BUFFER, nullptr) != 0) ++wrong;
      }
    });
  }
  const uint64_t before = ViolationCount();
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(ViolationCount(), before);
  for (int depth = 1; depth <= 3; ++depth) {
    for (auto victim : {fp_victim, nofp_victim}) {
      EXPECT_EQ(victim(depth, SF_CHECK, nullptr, 200, nullptr),
                -static_cast<int>(ViolationKind::kStackFrame));
    }
  }
  EXPECT_EQ(ViolationCount() - before, 6u);
  SetMode(Mode::kAbort);
}

}  // namespace
}  // namespace sealpool
