// pool_api_fuzzer — sequences of pool API calls against an exact model.
//
// The input is read as a list of operations: create (fuzzed names and
// options), allocate (fuzzed sizes), free (valid, double, interior, past
// the end, foreign), seal, write-rare, Ref/Unref/Find/Destroy, check_copy
// and the checked copies at fuzzed offsets, lengths and directions, through
// the C++ API and the C API alike. Beside the library the harness keeps an
// exact model: every pool with its options, references and state, every
// live object with its requested size, its sealed state and its bytes, and
// the freed small objects whose slots still lie empty. Every verdict, every
// status, every violation record (kind, pool name, object, offset) and
// every byte of every live object must match the model; a mismatch traps
// with a one-line explanation (see fuzz_util.h).
//
// The library runs in report mode. Memory is bounded (at most kMaxSlots
// pools, kMaxObjects objects, kMaxLiveBytes bytes per input) and every pool
// is destroyed and released at the end of each input, so that inputs are
// independent. Permanent pools are never created: they cannot be destroyed
// (the model checks that their creation is refused only where another
// option is bad).

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "allocator/options.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "boundscheck/check_copy.h"
#include "fuzz/fuzz_util.h"
#include "sealpool/sealpool.h"

// fuzz/c_api_shim.c: sp_check_copy called from C with an int direction.
extern "C" int sealpool_fuzz_check_copy_int_dir(const void* ptr, size_t len,
                                                int dir);

namespace {

using sealpool::CopyDirection;
using sealpool::Pool;
using sealpool::PoolOptions;
using sealpool::ViolationKind;
using sealpool_fuzz::Finding;
using sealpool_fuzz::Recorded;
using sealpool_fuzz::ViolationLog;

constexpr int kMaxSlots = 6;
constexpr size_t kMaxObjects = 160;
constexpr size_t kMaxLiveBytes = size_t{3} << 20;
constexpr size_t kMaxLargeSize = 160 * 1024;
constexpr int kMaxOps = 300;
constexpr size_t kOutsideSize = 64 * 1024;  // harness buffers, not pool memory

ViolationLog g_log;
uint8_t* g_outside[2];  // heap buffers: memory sealpool does not own

uintptr_t Addr(const void* p) { return reinterpret_cast<uintptr_t>(p); }
void* Ptr(uintptr_t a) { return reinterpret_cast<void*>(a); }

const char* DirName(CopyDirection d) {
  return d == CopyDirection::kRead ? "read" : "write";
}

// ---------------------------------------------------------------------------
// The model.

struct ModelPool {
  bool used = false;  // we still hold a reference
  Pool* pool = nullptr;
  std::string name;
  uint32_t id = 0;
  PoolOptions options;
  bool destroyed = false;
  int refs = 0;
};

struct Object {
  uintptr_t start = 0;
  size_t size = 0;
  int slot = 0;
  bool sealed = false;
  bool small = false;
  std::vector<uint8_t> bytes;
};

// A freed small object whose slot nobody has taken since: its pool is
// still alive, so the slot stays where it was.
struct Dead {
  size_t size = 0;
  int slot = 0;
};

struct Model {
  ModelPool pools[kMaxSlots];
  std::map<uintptr_t, Object> live;
  std::map<uintptr_t, Dead> dead;
  size_t live_bytes = 0;
  uint32_t serial = 0;

