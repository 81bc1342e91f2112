/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the MCD stub qtests.
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "mcd-util.h"

/* The era-1 client sends every packet in a zero-filled buffer this big. */
#define CLIENT_BUFFER 1024
/* How long a reply may take before the test fails instead of hanging. */
#define REPLY_TIMEOUT_S 20

/*
 * Machine options: virt with a CPU model of the binary's architecture,
 * always under TCG (the qtest accelerator cannot debug guests).
 */
const char *mcd_machine_args(void)
{
    if (g_str_equal(qtest_get_arch(), "aarch64")) {
        return "-M virt -cpu cortex-a57 -accel tcg -nodefaults";
    }
    return "-M virt -cpu cortex-a15 -accel tcg -nodefaults";
}

/*
 * Sockets
 */

static void mcd_set_timeout(int fd)
{
    struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };

    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
                               &tv, sizeof(tv)), ==, 0);
}

/* A listening TCP socket on a free loopback port, for QEMU to inherit. */
int mcd_listen_tcp(void)
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

int mcd_tcp_port_of(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);

    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&addr, &len), ==, 0);
    return ntohs(addr.sin_port);
}

int mcd_connect_tcp(int port)
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
    mcd_set_timeout(fd);
    return fd;
}

int mcd_connect_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
                    ==, 0);
    mcd_set_timeout(fd);
    return fd;
}

/*
 * The packet protocol, client side
 */

void mcd_send_raw(int fd, const void *buf, size_t len)
{
    g_assert_cmpint(send(fd, buf, len, MSG_NOSIGNAL), ==, len);
}

/*
 * Send a packet as the era-1 client does: framed, then NUL padding to
 * 1024 bytes; longer packets go out without padding.
 */
void mcd_send_packet(int fd, const char *payload)
{
    g_autofree char *pkt = g_strdup_printf("$%s#|", payload);
    size_t len = strlen(pkt);

    if (len < CLIENT_BUFFER) {
        pkt = g_realloc(pkt, CLIENT_BUFFER);
        memset(pkt + len, 0, CLIENT_BUFFER - len);
        len = CLIENT_BUFFER;
    }
    mcd_send_raw(fd, pkt, len);
}

char mcd_recv_byte(int fd)
{
    char c;

    g_assert_cmpint(recv(fd, &c, 1, 0), ==, 1);
    return c;
}

/* The rest of a packet after its start character: the payload. */
static char *recv_payload(int fd)
{
    GString *payload = g_string_new(NULL);
    char c;

    while ((c = mcd_recv_byte(fd)) != '#') {
        g_string_append_c(payload, c);
    }
    g_assert_cmpint(mcd_recv_byte(fd), ==, '|');
    return g_string_free(payload, false);
}

/* Notifications that came while the tests waited for a reply. */
static GQueue notifications = G_QUEUE_INIT;

/* The next byte that is not part of a notification. */
static char recv_byte_skip_notes(int fd)
{
    char c;

    while ((c = mcd_recv_byte(fd)) == '%') {
        g_queue_push_tail(&notifications, recv_payload(fd));
    }
    return c;
}

/* Receive one "$payload#|" packet and return the payload. */
char *mcd_recv_packet(int fd)
{
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '$');
    return recv_payload(fd);
}

char *mcd_recv_notification(int fd)
{
    if (g_queue_is_empty(&notifications)) {
        g_assert_cmpint(mcd_recv_byte(fd), ==, '%');
        return recv_payload(fd);
    }
    return g_queue_pop_head(&notifications);
}

/* Forget the notifications of an earlier connection. */
void mcd_drop_notifications(void)
{
    g_queue_clear_full(&notifications, g_free);
}

/* Send a command and check the ack and the reply. */
void mcd_check_reply(int fd, const char *cmd, const char *reply)
{
    g_autofree char *got = NULL;

    mcd_send_packet(fd, cmd);
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '+');
    got = mcd_recv_packet(fd);
    g_assert_cmpstr(got, ==, reply);
}

void mcd_check_handshake(int fd)
{
    mcd_check_reply(fd, "I", "shaking your hand");
    mcd_check_reply(fd, "qsystem", "qemu-system");
}

/* Send a command that only gets the '+' from an era-1 session. */
void mcd_check_ack_only(int fd, const char *cmd)
{
    mcd_send_packet(fd, cmd);
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '+');
}

/* Send a command and return its reply. */
char *mcd_query(int fd, const char *cmd)
{
    mcd_send_packet(fd, cmd);
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '+');
    return mcd_recv_packet(fd);
}

/* The value of @key in a "key=value." record, or NULL. */
char *mcd_rec_get(const char *rec, const char *key)
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

uint64_t mcd_rec_get_u64(const char *rec, const char *key)
{
    g_autofree char *v = mcd_rec_get(rec, key);

    g_assert_nonnull(v);
    return g_ascii_strtoull(v, NULL, 10);
}

/*
 * Walk a paginated list: "<first>" answers "<next>!<record>", then
 * "<next><k>" until a reply starts with "0!".  Returns the records.
 */
GPtrArray *mcd_query_list(int fd, const char *first, const char *next)
{
    GPtrArray *recs = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *reply = mcd_query(fd, first);

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
        reply = mcd_query(fd, cmd);
    }
}

/* QEMU is alive and its guest still runs. */
void mcd_check_running(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");
    QDict *ret = qdict_get_qdict(rsp, "return");

    g_assert_nonnull(ret);
    g_assert_true(qdict_get_bool(ret, "running"));
    qobject_unref(rsp);
}

/* Start QEMU with the stub on an inherited TCP socket; connect to it. */
QTestState *mcd_start_with_client(const char *extra, int *fd)
{
    int lfd = mcd_listen_tcp();
    QTestState *qts = qtest_initf(
        "%s %s -chardev socket,id=mcd0,fd=%d,server=on,wait=off,nodelay=on "
        "-mcd chardev:mcd0", mcd_machine_args(), extra, lfd);

    *fd = mcd_connect_tcp(mcd_tcp_port_of(lfd));
    close(lfd);
    return qts;
}


const char *mcd_cpu_type(void)
{
    return g_str_equal(qtest_get_arch(), "aarch64") ? "cortex-a57-arm-cpu"
                                                    : "cortex-a15-arm-cpu";
}

/* Find the record whose "name" is @name. */
const char *mcd_find_named(GPtrArray *recs, const char *name)
{
    size_t i;

    for (i = 0; i < recs->len; i++) {
        g_autofree char *n = mcd_rec_get(g_ptr_array_index(recs, i), "name");

        if (n && g_str_equal(n, name)) {
            return g_ptr_array_index(recs, i);
        }
    }
    return NULL;
}

/* Send a gdb remote protocol packet and return the payload of the reply. */
char *mcd_gdb_query(int fd, const char *payload)
{
    g_autofree char *pkt = NULL;
    GString *reply = g_string_new(NULL);
    unsigned sum = 0;
    const char *p;
    char c;

    for (p = payload; *p; p++) {
        sum += (uint8_t)*p;
    }
    pkt = g_strdup_printf("$%s#%02x", payload, sum & 0xff);
    mcd_send_raw(fd, pkt, strlen(pkt));
    g_assert_cmpint(mcd_recv_byte(fd), ==, '+');
    g_assert_cmpint(mcd_recv_byte(fd), ==, '$');
    while ((c = mcd_recv_byte(fd)) != '#') {
        g_string_append_c(reply, c);
    }
    mcd_recv_byte(fd);
    mcd_recv_byte(fd);
    mcd_send_raw(fd, "+", 1);
    return g_string_free(reply, false);
}
