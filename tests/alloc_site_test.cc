// Allocation sites (whole-program mode's "allocated at" line): the shadow
// keeps one site number per slot, in a run of entries per span, so that
// neighbours keep their own sites, a freed object keeps its site for a
// use-after-free report, addresses in no span have none, and a span's
// entries take as few pages as its slots need.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "allocator/internal/alloc_site.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using internal::AllocSiteIndex;
using internal::AllocSiteOf;
using internal::RecordAllocSite;
using ::sealpool_test::UniqueName;

// A made-up call site per object: distinct and never 0.
uintptr_t SiteFor(int i) { return 0x5a5a0000u + 16u * static_cast<uintptr_t>(i); }

class AllocSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Pool*> p = Pool::Create(UniqueName("alloc-site"), PoolOptions{});
    ASSERT_TRUE(p.ok()) << p.status();
    pool_ = ::sealpool_test::ScopedPool(*p);
    ASSERT_TRUE(internal::EnableAllocSites());
  }
  // n objects of `size`, each recorded with its own site.
  std::vector<void*> Allocate(size_t size, int n) {
    std::vector<void*> out;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<void*> q = pool_.get()->Allocate(size);
      if (!q.ok()) break;
      RecordAllocSite(reinterpret_cast<uintptr_t>(*q), SiteFor(i));
      out.push_back(*q);
    }
    return out;
  }
  ::sealpool_test::ScopedPool pool_;
};

// Neighbouring slots of the smallest and a larger class, and large
// objects, each report their own site; so does a freed one.
TEST_F(AllocSiteTest, EveryObjectKeepsItsOwnSite) {
  for (size_t size : {size_t{16}, size_t{48}, size_t{5000}, size_t{100000}}) {
    const std::vector<void*> objs = Allocate(size, 20);
    ASSERT_EQ(objs.size(), 20u) << size;
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(objs[i])), SiteFor(i))
          << "size " << size << ", object " << i;
    }
    ASSERT_TRUE(Pool::Free(objs[7]).ok());
    EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(objs[7])), SiteFor(7)) << size;
    for (int i = 0; i < 20; ++i) {
      if (i != 7) {
        ASSERT_TRUE(Pool::Free(objs[i]).ok());
      }
    }
  }
}

// Addresses in no span: the stack, a guard page before a span, past the
// data zone's end.
TEST_F(AllocSiteTest, AddressesOutsideSpansHaveNoSite) {
  int local = 0;
  EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(&local)), 0u);
  const std::vector<void*> objs = Allocate(100000, 1);
  ASSERT_EQ(objs.size(), 1u);
  size_t i = 0;
  const uintptr_t page = reinterpret_cast<uintptr_t>(objs[0]) & ~uintptr_t{4095};
  EXPECT_FALSE(AllocSiteIndex(page - 4096 * 16, &i));  // below the span: guard
  EXPECT_TRUE(AllocSiteIndex(reinterpret_cast<uintptr_t>(objs[0]), &i));
  ASSERT_TRUE(Pool::Free(objs[0]).ok());
}

// 40 slots of 5 KiB (200 KiB of data, in one span of 49 slots) have their
// 40 entries in one resident page of the shadow; entries indexed by
// address, one per 16 bytes, would have touched seven.
TEST_F(AllocSiteTest, ASpansEntriesTakeThePagesItsSlotsNeed) {
  const std::vector<void*> objs = Allocate(5000, 40);
  ASSERT_EQ(objs.size(), 40u);
  size_t lo = SIZE_MAX, hi = 0;
  for (void* p : objs) {
    size_t i = 0;
    ASSERT_TRUE(AllocSiteIndex(reinterpret_cast<uintptr_t>(p), &i));
    lo = i < lo ? i : lo;
    hi = i > hi ? i : hi;
  }
  uint16_t* e = internal::g_alloc_sites.entries.load();
  const uintptr_t first = reinterpret_cast<uintptr_t>(e + lo) & ~uintptr_t{4095};
  const uintptr_t last = reinterpret_cast<uintptr_t>(e + hi);
  const size_t pages = (last - first) / 4096 + 1;
  std::vector<unsigned char> resident(pages);
  ASSERT_EQ(mincore(reinterpret_cast<void*>(first), pages * 4096, resident.data()), 0);
  size_t n = 0;
  for (unsigned char r : resident) n += r & 1;
  EXPECT_EQ(pages, 1u) << "entries " << lo << " to " << hi;
  EXPECT_EQ(n, 1u);
  for (void* p : objs) ASSERT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
