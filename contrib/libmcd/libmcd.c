/* SPDX-License-Identifier: MIT */
/*
 * libmcd: an MCD API (version 1.1) client library for QEMU's MCD stub.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * A debugger such as TRACE32 loads this library and calls the MCD API;
 * the library turns the calls into the packets of the stub's protocol
 * (docs/interop/mcd.rst) on a TCP connection.  This file has the
 * initialization, the errors, the server connection with the protocol
 * negotiation, the system, device and core discovery, the memory spaces
 * and registers, and the functions libmcd does not implement; target.c
 * has transactions, run control, triggers and resets.
 *
 * Several server connections (QEMUs) at once, each with its own cores.
 * The API may be called from any thread: see "Threads" below.
 */

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "libmcd-int.h"

#define LIBMCD_VERSION_MAJOR 1
#define LIBMCD_VERSION_MINOR 0
#define LIBMCD_VERSION_BUILD 0
#define LIBMCD_VENDOR "QEMU"
#define LIBMCD_AUTHOR "QEMU libmcd"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 1235

#define REPLY_HANDSHAKE "shaking your hand"
#define REPLY_SUCCESS "success"
#define REPLY_ERROR "error"

/* ELF machine numbers for mcd_core_con_info_st.core_type. */
#define EM_ARM_NUM 40
#define EM_AARCH64_NUM 183

/* The era-1 client moved memory in 256-byte chunks. */
#define ERA1_MAX_DATA 256
#define ERA1_MAX_PAYLOAD 1024
/* The most list items libmcd reads from one list. */
#define MAX_LIST_ITEMS 100000
/* The most cores libmcd handles. */
#define MAX_CORES 4096

/*
 * Threads
 *
 * Any API function may be called from any thread.  Two locks:
 *
 * - The call lock serializes the API functions that use a server or
 *   a core (one lock for all the servers): such a function holds it
 *   while it runs, and so has the connections, the servers and their
 *   cores to itself.  No function waits
 *   for a core to stop while it holds it: a run or a step returns once
 *   the stub took it, and the state query that waits a moment for a
 *   step's stop notification gives up when another thread waits for
 *   the lock (it checks every LM_RECV_SLICE_MS).  So a function waits for the lock at most as long as
 *   the functions before it take for their own requests (one request,
 *   a pipelined transaction list, the triggers before a run).  The lock
 *   is a ticket lock, first come first served, so that a thread that
 *   polls the state as fast as it can does not starve a thread that
 *   wants to stop the core.
 * - The table lock guards the list of servers and their tables of open
 *   cores for mcd_qry_error_info_f, which does not take the call lock: they are
 *   changed with both locks held.  It is held only for a moment, and
 *   no other lock is taken while it is held.
 *
 * Errors are per thread: each thread keeps the error of its last call
 * (mcd_qry_error_info_f with no core) and, for each core, of its last
 * call on that core that failed and was not followed by a success on
 * the same core.
 */
static struct {
    pthread_mutex_t mu;     /* the call lock's own state: */
    pthread_cond_t cv;
    uint64_t next;          /* the next ticket */
    uint64_t serving;       /* the ticket that holds the call lock */
    pthread_mutex_t table;  /* the table lock */
    bool initialized;
    LmServer *servers;      /* the open servers, in the order opened */
    LmError err;            /* of the call in progress without a core */
    uint64_t serial;        /* of the last core made */
} lm = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .table = PTHREAD_MUTEX_INITIALIZER,
};

/* How many cores a thread keeps errors of. */
#define THREAD_CORE_ERRORS 16

/* The errors of a thread. */
typedef struct ThreadErrors {
    LmError last;           /* of its last call (with a core: that failed) */
    struct {
        uint64_t serial;    /* of the core, 0 if the slot is free */
        LmError err;
    } core[THREAD_CORE_ERRORS];
    unsigned int next;      /* the slot to reuse when all are taken */
} ThreadErrors;

static __thread ThreadErrors thread_errors;

/*
 * Errors
 */

void lm_clear(LmError *e)
{
    memset(e, 0, sizeof(*e));
}

mcd_return_et lm_fail(LmError *e, mcd_error_code_et code, const char *fmt,
                      ...)
{
    va_list ap;

    e->ret = MCD_RET_ACT_HANDLE_ERROR;
    e->code = code;
    e->events = MCD_ERR_EVT_NONE;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof(e->text), fmt, ap);
    va_end(ap);
    return MCD_RET_ACT_HANDLE_ERROR;
}

/*
 * Commands
 */

/* A short form of the command in s->cmd for error messages. */
static const char *cmd_name(LmServer *s, char *buf, size_t size)
{
    size_t len = strcspn(s->cmd, ";");

    if (len > 24) {
        len = 24;
    }
    if (len + 1 > size) {
        len = size - 1;
    }
    memcpy(buf, s->cmd, len);
    buf[len] = '\0';
    return buf;
}

mcd_return_et lm_io_fail(LmServer *s, LmError *e, LmIoResult r,
                         const char *name)
{
    (void)s;
    return lm_fail(e, r == LM_IO_TIMEOUT ? MCD_ERR_TIMED_OUT
                                         : MCD_ERR_CONNECTION,
                   "%s (command '%s')", lm_io_strerror(r), name);
}

static mcd_return_et io_fail(LmServer *s, LmError *e, LmIoResult r)
{
    char name[32];

    return lm_io_fail(s, e, r, cmd_name(s, name, sizeof(name)));
}

/* Send s->cmd, @len bytes, and wait for the ack and maybe the reply. */
static mcd_return_et transact(LmServer *s, LmError *e, size_t len,
                              bool reply)
{
    LmIoResult r;

    s->reply[0] = '\0';
    s->reply_len = 0;
    if (!lm_conn_is_open(&s->conn)) {
        return lm_fail(e, MCD_ERR_CONNECTION, "not connected to the MCD "
                       "stub at %s:%u", s->host, s->port);
    }
    /* run control and triggers: something for the detach to let go */
    if (len > 0 && strchr("Cbcrt", s->cmd[0])) {
        s->touched = true;
    }
    r = lm_conn_send(&s->conn, s->cmd, len);
    if (r == LM_IO_OK && reply) {
        r = lm_conn_recv(&s->conn, s->reply, LM_MAX_REPLY + 1,
                         &s->reply_len, s->conn.reply_ms);
    }
    return r == LM_IO_OK ? MCD_RET_ACT_NONE : io_fail(s, e, r);
}

static size_t format_cmd(LmServer *s, const char *fmt, va_list ap)
{
    int n = vsnprintf(s->cmd, LM_MAX_COMMAND, fmt, ap);

    return n < 0 ? 0 : (size_t)n < LM_MAX_COMMAND ? (size_t)n
                                                  : LM_MAX_COMMAND - 1;
}

/*
 * Is the reply a failure?  Then record it in @e: the code and text of
 * an error record, else @code.
 */
bool lm_reply_failed(LmServer *s, LmError *e, mcd_error_code_et code,
                     const char *name)
{
    LmRecord rec;
    uint32_t server_code;
    const char *text;

    if (s->reply[0] == '\0') {
        lm_fail(e, code, s->ext_errors
                ? "the MCD stub does not support the command '%s'"
                : "the MCD stub failed or does not support the command '%s'",
                name);
        return true;
    }
    if (strcmp(s->reply, REPLY_ERROR) == 0) {
        lm_fail(e, code, "the MCD stub failed the command '%s'", name);
        return true;
    }
    if (strncmp(s->reply, "error=", 6) != 0) {
        return false;
    }
    if (!lm_record_parse(s->reply, &rec) ||
        !lm_record_u32(&rec, "error", &server_code) || server_code == 0) {
        server_code = code;
    }
    text = lm_record_get(&rec, "text");
    lm_fail(e, server_code, "%s (command '%s')",
            text && *text ? text : "the MCD stub reported an error", name);
    return true;
}

static bool reply_failed(LmServer *s, LmError *e, mcd_error_code_et code)
{
    char name[32];

    return lm_reply_failed(s, e, code, cmd_name(s, name, sizeof(name)));
}

