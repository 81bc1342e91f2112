/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub (-mcd): start-up, transports, framing, the
 * session and discovery commands, and bad input.
 *
 * Each test starts QEMU under TCG with the stub on a socket the test
 * owns, talks the packet protocol of docs/interop/mcd.rst over it the way
 * the era-1 client library does (every packet padded with NUL bytes to
 * 1024 bytes), and checks the replies byte for byte.
 */

#include "qemu/osdep.h"
#include <sys/wait.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "mcd-util.h"

/*
 * What the tests expect of each architecture: the machine and CPU of
 * mcd_machine_args(), and for test_plain_command_line() the command line
 * of the docs, with the firmware QEMU loads by default.
 */
typedef struct McdArch {
    const char *arch;
    const char *machine;
    /* the PC register, register 0 and a status register */
    const char *pc;
    uint64_t pc_id;
    uint64_t pc_bits;
    const char *gpr0;
    const char *status;
    uint64_t status_id;
    /* the command line of the docs, and what it gives */
    const char *plain_args;
    const char *plain_cpu_type;
    unsigned plain_cores;
    /*
     * Where core 0 starts: the PC of its stop record (a linear address)
     * and its PC register (x86: the offset in CS), and the first
     * instruction's bytes if the firmware is QEMU's or well-known
     */
    uint64_t reset_pc;
    uint64_t reset_pc_reg;
    const char *reset_insn;
    /* where one instruction takes it */
    uint64_t step_pc;
    uint64_t step_pc_reg;
    /* the machine has one CPU only */
    bool uniprocessor;
    /* the board has no reset vector: a reset leaves the PC as it is */
    bool reset_keeps_pc;
    /* what "qcoreinfo" says: gdb's name and the ELF machine */
    const char *gdb_arch;
    unsigned core_type;
} McdArch;

static const McdArch mcd_arch_info[] = {
    {
        .arch = "arm", .machine = "virt",
        .pc = "pc", .pc_id = 15, .pc_bits = 32, .gpr0 = "r0",
        .status = "cpsr", .status_id = 25,
        .plain_args = "-M virt -cpu cortex-a15",
        .plain_cpu_type = "cortex-a15-arm-cpu", .plain_cores = 1,
        /* no firmware in the flash at 0: a no-op (andeq r0, r0, r0) */
        .reset_pc = 0, .reset_pc_reg = 0,
        .step_pc = 4, .step_pc_reg = 4,
        .gdb_arch = "arm", .core_type = 40,
    }, {
        .arch = "aarch64", .machine = "virt",
        .pc = "pc", .pc_id = 32, .pc_bits = 64, .gpr0 = "x0",
        .status = "cpsr", .status_id = 33,
        .plain_args = "-M virt,virtualization=true,secure=on "
                      "-cpu cortex-a53",
        .plain_cpu_type = "cortex-a53-arm-cpu", .plain_cores = 1,
        /* udf #0 in the empty flash: EL3's synchronous vector */
        .reset_pc = 0, .reset_pc_reg = 0,
        .step_pc = 0x200, .step_pc_reg = 0x200,
        .gdb_arch = "aarch64", .core_type = 183,
    }, {
        .arch = "riscv64", .machine = "virt",
        .pc = "pc", .pc_id = 32, .pc_bits = 64, .gpr0 = "zero",
        .status = "mstatus", .status_id = 66 + 0x300,
        .plain_args = "-M virt -cpu rv64 -smp 2",
        .plain_cpu_type = "rv64-riscv-cpu", .plain_cores = 2,
        /* the MROM's auipc t0, 0 */
        .reset_pc = 0x1000, .reset_pc_reg = 0x1000,
        .reset_insn = "97020000",
        .step_pc = 0x1004, .step_pc_reg = 0x1004,
        .gdb_arch = "riscv:rv64", .core_type = 243,
    }, {
        .arch = "riscv32", .machine = "virt",
        .pc = "pc", .pc_id = 32, .pc_bits = 32, .gpr0 = "zero",
        .status = "mstatus", .status_id = 66 + 0x300,
        .plain_args = "-M virt -cpu rv32 -bios none -smp 2",
        .plain_cpu_type = "rv32-riscv-cpu", .plain_cores = 2,
        /* the MROM's auipc t0, 0 */
        .reset_pc = 0x1000, .reset_pc_reg = 0x1000,
        .reset_insn = "97020000",
        .step_pc = 0x1004, .step_pc_reg = 0x1004,
        .gdb_arch = "riscv:rv32", .core_type = 243,
    }, {
        .arch = "i386", .machine = "q35",
        .pc = "eip", .pc_id = 8, .pc_bits = 32, .gpr0 = "eax",
        .status = "eflags", .status_id = 9,
        .plain_args = "-M q35 -cpu IvyBridge",
        .plain_cpu_type = "IvyBridge-i386-cpu", .plain_cores = 1,
        /* SeaBIOS: ljmp $0xf000, $0xe05b */
        .reset_pc = 0xfffffff0, .reset_pc_reg = 0xfff0,
        .reset_insn = "ea5be000",
        .step_pc = 0xfe05b, .step_pc_reg = 0xe05b,
        .gdb_arch = "i386", .core_type = 3,
    }, {
        .arch = "x86_64", .machine = "q35",
        .pc = "rip", .pc_id = 16, .pc_bits = 64, .gpr0 = "rax",
        .status = "eflags", .status_id = 17,
        .plain_args = "-M q35 -cpu IvyBridge",
        .plain_cpu_type = "IvyBridge-x86_64-cpu", .plain_cores = 1,
        .reset_pc = 0xfffffff0, .reset_pc_reg = 0xfff0,
        .reset_insn = "ea5be000",
        .step_pc = 0xfe05b, .step_pc_reg = 0xe05b,
        .gdb_arch = "i386:x86-64", .core_type = 62,
    }, {
        /* the generic description */
        .arch = "m68k", .machine = "an5206",
        .pc = "pc", .pc_id = 17, .pc_bits = 32, .gpr0 = "d0",
        .status = "ps", .status_id = 16,
        .plain_args = "-M an5206 -cpu m5206 -kernel /dev/null",
        .plain_cpu_type = "m5206-m68k-cpu", .plain_cores = 1,
        /* the empty kernel's RAM: an illegal instruction, vector 0 */
        .reset_pc = 0x10000, .reset_pc_reg = 0x10000,
        .step_pc = 0, .step_pc_reg = 0,
        .uniprocessor = true, .reset_keeps_pc = true,
        .gdb_arch = "m68k", .core_type = 4,
    },
};

