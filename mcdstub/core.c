/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core on top of QEMU: machine, CPUs, address spaces and the
 * gdbstub register API.
 *
 * An architecture description (arch.h) supplies the memory spaces,
 * register group names and system registers of its CPUs; CPUs without
 * one get the generic description: the CPU's address spaces as physical
 * memory spaces, one register group per gdb feature.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "exec/breakpoint.h"
#include "exec/gdbstub.h"
#include "exec/memory.h"
#include "exec/tswap.h"
#include "qemu/cutils.h"
#include "qemu/rcu.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "qapi/qapi-types-run-state.h"
#include "system/hw_accel.h"
#include "system/runstate.h"
#include "arch.h"
#include "trace.h"

static const MCDResetClass mcd_resets[] = {
    { 0, "full_system_reset" },
};

static GPtrArray *mcd_archs;

void mcd_arch_register(const MCDArchOps *ops)
{
    if (!mcd_archs) {
        mcd_archs = g_ptr_array_new();
    }
    g_ptr_array_add(mcd_archs, (gpointer)ops);
}

static const MCDArchOps *mcd_arch_of(CPUState *cpu)
{
    size_t i;

    for (i = 0; mcd_archs && i < mcd_archs->len; i++) {
        const MCDArchOps *ops = g_ptr_array_index(mcd_archs, i);

        if (object_dynamic_cast(OBJECT(cpu), ops->cpu_type)) {
            return ops;
        }
    }
    return NULL;
}

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

uint32_t mcd_add_memspace(MCDCore *core, const char *name, uint32_t type,
                          uint32_t arch_flags)
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
        .arch_flags = arch_flags,
    };

    g_array_append_val(core->memspaces, ms);
    return ms.id;
}

