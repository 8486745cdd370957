// The C allocation family that allocator hooks need (sealpool/sealpool.h):
// sp_calloc, sp_realloc, sp_alloc_aligned, sp_strdup, sp_strndup,
// sp_pool_of, sp_owns, sp_pool_find — each with NULL, 0, SIZE_MAX, foreign
// pointers, zero-size objects and destroyed pools — and their C++
// equivalents on sealpool::Pool.

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "allocator/pool.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace {

using sealpool::ViolationKind;
using ::sealpool_test::AsBytes;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

sp_pool* MakePool(const std::string& base, size_t max_bytes = 0,
                  size_t align = 16) {
  sp_pool_options o;
  sp_pool_options_init(&o);
  o.max_bytes = max_bytes;
  o.align = align;
  return sp_pool_create(UniqueName(base).c_str(), &o);
}

void Fill(void* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) AsBytes(p)[i] = static_cast<char>(seed + i * 7);
}
bool Holds(const void* p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<const char*>(p)[i] != static_cast<char>(seed + i * 7)) return false;
  }
  return true;
}
bool AllZero(const void* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<const char*>(p)[i] != 0) return false;
  }
  return true;
}

class AllocFamilyTest : public ReportModeTest {
 protected:
  std::vector<ViolationKind> Kinds() {
    std::vector<ViolationKind> out;
    for (const auto& r : recorder_.Take()) out.push_back(r.kind);
    return out;
  }
};

// --- sp_calloc ---------------------------------------------------------------

TEST_F(AllocFamilyTest, CallocZeroesEvenReusedSlotsWithoutZeroOnFree) {
  sealpool_test::ScopedOptions opts(
      "zero_on_free=0:write_after_free_check=0:quarantine=0:large_quarantine=0");
  sp_pool* pool = MakePool("calloc-dirty");
  ASSERT_NE(pool, nullptr);
  for (size_t size : {24u, 200u, 5000u, 70000u}) {
    // Dirty slots of the class, free them, then calloc the same class.
    std::vector<void*> dirty;
    for (int i = 0; i < 8; ++i) {
      void* p = sp_alloc(pool, size);
      ASSERT_NE(p, nullptr);
      std::memset(p, 0xA5, size);
      dirty.push_back(p);
    }
    for (void* p : dirty) ASSERT_EQ(sp_free(p), 0);
    for (int i = 0; i < 8; ++i) {
      void* p = sp_calloc(pool, 1, size);
      ASSERT_NE(p, nullptr);
      EXPECT_TRUE(AllZero(p, size)) << size;
      EXPECT_EQ(sp_object_size(p), size);
      EXPECT_EQ(sp_free(p), 0);
    }
  }
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_TRUE(Kinds().empty());
}

// A large calloc is zero without being written: its pages stay
// non-resident until used (as with glibc's mmapped chunks).
TEST_F(AllocFamilyTest, LargeCallocLeavesItsPagesUntouched) {
  sealpool_test::ScopedOptions opts("large_quarantine=0");
  sp_pool* pool = MakePool("calloc-lazy");
  ASSERT_NE(pool, nullptr);
  constexpr size_t kBytes = 8 << 20;
  // A dirty large object first, freed, so that the calloc may reuse its span.
  void* dirty = sp_alloc(pool, kBytes);
  ASSERT_NE(dirty, nullptr);
  std::memset(dirty, 0x5a, kBytes);
  ASSERT_EQ(sp_free(dirty), 0);
  for (int round = 0; round < 2; ++round) {
    void* p = sp_calloc(pool, kBytes / 8, 8);
    ASSERT_NE(p, nullptr);
    const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + 4095) & ~uintptr_t{4095};
    const size_t pages = (reinterpret_cast<uintptr_t>(p) + kBytes - lo) / 4096;
    std::vector<unsigned char> vec(pages);
    ASSERT_EQ(mincore(reinterpret_cast<void*>(lo), pages * 4096, vec.data()), 0);
    size_t resident = 0;
    for (unsigned char v : vec) resident += v & 1;
    EXPECT_LE(resident, 2u) << "round " << round;
    EXPECT_TRUE(AllZero(p, kBytes));
    EXPECT_EQ(sp_free(p), 0);
  }
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_TRUE(Kinds().empty());
}

