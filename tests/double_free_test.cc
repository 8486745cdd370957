// Double free, not racing: the second free of an object, also after the
// same size was allocated again in between (free-reallocate-free). Each
// attack has its legal neighbour. Report mode: the second free returns an
// error and the pool keeps working; abort mode: the exact headline.
// The racing double free is in double_free_race_test.cc.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

constexpr size_t kSmall = 32;
constexpr size_t kLarge = 40000;  // above the largest small class

class DoubleFreeTest : public ReportModeTest {};

// Attack: free(p); free(p). Promised: the second free is a double-free
// report naming the pool and the object; the pool keeps working.
// Legal neighbour: two objects, each freed once, report nothing.
TEST_F(DoubleFreeTest, SecondFreeOfASmallObjectIsReported) {
  const std::string name = UniqueName("df-small");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(a, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(b, pool, kSmall);
  EXPECT_TRUE(Pool::Free(a).ok());
  EXPECT_TRUE(Pool::Free(b).ok());
  EXPECT_TRUE(recorder_.Take().empty());

  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(Pool::Free(p).ok());
  const absl::Status second = Pool::Free(p);
  EXPECT_EQ(second.code(), absl::StatusCode::kDataLoss) << second;
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kDoubleFree);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].addr, Addr(p));
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(pool->Stats().live_objects, 0u);

  // Still working: a few hundred objects, each handed out once.
  std::set<void*> seen;
  std::vector<void*> objects;
  for (int i = 0; i < 500; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, kSmall);
    EXPECT_TRUE(seen.insert(q).second) << "handed out twice: " << q;
    objects.push_back(q);
  }
  for (void* q : objects) EXPECT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: free(p); q = alloc(same size); free(p). With the quarantine the
// new object never takes p's slot at once, so the stale free is a double
// free, not a silent free of q. Promised: q != p, the report, q intact.
// Legal neighbour: free(q) afterwards.
TEST_F(DoubleFreeTest, FreeReallocateFreeIsADoubleFreeNotAFreeOfTheNewObject) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("df-realloc"), PoolOptions{});
  for (int round = 0; round < 200; ++round) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
    ASSERT_TRUE(Pool::Free(p).ok());
    SEALPOOL_ASSERT_ALLOC(q, pool, kSmall);
    ASSERT_NE(q, p) << "round " << round;
    std::memset(q, 0x5A, kSmall);
    EXPECT_FALSE(Pool::Free(p).ok());
    std::vector<RecordedViolation> v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u) << "round " << round;
    EXPECT_EQ(v[0].kind, ViolationKind::kDoubleFree);
    EXPECT_EQ(Pool::ObjectSize(q), kSmall);
    EXPECT_EQ(Pool::Owner(q), pool.get());
    EXPECT_EQ(static_cast<unsigned char*>(q)[kSmall - 1], 0x5A);
    ASSERT_TRUE(Pool::Free(q).ok());
  }
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: free(p), then fill the quarantine with other frees of the class
// and allocate many objects before freeing p again. Promised: p's slot is
// not handed out while in the quarantine (32 later frees), so the late
// second free is still a double free.
TEST_F(DoubleFreeTest, StalePointerStaysFreedForTheQuarantine) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("df-quarantine"), PoolOptions{});
  std::vector<void*> others;
  for (int i = 0; i < 31; ++i) {
    SEALPOOL_ASSERT_ALLOC(o, pool, kSmall);
    others.push_back(o);
  }
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(Pool::Free(p).ok());
  for (void* o : others) ASSERT_TRUE(Pool::Free(o).ok());  // 32 frees in all
  std::vector<void*> fresh;
  for (int i = 0; i < 300; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, kSmall);
    ASSERT_NE(q, p) << "allocation " << i;
    fresh.push_back(q);
  }
  EXPECT_FALSE(Pool::Free(p).ok());
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kDoubleFree);
  for (void* q : fresh) EXPECT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: a large object freed twice, and freed again after the same size
// was allocated anew. Promised: double-free reports with the object's size;
// the new object (at another address: the freed span is quarantined) stays
// live. Legal neighbour: the new object's own free.
TEST_F(DoubleFreeTest, LargeObjectFreedTwiceIsReported) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("df-large"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_FALSE(Pool::Free(p).ok());
  SEALPOOL_ASSERT_ALLOC(q, pool, kLarge);
  EXPECT_NE(q, p);
  EXPECT_FALSE(Pool::Free(p).ok());
  EXPECT_EQ(Pool::ObjectSize(q), kLarge);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kDoubleFree);
    EXPECT_EQ(r.object_start, Addr(p));
    EXPECT_EQ(r.object_size, kLarge);
  }
  EXPECT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// The C API: sp_free returns SP_VIOLATION_DOUBLE_FREE for the second free
// (report mode) and 0 for the first.
TEST_F(DoubleFreeTest, CApiReturnsTheDoubleFreeCode) {
  sp_pool* pool = sp_pool_create(UniqueName("df-capi").c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, kSmall);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_free(p), SP_VIOLATION_DOUBLE_FREE);
  EXPECT_EQ(recorder_.Take().size(), 1u);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// Abort mode: the exact headline. A fixed pool name: the threadsafe
// death-test child re-runs the test alone, where counters differ.
TEST(DoubleFreeDeathTest, SecondFreeAbortsWithTheHeadline) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "df-death", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(p);
        (void)Pool::Free(p);
      },
      "sealpool: double free detected in pool 'df-death' \\(object "
      "0x[0-9a-f]+, size [0-9]+\\)!");
  EXPECT_TRUE(Pool::Free(p).ok());  // the legal neighbour, in this process
}

TEST(DoubleFreeDeathTest, FreeReallocateFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "df-death-realloc", PoolOptions{});
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        void* p = *pool->Allocate(kSmall);
        (void)Pool::Free(p);
        void* q = *pool->Allocate(kSmall);
        (void)q;
        (void)Pool::Free(p);
      },
      "sealpool: double free detected in pool 'df-death-realloc' \\(object "
      "0x[0-9a-f]+, size [0-9]+\\)!");
}

TEST(DoubleFreeDeathTest, LargeSecondFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "df-death-large", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(p);
        (void)Pool::Free(p);
      },
      "sealpool: double free detected in pool 'df-death-large' \\(object "
      "0x[0-9a-f]+, size 40000\\)!");
  EXPECT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
