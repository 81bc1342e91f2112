/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub's run control (mcdstub/run.c): cores held one
 * by one while the VM runs, MCD triggers next to gdbstub's, the stop
 * records of the stoprec extension and their notifications, the end of
 * a session while a core steps or right after a hit, the QMP events of
 * run control, and single-threaded TCG and icount, on
 * qemu-system-arm (cortex-a15) and qemu-system-aarch64 (cortex-a57).
 *
 * One tiny guest, written here as instruction words, serves every test:
 * core 0 powers on core 1 with PSCI CPU_ON over HVC, then each core
 * counts at COUNTERS + 8 * core and, when the test writes a non-zero
 * word to RESET_FLAG, clears it and resets the machine with PSCI
 * SYSTEM_RESET.  With one core the CPU_ON just fails.
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "mcd-util.h"

/* Above the device tree that QEMU writes at the start of RAM. */
#define GUEST_BASE      0x40200000
/* The counting loop, the same offset in both guests. */
#define LOOP            (GUEST_BASE + 13 * 4)
/* The counter of core n is at COUNTERS + 8 * n. */
#define COUNTERS        0x40202000
/* Non-zero: the core that sees it resets the machine. */
#define RESET_FLAG      0x40203000
/* RAM that the guest never touches. */
#define SCRATCH         0x40300000

static const uint32_t guest_a64[] = {
    0xd2800060, /* mov x0, #0x3 */
    0xf2b88000, /* movk x0, #0xc400, lsl #16 (CPU_ON64) */
    0xd2800021, /* mov x1, #1 */
    0x10000062, /* adr x2, common */
    0xd2800003, /* mov x3, #0 */
    0xd4000002, /* hvc #0 */
    0xd53800a1, /* common: mrs x1, mpidr_el1 */
    0x92401c21, /* and x1, x1, #0xff */
    0xd2840005, /* mov x5, #0x2000 */
    0xf2a80405, /* movk x5, #0x4020, lsl #16 */
    0x8b010ca5, /* add x5, x5, x1, lsl #3 */
    0xd2860006, /* mov x6, #0x3000 */
    0xf2a80406, /* movk x6, #0x4020, lsl #16 */
    0xf94000a2, /* loop: ldr x2, [x5] */
    0x91000442, /* add x2, x2, #1 */
    0xf90000a2, /* str x2, [x5] */
    0xb94000c3, /* ldr w3, [x6] */
    0x34ffff83, /* cbz w3, loop */
    0xb90000df, /* str wzr, [x6] */
    0xd2800120, /* mov x0, #0x9 */
    0xf2b08000, /* movk x0, #0x8400, lsl #16 (SYSTEM_RESET) */
    0xd4000002, /* hvc #0 */
    0x17fffff7, /* b loop */
};

static const uint32_t guest_a32[] = {
    0xe3000003, /* movw r0, #3 */
    0xe3480400, /* movt r0, #0x8400 (CPU_ON) */
    0xe3a01001, /* mov r1, #1 */
    0xe28f2004, /* adr r2, common */
    0xe3a03000, /* mov r3, #0 */
    0xe1400070, /* hvc #0 */
    0xee101fb0, /* common: mrc p15, 0, r1, c0, c0, 5 (MPIDR) */
    0xe20110ff, /* and r1, r1, #0xff */
    0xe3025000, /* movw r5, #0x2000 */
    0xe3445020, /* movt r5, #0x4020 */
    0xe0855181, /* add r5, r5, r1, lsl #3 */
    0xe3036000, /* movw r6, #0x3000 */
    0xe3446020, /* movt r6, #0x4020 */
    0xe5952000, /* loop: ldr r2, [r5] */
    0xe2822001, /* add r2, r2, #1 */
    0xe5852000, /* str r2, [r5] */
    0xe5963000, /* ldr r3, [r6] */
    0xe3530000, /* cmp r3, #0 */
    0x0afffff9, /* beq loop */
    0xe3a03000, /* mov r3, #0 */
    0xe5863000, /* str r3, [r6] */
    0xe3000009, /* movw r0, #9 */
    0xe3480400, /* movt r0, #0x8400 (SYSTEM_RESET) */
    0xe1400070, /* hvc #0 */
    0xeafffff3, /* b loop */
};

/* Polls give up after 20 s. */
#define POLL_MS         10
#define POLL_TRIES      2000

typedef struct RunTest {
    QTestState *qts;
    int fd;             /* the MCD client's socket */
    int port;           /* where the stub listens */
    int ncores;
    uint64_t pc_id;     /* the register id of the PC */
    GPtrArray *events;  /* the QMP events seen, QDicts */
} RunTest;

static bool is_aa64(void)
{
    return g_str_equal(qtest_get_arch(), "aarch64");
}

