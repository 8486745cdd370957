// sealpool-report — a Summary as a table for people or as JSON for tools.

#ifndef SEALPOOL_TOOLS_REPORT_FORMAT_H_
#define SEALPOOL_TOOLS_REPORT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "tools/report/violation_log.h"

namespace sealpool {
namespace report {

// A plain-text table, one line per group, after a one-line overview of what
// was read (files, lines, records, malformed lines and the first of them).
// Strings from the logs are shown with every byte outside printable ASCII
// escaped as \xNN, so a hostile log cannot drive the terminal. Times are
// UTC, to the millisecond.
std::string FormatTable(const Summary& summary);

// One JSON object (README of tools/report: "--json"), newline-terminated.
// Numbers the logs held (times) are copied as written.
std::string FormatJson(const Summary& summary);

// `s` with every byte outside printable ASCII written as \xNN and '\\' as
// "\\\\".
std::string Printable(absl::string_view s);

// `seconds` since the epoch as "YYYY-MM-DD HH:MM:SS.mmm" (UTC).
std::string FormatUtc(double seconds);

}  // namespace report
}  // namespace sealpool

#endif  // SEALPOOL_TOOLS_REPORT_FORMAT_H_
