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
  if (key == "arena_gib" || key == "stack_depth") {
    int v = 0;
    if (!absl::SimpleAtoi(value, &v)) return false;
    const bool arena = key == "arena_gib";
    if (arena ? (v < 1 || v > 1024) : (v < 0 || v > sealpool::kMaxStackFrames))
      return false;
    (arena ? o->arena_gib : o->stack_depth) = v;
    return true;
  }
  if (key == "symbolize" || key == "print_stats") {
    if (value != "0" && value != "1") return false;
    (key == "symbolize" ? o->symbolize : o->print_stats) = value == "1";
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
         a.symbolize == b.symbolize && a.print_stats == b.print_stats;
}

std::string Describe(const RuntimeOptions& o) {
  return "mode=" + std::string(o.mode == Mode::kAbort ? "abort" : "report") +
         " log_path='" + LogPath(o) +
         "' arena_gib=" + std::to_string(o.arena_gib) +
         " stack_depth=" + std::to_string(o.stack_depth) +
         " symbolize=" + std::to_string(o.symbolize) +
         " print_stats=" + std::to_string(o.print_stats);
}

// Prints `o` in SEALPOOL_OPTIONS' grammar.
std::string Print(const RuntimeOptions& o) {
  return "mode=" + std::string(o.mode == Mode::kAbort ? "abort" : "report") +
         ":log_path=" + LogPath(o) +
         ":arena_gib=" + std::to_string(o.arena_gib) +
         ":stack_depth=" + std::to_string(o.stack_depth) +
         ":symbolize=" + (o.symbolize ? "1" : "0") +
         ":print_stats=" + (o.print_stats ? "1" : "0");
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
