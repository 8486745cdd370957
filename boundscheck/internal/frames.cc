// sealpool — the stack-frame walk and its rule cache.

#include "boundscheck/internal/frames.h"

#include <atomic>

#include "absl/base/attributes.h"
#include "boundscheck/internal/frame_rules.h"
#include "boundscheck/internal/images.h"

namespace sealpool {
namespace boundscheck_internal {
namespace {

// The rule cache: direct-mapped, 4096 entries, filled on first sight of an
// instruction address and read without a lock. An entry's key is the
// address, the loaded-image generation (so that a library unloaded and
// another loaded at the same address do not inherit its rules) and a
// "filled" bit; a writer claims an entry by swapping its key to kClaimed,
// so readers follow the sequence-lock pattern: key, value, fence, key.
constexpr int kCacheBits = 12;
constexpr uint64_t kClaimed = ~uint64_t{0};
constexpr uint64_t kFilled = uint64_t{1} << 63;

struct Entry {
  std::atomic<uint64_t> key{0};
  std::atomic<uint64_t> value{0};
};
Entry g_cache[1 << kCacheBits];

uint64_t Key(uintptr_t pc, uint64_t generation) {
  return kFilled | ((generation & 0x7fff) << 48) | (pc & ((uint64_t{1} << 48) - 1));
}

// FrameRule packed into 64 bits: cfa kind (2), rbp_lost (1), cfa_offset
// (32), rbp_slot (14), saved_slots (14).
uint64_t Pack(const FrameRule& r) {
  return uint64_t{r.cfa} | uint64_t{r.rbp_lost} << 2 |
         uint64_t{r.cfa_offset} << 3 | uint64_t{r.rbp_slot & 0x3fffu} << 35 |
         uint64_t{r.saved_slots & 0x3fffu} << 49;
}

FrameRule Unpack(uint64_t v) {
  FrameRule r;
  r.cfa = static_cast<FrameRule::Cfa>(v & 3);
  r.rbp_lost = (v >> 2 & 1) != 0;
  r.cfa_offset = static_cast<uint32_t>(v >> 3);
  r.rbp_slot = static_cast<uint16_t>(v >> 35 & 0x3fff);
  r.saved_slots = static_cast<uint16_t>(v >> 49 & 0x3fff);
  return r;
}

// The packed rule for pc, from the cache or the tables.
uint64_t CachedRuleBits(uintptr_t pc, uint64_t generation) {
  const uint64_t key = Key(pc, generation);
  Entry& e = g_cache[(pc * 0x9e3779b97f4a7c15ull) >> (64 - kCacheBits)];
  if (__builtin_expect(e.key.load(std::memory_order_acquire) == key, 1)) {
    const uint64_t v = e.value.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (__builtin_expect(e.key.load(std::memory_order_relaxed) == key, 1)) return v;
  }
  FrameRule rule = FindFrameRule(pc);
  // What does not fit the packing is not cached and not used.
  if (rule.rbp_slot > 0x3fff) rule = FrameRule{};
  const uint64_t v = Pack(rule);
  uint64_t old = e.key.load(std::memory_order_relaxed);
  if (old != kClaimed &&
      e.key.compare_exchange_strong(old, kClaimed, std::memory_order_acquire,
                                    std::memory_order_relaxed)) {
    std::atomic_thread_fence(std::memory_order_release);
    e.value.store(v, std::memory_order_relaxed);
    e.key.store(key, std::memory_order_release);
  }
  return v;
}

// The standard frame-pointer frame: CFA = rbp + 16, the caller's rbp at
// CFA - 16, whatever the saved registers below it.
constexpr uint64_t kSavedSlotsMask = uint64_t{0x3fff} << 49;
const uint64_t kStandardFp = [] {
  FrameRule r;
  r.cfa = FrameRule::kRbp;
  r.cfa_offset = 16;
  r.rbp_slot = 2;
  return Pack(r);
}();

// The loaded-image generation the keys use, re-read every 256 walks per
// thread (and images.cc re-reads the loader's counters itself every 1024
// lookups): a library unloaded and another loaded at its address is
// noticed within that many walks.
struct TlsGeneration {
  uint64_t generation;
  uint32_t countdown;
};
thread_local TlsGeneration tls_generation __attribute__((tls_model("initial-exec")));

inline uint64_t WalkGeneration() {
  TlsGeneration& t = tls_generation;
  if (__builtin_expect(t.countdown-- == 0, 0)) {
    t.generation = ImageGeneration();
    t.countdown = 255;
  }
  return t.generation;
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
  const uint64_t generation = WalkGeneration();
  bool fp_known = true;
  for (int i = 0; i < kMaxFrames; ++i) {
    const uint64_t bits = CachedRuleBits(pc, generation);
    uintptr_t cfa, ret, saved;
    if (__builtin_expect((bits & ~kSavedSlotsMask) == kStandardFp && fp_known, 1)) {
      // The frame-pointer chain: rbp is this frame's CFA - 16.
      cfa = fp + 16;
      if (cfa < fp || cfa > stack_hi || fp % 8 != 0 || fp < sp) {
        return FrameAnswer::kUnknown;
      }
      if (a < cfa) {
        saved = uintptr_t{Unpack(bits).saved_slots} * 8;
        if (a < sp || cfa - sp < saved) return FrameAnswer::kUnknown;
        frame->lo = sp;
        frame->limit = cfa - saved;
        frame->cfa = cfa;
        frame->pc = pc;
        return end <= frame->limit ? FrameAnswer::kInside : FrameAnswer::kCrosses;
      }
      ret = Slot(fp + 8);
      fp = Slot(fp);
    } else {
      const FrameRule rule = Unpack(bits);
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
      if (a < cfa) {
        if (a < sp) return FrameAnswer::kUnknown;
        frame->lo = sp;
        frame->limit = cfa - saved;
        frame->cfa = cfa;
        frame->pc = pc;
        return end <= frame->limit ? FrameAnswer::kInside : FrameAnswer::kCrosses;
      }
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
