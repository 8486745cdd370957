// sealpool_demo — a guided tour of the public API.
//
// Creates three named pools, allocates objects of several sizes, shows that
// Pool::ObjectSize() answers with the exact requested size from any interior
// pointer, shows two refused requests with their absl::Status, frees some
// objects, prints each pool's statistics, destroys the pools, and repeats the
// basic lifetime through the C API. Section 5 shows checked copies refused
// in report mode, each with its pool-named report on stderr; section 6
// builds a policy table, seals it, shows a refused checked write, a plain
// store that faults (in a child process) and a write-rare update. Exits 0 when every step behaved as
// documented, 1 otherwise.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "allocator/inspect.h"
#include "allocator/kernel_calls.h"
#include "allocator/options.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "sealpool/sealpool.h"

namespace {

using sealpool::Pool;

int failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    absl::PrintF("  UNEXPECTED: %s\n", what);
    ++failures;
  }
}

// "1.5 MiB"-style rendering for the stats table.
std::string Bytes(size_t n) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024.0 && unit < 4) {
    v /= 1024.0;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%zu B", n)
                   : absl::StrFormat("%.1f %s", v, kUnits[unit]);
}

struct Object {
  Pool* pool;
  size_t size;
  char* ptr;
};

}  // namespace

// Usage: sealpool_demo [MAP.svg] — also writes the arena map there.
int main(int argc, char** argv) {
  const char* map_path = argc > 1 ? argv[1] : nullptr;
  absl::PrintF("sealpool demo: named pools, exact object sizes, per-pool stats\n");

  absl::PrintF("\n== 1. Named pools ==\n");
  std::vector<Pool*> pools;
  for (const char* name : {"sessions", "policy", "packets"}) {
    absl::StatusOr<Pool*> pool = Pool::Create(name);
    if (!pool.ok()) {
      absl::PrintF("  Create(\"%s\") failed: %s\n", name, pool.status().ToString());
      return 1;
    }
    absl::PrintF("  created pool '%s' (id %u)\n", (*pool)->name(), (*pool)->id());
    pools.push_back(*pool);
  }
  Pool* sessions = pools[0];
  Pool* policy = pools[1];
  Pool* packets = pools[2];

  absl::PrintF("\n== 2. Objects know their exact size ==\n");
  const std::vector<std::pair<Pool*, size_t>> requests = {
      {sessions, 24},  {sessions, 50},   {sessions, 64},     {policy, 1000},
      {policy, 4096},  {packets, 1000},  {packets, 100000},
  };
  std::vector<Object> objects;
  absl::PrintF("  %-9s %8s  %-18s %10s %10s %10s\n", "pool", "request",
               "address", "at start", "at middle", "at last");
  for (const auto& [pool, size] : requests) {
    absl::StatusOr<void*> p = pool->Allocate(size);
    if (!p.ok()) {
      absl::PrintF("  Allocate(%zu) from '%s' failed: %s\n", size,
                   pool->name(), p.status().ToString());
      return 1;
    }
    char* c = static_cast<char*>(*p);
    const size_t at_start = Pool::ObjectSize(c);
    const size_t at_mid = Pool::ObjectSize(c + size / 2);
    const size_t at_last = Pool::ObjectSize(c + size - 1);
    absl::PrintF("  %-9s %8zu  %-18p %10zu %10zu %10zu\n", pool->name(), size,
                 static_cast<void*>(c), at_start, at_mid, at_last);
    Expect(at_start == size && at_mid == size && at_last == size,
           "ObjectSize() should report the requested size everywhere inside");
    Expect(Pool::Owner(c) == pool, "Owner() should name the allocating pool");
    objects.push_back({pool, size, c});
  }
  // A 50-byte object sits in a larger size-class slot; its bounds are the
  // 50 bytes asked for, and the slack after them belongs to no object.
  const Object& fifty = objects[1];
  absl::PrintF("  the 50-byte object ends at byte 50: ObjectSize(ptr + 50) = %zu\n",
               Pool::ObjectSize(fifty.ptr + 50));
  int on_stack = 0;
  absl::PrintF("  a stack variable is no pool object: ObjectSize(&local) = %zu\n",
               Pool::ObjectSize(&on_stack));

  absl::PrintF("\n== 3. Refused requests ==\n");
  absl::StatusOr<Pool*> dup = Pool::Create("sessions");
  absl::PrintF("  %-36s -> %s\n", "Create(\"sessions\") again",
               dup.status().ToString());
  Expect(absl::IsAlreadyExists(dup.status()), "a duplicate name must be refused");
  sealpool::PoolOptions bad_align;
  bad_align.align = 24;
  absl::StatusOr<Pool*> odd = Pool::Create("odd-alignment", bad_align);
  absl::PrintF("  %-36s -> %s\n", "Create(\"odd-alignment\", align = 24)",
               odd.status().ToString());
  Expect(absl::IsInvalidArgument(odd.status()),
         "an alignment that is not a power of two must be refused");

  absl::PrintF("\n== 4. Free ==\n");
  for (size_t i : {0u, 3u, 5u}) {
    Object& o = objects[i];
    absl::Status st = Pool::Free(o.ptr);
    absl::PrintF("  Free(%zu-byte object of '%s') -> %s; ObjectSize now %zu\n",
                 o.size, o.pool->name(), st.ToString(), Pool::ObjectSize(o.ptr));
    Expect(st.ok() && Pool::ObjectSize(o.ptr) == 0,
           "a freed object must no longer be a live object");
  }

  absl::PrintF("\n== 5. Checked copies (report mode: refuse, report, go on) ==\n");
  sealpool::SetMode(sealpool::Mode::kReport);
  char frame[256] = {};
  {
    // sessions' 50-byte object is objects[1]; the 1000-byte packet is [5]
    // (freed above).
    const Object& fifty_obj = objects[1];
    std::fill(fifty_obj.ptr, fifty_obj.ptr + 50, 'x');
    struct Step {
      const char* what;
      bool allowed;
      void* result;
    };
    static const char kBanner[] = "read-only program data";
    const Step steps[] = {
        {"copy 50 bytes out of the 50-byte object", true,
         sp_memcpy(frame, fifty_obj.ptr, 50)},
        {"copy 64 bytes out of it (over-read)", false,
         sp_memcpy(frame, fifty_obj.ptr, 64)},
        {"copy 60 bytes into it (over-write)", false,
         sp_memcpy(fifty_obj.ptr, frame, 60)},
        {"read the freed 1000-byte packet", false,
         sp_memcpy(frame, objects[5].ptr, 16)},
        {"write into read-only program data", false,
         sp_memcpy(const_cast<char*>(kBanner), frame, 4)},
    };
    for (const Step& s : steps) {
      absl::PrintF("  %-44s -> %s\n", s.what,
                   s.result != nullptr ? "copied" : "refused");
      Expect((s.result != nullptr) == s.allowed,
             "check_copy must allow exactly the in-bounds copy");
    }
    absl::PrintF("  violations reported so far: %u (reports are on stderr)\n",
                 static_cast<unsigned>(sealpool::ViolationCount()));
  }
  sealpool::SetMode(sealpool::Mode::kAbort);

  absl::PrintF("\n== 6. Write once: seal the policy table ==\n");
  {
    struct Rule {
      char name[24];
      int allow;
    };
    absl::StatusOr<Pool*> table_pool = Pool::Create("policy-table");
    sealpool::PoolOptions wr_options;
    // Protection keys where the CPU has them, else the memfd alias.
    wr_options.flags = sealpool::kPoolWriteRareKey;
    absl::StatusOr<Pool*> limits_pool = Pool::Create("rate-limits", wr_options);
    if (!table_pool.ok() || !limits_pool.ok()) {
      absl::PrintF("  creating the sealed pools failed\n");
      return 1;
    }
    Pool* tp = *table_pool;
    auto* rules = static_cast<Rule*>(*tp->Allocate(4 * sizeof(Rule)));
    const char* const kNames[] = {"ssh", "http", "telnet", "dns"};
    for (int i = 0; i < 4; ++i) {
      std::snprintf(rules[i].name, sizeof(rules[i].name), "%s", kNames[i]);
      rules[i].allow = i != 2;
    }
    const sealpool::KernelCallCounts before = sealpool::GetKernelCallCounts();
    const absl::Status sealed = tp->Seal();
    const sealpool::KernelCallCounts seal_calls =
        sealpool::GetKernelCallCounts() - before;
    absl::PrintF(
        "  built 4 rules, Seal() -> %s (%s made read-only, %s of its metadata;"
        " %d system calls)\n",
        sealed.ToString(), Bytes(tp->Stats().sealed_bytes),
        Bytes(tp->Stats().sealed_metadata_bytes), seal_calls.Total());
    Expect(sealed.ok(), "Seal() must succeed");
    sealpool::SetMode(sealpool::Mode::kReport);
    const int on = 1;
    const bool refused = sp_memcpy(&rules[2].allow, &on, sizeof(on)) == nullptr;
    absl::PrintF("  checked write turning telnet on          -> %s\n",
                 refused ? "refused (report on stderr)" : "copied");
    Expect(refused, "a checked write into sealed memory must be refused");
    sealpool::SetMode(sealpool::Mode::kAbort);
    std::fflush(stdout);
    const pid_t child = fork();
    if (child == 0) {
      // The default action, even where a sanitizer installed its handler.
      struct sigaction dfl = {};
      dfl.sa_handler = SIG_DFL;
      sigaction(SIGSEGV, &dfl, nullptr);
      rules[2].allow = 1;  // a plain store: the page is read-only
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
    // A sanitizer that keeps its own SIGSEGV handler reports and exits.
    const bool faulted = killed || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
    absl::PrintF("  plain store, in a child process          -> %s; telnet still %s\n",
                 killed ? "killed by SIGSEGV"
                        : (faulted ? "stopped by a fault" : "NOT stopped"),
                 rules[2].allow ? "allowed" : "denied");
    Expect(faulted && rules[2].allow == 0, "a plain store into sealed memory must fault");

    // A write-rare pool: sealed like the table, but changeable by
    // WriteRare: through a protection key enabled for this thread alone
    // for the copy, or through a short-lived private alias of its pages.
    Pool* lp = *limits_pool;
    auto* limit = static_cast<int*>(*lp->Allocate(sizeof(int)));
    *limit = 100;
    Expect(lp->Seal().ok(), "Seal() of the write-rare pool must succeed");
    const int raised = 250;
    const sealpool::KernelCallCounts wr_before = sealpool::GetKernelCallCounts();
    const absl::Status wr = Pool::WriteRare(limit, &raised, sizeof(raised));
    const uint64_t wr_calls =
        (sealpool::GetKernelCallCounts() - wr_before).Total();
    absl::PrintF(
        "  rate-limits sealed; WriteRare(limit = 250) -> %s; limit now %d\n"
        "    (through %s: %d system calls)\n",
        wr.ToString(), *limit,
        lp->Stats().write_rare_key ? "a protection key" : "a memfd alias",
        wr_calls);
    Expect(wr.ok() && *limit == 250, "write-rare must change the sealed value");
    pools.push_back(tp);
    pools.push_back(lp);
  }

  absl::PrintF("\n== 7. Per-pool statistics and the arena map ==\n");
  std::fflush(stdout);
  sealpool::DumpStats(stdout);
  if (map_path != nullptr) {
    const absl::Status st = sealpool::WriteArenaMap(map_path);
    absl::PrintF("  arena map (SVG) -> %s: %s\n", map_path, st.ToString());
    Expect(st.ok(), "the arena map must be written");
  }

  absl::PrintF("\n== 8. Destroy ==\n");
  for (Pool* pool : pools) {
    const std::string name(pool->name());
    absl::Status st = pool->Destroy();
    absl::PrintF("  Destroy('%s') -> %s\n", name, st.ToString());
    Expect(st.ok(), "Destroy() of a live pool must succeed");
  }
  absl::PrintF("  live pools: %zu\n", sealpool::LivePoolCount());

  absl::PrintF("\n== 9. The same lifetime from C ==\n");
  sp_pool_options opts;
  sp_pool_options_init(&opts);
  sp_pool* c_pool = sp_pool_create("c-host", &opts);
  if (c_pool == nullptr) {
    absl::PrintF("  sp_pool_create failed\n");
    return 1;
  }
  void* record = sp_alloc(c_pool, 200);
  Expect(record != nullptr, "sp_alloc(200) must succeed");
  absl::PrintF("  sp_pool_create(\"%s\"); sp_alloc(200) -> %p\n",
               sp_pool_name(c_pool), record);
  absl::PrintF("  sp_object_size(ptr + 123) = %zu\n",
               sp_object_size(static_cast<char*>(record) + 123));
  Expect(sp_object_size(static_cast<char*>(record) + 123) == 200,
         "sp_object_size must report the requested size");
  const int freed = sp_free(record);
  const int destroyed = sp_pool_destroy(c_pool);
  absl::PrintF("  sp_free -> %d, sp_pool_destroy -> %d\n", freed, destroyed);
  Expect(freed == 0 && destroyed == 0, "sp_free and sp_pool_destroy must succeed");

  absl::PrintF("\n%s\n", failures == 0 ? "demo finished: all steps behaved as documented"
                                       : "demo finished with unexpected results");
  return failures == 0 ? 0 : 1;
}
