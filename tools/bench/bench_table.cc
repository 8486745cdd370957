// sealpool_bench_table — turns the Google Benchmark JSON files of
// sealpool_peer_bench runs into a Markdown table of medians and ratios to
// glibc, a gnuplot data file of those ratios and a CSV of every statistic.
//
//   sealpool_bench_table [--markdown=F] [--data=F] [--csv=F]
//                        [--statistic=median|min] LABEL=FILE...
//
// LABEL names the allocator a file was measured with ("glibc", "jemalloc",
// ..., "sealpool"); a label may be given many files (rounds, and the
// separate memory runs), whose samples are pooled. Columns appear in the
// order labels first appear; "glibc" is the baseline and must be present.
// The file's context must say it ran with that allocator (the "malloc"
// entry sealpool_peer_bench adds; "glibc" for the sealpool runs), so a
// preload that did not take effect is an error, not a wrong column.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/report/json.h"

ABSL_FLAG(std::string, markdown, "",
          "write the Markdown table here (default: stdout)");
ABSL_FLAG(std::string, data, "", "write gnuplot data (ratios to glibc) here");
ABSL_FLAG(std::string, csv, "",
          "write label,benchmark,median,min,max,samples here");
ABSL_FLAG(std::string, statistic, "median",
          "what a cell shows of its samples: median, or min (the fastest, "
          "least disturbed sample, for a machine with other work on it)");

