// Free: legal frees, and double, interior, foreign and stale frees in report
// mode (status, handler record) and in abort mode (FreeDeathTest messages).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

TEST(FreeTest, FreeNullIsOk) { EXPECT_TRUE(Pool::Free(nullptr).ok()); }

TEST(FreeTest, FreeingEachObjectOnceSucceeds) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-once"), PoolOptions{});
  const uint64_t violations_before = ViolationCount();
  std::vector<void*> objects;
  for (int i = 0; i < 1000; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 64);
    objects.push_back(p);
  }
  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(ViolationCount(), violations_before);
  EXPECT_EQ(pool->Stats().live_objects, 0u);
  EXPECT_EQ(pool->Stats().violations, 0u);
}

TEST(FreeTest, FreeingTheStartOfEveryKindOfObjectSucceeds) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-kinds"), PoolOptions{});
  std::vector<void*> objects;
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{16}, size_t{64}, size_t{1000},
        size_t{16384}, size_t{16385}, size_t{64 * 1024}, size_t{1 << 20}}) {
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    objects.push_back(p);
  }
  // Free in an order different from allocation.
  for (size_t i = 0; i < objects.size(); i += 2) {
    EXPECT_TRUE(Pool::Free(objects[i]).ok());
  }
  for (size_t i = 1; i < objects.size(); i += 2) {
    EXPECT_TRUE(Pool::Free(objects[i]).ok());
  }
  EXPECT_EQ(pool->Stats().live_objects, 0u);
}

TEST(FreeTest, FreeAfterDestroyWhileReferencedIsAllowed) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-destroyed-ref"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 80);
  Pool* held = pool->Ref();
  ASSERT_TRUE(pool.Destroy().ok());
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(held->Stats().live_objects, 0u);
  held->Unref();
}

class FreeReportTest : public ReportModeTest {};

TEST_F(FreeReportTest, DoubleFreeIsReportedOnceAndSlotNotReused) {
  const std::string name = UniqueName("free-double");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  const uint64_t count_before = ViolationCount();

  ASSERT_TRUE(Pool::Free(p).ok());
  ASSERT_TRUE(recorder_.Take().empty());
  absl::Status status = Pool::Free(p);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;

  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kDoubleFree);
  EXPECT_TRUE(v[0].has_pool_name);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].pool_id, pool->id());
  EXPECT_EQ(v[0].addr, Addr(p));
  EXPECT_EQ(ViolationCount(), count_before + 1);
  EXPECT_EQ(pool->Stats().violations, 1u);
  EXPECT_EQ(pool->Stats().live_objects, 0u);

  // The pool keeps working, and the slot is not handed out twice.
  std::set<void*> seen;
  std::vector<void*> objects;
  for (int i = 0; i < 1000; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, 64);
    EXPECT_TRUE(seen.insert(q).second) << "slot handed out twice: " << q;
    std::memset(q, i & 0xff, 64);
    objects.push_back(q);
  }
  EXPECT_EQ(pool->Stats().live_objects, 1000u);
  for (void* q : objects) EXPECT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_EQ(pool->Stats().live_objects, 0u);
}

TEST_F(FreeReportTest, RepeatedDoubleFreesAreEachReported) {
  const std::string name = UniqueName("free-double-rep");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 24);
  ASSERT_TRUE(Pool::Free(p).ok());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Pool::Free(p).ok());
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kDoubleFree);
    EXPECT_EQ(r.pool_name, name);
  }
  SEALPOOL_ASSERT_ALLOC(q, pool, 24);
  SEALPOOL_ASSERT_ALLOC(r, pool, 24);
  EXPECT_NE(q, r);
  EXPECT_TRUE(Pool::Free(q).ok());
  EXPECT_TRUE(Pool::Free(r).ok());
}