mcd_return_et lm_cmd_done(LmServer *s, LmError *e, mcd_error_code_et code,
                          bool era1_may_fail, const char *fmt, ...)
{
    char name[32];
    size_t len;
    va_list ap;
    mcd_return_et ret;
    LmIoResult r;

    va_start(ap, fmt);
    len = format_cmd(s, fmt, ap);
    va_end(ap);
    ret = transact(s, e, len, s->ext_errors);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    if (s->ext_errors) {
        if (strcmp(s->reply, REPLY_SUCCESS) == 0) {
            return MCD_RET_ACT_NONE;
        }
        if (reply_failed(s, e, code)) {
            return MCD_RET_ACT_HANDLE_ERROR;
        }
        return lm_fail(e, code, "unexpected reply '%.40s' to '%s'",
                       s->reply, cmd_name(s, name, sizeof(name)));
    }
    if (era1_may_fail) {
        /* an era-1 stub answers only failures, right after the '+' */
        r = lm_conn_recv(&s->conn, s->reply, LM_MAX_REPLY + 1,
                         &s->reply_len, s->era1_wait_ms);
        if (r == LM_IO_OK && strncmp(s->reply, REPLY_ERROR, 5) == 0) {
            reply_failed(s, e, code);
            return MCD_RET_ACT_HANDLE_ERROR;
        }
        if (r == LM_IO_CLOSED) {
            return io_fail(s, e, r);
        }
    }
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_cmd_reply_raw(LmServer *s, LmError *e,
                               mcd_error_code_et code, size_t len)
{
    mcd_return_et ret = transact(s, e, len, true);

    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    return reply_failed(s, e, code) ? MCD_RET_ACT_HANDLE_ERROR
                                    : MCD_RET_ACT_NONE;
}

mcd_return_et lm_cmd_reply(LmServer *s, LmError *e, mcd_error_code_et code,
                           const char *fmt, ...)
{
    size_t len;
    va_list ap;

    va_start(ap, fmt);
    len = format_cmd(s, fmt, ap);
    va_end(ap);
    return lm_cmd_reply_raw(s, e, code, len);
}

mcd_return_et lm_cmd_success(LmServer *s, LmError *e, mcd_error_code_et code,
                             const char *fmt, ...)
{
    char name[32];
    size_t len;
    va_list ap;
    mcd_return_et ret;

    va_start(ap, fmt);
    len = format_cmd(s, fmt, ap);
    va_end(ap);
    ret = lm_cmd_reply_raw(s, e, code, len);
    if (ret == MCD_RET_ACT_NONE && strcmp(s->reply, REPLY_SUCCESS) != 0) {
        return lm_fail(e, code, "unexpected reply '%.40s' to '%s'",
                       s->reply, cmd_name(s, name, sizeof(name)));
    }
    return ret;
}

/*
 * Paginated lists: "q<list>f<core>" answers the first item,
 * "q<list>c<k>" item k; each reply starts with "<next>!", 0 after the
 * last item.  With the lists extension a reply holds as many items as
 * fit, their records separated by ';', and <next> is the first item not
 * sent.
 */

/*
 * A quicker way to take an item of a list, for the items of the long
 * register lists: true if it took the item at @item, *@rest then set as
 * lm_record_parse_item() sets it; false, with nothing changed, if the
 * item is not as it expects (the general parse then takes it).
 */
typedef bool (*ListFastFn)(void *ctx, const char *item, char **rest);

/* The items of one reply, the first of them item @index. */
static mcd_return_et list_items(LmServer *s, LmError *e,
                                mcd_error_code_et code, const char *list,
                                uint32_t index, char *reply, LmListItemFn fn,
                                ListFastFn fast, void *ctx, uint32_t *next)
{
    char *rest = NULL;
    LmRecord rec;

    if (!(s->ext_lists ? lm_record_parse_item(reply, &rec, &rest)
                       : lm_record_parse(reply, &rec)) || !rec.paginated) {
        return lm_fail(e, code, "malformed item %u of the %s list", index,
                       list);
    }
    *next = rec.next;
    if (rec.count > 0 && !fn(ctx, &rec)) {
        return lm_fail(e, code, "item %u of the %s list lacks a field "
                       "or is out of range", index, list);
    }
    while (rest) {
        index++;
        if (fast && fast(ctx, rest, &rest)) {
            continue;
        }
        if (!lm_record_parse_item(rest, &rec, &rest) || rec.paginated ||
            !rec.count) {
            return lm_fail(e, code, "malformed item %u of the %s list",
                           index, list);
        }
        if (!fn(ctx, &rec)) {
            return lm_fail(e, code, "item %u of the %s list lacks a field "
                           "or is out of range", index, list);
        }
    }
    return MCD_RET_ACT_NONE;
}

/*
 * The list, from the stub; or, if @first is not NULL, from that reply to
 * "q<list>f<core>" read before, and the rest of the list (if any) from
 * the stub: the stub's last q...f query must have been of @core then.
 */
static mcd_return_et fetch_list(LmServer *s, LmError *e,
                                mcd_error_code_et code, const char *list,
                                uint32_t core, LmListItemFn fn,
                                ListFastFn fast, void *ctx, char *first)
{
    uint32_t index = 0;
    uint32_t queries = 0;
    uint32_t next;
    mcd_return_et ret = MCD_RET_ACT_NONE;

    if (!first) {
        ret = lm_cmd_reply(s, e, code, "q%sf%u", list, core);
        first = s->reply;
    }
    for (;;) {
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        ret = list_items(s, e, code, list, index, first, fn, fast, ctx,
                         &next);
        if (ret != MCD_RET_ACT_NONE || next == 0) {
            return ret;
        }
        if (next <= index || ++queries > MAX_LIST_ITEMS) {
            return lm_fail(e, code, "the %s list does not end", list);
        }
        index = next;
        ret = lm_cmd_reply(s, e, code, "q%sc%u", list, index);
        first = s->reply;
    }
}

mcd_return_et lm_fetch_list(LmServer *s, LmError *e, mcd_error_code_et code,
                            const char *list, uint32_t core, LmListItemFn fn,
                            void *ctx)
{
    return fetch_list(s, e, code, list, core, fn, NULL, ctx, NULL);
}

/* Make room for one more item in a growing array. */
static bool grow(void **array, uint32_t count, size_t size)
{
    void *p;

    if (count & (count - 1)) {
        return true;            /* not a power of two: there is room */
    }
    p = realloc(*array, (count ? count * 2 : 4) * size);
    if (!p) {
        return false;
    }
    *array = p;
    return true;
}

static bool memspace_item(void *ctx, const LmRecord *rec)
{
    LmCore *c = ctx;
    mcd_memspace_st *ms;
    const char *name = lm_record_get(rec, "name");
    uint64_t v;

    if (!name || !grow((void **)&c->spaces, c->n_spaces, sizeof(*ms))) {
        return false;
    }
    ms = &c->spaces[c->n_spaces];
    memset(ms, 0, sizeof(*ms));
    lm_strlcpy(ms->mem_space_name, name, sizeof(ms->mem_space_name));
    if (!lm_record_u32(rec, "id", &ms->mem_space_id) ||
        !lm_record_u32(rec, "type", &ms->mem_type)) {
        return false;
    }
    if (!lm_record_u32(rec, "bpm", &ms->bits_per_mau)) {
        ms->bits_per_mau = 8;
    }
    ms->invariance = lm_record_u64(rec, "i", &v) ? (uint8_t)v : 1;
    if (!lm_record_u32(rec, "e", &ms->endian)) {
        ms->endian = MCD_ENDIAN_LITTLE;
    }
    if (!lm_record_u64(rec, "min", &ms->min_addr)) {
        ms->min_addr = 0;
    }
    if (!lm_record_u64(rec, "max", &ms->max_addr)) {
        ms->max_addr = UINT64_MAX;
    }
    /*
     * The access options libmcd passes on: none but the default
     * (MCD_TX_OPT_SIDE_EFFECTS), and MCD_TX_OPT_NO_SIDE_EFFECTS for
     * reads with the txopt extension; of those, what the stub offers.
     */
    if (!lm_record_u32(rec, "sao", &ms->supported_access_options)) {
        ms->supported_access_options = 0;
    }
    ms->supported_access_options &=
        MCD_TX_OPT_SIDE_EFFECTS |
        (c->srv->ext_txopt ? MCD_TX_OPT_NO_SIDE_EFFECTS : 0);
    c->n_spaces++;
    return true;
}

static bool reggroup_item(void *ctx, const LmRecord *rec)
{
    LmCore *c = ctx;
    mcd_register_group_st *g;
    const char *name = lm_record_get(rec, "name");

    if (!name || !grow((void **)&c->groups, c->n_groups, sizeof(*g))) {
        return false;
    }
    g = &c->groups[c->n_groups];
    memset(g, 0, sizeof(*g));
    lm_strlcpy(g->reg_group_name, name, sizeof(g->reg_group_name));
    if (!lm_record_u32(rec, "id", &g->reg_group_id)) {
        return false;
    }
    c->n_groups++;
    return true;
}

static bool reg_item(void *ctx, const LmRecord *rec)
{
    /* in the order of the stub's records */
    static const char *const keys[] = {
        "id", "name", "size", "reggroupid", "memspaceid", "type", "thread",
    };
    const char *v[sizeof(keys) / sizeof(keys[0])];
    LmCore *c = ctx;
    mcd_register_info_st *r;

    lm_record_find(rec, keys, sizeof(keys) / sizeof(keys[0]), v);
    if (!v[1] || !grow((void **)&c->regs, c->n_regs, sizeof(*r))) {
        return false;
    }
    r = &c->regs[c->n_regs];
    memset(r, 0, sizeof(*r));
    lm_strlcpy(r->regname, v[1], sizeof(r->regname));
    /* the register's address in its register space is its id */
    if (!lm_parse_u64(v[0], &r->addr.address) ||
        !lm_parse_u32(v[2], &r->regsize) || r->regsize == 0 ||
        r->regsize > 8 * 4096 || !lm_parse_u32(v[3], &r->reg_group_id) ||
        !lm_parse_u32(v[4], &r->addr.mem_space_id)) {
        return false;
    }
    r->addr.addr_space_type = MCD_NOTUSED_ID;
    if (!lm_parse_u32(v[5], &r->reg_type)) {
        r->reg_type = MCD_REG_TYPE_SIMPLE;
    }
    if (!lm_parse_u32(v[6], &r->hw_thread_id)) {
        r->hw_thread_id = 0;
    }
    c->n_regs++;
    return true;
}

/*
 * "<key>=" at *@p, before @end, for a literal @key: moves *@p past it.
 * With the length known, the comparison is a load or two.  *@p may be
 * past @end already: after a value that held the ';' taken for the end.
 */
#define TAKE_KEY(p, end, key) take_key((p), (end), key "=", sizeof(key))

static inline bool take_key(const char **p, const char *end,
                            const char *key_eq, size_t len)
{
    if (*p > end || (size_t)(end - *p) < len ||
        memcmp(*p, key_eq, len) != 0) {
        return false;
    }
    *p += len;
    return true;
}

/*
 * A value of decimal digits only, at most @max, and its '.' at *@p:
 * moves *@p past the '.'.  (Anything else, a sign too, is left to
 * lm_parse_u64() and lm_parse_u32().)
 */
static inline bool take_number(const char **p, uint64_t max,
                               uint64_t *value)
{
    const char *q;
    uint64_t v = 0;
    unsigned int d;

    /* 19 digits cannot overflow: longer numbers are checked again */
    for (q = *p; (d = (unsigned char)*q - '0') <= 9; q++) {
        v = v * 10 + d;
    }
    if (q == *p || *q != '.' ||
        (q - *p > 19 && !lm_parse_digits(*p, q - *p, &v)) || v > max) {
        return false;
    }
    *value = v;
    *p = q + 1;
    return true;
}

/*
 * A register item as QEMU's stub sends it, its fields in reg_item()'s
 * order, read in one pass without taking the record apart: a register
 * list has hundreds of items.  Fields after "thread" are skipped, as the
 * general parse reads them.  Anything else is left to reg_item().
 */
static bool reg_item_fast(void *ctx, const char *item, char **rest)
{
    LmCore *c = ctx;
    mcd_register_info_st *r;
    const char *p = item, *name;
    const char *end = strchr(item, ';');
    uint64_t id, size, group, space, type, thread;
    unsigned int n = 7;
    size_t len;

    if (!end) {
        end = item + strlen(item);
    }
    if (!TAKE_KEY(&p, end, "id") || !take_number(&p, UINT64_MAX, &id) ||
        !TAKE_KEY(&p, end, "name")) {
        return false;
    }
    name = p;
    p = strchr(name, '.');
    if (!p) {
        return false;
    }
    len = p++ - name;
    if (!TAKE_KEY(&p, end, "size") || !take_number(&p, UINT32_MAX, &size) ||
        size == 0 || size > 8 * 4096 ||
        !TAKE_KEY(&p, end, "reggroupid") ||
        !take_number(&p, UINT32_MAX, &group) ||
        !TAKE_KEY(&p, end, "memspaceid") ||
        !take_number(&p, UINT32_MAX, &space) ||
        !TAKE_KEY(&p, end, "type") || !take_number(&p, UINT32_MAX, &type) ||
        !TAKE_KEY(&p, end, "thread") ||
        !take_number(&p, UINT32_MAX, &thread)) {
        return false;
    }
    /* the rest of the item, as parse_record() reads it */
    while (*p && *p != ';') {
        if (++n > LM_RECORD_MAX_ITEMS || *p == '=') {
            return false;
        }
        do {
            p++;
        } while (*p != '=' && *p);
        if (!*p) {
            return false;
        }
        do {
            p++;
        } while (*p != '.' && *p);
        if (!*p) {
            return false;
        }
        p++;
    }
    if (!grow((void **)&c->regs, c->n_regs, sizeof(*r))) {
        return false;
    }
    r = &c->regs[c->n_regs];
    memset(r, 0, sizeof(*r));
    if (len > sizeof(r->regname) - 1) {
        len = sizeof(r->regname) - 1;
    }
    memcpy(r->regname, name, len);
    r->addr.address = id;
    r->regsize = size;
    r->reg_group_id = group;
    r->addr.mem_space_id = space;
    r->addr.addr_space_type = MCD_NOTUSED_ID;
    r->reg_type = type;
    r->hw_thread_id = thread;
    c->n_regs++;
    *rest = *p ? (char *)p + 1 : NULL;
    return true;
}

/* The lists of a core that libmcd reads, in the order it asks for them */
enum {
    LIST_SPACES,
    LIST_GROUPS,
    LIST_REGS,
    NR_LISTS
};

static const struct {
    const char *name;               /* q<name>f<core>, q<name>c<k> */
    mcd_error_code_et code;         /* if it cannot be read */
    LmListItemFn fn;
    ListFastFn fast;                /* optional */
} core_lists[NR_LISTS] = {
    [LIST_SPACES] = { "memory", MCD_ERR_NO_MEM_SPACES, memspace_item },
    [LIST_GROUPS] = { "reggroup", MCD_ERR_NO_REG_GROUPS, reggroup_item },
    [LIST_REGS] = { "reg", MCD_ERR_GENERAL, reg_item, reg_item_fast },
};

/* Whether list @i of @c is read, and its count. */
static bool *list_state(LmCore *c, int i, uint32_t **count)
{
    switch (i) {
    case LIST_SPACES:
        *count = &c->n_spaces;
        return &c->have_spaces;
    case LIST_GROUPS:
        *count = &c->n_groups;
        return &c->have_groups;
    default:
        *count = &c->n_regs;
        return &c->have_regs;
    }
}

/*
 * List @i of core @c, read once: from the stub, or from @first, the
 * reply to its q...f query that came with others (see fetch_list()).
 */
static mcd_return_et core_list(LmCore *c, int i, char *first)
{
    uint32_t *count;
    bool *have = list_state(c, i, &count);
    mcd_return_et ret;

    if (*have) {
        return MCD_RET_ACT_NONE;
    }
    *count = 0;
    ret = fetch_list(c->srv, &c->err, core_lists[i].code, core_lists[i].name,
                     c->index, core_lists[i].fn, core_lists[i].fast, c,
                     first);
    *have = ret == MCD_RET_ACT_NONE;
    return ret;
}

mcd_return_et lm_core_spaces(LmCore *c)
{
    return core_list(c, LIST_SPACES, NULL);
}

static mcd_return_et core_groups(LmCore *c)
{
    return core_list(c, LIST_GROUPS, NULL);
}

mcd_return_et lm_core_regs(LmCore *c)
{
    return core_list(c, LIST_REGS, NULL);
}

/*
 * Lists that came with other requests (@first[i], NULL for those that
 * did not come or failed): taken while the stub's last q...f query is
 * still of this core.  One that cannot be taken is asked for again when
 * needed, and reports its error then.
 */
static void core_take_lists(LmCore *c, char **first)
{
    int i;

    for (i = 0; i < NR_LISTS; i++) {
        if (first[i] && lm_conn_is_open(&c->srv->conn)) {
            core_list(c, i, first[i]);
        }
    }
    lm_clear(&c->err);
}

mcd_return_et lm_list_range(LmError *e, uint32_t total, uint32_t start,
                            uint32_t *num, const void *buf, uint32_t *first,
                            uint32_t *n)
{
    *first = *n = 0;
    if (!num) {
        return lm_fail(e, MCD_ERR_PARAM, "the count pointer is NULL");
    }
    if (*num == 0) {
        *num = total;
        return MCD_RET_ACT_NONE;
    }
    if (!buf) {
        return lm_fail(e, MCD_ERR_PARAM, "asked for %u items without an "
                       "array for them", *num);
    }
    if (start >= total) {
        return lm_fail(e, MCD_ERR_PARAM, "start index %u, but there are "
                       "only %u items", start, total);
    }
    *first = start;
    *n = total - start < *num ? total - start : *num;
    *num = *n;
    return MCD_RET_ACT_NONE;
}

/*
 * Entry and exit of the API functions
 */

/* Take the call lock, after the threads that asked for it before. */
static void lock(void)
{
    uint64_t ticket;

    pthread_mutex_lock(&lm.mu);
    ticket = lm.next++;
    while (lm.serving != ticket) {
        pthread_cond_wait(&lm.cv, &lm.mu);
    }
    pthread_mutex_unlock(&lm.mu);
}

static void unlock(void)
{
    pthread_mutex_lock(&lm.mu);
    lm.serving++;
    if (lm.next != lm.serving) {
        pthread_cond_broadcast(&lm.cv);
    }
    pthread_mutex_unlock(&lm.mu);
}

bool lm_call_contended(void)
{
    bool waiting;

    pthread_mutex_lock(&lm.mu);
    waiting = lm.next - lm.serving > 1;
    pthread_mutex_unlock(&lm.mu);
    return waiting;
}

/* The calling thread's error slot for the core @serial, NULL if none. */
static LmError *thread_core_error(uint64_t serial, bool make)
{
    ThreadErrors *t = &thread_errors;
    unsigned int i, free_slot = THREAD_CORE_ERRORS;

    for (i = 0; i < THREAD_CORE_ERRORS; i++) {
        if (t->core[i].serial == serial) {
            return &t->core[i].err;
        }
        if (!t->core[i].serial && free_slot == THREAD_CORE_ERRORS) {
            free_slot = i;
        }
    }
    if (!make) {
        return NULL;
    }
    if (free_slot == THREAD_CORE_ERRORS) {
        free_slot = t->next;
        t->next = (t->next + 1) % THREAD_CORE_ERRORS;
    }
    t->core[free_slot].serial = serial;
    return &t->core[free_slot].err;
}

/* The outcome of the calling thread's call on core @c, for its errors. */
static void thread_core_result(const LmCore *c, mcd_return_et ret)
{
    ThreadErrors *t = &thread_errors;
    unsigned int i;

    if (ret != MCD_RET_ACT_NONE) {
        *thread_core_error(c->serial, true) = c->err;
        t->last = c->err;
        return;
    }
    /* a success on the core: its slot is free again */
    for (i = 0; i < THREAD_CORE_ERRORS; i++) {
        if (t->core[i].serial == c->serial) {
            t->core[i].serial = 0;
            lm_clear(&t->core[i].err);
        }
    }
}

/* Unlock after a call without a core, whose error is in lm.err. */
static mcd_return_et leave(mcd_return_et ret)
{
    thread_errors.last = lm.err;
    unlock();
    return ret;
}

static LmServer *find_server(const mcd_server_st *server)
{
    LmServer *s;

    for (s = lm.servers; server && s; s = s->next) {
        if (server == &s->pub) {
            return s;
        }
    }
    return NULL;
}

static LmCore *find_core(const mcd_core_st *core)
{
    LmServer *s;
    uint32_t i;

    for (s = lm.servers; core && s; s = s->next) {
        for (i = 0; i < s->nr_cores; i++) {
            if (s->cores[i] && core == &s->cores[i]->pub) {
                return s->cores[i];
            }
        }
    }
    return NULL;
}

/* Take @s out of the list of open servers (with both locks held). */
static void unlink_server(LmServer *s)
{
    LmServer **p;

    for (p = &lm.servers; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            s->next = NULL;
            return;
        }
    }
}