/* Send a formatted command and check its reply. */
static void check_cmd(RunTest *t, const char *reply, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void check_cmd(RunTest *t, const char *reply, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    mcd_check_reply(t->fd, cmd, reply);
}

/* The reply to "qprotocol<enabled>" */
static char *protocol_reply(const char *enabled)
{
    return g_strdup_printf(MCD_PROTOCOL_REPLY("%s"), enabled);
}

/*
 * QMP events
 */

static void event_free(gpointer p)
{
    qobject_unref((QDict *)p);
}

static bool record_event(QTestState *s, const char *name, QDict *event,
                         void *opaque)
{
    g_ptr_array_add(opaque, qobject_ref(event));
    return true;
}

/* The QMP status of the VM; every event sent before it is recorded. */
static char *vm_status(RunTest *t)
{
    return mcd_run_state(t->qts);
}

static void check_status(RunTest *t, const char *expected)
{
    g_autofree char *status = vm_status(t);

    g_assert_cmpstr(status, ==, expected);
}

/* The first event named @name recorded, or NULL. */
static QDict *find_event(RunTest *t, const char *name)
{
    guint i;

    for (i = 0; i < t->events->len; i++) {
        QDict *ev = g_ptr_array_index(t->events, i);

        if (g_str_equal(qdict_get_str(ev, "event"), name)) {
            return ev;
        }
    }
    return NULL;
}

static void forget_events(RunTest *t)
{
    g_free(vm_status(t));
    g_ptr_array_set_size(t->events, 0);
}

/* Wait for the event @name; return it. */
static QDict *wait_event(RunTest *t, const char *name)
{
    int i;

    for (i = 0; i < POLL_TRIES; i++) {
        g_free(vm_status(t));
        if (find_event(t, name)) {
            return find_event(t, name);
        }
        g_usleep(POLL_MS * 1000);
    }
    g_test_message("no %s event", name);
    g_assert_not_reached();
}

/* No STOP and no RESUME event since the last forget_events(). */
static void check_no_stop_resume(RunTest *t)
{
    g_free(vm_status(t));
    g_assert_null(find_event(t, "STOP"));
    g_assert_null(find_event(t, "RESUME"));
}

/*
 * The guest
 */

/* Whether the counter of @core moves by @n within 20 s. */
static bool counts(RunTest *t, int core, uint32_t n)
{
    return mcd_word_grows(t->qts, COUNTERS + 8 * core, n, 20000);
}

static bool moves(RunTest *t, int core)
{
    return counts(t, core, 1);
}

/* Whether the counter of @core stays put for 100 ms. */
static bool stays(RunTest *t, int core)
{
    return mcd_word_stays(t->qts, COUNTERS + 8 * core, 100);
}

/*
 * The MCD session
 */

/* Open the session with the extensions @ext and every core. */
static void session_open(RunTest *t, const char *ext)
{
    g_autofree char *cmd = g_strdup_printf("qprotocol%s", ext);
    g_autofree char *reply = protocol_reply(ext);
    g_autoptr(GPtrArray) regs = NULL;
    const char *pc;
    int i;

    mcd_check_reply(t->fd, "I", "shaking your hand");
    mcd_check_reply(t->fd, cmd, reply);
    for (i = 0; i < t->ncores; i++) {
        check_cmd(t, "success", "i%d", i);
    }
    regs = mcd_query_list(t->fd, "qregf0", "qregc");
    pc = mcd_find_named(regs, "pc");
    g_assert_nonnull(pc);
    t->pc_id = mcd_rec_get_u64(pc, "id");
    g_assert_cmpuint(mcd_rec_get_u64(pc, "size"), ==, is_aa64() ? 64 : 32);
}

/*
 * Start QEMU stopped (-S) with @ncores cores, the accelerator @accel,
 * the options @extra, the guest loaded for core 0 and the stub on a TCP
 * socket; open the session with the extensions @ext (which must include
 * errors) and let the guest run until core 0 counts.
 */
static void run_start_accel(RunTest *t, const char *accel, int ncores,
                            const char *extra, const char *ext)
{
    int lfd = mcd_listen_tcp();

    t->ncores = ncores;
    t->port = mcd_tcp_port_of(lfd);
    t->qts = qtest_initf(
        "-M virt -cpu %s -accel %s -nodefaults -smp %d -S "
        "-device loader,addr=0x%x,cpu-num=0 %s "
        "-chardev socket,id=mcd0,fd=%d,server=on,wait=off,nodelay=on "
        "-mcd chardev:mcd0", is_aa64() ? "cortex-a57" : "cortex-a15",
        accel, ncores, GUEST_BASE, extra, lfd);
    t->fd = mcd_connect_tcp(t->port);
    close(lfd);
    t->events = g_ptr_array_new_with_free_func(event_free);
    qtest_qmp_set_event_callback(t->qts, record_event, t->events);
    if (is_aa64()) {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a64, sizeof(guest_a64));
    } else {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a32, sizeof(guest_a32));
    }
    mcd_drop_notifications();
    session_open(t, ext);
    mcd_check_reply(t->fd, "C1;0", "success");
    g_assert_true(moves(t, 0));
}

static void run_start(RunTest *t, int ncores, const char *extra,
                      const char *ext)
{
    run_start_accel(t, "tcg", ncores, extra, ext);
}

/* Close the connection as a client that vanishes does. */
static void disconnect(RunTest *t)
{
    close(t->fd);
    t->fd = -1;
}

/*
 * Connect again.  The stub serves one client at a time: once it shakes
 * hands, the previous session has ended.
 */
static void reconnect(RunTest *t, const char *ext)
{
    t->fd = mcd_connect_tcp(t->port);
    mcd_drop_notifications();
    session_open(t, ext);
}

static void run_end(RunTest *t)
{
    if (t->fd >= 0) {
        mcd_check_reply(t->fd, "D", "success");
        close(t->fd);
    }
    qtest_quit(t->qts);
    g_ptr_array_free(t->events, true);
}

static uint64_t read_pc(RunTest *t, int core)
{
    g_autofree char *cmd = g_strdup_printf("p%d;%" PRIu64, core, t->pc_id);
    g_autofree char *hex = mcd_query(t->fd, cmd);
    uint64_t v = 0;
    int i;

    g_assert_cmpuint(strlen(hex), ==, is_aa64() ? 16 : 8);
    for (i = strlen(hex) / 2 - 1; i >= 0; i--) {
        unsigned byte;

        g_assert_cmpint(sscanf(hex + i * 2, "%2x", &byte), ==, 1);
        v = v << 8 | byte;
    }
    return v;
}

static char *state_of(RunTest *t, int core)
{
    g_autofree char *cmd = g_strdup_printf("qstate%d", core);

    return mcd_query(t->fd, cmd);
}

/* Poll qstate<core> until it starts with @prefix; return that record. */
static char *wait_state(RunTest *t, int core, const char *prefix)
{
    char *st = NULL;
    int i;

    for (i = 0; i < POLL_TRIES; i++) {
        g_free(st);
        st = state_of(t, core);
        if (g_str_has_prefix(st, prefix)) {
            return st;
        }
        g_usleep(POLL_MS * 1000);
    }
    g_assert_cmpstr(st, ==, prefix);
    return st;
}

/*
 * The state record of a core the debugger stopped, with the stoprec
 * fields: @event is 16 in the first record after the stop.
 */
static char *debug_rec(int core, int event, int type, uint64_t data_addr,
                       const char *stop_str, uint32_t trig_id, uint64_t pc)
{
    return g_strdup_printf("state=debug.event=%d.thread=0.type=%d.address=%"
                           PRIu64 ".stop_str=%s.info_str=core %d stopped by "
                           "the debugger.trig_id=%" PRIu32 ".pc=%" PRIu64
                           ".data_addr=%" PRIu64 ".",
                           event, type, data_addr, stop_str, core, trig_id, pc,
                           data_addr);
}

static char *bp_stop_str(uint64_t pc)
{
    return g_strdup_printf("stopped at a breakpoint at 0x%" PRIx64, pc);
}

/*
 * The tests
 */

/*
 * An MCD breakpoint is not gdb's: gdb's z0 at the same address and its
 * detach (which removes all of gdb's breakpoints) leave it in place.
 */
