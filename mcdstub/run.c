/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core: run control, triggers and resets.
 *
 * Everything the debugger sets belongs to its session: the cores it
 * holds, its triggers, the steps under way and the stop records.
 *
 * A core the debugger stops is held (cpu_debug_hold()): QEMU itself
 * keeps it stopped, whatever resumes the other vCPUs (the monitor's
 * cont, a reset, a wake-up), until the debugger releases it.  Holding
 * or releasing one core is not a stop of the VM; only when every core is
 * held does the VM stop, in RUN_STATE_DEBUG, and a go of a core starts
 * it again.
 *
 * The triggers are QEMU breakpoints and watchpoints of their own kind
 * (BP_MCD), so gdbstub never removes them and we never touch gdb's.
 * Their hits and the ends of single steps reach us in the vCPU's thread
 * through the debug exception handler: a step count runs there without
 * any stop in between, the end of a step holds just that core, and a
 * trigger hit holds its core and then, from a bottom half, stops the
 * VM.  The front-end hears about stops from that bottom half.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "exec/breakpoint.h"
#include "exec/cpu-interrupt.h"
#include "hw/core/cpu.h"
#include "qemu/main-loop.h"
#include "qapi/qapi-types-run-state.h"
#include "system/cpus.h"
#include "system/replay.h"
#include "system/reset.h"
#include "system/runstate-action.h"
#include "system/runstate.h"
#include "system/tcg.h"
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
    MCD_STOP_STEP,          /* it finished its steps */
    MCD_STOP_RESET,         /* a reset and halt */
    MCD_STOP_OTHER,         /* another core's trigger stopped the system */
} MCDStopReason;

/* A breakpoint or watchpoint the debugger set. */
typedef struct MCDTrigger {
    uint32_t id;
    uint32_t type;
    uint64_t addr;
    uint64_t len;           /* watchpoints only */
} MCDTrigger;

/* What a session knows of one vCPU. */
typedef struct MCDRunCore {
    uint32_t index;
    GArray *triggers;       /* MCDTrigger */
    /* the last stop, kept until the core runs again */
    MCDStopReason reason;
    uint32_t stop_seq;
    uint32_t trig_id;
    uint32_t trig_type;
    uint64_t pc;
    uint64_t data_addr;
    uint32_t cause;         /* MCD_STOP_OTHER: the core that hit */
    /* a step count under way */
    uint32_t steps_left;
    bool step_then_go;      /* the step only moves it off a breakpoint */
    /* to do in the bottom half */
    bool notify;            /* tell the front-end it stopped */
    bool read_pc;           /* take the stop PC, after a reset */
    /*
     * Texts of state records, made once: the last stop's description
     * (@said: the stop it describes) and the state under the debugger
     */
    char *stop_text;
    struct {
        MCDStopReason reason;
        uint32_t trig_type;
        uint32_t cause;
        uint64_t pc;
        uint64_t data_addr;
    } said;
    char *held_text;
} MCDRunCore;

struct MCDSession {
    const MCDSessionOps *ops;
    void *opaque;
    GHashTable *cores;      /* cpu_index -> MCDRunCore */
    uint32_t seq;           /* the last stop_seq given */
    bool hit;               /* a trigger hit: stop the system */
    uint32_t hit_core;
    bool reset_pending;     /* a system reset was requested */
    bool reset_halt;        /* and halts every core */
    bool reset_done;        /* it happened: tell the front-end */
};

static struct {
    MCDSession *session;    /* the one session, or NULL */
    QEMUBH *bh;
    bool ever_ran;          /* the guest ran since QEMU started */
    bool ever_stopped;      /* the debugger stopped it since */
    bool vm_stopped;        /* we stopped the VM (RUN_STATE_DEBUG) */
} mcd_run;

static const char *const mcd_trig_names[] = {
    [MCD_TRIG_BREAKPOINT] = "breakpoint",
    [MCD_TRIG_READ] = "read watchpoint",
    [MCD_TRIG_WRITE] = "write watchpoint",
    [MCD_TRIG_ACCESS] = "access watchpoint",
};

static const int mcd_watch_flags[] = {
    [MCD_TRIG_READ] = BP_MEM_READ,
    [MCD_TRIG_WRITE] = BP_MEM_WRITE,
    [MCD_TRIG_ACCESS] = BP_MEM_ACCESS,
};

static void run_core_free(gpointer p)
{
    MCDRunCore *rc = p;

    g_array_free(rc->triggers, true);
    g_free(rc->stop_text);
    g_free(rc->held_text);
    g_free(rc);
}

