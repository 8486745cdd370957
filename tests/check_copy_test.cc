// check_copy: the ordered rules of the design ("check_copy semantics") on
// pool objects — exact requested bounds, slack, zero-size objects, the
// usercopy window, large objects, guard, metadata and unused pages — and on
// memory sealpool does not own; the checked copies (C++ and C) and the C
// entry point's return codes. All in report mode; the abort-mode reports
// are in report_test.cc, stack and image rules in stack_image_test.cc.

#include <errno.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::kPage;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;
constexpr CopyDirection kBothDirections[] = {kRead, kWrite};

const char* DirName(CopyDirection dir) {
  return dir == kRead ? "read" : "write";
}

void* At(uintptr_t a) { return reinterpret_cast<void*>(a); }

char g_writable_global[64];

class CheckCopyTest : public ReportModeTest {};

// Rule 1.

TEST_F(CheckCopyTest, ZeroLengthIsAllowedWhateverThePointer) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-zero-len"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  SEALPOOL_ASSERT_ALLOC(large, pool, 64 * 1024);
  ASSERT_EQ(QueryAddress(AsBytes(large) + 64 * 1024).page, PageKind::kGuard);
  SEALPOOL_ASSERT_ALLOC(freed, pool, 50);
  ASSERT_TRUE(Pool::Free(freed).ok());
  const uint64_t before = ViolationCount();
  const void* const pointers[] = {
      nullptr,
      At(1),
      At(4095),
      p,
      AsBytes(p) + 50,
      AsBytes(p) + 60,
      freed,
      AsBytes(large) + 64 * 1024,  // the trailing guard page
      At(internal::ArenaMetadataBase()),
      At(UINTPTR_MAX),
      "literal",
      reinterpret_cast<const void*>(&std::abort),
  };
  for (const void* ptr : pointers) {
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(ptr, 0, dir), ViolationKind::kNone)
          << ptr << " " << DirName(dir);
    }
  }
  EXPECT_EQ(ViolationCount(), before);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(large).ok());
}

// Rule 2.

TEST_F(CheckCopyTest, NullAndFirstPagePointersAreBogus) {
  struct Case {
    uintptr_t addr;
    size_t len;
  };
  const Case cases[] = {{0, 1},    {0, 4096}, {1, 1},      {16, 8},
                        {4095, 1}, {4000, 200}, {4095, 4096}};
  for (const Case& c : cases) {
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(At(c.addr), c.len, dir), ViolationKind::kBogusPointer)
          << c.addr << "+" << c.len << " " << DirName(dir);
    }
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2 * (sizeof(cases) / sizeof(cases[0])));
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kBogusPointer);
    EXPECT_FALSE(r.has_pool_name);
  }
}

TEST_F(CheckCopyTest, FirstByteAfterTheFirstPageIsNotBogus) {
  // 4096 is not ours, not on the stack and not in an image: allowed.
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(At(4096), 1, dir), ViolationKind::kNone) << DirName(dir);
    EXPECT_EQ(CheckCopy(At(4096), 16, dir), ViolationKind::kNone)
        << DirName(dir);
  }
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST_F(CheckCopyTest, WrappingRangesAreBogus) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-wrap"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  char on_stack[16] = {};
  const void* const starts[] = {At(0x10000), p, on_stack, At(UINTPTR_MAX - 15)};
  for (const void* start : starts) {
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(start, SIZE_MAX, dir), ViolationKind::kBogusPointer)
          << start << " " << DirName(dir);
    }
  }
  EXPECT_EQ(CheckCopy(At(UINTPTR_MAX - 15), 32, kRead),
            ViolationKind::kBogusPointer);
  // The largest length that does not wrap is not a bogus pointer.
  EXPECT_NE(CheckCopy(At(0x10000), UINTPTR_MAX - 0x10000, kRead),
            ViolationKind::kBogusPointer);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Rule 3: pool objects.

