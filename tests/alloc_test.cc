// Allocation: zero and absurd sizes, exact sizes and interior lookups,
// every legal alignment, and the guard pages around large objects.

#include <sys/mman.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::kPage;
using ::sealpool_test::PageEnd;
using ::sealpool_test::PageStart;
using ::sealpool_test::UniqueName;

// The largest small object: the largest class keeps one byte of slack for
// the object's canary (canaries=1, the default).
constexpr size_t kSmallMax = 32 * 1024 - 1;

bool IsSizeError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ||
         status.code() == absl::StatusCode::kResourceExhausted;
}

// The sizes the exact-size tests walk: every size in [0, 300], then powers
// of two and their neighbours up to 1 MiB, and the small/large boundary.
std::vector<size_t> ExactSizes() {
  std::vector<size_t> sizes;
  for (size_t s = 0; s <= 300; ++s) sizes.push_back(s);
  for (size_t p = 512; p <= (size_t{1} << 20); p *= 2) {
    sizes.push_back(p - 1);
    sizes.push_back(p);
    sizes.push_back(p + 1);
  }
  sizes.push_back(kSmallMax - 16);
  sizes.push_back(kSmallMax);
  sizes.push_back(3 * 4096);
  sizes.push_back(100000);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

TEST(AllocTest, ZeroSizeObjectsAreUniqueAndOwned) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-zero"), PoolOptions{});
  std::set<void*> seen;
  std::vector<void*> objects;
  for (int i = 0; i < 100; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 0);
    EXPECT_TRUE(seen.insert(p).second) << "zero-size object handed out twice";
    EXPECT_EQ(Pool::Owner(p), pool.get());
    EXPECT_EQ(Pool::ObjectSize(p), 0u);
    AddressInfo info = QueryAddress(p);
    EXPECT_TRUE(info.live);
    EXPECT_EQ(info.object_start, Addr(p));
    EXPECT_EQ(info.object_size, 0u);
    objects.push_back(p);
  }
  EXPECT_EQ(pool->Stats().live_objects, objects.size());
  EXPECT_EQ(pool->Stats().live_bytes, 0u);
  for (void* p : objects) EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(pool->Stats().live_objects, 0u);
}

TEST(AllocTest, AbsurdSizesFailAndPoolKeepsWorking) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-absurd"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(before, pool, 64);
  const size_t kTiB = size_t{1} << 40;
  for (size_t size : {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX / 2,
                      SIZE_MAX / 2 + 1, kTiB + 1, 2 * kTiB, kTiB * 1024}) {
    absl::StatusOr<void*> p = pool->Allocate(size);
    ASSERT_FALSE(p.ok()) << "size " << size;
    EXPECT_TRUE(IsSizeError(p.status()))
        << "size " << size << ": " << p.status();
  }
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, 1u);
  EXPECT_EQ(stats.live_bytes, 64u);
  // Still works for small and large objects.
  SEALPOOL_ASSERT_ALLOC(small, pool, 64);
  SEALPOOL_ASSERT_ALLOC(large, pool, 256 * 1024);
  std::memset(small, 1, 64);
  std::memset(large, 2, 256 * 1024);
  EXPECT_TRUE(Pool::Free(before).ok());
  EXPECT_TRUE(Pool::Free(small).ok());
  EXPECT_TRUE(Pool::Free(large).ok());
}

