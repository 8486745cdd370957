// Write-rarely pools: WriteRare() changes exactly the requested bytes of a
// sealed object through a short-lived alias, while the shared view stays
// read-only (also while another thread is writing rarely); every write-rare
// is checked like any other write; mapping failures surface as
// ResourceExhausted; no file descriptor to the pool's memory stays open, so
// file writes through /proc cannot change it; and the pool's memory is kept
// out of fork children.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/kernel_calls.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/sealpool/sealpool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::ExitedZero;
using ::sealpool_test::KilledBySegv;
using ::sealpool_test::kPage;
using ::sealpool_test::Mapping;
using ::sealpool_test::PageEnd;
using ::sealpool_test::PageStart;
using ::sealpool_test::PermsAt;
using ::sealpool_test::ReadMaps;
using ::sealpool_test::ReportModeTest;
using ::sealpool_test::RunInChild;
using ::sealpool_test::UniqueName;
using ::sealpool_test::WritableMappingsOver;

constexpr size_t kSmall = 256;
constexpr size_t kLarge = 100000;

PoolOptions WriteRareOptions() {
  PoolOptions o;
  o.flags = kPoolWriteRare;
  return o;
}

unsigned char PatternByte(size_t i) {
  return static_cast<unsigned char>((i * 13 + 5) & 0xff);
}

void FillPattern(void* p, size_t size) {
  unsigned char* c = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < size; ++i) c[i] = PatternByte(i);
}

// True when [p, p+size) holds the pattern everywhere except in
// [skip_off, skip_off+skip_len); the first bad offset goes to `bad`.
bool PatternIntactExcept(const void* p, size_t size, size_t skip_off,
                         size_t skip_len, size_t* bad = nullptr) {
  const unsigned char* c = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < size; ++i) {
    if (i >= skip_off && i < skip_off + skip_len) continue;
    if (c[i] != PatternByte(i)) {
      if (bad != nullptr) *bad = i;
      return false;
    }
  }
  return true;
}

bool PatternIntact(const void* p, size_t size) {
  return PatternIntactExcept(p, size, 0, 0);
}

// Writable mappings of the memfd behind the pool called `name`.
size_t WritableMemfdMappings(const std::string& name) {
  const std::string needle = "memfd:sealpool:" + name;
  size_t n = 0;
  for (const Mapping& m : ReadMaps()) {
    if (m.perms.size() > 1 && m.perms[1] == 'w' &&
        m.path.find(needle) != std::string::npos &&
        // "name-1" must not match "name-12".
        (m.path.size() == m.path.find(needle) + needle.size() ||
         m.path[m.path.find(needle) + needle.size()] == ' ')) {
      ++n;
    }
  }
  return n;
}


// ---------------------------------------------------------------------------
// What a write-rare changes.

TEST(WriteRareTest, ChangesExactlyTheRequestedBytesSmall) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-small"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(neighbour, pool, kSmall);
  FillPattern(p, kSmall);
  FillPattern(neighbour, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_TRUE(pool->Stats().write_rare);
  const unsigned char src[8] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
  const absl::Status st = Pool::WriteRare(AsBytes(p) + 16, src, sizeof(src));
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(std::memcmp(AsBytes(p) + 16, src, sizeof(src)), 0);
  size_t bad = 0;
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 16, sizeof(src), &bad))
      << "byte " << bad << " changed";
  EXPECT_TRUE(PatternIntact(neighbour, kSmall));
  EXPECT_EQ(pool->Stats().write_rares, 1u);
  // The object is still sealed.
  EXPECT_EQ(WritableMappingsOver(p, kSmall), 0u);
}

TEST(WriteRareTest, ChangesExactlyTheRequestedBytesLargeAcrossPages) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-large"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kLarge);
  FillPattern(p, kLarge);
  ASSERT_TRUE(pool->Seal().ok());
  // 8 bytes at offset 16, then 64 bytes straddling the second page boundary
  // inside the object.
  const unsigned char small_src[8] = {9, 8, 7, 6, 5, 4, 3, 2};
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + 16, small_src, 8).ok());
  const uintptr_t a = sealpool_test::Addr(p);
  const size_t boundary = PageEnd(a + kPage + 1) - a;  // offset of a page start
  ASSERT_LT(boundary + 32, kLarge);
  const size_t off = boundary - 32;
  unsigned char src[64];
  for (size_t i = 0; i < sizeof(src); ++i)
    src[i] = static_cast<unsigned char>(~PatternByte(off + i));
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + off, src, sizeof(src)).ok());
  EXPECT_EQ(std::memcmp(AsBytes(p) + 16, small_src, 8), 0);
  EXPECT_EQ(std::memcmp(AsBytes(p) + off, src, sizeof(src)), 0);
  const unsigned char* c = static_cast<const unsigned char*>(p);
  size_t changed = 0;
  for (size_t i = 0; i < kLarge; ++i) {
    const bool in_first = i >= 16 && i < 24;
    const bool in_second = i >= off && i < off + sizeof(src);
    if (!in_first && !in_second && c[i] != PatternByte(i)) ++changed;
  }
  EXPECT_EQ(changed, 0u);
  EXPECT_EQ(pool->Stats().write_rares, 2u);
}

