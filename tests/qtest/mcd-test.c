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
#include "qobject/qlist.h"
#include "mcd-util.h"

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

/*
 * The command line of the docs, with QEMU's default devices: the NIC's
 * option ROM (firmware from Debian's packages) is found, and the stub
 * answers.
 */
static void test_plain_command_line(void)
{
    QTestState *qts = qtest_initf("-M virt -cpu %s -accel tcg "
                                  "-mcd tcp:127.0.0.1:0",
                                  g_str_equal(qtest_get_arch(), "aarch64") ?
                                  "cortex-a53" : "cortex-a15");
    int fd = mcd_connect_tcp(mcd_chardev_port(qts));

    mcd_check_handshake(fd);
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
    int fd;
    QTestState *qts = mcd_start_with_client("-smp 2", &fd);
    g_autofree char *cores = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(GPtrArray) spaces = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GPtrArray) regs = NULL;
    bool aarch64 = g_str_equal(qtest_get_arch(), "aarch64");
    const char *pc;
    uint64_t regs_space = 0;
    size_t i;

    mcd_check_handshake(fd);
    expected = g_strdup_printf("device=virt.core=%s.nr_cores=2.",
                               mcd_cpu_type());
    mcd_check_reply(fd, "qcores", expected);
    mcd_check_reply(fd, "qresetf0", "1!name=full_system_reset.id=0.");
    mcd_check_reply(fd, "qresetc1", "0!name=core_reset.id=1.");
    mcd_check_reply(fd, "qtrigger", "nr_trigger=16.type=1,2,3,4."
                "option=break_on_trigger.action=check_data_value.");

    /* lists of a core need the core opened first */
    mcd_check_reply(fd, "qmemoryf0", "");
    mcd_check_ack_only(fd, "i0");
    mcd_check_ack_only(fd, "i1");

    /* memory spaces: ids 1..N, the register space last */
    spaces = mcd_query_list(fd, "qmemoryf1", "qmemoryc");
    g_assert_cmpuint(spaces->len, >=, 2);
    for (i = 0; i < spaces->len; i++) {
        const char *rec = g_ptr_array_index(spaces, i);

        g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, i + 1);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "bpm"), ==, 8);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "e"), ==, 1);   /* little */
        g_assert_cmpuint(mcd_rec_get_u64(rec, "min"), ==, 0);
        g_assert_true(strstr(rec, ".max=-1.") != NULL);
    }
    g_assert_nonnull(mcd_find_named(spaces, "GPR Registers"));
    regs_space = mcd_rec_get_u64(mcd_find_named(spaces, "GPR Registers"), "id");
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(spaces, "GPR Registers"),
                                     "type"), ==, 1);

    /* register groups: ids 1..N */
    groups = mcd_query_list(fd, "qreggroupf1", "qreggroupc");
    g_assert_cmpuint(groups->len, >=, 1);
    for (i = 0; i < groups->len; i++) {
        g_assert_cmpuint(mcd_rec_get_u64(g_ptr_array_index(groups, i), "id"),
                         ==, i + 1);
    }

    /* registers: gdb numbering, in a group, in a register space */
    regs = mcd_query_list(fd, "qregf1", "qregc");
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
    pc = mcd_find_named(regs, "pc");
    g_assert_nonnull(pc);
    g_assert_cmpuint(mcd_rec_get_u64(pc, "id"), ==, aarch64 ? 32 : 15);
    g_assert_cmpuint(mcd_rec_get_u64(pc, "size"), ==, aarch64 ? 64 : 32);
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(regs, "r0") ?:
                                 mcd_find_named(regs, "x0"), "id"), ==, 0);
    if (!aarch64) {
        g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(regs, "cpsr"), "id"),
                         ==, 25);
    }

    mcd_check_ack_only(fd, "d1");
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

    mcd_check_reply(fd, "qprotocol", "version=2.max_payload=33792."
                    "max_data=16384.extensions=errors,steps,wplen,"
                    "resethalt,stepirq,notify,stoprec,txopt.enabled=.");
    mcd_check_reply(fd, "qprotocolerrors", "version=2.max_payload=33792."
                    "max_data=16384.extensions=errors,steps,wplen,"
                    "resethalt,stepirq,notify,stoprec,txopt.enabled=errors.");
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
                      "-M virt -accel qtest -mcd none");
    check_start_fails("mcdstub: meaningless to attach a debugger to a "
                      "machine without any CPU",
                      "-M none -accel tcg -mcd none");
    close(busy);
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
    qtest_add_func("/mcd/session/detach", test_detach);
    qtest_add_func("/mcd/session/state-since-boot", test_state_since_boot);
    qtest_add_func("/mcd/start/none", test_none);
    qtest_add_func("/mcd/start/plain-command-line", test_plain_command_line);
    qtest_add_func("/mcd/start/errors", test_start_errors);

    return g_test_run();
}
