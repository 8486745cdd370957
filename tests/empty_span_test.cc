// Empty small spans: when every slot of a span is free again, the pool
// keeps one such span per size class with its pages and gives the data
// pages of any more back to the kernel (MADV_DONTNEED). They read zero
// when next touched, as freed slots must, so the write-after-free check
// still holds for them. Residency is read with mincore(2).

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::ScopedOptions;
using ::sealpool_test::UniqueName;

// 4000 bytes (plus a canary byte) take a 4096-byte slot: one page each,
// page-aligned, 62 to a span of four granules.
constexpr size_t kSize = 4000;
constexpr size_t kSlotsPerSpan = 62;
constexpr size_t kSpans = 3;
constexpr size_t kObjects = kSpans * kSlotsPerSpan;

bool Resident(const void* p) {
  unsigned char v = 0;
  const uintptr_t page = Addr(p) & ~uintptr_t{4095};
  EXPECT_EQ(mincore(reinterpret_cast<void*>(page), 4096, &v), 0);
  return (v & 1) != 0;
}

class EmptySpanTest : public ReportModeTest {
 protected:
  // Fills kSpans spans with dirty objects, then frees them all and flushes
  // the thread's cache, so that every span is empty.
  void FillAndEmpty(Pool* pool, std::vector<void*>* freed) {
    std::set<uintptr_t> spans;
    for (size_t i = 0; i < kObjects; ++i) {
      SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
      std::memset(p, 0x5a, kSize);
      freed->push_back(p);
      spans.insert(Addr(p) >> 18);  // a 256 KiB span
    }
    ASSERT_GE(spans.size(), kSpans) << "the objects fill " << kSpans << " spans";
    for (void* p : *freed) ASSERT_TRUE(Pool::Free(p).ok());
    internal::FlushThreadCacheForTest();
  }
};

// Promised: of three emptied spans at most one keeps its pages; the other
// two spans' slots are no longer resident. Legal neighbour: the slots are
// handed out again, read zero whole, and take writes, with no report.
TEST_F(EmptySpanTest, EmptySpansBeyondOneGiveTheirPagesBack) {
  ScopedOptions scope("quarantine=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("empty-spans"), PoolOptions{});
  std::vector<void*> freed;
  FillAndEmpty(pool.get(), &freed);
  size_t resident = 0;
  for (void* p : freed) resident += Resident(p);
  EXPECT_LE(resident, kSlotsPerSpan) << "more than one empty span kept its pages";

  std::vector<void*> again;
  for (size_t i = 0; i < kObjects; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
    const unsigned char* b = static_cast<const unsigned char*>(p);
    size_t nonzero = 0;
    for (size_t j = 0; j < kSize; ++j) nonzero += b[j] != 0;
    EXPECT_EQ(nonzero, 0u) << "object " << i;
    std::memset(p, 0x33, kSize);
    again.push_back(p);
  }
  for (void* p : again) ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

// Attack: a write through a stale pointer into a slot whose span gave its
// pages back (the write brings a fresh page in). Promised: the allocation
// that hands the slot out again reports write-after-free at that byte.
TEST_F(EmptySpanTest, WriteAfterFreeIntoAGivenBackSpanIsReported) {
  ScopedOptions scope("quarantine=0");
  const std::string name = UniqueName("empty-spans-waf");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  std::vector<void*> freed;
  FillAndEmpty(pool.get(), &freed);
  void* stale = nullptr;
  for (void* p : freed) {
    if (!Resident(p)) {
      stale = p;
      break;
    }
  }
  ASSERT_NE(stale, nullptr) << "no span gave its pages back";
  ::sealpool_test::PokeUnchecked(stale, 8, 1);

  std::vector<void*> again;
  for (size_t i = 0; i < kObjects; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
    EXPECT_NE(p, stale);
    again.push_back(p);
  }
  const std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kWriteAfterFree);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].addr, Addr(stale) + 8);
  for (void* p : again) ASSERT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