static const McdArch *arch_info(void)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(mcd_arch_info); i++) {
        if (g_str_equal(qtest_get_arch(), mcd_arch_info[i].arch)) {
            return &mcd_arch_info[i];
        }
    }
    g_assert_not_reached();
}

/*
 * Tests
 */

/* The stub on a TCP socket the test made and QEMU inherited. */
static void test_handshake_tcp_fd(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);

    mcd_check_handshake(fd);
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* -mcd unix:path makes a listening Unix socket. */
static void test_handshake_unix(void)
{
    g_autofree char *dir = g_dir_make_tmp("mcd-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "mcd.sock", NULL);
    QTestState *qts;
    int fd;

    g_assert_nonnull(dir);
    qts = qtest_initf("%s -mcd unix:%s", mcd_machine_args(), path);
    fd = mcd_connect_unix(path);
    mcd_check_handshake(fd);
    close(fd);
    qtest_quit(qts);
    unlink(path);
    rmdir(dir);
}

/* The TCP port QEMU listens on, from the chardev's description. */
static int mcd_chardev_port(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-chardev' }");
    QList *list = qdict_get_qlist(rsp, "return");
    const QListEntry *e;
    int port = -1;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *chr = qobject_to(QDict, qlist_entry_obj(e));
        const char *filename = qdict_get_str(chr, "filename");
        const char *p;

        if (!g_str_equal(qdict_get_str(chr, "label"), "mcd")) {
            continue;
        }
        /* "disconnected:tcp:127.0.0.1:<port>,server=on" */
        p = strstr(filename, "tcp:127.0.0.1:");
        g_assert_nonnull(p);
        g_assert_nonnull(strstr(filename, "server=on"));
        port = atoi(p + strlen("tcp:127.0.0.1:"));
    }
    qobject_unref(rsp);
    g_assert_cmpint(port, >, 0);
    return port;
}

