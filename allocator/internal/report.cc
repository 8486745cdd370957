// sealpool — violation reports: wording, formatting, modes and handlers.
//
// The wording follows the kernel's hardened usercopy ("memory exposure
// attempt detected ... !") and keeps each kind's first line stable: tests
// and log scrapers match on it.

#include "allocator/internal/report.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/debugging/stacktrace.h"
#include "absl/debugging/symbolize.h"
#include "allocator/internal/check.h"
#include "allocator/runtime_options.h"

namespace sealpool {
namespace {

std::atomic<int> g_mode{static_cast<int>(Mode::kAbort)};
std::atomic<ViolationHandler> g_handler{nullptr};
std::atomic<void*> g_handler_arg{nullptr};
std::atomic<uint64_t> g_violations{0};
std::atomic<uint64_t> g_pool_violations[internal::kMaxPools + 1];
std::atomic<int> g_log_fd{-1};
std::atomic<int> g_stack_depth{kMaxStackFrames};
std::atomic<bool> g_symbolize{true};

const char* DirName(CopyDirection d) {
  switch (d) {
    case CopyDirection::kRead:
      return "read";
    case CopyDirection::kWrite:
      return "write";
    default:
      return "none";
  }
}

// One JSON object per line; field names are stable (see README).
void WriteJsonLine(int fd, const Violation& v) {
  char buf[4096];
  internal::FixedWriter w(buf, sizeof(buf));
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  w.Str("{\"time\":").Dec(static_cast<uint64_t>(ts.tv_sec)).Str(".");
  char ms[4] = {static_cast<char>('0' + ts.tv_nsec / 100000000),
                static_cast<char>('0' + ts.tv_nsec / 10000000 % 10),
                static_cast<char>('0' + ts.tv_nsec / 1000000 % 10), '\0'};
  w.Str(ms);
  w.Str(",\"kind\":").Json(ViolationKindName(v.kind));
  w.Str(",\"pool\":");
  if (v.pool_name != nullptr) {
    w.Json(v.pool_name);
  } else {
    w.Str("null");
  }
  w.Str(",\"pool_id\":").Dec(v.pool_id);
  w.Str(",\"addr\":").Dec(v.addr).Str(",\"len\":").Dec(v.len);
  w.Str(",\"dir\":").Json(DirName(v.dir));
  w.Str(",\"object_start\":").Dec(v.object_start);
  w.Str(",\"object_size\":").Dec(v.object_size);
  w.Str(",\"offset\":").Dec(v.offset);
  w.Str(",\"thread\":").Dec(v.thread_id);
  w.Str(",\"detail\":");
  if (v.detail != nullptr) {
    w.Json(v.detail);
  } else {
    w.Str("null");
  }
  w.Str(",\"stack\":[");
  for (int i = 0; i < v.stack_depth; ++i) {
    w.Str(i > 0 ? ",\"" : "\"").Hex(reinterpret_cast<uintptr_t>(v.stack[i]))
        .Str("\"");
  }
  w.Str("]}\n");
  internal::WriteAll(fd, w.data(), w.length());
}

constexpr const char* kKindNames[kViolationKindCount] = {
    "none",           "double-free",     "invalid-free",  "sealed-free",
    "metadata-corruption", "out-of-bounds", "use-after-free", "guard-page",
    "metadata-page",  "unused-page",     "sealed-write",  "usercopy-window",
    "bogus-pointer",  "stack",           "image-segment", "heap-overflow",
    "write-after-free"};

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
    case ViolationKind::kHeapOverflow:
      w.Str("sealpool: heap overflow detected in pool '").Str(pool)
          .Str("' (object ").Hex(v.object_start).Str(", size ")
          .Dec(v.object_size).Str(", canary overwritten at offset ");
      if (v.addr < v.object_start) {
        w.Str("-").Dec(v.object_start - v.addr);
      } else {
        w.Str("").Dec(v.addr - v.object_start);
      }
      w.Str(")!");
      return;
    case ViolationKind::kWriteAfterFree:
      w.Str("sealpool: write after free detected in pool '").Str(pool)
          .Str("' (slot ").Hex(v.object_start).Str(", slot size ")
          .Dec(v.object_size).Str(", written at offset ").Dec(v.offset)
          .Str(")!");
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
    if (g_symbolize.load(std::memory_order_relaxed) &&
        absl::Symbolize(pc, sym, sizeof(sym))) {
      w.Str(" in ").Str(sym);
    }
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

ViolationKind ReportViolation(Violation& v, int skip_frames) {
  GetRuntimeOptions();  // reads SEALPOOL_OPTIONS on first use
  v.thread_id = static_cast<uint64_t>(syscall(SYS_gettid));
  v.stack_depth = absl::GetStackTrace(
      v.stack, g_stack_depth.load(std::memory_order_relaxed), skip_frames);
  g_violations.fetch_add(1, std::memory_order_relaxed);
  if (v.pool_id != 0 && v.pool_id <= internal::kMaxPools) {
    g_pool_violations[v.pool_id].fetch_add(1, std::memory_order_relaxed);
  }
  if (ViolationHandler fn = g_handler.load(std::memory_order_acquire)) {
    fn(v, g_handler_arg.load(std::memory_order_acquire));
  }
  WriteReport(v);
  const int fd = g_log_fd.load(std::memory_order_acquire);
  if (fd >= 0) WriteJsonLine(fd, v);
  if (GetMode() == Mode::kAbort) abort();
  return v.kind;
}

namespace internal {

// The log is a regular file. The open never blocks: O_NONBLOCK makes a
// FIFO without a reader fail at once (ENXIO) instead of waiting for one,
// and anything that is not a regular file (FIFO, device, directory,
// socket) is refused with one line on stderr.
void SetReportLogPath(const char* path) {
  int fd = -1;
  if (path != nullptr && path[0] != '\0') {
    fd = open(path,
              O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
              0644);
    // ENXIO: a FIFO without a reader, or a socket; EISDIR: a directory.
    bool not_regular = fd < 0 && (errno == ENXIO || errno == EISDIR);
    if (fd >= 0) {
      struct stat st;
      const bool stat_ok = fstat(fd, &st) == 0;
      not_regular = stat_ok && !S_ISREG(st.st_mode);
      // A regular file: writes block as usual again.
      const int flags = stat_ok && !not_regular ? fcntl(fd, F_GETFL) : -1;
      if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        close(fd);
        fd = -1;
      }
    }
    if (fd < 0) {
      char buf[512];
      FixedWriter w(buf, sizeof(buf));
      if (not_regular) {
        w.Str("sealpool: log_path '").Str(path)
            .Str("' is not a regular file; JSON reports are off\n");
      } else {
        w.Str("sealpool: cannot open log_path '").Str(path)
            .Str("'; JSON reports are off\n");
      }
      WriteAll(STDERR_FILENO, w.data(), w.length());
    }
  }
  const int old = g_log_fd.exchange(fd, std::memory_order_acq_rel);
  if (old >= 0) close(old);
}

void SetReportStackDepth(int depth, bool symbolize) {
  if (depth < 0) depth = 0;
  if (depth > kMaxStackFrames) depth = kMaxStackFrames;
  g_stack_depth.store(depth, std::memory_order_relaxed);
  g_symbolize.store(symbolize, std::memory_order_relaxed);
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

FixedWriter& FixedWriter::Json(const char* s) {
  Str("\"");
  char one[8];
  for (; *s != '\0'; ++s) {
    const unsigned char ch = static_cast<unsigned char>(*s);
    if (ch == '"' || ch == '\\') {
      one[0] = '\\';
      one[1] = static_cast<char>(ch);
      one[2] = '\0';
    } else if (ch < 0x20 || ch >= 0x7f) {
      one[0] = '\\';
      one[1] = 'u';
      one[2] = '0';
      one[3] = '0';
      one[4] = "0123456789abcdef"[ch >> 4];
      one[5] = "0123456789abcdef"[ch & 15];
      one[6] = '\0';
    } else {
      one[0] = static_cast<char>(ch);
      one[1] = '\0';
    }
    Str(one);
  }
  return Str("\"");
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
