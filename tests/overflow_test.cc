// Overflow attacks: linear over-reads (info leaks) and over-writes past an
// object's requested end, into slack, redzones, a neighbouring object, the
// next span or a large object's guard page — through checked copies and
// through a host's plain memcpy/memmove/memset routed by the macro shim.
//
// This file turns the shim on: every memcpy, memmove and memset written by
// name below is sp_memcpy/sp_memmove/sp_memset. The shim is included after
// every other header, so library headers keep libc's functions.

#define SEALPOOL_CHECKED_MEMCPY 1

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

// Last: from here on memcpy(d, s, n) means sp_memcpy(d, s, n).
#include "boundscheck/memcpy_shim.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;

// Fills `n` bytes without going through the shim (test setup only).
void Fill(void* p, int c, size_t n) {
  unsigned char* b = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(c);
}

bool AllBytesAre(const void* p, int c, size_t n) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    if (b[i] != static_cast<unsigned char>(c)) return false;
  }
  return true;
}

class OverflowTest : public ReportModeTest {};

// The macro shim.

TEST_F(OverflowTest, ShimRefusesPlainMemcpyOverRead) {
  const std::string name = UniqueName("ovf-shim-read");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(obj, pool, kSize);
  Fill(obj, 0x11, kSize);
  char dst[128];
  Fill(dst, 0x5a, sizeof(dst));

  // Refused: the destination range gets zeros, never the object's bytes
  // or what follows it; the rest of dst keeps its pattern.
  void* result = memcpy(dst, obj, kSize + 1);
  EXPECT_EQ(result, nullptr);
  EXPECT_TRUE(AllBytesAre(dst, 0, kSize + 1));
  EXPECT_TRUE(AllBytesAre(dst + kSize + 1, 0x5a, sizeof(dst) - kSize - 1));
  Fill(dst, 0x5a, sizeof(dst));
  result = memmove(dst, obj, kSize + 1);
  EXPECT_EQ(result, nullptr);
  EXPECT_TRUE(AllBytesAre(dst, 0, kSize + 1));
  EXPECT_TRUE(AllBytesAre(dst + kSize + 1, 0x5a, sizeof(dst) - kSize - 1));
  Fill(dst, 0x5a, sizeof(dst));

  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, ViolationKind::kOutOfBounds);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].object_start, Addr(obj));
  EXPECT_EQ(v[0].object_size, kSize);

  // The exact size goes through and copies.
  result = memcpy(dst, obj, kSize);
  EXPECT_EQ(result, dst);
  EXPECT_TRUE(AllBytesAre(dst, 0x11, kSize));
  EXPECT_TRUE(AllBytesAre(dst + kSize, 0x5a, sizeof(dst) - kSize));
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_TRUE(Pool::Free(obj).ok());
}

TEST_F(OverflowTest, ShimRefusesPlainOverWrites) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-shim-write"), PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(obj, pool, kSize);
  Fill(obj, 0x11, kSize);
  char src[128];
  Fill(src, 0x77, sizeof(src));

  EXPECT_EQ(memcpy(obj, src, kSize + 1), nullptr);
  EXPECT_EQ(memmove(obj, src, sizeof(src)), nullptr);
  EXPECT_EQ(memset(obj, 0, kSize + 1), nullptr);
  EXPECT_EQ(memset(AsBytes(obj) + kSize, 0, 1), nullptr);
  EXPECT_TRUE(AllBytesAre(obj, 0x11, kSize));
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 4u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
  }

  EXPECT_EQ(memset(obj, 0x22, kSize), obj);
  EXPECT_TRUE(AllBytesAre(obj, 0x22, kSize));
  EXPECT_EQ(memcpy(obj, src, kSize), obj);
  EXPECT_TRUE(AllBytesAre(obj, 0x77, kSize));
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_TRUE(Pool::Free(obj).ok());
}

TEST_F(OverflowTest, ShimLeavesForeignCopiesAlone) {
  char a[64];
  char b[64];
  Fill(a, 0x31, sizeof(a));
  Fill(b, 0x00, sizeof(b));
  EXPECT_EQ(memcpy(b, a, sizeof(a)), b);
  EXPECT_TRUE(AllBytesAre(b, 0x31, sizeof(b)));
  EXPECT_EQ(memmove(b + 1, b, 32), b + 1);
  EXPECT_EQ(memset(a, 0x41, sizeof(a)), a);
  EXPECT_TRUE(AllBytesAre(a, 0x41, sizeof(a)));
  std::vector<char> heap(256, 0x12);
  std::vector<char> other(256, 0);
  EXPECT_EQ(memcpy(other.data(), heap.data(), heap.size()), other.data());
  EXPECT_TRUE(AllBytesAre(other.data(), 0x12, other.size()));
  EXPECT_TRUE(recorder_.Take().empty());
}