/* -mcd tcp:host:port makes a listening server that does not wait. */
static void test_handshake_tcp(void)
{
    QTestState *qts = qtest_initf("%s -mcd tcp:127.0.0.1:0",
                                  mcd_machine_args());
    int fd = mcd_connect_tcp(mcd_chardev_port(qts));

    mcd_check_handshake(fd);
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

static bool target_big_endian(void)
{
    return g_str_equal(qtest_get_arch(), "m68k");
}

/* A register of @core as a number. */
static uint64_t read_reg(int fd, int core, const char *rec)
{
    g_autofree char *cmd = g_strdup_printf("p%d;%" PRIu64, core,
                                           mcd_rec_get_u64(rec, "id"));
    g_autofree char *hex = mcd_query(fd, cmd);
    uint64_t v = 0;
    int i;

    int n = strlen(hex) / 2;

    g_assert_cmpuint(strlen(hex), ==, mcd_rec_get_u64(rec, "size") / 4);
    /* in the target's byte order */
    for (i = 0; i < n; i++) {
        unsigned byte;
        int at = target_big_endian() ? i : n - 1 - i;

        g_assert_cmpint(sscanf(hex + at * 2, "%2x", &byte), ==, 1);
        v = v << 8 | byte;
    }
    return v;
}

/* The first program memory space whose type has @kind too. */
static const char *program_space(GPtrArray *spaces, uint64_t kind)
{
    size_t i;

    for (i = 0; i < spaces->len; i++) {
        const char *rec = g_ptr_array_index(spaces, i);
        uint64_t type = mcd_rec_get_u64(rec, "type");

        if ((type & 2) && (type & kind)) {
            return rec;
        }
    }
    /* the generic description has physical spaces only */
    g_assert_true(kind == 0x20);
    return program_space(spaces, 0x10);
}

/* Read 4 bytes at @addr through memory space @space of core 0. */
static char *read_code(int fd, const char *space, uint64_t addr)
{
    g_autofree char *cmd = g_strdup_printf("m0;%" PRIu64 ";%" PRIu64 ";4",
                                           mcd_rec_get_u64(space, "id"),
                                           addr);

    return mcd_query(fd, cmd);
}

/* The stop reason of a state record. */
static void check_stop_str(const char *rec, const char *fmt, uint64_t addr)
{
    g_autofree char *got = mcd_rec_get(rec, "stop_str");
    g_autofree char *expected = g_strdup_printf(fmt, addr);

    g_assert_cmpstr(got, ==, expected);
}

#define PLAIN_EXTENSIONS "errors,steps,resethalt,notify,stoprec"

/*
 * A system reset and halt notifies each of the @ncores cores it halts:
 * return core 0's notification.
 */
static char *reset_notifications(int fd, unsigned ncores)
{
    char *core0 = NULL;
    unsigned i;

    for (i = 0; i < ncores; i++) {
        char *st = mcd_recv_notification(fd);

        if (g_str_has_prefix(st, "stop=0.")) {
            g_assert_null(core0);
            core0 = st;
        } else {
            g_free(st);
        }
    }
    g_assert_nonnull(core0);
    return core0;
}

/*
 * The command line of the docs, with QEMU's default devices and the
 * firmware it loads by default (from the distribution's packages: the
 * point is that it is found), then what a user's debugger does: reset
 * and halt, read the PC and the code there, step one instruction, go to
 * a breakpoint on the instruction that step reached, detach.
 */
static void test_plain_command_line(void)
{
    const McdArch *a = arch_info();
    QTestState *qts = qtest_initf("%s -accel tcg -S -mcd tcp:127.0.0.1:0",
                                  a->plain_args);
    int fd = mcd_connect_tcp(mcd_chardev_port(qts));
    g_autoptr(GPtrArray) spaces = NULL;
    g_autoptr(GPtrArray) regs = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *st = NULL;
    g_autofree char *code = NULL;
    g_autofree char *phys = NULL;
    g_autofree char *bp = NULL;
    const char *pc;
    uint64_t p1;

    mcd_drop_notifications();
    mcd_check_handshake(fd);
    mcd_check_reply(fd, "qprotocol" PLAIN_EXTENSIONS,
                    MCD_PROTOCOL_REPLY(PLAIN_EXTENSIONS));
    expected = g_strdup_printf("device=%s.core=%s.nr_cores=%u.", a->machine,
                               a->plain_cpu_type, a->plain_cores);
    mcd_check_reply(fd, "qcores", expected);
    mcd_check_reply(fd, "i0", "success");
    spaces = mcd_query_list(fd, "qmemoryf0", "qmemoryc");
    regs = mcd_query_list(fd, "qregf0", "qregc");
    pc = mcd_find_named(regs, a->pc);
    g_assert_nonnull(pc);
    g_assert_cmpuint(mcd_rec_get_u64(pc, "id"), ==, a->pc_id);

    /* -S: it never ran, and its PC is at the reset vector */
    st = mcd_query(fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=halted."));
    g_assert_cmphex(read_reg(fd, 0, pc), ==, a->reset_pc_reg);

    /* reset and halt: stopped there, with a stop record, notified */
    mcd_check_reply(fd, "r0;0;1", "success");
    g_free(st);
    st = reset_notifications(fd, a->plain_cores);
    g_assert_true(g_str_has_prefix(st, "stop=0.state=debug.event=16."));
    check_stop_str(st, "stopped at the reset vector 0x%" PRIx64, a->reset_pc);
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), ==, a->reset_pc);
    g_assert_cmphex(read_reg(fd, 0, pc), ==, a->reset_pc_reg);

    /* the code at the PC, logical first, and as it is in memory */
    code = read_code(fd, program_space(spaces, 0x20), a->reset_pc);
    phys = read_code(fd, program_space(spaces, 0x10), a->reset_pc);
    g_assert_cmpuint(strlen(code), ==, 8);
    g_assert_cmpstr(code, ==, phys);
    if (a->reset_insn) {
        g_assert_cmpstr(code, ==, a->reset_insn);
    }

    /* one step: one instruction, then stopped */
    mcd_check_reply(fd, "c0;0", "success");
    g_free(st);
    st = mcd_recv_notification(fd);
    g_assert_true(g_str_has_prefix(st, "stop=0.state=debug.event=16."));
    p1 = mcd_rec_get_u64(st, "pc");
    check_stop_str(st, "stopped after a step at 0x%" PRIx64, p1);
    g_assert_cmphex(p1, !=, a->reset_pc);
    g_assert_cmphex(p1, ==, a->step_pc);
    g_assert_cmphex(read_reg(fd, 0, pc), ==, a->step_pc_reg);
    g_free(st);
    st = mcd_query(fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=0."));
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), ==, p1);

    /* back to the reset vector, and go to a breakpoint where it was */
    mcd_check_reply(fd, "r0;0;1", "success");
    g_free(st);
    st = reset_notifications(fd, a->plain_cores);
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), ==,
                    a->reset_keeps_pc ? p1 : a->reset_pc);
    bp = g_strdup_printf("t0;1;%" PRIu64 ";1", p1);
    mcd_check_reply(fd, bp, "success");
    mcd_check_reply(fd, "C1;0", "success");
    g_free(st);
    st = mcd_recv_notification(fd);
    g_assert_true(g_str_has_prefix(st, "stop=0.state=debug.event=16."));
    check_stop_str(st, "stopped at a breakpoint at 0x%" PRIx64, p1);
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), ==, p1);
    g_assert_cmpuint(mcd_rec_get_u64(st, "type"), ==, 1);
    g_assert_cmpuint(mcd_rec_get_u64(st, "trig_id"), ==, 1);
    g_assert_cmphex(read_reg(fd, 0, pc), ==, a->step_pc_reg);
    bp[0] = 'T';
    mcd_check_reply(fd, bp, "success");

    /* detached, the guest runs */
    mcd_check_reply(fd, "D", "success");
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* Framing: split writes, several packets at once, noise and bad frames. */
static void test_framing(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);
    const char split[] = "$qsystem#|";
    static const char two[] = "$I#|$qsystem#|";
    g_autofree char *reply = NULL;
    size_t i;

    /* garbage and NUL bytes before '$' are ignored */
    mcd_send_raw(fd, "xyz\0\0\r\n", 7);
    mcd_check_reply(fd, "I", "shaking your hand");

    /* one byte at a time */
    for (i = 0; i < strlen(split); i++) {
        mcd_send_raw(fd, &split[i], 1);
    }
    g_assert_cmpint(mcd_recv_byte(fd), ==, '+');
    reply = mcd_recv_packet(fd);
    g_assert_cmpstr(reply, ==, "qemu-system");
    g_clear_pointer(&reply, g_free);

    /* two packets in one write: ack, reply, ack, reply */
    mcd_send_raw(fd, two, strlen(two));
    g_assert_cmpint(mcd_recv_byte(fd), ==, '+');
    reply = mcd_recv_packet(fd);
    g_assert_cmpstr(reply, ==, "shaking your hand");
    g_clear_pointer(&reply, g_free);
    g_assert_cmpint(mcd_recv_byte(fd), ==, '+');
    reply = mcd_recv_packet(fd);
    g_assert_cmpstr(reply, ==, "qemu-system");
    g_clear_pointer(&reply, g_free);

    /* '-' from the client repeats the last reply, until '+' */
    mcd_send_raw(fd, "-", 1);
    reply = mcd_recv_packet(fd);
    g_assert_cmpstr(reply, ==, "qemu-system");
    g_clear_pointer(&reply, g_free);
    mcd_send_raw(fd, "+", 1);

    /* a bad terminator is rejected with '-' and not executed */
    mcd_send_raw(fd, "$I#x", 4);
    g_assert_cmpint(mcd_recv_byte(fd), ==, '-');

    /* unknown commands get the empty packet */
    mcd_check_reply(fd, "Z", "");
    mcd_check_reply(fd, "qnosuchquery", "");
    /* malformed parameters of a command get "error" */
    mcd_check_reply(fd, "Ijunk", "error");

    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* A client that disconnects mid-packet leaves QEMU serving the next one. */
