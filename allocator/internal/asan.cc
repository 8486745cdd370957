// sealpool — the extra line in AddressSanitizer's reports.

#include "allocator/internal/asan.h"

#include <unistd.h>

#include <atomic>

#include "allocator/internal/report.h"
#include "allocator/page_query.h"

namespace sealpool {
namespace internal {

#if SEALPOOL_ASAN
namespace {

const char* PageKindWord(PageKind k) {
  switch (k) {
    case PageKind::kNotArena: return "outside the arena";
    case PageKind::kUnused: return "an arena page no pool owns";
    case PageKind::kGuard: return "a guard page";
    case PageKind::kMetadata: return "allocator metadata";
    case PageKind::kSmallSpan: return "a small-object span";
    case PageKind::kLargeSpan: return "a large object's span";
  }
  return "?";
}

// Called by ASan with the finished report, before it dies. One line, from
// a fixed buffer: "sealpool: <addr> is in pool '<name>' (id N): ...".
void OnAsanReport(const char* /*report*/) {
  const void* addr = __asan_get_report_address();
  if (addr == nullptr || !InArena(addr, 1)) return;
  const AddressInfo info = QueryAddress(addr);
  const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
  char buf[512];
  FixedWriter w(buf, sizeof(buf));
  w.Str("sealpool: ").Hex(a).Str(" is in ");
  const char* name = info.pool_id != 0 ? PoolNameById(info.pool_id) : nullptr;
  if (name != nullptr) {
    w.Str("pool '").Str(name).Str("' (id ").Dec(info.pool_id).Str("), ");
  }
  w.Str(PageKindWord(info.page));
  if (info.in_slot || (info.page == PageKind::kLargeSpan && info.object_start != 0)) {
    const uint64_t off = a - info.object_start;
    w.Str(": object ").Hex(info.object_start);
    if (a < info.object_start) {
      w.Str(", ").Dec(info.object_start - a).Str(" bytes before it (padding)");
    } else if (info.live) {
      w.Str(" of ").Dec(info.object_size).Str(" bytes, offset ").Dec(off);
      w.Str(off < info.object_size ? " (inside the object)"
                                   : " (past its end: slot slack or redzone)");
    } else {
      w.Str(" (a free slot), offset ").Dec(off);
    }
  }
  if (info.sealed) w.Str("; sealed");
  w.Str("\n");
  WriteAll(STDERR_FILENO, w.data(), w.length());
}

}  // namespace

void InstallAsanReportHook() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  __asan_set_error_report_callback(OnAsanReport);
}

#else

void InstallAsanReportHook() {}

#endif  // SEALPOOL_ASAN

}  // namespace internal
}  // namespace sealpool
