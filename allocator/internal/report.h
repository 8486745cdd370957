// sealpool — the violation report path (error tier 2).
//
// ReportViolation() is the single exit for evidence of memory unsafety. It
// never allocates and takes no lock: it fills in the thread and stack,
// counts, calls the user's handler, writes the report to stderr with
// write(2), and then aborts (abort mode) or returns (report mode).

#ifndef SEALPOOL_ALLOCATOR_INTERNAL_REPORT_H_
#define SEALPOOL_ALLOCATOR_INTERNAL_REPORT_H_

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "allocator/internal/arena.h"
#include "allocator/violation.h"

namespace sealpool {
namespace internal {

inline constexpr uint32_t kMaxPools = kMaxPoolIds;

// Where reports also go as JSON lines ("" = nowhere); opens the file.
void SetReportLogPath(const char* path);
// The log's descriptor for a report (-1: none): reopened when the program
// has closed it or reused its number meanwhile.
int ReportLogFd();
// Frames in reports (0..kMaxStackFrames) and whether to symbolize them.
void SetReportStackDepth(int depth, bool symbolize);

// Violations attributed to pool `pool_id` since it was created.
uint64_t PoolViolationCount(uint32_t pool_id);
void ResetPoolViolationCount(uint32_t pool_id);

// Small formatter into a fixed buffer; never allocates. Output past the
// buffer is dropped.
class FixedWriter {
 public:
  FixedWriter(char* buf, size_t size) : buf_(buf), size_(size) {}
  FixedWriter& Str(const char* s);
  FixedWriter& Dec(uint64_t v);
  FixedWriter& Hex(uint64_t v);  // with 0x prefix
  // A JSON string literal (quotes included), escaping as RFC 8259 asks.
  FixedWriter& Json(const char* s);
  size_t length() const { return len_; }
  const char* data() const { return buf_; }
  // Bytes that can still be added.
  size_t remaining() const { return size_ > len_ + 1 ? size_ - len_ - 1 : 0; }
  // True once output has been dropped (or the buffer is exactly full).
  bool full() const { return remaining() == 0; }

 private:
  char* buf_;
  size_t size_;
  size_t len_ = 0;
};

// Writes all of [data, data+len) to file descriptor `fd`, retrying on
// EINTR and short writes.
void WriteAll(int fd, const char* data, size_t len);

}  // namespace internal
}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_INTERNAL_REPORT_H_