TEST_F(CheckCopyTest, EveryRangeInsideTheRequestedBytesIsAllowed) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-inside"), PoolOptions{});
  for (size_t size : {size_t{1}, size_t{16}, size_t{50}, size_t{64},
                      size_t{100}}) {
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    for (size_t off = 0; off <= size; ++off) {
      for (size_t len = 0; off + len <= size; ++len) {
        for (CopyDirection dir : kBothDirections) {
          ASSERT_EQ(CheckCopy(AsBytes(p) + off, len, dir), ViolationKind::kNone)
              << "size " << size << " off " << off << " len " << len << " "
              << DirName(dir);
        }
      }
    }
    EXPECT_TRUE(Pool::Free(p).ok());
  }
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST_F(CheckCopyTest, OneByteMoreThanTheObjectIsOutOfBounds) {
  const std::string name = UniqueName("cc-plus-one");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  for (size_t off = 0; off <= kSize; ++off) {
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(AsBytes(p) + off, kSize - off + 1, dir),
                ViolationKind::kOutOfBounds)
          << "off " << off << " " << DirName(dir);
    }
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2 * (kSize + 1));
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(r.pool_name, name);
    EXPECT_EQ(r.pool_id, pool->id());
  }
  // A range that starts inside the object names it.
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(v[0].object_size, kSize);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckCopyTest, SlackAfterTheRequestedSizeIsOutOfBounds) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-slack"), PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  const AddressInfo info = QueryAddress(p);
  ASSERT_EQ(info.page, PageKind::kSmallSpan);
  ASSERT_TRUE(info.live);
  ASSERT_EQ(info.object_size, kSize);
  ASSERT_GT(info.slot_size, kSize) << "50 bytes should leave slot slack";
  for (size_t off = kSize; off < info.slot_size; ++off) {
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(AsBytes(p) + off, 1, dir), ViolationKind::kOutOfBounds)
          << "slack byte " << off << " " << DirName(dir);
    }
  }
  // The whole slot is more than the object.
  EXPECT_EQ(CheckCopy(p, info.slot_size, kRead), ViolationKind::kOutOfBounds);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckCopyTest, ZeroSizeObjectAllowsOnlyEmptyCopies) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-size0"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 0);
  SEALPOOL_ASSERT_ALLOC(q, pool, 0);
  EXPECT_NE(p, q);
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(p, 0, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(p, 1, dir), ViolationKind::kOutOfBounds) << DirName(dir);
    EXPECT_EQ(CheckCopy(p, 16, dir), ViolationKind::kOutOfBounds)
        << DirName(dir);
    EXPECT_NE(CheckCopy(AsBytes(p) + 1, 1, dir), ViolationKind::kNone)
        << DirName(dir);
  }
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(q).ok());
}

TEST_F(CheckCopyTest, UsercopyWindowEdges) {
  PoolOptions options;
  options.usercopy_offset = 16;
  options.usercopy_size = 32;  // bytes [16, 48) may be copied
  const std::string name = UniqueName("cc-window");
  SEALPOOL_ASSERT_CREATE(pool, name, options);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  char* const b = AsBytes(p);
  for (CopyDirection dir : kBothDirections) {
    SCOPED_TRACE(DirName(dir));
    EXPECT_EQ(CheckCopy(b + 16, 32, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(b + 16, 1, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(b + 47, 1, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(b + 20, 8, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(b + 15, 1, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b + 48, 1, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b + 15, 2, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b + 47, 2, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b + 16, 33, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b, 1, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b, 64, dir), ViolationKind::kUsercopyWindow);
    EXPECT_EQ(CheckCopy(b + 63, 1, dir), ViolationKind::kUsercopyWindow);
    // Past the object is still out of bounds.
    EXPECT_EQ(CheckCopy(b + 16, 64, dir), ViolationKind::kOutOfBounds);
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].kind, ViolationKind::kUsercopyWindow);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(v[0].object_size, 64u);

  // An object that ends inside the window: its own end comes first.
  SEALPOOL_ASSERT_ALLOC(small, pool, 20);
  EXPECT_EQ(CheckCopy(AsBytes(small) + 16, 4, kRead), ViolationKind::kNone);
  EXPECT_NE(CheckCopy(AsBytes(small) + 16, 5, kRead), ViolationKind::kNone);
  EXPECT_NE(CheckCopy(AsBytes(small) + 8, 4, kRead), ViolationKind::kNone);
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(small).ok());
}

TEST_F(CheckCopyTest, LargeObjectsEndAtTheirRequestedSize) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-large"), PoolOptions{});
  for (size_t size : {size_t{64 * 1024}, size_t{100000}, size_t{16385},
                      size_t{1 << 20}}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    char* const b = AsBytes(p);
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(b, size, dir), ViolationKind::kNone);
      EXPECT_EQ(CheckCopy(b + size - 1, 1, dir), ViolationKind::kNone);
      EXPECT_EQ(CheckCopy(b + size / 2, size - size / 2, dir),
                ViolationKind::kNone);
      const ViolationKind plus_one = CheckCopy(b, size + 1, dir);
      EXPECT_TRUE(plus_one == ViolationKind::kOutOfBounds ||
                  plus_one == ViolationKind::kGuardPage)
          << static_cast<int>(plus_one);
      const ViolationKind past = CheckCopy(b + size, 1, dir);
      EXPECT_TRUE(past == ViolationKind::kOutOfBounds ||
                  past == ViolationKind::kGuardPage)
          << static_cast<int>(past);
      const ViolationKind before = CheckCopy(b - 1, 2, dir);
      EXPECT_NE(before, ViolationKind::kNone);
    }
    EXPECT_TRUE(Pool::Free(p).ok());
  }
  recorder_.Take();
}

