/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the MCD stub's JSON front-end (mcdstub/json.c) on the
 * fake target of mcd-fake-core.c: framing of requests and replies,
 * return-status and error info, malformed input, replies that wait for a
 * step, and the session's end.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/main-loop.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "mcdstub/json.h"
#include "mcd-fake-core.h"

typedef struct Client {
    MCDJsonServer *j;
    GString *out;
    unsigned resumed;
} Client;

static void client_write(void *opaque, const uint8_t *buf, size_t len)
{
    Client *c = opaque;

    g_string_append_len(c->out, (const char *)buf, len);
}

static void client_resumed(void *opaque)
{
    Client *c = opaque;

    c->resumed++;
}

static const MCDJsonOps client_ops = {
    .write = client_write,
    .resumed = client_resumed,
};

/* One front-end for all tests: its commands register once. */
static Client *client(void)
{
    static Client c;

    if (!c.j) {
        c.out = g_string_new(NULL);
        c.j = mcd_json_server_new(&client_ops, &c);
    }
    g_string_truncate(c.out, 0);
    c.resumed = 0;
    mcd_json_connect(c.j);
    return &c;
}

static void client_end(Client *c)
{
    mcd_json_disconnect(c->j);
    mcd_json_end_session(c->j);
}

static void send_str(Client *c, const char *s)
{
    mcd_json_input(c->j, (const uint8_t *)s, strlen(s));
}

/*
 * Take the next reply line: it must be one line of JSON, an object.
 * Returns: the object, or %NULL if there is no complete line yet.
 */
static QDict *next_reply(Client *c)
{
    char *nl = memchr(c->out->str, '\n', c->out->len);
    g_autofree char *line = NULL;
    QObject *obj;

    if (!nl) {
        return NULL;
    }
    line = g_strndup(c->out->str, nl - c->out->str);
    g_string_erase(c->out, 0, nl - c->out->str + 1);
    obj = qobject_from_json(line, &error_abort);
    g_assert_nonnull(qobject_to(QDict, obj));
    return qobject_to(QDict, obj);
}

/* Send a request and return the "return" object of its reply. */
static QDict *call(Client *c, const char *req)
{
    QDict *rsp, *ret;

    send_str(c, req);
    rsp = next_reply(c);
    g_assert_nonnull(rsp);
    g_assert_cmpuint(c->out->len, ==, 0);
    ret = qdict_get_qdict(rsp, "return");
    g_assert_nonnull(ret);
    qobject_ref(ret);
    qobject_unref(rsp);
    return ret;
}

static int64_t status_of(Client *c, const char *req)
{
    QDict *ret = call(c, req);
    int64_t status = qdict_get_int(ret, "return-status");

    qobject_unref(ret);
    return status;
}

/* The error info of @uid: check its code. */
static void check_error(Client *c, unsigned uid, int64_t code)
{
    g_autofree char *req = g_strdup_printf(
        "{\"execute\":\"mcd-qry-error-info\",\"arguments\":"
        "{\"core-uid\":%u}}", uid);
    QDict *ret = call(c, req);

    g_assert_cmpint(qdict_get_int(ret, "error-code"), ==, code);
    g_assert_cmpint(qdict_get_int(ret, "return-status"), ==, code ? 3 : 0);
    g_assert_nonnull(qdict_get_try_str(ret, "error-str"));
    g_assert_cmpint(qdict_get_int(ret, "error-events"), ==, 0);
    qobject_unref(ret);
}

#define OPEN_SERVER \
    "{\"arguments\":{\"config-string\":\"\",\"system-key\":\"\"}," \
    "\"execute\":\"mcd-open-server\"}"

#define CON_INFO(core_id) \
    "{\"host\":\"\",\"server-port\":0,\"server-key\":\"\"," \
    "\"system-key\":\"\",\"device-key\":\"\",\"system\":\"\"," \
    "\"system-instance\":\"\",\"acc-hw\":\"\",\"device-type\":0," \
    "\"device\":\"\",\"device-id\":0,\"core\":\"\",\"core-type\":0," \
    "\"core-id\":" #core_id "}"

#define OPEN_CORE(core_id) \
    "{\"execute\":\"mcd-open-core\",\"arguments\":{\"core-con-info\":" \
    CON_INFO(core_id) "}}"

