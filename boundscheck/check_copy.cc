// sealpool — check_copy: the ordered usercopy rules, and checked copies.

#include "boundscheck/check_copy.h"

#include <signal.h>

#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "allocator/page_query.h"
#include "boundscheck/internal/frames.h"
#include "boundscheck/internal/images.h"
#include "boundscheck/internal/stack.h"

namespace sealpool {
namespace {

using boundscheck_internal::FindImageRange;
using boundscheck_internal::FindStackFrame;
using boundscheck_internal::FrameAnswer;
using boundscheck_internal::HereWalkStart;
using boundscheck_internal::StackFrame;
using boundscheck_internal::WalkStart;
using boundscheck_internal::ImageHit;
using boundscheck_internal::StackBounds;
using boundscheck_internal::ThreadStack;

constexpr uintptr_t kFirstPage = 4096;

ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD ViolationKind
Report(ViolationKind kind, uintptr_t a, size_t len, CopyDirection dir,
       uint32_t pool_id, uintptr_t object, size_t object_size,
       const char* detail) {
  Violation v;
  v.kind = kind;
  v.pool_id = pool_id;
  v.pool_name = pool_id != 0 ? PoolNameById(pool_id) : nullptr;
  v.addr = a;
  v.len = len;
  v.dir = dir;
  v.object_start = object;
  v.object_size = object_size;
  v.offset = object != 0 && a >= object ? a - object : 0;
  v.detail = detail;
  return ReportViolation(v, 2);
}

// Whether a refused range is reported (CheckCopy) or only answered
// (CopyAllowed, which decides whether a refused copy's destination may be
// zeroed).
enum class Reporting : bool { kQuiet = false, kReport = true };

// A refusal of rule `kind`: reported, or (kQuiet) only returned.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline ViolationKind Refuse(
    Reporting reporting, ViolationKind kind, uintptr_t a, size_t len,
    CopyDirection dir, uint32_t pool_id, uintptr_t start, size_t size,
    const char* detail) {
  if (reporting == Reporting::kQuiet) return kind;
  return Report(kind, a, len, dir, pool_id, start, size, detail);
}

// Slow path: why an arena address is not inside a live object.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD ViolationKind
ReportArena(uintptr_t a, size_t len, CopyDirection dir) {
  const AddressInfo info = QueryAddress(reinterpret_cast<const void*>(a));
  switch (info.page) {
    case PageKind::kNotArena:  // a gap between the arena's zones
    case PageKind::kGuard:
      return Report(ViolationKind::kGuardPage, a, len, dir, info.pool_id, 0, 0,
                    "guard page");
    case PageKind::kMetadata:
      return Report(ViolationKind::kMetadataPage, a, len, dir, 0, 0, 0,
                    "allocator metadata");
    case PageKind::kUnused:
      return Report(ViolationKind::kUnusedPage, a, len, dir, 0, 0, 0,
                    "arena memory no pool owns");
    case PageKind::kSmallSpan:
    case PageKind::kLargeSpan:
      break;
  }
  if (info.corrupt) {
    return Report(ViolationKind::kMetadataCorruption, a, len, dir, info.pool_id,
                  0, 0, "span record canary");
  }
  if (!info.in_slot) {
    return Report(ViolationKind::kOutOfBounds, a, len, dir, info.pool_id, 0, 0,
                  "span memory outside any object");
  }
  if (!info.live) {
    return Report(ViolationKind::kUseAfterFree, a, len, dir, info.pool_id,
                  info.object_start, 0, "freed slot");
  }
  return Report(ViolationKind::kOutOfBounds, a, len, dir, info.pool_id,
                info.object_start, info.object_size,
                "starts after the object's end (slack or redzone)");
}

// Rule 2's wrapping range: bogus-pointer, naming the pool (and the live
// object) that `a` is in, if any.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD ViolationKind
ReportWrap(uintptr_t a, size_t len, CopyDirection dir) {
  const void* ptr = reinterpret_cast<const void*>(a);
  constexpr const char* kDetail = "range wraps around the address space";
  ObjectBounds b;
  if (LookupObject(ptr, &b, kLookupBounds) == Lookup::kObject) {
    return Report(ViolationKind::kBogusPointer, a, len, dir, b.pool_id, b.start,
                  b.size, kDetail);
  }
  const AddressInfo info = QueryAddress(ptr);
  return Report(ViolationKind::kBogusPointer, a, len, dir, info.pool_id, 0, 0,
                kDetail);
}

// Rule 4's stack-frame refusal: the frame, and the function it belongs to.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD ViolationKind
ReportFrame(uintptr_t a, size_t len, CopyDirection dir, const StackFrame& f) {
  Violation v;
  v.kind = ViolationKind::kStackFrame;
  v.addr = a;
  v.len = len;
  v.dir = dir;
  v.object_start = f.lo;
  v.object_size = f.limit - f.lo;
  v.offset = a - f.lo;
  v.frame_pc = f.pc;
  v.region = "process stack";
  v.detail = a >= f.limit ? "range starts in a frame's saved registers"
             : a + len > f.cfa
                 ? "range runs from one stack frame into the next"
                 : "range reaches the frame's saved registers and return address";
  return ReportViolation(v, 2);
}

// A live range of a stack, [a, a + len) with start.sp <= a and a + len <=
// stack_hi: refused (stack-frame) when it leaves the frame it starts in.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline ViolationKind JudgeFrame(
    const WalkStart& start, uintptr_t a, size_t len, CopyDirection dir,
    Reporting reporting, uintptr_t stack_hi) {
  StackFrame f;
  if (ABSL_PREDICT_TRUE(FindStackFrame(start, a, a + len, stack_hi, &f) !=
                        FrameAnswer::kCrosses)) {
    return ViolationKind::kNone;
  }
  if (reporting == Reporting::kQuiet) return ViolationKind::kStackFrame;
  return ReportFrame(a, len, dir, f);
}

