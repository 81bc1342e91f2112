/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the MCD stub qtests.
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include "libqtest.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "mcd-util.h"

/* The era-1 client sends every packet in a zero-filled buffer this big. */
#define CLIENT_BUFFER 1024
/* How long a reply may take before the test fails instead of hanging. */
#define REPLY_TIMEOUT_S 20

/* The machine and CPU model the tests use on each architecture. */
static const struct {
    const char *arch;
    const char *machine_args;
    const char *cpu_type;
} mcd_arches[] = {
    { "aarch64", "-M virt -cpu cortex-a57", "cortex-a57-arm-cpu" },
    { "arm", "-M virt -cpu cortex-a15", "cortex-a15-arm-cpu" },
    { "riscv64", "-M virt -cpu rv64", "rv64-riscv-cpu" },
    /* Debian has no OpenSBI for RV32: no firmware but the test's */
    { "riscv32", "-M virt -cpu rv32 -bios none", "rv32-riscv-cpu" },
    { "i386", "-M q35 -cpu qemu32", "qemu32-i386-cpu" },
    { "x86_64", "-M q35 -cpu qemu64", "qemu64-x86_64-cpu" },
    /*
     * Without a description of its own: the generic one.  The board
     * wants a kernel; an empty one leaves the PC at its load address.
     */
    { "m68k", "-M an5206 -cpu m5206 -kernel /dev/null", "m5206-m68k-cpu" },
};

static int mcd_arch_index(void)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(mcd_arches); i++) {
        if (g_str_equal(qtest_get_arch(), mcd_arches[i].arch)) {
            return i;
        }
    }
    g_assert_not_reached();
}

const char *mcd_machine_args(void)
{
    static char *args;

    if (!args) {
        args = g_strdup_printf("%s -accel tcg -nodefaults",
                               mcd_arches[mcd_arch_index()].machine_args);
    }
    return args;
}

QTestState *mcd_start_accel(const char *accel, const char *extra, int *fd)
{
    int lfd = mcd_listen_tcp();
    QTestState *qts = qtest_initf(
        "%s -accel %s -nodefaults %s "
        "-chardev socket,id=mcd0,fd=%d,server=on,wait=off,nodelay=on "
        "-mcd chardev:mcd0", mcd_arches[mcd_arch_index()].machine_args,
        accel, extra, lfd);

    *fd = mcd_connect_tcp(mcd_tcp_port_of(lfd));
    close(lfd);
    return qts;
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

void mcd_binary_escape(GByteArray *out, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (strchr("#$%}", data[i]) && data[i]) {
            uint8_t esc[2] = { '}', data[i] ^ 0x20 };

            g_byte_array_append(out, esc, 2);
        } else {
            g_byte_array_append(out, &data[i], 1);
        }
    }
}

GByteArray *mcd_query_binary(int fd, const void *cmd, size_t len)
{
    g_autoptr(GByteArray) pkt = g_byte_array_new();
    GByteArray *reply = g_byte_array_new();
    g_autofree uint8_t *buf = g_malloc(64 * 1024);
    bool escape = false;
    bool end = false;
    ssize_t n, i;

    g_byte_array_append(pkt, (const uint8_t *)"$", 1);
    g_byte_array_append(pkt, cmd, len);
    g_byte_array_append(pkt, (const uint8_t *)"#|", 2);
    mcd_send_raw(fd, pkt->data, pkt->len);
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '+');
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '$');
    /* take the payload in bulk, but nothing after the packet */
    while (!end) {
        n = recv(fd, buf, 64 * 1024, MSG_PEEK);
        g_assert_cmpint(n, >, 0);
        for (i = 0; i < n && !end; i++) {
            if (escape) {
                uint8_t byte = buf[i] ^ 0x20;

                g_byte_array_append(reply, &byte, 1);
                escape = false;
            } else if (buf[i] == '}') {
                escape = true;
            } else if (buf[i] == '#') {
                end = true;
            } else {
                g_byte_array_append(reply, &buf[i], 1);
            }
        }
        g_assert_cmpint(recv(fd, buf, i, 0), ==, i);
    }
    g_assert_cmpint(mcd_recv_byte(fd), ==, '|');
    return reply;
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
    return mcd_start_accel("tcg", extra, fd);
}


