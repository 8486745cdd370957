// Violation report stacks a developer can act on: the first frame is the
// host's call into sealpool (none of sealpool's own frames), every frame
// names module+offset, and with debug information file:line and inlined
// calls — in the stderr text, in abort mode (SymbolizedReportDeathTest)
// and in the JSON log, with the module map. libdw is loaded by the first
// report only: the program does not depend on it.
//
// The host functions below are outside namespace sealpool on purpose: code
// in that namespace counts as sealpool's own (allocator/internal/
// symbolize.cc).

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/str_cat.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace {

using ::sealpool_test::ReadFile;
using ::sealpool_test::StderrCapture;
using ::sealpool_test::UniqueName;

// Lines of the calls into sealpool, set by the host functions themselves.
int g_copy_line = 0;
int g_inlined_copy_line = 0;
int g_outer_line = 0;
int g_free_line = 0;

// A host function that copies out of bounds through the C API. The
// volatile result keeps the call from becoming a tail call (which would
// leave no frame of this function).
ABSL_ATTRIBUTE_NOINLINE void* HostCopyOutOfBounds(void* dst, const void* src,
                                                  size_t n) {
  g_copy_line = __LINE__ + 1;
  void* volatile r = sp_memcpy(dst, src, n);
  return r;
}

// clang 14 (the sanitizer stages) records no inlined-subroutine scope for
// the always_inline helper below at -O2 -- binutils' `addr2line -i` finds
// none either -- so the inlined frame can only be asserted with gcc.
#if defined(__clang__)
constexpr bool kCompilerRecordsInlinedHelper = false;
#else
constexpr bool kCompilerRecordsInlinedHelper = true;
#endif

// A host helper that is always inlined into its caller: its call into
// sealpool has the caller's return address, and DWARF tells the two apart.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void* InlinedHostCopy(void* dst,
                                                          const void* src,
                                                          size_t n) {
  g_inlined_copy_line = __LINE__ + 1;
  void* volatile r = sp_memcpy(dst, src, n);
  return r;
}

ABSL_ATTRIBUTE_NOINLINE void* HostCallsInlinedCopy(void* dst, const void* src,
                                                   size_t n) {
  g_outer_line = __LINE__ + 1;
  void* volatile r = InlinedHostCopy(dst, src, n);
  return r;
}

ABSL_ATTRIBUTE_NOINLINE int HostFreeTwice(void* p) {
  (void)sp_free(p);
  g_free_line = __LINE__ + 1;
  volatile int rc = sp_free(p);
  return rc;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The frame lines ("    #N ...") of a report, in order.
std::vector<std::string> FrameLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("    #", 0) == 0) out.push_back(line);
  }
  return out;
}

bool IsHex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A frame line "    #N 0xADDR[ in FUNCTION][ FILE[:LINE]][ (MODULE+0xOFFSET)]"
// taken apart; ok is false when the line has another shape.
struct FrameLine {
  bool ok = false;
  std::string number, addr, middle, module, offset;
};

FrameLine ParseFrameLine(const std::string& line) {
  FrameLine f;
  if (line.rfind("    #", 0) != 0) return f;
  const size_t sp = line.find(' ', 5);
  if (sp == std::string::npos) return f;
  f.number = line.substr(5, sp - 5);
  if (line.compare(sp + 1, 2, "0x") != 0) return f;
  size_t end = line.find(' ', sp + 3);
  f.addr = line.substr(sp + 3, end == std::string::npos ? std::string::npos
                                                         : end - sp - 3);
  if (!IsHex(f.addr) || f.number.empty() ||
      f.number.find_first_not_of("0123456789") != std::string::npos) {
    return f;
  }
  std::string rest = end == std::string::npos ? "" : line.substr(end);
  // The trailing " (MODULE+0xOFFSET)".
  const size_t open = rest.rfind(" (");
  if (open != std::string::npos && rest.back() == ')') {
    const std::string inner = rest.substr(open + 2, rest.size() - open - 3);
    const size_t plus = inner.rfind("+0x");
    if (plus != std::string::npos && plus > 0 &&
        IsHex(inner.substr(plus + 3))) {
      f.module = inner.substr(0, plus);
      f.offset = inner.substr(plus + 3);
      rest = rest.substr(0, open);
    }
  }
  f.middle = rest;
  f.ok = true;
  return f;
}

