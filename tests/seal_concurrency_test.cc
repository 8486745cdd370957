// Sealing under load: worker threads allocate, check and free in a pool
// while another thread seals it again and again and allocates after each
// seal. Nothing crashes; a checked read of a held object is always allowed;
// the only violations are the expected sealed-write and sealed-free ones;
// every object allocated after the last seal (by any thread) is writable;
// and the pool's stats match what the threads hold.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
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

using ::sealpool_test::UniqueName;

struct Held {
  void* p;
  size_t size;
};

// Counts violations by kind; the handler runs on any thread.
struct KindCounter {
  std::atomic<uint64_t> sealed_write{0};
  std::atomic<uint64_t> sealed_free{0};
  std::atomic<uint64_t> other{0};

  static void Handler(const Violation& v, void* arg) {
    auto* self = static_cast<KindCounter*>(arg);
    if (v.kind == ViolationKind::kSealedWrite) {
      self->sealed_write.fetch_add(1, std::memory_order_relaxed);
    } else if (v.kind == ViolationKind::kSealedFree) {
      self->sealed_free.fetch_add(1, std::memory_order_relaxed);
    } else {
      self->other.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

class SealConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Many threads report at once: plain reports, without symbolizing
    // (absl's symbolizer is not instrumented for ThreadSanitizer).
    ASSERT_TRUE(SetRuntimeOptions("stack_depth=0:symbolize=0").ok());
    SetMode(Mode::kReport);  // after SetRuntimeOptions, which sets a mode
    SetViolationHandler(&KindCounter::Handler, &counter_);
  }
  void TearDown() override {
    SetViolationHandler(nullptr, nullptr);
    EXPECT_TRUE(SetRuntimeOptions("stack_depth=32:symbolize=1").ok());
    SetMode(Mode::kAbort);
  }
  KindCounter counter_;
};

TEST_F(SealConcurrencyTest, SealWhileOtherThreadsAllocateFreeAndCheck) {
  constexpr int kWorkers = 3;
  constexpr int kSeals = 8;
  constexpr int kAfterSeal = 50;
  // Operations the workers do between two seals (all workers together).
#if SEALPOOL_TEST_TSAN
  constexpr uint64_t kOpsBetweenSeals = 400;
#else
  constexpr uint64_t kOpsBetweenSeals = 2000;
#endif
  constexpr size_t kMaxHeld = 300;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-conc"), PoolOptions{});
  Pool* const a = pool.get();

  std::atomic<int> started{0};
  std::atomic<uint64_t> ops{0};
  std::atomic<bool> sealer_done{false};
  std::atomic<int> failures{0};
  // held[0..kWorkers-1]: workers; held[kWorkers]: the sealer;
  // held[kWorkers+1..]: objects whose free was refused, per worker.
  std::vector<std::vector<Held>> held(2 * kWorkers + 1);
  std::atomic<uint64_t> refused_frees{0};

  // Workers run until the sealer is done, so that every seal lands in the
  // middle of their allocations, checks and frees.
  auto worker = [&](int index) {
    std::mt19937 rng(1000 + index);
    std::vector<Held>& mine = held[index];
    started.fetch_add(1);
    while (!sealer_done.load(std::memory_order_acquire)) {
      ops.fetch_add(1, std::memory_order_relaxed);
      const unsigned r = rng() % 8;
      if (mine.size() < 20 || (r < 3 && mine.size() < kMaxHeld)) {
        const size_t size =
            (rng() % 16 == 0) ? 5000 + rng() % 30000 : 1 + rng() % 512;
        absl::StatusOr<void*> p = a->Allocate(size);
        if (!p.ok()) {
          failures.fetch_add(1);
          continue;
        }
        // No plain store here: a concurrent seal may already cover it.
        mine.push_back({*p, size});
      } else if (r < 5) {
        const size_t i = rng() % mine.size();
        const Held h = mine[i];
        if (CheckCopy(h.p, h.size, CopyDirection::kRead) !=
            ViolationKind::kNone) {
          failures.fetch_add(1);
        }
        const ViolationKind w = CheckCopy(h.p, h.size, CopyDirection::kWrite);
        if (w != ViolationKind::kNone && w != ViolationKind::kSealedWrite) {
          failures.fetch_add(1);
        }
        if (Pool::ObjectSize(h.p) != h.size) failures.fetch_add(1);
      } else {
        const size_t i = rng() % mine.size();
        const Held h = mine[i];
        const absl::Status st = Pool::Free(h.p);
        if (st.ok()) {
          mine[i] = mine.back();
          mine.pop_back();
        } else if (st.code() == absl::StatusCode::kDataLoss) {
          // Sealed meanwhile: it stays live and readable, and is kept
          // (moved aside so that it is not freed again).
          refused_frees.fetch_add(1);
          if (Pool::ObjectSize(h.p) != h.size) failures.fetch_add(1);
          mine[i] = mine.back();
          mine.pop_back();
          held[kWorkers + 1 + index].push_back(h);
        } else {
          failures.fetch_add(1);
        }
      }
    }
    // Allocations after the last seal are writable, in every thread.
    for (int i = 0; i < kAfterSeal; ++i) {
      const size_t size = 1 + static_cast<size_t>(i) * 97 % 6000;
      absl::StatusOr<void*> p = a->Allocate(size);
      if (!p.ok()) {
        failures.fetch_add(1);
        continue;
      }
      std::memset(*p, 0x5a, size);
      if (CheckCopy(*p, size, CopyDirection::kWrite) != ViolationKind::kNone) {
        failures.fetch_add(1);
      }
      mine.push_back({*p, size});
    }
  };

  auto sealer = [&] {
    std::vector<Held>& mine = held[kWorkers];
    while (started.load() < kWorkers) std::this_thread::yield();
    for (int s = 0; s < kSeals; ++s) {
      const uint64_t until = ops.load() + kOpsBetweenSeals;
      while (ops.load() < until) std::this_thread::yield();
      if (!a->Seal().ok()) failures.fetch_add(1);
      // Only this thread seals: these objects stay writable until the next
      // seal, so they can be written now.
      for (int i = 0; i < kAfterSeal; ++i) {
        const size_t size = (i % 10 == 0) ? 20000 : 24 + i * 8;
        absl::StatusOr<void*> p = a->Allocate(size);
        if (!p.ok()) {
          failures.fetch_add(1);
          continue;
        }
        std::memset(*p, s, size);
        if (CheckCopy(*p, size, CopyDirection::kWrite) !=
            ViolationKind::kNone) {
          failures.fetch_add(1);
        }
        mine.push_back({*p, size});
      }
    }
    const uint64_t until = ops.load() + kOpsBetweenSeals;
    while (ops.load() < until) std::this_thread::yield();
    sealer_done.store(true, std::memory_order_release);
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i) threads.emplace_back(worker, i);
  threads.emplace_back(sealer);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter_.other.load(), 0u);
  EXPECT_EQ(counter_.sealed_free.load(), refused_frees.load());
  // The seals did land while the workers held objects.
  EXPECT_GT(refused_frees.load(), 0u);