static void test_gdb_keeps_mcd_breakpoint(void)
{
    RunTest t = { 0 };
    g_autofree char *path = g_strdup_printf("/tmp/mcd-run-gdb-%d.sock",
                                            getpid());
    g_autofree char *extra = g_strdup_printf("-gdb unix:%s,server=on,wait=off",
                                             path);
    g_autofree char *stop_str = bp_stop_str(LOOP + 4);
    g_autofree char *first = debug_rec(0, 16, 1, 0, stop_str, 7, LOOP + 4);
    g_autofree char *again = debug_rec(0, 0, 1, 0, stop_str, 7, LOOP + 4);
    g_autofree char *st = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *cmd = NULL;
    int gdb;

    run_start(&t, 1, extra, "errors,stoprec");

    /* set while the guest runs, it hits */
    check_cmd(&t, "success", "t0;1;%d;7", LOOP + 4);
    st = wait_state(&t, 0, "state=debug.");
    g_assert_cmpstr(st, ==, first);

    /* gdb sets and clears a breakpoint at the same address, detaches */
    gdb = mcd_connect_unix(path);
    reply = mcd_gdb_query(gdb, "?");
    g_assert_true(g_str_has_prefix(reply, "T"));
    cmd = g_strdup_printf("Z0,%x,4", LOOP + 4);
    g_free(reply);
    reply = mcd_gdb_query(gdb, cmd);
    g_assert_cmpstr(reply, ==, "OK");
    cmd[0] = 'z';
    g_free(reply);
    reply = mcd_gdb_query(gdb, cmd);
    g_assert_cmpstr(reply, ==, "OK");
    /* gdb's detach also lets the VM, and so the held core, run */
    g_free(reply);
    reply = mcd_gdb_query(gdb, "D");
    g_assert_cmpstr(reply, ==, "OK");
    close(gdb);

    /* the MCD breakpoint is still there: a new stop (event 16) on it */
    g_free(st);
    st = wait_state(&t, 0, "state=debug.event=16.");
    g_assert_cmpstr(st, ==, first);
    g_assert_cmphex(read_pc(&t, 0), ==, LOOP + 4);
    /* and the stop record stays */
    g_free(st);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, again);
    g_free(st);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, again);

    /* removed, and the debugger detaches: the guest runs on */
    check_cmd(&t, "success", "T0;1;%d;7", LOOP + 4);
    mcd_check_reply(t.fd, "D", "success");
    close(t.fd);
    t.fd = -1;
    check_status(&t, "running");
    g_assert_true(counts(&t, 0, 1000));
    check_status(&t, "running");
    run_end(&t);
    unlink(path);
}

/* The PC as gdb reads it: register 15 (AArch32) or 32 (AArch64). */
static uint64_t read_pc_gdb(int gdb)
{
    g_autofree char *reply = mcd_gdb_query(gdb, is_aa64() ? "p20" : "pf");
    uint64_t pc = 0;
    int i;

    g_assert_cmpuint(strlen(reply), ==, is_aa64() ? 16 : 8);
    for (i = strlen(reply) - 2; i >= 0; i -= 2) {
        pc = (pc << 8) | (g_ascii_xdigit_value(reply[i]) << 4) |
             g_ascii_xdigit_value(reply[i + 1]);
    }
    return pc;
}

/*
 * The other way round: a gdb breakpoint survives an MCD session that
 * sets and removes its own at the same address and detaches.
 */
static void test_mcd_keeps_gdb_breakpoint(void)
{
    RunTest t = { 0 };
    g_autofree char *path = g_strdup_printf("/tmp/mcd-run-gdb2-%d.sock",
                                            getpid());
    g_autofree char *extra = g_strdup_printf("-gdb unix:%s,server=on,wait=off",
                                             path);
    g_autofree char *reply = NULL;
    g_autofree char *cmd = NULL;
    int gdb;

    run_start(&t, 1, extra, "errors,stoprec");
    gdb = mcd_connect_unix(path);
    reply = mcd_gdb_query(gdb, "?");
    g_assert_true(g_str_has_prefix(reply, "T"));
    cmd = g_strdup_printf("Z0,%x,4", LOOP + 4);
    g_free(reply);
    reply = mcd_gdb_query(gdb, cmd);
    g_assert_cmpstr(reply, ==, "OK");

    /* the MCD client sets and removes one at the address, detaches */
    check_cmd(&t, "success", "t0;1;%d;3", LOOP + 4);
    check_cmd(&t, "success", "T0;1;%d;3", LOOP + 4);
    mcd_check_reply(t.fd, "D", "success");
    close(t.fd);
    t.fd = -1;

    /* gdb's breakpoint is still there and hits */
    g_free(reply);
    reply = mcd_gdb_query(gdb, "c");
    g_assert_true(g_str_has_prefix(reply, "T05"));
    g_assert_cmphex(read_pc_gdb(gdb), ==, LOOP + 4);
    cmd[0] = 'z';
    g_free(reply);
    reply = mcd_gdb_query(gdb, cmd);
    g_assert_cmpstr(reply, ==, "OK");
    g_free(reply);
    reply = mcd_gdb_query(gdb, "D");
    g_assert_cmpstr(reply, ==, "OK");
    close(gdb);
    check_status(&t, "running");
    g_assert_true(counts(&t, 0, 1000));
    run_end(&t);
    unlink(path);
}

/* The PC of a held core does not move for 100 ms; return it. */
static uint64_t pc_stays(RunTest *t, int core)
{
    uint64_t pc = read_pc(t, core);

    g_usleep(100 * 1000);
    g_assert_cmphex(read_pc(t, core), ==, pc);
    return pc;
}

static void check_held(RunTest *t, int core)
{
    g_autofree char *st = state_of(t, core);

    g_assert_true(g_str_has_prefix(st, "state=debug."));
}

/* A reset moved held @core to GUEST_BASE: its stop record says so. */
static void check_reset_record(RunTest *t, int core)
{
    g_autofree char *st = state_of(t, core);
    g_autofree char *why = mcd_rec_get(st, "stop_str");
    g_autofree char *expected = g_strdup_printf("stopped at the reset "
                                                "vector 0x%x", GUEST_BASE);

    g_assert_cmpstr(why, ==, expected);
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), ==, GUEST_BASE);
    g_assert_cmpuint(mcd_rec_get_u64(st, "trig_id"), ==, 0);
}

/*
 * A held core stays held across the monitor's stop and cont, its
 * system_reset and a guest's PSCI SYSTEM_RESET, until the debugger
 * releases it.
 *
 * The held core is core 0 and core 1 issues the guest reset: after a
 * reset core 1 comes back powered off, and core 0 powers it on again
 * when it runs, which would move a held core 1's PC (PSCI CPU_ON sets it
 * even while the core is held).  Core 0 restarts at the loader's entry,
 * GUEST_BASE, and must stay there.
 */
