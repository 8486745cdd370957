// sealpool — operating-system primitives (Linux).

#include "allocator/internal/platform.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
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
std::atomic<int> injected_seal_failures{0};

// mseal(2) is syscall 462 on every architecture; glibc 2.36 has no wrapper.
constexpr long kSysMseal = 462;

// 1 = madvise guards work, 0 = they do not, -1 = not probed yet.
std::atomic<int> madvise_guards{-1};

// Consumes one injected failure from `counter`, if any is pending.
bool Consume(std::atomic<int>& counter) {
  int n = counter.load(std::memory_order_relaxed);
  while (n > 0) {
    if (counter.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

bool InjectedFailure() {
  if (!Consume(injected_failures)) return false;
  errno = ENOMEM;
  return true;
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

void ReleaseAddressSpace(void* addr, size_t size) { munmap(addr, size); }

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

// Guard markers are tried first; a mapping that does not take them (older
// kernels refuse shared file mappings) falls back to PROT_NONE.
bool InstallGuard(void* addr, size_t size, bool* prot_none) {
  if (GuardsUseMadvise() && madvise(addr, size, kMadvGuardInstall) == 0) {
    return true;
  }
  if (mprotect(addr, size, PROT_NONE) != 0) return false;
  madvise(addr, size, MADV_DONTNEED);
  if (prot_none != nullptr) *prot_none = true;
  return true;
}

bool RemoveGuard(void* addr, size_t size) {
  if (InjectedFailure()) return false;
  if (GuardsUseMadvise()) madvise(addr, size, kMadvGuardRemove);
  // Also undoes a PROT_NONE fallback guard; a no-op for marker guards.
  return mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

bool CommitSharedPages(void* addr, size_t size, int fd, uint64_t offset) {
  if (InjectedFailure()) return false;
  void* p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                 fd, static_cast<off_t>(offset));
  return p != MAP_FAILED;
}

bool ProtectReadOnly(void* addr, size_t size) {
  return mprotect(addr, size, PROT_READ) == 0;
}

int SealMappings(void* addr, size_t size) {
  if (Consume(injected_seal_failures)) return -ENOSYS;
  if (syscall(kSysMseal, addr, size, 0UL) == 0) return 0;
  return -errno;
}

int CreateMemfd(const char* name) {
  if (InjectedFailure()) return -1;
  return memfd_create(name, MFD_CLOEXEC);
}

bool ResizeMemfd(int fd, uint64_t size) {
  if (InjectedFailure()) return false;
  return ftruncate(fd, static_cast<off_t>(size)) == 0;
}

void* MapAlias(int fd, uint64_t offset, size_t size) {
  if (InjectedFailure()) return nullptr;
  // A random hint in the middle of the user address space, so that the
  // alias's address cannot be predicted from earlier mappings; the kernel's
  // own choice if that spot is taken.
  uint64_t r = 0;
  GetRandomBytes(&r, sizeof(r));
  const uintptr_t hint =
      (uintptr_t{0x100000000000} + (r % 0x400000000000)) & ~(kPageSize - 1);
  void* p = mmap(reinterpret_cast<void*>(hint), size, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             static_cast<off_t>(offset));
  }
  return p == MAP_FAILED ? nullptr : p;
}

void UnmapAlias(void* addr, size_t size) { munmap(addr, size); }

bool DontFork(void* addr, size_t size) {
  return madvise(addr, size, MADV_DONTFORK) == 0;
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

void SetInjectedSealFailures(int count) {
  injected_seal_failures.store(count < 0 ? 0 : count, std::memory_order_relaxed);
}

void SetInjectedMapFailures(int count) {
  injected_failures.store(count < 0 ? 0 : count, std::memory_order_relaxed);
}

}  // namespace internal
}  // namespace sealpool
