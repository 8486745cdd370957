// Log records and grouping, on logs written here line by line: every field
// of a record, malformed lines of every sort (counted, the first located,
// never fatal), blank and over-long lines, several inputs, the grouping key
// and its options, and the table and JSON renderings of the result.

#include "tools/report/violation_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tools/report/format.h"
#include "tools/report/json.h"

namespace sealpool {
namespace report {
namespace {

// A log line as the library writes it, with the fields a test varies.
struct Line {
  std::string kind = "out-of-bounds";
  std::string pool = "sessions";  // "" writes null
  uint64_t len = 64;
  std::string dir = "read";
  uint64_t object_size = 50;
  uint64_t offset = 0;
  std::string time = "1795800047.884";
  std::vector<uint64_t> stack = {0x557f7859ec40, 0x557f78593d08};

  std::string Json() const {
    std::string frames;
    for (uint64_t pc : stack) {
      absl::StrAppend(&frames, frames.empty() ? "" : ",", "\"0x", absl::Hex(pc),
                      "\"");
    }
    return absl::StrCat(
        "{\"time\":", time, ",\"kind\":", JsonQuote(kind),
        ",\"pool\":", pool.empty() ? "null" : JsonQuote(pool),
        ",\"pool_id\":1,\"addr\":140103924522944,\"len\":", len,
        ",\"dir\":", JsonQuote(dir),
        ",\"object_start\":140103924522944,\"object_size\":", object_size,
        ",\"offset\":", offset,
        ",\"thread\":19183,\"detail\":\"range runs past the object's end\","
        "\"stack\":[",
        frames, "]}");
  }
};

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, l, "\n");
  return out;
}

Summary SummarizeText(const std::string& text,
                      const GroupingOptions& options = GroupingOptions()) {
  Summarizer s(options);
  s.AddText("log", text);
  return s.Finish();
}

TEST(LogRecordTest, ReadsEveryField) {
  Line line;
  line.offset = 16;
  line.len = 40;
  absl::StatusOr<LogRecord> r = ParseLogRecord(line.Json());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, "out-of-bounds");
  EXPECT_TRUE(r->has_pool);
  EXPECT_EQ(r->pool, "sessions");
  EXPECT_EQ(r->pool_id, 1u);
  EXPECT_EQ(r->addr, 140103924522944u);
  EXPECT_EQ(r->len, 40u);
  EXPECT_EQ(r->dir, "read");
  EXPECT_EQ(r->object_start, 140103924522944u);
  EXPECT_EQ(r->object_size, 50u);
  EXPECT_EQ(r->offset, 16u);
  EXPECT_EQ(r->thread, 19183u);
  EXPECT_EQ(r->detail, "range runs past the object's end");
  EXPECT_TRUE(r->has_time);
  EXPECT_DOUBLE_EQ(r->time, 1795800047.884);
  EXPECT_EQ(r->time_text, "1795800047.884");
  EXPECT_EQ(r->stack, line.stack);
}

TEST(LogRecordTest, OnlyKindIsRequiredAndUnknownFieldsAreIgnored) {
  absl::StatusOr<LogRecord> r = ParseLogRecord(
      R"({"kind":"double-free","future":{"nested":[1,{"x":null}]},"pool":null})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, "double-free");
  EXPECT_FALSE(r->has_pool);
  EXPECT_FALSE(r->has_time);
  EXPECT_EQ(r->dir, "none");
  EXPECT_TRUE(r->stack.empty());
}

TEST(LogRecordTest, RefusesWrongTypesAndRanges) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([1,2])", "not a JSON object"},
      {R"({"pool":"x"})", "no 'kind'"},
      {R"({"kind":""})", "'kind'"},
      {R"({"kind":7})", "'kind'"},
      {R"({"kind":"k","pool":3})", "'pool'"},
      {R"({"kind":"k","len":-1})", "'len'"},
      {R"({"kind":"k","len":1.5})", "'len'"},
      {R"({"kind":"k","len":1e3})", "'len'"},
      {R"({"kind":"k","len":"64"})", "'len'"},
      {R"({"kind":"k","addr":18446744073709551616})", "'addr'"},
      {R"({"kind":"k","offset":123456789012345678901234567890})", "'offset'"},
      {R"({"kind":"k","time":1e400})", "'time'"},
      {R"({"kind":"k","time":-1})", "'time'"},
      {R"({"kind":"k","time":1e13})", "'time'"},
      {R"({"kind":"k","time":"now"})", "'time'"},
      {R"({"kind":"k","dir":"sideways"})", "'dir'"},
      {R"({"kind":"k","stack":"0x1"})", "'stack'"},
      {R"({"kind":"k","stack":[1]})", "'stack'"},
      {R"({"kind":"k","stack":["0x"]})", "'stack'"},
      {R"({"kind":"k","stack":["0x12345678901234567"]})", "'stack'"},
      {R"({"kind":"k","stack":["12"]})", "'stack'"},
      {R"({"kind":"k","stack":["0xg"]})", "'stack'"},
      {R"({"kind":"k","detail":[]})", "'detail'"},
  };
  for (const auto& [text, reason] : cases) {
    absl::StatusOr<LogRecord> r = ParseLogRecord(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(absl::StrContains(r.status().message(), reason))
        << text << ": " << r.status();
  }
}

