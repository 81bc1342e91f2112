/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub (-mcd): start-up, transports and the handshake.
 *
 * Each test starts QEMU under TCG with the stub on a socket the test
 * owns, talks the packet protocol of docs/interop/mcd.rst over it the way
 * the era-1 client library does (every packet padded with NUL bytes to
 * 1024 bytes), and checks the replies byte for byte.
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

/* The era-1 client sends every packet in a zero-filled buffer this big. */
#define CLIENT_BUFFER 1024
/* How long a reply may take before the test fails instead of hanging. */
#define REPLY_TIMEOUT_S 20

/*
 * Machine options: virt with a CPU model of the binary's architecture,
 * always under TCG (the qtest accelerator cannot debug guests).
 */
static const char *machine_args(void)
{
    if (g_str_equal(qtest_get_arch(), "aarch64")) {
        return "-M virt -cpu cortex-a57 -accel tcg -nodefaults";
    }
    return "-M virt -cpu cortex-a15 -accel tcg -nodefaults";
}

/*
 * Sockets
 */

static void set_timeout(int fd)
{
    struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };

    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
                               &tv, sizeof(tv)), ==, 0);
}

/* A listening TCP socket on a free loopback port, for QEMU to inherit. */
static int listen_tcp(void)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

static int tcp_port_of(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);

    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    return ntohs(addr.sin_port);
}

static int connect_tcp(int port)
{
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
                    ==, 0);
    set_timeout(fd);
    return fd;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
                    ==, 0);
    set_timeout(fd);
    return fd;
}

/*
 * The packet protocol, client side
 */

static void send_raw(int fd, const void *buf, size_t len)
{
    g_assert_cmpint(send(fd, buf, len, MSG_NOSIGNAL), ==, len);
}

/*
 * Send a packet as the era-1 client does: framed, then NUL padding to
 * 1024 bytes; longer packets go out without padding.
 */
static void send_packet(int fd, const char *payload)
{
    g_autofree char *pkt = g_strdup_printf("$%s#|", payload);
    size_t len = strlen(pkt);

    if (len < CLIENT_BUFFER) {
        pkt = g_realloc(pkt, CLIENT_BUFFER);
        memset(pkt + len, 0, CLIENT_BUFFER - len);
        len = CLIENT_BUFFER;
    }
    send_raw(fd, pkt, len);
}

static char recv_byte(int fd)
{
    char c;

    g_assert_cmpint(recv(fd, &c, 1, 0), ==, 1);
    return c;
}

/* Receive one "$payload#|" packet and return the payload. */
static char *recv_packet(int fd)
{
    GString *payload = g_string_new(NULL);
    char c;

    g_assert_cmpint(recv_byte(fd), ==, '$');
    while ((c = recv_byte(fd)) != '#') {
        g_string_append_c(payload, c);
    }
    g_assert_cmpint(recv_byte(fd), ==, '|');
    return g_string_free(payload, false);
}

/* Send a command and check the ack and the reply. */
static void check_reply(int fd, const char *cmd, const char *reply)
{
    g_autofree char *got = NULL;

    send_packet(fd, cmd);
    g_assert_cmpint(recv_byte(fd), ==, '+');
    got = recv_packet(fd);
    g_assert_cmpstr(got, ==, reply);
}

static void check_handshake(int fd)
{
    check_reply(fd, "I", "shaking your hand");
    check_reply(fd, "qsystem", "qemu-system");
}

/* Send a command that only gets the '+' from an era-1 session. */
static void check_ack_only(int fd, const char *cmd)
{
    send_packet(fd, cmd);
    g_assert_cmpint(recv_byte(fd), ==, '+');
}

/* Send a command and return its reply. */
static char *query(int fd, const char *cmd)
{
    send_packet(fd, cmd);
    g_assert_cmpint(recv_byte(fd), ==, '+');
    return recv_packet(fd);
}

