// sealpool — ParseRuntimeOptions and SetRuntimeOptions: the options parser
// (runtime_options.cc) with absl::Status answers.

#include <string>

#include "absl/status/status.h"
#include "allocator/internal/report.h"
#include "allocator/internal/runtime_options_parse.h"
#include "allocator/runtime_options.h"

namespace sealpool {

absl::Status ParseRuntimeOptions(absl::string_view text, RuntimeOptions* out) {
  std::string errors;
  if (internal::ParseOptionsText(text, out, &errors)) return absl::OkStatus();
  return absl::InvalidArgumentError(errors);
}

absl::Status SetRuntimeOptions(absl::string_view text) {
  RuntimeOptions o = GetRuntimeOptions();
  o.mode = GetMode();  // SetMode() calls since the last parse still count
  absl::Status s = ParseRuntimeOptions(text, &o);
  internal::ReplaceRuntimeOptions(o);
  return s;
}

}  // namespace sealpool
