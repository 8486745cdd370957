// The compiler-known size (sealpool.h, the _sized calls; check_copy.h,
// CheckCopySized): a range longer than the size the caller passes is
// refused as object-size wherever it is — the stack, a global, a member of
// a pool object — naming where; SP_SIZE_UNKNOWN makes each call its plain
// twin; a destination refused for its size is never written or zeroed,
// and the source is judged first.

#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::ReportModeTest;

constexpr int kObjectSize = -static_cast<int>(ViolationKind::kObjectSize);

char g_global[16];

struct Record {
  char name[8];
  int id;
};

class ObjectSizeTest : public ReportModeTest {
 protected:
  void SetUp() override {
    ReportModeTest::SetUp();
    pool_ = sp_pool_create(sealpool_test::UniqueName("objsize").c_str(), nullptr);
    ASSERT_NE(pool_, nullptr);
  }
  void TearDown() override {
    if (pool_ != nullptr) {
      EXPECT_EQ(sp_pool_destroy(pool_), 0);
    }
    ReportModeTest::TearDown();
  }
  sp_pool* pool_ = nullptr;
};

int VsnprintfSized(char* dst, size_t n, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = sp_vsnprintf_sized(dst, n, size, fmt, ap);
  va_end(ap);
  return r;
}

int VsprintfSized(char* dst, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = sp_vsprintf_sized(dst, size, fmt, ap);
  va_end(ap);
  return r;
}

TEST_F(ObjectSizeTest, CheckRefusesPastTheKnownSizeOnStackGlobalsAndPools) {
  char local[16] = {};
  EXPECT_EQ(sp_check_copy_sized(local, 16, SP_COPY_WRITE, 16), 0);
  EXPECT_EQ(sp_check_copy_sized(local, 17, SP_COPY_WRITE, 16), kObjectSize);
  EXPECT_EQ(sp_check_copy_sized(g_global, 16, SP_COPY_READ, 16), 0);
  EXPECT_EQ(sp_check_copy_sized(g_global, 17, SP_COPY_READ, 16), kObjectSize);
  // A member of a pool object: the member's size, inside the object's.
  auto* rec = static_cast<Record*>(sp_alloc(pool_, sizeof(Record)));
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(sp_check_copy_sized(rec->name, 8, SP_COPY_WRITE, sizeof(rec->name)), 0);
  EXPECT_EQ(sp_check_copy_sized(rec->name, 9, SP_COPY_WRITE, sizeof(rec->name)),
            kObjectSize);
  // Unknown: the plain rules (the object's own bound still holds).
  EXPECT_EQ(sp_check_copy_sized(rec->name, sizeof(Record), SP_COPY_WRITE,
                                SP_SIZE_UNKNOWN),
            0);
  EXPECT_EQ(sp_check_copy_sized(rec->name, sizeof(Record) + 1, SP_COPY_WRITE,
                                SP_SIZE_UNKNOWN),
            -static_cast<int>(ViolationKind::kOutOfBounds));
  EXPECT_EQ(sp_check_copy_sized(local, 1, static_cast<sp_copy_dir>(7), 16), -EINVAL);

  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].kind, ViolationKind::kObjectSize);
  EXPECT_EQ(v[0].addr, reinterpret_cast<uintptr_t>(local));
  EXPECT_EQ(v[0].object_size, 16u);
  EXPECT_FALSE(v[0].has_pool_name);
  EXPECT_EQ(v[2].kind, ViolationKind::kObjectSize);
  EXPECT_TRUE(v[2].has_pool_name);
  EXPECT_EQ(v[2].object_size, 8u);
  EXPECT_EQ(v[3].kind, ViolationKind::kOutOfBounds);
  EXPECT_EQ(sp_free(rec), 0);
}

