// The C++ side of whole-program mode's tests: `probe_cxx CASE` with
// libsealpool_malloc.so preloaded (see probe.c for the conventions).

#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

int failures = 0;

#define EXPECT(cond)                                                 \
  do {                                                               \
    if (!(cond)) {                                                   \
      std::printf("FAILED: %s (line %d)\n", #cond, __LINE__);        \
      ++failures;                                                    \
    }                                                                \
  } while (0)

struct alignas(256) Wide {
  char bytes[300];
};

void* volatile sink;
volatile size_t huge = SIZE_MAX / 2;
int handler_calls = 0;
void* reserve = nullptr;

void ReleaseReserve() {
  ++handler_calls;
  std::free(reserve);
  reserve = nullptr;
  std::set_new_handler(nullptr);
}

int NewDelete() {
  int* one = new int(7);
  EXPECT(*one == 7 && malloc_usable_size(one) == sizeof(int));
  delete one;
  char* arr = new char[1000];
  EXPECT(malloc_usable_size(arr) == 1000);
  delete[] arr;
  Wide* w = new Wide;
  EXPECT(reinterpret_cast<uintptr_t>(w) % 256 == 0);
  delete w;
  Wide* ws = new Wide[3];
  EXPECT(reinterpret_cast<uintptr_t>(ws) % 256 == 0);
  delete[] ws;
  EXPECT(new (std::nothrow) char[huge] == nullptr);
  bool threw = false;
  try {
    sink = new char[huge];
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  EXPECT(threw);
  // The program's new-handler is called (and may make room).
  std::set_new_handler(ReleaseReserve);
  threw = false;
  try {
    sink = new char[huge];
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  EXPECT(threw && handler_calls == 1);
  std::map<std::string, std::vector<int>> m;
  for (int i = 0; i < 20000; ++i) m[std::to_string(i)].push_back(i);
  EXPECT(m.size() == 20000 && m["1234"][0] == 1234);
  auto shared = std::make_shared<std::string>(500, 'x');
  EXPECT(shared->size() == 500);
  std::printf("new-delete: %s\n", failures == 0 ? "ok" : "failed");
  return failures != 0;
}

// A C++ container's buffer over-read through memcpy.
__attribute__((noinline)) std::vector<char>* MakeVector() {
  return new std::vector<char>(48, 'v');
}

int VectorOverread() {
  std::vector<char>* v = MakeVector();
  char out[128];
  std::memcpy(out, v->data(), sizeof(out));
  std::printf("out[0]: %d\n", out[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  reserve = std::malloc(1 << 20);
  const std::string c = argv[1];
  if (c == "new-delete") return NewDelete();
  if (c == "vector-overread") return VectorOverread();
  return 2;
}
