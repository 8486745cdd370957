// sealpool-run (tools/sealpool_run.c): its options become the program's
// LD_PRELOAD and SEALPOOL_OPTIONS (after what the environment had), it
// says where the log goes, and it replaces itself with the program; usage
// errors exit 2, a missing program or library 127. The child here is a
// shell that prints what it was given, so each run checks the launcher's
// effect, not only its exit status. Each test runs the launcher in a
// temporary directory, which is also its TMPDIR, and removes it after.

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct Launched {
  int status = -1;
  pid_t pid = 0;
  std::string out, err;
  int Exit() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

std::string Slurp(int fd) {
  std::string s;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) s.append(buf, static_cast<size_t>(n));
  close(fd);
  return s;
}

class SealpoolRunTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealpool-run-test-dir-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    char real[PATH_MAX];
    ASSERT_NE(realpath(tmpl, real), nullptr);
    dir_ = real;
  }
  void TearDown() override {
    if (DIR* d = opendir(dir_.c_str())) {
      while (const dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') unlink((dir_ + "/" + e->d_name).c_str());
      }
      closedir(d);
    }
    rmdir(dir_.c_str());
  }

  // Runs sealpool-run with `args` in dir_ (TMPDIR too), the environment
  // changed by `env` ("NAME=value" sets, "NAME" unsets).
  Launched Launch(const std::vector<std::string>& args,
                  const std::vector<std::string>& env = {}) const;

  std::string dir_;
};