static void test_held_core_survives(void)
{
    RunTest t = { 0 };
    g_autofree char *st = NULL;
    QDict *ev;
    uint64_t pc;

    run_start(&t, 2, "", "errors,stoprec");
    g_assert_true(moves(&t, 1));
    mcd_check_reply(t.fd, "b0;0", "success");
    pc = pc_stays(&t, 0);
    g_assert_cmphex(pc, >=, LOOP);
    g_assert_cmphex(pc, <, LOOP + 6 * 4);
    check_held(&t, 0);
    check_status(&t, "running");

    /* the monitor's stop and cont: core 0 stays, core 1 counts */
    qtest_qmp_assert_success(t.qts, "{ 'execute': 'stop' }");
    check_status(&t, "paused");
    qtest_qmp_assert_success(t.qts, "{ 'execute': 'cont' }");
    check_status(&t, "running");
    g_assert_true(moves(&t, 1));
    g_assert_true(stays(&t, 0));
    g_assert_cmphex(read_pc(&t, 0), ==, pc);
    check_held(&t, 0);

    /* core 1 resets the machine: core 0 waits at the reset entry */
    forget_events(&t);
    qtest_writel(t.qts, RESET_FLAG, 1);
    ev = wait_event(&t, "RESET");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "guest-reset");
    g_assert_cmpuint(qtest_readl(t.qts, RESET_FLAG), ==, 0);
    g_assert_cmphex(pc_stays(&t, 0), ==, GUEST_BASE);
    g_assert_cmphex(pc_stays(&t, 0), ==, GUEST_BASE);
    check_held(&t, 0);
    check_reset_record(&t, 0);
    g_assert_true(stays(&t, 0));
    g_assert_true(stays(&t, 1));
    st = state_of(&t, 1);
    g_assert_cmpstr(st, ==, "state=halted.event=0.thread=0.type=0.address=0."
                    "stop_str=.info_str=core 1 waits for an interrupt or is "
                    "powered off.trig_id=0.pc=0.data_addr=0.");
    check_status(&t, "running");

    /* released, core 0 starts the guest again, and core 1 with it */
    mcd_check_reply(t.fd, "C0;0", "success");
    g_assert_true(moves(&t, 0));
    g_assert_true(moves(&t, 1));

    /* held again, the monitor's system_reset */
    mcd_check_reply(t.fd, "b0;0", "success");
    g_assert_true(stays(&t, 0));
    forget_events(&t);
    qtest_qmp_assert_success(t.qts, "{ 'execute': 'system_reset' }");
    ev = wait_event(&t, "RESET");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "host-qmp-system-reset");
    g_assert_cmphex(pc_stays(&t, 0), ==, GUEST_BASE);
    g_assert_cmphex(pc_stays(&t, 0), ==, GUEST_BASE);
    check_held(&t, 0);
    check_reset_record(&t, 0);
    g_assert_true(stays(&t, 0));
    check_status(&t, "running");

    /* and the release lets the guest start again */
    mcd_check_reply(t.fd, "C0;0", "success");
    g_free(st);
    st = state_of(&t, 0);
    g_assert_true(g_str_has_prefix(st, "state=running."));
    g_assert_true(moves(&t, 0));
    g_assert_true(moves(&t, 1));
    run_end(&t);
}

/*
 * Holding one core, and changing the triggers of a running core, are
 * no stops of the VM: no QMP STOP or RESUME.  Holding every core, or a
 * global break, is.  The debugger's system reset is a reset request of
 * the user interface, not of QMP.
 */
static void test_qmp_events(void)
{
    RunTest t = { 0 };
    QDict *ev;

    run_start(&t, 2, "", "errors");
    g_assert_true(moves(&t, 1));
    forget_events(&t);

    /* a break of core 1 */
    mcd_check_reply(t.fd, "b0;1", "success");
    check_no_stop_resume(&t);
    check_status(&t, "running");
    g_assert_true(stays(&t, 1));
    g_assert_true(moves(&t, 0));

    /* a breakpoint and a watchpoint set and removed on running core 0 */
    check_cmd(&t, "success", "t0;1;%d;3", SCRATCH);
    check_cmd(&t, "success", "t0;3;%d;4", SCRATCH + 0x100);
    check_status(&t, "running");
    g_assert_true(moves(&t, 0));
    check_cmd(&t, "success", "T0;1;%d;3", SCRATCH);
    check_cmd(&t, "success", "T0;3;%d;4", SCRATCH + 0x100);
    check_no_stop_resume(&t);
    check_status(&t, "running");
    g_assert_true(moves(&t, 0));

    /* core 1 goes again */
    mcd_check_reply(t.fd, "C0;1", "success");
    g_assert_true(moves(&t, 1));
    check_no_stop_resume(&t);

    /* the positive control: a global break stops the VM, go resumes it */
    mcd_check_reply(t.fd, "b1;0", "success");
    check_status(&t, "debug");
    g_assert_nonnull(find_event(&t, "STOP"));
    g_assert_null(find_event(&t, "RESUME"));
    forget_events(&t);
    mcd_check_reply(t.fd, "C1;0", "success");
    check_status(&t, "running");
    g_assert_nonnull(find_event(&t, "RESUME"));
    g_assert_null(find_event(&t, "STOP"));
    g_assert_true(moves(&t, 0));
    g_assert_true(moves(&t, 1));

    /* the debugger's system reset is no monitor command, and no stop */
    forget_events(&t);
    mcd_check_reply(t.fd, "r0", "success");
    ev = wait_event(&t, "RESET");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"),
                    ==, "host-ui");
    check_no_stop_resume(&t);
    g_assert_true(moves(&t, 0));
    g_assert_true(moves(&t, 1));

    /* once every core is held, one by one, the VM stops too */
    forget_events(&t);
    mcd_check_reply(t.fd, "b0;1", "success");
    check_no_stop_resume(&t);
    mcd_check_reply(t.fd, "b0;0", "success");
    check_status(&t, "debug");
    g_assert_nonnull(find_event(&t, "STOP"));
    /* and a go of one core starts it again for that core */
    forget_events(&t);
    mcd_check_reply(t.fd, "C0;0", "success");
    check_status(&t, "running");
    g_assert_nonnull(find_event(&t, "RESUME"));
    g_assert_true(moves(&t, 0));
    g_assert_true(stays(&t, 1));
    run_end(&t);
}

/*
 * A single step of one core in the VM the debugger stopped leaves the VM
 * stopped: no QMP RESUME or STOP, the other core stays put.  A step
 * count starts the VM for its steps, as a go does.
 */
