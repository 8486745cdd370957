// sealpool behind C++ containers: a std::pmr::memory_resource over a pool.

#include <cstdio>
#include <memory_resource>
#include <new>
#include <string>
#include <vector>

#include "sealpool/sealpool.h"

class PoolResource final : public std::pmr::memory_resource {
 public:
  explicit PoolResource(sp_pool* pool) : pool_(pool) {}

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    void* p = sp_alloc_aligned(pool_, align, bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t, std::size_t) override { sp_free(p); }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  sp_pool* pool_;
};

int main() {
  sp_pool* pool = sp_pool_create("pmr-strings", nullptr);
  if (pool == nullptr) return 1;
  bool ok = true;
  {
    PoolResource resource(pool);
    std::pmr::vector<std::pmr::string> names(&resource);
    for (int i = 0; i < 1000; ++i) {
      names.emplace_back("a name long enough to leave the small-string buffer #" +
                         std::to_string(i));
    }
    ok = sp_pool_of(names.data()) == pool && sp_pool_of(names.back().data()) == pool &&
         names[999] == "a name long enough to leave the small-string buffer #999";
    std::printf("pmr hooks: %zu strings, vector and strings in pool '%s'\n",
                names.size(), sp_pool_name(pool));
  }
  sp_pool_destroy(pool);
  return ok && sp_violation_count() == 0 ? 0 : 1;
}