TEST(AllocTest, ExactSizesInteriorPointersAndSlack) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-exact"), PoolOptions{});
  const std::vector<size_t> sizes = ExactSizes();
  std::vector<std::pair<uintptr_t, size_t>> live;
  size_t total = 0;
  for (size_t size : sizes) {
    SCOPED_TRACE(testing::Message() << "size " << size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    char* c = AsBytes(p);
    EXPECT_EQ(Pool::Owner(p), pool.get());
    EXPECT_EQ(Pool::ObjectSize(p), size);
    AddressInfo info = QueryAddress(p);
    EXPECT_EQ(info.page,
              size <= kSmallMax ? PageKind::kSmallSpan : PageKind::kLargeSpan);
    EXPECT_EQ(info.pool_id, pool->id());
    EXPECT_TRUE(info.in_slot);
    EXPECT_TRUE(info.live);
    EXPECT_EQ(info.object_start, Addr(p));
    EXPECT_EQ(info.object_size, size);
    EXPECT_GE(info.slot_size, size);
    if (size > 0) {
      EXPECT_EQ(Pool::ObjectSize(c + size - 1), size);
      EXPECT_EQ(Pool::ObjectSize(c + size / 2), size);
      EXPECT_EQ(Pool::Owner(c + size - 1), pool.get());
      std::memset(p, static_cast<int>(size & 0xff), size);
    }
    // The byte after the object is slack, redzone or guard, or the start
    // of another object: never this object.
    const size_t after = Pool::ObjectSize(c + size);
    AddressInfo after_info = QueryAddress(c + size);
    const bool another_object =
        after_info.live && after_info.object_start != Addr(p);
    EXPECT_TRUE(after == 0 || another_object)
        << "ObjectSize(p + size) = " << after;
    live.emplace_back(Addr(p), size);
    total += size;
  }
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, sizes.size());
  EXPECT_EQ(stats.live_bytes, total);

  // Objects never overlap, and their contents survived the neighbours' writes.
  std::sort(live.begin(), live.end());
  for (size_t i = 0; i + 1 < live.size(); ++i) {
    EXPECT_LE(live[i].first + std::max<size_t>(live[i].second, 1),
              live[i + 1].first)
        << "objects overlap";
  }
  for (const auto& [addr, size] : live) {
    const unsigned char* c = reinterpret_cast<const unsigned char*>(addr);
    for (size_t i = 0; i < size; ++i) {
      if (c[i] != (size & 0xff)) {
        ADD_FAILURE() << "object of size " << size << " corrupted at " << i;
        break;
      }
    }
  }
  for (const auto& [addr, size] : live) {
    EXPECT_TRUE(Pool::Free(reinterpret_cast<void*>(addr)).ok());
  }
  EXPECT_EQ(pool->Stats().live_objects, 0u);
  EXPECT_EQ(pool->Stats().live_bytes, 0u);
}

TEST(AllocTest, ReuseAfterFreeKeepsExactSizes) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-reuse"), PoolOptions{});
  // A slot freed and reallocated with a different size in the same class
  // reports the new size.
  for (int round = 0; round < 3; ++round) {
    std::vector<void*> objects;
    for (size_t size = 33; size <= 48; ++size) {
      SEALPOOL_ASSERT_ALLOC(p, pool, size + round);
      EXPECT_EQ(Pool::ObjectSize(p), size + round);
      objects.push_back(p);
    }
    for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
    for (void* p : objects) EXPECT_EQ(Pool::ObjectSize(p), 0u);
  }
}

TEST(AllocTest, FreedObjectsHaveNoSize) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-freed"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, 40);
  SEALPOOL_ASSERT_ALLOC(large, pool, 70000);
  ASSERT_TRUE(Pool::Free(small).ok());
  ASSERT_TRUE(Pool::Free(large).ok());
  EXPECT_EQ(Pool::ObjectSize(small), 0u);
  EXPECT_EQ(Pool::ObjectSize(large), 0u);
  EXPECT_FALSE(QueryAddress(small).live);
  EXPECT_FALSE(QueryAddress(large).live);
}

TEST(AllocTest, EveryAlignmentIsHonoured) {
  const size_t sizes[] = {0,     1,     7,     8,     24,    100,
                          1000,  4095,  4096,  5000,  16384, 16385,
                          20000, 65536, 65537, 100000};
  for (size_t align = kMinAlign; align <= kMaxAlign; align *= 2) {
    SCOPED_TRACE(testing::Message() << "align " << align);
    PoolOptions options;
    options.align = align;
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-align"), options);
    const size_t want = std::max<size_t>(align, 16);
    std::vector<void*> objects;
    for (size_t size : sizes) {
      for (int i = 0; i < 3; ++i) {
        SEALPOOL_ASSERT_ALLOC(p, pool, size);
        EXPECT_EQ(Addr(p) % want, 0u) << "size " << size << " at " << p;
        EXPECT_EQ(Pool::ObjectSize(p), size);
        if (size > 0) {
          AsBytes(p)[0] = 1;
          AsBytes(p)[size - 1] = 2;
          EXPECT_EQ(Pool::ObjectSize(AsBytes(p) + size - 1), size);
        }
        objects.push_back(p);
      }
    }
    for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  }
}