TEST_F(AllocFamilyTest, CallocSizesAndOverflow) {
  sp_pool* pool = MakePool("calloc");
  ASSERT_NE(pool, nullptr);
  void* p = sp_calloc(pool, 10, 12);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_object_size(p), 120u);
  EXPECT_TRUE(AllZero(p, 120));
  EXPECT_EQ(sp_free(p), 0);

  errno = 0;
  EXPECT_EQ(sp_calloc(pool, SIZE_MAX / 2 + 1, 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(sp_calloc(pool, SIZE_MAX, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(sp_calloc(nullptr, 1, 1), nullptr);
  EXPECT_EQ(errno, EINVAL);

  // n == 0 or size == 0: a zero-size object of the pool.
  void* z = sp_calloc(pool, 0, 64);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(sp_owns(z), 1);
  EXPECT_EQ(sp_object_size(z), 0u);
  EXPECT_EQ(sp_pool_of(z), pool);
  EXPECT_EQ(sp_free(z), 0);
  ASSERT_NE(sp_pool_ref(pool), nullptr);  // keeps the handle valid
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  errno = 0;
  EXPECT_EQ(sp_calloc(pool, 1, 8), nullptr);  // destroyed
  EXPECT_EQ(errno, EINVAL);
  sp_pool_unref(pool);
  EXPECT_TRUE(Kinds().empty());
}

// --- sp_realloc ----------------------------------------------------------------

TEST_F(AllocFamilyTest, ReallocNullAllocatesAndNeedsAPool) {
  sp_pool* pool = MakePool("realloc-null");
  ASSERT_NE(pool, nullptr);
  void* p = sp_realloc(pool, nullptr, 33);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_object_size(p), 33u);
  EXPECT_EQ(sp_pool_of(p), pool);
  errno = 0;
  EXPECT_EQ(sp_realloc(nullptr, nullptr, 33), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST_F(AllocFamilyTest, ReallocKeepsBytesPoolAndExactBounds) {
  sp_pool* a = MakePool("realloc-a");
  sp_pool* b = MakePool("realloc-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Through every kind of move: small -> small, small -> large, large ->
  // large, large -> small, and back down.
  const size_t sizes[] = {10, 100, 3000, 20000, 300000, 17, 1};
  void* p = sp_alloc(b, 5);
  ASSERT_NE(p, nullptr);
  Fill(p, 5, 3);
  size_t have = 5;
  for (size_t size : sizes) {
    void* q = sp_realloc(nullptr, p, size);  // pool NULL: the owner's
    ASSERT_NE(q, nullptr) << size;
    const size_t kept = size < have ? size : have;
    EXPECT_TRUE(Holds(q, kept, 3)) << size;
    EXPECT_EQ(sp_object_size(q), size);
    EXPECT_EQ(sp_pool_of(q), b);
    // The bounds are exactly `size`.
    EXPECT_EQ(sp_check_copy(q, size, SP_COPY_WRITE), 0);
    EXPECT_LT(sp_check_copy(q, size + 1, SP_COPY_WRITE), 0);
    Fill(q, size, 3);
    p = q;
    have = size;
  }
  (void)Kinds();  // the refused copies above
  void* q = sp_realloc(b, p, 64);  // the owner, named
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(sp_free(q), 0);
  EXPECT_EQ(sp_pool_destroy(a), 0);
  EXPECT_EQ(sp_pool_destroy(b), 0);
  EXPECT_TRUE(Kinds().empty());
}

TEST_F(AllocFamilyTest, ReallocToZeroFreesAndReturnsZeroSizeObject) {
  sp_pool* pool = MakePool("realloc-zero");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 48);
  ASSERT_NE(p, nullptr);
  void* z = sp_realloc(pool, p, 0);
  ASSERT_NE(z, nullptr);
  EXPECT_NE(z, p);
  EXPECT_EQ(sp_owns(z), 1);
  EXPECT_EQ(sp_object_size(z), 0u);
  EXPECT_EQ(sp_pool_of(z), pool);
  EXPECT_EQ(sp_owns(p), 0);  // the old block was freed
  EXPECT_EQ(sp_free(p), SP_VIOLATION_DOUBLE_FREE);
  // A zero-size object grows like any other.
  void* g = sp_realloc(nullptr, z, 20);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(sp_object_size(g), 20u);
  EXPECT_EQ(sp_free(g), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kDoubleFree});
}

TEST_F(AllocFamilyTest, ReallocFailureLeavesTheBlockUntouched) {
  sp_pool* pool = MakePool("realloc-fail", 256 * 1024);
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 1000);
  ASSERT_NE(p, nullptr);
  Fill(p, 1000, 9);
  errno = 0;
  EXPECT_EQ(sp_realloc(pool, p, 10 << 20), nullptr);  // over the cap
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(sp_realloc(pool, p, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(sp_realloc(pool, p, SIZE_MAX / 2), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(sp_object_size(p), 1000u);
  EXPECT_TRUE(Holds(p, 1000, 9));
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_TRUE(Kinds().empty());
}

// A shrink must not fail: in a pool at its cap, and in a destroyed pool
// (which refuses every new block), the object shrinks in place; its new
// bounds hold and its canary is checked at the new end.
TEST_F(AllocFamilyTest, ShrinkNeverFailsAtTheCapOrAfterDestroy) {
  for (size_t big : {size_t{200}, size_t{3000}, size_t{100000}}) {
    sp_pool* pool = MakePool("realloc-shrink");
    ASSERT_NE(pool, nullptr);
    void* p = sp_alloc(pool, big);
    ASSERT_NE(p, nullptr);
    Fill(p, big, 5);
    ASSERT_NE(sp_pool_ref(pool), nullptr);
    ASSERT_EQ(sp_pool_destroy(pool), 0);
    errno = 0;
    EXPECT_EQ(sp_alloc(pool, 8), nullptr);  // the pool takes nothing new
    const size_t small = big / 2 - 3;
    void* q = sp_realloc(pool, p, small);
    ASSERT_EQ(q, p) << big;
    EXPECT_EQ(sp_object_size(q), small);
    EXPECT_TRUE(Holds(q, small, 5));
    EXPECT_EQ(sp_check_copy(q, small, SP_COPY_READ), 0);
    EXPECT_LT(sp_check_copy(q, small + 1, SP_COPY_READ), 0);
    EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kOutOfBounds});
    // A grow fails, and leaves the shrunk block as it is.
    errno = 0;
    EXPECT_EQ(sp_realloc(pool, q, big), nullptr);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(sp_object_size(q), small);
    // The canary sits at the new end: an overflow by one is caught at free.
    sealpool_test::PokeUnchecked(q, static_cast<ptrdiff_t>(small), 0);  // never a canary byte
    EXPECT_EQ(sp_free(q), SP_VIOLATION_HEAP_OVERFLOW);
    EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kHeapOverflow});
    sp_pool_unref(pool);
  }
}

TEST_F(AllocFamilyTest, ShrinkInPlaceNeighbourFreesCleanly) {
  sp_pool* pool = MakePool("realloc-shrink-ok", 64 * 1024);
  ASSERT_NE(pool, nullptr);
  // Fill the cap with one large object, then shrink it: no new block fits.
  void* p = sp_alloc(pool, 40000);
  ASSERT_NE(p, nullptr);
  std::vector<void*> more;
  for (void* q; (q = sp_alloc(pool, 4000)) != nullptr;) more.push_back(q);
  void* q = sp_realloc(pool, p, 100);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(sp_object_size(q), 100u);
  std::memset(q, 0x33, 100);  // every byte of the shrunk object is its own
  EXPECT_EQ(sp_free(q), 0);
  for (void* m : more) EXPECT_EQ(sp_free(m), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_TRUE(Kinds().empty());
}

// A resize that needs the slot's own class stays in the slot: the same
// pointer, the bytes kept, exact new bounds, the gained bytes zero (the old
// canary is not handed out) and the canary at the new end checked at free.
TEST_F(AllocFamilyTest, ReallocWithinTheSlotStaysInPlace) {
  sp_pool* pool = MakePool("realloc-in-place");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 100);  // a 112-byte slot (one byte of canary room)
  ASSERT_NE(p, nullptr);
  Fill(p, 100, 4);
  void* q = sp_realloc(pool, p, 110);
  ASSERT_EQ(q, p);
  EXPECT_TRUE(Holds(q, 100, 4));
  for (size_t i = 100; i < 110; ++i) EXPECT_EQ(AsBytes(q)[i], 0) << i;
  EXPECT_EQ(sp_object_size(q), 110u);
  EXPECT_EQ(sp_check_copy(q, 110, SP_COPY_WRITE), 0);
  EXPECT_LT(sp_check_copy(q, 111, SP_COPY_WRITE), 0);
  (void)Kinds();
  q = sp_realloc(pool, q, 97);  // and down again, in the same slot
  ASSERT_EQ(q, p);
  EXPECT_TRUE(Holds(q, 97, 4));
  // The canary moved with the end: an overflow past 97 bytes is caught.
  sealpool_test::PokeUnchecked(q, 97, 0);  // canary bytes are never zero
  EXPECT_EQ(sp_free(q), SP_VIOLATION_HEAP_OVERFLOW);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kHeapOverflow});
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// An object whose canary is already overwritten is not grown in place (that
// would erase the evidence): it moves, and the free of the old block
// reports the overflow.
TEST_F(AllocFamilyTest, OverflowedObjectIsNotGrownInPlace) {
  sp_pool* pool = MakePool("realloc-overflowed");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 100);
  ASSERT_NE(p, nullptr);
  Fill(p, 100, 6);
  sealpool_test::PokeUnchecked(p, 100, 0);  // canary bytes are never zero
  void* q = sp_realloc(pool, p, 110);
  ASSERT_NE(q, nullptr);
  EXPECT_NE(q, p);
  EXPECT_TRUE(Holds(q, 100, 6));
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kHeapOverflow});
  EXPECT_EQ(sp_free(q), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// A large object shrunk in place and grown again into its room holds
// zeros where its canaries were, never key bytes; and an overflowed small
// object is not shrunk in place either.
TEST_F(AllocFamilyTest, InPlaceResizesHandOutNoCanaryBytes) {
  sp_pool* pool = MakePool("realloc-no-canary-bytes");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 20001);
  ASSERT_NE(p, nullptr);
  Fill(p, 20001, 2);
  void* q = sp_realloc(pool, p, 17000);
  ASSERT_EQ(q, p);  // large to large: in place
  q = sp_realloc(pool, q, 20016);
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(Holds(q, 17000, 2));
  for (size_t i = 17000; i < 20016; ++i) ASSERT_EQ(AsBytes(q)[i], 0) << i;
  EXPECT_EQ(sp_free(q), 0);
  void* s = sp_alloc(pool, 100);
  ASSERT_NE(s, nullptr);
  Fill(s, 100, 8);
  sealpool_test::PokeUnchecked(s, 100, 0);  // canary bytes are never zero
  void* t = sp_realloc(pool, s, 97);
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t, s);
  EXPECT_TRUE(Holds(t, 97, 8));
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kHeapOverflow});
  EXPECT_EQ(sp_free(t), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST_F(AllocFamilyTest, ReallocOfBadPointersIsReportedAndChangesNothing) {
  sp_pool* pool = MakePool("realloc-bad");
  sp_pool* other = MakePool("realloc-other");
  ASSERT_NE(pool, nullptr);
  ASSERT_NE(other, nullptr);
  void* p = sp_alloc(pool, 64);
  ASSERT_NE(p, nullptr);
  Fill(p, 64, 1);

  void* foreign = std::malloc(64);
  ASSERT_NE(foreign, nullptr);
  errno = 0;
  EXPECT_EQ(sp_realloc(pool, foreign, 128), nullptr);
  EXPECT_EQ(errno, EINVAL);
  std::free(foreign);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kInvalidFree});

  errno = 0;
  EXPECT_EQ(sp_realloc(pool, AsBytes(p) + 8, 128), nullptr);  // interior
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kInvalidFree});

  errno = 0;
  EXPECT_EQ(sp_realloc(other, p, 128), nullptr);  // not this pool's
  EXPECT_EQ(errno, EINVAL);
  auto recs = recorder_.Take();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].kind, ViolationKind::kInvalidFree);
  EXPECT_EQ(recs[0].pool_name, sp_pool_name(pool));
  EXPECT_EQ(sp_object_size(p), 64u);
  EXPECT_TRUE(Holds(p, 64, 1));

  void* dead = sp_alloc(pool, 64);
  ASSERT_NE(dead, nullptr);
  ASSERT_EQ(sp_free(dead), 0);
  errno = 0;
  EXPECT_EQ(sp_realloc(pool, dead, 128), nullptr);  // freed
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kDoubleFree});

  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_EQ(sp_pool_destroy(other), 0);
}

