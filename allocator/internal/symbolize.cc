// sealpool — report frames: modules, the own-frame rule, and the lazily
// loaded libdw symbolizer.

#include "allocator/internal/symbolize.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "absl/debugging/symbolize.h"

#if defined(__has_include)
#if __has_include(<elfutils/libdwfl.h>) && __has_include(<dwarf.h>)
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#define SEALPOOL_HAVE_LIBDW_HEADERS 1
#endif
#endif
#ifndef SEALPOOL_HAVE_LIBDW_HEADERS
#define SEALPOOL_HAVE_LIBDW_HEADERS 0
#endif

namespace sealpool {
namespace internal {
namespace {

// Copies `s` into out[0 .. size), truncating; always terminated.
void CopyString(char* out, size_t size, const char* s) {
  size_t i = 0;
  for (; s != nullptr && s[i] != '\0' && i + 1 < size; ++i) out[i] = s[i];
  out[i] = '\0';
}

bool StartsWith(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

// ---- Modules ---------------------------------------------------------------

struct FindArg {
  uintptr_t addr;
  ModuleInfo* out;
};

void ReadBuildId(const dl_phdr_info* info, ModuleInfo* out) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const size_t align = ph.p_align >= 8 ? 8 : 4;
    auto round = [align](size_t n) { return (n + align - 1) & ~(align - 1); };
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (static_cast<size_t>(end - p) >= sizeof(ElfW(Nhdr))) {
      const auto* nh = reinterpret_cast<const ElfW(Nhdr)*>(p);
      const char* name = p + sizeof(ElfW(Nhdr));
      const char* desc = name + round(nh->n_namesz);
      const char* next = desc + round(nh->n_descsz);
      if (next > end || next <= p) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
          memcmp(name, "GNU", 4) == 0) {
        const size_t n = nh->n_descsz < 32 ? nh->n_descsz : 32;
        for (size_t k = 0; k < n; ++k) {
          const unsigned char b = static_cast<unsigned char>(desc[k]);
          out->build_id[2 * k] = "0123456789abcdef"[b >> 4];
          out->build_id[2 * k + 1] = "0123456789abcdef"[b & 15];
        }
        out->build_id[2 * n] = '\0';
        return;
      }
      p = next;
    }
  }
}

int FindModuleCallback(dl_phdr_info* info, size_t, void* data) {
  auto* arg = static_cast<FindArg*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (arg->addr < lo || arg->addr - lo >= ph.p_memsz) continue;
    ModuleInfo* out = arg->out;
    out->found = true;
    out->bias = info->dlpi_addr;
    if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
      CopyString(out->path, sizeof(out->path), info->dlpi_name);
    } else {
      // The executable: the loader keeps no name for it.
      const ssize_t n = readlink("/proc/self/exe", out->path,
                                 sizeof(out->path) - 1);
      out->path[n > 0 ? n : 0] = '\0';
    }
    ReadBuildId(info, out);
    return 1;
  }
  return 0;
}

int ReadGeneration(dl_phdr_info* info, size_t, void* data) {
  *static_cast<unsigned long long*>(data) = info->dlpi_adds + info->dlpi_subs;
  return 1;  // the counters are the same in every entry
}

unsigned long long LoaderGeneration() {
  unsigned long long gen = 0;
  dl_iterate_phdr(ReadGeneration, &gen);
  return gen;
}

// ---- libdw, loaded on demand ----------------------------------------------

#if SEALPOOL_HAVE_LIBDW_HEADERS

// The libdw functions used, resolved with dlsym(). decltype only names the
// header's declarations: nothing links against libdw.
struct Libdw {
  decltype(&dwfl_begin) begin;
  decltype(&dwfl_end) end;
  decltype(&dwfl_report_begin) report_begin;
  decltype(&dwfl_linux_proc_report) linux_proc_report;
  decltype(&dwfl_linux_proc_find_elf) linux_proc_find_elf;
  decltype(&dwfl_report_end) report_end;
  decltype(&dwfl_addrmodule) addrmodule;
  decltype(&dwfl_module_getsrc) module_getsrc;
  decltype(&dwfl_lineinfo) lineinfo;
  decltype(&dwfl_module_addrdie) module_addrdie;
  decltype(&dwarf_getscopes) getscopes;
  decltype(&dwarf_getscopes_die) getscopes_die;
  decltype(&dwarf_tag) tag;
  decltype(&dwarf_attr_integrate) attr_integrate;
  decltype(&dwarf_formstring) formstring;
  decltype(&dwarf_formudata) formudata;
  decltype(&dwarf_diename) diename;
  decltype(&dwarf_getsrcfiles) getsrcfiles;
  decltype(&dwarf_filesrc) filesrc;
  // For modules without .debug_aranges (clang's default), where
  // dwfl_module_addrdie and dwfl_module_getsrc find nothing: a scan of the
  // compile units.
  decltype(&dwfl_module_nextcu) module_nextcu;
  decltype(&dwarf_haspc) haspc;
  decltype(&dwarf_getsrc_die) getsrc_die;
  decltype(&dwarf_linesrc) linesrc;
  decltype(&dwarf_lineno) lineno;
};