TEST_F(CheckCopyTest, GuardPagesAreRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-guard"), PoolOptions{});
  const size_t kSize = 64 * 1024;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  char* const trailing = AsBytes(p) + kSize;
  char* const leading = AsBytes(p) - 1;
  ASSERT_EQ(QueryAddress(trailing).page, PageKind::kGuard);
  ASSERT_EQ(QueryAddress(leading).page, PageKind::kGuard);
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(trailing, 1, dir), ViolationKind::kGuardPage);
    EXPECT_EQ(CheckCopy(trailing + 100, 16, dir), ViolationKind::kGuardPage);
    EXPECT_EQ(CheckCopy(leading, 1, dir), ViolationKind::kGuardPage);
    EXPECT_NE(CheckCopy(AsBytes(p) + kSize - 8, 16, dir), ViolationKind::kNone);
  }
  EXPECT_EQ(recorder_.Take().size(), 8u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckCopyTest, MetadataPagesAreRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-meta"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);  // the arena exists
  void* const meta = At(internal::ArenaMetadataBase() + kPage * 3);
  ASSERT_EQ(QueryAddress(meta).page, PageKind::kMetadata);
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(meta, 1, dir), ViolationKind::kMetadataPage);
    EXPECT_EQ(CheckCopy(meta, 64, dir), ViolationKind::kMetadataPage);
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].addr, Addr(meta));
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckCopyTest, UnusedArenaPagesAreRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-unused"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  void* const unused = At(internal::ArenaDataBase() +
                          internal::ArenaDataSize() - kPage);
  ASSERT_EQ(QueryAddress(unused).page, PageKind::kUnused);
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(unused, 1, dir), ViolationKind::kUnusedPage);
    EXPECT_EQ(CheckCopy(unused, kPage, dir), ViolationKind::kUnusedPage);
  }
  EXPECT_EQ(recorder_.Take().size(), 4u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckCopyTest, RangesSpanningAdjacentObjectsAreOutOfBounds) {
  ::sealpool_test::ScopedOptions options_scope("canaries=0");  // no canary slack: neighbours touch
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-adjacent"), PoolOptions{});
  // 64-byte objects fill 64-byte slots, so neighbours touch.
  std::vector<void*> objects;
  void* a = nullptr;
  void* b = nullptr;
  for (int i = 0; i < 64 && a == nullptr; ++i) {
    SEALPOOL_ASSERT_ALLOC(q, pool, 64);
    for (void* o : objects) {
      if (AsBytes(o) + 64 == q) {
        a = o;
        b = q;
      } else if (AsBytes(q) + 64 == o) {
        a = q;
        b = o;
      }
    }
    objects.push_back(q);
  }
  ASSERT_NE(a, nullptr) << "no two adjacent 64-byte objects";
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(a, 64, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(b, 64, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(a, 65, dir), ViolationKind::kOutOfBounds);
    EXPECT_EQ(CheckCopy(a, 128, dir), ViolationKind::kOutOfBounds);
    EXPECT_EQ(CheckCopy(AsBytes(a) + 32, 64, dir), ViolationKind::kOutOfBounds);
    EXPECT_EQ(CheckCopy(AsBytes(a) + 63, 2, dir), ViolationKind::kOutOfBounds);
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 8u);
  for (const RecordedViolation& r : v) EXPECT_EQ(r.object_start, Addr(a));
  for (void* o : objects) EXPECT_TRUE(Pool::Free(o).ok());
}

