// Inspection: the per-pool statistics table (sp_dump_stats, and at exit
// with print_stats=1) and the SVG arena map (sp_dump_map), which must be
// well-formed XML — checked with a real parser, libxml2's xmllint — with
// one band per live pool, named, and the span, guard, sealed and metadata
// shapes the legend promises.

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "allocator/inspect.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/runtime_options.h"
#include "allocator/sealpool/sealpool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::UniqueName;

// Everything `fn` prints to a FILE*.
template <typename Fn>
std::string Capture(Fn fn) {
  FILE* f = std::tmpfile();
  if (f == nullptr) return "";
  fn(f);
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

// Runs a shell command; its stdout, and its exit status in *status.
std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

std::string TempPath(const std::string& base) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + UniqueName(base) +
         "." + std::to_string(getpid()) + ".svg";
}

// An XPath count over the SVG (elements matched by local name, since the
// document uses the SVG namespace).
int XPathCount(const std::string& path, const std::string& xpath) {
  int status = 0;
  const std::string out =
      RunCommand("xmllint --xpath \"count(" + xpath + ")\" '" + path + "' 2>&1", &status);
  if (status != 0) {
    ADD_FAILURE() << "xmllint --xpath failed (status " << status << "): " << out;
    return -1;
  }
  return std::atoi(out.c_str());
}

TEST(InspectTest, DumpStatsListsEveryLivePool) {
  SEALPOOL_ASSERT_CREATE(plain, UniqueName("stats-plain"), PoolOptions{});
  PoolOptions wr;
  wr.flags = kPoolWriteRare;
  SEALPOOL_ASSERT_CREATE(sealed, UniqueName("stats-sealed"), wr);
  SEALPOOL_ASSERT_ALLOC(a, plain, 100);
  SEALPOOL_ASSERT_ALLOC(b, sealed, 5000);
  ASSERT_TRUE(sealed->Seal().ok());
  std::string gone_name = UniqueName("stats-gone");
  {
    SEALPOOL_ASSERT_CREATE(gone, gone_name, PoolOptions{});
  }
  const std::string table = Capture([](FILE* f) { sp_dump_stats(f); });
  EXPECT_NE(table.find(plain->Stats().name), std::string::npos) << table;
  EXPECT_NE(table.find(sealed->Stats().name), std::string::npos) << table;
  EXPECT_NE(table.find("sealed write-rare"), std::string::npos) << table;
  // The legal neighbour: a destroyed, released pool is not listed.
  EXPECT_EQ(table.find(gone_name), std::string::npos) << table;
  EXPECT_TRUE(Pool::Free(a).ok());
  (void)b;
}

TEST(InspectTest, SnapshotSpansCoverEachExtentExactly) {
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("snap"), PoolOptions{});
  std::vector<void*> objs;
  for (int i = 0; i < 300; ++i) objs.push_back(*pool->Allocate(1 + i * 37 % 3000));
  objs.push_back(*pool->Allocate(300000));
  ASSERT_TRUE(Pool::Free(objs.back()).ok());  // a freed large span
  for (const PoolView& v : SnapshotPools()) {
    if (v.stats.name != pool->Stats().name) continue;
    size_t bytes = 0, live = 0;
    for (const SpanView& s : v.spans) {
      bytes += s.bytes;
      live += s.live;
    }
    EXPECT_EQ(bytes, v.stats.reserved_bytes);
    EXPECT_EQ(live, v.stats.live_objects);
    EXPECT_EQ(live, 300u);
    return;
  }
  ADD_FAILURE() << "pool missing from the snapshot";
}

TEST(InspectTest, ArenaMapIsWellFormedSvgWithOneBandPerPool) {
  SEALPOOL_ASSERT_CREATE(plain, UniqueName("map-plain"), PoolOptions{});
  SEALPOOL_ASSERT_CREATE(sealed, UniqueName("map-sealed"), PoolOptions{});
  // Special characters in a name must be escaped, not break the document.
  SEALPOOL_ASSERT_CREATE(odd, UniqueName("map <odd> & 'quoted' \"name\""),
                         PoolOptions{});
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(plain->Allocate(16 + i * 50).ok());
  }
  ASSERT_TRUE(plain->Allocate(200000).ok());
  ASSERT_TRUE(sealed->Allocate(64).ok());
  ASSERT_TRUE(sealed->Seal().ok());
  ASSERT_TRUE(odd->Allocate(8).ok());

  const std::string path = TempPath("arena-map");
  ASSERT_EQ(sp_dump_map(path.c_str()), 0);
  int status = 0;
  const std::string lint = RunCommand("xmllint --noout '" + path + "' 2>&1", &status);
  ASSERT_EQ(status, 0) << "xmllint rejects the map (is libxml2-utils "
                          "installed? tools/setup.sh installs it): " << lint;
  const int pools = static_cast<int>(SnapshotPools().size());
  EXPECT_EQ(XPathCount(path, "/*[local-name()='svg']"), 1);
  EXPECT_EQ(XPathCount(path, "//*[local-name()='g'][@class='pool']"), pools);
  for (const Pool* p : {plain.get(), sealed.get(), odd.get()}) {
    std::string name = p->Stats().name;
    // XPath 1.0 literal: the odd name holds both quote kinds, so match on
    // its unique prefix instead.
    const size_t cut = name.find_first_of("<'\"");
    const std::string prefix = name.substr(0, cut);
    EXPECT_EQ(XPathCount(path, "//*[local-name()='g'][@class='pool'][starts-with(@data-name,'" +
                                   prefix + "')]"),
              1)
        << name;
  }
  EXPECT_GE(XPathCount(path, "//*[local-name()='rect'][@class='span small']"), 2);
  EXPECT_GE(XPathCount(path, "//*[local-name()='rect'][@class='span large']"), 1);
  EXPECT_GE(XPathCount(path, "//*[local-name()='rect'][@class='guard']"), 4);
  EXPECT_GE(XPathCount(path, "//*[local-name()='rect'][@class='sealed']"), 1);
  EXPECT_EQ(XPathCount(path, "//*[local-name()='rect'][@class='metadata']"), pools);
  EXPECT_EQ(XPathCount(path, "//*[local-name()='g'][@class='legend']"), 1);
  std::remove(path.c_str());
}

TEST(InspectTest, DumpMapBadPathIsAnErrorNotACrash) {
  EXPECT_EQ(sp_dump_map(nullptr), -EINVAL);
  EXPECT_EQ(sp_dump_map(""), -EINVAL);
  EXPECT_EQ(sp_dump_map("/nonexistent-dir/sealpool/map.svg"), -ENOENT);
  const absl::Status s = WriteArenaMap("/nonexistent-dir/sealpool/map.svg");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/sealpool/map.svg"),
            std::string::npos);
}

TEST(InspectDeathTest, PrintStatsAtExit) {
  EXPECT_EXIT(
      {
        if (!SetRuntimeOptions("print_stats=1").ok()) std::_Exit(3);
        absl::StatusOr<Pool*> p = Pool::Create("at-exit-pool");
        if (!p.ok() || !(*p)->Allocate(10).ok()) std::_Exit(4);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "sealpool: [0-9]+ live pools?\n.*at-exit-pool");
}

}  // namespace
}  // namespace sealpool