/* Lock and find the open core @core; NULL (unlocked) with the error. */
static LmCore *core_enter(const mcd_core_st *core, mcd_return_et *ret)
{
    LmCore *c;

    lock();
    c = find_core(core);
    if (!c) {
        *ret = leave(lm_fail(&lm.err,
                             lm.servers ? MCD_ERR_PARAM : MCD_ERR_USAGE,
                             lm.servers ? "not a core opened with "
                                         "mcd_open_core_f"
                                       : "no server is open"));
        return NULL;
    }
    lm_clear(&c->err);
    return c;
}

/*
 * Unlock; the error is the thread's for the core, and its last error
 * overall.
 */
static mcd_return_et core_leave(LmCore *c, mcd_return_et ret)
{
    thread_core_result(c, ret);
    unlock();
    return ret;
}

static mcd_return_et unimplemented(const mcd_core_st *core, const char *fn)
{
    LmCore *c;
    mcd_return_et ret;

    lock();
    c = find_core(core);
    ret = lm_fail(c ? &c->err : &lm.err, MCD_ERR_FN_UNIMPLEMENTED,
                  "%s is not implemented by libmcd", fn);
    return c ? core_leave(c, ret) : leave(ret);
}

/*
 * Target initialization
 */

MCD_API mcd_return_et MCD_API_CALL
mcd_initialize_f(const mcd_api_version_st *version_req,
                 mcd_impl_version_info_st *impl_info)
{
    mcd_return_et ret = MCD_RET_ACT_NONE;

    lock();
    lm_clear(&lm.err);
    if (!version_req || !impl_info) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "mcd_initialize_f needs a "
                      "requested version and room for the implementation "
                      "information");
    } else if (version_req->v_api_major != MCD_API_VER_MAJOR ||
               version_req->v_api_minor > MCD_API_VER_MINOR) {
        ret = lm_fail(&lm.err, MCD_ERR_GENERAL, "libmcd implements MCD API "
                      "%d.%d, not %u.%u", MCD_API_VER_MAJOR,
                      MCD_API_VER_MINOR, version_req->v_api_major,
                      version_req->v_api_minor);
    }
    if (impl_info) {
        memset(impl_info, 0, sizeof(*impl_info));
        impl_info->v_api.v_api_major = MCD_API_VER_MAJOR;
        impl_info->v_api.v_api_minor = MCD_API_VER_MINOR;
        lm_strlcpy(impl_info->v_api.author, LIBMCD_AUTHOR,
                   sizeof(impl_info->v_api.author));
        impl_info->v_imp_major = LIBMCD_VERSION_MAJOR;
        impl_info->v_imp_minor = LIBMCD_VERSION_MINOR;
        impl_info->v_imp_build = LIBMCD_VERSION_BUILD;
        lm_strlcpy(impl_info->vendor, LIBMCD_VENDOR,
                   sizeof(impl_info->vendor));
        lm_strlcpy(impl_info->date, __DATE__, sizeof(impl_info->date));
    }
    if (ret == MCD_RET_ACT_NONE) {
        lm.initialized = true;
    }
    return leave(ret);
}

static void server_free(LmServer *s);

MCD_API void MCD_API_CALL mcd_exit_f(void)
{
    LmServer *s;

    lock();
    while ((s = lm.servers) != NULL) {
        pthread_mutex_lock(&lm.table);
        unlink_server(s);
        pthread_mutex_unlock(&lm.table);
        server_free(s);
    }
    lm.initialized = false;
    lm_clear(&lm.err);
    leave(MCD_RET_ACT_NONE);
}

/*
 * Errors
 */

