@ SPDX-License-Identifier: GPL-2.0-or-later
@
@ Demo guest for qemu-system-arm -M virt: prints a line on the PL011 UART,
@ then counts forever in `counter`.  Linked at 0x40200000, above the
@ device tree that QEMU writes at the start of RAM.

    .equ    UART_DR, 0x09000000

    .syntax unified
    .arm
    .text
    .global _start
_start:
    ldr     r1, =UART_DR
    adr     r2, message
1:  ldrb    r3, [r2], #1
    cmp     r3, #0
    beq     2f
    str     r3, [r1]
    b       1b
2:  ldr     r4, =counter
loop:
    ldr     r5, [r4]
    add     r5, r5, #1
    str     r5, [r4]
    b       loop

    .ltorg
    .balign 8
    .global counter
counter:
    .word   0
message:
    .asciz  "MCD demo guest (AArch32) running\r\n"
