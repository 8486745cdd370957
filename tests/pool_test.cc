// Pool lifecycle: creation, option and name validation, Find, reference
// counting and Destroy, statistics, and the per-pool byte cap.

#include "allocator/pool.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::ReportModeTest;
using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

absl::StatusCode CreateCode(absl::string_view name,
                            const PoolOptions& options = {}) {
  absl::StatusOr<Pool*> pool = Pool::Create(name, options);
  if (pool.ok()) {
    EXPECT_TRUE((*pool)->Destroy().ok());
    return absl::StatusCode::kOk;
  }
  return pool.status().code();
}

TEST(PoolTest, CreateReportsNameIdAndOptions) {
  const std::string name = UniqueName("pool-basic");
  PoolOptions options;
  options.align = 64;
  options.usercopy_offset = 8;
  options.usercopy_size = 24;
  options.max_bytes = 1 << 20;
  options.flags = kPoolRedzones;
  const size_t live_before = LivePoolCount();
  SEALPOOL_ASSERT_CREATE(pool, name, options);
  EXPECT_EQ(LivePoolCount(), live_before + 1);
  EXPECT_EQ(pool->name(), name);
  EXPECT_NE(pool->id(), 0u);
  EXPECT_EQ(pool->options().align, 64u);
  EXPECT_EQ(pool->options().usercopy_offset, 8u);
  EXPECT_EQ(pool->options().usercopy_size, 24u);
  EXPECT_EQ(pool->options().max_bytes, size_t{1} << 20);
  EXPECT_EQ(pool->options().flags, kPoolRedzones);
  EXPECT_STREQ(PoolNameById(pool->id()), name.c_str());
  ASSERT_TRUE(pool.Destroy().ok());
  EXPECT_EQ(LivePoolCount(), live_before);
}

TEST(PoolTest, DistinctPoolsHaveDistinctIds) {
  SEALPOOL_ASSERT_CREATE(a, UniqueName("pool-id-a"), PoolOptions{});
  SEALPOOL_ASSERT_CREATE(b, UniqueName("pool-id-b"), PoolOptions{});
  EXPECT_NE(a->id(), b->id());
}

TEST(PoolTest, NameLengthLimits) {
  // Legal neighbours: one character and 63 characters.
  const std::string base = UniqueName("n");
  std::string name63 = base + std::string(63 - base.size(), 'x');
  ASSERT_EQ(name63.size(), kMaxPoolNameLength);
  EXPECT_EQ(CreateCode(name63), absl::StatusCode::kOk);
  // A single-character name (unique in this binary: no other test uses it).
  EXPECT_EQ(CreateCode("Q"), absl::StatusCode::kOk);

  EXPECT_EQ(CreateCode(""), absl::StatusCode::kInvalidArgument);
  std::string name64 = name63 + "y";
  ASSERT_EQ(name64.size(), 64u);
  EXPECT_EQ(CreateCode(name64), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateCode(std::string(1000, 'z')),
            absl::StatusCode::kInvalidArgument);
}

TEST(PoolTest, NonPrintableNamesAreRejected) {
  const std::string base = UniqueName("np");
  const std::string bad[] = {
      "\x01",
      "a\tb",
      base + "\n",
      base + "\x7f",
      base + "\x1f",
      base + "caf\xc3\xa9",
      "\xff",
      std::string("a\0b", 3),
      std::string(1, '\0'),
  };
  for (const std::string& name : bad) {
    EXPECT_EQ(CreateCode(name), absl::StatusCode::kInvalidArgument)
        << "name with bytes of length " << name.size();
  }
  // Printable boundaries 0x20 and 0x7e are legal.
  EXPECT_EQ(CreateCode(base + " ~ edge"), absl::StatusCode::kOk);
  EXPECT_EQ(CreateCode(" "), absl::StatusCode::kOk);
  EXPECT_EQ(CreateCode("~"), absl::StatusCode::kOk);
}

