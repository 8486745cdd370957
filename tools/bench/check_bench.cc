// sealpool_bench (part 2) — the checker against the costs it is judged by.
//
//   BM_SealpoolCheckCopy              sp_check_copy(p + 7, 32, read) on a
//                                     64-byte pool object: the arena path.
//   BM_CheckCopyStack / Global /      the same on a stack buffer, a static
//   GlibcHeap                         array and a glibc heap object: the
//                                     "outside the arena" path.
//   BM_Memcpy/<n>                     plain memcpy between two pool objects,
//   BM_SpMemcpy/<n>                   against sp_memcpy (both ends checked),
//                                     for 64 B and 4 KiB.
//
// Compare BM_SealpoolCheckCopy with BM_GlibcUsableSize (alloc_bench.cc)
// for the design's "no slower than malloc_usable_size" target.

#include <cstdlib>
#include <cstring>

#include "benchmark/benchmark.h"
#include "sealpool/sealpool.h"

namespace {

sp_pool* CheckPool() {
  static sp_pool* const pool = [] {
    sp_pool* p = sp_pool_create("bench.check", nullptr);
    if (p == nullptr) std::abort();
    return p;
  }();
  return pool;
}

void RunCheck(benchmark::State& state, const char* p) {
  if (sp_check_copy(p, 32, SP_COPY_READ) != 0) {
    state.SkipWithError("the benchmark's own copy was refused");
    return;
  }
  for (auto _ : state) {
    const char* q = p;
    benchmark::DoNotOptimize(q);
    int r = sp_check_copy(q, 32, SP_COPY_READ);
    benchmark::DoNotOptimize(r);
  }
}

void BM_SealpoolCheckCopy(benchmark::State& state) {
  char* p = static_cast<char*>(sp_alloc(CheckPool(), 64));
  std::memset(p, 0, 64);
  RunCheck(state, p + 7);
  sp_free(p);
}
BENCHMARK(BM_SealpoolCheckCopy);

void BM_CheckCopyStack(benchmark::State& state) {
  char buf[64] = {};
  benchmark::DoNotOptimize(buf);
  RunCheck(state, buf + 7);
}
BENCHMARK(BM_CheckCopyStack);

char g_global[64];

void BM_CheckCopyGlobal(benchmark::State& state) { RunCheck(state, g_global + 7); }
BENCHMARK(BM_CheckCopyGlobal);

void BM_CheckCopyGlibcHeap(benchmark::State& state) {
  char* p = static_cast<char*>(std::calloc(1, 64));
  RunCheck(state, p + 7);
  std::free(p);
}
BENCHMARK(BM_CheckCopyGlibcHeap);

// Copies between two pool objects, plain (kChecked false) or through
// sp_memcpy (both ends checked).
template <bool kChecked>
void CopyBetweenObjects(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  char* a = static_cast<char*>(sp_alloc(CheckPool(), n));
  char* b = static_cast<char*>(sp_alloc(CheckPool(), n));
  std::memset(a, 1, n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
    if (kChecked) {
      void* r = sp_memcpy(b, a, n);
      benchmark::DoNotOptimize(r);
    } else {
      std::memcpy(b, a, n);
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
  sp_free(a);
  sp_free(b);
}

void BM_Memcpy(benchmark::State& state) { CopyBetweenObjects<false>(state); }
BENCHMARK(BM_Memcpy)->Arg(64)->Arg(4096);

void BM_SpMemcpy(benchmark::State& state) { CopyBetweenObjects<true>(state); }
BENCHMARK(BM_SpMemcpy)->Arg(64)->Arg(4096);

}  // namespace
