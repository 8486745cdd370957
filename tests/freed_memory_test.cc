// Freed memory: a freed small slot is zeroed whole, so a stale pointer
// reads zeros and the next object of the slot starts all zero; and a write
// through a stale pointer is caught when the slot is handed out again
// (write-after-free: the slot is abandoned and another one is returned).
// Each attack has its legal neighbour.
//
// The stale accesses go through uninstrumented helpers: under ASan a plain
// access of a freed slot is caught by the allocator's poisoning first
// (asan_poison_test.cc), and these tests are about what the allocator
// itself does with the slot.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
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
using ::sealpool_test::ScopedOptions;
using ::sealpool_test::UniqueName;

constexpr size_t kSize = 48;      // a 64-byte slot (48 + 1 byte of slack)
constexpr size_t kSlotSize = 64;

// Reads or writes one byte through a (stale) pointer, unseen by ASan.
unsigned char StaleLoad(const void* p, size_t off) {
  return ::sealpool_test::PeekUnchecked(p, static_cast<ptrdiff_t>(off));
}
void StaleStore(void* p, size_t off, unsigned char v) {
  ::sealpool_test::PokeUnchecked(p, static_cast<ptrdiff_t>(off), v);
}

// Index of the first non-zero byte of [p, p+n), or n.
size_t FirstNonZero(const void* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (StaleLoad(p, i) != 0) return i;
  }
  return n;
}

class FreedMemoryTest : public ReportModeTest {};

