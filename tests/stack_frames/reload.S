/* sealpool tests — a function whose frame has FRAME bytes of locals,
 * built into two shared libraries with different FRAME and otherwise
 * identical code (the sizes are encoded as 32-bit immediates, so that the
 * instructions have the same lengths): loaded one after the other at the
 * same address, the same return address lies in frames of different
 * sizes. See RulesOfAnUnloadedLibraryDoNotOutliveARefresh.
 *
 * void reload_victim(void (*probe)(char *locals, unsigned size)):
 * calls probe with its locals [rsp, rsp + FRAME), which lie right below
 * the saved rbx and the return address. */
        .text
        .globl  reload_victim
        .type   reload_victim, @function
reload_victim:
        .cfi_startproc
        pushq   %rbx
        .cfi_def_cfa_offset 16
        .cfi_offset %rbx, -16
        .byte   0x48, 0x81, 0xec        /* subq $FRAME, %rsp */
        .long   FRAME
        .cfi_def_cfa_offset 16 + FRAME
        movq    %rdi, %rax
        movq    %rsp, %rdi
        movl    $FRAME, %esi
        call    *%rax
        .byte   0x48, 0x81, 0xc4        /* addq $FRAME, %rsp */
        .long   FRAME
        .cfi_def_cfa_offset 16
        popq    %rbx
        .cfi_def_cfa_offset 8
        ret
        .cfi_endproc
        .size   reload_victim, . - reload_victim
        .section .note.GNU-stack, "", @progbits
