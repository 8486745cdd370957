// sealpool — pool snapshots and the statistics table (arena_map.cc draws
// the arena map).

#include "allocator/inspect.h"

#include <errno.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/internal/stats_text.h"

namespace sealpool {

std::vector<PoolView> SnapshotPools() {
  std::vector<PoolView> out;
  for (internal::PoolImpl* p : internal::PoolImpl::RefAllLive()) {
    out.emplace_back();
    p->View(&out.back());
    p->Unref();
  }
  return out;
}

namespace internal {

std::string Bytes(double b) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", b, kUnits[u]);
  return buf;
}

std::string Flags(const PoolStats& s) {
  std::string f;
  if (s.seals > 0) f += "sealed ";
  if (s.permanent) f += s.permanent_enforced ? "permanent(mseal) " : "permanent ";
  if (s.write_rare) f += s.write_rare_key ? "write-rare(key) " : "write-rare ";
  if (s.destroyed) f += "destroyed ";
  if (!f.empty()) f.pop_back();
  return f.empty() ? "-" : f;
}

}  // namespace internal

using internal::Bytes;
using internal::Flags;

void DumpStats(FILE* out) {
  const std::vector<PoolView> pools = SnapshotPools();
  std::fprintf(out, "sealpool: %zu live pool%s\n", pools.size(),
               pools.size() == 1 ? "" : "s");
  if (pools.empty()) return;
  std::fprintf(out, "%-24s %5s %9s %10s %10s %10s %7s %6s %10s %10s %6s  %s\n",
               "pool", "id", "objects", "live", "committed", "reserved",
               "spans", "guards", "sealed", "metadata", "viol", "flags");
  for (const PoolView& v : pools) {
    const PoolStats& s = v.stats;
    const std::string spans = absl::StrCat(s.small_spans, "/", s.large_spans);
    std::fprintf(out, "%-24s %5u %9zu %10s %10s %10s %7s %6zu %10s %10s %6llu  %s\n",
                 s.name.c_str(), s.id, s.live_objects,
                 Bytes(static_cast<double>(s.live_bytes)).c_str(),
                 Bytes(static_cast<double>(s.committed_bytes)).c_str(),
                 Bytes(static_cast<double>(s.reserved_bytes)).c_str(),
                 spans.c_str(), s.guard_pages,
                 Bytes(static_cast<double>(s.sealed_bytes)).c_str(),
                 Bytes(static_cast<double>(s.metadata_bytes)).c_str(),
                 static_cast<unsigned long long>(s.violations),  // NOLINT
                 Flags(s).c_str());
  }
  std::fflush(out);
}

}  // namespace sealpool