// The string value of the first "key":"..." at or after `from` in `json`.
std::string JsonStringAfter(const std::string& json, const std::string& key,
                            size_t from) {
  const std::string needle = "\"" + key + "\":\"";
  const size_t at = json.find(needle, from);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size();
  const size_t end = json.find('"', start);
  return end == std::string::npos ? "" : json.substr(start, end - start);
}


bool LibdwMapped() {
  return Contains(ReadFile("/proc/self/maps"), "/libdw");
}

// The name absl::Symbolize gives the call before return address `ret`.
std::string SymbolAt(void* ret) {
  char sym[512];
  if (!absl::Symbolize(static_cast<char*>(ret) - 1, sym, sizeof(sym))) {
    return "";
  }
  return sym;
}

// Report mode with a handler that keeps the first stack frame.
class SymbolizedReportTest : public ::testing::Test {
 protected:
  static void Handler(const sealpool::Violation& v, void* arg) {
    auto* self = static_cast<SymbolizedReportTest*>(arg);
    self->depth_ = v.stack_depth;
    self->top_ = v.stack_depth > 0 ? v.stack[0] : nullptr;
  }
  // What the reports made by fn() write to stderr.
  template <typename F>
  static std::string ReportsOf(F fn) {
    StderrCapture capture;
    EXPECT_TRUE(capture.ok());
    fn();
    capture.Restore();
    return capture.Text();
  }

  void SetUp() override {
    ASSERT_TRUE(sealpool::SetRuntimeOptions("stack_depth=32:symbolize=1").ok());
    sealpool::SetMode(sealpool::Mode::kReport);
    sealpool::SetViolationHandler(&Handler, this);
    pool_ = sp_pool_create(UniqueName("symbolized").c_str(), nullptr);
    ASSERT_NE(pool_, nullptr);
    obj_ = sp_alloc(pool_, 32);
    ASSERT_NE(obj_, nullptr);
  }
  void TearDown() override {
    sealpool::SetViolationHandler(nullptr, nullptr);
    sealpool::SetMode(sealpool::Mode::kAbort);
    if (obj_ != nullptr) sp_free(obj_);
    if (pool_ != nullptr) sp_pool_destroy(pool_);
  }

  sp_pool* pool_ = nullptr;
  void* obj_ = nullptr;
  char out_[128] = {};
  int depth_ = 0;
  void* top_ = nullptr;
};

TEST_F(SymbolizedReportTest, FirstFrameIsTheHostCallWithFileAndLine) {
  const std::string text = ReportsOf([&] {
    EXPECT_EQ(HostCopyOutOfBounds(out_, obj_, 48), nullptr);
  });
  const std::vector<std::string> frames = FrameLines(text);
  ASSERT_FALSE(frames.empty()) << text;
  const std::string& first = frames[0];
  // "#0 0xADDR in FUNCTION FILE:LINE (MODULE+0xOFFSET)"
  const FrameLine parsed = ParseFrameLine(first);
  ASSERT_TRUE(parsed.ok) << text;
  EXPECT_EQ(parsed.number, "0") << text;
  EXPECT_FALSE(parsed.module.empty()) << text;
  EXPECT_FALSE(parsed.offset.empty()) << text;
  EXPECT_EQ(parsed.middle.rfind(" in ", 0), 0u) << text;
  EXPECT_TRUE(Contains(first, " in (anonymous namespace)::HostCopyOutOfBounds("))
      << text;
  EXPECT_TRUE(Contains(first, absl::StrCat("symbolized_report_test.cc:",
                                           g_copy_line, " (")))
      << text;
  EXPECT_FALSE(Contains(first, " in sp_")) << text;
  EXPECT_FALSE(Contains(first, " in sealpool::")) << text;
  // No sealpool frame anywhere above the host's.
  EXPECT_FALSE(Contains(text, " in sp_memcpy")) << text;
  EXPECT_FALSE(Contains(text, "CheckedMemcpy")) << text;
  EXPECT_FALSE(Contains(text, "ReportViolation")) << text;
  // The handler's record starts at the same frame.
  ASSERT_GT(depth_, 0);
  EXPECT_TRUE(Contains(SymbolAt(top_), "HostCopyOutOfBounds")) << SymbolAt(top_);
}

