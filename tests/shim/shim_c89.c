/* The shim force-included into a strict C89 program
 * (-std=c89 -pedantic -Werror -Wall -Wextra): it must compile unchanged,
 * and its plain strcpy, sprintf and memcpy calls must be checked. */
#include <stdio.h>
#include <string.h>

#include <sealpool/sealpool.h>

#include "shim_checks.h"

int main(void) {
  int failures = RunShimChecks("shim-c89");
  failures += RunShimSizeChecks();
  if (failures != 0) {
    fprintf(stderr, "shim_c89: %d check(s) failed\n", failures);
    return 1;
  }
  printf("shim_c89: out-of-bounds strcpy, sprintf, memcpy caught\n");
  return 0;
}