MCD_API void MCD_API_CALL
mcd_qry_error_info_f(const mcd_core_st *core, mcd_error_info_st *error_info)
{
    const LmError *e = &thread_errors.last;
    LmError none;
    LmCore *c;
    uint64_t serial = 0;

    if (!error_info) {
        return;
    }
    /* the table lock: the call lock may be held by another call for long */
    pthread_mutex_lock(&lm.table);
    c = find_core(core);
    if (c) {
        serial = c->serial;
    }
    pthread_mutex_unlock(&lm.table);
    if (serial) {
        /* the thread's last call on the core, if it failed */
        e = thread_core_error(serial, false);
        if (!e) {
            lm_clear(&none);
            e = &none;
        }
    }
    memset(error_info, 0, sizeof(*error_info));
    error_info->return_status = e->ret;
    error_info->error_code = e->code;
    error_info->error_events = e->events;
    lm_strlcpy(error_info->error_str, e->text, sizeof(error_info->error_str));
}

/*
 * Server connection
 */

/*
 * The configuration string: blank separated McdHostName="host",
 * McdServerPort="port" and the time limits in milliseconds
 * McdConnectTimeout, McdTimeout (a reply), McdStepTimeout and
 * McdEra1ErrorWait (key names in any case, quotes optional; other keys
 * are ignored), or "host:port", "host" or ":port".
 */
