/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for clients of the MCD stub that go away at any byte: a client
 * that disconnects anywhere in a debugger session leaves QEMU and the
 * guest running and clean, on qemu-system-arm (cortex-a15) and
 * qemu-system-aarch64 (cortex-a57).
 *
 * A realistic session of each protocol is recorded as a byte script: it
 * sets a breakpoint on the guest's loop and a write watchpoint on its
 * counter, lets the guest run and hit, stops it, steps it, removes the
 * watchpoint, writes a 16-byte pattern with one write and ends the
 * session.  The recording plays it once as a debugger does, command by
 * command, checking each reply and waiting for each stop (the packet
 * client for the stop notification of each hit and step, the JSON one
 * for the reply of each step); the guest must run afterwards, as after
 * any cut.  Then, for every cut point k from 0 to the script's length,
 * a client connects, sends the first k bytes without waiting for
 * replies (it takes them without blocking, only to keep the socket
 * buffers from filling) and goes away, once with a FIN (shutdown, then
 * close once QEMU closed its end) and once with a RST (SO_LINGER on
 * with a timeout of 0, then close).  After each disconnect, within a
 * bounded poll:
 *
 *  - QEMU is alive: QMP query-status answers;
 *  - the guest runs: the run state is "running" and the counter moves
 *    by 1000, which also proves that no MCD trigger is left, since every
 *    round of the loop executes the breakpoint's address and writes the
 *    watched counter;
 *  - the pattern area, which the test initialised, holds all the old
 *    bytes or all the new ones, never a mix; the new ones only if the
 *    whole write command was sent, and always then if the client ended
 *    with a FIN (QEMU executes everything that came before it).
 *
 * The test then writes the old bytes back and goes on with the next cut
 * on the same QEMU: one QEMU per protocol and target.  QEMU runs with
 * session-grace=0, so that a JSON session ends as soon as its client is
 * gone, as a packet session does (with the default grace period a JSON
 * client that reconnects continues the session).  Every byte of both
 * scripts is a cut point, with both ways to disconnect.
 *
 * Replayed without waiting, the packet script's commands run back to
 * back: its step count usually finds the first step still running and
 * is refused, while the JSON script's steps always run (a JSON step
 * answers when it is done, and the requests after it wait).
 *
 * A session after which the guest does not run, or the pattern is
 * mixed, is reported (FAILED, with the bytes sent); the test lets the
 * guest run again from the monitor and goes on, up to MAX_FAILURES, and
 * fails at its end.
 *
 * The recorded mcd-close-server names the server-uid of the recording;
 * QEMU counts server-uids up, so the whole JSON script is replayed with
 * the uid that QEMU will give next (a probe session, which opens and
 * closes a server, tells it), and cut scripts keep the recorded one.
 *
 * "many-sessions" runs 1000 sessions, alternately of each protocol, each
 * ended at a random byte in a random way (a fixed seed: the same
 * sessions every run), and counts those after which the guest did not
 * run: there must be none.
 *
 * The guest counts at COUNTER in a loop of four instructions and never
 * touches the pattern area.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qjson.h"
#include "mcd-util.h"

/* Above the device tree that QEMU writes at the start of RAM. */
#define GUEST_BASE      0x40200000
/* The counting loop: ldr, add, str, b. */
#define LOOP            (GUEST_BASE + 2 * 4)
#define COUNTER         0x40202000
/* The area the sessions write; the guest never touches it. */
#define PATTERN         0x40203000
#define PATTERN_LEN     16

#define CHARDEV         "mcd0"
/* Polls give up after 20 s. */
#define POLL_US         1000
#define TIMEOUT_MS      20000
/*
 * How long QEMU may take to clean up after a client before the guest
 * counts as stopped; after a failure the test lets the guest run again
 * and goes on, up to MAX_FAILURES, and details the first REPORT_DETAILS.
 */
#define STUCK_MS        5000
#define MAX_FAILURES    5
#define REPORT_DETAILS  5
/* How far the counter must move to show that the guest runs. */
#define MOVES           1000

#define MANY_SESSIONS   1000
#define MANY_SEED       0x4d4344

