// libsealpool_malloc.so's own frexp, nan and nanf (allocator/malloc/
// libm_subset.cc, linked into this test ahead of libm): frexp against
// ldexp's inverse and the range of the fraction, over normal, subnormal,
// signed, extreme and special values; nan and nanf against the encodings
// strtod and strtof give, with and without a payload.

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "gtest/gtest.h"

namespace {

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}
uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

void ExpectSplit(double x) {
  int e = 12345;
  const double r = frexp(x, &e);
  EXPECT_GE(std::fabs(r), 0.5) << x;
  EXPECT_LT(std::fabs(r), 1.0) << x;
  EXPECT_EQ(std::signbit(r), std::signbit(x)) << x;
  EXPECT_EQ(Bits(std::ldexp(r, e)), Bits(x)) << x;
}

TEST(LibmSubset, FrexpSplitsEveryKindOfFiniteValue) {
  const double d = std::numeric_limits<double>::denorm_min();
  for (double x : {1.0, -1.0, 0.5, 0.75, 3.0, 1e300, -1e-300,
                   std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::min(),
                   -std::numeric_limits<double>::min(), d, -d, 3 * d,
                   std::numeric_limits<double>::min() - d}) {
    ExpectSplit(x);
  }
  int e = 0;
  EXPECT_EQ(frexp(8.0, &e), 0.5);
  EXPECT_EQ(e, 4);
  EXPECT_EQ(frexp(d, &e), 0.5);
  EXPECT_EQ(e, -1073);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    uint64_t b = rng();
    double x;
    std::memcpy(&x, &b, sizeof x);
    if (!std::isfinite(x) || x == 0) continue;
    ExpectSplit(x);
  }
}

TEST(LibmSubset, FrexpLeavesZeroInfinityAndNanAlone) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double x : {0.0, -0.0, inf, -inf}) {
    int e = 99;
    EXPECT_EQ(Bits(frexp(x, &e)), Bits(x));
    EXPECT_EQ(e, 0);
  }
  int e = 99;
  EXPECT_TRUE(std::isnan(frexp(std::nan(""), &e)));
  EXPECT_EQ(e, 0);
}

TEST(LibmSubset, NanIsStrtodOfItsTag) {
  for (const char* tag : {"", "0", "1", "0x123", "12345", "junk"}) {
    const std::string text = std::string("NAN(") + tag + ")";
    EXPECT_EQ(Bits(nan(tag)), Bits(std::strtod(text.c_str(), nullptr))) << tag;
    EXPECT_EQ(Bits(nanf(tag)), Bits(std::strtof(text.c_str(), nullptr))) << tag;
    EXPECT_TRUE(std::isnan(nan(tag)));
  }
  // A tag too long for the buffer: a NaN without payload.
  const std::string longtag(500, '7');
  EXPECT_TRUE(std::isnan(nan(longtag.c_str())));
  EXPECT_EQ(Bits(nan(longtag.c_str())), Bits(__builtin_nan("")));
}

}  // namespace
