/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: the ARM A/R-profile description (AArch32 and AArch64).
 *
 * Memory spaces: with EL3 (TrustZone) "Secure", "Non Secure",
 * "Physical (Secure)", "Physical (Non Secure)", without it the
 * non-secure pair only, then "GPR Registers" and the system register
 * space ("CP15 Registers" for AArch32 CPUs, "CP Registers" for AArch64
 * ones); the era-1 client finds the register spaces by the words "GPR"
 * and "CP" in their names.
 *
 * System register opcodes (the "opcode" field of the register records):
 *   AArch32: opc1 << 14 | opc2 << 10 | CRm << 7 | CRn << 3, plus
 *            bit 0 for 64-bit (MCRR/MRRC) registers, bit 1 for CP14
 *            and bit 2 for the Secure copy of a banked register
 *   AArch64: op0 << 19 | op1 << 16 | CRn << 12 | CRm << 8 | op2 << 5,
 *            the operand field of MRS and MSR
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "exec/memory.h"
#include "cpu.h"
#include "target/arm/cpregs.h"
#include "target/arm/internals.h"
#include "arch.h"

#define ARM_SYSREG_FEATURE "org.qemu.gdb.arm.sys.regs"

/* arch_flags of the memory spaces */
#define ARM_MS_LOGICAL  (1 << 0)
#define ARM_MS_SECURE   (1 << 1)

#define ARM_MS_LOGICAL_TYPE \
    (MCD_MEM_SPACE_IS_LOGICAL | MCD_MEM_SPACE_IS_PROGRAM)
#define ARM_MS_PHYS_TYPE \
    (MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM)

static void arm_add_memspaces(MCDCore *core, CPUState *cs,
                              uint32_t *gpr_space, uint32_t *sys_space)
{
    CPUARMState *env = cpu_env(cs);
    bool el3 = arm_feature(env, ARM_FEATURE_EL3);
    bool aa64 = arm_feature(env, ARM_FEATURE_AARCH64);

    if (arm_feature(env, ARM_FEATURE_M)) {
        /* no MMU: the physical spaces only */
        el3 = arm_feature(env, ARM_FEATURE_M_SECURITY);
        if (el3) {
            mcd_add_memspace(core, "Physical (Secure)", ARM_MS_PHYS_TYPE,
                             ARM_MS_SECURE);
        }
        mcd_add_memspace(core, "Physical (Non Secure)", ARM_MS_PHYS_TYPE, 0);
        *gpr_space = mcd_add_memspace(core, "GPR Registers",
                                      MCD_MEM_SPACE_IS_REGISTERS, 0);
        *sys_space = *gpr_space;
        return;
    }
    if (el3) {
        mcd_add_memspace(core, "Secure", ARM_MS_LOGICAL_TYPE,
                         ARM_MS_LOGICAL | ARM_MS_SECURE);
    }
    mcd_add_memspace(core, "Non Secure", ARM_MS_LOGICAL_TYPE, ARM_MS_LOGICAL);
    if (el3) {
        mcd_add_memspace(core, "Physical (Secure)", ARM_MS_PHYS_TYPE,
                         ARM_MS_SECURE);
    }
    mcd_add_memspace(core, "Physical (Non Secure)", ARM_MS_PHYS_TYPE, 0);
    *gpr_space = mcd_add_memspace(core, "GPR Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
    *sys_space = mcd_add_memspace(core, aa64 ? "CP Registers"
                                             : "CP15 Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
}

static const struct {
    const char *feature;
    const char *group;
} arm_groups[] = {
    /* first: most registers are system registers */
    { ARM_SYSREG_FEATURE, "System Registers" },
    { "org.gnu.gdb.arm.core", "Core Registers" },
    { "org.gnu.gdb.aarch64.core", "Core Registers" },
    { "org.gnu.gdb.arm.vfp", "VFP Registers" },
    { "org.gnu.gdb.arm.neon", "NEON Registers" },
    { "org.gnu.gdb.aarch64.fpu", "FP/SIMD Registers" },
    { "org.gnu.gdb.aarch64.sve", "SVE Registers" },
    { "org.gnu.gdb.arm.vfp-sysregs", "VFP System Registers" },
    { "org.gnu.gdb.aarch64.pauth", "Pointer Authentication" },
    { "org.gnu.gdb.aarch64.pauth_v2", "Pointer Authentication" },
    { "org.gnu.gdb.aarch64.mte", "MTE Registers" },
};

static const char *arm_group_name(const char *feature, const char *reg)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(arm_groups); i++) {
        if (g_str_equal(feature, arm_groups[i].feature)) {
            return arm_groups[i].group;
        }
    }
    return NULL;
}