/* The session's record of a vCPU, made on first use (hotplug too). */
static MCDRunCore *run_core(MCDSession *s, uint32_t index)
{
    MCDRunCore *rc = g_hash_table_lookup(s->cores, GUINT_TO_POINTER(index));

    if (!rc) {
        rc = g_new0(MCDRunCore, 1);
        rc->index = index;
        rc->triggers = g_array_new(false, true, sizeof(MCDTrigger));
        g_hash_table_insert(s->cores, GUINT_TO_POINTER(index), rc);
    }
    return rc;
}

/* The CPU of an opened core, unless it was unplugged since. */
static CPUState *run_cpu(MCDCore *core, Error **errp)
{
    CPUState *cpu = core->index <= INT_MAX ? qemu_get_cpu(core->index)
                                           : NULL;

    if (!cpu) {
        error_setg(errp, "core %" PRIu32 " is gone", core->index);
    }
    return cpu;
}

static void clear_stop(MCDRunCore *rc)
{
    rc->reason = MCD_STOP_NONE;
    rc->trig_id = 0;
    rc->trig_type = 0;
    rc->data_addr = 0;
    rc->cause = 0;
}

static MCDRunCore *record_stop(MCDSession *s, CPUState *cpu,
                               MCDStopReason reason)
{
    MCDRunCore *rc = run_core(s, cpu->cpu_index);

    clear_stop(rc);
    rc->reason = reason;
    rc->stop_seq = ++s->seq;
    rc->pc = cpu->cc->get_pc(cpu);
    mcd_run.ever_stopped = true;
    trace_mcd_core_stop(cpu->cpu_index, reason, rc->pc);
    return rc;
}

/* Record a stop that the front-end hears of (see mcd_run_bh()). */
static MCDRunCore *notify_stop(MCDSession *s, CPUState *cpu,
                               MCDStopReason reason)
{
    MCDRunCore *rc = record_stop(s, cpu, reason);

    rc->notify = true;
    qemu_bh_schedule(mcd_run.bh);
    return rc;
}

static void hold(CPUState *cpu)
{
    if (!cpu->debug_held) {
        trace_mcd_hold(cpu->cpu_index);
        cpu_debug_hold(cpu);
    }
}

/* Let a core run (with the VM); its stop record ends. */
static void release(MCDSession *s, CPUState *cpu)
{
    if (s) {
        clear_stop(run_core(s, cpu->cpu_index));
    }
    if (cpu->debug_held) {
        trace_mcd_release(cpu->cpu_index);
        cpu_debug_release(cpu);
    }
}

/*
 * Whether the debugger has every core: held, or stepping alone in the VM
 * it stopped (cpu_debug_release_alone(), until the step's end).
 */
static bool all_held(void)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        if (!cpu->debug_held && !cpu->debug_alone) {
            return false;
        }
    }
    return true;
}

/* A debug stop of the whole VM: the debugger holds every core. */
static void stop_vm(void)
{
    if (runstate_is_running()) {
        trace_mcd_vm_stop();
        vm_stop(RUN_STATE_DEBUG);
        mcd_run.vm_stopped = true;
    }
}

/* Start the VM for the cores that are not held. */
static void start_vm(void)
{
    if (!runstate_is_running()) {
        trace_mcd_vm_start();
        mcd_run.vm_stopped = false;
        vm_start();
    }
}

static const MCDTrigger *find_breakpoint(MCDRunCore *rc, vaddr pc)
{
    size_t i;

    for (i = 0; rc && i < rc->triggers->len; i++) {
        const MCDTrigger *t = &g_array_index(rc->triggers, MCDTrigger, i);

        if (t->type == MCD_TRIG_BREAKPOINT && t->addr == pc) {
            return t;
        }
    }
    return NULL;
}

static const MCDTrigger *find_watchpoint(MCDRunCore *rc, CPUWatchpoint *wp)
{
    size_t i;

    for (i = 0; rc && i < rc->triggers->len; i++) {
        const MCDTrigger *t = &g_array_index(rc->triggers, MCDTrigger, i);

        if (t->type != MCD_TRIG_BREAKPOINT && t->addr == wp->vaddr &&
            t->len == wp->len &&
            (wp->flags & BP_MEM_ACCESS) == mcd_watch_flags[t->type]) {
            return t;
        }
    }
    return NULL;
}

