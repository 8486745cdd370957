// sealpool_bench (part 4) — the stack-frame rule's cost: a checked 64-byte
// copy from a pool object into a local buffer one frame up, against the
// same checked copy into a pool object (frame_copy.c, built with and
// without frame pointers).
//
//   BM_CheckedCopyIntoPoolObject          sp_memcpy(pool object, pool object, 64)
//   BM_CheckedCopyIntoLocal/FramePointers sp_memcpy(local buffer, pool object, 64),
//   BM_CheckedCopyIntoLocal/NoFramePointers  the caller built with or without
//                                         frame pointers

#include <cstdlib>
#include <cstring>

#include "benchmark/benchmark.h"
#include "sealpool/sealpool.h"

extern "C" {
int fp_copy_into_local(const char* src, size_t n);
int fp_copy_into_object(char* dst, const char* src, size_t n);
int nofp_copy_into_local(const char* src, size_t n);
}

namespace {

constexpr size_t kCopy = 64;

sp_pool* FramePool() {
  static sp_pool* const pool = [] {
    sp_pool* p = sp_pool_create("bench.frames", nullptr);
    if (p == nullptr) std::abort();
    return p;
  }();
  return pool;
}

char* Object() {
  char* p = static_cast<char*>(sp_alloc(FramePool(), kCopy));
  if (p == nullptr) std::abort();
  std::memset(p, 1, kCopy);
  return p;
}

void BM_CheckedCopyIntoPoolObject(benchmark::State& state) {
  char* src = Object();
  char* dst = Object();
  if (fp_copy_into_object(dst, src, kCopy) < 0) {
    state.SkipWithError("the copy was refused");
  }
  for (auto _ : state) {
    int r = fp_copy_into_object(dst, src, kCopy);
    benchmark::DoNotOptimize(r);
  }
  sp_free(src);
  sp_free(dst);
}
BENCHMARK(BM_CheckedCopyIntoPoolObject);

void CopyIntoLocal(benchmark::State& state, int (*copy)(const char*, size_t)) {
  char* src = Object();
  if (copy(src, kCopy) < 0) state.SkipWithError("the copy was refused");
  for (auto _ : state) {
    int r = copy(src, kCopy);
    benchmark::DoNotOptimize(r);
  }
  sp_free(src);
}

void BM_CheckedCopyIntoLocal_FramePointers(benchmark::State& state) {
  CopyIntoLocal(state, fp_copy_into_local);
}
BENCHMARK(BM_CheckedCopyIntoLocal_FramePointers);

void BM_CheckedCopyIntoLocal_NoFramePointers(benchmark::State& state) {
  CopyIntoLocal(state, nofp_copy_into_local);
}
BENCHMARK(BM_CheckedCopyIntoLocal_NoFramePointers);

}  // namespace
