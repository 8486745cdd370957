// sealpool-report on real logs: violations raised here in report mode, with
// log_path set, are read back and checked record by record against what the
// violation handler saw; the groups against the handler's records grouped
// the same way; and the sealpool-report program itself (table, --json,
// standard input, several files, unreadable inputs, exit status).

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tools/report/format.h"
#include "tools/report/json.h"
#include "tools/report/violation_log.h"

#ifndef SEALPOOL_REPORT_BINARY
#error "SEALPOOL_REPORT_BINARY must name the sealpool-report program"
#endif

// Two host call sites of one checked copy, for the log another process
// writes (LogWriterProcess below). Outside namespace sealpool: frames in
// that namespace count as sealpool's own. The volatile results keep the
// calls from becoming tail calls.
namespace {

ABSL_ATTRIBUTE_NOINLINE void* HostCopySiteA(void* dst, const void* src,
                                            size_t n) {
  void* volatile r = sp_memcpy(dst, src, n);
  return r;
}
constexpr int kSiteALine = __LINE__ - 3;

// Counted, so that the two sites differ and the compiler cannot fold them
// into one function.
int g_site_b_calls = 0;

ABSL_ATTRIBUTE_NOINLINE void* HostCopySiteB(void* dst, const void* src,
                                            size_t n) {
  ++g_site_b_calls;
  void* volatile r = sp_memcpy(dst, src, n);
  return r;
}
constexpr int kSiteBLine = __LINE__ - 3;

// A deep host stack: every frame of the report is a host frame.
ABSL_ATTRIBUTE_NOINLINE void* RecurseThenCopy(int depth, void* dst,
                                              const void* src, size_t n) {
  if (depth == 0) {
    void* volatile r = sp_memcpy(dst, src, n);
    return r;
  }
  void* volatile r = RecurseThenCopy(depth - 1, dst, src, n);
  return r;
}

}  // namespace

namespace sealpool {
namespace report {
namespace {

// What the handler saw of one violation.
struct Seen {
  std::string kind;
  bool has_pool = false;
  std::string pool;
  uint64_t addr = 0, len = 0, object_start = 0, object_size = 0, offset = 0;
  uint64_t thread = 0;
  std::string dir;
  std::vector<uint64_t> stack;
};

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

std::string UniquePoolName(const char* base) {
  static std::atomic<int> counter{0};
  return absl::StrCat(base, "-", getpid(), "-", ++counter);
}

std::string ReadAll(const std::string& path) {
  std::string out;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

double NowSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Output and exit status of a shell command.
struct ToolRun {
  int status = -1;
  std::string out;
};

ToolRun RunCommand(const std::string& command) {
  ToolRun r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Tool(const std::string& args) {
  return absl::StrCat("'", SEALPOOL_REPORT_BINARY, "' ", args, " 2>/dev/null");
}

class RealLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/sealpool-report-tool-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    // Reports go to stderr too; keep the stack short and unsymbolized so
    // that the test's output stays readable.
    ASSERT_TRUE(SetRuntimeOptions("stack_depth=4:symbolize=0").ok());
    SetMode(Mode::kReport);
    SetViolationHandler(&RealLogTest::Handler, this);
  }

  void TearDown() override {
    EXPECT_TRUE(SetRuntimeOptions("log_path=:stack_depth=32:symbolize=1").ok());
    SetViolationHandler(nullptr, nullptr);
    SetMode(Mode::kAbort);
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }

  static void Handler(const Violation& v, void* arg) {
    Seen s;
    s.kind = ViolationKindName(v.kind);
    s.has_pool = v.pool_name != nullptr;
    if (v.pool_name != nullptr) s.pool = v.pool_name;
    s.addr = v.addr;
    s.len = v.len;
    s.object_start = v.object_start;
    s.object_size = v.object_size;
    s.offset = v.offset;
    s.thread = v.thread_id;
    s.dir = DirName(v.dir);
    for (int i = 0; i < v.stack_depth; ++i) {
      s.stack.push_back(reinterpret_cast<uintptr_t>(v.stack[i]));
    }
    auto* self = static_cast<RealLogTest*>(arg);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->seen_.push_back(std::move(s));
  }

  // Sends the JSON log to a new file in the test's directory.
  std::string LogTo(const std::string& name) {
    const std::string path = absl::StrCat(dir_, "/", name);
    files_.push_back(path);
    EXPECT_TRUE(SetRuntimeOptions("log_path=" + path).ok());
    SetMode(Mode::kReport);
    return path;
  }

  // Raises violations of several kinds in two pools and outside pools,
  // `rounds` times from each call site.
  void RaiseViolations(int rounds) {
    sp_pool* a = sp_pool_create(UniquePoolName("tool-a").c_str(), nullptr);
    sp_pool* b = sp_pool_create(UniquePoolName("tool-b").c_str(), nullptr);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    char* p = static_cast<char*>(sp_alloc(a, 50));
    char* q = static_cast<char*>(sp_alloc(b, 24));
    char* keep = static_cast<char*>(sp_alloc(b, 24));
    ASSERT_NE(p, nullptr);
    ASSERT_NE(q, nullptr);
    ASSERT_NE(keep, nullptr);
    ASSERT_EQ(sp_free(q), 0);
    char out[128];
    for (int i = 0; i < rounds; ++i) {
      // Over-reads of different lengths from one call site.
      EXPECT_NE(sp_check_copy(p + i, 51, SP_COPY_READ), 0);
      // Use after free.
      EXPECT_NE(sp_check_copy(q + 4, 8, SP_COPY_WRITE), 0);
      // A checked copy running past the object.
      EXPECT_EQ(sp_memcpy(out, p, 60 + static_cast<size_t>(i)), nullptr);
      // Double free.
      EXPECT_NE(sp_free(q), 0);
      // A bogus pointer: no pool.
      EXPECT_NE(sp_check_copy(nullptr, 7, SP_COPY_READ), 0);
    }
    EXPECT_EQ(sp_free(p), 0);
    EXPECT_EQ(sp_free(keep), 0);
    EXPECT_EQ(sp_pool_destroy(a), 0);
    EXPECT_EQ(sp_pool_destroy(b), 0);
  }

  std::vector<Seen> TakeSeen() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Seen> out;
    out.swap(seen_);
    return out;
  }

