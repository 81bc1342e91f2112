/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: the RISC-V description (RV32 and RV64 harts).
 *
 * Memory spaces: "Supervisor" and "User", logical, the views of a load
 * in S-mode (with SUM: a supervisor debugger sees user pages too) and in
 * U-mode through satp's page tables, when the hart has S-mode; then
 * "Physical", which is also what M-mode sees; then "GPR Registers" and
 * "CSR Registers".  The walks read the page tables as the hart's own
 * walk would, PMP checks included; the accesses they lead to, and the
 * physical ones, are not checked against the PMP.
 *
 * Registers come from gdbstub: the integer registers with the ABI names
 * gdb gives them (zero, ra, sp...), pc, the FPU registers, "priv" (the
 * privilege level, writable) and the CSRs.  A CSR's opcode is its CSR
 * number; writes go through the CSR's write function, as the guest's
 * csrw would, with the checks of a debugger's access.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "exec/memory.h"
#include "cpu.h"
#include "target/riscv/internals.h"
#include "arch.h"

#define RISCV_CSR_FEATURE "org.gnu.gdb.riscv.csr"

/* arch_flags of the memory spaces: a logical one has its mmu_idx + 1 */
#define RISCV_MS_MMU_IDX(flags)    ((int)(flags) - 1)

static void riscv_add_memspaces(MCDCore *core, CPUState *cs,
                                uint32_t *gpr_space, uint32_t *sys_space)
{
    CPURISCVState *env = cpu_env(cs);
    uint32_t logical = MCD_MEM_SPACE_IS_LOGICAL | MCD_MEM_SPACE_IS_PROGRAM;

    if (riscv_has_ext(env, RVS)) {
        mcd_add_memspace(core, "Supervisor", logical, MMUIdx_S_SUM + 1);
        mcd_add_memspace(core, "User", logical, MMUIdx_U + 1);
    }
    mcd_add_memspace(core, "Physical",
                     MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM, 0);
    *gpr_space = mcd_add_memspace(core, "GPR Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
    *sys_space = mcd_add_memspace(core, "CSR Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
}

static const struct {
    const char *feature;
    const char *group;
} riscv_groups[] = {
    { "org.gnu.gdb.riscv.cpu", "Core Registers" },
    { "org.gnu.gdb.riscv.fpu", "FPU Registers" },
    { "org.gnu.gdb.riscv.vector", "Vector Registers" },
    { "org.gnu.gdb.riscv.virtual", "Privilege" },
    { RISCV_CSR_FEATURE, "CSR Registers" },
};

static const char *riscv_group_name(const char *feature,
                                    const char *reg)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(riscv_groups); i++) {
        if (g_str_equal(feature, riscv_groups[i].feature)) {
            return riscv_groups[i].group;
        }
    }
    return NULL;
}

/* The CSR feature numbers its registers by CSR number. */
static bool riscv_sysreg(CPUState *cs, const char *feature, int index,
                         uint32_t *opcode)
{
    if (!g_str_equal(feature, RISCV_CSR_FEATURE)) {
        return false;
    }
    *opcode = index;
    return true;
}

static hwaddr riscv_translate(CPUState *cs, const MCDMemSpace *ms,
                              uint64_t page, MemTxAttrs *attrs)
{
    return riscv_cpu_get_phys_addr_debug(cpu_env(cs), page,
                                         RISCV_MS_MMU_IDX(ms->arch_flags));
}

static uint32_t riscv_access_memory(CPUState *cs, const MCDMemSpace *ms,
                                    uint64_t addr, uint8_t *buf, size_t len,
                                    bool is_write, uint32_t options,
                                    Error **errp)
{
    CPURISCVState *env = cpu_env(cs);
    uint32_t err = is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;

    if (!(ms->type & MCD_MEM_SPACE_IS_LOGICAL)) {
        return mcd_access_physical(cs, cpu_get_address_space(cs, 0),
                                   MEMTXATTRS_UNSPECIFIED, addr, buf, len,
                                   is_write, options, errp);
    }
    if (riscv_cpu_mxl(env) == MXL_RV32 && len &&
        addr + len - 1 > UINT32_MAX) {
        error_setg(errp, "0x%" PRIx64 " is beyond the 32-bit address space",
                   addr + len - 1);
        return err;
    }
    /*
     * While the hart runs a virtual machine (V=1), satp holds the
     * guest's (vsatp): the supervisor's tables are not where the walk
     * would look.
     */
    if (env->virt_enabled) {
        error_setg(errp, "the hart runs a virtual machine (V=1): its "
                   "%s tables are swapped out", ms->name);
        return err;
    }
    return mcd_access_logical(cs, ms, riscv_translate, addr, buf, len,
                              is_write, options, errp);
}

static const MCDArchOps riscv_mcd_ops = {
    .cpu_type = TYPE_RISCV_CPU,
    .add_memspaces = riscv_add_memspaces,
    .group_name = riscv_group_name,
    .sysreg = riscv_sysreg,
    .access_memory = riscv_access_memory,
};

static void riscv_mcd_register(void)
{
    mcd_arch_register(&riscv_mcd_ops);
}

type_init(riscv_mcd_register)
