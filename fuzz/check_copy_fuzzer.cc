// check_copy_fuzzer — check_copy on hostile addresses and lengths.
//
// A fixed set of pools is built once (plain, usercopy window, redzones,
// 4096-byte alignment, sealed, one destroyed), with live objects of sizes
// around every boundary that matters (zero, class edges, the small/large
// edge, page-multiple large objects), freed small and large objects, and
// known guard pages. Each input is a list of queries: a region (a fixture
// object, a freed slot, a guard page, the arena's metadata, gaps and
// unused pages, the thread's live and dead stack frames, the program's
// code, read-only data, RELRO and writable data, the heap, null and the
// first page, arbitrary addresses), an offset, a length (small, exact,
// large, wrapping) and a direction. check_copy must give a verdict and
// never crash; where the model knows the answer — which is almost
// everywhere near the regions above — verdict, kind and violation record
// must match. Refused ranges are also handed to the checked copies, which
// must not touch them.
//
// Arena geometry (where the metadata zone and the data zone lie) comes from
// allocator/internal/testing.h: the public API has no way to name those
// addresses. Everything else uses the public API.

#include <fuzzer/FuzzedDataProvider.h>
#include <gnu/libc-version.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unwind.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/internal/testing.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "fuzz/fuzz_util.h"
#include "sealpool/sealpool.h"

// Image data the model knows: read-only data, RELRO and writable data
// (external linkage, so that none of it is folded away).
extern "C" {
extern const char sealpool_fuzz_rodata[4096];
extern void* const sealpool_fuzz_relro[512];
char sealpool_fuzz_data[4096] = "writable";
}
const char sealpool_fuzz_rodata[4096] = "sealpool check_copy fuzzer";
// Function addresses resolved at load time land in .data.rel.ro, which is
// RELRO (read-only after relocation) in a PIE.
void* const sealpool_fuzz_relro[512] = {reinterpret_cast<void*>(&std::abort),
                                        reinterpret_cast<void*>(&std::malloc)};

namespace {

using sealpool::CopyDirection;
using sealpool::Pool;
using sealpool::PoolOptions;
using sealpool::ViolationKind;
using sealpool_fuzz::Finding;
using sealpool_fuzz::Recorded;
using sealpool_fuzz::ViolationLog;

constexpr size_t kPage = 4096;
constexpr size_t kGap = 64 * 1024;  // the arena's gaps between zones
constexpr int kMaxQueries = 64;
constexpr size_t kHeapSize = 64 * 1024;

ViolationLog g_log;

uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }
const void* Ptr(uintptr_t a) { return reinterpret_cast<const void*>(a); }

// One region the model knows, with what a check of a range that starts in
// it and stays in [lo, hi) answers. A range that leaves [lo, hi) is
// answered by `beyond` (or unknown).
enum class Answer {
  kAllow,   // memory sealpool does not own, or inside a live object
  kObject,  // a live fixture object: the full object rules
  kFreed,   // a freed slot or freed large object: use after free
  kGuard,
  kMetadata,
  kUnused,
  kOutOfBounds,  // slack / redzone after a live object
  kStack,        // a dead frame
  kCode,         // image code: refused both ways
  kReadOnly,     // image read-only data / RELRO: refused for writes
};

struct Region {
  const char* what = "";
  uintptr_t lo = 0, hi = 0;
  Answer answer = Answer::kAllow;
  // kObject and kFreed: the object and its pool.
  uintptr_t object = 0;
  size_t object_size = 0;
  std::string pool;  // empty: the record names no pool
  size_t window_offset = 0, window_size = 0;
  bool sealed = false;
};

struct Fixture {
  std::vector<Region> regions;
  uintptr_t meta_base = 0, meta_end = 0, data_base = 0, data_end = 0;
  uintptr_t stack_lo = 0, stack_hi = 0;
  uint8_t* heap = nullptr;
  uint8_t* scratch = nullptr;  // destination of refused checked copies
};
Fixture* g_fix = nullptr;

// ---------------------------------------------------------------------------
// Building the fixture.