/* A number of the configuration string, from 1 to @max. */
static bool parse_1_to(const char *text, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (!lm_parse_u64(text, &v) || text[0] == '-' || v == 0 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static mcd_return_et parse_port(LmError *e, const char *text,
                                uint32_t *port)
{
    if (!parse_1_to(text, 65535, port)) {
        return lm_fail(e, MCD_ERR_PARAM, "bad server port '%s'", text);
    }
    return MCD_RET_ACT_NONE;
}

static mcd_return_et parse_ms(LmError *e, const char *key,
                              const char *text, uint32_t *ms)
{
    if (!parse_1_to(text, LM_MAX_TIMEOUT, ms)) {
        return lm_fail(e, MCD_ERR_PARAM, "bad %s '%s': milliseconds from 1 "
                       "to %u", key, text, LM_MAX_TIMEOUT);
    }
    return MCD_RET_ACT_NONE;
}

/* The time limits a configuration string sets: name and field */
static uint32_t *timeout_field(LmServer *s, const char *key)
{
    if (strcasecmp(key, "McdConnectTimeout") == 0) {
        return &s->conn.connect_ms;
    } else if (strcasecmp(key, "McdTimeout") == 0) {
        return &s->conn.reply_ms;
    } else if (strcasecmp(key, "McdStepTimeout") == 0) {
        return &s->step_ms;
    } else if (strcasecmp(key, "McdEra1ErrorWait") == 0) {
        return &s->era1_wait_ms;
    }
    return NULL;
}

static mcd_return_et parse_config(LmError *e, const char *config,
                                  LmServer *s)
{
    char *host = s->host;
    size_t host_size = sizeof(s->host);
    uint32_t *port = &s->port;
    uint32_t *ms;
    char buf[512];
    char value[256];
    char key[64];
    const char *p = config;
    const char *colon;
    size_t n;
    mcd_return_et ret;

    lm_strlcpy(host, DEFAULT_HOST, host_size);
    *port = DEFAULT_PORT;
    if (!config) {
        return MCD_RET_ACT_NONE;
    }
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (!*p) {
        return MCD_RET_ACT_NONE;
    }
    if (!strchr(p, '=')) {
        /* host:port */
        lm_strlcpy(buf, p, sizeof(buf));
        buf[strcspn(buf, " \t\r\n")] = '\0';
        if (buf[0] == '[' && strchr(buf, ']')) {
            /* [IPv6]:port */
            char *end = strchr(buf, ']');

            *end = '\0';
            lm_strlcpy(host, buf + 1, host_size);
            colon = end[1] == ':' ? end + 1 : NULL;
        } else {
            colon = strrchr(buf, ':');
            if (colon && strchr(buf, ':') != colon) {
                colon = NULL;               /* a bare IPv6 address */
            }
            if (colon != buf) {
                n = colon ? (size_t)(colon - buf) : strlen(buf);
                if (n + 1 > host_size) {
                    return lm_fail(e, MCD_ERR_PARAM, "host name too long");
                }
                memcpy(host, buf, n);
                host[n] = '\0';
            }
        }
        return colon ? parse_port(e, colon + 1, port) : MCD_RET_ACT_NONE;
    }
    while (*p) {
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        n = strcspn(p, "= \t\r\n");
        lm_strlcpy(key, p, n + 1 < sizeof(key) ? n + 1 : sizeof(key));
        p += n;
        value[0] = '\0';
        if (*p == '=') {
            p++;
            if (*p == '"') {
                p++;
                n = strcspn(p, "\"");
                lm_strlcpy(value, p,
                           n + 1 < sizeof(value) ? n + 1 : sizeof(value));
                p += n;
                if (*p == '"') {
                    p++;
                }
            } else {
                n = strcspn(p, " \t\r\n");
                lm_strlcpy(value, p,
                           n + 1 < sizeof(value) ? n + 1 : sizeof(value));
                p += n;
            }
        }
        if (strcasecmp(key, "McdHostName") == 0) {
            if (!value[0] || strlen(value) + 1 > host_size) {
                return lm_fail(e, MCD_ERR_PARAM, "bad host name '%s'", value);
            }
            lm_strlcpy(host, value, host_size);
        } else if (strcasecmp(key, "McdServerPort") == 0) {
            ret = parse_port(e, value, port);
            if (ret != MCD_RET_ACT_NONE) {
                return ret;
            }
        } else if ((ms = timeout_field(s, key)) != NULL) {
            ret = parse_ms(e, key, value, ms);
            if (ret != MCD_RET_ACT_NONE) {
                return ret;
            }
        }
    }
    return MCD_RET_ACT_NONE;
}

static void core_free(LmCore *c)
{
    free(c->direct_plan);
    free(c->sr);
    free(c->sr_val);
    free(c->spaces);
    free(c->groups);
    free(c->regs);
    free(c);
}

static void server_free(LmServer *s)
{
    LmError e;
    uint32_t i;
    size_t room;

    /* a notification read while D waits must find no freed core */
    s->conn.note_fn = NULL;
    for (i = 0; s->cores && i < s->nr_cores; i++) {
        if (s->cores[i]) {
            core_free(s->cores[i]);
            s->cores[i] = NULL;
        }
    }
    if (s->spare) {
        core_free(s->spare);
        s->spare = NULL;
    }
    if (lm_conn_is_open(&s->conn) && s->touched) {
        /*
         * detach: the stub closes the cores, removes our triggers and
         * lets go of what we stopped, all done when the call returns
         */
        lm_cmd_done(s, &e, MCD_ERR_CONNECTION, false, "D");
    } else if (lm_conn_is_open(&s->conn)) {
        /*
         * D closes the cores, as the disconnect after it would: nothing
         * waits for its answer
         */
        *lm_conn_payload(&s->conn, &room) = 'D';
        lm_conn_write(&s->conn, 1);
    }
    lm_conn_close(&s->conn);
    free(s->cores);
    free(s->info);
    free(s->cmd);
    free(s->reply);
    free(s);
}

/* The extensions libmcd knows, in the order it asks for them. */
static const char *const known_extensions[] = {
    "errors", "steps", "wplen", "resethalt", "stoprec", "txopt",
    "notify", "lists", "regs", "binary", "coreinfo", "stopregs",
};

/*
 * The extensions to ask for: those libmcd knows, of those @offered (if
 * not NULL).  For tests and for working around a stub, the environment
 * variable LIBMCD_EXTENSIONS limits them to those it lists (comma
 * separated), or with "era1" makes libmcd skip the negotiation and speak
 * era 1 (see connect_era1()).
 */
static void wanted_extensions(const char *offered, char *want, size_t size)
{
    const char *limit = getenv("LIBMCD_EXTENSIONS");
    const char *name;
    size_t i, len = 0;

    want[0] = '\0';
    for (i = 0; i < sizeof(known_extensions) / sizeof(known_extensions[0]);
         i++) {
        name = known_extensions[i];
        if ((!offered || lm_list_has(offered, name)) &&
            (!limit || lm_list_has(limit, name)) &&
            len + strlen(name) + 2 <= size) {
            len += snprintf(want + len, size - len, "%s%s", len ? "," : "",
                            name);
        }
    }
}

static void set_era1(LmServer *s)
{
    s->era1 = true;
    s->version = 1;
    s->max_payload = ERA1_MAX_PAYLOAD;
    s->max_data = ERA1_MAX_DATA;
}

/*
 * Take a reply to qprotocol: the version, the limits, the extensions
 * offered and those enabled.  False if it is none (the empty packet of
 * an era-1 stub, a failure).
 */
static bool take_protocol(LmServer *s, char *reply)
{
    char enabled[256];
    const char *v;
    LmRecord rec;
    uint32_t max_data;

    if (!lm_record_parse(reply, &rec) ||
        !lm_record_u32(&rec, "version", &s->version)) {
        return false;
    }
    /* with binary enabled, the stub takes longer packets */
    if (!lm_record_u32(&rec, "max_payload", &s->max_payload) ||
        s->max_payload < 128) {
        s->max_payload = ERA1_MAX_PAYLOAD;
    }
    if (!lm_record_u32(&rec, "max_data", &max_data) || max_data == 0) {
        max_data = s->max_payload >= 33792 ? 16384
                                           : (s->max_payload - 64) / 2;
    }
    /* a memory write of max_data bytes must fit in a packet */
    if (max_data > (s->max_payload - 64) / 2) {
        max_data = (s->max_payload - 64) / 2;
    }
    if (max_data > (LM_MAX_COMMAND - 64) / 2) {
        max_data = (LM_MAX_COMMAND - 64) / 2;
    }
    s->max_data = max_data;
    if (!lm_record_u32(&rec, "max_binary", &s->max_binary)) {
        s->max_binary = 0;
    }
    v = lm_record_get(&rec, "extensions");
    lm_strlcpy(s->extensions, v ? v : "", sizeof(s->extensions));
    v = lm_record_get(&rec, "enabled");
    lm_strlcpy(enabled, v ? v : "", sizeof(enabled));
    s->ext_errors = lm_list_has(enabled, "errors");
    s->ext_steps = lm_list_has(enabled, "steps");
    s->ext_wplen = lm_list_has(enabled, "wplen");
    s->ext_resethalt = lm_list_has(enabled, "resethalt");
    s->ext_stoprec = lm_list_has(enabled, "stoprec");
    s->ext_txopt = lm_list_has(enabled, "txopt");
    s->ext_notify = lm_list_has(enabled, "notify");
    s->ext_lists = lm_list_has(enabled, "lists");
    s->ext_regs = lm_list_has(enabled, "regs");
    s->ext_binary = lm_list_has(enabled, "binary");
    s->ext_coreinfo = lm_list_has(enabled, "coreinfo");
    s->ext_stopregs = lm_list_has(enabled, "stopregs") && s->ext_notify &&
                      s->ext_regs;
    if (s->ext_binary) {
        /* the escaped data of an X of max_binary bytes must fit a packet */
        if (s->max_binary == 0 || s->max_binary > LM_MAX_BINARY) {
            s->max_binary = LM_MAX_BINARY;
        }
        if (s->max_payload <= 256 + 2 * s->max_data) {
            s->max_binary = 0;
        } else if (s->max_binary > (s->max_payload - 256) / 2) {
            s->max_binary = (s->max_payload - 256) / 2;
        }
        /* the send buffer is sized once, for the longest X */
        if (s->max_binary < s->max_data ||
            !lm_conn_reserve(&s->conn, 2 * (size_t)s->max_binary + 256)) {
            s->ext_binary = false;
        }
    }
    return true;
}

/*
 * For a stub that refused the extensions asked for at once: ask what it
 * offers and enable those libmcd knows; if it refuses them too, errors
 * alone.  An era-1 stub answers qprotocol with the empty packet.
 */
static mcd_return_et negotiate(LmServer *s, LmError *e)
{
    char want[192];
    mcd_return_et ret;

    ret = lm_cmd_reply(s, e, MCD_ERR_CONNECTION, "qprotocol");
    if (ret != MCD_RET_ACT_NONE && !lm_conn_is_open(&s->conn)) {
        return ret;
    }
    if (ret != MCD_RET_ACT_NONE || !take_protocol(s, s->reply)) {
        set_era1(s);
        lm_clear(e);
        return MCD_RET_ACT_NONE;
    }
    wanted_extensions(s->extensions, want, sizeof(want));
    if (!want[0]) {
        return MCD_RET_ACT_NONE;
    }
    ret = lm_cmd_reply(s, e, MCD_ERR_CONNECTION, "qprotocol%s", want);
    if (ret != MCD_RET_ACT_NONE && lm_conn_is_open(&s->conn) &&
        strcmp(want, "errors") != 0 && lm_list_has(want, "errors")) {
        /* an extension the stub offers but refuses: errors alone */
        ret = lm_cmd_reply(s, e, MCD_ERR_CONNECTION, "qprotocolerrors");
    }
    if (ret == MCD_RET_ACT_NONE) {
        take_protocol(s, s->reply);
    } else if (!lm_conn_is_open(&s->conn)) {
        return ret;
    }
    lm_clear(e);
    return MCD_RET_ACT_NONE;
}

/*
 * The field @key ("name=") of the record @rec, @len bytes of
 * "key=value." items, if it is its last: where it starts, or NULL.
 */
static const char *find_field(const char *rec, size_t len, const char *key)
{
    size_t n = strlen(key);
    const char *p = rec, *end = rec + len;

    while (p < end) {
        if ((size_t)(end - p) > n && memcmp(p, key, n) == 0 &&
            memchr(p, '.', end - p) == end - 1) {
            return p;
        }
        p = memchr(p, '.', end - p);
        if (!p) {
            return NULL;
        }
        p++;
    }
    return NULL;
}

/*
 * A notification "stop=<core>." and, with stoprec, the core's state
 * record: kept for the core until its state is asked.  One that the stub
 * sent before the command that last let the core run is old news.
 */
static void server_note(void *opaque, const char *payload, size_t len,
                        uint64_t acks)
{
    LmServer *s = opaque;
    const char *regs, *hex = NULL;
    size_t i, hex_len = 0;
    uint64_t core = 0;
    uint32_t k;
    LmCore *c;

    if (len < 7 || memcmp(payload, "stop=", 5) != 0) {
        return;
    }
    for (i = 5; i < len && payload[i] >= '0' && payload[i] <= '9'; i++) {
        core = core * 10 + (payload[i] - '0');
        if (core > UINT32_MAX) {
            return;
        }
    }
    if (i == 5 || i == len || payload[i] != '.') {
        return;
    }
    i++;
    if (!s->cores || core >= s->nr_cores || !s->cores[core]) {
        return;
    }
    c = s->cores[core];
    if (acks < c->run_seq) {
        return;
    }
    /* a stop stops the whole system: no core's "running" holds now */
    for (k = 0; k < s->nr_cores; k++) {
        if (s->cores[k]) {
            s->cores[k]->have_running = false;
        }
    }
    /* stopregs: the registers' values end the record */
    regs = find_field(payload + i, len - i, "regs=");
    if (regs) {
        hex = regs + 5;
        hex_len = payload + len - hex - 1;
        len = regs - payload;
    }
    lm_stop_regs_note(c, hex, hex_len, acks);
    c->note_valid = true;
    c->note_ms = lm_now_ms();
    if (len - i < sizeof(c->note)) {
        memcpy(c->note, payload + i, len - i);
        c->note[len - i] = '\0';
    } else {
        c->note[0] = '\0';     /* too long: ask the stub */
    }
}

/* Copy a name from a reply, truncated to the MCD length. */
static void copy_name(char *dst, const char *src, size_t size)
{
    lm_strlcpy(dst, src ? src : "", size);
}

/*
 * The ELF machine of the cores guessed from (the first item of) a
 * register list, for a stub without coreinfo: AArch64 register lists
 * start with x0.
 */
static uint32_t core_type_of(const char *regs)
{
    char first[512];
    const char *name;
    LmRecord rec;

    lm_strlcpy(first, regs, sizeof(first));
    first[strcspn(first, ";")] = '\0';
    if (!lm_record_parse(first, &rec)) {
        return 0;
    }
    name = lm_record_get(&rec, "name");
    if (!name) {
        return 0;
    }
    return strcmp(name, "x0") == 0 ? EM_AARCH64_NUM : EM_ARM_NUM;
}

/* The reply to I in s->reply. */
static mcd_return_et take_handshake(LmServer *s, LmError *e)
{
    if (strcmp(s->reply, REPLY_HANDSHAKE) != 0) {
        return lm_fail(e, MCD_ERR_CONNECTION, "%s:%u is not an MCD stub: it "
                       "answered '%.40s' to the handshake", s->host, s->port,
                       s->reply);
    }
    return MCD_RET_ACT_NONE;
}

/* The reply to qcores in s->reply: the device, the core model, the cores. */
static mcd_return_et take_cores(LmServer *s, LmError *e)
{
    LmRecord rec;
    uint32_t nr;

    if (!lm_record_parse(s->reply, &rec) ||
        !lm_record_u32(&rec, "nr_cores", &nr) || nr == 0 || nr > MAX_CORES) {
        return lm_fail(e, MCD_ERR_CONNECTION, "malformed reply to qcores: "
                       "'%.60s'", s->reply);
    }
    copy_name(s->device, lm_record_get(&rec, "device"), sizeof(s->device));
    copy_name(s->core_model, lm_record_get(&rec, "core"),
              sizeof(s->core_model));
    s->nr_cores = nr;
    s->cores = calloc(nr, sizeof(*s->cores));
    s->info = calloc(nr, sizeof(*s->info));
    if (!s->cores || !s->info) {
        return lm_fail(e, MCD_ERR_GENERAL, "out of memory");
    }
    return MCD_RET_ACT_NONE;
}

/* The reply to qcoreinfo<i> in s->reply: what core @i is. */
static void take_coreinfo(LmServer *s, uint32_t i)
{
    LmCoreInfo *inf = &s->info[i];
    LmRecord rec;
    uint32_t core, type;

    inf->asked = true;
    if (!lm_record_parse(s->reply, &rec) ||
        !lm_record_u32(&rec, "core", &core) || core != i ||
        !lm_record_u32(&rec, "core_type", &type)) {
        return;
    }
    inf->known = true;
    inf->core_type = type;
    copy_name(inf->model, lm_record_get(&rec, "model"), sizeof(inf->model));
}

/*
 * With coreinfo, ask once what core @i is (its core type and model);
 * without, or if the query fails, the guess of the connection stands.
 */
static void core_info(LmServer *s, uint32_t i)
{
    LmError e;

    if (!s->ext_coreinfo || !s->info || i >= s->nr_cores ||
        s->info[i].asked || !lm_conn_is_open(&s->conn)) {
        return;
    }
    if (lm_cmd_reply(s, &e, MCD_ERR_GENERAL, "qcoreinfo%u", i) ==
        MCD_RET_ACT_NONE) {
        take_coreinfo(s, i);
    }
    s->info[i].asked = true;
}

/*
 * No answer to the handshake: a QEMU that runs answers it at once, unless
 * it serves another debugger (one at a time; a second connection waits
 * until the first ends).
 */
static mcd_return_et handshake_timeout(LmServer *s, LmError *e)
{
    return lm_fail(e, MCD_ERR_TIMED_OUT, "the MCD stub at %s:%u did not "
                   "answer the handshake within %u ms: QEMU serves one "
                   "debugger at a time; is another one connected?", s->host,
                   s->port, s->conn.reply_ms);
}

/*
 * LIBMCD_EXTENSIONS=era1: as the era-1 client, one packet at a time and
 * no negotiation: I, qsystem, qcores, then i0, qregf0 and d0 for the core
 * type.
 */
static mcd_return_et connect_era1(LmServer *s, LmError *e)
{
    LmError e0;
    mcd_return_et ret;

    set_era1(s);
    ret = lm_cmd_reply(s, e, MCD_ERR_CONNECTION, "I");
    if (ret != MCD_RET_ACT_NONE && e->code == MCD_ERR_TIMED_OUT) {
        ret = handshake_timeout(s, e);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = take_handshake(s, e);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_cmd_reply(s, e, MCD_ERR_CONNECTION, "qsystem");
    }
    if (ret == MCD_RET_ACT_NONE) {
        copy_name(s->system, s->reply, sizeof(s->system));
        ret = lm_cmd_reply(s, e, MCD_ERR_CONNECTION, "qcores");
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = take_cores(s, e);
    }
    if (ret != MCD_RET_ACT_NONE ||
        lm_cmd_done(s, &e0, MCD_ERR_GENERAL, true, "i0") !=
        MCD_RET_ACT_NONE) {
        return ret;
    }
    if (lm_cmd_reply(s, &e0, MCD_ERR_GENERAL, "qregf0") ==
        MCD_RET_ACT_NONE) {
        s->core_type = core_type_of(s->reply);
    }
    lm_cmd_done(s, &e0, MCD_ERR_GENERAL, true, "d0");
    return MCD_RET_ACT_NONE;
}

/* Add a packet to the batch of requests being built. */
static LmIoResult queue(LmServer *s, const char *fmt, ...) LM_PRINTF(2, 3);

static LmIoResult queue(LmServer *s, const char *fmt, ...)
{
    size_t room;
    char *out = lm_conn_payload(&s->conn, &room);
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        return LM_IO_PROTOCOL;
    }
    return lm_conn_write(&s->conn, n);
}

/*
 * The reply to the next request of a batch, into s->reply; with @got,
 * of a request that may get only its '+' ("" then).
 */
static LmIoResult take_reply(LmServer *s, bool *got)
{
    const char *data;
    size_t len;
    LmIoResult r;

    s->reply[0] = '\0';
    s->reply_len = 0;
    r = got ? lm_conn_reply_opt(&s->conn, &data, &len, got,
                                s->conn.reply_ms)
            : lm_conn_reply(&s->conn, &data, &len, s->conn.reply_ms);
    if (r != LM_IO_OK || (got && !*got)) {
        return r;
    }
    if (len > LM_MAX_REPLY) {
        return LM_IO_PROTOCOL;
    }
    memcpy(s->reply, data, len);
    s->reply[len] = '\0';
    s->reply_len = len;
    return LM_IO_OK;
}

/*
 * Queue the first queries of the lists @want (bits 1 << LIST_...) of
 * core @core.
 */
static LmIoResult queue_lists(LmServer *s, uint32_t core, unsigned int want)
{
    LmIoResult r = LM_IO_OK;
    int i;

    for (i = 0; r == LM_IO_OK && i < NR_LISTS; i++) {
        if (want & (1u << i)) {
            r = queue(s, "q%sf%u", core_lists[i].name, core);
        }
    }
    return r;
}

/*
 * Take the replies to queue_lists(): copies in @lists, or NULL for those
 * that failed (a list item starts with a digit).
 */
static LmIoResult take_lists(LmServer *s, uint32_t core, unsigned int want,
                             char **lists, char *name, size_t name_size)
{
    const char *data;
    size_t len;
    LmIoResult r = LM_IO_OK;
    int i;

    for (i = 0; r == LM_IO_OK && i < NR_LISTS; i++) {
        if (want & (1u << i)) {
            snprintf(name, name_size, "q%sf%u", core_lists[i].name, core);
            r = lm_conn_reply(&s->conn, &data, &len, s->conn.reply_ms);
            if (r == LM_IO_OK && len > 0 && len <= LM_MAX_REPLY &&
                isdigit((unsigned char)data[0])) {
                lists[i] = malloc(len + 1);
            }
            if (lists[i]) {
                memcpy(lists[i], data, len);
                lists[i][len] = '\0';
            }
        }
    }
    return r;
}

static void free_lists(char **lists)
{
    int i;

    for (i = 0; i < NR_LISTS; i++) {
        free(lists[i]);
        lists[i] = NULL;
    }
}

/*
 * Connect in one round trip: I, qprotocol with the extensions libmcd
 * wants, qsystem, qcores, qcoreinfo0 (if it wants coreinfo), i0, and
 * core 0's lists (its first register,
 * for the core type, if lists is not wanted) go out back to back.  The
 * stub answers them in order, and if it enables the extensions, every
 * command answers and each list comes whole.  If it does not (it lacks
 * one of them, or is an era-1 stub) nothing is enabled: the packets
 * after qprotocol ran as for an era-1 client, i0 answering only a
 * failure and a list query its first item, and libmcd asks what the
 * stub offers then (negotiate()).  Core 0 stays open for
 * mcd_open_core_f, with the lists that came (with the lists extension).
 */
static mcd_return_et connect_stub(LmServer *s, LmError *e)
{
    char *lists[NR_LISTS] = { NULL };
    char want[192], name[32] = "I";
    unsigned int lists_want;
    bool took = false, got = false, open0 = false, info0;
    mcd_return_et ret = MCD_RET_ACT_NONE;
    LmIoResult r;

    wanted_extensions(NULL, want, sizeof(want));
    lists_want = lm_list_has(want, "lists") ? (1u << NR_LISTS) - 1
                                            : 1u << LIST_REGS;
    info0 = lm_list_has(want, "coreinfo");
    lm_conn_begin(&s->conn);
    lm_conn_batch(&s->conn);
    r = queue(s, "I");
    if (r == LM_IO_OK) {
        r = queue(s, "qprotocol%s", want);
    }
    if (r == LM_IO_OK) {
        r = queue(s, "qsystem");
    }
    if (r == LM_IO_OK) {
        r = queue(s, "qcores");
    }
    if (r == LM_IO_OK && info0) {
        r = queue(s, "qcoreinfo0");
    }
    if (r == LM_IO_OK) {
        r = queue(s, "i0");
    }
    if (r == LM_IO_OK) {
        r = queue_lists(s, 0, lists_want);
    }
    if (r == LM_IO_OK) {
        r = take_reply(s, NULL);
        if (r == LM_IO_TIMEOUT) {
            ret = handshake_timeout(s, e);
        }
    }
    if (r == LM_IO_OK) {
        ret = take_handshake(s, e);
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        snprintf(name, sizeof(name), "qprotocol");
        r = take_reply(s, NULL);
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        took = take_protocol(s, s->reply);
        snprintf(name, sizeof(name), "qsystem");
        r = take_reply(s, NULL);
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        copy_name(s->system, s->reply, sizeof(s->system));
        snprintf(name, sizeof(name), "qcores");
        r = take_reply(s, NULL);
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        ret = take_cores(s, e);
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE && info0) {
        snprintf(name, sizeof(name), "qcoreinfo0");
        r = take_reply(s, NULL);
        if (r == LM_IO_OK && s->ext_coreinfo) {
            take_coreinfo(s, 0);
        }
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        snprintf(name, sizeof(name), "i0");
        r = take_reply(s, &got);
    }
    if (r == LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        /* without errors, i0 answers only a failure */
        open0 = !got || strcmp(s->reply, REPLY_SUCCESS) == 0;
        r = take_lists(s, 0, lists_want, lists, name, sizeof(name));
    }
    if (r != LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        ret = lm_io_fail(s, e, r, name);
    }
    if (ret == MCD_RET_ACT_NONE && !took) {
        ret = negotiate(s, e);
    }
    if (ret == MCD_RET_ACT_NONE && lists[LIST_REGS]) {
        s->core_type = core_type_of(lists[LIST_REGS]);
    }
    if (ret == MCD_RET_ACT_NONE && open0) {
        /* core 0 is open: for mcd_open_core_f */
        s->spare = calloc(1, sizeof(*s->spare));
        if (s->spare) {
            s->spare->srv = s;
            if (s->ext_lists) {
                core_take_lists(s->spare, lists);
            }
        }
    }
    free_lists(lists);
    return ret;
}

static mcd_return_et open_server(const char *system_key, const char *config,
                                 LmServer **out)
{
    LmError *e = &lm.err;
    const char *limit;
    LmServer *s, *other;
    char err[256];
    mcd_return_et ret;

    s = calloc(1, sizeof(*s));
    if (!s) {
        return lm_fail(e, MCD_ERR_GENERAL, "out of memory");
    }
    lm_conn_init(&s->conn);
    s->conn.note_fn = server_note;
    s->conn.note_opaque = s;
    s->step_ms = LM_STEP_TIMEOUT;
    s->era1_wait_ms = LM_ERA1_ERROR_WAIT;
    s->cmd = malloc(LM_MAX_COMMAND);
    s->reply = malloc(LM_MAX_REPLY + 1);
    if (!s->cmd || !s->reply) {
        server_free(s);
        return lm_fail(e, MCD_ERR_GENERAL, "out of memory");
    }
    s->cmd[0] = s->reply[0] = '\0';
    ret = parse_config(e, config, s);
    if (ret != MCD_RET_ACT_NONE) {
        server_free(s);
        return ret;
    }
    for (other = lm.servers; other; other = other->next) {
        if (other->port == s->port && strcmp(other->host, s->host) == 0) {
            server_free(s);
            return lm_fail(e, MCD_ERR_SERVER_LOCKED, "libmcd is connected "
                           "to %s:%u already", other->host, other->port);
        }
    }
    lm_strlcpy(s->system_key, system_key ? system_key : "",
               sizeof(s->system_key));
    snprintf(s->config, sizeof(s->config),
             "McdHostName=\"%s\" McdServerPort=\"%u\" "
             "McdConnectTimeout=\"%u\" McdTimeout=\"%u\" "
             "McdStepTimeout=\"%u\" McdEra1ErrorWait=\"%u\"", s->host,
             s->port, s->conn.connect_ms, s->conn.reply_ms, s->step_ms,
             s->era1_wait_ms);
    if (lm_conn_open(&s->conn, s->host, s->port, err, sizeof(err)) < 0) {
        server_free(s);
        return lm_fail(e, MCD_ERR_CONNECTION, "%s", err);
    }

    /* the handshake, the protocol, the system, its cores, core 0 */
    limit = getenv("LIBMCD_EXTENSIONS");
    if (limit && strcmp(limit, "era1") == 0) {
        ret = connect_era1(s, e);
    } else {
        ret = connect_stub(s, e);
    }
    if (ret != MCD_RET_ACT_NONE) {
        server_free(s);
        return ret;
    }
    s->pub.instance = s;
    s->pub.host = s->host;
    s->pub.config_string = s->config;
    *out = s;
    return MCD_RET_ACT_NONE;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_open_server_f(const mcd_char_t *system_key,
                  const mcd_char_t *config_string, mcd_server_st **server)
{
    LmServer *s = NULL;
    mcd_return_et ret;

    lock();
    lm_clear(&lm.err);
    if (!server) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "no place for the server");
    } else if (!lm.initialized) {
        ret = lm_fail(&lm.err, MCD_ERR_USAGE, "call mcd_initialize_f first");
    } else {
        ret = open_server(system_key, config_string, &s);
    }
    if (ret == MCD_RET_ACT_NONE) {
        LmServer **p = &lm.servers;

        while (*p) {
            p = &(*p)->next;
        }
        pthread_mutex_lock(&lm.table);
        *p = s;
        pthread_mutex_unlock(&lm.table);
        *server = &s->pub;
    } else if (server) {
        *server = NULL;
    }
    return leave(ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_close_server_f(const mcd_server_st *server)
{
    LmServer *s;
    mcd_return_et ret = MCD_RET_ACT_NONE;

    lock();
    lm_clear(&lm.err);
    s = find_server(server);
    if (!s) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "not a server opened with "
                      "mcd_open_server_f");
    } else {
        if (!lm_conn_is_open(&s->conn)) {
            ret = lm_fail(&lm.err, MCD_ERR_CONNECTION, "the connection to "
                          "the MCD stub was lost");
        }
        pthread_mutex_lock(&lm.table);
        unlink_server(s);
        pthread_mutex_unlock(&lm.table);
        server_free(s);
    }
    return leave(ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_server_config_f(const mcd_server_st *server, uint32_t *max_len,
                        mcd_char_t *config_string)
{
    LmServer *s;
    uint32_t need;
    mcd_return_et ret = MCD_RET_ACT_NONE;

    lock();
    lm_clear(&lm.err);
    s = find_server(server);
    if (!s || !max_len) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, s ? "max_len is NULL"
                      : "not a server opened with mcd_open_server_f");
    } else {
        need = strlen(s->config) + 1;
        if (!config_string || *max_len == 0) {
            *max_len = need;
        } else if (*max_len < need) {
            lm_strlcpy(config_string, s->config, *max_len);
            ret = lm_fail(&lm.err, MCD_ERR_RESULT_TOO_LONG, "the "
                          "configuration string needs %u bytes", need);
            *max_len = need;
        } else {
            memcpy(config_string, s->config, need);
            *max_len = need;
        }
    }
    return leave(ret);
}

