/* A C host using the installed sealpool C API: create a pool, allocate an
 * object, ask its exact size through an interior pointer, free it, destroy
 * the pool. Prints one line and exits 0 on success. */
#include <sealpool/sealpool.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what) {
  fprintf(stderr, "consumer: %s failed\n", what);
  return 1;
}

int main(void) {
  sp_pool_options opts;
  sp_pool_options_init(&opts);
  sp_pool *pool = sp_pool_create("consumer", &opts);
  if (pool == NULL) return fail("sp_pool_create");

  char *obj = sp_alloc(pool, 40);
  if (obj == NULL) return fail("sp_alloc");
  memset(obj, 'x', 40);
  if (sp_object_size(obj + 17) != 40) return fail("sp_object_size");
  if (sp_free(obj) != 0) return fail("sp_free");
  if (sp_pool_destroy(pool) != 0) return fail("sp_pool_destroy");

  printf("consumer (C API): ok\n");
  return 0;
}
