// sealpool_bench — sealpool against glibc malloc, side by side in one run.
//
// Every sealpool benchmark has a glibc twin measured the same way, so the
// design targets (design.md, "Performance targets") read as ratios of two
// adjacent rows of one table on one machine:
//
//   BM_{Sealpool,Glibc}PingPong/<size>   allocate one object, write a byte,
//                                        free it: the thread-cache fast path.
//   BM_{Sealpool,Glibc}Batch/<size>      allocate 1000 objects, then free them
//                                        in allocation order: cache refill and
//                                        flush. items_per_second counts
//                                        objects.
//   .../real_time/threads:2              the same with two threads sharing
//                                        ONE pool (the realistic case).
//   BM_SealpoolObjectSize                sp_object_size() on an interior
//                                        pointer (p + 7) of a 64-byte object,
//   BM_GlibcUsableSize                   against malloc_usable_size() on a
//                                        64-byte malloc object.
//   BM_{Sealpool,Glibc}Memory64          1,000,000 live 64-byte objects (one
//                                        byte written into each): RSS growth,
//                                        and for sealpool the pool's committed,
//                                        live and metadata bytes.
//   BM_SealpoolReservedUntouched         100 fresh pools with one object each:
//                                        RSS growth against address space
//                                        reserved.
//
// Speed benchmarks use the C API on one pool per benchmark function, created
// on first use (a function-local static, so both threads of a threads:2 run
// share it). The memory benchmarks create fresh pools every run and read the
// pool statistics through the C++ API. Threaded rows use wall-clock time:
// "Time" is wall time per operation over both threads (throughput), while
// time spent blocked on a lock would not show in "CPU".

#include <errno.h>
#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "allocator/pool.h"
#include "benchmark/benchmark.h"
#include "sealpool/sealpool.h"
#include "tools/bench/bench_util.h"

