// sealpool — hardened usercopy for user space: check_copy and checked
// copies.
//
// CheckCopy(ptr, len, dir) asks the kernel's usercopy question before a
// copy: is [ptr, ptr+len) inside one live pool object (and inside its
// pool's usercopy window), off guard and metadata pages, off freed slots,
// and — for writes — off sealed memory? Outside the arena it checks the
// calling thread's stack and the program's read-only segments. The rules,
// in order (README, "check_copy rules"):
//   1. len == 0: allowed.
//   2. null or first-page pointer, or a wrapping range: bogus pointer.
//   3. arena memory: guard, metadata or unused page; outside the object's
//      requested bytes (slack and redzones included); outside the usercopy
//      window; a free slot (use after free); a write into sealed memory.
//   4. elsewhere: partly on the thread's stack, or in a dead frame below
//      the checker; on the stack, reaching the saved registers and return
//      address of the frame it starts in, or another frame (stack-frame);
//      a write into read-only image data or code, a read of code.
//      Anything else is memory sealpool does not own: allowed.
//
// A violation goes to the report path (allocator/violation.h): it is
// reported, then aborts (abort mode) or is returned (report mode).
//
// Thread safety: all functions may be called from any thread, also while
// other threads allocate, free, seal or destroy pools. No lock is taken on
// the arena path.

#ifndef SEALPOOL_BOUNDSCHECK_CHECK_COPY_H_
#define SEALPOOL_BOUNDSCHECK_CHECK_COPY_H_

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "absl/status/status.h"
#include "allocator/violation.h"

namespace sealpool {

// Returns ViolationKind::kNone when the copy is allowed; otherwise reports
// it and (report mode) returns the kind. Cost for a pool object: a table
// load, a record load, a slack load and a few compares; no lock, no
// syscall, no divide.
ViolationKind CheckCopy(const void* ptr, size_t len, CopyDirection dir);

// The same answer as an absl::Status: OK, or PermissionDenied naming the
// violation (report mode; abort mode aborts).
absl::Status CheckCopyStatus(const void* ptr, size_t len, CopyDirection dir);

// Whether CheckCopy(ptr, len, dir) would allow the copy, by the same rules,
// without reporting: no handler call, no count, no abort. For deciding what
// to do with a copy that CheckCopy() has already refused.
bool CopyAllowed(const void* ptr, size_t len, CopyDirection dir);

// Checked copies: check the source for reading and the destination for
// writing, then copy, and return `dst`. On a violation abort mode aborts;
// report mode returns nullptr and:
//   - when the source range is refused (reported) and the destination
//     range [dst, dst+n) is valid, fills the destination range with zeros
//     instead of the bytes it would have received, so that a caller
//     ignoring the refusal never hands on stale memory; the destination is
//     judged without a second report;
//   - when the destination range is refused, writes nothing.
// CheckedMemset has no source: refused, it writes nothing. The string and
// format copies (boundscheck/checked_string.h) follow the same rule.
void* CheckedMemcpy(void* dst, const void* src, size_t n);
void* CheckedMemmove(void* dst, const void* src, size_t n);
void* CheckedMemset(void* dst, int c, size_t n);

// Compiler-known sizes (boundscheck/check_copy_sized.cc). `known_size` is
// what the compiler knows of the object at `ptr` from there to its end —
// __builtin_dynamic_object_size(ptr, 0) or (ptr, 1), as _FORTIFY_SOURCE=3
// passes it — or SIZE_MAX when it knows nothing. A range longer than that
// is refused (object-size) wherever it is: a stack buffer, a global, a
// member of a pool object; otherwise CheckCopy()'s rules decide. The
// checked copies take the destination's size and otherwise behave as the
// plain ones (a destination refused for its size is never written or
// zeroed).
ViolationKind CheckCopySized(const void* ptr, size_t len, CopyDirection dir,
                             size_t known_size);
bool CopyAllowedSized(const void* ptr, size_t len, CopyDirection dir,
                      size_t known_size);
void* CheckedMemcpySized(void* dst, const void* src, size_t n, size_t dst_size);
void* CheckedMemmoveSized(void* dst, const void* src, size_t n, size_t dst_size);
void* CheckedMemsetSized(void* dst, int c, size_t n, size_t dst_size);

// Copies one trivially copyable T, checked on both ends. OK, or
// PermissionDenied (report mode): *dst zeroed when only the source was
// refused, untouched when *dst itself was.
template <typename T>
absl::Status CopyObject(T* dst, const T* src) {
  static_assert(std::is_trivially_copyable<T>::value,
                "CopyObject copies bytes; T must be trivially copyable");
  if (CheckedMemcpy(dst, src, sizeof(T)) == nullptr) {
    return absl::PermissionDeniedError("sealpool: checked copy refused");
  }
  return absl::OkStatus();
}

// Re-reads the program's loaded images (after dlopen/dlclose). The checker
// also notices new images by itself within 1024 checks on any thread.
void RefreshImageTable();

}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_CHECK_COPY_H_
