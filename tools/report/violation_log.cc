// sealpool-report — log lines to records, records to groups.

#include "tools/report/violation_log.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/report/json.h"

namespace sealpool {
namespace report {
namespace {

constexpr uint64_t kPageOffsetMask = 4096 - 1;

absl::Status BadField(absl::string_view key, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("'", key, "' ", what));
}

// Reads an optional unsigned field into *out.
absl::Status ReadCount(const JsonValue& object, absl::string_view key,
                       uint64_t* out) {
  const JsonValue* v = object.Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->AsUint64(out)) {
    return BadField(key, "is not an unsigned 64-bit integer");
  }
  return absl::OkStatus();
}

// Reads an optional string-or-null field; *present is false for null.
absl::Status ReadOptionalString(const JsonValue& object, absl::string_view key,
                                bool* present, std::string* out) {
  const JsonValue* v = object.Find(key);
  if (v == nullptr || v->is_null()) {
    *present = false;
    return absl::OkStatus();
  }
  if (!v->is_string()) return BadField(key, "is neither a string nor null");
  *present = true;
  *out = v->text();
  return absl::OkStatus();
}

// "0x" and 1 to 16 hex digits.
bool ParseHexAddress(absl::string_view s, uint64_t* out) {
  if (s.size() < 3 || s.size() > 18 || s[0] != '0' || s[1] != 'x') {
    return false;
  }
  uint64_t v = 0;
  for (char c : s.substr(2)) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

bool IsBlank(absl::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Reads an optional string field.
absl::Status ReadString(const JsonValue& object, absl::string_view key,
                        std::string* out) {
  const JsonValue* v = object.Find(key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string()) return BadField(key, "is not a string");
  *out = v->text();
  return absl::OkStatus();
}

// Reads an optional "0x..." field; *present says whether it was there.
absl::Status ReadHex(const JsonValue& object, absl::string_view key,
                     bool* present, uint64_t* out) {
  const JsonValue* v = object.Find(key);
  *present = v != nullptr;
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string() || !ParseHexAddress(v->text(), out)) {
    return BadField(key, "is not a \"0x...\" address");
  }
  return absl::OkStatus();
}

absl::Status ReadLocation(const JsonValue& object, SourceLine* out) {
  absl::Status s = ReadString(object, "function", &out->function);
  if (s.ok()) s = ReadString(object, "file", &out->file);
  if (s.ok()) s = ReadCount(object, "line", &out->line);
  return s;
}

// One entry of "frames".
absl::Status ReadFrame(const JsonValue& v, LogFrame* out) {
  if (!v.is_object()) return BadField("frames", "has an entry that is not an object");
  bool present = false;
  absl::Status s = ReadHex(v, "addr", &present, &out->addr);
  if (!s.ok()) return s;
  if (!present) return BadField("frames", "has an entry without \"addr\"");
  s = ReadString(v, "module", &out->module);
  if (!s.ok()) return s;
  bool has_offset = false;
  s = ReadHex(v, "offset", &has_offset, &out->offset);
  if (!s.ok()) return s;
  out->has_module = has_offset && v.Find("module") != nullptr;
  if (const JsonValue* inlined = v.Find("inlined")) {
    if (!inlined->is_array()) return BadField("inlined", "is not an array");
    for (const JsonValue& item : inlined->items()) {
      if (!item.is_object()) {
        return BadField("inlined", "has an entry that is not an object");
      }
      SourceLine l;
      s = ReadLocation(item, &l);
      if (!s.ok()) return s;
      out->locations.push_back(std::move(l));
    }
  }
  SourceLine outer;
  s = ReadLocation(v, &outer);
  if (!s.ok()) return s;
  if (!outer.function.empty() || !outer.file.empty() ||
      !out->locations.empty()) {
    out->locations.push_back(std::move(outer));
  }
  return absl::OkStatus();
}

absl::Status ReadModule(const JsonValue& v, LogModule* out) {
  if (!v.is_object()) {
    return BadField("modules", "has an entry that is not an object");
  }
  absl::Status s = ReadString(v, "path", &out->path);
  if (!s.ok()) return s;
  bool present = false;
  s = ReadHex(v, "base", &present, &out->base);
  if (!s.ok()) return s;
  return ReadString(v, "build_id", &out->build_id);
}

// The name of a frame's machine-code function, or "".
const std::string& FrameFunction(const LogFrame& f) {
  static const std::string* const kNone = new std::string();
  return f.locations.empty() ? *kNone : f.locations.back().function;
}

// Index of the first frame of `r` the key may use: past sealpool's own
// frames (when asked) and then skip_frames more.
size_t FirstKeyFrame(const LogRecord& r, const GroupingOptions& options) {
  size_t first = 0;
  if (options.skip_sealpool_frames) {
    while (first < r.frames.size() &&
           IsSealpoolFunction(FrameFunction(r.frames[first]))) {
      ++first;
    }
    if (first == r.frames.size()) first = 0;  // all sealpool's: keep them
  }
  return first + static_cast<size_t>(std::max(options.skip_frames, 0));
}

// The grouping key: kind, pool (or its absence) and the key frames, joined
// with separators that no JSON-decoded field can forge (lengths first).
std::string GroupKey(const LogRecord& r, const GroupingOptions& options,
                     std::vector<LogFrame>* frames) {
  frames->clear();
  const size_t want = static_cast<size_t>(std::max(options.frames, 0));
  for (size_t i = FirstKeyFrame(r, options);
       i < r.frames.size() && frames->size() < want; ++i) {
    frames->push_back(r.frames[i]);
  }
  std::string key = absl::StrCat(r.kind.size(), ":", r.kind, "|");
  if (r.has_pool) {
    absl::StrAppend(&key, r.pool.size(), ":", r.pool, "|");
  } else {
    key.append("-|");
  }
  for (const LogFrame& frame : *frames) {
    if (frame.has_module) {
      absl::StrAppend(&key, frame.module.size(), ":", frame.module, "+",
                      absl::Hex(frame.offset), ",");
      continue;
    }
    const uint64_t k =
        options.exact_frames ? frame.addr : frame.addr & kPageOffsetMask;
    absl::StrAppend(&key, absl::Hex(k), ",");
  }
  return key;
}

}  // namespace

absl::StatusOr<LogRecord> ParseLogRecord(absl::string_view line) {
  absl::StatusOr<JsonValue> parsed = ParseJson(line);
  if (!parsed.ok()) return parsed.status();
  const JsonValue& object = *parsed;
  if (!object.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  LogRecord r;

  const JsonValue* kind = object.Find("kind");
  if (kind == nullptr) return absl::InvalidArgumentError("no 'kind'");
  if (!kind->is_string() || kind->text().empty()) {
    return BadField("kind", "is not a non-empty string");
  }
  r.kind = kind->text();

  absl::Status s = ReadOptionalString(object, "pool", &r.has_pool, &r.pool);
  if (!s.ok()) return s;
  bool has_detail = false;
  s = ReadOptionalString(object, "detail", &has_detail, &r.detail);
  if (!s.ok()) return s;

  const std::pair<const char*, uint64_t*> counts[] = {
      {"pool_id", &r.pool_id},
      {"addr", &r.addr},
      {"len", &r.len},
      {"object_start", &r.object_start},
      {"object_size", &r.object_size},
      {"offset", &r.offset},
      {"thread", &r.thread}};
  for (const auto& [key, out] : counts) {
    s = ReadCount(object, key, out);
    if (!s.ok()) return s;
  }

  if (const JsonValue* dir = object.Find("dir")) {
    if (!dir->is_string() || (dir->text() != "read" && dir->text() != "write" &&
                              dir->text() != "none")) {
      return BadField("dir", "is not \"read\", \"write\" or \"none\"");
    }
    r.dir = dir->text();
  }

  if (const JsonValue* time = object.Find("time")) {
    double t = 0;
    if (!time->AsDouble(&t) || !(t >= 0 && t < kMaxLogTime)) {
      return BadField("time", "is not a time in seconds since the epoch");
    }
    r.has_time = true;
    r.time = t;
    r.time_text = time->text();
  }

  if (const JsonValue* stack = object.Find("stack")) {
    if (!stack->is_array()) return BadField("stack", "is not an array");
    for (const JsonValue& frame : stack->items()) {
      uint64_t pc = 0;
      if (!frame.is_string() || !ParseHexAddress(frame.text(), &pc)) {
        return BadField("stack",
                        "has an entry that is not a \"0x...\" address");
      }
      r.stack.push_back(pc);
    }
  }

  if (const JsonValue* frames = object.Find("frames")) {
    if (!frames->is_array()) return BadField("frames", "is not an array");
    for (const JsonValue& item : frames->items()) {
      LogFrame f;
      s = ReadFrame(item, &f);
      if (!s.ok()) return s;
      r.frames.push_back(std::move(f));
    }
  } else {
    for (uint64_t pc : r.stack) {
      LogFrame f;
      f.addr = pc;
      r.frames.push_back(std::move(f));
    }
  }
  if (const JsonValue* modules = object.Find("modules")) {
    if (!modules->is_array()) return BadField("modules", "is not an array");
    for (const JsonValue& item : modules->items()) {
      LogModule m;
      s = ReadModule(item, &m);
      if (!s.ok()) return s;
      r.modules.push_back(std::move(m));
    }
  }
  return r;
}

bool IsSealpoolFunction(absl::string_view function) {
  return absl::StartsWith(function, "sealpool::") ||
         absl::StartsWith(function, "absl::") ||
         absl::StartsWith(function, "sp_") ||
         absl::StartsWith(function, "sealpool_shim_");
}

std::string PositionText(const Summary& summary, const LogPosition& at) {
  const absl::string_view name =
      at.input < summary.inputs.size()
          ? absl::string_view(summary.inputs[at.input])
          : absl::string_view("?");
  return absl::StrCat(name, ":", at.line);
}

Summarizer::Summarizer(const GroupingOptions& options) {
  summary_.options = options;
}

size_t Summarizer::AddInput(const std::string& name) {
  summary_.inputs.push_back(name);
  return summary_.inputs.size() - 1;
}

absl::Status Summarizer::AddFile(const std::string& path) {
  if (path == "-") return AddFd(STDIN_FILENO, path);
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    AddInput(path);
    const std::string reason = absl::StrCat(path, ": ", std::strerror(err));
    summary_.unreadable.push_back(reason);
    return absl::NotFoundError(reason);
  }
  absl::Status s = AddFd(fd, path);
  close(fd);
  return s;
}

absl::Status Summarizer::AddFd(int fd, const std::string& name) {
  LineState state;
  state.input = AddInput(name);
  char buf[64 * 1024];
  absl::Status status;
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = absl::StrCat(name, ": ", std::strerror(errno));
      summary_.unreadable.push_back(reason);
      status = absl::DataLossError(reason);
      break;
    }
    if (n == 0) break;
    Feed(absl::string_view(buf, static_cast<size_t>(n)), &state);
  }
  if (!state.line.empty() || state.too_long) EndLine(&state);
  return status;
}

