/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core: the objects of the model, independent of QEMU's CPUs.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "core.h"

bool mcd_accel_usable(const char *accel, Error **errp)
{
    if (g_str_equal(accel, "tcg")) {
        return true;
    }
    error_setg(errp, "mcdstub: the %s accelerator is not supported", accel);
    error_append_hint(errp, "The MCD stub's breakpoints, watchpoints and "
                      "single steps need TCG: use -accel tcg.\n");
    return false;
}

MCDCore *mcd_core_new(uint32_t index)
{
    MCDCore *core = g_new0(MCDCore, 1);

    core->index = index;
    core->memspaces = g_array_new(false, true, sizeof(MCDMemSpace));
    core->reggroups = g_array_new(false, true, sizeof(MCDRegGroup));
    core->regs = g_array_new(false, true, sizeof(MCDRegister));
    return core;
}

void mcd_core_close(MCDCore *core)
{
    size_t i;

    if (!core) {
        return;
    }
    mcd_core_remove_triggers(core);
    for (i = 0; i < core->reggroups->len; i++) {
        g_free(g_array_index(core->reggroups, MCDRegGroup, i).name);
    }
    g_array_free(core->memspaces, true);
    g_array_free(core->reggroups, true);
    if (core->reg_index) {
        g_hash_table_destroy(core->reg_index);
    }
    g_array_free(core->regs, true);
    g_free(core);
}

void mcd_system_info_free(MCDSystemInfo *info)
{
    if (info) {
        g_free(info->device);
        g_free(info->core_model);
        g_free(info);
    }
}

const MCDRegister *mcd_core_find_register_by_id(MCDCore *core, uint64_t id)
{
    MCDRegister *r;
    size_t i;

    if (!core->reg_index) {
        core->reg_index = g_hash_table_new(g_int64_hash, g_int64_equal);
        for (i = 0; i < core->regs->len; i++) {
            r = &g_array_index(core->regs, MCDRegister, i);
            g_hash_table_insert(core->reg_index, &r->id, r);
        }
    }
    return g_hash_table_lookup(core->reg_index, &id);
}

const MCDMemSpace *mcd_core_find_memspace(MCDCore *core, uint32_t id)
{
    /* ids are contiguous from 1 */
    if (id == 0 || id > core->memspaces->len) {
        return NULL;
    }
    return &g_array_index(core->memspaces, MCDMemSpace, id - 1);
}