TEST_F(CheckCopyTest, RedzonesAreOutOfBounds) {
  PoolOptions options;
  options.flags = kPoolRedzones;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-redzone"), options);
  for (size_t size : {size_t{1}, size_t{16}, size_t{48}, size_t{64},
                      size_t{100}, size_t{4096}}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    const AddressInfo info = QueryAddress(p);
    EXPECT_GE(info.redzone, 16u);
    EXPECT_EQ(info.object_size, size);
    char* const b = AsBytes(p);
    for (CopyDirection dir : kBothDirections) {
      EXPECT_EQ(CheckCopy(b, size, dir), ViolationKind::kNone);
      EXPECT_EQ(CheckCopy(b + size - 1, 1, dir), ViolationKind::kNone);
      EXPECT_EQ(CheckCopy(b + size, 1, dir), ViolationKind::kOutOfBounds);
      EXPECT_EQ(CheckCopy(b + size + 15, 1, dir), ViolationKind::kOutOfBounds);
      EXPECT_EQ(CheckCopy(b, size + 1, dir), ViolationKind::kOutOfBounds);
    }
    EXPECT_TRUE(Pool::Free(p).ok());
  }
  recorder_.Take();
}

TEST_F(CheckCopyTest, AlignedPoolObjectsKeepExactBounds) {
  PoolOptions options;
  options.align = 64;
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-align64"), options);
  for (size_t size : {size_t{1}, size_t{24}, size_t{65}, size_t{1000}}) {
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    EXPECT_EQ(Addr(p) % 64, 0u);
    EXPECT_EQ(CheckCopy(p, size, kRead), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(p, size + 1, kRead), ViolationKind::kOutOfBounds);
    EXPECT_TRUE(Pool::Free(p).ok());
  }
  recorder_.Take();
}

TEST_F(CheckCopyTest, HugeLengthsThatDoNotWrapAreOutOfBounds) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-huge"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  SEALPOOL_ASSERT_ALLOC(large, pool, 100000);
  for (size_t len : {size_t{1} << 20, size_t{1} << 40, size_t{1} << 46}) {
    EXPECT_EQ(CheckCopy(p, len, kRead), ViolationKind::kOutOfBounds) << len;
    EXPECT_EQ(CheckCopy(large, len, kWrite), ViolationKind::kOutOfBounds)
        << len;
  }
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(large).ok());
}

// Rule 4: memory sealpool does not own.

