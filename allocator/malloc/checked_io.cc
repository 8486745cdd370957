// sealpool — whole-program mode: I/O, the usercopy boundary.
//
// Data flowing in (read, recv, fread, fgets) must land in one object:
// the whole buffer the call is given is checked as a write, as the kernel
// checks copy_to_user's range, whatever the call then returns. Data
// flowing out (write, send, fwrite) must come from one object, so that a
// heap over-read (Heartbleed's) never reaches a file or a socket. Vectored
// calls check every element. A refused call does not reach the kernel.

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "allocator/malloc/interpose.h"
#include "allocator/malloc/real_libc.h"

// glibc declares read's buffer write-only (an access attribute): passing it
// on to the checker, which takes a const pointer and only compares it,
// looks to GCC like a read of uninitialized memory.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace sealpool {
namespace malloc_internal {

bool IovecAllowed(const struct iovec* v, int n, CopyDirection dir) {
  if (v == nullptr || n <= 0) return true;  // libc reports EINVAL/EFAULT
  if (!Allowed(v, sizeof(*v) * static_cast<size_t>(n), CopyDirection::kRead)) {
    return false;
  }
  for (int i = 0; i < n; ++i) {
    if (!Allowed(v[i].iov_base, v[i].iov_len, dir)) return false;
  }
  return true;
}

bool MsgAllowed(const struct msghdr* m, CopyDirection dir) {
  if (m == nullptr) return true;
  if (!Allowed(m, sizeof(*m), CopyDirection::kRead)) return false;
  if (m->msg_iovlen > static_cast<size_t>(INT32_MAX)) return true;
  if (!IovecAllowed(m->msg_iov, static_cast<int>(m->msg_iovlen), dir)) return false;
  return Allowed(m->msg_control, m->msg_controllen, dir);
}

}  // namespace malloc_internal
}  // namespace sealpool

namespace mi = sealpool::malloc_internal;
using sealpool::CopyDirection;

namespace {

constexpr CopyDirection kIn = CopyDirection::kWrite;   // into the buffer
constexpr CopyDirection kOut = CopyDirection::kRead;   // out of the buffer

ssize_t Refused() {
  errno = EFAULT;
  return -1;
}

// size * n bytes, or SIZE_MAX when that overflows (refused in the heap).
size_t Product(size_t size, size_t n) {
  size_t bytes;
  return __builtin_mul_overflow(size, n, &bytes) ? SIZE_MAX : bytes;
}

}  // namespace

extern "C" {

ssize_t read(int fd, void* buf, size_t n) {
  if (!mi::Allowed(buf, n, kIn)) return Refused();
  return SEALPOOL_REAL(read)(fd, buf, n);
}

ssize_t pread(int fd, void* buf, size_t n, off_t off) {
  if (!mi::Allowed(buf, n, kIn)) return Refused();
  return SEALPOOL_REAL(pread)(fd, buf, n, off);
}

ssize_t pread64(int fd, void* buf, size_t n, off_t off) {
  if (!mi::Allowed(buf, n, kIn)) return Refused();
  return SEALPOOL_REAL(pread)(fd, buf, n, off);
}

ssize_t readv(int fd, const struct iovec* v, int n) {
  if (!mi::IovecAllowed(v, n, kIn)) return Refused();
  return SEALPOOL_REAL(readv)(fd, v, n);
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
  if (!mi::Allowed(buf, n, kIn)) return Refused();
  return SEALPOOL_REAL(recv)(fd, buf, n, flags);
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* addr,
                 socklen_t* addrlen) {
  if (!mi::Allowed(buf, n, kIn)) return Refused();
  return SEALPOOL_REAL(recvfrom)(fd, buf, n, flags, addr, addrlen);
}

ssize_t recvmsg(int fd, struct msghdr* m, int flags) {
  if (!mi::MsgAllowed(m, kIn)) return Refused();
  return SEALPOOL_REAL(recvmsg)(fd, m, flags);
}

ssize_t write(int fd, const void* buf, size_t n) {
  if (!mi::Allowed(buf, n, kOut)) return Refused();
  return SEALPOOL_REAL(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  if (!mi::Allowed(buf, n, kOut)) return Refused();
  return SEALPOOL_REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  if (!mi::Allowed(buf, n, kOut)) return Refused();
  return SEALPOOL_REAL(pwrite)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec* v, int n) {
  if (!mi::IovecAllowed(v, n, kOut)) return Refused();
  return SEALPOOL_REAL(writev)(fd, v, n);
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
  if (!mi::Allowed(buf, n, kOut)) return Refused();
  return SEALPOOL_REAL(send)(fd, buf, n, flags);
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags,
               const struct sockaddr* addr, socklen_t addrlen) {
  if (!mi::Allowed(buf, n, kOut)) return Refused();
  return SEALPOOL_REAL(sendto)(fd, buf, n, flags, addr, addrlen);
}

ssize_t sendmsg(int fd, const struct msghdr* m, int flags) {
  if (!mi::MsgAllowed(m, kOut)) return Refused();
  return SEALPOOL_REAL(sendmsg)(fd, m, flags);
}

size_t fread(void* buf, size_t size, size_t n, FILE* fp) {
  if (!mi::Allowed(buf, Product(size, n), kIn)) {
    errno = EFAULT;
    return 0;
  }
  return SEALPOOL_REAL(fread)(buf, size, n, fp);
}

size_t fwrite(const void* buf, size_t size, size_t n, FILE* fp) {
  if (!mi::Allowed(buf, Product(size, n), kOut)) {
    errno = EFAULT;
    return 0;
  }
  return SEALPOOL_REAL(fwrite)(buf, size, n, fp);
}

char* fgets(char* buf, int n, FILE* fp) {
  if (n > 0 && !mi::Allowed(buf, static_cast<size_t>(n), kIn)) {
    errno = EFAULT;
    return nullptr;
  }
  return SEALPOOL_REAL(fgets)(buf, n, fp);
}

}  // extern "C"
