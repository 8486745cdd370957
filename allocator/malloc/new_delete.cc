// sealpool — whole-program mode: operator new and delete.
//
// Every form (plain, array, nothrow, aligned, sized) allocates from the
// heap pools like malloc, with the caller of operator new as the site.
// Sized deletes free like free(): the size is not trusted for anything.
//
// When an allocation fails, the throwing forms do what the standard asks:
// call the program's new-handler until it succeeds or there is none, then
// throw std::bad_alloc. Both go through the program's own C++ runtime,
// found by name (sealpool's private copy of the runtime is not the one the
// program set its handler in or catches with); a process without a C++
// runtime loaded cannot have called operator new through it, so that case
// ends the process with a message.
// The nothrow forms call the handler too; see NewOrNull for the one
// difference from the standard.

#include <dlfcn.h>
#include <stdlib.h>

#include <cstddef>
#include <new>

#include "allocator/internal/report.h"
#include "allocator/malloc/heap.h"

using sealpool::malloc_internal::HeapAllocate;
using sealpool::malloc_internal::HeapFree;

namespace {

using Handler = void (*)();

[[noreturn]] void Fatal(const char* what) {
  char buf[160];
  sealpool::internal::FixedWriter w(buf, sizeof(buf));
  w.Str("sealpool: operator new: ").Str(what).Str("\n");
  sealpool::internal::WriteAll(2, w.data(), w.length());
  abort();
}

// A function of the program's C++ runtime: libstdc++ wherever it was
// loaded (a Python extension's, loaded RTLD_LOCAL, is not in the global
// scope), else whatever the global scope has.
void* RuntimeFunction(const char* name) {
  if (void* lib = dlopen("libstdc++.so.6", RTLD_NOLOAD | RTLD_LAZY)) {
    void* f = dlsym(lib, name);
    dlclose(lib);
    if (f != nullptr) return f;
  }
  return dlsym(RTLD_DEFAULT, name);
}

// The program's current new-handler, or nullptr.
Handler ProgramNewHandler() {
  using Get = Handler (*)();
  auto get = reinterpret_cast<Get>(RuntimeFunction("_ZSt15get_new_handlerv"));
  return get != nullptr ? get() : nullptr;
}

[[noreturn]] void ThrowBadAlloc() {
  using Throw = void (*)();
  auto t = reinterpret_cast<Throw>(RuntimeFunction("_ZSt17__throw_bad_allocv"));
  if (t != nullptr) t();
  Fatal("out of memory, and no C++ runtime to throw std::bad_alloc");
}

void* NewOrThrow(size_t size, size_t align, uintptr_t site) {
  for (;;) {
    if (void* p = HeapAllocate(size, align, site)) return p;
    Handler h = ProgramNewHandler();
    if (h == nullptr) ThrowBadAlloc();
    h();
  }
}

void* NewOrNull(size_t size, size_t align, uintptr_t site) {
  for (;;) {
    if (void* p = HeapAllocate(size, align, site)) return p;
    Handler h = ProgramNewHandler();
    if (h == nullptr) return nullptr;
    // A handler that throws ends the process here (std::terminate), where
    // the standard's nothrow forms would return nullptr: catching an
    // exception of the program's C++ runtime in sealpool's own is not safe.
    h();
  }
}

size_t Align(std::align_val_t a) {
  const size_t v = static_cast<size_t>(a);
  return v < 16 ? 16 : v;
}

}  // namespace

void* operator new(size_t n) { return NewOrThrow(n, 16, SEALPOOL_CALL_SITE()); }
void* operator new[](size_t n) { return NewOrThrow(n, 16, SEALPOOL_CALL_SITE()); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return NewOrNull(n, 16, SEALPOOL_CALL_SITE());
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return NewOrNull(n, 16, SEALPOOL_CALL_SITE());
}
void* operator new(size_t n, std::align_val_t a) {
  return NewOrThrow(n, Align(a), SEALPOOL_CALL_SITE());
}
void* operator new[](size_t n, std::align_val_t a) {
  return NewOrThrow(n, Align(a), SEALPOOL_CALL_SITE());
}
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return NewOrNull(n, Align(a), SEALPOOL_CALL_SITE());
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return NewOrNull(n, Align(a), SEALPOOL_CALL_SITE());
}

void operator delete(void* p) noexcept { HeapFree(p); }
void operator delete[](void* p) noexcept { HeapFree(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { HeapFree(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { HeapFree(p); }
void operator delete(void* p, size_t) noexcept { HeapFree(p); }
void operator delete[](void* p, size_t) noexcept { HeapFree(p); }
void operator delete(void* p, std::align_val_t) noexcept { HeapFree(p); }
void operator delete[](void* p, std::align_val_t) noexcept { HeapFree(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  HeapFree(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  HeapFree(p);
}
void operator delete(void* p, size_t, std::align_val_t) noexcept { HeapFree(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { HeapFree(p); }
