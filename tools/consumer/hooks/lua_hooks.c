/* sealpool as Lua's allocator: lua_Alloc with one pool per object type.
 *
 * Lua passes the type of a new object in `osize` when `ptr` is NULL;
 * growing and shrinking go through sp_realloc, which keeps a block in the
 * pool that owns it and never fails a shrink (Lua requires both). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "sealpool/sealpool.h"

struct lua_pools {
  sp_pool *strings, *tables, *other;
};

static void *sp_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct lua_pools *p = ud;
  if (nsize == 0) {
    sp_free(ptr); /* sp_free(NULL) is a no-op */
    return NULL;
  }
  if (ptr == NULL) {
    sp_pool *pool = osize == LUA_TSTRING  ? p->strings
                    : osize == LUA_TTABLE ? p->tables
                                          : p->other;
    return sp_alloc(pool, nsize);
  }
  return sp_realloc(NULL, ptr, nsize);
}

int main(void) {
  struct lua_pools p;
  p.strings = sp_pool_create("lua-strings", NULL);
  p.tables = sp_pool_create("lua-tables", NULL);
  p.other = sp_pool_create("lua-other", NULL);
  if (!p.strings || !p.tables || !p.other) return 1;
  lua_State *L = lua_newstate(sp_lua_alloc, &p);
  if (L == NULL) return 1;
  luaL_openlibs(L);
  const char *script =
      "local t = {}\n"
      "for i = 1, 20000 do t[i] = string.rep('x', i % 97) .. i end\n"
      "local n = 0\n"
      "for _, s in ipairs(t) do n = n + #s end\n"
      "collectgarbage()\n"
      "return tostring(n) .. ' bytes in ' .. #t .. ' strings'";
  if (luaL_dostring(L, script) != LUA_OK) {
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    return 1;
  }
  const char *result = lua_tostring(L, -1);
  /* The result string lives in the strings pool. */
  const int in_pool = sp_pool_of(result) == p.strings;
  printf("lua hooks: %s (result in pool '%s')\n", result,
         in_pool ? sp_pool_name(p.strings) : "?");
  const int ok = in_pool && strcmp(result, "1048201 bytes in 20000 strings") == 0;
  lua_close(L);
  sp_pool_destroy(p.strings);
  sp_pool_destroy(p.tables);
  sp_pool_destroy(p.other);
  return ok && sp_violation_count() == 0 ? 0 : 1;
}