  // The main thread too allocates writable memory after the last seal.
  std::vector<Held> main_held;
  for (size_t size : {size_t{8}, size_t{100}, size_t{3000}, size_t{70000}}) {
    absl::StatusOr<void*> p = a->Allocate(size);
    ASSERT_TRUE(p.ok()) << p.status();
    std::memset(*p, 0x6b, size);
    main_held.push_back({*p, size});
  }

  size_t objects = main_held.size();
  size_t bytes = 0;
  for (const Held& h : main_held) bytes += h.size;
  for (const auto& v : held) {
    objects += v.size();
    for (const Held& h : v) {
      bytes += h.size;
      ASSERT_EQ(Pool::ObjectSize(h.p), h.size);
      ASSERT_EQ(CheckCopy(h.p, h.size, CopyDirection::kRead),
                ViolationKind::kNone);
    }
  }
  const PoolStats s = a->Stats();
  EXPECT_EQ(s.seals, static_cast<size_t>(kSeals));
  EXPECT_EQ(s.live_objects, objects);
  EXPECT_EQ(s.live_bytes, bytes);
  EXPECT_GE(s.sealed_bytes, 0u);
  EXPECT_LE(s.sealed_bytes, s.reserved_bytes);

  // One more seal covers everything; nothing is writable any more.
  ASSERT_TRUE(a->Seal().ok());
  for (const auto& v : held) {
    for (const Held& h : v) {
      ASSERT_EQ(CheckCopy(h.p, h.size, CopyDirection::kWrite),
                ViolationKind::kSealedWrite);
    }
  }
}

}  // namespace
}  // namespace sealpool
