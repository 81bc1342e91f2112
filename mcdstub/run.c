/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core: run control, triggers and resets.
 *
 * The debugger can stop and start the whole VM or one core.  A core the
 * debugger stopped while the others run is "held": QEMU's run state is
 * running, but the vCPU stays paused (cpu->stopped), as gdbstub's
 * partial continue leaves it.  To hold or release one core, the VM is
 * paused for a moment and started again with only the cores that should
 * run; pausing is synchronous, so a core is stopped when the command
 * returns.
 *
 * Single steps, breakpoint and watchpoint hits end in QEMU's debug stop
 * of the whole VM (cpu_handle_guest_debug(), then vm_stop(DEBUG)); the
 * vm-state handler records why, and a bottom half lets the cores that
 * were running before a step run again.  No stop flushes translated
 * code.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "exec/breakpoint.h"
#include "hw/core/cpu.h"
#include "qemu/main-loop.h"
#include "qapi/qapi-types-run-state.h"
#include "system/cpus.h"
#include "system/runstate.h"
#include "core.h"
#include "trace.h"

static const MCDResetClass mcd_resets[] = {
    { MCD_RESET_SYSTEM, "full_system_reset" },
    { MCD_RESET_CORE, "core_reset" },
};

const MCDResetClass *mcd_reset_classes(size_t *count)
{
    *count = ARRAY_SIZE(mcd_resets);
    return mcd_resets;
}

/* Why a core stopped last. */
typedef enum MCDStopReason {
    MCD_STOP_NONE,
    MCD_STOP_REQUEST,       /* the debugger stopped it */
    MCD_STOP_TRIGGER,       /* it hit one of its triggers */
    MCD_STOP_STEP,          /* it finished a step */
    MCD_STOP_RESET,         /* a reset and halt */
    MCD_STOP_OTHER,         /* the VM stopped because another core did */
} MCDStopReason;

/* The run control state of one vCPU. */
typedef struct MCDCoreRun {
    bool held;              /* stays stopped when the VM runs */
    MCDStopReason reason;   /* why it stopped, until that is reported */
    uint32_t trig_type;     /* MCD_STOP_TRIGGER: the trigger's type */
    uint64_t trig_addr;     /* and the data address a watchpoint hit */
    uint64_t stop_pc;       /* the PC when it stopped */
    uint32_t cause;         /* MCD_STOP_OTHER: the core that stopped */
    bool resume;            /* run again after another core's step */
    bool stepped_over;      /* this go stepped it off a breakpoint */
} MCDCoreRun;

/* What the bottom half does after a debug stop. */
typedef enum MCDAfterStop {
    MCD_AFTER_NOTHING,
    MCD_AFTER_STEP,         /* the next step of a count */
    MCD_AFTER_RUN,          /* start the cores that are not held */
} MCDAfterStop;

static struct {
    bool ever_ran;          /* the guest ran since QEMU started */
    bool ever_stopped;      /* the debugger stopped it since */
    bool debugger_stopped;  /* the VM is stopped because of the debugger */
    bool transient;         /* our own pause or start: not a state change */
    MCDCoreRun *cores;
    unsigned nr_cores;
    int stepping;           /* the core that steps, or -1 */
    uint32_t steps_left;    /* steps it still has to do, this one included */
    int step_flags;         /* SSTEP_* */
    bool go_after_step;     /* the step only moved it off a breakpoint */
    MCDAfterStop after;
    QEMUBH *bh;
    MCDStopNotify notify;
} mcd_run = { .stepping = -1 };

