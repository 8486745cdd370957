// sealpool — runtime options, set by the SEALPOOL_OPTIONS environment
// variable in AddressSanitizer's style:
//
//   SEALPOOL_OPTIONS=mode=report:log_path=/tmp/sp.jsonl:stack_depth=8
//
// Keys and values are separated by '=', pairs by ':'. The options are read
// once, the first time sealpool needs them (pool creation, a check, a
// report). A malformed string is never fatal: each bad pair is named in one
// line on stderr and that key keeps its default. The table of keys lives in
// allocator/internal/options.inc.

#ifndef SEALPOOL_ALLOCATOR_RUNTIME_OPTIONS_H_
#define SEALPOOL_ALLOCATOR_RUNTIME_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "allocator/violation.h"

namespace sealpool {

struct RuntimeOptions {
  Mode mode = Mode::kAbort;
  char log_path[256] = {};
  int arena_gib = 64;
  int stack_depth = kMaxStackFrames;
  bool symbolize = true;
  bool print_stats = false;
  // Hardening (see allocator/internal/options.inc), read at pool creation.
  bool atomic_free = true;
  bool random_reuse = true;
  int quarantine = 32;
  int large_quarantine = 64;
  int pool_quarantine = 16;
  bool zero_on_free = true;
  bool write_after_free_check = true;
  bool canaries = true;
  // Whole-program mode (allocator/malloc/).
  int heap_pools = 8;
  int heap_shards = 1;  // 0: one per CPU the process may run on, at most 8
  bool alloc_sites = true;
  bool check_libc = true;
};

// Parses `text` on top of `*out` (pairs not named keep their value).
// Returns OK, or InvalidArgument naming every bad pair; valid pairs are
// applied either way. Never allocates on success; never crashes.
absl::Status ParseRuntimeOptions(absl::string_view text, RuntimeOptions* out);

// The options in force (SEALPOOL_OPTIONS, read on first use). Thread-safe.
const RuntimeOptions& GetRuntimeOptions();

// Parses `text` on top of the options in force and applies the result
// (mode, log file, stack depth). Returns what ParseRuntimeOptions returns.
// For tests and tools; not meant to race with reports.
absl::Status SetRuntimeOptions(absl::string_view text);

// The options table as Markdown (key, default, meaning), for the README.
std::string RuntimeOptionsMarkdown();

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_RUNTIME_OPTIONS_H_