namespace {

using sealpool::report::JsonValue;

constexpr char kBaseline[] = "glibc";
constexpr char kSealpool[] = "sealpool";

// "sealpool" and its variants ("sealpool-light", "sealpool-no-canaries"):
// the same benchmarks under other SEALPOOL_OPTIONS.
bool IsSealpool(const std::string& label) {
  return absl::StartsWith(label, kSealpool);
}

enum class Metric { kCpuTime, kRealTime, kCounter };

// One row of the table: the benchmark the peers (and glibc) run, and the
// one sealpool runs for the same operation.
struct Row {
  const char* label;        // the table's words
  const char* short_label;  // the chart's
  const char* system;       // the baseline's and the peers' benchmark
  const char* sealpool;     // sealpool's benchmark
  Metric metric;
  const char* counter;      // for kCounter
  double per;               // operations per iteration
  bool peers;               // show the peers, not only glibc
  // The baseline (glibc column) is `system` measured in the sealpool run:
  // plain memcpy between the same pool objects that sp_memcpy copies.
  bool baseline_in_sealpool_run = false;
};

constexpr Row kRows[] = {
    {"alloc+free ping-pong, 16 B", "pingpong 16B", "BM_System_PingPong/16",
     "BM_Sealpool_PingPong/16", Metric::kCpuTime, "", 1, true},
    {"alloc+free ping-pong, 64 B", "pingpong 64B", "BM_System_PingPong/64",
     "BM_Sealpool_PingPong/64", Metric::kCpuTime, "", 1, true},
    {"alloc+free ping-pong, 256 B", "pingpong 256B", "BM_System_PingPong/256",
     "BM_Sealpool_PingPong/256", Metric::kCpuTime, "", 1, true},
    {"alloc+free ping-pong, 64 B, 2 threads (wall time / op)",
     "pingpong 64B x2", "BM_System_PingPong/64/real_time/threads:2",
     "BM_Sealpool_PingPong/64/real_time/threads:2", Metric::kRealTime, "", 1,
     true},
    {"batch: 1000 allocs then 1000 frees, 64 B (per object)", "batch 64B",
     "BM_System_Batch/64", "BM_Sealpool_Batch/64", Metric::kCpuTime, "", 1000,
     true},
    {"batch, 256 B (per object)", "batch 256B", "BM_System_Batch/256",
     "BM_Sealpool_Batch/256", Metric::kCpuTime, "", 1000, true},
    {"batch, 64 B, 2 threads (wall time / object)", "batch 64B x2",
     "BM_System_Batch/64/real_time/threads:2",
     "BM_Sealpool_Batch/64/real_time/threads:2", Metric::kRealTime, "", 1000,
     true},
    {"random sizes 8-512 B, 4096 live: free + alloc", "random",
     "BM_System_Random", "BM_Sealpool_Random", Metric::kCpuTime, "", 1, true},
    {"random sizes, 2 threads (wall time / op)", "random x2",
     "BM_System_Random/real_time/threads:2",
     "BM_Sealpool_Random/real_time/threads:2", Metric::kRealTime, "", 1, true},
    {"object size: `malloc_usable_size(p)` / `sp_object_size(p + 7)`",
     "object size", "BM_System_UsableSize", "BM_Sealpool_ObjectSize",
     Metric::kCpuTime, "", 1, true},
    {"`sp_check_copy(p + 7, 32)` vs glibc `malloc_usable_size(p)`",
     "check_copy", "BM_System_UsableSize", "BM_Sealpool_CheckCopy",
     Metric::kCpuTime, "", 1, false},
    {"copy 64 B between pool objects: `memcpy` / `sp_memcpy`", "copy 64B",
     "BM_Sealpool_Memcpy/64", "BM_Sealpool_SpMemcpy/64", Metric::kCpuTime, "",
     1, false, true},
    {"copy 4 KiB between pool objects: `memcpy` / `sp_memcpy`", "copy 4KiB",
     "BM_Sealpool_Memcpy/4096", "BM_Sealpool_SpMemcpy/4096", Metric::kCpuTime,
     "", 1, false, true},
    {"RSS of 1,000,000 live 64-B objects", "RSS 1M x 64B",
     "BM_System_Memory64/iterations:1", "BM_Sealpool_Memory64/iterations:1",
     Metric::kCounter, "rss_MiB", 1, true},
};

// --help lists this file's flags (absl looks for the program's name in the
// file name).
bool IsThisFile(absl::string_view path) {
  return absl::EndsWith(path, "bench/bench_table.cc");
}

struct Stats {
  double median = 0;
  double min = 0;
  double max = 0;
  size_t n = 0;
};

// Samples per label, per benchmark name, per quantity ("cpu", "real" or a
// counter name); times in nanoseconds.
using Samples =
    std::map<std::string,
             std::map<std::string, std::map<std::string, std::vector<double>>>>;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

double NanosPer(const std::string& unit) {
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  return 1.0;
}

// Adds the iteration runs of one JSON file to samples[label]. False, with
// a message on stderr, when the file is unusable.
bool AddFile(const std::string& label, const std::string& path,
             Samples* samples) {
  std::string text;
  if (!ReadFile(path, &text)) {
    absl::FPrintF(stderr, "sealpool_bench_table: cannot read %s\n", path);
    return false;
  }
  absl::StatusOr<JsonValue> doc = sealpool::report::ParseJson(text);
  if (!doc.ok() || !doc->is_object()) {
    absl::FPrintF(stderr, "sealpool_bench_table: %s: not JSON: %s\n", path,
                  doc.ok() ? "not an object" : doc.status().ToString());
    return false;
  }
  const JsonValue* context = doc->Find("context");
  const JsonValue* malloc_name =
      context != nullptr ? context->Find("malloc") : nullptr;
  const std::string want = IsSealpool(label) ? kBaseline : label;
  if (malloc_name == nullptr || malloc_name->text() != want) {
    absl::FPrintF(stderr,
                  "sealpool_bench_table: %s ran with malloc '%s', not '%s' "
                  "(did LD_PRELOAD take effect?)\n",
                  path, malloc_name != nullptr ? malloc_name->text() : "?",
                  want);
    return false;
  }
  const JsonValue* runs = doc->Find("benchmarks");
  if (runs == nullptr || !runs->is_array()) {
    absl::FPrintF(stderr, "sealpool_bench_table: %s has no benchmarks\n", path);
    return false;
  }
  for (const JsonValue& run : runs->items()) {
    const JsonValue* type = run.Find("run_type");
    const JsonValue* name = run.Find("run_name");
    if (name == nullptr) name = run.Find("name");
    if (name == nullptr || (type != nullptr && type->text() != "iteration"))
      continue;
    const JsonValue* error = run.Find("error_occurred");
    if (error != nullptr && error->boolean()) {
      const JsonValue* message = run.Find("error_message");
      absl::FPrintF(stderr, "sealpool_bench_table: %s: %s failed: %s\n", path,
                    name->text(), message != nullptr ? message->text() : "?");
      continue;
    }
    const JsonValue* unit = run.Find("time_unit");
    const double scale = NanosPer(unit != nullptr ? unit->text() : "ns");
    auto& quantities = (*samples)[label][name->text()];
    for (const JsonValue::Member& m : run.members()) {
      double v = 0;
      if (!m.second.AsDouble(&v)) continue;
      if (m.first == "cpu_time") {
        quantities["cpu"].push_back(v * scale);
      } else if (m.first == "real_time") {
        quantities["real"].push_back(v * scale);
      } else {
        quantities[m.first].push_back(v);
      }
    }
  }
  return true;
}

Stats StatsOf(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.n = v.size();
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 == 1 ? v[v.size() / 2]
                               : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

// The row's value for `label`, or a negative number when not measured.
// `use_min`: the smallest sample rather than the median.
double Value(const Samples& samples, const std::string& label, const Row& row,
             bool use_min) {
  const std::string bench = IsSealpool(label) ? row.sealpool : row.system;
  const auto by_label = samples.find(
      label == kBaseline && row.baseline_in_sealpool_run ? kSealpool : label);
  if (by_label == samples.end()) return -1;
  const auto by_bench = by_label->second.find(bench);
  if (by_bench == by_label->second.end()) return -1;
  const char* quantity = row.metric == Metric::kCpuTime    ? "cpu"
                         : row.metric == Metric::kRealTime ? "real"
                                                           : row.counter;
  const auto values = by_bench->second.find(quantity);
  if (values == by_bench->second.end() || values->second.empty()) return -1;
  const Stats stats = StatsOf(values->second);
  return (use_min ? stats.min : stats.median) / row.per;
}

// Three significant digits, in ns, µs or ms; MiB for memory.
std::string FormatValue(double v, const Row& row) {
  if (row.metric == Metric::kCounter) return absl::StrFormat("%.1f MiB", v);
  const char* unit = "ns";
  if (v >= 1e6) {
    v /= 1e6;
    unit = "ms";
  } else if (v >= 1e4) {
    v /= 1e3;
    unit = "µs";
  }
  const int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  return absl::StrFormat("%.*f %s", decimals, v, unit);
}

bool WriteOut(const std::string& path, const std::string& text) {
  if (path.empty()) {
    absl::PrintF("%s", text);
    return true;
  }
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    absl::FPrintF(stderr, "sealpool_bench_table: cannot write %s\n", path);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "tabulates sealpool_peer_bench JSON: sealpool_bench_table "
      "[--markdown=F] [--data=F] [--csv=F] LABEL=FILE...");
  absl::FlagsUsageConfig usage_config;
  usage_config.contains_help_flags = &IsThisFile;
  usage_config.contains_helpshort_flags = &IsThisFile;
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> labels;
  Samples samples;
  bool ok = true;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string arg = args[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      absl::FPrintF(
          stderr, "sealpool_bench_table: expected LABEL=FILE, got '%s'\n", arg);
      return 2;
    }
    const std::string label = arg.substr(0, eq);
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) {
      labels.push_back(label);
    }
    ok = AddFile(label, arg.substr(eq + 1), &samples) && ok;
  }
  if (!ok) return 1;
  const std::string statistic = absl::GetFlag(FLAGS_statistic);
  if (statistic != "median" && statistic != "min") {
    absl::FPrintF(
        stderr,
        "sealpool_bench_table: --statistic=%s: expected median or min\n",
        statistic);
    return 2;
  }
  const bool use_min = statistic == "min";
  if (std::find(labels.begin(), labels.end(), kBaseline) == labels.end()) {
    absl::FPrintF(stderr, "sealpool_bench_table: no '%s' files: no baseline\n",
                  kBaseline);
    return 2;
  }
  // glibc first, sealpool last, the peers in between in the order given.
  std::stable_partition(labels.begin(), labels.end(),
                        [](const std::string& l) { return l == kBaseline; });
  std::stable_partition(labels.begin(), labels.end(),
                        [](const std::string& l) { return !IsSealpool(l); });

  std::string md =
      absl::StrCat("| operation | ", absl::StrJoin(labels, " | "), " |\n|---|");
  for (size_t i = 0; i < labels.size(); ++i) md += "---:|";
  md += "\n";
  std::string data =
      absl::StrCat("operation ", absl::StrJoin(labels, " "), "\n");
  for (const Row& row : kRows) {
    const double base = Value(samples, kBaseline, row, use_min);
    std::vector<std::string> cells, ratios;
    for (const std::string& label : labels) {
      const bool shown = label == kBaseline || IsSealpool(label) || row.peers;
      const double v = shown ? Value(samples, label, row, use_min) : -1;
      if (v < 0) {
        cells.push_back(shown ? "n/a" : "");
        ratios.push_back("-");
        continue;
      }
      if (label == kBaseline || base <= 0) {
        cells.push_back(FormatValue(v, row));
      } else {
        cells.push_back(
            absl::StrFormat("%s (%.2f)", FormatValue(v, row), v / base));
      }
      ratios.push_back(base > 0 ? absl::StrFormat("%.4f", v / base) : "-");
    }
    absl::StrAppend(&md, "| ", row.label, " | ", absl::StrJoin(cells, " | "),
                    " |\n");
    absl::StrAppend(&data, "\"", row.short_label, "\" ",
                    absl::StrJoin(ratios, " "), "\n");
  }

  std::string csv = "label,benchmark,quantity,median,min,max,samples\n";
  for (const auto& [label, benches] : samples) {
    for (const auto& [bench, quantities] : benches) {
      for (const auto& [quantity, values] : quantities) {
        if (quantity != "cpu" && quantity != "real" && quantity != "rss_MiB" &&
            quantity != "rss_B_per_obj") {
          continue;
        }
        const Stats s = StatsOf(values);
        absl::StrAppend(&csv, label, ",", bench, ",", quantity, ",",
                        absl::StrFormat("%.6g,%.6g,%.6g,%d\n", s.median, s.min,
                                        s.max, s.n));
      }
    }
  }

  ok = WriteOut(absl::GetFlag(FLAGS_markdown), md);
  if (!absl::GetFlag(FLAGS_data).empty()) {
    ok = WriteOut(absl::GetFlag(FLAGS_data), data) && ok;
  }
  if (!absl::GetFlag(FLAGS_csv).empty()) {
    ok = WriteOut(absl::GetFlag(FLAGS_csv), csv) && ok;
  }
  return ok ? 0 : 1;
}
