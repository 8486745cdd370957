// Large objects that realloc grows past their room: their pages move to
// the new span (mremap) instead of being copied
// (allocator/internal/pool_large_move.cc). Every byte arrives, the bytes
// gained read zero, the canaries are the new address's (an overflow of the
// moved object is reported at its free), the old pages are guard pages, an
// overflowed object is copied so that its free reports it, a failed move
// falls back to a copy, and moves do not pile up mappings.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "allocator/internal/testing.h"
#include "allocator/kernel_calls.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace {

using sealpool::GetKernelCallCounts;
using sealpool::KernelCallCounts;
using sealpool::ViolationKind;
using ::sealpool_test::AsBytes;
using ::sealpool_test::PeekUnchecked;
using ::sealpool_test::PokeUnchecked;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;
using sealpool::internal::MovedInSpansForTest;

// The byte at offset i of a buffer filled with `seed`.
unsigned char Pattern(size_t i, unsigned seed) {
  return static_cast<unsigned char>(seed + i * 7 + (i >> 12));
}
void Fill(void* p, size_t from, size_t to, unsigned seed) {
  for (size_t i = from; i < to; ++i) AsBytes(p)[i] = static_cast<char>(Pattern(i, seed));
}
// The first offset below n that does not hold the pattern, or n.
size_t FirstWrong(const void* p, size_t n, unsigned seed) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != Pattern(i, seed)) return i;
  }
  return n;
}
bool AllZero(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}
uintptr_t Phase(const void* p) { return reinterpret_cast<uintptr_t>(p) & 4095; }

// PROT_NONE guards for one scope, whatever the test's assertions do.
struct ProtNoneGuards {
  ProtNoneGuards() { sealpool::internal::ForceProtNoneGuardsForTest(true); }
  ~ProtNoneGuards() { sealpool::internal::ForceProtNoneGuardsForTest(false); }
};

// Overwrites the byte at p + off with a different value (a fixed value
// would equal the keyed canary byte there one time in 255).
void Flip(void* p, ptrdiff_t off) {
  PokeUnchecked(p, off, static_cast<unsigned char>(PeekUnchecked(p, off) ^ 0xFF));
}

// In a child: reads one byte per page from `from` on, up to `limit` bytes;
// returns normally (exit 0) only when none of them faulted.
int ReadPages(const void* from, size_t limit) {
  for (size_t off = 0; off < limit; off += 4096) (void)PeekUnchecked(from, off);
  return 0;
}

// A new pool named after `base`, with `flags` and (0: the default) `align`.
sp_pool* NewPool(const char* base, uint32_t flags = 0, size_t align = 0) {
  sp_pool_options o;
  sp_pool_options_init(&o);
  o.flags = flags;
  if (align != 0) o.align = align;
  return sp_pool_create(UniqueName(base).c_str(), &o);
}

