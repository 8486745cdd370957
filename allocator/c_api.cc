// sealpool — the C API for pools, objects, modes and handlers.
//
// Each function is a thin wrapper over the C++ API; absl::Status codes map
// to errno values: InvalidArgument -> EINVAL, AlreadyExists -> EEXIST,
// ResourceExhausted -> ENOMEM, FailedPrecondition -> EINVAL (a destroyed
// pool), anything else -> EIO.

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <atomic>
#include <cstring>

#include "allocator/internal/pool_impl.h"
#include "allocator/inspect.h"
#include "allocator/page_query.h"
#include "allocator/pool.h"
#include "allocator/violation.h"
#include "sealpool/sealpool.h"


// The C flag values are the C++ ones.
static_assert(SP_POOL_PERMANENT == sealpool::kPoolPermanent, "flag values");
static_assert(SP_POOL_WRITE_RARE == sealpool::kPoolWriteRare, "flag values");
static_assert(SP_POOL_REDZONES == sealpool::kPoolRedzones, "flag values");
static_assert(SP_POOL_WRITE_RARE_KEY == sealpool::kPoolWriteRareKey,
              "flag values");

namespace {

sealpool::Pool* FromC(sp_pool* p) { return reinterpret_cast<sealpool::Pool*>(p); }
const sealpool::Pool* FromC(const sp_pool* p) {
  return reinterpret_cast<const sealpool::Pool*>(p);
}
sp_pool* ToC(sealpool::Pool* p) { return reinterpret_cast<sp_pool*>(p); }

int ErrnoOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return EINVAL;
    case absl::StatusCode::kAlreadyExists:
      return EEXIST;
    case absl::StatusCode::kResourceExhausted:
      return ENOMEM;
    case absl::StatusCode::kPermissionDenied:
      return EPERM;
    default:
      return EIO;
  }
}

using sealpool::internal::AllocError;

int ErrnoOfAlloc(AllocError err) {
  switch (err) {
    case AllocError::kNoMemory:
      return ENOMEM;
    case AllocError::kSealed:
      return EPERM;
    default:
      return EINVAL;  // kInvalid, kDestroyed
  }
}

std::atomic<sp_violation_handler> c_handler{nullptr};
std::atomic<void*> c_handler_arg{nullptr};

void CTrampoline(const sealpool::Violation& v, void*) {
  sp_violation_handler fn = c_handler.load(std::memory_order_acquire);
  if (fn == nullptr) return;
  sp_violation cv;
  cv.kind = static_cast<int>(v.kind);
  cv.pool_name = v.pool_name;
  cv.pool_id = v.pool_id;
  cv.addr = v.addr;
  cv.len = v.len;
  cv.dir = static_cast<int>(v.dir);
  cv.object_start = v.object_start;
  cv.object_size = v.object_size;
  cv.offset = v.offset;
  cv.detail = v.detail;
  fn(&cv, c_handler_arg.load(std::memory_order_acquire));
}

}  // namespace

