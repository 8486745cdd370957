// Guard pages without MADV_GUARD_INSTALL: the PROT_NONE fallback still
// faults on a stray store, and its mapping cost grows with spans, not objects.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "allocator/internal/testing.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

class GuardFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override { internal::ForceProtNoneGuardsForTest(true); }
  void TearDown() override { internal::ForceProtNoneGuardsForTest(false); }
};

TEST_F(GuardFallbackTest, GuardsAreProtNoneAndStillClassifiedAsGuards) {
  EXPECT_FALSE(internal::GuardsUseMadvise());
  ScopedPool pool(*Pool::Create(UniqueName("fallback")));
  char* p = static_cast<char*>(*pool->Allocate(64 * 1024));
  p[0] = 1;
  p[64 * 1024 - 1] = 2;  // the last byte is usable
  EXPECT_EQ(QueryAddress(p + 64 * 1024).page, PageKind::kGuard);
  EXPECT_EQ(QueryAddress(p - 1).page, PageKind::kGuard);
  ASSERT_TRUE(Pool::Free(p).ok());
}

using GuardFallbackDeathTest = GuardFallbackTest;

TEST_F(GuardFallbackDeathTest, StoreOneBytePastLargeObjectFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        internal::ForceProtNoneGuardsForTest(true);
        Pool* pool = *Pool::Create("fallback-death");
        volatile char* p = static_cast<char*>(*pool->Allocate(64 * 1024));
        p[64 * 1024] = 1;
      },
      DiedOfSegv, "");
}

TEST_F(GuardFallbackTest, MappingsGrowWithSpansNotObjects) {
  ScopedPool pool(*Pool::Create(UniqueName("fallback-maps")));
  // Warm up: one span of the class, so the extent exists.
  void* first = *pool->Allocate(64);
  const size_t before = internal::CountArenaMappings();
  // 3000 more 64-byte objects fit in the first span (3968 slots): no new
  // span, no new mapping.
  std::vector<void*> objects;
  objects.reserve(3000 + 20 * 62);
  for (int i = 0; i < 3000; ++i) objects.push_back(*pool->Allocate(64));
  EXPECT_LE(internal::CountArenaMappings(), before + 2);
  // 20 spans of 4 KiB objects: each span may add its two guard mappings.
  const size_t spans_before = pool->Stats().small_spans;
  for (int i = 0; i < 20 * 62; ++i) objects.push_back(*pool->Allocate(4096));
  const size_t new_spans = pool->Stats().small_spans - spans_before;
  EXPECT_GE(new_spans, 20u);
  EXPECT_LE(internal::CountArenaMappings(), before + 2 + 2 * new_spans + 2);
  for (void* o : objects) ASSERT_TRUE(Pool::Free(o).ok());
  ASSERT_TRUE(Pool::Free(first).ok());
}

}  // namespace
}  // namespace sealpool