// The alternate signal stack, when the checker runs on it (a handler
// installed with SA_ONSTACK): false otherwise.
bool OnAltStack(uintptr_t sp, StackBounds* out) {
  stack_t ss;
  if (sigaltstack(nullptr, &ss) != 0 || (ss.ss_flags & SS_ONSTACK) == 0) {
    return false;
  }
  const uintptr_t lo = reinterpret_cast<uintptr_t>(ss.ss_sp);
  if (sp < lo || sp - lo >= ss.ss_size) return false;
  out->lo = lo;
  out->hi = lo + ss.ss_size;
  return true;
}

// Rule 4 on the stack: the thread's, or the alternate signal stack the
// checker runs on. `caller`: where the stack-frame walk starts, taken by
// the checked copy that will write or read the range after this returns
// (its stack pointer then bounds the live frames: what lies below is where
// the copy's own callee, libc's memcpy, keeps its return address);
// nullptr: here. `s`: the thread's stack (ThreadStack()). Sets *on_stack
// to false, and returns kNone, when the range is on neither.
ABSL_ATTRIBUTE_NOINLINE ViolationKind CheckStack(uintptr_t a, size_t len,
                                                 CopyDirection dir,
                                                 Reporting reporting,
                                                 const WalkStart* caller,
                                                 StackBounds s, bool* on_stack) {
  const uintptr_t end = a + len;
  const uintptr_t sp =
      caller != nullptr ? caller->sp
                        : reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  bool running_here = sp >= s.lo && sp < s.hi;
  if (!running_here && !(a < s.hi && end > s.lo)) {
    // Not on the thread's stack, and neither is the range: a signal
    // handler on its alternate stack may be copying within that.
    StackBounds alt;
    if (OnAltStack(sp, &alt) && a < alt.hi && end > alt.lo) {
      s = alt;
      running_here = true;
    }
  }
  *on_stack = a < s.hi && end > s.lo;
  if (!*on_stack) return ViolationKind::kNone;
  if (a < s.lo || end > s.hi) {
    return Refuse(reporting, ViolationKind::kStackOverflow, a, len, dir,
                  0, s.lo, s.hi - s.lo, "range is partly on the thread's stack");
  }
  if (!running_here) return ViolationKind::kNone;
  if (a < sp) {
    return Refuse(reporting, ViolationKind::kStackOverflow, a, len, dir,
                  0, s.lo, s.hi - s.lo, "range is in a dead stack frame");
  }
  return JudgeFrame(caller != nullptr ? *caller : HereWalkStart(), a, len, dir,
                    reporting, s.hi);
}

