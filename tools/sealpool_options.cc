// sealpool_options — the SEALPOOL_OPTIONS table, from the one declaration
// in allocator/internal/options.inc.
//
//   sealpool_options                 print the table (Markdown)
//   sealpool_options --check=FILE    exit 1 unless FILE holds the table
//                                    between its options markers
//   sealpool_options --parse=TEXT    parse TEXT like SEALPOOL_OPTIONS and
//                                    print the result or the error
//   sealpool_options --help          this usage

#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "allocator/runtime_options.h"

namespace {

constexpr char kBegin[] = "<!-- options:begin -->\n";
constexpr char kEnd[] = "<!-- options:end -->";

int Check(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    absl::FPrintF(stderr, "sealpool_options: cannot read %s\n", path);
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const size_t b = text.find(kBegin);
  const size_t e = text.find(kEnd);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    absl::FPrintF(stderr, "sealpool_options: %s has no options markers\n", path);
    return 1;
  }
  const std::string have = text.substr(b + sizeof(kBegin) - 1, e - b - (sizeof(kBegin) - 1));
  const std::string want = sealpool::RuntimeOptionsMarkdown();
  if (have != want) {
    absl::FPrintF(stderr,
                  "sealpool_options: the options table in %s is out of date; "
                  "replace it with:\n%s",
                  path, want);
    return 1;
  }
  absl::PrintF("%s: options table is current\n", path);
  return 0;
}

constexpr char kUsage[] =
    "usage: sealpool_options [--check=FILE | --parse=TEXT]\n"
    "  (no flag)      print the SEALPOOL_OPTIONS table (Markdown)\n"
    "  --check=FILE   exit 1 unless FILE holds the current table between its\n"
    "                 options markers\n"
    "  --parse=TEXT   parse TEXT as SEALPOOL_OPTIONS would be, print the result\n"
    "                 or the error (exit 1)\n";

}  // namespace

int main(int argc, char** argv) {
  std::string check, parse;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      absl::PrintF("%s", kUsage);
      return 0;
    } else if (absl::StartsWith(arg, "--check=")) {
      check = arg.substr(8);
    } else if (absl::StartsWith(arg, "--parse=")) {
      parse = arg.substr(8);
    } else {
      absl::FPrintF(stderr, "sealpool_options: unknown argument '%s'\n%s", arg, kUsage);
      return 2;
    }
  }
  if (!check.empty()) return Check(check);
  if (!parse.empty()) {
    sealpool::RuntimeOptions o;
    const absl::Status s = sealpool::ParseRuntimeOptions(parse, &o);
    absl::PrintF("mode=%s log_path=%s arena_gib=%d stack_depth=%d symbolize=%d\n",
                 o.mode == sealpool::Mode::kReport ? "report" : "abort",
                 o.log_path, o.arena_gib, o.stack_depth, o.symbolize ? 1 : 0);
    if (!s.ok()) absl::PrintF("error: %s\n", s.message());
    return s.ok() ? 0 : 1;
  }
  absl::PrintF("%s", sealpool::RuntimeOptionsMarkdown());
  return 0;
}