/* Back to back requests, no greeting, one line per reply. */
static void test_framing(void)
{
    Client *c = client();
    QDict *rsp;

    g_assert_cmpuint(c->out->len, ==, 0);
    send_str(c, "  {\"execute\":\"mcd-initialize\",\"arguments\":"
             "{\"version-req\":{\"v-api-major\":1,\"v-api-minor\":1,"
             "\"author\":\"t\"}}}" OPEN_SERVER);
    rsp = next_reply(c);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(rsp, "return"),
                                  "return-status"), ==, 0);
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(qdict_get_qdict(rsp,
                    "return"), "impl-info"), "vendor"), ==, "QEMU");
    qobject_unref(rsp);
    rsp = next_reply(c);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(rsp, "return"),
                                  "server-uid"), >, 0);
    qobject_unref(rsp);
    g_assert_cmpuint(c->out->len, ==, 0);

    /* a request split anywhere is still one request */
    send_str(c, "{\"execute\":\"mcd-qry-error-in");
    g_assert_cmpuint(c->out->len, ==, 0);
    send_str(c, "fo\",\"arguments\":{\"core-uid\":0}}");
    rsp = next_reply(c);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(rsp, "return"),
                                  "error-code"), ==, 0);
    qobject_unref(rsp);
    client_end(c);
}

/* Failures answer return-status 3 and leave their error behind. */
static void test_errors(void)
{
    Client *c = client();

    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-initialize\","
                              "\"arguments\":{\"version-req\":"
                              "{\"v-api-major\":2,\"v-api-minor\":0,"
                              "\"author\":\"t\"}}}"), ==, 3);
    check_error(c, 0, 0xf00);
    /* no server yet */
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-qry-systems\","
                              "\"arguments\":{\"start-index\":0,"
                              "\"num-systems\":0}}"), ==, 3);
    check_error(c, 0, 0x101);
    g_assert_cmpint(status_of(c, OPEN_SERVER), ==, 0);
    check_error(c, 0, 0);
    g_assert_cmpint(status_of(c, OPEN_SERVER), ==, 3);
    check_error(c, 0, 0x200);
    /* cores */
    g_assert_cmpint(status_of(c, OPEN_CORE(7)), ==, 3);
    check_error(c, 0, 0x102);
    g_assert_cmpint(status_of(c, OPEN_CORE(0)), ==, 0);
    g_assert_cmpint(status_of(c, OPEN_CORE(0)), ==, 3);
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-qry-reg-map\","
                              "\"arguments\":{\"core-uid\":1,"
                              "\"reg-group-id\":9,\"start-index\":0,"
                              "\"num-regs\":0}}"), ==, 3);
    check_error(c, 1, 0x1441);
    /* a step of a running core */
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-step\",\"arguments\":"
                              "{\"core-uid\":1,\"global\":false,"
                              "\"step-type\":2,\"n-steps\":1}}"), ==, 3);
    check_error(c, 1, 0x101);
    /* a read that fails: the whole transaction */
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-execute-txlist\","
        "\"arguments\":{\"core-uid\":1,\"txlist\":{\"tx\":[{\"addr\":"
        "{\"address\":0,\"mem-space-id\":1,\"addr-space-id\":0,"
        "\"addr-space-type\":0},\"access-type\":1,\"options\":0,"
        "\"access-width\":0,\"core-mode\":0,\"data\":[],\"num-bytes\":4,"
        "\"num-bytes-ok\":0}],\"num-tx\":1,\"num-tx-ok\":0}}}"), ==, 3);
    check_error(c, 1, 0x2100);
    /* a core that is not open */
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-qry-state\","
                              "\"arguments\":{\"core-uid\":5}}"), ==, 3);
    check_error(c, 0, 0x102);
    client_end(c);
}