TEST(SummarizerTest, EmptyInputSaysSo) {
  const Summary s = SummarizeText("");
  EXPECT_EQ(s.inputs.size(), 1u);
  EXPECT_EQ(s.lines, 0u);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(s.malformed, 0u);
  EXPECT_TRUE(s.groups.empty());
  const std::string table = FormatTable(s);
  EXPECT_TRUE(absl::StrContains(table, "no violations from 1 input (0 lines)"))
      << table;
  EXPECT_FALSE(absl::StrContains(table, "COUNT")) << table;

  const Summary blank = SummarizeText("\n  \n\t\r\n");
  EXPECT_EQ(blank.lines, 3u);
  EXPECT_EQ(blank.blank_lines, 3u);
  EXPECT_EQ(blank.malformed, 0u);
  EXPECT_TRUE(absl::StrContains(FormatTable(blank), "no violations"));
}

TEST(SummarizerTest, MalformedLinesAreCountedAndTheFirstIsLocated) {
  const std::string good = Line().Json();
  const char junk[] = "\x00\xff\xfe{\"kind\x01\x02\nmore\x7f\xc3";
  const std::vector<std::string> bad = {
      good.substr(0, good.find("\"pool\":") + 7),  // cut after a key
      R"({"kind":"out-of-bounds","detail":"bad \q escape"})",
      R"({"kind":"out-of-bounds","len":184467440737095516150})",  // huge
      std::string(junk, sizeof(junk) - 1),  // binary, with a newline inside
      "not json at all",
      std::string(3 * 1024, '['),
  };
  std::vector<std::string> lines = {good};
  for (const std::string& b : bad) {
    lines.push_back(b);
    lines.push_back(good);
  }
  const Summary s = SummarizeText(Join(lines));
  // The junk case holds a newline of its own: it is two bad lines.
  EXPECT_EQ(s.malformed, bad.size() + 1);
  EXPECT_EQ(s.records, bad.size() + 1);
  EXPECT_EQ(s.lines, s.malformed + s.records);
  EXPECT_EQ(PositionText(s, s.first_malformed), "log:2");
  EXPECT_TRUE(absl::StrContains(s.first_malformed_reason, "unexpected end"))
      << s.first_malformed_reason;
  ASSERT_EQ(s.groups.size(), 1u);
  EXPECT_EQ(s.groups[0].count, s.records);

  const std::string table = FormatTable(s);
  EXPECT_TRUE(absl::StrContains(
      table, absl::StrCat("malformed: ", s.malformed,
                          " lines skipped; the first at log:2: ")))
      << table;
}

TEST(SummarizerTest, TheFinalLineNeedsNoNewline) {
  const std::string good = Line().Json();
  EXPECT_EQ(SummarizeText(good).records, 1u);
  const Summary cut =
      SummarizeText(absl::StrCat(good, "\n", good.substr(0, 9)));
  EXPECT_EQ(cut.records, 1u);
  EXPECT_EQ(cut.malformed, 1u);
  EXPECT_EQ(PositionText(cut, cut.first_malformed), "log:2");
}