TEST(PoolTest, DuplicateNameWhileLiveIsRejected) {
  const std::string name = UniqueName("pool-dup");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  absl::StatusOr<Pool*> again = Pool::Create(name);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  // The original is unaffected.
  SEALPOOL_ASSERT_ALLOC(p, pool, 32);
  EXPECT_EQ(Pool::Owner(p), pool.get());
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(PoolTest, NameIsFreeAgainAfterDestroy) {
  const std::string name = UniqueName("pool-reuse");
  {
    SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
    ASSERT_TRUE(pool.Destroy().ok());
  }
  SEALPOOL_ASSERT_CREATE(second, name, PoolOptions{});
  EXPECT_EQ(second->name(), name);
}

TEST(PoolTest, NameIsFreeOnceDestroyedEvenWhileReferenced) {
  const std::string name = UniqueName("pool-reuse-ref");
  SEALPOOL_ASSERT_CREATE(first, name, PoolOptions{});
  Pool* held = first->Ref();
  ASSERT_EQ(held, first.get());
  ASSERT_TRUE(first.Destroy().ok());
  {
    SEALPOOL_ASSERT_CREATE(second, name, PoolOptions{});
    EXPECT_NE(second.get(), held);
    // Find resolves to the live pool, not the destroyed one.
    absl::StatusOr<Pool*> found = Pool::Find(name);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(*found, second.get());
    (*found)->Unref();
  }
  held->Unref();
}

TEST(PoolTest, AlignmentValidation) {
  for (size_t align = kMinAlign; align <= kMaxAlign; align *= 2) {
    PoolOptions options;
    options.align = align;
    EXPECT_EQ(CreateCode(UniqueName("align-ok"), options),
              absl::StatusCode::kOk)
        << "align " << align;
  }
  for (size_t align : {size_t{0}, size_t{1}, size_t{2}, size_t{4}, size_t{12},
                       size_t{24}, size_t{48}, size_t{3000}, size_t{4097},
                       size_t{8192}, size_t{1} << 20, SIZE_MAX}) {
    PoolOptions options;
    options.align = align;
    EXPECT_EQ(CreateCode(UniqueName("align-bad"), options),
              absl::StatusCode::kInvalidArgument)
        << "align " << align;
  }
}

TEST(PoolTest, UsercopyWindowValidation) {
  PoolOptions options;
  options.usercopy_offset = 0;
  options.usercopy_size = 0;
  EXPECT_EQ(CreateCode(UniqueName("uc-none"), options), absl::StatusCode::kOk);

  options.usercopy_offset = 8;
  options.usercopy_size = 0;
  EXPECT_EQ(CreateCode(UniqueName("uc-offset-only"), options),
            absl::StatusCode::kInvalidArgument);

  options.usercopy_offset = 8;
  options.usercopy_size = 16;
  EXPECT_EQ(CreateCode(UniqueName("uc-window"), options),
            absl::StatusCode::kOk);

  options.usercopy_offset = 0;
  options.usercopy_size = 32;
  EXPECT_EQ(CreateCode(UniqueName("uc-prefix"), options),
            absl::StatusCode::kOk);

  // Bounds against object sizes are checked by check_copy, not here.
  options.usercopy_offset = 1 << 20;
  options.usercopy_size = 1 << 20;
  EXPECT_EQ(CreateCode(UniqueName("uc-large"), options), absl::StatusCode::kOk);
}

TEST(PoolTest, FlagValidation) {
  for (uint32_t flags :
       {uint32_t{0}, uint32_t{kPoolRedzones}, uint32_t{kPoolWriteRare},
        uint32_t{kPoolWriteRare | kPoolRedzones}, uint32_t{kPoolWriteRareKey}}) {
    PoolOptions options;
    options.flags = flags;
    EXPECT_EQ(CreateCode(UniqueName("flags-ok"), options),
              absl::StatusCode::kOk)
        << "flags " << flags;
  }
  for (uint32_t flags :
       {uint32_t{1u << 4}, uint32_t{1u << 31}, uint32_t{~kPoolAllFlags},
        uint32_t{kPoolRedzones | (1u << 7)}, ~uint32_t{0}}) {
    PoolOptions options;
    options.flags = flags;
    EXPECT_EQ(CreateCode(UniqueName("flags-bad"), options),
              absl::StatusCode::kInvalidArgument)
        << "flags " << flags;
  }
}

TEST(PoolTest, FailedCreateLeavesNoPoolBehind) {
  const std::string name = UniqueName("pool-failed");
  const size_t live_before = LivePoolCount();
  PoolOptions bad;
  bad.align = 24;
  ASSERT_FALSE(Pool::Create(name, bad).ok());
  EXPECT_EQ(LivePoolCount(), live_before);
  absl::StatusOr<Pool*> found = Pool::Find(name);
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  // The name was never taken.
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
}

TEST(PoolTest, FindReturnsLivePoolWithReference) {
  const std::string name = UniqueName("pool-find");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  const int refs_before = pool->Stats().refs;
  absl::StatusOr<Pool*> found = Pool::Find(name);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, pool.get());
  EXPECT_EQ(pool->Stats().refs, refs_before + 1);
  (*found)->Unref();
  EXPECT_EQ(pool->Stats().refs, refs_before);

  EXPECT_EQ(Pool::Find(UniqueName("no-such-pool")).status().code(),
            absl::StatusCode::kNotFound);
  const absl::StatusCode empty_code = Pool::Find("").status().code();
  EXPECT_TRUE(empty_code == absl::StatusCode::kNotFound ||
              empty_code == absl::StatusCode::kInvalidArgument)
      << empty_code;

  ASSERT_TRUE(pool.Destroy().ok());
  EXPECT_EQ(Pool::Find(name).status().code(), absl::StatusCode::kNotFound);
}

