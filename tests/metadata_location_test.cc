// Metadata location: the page table, span records and slack pages live in
// a reservation of their own at a random address, far from the data zone,
// so that no object pointer (plus or minus an offset) reaches them and
// their offset from the data differs from run to run; the arena geometry
// that holds their addresses is read-only; and the checker trusts a large
// object's size in its span record only with the record's canary.

#include <limits.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/internal/arena.h"
#include "allocator/internal/span.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::UniqueName;

#if SEALPOOL_TEST_ASAN || SEALPOOL_TEST_TSAN
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

constexpr uintptr_t kGiB = uintptr_t{1} << 30;
constexpr size_t kLarge = 40000;

// Attack: find an object's slack entry or span record from the object's
// address (a fixed offset into one reservation). Promised: the metadata of
// small and large objects lies outside the data reservation, inside the
// metadata reservation, and (unsanitized builds, where sealpool places the
// mapping itself) more than 1 GiB from the data zone on either side.
TEST(MetadataLocationTest, MetadataIsApartFromTheData) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-apart"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(small, pool, 64);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  const internal::ArenaGeometry& g = internal::g_arena;
  const uintptr_t data_lo = internal::ArenaDataBase();
  const uintptr_t data_hi = data_lo + internal::ArenaDataSize();
  for (void* p : {small, large}) {
    const internal::MetadataAddresses m = internal::MetadataOfForTest(p);
    for (uintptr_t a : {m.span_record, m.slack_page, m.page_entry}) {
      SCOPED_TRACE(testing::Message() << std::hex << "object " << p
                                      << ", metadata 0x" << a);
      ASSERT_NE(a, 0u);
      EXPECT_FALSE(a >= g.reservation && a < g.reservation + g.reservation_size);
      EXPECT_TRUE(a >= g.meta_reservation &&
                  a < g.meta_reservation + g.meta_reservation_size);
      EXPECT_EQ(QueryAddress(reinterpret_cast<void*>(a)).page,
                PageKind::kMetadata);
      if (!kSanitized) {
        EXPECT_TRUE(a + kGiB <= data_lo || a >= data_hi + kGiB);
      }
    }
  }
  EXPECT_TRUE(Pool::Free(small).ok());
  EXPECT_TRUE(Pool::Free(large).ok());
}

// The child side of MetadataOffsetDiffersBetweenRuns: prints the offset of
// an object's span record and slack page from the data base. Skipped
// unless run by that test.
constexpr char kChildEnv[] = "SEALPOOL_METADATA_OFFSET_CHILD";
constexpr char kChildTag[] = "sealpool-metadata-offset:";

TEST(MetadataLocationChild, PrintsMetadataOffset) {
  if (std::getenv(kChildEnv) == nullptr) {
    GTEST_SKIP() << "runs only as the child of MetadataOffsetDiffersBetweenRuns";
  }
  SEALPOOL_ASSERT_CREATE(pool, "meta-offset-child", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  const internal::MetadataAddresses m = internal::MetadataOfForTest(p);
  const uintptr_t base = internal::ArenaDataBase();
  std::printf("%s %llx %llx\n", kChildTag,
              static_cast<unsigned long long>(m.span_record - base),
              static_cast<unsigned long long>(m.slack_page - base));
  std::fflush(stdout);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Runs this binary as a child and returns the line its child test prints.
std::string ChildOffsets() {
  char exe[PATH_MAX] = {};
  // Resolved here: in the shell, /proc/self/exe would be the shell.
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return "";
  const std::string cmd = std::string(kChildEnv) + "=1 '" + exe +
                          "' --gtest_filter=MetadataLocationChild."
                          "PrintsMetadataOffset 2>/dev/null";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "";
  std::string found;
  char line[512];
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, kChildTag, sizeof(kChildTag) - 1) == 0) found = line;
  }
  pclose(f);
  return found;
}

// Attack: learn the metadata's offset from the data in one run (a leak,
// or a copy of the binary) and use it in another. Promised: the offset
// differs between two runs of the same binary.
TEST(MetadataLocationTest, MetadataOffsetDiffersBetweenRuns) {
  if (SEALPOOL_TEST_TSAN) {
    // TSan keeps the address range sealpool picks from for its shadow, so
    // both reservations come from the kernel's mmap area, next to each
    // other.
    GTEST_SKIP() << "TSan places the mappings itself";
  }
  const std::string first = ChildOffsets();
  const std::string second = ChildOffsets();
  ASSERT_FALSE(first.empty()) << "the child printed no offsets";
  ASSERT_FALSE(second.empty()) << "the child printed no offsets";
  EXPECT_NE(first, second);
}

// Attack: overwrite the arena geometry (where the page table, records and
// slack live, the canary secrets) through a stray write. Promised: the
// write faults, the page is read-only. Legal neighbour: reading it.
TEST(MetadataLocationDeathTest, ArenaGeometryIsReadOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "meta-geometry", PoolOptions{});  // arena set up
  volatile uintptr_t* field =
      const_cast<volatile uintptr_t*>(&internal::g_arena.data_base);
  EXPECT_EQ(*field, internal::ArenaDataBase());
  EXPECT_EXIT(*field = *field + 4096, DiedOfSegv, "");
  volatile uint64_t* secret =
      const_cast<volatile uint64_t*>(&internal::g_arena.secret[0]);
  EXPECT_EXIT(*secret = 0, DiedOfSegv, "");
}

class MetadataRecordTest : public ReportModeTest {};

// Attack: raise a large object's size in its span record (the record page
// is writable metadata) so that checked copies run past the object.
// Promised: the record's canary no longer verifies and the checker refuses
// the copy, also one of the real size; the record put back, copies of the
// real size are allowed again. Legal neighbour: an intact record allows a
// copy of the real size and refuses one byte more.
TEST_F(MetadataRecordTest, RaisedLargeSizeInTheRecordIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("meta-record"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  EXPECT_EQ(CheckCopy(p, kLarge, CopyDirection::kRead), ViolationKind::kNone);
  EXPECT_EQ(CheckCopy(p, kLarge + 1, CopyDirection::kRead),
            ViolationKind::kOutOfBounds);
  EXPECT_EQ(recorder_.Take().size(), 1u);

  auto* rec = reinterpret_cast<internal::SpanRecord*>(
      internal::MetadataOfForTest(p).span_record);
  ASSERT_EQ(rec->mul.load(), kLarge);
  rec->mul.store(kLarge + 8192);
  const ViolationKind raised = CheckCopy(p, kLarge + 4096, CopyDirection::kRead);
  EXPECT_EQ(raised, ViolationKind::kMetadataCorruption);
  EXPECT_NE(CheckCopy(p, kLarge, CopyDirection::kWrite), ViolationKind::kNone);
  EXPECT_EQ(Pool::ObjectSize(p), 0u) << "a forged size was believed";
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, ViolationKind::kMetadataCorruption);

  rec->mul.store(kLarge);  // put back: a free would abort on the canary
  EXPECT_EQ(CheckCopy(p, kLarge, CopyDirection::kRead), ViolationKind::kNone);
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(recorder_.Take().empty());
}

}  // namespace
}  // namespace sealpool