TEST(SummarizerTest, OverlongLinesAreMalformedAndBounded) {
  const std::string good = Line().Json();
  Line huge;
  huge.pool = std::string(kMaxLineBytes, 'p');  // valid JSON, too long
  const Summary s = SummarizeText(Join({good, huge.Json(), good}));
  EXPECT_EQ(s.records, 2u);
  EXPECT_EQ(s.malformed, 1u);
  EXPECT_EQ(PositionText(s, s.first_malformed), "log:2");
  EXPECT_TRUE(absl::StrContains(s.first_malformed_reason, "longer than"));
}

TEST(SummarizerTest, NoPrefixOrByteFlipOfARecordCrashes) {
  const std::string good = Line().Json();
  for (size_t n = 0; n < good.size(); ++n) {
    const Summary s = SummarizeText(good.substr(0, n));
    EXPECT_EQ(s.records, 0u) << good.substr(0, n);
  }
  std::mt19937 rng(12345);
  uint64_t parsed = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xff);
    }
    const Summary s = SummarizeText(mutated);
    EXPECT_EQ(s.records + s.malformed + s.blank_lines, s.lines);
    parsed += s.records;
    // Whatever was accepted renders and re-reads as JSON.
    EXPECT_TRUE(ParseJson(FormatJson(s)).ok()) << mutated;
  }
  EXPECT_LT(parsed, 5000u);
}

TEST(SummarizerTest, GroupsByPoolKindAndTopFrame) {
  std::vector<std::string> lines;
  std::map<std::tuple<std::string, std::string, uint64_t>, uint64_t> want;
  const char* const kinds[] = {"out-of-bounds", "use-after-free",
                               "double-free"};
  const char* const pools[] = {"sessions", "packets", ""};
  const uint64_t frames[] = {0x555500001234, 0x5555000056f8};
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    Line l;
    l.kind = kinds[rng() % 3];
    l.pool = pools[rng() % 3];
    l.stack = {frames[rng() % 2], 0x7f0000000000 + rng() % 4096};
    lines.push_back(l.Json());
    ++want[{l.kind, l.pool, l.stack[0]}];
  }
  const Summary s = SummarizeText(Join(lines));
  EXPECT_EQ(s.records, 300u);
  ASSERT_EQ(s.groups.size(), want.size());
  uint64_t previous = UINT64_MAX;
  for (const ViolationGroup& g : s.groups) {
    ASSERT_EQ(g.frames.size(), 1u);
    EXPECT_EQ(g.count, (want[{g.kind, g.pool, g.frames[0]}]))
        << g.kind << " " << g.pool;
    EXPECT_LE(g.count, previous) << "groups are sorted by count";
    previous = g.count;
  }

  GroupingOptions none;
  none.frames = 0;
  const Summary by_pool_kind = SummarizeText(Join(lines), none);
  std::map<std::pair<std::string, std::string>, uint64_t> want2;
  for (const auto& [key, n] : want) {
    want2[{std::get<0>(key), std::get<1>(key)}] += n;
  }
  ASSERT_EQ(by_pool_kind.groups.size(), want2.size());
  for (const ViolationGroup& g : by_pool_kind.groups) {
    EXPECT_TRUE(g.frames.empty());
    EXPECT_EQ(g.count, (want2[{g.kind, g.pool}]));
  }
}

TEST(SummarizerTest, FramesMatchByPageOffsetUnlessExact) {
  // The same call site in three processes that ASLR loaded differently,
  // and another site in the first.
  std::vector<std::string> lines;
  for (uint64_t base :
       {0x555500000000ull, 0x561200000000ull, 0x5633aa000000ull}) {
    Line l;
    l.stack = {base + 0x1c40, base + 0x2d08};
    lines.push_back(l.Json());
  }
  Line other;
  other.stack = {0x555500001c58, 0x555500002d20};
  lines.push_back(other.Json());

  const Summary aslr = SummarizeText(Join(lines));
  ASSERT_EQ(aslr.groups.size(), 2u);
  EXPECT_EQ(aslr.groups[0].count, 3u);
  EXPECT_EQ(aslr.groups[0].frames[0], 0x555500001c40u);  // the first record's
  EXPECT_EQ(aslr.groups[1].count, 1u);

  GroupingOptions exact;
  exact.exact_frames = true;
  EXPECT_EQ(SummarizeText(Join(lines), exact).groups.size(), 4u);

  GroupingOptions two;  // second frames differ between the sites too
  two.frames = 2;
  const Summary by_two = SummarizeText(Join(lines), two);
  ASSERT_EQ(by_two.groups.size(), 2u);
  EXPECT_EQ(by_two.groups[0].frames.size(), 2u);

  GroupingOptions skip;  // key on the caller's frame only
  skip.skip_frames = 1;
  const Summary skipped = SummarizeText(Join(lines), skip);
  ASSERT_EQ(skipped.groups.size(), 2u);
  EXPECT_EQ(skipped.groups[0].frames[0], 0x555500002d08u);
  skip.skip_frames = 5;  // past every stack: no frames in the key
  const Summary past = SummarizeText(Join(lines), skip);
  ASSERT_EQ(past.groups.size(), 1u);
  EXPECT_TRUE(past.groups[0].frames.empty());
}