TEST(PoolTest, FindAfterDestroyWhileReferencedIsNotFound) {
  const std::string name = UniqueName("pool-find-ref");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  Pool* held = pool->Ref();
  ASSERT_TRUE(pool.Destroy().ok());
  EXPECT_EQ(Pool::Find(name).status().code(), absl::StatusCode::kNotFound);
  held->Unref();
}

TEST(PoolTest, DestroyWithReferenceRefusesAllocationsButKeepsObjects) {
  const std::string name = UniqueName("pool-ref");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, 100);
  SEALPOOL_ASSERT_ALLOC(small2, pool, 100);
  SEALPOOL_ASSERT_ALLOC(large, pool, 64 * 1024);
  std::memset(small, 0x5a, 100);
  std::memset(small2, 0x5b, 100);
  std::memset(large, 0xa5, 64 * 1024);

  Pool* held = pool->Ref();
  ASSERT_EQ(held, pool.get());
  ASSERT_TRUE(pool.Destroy().ok());

  PoolStats stats = held->Stats();
  EXPECT_TRUE(stats.destroyed);
  EXPECT_EQ(stats.refs, 1);
  EXPECT_EQ(stats.live_objects, 3u);

  for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{64 * 1024}}) {
    absl::StatusOr<void*> refused = held->Allocate(size);
    ASSERT_FALSE(refused.ok()) << "size " << size;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
        << refused.status();
  }

  // Destroy twice is refused.
  EXPECT_EQ(held->Destroy().code(), absl::StatusCode::kFailedPrecondition);

  // Existing objects are still readable, sized and freeable.
  EXPECT_EQ(Pool::ObjectSize(small), 100u);
  EXPECT_EQ(Pool::ObjectSize(large), 64u * 1024);
  EXPECT_EQ(Pool::Owner(small), held);
  for (size_t i = 0; i < 100; ++i) {
    ASSERT_EQ(static_cast<unsigned char*>(small)[i], 0x5a);
  }
  for (size_t i = 0; i < 64 * 1024; ++i) {
    ASSERT_EQ(static_cast<unsigned char*>(large)[i], 0xa5);
  }
  EXPECT_TRUE(Pool::Free(small).ok());
  EXPECT_TRUE(Pool::Free(large).ok());
  EXPECT_EQ(held->Stats().live_objects, 1u);

  held->Unref();
  // Released: the remaining object's memory is no longer pool memory.
  AddressInfo info = QueryAddress(small2);
  EXPECT_NE(info.page, PageKind::kSmallSpan);
  EXPECT_NE(info.page, PageKind::kLargeSpan);
  EXPECT_FALSE(info.live);
  EXPECT_EQ(Pool::ObjectSize(small2), 0u);
  EXPECT_EQ(Pool::Owner(small2), nullptr);
}