static void test_disconnect(void)
{
    int lfd = mcd_listen_tcp();
    int port = mcd_tcp_port_of(lfd);
    QTestState *qts = qtest_initf(
        "%s -chardev socket,id=mcd0,fd=%d,server=on,wait=off "
        "-mcd chardev:mcd0", mcd_machine_args(), lfd);
    int fd;

    close(lfd);

    fd = mcd_connect_tcp(port);
    mcd_check_reply(fd, "I", "shaking your hand");
    mcd_send_raw(fd, "$qsys", 5);
    close(fd);
    mcd_check_running(qts);

    /* the half packet of the old connection is gone */
    fd = mcd_connect_tcp(port);
    mcd_check_handshake(fd);
    close(fd);
    mcd_check_running(qts);
    qtest_quit(qts);
}

static void test_discovery(void)
{
    const McdArch *a = arch_info();
    unsigned last = a->uniprocessor ? 0 : 1;
    g_autofree char *smp = g_strdup_printf("-smp %u", last + 1);
    g_autofree char *cmd = NULL;
    int fd;
    QTestState *qts = mcd_start_with_client(smp, &fd);
    g_autofree char *cores = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(GPtrArray) spaces = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GPtrArray) regs = NULL;
    const char *pc;
    uint64_t regs_space = 0;
    size_t i;

    mcd_check_handshake(fd);
    expected = g_strdup_printf("device=%s.core=%s.nr_cores=%u.", a->machine,
                               mcd_cpu_type(), last + 1);
    mcd_check_reply(fd, "qcores", expected);
    mcd_check_reply(fd, "qresetf0", "1!name=full_system_reset.id=0.");
    mcd_check_reply(fd, "qresetc1", "0!name=core_reset.id=1.");
    mcd_check_reply(fd, "qtrigger", "nr_trigger=16.type=1,2,3,4."
                "option=break_on_trigger.action=check_data_value.");

    /* lists of a core need the core opened first */
    mcd_check_reply(fd, "qmemoryf0", "");
    mcd_check_ack_only(fd, "i0");
    if (last) {
        mcd_check_ack_only(fd, "i1");
    }

    /* memory spaces: ids 1..N, the register space last */
    cmd = g_strdup_printf("qmemoryf%u", last);
    spaces = mcd_query_list(fd, cmd, "qmemoryc");
    g_assert_cmpuint(spaces->len, >=, 2);
    for (i = 0; i < spaces->len; i++) {
        const char *rec = g_ptr_array_index(spaces, i);

        g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, i + 1);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "bpm"), ==, 8);
        /* the target's byte order: m68k is big-endian */
        g_assert_cmpuint(mcd_rec_get_u64(rec, "e"), ==,
                         target_big_endian() ? 2 : 1);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "min"), ==, 0);
        g_assert_true(strstr(rec, ".max=-1.") != NULL);
    }
    g_assert_nonnull(mcd_find_named(spaces, "GPR Registers"));
    regs_space = mcd_rec_get_u64(mcd_find_named(spaces, "GPR Registers"), "id");
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(spaces, "GPR Registers"),
                                     "type"), ==, 1);

    /* register groups: ids 1..N */
    g_free(cmd);
    cmd = g_strdup_printf("qreggroupf%u", last);
    groups = mcd_query_list(fd, cmd, "qreggroupc");
    g_assert_cmpuint(groups->len, >=, 1);
    for (i = 0; i < groups->len; i++) {
        g_assert_cmpuint(mcd_rec_get_u64(g_ptr_array_index(groups, i), "id"),
                         ==, i + 1);
    }

    /* registers: gdb numbering, in a group, in a register space */
    g_free(cmd);
    cmd = g_strdup_printf("qregf%u", last);
    regs = mcd_query_list(fd, cmd, "qregc");
    for (i = 0; i < regs->len; i++) {
        const char *rec = g_ptr_array_index(regs, i);
        uint64_t group = mcd_rec_get_u64(rec, "reggroupid");
        uint64_t space = mcd_rec_get_u64(rec, "memspaceid");

        g_assert_cmpuint(group, >=, 1);
        g_assert_cmpuint(group, <=, groups->len);

        /* in a register space: GPR, or CP for system registers */
        g_assert_cmpuint(space, >=, regs_space);
        g_assert_cmpuint(space, <=, spaces->len);
    }
    pc = mcd_find_named(regs, a->pc);
    g_assert_nonnull(pc);
    g_assert_cmpuint(mcd_rec_get_u64(pc, "id"), ==, a->pc_id);
    g_assert_cmpuint(mcd_rec_get_u64(pc, "size"), ==, a->pc_bits);
    g_assert_nonnull(mcd_find_named(regs, a->gpr0));
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(regs, a->gpr0), "id"),
                     ==, 0);
    g_assert_nonnull(mcd_find_named(regs, a->status));
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(regs, a->status), "id"),
                     ==, a->status_id);

    if (last) {
        mcd_check_ack_only(fd, "d1");
    }
    mcd_check_ack_only(fd, "d0");
    mcd_check_reply(fd, "qregf0", "");
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* Bad input gets an error reply and leaves QEMU and the guest running. */
static void test_bad_input(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);
    g_autofree char *big = g_strnfill(40000, '7');
    g_autofree char *oversized = g_strconcat("i", big, NULL);
    static const char *const bad_numbers[] = {
        "i-1", "i+0", "i 0", "i0x0", "i4294967296", "i0;", "d", "d0junk",
    };
    size_t i;

    mcd_check_reply(fd, "I", "shaking your hand");
    for (i = 0; i < ARRAY_SIZE(bad_numbers); i++) {
        mcd_check_reply(fd, bad_numbers[i], "error");
    }
    /* an unknown core, a core not open */
    mcd_check_reply(fd, "i7", "error");
    mcd_check_reply(fd, "d0", "error");
    mcd_check_reply(fd, "qregf7", "");
    mcd_check_reply(fd, "qresetcx", "");
    mcd_check_reply(fd, "qresetc5", "");
    /* an oversized packet is read to its end and answered */
    mcd_check_reply(fd, oversized, "error");
    /* a checksum that is not hex, or wrong */
    mcd_send_raw(fd, "$I#zz", 5);
    g_assert_cmpint(mcd_recv_byte(fd), ==, '-');
    mcd_send_raw(fd, "$qsystem#17", 11);
    g_assert_cmpint(mcd_recv_byte(fd), ==, '-');
    /* the connection still works */
    mcd_check_handshake(fd);
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* gdb-style checksums are answered in the same framing. */
static void test_checksum(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);
    static const char expected[] = "+$qemu-system#8a";
    char buf[sizeof(expected)] = { 0 };
    size_t i;

    mcd_send_raw(fd, "$qsystem#16", 11);
    for (i = 0; i < strlen(expected); i++) {
        buf[i] = mcd_recv_byte(fd);
    }
    g_assert_cmpstr(buf, ==, expected);
    mcd_check_handshake(fd);
    close(fd);
    qtest_quit(qts);
}