static void test_step_alone(void)
{
    RunTest t = { 0 };
    g_autofree char *st = NULL;
    uint64_t pc0, pc1;
    int i;

    run_start(&t, 2, "", "errors,steps,stoprec");
    g_assert_true(moves(&t, 0));
    mcd_check_reply(t.fd, "b1;0", "success");
    check_status(&t, "debug");
    pc1 = read_pc(&t, 1);
    for (i = 0; i < 5; i++) {
        forget_events(&t);
        pc0 = read_pc(&t, 0);
        mcd_check_reply(t.fd, "c0;0", "success");
        g_free(st);
        st = wait_state(&t, 0, "state=debug.");
        g_assert_true(strstr(st, "stopped after a step"));
        g_assert_cmphex(read_pc(&t, 0), !=, pc0);
        check_status(&t, "debug");
        check_no_stop_resume(&t);
    }
    g_assert_cmphex(read_pc(&t, 1), ==, pc1);
    g_assert_true(stays(&t, 1));

    /* a step count starts the VM, and stops it at its end */
    forget_events(&t);
    mcd_check_reply(t.fd, "c0;0;3", "success");
    g_free(st);
    st = wait_state(&t, 0, "state=debug.");
    g_assert_nonnull(wait_event(&t, "STOP"));
    g_assert_nonnull(find_event(&t, "RESUME"));
    check_status(&t, "debug");
    g_assert_cmphex(read_pc(&t, 1), ==, pc1);

    /* and a go after single steps runs both cores */
    mcd_check_reply(t.fd, "c0;0", "success");
    g_free(st);
    st = wait_state(&t, 0, "state=debug.");
    forget_events(&t);
    mcd_check_reply(t.fd, "C1;0", "success");
    check_status(&t, "running");
    g_assert_nonnull(find_event(&t, "RESUME"));
    g_assert_true(moves(&t, 0));
    g_assert_true(moves(&t, 1));
    run_end(&t);
}

/*
 * Triggers change while a core steps alone in the VM the debugger
 * stopped: the core pauses for the change and then does its step (the
 * vCPU thread reads the trigger lists at the step's end, so they must
 * not change under it), and a session that ends while it steps leaves
 * QEMU running.  Under AddressSanitizer this caught lists changed under
 * the stepping vCPU.
 */
static void test_step_alone_triggers(void)
{
    RunTest t = { 0 };
    g_autofree char *burst = g_strdup_printf(
        "$T0;1;%d;5#|$t0;1;%d;5#|$g0;0-3#|", LOOP + 12, LOOP + 12);
    g_autofree char *note = NULL;
    g_autofree char *got = NULL;
    int i;

    run_start(&t, 2, "", "errors,steps,notify,stoprec,regs");
    mcd_check_reply(t.fd, "b1;0", "success");
    check_cmd(&t, "success", "t0;1;%d;5", LOOP + 12);
    for (i = 0; i < 150; i++) {
        forget_events(&t);
        /* the changes come at another moment of the step each time */
        mcd_send_raw(t.fd, "$c0;0#|", 7);
        g_usleep(i % 75 * 2);
        mcd_send_raw(t.fd, burst, strlen(burst));
        g_free(got);
        got = mcd_recv_ack_reply(t.fd);
        g_assert_cmpstr(got, ==, "success");
        g_free(got);
        got = mcd_recv_ack_reply(t.fd);
        g_assert_cmpstr(got, ==, "success");
        g_free(got);
        got = mcd_recv_ack_reply(t.fd);
        g_assert_cmpstr(got, ==, "success");
        g_free(got);
        got = mcd_recv_ack_reply(t.fd);
        g_assert_cmpuint(strlen(got), ==, is_aa64() ? 64 : 32);
        /* the step ended, at a step or at the breakpoint */
        g_free(note);
        note = mcd_recv_notification(t.fd);
        g_assert_true(g_str_has_prefix(note, "stop=0.state=debug."));
        g_assert_true(strstr(note, "stopped after a step") ||
                      strstr(note, "stopped at a breakpoint"));
        check_status(&t, "debug");
        check_no_stop_resume(&t);
    }
    /* a session that ends while a core steps alone: the guest runs on */
    for (i = 0; i < 20; i++) {
        mcd_send_raw(t.fd, "$c0;0#|", 7);
        g_usleep(i * 5);
        disconnect(&t);
        t.fd = mcd_connect_tcp(t.port);
        mcd_drop_notifications();
        session_open(&t, "errors,steps,notify,stoprec,regs");
        g_assert_true(moves(&t, 0));
        mcd_check_reply(t.fd, "b1;0", "success");
        check_cmd(&t, "success", "t0;1;%d;5", LOOP + 12);
    }
    run_end(&t);
}

/*
 * With stoprec the state record of a trigger hit names the trigger id,
 * the PC and, for a watchpoint, the data address, until the core runs
 * again; the notification of the hit carries the same record.
 */
static void test_stop_records(void)
{
    RunTest t = { 0 };
    g_autofree char *stop_str = bp_stop_str(LOOP + 4);
    g_autofree char *note = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *st = NULL;

    run_start(&t, 1, "", "errors,wplen,notify,stoprec");

    /* a breakpoint */
    check_cmd(&t, "success", "t0;1;%d;5", LOOP + 4);
    note = mcd_recv_notification(t.fd);
    expected = debug_rec(0, 16, 1, 0, stop_str, 5, LOOP + 4);
    g_assert_true(g_str_has_prefix(note, "stop=0."));
    g_assert_cmpstr(note + strlen("stop=0."), ==, expected);
    g_assert_cmphex(read_pc(&t, 0), ==, LOOP + 4);
    /* the notification was the first record: the event is gone */
    g_free(expected);
    expected = debug_rec(0, 0, 1, 0, stop_str, 5, LOOP + 4);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, expected);
    g_free(st);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, expected);
    check_cmd(&t, "success", "T0;1;%d;5", LOOP + 4);

    /* a write watchpoint on the counter: the store completes */
    check_cmd(&t, "success", "t0;3;%d;9;4", COUNTERS);
    mcd_check_reply(t.fd, "C0;0", "success");
    g_free(note);
    note = mcd_recv_notification(t.fd);
    g_free(stop_str);
    stop_str = g_strdup_printf("stopped by a write watchpoint hit at 0x%x "
                               "(pc 0x%x)", COUNTERS, LOOP + 12);
    g_free(expected);
    expected = debug_rec(0, 16, 3, COUNTERS, stop_str, 9, LOOP + 12);
    g_assert_true(g_str_has_prefix(note, "stop=0."));
    g_assert_cmpstr(note + strlen("stop=0."), ==, expected);
    g_assert_cmphex(read_pc(&t, 0), ==, LOOP + 12);
    g_free(expected);
    expected = debug_rec(0, 0, 3, COUNTERS, stop_str, 9, LOOP + 12);
    g_free(st);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, expected);
    g_free(st);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, expected);
    check_cmd(&t, "success", "T0;3;%d;9;4", COUNTERS);

    /* running again, the record is gone */
    mcd_check_reply(t.fd, "C0;0", "success");
    g_free(st);
    st = state_of(&t, 0);
    g_assert_cmpstr(st, ==, "state=running.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=core 0 running.trig_id=0."
                    "pc=0.data_addr=0.");
    run_end(&t);
}

