/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: the JSON front-end, the MCD API as JSON commands.
 *
 * Each command of the schema qapi/mcd.json is one function of the MCD
 * API.  QEMU's JSON streamer cuts the input into objects, and the
 * generated marshallers dispatch them to the qmp_mcd_*() functions
 * below, which call the MCD core (core.h) in the core's own terms.  A
 * call that fails answers "return-status" MCD_RET_ACT_HANDLE_ERROR and
 * stores its error for mcd-qry-error-info, as the MCD API does; only
 * what cannot be answered so (malformed JSON, unknown commands) gets a
 * QMP-style "error" reply.
 *
 * The session (an open server and what it did) belongs to the front-end,
 * not to the connection: the client reconnects after a timeout without
 * opening the server again, so a session outlives its connection for a
 * grace period.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/clone-visitor.h"
#include "qapi/qmp-registry.h"
#include "qobject/json-parser.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "mcdstub/mcd-qapi-commands.h"
#include "mcdstub/mcd-qapi-init-commands.h"
#include "mcdstub/mcd-qapi-visit.h"
#include "core.h"
#include "json.h"
#include "trace.h"

/* mcd_return_et */
#define MCD_RET_ACT_NONE            0
#define MCD_RET_ACT_HANDLE_ERROR    3

/* mcd_error_event_et */
#define MCD_ERR_EVT_NONE            0

/* How long a session outlives its connection by default. */
#define MCD_JSON_GRACE_MS_DEFAULT   30000

/* The last error of the server (core-uid 0) or of a core. */
typedef struct MCDJsonError {
    uint32_t code;
    char *str;
} MCDJsonError;

/* A call whose reply waits until its effect is complete. */
typedef enum MCDJsonWait {
    MCD_JSON_WAIT_NONE,
    MCD_JSON_WAIT_STEP,         /* until the core's steps end */
    MCD_JSON_WAIT_RESET,        /* until the system reset is done */
} MCDJsonWait;

/* A request that came while a reply waited, or the error it caused. */
typedef struct MCDJsonQueued {
    QObject *req;
    QDict *rsp;
} MCDJsonQueued;

struct MCDJsonServer {
    const MCDJsonOps *ops;
    void *opaque;
    JSONMessageParser parser;
    bool connected;
    MCDSession *session;        /* while a server is open */
    uint32_t server_uid;        /* of the open server, 0 if none */
    uint32_t last_server_uid;
    GHashTable *cores;          /* core-uid -> MCDJsonCore */
    GHashTable *errors;         /* core-uid -> MCDJsonError */
    QEMUTimer *grace_timer;
    uint32_t grace_ms;
    MCDJsonWait wait;
    bool completing;            /* json_complete() runs the queue */
    uint32_t wait_core;         /* MCD_JSON_WAIT_STEP: the core's index */
    QDict *deferred;            /* the reply that waits */
    GQueue queued;              /* MCDJsonQueued */
};

/* A trigger the client created on a core, as it created it. */
typedef struct MCDJsonTrig {
    uint32_t id;
    uint32_t type;              /* MCD_TRIG_* of core.h */
    uint64_t addr;
    uint64_t len;
    MCDTrig *trig;
} MCDJsonTrig;

/* What the front-end keeps of an open core. */
typedef struct MCDJsonCore {
    MCDCore *core;
    GPtrArray *trigs;           /* MCDJsonTrig */
    uint32_t next_trig_id;
    uint32_t stop_seen;         /* stop_seq of the last state reported */
} MCDJsonCore;

/* The front-end whose command runs, for the qmp_mcd_*() functions. */
static MCDJsonServer *mcd_json;

static QmpCommandList mcd_json_commands;

static void json_error_free(gpointer p)
{
    MCDJsonError *e = p;

    g_free(e->str);
    g_free(e);
}

/* Store the last error of the server (@uid 0) or a core; takes @str. */
static void store_error(uint32_t uid, uint32_t code, char *str)
{
    MCDJsonError *e = g_new0(MCDJsonError, 1);

    e->code = code;
    e->str = str;
    g_hash_table_replace(mcd_json->errors, GUINT_TO_POINTER(uid), e);
}

/*
 * A call on the server (@uid 0) or a core failed: store the error for
 * mcd-qry-error-info.  Returns: the return-status of the call.
 */
static uint32_t G_GNUC_PRINTF(3, 4)
fail(uint32_t uid, uint32_t code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    store_error(uid, code, g_strdup_vprintf(fmt, ap));
    va_end(ap);
    trace_mcd_json_error(uid, code);
    return MCD_RET_ACT_HANDLE_ERROR;
}

/* A call succeeded: its error info says so.  Returns: return-status. */
static uint32_t succeed(uint32_t uid)
{
    store_error(uid, MCD_ERR_NONE, g_strdup(""));
    return MCD_RET_ACT_NONE;
}

/* A failure that the core reported with @err, which is freed. */
static uint32_t fail_err(uint32_t uid, uint32_t code, Error *err)
{
    uint32_t ret = fail(uid, code, "%s", error_get_pretty(err));

    error_free(err);
    return ret;
}

/*
 * Sessions and connections
 */

static void json_end_session(MCDJsonServer *j)
{
    timer_del(j->grace_timer);
    if (!j->server_uid) {
        return;
    }
    trace_mcd_json_session_end(j->server_uid);
    /* the cores first: closing one removes its triggers */
    g_hash_table_remove_all(j->cores);
    mcd_session_free(j->session);
    j->session = NULL;
    j->server_uid = 0;
}

static void json_grace_over(void *opaque)
{
    json_end_session(opaque);
}

/* Send a reply: one line of compact JSON. */
static void json_send(MCDJsonServer *j, QDict *rsp)
{
    g_autoptr(GString) out = NULL;

    if (rsp && j->connected) {
        out = qobject_to_json(QOBJECT(rsp));
        g_string_append_c(out, '\n');
        j->ops->write(j->opaque, (const uint8_t *)out->str, out->len);
    }
    qobject_unref(rsp);
}

