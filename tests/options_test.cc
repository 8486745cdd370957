// Runtime options (SEALPOOL_OPTIONS): the parser — every key, bad keys and
// values, degenerate strings, the log_path length limit —, the Markdown
// table, SetRuntimeOptions() against the mode, a log_path that is not a
// regular file (refused with one line, never a hang), and the environment
// variable itself, read in a fresh child process.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::AsBytes;

void ExpectDefaults(const RuntimeOptions& o) {
  EXPECT_EQ(o.mode, Mode::kAbort);
  EXPECT_STREQ(o.log_path, "");
  EXPECT_EQ(o.stack_depth, kMaxStackFrames);
  EXPECT_TRUE(o.symbolize);
}

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

TEST(OptionsTest, ParsesEveryKey) {
  RuntimeOptions o;
  const absl::Status s = ParseRuntimeOptions(
      "mode=report:log_path=/tmp/x:stack_depth=4:symbolize=0", &o);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(o.mode, Mode::kReport);
  EXPECT_STREQ(o.log_path, "/tmp/x");
  EXPECT_EQ(o.stack_depth, 4);
  EXPECT_FALSE(o.symbolize);

  ASSERT_TRUE(ParseRuntimeOptions("mode=abort:symbolize=1:stack_depth=0", &o)
                  .ok());
  EXPECT_EQ(o.mode, Mode::kAbort);
  EXPECT_TRUE(o.symbolize);
  EXPECT_EQ(o.stack_depth, 0);
  EXPECT_STREQ(o.log_path, "/tmp/x");  // not named: kept
  ASSERT_TRUE(ParseRuntimeOptions("log_path=", &o).ok());
  EXPECT_STREQ(o.log_path, "");
  ASSERT_TRUE(ParseRuntimeOptions("stack_depth=32", &o).ok());
  EXPECT_EQ(o.stack_depth, 32);
}

TEST(OptionsTest, EmptyStringChangesNothing) {
  RuntimeOptions o;
  EXPECT_TRUE(ParseRuntimeOptions("", &o).ok());
  ExpectDefaults(o);
}

TEST(OptionsTest, UnknownKeyIsNamedAndDefaultsKept) {
  RuntimeOptions o;
  const absl::Status s = ParseRuntimeOptions("bogus=1", &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "bogus")) << s;
  ExpectDefaults(o);
}

TEST(OptionsTest, BadValueIsNamedAndTheKeyKeepsItsValue) {
  RuntimeOptions o;
  absl::Status s = ParseRuntimeOptions("mode=maybe", &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "mode")) << s;
  EXPECT_TRUE(Contains(s.message(), "maybe")) << s;
  ExpectDefaults(o);

  for (const char* text :
       {"stack_depth=33", "stack_depth=-1", "stack_depth=abc",
        "stack_depth=", "stack_depth=99999999999999999999"}) {
    s = ParseRuntimeOptions(text, &o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_TRUE(Contains(s.message(), "stack_depth")) << text << ": " << s;
    EXPECT_EQ(o.stack_depth, kMaxStackFrames) << text;
  }
  for (const char* text : {"symbolize=2", "symbolize=yes", "symbolize="}) {
    s = ParseRuntimeOptions(text, &o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_TRUE(o.symbolize) << text;
  }
  s = ParseRuntimeOptions("mode=", &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.mode, Mode::kAbort);
}

TEST(OptionsTest, ValidPairsApplyNextToBadOnes) {
  RuntimeOptions o;
  const absl::Status s =
      ParseRuntimeOptions("stack_depth=5:bogus=1:mode=report:mode=maybe", &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "bogus")) << s;
  EXPECT_TRUE(Contains(s.message(), "maybe")) << s;
  EXPECT_EQ(o.stack_depth, 5);
  EXPECT_EQ(o.mode, Mode::kReport);
}

