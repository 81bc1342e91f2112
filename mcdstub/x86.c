/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: the x86 description (i386 and x86_64 CPUs).
 *
 * Memory spaces: "Linear", logical, translated by the paging of the
 * mode the CPU is in now (none, 32-bit, PAE, 4- or 5-level; in SMM
 * through the SMM view); "Physical", the CPU's view of system memory;
 * "SMRAM", the view of System Management Mode (system memory with SMRAM
 * mapped in) where the machine has SMRAM; then "GPR Registers".
 *
 * Addresses of breakpoints, watchpoints and stop records are linear
 * (CS base + EIP for code), as the CPU fetches them; the eip/rip
 * register is the offset in CS.
 *
 * Registers come from gdbstub's core feature, split into the groups a
 * debugger shows: general, segment, control (cr0, cr2, cr3, cr4, cr8,
 * efer), FPU and SSE.  Writes go through the CPU's own update functions
 * (a cr0 write switches modes and flushes the TLB, as a mov to cr0
 * would).  The MSRs gdbstub gives are efer and the fs, gs and kernel gs
 * bases.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qom/object.h"
#include "exec/memory.h"
#include "cpu.h"
#include "arch.h"

/* arch_flags of the memory spaces: the address space index, or this */
#define X86_MS_LINEAR   (1 << 8)

static void x86_add_memspaces(MCDCore *core, CPUState *cs,
                              uint32_t *gpr_space, uint32_t *sys_space)
{
    mcd_add_memspace(core, "Linear",
                     MCD_MEM_SPACE_IS_LOGICAL | MCD_MEM_SPACE_IS_PROGRAM,
                     X86_MS_LINEAR);
    mcd_add_memspace(core, "Physical",
                     MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM,
                     X86ASIdx_MEM);
    if (cs->num_ases > X86ASIdx_SMM &&
        object_resolve_path("/machine/smram", NULL)) {
        mcd_add_memspace(core, "SMRAM",
                         MCD_MEM_SPACE_IS_PHYSICAL |
                         MCD_MEM_SPACE_IS_PROGRAM |
                         MCD_MEM_SPACE_IS_SECURE, X86ASIdx_SMM);
    }
    *gpr_space = mcd_add_memspace(core, "GPR Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
    *sys_space = *gpr_space;
}

static const char *const x86_segment_regs[] = {
    "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "k_gs_base",
};

static const char *const x86_control_regs[] = {
    "cr0", "cr2", "cr3", "cr4", "cr8", "efer",
};

static bool x86_reg_in(const char *reg, const char *const *names, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (g_str_equal(reg, names[i])) {
            return true;
        }
    }
    return false;
}

static const char *x86_group_name(const char *feature, const char *reg)
{
    if (!g_str_equal(feature, "org.gnu.gdb.i386.core")) {
        return NULL;
    }
    if (x86_reg_in(reg, x86_segment_regs, ARRAY_SIZE(x86_segment_regs))) {
        return "Segment Registers";
    }
    if (x86_reg_in(reg, x86_control_regs, ARRAY_SIZE(x86_control_regs))) {
        return "Control Registers";
    }
    if (reg[0] == 'f' || g_str_has_prefix(reg, "st")) {
        return "FPU Registers";
    }
    if (g_str_has_prefix(reg, "xmm") || g_str_equal(reg, "mxcsr")) {
        return "SSE Registers";
    }
    return "General Registers";
}

#ifdef TARGET_X86_64
/* gdb numbers of qemu-system-x86_64's registers */
#define X86_GDB_R8          8
#define X86_GDB_R15         15
#define X86_GDB_RIP         16
#define X86_GDB_FS_BASE     24
#define X86_GDB_EFER        32

/*
 * Outside 64-bit mode gdbstub writes the low 32 bits of the general
 * registers, rip, the bases and the control registers, and drops writes
 * to r8-r15: refuse what would not be written as given.
 */
static bool x86_check_write(CPUState *cs, int id, const uint8_t *data,
                            size_t len, Error **errp)
{
    CPUX86State *env = cpu_env(cs);
    bool wide = id <= X86_GDB_RIP ||
                (id >= X86_GDB_FS_BASE && id <= X86_GDB_EFER);

    if ((env->hflags & HF_CS64_MASK) || !wide || len != 8) {
        return true;
    }
    if (id >= X86_GDB_R8 && id <= X86_GDB_R15) {
        error_setg(errp, "r%d exists in 64-bit mode only", id);
        return false;
    }
    if (ldq_le_p(data) > UINT32_MAX) {
        error_setg(errp, "0x%" PRIx64 " does not fit: the register has 32 "
                   "bits outside 64-bit mode", ldq_le_p(data));
        return false;
    }
    return true;
}
#endif

static uint32_t x86_access_memory(CPUState *cs, const MCDMemSpace *ms,
                                  uint64_t addr, uint8_t *buf, size_t len,
                                  bool is_write, uint32_t options,
                                  Error **errp)
{
    CPUX86State *env = cpu_env(cs);
    MemTxAttrs attrs = {};

    if (ms->arch_flags & X86_MS_LINEAR) {
        /* without long mode, linear addresses have 32 bits */
        if (!(env->hflags & HF_LMA_MASK) && len &&
            addr + len - 1 > UINT32_MAX) {
            error_setg(errp, "0x%" PRIx64 " is beyond the 32-bit linear "
                       "address space", addr + len - 1);
            return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
        }
        return mcd_access_logical(cs, ms, mcd_translate_current, addr, buf,
                                  len, is_write, options, errp);
    }
    attrs.secure = ms->arch_flags == X86ASIdx_SMM;
    return mcd_access_physical(cs, cpu_get_address_space(cs, ms->arch_flags),
                               attrs, addr, buf, len, is_write, options,
                               errp);
}

static const MCDArchOps x86_mcd_ops = {
    .cpu_type = TYPE_X86_CPU,
    .add_memspaces = x86_add_memspaces,
    .group_name = x86_group_name,
    .access_memory = x86_access_memory,
#ifdef TARGET_X86_64
    .check_write = x86_check_write,
#endif
};

static void x86_mcd_register(void)
{
    mcd_arch_register(&x86_mcd_ops);
}

type_init(x86_mcd_register)