TEST_F(CheckCopyTest, ForeignWritableMemoryIsAllowed) {
  char* heap = static_cast<char*>(std::malloc(256));
  ASSERT_NE(heap, nullptr);
  char on_stack[64];
  for (CopyDirection dir : kBothDirections) {
    EXPECT_EQ(CheckCopy(heap, 256, dir), ViolationKind::kNone) << DirName(dir);
    EXPECT_EQ(CheckCopy(heap + 100, 1, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(g_writable_global, sizeof(g_writable_global), dir),
              ViolationKind::kNone)
        << DirName(dir);
    EXPECT_EQ(CheckCopy(on_stack, sizeof(on_stack), dir), ViolationKind::kNone)
        << DirName(dir);
  }
  std::free(heap);
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST_F(CheckCopyTest, EachViolationIsCountedOnce) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-count"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  const uint64_t before = ViolationCount();
  EXPECT_EQ(CheckCopy(p, 51, kRead), ViolationKind::kOutOfBounds);
  EXPECT_EQ(ViolationCount(), before + 1);
  EXPECT_EQ(CheckCopy(nullptr, 1, kWrite), ViolationKind::kBogusPointer);
  EXPECT_EQ(ViolationCount(), before + 2);
  EXPECT_EQ(CheckCopy(p, 50, kRead), ViolationKind::kNone);
  EXPECT_EQ(ViolationCount(), before + 2);
  EXPECT_EQ(recorder_.Take().size(), 2u);
  EXPECT_EQ(pool->Stats().violations, 1u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckCopyTest, CheckCopyStatusMirrorsCheckCopy) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-status"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  EXPECT_TRUE(CheckCopyStatus(p, 50, kRead).ok());
  EXPECT_TRUE(CheckCopyStatus(p, 0, kWrite).ok());
  const absl::Status refused = CheckCopyStatus(p, 51, kRead);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_NE(refused.message().find("out-of-bounds"), absl::string_view::npos)
      << refused;
  EXPECT_EQ(CheckCopyStatus(nullptr, 1, kRead).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(recorder_.Take().size(), 2u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Checked copies.

class CheckedCopyTest : public ReportModeTest {};

TEST_F(CheckedCopyTest, AllowedCopiesCopyExactlyAndReturnDst) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-copy-ok"), PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  char src[kSize];
  for (size_t i = 0; i < kSize; ++i) src[i] = static_cast<char>(i + 1);
  EXPECT_EQ(CheckedMemcpy(p, src, kSize), p);
  EXPECT_EQ(std::memcmp(p, src, kSize), 0);

  char dst[kSize + 8];
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(CheckedMemcpy(dst, p, kSize), dst);
  EXPECT_EQ(std::memcmp(dst, src, kSize), 0);
  for (size_t i = kSize; i < sizeof(dst); ++i) EXPECT_EQ(dst[i], 0x5a) << i;

  // Overlapping move inside the object.
  EXPECT_EQ(CheckedMemmove(AsBytes(p) + 1, p, kSize - 1), AsBytes(p) + 1);
  EXPECT_EQ(AsBytes(p)[0], 1);
  for (size_t i = 1; i < kSize; ++i) EXPECT_EQ(AsBytes(p)[i], src[i - 1]) << i;

  EXPECT_EQ(CheckedMemset(p, 0xab, kSize), p);
  for (size_t i = 0; i < kSize; ++i) {
    EXPECT_EQ(static_cast<unsigned char>(AsBytes(p)[i]), 0xab) << i;
  }
  // Object to object, both in pools.
  SEALPOOL_ASSERT_ALLOC(q, pool, kSize);
  EXPECT_EQ(CheckedMemcpy(q, p, kSize), q);
  EXPECT_EQ(std::memcmp(p, q, kSize), 0);
  // Zero bytes: nothing to check, nothing to copy.
  EXPECT_EQ(CheckedMemcpy(q, src, 0), q);
  EXPECT_EQ(CheckedMemset(q, 0, 0), q);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(q).ok());
}

TEST_F(CheckedCopyTest, RefusedOverReadZeroesTheDestinationRange) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-copy-read"), PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  std::memset(p, 0x11, kSize);
  char dst[128];
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(CheckedMemcpy(dst, p, kSize + 1), nullptr);
  for (size_t i = 0; i < kSize + 1; ++i) ASSERT_EQ(dst[i], 0) << i;
  for (size_t i = kSize + 1; i < sizeof(dst); ++i) ASSERT_EQ(dst[i], 0x5a) << i;
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(CheckedMemmove(dst, p, kSize + 1), nullptr);
  for (size_t i = 0; i < kSize + 1; ++i) ASSERT_EQ(dst[i], 0) << i;
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(CheckedMemcpy(dst, AsBytes(p) + 16, 40), nullptr);
  for (size_t i = 0; i < 40; ++i) ASSERT_EQ(dst[i], 0) << i;
  for (size_t i = 40; i < sizeof(dst); ++i) ASSERT_EQ(dst[i], 0x5a) << i;
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(r.object_start, Addr(p));
  }
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckedCopyTest, RefusedOverWriteWritesNothing) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-copy-write"), PoolOptions{});
  const size_t kSize = 50;
  SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
  std::memset(p, 0x11, kSize);
  char src[128];
  std::memset(src, 0x77, sizeof(src));
  EXPECT_EQ(CheckedMemcpy(p, src, kSize + 1), nullptr);
  EXPECT_EQ(CheckedMemmove(p, src, kSize + 1), nullptr);
  EXPECT_EQ(CheckedMemset(p, 0x77, kSize + 1), nullptr);
  EXPECT_EQ(CheckedMemset(AsBytes(p) + 49, 0x77, 2), nullptr);
  for (size_t i = 0; i < kSize; ++i) ASSERT_EQ(AsBytes(p)[i], 0x11) << i;
  EXPECT_EQ(recorder_.Take().size(), 4u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckedCopyTest, BothEndsAreChecked) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-copy-ends"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(good, pool, 64);
  SEALPOOL_ASSERT_ALLOC(small, pool, 8);
  std::memset(good, 0x22, 64);
  std::memset(small, 0x33, 8);
  // Source fine, destination too small.
  EXPECT_EQ(CheckedMemcpy(small, good, 64), nullptr);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(AsBytes(small)[i], 0x33);
  // Destination fine, source too small: the destination gets zeros, not
  // the bytes past the source's end.
  EXPECT_EQ(CheckedMemcpy(good, small, 64), nullptr);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(AsBytes(good)[i], 0) << i;
  // A write into a string literal is refused before it could fault.
  char buf[8] = "abcdefg";
  EXPECT_EQ(CheckedMemcpy(const_cast<char*>("literal"), buf, 4), nullptr);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].object_start, Addr(small));
  EXPECT_EQ(v[1].object_start, Addr(small));
  EXPECT_EQ(v[2].kind, ViolationKind::kImageSegment);
  EXPECT_TRUE(Pool::Free(good).ok());
  EXPECT_TRUE(Pool::Free(small).ok());
}

