// Seal(): every object allocated so far becomes read-only at the page level
// (a plain store faults), reads keep working, the checker refuses writes and
// free refuses sealed objects; later allocations come from fresh memory that
// a later seal covers; slots freed before a seal are abandoned, never handed
// out again; and sealing costs a few mappings per extent, whatever the
// object count.

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/sealpool/sealpool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::AsBytes;
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::ExitedZero;
using ::sealpool_test::KilledBySegv;
using ::sealpool_test::kPage;
using ::sealpool_test::PageEnd;
using ::sealpool_test::PageStart;
using ::sealpool_test::PermsAt;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::RunInChild;
using ::sealpool_test::UniqueName;
using ::sealpool_test::WritableMappingsOver;

constexpr size_t kSmall = 40;
constexpr size_t kLarge = 100000;

// The byte that FillPattern() puts at offset i of an object tagged `tag`.
unsigned char PatternByte(size_t tag, size_t i) {
  return static_cast<unsigned char>((tag * 131 + i * 7 + 3) & 0xff);
}

void FillPattern(void* p, size_t size, size_t tag) {
  unsigned char* c = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < size; ++i) c[i] = PatternByte(tag, i);
}

// Index of the first byte that differs from the pattern, or `size`.
size_t FirstPatternMismatch(const void* p, size_t size, size_t tag) {
  const unsigned char* c = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < size; ++i) {
    if (c[i] != PatternByte(tag, i)) return i;
  }
  return size;
}


// ---------------------------------------------------------------------------
// Reads and contents.

TEST(SealTest, ContentsIntactAndReadableForManyObjects) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-many"), PoolOptions{});
  std::mt19937 rng(12345);
  struct Obj {
    void* p;
    size_t size;
  };
  std::vector<Obj> objects;
  size_t live_bytes = 0;
  for (size_t i = 0; i < 1000; ++i) {
    // Mostly small objects, one in ten large.
    const size_t size =
        (i % 10 == 9) ? 4097 + rng() % 200000 : 1 + rng() % 3000;
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    FillPattern(p, size, i);
    objects.push_back({p, size});
    live_bytes += size;
  }
  ASSERT_TRUE(pool->Seal().ok());
  for (size_t i = 0; i < objects.size(); ++i) {
    const Obj& o = objects[i];
    ASSERT_EQ(FirstPatternMismatch(o.p, o.size, i), o.size)
        << "object " << i << " of size " << o.size;
    ASSERT_EQ(Pool::ObjectSize(o.p), o.size);
    ASSERT_EQ(CheckCopy(o.p, o.size, CopyDirection::kRead),
              ViolationKind::kNone);
    ASSERT_EQ(Pool::Owner(o.p), pool.get());
  }
  const PoolStats s = pool->Stats();
  EXPECT_EQ(s.seals, 1u);
  EXPECT_EQ(s.live_objects, objects.size());
  EXPECT_EQ(s.live_bytes, live_bytes);
  EXPECT_GE(s.sealed_bytes, live_bytes);
  EXPECT_LE(s.sealed_bytes, s.reserved_bytes);
  EXPECT_EQ(s.sealed_bytes % kPage, 0u);
}

TEST(SealTest, SealOfEmptyPoolAndRepeatedSealSucceed) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-empty"), PoolOptions{});
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(pool->Stats().seals, 1u);
  EXPECT_EQ(pool->Stats().sealed_bytes, 0u);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  ASSERT_TRUE(pool->Seal().ok());
  const size_t sealed = pool->Stats().sealed_bytes;
  EXPECT_GT(sealed, 0u);
  // Nothing new to seal: the seal succeeds and seals no more bytes.
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(pool->Stats().seals, 3u);
  EXPECT_EQ(pool->Stats().sealed_bytes, sealed);
  EXPECT_EQ(Pool::ObjectSize(p), 64u);
}

// ---------------------------------------------------------------------------
// A plain store into sealed memory faults.

TEST(SealDeathTest, StoreIntoSealedSmallObjectFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-death-small"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  volatile char* c = AsBytes(p);
  c[0] = 'x';  // Writable before the seal.
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(c[0], 'x');  // Readable after it.
  EXPECT_EXIT({ c[0] = 'y'; }, DiedOfSegv, "");
  EXPECT_EXIT({ c[kSmall - 1] = 'y'; }, DiedOfSegv, "");
  EXPECT_EQ(c[0], 'x');
}

