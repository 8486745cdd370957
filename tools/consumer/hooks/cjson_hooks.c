/* sealpool behind cJSON (cJSON_InitHooks), and a free() that tells pool
 * memory from libc memory.
 *
 * cJSON allocates through its hooks, but its callers free() what it
 * returns (cJSON_Print's string), and other libraries in the same program
 * hand out libc memory that the host frees. Linked with
 * -Wl,--wrap=free,--wrap=realloc, every free() and realloc() of the
 * program's own objects goes through the wrappers below: sp_owns() says
 * whose pointer it is (zero-size pool objects included). Libraries linked
 * as shared objects are not wrapped; they keep calling libc's free. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealpool/sealpool.h"

void __real_free(void *ptr);
void *__real_realloc(void *ptr, size_t size);

void __wrap_free(void *ptr) {
  if (sp_owns(ptr)) {
    sp_free(ptr);
  } else {
    __real_free(ptr);
  }
}

void *__wrap_realloc(void *ptr, size_t size) {
  return sp_owns(ptr) ? sp_realloc(NULL, ptr, size) : __real_realloc(ptr, size);
}

static sp_pool *json_pool;

static void *json_malloc(size_t size) { return sp_alloc(json_pool, size); }
static void json_free(void *ptr) { sp_free(ptr); }

int main(void) {
  json_pool = sp_pool_create("json", NULL);
  if (json_pool == NULL) return 1;
  cJSON_Hooks hooks = {json_malloc, json_free};
  cJSON_InitHooks(&hooks);

  cJSON *doc = cJSON_Parse("{\"name\":\"sealpool\",\"pools\":[1,2,3]}");
  if (doc == NULL) return 1;
  cJSON_AddNumberToObject(doc, "seal", 1);
  char *text = cJSON_PrintUnformatted(doc);
  if (text == NULL || sp_pool_of(text) != json_pool) return 1;
  printf("cjson hooks: %s (in pool '%s')\n", text, sp_pool_name(json_pool));
  const int same = strcmp(text, "{\"name\":\"sealpool\",\"pools\":[1,2,3],\"seal\":1}") == 0;
  free(text); /* pool memory, freed by a caller that knows only free() */
  cJSON_Delete(doc);

  char *plain = strdup("libc memory"); /* memory sealpool does not own */
  plain = realloc(plain, 64);
  free(plain);

  const int freed = !sp_owns(text);
  sp_pool_destroy(json_pool);
  return same && freed && sp_violation_count() == 0 ? 0 : 1;
}
