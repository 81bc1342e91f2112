/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake MCD stub core (mcdstub/core.h) for testing and fuzzing the
 * protocol layer without QEMU's CPUs.
 *
 * Core 0 has two memory spaces, two register groups and three registers;
 * core 1 has empty lists; there is no core 2.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "mcdstub/core.h"
#include "mcd-fake-core.h"

unsigned mcd_fake_detach_count;

static const MCDResetClass fake_resets[] = {
    { 0, "full_system_reset" },
    { 1, "gpr_reset" },
};

static const MCDMemSpace fake_memspaces[] = {
    { 1, "Physical", MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM,
      8, 1, MCD_ENDIAN_LITTLE, 0, UINT64_MAX, 0 },
    { 2, "GPR Registers", MCD_MEM_SPACE_IS_REGISTERS,
      8, 1, MCD_ENDIAN_LITTLE, 0, UINT64_MAX, 0 },
};

static const MCDRegister fake_regs[] = {
    { 0, "r0", 32, 1, 2, 0 },
    { 15, "pc", 32, 1, 2, 0 },
    { 100, "sys.reg", 64, 2, 2, 0x1234 },
};

MCDSystemInfo *mcd_system_info(void)
{
    MCDSystemInfo *info = g_new0(MCDSystemInfo, 1);

    info->device = g_strdup("fake-1.0");
    info->core_model = g_strdup("fake-cpu");
    info->nr_cores = MCD_FAKE_NR_CORES;
    return info;
}

const MCDResetClass *mcd_reset_classes(size_t *count)
{
    *count = ARRAY_SIZE(fake_resets);
    return fake_resets;
}

MCDCore *mcd_core_open(uint32_t index, Error **errp)
{
    MCDCore *core;
    MCDRegGroup g;

    if (index >= MCD_FAKE_NR_CORES) {
        error_setg(errp, "no core %" PRIu32, index);
        return NULL;
    }
    core = mcd_core_new(index);
    if (index == 0) {
        g_array_append_vals(core->memspaces, fake_memspaces,
                            ARRAY_SIZE(fake_memspaces));
        g = (MCDRegGroup) { 1, g_strdup("core") };
        g_array_append_val(core->reggroups, g);
        g = (MCDRegGroup) { 2, g_strdup("system") };
        g_array_append_val(core->reggroups, g);
        g_array_append_vals(core->regs, fake_regs, ARRAY_SIZE(fake_regs));
    }
    return core;
}

void mcd_target_detach(void)
{
    mcd_fake_detach_count++;
}