/* A step count ends: the core no longer single-steps. */
static void end_steps(CPUState *cpu, MCDRunCore *rc)
{
    if (rc->steps_left || rc->step_then_go) {
        trace_mcd_step_end(cpu->cpu_index, rc->steps_left);
    }
    rc->steps_left = 0;
    rc->step_then_go = false;
    cpu_single_step(cpu, 0);
}

/*
 * Stop a core's steps from the main loop.  Returns: it was stepping; it
 * is held now.
 */
static bool cancel_steps(MCDSession *s, CPUState *cpu)
{
    MCDRunCore *rc = run_core(s, cpu->cpu_index);

    if (!rc->steps_left) {
        return false;
    }
    hold(cpu);
    end_steps(cpu, rc);
    return true;
}

/* In a stopped VM, hold the cores other than @cpu where they are. */
static void hold_others_if_stopped(MCDSession *s, CPUState *cpu)
{
    CPUState *other;

    if (!cpu || runstate_is_running()) {
        return;
    }
    CPU_FOREACH(other) {
        if (other == cpu) {
            continue;
        }
        if (cancel_steps(s, other)) {
            /* its steps end where the VM stopped them */
            notify_stop(s, other, MCD_STOP_REQUEST);
        }
        hold(other);
    }
}

static void trigger_hit(MCDSession *s, CPUState *cpu, MCDRunCore *rc,
                        const MCDTrigger *t, uint64_t data_addr)
{
    uint32_t id = t->id, type = t->type;

    end_steps(cpu, rc);
    s->hit = true;
    s->hit_core = cpu->cpu_index;
    notify_stop(s, cpu, MCD_STOP_TRIGGER);
    rc->trig_id = id;
    rc->trig_type = type;
    rc->data_addr = data_addr;
    trace_mcd_trigger_hit(cpu->cpu_index, id, type, rc->pc, data_addr);
}

/*
 * A debug exception of a vCPU, in its thread with the BQL held: ours (a
 * trigger, a step) or another debugger's.
 */
static CPUDebugAction mcd_debug_exception(CPUState *cpu, void *opaque)
{
    MCDSession *s = mcd_run.session;
    CPUWatchpoint *wp = cpu->watchpoint_hit;
    MCDRunCore *rc;
    const MCDTrigger *t;

    if (!s) {
        return CPU_DEBUG_STOP_VM;
    }
    if (wp && !(wp->flags & BP_MCD)) {
        return CPU_DEBUG_STOP_VM;
    }
    rc = g_hash_table_lookup(s->cores, GUINT_TO_POINTER(cpu->cpu_index));
    if (wp) {
        /*
         * Consumed: the vCPU must not see it again.  A hit in the middle
         * of a single step also left the debug interrupt that reports it
         * pending, behind the step's own exception: drop that too, or it
         * would stop the VM for nothing when the core runs again.
         */
        cpu->watchpoint_hit = NULL;
        cpu_reset_interrupt(cpu, CPU_INTERRUPT_DEBUG);
        t = find_watchpoint(rc, wp);
        if (t) {
            trigger_hit(s, cpu, rc, t, wp->hitaddr);
            return CPU_DEBUG_HOLD;
        }
    }
    if (rc && rc->steps_left && cpu->singlestep_enabled) {
        if (--rc->steps_left) {
            return CPU_DEBUG_RESUME;
        }
        if (rc->step_then_go) {
            /* off its breakpoint: it just runs on */
            end_steps(cpu, rc);
            return CPU_DEBUG_RESUME;
        }
        end_steps(cpu, rc);
        notify_stop(s, cpu, MCD_STOP_STEP);
        return CPU_DEBUG_HOLD;
    }
    if (wp) {
        /* a watchpoint removed while it fired */
        return CPU_DEBUG_RESUME;
    }
    t = cpu->singlestep_enabled ? NULL
                                : find_breakpoint(rc, cpu->cc->get_pc(cpu));
    if (t) {
        trigger_hit(s, cpu, rc, t, 0);
        return CPU_DEBUG_HOLD;
    }
    if (!cpu->singlestep_enabled &&
        !cpu_breakpoint_test(cpu, cpu->cc->get_pc(cpu), BP_GDB | BP_MCD)) {
        /* no cause at all: a leftover of a hit that was dealt with */
        trace_mcd_debug_spurious(cpu->cpu_index);
        return CPU_DEBUG_RESUME;
    }
    return CPU_DEBUG_STOP_VM;
}