TEST_F(FreeReportTest, DoubleFreeOfLargeObjectIsReported) {
  const std::string name = UniqueName("free-double-large");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 100 * 1024);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_FALSE(Pool::Free(p).ok());
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  // Once the span is gone this may only be recognisable as an invalid free.
  EXPECT_TRUE(v[0].kind == ViolationKind::kDoubleFree ||
              v[0].kind == ViolationKind::kInvalidFree)
      << static_cast<int>(v[0].kind);
  EXPECT_EQ(v[0].addr, Addr(p));
  SEALPOOL_ASSERT_ALLOC(q, pool, 100 * 1024);
  std::memset(q, 3, 100 * 1024);
  EXPECT_TRUE(Pool::Free(q).ok());
}

TEST_F(FreeReportTest, InteriorPointerFreeIsInvalid) {
  const std::string name = UniqueName("free-interior");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  SEALPOOL_ASSERT_ALLOC(large, pool, 64 * 1024);
  std::memset(p, 0x42, 64);
  for (void* bad :
       {static_cast<void*>(AsBytes(p) + 1), static_cast<void*>(AsBytes(p) + 16),
        static_cast<void*>(AsBytes(p) + 63),
        static_cast<void*>(AsBytes(large) + 1),
        static_cast<void*>(AsBytes(large) + 4096)}) {
    absl::Status status = Pool::Free(bad);
    EXPECT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    std::vector<RecordedViolation> v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, ViolationKind::kInvalidFree);
    EXPECT_EQ(v[0].addr, Addr(bad));
    if (v[0].has_pool_name) {
      EXPECT_EQ(v[0].pool_name, name);
    }
  }
  // The objects are untouched and still live.
  EXPECT_EQ(Pool::ObjectSize(p), 64u);
  EXPECT_EQ(Pool::ObjectSize(large), 64u * 1024);
  for (int i = 0; i < 64; ++i) ASSERT_EQ(AsBytes(p)[i], 0x42);
  EXPECT_EQ(pool->Stats().live_objects, 2u);
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(large).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST_F(FreeReportTest, FreeOfForeignPointersIsInvalid) {
  int on_stack = 0;
  void* heap = std::malloc(32);
  ASSERT_NE(heap, nullptr);
  static int in_data = 0;
  for (void* bad :
       {static_cast<void*>(&on_stack), heap, static_cast<void*>(&in_data)}) {
    absl::Status status = Pool::Free(bad);
    EXPECT_FALSE(status.ok()) << bad;
    std::vector<RecordedViolation> v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, ViolationKind::kInvalidFree);
    EXPECT_EQ(v[0].addr, Addr(bad));
    EXPECT_FALSE(v[0].has_pool_name);
  }
  std::free(heap);
}

TEST_F(FreeReportTest, FreeOfGuardPageAddressIsInvalid) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-guard"), PoolOptions{});
  const size_t kSize = 64 * 1024;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  void* guard = AsBytes(p) + kSize;
  ASSERT_EQ(QueryAddress(guard).page, PageKind::kGuard);
  EXPECT_FALSE(Pool::Free(guard).ok());
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kInvalidFree);
  EXPECT_EQ(v[0].addr, Addr(guard));
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(FreeReportTest, FreeInReleasedPoolIsInvalid) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-released"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  ASSERT_TRUE(pool.Destroy().ok());  // last reference: released
  EXPECT_FALSE(Pool::Free(p).ok());
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kInvalidFree);
  EXPECT_EQ(v[0].addr, Addr(p));
}