/*
 * Target system features: a system for each open server (in the order
 * opened), one device, nr_cores cores.  The connection infos libmcd
 * fills name the server by host and server_port (as its configuration
 * gave them): mcd_qry_devices_f, mcd_qry_cores_f and mcd_open_core_f
 * take the server they name, or with host and server_port empty the
 * first whose system (and device) match.
 */

static void fill_con_info(LmServer *s, mcd_core_con_info_st *ci)
{
    memset(ci, 0, sizeof(*ci));
    lm_strlcpy(ci->host, s->host, sizeof(ci->host));
    ci->server_port = s->port;
    lm_strlcpy(ci->system_key, s->system_key, sizeof(ci->system_key));
    lm_strlcpy(ci->system, s->system, sizeof(ci->system));
    snprintf(ci->system_instance, sizeof(ci->system_instance),
             "QEMU at %.40s:%u", s->host, s->port);
}

static void fill_device_info(LmServer *s, mcd_core_con_info_st *ci)
{
    fill_con_info(s, ci);
    lm_strlcpy(ci->device, s->device, sizeof(ci->device));
}

/* With coreinfo, the core type and model are the stub's; else guessed. */
static void fill_core_info(LmServer *s, uint32_t i, mcd_core_con_info_st *ci)
{
    const LmCoreInfo *inf = s->info && s->info[i].known ? &s->info[i] : NULL;

    fill_device_info(s, ci);
    snprintf(ci->core, sizeof(ci->core), "%.50s #%u",
             inf && inf->model[0] ? inf->model : s->core_model, i);
    ci->core_type = inf ? inf->core_type : s->core_type;
    ci->core_id = i;
}

