// sealpool_peer_bench — the same operations on sealpool and on the malloc
// the process runs with, so that sealpool can be compared with glibc and with
// other allocators loaded through LD_PRELOAD (jemalloc, mimalloc, tcmalloc,
// scudo), in one run on one machine. tools/bench/peers.sh runs it once per
// allocator and tabulates the medians.
//
//   BM_System_*    malloc / free / malloc_usable_size: whatever
//                  allocator is loaded (the "malloc" entry of the JSON
//                  context names it).
//   BM_Sealpool_*  the same operations through the sealpool C API.
//
//   PingPong/<size>        allocate one object, write a byte, free it
//                          (16, 64, 256 B; also with 2 threads).
//   Batch/<size>           1000 objects allocated, then freed in allocation
//                          order, per iteration (64, 256 B; 64 B also with 2
//                          threads).
//   Random                 a live set of 4096 objects of random sizes from 8
//                          to 512 B; each iteration frees a random one and
//                          allocates another (also with 2 threads).
//   System_UsableSize      malloc_usable_size(p) on the start of a 64-B
//                          object: the peers answer only for a start.
//   Sealpool_ObjectSize    sp_object_size(p + 7) inside a 64-B pool object.
//   Sealpool_CheckCopy     sp_check_copy(p + 7, 32, read) on it.
//   Sealpool_Memcpy/<n>    plain memcpy between two pool objects (64 B,
//                          4 KiB), against
//   Sealpool_SpMemcpy/<n>  sp_memcpy between the same two (both ends
//                          checked): the cost of the checks alone.
//   Memory64               RSS growth while 1,000,000 64-B objects are
//                          allocated and one byte of each is written
//                          (counters rss_MiB, rss_B_per_obj). Runs once: run
//                          it alone in a fresh process (peers.sh does), as
//                          allocators keep freed memory.
//
// Threaded rows use wall-clock time (UseRealTime): "Time" is wall time per
// operation over both threads, so blocking shows there.

#include <dlfcn.h>
#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "benchmark/benchmark.h"
#include "sealpool/sealpool.h"
#include "tools/bench/bench_util.h"

