// sealpool — operating-system primitives (Linux).

#include "allocator/internal/platform.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>

#include "allocator/internal/check.h"

namespace sealpool {
namespace internal {
namespace {

// Values from Linux 6.13's uapi <asm-generic/mman-common.h>; Debian 12's
// headers predate them.
constexpr int kMadvGuardInstall = 102;
constexpr int kMadvGuardRemove = 103;

std::atomic<int> injected_failures{0};

// 1 = madvise guards work, 0 = they do not, -1 = not probed yet.
std::atomic<int> madvise_guards{-1};

// Consumes one injected failure, if any is pending.
bool InjectedFailure() {
  int n = injected_failures.load(std::memory_order_relaxed);
  while (n > 0) {
    if (injected_failures.compare_exchange_weak(n, n - 1,
                                                std::memory_order_relaxed)) {
      errno = ENOMEM;
      return true;
    }
  }
  return false;
}

bool ProbeMadviseGuards() {
  void* p = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  const bool ok = madvise(p, kPageSize, kMadvGuardInstall) == 0;
  munmap(p, kPageSize);
  return ok;
}

}  // namespace

bool GuardsUseMadvise() {
  int v = madvise_guards.load(std::memory_order_acquire);
  if (v < 0) {
    v = ProbeMadviseGuards() ? 1 : 0;
    madvise_guards.store(v, std::memory_order_release);
  }
  return v == 1;
}

void SetForceProtNoneGuards(bool force) {
  madvise_guards.store(force ? 0 : -1, std::memory_order_release);
}

void* ReserveAddressSpace(size_t size) {
  if (InjectedFailure()) return nullptr;
  void* p = mmap(nullptr, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

bool CommitPages(void* addr, size_t size) {
  if (InjectedFailure()) return false;
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

bool DecommitPages(void* addr, size_t size) {
  void* p = mmap(addr, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
                 0);
  return p != MAP_FAILED;
}

bool InstallGuard(void* addr, size_t size) {
  if (GuardsUseMadvise()) return madvise(addr, size, kMadvGuardInstall) == 0;
  if (mprotect(addr, size, PROT_NONE) != 0) return false;
  return madvise(addr, size, MADV_DONTNEED) == 0;
}

bool RemoveGuard(void* addr, size_t size) {
  if (GuardsUseMadvise()) return madvise(addr, size, kMadvGuardRemove) == 0;
  if (InjectedFailure()) return false;
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

void DiscardPages(void* addr, size_t size) {
  madvise(addr, size, MADV_DONTNEED);
}

void GetRandomBytes(void* out, size_t size) {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    const ssize_t n = getrandom(p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    SEALPOOL_CHECK(n > 0, "getrandom() failed");
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void SetInjectedMapFailures(int count) {
  injected_failures.store(count < 0 ? 0 : count, std::memory_order_relaxed);
}

}  // namespace internal
}  // namespace sealpool