static mcd_return_et server_enter(void)
{
    lock();
    lm_clear(&lm.err);
    if (!lm.servers) {
        return lm_fail(&lm.err, MCD_ERR_USAGE, "no server is open: call "
                       "mcd_open_server_f first");
    }
    return MCD_RET_ACT_NONE;
}

static mcd_return_et server_leave(mcd_return_et ret)
{
    return leave(ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_systems_f(uint32_t start_index, uint32_t *num_systems,
                  mcd_core_con_info_st *system_con_info)
{
    uint32_t first, n, count = 0, i;
    LmServer *s;
    mcd_return_et ret = server_enter();

    for (s = lm.servers; s; s = s->next) {
        count++;
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_list_range(&lm.err, count, start_index, num_systems,
                            system_con_info, &first, &n);
    }
    for (s = lm.servers; ret == MCD_RET_ACT_NONE && first && s;
         s = s->next) {
        first--;
    }
    for (i = 0; ret == MCD_RET_ACT_NONE && i < n && s; i++, s = s->next) {
        fill_con_info(s, &system_con_info[i]);
    }
    return server_leave(ret);
}

/* Does a selection name the system (and device) of @s? Empty fields match. */
static bool selects(LmServer *s, const mcd_core_con_info_st *sel,
                    bool device)
{
    if (sel->host[0] && strncmp(sel->host, s->host, sizeof(sel->host)) != 0) {
        return false;
    }
    if (sel->server_port && sel->server_port != s->port) {
        return false;
    }
    if (sel->system[0] && strncmp(sel->system, s->system,
                                  sizeof(sel->system)) != 0) {
        return false;
    }
    return !device || !sel->device[0] ||
           strncmp(sel->device, s->device, sizeof(sel->device)) == 0;
}

/* The server a selection names: the first that selects() takes. */
static LmServer *selected(const mcd_core_con_info_st *sel, bool device)
{
    LmServer *s;

    for (s = lm.servers; s && !selects(s, sel, device); s = s->next) {
    }
    return s;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_devices_f(const mcd_core_con_info_st *system_con_info,
                  uint32_t start_index, uint32_t *num_devices,
                  mcd_core_con_info_st *device_con_info)
{
    uint32_t first, n;
    LmServer *s = NULL;
    mcd_return_et ret = server_enter();

    if (ret == MCD_RET_ACT_NONE && !system_con_info) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "no system given");
    } else if (ret == MCD_RET_ACT_NONE &&
               !(s = selected(system_con_info, false))) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "unknown system '%.64s'",
                      system_con_info->system);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_list_range(&lm.err, 1, start_index, num_devices,
                            device_con_info, &first, &n);
    }
    if (ret == MCD_RET_ACT_NONE && n) {
        fill_device_info(s, device_con_info);
    }
    return server_leave(ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_cores_f(const mcd_core_con_info_st *connection_info,
                uint32_t start_index, uint32_t *num_cores,
                mcd_core_con_info_st *core_con_info)
{
    uint32_t first, n, i;
    LmServer *s = NULL;
    mcd_return_et ret = server_enter();

    if (ret == MCD_RET_ACT_NONE && !connection_info) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "no system or device given");
    } else if (ret == MCD_RET_ACT_NONE &&
               !(s = selected(connection_info, true))) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "unknown system or device "
                      "'%.64s'", connection_info->device);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_list_range(&lm.err, s->nr_cores, start_index,
                            num_cores, core_con_info, &first, &n);
    }
    for (i = 0; ret == MCD_RET_ACT_NONE && i < n; i++) {
        core_info(s, first + i);
        fill_core_info(s, first + i, &core_con_info[i]);
    }
    return server_leave(ret);
}

/*
 * Core connection
 */

/*
 * i<core>.  With errors and lists, the core's memory spaces, register
 * groups and registers come in the same round trip: i<core>,
 * qmemoryf<core>, qreggroupf<core> and qregf<core> go out back to back
 * (if the core does not open, the queries fail too).
 */
static mcd_return_et open_core(LmServer *s, LmCore *c, LmError *e)
{
    char *lists[NR_LISTS] = { NULL };
    unsigned int all = (1u << NR_LISTS) - 1;
    char name[32];
    mcd_return_et ret = MCD_RET_ACT_NONE;
    LmIoResult r;

    if (!s->ext_errors || !s->ext_lists || !lm_conn_is_open(&s->conn)) {
        return lm_cmd_done(s, e, MCD_ERR_PARAM, true, "i%u", c->index);
    }
    snprintf(s->cmd, LM_MAX_COMMAND, "i%u", c->index);
    lm_strlcpy(name, s->cmd, sizeof(name));
    lm_conn_begin(&s->conn);
    lm_conn_batch(&s->conn);
    r = queue(s, "%s", name);
    if (r == LM_IO_OK) {
        r = queue_lists(s, c->index, all);
    }
    if (r == LM_IO_OK) {
        r = take_reply(s, NULL);
    }
    if (r != LM_IO_OK) {
        return lm_io_fail(s, e, r, name);
    }
    if (strcmp(s->reply, REPLY_SUCCESS) != 0) {
        if (!lm_reply_failed(s, e, MCD_ERR_PARAM, name)) {
            lm_fail(e, MCD_ERR_PARAM, "unexpected reply '%.40s' to '%s'",
                    s->reply, name);
        }
        ret = MCD_RET_ACT_HANDLE_ERROR;
    }
    r = take_lists(s, c->index, all, lists, name, sizeof(name));
    if (r != LM_IO_OK && ret == MCD_RET_ACT_NONE) {
        ret = lm_io_fail(s, e, r, name);
    }
    if (ret == MCD_RET_ACT_NONE) {
        core_take_lists(c, lists);
    }
    free_lists(lists);
    return ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_open_core_f(const mcd_core_con_info_st *core_con_info,
                mcd_core_st **core)
{
    LmServer *s = NULL;
    LmCore *c;
    uint32_t id;
    mcd_return_et ret = server_enter();

    if (ret == MCD_RET_ACT_NONE && (!core_con_info || !core)) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "no core given");
    } else if (ret == MCD_RET_ACT_NONE &&
               !(s = selected(core_con_info, true))) {
        ret = lm_fail(&lm.err, MCD_ERR_PARAM, "no open server has system "
                      "'%.64s' at %.64s:%u", core_con_info->system,
                      core_con_info->host, core_con_info->server_port);
    }
    if (ret != MCD_RET_ACT_NONE) {
        return server_leave(ret);
    }
    *core = NULL;
    id = core_con_info->core_id;
    if (id >= s->nr_cores) {
        return server_leave(lm_fail(&lm.err, MCD_ERR_PARAM, "no core %u: "
                                    "the system has %u", id, s->nr_cores));
    }
    if (s->cores[id]) {
        return server_leave(lm_fail(&lm.err, MCD_ERR_DEVICE_LOCKED, "core "
                                    "%u is open already", id));
    }
    if (id == 0 && s->spare) {
        /* open since the connection, with the lists that came then */
        c = s->spare;
        s->spare = NULL;
    } else {
        c = calloc(1, sizeof(*c));
        if (!c) {
            return server_leave(lm_fail(&lm.err, MCD_ERR_GENERAL,
                                        "out of memory"));
        }
        c->srv = s;
        c->index = id;
        ret = open_core(s, c, &lm.err);
        if (ret != MCD_RET_ACT_NONE) {
            core_free(c);
            return server_leave(ret);
        }
    }
    core_info(s, id);
    fill_core_info(s, id, &c->con);
    c->pub.instance = c;
    c->pub.core_con_info = &c->con;
    c->serial = ++lm.serial;
    pthread_mutex_lock(&lm.table);
    s->cores[id] = c;
    pthread_mutex_unlock(&lm.table);
    *core = &c->pub;
    return server_leave(MCD_RET_ACT_NONE);
}

MCD_API mcd_return_et MCD_API_CALL mcd_close_core_f(const mcd_core_st *core)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);
    LmServer *s;

    if (!c) {
        return ret;
    }
    s = c->srv;
    lm_remove_trig_set(c);
    lm_clear(&c->err);
    ret = lm_cmd_done(s, &c->err, MCD_ERR_CONNECTION, true, "d%u", c->index);
    /* the thread's error slot of the core is free; a failure is its last */
    thread_core_result(c, MCD_RET_ACT_NONE);
    if (ret != MCD_RET_ACT_NONE) {
        thread_errors.last = c->err;
    }
    pthread_mutex_lock(&lm.table);
    s->cores[c->index] = NULL;
    pthread_mutex_unlock(&lm.table);
    core_free(c);
    unlock();
    return ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_max_payload_size_f(const mcd_core_st *core, uint32_t *max_payload)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);
    uint32_t max;

    if (!c) {
        return ret;
    }
    if (!max_payload) {
        return core_leave(c, lm_fail(&c->err, MCD_ERR_PARAM,
                                     "max_payload is NULL"));
    }
    /* transaction lists of any size are split into packets */
    max = c->srv->ext_binary ? c->srv->max_binary : c->srv->max_data;
    *max_payload = max > MCD_GUARANTEED_MIN_PAYLOAD
                   ? max : MCD_GUARANTEED_MIN_PAYLOAD;
    return core_leave(c, MCD_RET_ACT_NONE);
}

