// sealpool-report — the JSON reader: recursive descent over a string_view,
// depth-limited, with one error path that names the byte offset.

#include "tools/report/json.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sealpool {
namespace report {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto byte = [&s](size_t i) {
    return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u;
  };
  const auto cont = [&byte](size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) {
    const unsigned b = byte(i);
    return b >= lo && b <= hi;
  };
  const unsigned b0 = byte(0);
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 == 0xee || b0 == 0xef) {
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b0 == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    SkipSpace();
    JsonValue value;
    if (!ParseValue(1, &value)) return error_;
    SkipSpace();
    if (pos_ != text_.size()) {
      Fail("unexpected text after the value");
      return error_;
    }
    return value;
  }

 private:
  bool Fail(absl::string_view what) {
    error_ = absl::InvalidArgumentError(absl::StrCat(what, " at byte ", pos_));
    return false;
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  void SkipSpace() {
    while (!AtEnd()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  bool ParseValue(int depth, JsonValue* out) {
    if (AtEnd()) return Fail("unexpected end of input");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(depth, out);
      case '[':
        return ParseArray(depth, out);
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        *out = JsonValue::String(std::move(s));
        return true;
      }
      case 't':
        return ParseLiteral("true", JsonValue::Bool(true), out);
      case 'f':
        return ParseLiteral("false", JsonValue::Bool(false), out);
      case 'n':
        return ParseLiteral("null", JsonValue::Null(), out);
      default:
        if (Peek() == '-' || IsDigit(Peek())) return ParseNumber(out);
        return Fail("unexpected character");
    }
  }

  bool ParseLiteral(absl::string_view word, JsonValue value, JsonValue* out) {
    if (text_.substr(pos_, word.size()) != word) {
      return Fail("unexpected character");
    }
    pos_ += word.size();
    *out = std::move(value);
    return true;
  }

  // number = [ "-" ] int [ frac ] [ exp ], RFC 8259 section 6.
  bool ParseNumber(JsonValue* out) {
    const size_t start = pos_;
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
      if (IsDigit(Peek())) return Fail("leading zero in number");
    } else if (IsDigit(Peek())) {
      while (IsDigit(Peek())) ++pos_;
    } else {
      return Fail("digit expected");
    }
    if (Peek() == '.') {
      ++pos_;
      if (!IsDigit(Peek())) return Fail("digit expected after '.'");
      while (IsDigit(Peek())) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!IsDigit(Peek())) return Fail("digit expected in exponent");
      while (IsDigit(Peek())) ++pos_;
    }
    *out = JsonValue::Number(std::string(text_.substr(start, pos_ - start)));
    return true;
  }

  // Four hex digits after "\u"; pos_ is on the first digit.
  bool ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = HexDigit(text_[pos_ + i]);
      if (d < 0) return Fail("bad \\u escape");
      v = v << 4 | static_cast<uint32_t>(d);
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // the opening quote
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      const char c = text_[pos_];
      const unsigned char uc = static_cast<unsigned char>(c);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (uc < 0x20) return Fail("control character in string");
      if (uc >= 0x80) {
        const size_t n = Utf8SequenceLength(text_.substr(pos_));
        if (n == 0) return Fail("invalid UTF-8 in string");
        out->append(text_.data() + pos_, n);
        pos_ += n;
        continue;
      }
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (AtEnd()) return Fail("unterminated string");
      const char e = text_[pos_];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          ++pos_;
          uint32_t cp = 0;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) {
            return Fail("unpaired low surrogate in \\u escape");
          }
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (text_.substr(pos_, 2) != "\\u") {
              return Fail("unpaired high surrogate in \\u escape");
            }
            pos_ += 2;
            uint32_t low = 0;
            if (!ParseHex4(&low)) return false;
            if (low < 0xdc00 || low > 0xdfff) {
              return Fail("unpaired high surrogate in \\u escape");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          AppendUtf8(cp, out);
          continue;  // pos_ is past the escape already
        }
        default:
          if (e > 0x20 && e < 0x7f) {
            return Fail(absl::StrCat("bad escape '\\",
                                     absl::string_view(&text_[pos_], 1), "'"));
          }
          return Fail("bad escape (unprintable byte after '\\')");
      }
      ++pos_;
    }
  }

  bool ParseArray(int depth, JsonValue* out) {
    if (depth > kMaxJsonDepth) return Fail("nested too deeply");
    ++pos_;  // '['
    std::vector<JsonValue> items;
    SkipSpace();
    if (Peek() == ']') {
      ++pos_;
      *out = JsonValue::Array(std::move(items));
      return true;
    }
    while (true) {
      SkipSpace();
      JsonValue item;
      if (!ParseValue(depth + 1, &item)) return false;
      items.push_back(std::move(item));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        *out = JsonValue::Array(std::move(items));
        return true;
      }
      return Fail(AtEnd() ? "unexpected end of input" : "',' or ']' expected");
    }
  }

  bool ParseObject(int depth, JsonValue* out) {
    if (depth > kMaxJsonDepth) return Fail("nested too deeply");
    const size_t start = pos_;
    ++pos_;  // '{'
    std::vector<JsonValue::Member> members;
    SkipSpace();
    if (Peek() == '}') {
      ++pos_;
      *out = JsonValue::Object(std::move(members));
      return true;
    }
    while (true) {
      SkipSpace();
      if (Peek() != '"') {
        return Fail(AtEnd() ? "unexpected end of input" : "key expected");
      }
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (Peek() != ':') {
        return Fail(AtEnd() ? "unexpected end of input" : "':' expected");
      }
      ++pos_;
      SkipSpace();
      JsonValue value;
      if (!ParseValue(depth + 1, &value)) return false;
      members.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        break;
      }
      return Fail(AtEnd() ? "unexpected end of input" : "',' or '}' expected");
    }
    std::vector<absl::string_view> keys;
    keys.reserve(members.size());
    for (const JsonValue::Member& m : members) keys.push_back(m.first);
    std::sort(keys.begin(), keys.end());
    if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
      pos_ = start;
      return Fail("duplicate key in the object");
    }
    *out = JsonValue::Object(std::move(members));
    return true;
  }

  absl::string_view text_;
  size_t pos_ = 0;
  absl::Status error_;
};

}  // namespace

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::Number(std::string literal) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.text_ = std::move(literal);
  return v;
}