/* Constants of the MCD API (mcd_api.h) */
#define RET_ACT_NONE        0
#define TX_WRITE            2
#define TRIG_IP             0x1
#define TRIG_WRITE          0x4
#define TRIG_ACTION_DEBUG   0x1
#define STEP_INSTR          2

static const uint32_t guest_a64[] = {
    0xd2840005, /* mov x5, #0x2000 */
    0xf2a80405, /* movk x5, #0x4020, lsl #16 */
    0xf94000a2, /* loop: ldr x2, [x5] */
    0x91000442, /* add x2, x2, #1 */
    0xf90000a2, /* str x2, [x5] */
    0x17fffffd, /* b loop */
};

static const uint32_t guest_a32[] = {
    0xe3025000, /* movw r5, #0x2000 */
    0xe3445020, /* movt r5, #0x4020 */
    0xe5952000, /* loop: ldr r2, [r5] */
    0xe2822001, /* add r2, r2, #1 */
    0xe5852000, /* str r2, [r5] */
    0xeafffffb, /* b loop */
};

typedef struct DiscTest {
    QTestState *qts;
    GString *failed;        /* the sessions that failed: "FIN 12, ..." */
    unsigned nfailed;
    bool recording;         /* waiting for each reply, not cutting */
    int port;
    uint64_t phys_space;    /* packet: "Physical (Non Secure)" */
    uint32_t sys_space;     /* JSON: "system" */
    uint32_t cpu_space;     /* JSON: "cpu-memory-0" */
    QDict *con_info;        /* JSON: the connection info of core 0 */
    unsigned sessions;      /* cut sessions run */
    unsigned written;       /* of them, those that wrote the pattern */
} DiscTest;

/* A session as the bytes a client sends, command after command. */
typedef struct Script {
    const char *proto;
    bool json;
    GString *bytes;
    GArray *ends;           /* size_t: where each command ends */
    uint32_t server_uid;    /* JSON: the uid mcd-close-server names */
    size_t write_end;       /* where the command that writes ends */
    uint32_t stops;         /* bit i: command i makes the core stop */
} Script;

static bool is_aa64(void)
{
    return g_str_equal(qtest_get_arch(), "aarch64");
}

static void pattern_of(uint8_t *buf, bool new)
{
    int i;

    for (i = 0; i < PATTERN_LEN; i++) {
        buf[i] = (new ? 0x30 : 0xc0) + i;
    }
}

static uint32_t counter(DiscTest *t)
{
    return qtest_readl(t->qts, COUNTER);
}

/*
 * Within the bounded poll (@timeout_ms), the run state becomes
 * "running" and the counter moves by MOVES; the run state is still
 * "running" then.  Returns the run state of a guest that does not run.
 */
static char *guest_stuck(DiscTest *t, int timeout_ms)
{
    int64_t deadline = g_get_monotonic_time() + timeout_ms * 1000LL;
    uint32_t start = counter(t);
    char *st = NULL;

    do {
        g_free(st);
        st = mcd_run_state(t->qts);
        if (g_str_equal(st, "running") && counter(t) - start >= MOVES) {
            g_free(st);
            st = mcd_run_state(t->qts);
            if (g_str_equal(st, "running")) {
                g_free(st);
                return NULL;
            }
        }
        g_usleep(POLL_US);
    } while (g_get_monotonic_time() < deadline);
    return st;
}

/*
 * Within the bounded poll, QEMU has accepted a client (@connected) or
 * seen it go.
 */