TEST(SealDeathTest, StoreIntoSealedLargeObjectFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-death-large"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  volatile char* c = AsBytes(p);
  c[0] = 'x';
  c[kLarge - 1] = 'z';
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(c[kLarge - 1], 'z');
  EXPECT_EXIT({ c[0] = 'y'; }, DiedOfSegv, "");
  EXPECT_EXIT({ c[kLarge / 2] = 'y'; }, DiedOfSegv, "");
  EXPECT_EXIT({ c[kLarge - 1] = 'y'; }, DiedOfSegv, "");
}

TEST(SealTest, StoreInForkedChildIsKilledAndParentBytesUnchanged) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-fork-store"), PoolOptions{});
  for (size_t size : {kSmall, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    FillPattern(p, size, size);
    ASSERT_TRUE(pool->Seal().ok());
    const int store = RunInChild([&] {
      volatile char* c = AsBytes(p);
      c[size / 2] = static_cast<char>(~PatternByte(size, size / 2));
      return 0;
    });
    EXPECT_TRUE(KilledBySegv(store)) << "wait status " << store;
    // The legal neighbour: a child that only reads exits normally.
    const int read = RunInChild(
        [&] { return FirstPatternMismatch(p, size, size) == size ? 0 : 1; });
    EXPECT_TRUE(ExitedZero(read)) << "wait status " << read;
    EXPECT_EQ(FirstPatternMismatch(p, size, size), size);
  }
}

TEST(SealTest, ObjectOfAnotherPoolStaysWritable) {
  SEALPOOL_ASSERT_CREATE(sealed, UniqueName("seal-other-a"), PoolOptions{});
  SEALPOOL_ASSERT_CREATE(open, UniqueName("seal-other-b"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(a, sealed, kSmall);
  SEALPOOL_ASSERT_ALLOC(b, open, kSmall);
  ASSERT_TRUE(sealed->Seal().ok());
  std::memset(b, 0x5a, kSmall);  // Must not fault.
  EXPECT_EQ(CheckCopy(b, kSmall, CopyDirection::kWrite), ViolationKind::kNone);
  EXPECT_TRUE(Pool::Free(b).ok());
  EXPECT_EQ(open->Stats().seals, 0u);
  EXPECT_EQ(open->Stats().sealed_bytes, 0u);
}

// ---------------------------------------------------------------------------
// The checker and free, in report mode.

using SealReportTest = ReportModeTest;

TEST_F(SealReportTest, CheckCopyRefusesWritesAllowsReads) {
  const std::string name = UniqueName("seal-check");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  for (size_t size : {kSmall, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    FillPattern(p, size, 1);
    // Before the seal, a write is allowed.
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kWrite), ViolationKind::kNone);
    ASSERT_TRUE(pool->Seal().ok());
    recorder_.Take();
    const uint64_t before = ViolationCount();
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kRead), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(AsBytes(p) + size - 1, 1, CopyDirection::kRead),
              ViolationKind::kNone);
    EXPECT_EQ(ViolationCount(), before);
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kWrite),
              ViolationKind::kSealedWrite);
    EXPECT_EQ(CheckCopy(AsBytes(p) + size - 1, 1, CopyDirection::kWrite),
              ViolationKind::kSealedWrite);
    EXPECT_EQ(sp_check_copy(p, 1, SP_COPY_WRITE), -SP_VIOLATION_SEALED_WRITE);
    EXPECT_EQ(sp_check_copy(p, 1, SP_COPY_READ), 0);
    EXPECT_EQ(ViolationCount(), before + 3);
    const auto records = recorder_.Take();
    ASSERT_EQ(records.size(), 3u);
    for (const auto& r : records) {
      EXPECT_EQ(r.kind, ViolationKind::kSealedWrite);
      EXPECT_EQ(r.pool_name, name);
      EXPECT_EQ(r.object_start, sealpool_test::Addr(p));
      EXPECT_EQ(r.object_size, size);
    }
    // A checked copy into it writes nothing.
    char src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(CheckedMemcpy(p, src, sizeof(src)), nullptr);
    EXPECT_EQ(FirstPatternMismatch(p, size, 1), size);
  }
}