struct Record {
  uint64_t key;
  uint64_t value;
};

TEST_F(CheckedCopyTest, CopyObjectReturnsOkOrPermissionDenied) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("cc-copy-object"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(whole, pool, sizeof(Record));
  SEALPOOL_ASSERT_ALLOC(short_one, pool, sizeof(Record) - 1);
  const Record r{0x1122334455667788u, 42};
  ASSERT_TRUE(CopyObject(static_cast<Record*>(whole), &r).ok());
  Record out{0, 0};
  ASSERT_TRUE(CopyObject(&out, static_cast<const Record*>(whole)).ok());
  EXPECT_EQ(out.key, r.key);
  EXPECT_EQ(out.value, r.value);

  // A refused source: *dst is zeroed, never left holding stale bytes.
  Record zeroed{7, 7};
  const absl::Status read =
      CopyObject(&zeroed, static_cast<const Record*>(short_one));
  EXPECT_EQ(read.code(), absl::StatusCode::kPermissionDenied) << read;
  EXPECT_EQ(zeroed.key, 0u);
  EXPECT_EQ(zeroed.value, 0u);
  std::memset(short_one, 0x44, sizeof(Record) - 1);
  const absl::Status write = CopyObject(static_cast<Record*>(short_one), &r);
  EXPECT_EQ(write.code(), absl::StatusCode::kPermissionDenied) << write;
  for (size_t i = 0; i + 1 < sizeof(Record); ++i) {
    EXPECT_EQ(AsBytes(short_one)[i], 0x44) << i;
  }
  EXPECT_EQ(recorder_.Take().size(), 2u);
  EXPECT_TRUE(Pool::Free(whole).ok());
  EXPECT_TRUE(Pool::Free(short_one).ok());
}

// The C entry points.

class CheckCopyCApiTest : public ReportModeTest {};

