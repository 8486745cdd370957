// sealpool — size-class tables.

#include "allocator/internal/size_class.h"

#include <array>

#include "allocator/internal/check.h"

namespace sealpool {
namespace internal {
int ClassFor(size_t size, size_t align) {
  // Slots start at a page boundary: no class aligns them beyond a page.
  if (size > kMaxSmallSize || align > kPageSize) return -1;
  for (int c = ClassForSize(size); c < kNumClasses; ++c) {
    if (kClassSize[c] % align == 0) return c;
  }
  return -1;
}

void ValidateSizeClasses() {
  for (int c = 0; c <= kZeroClass; ++c) {
    SEALPOOL_CHECK(kClassSize[c] % 16 == 0, "class size not 16-aligned");
    SEALPOOL_CHECK(c == 0 || c == kZeroClass || kClassSize[c] > kClassSize[c - 1],
                   "class sizes not increasing");
    SEALPOOL_CHECK(SlotCount(c) * SlackWidth(c) <= kPageSize,
                   "slack array larger than a page");
    SEALPOOL_CHECK(SlotCount(c) <= kMaxSlotsPerSpan, "too many slots");
    // The quotient is monotonic in rel, so it is exact everywhere when it
    // is exact on both sides of every multiple of the class size.
    const uint64_t mul = ClassMul(c);
    const uint64_t size = kClassSize[c];
    const uint64_t bytes = SpanDataBytes(SpanGranules(c));
    for (uint64_t k = 1; k * size <= bytes; ++k) {
      SEALPOOL_CHECK(((k * size * mul) >> kMulShift) == k &&
                         (((k * size - 1) * mul) >> kMulShift) == k - 1,
                     "reciprocal multiply is not exact");
    }
  }
}

}  // namespace internal
}  // namespace sealpool