/* Work after stops, in the main loop. */
static void mcd_run_bh(void *opaque)
{
    MCDSession *s = mcd_run.session;
    g_autoptr(GArray) stopped = g_array_new(false, false, sizeof(uint32_t));
    GHashTableIter iter;
    MCDRunCore *rc;
    CPUState *cpu;
    bool reset_done;
    guint i;

    if (!s) {
        return;
    }
    if (s->hit) {
        /* a trigger stops the whole system */
        s->hit = false;
        stop_vm();
        if (mcd_run.session != s) {
            /* ended by what ran while the VM stopped */
            return;
        }
        CPU_FOREACH(cpu) {
            if (!cpu->debug_held) {
                MCDRunCore *other = run_core(s, cpu->cpu_index);
                bool stepping = cancel_steps(s, cpu);

                hold(cpu);
                record_stop(s, cpu, MCD_STOP_OTHER)->cause = s->hit_core;
                /* a core that stepped learns that its steps ended */
                other->notify |= stepping;
            }
        }
    }
    if (all_held()) {
        stop_vm();
        if (mcd_run.session != s) {
            return;
        }
    }
    reset_done = s->reset_done;
    s->reset_done = false;
    g_hash_table_iter_init(&iter, s->cores);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&rc)) {
        cpu = qemu_get_cpu(rc->index);
        if (rc->read_pc && cpu) {
            rc->pc = cpu->cc->get_pc(cpu);
        }
        rc->read_pc = false;
        if (rc->notify) {
            g_array_append_val(stopped, rc->index);
        }
        rc->notify = false;
    }
    /* the front-end may end the session from these */
    for (i = 0; i < stopped->len && mcd_run.session == s; i++) {
        s->ops->stopped(s->opaque, g_array_index(stopped, uint32_t, i));
    }
    if (reset_done && mcd_run.session == s) {
        s->ops->reset_done(s->opaque);
    }
}

static void mcd_vm_state_change(void *opaque, bool running, RunState state)
{
    CPUState *cpu;

    if (!running) {
        return;
    }
    mcd_run.ever_ran = true;
    mcd_run.vm_stopped = false;
    if (all_held()) {
        /*
         * Someone else (the monitor, gdb) starts a VM that the debugger
         * stopped as a whole: every core runs, resumed by that start.
         */
        CPU_FOREACH(cpu) {
            if (mcd_run.session) {
                clear_stop(run_core(mcd_run.session, cpu->cpu_index));
            }
            trace_mcd_release(cpu->cpu_index);
            cpu->debug_held = false;
        }
    }
}

/*
 * Called by every system reset, the session's, the guest's or the
 * monitor's, with the vCPUs paused: a held core stays held, at its reset
 * vector now.
 */
static void mcd_system_reset(void *opaque)
{
    MCDSession *s = mcd_run.session;
    bool halt;
    CPUState *cpu;

    if (!s) {
        return;
    }
    halt = s->reset_pending && s->reset_halt;
    CPU_FOREACH(cpu) {
        if (cpu->debug_alone) {
            /*
             * Its one step in the stopped VM did not happen: the reset
             * paused it first, and the VM does not resume it.
             */
            cancel_steps(s, cpu);
        }
        if (halt) {
            hold(cpu);
        }
        if (cpu->debug_held) {
            /* the PC once every reset handler ran */
            notify_stop(s, cpu, MCD_STOP_RESET)->read_pc = true;
        }
    }
    s->reset_done = s->reset_pending;
    s->reset_pending = false;
    qemu_bh_schedule(mcd_run.bh);
}

static bool can_run(Error **errp)
{
    if (runstate_needs_reset()) {
        error_setg(errp, "the guest must be reset first (it is %s)",
                   RunState_str(runstate_get()));
        return false;
    }
    if (runstate_check(RUN_STATE_INMIGRATE) ||
        runstate_check(RUN_STATE_FINISH_MIGRATE) ||
        runstate_check(RUN_STATE_POSTMIGRATE)) {
        /* as the monitor's cont */
        error_setg(errp, "the guest is migrating (it is %s)",
                   RunState_str(runstate_get()));
        return false;
    }
    return true;
}

static bool at_breakpoint(MCDSession *s, CPUState *cpu)
{
    return find_breakpoint(run_core(s, cpu->cpu_index),
                           cpu->cc->get_pc(cpu)) != NULL;
}

/* Single-step @cpu, a core that does not run, and let it go. */
static void start_steps(MCDSession *s, CPUState *cpu, uint32_t count,
                        int flags, bool then_go)
{
    MCDRunCore *rc = run_core(s, cpu->cpu_index);

    trace_mcd_step_start(cpu->cpu_index, count, then_go);
    rc->steps_left = count;
    rc->step_then_go = then_go;
    cpu_single_step(cpu, flags);
    release(s, cpu);
}

