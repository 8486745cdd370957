// Violation reports of check_copy: the kernel-style stderr text in abort
// mode (ReportDeathTest), the handler record field by field (C++ and C),
// the counters (global and per pool), the pool named wherever an address is
// in one (write-rare outside a live object, a wrapping range), the
// stack-trace options and the JSON lines log.

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::AsBytes;
using ::sealpool_test::ReadFile;
using ::sealpool_test::StderrCapture;
using ::sealpool_test::UniqueName;

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;

// Every field of a Violation, copied out during the handler call.
struct FullRecord {
  ViolationKind kind = ViolationKind::kNone;
  bool has_pool_name = false;
  std::string pool_name;
  uint32_t pool_id = 0;
  uintptr_t addr = 0;
  size_t len = 0;
  CopyDirection dir = CopyDirection::kNone;
  uintptr_t object_start = 0;
  size_t object_size = 0;
  size_t offset = 0;
  std::string detail;
  uint64_t thread_id = 0;
  int stack_depth = 0;
};

class FullRecorder {
 public:
  static void Handler(const Violation& v, void* arg) {
    FullRecord r;
    r.kind = v.kind;
    r.has_pool_name = v.pool_name != nullptr;
    if (v.pool_name != nullptr) r.pool_name = v.pool_name;
    r.pool_id = v.pool_id;
    r.addr = v.addr;
    r.len = v.len;
    r.dir = v.dir;
    r.object_start = v.object_start;
    r.object_size = v.object_size;
    r.offset = v.offset;
    if (v.detail != nullptr) r.detail = v.detail;
    r.thread_id = v.thread_id;
    r.stack_depth = v.stack_depth;
    auto* self = static_cast<FullRecorder*>(arg);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->records_.push_back(std::move(r));
  }

  std::vector<FullRecord> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<FullRecord> out;
    out.swap(records_);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<FullRecord> records_;
};

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetMode(Mode::kReport);
    SetViolationHandler(&FullRecorder::Handler, &recorder_);
  }
  void TearDown() override {
    SetViolationHandler(nullptr, nullptr);
    SetMode(Mode::kAbort);
  }

  FullRecorder recorder_;
};


std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The handler record.

TEST_F(ReportTest, HandlerGetsEveryFieldOfAnOverRead) {
  const std::string name = UniqueName("report-fields");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  const uint64_t before = ViolationCount();
  EXPECT_EQ(CheckCopy(AsBytes(p) + 16, 40, kRead), ViolationKind::kOutOfBounds);
  EXPECT_EQ(ViolationCount(), before + 1);
  std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  const FullRecord& r = v[0];
  EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
  EXPECT_TRUE(r.has_pool_name);
  EXPECT_EQ(r.pool_name, name);
  EXPECT_EQ(r.pool_id, pool->id());
  EXPECT_EQ(r.addr, Addr(p) + 16);
  EXPECT_EQ(r.len, 40u);
  EXPECT_EQ(r.dir, kRead);
  EXPECT_EQ(r.object_start, Addr(p));
  EXPECT_EQ(r.object_size, 50u);
  EXPECT_EQ(r.offset, 16u);
  EXPECT_FALSE(r.detail.empty());
  EXPECT_EQ(r.thread_id, static_cast<uint64_t>(gettid()));
  EXPECT_GT(r.stack_depth, 0);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(ReportTest, HandlerGetsEveryFieldOfAWindowViolationWrite) {
  PoolOptions options;
  options.usercopy_offset = 8;
  options.usercopy_size = 16;
  const std::string name = UniqueName("report-window");
  SEALPOOL_ASSERT_CREATE(pool, name, options);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 20, 8, kWrite),
            ViolationKind::kUsercopyWindow);
  std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, ViolationKind::kUsercopyWindow);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].addr, Addr(p) + 20);
  EXPECT_EQ(v[0].len, 8u);
  EXPECT_EQ(v[0].dir, kWrite);
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(v[0].object_size, 64u);
  EXPECT_EQ(v[0].offset, 20u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(ReportTest, HandlerRecordOfViolationsOutsidePools) {
  EXPECT_EQ(CheckCopy(nullptr, 8, kWrite), ViolationKind::kBogusPointer);
  EXPECT_EQ(CheckCopy("literal", 3, kWrite), ViolationKind::kImageSegment);
  std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, ViolationKind::kBogusPointer);
  EXPECT_FALSE(v[0].has_pool_name);
  EXPECT_EQ(v[0].pool_id, 0u);
  EXPECT_EQ(v[0].addr, 0u);
  EXPECT_EQ(v[0].len, 8u);
  EXPECT_EQ(v[0].dir, kWrite);
  EXPECT_EQ(v[0].object_start, 0u);
  EXPECT_EQ(v[1].kind, ViolationKind::kImageSegment);
  EXPECT_FALSE(v[1].has_pool_name);
  EXPECT_EQ(v[1].len, 3u);
}