class PoolReleaseTest : public ReportModeTest {};

TEST_F(PoolReleaseTest, FreeAfterReleaseIsInvalidFree) {
  const std::string name = UniqueName("pool-release");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, 48);
  SEALPOOL_ASSERT_ALLOC(large, pool, 200 * 1024);
  const uint32_t id = pool->id();
  Pool* held = pool->Ref();
  ASSERT_TRUE(pool.Destroy().ok());
  held->Unref();

  EXPECT_EQ(PoolNameById(id), nullptr);
  for (void* p : {small, large}) {
    AddressInfo info = QueryAddress(p);
    EXPECT_NE(info.page, PageKind::kSmallSpan);
    EXPECT_NE(info.page, PageKind::kLargeSpan);
    EXPECT_FALSE(info.live);
    EXPECT_EQ(Pool::ObjectSize(p), 0u);
    absl::Status status = Pool::Free(p);
    EXPECT_FALSE(status.ok());
    std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, ViolationKind::kInvalidFree);
    EXPECT_EQ(v[0].addr, sealpool_test::Addr(p));
  }
}

TEST(PoolTest, StatsCountLiveObjectsExactly) {
  const std::string name = UniqueName("pool-stats");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  PoolStats empty = pool->Stats();
  EXPECT_EQ(empty.name, name);
  EXPECT_EQ(empty.id, pool->id());
  EXPECT_EQ(empty.live_objects, 0u);
  EXPECT_EQ(empty.live_bytes, 0u);
  EXPECT_FALSE(empty.destroyed);
  EXPECT_EQ(empty.refs, 1);

  constexpr size_t kCount = 100;
  constexpr size_t kSize = 48;
  std::vector<void*> objects;
  for (size_t i = 0; i < kCount; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
    objects.push_back(p);
  }
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.name, name);
  EXPECT_EQ(stats.id, pool->id());
  EXPECT_EQ(stats.live_objects, kCount);
  EXPECT_EQ(stats.live_bytes, kCount * kSize);
  EXPECT_GE(stats.committed_bytes, stats.live_bytes);
  EXPECT_GE(stats.reserved_bytes, stats.committed_bytes);
  EXPECT_GT(stats.metadata_bytes, 0u);
  EXPECT_GT(stats.guard_pages, 0u);
  EXPECT_GE(stats.small_spans, 1u);
  EXPECT_GE(stats.extents, 1u);
  EXPECT_EQ(stats.violations, 0u);

  // Large objects are counted too.
  std::vector<void*> large;
  for (size_t i = 0; i < 3; ++i) {
    SEALPOOL_ASSERT_ALLOC(p, pool, 100 * 1024 + i);
    large.push_back(p);
  }
  stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, kCount + 3);
  EXPECT_EQ(stats.live_bytes, kCount * kSize + 3 * 100 * 1024 + 0 + 1 + 2);
  EXPECT_GE(stats.large_spans, 3u);
  EXPECT_GE(stats.committed_bytes, stats.live_bytes);
  EXPECT_GE(stats.reserved_bytes, stats.committed_bytes);

  for (void* p : large) ASSERT_TRUE(Pool::Free(p).ok());
  for (size_t i = 0; i < kCount / 2; ++i) {
    ASSERT_TRUE(Pool::Free(objects[i]).ok());
  }
  stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, kCount - kCount / 2);
  EXPECT_EQ(stats.live_bytes, (kCount - kCount / 2) * kSize);
  for (size_t i = kCount / 2; i < kCount; ++i) {
    ASSERT_TRUE(Pool::Free(objects[i]).ok());
  }
  stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, 0u);
  EXPECT_EQ(stats.live_bytes, 0u);
  EXPECT_GE(stats.reserved_bytes, stats.committed_bytes);
}

