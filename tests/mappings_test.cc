// Kernel mapping count: 200 pools of mixed small and large objects stay within
// a fixed number of mappings per pool; destroying them gives the mappings back.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

constexpr int kPools = 200;
constexpr int kSmallPerPool = 2000;
constexpr size_t kMaxMappingsPerPool = 8;
constexpr size_t kSlack = 64;

TEST(MappingsTest, ManyPoolsKeepMappingCountBounded) {
  // Warm up the arena so that its one-time mappings are not counted.
  {
    SEALPOOL_ASSERT_CREATE(warm, UniqueName("map-warm"), PoolOptions{});
    SEALPOOL_ASSERT_ALLOC(p, warm, 64);
    ASSERT_TRUE(Pool::Free(p).ok());
  }
  const size_t before = internal::CountMappings();
  ASSERT_GT(before, 0u);

  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> small_size(16, 2000);
  const size_t large_sizes[] = {20 * 1024, 64 * 1024, 100 * 1024 + 8,
                                200 * 1024};

  std::vector<ScopedPool> pools;
  std::vector<std::vector<void*>> objects(kPools);
  pools.reserve(kPools);
  for (int i = 0; i < kPools; ++i) {
    absl::StatusOr<Pool*> pool = Pool::Create(UniqueName("map-pool"));
    ASSERT_TRUE(pool.ok()) << "pool " << i << ": " << pool.status();
    pools.emplace_back(*pool);
    objects[i].reserve(kSmallPerPool + 4);
    for (int j = 0; j < kSmallPerPool; ++j) {
      absl::StatusOr<void*> p = pools.back()->Allocate(small_size(rng));
      ASSERT_TRUE(p.ok()) << "pool " << i << ": " << p.status();
      // Left untouched: the test is about mappings, not memory.
      objects[i].push_back(*p);
    }
    for (size_t size : large_sizes) {
      absl::StatusOr<void*> p = pools.back()->Allocate(size);
      ASSERT_TRUE(p.ok()) << "pool " << i << ": " << p.status();
      objects[i].push_back(*p);
    }
  }

  const size_t during = internal::CountMappings();
  EXPECT_LE(during, before + kPools * kMaxMappingsPerPool + kSlack)
      << "before " << before << ", with " << kPools << " pools " << during
      << " (guards via madvise: " << internal::GuardsUseMadvise() << ")";

  // Free half of every pool's objects: frees must not split mappings either.
  for (auto& list : objects) {
    for (size_t j = 0; j < list.size(); j += 2) {
      ASSERT_TRUE(Pool::Free(list[j]).ok());
    }
  }
  EXPECT_LE(internal::CountMappings(),
            before + kPools * kMaxMappingsPerPool + kSlack);

  for (ScopedPool& pool : pools) ASSERT_TRUE(pool.Destroy().ok());
  const size_t after = internal::CountMappings();
  EXPECT_LE(after, before + kSlack)
      << "before " << before << ", after destroying all pools " << after;
}

}  // namespace
}  // namespace sealpool