TEST(WriteRareTest, EachExtentMapsItsOwnPartOfTheMemfd) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-extents"), WriteRareOptions());
  constexpr size_t kSize = 300000;
  std::vector<void*> objects;
  while (pool->Stats().extents < 3 && objects.size() < 200) {
    SEALPOOL_ASSERT_ALLOC(p, pool, kSize);
    std::memset(p, static_cast<int>(objects.size() & 0x7f), kSize);
    objects.push_back(p);
  }
  ASSERT_GE(pool->Stats().extents, 3u);
  // Small objects too, allocated last (in the newest extent).
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  FillPattern(small, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  for (size_t i = 0; i < objects.size(); ++i) {
    const uint32_t tag = 0xabc00000u + static_cast<uint32_t>(i);
    ASSERT_TRUE(Pool::WriteRare(AsBytes(objects[i]) + 5000, &tag, 4).ok());
  }
  const uint32_t small_tag = 0x12345678u;
  ASSERT_TRUE(Pool::WriteRare(AsBytes(small) + 40, &small_tag, 4).ok());
  for (size_t i = 0; i < objects.size(); ++i) {
    SCOPED_TRACE(i);
    const unsigned char* c = static_cast<const unsigned char*>(objects[i]);
    uint32_t tag = 0;
    std::memcpy(&tag, c + 5000, 4);
    EXPECT_EQ(tag, 0xabc00000u + static_cast<uint32_t>(i));
    size_t changed = 0;
    for (size_t j = 0; j < kSize; ++j) {
      if ((j < 5000 || j >= 5004) && c[j] != (i & 0x7f)) ++changed;
    }
    EXPECT_EQ(changed, 0u);
  }
  EXPECT_TRUE(PatternIntactExcept(small, kSmall, 40, 4));
  EXPECT_EQ(pool->Stats().write_rares, objects.size() + 1);
}

TEST(WriteRareTest, WholeObjectAndExactEndAllowed) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-end"), WriteRareOptions());
  for (size_t size : {size_t{40}, kSmall, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    std::memset(p, 0, size);
    ASSERT_TRUE(pool->Seal().ok());
    // off + n == size.
    const char tail[4] = {'t', 'a', 'i', 'l'};
    const absl::Status st = Pool::WriteRare(AsBytes(p) + size - 4, tail, 4);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(std::memcmp(AsBytes(p) + size - 4, tail, 4), 0);
    EXPECT_EQ(AsBytes(p)[size - 5], 0);
    // The whole object.
    std::vector<char> all(size, 'w');
    ASSERT_TRUE(Pool::WriteRare(p, all.data(), size).ok());
    EXPECT_EQ(std::memcmp(p, all.data(), size), 0);
  }
}

TEST(WriteRareTest, ZeroLengthWritesNothing) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-zero"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[1] = {'x'};
  EXPECT_TRUE(Pool::WriteRare(AsBytes(p) + 16, src, 0).ok());
  EXPECT_TRUE(Pool::WriteRare(AsBytes(p) + kSmall, src, 0).ok());
  EXPECT_EQ(sp_write_rare(p, nullptr, 0), 0);
  EXPECT_TRUE(PatternIntact(p, kSmall));
  EXPECT_EQ(pool->Stats().write_rares, 0u);
}

TEST(WriteRareTest, CApiWritesRarely) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-c"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(unsealed_later, pool, 8);
  FillPattern(p, kSmall);
  // Not sealed yet: -EINVAL.
  const uint32_t v = 0xa5a5a5a5u;
  EXPECT_EQ(sp_write_rare(p, &v, sizeof(v)), -EINVAL);
  EXPECT_TRUE(PatternIntact(p, kSmall));
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(sp_write_rare(AsBytes(p) + 100, &v, sizeof(v)), 0);
  EXPECT_EQ(std::memcmp(AsBytes(p) + 100, &v, sizeof(v)), 0);
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 100, sizeof(v)));
  EXPECT_EQ(sp_write_rare(nullptr, &v, sizeof(v)), -EINVAL);
  EXPECT_EQ(sp_write_rare(p, nullptr, sizeof(v)), -EINVAL);
  EXPECT_EQ(Pool::ObjectSize(unsealed_later), 8u);
}

// ---------------------------------------------------------------------------
// Refusals (report mode).

using WriteRareReportTest = ReportModeTest;

TEST_F(WriteRareReportTest, PastTheEndIsAViolationAndWritesNothing) {
  const std::string name = UniqueName("wr-past");
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  for (size_t size : {size_t{40}, kSmall, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    SEALPOOL_ASSERT_ALLOC(next, pool, size);
    FillPattern(p, size);
    FillPattern(next, size);
    ASSERT_TRUE(pool->Seal().ok());
    recorder_.Take();
    const size_t writes = pool->Stats().write_rares;
    const uint64_t before = ViolationCount();
    std::vector<unsigned char> src(9, 0xee);
    // off + n == size + 1.
    absl::Status st = Pool::WriteRare(AsBytes(p) + size - 8, src.data(), 9);
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
    EXPECT_EQ(ViolationCount(), before + 1);
    EXPECT_EQ(sp_write_rare(AsBytes(p) + size - 8, src.data(), 9), -EPERM);
    EXPECT_EQ(ViolationCount(), before + 2);
    // Starting one past the end.
    st = Pool::WriteRare(AsBytes(p) + size, src.data(), 1);
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
    EXPECT_EQ(ViolationCount(), before + 3);
    EXPECT_TRUE(PatternIntact(p, size));
    EXPECT_TRUE(PatternIntact(next, size));
    EXPECT_EQ(pool->Stats().write_rares, writes);
    const auto records = recorder_.Take();
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(records[0].pool_name, name);
    EXPECT_EQ(records[0].addr, sealpool_test::Addr(p) + size - 8);
    EXPECT_EQ(records[0].object_start, sealpool_test::Addr(p));
    EXPECT_EQ(records[0].object_size, size);
    // The legal neighbour: off + n == size.
    st = Pool::WriteRare(AsBytes(p) + size - 8, src.data(), 8);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_EQ(ViolationCount(), before + 3);
  }
}

TEST_F(WriteRareReportTest, UnsealedObjectIsFailedPrecondition) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-unsealed"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  const uint64_t before = ViolationCount();
  const char src[8] = {};
  absl::Status st = Pool::WriteRare(AsBytes(p) + 16, src, 8);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(sp_write_rare(AsBytes(p) + 16, src, 8), -EINVAL);
  EXPECT_TRUE(PatternIntact(p, kSmall));
  // After a seal, a newer object is unsealed again.
  ASSERT_TRUE(pool->Seal().ok());
  SEALPOOL_ASSERT_ALLOC(later, pool, kSmall);
  FillPattern(later, kSmall);
  st = Pool::WriteRare(AsBytes(later) + 16, src, 8);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_TRUE(PatternIntact(later, kSmall));
  EXPECT_EQ(ViolationCount(), before);
  // The legal neighbour: the sealed one.
  EXPECT_TRUE(Pool::WriteRare(AsBytes(p) + 16, src, 8).ok());
}