Libdw g_libdw;
Dwfl_Callbacks g_callbacks;

// No separate debug files: the module's own DWARF only. (The standard
// callback may ask a debuginfod server over the network, which a report
// must never wait for.)
int NoSeparateDebuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr,
                        const char*, const char*, GElf_Word, char**) {
  return -1;
}

template <typename F>
bool Resolve(void* handle, const char* name, F* out) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  return *out != nullptr;
}

bool LoadLibdw() {
  void* h = dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (h == nullptr) return false;
  Libdw& d = g_libdw;
  const bool ok =
      Resolve(h, "dwfl_begin", &d.begin) && Resolve(h, "dwfl_end", &d.end) &&
      Resolve(h, "dwfl_report_begin", &d.report_begin) &&
      Resolve(h, "dwfl_linux_proc_report", &d.linux_proc_report) &&
      Resolve(h, "dwfl_linux_proc_find_elf", &d.linux_proc_find_elf) &&
      Resolve(h, "dwfl_report_end", &d.report_end) &&
      Resolve(h, "dwfl_addrmodule", &d.addrmodule) &&
      Resolve(h, "dwfl_module_getsrc", &d.module_getsrc) &&
      Resolve(h, "dwfl_lineinfo", &d.lineinfo) &&
      Resolve(h, "dwfl_module_addrdie", &d.module_addrdie) &&
      Resolve(h, "dwarf_getscopes", &d.getscopes) &&
      Resolve(h, "dwarf_getscopes_die", &d.getscopes_die) &&
      Resolve(h, "dwarf_tag", &d.tag) &&
      Resolve(h, "dwarf_attr_integrate", &d.attr_integrate) &&
      Resolve(h, "dwarf_formstring", &d.formstring) &&
      Resolve(h, "dwarf_formudata", &d.formudata) &&
      Resolve(h, "dwarf_diename", &d.diename) &&
      Resolve(h, "dwarf_getsrcfiles", &d.getsrcfiles) &&
      Resolve(h, "dwarf_filesrc", &d.filesrc) &&
      Resolve(h, "dwfl_module_nextcu", &d.module_nextcu) &&
      Resolve(h, "dwarf_haspc", &d.haspc) &&
      Resolve(h, "dwarf_getsrc_die", &d.getsrc_die) &&
      Resolve(h, "dwarf_linesrc", &d.linesrc) &&
      Resolve(h, "dwarf_lineno", &d.lineno);
  if (!ok) return false;  // the handle stays open: harmless, and rare
  g_callbacks.find_elf = d.linux_proc_find_elf;
  g_callbacks.find_debuginfo = NoSeparateDebuginfo;
  g_callbacks.debuginfo_path = nullptr;
  return true;
}

// The shared handle. g_busy is the try-lock: whoever sets it owns
// g_libdw_state, g_dwfl and g_dwfl_generation until it clears it.
std::atomic<bool> g_busy{false};
enum LibdwState { kUntried, kLoaded, kUnavailable };
LibdwState g_libdw_state = kUntried;
Dwfl* g_dwfl = nullptr;
unsigned long long g_dwfl_generation = 0;