TEST_F(ObjectSizeTest, SizedCopiesWriteNothingPastTheKnownSize) {
  const char src[] = "0123456789abcdefghij";
  char dst[16];
  std::memset(dst, 'd', sizeof(dst));
  EXPECT_EQ(sp_memcpy_sized(dst, src, 8, 8), dst);
  EXPECT_EQ(std::memcmp(dst, src, 8), 0);
  EXPECT_EQ(sp_memcpy_sized(dst + 8, src, 9, 8), nullptr);
  EXPECT_EQ(sp_memmove_sized(dst + 8, src, 9, 8), nullptr);
  EXPECT_EQ(sp_memset_sized(dst + 8, 'x', 9, 8), nullptr);
  EXPECT_EQ(sp_mempcpy_sized(dst + 8, src, 9, 8), nullptr);
  EXPECT_EQ(sp_mempcpy_sized(dst + 8, src, 8, 8), dst + 16);
  EXPECT_EQ(std::memcmp(dst + 8, src, 8), 0);
  std::memset(dst, 'd', sizeof(dst));
  EXPECT_EQ(sp_strcpy_sized(dst, "1234567", 8), dst);
  EXPECT_EQ(sp_strcpy_sized(dst, "12345678", 8), nullptr);
  EXPECT_EQ(sp_stpcpy_sized(dst, "12345678", 8), nullptr);
  EXPECT_EQ(sp_stpcpy_sized(dst, "123", 8), dst + 3);
  EXPECT_EQ(sp_strncpy_sized(dst, "12", 9, 8), nullptr);
  EXPECT_EQ(sp_stpncpy_sized(dst, "12", 9, 8), nullptr);
  EXPECT_EQ(sp_strncpy_sized(dst, "12", 8, 8), dst);
  EXPECT_EQ(sp_strcpy_sized(dst, "1234", 8), dst);
  EXPECT_EQ(sp_strcat_sized(dst, "567", 8), dst);
  EXPECT_EQ(sp_strcat_sized(dst, "8", 8), nullptr);
  EXPECT_EQ(sp_strncat_sized(dst, "89", 1, 8), nullptr);
  EXPECT_STREQ(dst, "1234567");
  EXPECT_EQ(VsprintfSized(dst, 8, "%d", 1234567), 7);
  EXPECT_EQ(VsprintfSized(dst, 8, "%d", 12345678), kObjectSize);
  EXPECT_STREQ(dst, "1234567");
  // vsnprintf: n past the size is refused whatever the output, as glibc's.
  EXPECT_EQ(VsnprintfSized(dst, 8, 8, "%s", "truncated here"), 14);
  EXPECT_STREQ(dst, "truncat");
  EXPECT_EQ(VsnprintfSized(dst, 9, 8, "%s", "x"), kObjectSize);
  EXPECT_STREQ(dst, "truncat");
  for (size_t i = 8; i < sizeof(dst); ++i) EXPECT_EQ(dst[i], 'd') << i;
  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  EXPECT_EQ(v.size(), 12u);
  for (const auto& r : v) EXPECT_EQ(r.kind, ViolationKind::kObjectSize);
}

// SP_SIZE_UNKNOWN: exactly the plain calls — also their refusals and their
// zeroing of a destination whose source was refused.
TEST_F(ObjectSizeTest, UnknownSizeIsThePlainCall) {
  char* obj = static_cast<char*>(sp_alloc(pool_, 16));
  ASSERT_NE(obj, nullptr);
  std::memset(obj, 'o', 16);
  char out[32];
  std::memset(out, 'x', sizeof(out));
  EXPECT_EQ(sp_memcpy_sized(out, obj, 16, SP_SIZE_UNKNOWN), out);
  EXPECT_EQ(sp_memcpy_sized(out, obj, 17, SP_SIZE_UNKNOWN), nullptr);
  for (size_t i = 0; i < 17; ++i) EXPECT_EQ(out[i], '\0') << i;  // zeroed
  EXPECT_EQ(sp_strcpy_sized(obj, "0123456789abcdef", SP_SIZE_UNKNOWN), nullptr);
  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, ViolationKind::kOutOfBounds);
  EXPECT_EQ(v[1].kind, ViolationKind::kOutOfBounds);
  EXPECT_EQ(sp_free(obj), 0);
}

// Both ends bad: the source is reported (as by the plain call), and the
// destination, too small for the copy, is not zeroed.
TEST_F(ObjectSizeTest, RefusedSourceComesFirstAndASmallDestinationStaysUntouched) {
  char* obj = static_cast<char*>(sp_alloc(pool_, 16));
  ASSERT_NE(obj, nullptr);
  std::memset(obj, 'o', 16);
  char out[32];
  std::memset(out, 'x', sizeof(out));
  EXPECT_EQ(sp_memcpy_sized(out, obj, 20, 8), nullptr);
  EXPECT_EQ(sp_strcpy_sized(out, obj, 8), nullptr);  // obj has no NUL
  for (char c : out) EXPECT_EQ(c, 'x');
  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, ViolationKind::kOutOfBounds);
  EXPECT_TRUE(v[0].has_pool_name);
  EXPECT_EQ(v[1].kind, ViolationKind::kOutOfBounds);
  EXPECT_EQ(sp_free(obj), 0);
}

TEST(ObjectSizeDeathTest, ReportNamesWhereTheObjectIs) {
  char local[8] = {};
  EXPECT_DEATH(sp_memset_sized(local, 0, 9, 8),
               "sealpool: memory overwrite attempt detected to process stack "
               "\\(address 0x[0-9a-f]+, size 9, known object size 8\\)!");
  EXPECT_DEATH(sp_memset_sized(g_global, 0, 17, 16),
               "sealpool: memory overwrite attempt detected to program data "
               "\\(address 0x[0-9a-f]+, size 17, known object size 16\\)!");
  EXPECT_DEATH(sp_check_copy_sized(g_global, 17, SP_COPY_READ, 16),
               "sealpool: memory exposure attempt detected from program data");
}

}  // namespace
}  // namespace sealpool
