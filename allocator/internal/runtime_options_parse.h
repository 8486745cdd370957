// sealpool — the SEALPOOL_OPTIONS parser, without absl::Status.
//
// runtime_options.cc holds the table, the parser and the options in force;
// runtime_options_status.cc gives the public ParseRuntimeOptions and
// SetRuntimeOptions (allocator/runtime_options.h) on top of these, so that
// whole-program mode links the options without any Status code
// (internal/outcome.h says why).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_RUNTIME_OPTIONS_PARSE_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_RUNTIME_OPTIONS_PARSE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "allocator/runtime_options.h"

namespace sealpool {
namespace internal {

// Applies `text` on top of `*out` (valid pairs always); false when some
// pair is bad, with every bad pair described in `*errors` (if not null).
bool ParseOptionsText(absl::string_view text, RuntimeOptions* out,
                      std::string* errors);

// Makes `o` the options in force (mode, log, stack depth apply at once).
void ReplaceRuntimeOptions(const RuntimeOptions& o);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_RUNTIME_OPTIONS_PARSE_H_
