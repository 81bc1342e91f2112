/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub's generic description: the one every target
 * without a description of its own gets, here on qemu-system-m68k (a
 * ColdFire MCF5206 on the an5206 board, big-endian).
 *
 * The guest, loaded with -kernel at 0x10000 and started by the test
 * through the PC register:
 *   0x10000: movea.l #0x20000, a0
 *   0x10006: addq.l #1, d0
 *   0x10008: move.l d0, (a0)
 *   0x1000a: bra.s 0x10006
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "mcd-util.h"

#define GUEST_BASE      0x10000
#define LOOP            0x10006
#define STORE           0x10008
#define BRANCH          0x1000a
#define COUNTER         0x20000
#define SCRATCH         0x30000

/* The extensions the tests enable */
#define EXTENSIONS "errors,steps,wplen,resethalt,notify,stoprec"

static const uint8_t guest[] = {
    0x20, 0x7c, 0x00, 0x02, 0x00, 0x00, /* movea.l #0x20000, a0 */
    0x52, 0x80,                         /* addq.l #1, d0 */
    0x20, 0x80,                         /* move.l d0, (a0) */
    0x60, 0xfa,                         /* bra.s 0x10006 */
};

typedef struct GenericTest {
    QTestState *qts;
    int fd;
    char *dir;
    char *kernel;
    GPtrArray *spaces;
    GPtrArray *regs;
} GenericTest;

/*
 * Start QEMU stopped with the guest, open the session and core 0, and
 * point the PC at the guest.
 */
static void generic_start(GenericTest *t)
{
    g_autofree char *args = NULL;
    g_autofree char *expected = NULL;

    t->dir = g_dir_make_tmp("mcd-generic-XXXXXX", NULL);
    g_assert_nonnull(t->dir);
    t->kernel = g_build_filename(t->dir, "guest.bin", NULL);
    g_assert_true(g_file_set_contents(t->kernel, (const char *)guest,
                                      sizeof(guest), NULL));
    args = g_strdup_printf("-kernel %s -S", t->kernel);
    t->qts = mcd_start_with_client(args, &t->fd);
    mcd_drop_notifications();
    mcd_check_handshake(t->fd);
    mcd_check_reply(t->fd, "qprotocol" EXTENSIONS,
                    MCD_PROTOCOL_REPLY(EXTENSIONS));
    mcd_check_reply(t->fd, "i0", "success");
    t->spaces = mcd_query_list(t->fd, "qmemoryf0", "qmemoryc");
    t->regs = mcd_query_list(t->fd, "qregf0", "qregc");
    /* big-endian on the wire, as the target has it */
    mcd_check_reply(t->fd, "P0;17;4;00010000", "success");
}

static void generic_end(GenericTest *t)
{
    g_autofree char *state = mcd_run_state(t->qts);

    /* -S: a guest the debugger never ran starts with the monitor's cont */
    if (g_str_equal(state, "prelaunch")) {
        qtest_qmp_assert_success(t->qts, "{ 'execute': 'cont' }");
    }
    mcd_check_reply(t->fd, "D", "success");
    mcd_check_running(t->qts);
    close(t->fd);
    qtest_quit(t->qts);
    g_ptr_array_free(t->spaces, true);
    g_ptr_array_free(t->regs, true);
    unlink(t->kernel);
    rmdir(t->dir);
    g_free(t->kernel);
    g_free(t->dir);
}

/* The stop record of core 0, taken from its notification. */
static char *wait_stop(GenericTest *t)
{
    char *st = mcd_recv_notification(t->fd);

    g_assert_true(g_str_has_prefix(st, "stop=0.state=debug.event=16."));
    return st;
}

static uint64_t reg_u32(GenericTest *t, const char *cmd)
{
    g_autofree char *hex = mcd_query(t->fd, cmd);

    g_assert_cmpuint(strlen(hex), ==, 8);
    return g_ascii_strtoull(hex, NULL, 16);
}

