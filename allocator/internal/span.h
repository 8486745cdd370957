// sealpool — span records: the out-of-line metadata of one span.
//
// One 64-byte SpanRecord exists per arena granule, in the metadata zone; the
// record at a span's first granule describes the span. Records are never
// unmapped, so a lock-free reader holding a stale granule index reads a
// stale or zeroed record, never a fault.
//
// Invariants (for a record in use, kind != kNone):
//   canary == SpanCanary(this)          (checked on every slow-path use and
//                                        on every free)
//   small: base == span start + kPageSize, slot i is
//          [base + i*slot_size, base + (i+1)*slot_size), i < nslots,
//          slack entry i (in the span's slack page) is the slot's state;
//          free_count == number of slack entries equal to kFree;
//          the span is on its pool's partial list iff free_count > 0 and
//          it is not sealed.
//   large: [base, base + mul) is the object; base + mul rounded up to the
//          alignment is the start of the trailing guard page;
//          live says whether it is allocated.
//   prev/next: granule index + 1 of list neighbours (0 = none), and
//          next->prev == this, prev->next == this (checked on unlink).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_SPAN_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_SPAN_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace internal {

enum class SpanKind : uint8_t { kNone = 0, kSmall = 1, kLarge = 2 };

struct alignas(64) SpanRecord {
  std::atomic<uint64_t> canary;
  std::atomic<uintptr_t> base;
  std::atomic<uint64_t> mul;          // small: reciprocal of slot_size;
                                      // large: the object's exact size
  std::atomic<uint32_t> slot_size;    // small: class size; large: 0
  std::atomic<uint32_t> nslots;       // small: slot count; large: 1
  std::atomic<uint32_t> pool_id;
  std::atomic<uint8_t> kind;          // SpanKind
  std::atomic<uint8_t> wide;          // slack entries are uint16_t
  std::atomic<uint8_t> sealed;
  std::atomic<uint8_t> live;          // large: object allocated
  uint8_t class_idx;
  uint8_t granules;                   // small spans only (<= 4)
  // Guarded by the owning pool's mutex:
  uint8_t purged;                     // small: data pages given back while empty
  uint8_t moved_in;                   // large: holds pages moved in by
                                      // MoveLarge (its range is then a
                                      // mapping of its own until freed)
  uint32_t free_count;
  // Small spans: slots at and past `touched` have never been handed out
  // since the span was made or its pages discarded, so they are free and
  // their pages untouched; refills take free slots below it first, from
  // `scan_cursor` on (< touched, or 0), and only then slot `touched`.
  uint16_t scan_cursor;
  uint16_t touched;
  uint32_t prev, next;
  uint32_t large_granules;            // large spans: granule count
};
static_assert(sizeof(SpanRecord) == 64, "SpanRecord must stay one line");

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_SPAN_H_