TEST_F(WriteRareReportTest, PoolWithoutFlagIsFailedPrecondition) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-noflag"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_FALSE(pool->Stats().write_rare);
  const char src[8] = {};
  const absl::Status st = Pool::WriteRare(AsBytes(p) + 16, src, 8);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(sp_write_rare(AsBytes(p) + 16, src, 8), -EINVAL);
  EXPECT_TRUE(PatternIntact(p, kSmall));
  EXPECT_EQ(pool->Stats().write_rares, 0u);
}

TEST_F(WriteRareReportTest, ForeignMemoryIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-foreign"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  char stack_buf[64];
  std::memset(stack_buf, 's', sizeof(stack_buf));
  char* heap_buf = static_cast<char*>(std::malloc(64));
  ASSERT_NE(heap_buf, nullptr);
  std::memset(heap_buf, 'h', 64);
  const char src[8] = {'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'};
  absl::Status st = Pool::WriteRare(stack_buf + 8, src, 8);
  EXPECT_FALSE(st.ok());
  EXPECT_LT(sp_write_rare(stack_buf + 8, src, 8), 0);
  st = Pool::WriteRare(heap_buf, src, 8);
  EXPECT_FALSE(st.ok());
  for (char c : stack_buf) ASSERT_EQ(c, 's');
  for (int i = 0; i < 64; ++i) ASSERT_EQ(heap_buf[i], 'h');
  std::free(heap_buf);
  EXPECT_EQ(pool->Stats().write_rares, 0u);
}

TEST_F(WriteRareReportTest, CrossingIntoTheNextObjectIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-cross"), WriteRareOptions());
  // Same size class: adjacent slots of one span.
  SEALPOOL_ASSERT_ALLOC(a, pool, 64);
  SEALPOOL_ASSERT_ALLOC(b, pool, 64);
  FillPattern(a, 64);
  FillPattern(b, 64);
  ASSERT_TRUE(pool->Seal().ok());
  const uint64_t before = ViolationCount();
  std::vector<char> src(256, 'z');
  EXPECT_EQ(Pool::WriteRare(a, src.data(), 256).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ViolationCount(), before + 1);
  EXPECT_TRUE(PatternIntact(a, 64));
  EXPECT_TRUE(PatternIntact(b, 64));
}

TEST_F(WriteRareReportTest, FreedSlotIsRefused) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-freed"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(keep, pool, 64);
  SEALPOOL_ASSERT_ALLOC(gone, pool, 64);
  ASSERT_TRUE(Pool::Free(gone).ok());
  ASSERT_TRUE(pool->Seal().ok());
  const char src[8] = {};
  const absl::Status st = Pool::WriteRare(gone, src, 8);
  EXPECT_FALSE(st.ok()) << "write-rare into a freed slot";
  EXPECT_TRUE(Pool::WriteRare(keep, src, 8).ok());
}

// ---------------------------------------------------------------------------
// Fault injection.

TEST(WriteRareTest, AliasMapFailureIsResourceExhausted) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-inject"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  internal::InjectMapFailures(1);
  const absl::Status st = Pool::WriteRare(AsBytes(p) + 16, src, 8);
  internal::InjectMapFailures(0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_TRUE(PatternIntact(p, kSmall));
  EXPECT_EQ(pool->Stats().write_rares, 0u);
  internal::InjectMapFailures(1);
  EXPECT_EQ(sp_write_rare(AsBytes(p) + 16, src, 8), -ENOMEM);
  internal::InjectMapFailures(0);
  EXPECT_TRUE(PatternIntact(p, kSmall));
  // The next one works.
  const absl::Status again = Pool::WriteRare(AsBytes(p) + 16, src, 8);
  ASSERT_TRUE(again.ok()) << again;
  EXPECT_EQ(std::memcmp(AsBytes(p) + 16, src, 8), 0);
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 16, 8));
  EXPECT_EQ(pool->Stats().write_rares, 1u);
}

TEST(WriteRareTest, MemfdFailureAtCreateIsResourceExhausted) {
  // Make sure the arena exists, so that the injected failure hits the pool's
  // own memfd.
  { SEALPOOL_ASSERT_CREATE(warm, UniqueName("wr-warm"), PoolOptions{}); }
  const std::string name = UniqueName("wr-memfd");
  internal::InjectMapFailures(1);
  absl::StatusOr<Pool*> failed = Pool::Create(name, WriteRareOptions());
  internal::InjectMapFailures(0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted)
      << failed.status();
  EXPECT_EQ(Pool::Find(name).status().code(), absl::StatusCode::kNotFound);
  // A later create (of the same name) works and writes rarely.
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[4] = {'o', 'k', 'o', 'k'};
  EXPECT_TRUE(Pool::WriteRare(p, src, 4).ok());
  EXPECT_EQ(std::memcmp(p, src, 4), 0);
}

// ---------------------------------------------------------------------------
// The shared view stays read-only.

TEST(WriteRareTest, ProcMapsShowsNoWritableViewAfterWriteRare) {
  const std::string name = UniqueName("wr-maps");
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  // The parser's legal neighbour: before the seal, writable memfd pages.
  EXPECT_EQ(PermsAt(small).substr(0, 2), "rw");
  EXPECT_GT(WritableMemfdMappings(name), 0u);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[16] = "write-rarely!!!";
  ASSERT_TRUE(Pool::WriteRare(AsBytes(small) + 8, src, sizeof(src)).ok());
  ASSERT_TRUE(
      Pool::WriteRare(AsBytes(large) + kPage - 8, src, sizeof(src)).ok());
  for (void* p : {small, large}) {
    const size_t size = Pool::ObjectSize(p);
    EXPECT_EQ(PermsAt(p).substr(0, 2), "r-");
    EXPECT_EQ(PermsAt(AsBytes(p) + size - 1).substr(0, 2), "r-");
    EXPECT_EQ(WritableMappingsOver(p, size), 0u);
  }
  // The alias is gone: no writable view of the pool's memfd is left.
  EXPECT_EQ(WritableMemfdMappings(name), 0u);
}

