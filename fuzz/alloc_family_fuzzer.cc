// sealpool fuzzing — the C allocation family against a model.
//
// Each input is a program over up to 16 live objects in three pools (one
// plain, one capped at 256 KiB, one with 64-byte alignment and redzones):
// sp_alloc, sp_calloc, sp_realloc (through the owner, through NULL, through
// the wrong pool), sp_alloc_aligned, sp_strndup and sp_free. The model holds
// every object's pool, size and fill pattern. After every operation each
// live object must still have its exact size, its pool and its bytes; a
// realloc must keep min(old, new) bytes; a shrink must never fail; calloc
// memory must be zero; an aligned object must be aligned. The only
// violation expected is the invalid-free of a realloc through the wrong
// pool, which must leave the object as it was.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "allocator/runtime_options.h"
#include "allocator/violation.h"
#include "fuzz/fuzz_util.h"
#include "sealpool/sealpool.h"

namespace {

using sealpool_fuzz::ViolationLog;

constexpr int kSlots = 16;
constexpr int kPools = 3;

struct Object {
  unsigned char* p = nullptr;
  size_t size = 0;
  int pool = 0;
  unsigned char seed = 0;
};

struct Reader {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
  bool more() const { return pos < size; }
  uint8_t u8() { return pos < size ? data[pos++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
};

ViolationLog g_log;
sp_pool* g_pools[kPools];

void Fill(Object* o) {
  for (size_t i = 0; i < o->size; ++i) {
    o->p[i] = static_cast<unsigned char>(o->seed + i * 7);
  }
}

void CheckObject(const Object& o, const char* what) {
  SEALPOOL_FUZZ_CHECK(sp_object_size(o.p) == o.size, "%s: object %p has size %zu, model %zu",
                      what, static_cast<void*>(o.p), sp_object_size(o.p), o.size);
  SEALPOOL_FUZZ_CHECK(sp_owns(o.p) == 1 && sp_pool_of(o.p) == g_pools[o.pool],
                      "%s: object %p lost its pool", what, static_cast<void*>(o.p));
  for (size_t i = 0; i < o.size; ++i) {
    SEALPOOL_FUZZ_CHECK(o.p[i] == static_cast<unsigned char>(o.seed + i * 7),
                        "%s: object %p (size %zu) lost byte %zu", what,
                        static_cast<void*>(o.p), o.size, i);
  }
}

size_t SizeOf(Reader* r) {
  const uint16_t v = r->u16();
  switch (v >> 14) {
    case 0:
      return v & 0x3f;  // tiny, including 0
    case 1:
      return v & 0x3ff;
    case 2:
      return v & 0x3fff;  // small
    default:
      return (size_t{v} & 0x3fff) * 20;  // up to about 320 KiB, mostly large
  }
}

int Setup() {
  sealpool_fuzz::InitFuzzing(&g_log);
  sp_set_mode(SP_MODE_REPORT);
  sealpool::SetViolationHandler(&ViolationLog::Handler, &g_log);
  sp_pool_options o;
  sp_pool_options_init(&o);
  g_pools[0] = sp_pool_create("family-plain", &o);
  o.max_bytes = 256 * 1024;
  g_pools[1] = sp_pool_create("family-capped", &o);
  sp_pool_options_init(&o);
  o.align = 64;
  o.flags = SP_POOL_REDZONES;
  g_pools[2] = sp_pool_create("family-aligned", &o);
  for (sp_pool* p : g_pools) {
    if (p == nullptr) sealpool_fuzz::Finding("cannot create the pools");
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int once = Setup();
  (void)once;
  Reader r{data, size};
  Object objs[kSlots];
  int steps = 0;
  while (r.more() && steps++ < 64) {
    const uint8_t op = r.u8();
    Object& o = objs[(op >> 3) % kSlots];
    g_log.Clear();
    bool violation_expected = false;
    switch (op & 7) {
      case 0:
      case 1: {  // sp_alloc / sp_calloc into an empty slot
        if (o.p != nullptr) break;
        const int pool = r.u8() % kPools;
        const size_t n = SizeOf(&r);
        void* p = (op & 7) == 0 ? sp_alloc(g_pools[pool], n) : sp_calloc(g_pools[pool], 1, n);
        if (p == nullptr) {
          SEALPOOL_FUZZ_CHECK(errno == ENOMEM, "allocation of %zu failed with errno %d", n, errno);
          break;
        }
        o.p = static_cast<unsigned char*>(p);
        o.size = n;
        o.pool = pool;
        if ((op & 7) == 1) {
          for (size_t i = 0; i < n; ++i) {
            SEALPOOL_FUZZ_CHECK(o.p[i] == 0, "calloc(%zu) byte %zu is not zero", n, i);
          }
        }
        o.seed = r.u8();
        Fill(&o);
        break;
      }
      case 2:
      case 3: {  // sp_realloc of a live object
        if (o.p == nullptr) break;
        const size_t n = SizeOf(&r);
        const uint8_t how = r.u8() % 3;  // through NULL, the owner, another pool
        sp_pool* through = how == 0 ? nullptr
                           : how == 1 ? g_pools[o.pool]
                                      : g_pools[(o.pool + 1) % kPools];
        void* q = sp_realloc(through, o.p, n);
        if (how == 2) {
          violation_expected = true;
          SEALPOOL_FUZZ_CHECK(q == nullptr && errno == EINVAL &&
                                  g_log.count() == 1 &&
                                  g_log.at(0).kind == sealpool::ViolationKind::kInvalidFree,
                              "realloc through the wrong pool was not refused");
          CheckObject(o, "refused realloc");
          break;
        }
        if (q == nullptr) {
          SEALPOOL_FUZZ_CHECK(n > o.size, "a shrink from %zu to %zu failed", o.size, n);
          SEALPOOL_FUZZ_CHECK(errno == ENOMEM, "realloc to %zu failed with errno %d", n, errno);
          CheckObject(o, "failed realloc");
          break;
        }
        const size_t kept = n < o.size ? n : o.size;
        o.p = static_cast<unsigned char*>(q);
        SEALPOOL_FUZZ_CHECK(sp_object_size(q) == n && sp_pool_of(q) == g_pools[o.pool],
                            "realloc to %zu gave an object of %zu", n, sp_object_size(q));
        for (size_t i = 0; i < kept; ++i) {
          SEALPOOL_FUZZ_CHECK(o.p[i] == static_cast<unsigned char>(o.seed + i * 7),
                              "realloc from %zu to %zu lost byte %zu", o.size, n, i);
        }
        o.size = n;
        Fill(&o);
        break;
      }
      case 4: {  // sp_alloc_aligned
        if (o.p != nullptr) break;
        const int pool = r.u8() % kPools;
        const size_t align = size_t{1} << (r.u8() % 17);
        const size_t n = SizeOf(&r);
        void* p = sp_alloc_aligned(g_pools[pool], align, n);
        if (p == nullptr) {
          SEALPOOL_FUZZ_CHECK(errno == ENOMEM || (n == 0 && align > 4096 && errno == EINVAL),
                              "aligned(%zu, %zu) failed with errno %d", align, n, errno);
          break;
        }
        SEALPOOL_FUZZ_CHECK(reinterpret_cast<uintptr_t>(p) % align == 0,
                            "aligned(%zu, %zu) gave %p", align, n, p);
        o.p = static_cast<unsigned char*>(p);
        o.size = n;
        o.pool = pool;
        o.seed = r.u8();
        Fill(&o);
        break;
      }
      case 5: {  // sp_strndup of a live object's bytes into an empty slot
        Object& src = objs[r.u8() % kSlots];
        if (o.p != nullptr || src.p == nullptr || &src == &o) break;
        const int pool = r.u8() % kPools;
        const size_t n = r.u8();
        char* s = sp_strndup(g_pools[pool], reinterpret_cast<const char*>(src.p),
                             n < src.size ? n : src.size);
        if (s == nullptr) break;  // over the cap
        const size_t len = std::strlen(s);
        SEALPOOL_FUZZ_CHECK(sp_object_size(s) == len + 1 && std::memcmp(s, src.p, len) == 0,
                            "strndup copied badly");
        SEALPOOL_FUZZ_CHECK(sp_free(s) == 0, "free of a strndup copy failed");
        break;
      }
      default: {  // sp_free
        if (o.p == nullptr) break;
        CheckObject(o, "before free");
        SEALPOOL_FUZZ_CHECK(sp_free(o.p) == 0, "free of a live object failed");
        SEALPOOL_FUZZ_CHECK(sp_owns(o.p) == 0, "a freed object is still owned");
        o = Object();
        break;
      }
    }
    SEALPOOL_FUZZ_CHECK(violation_expected || g_log.count() == 0,
                        "unexpected violation (kind %d) in op %u",
                        g_log.count() > 0 ? static_cast<int>(g_log.at(0).kind) : 0, op & 7);
  }
  for (Object& o : objs) {
    if (o.p == nullptr) continue;
    CheckObject(o, "at the end");
    g_log.Clear();
    SEALPOOL_FUZZ_CHECK(sp_free(o.p) == 0 && g_log.count() == 0, "final free failed");
  }
  return 0;
}
