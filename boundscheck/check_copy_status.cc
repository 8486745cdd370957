// sealpool — CheckCopyStatus: CheckCopy's answer as an absl::Status.
//
// Apart from check_copy.cc so that whole-program mode, which links the
// checker but no Status code (allocator/internal/outcome.h), does not get
// it.

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "boundscheck/check_copy.h"

namespace sealpool {

absl::Status CheckCopyStatus(const void* ptr, size_t len, CopyDirection dir) {
  const ViolationKind v = CheckCopy(ptr, len, dir);
  if (v == ViolationKind::kNone) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("sealpool: ", ViolationKindName(v), " refused"));
}

}  // namespace sealpool
