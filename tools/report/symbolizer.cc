// sealpool-report — offline symbolization with libdw.

#include "tools/report/symbolizer.h"

#include <cxxabi.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

#if defined(SEALPOOL_REPORT_HAVE_LIBDW)
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#endif

namespace sealpool {
namespace report {
namespace {

std::string Demangle(const char* name) {
  if (name == nullptr) return "";
  int status = -1;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string result = status == 0 && out != nullptr ? out : name;
  free(out);
  return result;
}

}  // namespace

#if defined(SEALPOOL_REPORT_HAVE_LIBDW)

namespace {

const Dwfl_Callbacks kOfflineCallbacks = {
    dwfl_build_id_find_elf,
    dwfl_standard_find_debuginfo,
    dwfl_offline_section_address,
    nullptr,
};

// A function DIE's name: the demangled linkage name, else DW_AT_name.
std::string DieName(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* linkage =
      dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (linkage == nullptr) {
    linkage = dwarf_formstring(
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  }
  if (linkage != nullptr) return Demangle(linkage);
  const char* name = dwarf_diename(die);
  return name != nullptr ? name : "";
}

std::string HexBuildId(Dwfl_Module* mod) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int n = dwfl_module_build_id(mod, &bits, &vaddr);
  std::string out;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&out, absl::Hex(bits[i], absl::kZeroPad2));
  }
  return out;
}

}  // namespace

struct OfflineSymbolizer::Module {
  Dwfl* dwfl = nullptr;
  Dwfl_Module* mod = nullptr;
  GElf_Addr bias = 0;
  std::string build_id;
  std::string problem;  // non-empty: unusable
  ~Module() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
};

bool OfflineSymbolizer::Available() { return true; }

OfflineSymbolizer::Module* OfflineSymbolizer::Open(const std::string& path) {
  auto [it, inserted] = modules_.try_emplace(path, nullptr);
  if (!inserted) return it->second.get();
  it->second = std::make_unique<Module>();
  Module* m = it->second.get();
  m->dwfl = dwfl_begin(&kOfflineCallbacks);
  if (m->dwfl == nullptr) {
    m->problem = dwfl_errmsg(-1);
    return m;
  }
  m->mod = dwfl_report_offline(m->dwfl, path.c_str(), path.c_str(), -1);
  if (m->mod == nullptr || dwfl_report_end(m->dwfl, nullptr, nullptr) != 0) {
    m->problem = absl::StrCat("cannot read: ", dwfl_errmsg(-1));
    m->mod = nullptr;
    return m;
  }
  if (dwfl_module_getelf(m->mod, &m->bias) == nullptr) {
    m->problem = absl::StrCat("not an ELF file: ", dwfl_errmsg(-1));
    m->mod = nullptr;
    return m;
  }
  m->build_id = HexBuildId(m->mod);
  return m;
}

