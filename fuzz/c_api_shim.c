/* sealpool fuzzing — calls into the C API the way a C host does.
 *
 * In C any int converts to an enum type, so a C host may pass any int as
 * an sp_copy_dir (sealpool.h promises -EINVAL for the bad ones). C++ code
 * cannot produce such values without undefined behaviour of its own, so
 * the C++ fuzzers make these calls through this file. */

#include <stddef.h>

#include "sealpool/sealpool.h"

int sealpool_fuzz_check_copy_int_dir(const void *ptr, size_t len, int dir);

int sealpool_fuzz_check_copy_int_dir(const void *ptr, size_t len, int dir) {
  return sp_check_copy(ptr, len, (sp_copy_dir)dir);
}