  // The live object whose bytes include `a` (for a zero-size object: that
  // starts at `a`), or nullptr.
  Object* Containing(uintptr_t a) {
    auto it = live.upper_bound(a);
    if (it == live.begin()) return nullptr;
    --it;
    Object& o = it->second;
    return a == o.start || a - o.start < o.size ? &o : nullptr;
  }
  const Dead* DeadAt(uintptr_t a, uintptr_t* start) const {
    auto it = dead.upper_bound(a);
    if (it == dead.begin()) return nullptr;
    --it;
    if (a != it->first && a - it->first >= it->second.size) return nullptr;
    *start = it->first;
    return &it->second;
  }
  bool NameTaken(const std::string& name) const {
    for (const ModelPool& p : pools) {
      if (p.used && !p.destroyed && p.name == name) return true;
    }
    return false;
  }
};

Model* g_model = nullptr;

// ---------------------------------------------------------------------------
// Expected verdicts.

// What a check of [a, a+len) must answer. `exact`: kind is the one answer;
// else any kind that arena memory outside live objects can give. `object`
// and `dead_start` say what the record must name.
struct Expect {
  ViolationKind kind = ViolationKind::kNone;
  bool exact = true;
  bool known = true;  // false: memory the model knows nothing about
  const Object* object = nullptr;
  int slot = -1;  // pool whose name the record carries
  uintptr_t dead_start = 0;
};

bool IsArenaKind(ViolationKind k) {
  return k == ViolationKind::kGuardPage || k == ViolationKind::kMetadataPage ||
         k == ViolationKind::kUnusedPage || k == ViolationKind::kOutOfBounds ||
         k == ViolationKind::kUseAfterFree;
}

bool InOutside(uintptr_t a, size_t len) {
  for (const uint8_t* b : g_outside) {
    if (a >= Addr(b) && len <= kOutsideSize &&
        a - Addr(b) <= kOutsideSize - len) {
      return true;
    }
  }
  return false;
}

Expect ExpectCheck(uintptr_t a, size_t len, CopyDirection dir) {
  Expect e;
  if (len == 0) return e;
  if (a < 4096 || a + len < a) {
    e.kind = ViolationKind::kBogusPointer;
    return e;
  }
  if (InOutside(a, len)) return e;
  if (!sealpool::InArena(Ptr(a), 1)) {
    e.known = false;
    return e;
  }
  if (const Object* o = g_model->Containing(a)) {
    const size_t off = a - o->start;
    const PoolOptions& opt = g_model->pools[o->slot].options;
    e.object = o;
    e.slot = o->slot;
    if (len > o->size - off) {
      e.kind = ViolationKind::kOutOfBounds;
    } else if (opt.usercopy_size != 0 &&
               (off < opt.usercopy_offset ||
                off + len > opt.usercopy_offset + opt.usercopy_size)) {
      e.kind = ViolationKind::kUsercopyWindow;
    } else if (o->sealed && dir == CopyDirection::kWrite) {
      e.kind = ViolationKind::kSealedWrite;
    }
    return e;
  }
  uintptr_t dead_start = 0;
  if (const Dead* d = g_model->DeadAt(a, &dead_start)) {
    e.kind = ViolationKind::kUseAfterFree;
    e.slot = d->slot;
    e.dead_start = dead_start;
    return e;
  }
  e.kind = ViolationKind::kOutOfBounds;
  e.exact = false;
  return e;
}

// Compares one recorded violation with the expectation.
void CheckRecord(const Recorded& r, const Expect& e, uintptr_t a, size_t len,
                 CopyDirection dir, const char* what) {
  if (e.exact) {
    SEALPOOL_FUZZ_CHECK(
        r.kind == e.kind, "%s at %#lx len %zu (%s): reported %s, model says %s",
        what, a, len, DirName(dir), sealpool::ViolationKindName(r.kind),
        sealpool::ViolationKindName(e.kind));
  } else {
    SEALPOOL_FUZZ_CHECK(
        IsArenaKind(r.kind),
        "%s at %#lx len %zu (%s) outside live objects: reported %s", what, a,
        len, DirName(dir), sealpool::ViolationKindName(r.kind));
  }
  SEALPOOL_FUZZ_CHECK(
      r.addr == a && r.len == len && r.dir == dir,
      "%s: record says addr %#lx len %zu dir %d, the call was %#lx %zu %d",
      what, r.addr, r.len, static_cast<int>(r.dir), a, len,
      static_cast<int>(dir));
  if (e.slot >= 0) {
    const ModelPool& p = g_model->pools[e.slot];
    SEALPOOL_FUZZ_CHECK(
        r.has_pool_name && p.name == r.pool_name && r.pool_id == p.id,
        "%s at %#lx: record names pool '%s' (id %u), expected '%s' (id %u)",
        what, a, r.has_pool_name ? r.pool_name : "(none)", r.pool_id,
        p.name.c_str(), p.id);
  }
  if (e.object != nullptr) {
    SEALPOOL_FUZZ_CHECK(
        r.object_start == e.object->start && r.object_size == e.object->size &&
            r.offset == a - e.object->start,
        "%s at %#lx: record names object %#lx size %zu offset %zu, "
        "expected %#lx size %zu offset %zu",
        what, a, r.object_start, r.object_size, r.offset, e.object->start,
        e.object->size, a - e.object->start);
  }
  if (e.dead_start != 0) {
    SEALPOOL_FUZZ_CHECK(
        r.object_start == e.dead_start,
        "%s at %#lx in a freed slot at %#lx: record names object %#lx", what, a,
        e.dead_start, r.object_start);
  }
}

// After one call: the violations recorded must be exactly what `e` says.
void CheckVerdict(ViolationKind got, const Expect& e, uintptr_t a, size_t len,
                  CopyDirection dir, const char* what) {
  if (!e.known) {
    g_log.Clear();
    return;
  }
  if (e.kind == ViolationKind::kNone) {
    SEALPOOL_FUZZ_CHECK(got == ViolationKind::kNone && g_log.count() == 0,
                        "%s at %#lx len %zu (%s): refused (%s), model allows",
                        what, a, len, DirName(dir),
                        sealpool::ViolationKindName(got));
  } else {
    SEALPOOL_FUZZ_CHECK(
        got != ViolationKind::kNone && g_log.count() == 1,
        "%s at %#lx len %zu (%s): %s with %d violations, model refuses (%s)",
        what, a, len, DirName(dir), sealpool::ViolationKindName(got),
        g_log.count(), sealpool::ViolationKindName(e.kind));
    SEALPOOL_FUZZ_CHECK(got == g_log.at(0).kind,
                        "%s: returned %s but reported %s", what,
                        sealpool::ViolationKindName(got),
                        sealpool::ViolationKindName(g_log.at(0).kind));
    CheckRecord(g_log.at(0), e, a, len, dir, what);
  }
  g_log.Clear();
}

// ---------------------------------------------------------------------------
// Verification of the whole state.

void VerifyObject(const Object& o) {
  const uint8_t* p = static_cast<const uint8_t*>(Ptr(o.start));
  if (o.size != 0 && std::memcmp(p, o.bytes.data(), o.size) != 0) {
    size_t i = 0;
    while (p[i] == o.bytes[i]) ++i;
    Finding(
        "object %#lx (size %zu, pool '%s'): byte %zu is %#x, model says %#x",
        o.start, o.size, g_model->pools[o.slot].name.c_str(), i, p[i],
        o.bytes[i]);
  }
  SEALPOOL_FUZZ_CHECK(Pool::ObjectSize(Ptr(o.start)) == o.size &&
                          sp_object_size(Ptr(o.start)) == o.size,
                      "ObjectSize(%#lx) = %zu, model says %zu", o.start,
                      Pool::ObjectSize(Ptr(o.start)), o.size);
  if (o.size > 1) {
    SEALPOOL_FUZZ_CHECK(Pool::ObjectSize(Ptr(o.start + o.size - 1)) == o.size,
                        "ObjectSize of the last byte of %#lx (size %zu) is %zu",
                        o.start, o.size,
                        Pool::ObjectSize(Ptr(o.start + o.size - 1)));
  }
  const ModelPool& mp = g_model->pools[o.slot];
  SEALPOOL_FUZZ_CHECK(Pool::Owner(Ptr(o.start)) == mp.pool,
                      "Owner(%#lx) is not pool '%s'", o.start, mp.name.c_str());
  const sealpool::AddressInfo info = sealpool::QueryAddress(Ptr(o.start));
  SEALPOOL_FUZZ_CHECK((info.page == sealpool::PageKind::kSmallSpan ||
                       info.page == sealpool::PageKind::kLargeSpan) &&
                          info.in_slot && info.live &&
                          info.object_start == o.start &&
                          info.object_size == o.size && info.pool_id == mp.id &&
                          info.sealed == o.sealed &&
                          info.usercopy_offset == mp.options.usercopy_offset &&
                          info.usercopy_size == mp.options.usercopy_size,
                      "QueryAddress(%#lx): page %d slot %d live %d start %#lx "
                      "size %zu pool %u sealed %d; "
                      "model: size %zu pool %u sealed %d",
                      o.start, static_cast<int>(info.page), info.in_slot,
                      info.live, info.object_start, info.object_size,
                      info.pool_id, info.sealed, o.size, mp.id, o.sealed);
}

void VerifyAll() {
  size_t objects[kMaxSlots] = {};
  size_t bytes[kMaxSlots] = {};
  for (const auto& [start, o] : g_model->live) {
    VerifyObject(o);
    ++objects[o.slot];
    bytes[o.slot] += o.size;
  }
  for (const auto& [start, d] : g_model->dead) {
    SEALPOOL_FUZZ_CHECK(Pool::ObjectSize(Ptr(start)) == 0,
                        "ObjectSize(%#lx) of a freed object is %zu", start,
                        Pool::ObjectSize(Ptr(start)));
    const sealpool::AddressInfo info = sealpool::QueryAddress(Ptr(start));
    SEALPOOL_FUZZ_CHECK(
        info.page == sealpool::PageKind::kSmallSpan && info.in_slot &&
            !info.live && info.object_start == start,
        "QueryAddress(%#lx) of a freed small object: page %d slot %d live %d "
        "start %#lx",
        start, static_cast<int>(info.page), info.in_slot, info.live,
        info.object_start);
  }
  for (int s = 0; s < kMaxSlots; ++s) {
    const ModelPool& mp = g_model->pools[s];
    if (!mp.used) continue;
    const sealpool::PoolStats st = mp.pool->Stats();
    SEALPOOL_FUZZ_CHECK(
        st.live_objects == objects[s] && st.live_bytes == bytes[s],
        "pool '%s' stats: %zu live objects, %zu live bytes; model: %zu, %zu",
        mp.name.c_str(), st.live_objects, st.live_bytes, objects[s], bytes[s]);
    SEALPOOL_FUZZ_CHECK(st.refs == mp.refs && st.destroyed == mp.destroyed,
                        "pool '%s' stats: refs %d destroyed %d; model: %d %d",
                        mp.name.c_str(), st.refs, st.destroyed, mp.refs,
                        mp.destroyed);
    SEALPOOL_FUZZ_CHECK(
        mp.options.max_bytes == 0 || st.committed_bytes <= mp.options.max_bytes,
        "pool '%s' committed %zu bytes over its cap of %zu", mp.name.c_str(),
        st.committed_bytes, mp.options.max_bytes);
  }
}

// ---------------------------------------------------------------------------
// Operations.

void ForgetPool(int s) {
  ModelPool& mp = g_model->pools[s];
  for (auto it = g_model->live.begin(); it != g_model->live.end();) {
    if (it->second.slot == s) {
      g_model->live_bytes -= it->second.size;
      it = g_model->live.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = g_model->dead.begin(); it != g_model->dead.end();) {
    it = it->second.slot == s ? g_model->dead.erase(it) : std::next(it);
  }
  mp = ModelPool();
}

// Drops one reference of pool `s` (the creator's through Destroy, any other
// through Unref), then forgets the pool when none is left.
void DropRef(int s) {
  ModelPool& mp = g_model->pools[s];
  if (--mp.refs == 0) ForgetPool(s);
}

void OpCreate(FuzzedDataProvider& fdp) {
  int s = 0;
  while (s < kMaxSlots && g_model->pools[s].used) ++s;
  if (s == kMaxSlots) return;
  static const char* const kNames[] = {"sessions", "keys", "policy",
                                       "records",  "p",    "p"};
  std::string name;
  if (fdp.ConsumeBool()) {
    name = fdp.PickValueInArray(kNames);
  } else {
    name = fdp.ConsumeRandomLengthString(70);
  }
  PoolOptions o;
  switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      break;
    case 1:
    case 2:
      o.align = size_t{1} << fdp.ConsumeIntegralInRange<int>(3, 12);
      break;
    default:
      o.align = fdp.ConsumeIntegral<uint16_t>();
      break;
  }
  switch (fdp.ConsumeIntegralInRange<int>(0, 4)) {
    case 0:
    case 1:
      break;
    case 2:
    case 3:
      o.usercopy_offset = fdp.ConsumeIntegralInRange<size_t>(0, 300);
      o.usercopy_size = fdp.ConsumeIntegralInRange<size_t>(1, 400);
      break;
    default:
      o.usercopy_offset = fdp.ConsumeIntegral<uint64_t>();
      o.usercopy_size = fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegral<uint64_t>();
      break;
  }
  if (fdp.ConsumeIntegralInRange<int>(0, 3) == 0) {
    o.max_bytes = fdp.ConsumeIntegralInRange<size_t>(0, size_t{1} << 20);
  }
  o.flags = fdp.ConsumeIntegral<uint8_t>() & 0x1f;  // 0x10: not a flag
  const bool use_c = fdp.ConsumeBool();
  std::string model_name = name;
  if (use_c)
    model_name = std::string(name.c_str());  // the C API sees a C string

  // The model of Create's validation, in its order.
  bool valid_name =
      !model_name.empty() && model_name.size() <= sealpool::kMaxPoolNameLength;
  for (char c : model_name) valid_name &= c >= 0x20 && c <= 0x7e;
  const bool bad_option = !valid_name || o.align < 8 || o.align > 4096 ||
                          (o.align & (o.align - 1)) != 0 ||
                          (o.flags & ~sealpool::kPoolAllFlags) != 0 ||
                          (o.usercopy_size == 0 && o.usercopy_offset != 0) ||
                          o.usercopy_offset > UINT32_MAX ||
                          o.usercopy_size > UINT32_MAX;
  // A permanent pool could never be destroyed: only where Create must fail.
  if (!bad_option) o.flags &= ~sealpool::kPoolPermanent;
  const bool taken = g_model->NameTaken(model_name);

  Pool* pool = nullptr;
  absl::StatusCode code = absl::StatusCode::kOk;
  if (use_c) {
    sp_pool_options co;
    sp_pool_options_init(&co);
    co.align = o.align;
    co.usercopy_offset = o.usercopy_offset;
    co.usercopy_size = o.usercopy_size;
    co.max_bytes = o.max_bytes;
    co.flags = o.flags;
    errno = 0;
    sp_pool* p = sp_pool_create(name.c_str(), &co);
    if (p != nullptr) {
      pool = reinterpret_cast<Pool*>(p);
    } else {
      code = errno == EINVAL   ? absl::StatusCode::kInvalidArgument
             : errno == EEXIST ? absl::StatusCode::kAlreadyExists
             : errno == ENOMEM ? absl::StatusCode::kResourceExhausted
                               : absl::StatusCode::kUnknown;
    }
  } else {
    absl::StatusOr<Pool*> p = Pool::Create(name, o);
    if (p.ok()) {
      pool = *p;
    } else {
      code = p.status().code();
    }
  }
  SEALPOOL_FUZZ_CHECK(g_log.count() == 0, "Create reported a violation");
  const absl::StatusCode want = bad_option ? absl::StatusCode::kInvalidArgument
                                : taken    ? absl::StatusCode::kAlreadyExists
                                           : absl::StatusCode::kOk;
  SEALPOOL_FUZZ_CHECK(
      code == want,
      "Create('%s', align %zu, window %zu+%zu, cap %zu, flags %#x): "
      "status %d, model says %d",
      model_name.c_str(), o.align, o.usercopy_offset, o.usercopy_size,
      o.max_bytes, o.flags, static_cast<int>(code), static_cast<int>(want));
  if (pool == nullptr) return;
  ModelPool& mp = g_model->pools[s];
  mp.used = true;
  mp.pool = pool;
  mp.name = model_name;
  mp.id = pool->id();
  mp.options = o;
  // The protection-key flag implies write-rare (whichever way it is done).
  if (o.flags & sealpool::kPoolWriteRareKey) {
    mp.options.flags |= sealpool::kPoolWriteRare;
  }
  mp.refs = 1;
  SEALPOOL_FUZZ_CHECK(pool->name() == model_name &&
                          std::string(sp_pool_name(
                              reinterpret_cast<sp_pool*>(pool))) == model_name,
                      "pool '%s' calls itself '%s'", model_name.c_str(),
                      std::string(pool->name()).c_str());
  for (int t = 0; t < kMaxSlots; ++t) {
    SEALPOOL_FUZZ_CHECK(
        t == s || !g_model->pools[t].used || g_model->pools[t].id != mp.id,
        "two live pools share id %u", mp.id);
  }
}

int PickPool(FuzzedDataProvider& fdp) {
  const int s = fdp.ConsumeIntegralInRange<int>(0, kMaxSlots - 1);
  return g_model->pools[s].used ? s : -1;
}

size_t PickSize(FuzzedDataProvider& fdp) {
  switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
    case 0:
      return 0;
    case 1:
    case 2:
    case 3:
    case 4:
      return fdp.ConsumeIntegralInRange<size_t>(1, 256);
    case 5:
    case 6:
      return fdp.ConsumeIntegralInRange<size_t>(257, 4096);
    case 7:
      return fdp.ConsumeIntegralInRange<size_t>(4097, 32768);
    case 8:  // around the small/large edge (the largest class, 32 KiB)
      return fdp.ConsumeIntegralInRange<size_t>(32768 - 48, 32768 + 48);
    default:
      return fdp.ConsumeIntegralInRange<size_t>(32769, kMaxLargeSize);
  }
}

