/* A host that is itself a shared library: it links libsealpool.so
 * (sealpool::shared) and exports only its own function. */
#include "sealpool/sealpool.h"

__attribute__((visibility("default"))) int shared_host_roundtrip(void) {
  sp_pool *pool = sp_pool_create("shared-host", NULL);
  if (pool == NULL) return 1;
  char *s = sp_strdup(pool, "from a shared library");
  const int ok = s != NULL && sp_pool_of(s) == pool && sp_free(s) == 0;
  return sp_pool_destroy(pool) == 0 && ok ? 0 : 1;
}
