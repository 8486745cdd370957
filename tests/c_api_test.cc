// The C API (sealpool/sealpool.h): option defaults, pool lifecycle, object
// round trips, errno conventions, and sp_free's codes in report mode.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "sealpool/sealpool.h"
#include "tests/test_util.h"

namespace {

using ::sealpool_test::UniqueName;

// Creates a pool with default options or fails the test.
#define ASSERT_SP_CREATE(var, name)                                        \
  sp_pool* var = nullptr;                                                  \
  do {                                                                     \
    sp_pool_options var##_opts;                                            \
    sp_pool_options_init(&var##_opts);                                     \
    var = sp_pool_create((name).c_str(), &var##_opts);                     \
    ASSERT_NE(var, nullptr) << "sp_pool_create: " << std::strerror(errno); \
  } while (0)

sp_pool* CreateWith(const std::string& name, const sp_pool_options& opts) {
  errno = 0;
  return sp_pool_create(name.c_str(), &opts);
}

sp_pool_options Defaults() {
  sp_pool_options opts;
  sp_pool_options_init(&opts);
  return opts;
}

TEST(CApiTest, OptionsInitFillsDefaults) {
  sp_pool_options opts;
  std::memset(&opts, 0xab, sizeof(opts));
  sp_pool_options_init(&opts);
  EXPECT_EQ(opts.align, 16u);
  EXPECT_EQ(opts.usercopy_offset, 0u);
  EXPECT_EQ(opts.usercopy_size, 0u);
  EXPECT_EQ(opts.max_bytes, 0u);
  EXPECT_EQ(opts.flags, 0u);
}

TEST(CApiTest, CreateNameDestroy) {
  const std::string name = UniqueName("c-basic");
  ASSERT_SP_CREATE(pool, name);
  ASSERT_NE(sp_pool_name(pool), nullptr);
  EXPECT_STREQ(sp_pool_name(pool), name.c_str());
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(CApiTest, CreateWithNullOptionsUsesDefaults) {
  const std::string name = UniqueName("c-null-opts");
  sp_pool* pool = sp_pool_create(name.c_str(), nullptr);
  ASSERT_NE(pool, nullptr) << std::strerror(errno);
  void* p = sp_alloc(pool, 40);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(CApiTest, BadNamesSetEinval) {
  errno = 0;
  EXPECT_EQ(sp_pool_create(nullptr, nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  const sp_pool_options opts = Defaults();
  errno = 0;
  EXPECT_EQ(sp_pool_create(nullptr, &opts), nullptr);
  EXPECT_EQ(errno, EINVAL);
  for (const std::string& bad :
       {std::string(""), std::string(64, 'c'), std::string("\x01"),
        std::string("a\tb"), std::string("tab\x7f")}) {
    EXPECT_EQ(CreateWith(bad, opts), nullptr) << "length " << bad.size();
    EXPECT_EQ(errno, EINVAL);
  }
  // Legal neighbours.
  const std::string base = UniqueName("c");
  for (const std::string& good :
       {base + std::string(63 - base.size(), 'k'), std::string("C")}) {
    sp_pool* pool = CreateWith(good, opts);
    ASSERT_NE(pool, nullptr) << good << ": " << std::strerror(errno);
    EXPECT_EQ(sp_pool_destroy(pool), 0);
  }
}

TEST(CApiTest, DuplicateNameSetsEexist) {
  const std::string name = UniqueName("c-dup");
  ASSERT_SP_CREATE(pool, name);
  EXPECT_EQ(CreateWith(name, Defaults()), nullptr);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  // Free again after destroy.
  sp_pool* again = CreateWith(name, Defaults());
  ASSERT_NE(again, nullptr) << std::strerror(errno);
  EXPECT_EQ(sp_pool_destroy(again), 0);
}

TEST(CApiTest, BadOptionsSetEinval) {
  for (size_t align : {size_t{0}, size_t{4}, size_t{24}, size_t{8192}}) {
    sp_pool_options opts = Defaults();
    opts.align = align;
    EXPECT_EQ(CreateWith(UniqueName("c-align-bad"), opts), nullptr)
        << "align " << align;
    EXPECT_EQ(errno, EINVAL);
  }
  for (size_t align = 8; align <= 4096; align *= 2) {
    sp_pool_options opts = Defaults();
    opts.align = align;
    sp_pool* pool = CreateWith(UniqueName("c-align-ok"), opts);
    ASSERT_NE(pool, nullptr) << "align " << align;
    void* p = sp_alloc(pool, 3 * align + 1);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
    EXPECT_EQ(sp_free(p), 0);
    EXPECT_EQ(sp_pool_destroy(pool), 0);
  }
  sp_pool_options opts = Defaults();
  opts.usercopy_offset = 8;
  opts.usercopy_size = 0;
  EXPECT_EQ(CreateWith(UniqueName("c-uc-bad"), opts), nullptr);
  EXPECT_EQ(errno, EINVAL);

  opts = Defaults();
  opts.usercopy_offset = 8;
  opts.usercopy_size = 8;
  sp_pool* pool = CreateWith(UniqueName("c-uc-ok"), opts);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(sp_pool_destroy(pool), 0);

  opts = Defaults();
  opts.flags = 0x10u;
  EXPECT_EQ(CreateWith(UniqueName("c-flags-bad"), opts), nullptr);
  EXPECT_EQ(errno, EINVAL);
  opts.flags = SP_POOL_REDZONES | 0x80000000u;
  EXPECT_EQ(CreateWith(UniqueName("c-flags-bad"), opts), nullptr);
  EXPECT_EQ(errno, EINVAL);
  opts.flags = SP_POOL_REDZONES;
  pool = CreateWith(UniqueName("c-flags-ok"), opts);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(CApiTest, FlagValuesMatchCpp) {
  EXPECT_EQ(SP_POOL_PERMANENT, sealpool::kPoolPermanent);
  EXPECT_EQ(SP_POOL_WRITE_RARE, sealpool::kPoolWriteRare);
  EXPECT_EQ(SP_POOL_REDZONES, sealpool::kPoolRedzones);
  EXPECT_EQ(static_cast<int>(SP_VIOLATION_DOUBLE_FREE),
            static_cast<int>(sealpool::ViolationKind::kDoubleFree));
  EXPECT_EQ(static_cast<int>(SP_VIOLATION_INVALID_FREE),
            static_cast<int>(sealpool::ViolationKind::kInvalidFree));
  EXPECT_EQ(static_cast<int>(SP_VIOLATION_METADATA_CORRUPTION),
            static_cast<int>(sealpool::ViolationKind::kMetadataCorruption));
  EXPECT_EQ(static_cast<int>(SP_VIOLATION_IMAGE_SEGMENT),
            static_cast<int>(sealpool::ViolationKind::kImageSegment));
}

TEST(CApiTest, AllocFreeObjectSizeRoundTrip) {
  ASSERT_SP_CREATE(pool, UniqueName("c-roundtrip"));
  std::vector<std::pair<void*, size_t>> objects;
  for (size_t size : {size_t{1}, size_t{15}, size_t{16}, size_t{17},
                      size_t{255}, size_t{4096}, size_t{16384}, size_t{16385},
                      size_t{65536}, size_t{300000}}) {
    void* p = sp_alloc(pool, size);
    ASSERT_NE(p, nullptr) << "size " << size;
    EXPECT_EQ(sp_object_size(p), size);
    EXPECT_EQ(sp_object_size(static_cast<char*>(p) + size - 1), size);
    std::memset(p, 0x3c, size);
    objects.emplace_back(p, size);
  }
  for (auto& [p, size] : objects) {
    EXPECT_EQ(static_cast<unsigned char*>(p)[size - 1], 0x3c);
    EXPECT_EQ(sp_free(p), 0);
    EXPECT_EQ(sp_object_size(p), 0u);
  }
  EXPECT_EQ(sp_object_size(nullptr), 0u);
  int on_stack = 0;
  EXPECT_EQ(sp_object_size(&on_stack), 0u);
  EXPECT_EQ(sp_free(nullptr), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(CApiTest, ZeroSizeAllocationsAreUnique) {
  ASSERT_SP_CREATE(pool, UniqueName("c-zero"));
  void* a = sp_alloc(pool, 0);
  void* b = sp_alloc(pool, 0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(sp_object_size(a), 0u);
  EXPECT_EQ(sealpool::Pool::Owner(a) != nullptr, true);
  EXPECT_EQ(sp_free(a), 0);
  EXPECT_EQ(sp_free(b), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(CApiTest, AbsurdSizesReturnNullWithErrno) {
  ASSERT_SP_CREATE(pool, UniqueName("c-absurd"));
  for (size_t size : {SIZE_MAX, SIZE_MAX / 2, (size_t{1} << 40) + 1}) {
    errno = 0;
    EXPECT_EQ(sp_alloc(pool, size), nullptr) << "size " << size;
    EXPECT_TRUE(errno == EINVAL || errno == ENOMEM) << "errno " << errno;
  }
  void* p = sp_alloc(pool, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST(CApiTest, RefKeepsDestroyedPoolAlive) {
  const std::string name = UniqueName("c-ref");
  ASSERT_SP_CREATE(pool, name);
  void* p = sp_alloc(pool, 128);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x61, 128);
  EXPECT_EQ(sp_pool_ref(pool), pool);
  EXPECT_EQ(sp_pool_destroy(pool), 0);

  errno = 0;
  EXPECT_EQ(sp_alloc(pool, 16), nullptr);
  EXPECT_NE(errno, 0);
  EXPECT_LT(sp_pool_destroy(pool), 0);  // second destroy

  EXPECT_STREQ(sp_pool_name(pool), name.c_str());
  EXPECT_EQ(sp_object_size(p), 128u);
  EXPECT_EQ(static_cast<unsigned char*>(p)[127], 0x61);
  EXPECT_EQ(sp_free(p), 0);
  sp_pool_unref(pool);
}

TEST(CApiTest, ByteCapSetsEnomem) {
  sp_pool_options opts = Defaults();
  opts.max_bytes = 1 << 20;
  sp_pool* pool = CreateWith(UniqueName("c-cap"), opts);
  ASSERT_NE(pool, nullptr);
  std::vector<void*> objects;
  int err = 0;
  for (int i = 0; i < 64; ++i) {
    errno = 0;
    void* p = sp_alloc(pool, 100 * 1024);
    if (p == nullptr) {
      err = errno;
      break;
    }
    objects.push_back(p);
  }
  EXPECT_EQ(err, ENOMEM);
  EXPECT_LE(objects.size() * 100 * 1024, (1u << 20) + 100 * 1024);
  ASSERT_FALSE(objects.empty());
  EXPECT_EQ(sp_free(objects.back()), 0);
  objects.pop_back();
  void* again = sp_alloc(pool, 100 * 1024);
  EXPECT_NE(again, nullptr);
  if (again != nullptr) objects.push_back(again);
  for (void* p : objects) EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

struct CRecord {
  int kind;
  std::string pool_name;
  bool has_pool_name;
  uintptr_t addr;
};

struct CRecorder {
  std::mutex mu;
  std::vector<CRecord> records;
  std::vector<CRecord> Take() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<CRecord> out;
    out.swap(records);
    return out;
  }
};

void RecordC(const sp_violation* v, void* arg) {
  auto* rec = static_cast<CRecorder*>(arg);
  CRecord r{v->kind, v->pool_name ? v->pool_name : "", v->pool_name != nullptr,
            v->addr};
  std::lock_guard<std::mutex> lock(rec->mu);
  rec->records.push_back(r);
}

class CApiReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sp_set_mode(SP_MODE_REPORT);
    sp_set_violation_handler(&RecordC, &recorder_);
  }
  void TearDown() override {
    sp_set_violation_handler(nullptr, nullptr);
    sp_set_mode(SP_MODE_ABORT);
  }
  CRecorder recorder_;
};

TEST_F(CApiReportTest, DoubleFreeReturnsCode) {
  const std::string name = UniqueName("c-double");
  ASSERT_SP_CREATE(pool, name);
  void* p = sp_alloc(pool, 64);
  ASSERT_NE(p, nullptr);
  const uint64_t before = sp_violation_count();
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_free(p), SP_VIOLATION_DOUBLE_FREE);
  EXPECT_EQ(sp_violation_count(), before + 1);
  std::vector<CRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, SP_VIOLATION_DOUBLE_FREE);
  EXPECT_TRUE(v[0].has_pool_name);
  EXPECT_EQ(v[0].pool_name, name);
  EXPECT_EQ(v[0].addr, reinterpret_cast<uintptr_t>(p));

  std::set<void*> seen;
  std::vector<void*> objects;
  for (int i = 0; i < 1000; ++i) {
    void* q = sp_alloc(pool, 64);
    ASSERT_NE(q, nullptr);
    EXPECT_TRUE(seen.insert(q).second) << "slot handed out twice";
    objects.push_back(q);
  }
  for (void* q : objects) EXPECT_EQ(sp_free(q), 0);
  EXPECT_TRUE(recorder_.Take().empty());
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST_F(CApiReportTest, InvalidFreeReturnsCode) {
  ASSERT_SP_CREATE(pool, UniqueName("c-invalid"));
  void* p = sp_alloc(pool, 64);
  ASSERT_NE(p, nullptr);
  int on_stack = 0;
  void* heap = std::malloc(16);
  for (void* bad : {static_cast<void*>(static_cast<char*>(p) + 1),
                    static_cast<void*>(static_cast<char*>(p) + 16),
                    static_cast<void*>(&on_stack), heap}) {
    EXPECT_EQ(sp_free(bad), SP_VIOLATION_INVALID_FREE) << bad;
    std::vector<CRecord> v = recorder_.Take();
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].kind, SP_VIOLATION_INVALID_FREE);
    EXPECT_EQ(v[0].addr, reinterpret_cast<uintptr_t>(bad));
  }
  std::free(heap);
  EXPECT_EQ(sp_object_size(p), 64u);
  EXPECT_EQ(sp_free(p), 0);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
}

TEST_F(CApiReportTest, FreeInReleasedPoolIsInvalid) {
  ASSERT_SP_CREATE(pool, UniqueName("c-released"));
  void* p = sp_alloc(pool, 64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_pool_destroy(pool), 0);
  EXPECT_EQ(sp_free(p), SP_VIOLATION_INVALID_FREE);
  std::vector<CRecord> v = recorder_.Take();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, SP_VIOLATION_INVALID_FREE);
}

}  // namespace