uint32_t mcd_core_go(MCDSession *s, MCDCore *core, Error **errp)
{
    CPUState *only = core ? run_cpu(core, errp) : NULL;
    CPUState *cpu;

    if (core && !only) {
        return MCD_ERR_USAGE;
    }
    if (!can_run(errp)) {
        return MCD_ERR_DEVICE_ACCESS;
    }
    CPU_FOREACH(cpu) {
        if ((!only || cpu == only) &&
            run_core(s, cpu->cpu_index)->steps_left) {
            error_setg(errp, "core %d is stepping", cpu->cpu_index);
            return MCD_ERR_USAGE;
        }
    }
    hold_others_if_stopped(s, only);
    CPU_FOREACH(cpu) {
        if (only && cpu != only) {
            continue;
        }
        if ((cpu->debug_held || !runstate_is_running()) &&
            at_breakpoint(s, cpu)) {
            /* it would stop there at once */
            start_steps(s, cpu, 1, SSTEP_ENABLE | SSTEP_NOIRQ |
                        SSTEP_NOTIMER, true);
        } else {
            release(s, cpu);
        }
    }
    start_vm();
    return MCD_ERR_NONE;
}

uint32_t mcd_core_break(MCDSession *s, MCDCore *core, Error **errp)
{
    CPUState *only = core ? run_cpu(core, errp) : NULL;
    CPUState *cpu;

    if (core && !only) {
        return MCD_ERR_USAGE;
    }
    CPU_FOREACH(cpu) {
        if ((!only || cpu == only) && cancel_steps(s, cpu)) {
            record_stop(s, cpu, MCD_STOP_REQUEST);
        }
    }
    if (!runstate_is_running()) {
        /* stopped already: a guest that never ran stays "halted" */
        return MCD_ERR_NONE;
    }
    if (!only) {
        stop_vm();
    }
    CPU_FOREACH(cpu) {
        if ((!only || cpu == only) && !cpu->debug_held) {
            hold(cpu);
            record_stop(s, cpu, MCD_STOP_REQUEST);
        }
    }
    if (all_held()) {
        stop_vm();
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_core_step(MCDCore *core, uint32_t count, bool irqs,
                       Error **errp)
{
    MCDSession *s = core->session;
    CPUState *cpu = run_cpu(core, errp);
    int flags = SSTEP_ENABLE;

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
    if (run_core(s, cpu->cpu_index)->steps_left) {
        error_setg(errp, "core %" PRIu32 " is stepping", core->index);
        return MCD_ERR_USAGE;
    }
    if (runstate_is_running() && !cpu->debug_held) {
        error_setg(errp, "core %" PRIu32 " is running: stop it first",
                   core->index);
        return MCD_ERR_USAGE;
    }
    if (cpu->halted) {
        error_setg(errp, "core %" PRIu32 " waits for an interrupt or is "
                   "powered off: it cannot step", core->index);
        return MCD_ERR_DEVICE_ACCESS;
    }
    if (!irqs) {
        flags |= SSTEP_NOIRQ | SSTEP_NOTIMER;
    }
    hold_others_if_stopped(s, cpu);
    start_steps(s, cpu, count, flags, false);
    if (count == 1 && mcd_run.vm_stopped && runstate_check(RUN_STATE_DEBUG) &&
        replay_mode == REPLAY_MODE_NONE) {
        /*
         * One instruction of one core in the VM the debugger stopped: the
         * VM stays stopped (no vm_start()/vm_stop(), no QMP RESUME/STOP,
         * the virtual clock does not move); the core alone runs, and
         * holds again at the step's end.  A step count, which may run
         * long and do I/O, starts the VM as a go does.
         */
        trace_mcd_step_alone(cpu->cpu_index);
        cpu_debug_release_alone(cpu);
        return MCD_ERR_NONE;
    }
    start_vm();
    return MCD_ERR_NONE;
}

uint32_t mcd_target_reset(MCDSession *s, uint32_t rst_class, MCDCore *core,
                          bool halt, bool *pending, Error **errp)
{
    CPUState *cpu = core ? run_cpu(core, errp) : NULL;
    bool was_held;
    uint32_t seq;

    *pending = false;
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
    trace_mcd_reset(rst_class, cpu ? cpu->cpu_index : -1, halt);
    if (rst_class == MCD_RESET_SYSTEM &&
        reboot_action != REBOOT_ACTION_RESET) {
        error_setg(errp, "QEMU runs with -no-reboot or -action reboot=%s: a "
                   "system reset would not happen",
                   RebootAction_str(reboot_action));
        return MCD_ERR_DEVICE_ACCESS;
    }
    if (rst_class == MCD_RESET_SYSTEM) {
        CPUState *c;

        CPU_FOREACH(c) {
            if (cancel_steps(s, c)) {
                release(s, c);
            }
        }
        /* the main loop resets with the vCPUs paused: no QMP cause */
        s->reset_pending = true;
        s->reset_halt = halt;
        *pending = true;
        qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_UI);
        return MCD_ERR_NONE;
    }
    cancel_steps(s, cpu);
    was_held = cpu->debug_held;
    seq = run_core(s, cpu->cpu_index)->stop_seq;
    hold(cpu);
    cpu_reset(cpu);
    if (halt) {
        notify_stop(s, cpu, MCD_STOP_RESET);
        if (all_held()) {
            stop_vm();
        }
    } else if (!was_held && run_core(s, cpu->cpu_index)->stop_seq == seq) {
        /* unless it hit something while it was being held */
        release(s, cpu);
    }
    return MCD_ERR_NONE;
}

static ssize_t trigger_index(MCDRunCore *rc, uint32_t type, uint64_t addr,
                             uint64_t len)
{
    size_t i;

    for (i = 0; i < rc->triggers->len; i++) {
        MCDTrigger *t = &g_array_index(rc->triggers, MCDTrigger, i);

        if (t->type == type && t->addr == addr && t->len == len) {
            return i;
        }
    }
    return -1;
}

static bool trigger_id_used(MCDRunCore *rc, uint32_t id)
{
    size_t i;

    for (i = 0; i < rc->triggers->len; i++) {
        if (g_array_index(rc->triggers, MCDTrigger, i).id == id) {
            return true;
        }
    }
    return false;
}

/*
 * Change the trigger lists of @cpu, which must not run meanwhile: pause
 * it for a moment if it runs, also if it steps alone in the VM the
 * debugger stopped (its vCPU thread reads the lists at the step's debug
 * exception).  That is not a stop of the VM.
 */
typedef struct MCDPause {
    bool paused;
    bool alone;             /* it stepped alone */
    uint32_t seq;           /* the core's stop_seq before the pause */
} MCDPause;

static MCDPause pause_core(MCDSession *s, CPUState *cpu)
{
    MCDPause p = { .seq = run_core(s, cpu->cpu_index)->stop_seq };

    if (!cpu->debug_held && (runstate_is_running() || cpu->debug_alone)) {
        p.alone = cpu->debug_alone;
        cpu_debug_hold(cpu);
        p.paused = true;
    }
    return p;
}

static void unpause_core(MCDSession *s, CPUState *cpu, MCDPause p)
{
    /* a hit or a step end taken during the pause holds it for real */
    if (!p.paused || run_core(s, cpu->cpu_index)->stop_seq != p.seq) {
        return;
    }
    if (p.alone && runstate_check(RUN_STATE_DEBUG)) {
        /* its step is still to do */
        cpu_debug_release_alone(cpu);
    } else {
        cpu_debug_release(cpu);
    }
}

static void remove_trigger(CPUState *cpu, MCDRunCore *rc, size_t index)
{
    MCDTrigger t = g_array_index(rc->triggers, MCDTrigger, index);

    trace_mcd_trigger_remove(rc->index, t.id, t.type, t.addr);
    g_array_remove_index(rc->triggers, index);
    if (!cpu) {
        return;
    }
    if (t.type == MCD_TRIG_BREAKPOINT) {
        cpu_breakpoint_remove(cpu, t.addr, BP_MCD);
        return;
    }
    if (cpu->watchpoint_hit && (cpu->watchpoint_hit->flags & BP_MCD) &&
        cpu->watchpoint_hit->vaddr == t.addr &&
        cpu->watchpoint_hit->len == t.len) {
        cpu->watchpoint_hit = NULL;
    }
    cpu_watchpoint_remove(cpu, t.addr, t.len,
                          BP_MCD | mcd_watch_flags[t.type]);
}

static void remove_all_triggers(MCDSession *s, MCDRunCore *rc)
{
    CPUState *cpu = rc->index <= INT_MAX ? qemu_get_cpu(rc->index) : NULL;
    MCDPause p = {};

    if (!rc->triggers->len) {
        return;
    }
    if (cpu) {
        p = pause_core(s, cpu);
    }
    while (rc->triggers->len) {
        remove_trigger(cpu, rc, rc->triggers->len - 1);
    }
    if (cpu) {
        unpause_core(s, cpu, p);
    }
}

void mcd_core_remove_triggers(MCDCore *core)
{
    MCDRunCore *rc;

    if (!core->session) {
        return;
    }
    rc = g_hash_table_lookup(core->session->cores,
                             GUINT_TO_POINTER(core->index));
    if (rc) {
        remove_all_triggers(core->session, rc);
    }
}

uint32_t mcd_core_set_trigger(MCDCore *core, uint32_t type, uint64_t addr,
                              uint64_t len, uint32_t id, bool insert,
                              Error **errp)
{
    CPUState *cpu = run_cpu(core, errp);
    MCDTrigger new = { .id = id, .type = type, .addr = addr };
    MCDRunCore *rc;
    ssize_t index;
    MCDPause pause;
    int ret;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    rc = run_core(core->session, core->index);
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
    index = trigger_index(rc, type, addr, new.len);
    if (!insert) {
        if (index < 0) {
            error_setg(errp, "no %s at 0x%" PRIx64 " on core %" PRIu32,
                       mcd_trig_names[type], addr, core->index);
            return MCD_ERR_TRIG_ACCESS;
        }
        pause = pause_core(core->session, cpu);
        remove_trigger(cpu, rc, index);
        unpause_core(core->session, cpu, pause);
        return MCD_ERR_NONE;
    }
    if (index >= 0) {
        error_setg(errp, "a %s at 0x%" PRIx64 " is already set",
                   mcd_trig_names[type], addr);
        return MCD_ERR_TRIG_CREATE;
    }
    if (rc->triggers->len >= MCD_MAX_TRIGGERS) {
        error_setg(errp, "core %" PRIu32 " has %d triggers already",
                   core->index, MCD_MAX_TRIGGERS);
        return MCD_ERR_TRIG_CREATE;
    }
    for (new.id = id; !new.id || (!id && trigger_id_used(rc, new.id));
         new.id++) {
        /* 0: the first id that is free */
    }
    /*
     * The vCPU must not run while its lists change.  Its translated code
     * stays: held, the vCPU has left any chain of blocks; TCG chains
     * blocks only within a page, and checks the breakpoints at every
     * block it looks up, where it enters a page and after the hold (in
     * the page of a breakpoint it translates one instruction per block
     * and chains none).
     */
    pause = pause_core(core->session, cpu);
    if (type == MCD_TRIG_BREAKPOINT) {
        ret = cpu_breakpoint_insert(cpu, addr, BP_MCD, NULL);
    } else {
        ret = cpu_watchpoint_insert(cpu, addr, len,
                                    BP_MCD | mcd_watch_flags[type], NULL);
    }
    unpause_core(core->session, cpu, pause);
    if (ret) {
        error_setg(errp, "cannot set a %s at 0x%" PRIx64 ": %s",
                   mcd_trig_names[type], addr, strerror(-ret));
        return MCD_ERR_TRIG_CREATE;
    }
    g_array_append_val(rc->triggers, new);
    trace_mcd_trigger_insert(core->index, new.id, type, addr, new.len);
    return MCD_ERR_NONE;
}

void mcd_target_init(void)
{
    mcd_run.ever_ran = runstate_is_running();
    mcd_run.bh = qemu_bh_new(mcd_run_bh, NULL);
    cpu_set_debug_handler(mcd_debug_exception, NULL);
    qemu_add_vm_change_state_handler(mcd_vm_state_change, NULL);
    qemu_register_reset(mcd_system_reset, NULL);
}

MCDSession *mcd_session_new(const MCDSessionOps *ops, void *opaque)
{
    MCDSession *s = g_new0(MCDSession, 1);

    g_assert(!mcd_run.session);
    s->ops = ops;
    s->opaque = opaque;
    s->cores = g_hash_table_new_full(NULL, NULL, NULL, run_core_free);
    mcd_run.session = s;
    trace_mcd_session_open();
    return s;
}

void mcd_session_free(MCDSession *s)
{
    GHashTableIter iter;
    MCDRunCore *rc;
    CPUState *cpu;
    bool restart;

    if (!s) {
        return;
    }
    trace_mcd_session_close();
    g_hash_table_iter_init(&iter, s->cores);
    while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&rc)) {
        remove_all_triggers(s, rc);
    }
    CPU_FOREACH(cpu) {
        if (cancel_steps(s, cpu)) {
            release(s, cpu);
        }
    }
    /* what the debugger stopped runs again, after a reset too */
    restart = mcd_run.vm_stopped && (runstate_check(RUN_STATE_DEBUG) ||
                                     runstate_check(RUN_STATE_PRELAUNCH));
    mcd_run.session = NULL;
    CPU_FOREACH(cpu) {
        release(NULL, cpu);
    }
    if (restart) {
        start_vm();
    }
    g_hash_table_destroy(s->cores);
    g_free(s);
}

