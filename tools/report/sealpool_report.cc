// sealpool-report — summarises the JSON-lines violation logs that
// SEALPOOL_OPTIONS=log_path=FILE writes: how many violations of which kind,
// in which pool, from which call site, when, and example ranges.
//
//   sealpool-report [flags] LOG...     LOG is a file, or - for standard input
//
// Exit status: 0 when every input was read (malformed lines are counted and
// reported, not fatal), 1 when an input could not be read (the others are
// still summarised), 2 on a usage error.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "tools/report/format.h"
#include "tools/report/violation_log.h"

ABSL_FLAG(
    bool, json, false,
    "print one JSON object instead of the table (see tools/report/README.md)");
ABSL_FLAG(
    int, frames, 1,
    "top stack frames in the grouping key; 0 groups by pool and kind only");
ABSL_FLAG(int, skip_frames, 0,
          "frames dropped from the top of each stack before the key is taken");
ABSL_FLAG(bool, exact_frames, false,
          "compare frames by whole address; by default by the offset in their "
          "4 KiB page, which stays the same across ASLR runs of one binary");
ABSL_FLAG(int, examples, 3,
          "distinct offset+len/object-size examples shown per group");

namespace {

constexpr char kUsage[] =
    "summarises sealpool violation logs (SEALPOOL_OPTIONS=log_path=FILE).\n"
    "usage: sealpool-report [--json] [--frames=N] [--skip_frames=N] "
    "[--exact_frames] [--examples=N] LOG... (- reads standard input)";

// --help lists the flags of this file (absl matches files to the program
// name, and the program's name has a '-' where the file's has a '_').
bool IsThisFile(absl::string_view path) {
  return absl::EndsWith(path, "sealpool_report.cc");
}

bool InRange(const char* name, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return true;
  absl::FPrintF(stderr, "sealpool-report: --%s=%d: expected %d to %d\n", name,
                value, lo, hi);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = &IsThisFile;
  usage_config.contains_helpshort_flags = &IsThisFile;
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    absl::FPrintF(stderr, "%s\n", kUsage);
    return 2;
  }
  sealpool::report::GroupingOptions options;
  options.frames = absl::GetFlag(FLAGS_frames);
  options.skip_frames = absl::GetFlag(FLAGS_skip_frames);
  options.exact_frames = absl::GetFlag(FLAGS_exact_frames);
  options.max_examples = absl::GetFlag(FLAGS_examples);
  if (!InRange("frames", options.frames, 0, 64) ||
      !InRange("skip_frames", options.skip_frames, 0, 64) ||
      !InRange("examples", options.max_examples, 0, 100)) {
    return 2;
  }

  sealpool::report::Summarizer summarizer(options);
  int status = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    if (!summarizer.AddFile(args[i]).ok()) status = 1;
  }
  const sealpool::report::Summary summary = summarizer.Finish();
  if (absl::GetFlag(FLAGS_json)) {
    absl::PrintF("%s", sealpool::report::FormatJson(summary));
    for (const std::string& u : summary.unreadable) {
      absl::FPrintF(stderr, "sealpool-report: %s\n",
                    sealpool::report::Printable(u));
    }
  } else {
    absl::PrintF("%s", sealpool::report::FormatTable(summary));
  }
  return status;
}
