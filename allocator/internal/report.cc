// sealpool — violation reports: wording, formatting, modes and handlers.
//
// The wording follows the kernel's hardened usercopy ("memory exposure
// attempt detected ... !") and keeps each kind's first line stable: tests
// and log scrapers match on it.

#include "allocator/internal/report.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/debugging/stacktrace.h"
#include "absl/debugging/symbolize.h"
#include "allocator/internal/check.h"

namespace sealpool {
namespace {

std::atomic<int> g_mode{static_cast<int>(Mode::kAbort)};
std::atomic<ViolationHandler> g_handler{nullptr};
std::atomic<void*> g_handler_arg{nullptr};
std::atomic<uint64_t> g_violations{0};
std::atomic<uint64_t> g_pool_violations[internal::kMaxPools + 1];

constexpr const char* kKindNames[kViolationKindCount] = {
    "none",           "double-free",     "invalid-free",  "sealed-free",
    "metadata-corruption", "out-of-bounds", "use-after-free", "guard-page",
    "metadata-page",  "unused-page",     "sealed-write",  "usercopy-window",
    "bogus-pointer",  "stack",           "image-segment"};

// First line of a report, by kind.
void Headline(internal::FixedWriter& w, const Violation& v) {
  const char* pool = v.pool_name != nullptr ? v.pool_name : "?";
  switch (v.kind) {
    case ViolationKind::kDoubleFree:
      w.Str("sealpool: double free detected in pool '").Str(pool)
          .Str("' (object ").Hex(v.object_start).Str(", size ")
          .Dec(v.object_size).Str(")!");
      return;
    case ViolationKind::kInvalidFree:
      w.Str("sealpool: invalid free of ").Hex(v.addr);
      if (v.pool_name != nullptr) {
        w.Str(" in pool '").Str(pool).Str("'");
      }
      w.Str(" (").Str(v.detail != nullptr ? v.detail : "not a pool object")
          .Str(")!");
      return;
    case ViolationKind::kSealedFree:
      w.Str("sealpool: free of sealed object ").Hex(v.addr)
          .Str(" in pool '").Str(pool).Str("'!");
      return;
    case ViolationKind::kMetadataCorruption:
      w.Str("sealpool: metadata corruption detected");
      if (v.pool_name != nullptr) w.Str(" in pool '").Str(pool).Str("'");
      w.Str(" (").Str(v.detail != nullptr ? v.detail : "bad canary")
          .Str(" at ").Hex(v.addr).Str(")!");
      return;
    default:
      break;
  }
  // Copy violations, in the kernel's words.
  w.Str(v.dir == CopyDirection::kWrite
            ? "sealpool: memory overwrite attempt detected to "
            : "sealpool: memory exposure attempt detected from ");
  if (v.pool_name != nullptr) {
    w.Str("pool '").Str(pool).Str("'");
  } else {
    w.Str(ViolationKindName(v.kind));
  }
  w.Str(" (");
  if (v.object_start != 0) {
    w.Str("object ").Hex(v.object_start).Str(", offset ").Dec(v.offset)
        .Str(", size ").Dec(v.len).Str(", object size ").Dec(v.object_size);
  } else {
    w.Str("address ").Hex(v.addr).Str(", size ").Dec(v.len);
  }
  w.Str(")!");
}

void WriteReport(const Violation& v) {
  char buf[4096];
  internal::FixedWriter w(buf, sizeof(buf));
  Headline(w, v);
  w.Str("\n  kind: ").Str(ViolationKindName(v.kind));
  if (v.detail != nullptr) w.Str(" (").Str(v.detail).Str(")");
  w.Str("; pool id ").Dec(v.pool_id).Str("; thread ").Dec(v.thread_id)
      .Str("\n");
  for (int i = 0; i < v.stack_depth; ++i) {
    char sym[256];
    w.Str("    #").Dec(static_cast<uint64_t>(i)).Str(" ")
        .Hex(reinterpret_cast<uintptr_t>(v.stack[i]));
    // Return addresses point after the call; look up the call itself.
    void* pc = static_cast<char*>(v.stack[i]) - (i > 0 ? 1 : 0);
    if (absl::Symbolize(pc, sym, sizeof(sym))) w.Str(" in ").Str(sym);
    w.Str("\n");
  }
  internal::WriteAll(STDERR_FILENO, w.data(), w.length());
}

}  // namespace

const char* ViolationKindName(ViolationKind kind) {
  const int k = static_cast<int>(kind);
  return k >= 0 && k < kViolationKindCount ? kKindNames[k] : "unknown";
}

void SetMode(Mode mode) {
  g_mode.store(static_cast<int>(mode), std::memory_order_relaxed);
}
Mode GetMode() {
  return static_cast<Mode>(g_mode.load(std::memory_order_relaxed));
}

void SetViolationHandler(ViolationHandler fn, void* arg) {
  // Clear first so that a concurrent report never pairs fn with a stale arg
  // of another handler.
  g_handler.store(nullptr, std::memory_order_release);
  g_handler_arg.store(arg, std::memory_order_release);
  g_handler.store(fn, std::memory_order_release);
}

uint64_t ViolationCount() {
  return g_violations.load(std::memory_order_relaxed);
}

namespace internal {

ViolationKind ReportViolation(Violation& v, int skip_frames) {
  v.thread_id = static_cast<uint64_t>(syscall(SYS_gettid));
  v.stack_depth = absl::GetStackTrace(v.stack, kMaxStackFrames, skip_frames);
  g_violations.fetch_add(1, std::memory_order_relaxed);
  if (v.pool_id != 0 && v.pool_id <= kMaxPools) {
    g_pool_violations[v.pool_id].fetch_add(1, std::memory_order_relaxed);
  }
  if (ViolationHandler fn = g_handler.load(std::memory_order_acquire)) {
    fn(v, g_handler_arg.load(std::memory_order_acquire));
  }
  WriteReport(v);
  if (GetMode() == Mode::kAbort) abort();
  return v.kind;
}

uint64_t PoolViolationCount(uint32_t pool_id) {
  return pool_id <= kMaxPools
             ? g_pool_violations[pool_id].load(std::memory_order_relaxed)
             : 0;
}

void ResetPoolViolationCount(uint32_t pool_id) {
  if (pool_id <= kMaxPools) {
    g_pool_violations[pool_id].store(0, std::memory_order_relaxed);
  }
}

FixedWriter& FixedWriter::Str(const char* s) {
  while (*s != '\0' && len_ + 1 < size_) buf_[len_++] = *s++;
  buf_[len_] = '\0';
  return *this;
}

FixedWriter& FixedWriter::Dec(uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char out[24];
  for (int i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  out[n] = '\0';
  return Str(out);
}

FixedWriter& FixedWriter::Hex(uint64_t v) {
  char out[20] = "0x";
  char tmp[17];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  for (int i = 0; i < n; ++i) out[2 + i] = tmp[n - 1 - i];
  out[2 + n] = '\0';
  return Str(out);
}

void WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    len -= static_cast<size_t>(n);
  }
}

void CheckFailed(const char* file, int line, const char* msg) {
  char buf[512];
  FixedWriter w(buf, sizeof(buf));
  w.Str("sealpool: internal check failed: ").Str(file).Str(":")
      .Dec(static_cast<uint64_t>(line)).Str(": ").Str(msg).Str("\n");
  WriteAll(STDERR_FILENO, w.data(), w.length());
  abort();
}

}  // namespace internal
}  // namespace sealpool
