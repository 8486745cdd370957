// Concurrency: threads allocate, free (often on another thread) and look up
// objects in shared pools while other pools are created and destroyed.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

#if SEALPOOL_TEST_TSAN
constexpr int kIterations = 3000;
constexpr int kDestroyRounds = 30;
#else
constexpr int kIterations = 30000;
constexpr int kDestroyRounds = 200;
#endif

constexpr int kPools = 4;
constexpr int kWorkers = 4;

struct Object {
  void* ptr = nullptr;
  size_t size = 0;
  unsigned char fill = 0;
  int pool = 0;
};

// Shared objects handed between threads.
class Exchange {
 public:
  void Put(const Object& o) {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.push_back(o);
  }
  bool Take(std::mt19937& rng, Object* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (objects_.empty()) return false;
    const size_t i = rng() % objects_.size();
    *out = objects_[i];
    objects_[i] = objects_.back();
    objects_.pop_back();
    return true;
  }
  std::vector<Object> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Object> out;
    out.swap(objects_);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Object> objects_;
};

// Records the first few problems seen on worker threads.
class Problems {
 public:
  void Add(const std::string& what) {
    count_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.size() < 10) first_.push_back(what);
  }
  int count() const { return count_.load(); }
  std::string Summary() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string s;
    for (const std::string& w : first_) s += w + "\n";
    return s;
  }

 private:
  std::atomic<int> count_{0};
  std::mutex mu_;
  std::vector<std::string> first_;
};

bool Intact(const Object& o) {
  const unsigned char* c = static_cast<const unsigned char*>(o.ptr);
  for (size_t i = 0; i < o.size; ++i) {
    if (c[i] != o.fill) return false;
  }
  return true;
}

void CheckAndFree(const Object& o, Problems* problems) {
  if (Pool::ObjectSize(o.ptr) != o.size) {
    problems->Add("ObjectSize changed before free");
  }
  if (!Intact(o)) problems->Add("object contents corrupted");
  if (!Pool::Free(o.ptr).ok()) problems->Add("Free failed");
}

TEST(ConcurrencyTest, SharedPoolsWithCrossThreadFreesAndPoolChurn) {
  std::vector<ScopedPool> pools;
  for (int i = 0; i < kPools; ++i) {
    absl::StatusOr<Pool*> pool = Pool::Create(UniqueName("conc-shared"));
    ASSERT_TRUE(pool.ok()) << pool.status();
    pools.emplace_back(*pool);
  }
  Exchange exchange;
  Problems problems;
  std::atomic<int> workers_running{kWorkers};
  std::vector<std::vector<Object>> leftovers(kWorkers);

  auto worker = [&](int id) {
    std::mt19937 rng(1000 + id);
    std::vector<Object> local;
    uint32_t seq = 0;
    for (int it = 0; it < kIterations; ++it) {
      const unsigned op = rng() % 10;
      if (op < 4) {
        Object o;
        o.pool = static_cast<int>(rng() % kPools);
        o.size = (rng() % 40 == 0) ? 16385 + rng() % 70000 : rng() % 1025;
        o.fill = static_cast<unsigned char>((id << 5) | (++seq & 0x1f));
        absl::StatusOr<void*> p = pools[o.pool]->Allocate(o.size);
        if (!p.ok()) {
          problems.Add("Allocate failed: " + p.status().ToString());
          continue;
        }
        o.ptr = *p;
        std::memset(o.ptr, o.fill, o.size);
        if (Pool::ObjectSize(o.ptr) != o.size) problems.Add("ObjectSize");
        if (Pool::Owner(o.ptr) != pools[o.pool].get()) problems.Add("Owner");
        const AddressInfo info = QueryAddress(o.ptr);
        if (!info.live || info.object_start != Addr(o.ptr) ||
            info.pool_id != pools[o.pool]->id()) {
          problems.Add("QueryAddress of a fresh object");
        }
        if (rng() % 2 == 0) {
          exchange.Put(o);
        } else {
          local.push_back(o);
        }
      } else if (op < 7) {
        Object o;
        if (rng() % 2 == 0 && exchange.Take(rng, &o)) {
          CheckAndFree(o, &problems);
        } else if (!local.empty()) {
          const size_t i = rng() % local.size();
          o = local[i];
          local[i] = local.back();
          local.pop_back();
          CheckAndFree(o, &problems);
        }
      } else if (!local.empty()) {
        const Object& o = local[rng() % local.size()];
        if (Pool::ObjectSize(o.ptr) != o.size) problems.Add("lookup size");
        if (o.size > 0 && Pool::ObjectSize(static_cast<char*>(o.ptr) + o.size -
                                           1) != o.size) {
          problems.Add("lookup of last byte");
        }
        // A nearby address that may belong to anyone: must not crash.
        (void)QueryAddress(static_cast<char*>(o.ptr) + (rng() % 8192) - 4096);
        (void)Pool::ObjectSize(static_cast<char*>(o.ptr) + o.size);
      }
      if (local.size() > 256) {
        CheckAndFree(local.back(), &problems);
        local.pop_back();
      }
    }
    leftovers[id] = std::move(local);
    workers_running.fetch_sub(1);
  };

  std::atomic<int> churn_rounds{0};
  auto churn = [&] {
    int round = 0;
    while (workers_running.load() > 0 || round < 10) {
      absl::StatusOr<Pool*> pool = Pool::Create(UniqueName("conc-churn"));
      if (!pool.ok()) {
        problems.Add("churn Create failed: " + pool.status().ToString());
        break;
      }
      std::vector<Object> objects;
      for (int i = 0; i < 40; ++i) {
        Object o;
        o.size = (i == 0) ? 50000 : 8 + i * 13;
        o.fill = static_cast<unsigned char>(0xe0 | (i & 0xf));
        absl::StatusOr<void*> p = (*pool)->Allocate(o.size);
        if (!p.ok()) {
          problems.Add("churn Allocate failed");
          continue;
        }
        o.ptr = *p;
        std::memset(o.ptr, o.fill, o.size);
        objects.push_back(o);
      }
      // Free most objects; leave a few for Destroy to release.
      for (size_t i = 0; i + 3 < objects.size(); ++i) {
        CheckAndFree(objects[i], &problems);
      }
      if (!(*pool)->Destroy().ok()) problems.Add("churn Destroy failed");
      ++round;
    }
    churn_rounds.store(round);
  };

  std::vector<std::thread> threads;
  for (int id = 0; id < kWorkers; ++id) threads.emplace_back(worker, id);
  threads.emplace_back(churn);
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(problems.count(), 0) << problems.Summary();
  EXPECT_GE(churn_rounds.load(), 10);

  // Every surviving object is intact; free them all from this thread.
  std::vector<Object> all = exchange.TakeAll();
  for (auto& list : leftovers) all.insert(all.end(), list.begin(), list.end());
  size_t corrupted = 0;
  for (const Object& o : all) {
    if (!Intact(o)) ++corrupted;
    EXPECT_EQ(Pool::ObjectSize(o.ptr), o.size);
  }
  EXPECT_EQ(corrupted, 0u);
  for (const Object& o : all) ASSERT_TRUE(Pool::Free(o.ptr).ok());

  for (ScopedPool& pool : pools) {
    const PoolStats stats = pool->Stats();
    EXPECT_EQ(stats.live_objects, 0u) << stats.name;
    EXPECT_EQ(stats.live_bytes, 0u) << stats.name;
    EXPECT_EQ(stats.violations, 0u) << stats.name;
  }
}