TEST(WriteRareTest, ConcurrentWriteRareIsVisibleToReaders) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-visible"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  std::memset(p, 0, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (uint32_t i = 1; i <= 2000; ++i) {
      if (!Pool::WriteRare(AsBytes(p) + 32, &i, sizeof(i)).ok()) failed = true;
    }
  });
  // Reads during the writes must not fault.
  uint32_t seen = 0;
  for (int i = 0; i < 2000; ++i) {
    volatile char* c = AsBytes(p);
    seen += static_cast<unsigned char>(c[32]);
  }
  (void)seen;
  writer.join();
  EXPECT_FALSE(failed.load());
  uint32_t last = 0;
  std::memcpy(&last, AsBytes(p) + 32, sizeof(last));
  EXPECT_EQ(last, 2000u);
  EXPECT_EQ(pool->Stats().write_rares, 2000u);
}

TEST(WriteRareDeathTest, PlainStoreFaultsWhileAnotherThreadWritesRarely) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-death-store"),
                         WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  std::memset(p, 0, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EXIT(
      {
        std::atomic<int> done{0};
        std::thread writer([&] {
          for (uint32_t i = 0; i < 5000; ++i) {
            (void)Pool::WriteRare(AsBytes(p) + 64, &i, sizeof(i));
            done.store(static_cast<int>(i) + 1, std::memory_order_release);
          }
        });
        while (done.load(std::memory_order_acquire) < 1000) {
        }
        static_cast<volatile char*>(p)[64] = 1;
        writer.join();
        std::_Exit(0);
      },
      DiedOfSegv, "");
}

TEST(WriteRareDeathTest, PastTheEndAbortsInAbortMode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // A fixed name: the threadsafe death-test child re-runs this test alone.
  const std::string name = "wr-death-past";
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[9] = {};
  // The legal neighbour first: up to the exact end.
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + kSmall - 8, src, 8).ok());
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::WriteRare(AsBytes(p) + kSmall - 8, src, 9);
      },
      "sealpool: memory overwrite attempt detected to pool '" + name + "'");
}

// ---------------------------------------------------------------------------
// No file descriptor to the pool's memory: each extent's memfd is closed
// once mapped, so a file-write bug (open + pwrite, no code execution)
// finds no way in through /proc/self/fd.

// Descriptors of this process open on the memfd behind the pool called
// `name` (readlink: "/memfd:sealpool:<name> (deleted)").
std::vector<int> MemfdDescriptorsOf(const std::string& name) {
  const std::string want = "/memfd:sealpool:" + name;
  std::vector<int> out;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  const int own = dirfd(dir);
  while (const dirent* d = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0' || fd == own) continue;
    char target[512];
    const ssize_t n = readlinkat(own, d->d_name, target, sizeof(target) - 1);
    if (n <= 0) continue;
    const std::string t(target, static_cast<size_t>(n));
    // "name-1" must not match "name-12".
    if (t.compare(0, want.size(), want) == 0 &&
        (t.size() == want.size() || t[want.size()] == ' ')) {
      out.push_back(static_cast<int>(fd));
    }
  }
  closedir(dir);
  return out;
}

// Large objects of `size` bytes, filled with their index, until the pool
// has `extents` extents.
std::vector<void*> FillExtents(Pool* pool, size_t extents, size_t size) {
  std::vector<void*> objects;
  while (pool->Stats().extents < extents && objects.size() < 200) {
    absl::StatusOr<void*> p = pool->Allocate(size);
    if (!p.ok()) break;
    std::memset(*p, static_cast<int>(objects.size() & 0x7f), size);
    objects.push_back(*p);
  }
  return objects;
}

// The mapping over `p` as /proc/self/maps has it: start, end, file offset.
bool MappingWithOffset(const void* p, uintptr_t* start, uintptr_t* end,
                       uint64_t* offset) {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return false;
  char line[4096];
  bool found = false;
  while (!found && std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long lo = 0, hi = 0, off = 0;  // NOLINT(runtime/int): sscanf
    if (std::sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 &&
        Addr(p) >= lo && Addr(p) < hi) {
      *start = lo;
      *end = hi;
      *offset = off;
      found = true;
    }
  }
  std::fclose(f);
  return found;
}

TEST(WriteRareFdTest, NoDescriptorToThePoolsMemoryStaysOpen) {
  const std::string name = UniqueName("wr-nofd");
  // The scanner's legal neighbour: a memfd named like the pool's is seen.
  {
    const int fd = memfd_create(("sealpool:" + name).c_str(), MFD_CLOEXEC);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(MemfdDescriptorsOf(name), std::vector<int>{fd});
    close(fd);
    EXPECT_TRUE(MemfdDescriptorsOf(name).empty());
  }
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  EXPECT_TRUE(MemfdDescriptorsOf(name).empty());
  constexpr size_t kSize = 300000;
  const std::vector<void*> objects = FillExtents(pool.get(), 2, kSize);
  ASSERT_GE(pool->Stats().extents, 2u);
  EXPECT_TRUE(MemfdDescriptorsOf(name).empty()) << "after growth";
  ASSERT_TRUE(pool->Seal().ok());
  const uint32_t tag = 0x5eed5eedu;
  ASSERT_TRUE(Pool::WriteRare(AsBytes(objects.front()) + 8, &tag, 4).ok());
  ASSERT_TRUE(Pool::WriteRare(AsBytes(objects.back()) + 8, &tag, 4).ok());
  // The attacker's route (open("/proc/self/fd/N", O_RDWR) + pwrite) needs
  // such a descriptor: there is none.
  EXPECT_TRUE(MemfdDescriptorsOf(name).empty()) << "after seal and write-rare";
  // The pool's memory is still backed by the memfd, in /proc/self/maps.
  EXPECT_EQ(PermsAt(objects.back()).substr(0, 4), "r--s");
}