/* Execute a request.  Returns: false when its reply waits. */
static bool json_execute(MCDJsonServer *j, QObject *req)
{
    QDict *rsp;

    mcd_json = j;
    j->wait = MCD_JSON_WAIT_NONE;
    rsp = qmp_dispatch(&mcd_json_commands, req, false, NULL);
    mcd_json = NULL;
    qobject_unref(req);
    if (j->wait != MCD_JSON_WAIT_NONE) {
        j->deferred = rsp;
        return false;
    }
    json_send(j, rsp);
    return true;
}

static void json_emit(void *opaque, QObject *req, Error *err)
{
    MCDJsonServer *j = opaque;
    MCDJsonQueued *q;

    if (j->wait != MCD_JSON_WAIT_NONE || !g_queue_is_empty(&j->queued)) {
        /* after the reply that waits */
        q = g_new0(MCDJsonQueued, 1);
        q->req = req;
        q->rsp = err ? qmp_error_response(err) : NULL;
        g_queue_push_tail(&j->queued, q);
        return;
    }
    if (err) {
        /* malformed: nothing else can be answered */
        json_send(j, qmp_error_response(err));
        return;
    }
    json_execute(j, req);
}

static void json_drop_queued(MCDJsonServer *j)
{
    MCDJsonQueued *q;

    while ((q = g_queue_pop_head(&j->queued))) {
        qobject_unref(q->req);
        qobject_unref(q->rsp);
        g_free(q);
    }
    qobject_unref(j->deferred);
    j->deferred = NULL;
    j->wait = MCD_JSON_WAIT_NONE;
}

/* The call whose reply waited is complete: answer it and go on. */
static void json_complete(MCDJsonServer *j)
{
    MCDJsonQueued *q;

    /* no new input meanwhile: a reply written here may ask for more */
    j->completing = true;
    json_send(j, j->deferred);
    j->deferred = NULL;
    j->wait = MCD_JSON_WAIT_NONE;
    while ((q = g_queue_pop_head(&j->queued))) {
        bool done = true;

        if (q->rsp) {
            json_send(j, q->rsp);
        } else {
            done = json_execute(j, q->req);
        }
        g_free(q);
        if (!done) {
            j->completing = false;
            return;
        }
    }
    j->completing = false;
    if (j->ops->resumed) {
        j->ops->resumed(j->opaque);
    }
}

static void json_stopped(void *opaque, uint32_t core)
{
    MCDJsonServer *j = opaque;

    /* the client polls mcd-qry-state; only a step's reply waits */
    if (j->wait == MCD_JSON_WAIT_STEP && j->wait_core == core) {
        json_complete(j);
    }
}

static void json_reset_done(void *opaque)
{
    MCDJsonServer *j = opaque;

    if (j->wait == MCD_JSON_WAIT_RESET) {
        json_complete(j);
    }
}

static const MCDSessionOps mcd_json_session_ops = {
    .stopped = json_stopped,
    .reset_done = json_reset_done,
};

static void json_trig_free(gpointer p)
{
    MCDJsonTrig *t = p;

    qapi_free_MCDTrig(t->trig);
    g_free(t);
}

static void json_core_free(gpointer p)
{
    MCDJsonCore *c = p;

    /* closing the core removes its triggers from the target */
    mcd_core_close(c->core);
    g_ptr_array_free(c->trigs, true);
    g_free(c);
}

MCDJsonServer *mcd_json_server_new(const MCDJsonOps *ops, void *opaque)
{
    MCDJsonServer *j = g_new0(MCDJsonServer, 1);

    if (QTAILQ_EMPTY(&mcd_json_commands)) {
        mcd_qmp_init_marshal(&mcd_json_commands);
    }
    j->ops = ops;
    j->opaque = opaque;
    j->cores = g_hash_table_new_full(NULL, NULL, NULL, json_core_free);
    j->errors = g_hash_table_new_full(NULL, NULL, NULL, json_error_free);
    j->grace_timer = timer_new_ms(QEMU_CLOCK_REALTIME, json_grace_over, j);
    j->grace_ms = MCD_JSON_GRACE_MS_DEFAULT;
    g_queue_init(&j->queued);
    return j;
}

void mcd_json_set_grace(MCDJsonServer *j, uint32_t ms)
{
    j->grace_ms = ms;
}

void mcd_json_connect(MCDJsonServer *j)
{
    if (j->connected) {
        json_message_parser_destroy(&j->parser);
    }
    json_message_parser_init(&j->parser, json_emit, j, NULL);
    j->connected = true;
    /* a session that waited for its client goes on */
    timer_del(j->grace_timer);
}

void mcd_json_input(MCDJsonServer *j, const uint8_t *buf, size_t len)
{
    if (j->connected) {
        json_message_parser_feed(&j->parser, (const char *)buf, len);
    }
}

void mcd_json_disconnect(MCDJsonServer *j)
{
    if (!j->connected) {
        return;
    }
    json_message_parser_destroy(&j->parser);
    j->connected = false;
    json_drop_queued(j);
    if (j->server_uid) {
        trace_mcd_json_session_linger(j->server_uid, j->grace_ms);
        timer_mod(j->grace_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + j->grace_ms);
    }
}

void mcd_json_end_session(MCDJsonServer *j)
{
    json_end_session(j);
}

bool mcd_json_busy(MCDJsonServer *j)
{
    return j->wait != MCD_JSON_WAIT_NONE || j->completing ||
           !g_queue_is_empty(&j->queued);
}

/*
 * Commands: the MCD API functions
 */

/* mcd_core_state_et */
#define MCD_CORE_STATE_RUNNING      1
#define MCD_CORE_STATE_HALTED       2
#define MCD_CORE_STATE_DEBUG        3

/* mcd_core_event_et */
#define MCD_CORE_EVENT_STOPPED      0x10

/* mcd_core_step_type_et */
#define MCD_CORE_STEP_TYPE_INSTR    2

/* mcd_tx_access_type_et */
#define MCD_TX_AT_R                 1
#define MCD_TX_AT_W                 2

/* mcd_trig_type_et, mcd_trig_action_et */
#define MCD_TRIG_TYPE_IP            0x1
#define MCD_TRIG_TYPE_READ          0x2
#define MCD_TRIG_TYPE_WRITE         0x4
#define MCD_TRIG_TYPE_RW            0x8
#define MCD_TRIG_ACTION_DBG_DEBUG   0x1

