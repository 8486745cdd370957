// sealpool — check_copy with the object size the compiler knows: the
// object-size refusal and the sized checked copies (check_copy.h).

#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "allocator/internal/symbolize.h"
#include "allocator/page_query.h"
#include "boundscheck/check_copy.h"
#include "boundscheck/internal/stack.h"

namespace sealpool {
namespace {

constexpr CopyDirection kRead = CopyDirection::kRead;
constexpr CopyDirection kWrite = CopyDirection::kWrite;

// Where a range refused for its compiler-known size is, for the headline:
// a pool object (named), the thread's stack, a loaded image's data, or
// other memory.
ABSL_ATTRIBUTE_NOINLINE ABSL_ATTRIBUTE_COLD ViolationKind ReportObjectSize(
    const void* ptr, size_t len, CopyDirection dir, size_t known_size) {
  Violation v;
  v.kind = ViolationKind::kObjectSize;
  v.addr = reinterpret_cast<uintptr_t>(ptr);
  v.len = len;
  v.dir = dir;
  v.object_start = v.addr;
  v.object_size = known_size;
  v.detail = "range runs past the object size the compiler knows";
  ObjectBounds b;
  const boundscheck_internal::StackBounds& s = boundscheck_internal::ThreadStack();
  internal::ModuleInfo m;
  if (LookupObject(ptr, &b, kLookupBounds) == Lookup::kObject) {
    v.pool_id = b.pool_id;
    v.pool_name = PoolNameById(b.pool_id);
  } else if (v.addr >= s.lo && v.addr < s.hi) {
    v.region = "process stack";
  } else if (internal::FindModule(v.addr, &m), m.found) {
    v.region = "program data";
  } else {
    v.region = "memory";
  }
  return ReportViolation(v, 2);
}

// The source is judged first, as by the plain copy; a destination too
// small for n is then refused without a write.
template <void* (*kPlain)(void*, const void*, size_t)>
void* CopySized(void* dst, const void* src, size_t n, size_t dst_size) {
  if (ABSL_PREDICT_TRUE(n <= dst_size)) return kPlain(dst, src, n);
  if (CheckCopy(src, n, kRead) != ViolationKind::kNone) return nullptr;
  ReportObjectSize(dst, n, kWrite, dst_size);
  return nullptr;
}

}  // namespace

ViolationKind CheckCopySized(const void* ptr, size_t len, CopyDirection dir,
                             size_t known_size) {
  if (ABSL_PREDICT_FALSE(len > known_size)) {
    return ReportObjectSize(ptr, len, dir, known_size);
  }
  return CheckCopy(ptr, len, dir);
}

bool CopyAllowedSized(const void* ptr, size_t len, CopyDirection dir,
                      size_t known_size) {
  return len <= known_size && CopyAllowed(ptr, len, dir);
}

void* CheckedMemcpySized(void* dst, const void* src, size_t n, size_t dst_size) {
  return CopySized<CheckedMemcpy>(dst, src, n, dst_size);
}

void* CheckedMemmoveSized(void* dst, const void* src, size_t n, size_t dst_size) {
  return CopySized<CheckedMemmove>(dst, src, n, dst_size);
}

void* CheckedMemsetSized(void* dst, int c, size_t n, size_t dst_size) {
  if (ABSL_PREDICT_TRUE(n <= dst_size)) return CheckedMemset(dst, c, n);
  ReportObjectSize(dst, n, kWrite, dst_size);
  return nullptr;
}

}  // namespace sealpool