/* The reason of a stop, in words. */
static char *describe_stop(MCDRunCore *rc)
{
    switch (rc->reason) {
    case MCD_STOP_REQUEST:
        return g_strdup("stopped on request");
    case MCD_STOP_TRIGGER:
        if (rc->trig_type == MCD_TRIG_BREAKPOINT) {
            return g_strdup_printf("stopped at a breakpoint at 0x%" PRIx64,
                                   rc->pc);
        }
        return g_strdup_printf("stopped by a %s hit at 0x%" PRIx64
                               " (pc 0x%" PRIx64 ")",
                               mcd_trig_names[rc->trig_type],
                               rc->data_addr, rc->pc);
    case MCD_STOP_STEP:
        return g_strdup_printf("stopped after a step at 0x%" PRIx64,
                               rc->pc);
    case MCD_STOP_RESET:
        return g_strdup_printf("stopped at the reset vector 0x%" PRIx64,
                               rc->pc);
    case MCD_STOP_OTHER:
        return g_strdup_printf("stopped because core %" PRIu32 " stopped",
                               rc->cause);
    case MCD_STOP_NONE:
        break;
    }
    return g_strdup("");
}

/*
 * The description of the last stop, for a state record: made once per
 * stop, as state queries come often and printf is slow.
 */
static char *stop_reason(MCDRunCore *rc)
{
    if (!rc->stop_text || rc->said.reason != rc->reason ||
        rc->said.trig_type != rc->trig_type || rc->said.cause != rc->cause ||
        rc->said.pc != rc->pc || rc->said.data_addr != rc->data_addr) {
        g_free(rc->stop_text);
        rc->stop_text = describe_stop(rc);
        rc->said.reason = rc->reason;
        rc->said.trig_type = rc->trig_type;
        rc->said.cause = rc->cause;
        rc->said.pc = rc->pc;
        rc->said.data_addr = rc->data_addr;
    }
    return g_strdup(rc->stop_text);
}

