// sealpool — the public Pool API, a thin face over internal::PoolImpl.

#include "allocator/pool.h"

#include "absl/strings/str_cat.h"
#include "allocator/internal/lookup.h"
#include "allocator/internal/pool_impl.h"
#include "allocator/page_query.h"

namespace sealpool {

using internal::AllocError;
using internal::PoolImpl;

absl::StatusOr<Pool*> Pool::Create(absl::string_view name,
                                   const PoolOptions& options) {
  return PoolImpl::Create(name, options);
}

absl::StatusOr<Pool*> Pool::Find(absl::string_view name) {
  return PoolImpl::Find(name);
}

absl::StatusOr<void*> Pool::Allocate(size_t size) {
  AllocError err = AllocError::kOk;
  void* p = impl_->Allocate(size, &err);
  if (p != nullptr) return p;
  switch (err) {
    case AllocError::kDestroyed:
      return absl::FailedPreconditionError(
          absl::StrCat("pool '", impl_->name(), "' was destroyed"));
    case AllocError::kInvalid:
      return absl::InvalidArgumentError(
          absl::StrCat("pool '", impl_->name(), "': bad size ", size));
    default:
      return absl::ResourceExhaustedError(absl::StrCat(
          "pool '", impl_->name(), "': cannot allocate ", size,
          " bytes (byte cap, arena or mapping limit)"));
  }
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

absl::Status Pool::Destroy() { return impl_->Destroy(); }

absl::Status Pool::Seal() { return impl_->Seal(); }

absl::Status Pool::WriteRare(void* dst, const void* src, size_t n) {
  return PoolImpl::WriteRare(dst, src, n);
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