/* A breakpoint or watchpoint the debugger set. */
typedef struct MCDTrigger {
    uint32_t core;
    uint32_t type;
    uint64_t addr;
    uint64_t len;
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

static MCDCoreRun *run_of(CPUState *cpu)
{
    g_assert(cpu->cpu_index < mcd_run.nr_cores);
    return &mcd_run.cores[cpu->cpu_index];
}

/* The CPU of an opened core, unless it was unplugged since. */
static CPUState *run_cpu(MCDCore *core, Error **errp)
{
    CPUState *cpu = qemu_get_cpu(core->index);

    if (!cpu || core->index >= mcd_run.nr_cores) {
        error_setg(errp, "core %" PRIu32 " is gone", core->index);
        return NULL;
    }
    return cpu;
}

static void record_stop(CPUState *cpu, MCDStopReason reason)
{
    MCDCoreRun *run = run_of(cpu);

    run->reason = reason;
    run->trig_type = 0;
    run->trig_addr = 0;
    run->stop_pc = cpu->cc->get_pc(cpu);
    mcd_run.ever_stopped = true;
    trace_mcd_core_stop(cpu->cpu_index, reason, run->stop_pc);
}

static void notify_stop(CPUState *cpu)
{
    if (mcd_run.notify) {
        mcd_run.notify(cpu->cpu_index);
    }
}

/* Pause every vCPU for an operation of ours.  Returns: the VM ran. */
static bool pause_vm(void)
{
    if (!runstate_is_running()) {
        return false;
    }
    mcd_run.transient = true;
    vm_stop(RUN_STATE_PAUSED);
    mcd_run.transient = false;
    return true;
}

/*
 * Let every core run that is not held: start the VM if it is stopped,
 * without the cores that are held.
 */
static void run_unheld(void)
{
    CPUState *cpu;
    bool any = false;

    CPU_FOREACH(cpu) {
        any |= !run_of(cpu)->held;
    }
    if (!any) {
        /* every core is held: the VM stays (or is now) stopped */
        pause_vm();
        mcd_run.debugger_stopped = true;
        return;
    }
    mcd_run.debugger_stopped = false;
    if (!runstate_is_running()) {
        mcd_run.transient = true;
        vm_prepare_start(false);
        mcd_run.transient = false;
        mcd_run.ever_ran = true;
    }
    CPU_FOREACH(cpu) {
        if (!run_of(cpu)->held) {
            cpu_resume(cpu);
        }
    }
    qemu_clock_enable(QEMU_CLOCK_VIRTUAL, true);
}

/*
 * Pause the VM for a moment if @cpu executes now; run_unheld() ends the
 * pause.  Returns: the VM was paused.
 */
static bool pause_if_running(CPUState *cpu)
{
    return runstate_is_running() && !run_of(cpu)->held && pause_vm();
}

/* The core stops now in a running VM, as the debugger wants. */
static void hold_core(CPUState *cpu)
{
    bool paused = pause_if_running(cpu);

    run_of(cpu)->held = true;
    if (paused) {
        run_unheld();
    }
}

static bool at_breakpoint(CPUState *cpu)
{
    vaddr pc = cpu->cc->get_pc(cpu);
    size_t i;

    for (i = 0; i < mcd_triggers->len; i++) {
        MCDTrigger *t = &g_array_index(mcd_triggers, MCDTrigger, i);

        if (t->core == cpu->cpu_index && t->bp && t->addr == pc) {
            return true;
        }
    }
    return false;
}

static void cancel_step(void)
{
    CPUState *cpu = mcd_run.stepping >= 0 ? qemu_get_cpu(mcd_run.stepping)
                                          : NULL;

    if (cpu) {
        cpu_single_step(cpu, 0);
    }
    mcd_run.stepping = -1;
    mcd_run.steps_left = 0;
    mcd_run.go_after_step = false;
    mcd_run.after = MCD_AFTER_NOTHING;
}

/*
 * Execute one instruction on @cpu, a stopped core; the cores that are
 * not held keep running.  The end of the step is a debug stop of the VM.
 */
static void start_step(CPUState *cpu)
{
    CPUState *other;

    mcd_run.stepping = cpu->cpu_index;
    CPU_FOREACH(other) {
        MCDCoreRun *run = run_of(other);

        /* the cores that should run, run after the step */
        run->resume = other != cpu && !run->held;
        if (runstate_is_running() && !run->held) {
            /* it runs on: it was not stopped at a breakpoint */
            run->stepped_over = true;
        }
    }
    run_of(cpu)->held = false;
    cpu_single_step(cpu, mcd_run.step_flags);
    mcd_run.debugger_stopped = false;
    if (!runstate_is_running()) {
        mcd_run.transient = true;
        vm_prepare_start(true);
        mcd_run.transient = false;
        mcd_run.ever_ran = true;
    }
    cpu_resume(cpu);
    qemu_clock_enable(QEMU_CLOCK_VIRTUAL, true);
}

/*
 * Run the cores that are not held, but first step every core that the
 * debugger stopped on one of its breakpoints off it: the breakpoint
 * would stop it again at once.
 */
static void go_unheld(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        MCDCoreRun *run = run_of(cpu);

        if (!run->held && !run->stepped_over &&
            (cpu->stopped || !runstate_is_running()) && at_breakpoint(cpu)) {
            /* the others that should run wait until it moved */
            run->stepped_over = true;
            mcd_run.steps_left = 1;
            mcd_run.go_after_step = true;
            mcd_run.step_flags = SSTEP_ENABLE | SSTEP_NOIRQ | SSTEP_NOTIMER;
            start_step(cpu);
            return;
        }
    }
    CPU_FOREACH(cpu) {
        run_of(cpu)->stepped_over = false;
    }
    run_unheld();
}

