// sealpool — SEALPOOL_OPTIONS parsing.

#include "allocator/runtime_options.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/base/call_once.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "allocator/inspect.h"
#include "allocator/internal/report.h"
#include "allocator/internal/runtime_options_parse.h"

namespace sealpool {
namespace {

enum OptionKind { kMode, kPath, kInt, kBool };

struct OptionSpec {
  OptionKind kind;
  const char* name;
  const char* default_value;
  const char* description;
};

constexpr OptionSpec kOptions[] = {
#define SEALPOOL_OPTION(kind, name, def, desc) {kind, #name, def, desc},
#include "allocator/internal/options.inc"
#undef SEALPOOL_OPTION
};

// Applies one key=value; false when the key is unknown or the value bad.
bool Apply(const OptionSpec& spec, absl::string_view value, RuntimeOptions* o) {
  const absl::string_view name = spec.name;
  switch (spec.kind) {
    case kMode:
      if (value == "abort") {
        o->mode = Mode::kAbort;
      } else if (value == "report") {
        o->mode = Mode::kReport;
      } else {
        return false;
      }
      return true;
    case kPath:
      if (value.size() >= sizeof(o->log_path)) return false;
      std::memcpy(o->log_path, value.data(), value.size());
      o->log_path[value.size()] = '\0';
      return true;
    case kInt: {
      int v = 0;
      if (!absl::SimpleAtoi(value, &v)) return false;
      if (name == "stack_depth") {
        if (v < 0 || v > kMaxStackFrames) return false;
        o->stack_depth = v;
      } else if (name == "arena_gib") {
        if (v < 1 || v > 1024) return false;
        o->arena_gib = v;
      } else if (name == "quarantine") {
        if (v < 0 || v > 64) return false;
        o->quarantine = v;
      } else if (name == "large_quarantine" || name == "pool_quarantine") {
        if (v < 0 || v > 4096) return false;
        (name == "large_quarantine" ? o->large_quarantine : o->pool_quarantine) = v;
      } else if (name == "heap_pools") {
        if (v < 1 || v > 64) return false;
        o->heap_pools = v;
      } else if (name == "heap_shards") {
        if (v < 0 || v > 64) return false;
        o->heap_shards = v;
      }
      return true;
    }
    case kBool:
      if (value != "0" && value != "1") return false;
      if (name == "symbolize") o->symbolize = value == "1";
      if (name == "print_stats") o->print_stats = value == "1";
      if (name == "random_reuse") o->random_reuse = value == "1";
      if (name == "atomic_free") o->atomic_free = value == "1";
      if (name == "zero_on_free") o->zero_on_free = value == "1";
      if (name == "write_after_free_check") {
        o->write_after_free_check = value == "1";
      }
      if (name == "canaries") o->canaries = value == "1";
      if (name == "alloc_sites") o->alloc_sites = value == "1";
      if (name == "check_libc") o->check_libc = value == "1";
      return true;
  }
  return false;
}

RuntimeOptions g_options;
absl::once_flag g_options_once;

// The table goes to a copy of standard error taken when the option is
// applied: programs may close stderr in their own exit handlers (coreutils'
// close_stdout does), which run before this one.
// If the program closed that copy and reused its number, the table goes to
// whatever standard error is then.
int g_stats_fd = -1;
dev_t g_stats_dev = 0;
ino_t g_stats_ino = 0;

void DumpStatsAtExit() {
  struct stat st;
  const bool ours = g_stats_fd >= 0 && fstat(g_stats_fd, &st) == 0 &&
                    st.st_dev == g_stats_dev && st.st_ino == g_stats_ino;
  const int fd = ours ? g_stats_fd : fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  g_stats_fd = -1;
  if (fd < 0) return;
  if (FILE* f = fdopen(fd, "w")) {
    DumpStats(f);
    std::fclose(f);
  } else {
    close(fd);
  }
}

void ApplyToRuntime(const RuntimeOptions& o) {
  if (o.print_stats) {
    if (g_stats_fd < 0) {
      g_stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      struct stat st;
      if (g_stats_fd >= 0 && fstat(g_stats_fd, &st) == 0) {
        g_stats_dev = st.st_dev;
        g_stats_ino = st.st_ino;
      }
    }
    static const int registered = std::atexit(DumpStatsAtExit);
    (void)registered;
  }
  SetMode(o.mode);
  internal::SetReportLogPath(o.log_path);
  internal::SetReportStackDepth(o.stack_depth, o.symbolize);
}

void InitOptions() {
  RuntimeOptions o;
  for (const OptionSpec& spec : kOptions) {
    Apply(spec, spec.default_value, &o);
  }
  // A mode set through SetMode() before the first use stays, unless the
  // environment says otherwise.
  o.mode = GetMode();
  if (const char* env = std::getenv("SEALPOOL_OPTIONS")) {
    std::string errors;
    if (!internal::ParseOptionsText(env, &o, &errors)) {
      char buf[512];
      internal::FixedWriter w(buf, sizeof(buf));
      w.Str("sealpool: SEALPOOL_OPTIONS: ").Str(errors.c_str())
          .Str(" (defaults kept for those keys)\n");
      internal::WriteAll(STDERR_FILENO, w.data(), w.length());
    }
  }
  g_options = o;
  ApplyToRuntime(g_options);
}

}  // namespace

namespace internal {

bool ParseOptionsText(absl::string_view text, RuntimeOptions* out,
                      std::string* errors_out) {
  std::string errors;
  while (!text.empty()) {
    const size_t colon = text.find(':');
    const absl::string_view pair = text.substr(0, colon);
    text = colon == absl::string_view::npos ? absl::string_view()
                                            : text.substr(colon + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const absl::string_view key = pair.substr(0, eq);
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : kOptions) {
      if (key == s.name) spec = &s;
    }
    if (spec == nullptr) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "unknown key '",
                      key, "'");
    } else if (eq == absl::string_view::npos) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "key '", key,
                      "' has no value");
    } else if (!Apply(*spec, pair.substr(eq + 1), out)) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "bad value '",
                      pair.substr(eq + 1), "' for key '", key, "'");
    }
  }
  const bool ok = errors.empty();
  if (errors_out != nullptr) *errors_out = std::move(errors);
  return ok;
}

void ReplaceRuntimeOptions(const RuntimeOptions& o) {
  GetRuntimeOptions();
  g_options = o;
  ApplyToRuntime(g_options);
}

}  // namespace internal

const RuntimeOptions& GetRuntimeOptions() {
  absl::call_once(g_options_once, InitOptions);
  return g_options;
}

std::string RuntimeOptionsMarkdown() {
  std::string out = "| option | default | meaning |\n|---|---|---|\n";
  for (const OptionSpec& s : kOptions) {
    const absl::string_view def = s.default_value;
    absl::StrAppend(&out, "| `", s.name, "` | ",
                    def.empty() ? "(empty)" : absl::StrCat("`", def, "`"),
                    " | ", s.description, " |\n");
  }
  return out;
}

}  // namespace sealpool
