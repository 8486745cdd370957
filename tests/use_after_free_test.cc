// Use-after-free attacks: copies from and into freed slots, freed large
// objects and objects of released pools through a stale pointer; the slot
// becomes copyable again only when it is handed out anew, and then with the
// new object's bounds.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;

class UseAfterFreeTest : public ReportModeTest {};

TEST_F(UseAfterFreeTest, FreedSmallSlotIsUseAfterFree) {
  const std::string name = UniqueName("uaf-small");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 50);  // keeps the span alive
  ASSERT_EQ(CheckCopy(p, 50, kRead), ViolationKind::kNone);
  ASSERT_TRUE(Pool::Free(p).ok());

  EXPECT_EQ(CheckCopy(p, 1, kRead), ViolationKind::kUseAfterFree);
  EXPECT_EQ(CheckCopy(p, 50, kRead), ViolationKind::kUseAfterFree);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 10, 5, kWrite), ViolationKind::kUseAfterFree);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 49, 1, kWrite), ViolationKind::kUseAfterFree);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 4u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kUseAfterFree);
    EXPECT_EQ(r.pool_name, name);
    EXPECT_EQ(r.pool_id, pool->id());
    EXPECT_EQ(r.object_start, Addr(p));
  }
  EXPECT_EQ(v[2].addr, Addr(p) + 10);
  EXPECT_EQ(pool->Stats().violations, 4u);
  EXPECT_EQ(CheckCopy(keep, 50, kRead), ViolationKind::kNone);
  EXPECT_TRUE(Pool::Free(keep).ok());
}

TEST_F(UseAfterFreeTest, FreedSlotStaysRefusedAfterTheCacheIsFlushed) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-flushed"), PoolOptions{});
  std::vector<void*> objects;
  for (int i = 0; i < 100; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 96);
    objects.push_back(p);
  }
  for (size_t i = 0; i < objects.size(); i += 2) {
    ASSERT_TRUE(Pool::Free(objects[i]).ok());
  }
  internal::FlushThreadCacheForTest();
  for (size_t i = 0; i < objects.size(); ++i) {
    const ViolationKind k = CheckCopy(objects[i], 8, kRead);
    if (i % 2 == 0) {
      EXPECT_EQ(k, ViolationKind::kUseAfterFree) << i;
    } else {
      EXPECT_EQ(k, ViolationKind::kNone) << i;
    }
  }
  recorder_.Take();
  for (size_t i = 1; i < objects.size(); i += 2) {
    EXPECT_TRUE(Pool::Free(objects[i]).ok());
  }
}

TEST_F(UseAfterFreeTest, ObjectFreedByAnotherThreadIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-thread"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 200);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 200);
  std::thread t([p] { EXPECT_TRUE(Pool::Free(p).ok()); });
  t.join();
  EXPECT_EQ(CheckCopy(p, 200, kRead), ViolationKind::kUseAfterFree);
  EXPECT_EQ(CheckCopy(p, 1, kWrite), ViolationKind::kUseAfterFree);
  std::thread checker([p] {
    EXPECT_EQ(CheckCopy(p, 16, kRead), ViolationKind::kUseAfterFree);
  });
  checker.join();
  EXPECT_EQ(recorder_.Take().size(), 3u);
  EXPECT_TRUE(Pool::Free(keep).ok());
}

TEST_F(UseAfterFreeTest, FreedZeroSizeObjectIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-size0"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 0);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(CheckCopy(p, 0, kRead), ViolationKind::kNone);  // rule 1
  EXPECT_NE(CheckCopy(p, 1, kRead), ViolationKind::kNone);
  EXPECT_NE(CheckCopy(p, 1, kWrite), ViolationKind::kNone);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(keep).ok());
}

TEST_F(UseAfterFreeTest, FreedLargeObjectIsRefused) {
  const std::string name = UniqueName("uaf-large");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  for (size_t size : {size_t{16385}, size_t{64 * 1024}, size_t{100000}}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    ASSERT_EQ(CheckCopy(p, size, kRead), ViolationKind::kNone);
    ASSERT_TRUE(Pool::Free(p).ok());
    for (size_t off : {size_t{0}, size / 2, size - 1}) {
      for (CopyDirection dir : {kRead, kWrite}) {
        const ViolationKind k = CheckCopy(AsBytes(p) + off, 1, dir);
        // The span may stay (a freed large object) or return to the
        // region (unused or guard pages); never copyable.
        EXPECT_TRUE(k == ViolationKind::kUseAfterFree ||
                    k == ViolationKind::kUnusedPage ||
                    k == ViolationKind::kGuardPage)
            << "off " << off << ": " << static_cast<int>(k);
      }
    }
  }
  recorder_.Take();
}