TEST(WriteRareFdTest, FileWritesThroughProcCannotChangeSealedBytes) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-procwrite"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char evil[4] = {'e', 'v', 'i', 'l'};

  // /proc/self/mem: the shared view is read-only and not copy-on-write,
  // so even a forced write is refused.
  const int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
  ASSERT_GE(mem, 0);
  char plain[8] = {};
  // The legal neighbour: the route works on writable memory.
  ASSERT_EQ(pwrite(mem, evil, 4, static_cast<off_t>(Addr(plain))), 4);
  EXPECT_EQ(std::memcmp(plain, evil, 4), 0);
  EXPECT_LT(pwrite(mem, evil, 4, static_cast<off_t>(Addr(p) + 16)), 0);
  close(mem);
  EXPECT_TRUE(PatternIntact(p, kSmall));

  // /proc/self/map_files (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)
  // reopens the memfd behind a mapping; the memfd is sealed against
  // writes and new writable mappings.
  uintptr_t lo = 0, hi = 0;
  uint64_t offset = 0;
  ASSERT_TRUE(MappingWithOffset(p, &lo, &hi, &offset));
  char path[96];
  std::snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
                static_cast<unsigned long>(lo),   // NOLINT(runtime/int)
                static_cast<unsigned long>(hi));  // NOLINT(runtime/int)
  const int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    EXPECT_TRUE(errno == EPERM || errno == EACCES) << path << ": " << errno;
  } else {
    const off_t at = static_cast<off_t>(offset + (Addr(p) - lo) + 16);
    errno = 0;
    EXPECT_LT(pwrite(fd, evil, 4, at), 0);
    EXPECT_EQ(errno, EPERM);
    void* w = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   static_cast<off_t>(offset));
    EXPECT_EQ(w, MAP_FAILED);
    if (w != MAP_FAILED) munmap(w, kPage);
    close(fd);
  }
  EXPECT_TRUE(PatternIntact(p, kSmall));
  // The legal neighbour: write-rare itself still writes.
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + 16, evil, 4).ok());
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 16, 4));
}

TEST(WriteRareFdDeathTest, ExactBytesAcrossExtentsAndTheViewStaysReadOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string name = UniqueName("wr-fd-exact");
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  constexpr size_t kSize = 300000;
  const std::vector<void*> objects = FillExtents(pool.get(), 3, kSize);
  ASSERT_GE(pool->Stats().extents, 3u);
  ASSERT_TRUE(pool->Seal().ok());
  // One write-rare straddling a page boundary in every object.
  const size_t off = PageEnd(Addr(objects[0]) + 1) - Addr(objects[0]) - 3;
  const unsigned char src[6] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5};
  for (void* p : objects) {
    ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + off, src, sizeof(src)).ok());
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    SCOPED_TRACE(i);
    const unsigned char* c = static_cast<const unsigned char*>(objects[i]);
    EXPECT_EQ(std::memcmp(c + off, src, sizeof(src)), 0);
    size_t changed = 0;
    for (size_t j = 0; j < kSize; ++j) {
      if ((j < off || j >= off + sizeof(src)) && c[j] != (i & 0x7f)) ++changed;
    }
    EXPECT_EQ(changed, 0u);
    EXPECT_EQ(WritableMappingsOver(objects[i], kSize), 0u);
  }
  EXPECT_EQ(WritableMemfdMappings(name), 0u);
  // A plain store faults in the first and the newest extent.
  for (void* p : {objects.front(), objects.back()}) {
    EXPECT_EXIT(
        {
          static_cast<volatile char*>(p)[off] = 1;
          std::_Exit(0);
        },
        DiedOfSegv, "");
  }
}

