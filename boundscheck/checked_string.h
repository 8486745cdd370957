// sealpool — checked string, wide-memory and format copies.
//
// The libc string functions a host uses to copy into and out of objects
// (strcpy, strncpy, stpcpy, stpncpy, strcat, strncat, mempcpy, wmemcpy,
// wmemmove, wmemset, and the sprintf family), each checked like
// CheckedMemcpy (boundscheck/check_copy.h): the range it reads with
// CheckCopy(..., kRead), the range it writes with CheckCopy(..., kWrite).
// When both are allowed the result is exactly libc's, byte for byte, and
// the return value is libc's.
//
// The ranges:
//   - a string source is read up to and including its NUL (strcpy, stpcpy,
//     strcat), or up to the NUL or `n` bytes, whichever comes first
//     (strncpy, stpncpy, strncat). Inside a pool object the search for the
//     NUL never leaves the object: a string that runs to the object's end
//     without one is an out-of-bounds read of [src, object end + 1), never
//     read further;
//   - strcpy and stpcpy write the source range's length; strncpy and
//     stpncpy write exactly n bytes (NUL padding included); strcat and
//     strncat write [dst, end of the result's NUL], the search for dst's
//     NUL bounded like a source's;
//   - a format (sprintf family) is read up to its NUL. The arguments it
//     formats are not checked ("%s" reads whatever the argument points at);
//     only the format and the destination are. sprintf/vsprintf write the
//     formatted length + 1 bytes (measured first, nothing written on a
//     refusal); snprintf/vsnprintf write min(n, length + 1) bytes (none for
//     n == 0, where dst may be null);
//   - wmem* ranges are n * sizeof(wchar_t) bytes; an n whose byte count does
//     not fit size_t is a wrapping range (bogus pointer).
//
// Refusals, in report mode (abort mode aborts): the pointer-returning
// functions return nullptr, the int-returning ones minus the violation code
// (-static_cast<int>(ViolationKind), always negative). The first refused
// range is reported; a refused source is reported before the destination
// is looked at. What is written:
//   - source refused, destination range valid (judged without a report):
//     the destination range gets zeros instead of the source's bytes —
//     strcpy/stpcpy: as many bytes as the source range the check refused;
//     strncpy/stpncpy: n bytes; strcat/strncat: from dst's NUL on, as many
//     bytes as the refused source range. A refused format leaves an empty
//     string in dst when dst can take one byte (and n > 0 for snprintf);
//   - destination refused: nothing.
// Null pointers are bogus-pointer violations (reported, never
// dereferenced), except the destination of an snprintf with n == 0.
//
// Thread safety: as CheckCopy. A source changed by another thread during
// the call is copied as far as the checked range, never further.

#ifndef SEALPOOL_BOUNDSCHECK_CHECKED_STRING_H_
#define SEALPOOL_BOUNDSCHECK_CHECKED_STRING_H_

#include <cstdarg>
#include <cstddef>
#include <cwchar>

#include "absl/base/attributes.h"

namespace sealpool {

// strcpy / stpcpy: dst, or (stpcpy) the address of the NUL written.
// strnlen(s, limit), with the bytes it reads checked like a copy's source:
// never past the end of s's pool object (a pool string without a NUL
// before the object's end is an out-of-bounds read). SIZE_MAX when the
// read is refused (reported; abort mode aborts).
size_t CheckedStrnlen(const char* s, size_t limit);

char* CheckedStrcpy(char* dst, const char* src);
char* CheckedStpcpy(char* dst, const char* src);
// strncpy / stpncpy: dst, or (stpncpy) dst + strnlen(src, n).
char* CheckedStrncpy(char* dst, const char* src, size_t n);
char* CheckedStpncpy(char* dst, const char* src, size_t n);
// strcat / strncat: dst.
char* CheckedStrcat(char* dst, const char* src);
char* CheckedStrncat(char* dst, const char* src, size_t n);
// mempcpy: dst + n.
void* CheckedMempcpy(void* dst, const void* src, size_t n);

// vsprintf / vsnprintf: the formatted length, as libc; negative when
// refused (minus the violation code) or when libc fails (its value).
int CheckedVsprintf(char* dst, const char* fmt, va_list ap)
    ABSL_PRINTF_ATTRIBUTE(2, 0);
int CheckedVsnprintf(char* dst, size_t n, const char* fmt, va_list ap)
    ABSL_PRINTF_ATTRIBUTE(3, 0);

// wmemcpy / wmemmove / wmemset: dst.
wchar_t* CheckedWmemcpy(wchar_t* dst, const wchar_t* src, size_t n);
wchar_t* CheckedWmemmove(wchar_t* dst, const wchar_t* src, size_t n);
wchar_t* CheckedWmemset(wchar_t* dst, wchar_t c, size_t n);

// The same, with the destination's compiler-known size (check_copy.h,
// CheckCopySized; SIZE_MAX: unknown): a destination range longer than
// `dst_size` is refused (object-size), and is never written or zeroed.
// vsnprintf: an n larger than dst_size is refused, whatever the formatted
// length (as glibc's __vsnprintf_chk).
char* CheckedStrcpySized(char* dst, const char* src, size_t dst_size);
char* CheckedStpcpySized(char* dst, const char* src, size_t dst_size);
char* CheckedStrncpySized(char* dst, const char* src, size_t n, size_t dst_size);
char* CheckedStpncpySized(char* dst, const char* src, size_t n, size_t dst_size);
char* CheckedStrcatSized(char* dst, const char* src, size_t dst_size);
char* CheckedStrncatSized(char* dst, const char* src, size_t n, size_t dst_size);
void* CheckedMempcpySized(void* dst, const void* src, size_t n, size_t dst_size);
int CheckedVsprintfSized(char* dst, size_t dst_size, const char* fmt, va_list ap)
    ABSL_PRINTF_ATTRIBUTE(3, 0);
int CheckedVsnprintfSized(char* dst, size_t n, size_t dst_size, const char* fmt,
                          va_list ap) ABSL_PRINTF_ATTRIBUTE(4, 0);

}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_CHECKED_STRING_H_
