// Injected mapping failures: pool creation and allocation fail cleanly with
// ResourceExhausted / ENOMEM, and everything works again once cleared.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

constexpr size_t kMiB = size_t{1} << 20;

class FaultInjectionTest : public ::testing::Test {
 protected:
  void TearDown() override { internal::InjectMapFailures(0); }
};

TEST_F(FaultInjectionTest, LargeAllocationFailsWhileInjected) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("fi-large"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, 64);
  const PoolStats before = pool->Stats();

  internal::InjectMapFailures(1000);
  absl::StatusOr<void*> failed = pool->Allocate(kMiB);
  internal::InjectMapFailures(0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted)
      << failed.status();

  const PoolStats after = pool->Stats();
  EXPECT_EQ(after.live_objects, before.live_objects);
  EXPECT_EQ(after.live_bytes, before.live_bytes);

  // Cleared: the same pool works.
  SEALPOOL_ASSERT_ALLOC(large, pool, kMiB);
  std::memset(large, 0x6b, kMiB);
  EXPECT_EQ(Pool::ObjectSize(large), kMiB);
  EXPECT_TRUE(Pool::Free(large).ok());
  EXPECT_TRUE(Pool::Free(small).ok());
}

TEST_F(FaultInjectionTest, CreateUnderInjectionFailsCleanlyOrDefersFailure) {
  const std::string name = UniqueName("fi-create");
  internal::InjectMapFailures(1000);
  absl::StatusOr<Pool*> created = Pool::Create(name);
  if (created.ok()) {
    ScopedPool pool(*created);
    // Reservation was lazy or already done; the first large object cannot
    // be mapped.
    absl::StatusOr<void*> large = pool->Allocate(kMiB);
    ASSERT_FALSE(large.ok());
    EXPECT_EQ(large.status().code(), absl::StatusCode::kResourceExhausted);
    absl::StatusOr<void*> small = pool->Allocate(64);
    if (small.ok()) {
      std::memset(*small, 1, 64);  // must really be writable
      EXPECT_TRUE(Pool::Free(*small).ok());
    } else {
      EXPECT_EQ(small.status().code(), absl::StatusCode::kResourceExhausted);
    }
    internal::InjectMapFailures(0);
    SEALPOOL_ASSERT_ALLOC(p, pool, kMiB);
    std::memset(p, 2, kMiB);
    EXPECT_TRUE(Pool::Free(p).ok());
  } else {
    internal::InjectMapFailures(0);
    EXPECT_EQ(created.status().code(), absl::StatusCode::kResourceExhausted)
        << created.status();
    // Nothing was left behind: the name is free and creation now works.
    EXPECT_EQ(Pool::Find(name).status().code(), absl::StatusCode::kNotFound);
    SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, pool, kMiB);
    std::memset(p, 3, kMiB);
    EXPECT_TRUE(Pool::Free(p).ok());
  }
}

// Fails the n-th mapping call for growing n, over a mix of creations and
// allocations: every call either succeeds with usable memory or fails with
// ResourceExhausted, and the accounting matches what succeeded.
TEST_F(FaultInjectionTest, EveryFailurePointIsClean) {
  const size_t sizes[] = {64, 1000, 20000, kMiB, 64, 300000, 16, 5000};
  for (int n = 1; n <= 16; ++n) {
    SCOPED_TRACE(testing::Message() << "failures " << n);
    const std::string name = UniqueName("fi-sweep");
    internal::InjectMapFailures(n);
    absl::StatusOr<Pool*> created = Pool::Create(name);
    if (!created.ok()) {
      internal::InjectMapFailures(0);
      EXPECT_EQ(created.status().code(), absl::StatusCode::kResourceExhausted);
      SEALPOOL_ASSERT_CREATE(retry, name, PoolOptions{});
      continue;
    }
    ScopedPool pool(*created);
    std::vector<std::pair<void*, size_t>> objects;
    size_t bytes = 0;
    for (int round = 0; round < 3; ++round) {
      for (size_t size : sizes) {
        absl::StatusOr<void*> p = pool->Allocate(size);
        if (p.ok()) {
          std::memset(*p, 0x5e, size);
          objects.emplace_back(*p, size);
          bytes += size;
        } else {
          EXPECT_EQ(p.status().code(), absl::StatusCode::kResourceExhausted)
              << p.status();
        }
      }
    }
    internal::InjectMapFailures(0);
    PoolStats stats = pool->Stats();
    EXPECT_EQ(stats.live_objects, objects.size());
    EXPECT_EQ(stats.live_bytes, bytes);
    for (size_t size : sizes) {
      absl::StatusOr<void*> p = pool->Allocate(size);
      ASSERT_TRUE(p.ok()) << "size " << size << ": " << p.status();
      std::memset(*p, 0x5f, size);
      objects.emplace_back(*p, size);
    }
    for (auto& [p, size] : objects) {
      EXPECT_EQ(Pool::ObjectSize(p), size);
      ASSERT_TRUE(Pool::Free(p).ok());
    }
    EXPECT_EQ(pool->Stats().live_objects, 0u);
  }
}

TEST_F(FaultInjectionTest, CApiReportsEnomem) {
  sp_pool_options opts;
  sp_pool_options_init(&opts);
  sp_pool* pool = sp_pool_create(UniqueName("fi-c").c_str(), &opts);
  ASSERT_NE(pool, nullptr);
  internal::InjectMapFailures(1000);
  errno = 0;
  void* p = sp_alloc(pool, kMiB);
  const int err = errno;
  internal::InjectMapFailures(0);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(err, ENOMEM);
  p = sp_alloc(pool, kMiB);
  ASSERT_NE(p, nullptr);
  std::memset(p, 4, kMiB);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

}  // namespace
}  // namespace sealpool