// Write-rare into objects of every extent, sealed at different times, as
// the pool grows after its first seal.
void ExpectWriteRareAfterGrowth(Pool* pool) {
  SEALPOOL_ASSERT_ALLOC(first, pool, kSmall);
  FillPattern(first, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  ASSERT_EQ(pool->Stats().extents, 1u);
  const char a[4] = {'o', 'n', 'e', '!'};
  ASSERT_TRUE(Pool::WriteRare(AsBytes(first) + 4, a, 4).ok());
  constexpr size_t kSize = 300000;
  const std::vector<void*> later = FillExtents(pool, 3, kSize);
  ASSERT_GE(pool->Stats().extents, 3u);
  SEALPOOL_ASSERT_ALLOC(last_small, pool, kSmall);
  FillPattern(last_small, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char b[4] = {'t', 'w', 'o', '!'};
  ASSERT_TRUE(Pool::WriteRare(AsBytes(first) + 100, b, 4).ok());
  ASSERT_TRUE(Pool::WriteRare(AsBytes(last_small) + 100, b, 4).ok());
  for (size_t i = 0; i < later.size(); ++i) {
    const uint32_t tag = 0xc0de0000u + static_cast<uint32_t>(i);
    ASSERT_TRUE(Pool::WriteRare(AsBytes(later[i]) + kSize - 4, &tag, 4).ok())
        << i;
  }
  EXPECT_EQ(std::memcmp(AsBytes(first) + 4, a, 4), 0);
  EXPECT_EQ(std::memcmp(AsBytes(first) + 100, b, 4), 0);
  EXPECT_EQ(std::memcmp(AsBytes(last_small) + 100, b, 4), 0);
  for (size_t i = 0; i < later.size(); ++i) {
    uint32_t tag = 0;
    std::memcpy(&tag, AsBytes(later[i]) + kSize - 4, 4);
    EXPECT_EQ(tag, 0xc0de0000u + static_cast<uint32_t>(i));
    EXPECT_EQ(static_cast<unsigned char>(AsBytes(later[i])[kSize - 5]), i & 0x7f);
  }
  EXPECT_TRUE(PatternIntactExcept(last_small, kSmall, 100, 4));
  EXPECT_EQ(pool->Stats().write_rares, later.size() + 3);
}

TEST(WriteRareFdTest, WriteRareKeepsWorkingAfterGrowth) {
  const std::string name = UniqueName("wr-fd-grow");
  SEALPOOL_ASSERT_CREATE(pool, name, WriteRareOptions());
  ExpectWriteRareAfterGrowth(pool.get());
  EXPECT_TRUE(MemfdDescriptorsOf(name).empty());
}

// Permanent pools are mseal()ed, and mremap refuses to duplicate sealed
// mappings (EPERM): their aliases come from an unsealed PROT_NONE
// duplicate of each extent, made before the seal.
TEST(WriteRareFdTest, PermanentPoolWritesRarelyAfterGrowth) {
  const std::string name = UniqueName("wr-fd-perm");
  PoolOptions o;
  o.flags = kPoolWriteRare | kPoolPermanent;
  absl::StatusOr<Pool*> created = Pool::Create(name, o);
  ASSERT_TRUE(created.ok()) << created.status();
  Pool* pool = *created;
  ExpectWriteRareAfterGrowth(pool);
  EXPECT_TRUE(MemfdDescriptorsOf(name).empty());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  if (pool->Stats().permanent_enforced) {
    // What the duplicate is for: the sealed view itself cannot be
    // duplicated (nor made writable).
    void* page = reinterpret_cast<void*>(PageStart(Addr(p)));
    errno = 0;
    EXPECT_EQ(mremap(page, 0, kPage, MREMAP_MAYMOVE), MAP_FAILED);
    EXPECT_EQ(errno, EPERM);
    EXPECT_NE(mprotect(page, kPage, PROT_READ | PROT_WRITE), 0);
  }
  // A fork child has neither the pages nor the duplicate: refused.
  const int status = RunInChild([&] {
    const char src[4] = {'k', 'i', 'd', '!'};
    return Pool::WriteRare(p, src, 4).ok() ? 1 : 0;
  });
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  const char src[4] = {'p', 'a', 'r', '!'};
  ASSERT_TRUE(Pool::WriteRare(p, src, 4).ok());
  EXPECT_EQ(std::memcmp(p, src, 4), 0);
}

TEST(WriteRareFdTest, MemfdFailureAtGrowthFailsOnlyThatAllocation) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-fd-inject"), WriteRareOptions());
  internal::InjectMapFailures(1);
  absl::StatusOr<void*> failed = pool->Allocate(kSmall);
  internal::InjectMapFailures(0);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted)
      << failed.status();
  EXPECT_EQ(pool->Stats().extents, 0u);
  // The next one maps the extent and writes rarely.
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[4] = {'o', 'k', 'o', 'k'};
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + 8, src, 4).ok());
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 8, 4));
}

// ---------------------------------------------------------------------------
// fork(): the pool's memory is MADV_DONTFORK.

TEST(WriteRareTest, ForkChildCannotUseWriteRarePool) {
  SEALPOOL_ASSERT_CREATE(wr, UniqueName("wr-fork"), WriteRareOptions());
  SEALPOOL_ASSERT_CREATE(plain, UniqueName("wr-fork-plain"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, wr, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(wr->Seal().ok());
  SEALPOOL_ASSERT_ALLOC(fresh, wr, kSmall);  // unsealed
  FillPattern(fresh, kSmall);
  SEALPOOL_ASSERT_ALLOC(plain_obj, plain, 128);
  std::memset(plain_obj, 0x3c, 128);

  // Reading the sealed object faults in the child.
  int status = RunInChild([&] {
    volatile const char* c = AsBytes(p);
    return c[0] == static_cast<char>(PatternByte(0)) ? 0 : 1;
  });
  EXPECT_TRUE(KilledBySegv(status)) << "wait status " << status;
  // So does reading an unsealed object of the pool.
  status = RunInChild([&] {
    volatile const char* c = AsBytes(fresh);
    return c[1] == static_cast<char>(PatternByte(1)) ? 0 : 1;
  });
  EXPECT_TRUE(KilledBySegv(status)) << "wait status " << status;
  // Allocating from it fails.
  status = RunInChild([&] { return wr->Allocate(kSmall).ok() ? 1 : 0; });
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  // A normal pool works in the child.
  status = RunInChild([&] {
    if (AsBytes(plain_obj)[127] != 0x3c) return 2;
    absl::StatusOr<void*> q = plain->Allocate(1000);
    if (!q.ok()) return 3;
    std::memset(*q, 1, 1000);
    if (!Pool::Free(*q).ok()) return 4;
    if (!Pool::Free(plain_obj).ok()) return 5;
    return 0;
  });
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;

  // The parent is unaffected.
  EXPECT_TRUE(PatternIntact(p, kSmall));
  EXPECT_TRUE(PatternIntact(fresh, kSmall));
  const char src[4] = {'p', 'a', 'r', 'p'};
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + 4, src, 4).ok());
  EXPECT_EQ(std::memcmp(AsBytes(p) + 4, src, 4), 0);
  absl::StatusOr<void*> more = wr->Allocate(kSmall);
  ASSERT_TRUE(more.ok()) << more.status();
  std::memset(*more, 2, kSmall);
  EXPECT_TRUE(Pool::Free(*more).ok());
  EXPECT_EQ(AsBytes(plain_obj)[0], 0x3c);
  EXPECT_TRUE(Pool::Free(plain_obj).ok());
}

