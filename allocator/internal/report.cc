// sealpool — violation reports: wording, formatting, modes and handlers.
//
// The wording follows the kernel's hardened usercopy ("memory exposure
// attempt detected ... !") and keeps each kind's first line stable: tests
// and log scrapers match on it. Stacks start at the host's call into
// sealpool and name module+offset, function and, with debug information,
// file:line (symbolize.h); WriteReports() documents both formats. The
// writer's buffers (about 40 KiB of stack in all) are fixed.

#include "allocator/internal/report.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "absl/debugging/stacktrace.h"
#include "absl/debugging/symbolize.h"
#include "allocator/internal/alloc_site.h"
#include "allocator/internal/check.h"
#include "allocator/internal/reentry.h"
#include "allocator/internal/symbolize.h"
#include "allocator/runtime_options.h"

namespace sealpool {
namespace {

std::atomic<int> g_mode{static_cast<int>(Mode::kAbort)};
std::atomic<ViolationHandler> g_handler{nullptr};
std::atomic<void*> g_handler_arg{nullptr};
std::atomic<uint64_t> g_violations{0};
std::atomic<uint64_t> g_pool_violations[internal::kMaxPools + 1];
std::atomic<int> g_log_fd{-1};
// The log file's identity and path: a program may close the descriptor
// and reuse its number (closefrom(3) in daemons), so a report checks that
// the descriptor still is the log and reopens it otherwise.
char g_log_path[256];
std::atomic<uint64_t> g_log_dev{0}, g_log_ino{0};
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

// The JSON record's fields up to the stack (README "Violation reports").
void JsonHead(internal::FixedWriter& w, const Violation& v,
              const char* frame_function) {
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
  if (v.kind == ViolationKind::kStackFrame) {
    w.Str(",\"frame_function\":").Json(frame_function);
  }
  w.Str(",\"stack\":[");
  for (int i = 0; i < v.stack_depth; ++i) {
    w.Str(i > 0 ? ",\"" : "\"").Hex(reinterpret_cast<uintptr_t>(v.stack[i]))
        .Str("\"");
  }
  w.Str("]");
}

constexpr const char* kKindNames[kViolationKindCount] = {
    "none",           "double-free",     "invalid-free",  "sealed-free",
    "metadata-corruption", "out-of-bounds", "use-after-free", "guard-page",
    "metadata-page",  "unused-page",     "sealed-write",  "usercopy-window",
    "bogus-pointer",  "stack",           "image-segment", "heap-overflow",
    "write-after-free", "stack-frame",   "object-size"};

// First line of a report, by kind. `frame_function`: the name of the
// function whose frame a stack-frame report is about ("?" when unknown).
void Headline(internal::FixedWriter& w, const Violation& v,
              const char* frame_function) {
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
  if (v.kind == ViolationKind::kStackFrame) {
    // The kernel's "process stack", narrowed to the frame.
    w.Str("process stack frame of '").Str(frame_function).Str("' (frame ")
        .Hex(v.object_start).Str(", offset ").Dec(v.offset).Str(", size ")
        .Dec(v.len).Str(", frame size ").Dec(v.object_size).Str(")!");
    return;
  }
  if (v.kind == ViolationKind::kObjectSize) {
    if (v.pool_name != nullptr) {
      w.Str("pool '").Str(pool).Str("'");
    } else {
      w.Str(v.region != nullptr ? v.region : "memory");
    }
    w.Str(" (address ").Hex(v.addr).Str(", size ").Dec(v.len)
        .Str(", known object size ").Dec(v.object_size).Str(")!");
    return;
  }
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

// The modules a report's frames are in, each once.
struct FrameModules {
  static constexpr int kMax = 8;
  int count = 0;
  internal::ModuleInfo modules[kMax];
  int index[kMaxStackFrames];  // into modules, -1 when unknown

  explicit FrameModules(const Violation& v) {
    for (int i = 0; i < v.stack_depth; ++i) {
      index[i] = -1;
      internal::ModuleInfo m;
      // The call before the return address: a tail call's return address
      // can be one past its module's last byte.
      internal::FindModule(reinterpret_cast<uintptr_t>(v.stack[i]) - 1, &m);
      if (!m.found) continue;
      for (int k = 0; k < count && index[i] < 0; ++k) {
        if (modules[k].bias == m.bias && strcmp(modules[k].path, m.path) == 0) {
          index[i] = k;
        }
      }
      if (index[i] < 0 && count < kMax) {
        modules[count] = m;
        index[i] = count++;
      }
    }
  }
};

// One frame location in the text report, one line (see WriteReports).
// 0xADDR[ in FUNCTION][ FILE[:LINE]][ (MODULE+0xOFFSET)] and a newline: a
// frame's text after its number, and the "object allocated at" line's.
void TextLocation(internal::FixedWriter& w, uintptr_t ret,
                  const internal::SourceLocation* loc,
                  const internal::ModuleInfo* module) {
  w.Hex(ret);
  if (loc != nullptr && loc->function[0] != '\0') {
    w.Str(" in ").Str(loc->function);
  }
  if (loc != nullptr && loc->file[0] != '\0') {
    w.Str(" ").Str(loc->file);
    if (loc->line > 0) w.Str(":").Dec(static_cast<uint64_t>(loc->line));
  }
  if (module != nullptr) {
    w.Str(" (").Str(module->path).Str("+").Hex(ret - module->bias).Str(")");
  }
  w.Str("\n");
}

void TextFrame(internal::FixedWriter& w, int number, uintptr_t ret,
               const internal::SourceLocation* loc,
               const internal::ModuleInfo* module) {
  w.Str("    #").Dec(static_cast<uint64_t>(number)).Str(" ");
  TextLocation(w, ret, loc, module);
}

void JsonLocation(internal::FixedWriter& w, const internal::SourceLocation& l) {
  bool first = true;
  auto key = [&](const char* k) {
    w.Str(first ? "\"" : ",\"").Str(k).Str("\":");
    first = false;
  };
  if (l.function[0] != '\0') {
    key("function");
    w.Json(l.function);
  }
  if (l.file[0] != '\0') {
    key("file");
    w.Json(l.file);
  }
  if (l.line > 0) {
    key("line");
    w.Dec(static_cast<uint64_t>(l.line));
  }
}

// One entry of the JSON record's "frames".
void JsonFrame(internal::FixedWriter& w, uintptr_t ret,
               const internal::FrameSymbols& f,
               const internal::ModuleInfo* module) {
  w.Str("{\"addr\":\"").Hex(ret).Str("\"");
  if (module != nullptr) {
    w.Str(",\"module\":").Json(module->path);
    w.Str(",\"offset\":\"").Hex(ret - module->bias).Str("\"");
  }
  if (f.count > 0) {
    const internal::SourceLocation& outer = f.locations[f.count - 1];
    if (outer.function[0] != '\0' || outer.file[0] != '\0') {
      w.Str(",");
      JsonLocation(w, outer);
    }
  }
  if (f.count > 1) {
    w.Str(",\"inlined\":[");
    for (int k = 0; k + 1 < f.count; ++k) {
      w.Str(k > 0 ? ",{" : "{");
      JsonLocation(w, f.locations[k]);
      w.Str("}");
    }
    w.Str("]");
  }
  w.Str("}");
}

// The record's "modules": the frames' modules, so that a log can be
// symbolized offline. An entry that does not fit is left out.
void JsonModules(internal::FixedWriter& w, const FrameModules& mods) {
  w.Str(",\"modules\":[");
  int written = 0;
  for (int k = 0; k < mods.count; ++k) {
    const internal::ModuleInfo& m = mods.modules[k];
    char buf[1024];
    internal::FixedWriter e(buf, sizeof(buf));
    e.Str(written > 0 ? ",{" : "{").Str("\"path\":").Json(m.path);
    e.Str(",\"base\":\"").Hex(m.bias).Str("\"");
    if (m.build_id[0] != '\0') e.Str(",\"build_id\":\"").Str(m.build_id).Str("\"");
    e.Str("}");
    if (e.full() || e.length() + 2 > w.remaining()) continue;
    w.Str(e.data());
    ++written;
  }
  w.Str("]");
}

// Writes the stderr report and, when `log_fd` >= 0, the JSON line, walking
// the frames once for both.
//
// Text frames, one line per source location, in AddressSanitizer's style:
//
//     #N 0xADDR[ in FUNCTION][ FILE[:LINE]][ (MODULE+0xOFFSET)]
//
// ADDR is the return address; FUNCTION, FILE and LINE describe the call
// before it; MODULE is the path of the ELF object holding it and OFFSET
// ADDR's address in that file (ADDR minus the load bias), what
// `addr2line -e MODULE` takes. A call inlined into its caller is a line of
// its own with the same ADDR, innermost first; N counts lines.
//
// The JSON line (README "Violation reports") keeps "stack" (the return
// addresses) and adds "frames", one object per return address:
//   {"addr":"0x...","module":"/path","offset":"0x...","function":"f()",
//    "file":"/src/f.cc","line":42,"inlined":[{"function":...,"file":...,
//    "line":...}]}
// where function/file/line are the machine code's own function (the line
// of the call, or of the inlined call chain), "inlined" the inlined calls
// innermost first, each key present only when known; and "modules", one
// {"path","base","build_id"} per module the frames are in ("base" is the
// load bias, build_id the GNU build-id in hex when the module has one).
// The record is always whole JSON: a frame that would not fit is left out.
void WriteReports(const Violation& v, int log_fd) {
  char text_buf[8192];
  internal::FixedWriter w(text_buf, sizeof(text_buf));
  char frame_function[256] = "?";
  if (v.kind == ViolationKind::kStackFrame && v.frame_pc != 0 &&
      !absl::Symbolize(reinterpret_cast<void*>(v.frame_pc), frame_function,
                       sizeof(frame_function))) {
    std::memcpy(frame_function, "?", 2);
  }
  Headline(w, v, frame_function);
  w.Str("\n  kind: ").Str(ViolationKindName(v.kind));
  if (v.detail != nullptr) w.Str(" (").Str(v.detail).Str(")");
  w.Str("; pool id ").Dec(v.pool_id).Str("; thread ").Dec(v.thread_id)
      .Str("\n");
  // The headline goes out before anything is symbolized: loading libdw and
  // reading debug information allocate (from libc) and read files, and a
  // report must say what happened even if that goes wrong.
  internal::WriteAll(STDERR_FILENO, w.data(), w.length());
  w = internal::FixedWriter(text_buf, sizeof(text_buf));

  const bool json = log_fd >= 0;
  char json_buf[16384];
  internal::FixedWriter j(json_buf, sizeof(json_buf));
  char modules_buf[4096];
  internal::FixedWriter mw(modules_buf, sizeof(modules_buf));
  const FrameModules mods(v);
  if (json) {
    JsonHead(j, v, frame_function);
    JsonModules(mw, mods);
    j.Str(",\"frames\":[");
  }

  const bool names = g_symbolize.load(std::memory_order_relaxed);
  internal::FrameSymbolizer symbolizer(names);
  int number = 0;
  int json_frames = 0;
  for (int i = 0; i < v.stack_depth; ++i) {
    const uintptr_t ret = reinterpret_cast<uintptr_t>(v.stack[i]);
    const internal::ModuleInfo* module =
        mods.index[i] >= 0 ? &mods.modules[mods.index[i]] : nullptr;
    internal::FrameSymbols f;
    if (names) symbolizer.Describe(ret, &f);
    if (f.count == 0) TextFrame(w, number++, ret, nullptr, module);
    for (int k = 0; k < f.count; ++k) {
      TextFrame(w, number++, ret, &f.locations[k], module);
    }
    if (!json) continue;
    char frame_buf[4096];
    internal::FixedWriter fw(frame_buf, sizeof(frame_buf));
    fw.Str(json_frames > 0 ? "," : "");
    JsonFrame(fw, ret, f, module);
    // Room for this frame, the modules and the closing "]}\n".
    if (!fw.full() && fw.length() + mw.length() + 8 <= j.remaining()) {
      j.Str(fw.data());
      ++json_frames;
    }
  }
  // Where the object was allocated, when whole-program mode recorded it:
  //     object allocated at 0xADDR[ in FUNCTION][ FILE[:LINE]][ (MODULE+0xOFFSET)]
  // and in the JSON line "alloc_site", an entry shaped like "frames"' ones.
  const uintptr_t object = v.object_start != 0 ? v.object_start : v.addr;
  const uintptr_t site = v.pool_id != 0 ? internal::AllocSiteOf(object) : 0;
  char site_buf[4096];
  internal::FixedWriter sw(site_buf, sizeof(site_buf));
  if (site != 0) {
    internal::ModuleInfo m;
    internal::FindModule(site - 1, &m);
    internal::FrameSymbols f;
    if (names) symbolizer.Describe(site, &f);
    const internal::SourceLocation* loc =
        f.count > 0 ? &f.locations[f.count - 1] : nullptr;
    w.Str("    object allocated at ");
    TextLocation(w, site, loc, m.found ? &m : nullptr);
    if (json) {
      sw.Str(",\"alloc_site\":");
      JsonFrame(sw, site, f, m.found ? &m : nullptr);
      if (sw.full()) sw = internal::FixedWriter(site_buf, sizeof(site_buf));
    }
  }
  internal::WriteAll(STDERR_FILENO, w.data(), w.length());
  if (json) {
    j.Str("]");
    if (sw.length() > 0 && sw.length() + mw.length() + 4 <= j.remaining()) {
      j.Str(sw.data());
    }
    j.Str(mw.data()).Str("}\n");
    internal::WriteAll(log_fd, j.data(), j.length());
  }
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
  // What a report allocates (the symbolizer, a handler) is internal: in
  // whole-program mode it must not come from the heap being reported on.
  internal::InternalScope internal_scope;
  GetRuntimeOptions();  // reads SEALPOOL_OPTIONS on first use
  v.thread_id = static_cast<uint64_t>(syscall(SYS_gettid));
  // The stack from the host's call into sealpool. The walk starts here and
  // drops sealpool's own frames by name (CountOwnFrames, symbolize.cc),
  // which is exact whatever the compiler inlined; only a program without a
  // symbol table falls back on the caller's count, `skip_frames`. A few
  // frames more than asked for are walked, so that `stack_depth` of the
  // host's are left.
  const int depth = g_stack_depth.load(std::memory_order_relaxed);
  v.stack_depth = 0;
  if (depth > 0) {
    constexpr int kOwnFramesMax = 16;
    void* frames[kMaxStackFrames + kOwnFramesMax];
    const int n = absl::GetStackTrace(frames, depth + kOwnFramesMax, 0);
    int own = internal::CountOwnFrames(frames, n);
    if (own == 0 || own == n) own = skip_frames < n ? skip_frames : n;
    const int left = n - own;
    v.stack_depth = left < depth ? left : depth;
    memcpy(v.stack, frames + own,
           sizeof(void*) * static_cast<size_t>(v.stack_depth));
  }
  g_violations.fetch_add(1, std::memory_order_relaxed);
  if (v.pool_id != 0 && v.pool_id <= internal::kMaxPools) {
    g_pool_violations[v.pool_id].fetch_add(1, std::memory_order_relaxed);
  }
  if (ViolationHandler fn = g_handler.load(std::memory_order_acquire)) {
    fn(v, g_handler_arg.load(std::memory_order_acquire));
  }
  WriteReports(v, internal::ReportLogFd());
  if (GetMode() == Mode::kAbort) abort();
  return v.kind;
}

namespace internal {

// The log is a regular file. The open never blocks: O_NONBLOCK makes a
// FIFO without a reader fail at once (ENXIO) instead of waiting for one,
// and anything that is not a regular file (FIFO, device, directory,
// socket) is refused with one line on stderr.
int ReportLogFd() {
  const int fd = g_log_fd.load(std::memory_order_acquire);
  if (fd < 0) return fd;
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_dev == g_log_dev.load(std::memory_order_relaxed) &&
      st.st_ino == g_log_ino.load(std::memory_order_relaxed)) {
    return fd;
  }
  // Not ours any more: the number is the program's now; never close it.
  g_log_fd.store(-1, std::memory_order_release);
  char path[sizeof(g_log_path)];
  std::memcpy(path, g_log_path, sizeof(path));
  SetReportLogPath(path);
  return g_log_fd.load(std::memory_order_acquire);
}

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
  if (path != g_log_path) {
    const size_t n = path != nullptr ? strnlen(path, sizeof(g_log_path) - 1) : 0;
    if (n != 0) std::memcpy(g_log_path, path, n);
    g_log_path[n] = '\0';
  }
  // The old descriptor is closed only while it still is the old log.
  const int old = g_log_fd.exchange(-1, std::memory_order_acq_rel);
  struct stat st;
  if (old >= 0 && fstat(old, &st) == 0 &&
      st.st_dev == g_log_dev.load(std::memory_order_relaxed) &&
      st.st_ino == g_log_ino.load(std::memory_order_relaxed)) {
    close(old);
  }
  if (fd >= 0 && fstat(fd, &st) == 0) {
    g_log_dev.store(st.st_dev, std::memory_order_relaxed);
    g_log_ino.store(st.st_ino, std::memory_order_relaxed);
  }
  g_log_fd.store(fd, std::memory_order_release);
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
