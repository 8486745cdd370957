// Rule 4 of check_copy, memory sealpool does not own: the calling thread's
// stack (ranges that leave it, dead frames below the checker) and the
// program's images (writes into read-only data or code, reads of code),
// including a library loaded after start; everything else is allowed.

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "allocator/page_query.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::RecordedViolation;
using ::sealpool_test::ReportModeTest;

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;

struct Bounds {
  uintptr_t lo = 0;
  uintptr_t hi = 0;
};

// The calling thread's stack, as pthread reports it.
// The stack as glibc reports it (for the main thread: up to the page above
// __libc_stack_end).
Bounds GlibcThreadStack() {
  Bounds b;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return b;
  void* addr = nullptr;
  size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    b.lo = Addr(addr);
    b.hi = b.lo + size;
  }
  pthread_attr_destroy(&attr);
  return b;
}

// The end of the mapping holding `a`, from /proc/self/maps (0 if none).
uintptr_t MappingEndOf(uintptr_t a) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const uintptr_t lo = std::stoull(line, nullptr, 16);
    const uintptr_t hi = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    if (a >= lo && a < hi) return hi;
  }
  return 0;
}

bool OnMainThread() { return getpid() == static_cast<pid_t>(syscall(SYS_gettid)); }

// The stack as the checker sees it: the main thread's reaches the end of
// its mapping (arguments, environment, auxiliary vector).
Bounds CurrentThreadStack() {
  Bounds b = GlibcThreadStack();
  if (b.hi != 0 && OnMainThread()) {
    const uintptr_t end = MappingEndOf(b.hi - 1);
    if (end > b.hi) b.hi = end;
  }
  return b;
}

// Returns the address of a buffer in its own frame, which is dead once it
// returns. The buffer is large so that it lies well below the frames that
// CheckCopy will push from the caller.
__attribute__((noinline)) uintptr_t DeadFrameAddress() {
  char buf[4096];
  char* volatile p = buf;
  asm volatile("" : : "r"(p) : "memory");
  return Addr(p);
}

// Checks a buffer of its own, live frame from a deeper call.
__attribute__((noinline)) ViolationKind CheckOwnFrame(CopyDirection dir) {
  char buf[256];
  asm volatile("" : : "r"(buf) : "memory");
  const ViolationKind k = CheckCopy(buf, sizeof(buf), dir);
  asm volatile("" : : "r"(buf) : "memory");
  return k;
}

__attribute__((noinline)) int SomeCode(int x) {
  asm volatile("" : "+r"(x));
  return x + 1;
}

char g_writable[128];
int g_initialised = 42;
const char kConstTable[64] = "read-only table data in .rodata";
const char* const kRelroTable[] = {"relro", "pointers"};

class StackTest : public ReportModeTest {};