static bool wait_chardev(DiscTest *t, bool connected)
{
    int64_t deadline = g_get_monotonic_time() + TIMEOUT_MS * 1000LL;

    while (mcd_chardev_connected(t->qts, CHARDEV) != connected) {
        if (g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(POLL_US);
    }
    return true;
}

/*
 * Whether the pattern area holds all old bytes (0) or all new ones (1),
 * or -1 for a mix; put the old ones back.
 */
static int pattern_take(DiscTest *t)
{
    uint8_t got[PATTERN_LEN], old[PATTERN_LEN], new[PATTERN_LEN];
    int ret = -1;

    pattern_of(old, false);
    pattern_of(new, true);
    qtest_memread(t->qts, PATTERN, got, PATTERN_LEN);
    if (!memcmp(got, old, PATTERN_LEN)) {
        ret = 0;
    } else if (!memcmp(got, new, PATTERN_LEN)) {
        ret = 1;
    } else {
        g_autofree char *hex = g_malloc(PATTERN_LEN * 2 + 1);
        int i;

        for (i = 0; i < PATTERN_LEN; i++) {
            sprintf(hex + 2 * i, "%02x", got[i]);
        }
        g_test_message("pattern area: %s", hex);
    }
    qtest_memwrite(t->qts, PATTERN, old, PATTERN_LEN);
    return ret;
}

/*
 * Start QEMU stopped, with the stub on a TCP socket, its JSON sessions
 * ending with their connection; load the guest and let it run.
 */
static void disc_start(DiscTest *t)
{
    int lfd = mcd_listen_tcp();
    g_autofree char *st = NULL;
    uint8_t old[PATTERN_LEN];

    t->failed = g_string_new(NULL);
    t->port = mcd_tcp_port_of(lfd);
    t->qts = qtest_initf(
        "%s -S -device loader,addr=0x%x,cpu-num=0 "
        "-chardev socket,id=" CHARDEV ",fd=%d,server=on,wait=off,"
        "nodelay=on -mcd chardev:" CHARDEV ",session-grace=0",
        mcd_machine_args(), GUEST_BASE, lfd);
    close(lfd);
    if (is_aa64()) {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a64, sizeof(guest_a64));
    } else {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a32, sizeof(guest_a32));
    }
    pattern_of(old, false);
    qtest_memwrite(t->qts, PATTERN, old, PATTERN_LEN);
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'cont' }");
    st = guest_stuck(t, TIMEOUT_MS);
    g_assert_null(st);
}

static void disc_end(DiscTest *t)
{
    qtest_quit(t->qts);
    qobject_unref(t->con_info);
    g_string_free(t->failed, true);
}

/* Close a client that ended its session, and wait until QEMU saw it. */
static void client_close(DiscTest *t, int fd)
{
    g_assert_true(mcd_close_fin(fd, TIMEOUT_MS));
    g_assert_true(wait_chardev(t, false));
}

/*
 * Scripts
 */

static Script *script_new(const char *proto)
{
    Script *s = g_new0(Script, 1);

    s->proto = proto;
    s->bytes = g_string_new(NULL);
    s->ends = g_array_new(false, false, sizeof(size_t));
    return s;
}