/* A client that negotiated the errors extension gets MCD error codes. */
static void test_negotiation(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);

    mcd_check_reply(fd, "qprotocol", MCD_PROTOCOL_REPLY(""));
    mcd_check_reply(fd, "qprotocolerrors", MCD_PROTOCOL_REPLY("errors"));
    mcd_check_reply(fd, "i0", "success");
    mcd_check_reply(fd, "i7", "error=258.text=no core 7.");
    mcd_check_reply(fd, "d1", "error=257.text=core 1 is not open.");
    mcd_check_reply(fd, "iX", "error=258.text=malformed parameters for 'i'.");
    mcd_check_reply(fd, "Z", "");
    mcd_check_reply(fd, "D", "success");
    /* the extension ends with the session */
    mcd_check_reply(fd, "i7", "error");
    close(fd);
    qtest_quit(qts);
}

/*
 * With "coreinfo", what each core is: its model, gdb's name of its
 * architecture and the ELF machine (the MCD API's core_type), without
 * opening it.  Unknown before it is enabled, an error for no core.
 */
static void test_coreinfo(void)
{
    const McdArch *a = arch_info();
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);
    g_autofree char *expected = NULL;

    mcd_check_reply(fd, "qcoreinfo0", "");
    mcd_check_reply(fd, "qprotocolerrors,coreinfo",
                    MCD_PROTOCOL_REPLY("errors,coreinfo"));
    expected = g_strdup_printf("core=0.model=%s.arch=%s.core_type=%u.",
                               mcd_cpu_type(), a->gdb_arch, a->core_type);
    mcd_check_reply(fd, "qcoreinfo0", expected);
    mcd_check_reply(fd, "qcoreinfo7", "error=258.text=there is no core 7.");
    mcd_check_reply(fd, "qcoreinfo", "error=258.text=malformed parameters "
                    "for 'coreinfo'.");
    mcd_check_reply(fd, "D", "success");
    close(fd);
    qtest_quit(qts);
}