/*
 * With stopregs, the stop notifications of a step and of a breakpoint
 * carry the values the registers named with E have at the stop, the
 * same as g reads after it; E alone ends that.
 */
static void test_stop_registers(void)
{
    RunTest t = { 0 };
    g_autofree char *ids = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *note = NULL;
    g_autofree char *regs = NULL;
    g_autofree char *want = NULL;
    const char *field;
    int i;

    run_start(&t, 1, "", "errors,notify,stoprec,regs,stopregs");
    ids = g_strdup_printf("0-3,%" PRIu64, t.pc_id);
    mcd_check_reply(t.fd, "b1;0", "success");
    check_cmd(&t, "success", "E0;%s", ids);
    cmd = g_strdup_printf("g0;%s", ids);
    for (i = 0; i < 3; i++) {
        uint64_t pc = read_pc(&t, 0);

        mcd_check_reply(t.fd, "c0;0", "success");
        g_free(note);
        note = mcd_recv_notification(t.fd);
        g_assert_true(g_str_has_prefix(note, "stop=0.state=debug."));
        field = strstr(note, ".regs=");
        g_assert_nonnull(field);
        g_free(regs);
        regs = g_strndup(field + 6, strlen(field + 6) - 1);
        g_free(want);
        want = mcd_query(t.fd, cmd);
        g_assert_cmpstr(regs, ==, want);
        g_assert_cmphex(read_pc(&t, 0), !=, pc);
    }

    /* a breakpoint hit, with the PC alone */
    check_cmd(&t, "success", "E0;%" PRIu64, t.pc_id);
    check_cmd(&t, "success", "t0;1;%d;5", LOOP + 4);
    mcd_check_reply(t.fd, "C0;0", "success");
    g_free(note);
    note = mcd_recv_notification(t.fd);
    g_free(cmd);
    cmd = g_strdup_printf("p0;%" PRIu64, t.pc_id);
    g_free(want);
    want = mcd_query(t.fd, cmd);
    g_assert_cmphex(read_pc(&t, 0), ==, LOOP + 4);
    field = strstr(note, ".regs=");
    g_assert_nonnull(field);
    g_assert_true(g_str_has_prefix(field + 6, want));
    g_assert_cmpstr(field + 6 + strlen(want), ==, ".");
    check_cmd(&t, "success", "T0;1;%d;5", LOOP + 4);

    /* E alone: notifications without registers again */
    check_cmd(&t, "success", "E0");
    mcd_check_reply(t.fd, "c0;0", "success");
    g_free(note);
    note = mcd_recv_notification(t.fd);
    g_assert_null(strstr(note, "regs="));
    run_end(&t);
}

/*
 * A step count that crosses a write watchpoint stops at the hit; once
 * the watchpoint is gone the core runs on, and nothing stops the VM
 * behind the debugger's back (the hit's debug interrupt, left pending
 * by the single step, must not fire later).
 */
static void test_watchpoint_in_steps(void)
{
    RunTest t = { 0 };
    g_autofree char *note = NULL;
    g_autofree char *st = NULL;

    run_start(&t, 1, "", "errors,steps,wplen,notify,stoprec");
    mcd_check_reply(t.fd, "b1;0", "success");
    check_cmd(&t, "success", "t0;3;%d;9;4", COUNTERS);
    mcd_check_reply(t.fd, "c0;0;50", "success");
    note = mcd_recv_notification(t.fd);
    g_assert_nonnull(strstr(note, ".trig_id=9."));
    check_cmd(&t, "success", "T0;3;%d;9;4", COUNTERS);
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counts(&t, 0, 1000));
    check_status(&t, "running");
    st = state_of(&t, 0);
    g_assert_true(g_str_has_prefix(st, "state=running."));
    run_end(&t);
}

/*
 * After a session ended, the guest runs: nothing held, no step count
 * and no trigger of the session left behind.  A core that single-steps
 * or meets an MCD breakpoint without a session would stop the VM.
 */
static void check_session_left_nothing(RunTest *t)
{
    g_autofree char *st = NULL;

    /* once the stub shakes hands again, the old session is gone */
    reconnect(t, "errors");
    check_status(t, "running");
    g_assert_true(counts(t, 0, 1000));
    check_status(t, "running");
    st = state_of(t, 0);
    g_assert_true(g_str_has_prefix(st, "state=running."));
}

/* A client that vanishes while a core runs a long step count. */
static void test_disconnect_stepping(void)
{
    RunTest t = { 0 };
    g_autofree char *st = NULL;

    run_start(&t, 1, "", "errors,steps");
    mcd_check_reply(t.fd, "b0;0", "success");
    g_assert_true(stays(&t, 0));
    mcd_check_reply(t.fd, "c0;0;100000000", "success");
    st = state_of(&t, 0);
    g_assert_true(g_str_has_prefix(st, "state=running."));
    disconnect(&t);
    check_session_left_nothing(&t);
    run_end(&t);
}

/*
 * A client that vanishes right after a breakpoint hit was notified,
 * having read the notification or not.
 */
static void check_disconnect_after_hit(bool read_note)
{
    RunTest t = { 0 };
    g_autofree char *note = NULL;
    int i;

    run_start(&t, 1, "", "errors,notify");
    check_cmd(&t, "success", "t0;1;%d;1", LOOP + 4);
    if (read_note) {
        note = mcd_recv_notification(t.fd);
        g_assert_cmpstr(note, ==, "stop=0.");
    } else {
        /* the notification goes out with the stop of the VM */
        for (i = 0; i < POLL_TRIES; i++) {
            g_autofree char *status = vm_status(&t);

            if (g_str_equal(status, "debug")) {
                break;
            }
            g_usleep(POLL_MS * 1000);
        }
        check_status(&t, "debug");
    }
    disconnect(&t);
    check_session_left_nothing(&t);
    run_end(&t);
}

static void test_disconnect_after_notification(void)
{
    check_disconnect_after_hit(true);
}

static void test_disconnect_before_reading_notification(void)
{
    check_disconnect_after_hit(false);
}