static void mcd_run_bh(void *opaque)
{
    MCDAfterStop after = mcd_run.after;
    CPUState *cpu;

    mcd_run.after = MCD_AFTER_NOTHING;
    switch (after) {
    case MCD_AFTER_STEP:
        cpu = mcd_run.stepping >= 0 ? qemu_get_cpu(mcd_run.stepping) : NULL;
        if (cpu && !runstate_is_running()) {
            start_step(cpu);
        }
        break;
    case MCD_AFTER_RUN:
        if (mcd_run.stepping < 0) {
            go_unheld();
        }
        break;
    case MCD_AFTER_NOTHING:
        break;
    }
}

/* Which of our triggers stopped the VM, if any. */
static CPUState *find_hit(void)
{
    CPUState *cpu;
    size_t i;

    CPU_FOREACH(cpu) {
        for (i = 0; i < mcd_triggers->len; i++) {
            MCDTrigger *t = &g_array_index(mcd_triggers, MCDTrigger, i);
            uint64_t hitaddr = 0;

            if (t->core != cpu->cpu_index) {
                continue;
            }
            if (t->wp && cpu->watchpoint_hit == t->wp) {
                hitaddr = t->wp->hitaddr;
                /* consumed: the CPU must not see it again on resume */
                cpu->watchpoint_hit = NULL;
            } else if (!t->bp || cpu->cc->get_pc(cpu) != t->addr ||
                       mcd_run.stepping == cpu->cpu_index) {
                continue;
            }
            record_stop(cpu, MCD_STOP_TRIGGER);
            run_of(cpu)->trig_type = t->type;
            run_of(cpu)->trig_addr = hitaddr;
            trace_mcd_trigger_hit(t->core, t->type, t->addr, hitaddr);
            return cpu;
        }
    }
    return NULL;
}

/* The VM stopped in RUN_STATE_DEBUG: a trigger, a step or someone else. */
static void debug_stop(void)
{
    CPUState *hit = find_hit();
    CPUState *stepper = mcd_run.stepping >= 0 ?
                        qemu_get_cpu(mcd_run.stepping) : NULL;
    CPUState *cpu;

    if (stepper && !hit && --mcd_run.steps_left > 0) {
        /* the next step of a count; the others stay where they are */
        mcd_run.after = MCD_AFTER_STEP;
        qemu_bh_schedule(mcd_run.bh);
        return;
    }
    if (stepper && !hit) {
        bool go = mcd_run.go_after_step;
        bool any = false;

        cancel_step();
        CPU_FOREACH(cpu) {
            run_of(cpu)->held = !run_of(cpu)->resume;
        }
        if (go) {
            run_of(stepper)->held = false;
        } else {
            record_stop(stepper, MCD_STOP_STEP);
            run_of(stepper)->held = true;
            notify_stop(stepper);
        }
        CPU_FOREACH(cpu) {
            any |= !run_of(cpu)->held;
        }
        if (any) {
            mcd_run.after = MCD_AFTER_RUN;
            qemu_bh_schedule(mcd_run.bh);
        }
        mcd_run.debugger_stopped = true;
        return;
    }
    cancel_step();
    CPU_FOREACH(cpu) {
        MCDCoreRun *run = run_of(cpu);

        run->held = true;
        if (hit && cpu != hit) {
            record_stop(cpu, MCD_STOP_OTHER);
            run->cause = hit->cpu_index;
        }
    }
    /* a stop of gdbstub's own or a hit: the debugger sees debug state */
    mcd_run.debugger_stopped = true;
    if (hit) {
        notify_stop(hit);
    }
}

