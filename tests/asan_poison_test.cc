// ASan builds: the allocator poisons what may not be touched (free and
// cached slots, slack after a live object's requested size, redzones, the
// padding before a large object), so a plain out-of-bounds load is caught
// by ASan itself — not only a checked copy — and ASan's report gains one
// line naming the sealpool pool, object and offset. Each case has its
// legal neighbour. Other builds skip these tests.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::AsBytes;

#define SKIP_WITHOUT_ASAN()                                               \
  do {                                                                    \
    if (!SEALPOOL_TEST_ASAN) GTEST_SKIP() << "needs an ASan build";       \
  } while (0)

// A plain load the compiler cannot drop or prove out of bounds.
char Load(const void* p, size_t off) {
  return static_cast<const volatile char*>(p)[off];
}

TEST(AsanPoisonDeathTest, LoadPastObjectEndNamesThePool) {
  SKIP_WITHOUT_ASAN();
  SEALPOOL_ASSERT_CREATE(pool, "asan-slack", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 50);  // a 64-byte slot: 14 bytes of slack
  EXPECT_EQ(Load(p, 0) + Load(p, 49), 0);  // the legal neighbours
  EXPECT_DEATH(Load(p, 50),
               "use-after-poison.*sealpool: 0x[0-9a-f]+ is in pool "
               "'asan-slack' \\(id [0-9]+\\), a small-object span: object "
               "0x[0-9a-f]+ of 50 bytes, offset 50 \\(past its end");
}

TEST(AsanPoisonDeathTest, LoadFromFreedSlotNamesThePool) {
  SKIP_WITHOUT_ASAN();
  SEALPOOL_ASSERT_CREATE(pool, "asan-freed", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(keep, pool, 32);
  SEALPOOL_ASSERT_ALLOC(p, pool, 32);
  ASSERT_TRUE(Pool::Free(p).ok());
  EXPECT_EQ(Load(keep, 31), 0);  // the live neighbour is fine
  EXPECT_DEATH(Load(p, 3),
               "use-after-poison.*sealpool: 0x[0-9a-f]+ is in pool "
               "'asan-freed' \\(id [0-9]+\\), a small-object span: object "
               "0x[0-9a-f]+ \\(a free slot\\), offset 3");
}

TEST(AsanPoisonDeathTest, StoreIntoRedzoneIsCaught) {
  SKIP_WITHOUT_ASAN();
  PoolOptions o;
  o.flags = kPoolRedzones;
  SEALPOOL_ASSERT_CREATE(pool, "asan-redzone", o);
  SEALPOOL_ASSERT_ALLOC(p, pool, 64);  // exactly a class size: slack is the redzone
  AsBytes(p)[63] = 1;
  EXPECT_DEATH(static_cast<volatile char*>(p)[64] = 1,
               "use-after-poison.*'asan-redzone'.*offset 64 \\(past its end");
}

TEST(AsanPoisonDeathTest, LargeObjectPaddingIsCaught) {
  SKIP_WITHOUT_ASAN();
  SEALPOOL_ASSERT_CREATE(pool, "asan-large", PoolOptions{});
  // 100001 bytes, end-placed before the trailing guard page on a 16-byte
  // boundary: 15 bytes of padding follow the object.
  SEALPOOL_ASSERT_ALLOC(p, pool, 100001);
  EXPECT_EQ(Load(p, 100000), 0);
  EXPECT_DEATH(Load(p, 100001),
               "use-after-poison.*'asan-large'.*large object's span: object "
               "0x[0-9a-f]+ of 100001 bytes, offset 100001 \\(past its end");
}

TEST(AsanPoisonTest, ReusedSlotIsAddressableAgain) {
  SKIP_WITHOUT_ASAN();
  // Last freed first and no quarantine, so that the freed slot is the one
  // handed back (by default a freed slot waits in the quarantine and the
  // next one is picked at random).
  ::sealpool_test::ScopedOptions lifo("random_reuse=0:quarantine=0");
  SEALPOOL_ASSERT_CREATE(pool, "asan-reuse", PoolOptions{});
  SEALPOOL_ASSERT_ALLOC(p, pool, 40);
  ASSERT_TRUE(Pool::Free(p).ok());
  // The cache hands the same 48-byte slot back, bigger this time (47 bytes:
  // the slot keeps one byte for its canary): all 47 bytes of the new object
  // are addressable (no report, no death).
  SEALPOOL_ASSERT_ALLOC(q, pool, 47);
  ASSERT_EQ(q, p);
  for (size_t i = 0; i < 47; ++i) AsBytes(q)[i] = static_cast<char>(i);
  EXPECT_EQ(Load(q, 46), 46);
}

}  // namespace
}  // namespace sealpool