const char *mcd_cpu_type(void)
{
    return mcd_arches[mcd_arch_index()].cpu_type;
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

const char *mcd_get_named(GPtrArray *recs, const char *what,
                          const char *name)
{
    const char *rec = mcd_find_named(recs, name);

    if (!rec) {
        g_test_message("no %s %s", what, name);
    }
    g_assert_nonnull(rec);
    return rec;
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

/*
 * The JSON protocol, client side
 */

/* Send @text as it is. */
void mcd_json_send(int fd, const char *text)
{
    mcd_send_raw(fd, text, strlen(text));
}

/* @obj as compact JSON: no blanks outside strings. */
char *mcd_json_compact(QObject *obj)
{
    g_autoptr(GString) json = qobject_to_json(obj);
    GString *out = g_string_sized_new(json->len);
    bool in_str = false;
    size_t i;

    for (i = 0; i < json->len; i++) {
        char c = json->str[i];

        if (in_str) {
            g_string_append_c(out, c);
            if (c == '\\') {
                g_string_append_c(out, json->str[++i]);
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
            g_string_append_c(out, c);
        } else if (!g_ascii_isspace(c)) {
            g_string_append_c(out, c);
        }
    }
    return g_string_free(out, false);
}

/* Send @req as one compact JSON object, without a newline. */
void mcd_json_send_obj(int fd, QDict *req)
{
    g_autofree char *text = mcd_json_compact(QOBJECT(req));

    mcd_json_send(fd, text);
}

/*
 * Receive one reply line and return it without its '\n'; fail the test
 * if none comes within the timeout.  The line is taken from the socket
 * and nothing after it.
 */
char *mcd_json_recv_line(int fd)
{
    GString *line = g_string_new(NULL);
    char buf[4096];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);
        char *nl;

        if (n <= 0) {
            g_test_message("no reply line (%zd, %s) after \"%.200s\"", n,
                           n ? strerror(errno) : "closed", line->str);
        }
        g_assert_cmpint(n, >, 0);
        nl = memchr(buf, '\n', n);
        if (nl) {
            n = nl - buf + 1;
        }
        g_assert_cmpint(recv(fd, buf, n, 0), ==, n);
        if (nl) {
            g_string_append_len(line, buf, n - 1);
            return g_string_free(line, false);
        }
        g_string_append_len(line, buf, n);
    }
}

/* Receive one reply line and parse it: a JSON object. */
QDict *mcd_json_recv(int fd)
{
    g_autofree char *line = mcd_json_recv_line(fd);
    Error *err = NULL;
    QObject *obj = qobject_from_json(line, &err);
    QDict *reply;

    if (!obj) {
        g_test_message("bad reply \"%.200s\": %s", line,
                       err ? error_get_pretty(err) : "empty");
        error_free(err);
    }
    g_assert_nonnull(obj);
    reply = qobject_to(QDict, obj);
    g_assert_nonnull(reply);
    return reply;
}

/* Nothing arrives on @fd for @ms milliseconds. */
void mcd_json_check_silent(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char c;

    if (poll(&pfd, 1, ms) > 0) {
        g_assert_cmpint(recv(fd, &c, 1, MSG_PEEK), ==, 1);
        g_test_message("unexpected output, starting with '%c'", c);
        g_assert_not_reached();
    }
}

/*
 * Execute @command with the arguments @args (taken; NULL for none) and
 * return the whole reply, "return" or "error".
 */
QDict *mcd_json_exec(int fd, const char *command, QDict *args)
{
    g_autoptr(QDict) req = qdict_new();

    qdict_put_str(req, "execute", command);
    if (args) {
        qdict_put(req, "arguments", args);
    }
    mcd_json_send_obj(fd, req);
    return mcd_json_recv(fd);
}

/*
 * The same with the arguments written as a JSON object in the format
 * of qdict_from_jsonf_nofail(); NULL for none.
 */
QDict *mcd_json_execf(int fd, const char *command, const char *args_fmt,
                      ...)
{
    QDict *args = NULL;
    va_list ap;

    if (args_fmt) {
        va_start(ap, args_fmt);
        args = qdict_from_vjsonf_nofail(args_fmt, ap);
        va_end(ap);
    }
    return mcd_json_exec(fd, command, args);
}

/* Member @key of @d: an unsigned integer, which must be there. */
uint64_t mcd_json_uint(const QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));
    uint64_t v;

    if (!n) {
        g_test_message("no number '%s'", key);
    }
    g_assert_nonnull(n);
    g_assert_true(qnum_get_try_uint(n, &v));
    return v;
}

/* Member @key of @d: a string, which must be there. */
const char *mcd_json_str(const QDict *d, const char *key)
{
    QString *s = qobject_to(QString, qdict_get(d, key));

    if (!s) {
        g_test_message("no string '%s'", key);
    }
    g_assert_nonnull(s);
    return qstring_get_str(s);
}

/* Member @key of @d: an object, which must be there. */
QDict *mcd_json_dict(const QDict *d, const char *key)
{
    QDict *v = qobject_to(QDict, qdict_get(d, key));

    if (!v) {
        g_test_message("no object '%s'", key);
    }
    g_assert_nonnull(v);
    return v;
}

