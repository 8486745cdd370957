// options_fuzzer — the SEALPOOL_OPTIONS parser (ParseRuntimeOptions).
//
// The input is parsed as an options string on top of a fuzzed starting
// state. The parser must never crash, and must agree with a reference
// model written from the documented grammar (runtime_options.h and
// allocator/internal/options.inc): pairs separated by ':', key and value
// by the first '=', keys from the table, valid pairs applied even when
// others are bad, the last occurrence of a key winning, and one error
// naming each bad pair. Every parsed state is then printed in the same
// grammar and parsed again onto the defaults: it must come back equal and
// without error (a round trip).
//
// Only ParseRuntimeOptions is called: SetRuntimeOptions would open log
// files named by the input.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "fuzz/fuzz_util.h"

namespace {

using sealpool::Mode;
using sealpool::RuntimeOptions;
using sealpool_fuzz::Finding;

// The model: one pair applied to `o`; false when the key is unknown or the
// value bad (then `o` is unchanged).
bool ModelApply(absl::string_view key, absl::string_view value,
                RuntimeOptions* o) {
  if (key == "mode") {
    if (value != "abort" && value != "report") return false;
    o->mode = value == "abort" ? Mode::kAbort : Mode::kReport;
    return true;
  }
  if (key == "log_path") {
    if (value.size() >= sizeof(o->log_path)) return false;
    std::memset(o->log_path, 0, sizeof(o->log_path));
    std::memcpy(o->log_path, value.data(), value.size());
    return true;
  }
  // Integer keys: the field and the documented range.
  struct IntKey {
    const char* name;
    int RuntimeOptions::*field;
    int lo, hi;
  };
  static const IntKey kInts[] = {
      {"arena_gib", &RuntimeOptions::arena_gib, 1, 1024},
      {"stack_depth", &RuntimeOptions::stack_depth, 0,
       sealpool::kMaxStackFrames},
      {"quarantine", &RuntimeOptions::quarantine, 0, 64},
      {"large_quarantine", &RuntimeOptions::large_quarantine, 0, 4096},
      {"pool_quarantine", &RuntimeOptions::pool_quarantine, 0, 4096},
      {"heap_pools", &RuntimeOptions::heap_pools, 1, 64},
      {"heap_shards", &RuntimeOptions::heap_shards, 0, 64},
  };
  for (const IntKey& k : kInts) {
    if (key != k.name) continue;
    int v = 0;
    if (!absl::SimpleAtoi(value, &v) || v < k.lo || v > k.hi) return false;
    o->*k.field = v;
    return true;
  }
  // Boolean keys: "0" or "1".
  struct BoolKey {
    const char* name;
    bool RuntimeOptions::*field;
  };
  static const BoolKey kBools[] = {
      {"symbolize", &RuntimeOptions::symbolize},
      {"print_stats", &RuntimeOptions::print_stats},
      {"atomic_free", &RuntimeOptions::atomic_free},
      {"random_reuse", &RuntimeOptions::random_reuse},
      {"zero_on_free", &RuntimeOptions::zero_on_free},
      {"write_after_free_check", &RuntimeOptions::write_after_free_check},
      {"canaries", &RuntimeOptions::canaries},
      {"alloc_sites", &RuntimeOptions::alloc_sites},
      {"check_libc", &RuntimeOptions::check_libc},
  };
  for (const BoolKey& k : kBools) {
    if (key != k.name) continue;
    if (value != "0" && value != "1") return false;
    o->*k.field = value == "1";
    return true;
  }
  return false;
}

// The model of the whole parse: the state, and the number of bad pairs.
int ModelParse(absl::string_view text, RuntimeOptions* o) {
  int bad = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t colon = text.find(':', pos);
    if (colon == absl::string_view::npos) colon = text.size();
    const absl::string_view pair = text.substr(pos, colon - pos);
    pos = colon + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      ++bad;
      continue;
    }
    if (!ModelApply(pair.substr(0, eq), pair.substr(eq + 1), o)) ++bad;
  }
  return bad;
}

// The log path as the program sees it: a C string.
std::string LogPath(const RuntimeOptions& o) {
  return std::string(o.log_path, strnlen(o.log_path, sizeof(o.log_path)));
}

bool Same(const RuntimeOptions& a, const RuntimeOptions& b) {
  return a.mode == b.mode && LogPath(a) == LogPath(b) &&
         a.arena_gib == b.arena_gib && a.stack_depth == b.stack_depth &&
         a.symbolize == b.symbolize && a.print_stats == b.print_stats &&
         a.atomic_free == b.atomic_free && a.random_reuse == b.random_reuse &&
         a.quarantine == b.quarantine &&
         a.large_quarantine == b.large_quarantine &&
         a.pool_quarantine == b.pool_quarantine &&
         a.zero_on_free == b.zero_on_free &&
         a.write_after_free_check == b.write_after_free_check &&
         a.canaries == b.canaries && a.heap_pools == b.heap_pools &&
         a.heap_shards == b.heap_shards &&
         a.alloc_sites == b.alloc_sites && a.check_libc == b.check_libc;
}