/*
 * The most data bytes one reply may carry: the client takes replies of
 * up to 65,535 bytes, and a byte is up to four characters of JSON.
 */
#define MCD_JSON_MAX_DATA           16000

/* The names the client has room for (MCD_*_LEN minus the NUL). */
#define MCD_HOSTNAME_LEN            63
#define MCD_KEY_LEN                 63
#define MCD_UNIQUE_NAME_LEN         63
#define MCD_INFO_STR_LEN            255

static char *name_of(const char *s, size_t max)
{
    return g_strndup(s ? s : "", max);
}


static MCDJsonCore *core_of(uint32_t uid)
{
    return g_hash_table_lookup(mcd_json->cores, GUINT_TO_POINTER(uid));
}

/*
 * The open core @uid, or %NULL after storing the failure in the server's
 * error info.
 */
static MCDJsonCore *open_core(uint32_t uid, uint32_t *status)
{
    MCDJsonCore *c = core_of(uid);

    if (!c) {
        *status = fail(0, MCD_ERR_PARAM, "core-uid %" PRIu32 " is not an "
                       "open core", uid);
    }
    return c;
}

static MCDCoreConInfo *con_info(const MCDCoreConInfo *from)
{
    MCDCoreConInfo *ci = g_new0(MCDCoreConInfo, 1);
    g_autofree char *pid = g_strdup_printf("Process ID: %d", (int)getpid());
    g_autoptr(MCDSystemInfo) info = NULL;

    info = mcd_system_info();
    ci->host = name_of(from ? from->host : "QEMU", MCD_HOSTNAME_LEN);
    ci->server_port = from ? from->server_port : 0;
    ci->server_key = name_of(from ? from->server_key : "", MCD_KEY_LEN);
    ci->system_key = name_of(from ? from->system_key : "", MCD_KEY_LEN);
    ci->device_key = name_of(from ? from->device_key : "", MCD_KEY_LEN);
    ci->system = name_of(g_get_prgname(), MCD_UNIQUE_NAME_LEN);
    ci->system_instance = name_of(pid, MCD_UNIQUE_NAME_LEN);
    ci->acc_hw = name_of(from ? from->acc_hw : "", MCD_UNIQUE_NAME_LEN);
    ci->device_type = from ? from->device_type : 0;
    ci->device = name_of(info->device, MCD_UNIQUE_NAME_LEN);
    ci->device_id = from ? from->device_id : 0;
    ci->core = g_strdup("");
    ci->core_type = from ? from->core_type : 0;
    return ci;
}

MCDInitializeResult *qmp_mcd_initialize(MCDAPIVersion *version_req,
                                        Error **errp)
{
    MCDInitializeResult *r = g_new0(MCDInitializeResult, 1);

    if (version_req->v_api_major != 1 || version_req->v_api_minor > 1) {
        r->return_status = fail(0, MCD_ERR_GENERAL, "incompatible versions: "
                                "QEMU implements the MCD API 1.1");
        return r;
    }
    r->impl_info = g_new0(MCDImplVersionInfo, 1);
    r->impl_info->v_api = g_new0(MCDAPIVersion, 1);
    r->impl_info->v_api->v_api_major = 1;
    r->impl_info->v_api->v_api_minor = 1;
    r->impl_info->v_api->author = g_strdup("QEMU Release");
    r->impl_info->v_imp_major = QEMU_VERSION_MAJOR;
    r->impl_info->v_imp_minor = QEMU_VERSION_MINOR;
    r->impl_info->v_imp_build = QEMU_VERSION_MICRO;
    r->impl_info->vendor = g_strdup("QEMU");
    r->impl_info->date = g_strdup("");
    r->return_status = succeed(0);
    return r;
}

void qmp_mcd_exit(Error **errp)
{
    json_end_session(mcd_json);
}

MCDErrorInfo *qmp_mcd_qry_error_info(uint32_t core_uid, Error **errp)
{
    MCDJsonError *e = g_hash_table_lookup(mcd_json->errors,
                                          GUINT_TO_POINTER(core_uid));
    MCDErrorInfo *r = g_new0(MCDErrorInfo, 1);

    r->return_status = e && e->code ? MCD_RET_ACT_HANDLE_ERROR
                                    : MCD_RET_ACT_NONE;
    r->error_code = e ? e->code : MCD_ERR_NONE;
    r->error_events = MCD_ERR_EVT_NONE;
    r->error_str = name_of(e ? e->str : "", MCD_INFO_STR_LEN);
    return r;
}

MCDQryServersResult *qmp_mcd_qry_servers(const char *host, bool running,
                                         uint32_t start_index,
                                         uint32_t num_servers, Error **errp)
{
    MCDQryServersResult *r = g_new0(MCDQryServersResult, 1);
    g_autofree char *pid = g_strdup_printf("Process ID: %d", (int)getpid());

    if (start_index > 0) {
        r->return_status = fail(0, MCD_ERR_PARAM, "there is one server");
        return r;
    }
    r->has_num_servers = true;
    r->num_servers = 1;
    if (num_servers) {
        MCDServerInfo *si = g_new0(MCDServerInfo, 1);

        si->server = g_strdup("QEMU");
        si->system_instance = g_strdup(pid);
        si->acc_hw = g_strdup("");
        QAPI_LIST_PREPEND(r->server_info, si);
        r->has_server_info = true;
    }
    r->return_status = succeed(0);
    return r;
}

MCDOpenServerResult *qmp_mcd_open_server(const char *system_key,
                                         const char *config_string,
                                         Error **errp)
{
    MCDOpenServerResult *r = g_new0(MCDOpenServerResult, 1);
    MCDJsonServer *j = mcd_json;

    if (j->server_uid) {
        r->return_status = fail(0, MCD_ERR_CONNECTION,
                                "server already open");
        return r;
    }
    j->session = mcd_session_new(&mcd_json_session_ops, j);
    j->server_uid = ++j->last_server_uid;
    trace_mcd_json_session_open(j->server_uid);
    r->has_server_uid = true;
    r->server_uid = j->server_uid;
    r->host = g_strdup("QEMU");
    r->config_string = name_of(config_string, MCD_INFO_STR_LEN);
    r->return_status = succeed(0);
    return r;
}