void Summarizer::AddText(const std::string& name, absl::string_view text) {
  LineState state;
  state.input = AddInput(name);
  Feed(text, &state);
  if (!state.line.empty() || state.too_long) EndLine(&state);
}

void Summarizer::Feed(absl::string_view chunk, LineState* state) {
  while (!chunk.empty()) {
    const size_t nl = chunk.find('\n');
    const absl::string_view part = chunk.substr(0, nl);
    if (!state->too_long) {
      if (state->line.size() + part.size() > kMaxLineBytes) {
        state->too_long = true;
        state->line.clear();
        state->line.shrink_to_fit();
      } else {
        state->line.append(part.data(), part.size());
      }
    }
    if (nl == absl::string_view::npos) return;
    EndLine(state);
    chunk.remove_prefix(nl + 1);
  }
}

void Summarizer::EndLine(LineState* state) {
  ++state->line_no;
  const LogPosition at{state->input, state->line_no};
  ++summary_.lines;
  if (state->too_long) {
    NoteMalformed(at,
                  absl::StrCat("line longer than ", kMaxLineBytes, " bytes"));
  } else {
    AddLine(state->line, at);
  }
  state->line.clear();
  state->too_long = false;
}

void Summarizer::AddLine(absl::string_view line, const LogPosition& at) {
  if (IsBlank(line)) {
    ++summary_.blank_lines;
    return;
  }
  absl::StatusOr<LogRecord> record = ParseLogRecord(line);
  if (!record.ok()) {
    NoteMalformed(at, record.status().message());
    return;
  }
  if (filter_) filter_(&*record);
  AddRecord(*record, at);
}

