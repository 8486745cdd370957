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
