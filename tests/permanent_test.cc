// Permanent pools: sealing also mseal()s the memory, so that not even
// mprotect can make it writable again, and the pool can never be destroyed.
// Where mseal is missing (here: made to fail by fault injection) the seal
// still makes the memory read-only and the stats say that the permanence is
// not enforced by the kernel.
//
// Permanent pools live until the process exits: every test uses fresh
// names and never destroys them.

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/platform.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/sealpool/sealpool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::AsBytes;
using ::sealpool_test::DiedOfSegv;
using ::sealpool_test::kPage;
using ::sealpool_test::PageStart;
using ::sealpool_test::UniqueName;

constexpr size_t kSmall = 48;
constexpr size_t kLarge = 100000;
constexpr long kSysMseal = 462;  // NOLINT(runtime/int): syscall number

// Whether this kernel has mseal(2): seals a scratch page (leaked: a sealed
// mapping cannot be unmapped). Sets `why` when it does not.
bool KernelHasMseal(std::string* why) {
  static int cached = -1;
  static std::string cached_why;
  if (cached < 0) {
    void* p =
        mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      cached = 0;
      cached_why = "mmap of a scratch page failed";
    } else if (syscall(kSysMseal, p, kPage, 0UL) == 0) {
      cached = 1;
    } else {
      cached = 0;
      cached_why = std::string("mseal(2) of a scratch page failed: ") +
                   std::strerror(errno);
      munmap(p, kPage);
    }
  }
  if (why != nullptr) *why = cached_why;
  return cached == 1;
}

