// MovePages (allocator/internal/platform.h), the page move behind large
// reallocs, on mappings of the test's own: the pages arrive and the source
// reads empty; a source of two mappings is refused by the kernel, which
// leaves the source as it was and the destination empty; a move that does
// not grow its range aborts.

#include <sys/mman.h>

#include <cstdint>
#include <cstring>

#include "allocator/internal/platform.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace {

using sealpool::internal::kPageSize;
using sealpool::internal::MovePages;

constexpr size_t kPages = 8;

// A read-write private mapping of 4 * kPages pages, as the arena's: the
// source its first kPages, the destination from 2 * kPages on, with room
// to grow into.
class MovePagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    void* m = mmap(nullptr, 4 * kPages * kPageSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT_NE(m, MAP_FAILED);
    base_ = static_cast<unsigned char*>(m);
    src_ = base_;
    dst_ = base_ + 2 * kPages * kPageSize;
    for (size_t i = 0; i < kPages * kPageSize; ++i) {
      src_[i] = static_cast<unsigned char>(i * 7 + 1);
    }
  }
  void TearDown() override { munmap(base_, 4 * kPages * kPageSize); }
  bool SourceIntact() const {
    for (size_t i = 0; i < kPages * kPageSize; ++i) {
      if (src_[i] != static_cast<unsigned char>(i * 7 + 1)) return false;
    }
    return true;
  }

  unsigned char* base_ = nullptr;
  unsigned char* src_ = nullptr;
  unsigned char* dst_ = nullptr;
};

TEST_F(MovePagesTest, PagesArriveAndTheSourceReadsEmpty) {
  ASSERT_TRUE(MovePages(src_, kPages * kPageSize, dst_, kPages * kPageSize * 3 / 2));
  for (size_t i = 0; i < kPages * kPageSize; ++i) {
    ASSERT_EQ(dst_[i], static_cast<unsigned char>(i * 7 + 1)) << i;
  }
  // The grown part is empty, the source mapped again and empty.
  for (size_t i = kPages * kPageSize; i < kPages * kPageSize * 3 / 2; ++i) {
    ASSERT_EQ(dst_[i], 0) << i;
  }
  for (size_t i = 0; i < kPages * kPageSize; ++i) ASSERT_EQ(src_[i], 0) << i;
  src_[0] = 1;  // and writable
  EXPECT_EQ(src_[0], 1);
}

// A page in the middle of the source made read-only splits it into three
// mappings: the growing move is refused, the source keeps every byte, the
// destination is mapped again, empty and writable.
TEST_F(MovePagesTest, ASourceOfSeveralMappingsIsRefusedAndKept) {
  dst_[0] = 9;
  ASSERT_EQ(mprotect(src_ + 3 * kPageSize, kPageSize, PROT_READ), 0);
  EXPECT_FALSE(MovePages(src_, kPages * kPageSize, dst_, (kPages + 2) * kPageSize));
  EXPECT_TRUE(SourceIntact());
  EXPECT_EQ(dst_[0], 0);
  dst_[(kPages + 1) * kPageSize] = 5;
  EXPECT_EQ(dst_[(kPages + 1) * kPageSize], 5);
}

TEST(MovePagesDeathTest, AMoveThatDoesNotGrowAborts) {
  void* m = mmap(nullptr, 4 * kPageSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  auto* p = static_cast<unsigned char*>(m);
  EXPECT_DEATH(MovePages(p, kPageSize, p + 2 * kPageSize, kPageSize), "must grow its range");
  munmap(m, 4 * kPageSize);
}

}  // namespace