/* A guest that never ran is "halted since boot", as era-1 expects. */
static void test_state_since_boot(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("-S", &fd);

    mcd_check_handshake(fd);
    mcd_check_ack_only(fd, "i0");
    mcd_check_reply(fd, "qstate0", "state=halted.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=vm halted since boot.");
    mcd_check_reply(fd, "qstate1", "");
    close(fd);
    qtest_quit(qts);
}

/* Detach ends the session; a new one can start on the same connection. */
static void test_detach(void)
{
    int fd;
    QTestState *qts = mcd_start_with_client("", &fd);

    mcd_check_handshake(fd);
    mcd_check_ack_only(fd, "i0");
    mcd_check_ack_only(fd, "D");
    mcd_check_reply(fd, "qmemoryf0", "");
    mcd_check_handshake(fd);
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* -mcd none starts QEMU without a connection. */
static void test_none(void)
{
    QTestState *qts = qtest_initf("%s -mcd none", mcd_machine_args());

    mcd_check_running(qts);
    qtest_quit(qts);
}

/*
 * Start QEMU with the arguments @fmt gives, which must make it fail at
 * start-up, and check that it says @expected on stderr.
 */
static void G_GNUC_PRINTF(2, 3)
check_start_fails(const char *expected, const char *fmt, ...)
{
    g_autofree char *args = NULL;
    g_autofree char *cmd = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *errout = NULL;
    va_list ap;
    int status;

    va_start(ap, fmt);
    args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    cmd = g_strdup_printf("%s -display none -nodefaults %s",
                          getenv("QTEST_QEMU_BINARY"), args);

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &err));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &errout, &status, &err));
    /* a clean exit with an error, not a crash */
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    if (!strstr(errout, expected)) {
        g_test_message("stderr: %s", errout);
    }
    g_assert_nonnull(strstr(errout, expected));
}

