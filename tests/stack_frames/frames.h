/* sealpool tests — the stack-frame victims of frames.c, in their three
 * builds: fp_ (frame pointers), nofp_ (no frame pointers), nounwind_ (no
 * frame pointers, no unwind tables). */

#ifndef SEALPOOL_TESTS_STACK_FRAMES_FRAMES_H_
#define SEALPOOL_TESTS_STACK_FRAMES_FRAMES_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SF_BUFFER 50

enum {
  SF_COPY_IN = 0,   /* sp_memcpy(buf, heap, n) */
  SF_COPY_OUT = 1,  /* sp_memcpy(heap, buf, n) */
  SF_CHECK = 2      /* sp_check_copy(buf, n, SP_COPY_WRITE) */
};

struct sf_result {
  uintptr_t buf;  /* the victim's buffer */
  uintptr_t cfa;  /* the victim's canonical frame address, from libgcc's
                     unwinder (0 without unwind tables) */
  unsigned sum;   /* sum of the buffer's bytes after the call */
};

/* The CFA of the function that calls it, found by libgcc's unwinder
 * (defined in stack_frame_test.cc). */
uintptr_t sf_caller_cfa(void);

/* Runs op on the victim's 50-byte local buffer `depth` (1 to 3) frames
 * below the victim. Returns 0 when allowed (sp_check_copy's result for
 * SF_CHECK), -1 when a copy was refused. */
int fp_victim(int depth, int op, const char *heap, size_t n,
              struct sf_result *out);
int nofp_victim(int depth, int op, const char *heap, size_t n,
                struct sf_result *out);
int nounwind_victim(int depth, int op, const char *heap, size_t n,
                    struct sf_result *out);

#ifdef __cplusplus
}
#endif

#endif  /* SEALPOOL_TESTS_STACK_FRAMES_FRAMES_H_ */
