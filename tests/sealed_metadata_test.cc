// Sealing protects the pool's own metadata where it no longer changes: the
// slack pages of sealed spans, and the span-record and page-table pages
// that sealed granules cover whole, become read-only; frees, checks and
// cache flushes of sealed objects never write them; destroy makes them
// writable again for the next pool; and a seal costs a few system calls
// per extent, whatever the object count.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/kernel_calls.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::PermsAt;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

const void* AsPtr(uintptr_t a) { return reinterpret_cast<const void*>(a); }

// Allocates `n` objects of `size` bytes, each filled with its index.
std::vector<void*> AllocateFilled(Pool* pool, size_t n, size_t size) {
  std::vector<void*> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    absl::StatusOr<void*> p = pool->Allocate(size);
    if (!p.ok()) break;
    std::memset(*p, static_cast<int>(i & 0xff), size);
    out.push_back(*p);
  }
  return out;
}

TEST(SealedMetadataTest, SlackPagesOfSealedSpansBecomeReadOnly) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-slack"), PoolOptions{});
  const std::vector<void*> objs = AllocateFilled(pool.get(), 100, 48);
  ASSERT_EQ(objs.size(), 100u);
  const internal::MetadataAddresses before = internal::MetadataOfForTest(objs[0]);
  EXPECT_EQ(PermsAt(AsPtr(before.slack_page)).substr(0, 2), "rw");
  ASSERT_TRUE(pool->Seal().ok());
  for (void* p : objs) {
    const internal::MetadataAddresses m = internal::MetadataOfForTest(p);
    EXPECT_EQ(PermsAt(AsPtr(m.slack_page)).substr(0, 2), "r-");
  }
  EXPECT_GT(pool->Stats().sealed_metadata_bytes, 0u);
  // The legal neighbour: an object allocated after the seal lives in a
  // fresh span whose slack page stays writable.
  SEALPOOL_ASSERT_ALLOC(fresh, pool, 48);
  const internal::MetadataAddresses m = internal::MetadataOfForTest(fresh);
  EXPECT_EQ(PermsAt(AsPtr(m.slack_page)).substr(0, 2), "rw");
  EXPECT_TRUE(Pool::Free(fresh).ok());
}

TEST(SealedMetadataTest, WholeRecordAndTablePagesBecomeReadOnly) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-whole"), PoolOptions{});
  // 12 MiB of 4 KiB objects: two extents, whose granules cover many whole
  // record and page-table pages.
  const std::vector<void*> objs = AllocateFilled(pool.get(), 3072, 4096);
  ASSERT_EQ(objs.size(), 3072u);
  ASSERT_TRUE(pool->Seal().ok());
  size_t records_ro = 0, table_ro = 0;
  for (void* p : objs) {
    const internal::MetadataAddresses m = internal::MetadataOfForTest(p);
    records_ro += PermsAt(AsPtr(m.span_record)).substr(0, 2) == "r-";
    table_ro += PermsAt(AsPtr(m.page_entry)).substr(0, 2) == "r-";
  }
  EXPECT_GT(records_ro, 0u);
  EXPECT_GT(table_ro, objs.size() / 2);
  // Everything still answers: sizes, checks, contents.
  for (size_t i = 0; i < objs.size(); i += 97) {
    EXPECT_EQ(Pool::ObjectSize(objs[i]), 4096u);
    EXPECT_EQ(CheckCopy(objs[i], 4096, CopyDirection::kRead), ViolationKind::kNone);
    EXPECT_EQ(static_cast<unsigned char*>(objs[i])[4095], i & 0xff);
  }
}

TEST(SealedMetadataDeathTest, StoreIntoSealedSlackPageFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-store"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  ASSERT_TRUE(pool->Seal().ok());
  const internal::MetadataAddresses m = internal::MetadataOfForTest(p);
  EXPECT_EXIT(
      {
        *reinterpret_cast<volatile uint8_t*>(m.slack_page) = 0;
        std::_Exit(0);
      },
      DiedOfSegv, "");
}

using SealedMetadataReportTest = ReportModeTest;

