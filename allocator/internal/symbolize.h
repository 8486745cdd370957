// sealpool — stack frames of violation reports: which module a frame is in,
// where in that module, and, when the module has debug information, the
// source file, line and inlined calls.
//
// Three sources, cheapest first:
//  - dl_iterate_phdr() names the module holding an address, its load bias
//    and its GNU build-id (always available);
//  - absl::Symbolize() names the function from the ELF symbol table (no
//    debug information needed);
//  - libdw (elfutils), when installed, gives file:line and the chain of
//    inlined calls from DWARF. It is never linked: the first report that
//    asks for symbols dlopen()s "libdw.so.1" (RTLD_LAZY | RTLD_LOCAL) and
//    resolves the dozen functions it uses with dlsym(), so that a program
//    linked with sealpool loads no extra shared object at start-up and
//    runs without elfutils installed. When it is missing, or fails, frames
//    keep their function name and module+offset.
//
// The report path's properties hold here: nothing is allocated from pools,
// no lock is waited for (one Dwfl handle is shared under a try-lock; a
// report that finds it busy goes without file:line) and every output is a
// bounded buffer. libdw itself uses malloc(); sealpool does not replace
// malloc, so that is never a pool allocation.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_SYMBOLIZE_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_SYMBOLIZE_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace internal {

// The loaded ELF object (executable, shared library, vDSO) holding an
// address.
struct ModuleInfo {
  bool found = false;
  char path[256] = {};      // as the loader has it; the executable's from
                            // /proc/self/exe; "" when unknown
  uintptr_t bias = 0;       // load bias: run-time address - ELF address
  char build_id[65] = {};   // NT_GNU_BUILD_ID as lowercase hex (at most 32
                            // bytes), or ""
};

// Fills *out for the module whose PT_LOAD segments hold `addr`;
// out->found is false when none does (JIT code, a freed mapping). Takes
// the loader's lock (dl_iterate_phdr). Never allocates.
void FindModule(uintptr_t addr, ModuleInfo* out);

// One source position: a function and where in it.
struct SourceLocation {
  char function[256] = {};  // demangled; "" when unknown
  char file[256] = {};      // as the line table has it; "" when unknown
  int line = 0;             // 0 when unknown
};

// Most inlined calls shown for one return address.
inline constexpr int kMaxInlinedFrames = 6;

// Everything known about one stack frame.
//
// `locations[0 .. count)` runs innermost first: locations[0] is the
// function whose code the address is in (an inlined callee, when there is
// one) at the line of the address; each next entry is the caller it was
// inlined into, at the line of that (inlined) call; the last is the
// function the machine code belongs to. Without debug information count is
// 1, with the symbol table's name and no file.
struct FrameSymbols {
  int count = 0;
  SourceLocation locations[kMaxInlinedFrames];
};

// How many frames at the top of `frames[0 .. n)` (return addresses,
// innermost first) are sealpool's own; see symbolize.cc for the rule. 0
// when the first frame has no symbol (a stripped program): then nothing is
// known. Never counts a frame it cannot name.
int CountOwnFrames(void* const* frames, int n);

// A scope in which frames are described. Construct one per report: it
// takes the shared libdw handle when `use_debug_info` and the handle is
// free (loading libdw and reading the process's modules the first time),
// and gives it back on destruction. Not copyable.
class FrameSymbolizer {
 public:
  explicit FrameSymbolizer(bool use_debug_info);
  ~FrameSymbolizer();
  FrameSymbolizer(const FrameSymbolizer&) = delete;
  FrameSymbolizer& operator=(const FrameSymbolizer&) = delete;

  // Describes the frame of return address `ret` (the call instruction
  // before it is looked up). Never fails: what is not known stays empty.
  void Describe(uintptr_t ret, FrameSymbols* out);

  // True when this scope holds libdw (file:line will be found where the
  // module has DWARF).
  bool has_debug_info() const { return dwfl_ != nullptr; }

 private:
  void* dwfl_ = nullptr;  // Dwfl*, owned by the shared cache
};

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_SYMBOLIZE_H_
