// Sealed memory, as the checker and free see it: a write into a sealed span
// is refused, a read of it is not, and freeing a sealed object is a
// violation. The span is marked sealed through the test hook (page
// protection is the sealing code's business, tested with it).

#include <cstring>

#include "allocator/internal/testing.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

class SealedWriteTest : public ::testing::Test {
 protected:
  void SetUp() override { SetMode(Mode::kReport); }
  void TearDown() override { SetMode(Mode::kAbort); }
};

TEST_F(SealedWriteTest, WriteRefusedReadAllowedForSmallAndLarge) {
  ScopedPool pool(*Pool::Create(UniqueName("sealed")));
  for (size_t size : {size_t{40}, size_t{100000}}) {
    char* p = static_cast<char*>(*pool->Allocate(size));
    std::memset(p, 'a', size);
    ASSERT_TRUE(internal::SetSpanSealedForTest(p, true));
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kRead), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kWrite),
              ViolationKind::kSealedWrite);
    EXPECT_EQ(CheckCopy(p + size - 1, 1, CopyDirection::kWrite),
              ViolationKind::kSealedWrite);
    char src[16] = {};
    EXPECT_EQ(CheckedMemcpy(p, src, 1), nullptr);
    EXPECT_EQ(p[0], 'a');  // nothing written
    EXPECT_NE(CheckedMemcpy(src, p, 1), nullptr);
    // Out of bounds stays out of bounds, sealed or not.
    EXPECT_EQ(CheckCopy(p, size + 1, CopyDirection::kRead),
              ViolationKind::kOutOfBounds);
    // Freeing a sealed object is a violation, and the object stays live.
    EXPECT_FALSE(Pool::Free(p).ok());
    EXPECT_EQ(Pool::ObjectSize(p), size);
    ASSERT_TRUE(internal::SetSpanSealedForTest(p, false));
    EXPECT_EQ(CheckCopy(p, size, CopyDirection::kWrite), ViolationKind::kNone);
    EXPECT_TRUE(Pool::Free(p).ok());
  }
}

}  // namespace
}  // namespace sealpool