TEST_F(SymbolizedReportTest, FreeReportStartsAtTheHostFree) {
  void* p = sp_alloc(pool_, 16);
  ASSERT_NE(p, nullptr);
  const std::string text = ReportsOf([&] {
    EXPECT_EQ(HostFreeTwice(p), SP_VIOLATION_DOUBLE_FREE);
  });
  const std::vector<std::string> frames = FrameLines(text);
  ASSERT_FALSE(frames.empty()) << text;
  EXPECT_TRUE(Contains(frames[0], "HostFreeTwice(")) << text;
  EXPECT_TRUE(Contains(frames[0], absl::StrCat("symbolized_report_test.cc:",
                                               g_free_line, " (")))
      << text;
  EXPECT_FALSE(Contains(text, "FreeSlow")) << text;
}

TEST_F(SymbolizedReportTest, InlinedCallerIsAFrameOfItsOwn) {
  if (!kCompilerRecordsInlinedHelper) {
    GTEST_SKIP() << "this compiler's debug information has no inlined scope here";
  }
  const std::string text = ReportsOf([&] {
    EXPECT_EQ(HostCallsInlinedCopy(out_, obj_, 48), nullptr);
  });
  const std::vector<std::string> frames = FrameLines(text);
  ASSERT_GE(frames.size(), 2u) << text;
  // #0: the inlined helper at its call; #1: its caller, same address, at
  // the line where the helper was inlined.
  EXPECT_TRUE(Contains(frames[0], " in InlinedHostCopy")) << text;
  EXPECT_TRUE(Contains(frames[0], absl::StrCat("symbolized_report_test.cc:",
                                               g_inlined_copy_line, " (")))
      << text;
  EXPECT_TRUE(Contains(frames[1], "HostCallsInlinedCopy(")) << text;
  EXPECT_TRUE(Contains(frames[1], absl::StrCat("symbolized_report_test.cc:",
                                               g_outer_line, " (")))
      << text;
  const FrameLine f0 = ParseFrameLine(frames[0]);
  const FrameLine f1 = ParseFrameLine(frames[1]);
  ASSERT_TRUE(f0.ok && f1.ok) << text;
  EXPECT_EQ(f0.number, "0");
  EXPECT_EQ(f1.number, "1");
  EXPECT_EQ(f0.addr, f1.addr) << text;
  EXPECT_EQ(f0.offset, f1.offset) << text;
}

TEST_F(SymbolizedReportTest, WithoutSymbolsFramesKeepModuleAndOffset) {
  ASSERT_TRUE(sealpool::SetRuntimeOptions("symbolize=0").ok());
  sealpool::SetMode(sealpool::Mode::kReport);  // SetRuntimeOptions applies one
  const std::string text = ReportsOf([&] {
    EXPECT_EQ(HostCopyOutOfBounds(out_, obj_, 48), nullptr);
  });
  ASSERT_TRUE(sealpool::SetRuntimeOptions("symbolize=1").ok());
  sealpool::SetMode(sealpool::Mode::kReport);
  const std::vector<std::string> frames = FrameLines(text);
  ASSERT_FALSE(frames.empty()) << text;
  const FrameLine parsed = ParseFrameLine(frames[0]);
  ASSERT_TRUE(parsed.ok) << text;
  EXPECT_EQ(parsed.middle, "") << text;  // no name, no file
  EXPECT_FALSE(parsed.module.empty()) << text;
  EXPECT_FALSE(parsed.offset.empty()) << text;
  // Still the host's frame first (the own-frame rule does not need the
  // names printed).
  EXPECT_TRUE(Contains(SymbolAt(top_), "HostCopyOutOfBounds")) << SymbolAt(top_);
}