TEST_F(StackTest, BufferInTheTestsOwnFrameIsAllowed) {
  char buf[64];
  std::memset(buf, 1, sizeof(buf));
  for (CopyDirection dir : {kRead, kWrite}) {
    EXPECT_EQ(CheckCopy(buf, sizeof(buf), dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(buf + 10, 20, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckOwnFrame(dir), ViolationKind::kNone);
  }
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST_F(StackTest, RangeLeavingTheTopOfTheStackIsRefused) {
  const Bounds s = CurrentThreadStack();
  ASSERT_NE(s.hi, 0u);
  ASSERT_LT(s.lo, Addr(&s));
  ASSERT_GT(s.hi, Addr(&s));
  for (CopyDirection dir : {kRead, kWrite}) {
    EXPECT_EQ(CheckCopy(reinterpret_cast<void*>(s.hi - 8), 16, dir),
              ViolationKind::kStackOverflow);
  }
  // From a live local up past the top: a classic stack over-read.
  char local[32];
  EXPECT_EQ(CheckCopy(local, s.hi - Addr(local) + 1, kRead),
            ViolationKind::kStackOverflow);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kStackOverflow);
    EXPECT_FALSE(r.has_pool_name);
  }
  EXPECT_EQ(v[0].addr, s.hi - 8);
}

// Programs copy from their arguments and environment (setproctitle does,
// into the heap): on the main thread those lie above the stack top glibc
// reports, in the same mapping, and are stack to the checker. A copy across
// glibc's top used to be refused as partly on the stack.
// The process is run again with 16 KiB of environment, so that there is
// always more than a page above glibc's top.
TEST_F(StackTest, MainThreadArgumentsAndEnvironmentAreOnTheStack) {
  ASSERT_TRUE(OnMainThread());
  if (std::getenv("SEALPOOL_TEST_BIG_ENV") == nullptr) {
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string big(16384, 'e');
      setenv("SEALPOOL_TEST_BIG_ENV", big.c_str(), 1);
      execl("/proc/self/exe", "stack_test",
            "--gtest_filter=StackTest.MainThreadArgumentsAndEnvironmentAreOnTheStack",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    return;
  }
  const Bounds glibc = GlibcThreadStack();
  const uintptr_t end = MappingEndOf(glibc.hi - 1);
  ASSERT_GT(end, glibc.hi) << "nothing above glibc's stack top";
  EXPECT_EQ(CheckCopy(reinterpret_cast<void*>(glibc.hi - 16), 32, kRead),
            ViolationKind::kNone);
  for (char** e = environ; *e != nullptr; ++e) {
    ASSERT_EQ(CheckCopy(*e, std::strlen(*e) + 1, kRead), ViolationKind::kNone) << *e;
  }
  // The end of the mapping is still the end of the stack.
  EXPECT_EQ(CheckCopy(reinterpret_cast<void*>(end - 8), 16, kRead),
            ViolationKind::kStackOverflow);
  EXPECT_EQ(recorder_.Take().size(), 1u);
}

TEST_F(StackTest, RangeLeavingTheBottomOfTheStackIsRefused) {
  const Bounds s = CurrentThreadStack();
  ASSERT_NE(s.lo, 0u);
  EXPECT_EQ(CheckCopy(reinterpret_cast<void*>(s.lo - 8), 16, kRead),
            ViolationKind::kStackOverflow);
  EXPECT_EQ(recorder_.Take().size(), 1u);
}

TEST_F(StackTest, DeadFrameBelowTheCheckerIsRefused) {
  const uintptr_t dead = DeadFrameAddress();
  const Bounds s = CurrentThreadStack();
  ASSERT_GE(dead, s.lo);
  ASSERT_LT(dead, Addr(&s));
  for (CopyDirection dir : {kRead, kWrite}) {
    EXPECT_EQ(CheckCopy(reinterpret_cast<void*>(dead), 16, dir),
              ViolationKind::kStackOverflow);
  }
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].addr, dead);
}

TEST_F(StackTest, OtherThreadsGetTheirOwnStackBounds) {
  ViolationKind own = ViolationKind::kBogusPointer;
  ViolationKind past_top = ViolationKind::kNone;
  ViolationKind dead = ViolationKind::kNone;
  bool top_touches_arena = false;
  std::thread t([&] {
    char buf[128];
    std::memset(buf, 0, sizeof(buf));
    own = CheckCopy(buf, sizeof(buf), kWrite);
    const Bounds s = CurrentThreadStack();
    past_top = CheckCopy(reinterpret_cast<void*>(s.hi - 4), 8, kRead);
    // A thread stack is an mmap and may sit right below the arena: then the
    // range also runs into the arena, which the checker names first.
    top_touches_arena = InArena(reinterpret_cast<void*>(s.hi), 4);
    dead = CheckCopy(reinterpret_cast<void*>(DeadFrameAddress()), 16, kRead);
  });
  t.join();
  EXPECT_EQ(own, ViolationKind::kNone);
  if (top_touches_arena) {
    EXPECT_TRUE(past_top == ViolationKind::kStackOverflow ||
                past_top == ViolationKind::kGuardPage)
        << static_cast<int>(past_top);
  } else {
    EXPECT_EQ(past_top, ViolationKind::kStackOverflow);
  }
  EXPECT_EQ(dead, ViolationKind::kStackOverflow);
  recorder_.Take();
}

TEST_F(StackTest, AnotherThreadsStackIsNotOurs) {
  // Another thread's live stack is plain foreign memory to this thread.
  char buf[64];
  std::memset(buf, 0, sizeof(buf));
  ViolationKind k = ViolationKind::kBogusPointer;
  std::thread t([&] { k = CheckCopy(buf, sizeof(buf), kRead); });
  t.join();
  EXPECT_EQ(k, ViolationKind::kNone);
  EXPECT_TRUE(recorder_.Take().empty());
}

class ImageTest : public ReportModeTest {};

