// sealpool benchmarks — loop bodies and measurements shared by
// sealpool_bench (sealpool against glibc) and sealpool_peer_bench (sealpool
// against whatever malloc the process runs with).
//
// Each body takes the allocator as two lambdas, so that the sealpool and the
// malloc variant of a benchmark run the same loop with the calls inlined.
// Every allocated pointer escapes through benchmark::DoNotOptimize and gets
// one byte written, so that no compiler can elide an allocation.

#ifndef SEALPOOL_TOOLS_BENCH_BENCH_UTIL_H_
#define SEALPOOL_TOOLS_BENCH_BENCH_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"

namespace sealpool_bench {

inline constexpr int kBatchObjects = 1000;

// Resident set size of the process in bytes, from /proc/self/statm (second
// field, in pages); 0 if it cannot be read. Reads into a stack buffer: no
// allocation.
inline size_t ResidentBytes() {
  char buf[256];
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long size_pages = 0, resident_pages = 0;
  if (std::sscanf(buf, "%lu %lu", &size_pages, &resident_pages) != 2) return 0;
  return resident_pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// (after - before) / unit, or 0 when RSS shrank.
inline double GrowthIn(size_t before, size_t after, double unit) {
  return after > before ? static_cast<double>(after - before) / unit : 0.0;
}

// One object allocated, written and freed per iteration: the fast path of
// a thread cache.
template <typename AllocFn, typename FreeFn>
void PingPong(benchmark::State& state, AllocFn alloc, FreeFn free_fn) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    char* p = static_cast<char*>(alloc(size));
    if (p == nullptr) {
      state.SkipWithError("allocation failed");
      break;
    }
    p[0] = 1;
    benchmark::DoNotOptimize(p);
    free_fn(p);
  }
}

// kBatchObjects objects allocated (one byte written into each), then freed
// in allocation order, per iteration: refill and flush of the caches.
template <typename AllocFn, typename FreeFn>
void Batch(benchmark::State& state, AllocFn alloc, FreeFn free_fn) {
  const size_t size = static_cast<size_t>(state.range(0));
  std::vector<char*> objects(kBatchObjects);
  for (auto _ : state) {
    for (int i = 0; i < kBatchObjects; ++i) {
      char* p = static_cast<char*>(alloc(size));
      if (p == nullptr) {
        state.SkipWithError("allocation failed");
        return;
      }
      p[0] = 1;
      objects[i] = p;
    }
    benchmark::DoNotOptimize(objects.data());
    benchmark::ClobberMemory();
    for (int i = 0; i < kBatchObjects; ++i) free_fn(objects[i]);
  }
  state.SetItemsProcessed(state.iterations() * kBatchObjects);
}

// A live set of kLiveSlots objects of random sizes; each iteration frees
// the object in a random slot and allocates one of a random size in its
// place. The (slot, size) sequence is fixed (seeded), shared by all threads,
// and each thread starts at a different point of it.
inline constexpr int kLiveSlots = 4096;
inline constexpr size_t kRandomMinSize = 8;
inline constexpr size_t kRandomMaxSize = 512;

struct RandomStep {
  uint32_t slot;
  uint32_t size;
};

inline const std::vector<RandomStep>& RandomSteps() {
  static const std::vector<RandomStep>* const steps = [] {
    auto* v = new std::vector<RandomStep>(1 << 16);
    std::mt19937 rng(20261127);
    std::uniform_int_distribution<uint32_t> slot(0, kLiveSlots - 1);
    std::uniform_int_distribution<uint32_t> size(kRandomMinSize,
                                                 kRandomMaxSize);
    for (RandomStep& s : *v) s = {slot(rng), size(rng)};
    return v;
  }();
  return *steps;
}

template <typename AllocFn, typename FreeFn>
void RandomLiveSet(benchmark::State& state, AllocFn alloc, FreeFn free_fn) {
  const std::vector<RandomStep>& steps = RandomSteps();
  const size_t mask = steps.size() - 1;
  size_t i = static_cast<size_t>(state.thread_index()) * 7919;
  std::vector<char*> live(kLiveSlots, nullptr);
  bool filled = true;
  for (int s = 0; s < kLiveSlots && filled; ++s) {
    live[s] = static_cast<char*>(alloc(steps[(i++) & mask].size));
    if (live[s] == nullptr) {
      state.SkipWithError("allocation failed");
      filled = false;
    } else {
      live[s][0] = 1;
    }
  }
  for (auto _ : state) {
    if (!filled) break;
    const RandomStep& step = steps[(i++) & mask];
    free_fn(live[step.slot]);
    char* p = static_cast<char*>(alloc(step.size));
    if (p == nullptr) {
      state.SkipWithError("allocation failed");
      live[step.slot] = nullptr;
      break;
    }
    p[0] = 1;
    benchmark::DoNotOptimize(p);
    live[step.slot] = p;
  }
  for (char* p : live) {
    if (p != nullptr) free_fn(p);
  }
}

}  // namespace sealpool_bench

#endif  // SEALPOOL_TOOLS_BENCH_BENCH_UTIL_H_
