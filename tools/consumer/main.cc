// A C++ host using the installed sealpool C++ API through the installed
// include layout. Prints one line and exits 0 on success.
#include <sealpool/allocator/pool.h>

#include <cstdio>

int main() {
  absl::StatusOr<sealpool::Pool*> pool = sealpool::Pool::Create("consumer-cxx");
  if (!pool.ok()) return 1;
  absl::StatusOr<void*> obj = (*pool)->Allocate(40);
  if (!obj.ok()) return 1;
  if (sealpool::Pool::ObjectSize(static_cast<char*>(*obj) + 17) != 40) return 1;
  if (!sealpool::Pool::Free(*obj).ok()) return 1;
  if (!(*pool)->Destroy().ok()) return 1;
  std::printf("consumer (C++ API): ok\n");
  return 0;
}
