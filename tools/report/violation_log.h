// sealpool-report — reading violation logs and grouping their records.
//
// With SEALPOOL_OPTIONS=log_path=FILE the library appends one JSON object
// per violation to FILE (allocator/internal/report.cc; README "Violation
// reports" names the fields):
//
//   {"time":1795800047.884,"kind":"out-of-bounds","pool":"sessions",
//    "pool_id":1,"addr":...,"len":64,"dir":"read","object_start":...,
//    "object_size":50,"offset":0,"thread":19183,"detail":"...",
//    "stack":["0x557f7859ec40","0x557f78593d08"]}
//
// A Summarizer reads any number of such logs (files, or "-" for standard
// input) and groups their records by pool, kind and top stack frame(s).
// Lines that are not such records are counted and skipped, never fatal;
// blank lines are ignored.

#ifndef SEALPOOL_TOOLS_REPORT_VIOLATION_LOG_H_
#define SEALPOOL_TOOLS_REPORT_VIOLATION_LOG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sealpool {
namespace report {

// Lines longer than this are malformed (the library writes at most 4 KiB);
// the reader never holds more than this much of one line.
inline constexpr size_t kMaxLineBytes = 64 * 1024;

// Times past this (the year 33658) are malformed: they cannot be a clock.
inline constexpr double kMaxLogTime = 1e12;

// One violation as a log line records it. Fields missing from the line keep
// these defaults; fields the tool does not know are ignored.
struct LogRecord {
  std::string kind;       // required: "out-of-bounds", "double-free", ...
  bool has_pool = false;  // false when "pool" is null or missing
  std::string pool;
  uint64_t pool_id = 0;
  uint64_t addr = 0;
  uint64_t len = 0;
  std::string dir = "none";  // "read", "write" or "none"
  uint64_t object_start = 0;
  uint64_t object_size = 0;
  uint64_t offset = 0;
  uint64_t thread = 0;
  std::string detail;
  bool has_time = false;
  double time = 0;              // seconds since the epoch, in [0, kMaxLogTime)
  std::string time_text;        // the number as written, for exact output
  std::vector<uint64_t> stack;  // return addresses, innermost first
};

// Parses one log line. Returns InvalidArgument with the reason when the
// line is not JSON, not an object, has no non-empty "kind", or has a known
// field of the wrong type or range (a count that is not an unsigned 64-bit
// integer, a stack entry that is not a "0x..." string, ...).
absl::StatusOr<LogRecord> ParseLogRecord(absl::string_view line);

// Where a line is: index into Summary::inputs, and 1-based line number.
struct LogPosition {
  size_t input = 0;
  uint64_t line = 0;
};

// How records are grouped.
struct GroupingOptions {
  // Stack frames in the key, from the top (after skip_frames); 0 groups by
  // pool and kind only.
  int frames = 1;
  // Frames dropped from the top before the key is taken (for example a
  // checked-copy wrapper that every stack starts with).
  int skip_frames = 0;
  // Compare frames by exact address. Otherwise by their offset within a
  // 4 KiB page, which stays the same when ASLR loads the same binary at
  // another address in another process (a fuzzing campaign's many runs).
  bool exact_frames = false;
  // Distinct (offset, len, object size, direction) examples kept per group.
  int max_examples = 3;
};

// A distinct example of a group's ranges.
struct RangeExample {
  uint64_t offset = 0;
  uint64_t len = 0;
  uint64_t object_size = 0;
  std::string dir;
};

// The records that share pool, kind and key frames.
struct ViolationGroup {
  std::string kind;
  bool has_pool = false;
  std::string pool;
  // The key frames as the group's first record has them (full addresses,
  // even when frames are compared by page offset).
  std::vector<uint64_t> frames;
  uint64_t count = 0;
  std::vector<std::string> dirs;  // distinct, in order of appearance
  // Earliest and latest "time" among the records that have one.
  bool has_time = false;
  double first_time = 0;
  double last_time = 0;
  std::string first_time_text;
  std::string last_time_text;
  // Where the group first and last appears in the input, in reading order.
  LogPosition first_seen;
  LogPosition last_seen;
  std::vector<RangeExample> examples;  // first seen first
};

// Everything read, and the groups.
struct Summary {
  GroupingOptions options;
  std::vector<std::string> inputs;      // as named; "-" is standard input
  std::vector<std::string> unreadable;  // "NAME: reason", one per input
  uint64_t lines = 0;                   // all lines, blank and bad included
  uint64_t blank_lines = 0;
  uint64_t records = 0;
  uint64_t malformed = 0;
  LogPosition first_malformed;  // valid when malformed > 0
  std::string first_malformed_reason;
  // Largest count first; then earliest time, then first position.
  std::vector<ViolationGroup> groups;
};

// "NAME:LINE" for a position of `summary`.
std::string PositionText(const Summary& summary, const LogPosition& at);

// Reads logs and groups their records. Not thread-safe; memory grows with
// the number of groups, not of records.
class Summarizer {
 public:
  explicit Summarizer(const GroupingOptions& options = GroupingOptions());

  // Reads the file at `path`, or standard input for "-". A file that cannot
  // be opened or read is noted in Summary::unreadable (the lines read before
  // a read error still count) and the error is returned.
  absl::Status AddFile(const std::string& path);
  // Reads `text` as the whole content of an input called `name`.
  void AddText(const std::string& name, absl::string_view text);

  // The summary so far.
  Summary Finish() const;

 private:
  struct LineState {
    size_t input = 0;
    uint64_t line_no = 0;
    std::string line;
    bool too_long = false;
  };

  absl::Status AddFd(int fd, const std::string& name);
  size_t AddInput(const std::string& name);
  void Feed(absl::string_view chunk, LineState* state);
  void EndLine(LineState* state);
  void AddLine(absl::string_view line, const LogPosition& at);
  void AddRecord(const LogRecord& record, const LogPosition& at);
  void NoteMalformed(const LogPosition& at, absl::string_view reason);

  Summary summary_;
  absl::flat_hash_map<std::string, size_t> group_index_;  // key -> groups[]
};

}  // namespace report
}  // namespace sealpool

#endif  // SEALPOOL_TOOLS_REPORT_VIOLATION_LOG_H_