void Summarizer::NoteMalformed(const LogPosition& at,
                               absl::string_view reason) {
  if (summary_.malformed++ == 0) {
    summary_.first_malformed = at;
    summary_.first_malformed_reason = std::string(reason);
  }
}

void Summarizer::AddRecord(const LogRecord& r, const LogPosition& at) {
  ++summary_.records;
  std::vector<LogFrame> frames;
  const std::string key = GroupKey(r, summary_.options, &frames);
  auto [it, inserted] = group_index_.try_emplace(key, summary_.groups.size());
  if (inserted) {
    ViolationGroup g;
    g.kind = r.kind;
    g.has_pool = r.has_pool;
    g.pool = r.pool;
    for (const LogFrame& f : frames) g.frames.push_back(f.addr);
    g.key_frames = std::move(frames);
    GroupingOptions no_skip = summary_.options;
    no_skip.skip_frames = 0;
    for (size_t i = FirstKeyFrame(r, no_skip);
         i < r.frames.size() && g.stack.size() < kMaxGroupStackFrames; ++i) {
      g.stack.push_back(r.frames[i]);
    }
    g.first_seen = at;
    summary_.groups.push_back(std::move(g));
  }
  ViolationGroup& g = summary_.groups[it->second];
  ++g.count;
  g.last_seen = at;
  if (std::find(g.dirs.begin(), g.dirs.end(), r.dir) == g.dirs.end()) {
    g.dirs.push_back(r.dir);
  }
  if (r.has_time) {
    if (!g.has_time || r.time < g.first_time) {
      g.first_time = r.time;
      g.first_time_text = r.time_text;
    }
    if (!g.has_time || r.time > g.last_time) {
      g.last_time = r.time;
      g.last_time_text = r.time_text;
    }
    g.has_time = true;
  }
  const auto same = [&r](const RangeExample& e) {
    return e.offset == r.offset && e.len == r.len &&
           e.object_size == r.object_size && e.dir == r.dir;
  };
  if (g.examples.size() <
          static_cast<size_t>(std::max(0, summary_.options.max_examples)) &&
      std::none_of(g.examples.begin(), g.examples.end(), same)) {
    g.examples.push_back(RangeExample{r.offset, r.len, r.object_size, r.dir});
  }
}

Summary Summarizer::Finish() const {
  Summary s = summary_;
  const auto position = [](const LogPosition& p) {
    return std::make_tuple(p.input, p.line);
  };
  std::stable_sort(
      s.groups.begin(), s.groups.end(),
      [&position](const ViolationGroup& a, const ViolationGroup& b) {
        if (a.count != b.count) return a.count > b.count;
        if (a.has_time != b.has_time) return a.has_time;
        if (a.has_time && a.first_time != b.first_time) {
          return a.first_time < b.first_time;
        }
        return position(a.first_seen) < position(b.first_seen);
      });
  return s;
}

}  // namespace report
}  // namespace sealpool