TEST_F(UseAfterFreeTest, ReusedSlotHasTheNewObjectsBounds) {
  ::sealpool_test::ScopedOptions options_scope("quarantine=0");  // no quarantine: the slot comes back
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-reuse"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 60);  // 60 and 50: the same 64-byte class
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(CheckCopy(p, 60, kRead), ViolationKind::kUseAfterFree);
  // The same size class hands the slot out again (in a random order); look
  // for it.
  std::vector<void*> objects;
  void* again = nullptr;
  for (int i = 0; i < 4096 && again == nullptr; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, 50);
    if (q == p) {
      again = q;
    } else {
      objects.push_back(q);
    }
  }
  ASSERT_EQ(again, p) << "the freed slot was never handed out again";
  EXPECT_EQ(CheckCopy(p, 50, kRead), ViolationKind::kNone);
  // The stale pointer's old length now runs past the new, smaller object.
  EXPECT_EQ(CheckCopy(p, 60, kRead), ViolationKind::kOutOfBounds);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 48, 4, kWrite), ViolationKind::kOutOfBounds);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 55, 1, kWrite), ViolationKind::kOutOfBounds);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(again).ok());
  for (void* q : objects) EXPECT_TRUE(Pool::Free(q).ok());
}

TEST_F(UseAfterFreeTest, CopyRunningIntoAFreedNeighbourIsRefused) {
  ::sealpool_test::ScopedOptions options_scope("canaries=0");  // no canary slack: neighbours touch
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-neighbour"), PoolOptions{});
  const size_t kSize = 64;
  std::vector<void*> objects;
  void* a = nullptr;
  void* b = nullptr;
  ::sealpool_test::AllocateAdjacentPair(pool.get(), kSize, &a, &b, &objects);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(Pool::Free(b).ok());
  EXPECT_EQ(CheckCopy(a, kSize, kRead), ViolationKind::kNone);
  EXPECT_EQ(CheckCopy(a, 2 * kSize, kRead), ViolationKind::kOutOfBounds);
  EXPECT_EQ(CheckCopy(b, kSize, kRead), ViolationKind::kUseAfterFree);
  recorder_.Take();
  for (void* o : objects) {
    if (o != b) {
      EXPECT_TRUE(Pool::Free(o).ok());
    }
  }
}

TEST_F(UseAfterFreeTest, ObjectsOfAReleasedPoolAreRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-released"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, 50);
  SEALPOOL_ASSERT_ALLOC(large, pool, 100000);
  ASSERT_TRUE(pool.Destroy().ok());  // the last reference: released
  for (CopyDirection dir : {kRead, kWrite}) {
    EXPECT_NE(CheckCopy(small, 1, dir), ViolationKind::kNone);
    EXPECT_NE(CheckCopy(large, 1, dir), ViolationKind::kNone);
    EXPECT_NE(CheckCopy(AsBytes(large) + 50000, 64, dir), ViolationKind::kNone);
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 6u);
  for (const RecordedViolation& r : v) {
    EXPECT_NE(r.kind, ViolationKind::kOutOfBounds);
  }
}

TEST_F(UseAfterFreeTest, DestroyedButReferencedPoolKeepsItsObjects) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("uaf-held"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  Pool* held = pool->Ref();
  ASSERT_TRUE(pool.Destroy().ok());
  EXPECT_EQ(CheckCopy(p, 50, kRead), ViolationKind::kNone);
  EXPECT_EQ(CheckCopy(p, 51, kRead), ViolationKind::kOutOfBounds);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(CheckCopy(p, 1, kRead), ViolationKind::kUseAfterFree);
  held->Unref();
  EXPECT_NE(CheckCopy(p, 1, kRead), ViolationKind::kNone);
  recorder_.Take();
}

}  // namespace
}  // namespace sealpool