void mcd_core_get_state(MCDCore *core, MCDStateRecord *st)
{
    CPUState *cpu = run_cpu(core, NULL);
    MCDRunCore *rc;

    memset(st, 0, sizeof(*st));
    if (!cpu) {
        st->state = MCD_RUN_HALTED;
        st->stop_reason = g_strdup("");
        st->info = g_strdup_printf("core %" PRIu32 " is gone", core->index);
        return;
    }
    rc = run_core(core->session, core->index);
    if (cpu->debug_held ||
        (runstate_check(RUN_STATE_DEBUG) && !cpu->debug_alone)) {
        /* held by us, or the VM stopped by gdb: under debugger control */
        st->state = MCD_RUN_DEBUG;
        st->stop_seq = rc->stop_seq;
        st->trig_id = rc->trig_id;
        st->trig_type = rc->trig_type;
        /* where it is now: a reset or the debugger may have moved it */
        st->pc = cpu->cc->get_pc(cpu);
        st->data_addr = rc->data_addr;
        st->stop_reason = stop_reason(rc);
        if (!rc->held_text) {
            rc->held_text = g_strdup_printf("core %" PRIu32 " stopped by "
                                            "the debugger", core->index);
        }
        st->info = g_strdup(rc->held_text);
    } else if (runstate_is_running() || rc->steps_left) {
        st->state = cpu->halted && !rc->steps_left ? MCD_RUN_HALTED
                                                   : MCD_RUN_RUNNING;
        if (st->state == MCD_RUN_HALTED) {
            st->idle = true;
            st->info = g_strdup_printf("core %" PRIu32 " waits for an "
                                       "interrupt or is powered off",
                                       core->index);
        } else if (!mcd_run.ever_stopped) {
            st->info = g_strdup("vm running since boot");
        } else {
            st->info = g_strdup_printf("core %" PRIu32 " running",
                                       core->index);
        }
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