// Fills a new object with a pattern of its own (a xorshift sequence seeded
// by the object's serial), so that a copy that lands in the wrong object or
// at the wrong offset shows. Word stores, and no coverage instrumentation:
// this loop is the harness's hottest, and its compares guide the fuzzer
// nowhere.
__attribute__((noinline, no_sanitize("coverage"))) void FillPattern(
    uint8_t* p, size_t n, uint32_t serial) {
  uint64_t x = serial * 0x9e3779b97f4a7c15ull + 1;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(p + i, &x, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<uint8_t>((x >> (8 * (i & 7))) + i);
}

void OpAlloc(FuzzedDataProvider& fdp) {
  const int s = PickPool(fdp);
  const size_t size = PickSize(fdp);
  const bool use_c = fdp.ConsumeBool();
  if (s < 0 || g_model->live.size() >= kMaxObjects ||
      g_model->live_bytes + size > kMaxLiveBytes) {
    return;
  }
  ModelPool& mp = g_model->pools[s];
  void* p = nullptr;
  absl::StatusCode code = absl::StatusCode::kOk;
  if (use_c) {
    errno = 0;
    p = sp_alloc(reinterpret_cast<sp_pool*>(mp.pool), size);
    if (p == nullptr) {
      code = errno == ENOMEM ? absl::StatusCode::kResourceExhausted
                             : absl::StatusCode::kFailedPrecondition;  // EINVAL
    }
  } else {
    absl::StatusOr<void*> r = mp.pool->Allocate(size);
    if (r.ok()) {
      p = *r;
    } else {
      code = r.status().code();
    }
  }
  SEALPOOL_FUZZ_CHECK(g_log.count() == 0, "Allocate reported a violation");
  if (mp.destroyed) {
    SEALPOOL_FUZZ_CHECK(
        p == nullptr && code == absl::StatusCode::kFailedPrecondition,
        "Allocate(%zu) from destroyed pool '%s': status %d", size,
        mp.name.c_str(), static_cast<int>(code));
    return;
  }
  if (p == nullptr) {
    // Only a byte cap may refuse: everything else fits in the arena.
    SEALPOOL_FUZZ_CHECK(
        code == absl::StatusCode::kResourceExhausted &&
            mp.options.max_bytes != 0,
        "Allocate(%zu) from pool '%s' (cap %zu) failed: status %d", size,
        mp.name.c_str(), mp.options.max_bytes, static_cast<int>(code));
    return;
  }
  const uintptr_t a = Addr(p);
  const size_t align = std::max<size_t>(mp.options.align, 16);
  SEALPOOL_FUZZ_CHECK(a % align == 0,
                      "Allocate(%zu) from pool '%s' (align %zu) gave %#lx",
                      size, mp.name.c_str(), mp.options.align, a);
  // The new object must not overlap any live one (a zero-size object owns
  // its first byte).
  const size_t extent = size == 0 ? 1 : size;
  auto next = g_model->live.lower_bound(a);
  if (next != g_model->live.end()) {
    SEALPOOL_FUZZ_CHECK(
        next->first >= a + extent,
        "Allocate(%zu) gave %#lx, overlapping live object %#lx (size %zu)",
        size, a, next->first, next->second.size);
  }
  if (next != g_model->live.begin()) {
    const Object& prev = std::prev(next)->second;
    SEALPOOL_FUZZ_CHECK(
        prev.start + (prev.size == 0 ? 1 : prev.size) <= a,
        "Allocate(%zu) gave %#lx, inside live object %#lx (size %zu)", size, a,
        prev.start, prev.size);
  }
  // A freed slot taken again; freed objects it overlaps are gone.
  for (auto it = g_model->dead.lower_bound(a > 32768 ? a - 32768 : 0);
       it != g_model->dead.end() && it->first < a + extent;) {
    const size_t dead_extent = it->second.size == 0 ? 1 : it->second.size;
    if (it->first + dead_extent > a) {
      SEALPOOL_FUZZ_CHECK(
          it->first == a && it->second.slot == s,
          "Allocate(%zu) in pool '%s' gave %#lx, across the freed object at "
          "%#lx of pool '%s'",
          size, mp.name.c_str(), a, it->first,
          g_model->pools[it->second.slot].name.c_str());
      it = g_model->dead.erase(it);
    } else {
      ++it;
    }
  }
  Object o;
  o.start = a;
  o.size = size;
  o.slot = s;
  o.small = sealpool::QueryAddress(p).page == sealpool::PageKind::kSmallSpan;
  uint8_t* bytes = static_cast<uint8_t*>(p);
  FillPattern(bytes, size, ++g_model->serial);
  o.bytes.assign(bytes, bytes + size);  // one memmove, no per-byte loop
  g_model->live_bytes += size;
  const Object& placed = g_model->live.emplace(a, std::move(o)).first->second;
  VerifyObject(placed);
}

// Where an operation aims: an address and what the model knows there.
struct Target {
  uintptr_t addr = 0;
  size_t room = 0;  // bytes from addr a length may cover (outside buffers)
  bool outside = false;
  bool pool_memory = false;
};

Target PickTarget(FuzzedDataProvider& fdp) {
  Target t;
  const int kind = fdp.ConsumeIntegralInRange<int>(0, 9);
  if (kind <= 5 && !g_model->live.empty()) {
    auto it = g_model->live.begin();
    std::advance(
        it, fdp.ConsumeIntegralInRange<size_t>(0, g_model->live.size() - 1));
    const Object& o = it->second;
    int64_t off = 0;
    switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
        off = 0;
        break;
      case 1:
        off =
            static_cast<int64_t>(fdp.ConsumeIntegralInRange<size_t>(0, o.size));
        break;
      case 2:
        off = fdp.ConsumeIntegralInRange<int64_t>(
            -80, static_cast<int64_t>(o.size) + 80);
        break;
      default:
        off = fdp.ConsumeIntegralInRange<int64_t>(-(int64_t{1} << 22),
                                                  int64_t{1} << 22);
        break;
    }
    t.addr = o.start + static_cast<uintptr_t>(off);
    t.pool_memory = true;
    return t;
  }
  if (kind <= 6 && !g_model->dead.empty()) {
    auto it = g_model->dead.begin();
    std::advance(
        it, fdp.ConsumeIntegralInRange<size_t>(0, g_model->dead.size() - 1));
    t.addr =
        it->first + fdp.ConsumeIntegralInRange<size_t>(0, it->second.size + 32);
    t.pool_memory = true;
    return t;
  }
  if (kind <= 8) {
    const uint8_t* b = g_outside[fdp.ConsumeBool() ? 1 : 0];
    const size_t off = fdp.ConsumeIntegralInRange<size_t>(0, kOutsideSize);
    t.addr = Addr(b) + off;
    t.room = kOutsideSize - off;
    t.outside = true;
    return t;
  }
  t.addr = fdp.ConsumeIntegralInRange<uintptr_t>(0, 4200);  // null, first page
  return t;
}

