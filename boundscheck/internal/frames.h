// sealpool — the stack-frame rule's walk: which frame of the calling
// thread a stack range starts in, and whether it stays inside it.
//
// The kernel's arch_within_stack_frames() follows the frame-pointer chain.
// Host code here may be built with or without frame pointers, and one
// function without them makes a frame-pointer chain skip its frame, so the
// walk follows the unwind tables instead (frame_rules.h): at each return
// address the table says how to find that frame's canonical frame address
// (CFA) from rsp or rbp — for code with frame pointers it says "rbp + 16",
// so there it is the frame-pointer chain — and where the caller's rbp was
// saved. Each rule is cached by instruction address in a lock-free table,
// so a walk costs a few loads per frame once the addresses have been seen.
//
// A frame of function F, called at return address R, is [sp, CFA): from
// the stack pointer at F's call into its callee up to F's own CFA. Its
// top slots are F's return address (CFA - 8) and the registers F saved
// right below it; the copy may use the rest: F's locals, the spill slots
// and outgoing arguments.
//
// The walk starts in the frame of the function that took its WalkStart
// and goes up only as far as the range's start. Frames whose rule is the
// standard frame-pointer one (CFA = rbp + 16, rbp saved at CFA - 16) are
// stepped through by the chain itself, the rule only confirming each step,
// so that the loads of the chain do not wait for the cache. It reads nothing but return-address and saved-register slots of
// frames between the current stack pointer and the range, all inside the
// stack bounds it is given, so it cannot fault; it stops, saying nothing,
// at code without unwind tables, at a signal frame, at a rule it does not
// understand, at a CFA that does not grow, and after kMaxFrames frames.

#ifndef SEALPOOL_BOUNDSCHECK_INTERNAL_FRAMES_H_
#define SEALPOOL_BOUNDSCHECK_INTERNAL_FRAMES_H_

#include <cstdint>

namespace sealpool {
namespace boundscheck_internal {

inline constexpr int kMaxFrames = 4096;

struct StackFrame {
  uintptr_t lo = 0;     // the frame's lowest byte (its callee's CFA)
  uintptr_t limit = 0;  // first byte of the saved registers / return address
  uintptr_t cfa = 0;    // one past the frame
  uintptr_t pc = 0;     // an instruction address in the frame's function
};

enum class FrameAnswer {
  kUnknown,  // the walk could not tell: the rule says nothing
  kInside,   // [a, end) lies in one frame, below its saved registers
  kCrosses,  // it reaches the frame's saved registers or return address,
             // or runs into the caller's frame
};

// Where a walk starts: an instruction address in the running function and
// the rsp and rbp it has there.
struct WalkStart {
  uintptr_t pc = 0;
  uintptr_t sp = 0;
  uintptr_t fp = 0;
};

// The calling function's own start (always inlined: the registers are
// read in the caller's frame, whose unwind row at `pc` describes them).
__attribute__((always_inline)) inline WalkStart HereWalkStart() {
  WalkStart w;
#if defined(__x86_64__)
  // rbp and rsp are read before any output is written (and the outputs
  // are early-clobber), so that no output can take their place.
  __asm__ volatile(
      "movq %%rbp, %2\n\t"
      "movq %%rsp, %1\n\t"
      "leaq 0(%%rip), %0"
      : "=&r"(w.pc), "=&r"(w.sp), "=&r"(w.fp));
#endif
  return w;
}

// For a range [a, end) with start.sp <= a < end <= stack_hi on the
// calling thread's stack, `start` taken by HereWalkStart() in a function
// that is still running. Fills *frame with the frame that holds `a`
// unless kUnknown.
FrameAnswer FindStackFrame(const WalkStart& start, uintptr_t a, uintptr_t end,
                           uintptr_t stack_hi, StackFrame* frame);

}  // namespace boundscheck_internal
}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_INTERNAL_FRAMES_H_
