/* A Heartbleed-shaped over-read: a 64-byte heartbeat record on the heap
 * carries the length its peer claims for it, and the reply sends back that
 * many bytes from the record, through write(2) or send(2), to one end of a
 * socketpair.
 *
 *   heartbleed write|send CLAIMED
 *
 * CLAIMED 4096 is the planted bug (4032 bytes past the record, where the
 * session's secret was allocated right after it); CLAIMED 64 is its legal
 * neighbour. A child process reads the other end of the socketpair until
 * end of file and prints what reached the peer: also in abort mode, when
 * the parent is killed in the call, so that "nothing was exposed" is seen
 * there too.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "planted.h"

#define RECORD_SIZE 64
#define SECRET "-----BEGIN PRIVATE KEY----- sealpool-planted-secret "

__attribute__((noinline)) static unsigned char* alloc_heartbeat_record(void) {
  return malloc(RECORD_SIZE);
}

__attribute__((noinline)) static char* alloc_session_secret(void) {
  return malloc(RECORD_SIZE);
}

static unsigned char record_copy[RECORD_SIZE];

/* Reads fd until end of file; prints how much arrived, whether it is the
 * record, and whether the secret is in it. */
static void peer(int fd) {
  unsigned char got[16384];
  size_t total = 0;
  for (;;) {
    unsigned char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t k = 0; k < n; ++k) {
      if (total + (size_t)k < sizeof got) got[total + (size_t)k] = chunk[k];
    }
    total += (size_t)n;
  }
  printf("peer: received %zu bytes\n", total);
  if (total == RECORD_SIZE) planted_compare("peer data", got, record_copy, total);
  size_t kept = total < sizeof got ? total : sizeof got;
  size_t secret_len = strlen(SECRET);
  int seen = 0;
  for (size_t k = 0; k + secret_len <= kept && !seen; ++k) {
    if (memcmp(got + k, SECRET, secret_len) == 0) seen = 1;
  }
  printf("peer: secret %s\n", seen ? "seen" : "not seen");
}

int main(int argc, char** argv) {
  planted_init();
  if (argc < 2 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "send") != 0)) {
    fprintf(stderr, "usage: heartbleed write|send [CLAIMED]\n");
    return 2;
  }
  const int use_send = strcmp(argv[1], "send") == 0;
  const size_t claimed_arg = planted_len(argc, argv, 2, 4096);

  unsigned char* record = alloc_heartbeat_record();
  char* secret = alloc_session_secret();
  if (record == NULL || secret == NULL) return 3;
  /* type, then the peer-claimed payload length, big-endian, then payload. */
  record[0] = 1;
  record[1] = (unsigned char)(claimed_arg >> 8);
  record[2] = (unsigned char)claimed_arg;
  for (int k = 3; k < RECORD_SIZE; ++k) record[k] = (unsigned char)('a' + k % 26);
  for (int k = 0; k < RECORD_SIZE; ++k) record_copy[k] = record[k];
  const char* s = SECRET;
  for (int k = 0; k < RECORD_SIZE; ++k) {
    secret[k] = k < RECORD_SIZE - 1 ? s[k % (int)strlen(s)] : '\0';
  }
  printf("record %p, secret %p\n", (void*)record, (void*)secret);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    perror("socketpair");
    return 3;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 3;
  }
  if (child == 0) {
    close(sv[0]);
    peer(sv[1]);
    _exit(0);
  }
  close(sv[1]);

  /* The bug: trust the length the record claims. */
  const size_t claimed = (size_t)record[1] << 8 | record[2];
  printf("heartbeat: replying with %zu bytes of a %d-byte record by %s\n",
         claimed, RECORD_SIZE, use_send ? "send" : "write");
  errno = 0;
  ssize_t ret = use_send ? send(sv[0], record, claimed, 0)
                         : write(sv[0], record, claimed);
  int err = errno;
  planted_print_result(use_send ? "send" : "write", (long)ret, err);

  close(sv[0]);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    printf("peer process failed\n");
    return 3;
  }
  printf("done\n");
  free(secret);
  free(record);
  return 0;
}
