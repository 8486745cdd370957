// The JSON reader: what RFC 8259 allows is read exactly, everything else is
// refused with a reason, and no input crashes it or recurses without bound.

#include "tools/report/json.h"

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sealpool {
namespace report {
namespace {

JsonValue ParseOk(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.ok() ? *v : JsonValue();
}

// The reason ParseJson gives for refusing `text` ("" if it accepts it).
std::string RefusalOf(absl::string_view text) {
  absl::StatusOr<JsonValue> v = ParseJson(text);
  return v.ok() ? std::string() : std::string(v.status().message());
}

TEST(JsonTest, ReadsAFlatObject) {
  const JsonValue v =
      ParseOk(R"( {"s":"x","n":42,"f":-1.5e3,"t":true,"z":false,"nil":null,)"
              R"("a":["0x1","0xff"],"e":[],"o":{}} )");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.members().size(), 9u);
  EXPECT_EQ(v.Find("s")->text(), "x");
  uint64_t n = 0;
  EXPECT_TRUE(v.Find("n")->AsUint64(&n));
  EXPECT_EQ(n, 42u);
  double f = 0;
  EXPECT_TRUE(v.Find("f")->AsDouble(&f));
  EXPECT_EQ(f, -1500.0);
  EXPECT_EQ(v.Find("f")->text(), "-1.5e3");
  EXPECT_TRUE(v.Find("t")->boolean());
  EXPECT_FALSE(v.Find("z")->boolean());
  EXPECT_TRUE(v.Find("nil")->is_null());
  ASSERT_EQ(v.Find("a")->items().size(), 2u);
  EXPECT_EQ(v.Find("a")->items()[1].text(), "0xff");
  EXPECT_TRUE(v.Find("e")->items().empty());
  EXPECT_TRUE(v.Find("o")->is_object());
  EXPECT_EQ(v.Find("missing"), nullptr);
}

TEST(JsonTest, NestedValuesAreReadWithinTheDepthLimit) {
  const JsonValue v =
      ParseOk(R"({"kind":"x","extra":{"a":[1,[2,{"b":[]}]],"c":{"d":null}}})");
  EXPECT_EQ(v.Find("kind")->text(), "x");
  EXPECT_TRUE(v.Find("extra")->is_object());

  std::string ok_deep, too_deep;
  for (int i = 0; i < kMaxJsonDepth; ++i) ok_deep += "[";
  for (int i = 0; i < kMaxJsonDepth; ++i) ok_deep += "]";
  ParseOk(ok_deep);
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) too_deep += "[";
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) too_deep += "]";
  EXPECT_TRUE(absl::StrContains(RefusalOf(too_deep), "nested too deeply"));
  // Far deeper than any stack would allow if the parser recursed freely.
  const std::string hostile(1 << 20, '[');
  EXPECT_TRUE(absl::StrContains(RefusalOf(hostile), "nested too deeply"));
  const std::string objects =
      absl::StrCat(std::string(100000, '{'), std::string(100000, '}'));
  EXPECT_FALSE(RefusalOf(objects).empty());
}