TEST_F(ReportTest, HandlerIsCalledOncePerViolationFromEveryThread) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("report-threads"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 32);
  const uint64_t before = ViolationCount();
  const uint64_t pool_before = pool->Stats().violations;
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([p] {
      for (int i = 0; i < kEach; ++i) (void)CheckCopy(p, 33, kRead);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ViolationCount(), before + kThreads * kEach);
  EXPECT_EQ(pool->Stats().violations, pool_before + kThreads * kEach);
  std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), static_cast<size_t>(kThreads * kEach));
  for (const FullRecord& r : v) {
    EXPECT_EQ(r.object_start, Addr(p));
    EXPECT_EQ(r.len, 33u);
    EXPECT_NE(r.thread_id, static_cast<uint64_t>(gettid()));
  }
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(ReportTest, ViolationsAreCountedPerPool) {
  SEALPOOL_ASSERT_CREATE(a, UniqueName("report-count-a"), PoolOptions{});
  SEALPOOL_ASSERT_CREATE(b, UniqueName("report-count-b"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(pa, a, 16);
  SEALPOOL_ASSERT_ALLOC(pb, b, 16);
  const uint64_t before = ViolationCount();
  EXPECT_EQ(a->Stats().violations, 0u);
  EXPECT_EQ(b->Stats().violations, 0u);
  (void)CheckCopy(pa, 17, kRead);
  (void)CheckCopy(pa, 17, kWrite);
  (void)CheckCopy(AsBytes(pa) + 16, 1, kRead);
  (void)CheckCopy(pb, 100, kRead);
  (void)CheckCopy(nullptr, 1, kRead);  // no pool
  (void)CheckCopy(pa, 16, kRead);      // allowed
  EXPECT_EQ(a->Stats().violations, 3u);
  EXPECT_EQ(b->Stats().violations, 1u);
  EXPECT_EQ(ViolationCount(), before + 5);
  EXPECT_EQ(sp_violation_count(), ViolationCount());
  EXPECT_EQ(recorder_.Take().size(), 5u);
  EXPECT_TRUE(Pool::Free(pa).ok());
  EXPECT_TRUE(Pool::Free(pb).ok());
}

TEST_F(ReportTest, ANewPoolStartsWithNoViolations) {
  // Pool ids are reused; a new pool must not inherit its slot's count.
  for (int i = 0; i < 3; ++i) {
    SEALPOOL_ASSERT_CREATE(pool, UniqueName("report-count-reuse"),
                           PoolOptions{});
    EXPECT_EQ(pool->Stats().violations, 0u) << "round " << i;
    SEALPOOL_ASSERT_ALLOC(p, pool, 8);
    (void)CheckCopy(p, 9, kRead);
    (void)CheckCopy(p, 9, kRead);
    EXPECT_EQ(pool->Stats().violations, 2u);
    EXPECT_TRUE(Pool::Free(p).ok());
  }
  recorder_.Take();
}

struct CRecord {
  int calls = 0;
  int kind = 0;
  std::string pool_name;
  bool has_pool_name = false;
  uint32_t pool_id = 0;
  uintptr_t addr = 0;
  size_t len = 0;
  int dir = 0;
  uintptr_t object_start = 0;
  size_t object_size = 0;
  size_t offset = 0;
  void* arg = nullptr;
};

void CHandler(const sp_violation* v, void* arg) {
  CRecord* r = static_cast<CRecord*>(arg);
  ++r->calls;
  r->kind = v->kind;
  r->has_pool_name = v->pool_name != nullptr;
  r->pool_name = v->pool_name != nullptr ? v->pool_name : "";
  r->pool_id = v->pool_id;
  r->addr = v->addr;
  r->len = v->len;
  r->dir = v->dir;
  r->object_start = v->object_start;
  r->object_size = v->object_size;
  r->offset = v->offset;
  r->arg = arg;
}

TEST(ReportCApiTest, CHandlerGetsEveryField) {
  const std::string name = UniqueName("report-c");
  sp_pool* pool = sp_pool_create(name.c_str(), nullptr);
  ASSERT_NE(pool, nullptr);
  char* p = static_cast<char*>(sp_alloc(pool, 50));
  ASSERT_NE(p, nullptr);
  CRecord rec;
  sp_set_mode(SP_MODE_REPORT);
  sp_set_violation_handler(&CHandler, &rec);
  const uint64_t before = sp_violation_count();

  EXPECT_EQ(sp_check_copy(p + 16, 40, SP_COPY_READ),
            -SP_VIOLATION_OUT_OF_BOUNDS);
  EXPECT_EQ(rec.calls, 1);
  EXPECT_EQ(rec.kind, SP_VIOLATION_OUT_OF_BOUNDS);
  EXPECT_TRUE(rec.has_pool_name);
  EXPECT_EQ(rec.pool_name, name);
  EXPECT_NE(rec.pool_id, 0u);
  EXPECT_EQ(rec.addr, Addr(p) + 16);
  EXPECT_EQ(rec.len, 40u);
  EXPECT_EQ(rec.dir, SP_COPY_READ);
  EXPECT_EQ(rec.object_start, Addr(p));
  EXPECT_EQ(rec.object_size, 50u);
  EXPECT_EQ(rec.offset, 16u);
  EXPECT_EQ(rec.arg, &rec);
  EXPECT_EQ(sp_violation_count(), before + 1);

  char src[64] = {};
  EXPECT_EQ(sp_memcpy(p + 40, src, 11), nullptr);
  EXPECT_EQ(rec.calls, 2);
  EXPECT_EQ(rec.dir, SP_COPY_WRITE);
  EXPECT_EQ(rec.offset, 40u);
  EXPECT_EQ(rec.len, 11u);

  // Allowed copies do not call the handler.
  EXPECT_EQ(sp_check_copy(p, 50, SP_COPY_WRITE), 0);
  EXPECT_EQ(rec.calls, 2);

  // Removing the handler stops the calls, not the counting.
  sp_set_violation_handler(nullptr, nullptr);
  EXPECT_EQ(sp_check_copy(p, 51, SP_COPY_READ), -SP_VIOLATION_OUT_OF_BOUNDS);
  EXPECT_EQ(rec.calls, 2);
  EXPECT_EQ(sp_violation_count(), before + 3);
  sp_set_mode(SP_MODE_ABORT);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

// The stderr text, in report mode.

TEST_F(ReportTest, ReportTextNamesPoolObjectAndRange) {
  const std::string name = UniqueName("report-text");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  std::string text;
  {
    StderrCapture capture;
    ASSERT_TRUE(capture.ok());
    (void)CheckCopy(AsBytes(p) + 16, 40, kRead);
    (void)CheckCopy(p, 51, kWrite);
    capture.Restore();
    text = capture.Text();
  }
  char object[32];
  std::snprintf(object, sizeof(object), "0x%lx",
                static_cast<unsigned long>(Addr(p)));
  EXPECT_TRUE(Contains(
      text, absl::StrCat("sealpool: memory exposure attempt detected from pool '",
                         name, "' (object ", object,
                         ", offset 16, size 40, object size 50)!\n")))
      << text;
  EXPECT_TRUE(Contains(
      text, absl::StrCat("sealpool: memory overwrite attempt detected to pool '",
                         name, "' (object ", object,
                         ", offset 0, size 51, object size 50)!\n")))
      << text;
  EXPECT_TRUE(Contains(text, "kind: out-of-bounds")) << text;
  EXPECT_TRUE(Contains(text, "#0 0x")) << text;
  recorder_.Take();
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(ReportTest, StackDepthAndSymbolizeOptionsShapeTheReport) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("report-depth"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  std::string no_stack;
  std::string addresses_only;
  {
    StderrCapture capture;
    ASSERT_TRUE(capture.ok());
    ASSERT_TRUE(SetRuntimeOptions("stack_depth=0").ok());
    SetMode(Mode::kReport);
    (void)CheckCopy(p, 51, kRead);
    capture.Restore();
    no_stack = capture.Text();
  }
  {
    StderrCapture capture;
    ASSERT_TRUE(capture.ok());
    ASSERT_TRUE(SetRuntimeOptions("stack_depth=3:symbolize=0").ok());
    SetMode(Mode::kReport);
    (void)CheckCopy(p, 51, kRead);
    capture.Restore();
    addresses_only = capture.Text();
  }
  ASSERT_TRUE(SetRuntimeOptions("stack_depth=32:symbolize=1").ok());
  SetMode(Mode::kReport);
  EXPECT_TRUE(Contains(no_stack, "memory exposure attempt")) << no_stack;
  EXPECT_FALSE(Contains(no_stack, "#0 ")) << no_stack;
  EXPECT_TRUE(Contains(addresses_only, "#0 0x")) << addresses_only;
  EXPECT_FALSE(Contains(addresses_only, "#3 ")) << addresses_only;
  EXPECT_FALSE(Contains(addresses_only, " in ")) << addresses_only;
  std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].stack_depth, 0);
  EXPECT_LE(v[1].stack_depth, 3);
  EXPECT_GT(v[1].stack_depth, 0);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Violations name their pool wherever the address is in one, also when it
// is not inside a live object.

// The first page at or after `from` that is a guard page (0 if none is
// within 4 pages).
uintptr_t GuardPageFrom(uintptr_t from) {
  uintptr_t page = (from + 4095) & ~uintptr_t{4095};
  for (int i = 0; i < 4; ++i, page += 4096) {
    if (QueryAddress(reinterpret_cast<const void*>(page)).page == PageKind::kGuard) {
      return page;
    }
  }
  return 0;
}

std::string Hex(uintptr_t a) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%lx", static_cast<unsigned long>(a));  // NOLINT(runtime/int)
  return buf;
}

TEST_F(ReportTest, WriteRareOutsideALiveObjectNamesThePool) {
  const std::string name = UniqueName("report-wr-outside");
  PoolOptions o;
  o.flags = kPoolWriteRare;
  SEALPOOL_ASSERT_CREATE(pool, name, o);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 50);
  SEALPOOL_ASSERT_ALLOC(gone, pool, 50);
  SEALPOOL_ASSERT_ALLOC(large, pool, 100000);
  ASSERT_TRUE(Pool::Free(gone).ok());
  ASSERT_TRUE(pool->Seal().ok());
  const uintptr_t guard = GuardPageFrom(Addr(large) + 100000);
  ASSERT_NE(guard, 0u);
  const char src[4] = {'b', 'a', 'd', '!'};
  std::string text;
  {
    StderrCapture capture;
    ASSERT_TRUE(capture.ok());
    EXPECT_FALSE(Pool::WriteRare(gone, src, 4).ok());                // freed slot
    EXPECT_FALSE(Pool::WriteRare(AsBytes(keep) + 56, src, 4).ok());  // slack
    EXPECT_FALSE(
        Pool::WriteRare(reinterpret_cast<void*>(guard), src, 4).ok());  // guard
    capture.Restore();
    text = capture.Text();
  }
  const std::string head =
      "sealpool: memory overwrite attempt detected to pool '" + name + "' (";
  EXPECT_TRUE(Contains(text, head + "object " + Hex(Addr(gone)) +
                                 ", offset 0, size 4, object size 0)!\n"))
      << text;
  EXPECT_TRUE(Contains(text, head + "object " + Hex(Addr(keep)) +
                                 ", offset 56, size 4, object size 50)!\n"))
      << text;
  EXPECT_TRUE(Contains(text, head + "address " + Hex(guard) + ", size 4)!\n"))
      << text;
  EXPECT_FALSE(Contains(text, "detected to out-of-bounds")) << text;
  const std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  for (const FullRecord& r : v) {
    EXPECT_EQ(r.kind, ViolationKind::kOutOfBounds);
    EXPECT_EQ(r.pool_name, name);
    EXPECT_EQ(r.pool_id, pool->id());
  }
  EXPECT_EQ(v[0].detail, "write-rare into a freed slot");
  EXPECT_EQ(v[1].detail, "write-rare starts after the object's end (slack or redzone)");
  EXPECT_EQ(v[2].detail, "write-rare into a guard page");
  // The legal neighbour: in bounds, the write-rare succeeds.
  ASSERT_TRUE(Pool::WriteRare(AsBytes(keep) + 46, src, 4).ok());
  EXPECT_EQ(std::memcmp(AsBytes(keep) + 46, src, 4), 0);
  EXPECT_TRUE(recorder_.Take().empty());
}

TEST_F(ReportTest, WrappingRangeNamesThePoolAndTheObject) {
  const std::string name = UniqueName("report-wrap");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  SEALPOOL_ASSERT_ALLOC(gone, pool, 50);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 50);
  ASSERT_TRUE(Pool::Free(gone).ok());
  // ptr + wrap_length(ptr) is 2^64: the range wraps to 0.
  const auto wrap_length = [](const void* ptr) {
    return static_cast<size_t>(~uintptr_t{0} - Addr(ptr) + 1);
  };
  const size_t wrap = wrap_length(AsBytes(p) + 8);
  const size_t gone_wrap = wrap_length(gone);
  char outside[16] = {};
  std::string text;
  {
    StderrCapture capture;
    ASSERT_TRUE(capture.ok());
    EXPECT_EQ(CheckCopy(AsBytes(p) + 8, wrap, kRead), ViolationKind::kBogusPointer);
    EXPECT_EQ(CheckCopy(gone, gone_wrap, kWrite), ViolationKind::kBogusPointer);
    EXPECT_EQ(CheckCopy(outside, ~size_t{0}, kRead), ViolationKind::kBogusPointer);
    capture.Restore();
    text = capture.Text();
  }
  EXPECT_TRUE(Contains(
      text, "sealpool: memory exposure attempt detected from pool '" + name +
                "' (object " + Hex(Addr(p)) + ", offset 8, size " +
                std::to_string(wrap) + ", object size 50)!\n  kind: "
                "bogus-pointer (range wraps around the address space)"))
      << text;
  // A freed slot is no object, but the pool is named.
  EXPECT_TRUE(Contains(
      text, "sealpool: memory overwrite attempt detected to pool '" + name +
                "' (address " + Hex(Addr(gone)) + ", size " +
                std::to_string(gone_wrap) + ")!\n"))
      << text;
  // Outside the pools: no pool to name.
  EXPECT_TRUE(Contains(text,
                       "sealpool: memory exposure attempt detected from "
                       "bogus-pointer (address " + Hex(Addr(outside)) + ", size "))
      << text;
  const std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].pool_id, pool->id());
  EXPECT_EQ(v[0].object_start, Addr(p));
  EXPECT_EQ(v[0].object_size, 50u);
  EXPECT_EQ(v[0].offset, 8u);
  EXPECT_EQ(v[1].pool_name, name);
  EXPECT_EQ(v[1].object_start, 0u);
  EXPECT_FALSE(v[2].has_pool_name);
  EXPECT_EQ(v[2].pool_id, 0u);
  // The legal neighbour: the same start, a length that does not wrap and
  // stays in the object.
  EXPECT_EQ(CheckCopy(AsBytes(p) + 8, 42, kRead), ViolationKind::kNone);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(keep).ok());
}

