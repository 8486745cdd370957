// Checked string, wide and format copies (sp_strcpy ... sp_wmemset,
// boundscheck/checked_string.h): libc's result byte for byte in bounds;
// over-reads and over-writes of pool objects refused in report mode with
// the right violation, each reported once; the n edge cases; a string
// without a NUL inside its object; null pointers; and the zeroing rule for
// a refused source (the destination range gets zeros, never stale bytes;
// a refused destination is not written at all).

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "boundscheck/checked_string.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::UniqueName;

// Report mode with a C handler that records each violation's kind and
// object, through the C API.
class CheckedStringTest : public ::testing::Test {
 protected:
  struct Seen {
    int kind;
    uintptr_t object_start;
    int dir;
  };

  static void Record(const sp_violation* v, void* arg) {
    auto* self = static_cast<CheckedStringTest*>(arg);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->seen_.push_back(Seen{v->kind, v->object_start, v->dir});
  }

  void SetUp() override {
    sp_set_mode(SP_MODE_REPORT);
    sp_set_violation_handler(&Record, this);
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("checked-string"), PoolOptions{});
    pool_ = std::move(pool);
  }
  void TearDown() override {
    sp_set_violation_handler(nullptr, nullptr);
    sp_set_mode(SP_MODE_ABORT);
    for (void* p : objects_) EXPECT_TRUE(Pool::Free(p).ok());
  }

  // A pool object of `size` bytes filled with `fill`.
  char* Object(size_t size, char fill) {
    absl::StatusOr<void*> p = pool_->Allocate(size);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    objects_.push_back(*p);
    std::memset(*p, fill, size);
    return static_cast<char*>(*p);
  }

  // A pool object holding `s` and its NUL, exactly.
  char* StringObject(const char* s) {
    const size_t n = std::strlen(s) + 1;
    char* p = Object(n, 0);
    if (p != nullptr) std::memcpy(p, s, n);
    return p;
  }

  std::vector<Seen> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Seen> out;
    out.swap(seen_);
    return out;
  }

  // Exactly one violation of `kind` was reported since the last Take().
  void ExpectOne(int kind, const void* object = nullptr, int dir = 0) {
    std::vector<Seen> v = Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, kind);
    if (object != nullptr) {
      EXPECT_EQ(v[0].object_start, Addr(object));
    }
    if (dir != 0) {
      EXPECT_EQ(v[0].dir, dir);
    }
  }
  void ExpectNone() { EXPECT_TRUE(Take().empty()); }

  sealpool_test::ScopedPool pool_;
  std::vector<void*> objects_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

bool AllAre(const char* p, size_t n, char c) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != c) return false;
  }
  return true;
}

int VsnprintfVia(char* dst, size_t n, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = sp_vsnprintf(dst, n, fmt, ap);
  va_end(ap);
  return r;
}

int VsprintfVia(char* dst, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = sp_vsprintf(dst, fmt, ap);
  va_end(ap);
  return r;
}

// strcpy, stpcpy.

TEST_F(CheckedStringTest, StrcpyInBoundsIsLibc) {
  char* src = StringObject("sessions-key");
  char* dst = Object(13, 'x');
  char want[16];
  std::memset(want, 'x', sizeof(want));
  std::strcpy(want, "sessions-key");
  EXPECT_EQ(sp_strcpy(dst, src), dst);
  EXPECT_EQ(std::memcmp(dst, want, 13), 0);
  EXPECT_EQ(sp_stpcpy(dst, src), dst + 12);
  EXPECT_EQ(sp_stpcpy(dst, ""), dst);
  EXPECT_EQ(dst[0], '\0');
  // Stack to pool and pool to stack.
  char out[32];
  std::memset(out, 'y', sizeof(out));
  EXPECT_EQ(sp_strcpy(out, src), out);
  EXPECT_STREQ(out, "sessions-key");
  EXPECT_EQ(out[13], 'y');
  ExpectNone();
}

