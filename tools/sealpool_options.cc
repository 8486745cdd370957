// sealpool_options — the SEALPOOL_OPTIONS table, from the one declaration
// in allocator/internal/options.inc.
//
//   sealpool_options                 print the table (Markdown)
//   sealpool_options --check=FILE    exit 1 unless FILE holds the table
//                                    between its options markers
//   sealpool_options --parse=TEXT    parse TEXT like SEALPOOL_OPTIONS and
//                                    print the result or the error

#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "allocator/runtime_options.h"

ABSL_FLAG(std::string, check, "",
          "file whose options section must equal the generated table");
ABSL_FLAG(std::string, parse, "", "an option string to parse and print");

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

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("prints or checks the SEALPOOL_OPTIONS table");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_check).empty()) return Check(absl::GetFlag(FLAGS_check));
  if (!absl::GetFlag(FLAGS_parse).empty()) {
    sealpool::RuntimeOptions o;
    const absl::Status s = sealpool::ParseRuntimeOptions(absl::GetFlag(FLAGS_parse), &o);
    absl::PrintF("mode=%s log_path=%s arena_gib=%d stack_depth=%d symbolize=%d\n",
                 o.mode == sealpool::Mode::kReport ? "report" : "abort",
                 o.log_path, o.arena_gib, o.stack_depth, o.symbolize ? 1 : 0);
    if (!s.ok()) absl::PrintF("error: %s\n", s.message());
    return s.ok() ? 0 : 1;
  }
  absl::PrintF("%s", sealpool::RuntimeOptionsMarkdown());
  return 0;
}