// A line about the fixture on the findings stream (not a finding).
__attribute__((format(printf, 1, 2))) void Note(const char* format, ...) {
  char buf[256];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  if (n <= 0) return;
  const size_t len = static_cast<size_t>(n) < sizeof(buf) - 1
                         ? static_cast<size_t>(n)
                         : sizeof(buf) - 1;
  buf[len] = '\n';
  if (write(sealpool_fuzz::g_finding_fd, "check_copy_fuzzer: ", 19) < 0 ||
      write(sealpool_fuzz::g_finding_fd, buf, len + 1) < 0) {
    return;
  }
}

Pool* MakePool(const char* name, const PoolOptions& o) {
  absl::StatusOr<Pool*> p = Pool::Create(name, o);
  if (!p.ok()) Finding("fixture: Create(%s) failed", name);
  return *p;
}

void* MakeObject(Pool* pool, size_t size) {
  absl::StatusOr<void*> p = pool->Allocate(size);
  if (!p.ok()) Finding("fixture: Allocate(%zu) failed", size);
  if (size != 0) std::memset(*p, 0x5a, size);
  return *p;
}

void AddObject(Pool* pool, void* p, size_t size, const PoolOptions& o,
               bool sealed) {
  Region r;
  r.what = "live object";
  r.lo = Addr(p);
  r.hi = Addr(p) + (size == 0 ? 1 : size);
  r.answer = Answer::kObject;
  r.object = Addr(p);
  r.object_size = size;
  r.pool = std::string(pool->name());
  r.window_offset = o.usercopy_offset;
  r.window_size = o.usercopy_size;
  r.sealed = sealed;
  g_fix->regions.push_back(r);
}

void AddRegion(const char* what, uintptr_t lo, uintptr_t hi, Answer answer,
               const std::string& pool = "", uintptr_t object = 0) {
  Region r;
  r.what = what;
  r.lo = lo;
  r.hi = hi;
  r.answer = answer;
  r.pool = pool;
  r.object = object;
  g_fix->regions.push_back(r);
}

// A pool with live objects of `sizes`, and the slack after each in
// redzone pools.
Pool* PoolWith(const char* name, const PoolOptions& o,
               std::initializer_list<size_t> sizes) {
  Pool* pool = MakePool(name, o);
  for (size_t size : sizes) {
    void* p = MakeObject(pool, size);
    AddObject(pool, p, size, o, false);
    if ((o.flags & sealpool::kPoolRedzones) != 0 && size + 16 <= 32768) {
      AddRegion("redzone", Addr(p) + (size == 0 ? 1 : size),
                Addr(p) + size + 16, Answer::kOutOfBounds,
                std::string(pool->name()), Addr(p));
    }
  }
  return pool;
}

// The deepest frame address of a recursion 64 KiB deep: once it returns,
// a dead frame far below anything the checker itself uses.
__attribute__((noinline)) uintptr_t DeepFrame(int depth) {
  volatile char pad[8192];
  pad[0] = static_cast<char>(depth);
  if (depth == 0) return Addr(__builtin_frame_address(0));
  const uintptr_t r = DeepFrame(depth - 1);
  return r + (pad[0] & 0);
}