TEST_F(CheckCopyCApiTest, SpCheckCopyReturnsZeroOrMinusTheKind) {
  const std::string name = UniqueName("cc-c-check");
  sp_pool* pool = sp_pool_create(name.c_str(), nullptr);
  ASSERT_NE(pool, nullptr) << errno;
  void* p = sp_alloc(pool, 50);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_check_copy(p, 50, SP_COPY_READ), 0);
  EXPECT_EQ(sp_check_copy(p, 50, SP_COPY_WRITE), 0);
  EXPECT_EQ(sp_check_copy(p, 0, SP_COPY_READ), 0);
  EXPECT_EQ(sp_check_copy(nullptr, 0, SP_COPY_READ), 0);
  EXPECT_EQ(sp_check_copy(p, 51, SP_COPY_READ), -SP_VIOLATION_OUT_OF_BOUNDS);
  EXPECT_EQ(sp_check_copy(AsBytes(p) + 50, 1, SP_COPY_WRITE),
            -SP_VIOLATION_OUT_OF_BOUNDS);
  EXPECT_EQ(sp_check_copy(nullptr, 1, SP_COPY_READ),
            -SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(sp_check_copy("literal", 4, SP_COPY_WRITE),
            -SP_VIOLATION_IMAGE_SEGMENT);
  EXPECT_EQ(recorder_.Take().size(), 4u);

  // A bad direction is a caller mistake, not a violation. The enum's
  // range is every int, so any int a C host passes is defined in C++ too.
  const uint64_t before = ViolationCount();
  EXPECT_EQ(sp_check_copy(p, 1, static_cast<sp_copy_dir>(3)), -EINVAL);
  EXPECT_EQ(sp_check_copy(p, 1, static_cast<sp_copy_dir>(0)), -EINVAL);
  EXPECT_EQ(sp_check_copy(p, 1, static_cast<sp_copy_dir>(-1)), -EINVAL);
  EXPECT_EQ(sp_check_copy(p, 1, static_cast<sp_copy_dir>(INT32_MIN)), -EINVAL);
  EXPECT_EQ(ViolationCount(), before);
  EXPECT_TRUE(recorder_.Take().empty());

  void* freed = sp_alloc(pool, 50);
  ASSERT_NE(freed, nullptr);
  ASSERT_EQ(sp_free(freed), 0);
  EXPECT_EQ(sp_check_copy(freed, 1, SP_COPY_READ),
            -SP_VIOLATION_USE_AFTER_FREE);
  recorder_.Take();
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST_F(CheckCopyCApiTest, CheckedCopiesCopyOrWriteNothing) {
  const std::string name = UniqueName("cc-c-copy");
  sp_pool* pool = sp_pool_create(name.c_str(), nullptr);
  ASSERT_NE(pool, nullptr) << errno;
  const size_t kSize = 50;
  char* p = static_cast<char*>(sp_alloc(pool, kSize));
  ASSERT_NE(p, nullptr);
  char buf[128];
  for (size_t i = 0; i < sizeof(buf); ++i) buf[i] = static_cast<char>(i);

  EXPECT_EQ(sp_memcpy(p, buf, kSize), p);
  EXPECT_EQ(std::memcmp(p, buf, kSize), 0);
  EXPECT_EQ(sp_memmove(p + 2, p, 10), p + 2);
  EXPECT_EQ(p[2], 0);
  EXPECT_EQ(p[11], 9);
  EXPECT_EQ(sp_memset(p, 0x66, kSize), p);
  for (size_t i = 0; i < kSize; ++i) ASSERT_EQ(p[i], 0x66) << i;
  EXPECT_TRUE(recorder_.Take().empty());

  // Over-read: the destination range gets zeros, the rest keeps its
  // pattern.
  char dst[128];
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(sp_memcpy(dst, p, kSize + 1), nullptr);
  for (size_t i = 0; i < kSize + 1; ++i) ASSERT_EQ(dst[i], 0) << i;
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(sp_memmove(dst, p + 10, kSize), nullptr);
  for (size_t i = 0; i < kSize; ++i) ASSERT_EQ(dst[i], 0) << i;
  for (size_t i = kSize; i < sizeof(dst); ++i) ASSERT_EQ(dst[i], 0x5a) << i;
  // Over-write: the object keeps its bytes.
  EXPECT_EQ(sp_memcpy(p, buf, kSize + 1), nullptr);
  EXPECT_EQ(sp_memmove(p + 1, buf, kSize), nullptr);
  EXPECT_EQ(sp_memset(p, 0, kSize + 1), nullptr);
  for (size_t i = 0; i < kSize; ++i) ASSERT_EQ(p[i], 0x66) << i;
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 5u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(r.pool_name, name);
  }
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

}  // namespace
}  // namespace sealpool