TEST_F(ImageTest, ReadOnlyDataMayBeReadButNotWritten) {
  const char* literal = "a string literal";
  EXPECT_EQ(CheckCopy(literal, std::strlen(literal) + 1, kRead),
            ViolationKind::kNone);
  EXPECT_EQ(CheckCopy(literal, 4, kWrite), ViolationKind::kImageSegment);
  EXPECT_EQ(CheckCopy(kConstTable, sizeof(kConstTable), kRead),
            ViolationKind::kNone);
  EXPECT_EQ(CheckCopy(kConstTable + 8, 8, kWrite),
            ViolationKind::kImageSegment);
  // Relocated, then read-only (RELRO).
  EXPECT_EQ(CheckCopy(kRelroTable, sizeof(kRelroTable), kRead),
            ViolationKind::kNone);
  EXPECT_EQ(CheckCopy(kRelroTable, sizeof(kRelroTable), kWrite),
            ViolationKind::kImageSegment);
  std::vector<RecordedViolation> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  for (const RecordedViolation& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kImageSegment);
    EXPECT_FALSE(r.has_pool_name);
  }
  EXPECT_EQ(v[0].addr, Addr(literal));
}

TEST_F(ImageTest, CodeMayBeNeitherReadNorWritten) {
  const void* code = reinterpret_cast<const void*>(&SomeCode);
  const void* libc_code = reinterpret_cast<const void*>(&std::qsort);
  for (CopyDirection dir : {kRead, kWrite}) {
    EXPECT_EQ(CheckCopy(code, 4, dir), ViolationKind::kImageSegment);
    EXPECT_EQ(CheckCopy(libc_code, 16, dir), ViolationKind::kImageSegment);
  }
  EXPECT_EQ(SomeCode(1), 2);
  EXPECT_EQ(recorder_.Take().size(), 4u);
}

TEST_F(ImageTest, WritableDataHeapAndUnmappedForeignMemoryAreAllowed) {
  void* heap = std::malloc(1000);
  ASSERT_NE(heap, nullptr);
  for (CopyDirection dir : {kRead, kWrite}) {
    EXPECT_EQ(CheckCopy(heap, 1000, dir), ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(g_writable, sizeof(g_writable), dir),
              ViolationKind::kNone);
    EXPECT_EQ(CheckCopy(&g_initialised, sizeof(g_initialised), dir),
              ViolationKind::kNone);
  }
  std::free(heap);
  EXPECT_TRUE(recorder_.Take().empty());
}

// A library loaded after start: its code is unknown until the table is
// refreshed (explicitly here; the checker also notices on its own).
TEST_F(ImageTest, LibraryLoadedLaterIsKnownAfterRefresh) {
  struct Candidate {
    const char* file;
    const char* symbol;
  };
  const Candidate candidates[] = {{"libz.so.1", "zlibVersion"},
                                  {"libbz2.so.1.0", "BZ2_bzlibVersion"},
                                  {"liblzma.so.5", "lzma_version_number"}};
  void* handle = nullptr;
  void* fn = nullptr;
  for (const Candidate& c : candidates) {
    // Only a library that is not loaded yet proves the refresh.
    void* already = dlopen(c.file, RTLD_NOW | RTLD_NOLOAD);
    if (already != nullptr) {
      dlclose(already);
      continue;
    }
    handle = dlopen(c.file, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) continue;
    fn = dlsym(handle, c.symbol);
    if (fn != nullptr) break;
    dlclose(handle);
    handle = nullptr;
  }
  if (handle == nullptr) {
    GTEST_SKIP() << "no small shared library to dlopen";
  }
  RefreshImageTable();
  EXPECT_EQ(CheckCopy(fn, 4, kRead), ViolationKind::kImageSegment);
  EXPECT_EQ(CheckCopy(fn, 4, kWrite), ViolationKind::kImageSegment);
  sp_refresh_images();
  EXPECT_EQ(sp_check_copy(fn, 4, SP_COPY_READ), -SP_VIOLATION_IMAGE_SEGMENT);
  EXPECT_EQ(recorder_.Take().size(), 3u);
  // The handle stays open: a dlclose'd library's addresses may be reused
  // by anything, and the table keeps no stale entries we could test.
}

TEST_F(ImageTest, LibraryLoadedLaterIsNoticedWithoutRefresh) {
  void* already = dlopen("libexpat.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (already != nullptr) {
    dlclose(already);
    GTEST_SKIP() << "libexpat is already loaded";
  }
  void* handle = dlopen("libexpat.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) GTEST_SKIP() << "cannot dlopen libexpat.so.1";
  void* fn = dlsym(handle, "XML_ExpatVersion");
  ASSERT_NE(fn, nullptr);
  // The checker re-reads the images within 1024 checks on this thread.
  ViolationKind k = ViolationKind::kNone;
  for (int i = 0; i < 2048 && k == ViolationKind::kNone; ++i) {
    k = CheckCopy(fn, 4, kRead);
  }
  EXPECT_EQ(k, ViolationKind::kImageSegment);
  recorder_.Take();
}

}  // namespace
}  // namespace sealpool