TEST(JsonTest, DecodesEscapes) {
  const JsonValue v = ParseOk(
      R"(["a\"b\\c\/d\b\f\n\r\t", "\u0041\u00e9\u20ac", "\ud83d\ude00", "\u0000"])");
  ASSERT_EQ(v.items().size(), 4u);
  EXPECT_EQ(v.items()[0].text(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(v.items()[1].text(), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(v.items()[2].text(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(v.items()[3].text(), std::string(1, '\0'));
}

TEST(JsonTest, RefusesBadEscapes) {
  EXPECT_TRUE(absl::StrContains(RefusalOf(R"("\q")"), "bad escape '\\q'"));
  EXPECT_TRUE(absl::StrContains(RefusalOf("\"\\\x01\""), "bad escape"));
  EXPECT_TRUE(absl::StrContains(RefusalOf(R"("\u12")"), "\\u escape"));
  EXPECT_TRUE(absl::StrContains(RefusalOf(R"("\u12G4")"), "bad \\u escape"));
  EXPECT_TRUE(absl::StrContains(RefusalOf(R"("\ud800")"), "unpaired high"));
  EXPECT_TRUE(
      absl::StrContains(RefusalOf(R"("\ud800\u0041")"), "unpaired high"));
  EXPECT_TRUE(absl::StrContains(RefusalOf(R"("\udc00")"), "unpaired low"));
  EXPECT_TRUE(absl::StrContains(RefusalOf(R"("abc\)"), "unterminated"));
}

TEST(JsonTest, RefusesWhatIsNotJson) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"", "unexpected end of input"},
      {"   ", "unexpected end of input"},
      {"{", "unexpected end of input"},
      {R"({"a")", "unexpected end of input"},
      {R"({"a":)", "unexpected end of input"},
      {R"({"a":1)", "unexpected end of input"},
      {R"({"a":1,})", "key expected"},
      {R"({a:1})", "key expected"},
      {R"({"a" 1})", "':' expected"},
      {R"({"a":1 "b":2})", "',' or '}' expected"},
      {"[1 2]", "',' or ']' expected"},
      {"[1,]", "unexpected character"},
      {"{} {}", "unexpected text after the value"},
      {"01", "leading zero"},
      {"-", "digit expected"},
      {"1.", "digit expected after '.'"},
      {"1e", "digit expected in exponent"},
      {"+1", "unexpected character"},
      {"tru", "unexpected character"},
      {"nul", "unexpected character"},
      {"'a'", "unexpected character"},
      {"\"a\nb\"", "control character in string"},
      {"\"\xff\"", "invalid UTF-8"},
      {"\"\xc0\xaf\"", "invalid UTF-8"},          // overlong '/'
      {"\"\xed\xa0\x80\"", "invalid UTF-8"},      // encoded surrogate
      {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"},  // above U+10FFFF
      {"\"\xe2\x82\"", "invalid UTF-8"},          // truncated sequence
      {R"({"a":1,"a":2})", "duplicate key"},
  };
  for (const Case& c : cases) {
    const std::string why = RefusalOf(c.text);
    EXPECT_TRUE(absl::StrContains(why, c.reason))
        << "input: " << c.text << "\nreason: " << why;
    EXPECT_TRUE(absl::StrContains(why, " at byte ")) << why;
  }
}

TEST(JsonTest, NumbersKeepTheirLiteralAndConvertOnlyWhenExact) {
  const JsonValue v = ParseOk(
      "[0, 18446744073709551615, 18446744073709551616, -1, 1.5, 1e3, 1e999,"
      " 99999999999999999999999999999999999999]");
  const auto& n = v.items();
  uint64_t u = 0;
  EXPECT_TRUE(n[0].AsUint64(&u));
  EXPECT_EQ(u, 0u);
  EXPECT_TRUE(n[1].AsUint64(&u));
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_FALSE(n[2].AsUint64(&u));  // one past the largest
  EXPECT_FALSE(n[3].AsUint64(&u));  // negative
  EXPECT_FALSE(n[4].AsUint64(&u));  // fraction
  EXPECT_FALSE(n[5].AsUint64(&u));  // exponent
  double d = 0;
  EXPECT_TRUE(n[5].AsDouble(&d));
  EXPECT_EQ(d, 1000.0);
  EXPECT_FALSE(n[6].AsDouble(&d));  // not finite
  EXPECT_EQ(n[7].text(), "99999999999999999999999999999999999999");
  EXPECT_FALSE(n[7].AsUint64(&u));
  EXPECT_FALSE(JsonValue::String("5").AsUint64(&u));
  EXPECT_FALSE(JsonValue::String("5").AsDouble(&d));
}

TEST(JsonTest, QuoteRoundTripsEveryByte) {
  std::string all;
  for (int c = 1; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string quoted = JsonQuote(all);
  for (char c : quoted) {
    const unsigned char uc = static_cast<unsigned char>(c);
    EXPECT_TRUE(uc >= 0x20 && uc < 0x7f) << "raw byte " << int{uc};
  }
  const JsonValue back = ParseOk(quoted);
  // ASCII comes back as it was; the lone high bytes (not UTF-8) come back
  // as the Latin-1 characters they were written as.
  ASSERT_TRUE(back.is_string());
  EXPECT_EQ(back.text().substr(0, 127), all.substr(0, 127));

  const std::string utf8 = "pool \xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80";
  EXPECT_EQ(JsonQuote(utf8), "\"" + utf8 + "\"");
  EXPECT_EQ(ParseOk(JsonQuote(utf8)).text(), utf8);
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x7f"), R"("a\"b\\c\u000a\u007f")");
}

}  // namespace
}  // namespace report
}  // namespace sealpool