// Off-by-one for every small size: the boundary is the requested size, not
// the size-class slot.

TEST_F(OverflowTest, OffByOneIsCaughtForEverySmallSize) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-off-by-one"), PoolOptions{});
  std::vector<void*> objects;
  int misses = 0;
  for (size_t size = 1; size <= 1024; ++size) {
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    objects.push_back(p);
    char* const b = AsBytes(p);
    for (CopyDirection dir : {kRead, kWrite}) {
      if (CheckCopy(b, size, dir) != ViolationKind::kNone) ++misses;
      if (CheckCopy(b + size - 1, 1, dir) != ViolationKind::kNone) ++misses;
      if (CheckCopy(b, size + 1, dir) != ViolationKind::kOutOfBounds) ++misses;
      if (CheckCopy(b + size - 1, 2, dir) != ViolationKind::kOutOfBounds) {
        ++misses;
      }
      // The byte after the object: slack, or the next object's first byte
      // (then a copy of it is that object's business).
      if (Pool::ObjectSize(b + size) == 0) {
        if (CheckCopy(b + size, 1, dir) == ViolationKind::kNone) ++misses;
      }
    }
    ASSERT_EQ(misses, 0) << "size " << size;
  }
  recorder_.Take();
  for (void* p : objects) EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(OverflowTest, OffByOneIsCaughtAtSizeClassBoundaries) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-classes"), PoolOptions{});
  for (size_t size :
       {size_t{2047}, size_t{2048}, size_t{2049}, size_t{4095}, size_t{4096},
        size_t{4097}, size_t{8191}, size_t{8192}, size_t{16383},
        size_t{16384}, size_t{16385}, size_t{65535}, size_t{65536},
        size_t{65537}}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    char* const b = AsBytes(p);
    EXPECT_EQ(CheckCopy(b, size, kRead), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(b, size, kWrite), ViolationKind::kNone);
    const ViolationKind read = CheckCopy(b, size + 1, kRead);
    const ViolationKind write = CheckCopy(b + size - 1, 2, kWrite);
    EXPECT_TRUE(read == ViolationKind::kOutOfBounds ||
                read == ViolationKind::kGuardPage)
        << static_cast<int>(read);
    EXPECT_TRUE(write == ViolationKind::kOutOfBounds ||
                write == ViolationKind::kGuardPage)
        << static_cast<int>(write);
    EXPECT_TRUE(Pool::Free(p).ok());
  }
  recorder_.Take();
}

// A linear overflow from one object into its neighbour, the classic heap
// overflow: refused, and the neighbour keeps its bytes.

TEST_F(OverflowTest, LinearOverflowIntoNeighbourIsRefused) {
  ::sealpool_test::ScopedOptions options_scope("canaries=0");  // no canary slack: neighbours touch
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-neighbour"), PoolOptions{});
  const size_t kSize = 128;  // fills its slot: neighbours touch
  std::vector<void*> objects;
  void* victim_owner = nullptr;
  void* victim = nullptr;
  ASSERT_TRUE(::sealpool_test::AllocateAdjacentPair(pool.get(), kSize, &victim_owner,
                                                    &victim, &objects))
      << "no two adjacent objects";
  Fill(victim_owner, 0x10, kSize);
  Fill(victim, 0x20, kSize);

  // Attacker-controlled length: a header of 16 bytes plus "payload".
  char payload[kSize + 64];
  Fill(payload, 0x66, sizeof(payload));
  EXPECT_EQ(memcpy(victim_owner, payload, sizeof(payload)), nullptr);
  EXPECT_EQ(memcpy(AsBytes(victim_owner) + 16, payload, kSize), nullptr);
  EXPECT_EQ(memset(AsBytes(victim_owner) + 100, 0x66, 64), nullptr);
  EXPECT_TRUE(AllBytesAre(victim_owner, 0x10, kSize));
  EXPECT_TRUE(AllBytesAre(victim, 0x20, kSize));

  // Leak the neighbour through an over-read of the first object.
  char leak[2 * kSize];
  Fill(leak, 0, sizeof(leak));
  EXPECT_EQ(memcpy(leak, victim_owner, sizeof(leak)), nullptr);
  EXPECT_TRUE(AllBytesAre(leak, 0, sizeof(leak)));

  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 4u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(r.object_start, Addr(victim_owner));
    EXPECT_EQ(r.object_size, kSize);
  }
  for (void* o : objects) EXPECT_TRUE(Pool::Free(o).ok());
}

