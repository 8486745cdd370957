// Rule 4's stack-frame refusal (check_copy, README "check_copy rules"): a
// copy from the heap into a local buffer, or out of it, that would reach
// the frame's saved registers and return address is refused, naming the
// function whose frame it is — one, two and three frames up, in code
// built with and without frame pointers (tests/stack_frames/frames.c), on
// a thread's stack and on a signal handler's alternate stack. Legal
// neighbours: a copy that ends exactly at the buffer's end, and one that
// fills the frame's locals up to its saved registers. Code without unwind
// tables is not judged (the rule says nothing) and does not crash.

#include <dlfcn.h>
#include <signal.h>
#include <unwind.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/stack_frames/frames.h"
#include "tests/test_util.h"

extern "C" {
struct sealpool_test_eh_bases {
  void* tbase;
  void* dbase;
  void* func;
};
const void* _Unwind_Find_FDE(void* pc, sealpool_test_eh_bases* bases);

namespace {
struct CfaSearch {
  int frame = 0;
  uintptr_t cfa = 0;
};
// libgcc's context for frame N (0: sf_caller_cfa) holds N's stack pointer,
// which is the CFA of frame N - 1: the caller's CFA is frame 2's.
_Unwind_Reason_Code CfaOfCaller(_Unwind_Context* ctx, void* arg) {
  auto* s = static_cast<CfaSearch*>(arg);
  if (s->frame++ == 2) {
    s->cfa = _Unwind_GetCFA(ctx);
    return _URC_END_OF_STACK;
  }
  return _URC_NO_REASON;
}
}  // namespace

__attribute__((noinline)) uintptr_t sf_caller_cfa(void) {
  CfaSearch s;
  _Unwind_Backtrace(CfaOfCaller, &s);
  return s.cfa;
}
}  // extern "C"

namespace sealpool {
namespace {

using ::sealpool_test::ReportModeTest;

using Victim = int (*)(int, int, const char*, size_t, sf_result*);

struct Build {
  const char* name;  // the victim's symbol
  Victim victim;
  bool frame_pointers;
};
const Build kFramePointers{"fp_victim", fp_victim, true};
const Build kNoFramePointers{"nofp_victim", nofp_victim, false};

constexpr size_t kOverflow = 200;  // far past a 50-byte buffer's frame
constexpr size_t kHeapSize = 300;

// A heap object with known bytes, the source of the copies.
class HeapSource {
 public:
  HeapSource() {
    pool_ = sp_pool_create(sealpool_test::UniqueName("frames").c_str(), nullptr);
    if (pool_ != nullptr) data_ = static_cast<char*>(sp_alloc(pool_, kHeapSize));
    if (data_ != nullptr) {
      for (size_t i = 0; i < kHeapSize; ++i) data_[i] = static_cast<char>('A' + i % 7);
    }
  }
  ~HeapSource() {
    if (data_ != nullptr) sp_free(data_);
    if (pool_ != nullptr) sp_pool_destroy(pool_);
  }
  char* data() const { return data_; }
  unsigned SumOf(size_t n) const {
    unsigned s = 0;
    for (size_t i = 0; i < n; ++i) s += static_cast<unsigned char>(data_[i]);
    return s;
  }

