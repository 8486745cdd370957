/* Built with -D_FORTIFY_SOURCE=2 -O2 and the shim: the build must stop
 * (fortified glibc wrappers would bypass the checks). With
 * SHIM_FORTIFY_IN_SOURCE the program turns fortify on itself, after the
 * shim, and the build must stop as well. */
#ifdef SHIM_FORTIFY_IN_SOURCE
#define _FORTIFY_SOURCE 2
#endif
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  char buf[8];
  strcpy(buf, argc > 1 ? argv[1] : "x");
  return sprintf(buf, "%d", argc) < 0;
}