TEST_F(SealReportTest, FreeOfSealedObjectRefusedObjectStaysReadable) {
  const std::string name = UniqueName("seal-free");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  for (size_t size : {kSmall, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    SEALPOOL_ASSERT_ALLOC(q, pool, size);
    SEALPOOL_ASSERT_ALLOC(before_seal, pool, size);
    FillPattern(p, size, 2);
    // The legal neighbour: free before the seal is OK.
    EXPECT_TRUE(Pool::Free(before_seal).ok());
    ASSERT_TRUE(pool->Seal().ok());
    const size_t live = pool->Stats().live_objects;
    recorder_.Take();
    const uint64_t count = ViolationCount();

    const absl::Status st = Pool::Free(p);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
    EXPECT_EQ(sp_free(q), SP_VIOLATION_SEALED_FREE);
    EXPECT_EQ(ViolationCount(), count + 2);
    const auto records = recorder_.Take();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].kind, ViolationKind::kSealedFree);
    EXPECT_EQ(records[0].pool_name, name);
    EXPECT_EQ(records[0].addr, sealpool_test::Addr(p));

    // Nothing changed: both objects are live and readable.
    EXPECT_EQ(Pool::ObjectSize(p), size);
    EXPECT_EQ(Pool::ObjectSize(q), size);
    EXPECT_EQ(FirstPatternMismatch(p, size, 2), size);
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kRead), ViolationKind::kNone);
    EXPECT_EQ(pool->Stats().live_objects, live);

    // An object allocated after the seal frees normally.
    SEALPOOL_ASSERT_ALLOC(after, pool, size);
    EXPECT_TRUE(Pool::Free(after).ok());
    EXPECT_EQ(sp_free(nullptr), 0);
    EXPECT_TRUE(recorder_.Take().empty());
  }
}

TEST(SealDeathTest, FreeOfSealedObjectAbortsWithStableMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // A fixed name: the threadsafe death-test child re-runs this test alone.
  const std::string name = "seal-death-free";
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(unsealed, pool, kSmall);
  EXPECT_TRUE(Pool::Free(unsealed).ok());
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::Free(p);
      },
      "sealpool: free of sealed object 0x[0-9a-f]+ in pool '" + name + "'!");
  EXPECT_EQ(Pool::ObjectSize(p), kSmall);
}

// ---------------------------------------------------------------------------
// Allocation after a seal.

TEST_F(SealReportTest, AllocationAfterSealIsFreshAndWritable) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-after"), PoolOptions{});
  for (size_t size : {kSmall, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(old_obj, pool, size);
    ASSERT_TRUE(pool->Seal().ok());
    const size_t sealed = pool->Stats().sealed_bytes;
    SEALPOOL_ASSERT_ALLOC(fresh, pool, size);
    EXPECT_NE(fresh, old_obj);
    std::memset(fresh, 0x77, size);  // Must not fault.
    EXPECT_EQ(CheckCopy(fresh, size, CopyDirection::kWrite),
              ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(old_obj, size, CopyDirection::kWrite),
              ViolationKind::kSealedWrite);
    EXPECT_EQ(WritableMappingsOver(old_obj, size), 0u);
    EXPECT_GT(WritableMappingsOver(fresh, size), 0u);
    // A later seal covers it.
    ASSERT_TRUE(pool->Seal().ok());
    EXPECT_GT(pool->Stats().sealed_bytes, sealed);
    EXPECT_EQ(CheckCopy(fresh, size, CopyDirection::kWrite),
              ViolationKind::kSealedWrite);
    EXPECT_EQ(WritableMappingsOver(fresh, size), 0u);
    EXPECT_EQ(AsBytes(fresh)[size - 1], 0x77);
  }
  EXPECT_EQ(pool->Stats().seals, 4u);
}

TEST(SealDeathTest, SecondSealCoversLaterAllocation) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-death-second"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(first, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  volatile char* s = AsBytes(small);
  volatile char* l = AsBytes(large);
  s[0] = 1;  // Writable between the seals.
  l[0] = 1;
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(pool->Stats().seals, 2u);
  EXPECT_EXIT({ s[0] = 2; }, DiedOfSegv, "");
  EXPECT_EXIT({ l[0] = 2; }, DiedOfSegv, "");
  EXPECT_EQ(s[0], 1);
  EXPECT_EQ(Pool::ObjectSize(first), kSmall);
}

