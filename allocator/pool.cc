// sealpool — the public Pool API, a thin face over internal::PoolImpl.

#include "allocator/pool.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/page_query.h"

namespace sealpool {

using internal::AllocError;
using internal::Outcome;
using internal::OutcomeOr;
using internal::PoolImpl;

namespace {

absl::Status ToStatus(const Outcome& o) {
  if (o.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(o.code()), o.message());
}

absl::StatusOr<Pool*> ToStatusOr(const OutcomeOr<Pool*>& r) {
  if (!r.ok()) return ToStatus(r.outcome());
  return r.value();
}

}  // namespace

absl::StatusOr<Pool*> Pool::Create(absl::string_view name,
                                   const PoolOptions& options) {
  return ToStatusOr(PoolImpl::Create(name, options));
}

absl::StatusOr<Pool*> Pool::Find(absl::string_view name) {
  return ToStatusOr(PoolImpl::Find(name));
}

namespace {

absl::Status AllocStatus(const PoolImpl* impl, AllocError err, size_t size) {
  switch (err) {
    case AllocError::kDestroyed:
      return absl::FailedPreconditionError(
          absl::StrCat("pool '", impl->name(), "' was destroyed"));
    case AllocError::kInvalid:
      return absl::InvalidArgumentError(
          absl::StrCat("pool '", impl->name(), "': bad size, alignment or pointer"));
    case AllocError::kSealed:
      return absl::PermissionDeniedError(
          absl::StrCat("pool '", impl->name(), "': the object is sealed"));
    default:
      return absl::ResourceExhaustedError(absl::StrCat(
          "pool '", impl->name(), "': cannot allocate ", size,
          " bytes (byte cap, arena or mapping limit)"));
  }
}

}  // namespace

absl::StatusOr<void*> Pool::Allocate(size_t size) {
  AllocError err = AllocError::kOk;
  void* p = impl_->Allocate(size, &err);
  if (p != nullptr) return p;
  return AllocStatus(impl_, err, size);
}

absl::StatusOr<void*> Pool::AllocateZeroed(size_t n, size_t size) {
  AllocError err = AllocError::kOk;
  void* p = impl_->AllocateZeroed(n, size, &err);
  if (p != nullptr) return p;
  return AllocStatus(impl_, err, size);
}

absl::StatusOr<void*> Pool::AllocateAligned(size_t align, size_t size) {
  AllocError err = AllocError::kOk;
  void* p = impl_->AllocateAligned(size, align, &err);
  if (p != nullptr) return p;
  return AllocStatus(impl_, err, size);
}

absl::StatusOr<void*> Pool::Reallocate(void* ptr, size_t size) {
  AllocError err = AllocError::kOk;
  void* p = PoolImpl::Reallocate(impl_, ptr, size, &err);
  if (p != nullptr) return p;
  return AllocStatus(impl_, err, size);
}

absl::StatusOr<char*> Pool::Duplicate(absl::string_view s) {
  absl::StatusOr<void*> p = Allocate(s.size() + 1);
  if (!p.ok()) return p.status();
  char* c = static_cast<char*>(*p);
  if (!s.empty()) std::memcpy(c, s.data(), s.size());
  c[s.size()] = '\0';
  return c;
}

absl::Status Pool::Free(void* ptr) {
  const ViolationKind v = PoolImpl::Free(ptr);
  switch (v) {
    case ViolationKind::kNone:
      return absl::OkStatus();
    default:
      return absl::DataLossError(
          absl::StrCat("sealpool: ", ViolationKindName(v), " refused"));
  }
}

size_t Pool::ObjectSize(const void* ptr) {
  ObjectBounds b;
  return internal::LookupObjectInline(reinterpret_cast<uintptr_t>(ptr), &b,
                                     kLookupBounds) == Lookup::kObject
             ? b.size
             : 0;
}

Pool* Pool::Owner(const void* ptr) {
  ObjectBounds b;
  if (LookupObject(ptr, &b) != Lookup::kObject) return nullptr;
  PoolImpl* p = PoolImpl::ById(b.pool_id);
  return p != nullptr && p->live() ? p->handle() : nullptr;
}

bool Pool::Owns(const void* ptr) {
  ObjectBounds b;
  return LookupObject(ptr, &b, kLookupBounds) == Lookup::kObject;
}

absl::Status Pool::Destroy() { return ToStatus(impl_->Destroy()); }

absl::Status Pool::Seal() { return ToStatus(impl_->Seal()); }

absl::Status Pool::WriteRare(void* dst, const void* src, size_t n) {
  return ToStatus(PoolImpl::WriteRare(dst, src, n));
}

Pool* Pool::Ref() {
  impl_->Ref();
  return this;
}

void Pool::Unref() { impl_->Unref(); }

absl::string_view Pool::name() const { return impl_->name(); }
uint32_t Pool::id() const { return impl_->id(); }
const PoolOptions& Pool::options() const { return impl_->options(); }
PoolStats Pool::Stats() const { return impl_->Stats(); }

size_t LivePoolCount() { return PoolImpl::LiveCount(); }

}  // namespace sealpool
