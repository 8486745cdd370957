// sealpool — how the allocator's internals say that an operation failed.
//
// The public C++ API speaks absl::Status (allocator/pool.h); the internals
// return an Outcome instead, which allocator/pool.cc turns into one. The
// reason: absl::Status carries absl::Cord payloads, and Debian's static
// Cord code keeps local-exec TLS, which no shared object may contain —
// whole-program mode's libsealpool_malloc.so links the internals without
// it. An Outcome is a code and a message in a fixed buffer (truncated,
// always NUL-terminated); it never allocates.

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_OUTCOME_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_OUTCOME_H_

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace sealpool {
namespace internal {

// The codes are absl::StatusCode's, for the failures the internals have.
enum class OutcomeCode : int {
  kOk = 0,
  kInvalidArgument = 3,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kInternal = 13,
};

class Outcome {
 public:
  Outcome() = default;
  Outcome(OutcomeCode code, absl::string_view message) : code_(code) {
    const size_t n = message.size() < sizeof(message_) - 1 ? message.size()
                                                           : sizeof(message_) - 1;
    std::memcpy(message_, message.data(), n);
    message_[n] = '\0';
  }

  static Outcome Ok() { return Outcome(); }
  static Outcome InvalidArgument(absl::string_view m) {
    return Outcome(OutcomeCode::kInvalidArgument, m);
  }
  static Outcome NotFound(absl::string_view m) { return Outcome(OutcomeCode::kNotFound, m); }
  static Outcome AlreadyExists(absl::string_view m) {
    return Outcome(OutcomeCode::kAlreadyExists, m);
  }
  static Outcome PermissionDenied(absl::string_view m) {
    return Outcome(OutcomeCode::kPermissionDenied, m);
  }
  static Outcome ResourceExhausted(absl::string_view m) {
    return Outcome(OutcomeCode::kResourceExhausted, m);
  }
  static Outcome FailedPrecondition(absl::string_view m) {
    return Outcome(OutcomeCode::kFailedPrecondition, m);
  }
  static Outcome Internal(absl::string_view m) { return Outcome(OutcomeCode::kInternal, m); }

  bool ok() const { return code_ == OutcomeCode::kOk; }
  OutcomeCode code() const { return code_; }
  const char* message() const { return message_; }

 private:
  OutcomeCode code_ = OutcomeCode::kOk;
  char message_[224] = {};
};

// A value, or why there is none.
template <typename T>
class OutcomeOr {
 public:
  OutcomeOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit
  OutcomeOr(Outcome failure) : outcome_(failure) {}  // NOLINT: implicit
  bool ok() const { return outcome_.ok(); }
  const Outcome& outcome() const { return outcome_; }
  const T& value() const { return value_; }

 private:
  T value_{};
  Outcome outcome_;
};

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_OUTCOME_H_