static const ARMCPRegInfo *arm_sysreg_info(ARMCPU *cpu, int index)
{
    uint32_t key = cpu->dyn_sysreg_feature.data.cpregs.keys[index];

    return get_arm_cp_reginfo(cpu->cp_regs, key);
}

static uint32_t arm_sysreg_opcode(const ARMCPRegInfo *ri)
{
    uint32_t op;

    if (ri->state == ARM_CP_STATE_AA64) {
        return ri->opc0 << 19 | ri->opc1 << 16 | ri->crn << 12 |
               ri->crm << 8 | ri->opc2 << 5;
    }
    op = ri->opc1 << 14 | ri->opc2 << 10 | ri->crm << 7 | ri->crn << 3;
    if (ri->type & ARM_CP_64BIT) {
        op |= 1 << 0;
    }
    if (ri->cp == 14) {
        op |= 1 << 1;
    }
    if (ri->secure & ARM_CP_SECSTATE_S) {
        op |= 1 << 2;
    }
    return op;
}

static bool arm_sysreg(CPUState *cs, const char *feature, int index,
                       uint32_t *opcode)
{
    const ARMCPRegInfo *ri;

    if (!g_str_equal(feature, ARM_SYSREG_FEATURE)) {
        return false;
    }
    ri = arm_sysreg_info(ARM_CPU(cs), index);
    *opcode = ri ? arm_sysreg_opcode(ri) : 0;
    return true;
}

/*
 * gdbstub does not write system registers.  Write them as the guest's
 * MSR/MCR would, with the register's write function and its side
 * effects, but without the access checks of the current exception level:
 * the debugger is privileged.  Constant and read-only registers refuse.
 */
static uint32_t arm_write_sysreg(CPUState *cs, int index, const uint8_t *data,
                                 size_t len, Error **errp)
{
    ARMCPU *cpu = ARM_CPU(cs);
    CPUARMState *env = &cpu->env;
    const ARMCPRegInfo *ri = arm_sysreg_info(cpu, index);
    uint64_t value;

    if (!ri) {
        error_setg(errp, "no system register %d", index);
        return MCD_ERR_TXLIST_WRITE;
    }
    if ((ri->type & (ARM_CP_CONST | ARM_CP_NO_RAW | ARM_CP_SPECIAL_MASK)) ||
        !(ri->access & PL3_W)) {
        error_setg(errp, "system register %s is read-only", ri->name);
        return MCD_ERR_TXLIST_WRITE;
    }
    value = len == 8 ? ldq_p(data) : ldl_p(data);
    if (ri->writefn) {
        ri->writefn(env, ri, value);
    } else if (cpreg_field_is_64bit(ri)) {
        CPREG_FIELD64(env, ri) = value;
    } else {
        CPREG_FIELD32(env, ri) = value;
    }
    arm_rebuild_hflags(env);
    return MCD_ERR_NONE;
}

/*
 * The translation regime of a logical access in the requested security
 * state, whose translation registers the core holds now:
 * - the core is in that state (EL3 counts as Secure): the regime it uses
 *   now, at its current EL;
 * - AArch32 EL3, where the PL1&0 registers are banked: the other state's
 *   PL1&0 regime (Secure PL1 is EL3 then);
 * - AArch64 EL3, Secure asked from Non-secure: EL3's own regime, the
 *   only Secure one whose registers are not shared with Non-secure (in
 *   Root state with RME);
 * - AArch64 EL3, Non-secure asked from Secure or Realm: the EL1&0 regime
 *   when the core is at EL3 about to return to Non-secure (SCR_EL3.NS
 *   set, NSE clear), else an error: the EL1 registers hold another
 *   world's tables.  SCR_EL3.NS is the monitor's promise, not a proof:
 *   a monitor that switches the EL1 registers after setting it shows
 *   the Secure world's tables in between.
 * The space is the security state of the walk.
 */