static void mcd_vm_state_change(void *opaque, bool running, RunState state)
{
    CPUState *cpu;

    if (mcd_run.transient) {
        return;
    }
    if (running) {
        /* someone else started the VM: every core runs */
        mcd_run.ever_ran = true;
        mcd_run.debugger_stopped = false;
        CPU_FOREACH(cpu) {
            run_of(cpu)->held = false;
        }
    } else if (state == RUN_STATE_DEBUG) {
        debug_stop();
    } else {
        /* someone else stopped it, the monitor say: steps end */
        cancel_step();
        CPU_FOREACH(cpu) {
            run_of(cpu)->held = true;
        }
    }
}

static bool can_run(Error **errp)
{
    if (runstate_needs_reset()) {
        error_setg(errp, "the guest must be reset first (it is %s)",
                   RunState_str(runstate_get()));
        return false;
    }
    return true;
}

uint32_t mcd_core_go(MCDCore *core, Error **errp)
{
    CPUState *cpu = core ? run_cpu(core, errp) : NULL;

    if (core && !cpu) {
        return MCD_ERR_USAGE;
    }
    if (!can_run(errp)) {
        return MCD_ERR_DEVICE_ACCESS;
    }
    if (mcd_run.stepping >= 0) {
        error_setg(errp, "core %d is stepping", mcd_run.stepping);
        return MCD_ERR_USAGE;
    }
    if (cpu) {
        run_of(cpu)->held = false;
    } else {
        CPU_FOREACH(cpu) {
            run_of(cpu)->held = false;
        }
    }
    go_unheld();
    return MCD_ERR_NONE;
}