static void script_free(Script *s)
{
    g_string_free(s->bytes, true);
    g_array_free(s->ends, true);
    g_free(s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Script, script_free)

static size_t script_ncmds(Script *s)
{
    return s->ends->len;
}

static size_t script_start(Script *s, size_t i)
{
    return i ? g_array_index(s->ends, size_t, i - 1) : 0;
}

static size_t script_end(Script *s, size_t i)
{
    return g_array_index(s->ends, size_t, i);
}

static void script_mark(Script *s)
{
    size_t end = s->bytes->len;

    g_array_append_val(s->ends, end);
}

/* A packet, framed as the client library frames it: "$payload#|". */
static void G_GNUC_PRINTF(2, 3) script_packet(Script *s, const char *fmt,
                                              ...)
{
    va_list ap;

    g_string_append_c(s->bytes, '$');
    va_start(ap, fmt);
    g_string_append_vprintf(s->bytes, fmt, ap);
    va_end(ap);
    g_string_append(s->bytes, "#|");
    script_mark(s);
}

/*
 * The last command makes the core stop by itself, which a packet client
 * with notify learns from a notification.
 */
static void script_stops(Script *s)
{
    s->stops |= 1u << (script_ncmds(s) - 1);
}

/* A JSON command, compact, with the arguments @args (taken). */
static void script_json(Script *s, const char *command, QDict *args)
{
    g_autoptr(QDict) req = qdict_new();
    g_autofree char *text = NULL;

    qdict_put_str(req, "execute", command);
    qdict_put(req, "arguments", args);
    text = mcd_json_compact(QOBJECT(req));
    g_string_append(s->bytes, text);
    script_mark(s);
}

static void G_GNUC_PRINTF(3, 4) script_jsonf(Script *s, const char *command,
                                             const char *fmt, ...)
{
    va_list ap;
    QDict *args;

    va_start(ap, fmt);
    args = qdict_from_vjsonf_nofail(fmt, ap);
    va_end(ap);
    script_json(s, command, args);
}

/* The command that byte @k (or the end, if @k is the length) is in. */
static size_t script_cmd_at(Script *s, size_t k)
{
    size_t i;

    for (i = 0; i < script_ncmds(s) - 1; i++) {
        if (k < script_end(s, i)) {
            break;
        }
    }
    return i;
}

/*
 * The packet session: handshake and extensions, core 0, a breakpoint
 * on the loop and a write watchpoint on the counter, go (which hits),
 * break, a step and 50 more, the watchpoint removed, the pattern written
 * with one M, go, detach.
 */
static Script *packet_script(DiscTest *t)
{
    Script *s = script_new("packet");
    uint8_t new[PATTERN_LEN];
    char hex[PATTERN_LEN * 2 + 1];
    int i;

    pattern_of(new, true);
    for (i = 0; i < PATTERN_LEN; i++) {
        sprintf(hex + 2 * i, "%02x", new[i]);
    }
    script_packet(s, "I");
    script_packet(s, "qprotocolerrors,steps,wplen,resethalt,notify,stoprec");
    script_packet(s, "i0");
    /* the guest runs: it hits the breakpoint at once */
    script_packet(s, "t0;1;%u;1", LOOP);
    script_stops(s);
    script_packet(s, "t0;3;%u;2;4", COUNTER);
    /* off the breakpoint, to the watchpoint */
    script_packet(s, "C1;0");
    script_stops(s);
    script_packet(s, "b1;0");
    script_packet(s, "c0;0");
    script_stops(s);
    /* to the watchpoint again */
    script_packet(s, "c0;0;50");
    script_stops(s);
    script_packet(s, "T0;3;%u;2;4", COUNTER);
    script_packet(s, "M0;%" PRIu64 ";%u;%u;%s", t->phys_space, PATTERN,
                  PATTERN_LEN, hex);
    s->write_end = s->bytes->len;
    script_packet(s, "C1;0");
    script_packet(s, "D");
    return s;
}

/* A simple trigger of core 0 of @type at @addr, @range as addr-range. */
static QDict *trig_simple(DiscTest *t, uint32_t type, uint64_t addr,
                          uint64_t range)
{
    return qdict_from_jsonf_nofail(
        "{'trig-simple-core': {'type': %u, 'option': 0, 'action': %u, "
        "'action-param': 0, 'modified': false, 'state-mask': 0, "
        "'addr-start': {'address': %" PRIu64 ", 'mem-space-id': %u, "
        "'addr-space-id': 0, 'addr-space-type': 0}, "
        "'addr-range': %" PRIu64 "}}",
        type, TRIG_ACTION_DEBUG, addr, t->cpu_space, range);
}

/* One write of the new pattern through the "system" space. */
static QDict *pattern_txlist(DiscTest *t)
{
    uint8_t new[PATTERN_LEN];
    QDict *txlist = qdict_new();
    QDict *tx = qdict_new();
    QDict *a = qdict_new();
    QList *txs = qlist_new();
    QList *bytes = qlist_new();
    int i;

    pattern_of(new, true);
    for (i = 0; i < PATTERN_LEN; i++) {
        qlist_append_int(bytes, new[i]);
    }
    qdict_put_int(a, "address", PATTERN);
    qdict_put_int(a, "mem-space-id", t->sys_space);
    qdict_put_int(a, "addr-space-id", 0);
    qdict_put_int(a, "addr-space-type", 0);
    qdict_put(tx, "addr", a);
    qdict_put_int(tx, "access-type", TX_WRITE);
    qdict_put_int(tx, "options", 0);
    qdict_put_int(tx, "access-width", 4);
    qdict_put_int(tx, "core-mode", 0);
    qdict_put(tx, "data", bytes);
    qdict_put_int(tx, "num-bytes", PATTERN_LEN);
    qdict_put_int(tx, "num-bytes-ok", 0);
    qlist_append(txs, tx);
    qdict_put_int(txlist, "num-tx", 1);
    qdict_put_int(txlist, "num-tx-ok", 0);
    qdict_put(txlist, "tx", txs);
    return txlist;
}

/*
 * The JSON session: the server, core 0, a breakpoint on the loop and a
 * write watchpoint on the counter, a global run (which hits) and stop,
 * a step and 50 more, the watchpoint removed, the pattern written with
 * one transaction list, run, the server closed (@server_uid).
 */
static Script *json_script(DiscTest *t, uint32_t server_uid)
{
    Script *s = script_new("JSON");

    s->json = true;
    s->server_uid = server_uid;
    script_jsonf(s, "mcd-open-server",
                 "{'system-key': '', 'config-string': ''}");
    script_jsonf(s, "mcd-open-core", "{'core-con-info': %p}",
                 qobject_ref(t->con_info));
    script_jsonf(s, "mcd-create-trig", "{'core-uid': 1, 'trig': %p}",
                 trig_simple(t, TRIG_IP, LOOP, 0));
    script_jsonf(s, "mcd-create-trig", "{'core-uid': 1, 'trig': %p}",
                 trig_simple(t, TRIG_WRITE, COUNTER, 4));
    script_jsonf(s, "mcd-run", "{'core-uid': 1, 'global': true}");
    script_jsonf(s, "mcd-stop", "{'core-uid': 1, 'global': true}");
    script_jsonf(s, "mcd-step", "{'core-uid': 1, 'global': false, "
                 "'step-type': %u, 'n-steps': 1}", STEP_INSTR);
    script_jsonf(s, "mcd-step", "{'core-uid': 1, 'global': false, "
                 "'step-type': %u, 'n-steps': 50}", STEP_INSTR);
    script_jsonf(s, "mcd-remove-trig", "{'core-uid': 1, 'trig-id': 2}");
    script_jsonf(s, "mcd-execute-txlist", "{'core-uid': 1, 'txlist': %p}",
                 pattern_txlist(t));
    s->write_end = s->bytes->len;
    script_jsonf(s, "mcd-run", "{'core-uid': 1, 'global': true}");
    script_jsonf(s, "mcd-close-server", "{'server-uid': %u}", server_uid);
    return s;
}

/*
 * Discovery, as the other tests do it
 */

/* The id of the physical non-secure memory space, for M. */
static void packet_discover(DiscTest *t)
{
    int fd = mcd_connect_tcp(t->port);
    g_autoptr(GPtrArray) spaces = NULL;
    const char *phys;

    mcd_drop_notifications();
    mcd_check_reply(fd, "I", "shaking your hand");
    mcd_check_ack_only(fd, "i0");
    spaces = mcd_query_list(fd, "qmemoryf0", "qmemoryc");
    phys = mcd_find_named(spaces, "Physical (Non Secure)");
    g_assert_nonnull(phys);
    t->phys_space = mcd_rec_get_u64(phys, "id");
    mcd_check_ack_only(fd, "D");
    client_close(t, fd);
}

static QDict *json_ok(QDict *reply)
{
    QDict *ret = mcd_json_return(reply);

    g_assert_cmpuint(mcd_json_uint(ret, "return-status"), ==, RET_ACT_NONE);
    return ret;
}

static uint32_t json_space(QList *spaces, const char *name)
{
    size_t i;

    for (i = 0; i < qlist_size(spaces); i++) {
        QDict *ms = mcd_json_list_dict(spaces, i);

        if (g_str_equal(mcd_json_str(ms, "mem-space-name"), name)) {
            return mcd_json_uint(ms, "mem-space-id");
        }
    }
    g_test_message("no memory space %s", name);
    g_assert_not_reached();
}

/*
 * The connection info of core 0 and the ids of the memory spaces;
 * returns the server-uid that the next mcd-open-server gets.
 */
static uint32_t json_discover(DiscTest *t)
{
    int fd = mcd_connect_tcp(t->port);
    g_autoptr(QDict) r = NULL;
    QDict *ret;
    QList *list;
    uint32_t uid, n;

    r = mcd_json_execf(fd, "mcd-open-server",
                       "{'system-key': '', 'config-string': ''}");
    uid = mcd_json_uint(json_ok(r), "server-uid");
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-qry-systems",
                       "{'start-index': 0, 'num-systems': 1}");
    list = mcd_json_list(json_ok(r), "system-con-info");
    ret = qobject_ref(mcd_json_list_dict(list, 0));
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-qry-devices", "{'system-con-info': %p, "
                       "'start-index': 0, 'num-devices': 1}", ret);
    list = mcd_json_list(json_ok(r), "device-con-info");
    ret = qobject_ref(mcd_json_list_dict(list, 0));
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-qry-cores", "{'connection-info': %p, "
                       "'start-index': 0, 'num-cores': 1}", ret);
    list = mcd_json_list(json_ok(r), "core-con-info");
    t->con_info = qobject_ref(mcd_json_list_dict(list, 0));
    g_assert_cmpuint(mcd_json_uint(t->con_info, "core-id"), ==, 0);
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-open-core", "{'core-con-info': %p}",
                       qobject_ref(t->con_info));
    g_assert_cmpuint(mcd_json_uint(json_ok(r), "core-uid"), ==, 1);
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-qry-mem-spaces", "{'core-uid': 1, "
                       "'start-index': 0, 'num-mem-spaces': 0}");
    n = mcd_json_uint(json_ok(r), "num-mem-spaces");
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-qry-mem-spaces", "{'core-uid': 1, "
                       "'start-index': 0, 'num-mem-spaces': %u}", n);
    list = mcd_json_list(json_ok(r), "mem-spaces");
    t->sys_space = json_space(list, "system");
    t->cpu_space = json_space(list, "cpu-memory-0");
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-close-server", "{'server-uid': %u}", uid);
    json_ok(r);
    client_close(t, fd);
    return uid + 1;
}