JsonValue JsonValue::String(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::Object(std::vector<Member> members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  for (const Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

bool JsonValue::AsUint64(uint64_t* out) const {
  if (type_ != Type::kNumber || text_.empty()) return false;
  for (char c : text_) {
    if (!IsDigit(c)) return false;
  }
  return absl::SimpleAtoi(text_, out);
}

bool JsonValue::AsDouble(double* out) const {
  if (type_ != Type::kNumber) return false;
  double d = 0;
  if (!absl::SimpleAtod(text_, &d) || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text) {
  return Parser(text).ParseDocument();
}

std::string JsonQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    const unsigned char uc = static_cast<unsigned char>(c);
    if (uc >= 0x80) {
      const size_t n = Utf8SequenceLength(s.substr(i));
      if (n > 0) {
        out.append(s.data() + i, n);
        i += n;
        continue;
      }
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (uc < 0x20 || uc >= 0x7f) {
      // Control characters, and bytes that are not UTF-8 (read as Latin-1,
      // as the library's log writer does), so the output is always JSON.
      out.append("\\u00");
      out.push_back("0123456789abcdef"[uc >> 4]);
      out.push_back("0123456789abcdef"[uc & 15]);
    } else {
      out.push_back(c);
    }
    ++i;
  }
  out.push_back('"');
  return out;
}

}  // namespace report
}  // namespace sealpool