// Rule 4: memory sealpool does not own. The stack's rules run only for a
// range on the thread's stack, or when the checker runs off it (a signal
// handler's alternate stack).
ABSL_ATTRIBUTE_NOINLINE ViolationKind CheckOutside(uintptr_t a, size_t len,
                                                   CopyDirection dir,
                                                   Reporting reporting) {
  const uintptr_t end = a + len;
  const StackBounds& s = ThreadStack();
  if (a < s.hi && end > s.lo) {
    bool on_stack = false;
    return CheckStack(a, len, dir, reporting, nullptr, s, &on_stack);
  }
  const uintptr_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (ABSL_PREDICT_FALSE(sp - s.lo >= s.hi - s.lo)) {
    bool on_stack = false;
    const ViolationKind k =
        CheckStack(a, len, dir, reporting, nullptr, s, &on_stack);
    if (on_stack) return k;
  }
  if (ABSL_PREDICT_FALSE(InArenaInline(reinterpret_cast<const void*>(a), len))) {
    // Starts outside the arena, runs into it.
    return Refuse(reporting, ViolationKind::kGuardPage, a, len, dir,
                  0, 0, 0, "range runs into the sealpool arena");
  }
  uintptr_t range = 0;
  switch (FindImageRange(a, len, dir == CopyDirection::kWrite, &range)) {
    case ImageHit::kNone:
      return ViolationKind::kNone;
    case ImageHit::kCode:
      return Refuse(reporting, ViolationKind::kImageSegment, a, len, dir,
                    0, 0, 0,
                    dir == CopyDirection::kWrite ? "write into program code"
                                                 : "read of program code");
    case ImageHit::kReadOnly:
      return Refuse(reporting, ViolationKind::kImageSegment, a, len, dir,
                    0, 0, 0, "write into read-only program data");
  }
  return ViolationKind::kNone;
}

}  // namespace

namespace {

// All the rules, in design.md's order, with a report for the first that
// fails (kQuiet: the first failing rule's kind, unreported). CheckCopy()
// comes here for anything but a clean in-object copy.
ABSL_ATTRIBUTE_NOINLINE ViolationKind CheckCopySlow(
    const void* ptr, size_t len, CopyDirection dir,
    Reporting reporting = Reporting::kReport) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(ptr);
  const bool quiet = reporting == Reporting::kQuiet;
  if (ABSL_PREDICT_FALSE(len == 0)) return ViolationKind::kNone;
  if (ABSL_PREDICT_FALSE(a < kFirstPage)) {
    return Refuse(reporting, ViolationKind::kBogusPointer, a, len, dir,
                  0, 0, 0, "null or first-page pointer");
  }
  if (ABSL_PREDICT_FALSE(a + len < a)) {
    if (quiet) return ViolationKind::kBogusPointer;
    return ReportWrap(a, len, dir);
  }
  ObjectBounds b;
  switch (LookupObject(ptr, &b)) {
    case Lookup::kNotOurs:
      return CheckOutside(a, len, dir, reporting);
    case Lookup::kBad:
      if (quiet) return ViolationKind::kOutOfBounds;  // some arena refusal
      return ReportArena(a, len, dir);
    case Lookup::kObject:
      break;
  }
  const size_t off = a - b.start;  // <= b.size, by LookupObject
  if (ABSL_PREDICT_FALSE(len > b.size - off)) {
    return Refuse(reporting, ViolationKind::kOutOfBounds, a, len, dir,
                  b.pool_id, b.start, b.size, "range runs past the object's end");
  }
  if (ABSL_PREDICT_FALSE(b.usercopy_size != 0 &&
                         (off < b.usercopy_offset ||
                          off + len > size_t{b.usercopy_offset} + b.usercopy_size))) {
    return Refuse(reporting, ViolationKind::kUsercopyWindow, a, len, dir,
                  b.pool_id, b.start, b.size, "outside the pool's usercopy window");
  }
  if (ABSL_PREDICT_FALSE(b.sealed && dir == CopyDirection::kWrite)) {
    return Refuse(reporting, ViolationKind::kSealedWrite, a, len, dir,
                  b.pool_id, b.start, b.size, "write into sealed memory");
  }
  return ViolationKind::kNone;
}

