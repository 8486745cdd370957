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
  std::vector<std::string> dirs, frames, examples;
  for (const std::string& d : g.dirs) dirs.push_back(JsonQuote(d));
  for (uint64_t pc : g.frames) frames.push_back(JsonQuote(FrameText(pc)));
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
    for (uint64_t pc : g.frames) frames.push_back(FrameText(pc));
    rows.push_back({absl::StrCat(g.count), KindText(g),
                    g.has_pool ? Printable(g.pool) : "-",
                    frames.empty() ? "-" : absl::StrJoin(frames, " "),
                    g.has_time ? FormatUtc(g.first_time) : "-",
                    g.has_time ? FormatUtc(g.last_time) : "-",
                    Printable(PositionText(s, g.first_seen)), ExamplesText(g)});
  }
  absl::StrAppend(&out, "\n", RenderTable(rows));
  if (s.options.frames > 0) {
    absl::StrAppend(
        &out, "\n",
        s.options.exact_frames
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