TEST_F(OverflowTest, OverReadAcrossManyPagesIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-pages"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  for (size_t len : {size_t{4096}, size_t{65536}, size_t{1} << 24}) {
    EXPECT_EQ(CheckCopy(p, len, kRead), ViolationKind::kOutOfBounds) << len;
  }
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(OverflowTest, LargeObjectOverflowHitsItsEnd) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-large"), PoolOptions{});
  const size_t kSize = 100000;  // not a page multiple: padding before it
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  char* const b = AsBytes(p);
  Fill(b + kSize - 16, 0x3c, 16);
  char out[64];
  Fill(out, 0, sizeof(out));
  EXPECT_EQ(memcpy(out, b + kSize - 16, 16), out);
  EXPECT_TRUE(AllBytesAre(out, 0x3c, 16));
  Fill(out, 0, sizeof(out));
  EXPECT_EQ(memcpy(out, b + kSize - 16, 17), nullptr);
  EXPECT_EQ(memcpy(b + kSize - 32, out, 64), nullptr);
  EXPECT_TRUE(AllBytesAre(out, 0, sizeof(out)));
  EXPECT_TRUE(AllBytesAre(b + kSize - 16, 0x3c, 16));
  const ViolationKind past = CheckCopy(b + kSize, 1, kRead);
  EXPECT_TRUE(past == ViolationKind::kOutOfBounds ||
              past == ViolationKind::kGuardPage)
      << static_cast<int>(past);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].kind, ViolationKind::kOutOfBounds);
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(v[0].object_size, kSize);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(OverflowTest, PageMultipleLargeObjectRunsIntoItsGuardPage) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-large-guard"), PoolOptions{});
  const size_t kSize = 64 * 1024;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  char* const b = AsBytes(p);
  ASSERT_EQ(QueryAddress(b + kSize).page, PageKind::kGuard);
  EXPECT_EQ(CheckCopy(b, kSize, kWrite), ViolationKind::kNone);
  const ViolationKind plus_one = CheckCopy(b, kSize + 1, kWrite);
  EXPECT_TRUE(plus_one == ViolationKind::kOutOfBounds ||
              plus_one == ViolationKind::kGuardPage)
      << static_cast<int>(plus_one);
  EXPECT_EQ(CheckCopy(b + kSize, 1, kWrite), ViolationKind::kGuardPage);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(OverflowTest, RedzoneOverflowIsRefusedAndReported) {
  PoolOptions options;
  options.flags = kPoolRedzones;
  const std::string name = UniqueName("ovf-redzone");
  SEALPOOL_ASSERT_CREATE(pool, name, options);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  Fill(p, 0x71, 64);
  char src[80];
  Fill(src, 0x72, sizeof(src));
  EXPECT_EQ(memcpy(p, src, 64), p);
  EXPECT_EQ(memcpy(p, src, 65), nullptr);
  EXPECT_EQ(memcpy(p, src, 80), nullptr);
  EXPECT_TRUE(AllBytesAre(p, 0x72, 64));
  EXPECT_EQ(CheckCopy(AsBytes(p) + 64, 1, kRead), ViolationKind::kOutOfBounds);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 63, 1, kRead), ViolationKind::kNone);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(r.pool_name, name);
  }
  EXPECT_EQ(pool->Stats().violations, 3u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(OverflowTest, UnderflowBeforeTheObjectIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("ovf-underflow"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(guardian, pool, 50);  // leaves slack behind it
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  // Whatever precedes p (slack of another slot, a span tail or a guard
  // page) is not part of p.
  EXPECT_NE(CheckCopy(AsBytes(p) - 1, 1, kRead), ViolationKind::kNone);
  EXPECT_NE(CheckCopy(AsBytes(p) - 1, 2, kWrite), ViolationKind::kNone);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(guardian).ok());
  EXPECT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