// Logs whose stacks still start with sealpool's own frames (older library
// versions recorded them): the key is the first frame outside sealpool, so
// two call sites through one sp_memcpy are two groups.
TEST(SummarizerTest, GroupsOnTheFirstFrameOutsideSealpool) {
  const std::string via_a =
      R"j({"kind":"out-of-bounds","stack":["0x5555000010a0","0x555500002040"],)j"
      R"j("frames":[{"addr":"0x5555000010a0","module":"/bin/host",)j"
      R"j("offset":"0x10a0","function":"sp_memcpy"},)j"
      R"j({"addr":"0x555500002040","module":"/bin/host","offset":"0x2040",)j"
      R"j("function":"HostA()","file":"/src/a.c","line":12}],)j"
      R"j("modules":[{"path":"/bin/host","base":"0x555500000000"}]})j";
  const std::string via_b =
      R"j({"kind":"out-of-bounds","frames":[{"addr":"0x5555000010a0",)j"
      R"j("module":"/bin/host","offset":"0x10a0","function":)j"
      R"j("sealpool::CheckedMemcpy(void*, void const*, unsigned long)"},)j"
      R"j({"addr":"0x555500003040","module":"/bin/host","offset":"0x3040",)j"
      R"j("function":"HostB()","inlined":[{"function":"Helper","file":)j"
      R"j("/src/b.h","line":3}]}]})j";
  const Summary s = SummarizeText(Join({via_a, via_b, via_a}));
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[0].count, 2u);
  ASSERT_EQ(s.groups[0].key_frames.size(), 1u);
  EXPECT_EQ(s.groups[0].key_frames[0].offset, 0x2040u);
  ASSERT_EQ(s.groups[0].stack.size(), 1u);
  ASSERT_EQ(s.groups[1].key_frames.size(), 1u);
  ASSERT_EQ(s.groups[1].key_frames[0].locations.size(), 2u);
  EXPECT_EQ(s.groups[1].key_frames[0].locations[0].function, "Helper");
  EXPECT_EQ(s.groups[1].key_frames[0].locations[1].function, "HostB()");
  const std::string table = FormatTable(s);
  EXPECT_NE(table.find("HostA() a.c:12"), std::string::npos) << table;
  EXPECT_NE(table.find("Helper b.h:3"), std::string::npos) << table;
  EXPECT_NE(table.find("    #0 0x555500003040 in Helper /src/b.h:3 "
                       "(/bin/host+0x3040)\n"
                       "    #1 0x555500003040 in HostB() (/bin/host+0x3040)\n"),
            std::string::npos)
      << table;
  EXPECT_EQ(table.find("sp_memcpy"), std::string::npos) << table;

  // The old way: the top frame, sp_memcpy's, for both.
  GroupingOptions keep;
  keep.skip_sealpool_frames = false;
  const Summary kept = SummarizeText(Join({via_a, via_b, via_a}), keep);
  ASSERT_EQ(kept.groups.size(), 1u);
  EXPECT_EQ(kept.groups[0].count, 3u);

  // A record of malformed frames is malformed.
  EXPECT_FALSE(ParseLogRecord(R"j({"kind":"x","frames":[{"module":"m"}]})j").ok());
  EXPECT_FALSE(ParseLogRecord(R"j({"kind":"x","frames":[{"addr":"12"}]})j").ok());
  EXPECT_FALSE(
      ParseLogRecord(R"j({"kind":"x","frames":[{"addr":"0x1","line":"7"}]})j")
          .ok());
  EXPECT_FALSE(ParseLogRecord(R"j({"kind":"x","modules":[1]})j").ok());
}