 private:
  sp_pool* pool_ = nullptr;
  char* data_ = nullptr;
};

// The victim's buffer before any copy: 'a' + i % 26.
unsigned InitialSum() {
  unsigned s = 0;
  for (size_t i = 0; i < SF_BUFFER; ++i) s += static_cast<unsigned>('a' + i % 26);
  return s;
}

std::string HeadlineFor(const char* direction, const Build& b) {
  return std::string("sealpool: memory ") + direction +
         " attempt detected (to|from) process stack frame of '" + b.name +
         "' \\(frame 0x[0-9a-f]+, offset [0-9]+, size 200, frame size [0-9]+\\)!";
}

class StackFrameDeathTest : public ::testing::TestWithParam<int> {};

// A heap-to-stack overflow, 1, 2 and 3 frames up, with and without frame
// pointers: one report naming the victim, then abort — before the copy.
TEST_P(StackFrameDeathTest, HeapToStackOverflowAborts) {
  const int depth = GetParam();
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  for (const Build& b : {kFramePointers, kNoFramePointers}) {
    EXPECT_DEATH(b.victim(depth, SF_COPY_IN, heap.data(), kOverflow, nullptr),
                 HeadlineFor("overwrite", b))
        << b.name << " depth " << depth;
  }
}

// The same frame read out past its end (a stack over-read that would carry
// return addresses and saved registers into the heap).
TEST_P(StackFrameDeathTest, StackToHeapOverReadAborts) {
  const int depth = GetParam();
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  for (const Build& b : {kFramePointers, kNoFramePointers}) {
    EXPECT_DEATH(b.victim(depth, SF_COPY_OUT, heap.data(), kOverflow, nullptr),
                 HeadlineFor("exposure", b))
        << b.name << " depth " << depth;
  }
}

INSTANTIATE_TEST_SUITE_P(FramesUp, StackFrameDeathTest, ::testing::Values(1, 2, 3));

class StackFrameTest : public ReportModeTest {};

// Report mode: the overflow is refused without a byte written, and the
// legal neighbour — a copy that ends exactly at the buffer's end — copies.
TEST_F(StackFrameTest, OverflowIsRefusedAndExactFitCopies) {
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  for (const Build& b : {kFramePointers, kNoFramePointers}) {
    for (int depth = 1; depth <= 3; ++depth) {
      SCOPED_TRACE(std::string(b.name) + " depth " + std::to_string(depth));
      sf_result r{};
      EXPECT_EQ(b.victim(depth, SF_COPY_IN, heap.data(), kOverflow, &r), -1);
      EXPECT_EQ(r.sum, InitialSum()) << "the refused copy wrote";
      std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
      ASSERT_EQ(v.size(), 1u);
      EXPECT_EQ(v[0].kind, ViolationKind::kStackFrame);
      EXPECT_EQ(v[0].addr, r.buf);
      // The frame the record names holds the buffer and ends below the CFA.
      EXPECT_LE(v[0].object_start, r.buf);
      EXPECT_GE(v[0].object_start + v[0].object_size, r.buf + SF_BUFFER);
      EXPECT_LE(v[0].object_start + v[0].object_size, r.cfa - 8);

      EXPECT_EQ(b.victim(depth, SF_COPY_IN, heap.data(), SF_BUFFER, &r), 0);
      EXPECT_EQ(r.sum, heap.SumOf(SF_BUFFER));
      EXPECT_EQ(b.victim(depth, SF_COPY_OUT, heap.data(), SF_BUFFER, &r), 0);
      EXPECT_TRUE(recorder_.Take().empty());
    }
  }
}

// The longest range from the buffer that the rule allows ends where the
// frame's saved registers begin: at or below the return address (CFA - 8,
// from libgcc's unwinder), 8-aligned, with at most the six callee-saved
// registers and rbp in between; with frame pointers at or below the saved
// rbp (CFA - 16). Every shorter range is allowed, the next byte is not.
TEST_F(StackFrameTest, WholeFrameBelowTheSavedRegistersIsAllowed) {
  for (const Build& b : {kFramePointers, kNoFramePointers}) {
    for (int depth = 1; depth <= 3; ++depth) {
      SCOPED_TRACE(std::string(b.name) + " depth " + std::to_string(depth));
      sf_result r{};
      ASSERT_EQ(b.victim(depth, SF_CHECK, nullptr, SF_BUFFER, &r), 0);
      ASSERT_NE(r.cfa, 0u);
      size_t longest = 0;
      for (size_t n = SF_BUFFER; n < r.cfa - r.buf + 8; ++n) {
        if (b.victim(depth, SF_CHECK, nullptr, n, &r) != 0) break;
        longest = n;
      }
      recorder_.Take();
      const uintptr_t limit = r.buf + longest;
      EXPECT_GE(longest, size_t{SF_BUFFER});
      EXPECT_LE(limit, r.cfa - 8);
      EXPECT_GE(limit, r.cfa - 8 * 8);
      EXPECT_EQ(limit % 8, 0u);
      if (b.frame_pointers) {
        EXPECT_LE(limit, r.cfa - 16);
      }
      EXPECT_EQ(b.victim(depth, SF_CHECK, nullptr, longest + 1, &r),
                -static_cast<int>(ViolationKind::kStackFrame));
      EXPECT_EQ(b.victim(depth, SF_CHECK, nullptr, r.cfa - r.buf, &r),
                -static_cast<int>(ViolationKind::kStackFrame));
      EXPECT_EQ(recorder_.Take().size(), 2u);
    }
  }
}

// A thread's own stack: the same refusal and the same legal neighbour.
TEST_F(StackFrameTest, ThreadStackFramesAreJudged) {
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  int over = 0, fit = -1;
  sf_result r{};
  std::thread t([&] {
    over = fp_victim(2, SF_COPY_IN, heap.data(), kOverflow, &r);
    fit = nofp_victim(3, SF_COPY_IN, heap.data(), SF_BUFFER, nullptr);
  });
  t.join();
  EXPECT_EQ(over, -1);
  EXPECT_EQ(r.sum, InitialSum());
  EXPECT_EQ(fit, 0);
  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kStackFrame);
}

TEST(StackFrameThreadDeathTest, ThreadStackOverflowAborts) {
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  EXPECT_DEATH(
      {
        std::thread t([&] {
          nofp_victim(1, SF_COPY_IN, heap.data(), kOverflow, nullptr);
        });
        t.join();
      },
      HeadlineFor("overwrite", kNoFramePointers));
}

// A signal handler on an alternate signal stack (sigaltstack): frames
// there are judged against that stack.
struct AltStackRun {
  char* heap = nullptr;
  size_t n = 0;
  int result = 1;
  sf_result r{};
};
AltStackRun* g_alt_run = nullptr;

void OnSignal(int) {
  g_alt_run->result =
      fp_victim(2, SF_COPY_IN, g_alt_run->heap, g_alt_run->n, &g_alt_run->r);
}

// Runs fp_victim in a SIGUSR1 handler on a fresh alternate stack; returns
// whether the handler's buffer was on that stack.
bool RunOnAltStack(AltStackRun* run) {
  // Room for a report: its writer keeps about 40 KiB of buffers on the
  // stack, and loading libdw the first time takes more.
  std::vector<char> alt(512 * 1024);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  stack_t old{};
  if (sigaltstack(&ss, &old) != 0) return false;
  struct sigaction sa {};
  struct sigaction old_sa {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  g_alt_run = run;
  sigaction(SIGUSR1, &sa, &old_sa);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old_sa, nullptr);
  sigaltstack(&old, nullptr);
  const uintptr_t lo = reinterpret_cast<uintptr_t>(alt.data());
  return run->r.buf >= lo && run->r.buf < lo + alt.size();
}

TEST_F(StackFrameTest, SignalHandlerOnAlternateStackIsJudged) {
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  AltStackRun over;
  over.heap = heap.data();
  over.n = kOverflow;
  ASSERT_TRUE(RunOnAltStack(&over)) << "the handler did not run on the alternate stack";
  EXPECT_EQ(over.result, -1);
  EXPECT_EQ(over.r.sum, InitialSum());
  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kStackFrame);