// module+offset is the address in the module's file: the module's load
// bias plus the offset is the printed address.
TEST_F(SymbolizedReportTest, OffsetIsRelativeToTheModuleLoadBias) {
  const std::string text = ReportsOf([&] {
    EXPECT_EQ(HostCopyOutOfBounds(out_, obj_, 48), nullptr);
  });
  const std::vector<std::string> frames = FrameLines(text);
  ASSERT_FALSE(frames.empty()) << text;
  const FrameLine parsed = ParseFrameLine(frames[0]);
  ASSERT_TRUE(parsed.ok && !parsed.offset.empty()) << text;
  const uintptr_t addr = std::stoull(parsed.addr, nullptr, 16);
  const uintptr_t offset = std::stoull(parsed.offset, nullptr, 16);
  char exe[512];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  ASSERT_GT(n, 0);
  exe[n] = '\0';
  EXPECT_EQ(parsed.module, exe) << text;
  // The test binary is position-independent (the library is built with
  // -fPIC; the executable is PIE on Debian), so the bias is not 0 under
  // ASLR, and the offset is smaller than the address.
  EXPECT_LT(offset, addr) << text;
  // The executable's first mapping in /proc/self/maps starts at the bias
  // for a PIE whose first segment is at ELF address 0.
  const std::string maps = ReadFile("/proc/self/maps");
  std::istringstream in(maps);
  std::string line;
  uintptr_t base = 0;
  while (std::getline(in, line)) {
    if (line.size() > strlen(exe) &&
        line.compare(line.size() - strlen(exe), strlen(exe), exe) == 0) {
      base = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
      break;
    }
  }
  ASSERT_NE(base, 0u) << maps;
  EXPECT_EQ(addr - offset, base) << text;
}

// The JSON log: per frame addr/module/offset/function/file/line, inlined
// calls, and the module map.
class SymbolizedJsonLogTest : public SymbolizedReportTest {
 protected:
  void SetUp() override {
    char path[] = "/tmp/sealpool-symbolized-json-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = path;
    ASSERT_TRUE(sealpool::SetRuntimeOptions("log_path=" + path_).ok());
    SymbolizedReportTest::SetUp();
  }
  void TearDown() override {
    EXPECT_TRUE(sealpool::SetRuntimeOptions("log_path=").ok());
    SymbolizedReportTest::TearDown();
    unlink(path_.c_str());
  }
  std::string path_;
};

TEST_F(SymbolizedJsonLogTest, FramesCarryModuleOffsetFileLineAndModuleMap) {
  {
    StderrCapture quiet;
    EXPECT_EQ(HostCopyOutOfBounds(out_, obj_, 48), nullptr);
    EXPECT_EQ(HostCallsInlinedCopy(out_, obj_, 48), nullptr);
  }
  std::vector<std::string> lines;
  {
    std::istringstream in(ReadFile(path_));
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 2u) << ReadFile(path_);
  char exe[512];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  ASSERT_GT(n, 0);
  exe[n] = '\0';

  const std::string& direct = lines[0];
  EXPECT_EQ(direct.back(), '}') << direct;
  // The old field stays.
  EXPECT_TRUE(Contains(direct, "\"stack\":[\"0x")) << direct;
  // The first frame's keys, in order.
  const size_t frames_at = direct.find("\"frames\":[{\"addr\":\"0x");
  ASSERT_NE(frames_at, std::string::npos) << direct;
  const size_t first_end = direct.find('}', frames_at);
  ASSERT_NE(first_end, std::string::npos) << direct;
  const std::string first = direct.substr(frames_at, first_end - frames_at);
  EXPECT_EQ(JsonStringAfter(first, "module", 0), exe) << first;
  EXPECT_TRUE(IsHex(JsonStringAfter(first, "offset", 0).substr(2))) << first;
  EXPECT_TRUE(Contains(JsonStringAfter(first, "function", 0),
                       "HostCopyOutOfBounds("))
      << first;
  EXPECT_TRUE(Contains(JsonStringAfter(first, "file", 0),
                       "symbolized_report_test.cc"))
      << first;
  EXPECT_TRUE(Contains(first, absl::StrCat("\"line\":", g_copy_line))) << first;
  const size_t order[] = {first.find("\"addr\""), first.find("\"module\""),
                          first.find("\"offset\""), first.find("\"function\""),
                          first.find("\"file\""), first.find("\"line\"")};
  for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); ++i) {
    EXPECT_LT(order[i - 1], order[i]) << first;
  }
  // The module map names the executable, its load bias and its build-id.
  const size_t modules_at = direct.find("\"modules\":[");
  ASSERT_NE(modules_at, std::string::npos) << direct;
  const size_t exe_at =
      direct.find(absl::StrCat("{\"path\":\"", exe, "\""), modules_at);
  ASSERT_NE(exe_at, std::string::npos) << direct;
  EXPECT_EQ(JsonStringAfter(direct, "base", exe_at).rfind("0x", 0), 0u)
      << direct;
  const std::string build_id = JsonStringAfter(direct, "build_id", exe_at);
  EXPECT_GE(build_id.size(), 16u) << direct;
  EXPECT_TRUE(IsHex(build_id)) << direct;

  if (!kCompilerRecordsInlinedHelper) return;
  const std::string& inlined = lines[1];
  EXPECT_TRUE(Contains(
      inlined,
      absl::StrCat("\"line\":", g_outer_line, ",\"inlined\":[{\"function\":\"")))
      << inlined;
  EXPECT_TRUE(Contains(inlined, "InlinedHostCopy")) << inlined;
  EXPECT_TRUE(Contains(inlined, absl::StrCat("\"line\":", g_inlined_copy_line,
                                             "}]")))
      << inlined;
}

