// sealpool — size classes and span geometry.
//
// Small objects (up to kMaxSmallSize bytes) live in spans of one size
// class. Classes step by 16 bytes up to 128, then by four per doubling, so
// a slot wastes at most 20% (and at most 15 bytes below 128). Objects
// larger than kMaxSmallSize get a span of their own.
//
// A span is a whole number of 64 KiB granules: [guard page][data][guard
// page]. For small spans the slot count is capped so that the per-slot slack
// array fits in one page: 4096 one-byte entries for classes below 256
// bytes ("narrow"), 2048 two-byte entries above ("wide").
//
// Invariants (checked at compile time in size_class.cc):
//   kClassSize[c] % 16 == 0, kClassSize strictly increasing;
//   SlotCount(c) * SlackWidth(c) <= kPageSize;
//   for every rel < SpanDataBytes(c):
//     (rel * ClassMul(c)) >> kMulShift == rel / kClassSize[c].

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_SIZE_CLASS_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_SIZE_CLASS_H_

#include <cstddef>
#include <cstdint>

#include "allocator/internal/platform.h"

namespace sealpool {
namespace internal {

inline constexpr size_t kGranuleShift = 16;
inline constexpr size_t kGranuleSize = size_t{1} << kGranuleShift;
inline constexpr size_t kPagesPerGranule = kGranuleSize / kPageSize;

inline constexpr size_t kMaxSmallSize = 32768;
inline constexpr int kNumClasses = 40;
// The zero-size class: zero-size objects, one per 32 bytes of address space
// in spans whose data pages are all guard pages, so any access faults. Its
// index follows the real classes; it is never a thread-cache class.
inline constexpr int kZeroClass = kNumClasses;
inline constexpr uint32_t kClassSize[kNumClasses + 1] = {
    16,   32,   48,   64,   80,    96,    112,   128,   160,
    192,  224,  256,  320,  384,   448,   512,   640,   768,
    896,  1024, 1280, 1536, 1792,  2048,  2560,  3072,  3584,
    4096, 5120, 6144, 7168, 8192,  10240, 12288, 14336, 16384,
    20480, 24576, 28672, 32768,
    32 /* kZeroClass */};

// Classes below this size use one-byte slack entries.
inline constexpr uint32_t kWideClassMin = 256;

// Slot index = (offset * ClassMul) >> kMulShift, exact for every offset in a
// span because offset * class size < 2^32; ClassMul fits in 29 bits.
inline constexpr int kMulShift = 32;

// Slack-array sentinels: a slot whose entry is kCached sits in a thread
// cache; kFree is free in its span. Values below kCached are live objects
// and give the slot bytes after the requested size.
inline constexpr uint32_t kNarrowCached = 0xFE, kNarrowFree = 0xFF;
inline constexpr uint32_t kWideCached = 0xFFFE, kWideFree = 0xFFFF;

// Largest slot count of any span (for a constant bound on lookups).
inline constexpr uint32_t kMaxSlotsPerSpan = 4096;

struct ClassTable {
  uint8_t of16[kMaxSmallSize / 16 + 1];  // class of size 16*i
};
constexpr ClassTable MakeClassTable() {
  ClassTable t{};
  int c = 0;
  for (size_t i = 0; i <= kMaxSmallSize / 16; ++i) {
    while (kClassSize[c] < i * 16) ++c;
    t.of16[i] = static_cast<uint8_t>(c);
  }
  return t;
}
inline constexpr ClassTable kClassTable = MakeClassTable();

// Class index for an object of `size` <= kMaxSmallSize bytes with 16-byte
// alignment. Hot path: one table load.
inline int ClassForSize(size_t size) {
  return kClassTable.of16[(size + 15) >> 4];
}

// The class for a request of `size` bytes (1 <= size, size + room <=
// kMaxSmallSize) where the slot must keep `room` (0 or 1) bytes after the
// object for a canary: the smallest class of at least size + room bytes.
// Hot path: one table load.
inline int ClassForRequest(size_t size, size_t room) {
  return kClassTable.of16[(size + room + 15) >> 4];
}

// Smallest class >= size whose slots are `align`-aligned; -1 if none
// (always for an alignment above a page).
int ClassFor(size_t size, size_t align);

// First class with two-byte slack entries (the class of kWideClassMin).
inline constexpr int kFirstWideClass = 11;
static_assert(kClassSize[kFirstWideClass] == kWideClassMin &&
                  kClassSize[kFirstWideClass - 1] < kWideClassMin,
              "kFirstWideClass must be the class of kWideClassMin");
inline constexpr bool IsWide(int c) { return c >= kFirstWideClass; }
inline constexpr size_t SlackWidth(int c) { return IsWide(c) ? 2 : 1; }

inline constexpr size_t SpanDataBytes(size_t granules) {
  return granules * kGranuleSize - 2 * kPageSize;
}
// Granules of a span of class c: enough for up to 4096 slots, at most 4
// (one for the zero-size class), and few enough that every offset in the
// span times the class size stays below 2^32, which keeps the reciprocal
// multiply exact (the classes above 16 KiB get 2 or 3).
inline constexpr size_t SpanGranules(int c) {
  if (c == kZeroClass) return 1;  // 1792 slots: a wide slack array fits
  size_t g = (size_t{4096} * kClassSize[c] + 2 * kPageSize) / kGranuleSize;
  g = g < 1 ? 1 : (g > 4 ? 4 : g);
  while (g > 1 && SpanDataBytes(g) * kClassSize[c] >= (uint64_t{1} << kMulShift)) --g;
  return g;
}
inline constexpr uint32_t SlotCount(int c) {
  return static_cast<uint32_t>(SpanDataBytes(SpanGranules(c)) / kClassSize[c]);
}
inline constexpr uint64_t ClassMul(int c) {
  return ((uint64_t{1} << kMulShift) / kClassSize[c]) + 1;
}

// How many free slots of class c a thread cache keeps (its stack, at most
// kCacheCap) and holds back (its quarantine ring, at most the quarantine
// option): about 16 KiB of slots each, within [2, 128] and [2, 64] slots.
// Every slot they hold is resident (zeroed when freed): a thread that frees
// large slots of many classes and pools would otherwise keep megabytes of
// them dirty. A cap of 2 keeps refills at one slot at least (half the cap).
inline constexpr uint32_t ClassCacheCap(int c) {
  const uint32_t n = 16384 / kClassSize[c];
  return n < 2 ? 2 : (n > 128 ? 128 : n);
}
inline constexpr uint32_t ClassQuarantineCap(int c) {
  const uint32_t n = 16384 / kClassSize[c];
  return n < 2 ? 2 : (n > 64 ? 64 : n);
}

// Per-class constants in one table, so that the lookup's second load hits
// a few hot cache lines instead of the span record.
struct ClassInfo {
  uint64_t mul;
  uint32_t size;
  uint16_t slots;
  uint8_t cache_cap;       // ClassCacheCap
  uint8_t quarantine_cap;  // ClassQuarantineCap
};
static_assert(sizeof(ClassInfo) == 16, "ClassInfo stays a quarter line");
// One entry per value of a page-table entry's 6-bit class field: the real
// classes, kZeroClass, then zeros (no slots), so that a lookup indexes it
// with the field as it is, without a bounds check.
inline constexpr int kClassFieldValues = 64;
struct ClassInfoTable {
  ClassInfo c[kClassFieldValues];
};
constexpr ClassInfoTable MakeClassInfo() {
  ClassInfoTable t{};
  for (int c = 0; c <= kZeroClass; ++c) {
    t.c[c] = ClassInfo{ClassMul(c), kClassSize[c], static_cast<uint16_t>(SlotCount(c)),
                       static_cast<uint8_t>(ClassCacheCap(c)),
                       static_cast<uint8_t>(ClassQuarantineCap(c))};
  }
  return t;
}
// Not `inline`: internal linkage keeps the table's address a constant even
// in position-independent code (no GOT load on the lookup path).
constexpr ClassInfoTable kClassInfo = MakeClassInfo();

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_SIZE_CLASS_H_