TEST_F(AllocFamilyTest, ReallocOfSealedObjectIsASealedFree) {
  sp_pool* pool = MakePool("realloc-sealed");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 64);
  ASSERT_NE(p, nullptr);
  Fill(p, 64, 2);
  ASSERT_EQ(sp_pool_seal(pool), 0);
  errno = 0;
  EXPECT_EQ(sp_realloc(pool, p, 128), nullptr);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(sp_realloc(pool, p, 16), nullptr);  // not even a shrink
  EXPECT_EQ(Kinds(), (std::vector<ViolationKind>{ViolationKind::kSealedFree,
                                                  ViolationKind::kSealedFree}));
  EXPECT_EQ(sp_object_size(p), 64u);
  EXPECT_TRUE(Holds(p, 64, 2));
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(AllocFamilyDeathTest, ReallocOfForeignPointerAbortsInAbortMode) {
  sp_pool* pool = MakePool("realloc-abort");
  ASSERT_NE(pool, nullptr);
  void* foreign = std::malloc(32);
  EXPECT_DEATH(sp_realloc(pool, foreign, 64), "invalid free");
  std::free(foreign);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// --- sp_alloc_aligned ------------------------------------------------------------

TEST_F(AllocFamilyTest, AlignedAllocationHonoursEveryAlignment) {
  sp_pool* pool = MakePool("aligned");
  ASSERT_NE(pool, nullptr);
  for (size_t align = 1; align <= (size_t{1} << 20); align <<= 1) {
    for (size_t size : {size_t{1}, size_t{24}, size_t{100}, size_t{4000},
                        size_t{20000}}) {
      void* p = sp_alloc_aligned(pool, align, size);
      ASSERT_NE(p, nullptr) << align << " " << size;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align << " " << size;
      EXPECT_EQ(sp_object_size(p), size);
      Fill(p, size, 4);
      EXPECT_LT(sp_check_copy(p, size + 1, SP_COPY_WRITE), 0);
      EXPECT_EQ(sp_free(p), 0);
    }
  }
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  for (const auto& r : recorder_.Take()) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);  // the refused copies only
  }
}