TEST(WriteRareTest, ForkChildCannotWriteRarelyIntoParentMemory) {
  SEALPOOL_ASSERT_CREATE(wr, UniqueName("wr-fork-write"), WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, wr, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(wr->Seal().ok());
  // The child does not have the pool's pages; a write-rare from it must be
  // refused and must not reach the parent's memory through the memfd.
  const int status = RunInChild([&] {
    const char src[8] = {'c', 'h', 'i', 'l', 'd', '!', '!', '!'};
    return Pool::WriteRare(AsBytes(p) + 16, src, 8).ok() ? 1 : 0;
  });
  EXPECT_TRUE(ExitedZero(status))
      << "wait status " << status << ": WriteRare succeeded in the child";
  size_t bad = 0;
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 0, 0, &bad))
      << "the child changed the parent's sealed byte " << bad;
  // The legal neighbour: the parent itself still writes rarely.
  const char src[4] = {'p', 'a', 'r', 'p'};
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + 100, src, 4).ok());
  EXPECT_EQ(std::memcmp(AsBytes(p) + 100, src, 4), 0);
}

// ---------------------------------------------------------------------------
// The write window, made deterministic: a hook runs inside it.

// A thread that already runs (a thread started inside a key window would
// inherit the writer's rights) stores to a sealed object when told to.
class StoreFromOtherThread {
 public:
  explicit StoreFromOtherThread(volatile char* target)
      : thread_([this, target] {
          while (phase_.load() != 1) std::this_thread::yield();
          target[0] = 1;  // Must fault.
          phase_.store(2);
        }) {}
  ~StoreFromOtherThread() { thread_.join(); }

  // The window hook: let the thread store, and wait for it to have done so.
  static void InWindow(void* arg) {
    auto* self = static_cast<StoreFromOtherThread*>(arg);
    self->phase_.store(1);
    while (self->phase_.load() != 2) std::this_thread::yield();
  }

 private:
  std::atomic<int> phase_{0};
  std::thread thread_;
};

// A write-rare into sealed object `p`, during whose window another thread
// stores to `p`: the store must fault (death test; threadsafe style).
void ExpectOtherThreadStoreFaultsInWindow(void* p) {
  EXPECT_EXIT(
      {
        StoreFromOtherThread s(AsBytes(p) + 64);
        internal::SetWriteRareWindowHookForTest(StoreFromOtherThread::InWindow,
                                                &s);
        const uint32_t v = 7;
        (void)Pool::WriteRare(AsBytes(p) + 8, &v, sizeof(v));
        std::_Exit(0);
      },
      DiedOfSegv, "");
}

TEST(WriteRareDeathTest, OtherThreadStoreFaultsInsideTheAliasWindow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  internal::DisableProtectionKeysForTest(true);
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wr-window-alias"),
                         WriteRareOptions());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  std::memset(p, 0, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  ExpectOtherThreadStoreFaultsInWindow(p);
  internal::DisableProtectionKeysForTest(false);
}

// ---------------------------------------------------------------------------
// kPoolWriteRareKey: protection keys where the CPU has them, the memfd
// alias elsewhere.

// True when the CPU and kernel offer protection keys ("pku" and "ospke").
bool CpuHasProtectionKeys() {
  FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (f == nullptr) return false;
  char line[8192];
  bool pku = false, ospke = false;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, "flags", 5) != 0) continue;
    pku = std::strstr(line, " pku") != nullptr;
    ospke = std::strstr(line, " ospke") != nullptr;
    break;
  }
  std::fclose(f);
  return pku && ospke;
}

PoolOptions KeyOptions() {
  PoolOptions o;
  o.flags = kPoolWriteRareKey;
  return o;
}

// Skips unless this process can use a key: the CPU has them and the
// process was single-threaded when the first key pool was created (TSan
// runs a background thread, so TSan builds test the fallback instead).
#define SKIP_WITHOUT_KEYS(pool)                                            \
  do {                                                                     \
    if (!CpuHasProtectionKeys()) GTEST_SKIP() << "this CPU has no pku";    \
    if (SEALPOOL_TEST_TSAN) {                                              \
      GTEST_SKIP() << "TSan's background thread rules out a key";          \
    }                                                                      \
    ASSERT_TRUE((pool)->Stats().write_rare_key);                           \
  } while (0)

TEST(WriteRareKeyTest, FlagImpliesWriteRareAndReportsTheMechanism) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-flag"), KeyOptions());
  const PoolStats st = pool->Stats();
  EXPECT_TRUE(st.write_rare);
  EXPECT_NE(pool->options().flags & kPoolWriteRare, 0u);
  EXPECT_EQ(st.write_rare_key, CpuHasProtectionKeys() && !SEALPOOL_TEST_TSAN);
}

TEST(WriteRareKeyTest, ChangesExactlyTheRequestedBytesWithoutSystemCalls) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-exact"), KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  FillPattern(small, kSmall);
  FillPattern(large, kLarge);
  ASSERT_TRUE(pool->Seal().ok());
  const char src[5] = {'k', 'e', 'y', 'e', 'd'};
  const KernelCallCounts before = GetKernelCallCounts();
  ASSERT_TRUE(Pool::WriteRare(AsBytes(small) + 40, src, sizeof(src)).ok());
  ASSERT_TRUE(
      Pool::WriteRare(AsBytes(large) + kPage - 2, src, sizeof(src)).ok());
  EXPECT_EQ((GetKernelCallCounts() - before).Total(), 0u);
  EXPECT_EQ(std::memcmp(AsBytes(small) + 40, src, sizeof(src)), 0);
  EXPECT_EQ(std::memcmp(AsBytes(large) + kPage - 2, src, sizeof(src)), 0);
  size_t bad = 0;
  EXPECT_TRUE(PatternIntactExcept(small, kSmall, 40, sizeof(src), &bad)) << bad;
  EXPECT_TRUE(PatternIntactExcept(large, kLarge, kPage - 2, sizeof(src), &bad))
      << bad;
  EXPECT_EQ(pool->Stats().write_rares, 2u);
}

