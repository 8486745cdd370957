// Reuse: an attacker who frees an object and allocates the same size
// should not get the freed address back (random reuse, the per-thread
// quarantine), a freed large object's range stays guard pages for the
// large quarantine, and a destroyed pool's range is not handed to the next
// pool at once, so a stale pointer into it frees nothing of the next pool.
// Each attack has its legal neighbour.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::ScopedOptions;
using ::sealpool_test::UniqueName;

constexpr size_t kSmall = 48;
constexpr size_t kLarge = 100000;

// Frees p, allocates the same size, and says whether p came back.
bool ComesStraightBack(Pool* pool, size_t size, int rounds, int* hits) {
  *hits = 0;
  for (int i = 0; i < rounds; ++i) {
    absl::StatusOr<void*> p = pool->Allocate(size);
    if (!p.ok() || !Pool::Free(*p).ok()) return false;
    absl::StatusOr<void*> q = pool->Allocate(size);
    if (!q.ok()) return false;
    *hits += *q == *p;
    if (!Pool::Free(*q).ok()) return false;
  }
  return true;
}

// Attack: free(p); alloc(same size) to land an object of one's choosing on
// p. Promised (defaults): never the same address at once.
// Legal neighbour, showing the test can see reuse: with quarantine=0 and
// random_reuse=0 the slot comes straight back (last freed, first reused).
TEST(ReuseTest, FreedSlotIsNotReusedAtOnce) {
  {
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("reuse-default"), PoolOptions{});
    int hits = 0;
    ASSERT_TRUE(ComesStraightBack(pool.get(), kSmall, 500, &hits));
    EXPECT_EQ(hits, 0);
  }
  ScopedOptions scope("quarantine=0:random_reuse=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("reuse-lifo"), PoolOptions{});
  int hits = 0;
  ASSERT_TRUE(ComesStraightBack(pool.get(), kSmall, 500, &hits));
  EXPECT_EQ(hits, 500);
}

// Frees p, then allocates and frees other objects of its size; returns the
// number of the first allocation that hands p back (0: none in `limit`).
int AllocationThatReusesP(Pool* pool, size_t size, int limit) {
  absl::StatusOr<void*> p = pool->Allocate(size);
  if (!p.ok() || !Pool::Free(*p).ok()) return -1;
  for (int i = 1; i <= limit; ++i) {
    absl::StatusOr<void*> q = pool->Allocate(size);
    if (!q.ok()) return -1;
    if (*q == *p) return i;
    if (!Pool::Free(*q).ok()) return -1;
  }
  return 0;
}

// The quarantine is capped per class at 16 KiB of slots (at least 2): a
// freed 16 KiB slot waits for 2 more frees, a 64-byte one for the whole
// option (32). With random_reuse=0 the slot comes back at the allocation
// right after it leaves the ring, and not one sooner.
TEST(ReuseTest, QuarantineIsCappedPerClassByBytes) {
  ScopedOptions scope("quarantine=32:random_reuse=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("reuse-capped"), PoolOptions{});
  EXPECT_EQ(AllocationThatReusesP(pool.get(), 15000, 100), 3);  // 16 KiB slots
  EXPECT_EQ(AllocationThatReusesP(pool.get(), kSmall, 100), 33);  // 64-byte slots
}

// Attack: as above without the quarantine: random reuse alone makes the
// freed slot one of the cache's many (a cache refill holds 64), so it comes
// back rarely. Promised: far fewer than half of the rounds.
TEST(ReuseTest, RandomReuseAloneMakesTheNextSlotUnpredictable) {
  ScopedOptions scope("quarantine=0:random_reuse=1");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("reuse-random"), PoolOptions{});
  int hits = 0;
  ASSERT_TRUE(ComesStraightBack(pool.get(), kSmall, 500, &hits));
  EXPECT_LT(hits, 100) << "random reuse handed the freed slot back " << hits
                       << " times in 500";
}

// Attack: free a large object and allocate the same size to get its range
// back. Promised: its range stays out of use for the 64 later large frees
// of the quarantine. Legal neighbour: with large_quarantine=0 the very next
// allocation takes the freed range (first fit), so the test can see reuse.
TEST(ReuseTest, FreedLargeRangeIsQuarantined) {
  {
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("reuse-large"), PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
    ASSERT_TRUE(Pool::Free(p).ok());
    for (int i = 0; i < 64; ++i) {
      SEALPOOL_ASSERT_ALLOC(q, pool, kLarge);
      ASSERT_NE(q, p) << "large allocation " << i;
      ASSERT_TRUE(Pool::Free(q).ok());
    }
    // The stale pointer still names a freed large object.
    const AddressInfo info = QueryAddress(p);
    EXPECT_EQ(info.page, PageKind::kLargeSpan);
    EXPECT_FALSE(info.live);
  }
  ScopedOptions scope("large_quarantine=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("reuse-large-noq"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  ASSERT_TRUE(Pool::Free(p).ok());
  SEALPOOL_ASSERT_ALLOC(q, pool, kLarge);
  EXPECT_EQ(q, p);
  EXPECT_TRUE(Pool::Free(q).ok());
}

// Attack: read through a stale pointer to a freed large object after many
// other large allocations. Promised: it faults (guard pages, quarantined).
// Legal neighbour: the read while the object was live.
TEST(ReuseDeathTest, StaleLargePointerFaultsAfterLaterAllocations) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "reuse-large-stale", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  EXPECT_EQ(static_cast<volatile char*>(p)[kLarge / 2], 0);
  ASSERT_TRUE(Pool::Free(p).ok());
  std::vector<void*> live;
  for (int i = 0; i < 16; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, kLarge);
    live.push_back(q);
  }
  EXPECT_EXIT((void)static_cast<volatile char*>(p)[kLarge / 2], DiedOfSegv, "");
  for (void* q : live) EXPECT_TRUE(Pool::Free(q).ok());
}

