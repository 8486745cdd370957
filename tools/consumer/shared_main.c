/* Calls the shared-library host (shared_host.c). */
#include <stdio.h>

int shared_host_roundtrip(void);

int main(void) {
  const int rc = shared_host_roundtrip();
  printf("consumer (shared-library host): %s\n", rc == 0 ? "ok" : "FAILED");
  return rc;
}