TEST(OptionsTest, DegenerateStringsDoNotCrash) {
  const char* const texts[] = {"=",           ":::",       "mode",
                               "=report",     "mode==report", ":mode=report:",
                               "log_path",    "a=b=c:d",   "\x01\x02=\x7f",
                               "::=::=::"};
  for (const char* text : texts) {
    RuntimeOptions o;
    const absl::Status s = ParseRuntimeOptions(text, &o);
    (void)s;
  }
  RuntimeOptions o;
  EXPECT_TRUE(ParseRuntimeOptions(":::", &o).ok());
  ExpectDefaults(o);
  absl::Status s = ParseRuntimeOptions("=", &o);
  EXPECT_FALSE(s.ok());
  ExpectDefaults(o);
  s = ParseRuntimeOptions("mode", &o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "mode")) << s;
  ExpectDefaults(o);
  EXPECT_TRUE(ParseRuntimeOptions(":mode=report:", &o).ok());
  EXPECT_EQ(o.mode, Mode::kReport);
  EXPECT_FALSE(ParseRuntimeOptions("mode==report", &o).ok());
}

TEST(OptionsTest, LogPathLengthLimit) {
  RuntimeOptions o;
  const std::string ok_path = "/" + std::string(254, 'a');  // 255 bytes
  ASSERT_EQ(ok_path.size(), 255u);
  EXPECT_TRUE(ParseRuntimeOptions("log_path=" + ok_path, &o).ok());
  EXPECT_EQ(std::string(o.log_path), ok_path);

  RuntimeOptions fresh;
  const std::string too_long = "/" + std::string(255, 'b');  // 256 bytes
  const absl::Status s = ParseRuntimeOptions("log_path=" + too_long, &fresh);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "log_path")) << s.message().substr(0, 80);
  EXPECT_STREQ(fresh.log_path, "");
  // A rejected path keeps the previous one.
  EXPECT_FALSE(ParseRuntimeOptions("log_path=" + too_long, &o).ok());
  EXPECT_EQ(std::string(o.log_path), ok_path);
}

TEST(OptionsTest, MarkdownListsEveryKeyWithItsDefault) {
  const std::string md = RuntimeOptionsMarkdown();
  for (const char* key : {"`mode`", "`log_path`", "`stack_depth`",
                          "`symbolize`"}) {
    EXPECT_TRUE(Contains(md, key)) << key << "\n" << md;
  }
  EXPECT_TRUE(Contains(md, "`abort`")) << md;
  EXPECT_TRUE(Contains(md, "`32`")) << md;
  EXPECT_EQ(md.rfind("| option | default | meaning |", 0), 0u) << md;
}

TEST(OptionsTest, SetRuntimeOptionsSwitchesTheMode) {
  ASSERT_TRUE(SetRuntimeOptions("mode=report").ok());
  EXPECT_EQ(GetMode(), Mode::kReport);
  EXPECT_EQ(GetRuntimeOptions().mode, Mode::kReport);
  ASSERT_TRUE(SetRuntimeOptions("mode=abort").ok());
  EXPECT_EQ(GetMode(), Mode::kAbort);
  EXPECT_EQ(GetRuntimeOptions().mode, Mode::kAbort);
  SetMode(Mode::kAbort);
}

TEST(OptionsTest, SetRuntimeOptionsAppliesValidPairsOfABadString) {
  const absl::Status s = SetRuntimeOptions("stack_depth=7:bogus=1");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetRuntimeOptions().stack_depth, 7);
  EXPECT_TRUE(SetRuntimeOptions("stack_depth=32").ok());
  EXPECT_EQ(GetRuntimeOptions().stack_depth, 32);
  SetMode(Mode::kAbort);
}

// Options that do not name the mode must leave the mode in force alone,
// whether SetMode() or an earlier option set it.
TEST(OptionsTest, SetRuntimeOptionsWithoutModeKeepsTheCurrentMode) {
  // Modes as ints: 0 = abort, 1 = report.
  SetMode(Mode::kReport);
  ASSERT_TRUE(SetRuntimeOptions("stack_depth=32").ok());
  EXPECT_EQ(static_cast<int>(GetMode()), static_cast<int>(Mode::kReport))
      << "SetRuntimeOptions(\"stack_depth=32\") after SetMode(kReport)";
  SetMode(Mode::kAbort);
  ASSERT_TRUE(SetRuntimeOptions("stack_depth=32").ok());
  EXPECT_EQ(static_cast<int>(GetMode()), static_cast<int>(Mode::kAbort))
      << "SetRuntimeOptions(\"stack_depth=32\") after SetMode(kAbort)";
  SetMode(Mode::kAbort);
}

