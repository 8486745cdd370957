// sealpool — counts of the memory system calls the library has made.
//
// Sealing promises "a handful of mprotect calls per pool, whatever the
// object count", and a write-rare costs either four calls (reserve, mremap,
// mprotect, munmap: the shared-memory alias) or none (protection key).
// These counters let a caller, a test or a benchmark see that cost
// directly: take a snapshot before and after.

#ifndef SEALPOOL_ALLOCATOR_KERNEL_CALLS_H_
#define SEALPOOL_ALLOCATOR_KERNEL_CALLS_H_

#include <cstdint>

namespace sealpool {

// Process-wide totals since start-up, over all threads and pools. Each
// field is exact; a snapshot taken while other threads allocate may mix
// moments.
struct KernelCallCounts {
  uint64_t mmap = 0;        // including MAP_FIXED remaps
  uint64_t mremap = 0;      // write-rare aliases
  uint64_t munmap = 0;
  uint64_t mprotect = 0;    // including pkey_mprotect
  uint64_t madvise = 0;
  uint64_t mseal = 0;
  uint64_t membarrier = 0;
  uint64_t other = 0;       // memfd_create, ftruncate, fcntl, close, pkey_alloc

  uint64_t Total() const {
    return mmap + mremap + munmap + mprotect + madvise + mseal + membarrier +
           other;
  }
  KernelCallCounts operator-(const KernelCallCounts& o) const {
    KernelCallCounts d;
    d.mmap = mmap - o.mmap;
    d.mremap = mremap - o.mremap;
    d.munmap = munmap - o.munmap;
    d.mprotect = mprotect - o.mprotect;
    d.madvise = madvise - o.madvise;
    d.mseal = mseal - o.mseal;
    d.membarrier = membarrier - o.membarrier;
    d.other = other - o.other;
    return d;
  }
};

KernelCallCounts GetKernelCallCounts();

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_KERNEL_CALLS_H_