uint32_t mcd_core_break(MCDCore *core, Error **errp)
{
    CPUState *cpu = core ? run_cpu(core, errp) : NULL;

    if (core && !cpu) {
        return MCD_ERR_USAGE;
    }
    if (mcd_run.stepping >= 0 && (!cpu || cpu->cpu_index == mcd_run.stepping)) {
        CPUState *stepper = qemu_get_cpu(mcd_run.stepping);

        cancel_step();
        if (!runstate_is_running()) {
            /* between two steps of a count: it stays stopped there */
            record_stop(stepper, MCD_STOP_REQUEST);
            mcd_run.debugger_stopped = true;
        }
    }
    if (!runstate_is_running()) {
        /* stopped already: a guest that never ran stays "halted" */
        return MCD_ERR_NONE;
    }
    if (cpu) {
        if (!run_of(cpu)->held) {
            hold_core(cpu);
            record_stop(cpu, MCD_STOP_REQUEST);
        }
        return MCD_ERR_NONE;
    }
    pause_vm();
    mcd_run.debugger_stopped = true;
    CPU_FOREACH(cpu) {
        if (!run_of(cpu)->held) {
            record_stop(cpu, MCD_STOP_REQUEST);
        }
        run_of(cpu)->held = true;
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_core_step(MCDCore *core, uint32_t count, bool irqs,
                       Error **errp)
{
    CPUState *cpu = run_cpu(core, errp);

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    if (!can_run(errp)) {
        return MCD_ERR_DEVICE_ACCESS;
    }
    if (count == 0) {
        error_setg(errp, "cannot step 0 instructions");
        return MCD_ERR_PARAM;
    }
    if (mcd_run.stepping >= 0) {
        error_setg(errp, "core %d is stepping", mcd_run.stepping);
        return MCD_ERR_USAGE;
    }
    if (runstate_is_running() && !run_of(cpu)->held) {
        error_setg(errp, "core %" PRIu32 " is running: stop it first",
                   core->index);
        return MCD_ERR_USAGE;
    }
    if (cpu->halted) {
        error_setg(errp, "core %" PRIu32 " waits for an interrupt or is "
                   "powered off: it cannot step", core->index);
        return MCD_ERR_DEVICE_ACCESS;
    }
    mcd_run.steps_left = count;
    mcd_run.go_after_step = false;
    mcd_run.step_flags = SSTEP_ENABLE;
    if (!irqs) {
        mcd_run.step_flags |= SSTEP_NOIRQ | SSTEP_NOTIMER;
    }
    start_step(cpu);
    return MCD_ERR_NONE;
}

uint32_t mcd_target_reset(uint32_t rst_class, MCDCore *core, bool halt,
                          Error **errp)
{
    CPUState *cpu = core ? run_cpu(core, errp) : NULL;
    bool was_running;

    if (core && !cpu) {
        return MCD_ERR_USAGE;
    }
    if (rst_class != MCD_RESET_SYSTEM && rst_class != MCD_RESET_CORE) {
        error_setg(errp, "unknown reset class %" PRIu32, rst_class);
        return MCD_ERR_PARAM;
    }
    if (rst_class == MCD_RESET_CORE && !cpu) {
        error_setg(errp, "a core reset needs a core");
        return MCD_ERR_PARAM;
    }
    cancel_step();
    was_running = pause_vm();
    trace_mcd_reset(rst_class, cpu ? cpu->cpu_index : -1, halt);
    if (rst_class == MCD_RESET_SYSTEM) {
        qemu_system_reset(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
        if (runstate_needs_reset()) {
            /* as the main loop does after a reset request */
            runstate_set(RUN_STATE_PRELAUNCH);
        }
    } else {
        cpu_reset(cpu);
    }
    if (halt) {
        CPUState *c;

        CPU_FOREACH(c) {
            if (rst_class == MCD_RESET_SYSTEM || c == cpu) {
                record_stop(c, MCD_STOP_RESET);
                run_of(c)->held = true;
            }
        }
    }
    if (was_running) {
        run_unheld();
    } else if (halt) {
        mcd_run.debugger_stopped = true;
    }
    return MCD_ERR_NONE;
}

static MCDTrigger *find_trigger(uint32_t core, uint32_t type, uint64_t addr,
                                uint64_t len, size_t *index,
                                unsigned *count)
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
        if (t->type == type && t->addr == addr && t->len == len) {
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
                              uint64_t len, bool insert, Error **errp)
{
    static const int watch_flags[] = {
        [MCD_TRIG_READ] = BP_MEM_READ,
        [MCD_TRIG_WRITE] = BP_MEM_WRITE,
        [MCD_TRIG_ACCESS] = BP_MEM_ACCESS,
    };
    CPUState *cpu = run_cpu(core, errp);
    MCDTrigger new = { .core = core->index, .type = type, .addr = addr };
    unsigned count;
    size_t index = 0;
    bool paused;
    int ret;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    if (type < MCD_TRIG_BREAKPOINT || type > MCD_TRIG_ACCESS) {
        error_setg(errp, "unknown trigger type %" PRIu32, type);
        return MCD_ERR_TRIG_CREATE;
    }
    if (type != MCD_TRIG_BREAKPOINT) {
        if (len == 0 || addr + len - 1 < addr) {
            error_setg(errp, "cannot watch %" PRIu64 " bytes at 0x%" PRIx64,
                       len, addr);
            return MCD_ERR_TRIG_CREATE;
        }
        new.len = len;
    }
    if (!find_trigger(core->index, type, addr, new.len, &index, &count)) {
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
        paused = pause_if_running(cpu);
        remove_trigger(index);
        if (paused) {
            run_unheld();
        }
        return MCD_ERR_NONE;
    }
    if (count >= MCD_MAX_TRIGGERS) {
        error_setg(errp, "core %" PRIu32 " has %d triggers already",
                   core->index, MCD_MAX_TRIGGERS);
        return MCD_ERR_TRIG_CREATE;
    }
    /*
     * The vCPU must not run while its lists change, and must look up its
     * translated code again afterwards: a loop that jumps to itself
     * would never see a new breakpoint.
     */
    paused = pause_if_running(cpu);
    if (type == MCD_TRIG_BREAKPOINT) {
        ret = cpu_breakpoint_insert(cpu, addr, BP_GDB, &new.bp);
    } else {
        ret = cpu_watchpoint_insert(cpu, addr, len,
                                    BP_GDB | watch_flags[type], &new.wp);
    }
    if (paused) {
        run_unheld();
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
    CPUState *cpu;

    mcd_triggers = g_array_new(false, true, sizeof(MCDTrigger));
    CPU_FOREACH(cpu) {
        mcd_run.nr_cores = MAX(mcd_run.nr_cores, cpu->cpu_index + 1);
    }
    mcd_run.cores = g_new0(MCDCoreRun, mcd_run.nr_cores);
    mcd_run.ever_ran = runstate_is_running();
    CPU_FOREACH(cpu) {
        /* until the VM starts */
        run_of(cpu)->held = !mcd_run.ever_ran;
    }
    mcd_run.bh = qemu_bh_new(mcd_run_bh, NULL);
    qemu_add_vm_change_state_handler(mcd_vm_state_change, NULL);
}

void mcd_target_set_stop_notify(MCDStopNotify notify)
{
    mcd_run.notify = notify;
}

/* The reason of a stop, as the state reports it once. */
static char *stop_reason(CPUState *cpu, MCDCoreState *st)
{
    MCDCoreRun *run = run_of(cpu);
    MCDStopReason reason = run->reason;

    run->reason = MCD_STOP_NONE;
    switch (reason) {
    case MCD_STOP_REQUEST:
        return g_strdup("stopped on request");
    case MCD_STOP_TRIGGER:
        st->trig_type = run->trig_type;
        st->trig_addr = run->trig_addr;
        if (run->trig_type == MCD_TRIG_BREAKPOINT) {
            return g_strdup_printf("stopped at a breakpoint at 0x%" PRIx64,
                                   run->stop_pc);
        }
        return g_strdup_printf("stopped by a %s hit at 0x%" PRIx64
                               " (pc 0x%" PRIx64 ")",
                               mcd_trig_names[run->trig_type],
                               run->trig_addr, run->stop_pc);
    case MCD_STOP_STEP:
        return g_strdup_printf("stopped after a step at 0x%" PRIx64,
                               run->stop_pc);
    case MCD_STOP_RESET:
        return g_strdup_printf("stopped at the reset vector 0x%" PRIx64,
                               run->stop_pc);
    case MCD_STOP_OTHER:
        return g_strdup_printf("stopped because core %" PRIu32 " stopped",
                               run->cause);
    case MCD_STOP_NONE:
        break;
    }
    return g_strdup("");
}

void mcd_core_get_state(MCDCore *core, MCDCoreState *st)
{
    CPUState *cpu = run_cpu(core, NULL);
    MCDCoreRun *run;

    st->trig_type = 0;
    st->trig_addr = 0;
    st->stop_reason = NULL;
    if (!cpu) {
        st->state = MCD_RUN_HALTED;
        st->stop_reason = g_strdup("");
        st->info = g_strdup_printf("core %" PRIu32 " is gone", core->index);
        return;
    }
    run = run_of(cpu);
    if (mcd_run.stepping == cpu->cpu_index ||
        (runstate_is_running() && !run->held)) {
        st->state = cpu->halted && mcd_run.stepping != cpu->cpu_index ?
                    MCD_RUN_HALTED : MCD_RUN_RUNNING;
        if (st->state == MCD_RUN_HALTED) {
            st->info = g_strdup_printf("core %" PRIu32 " waits for an "
                                       "interrupt or is powered off",
                                       core->index);
        } else if (!mcd_run.ever_stopped) {
            st->info = g_strdup("vm running since boot");
        } else {
            st->info = g_strdup_printf("core %" PRIu32 " running",
                                       core->index);
        }
    } else if (runstate_is_running() || mcd_run.debugger_stopped) {
        st->state = MCD_RUN_DEBUG;
        st->stop_reason = stop_reason(cpu, st);
        st->info = g_strdup_printf("core %" PRIu32 " stopped by the "
                                   "debugger", core->index);
    } else if (!mcd_run.ever_ran) {
        st->state = MCD_RUN_HALTED;
        st->info = g_strdup("vm halted since boot");
    } else {
        st->state = MCD_RUN_HALTED;
        st->info = g_strdup_printf("vm %s", RunState_str(runstate_get()));
    }
    if (!st->stop_reason) {
        st->stop_reason = g_strdup("");
    }
}

void mcd_target_detach(void)
{
    CPUState *cpu;

    trace_mcd_target_detach();
    if (!mcd_run.cores) {
        return;
    }
    if (mcd_triggers->len && pause_vm()) {
        while (mcd_triggers->len) {
            remove_trigger(mcd_triggers->len - 1);
        }
        run_unheld();
    }
    while (mcd_triggers->len) {
        remove_trigger(mcd_triggers->len - 1);
    }
    /* what the debugger stopped, or stops between two steps, runs again */
    if (mcd_run.stepping >= 0 && !runstate_is_running()) {
        mcd_run.debugger_stopped = true;
    }
    cancel_step();
    if (runstate_is_running() || mcd_run.debugger_stopped) {
        CPU_FOREACH(cpu) {
            run_of(cpu)->held = false;
            run_of(cpu)->reason = MCD_STOP_NONE;
        }
        run_unheld();
    }
}
