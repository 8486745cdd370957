// Canaries: every small object has at least one byte of slack after it,
// whose first bytes (up to 64) hold a keyed canary with no zero byte; a
// large object has canaries in its tail gap and at the end of its head gap.
// A linear overflow (or underflow) is a heap-overflow report when the
// object is freed; in report mode the object is still freed. Each attack
// has its legal neighbour: writing every byte of the object is fine.
//
// The overflowing writes go through uninstrumented helpers: under ASan the
// slack and gaps are poisoned and ASan would catch the write first.

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
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::ScopedOptions;
using ::sealpool_test::UniqueName;

// One byte at p + off, unseen by ASan and by the compiler's bounds checks.
void Poke(void* p, ptrdiff_t off, unsigned char v) {
  ::sealpool_test::PokeUnchecked(p, off, v);
}
// n bytes of v from p + off.
void Fill(void* p, ptrdiff_t off, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; ++i) Poke(p, off + static_cast<ptrdiff_t>(i), v);
}

// strcpy through a call the compiler cannot see into: it does not know the
// destination's size, so it neither warns nor folds the copy.
ABSL_ATTRIBUTE_NOINLINE char* OpaqueStrcpy(void* dst, const char* src) {
  char* volatile d = static_cast<char*>(dst);
  return std::strcpy(d, src);
}

class CanaryTest : public ReportModeTest {
 protected:
  // Frees p and expects one heap-overflow report for the object [p, size)
  // at an offset in [first, last] (negative: before the object); the object
  // is freed anyway. The report names the first byte that differs from the
  // canary: an overflowing byte other than 0 may match its canary byte by
  // chance (1 in 255), so a run of them gives a range; a 0 never matches.
  void ExpectOverflowAtFree(void* p, size_t size, ptrdiff_t first,
                            ptrdiff_t last) {
    const absl::Status status = Pool::Free(p);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    std::vector<RecordedViolation> v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, ViolationKind::kHeapOverflow);
    EXPECT_EQ(v[0].object_start, Addr(p));
    EXPECT_EQ(v[0].object_size, size);
    const ptrdiff_t offset = static_cast<ptrdiff_t>(v[0].addr - Addr(p));
    EXPECT_GE(offset, first);
    EXPECT_LE(offset, last);
    EXPECT_EQ(Pool::ObjectSize(p), 0u) << "the object was not freed";
    EXPECT_FALSE(Pool::Free(p).ok());  // freed: a second free is a double free
    v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, ViolationKind::kDoubleFree);
  }
  // Legal neighbour: every byte of the object written, then a clean free.
  void ExpectOverflowAtFree(void* p, size_t size, ptrdiff_t offset) {
    ExpectOverflowAtFree(p, size, offset, offset);
  }
  void ExpectCleanFree(void* p, size_t size) {
    std::memset(p, 0xA5, size);
    EXPECT_TRUE(Pool::Free(p).ok());
    EXPECT_TRUE(recorder_.Take().empty());
  }
};

// Attack: off-by-one, e.g. a NUL terminator written one past the end.
// Promised: the slack's canary (no zero byte) catches it, even in a slot
// with a single byte of slack (47 bytes in a 48-byte slot).
TEST_F(CanaryTest, OneByteOverflowIntoTheSlackIsReported) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-off-by-one"), PoolOptions{});
  for (size_t size : {size_t{24}, size_t{47}, size_t{100}, size_t{1000}}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(ok, pool, size);
    ExpectCleanFree(ok, size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    Poke(p, static_cast<ptrdiff_t>(size), 0);
    ExpectOverflowAtFree(p, size, static_cast<ptrdiff_t>(size));
  }
}

// Attack: an 8-byte overflow of a 64-byte object (an 80-byte slot), and one
// of 24 bytes that runs through the slack into the next slot. Promised: the
// overflowing object's free reports it at offset 64; the neighbour's own
// canary is intact, so its free is clean.
TEST_F(CanaryTest, OverflowTowardsTheNeighbourIsReported) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-neighbour"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(ok, pool, 64);
  ExpectCleanFree(ok, 64);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  ASSERT_EQ(QueryAddress(p).slot_size, 80u);
  Fill(p, 64, 8, 'A');
  ExpectOverflowAtFree(p, 64, 64, 71);

  // Two objects in neighbouring slots.
  std::vector<void*> objects;
  void* lower = nullptr;
  void* upper = nullptr;
  for (int i = 0; i < 64 && lower == nullptr; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, 64);
    for (void* o : objects) {
      if (Addr(o) + 80 == Addr(q)) lower = o, upper = q;
      if (Addr(q) + 80 == Addr(o)) lower = q, upper = o;
    }
    objects.push_back(q);
  }
  ASSERT_NE(lower, nullptr) << "no neighbouring slots";
  Fill(lower, 64, 24, 'B');  // 16 bytes of slack, 8 of the neighbour
  for (void* o : objects) {
    if (o == lower) {
      ExpectOverflowAtFree(o, 64, 64, 79);
    } else {
      EXPECT_TRUE(Pool::Free(o).ok());
    }
  }
  EXPECT_TRUE(recorder_.Take().empty()) << "upper " << upper;
}