TEST(SealTest, SlotsFreedBeforeSealAreAbandoned) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-abandon"), PoolOptions{});
  std::vector<void*> kept;
  std::set<void*> freed;
  for (size_t size : {size_t{16}, size_t{64}, size_t{200}, size_t{20000}}) {
    std::vector<void*> batch;
    for (int i = 0; i < 400; ++i) {
      SEALPOOL_ASSERT_ALLOC(p, pool, size);
      batch.push_back(p);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i % 2 == 0) {
        ASSERT_TRUE(Pool::Free(batch[i]).ok());
        freed.insert(batch[i]);
      } else {
        kept.push_back(batch[i]);
      }
    }
  }
  EXPECT_EQ(pool->Stats().abandoned_bytes, 0u);
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_GT(pool->Stats().abandoned_bytes, 0u);
  size_t reused = 0;
  for (size_t size : {size_t{16}, size_t{64}, size_t{200}, size_t{20000}}) {
    for (int i = 0; i < 1000; ++i) {
      SEALPOOL_ASSERT_ALLOC(p, pool, size);
      if (freed.count(p) != 0) ++reused;
      // A slot of a sealed span would fault here.
      std::memset(p, 0x11, size);
    }
  }
  EXPECT_EQ(reused, 0u) << "slots freed before the seal were handed out again";
  EXPECT_EQ(pool->Stats().live_objects, kept.size() + 4000);
}

TEST(SealTest, AbandonedBytesCoverSlotsFreedBeforeTheSeal) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-abandon-count"), PoolOptions{});
  constexpr int kCount = 200;
  constexpr size_t kSize = 64;
  std::vector<void*> objects;
  for (int i = 0; i < kCount; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
    objects.push_back(p);
  }
  SEALPOOL_ASSERT_ALLOC(keep, pool, kSize);
  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  ASSERT_TRUE(pool->Seal().ok());
  // Every slot freed before the seal is left behind, wherever it was
  // waiting (the span or this thread's cache).
  EXPECT_GE(pool->Stats().abandoned_bytes, kCount * kSize);
  EXPECT_EQ(pool->Stats().live_objects, 1u);
  EXPECT_EQ(Pool::ObjectSize(keep), kSize);
}

TEST(SealTest, SlotsCachedByAnotherThreadAreAbandoned) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-other-cache"), PoolOptions{});
  std::set<void*> freed;
  std::vector<void*> after;
  std::atomic<int> phase{0};
  std::atomic<bool> failed{false};
  // The other thread frees objects into its own cache, waits for the seal,
  // then allocates again from the same size classes.
  std::thread other([&] {
    std::vector<void*> mine;
    for (int i = 0; i < 300; ++i) {
      absl::StatusOr<void*> p = pool->Allocate(32 + (i % 3) * 64);
      if (!p.ok()) {
        failed = true;
        break;
      }
      mine.push_back(*p);
    }
    for (size_t i = 0; i < mine.size(); i += 2) {
      if (!Pool::Free(mine[i]).ok()) failed = true;
      freed.insert(mine[i]);
    }
    phase.store(1);
    while (phase.load() != 2) std::this_thread::yield();
    for (int i = 0; i < 600; ++i) {
      const size_t size = 32 + (i % 3) * 64;
      absl::StatusOr<void*> p = pool->Allocate(size);
      if (!p.ok()) {
        failed = true;
        break;
      }
      std::memset(*p, 0x42, size);  // A sealed slot would fault here.
      after.push_back(*p);
    }
  });
  while (phase.load() != 1) std::this_thread::yield();
  ASSERT_TRUE(pool->Seal().ok());
  phase.store(2);
  other.join();
  EXPECT_FALSE(failed.load());
  size_t reused = 0;
  for (void* p : after) reused += freed.count(p);
  EXPECT_EQ(reused, 0u)
      << "slots another thread freed before the seal were handed out again";
  EXPECT_GT(pool->Stats().abandoned_bytes, 0u);
}

TEST(SealTest, DestroyReleasesSealedMemory) {
  absl::StatusOr<Pool*> created = Pool::Create(UniqueName("seal-release"));
  ASSERT_TRUE(created.ok()) << created.status();
  Pool* pool = *created;
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(PermsAt(small).substr(0, 2), "r-");
  ASSERT_TRUE(pool->Destroy().ok());
  // The memory is back to reserved PROT_NONE, and no longer an object.
  EXPECT_EQ(PermsAt(small).substr(0, 3), "---");
  EXPECT_EQ(PermsAt(large).substr(0, 3), "---");
  EXPECT_EQ(Pool::ObjectSize(small), 0u);
  EXPECT_EQ(Pool::ObjectSize(large), 0u);
}