// Every key but mode and log_path as "key=value" pairs joined by `sep`.
std::string OtherKeys(const RuntimeOptions& o, const char* sep) {
  auto b = [](bool v) { return std::string(v ? "1" : "0"); };
  return sep + std::string("arena_gib=") + std::to_string(o.arena_gib) + sep +
         "stack_depth=" + std::to_string(o.stack_depth) + sep +
         "symbolize=" + b(o.symbolize) + sep + "print_stats=" +
         b(o.print_stats) + sep + "atomic_free=" + b(o.atomic_free) + sep +
         "random_reuse=" + b(o.random_reuse) + sep +
         "quarantine=" + std::to_string(o.quarantine) + sep +
         "large_quarantine=" + std::to_string(o.large_quarantine) + sep +
         "pool_quarantine=" + std::to_string(o.pool_quarantine) + sep +
         "zero_on_free=" + b(o.zero_on_free) + sep +
         "write_after_free_check=" + b(o.write_after_free_check) + sep +
         "canaries=" + b(o.canaries) + sep +
         "heap_pools=" + std::to_string(o.heap_pools) + sep +
         "heap_shards=" + std::to_string(o.heap_shards) + sep +
         "alloc_sites=" + b(o.alloc_sites) + sep + "check_libc=" + b(o.check_libc);
}

std::string Describe(const RuntimeOptions& o) {
  return "mode=" + std::string(o.mode == Mode::kAbort ? "abort" : "report") +
         " log_path='" + LogPath(o) + "'" + OtherKeys(o, " ");
}

// Prints `o` in SEALPOOL_OPTIONS' grammar.
std::string Print(const RuntimeOptions& o) {
  return "mode=" + std::string(o.mode == Mode::kAbort ? "abort" : "report") +
         ":log_path=" + LogPath(o) + OtherKeys(o, ":");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd >= 0) sealpool_fuzz::g_finding_fd = fd;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  // A starting state other than the defaults shows which keys a parse
  // leaves alone.
  RuntimeOptions start;
  if (fdp.ConsumeBool()) {
    start.mode = Mode::kReport;
    std::strcpy(start.log_path, "/tmp/previous.jsonl");
    start.arena_gib = 3;
    start.stack_depth = 5;
    start.symbolize = false;
    start.print_stats = true;
    start.atomic_free = false;
    start.random_reuse = false;
    start.quarantine = 7;
    start.large_quarantine = 9;
    start.pool_quarantine = 11;
    start.zero_on_free = false;
    start.write_after_free_check = false;
    start.canaries = false;
    start.heap_pools = 13;
    start.heap_shards = 3;
    start.alloc_sites = false;
    start.check_libc = false;
  }
  const std::string text = fdp.ConsumeRemainingBytesAsString();

  RuntimeOptions got = start;
  const absl::Status s = sealpool::ParseRuntimeOptions(text, &got);
  RuntimeOptions want = start;
  const int bad = ModelParse(text, &want);
  SEALPOOL_FUZZ_CHECK(
      s.ok() == (bad == 0),
      "parse of %zu bytes: status '%s', model counts %d bad pairs", text.size(),
      std::string(s.message()).c_str(), bad);
  SEALPOOL_FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kInvalidArgument,
                      "parse: status code %d", static_cast<int>(s.code()));
  SEALPOOL_FUZZ_CHECK(Same(got, want), "parse of %zu bytes: got %s, model %s",
                      text.size(), Describe(got).c_str(),
                      Describe(want).c_str());
  if (!s.ok()) {
    // One message part per bad pair, separated by "; ".
    const std::string m(s.message());
    int parts = 1;
    for (size_t p = m.find("; "); p != std::string::npos;
         p = m.find("; ", p + 2))
      ++parts;
    SEALPOOL_FUZZ_CHECK(parts >= bad,
                        "error names %d parts for %d bad pairs: '%s'", parts,
                        bad, m.c_str());
  }
  SEALPOOL_FUZZ_CHECK(got.log_path[sizeof(got.log_path) - 1] == '\0',
                      "log_path is not NUL-terminated");

  // Round trip: a state that a parse produced prints and parses back. A
  // log path with ':' cannot be written in the grammar (none can be
  // parsed in either), and a C string ends at its first NUL.
  const std::string printed = Print(got);
  RuntimeOptions again;
  const absl::Status s2 = sealpool::ParseRuntimeOptions(printed, &again);
  SEALPOOL_FUZZ_CHECK(s2.ok(), "re-parse of '%s' failed: %s", printed.c_str(),
                      std::string(s2.message()).c_str());
  SEALPOOL_FUZZ_CHECK(
      Same(got, again), "round trip: %s printed as '%s' parses as %s",
      Describe(got).c_str(), printed.c_str(), Describe(again).c_str());
  return 0;
}
