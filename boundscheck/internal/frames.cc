// sealpool — the stack-frame walk and its rule cache.

#include "boundscheck/internal/frames.h"

#include <atomic>

#include "absl/base/attributes.h"
#include "boundscheck/internal/frame_rules.h"
#include "boundscheck/internal/images.h"

namespace sealpool {
namespace boundscheck_internal {
namespace {

// The rule cache: 4096 direct-mapped words, filled on first sight of an
// instruction address and read and written with single atomic loads and
// stores, no lock. A word holds the address's upper bits (pc >> 12; the
// index gives the rest: index = (pc ^ pc >> 12) mod 4096, so a hit is
// exact) and the packed rule. Rules that do not fit the packing (a frame
// over 64 KiB, an unusual save slot) and addresses above 2^48 are not
// cached. The table is emptied when the image table is rebuilt (a library
// unloaded and another loaded at its address must not inherit its rules;
// see FollowImageEpoch).
constexpr int kCacheBits = 12;
constexpr int kTagShift = 28;
constexpr uint64_t kValueMask = (uint64_t{1} << kTagShift) - 1;
constexpr uint64_t kFilled = uint64_t{1} << 26;
std::atomic<uint64_t> g_cache[1 << kCacheBits];
std::atomic<uint64_t> g_cache_epoch{0};

// FrameRule packed into 27 bits: cfa kind (2), rbp_lost (1), cfa_offset / 8
// (13), rbp_slot (5), saved_slots (5), filled (1). False when it does not
// fit.
bool Pack(const FrameRule& r, uint64_t* out) {
  if (r.cfa_offset % 8 != 0 || r.cfa_offset / 8 > 0x1fff || r.rbp_slot > 31 ||
      r.saved_slots > 31) {
    return false;
  }
  *out = uint64_t{r.cfa} | uint64_t{r.rbp_lost} << 2 |
         uint64_t{r.cfa_offset / 8} << 3 | uint64_t{r.rbp_slot} << 16 |
         uint64_t{r.saved_slots} << 21 | kFilled;
  return true;
}

FrameRule Unpack(uint64_t v) {
  FrameRule r;
  r.cfa = static_cast<FrameRule::Cfa>(v & 3);
  r.rbp_lost = (v >> 2 & 1) != 0;
  r.cfa_offset = static_cast<uint32_t>(v >> 3 & 0x1fff) * 8;
  r.rbp_slot = static_cast<uint16_t>(v >> 16 & 31);
  r.saved_slots = static_cast<uint16_t>(v >> 21 & 31);
  return r;
}

inline size_t CacheIndex(uintptr_t pc) {
  return (pc ^ (pc >> 12)) & ((size_t{1} << kCacheBits) - 1);
}

// Empties the cache for a new image epoch.
void EmptyForEpoch(uint64_t epoch) {
  uint64_t seen = g_cache_epoch.load(std::memory_order_acquire);
  if (seen == epoch ||
      !g_cache_epoch.compare_exchange_strong(seen, epoch, std::memory_order_acq_rel)) {
    return;
  }
  for (std::atomic<uint64_t>& e : g_cache) e.store(0, std::memory_order_relaxed);
}

// The packed rule for pc (with kFilled set), from the cache or the tables.
// A rule that does not fit the packing is returned unpacked in *wide, and
// 0.
uint64_t CachedRuleBits(uintptr_t pc, FrameRule* wide) {
  const bool cacheable = (pc >> 48) == 0;
  std::atomic<uint64_t>& e = g_cache[CacheIndex(pc)];
  if (__builtin_expect(cacheable, 1)) {
    const uint64_t word = e.load(std::memory_order_relaxed);
    if (__builtin_expect((word >> kTagShift) == (pc >> 12) && (word & kFilled), 1)) {
      return word & kValueMask;
    }
  }
  const FrameRule rule = FindFrameRule(pc);
  uint64_t v;
  if (!Pack(rule, &v)) {
    *wide = rule;
    return 0;
  }
  if (cacheable) e.store((uint64_t{pc >> 12} << kTagShift) | v, std::memory_order_relaxed);
  return v;
}

// The standard frame-pointer frame: CFA = rbp + 16, the caller's rbp at
// CFA - 16, whatever the saved registers below it.
constexpr uint64_t kSavedSlotsMask = uint64_t{31} << 21;
constexpr uint64_t kStandardFp =
    uint64_t{FrameRule::kRbp} | uint64_t{16 / 8} << 3 | uint64_t{2} << 16 | kFilled;

// The cache is emptied when the image table has been rebuilt since it was
// filled (images.cc rebuilds it when FindImageRange() notices a library
// loaded or unloaded, within 1024 lookups per thread, and on
// RefreshImages()). Only the epoch is read here: the walk never touches
// the loader's state, so it is safe in a signal handler.
inline void FollowImageEpoch() {
  const uint64_t epoch = ImageEpoch();
  if (__builtin_expect(epoch != g_cache_epoch.load(std::memory_order_relaxed), 0)) {
    EmptyForEpoch(epoch);
  }
}

// The answer for a range that starts below the frame [sp, cfa)'s CFA,
// `saved` bytes of whose top are the return address and saved registers.
inline FrameAnswer Judge(uintptr_t a, uintptr_t end, uintptr_t sp,
                         uintptr_t cfa, uintptr_t saved, uintptr_t pc,
                         StackFrame* frame) {
  if (a < sp) return FrameAnswer::kUnknown;
  frame->lo = sp;
  frame->limit = cfa - saved;
  frame->cfa = cfa;
  frame->pc = pc;
  return end <= frame->limit ? FrameAnswer::kInside : FrameAnswer::kCrosses;
}

inline uintptr_t Slot(uintptr_t addr) {
  return *reinterpret_cast<const uintptr_t*>(addr);
}

}  // namespace

ABSL_ATTRIBUTE_NO_SANITIZE_ADDRESS FrameAnswer FindStackFrame(
    const WalkStart& start, uintptr_t a, uintptr_t end, uintptr_t stack_hi,
    StackFrame* frame) {
#if defined(__x86_64__)
  uintptr_t pc = start.pc, sp = start.sp, fp = start.fp;
  if (pc == 0) return FrameAnswer::kUnknown;
  FollowImageEpoch();
  bool fp_known = true;
  for (int i = 0; i < kMaxFrames; ++i) {
    FrameRule wide;
    const uint64_t bits = CachedRuleBits(pc, &wide);
    uintptr_t cfa, ret, saved;
    if (__builtin_expect((bits & ~kSavedSlotsMask) == kStandardFp && fp_known, 1)) {
      // The frame-pointer chain: rbp is this frame's CFA - 16.
      // [fp, fp + 16) must lie between the frame's sp and the stack's top
      // (which also keeps fp + 16 from wrapping).
      if (fp < sp || fp > stack_hi - 16) return FrameAnswer::kUnknown;
      cfa = fp + 16;
      if (a < cfa) {
        saved = uintptr_t{Unpack(bits).saved_slots} * 8;
        if (cfa - sp < saved) return FrameAnswer::kUnknown;
        return Judge(a, end, sp, cfa, saved, pc, frame);
      }
      ret = Slot(fp + 8);
      fp = Slot(fp);
    } else {
      const FrameRule rule = bits != 0 ? Unpack(bits) : wide;
      if (rule.cfa == FrameRule::kNone) return FrameAnswer::kUnknown;
      if (rule.cfa == FrameRule::kRbp && !fp_known) return FrameAnswer::kUnknown;
      const uintptr_t base = rule.cfa == FrameRule::kRsp ? sp : fp;
      cfa = base + rule.cfa_offset;
      saved = uintptr_t{rule.saved_slots} * 8;
      // A CFA must lie above the frame's stack pointer and its saved
      // slots, on the stack, 8-aligned.
      if (cfa < base || cfa > stack_hi || cfa % 8 != 0 || cfa <= sp ||
          cfa - sp < saved) {
        return FrameAnswer::kUnknown;
      }
      if (a < cfa) return Judge(a, end, sp, cfa, saved, pc, frame);
      ret = Slot(cfa - 8);
      if (rule.rbp_slot != 0) {
        const uintptr_t at = cfa - uintptr_t{rule.rbp_slot} * 8;
        if (at < sp) return FrameAnswer::kUnknown;
        fp = Slot(at);
        fp_known = true;
      } else if (rule.rbp_lost) {
        fp_known = false;
      }
    }
    sp = cfa;
    if (ret == 0) return FrameAnswer::kUnknown;  // the outermost frame
    pc = ret - 1;  // the call instruction's rule
  }
#else
  (void)start;
  (void)a;
  (void)end;
  (void)stack_hi;
  (void)frame;
#endif
  return FrameAnswer::kUnknown;
}

}  // namespace boundscheck_internal
}  // namespace sealpool