  std::string dir_;
  std::vector<std::string> files_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

TEST_F(RealLogTest, EveryLineIsTheRecordTheHandlerSaw) {
  const std::string log = LogTo("one.jsonl");
  const double before = NowSeconds();
  RaiseViolations(3);
  const double after = NowSeconds();
  const std::vector<Seen> seen = TakeSeen();
  ASSERT_FALSE(seen.empty());

  const std::string text = ReadAll(log);
  std::vector<LogRecord> records;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    ASSERT_NE(nl, std::string::npos) << "every line ends in a newline";
    absl::StatusOr<LogRecord> r =
        ParseLogRecord(text.substr(start, nl - start));
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << text.substr(start, nl - start);
    records.push_back(*r);
    start = nl + 1;
  }
  ASSERT_EQ(records.size(), seen.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("record ", i, " (", seen[i].kind, ")"));
    const LogRecord& r = records[i];
    EXPECT_EQ(r.kind, seen[i].kind);
    EXPECT_EQ(r.has_pool, seen[i].has_pool);
    EXPECT_EQ(r.pool, seen[i].pool);
    EXPECT_EQ(r.addr, seen[i].addr);
    EXPECT_EQ(r.len, seen[i].len);
    EXPECT_EQ(r.dir, seen[i].dir);
    EXPECT_EQ(r.object_start, seen[i].object_start);
    EXPECT_EQ(r.object_size, seen[i].object_size);
    EXPECT_EQ(r.offset, seen[i].offset);
    EXPECT_EQ(r.thread, seen[i].thread);
    EXPECT_EQ(r.stack, seen[i].stack);
    ASSERT_TRUE(r.has_time);
    // The log keeps milliseconds, truncated.
    EXPECT_GE(r.time, before - 0.001);
    EXPECT_LE(r.time, after + 0.001);
  }
}

TEST_F(RealLogTest, GroupsMatchTheHandlersRecordsAcrossFiles) {
  const std::string first = LogTo("first.jsonl");
  RaiseViolations(2);
  const std::vector<Seen> seen_first = TakeSeen();
  const std::string second = LogTo("second.jsonl");
  RaiseViolations(4);
  const std::vector<Seen> seen_second = TakeSeen();
  ASSERT_TRUE(SetRuntimeOptions("log_path=").ok());

  for (int frames : {0, 1, 2}) {
    SCOPED_TRACE(absl::StrCat("frames=", frames));
    GroupingOptions options;
    options.frames = frames;
    // Expected groups: the handler's records keyed as the tool keys them.
    using Key = std::tuple<std::string, std::string, std::vector<uint64_t>>;
    std::map<Key, uint64_t> want;
    std::map<Key, int> in_file;  // bit 0: first file, bit 1: second
    int file_bit = 1;
    for (const std::vector<Seen>* seen : {&seen_first, &seen_second}) {
      for (const Seen& s : *seen) {
        std::vector<uint64_t> key_frames;
        for (size_t i = 0;
             i < s.stack.size() && i < static_cast<size_t>(frames); ++i) {
          key_frames.push_back(s.stack[i] & 0xfff);
        }
        const Key key{s.kind, s.has_pool ? s.pool : "(null)", key_frames};
        ++want[key];
        in_file[key] |= file_bit;
      }
      file_bit <<= 1;
    }

    Summarizer summarizer(options);
    ASSERT_TRUE(summarizer.AddFile(first).ok());
    ASSERT_TRUE(summarizer.AddFile(second).ok());
    const Summary s = summarizer.Finish();
    EXPECT_EQ(s.malformed, 0u);
    EXPECT_EQ(s.records, seen_first.size() + seen_second.size());
    ASSERT_EQ(s.groups.size(), want.size());
    for (const ViolationGroup& g : s.groups) {
      std::vector<uint64_t> key_frames;
      for (uint64_t pc : g.frames) key_frames.push_back(pc & 0xfff);
      const Key key{g.kind, g.has_pool ? g.pool : "(null)", key_frames};
      ASSERT_EQ(want.count(key), 1u) << g.kind << " " << g.pool;
      EXPECT_EQ(g.count, want[key]) << g.kind << " " << g.pool;
      // Pools are new in each round: each group lives in the files whose
      // records it holds.
      EXPECT_EQ(g.first_seen.input, (in_file[key] & 1) ? 0u : 1u);
      EXPECT_EQ(g.last_seen.input, (in_file[key] & 2) ? 1u : 0u);
      EXPECT_LE(g.first_time, g.last_time);
    }
  }
}

TEST_F(RealLogTest, TheProgramPrintsTableAndJson) {
  const std::string first = LogTo("a.jsonl");
  RaiseViolations(2);
  const std::string second = LogTo("b.jsonl");
  RaiseViolations(1);
  ASSERT_TRUE(SetRuntimeOptions("log_path=").ok());
  const size_t total = TakeSeen().size();
  // A malformed line, as a crash mid-write could leave.
  {
    const int fd = open(second.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    const char cut[] = "{\"time\":1795800047.884,\"kind\":\"out-of-bo";
    ASSERT_EQ(write(fd, cut, sizeof(cut) - 1),
              static_cast<ssize_t>(sizeof(cut) - 1));
    close(fd);
  }
  Summarizer summarizer;
  ASSERT_TRUE(summarizer.AddFile(first).ok());
  ASSERT_TRUE(summarizer.AddFile(second).ok());
  const Summary want = summarizer.Finish();
  ASSERT_EQ(want.records, total);

  const ToolRun table =
      RunCommand(Tool(absl::StrCat("'", first, "' '", second, "'")));
  EXPECT_EQ(table.status, 0) << table.out;
  EXPECT_EQ(table.out, FormatTable(want));
  EXPECT_TRUE(absl::StrContains(
      table.out,
      absl::StrCat(total, " violations in ", want.groups.size(), " groups")))
      << table.out;
  EXPECT_TRUE(absl::StrContains(
      table.out, "malformed: 1 line skipped; the first at " + second + ":"))
      << table.out;

  const ToolRun json =
      RunCommand(Tool(absl::StrCat("--json '", first, "' '", second, "'")));
  EXPECT_EQ(json.status, 0);
  const absl::StatusOr<JsonValue> parsed = ParseJson(json.out);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << json.out;
  uint64_t n = 0;
  ASSERT_TRUE(parsed->Find("records")->AsUint64(&n));
  EXPECT_EQ(n, total);
  const std::vector<JsonValue>& groups = parsed->Find("groups")->items();
  ASSERT_EQ(groups.size(), want.groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    EXPECT_EQ(groups[i].Find("kind")->text(), want.groups[i].kind);
    EXPECT_EQ(groups[i].Find("pool")->is_null(), !want.groups[i].has_pool);
    ASSERT_TRUE(groups[i].Find("count")->AsUint64(&n));
    EXPECT_EQ(n, want.groups[i].count);
  }

  // Standard input, named "-".
  const ToolRun stdin_run = RunCommand(Tool(absl::StrCat("- < '", first, "'")));
  EXPECT_EQ(stdin_run.status, 0);
  Summarizer one;
  ASSERT_TRUE(one.AddFile(first).ok());
  const Summary from_first = one.Finish();
  EXPECT_TRUE(absl::StrContains(
      stdin_run.out, absl::StrCat(from_first.records, " violations")))
      << stdin_run.out;
  EXPECT_TRUE(absl::StrContains(stdin_run.out, " -:1 ")) << stdin_run.out;
}

// The deepest stack, symbolized, still makes one whole JSON record whose
// frames match its stack, each with module and offset, read back by the
// tool's strict reader.
TEST(LogRecordOnDiskTest, DeepSymbolizedStackIsWholeJson) {
  char path[] = "/tmp/sealpool-report-deep-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(SetRuntimeOptions(absl::StrCat(
                  "stack_depth=32:symbolize=1:log_path=", path))
                  .ok());
  SetMode(Mode::kReport);
  sp_pool* pool = sp_pool_create(UniquePoolName("deep").c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  void* obj = sp_alloc(pool, 16);
  ASSERT_NE(obj, nullptr);
  char out[64];
  const int saved = dup(STDERR_FILENO);
  const int null_fd = open("/dev/null", O_WRONLY);
  dup2(null_fd, STDERR_FILENO);
  EXPECT_EQ(RecurseThenCopy(40, out, obj, 20), nullptr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(null_fd);
  EXPECT_TRUE(SetRuntimeOptions("log_path=").ok());
  SetMode(Mode::kAbort);
  sp_free(obj);
  sp_pool_destroy(pool);

  std::string text = ReadAll(path);
  unlink(path);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  text.pop_back();
  ASSERT_EQ(text.find('\n'), std::string::npos) << "one line";
  ASSERT_TRUE(ParseJson(text).ok()) << text;
  const absl::StatusOr<LogRecord> r = ParseLogRecord(text);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stack.size(), 32u);
  ASSERT_EQ(r->frames.size(), r->stack.size());
  for (size_t i = 0; i < r->frames.size(); ++i) {
    EXPECT_EQ(r->frames[i].addr, r->stack[i]);
    EXPECT_TRUE(r->frames[i].has_module) << i;
    ASSERT_FALSE(r->frames[i].locations.empty()) << i;
    EXPECT_TRUE(absl::StrContains(r->frames[i].locations.back().function,
                                  "RecurseThenCopy"))
        << i << ": " << r->frames[i].locations.back().function;
  }
  ASSERT_FALSE(r->modules.empty());
  EXPECT_EQ(r->modules[0].path, r->frames[0].module);
}