TEST(OptionsTest, UnwritableLogPathIsNotFatal) {
  ASSERT_TRUE(
      SetRuntimeOptions("log_path=/nonexistent-dir/sealpool/log.jsonl").ok());
  SetMode(Mode::kReport);
  SEALPOOL_ASSERT_CREATE(pool, sealpool_test::UniqueName("opt-badlog"),
                         PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 8);
  EXPECT_EQ(CheckCopy(p, 9, CopyDirection::kRead), ViolationKind::kOutOfBounds);
  ASSERT_TRUE(SetRuntimeOptions("log_path=").ok());
  SetMode(Mode::kAbort);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// log_path must be a regular file. Anything else is refused with one line
// on stderr, and opening it never blocks (a FIFO without a reader would
// otherwise hang the process at its first use of sealpool).

constexpr char kNotRegular[] = "' is not a regular file; JSON reports are off\n";

// A fresh name for a file under /tmp (nothing is created).
std::string TempPath(const char* base) {
  char path[] = "/tmp/sealpool-options-test-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "";
  close(fd);
  unlink(path);
  return std::string(path) + "-" + base;
}

// What SetRuntimeOptions(options) writes to stderr.
std::string StderrOfSetRuntimeOptions(const std::string& options) {
  char path[] = "/tmp/sealpool-options-stderr-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "<no temporary file>";
  const int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  (void)SetRuntimeOptions(options);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  return ss.str();
}

size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(OptionsTest, LogPathThatIsNotARegularFileIsRefused) {
  const std::string fifo = TempPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << fifo;
  // A FIFO with a reader opens, and is refused all the same.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  for (const std::string& path :
       {fifo, std::string("/dev/null"), std::string("/tmp")}) {
    SCOPED_TRACE(path);
    const std::string err = StderrOfSetRuntimeOptions("log_path=" + path);
    EXPECT_EQ(err, "sealpool: log_path '" + path + kNotRegular);
  }
  close(reader);
  // A FIFO without a reader: refused at once, not waited on.
  EXPECT_EQ(StderrOfSetRuntimeOptions("log_path=" + fifo),
            "sealpool: log_path '" + fifo + kNotRegular);
  // A path that cannot be opened keeps its own line.
  EXPECT_EQ(StderrOfSetRuntimeOptions("log_path=/nonexistent-dir/x.jsonl"),
            "sealpool: cannot open log_path '/nonexistent-dir/x.jsonl'; JSON "
            "reports are off\n");
  // The legal neighbour: a regular file is taken, silently.
  const std::string file = TempPath("log.jsonl");
  EXPECT_EQ(StderrOfSetRuntimeOptions("log_path=" + file), "");
  EXPECT_EQ(StderrOfSetRuntimeOptions("log_path="), "");
  SetMode(Mode::kAbort);
  unlink(file.c_str());
  unlink(fifo.c_str());
}

// SEALPOOL_OPTIONS is read once per process, so it is tested in a child:
// this binary re-executed with the variable set, running only the helper
// test below (which is skipped in a normal run).

constexpr char kChildMarker[] = "SEALPOOL_OPTIONS_TEST_CHILD";

TEST(OptionsEnvChild, ReportModeFromEnvironment) {
  if (std::getenv(kChildMarker) == nullptr) {
    GTEST_SKIP() << "runs only as the child of OptionsEnvTest";
  }
  // The first use reads the environment.
  EXPECT_EQ(GetRuntimeOptions().mode, Mode::kReport);
  EXPECT_EQ(GetRuntimeOptions().stack_depth, 2);
  EXPECT_EQ(GetMode(), Mode::kReport);
  auto pool = Pool::Create("opt-env-child");
  ASSERT_TRUE(pool.ok()) << pool.status();
  auto p = (*pool)->Allocate(8);
  ASSERT_TRUE(p.ok());
  // Report mode: returned, not aborted.
  EXPECT_EQ(CheckCopy(*p, 9, CopyDirection::kRead), ViolationKind::kOutOfBounds);
  EXPECT_TRUE(Pool::Free(*p).ok());
  EXPECT_TRUE((*pool)->Destroy().ok());
}

