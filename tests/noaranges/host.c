/* A host translation unit without .debug_aranges (clang's default; the
 * build removes the section from this object), linked with sealpool, whose
 * own objects have it. libdw then answers "no line" for this code, or a
 * wrong compile unit; the symbolizer must find the unit itself. The
 * program reports an over-read from host_copy and exits 0 when the
 * report's first frame names this file and the line of the call. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealpool/sealpool.h"

static int copy_line;

__attribute__((noinline)) static void *host_copy(void *dst, const void *src, size_t n) {
  copy_line = __LINE__ + 1;
  void *volatile r = sp_memcpy(dst, src, n);
  return r;
}

int main(void) {
  char path[] = "/tmp/sealpool-noaranges-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 2;
  unlink(path);
  const int saved = dup(2);
  dup2(fd, 2);
  sp_set_mode(SP_MODE_REPORT);
  sp_pool *pool = sp_pool_create("noaranges", NULL);
  char out[64];
  void *obj = pool != NULL ? sp_alloc(pool, 16) : NULL;
  void *r = obj != NULL ? host_copy(out, obj, sizeof(out)) : out;
  dup2(saved, 2);
  if (r != NULL) return 3;
  static char text[65536];
  const ssize_t got = pread(fd, text, sizeof(text) - 1, 0);
  if (got <= 0) return 4;
  text[got] = '\0';
  fputs(text, stderr);
  char want[64];
  snprintf(want, sizeof(want), "host.c:%d ", copy_line);
  const char *first = strstr(text, "    #0 ");
  const char *eol = first != NULL ? strchr(first, '\n') : NULL;
  const char *hit = first != NULL ? strstr(first, want) : NULL;
  if (hit == NULL || (eol != NULL && hit > eol) || strstr(first, "host_copy") == NULL) {
    fprintf(stderr, "noaranges: the first frame does not name host_copy at %s\n", want);
    return 1;
  }
  return 0;
}
