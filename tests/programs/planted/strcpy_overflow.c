/* strcpy(3) of a string longer than its heap destination: a user name of
 * 99 characters (100 bytes with its NUL) into a 16-byte name buffer.
 *
 *   strcpy_overflow CHARS
 *
 * CHARS 99 is the planted bug (84 bytes past the buffer); CHARS 15 (15
 * characters and the NUL: exactly the buffer) is its legal neighbour. The
 * string is built at run time in static memory, so the only heap object in
 * the call is the destination.
 */
#include "planted.h"

#define NAME_SIZE 16
#define MAX_CHARS 200

__attribute__((noinline)) static void* alloc_name_buffer(void) {
  return malloc(NAME_SIZE);
}

static char source[MAX_CHARS + 1];
static unsigned char name_before[NAME_SIZE];

int main(int argc, char** argv) {
  planted_init();
  const size_t chars = planted_len(argc, argv, 1, 99);
  if (chars > MAX_CHARS) {
    fprintf(stderr, "usage: strcpy_overflow [CHARS <= %d]\n", MAX_CHARS);
    return 2;
  }

  char* name = alloc_name_buffer();
  if (name == NULL) return 3;
  planted_alloc_sentinels(NAME_SIZE, alloc_name_buffer);
  for (int k = 0; k < NAME_SIZE; ++k) {
    name[k] = (char)0x5A;
    name_before[k] = 0x5A;
  }
  /* High bytes, never NUL, none of them the sentinels' or the buffer's. */
  for (size_t k = 0; k < chars; ++k) source[k] = (char)(0x80 | (k * 37 % 127));
  source[chars] = '\0';
  printf("name %p: copying %zu bytes (%zu characters and the NUL) into a "
         "%d-byte buffer\n",
         (void*)name, chars + 1, chars, NAME_SIZE);

  planted_record_range(name, NAME_SIZE, chars + 1);
  char* ret = strcpy(name, source);
  planted_check_range((const unsigned char*)source + NAME_SIZE);
  planted_check_sentinels(name, chars + 1);
  printf("strcpy: returned %s\n",
         ret == name ? "the destination" : ret == NULL ? "NULL" : "another pointer");
  if (chars + 1 <= NAME_SIZE) {
    planted_compare("name", (const unsigned char*)name,
                    (const unsigned char*)source, chars + 1);
  } else {
    planted_compare("name", (const unsigned char*)name, name_before, NAME_SIZE);
  }
  printf("done\n");
  free(name);
  return 0;
}