/*
 * Cuts
 */

/*
 * A session after which QEMU misbehaved: report it (in detail, for the
 * first few) and count it.  The test fails at its end.
 */
static void G_GNUC_PRINTF(5, 6) cut_failed(DiscTest *t, Script *s, size_t k,
                                           bool rst, const char *fmt, ...)
{
    size_t i = script_cmd_at(s, k);
    size_t start = script_start(s, i);
    g_autofree char *what = NULL;
    g_autofree char *sent = g_strndup(s->bytes->str, k);
    g_autofree char *cmd = g_strndup(s->bytes->str + start, k - start);
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_string_append_printf(t->failed, "%s%s %zu", t->nfailed ? ", " : "",
                           t->recording ? "recorded" : rst ? "RST" : "FIN",
                           k);
    if (t->nfailed++ >= REPORT_DETAILS) {
        return;
    }
    if (t->recording) {
        g_test_message("FAILED: the recorded %s session, sent command by "
                       "command, each reply awaited, to its end: %s",
                       s->proto, what);
    } else {
        g_test_message("FAILED: %s script (%zu bytes), cut after %zu bytes, "
                       "ended with a %s: %s", s->proto, s->bytes->len, k,
                       rst ? "RST" : "FIN", what);
    }
    g_test_message("in command %zu (bytes %zu-%zu), of it sent: '%s'", i,
                   start, script_end(s, i), cmd);
    g_test_message("all bytes sent: '%s'", sent);
}