/* Member @key of @d: an array, which must be there. */
QList *mcd_json_list(const QDict *d, const char *key)
{
    QList *v = qobject_to(QList, qdict_get(d, key));

    if (!v) {
        g_test_message("no array '%s'", key);
    }
    g_assert_nonnull(v);
    return v;
}

/* Element @i of @list: an object. */
QDict *mcd_json_list_dict(QList *list, size_t i)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        if (!i--) {
            QDict *d = qobject_to(QDict, qlist_entry_obj(e));

            g_assert_nonnull(d);
            return d;
        }
    }
    g_assert_not_reached();
}

/* The "return" of @reply, which must have one. */
QDict *mcd_json_return(QDict *reply)
{
    if (!qdict_haskey(reply, "return")) {
        g_autofree char *text = mcd_json_compact(QOBJECT(reply));

        g_test_message("not a return: %s", text);
    }
    return mcd_json_dict(reply, "return");
}

/*
 * Clients that go away abruptly
 */

/*
 * Receive the '+' of a command and then its reply packet, skipping the
 * notifications that come meanwhile; return the reply's payload.
 */
char *mcd_recv_ack_reply(int fd)
{
    g_assert_cmpint(recv_byte_skip_notes(fd), ==, '+');
    return mcd_recv_packet(fd);
}

/* Take and drop whatever has arrived on @fd, without waiting. */
size_t mcd_drain(int fd)
{
    char buf[4096];
    size_t total = 0;
    ssize_t n;

    for (;;) {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            total += n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            /* nothing more for now, the end, or an error */
            return total;
        }
    }
}

/*
 * Send @len bytes of @buf without blocking on a full socket: while the
 * peer does not take them, take its replies and drop them.
 */
void mcd_send_draining(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    int64_t deadline = g_get_monotonic_time() +
                       REPLY_TIMEOUT_S * G_USEC_PER_SEC;

    while (len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
        ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            p += n;
            len -= n;
            mcd_drain(fd);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            g_test_message("send failed with %zu bytes to go: %s", len,
                           strerror(errno));
            g_assert_not_reached();
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_assert_cmpint(poll(&pfd, 1, 100), >=, 0);
        mcd_drain(fd);
    }
}

/*
 * Close with a FIN: end the sending side, take the replies until the
 * peer closes too (at most @timeout_ms), close.
 */
bool mcd_close_fin(int fd, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + timeout_ms * 1000LL;
    bool closed = false;
    char buf[4096];

    g_assert_cmpint(shutdown(fd, SHUT_WR), ==, 0);
    while (!closed) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int64_t left = deadline - g_get_monotonic_time();
        ssize_t n;

        if (left <= 0) {
            break;
        }
        if (poll(&pfd, 1, MAX(left / 1000, 1)) <= 0) {
            continue;
        }
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        /* the peer's FIN, or its RST */
        closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
    }
    close(fd);
    return closed;
}

/* Close with a RST: SO_LINGER on with a timeout of 0, then close. */
void mcd_close_rst(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
                    ==, 0);
    close(fd);
}

/* The QMP run state of the VM: "running", "debug", "paused"... */
char *mcd_run_state(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-status' }");
    QDict *ret = qdict_get_qdict(rsp, "return");
    char *status;

    g_assert_nonnull(ret);
    status = g_strdup(qdict_get_str(ret, "status"));
    g_assert_cmpint(qdict_get_bool(ret, "running"), ==,
                    g_str_equal(status, "running"));
    qobject_unref(rsp);
    return status;
}

/*
 * Whether the socket chardev @label has a client, from the filename
 * that query-chardev reports ("disconnected:..." when it has none).
 */
bool mcd_chardev_connected(QTestState *qts, const char *label)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-chardev' }");
    QList *list = qdict_get_qlist(rsp, "return");
    const QListEntry *e;
    int found = -1;

    g_assert_nonnull(list);
    QLIST_FOREACH_ENTRY(list, e) {
        QDict *chr = qobject_to(QDict, qlist_entry_obj(e));

        if (g_str_equal(qdict_get_str(chr, "label"), label)) {
            found = !g_str_has_prefix(qdict_get_str(chr, "filename"),
                                      "disconnected:");
        }
    }
    qobject_unref(rsp);
    g_assert_cmpint(found, >=, 0);
    return found;
}

bool mcd_word_grows(QTestState *qts, uint64_t addr, uint32_t n,
                    int timeout_ms)
{
    uint32_t before = qtest_readl(qts, addr);
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000LL;

    do {
        if (qtest_readl(qts, addr) - before >= n) {
            return true;
        }
        g_usleep(1000);
    } while (g_get_monotonic_time() < deadline);
    return false;
}

bool mcd_word_stays(QTestState *qts, uint64_t addr, int ms)
{
    uint32_t before = qtest_readl(qts, addr);

    g_usleep(ms * 1000);
    return qtest_readl(qts, addr) == before;
}
