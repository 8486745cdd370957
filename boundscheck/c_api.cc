// sealpool — the C API of the checker (see sealpool/sealpool.h).

#include <errno.h>

#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <cwchar>

#include "boundscheck/check_copy.h"
#include "boundscheck/checked_string.h"
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

void* sp_mempcpy(void* dst, const void* src, size_t n) {
  return sealpool::CheckedMempcpy(dst, src, n);
}

char* sp_strcpy(char* dst, const char* src) {
  return sealpool::CheckedStrcpy(dst, src);
}

char* sp_strncpy(char* dst, const char* src, size_t n) {
  return sealpool::CheckedStrncpy(dst, src, n);
}

char* sp_stpcpy(char* dst, const char* src) {
  return sealpool::CheckedStpcpy(dst, src);
}

char* sp_stpncpy(char* dst, const char* src, size_t n) {
  return sealpool::CheckedStpncpy(dst, src, n);
}

char* sp_strcat(char* dst, const char* src) {
  return sealpool::CheckedStrcat(dst, src);
}

char* sp_strncat(char* dst, const char* src, size_t n) {
  return sealpool::CheckedStrncat(dst, src, n);
}

int sp_vsprintf(char* dst, const char* fmt, va_list ap) {
  return sealpool::CheckedVsprintf(dst, fmt, ap);
}

int sp_vsnprintf(char* dst, size_t n, const char* fmt, va_list ap) {
  return sealpool::CheckedVsnprintf(dst, n, fmt, ap);
}

int sp_sprintf(char* dst, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = sealpool::CheckedVsprintf(dst, fmt, ap);
  va_end(ap);
  return r;
}

int sp_snprintf(char* dst, size_t n, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int r = sealpool::CheckedVsnprintf(dst, n, fmt, ap);
  va_end(ap);
  return r;
}

wchar_t* sp_wmemcpy(wchar_t* dst, const wchar_t* src, size_t n) {
  return sealpool::CheckedWmemcpy(dst, src, n);
}

wchar_t* sp_wmemmove(wchar_t* dst, const wchar_t* src, size_t n) {
  return sealpool::CheckedWmemmove(dst, src, n);
}

wchar_t* sp_wmemset(wchar_t* dst, wchar_t c, size_t n) {
  return sealpool::CheckedWmemset(dst, c, n);
}

int sp_check_copy_sized(const void* ptr, size_t len, sp_copy_dir dir,
                        size_t size) {
  if (dir != SP_COPY_READ && dir != SP_COPY_WRITE) return -EINVAL;
  return -static_cast<int>(sealpool::CheckCopySized(ptr, len, DirOf(dir), size));
}

void* sp_memcpy_sized(void* dst, const void* src, size_t n, size_t dst_size) {
  return sealpool::CheckedMemcpySized(dst, src, n, dst_size);
}

void* sp_memmove_sized(void* dst, const void* src, size_t n, size_t dst_size) {
  return sealpool::CheckedMemmoveSized(dst, src, n, dst_size);
}

void* sp_memset_sized(void* dst, int c, size_t n, size_t dst_size) {
  return sealpool::CheckedMemsetSized(dst, c, n, dst_size);
}

void* sp_mempcpy_sized(void* dst, const void* src, size_t n, size_t dst_size) {
  return sealpool::CheckedMempcpySized(dst, src, n, dst_size);
}

char* sp_strcpy_sized(char* dst, const char* src, size_t dst_size) {
  return sealpool::CheckedStrcpySized(dst, src, dst_size);
}

char* sp_stpcpy_sized(char* dst, const char* src, size_t dst_size) {
  return sealpool::CheckedStpcpySized(dst, src, dst_size);
}

char* sp_strncpy_sized(char* dst, const char* src, size_t n, size_t dst_size) {
  return sealpool::CheckedStrncpySized(dst, src, n, dst_size);
}

char* sp_stpncpy_sized(char* dst, const char* src, size_t n, size_t dst_size) {
  return sealpool::CheckedStpncpySized(dst, src, n, dst_size);
}

char* sp_strcat_sized(char* dst, const char* src, size_t dst_size) {
  return sealpool::CheckedStrcatSized(dst, src, dst_size);
}

char* sp_strncat_sized(char* dst, const char* src, size_t n, size_t dst_size) {
  return sealpool::CheckedStrncatSized(dst, src, n, dst_size);
}

int sp_vsprintf_sized(char* dst, size_t dst_size, const char* fmt, va_list ap) {
  return sealpool::CheckedVsprintfSized(dst, dst_size, fmt, ap);
}

int sp_vsnprintf_sized(char* dst, size_t n, size_t dst_size, const char* fmt,
                       va_list ap) {
  return sealpool::CheckedVsnprintfSized(dst, n, dst_size, fmt, ap);
}

// strdup and strndup: the source is read as a checked copy's would be
// (never past its pool object), so that a copy cannot carry a neighbour's
// bytes or a canary out of the heap.
char* sp_strndup(sp_pool* pool, const char* s, size_t n) {
  if (pool == nullptr || s == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  const size_t len = sealpool::CheckedStrnlen(s, n);
  if (len == SIZE_MAX) {
    errno = EFAULT;
    return nullptr;
  }
  char* c = static_cast<char*>(sp_alloc(pool, len + 1));
  if (c == nullptr) return nullptr;
  std::memcpy(c, s, len);
  c[len] = '\0';
  return c;
}

char* sp_strdup(sp_pool* pool, const char* s) { return sp_strndup(pool, s, SIZE_MAX); }

void sp_refresh_images(void) { sealpool::RefreshImageTable(); }

}  // extern "C"