// Attack: strcpy of a 20-byte string (19 characters and the NUL) into a
// 16-byte object. Promised: heap-overflow at offset 16. Legal neighbour: a
// 16-byte string (15 characters and the NUL). ASan builds skip it: ASan's
// strcpy interceptor catches the overflow before the canary can.
TEST_F(CanaryTest, StrcpyPastTheEndIsReported) {
  if (SEALPOOL_TEST_ASAN) GTEST_SKIP() << "ASan's strcpy interceptor reports it";
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-strcpy"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(ok, pool, 16);
  OpaqueStrcpy(ok, "fifteen chars..");
  EXPECT_TRUE(Pool::Free(ok).ok());
  EXPECT_TRUE(recorder_.Take().empty());
  SEALPOOL_ASSERT_ALLOC(p, pool, 16);
  OpaqueStrcpy(p, "nineteen characters");
  ExpectOverflowAtFree(p, 16, 16, 19);  // p[19] is the NUL
}

// Attack: a write into the redzone of a kPoolRedzones pool, 5 bytes past
// the object. Promised: the canary there reports it at offset size + 5.
TEST_F(CanaryTest, RedzoneWriteIsReported) {
  PoolOptions o;
  o.flags = kPoolRedzones;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-redzone"), o);
  SEALPOOL_ASSERT_ALLOC(ok, pool, 64);
  ExpectCleanFree(ok, 64);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  EXPECT_GE(QueryAddress(p).redzone, 16u);
  Poke(p, 64 + 5, 0);
  ExpectOverflowAtFree(p, 64, 64 + 5);
}

// Attack: an object whose size is exactly a class size (64) used to fill
// its slot, so its neighbour started right at its end. Promised: it gets
// slack now (a larger slot) and a one-byte overflow is reported.
// Legal neighbour: with canaries=0 it fills a 64-byte slot as before.
TEST_F(CanaryTest, ExactClassSizeObjectHasSlack) {
  {
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-exact"), PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, pool, 64);
    EXPECT_EQ(Pool::ObjectSize(p), 64u);
    EXPECT_GT(QueryAddress(p).slot_size, 64u);
    Poke(p, 64, 0);
    ExpectOverflowAtFree(p, 64, 64);
  }
  ScopedOptions scope("canaries=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-exact-off"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  EXPECT_EQ(QueryAddress(p).slot_size, 64u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Large objects: 40003 bytes end 13 bytes before the trailing guard page
// (end-aligned to 16) and start 944 bytes into their first page.
constexpr size_t kLargeGap = 40003;
// 40000 is a multiple of 16: the object ends exactly at the guard page.
constexpr size_t kLargeFlush = 40000;

// Attack: a one-byte overflow into a large object's tail gap. Promised:
// heap-overflow at offset size.
TEST_F(CanaryTest, LargeTailGapOverflowIsReported) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-large-tail"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(ok, pool, kLargeGap);
  ExpectCleanFree(ok, kLargeGap);
  SEALPOOL_ASSERT_ALLOC(p, pool, kLargeGap);
  ASSERT_NE((Addr(p) + kLargeGap) % 4096, 0u) << "no tail gap";
  Poke(p, static_cast<ptrdiff_t>(kLargeGap), 0);
  ExpectOverflowAtFree(p, kLargeGap, static_cast<ptrdiff_t>(kLargeGap));
}

// Attack: a one-byte underflow, p[-1], into the head gap. Promised:
// heap-overflow with a negative offset.
TEST_F(CanaryTest, LargeHeadGapUnderflowIsReported) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("canary-large-head"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLargeGap);
  ASSERT_NE(Addr(p) % 4096, 0u) << "no head gap";
  Poke(p, -1, 0);
  ExpectOverflowAtFree(p, kLargeGap, -1);
}

// The C API: sp_free returns SP_VIOLATION_HEAP_OVERFLOW (report mode).
TEST_F(CanaryTest, CApiFreeReturnsTheHeapOverflowCode) {
  sp_pool* pool = sp_pool_create(UniqueName("canary-capi").c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 30);
  ASSERT_NE(p, nullptr);
  Poke(p, 30, 0);
  EXPECT_EQ(sp_free(p), SP_VIOLATION_HEAP_OVERFLOW);
  EXPECT_EQ(recorder_.Take().size(), 1u);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// Abort mode: the exact headlines.
TEST(CanaryDeathTest, SlackOverflowAbortsWithTheHeadline) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "canary-death-slack", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 24);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        Poke(p, 24, 0);
        (void)Pool::Free(p);
      },
      "sealpool: heap overflow detected in pool 'canary-death-slack' "
      "\\(object 0x[0-9a-f]+, size 24, canary overwritten at offset 24\\)!");
  EXPECT_TRUE(Pool::Free(p).ok());  // untouched here: the legal neighbour
}

TEST(CanaryDeathTest, LargeUnderflowAbortsWithANegativeOffset) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "canary-death-head", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLargeGap);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        Poke(p, -1, 0);
        (void)Pool::Free(p);
      },
      "sealpool: heap overflow detected in pool 'canary-death-head' "
      "\\(object 0x[0-9a-f]+, size 40003, canary overwritten at offset "
      "-1\\)!");
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Attack: a one-byte overflow of a large object that ends at its trailing
// guard page. Promised: the write faults at once. Legal neighbour: the
// object's last byte.
TEST(CanaryDeathTest, LargeObjectEndingAtTheGuardFaultsOnOverflow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "canary-death-guard", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLargeFlush);
  ASSERT_EQ((Addr(p) + kLargeFlush) % 4096, 0u);
  Poke(p, kLargeFlush - 1, 1);
  EXPECT_EXIT(Poke(p, kLargeFlush, 1), DiedOfSegv, "");
  EXPECT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
