// sealpool-report — summarises the JSON-lines violation logs that
// SEALPOOL_OPTIONS=log_path=FILE writes: how many violations of which kind,
// in which pool, from which call site, when, and example ranges.
//
//   sealpool-report [flags] LOG...     LOG is a file, or - for standard input
//
// Exit status: 0 when every input was read (malformed lines are counted and
// reported, not fatal), 1 when an input could not be read (the others are
// still summarised), 2 on a usage error.
//
// The flags are parsed here, by hand: a handful of them, and --help prints
// this program's usage and nothing else.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "tools/report/format.h"
#include "tools/report/symbolizer.h"
#include "tools/report/violation_log.h"

namespace {

constexpr char kUsage[] =
    "sealpool-report: summarises sealpool violation logs "
    "(SEALPOOL_OPTIONS=log_path=FILE).\n"
    "\n"
    "usage: sealpool-report [flags] LOG...   (- reads standard input)\n"
    "\n"
    "flags:\n"
    "  --json              print one JSON object instead of the table\n"
    "  --frames=N          stack frames in the grouping key, from the first\n"
    "                      frame outside sealpool (default 1; 0 groups by\n"
    "                      pool and kind only)\n"
    "  --skip_frames=N     frames dropped after sealpool's own, before the\n"
    "                      key is taken (default 0)\n"
    "  --keep_sealpool_frames\n"
    "                      do not drop the frames of sealpool's own functions\n"
    "                      (sealpool::, absl::, sp_*) from the top of stacks\n"
    "  --exact_frames      compare frames without a module by whole address;\n"
    "                      by default by the offset in their 4 KiB page\n"
    "                      (frames with a module are compared by module and\n"
    "                      offset)\n"
    "  --examples=N        distinct offset+len/object-size examples shown per\n"
    "                      group (default 3)\n"
    "  --symbolize         find function, file:line and inlined calls of\n"
    "                      frames the log does not name, from the module\n"
    "                      files the log lists (checked by build-id)\n"
    "  --help              print this text\n";

struct Flags {
  bool json = false;
  bool help = false;
  bool symbolize = false;
  sealpool::report::GroupingOptions grouping;
  std::vector<std::string> inputs;
};

bool ParseBool(absl::string_view text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

bool ParseInt(const std::string& name, absl::string_view text, int lo, int hi,
              int* out) {
  int v = 0;
  if (!absl::SimpleAtoi(text, &v) || v < lo || v > hi) {
    absl::FPrintF(stderr, "sealpool-report: --%s=%s: expected %d to %d\n",
                  name, text, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

// Accepts --name, --name=value, --name value (numbers), -name and --noname
// (booleans), as the flags library this replaces did. Returns false on a
// usage error, having said why.
bool ParseFlags(int argc, char** argv, Flags* flags) {
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (flags_done || arg == "-" || arg.size() < 2 || arg[0] != '-') {
      flags->inputs.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    absl::string_view body(arg);
    body.remove_prefix(absl::StartsWith(body, "--") ? 2 : 1);
    std::string name(body);
    bool has_value = false;
    std::string value;
    if (const size_t eq = body.find('='); eq != absl::string_view::npos) {
      name = std::string(body.substr(0, eq));
      value = std::string(body.substr(eq + 1));
      has_value = true;
    }
    bool* boolean = nullptr;
    bool invert = false;
    int* number = nullptr;
    int lo = 0, hi = 0;
    if (name == "json") {
      boolean = &flags->json;
    } else if (name == "help" || name == "h" || name == "helpfull") {
      boolean = &flags->help;
    } else if (name == "symbolize") {
      boolean = &flags->symbolize;
    } else if (name == "exact_frames") {
      boolean = &flags->grouping.exact_frames;
    } else if (name == "keep_sealpool_frames") {
      boolean = &flags->grouping.skip_sealpool_frames;
      invert = true;
    } else if (name == "frames") {
      number = &flags->grouping.frames;
      hi = 64;
    } else if (name == "skip_frames") {
      number = &flags->grouping.skip_frames;
      hi = 64;
    } else if (name == "examples") {
      number = &flags->grouping.max_examples;
      hi = 100;
    } else if (absl::StartsWith(name, "no") && !has_value &&
               (name == "nojson" || name == "nosymbolize" ||
                name == "noexact_frames" || name == "nokeep_sealpool_frames")) {
      const std::string positive = name.substr(2);
      bool* target = positive == "json"        ? &flags->json
                     : positive == "symbolize" ? &flags->symbolize
                     : positive == "exact_frames"
                         ? &flags->grouping.exact_frames
                         : &flags->grouping.skip_sealpool_frames;
      *target = positive == "keep_sealpool_frames";
      continue;
    } else {
      absl::FPrintF(stderr,
                    "sealpool-report: unknown flag '%s' (--help lists them)\n",
                    arg);
      return false;
    }
    if (boolean != nullptr) {
      bool v = true;
      if (has_value && !ParseBool(value, &v)) {
        absl::FPrintF(stderr,
                      "sealpool-report: --%s=%s: expected true or false\n",
                      name, value);
        return false;
      }
      *boolean = invert ? !v : v;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        absl::FPrintF(stderr, "sealpool-report: --%s needs a value\n", name);
        return false;
      }
      value = argv[++i];
    }
    if (!ParseInt(name, value, lo, hi, number)) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  if (flags.help) {
    absl::PrintF("%s", kUsage);
    return 0;
  }
  if (flags.inputs.empty()) {
    absl::FPrintF(stderr, "%s", kUsage);
    return 2;
  }

  sealpool::report::Summarizer summarizer(flags.grouping);
  sealpool::report::OfflineSymbolizer symbolizer;
  if (flags.symbolize) {
    if (!sealpool::report::OfflineSymbolizer::Available()) {
      absl::FPrintF(stderr,
                    "sealpool-report: --symbolize: built without libdw; "
                    "frames stay as the log has them\n");
    }
    summarizer.SetRecordFilter([&symbolizer](sealpool::report::LogRecord* r) {
      symbolizer.SymbolizeRecord(r);
    });
  }
  int status = 0;
  for (const std::string& input : flags.inputs) {
    if (!summarizer.AddFile(input).ok()) status = 1;
  }
  const sealpool::report::Summary summary = summarizer.Finish();
  if (flags.json) {
    absl::PrintF("%s", sealpool::report::FormatJson(summary));
    for (const std::string& u : summary.unreadable) {
      absl::FPrintF(stderr, "sealpool-report: %s\n",
                    sealpool::report::Printable(u));
    }
  } else {
    absl::PrintF("%s", sealpool::report::FormatTable(summary));
  }
  for (const std::string& p : symbolizer.problems()) {
    absl::FPrintF(stderr, "sealpool-report: --symbolize: %s\n",
                  sealpool::report::Printable(p));
  }
  return status;
}
