// sealpool_bench (part 3) — the cost of sealing and of writing rarely.
//
//   BM_Seal/<n>              Pool::Seal() of a pool holding n 64-byte
//                            objects (n = 10, 1000, 100000). Pool set-up
//                            and destroy are outside the timing. The
//                            design's target: flat in n.
//   BM_SealOneObject/<n>     the same bytes (n x 64) in a single object: if
//                            it costs what BM_Seal/<n> costs, sealing pays
//                            per page (the kernel's page-table update), not
//                            per object.
//   BM_WriteRareAlias/<n>    Pool::WriteRare() of n bytes (8, 4096) into a
//                            sealed object of a kPoolWriteRare pool: a
//                            writable duplicate of the shared pages (mremap)
//                            at a random address, unmapped again.
//   BM_WriteRareKey/<n>      the same through a protection key
//                            (kPoolWriteRareKey) where the CPU has one;
//                            skipped with a message elsewhere.
//
// Each reports `syscalls` per operation (sealpool::GetKernelCallCounts),
// and the seal benchmark also `mprotect` per seal.

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "allocator/kernel_calls.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "benchmark/benchmark.h"

namespace {

using sealpool::KernelCallCounts;
using sealpool::Pool;
using sealpool::PoolOptions;

Pool* MustCreate(const std::string& name, uint32_t flags) {
  PoolOptions o;
  o.flags = flags;
  absl::StatusOr<Pool*> p = Pool::Create(name, o);
  if (!p.ok()) std::abort();
  return *p;
}

// Seals a fresh pool holding `count` objects of `size` bytes.
void RunSeal(benchmark::State& state, size_t count, size_t size) {
  uint64_t calls = 0, mprotects = 0, round = 0;
  std::vector<void*> objs(count);
  for (auto _ : state) {
    state.PauseTiming();
    Pool* pool = MustCreate("bench.seal." + std::to_string(round++), 0);
    for (size_t i = 0; i < count; ++i) {
      absl::StatusOr<void*> p = pool->Allocate(size);
      if (!p.ok()) std::abort();
      std::memset(*p, 1, size);
      objs[i] = *p;
    }
    const KernelCallCounts before = sealpool::GetKernelCallCounts();
    state.ResumeTiming();
    if (!pool->Seal().ok()) std::abort();
    state.PauseTiming();
    const KernelCallCounts d = sealpool::GetKernelCallCounts() - before;
    calls += d.Total();
    mprotects += d.mprotect;
    if (!pool->Destroy().ok()) std::abort();
    state.ResumeTiming();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["syscalls"] = static_cast<double>(calls) / iters;
  state.counters["mprotect"] = static_cast<double>(mprotects) / iters;
  state.counters["sealed_KiB"] = static_cast<double>(count * size) / 1024.0;
}

void BM_Seal(benchmark::State& state) {
  RunSeal(state, static_cast<size_t>(state.range(0)), 64);
}
BENCHMARK(BM_Seal)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void BM_SealOneObject(benchmark::State& state) {
  RunSeal(state, 1, static_cast<size_t>(state.range(0)) * 64);
}
BENCHMARK(BM_SealOneObject)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

void RunWriteRare(benchmark::State& state, uint32_t flags, const char* name) {
  const size_t n = static_cast<size_t>(state.range(0));
  Pool* pool = MustCreate(name, flags);
  if ((flags & sealpool::kPoolWriteRareKey) && !pool->Stats().write_rare_key) {
    state.SkipWithError("no protection keys here (CPU, or threads at start)");
    (void)pool->Destroy();
    return;
  }
  absl::StatusOr<void*> obj = pool->Allocate(n);
  if (!obj.ok()) std::abort();
  std::memset(*obj, 0, n);
  if (!pool->Seal().ok()) std::abort();
  std::vector<char> src(n, 'w');
  const KernelCallCounts before = sealpool::GetKernelCallCounts();
  for (auto _ : state) {
    if (!Pool::WriteRare(*obj, src.data(), n).ok()) std::abort();
    src[0] = static_cast<char>(src[0] + 1);
  }
  const KernelCallCounts d = sealpool::GetKernelCallCounts() - before;
  state.counters["syscalls"] =
      static_cast<double>(d.Total()) / static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
  (void)pool->Destroy();
}

void BM_WriteRareAlias(benchmark::State& state) {
  RunWriteRare(state, sealpool::kPoolWriteRare, "bench.write-rare.alias");
}
BENCHMARK(BM_WriteRareAlias)->Arg(8)->Arg(4096);

void BM_WriteRareKey(benchmark::State& state) {
  RunWriteRare(state, sealpool::kPoolWriteRareKey, "bench.write-rare.key");
}
BENCHMARK(BM_WriteRareKey)->Arg(8)->Arg(4096);

}  // namespace