// The JSON lines log.

class JsonLogTest : public ReportTest {
 protected:
  void SetUp() override {
    char path[] = "/tmp/sealpool-json-test-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = path;
    ASSERT_TRUE(SetRuntimeOptions("log_path=" + path_).ok());
    ReportTest::SetUp();  // after SetRuntimeOptions, which applies a mode
  }
  void TearDown() override {
    EXPECT_TRUE(SetRuntimeOptions("log_path=").ok());
    ReportTest::TearDown();
    unlink(path_.c_str());
  }

  std::string path_;
};

TEST_F(JsonLogTest, OneLinePerViolationWithEveryKey) {
  const std::string name = UniqueName("report-json");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  SEALPOOL_ASSERT_ALLOC(freed, pool, 24);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 24);
  ASSERT_TRUE(Pool::Free(freed).ok());

  EXPECT_EQ(CheckCopy(AsBytes(p) + 16, 40, kRead), ViolationKind::kOutOfBounds);
  EXPECT_EQ(CheckCopy(AsBytes(freed) + 4, 8, kWrite),
            ViolationKind::kUseAfterFree);
  EXPECT_EQ(CheckCopy(nullptr, 7, kRead), ViolationKind::kBogusPointer);
  EXPECT_EQ(CheckCopy(p, 50, kRead), ViolationKind::kNone);

  const std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 3u) << ReadFile(path_);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
    for (const char* key :
         {"time", "kind", "pool", "pool_id", "addr", "len", "dir",
          "object_start", "object_size", "offset", "thread", "detail",
          "stack"}) {
      EXPECT_TRUE(Contains(line, absl::StrCat("\"", key, "\":")))
          << key << " missing in " << line;
    }
  }
  const std::string& oob = lines[0];
  EXPECT_TRUE(Contains(oob, "\"kind\":\"out-of-bounds\"")) << oob;
  EXPECT_TRUE(Contains(oob, absl::StrCat("\"pool\":\"", name, "\""))) << oob;
  EXPECT_TRUE(Contains(oob, absl::StrCat("\"pool_id\":", pool->id(), ",")))
      << oob;
  EXPECT_TRUE(Contains(oob, absl::StrCat("\"addr\":", Addr(p) + 16, ",")))
      << oob;
  EXPECT_TRUE(Contains(oob, "\"len\":40,")) << oob;
  EXPECT_TRUE(Contains(oob, "\"dir\":\"read\"")) << oob;
  EXPECT_TRUE(Contains(oob, absl::StrCat("\"object_start\":", Addr(p), ",")))
      << oob;
  EXPECT_TRUE(Contains(oob, "\"object_size\":50,")) << oob;
  EXPECT_TRUE(Contains(oob, "\"offset\":16,")) << oob;
  EXPECT_TRUE(Contains(oob, absl::StrCat("\"thread\":", gettid(), ","))) << oob;
  EXPECT_TRUE(Contains(oob, "\"stack\":[\"0x")) << oob;

  const std::string& uaf = lines[1];
  EXPECT_TRUE(Contains(uaf, "\"kind\":\"use-after-free\"")) << uaf;
  EXPECT_TRUE(Contains(uaf, absl::StrCat("\"pool\":\"", name, "\""))) << uaf;
  EXPECT_TRUE(Contains(uaf, "\"len\":8,")) << uaf;
  EXPECT_TRUE(Contains(uaf, "\"dir\":\"write\"")) << uaf;
  EXPECT_TRUE(Contains(uaf, absl::StrCat("\"object_start\":", Addr(freed), ",")))
      << uaf;
  EXPECT_TRUE(Contains(uaf, "\"offset\":4,")) << uaf;

  const std::string& bogus = lines[2];
  EXPECT_TRUE(Contains(bogus, "\"kind\":\"bogus-pointer\"")) << bogus;
  EXPECT_TRUE(Contains(bogus, "\"pool\":null")) << bogus;
  EXPECT_TRUE(Contains(bogus, "\"pool_id\":0,")) << bogus;
  EXPECT_TRUE(Contains(bogus, "\"addr\":0,")) << bogus;
  EXPECT_TRUE(Contains(bogus, "\"len\":7,")) << bogus;

  EXPECT_EQ(recorder_.Take().size(), 3u);
  EXPECT_TRUE(Pool::Free(p).ok());
  EXPECT_TRUE(Pool::Free(keep).ok());
}

