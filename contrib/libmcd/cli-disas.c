/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: disassembly with capstone (BSD licensed), or none when
 * mcd-cli is built without it (CLI_HAVE_CAPSTONE undefined).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli-disas.h"

#ifdef CLI_HAVE_CAPSTONE
#include <capstone/capstone.h>
#endif

const char *cli_isa_name(CliIsa isa)
{
    switch (isa) {
    case CLI_ISA_A64:
        return "AArch64";
    case CLI_ISA_ARM:
        return "ARM";
    case CLI_ISA_THUMB:
        return "Thumb";
    case CLI_ISA_M68K:
        return "m68k";
    default:
        return "none";
    }
}

unsigned int cli_isa_min_size(CliIsa isa)
{
    return isa == CLI_ISA_THUMB || isa == CLI_ISA_M68K ? 2 : 4;
}

unsigned int cli_isa_max_size(CliIsa isa)
{
    return isa == CLI_ISA_M68K ? 10 : 4;
}

#ifdef CLI_HAVE_CAPSTONE

/* a handle per ISA and byte order, opened when first needed */
static struct {
    bool tried;
    bool ok;
    csh handle;
} handles[CLI_ISA_M68K + 1][2];

static bool open_handle(CliIsa isa, bool big, csh *handle)
{
    cs_arch arch;
    cs_mode mode = big ? CS_MODE_BIG_ENDIAN : CS_MODE_LITTLE_ENDIAN;

    if (handles[isa][big].tried) {
        *handle = handles[isa][big].handle;
        return handles[isa][big].ok;
    }
    handles[isa][big].tried = true;
    switch (isa) {
    case CLI_ISA_A64:
        arch = CS_ARCH_ARM64;
        break;
    case CLI_ISA_ARM:
        arch = CS_ARCH_ARM;
        mode |= CS_MODE_ARM;
        break;
    case CLI_ISA_THUMB:
        arch = CS_ARCH_ARM;
        mode |= CS_MODE_THUMB;
        break;
    case CLI_ISA_M68K:
        arch = CS_ARCH_M68K;
        mode |= CS_MODE_M68K_040;
        break;
    default:
        return false;
    }
    if (cs_open(arch, mode, &handles[isa][big].handle) != CS_ERR_OK) {
        return false;
    }
    handles[isa][big].ok = true;
    *handle = handles[isa][big].handle;
    return true;
}

bool cli_disas_available(void)
{
    return true;
}

const char *cli_disas_version(void)
{
    static char text[32];
    int major = 0, minor = 0;

    cs_version(&major, &minor);
    snprintf(text, sizeof(text), "capstone %d.%d", major, minor);
    return text;
}

/*
 * The address an instruction refers to, a branch target or a
 * pc-relative one: its operands end in "#0x40200000" (ARM) or
 * "$40200000" (m68k).  The caller shows it only if a symbol has it.
 */
static bool branch_target(const char *ops, uint64_t *target)
{
    const char *p = ops + strlen(ops);
    char *end;

    while (p > ops && strchr("0123456789abcdefABCDEFx", p[-1])) {
        p--;
    }
    if (p == ops + strlen(ops)) {
        return false;
    }
    if (p > ops && p[-1] == '$') {
        *target = strtoull(p, &end, 16);
        return *end == '\0';
    }
    if (p > ops && p[-1] == '#' && strncmp(p, "0x", 2) == 0) {
        *target = strtoull(p + 2, &end, 16);
        return *end == '\0';
    }
    return false;
}

bool cli_disas_one(CliIsa isa, bool big, uint64_t addr, const uint8_t *buf,
                   size_t len, CliInsn *insn)
{
    cs_insn *ci = NULL;
    csh handle;
    size_t n;

    memset(insn, 0, sizeof(*insn));
    if (!open_handle(isa, big, &handle)) {
        return false;
    }
    n = cs_disasm(handle, buf, len, addr, 1, &ci);
    if (n != 1) {
        return false;
    }
    insn->size = ci->size;
    snprintf(insn->mnemonic, sizeof(insn->mnemonic), "%s", ci->mnemonic);
    snprintf(insn->operands, sizeof(insn->operands), "%s", ci->op_str);
    /* branches, calls, pc-relative addresses: an address at the end */
    insn->has_target = branch_target(insn->operands, &insn->target);
    cs_free(ci, n);
    return true;
}

void cli_disas_close(void)
{
    unsigned int i, j;

    for (i = 0; i <= CLI_ISA_M68K; i++) {
        for (j = 0; j < 2; j++) {
            if (handles[i][j].ok) {
                cs_close(&handles[i][j].handle);
            }
            handles[i][j].tried = handles[i][j].ok = false;
        }
    }
}

#else /* !CLI_HAVE_CAPSTONE */

bool cli_disas_available(void)
{
    return false;
}

const char *cli_disas_version(void)
{
    return "none";
}

bool cli_disas_one(CliIsa isa, bool big, uint64_t addr, const uint8_t *buf,
                   size_t len, CliInsn *insn)
{
    (void)isa, (void)big, (void)addr, (void)buf, (void)len;
    memset(insn, 0, sizeof(*insn));
    return false;
}

void cli_disas_close(void)
{
}

#endif