  AltStackRun fit;
  fit.heap = heap.data();
  fit.n = SF_BUFFER;
  ASSERT_TRUE(RunOnAltStack(&fit));
  EXPECT_EQ(fit.result, 0);
  EXPECT_EQ(fit.r.sum, heap.SumOf(SF_BUFFER));
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST(StackFrameSignalDeathTest, AlternateStackOverflowAborts) {
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  EXPECT_DEATH(
      {
        AltStackRun over;
        over.heap = heap.data();
        over.n = kOverflow;
        RunOnAltStack(&over);
      },
      HeadlineFor("overwrite", kFramePointers));
}

// A local of a function that has returned, 4 KiB deep: below every live
// frame of the checked copy, where its own callee (libc's memcpy) keeps
// its return address.
__attribute__((noinline)) uintptr_t DeadLocal() {
  char buf[4096];
  uintptr_t at = reinterpret_cast<uintptr_t>(buf);
  __asm__ volatile("" : "+r"(at) : : "memory");
  return at;
}

TEST_F(StackFrameTest, CheckedCopyIntoADeadFrameIsRefused) {
  HeapSource heap;
  ASSERT_NE(heap.data(), nullptr);
  void* dead = reinterpret_cast<void*>(DeadLocal());
  EXPECT_EQ(sp_memcpy(dead, heap.data(), 64), nullptr);
  std::vector<sealpool_test::RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kStackOverflow);
}

