// check_copy against an exact model: random objects in pools of every
// shape (plain, usercopy window, redzones, 64-byte alignment; sizes from 0
// to 20000 bytes and large objects up to 100 KiB), random frees and
// reallocations, and random queries around live and freed objects. The
// model allows a copy iff it is empty or lies inside one live object (and
// inside its pool's usercopy window); CheckCopy must agree on every query.

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace sealpool {
namespace {

using ::sealpool_test::Addr;
using ::sealpool_test::ScopedPool;
using ::sealpool_test::UniqueName;

constexpr uint64_t kDefaultSeed = 0x5ea1b001c0b1e5ull;
constexpr int kQueries = 120000;
constexpr int kInitialObjects = 300;
constexpr size_t kMaxTracked = 900;

struct ModelPool {
  ScopedPool pool;
  size_t window_offset = 0;
  size_t window_size = 0;  // 0 = whole object
};

struct Object {
  uintptr_t start = 0;
  size_t size = 0;
  int pool = 0;
  bool live = true;
};

// Live objects by start address; the exact model of what may be copied.
class Model {
 public:
  void Add(const Object& o) { live_[o.start] = o; }
  void Remove(uintptr_t start) { live_.erase(start); }

  // The live object whose bytes include `a` (or that starts at `a`).
  const Object* Containing(uintptr_t a) const {
    auto it = live_.upper_bound(a);
    if (it == live_.begin()) return nullptr;
    --it;
    const Object& o = it->second;
    if (a == o.start || a - o.start < o.size) return &o;
    return nullptr;
  }

  bool Allowed(uintptr_t a, size_t len,
               const std::vector<ModelPool>& pools) const {
    if (len == 0) return true;
    // Memory sealpool does not own (never expected this close to objects).
    if (!InArena(reinterpret_cast<const void*>(a), len)) return true;
    const Object* o = Containing(a);
    if (o == nullptr) return false;
    const size_t off = a - o->start;
    if (off + len > o->size) return false;
    const ModelPool& p = pools[o->pool];
    if (p.window_size != 0 &&
        (off < p.window_offset || off + len > p.window_offset + p.window_size)) {
      return false;
    }
    return true;
  }

 private:
  std::map<uintptr_t, Object> live_;
};

// Silences the reports of the expected violations for the scope: stderr to
// /dev/null, no stack traces, report mode. Restores all of it.
class QuietReportMode {
 public:
  QuietReportMode() {
    EXPECT_TRUE(SetRuntimeOptions("stack_depth=0:symbolize=0").ok());
    SetMode(Mode::kReport);  // after SetRuntimeOptions, which sets a mode
    saved_ = dup(STDERR_FILENO);
    const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd >= 0) {
      dup2(null_fd, STDERR_FILENO);
      close(null_fd);
    }
  }
  ~QuietReportMode() {
    if (saved_ >= 0) {
      dup2(saved_, STDERR_FILENO);
      close(saved_);
    }
    EXPECT_TRUE(SetRuntimeOptions("stack_depth=32:symbolize=1").ok());
    SetMode(Mode::kAbort);
  }

 private:
  int saved_ = -1;
};

size_t RandomSize(std::mt19937_64& rng) {
  const int bucket = static_cast<int>(rng() % 100);
  if (bucket < 5) return 0;
  if (bucket < 60) return rng() % 257;
  if (bucket < 85) return rng() % 4097;
  if (bucket < 95) return rng() % 20001;
  return 16385 + rng() % (100 * 1024 - 16385 + 1);  // large
}

TEST(CheckCopyModelTest, AgreesWithTheExactModel) {
  uint64_t seed = kDefaultSeed;
  if (const char* s = std::getenv("SEALPOOL_MODEL_SEED")) {
    seed = std::strtoull(s, nullptr, 0);
  }
  std::printf("check_copy model seed: 0x%llx (SEALPOOL_MODEL_SEED=...)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  std::vector<ModelPool> pools(4);
  {
    PoolOptions plain;
    PoolOptions window;
    window.usercopy_offset = 16;
    window.usercopy_size = 200;
    PoolOptions redzones;
    redzones.flags = kPoolRedzones;
    PoolOptions aligned;
    aligned.align = 64;
    const PoolOptions all[] = {plain, window, redzones, aligned};
    const char* const names[] = {"model-plain", "model-window",
                                 "model-redzone", "model-align64"};
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<Pool*> p = Pool::Create(UniqueName(names[i]), all[i]);
      ASSERT_TRUE(p.ok()) << p.status();
      pools[i].pool = ScopedPool(*p);
      pools[i].window_offset = all[i].usercopy_offset;
      pools[i].window_size = all[i].usercopy_size;
    }
  }

  Model model;
  std::vector<Object> objects;  // live and freed, queried alike
  auto allocate = [&]() -> bool {
    const int pool = static_cast<int>(rng() % pools.size());
    const size_t size = RandomSize(rng);
    absl::StatusOr<void*> p = pools[pool].pool->Allocate(size);
    if (!p.ok()) {
      ADD_FAILURE() << "Allocate(" << size << "): " << p.status();
      return false;
    }
    Object o;
    o.start = Addr(*p);
    o.size = size;
    o.pool = pool;
    // A slot handed out again replaces its freed entry.
    objects.push_back(o);
    model.Add(o);
    return true;
  };
  auto free_one = [&]() {
    std::vector<size_t> live;
    for (size_t i = 0; i < objects.size(); ++i) {
      if (objects[i].live) live.push_back(i);
    }
    if (live.empty()) return;
    Object& o = objects[live[rng() % live.size()]];
    ASSERT_TRUE(Pool::Free(reinterpret_cast<void*>(o.start)).ok());
    o.live = false;
    model.Remove(o.start);
  };

  for (int i = 0; i < kInitialObjects; ++i) ASSERT_TRUE(allocate());

  int disagreements = 0;
  int wrong_kind = 0;
  int allowed = 0;
  int refused = 0;
  std::vector<std::string> examples;
  uint64_t violations_before = 0;
  uint64_t violations_after = 0;
  {
    QuietReportMode quiet;
    violations_before = ViolationCount();
    for (int q = 0; q < kQueries; ++q) {
      if (q % 40 == 0) {
        if (rng() % 2 == 0) {
          free_one();
        } else {
          ASSERT_TRUE(allocate());
        }
        if (objects.size() > kMaxTracked) {
          // Forget the oldest freed objects.
          std::vector<Object> kept;
          size_t dropped = 0;
          for (const Object& o : objects) {
            if (!o.live && dropped < objects.size() - kMaxTracked / 2) {
              ++dropped;
              continue;
            }
            kept.push_back(o);
          }
          objects.swap(kept);
        }
      }
      const Object& o = objects[rng() % objects.size()];
      int64_t off;
      size_t len;
      if (rng() % 3 != 0) {
        off = static_cast<int64_t>(rng() % (o.size + 129)) - 64;  // [-64, size+64]
        len = rng() % 129;                                       // [0, 128]
      } else {
        // Near the end: [0, size], up to one byte past it.
        off = static_cast<int64_t>(rng() % (o.size + 1));
        const size_t rest = o.size - static_cast<size_t>(off) + 1;
        len = rng() % (rest < 129 ? rest + 1 : 129);
      }
      const CopyDirection dir =
          rng() % 2 == 0 ? CopyDirection::kRead : CopyDirection::kWrite;
      const uintptr_t a = o.start + static_cast<uintptr_t>(off);

      const bool expect = model.Allowed(a, len, pools);
      const ViolationKind got =
          CheckCopy(reinterpret_cast<const void*>(a), len, dir);
      if (got == ViolationKind::kNone) {
        ++allowed;
      } else {
        ++refused;
      }
      if (expect != (got == ViolationKind::kNone)) {
        ++disagreements;
        if (examples.size() < 10) {
          const Object* c = model.Containing(a);
          examples.push_back(
              "object size " + std::to_string(o.size) + " pool " +
              std::to_string(o.pool) + (o.live ? " live" : " freed") +
              " off " + std::to_string(off) + " len " + std::to_string(len) +
              ": model " + (expect ? "allows" : "refuses") + ", CheckCopy " +
              ViolationKindName(got) +
              (c != nullptr ? "; containing object size " +
                                  std::to_string(c->size)
                            : "; no live object there"));
        }
      }
      // A range that starts inside a live object and runs past its end is
      // precisely out of bounds.
      if (len != 0) {
        const Object* c = model.Containing(a);
        if (c != nullptr && a - c->start + len > c->size &&
            got != ViolationKind::kOutOfBounds) {
          ++wrong_kind;
        }
      }
    }
    violations_after = ViolationCount();
  }

  std::printf("check_copy model: %d queries, %d allowed, %d refused\n",
              kQueries, allowed, refused);
  for (const std::string& e : examples) ADD_FAILURE() << e;
  EXPECT_EQ(disagreements, 0);
  EXPECT_EQ(wrong_kind, 0);
  EXPECT_EQ(violations_after - violations_before,
            static_cast<uint64_t>(refused));
  // Both answers must be well represented for the test to mean anything.
  EXPECT_GT(allowed, kQueries / 5);
  EXPECT_GT(refused, kQueries / 10);

  for (const Object& o : objects) {
    if (o.live) {
      EXPECT_TRUE(Pool::Free(reinterpret_cast<void*>(o.start)).ok());
    }
  }
}

}  // namespace
}  // namespace sealpool