class LargeMoveTest : public ReportModeTest {
 protected:
  void SetUp() override {
    ReportModeTest::SetUp();
    sp_pool_options o;
    sp_pool_options_init(&o);
    name_ = UniqueName("large-move");
    pool_ = sp_pool_create(name_.c_str(), &o);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override {
    if (pool_ != nullptr) {
      EXPECT_EQ(sp_pool_destroy(pool_), 0);
    }
    sealpool::internal::InjectMoveFailures(0);
    ReportModeTest::TearDown();
  }
  std::vector<ViolationKind> Kinds() {
    std::vector<ViolationKind> out;
    for (const auto& r : recorder_.Take()) out.push_back(r.kind);
    return out;
  }
  // A large object of `size` bytes, filled with `seed`.
  void* Filled(size_t size, unsigned seed) {
    void* p = sp_alloc(pool_, size);
    if (p != nullptr) Fill(p, 0, size, seed);
    return p;
  }

  // A 100,000-byte object filled with `seed` and grown by realloc to
  // 300,000 bytes, past its room: the moved object (nullptr if realloc
  // failed or did not move it); *old is where it was.
  void* Moved(unsigned seed, void** old) {
    *old = Filled(100000, seed);
    if (*old == nullptr) return nullptr;
    void* q = sp_realloc(pool_, *old, 300000);
    return q == *old ? nullptr : q;
  }

  std::string name_;
  sp_pool* pool_ = nullptr;
};

// One object grown again and again: every growth past the room moves its
// pages (the count of moved-in spans stays one: each move frees the last
// one's span), and the object costs a bounded number of mappings however
// often it moved (its new span's pages are one mapping).
TEST_F(LargeMoveTest, GrowthMovesThePagesAndKeepsEveryByte) {
  const size_t spans = MovedInSpansForTest();
  size_t size = 100000;
  void* p = Filled(size, 5);
  ASSERT_NE(p, nullptr);
  for (int round = 0; round < 8; ++round) {
    // More than the quarter of room the last growth left: the object moves.
    const size_t grown = size * 2 + 123;
    const KernelCallCounts before = GetKernelCallCounts();
    void* q = sp_realloc(pool_, p, grown);
    const KernelCallCounts d = GetKernelCallCounts() - before;
    ASSERT_NE(q, nullptr) << grown;
    ASSERT_NE(q, p) << grown;
    EXPECT_EQ(d.mremap, 1u) << grown;
    EXPECT_EQ(MovedInSpansForTest(), spans + 1) << grown;
    EXPECT_EQ(Phase(q), Phase(p));
    EXPECT_EQ(FirstWrong(q, size, 5), size) << grown;
    // The bytes gained read zero: none of the old tail canary came along.
    EXPECT_TRUE(AllZero(AsBytes(q) + size, grown - size)) << grown;
    EXPECT_EQ(sp_object_size(q), grown);
    EXPECT_EQ(sp_pool_of(q), pool_);
    EXPECT_EQ(sp_check_copy(q, grown, SP_COPY_WRITE), 0);
    EXPECT_TRUE(Kinds().empty());
    EXPECT_LT(sp_check_copy(q, grown + 1, SP_COPY_WRITE), 0);
    // The old object is freed.
    EXPECT_LT(sp_check_copy(p, 1, SP_COPY_READ), 0);
    EXPECT_EQ(Kinds(), (std::vector<ViolationKind>{ViolationKind::kOutOfBounds,
                                                   ViolationKind::kUseAfterFree}));
    Fill(q, size, grown, 5);
    p = q;
    size = grown;
  }
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(MovedInSpansForTest(), spans);
  EXPECT_TRUE(Kinds().empty());
}

// The mappings a much-moved object costs: its pool's new extents, as for
// an object grown by copies, plus two (and a few the test's own
// allocations may add under a sanitizer). Were each move to leave a
// mapping behind, the 20 moves here would show 20.
TEST_F(LargeMoveTest, AMuchMovedObjectCostsAtMostTwoMappings) {
  size_t delta[2] = {};
  for (int copying = 0; copying < 2; ++copying) {
    sp_pool* pool = NewPool("large-move-chain");
    ASSERT_NE(pool, nullptr);
    const size_t before = sealpool_test::ReadMaps().size();
    if (copying) sealpool::internal::InjectMoveFailures(1000);
    size_t size = 100000;
    void* p = sp_alloc(pool, size);
    ASSERT_NE(p, nullptr);
    for (int round = 0; round < 20; ++round) {
      size = size + size * 3 / 10;  // past the quarter of room: a move
      p = sp_realloc(pool, p, size);
      ASSERT_NE(p, nullptr);
    }
    delta[copying] = sealpool_test::ReadMaps().size() - before;
    sealpool::internal::InjectMoveFailures(0);
    EXPECT_EQ(sp_free(p), 0);
    EXPECT_EQ(sp_pool_destroy(pool), 0);
  }
  EXPECT_LE(delta[0], delta[1] + 6) << delta[1];
  EXPECT_TRUE(Kinds().empty());
}

// Pools of larger alignments: the moved object keeps it (its place in the
// page is the old one's, itself aligned).
TEST_F(LargeMoveTest, MovesKeepThePoolsAlignment) {
  for (size_t align : {size_t{64}, size_t{256}, size_t{4096}}) {
    sp_pool* pool = NewPool("large-move-align", 0, align);
    ASSERT_NE(pool, nullptr) << align;
    void* p = sp_alloc(pool, 100000);
    ASSERT_NE(p, nullptr);
    Fill(p, 0, 100000, 16);
    const size_t spans = MovedInSpansForTest();
    void* q = sp_realloc(pool, p, 300000);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(MovedInSpansForTest(), spans + 1) << align;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % align, 0u) << align;
    EXPECT_EQ(FirstWrong(q, 100000, 16), 100000u) << align;
    EXPECT_TRUE(AllZero(AsBytes(q) + 100000, 200000)) << align;
    EXPECT_EQ(sp_free(q), 0);
    EXPECT_EQ(sp_pool_destroy(pool), 0);
  }
  EXPECT_TRUE(Kinds().empty());
}