/*
 * After a failure, let the guest run again from the monitor, so that
 * the next cuts test something; the test has failed already.
 */
static void recover(DiscTest *t)
{
    g_autofree char *st = mcd_run_state(t->qts);
    g_autofree char *stuck = NULL;

    if (!g_str_equal(st, "running")) {
        qtest_qmp_assert_success(t->qts, "{ 'execute': 'cont' }");
    }
    stuck = guest_stuck(t, TIMEOUT_MS);
    g_assert_null(stuck);
}

/*
 * Whether the guest runs after a session ended and left nothing behind;
 * report a failure (and let the guest run again) if not.
 */
static bool check_guest(DiscTest *t, Script *s, size_t k, bool rst)
{
    g_autofree char *st = guest_stuck(t, STUCK_MS);

    if (!st) {
        return true;
    }
    cut_failed(t, s, k, rst, "the guest does not run, the run state is %s "
               "and the counter stays at %u", st, counter(t));
    recover(t);
    return false;
}

/* The failures of a test, which fails if there were any. */
static void check_no_failure(DiscTest *t)
{
    if (t->nfailed) {
        g_test_message("FAILED: %u sessions: %s", t->nfailed,
                       t->failed->str);
    }
    g_assert_cmpuint(t->nfailed, ==, 0);
}

/*
 * One client: connect, send the first @k bytes of @s, go away with a
 * RST if @rst, else with a FIN; QEMU must see it go.  The client waits
 * until QEMU accepted it, so that the checks after a RST do not run
 * before QEMU even took the connection.
 */