TEST_F(JsonLogTest, PoolNamesAreEscaped) {
  const std::string name = UniqueName("we\"ird\\name");
  SEALPOOL_ASSERT_CREATE(pool, name, PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 10);
  EXPECT_EQ(CheckCopy(p, 11, kRead), ViolationKind::kOutOfBounds);
  const std::vector<std::string> lines = Lines(ReadFile(path_));
  ASSERT_EQ(lines.size(), 1u);
  std::string escaped;
  for (char c : name) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  EXPECT_TRUE(Contains(lines[0], absl::StrCat("\"pool\":\"", escaped, "\"")))
      << lines[0];
  EXPECT_TRUE(Contains(lines[0], "we\\\"ird\\\\name")) << lines[0];
  std::vector<FullRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST_F(JsonLogTest, EmptyLogPathStopsTheLog) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("report-json-off"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 10);
  (void)CheckCopy(p, 11, kRead);
  ASSERT_TRUE(SetRuntimeOptions("log_path=").ok());
  SetMode(Mode::kReport);
  (void)CheckCopy(p, 12, kRead);
  EXPECT_EQ(Lines(ReadFile(path_)).size(), 1u);
  EXPECT_EQ(recorder_.Take().size(), 2u);
  EXPECT_TRUE(Pool::Free(p).ok());
}

