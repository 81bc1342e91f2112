/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: a small reader of ELF files (ELF32 and ELF64, little- and
 * big-endian) for symbols and loadable segments.  No MCD in here.
 */

#ifndef CLI_ELF_H
#define CLI_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* e_machine values that mcd-cli knows */
#define CLI_EM_68K      4
#define CLI_EM_ARM      40
#define CLI_EM_AARCH64  183

typedef struct CliSym {
    uint64_t addr;              /* the value; bit 0 cleared for Thumb */
    uint64_t size;
    const char *name;           /* points into the file's string table */
    uint8_t type;               /* STT_* */
    uint8_t bind;               /* STB_* */
    bool thumb;                 /* an ARM Thumb function (value bit 0) */
    bool abs;                   /* SHN_ABS: a constant, not an address */
} CliSym;

typedef struct CliSeg {
    uint64_t offset;            /* in the file */
    uint64_t vaddr;
    uint64_t paddr;             /* the load address */
    uint64_t filesz;
    uint64_t memsz;
    uint32_t flags;             /* PF_X 1, PF_W 2, PF_R 4 */
} CliSeg;

typedef struct CliElf CliElf;

/*
 * Read the ELF file @path whole.  Returns NULL and a message in @err
 * (of @errsize bytes) if it cannot be read or is not an ELF file.
 */
CliElf *cli_elf_open(const char *path, char *err, size_t errsize);
void cli_elf_free(CliElf *elf);

const char *cli_elf_path(const CliElf *elf);
uint16_t cli_elf_machine(const CliElf *elf);
/* "AArch64", "ARM", "m68k" or "machine N" */
const char *cli_elf_machine_name(const CliElf *elf);
bool cli_elf_is64(const CliElf *elf);
bool cli_elf_big_endian(const CliElf *elf);
uint64_t cli_elf_entry(const CliElf *elf);

/* The loadable (PT_LOAD) segments, in file order. */
size_t cli_elf_n_segs(const CliElf *elf);
const CliSeg *cli_elf_seg(const CliElf *elf, size_t i);
/* The bytes of segment @seg in the file (filesz of them). */
const uint8_t *cli_elf_seg_data(const CliElf *elf, const CliSeg *seg);

/* The symbols with names, sorted by address. */
size_t cli_elf_n_syms(const CliElf *elf);
const CliSym *cli_elf_sym(const CliElf *elf, size_t i);

/* The symbol called @name: a global one before a local one; or NULL. */
const CliSym *cli_elf_find(const CliElf *elf, const char *name);

/*
 * The symbol that @addr belongs to: the nearest one at or below it in
 * the same section (or segment, without section headers), and the
 * offset of @addr in it.  Constants (SHN_ABS) are not addresses.
 */
const CliSym *cli_elf_lookup(const CliElf *elf, uint64_t addr,
                             uint64_t *offset);

/*
 * What the ARM mapping symbols ($a, $t, $x, $d) say about @addr: 'a'
 * ARM code, 't' Thumb code, 'x' A64 code, 'd' data, or 0 if none does.
 */
char cli_elf_mapping(const CliElf *elf, uint64_t addr);

#endif