TEST(ConcurrencyTest, LookupsNeverCrashWhilePoolsAreDestroyed) {
  constexpr int kLookupThreads = 3;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0};
  std::atomic<uintptr_t> lo{0};
  std::atomic<uintptr_t> hi{0};
  std::atomic<int> bad_answers{0};
  const uintptr_t arena_base = internal::ArenaDataBase();
  const size_t arena_size = internal::ArenaDataSize();

  auto lookup = [&](int id) {
    std::mt19937_64 rng(77 + id);
    while (!stop.load(std::memory_order_acquire)) {
      const uintptr_t l = lo.load(std::memory_order_relaxed);
      const uintptr_t h = hi.load(std::memory_order_relaxed);
      uintptr_t a;
      if (h > l && rng() % 4 != 0) {
        a = l + rng() % (h - l);
      } else if (arena_size > 0) {
        a = arena_base + rng() % arena_size;
      } else {
        a = l;
      }
      const void* p = reinterpret_cast<const void*>(a);
      const AddressInfo info = QueryAddress(p);
      if (static_cast<int>(info.page) >
          static_cast<int>(PageKind::kLargeSpan)) {
        bad_answers.fetch_add(1);
      }
      if (!InArena(p, 1) && info.page != PageKind::kNotArena) {
        bad_answers.fetch_add(1);
      }
      (void)Pool::ObjectSize(p);
      (void)Pool::Owner(p);
      lookups.fetch_add(1, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> threads;
  // Stops and joins the lookup threads on every exit path (ASSERTs included).
  struct Joiner {
    std::atomic<bool>* stop;
    std::vector<std::thread>* threads;
    ~Joiner() {
      stop->store(true, std::memory_order_release);
      for (std::thread& t : *threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{&stop, &threads};
  for (int id = 0; id < kLookupThreads; ++id) threads.emplace_back(lookup, id);

  for (int round = 0; round < kDestroyRounds; ++round) {
    absl::StatusOr<Pool*> created = Pool::Create(UniqueName("conc-destroy"));
    ASSERT_TRUE(created.ok()) << created.status();
    Pool* pool = *created;
    uintptr_t min_addr = UINTPTR_MAX;
    uintptr_t max_addr = 0;
    for (int i = 0; i < 200; ++i) {
      const size_t size = (i % 50 == 0) ? 20000 + i * 100 : 16 + i * 7;
      absl::StatusOr<void*> p = pool->Allocate(size);
      ASSERT_TRUE(p.ok()) << p.status();
      std::memset(*p, 0x44, size);
      min_addr = std::min(min_addr, Addr(*p));
      max_addr = std::max(max_addr, Addr(*p) + size);
      // Free some so that lookups see freed slots too.
      if (i % 3 == 0) {
        ASSERT_TRUE(Pool::Free(*p).ok());
      }
    }
    lo.store(min_addr - 65536, std::memory_order_relaxed);
    hi.store(max_addr + 65536, std::memory_order_relaxed);
    // Wait until the lookup threads have looked at this pool a little.
    const uint64_t seen = lookups.load();
    while (lookups.load() < seen + 200) std::this_thread::yield();

    if (round % 2 == 0) {
      Pool* held = pool->Ref();
      ASSERT_TRUE(pool->Destroy().ok());
      const uint64_t mid = lookups.load();
      while (lookups.load() < mid + 50) std::this_thread::yield();
      held->Unref();  // released while lookups run
    } else {
      ASSERT_TRUE(pool->Destroy().ok());  // last reference: released now
    }
  }
  stop.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_EQ(bad_answers.load(), 0);
}

}  // namespace
}  // namespace sealpool
