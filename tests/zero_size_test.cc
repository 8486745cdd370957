// Zero-size objects: Allocate(0) returns a unique pointer into guard
// pages, so a read or write of even one byte through it faults, where a
// one-byte object (the legal neighbour) is usable. The object is a real
// object: size 0, owned by its pool, freed once (a second free is a double
// free), aligned as the pool says.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/internal/testing.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

char Load(const void* p) { return *static_cast<const volatile char*>(p); }
void Store(void* p, char v) { *static_cast<volatile char*>(p) = v; }

// Attack: read through a zero-size object (a size-0 buffer treated as
// having room). Promised: SIGSEGV. Legal neighbour: a 1-byte object.
TEST(ZeroSizeDeathTest, ReadOfOneByteFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "zero-read", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(one, pool, 1);
  Store(one, 7);
  EXPECT_EQ(Load(one), 7);
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  EXPECT_EXIT((void)Load(p), DiedOfSegv, "");
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(one).ok());
}

// Attack: write one byte through a zero-size object. Promised: SIGSEGV.
TEST(ZeroSizeDeathTest, WriteOfOneByteFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "zero-write", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  EXPECT_EXIT(Store(p, 1), DiedOfSegv, "");
  // Not the first byte only: the byte before and the end of the page too.
  EXPECT_EXIT(Store(static_cast<char*>(p) + 31, 1), DiedOfSegv, "");
  EXPECT_EXIT(Store(static_cast<char*>(p) - 1, 1), DiedOfSegv, "");
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Where guards are PROT_NONE pages (kernels without guard markers), a seal
// makes the pool's extents readable and puts the guards back. Promised: a
// zero-size object still faults after its pool is sealed. Legal
// neighbour: a sealed 1-byte object reads.
TEST(ZeroSizeDeathTest, ReadFaultsAfterASealWithProtNoneGuards) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  internal::ForceProtNoneGuardsForTest(true);
  SEALPOOL_ASSERT_CREATE(pool, "zero-sealed-pn", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(one, pool, 1);
  Store(one, 7);
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  ASSERT_TRUE(pool->Seal().ok());
  internal::ForceProtNoneGuardsForTest(false);
  EXPECT_EQ(Load(one), 7);
  EXPECT_EXIT((void)Load(p), DiedOfSegv, "");
}

// Attack: rely on two zero-size allocations aliasing (or aliasing a real
// object), so that a free or a compare through one hits the other.
// Promised: every zero-size object is distinct (also from non-empty
// objects), has size 0 and names its pool as owner.
TEST(ZeroSizeTest, ObjectsAreUniqueSizedZeroAndOwned) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("zero-unique"), PoolOptions{});
  std::set<void*> seen;
  std::vector<void*> objects;
  for (int i = 0; i < 5000; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, i % 10 == 0 ? 16 : 0);
    ASSERT_TRUE(seen.insert(p).second) << "object " << i << " repeats " << p;
    if (i % 10 != 0) {
      ASSERT_EQ(Pool::ObjectSize(p), 0u);
      ASSERT_EQ(Pool::Owner(p), pool.get());
    }
    objects.push_back(p);
  }
  EXPECT_EQ(pool->Stats().live_objects, objects.size());
  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(pool->Stats().live_objects, 0u);
}

class ZeroSizeReportTest : public ReportModeTest {};

// Attack: free a zero-size object twice. Promised: the first free is
// fine, the second a double-free report; the object is gone after the
// first (no owner, no size).
TEST_F(ZeroSizeReportTest, SecondFreeIsADoubleFree) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("zero-double"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_EQ(Pool::Owner(p), nullptr);
  EXPECT_EQ(Pool::Free(p).code(), absl::StatusCode::kDataLoss);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kDoubleFree);
  EXPECT_EQ(v[0].addr, Addr(p));
}

TEST(ZeroSizeDeathTest, SecondFreeAbortsWithTheHeadline) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "zero-death-double", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(p);
        (void)Pool::Free(p);
      },
      "sealpool: double free detected in pool 'zero-death-double' \\(object "
      "0x[0-9a-f]+, size 0\\)!");
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Attack: a zero-size object used where the pool's alignment is assumed
// (e.g. tagged pointers). Promised: zero-size objects honour the pool's
// alignment, and stay unique at every alignment.
TEST(ZeroSizeTest, ObjectsHonourThePoolAlignment) {
  for (size_t align : {size_t{8}, size_t{16}, size_t{64}, size_t{256},
                       size_t{4096}}) {
    SCOPED_TRACE(align);
    PoolOptions o;
    o.align = align;
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("zero-align"), o);
    std::set<void*> seen;
    std::vector<void*> objects;
    for (int i = 0; i < 300; ++i) {
      SEALPOOL_ASSERT_ALLOC(p, pool, 0);
      ASSERT_EQ(Addr(p) % align, 0u) << p;
      ASSERT_TRUE(seen.insert(p).second) << p;
      ASSERT_EQ(Pool::ObjectSize(p), 0u);
      objects.push_back(p);
    }
    for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  }
}

}  // namespace
}  // namespace sealpool
