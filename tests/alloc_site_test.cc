// Allocation sites (whole-program mode's "allocated at" line): one site
// number per slot, in the span's slack page or a run of the shadow, so
// that neighbours keep their own sites, a freed object keeps its site for
// a use-after-free report, addresses in no span have none, and a span's
// entries take as few pages as its slots need.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "allocator/internal/alloc_site.h"
#include "allocator/internal/arena.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using internal::AllocSiteEntry;
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

// Neighbouring slots of the smallest and a larger class, slots past a
// span's first granule (1,500 of 64 bytes: a span of 4 granules), slots of
// three spans with the same indices (100 of 5,000 bytes, 49 to a span), and
// large objects each report their own site; so does a freed one.
TEST_F(AllocSiteTest, EveryObjectKeepsItsOwnSite) {
  const std::pair<size_t, int> cases[] = {
      {16, 20}, {48, 20}, {64, 1500}, {5000, 100}, {100000, 20}};
  for (const auto& [size, n] : cases) {
    const std::vector<void*> objs = Allocate(size, n);
    ASSERT_EQ(objs.size(), size_t(n)) << size;
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(objs[i])), SiteFor(i))
          << "size " << size << ", object " << i;
    }
    ASSERT_TRUE(Pool::Free(objs[7]).ok());
    EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(objs[7])), SiteFor(7)) << size;
    for (int i = 0; i < n; ++i) {
      if (i != 7) {
        ASSERT_TRUE(Pool::Free(objs[i]).ok());
      }
    }
  }
}

// Addresses in no span have no site: the stack, and the guard pages around
// a small span (its first page) and after a large object (the page past
// its end). The legal neighbours: the objects themselves.
TEST_F(AllocSiteTest, AddressesOutsideSpansHaveNoSite) {
  int local = 0;
  EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(&local)), 0u);
  const std::vector<void*> small = Allocate(48, 1);
  const std::vector<void*> large = Allocate(100000, 1);
  ASSERT_EQ(small.size() + large.size(), 2u);
  const uintptr_t s = reinterpret_cast<uintptr_t>(small[0]);
  const uintptr_t l = reinterpret_cast<uintptr_t>(large[0]);
  EXPECT_NE(AllocSiteEntry(s), nullptr);
  EXPECT_NE(AllocSiteEntry(l), nullptr);
  EXPECT_NE(AllocSiteEntry(l + 99999), nullptr);
  // A span's first page is its leading guard: granule start.
  EXPECT_EQ(AllocSiteEntry(s & ~uintptr_t{65535}), nullptr);
  // A large object ends against its trailing guard page.
  EXPECT_EQ(AllocSiteEntry((l + 100000 + 4095) & ~uintptr_t{4095}), nullptr);
  ASSERT_TRUE(Pool::Free(small[0]).ok());
  ASSERT_TRUE(Pool::Free(large[0]).ok());
}

// A freed large object whose range is partly reused by a smaller one: a
// stale pointer into the part not reused never names the new object's
// site (its pages still name the old span's first granule, which now
// starts the new object's span). The legal neighbour: the new object's own
// site.
TEST(AllocSiteReuseTest, StaleLargePointerNeverNamesTheNextObject) {
  ::sealpool_test::ScopedOptions scope("large_quarantine=0");
  absl::StatusOr<Pool*> p = Pool::Create(UniqueName("alloc-site-reuse"), PoolOptions{});
  ASSERT_TRUE(p.ok()) << p.status();
  ::sealpool_test::ScopedPool pool(*p);
  ASSERT_TRUE(internal::EnableAllocSites());
  absl::StatusOr<void*> a = pool.get()->Allocate(1000000);
  ASSERT_TRUE(a.ok());
  RecordAllocSite(reinterpret_cast<uintptr_t>(*a), SiteFor(1));
  const uintptr_t old_start = reinterpret_cast<uintptr_t>(*a);
  ASSERT_TRUE(Pool::Free(*a).ok());
  absl::StatusOr<void*> b = pool.get()->Allocate(100000);
  ASSERT_TRUE(b.ok());
  RecordAllocSite(reinterpret_cast<uintptr_t>(*b), SiteFor(2));
  const uintptr_t b_addr = reinterpret_cast<uintptr_t>(*b);
  EXPECT_EQ(AllocSiteOf(b_addr), SiteFor(2));
  // Both ends of the old object's far half, past the new object's span.
  ASSERT_LT(b_addr + 200000, old_start + 500000) << "the new object reused the old range's start";
  EXPECT_NE(AllocSiteOf(old_start + 500000), SiteFor(2));
  EXPECT_NE(AllocSiteOf(old_start + 999999), SiteFor(2));
  ASSERT_TRUE(Pool::Free(*b).ok());
}

// Entries are per slot: 40 slots of 5 KiB (200 KiB of data, in one span
// of 49 slots) have their entries in one page, the span's slack page, and
// none in the shadow; 40 slots of 16 bytes, whose slot states fill their
// slack page, have theirs in one page of the shadow (entries indexed by
// address, one per 16 bytes of data, had touched seven pages for the
// first). Each object's site is its own either way.
size_t ResidentPages(uintptr_t from, size_t bytes) {
  const uintptr_t first = from & ~uintptr_t{4095};
  const size_t pages = (from + bytes - first + 4095) / 4096;
  std::vector<unsigned char> resident(pages);
  if (mincore(reinterpret_cast<void*>(first), pages * 4096, resident.data()) != 0) return SIZE_MAX;
  size_t n = 0;
  for (unsigned char r : resident) n += r & 1;
  return n;
}

TEST_F(AllocSiteTest, ASpansEntriesTakeThePagesItsSlotsNeed) {
  for (size_t size : {size_t{5000}, size_t{16}}) {
    std::vector<void*> objs;
    for (int i = 0; i < 40; ++i) {
      absl::StatusOr<void*> q = pool_.get()->Allocate(size);
      ASSERT_TRUE(q.ok());
      objs.push_back(*q);
    }
    // The shadow's run for the span of the first object, emptied first:
    // a granule's run may hold entries of an earlier test's span.
    const auto first_granule = [](uintptr_t a) {
      return internal::SpanGranule(
          internal::g_arena.table[internal::PageIndex(a)].load(), a);
    };
    const size_t g = first_granule(reinterpret_cast<uintptr_t>(objs[0]));
    uint16_t* run = internal::g_alloc_sites.entries.load() + (g << 12);
    ASSERT_EQ(madvise(run, 8192, MADV_DONTNEED), 0);
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < 40; ++i) {
      const uintptr_t p = reinterpret_cast<uintptr_t>(objs[i]);
      ASSERT_EQ(first_granule(p), g) << "one span";
      RecordAllocSite(p, SiteFor(i));
      const uintptr_t e = reinterpret_cast<uintptr_t>(AllocSiteEntry(p));
      ASSERT_NE(e, 0u);
      lo = e < lo ? e : lo;
      hi = e > hi ? e : hi;
    }
    EXPECT_EQ(hi / 4096, lo / 4096) << size << ": the entries share a page";
    const size_t in_shadow = ResidentPages(reinterpret_cast<uintptr_t>(run), 8192);
    EXPECT_EQ(in_shadow, size == 16 ? 1u : 0u) << size;
    for (int i = 0; i < 40; ++i) {
      EXPECT_EQ(AllocSiteOf(reinterpret_cast<uintptr_t>(objs[i])), SiteFor(i)) << size;
    }
    for (void* p : objs) ASSERT_TRUE(Pool::Free(p).ok());
  }
}

}  // namespace
}  // namespace sealpool