// Abort mode: one report on stderr, then abort.

TEST(ReportDeathTest, OverReadReportsTheKernelsWords) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // A fixed name: the threadsafe child re-runs this test from the start.
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy(AsBytes(p) + 16, 40, kRead);
      },
      "sealpool: memory exposure attempt detected from pool 'sessions-dt' "
      "\\(object 0x[0-9a-f]+, offset 16, size 40, object size 50\\)!");
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy(AsBytes(p) + 16, 40, kRead);
      },
      "kind: out-of-bounds[^\n]*\n +#0 0x[0-9a-f]+");
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(ReportDeathTest, OverWriteReportsTheKernelsWords) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt-write", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy(AsBytes(p) + 48, 4, kWrite);
      },
      "sealpool: memory overwrite attempt detected to pool "
      "'sessions-dt-write' \\(object 0x[0-9a-f]+, offset 48, size 4, object "
      "size 50\\)!");
  char src[64] = {};
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckedMemcpy(p, src, sizeof(src));
      },
      "sealpool: memory overwrite attempt detected to pool "
      "'sessions-dt-write' \\(object 0x[0-9a-f]+, offset 0, size 64, object "
      "size 50\\)!");
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(ReportDeathTest, CheckedCopiesAbortInAbortMode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt-copy", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  char dst[64];
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)sp_memcpy(dst, p, sizeof(dst));
      },
      "memory exposure attempt detected from pool 'sessions-dt-copy'");
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)sp_memset(p, 0, 51);
      },
      "memory overwrite attempt detected to pool 'sessions-dt-copy'");
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)sp_check_copy(p, 51, SP_COPY_READ);
      },
      "memory exposure attempt detected from pool 'sessions-dt-copy'");
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(ReportDeathTest, UseAfterFreeAndForeignViolationsAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt-uaf", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 50);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy(p, 1, kRead);
      },
      "sealpool: memory exposure attempt detected from pool "
      "'sessions-dt-uaf'.*\n  kind: use-after-free");
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy(nullptr, 1, kRead);
      },
      "sealpool: memory exposure attempt detected from bogus-pointer "
      "\\(address 0x0, size 1\\)!");
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy("literal", 1, kWrite);
      },
      "sealpool: memory overwrite attempt detected to image-segment "
      "\\(address 0x[0-9a-f]+, size 1\\)!");
  EXPECT_TRUE(Pool::Free(keep).ok());
}