// Requires g_busy. The process's modules as libdw sees them, rebuilt when
// the loader has loaded or unloaded anything since.
Dwfl* AcquireDwfl() {
  if (g_libdw_state == kUntried) {
    g_libdw_state = LoadLibdw() ? kLoaded : kUnavailable;
  }
  if (g_libdw_state != kLoaded) return nullptr;
  const unsigned long long gen = LoaderGeneration();
  if (g_dwfl != nullptr && gen == g_dwfl_generation) return g_dwfl;
  if (g_dwfl != nullptr) g_libdw.end(g_dwfl);
  g_dwfl = g_libdw.begin(&g_callbacks);
  if (g_dwfl == nullptr) return nullptr;
  g_libdw.report_begin(g_dwfl);
  if (g_libdw.linux_proc_report(g_dwfl, getpid()) != 0 ||
      g_libdw.report_end(g_dwfl, nullptr, nullptr) != 0) {
    g_libdw.end(g_dwfl);
    g_dwfl = nullptr;
    return nullptr;
  }
  g_dwfl_generation = gen;
  return g_dwfl;
}

// A function DIE's name: the demangled linkage name, else DW_AT_name
// (both looked up through abstract origins and specifications).
void DieName(Dwarf_Die* die, char* out, size_t size) {
  Dwarf_Attribute attr;
  const char* linkage = g_libdw.formstring(
      g_libdw.attr_integrate(die, DW_AT_linkage_name, &attr));
  if (linkage == nullptr) {
    linkage = g_libdw.formstring(
        g_libdw.attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  }
  if (linkage != nullptr) {
    int status = -1;
    char* demangled = abi::__cxa_demangle(linkage, nullptr, nullptr, &status);
    if (status == 0 && demangled != nullptr) {
      CopyString(out, size, demangled);
      free(demangled);
      return;
    }
    free(demangled);
    CopyString(out, size, linkage);
    return;
  }
  CopyString(out, size, g_libdw.diename(die));
}

// Fills out->locations from DWARF; false when the module has none for pc.
bool DescribeWithDwarf(Dwfl* dwfl, uintptr_t pc, FrameSymbols* out) {
  Dwfl_Module* mod = g_libdw.addrmodule(dwfl, pc);
  if (mod == nullptr) return false;
  const char* file = nullptr;
  int line = 0;
  if (Dwfl_Line* l = g_libdw.module_getsrc(mod, pc)) {
    file = g_libdw.lineinfo(l, nullptr, &line, nullptr, nullptr, nullptr);
  }
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = g_libdw.module_addrdie(mod, pc, &bias);
  if (cu == nullptr || g_libdw.haspc(cu, pc - bias) <= 0) {
    cu = nullptr;
    // No address ranges table: find the compile unit that covers pc.
    for (Dwarf_Die* c = nullptr; (c = g_libdw.module_nextcu(mod, c, &bias)) != nullptr;) {
      if (g_libdw.haspc(c, pc - bias) > 0) {
        cu = c;
        break;
      }
    }
  }
  // Without .debug_aranges, dwfl_module_getsrc finds no line even where the
  // compile unit is known: ask the unit's line table.
  if (cu != nullptr && file == nullptr) {
    if (Dwarf_Line* l = g_libdw.getsrc_die(cu, pc - bias)) {
      file = g_libdw.linesrc(l, nullptr, nullptr);
      if (g_libdw.lineno(l, &line) != 0) line = 0;
    }
  }
  if (file == nullptr && cu == nullptr) return false;

  Dwarf_Die* scopes = nullptr;
  int n = cu != nullptr ? g_libdw.getscopes(cu, pc - bias, &scopes) : 0;
  Dwarf_Files* files = nullptr;
  size_t nfiles = 0;
  if (cu != nullptr && g_libdw.getsrcfiles(cu, &files, &nfiles) != 0) {
    files = nullptr;
  }
  // Walk outwards: each function scope gets the pending position, and an
  // inlined one makes its call site the position of the next. Past an
  // inlined call, dwarf_getscopes() continues with the scopes of the
  // callee's definition; the caller is found from the call's own DIE
  // (dwarf_getscopes_die), as eu-addr2line -i does.
  int k = 0;
  bool physical = false;
  for (int i = 0; i < n && k < kMaxInlinedFrames; ++i) {
    const int tag = g_libdw.tag(&scopes[i]);
    if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
    SourceLocation& loc = out->locations[k++];
    DieName(&scopes[i], loc.function, sizeof(loc.function));
    CopyString(loc.file, sizeof(loc.file), file);
    loc.line = line;
    if (tag == DW_TAG_subprogram) {
      physical = true;
      break;
    }
    Dwarf_Attribute attr;
    Dwarf_Word call_file = 0, call_line = 0;
    file = nullptr;
    line = 0;
    if (g_libdw.formudata(g_libdw.attr_integrate(&scopes[i], DW_AT_call_file,
                                                 &attr),
                          &call_file) == 0 &&
        files != nullptr && call_file < nfiles) {
      file = g_libdw.filesrc(files, call_file, nullptr, nullptr);
    }
    if (g_libdw.formudata(g_libdw.attr_integrate(&scopes[i], DW_AT_call_line,
                                                 &attr),
                          &call_line) == 0) {
      line = static_cast<int>(call_line);
    }
    Dwarf_Die* outer = nullptr;
    const int m = g_libdw.getscopes_die(&scopes[i], &outer);
    free(scopes);
    scopes = outer;
    n = m;
    i = 0;  // outer[0] is the inlined call itself; go on from outer[1]
  }
  free(scopes);
  // The machine code's own function: the symbol table's name (qualified
  // and demangled, whatever the DWARF names it).
  if (physical && k > 0) {
    char sym[256];
    if (absl::Symbolize(reinterpret_cast<void*>(pc), sym, sizeof(sym))) {
      CopyString(out->locations[k - 1].function,
                 sizeof(out->locations[k - 1].function), sym);
    }
  }
  if (k == 0) {  // a line table but no function DIE
    CopyString(out->locations[0].file, sizeof(out->locations[0].file), file);
    out->locations[0].line = line;
    k = 1;
  }
  out->count = k;
  return true;
}

#endif  // SEALPOOL_HAVE_LIBDW_HEADERS

}  // namespace