struct ChildResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

ChildResult RunChild(const char* options) {
  ChildResult result;
  int fds[2];
  if (pipe(fds) != 0) return result;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    setenv("SEALPOOL_OPTIONS", options, 1);
    setenv(kChildMarker, "1", 1);
    // Survives execv: a child that hangs is killed (SIGALRM) and fails
    // the test instead of stalling it.
    alarm(60);
    char arg0[] = "sealpool_tests";
    char filter[] = "--gtest_filter=OptionsEnvChild.ReportModeFromEnvironment";
    char* const argv[] = {arg0, filter, nullptr};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  while (waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

TEST(OptionsEnvTest, EnvironmentSetsReportMode) {
  const ChildResult r = RunChild("mode=report:stack_depth=2");
  ASSERT_TRUE(WIFEXITED(r.status)) << r.output;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "[  PASSED  ] 1 test")) << r.output;
  EXPECT_TRUE(Contains(r.output,
                       "memory exposure attempt detected from pool "
                       "'opt-env-child'"))
      << r.output;
}

TEST(OptionsEnvTest, MalformedEnvironmentIsNamedButNotFatal) {
  const ChildResult r =
      RunChild("bogus=1:mode=report:stack_depth=2:symbolize=maybe");
  ASSERT_TRUE(WIFEXITED(r.status)) << r.output;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "sealpool: SEALPOOL_OPTIONS:")) << r.output;
  EXPECT_TRUE(Contains(r.output, "bogus")) << r.output;
  EXPECT_TRUE(Contains(r.output, "symbolize")) << r.output;
}

TEST(OptionsEnvTest, FifoLogPathWithoutReaderIsRefusedNotWaitedOn) {
  const std::string fifo = TempPath("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << fifo;
  // Nobody ever opens the FIFO for reading: a blocking open would hang the
  // child until the alarm RunChild sets kills it.
  const ChildResult r =
      RunChild(("mode=report:stack_depth=2:log_path=" + fifo).c_str());
  unlink(fifo.c_str());
  ASSERT_TRUE(WIFEXITED(r.status)) << "wait status " << r.status << "\n"
                                   << r.output;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  EXPECT_EQ(CountOf(r.output, "sealpool: log_path '" + fifo + kNotRegular), 1u)
      << r.output;
  // The reports still reach stderr.
  EXPECT_TRUE(Contains(r.output,
                       "memory exposure attempt detected from pool "
                       "'opt-env-child'"))
      << r.output;
}

TEST(OptionsEnvTest, RegularFileLogPathReceivesJsonLines) {
  const std::string file = TempPath("log.jsonl");
  const ChildResult r =
      RunChild(("mode=report:stack_depth=2:log_path=" + file).c_str());
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string log = ss.str();
  unlink(file.c_str());
  ASSERT_TRUE(WIFEXITED(r.status)) << r.output;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.output;
  EXPECT_FALSE(Contains(r.output, "log_path")) << r.output;
  EXPECT_EQ(CountOf(log, "\n"), 1u) << log;
  EXPECT_TRUE(Contains(log, "\"pool\":\"opt-env-child\"")) << log;
}

TEST(OptionsEnvTest, WithoutTheEnvironmentTheChildIsAborted) {
  // The same child test with the default mode: the first violation aborts.
  const ChildResult r = RunChild("stack_depth=2");
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.output;
  EXPECT_EQ(WTERMSIG(r.status), SIGABRT) << r.output;
  EXPECT_TRUE(Contains(r.output,
                       "memory exposure attempt detected from pool "
                       "'opt-env-child'"))
      << r.output;
}

}  // namespace
}  // namespace sealpool