TEST(SummarizerTest, FirstAndLastSeenAcrossInputs) {
  Line early, late, middle;
  early.time = "1795800001.001";
  middle.time = "1795800002.500";
  late.time = "1795800009.999";
  early.offset = 1;
  middle.offset = 2;
  late.offset = 3;
  Summarizer s;
  s.AddText("a.jsonl", Join({middle.Json(), "garbage"}));
  s.AddText("b.jsonl", Join({late.Json(), early.Json(), middle.Json()}));
  const Summary sum = s.Finish();
  ASSERT_EQ(sum.inputs.size(), 2u);
  ASSERT_EQ(sum.groups.size(), 1u);
  const ViolationGroup& g = sum.groups[0];
  EXPECT_EQ(g.count, 4u);
  EXPECT_EQ(g.first_time_text, early.time);
  EXPECT_EQ(g.last_time_text, late.time);
  EXPECT_EQ(PositionText(sum, g.first_seen), "a.jsonl:1");
  EXPECT_EQ(PositionText(sum, g.last_seen), "b.jsonl:3");
  EXPECT_EQ(PositionText(sum, sum.first_malformed), "a.jsonl:2");
  // Distinct examples, in order of appearance, at most three.
  ASSERT_EQ(g.examples.size(), 3u);
  EXPECT_EQ(g.examples[0].offset, 2u);
  EXPECT_EQ(g.examples[1].offset, 3u);
  EXPECT_EQ(g.examples[2].offset, 1u);

  const std::string table = FormatTable(sum);
  EXPECT_TRUE(absl::StrContains(table, FormatUtc(1795800001.001))) << table;
  EXPECT_TRUE(absl::StrContains(table, FormatUtc(1795800009.999))) << table;
  EXPECT_TRUE(absl::StrContains(table, "a.jsonl:1")) << table;
  EXPECT_TRUE(absl::StrContains(table, "2+64/50, 3+64/50, 1+64/50")) << table;
}

TEST(SummarizerTest, RecordsWithoutTimeShowPositionsOnly) {
  const Summary s =
      SummarizeText(Join({R"({"kind":"double-free","pool":"p"})",
                          R"({"kind":"double-free","pool":"p"})"}));
  ASSERT_EQ(s.groups.size(), 1u);
  EXPECT_FALSE(s.groups[0].has_time);
  EXPECT_EQ(PositionText(s, s.groups[0].last_seen), "log:2");
  const absl::StatusOr<JsonValue> j = ParseJson(FormatJson(s));
  ASSERT_TRUE(j.ok()) << j.status();
  const JsonValue& g = j->Find("groups")->items()[0];
  EXPECT_TRUE(g.Find("first_time")->is_null());
  EXPECT_EQ(g.Find("last_seen")->text(), "log:2");
}

TEST(SummarizerTest, AddFileReadsFilesAndReportsUnreadableOnes) {
  char dir_template[] = "/tmp/sealpool-report-test-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  ASSERT_NE(dir, nullptr);
  const std::string path = absl::StrCat(dir, "/log.jsonl");
  const std::string text = Join({Line().Json(), Line().Json()});
  {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    close(fd);
  }
  const std::string missing = absl::StrCat(dir, "/missing.jsonl");
  const std::string empty = absl::StrCat(dir, "/empty.jsonl");
  close(open(empty.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));

  Summarizer s;
  EXPECT_TRUE(s.AddFile(path).ok());
  EXPECT_FALSE(s.AddFile(missing).ok());
  EXPECT_FALSE(s.AddFile(dir).ok());  // a directory cannot be read
  EXPECT_TRUE(s.AddFile(empty).ok());
  const Summary sum = s.Finish();
  EXPECT_EQ(sum.inputs.size(), 4u);
  EXPECT_EQ(sum.records, 2u);
  ASSERT_EQ(sum.unreadable.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(sum.unreadable[0], missing));
  EXPECT_TRUE(absl::StartsWith(sum.unreadable[1], dir));
  EXPECT_TRUE(absl::StrContains(FormatTable(sum), "unreadable: " + missing));

  unlink(path.c_str());
  unlink(empty.c_str());
  rmdir(dir);
}