/* A breakpoint hit, a step count, go and break. */
static void check_basic_run_control(RunTest *t)
{
    g_autofree char *stop_str = bp_stop_str(LOOP + 4);
    g_autofree char *expected = debug_rec(0, 16, 1, 0, stop_str, 4,
                                          LOOP + 4);
    g_autofree char *st = NULL;

    check_cmd(t, "success", "t0;1;%d;4", LOOP + 4);
    st = wait_state(t, 0, "state=debug.");
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmphex(read_pc(t, 0), ==, LOOP + 4);
    check_cmd(t, "success", "T0;1;%d;4", LOOP + 4);

    /* add, str, ldr: three steps */
    mcd_check_reply(t->fd, "c0;0;3", "success");
    g_free(st);
    st = wait_state(t, 0, "state=debug.");
    g_free(stop_str);
    stop_str = g_strdup_printf("stopped after a step at 0x%x", LOOP + 16);
    g_free(expected);
    expected = debug_rec(0, 16, 0, 0, stop_str, 0, LOOP + 16);
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmphex(read_pc(t, 0), ==, LOOP + 16);

    mcd_check_reply(t->fd, "C0;0", "success");
    check_status(t, "running");
    g_assert_true(counts(t, 0, 1000));
    g_free(st);
    st = state_of(t, 0);
    g_assert_true(g_str_has_prefix(st, "state=running."));

    mcd_check_reply(t->fd, "b0;0", "success");
    g_assert_true(stays(t, 0));
    g_free(st);
    st = state_of(t, 0);
    g_assert_true(g_str_has_prefix(st, "state=debug.event=16.thread=0."
                                   "type=0.address=0.stop_str=stopped on "
                                   "request."));
}

/* The same with the vCPUs in a single thread (round-robin TCG). */
static void test_single_thread(void)
{
    RunTest t = { 0 };

    run_start_accel(&t, "tcg,thread=single", 1, "",
                    "errors,steps,stoprec");
    check_basic_run_control(&t);
    run_end(&t);
}

/* And with icount. */
static void test_icount(void)
{
    RunTest t = { 0 };

    run_start(&t, 1, "-icount shift=0", "errors,steps,stoprec");
    check_basic_run_control(&t);
    run_end(&t);
}

/*
 * After many more rounds of core 0's loop, @stop it (NULL: not), set
 * breakpoint @id at @addr, @go and check that core 0 stops there; then
 * remove it and let every core run.
 */
static void hit_after_rounds(RunTest *t, const char *stop, const char *go,
                             uint32_t addr, int id)
{
    g_autofree char *st = NULL;

    g_assert_true(counts(t, 0, 1000));
    if (stop) {
        mcd_check_reply(t->fd, stop, "success");
    }
    check_cmd(t, "success", "t0;1;%d;%d", addr, id);
    if (go) {
        mcd_check_reply(t->fd, go, "success");
    }
    st = wait_state(t, 0, "state=debug.");
    g_assert_cmphex(read_pc(t, 0), ==, addr);
    check_cmd(t, "success", "T0;1;%d;%d", addr, id);
    mcd_check_reply(t->fd, "C1;0", "success");
}

/*
 * Breakpoints take effect in code that TCG translated, and whose blocks
 * it chained, before they were set: at each instruction of the guest's
 * loop, one set while the loop runs, one set while core 0 is held and
 * one set while the whole VM is stopped, each after many more rounds,
 * stop core 0 there.  Core 1 runs the same code, and its blocks.
 */
static void check_breakpoints_in_translated_code(RunTest *t)
{
    int n = is_aa64() ? 5 : 6;      /* the loop's instructions */
    int i;

    for (i = 0; i < n; i++) {
        uint32_t addr = LOOP + 4 * i;

        /* set while the loop runs, while core 0 is held, in a stopped VM */
        hit_after_rounds(t, NULL, NULL, addr, 5);
        hit_after_rounds(t, "b0;0", "C0;0", addr, 6);
        hit_after_rounds(t, "b1;0", "C1;0", addr, 7);
    }
    g_assert_true(counts(t, 1, 1000));
}

static void test_breakpoints_in_translated_code(void)
{
    RunTest t = { 0 };

    run_start(&t, 2, "", "errors,stoprec");
    check_breakpoints_in_translated_code(&t);
    run_end(&t);
}

/* The same with both vCPUs in one thread (round-robin TCG). */
static void test_breakpoints_in_translated_code_st(void)
{
    RunTest t = { 0 };

    run_start_accel(&t, "tcg,thread=single", 2, "", "errors,stoprec");
    check_breakpoints_in_translated_code(&t);
    run_end(&t);
}

/* The id of the first physical memory space of core 0. */
static uint32_t physical_space(RunTest *t)
{
    g_autoptr(GPtrArray) spaces = mcd_query_list(t->fd, "qmemoryf0",
                                                 "qmemoryc");
    guint i;

    for (i = 0; i < spaces->len; i++) {
        const char *rec = g_ptr_array_index(spaces, i);

        if (mcd_rec_get_u64(rec, "type") & 0x10) {
            return mcd_rec_get_u64(rec, "id");
        }
    }
    g_assert_not_reached();
}

/*
 * A list read with the lists extension, as "0!" and its records joined
 * with ';', however many replies it takes.
 */