/* What cannot be answered with return-status gets a QMP error. */
static void test_malformed(void)
{
    Client *c = client();
    g_autoptr(GString) deep = g_string_new(NULL);
    g_autoptr(GString) big = g_string_new("{\"execute\":\"");
    QDict *rsp;
    int i;

    send_str(c, "{\"execute\":\"mcd-no-such-thing\"}");
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
    send_str(c, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
             "{\"core-uid\":\"one\"}}");
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
    send_str(c, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
             "{\"core-uid\":1,\"extra\":2}}");
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
    send_str(c, "{\"execute\":\"mcd-qry-state\",\"execute\":\"x\"}");
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);
    send_str(c, "]");
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);

    /* nesting deeper than QEMU's parser takes */
    for (i = 0; i < 2000; i++) {
        g_string_append_c(deep, '[');
    }
    send_str(c, deep->str);
    while ((rsp = next_reply(c))) {
        g_assert_nonnull(qdict_get_qdict(rsp, "error"));
        qobject_unref(rsp);
    }
    /* a 1 MiB string */
    for (i = 0; i < 1024 * 1024; i++) {
        g_string_append_c(big, 'x');
    }
    g_string_append(big, "\"}");
    mcd_json_connect(c->j);
    send_str(c, big->str);
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(rsp, "error"));
    qobject_unref(rsp);

    /* and the connection goes on */
    g_assert_cmpint(status_of(c, OPEN_SERVER), ==, 0);
    client_end(c);
}

/* The reply to a step waits for its end; later requests wait too. */
static void test_step_waits(void)
{
    Client *c = client();
    unsigned steps = mcd_fake_steps;
    QDict *rsp;

    g_assert_cmpint(status_of(c, OPEN_SERVER), ==, 0);
    g_assert_cmpint(status_of(c, OPEN_CORE(0)), ==, 0);
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-stop\",\"arguments\":"
                              "{\"core-uid\":1,\"global\":true}}"), ==, 0);
    send_str(c, "{\"execute\":\"mcd-step\",\"arguments\":{\"core-uid\":1,"
             "\"global\":false,\"step-type\":2,\"n-steps\":3}}"
             "{\"execute\":\"mcd-qry-state\",\"arguments\":"
             "{\"core-uid\":1}}");
    g_assert_cmpuint(c->out->len, ==, 0);
    g_assert_true(mcd_json_busy(c->j));
    g_assert_cmpuint(mcd_fake_steps, ==, steps + 3);

    mcd_fake_stop(0);
    rsp = next_reply(c);
    g_assert_cmpint(qdict_get_int(qdict_get_qdict(rsp, "return"),
                                  "return-status"), ==, 0);
    qobject_unref(rsp);
    rsp = next_reply(c);
    g_assert_nonnull(qdict_get_qdict(qdict_get_qdict(rsp, "return"),
                                     "state"));
    qobject_unref(rsp);
    g_assert_false(mcd_json_busy(c->j));
    g_assert_cmpuint(c->resumed, ==, 1);
    client_end(c);
}

/* The session ends with mcd-exit, mcd-close-server or at once. */
static void test_session_end(void)
{
    Client *c = client();
    unsigned before = mcd_fake_detach_count;

    g_assert_cmpint(status_of(c, OPEN_SERVER), ==, 0);
    g_assert_cmpint(status_of(c, OPEN_CORE(1)), ==, 0);
    send_str(c, "{\"execute\":\"mcd-exit\"}");
    qobject_unref(next_reply(c));
    g_assert_cmpuint(mcd_fake_detach_count, ==, before + 1);
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-qry-state\","
                              "\"arguments\":{\"core-uid\":2}}"), ==, 3);

    /* a lost connection keeps it, for the grace period */
    g_assert_cmpint(status_of(c, OPEN_SERVER), ==, 0);
    g_assert_cmpint(status_of(c, OPEN_CORE(1)), ==, 0);
    mcd_json_disconnect(c->j);
    g_assert_cmpuint(mcd_fake_detach_count, ==, before + 1);
    mcd_json_connect(c->j);
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-qry-state\","
                              "\"arguments\":{\"core-uid\":2}}"), ==, 0);
    /* a packet client ends it at once */
    mcd_json_disconnect(c->j);
    mcd_json_end_session(c->j);
    g_assert_cmpuint(mcd_fake_detach_count, ==, before + 2);
    mcd_json_connect(c->j);
    g_assert_cmpint(status_of(c, "{\"execute\":\"mcd-qry-state\","
                              "\"arguments\":{\"core-uid\":2}}"), ==, 3);
    client_end(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/mcd/json/framing", test_framing);
    g_test_add_func("/mcd/json/errors", test_errors);
    g_test_add_func("/mcd/json/malformed", test_malformed);
    g_test_add_func("/mcd/json/step-waits", test_step_waits);
    g_test_add_func("/mcd/json/session-end", test_session_end);

    return g_test_run();
}