Launched SealpoolRunTest::Launch(const std::vector<std::string>& args,
                                 const std::vector<std::string>& env) const {
  char out_path[] = "/tmp/sealpool-run-test-XXXXXX";
  char err_path[] = "/tmp/sealpool-run-test-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  unlink(out_path);
  unlink(err_path);
  Launched r;
  r.pid = fork();
  if (r.pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (chdir(dir_.c_str()) != 0) _exit(125);
    setenv("TMPDIR", dir_.c_str(), 1);
    unsetenv("LD_PRELOAD");
    unsetenv("SEALPOOL_OPTIONS");
    unsetenv("SEALPOOL_MALLOC_LIB");
    for (const std::string& e : env) {
      const size_t eq = e.find('=');
      if (eq == std::string::npos) {
        unsetenv(e.c_str());
      } else {
        setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
      }
    }
    std::vector<char*> argv{const_cast<char*>(SEALPOOL_RUN)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    alarm(60);
    execv(SEALPOOL_RUN, argv.data());
    _exit(126);
  }
  waitpid(r.pid, &r.status, 0);
  r.out = Slurp(out_fd);
  r.err = Slurp(err_fd);
  return r;
}

// A child that prints its pid and what the launcher set.
const std::vector<std::string> kShow = {
    "/bin/sh", "-c", "echo \"pid=$$\"; echo \"preload=$LD_PRELOAD\"; echo \"options=$SEALPOOL_OPTIONS\""};

std::vector<std::string> With(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::string RealLib() {
  char buf[PATH_MAX];
  return realpath(SEALPOOL_MALLOC_LIB, buf) != nullptr ? buf : "";
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_F(SealpoolRunTest, OptionsBecomeThePreloadAndSealpoolOptions) {
  const Launched r = Launch(With({"--mode=report", "--stats", "--pools=3", "--no-sites", "--no-check",
                             "--options=quarantine=4", "--log=rel/../x.jsonl", "--"},
                            kShow),
                       {"SEALPOOL_OPTIONS=symbolize=0", "LD_PRELOAD=/nonexistent/other.so"});
  ASSERT_EQ(r.Exit(), 0) << r.err;
  EXPECT_TRUE(Has(r.out, "pid=" + std::to_string(r.pid) + "\n")) << r.out;  // exec'd, not forked
  EXPECT_TRUE(Has(r.out, "preload=" + RealLib() + ":/nonexistent/other.so\n")) << r.out;
  const std::string log = dir_ + "/x.jsonl";
  EXPECT_TRUE(Has(r.out, "options=symbolize=0:log_path=" + log +
                             ":mode=report:print_stats=1:heap_pools=3:alloc_sites=0:check_libc=0:"
                             "quarantine=4\n"))
      << r.out;
  EXPECT_TRUE(Has(r.err, "sealpool-run: reports go to stderr and, as JSON lines, to " + log + "\n"))
      << r.err;
}

TEST_F(SealpoolRunTest, DefaultLogIsPerProcessInTmpdirAndNoLogClearsIt) {
  const Launched r = Launch(kShow);
  ASSERT_EQ(r.Exit(), 0) << r.err;
  const std::string log = dir_ + "/sealpool-run." + std::to_string(r.pid) + ".jsonl";
  EXPECT_TRUE(Has(r.out, "options=log_path=" + log + "\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "preload=" + RealLib() + "\n")) << r.out;
  const Launched none = Launch(With({"--no-log"}, kShow));
  ASSERT_EQ(none.Exit(), 0) << none.err;
  EXPECT_TRUE(Has(none.out, "options=log_path=\n")) << none.out;
  EXPECT_EQ(none.err, "sealpool-run: reports go to stderr\n");
}

TEST_F(SealpoolRunTest, TheProgramsExitStatusAndTheLibraryFromTheEnvironment) {
  const Launched r = Launch({"/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.Exit(), 7) << r.err;
  const Launched env_lib = Launch(kShow, {"SEALPOOL_MALLOC_LIB=" + RealLib()});
  EXPECT_EQ(env_lib.Exit(), 0);
  EXPECT_TRUE(Has(env_lib.out, "preload=" + RealLib() + "\n")) << env_lib.out;
  const Launched named = Launch(With({"--lib=" + RealLib()}, kShow));
  EXPECT_TRUE(Has(named.out, "preload=" + RealLib() + "\n")) << named.out;
}

TEST_F(SealpoolRunTest, UsageErrorsExitTwoWithAHint) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--stats"},
           {"--bogus", "/bin/true"},
           {"--mode=loud", "/bin/true"},
           {"--pools=0", "/bin/true"},
           {"--pools=65", "/bin/true"},
           {"--pools=x", "/bin/true"},
           {"--log=", "/bin/true"},
           {"--log=/tmp/a:b", "/bin/true"},
           {"--lib=/tmp/a b.so", "/bin/true"}}) {
    std::string joined;
    for (const std::string& a : args) joined += a + " ";
    const Launched r = Launch(args);
    EXPECT_EQ(r.Exit(), 2) << joined << r.err;
    EXPECT_TRUE(Has(r.err, "sealpool-run: try 'sealpool-run --help'")) << joined << r.err;
    EXPECT_EQ(r.out, "") << joined;
  }
}

TEST_F(SealpoolRunTest, MissingProgramOrLibraryExits127) {
  const Launched program = Launch({"--", "no-such-program-anywhere"});
  EXPECT_EQ(program.Exit(), 127);
  EXPECT_EQ(program.err, "sealpool-run: no-such-program-anywhere: command not found\n");
  const Launched lib = Launch({"--lib=/nonexistent/libsealpool_malloc.so", "/bin/true"});
  EXPECT_EQ(lib.Exit(), 127);
  EXPECT_TRUE(Has(lib.err, "cannot find libsealpool_malloc.so (looked for "
                           "'/nonexistent/libsealpool_malloc.so'"))
      << lib.err;
}

TEST_F(SealpoolRunTest, HelpIsTheManual) {
  const Launched r = Launch({"--help"});
  EXPECT_EQ(r.Exit(), 0);
  for (const char* section : {"NAME\n", "SYNOPSIS\n", "OPTIONS\n", "ENVIRONMENT\n", "EXIT STATUS\n",
                              "EXAMPLES\n", "LIMITS\n", "    --pools=N\n"}) {
    EXPECT_TRUE(Has(r.out, section)) << section;
  }
  EXPECT_EQ(Launch({"-h"}).out, r.out);
}

}  // namespace
