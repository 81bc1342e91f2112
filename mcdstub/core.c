/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core on top of QEMU: machine, CPUs, address spaces and the
 * gdbstub register API.
 *
 * The memory spaces and register groups built here are the generic
 * ones: the physical address spaces of the CPU and one register group
 * per gdb feature.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "exec/gdbstub.h"
#include "exec/tswap.h"
#include "qemu/cutils.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "core.h"
#include "trace.h"

/* The id of the first register memory space follows the memory ones. */
#define MCD_REGS_MEMSPACE_NAME "GPR Registers"

static const MCDResetClass mcd_resets[] = {
    { 0, "full_system_reset" },
};

MCDSystemInfo *mcd_system_info(void)
{
    MachineClass *mc = MACHINE_GET_CLASS(current_machine);
    MCDSystemInfo *info = g_new0(MCDSystemInfo, 1);
    CPUState *cpu;

    info->device = g_strdup(mc->alias ?: mc->name);
    info->core_model = g_strdup(first_cpu ?
                                object_get_typename(OBJECT(first_cpu)) : "");
    CPU_FOREACH(cpu) {
        info->nr_cores++;
    }
    return info;
}

const MCDResetClass *mcd_reset_classes(size_t *count)
{
    *count = ARRAY_SIZE(mcd_resets);
    return mcd_resets;
}

static void add_memspace(MCDCore *core, const char *name, uint32_t type)
{
    MCDMemSpace ms = {
        .id = core->memspaces->len + 1,
        .name = name,
        .type = type,
        .bits_per_mau = 8,
        .invariance = 1,
        .endian = target_words_bigendian() ? MCD_ENDIAN_BIG
                                           : MCD_ENDIAN_LITTLE,
        .min_addr = 0,
        .max_addr = UINT64_MAX,
    };

    g_array_append_val(core->memspaces, ms);
}

/* The id of the register group for @feature, adding it if it is new. */
static uint32_t reggroup_id(MCDCore *core, const char *feature)
{
    g_autofree char *name = NULL;
    const char *short_name = feature;
    MCDRegGroup group;
    size_t i;

    /* "org.gnu.gdb.arm.core" -> "arm core" */
    if (!strstart(feature, "org.gnu.gdb.", &short_name)) {
        strstart(feature, "org.qemu.gdb.", &short_name);
    }
    name = g_strdelimit(g_strdup(short_name), ".", ' ');
    for (i = 0; i < core->reggroups->len; i++) {
        MCDRegGroup *g = &g_array_index(core->reggroups, MCDRegGroup, i);

        if (g_str_equal(g->name, name)) {
            return g->id;
        }
    }
    group.id = core->reggroups->len + 1;
    group.name = g_steal_pointer(&name);
    g_array_append_val(core->reggroups, group);
    return group.id;
}

static void build_registers(MCDCore *core, CPUState *cpu,
                            uint32_t memspace_id)
{
    g_autoptr(GArray) descs = gdb_get_register_list(cpu);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    size_t i;

    for (i = 0; i < descs->len; i++) {
        GDBRegDesc *d = &g_array_index(descs, GDBRegDesc, i);
        MCDRegister reg = { 0 };
        int size;

        if (!d->name) {
            continue;
        }
        g_byte_array_set_size(buf, 0);
        size = gdb_read_register(cpu, buf, d->gdb_reg);
        if (size <= 0) {
            continue;
        }
        reg.id = d->gdb_reg;
        reg.name = d->name;
        reg.bits = size * 8;
        reg.group_id = reggroup_id(core, d->feature_name ?: "registers");
        reg.memspace_id = memspace_id;
        g_array_append_val(core->regs, reg);
    }
}

MCDCore *mcd_core_open(uint32_t index, Error **errp)
{
    CPUState *cpu = index <= INT_MAX ? qemu_get_cpu(index) : NULL;
    MCDCore *core;
    int i;

    if (!cpu) {
        error_setg(errp, "no core %" PRIu32, index);
        return NULL;
    }

    core = mcd_core_new(index);

    for (i = 0; i < cpu->num_ases; i++) {
        AddressSpace *as = cpu_get_address_space(cpu, i);

        add_memspace(core, i == 0 ? "Physical" : as->name,
                     MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM);
    }
    add_memspace(core, MCD_REGS_MEMSPACE_NAME, MCD_MEM_SPACE_IS_REGISTERS);
    build_registers(core, cpu, core->memspaces->len);

    trace_mcd_core_open(index, core->memspaces->len, core->reggroups->len,
                        core->regs->len);
    return core;
}

void mcd_target_detach(void)
{
    trace_mcd_target_detach();
}
