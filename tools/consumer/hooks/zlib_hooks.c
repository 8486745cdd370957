/* sealpool behind zlib: zalloc/zfree keep the compressor's state and
 * windows in a pool of their own. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "sealpool/sealpool.h"

static voidpf sp_zalloc(voidpf opaque, uInt items, uInt size) {
  return sp_calloc((sp_pool *)opaque, items, size); /* overflow: NULL */
}

static void sp_zfree(voidpf opaque, voidpf ptr) {
  (void)opaque;
  sp_free(ptr);
}

int main(void) {
  sp_pool *pool = sp_pool_create("zlib-state", NULL);
  if (pool == NULL) return 1;
  static unsigned char in[64 * 1024], packed[80 * 1024], out[64 * 1024];
  for (size_t i = 0; i < sizeof(in); ++i) in[i] = (unsigned char)("sealpool"[i % 8] + i / 4096);

  z_stream z;
  memset(&z, 0, sizeof(z));
  z.zalloc = sp_zalloc;
  z.zfree = sp_zfree;
  z.opaque = pool;
  if (deflateInit(&z, Z_BEST_COMPRESSION) != Z_OK) return 1;
  z.next_in = in;
  z.avail_in = sizeof(in);
  z.next_out = packed;
  z.avail_out = sizeof(packed);
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) return 1;
  const uLong packed_len = z.total_out;
  deflateEnd(&z);

  memset(&z, 0, sizeof(z));
  z.zalloc = sp_zalloc;
  z.zfree = sp_zfree;
  z.opaque = pool;
  if (inflateInit(&z) != Z_OK) return 1;
  z.next_in = packed;
  z.avail_in = (uInt)packed_len;
  z.next_out = out;
  z.avail_out = sizeof(out);
  if (inflate(&z, Z_FINISH) != Z_STREAM_END) return 1;
  inflateEnd(&z);

  const int same = z.total_out == sizeof(in) && memcmp(in, out, sizeof(in)) == 0;
  printf("zlib hooks: %lu bytes -> %lu -> %lu, %s\n", (unsigned long)sizeof(in),
         (unsigned long)packed_len, (unsigned long)z.total_out, same ? "equal" : "DIFFERENT");
  sp_pool_destroy(pool);
  return same && sp_violation_count() == 0 ? 0 : 1;
}