TEST_F(FreeReportTest, HandlerRemovalStopsCalls) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-nohandler"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  SetViolationHandler(nullptr, nullptr);
  const uint64_t before = ViolationCount();
  EXPECT_FALSE(Pool::Free(AsBytes(p) + 8).ok());
  EXPECT_EQ(ViolationCount(), before + 1);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(FreeModeTest, ViolationKindNamesAreStableAndDistinct) {
  EXPECT_STREQ(ViolationKindName(ViolationKind::kDoubleFree), "double-free");
  std::set<std::string> names;
  for (int k = 1; k < kViolationKindCount; ++k) {
    const char* name = ViolationKindName(static_cast<ViolationKind>(k));
    ASSERT_NE(name, nullptr) << "kind " << k;
    EXPECT_NE(std::string(name), "") << "kind " << k;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
}

TEST(FreeModeTest, ModeRoundTrips) {
  EXPECT_EQ(GetMode(), Mode::kAbort);
  SetMode(Mode::kReport);
  EXPECT_EQ(GetMode(), Mode::kReport);
  SetMode(Mode::kAbort);
  EXPECT_EQ(GetMode(), Mode::kAbort);
}

// Abort mode: each violation writes one stable line and aborts.

TEST(FreeDeathTest, DoubleFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // A fixed name: the threadsafe death-test child re-runs this test alone,
  // so a counter-based name could differ between parent and child.
  const std::string name = "free-death-double";
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(p);
        (void)Pool::Free(p);
      },
      "sealpool: double free detected in pool '" + name + "'");
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(FreeDeathTest, InteriorFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-interior"),
                         PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(AsBytes(p) + 1);
      },
      "sealpool: invalid free of 0x[0-9a-f]+");
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(AsBytes(p) + 16);
      },
      "sealpool: invalid free of 0x[0-9a-f]+");
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(FreeDeathTest, ForeignFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int on_stack = 0;
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(&on_stack);
      },
      "sealpool: invalid free of 0x[0-9a-f]+");
  void* heap = std::malloc(48);
  ASSERT_NE(heap, nullptr);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(heap);
      },
      "sealpool: invalid free of 0x[0-9a-f]+");
  std::free(heap);
}

TEST(FreeDeathTest, FreeInReleasedPoolAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-released"),
                         PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  ASSERT_TRUE(pool.Destroy().ok());
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(p);
      },
      "sealpool: invalid free of 0x[0-9a-f]+");
}

TEST(FreeDeathTest, CorruptSpanCanaryAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-canary"), PoolOptions{});
  // Two consecutive small objects of a fresh pool share a span.
  SEALPOOL_ASSERT_ALLOC(a, pool, 64);
  SEALPOOL_ASSERT_ALLOC(b, pool, 64);
  // The corruption happens in the child only; the parent's pool stays sound.
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        if (!internal::CorruptSpanCanaryForTest(a)) std::_Exit(3);
        (void)Pool::Free(b);
        // Make sure the span record is used on a slow path.
        internal::FlushThreadCacheForTest();
        for (int i = 0; i < 4096; ++i) {
          absl::StatusOr<void*> q = pool->Allocate(64);
          if (q.ok()) (void)Pool::Free(*q);
        }
        internal::FlushThreadCacheForTest();
        (void)Pool::Free(a);
        internal::FlushThreadCacheForTest();
      },
      "sealpool: metadata corruption detected");
  EXPECT_TRUE(Pool::Free(a).ok());
  EXPECT_TRUE(Pool::Free(b).ok());
}