size_t PickLength(FuzzedDataProvider& fdp, const Target& t) {
  size_t len = 0;
  switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      len = 0;
      break;
    case 1:
    case 2:
    case 3:
      len = fdp.ConsumeIntegralInRange<size_t>(1, 64);
      break;
    case 4:
    case 5: {
      const Object* o = g_model->Containing(t.addr);
      const size_t rest = o != nullptr ? o->size - (t.addr - o->start) : 0;
      len = rest + static_cast<size_t>(fdp.ConsumeIntegralInRange<int>(-2, 2));
      break;
    }
    case 6:
      len = fdp.ConsumeIntegralInRange<size_t>(0, 20000);
      break;
    default:
      len = SIZE_MAX - fdp.ConsumeIntegral<uint16_t>();  // wraps, or nearly
      break;
  }
  // Outside buffers are real memory the harness owns: stay inside them
  // unless the range wraps (bogus, never touched).
  if (t.outside && len > t.room && t.addr + len >= t.addr) len = t.room;
  return len;
}

CopyDirection PickDir(FuzzedDataProvider& fdp) {
  return fdp.ConsumeBool() ? CopyDirection::kRead : CopyDirection::kWrite;
}

void OpCheck(FuzzedDataProvider& fdp) {
  const Target t = PickTarget(fdp);
  const size_t len = PickLength(fdp, t);
  const CopyDirection dir = PickDir(fdp);
  const int api = fdp.ConsumeIntegralInRange<int>(0, 3);
  const Expect e = ExpectCheck(t.addr, len, dir);
  ViolationKind got = ViolationKind::kNone;
  switch (api) {
    case 0:
      got = sealpool::CheckCopy(Ptr(t.addr), len, dir);
      break;
    case 1: {
      const absl::Status s = sealpool::CheckCopyStatus(Ptr(t.addr), len, dir);
      SEALPOOL_FUZZ_CHECK(
          s.ok() || s.code() == absl::StatusCode::kPermissionDenied,
          "CheckCopyStatus: code %d", static_cast<int>(s.code()));
      got = s.ok()
                ? ViolationKind::kNone
                : (g_log.count() > 0 ? g_log.at(0).kind : ViolationKind::kNone);
      SEALPOOL_FUZZ_CHECK(s.ok() || g_log.count() > 0,
                          "CheckCopyStatus refused unreported");
      break;
    }
    case 2: {
      const int r = sp_check_copy(
          Ptr(t.addr), len,
          dir == CopyDirection::kRead ? SP_COPY_READ : SP_COPY_WRITE);
      got = static_cast<ViolationKind>(-r);
      break;
    }
    default: {
      // A direction that is neither, passed as a C host passes it (any int
      // converts to the enum in C): refused as EINVAL, nothing reported.
      int bad = fdp.PickValueInArray({0, 3, -1, 255, INT32_MIN, INT32_MAX});
      if (bad < 0 &&
          sealpool_fuzz::SkipKnownFinding("c-api-negative-direction"))
        bad = 3;
      const int r = sealpool_fuzz_check_copy_int_dir(Ptr(t.addr), len, bad);
      SEALPOOL_FUZZ_CHECK(
          r == -EINVAL && g_log.count() == 0,
          "sp_check_copy with direction %d returned %d (%d violations)", bad, r,
          g_log.count());
      return;
    }
  }
  CheckVerdict(got, e, t.addr, len, dir, "check_copy");
}