TEST(AllocTest, LargeObjectsSitBetweenGuardPages) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-guard"), PoolOptions{});
  const size_t kSize = 64 * 1024;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  char* c = AsBytes(p);
  std::memset(p, 0x77, kSize);
  // Page multiple: end-aligned against the trailing guard, so the object
  // starts on a page and the page before it is the leading guard.
  EXPECT_EQ(Addr(p) % kPage, 0u);
  EXPECT_EQ(QueryAddress(c + kSize).page, PageKind::kGuard);
  EXPECT_EQ(QueryAddress(c - 1).page, PageKind::kGuard);
  EXPECT_EQ(QueryAddress(c).page, PageKind::kLargeSpan);
  EXPECT_EQ(QueryAddress(c + kSize - 1).page, PageKind::kLargeSpan);
  EXPECT_EQ(Pool::ObjectSize(c + kSize), 0u);
  EXPECT_EQ(Pool::ObjectSize(c - 1), 0u);
  EXPECT_EQ(Pool::Owner(c + kSize), nullptr);
  EXPECT_GT(pool->Stats().guard_pages, 0u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(AllocTest, UnevenLargeObjectsAreEndAlignedWhenAlignmentAllows) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-guard-uneven"), PoolOptions{});
  std::vector<void*> objects;
  for (size_t size : {size_t{32769}, size_t{40000}, size_t{100000},
                      size_t{100001}, size_t{65535}, size_t{200 * 1024 + 16}}) {
    SCOPED_TRACE(testing::Message() << "size " << size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    const uintptr_t end = Addr(p) + size;
    // The slot is end-aligned to the pool alignment (16) against the guard.
    EXPECT_EQ(QueryAddress(reinterpret_cast<void*>(PageEnd(end))).page,
              PageKind::kGuard);
    EXPECT_LT(PageEnd(end) - end, size_t{16});
    if (size % 16 == 0) {
      EXPECT_EQ(QueryAddress(reinterpret_cast<void*>(end)).page,
                PageKind::kGuard);
    }
    EXPECT_EQ(
        QueryAddress(reinterpret_cast<void*>(PageStart(Addr(p)) - 1)).page,
        PageKind::kGuard);
    objects.push_back(p);
  }
  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
}

TEST(AllocTest, LargeObjectsWithPageAlignmentStartOnAPage) {
  PoolOptions options;
  options.align = 4096;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-guard-4k"), options);
  SEALPOOL_ASSERT_ALLOC(p, pool, 100001);
  EXPECT_EQ(Addr(p) % kPage, 0u);
  EXPECT_EQ(QueryAddress(AsBytes(p) - 1).page, PageKind::kGuard);
  EXPECT_EQ(
      QueryAddress(reinterpret_cast<void*>(PageEnd(Addr(p) + 100001))).page,
      PageKind::kGuard);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(AllocTest, NonArenaAddressesAreNotPoolObjects) {
  int on_stack = 0;
  void* heap = std::malloc(64);
  ASSERT_NE(heap, nullptr);
  for (const void* p :
       {static_cast<const void*>(&on_stack), static_cast<const void*>(heap)}) {
    EXPECT_EQ(QueryAddress(p).page, PageKind::kNotArena);
    EXPECT_EQ(Pool::ObjectSize(p), 0u);
    EXPECT_EQ(Pool::Owner(p), nullptr);
    EXPECT_FALSE(InArena(p, 1));
  }
  EXPECT_EQ(Pool::ObjectSize(nullptr), 0u);
  EXPECT_EQ(Pool::Owner(nullptr), nullptr);
  std::free(heap);

  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-arena"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 128);
  EXPECT_TRUE(InArena(p, 128));
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(AllocTest, ManySmallObjectsAreDistinct) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-many"), PoolOptions{});
  std::set<void*> seen;
  std::vector<void*> objects;
  for (int i = 0; i < 20000; ++i) {
    const size_t size = 16 + (i % 7) * 40;
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    ASSERT_TRUE(seen.insert(p).second) << "pointer handed out twice";
    *static_cast<int*>(p) = i;
    objects.push_back(p);
  }
  for (int i = 0; i < 20000; ++i) {
    ASSERT_EQ(*static_cast<int*>(objects[i]), i);
  }
  EXPECT_EQ(pool->Stats().live_objects, 20000u);
  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(pool->Stats().live_objects, 0u);
}

TEST(AllocDeathTest, WriteAfterLargeObjectHitsGuard) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-death-after"), PoolOptions{});
  const size_t kSize = 64 * 1024;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  volatile char* c = AsBytes(p);
  c[kSize - 1] = 1;  // The last byte is writable.
  EXPECT_EXIT({ c[kSize] = 1; }, sealpool_test::DiedOfSegv, ".*");
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(AllocDeathTest, WriteBeforeLargeObjectHitsGuard) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("alloc-death-before"), PoolOptions{});
  const size_t kSize = 64 * 1024;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  volatile char* c = AsBytes(p);
  c[0] = 1;
  EXPECT_EXIT({ c[-1] = 1; }, sealpool_test::DiedOfSegv, ".*");
  EXPECT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