// Hot path: true for a copy inside one live object of a pool without a
// usercopy window — a lookup and three compares. False sends the copy
// through CheckCopySlow(), which decides (and reports) by the full rules.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FastAllowed(const void* ptr, size_t len,
                                                     CopyDirection dir) {
  ObjectBounds b;
  // A read never needs the sealed state.
  const unsigned fields =
      dir == CopyDirection::kWrite ? kLookupAll : kLookupWindow;
  if (ABSL_PREDICT_FALSE(len == 0 ||
                         LookupObject(ptr, &b, fields) != Lookup::kObject)) {
    return false;
  }
  const size_t off = reinterpret_cast<uintptr_t>(ptr) - b.start;
  return len <= b.size - off && b.usercopy_size == 0 &&
         !(b.sealed && dir == CopyDirection::kWrite);
}

// A copy refused because of its source: the destination range, when it is
// valid, gets zeros instead of the bytes it would have received, so a caller
// that ignores the refusal does not hand on stale memory.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD void ZeroRefusedDestination(
    void* dst, size_t n) {
  if (n != 0 && CopyAllowed(dst, n, CopyDirection::kWrite)) {
    std::memset(dst, 0, n);
  }
}

}  // namespace

ViolationKind CheckCopy(const void* ptr, size_t len, CopyDirection dir) {
  if (ABSL_PREDICT_TRUE(FastAllowed(ptr, len, dir))) return ViolationKind::kNone;
  return CheckCopySlow(ptr, len, dir);
}

bool CopyAllowed(const void* ptr, size_t len, CopyDirection dir) {
  if (ABSL_PREDICT_TRUE(FastAllowed(ptr, len, dir))) return true;
  return CheckCopySlow(ptr, len, dir, Reporting::kQuiet) == ViolationKind::kNone;
}

// Hot path: both ends checked inline for pool-to-pool copies. A source
// the fast path allowed is not judged again.
void* CheckedMemcpy(void* dst, const void* src, size_t n) {
  const bool src_ok = FastAllowed(src, n, CopyDirection::kRead);
  if (ABSL_PREDICT_TRUE(src_ok && FastAllowed(dst, n, CopyDirection::kWrite))) {
    return std::memcpy(dst, src, n);
  }
  if (!src_ok && CheckCopySlow(src, n, CopyDirection::kRead) != ViolationKind::kNone) {
    ZeroRefusedDestination(dst, n);
    return nullptr;
  }
  // A destination outside the arena (a local buffer, a global) goes to
  // rule 4 at once: rules 1 to 3 would only say so again. Its frame walk
  // starts here, in the frame that calls memcpy.
  const uintptr_t d = reinterpret_cast<uintptr_t>(dst);
  ViolationKind v;
  if (n != 0 && d >= kFirstPage && d + n > d && !InArenaInline(dst, 1)) {
    const StackBounds& s = ThreadStack();
    bool on_stack = false;
    v = ViolationKind::kNone;
    if (d < s.hi && d + n > s.lo) {
      const WalkStart here = HereWalkStart();
      if (ABSL_PREDICT_TRUE(d >= here.sp && d + n <= s.hi && here.sp >= s.lo)) {
        // The common case, inline: a live range of the thread's stack,
        // judged by its frame.
        on_stack = true;
        v = JudgeFrame(here, d, n, CopyDirection::kWrite, Reporting::kReport, s.hi);
      } else {
        v = CheckStack(d, n, CopyDirection::kWrite, Reporting::kReport, &here,
                       s, &on_stack);
      }
    }
    if (!on_stack) v = CheckOutside(d, n, CopyDirection::kWrite, Reporting::kReport);
  } else {
    v = CheckCopySlow(dst, n, CopyDirection::kWrite);
  }
  if (v != ViolationKind::kNone) return nullptr;
  if (n != 0) std::memcpy(dst, src, n);
  return dst;
}

void* CheckedMemmove(void* dst, const void* src, size_t n) {
  if (CheckCopy(src, n, CopyDirection::kRead) != ViolationKind::kNone) {
    ZeroRefusedDestination(dst, n);
    return nullptr;
  }
  if (CheckCopy(dst, n, CopyDirection::kWrite) != ViolationKind::kNone) {
    return nullptr;
  }
  if (n != 0) std::memmove(dst, src, n);
  return dst;
}

void* CheckedMemset(void* dst, int c, size_t n) {
  if (CheckCopy(dst, n, CopyDirection::kWrite) != ViolationKind::kNone) {
    return nullptr;
  }
  if (n != 0) std::memset(dst, c, n);
  return dst;
}

void RefreshImageTable() { boundscheck_internal::RefreshImages(); }

}  // namespace sealpool