// --help is the program's own usage: no flags library boilerplate, no
// source paths.
TEST(ReportProgramTest, HelpPrintsTheUsageOnly) {
  const ToolRun help = RunCommand(Tool("--help"));
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(absl::StartsWith(help.out, "sealpool-report: summarises"))
      << help.out;
  EXPECT_TRUE(absl::StrContains(help.out, "usage: sealpool-report")) << help.out;
  for (const char* flag : {"--json", "--frames=N", "--skip_frames=N",
                           "--exact_frames", "--examples=N", "--symbolize",
                           "--keep_sealpool_frames", "--help"}) {
    EXPECT_TRUE(absl::StrContains(help.out, flag)) << flag << "\n" << help.out;
  }
  EXPECT_FALSE(absl::StrContains(help.out, ".cc")) << help.out;
  EXPECT_FALSE(absl::StrContains(help.out, "Flags from")) << help.out;
  EXPECT_FALSE(absl::StrContains(help.out, "absl/")) << help.out;
  EXPECT_FALSE(absl::StrContains(help.out, "helpfull")) << help.out;
  EXPECT_FALSE(absl::StrContains(help.out, "Try --")) << help.out;
  const ToolRun unknown = RunCommand(Tool("--no_such_flag /dev/null"));
  EXPECT_EQ(unknown.status, 2);
  // The flag forms the flags library took still work.
  EXPECT_EQ(RunCommand(Tool("--frames 2 --json=false --noexact_frames "
                            "/dev/null")).status,
            0);
}