// The model's bytes at [a, a+n) for a source the model knows (an object or
// an outside buffer); false if it knows none.
bool ModelBytes(uintptr_t a, size_t n, std::vector<uint8_t>* out) {
  out->resize(n);
  if (n == 0) return true;
  if (InOutside(a, n)) {
    std::memcpy(out->data(), Ptr(a), n);
    return true;
  }
  const Object* o = g_model->Containing(a);
  if (o == nullptr || n > o->size - (a - o->start)) return false;
  std::memcpy(out->data(), o->bytes.data() + (a - o->start), n);
  return true;
}

void OpCopy(FuzzedDataProvider& fdp) {
  const int kind =
      fdp.ConsumeIntegralInRange<int>(0, 5);  // memcpy, memmove, memset x C/C++
  const bool is_set = kind >= 4;
  const bool use_c = kind % 2 == 1;
  Target dst = PickTarget(fdp);
  Target src = is_set ? Target() : PickTarget(fdp);
  size_t n = PickLength(fdp, dst);
  if (src.outside && n > src.room && src.addr + n >= src.addr) n = src.room;
  if (dst.outside && n > dst.room && dst.addr + n >= dst.addr) n = dst.room;
  const uint8_t fill = fdp.ConsumeIntegral<uint8_t>();
  const Expect es =
      is_set ? Expect() : ExpectCheck(src.addr, n, CopyDirection::kRead);
  const Expect ed = ExpectCheck(dst.addr, n, CopyDirection::kWrite);
  // Copies only touch memory the model knows; the rest is for OpCheck.
  if (!es.known || !ed.known) return;
  const bool allowed =
      es.kind == ViolationKind::kNone && ed.kind == ViolationKind::kNone;
  const bool overlap =
      !is_set && n != 0 && src.addr < dst.addr + n && dst.addr < src.addr + n;
  const bool is_move = kind == 2 || kind == 3 ||
                       (overlap && allowed);  // memcpy must not overlap
  std::vector<uint8_t> expect;
  if (allowed) {
    if (is_set) {
      expect.assign(n, fill);
    } else if (!ModelBytes(src.addr, n, &expect)) {
      Finding("copy source %#lx len %zu allowed but unknown to the model",
              src.addr, n);
    }
  }
  void* r = nullptr;
  if (is_set) {
    r = use_c ? sp_memset(Ptr(dst.addr), fill, n)
              : sealpool::CheckedMemset(Ptr(dst.addr), fill, n);
  } else if (is_move) {
    r = use_c ? sp_memmove(Ptr(dst.addr), Ptr(src.addr), n)
              : sealpool::CheckedMemmove(Ptr(dst.addr), Ptr(src.addr), n);
  } else {
    r = use_c ? sp_memcpy(Ptr(dst.addr), Ptr(src.addr), n)
              : sealpool::CheckedMemcpy(Ptr(dst.addr), Ptr(src.addr), n);
  }
  const char* what = is_set    ? "checked memset"
                     : is_move ? "checked memmove"
                               : "checked memcpy";
  if (!allowed) {
    SEALPOOL_FUZZ_CHECK(r == nullptr,
                        "%s %#lx <- %#lx len %zu: done, model refuses", what,
                        dst.addr, src.addr, n);
    // The source is checked first; the copy reports one violation.
    const bool src_bad = es.kind != ViolationKind::kNone;
    const ViolationKind got =
        g_log.count() > 0 ? g_log.at(0).kind : ViolationKind::kNone;
    CheckVerdict(got, src_bad ? es : ed, src_bad ? src.addr : dst.addr, n,
                 src_bad ? CopyDirection::kRead : CopyDirection::kWrite, what);
    // A refused source with a valid destination: the destination range
    // holds zeros instead of the bytes it would have received; a refused
    // destination is not written.
    if (src_bad && ed.kind == ViolationKind::kNone && n != 0) {
      if (Object* o = g_model->Containing(dst.addr)) {
        std::memset(o->bytes.data() + (dst.addr - o->start), 0, n);
      } else {
        const std::vector<uint8_t> zeros(n, 0);
        SEALPOOL_FUZZ_CHECK(std::memcmp(Ptr(dst.addr), zeros.data(), n) == 0,
                            "%s from a refused source left non-zero bytes in "
                            "an outside buffer",
                            what);
      }
    }
  } else {
    SEALPOOL_FUZZ_CHECK(
        r == Ptr(dst.addr) && g_log.count() == 0,
        "%s %#lx <- %#lx len %zu: returned %p with %d violations, model allows",
        what, dst.addr, src.addr, n, r, g_log.count());
    if (n != 0) {
      if (Object* o = g_model->Containing(dst.addr)) {
        std::memcpy(o->bytes.data() + (dst.addr - o->start), expect.data(), n);
      } else {
        SEALPOOL_FUZZ_CHECK(std::memcmp(Ptr(dst.addr), expect.data(), n) == 0,
                            "%s into an outside buffer wrote the wrong bytes",
                            what);
      }
    }
  }
  g_log.Clear();
  for (uintptr_t a : {src.addr, dst.addr}) {
    if (const Object* o = g_model->Containing(a)) VerifyObject(*o);
  }
}