TEST_F(AllocFamilyTest, AlignedZeroSizeAndBadArguments) {
  sp_pool* pool = MakePool("aligned-edge");
  ASSERT_NE(pool, nullptr);
  for (size_t align : {size_t{8}, size_t{64}, size_t{4096}}) {
    void* z = sp_alloc_aligned(pool, align, 0);
    ASSERT_NE(z, nullptr) << align;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(z) % align, 0u);
    EXPECT_EQ(sp_owns(z), 1);
    EXPECT_EQ(sp_object_size(z), 0u);
    EXPECT_EQ(sp_free(z), 0);
  }
  for (size_t align : {size_t{0}, size_t{3}, size_t{48}, size_t{1} << 31, SIZE_MAX}) {
    errno = 0;
    EXPECT_EQ(sp_alloc_aligned(pool, align, 16), nullptr) << align;
    EXPECT_EQ(errno, EINVAL) << align;
  }
  errno = 0;
  EXPECT_EQ(sp_alloc_aligned(pool, 8192, 0), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(sp_alloc_aligned(pool, 64, SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(sp_alloc_aligned(nullptr, 64, 16), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_NE(sp_pool_ref(pool), nullptr);  // keeps the handle valid
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  errno = 0;
  EXPECT_EQ(sp_alloc_aligned(pool, 64, 16), nullptr);  // destroyed
  EXPECT_EQ(errno, EINVAL);
  sp_pool_unref(pool);
  EXPECT_TRUE(Kinds().empty());
}

// --- sp_strdup / sp_strndup ------------------------------------------------------

TEST_F(AllocFamilyTest, StrdupAndStrndup) {
  sp_pool* pool = MakePool("strdup");
  ASSERT_NE(pool, nullptr);
  char* s = sp_strdup(pool, "hello, pool");
  ASSERT_NE(s, nullptr);
  EXPECT_STREQ(s, "hello, pool");
  EXPECT_EQ(sp_object_size(s), 12u);
  EXPECT_EQ(sp_pool_of(s), pool);
  char* e = sp_strdup(pool, "");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e[0], '\0');
  EXPECT_EQ(sp_object_size(e), 1u);
  char* n = sp_strndup(pool, "abcdef", 3);
  ASSERT_NE(n, nullptr);
  EXPECT_STREQ(n, "abc");
  EXPECT_EQ(sp_object_size(n), 4u);
  char* m = sp_strndup(pool, "abc", SIZE_MAX);
  ASSERT_NE(m, nullptr);
  EXPECT_STREQ(m, "abc");
  char* z = sp_strndup(pool, "abc", 0);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z[0], '\0');
  // strndup never reads past n: a buffer without a NUL is fine.
  const char raw[4] = {'w', 'x', 'y', 'z'};
  char* r = sp_strndup(pool, raw, sizeof(raw));
  ASSERT_NE(r, nullptr);
  EXPECT_STREQ(r, "wxyz");
  // A pool string without a NUL: read up to its object's end, not past it
  // into the canary or the next slot.
  char* unterminated = static_cast<char*>(sp_alloc(pool, 24));
  ASSERT_NE(unterminated, nullptr);
  std::memset(unterminated, 'u', 24);
  errno = 0;
  EXPECT_EQ(sp_strdup(pool, unterminated), nullptr);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kOutOfBounds});
  char* bounded = sp_strndup(pool, unterminated, 24);  // the neighbour: n stops first
  ASSERT_NE(bounded, nullptr);
  EXPECT_EQ(std::string(bounded), std::string(24, 'u'));
  EXPECT_EQ(sp_free(bounded), 0);
  unterminated[23] = '\0';  // the other neighbour: the NUL in the last byte
  char* last = sp_strdup(pool, unterminated);
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(std::string(last), std::string(23, 'u'));
  EXPECT_EQ(sp_free(last), 0);
  EXPECT_TRUE(Kinds().empty());
  EXPECT_EQ(sp_free(unterminated), 0);
  errno = 0;
  EXPECT_EQ(sp_strdup(pool, unterminated), nullptr);  // freed
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kUseAfterFree});
  errno = 0;
  EXPECT_EQ(sp_strdup(pool, nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(sp_strdup(nullptr, "x"), nullptr);
  EXPECT_EQ(errno, EINVAL);
  for (char* p : {s, e, n, m, z, r}) EXPECT_EQ(sp_free(p), 0);
  ASSERT_NE(sp_pool_ref(pool), nullptr);  // keeps the handle valid
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  errno = 0;
  EXPECT_EQ(sp_strdup(pool, "late"), nullptr);  // destroyed
  EXPECT_EQ(errno, EINVAL);
  sp_pool_unref(pool);
  EXPECT_TRUE(Kinds().empty());
}

// --- sp_pool_of / sp_owns / sp_pool_find ---------------------------------------------

TEST_F(AllocFamilyTest, OwnershipQueries) {
  sp_pool* pool = MakePool("owns");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 100);
  void* big = sp_alloc(pool, 100000);
  void* z = sp_alloc(pool, 0);
  ASSERT_NE(p, nullptr);
  ASSERT_NE(big, nullptr);
  ASSERT_NE(z, nullptr);
  for (void* q : {p, static_cast<void*>(AsBytes(p) + 99), big,
                  static_cast<void*>(AsBytes(big) + 99999), z}) {
    EXPECT_EQ(sp_owns(q), 1);
    EXPECT_EQ(sp_pool_of(q), pool);
  }
  int local = 0;
  void* heap = std::malloc(16);
  for (const void* q : {static_cast<const void*>(&local), static_cast<const void*>(heap),
                        static_cast<const void*>(nullptr),
                        static_cast<const void*>(AsBytes(p) + 100)}) {
    EXPECT_EQ(sp_owns(q), 0);
    EXPECT_EQ(sp_pool_of(q), nullptr);
  }
  std::free(heap);
  ASSERT_EQ(sp_free(p), 0);
  ASSERT_EQ(sp_free(big), 0);
  ASSERT_EQ(sp_free(z), 0);
  for (void* q : {p, big, z}) {  // freed: no longer owned
    EXPECT_EQ(sp_owns(q), 0);
    EXPECT_EQ(sp_pool_of(q), nullptr);
  }
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_TRUE(Kinds().empty());
}