MCDStatus *qmp_mcd_close_server(uint32_t server_uid, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);

    if (!server_uid || server_uid != mcd_json->server_uid) {
        r->return_status = fail(0, MCD_ERR_PARAM, "server-uid %" PRIu32
                                " is not an open server", server_uid);
        return r;
    }
    json_end_session(mcd_json);
    r->return_status = succeed(0);
    return r;
}

/* The server is open; else the failure is stored. */
static bool server_open(uint32_t *status)
{
    if (!mcd_json->server_uid) {
        *status = fail(0, MCD_ERR_USAGE, "no server is open");
        return false;
    }
    return true;
}

MCDQrySystemsResult *qmp_mcd_qry_systems(uint32_t start_index,
                                         uint32_t num_systems, Error **errp)
{
    MCDQrySystemsResult *r = g_new0(MCDQrySystemsResult, 1);

    if (!server_open(&r->return_status)) {
        return r;
    }
    if (start_index > 0) {
        r->return_status = fail(0, MCD_ERR_PARAM, "there is one system");
        return r;
    }
    r->has_num_systems = true;
    r->num_systems = 1;
    if (num_systems) {
        QAPI_LIST_PREPEND(r->system_con_info, con_info(NULL));
        r->has_system_con_info = true;
    }
    r->return_status = succeed(0);
    return r;
}

MCDQryDevicesResult *qmp_mcd_qry_devices(MCDCoreConInfo *system_con_info,
                                         uint32_t start_index,
                                         uint32_t num_devices, Error **errp)
{
    MCDQryDevicesResult *r = g_new0(MCDQryDevicesResult, 1);

    if (!server_open(&r->return_status)) {
        return r;
    }
    if (start_index > 0) {
        r->return_status = fail(0, MCD_ERR_PARAM, "there is one device");
        return r;
    }
    r->has_num_devices = true;
    r->num_devices = 1;
    if (num_devices) {
        QAPI_LIST_PREPEND(r->device_con_info, con_info(system_con_info));
        r->has_device_con_info = true;
    }
    r->return_status = succeed(0);
    return r;
}

static MCDCoreConInfo *core_con_info(const MCDCoreConInfo *from,
                                     uint32_t index)
{
    MCDCoreConInfo *ci = con_info(from);
    g_autofree char *model = mcd_core_model(index);

    g_free(ci->core);
    ci->core = name_of(model, MCD_UNIQUE_NAME_LEN);
    ci->core_id = index;
    return ci;
}

MCDQryCoresResult *qmp_mcd_qry_cores(MCDCoreConInfo *connection_info,
                                     uint32_t start_index,
                                     uint32_t num_cores, Error **errp)
{
    MCDQryCoresResult *r = g_new0(MCDQryCoresResult, 1);
    g_autoptr(MCDSystemInfo) info = NULL;
    MCDCoreConInfoList **tail = &r->core_con_info;
    uint32_t i;

    if (!server_open(&r->return_status)) {
        return r;
    }
    info = mcd_system_info();
    if (start_index >= info->nr_cores && (start_index || num_cores)) {
        r->return_status = fail(0, MCD_ERR_PARAM, "there are %" PRIu32
                                " cores", info->nr_cores);
        return r;
    }
    if (!num_cores) {
        r->has_num_cores = true;
        r->num_cores = info->nr_cores;
        r->return_status = succeed(0);
        return r;
    }
    for (i = start_index; i < info->nr_cores && i - start_index < num_cores;
         i++) {
        QAPI_LIST_APPEND(tail, core_con_info(connection_info, i));
    }
    r->has_num_cores = true;
    r->num_cores = i - start_index;
    r->has_core_con_info = true;
    r->return_status = succeed(0);
    return r;
}

MCDOpenCoreResult *qmp_mcd_open_core(MCDCoreConInfo *core_con_info_in,
                                     Error **errp)
{
    MCDOpenCoreResult *r = g_new0(MCDOpenCoreResult, 1);
    uint32_t index = core_con_info_in->core_id;
    uint32_t uid = index + 1;
    MCDJsonCore *c;
    Error *err = NULL;
    MCDCore *core;

    if (!server_open(&r->return_status)) {
        return r;
    }
    if (core_of(uid)) {
        r->return_status = fail(0, MCD_ERR_CONNECTION, "core %" PRIu32
                                " is open already", index);
        return r;
    }
    core = index < UINT32_MAX ? mcd_core_open(mcd_json->session, index,
                                              MCD_MODEL_QEMU, &err)
                              : NULL;
    if (!core) {
        r->return_status = err ? fail_err(0, MCD_ERR_PARAM, err)
                               : fail(0, MCD_ERR_PARAM, "no core");
        return r;
    }
    c = g_new0(MCDJsonCore, 1);
    c->core = core;
    c->trigs = g_ptr_array_new_with_free_func(json_trig_free);
    c->next_trig_id = 1;
    g_hash_table_insert(mcd_json->cores, GUINT_TO_POINTER(uid), c);
    r->has_core_uid = true;
    r->core_uid = uid;
    r->core_con_info = core_con_info(core_con_info_in, index);
    r->return_status = succeed(uid);
    succeed(0);
    return r;
}

MCDStatus *qmp_mcd_close_core(uint32_t core_uid, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    g_hash_table_remove(mcd_json->cores, GUINT_TO_POINTER(core_uid));
    g_hash_table_remove(mcd_json->errors, GUINT_TO_POINTER(core_uid));
    r->return_status = succeed(0);
    return r;
}

/* Check a start index and count of a list of @len items. */
static bool list_range(uint32_t uid, uint32_t start, uint32_t len,
                       const char *what, uint32_t *status)
{
    if (start > 0 && start >= len) {
        *status = fail(uid, MCD_ERR_PARAM, "there are %" PRIu32 " %s",
                       len, what);
        return false;
    }
    return true;
}