void OpFree(FuzzedDataProvider& fdp) {
  Target t;
  const int kind = fdp.ConsumeIntegralInRange<int>(0, 5);
  if (kind <= 2 && !g_model->live.empty()) {
    auto it = g_model->live.begin();
    std::advance(
        it, fdp.ConsumeIntegralInRange<size_t>(0, g_model->live.size() - 1));
    t.addr = it->first;
    if (kind == 2)
      t.addr += fdp.ConsumeIntegralInRange<size_t>(0, it->second.size + 48);
  } else if (kind == 3 && !g_model->dead.empty()) {
    auto it = g_model->dead.begin();
    std::advance(
        it, fdp.ConsumeIntegralInRange<size_t>(0, g_model->dead.size() - 1));
    t.addr =
        it->first +
        (fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegralInRange<size_t>(0, 40));
  } else if (kind == 4) {
    t.addr = Addr(g_outside[0]) +
             fdp.ConsumeIntegralInRange<size_t>(0, 64);  // foreign
  } else {
    t = PickTarget(fdp);
  }
  const bool use_c = fdp.ConsumeBool();
  const uintptr_t a = t.addr;
  // The model's verdict.
  ViolationKind want = ViolationKind::kNone;
  bool exact = true;
  Expect e;
  Object* o = g_model->Containing(a);
  uintptr_t dead_start = 0;
  const Dead* d = o == nullptr ? g_model->DeadAt(a, &dead_start) : nullptr;
  if (a == 0) {
    want = ViolationKind::kNone;
  } else if (o != nullptr && o->start == a) {
    want = o->sealed ? ViolationKind::kSealedFree : ViolationKind::kNone;
    e.slot = o->slot;
  } else if (!sealpool::InArena(Ptr(a), 1)) {
    if (!InOutside(a, 1) && a >= 4096) return;  // not memory the model knows
    want = ViolationKind::kInvalidFree;
  } else if (o != nullptr) {
    want = ViolationKind::kInvalidFree;
    e.slot = o->slot;
  } else if (d != nullptr) {
    want = dead_start == a ? ViolationKind::kDoubleFree
                           : ViolationKind::kInvalidFree;
    e.slot = d->slot;
  } else {
    want = ViolationKind::kInvalidFree;
    exact = false;  // or a double free of a slot the model does not track
  }
  ViolationKind got = ViolationKind::kNone;
  if (use_c) {
    got = static_cast<ViolationKind>(sp_free(Ptr(a)));
  } else {
    const absl::Status s = Pool::Free(Ptr(a));
    SEALPOOL_FUZZ_CHECK(s.ok() || s.code() == absl::StatusCode::kDataLoss,
                        "Free(%#lx): status code %d", a,
                        static_cast<int>(s.code()));
    got = s.ok() ? ViolationKind::kNone
                 : (g_log.count() > 0 ? g_log.at(0).kind
                                      : ViolationKind::kMetadataCorruption);
  }
  if (want == ViolationKind::kNone) {
    SEALPOOL_FUZZ_CHECK(got == ViolationKind::kNone && g_log.count() == 0,
                        "Free(%#lx) of a live object: %s", a,
                        sealpool::ViolationKindName(got));
  } else {
    SEALPOOL_FUZZ_CHECK(g_log.count() == 1 && g_log.at(0).kind == got,
                        "Free(%#lx): returned %s with %d violations recorded",
                        a, sealpool::ViolationKindName(got), g_log.count());
    if (exact) {
      SEALPOOL_FUZZ_CHECK(got == want, "Free(%#lx): %s, model says %s", a,
                          sealpool::ViolationKindName(got),
                          sealpool::ViolationKindName(want));
    } else {
      SEALPOOL_FUZZ_CHECK(got == ViolationKind::kInvalidFree ||
                              got == ViolationKind::kDoubleFree,
                          "Free(%#lx) of arena memory outside live objects: %s",
                          a, sealpool::ViolationKindName(got));
    }
    const Recorded& r = g_log.at(0);
    SEALPOOL_FUZZ_CHECK(r.addr == a && r.dir == CopyDirection::kNone,
                        "Free(%#lx): record says addr %#lx dir %d", a, r.addr,
                        static_cast<int>(r.dir));
    if (e.slot >= 0) {
      const ModelPool& mp = g_model->pools[e.slot];
      SEALPOOL_FUZZ_CHECK(
          r.has_pool_name && mp.name == r.pool_name && r.pool_id == mp.id,
          "Free(%#lx): record names pool '%s', expected '%s'", a,
          r.has_pool_name ? r.pool_name : "(none)", mp.name.c_str());
    }
  }
  g_log.Clear();
  if (want == ViolationKind::kNone && o != nullptr) {
    if (o->small) {
      Dead dead;
      dead.size = o->size;
      dead.slot = o->slot;
      g_model->dead[a] = dead;
    }
    g_model->live_bytes -= o->size;
    g_model->live.erase(a);
  }
}