static void cut_session(DiscTest *t, Script *s, size_t k, bool rst)
{
    int fd = mcd_connect_tcp(t->port);
    bool closed = true;

    g_assert_true(wait_chardev(t, true));
    mcd_send_draining(fd, s->bytes->str, k);
    mcd_drain(fd);
    if (rst) {
        mcd_close_rst(fd);
    } else {
        closed = mcd_close_fin(fd, TIMEOUT_MS);
    }
    if (!closed || !wait_chardev(t, false)) {
        cut_failed(t, s, k, rst, "QEMU did not close the connection");
        check_no_failure(t);
    }
}

/*
 * The server-uid that QEMU gives next: a probe session opens a server
 * and closes it.
 */
static uint32_t json_next_uid(DiscTest *t)
{
    int fd = mcd_connect_tcp(t->port);
    g_autoptr(QDict) r = NULL;
    uint32_t uid;

    r = mcd_json_execf(fd, "mcd-open-server",
                       "{'system-key': '', 'config-string': ''}");
    uid = mcd_json_uint(json_ok(r), "server-uid");
    qobject_unref(r);
    r = mcd_json_execf(fd, "mcd-close-server", "{'server-uid': %u}", uid);
    json_ok(r);
    client_close(t, fd);
    return uid + 1;
}

/*
 * Cut @s after @k bytes, and check that QEMU and the guest run, no
 * trigger is left and the pattern was written whole or not at all.
 * Returns whether the guest ran.
 */
static bool cut_check(DiscTest *t, Script *s, size_t k, bool rst)
{
    g_autoptr(Script) whole = NULL;
    bool runs;
    int written;

    if (k == s->bytes->len && s->json) {
        /* the whole JSON script closes the server QEMU will open */
        whole = json_script(t, json_next_uid(t));
        s = whole;
        k = s->bytes->len;
    }
    cut_session(t, s, k, rst);
    runs = check_guest(t, s, k, rst);
    written = pattern_take(t);
    if (written < 0) {
        cut_failed(t, s, k, rst, "the pattern was written in part");
    } else if (written && k < s->write_end) {
        cut_failed(t, s, k, rst, "a write that was not sent whole wrote");
    } else if (!written && k >= s->write_end && !rst) {
        /* QEMU executes all that comes before the FIN */
        cut_failed(t, s, k, rst, "a write that was sent whole did not "
                   "write");
    }
    t->sessions++;
    t->written += written > 0;
    if (t->nfailed > MAX_FAILURES) {
        g_test_message("giving up after %u failures", t->nfailed);
        check_no_failure(t);
    }
    return runs;
}

/* Every cut point, both ways. */
static void cut_all(DiscTest *t, Script *s)
{
    int64_t start = g_get_monotonic_time();
    size_t k;

    t->sessions = t->written = 0;
    for (k = 0; k <= s->bytes->len; k++) {
        cut_check(t, s, k, false);
        cut_check(t, s, k, true);
    }
    g_test_message("%s script: %zu bytes in %zu commands, %u sessions cut "
                   "(FIN and RST at every byte), %u wrote the pattern, "
                   "%.1f s", s->proto, s->bytes->len, script_ncmds(s),
                   t->sessions, t->written,
                   (g_get_monotonic_time() - start) / 1e6);
}

/*
 * The recording: each script once, command by command, with its
 * replies checked, to the end; afterwards the pattern is the new one
 * and the guest runs.
 */

/* Send command @i of the packet script; its reply. */
static void packet_record_cmd(int fd, Script *s, size_t i)
{
    size_t start = script_start(s, i), end = script_end(s, i);
    g_autofree char *cmd = g_strndup(s->bytes->str + start + 1,
                                     end - start - 3);
    g_autofree char *reply = NULL;

    mcd_send_raw(fd, s->bytes->str + start, end - start);
    reply = mcd_recv_ack_reply(fd);
    g_test_message("packet %s -> %s", cmd, reply);
    if (i == 0) {
        g_assert_cmpstr(reply, ==, "shaking your hand");
    } else if (i == 1) {
        g_assert_true(g_str_has_prefix(reply, "version=2."));
        g_assert_nonnull(strstr(reply, ".enabled=errors,steps,wplen,"
                                "resethalt,notify,stoprec."));
    } else {
        g_assert_cmpstr(reply, ==, "success");
    }
    if (s->stops & (1u << i)) {
        /* as a debugger does: wait until the core stops */
        g_autofree char *note = mcd_recv_notification(fd);

        g_test_message("packet notification %s", note);
        g_assert_true(g_str_has_prefix(note, "stop=0.state=debug."));
    }
}