TEST_F(CheckedStringTest, StrcpyOverWriteIsRefusedAndTheNeighbourKeepsItsBytes) {
  // No canary slack, so that the two objects touch.
  sealpool_test::ScopedOptions options_scope("canaries=0");
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("checked-string-pair"),
                         PoolOptions{});
  void* lower = nullptr;
  void* upper = nullptr;
  std::vector<void*> all;
  ASSERT_TRUE(sealpool_test::AllocateAdjacentPair(pool.get(), 16, &lower,
                                                  &upper, &all))
      << "no two adjacent objects";
  std::memset(lower, 'L', 16);
  std::memset(upper, 'U', 16);
  const char* attack = "0123456789abcdef";  // 16 chars + NUL: one too many
  EXPECT_EQ(sp_strcpy(AsBytes(lower), attack), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, lower, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(AsBytes(lower), 16, 'L'));
  EXPECT_TRUE(AllAre(AsBytes(upper), 16, 'U'));
  EXPECT_EQ(sp_stpcpy(AsBytes(lower) + 8, "01234567"), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, lower, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(AsBytes(upper), 16, 'U'));
  // The in-bounds neighbour: 15 chars + NUL fit.
  EXPECT_EQ(sp_strcpy(AsBytes(lower), "0123456789abcde"), lower);
  EXPECT_STREQ(AsBytes(lower), "0123456789abcde");
  EXPECT_TRUE(AllAre(AsBytes(upper), 16, 'U'));
  ExpectNone();
  for (void* p : all) EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(CheckedStringTest, StrcpySourceWithoutNulInItsObjectIsAnOverRead) {
  char* src = Object(16, 'S');  // no NUL anywhere in the object
  char dst[64];
  std::memset(dst, 0x5a, sizeof(dst));
  EXPECT_EQ(sp_strcpy(dst, src), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  // The destination range (the 16 bytes and the first byte past the
  // object) holds zeros, not the object's bytes or what lies beyond.
  EXPECT_TRUE(AllAre(dst, 17, '\0'));
  EXPECT_TRUE(AllAre(dst + 17, sizeof(dst) - 17, 0x5a));
  EXPECT_EQ(sp_stpcpy(dst, src + 8), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  // A NUL in the last byte is in bounds.
  src[15] = '\0';
  EXPECT_EQ(sp_strcpy(dst, src), dst);
  EXPECT_EQ(std::string(dst), std::string(15, 'S'));
  ExpectNone();
}

TEST_F(CheckedStringTest, RefusedSourceIntoATooSmallDestinationWritesNothing) {
  char* src = Object(32, 'S');  // no NUL
  char* dst = Object(8, 'D');
  EXPECT_EQ(sp_strcpy(dst, src), nullptr);
  EXPECT_EQ(sp_memcpy(dst, src, 40), nullptr);
  // Each refusal reported once, for the source.
  std::vector<Seen> v = Take();
  ASSERT_EQ(v.size(), 2u);
  for (const Seen& s : v) {
    EXPECT_EQ(s.kind, SP_VIOLATION_OUT_OF_BOUNDS);
    EXPECT_EQ(s.object_start, Addr(src));
    EXPECT_EQ(s.dir, SP_COPY_READ);
  }
  EXPECT_TRUE(AllAre(dst, 8, 'D'));
}

TEST_F(CheckedStringTest, FreedSourceAndNullPointers) {
  char* freed = StringObject("gone");
  ASSERT_TRUE(Pool::Free(freed).ok());
  objects_.pop_back();
  char dst[8];
  std::memset(dst, 'd', sizeof(dst));
  EXPECT_EQ(sp_strcpy(dst, freed), nullptr);
  ExpectOne(SP_VIOLATION_USE_AFTER_FREE);
  EXPECT_EQ(dst[0], '\0');  // an empty string, not the freed bytes
  EXPECT_TRUE(AllAre(dst + 1, 7, 'd'));

  std::memset(dst, 'd', sizeof(dst));
  EXPECT_EQ(sp_strcpy(dst, nullptr), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(dst[0], '\0');
  EXPECT_EQ(sp_strcpy(nullptr, "abc"), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(sp_strncpy(nullptr, "abc", 4), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(sp_strcat(nullptr, "abc"), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(sp_strncat(dst, nullptr, 3), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_LT(sp_snprintf(nullptr, 8, "%d", 1), 0);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(sp_sprintf(dst, nullptr), -SP_VIOLATION_BOGUS_POINTER);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(sp_wmemcpy(nullptr, L"ab", 2), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  // n == 0: nothing read or written, so nothing to refuse.
  EXPECT_EQ(sp_strncpy(dst, nullptr, 0), dst);
  EXPECT_EQ(sp_snprintf(nullptr, 0, "%d", 12345), 5);
  EXPECT_EQ(sp_memcpy(nullptr, nullptr, 0), nullptr);
  ExpectNone();
}

// strncpy, stpncpy.

TEST_F(CheckedStringTest, StrncpyEdgeCasesAreLibc) {
  char* src = StringObject("abcdef");  // 7 bytes
  const size_t ns[] = {0, 1, 5, 6, 7, 8, 12};
  for (size_t n : ns) {
    char* dst = Object(12, 'x');
    char want[12];
    std::memset(want, 'x', sizeof(want));
    std::strncpy(want, src, n);
    EXPECT_EQ(sp_strncpy(dst, src, n), dst) << n;
    EXPECT_EQ(std::memcmp(dst, want, sizeof(want)), 0) << n;
    std::memset(dst, 'x', 12);
    std::memset(want, 'x', sizeof(want));
    char* want_end = stpncpy(want, src, n);
    EXPECT_EQ(sp_stpncpy(dst, src, n), dst + (want_end - want)) << n;
    EXPECT_EQ(std::memcmp(dst, want, sizeof(want)), 0) << n;
  }
  ExpectNone();
}

TEST_F(CheckedStringTest, StrncpyReadsAtMostNAndWritesExactlyN) {
  char* src = Object(8, 'S');  // no NUL
  char out[16];
  std::memset(out, 'o', sizeof(out));
  // n within the object: 8 bytes read, none past it.
  EXPECT_EQ(sp_strncpy(out, src, 8), out);
  EXPECT_TRUE(AllAre(out, 8, 'S'));
  EXPECT_EQ(out[8], 'o');
  ExpectNone();
  // n past the object, no NUL before its end: an over-read; the n
  // destination bytes are zeroed.
  std::memset(out, 'o', sizeof(out));
  EXPECT_EQ(sp_strncpy(out, src, 12), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  EXPECT_TRUE(AllAre(out, 12, '\0'));
  EXPECT_TRUE(AllAre(out + 12, 4, 'o'));
  // A short string, but n larger than the destination object: strncpy
  // pads to n, so the write is out of bounds.
  char* small = Object(4, 'D');
  EXPECT_EQ(sp_strncpy(small, "ab", 5), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, small, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(small, 4, 'D'));
  EXPECT_EQ(sp_strncpy(small, "ab", 4), small);
  EXPECT_EQ(std::memcmp(small, "ab\0\0", 4), 0);
  ExpectNone();
}

// strcat, strncat.

TEST_F(CheckedStringTest, StrcatInBoundsAndOneByteOver) {
  char* dst = Object(8, 'x');
  std::memcpy(dst, "abc", 4);
  char* src = StringObject("defg");
  EXPECT_EQ(sp_strcat(dst, src), dst);  // "abcdefg" + NUL: exactly 8
  EXPECT_EQ(std::memcmp(dst, "abcdefg", 8), 0);
  ExpectNone();
  dst[6] = '\0';  // "abcdef"
  EXPECT_EQ(sp_strcat(dst, "gh"), nullptr);  // the NUL would be byte 9
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_EQ(std::memcmp(dst, "abcdef\0", 8), 0);
}

TEST_F(CheckedStringTest, StrcatDestinationWithoutNulIsRefused) {
  char* dst = Object(8, 'D');  // no NUL: strcat would start past its end
  EXPECT_EQ(sp_strcat(dst, "x"), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(dst, 8, 'D'));
  EXPECT_EQ(sp_strncat(dst, "x", 1), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(dst, 8, 'D'));
}

TEST_F(CheckedStringTest, StrcatSourceOverReadZeroesFromTheNul) {
  char* src = Object(6, 'S');  // no NUL
  char dst[32];
  std::memset(dst, 'o', sizeof(dst));
  std::memcpy(dst, "ab", 3);
  EXPECT_EQ(sp_strcat(dst, src), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  EXPECT_STREQ(dst, "ab");
  EXPECT_TRUE(AllAre(dst + 2, 7, '\0'));  // the 6 bytes and one past
  EXPECT_TRUE(AllAre(dst + 9, sizeof(dst) - 9, 'o'));
}

TEST_F(CheckedStringTest, StrncatEdgeCasesAreLibc) {
  char* src = Object(5, 'S');  // "SSSSS", no NUL
  const size_t ns[] = {0, 1, 4, 5};
  for (size_t n : ns) {
    char* dst = Object(12, 'x');
    std::memcpy(dst, "ab", 3);
    char want[12];
    std::memset(want, 'x', sizeof(want));
    std::memcpy(want, "ab", 3);
    std::strncat(want, src, n);
    EXPECT_EQ(sp_strncat(dst, src, n), dst) << n;
    EXPECT_EQ(std::memcmp(dst, want, sizeof(want)), 0) << n;
  }
  ExpectNone();
  // n past the object without a NUL: an over-read.
  char dst[16] = "ab";
  EXPECT_EQ(sp_strncat(dst, src, 6), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  EXPECT_STREQ(dst, "ab");
  // A NUL-terminated source with a large n reads only to its NUL.
  char* str = StringObject("cd");
  EXPECT_EQ(sp_strncat(dst, str, 1000), dst);
  EXPECT_STREQ(dst, "abcd");
  // strncat writes n chars + NUL: one more than the object holds.
  char* small = Object(4, 0);
  std::memcpy(small, "a", 2);
  EXPECT_EQ(sp_strncat(small, "bcd", 3), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, small, SP_COPY_WRITE);
  EXPECT_EQ(std::memcmp(small, "a\0\0\0", 4), 0);
  EXPECT_EQ(sp_strncat(small, "bcd", 2), small);
  EXPECT_STREQ(small, "abc");
  ExpectNone();
}

TEST_F(CheckedStringTest, SealedDestinationIsASealedWrite) {
  char* dst = Object(16, 0);
  ASSERT_TRUE(pool_->Seal().ok());
  EXPECT_EQ(sp_strcpy(dst, "x"), nullptr);
  ExpectOne(SP_VIOLATION_SEALED_WRITE, dst, SP_COPY_WRITE);
  EXPECT_LT(sp_snprintf(dst, 16, "%d", 7), 0);
  ExpectOne(SP_VIOLATION_SEALED_WRITE, dst, SP_COPY_WRITE);
  // Reading sealed memory is fine.
  char out[16];
  EXPECT_EQ(sp_strcpy(out, dst), out);
  EXPECT_STREQ(out, "");
  ExpectNone();
  objects_.clear();  // sealed objects cannot be freed; the pool goes
}

// sprintf family.

TEST_F(CheckedStringTest, SprintfIntoAPoolObjectIsBoundedByItsEnd) {
  char* dst = Object(8, 'x');
  EXPECT_EQ(sp_sprintf(dst, "%s-%d", "ab", 1234), 7);  // 7 + NUL == 8
  EXPECT_EQ(std::memcmp(dst, "ab-1234", 8), 0);
  EXPECT_EQ(VsprintfVia(dst, "%d", 42), 2);
  EXPECT_STREQ(dst, "42");
  ExpectNone();
  std::memset(dst, 'x', 8);
  EXPECT_EQ(sp_sprintf(dst, "%s-%d", "ab", 12345), -SP_VIOLATION_OUT_OF_BOUNDS);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(dst, 8, 'x'));  // nothing written, not even a prefix
  EXPECT_EQ(VsprintfVia(dst, "%s", "123456789"), -SP_VIOLATION_OUT_OF_BOUNDS);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(dst, 8, 'x'));
}

TEST_F(CheckedStringTest, SnprintfChecksWhatItWouldWrite) {
  char* dst = Object(8, 'x');
  char want[8];
  // n larger than the object, output that fits: min(n, len + 1) bytes.
  EXPECT_EQ(sp_snprintf(dst, 100, "%s", "hi"), 2);
  EXPECT_EQ(std::memcmp(dst, "hi\0xxxxx", 8), 0);
  // n == the object's size, output longer: truncated inside the object,
  // the full length returned, as libc.
  std::memset(dst, 'x', 8);
  std::memset(want, 'x', 8);
  const char* ten = StringObject("0123456789");
  EXPECT_EQ(sp_snprintf(dst, 8, "%s", ten), std::snprintf(want, 8, "%s", ten));
  EXPECT_EQ(std::memcmp(dst, want, 8), 0);
  EXPECT_EQ(VsnprintfVia(dst, 3, "%d", 98765), 5);
  EXPECT_STREQ(dst, "98");
  // n == 1: only the NUL.
  EXPECT_EQ(sp_snprintf(dst, 1, "%d", 5), 1);
  EXPECT_EQ(dst[0], '\0');
  // n == 0: nothing written, the length returned.
  dst[0] = 'q';
  EXPECT_EQ(sp_snprintf(dst, 0, "%d", 123), 3);
  EXPECT_EQ(dst[0], 'q');
  ExpectNone();
  // n past the object and an output that does not fit: refused.
  std::memset(dst, 'x', 8);
  EXPECT_EQ(sp_snprintf(dst, 9, "%s", "012345678"), -SP_VIOLATION_OUT_OF_BOUNDS);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(dst, 8, 'x'));
  EXPECT_EQ(VsnprintfVia(dst, 64, "%0*d", 20, 1), -SP_VIOLATION_OUT_OF_BOUNDS);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_TRUE(AllAre(dst, 8, 'x'));
}

TEST_F(CheckedStringTest, FormatWithoutNulInItsObjectIsRefused) {
  char* fmt = Object(8, '%');  // "%%%%%%%%" with no NUL
  char dst[16];
  std::memset(dst, 'o', sizeof(dst));
  // (Through the va_list entry points: the format is not a literal.)
  EXPECT_EQ(VsnprintfVia(dst, sizeof(dst), fmt), -SP_VIOLATION_OUT_OF_BOUNDS);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, fmt, SP_COPY_READ);
  EXPECT_EQ(dst[0], '\0');  // an empty string
  EXPECT_TRUE(AllAre(dst + 1, sizeof(dst) - 1, 'o'));
  EXPECT_EQ(VsprintfVia(dst, fmt), -SP_VIOLATION_OUT_OF_BOUNDS);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, fmt, SP_COPY_READ);
  fmt[6] = '\0';
  EXPECT_EQ(VsnprintfVia(dst, sizeof(dst), fmt), 3);  // "%%%%%%" -> "%%%"
  EXPECT_STREQ(dst, "%%%");
  ExpectNone();
}

// mempcpy, wmem*.

TEST_F(CheckedStringTest, MempcpyReturnsTheEnd) {
  char* dst = Object(8, 'x');
  EXPECT_EQ(sp_mempcpy(dst, "abcdefgh", 8), dst + 8);
  EXPECT_EQ(std::memcmp(dst, "abcdefgh", 8), 0);
  EXPECT_EQ(sp_mempcpy(dst, "abcdefgh", 0), dst);
  ExpectNone();
  EXPECT_EQ(sp_mempcpy(dst + 1, "abcdefgh", 8), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
}

TEST_F(CheckedStringTest, WideCopiesCountCharactersNotBytes) {
  auto* dst = reinterpret_cast<wchar_t*>(Object(4 * sizeof(wchar_t), 0));
  auto* src = reinterpret_cast<wchar_t*>(Object(4 * sizeof(wchar_t), 0));
  const wchar_t text[4] = {L'a', L'b', L'c', L'd'};
  std::wmemcpy(src, text, 4);
  EXPECT_EQ(sp_wmemcpy(dst, src, 4), dst);
  EXPECT_EQ(std::wmemcmp(dst, text, 4), 0);
  EXPECT_EQ(sp_wmemmove(dst + 1, dst, 3), dst + 1);
  EXPECT_EQ(std::wmemcmp(dst, L"aabc", 4), 0);
  EXPECT_EQ(sp_wmemset(dst, L'z', 4), dst);
  EXPECT_EQ(std::wmemcmp(dst, L"zzzz", 4), 0);
  ExpectNone();
  EXPECT_EQ(sp_wmemset(dst, L'q', 5), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_EQ(std::wmemcmp(dst, L"zzzz", 4), 0);
  EXPECT_EQ(sp_wmemcpy(dst + 1, src, 4), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, dst, SP_COPY_WRITE);
  EXPECT_EQ(std::wmemcmp(dst, L"zzzz", 4), 0);
  // Over-read: the destination range gets zeros.
  wchar_t out[8];
  std::wmemset(out, L'o', 8);
  EXPECT_EQ(sp_wmemmove(out, src, 5), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i], L'\0') << i;
  for (int i = 5; i < 8; ++i) EXPECT_EQ(out[i], L'o') << i;
  // A count whose byte size wraps is a bogus range, never a huge copy.
  EXPECT_EQ(sp_wmemset(out, L'x', SIZE_MAX / 2), nullptr);
  ExpectOne(SP_VIOLATION_BOGUS_POINTER);
  EXPECT_EQ(out[5], L'o');
}

// The zeroing rule on memcpy, and the quiet check behind it.

TEST_F(CheckedStringTest, RefusedMemcpyOverReadDestinationReadsBackZeros) {
  char* secret = Object(24, 'K');
  char* src = Object(16, 'S');
  char* dst = Object(32, 0x5a);
  EXPECT_EQ(sp_memcpy(dst, src, 32), nullptr);
  ExpectOne(SP_VIOLATION_OUT_OF_BOUNDS, src, SP_COPY_READ);
  EXPECT_TRUE(AllAre(dst, 32, '\0'));  // not 'S', not the neighbour's 'K'
  EXPECT_TRUE(AllAre(secret, 24, 'K'));
}

TEST_F(CheckedStringTest, CopyAllowedNeverReports) {
  char* p = Object(8, 0);
  const uint64_t before = sp_violation_count();
  EXPECT_TRUE(CopyAllowed(p, 8, CopyDirection::kWrite));
  EXPECT_FALSE(CopyAllowed(p, 9, CopyDirection::kRead));
  EXPECT_FALSE(CopyAllowed(nullptr, 1, CopyDirection::kRead));
  EXPECT_FALSE(CopyAllowed("literal", 1, CopyDirection::kWrite));
  EXPECT_EQ(sp_violation_count(), before);
  ExpectNone();
}

}  // namespace
}  // namespace sealpool
