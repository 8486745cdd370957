// sealpool-report — table and JSON output.

#include "tools/report/format.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tools/report/json.h"

namespace sealpool {
namespace report {
namespace {

std::string Plural(uint64_t n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string FrameText(uint64_t pc) { return absl::StrCat("0x", absl::Hex(pc)); }

absl::string_view Basename(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// A key frame in the table: "function file:line" of the innermost known
// position, else "module+0xoffset", else the address.
std::string FrameLabel(const LogFrame& f) {
  if (!f.locations.empty()) {
    const SourceLine& l = f.locations.front();
    std::string out = Printable(l.function.empty() ? "??" : l.function);
    if (!l.file.empty()) {
      absl::StrAppend(&out, " ", Printable(Basename(l.file)));
      if (l.line > 0) absl::StrAppend(&out, ":", l.line);
    }
    return out;
  }
  if (f.has_module) {
    return absl::StrCat(Printable(Basename(f.module)), "+0x",
                        absl::Hex(f.offset));
  }
  return FrameText(f.addr);
}

bool Described(const LogFrame& f) {
  return f.has_module || !f.locations.empty();
}

// One frame as the library's stderr report prints it: a line per source
// position, inlined calls first (allocator/internal/report.cc).
void AppendFrameLines(const LogFrame& f, int* number, std::string* out) {
  const std::string module =
      f.has_module ? absl::StrCat(" (", Printable(f.module), "+0x",
                                  absl::Hex(f.offset), ")")
                   : "";
  if (f.locations.empty()) {
    absl::StrAppend(out, "    #", (*number)++, " ", FrameText(f.addr), module,
                    "\n");
    return;
  }
  for (const SourceLine& l : f.locations) {
    absl::StrAppend(out, "    #", (*number)++, " ", FrameText(f.addr));
    if (!l.function.empty()) absl::StrAppend(out, " in ", Printable(l.function));
    if (!l.file.empty()) {
      absl::StrAppend(out, " ", Printable(l.file));
      if (l.line > 0) absl::StrAppend(out, ":", l.line);
    }
    absl::StrAppend(out, module, "\n");
  }
}

std::string JsonLocation(const SourceLine& l) {
  std::vector<std::string> parts;
  if (!l.function.empty()) {
    parts.push_back(absl::StrCat("\"function\":", JsonQuote(l.function)));
  }
  if (!l.file.empty()) parts.push_back(absl::StrCat("\"file\":", JsonQuote(l.file)));
  if (l.line > 0) parts.push_back(absl::StrCat("\"line\":", l.line));
  return absl::StrJoin(parts, ",");
}

// A frame in the log's own "frames" format.
std::string JsonFrame(const LogFrame& f) {
  std::string out = absl::StrCat("{\"addr\":", JsonQuote(FrameText(f.addr)));
  if (f.has_module) {
    absl::StrAppend(&out, ",\"module\":", JsonQuote(f.module), ",\"offset\":",
                    JsonQuote(FrameText(f.offset)));
  }
  if (!f.locations.empty()) {
    const std::string outer = JsonLocation(f.locations.back());
    if (!outer.empty()) absl::StrAppend(&out, ",", outer);
  }
  if (f.locations.size() > 1) {
    std::vector<std::string> inlined;
    for (size_t i = 0; i + 1 < f.locations.size(); ++i) {
      inlined.push_back(absl::StrCat("{", JsonLocation(f.locations[i]), "}"));
    }
    absl::StrAppend(&out, ",\"inlined\":[", absl::StrJoin(inlined, ","), "]");
  }
  absl::StrAppend(&out, "}");
  return out;
}

// "out-of-bounds read/write": the kind, and the copy directions seen.
std::string KindText(const ViolationGroup& g) {
  std::vector<std::string> dirs;
  for (const std::string& d : g.dirs) {
    if (d != "none") dirs.push_back(d);
  }
  std::string out = Printable(g.kind);
  if (!dirs.empty()) absl::StrAppend(&out, " ", absl::StrJoin(dirs, "/"));
  return out;
}

// "16+40/50, 0+64/50": offset+len/object size of each example.
std::string ExamplesText(const ViolationGroup& g) {
  std::vector<std::string> parts;
  for (const RangeExample& e : g.examples) {
    parts.push_back(absl::StrCat(e.offset, "+", e.len, "/", e.object_size));
  }
  return absl::StrJoin(parts, ", ");
}

// Columns padded to their widest cell; the first is right-aligned (counts),
// the last is not padded.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      if (c == 0) {
        absl::StrAppend(&line, pad, row[c]);
      } else if (c + 1 == row.size()) {
        absl::StrAppend(&line, "  ", row[c]);
      } else {
        absl::StrAppend(&line, "  ", row[c], pad);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string JsonPosition(const Summary& s, const LogPosition& at) {
  return JsonQuote(PositionText(s, at));
}

std::string JsonGroup(const Summary& s, const ViolationGroup& g) {
  std::vector<std::string> dirs, frames, stack, examples;
  for (const std::string& d : g.dirs) dirs.push_back(JsonQuote(d));
  for (uint64_t pc : g.frames) frames.push_back(JsonQuote(FrameText(pc)));
  for (const LogFrame& f : g.stack) stack.push_back(JsonFrame(f));
  for (const RangeExample& e : g.examples) {
    examples.push_back(absl::StrCat("{\"offset\":", e.offset, ",\"len\":",
                                    e.len, ",\"object_size\":", e.object_size,
                                    ",\"dir\":", JsonQuote(e.dir), "}"));
  }
  return absl::StrCat(
      "{\"kind\":", JsonQuote(g.kind),
      ",\"pool\":", g.has_pool ? JsonQuote(g.pool) : "null",
      ",\"count\":", g.count, ",\"dirs\":[", absl::StrJoin(dirs, ","), "]",
      ",\"frames\":[", absl::StrJoin(frames, ","), "]",
      ",\"stack\":[", absl::StrJoin(stack, ","), "]",
      ",\"first_time\":", g.has_time ? g.first_time_text : "null",
      ",\"last_time\":", g.has_time ? g.last_time_text : "null",
      ",\"first_seen\":", JsonPosition(s, g.first_seen),
      ",\"last_seen\":", JsonPosition(s, g.last_seen), ",\"examples\":[",
      absl::StrJoin(examples, ","), "]}");
}

}  // namespace

std::string Printable(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const unsigned char uc = static_cast<unsigned char>(c);
    if (c == '\\') {
      out.append("\\\\");
    } else if (uc >= 0x20 && uc < 0x7f) {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(uc, absl::kZeroPad2));
    }
  }
  return out;
}

std::string FormatUtc(double seconds) {
  if (!(seconds >= 0 && seconds < kMaxLogTime)) return "?";
  const int64_t ms = static_cast<int64_t>(std::llround(seconds * 1000.0));
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string FormatTable(const Summary& s) {
  std::string out = "sealpool-report: ";
  if (s.records == 0) {
    absl::StrAppend(&out, "no violations");
  } else {
    absl::StrAppend(&out, Plural(s.records, "violation", "violations"), " in ",
                    Plural(s.groups.size(), "group", "groups"));
  }
  absl::StrAppend(&out, " from ", Plural(s.inputs.size(), "input", "inputs"),
                  " (", Plural(s.lines, "line", "lines"), ")\n");
  if (s.malformed > 0) {
    absl::StrAppend(&out, "malformed: ", Plural(s.malformed, "line", "lines"),
                    " skipped; the first at ",
                    Printable(PositionText(s, s.first_malformed)), ": ",
                    Printable(s.first_malformed_reason), "\n");
  }
  for (const std::string& u : s.unreadable) {
    absl::StrAppend(&out, "unreadable: ", Printable(u), "\n");
  }
  if (s.groups.empty()) return out;

  const bool multi = s.options.frames > 1;
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"COUNT", "KIND", "POOL", multi ? "FRAMES" : "FRAME",
                  "FIRST (UTC)", "LAST (UTC)", "FIRST SEEN",
                  "EXAMPLES (offset+len/object size)"});
  for (const ViolationGroup& g : s.groups) {
    std::vector<std::string> frames;
    for (const LogFrame& f : g.key_frames) frames.push_back(FrameLabel(f));
    rows.push_back({absl::StrCat(g.count), KindText(g),
                    g.has_pool ? Printable(g.pool) : "-",
                    frames.empty() ? "-" : absl::StrJoin(frames, " "),
                    g.has_time ? FormatUtc(g.first_time) : "-",
                    g.has_time ? FormatUtc(g.last_time) : "-",
                    Printable(PositionText(s, g.first_seen)), ExamplesText(g)});
  }
  absl::StrAppend(&out, "\n", RenderTable(rows));
  bool any_module = false;
  for (const ViolationGroup& g : s.groups) {
    for (const LogFrame& f : g.key_frames) any_module = any_module || f.has_module;
  }
  if (s.options.frames > 0) {
    absl::StrAppend(
        &out, "\n",
        any_module
            ? "Frames are compared by module and offset, which ASLR keeps; "
              "FRAME shows the group's\nfirst record."
        : s.options.exact_frames
            ? "Frames are compared by address."
            : "Frames are compared by their offset in a 4 KiB page, which "
              "ASLR keeps; FRAME shows the\ngroup's first record "
              "(--exact_frames compares whole addresses).",
        s.options.skip_frames > 0
            ? absl::StrCat(
                  " The top ",
                  Plural(s.options.skip_frames, "frame is", "frames are"),
                  " skipped.")
            : "",
        "\n");
  }
  // The stacks, when the records say more than addresses.
  bool described = false;
  for (const ViolationGroup& g : s.groups) {
    for (const LogFrame& f : g.stack) described = described || Described(f);
  }
  if (!described) return out;
  absl::StrAppend(&out, "\nStacks (each group's first record, from the first "
                        "frame outside sealpool):\n");
  for (size_t i = 0; i < s.groups.size(); ++i) {
    const ViolationGroup& g = s.groups[i];
    absl::StrAppend(&out, "\n[", i + 1, "] ", KindText(g), ", pool ",
                    g.has_pool ? absl::StrCat("'", Printable(g.pool), "'") : "-",
                    ", ", Plural(g.count, "violation", "violations"), "\n");
    int number = 0;
    for (const LogFrame& f : g.stack) AppendFrameLines(f, &number, &out);
  }
  return out;
}

std::string FormatJson(const Summary& s) {
  std::vector<std::string> inputs, unreadable, groups;
  for (const std::string& in : s.inputs) inputs.push_back(JsonQuote(in));
  for (const std::string& u : s.unreadable) unreadable.push_back(JsonQuote(u));
  for (const ViolationGroup& g : s.groups) {
    groups.push_back(absl::StrCat("    ", JsonGroup(s, g)));
  }
  std::string out = absl::StrCat(
      "{\n  \"inputs\": [", absl::StrJoin(inputs, ", "), "],\n",
      "  \"unreadable\": [", absl::StrJoin(unreadable, ", "), "],\n",
      "  \"lines\": ", s.lines, ",\n", "  \"blank_lines\": ", s.blank_lines,
      ",\n", "  \"records\": ", s.records, ",\n",
      "  \"malformed\": {\"count\": ", s.malformed, ", \"first\": ",
      s.malformed > 0 ? JsonPosition(s, s.first_malformed) : "null",
      ", \"reason\": ",
      s.malformed > 0 ? JsonQuote(s.first_malformed_reason) : "null", "},\n",
      "  \"grouping\": {\"frames\": ", s.options.frames,
      ", \"skip_sealpool_frames\": ",
      s.options.skip_sealpool_frames ? "true" : "false",
      ", \"skip_frames\": ", s.options.skip_frames,
      ", \"exact_frames\": ", s.options.exact_frames ? "true" : "false", "},\n",
      "  \"groups\": [");
  if (!groups.empty()) {
    absl::StrAppend(&out, "\n", absl::StrJoin(groups, ",\n"), "\n  ");
  }
  absl::StrAppend(&out, "]\n}\n");
  return out;
}

}  // namespace report
}  // namespace sealpool