// A pool destroyed with moved objects still live forgets them (the count
// caps moves process-wide, so a leak would end moves for good).
TEST_F(LargeMoveTest, DestroyingAPoolForgetsItsMovedSpans) {
  const size_t spans = MovedInSpansForTest();
  sp_pool* pool = NewPool("large-move-destroy");
  ASSERT_NE(pool, nullptr);
  for (int i = 0; i < 3; ++i) {
    void* p = sp_alloc(pool, 100000);
    ASSERT_NE(p, nullptr);
    ASSERT_NE(sp_realloc(pool, p, 300000), nullptr);
  }
  EXPECT_EQ(MovedInSpansForTest(), spans + 3);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_EQ(MovedInSpansForTest(), spans);
  EXPECT_TRUE(Kinds().empty());
}

// With PROT_NONE guard pages (kernels without guard markers) a move works
// the same, and the old and the freed pages fault.
TEST_F(LargeMoveTest, MovesWorkWithProtNoneGuards) {
  ProtNoneGuards prot_none;
  sp_pool* pool = NewPool("large-move-protnone");
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, 100000);
  ASSERT_NE(p, nullptr);
  Fill(p, 0, 100000, 17);
  const size_t spans = MovedInSpansForTest();
  void* q = sp_realloc(pool, p, 300000);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(MovedInSpansForTest(), spans + 1);
  EXPECT_EQ(FirstWrong(q, 100000, 17), 100000u);
  const int stale =
      sealpool_test::RunInChild([p] { return static_cast<int>(PeekUnchecked(p, 0)); });
  EXPECT_TRUE(sealpool_test::KilledBySegv(stale)) << stale;
  EXPECT_EQ(sp_free(q), 0);
  const int freed =
      sealpool_test::RunInChild([q] { return static_cast<int>(PeekUnchecked(q, 0)); });
  EXPECT_TRUE(sealpool_test::KilledBySegv(freed)) << freed;
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_TRUE(Kinds().empty());
}

// The moved object's span keeps its guard pages: the page before the
// object's first faults, and so does one within its room past its end
// (its trailing guard), while every page in between reads.
TEST_F(LargeMoveTest, TheMovedObjectKeepsItsGuardPages) {
  void* p = nullptr;
  void* q = Moved(18, &p);
  ASSERT_NE(q, nullptr);
  const uintptr_t first_page = reinterpret_cast<uintptr_t>(q) & ~uintptr_t{4095};
  const auto* before = reinterpret_cast<const char*>(first_page - 1);
  const int head = sealpool_test::RunInChild([before] { return ReadPages(before, 1); });
  EXPECT_TRUE(sealpool_test::KilledBySegv(head)) << head;
  // The object and its room (a quarter of its size) read; a page more
  // than that reaches the trailing guard.
  const int inside = sealpool_test::RunInChild(
      [first_page] { return ReadPages(reinterpret_cast<const void*>(first_page), 300000); });
  EXPECT_TRUE(sealpool_test::ExitedZero(inside)) << inside;
  const int tail = sealpool_test::RunInChild([first_page] {
    return ReadPages(reinterpret_cast<const void*>(first_page), 300000 + 75000 + 2 * 4096);
  });
  EXPECT_TRUE(sealpool_test::KilledBySegv(tail)) << tail;
  EXPECT_EQ(sp_free(q), 0);
  EXPECT_TRUE(Kinds().empty());
}

// A fork child copies instead of moving (its mappings would not merge
// again), and keeps every byte.
TEST_F(LargeMoveTest, AForkChildCopies) {
  const int status = sealpool_test::RunInChild([this] {
    const size_t spans = MovedInSpansForTest();
    const size_t before = sealpool_test::ReadMaps().size();
    for (int i = 0; i < 50; ++i) {
      void* p = Filled(100000, 19);
      if (p == nullptr) return 1;
      void* q = sp_realloc(pool_, p, 300000);
      if (q == nullptr || FirstWrong(q, 100000, 19) != 100000) return 2;
      if (MovedInSpansForTest() != spans) return 3;
      if (sp_free(q) != 0) return 4;
    }
    return sealpool_test::ReadMaps().size() <= before + 16 ? 0 : 5;
  });
  EXPECT_TRUE(sealpool_test::ExitedZero(status)) << status;
  // The parent still moves.
  void* p = Filled(100000, 20);
  ASSERT_NE(p, nullptr);
  const size_t spans = MovedInSpansForTest();
  void* q = sp_realloc(pool_, p, 300000);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(MovedInSpansForTest(), spans + 1);
  EXPECT_EQ(sp_free(q), 0);
  EXPECT_TRUE(Kinds().empty());
}

