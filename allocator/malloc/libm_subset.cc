// sealpool — the three libm functions the library's own code calls
// (Abseil's number parsing and formatting: frexp, nan, nanf), defined here
// so that libsealpool_malloc.so does not need libm.so.6: a preloaded
// malloc should bring no shared object into a program beyond libc. They
// are not exported (malloc.map): the program's calls still reach libm.
//
// frexp splits the IEEE-754 encoding; nan and nanf are, as C defines
// them, strtod("NAN(tag)") and strtof("NAN(tag)"), which libc provides.

#include <stdint.h>
#include <stdlib.h>

extern "C" {

double frexp(double x, int* e) {
  uint64_t b;
  __builtin_memcpy(&b, &x, sizeof b);
  int ex = static_cast<int>((b >> 52) & 0x7ff);
  int bias = 1022;
  if (ex == 0x7ff || (b << 1) == 0) {  // infinity, NaN, zero: x itself
    *e = 0;
    return x;
  }
  if (ex == 0) {  // subnormal: scale into the normal range first
    x *= 0x1p64;
    __builtin_memcpy(&b, &x, sizeof b);
    ex = static_cast<int>((b >> 52) & 0x7ff);
    bias += 64;
  }
  *e = ex - bias;
  b = (b & ~(uint64_t{0x7ff} << 52)) | (uint64_t{1022} << 52);
  __builtin_memcpy(&x, &b, sizeof x);
  return x;
}

namespace {

// "NAN(" tag ")" in buf; false when it does not fit (then no payload).
bool NanText(const char* tag, char* buf, size_t size) {
  const char head[] = "NAN(";
  size_t n = 0;
  for (const char* h = head; *h != '\0'; ++h) buf[n++] = *h;
  for (const char* t = tag; t != nullptr && *t != '\0'; ++t) {
    if (n + 2 >= size) return false;
    buf[n++] = *t;
  }
  buf[n++] = ')';
  buf[n] = '\0';
  return true;
}

}  // namespace

double nan(const char* tag) {
  char buf[128];
  return NanText(tag, buf, sizeof buf) ? strtod(buf, nullptr) : __builtin_nan("");
}

float nanf(const char* tag) {
  char buf[128];
  return NanText(tag, buf, sizeof buf) ? strtof(buf, nullptr) : __builtin_nanf("");
}

}  // extern "C"