class DestroyedPoolReuseTest : public ReportModeTest {};

// Attack: keep a pointer into a pool, destroy the pool, let another pool
// allocate, then free the stale pointer hoping to free the new pool's
// object. Promised: the range is quarantined, so the next pool's objects
// lie elsewhere and the stale free is an invalid free of unused arena
// memory that changes nothing. Legal neighbour: the next pool's own frees.
TEST_F(DestroyedPoolReuseTest, StaleFreeIntoADestroyedPoolFreesNothingOfTheNext) {
  void* stale = nullptr;
  {
    SEALPOOL_ASSERT_CREATE(old_pool, UniqueName("reuse-old"), PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, old_pool, kSmall);
    stale = p;
    ASSERT_TRUE(old_pool.Destroy().ok());  // the last reference: released
  }
  EXPECT_EQ(QueryAddress(stale).page, PageKind::kUnused);
  SEALPOOL_ASSERT_CREATE(next, UniqueName("reuse-next"), PoolOptions{});
  std::vector<void*> objects;
  for (int i = 0; i < 2000; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, next, kSmall);
    ASSERT_NE(q, stale);
    objects.push_back(q);
  }
  const absl::Status status = Pool::Free(stale);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kInvalidFree);
  EXPECT_EQ(v[0].addr, Addr(stale));
  EXPECT_EQ(next->Stats().live_objects, objects.size());
  for (void* q : objects) {
    ASSERT_EQ(Pool::ObjectSize(q), kSmall);
    ASSERT_TRUE(Pool::Free(q).ok());
  }
  EXPECT_TRUE(recorder_.Take().empty());
}

// The pool quarantine counts pools, not extents: a destroyed pool with
// several extents stays out of reach for `pool_quarantine` later pools,
// whatever its size. Promised (pool_quarantine=2): after one more pool is
// released, a new pool's memory lies outside every extent of the first.
// Legal neighbour: the new pool allocates normally.
TEST(DestroyedPoolQuarantineTest, CountsPoolsNotExtents) {
  ScopedOptions scope("pool_quarantine=2");
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;  // the big pool's
  {
    SEALPOOL_ASSERT_CREATE(big, UniqueName("reuse-big"), PoolOptions{});
    // Extents double from 4 MiB: three 6-MiB objects need three extents.
    for (int i = 0; i < 3; ++i) {
      SEALPOOL_ASSERT_ALLOC(p, big, size_t{6} << 20);
      ranges.emplace_back(Addr(p) & ~uintptr_t{(1 << 20) - 1},
                          Addr(p) + (size_t{7} << 20));
    }
    ASSERT_GE(big->Stats().extents, 3u);
    ASSERT_TRUE(big.Destroy().ok());
  }
  {
    SEALPOOL_ASSERT_CREATE(other, UniqueName("reuse-other"), PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, other, kSmall);
    (void)p;
    ASSERT_TRUE(other.Destroy().ok());
  }
  SEALPOOL_ASSERT_CREATE(next, UniqueName("reuse-after"), PoolOptions{});
  for (size_t size : {kSmall, size_t{100000}, size_t{6} << 20}) {
    SEALPOOL_ASSERT_ALLOC(q, next, size);
    for (const auto& r : ranges) {
      EXPECT_FALSE(Addr(q) >= r.first && Addr(q) < r.second)
          << "object of " << size << " bytes inside the destroyed pool's range";
    }
    EXPECT_TRUE(Pool::Free(q).ok());
  }
}

TEST(DestroyedPoolReuseDeathTest, StaleFreeIntoADestroyedPoolAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  void* stale = nullptr;
  {
    SEALPOOL_ASSERT_CREATE(old_pool, "reuse-death-old", PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, old_pool, kSmall);
    stale = p;
  }
  SEALPOOL_ASSERT_CREATE(next, "reuse-death-next", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(q, next, kSmall);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(stale);
      },
      "sealpool: invalid free of 0x[0-9a-f]+ \\(unused arena memory\\)!");
  EXPECT_TRUE(Pool::Free(q).ok());
}

}  // namespace
}  // namespace sealpool