TEST_F(LargeMoveTest, GrowthWithinTheRoomStaysInPlace) {
  void* p = Filled(100000, 6);
  ASSERT_NE(p, nullptr);
  void* q = sp_realloc(pool_, p, 200000);  // moves, with 50,000 bytes of room
  ASSERT_NE(q, nullptr);
  const KernelCallCounts before = GetKernelCallCounts();
  void* r = sp_realloc(pool_, q, 240000);
  const KernelCallCounts d = GetKernelCallCounts() - before;
  EXPECT_EQ(r, q);
  EXPECT_EQ(d.Total(), 0u);
  EXPECT_EQ(FirstWrong(r, 100000, 6), 100000u);
  EXPECT_TRUE(AllZero(AsBytes(r) + 100000, 140000));
  EXPECT_EQ(sp_free(r), 0);
  EXPECT_TRUE(Kinds().empty());
}

// The canaries around a moved object are keyed by its new address: a
// one-byte overflow or underflow of it is reported when it is freed.
TEST_F(LargeMoveTest, AnOverflowOfAMovedObjectIsReportedAtItsFree) {
  for (ptrdiff_t off : {ptrdiff_t{0}, ptrdiff_t{-1}}) {
    void* p = Filled(150000, 7);
    ASSERT_NE(p, nullptr);
    void* q = sp_realloc(pool_, p, 400000);
    ASSERT_NE(q, nullptr);
    ASSERT_NE(q, p);
    Flip(q, off == 0 ? 400000 : -1);
    EXPECT_EQ(sp_free(q), SP_VIOLATION_HEAP_OVERFLOW) << off;
    const auto records = recorder_.Take();
    ASSERT_EQ(records.size(), 1u) << off;
    EXPECT_EQ(records[0].kind, ViolationKind::kHeapOverflow);
    EXPECT_EQ(records[0].pool_name, name_);
    EXPECT_EQ(records[0].object_start, reinterpret_cast<uintptr_t>(q));
  }
}

// An object whose canary is already overwritten is not moved: the copying
// path's free of the old object reports the overflow, as for any realloc.
TEST_F(LargeMoveTest, AnOverflowedObjectIsCopiedAndItsOverflowReported) {
  // End-aligned to 16 bytes against its guard page: 13 canary bytes.
  void* p = Filled(100003, 8);
  ASSERT_NE(p, nullptr);
  Flip(p, 100003);
  const KernelCallCounts before = GetKernelCallCounts();
  void* q = sp_realloc(pool_, p, 300000);
  const KernelCallCounts d = GetKernelCallCounts() - before;
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(d.mremap, 0u);
  EXPECT_EQ(FirstWrong(q, 100003, 8), 100003u);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kHeapOverflow});
  EXPECT_EQ(sp_free(q), 0);
  EXPECT_TRUE(Kinds().empty());
}

// The old pages become guard pages, as for any freed large object: a
// stale pointer faults instead of reading the moved bytes.
TEST_F(LargeMoveTest, AStalePointerToTheOldPagesFaults) {
  void* p = nullptr;
  void* q = Moved(9, &p);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(PeekUnchecked(q, 0), Pattern(0, 9));  // the legal neighbour
  const int status =
      sealpool_test::RunInChild([p] { return static_cast<int>(PeekUnchecked(p, 0)); });
  EXPECT_TRUE(sealpool_test::KilledBySegv(status)) << status;
  EXPECT_EQ(sp_free(q), 0);
  // The moved-in pages, mapped anew when freed, are guard pages too.
  const int after_free =
      sealpool_test::RunInChild([q] { return static_cast<int>(PeekUnchecked(q, 0)); });
  EXPECT_TRUE(sealpool_test::KilledBySegv(after_free)) << after_free;
  EXPECT_TRUE(Kinds().empty());
}