namespace {

using sealpool_bench::Batch;
using sealpool_bench::GrowthIn;
using sealpool_bench::PingPong;
using sealpool_bench::ResidentBytes;

// ---------------------------------------------------------------------------
// Helpers.

constexpr size_t kMemoryObjects = 1000000;
constexpr size_t kMemoryObjectSize = 64;
constexpr int kUntouchedPools = 100;
constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;

// Pointers of the memory benchmarks, kept out of any heap so that storing
// them neither grows nor pre-warms the allocator under measurement.
void* g_objects[kMemoryObjects];

[[noreturn]] void Die(const char* what, const char* name) {
  std::fprintf(stderr, "sealpool_bench: %s '%s': %s\n", what, name,
               std::strerror(errno));
  std::abort();
}

// Creates a pool with default options or aborts: a benchmark without its
// pool would measure nothing.
sp_pool* CreatePoolOrDie(const char* name) {
  sp_pool* pool = sp_pool_create(name, nullptr);
  if (pool == nullptr) Die("cannot create pool", name);
  return pool;
}

// A pool name not used before in this process ("<prefix>.<n>"), for
// benchmarks that need a fresh pool on every run.
std::string UniqueName(const char* prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + "." + std::to_string(++counter);
}

// Statistics of a C API pool, through the C++ API (the C API has no stats).
sealpool::PoolStats StatsOf(const sp_pool* pool) {
  absl::StatusOr<sealpool::Pool*> found =
      sealpool::Pool::Find(sp_pool_name(pool));
  if (!found.ok()) Die("cannot find pool", sp_pool_name(pool));
  sealpool::PoolStats stats = (*found)->Stats();
  (*found)->Unref();
  return stats;
}

// Makes sure the arena is reserved and the first pool-creation costs are
// paid, so that the memory benchmarks measure what they allocate even when
// run alone (--benchmark_filter).
void WarmUpArena() {
  static const bool done = [] {
    sp_pool* pool = CreatePoolOrDie("bench.warmup");
    sp_free(sp_alloc(pool, kMemoryObjectSize));
    sp_pool_destroy(pool);
    return true;
  }();
  (void)done;
}

void BenchSizes(benchmark::internal::Benchmark* b) {
  for (int size : {16, 64, 256, 1024}) b->Arg(size);
}

// ---------------------------------------------------------------------------
// 1. Ping-pong: the allocate/free fast path.

void BM_SealpoolPingPong(benchmark::State& state) {
  static sp_pool* const pool = CreatePoolOrDie("bench.pingpong");
  PingPong(
      state, [](size_t n) { return sp_alloc(pool, n); },
      [](void* p) { sp_free(p); });
}
BENCHMARK(BM_SealpoolPingPong)->Apply(BenchSizes);
BENCHMARK(BM_SealpoolPingPong)->Apply(BenchSizes)->Threads(2)->UseRealTime();

void BM_GlibcPingPong(benchmark::State& state) {
  PingPong(
      state, [](size_t n) { return std::malloc(n); },
      [](void* p) { std::free(p); });
}
BENCHMARK(BM_GlibcPingPong)->Apply(BenchSizes);
BENCHMARK(BM_GlibcPingPong)->Apply(BenchSizes)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------
// 2. Batches of 1000: refill and flush of the thread caches.

void BM_SealpoolBatch(benchmark::State& state) {
  static sp_pool* const pool = CreatePoolOrDie("bench.batch");
  Batch(
      state, [](size_t n) { return sp_alloc(pool, n); },
      [](void* p) { sp_free(p); });
}
BENCHMARK(BM_SealpoolBatch)->Apply(BenchSizes);
BENCHMARK(BM_SealpoolBatch)->Apply(BenchSizes)->Threads(2)->UseRealTime();

void BM_GlibcBatch(benchmark::State& state) {
  Batch(
      state, [](size_t n) { return std::malloc(n); },
      [](void* p) { std::free(p); });
}
BENCHMARK(BM_GlibcBatch)->Apply(BenchSizes);
BENCHMARK(BM_GlibcBatch)->Apply(BenchSizes)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------
// 3. Object-size lookup: what check_copy asks for every pool pointer.

void BM_SealpoolObjectSize(benchmark::State& state) {
  static sp_pool* const pool = CreatePoolOrDie("bench.objsize");
  char* p = static_cast<char*>(sp_alloc(pool, 64));
  if (p == nullptr || sp_object_size(p + 7) != 64) {
    state.SkipWithError("sp_object_size(p + 7) != 64");
    return;
  }
  p[0] = 1;
  for (auto _ : state) {
    const char* q = p + 7;
    benchmark::DoNotOptimize(q);
    size_t n = sp_object_size(q);
    benchmark::DoNotOptimize(n);
  }
  sp_free(p);
}
BENCHMARK(BM_SealpoolObjectSize);

void BM_GlibcUsableSize(benchmark::State& state) {
  char* p = static_cast<char*>(std::malloc(64));
  if (p == nullptr) {
    state.SkipWithError("malloc(64) failed");
    return;
  }
  p[0] = 1;
  for (auto _ : state) {
    char* q = p;  // glibc answers only for the start of an object
    benchmark::DoNotOptimize(q);
    size_t n = malloc_usable_size(q);
    benchmark::DoNotOptimize(n);
  }
  std::free(p);
}
BENCHMARK(BM_GlibcUsableSize);

// ---------------------------------------------------------------------------
// 4. Memory overhead of 1,000,000 live 64-byte objects.
//
// Counters: rss_MiB (RSS growth while allocating), rss_B_per_obj; for
// sealpool also the fresh pool's committed_MiB, live_MiB, metadata_MiB and
// metadata_pct = metadata_bytes / live_bytes * 100 (target: under 3).
// Time is that of the 1,000,000 allocations, page faults included.

void BM_SealpoolMemory64(benchmark::State& state) {
  WarmUpArena();
  const std::string name = UniqueName("bench.memory");
  sp_pool* pool = CreatePoolOrDie(name.c_str());
  std::memset(g_objects, 0, sizeof(g_objects));
  const size_t rss_before = ResidentBytes();
  size_t made = 0;
  for (auto _ : state) {
    for (; made < kMemoryObjects; ++made) {
      char* p = static_cast<char*>(sp_alloc(pool, kMemoryObjectSize));
      if (p == nullptr) {
        state.SkipWithError("sp_alloc failed");
        break;
      }
      p[0] = 1;
      g_objects[made] = p;
    }
    benchmark::ClobberMemory();
  }
  const size_t rss_after = ResidentBytes();
  const sealpool::PoolStats stats = StatsOf(pool);

  state.counters["rss_MiB"] = GrowthIn(rss_before, rss_after, kMiB);
  state.counters["rss_B_per_obj"] =
      GrowthIn(rss_before, rss_after, static_cast<double>(kMemoryObjects));
  state.counters["committed_MiB"] =
      static_cast<double>(stats.committed_bytes) / kMiB;
  state.counters["live_MiB"] = static_cast<double>(stats.live_bytes) / kMiB;
  state.counters["metadata_MiB"] =
      static_cast<double>(stats.metadata_bytes) / kMiB;
  state.counters["metadata_pct"] =
      stats.live_bytes == 0
          ? 0.0
          : 100.0 * static_cast<double>(stats.metadata_bytes) /
                static_cast<double>(stats.live_bytes);

  for (size_t i = 0; i < made; ++i) sp_free(g_objects[i]);
  sp_pool_destroy(pool);
}
BENCHMARK(BM_SealpoolMemory64)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_GlibcMemory64(benchmark::State& state) {
  std::memset(g_objects, 0, sizeof(g_objects));
  malloc_trim(0);  // start from a trimmed heap, as the pool starts fresh
  const size_t rss_before = ResidentBytes();
  size_t made = 0;
  for (auto _ : state) {
    for (; made < kMemoryObjects; ++made) {
      char* p = static_cast<char*>(std::malloc(kMemoryObjectSize));
      if (p == nullptr) {
        state.SkipWithError("malloc failed");
        break;
      }
      p[0] = 1;
      g_objects[made] = p;
    }
    benchmark::ClobberMemory();
  }
  const size_t rss_after = ResidentBytes();

  state.counters["rss_MiB"] = GrowthIn(rss_before, rss_after, kMiB);
  state.counters["rss_B_per_obj"] =
      GrowthIn(rss_before, rss_after, static_cast<double>(kMemoryObjects));

  for (size_t i = 0; i < made; ++i) std::free(g_objects[i]);
  malloc_trim(0);
}
BENCHMARK(BM_GlibcMemory64)->Iterations(1)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// 5. Reserved-but-untouched address space costs nothing.
//
// Creates kUntouchedPools fresh pools and allocates one 64-byte object in
// each (one byte written). Counters: rss_before_MiB, rss_after_MiB, rss_MiB
// (their difference), rss_KiB_per_pool, and reserved_MiB / committed_MiB
// summed over the pools' stats (committed counts whole spans, most of whose
// pages are never touched).

void BM_SealpoolReservedUntouched(benchmark::State& state) {
  WarmUpArena();
  std::vector<std::string> names;
  names.reserve(kUntouchedPools);
  for (int i = 0; i < kUntouchedPools; ++i)
    names.push_back(UniqueName("bench.untouched"));
  std::vector<sp_pool*> pools(kUntouchedPools, nullptr);
  std::vector<void*> objects(kUntouchedPools, nullptr);

  const size_t rss_before = ResidentBytes();
  for (auto _ : state) {
    for (int i = 0; i < kUntouchedPools; ++i) {
      pools[i] = CreatePoolOrDie(names[i].c_str());
      char* p = static_cast<char*>(sp_alloc(pools[i], kMemoryObjectSize));
      if (p == nullptr) Die("sp_alloc failed in pool", names[i].c_str());
      p[0] = 1;
      objects[i] = p;
    }
    benchmark::ClobberMemory();
  }
  const size_t rss_after = ResidentBytes();

  size_t reserved = 0, committed = 0;
  for (sp_pool* pool : pools) {
    const sealpool::PoolStats stats = StatsOf(pool);
    reserved += stats.reserved_bytes;
    committed += stats.committed_bytes;
  }
  state.counters["rss_before_MiB"] = static_cast<double>(rss_before) / kMiB;
  state.counters["rss_after_MiB"] = static_cast<double>(rss_after) / kMiB;
  state.counters["rss_MiB"] = GrowthIn(rss_before, rss_after, kMiB);
  state.counters["rss_KiB_per_pool"] =
      GrowthIn(rss_before, rss_after, kKiB * kUntouchedPools);
  state.counters["reserved_MiB"] = static_cast<double>(reserved) / kMiB;
  state.counters["committed_MiB"] = static_cast<double>(committed) / kMiB;

  for (int i = 0; i < kUntouchedPools; ++i) {
    sp_free(objects[i]);
    sp_pool_destroy(pools[i]);
  }
}
BENCHMARK(BM_SealpoolReservedUntouched)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
