// Whole-program mode's heap pools (allocator/malloc/heap.cc marks them):
// every part of the program allocates from them, so Seal and Destroy
// refuse them and change nothing; an unmarked pool, the legal neighbour,
// seals and is destroyed as usual.

#include <cstring>

#include "absl/status/status.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"

namespace {

using sealpool::Pool;

TEST(HeapPoolTest, SealAndDestroyAreRefusedAndChangeNothing) {
  auto made = Pool::Create("heap-pool-test");
  ASSERT_TRUE(made.ok());
  Pool* pool = *made;
  pool->impl()->MarkHeap();
  auto obj = pool->Allocate(64);
  ASSERT_TRUE(obj.ok());
  std::memset(*obj, 7, 64);

  const absl::Status sealed = pool->Seal();
  EXPECT_EQ(sealed.code(), absl::StatusCode::kFailedPrecondition) << sealed;
  EXPECT_EQ(pool->Stats().seals, 0u);
  const absl::Status destroyed = pool->Destroy();
  EXPECT_EQ(destroyed.code(), absl::StatusCode::kPermissionDenied) << destroyed;
  EXPECT_FALSE(pool->Stats().destroyed);

  // Still an ordinary, writable heap.
  std::memset(*obj, 9, 64);
  auto more = pool->Allocate(128);
  EXPECT_TRUE(more.ok());
}

TEST(HeapPoolTest, UnmarkedPoolSealsAndIsDestroyed) {
  auto made = Pool::Create("heap-pool-neighbour");
  ASSERT_TRUE(made.ok());
  Pool* pool = *made;
  ASSERT_TRUE(pool->Allocate(64).ok());
  EXPECT_TRUE(pool->Seal().ok());
  EXPECT_EQ(pool->Stats().seals, 1u);
  EXPECT_TRUE(pool->Destroy().ok());
}

}  // namespace