void OpSeal(FuzzedDataProvider& fdp) {
  const int s = PickPool(fdp);
  const bool use_c = fdp.ConsumeBool();
  if (s < 0) return;
  ModelPool& mp = g_model->pools[s];
  absl::StatusCode code;
  if (use_c) {
    const int r = sp_pool_seal(reinterpret_cast<sp_pool*>(mp.pool));
    code = r == 0         ? absl::StatusCode::kOk
           : r == -EINVAL ? absl::StatusCode::kFailedPrecondition
                          : absl::StatusCode::kUnknown;
  } else {
    code = mp.pool->Seal().code();
  }
  const absl::StatusCode want = mp.destroyed
                                    ? absl::StatusCode::kFailedPrecondition
                                    : absl::StatusCode::kOk;
  SEALPOOL_FUZZ_CHECK(code == want && g_log.count() == 0,
                      "Seal of pool '%s' (destroyed %d): status %d",
                      mp.name.c_str(), mp.destroyed, static_cast<int>(code));
  if (code != absl::StatusCode::kOk) return;
  for (auto& [start, o] : g_model->live) {
    if (o.slot == s) o.sealed = true;
  }
}

void OpWriteRare(FuzzedDataProvider& fdp) {
  const Target t = PickTarget(fdp);
  size_t n = 0;
  switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      n = 0;
      break;
    case 1:
    case 2:
      n = fdp.ConsumeIntegralInRange<size_t>(1, 64);
      break;
    default:
      n = fdp.ConsumeIntegralInRange<size_t>(1, kOutsideSize);
      break;
  }
  const bool use_c = fdp.ConsumeBool();
  const size_t src_off =
      fdp.ConsumeIntegralInRange<size_t>(0, kOutsideSize - n);
  const uint8_t* src = g_outside[1] + src_off;
  const uintptr_t a = t.addr;
  if (!t.outside && a >= 4096 && !sealpool::InArena(Ptr(a), 1))
    return;  // unknown memory
  // The model, in WriteRare's order: a live object, the pool's flag, the
  // object's end, the sealed state.
  absl::StatusCode want = absl::StatusCode::kOk;
  bool violation = false;
  Object* o = g_model->Containing(a);
  if (n == 0) {
    want = absl::StatusCode::kOk;
  } else if (a == 0 && use_c) {
    want = absl::StatusCode::kFailedPrecondition;  // sp_write_rare: -EINVAL
  } else if (o == nullptr) {
    want = absl::StatusCode::kPermissionDenied;
    violation = true;
  } else if ((g_model->pools[o->slot].options.flags &
              sealpool::kPoolWriteRare) == 0) {
    want = absl::StatusCode::kFailedPrecondition;
  } else if (n > o->size - (a - o->start)) {
    want = absl::StatusCode::kPermissionDenied;
    violation = true;
  } else if (!o->sealed) {
    want = absl::StatusCode::kFailedPrecondition;
  }
  absl::StatusCode code;
  if (use_c) {
    const int r = sp_write_rare(Ptr(a), src, n);
    code = r == 0         ? absl::StatusCode::kOk
           : r == -EPERM  ? absl::StatusCode::kPermissionDenied
           : r == -EINVAL ? absl::StatusCode::kFailedPrecondition
                          : absl::StatusCode::kUnknown;
  } else {
    code = Pool::WriteRare(Ptr(a), src, n).code();
  }
  SEALPOOL_FUZZ_CHECK(code == want,
                      "WriteRare(%#lx, %zu): status %d, model says %d", a, n,
                      static_cast<int>(code), static_cast<int>(want));
  SEALPOOL_FUZZ_CHECK(g_log.count() == (violation ? 1 : 0),
                      "WriteRare(%#lx, %zu): %d violations, model says %d", a,
                      n, g_log.count(), violation ? 1 : 0);
  if (violation) {
    const Recorded& r = g_log.at(0);
    SEALPOOL_FUZZ_CHECK(r.kind == ViolationKind::kOutOfBounds && r.addr == a &&
                            r.len == n && r.dir == CopyDirection::kWrite,
                        "WriteRare(%#lx, %zu): recorded %s at %#lx len %zu", a,
                        n, sealpool::ViolationKindName(r.kind), r.addr, r.len);
    if (o != nullptr) {
      const ModelPool& mp = g_model->pools[o->slot];
      SEALPOOL_FUZZ_CHECK(
          r.has_pool_name && mp.name == r.pool_name &&
              r.object_start == o->start && r.object_size == o->size,
          "WriteRare(%#lx, %zu): record names '%s' object %#lx size %zu", a, n,
          r.has_pool_name ? r.pool_name : "(none)", r.object_start,
          r.object_size);
    }
  }
  g_log.Clear();
  if (code == absl::StatusCode::kOk && n != 0) {
    std::memcpy(o->bytes.data() + (a - o->start), src, n);
  }
  if (o != nullptr) VerifyObject(*o);
}

