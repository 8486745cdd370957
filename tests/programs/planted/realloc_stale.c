/* A stale length after a shrinking realloc: a 4096-byte session buffer is
 * reallocated down to 64 bytes, and the code that fills or drains it still
 * uses the 4096 it remembered, in memcpy(3) into the buffer or out of it.
 *
 *   realloc_stale into|out LEN
 *
 * LEN 4096 is the planted bug; LEN 64 (the size after the shrink) is its
 * legal neighbour. The other side of the memcpy is static memory, so the
 * only heap object in the call is the shrunk buffer.
 */
#include "planted.h"

#define OLD_SIZE 4096
#define NEW_SIZE 64

__attribute__((noinline)) static unsigned char* alloc_session_buffer(void) {
  return malloc(OLD_SIZE);
}

__attribute__((noinline)) static unsigned char* shrink_session_buffer(
    unsigned char* p) {
  return realloc(p, NEW_SIZE);
}

/* A buffer allocated and shrunk the same way, for the sentinels. */
static void* alloc_shrunk_session_buffer(void) {
  unsigned char* p = alloc_session_buffer();
  return p == NULL ? NULL : shrink_session_buffer(p);
}

static unsigned char incoming[OLD_SIZE];
static unsigned char outgoing[OLD_SIZE];
static unsigned char outgoing_before[OLD_SIZE];
static unsigned char session_before[NEW_SIZE];

int main(int argc, char** argv) {
  planted_init();
  if (argc < 2 || (strcmp(argv[1], "into") != 0 && strcmp(argv[1], "out") != 0)) {
    fprintf(stderr, "usage: realloc_stale into|out [LEN <= %d]\n", OLD_SIZE);
    return 2;
  }
  const int into = strcmp(argv[1], "into") == 0;
  const size_t len = planted_len(argc, argv, 2, OLD_SIZE);
  if (len > OLD_SIZE) return 2;

  unsigned char* session = alloc_session_buffer();
  if (session == NULL) return 3;
  for (int k = 0; k < OLD_SIZE; ++k) session[k] = 0x11;
  size_t remembered = OLD_SIZE;
  session = shrink_session_buffer(session);
  if (session == NULL) return 3;
  planted_alloc_sentinels(NEW_SIZE, alloc_shrunk_session_buffer);
  for (int k = 0; k < NEW_SIZE; ++k) {
    session[k] = session_before[k] = (unsigned char)(0x20 + k);
  }
  /* High bytes: none of them the sentinels', the buffer's or the old fill. */
  for (int k = 0; k < OLD_SIZE; ++k) {
    incoming[k] = (unsigned char)(0x80 | (k * 37 % 127));
    outgoing[k] = outgoing_before[k] = 0x33;
  }
  printf("session %p: %zu bytes (remembered %zu), copying %zu bytes %s it\n",
         (void*)session, (size_t)NEW_SIZE, remembered, len,
         into ? "into" : "out of");

  void* ret;
  if (into) {
    planted_record_range(session, NEW_SIZE, len);
    ret = memcpy(session, incoming, len);
    planted_check_range(incoming + NEW_SIZE);
    planted_check_sentinels(session, len);
  } else {
    ret = memcpy(outgoing, session, len);
  }
  printf("memcpy: returned %s\n",
         ret == (into ? (void*)session : (void*)outgoing)
             ? "the destination"
             : ret == NULL ? "NULL" : "another pointer");
  if (into) {
    if (len <= NEW_SIZE) {
      planted_compare("session", session, incoming, len);
    } else {
      planted_compare("session", session, session_before, NEW_SIZE);
    }
  } else {
    if (len <= NEW_SIZE) {
      planted_compare("copied out", outgoing, session_before, len);
      planted_compare("rest of destination", outgoing + len,
                      outgoing_before + len, OLD_SIZE - len);
    } else {
      planted_compare("destination", outgoing, outgoing_before, OLD_SIZE);
    }
  }
  printf("done\n");
  free(session);
  return 0;
}