static char *list_pages(RunTest *t, const char *first, const char *next)
{
    GString *all = g_string_new("0!");
    char *reply = mcd_query(t->fd, first);
    g_autofree char *cmd = NULL;
    uint64_t k;
    char *bang;

    for (;;) {
        bang = strchr(reply, '!');
        g_assert_nonnull(bang);
        g_string_append_printf(all, "%s%s", all->len > 2 ? ";" : "",
                               bang + 1);
        k = g_ascii_strtoull(reply, NULL, 10);
        g_free(reply);
        if (!k) {
            return g_string_free(all, false);
        }
        g_free(cmd);
        cmd = g_strdup_printf("%s%" PRIu64, next, k);
        reply = mcd_query(t->fd, cmd);
    }
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/*
 * The extensions lists, regs and binary answer what the one-item lists,
 * p and m answer, on a live core.
 */
static void test_extensions(void)
{
    RunTest t = { 0 };
    g_autoptr(GPtrArray) regs = NULL;
    g_autoptr(GString) ids = g_string_new(NULL);
    g_autoptr(GString) values = g_string_new(NULL);
    g_autoptr(GString) joined = g_string_new("0!");
    g_autoptr(GByteArray) cmd = g_byte_array_new();
    g_autoptr(GByteArray) got = NULL;
    g_autofree uint8_t *data = g_malloc(1024 * 1024);
    g_autofree uint8_t *ram = g_malloc(1024 * 1024);
    g_autofree char *reply = NULL;
    g_autofree char *head = NULL;
    uint32_t space;
    guint i;

    run_start(&t, 1, "", "errors");
    mcd_check_reply(t.fd, "b0;0", "success");
    regs = mcd_query_list(t.fd, "qregf0", "qregc");
    space = physical_space(&t);
    reply = mcd_query(t.fd, "qprotocollists,regs,binary");
    g_assert_nonnull(strstr(reply, ".max_payload=2097408."));
    g_assert_nonnull(strstr(reply, ".enabled=errors,lists,regs,binary."));

    /* one query answers what a query per register answered */
    for (i = 0; i < regs->len; i++) {
        const char *rec = g_ptr_array_index(regs, i);
        g_autofree char *p = NULL;
        g_autofree char *hex = NULL;

        g_string_append_printf(joined, "%s%s", i ? ";" : "", rec);
        if (mcd_rec_get_u64(rec, "reggroupid") != 1) {
            continue;
        }
        g_string_append_printf(ids, "%s%" PRIu64, ids->len ? "," : "",
                               mcd_rec_get_u64(rec, "id"));
        p = g_strdup_printf("p0;%" PRIu64, mcd_rec_get_u64(rec, "id"));
        hex = mcd_query(t.fd, p);
        g_string_append(values, hex);
    }
    g_free(reply);
    reply = list_pages(&t, "qregf0", "qregc");
    g_assert_cmpstr(reply, ==, joined->str);

    /* the core registers in one packet, and written back in one */
    g_free(reply);
    reply = g_strdup_printf("g0;%s", ids->str);
    g_free(head);
    head = mcd_query(t.fd, reply);
    g_assert_cmpstr(head, ==, values->str);
    g_free(reply);
    reply = g_strdup_printf("G0;%s;%s", ids->str, values->str);
    mcd_check_reply(t.fd, reply, "success");
    g_assert_cmphex(read_pc(&t, 0), ==, pc_stays(&t, 0));

    /* 1 MiB with every byte value, in one packet each way */
    for (i = 0; i < 1024 * 1024; i++) {
        data[i] = i * 7 + (i >> 8);
    }
    g_free(head);
    head = g_strdup_printf("X0;%" PRIu32 ";%d;%d;", space, SCRATCH,
                           1024 * 1024);
    g_byte_array_append(cmd, (uint8_t *)head, strlen(head));
    mcd_binary_escape(cmd, data, 1024 * 1024);
    got = mcd_query_binary(t.fd, cmd->data, cmd->len);
    g_assert_cmpmem(got->data, got->len, "success", 7);
    qtest_memread(t.qts, SCRATCH, ram, 1024 * 1024);
    g_assert_cmpmem(ram, 1024 * 1024, data, 1024 * 1024);
    g_byte_array_unref(got);
    g_free(head);
    head = g_strdup_printf("x0;%" PRIu32 ";%d;%d", space, SCRATCH, 1024 * 1024);
    got = mcd_query_binary(t.fd, head, strlen(head));
    g_assert_cmpmem(got->data, got->len, data, 1024 * 1024);
    check_cmd(&t, "error=258.text=cannot read more than 1048576 bytes at "
              "once.", "x0;%" PRIu32 ";%d;%d", space, SCRATCH,
              1024 * 1024 + 1);
    /* hex and binary agree */
    g_free(reply);
    reply = g_strdup_printf("m0;%" PRIu32 ";%d;8", space, SCRATCH + 0x23);
    g_free(head);
    head = mcd_query(t.fd, reply);
    g_string_truncate(values, 0);
    for (i = 0x23; i < 0x2b; i++) {
        g_string_append_printf(values, "%02x", data[i]);
    }
    g_assert_cmpstr(head, ==, values->str);
    run_end(&t);
}

/*
 * An era-1 client that polls the state back to back after each step gets
 * the end of the step in its first polls.
 */
static void test_era1_polling(void)
{
    RunTest t = { 0 };
    int polls[21];
    uint64_t pc;
    int i, n;

    run_start(&t, 1, "", "errors");
    mcd_check_reply(t.fd, "D", "success");
    close(t.fd);
    t.fd = mcd_connect_tcp(t.port);
    mcd_check_reply(t.fd, "I", "shaking your hand");
    mcd_check_ack_only(t.fd, "i0");
    /* a running core: the state query answers after its wait */
    for (n = 0; n < 3; n++) {
        g_autofree char *st = state_of(&t, 0);

        g_assert_true(g_str_has_prefix(st, "state=running."));
    }
    mcd_check_ack_only(t.fd, "b0;0");
    pc = read_pc(&t, 0);
    for (i = 0; i < ARRAY_SIZE(polls); i++) {
        mcd_check_ack_only(t.fd, "c0;0");
        for (n = 1; n < 100000; n++) {
            g_autofree char *st = state_of(&t, 0);

            if (g_str_has_prefix(st, "state=debug.")) {
                break;
            }
            g_assert_true(g_str_has_prefix(st, "state=running."));
        }
        polls[i] = n;
        g_assert_cmphex(read_pc(&t, 0), !=, pc);
        pc = read_pc(&t, 0);
    }
    qsort(polls, ARRAY_SIZE(polls), sizeof(polls[0]), cmp_int);
    g_test_message("polls per step: median %d, most %d",
                   polls[ARRAY_SIZE(polls) / 2], polls[ARRAY_SIZE(polls) - 1]);
    g_assert_cmpint(polls[ARRAY_SIZE(polls) / 2], <=, 3);
    mcd_check_ack_only(t.fd, "D");
    close(t.fd);
    t.fd = -1;
    g_assert_true(moves(&t, 0));
    run_end(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/run/gdb-keeps-mcd-breakpoint",
                   test_gdb_keeps_mcd_breakpoint);
    qtest_add_func("/mcd/run/mcd-keeps-gdb-breakpoint",
                   test_mcd_keeps_gdb_breakpoint);
    qtest_add_func("/mcd/run/held-core-survives", test_held_core_survives);
    qtest_add_func("/mcd/run/qmp-events", test_qmp_events);
    qtest_add_func("/mcd/run/step-alone", test_step_alone);
    qtest_add_func("/mcd/run/step-alone-triggers", test_step_alone_triggers);
    qtest_add_func("/mcd/run/stop-records", test_stop_records);
    qtest_add_func("/mcd/run/stop-registers", test_stop_registers);
    qtest_add_func("/mcd/run/watchpoint-in-steps", test_watchpoint_in_steps);
    qtest_add_func("/mcd/run/disconnect-stepping",
                   test_disconnect_stepping);
    qtest_add_func("/mcd/run/disconnect-after-notification",
                   test_disconnect_after_notification);
    qtest_add_func("/mcd/run/disconnect-before-reading-notification",
                   test_disconnect_before_reading_notification);
    qtest_add_func("/mcd/run/single-thread", test_single_thread);
    qtest_add_func("/mcd/run/icount", test_icount);
    qtest_add_func("/mcd/run/breakpoints-in-translated-code",
                   test_breakpoints_in_translated_code);
    qtest_add_func("/mcd/run/breakpoints-in-translated-code-single-thread",
                   test_breakpoints_in_translated_code_st);
    qtest_add_func("/mcd/run/extensions", test_extensions);
    qtest_add_func("/mcd/run/era1-polling", test_era1_polling);

    return g_test_run();
}