std::vector<SourceLine> OfflineSymbolizer::Symbolize(
    const std::string& path, const std::string& build_id, uint64_t offset,
    std::string* problem) {
  std::vector<SourceLine> out;
  Module* m = Open(path);
  if (!m->problem.empty()) {
    *problem = m->problem;
    return out;
  }
  if (!build_id.empty() && build_id != m->build_id) {
    *problem = absl::StrCat("build-id ", m->build_id.empty() ? "none" : m->build_id,
                            " on disk, ", build_id, " in the log");
    return out;
  }
  // The call before the return address, at the module's address.
  const Dwarf_Addr pc = offset + m->bias - 1;
  const char* file = nullptr;
  int line = 0;
  if (Dwfl_Line* l = dwfl_module_getsrc(m->mod, pc)) {
    file = dwfl_lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
  }
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(m->mod, pc, &bias);
  if (cu == nullptr || dwarf_haspc(cu, pc - bias) <= 0) {
    cu = nullptr;
    // No .debug_aranges (clang's default): scan the compile units.
    for (Dwarf_Die* c = nullptr; (c = dwfl_module_nextcu(m->mod, c, &bias)) != nullptr;) {
      if (dwarf_haspc(c, pc - bias) > 0) {
        cu = c;
        break;
      }
    }
  }
  // Without .debug_aranges, dwfl_module_getsrc finds no line even where the
  // compile unit is known: ask the unit's line table.
  if (cu != nullptr && file == nullptr) {
    if (Dwarf_Line* l = dwarf_getsrc_die(cu, pc - bias)) {
      file = dwarf_linesrc(l, nullptr, nullptr);
      if (dwarf_lineno(l, &line) != 0) line = 0;
    }
  }
  Dwarf_Die* scopes = nullptr;
  int n = cu != nullptr ? dwarf_getscopes(cu, pc - bias, &scopes) : 0;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (cu != nullptr && dwarf_getsrcfiles(cu, &files, &nfiles) != 0) {
    files = nullptr;
  }
  // Outwards from the innermost scope, as the library does
  // (allocator/internal/symbolize.cc): past an inlined call, on from the
  // scopes that hold the call's own DIE.
  bool physical = false;
  for (int i = 0; i < n; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
    SourceLine loc;
    loc.function = DieName(&scopes[i]);
    loc.file = file != nullptr ? file : "";
    loc.line = line > 0 ? static_cast<uint64_t>(line) : 0;
    out.push_back(std::move(loc));
    if (tag == DW_TAG_subprogram) {
      physical = true;
      break;
    }
    Dwarf_Attribute attr;
    Dwarf_Word call_file = 0, call_line = 0;
    file = nullptr;
    line = 0;
    if (dwarf_formudata(dwarf_attr_integrate(&scopes[i], DW_AT_call_file, &attr),
                        &call_file) == 0 &&
        files != nullptr && call_file < nfiles) {
      file = dwarf_filesrc(files, call_file, nullptr, nullptr);
    }
    if (dwarf_formudata(dwarf_attr_integrate(&scopes[i], DW_AT_call_line, &attr),
                        &call_line) == 0) {
      line = static_cast<int>(call_line);
    }
    Dwarf_Die* outer = nullptr;
    const int m = dwarf_getscopes_die(&scopes[i], &outer);
    free(scopes);
    scopes = outer;
    n = m;
    i = 0;  // outer[0] is the inlined call itself
  }
  free(scopes);
  // The machine code's function as the symbol table names it.
  if (physical) {
    const std::string sym = Demangle(dwfl_module_addrname(m->mod, pc));
    if (!sym.empty()) out.back().function = sym;
  }
  if (out.empty()) {
    // No DWARF function there: the symbol table's name, and the line
    // table's position if any.
    SourceLine loc;
    loc.function = Demangle(dwfl_module_addrname(m->mod, pc));
    loc.file = file != nullptr ? file : "";
    loc.line = line > 0 ? static_cast<uint64_t>(line) : 0;
    if (!loc.function.empty() || !loc.file.empty()) out.push_back(loc);
  }
  return out;
}

#else  // !SEALPOOL_REPORT_HAVE_LIBDW

struct OfflineSymbolizer::Module {};

bool OfflineSymbolizer::Available() { return false; }

OfflineSymbolizer::Module* OfflineSymbolizer::Open(const std::string&) {
  return nullptr;
}

std::vector<SourceLine> OfflineSymbolizer::Symbolize(const std::string&,
                                                     const std::string&,
                                                     uint64_t,
                                                     std::string* problem) {
  *problem = "sealpool-report was built without libdw";
  (void)&Demangle;
  return {};
}

#endif  // SEALPOOL_REPORT_HAVE_LIBDW

OfflineSymbolizer::OfflineSymbolizer() = default;
OfflineSymbolizer::~OfflineSymbolizer() = default;

void OfflineSymbolizer::SymbolizeRecord(LogRecord* record) {
  for (LogFrame& f : record->frames) {
    if (!f.has_module || !f.locations.empty() || f.module.empty()) continue;
    std::string build_id;
    for (const LogModule& m : record->modules) {
      if (m.path == f.module) build_id = m.build_id;
    }
    std::string problem;
    f.locations = Symbolize(f.module, build_id, f.offset, &problem);
    if (f.locations.empty() && !problem.empty()) {
      const std::string line = absl::StrCat(f.module, ": ", problem);
      bool seen = false;
      for (const std::string& p : problems_) seen = seen || p == line;
      if (!seen) problems_.push_back(line);
    }
  }
}

}  // namespace report
}  // namespace sealpool