/*
 * Memory spaces and registers
 */

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_mem_spaces_f(const mcd_core_st *core, uint32_t start_index,
                     uint32_t *num_mem_spaces, mcd_memspace_st *mem_spaces)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);
    uint32_t first, n;

    if (!c) {
        return ret;
    }
    ret = lm_core_spaces(c);
    if (ret == MCD_RET_ACT_NONE && c->n_spaces == 0) {
        ret = lm_fail(&c->err, MCD_ERR_NO_MEM_SPACES, "core %u has no "
                      "memory spaces", c->index);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_list_range(&c->err, c->n_spaces, start_index,
                            num_mem_spaces, mem_spaces, &first, &n);
    }
    if (ret == MCD_RET_ACT_NONE && n) {
        memcpy(mem_spaces, &c->spaces[first], n * sizeof(*mem_spaces));
    }
    return core_leave(c, ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_reg_groups_f(const mcd_core_st *core, uint32_t start_index,
                     uint32_t *num_reg_groups,
                     mcd_register_group_st *reg_groups)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);
    uint32_t first, n, i, j;

    if (!c) {
        return ret;
    }
    ret = core_groups(c);
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_core_regs(c);
    }
    if (ret == MCD_RET_ACT_NONE && c->n_groups == 0) {
        ret = lm_fail(&c->err, MCD_ERR_NO_REG_GROUPS, "core %u has no "
                      "register groups", c->index);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = lm_list_range(&c->err, c->n_groups, start_index,
                            num_reg_groups, reg_groups, &first, &n);
    }
    for (i = 0; ret == MCD_RET_ACT_NONE && i < n; i++) {
        reg_groups[i] = c->groups[first + i];
        reg_groups[i].n_registers = 0;
        for (j = 0; j < c->n_regs; j++) {
            if (c->regs[j].reg_group_id == reg_groups[i].reg_group_id) {
                reg_groups[i].n_registers++;
            }
        }
    }
    return core_leave(c, ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_reg_map_f(const mcd_core_st *core, uint32_t reg_group_id,
                  uint32_t start_index, uint32_t *num_regs,
                  mcd_register_info_st *reg_info)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);
    uint32_t total = 0, first, n, i, k;
    bool found = reg_group_id == 0;

    if (!c) {
        return ret;
    }
    ret = lm_core_regs(c);
    if (ret == MCD_RET_ACT_NONE && reg_group_id != 0) {
        ret = core_groups(c);
        for (i = 0; ret == MCD_RET_ACT_NONE && i < c->n_groups; i++) {
            found |= c->groups[i].reg_group_id == reg_group_id;
        }
        if (ret == MCD_RET_ACT_NONE && !found) {
            ret = lm_fail(&c->err, MCD_ERR_REG_GROUP_ID, "core %u has no "
                          "register group %u", c->index, reg_group_id);
        }
    }
    if (ret != MCD_RET_ACT_NONE) {
        return core_leave(c, ret);
    }
    /* group 0 holds every register */
    for (i = 0; i < c->n_regs; i++) {
        total += !reg_group_id || c->regs[i].reg_group_id == reg_group_id;
    }
    ret = lm_list_range(&c->err, total, start_index, num_regs, reg_info,
                        &first, &n);
    for (i = 0, k = 0; ret == MCD_RET_ACT_NONE && i < c->n_regs && n; i++) {
        if (reg_group_id && c->regs[i].reg_group_id != reg_group_id) {
            continue;
        }
        if (k++ >= first) {
            *reg_info++ = c->regs[i];
            n--;
        }
    }
    return core_leave(c, ret);
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_ctrigs_f(const mcd_core_st *core, uint32_t start_index,
                 uint32_t *num_ctrigs, mcd_ctrig_info_st *ctrig_info)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);
    uint32_t first, n;

    if (!c) {
        return ret;
    }
    /* no custom triggers */
    ret = lm_list_range(&c->err, 0, start_index, num_ctrigs, ctrig_info,
                        &first, &n);
    return core_leave(c, ret);
}

/*
 * Target execution control, triggers and resets: target.c does the work.
 */

MCD_API mcd_return_et MCD_API_CALL
mcd_execute_txlist_f(const mcd_core_st *core, mcd_txlist_st *txlist)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_execute_txlist(c, txlist)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_run_f(const mcd_core_st *core, mcd_bool_t global)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_run(c, global)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_stop_f(const mcd_core_st *core, mcd_bool_t global)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_stop(c, global)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_step_f(const mcd_core_st *core, mcd_bool_t global,
           mcd_core_step_type_et step_type, uint32_t n_steps)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_step(c, global, step_type, n_steps)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_state_f(const mcd_core_st *core, mcd_core_state_st *state)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_state(c, state)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_info_f(const mcd_core_st *core, mcd_trig_info_st *trig_info)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_trig_info(c, trig_info)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_create_trig_f(const mcd_core_st *core, void *trig, uint32_t *trig_id)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_create_trig(c, trig, trig_id)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_f(const mcd_core_st *core, uint32_t trig_id,
               uint32_t max_trig_size, void *trig)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_trig(c, trig_id, max_trig_size, trig))
             : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_remove_trig_f(const mcd_core_st *core, uint32_t trig_id)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_remove_trig(c, trig_id)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_state_f(const mcd_core_st *core, uint32_t trig_id,
                     mcd_trig_state_st *trig_state)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_trig_state(c, trig_id, trig_state))
             : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_activate_trig_set_f(const mcd_core_st *core)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_activate_trig_set(c)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_remove_trig_set_f(const mcd_core_st *core)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_remove_trig_set(c)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_set_f(const mcd_core_st *core, uint32_t start_index,
                   uint32_t *num_trigs, uint32_t *trig_ids)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_trig_set(c, start_index, num_trigs,
                                             trig_ids))
             : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trig_set_state_f(const mcd_core_st *core,
                         mcd_trig_set_state_st *trig_state)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_trig_set_state(c, trig_state)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_rst_classes_f(const mcd_core_st *core, uint32_t *rst_class_vector)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_rst_classes(c, rst_class_vector)) : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_rst_class_info_f(const mcd_core_st *core, uint8_t rst_class,
                         mcd_rst_info_st *rst_info)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_qry_rst_class_info(c, rst_class, rst_info))
             : ret;
}

MCD_API mcd_return_et MCD_API_CALL
mcd_rst_f(const mcd_core_st *core, uint32_t rst_class_vector,
          mcd_bool_t rst_and_halt)
{
    mcd_return_et ret;
    LmCore *c = core_enter(core, &ret);

    return c ? core_leave(c, lm_rst(c, rst_class_vector, rst_and_halt))
             : ret;
}

/*
 * Not implemented: they fail with MCD_ERR_FN_UNIMPLEMENTED.
 */

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_servers_f(const mcd_char_t *host, mcd_bool_t running,
                  uint32_t start_index, uint32_t *num_servers,
                  mcd_server_info_st *server_info)
{
    (void)host, (void)running, (void)start_index, (void)num_servers;
    (void)server_info;
    return unimplemented(NULL, "mcd_qry_servers_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_set_server_config_f(const mcd_server_st *server,
                        const mcd_char_t *config_string)
{
    (void)server, (void)config_string;
    return unimplemented(NULL, "mcd_set_server_config_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_core_modes_f(const mcd_core_st *core, uint32_t start_index,
                     uint32_t *num_modes,
                     mcd_core_mode_info_st *core_mode_info)
{
    (void)start_index, (void)num_modes, (void)core_mode_info;
    return unimplemented(core, "mcd_qry_core_modes_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_device_description_f(const mcd_core_st *core, mcd_char_t *url,
                             uint32_t *url_length)
{
    (void)url, (void)url_length;
    return unimplemented(core, "mcd_qry_device_description_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_input_handle_f(const mcd_core_st *core, uint32_t *input_handle)
{
    (void)input_handle;
    return unimplemented(core, "mcd_qry_input_handle_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_mem_blocks_f(const mcd_core_st *core, uint32_t mem_space_id,
                     uint32_t start_index, uint32_t *num_mem_blocks,
                     mcd_memblock_st *mem_blocks)
{
    (void)mem_space_id, (void)start_index, (void)num_mem_blocks;
    (void)mem_blocks;
    return unimplemented(core, "mcd_qry_mem_blocks_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_active_overlays_f(const mcd_core_st *core, uint32_t start_index,
                          uint32_t *num_active_overlays,
                          uint32_t *active_overlays)
{
    (void)start_index, (void)num_active_overlays, (void)active_overlays;
    return unimplemented(core, "mcd_qry_active_overlays_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_reg_compound_f(const mcd_core_st *core, uint32_t compound_reg_id,
                       uint32_t start_index, uint32_t *num_reg_ids,
                       uint32_t *reg_id_array)
{
    (void)compound_reg_id, (void)start_index, (void)num_reg_ids;
    (void)reg_id_array;
    return unimplemented(core, "mcd_qry_reg_compound_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_run_until_f(const mcd_core_st *core, mcd_bool_t global,
                mcd_bool_t absolute_time, uint64_t run_until_time)
{
    (void)global, (void)absolute_time, (void)run_until_time;
    return unimplemented(core, "mcd_run_until_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_current_time_f(const mcd_core_st *core, uint64_t *current_time)
{
    (void)current_time;
    return unimplemented(core, "mcd_qry_current_time_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_set_global_f(const mcd_core_st *core, mcd_bool_t enable)
{
    (void)enable;
    return unimplemented(core, "mcd_set_global_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_execute_command_f(const mcd_core_st *core,
                      const mcd_char_t *command_string,
                      uint32_t result_string_size, mcd_char_t *result_string)
{
    (void)command_string, (void)result_string_size, (void)result_string;
    return unimplemented(core, "mcd_execute_command_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_chl_open_f(const mcd_core_st *core, mcd_chl_st *channel)
{
    (void)channel;
    return unimplemented(core, "mcd_chl_open_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_send_msg_f(const mcd_core_st *core, const mcd_chl_st *channel,
               uint32_t msg_len, const uint8_t *msg)
{
    (void)channel, (void)msg_len, (void)msg;
    return unimplemented(core, "mcd_send_msg_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_receive_msg_f(const mcd_core_st *core, const mcd_chl_st *channel,
                  uint32_t timeout, uint32_t *msg_len, uint8_t *msg)
{
    (void)channel, (void)timeout, (void)msg_len, (void)msg;
    return unimplemented(core, "mcd_receive_msg_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_chl_reset_f(const mcd_core_st *core, const mcd_chl_st *channel)
{
    (void)channel;
    return unimplemented(core, "mcd_chl_reset_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_chl_close_f(const mcd_core_st *core, const mcd_chl_st *channel)
{
    (void)channel;
    return unimplemented(core, "mcd_chl_close_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_traces_f(const mcd_core_st *core, uint32_t start_index,
                 uint32_t *num_traces, mcd_trace_info_st *trace_info)
{
    (void)start_index, (void)num_traces, (void)trace_info;
    return unimplemented(core, "mcd_qry_traces_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_qry_trace_state_f(const mcd_core_st *core, uint32_t trace_id,
                      mcd_trace_state_st *state)
{
    (void)trace_id, (void)state;
    return unimplemented(core, "mcd_qry_trace_state_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_set_trace_state_f(const mcd_core_st *core, uint32_t trace_id,
                      mcd_trace_state_st *state)
{
    (void)trace_id, (void)state;
    return unimplemented(core, "mcd_set_trace_state_f");
}

MCD_API mcd_return_et MCD_API_CALL
mcd_read_trace_f(const mcd_core_st *core, uint32_t trace_id,
                 uint64_t start_index, uint32_t *num_frames,
                 uint32_t trace_data_size, void *trace_data)
{
    (void)trace_id, (void)start_index, (void)num_frames;
    (void)trace_data_size, (void)trace_data;
    return unimplemented(core, "mcd_read_trace_f");
}