void FindModule(uintptr_t addr, ModuleInfo* out) {
  *out = ModuleInfo();
  FindArg arg{addr, out};
  dl_iterate_phdr(FindModuleCallback, &arg);
}

// The own-frame rule. sealpool is a static library, so its code shares a
// module with the host's and cannot be told apart by address range. Its
// functions are told apart by name instead: the symbol table (which
// absl::Symbolize reads; no debug information needed) names every
// sealpool function `sealpool::...` (the C++ API and all internals), `sp_...`
// (the C API) or `absl::...` (the Abseil code sealpool calls, e.g. the stack
// walk). The leading run of such frames is sealpool's; the first frame
// after it is the host's call into sealpool. The run stops at the first
// frame that has no symbol or another name, so a host frame is never
// counted — unless the host names its own code in namespace sealpool.
int CountOwnFrames(void* const* frames, int n) {
  int own = 0;
  for (; own < n; ++own) {
    char sym[256];
    void* pc = static_cast<char*>(frames[own]) - 1;
    if (!absl::Symbolize(pc, sym, sizeof(sym))) break;
    if (!StartsWith(sym, "sealpool::") && !StartsWith(sym, "absl::") &&
        !StartsWith(sym, "sp_") && !StartsWith(sym, "sealpool_shim_")) {
      break;
    }
  }
  return own;
}

FrameSymbolizer::FrameSymbolizer(bool use_debug_info) {
#if SEALPOOL_HAVE_LIBDW_HEADERS
  if (!use_debug_info) return;
  if (g_busy.exchange(true, std::memory_order_acquire)) return;  // busy
  dwfl_ = AcquireDwfl();
  if (dwfl_ == nullptr) g_busy.store(false, std::memory_order_release);
#else
  (void)use_debug_info;
#endif
}

FrameSymbolizer::~FrameSymbolizer() {
#if SEALPOOL_HAVE_LIBDW_HEADERS
  if (dwfl_ != nullptr) g_busy.store(false, std::memory_order_release);
#endif
}

void FrameSymbolizer::Describe(uintptr_t ret, FrameSymbols* out) {
  *out = FrameSymbols();
  // A return address is the instruction after the call: look up the call.
  const uintptr_t pc = ret - 1;
#if SEALPOOL_HAVE_LIBDW_HEADERS
  if (dwfl_ != nullptr) {
    DescribeWithDwarf(static_cast<Dwfl*>(dwfl_), pc, out);
  }
#endif
  // Without DWARF, the symbol table names the machine code's function
  // (the last location).
  char sym[256];
  if (absl::Symbolize(reinterpret_cast<void*>(pc), sym, sizeof(sym))) {
    if (out->count == 0) out->count = 1;
    SourceLocation& outer = out->locations[out->count - 1];
    if (outer.function[0] == '\0') {
      CopyString(outer.function, sizeof(outer.function), sym);
    }
  }
}

}  // namespace internal
}  // namespace sealpool
