/* sealpool — route a host's own memcpy/memmove/memset through the checks.
 *
 * Include this header (after <string.h>) in a translation unit, or force it
 * with `-include sealpool/boundscheck/memcpy_shim.h`, and define
 * SEALPOOL_CHECKED_MEMCPY to turn it on:
 *
 *   #define SEALPOOL_CHECKED_MEMCPY 1
 *   #include <string.h>
 *   #include "boundscheck/memcpy_shim.h"
 *
 * Then every call spelled memcpy(d, s, n), memmove(d, s, n) or
 * memset(d, c, n) in that file is checked like sp_memcpy() and friends.
 *
 * Limits, on purpose: it is a macro, so it covers only calls written by
 * name in files that include it — not calls through function pointers, not
 * copies the compiler emits for struct assignment, not library code built
 * elsewhere, not __builtin_memcpy. In report mode a refused copy writes
 * nothing and the expression yields NULL, unlike libc's memcpy; code that
 * uses memcpy's return value must be ready for that. Taking the address of
 * memcpy (&memcpy) still yields libc's function.
 */
#ifndef SEALPOOL_BOUNDSCHECK_MEMCPY_SHIM_H_
#define SEALPOOL_BOUNDSCHECK_MEMCPY_SHIM_H_

#if defined(SEALPOOL_CHECKED_MEMCPY) && SEALPOOL_CHECKED_MEMCPY

#include <string.h>

#include "sealpool/sealpool.h"

#undef memcpy
#undef memmove
#undef memset
#define memcpy(dst, src, n) sp_memcpy((dst), (src), (n))
#define memmove(dst, src, n) sp_memmove((dst), (src), (n))
#define memset(dst, c, n) sp_memset((dst), (c), (n))

#endif /* SEALPOOL_CHECKED_MEMCPY */

#endif /* SEALPOOL_BOUNDSCHECK_MEMCPY_SHIM_H_ */