MCDQryMemSpacesResult *qmp_mcd_qry_mem_spaces(uint32_t core_uid,
                                              uint32_t start_index,
                                              uint32_t num_mem_spaces,
                                              Error **errp)
{
    MCDQryMemSpacesResult *r = g_new0(MCDQryMemSpacesResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDMemspaceList **tail = &r->mem_spaces;
    GArray *spaces;
    uint32_t i, n = 0;

    if (!c) {
        return r;
    }
    spaces = c->core->memspaces;
    if (!list_range(core_uid, start_index, spaces->len, "memory spaces",
                    &r->return_status)) {
        return r;
    }
    r->has_num_mem_spaces = true;
    if (!num_mem_spaces) {
        r->num_mem_spaces = spaces->len;
        r->return_status = succeed(core_uid);
        return r;
    }
    for (i = start_index; i < spaces->len && n < num_mem_spaces; i++, n++) {
        const MCDMemSpace *ms = &g_array_index(spaces, MCDMemSpace, i);
        MCDMemspace *m = g_new0(MCDMemspace, 1);

        m->mem_space_id = ms->id;
        m->mem_space_name = name_of(ms->name, 31);
        m->mem_type = ms->type;
        m->bits_per_mau = ms->bits_per_mau;
        m->invariance = ms->invariance;
        m->endian = ms->endian;
        m->min_addr = ms->min_addr;
        m->max_addr = ms->max_addr;
        m->supported_access_options = ms->access_options;
        QAPI_LIST_APPEND(tail, m);
    }
    r->num_mem_spaces = n;
    r->has_mem_spaces = true;
    r->return_status = succeed(core_uid);
    return r;
}

static uint32_t group_size(MCDCore *core, uint32_t group_id)
{
    uint32_t i, n = 0;

    for (i = 0; i < core->regs->len; i++) {
        n += g_array_index(core->regs, MCDRegister, i).group_id == group_id;
    }
    return n;
}

MCDQryRegGroupsResult *qmp_mcd_qry_reg_groups(uint32_t core_uid,
                                              uint32_t start_index,
                                              uint32_t num_reg_groups,
                                              Error **errp)
{
    MCDQryRegGroupsResult *r = g_new0(MCDQryRegGroupsResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDRegisterGroupList **tail = &r->reg_groups;
    GArray *groups;
    uint32_t i, n = 0;

    if (!c) {
        return r;
    }
    groups = c->core->reggroups;
    if (!groups->len) {
        r->return_status = fail(core_uid, MCD_ERR_NO_REG_GROUPS,
                                "the core has no registers");
        return r;
    }
    if (!list_range(core_uid, start_index, groups->len, "register groups",
                    &r->return_status)) {
        return r;
    }
    r->has_num_reg_groups = true;
    if (!num_reg_groups) {
        r->num_reg_groups = groups->len;
        r->return_status = succeed(core_uid);
        return r;
    }
    for (i = start_index; i < groups->len && n < num_reg_groups; i++, n++) {
        const MCDRegGroup *g = &g_array_index(groups, MCDRegGroup, i);
        MCDRegisterGroup *rg = g_new0(MCDRegisterGroup, 1);

        rg->reg_group_id = g->id;
        rg->reg_group_name = name_of(g->name, 31);
        rg->n_registers = group_size(c->core, g->id);
        QAPI_LIST_APPEND(tail, rg);
    }
    r->num_reg_groups = n;
    r->has_reg_groups = true;
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryRegMapResult *qmp_mcd_qry_reg_map(uint32_t core_uid,
                                        uint32_t reg_group_id,
                                        uint32_t start_index,
                                        uint32_t num_regs, Error **errp)
{
    MCDQryRegMapResult *r = g_new0(MCDQryRegMapResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDRegisterInfoList **tail = &r->reg_info;
    uint32_t i, count, k = 0, n = 0;

    if (!c) {
        return r;
    }
    if (reg_group_id > c->core->reggroups->len) {
        r->return_status = fail(core_uid, MCD_ERR_REG_GROUP_ID, "no register "
                                "group %" PRIu32, reg_group_id);
        return r;
    }
    count = reg_group_id ? group_size(c->core, reg_group_id)
                         : c->core->regs->len;
    if (!list_range(core_uid, start_index, count, "registers",
                    &r->return_status)) {
        return r;
    }
    r->has_num_regs = true;
    if (!num_regs) {
        r->num_regs = count;
        r->return_status = succeed(core_uid);
        return r;
    }
    for (i = 0; i < c->core->regs->len && n < num_regs; i++) {
        const MCDRegister *reg = &g_array_index(c->core->regs, MCDRegister,
                                                i);
        MCDRegisterInfo *ri;

        if (reg_group_id && reg->group_id != reg_group_id) {
            continue;
        }
        if (k++ < start_index) {
            continue;
        }
        ri = g_new0(MCDRegisterInfo, 1);
        ri->addr = g_new0(MCDAddr, 1);
        ri->addr->address = reg->id;
        ri->addr->mem_space_id = reg->memspace_id;
        ri->reg_group_id = reg->group_id;
        ri->regname = name_of(reg->name, 31);
        ri->regsize = reg->bits;
        ri->hw_thread_id = 0;
        QAPI_LIST_APPEND(tail, ri);
        n++;
    }
    r->num_regs = n;
    r->has_reg_info = true;
    r->return_status = succeed(core_uid);
    return r;
}

/* One transaction; returns the MCD error code, and sets tx->num_bytes_ok. */
static uint32_t execute_tx(MCDJsonCore *c, MCDTx *tx, size_t *data_out,
                           Error **errp)
{
    const MCDMemSpace *ms = mcd_core_find_memspace(c->core,
                                                   tx->addr->mem_space_id);
    bool is_write = tx->access_type == MCD_TX_AT_W;
    uint32_t read_err = is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
    g_autofree uint8_t *buf = NULL;
    uint8List **tail = &tx->data;
    uint8List *d;
    uint32_t code, i;

    tx->num_bytes_ok = 0;
    if (!ms) {
        error_setg(errp, "no memory space %" PRIu32, tx->addr->mem_space_id);
        return MCD_ERR_PARAM;
    }
    if (tx->access_type != MCD_TX_AT_R && !is_write) {
        error_setg(errp, "access type %" PRIu32 " is not supported: only "
                   "reads and writes", tx->access_type);
        return MCD_ERR_TXLIST_TX;
    }
    if (tx->access_width && tx->num_bytes % tx->access_width) {
        error_setg(errp, "%" PRIu32 " bytes are not a multiple of the access "
                   "width %u", tx->num_bytes, tx->access_width);
        return MCD_ERR_TXLIST_TX;
    }
    if (!is_write && *data_out + tx->num_bytes > MCD_JSON_MAX_DATA) {
        error_setg(errp, "cannot read more than %d bytes in one reply",
                   MCD_JSON_MAX_DATA);
        return read_err;
    }
    buf = g_malloc0(tx->num_bytes);
    if (is_write) {
        for (d = tx->data, i = 0; d && i < tx->num_bytes; d = d->next, i++) {
            buf[i] = d->value;
        }
        if (i < tx->num_bytes) {
            error_setg(errp, "%" PRIu32 " bytes to write but %" PRIu32
                       " of data", tx->num_bytes, i);
            return MCD_ERR_PARAM;
        }
    }
    if (ms->type & MCD_MEM_SPACE_IS_REGISTERS) {
        const MCDRegister *reg = mcd_core_find_register(c->core,
                                                        tx->addr->address);
        g_autoptr(GByteArray) val = g_byte_array_new();

        if (!reg || reg->bits / 8 != tx->num_bytes) {
            error_setg(errp, "no register %" PRIu64 " of %" PRIu32 " bytes",
                       tx->addr->address, tx->num_bytes);
            return read_err;
        }
        if (is_write) {
            code = mcd_core_write_register(c->core, reg, buf, errp);
        } else {
            code = mcd_core_read_register(c->core, reg, val, errp);
            if (code == MCD_ERR_NONE) {
                memcpy(buf, val->data, MIN(val->len, tx->num_bytes));
            }
        }
    } else {
        code = mcd_core_access_memory(c->core, ms, tx->addr->address, buf,
                                      tx->num_bytes, is_write, tx->options,
                                      errp);
    }
    if (code != MCD_ERR_NONE) {
        return code;
    }
    if (!is_write) {
        qapi_free_uint8List(tx->data);
        tx->data = NULL;
        for (i = 0; i < tx->num_bytes; i++) {
            QAPI_LIST_APPEND(tail, buf[i]);
        }
        *data_out += tx->num_bytes;
    }
    tx->num_bytes_ok = tx->num_bytes;
    return MCD_ERR_NONE;
}

/* Move a QAPI object: the marshaller frees the argument after the call. */
static MCDTxlist *txlist_steal(MCDTxlist *txlist)
{
    MCDTxlist *copy = g_memdup2(txlist, sizeof(*txlist));

    txlist->tx = NULL;
    return copy;
}

MCDExecuteTxlistResult *qmp_mcd_execute_txlist(uint32_t core_uid,
                                               MCDTxlist *txlist,
                                               Error **errp)
{
    MCDExecuteTxlistResult *r = g_new0(MCDExecuteTxlistResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDTxList *l;
    size_t data = 0;
    Error *err = NULL;
    uint32_t code;

    if (!c) {
        return r;
    }
    r->txlist = txlist_steal(txlist);
    r->txlist->num_tx_ok = 0;
    for (l = r->txlist->tx; l && r->txlist->num_tx_ok < r->txlist->num_tx;
         l = l->next) {
        code = execute_tx(c, l->value, &data, &err);
        if (code != MCD_ERR_NONE) {
            r->return_status = fail_err(core_uid, code, err);
            return r;
        }
        r->txlist->num_tx_ok++;
    }
    r->return_status = succeed(core_uid);
    return r;
}

/* Wait with the reply until the step of @c ends. */
static void wait_for_stop(MCDJsonCore *c)
{
    mcd_json->wait = MCD_JSON_WAIT_STEP;
    mcd_json->wait_core = c->core->index;
}

MCDStatus *qmp_mcd_run(uint32_t core_uid, bool global, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    Error *err = NULL;
    uint32_t code;

    if (!c) {
        return r;
    }
    code = mcd_core_go(mcd_json->session, global ? NULL : c->core, &err);
    r->return_status = code ? fail_err(core_uid, code, err)
                            : succeed(core_uid);
    return r;
}

MCDStatus *qmp_mcd_stop(uint32_t core_uid, bool global, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    Error *err = NULL;
    uint32_t code;

    if (!c) {
        return r;
    }
    code = mcd_core_break(mcd_json->session, global ? NULL : c->core, &err);
    r->return_status = code ? fail_err(core_uid, code, err)
                            : succeed(core_uid);
    return r;
}

MCDStatus *qmp_mcd_step(uint32_t core_uid, bool global, uint32_t step_type,
                        uint32_t n_steps, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    Error *err = NULL;
    uint32_t code;

    if (!c) {
        return r;
    }
    if (step_type != MCD_CORE_STEP_TYPE_INSTR) {
        r->return_status = fail(core_uid, MCD_ERR_PARAM, "step type %" PRIu32
                                " is not supported: only instructions (2)",
                                step_type);
        return r;
    }
    /* a global step steps this core; the others stay where they are */
    code = mcd_core_step(c->core, n_steps, false, &err);
    if (code) {
        r->return_status = fail_err(core_uid, code, err);
        return r;
    }
    wait_for_stop(c);
    r->return_status = succeed(core_uid);
    return r;
}

MCDStatus *qmp_mcd_set_global(uint32_t core_uid, bool enable, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    if (!enable) {
        r->return_status = fail(core_uid, MCD_ERR_GENERAL, "global run "
                                "control cannot be disabled");
        return r;
    }
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryStateResult *qmp_mcd_qry_state(uint32_t core_uid, Error **errp)
{
    MCDQryStateResult *r = g_new0(MCDQryStateResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDStateRecord st;

    if (!c) {
        return r;
    }
    mcd_core_get_state(c->core, &st);
    r->state = g_new0(MCDCoreState, 1);
    switch (st.state) {
    case MCD_RUN_RUNNING:
        r->state->state = MCD_CORE_STATE_RUNNING;
        break;
    case MCD_RUN_DEBUG:
        r->state->state = MCD_CORE_STATE_DEBUG;
        break;
    case MCD_RUN_HALTED:
        /*
         * A core waiting for an interrupt says "halted", which the client
         * shows as running; a core of a stopped VM (-S, the monitor's
         * stop) is stopped as far as a debugger can tell.
         */
        r->state->state = st.idle ? MCD_CORE_STATE_HALTED
                                  : MCD_CORE_STATE_DEBUG;
        if (st.idle) {
            g_free(st.info);
            st.info = g_strdup("halted");
        }
        break;
    }
    r->state->event = st.stop_seq != c->stop_seen && st.stop_seq ?
                      MCD_CORE_EVENT_STOPPED : 0;
    c->stop_seen = st.stop_seq;
    r->state->trig_id = st.trig_id;
    r->state->stop_str = name_of(st.stop_reason, MCD_INFO_STR_LEN);
    r->state->info_str = name_of(st.info, MCD_INFO_STR_LEN);
    g_free(st.stop_reason);
    g_free(st.info);
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryTrigInfoResult *qmp_mcd_qry_trig_info(uint32_t core_uid, Error **errp)
{
    MCDQryTrigInfoResult *r = g_new0(MCDQryTrigInfoResult, 1);

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    r->trig_info = g_new0(MCDTrigInfo, 1);
    r->trig_info->type = MCD_TRIG_TYPE_IP | MCD_TRIG_TYPE_READ |
                         MCD_TRIG_TYPE_WRITE | MCD_TRIG_TYPE_RW;
    r->trig_info->action = MCD_TRIG_ACTION_DBG_DEBUG;
    r->trig_info->trig_number = MCD_MAX_TRIGGERS;
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryCtrigsResult *qmp_mcd_qry_ctrigs(uint32_t core_uid,
                                       uint32_t start_index,
                                       uint32_t num_ctrigs, Error **errp)
{
    MCDQryCtrigsResult *r = g_new0(MCDQryCtrigsResult, 1);

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    if (start_index > 0) {
        r->return_status = fail(core_uid, MCD_ERR_PARAM, "there are no "
                                "custom triggers");
        return r;
    }
    r->has_num_ctrigs = true;
    r->num_ctrigs = 0;
    r->return_status = succeed(core_uid);
    return r;
}

static MCDJsonTrig *find_trig(MCDJsonCore *c, uint32_t id, guint *index)
{
    guint i;

    for (i = 0; i < c->trigs->len; i++) {
        MCDJsonTrig *t = g_ptr_array_index(c->trigs, i);

        if (t->id == id) {
            if (index) {
                *index = i;
            }
            return t;
        }
    }
    return NULL;
}

MCDCreateTrigResult *qmp_mcd_create_trig(uint32_t core_uid, MCDTrig *trig,
                                         Error **errp)
{
    MCDCreateTrigResult *r = g_new0(MCDCreateTrigResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDTrigSimpleCore *simple = trig->trig_simple_core;
    MCDTrigComplexCore *complex = trig->trig_complex_core;
    uint32_t type, action;
    MCDAddr *addr;
    uint64_t range;
    MCDJsonTrig *t;
    Error *err = NULL;
    uint32_t code;

    if (!c) {
        return r;
    }
    if (!simple == !complex) {
        r->return_status = fail(core_uid, MCD_ERR_TRIG_CREATE, "give one of "
                                "trig-simple-core and trig-complex-core");
        return r;
    }
    type = simple ? simple->type : complex->type;
    action = simple ? simple->action : complex->action;
    addr = simple ? simple->addr_start : complex->addr_start;
    range = simple ? simple->addr_range : complex->addr_range;
    t = g_new0(MCDJsonTrig, 1);
    switch (type) {
    case MCD_TRIG_TYPE_IP:
        t->type = MCD_TRIG_BREAKPOINT;
        break;
    case MCD_TRIG_TYPE_READ:
        t->type = MCD_TRIG_READ;
        break;
    case MCD_TRIG_TYPE_WRITE:
        t->type = MCD_TRIG_WRITE;
        break;
    case MCD_TRIG_TYPE_RW:
        t->type = MCD_TRIG_ACCESS;
        break;
    default:
        g_free(t);
        r->return_status = fail(core_uid, MCD_ERR_TRIG_CREATE, "trigger type "
                                "0x%" PRIx32 " is not supported", type);
        return r;
    }
    if (action & ~(MCD_TRIG_ACTION_DBG_DEBUG | 0x2)) {
        g_free(t);
        r->return_status = fail(core_uid, MCD_ERR_TRIG_CREATE, "trigger "
                                "action 0x%" PRIx32 " is not supported: "
                                "triggers stop the system", action);
        return r;
    }
    t->id = c->next_trig_id;
    t->addr = addr->address;
    /* a watchpoint watches addr-range bytes, at least one */
    t->len = t->type == MCD_TRIG_BREAKPOINT ? 0 : MAX(range, 1);
    code = mcd_core_set_trigger(c->core, t->type, t->addr, t->len, t->id,
                                true, &err);
    if (code) {
        g_free(t);
        r->return_status = fail_err(core_uid, code, err);
        return r;
    }
    c->next_trig_id++;
    /* kept as created: mcd-qry-trig answers with the same variant */
    t->trig = QAPI_CLONE(MCDTrig, trig);
    g_ptr_array_add(c->trigs, t);
    r->trig = QAPI_CLONE(MCDTrig, trig);
    r->has_trig_id = true;
    r->trig_id = t->id;
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryTrigResult *qmp_mcd_qry_trig(uint32_t core_uid, uint32_t trig_id,
                                   Error **errp)
{
    MCDQryTrigResult *r = g_new0(MCDQryTrigResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDJsonTrig *t = c ? find_trig(c, trig_id, NULL) : NULL;

    if (!c) {
        return r;
    }
    if (!t) {
        r->return_status = fail(core_uid, MCD_ERR_TRIG_ACCESS, "no trigger "
                                "%" PRIu32, trig_id);
        return r;
    }
    r->trig = QAPI_CLONE(MCDTrig, t->trig);
    r->return_status = succeed(core_uid);
    return r;
}

static uint32_t remove_trig(uint32_t core_uid, MCDJsonCore *c, guint index)
{
    MCDJsonTrig *t = g_ptr_array_index(c->trigs, index);
    Error *err = NULL;
    uint32_t code;

    code = mcd_core_set_trigger(c->core, t->type, t->addr, t->len, t->id,
                                false, &err);
    g_ptr_array_remove_index(c->trigs, index);
    return code ? fail_err(core_uid, code, err) : MCD_RET_ACT_NONE;
}

MCDStatus *qmp_mcd_remove_trig(uint32_t core_uid, uint32_t trig_id,
                               Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    guint index;

    if (!c) {
        return r;
    }
    if (!find_trig(c, trig_id, &index)) {
        r->return_status = fail(core_uid, MCD_ERR_TRIG_ACCESS, "no trigger "
                                "%" PRIu32, trig_id);
        return r;
    }
    r->return_status = remove_trig(core_uid, c, index);
    if (!r->return_status) {
        r->return_status = succeed(core_uid);
    }
    return r;
}

MCDQryTrigStateResult *qmp_mcd_qry_trig_state(uint32_t core_uid,
                                              uint32_t trig_id,
                                              Error **errp)
{
    MCDQryTrigStateResult *r = g_new0(MCDQryTrigStateResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    MCDStateRecord st;

    if (!c) {
        return r;
    }
    if (!find_trig(c, trig_id, NULL)) {
        r->return_status = fail(core_uid, MCD_ERR_TRIG_ACCESS, "no trigger "
                                "%" PRIu32, trig_id);
        return r;
    }
    mcd_core_get_state(c->core, &st);
    r->trig_state = g_new0(MCDTrigState, 1);
    r->trig_state->active = true;
    r->trig_state->captured = st.trig_id == trig_id;
    r->trig_state->captured_valid = true;
    g_free(st.stop_reason);
    g_free(st.info);
    r->return_status = succeed(core_uid);
    return r;
}

MCDStatus *qmp_mcd_activate_trig_set(uint32_t core_uid, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);

    /* triggers are active from their creation on */
    if (open_core(core_uid, &r->return_status)) {
        r->return_status = succeed(core_uid);
    }
    return r;
}

MCDStatus *qmp_mcd_remove_trig_set(uint32_t core_uid, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);

    if (!c) {
        return r;
    }
    while (c->trigs->len) {
        r->return_status = remove_trig(core_uid, c, c->trigs->len - 1);
        if (r->return_status) {
            return r;
        }
    }
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryTrigSetResult *qmp_mcd_qry_trig_set(uint32_t core_uid,
                                          uint32_t start_index,
                                          uint32_t num_trigs, Error **errp)
{
    MCDQryTrigSetResult *r = g_new0(MCDQryTrigSetResult, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    uint32List **tail = &r->trig_ids;
    uint32_t i, n = 0;

    if (!c) {
        return r;
    }
    if (!list_range(core_uid, start_index, c->trigs->len, "triggers",
                    &r->return_status)) {
        return r;
    }
    r->has_num_trigs = true;
    if (!num_trigs) {
        r->num_trigs = c->trigs->len;
        r->return_status = succeed(core_uid);
        return r;
    }
    for (i = start_index; i < c->trigs->len && n < num_trigs; i++, n++) {
        MCDJsonTrig *t = g_ptr_array_index(c->trigs, i);

        QAPI_LIST_APPEND(tail, t->id);
    }
    r->num_trigs = n;
    r->has_trig_ids = true;
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryTrigSetStateResult *qmp_mcd_qry_trig_set_state(uint32_t core_uid,
                                                     Error **errp)
{
    MCDQryTrigSetStateResult *r = g_new0(MCDQryTrigSetStateResult, 1);

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    r->trig_state = g_new0(MCDTrigSetState, 1);
    r->trig_state->active = true;
    r->return_status = succeed(core_uid);
    return r;
}

/* Reset classes: as the core offers them, class n in bit n. */
MCDQryRstClassesResult *qmp_mcd_qry_rst_classes(uint32_t core_uid,
                                                Error **errp)
{
    MCDQryRstClassesResult *r = g_new0(MCDQryRstClassesResult, 1);
    const MCDResetClass *classes;
    size_t i, n;

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    classes = mcd_reset_classes(&n);
    r->has_rst_class_vector = true;
    for (i = 0; i < n; i++) {
        r->rst_class_vector |= 1u << classes[i].id;
    }
    r->return_status = succeed(core_uid);
    return r;
}

MCDQryRstClassInfoResult *qmp_mcd_qry_rst_class_info(uint32_t core_uid,
                                                     uint8_t rst_class,
                                                     Error **errp)
{
    MCDQryRstClassInfoResult *r = g_new0(MCDQryRstClassInfoResult, 1);
    const MCDResetClass *classes;
    size_t i, n;

    if (!open_core(core_uid, &r->return_status)) {
        return r;
    }
    classes = mcd_reset_classes(&n);
    for (i = 0; i < n; i++) {
        if (classes[i].id == rst_class) {
            r->rst_info = g_new0(MCDRstInfo, 1);
            r->rst_info->class_vector = 1u << rst_class;
            r->rst_info->info_str = name_of(classes[i].name,
                                            MCD_INFO_STR_LEN);
            r->return_status = succeed(core_uid);
            return r;
        }
    }
    r->return_status = fail(core_uid, MCD_ERR_PARAM, "no reset class %u",
                            rst_class);
    return r;
}

MCDStatus *qmp_mcd_rst(uint32_t core_uid, uint32_t rst_class_vector,
                       bool rst_and_halt, Error **errp)
{
    MCDStatus *r = g_new0(MCDStatus, 1);
    MCDJsonCore *c = open_core(core_uid, &r->return_status);
    Error *err = NULL;
    bool pending;
    uint32_t code;

    if (!c) {
        return r;
    }
    if (rst_class_vector != 1u << MCD_RESET_SYSTEM &&
        rst_class_vector != 1u << MCD_RESET_CORE) {
        r->return_status = fail(core_uid, MCD_ERR_PARAM, "reset class vector "
                                "0x%" PRIx32 ": give one class, 0 (system) "
                                "or 1 (core)", rst_class_vector);
        return r;
    }
    code = mcd_target_reset(mcd_json->session, ctz32(rst_class_vector),
                            c->core, rst_and_halt, &pending, &err);
    if (code) {
        r->return_status = fail_err(core_uid, code, err);
        return r;
    }
    if (pending) {
        /* the reply waits until the reset is done */
        mcd_json->wait = MCD_JSON_WAIT_RESET;
    }
    r->return_status = succeed(core_uid);
    return r;
}
