// sealpool-report — symbolizing a log's frames offline, from the modules on
// disk.
//
// A record names, per frame, the module and the frame's address in that
// module's file ("module", "offset"), and lists the modules with their GNU
// build-id ("modules"). That is enough to find function, file:line and the
// inlined calls later, in another process, as long as the module files are
// still there: libdw (elfutils) reads their DWARF — from the file itself,
// or from a separate debug file found the standard way (.gnu_debuglink,
// /usr/lib/debug/.build-id). A module whose build-id differs from the
// record's is a different build and is not used.
//
// The tool links libdw directly (unlike the library, which loads it only
// when a report needs it). Built without libdw, Available() is false and
// nothing is symbolized.

#ifndef SEALPOOL_TOOLS_REPORT_SYMBOLIZER_H_
#define SEALPOOL_TOOLS_REPORT_SYMBOLIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tools/report/violation_log.h"

namespace sealpool {
namespace report {

class OfflineSymbolizer {
 public:
  OfflineSymbolizer();
  ~OfflineSymbolizer();
  OfflineSymbolizer(const OfflineSymbolizer&) = delete;
  OfflineSymbolizer& operator=(const OfflineSymbolizer&) = delete;

  // Whether the tool was built with libdw.
  static bool Available();

  // Source positions of the frame at `offset` in module `path` (the
  // address of a return address; the call before it is looked up),
  // innermost first, as LogFrame::locations. Empty, with *problem set,
  // when the module cannot be read, has another build-id than
  // `build_id` (when that is not ""), or has no symbols there.
  std::vector<SourceLine> Symbolize(const std::string& path,
                                    const std::string& build_id,
                                    uint64_t offset, std::string* problem);

  // Fills in the locations of every frame of `record` that has a module
  // and none yet, using the record's "modules" for build-ids. Problems are
  // collected in problems() (one line per module).
  void SymbolizeRecord(LogRecord* record);

  // "path: reason" for each module that could not be used, once each.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  struct Module;
  Module* Open(const std::string& path);

  absl::flat_hash_map<std::string, std::unique_ptr<Module>> modules_;
  std::vector<std::string> problems_;
};

}  // namespace report
}  // namespace sealpool

#endif  // SEALPOOL_TOOLS_REPORT_SYMBOLIZER_H_