void BuildFixture() {
  g_fix = new Fixture();
  // Plain pool: sizes around every edge; two freed objects, small and large.
  PoolOptions plain;
  Pool* p = PoolWith(
      "cc-plain", plain,
      {0,   1,    15,   16,   17,   50,    64,    127,   128,   255,   256,
       257, 1000, 4095, 4096, 8191, 16383, 16384, 16385, 20000, 32767, 32768,
       32769, 65536, 100000});
  // A large object (above 32 KiB, the largest small class) ends against
  // its trailing guard page, and the pages before its first page are
  // guards too.
  void* large = MakeObject(p, 40960);
  AddObject(p, large, 40960, plain, false);
  if ((Addr(large) + 40960) % kPage == 0) {
    AddRegion("trailing guard page", Addr(large) + 40960,
              Addr(large) + 40960 + kPage, Answer::kGuard, "cc-plain");
  } else {
    Note(
        "a 40960-byte object at %#lx does not end on a page: no trailing guard "
        "page in "
        "the model",
        Addr(large));
  }
  const uintptr_t first_page = Addr(large) & ~(kPage - 1);
  AddRegion("leading guard page", first_page - kPage, first_page,
            Answer::kGuard, "cc-plain");
  // Freed last: a later allocation of the pool could take their place.
  void* small_freed = MakeObject(p, 40);
  void* large_freed = MakeObject(p, 40000);
  if (!Pool::Free(small_freed).ok() || !Pool::Free(large_freed).ok()) {
    Finding("fixture: Free failed");
  }
  AddRegion("freed small slot", Addr(small_freed), Addr(small_freed) + 40,
            Answer::kFreed, "cc-plain", Addr(small_freed));
  AddRegion("freed large object", Addr(large_freed), Addr(large_freed) + 40000,
            Answer::kFreed, "cc-plain", Addr(large_freed));

  // A fresh pool with 200 objects of one class: the lowest is slot 0 of a
  // span, right after the span's leading guard page.
  Pool* span_pool = MakePool("cc-span", plain);
  uintptr_t lowest = UINTPTR_MAX;
  for (int i = 0; i < 200; ++i) {
    void* q = MakeObject(span_pool, 48);
    AddObject(span_pool, q, 48, plain, false);
    if (Addr(q) < lowest) lowest = Addr(q);
  }
  if (lowest % (64 * 1024) == kPage) {
    AddRegion("span guard page", lowest - kPage, lowest, Answer::kGuard,
              "cc-span");
  } else {
    Note(
        "the lowest of 200 new 48-byte objects (%#lx) is not a span's first "
        "slot: no "
        "span guard page in the model",
        lowest);
  }

  PoolOptions window;
  window.usercopy_offset = 16;
  window.usercopy_size = 64;
  PoolWith("cc-window", window, {0, 8, 16, 40, 80, 200, 20000});
  PoolOptions redzones;
  redzones.flags = sealpool::kPoolRedzones;
  PoolWith("cc-redzone", redzones, {0, 1, 10, 100, 1000, 16368, 16369, 32752, 32753});
  PoolOptions aligned;
  aligned.align = 4096;
  PoolWith("cc-align", aligned, {0, 100, 5000, 40000});

  PoolOptions sealed_opts;
  sealed_opts.flags = sealpool::kPoolWriteRare;
  Pool* sealed = MakePool("cc-sealed", sealed_opts);
  for (size_t size : {32, 333, 20000}) {
    void* q = MakeObject(sealed, size);
    AddObject(sealed, q, size, sealed_opts, true);
  }
  if (!sealed->Seal().ok()) Finding("fixture: Seal failed");

  // A destroyed pool: its memory goes back to the arena, unused.
  Pool* gone = MakePool("cc-gone", plain);
  void* gone_small = MakeObject(gone, 64);
  void* gone_large = MakeObject(gone, 50000);
  if (!gone->Destroy().ok()) Finding("fixture: Destroy failed");
  AddRegion("released pool memory", Addr(gone_small), Addr(gone_small) + 64,
            Answer::kUnused);
  AddRegion("released pool memory", Addr(gone_large), Addr(gone_large) + 50000,
            Answer::kUnused);

  // The arena's zones (allocator/internal/arena.h), gaps 64 KiB: the
  // metadata reservation [gap][table][gap][records][gap][slack][gap] at a
  // random address, and the data reservation [gap][data][gap].
  g_fix->meta_base = sealpool::internal::ArenaMetadataBase();
  g_fix->meta_end = sealpool::internal::ArenaMetadataEnd();
  g_fix->data_base = sealpool::internal::ArenaDataBase();
  g_fix->data_end = g_fix->data_base + sealpool::internal::ArenaDataSize();
  AddRegion("gap before the metadata", g_fix->meta_base - kGap,
            g_fix->meta_base, Answer::kGuard);
  AddRegion("metadata", g_fix->meta_base, g_fix->meta_end, Answer::kMetadata);
  AddRegion("gap after the metadata", g_fix->meta_end, g_fix->meta_end + kGap,
            Answer::kGuard);
  AddRegion("gap before the data", g_fix->data_base - kGap, g_fix->data_base,
            Answer::kGuard);
  AddRegion("unused data pages", g_fix->data_end - (size_t{1} << 30),
            g_fix->data_end, Answer::kUnused);
  AddRegion("gap after the data", g_fix->data_end, g_fix->data_end + kGap,
            Answer::kGuard);

  // Memory sealpool does not own.
  g_fix->heap = static_cast<uint8_t*>(std::malloc(kHeapSize));
  g_fix->scratch = static_cast<uint8_t*>(std::malloc(kHeapSize));
  std::memset(g_fix->heap, 1, kHeapSize);
  AddRegion("heap", Addr(g_fix->heap), Addr(g_fix->heap) + kHeapSize,
            Answer::kAllow);
  AddRegion("writable data", Addr(sealpool_fuzz_data),
            Addr(sealpool_fuzz_data) + sizeof(sealpool_fuzz_data),
            Answer::kAllow);
  AddRegion("read-only data", Addr(sealpool_fuzz_rodata),
            Addr(sealpool_fuzz_rodata) + sizeof(sealpool_fuzz_rodata),
            Answer::kReadOnly);
  AddRegion("RELRO", Addr(sealpool_fuzz_relro),
            Addr(sealpool_fuzz_relro) + sizeof(sealpool_fuzz_relro),
            Answer::kReadOnly);
  AddRegion("program code", Addr(reinterpret_cast<const void*>(&BuildFixture)),
            Addr(reinterpret_cast<const void*>(&BuildFixture)) + 256,
            Answer::kCode);
  AddRegion("libc code",
            Addr(reinterpret_cast<const void*>(&gnu_get_libc_version)),
            Addr(reinterpret_cast<const void*>(&gnu_get_libc_version)) + 16,
            Answer::kCode);

  // The thread's stack as the system describes it (the same bounds the
  // checker asks pthread for, and /proc/self/maps for the main thread).
  pthread_attr_t attr;
  void* stack_addr = nullptr;
  size_t stack_size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0 ||
      pthread_attr_getstack(&attr, &stack_addr, &stack_size) != 0) {
    Finding("fixture: cannot read the thread's stack bounds");
  }
  pthread_attr_destroy(&attr);
  g_fix->stack_lo = Addr(stack_addr);
  g_fix->stack_hi = g_fix->stack_lo + stack_size;
  // On the main thread the stack runs to the end of its mapping: argv,
  // envp and auxv lie above the top glibc reports.
  if (getpid() == static_cast<pid_t>(syscall(SYS_gettid))) {
    if (FILE* maps = std::fopen("/proc/self/maps", "r")) {
      char line[512];
      while (std::fgets(line, sizeof(line), maps) != nullptr) {
        unsigned long lo = 0, hi = 0;
        if (std::sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
            g_fix->stack_hi - 1 >= lo && g_fix->stack_hi - 1 < hi) {
          if (hi > g_fix->stack_hi) g_fix->stack_hi = hi;
        }
      }
      std::fclose(maps);
    }
  }
  // The model's own consistency: no address belongs to two regions.
  for (size_t i = 0; i < g_fix->regions.size(); ++i) {
    for (size_t j = i + 1; j < g_fix->regions.size(); ++j) {
      const Region& x = g_fix->regions[i];
      const Region& y = g_fix->regions[j];
      if (x.lo < y.hi && y.lo < x.hi) {
        Finding("fixture: %s [%#lx, %#lx) overlaps %s [%#lx, %#lx)", x.what,
                x.lo, x.hi, y.what, y.lo, y.hi);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The model.

struct Expect {
  bool known = true;
  ViolationKind kind = ViolationKind::kNone;
  bool either = false;  // kind or kAlt
  ViolationKind alt = ViolationKind::kNone;
  const Region* region = nullptr;  // what the record must name
};

const Region* RegionAt(uintptr_t a) {
  for (const Region& r : g_fix->regions) {
    if (a >= r.lo && a < r.hi) return &r;
  }
  return nullptr;
}

bool Overlaps(uintptr_t a, uintptr_t end, uintptr_t lo, uintptr_t hi) {
  return a < hi && end > lo;
}

// The stack-frame rule's model: the canonical frame addresses of the live
// frames, from Query() up, found by libgcc's unwinder (not the checker's
// walk). A range starting below a frame's CFA must end below it, and below
// the frame's saved registers, which take at most 7 slots (rbx, rbp,
// r12-r15 and the return address): ends in between are not predicted.
struct FrameList {
  int n = 0;
  uintptr_t cfa[512];
};
FrameList g_frames;

// libgcc's context N holds frame N's stack pointer, i.e. the CFA of frame
// N - 1 (frame 0 is CollectFrames, 1 is Query).
struct FrameWalk {
  FrameList* list;
  int k = 0;
};
_Unwind_Reason_Code CollectCfaAt(_Unwind_Context* ctx, void* arg) {
  auto* w = static_cast<FrameWalk*>(arg);
  if (w->k++ >= 2 && w->list->n < 512) {
    w->list->cfa[w->list->n++] = _Unwind_GetCFA(ctx);
  }
  return _URC_NO_REASON;
}

__attribute__((noinline)) void CollectFrames(FrameList* list) {
  list->n = 0;
  FrameWalk w{list};
  _Unwind_Backtrace(CollectCfaAt, &w);
}

// The outermost frame (_start, clone's child) has no return address (its
// tables say "undefined"): the rule does not judge it, and the model does
// not predict it.
void ExpectFrame(uintptr_t a, uintptr_t end, Expect* e) {
  for (int i = 0; i < g_frames.n; ++i) {
    const uintptr_t cfa = g_frames.cfa[i];
    if (a >= cfa) continue;
    if (i == g_frames.n - 1) {
      e->known = false;
      return;
    }
    if (end > cfa) {
      e->kind = ViolationKind::kStackFrame;
    } else if (end + 7 * 8 > cfa) {
      e->known = false;
    }
    return;
  }
  // Above the outermost frame (arguments, environment): nothing to judge.
}

// `live_frame`: the lowest frame address that is live while the checker
// runs (the caller's); addresses below it are dead.
Expect ExpectCheck(uintptr_t a, size_t len, CopyDirection dir,
                   uintptr_t live_frame) {
  Expect e;
  if (len == 0) return e;
  if (a < kPage || a + len < a) {
    e.kind = ViolationKind::kBogusPointer;
    return e;
  }
  const uintptr_t end = a + len;
  // The metadata reservation is exactly [meta_base - gap, meta_end + gap).
  // The data reservation starts 64 to 128 KiB before the data zone and
  // ends 64 to 192 KiB after it (arena.cc rounds its start up to a
  // granule); only the part between is certainly arena.
  const uintptr_t meta_lo = g_fix->meta_base - kGap;
  const uintptr_t meta_hi = g_fix->meta_end + kGap;
  const uintptr_t data_lo = g_fix->data_base - kGap;
  const uintptr_t data_hi = g_fix->data_end + kGap;
  const bool in_arena =
      (a >= meta_lo && a < meta_hi) || (a >= data_lo && a < data_hi);
  if ((a >= data_lo - kGap && a < data_lo) ||
      (a >= data_hi && a < data_hi + 2 * kGap)) {
    e.known = false;  // maybe arena (a gap: guard-page), maybe not
    return e;
  }
  if (!in_arena) {
    // Rule 4, in the checker's order: stack, then the arena, then images.
    if (Overlaps(a, end, g_fix->stack_lo, g_fix->stack_hi)) {
      if (a < g_fix->stack_lo || end > g_fix->stack_hi) {
        e.kind = ViolationKind::kStackOverflow;
      } else if (a < live_frame - 64 * 1024) {
        e.kind = ViolationKind::kStackOverflow;  // well inside dead frames
      } else if (a >= live_frame) {
        ExpectFrame(a, end, &e);
      } else {
        e.known = false;  // near the checker's own frames
      }
      return e;
    }
    // Runs into a reservation: certainly for the metadata one, and for the
    // data one if it reaches the certain part.
    if (a < meta_lo && end > meta_lo) {
      e.kind = ViolationKind::kGuardPage;
      return e;
    }
    if (a < data_lo && end > data_lo - kGap) {
      if (end > data_lo) {
        e.kind = ViolationKind::kGuardPage;
      } else {
        e.known = false;
      }
      return e;
    }
  }
  const Region* r = RegionAt(a);
  if (r == nullptr) {
    if (in_arena && a >= g_fix->data_base && a < g_fix->data_end) {
      // Arena memory outside the regions: refused, for one of the arena's
      // reasons (see CheckRecord).
      e.kind = ViolationKind::kOutOfBounds;
      e.either = true;
      e.alt = ViolationKind::kNone;
      return e;
    }
    e.known = false;
    return e;
  }
  e.region = r;
  switch (r->answer) {
    case Answer::kObject: {
      const size_t off = a - r->object;
      if (len > r->object_size - off) {
        e.kind = ViolationKind::kOutOfBounds;
      } else if (r->window_size != 0 &&
                 (off < r->window_offset ||
                  off + len > r->window_offset + r->window_size)) {
        e.kind = ViolationKind::kUsercopyWindow;
      } else if (r->sealed && dir == CopyDirection::kWrite) {
        e.kind = ViolationKind::kSealedWrite;
      }
      return e;
    }
    case Answer::kFreed:
      e.kind = ViolationKind::kUseAfterFree;
      return e;
    case Answer::kGuard:
      e.kind = ViolationKind::kGuardPage;
      return e;
    case Answer::kMetadata:
      e.kind = ViolationKind::kMetadataPage;
      return e;
    case Answer::kUnused:
      e.kind = ViolationKind::kUnusedPage;
      return e;
    case Answer::kOutOfBounds:
      e.kind = ViolationKind::kOutOfBounds;
      return e;
    case Answer::kStack:
      e.kind = ViolationKind::kStackOverflow;
      return e;
    case Answer::kAllow:
    case Answer::kCode:
    case Answer::kReadOnly:
      break;
  }
  // Outside the arena, off the stack: images decide, within the region.
  if (end > r->hi) {
    e.known = false;
    return e;
  }
  if (r->answer == Answer::kCode ||
      (r->answer == Answer::kReadOnly && dir == CopyDirection::kWrite)) {
    e.kind = ViolationKind::kImageSegment;
  }
  return e;
}

bool IsArenaKind(ViolationKind k) {
  return k == ViolationKind::kGuardPage || k == ViolationKind::kMetadataPage ||
         k == ViolationKind::kUnusedPage || k == ViolationKind::kOutOfBounds ||
         k == ViolationKind::kUseAfterFree;
}

void CheckResult(ViolationKind got, const Expect& e, uintptr_t a, size_t len,
                 CopyDirection dir, const char* api) {
  const char* where = e.region != nullptr ? e.region->what : "elsewhere";
  const char* d = dir == CopyDirection::kRead ? "read" : "write";
  if (!e.known) {
    SEALPOOL_FUZZ_CHECK(
        g_log.count() == (got == ViolationKind::kNone ? 0 : 1) &&
            (got == ViolationKind::kNone || got == g_log.at(0).kind),
        "%s at %#lx len %zu (%s, %s): returned %s with %d violations", api, a,
        len, d, where, sealpool::ViolationKindName(got), g_log.count());
    g_log.Clear();
    return;
  }
  if (e.kind == ViolationKind::kNone) {
    SEALPOOL_FUZZ_CHECK(
        got == ViolationKind::kNone && g_log.count() == 0,
        "%s at %#lx len %zu (%s, %s): refused as %s, model allows", api, a, len,
        d, where, sealpool::ViolationKindName(got));
    return;
  }
  SEALPOOL_FUZZ_CHECK(
      got != ViolationKind::kNone && g_log.count() == 1 &&
          g_log.at(0).kind == got,
      "%s at %#lx len %zu (%s, %s): returned %s with %d violations, model "
      "refuses (%s)",
      api, a, len, d, where, sealpool::ViolationKindName(got), g_log.count(),
      sealpool::ViolationKindName(e.kind));
  if (e.either && e.alt == ViolationKind::kNone) {
    SEALPOOL_FUZZ_CHECK(IsArenaKind(got),
                        "%s at %#lx len %zu (%s, arena): refused as %s", api, a,
                        len, d, sealpool::ViolationKindName(got));
  } else {
    SEALPOOL_FUZZ_CHECK(
        got == e.kind || (e.either && got == e.alt),
        "%s at %#lx len %zu (%s, %s): refused as %s, model says %s", api, a,
        len, d, where, sealpool::ViolationKindName(got),
        sealpool::ViolationKindName(e.kind));
  }
  const Recorded& r = g_log.at(0);
  SEALPOOL_FUZZ_CHECK(r.addr == a && r.len == len && r.dir == dir,
                      "%s at %#lx len %zu: record says %#lx len %zu dir %d",
                      api, a, len, r.addr, r.len, static_cast<int>(r.dir));
  if (e.region != nullptr && !(e.either && e.alt == ViolationKind::kNone)) {
    const Region& g = *e.region;
    if (g.pool.empty()) {
      SEALPOOL_FUZZ_CHECK(!r.has_pool_name,
                          "%s at %#lx (%s): record names pool '%s'", api, a,
                          where, r.pool_name);
    } else {
      SEALPOOL_FUZZ_CHECK(
          r.has_pool_name && g.pool == r.pool_name,
          "%s at %#lx (%s): record names pool '%s', expected '%s'", api, a,
          where, r.has_pool_name ? r.pool_name : "(none)", g.pool.c_str());
    }
    if (g.answer == Answer::kObject) {
      SEALPOOL_FUZZ_CHECK(
          r.object_start == g.object && r.object_size == g.object_size &&
              r.offset == a - g.object,
          "%s at %#lx: record names object %#lx size %zu offset %zu, expected "
          "%#lx size %zu",
          api, a, r.object_start, r.object_size, r.offset, g.object,
          g.object_size);
    } else if (g.object != 0) {
      SEALPOOL_FUZZ_CHECK(
          r.object_start == g.object,
          "%s at %#lx (%s): record names object %#lx, expected %#lx", api, a,
          where, r.object_start, g.object);
    }
  }
  g_log.Clear();
}

// Where a query starts: a region of the fixture, a stack address, or any
// address at all.
uintptr_t PickStart(FuzzedDataProvider& fdp, uintptr_t frame, uintptr_t dead) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4: {
      const Region& r = g_fix->regions[fdp.ConsumeIntegralInRange<size_t>(
          0, g_fix->regions.size() - 1)];
      const size_t span = r.hi - r.lo;
      switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
        case 0:
          return r.lo;
        case 1:
          return r.lo +
                 fdp.ConsumeIntegralInRange<size_t>(0, span > 0 ? span - 1 : 0);
        case 2:
          return r.hi - fdp.ConsumeIntegralInRange<size_t>(0, 64);
        default:
          return r.lo + static_cast<uintptr_t>(
                            fdp.ConsumeIntegralInRange<int64_t>(-9000, 9000));
      }
    }
    case 5:  // the caller's live frames, up to the top of the stack
      return frame +
             fdp.ConsumeIntegralInRange<size_t>(0, g_fix->stack_hi - frame);
    case 6:  // a dead frame, or the stack's ends
      switch (fdp.ConsumeIntegralInRange<int>(0, 2)) {
        case 0:
          return dead + fdp.ConsumeIntegralInRange<size_t>(0, 8192);
        case 1:
          return g_fix->stack_hi - fdp.ConsumeIntegralInRange<size_t>(0, 256);
        default:
          return g_fix->stack_lo - 256 +
                 fdp.ConsumeIntegralInRange<size_t>(0, 512);
      }
    case 7:  // anywhere in the arena's data zone
      return g_fix->data_base + fdp.ConsumeIntegralInRange<uintptr_t>(
                                    0, g_fix->data_end - g_fix->data_base - 1);
    case 8:  // null and the first page
      return fdp.ConsumeIntegralInRange<uintptr_t>(0, kPage);
    default:
      return fdp.ConsumeIntegral<uintptr_t>();
  }
}