TEST_F(AllocFamilyTest, PoolFindGivesANewReference) {
  const std::string name = UniqueName("find");
  sp_pool* pool = sp_pool_create(name.c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  sp_pool* found = sp_pool_find(name.c_str());
  ASSERT_EQ(found, pool);
  // The creator's reference is dropped by destroy; the found one keeps
  // the pool's memory (and its objects) alive.
  void* p = sp_alloc(pool, 32);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_EQ(sp_pool_of(p), found);
  errno = 0;
  EXPECT_EQ(sp_pool_find(name.c_str()), nullptr);  // destroyed: gone by name
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(sp_free(p), 0);
  sp_pool_unref(found);

  errno = 0;
  EXPECT_EQ(sp_pool_find(UniqueName("never-made").c_str()), nullptr);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(sp_pool_find(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_TRUE(Kinds().empty());
}

// --- The C++ equivalents -------------------------------------------------------------

TEST_F(AllocFamilyTest, CppEquivalents) {
  auto made = sealpool::Pool::Create(UniqueName("cpp-family"));
  ASSERT_TRUE(made.ok()) << made.status();
  sealpool::Pool* pool = *made;
  auto z = pool->AllocateZeroed(4, 25);
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(AllZero(*z, 100));
  EXPECT_EQ(sealpool::Pool::ObjectSize(*z), 100u);
  EXPECT_EQ(pool->AllocateZeroed(SIZE_MAX, 2).status().code(),
            absl::StatusCode::kResourceExhausted);
  auto r = pool->Reallocate(*z, 300);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(AllZero(*r, 100));
  EXPECT_EQ(sealpool::Pool::ObjectSize(*r), 300u);
  auto a = pool->AllocateAligned(256, 10);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*a) % 256, 0u);
  EXPECT_EQ(pool->AllocateAligned(3, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto d = pool->Duplicate("dup");
  ASSERT_TRUE(d.ok());
  EXPECT_STREQ(*d, "dup");
  EXPECT_TRUE(sealpool::Pool::Owns(*d));
  EXPECT_FALSE(sealpool::Pool::Owns(&made));
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(pool->Reallocate(*d, 8).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kSealedFree});
  EXPECT_TRUE(pool->Destroy().ok());
}

}  // namespace