/* The value of @key in a "key=value." record, or NULL. */
static char *rec_get(const char *rec, const char *key)
{
    g_autofree char *pat = g_strdup_printf("%s=", key);
    const char *p = rec;

    while (p && *p) {
        if (g_str_has_prefix(p, pat)) {
            const char *v = p + strlen(pat);
            const char *end = strchr(v, '.');

            g_assert_nonnull(end);
            return g_strndup(v, end - v);
        }
        p = strchr(p, '.');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

static uint64_t rec_get_u64(const char *rec, const char *key)
{
    g_autofree char *v = rec_get(rec, key);

    g_assert_nonnull(v);
    return g_ascii_strtoull(v, NULL, 10);
}

/*
 * Walk a paginated list: "<first>" answers "<next>!<record>", then
 * "<next><k>" until a reply starts with "0!".  Returns the records.
 */
static GPtrArray *query_list(int fd, const char *first, const char *next)
{
    GPtrArray *recs = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *reply = query(fd, first);

    for (;;) {
        char *bang = strchr(reply, '!');
        uint64_t k;
        g_autofree char *cmd = NULL;

        g_assert_nonnull(bang);
        k = g_ascii_strtoull(reply, NULL, 10);
        if (bang[1]) {
            g_ptr_array_add(recs, g_strdup(bang + 1));
        }
        if (k == 0) {
            return recs;
        }
        /* every page names the one after it */
        g_assert_cmpuint(k, ==, recs->len);
        cmd = g_strdup_printf("%s%" PRIu64, next, k);
        g_free(reply);
        reply = query(fd, cmd);
    }
}

/* QEMU is alive and its guest still runs. */
static void check_running(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");
    QDict *ret = qdict_get_qdict(rsp, "return");

    g_assert_nonnull(ret);
    g_assert_true(qdict_get_bool(ret, "running"));
    qobject_unref(rsp);
}

/* Start QEMU with the stub on an inherited TCP socket; connect to it. */
static QTestState *start_with_client(const char *extra, int *fd)
{
    int lfd = listen_tcp();
    QTestState *qts = qtest_initf(
        "%s %s -chardev socket,id=mcd0,fd=%d,server=on,wait=off "
        "-mcd chardev:mcd0", machine_args(), extra, lfd);

    *fd = connect_tcp(tcp_port_of(lfd));
    close(lfd);
    return qts;
}

/*
 * Tests
 */

/* The stub on a TCP socket the test made and QEMU inherited. */
static void test_handshake_tcp_fd(void)
{
    int fd;
    QTestState *qts = start_with_client("", &fd);

    check_handshake(fd);
    check_running(qts);
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
    qts = qtest_initf("%s -mcd unix:%s", machine_args(), path);
    fd = connect_unix(path);
    check_handshake(fd);
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
    QTestState *qts = qtest_initf("%s -mcd tcp:127.0.0.1:0", machine_args());
    int fd = connect_tcp(mcd_chardev_port(qts));

    check_handshake(fd);
    check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* Framing: split writes, several packets at once, noise and bad frames. */
static void test_framing(void)
{
    int fd;
    QTestState *qts = start_with_client("", &fd);
    const char split[] = "$qsystem#|";
    static const char two[] = "$I#|$qsystem#|";
    g_autofree char *reply = NULL;
    size_t i;

    /* garbage and NUL bytes before '$' are ignored */
    send_raw(fd, "xyz\0\0\r\n", 7);
    check_reply(fd, "I", "shaking your hand");

    /* one byte at a time */
    for (i = 0; i < strlen(split); i++) {
        send_raw(fd, &split[i], 1);
    }
    g_assert_cmpint(recv_byte(fd), ==, '+');
    reply = recv_packet(fd);
    g_assert_cmpstr(reply, ==, "qemu-system");
    g_clear_pointer(&reply, g_free);

    /* two packets in one write: ack, reply, ack, reply */
    send_raw(fd, two, strlen(two));
    g_assert_cmpint(recv_byte(fd), ==, '+');
    reply = recv_packet(fd);
    g_assert_cmpstr(reply, ==, "shaking your hand");
    g_clear_pointer(&reply, g_free);
    g_assert_cmpint(recv_byte(fd), ==, '+');
    reply = recv_packet(fd);
    g_assert_cmpstr(reply, ==, "qemu-system");
    g_clear_pointer(&reply, g_free);

    /* '-' from the client repeats the last reply, until '+' */
    send_raw(fd, "-", 1);
    reply = recv_packet(fd);
    g_assert_cmpstr(reply, ==, "qemu-system");
    g_clear_pointer(&reply, g_free);
    send_raw(fd, "+", 1);

    /* a bad terminator is rejected with '-' and not executed */
    send_raw(fd, "$I#x", 4);
    g_assert_cmpint(recv_byte(fd), ==, '-');

    /* unknown commands get the empty packet */
    check_reply(fd, "Z", "");
    check_reply(fd, "qnosuchquery", "");
    /* malformed parameters of a command get "error" */
    check_reply(fd, "Ijunk", "error");

    check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* A client that disconnects mid-packet leaves QEMU serving the next one. */
static void test_disconnect(void)
{
    int lfd = listen_tcp();
    int port = tcp_port_of(lfd);
    QTestState *qts = qtest_initf(
        "%s -chardev socket,id=mcd0,fd=%d,server=on,wait=off "
        "-mcd chardev:mcd0", machine_args(), lfd);
    int fd;

    close(lfd);

    fd = connect_tcp(port);
    check_reply(fd, "I", "shaking your hand");
    send_raw(fd, "$qsys", 5);
    close(fd);
    check_running(qts);

    /* the half packet of the old connection is gone */
    fd = connect_tcp(port);
    check_handshake(fd);
    close(fd);
    check_running(qts);
    qtest_quit(qts);
}

static const char *cpu_type(void)
{
    return g_str_equal(qtest_get_arch(), "aarch64") ? "cortex-a57-arm-cpu"
                                                    : "cortex-a15-arm-cpu";
}

/* Find the record whose "name" is @name. */
static const char *find_named(GPtrArray *recs, const char *name)
{
    size_t i;

    for (i = 0; i < recs->len; i++) {
        g_autofree char *n = rec_get(g_ptr_array_index(recs, i), "name");

        if (n && g_str_equal(n, name)) {
            return g_ptr_array_index(recs, i);
        }
    }
    return NULL;
}

/* System and core discovery as the era-1 client does it. */
static void test_discovery(void)
{
    int fd;
    QTestState *qts = start_with_client("-smp 2", &fd);
    g_autofree char *cores = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(GPtrArray) spaces = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GPtrArray) regs = NULL;
    bool aarch64 = g_str_equal(qtest_get_arch(), "aarch64");
    const char *pc;
    uint64_t regs_space = 0;
    size_t i;

    check_handshake(fd);
    expected = g_strdup_printf("device=virt.core=%s.nr_cores=2.", cpu_type());
    check_reply(fd, "qcores", expected);
    check_reply(fd, "qresetf0", "0!name=full_system_reset.id=0.");
    check_reply(fd, "qtrigger", "nr_trigger=16.type=1,2,3,4."
                "option=break_on_trigger.action=check_data_value.");

    /* lists of a core need the core opened first */
    check_reply(fd, "qmemoryf0", "");
    check_ack_only(fd, "i0");
    check_ack_only(fd, "i1");

    /* memory spaces: ids 1..N, the register space last */
    spaces = query_list(fd, "qmemoryf1", "qmemoryc");
    g_assert_cmpuint(spaces->len, >=, 2);
    for (i = 0; i < spaces->len; i++) {
        const char *rec = g_ptr_array_index(spaces, i);

        g_assert_cmpuint(rec_get_u64(rec, "id"), ==, i + 1);
        g_assert_cmpuint(rec_get_u64(rec, "bpm"), ==, 8);
        g_assert_cmpuint(rec_get_u64(rec, "e"), ==, 1);   /* little */
        g_assert_cmpuint(rec_get_u64(rec, "min"), ==, 0);
        g_assert_true(strstr(rec, ".max=-1.") != NULL);
    }
    g_assert_nonnull(find_named(spaces, "GPR Registers"));
    regs_space = rec_get_u64(find_named(spaces, "GPR Registers"), "id");
    g_assert_cmpuint(rec_get_u64(find_named(spaces, "GPR Registers"), "type"),
                     ==, 1);

    /* register groups: ids 1..N */
    groups = query_list(fd, "qreggroupf1", "qreggroupc");
    g_assert_cmpuint(groups->len, >=, 1);
    for (i = 0; i < groups->len; i++) {
        g_assert_cmpuint(rec_get_u64(g_ptr_array_index(groups, i), "id"),
                         ==, i + 1);
    }

    /* registers: gdb numbering, in a group, in the register space */
    regs = query_list(fd, "qregf1", "qregc");
    for (i = 0; i < regs->len; i++) {
        const char *rec = g_ptr_array_index(regs, i);
        uint64_t group = rec_get_u64(rec, "reggroupid");

        g_assert_cmpuint(group, >=, 1);
        g_assert_cmpuint(group, <=, groups->len);
        g_assert_cmpuint(rec_get_u64(rec, "memspaceid"), ==, regs_space);
    }
    pc = find_named(regs, "pc");
    g_assert_nonnull(pc);
    g_assert_cmpuint(rec_get_u64(pc, "id"), ==, aarch64 ? 32 : 15);
    g_assert_cmpuint(rec_get_u64(pc, "size"), ==, aarch64 ? 64 : 32);
    g_assert_cmpuint(rec_get_u64(find_named(regs, "r0") ?:
                                 find_named(regs, "x0"), "id"), ==, 0);
    if (!aarch64) {
        g_assert_cmpuint(rec_get_u64(find_named(regs, "cpsr"), "id"),
                         ==, 25);
    }

    check_ack_only(fd, "d1");
    check_ack_only(fd, "d0");
    check_reply(fd, "qregf0", "");
    check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* Bad input gets an error reply and leaves QEMU and the guest running. */
static void test_bad_input(void)
{
    int fd;
    QTestState *qts = start_with_client("", &fd);
    g_autofree char *big = g_strnfill(5000, '7');
    g_autofree char *oversized = g_strconcat("i", big, NULL);
    static const char *const bad_numbers[] = {
        "i-1", "i+0", "i 0", "i0x0", "i4294967296", "i0;", "d", "d0junk",
    };
    size_t i;

    check_reply(fd, "I", "shaking your hand");
    for (i = 0; i < ARRAY_SIZE(bad_numbers); i++) {
        check_reply(fd, bad_numbers[i], "error");
    }
    /* an unknown core, a core not open */
    check_reply(fd, "i7", "error");
    check_reply(fd, "d0", "error");
    check_reply(fd, "qregf7", "");
    check_reply(fd, "qresetcx", "");
    check_reply(fd, "qresetc5", "");
    /* an oversized packet is read to its end and answered */
    check_reply(fd, oversized, "error");
    /* a checksum that is not hex, or wrong */
    send_raw(fd, "$I#zz", 5);
    g_assert_cmpint(recv_byte(fd), ==, '-');
    send_raw(fd, "$qsystem#17", 11);
    g_assert_cmpint(recv_byte(fd), ==, '-');
    /* the connection still works */
    check_handshake(fd);
    check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* gdb-style checksums are answered in the same framing. */
static void test_checksum(void)
{
    int fd;
    QTestState *qts = start_with_client("", &fd);
    static const char expected[] = "+$qemu-system#8a";
    char buf[sizeof(expected)] = { 0 };
    size_t i;

    send_raw(fd, "$qsystem#16", 11);
    for (i = 0; i < strlen(expected); i++) {
        buf[i] = recv_byte(fd);
    }
    g_assert_cmpstr(buf, ==, expected);
    check_handshake(fd);
    close(fd);
    qtest_quit(qts);
}

/* A client that negotiated the errors extension gets MCD error codes. */
static void test_negotiation(void)
{
    int fd;
    QTestState *qts = start_with_client("", &fd);

    check_reply(fd, "qprotocol", "version=2.max_payload=4096."
                "extensions=errors.enabled=.");
    check_reply(fd, "qprotocolerrors", "version=2.max_payload=4096."
                "extensions=errors.enabled=errors.");
    check_reply(fd, "i0", "success");
    check_reply(fd, "i7", "error=258.text=no core 7.");
    check_reply(fd, "d1", "error=257.text=core 1 is not open.");
    check_reply(fd, "iX", "error=258.text=malformed parameters for 'i'.");
    check_reply(fd, "Z", "");
    check_reply(fd, "D", "success");
    /* the extension ends with the session */
    check_reply(fd, "i7", "error");
    close(fd);
    qtest_quit(qts);
}

/* Detach ends the session; a new one can start on the same connection. */
static void test_detach(void)
{
    int fd;
    QTestState *qts = start_with_client("", &fd);

    check_handshake(fd);
    check_ack_only(fd, "i0");
    check_ack_only(fd, "D");
    check_reply(fd, "qmemoryf0", "");
    check_handshake(fd);
    check_running(qts);
    close(fd);
    qtest_quit(qts);
}

/* -mcd none starts QEMU without a connection. */
static void test_none(void)
{
    QTestState *qts = qtest_initf("%s -mcd none", machine_args());

    check_running(qts);
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
    int busy = listen_tcp();

    check_start_fails("mcdstub: unusable device 'serial:foo'",
                      "%s -mcd serial:foo", machine_args());
    check_start_fails("mcdstub: no chardev with id 'nosuch'",
                      "%s -mcd chardev:nosuch", machine_args());
    check_start_fails("mcdstub: cannot open 'tcp:127.0.0.1:",
                      "%s -mcd tcp:127.0.0.1:%d", machine_args(),
                      tcp_port_of(busy));
    check_start_fails("mcdstub: the QTest accelerator does not support "
                      "guest debugging", "-M virt -accel qtest -mcd none");
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
    qtest_add_func("/mcd/start/none", test_none);
    qtest_add_func("/mcd/start/errors", test_start_errors);

    return g_test_run();
}