TEST(FormatTest, TableEscapesWhatTheLogsHold) {
  Line l;
  l.pool = "evil\x1b[31mred\\";
  l.kind = "odd\nkind";
  const Summary s = SummarizeText(l.Json());
  const std::string table = FormatTable(s);
  EXPECT_TRUE(absl::StrContains(table, "evil\\x1b[31mred\\\\")) << table;
  EXPECT_TRUE(absl::StrContains(table, "odd\\x0akind")) << table;
  EXPECT_FALSE(absl::StrContains(table, "\x1b")) << table;
  EXPECT_EQ(Printable("a\x7f\xff"), "a\\x7f\\xff");
}

TEST(FormatTest, TableHasOneRowPerGroupUnderAHeader) {
  Line a, b;
  b.pool = "";
  b.kind = "stack";
  b.dir = "write";
  const Summary s = SummarizeText(Join({a.Json(), a.Json(), b.Json()}));
  const std::string table = FormatTable(s);
  const std::vector<std::string> rows = absl::StrSplit(table, '\n');
  int header = -1;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (absl::StrContains(rows[i], "COUNT")) header = static_cast<int>(i);
  }
  ASSERT_GE(header, 0) << table;
  const std::string& first = rows[header + 1];
  const std::string& second = rows[header + 2];
  EXPECT_TRUE(absl::StartsWith(absl::StripLeadingAsciiWhitespace(first), "2 "))
      << first;
  EXPECT_TRUE(absl::StrContains(first, "out-of-bounds read")) << first;
  EXPECT_TRUE(absl::StrContains(first, "sessions")) << first;
  EXPECT_TRUE(absl::StrContains(first, "0x557f7859ec40")) << first;
  EXPECT_TRUE(absl::StrContains(second, "stack write")) << second;
  // Columns line up: every row's FRAME cell starts where the header's does.
  const size_t col = rows[header].find("FRAME");
  EXPECT_EQ(first.find("0x"), col) << table;
  EXPECT_TRUE(absl::StrContains(table, "3 violations in 2 groups")) << table;
}

TEST(FormatTest, JsonHoldsEverythingTheTableDoes) {
  Line a;
  a.pool = "we\"ird\\name";
  const Summary s = SummarizeText(Join({a.Json(), "junk", a.Json()}));
  const absl::StatusOr<JsonValue> j = ParseJson(FormatJson(s));
  ASSERT_TRUE(j.ok()) << j.status() << "\n" << FormatJson(s);
  uint64_t n = 0;
  ASSERT_TRUE(j->Find("records")->AsUint64(&n));
  EXPECT_EQ(n, s.records);
  ASSERT_TRUE(j->Find("lines")->AsUint64(&n));
  EXPECT_EQ(n, s.lines);
  const JsonValue* bad = j->Find("malformed");
  ASSERT_NE(bad, nullptr);
  ASSERT_TRUE(bad->Find("count")->AsUint64(&n));
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(bad->Find("first")->text(), "log:2");
  EXPECT_EQ(bad->Find("reason")->text(), s.first_malformed_reason);
  ASSERT_EQ(j->Find("groups")->items().size(), 1u);
  const JsonValue& g = j->Find("groups")->items()[0];
  EXPECT_EQ(g.Find("pool")->text(), a.pool);
  EXPECT_EQ(g.Find("kind")->text(), a.kind);
  ASSERT_TRUE(g.Find("count")->AsUint64(&n));
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(g.Find("first_time")->text(), a.time);
  EXPECT_EQ(g.Find("frames")->items()[0].text(), "0x557f7859ec40");
  EXPECT_EQ(g.Find("dirs")->items()[0].text(), "read");
  const JsonValue& example = g.Find("examples")->items()[0];
  ASSERT_TRUE(example.Find("object_size")->AsUint64(&n));
  EXPECT_EQ(n, a.object_size);

  const absl::StatusOr<JsonValue> empty =
      ParseJson(FormatJson(SummarizeText("")));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->Find("groups")->items().empty());
  EXPECT_TRUE(empty->Find("malformed")->Find("first")->is_null());
}

}  // namespace
}  // namespace report
}  // namespace sealpool