// Creates a permanent pool (never destroyed) or fails the test.
#define SEALPOOL_ASSERT_CREATE_PERMANENT(var, name, extra_flags)       \
  Pool* var = nullptr;                                                 \
  do {                                                                 \
    PoolOptions var##_opts;                                            \
    var##_opts.flags = kPoolPermanent | (extra_flags);                 \
    absl::StatusOr<Pool*> var##_or = Pool::Create((name), var##_opts); \
    ASSERT_TRUE(var##_or.ok()) << var##_or.status();                   \
    var = *var##_or;                                                   \
  } while (0)

// mprotect(2) of the page that holds `p`; returns 0 or errno.
int MprotectPage(void* p, int prot) {
  void* page = reinterpret_cast<void*>(PageStart(sealpool_test::Addr(p)));
  return mprotect(page, kPage, prot) == 0 ? 0 : errno;
}

TEST(PermanentTest, SealIsEnforcedByTheKernel) {
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-enforced"), 0u);
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  std::memset(small, 0x21, kSmall);
  std::memset(large, 0x43, kLarge);
  PoolStats s = pool->Stats();
  EXPECT_TRUE(s.permanent);
  EXPECT_FALSE(s.permanent_enforced);  // Nothing is sealed yet.
  ASSERT_TRUE(pool->Seal().ok());
  s = pool->Stats();
  EXPECT_EQ(s.seals, 1u);
  if (!s.permanent_enforced) {
    std::string why;
    if (!KernelHasMseal(&why)) {
      std::printf("skipped: %s\n", why.c_str());
      GTEST_SKIP() << "the kernel lacks mseal(2): " << why;
    }
    FAIL() << "the kernel has mseal(2) but the pool's seal is not enforced";
  }
  for (void* p : {small, large}) {
    EXPECT_EQ(MprotectPage(p, PROT_READ | PROT_WRITE), EPERM);
    EXPECT_EQ(MprotectPage(p, PROT_NONE), EPERM);
  }
  EXPECT_EQ(MprotectPage(AsBytes(large) + kLarge - 1, PROT_READ | PROT_WRITE),
            EPERM);
  // Contents are intact and readable.
  EXPECT_EQ(AsBytes(small)[kSmall - 1], 0x21);
  EXPECT_EQ(AsBytes(large)[kLarge - 1], 0x43);
  EXPECT_EQ(CheckCopy(large, kLarge, CopyDirection::kRead),
            ViolationKind::kNone);
}

TEST(PermanentTest, SealedMetadataIsMsealedToo) {
  std::string why;
  if (!KernelHasMseal(&why)) GTEST_SKIP() << "the kernel lacks mseal(2): " << why;
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-meta"), 0u);
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const internal::MetadataAddresses m = internal::MetadataOfForTest(small);
  void* slack = reinterpret_cast<void*>(m.slack_page);
  EXPECT_EQ(MprotectPage(slack, PROT_READ | PROT_WRITE), EPERM);
  // The legal neighbour: the slack page of an unsealed span of the same
  // pool is ordinary memory.
  SEALPOOL_ASSERT_ALLOC(later, pool, kSmall);
  void* later_slack =
      reinterpret_cast<void*>(internal::MetadataOfForTest(later).slack_page);
  EXPECT_EQ(MprotectPage(later_slack, PROT_READ | PROT_WRITE), 0);
}

TEST(PermanentTest, LaterSealOfNewObjectsIsEnforcedToo) {
  if (!KernelHasMseal(nullptr)) GTEST_SKIP() << "the kernel lacks mseal(2)";
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-second"), 0u);
  SEALPOOL_ASSERT_ALLOC(first, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  SEALPOOL_ASSERT_ALLOC(second, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(second_large, pool, kLarge);
  std::memset(second, 1, kSmall);  // Writable until the next seal.
  ASSERT_TRUE(pool->Seal().ok());
  const PoolStats s = pool->Stats();
  EXPECT_EQ(s.seals, 2u);
  EXPECT_TRUE(s.permanent_enforced);
  EXPECT_EQ(MprotectPage(first, PROT_READ | PROT_WRITE), EPERM);
  EXPECT_EQ(MprotectPage(second, PROT_READ | PROT_WRITE), EPERM);
  EXPECT_EQ(MprotectPage(second_large, PROT_READ | PROT_WRITE), EPERM);
}

TEST(PermanentTest, OrdinarySealedPoolIsNotMsealed) {
  // The legal neighbour: without the flag, the pages stay under mprotect's
  // control (a harmless PROT_READ succeeds) and the stats say so.
  SEALPOOL_ASSERT_CREATE(pool, UniqueName("perm-not"), PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const PoolStats s = pool->Stats();
  EXPECT_FALSE(s.permanent);
  EXPECT_FALSE(s.permanent_enforced);
  EXPECT_EQ(MprotectPage(p, PROT_READ), 0);
}

TEST(PermanentTest, UnsealedPermanentPoolIsNotMsealed) {
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-unsealed"), 0u);
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  EXPECT_EQ(MprotectPage(p, PROT_READ | PROT_WRITE), 0);
  std::memset(p, 3, kSmall);
  EXPECT_TRUE(Pool::Free(p).ok());
}

TEST(PermanentTest, DestroyIsRefused) {
  const std::string name = UniqueName("perm-destroy");
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, name, 0u);
  const absl::Status st = pool->Destroy();
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
  // Still live: found by name, still allocates.
  absl::StatusOr<Pool*> found = Pool::Find(name);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, pool);
  (*found)->Unref();
  EXPECT_FALSE(pool->Stats().destroyed);
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  EXPECT_TRUE(Pool::Free(p).ok());
  // Also after sealing.
  ASSERT_TRUE(pool->Seal().ok());
  EXPECT_EQ(pool->Destroy().code(), absl::StatusCode::kPermissionDenied);
  // Dropping a reference does not release it either.
  pool->Ref();
  pool->Unref();
  EXPECT_TRUE(Pool::Find(name).ok());
  (*Pool::Find(name))->Unref();
}

TEST(PermanentTest, CApiDestroyIsRefused) {
  const std::string name = UniqueName("perm-c");
  sp_pool_options opts;
  sp_pool_options_init(&opts);
  opts.flags = SP_POOL_PERMANENT;
  sp_pool* pool = sp_pool_create(name.c_str(), &opts);
  ASSERT_NE(pool, nullptr);
  void* p = sp_alloc(pool, kSmall);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sp_pool_destroy(pool), -EPERM);
  EXPECT_EQ(sp_pool_seal(pool), 0);
  EXPECT_EQ(sp_pool_destroy(pool), -EPERM);
  EXPECT_TRUE(reinterpret_cast<Pool*>(pool)->Stats().permanent);
  // The legal neighbour: an ordinary pool is destroyed.
  const std::string other = UniqueName("perm-c-ordinary");
  sp_pool* ordinary = sp_pool_create(other.c_str(), nullptr);
  ASSERT_NE(ordinary, nullptr);
  EXPECT_EQ(sp_pool_destroy(ordinary), 0);
}

// Fault injection: mseal fails as on a kernel without it.

TEST(PermanentTest, MissingMsealStillSealsReadOnly) {
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-nomseal"), 0u);
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  std::memset(p, 0x5c, kSmall);
  internal::SetInjectedSealFailures(1);
  const absl::Status st = pool->Seal();
  internal::SetInjectedSealFailures(0);
  ASSERT_TRUE(st.ok()) << st;
  PoolStats s = pool->Stats();
  EXPECT_TRUE(s.permanent);
  EXPECT_FALSE(s.permanent_enforced);
  EXPECT_EQ(s.seals, 1u);
  EXPECT_GT(s.sealed_bytes, 0u);
  // Read-only all the same.
  SetMode(Mode::kReport);
  EXPECT_EQ(CheckCopy(p, kSmall, CopyDirection::kWrite),
            ViolationKind::kSealedWrite);
  SetMode(Mode::kAbort);
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    alarm(60);
    static_cast<volatile char*>(p)[0] = 1;
    _exit(0);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
      << "wait status " << status;
  EXPECT_EQ(AsBytes(p)[0], 0x5c);
  // A later seal that mseal()s its new memory cannot make the whole pool
  // enforced: the first part is not.
  SEALPOOL_ASSERT_ALLOC(later, pool, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  s = pool->Stats();
  EXPECT_EQ(s.seals, 2u);
  EXPECT_FALSE(s.permanent_enforced);
  EXPECT_EQ(Pool::ObjectSize(later), kSmall);
}

TEST(PermanentDeathTest, MissingMsealStoreFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-death-nomseal"), 0u);
  SEALPOOL_ASSERT_ALLOC(small, pool, kSmall);
  SEALPOOL_ASSERT_ALLOC(large, pool, kLarge);
  volatile char* s = AsBytes(small);
  volatile char* l = AsBytes(large);
  s[0] = 1;
  l[0] = 1;
  internal::SetInjectedSealFailures(1);
  const absl::Status st = pool->Seal();
  internal::SetInjectedSealFailures(0);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_FALSE(pool->Stats().permanent_enforced);
  EXPECT_EXIT({ s[0] = 2; }, DiedOfSegv, "");
  EXPECT_EXIT({ l[0] = 2; }, DiedOfSegv, "");
}

TEST(PermanentTest, WriteRarePermanentPoolStillWritesRarely) {
  SEALPOOL_ASSERT_CREATE_PERMANENT(pool, UniqueName("perm-wr"), kPoolWriteRare);
  SEALPOOL_ASSERT_ALLOC(p, pool, kSmall);
  std::memset(p, 0, kSmall);
  ASSERT_TRUE(pool->Seal().ok());
  const uint64_t v = 0x1122334455667788u;
  const absl::Status st = Pool::WriteRare(AsBytes(p) + 8, &v, sizeof(v));
  ASSERT_TRUE(st.ok()) << st;
  uint64_t got = 0;
  std::memcpy(&got, AsBytes(p) + 8, sizeof(got));
  EXPECT_EQ(got, v);
  EXPECT_EQ(AsBytes(p)[7], 0);
  EXPECT_EQ(AsBytes(p)[16], 0);
  if (pool->Stats().permanent_enforced) {
    EXPECT_EQ(MprotectPage(p, PROT_READ | PROT_WRITE), EPERM);
  } else {
    EXPECT_FALSE(KernelHasMseal(nullptr))
        << "mseal(2) works, but the write-rare permanent pool is not enforced";
  }
}

}  // namespace
}  // namespace sealpool
