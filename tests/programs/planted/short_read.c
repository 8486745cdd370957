/* A read(2) longer than its heap buffer: 256 bytes wait in a pipe, and the
 * program reads them into a 32-byte packet buffer with the length of the
 * data instead of the size of the buffer.
 *
 *   short_read LEN
 *
 * LEN 256 is the planted bug (224 bytes past the buffer); LEN 32 is its
 * legal neighbour. After the call the program prints what read returned,
 * whether the buffer and the bytes past it changed, whether the sentinel
 * objects allocated right after the buffer are intact, and how many bytes
 * are still queued in the pipe.
 */
#include <sys/ioctl.h>

#include "planted.h"

#define BUFFER_SIZE 32
#define QUEUED 256

__attribute__((noinline)) static void* alloc_packet_buffer(void) {
  return malloc(BUFFER_SIZE);
}

static unsigned char data[QUEUED];
static unsigned char buffer_before[BUFFER_SIZE];

int main(int argc, char** argv) {
  planted_init();
  const size_t len = planted_len(argc, argv, 1, QUEUED);
  if (len > QUEUED) {
    fprintf(stderr, "usage: short_read [LEN <= %d]\n", QUEUED);
    return 2;
  }

  unsigned char* buffer = alloc_packet_buffer();
  if (buffer == NULL) return 3;
  planted_alloc_sentinels(BUFFER_SIZE, alloc_packet_buffer);
  for (int k = 0; k < BUFFER_SIZE; ++k) buffer[k] = buffer_before[k] = 0x5A;
  /* What arrives: high bytes, none of them the sentinels' or the buffer's. */
  for (int k = 0; k < QUEUED; ++k) data[k] = (unsigned char)(0x80 | (k * 37 % 127));
  data[0] = 0xD0;

  int p[2];
  if (pipe(p) != 0) {
    perror("pipe");
    return 3;
  }
  if (write(p[1], data, QUEUED) != QUEUED) {
    perror("write to pipe");
    return 3;
  }
  printf("buffer %p: reading %zu bytes into a %d-byte buffer\n",
         (void*)buffer, len, BUFFER_SIZE);

  planted_record_range(buffer, BUFFER_SIZE, len);
  errno = 0;
  ssize_t ret = read(p[0], buffer, len);
  int err = errno;
  planted_print_result("read", (long)ret, err);
  planted_check_range(data + BUFFER_SIZE);
  planted_check_sentinels(buffer, len);
  if (ret == (ssize_t)len && len <= BUFFER_SIZE) {
    planted_compare("buffer", buffer, data, len);
  } else {
    planted_compare("buffer", buffer, buffer_before, BUFFER_SIZE);
  }
  int queued = -1;
  if (ioctl(p[0], FIONREAD, &queued) != 0) queued = -1;
  printf("pipe: %d bytes still queued\n", queued);
  printf("done\n");
  free(buffer);
  return 0;
}