TEST(PoolTest, StatsAreExactAcrossThreadCaches) {
  const std::string name = UniqueName("pool-stats-threads");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  constexpr int kThreads = 4;
  constexpr size_t kPerThread = 257;
  std::vector<std::vector<void*>> objects(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < kPerThread; ++i) {
        absl::StatusOr<void*> p = pool->Allocate(24 + t);
        if (p.ok()) objects[t].push_back(*p);
      }
      // Free some on the allocating thread; they may sit in its cache.
      for (size_t i = 0; i < 7; ++i) {
        (void)Pool::Free(objects[t].back());
        objects[t].pop_back();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  size_t expect_objects = 0;
  size_t expect_bytes = 0;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(objects[t].size(), kPerThread - 7);
    expect_objects += objects[t].size();
    expect_bytes += objects[t].size() * (24 + t);
  }
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, expect_objects);
  EXPECT_EQ(stats.live_bytes, expect_bytes);

  // Free everything from this thread (cross-thread frees).
  for (auto& list : objects) {
    for (void* p : list) ASSERT_TRUE(Pool::Free(p).ok());
  }
  stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, 0u);
  EXPECT_EQ(stats.live_bytes, 0u);
}

TEST(PoolTest, ByteCapStopsAllocationCleanly) {
  constexpr size_t kCap = 1 << 20;
  constexpr size_t kObject = 100 * 1024;
  PoolOptions options;
  options.max_bytes = kCap;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("pool-cap"), options);

  std::vector<void*> objects;
  absl::Status failure;
  for (int i = 0; i < 64; ++i) {
    absl::StatusOr<void*> p = pool->Allocate(kObject);
    if (!p.ok()) {
      failure = p.status();
      break;
    }
    std::memset(*p, i, kObject);
    objects.push_back(*p);
  }
  ASSERT_FALSE(failure.ok()) << "cap never reached";
  EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
  EXPECT_GE(objects.size(), 1u);
  EXPECT_LE(objects.size() * kObject, kCap + kObject);

  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.live_objects, objects.size());
  EXPECT_EQ(stats.live_bytes, objects.size() * kObject);
  EXPECT_LE(stats.committed_bytes, kCap);

  // The failure is clean: it fails again, and existing objects are intact.
  EXPECT_EQ(pool->Allocate(kObject).status().code(),
            absl::StatusCode::kResourceExhausted);
  for (size_t i = 0; i < objects.size(); ++i) {
    EXPECT_EQ(static_cast<unsigned char*>(objects[i])[kObject - 1],
              static_cast<unsigned char>(i));
  }

  // Freeing one object makes room for the next.
  ASSERT_TRUE(Pool::Free(objects.back()).ok());
  objects.pop_back();
  absl::StatusOr<void*> again = pool->Allocate(kObject);
  ASSERT_TRUE(again.ok()) << again.status();
  std::memset(*again, 0x11, kObject);
  objects.push_back(*again);

  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(pool->Stats().live_objects, 0u);
}

TEST(PoolTest, ByteCapAppliesToSmallObjects) {
  constexpr size_t kCap = 1 << 20;
  constexpr size_t kObject = 1000;
  PoolOptions options;
  options.max_bytes = kCap;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("pool-cap-small"), options);

  std::vector<void*> objects;
  absl::Status failure;
  for (int i = 0; i < 4000; ++i) {
    absl::StatusOr<void*> p = pool->Allocate(kObject);
    if (!p.ok()) {
      failure = p.status();
      break;
    }
    objects.push_back(*p);
  }
  ASSERT_FALSE(failure.ok()) << "cap never reached";
  EXPECT_EQ(failure.code(), absl::StatusCode::kResourceExhausted) << failure;
  EXPECT_LE(objects.size() * kObject, kCap);
  EXPECT_LE(pool->Stats().committed_bytes, kCap);

  for (void* p : objects) ASSERT_TRUE(Pool::Free(p).ok());
  absl::StatusOr<void*> again = pool->Allocate(kObject);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(Pool::Free(*again).ok());
}

}  // namespace
}  // namespace sealpool