extern "C" {

void sp_pool_options_init(sp_pool_options* opts) {
  if (opts == nullptr) return;
  const sealpool::PoolOptions d;
  opts->align = d.align;
  opts->usercopy_offset = d.usercopy_offset;
  opts->usercopy_size = d.usercopy_size;
  opts->max_bytes = d.max_bytes;
  opts->flags = d.flags;
}

sp_pool* sp_pool_create(const char* name, const sp_pool_options* opts) {
  if (name == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  sealpool::PoolOptions o;
  if (opts != nullptr) {
    o.align = opts->align;
    o.usercopy_offset = opts->usercopy_offset;
    o.usercopy_size = opts->usercopy_size;
    o.max_bytes = opts->max_bytes;
    o.flags = opts->flags;
  }
  absl::StatusOr<sealpool::Pool*> p = sealpool::Pool::Create(name, o);
  if (!p.ok()) {
    errno = ErrnoOf(p.status());
    return nullptr;
  }
  return ToC(*p);
}

int sp_pool_destroy(sp_pool* pool) {
  if (pool == nullptr) return -EINVAL;
  return -ErrnoOf(FromC(pool)->Destroy());
}

int sp_pool_seal(sp_pool* pool) {
  if (pool == nullptr) return -EINVAL;
  return -ErrnoOf(FromC(pool)->Seal());
}

int sp_write_rare(void* dst, const void* src, size_t n) {
  if (n != 0 && (dst == nullptr || src == nullptr)) return -EINVAL;
  return -ErrnoOf(sealpool::Pool::WriteRare(dst, src, n));
}

sp_pool* sp_pool_ref(sp_pool* pool) {
  if (pool == nullptr) return nullptr;
  return ToC(FromC(pool)->Ref());
}

void sp_pool_unref(sp_pool* pool) {
  if (pool != nullptr) FromC(pool)->Unref();
}

const char* sp_pool_name(const sp_pool* pool) {
  if (pool == nullptr) return nullptr;
  return FromC(pool)->name().data();  // NUL-terminated inside the pool
}

// Hot path: no Status on success.
void* sp_alloc(sp_pool* pool, size_t size) {
  if (pool == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  AllocError err = AllocError::kOk;
  void* p = FromC(pool)->impl()->Allocate(size, &err);
  if (p == nullptr) errno = ErrnoOfAlloc(err);
  return p;
}

int sp_free(void* ptr) {
  return static_cast<int>(sealpool::internal::PoolImpl::Free(ptr));
}

size_t sp_object_size(const void* ptr) { return sealpool::Pool::ObjectSize(ptr); }

void* sp_calloc(sp_pool* pool, size_t n, size_t size) {
  if (pool == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  AllocError err = AllocError::kOk;
  void* p = FromC(pool)->impl()->AllocateZeroed(n, size, &err);
  if (p == nullptr) errno = ErrnoOfAlloc(err);
  return p;
}

void* sp_realloc(sp_pool* pool, void* ptr, size_t size) {
  AllocError err = AllocError::kOk;
  void* p = sealpool::internal::PoolImpl::Reallocate(
      pool != nullptr ? FromC(pool)->impl() : nullptr, ptr, size, &err);
  if (p == nullptr) errno = ErrnoOfAlloc(err);
  return p;
}

void* sp_alloc_aligned(sp_pool* pool, size_t align, size_t size) {
  if (pool == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  AllocError err = AllocError::kOk;
  void* p = FromC(pool)->impl()->AllocateAligned(size, align, &err);
  if (p == nullptr) errno = ErrnoOfAlloc(err);
  return p;
}


sp_pool* sp_pool_of(const void* ptr) { return ToC(sealpool::Pool::Owner(ptr)); }

int sp_owns(const void* ptr) { return sealpool::Pool::Owns(ptr) ? 1 : 0; }

sp_pool* sp_pool_find(const char* name) {
  if (name == nullptr) {
    errno = EINVAL;
    return nullptr;
  }
  absl::StatusOr<sealpool::Pool*> p = sealpool::Pool::Find(name);
  if (!p.ok()) {
    errno = p.status().code() == absl::StatusCode::kNotFound ? ENOENT
                                                             : ErrnoOf(p.status());
    return nullptr;
  }
  return ToC(*p);
}

void sp_set_mode(sp_mode mode) {
  sealpool::SetMode(mode == SP_MODE_REPORT ? sealpool::Mode::kReport
                                           : sealpool::Mode::kAbort);
}

void sp_set_violation_handler(sp_violation_handler fn, void* arg) {
  c_handler.store(nullptr, std::memory_order_release);
  c_handler_arg.store(arg, std::memory_order_release);
  c_handler.store(fn, std::memory_order_release);
  sealpool::SetViolationHandler(fn != nullptr ? CTrampoline : nullptr, nullptr);
}

uint64_t sp_violation_count(void) { return sealpool::ViolationCount(); }

void sp_dump_stats(FILE* out) {
  if (out != nullptr) sealpool::DumpStats(out);
}

int sp_dump_map(const char* path) {
  if (path == nullptr || path[0] == '\0') return -EINVAL;
  errno = 0;
  const absl::Status s = sealpool::WriteArenaMap(path);
  if (s.ok()) return 0;
  return errno != 0 ? -errno : -EIO;
}

}  // extern "C"