// Abort mode: the report printed before abort() starts at the host.
using SymbolizedReportDeathTest = SymbolizedReportTest;

TEST_F(SymbolizedReportDeathTest, AbortReportStartsAtTheHostCall) {
  sealpool::SetMode(sealpool::Mode::kAbort);
  EXPECT_DEATH(HostCopyOutOfBounds(out_, obj_, 48),
               "memory exposure attempt detected[^\n]*\n[^\n]*\n"
               "    #0 0x[0-9a-f]+ in [^\n]*HostCopyOutOfBounds\\([^\n]*"
               "symbolized_report_test\\.cc:[0-9]+ \\([^\n]*\\+0x[0-9a-f]+\\)");
}

// The program does not depend on libdw: no DT_NEEDED entry, and it is not
// mapped until a report asks for file:line. Checked in a fresh process
// that runs only this test, so that no earlier report has loaded it.
TEST(SymbolizedReportStartupTest, LibdwIsLoadedByTheFirstReportOnly) {
  if (getenv("SEALPOOL_TEST_LIBDW_CHILD") != nullptr) {
    ASSERT_FALSE(LibdwMapped()) << ReadFile("/proc/self/maps");
    ASSERT_TRUE(sealpool::SetRuntimeOptions("symbolize=1").ok());
    sealpool::SetMode(sealpool::Mode::kReport);
    sp_pool* pool = sp_pool_create(UniqueName("startup").c_str(), nullptr);
    ASSERT_NE(pool, nullptr);
    void* obj = sp_alloc(pool, 32);
    ASSERT_NE(obj, nullptr);
    char out[64];
    {
      StderrCapture quiet;
      EXPECT_EQ(HostCopyOutOfBounds(out, obj, 48), nullptr);
    }
    // Loaded now (or not installed at all, which the report survives).
    EXPECT_TRUE(LibdwMapped() || access("/usr/lib/x86_64-linux-gnu/libdw.so.1",
                                        F_OK) != 0);
    sp_free(obj);
    sp_pool_destroy(pool);
    sealpool::SetMode(sealpool::Mode::kAbort);
    return;
  }
  // DT_NEEDED, as the dynamic section lists it.
  FILE* readelf = popen("readelf -d /proc/self/exe 2>/dev/null", "r");
  ASSERT_NE(readelf, nullptr);
  std::string dynamic;
  char buf[512];
  while (fgets(buf, sizeof(buf), readelf) != nullptr) dynamic += buf;
  const int readelf_status = pclose(readelf);
  if (readelf_status == 0) {
    EXPECT_TRUE(Contains(dynamic, "(NEEDED)")) << dynamic;  // it did list
    EXPECT_FALSE(Contains(dynamic, "libdw")) << dynamic;
    EXPECT_FALSE(Contains(dynamic, "libelf")) << dynamic;
  }
  // A fresh process.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("SEALPOOL_TEST_LIBDW_CHILD", "1", 1);
    execl("/proc/self/exe", "sealpool_tests",
          "--gtest_filter=SymbolizedReportStartupTest."
          "LibdwIsLoadedByTheFirstReportOnly",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