namespace {

using sealpool_bench::Batch;
using sealpool_bench::GrowthIn;
using sealpool_bench::PingPong;
using sealpool_bench::RandomLiveSet;
using sealpool_bench::ResidentBytes;

constexpr size_t kMemoryObjects = 1000000;
constexpr size_t kMemoryObjectSize = 64;
constexpr double kMiB = 1024.0 * 1024.0;

// Pointers of the memory benchmarks, kept out of any heap so that storing
// them neither grows nor warms the allocator under measurement.
void* g_objects[kMemoryObjects];

// The malloc this process runs with, told apart by a symbol only that
// allocator exports; "glibc" when none of them is loaded.
const char* ActiveMalloc() {
  struct Marker {
    const char* symbol;
    const char* name;
  };
  static constexpr Marker kMarkers[] = {
      {"mallctl", "jemalloc"},
      {"mi_version", "mimalloc"},
      {"tc_malloc", "tcmalloc"},
      {"__scudo_print_stats", "scudo"},
  };
  for (const Marker& m : kMarkers) {
    if (dlsym(RTLD_DEFAULT, m.symbol) != nullptr) return m.name;
  }
  return "glibc";
}

// A pool with default options, or abort: a benchmark without its pool would
// measure nothing.
sp_pool* CreatePoolOrDie(const char* name) {
  sp_pool* pool = sp_pool_create(name, nullptr);
  if (pool == nullptr) {
    std::fprintf(stderr, "sealpool_peer_bench: cannot create pool '%s': %s\n",
                 name, std::strerror(errno));
    std::abort();
  }
  return pool;
}

// One pool for all speed benchmarks of the process, shared by threads.
sp_pool* SpeedPool() {
  static sp_pool* const pool = CreatePoolOrDie("peer_bench.speed");
  return pool;
}

void* SpAlloc(size_t n) { return sp_alloc(SpeedPool(), n); }
void SpFree(void* p) { sp_free(p); }
void* SysAlloc(size_t n) { return std::malloc(n); }
void SysFree(void* p) { std::free(p); }

// ---------------------------------------------------------------------------
// Allocation speed.

void BM_System_PingPong(benchmark::State& state) {
  PingPong(state, SysAlloc, SysFree);
}
void BM_Sealpool_PingPong(benchmark::State& state) {
  PingPong(state, SpAlloc, SpFree);
}
void BM_System_Batch(benchmark::State& state) {
  Batch(state, SysAlloc, SysFree);
}
void BM_Sealpool_Batch(benchmark::State& state) {
  Batch(state, SpAlloc, SpFree);
}
void BM_System_Random(benchmark::State& state) {
  RandomLiveSet(state, SysAlloc, SysFree);
}
void BM_Sealpool_Random(benchmark::State& state) {
  RandomLiveSet(state, SpAlloc, SpFree);
}

BENCHMARK(BM_System_PingPong)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK(BM_System_PingPong)->Arg(64)->Threads(2)->UseRealTime();
BENCHMARK(BM_System_Batch)->Arg(64)->Arg(256);
BENCHMARK(BM_System_Batch)->Arg(64)->Threads(2)->UseRealTime();
BENCHMARK(BM_System_Random);
BENCHMARK(BM_System_Random)->Threads(2)->UseRealTime();

BENCHMARK(BM_Sealpool_PingPong)->Arg(16)->Arg(64)->Arg(256);
BENCHMARK(BM_Sealpool_PingPong)->Arg(64)->Threads(2)->UseRealTime();
BENCHMARK(BM_Sealpool_Batch)->Arg(64)->Arg(256);
BENCHMARK(BM_Sealpool_Batch)->Arg(64)->Threads(2)->UseRealTime();
BENCHMARK(BM_Sealpool_Random);
BENCHMARK(BM_Sealpool_Random)->Threads(2)->UseRealTime();

// ---------------------------------------------------------------------------
// Object-size lookup and the copy check.

void BM_System_UsableSize(benchmark::State& state) {
  char* p = static_cast<char*>(std::malloc(64));
  if (p == nullptr || malloc_usable_size(p) < 64) {
    state.SkipWithError("malloc_usable_size(malloc(64)) < 64");
    std::free(p);
    return;
  }
  p[0] = 1;
  for (auto _ : state) {
    char* q = p;  // the start: what every peer answers for
    benchmark::DoNotOptimize(q);
    size_t n = malloc_usable_size(q);
    benchmark::DoNotOptimize(n);
  }
  std::free(p);
}
BENCHMARK(BM_System_UsableSize);

void BM_Sealpool_ObjectSize(benchmark::State& state) {
  char* p = static_cast<char*>(sp_alloc(SpeedPool(), 64));
  if (p == nullptr || sp_object_size(p + 7) != 64) {
    state.SkipWithError("sp_object_size(p + 7) != 64");
    return;
  }
  p[0] = 1;
  for (auto _ : state) {
    const char* q = p + 7;  // an interior pointer
    benchmark::DoNotOptimize(q);
    size_t n = sp_object_size(q);
    benchmark::DoNotOptimize(n);
  }
  sp_free(p);
}
BENCHMARK(BM_Sealpool_ObjectSize);

void BM_Sealpool_CheckCopy(benchmark::State& state) {
  char* p = static_cast<char*>(sp_alloc(SpeedPool(), 64));
  if (p == nullptr || sp_check_copy(p + 7, 32, SP_COPY_READ) != 0) {
    state.SkipWithError("sp_check_copy(p + 7, 32) refused");
    return;
  }
  p[0] = 1;
  for (auto _ : state) {
    const char* q = p + 7;
    benchmark::DoNotOptimize(q);
    int r = sp_check_copy(q, 32, SP_COPY_READ);
    benchmark::DoNotOptimize(r);
  }
  sp_free(p);
}
BENCHMARK(BM_Sealpool_CheckCopy);

// ---------------------------------------------------------------------------
// Plain and checked copies.

// Copies n bytes from one object to another per iteration, with `copy`.
template <typename AllocFn, typename FreeFn, typename CopyFn>
void CopyBetweenObjects(benchmark::State& state, AllocFn alloc, FreeFn free_fn,
                        CopyFn copy) {
  const size_t n = static_cast<size_t>(state.range(0));
  char* a = static_cast<char*>(alloc(n));
  char* b = static_cast<char*>(alloc(n));
  if (a == nullptr || b == nullptr) {
    state.SkipWithError("allocation failed");
  } else {
    std::memset(a, 1, n);
    std::memset(b, 0, n);
    for (auto _ : state) {
      benchmark::DoNotOptimize(a);
      benchmark::DoNotOptimize(b);
      void* r = copy(b, a, n);
      benchmark::DoNotOptimize(r);
      benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
  }
  if (a != nullptr) free_fn(a);
  if (b != nullptr) free_fn(b);
}

void BM_Sealpool_Memcpy(benchmark::State& state) {
  CopyBetweenObjects(
      state, SpAlloc, SpFree,
      [](void* d, const void* s, size_t n) { return std::memcpy(d, s, n); });
}
BENCHMARK(BM_Sealpool_Memcpy)->Arg(64)->Arg(4096);

void BM_Sealpool_SpMemcpy(benchmark::State& state) {
  CopyBetweenObjects(
      state, SpAlloc, SpFree,
      [](void* d, const void* s, size_t n) { return sp_memcpy(d, s, n); });
}
BENCHMARK(BM_Sealpool_SpMemcpy)->Arg(64)->Arg(4096);

// ---------------------------------------------------------------------------
// Memory for 1,000,000 live 64-B objects.

template <typename AllocFn, typename FreeFn>
void Memory64(benchmark::State& state, AllocFn alloc, FreeFn free_fn) {
  std::memset(g_objects, 0, sizeof(g_objects));
  const size_t rss_before = ResidentBytes();
  size_t made = 0;
  for (auto _ : state) {
    for (; made < kMemoryObjects; ++made) {
      char* p = static_cast<char*>(alloc(kMemoryObjectSize));
      if (p == nullptr) {
        state.SkipWithError("allocation failed");
        break;
      }
      p[0] = 1;
      g_objects[made] = p;
    }
    benchmark::DoNotOptimize(g_objects);
    benchmark::ClobberMemory();
  }
  const size_t rss_after = ResidentBytes();
  state.counters["rss_MiB"] = GrowthIn(rss_before, rss_after, kMiB);
  state.counters["rss_B_per_obj"] =
      GrowthIn(rss_before, rss_after, static_cast<double>(kMemoryObjects));
  for (size_t i = 0; i < made; ++i) free_fn(g_objects[i]);
}

void BM_System_Memory64(benchmark::State& state) {
  Memory64(state, SysAlloc, SysFree);
}
BENCHMARK(BM_System_Memory64)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_Sealpool_Memory64(benchmark::State& state) {
  // A fresh pool, after the arena exists: the arena's reservation costs
  // no memory, the first pool's set-up is not what is measured.
  static std::atomic<int> runs{0};
  sp_pool* warm = CreatePoolOrDie("peer_bench.warmup");
  sp_free(sp_alloc(warm, kMemoryObjectSize));
  sp_pool_destroy(warm);
  const std::string name = "peer_bench.memory." + std::to_string(++runs);
  sp_pool* pool = CreatePoolOrDie(name.c_str());
  Memory64(
      state, [pool](size_t n) { return sp_alloc(pool, n); }, SpFree);
  sp_pool_destroy(pool);
}
BENCHMARK(BM_Sealpool_Memory64)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("malloc", ActiveMalloc());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