static void test_start_errors(void)
{
    int busy = mcd_listen_tcp();

    check_start_fails("mcdstub: unusable device 'serial:foo'",
                      "%s -mcd serial:foo", mcd_machine_args());
    check_start_fails("mcdstub: no chardev with id 'nosuch'",
                      "%s -mcd chardev:nosuch", mcd_machine_args());
    check_start_fails("mcdstub: cannot open 'tcp:127.0.0.1:",
                      "%s -mcd tcp:127.0.0.1:%d", mcd_machine_args(),
                      mcd_tcp_port_of(busy));
    check_start_fails("mcdstub: the QTest accelerator is not supported",
                      "-M %s -accel qtest -mcd none", arch_info()->machine);
    check_start_fails("mcdstub: meaningless to attach a debugger to a "
                      "machine without any CPU",
                      "-M none -accel tcg -mcd none");
    close(busy);
}

/* A JSON command that must succeed: its result (taken). */
static QDict *json_ok(int fd, const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static QDict *json_ok(int fd, const char *command, const char *fmt, ...)
{
    QDict *args = NULL;
    g_autoptr(QDict) reply = NULL;
    QDict *ret;
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        args = qdict_from_vjsonf_nofail(fmt, ap);
        va_end(ap);
    }
    reply = mcd_json_exec(fd, command, args);
    ret = qobject_ref(mcd_json_return(reply));
    g_assert_cmpuint(mcd_json_uint(ret, "return-status"), ==, 0);
    return ret;
}

/* The item of @list whose member @key is the string @name, or NULL. */
static QDict *json_find(QList *list, const char *key, const char *name)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));

        if (g_str_equal(mcd_json_str(d, key), name)) {
            return d;
        }
    }
    return NULL;
}

/*
 * The JSON protocol on the same socket, on every target: the model
 * (system, device, cores), QEMU's memory spaces with "GDB Registers",
 * and the registers of the gdb description.
 */
