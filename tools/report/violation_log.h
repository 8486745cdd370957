// sealpool-report — reading violation logs and grouping their records.
//
// With SEALPOOL_OPTIONS=log_path=FILE the library appends one JSON object
// per violation to FILE (allocator/internal/report.cc; README "Violation
// reports" names the fields):
//
//   {"time":1795800047.884,"kind":"out-of-bounds","pool":"sessions",
//    "pool_id":1,"addr":...,"len":64,"dir":"read","object_start":...,
//    "object_size":50,"offset":0,"thread":19183,"detail":"...",
//    "stack":["0x557f7859ec40","0x557f78593d08"],
//    "frames":[{"addr":"0x557f7859ec40","module":"/srv/server",
//               "offset":"0x12c40","function":"Parse(char const*)",
//               "file":"/src/parse.cc","line":42,
//               "inlined":[{"function":"Copy()","file":"/src/copy.h",
//                           "line":7}]}, ...],
//    "modules":[{"path":"/srv/server","base":"0x557f78580000",
//                "build_id":"5f0c..."}]}
//
// ("frames" and "modules" since sealpool's stacks name modules; older logs
// have "stack" only, and are read the same way.)
//
// A Summarizer reads any number of such logs (files, or "-" for standard
// input) and groups their records by pool, kind and the first stack
// frame(s) outside sealpool.
// Lines that are not such records are counted and skipped, never fatal;
// blank lines are ignored.

#ifndef SEALPOOL_TOOLS_REPORT_VIOLATION_LOG_H_
#define SEALPOOL_TOOLS_REPORT_VIOLATION_LOG_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sealpool {
namespace report {

// Lines longer than this are malformed (the library writes at most 16 KiB);
// the reader never holds more than this much of one line.
inline constexpr size_t kMaxLineBytes = 64 * 1024;

// Times past this (the year 33658) are malformed: they cannot be a clock.
inline constexpr double kMaxLogTime = 1e12;

// A source position of a frame.
struct SourceLine {
  std::string function;  // "" when unknown
  std::string file;      // "" when unknown
  uint64_t line = 0;     // 0 when unknown
};

// One stack frame as "frames" records it (or, for older logs, as "stack"
// does: the address only).
struct LogFrame {
  uint64_t addr = 0;        // the return address
  bool has_module = false;  // module and offset are known
  std::string module;       // path of the ELF object holding addr
  uint64_t offset = 0;      // addr's address in that file
  // Innermost first: inlined calls, then the machine code's own function
  // last (the record's "inlined", then its function/file/line). Empty when
  // the frame is not symbolized.
  std::vector<SourceLine> locations;
};

// A loaded module as "modules" records it.
struct LogModule {
  std::string path;
  uint64_t base = 0;     // load bias: run-time address - file address
  std::string build_id;  // lowercase hex; "" when the module has none
};

// Whether `function` (a demangled name) is sealpool's own: in namespace
// sealpool or absl, or a C API function sp_*. The library drops such frames
// from the top of the stacks it records (allocator/internal/symbolize.cc);
// older logs still have them.
bool IsSealpoolFunction(absl::string_view function);

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
  // "frames" when the line has them, else one address-only frame per
  // "stack" entry.
  std::vector<LogFrame> frames;
  std::vector<LogModule> modules;
};

// Parses one log line. Returns InvalidArgument with the reason when the
// line is not JSON, not an object, has no non-empty "kind", or has a known
// field of the wrong type or range (a count that is not an unsigned 64-bit
// integer, a stack entry that is not a "0x..." string, a frame without
// "addr", ...).
absl::StatusOr<LogRecord> ParseLogRecord(absl::string_view line);

// Where a line is: index into Summary::inputs, and 1-based line number.
struct LogPosition {
  size_t input = 0;
  uint64_t line = 0;
};

// How records are grouped.
struct GroupingOptions {
  // Stack frames in the key, from the first outside sealpool (after
  // skip_frames); 0 groups by pool and kind only.
  int frames = 1;
  // Drop the frames at the top that name sealpool's own functions
  // (IsSealpoolFunction) before the key is taken. Frames without a name
  // are never dropped by this.
  bool skip_sealpool_frames = true;
  // Frames dropped from the top, after sealpool's own, before the key is
  // taken (for example a host wrapper that every stack starts with).
  int skip_frames = 0;
  // Frames with a module are compared by module and offset, which ASLR
  // does not change. Frames without one (older logs) are compared by exact
  // address when this is set, otherwise by their offset within a 4 KiB
  // page, which stays the same when ASLR loads the same binary at another
  // address in another process (a fuzzing campaign's many runs).
  bool exact_frames = false;
  // Distinct (offset, len, object size, direction) examples kept per group.
  int max_examples = 3;
};

// Frames of a group's first record kept in ViolationGroup::stack.
inline constexpr size_t kMaxGroupStackFrames = 16;

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
  // The same frames with what the record says of them.
  std::vector<LogFrame> key_frames;
  // The first record's stack from the first frame outside sealpool, at
  // most kMaxGroupStackFrames of it.
  std::vector<LogFrame> stack;
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

  // Called with every record read, before it is grouped (for example to
  // symbolize its frames offline); nullptr for none.
  using RecordFilter = std::function<void(LogRecord*)>;
  void SetRecordFilter(RecordFilter filter) { filter_ = std::move(filter); }

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
  RecordFilter filter_;
  absl::flat_hash_map<std::string, size_t> group_index_;  // key -> groups[]
};

}  // namespace report
}  // namespace sealpool

#endif  // SEALPOOL_TOOLS_REPORT_VIOLATION_LOG_H_
