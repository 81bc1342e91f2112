/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: disassembly of one instruction at a time, with capstone if
 * mcd-cli was built with it.  No MCD in here.
 */

#ifndef CLI_DISAS_H
#define CLI_DISAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CliIsa {
    CLI_ISA_NONE,               /* unknown: no disassembly */
    CLI_ISA_A64,                /* AArch64 */
    CLI_ISA_ARM,                /* AArch32, ARM state */
    CLI_ISA_THUMB,              /* AArch32, Thumb state */
    CLI_ISA_M68K,
} CliIsa;

typedef struct CliInsn {
    unsigned int size;          /* bytes; 0: not an instruction */
    char mnemonic[32];
    char operands[160];
    bool has_target;            /* refers to an address: a branch... */
    uint64_t target;
} CliInsn;

/* Whether mcd-cli was built with a disassembler. */
bool cli_disas_available(void);

/* "capstone 4.0" or "none": what disassembles. */
const char *cli_disas_version(void);

/* "AArch64", "ARM", "Thumb", "m68k" or "none". */
const char *cli_isa_name(CliIsa isa);

/* The size of the smallest instruction of @isa: what a bad one skips. */
unsigned int cli_isa_min_size(CliIsa isa);

/* The size of the largest instruction of @isa: how much to read. */
unsigned int cli_isa_max_size(CliIsa isa);

/*
 * Disassemble the instruction in the @len bytes of @buf, at address
 * @addr, of @isa in byte order @big.  False if the bytes are not an
 * instruction, or there is no disassembler for @isa (insn->size 0).
 */
bool cli_disas_one(CliIsa isa, bool big, uint64_t addr, const uint8_t *buf,
                   size_t len, CliInsn *insn);

/* Free what the disassembler holds. */
void cli_disas_close(void);

#endif