// ---------------------------------------------------------------------------
// Cost: sealing adds a small constant number of mappings per extent (how
// many depends on what lies next to the sealed ranges, so the bound is the
// worst case, and the object count must not change it).

void ExpectFlatSealCost(const std::string& base, uint32_t flags = 0) {
  PoolOptions options;
  options.flags = flags;
  for (size_t n : {size_t{10}, size_t{1000}, size_t{100000}}) {
    SCOPED_TRACE(n);
    SEALPOOL_ASSERT_CREATE(pool, UniqueName(base), options);
    static const size_t kSizes[] = {16, 48, 64, 128, 256};
    for (size_t i = 0; i < n; ++i) {
      SEALPOOL_ASSERT_ALLOC(p, pool, kSizes[i % 5]);
      static_cast<char*>(p)[0] = 1;
    }
    internal::FlushThreadCacheForTest();
    const size_t before = internal::CountArenaMappings();
    ASSERT_TRUE(pool->Seal().ok());
    const size_t after = internal::CountArenaMappings();
    const PoolStats s = pool->Stats();
    ASSERT_GE(s.extents, 1u);
    // Per extent, the sealed data range and the sealed part of each of the
    // three metadata zones (page table, records, slack) can each split
    // one mapping into three: at most 8 more, whatever the object count.
    EXPECT_LE(after, before + 8 * s.extents)
        << "before " << before << ", after " << after << ", extents "
        << s.extents << ", small spans " << s.small_spans;
    EXPECT_GT(s.sealed_bytes, 0u);
    EXPECT_GE(s.sealed_bytes, s.live_bytes);
    EXPECT_LE(s.sealed_bytes, s.reserved_bytes);
  }
}

TEST(SealTest, MappingCountFlatInObjectCount) {
  ExpectFlatSealCost("seal-cost");
}

TEST(SealTest, MappingCountFlatWithProtNoneGuards) {
  internal::ForceProtNoneGuardsForTest(true);
  ExpectFlatSealCost("seal-cost-pn");
  internal::ForceProtNoneGuardsForTest(false);
}

TEST(SealTest, MappingCountFlatForWriteRarePool) {
  ExpectFlatSealCost("seal-cost-wr", kPoolWriteRare);
}

// ---------------------------------------------------------------------------
// /proc/self/maps: no writable mapping over sealed objects.

TEST(SealTest, ProcMapsShowsSealedPagesReadOnly) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("seal-maps"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  // The parser's legal neighbour: before the seal the pages are writable.
  EXPECT_EQ(PermsAt(small).substr(0, 2), "rw");
  EXPECT_EQ(PermsAt(large).substr(0, 2), "rw");
  ASSERT_TRUE(pool->Seal().ok());
  for (void* p : {small, large}) {
    const size_t size = Pool::ObjectSize(p);
    EXPECT_EQ(PermsAt(p).substr(0, 2), "r-");
    EXPECT_EQ(PermsAt(AsBytes(p) + size - 1).substr(0, 2), "r-");
    EXPECT_EQ(WritableMappingsOver(p, size), 0u);
  }
}

// ---------------------------------------------------------------------------
// Preconditions.

TEST(SealTest, SealOfDestroyedPoolFails) {
  absl::StatusOr<Pool*> created = Pool::Create(UniqueName("seal-destroyed"));
  ASSERT_TRUE(created.ok()) << created.status();
  Pool* pool = *created;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  pool->Ref();  // Keeps the pool from being released.
  ASSERT_TRUE(pool->Destroy().ok());
  const absl::Status st = pool->Seal();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(sp_pool_seal(reinterpret_cast<sp_pool*>(pool)), -EINVAL);
  EXPECT_EQ(pool->Stats().seals, 0u);
  // Not sealed: the object can still be freed.
  EXPECT_TRUE(Pool::Free(p).ok());
  pool->Unref();
}

TEST(SealTest, CApiSeal) {
  EXPECT_EQ(sp_pool_seal(nullptr), -EINVAL);
  const std::string name = UniqueName("seal-c");
  sp_pool* pool = sp_pool_create(name.c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, kSmall);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_pool_seal(pool), 0);
  EXPECT_EQ(sp_pool_seal(pool), 0);
  EXPECT_EQ(reinterpret_cast<Pool*>(pool)->Stats().seals, 2u);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

}  // namespace
}  // namespace sealpool
