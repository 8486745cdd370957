// Large objects whose pages realloc moves (pool_large_move.cc), from
// several threads of one pool at once: each thread grows and frees its own
// buffers while others allocate, grow and free theirs; every byte arrives,
// nothing is reported, and the moved-in count returns to where it was.

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "allocator/internal/testing.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace {

using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

unsigned char Byte(size_t i, unsigned seed) {
  return static_cast<unsigned char>(seed * 31 + i * 7 + (i >> 12));
}

// Grows one buffer from 80,000 bytes through `rounds` moves, writing each
// new part and checking every byte after each realloc; frees it. False on
// the first wrong byte or failed call.
bool GrowAndCheck(sp_pool* pool, unsigned seed, int rounds) {
  size_t size = 80000 + seed * 4096;
  auto* p = static_cast<unsigned char*>(sp_alloc(pool, size));
  if (p == nullptr) return false;
  for (size_t i = 0; i < size; ++i) p[i] = Byte(i, seed);
  for (int r = 0; r < rounds; ++r) {
    const size_t grown = size * 2 + 48;
    auto* q = static_cast<unsigned char*>(sp_realloc(pool, p, grown));
    if (q == nullptr) return false;
    for (size_t i = 0; i < size; ++i) {
      if (q[i] != Byte(i, seed)) return false;
    }
    for (size_t i = size; i < grown; ++i) {
      if (q[i] != 0) return false;
      q[i] = Byte(i, seed);
    }
    p = q;
    size = grown;
  }
  return sp_free(p) == 0;
}

class LargeMoveConcurrencyTest : public ReportModeTest {};

TEST_F(LargeMoveConcurrencyTest, ThreadsMovingObjectsOfOnePoolKeepEveryByte) {
  sp_pool_options o;
  sp_pool_options_init(&o);
  sp_pool* pool = sp_pool_create(UniqueName("large-move-threads").c_str(), &o);
  ASSERT_NE(pool, nullptr);
  const size_t spans = sealpool::internal::MovedInSpansForTest();
  constexpr int kThreads = 3;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([pool, t, &failures] {
      for (int i = 0; i < 6; ++i) {
        if (!GrowAndCheck(pool, static_cast<unsigned>(t * 8 + i), 4)) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sealpool::internal::MovedInSpansForTest(), spans);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

}  // namespace