/* The lists: the CPU's address space, and gdbstub's registers. */
static void test_lists(void)
{
    GenericTest t = { 0 };
    g_autoptr(GPtrArray) groups = NULL;
    const char *rec;

    generic_start(&t);
    mcd_check_reply(t.fd, "qcores", "device=an5206.core=m5206-m68k-cpu."
                    "nr_cores=1.");
    g_assert_cmpuint(t.spaces->len, ==, 2);
    rec = mcd_find_named(t.spaces, "Physical");
    g_assert_nonnull(rec);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, 1);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "type"), ==, 0x12);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "e"), ==, 2);     /* big */
    rec = mcd_find_named(t.spaces, "GPR Registers");
    g_assert_nonnull(rec);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, 2);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "type"), ==, 1);

    /* one group per gdb feature, named after it */
    groups = mcd_query_list(t.fd, "qreggroupf0", "qreggroupc");
    rec = mcd_find_named(groups, "coldfire core");
    g_assert_nonnull(rec);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, 1);
    /* the MCF5206 has no FPU: nothing else */
    g_assert_cmpuint(groups->len, ==, 1);
    g_assert_cmpuint(t.regs->len, ==, 18);

    /* gdb's numbers and sizes, all in the register space */
    rec = mcd_find_named(t.regs, "d0");
    g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, 0);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "size"), ==, 32);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "reggroupid"), ==, 1);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "memspaceid"), ==, 2);
    rec = mcd_find_named(t.regs, "pc");
    g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, 17);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "size"), ==, 32);
    rec = mcd_find_named(t.regs, "a0");
    g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, 8);
    generic_end(&t);
}

/* Registers and memory, in the target's byte order. */
static void test_registers_memory(void)
{
    GenericTest t = { 0 };

    generic_start(&t);
    g_assert_cmphex(reg_u32(&t, "p0;17"), ==, GUEST_BASE);
    mcd_check_reply(t.fd, "P0;0;4;12345678", "success");
    mcd_check_reply(t.fd, "p0;0", "12345678");
    mcd_check_reply(t.fd, "P0;0;2;1234", "error=258.text=register d0 "
                    "takes 4 bytes, not 2 with 2 of data.");

    /* the guest's code, as it is in memory */
    mcd_check_reply(t.fd, "m0;1;65536;12", "207c000200005280208060fa");
    /* a write is what QEMU sees, byte for byte */
    mcd_check_reply(t.fd, "M0;1;196608;4;a1b2c3d4", "success");
    g_assert_cmphex(qtest_readl(t.qts, SCRATCH), ==, 0xa1b2c3d4);
    /* nothing there: an error */
    mcd_check_reply(t.fd, "m0;1;4026531840;4", "error=8448.text=cannot "
                    "read 0xf0000000 in cpu-memory-0.");
    generic_end(&t);
}

/* A breakpoint, a watchpoint and steps of exactly one instruction. */
static void test_run(void)
{
    GenericTest t = { 0 };
    g_autofree char *st = NULL;
    uint64_t count;

    generic_start(&t);

    /* one step each: movea.l is 6 bytes, the others 2 */
    mcd_check_reply(t.fd, "c0;0", "success");
    st = wait_stop(&t);
    g_assert_cmpuint(mcd_rec_get_u64(st, "pc"), ==, LOOP);
    g_assert_cmphex(reg_u32(&t, "p0;8"), ==, COUNTER);
    g_free(st);
    mcd_check_reply(t.fd, "P0;0;4;00000000", "success");
    mcd_check_reply(t.fd, "c0;0;2", "success");
    st = wait_stop(&t);
    g_assert_cmpuint(mcd_rec_get_u64(st, "pc"), ==, BRANCH);
    g_assert_cmphex(qtest_readl(t.qts, COUNTER), ==, 1);
    g_free(st);

    /* a breakpoint at the store */
    mcd_check_reply(t.fd, "t0;1;65544;3", "success");
    mcd_check_reply(t.fd, "C0;0", "success");
    st = wait_stop(&t);
    g_assert_cmpuint(mcd_rec_get_u64(st, "pc"), ==, STORE);
    g_assert_cmpuint(mcd_rec_get_u64(st, "trig_id"), ==, 3);
    g_assert_cmphex(reg_u32(&t, "p0;17"), ==, STORE);
    count = qtest_readl(t.qts, COUNTER);
    g_free(st);
    mcd_check_reply(t.fd, "T0;1;65544;3", "success");

    /* a write watchpoint on the counter: stops after the store */
    mcd_check_reply(t.fd, "t0;3;131072;4", "success");
    mcd_check_reply(t.fd, "C0;0", "success");
    st = wait_stop(&t);
    g_assert_cmpuint(mcd_rec_get_u64(st, "trig_id"), ==, 4);
    g_assert_cmphex(mcd_rec_get_u64(st, "data_addr"), ==, COUNTER);
    g_assert_cmphex(qtest_readl(t.qts, COUNTER), ==, count + 1);
    g_free(st);

    /* a reset and halt: at the CPU's reset PC */
    mcd_check_reply(t.fd, "r0;0;1", "success");
    st = wait_stop(&t);
    g_assert_true(strstr(st, ".stop_str=stopped at the reset vector") !=
                  NULL);
    generic_end(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/generic/lists", test_lists);
    qtest_add_func("/mcd/generic/registers-memory", test_registers_memory);
    qtest_add_func("/mcd/generic/run", test_run);

    return g_test_run();
}
