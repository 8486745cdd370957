// sealpool-report — a small, strict JSON reader and string quoting.
//
// Just enough of RFC 8259 to read the violation log (one object per line:
// strings, unsigned integers, a decimal time, null, an array of hex
// strings) and to check the tool's own --json output. Every input is
// untrusted: the parser never crashes, never recurses deeper than
// kMaxJsonDepth and rejects, with the byte offset, anything that is not
// JSON — control characters in strings, bad or unpaired escapes, invalid
// UTF-8, leading zeros, trailing garbage, duplicate keys.

#ifndef SEALPOOL_TOOLS_REPORT_JSON_H_
#define SEALPOOL_TOOLS_REPORT_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sealpool {
namespace report {

// Arrays and objects nested deeper than this are rejected (the log's
// records are flat: depth 2 with the stack array).
inline constexpr int kMaxJsonDepth = 32;

// One parsed JSON value. Numbers keep their literal text, so that a value
// too large for any C++ type is still read, and can be printed back
// exactly; the As* helpers convert it when it fits.
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  static JsonValue Number(std::string literal);  // literal must be valid JSON
  static JsonValue String(std::string s);
  static JsonValue Array(std::vector<JsonValue> items);
  static JsonValue Object(std::vector<Member> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool boolean() const { return bool_; }
  // The decoded string (kString) or the number's literal text (kNumber).
  const std::string& text() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }

  // The member named `key` of an object, or nullptr (also for non-objects).
  // Keys are unique: the parser rejects duplicates.
  const JsonValue* Find(absl::string_view key) const;

  // A number that is a plain non-negative integer (no sign, fraction or
  // exponent) and fits in 64 bits. False for anything else.
  bool AsUint64(uint64_t* out) const;
  // A finite number in double precision. False for strings, non-finite
  // results (1e999) and everything that is not a number.
  bool AsDouble(double* out) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

// Parses `text`, which must hold exactly one JSON value (whitespace around
// it allowed). Returns InvalidArgument naming the problem and its byte
// offset ("bad escape '\x' at byte 17") for anything else. Cost: linear in
// the input, plus a sort of each object's keys.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// `s` as a JSON string literal, quotes included: '"', '\\' and control
// characters are escaped, well-formed UTF-8 is copied, and any other byte
// is written as \u00XX (read as Latin-1), so the result is always JSON.
std::string JsonQuote(absl::string_view s);

}  // namespace report
}  // namespace sealpool

#endif  // SEALPOOL_TOOLS_REPORT_JSON_H_