/* Send command @i of the JSON script; check its reply. */
static void json_record_cmd(int fd, Script *s, size_t i)
{
    size_t start = script_start(s, i), end = script_end(s, i);
    g_autoptr(QDict) reply = NULL;
    g_autofree char *line = NULL;

    mcd_send_raw(fd, s->bytes->str + start, end - start);
    reply = mcd_json_recv(fd);
    line = mcd_json_compact(QOBJECT(reply));
    g_test_message("JSON %.*s -> %.200s", (int)MIN(end - start, 60),
                   s->bytes->str + start, line);
    json_ok(reply);
    if (i == 0) {
        g_assert_cmpuint(mcd_json_uint(mcd_json_return(reply),
                                       "server-uid"), ==, s->server_uid);
    }
}

static void script_record(DiscTest *t, Script *s)
{
    int fd = mcd_connect_tcp(t->port);
    size_t i;

    mcd_drop_notifications();
    for (i = 0; i < script_ncmds(s); i++) {
        if (s->json) {
            json_record_cmd(fd, s, i);
        } else {
            packet_record_cmd(fd, s, i);
        }
    }
    client_close(t, fd);
    g_assert_cmpint(pattern_take(t), ==, 1);
    t->recording = true;
    check_guest(t, s, s->bytes->len, false);
    t->recording = false;
}

/*
 * The tests
 */

static void test_packet(void)
{
    DiscTest t = { 0 };
    g_autoptr(Script) s = NULL;

    disc_start(&t);
    packet_discover(&t);
    s = packet_script(&t);
    script_record(&t, s);
    cut_all(&t, s);
    check_no_failure(&t);
    disc_end(&t);
}

static void test_json(void)
{
    DiscTest t = { 0 };
    g_autoptr(Script) s = NULL;

    disc_start(&t);
    s = json_script(&t, json_discover(&t));
    script_record(&t, s);
    cut_all(&t, s);
    check_no_failure(&t);
    disc_end(&t);
}

/*
 * 1000 sessions, of each protocol in turn, each cut at a random byte
 * and ended with a FIN or a RST at random; count the sessions after
 * which the guest did not run within the poll.
 */
static void test_many_sessions(void)
{
    DiscTest t = { 0 };
    g_autoptr(GRand) rand = g_rand_new_with_seed(MANY_SEED);
    g_autoptr(Script) packet = NULL;
    g_autoptr(Script) json = NULL;
    unsigned stopped = 0, rsts = 0, whole = 0;
    g_autofree char *st = NULL;
    int64_t start;
    unsigned i;

    disc_start(&t);
    packet_discover(&t);
    packet = packet_script(&t);
    json = json_script(&t, json_discover(&t));
    start = g_get_monotonic_time();
    for (i = 0; i < MANY_SESSIONS; i++) {
        Script *s = i % 2 ? json : packet;
        size_t k = g_rand_int_range(rand, 0, s->bytes->len + 1);
        bool rst = g_rand_boolean(rand);

        rsts += rst;
        whole += k == s->bytes->len;
        stopped += !cut_check(&t, s, k, rst);
    }
    g_test_message("%u sessions (%u ended with a RST, %u whole), %u left "
                   "the guest stopped, %.1f s", MANY_SESSIONS, rsts, whole,
                   stopped, (g_get_monotonic_time() - start) / 1e6);
    /* and after them all, still nothing left */
    st = guest_stuck(&t, TIMEOUT_MS);
    g_assert_null(st);
    check_no_failure(&t);
    g_assert_cmpuint(stopped, ==, 0);
    disc_end(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/disconnect/packet", test_packet);
    qtest_add_func("/mcd/disconnect/json", test_json);
    qtest_add_func("/mcd/disconnect/many-sessions", test_many_sessions);

    return g_test_run();
}
