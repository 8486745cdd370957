// sealpool — checked string, wide-memory and format copies: the ranges
// each libc function reads and writes, checked before it runs
// (boundscheck/checked_string.h).

#include "boundscheck/checked_string.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cwchar>

#include "absl/base/optimization.h"
#include "allocator/page_query.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"

namespace sealpool {
namespace {

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;

// The length of the string range at `s` that a libc function reading at
// most `limit` bytes touches: strnlen(s, limit) + 1 when a NUL comes first,
// else `limit`. It never reads what CheckCopy would refuse to start at (a
// null, freed or guard pointer gives 1, read nothing), and inside a pool
// object it never reads past the object's end: a string that reaches the
// end without a NUL (and before `limit`) gives the object's remaining
// bytes + 1, a range the checker then refuses as out of bounds. Outside the
// arena the search is libc's (strnlen), as unbounded as the call it checks.
size_t StringRangeOf(const char* s, size_t limit) {
  if (limit == 0) return 0;
  if (!CopyAllowed(s, 1, kRead)) return 1;
  ObjectBounds b;
  if (LookupObject(s, &b, kLookupBounds) == Lookup::kObject) {
    const size_t room = b.start + b.size - reinterpret_cast<uintptr_t>(s);
    if (limit > room) {
      const size_t len = strnlen(s, room);
      return len < room ? len + 1 : room + 1;
    }
  }
  const size_t len = strnlen(s, limit);
  return len < limit ? len + 1 : limit;
}

// True when the first `range` bytes at `s` (a range StringRangeOf() gave and
// CheckCopy() allowed) end with the string's NUL.
bool EndsWithNul(const char* s, size_t range) {
  return range != 0 && s[range - 1] == '\0';
}

// The zeroing rule for a copy refused because of its source: the
// destination range gets zeros when CheckCopy would allow writing all of
// it (asked without a report); otherwise nothing is written.
// `dst_size`: the destination's compiler-known size (SIZE_MAX: unknown),
// here and below.
void ZeroIfWritable(void* dst, size_t n, size_t dst_size) {
  if (n != 0 && CopyAllowedSized(dst, n, kWrite, dst_size)) std::memset(dst, 0, n);
}

int Refused(ViolationKind v) { return -static_cast<int>(v); }

// strcpy and stpcpy: checks and copies; the length copied (NUL included),
// or 0 when refused.
size_t CopyString(char* dst, const char* src, size_t dst_size) {
  const size_t range = StringRangeOf(src, SIZE_MAX);
  if (ABSL_PREDICT_FALSE(CheckCopy(src, range, kRead) != ViolationKind::kNone)) {
    ZeroIfWritable(dst, range, dst_size);
    return 0;
  }
  if (ABSL_PREDICT_FALSE(CheckCopySized(dst, range, kWrite, dst_size) !=
                         ViolationKind::kNone)) {
    return 0;
  }
  std::memcpy(dst, src, range);
  return range;
}

// strncpy and stpncpy: checks and copies; the length of the source range,
// or SIZE_MAX when refused.
size_t CopyStringN(char* dst, const char* src, size_t n, size_t dst_size) {
  const size_t range = StringRangeOf(src, n);
  if (ABSL_PREDICT_FALSE(CheckCopy(src, range, kRead) != ViolationKind::kNone)) {
    ZeroIfWritable(dst, n, dst_size);
    return SIZE_MAX;
  }
  if (ABSL_PREDICT_FALSE(CheckCopySized(dst, n, kWrite, dst_size) !=
                         ViolationKind::kNone)) {
    return SIZE_MAX;
  }
  if (n != 0) {
    std::memcpy(dst, src, range);
    std::memset(dst + range, 0, n - range);
  }
  return range;
}

// strcat and strncat: appends the first `limit` bytes of src's string range
// (bounded by its NUL) to dst, checked; false when refused.
bool AppendString(char* dst, const char* src, size_t limit, size_t dst_size) {
  // dst's own string, searched like a source: strlen(dst) + 1 bytes.
  const size_t dst_range = StringRangeOf(dst, SIZE_MAX);
  char* const end = dst + (dst_range - 1);  // where the append starts
  const size_t range = StringRangeOf(src, limit);
  if (ABSL_PREDICT_FALSE(CheckCopy(src, range, kRead) != ViolationKind::kNone)) {
    // The bytes that would have received the source's: from dst's NUL on.
    if (CopyAllowedSized(dst, dst_range - 1 + range, kWrite, dst_size)) {
      std::memset(end, 0, range);
    }
    return false;
  }
  const size_t chars = EndsWithNul(src, range) ? range - 1 : range;
  // [dst, the result's NUL]: dst's string, the appended bytes, one NUL.
  if (ABSL_PREDICT_FALSE(CheckCopySized(dst, dst_range + chars, kWrite,
                                        dst_size) != ViolationKind::kNone)) {
    return false;
  }
  if (chars != 0) std::memcpy(end, src, chars);
  end[chars] = '\0';
  return true;
}

// The sprintf family's format: checked like a string source; kNone, or the
// violation (report mode). On a refusal dst gets an empty string when it
// can take one byte (room != 0).
ViolationKind CheckFormat(char* dst, size_t room, const char* fmt,
                          size_t dst_size) {
  const size_t range = StringRangeOf(fmt, SIZE_MAX);
  const ViolationKind v = CheckCopy(fmt, range, kRead);
  if (ABSL_PREDICT_FALSE(v != ViolationKind::kNone) && room != 0) {
    ZeroIfWritable(dst, 1, dst_size);
  }
  return v;
}

// wmem*: n wide characters as bytes; SIZE_MAX (a wrapping range) when the
// byte count does not fit.
size_t WideBytes(size_t n) {
  return n > SIZE_MAX / sizeof(wchar_t) ? SIZE_MAX : n * sizeof(wchar_t);
}

}  // namespace

size_t CheckedStrnlen(const char* s, size_t limit) {
  const size_t range = StringRangeOf(s, limit);
  if (ABSL_PREDICT_FALSE(CheckCopy(s, range, kRead) != ViolationKind::kNone)) {
    return SIZE_MAX;
  }
  return EndsWithNul(s, range) ? range - 1 : range;
}

char* CheckedStrcpySized(char* dst, const char* src, size_t dst_size) {
  return CopyString(dst, src, dst_size) != 0 ? dst : nullptr;
}

char* CheckedStpcpySized(char* dst, const char* src, size_t dst_size) {
  const size_t copied = CopyString(dst, src, dst_size);
  return copied != 0 ? dst + copied - 1 : nullptr;
}

char* CheckedStrncpySized(char* dst, const char* src, size_t n, size_t dst_size) {
  return CopyStringN(dst, src, n, dst_size) != SIZE_MAX ? dst : nullptr;
}

char* CheckedStpncpySized(char* dst, const char* src, size_t n, size_t dst_size) {
  const size_t range = CopyStringN(dst, src, n, dst_size);
  if (range == SIZE_MAX) return nullptr;
  // strnlen(src, n): the NUL's offset, or n.
  return EndsWithNul(dst, range) ? dst + range - 1 : dst + n;
}

char* CheckedStrcatSized(char* dst, const char* src, size_t dst_size) {
  return AppendString(dst, src, SIZE_MAX, dst_size) ? dst : nullptr;
}

char* CheckedStrncatSized(char* dst, const char* src, size_t n, size_t dst_size) {
  return AppendString(dst, src, n, dst_size) ? dst : nullptr;
}

void* CheckedMempcpySized(void* dst, const void* src, size_t n, size_t dst_size) {
  void* const r = CheckedMemcpySized(dst, src, n, dst_size);
  return r != nullptr ? static_cast<char*>(r) + n : nullptr;
}

int CheckedVsprintfSized(char* dst, size_t dst_size, const char* fmt, va_list ap) {
  const ViolationKind format = CheckFormat(dst, 1, fmt, dst_size);
  if (ABSL_PREDICT_FALSE(format != ViolationKind::kNone)) return Refused(format);
  va_list measure;
  va_copy(measure, ap);
  const int len = std::vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  if (len < 0) return len;
  const size_t range = static_cast<size_t>(len) + 1;
  const ViolationKind v = CheckCopySized(dst, range, kWrite, dst_size);
  if (ABSL_PREDICT_FALSE(v != ViolationKind::kNone)) return Refused(v);
  return std::vsnprintf(dst, range, fmt, ap);
}

// n larger than the destination is refused as glibc's __vsnprintf_chk
// does, whatever the formatted length.
int CheckedVsnprintfSized(char* dst, size_t n, size_t dst_size, const char* fmt,
                          va_list ap) {
  const ViolationKind format = CheckFormat(dst, n, fmt, dst_size);
  if (ABSL_PREDICT_FALSE(format != ViolationKind::kNone)) return Refused(format);
  if (ABSL_PREDICT_FALSE(n > dst_size)) {
    return Refused(CheckCopySized(dst, n, kWrite, dst_size));
  }
  if (n == 0 || CopyAllowed(dst, n, kWrite)) {
    // All of [dst, dst+n) may be written: one pass, exactly libc.
    return std::vsnprintf(dst, n, fmt, ap);
  }
  va_list measure;
  va_copy(measure, ap);
  const int len = std::vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  if (len < 0) return len;
  const size_t range =
      static_cast<size_t>(len) < n ? static_cast<size_t>(len) + 1 : n;
  const ViolationKind v = CheckCopy(dst, range, kWrite);
  if (ABSL_PREDICT_FALSE(v != ViolationKind::kNone)) return Refused(v);
  return std::vsnprintf(dst, range, fmt, ap);
}

char* CheckedStrcpy(char* dst, const char* src) {
  return CheckedStrcpySized(dst, src, SIZE_MAX);
}
char* CheckedStpcpy(char* dst, const char* src) {
  return CheckedStpcpySized(dst, src, SIZE_MAX);
}
char* CheckedStrncpy(char* dst, const char* src, size_t n) {
  return CheckedStrncpySized(dst, src, n, SIZE_MAX);
}
char* CheckedStpncpy(char* dst, const char* src, size_t n) {
  return CheckedStpncpySized(dst, src, n, SIZE_MAX);
}
char* CheckedStrcat(char* dst, const char* src) {
  return CheckedStrcatSized(dst, src, SIZE_MAX);
}
char* CheckedStrncat(char* dst, const char* src, size_t n) {
  return CheckedStrncatSized(dst, src, n, SIZE_MAX);
}
void* CheckedMempcpy(void* dst, const void* src, size_t n) {
  return CheckedMempcpySized(dst, src, n, SIZE_MAX);
}
int CheckedVsprintf(char* dst, const char* fmt, va_list ap) {
  return CheckedVsprintfSized(dst, SIZE_MAX, fmt, ap);
}
int CheckedVsnprintf(char* dst, size_t n, const char* fmt, va_list ap) {
  return CheckedVsnprintfSized(dst, n, SIZE_MAX, fmt, ap);
}

wchar_t* CheckedWmemcpy(wchar_t* dst, const wchar_t* src, size_t n) {
  return static_cast<wchar_t*>(CheckedMemcpy(dst, src, WideBytes(n)));
}

wchar_t* CheckedWmemmove(wchar_t* dst, const wchar_t* src, size_t n) {
  return static_cast<wchar_t*>(CheckedMemmove(dst, src, WideBytes(n)));
}

wchar_t* CheckedWmemset(wchar_t* dst, wchar_t c, size_t n) {
  if (CheckCopy(dst, WideBytes(n), kWrite) != ViolationKind::kNone) {
    return nullptr;
  }
  return n != 0 ? std::wmemset(dst, c, n) : dst;
}

}  // namespace sealpool
