// sealpool — the C API of the checker (see sealpool/sealpool.h).

#include <errno.h>

#include "boundscheck/check_copy.h"
#include "sealpool/sealpool.h"

namespace {

sealpool::CopyDirection DirOf(sp_copy_dir d) {
  return d == SP_COPY_WRITE ? sealpool::CopyDirection::kWrite
                            : sealpool::CopyDirection::kRead;
}

}  // namespace

extern "C" {

int sp_check_copy(const void* ptr, size_t len, sp_copy_dir dir) {
  if (dir != SP_COPY_READ && dir != SP_COPY_WRITE) return -EINVAL;
  return -static_cast<int>(sealpool::CheckCopy(ptr, len, DirOf(dir)));
}

void* sp_memcpy(void* dst, const void* src, size_t n) {
  return sealpool::CheckedMemcpy(dst, src, n);
}

void* sp_memmove(void* dst, const void* src, size_t n) {
  return sealpool::CheckedMemmove(dst, src, n);
}

void* sp_memset(void* dst, int c, size_t n) {
  return sealpool::CheckedMemset(dst, c, n);
}

void sp_refresh_images(void) { sealpool::RefreshImageTable(); }

}  // extern "C"
