// The shim force-included into a C++17 program (-pedantic -Werror -Wall
// -Wextra) that uses <cstring>, <cstdio> and <cwchar> and spells its calls
// std::memcpy, std::strcpy, std::snprintf: <cstring> and friends #undef the
// C names and bring ::memcpy into std, and the calls must still be checked.

#include <cstdio>
#include <cstring>
#include <cwchar>
#include <string>
#include <vector>

#include <sealpool/sealpool.h>

namespace {

int g_violations = 0;
int g_last_kind = 0;
int g_failures = 0;

void OnViolation(const sp_violation* v, void*) {
  ++g_violations;
  g_last_kind = v->kind;
}

void Expect(bool ok, int line, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "shim_cxx.cc:%d: expected %s\n", line, what);
    ++g_failures;
  }
}
#define EXPECT(cond) Expect((cond), __LINE__, #cond)

// One out-of-bounds violation since the last call.
void ExpectCaught(int line) {
  Expect(g_violations == 1 && g_last_kind == SP_VIOLATION_OUT_OF_BOUNDS, line,
         "one out-of-bounds violation");
  g_violations = 0;
  g_last_kind = 0;
}
#define EXPECT_CAUGHT() ExpectCaught(__LINE__)

bool AllAre(const char* p, std::size_t n, char c) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != c) return false;
  }
  return true;
}

}  // namespace

int main() {
  const char* const kLong = "0123456789abcdef";  // 16 chars + NUL
  sp_set_mode(SP_MODE_REPORT);
  sp_set_violation_handler(&OnViolation, nullptr);
  sp_pool* pool = sp_pool_create("shim-cxx", nullptr);
  EXPECT(pool != nullptr);
  if (pool == nullptr) return 1;
  char* obj = static_cast<char*>(sp_alloc(pool, 16));
  EXPECT(obj != nullptr);
  if (obj == nullptr) return 1;

  // std::strcpy.
  EXPECT(std::strcpy(obj, "0123456789abcde") == obj);
  EXPECT(std::string(obj) == "0123456789abcde");
  EXPECT(g_violations == 0);
  EXPECT(std::strcpy(obj, kLong) == nullptr);
  EXPECT_CAUGHT();
  EXPECT(std::string(obj) == "0123456789abcde");

  // std::snprintf and std::sprintf.
  EXPECT(std::snprintf(obj, 16, "%d-%s", 42, "ok") == 5);
  EXPECT(std::string(obj) == "42-ok");
  EXPECT(g_violations == 0);
  EXPECT(std::snprintf(obj, 64, "%s%s", kLong, kLong) < 0);
  EXPECT_CAUGHT();
  EXPECT(std::sprintf(obj, "%s", kLong) < 0);
  EXPECT_CAUGHT();
  EXPECT(std::string(obj) == "42-ok");

  // std::memcpy, also through a pointer to it.
  std::vector<char> out(32, 'o');
  EXPECT(std::memcpy(obj, out.data(), 16) == obj);
  EXPECT(AllAre(obj, 16, 'o'));
  EXPECT(std::memcpy(obj, kLong, 17) == nullptr);
  EXPECT_CAUGHT();
  void* (*copy)(void*, const void*, std::size_t) = &std::memcpy;
  EXPECT(copy(out.data(), obj, 17) == nullptr);
  EXPECT_CAUGHT();
  EXPECT(AllAre(out.data(), 17, '\0'));
  EXPECT(AllAre(out.data() + 17, 15, 'o'));
  EXPECT(memcpy(obj, kLong, 17) == nullptr);  // the unqualified name
  EXPECT_CAUGHT();

  // std::wmemcpy counts wide characters.
  wchar_t* wide = static_cast<wchar_t*>(sp_alloc(pool, 4 * sizeof(wchar_t)));
  EXPECT(wide != nullptr);
  const wchar_t text[5] = {L'a', L'b', L'c', L'd', L'e'};
  EXPECT(std::wmemcpy(wide, text, 4) == wide);
  EXPECT(std::wmemcmp(wide, text, 4) == 0);
  EXPECT(std::wmemcpy(wide, text, 5) == nullptr);
  EXPECT_CAUGHT();

  // A local buffer the compiler can measure: 8 bytes fit, 9 do not.
  char local[8];
  volatile std::size_t eight = 8, nine = 9;
  EXPECT(std::memcpy(local, kLong, eight) == local);
  EXPECT(g_violations == 0);
  EXPECT(std::memcpy(local, kLong + 1, nine) == nullptr);
  Expect(g_violations == 1 && g_last_kind == SP_VIOLATION_OBJECT_SIZE, __LINE__,
         "one object-size violation");
  g_violations = 0;
  EXPECT(std::memcmp(local, kLong, 8) == 0);

  EXPECT(sp_free(wide) == 0);
  EXPECT(sp_free(obj) == 0);
  EXPECT(sp_pool_destroy(pool) == 0);
  sp_set_violation_handler(nullptr, nullptr);
  if (g_failures != 0) {
    std::fprintf(stderr, "shim_cxx: %d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("shim_cxx: out-of-bounds strcpy, sprintf, memcpy caught\n");
  return 0;
}