// The checks are the same whatever the mechanism: through the key, a
// write one byte past the end is a violation and writes nothing; the exact
// end is allowed.
TEST_F(WriteRareReportTest, KeyPoolPastTheEndIsAViolationAndWritesNothing) {
  const std::string name = UniqueName("wrk-past");
  SEALPOOL_ASSERT_CREATE(pool, name, KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  for (size_t size : {size_t{40}, kLarge}) {
    SCOPED_TRACE(size);
    SEALPOOL_ASSERT_ALLOC(p, pool, size);
    FillPattern(p, size);
    ASSERT_TRUE(pool->Seal().ok());
    recorder_.Take();
    const unsigned char src[9] = {0xee, 0xee, 0xee, 0xee, 0xee,
                                  0xee, 0xee, 0xee, 0xee};
    absl::Status st = Pool::WriteRare(AsBytes(p) + size - 8, src, 9);
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
    EXPECT_TRUE(PatternIntact(p, size));
    const auto records = recorder_.Take();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(records[0].pool_name, name);
    // The legal neighbour: up to the exact end.
    st = Pool::WriteRare(AsBytes(p) + size - 8, src, 8);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(PatternIntactExcept(p, size, size - 8, 8));
    EXPECT_TRUE(recorder_.Take().empty());
  }
}

TEST(WriteRareKeyTest, SealedPagesCarryTheKey) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-smaps"), KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  // /proc/self/smaps: the mapping over the object has a non-zero key.
  FILE* f = std::fopen("/proc/self/smaps", "r");
  ASSERT_NE(f, nullptr);
  char line[512];
  bool inside = false;
  int key = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long lo = 0, hi = 0;  // NOLINT(runtime/int): sscanf format
    if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
        std::strchr(line, '-') < std::strchr(line, ' ')) {
      inside = Addr(p) >= lo && Addr(p) < hi;
    } else if (inside && std::sscanf(line, "ProtectionKey: %d", &key) == 1) {
      break;
    }
  }
  std::fclose(f);
  EXPECT_GT(key, 0);
}

TEST(WriteRareKeyDeathTest, OtherThreadStoreFaultsInsideTheKeyWindow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-window"), KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  std::memset(p, 0, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  ExpectOtherThreadStoreFaultsInWindow(p);
}

TEST(WriteRareKeyDeathTest, WritersOwnStoreFaultsOnceTheWindowCloses) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-closed"), KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  std::memset(p, 0, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const uint32_t v = 9;
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p), &v, sizeof(v)).ok());
  EXPECT_EXIT(
      {
        static_cast<volatile char*>(p)[0] = 1;
        std::_Exit(0);
      },
      DiedOfSegv, "");
  EXPECT_EQ(AsBytes(p)[0], 9);
}

TEST(WriteRareKeyTest, ThreadsStartedLaterReadSealedMemory) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-readers"), KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  std::atomic<bool> intact{false};
  std::thread reader([&] { intact = PatternIntact(p, kSmall); });
  reader.join();
  EXPECT_TRUE(intact.load());
}

TEST(WriteRareKeyTest, NoKeyWhileOtherThreadsRun) {
  if (!CpuHasProtectionKeys()) GTEST_SKIP() << "this CPU has no pku";
  if (internal::ProtectionKeyDecidedForTest()) {
    GTEST_SKIP() << "an earlier test of this process already made the "
                    "once-per-process key decision (ctest runs each test alone)";
  }
  // A thread that exists before the first key pool would have the kernel's
  // default rights (no access): the pool must fall back instead.
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::thread other([&] {
    started = true;
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  absl::StatusOr<Pool*> pool = Pool::Create(UniqueName("wrk-threads"), KeyOptions());
  release = true;
  other.join();
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_FALSE((*pool)->Stats().write_rare_key);
  EXPECT_TRUE((*pool)->Stats().write_rare);
  // The fallback works.
  absl::StatusOr<void*> p = (*pool)->Allocate(kSmall);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*pool)->Seal().ok());
  const char src[3] = {'f', 'b', 'k'};
  EXPECT_TRUE(Pool::WriteRare(*p, src, 3).ok());
  EXPECT_EQ(std::memcmp(*p, src, 3), 0);
  EXPECT_TRUE((*pool)->Destroy().ok());
}

TEST(WriteRareKeyTest, FallbackUsesTheAliasWithFourSystemCalls) {
  internal::DisableProtectionKeysForTest(true);
  absl::StatusOr<Pool*> created = Pool::Create(UniqueName("wrk-fallback"), KeyOptions());
  internal::DisableProtectionKeysForTest(false);
  ASSERT_TRUE(created.ok()) << created.status();
  ::sealpool_test::ScopedPool pool(*created);
  EXPECT_FALSE(pool->Stats().write_rare_key);
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(WritableMappingsOver(p, kSmall), 0u);
  const char src[2] = {'o', 'k'};
  const KernelCallCounts before = GetKernelCallCounts();
  ASSERT_TRUE(Pool::WriteRare(AsBytes(p) + 10, src, 2).ok());
  const KernelCallCounts d = GetKernelCallCounts() - before;
  // Reserve a random spot, duplicate the pages onto it, make the
  // duplicate writable, unmap it.
  EXPECT_EQ(d.mmap, 1u);
  EXPECT_EQ(d.mremap, 1u);
  EXPECT_EQ(d.mprotect, 1u);
  EXPECT_EQ(d.munmap, 1u);
  EXPECT_EQ(d.Total(), 4u);
  EXPECT_TRUE(PatternIntactExcept(p, kSmall, 10, 2));
}

TEST(WriteRareKeyTest, ForkChildGetsAPrivateCopy) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("wrk-fork"), KeyOptions());
  SKIP_WITHOUT_KEYS(pool.get());
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  FillPattern(p, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  // Key pools are private memory: the child inherits a copy and the key
  // rights; its write-rare changes its copy only.
  const int status = RunInChild([&] {
    const char src[5] = {'c', 'h', 'i', 'l', 'd'};
    if (!Pool::WriteRare(AsBytes(p) + 16, src, 5).ok()) return 1;
    return std::memcmp(AsBytes(p) + 16, src, 5) == 0 ? 0 : 2;
  });
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << status;
  EXPECT_TRUE(PatternIntact(p, kSmall));
}

}  // namespace
}  // namespace sealpool