// A move the kernel refuses leaves the new span's pages empty: its
// canaries are written again and the object copied.
TEST_F(LargeMoveTest, AFailedMoveFallsBackToACopy) {
  void* p = Filled(100000, 10);
  ASSERT_NE(p, nullptr);
  const size_t spans = MovedInSpansForTest();
  sealpool::internal::InjectMoveFailures(1);
  void* q = sp_realloc(pool_, p, 300000);
  ASSERT_NE(q, nullptr);
  EXPECT_NE(q, p);
  EXPECT_EQ(MovedInSpansForTest(), spans);
  EXPECT_EQ(FirstWrong(q, 100000, 10), 100000u);
  EXPECT_TRUE(AllZero(AsBytes(q) + 100000, 200000));
  EXPECT_TRUE(Kinds().empty());
  // Its canaries are in place: an overflow is still found.
  Flip(q, 300000);
  EXPECT_EQ(sp_free(q), SP_VIOLATION_HEAP_OVERFLOW);
  EXPECT_EQ(Kinds(), std::vector<ViolationKind>{ViolationKind::kHeapOverflow});
  // The legal neighbour: a copied object freed whole reports nothing.
  sealpool::internal::InjectMoveFailures(1);
  void* r = Filled(100000, 11);
  ASSERT_NE(r, nullptr);
  void* s = sp_realloc(pool_, r, 300000);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(FirstWrong(s, 100000, 11), 100000u);
  EXPECT_EQ(sp_free(s), 0);
  EXPECT_TRUE(Kinds().empty());
}

// Objects below 64 KiB are copied (a copy costs less than the system
// calls), and so are write-rare pools' (shared memory would move its file
// pages).
TEST_F(LargeMoveTest, SmallLargeObjectsAndWriteRarePoolsAreCopied) {
  void* p = Filled(40000, 12);
  ASSERT_NE(p, nullptr);
  KernelCallCounts before = GetKernelCallCounts();
  void* q = sp_realloc(pool_, p, 200000);
  EXPECT_EQ((GetKernelCallCounts() - before).mremap, 0u);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(FirstWrong(q, 40000, 12), 40000u);
  EXPECT_EQ(sp_free(q), 0);

  sp_pool* wr = NewPool("large-move-wr", SP_POOL_WRITE_RARE);
  ASSERT_NE(wr, nullptr);
  void* w = sp_alloc(wr, 100000);
  ASSERT_NE(w, nullptr);
  Fill(w, 0, 100000, 13);
  before = GetKernelCallCounts();
  void* x = sp_realloc(wr, w, 300000);
  EXPECT_EQ((GetKernelCallCounts() - before).mremap, 0u);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(FirstWrong(x, 100000, 13), 100000u);
  EXPECT_EQ(sp_free(x), 0);
  EXPECT_EQ(sp_pool_destroy(wr), 0);
  EXPECT_TRUE(Kinds().empty());
}

// A move leaves its source range a mapping of its own unless it is mapped
// anew; without that, each move would add two mappings, and a process runs
// out of them (vm.max_map_count) after some 30,000 moves. (kSlack: the
// mappings the test's own allocations may add, more under sanitizers; a
// leak here would be 100 to 600.)
TEST_F(LargeMoveTest, MovesDoNotPileUpMappings) {
  constexpr size_t kSlack = 40;
  const size_t before = sealpool_test::ReadMaps().size();
  uint64_t moves = 0;
  for (int i = 0; i < 300; ++i) {
    void* p = Filled(100000 + 4096 * (i % 7), 14);
    ASSERT_NE(p, nullptr);
    const KernelCallCounts c = GetKernelCallCounts();
    void* q = sp_realloc(pool_, p, 300000);
    moves += (GetKernelCallCounts() - c).mremap;
    ASSERT_NE(q, nullptr);
    ASSERT_EQ(sp_free(q), 0);
  }
  EXPECT_EQ(moves, 300u);
  EXPECT_LE(sealpool_test::ReadMaps().size(), before + kSlack);
  // A live moved object costs at most two mappings; freed, none.
  std::vector<void*> live;
  for (int i = 0; i < 50; ++i) {
    void* p = Filled(100000, 15);
    ASSERT_NE(p, nullptr);
    void* q = sp_realloc(pool_, p, 300000);
    ASSERT_NE(q, nullptr);
    live.push_back(q);
  }
  EXPECT_LE(sealpool_test::ReadMaps().size(), before + kSlack + 2 * live.size());
  for (void* q : live) {
    EXPECT_EQ(FirstWrong(q, 100000, 15), 100000u);
    ASSERT_EQ(sp_free(q), 0);
  }
  EXPECT_LE(sealpool_test::ReadMaps().size(), before + kSlack);
  EXPECT_TRUE(Kinds().empty());
}

}  // namespace