static void test_json_discovery(void)
{
    const McdArch *a = arch_info();
    QTestState *qts;
    int fd;
    g_autoptr(QDict) ret = NULL;
    g_autoptr(QDict) sys = NULL;
    g_autoptr(QDict) dev = NULL;
    g_autoptr(QList) cores = NULL;
    g_autoptr(QList) spaces = NULL;
    g_autoptr(QList) regs = NULL;
    QDict *pc, *ms;
    uint32_t n;

    qts = mcd_start_with_client("", &fd);
    ret = json_ok(fd, "mcd-initialize", "{'version-req': {'v-api-major': 1, "
                  "'v-api-minor': 1, 'author': 'test'}}");
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-open-server",
                  "{'system-key': '', 'config-string': ''}");
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-systems",
                  "{'start-index': 0, 'num-systems': 1}");
    sys = qobject_ref(mcd_json_list_dict(mcd_json_list(ret,
                                                       "system-con-info"), 0));
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-devices", "{'system-con-info': %p, "
                  "'start-index': 0, 'num-devices': 1}", qobject_ref(sys));
    dev = qobject_ref(mcd_json_list_dict(mcd_json_list(ret,
                                                       "device-con-info"), 0));
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-cores", "{'connection-info': %p, "
                  "'start-index': 0, 'num-cores': 1}", qobject_ref(dev));
    cores = qobject_ref(mcd_json_list(ret, "core-con-info"));
    g_assert_cmpuint(qlist_size(cores), ==, 1);
    g_assert_cmpstr(mcd_json_str(mcd_json_list_dict(cores, 0), "core"), ==,
                    mcd_cpu_type());
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-open-core", "{'core-con-info': %p}",
                  qobject_ref(mcd_json_list_dict(cores, 0)));
    g_assert_cmpuint(mcd_json_uint(ret, "core-uid"), ==, 1);

    /* the CPU's first address space, physical, and the registers */
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-mem-spaces", "{'core-uid': 1, "
                  "'start-index': 0, 'num-mem-spaces': 0}");
    n = mcd_json_uint(ret, "num-mem-spaces");
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-mem-spaces", "{'core-uid': 1, "
                  "'start-index': 0, 'num-mem-spaces': %u}", n);
    spaces = qobject_ref(mcd_json_list(ret, "mem-spaces"));
    g_assert_cmpuint(qlist_size(spaces), ==, n);
    ms = json_find(spaces, "mem-space-name", "system");
    g_assert_nonnull(ms);
    g_assert_cmpuint(mcd_json_uint(ms, "mem-type") & 0x10, ==, 0x10);
    g_assert_cmpuint(mcd_json_uint(ms, "endian"), ==,
                     target_big_endian() ? 2 : 1);
    g_assert_nonnull(json_find(spaces, "mem-space-name", "GDB Registers"));

    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-reg-map", "{'core-uid': 1, "
                  "'reg-group-id': 0, 'start-index': 0, 'num-regs': 0}");
    n = mcd_json_uint(ret, "num-regs");
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-qry-reg-map", "{'core-uid': 1, "
                  "'reg-group-id': 0, 'start-index': 0, 'num-regs': %u}", n);
    regs = qobject_ref(mcd_json_list(ret, "reg-info"));
    g_assert_cmpuint(qlist_size(regs), ==, n);
    pc = json_find(regs, "regname", a->pc);
    g_assert_nonnull(pc);
    g_assert_cmpuint(mcd_json_uint(pc, "regsize"), ==, a->pc_bits);
    g_assert_nonnull(json_find(regs, "regname", a->gpr0));

    qobject_unref(ret);
    ret = json_ok(fd, "mcd-close-core", "{'core-uid': 1}");
    qobject_unref(ret);
    ret = json_ok(fd, "mcd-close-server", "{'server-uid': 1}");
    mcd_check_running(qts);
    close(fd);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/handshake/tcp-fd", test_handshake_tcp_fd);
    qtest_add_func("/mcd/handshake/tcp", test_handshake_tcp);
    qtest_add_func("/mcd/handshake/unix", test_handshake_unix);
    qtest_add_func("/mcd/framing", test_framing);
    qtest_add_func("/mcd/disconnect", test_disconnect);
    qtest_add_func("/mcd/session/discovery", test_discovery);
    qtest_add_func("/mcd/session/bad-input", test_bad_input);
    qtest_add_func("/mcd/session/checksum", test_checksum);
    qtest_add_func("/mcd/session/negotiation", test_negotiation);
    qtest_add_func("/mcd/session/coreinfo", test_coreinfo);
    qtest_add_func("/mcd/session/detach", test_detach);
    qtest_add_func("/mcd/session/state-since-boot", test_state_since_boot);
    qtest_add_func("/mcd/start/none", test_none);
    qtest_add_func("/mcd/start/plain-command-line", test_plain_command_line);
    qtest_add_func("/mcd/json/discovery", test_json_discovery);
    qtest_add_func("/mcd/start/errors", test_start_errors);

    return g_test_run();
}