static bool arm_debug_regime(CPUARMState *env, bool secure,
                             ARMMMUIdx *mmu_idx, ARMSecuritySpace *space,
                             Error **errp)
{
    ARMSecuritySpace cur = arm_security_space(env);
    uint64_t scr = env->cp15.scr_el3;

    if (cur == (secure ? ARMSS_Secure : ARMSS_NonSecure) ||
        (secure && cur == ARMSS_Root)) {
        *mmu_idx = arm_mmu_idx(env);
        *space = cur;
        return true;
    }
    if (!arm_el_is_aa64(env, 3)) {
        *mmu_idx = secure ? ARMMMUIdx_E3 : ARMMMUIdx_E10_1;
        *space = secure ? ARMSS_Secure : ARMSS_NonSecure;
        return true;
    }
    if (secure) {
        /* EL3 is in Root state with RME */
        *mmu_idx = ARMMMUIdx_E3;
        *space = cpu_isar_feature(aa64_rme, env_archcpu(env)) ?
                 ARMSS_Root : ARMSS_Secure;
        return true;
    }
    if (arm_current_el(env) == 3 && (scr & (SCR_NS | SCR_NSE)) == SCR_NS) {
        *mmu_idx = ARMMMUIdx_E10_1;
        *space = ARMSS_NonSecure;
        return true;
    }
    error_setg(errp, "the core is in %s EL%d: the EL1 translation "
               "registers do not hold the Non-secure world's tables",
               cur == ARMSS_Realm ? "Realm" : "Secure", arm_current_el(env));
    error_append_hint(errp, "Read the Non Secure space while the core is in "
                      "Non-secure state, or use Physical (Non Secure).\n");
    return false;
}

static hwaddr arm_translate(CPUState *cs, const MCDMemSpace *ms,
                            uint64_t page, MemTxAttrs *attrs)
{
    CPUARMState *env = cpu_env(cs);
    bool secure = ms->arch_flags & ARM_MS_SECURE;
    ARMSecuritySpace space;
    ARMMMUIdx mmu_idx;

    if (!arm_debug_regime(env, secure, &mmu_idx, &space, NULL)) {
        return -1;
    }
    return arm_get_phys_addr_debug(env, page, mmu_idx, space, attrs);
}

static uint32_t arm_access_memory(CPUState *cs, const MCDMemSpace *ms,
                                  uint64_t addr, uint8_t *buf, size_t len,
                                  bool is_write, uint32_t options,
                                  Error **errp)
{
    CPUARMState *env = cpu_env(cs);
    bool secure = ms->arch_flags & ARM_MS_SECURE;
    ARMSecuritySpace space;
    ARMMMUIdx mmu_idx;

    if (!(ms->arch_flags & ARM_MS_LOGICAL)) {
        MemTxAttrs attrs = {
            .secure = secure,
            .space = secure ? ARMSS_Secure : ARMSS_NonSecure,
        };

        return mcd_access_physical(cs, cpu_get_address_space(cs,
                                       secure ? ARMASIdx_S : ARMASIdx_NS),
                                   attrs, addr, buf, len, is_write, options,
                                   errp);
    }

    /* AArch32 regimes have 32-bit virtual addresses */
    if (!arm_feature(env, ARM_FEATURE_AARCH64) &&
        addr + len - 1 > UINT32_MAX && len) {
        error_setg(errp, "0x%" PRIx64 " is beyond the 32-bit address space",
                   addr + len - 1);
        return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
    }

    if (!arm_debug_regime(env, secure, &mmu_idx, &space, errp)) {
        return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
    }

    /*
     * A debug walk: it has no side effects on the TLB or the page
     * tables, and a write through a read-only mapping is allowed, as a
     * debugger expects.
     */
    return mcd_access_logical(cs, ms, arm_translate, addr, buf, len,
                              is_write, options, errp);
}

/*
 * An AArch64 CPU executing AArch32 code keeps its registers in the
 * AArch32 view; gdbstub reads and writes the AArch64 view (X0-X30, PC).
 * Copy between the two as an exception between the states would.  After
 * a write, the cached translation flags follow the new state (PSTATE).
 */
static void arm_sync_registers(CPUState *cs, bool to_cpu)
{
    CPUARMState *env = cpu_env(cs);
    bool aa32_view = arm_feature(env, ARM_FEATURE_AARCH64) && !is_a64(env);

    if (!to_cpu) {
        if (aa32_view) {
            aarch64_sync_32_to_64(env);
        }
        return;
    }
    if (aa32_view) {
        aarch64_sync_64_to_32(env);
    }
    arm_rebuild_hflags(env);
}

static const MCDArchOps arm_mcd_ops = {
    .cpu_type = TYPE_ARM_CPU,
    .add_memspaces = arm_add_memspaces,
    .group_name = arm_group_name,
    .sysreg = arm_sysreg,
    .write_sysreg = arm_write_sysreg,
    .access_memory = arm_access_memory,
    .sync_registers = arm_sync_registers,
};

static void arm_mcd_register(void)
{
    mcd_arch_register(&arm_mcd_ops);
}

type_init(arm_mcd_register)