TEST_F(SealedMetadataReportTest, FreeOfSealedObjectsWritesNoMetadata) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-free"), PoolOptions{});
  const std::vector<void*> objs = AllocateFilled(pool.get(), 50, 200);
  ASSERT_EQ(objs.size(), 50u);
  SEALPOOL_ASSERT_ALLOC(large, pool, 300000);
  ASSERT_TRUE(pool->Seal().ok());
  // Each free is refused before any write (a write would fault here).
  for (void* p : objs) {
    EXPECT_EQ(Pool::Free(p).code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(Pool::Free(large).code(), absl::StatusCode::kDataLoss);
  const std::vector<sealpool_test::RecordedViolation> seen = recorder_.Take();
  ASSERT_EQ(seen.size(), objs.size() + 1);
  for (const auto& v : seen) EXPECT_EQ(v.kind, ViolationKind::kSealedFree);
  EXPECT_EQ(Pool::ObjectSize(objs[7]), 200u);
}

TEST(SealedMetadataTest, SlotsCachedBeforeTheSealAreAbandonedOnFlush) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-flush"), PoolOptions{});
  std::vector<void*> objs = AllocateFilled(pool.get(), 64, 32);
  ASSERT_EQ(objs.size(), 64u);
  // Half go back into this thread's cache: their slack says "cached".
  for (size_t i = 0; i < 32; ++i) ASSERT_TRUE(Pool::Free(objs[i]).ok());
  ASSERT_TRUE(pool->Seal().ok());
  const size_t abandoned = pool->Stats().abandoned_bytes;
  // The flush must skip the sealed span (its slack page is read-only).
  internal::FlushThreadCacheForTest();
  EXPECT_GE(pool->Stats().abandoned_bytes, abandoned);
  EXPECT_EQ(Pool::ObjectSize(objs[40]), 32u);
  // Fresh allocations still work and never hand out an abandoned slot.
  SEALPOOL_ASSERT_ALLOC(fresh, pool, 32);
  for (size_t i = 0; i < 32; ++i) EXPECT_NE(fresh, objs[i]);
  EXPECT_TRUE(Pool::Free(fresh).ok());
}

TEST(SealedMetadataTest, DestroyMakesMetadataWritableForTheNextPool) {
  std::vector<uintptr_t> slack_pages;
  {
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-destroy"), PoolOptions{});
    const std::vector<void*> objs = AllocateFilled(pool.get(), 3072, 4096);
    ASSERT_EQ(objs.size(), 3072u);
    ASSERT_TRUE(pool->Seal().ok());
    for (size_t i = 0; i < objs.size(); i += 64) {
      slack_pages.push_back(internal::MetadataOfForTest(objs[i]).slack_page);
    }
    ASSERT_TRUE(pool.Destroy().ok());
  }
  for (uintptr_t s : slack_pages) {
    EXPECT_EQ(PermsAt(AsPtr(s)).substr(0, 2), "rw");
  }
  // The arena hands the same granules to new pools: their metadata must be
  // writable (allocation and free write slack and records).
  for (int round = 0; round < 3; ++round) {
    SEALPOOL_ASSERT_CREATE(next, UniqueName("meta-reuse"), PoolOptions{});
    std::vector<void*> objs = AllocateFilled(next.get(), 3072, 4096);
    ASSERT_EQ(objs.size(), 3072u);
    for (void* p : objs) ASSERT_TRUE(Pool::Free(p).ok());
  }
}

// Seal cost: one protection call for the data of each extent, at most
// three for its metadata, and the handshake's membarrier — the same for 10
// objects as for 100,000.
TEST(SealedMetadataTest, SealSystemCallsAreFlatInObjectCount) {
  for (size_t n : {size_t{10}, size_t{1000}, size_t{100000}}) {
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-calls"), PoolOptions{});
    const std::vector<void*> objs = AllocateFilled(pool.get(), n, 64);
    ASSERT_EQ(objs.size(), n);
    const size_t extents = pool->Stats().extents;
    const KernelCallCounts before = GetKernelCallCounts();
    ASSERT_TRUE(pool->Seal().ok());
    const KernelCallCounts d = GetKernelCallCounts() - before;
    EXPECT_GE(d.mprotect, extents) << n << " objects";
    EXPECT_LE(d.mprotect, 4 * extents) << n << " objects";
    EXPECT_LE(d.membarrier, 2u);
    EXPECT_EQ(d.mmap + d.munmap + d.mseal, 0u);
    EXPECT_LE(extents, 3u) << n << " objects";
  }
}

}  // namespace
}  // namespace sealpool