// A library unloaded and another loaded at its address: after
// sp_refresh_images() the new code's frames are judged by its own rules,
// not by the cached rules of the code that was there before.
struct ProbeResult {
  int whole = 1;     // sp_check_copy of all the locals
  int one_more = 0;  // one byte more
};
ProbeResult g_probe;

void ProbeLocals(char* locals, unsigned size) {
  g_probe.whole = sp_check_copy(locals, size, SP_COPY_WRITE);
  g_probe.one_more = sp_check_copy(locals, size + 1, SP_COPY_WRITE);
}

// Loads `path`, runs its reload_victim with ProbeLocals, unloads it;
// returns the function's address (nullptr if it could not be loaded).
void* RunReloadVictim(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) return nullptr;
  auto victim = reinterpret_cast<void (*)(void (*)(char*, unsigned))>(
      dlsym(h, "reload_victim"));
  void* at = reinterpret_cast<void*>(victim);
  if (victim != nullptr) victim(ProbeLocals);
  dlclose(h);
  return at;
}

TEST_F(StackFrameTest, RulesOfAnUnloadedLibraryDoNotOutliveARefresh) {
  const int refused = -static_cast<int>(ViolationKind::kStackFrame);
  void* small = RunReloadVictim(SEALPOOL_FRAMES_RELOAD_32);
  ASSERT_NE(small, nullptr) << dlerror();
  EXPECT_EQ(g_probe.whole, 0);
  EXPECT_EQ(g_probe.one_more, refused);
  sp_refresh_images();
  g_probe = ProbeResult{};
  void* large = RunReloadVictim(SEALPOOL_FRAMES_RELOAD_256);
  ASSERT_NE(large, nullptr) << dlerror();
  EXPECT_EQ(g_probe.whole, 0) << "judged by the unloaded library's rules";
  EXPECT_EQ(g_probe.one_more, refused);
  recorder_.Take();
  if (large != small) {
    GTEST_SKIP() << "the second library was loaded elsewhere: its rules were "
                    "never cached for the first one's addresses";
  }
}

// Code without unwind tables: the walk stops at its frame, the rule says
// nothing (the copy is judged by the other rules only), nothing crashes.
TEST_F(StackFrameTest, CodeWithoutUnwindTablesIsNotJudged) {
  sealpool_test_eh_bases bases{};
  ASSERT_EQ(_Unwind_Find_FDE(reinterpret_cast<void*>(
                                 reinterpret_cast<uintptr_t>(&nounwind_victim) + 4),
                             &bases),
            nullptr)
      << "nounwind_victim has unwind tables";
  for (int depth = 1; depth <= 3; ++depth) {
    EXPECT_EQ(nounwind_victim(depth, SF_CHECK, nullptr, kOverflow, nullptr), 0);
    EXPECT_EQ(nounwind_victim(depth, SF_CHECK, nullptr, SF_BUFFER, nullptr), 0);
    // The same check from code with tables is refused.
    EXPECT_EQ(nofp_victim(depth, SF_CHECK, nullptr, kOverflow, nullptr),
              -static_cast<int>(ViolationKind::kStackFrame));
  }
  EXPECT_EQ(recorder_.Take().size(), 3u);
}

}  // namespace
}  // namespace sealpool