// Attack: read a freed object's secrets through a stale pointer.
// Promised: the whole slot reads zero after the free (the slot sits in the
// quarantine, so no new object is there). Legal neighbour: the live object
// holds its data up to the free.
TEST_F(FreedMemoryTest, StaleReadOfAFreedSlotReadsZeros) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fm-zero"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  std::memset(p, 0xAB, kSize);
  EXPECT_EQ(StaleLoad(p, 0), 0xAB);
  EXPECT_EQ(StaleLoad(p, kSize - 1), 0xAB);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(FirstNonZero(p, kSlotSize), kSlotSize);  // data and slack
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: allocate an object of the freed object's size to read what the
// previous owner left in the slot. Promised: the reused slot (the same one,
// deterministic reuse) starts all zero.
TEST_F(FreedMemoryTest, NextObjectFromTheSlotStartsZero) {
  ScopedOptions scope("quarantine=0:random_reuse=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fm-next"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  std::memset(p, 0xCD, kSize);
  ASSERT_TRUE(Pool::Free(p).ok());
  SEALPOOL_ASSERT_ALLOC(q, pool, kSize);
  ASSERT_EQ(q, p);
  EXPECT_EQ(FirstNonZero(q, kSize), kSize);
  EXPECT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: write through a stale pointer into a freed slot (e.g. to plant a
// fake object for the slot's next owner). Promised: the allocation that
// would hand the slot out reports write-after-free (slot, slot size,
// offset), abandons the slot and returns another, zeroed object.
TEST_F(FreedMemoryTest, WriteAfterFreeIsReportedAndTheSlotAbandoned) {
  ScopedOptions scope("quarantine=0:random_reuse=0");
  const std::string name = UniqueName("fm-waf");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  ASSERT_TRUE(Pool::Free(p).ok());
  StaleStore(p, 8, 1);
  SEALPOOL_ASSERT_ALLOC(q, pool, kSize);
  EXPECT_NE(q, p);
  EXPECT_EQ(FirstNonZero(q, kSize), kSize);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kWriteAfterFree);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(v[0].object_size, kSlotSize);
  EXPECT_EQ(v[0].addr, Addr(p) + 8);
  EXPECT_GE(pool->Stats().abandoned_bytes, kSlotSize);

  // Abandoned: never handed out again (and so never reported again).
  std::vector<void*> objects{q};
  for (int i = 0; i < 3000; ++i) {
    SEALPOOL_ASSERT_ALLOC(o, pool, kSize);
    ASSERT_NE(o, p) << "allocation " << i;
    objects.push_back(o);
  }
  for (void* o : objects) ASSERT_TRUE(Pool::Free(o).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: the stale write lands in the slot's slack, past the old object's
// end. Promised: caught the same way (the whole slot must read zero).
TEST_F(FreedMemoryTest, WriteAfterFreeIntoTheSlackIsReported) {
  ScopedOptions scope("quarantine=0:random_reuse=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fm-waf-slack"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 40);  // a 48-byte slot
  ASSERT_TRUE(Pool::Free(p).ok());
  StaleStore(p, 44, 0x7F);
  SEALPOOL_ASSERT_ALLOC(q, pool, 40);
  EXPECT_NE(q, p);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kWriteAfterFree);
  EXPECT_EQ(v[0].addr, Addr(p) + 44);
  EXPECT_TRUE(Pool::Free(q).ok());
}

// Legal neighbour of the write-after-free: a freed slot nobody wrote comes
// back (deterministic reuse) zeroed and without a report.
TEST_F(FreedMemoryTest, UntouchedFreedSlotComesBackWithoutAReport) {
  ScopedOptions scope("quarantine=0:random_reuse=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fm-clean"), PoolOptions{});
  for (int i = 0; i < 100; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
    std::memset(p, 0xEE, kSize);
    ASSERT_TRUE(Pool::Free(p).ok());
    SEALPOOL_ASSERT_ALLOC(q, pool, kSize);
    ASSERT_EQ(q, p);
    ASSERT_EQ(FirstNonZero(q, kSize), kSize);
    ASSERT_TRUE(Pool::Free(q).ok());
  }
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_EQ(pool->Stats().abandoned_bytes, 0u);
}

// A write-rare pool's memory is its memfd's: guard pages over a freed
// large object do not drop those bytes. Promised: a freed large span that
// is reused (by small objects, or by another large object) reads zero, so
// no false write-after-free report and no stale data. Legal neighbour: the
// large object keeps its bytes while live.
TEST_F(FreedMemoryTest, ReusedLargeSpanOfAWriteRarePoolReadsZero) {
  ScopedOptions scope("large_quarantine=0");
  PoolOptions options;
  options.flags = kPoolWriteRare;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fm-wr-large"), options);
  constexpr size_t kLarge = 100000;
  SEALPOOL_ASSERT_ALLOC(big, pool, kLarge);
  std::memset(big, 0xA5, kLarge);
  EXPECT_EQ(StaleLoad(big, kLarge - 1), 0xA5);
  ASSERT_TRUE(Pool::Free(big).ok());
  SEALPOOL_ASSERT_ALLOC(again, pool, kLarge);
  EXPECT_EQ(FirstNonZero(again, kLarge), kLarge);
  ASSERT_TRUE(Pool::Free(again).ok());
  std::vector<void*> small;
  for (int i = 0; i < 4000; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, kSize);
    ASSERT_EQ(FirstNonZero(q, kSize), kSize);
    small.push_back(q);
  }
  for (void* q : small) ASSERT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// The C API reports the same through the handler; sp_alloc still succeeds.
TEST_F(FreedMemoryTest, CApiAllocStillSucceedsAfterAWriteAfterFree) {
  ScopedOptions scope("quarantine=0:random_reuse=0");
  sp_pool* pool = sp_pool_create(UniqueName("fm-capi").c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, kSize);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(sp_free(p), 0);
  StaleStore(p, 0, 1);
  void* q = sp_alloc(pool, kSize);
  ASSERT_NE(q, nullptr);
  EXPECT_NE(q, p);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(static_cast<int>(v[0].kind), SP_VIOLATION_WRITE_AFTER_FREE);
  EXPECT_EQ(sp_free(q), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// Abort mode: the exact headline.
TEST(FreedMemoryDeathTest, WriteAfterFreeAbortsWithTheHeadline) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ScopedOptions scope("quarantine=0:random_reuse=0");
  SEALPOOL_ASSERT_CREATE(pool, "fm-death-waf", PoolOptions{});
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        void* p = *pool->Allocate(kSize);
        (void)Pool::Free(p);
        StaleStore(p, 8, 1);
        (void)pool->Allocate(kSize);
      },
      "sealpool: write after free detected in pool 'fm-death-waf' \\(slot "
      "0x[0-9a-f]+, slot size 64, written at offset 8\\)!");
}

}  // namespace
}  // namespace sealpool