size_t PickLength(FuzzedDataProvider& fdp, uintptr_t a) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      return 0;
    case 1:
    case 2:
      return fdp.ConsumeIntegralInRange<size_t>(1, 64);
    case 3: {
      const Region* r = RegionAt(a);
      const size_t rest = r != nullptr ? r->hi - a : 0;
      return rest + static_cast<size_t>(fdp.ConsumeIntegralInRange<int>(-2, 2));
    }
    case 4:
      return fdp.ConsumeIntegralInRange<size_t>(0, size_t{1} << 20);
    case 5:
      return fdp.ConsumeIntegralInRange<size_t>(0, size_t{1} << 40);
    case 6:
      return -a + fdp.ConsumeIntegralInRange<size_t>(
                      0, 16);  // ends at or just past 2^64
    default:
      return fdp.ConsumeIntegral<size_t>();
  }
}

void Query(FuzzedDataProvider& fdp, uintptr_t frame, uintptr_t dead) {
  const uintptr_t a = PickStart(fdp, frame, dead);
  const size_t len = PickLength(fdp, a);
  const CopyDirection dir =
      fdp.ConsumeBool() ? CopyDirection::kRead : CopyDirection::kWrite;
  const int api = fdp.ConsumeIntegralInRange<int>(0, 4);
  CollectFrames(&g_frames);
  const Expect e = ExpectCheck(a, len, dir, frame);
  ViolationKind got = ViolationKind::kNone;
  switch (api) {
    case 0:
      got = sealpool::CheckCopy(Ptr(a), len, dir);
      CheckResult(got, e, a, len, dir, "CheckCopy");
      return;
    case 1:
      got = static_cast<ViolationKind>(-sp_check_copy(
          Ptr(a), len,
          dir == CopyDirection::kRead ? SP_COPY_READ : SP_COPY_WRITE));
      CheckResult(got, e, a, len, dir, "sp_check_copy");
      return;
    case 2: {
      const absl::Status s = sealpool::CheckCopyStatus(Ptr(a), len, dir);
      got = s.ok() ? ViolationKind::kNone
                   : (g_log.count() > 0 ? g_log.at(0).kind
                                        : ViolationKind::kMetadataCorruption);
      CheckResult(got, e, a, len, dir, "CheckCopyStatus");
      return;
    }
    default:
      break;
  }
  // Checked copies, only where the model is sure of a refusal: they must
  // report it and touch nothing in the refused range (it may be unmapped,
  // or a guard). A refused read zeroes its destination range when that is
  // writable: the scratch buffer when the length fits it, else a
  // first-page destination the checker refuses without a second report.
  if (!e.known || e.kind == ViolationKind::kNone) {
    got = sealpool::CheckCopy(Ptr(a), len, dir);
    CheckResult(got, e, a, len, dir, "CheckCopy");
    return;
  }
  void* r = nullptr;
  if (dir == CopyDirection::kRead && len <= kHeapSize) {
    std::memset(g_fix->scratch, 0x5a, len);
    r = sealpool::CheckedMemcpy(g_fix->scratch, Ptr(a), len);
    for (size_t i = 0; i < len; ++i) {
      SEALPOOL_FUZZ_CHECK(g_fix->scratch[i] == 0,
                          "refused read from %#lx len %zu: destination byte "
                          "%zu not zeroed",
                          a, len, i);
    }
  } else if (dir == CopyDirection::kRead) {
    r = sealpool::CheckedMemcpy(reinterpret_cast<void*>(uintptr_t{64}), Ptr(a),
                                len);
  } else if (api == 3 || len > kHeapSize) {  // the memmove source must be fine
    r = sealpool::CheckedMemset(reinterpret_cast<void*>(a), 0xee, len);
  } else {
    r = sealpool::CheckedMemmove(reinterpret_cast<void*>(a), g_fix->heap, len);
  }
  SEALPOOL_FUZZ_CHECK(r == nullptr,
                      "checked copy %s %#lx len %zu done, model refuses",
                      dir == CopyDirection::kRead ? "from" : "to", a, len);
  got = g_log.count() > 0 ? g_log.at(0).kind : ViolationKind::kNone;
  CheckResult(got, e, a, len, dir, "checked copy");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sealpool_fuzz::InitFuzzing(&g_log);
  BuildFixture();
  g_log.Clear();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const uintptr_t frame = Addr(__builtin_frame_address(0));
  const uintptr_t dead = DeepFrame(8);
  g_log.Clear();
  for (int q = 0; q < kMaxQueries && fdp.remaining_bytes() > 0; ++q)
    Query(fdp, frame, dead);
  return 0;
}