// A stray write into the slack pages raises an object's slot entry past
// its slot size. Promised: the lookup refuses the object (never a wrapped
// size of about 4 GiB) and the free is metadata corruption. Legal
// neighbour: the entry that belongs there frees cleanly.
TEST(FreeDeathTest, SlotEntryLargerThanItsSlotAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-entry"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(ok, pool, 40);  // 48-byte slot, entry 8
  SEALPOOL_ASSERT_ALLOC(p, pool, 40);
  EXPECT_TRUE(Pool::Free(ok).ok());
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        if (!internal::SetSlotEntryForTest(p, 200)) std::_Exit(3);
        if (Pool::ObjectSize(p) != 0) std::_Exit(4);
        (void)Pool::Free(p);
      },
      "sealpool: metadata corruption detected in pool '[^']*' \\(slot entry "
      "larger than its slot at ");
  EXPECT_EQ(Pool::ObjectSize(p), 40u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// A span's free count says a slot is free that is not. Promised: the
// refill that looks at every slot reports metadata corruption instead of
// spinning (the hang a racing double free used to cause). Legal
// neighbour: the same allocations with the count intact succeed.
TEST(FreeDeathTest, FreeCountThatDisagreesWithTheSlotsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-count"), PoolOptions{});
  const auto fill_span = [&pool](std::vector<void*>* objects) {
    // 15-byte objects take 16-byte slots: 3584 to a span.
    for (int i = 0; i < 4000; ++i) {
      absl::StatusOr<void*> q = pool->Allocate(15);
      if (!q.ok()) return false;
      objects->push_back(*q);
    }
    return true;
  };
  std::vector<void*> objects;
  ASSERT_TRUE(fill_span(&objects));
  for (void* q : objects) ASSERT_TRUE(Pool::Free(q).ok());
  internal::FlushThreadCacheForTest();
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        if (!internal::AddToSpanFreeCountForTest(objects[0], 1)) std::_Exit(3);
        std::vector<void*> again;
        (void)fill_span(&again);
        std::_Exit(5);  // no report: the test fails on the exit status
      },
      "sealpool: metadata corruption detected in pool '[^']*' \\(span free "
      "count does not match its slot states");
}

// A span whose high-water mark is past its slots (corrupt metadata) is
// reported at the next refill from it, instead of handing out memory past
// the span. The legal neighbour: a mark at the slot count, every slot
// counted as used, refills as before.
TEST(FreeDeathTest, HighWaterMarkPastTheSlotsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-mark"), PoolOptions{});
  std::vector<void*> objects;
  for (int i = 0; i < 200; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 15);
    objects.push_back(p);
  }
  for (void* q : objects) ASSERT_TRUE(Pool::Free(q).ok());
  internal::FlushThreadCacheForTest();
  ASSERT_TRUE(internal::SetSpanHighWaterMarkForTest(objects[0], 0));
  for (int i = 0; i < 200; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 15);
    ASSERT_TRUE(Pool::Free(p).ok());
  }
  internal::FlushThreadCacheForTest();
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        if (!internal::SetSpanHighWaterMarkForTest(objects[0], 1)) std::_Exit(3);
        (void)pool->Allocate(15);
        std::_Exit(5);  // no report: the test fails on the exit status
      },
      "sealpool: metadata corruption detected in pool '[^']*' \\(span "
      "high-water mark or cursor out of range");
}

TEST(FreeDeathTest, CorruptSpanLinkAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("free-death-link"), PoolOptions{});
  // Fill several spans of one size class, then free every other object so
  // that the spans sit on the partial list.
  std::vector<void*> objects;
  for (int i = 0; i < 6000; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 64);
    objects.push_back(p);
  }
  std::vector<void*> kept;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i % 2 == 0) {
      ASSERT_TRUE(Pool::Free(objects[i]).ok());
    } else {
      kept.push_back(objects[i]);
    }
  }
  internal::FlushThreadCacheForTest();
  void* victim = kept[kept.size() / 2];
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        if (!internal::CorruptSpanLinkForTest(victim)) std::_Exit(3);
        // Force list updates: empty every span, then refill the class.
        for (void* p : kept) (void)Pool::Free(p);
        internal::FlushThreadCacheForTest();
        std::vector<void*> again;
        for (int i = 0; i < 6000; ++i) {
          absl::StatusOr<void*> q = pool->Allocate(64);
          if (q.ok()) again.push_back(*q);
        }
        for (void* p : again) (void)Pool::Free(p);
        internal::FlushThreadCacheForTest();
      },
      "sealpool: metadata corruption detected");
  for (void* p : kept) ASSERT_TRUE(Pool::Free(p).ok());
}

TEST(FreeTest, CorruptionHooksRejectNonSpanPointers) {
  int on_stack = 0;
  EXPECT_FALSE(internal::CorruptSpanCanaryForTest(&on_stack));
  EXPECT_FALSE(internal::CorruptSpanLinkForTest(&on_stack));
}

}  // namespace
}  // namespace sealpool