TEST(ReportDeathTest, WriteRareIntoAFreedSlotNamesThePool) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  PoolOptions o;
  o.flags = kPoolWriteRare;
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt-wr", o);
  SEALPOOL_ASSERT_ALLOC(keep, pool, 50);
  SEALPOOL_ASSERT_ALLOC(gone, pool, 50);
  ASSERT_TRUE(Pool::Free(gone).ok());
  ASSERT_TRUE(pool->Seal().ok());
  const char src[4] = {};
  // The legal neighbour first: in bounds.
  ASSERT_TRUE(Pool::WriteRare(keep, src, 4).ok());
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)Pool::WriteRare(gone, src, 4);
      },
      "sealpool: memory overwrite attempt detected to pool 'sessions-dt-wr' "
      "\\(object 0x[0-9a-f]+, offset 0, size 4, object size 0\\)!\n  kind: "
      "out-of-bounds \\(write-rare into a freed slot\\)");
}

TEST(ReportDeathTest, WrappingRangeNamesThePool) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt-wrap", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  // The legal neighbour first: no wrap, in the object.
  SetMode(Mode::kAbort);
  EXPECT_EQ(CheckCopy(AsBytes(p) + 8, 42, kRead), ViolationKind::kNone);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        (void)CheckCopy(AsBytes(p) + 8, ~uintptr_t{0} - Addr(p), kRead);
      },
      "sealpool: memory exposure attempt detected from pool "
      "'sessions-dt-wrap' \\(object 0x[0-9a-f]+, offset 8, size [0-9]+, "
      "object size 50\\)!\n  kind: bogus-pointer");
  EXPECT_TRUE(Pool::Free(p).ok());
}

void MarkerHandler(const Violation& v, void*) {
  char line[64];
  const int n = std::snprintf(line, sizeof(line), "handler saw kind %d\n",
                              static_cast<int>(v.kind));
  if (n > 0) (void)!write(STDERR_FILENO, line, static_cast<size_t>(n));
}

TEST(ReportDeathTest, HandlerRunsBeforeTheReportInAbortMode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE(pool, "sessions-dt-handler", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);
  EXPECT_DEATH(
      {
        SetMode(Mode::kAbort);
        SetViolationHandler(&MarkerHandler, nullptr);
        (void)CheckCopy(p, 51, kRead);
      },
      "handler saw kind 5\nsealpool: memory exposure attempt detected from "
      "pool 'sessions-dt-handler'");
  EXPECT_TRUE(Pool::Free(p).ok());
}

}  // namespace
}  // namespace sealpool