void OpRefs(FuzzedDataProvider& fdp) {
  const int s = PickPool(fdp);
  const int what = fdp.ConsumeIntegralInRange<int>(0, 4);
  const bool use_c = fdp.ConsumeBool();
  if (s < 0) return;
  ModelPool& mp = g_model->pools[s];
  switch (what) {
    case 0: {  // Ref
      if (mp.refs >= 8) return;
      Pool* r = use_c ? reinterpret_cast<Pool*>(
                            sp_pool_ref(reinterpret_cast<sp_pool*>(mp.pool)))
                      : mp.pool->Ref();
      SEALPOOL_FUZZ_CHECK(r == mp.pool,
                          "Ref of pool '%s' returned another pool",
                          mp.name.c_str());
      ++mp.refs;
      return;
    }
    case 1:  // Unref of a reference other than the creator's
      if (mp.refs <= (mp.destroyed ? 0 : 1)) return;
      if (use_c) {
        sp_pool_unref(reinterpret_cast<sp_pool*>(mp.pool));
      } else {
        mp.pool->Unref();
      }
      DropRef(s);
      return;
    case 2: {  // Destroy
      absl::StatusCode code;
      if (use_c) {
        const int r = sp_pool_destroy(reinterpret_cast<sp_pool*>(mp.pool));
        code = r == 0         ? absl::StatusCode::kOk
               : r == -EINVAL ? absl::StatusCode::kFailedPrecondition
                              : absl::StatusCode::kUnknown;
      } else {
        code = mp.pool->Destroy().code();
      }
      const absl::StatusCode want = mp.destroyed
                                        ? absl::StatusCode::kFailedPrecondition
                                        : absl::StatusCode::kOk;
      SEALPOOL_FUZZ_CHECK(
          code == want, "Destroy of pool '%s' (destroyed %d): status %d",
          mp.name.c_str(), mp.destroyed, static_cast<int>(code));
      if (code == absl::StatusCode::kOk) {
        mp.destroyed = true;
        DropRef(s);
      }
      return;
    }
    case 3: {  // Find by name
      if (mp.refs >= 8) return;
      absl::StatusOr<Pool*> f = Pool::Find(mp.name);
      int owner = -1;
      for (int t = 0; t < kMaxSlots; ++t) {
        const ModelPool& q = g_model->pools[t];
        if (q.used && !q.destroyed && q.name == mp.name) owner = t;
      }
      if (owner < 0) {
        SEALPOOL_FUZZ_CHECK(
            !f.ok() && f.status().code() == absl::StatusCode::kNotFound,
            "Find('%s') of a destroyed pool: status %d", mp.name.c_str(),
            static_cast<int>(f.status().code()));
        return;
      }
      SEALPOOL_FUZZ_CHECK(
          f.ok() && *f == g_model->pools[owner].pool,
          "Find('%s') did not return the live pool of that name",
          mp.name.c_str());
      ++g_model->pools[owner].refs;
      return;
    }
    default:
      VerifyAll();
      return;
  }
}

// Destroys and releases every pool of the input; afterwards no pool may be
// left alive and none of the input's objects may still be found.
void TearDown() {
  VerifyAll();
  std::vector<uintptr_t> starts;
  for (const auto& [start, o] : g_model->live) starts.push_back(start);
  for (int s = 0; s < kMaxSlots; ++s) {
    ModelPool& mp = g_model->pools[s];
    if (!mp.used) continue;
    if (!mp.destroyed) {
      const absl::Status st = mp.pool->Destroy();
      SEALPOOL_FUZZ_CHECK(st.ok(), "final Destroy of pool '%s' failed",
                          mp.name.c_str());
      mp.destroyed = true;
      DropRef(s);
    }
    while (mp.used) {
      mp.pool->Unref();
      DropRef(s);
    }
  }
  SEALPOOL_FUZZ_CHECK(sealpool::LivePoolCount() == 0,
                      "%zu pools alive after the input",
                      sealpool::LivePoolCount());
  for (uintptr_t a : starts) {
    SEALPOOL_FUZZ_CHECK(Pool::ObjectSize(Ptr(a)) == 0,
                        "object %#lx still found after its pool was released",
                        a);
  }
  SEALPOOL_FUZZ_CHECK(g_log.count() == 0, "%d violations during the tear-down",
                      g_log.count());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  sealpool_fuzz::InitFuzzing(&g_log);
  for (uint8_t*& b : g_outside) {
    b = static_cast<uint8_t*>(std::malloc(kOutsideSize));
    for (size_t i = 0; i < kOutsideSize; ++i)
      b[i] = static_cast<uint8_t>(i * 13 + 5);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Model model;
  g_model = &model;
  g_log.Clear();
  for (int ops = 0; ops < kMaxOps && fdp.remaining_bytes() > 0; ++ops) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 11)) {
      case 0:
        OpCreate(fdp);
        break;
      case 1:
      case 2:
        OpAlloc(fdp);
        break;
      case 3:
        OpFree(fdp);
        break;
      case 4:
        OpSeal(fdp);
        break;
      case 5:
        OpWriteRare(fdp);
        break;
      case 6:
      case 7:
        OpCheck(fdp);
        break;
      case 8:
      case 9:
        OpCopy(fdp);
        break;
      default:
        OpRefs(fdp);
        break;
    }
  }
  TearDown();
  g_model = nullptr;
  return 0;
}