/* Generic memory spaces: each address space of the CPU, physical. */
static void generic_memspaces(MCDCore *core, CPUState *cpu,
                              uint32_t *gpr_space, uint32_t *sys_space)
{
    int i;

    for (i = 0; i < cpu->num_ases; i++) {
        AddressSpace *as = cpu_get_address_space(cpu, i);

        mcd_add_memspace(core, i == 0 ? "Physical" : as->name,
                         MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM,
                         i);
    }
    *gpr_space = mcd_add_memspace(core, "GPR Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
    *sys_space = *gpr_space;
}

/* The id of the register group @name, adding it if it is new. */
static uint32_t reggroup_id(MCDCore *core, const char *name)
{
    MCDRegGroup group;
    size_t i;

    for (i = 0; i < core->reggroups->len; i++) {
        MCDRegGroup *g = &g_array_index(core->reggroups, MCDRegGroup, i);

        if (g_str_equal(g->name, name)) {
            return g->id;
        }
    }
    group.id = core->reggroups->len + 1;
    group.name = g_strdup(name);
    g_array_append_val(core->reggroups, group);
    return group.id;
}

/* A group name for a gdb feature: "org.gnu.gdb.arm.core" -> "arm core" */
static char *generic_group_name(const char *feature)
{
    const char *short_name = feature;

    if (!strstart(feature, "org.gnu.gdb.", &short_name)) {
        strstart(feature, "org.qemu.gdb.", &short_name);
    }
    return g_strdelimit(g_strdup(short_name), ".", ' ');
}

static void build_registers(MCDCore *core, CPUState *cpu,
                            const MCDArchOps *arch,
                            uint32_t gpr_space, uint32_t sys_space)
{
    g_autoptr(GArray) descs = gdb_get_register_list(cpu);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    const char *feature = NULL;
    int feature_base = 0;
    size_t i;

    for (i = 0; i < descs->len; i++) {
        GDBRegDesc *d = &g_array_index(descs, GDBRegDesc, i);
        const char *fname = d->feature_name ?: "registers";
        const char *gname = arch ? arch->group_name(fname) : NULL;
        g_autofree char *generic = NULL;
        MCDRegister reg = { .sysreg = -1 };
        int size;

        /* the registers of a feature are numbered from its base */
        if (!feature || !g_str_equal(feature, fname)) {
            feature = fname;
            feature_base = d->gdb_reg;
        }
        if (!d->name) {
            continue;
        }
        g_byte_array_set_size(buf, 0);
        size = gdb_read_register(cpu, buf, d->gdb_reg);
        if (size <= 0) {
            continue;
        }
        if (!gname) {
            gname = generic = generic_group_name(fname);
        }
        reg.id = d->gdb_reg;
        reg.name = d->name;
        reg.bits = size * 8;
        reg.group_id = reggroup_id(core, gname);
        reg.memspace_id = gpr_space;
        if (arch && arch->sysreg(cpu, fname, d->gdb_reg - feature_base,
                                 &reg.opcode)) {
            reg.sysreg = d->gdb_reg - feature_base;
            reg.memspace_id = sys_space;
        }
        g_array_append_val(core->regs, reg);
    }
}

MCDCore *mcd_core_open(uint32_t index, Error **errp)
{
    CPUState *cpu = index <= INT_MAX ? qemu_get_cpu(index) : NULL;
    const MCDArchOps *arch;
    uint32_t gpr_space, sys_space;
    MCDCore *core;

    if (!cpu) {
        error_setg(errp, "no core %" PRIu32, index);
        return NULL;
    }
    arch = mcd_arch_of(cpu);
    core = mcd_core_new(index);
    if (arch) {
        arch->add_memspaces(core, cpu, &gpr_space, &sys_space);
    } else {
        generic_memspaces(core, cpu, &gpr_space, &sys_space);
    }
    build_registers(core, cpu, arch, gpr_space, sys_space);

    trace_mcd_core_open(index, core->memspaces->len, core->reggroups->len,
                        core->regs->len);
    return core;
}

/* The CPU of an opened core, unless it was unplugged since. */
static CPUState *core_cpu(MCDCore *core, Error **errp)
{
    CPUState *cpu = qemu_get_cpu(core->index);

    if (!cpu) {
        error_setg(errp, "core %" PRIu32 " is gone", core->index);
    }
    return cpu;
}

uint32_t mcd_core_read_register(MCDCore *core, const MCDRegister *reg,
                                GByteArray *buf, Error **errp)
{
    CPUState *cpu = core_cpu(core, errp);
    const MCDArchOps *arch;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    arch = mcd_arch_of(cpu);
    cpu_synchronize_state(cpu);
    /* the vCPU thread owns the state of a running core: read as it is */
    if (arch && arch->sync_registers && cpu_is_stopped(cpu)) {
        arch->sync_registers(cpu, false);
    }
    if (gdb_read_register(cpu, buf, reg->id) != reg->bits / 8) {
        error_setg(errp, "cannot read register %s", reg->name);
        return MCD_ERR_TXLIST_READ;
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_core_write_register(MCDCore *core, const MCDRegister *reg,
                                 const uint8_t *data, Error **errp)
{
    CPUState *cpu = core_cpu(core, errp);
    const MCDArchOps *arch;
    g_autofree uint8_t *copy = NULL;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    arch = mcd_arch_of(cpu);
    /* the vCPU thread owns the registers of a running core */
    if (!cpu_is_stopped(cpu)) {
        error_setg(errp, "core %" PRIu32 " is running", core->index);
        return MCD_ERR_TXLIST_WRITE;
    }
    cpu_synchronize_state(cpu);
    if (reg->sysreg >= 0 && arch) {
        return arch->write_sysreg(cpu, reg->sysreg, data, reg->bits / 8,
                                  errp);
    }
    if (arch && arch->sync_registers) {
        arch->sync_registers(cpu, false);
    }
    copy = g_memdup2(data, reg->bits / 8);
    if (gdb_write_register(cpu, copy, reg->id) != reg->bits / 8) {
        error_setg(errp, "register %s cannot be written", reg->name);
        return MCD_ERR_TXLIST_WRITE;
    }
    if (arch && arch->sync_registers) {
        arch->sync_registers(cpu, true);
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_access_physical(AddressSpace *as, MemTxAttrs attrs,
                             uint64_t addr, uint8_t *buf, size_t len,
                             bool is_write, Error **errp)
{
    MemTxResult res;

    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr;
        bool rom;

        RCU_READ_LOCK_GUARD();
        mr = address_space_translate(as, addr, &xlat, &l, is_write, attrs);
        rom = memory_region_is_rom(mr) || memory_region_is_romd(mr);
        if (!is_write) {
            res = address_space_read_full(as, addr, attrs, buf, l);
        } else if (rom) {
            /* as a debugger expects: a ROM write changes the ROM */
            res = address_space_write_rom(as, addr, attrs, buf, l);
        } else {
            res = address_space_write(as, addr, attrs, buf, l);
        }
        if (res != MEMTX_OK) {
            error_setg(errp, "cannot %s 0x%" PRIx64 " in %s",
                       is_write ? "write" : "read", addr, as->name);
            return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
        }
        addr += l;
        buf += l;
        len -= l;
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_core_access_memory(MCDCore *core, const MCDMemSpace *ms,
                                uint64_t addr, uint8_t *buf, size_t len,
                                bool is_write, Error **errp)
{
    CPUState *cpu = core_cpu(core, errp);
    const MCDArchOps *arch;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    arch = mcd_arch_of(cpu);
    if (addr + len - 1 < addr && len) {
        error_setg(errp, "address range wraps around");
        return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
    }
    if (arch) {
        return arch->access_memory(cpu, ms, addr, buf, len, is_write, errp);
    }
    /* generic: arch_flags holds the address space index */
    return mcd_access_physical(cpu_get_address_space(cpu, ms->arch_flags),
                               MEMTXATTRS_UNSPECIFIED, addr, buf, len,
                               is_write, errp);
}

/*
 * Run state bookkeeping.  Until per-core run control exists, all cores
 * share the state of the VM.
 */
static struct {
    bool ever_ran;           /* the guest ran since QEMU started */
    bool debugger_stopped;   /* the VM is stopped because we stopped it */
    bool report_stop;        /* the stop was not reported yet */
    uint32_t stop_core;      /* the core a trigger stopped */
    uint32_t trig_type;      /* and the trigger, or 0 */
    uint64_t trig_addr;      /* the data address a watchpoint hit */
} mcd_run;

/* A breakpoint or watchpoint the debugger set. */
typedef struct MCDTrigger {
    uint32_t core;
    uint32_t type;
    uint64_t addr;
    CPUBreakpoint *bp;
    CPUWatchpoint *wp;
} MCDTrigger;

static GArray *mcd_triggers;

static const char *const mcd_trig_names[] = {
    [MCD_TRIG_BREAKPOINT] = "breakpoint",
    [MCD_TRIG_READ] = "read watchpoint",
    [MCD_TRIG_WRITE] = "write watchpoint",
    [MCD_TRIG_ACCESS] = "access watchpoint",
};

/* Which of our triggers stopped the VM, if any. */
static void mcd_find_hit(void)
{
    CPUState *cpu;
    size_t i;

    mcd_run.trig_type = 0;
    CPU_FOREACH(cpu) {
        for (i = 0; i < mcd_triggers->len; i++) {
            MCDTrigger *t = &g_array_index(mcd_triggers, MCDTrigger, i);

            if (t->core != cpu->cpu_index) {
                continue;
            }
            if (t->wp && cpu->watchpoint_hit == t->wp) {
                mcd_run.trig_addr = t->wp->hitaddr;
                /* consumed: the CPU must not see it again on resume */
                cpu->watchpoint_hit = NULL;
            } else if (!t->bp || cpu->cc->get_pc(cpu) != t->addr) {
                continue;
            } else {
                mcd_run.trig_addr = 0;
            }
            mcd_run.stop_core = cpu->cpu_index;
            mcd_run.trig_type = t->type;
            mcd_run.debugger_stopped = true;
            mcd_run.report_stop = true;
            trace_mcd_trigger_hit(t->core, t->type, t->addr,
                                  mcd_run.trig_addr);
            return;
        }
    }
}

static void mcd_vm_state_change(void *opaque, bool running, RunState state)
{
    if (running) {
        mcd_run.ever_ran = true;
        mcd_run.debugger_stopped = false;
        mcd_run.report_stop = false;
        mcd_run.trig_type = 0;
    } else if (state == RUN_STATE_DEBUG) {
        mcd_find_hit();
    }
}

static MCDTrigger *find_trigger(uint32_t core, uint32_t type, uint64_t addr,
                                size_t *index, unsigned *count)
{
    MCDTrigger *found = NULL;
    size_t i;

    *count = 0;
    for (i = 0; i < mcd_triggers->len; i++) {
        MCDTrigger *t = &g_array_index(mcd_triggers, MCDTrigger, i);

        if (t->core != core) {
            continue;
        }
        (*count)++;
        if (t->type == type && t->addr == addr) {
            *index = i;
            found = t;
        }
    }
    return found;
}

static void remove_trigger(size_t index)
{
    MCDTrigger *t = &g_array_index(mcd_triggers, MCDTrigger, index);
    CPUState *cpu = qemu_get_cpu(t->core);

    if (cpu && t->bp) {
        cpu_breakpoint_remove_by_ref(cpu, t->bp);
    } else if (cpu && t->wp) {
        if (cpu->watchpoint_hit == t->wp) {
            cpu->watchpoint_hit = NULL;
        }
        cpu_watchpoint_remove_by_ref(cpu, t->wp);
    }
    g_array_remove_index(mcd_triggers, index);
}

uint32_t mcd_core_set_trigger(MCDCore *core, uint32_t type, uint64_t addr,
                              bool insert, Error **errp)
{
    static const int watch_flags[] = {
        [MCD_TRIG_READ] = BP_MEM_READ,
        [MCD_TRIG_WRITE] = BP_MEM_WRITE,
        [MCD_TRIG_ACCESS] = BP_MEM_ACCESS,
    };
    CPUState *cpu = core_cpu(core, errp);
    MCDTrigger new = { .core = core->index, .type = type, .addr = addr };
    unsigned count;
    size_t index;
    int ret;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    if (type < MCD_TRIG_BREAKPOINT || type > MCD_TRIG_ACCESS) {
        error_setg(errp, "unknown trigger type %" PRIu32, type);
        return MCD_ERR_TRIG_CREATE;
    }
    if (!find_trigger(core->index, type, addr, &index, &count)) {
        if (!insert) {
            error_setg(errp, "no %s at 0x%" PRIx64 " on core %" PRIu32,
                       mcd_trig_names[type], addr, core->index);
            return MCD_ERR_TRIG_ACCESS;
        }
    } else if (insert) {
        error_setg(errp, "a %s at 0x%" PRIx64 " is already set",
                   mcd_trig_names[type], addr);
        return MCD_ERR_TRIG_CREATE;
    } else {
        remove_trigger(index);
        return MCD_ERR_NONE;
    }
    if (count >= MCD_MAX_TRIGGERS) {
        error_setg(errp, "core %" PRIu32 " has %d triggers already",
                   core->index, MCD_MAX_TRIGGERS);
        return MCD_ERR_TRIG_CREATE;
    }
    if (type == MCD_TRIG_BREAKPOINT) {
        ret = cpu_breakpoint_insert(cpu, addr, BP_GDB, &new.bp);
    } else {
        ret = cpu_watchpoint_insert(cpu, addr, MCD_WATCH_LEN,
                                    BP_GDB | watch_flags[type], &new.wp);
    }
    if (ret) {
        error_setg(errp, "cannot set a %s at 0x%" PRIx64 ": %s",
                   mcd_trig_names[type], addr, strerror(-ret));
        return MCD_ERR_TRIG_CREATE;
    }
    g_array_append_val(mcd_triggers, new);
    return MCD_ERR_NONE;
}

void mcd_target_init(void)
{
    mcd_triggers = g_array_new(false, true, sizeof(MCDTrigger));
    mcd_run.ever_ran = runstate_is_running();
    qemu_add_vm_change_state_handler(mcd_vm_state_change, NULL);
}

static vaddr cpu_get_pc_of(MCDCore *core)
{
    CPUState *cpu = qemu_get_cpu(core->index);

    return cpu ? cpu->cc->get_pc(cpu) : 0;
}

void mcd_core_get_state(MCDCore *core, MCDCoreState *st)
{
    st->trig_type = 0;
    st->trig_addr = 0;
    if (runstate_is_running()) {
        st->state = MCD_RUN_RUNNING;
        st->stop_reason = g_strdup("");
        st->info = g_strdup(mcd_run.ever_ran ? "vm running since boot"
                                             : "vm running");
        return;
    }
    if (!mcd_run.ever_ran) {
        st->state = MCD_RUN_HALTED;
        st->stop_reason = g_strdup("");
        st->info = g_strdup("vm halted since boot");
        return;
    }
    if (mcd_run.debugger_stopped) {
        st->state = MCD_RUN_DEBUG;
        if (!mcd_run.report_stop ||
            (mcd_run.trig_type && mcd_run.stop_core != core->index)) {
            st->stop_reason = g_strdup("");
        } else if (!mcd_run.trig_type) {
            st->stop_reason = g_strdup("stopped on request");
        } else if (mcd_run.trig_type == MCD_TRIG_BREAKPOINT) {
            st->trig_type = mcd_run.trig_type;
            st->stop_reason = g_strdup_printf(
                "stopped at a breakpoint at 0x%" PRIx64,
                (uint64_t)cpu_get_pc_of(core));
        } else {
            st->trig_type = mcd_run.trig_type;
            st->trig_addr = mcd_run.trig_addr;
            st->stop_reason = g_strdup_printf(
                "stopped by a %s hit at 0x%" PRIx64,
                mcd_trig_names[mcd_run.trig_type], mcd_run.trig_addr);
        }
        if (!mcd_run.trig_type || mcd_run.stop_core == core->index) {
            mcd_run.report_stop = false;
        }
        st->info = g_strdup_printf("core %" PRIu32 " stopped by the debugger",
                                   core->index);
        return;
    }
    st->state = MCD_RUN_HALTED;
    st->stop_reason = g_strdup("");
    st->info = g_strdup_printf("vm %s", RunState_str(runstate_get()));
}

uint32_t mcd_target_go(Error **errp)
{
    if (!runstate_is_running()) {
        vm_start();
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_target_break(Error **errp)
{
    if (runstate_is_running()) {
        vm_stop(RUN_STATE_PAUSED);
        mcd_run.debugger_stopped = true;
        mcd_run.report_stop = true;
    }
    return MCD_ERR_NONE;
}

void mcd_target_detach(void)
{
    trace_mcd_target_detach();
    while (mcd_triggers && mcd_triggers->len) {
        remove_trigger(mcd_triggers->len - 1);
    }
    /* a guest that the debugger stopped runs again */
    if (mcd_run.debugger_stopped && !runstate_is_running()) {
        vm_start();
    }
}
