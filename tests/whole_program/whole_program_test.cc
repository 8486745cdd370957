// Whole-program mode: libsealpool_malloc.so preloaded into the probe
// programs (probe.c, probe_cxx.cc), each case a fresh process. The malloc
// family's semantics, threads, fork and C++ new/delete; every planted bug
// reported (naming the pool and the allocating function) in abort mode,
// refused without damage in report mode; the legal neighbours pass.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct ProbeRun {
  int status = -1;
  std::string out;
  std::string err;
  bool Aborted() const { return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT; }
  bool ExitedWith(int code) const {
    return WIFEXITED(status) && WEXITSTATUS(status) == code;
  }
};

std::string Drain(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) s.append(buf, static_cast<size_t>(n));
  close(fd);
  return s;
}

// Runs `program case` with the library preloaded and SEALPOOL_OPTIONS set
// to `options`; stdout and stderr go to files (no pipe can fill up).
ProbeRun RunProbe(const char* program, const char* which, const std::string& options = "",
             bool preload = true) {
  char out_path[] = "/tmp/sealpool-wp-out-XXXXXX";
  char err_path[] = "/tmp/sealpool-wp-err-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  ProbeRun r;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (preload) {
      setenv("LD_PRELOAD", SEALPOOL_MALLOC_LIB, 1);
    } else {
      unsetenv("LD_PRELOAD");
    }
    setenv("SEALPOOL_OPTIONS", options.c_str(), 1);
    alarm(120);
    execl(program, program, which, static_cast<char*>(nullptr));
    _exit(127);
  }
  waitpid(pid, &r.status, 0);
  lseek(out_fd, 0, SEEK_SET);
  lseek(err_fd, 0, SEEK_SET);
  r.out = Drain(out_fd);
  r.err = Drain(err_fd);
  unlink(out_path);
  unlink(err_path);
  return r;
}

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A heap pool named in the first report line, and the allocating function
// on the "object allocated at" line.
void ExpectReport(const ProbeRun& r, const std::string& headline, const std::string& allocator) {
  EXPECT_TRUE(Has(r.err, headline)) << r.err;
  EXPECT_TRUE(Has(r.err, "pool 'malloc-")) << r.err;
  EXPECT_TRUE(Has(r.err, "    object allocated at 0x")) << r.err;
  EXPECT_TRUE(Has(r.err, "in " + allocator + " ")) << r.err;
  EXPECT_TRUE(Has(r.err, "probe.c:")) << r.err;
}

constexpr char kProbe[] = SEALPOOL_WP_PROBE;
constexpr char kProbeCxx[] = SEALPOOL_WP_PROBE_CXX;
constexpr char kExposure[] = "sealpool: memory exposure attempt detected from pool 'malloc-";
constexpr char kOverwrite[] = "sealpool: memory overwrite attempt detected to pool 'malloc-";

TEST(WholeProgram, MallocFamilyHasGlibcSemantics) {
  const ProbeRun r = RunProbe(kProbe, "api");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "api: ok")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(WholeProgram, ProbeFailsWithoutThePreloadOnlyWhereSemanticsDiffer) {
  // The same probe on glibc: the expectations that are glibc's own hold
  // there too, except malloc_usable_size's exact sizes (glibc rounds up).
  const ProbeRun r = RunProbe(kProbe, "api", "", /*preload=*/false);
  EXPECT_TRUE(Has(r.out, "malloc_usable_size(p) == 37")) << r.out;
}

TEST(WholeProgram, ThreadsHandObjectsAcrossAndExit) {
  const ProbeRun r = RunProbe(kProbe, "threads");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(WholeProgram, ForkWhileOtherThreadsAllocate) {
  const ProbeRun r = RunProbe(kProbe, "fork");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(WholeProgram, CxxNewDeleteAndNewHandler) {
  const ProbeRun r = RunProbe(kProbeCxx, "new-delete");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "new-delete: ok")) << r.out;
}

