// sealpool — a function's stack frame at one instruction, from the unwind
// tables (.eh_frame).
//
// The stack-frame rule of check_copy (frames.h) walks the calling thread's
// frames whether or not their code keeps a frame pointer. For that it needs,
// at each return address, where the frame's canonical frame address (CFA:
// the stack pointer before the call into it) is, where the caller's frame
// pointer was saved, and which slots below the return address hold saved
// registers. The unwind tables say so: libgcc's _Unwind_Find_FDE() finds
// the frame description entry (lock-free, through glibc's
// _dl_find_object), and FindFrameRule() runs its call-frame instructions
// up to the address.
//
// Only what x86-64 compilers emit for ordinary functions is understood: a
// CFA of rsp or rbp plus an offset, registers saved at CFA offsets, the
// return address at CFA - 8. Anything else (a CFA expression, a signal
// frame, an unknown instruction, code without unwind tables) is kNone,
// and the walk stops there saying nothing.

#ifndef SEALPOOL_BOUNDSCHECK_INTERNAL_FRAME_RULES_H_
#define SEALPOOL_BOUNDSCHECK_INTERNAL_FRAME_RULES_H_

#include <cstdint>

namespace sealpool {
namespace boundscheck_internal {

struct FrameRule {
  enum Cfa : uint8_t {
    kNone = 0,  // nothing known: stop the walk
    kRsp = 1,   // CFA = rsp + cfa_offset
    kRbp = 2,   // CFA = rbp + cfa_offset
  };
  Cfa cfa = kNone;
  uint32_t cfa_offset = 0;
  // Where the caller's rbp was saved: CFA - 8 * rbp_slot; 0 when rbp is
  // unchanged in this frame (the caller's value is still in the register).
  uint16_t rbp_slot = 0;
  // Slots CFA - 8 * saved_slots .. CFA - 1 are the return address and the
  // registers saved contiguously below it (at least 1: the return address).
  uint16_t saved_slots = 0;
  // The caller's rbp cannot be recovered (the register's rule is
  // "undefined" or not a CFA slot): a walk above this frame must not use
  // rbp.
  bool rbp_lost = false;
};

// The rule at instruction `pc` (a return address minus one, or an address
// inside the running function). Never fails: kNone when not known.
FrameRule FindFrameRule(uintptr_t pc);

}  // namespace boundscheck_internal
}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_INTERNAL_FRAME_RULES_H_