// A log written by another process, whose frames name modules but no
// source lines (symbolize=0): sealpool-report finds file:line offline, and
// groups the two call sites apart although both go through sp_memcpy.
constexpr char kWriteLogEnv[] = "SEALPOOL_REPORT_TEST_WRITE_LOG";

TEST(LogWriterProcess, WritesTwoCallSites) {
  const char* path = getenv(kWriteLogEnv);
  if (path == nullptr) GTEST_SKIP() << "runs as the log writer only";
  ASSERT_TRUE(SetRuntimeOptions(absl::StrCat("mode=report:symbolize=0:log_path=",
                                             path))
                  .ok());
  sp_pool* pool = sp_pool_create(UniquePoolName("writer").c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  void* obj = sp_alloc(pool, 32);
  ASSERT_NE(obj, nullptr);
  char out[64];
  EXPECT_EQ(HostCopySiteA(out, obj, 40), nullptr);
  EXPECT_EQ(HostCopySiteA(out, obj, 48), nullptr);
  EXPECT_EQ(HostCopySiteB(out, obj, 40), nullptr);
  sp_free(obj);
  sp_pool_destroy(pool);
}

TEST(ReportProgramTest, SymbolizesAnotherProcessesLogOffline) {
  char dir[] = "/tmp/sealpool-report-offline-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string log = absl::StrCat(dir, "/writer.jsonl");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv(kWriteLogEnv, log.c_str(), 1);
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);  // the reports
    execl("/proc/self/exe", "sealpool_report_tests",
          "--gtest_filter=LogWriterProcess.WritesTwoCallSites",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const std::string text = ReadAll(log);
  // The writer ran without symbols: no file:line in the log.
  EXPECT_TRUE(absl::StrContains(text, "\"module\":")) << text;
  EXPECT_FALSE(absl::StrContains(text, "\"file\":")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"build_id\":")) << text;

  // Grouped by the first frame outside sealpool: site A (twice), site B.
  const ToolRun plain = RunCommand(Tool(absl::StrCat("--json '", log, "'")));
  ASSERT_EQ(plain.status, 0) << plain.out;
  const absl::StatusOr<JsonValue> parsed = ParseJson(plain.out);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << plain.out;
  const std::vector<JsonValue>& groups = parsed->Find("groups")->items();
  ASSERT_EQ(groups.size(), 2u) << plain.out;
  uint64_t n = 0;
  ASSERT_TRUE(groups[0].Find("count")->AsUint64(&n));
  EXPECT_EQ(n, 2u);
  ASSERT_TRUE(groups[1].Find("count")->AsUint64(&n));
  EXPECT_EQ(n, 1u);

  const ToolRun symbolized =
      RunCommand(Tool(absl::StrCat("--symbolize '", log, "'")));
  ASSERT_EQ(symbolized.status, 0) << symbolized.out;
  const std::string file = "report_tool_test.cc";
  EXPECT_TRUE(absl::StrContains(
      symbolized.out, absl::StrCat("HostCopySiteA(void*, void const*, unsigned "
                                   "long) report_tool_test.cc:",
                                   kSiteALine)))
      << symbolized.out;
  EXPECT_TRUE(absl::StrContains(symbolized.out,
                                absl::StrCat(file, ":", kSiteBLine)))
      << symbolized.out;
  // The stacks section, in the report's own frame format.
  EXPECT_TRUE(absl::StrContains(symbolized.out, "    #0 0x")) << symbolized.out;
  EXPECT_TRUE(absl::StrContains(symbolized.out,
                                absl::StrCat("/tools/report/", file, ":",
                                             kSiteALine, " (")))
      << symbolized.out;
  // No sealpool frame in the stacks: they start at the host's call.
  EXPECT_FALSE(absl::StrContains(symbolized.out, " in sp_memcpy"))
      << symbolized.out;
  EXPECT_FALSE(absl::StrContains(symbolized.out, "CheckedMemcpy"))
      << symbolized.out;
  // Without --symbolize the same log has no file:line.
  const ToolRun unsymbolized = RunCommand(Tool(absl::StrCat("'", log, "'")));
  EXPECT_FALSE(absl::StrContains(unsymbolized.out, file)) << unsymbolized.out;
  unlink(log.c_str());
  rmdir(dir);
}

TEST(ReportProgramTest, ExitStatusAndEmptyInput) {
  const ToolRun usage = RunCommand(Tool(""));
  EXPECT_EQ(usage.status, 2);
  const ToolRun bad_flag = RunCommand(Tool("--frames=-1 /dev/null"));
  EXPECT_EQ(bad_flag.status, 2);

  const ToolRun empty = RunCommand(Tool("/dev/null"));
  EXPECT_EQ(empty.status, 0);
  EXPECT_TRUE(
      absl::StrContains(empty.out, "no violations from 1 input (0 lines)"))
      << empty.out;

  const ToolRun missing =
      RunCommand(Tool("/dev/null /nonexistent/sealpool.jsonl"));
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(
      absl::StrContains(missing.out, "unreadable: /nonexistent/sealpool.jsonl"))
      << missing.out;

  const ToolRun missing_json =
      RunCommand(Tool("--json /nonexistent/sealpool.jsonl"));
  EXPECT_EQ(missing_json.status, 1);
  EXPECT_TRUE(ParseJson(missing_json.out).ok()) << missing_json.out;
}

}  // namespace
}  // namespace report
}  // namespace sealpool
