/* The same program linked with sealpool (one lookup keeps the library in). */
#include "sealpool/sealpool.h"

int main(int argc, char **argv) {
  (void)argc;
  return sp_owns(argv) ? 1 : 0;
}