TEST(WholeProgram, LegalIoAndCopiesPass) {
  const ProbeRun r = RunProbe(kProbe, "legal-io");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(WholeProgram, CopiesOfEveryShortLengthAndOverlapAreExact) {
  const ProbeRun r = RunProbe(kProbe, "copy-sizes");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "wrong: 0")) << r.out;
  EXPECT_EQ(r.err, "");
  // The same expectations hold on glibc's own functions.
  const ProbeRun plain = RunProbe(kProbe, "copy-sizes", "", /*preload=*/false);
  EXPECT_TRUE(plain.ExitedWith(0)) << plain.out;
}

TEST(WholeProgram, ShortCopiesOneByteTooLongAreRefused) {
  // Three refusals (memcpy, memmove, memset) at each of the 11 lengths.
  const ProbeRun r = RunProbe(kProbe, "short-overflows", "mode=report");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  EXPECT_TRUE(Has(r.out, "short overflows: intact 1 copied 1")) << r.out;
  size_t reports = 0;
  for (size_t at = r.err.find(kOverwrite); at != std::string::npos;
       at = r.err.find(kOverwrite, at + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, 33u) << r.err;
  const ProbeRun abort_run = RunProbe(kProbe, "short-overflows");
  EXPECT_TRUE(abort_run.Aborted());
  EXPECT_TRUE(Has(abort_run.err, "size 2, object size 1")) << abort_run.err;
}

// The pools named by the overwrite reports in `err`, in order.
std::vector<std::string> ReportedPools(const std::string& err) {
  std::vector<std::string> pools;
  for (size_t at = err.find(kOverwrite); at != std::string::npos;
       at = err.find(kOverwrite, at + 1)) {
    const size_t name = at + std::string(kOverwrite).size() - std::string("malloc-").size();
    pools.push_back(err.substr(name, err.find('\'', name) - name));
  }
  return pools;
}

TEST(WholeProgram, ThreadsAllocatingAtOneSiteGetTheirOwnShards) {
  // The main thread gets shard 0 (malloc-i), the next thread shard 1
  // (malloc-i.1) of the same site pool.
  const ProbeRun two = RunProbe(kProbe, "shards", "mode=report:heap_shards=2");
  EXPECT_TRUE(two.ExitedWith(0)) << two.err;
  const std::vector<std::string> pools = ReportedPools(two.err);
  ASSERT_EQ(pools.size(), 2u) << two.err;
  EXPECT_EQ(pools[1], pools[0] + ".1") << two.err;
  EXPECT_EQ(pools[0].find('.'), std::string::npos) << two.err;
  // One shard (the default, and said outright): the same pool for both.
  for (const char* options : {"mode=report", "mode=report:heap_shards=1"}) {
    const ProbeRun one = RunProbe(kProbe, "shards", options);
    const std::vector<std::string> same = ReportedPools(one.err);
    ASSERT_EQ(same.size(), 2u) << options << "\n" << one.err;
    EXPECT_EQ(same[0], same[1]) << options << "\n" << one.err;
  }
  // A value past the cap of 64 pools is clamped, not refused: 8 pools
  // of 8 shards, and the second thread still in shard 1.
  const ProbeRun many = RunProbe(kProbe, "shards", "mode=report:heap_shards=64");
  const std::vector<std::string> capped = ReportedPools(many.err);
  ASSERT_EQ(capped.size(), 2u) << many.err;
  EXPECT_EQ(capped[1], capped[0] + ".1") << many.err;
}

TEST(WholeProgram, HeartbleedOverreadNeverReachesTheSocket) {
  const ProbeRun abort_run = RunProbe(kProbe, "overread");
  EXPECT_TRUE(abort_run.Aborted()) << abort_run.status;
  ExpectReport(abort_run, kExposure, "MakeRecord");
  EXPECT_TRUE(Has(abort_run.err, "size 4096, object size 64")) << abort_run.err;
  const ProbeRun report = RunProbe(kProbe, "overread", "mode=report");
  EXPECT_TRUE(report.ExitedWith(0)) << report.err;
  EXPECT_TRUE(Has(report.out, "write: -1 errno 14")) << report.out;  // EFAULT
  EXPECT_TRUE(Has(report.out, "peer received: -1")) << report.out;   // nothing sent
}

TEST(WholeProgram, ReadIntoTooSmallBufferIsRefusedBeforeItWrites) {
  const ProbeRun abort_run = RunProbe(kProbe, "short-read");
  EXPECT_TRUE(abort_run.Aborted());
  ExpectReport(abort_run, kOverwrite, "MakeSmallBuffer");
  const ProbeRun report = RunProbe(kProbe, "short-read", "mode=report");
  EXPECT_TRUE(Has(report.out, "read: -1 errno 14")) << report.out;
  EXPECT_TRUE(Has(report.out, "neighbour intact: 1")) << report.out;
}

TEST(WholeProgram, StrcpyOverflowIsRefused) {
  const ProbeRun abort_run = RunProbe(kProbe, "strcpy");
  EXPECT_TRUE(abort_run.Aborted());
  ExpectReport(abort_run, kOverwrite, "MakeName");
  const ProbeRun report = RunProbe(kProbe, "strcpy", "mode=report");
  EXPECT_TRUE(Has(report.out, "name length: 0")) << report.out;  // nothing copied
}

TEST(WholeProgram, StaleLengthAfterReallocShrink) {
  const ProbeRun into = RunProbe(kProbe, "realloc-into");
  EXPECT_TRUE(into.Aborted());
  ExpectReport(into, kOverwrite, "ReallocStale");
  EXPECT_TRUE(Has(into.err, "object size 64")) << into.err;
  const ProbeRun out = RunProbe(kProbe, "realloc-out");
  EXPECT_TRUE(out.Aborted());
  ExpectReport(out, kExposure, "ReallocStale");
  // Report mode: the refused source leaves zeros, not the stale bytes.
  const ProbeRun report = RunProbe(kProbe, "realloc-out", "mode=report");
  EXPECT_TRUE(Has(report.out, "other[100]: 0")) << report.out;
}

TEST(WholeProgram, UseAfterFreeAndDoubleFreeNameTheSite) {
  const ProbeRun uaf = RunProbe(kProbe, "uaf");
  EXPECT_TRUE(uaf.Aborted());
  EXPECT_TRUE(Has(uaf.err, "use-after-free")) << uaf.err;
  EXPECT_TRUE(Has(uaf.err, "in UseAfterFree ")) << uaf.err;
  for (const char* c : {"double-free", "double-free-threaded"}) {
    const ProbeRun df = RunProbe(kProbe, c);
    EXPECT_TRUE(df.Aborted()) << c;
    EXPECT_TRUE(Has(df.err, "sealpool: double free detected in pool 'malloc-")) << df.err;
    EXPECT_TRUE(Has(df.err, "in DoubleFree ")) << df.err;
    // Both ways a free runs: one thread, a plain store; then a CAS.
    const bool threaded = std::string(c) == "double-free-threaded";
    EXPECT_TRUE(Has(df.err, threaded ? "single-threaded: 0" : "single-threaded: 1")) << df.err;
  }
}

// _FORTIFY_SOURCE's size is sealpool's too: a stack buffer, a global or a
// stack strcpy past the compiler's size is an object-size report (abort;
// report mode: nothing written), glibc's own "buffer overflow detected"
// with check_libc=0; a heap object the compiler could not measure is
// refused by sealpool's bounds. The exact fits pass.
TEST(WholeProgram, FortifySizesAreSealpoolsObjectSizeRule) {
  struct Case {
    const char* name;
    const char* where;
  };
  for (const Case& c : {Case{"fortify-stack", "process stack"},
                        Case{"fortify-global", "program data"},
                        Case{"fortify-strcpy", "process stack"}}) {
    SCOPED_TRACE(c.name);
    const ProbeRun aborted = RunProbe(kProbe, c.name);
    EXPECT_TRUE(aborted.Aborted());
    EXPECT_TRUE(Has(aborted.err, std::string("sealpool: memory overwrite attempt "
                                             "detected to ") + c.where + " (address 0x"))
        << aborted.err;
    EXPECT_TRUE(Has(aborted.err, "known object size 8)!")) << aborted.err;
    EXPECT_TRUE(Has(aborted.err, "kind: object-size")) << aborted.err;
    const ProbeRun refused = RunProbe(kProbe, c.name, "mode=report");
    EXPECT_TRUE(refused.ExitedWith(0)) << refused.err;
    EXPECT_TRUE(Has(refused.out, "intact: 1")) << refused.out;
    const ProbeRun glibc = RunProbe(kProbe, c.name, "check_libc=0");
    EXPECT_TRUE(glibc.Aborted());
    EXPECT_TRUE(Has(glibc.err, "buffer overflow detected")) << glibc.err;
  }
  const ProbeRun heap = RunProbe(kProbe, "fortify-heap");
  EXPECT_TRUE(heap.Aborted());
  ExpectReport(heap, kOverwrite, "MakeRecord");
  const ProbeRun legal = RunProbe(kProbe, "fortify-legal");
  EXPECT_TRUE(legal.ExitedWith(0)) << legal.err;
  EXPECT_TRUE(Has(legal.out, "legal: 1 1")) << legal.out;
  EXPECT_EQ(legal.err, "");
}

// Every _FORTIFY_SOURCE entry point refuses one byte (or wide character)
// past the compiler's size as object-size, touching nothing, and does its
// work at exactly that size.
TEST(WholeProgram, EveryFortifyEntryPointRefusesPastTheCompilersSize) {
  const char* const kNames[] = {
      "memcpy", "memmove", "memset", "mempcpy", "strncpy", "stpncpy",
      "strcpy", "stpcpy", "strcat", "strncat", "wmemcpy", "wmemmove",
      "wmemset", "snprintf", "read", "recv", "recvfrom", "pread", "fread"};
  const ProbeRun r = RunProbe(kProbe, "fortify-each", "mode=report");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  for (const char* name : kNames) {
    EXPECT_TRUE(Has(r.out, std::string(name) + ": ok\n")) << name << "\n" << r.out;
  }
  EXPECT_FALSE(Has(r.out, "WRONG")) << r.out;
  size_t reports = 0;
  for (size_t p = r.err.find("kind: object-size"); p != std::string::npos;
       p = r.err.find("kind: object-size", p + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, sizeof(kNames) / sizeof(kNames[0])) << r.err;

  const ProbeRun legal = RunProbe(kProbe, "fortify-each-legal", "mode=report");
  EXPECT_TRUE(legal.ExitedWith(0)) << legal.out << legal.err;
  for (const char* name : kNames) {
    EXPECT_TRUE(Has(legal.out, std::string(name) + ": ok\n")) << name << "\n"
                                                               << legal.out;
  }
  EXPECT_EQ(legal.err, "");
}

// Every checked entry point fires: a heap buffer one byte short (65 bytes
// into or out of a 64-byte object) is refused before libc, once reported
// each; legal-io is the neighbour at exactly 64.
TEST(WholeProgram, EveryEntryPointRefusesOneByteTooMany) {
  const ProbeRun r = RunProbe(kProbe, "refuse-each", "mode=report");
  EXPECT_TRUE(r.ExitedWith(0)) << r.out << r.err;
  for (const char* name : {"read", "pread", "readv", "recv", "recvfrom", "recvmsg",
                           "write", "pwrite", "writev", "send", "sendto", "sendmsg",
                           "fread", "fwrite", "fgets"}) {
    EXPECT_TRUE(Has(r.out, std::string(name) + ": refused\n")) << name << "\n" << r.out;
  }
  EXPECT_FALSE(Has(r.out, "PASSED THROUGH")) << r.out;
  EXPECT_TRUE(Has(r.out, "neighbour intact: 1")) << r.out;
  // 15 I/O calls and 6 memory/string calls, one report each.
  size_t reports = 0;
  for (size_t p = r.err.find("sealpool: memory "); p != std::string::npos;
       p = r.err.find("sealpool: memory ", p + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, 21u) << r.err;
}

TEST(WholeProgram, FortifyHeapCopyOfTheExactSizePasses) {
  const ProbeRun r = RunProbe(kProbe, "fortify-heap-legal");
  EXPECT_TRUE(r.ExitedWith(0)) << r.err;
  EXPECT_TRUE(Has(r.out, "copied: 1")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(WholeProgram, CxxContainerOverread) {
  const ProbeRun r = RunProbe(kProbeCxx, "vector-overread");
  EXPECT_TRUE(r.Aborted());
  EXPECT_TRUE(Has(r.err, kExposure)) << r.err;
  EXPECT_TRUE(Has(r.err, "object size 48")) << r.err;
}

TEST(WholeProgram, CheckLibcOffLeavesOnlyTheAllocator) {
  const ProbeRun r = RunProbe(kProbe, "overread", "check_libc=0");
  EXPECT_TRUE(r.ExitedWith(0)) << r.err;
  EXPECT_TRUE(Has(r.out, "write: 4096")) << r.out;  // unchecked: it went out
  EXPECT_EQ(r.err, "");
}

TEST(WholeProgram, WithoutSitesReportsNameThePoolOnly) {
  const ProbeRun r = RunProbe(kProbe, "overread", "alloc_sites=0");
  EXPECT_TRUE(r.Aborted());
  EXPECT_TRUE(Has(r.err, kExposure)) << r.err;
  EXPECT_FALSE(Has(r.err, "object allocated at")) << r.err;
}

TEST(WholeProgram, StatsAtExitListTheHeapPools) {
  const ProbeRun r = RunProbe(kProbe, "api", "print_stats=1:heap_pools=3");
  EXPECT_TRUE(r.ExitedWith(0));
  EXPECT_TRUE(Has(r.err, "malloc-2 ")) << r.err;
  EXPECT_FALSE(Has(r.err, "malloc-3 ")) << r.err;
}

TEST(WholeProgram, LogSurvivesAProgramClosingAndReusingItsDescriptor) {
  char log[] = "/tmp/sealpool-wp-log-XXXXXX";
  const int fd = mkstemp(log);
  ASSERT_GE(fd, 0);
  close(fd);
  const ProbeRun r =
      RunProbe(kProbe, "closefrom", std::string("mode=report:log_path=") + log);
  EXPECT_TRUE(r.ExitedWith(0)) << r.err;
  EXPECT_TRUE(Has(r.out, "write: -1 errno 14")) << r.out;
  EXPECT_TRUE(Has(r.out, "own file size: 0")) << r.out;  // not the JSON line
  const int in = open(log, O_RDONLY);
  const std::string json = Drain(in);
  unlink(log);
  EXPECT_TRUE(Has(json, "\"kind\":\"out-of-bounds\"")) << json;
}

TEST(WholeProgram, StatsAtExitSurviveAProgramClosingStderr) {
  const ProbeRun r = RunProbe(kProbe, "close-stderr", "print_stats=1");
  EXPECT_TRUE(r.ExitedWith(0));
  EXPECT_TRUE(Has(r.err, "malloc-0 ")) << r.err;
}

// libsealpool_malloc.a linked into the program, nothing preloaded.
TEST(WholeProgramStatic, LinkedInHeapIsSealpoolsAndChecked) {
  const ProbeRun api = RunProbe(SEALPOOL_WP_PROBE_STATIC, "api", "", /*preload=*/false);
  EXPECT_TRUE(api.ExitedWith(0)) << api.out << api.err;
  const ProbeRun threads = RunProbe(SEALPOOL_WP_PROBE_STATIC, "threads", "", false);
  EXPECT_TRUE(threads.ExitedWith(0)) << threads.out << threads.err;
  const ProbeRun legal = RunProbe(SEALPOOL_WP_PROBE_STATIC, "legal-io", "", false);
  EXPECT_TRUE(legal.ExitedWith(0)) << legal.out << legal.err;
  const ProbeRun bug = RunProbe(SEALPOOL_WP_PROBE_STATIC, "overread", "", false);
  EXPECT_TRUE(bug.Aborted());
  ExpectReport(bug, kExposure, "MakeRecord");
}

}  // namespace
