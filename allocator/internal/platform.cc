// sealpool — operating-system primitives (Linux).

#include "allocator/internal/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "allocator/internal/check.h"
#include "allocator/internal/mutex.h"

namespace sealpool {
namespace internal {
namespace {

// Values from Linux 6.13's uapi <asm-generic/mman-common.h>; Debian 12's
// headers predate them.
constexpr int kMadvGuardInstall = 102;
constexpr int kMadvGuardRemove = 103;

std::atomic<int> injected_failures{0};
std::atomic<int> injected_seal_failures{0};
std::atomic<int> injected_move_failures{0};

// mseal(2) is syscall 462 on every architecture; glibc 2.36 has no wrapper.
constexpr long kSysMseal = 462;

// 1 = madvise guards work, 0 = they do not, -1 = not probed yet.
std::atomic<int> madvise_guards{-1};

// membarrier(2) commands (<linux/membarrier.h>); glibc has no wrapper.
constexpr int kMembarrierPrivateExpedited = 1 << 3;
constexpr int kMembarrierRegisterPrivateExpedited = 1 << 4;
// 1 = registered, 0 = unavailable, -1 = not tried yet.
std::atomic<int> membarrier_state{-1};

// The write-rare protection key: -2 = not tried yet, -1 = none.
std::atomic<int> write_rare_key{-2};
std::atomic<bool> keys_disabled{false};

// Every memory system call goes through these, so that they are counted.
struct Counters {
  std::atomic<uint64_t> mmap{0}, mremap{0}, munmap{0}, mprotect{0}, madvise{0},
      mseal{0}, membarrier{0}, other{0};
};
Counters counters;

void Count(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

void* Mmap(void* addr, size_t size, int prot, int flags, int fd, off_t off) {
  Count(counters.mmap);
  return mmap(addr, size, prot, flags, fd, off);
}
void* Mremap(void* old_addr, size_t old_size, size_t new_size, int flags,
             void* new_addr) {
  Count(counters.mremap);
  return mremap(old_addr, old_size, new_size, flags, new_addr);
}
int Munmap(void* addr, size_t size) {
  Count(counters.munmap);
  return munmap(addr, size);
}
int Mprotect(void* addr, size_t size, int prot) {
  Count(counters.mprotect);
  return mprotect(addr, size, prot);
}
int Madvise(void* addr, size_t size, int advice) {
  Count(counters.madvise);
  return madvise(addr, size, advice);
}

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
  void* p = Mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  const bool ok = Madvise(p, kPageSize, kMadvGuardInstall) == 0;
  Munmap(p, kPageSize);
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
  void* p = Mmap(nullptr, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

namespace {

// A PROT_NONE, MAP_NORESERVE reservation of `size` bytes at a random,
// `align`-aligned address in [lo, lo + span): up to `tries` random spots,
// then the kernel's own choice. The spot is a plain hint, not
// MAP_FIXED_NOREPLACE: a sanitizer's mmap may drop a hint it dislikes to
// address 0 while keeping the flags, and a fixed mapping at 0 would then
// really be made (as root). A mapping that did not land on its hint is
// given back and the next spot tried.
void* ReserveAtRandomHint(size_t size, uintptr_t lo, uintptr_t span,
                          uintptr_t align, int tries) {
  constexpr int kFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  for (int attempt = 0; attempt < tries; ++attempt) {
    uint64_t r = 0;
    GetRandomBytes(&r, sizeof(r));
    const uintptr_t hint = (lo + (r % span)) & ~(align - 1);
    void* p = Mmap(reinterpret_cast<void*>(hint), size, PROT_NONE, kFlags, -1, 0);
    if (p == MAP_FAILED) continue;
    if (reinterpret_cast<uintptr_t>(p) == hint) return p;
    Munmap(p, size);
  }
  void* p = Mmap(nullptr, size, PROT_NONE, kFlags, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

void* ReserveAddressSpaceRandom(size_t size) {
  if (InjectedFailure()) return nullptr;
  // [32 TiB, 96 TiB): clear of the executable, the heap and the mmap
  // area's usual places; 64 KiB steps (2^30 choices).
  return ReserveAtRandomHint(size, uintptr_t{0x200000000000},
                             uintptr_t{0x400000000000}, 0x10000, 16);
}

void ReleaseAddressSpace(void* addr, size_t size) { Munmap(addr, size); }

bool CommitPages(void* addr, size_t size) {
  if (InjectedFailure()) return false;
  return Mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

bool DecommitPages(void* addr, size_t size) {
  void* p = Mmap(addr, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
                 0);
  return p != MAP_FAILED;
}

// Guard markers are tried first; a mapping that does not take them (older
// kernels refuse shared file mappings) falls back to PROT_NONE.
bool InstallGuard(void* addr, size_t size, bool* prot_none) {
  if (GuardsUseMadvise() && Madvise(addr, size, kMadvGuardInstall) == 0) {
    return true;
  }
  if (Mprotect(addr, size, PROT_NONE) != 0) return false;
  Madvise(addr, size, MADV_DONTNEED);
  if (prot_none != nullptr) *prot_none = true;
  return true;
}

bool RemoveGuard(void* addr, size_t size, bool prot_none) {
  if (InjectedFailure()) return false;
  if (GuardsUseMadvise()) {
    const bool removed = Madvise(addr, size, kMadvGuardRemove) == 0;
    if (removed && !prot_none) return true;
  }
  // Also undoes a PROT_NONE fallback guard; a no-op for marker guards.
  return Mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

bool ProtectReadOnly(void* addr, size_t size) {
  return Mprotect(addr, size, PROT_READ) == 0;
}

int SealMappings(void* addr, size_t size) {
  if (Consume(injected_seal_failures)) return -ENOSYS;
  Count(counters.mseal);
  if (syscall(kSysMseal, addr, size, 0UL) == 0) return 0;
  return -errno;
}

namespace {

int NewMemfd(const char* name) {
  Count(counters.other);
  return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

void CloseFd(int fd) {
  Count(counters.other);
  close(fd);
}

// A PROT_NONE reservation of `size` bytes at a random page in the middle
// of the user address space, so that an alias's address cannot be
// predicted from earlier mappings; the kernel's own choice if that spot is
// taken. nullptr on failure.
void* ReserveAtRandom(size_t size) {
  return ReserveAtRandomHint(size, uintptr_t{0x100000000000},
                             uintptr_t{0x400000000000}, kPageSize, 1);
}

// Duplicates the shared pages [src, src+size) onto a random reservation
// (mremap with old size 0 and MREMAP_FIXED, which replaces the
// reservation); the duplicate has the protection of the mapping at `src`.
// nullptr on failure (EPERM when `src` is mseal()ed).
void* DuplicateAtRandom(const void* src, size_t size) {
  void* r = ReserveAtRandom(size);
  if (r == nullptr) return nullptr;
  void* p = Mremap(const_cast<void*>(src), 0, size,
                   MREMAP_MAYMOVE | MREMAP_FIXED, r);
  if (p == MAP_FAILED) {
    // The reservation is either still there (the checks of `src` come
    // first) or already replaced by nothing: unmapping it is right both
    // ways.
    const int saved = errno;
    Munmap(r, size);
    errno = saved;
    return nullptr;
  }
  return p;
}

}  // namespace

bool CanCreateMemfd(const char* name) {
  if (InjectedFailure()) return false;
  const int fd = NewMemfd(name);
  if (fd < 0) return false;
  CloseFd(fd);
  return true;
}

bool MapSharedMemory(void* addr, size_t size, const char* name) {
  if (InjectedFailure()) return false;
  const int fd = NewMemfd(name);
  if (fd < 0) return false;
  bool ok = false;
  Count(counters.other);
  if (ftruncate(fd, static_cast<off_t>(size)) == 0) {
    ok = Mmap(addr, size, PROT_NONE, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED &&
         DontFork(addr, size);
    // A failed MAP_FIXED may have unmapped the range: reserve it again.
    if (!ok) DecommitPages(addr, size);
  }
  if (ok) {
    // Best effort (F_SEAL_FUTURE_WRITE needs Linux 5.1): the mapping made
    // above keeps its right to become writable; nothing else gets one.
    Count(counters.other);
    (void)fcntl(fd, F_ADD_SEALS,
                F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
  }
  CloseFd(fd);
  return ok;
}

void* MapAlias(const void* src, size_t size) {
  if (InjectedFailure()) return nullptr;
  void* p = DuplicateAtRandom(src, size);
  if (p == nullptr) return nullptr;
  if (Mprotect(p, size, PROT_READ | PROT_WRITE) != 0) {
    Munmap(p, size);
    return nullptr;
  }
  return p;
}

void* DuplicateShared(const void* src, size_t size) {
  if (InjectedFailure()) return nullptr;
  void* p = DuplicateAtRandom(src, size);
  if (p != nullptr && !DontFork(p, size)) {
    Munmap(p, size);
    return nullptr;
  }
  return p;
}

void UnmapAlias(void* addr, size_t size) { Munmap(addr, size); }

bool DontFork(void* addr, size_t size) {
  return Madvise(addr, size, MADV_DONTFORK) == 0;
}

namespace {

void* MapEmpty(void* addr, size_t size, int fixed) {
  return Mmap(addr, size, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
}

}  // namespace

bool MovePages(void* src, size_t size, void* dst, size_t dst_size) {
  // A growing move is refused (EFAULT) when the source is more than one
  // mapping; since Linux 6.17 an equal-size move may span several and stop
  // halfway, which the recovery below would turn into lost pages.
  SEALPOOL_CHECK(dst_size > size, "a page move must grow its range");
  const bool injected = Consume(injected_move_failures);
  void* p = injected ? MAP_FAILED
                     : Mremap(src, size, dst_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  if (p == MAP_FAILED) {
    // The kernel may have unmapped the destination before it failed: it is
    // mapped again at once. It is the caller's range of the arena, where no
    // mapping but the arena's is placed, so MAP_FIXED replaces nothing else.
    SEALPOOL_CHECK(MapEmpty(dst, dst_size, MAP_FIXED) != MAP_FAILED,
                   "could not map an object's pages again after a failed page move");
    return false;
  }
  SEALPOOL_CHECK(MapEmpty(src, size, MAP_FIXED_NOREPLACE) == src,
                 "could not map the arena again where a page move left a gap");
  return true;
}

bool RenewPages(void* addr, size_t size) {
  return MapEmpty(addr, size, MAP_FIXED) != MAP_FAILED;
}

void DiscardPages(void* addr, size_t size) {
  Madvise(addr, size, MADV_DONTNEED);
}

bool ProtectReadWrite(void* addr, size_t size) {
  return Mprotect(addr, size, PROT_READ | PROT_WRITE) == 0;
}

bool ProcessWideBarrier() {
  int state = membarrier_state.load(std::memory_order_acquire);
  if (state < 0) {
    Count(counters.membarrier);
    state = syscall(SYS_membarrier, kMembarrierRegisterPrivateExpedited, 0, 0) == 0
                ? 1
                : 0;
    membarrier_state.store(state, std::memory_order_release);
  }
  if (state == 0) return false;
  Count(counters.membarrier);
  if (syscall(SYS_membarrier, kMembarrierPrivateExpedited, 0, 0) == 0) return true;
  // A fork child's address space starts unregistered: register it, once.
  if (errno != EPERM) return false;
  Count(counters.membarrier);
  if (syscall(SYS_membarrier, kMembarrierRegisterPrivateExpedited, 0, 0) != 0) {
    return false;
  }
  Count(counters.membarrier);
  return syscall(SYS_membarrier, kMembarrierPrivateExpedited, 0, 0) == 0;
}

namespace {

// The number of threads of this process, from /proc/self/stat (field 20),
// read without allocating; 0 if unknown.
long ThreadCount() {
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  // Field 2 (the command) is in parentheses and may hold spaces: count
  // fields from the last ')'.
  const char* p = strrchr(buf, ')');
  if (p == nullptr) return 0;
  int field = 2;
  for (; *p != '\0' && field < 20; ++p) {
    if (*p == ' ') ++field;
  }
  return strtol(p, nullptr, 10);
}

int AllocateWriteRareKey() {
  if (ThreadCount() != 1) return -1;
  Count(counters.other);
  return pkey_alloc(0, PKEY_DISABLE_WRITE);
}

}  // namespace

int WriteRareKey() {
  if (keys_disabled.load(std::memory_order_relaxed)) return -1;
  int key = write_rare_key.load(std::memory_order_acquire);
  if (key == -2) {
    static Mutex mu;
    MutexLock l(&mu);
    key = write_rare_key.load(std::memory_order_relaxed);
    if (key == -2) {
      key = AllocateWriteRareKey();
      if (key < 0) key = -1;
      write_rare_key.store(key, std::memory_order_release);
    }
  }
  return key;
}

bool ProtectWithKey(void* addr, size_t size, int key) {
  Count(counters.mprotect);
  return pkey_mprotect(addr, size, PROT_READ | PROT_WRITE, key) == 0;
}

void SetKeyWritable(int key, bool writable) {
  pkey_set(key, writable ? 0 : PKEY_DISABLE_WRITE);
}

bool ProtectionKeyDecided() {
  return write_rare_key.load(std::memory_order_acquire) != -2;
}

void SetProtectionKeysDisabled(bool disabled) {
  keys_disabled.store(disabled, std::memory_order_relaxed);
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

void SetInjectedMoveFailures(int count) {
  injected_move_failures.store(count < 0 ? 0 : count, std::memory_order_relaxed);
}

void SetInjectedMapFailures(int count) {
  injected_failures.store(count < 0 ? 0 : count, std::memory_order_relaxed);
}

}  // namespace internal

KernelCallCounts GetKernelCallCounts() {
  using internal::counters;
  KernelCallCounts c;
  c.mmap = counters.mmap.load(std::memory_order_relaxed);
  c.mremap = counters.mremap.load(std::memory_order_relaxed);
  c.munmap = counters.munmap.load(std::memory_order_relaxed);
  c.mprotect = counters.mprotect.load(std::memory_order_relaxed);
  c.madvise = counters.madvise.load(std::memory_order_relaxed);
  c.mseal = counters.mseal.load(std::memory_order_relaxed);
  c.membarrier = counters.membarrier.load(std::memory_order_relaxed);
  c.other = counters.other.load(std::memory_order_relaxed);
  return c;
}

}  // namespace sealpool
