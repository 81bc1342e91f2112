// SPDX-License-Identifier: GPL-2.0-or-later
//
// Demo guest for qemu-system-aarch64 -M virt: prints a line on the PL011
// UART, then counts forever in `counter`.  Linked at 0x40200000, above the
// device tree that QEMU writes at the start of RAM.

    .equ    UART_DR, 0x09000000

    .text
    .global _start
_start:
    ldr     x1, =UART_DR
    adr     x2, message
1:  ldrb    w3, [x2], #1
    cbz     w3, 2f
    str     w3, [x1]
    b       1b
2:  adr     x4, counter
loop:
    ldr     x5, [x4]
    add     x5, x5, #1
    str     x5, [x4]
    b       loop

    .ltorg
    .balign 8
    .global counter
counter:
    .quad   0
message:
    .asciz  "MCD demo guest (AArch64) running\r\n"
