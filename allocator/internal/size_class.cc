// sealpool — size-class tables.

#include "allocator/internal/size_class.h"

#include <array>


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

namespace {

// The invariants of size_class.h, checked by the compiler: a table that
// breaks one does not build (at run time this loop cost a third of a
// millisecond of every process's start-up).
constexpr bool SizeClassesValid() {
  for (int c = 0; c <= kZeroClass; ++c) {
    if (kClassSize[c] % 16 != 0) return false;  // class size not 16-aligned
    if (c != 0 && c != kZeroClass && kClassSize[c] <= kClassSize[c - 1]) {
      return false;  // class sizes not increasing
    }
    if (SlotCount(c) * SlackWidth(c) > kPageSize) return false;  // slack > a page
    if (SlotCount(c) > kMaxSlotsPerSpan) return false;           // too many slots
    // The quotient is monotonic in rel, so it is exact everywhere when it
    // is exact on both sides of every multiple of the class size.
    const uint64_t mul = ClassMul(c);
    const uint64_t size = kClassSize[c];
    const uint64_t bytes = SpanDataBytes(SpanGranules(c));
    for (uint64_t k = 1; size != 0 && k * size <= bytes; ++k) {
      if (((k * size * mul) >> kMulShift) != k ||
          (((k * size - 1) * mul) >> kMulShift) != k - 1) {
        return false;  // reciprocal multiply is not exact
      }
    }
  }
  return true;
}
static_assert(SizeClassesValid(), "the size-class table breaks an invariant");

}  // namespace

}  // namespace internal
}  // namespace sealpool
