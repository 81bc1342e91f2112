/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the JSON protocol of the MCD stub: the MCD API as the JSON
 * commands of qapi/mcd.json, spoken on the -mcd socket by a client whose
 * first byte is '{', with one reply line per command.  Discovery of the
 * model (systems, devices, cores, memory spaces, register groups and
 * registers), memory and register transactions, run control, triggers,
 * resets, error information, the session that outlives its connection,
 * packet and JSON clients one after the other, and malformed input, on
 * qemu-system-arm (cortex-a15) and qemu-system-aarch64 (cortex-a53),
 * with TrustZone (and on aarch64 virtualization) and without.
 *
 * One tiny guest, written here as instruction words, serves every test:
 * each core counts at COUNTERS + 16 * core and stores its r0 (x0), which
 * it sets to 0x1000 once, at COUNTERS + 16 * core + 8.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "mcd-util.h"

/* Above the device tree that QEMU writes at the start of RAM. */
#define GUEST_BASE      0x40200000
/* The counting loop, the same offset in both guests. */
#define LOOP            (GUEST_BASE + 6 * 4)
/* The counter of core n is at COUNTERS + 16 * n, its r0 (x0) after it. */
#define COUNTERS        0x40202000
/* RAM that the guest never touches. */
#define SCRATCH         0x40300000
/* The end of the 128 MiB of RAM of virt. */
#define RAM_END         0x48000000
/* virt's secure-only RAM (secure=on) */
#define SECURE_RAM      0x0e000000
/* The most bytes one transaction reads. */
#define TX_MAX_READ     16000
/* The value the guest gives r0 (x0). */
#define GUEST_R0        0x1000

/* Constants of the MCD API (mcd_api.h) */
#define RET_ACT_NONE            0
#define RET_ACT_HANDLE_ERROR    3
#define ERR_NONE                0
#define ERR_CONNECTION          0x200
#define ERR_GENERAL             0xf00
#define ERR_TXLIST_READ         0x2100
#define ERR_TXLIST_WRITE        0x2101
/* For check_error(): any error code but ERR_NONE. */
#define ERR_ANY                 UINT32_MAX
#define MEM_REGISTERS           0x1
#define MEM_PHYSICAL            0x10
#define MEM_LOGICAL             0x20
#define MEM_SECURE              0x10000
#define STATE_RUNNING           1
#define STATE_DEBUG             3
#define TX_READ                 1
#define TX_WRITE                2
#define TRIG_IP                 0x1
#define TRIG_WRITE              0x4
#define TRIG_ACTION_DEBUG       0x1
#define STEP_INSTR              2

/* The 12 members of a memory space record (MCDMemspace). */
static const char *const memspace_members[] = {
    "mem-space-id", "mem-space-name", "mem-type", "bits-per-mau",
    "invariance", "endian", "min-addr", "max-addr", "num-mem-blocks",
    "supported-access-options", "core-mode-mask-read",
    "core-mode-mask-write",
};

static const uint32_t guest_a64[] = {
    0xd53800a1, /* mrs x1, mpidr_el1 */
    0x92401c21, /* and x1, x1, #0xff */
    0xd2840005, /* mov x5, #0x2000 */
    0xf2a80405, /* movk x5, #0x4020, lsl #16 */
    0x8b0110a5, /* add x5, x5, x1, lsl #4 */
    0xd2820000, /* mov x0, #0x1000 */
    0xf94000a2, /* loop: ldr x2, [x5] */
    0x91000442, /* add x2, x2, #1 */
    0xf90000a2, /* str x2, [x5] */
    0xf90004a0, /* str x0, [x5, #8] */
    0x17fffffc, /* b loop */
};

static const uint32_t guest_a32[] = {
    0xee101fb0, /* mrc p15, 0, r1, c0, c0, 5 (MPIDR) */
    0xe20110ff, /* and r1, r1, #0xff */
    0xe3025000, /* movw r5, #0x2000 */
    0xe3445020, /* movt r5, #0x4020 */
    0xe0855201, /* add r5, r5, r1, lsl #4 */
    0xe3010000, /* movw r0, #0x1000 */
    0xe5952000, /* loop: ldr r2, [r5] */
    0xe2822001, /* add r2, r2, #1 */
    0xe5852000, /* str r2, [r5] */
    0xe5850008, /* str r0, [r5, #8] */
    0xeafffffa, /* b loop */
};

/* Polls give up after 20 s. */
#define POLL_MS         10
#define POLL_TRIES      2000

typedef struct JsonTest {
    QTestState *qts;
    int fd;             /* the JSON client's socket */
    int port;           /* where the stub listens */
    int ncores;
    bool aa64;
    bool secure;
    uint32_t server_uid;
    QList *cores;       /* the core connection infos of mcd-qry-cores */
    QList *spaces;      /* the memory spaces of core 1 */
    QList *regs;        /* all registers of core 1 */
    uint32_t regs_space; /* the id of "GDB Registers" */
} JsonTest;

static bool is_aa64(void)
{
    return g_str_equal(qtest_get_arch(), "aarch64");
}

static const char *cpu_model(void)
{
    return is_aa64() ? "cortex-a53" : "cortex-a15";
}

/*
 * Start QEMU stopped (-S) on virt, with TrustZone (and on aarch64 EL2)
 * if @secure, with @ncores cores that all start in the guest, the -mcd
 * options @mcd_opts and the stub on a TCP socket; connect to it.
 */
static void json_start_opts(JsonTest *t, bool secure, int ncores,
                            const char *mcd_opts)
{
    g_autoptr(GString) loaders = g_string_new(NULL);
    int lfd = mcd_listen_tcp();
    int i;

    t->aa64 = is_aa64();
    t->secure = secure;
    t->ncores = ncores;
    t->port = mcd_tcp_port_of(lfd);
    for (i = 0; i < ncores; i++) {
        g_string_append_printf(loaders, "-device loader,addr=0x%x,"
                               "cpu-num=%d ", GUEST_BASE, i);
    }
    t->qts = qtest_initf(
        "-M virt%s -cpu %s -accel tcg -nodefaults -smp %d -S %s"
        "-chardev socket,id=mcd0,fd=%d,server=on,wait=off,nodelay=on "
        "-mcd chardev:mcd0%s",
        !secure ? "" : t->aa64 ? ",secure=on,virtualization=on"
                               : ",secure=on",
        cpu_model(), ncores, loaders->str, lfd, mcd_opts);
    t->fd = mcd_connect_tcp(t->port);
    close(lfd);
    if (t->aa64) {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a64, sizeof(guest_a64));
    } else {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a32, sizeof(guest_a32));
    }
}

static void json_start(JsonTest *t, bool secure, int ncores)
{
    json_start_opts(t, secure, ncores, "");
}

static void json_end(JsonTest *t)
{
    if (t->fd >= 0) {
        close(t->fd);
    }
    qtest_quit(t->qts);
    qobject_unref(t->cores);
    qobject_unref(t->spaces);
    qobject_unref(t->regs);
}

/* Connect again, as a new client. */
static void reconnect(JsonTest *t)
{
    if (t->fd >= 0) {
        close(t->fd);
    }
    t->fd = mcd_connect_tcp(t->port);
}

/*
 * Commands
 */

static QDict *call_va(JsonTest *t, const char *command, const char *fmt,
                      va_list ap) G_GNUC_PRINTF(3, 0);
static QDict *call_va(JsonTest *t, const char *command, const char *fmt,
                      va_list ap)
{
    QDict *args = fmt ? qdict_from_vjsonf_nofail(fmt, ap) : NULL;
    g_autoptr(QDict) reply = mcd_json_exec(t->fd, command, args);

    return qobject_ref(mcd_json_return(reply));
}

/*
 * Execute @command with the arguments @fmt (see mcd_json_execf()) and
 * return its result, whatever its return status.
 */
static QDict *call(JsonTest *t, const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static QDict *call(JsonTest *t, const char *command, const char *fmt, ...)
{
    va_list ap;
    QDict *ret;

    va_start(ap, fmt);
    ret = call_va(t, command, fmt, ap);
    va_end(ap);
    return ret;
}

static uint32_t status_of(QDict *ret)
{
    return mcd_json_uint(ret, "return-status");
}

/*
 * mcd-qry-error-info on @uid (0: the server level) tells error @code
 * (ERR_ANY: any error; ERR_NONE: the last call succeeded).
 */
static void check_error(JsonTest *t, uint32_t uid, uint32_t code)
{
    g_autoptr(QDict) ret = call(t, "mcd-qry-error-info", "{'core-uid': %u}",
                                uid);
    uint32_t got = mcd_json_uint(ret, "error-code");

    g_test_message("error info of %u: %u, %s", uid, got,
                   mcd_json_str(ret, "error-str"));
    g_assert_cmpuint(qdict_size(ret), ==, 4);
    g_assert_cmpuint(mcd_json_uint(ret, "error-events"), ==, 0);
    if (code == ERR_NONE) {
        g_assert_cmpuint(status_of(ret), ==, RET_ACT_NONE);
        g_assert_cmpuint(got, ==, ERR_NONE);
        return;
    }
    g_assert_cmpuint(status_of(ret), ==, RET_ACT_HANDLE_ERROR);
    if (code == ERR_ANY) {
        g_assert_cmpuint(got, !=, ERR_NONE);
    } else {
        g_assert_cmphex(got, ==, code);
    }
    g_assert_cmpstr(mcd_json_str(ret, "error-str"), !=, "");
}

/* A command that must succeed; its result. */
static QDict *ok(JsonTest *t, const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static QDict *ok(JsonTest *t, const char *command, const char *fmt, ...)
{
    va_list ap;
    QDict *ret;

    va_start(ap, fmt);
    ret = call_va(t, command, fmt, ap);
    va_end(ap);
    if (status_of(ret) != RET_ACT_NONE) {
        g_test_message("%s failed", command);
        check_error(t, 0, ERR_ANY);
    }
    g_assert_cmpuint(status_of(ret), ==, RET_ACT_NONE);
    return ret;
}

/*
 * A command that must fail with MCD_RET_ACT_HANDLE_ERROR and leave the
 * error @code (see check_error()) on @uid.
 */
static void fail(JsonTest *t, uint32_t uid, uint32_t code,
                 const char *command, const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);
static void fail(JsonTest *t, uint32_t uid, uint32_t code,
                 const char *command, const char *fmt, ...)
{
    g_autoptr(QDict) ret = NULL;
    va_list ap;

    va_start(ap, fmt);
    ret = call_va(t, command, fmt, ap);
    va_end(ap);
    g_assert_cmpuint(status_of(ret), ==, RET_ACT_HANDLE_ERROR);
    check_error(t, uid, code);
}

/*
 * The session
 */

static QDict *system_con(JsonTest *t)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-systems",
                              "{'start-index': 0, 'num-systems': 1}");
    QList *list = mcd_json_list(ret, "system-con-info");

    g_assert_cmpuint(qlist_size(list), ==, 1);
    return qobject_ref(mcd_json_list_dict(list, 0));
}

static QDict *device_con(JsonTest *t, QDict *sys)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-devices",
                              "{'system-con-info': %p, 'start-index': 0, "
                              "'num-devices': 1}", qobject_ref(sys));
    QList *list = mcd_json_list(ret, "device-con-info");

    g_assert_cmpuint(qlist_size(list), ==, 1);
    return qobject_ref(mcd_json_list_dict(list, 0));
}

static QList *core_cons(JsonTest *t, QDict *dev, uint32_t start,
                        uint32_t n)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-cores",
                              "{'connection-info': %p, 'start-index': %u, "
                              "'num-cores': %u}", qobject_ref(dev), start, n);
    QList *list = mcd_json_list(ret, "core-con-info");

    g_assert_cmpuint(mcd_json_uint(ret, "num-cores"), ==, qlist_size(list));
    return qobject_ref(list);
}

static uint32_t mem_space_count(JsonTest *t, uint32_t uid)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-mem-spaces",
                              "{'core-uid': %u, 'start-index': 0, "
                              "'num-mem-spaces': 0}", uid);

    return mcd_json_uint(ret, "num-mem-spaces");
}

static QList *mem_spaces(JsonTest *t, uint32_t uid, uint32_t start,
                         uint32_t n)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-mem-spaces",
                              "{'core-uid': %u, 'start-index': %u, "
                              "'num-mem-spaces': %u}", uid, start, n);
    QList *list = mcd_json_list(ret, "mem-spaces");

    g_assert_cmpuint(mcd_json_uint(ret, "num-mem-spaces"), ==,
                     qlist_size(list));
    return qobject_ref(list);
}

static uint32_t reg_group_count(JsonTest *t, uint32_t uid)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-reg-groups",
                              "{'core-uid': %u, 'start-index': 0, "
                              "'num-reg-groups': 0}", uid);

    return mcd_json_uint(ret, "num-reg-groups");
}

static QList *reg_groups(JsonTest *t, uint32_t uid, uint32_t n)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-reg-groups",
                              "{'core-uid': %u, 'start-index': 0, "
                              "'num-reg-groups': %u}", uid, n);
    QList *list = mcd_json_list(ret, "reg-groups");

    g_assert_cmpuint(mcd_json_uint(ret, "num-reg-groups"), ==,
                     qlist_size(list));
    return qobject_ref(list);
}

static QList *reg_map(JsonTest *t, uint32_t uid, uint32_t group,
                      uint32_t start, uint32_t n)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-reg-map",
                              "{'core-uid': %u, 'reg-group-id': %u, "
                              "'start-index': %u, 'num-regs': %u}",
                              uid, group, start, n);
    QList *list = mcd_json_list(ret, "reg-info");

    g_assert_cmpuint(mcd_json_uint(ret, "num-regs"), ==, qlist_size(list));
    return qobject_ref(list);
}

static uint32_t reg_count(JsonTest *t, uint32_t uid, uint32_t group)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-reg-map",
                              "{'core-uid': %u, 'reg-group-id': %u, "
                              "'start-index': 0, 'num-regs': 0}", uid, group);

    return mcd_json_uint(ret, "num-regs");
}

/* The item of @list whose member @key is the string @name, or NULL. */
static QDict *find_named(QList *list, const char *key, const char *name)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));

        g_assert_nonnull(d);
        if (g_str_equal(mcd_json_str(d, key), name)) {
            return d;
        }
    }
    return NULL;
}

static uint32_t space_id(JsonTest *t, const char *name)
{
    QDict *ms = find_named(t->spaces, "mem-space-name", name);

    if (!ms) {
        g_test_message("no memory space %s", name);
    }
    g_assert_nonnull(ms);
    return mcd_json_uint(ms, "mem-space-id");
}

static QDict *reg_info(JsonTest *t, const char *name)
{
    QDict *reg = find_named(t->regs, "regname", name);

    if (!reg) {
        g_test_message("no register %s", name);
    }
    g_assert_nonnull(reg);
    return reg;
}

/*
 * Open the session: initialize, open the server, find the cores, open
 * each and read the lists of core 1.
 */
static void session_open(JsonTest *t)
{
    g_autoptr(QDict) ret = NULL;
    g_autoptr(QDict) sys = NULL;
    g_autoptr(QDict) dev = NULL;
    int i;

    ret = ok(t, "mcd-initialize", "{'version-req': {'v-api-major': 1, "
             "'v-api-minor': 1, 'author': 'test'}}");
    qobject_unref(ret);
    ret = ok(t, "mcd-open-server", "{'system-key': '', 'config-string': ''}");
    t->server_uid = mcd_json_uint(ret, "server-uid");
    sys = system_con(t);
    dev = device_con(t, sys);
    qobject_unref(t->cores);
    t->cores = core_cons(t, dev, 0, t->ncores);
    g_assert_cmpuint(qlist_size(t->cores), ==, t->ncores);
    for (i = 0; i < t->ncores; i++) {
        QDict *con = mcd_json_list_dict(t->cores, i);

        qobject_unref(ret);
        ret = ok(t, "mcd-open-core", "{'core-con-info': %p}",
                 qobject_ref(con));
        g_assert_cmpuint(mcd_json_uint(ret, "core-uid"), ==, i + 1);
    }
    qobject_unref(t->spaces);
    t->spaces = mem_spaces(t, 1, 0, mem_space_count(t, 1));
    t->regs_space = space_id(t, "GDB Registers");
    qobject_unref(t->regs);
    t->regs = reg_map(t, 1, 0, 0, reg_count(t, 1, 0));
}

/*
 * The guest
 */

static uint32_t counter(JsonTest *t, int core)
{
    return qtest_readl(t->qts, COUNTERS + 16 * core);
}

/* Whether the counter of @core moves by @n within 20 s. */
static bool counts(JsonTest *t, int core, uint32_t n)
{
    return mcd_word_grows(t->qts, COUNTERS + 16 * core, n, 20000);
}

static bool moves(JsonTest *t, int core)
{
    return counts(t, core, 1);
}

/* Whether the counter of @core stays put for 100 ms. */
static bool stays(JsonTest *t, int core)
{
    return mcd_word_stays(t->qts, COUNTERS + 16 * core, 100);
}

static void check_vm_running(JsonTest *t)
{
    mcd_check_running(t->qts);
}

/*
 * Transactions
 */

/* A transaction (MCDTx) of @len bytes; @data NULL reads (zeros sent). */
static QDict *tx_new(uint32_t space, uint64_t addr, uint32_t type,
                     uint32_t width, const uint8_t *data, uint32_t len)
{
    QDict *tx = qdict_new();
    QDict *a = qdict_new();
    QList *bytes = qlist_new();
    uint32_t i;

    qdict_put_int(a, "address", addr);
    qdict_put_int(a, "mem-space-id", space);
    qdict_put_int(a, "addr-space-id", 0);
    qdict_put_int(a, "addr-space-type", 0);
    for (i = 0; i < len; i++) {
        qlist_append_int(bytes, data ? data[i] : 0);
    }
    qdict_put(tx, "addr", a);
    qdict_put_int(tx, "access-type", type);
    qdict_put_int(tx, "options", 0);
    qdict_put_int(tx, "access-width", width);
    qdict_put_int(tx, "core-mode", 0);
    qdict_put(tx, "data", bytes);
    qdict_put_int(tx, "num-bytes", len);
    qdict_put_int(tx, "num-bytes-ok", 0);
    return tx;
}

/* Execute the transactions @txs (taken) on core @uid; the result. */
static QDict *txlist_exec(JsonTest *t, uint32_t uid, QList *txs)
{
    QDict *args = qdict_new();
    QDict *txlist = qdict_new();
    g_autoptr(QDict) reply = NULL;

    qdict_put_int(txlist, "num-tx", qlist_size(txs));
    qdict_put_int(txlist, "num-tx-ok", 0);
    qdict_put(txlist, "tx", txs);
    qdict_put_int(args, "core-uid", uid);
    qdict_put(args, "txlist", txlist);
    reply = mcd_json_exec(t->fd, "mcd-execute-txlist", args);
    return qobject_ref(mcd_json_return(reply));
}

/* The data of transaction @tx, @len bytes, to @buf. */
static void tx_data(QDict *tx, uint8_t *buf, uint32_t len)
{
    QList *data = mcd_json_list(tx, "data");
    const QListEntry *e;
    uint32_t i = 0;

    g_assert_cmpuint(qlist_size(data), ==, len);
    QLIST_FOREACH_ENTRY(data, e) {
        QNum *n = qobject_to(QNum, qlist_entry_obj(e));
        uint64_t v;

        g_assert_nonnull(n);
        g_assert_true(qnum_get_try_uint(n, &v));
        g_assert_cmpuint(v, <=, 0xff);
        buf[i++] = v;
    }
}

/*
 * One transaction; on success, the bytes read go to @buf.  A failed one
 * transferred nothing.
 */
static bool tx1(JsonTest *t, uint32_t uid, uint32_t space, uint64_t addr,
                uint32_t type, uint32_t width, uint8_t *buf, uint32_t len)
{
    QList *txs = qlist_new();
    g_autoptr(QDict) ret = NULL;
    QDict *txlist, *tx;

    qlist_append(txs, tx_new(space, addr, type, width,
                             type == TX_WRITE ? buf : NULL, len));
    ret = txlist_exec(t, uid, txs);
    if (status_of(ret) != RET_ACT_NONE) {
        g_assert_cmpuint(status_of(ret), ==, RET_ACT_HANDLE_ERROR);
        if (qdict_haskey(ret, "txlist")) {
            txlist = mcd_json_dict(ret, "txlist");
            tx = mcd_json_list_dict(mcd_json_list(txlist, "tx"), 0);
            g_assert_cmpuint(mcd_json_uint(txlist, "num-tx-ok"), ==, 0);
            g_assert_cmpuint(mcd_json_uint(tx, "num-bytes-ok"), ==, 0);
        }
        return false;
    }
    txlist = mcd_json_dict(ret, "txlist");
    g_assert_cmpuint(mcd_json_uint(txlist, "num-tx"), ==, 1);
    g_assert_cmpuint(mcd_json_uint(txlist, "num-tx-ok"), ==, 1);
    tx = mcd_json_list_dict(mcd_json_list(txlist, "tx"), 0);
    g_assert_cmpuint(mcd_json_uint(tx, "num-bytes-ok"), ==, len);
    if (type == TX_READ) {
        tx_data(tx, buf, len);
    }
    return true;
}

static bool mem_read(JsonTest *t, uint32_t space, uint64_t addr,
                     uint8_t *buf, uint32_t len)
{
    return tx1(t, 1, space, addr, TX_READ, len % 4 ? 1 : 4, buf, len);
}

static bool mem_write(JsonTest *t, uint32_t space, uint64_t addr,
                      const uint8_t *buf, uint32_t len)
{
    return tx1(t, 1, space, addr, TX_WRITE, len % 4 ? 1 : 4, (uint8_t *)buf,
               len);
}

static uint32_t reg_bytes(JsonTest *t, const char *name)
{
    uint32_t bits = mcd_json_uint(reg_info(t, name), "regsize");

    g_assert_cmpuint(bits % 8, ==, 0);
    g_assert_cmpuint(bits, <=, 64);
    return bits / 8;
}

static uint64_t reg_addr(JsonTest *t, const char *name)
{
    QDict *addr = mcd_json_dict(reg_info(t, name), "addr");

    g_assert_cmpuint(mcd_json_uint(addr, "mem-space-id"), ==, t->regs_space);
    return mcd_json_uint(addr, "address");
}

/* Read a register of core @uid (little-endian in the transaction). */
static uint64_t reg_read(JsonTest *t, uint32_t uid, const char *name)
{
    uint32_t n = reg_bytes(t, name);
    uint8_t buf[8] = { 0 };
    uint64_t v;

    g_assert_true(tx1(t, uid, t->regs_space, reg_addr(t, name), TX_READ, n,
                      buf, n));
    memcpy(&v, buf, sizeof(v));
    return le64_to_cpu(v);
}

static void reg_write(JsonTest *t, uint32_t uid, const char *name,
                      uint64_t value)
{
    uint32_t n = reg_bytes(t, name);
    uint64_t le = cpu_to_le64(value);

    g_assert_true(tx1(t, uid, t->regs_space, reg_addr(t, name), TX_WRITE, n,
                      (uint8_t *)&le, n));
}

static uint64_t read_pc(JsonTest *t, uint32_t uid)
{
    return reg_read(t, uid, "pc");
}

static const char *r0_name(JsonTest *t)
{
    return t->aa64 ? "x0" : "r0";
}

/*
 * Run control
 */

/* The state of core @uid (MCDCoreState). */
static QDict *core_state(JsonTest *t, uint32_t uid)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-state", "{'core-uid': %u}", uid);
    QDict *st = mcd_json_dict(ret, "state");

    g_assert_cmpuint(qdict_size(st), ==, 6);
    return qobject_ref(st);
}

static uint32_t state_of(JsonTest *t, uint32_t uid)
{
    g_autoptr(QDict) st = core_state(t, uid);

    return mcd_json_uint(st, "state");
}

/* Poll core @uid until it is in @state; return that state record. */
static QDict *wait_state(JsonTest *t, uint32_t uid, uint32_t state)
{
    QDict *st = NULL;
    int i;

    for (i = 0; i < POLL_TRIES; i++) {
        qobject_unref(st);
        st = core_state(t, uid);
        if (mcd_json_uint(st, "state") == state) {
            return st;
        }
        g_usleep(POLL_MS * 1000);
    }
    g_assert_cmpuint(mcd_json_uint(st, "state"), ==, state);
    return st;
}

static void run_ctl(JsonTest *t, const char *command, uint32_t uid,
                    bool global)
{
    g_autoptr(QDict) ret = ok(t, command, "{'core-uid': %u, 'global': %i}",
                              uid, global);
}

/* Let the whole guest run and count. */
static void guest_run(JsonTest *t)
{
    int i;

    run_ctl(t, "mcd-run", 1, true);
    for (i = 0; i < t->ncores; i++) {
        g_assert_true(moves(t, i));
    }
}

static void step(JsonTest *t, uint32_t uid, uint32_t n)
{
    g_autoptr(QDict) ret = ok(t, "mcd-step", "{'core-uid': %u, "
                              "'global': false, 'step-type': %u, "
                              "'n-steps': %u}", uid, STEP_INSTR, n);
}

/*
 * Triggers
 */

/* A simple core trigger of @type at @addr, @range as addr-range. */
static QDict *trig_simple(uint32_t type, uint64_t addr, uint64_t range)
{
    return qdict_from_jsonf_nofail(
        "{'trig-simple-core': {'type': %u, 'option': 0, 'action': %u, "
        "'action-param': 0, 'modified': false, 'state-mask': 0, "
        "'addr-start': {'address': %" PRIu64 ", 'mem-space-id': 2, "
        "'addr-space-id': 0, 'addr-space-type': 0}, "
        "'addr-range': %" PRIu64 "}}",
        type, TRIG_ACTION_DEBUG, addr, range);
}

static QDict *trig_complex(uint32_t type, uint64_t addr, uint64_t range)
{
    return qdict_from_jsonf_nofail(
        "{'trig-complex-core': {'type': %u, 'option': 0, 'action': %u, "
        "'action-param': 0, 'modified': false, 'state-mask': 0, "
        "'addr-start': {'address': %" PRIu64 ", 'mem-space-id': 2, "
        "'addr-space-id': 0, 'addr-space-type': 0}, "
        "'addr-range': %" PRIu64 ", 'data-start': 0, 'data-range': 0, "
        "'data-mask': 0, 'data-size': 0, 'hw-thread-id': 0, "
        "'sw-thread-id': 0, 'core-mode-mask': 0}}",
        type, TRIG_ACTION_DEBUG, addr, range);
}

/* The kind of trigger @trig is: its only member. */
static const char *trig_kind(QDict *trig)
{
    const QDictEntry *e = qdict_first(trig);

    g_assert_nonnull(e);
    g_assert_cmpuint(qdict_size(trig), ==, 1);
    return qdict_entry_key(e);
}

/* Create the trigger @trig (taken) on core @uid; return its id. */
static uint32_t trig_create(JsonTest *t, uint32_t uid, QDict *trig)
{
    g_autoptr(QDict) ret = ok(t, "mcd-create-trig",
                              "{'core-uid': %u, 'trig': %p}", uid,
                              qobject_ref(trig));
    QDict *echo = mcd_json_dict(ret, "trig");
    const char *kind = trig_kind(trig);
    QDict *sent = mcd_json_dict(trig, kind);
    QDict *got;
    uint32_t id = mcd_json_uint(ret, "trig-id");

    /* the trigger comes back as it was created, in the same variant */
    g_assert_cmpstr(trig_kind(echo), ==, kind);
    got = mcd_json_dict(echo, kind);
    g_assert_cmpuint(mcd_json_uint(got, "type"), ==,
                     mcd_json_uint(sent, "type"));
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(got, "addr-start"),
                                   "address"), ==,
                     mcd_json_uint(mcd_json_dict(sent, "addr-start"),
                                   "address"));
    g_assert_cmpuint(mcd_json_uint(got, "addr-range"), ==,
                     mcd_json_uint(sent, "addr-range"));
    qobject_unref(trig);
    return id;
}

static void trig_remove(JsonTest *t, uint32_t uid, uint32_t id)
{
    g_autoptr(QDict) ret = ok(t, "mcd-remove-trig",
                              "{'core-uid': %u, 'trig-id': %u}", uid, id);
}

/* The trigger ids of core @uid. */
static QList *trig_set(JsonTest *t, uint32_t uid)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-trig-set",
                              "{'core-uid': %u, 'start-index': 0, "
                              "'num-trigs': 0}", uid);
    uint32_t n = mcd_json_uint(ret, "num-trigs");
    QList *ids;

    if (!n) {
        return qlist_new();
    }
    qobject_unref(ret);
    ret = ok(t, "mcd-qry-trig-set", "{'core-uid': %u, 'start-index': 0, "
             "'num-trigs': %u}", uid, n);
    g_assert_cmpuint(mcd_json_uint(ret, "num-trigs"), ==, n);
    ids = mcd_json_list(ret, "trig-ids");
    g_assert_cmpuint(qlist_size(ids), ==, n);
    return qobject_ref(ids);
}

static uint32_t trig_count(JsonTest *t, uint32_t uid)
{
    g_autoptr(QList) ids = trig_set(t, uid);

    return qlist_size(ids);
}

/* Whether trigger @id of core @uid has hit, as sampled now. */
static bool trig_captured(JsonTest *t, uint32_t uid, uint32_t id)
{
    g_autoptr(QDict) ret = ok(t, "mcd-qry-trig-set-state",
                              "{'core-uid': %u}", uid);
    QDict *st;

    g_assert_nonnull(mcd_json_dict(ret, "trig-state"));
    qobject_unref(ret);
    ret = ok(t, "mcd-qry-trig-state", "{'core-uid': %u, 'trig-id': %u}",
             uid, id);
    st = mcd_json_dict(ret, "trig-state");
    g_assert_cmpuint(qdict_size(st), ==, 5);
    return qdict_get_bool(st, "captured");
}

/*
 * The tests
 */

/* The machine's name: its QOM type without "-machine". */
static char *machine_name(JsonTest *t)
{
    QDict *rsp = qtest_qmp(t->qts, "{ 'execute': 'qom-get', 'arguments': "
                           "{ 'path': '/machine', 'property': 'type' } }");
    const char *type = qdict_get_str(rsp, "return");
    char *name;

    g_assert_true(g_str_has_suffix(type, "-machine"));
    name = g_strndup(type, strlen(type) - strlen("-machine"));
    qobject_unref(rsp);
    return name;
}

/* The root memory region of each address space, from "info mtree". */
static GHashTable *as_roots(JsonTest *t)
{
    g_autofree char *mtree = qtest_hmp(t->qts, "info mtree");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GHashTable *roots = g_hash_table_new_full(g_str_hash, g_str_equal,
                                              g_free, g_free);
    size_t i, j;

    for (i = 0; lines[i]; i++) {
        const char *root;

        if (g_str_has_prefix(lines[i], "address-space: ")) {
            /* address spaces with the same root are listed together */
            g_ptr_array_add(names, g_strstrip(g_strdup(lines[i] +
                                              strlen("address-space: "))));
            continue;
        }
        root = strstr(lines[i], "): ");
        if (!names->len || !root) {
            continue;
        }
        for (j = 0; j < names->len; j++) {
            g_hash_table_insert(roots, g_strdup(names->pdata[j]),
                                g_strstrip(g_strdup(root + 3)));
        }
        g_ptr_array_set_size(names, 0);
    }
    return roots;
}

/* The memory spaces of the arm target, exactly. */
static const struct {
    const char *name;
    uint32_t type;
} spaces_arm_secure[] = {
    { "system", MEM_PHYSICAL },
    { "cpu-memory-0", MEM_LOGICAL },
    { "secure-memory", MEM_PHYSICAL | MEM_SECURE },
    { "cpu-secure-memory-0", MEM_LOGICAL | MEM_SECURE },
    { "GDB Registers", MEM_REGISTERS },
}, spaces_arm_plain[] = {
    { "system", MEM_PHYSICAL },
    { "cpu-memory-0", MEM_LOGICAL },
    { "GDB Registers", MEM_REGISTERS },
};

/*
 * For each address space of the CPU a physical space named after its
 * root memory region and a logical space named after the address space,
 * the secure ones flagged, then "GDB Registers".
 */
static void check_spaces(JsonTest *t)
{
    g_autoptr(GHashTable) roots = as_roots(t);
    g_autoptr(QList) page = NULL;
    uint32_t n = qlist_size(t->spaces);
    bool secure_seen = false;
    uint32_t i, j;

    for (i = 0; i < n; i++) {
        QDict *ms = mcd_json_list_dict(t->spaces, i);

        g_test_message("memory space %u: %s, type 0x%x",
                       (unsigned)mcd_json_uint(ms, "mem-space-id"),
                       mcd_json_str(ms, "mem-space-name"),
                       (unsigned)mcd_json_uint(ms, "mem-type"));
        g_assert_cmpuint(qdict_size(ms), ==, ARRAY_SIZE(memspace_members));
        for (j = 0; j < ARRAY_SIZE(memspace_members); j++) {
            g_assert_true(qdict_haskey(ms, memspace_members[j]));
        }
        g_assert_cmpuint(mcd_json_uint(ms, "mem-space-id"), ==, i + 1);
    }

    if (!t->aa64) {
        size_t count = t->secure ? ARRAY_SIZE(spaces_arm_secure)
                                 : ARRAY_SIZE(spaces_arm_plain);

        g_assert_cmpuint(n, ==, count);
        for (i = 0; i < n; i++) {
            QDict *ms = mcd_json_list_dict(t->spaces, i);
            const char *name = t->secure ? spaces_arm_secure[i].name
                                         : spaces_arm_plain[i].name;
            uint32_t type = t->secure ? spaces_arm_secure[i].type
                                      : spaces_arm_plain[i].type;

            g_assert_cmpstr(mcd_json_str(ms, "mem-space-name"), ==, name);
            g_assert_cmphex(mcd_json_uint(ms, "mem-type"), ==, type);
        }
    }

    /* the rule, on both targets */
    g_assert_cmpuint(n % 2, ==, 1);
    g_assert_cmpuint(n, >=, 3);
    for (i = 0; i + 1 < n; i += 2) {
        QDict *phys = mcd_json_list_dict(t->spaces, i);
        QDict *log = mcd_json_list_dict(t->spaces, i + 1);
        uint32_t ptype = mcd_json_uint(phys, "mem-type");
        uint32_t ltype = mcd_json_uint(log, "mem-type");
        const char *as = mcd_json_str(log, "mem-space-name");
        const char *root = g_hash_table_lookup(roots, as);

        g_assert_cmphex(ptype & ~MEM_SECURE, ==, MEM_PHYSICAL);
        g_assert_cmphex(ltype & ~MEM_SECURE, ==, MEM_LOGICAL);
        g_assert_cmphex(ptype & MEM_SECURE, ==, ltype & MEM_SECURE);
        /* the logical space is an address space of QEMU's */
        if (!root) {
            g_test_message("no address space %s in info mtree", as);
        }
        g_assert_nonnull(root);
        g_assert_cmpstr(mcd_json_str(phys, "mem-space-name"), ==, root);
        secure_seen |= ltype & MEM_SECURE;
    }
    g_assert_cmpint(secure_seen, ==, t->secure);
    g_assert_cmpstr(mcd_json_str(mcd_json_list_dict(t->spaces, n - 1),
                                 "mem-space-name"), ==, "GDB Registers");
    g_assert_cmphex(mcd_json_uint(mcd_json_list_dict(t->spaces, n - 1),
                                  "mem-type"), ==, MEM_REGISTERS);

    /* a page from the middle of the list */
    page = mem_spaces(t, 1, 1, 1);
    g_assert_cmpuint(qlist_size(page), ==, 1);
    g_assert_cmpuint(mcd_json_uint(mcd_json_list_dict(page, 0),
                                   "mem-space-id"), ==, 2);
}

/* One register group per gdb feature; the core registers' map. */
static void check_registers_model(JsonTest *t)
{
    const char *core_feature = t->aa64 ? "org.gnu.gdb.aarch64.core"
                                       : "org.gnu.gdb.arm.core";
    const char *r1 = t->aa64 ? "x1" : "r1";
    g_autoptr(QList) groups = NULL;
    g_autoptr(QList) core_regs = NULL;
    g_autoptr(QList) page = NULL;
    g_autoptr(GHashTable) addrs = g_hash_table_new(NULL, NULL);
    const QListEntry *e;
    uint32_t ngroups, total = 0, i;
    QDict *core_group, *reg;
    uint32_t core_id;

    ngroups = reg_group_count(t, 1);
    groups = reg_groups(t, 1, ngroups);
    g_assert_cmpuint(qlist_size(groups), ==, ngroups);
    for (i = 0; i < ngroups; i++) {
        QDict *g = mcd_json_list_dict(groups, i);

        g_test_message("register group %u: %s, %u registers",
                       (unsigned)mcd_json_uint(g, "reg-group-id"),
                       mcd_json_str(g, "reg-group-name"),
                       (unsigned)mcd_json_uint(g, "n-registers"));
        g_assert_cmpuint(mcd_json_uint(g, "reg-group-id"), ==, i + 1);
        g_assert_true(g_str_has_prefix(mcd_json_str(g, "reg-group-name"),
                                       "org."));
        g_assert_cmpuint(reg_count(t, 1, i + 1), ==,
                         mcd_json_uint(g, "n-registers"));
        total += mcd_json_uint(g, "n-registers");
    }
    core_group = find_named(groups, "reg-group-name", core_feature);
    g_assert_nonnull(core_group);
    core_id = mcd_json_uint(core_group, "reg-group-id");

    /* group 0 is every register, each once, all in "GDB Registers" */
    g_assert_cmpuint(reg_count(t, 1, 0), ==, total);
    g_assert_cmpuint(qlist_size(t->regs), ==, total);
    QLIST_FOREACH_ENTRY(t->regs, e) {
        QDict *r = qobject_to(QDict, qlist_entry_obj(e));
        QDict *addr = mcd_json_dict(r, "addr");
        uint64_t a = mcd_json_uint(addr, "address");

        g_assert_cmpuint(qdict_size(r), ==, 10);
        g_assert_cmpuint(mcd_json_uint(addr, "mem-space-id"), ==,
                         t->regs_space);
        g_assert_false(g_hash_table_contains(addrs, GUINT_TO_POINTER(a)));
        g_hash_table_add(addrs, GUINT_TO_POINTER(a));
        g_assert_cmpuint(mcd_json_uint(r, "regsize"), >, 0);
    }

    /* the core registers: gdb numbers and sizes */
    core_regs = reg_map(t, 1, core_id, 0,
                        mcd_json_uint(core_group, "n-registers"));
    QLIST_FOREACH_ENTRY(core_regs, e) {
        QDict *r = qobject_to(QDict, qlist_entry_obj(e));

        g_assert_cmpuint(mcd_json_uint(r, "reg-group-id"), ==, core_id);
    }
    reg = find_named(core_regs, "regname", r0_name(t));
    g_assert_nonnull(reg);
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(reg, "addr"), "address"),
                     ==, 0);
    g_assert_cmpuint(mcd_json_uint(reg, "regsize"), ==, t->aa64 ? 64 : 32);
    reg = find_named(core_regs, "regname", "pc");
    g_assert_nonnull(reg);
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(reg, "addr"), "address"),
                     ==, t->aa64 ? 32 : 15);
    g_assert_cmpuint(mcd_json_uint(reg, "regsize"), ==, t->aa64 ? 64 : 32);
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(reg, "addr"),
                                   "mem-space-id"), ==, t->regs_space);
    reg = find_named(core_regs, "regname", "cpsr");
    g_assert_nonnull(reg);
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(reg, "addr"), "address"),
                     ==, t->aa64 ? 33 : 25);
    g_assert_cmpuint(mcd_json_uint(reg, "regsize"), ==, 32);

    /* a page: the second register of the group */
    page = reg_map(t, 1, core_id, 1, 1);
    g_assert_cmpuint(qlist_size(page), ==, 1);
    g_assert_cmpstr(mcd_json_str(mcd_json_list_dict(page, 0), "regname"),
                    ==, r1);
}

/* The whole model, from mcd-initialize to mcd-close-server. */
static void check_discovery(bool secure)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;
    g_autoptr(QDict) sys = NULL;
    g_autoptr(QDict) dev = NULL;
    g_autoptr(QList) list = NULL;
    g_autofree char *machine = NULL;
    g_autofree char *cpu_type = g_strdup_printf("%s-arm-cpu", cpu_model());
    QDict *impl, *info;
    int ncores = secure ? 2 : 1;
    int i;

    json_start(&t, secure, ncores);
    machine = machine_name(&t);

    /* the version of the API */
    ret = ok(&t, "mcd-initialize", "{'version-req': {'v-api-major': 1, "
             "'v-api-minor': 1, 'author': 'test'}}");
    impl = mcd_json_dict(ret, "impl-info");
    g_assert_cmpstr(mcd_json_str(impl, "vendor"), ==, "QEMU");
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(impl, "v-api"),
                                   "v-api-major"), ==, 1);
    check_error(&t, 0, ERR_NONE);
    fail(&t, 0, ERR_GENERAL, "mcd-initialize", "{'version-req': "
         "{'v-api-major': 2, 'v-api-minor': 0, 'author': 'test'}}");

    /* the server */
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-servers", "{'host': '', 'running': true, "
             "'start-index': 0, 'num-servers': 0}");
    g_assert_cmpuint(mcd_json_uint(ret, "num-servers"), ==, 1);
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-servers", "{'host': '', 'running': true, "
             "'start-index': 0, 'num-servers': 1}");
    g_assert_cmpuint(mcd_json_uint(ret, "num-servers"), ==, 1);
    list = qobject_ref(mcd_json_list(ret, "server-info"));
    g_assert_cmpuint(qlist_size(list), ==, 1);
    g_assert_cmpstr(mcd_json_str(mcd_json_list_dict(list, 0), "server"), ==,
                    "QEMU");
    qobject_unref(ret);
    ret = ok(&t, "mcd-open-server", "{'system-key': '', 'config-string': ''}");
    t.server_uid = mcd_json_uint(ret, "server-uid");
    g_assert_cmpuint(t.server_uid, >, 0);
    fail(&t, 0, ERR_CONNECTION, "mcd-open-server",
         "{'system-key': '', 'config-string': ''}");

    /* the system and its device, the machine */
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-systems", "{'start-index': 0, 'num-systems': 0}");
    g_assert_cmpuint(mcd_json_uint(ret, "num-systems"), ==, 1);
    sys = system_con(&t);
    g_assert_cmpuint(qdict_size(sys), ==, 14);
    g_test_message("system: %s", mcd_json_str(sys, "system"));
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-devices", "{'system-con-info': %p, "
             "'start-index': 0, 'num-devices': 0}", qobject_ref(sys));
    g_assert_cmpuint(mcd_json_uint(ret, "num-devices"), ==, 1);
    dev = device_con(&t, sys);
    g_test_message("device: %s", mcd_json_str(dev, "device"));
    g_assert_true(g_str_equal(mcd_json_str(dev, "device"), machine) ||
                  g_str_equal(mcd_json_str(dev, "device"), "virt"));
    g_assert_cmpstr(mcd_json_str(dev, "system"), ==,
                    mcd_json_str(sys, "system"));

    /* the cores: one per vCPU */
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-cores", "{'connection-info': %p, "
             "'start-index': 0, 'num-cores': 0}", qobject_ref(dev));
    g_assert_cmpuint(mcd_json_uint(ret, "num-cores"), ==, ncores);
    t.cores = core_cons(&t, dev, 0, ncores);
    g_assert_cmpuint(qlist_size(t.cores), ==, ncores);
    for (i = 0; i < ncores; i++) {
        QDict *con = mcd_json_list_dict(t.cores, i);

        g_assert_cmpuint(qdict_size(con), ==, 14);
        g_assert_cmpuint(mcd_json_uint(con, "core-id"), ==, i);
        g_assert_cmpstr(mcd_json_str(con, "core"), ==, cpu_type);
        g_assert_cmpstr(mcd_json_str(con, "device"), ==,
                        mcd_json_str(dev, "device"));
    }
    if (ncores > 1) {
        g_autoptr(QList) page = core_cons(&t, dev, 1, 1);

        g_assert_cmpuint(qlist_size(page), ==, 1);
        g_assert_cmpuint(mcd_json_uint(mcd_json_list_dict(page, 0),
                                       "core-id"), ==, 1);
    }

    /* open each core: core-uid is core-id + 1 */
    for (i = 0; i < ncores; i++) {
        QDict *con = mcd_json_list_dict(t.cores, i);

        qobject_unref(ret);
        ret = ok(&t, "mcd-open-core", "{'core-con-info': %p}",
                 qobject_ref(con));
        g_assert_cmpuint(mcd_json_uint(ret, "core-uid"), ==, i + 1);
        g_assert_true(qobject_is_equal(QOBJECT(mcd_json_dict(ret,
                                                             "core-con-info")),
                                       QOBJECT(con)));
    }
    fail(&t, 0, ERR_ANY, "mcd-open-core", "{'core-con-info': %p}",
         qobject_ref(mcd_json_list_dict(t.cores, 0)));

    /* the memory spaces and registers of the first core */
    t.spaces = mem_spaces(&t, 1, 0, mem_space_count(&t, 1));
    t.regs_space = space_id(&t, "GDB Registers");
    t.regs = reg_map(&t, 1, 0, 0, reg_count(&t, 1, 0));
    check_spaces(&t);
    check_registers_model(&t);

    /* every core has the same lists */
    if (ncores > 1) {
        g_autoptr(QList) spaces2 = mem_spaces(&t, 2, 0,
                                              qlist_size(t.spaces));

        g_assert_cmpuint(qlist_size(spaces2), ==, qlist_size(t.spaces));
        g_assert_cmpuint(reg_count(&t, 2, 0), ==, qlist_size(t.regs));
    }

    /* a VM started with -S is in the debugger's hands */
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);

    /* close everything; a closed core is gone */
    for (i = 0; i < ncores; i++) {
        qobject_unref(ret);
        ret = ok(&t, "mcd-close-core", "{'core-uid': %u}", i + 1);
    }
    fail(&t, 0, ERR_ANY, "mcd-qry-state", "{'core-uid': %u}", 1);
    qobject_unref(ret);
    ret = ok(&t, "mcd-close-server", "{'server-uid': %u}", t.server_uid);

    /* and it opens again */
    qobject_unref(ret);
    ret = ok(&t, "mcd-open-server", "{'system-key': '', 'config-string': ''}");
    info = mcd_json_list_dict(t.cores, 0);
    qobject_unref(ret);
    ret = ok(&t, "mcd-open-core", "{'core-con-info': %p}", qobject_ref(info));
    g_assert_cmpuint(mcd_json_uint(ret, "core-uid"), ==, 1);

    /* mcd-exit closes all: the server opens again */
    qobject_unref(ret);
    ret = mcd_json_execf(t.fd, "mcd-exit", NULL);
    mcd_json_return(ret);
    qobject_unref(ret);
    ret = ok(&t, "mcd-open-server", "{'system-key': '', 'config-string': ''}");
    json_end(&t);
}

static void test_discovery(void)
{
    check_discovery(true);
}

static void test_discovery_plain(void)
{
    check_discovery(false);
}

/* Fill @buf with a pattern that differs for each @seed. */
static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (i * 7 + seed * 31 + 1) & 0xff;
    }
}

/* Memory in each space, the failures, registers. */
static void test_memory(void)
{
    static const char *const spaces[] = {
        "system", "cpu-memory-0", "secure-memory", "cpu-secure-memory-0",
    };
    JsonTest t = { 0 };
    uint8_t buf[112], got[112], ram[56];
    g_autofree uint8_t *big = g_malloc(TX_MAX_READ + 1);
    uint32_t sys, secure_phys, secure_log;
    QList *txs;
    g_autoptr(QDict) ret = NULL;
    QDict *txlist, *tx;
    size_t i;

    json_start(&t, true, 1);
    session_open(&t);
    guest_run(&t);
    sys = space_id(&t, "system");
    secure_phys = space_id(&t, "secure-memory");
    secure_log = space_id(&t, "cpu-secure-memory-0");

    /* each memory space, while the guest runs */
    for (i = 0; i < ARRAY_SIZE(spaces); i++) {
        uint32_t id = space_id(&t, spaces[i]);
        uint64_t addr = SCRATCH + 16 * i;

        pattern(buf, 8, i);
        g_assert_true(mem_write(&t, id, addr, buf, 8));
        check_error(&t, 1, ERR_NONE);
        memset(got, 0, sizeof(got));
        g_assert_true(mem_read(&t, id, addr, got, 8));
        g_assert_cmpmem(got, 8, buf, 8);
        qtest_memread(t.qts, addr, got, 8);
        g_assert_cmpmem(got, 8, buf, 8);
        /* and what the other spaces see there: RAM is RAM */
        g_assert_true(mem_read(&t, sys, addr, got, 8));
        g_assert_cmpmem(got, 8, buf, 8);
    }

    /* secure-only RAM: through the secure spaces only */
    pattern(buf, 8, 9);
    g_assert_false(mem_read(&t, sys, SECURE_RAM, got, 4));
    check_error(&t, 1, ERR_TXLIST_READ);
    g_assert_false(mem_write(&t, sys, SECURE_RAM, buf, 4));
    check_error(&t, 1, ERR_TXLIST_WRITE);
    g_assert_true(mem_write(&t, secure_phys, SECURE_RAM, buf, 8));
    g_assert_true(mem_read(&t, secure_phys, SECURE_RAM, got, 8));
    g_assert_cmpmem(got, 8, buf, 8);
    g_assert_true(mem_read(&t, secure_log, SECURE_RAM, got, 8));
    g_assert_cmpmem(got, 8, buf, 8);

    /* 112 bytes in one access; or across a hole: all or nothing */
    pattern(buf, sizeof(buf), 3);
    g_assert_true(tx1(&t, 1, sys, SCRATCH, TX_WRITE, 112, buf, 112));
    memset(got, 0, sizeof(got));
    g_assert_true(tx1(&t, 1, sys, SCRATCH, TX_READ, 112, got, 112));
    g_assert_cmpmem(got, 112, buf, 112);
    g_assert_false(mem_read(&t, secure_phys, SECURE_RAM - 56, got, 112));
    check_error(&t, 1, ERR_TXLIST_READ);
    g_assert_false(mem_read(&t, sys, RAM_END - 56, got, 112));
    check_error(&t, 1, ERR_TXLIST_READ);
    qtest_memread(t.qts, RAM_END - 56, ram, sizeof(ram));
    g_assert_false(mem_write(&t, sys, RAM_END - 56, buf, 112));
    check_error(&t, 1, ERR_TXLIST_WRITE);
    qtest_memread(t.qts, RAM_END - 56, got, sizeof(ram));
    g_assert_cmpmem(got, sizeof(ram), ram, sizeof(ram));
    /* the access width must divide the size */
    g_assert_false(tx1(&t, 1, sys, SCRATCH, TX_READ, 4, got, 6));
    check_error(&t, 1, ERR_ANY);

    /* the largest read, and one byte more */
    pattern(big, TX_MAX_READ, 5);
    qtest_memwrite(t.qts, SCRATCH, big, TX_MAX_READ);
    memset(big, 0, TX_MAX_READ);
    g_assert_true(mem_read(&t, sys, SCRATCH, big, TX_MAX_READ));
    pattern(buf, sizeof(buf), 5);
    g_assert_cmpmem(big, sizeof(buf), buf, sizeof(buf));
    g_assert_cmpuint(big[TX_MAX_READ - 1], ==,
                     ((TX_MAX_READ - 1) * 7 + 5 * 31 + 1) & 0xff);
    g_assert_false(tx1(&t, 1, sys, SCRATCH, TX_READ, 1, big,
                       TX_MAX_READ + 1));
    check_error(&t, 1, ERR_ANY);

    /* a write and a read in one list */
    pattern(buf, 4, 7);
    txs = qlist_new();
    qlist_append(txs, tx_new(sys, SCRATCH + 0x100, TX_WRITE, 4, buf, 4));
    qlist_append(txs, tx_new(sys, SCRATCH + 0x100, TX_READ, 4, NULL, 4));
    ret = txlist_exec(&t, 1, txs);
    g_assert_cmpuint(status_of(ret), ==, RET_ACT_NONE);
    txlist = mcd_json_dict(ret, "txlist");
    g_assert_cmpuint(mcd_json_uint(txlist, "num-tx-ok"), ==, 2);
    tx = mcd_json_list_dict(mcd_json_list(txlist, "tx"), 1);
    g_assert_cmpuint(mcd_json_uint(tx, "num-bytes-ok"), ==, 4);
    tx_data(tx, got, 4);
    g_assert_cmpmem(got, 4, buf, 4);
    qtest_memread(t.qts, SCRATCH + 0x100, got, 4);
    g_assert_cmpmem(got, 4, buf, 4);

    /* registers: the guest's r0 (x0), written, and the guest sees it */
    run_ctl(&t, "mcd-stop", 1, true);
    g_assert_true(stays(&t, 0));
    g_assert_cmphex(reg_read(&t, 1, r0_name(&t)), ==, GUEST_R0);
    g_assert_cmphex(read_pc(&t, 1), >=, LOOP);
    g_assert_cmphex(read_pc(&t, 1), <, LOOP + 5 * 4);
    reg_write(&t, 1, r0_name(&t), 0x5a5a1234);
    check_error(&t, 1, ERR_NONE);
    g_assert_cmphex(reg_read(&t, 1, r0_name(&t)), ==, 0x5a5a1234);
    guest_run(&t);
    g_assert_true(counts(&t, 0, 2));
    g_assert_cmphex(qtest_readl(t.qts, COUNTERS + 8), ==, 0x5a5a1234);
    json_end(&t);
}

/* Run and stop of all cores and of one, steps. */
static void test_run_control(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;

    json_start(&t, true, 2);
    session_open(&t);

    /* -S: both cores in the debugger's hands before their first run */
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    g_assert_cmpuint(state_of(&t, 2), ==, STATE_DEBUG);
    g_assert_cmpuint(counter(&t, 0), ==, 0);
    ret = ok(&t, "mcd-set-global", "{'core-uid': 1, 'enable': true}");
    qobject_unref(ret);
    ret = ok(&t, "mcd-set-global", "{'core-uid': 2, 'enable': true}");

    /* a global run */
    guest_run(&t);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    g_assert_cmpuint(state_of(&t, 2), ==, STATE_RUNNING);

    /* a stop of core 2 alone */
    run_ctl(&t, "mcd-stop", 2, false);
    g_assert_cmpuint(state_of(&t, 2), ==, STATE_DEBUG);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    g_assert_true(stays(&t, 1));
    g_assert_true(moves(&t, 0));
    check_vm_running(&t);

    /* and a run of core 2 alone */
    run_ctl(&t, "mcd-run", 2, false);
    g_assert_cmpuint(state_of(&t, 2), ==, STATE_RUNNING);
    g_assert_true(moves(&t, 1));

    /* a global stop */
    run_ctl(&t, "mcd-stop", 1, true);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    g_assert_cmpuint(state_of(&t, 2), ==, STATE_DEBUG);
    g_assert_true(stays(&t, 0));
    g_assert_true(stays(&t, 1));

    /* steps: the PC has moved when the reply comes */
    reg_write(&t, 1, "pc", LOOP);
    step(&t, 1, 3);
    g_assert_cmphex(read_pc(&t, 1), ==, LOOP + 12);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    step(&t, 1, 1);
    g_assert_cmphex(read_pc(&t, 1), ==, LOOP + 16);
    step(&t, 1, 1);
    g_assert_cmphex(read_pc(&t, 1), ==, LOOP);
    g_assert_true(stays(&t, 1));

    /* a running core cannot step */
    run_ctl(&t, "mcd-run", 1, false);
    g_assert_true(moves(&t, 0));
    g_assert_true(stays(&t, 1));
    fail(&t, 1, ERR_ANY, "mcd-step", "{'core-uid': 1, 'global': false, "
         "'step-type': %u, 'n-steps': 1}", STEP_INSTR);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);

    /* everything runs again */
    guest_run(&t);
    check_vm_running(&t);
    json_end(&t);
}

/* Breakpoints and watchpoints hit; their state and kind. */
static void test_triggers(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;
    g_autoptr(QDict) st = NULL;
    g_autoptr(QList) ids = NULL;
    QDict *info, *trig;
    uint32_t bp, wp, cx;
    int i;

    json_start(&t, true, 1);
    session_open(&t);
    guest_run(&t);

    ret = ok(&t, "mcd-qry-trig-info", "{'core-uid': 1}");
    info = mcd_json_dict(ret, "trig-info");
    g_assert_cmphex(mcd_json_uint(info, "type"), ==, 0xf);
    g_assert_cmpuint(mcd_json_uint(info, "trig-number"), ==, 16);
    g_assert_cmpuint(trig_count(&t, 1), ==, 0);

    /* a breakpoint, set while the core runs */
    bp = trig_create(&t, 1, trig_simple(TRIG_IP, LOOP + 4, 0));
    g_assert_cmpuint(bp, ==, 1);
    st = wait_state(&t, 1, STATE_DEBUG);
    g_test_message("stop: %s", mcd_json_str(st, "stop-str"));
    g_assert_cmpuint(mcd_json_uint(st, "trig-id"), ==, bp);
    g_assert_cmphex(read_pc(&t, 1), ==, LOOP + 4);
    g_assert_true(stays(&t, 0));
    g_assert_true(trig_captured(&t, 1, bp));
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-trig", "{'core-uid': 1, 'trig-id': %u}", bp);
    trig = mcd_json_dict(ret, "trig");
    g_assert_cmpstr(trig_kind(trig), ==, "trig-simple-core");
    g_assert_cmphex(mcd_json_uint(mcd_json_dict(mcd_json_dict(trig,
                                                 "trig-simple-core"),
                                                 "addr-start"), "address"),
                    ==, LOOP + 4);
    ids = trig_set(&t, 1);
    g_assert_cmpuint(qlist_size(ids), ==, 1);
    g_assert_cmpuint(qnum_get_uint(qobject_to(QNum, qlist_peek(ids))), ==,
                     bp);

    /* a write watchpoint on the counter: the store completes */
    wp = trig_create(&t, 1, trig_simple(TRIG_WRITE, COUNTERS, 4));
    g_assert_cmpuint(wp, ==, 2);
    g_assert_cmpuint(trig_count(&t, 1), ==, 2);
    trig_remove(&t, 1, bp);
    g_assert_cmpuint(trig_count(&t, 1), ==, 1);
    g_assert_false(trig_captured(&t, 1, wp));
    run_ctl(&t, "mcd-run", 1, true);
    qobject_unref(st);
    st = wait_state(&t, 1, STATE_DEBUG);
    g_test_message("stop: %s", mcd_json_str(st, "stop-str"));
    g_assert_cmpuint(mcd_json_uint(st, "trig-id"), ==, wp);
    g_assert_cmphex(read_pc(&t, 1), ==, LOOP + 12);
    g_assert_true(trig_captured(&t, 1, wp));
    qobject_unref(ret);
    ret = ok(&t, "mcd-remove-trig-set", "{'core-uid': 1}");
    g_assert_cmpuint(trig_count(&t, 1), ==, 0);

    /* a complex trigger stays one */
    cx = trig_create(&t, 1, trig_complex(TRIG_IP, LOOP + 4, 0));
    g_assert_cmpuint(cx, >, 0);
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-trig", "{'core-uid': 1, 'trig-id': %u}", cx);
    g_assert_cmpstr(trig_kind(mcd_json_dict(ret, "trig")), ==,
                    "trig-complex-core");
    qobject_unref(ret);
    ret = ok(&t, "mcd-activate-trig-set", "{'core-uid': 1}");
    run_ctl(&t, "mcd-run", 1, true);
    qobject_unref(st);
    st = wait_state(&t, 1, STATE_DEBUG);
    g_assert_cmpuint(mcd_json_uint(st, "trig-id"), ==, cx);
    g_assert_cmphex(read_pc(&t, 1), ==, LOOP + 4);
    trig_remove(&t, 1, cx);
    fail(&t, 1, ERR_ANY, "mcd-remove-trig",
         "{'core-uid': 1, 'trig-id': %u}", cx);

    /* 16 triggers a core; the 17th is refused */
    for (i = 0; i < 16; i++) {
        g_assert_cmpuint(trig_create(&t, 1, trig_simple(TRIG_IP,
                                                        SCRATCH + 4 * i, 0)),
                         >, 0);
    }
    fail(&t, 1, ERR_ANY, "mcd-create-trig", "{'core-uid': 1, 'trig': %p}",
         trig_simple(TRIG_IP, SCRATCH + 4 * 16, 0));
    g_assert_cmpuint(trig_count(&t, 1), ==, 16);
    qobject_unref(ret);
    ret = ok(&t, "mcd-remove-trig-set", "{'core-uid': 1}");
    g_assert_cmpuint(trig_count(&t, 1), ==, 0);

    /* nothing stops the guest any more */
    guest_run(&t);
    g_assert_true(counts(&t, 0, 1000));
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    check_vm_running(&t);
    json_end(&t);
}

/* Reset classes; system and core reset, with halt and without. */
static void test_reset(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;
    QDict *info;
    int i;

    json_start(&t, true, 1);
    session_open(&t);
    guest_run(&t);

    ret = ok(&t, "mcd-qry-rst-classes", "{'core-uid': 1}");
    g_assert_cmphex(mcd_json_uint(ret, "rst-class-vector"), ==, 3);
    for (i = 0; i < 2; i++) {
        qobject_unref(ret);
        ret = ok(&t, "mcd-qry-rst-class-info",
                 "{'core-uid': 1, 'rst-class': %d}", i);
        info = mcd_json_dict(ret, "rst-info");
        g_test_message("reset class %d: %s", i,
                       mcd_json_str(info, "info-str"));
        g_assert_cmphex(mcd_json_uint(info, "class-vector"), ==, 1 << i);
        g_assert_cmpstr(mcd_json_str(info, "info-str"), !=, "");
    }
    fail(&t, 1, ERR_ANY, "mcd-qry-rst-class-info",
         "{'core-uid': 1, 'rst-class': 2}");

    /* a system reset and halt: at the loader's entry, nothing executed */
    qobject_unref(ret);
    ret = ok(&t, "mcd-rst", "{'core-uid': 1, 'rst-class-vector': 1, "
             "'rst-and-halt': true}");
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    g_assert_cmphex(read_pc(&t, 1), ==, GUEST_BASE);
    g_assert_cmphex(reg_read(&t, 1, r0_name(&t)), ==, 0);
    g_assert_true(stays(&t, 0));

    /*
     * A system reset without halt: the guest starts again and gives r0
     * (x0) its value again.
     */
    guest_run(&t);
    run_ctl(&t, "mcd-stop", 1, true);
    reg_write(&t, 1, r0_name(&t), 0xdead);
    guest_run(&t);
    g_assert_true(counts(&t, 0, 2));
    g_assert_cmphex(qtest_readl(t.qts, COUNTERS + 8), ==, 0xdead);
    qobject_unref(ret);
    ret = ok(&t, "mcd-rst", "{'core-uid': 1, 'rst-class-vector': 1, "
             "'rst-and-halt': false}");
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    for (i = 0; i < POLL_TRIES; i++) {
        if (qtest_readl(t.qts, COUNTERS + 8) == GUEST_R0) {
            break;
        }
        g_usleep(POLL_MS * 1000);
    }
    g_assert_cmphex(qtest_readl(t.qts, COUNTERS + 8), ==, GUEST_R0);
    g_assert_true(moves(&t, 0));

    /* a core reset and halt: the CPU's own reset vector, 0 on virt */
    qobject_unref(ret);
    ret = ok(&t, "mcd-rst", "{'core-uid': 1, 'rst-class-vector': 2, "
             "'rst-and-halt': true}");
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    g_assert_cmphex(read_pc(&t, 1), ==, 0);
    g_assert_true(stays(&t, 0));
    fail(&t, 1, ERR_ANY, "mcd-rst", "{'core-uid': 1, "
         "'rst-class-vector': 4, 'rst-and-halt': true}");

    /* back to the guest */
    qobject_unref(ret);
    ret = ok(&t, "mcd-rst", "{'core-uid': 1, 'rst-class-vector': 1, "
             "'rst-and-halt': true}");
    g_assert_cmphex(read_pc(&t, 1), ==, GUEST_BASE);
    guest_run(&t);
    check_vm_running(&t);
    json_end(&t);
}

/*
 * mcd-qry-error-info after each kind of failure, at the server level
 * (core-uid 0) and on a core; after a success, no error.
 */
static void test_error_info(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;
    uint8_t buf[8] = { 0 };
    uint32_t sys;

    json_start(&t, true, 1);

    /* server level */
    fail(&t, 0, ERR_GENERAL, "mcd-initialize", "{'version-req': "
         "{'v-api-major': 2, 'v-api-minor': 0, 'author': 'test'}}");
    session_open(&t);
    check_error(&t, 0, ERR_NONE);
    fail(&t, 0, ERR_CONNECTION, "mcd-open-server",
         "{'system-key': '', 'config-string': ''}");
    ret = ok(&t, "mcd-qry-systems", "{'start-index': 0, 'num-systems': 0}");
    check_error(&t, 0, ERR_NONE);
    fail(&t, 0, ERR_ANY, "mcd-open-core", "{'core-con-info': %p}",
         qobject_ref(mcd_json_list_dict(t.cores, 0)));
    fail(&t, 0, ERR_ANY, "mcd-close-server", "{'server-uid': %u}",
         t.server_uid + 1);
    /* a core that is not open: no core to keep the error */
    fail(&t, 0, ERR_ANY, "mcd-qry-state", "{'core-uid': 7}");
    check_error(&t, 1, ERR_NONE);
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-systems", "{'start-index': 0, 'num-systems': 0}");
    check_error(&t, 0, ERR_NONE);

    /* core level */
    guest_run(&t);
    sys = space_id(&t, "system");
    g_assert_false(mem_read(&t, sys, SECURE_RAM, buf, 4));
    check_error(&t, 1, ERR_TXLIST_READ);
    g_assert_true(mem_read(&t, sys, SCRATCH, buf, 4));
    check_error(&t, 1, ERR_NONE);
    g_assert_false(mem_write(&t, sys, SECURE_RAM, buf, 4));
    check_error(&t, 1, ERR_TXLIST_WRITE);
    g_assert_false(mem_read(&t, 99, SCRATCH, buf, 4));
    check_error(&t, 1, ERR_ANY);
    /* the other level keeps its own */
    check_error(&t, 0, ERR_NONE);
    fail(&t, 1, ERR_ANY, "mcd-step", "{'core-uid': 1, 'global': false, "
         "'step-type': %u, 'n-steps': 1}", STEP_INSTR);
    fail(&t, 1, ERR_ANY, "mcd-qry-reg-map", "{'core-uid': 1, "
         "'reg-group-id': 999, 'start-index': 0, 'num-regs': 0}");
    fail(&t, 1, ERR_ANY, "mcd-rst", "{'core-uid': 1, "
         "'rst-class-vector': 8, 'rst-and-halt': false}");
    fail(&t, 1, ERR_ANY, "mcd-qry-trig", "{'core-uid': 1, 'trig-id': 5}");
    fail(&t, 1, ERR_ANY, "mcd-create-trig", "{'core-uid': 1, 'trig': %p}",
         trig_simple(0, LOOP, 0));
    qobject_unref(ret);
    ret = ok(&t, "mcd-qry-state", "{'core-uid': 1}");
    check_error(&t, 1, ERR_NONE);
    check_vm_running(&t);
    json_end(&t);
}

/*
 * A session outlives its connection for the grace period: a client that
 * reconnects in time goes on with it.
 */
static void test_grace_reconnect(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;
    g_autoptr(QList) ids = NULL;
    uint32_t bp;

    json_start(&t, true, 1);
    session_open(&t);
    guest_run(&t);
    run_ctl(&t, "mcd-stop", 1, false);
    bp = trig_create(&t, 1, trig_simple(TRIG_IP, LOOP + 4, 0));

    /* gone and back, without mcd-initialize or mcd-open-server */
    reconnect(&t);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    g_assert_true(stays(&t, 0));
    ids = trig_set(&t, 1);
    g_assert_cmpuint(qlist_size(ids), ==, 1);
    g_assert_cmpuint(qnum_get_uint(qobject_to(QNum, qlist_peek(ids))), ==,
                     bp);
    fail(&t, 0, ERR_CONNECTION, "mcd-open-server",
         "{'system-key': '', 'config-string': ''}");

    /* and it ends as it should */
    trig_remove(&t, 1, bp);
    guest_run(&t);
    ret = ok(&t, "mcd-close-core", "{'core-uid': 1}");
    qobject_unref(ret);
    ret = ok(&t, "mcd-close-server", "{'server-uid': %u}", t.server_uid);
    check_vm_running(&t);
    json_end(&t);
}

/*
 * After the grace period everything the session set is gone: triggers,
 * held cores, the open server and cores.
 */
static void test_grace_expired(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;
    int64_t closed;

    json_start_opts(&t, true, 2, ",session-grace=1");
    session_open(&t);
    guest_run(&t);
    run_ctl(&t, "mcd-stop", 1, true);
    /* trigger ids count per core */
    g_assert_cmpuint(trig_create(&t, 1, trig_simple(TRIG_IP, LOOP + 4, 0)),
                     ==, 1);
    g_assert_cmpuint(trig_create(&t, 2, trig_simple(TRIG_WRITE,
                                                    COUNTERS + 16, 4)),
                     ==, 1);
    close(t.fd);
    t.fd = -1;
    closed = g_get_monotonic_time();

    /* held until the grace period ends, then running, without a stop */
    g_assert_true(moves(&t, 0));
    g_assert_cmpint(g_get_monotonic_time() - closed, >=, 900 * 1000);
    g_assert_true(moves(&t, 1));
    g_assert_true(counts(&t, 0, 1000));
    g_assert_true(counts(&t, 1, 1000));
    check_vm_running(&t);

    /* the old core is not open any more; a new session starts afresh */
    reconnect(&t);
    fail(&t, 0, ERR_ANY, "mcd-qry-state", "{'core-uid': 1}");
    session_open(&t);
    g_assert_cmpuint(trig_count(&t, 1), ==, 0);
    g_assert_cmpuint(trig_count(&t, 2), ==, 0);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    g_assert_cmpuint(state_of(&t, 2), ==, STATE_RUNNING);
    ret = ok(&t, "mcd-close-server", "{'server-uid': %u}", t.server_uid);
    json_end(&t);
}

/*
 * One era-1 packet session: handshake, core 0, its state, a global go
 * if @go; detach.
 */
static void packet_session(JsonTest *t, bool go)
{
    g_autofree char *st = NULL;

    reconnect(t);
    mcd_drop_notifications();
    mcd_check_handshake(t->fd);
    mcd_check_ack_only(t->fd, "i0");
    st = mcd_query(t->fd, "qstate0");
    g_test_message("packet state: %s", st);
    g_assert_true(g_str_has_prefix(st, "state="));
    if (go) {
        mcd_check_ack_only(t->fd, "C1;0");
    }
    mcd_check_ack_only(t->fd, "D");
    close(t->fd);
    t->fd = -1;
}

/* Packet, JSON and packet clients, one after the other on one QEMU. */
static void test_packet_and_json(void)
{
    JsonTest t = { 0 };
    g_autoptr(QDict) ret = NULL;

    json_start(&t, false, 1);
    close(t.fd);
    t.fd = -1;

    packet_session(&t, true);
    g_assert_true(moves(&t, 0));

    /* a JSON client: a whole session */
    reconnect(&t);
    session_open(&t);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    run_ctl(&t, "mcd-stop", 1, true);
    g_assert_true(stays(&t, 0));
    guest_run(&t);
    ret = ok(&t, "mcd-close-core", "{'core-uid': 1}");
    qobject_unref(ret);
    ret = ok(&t, "mcd-close-server", "{'server-uid': %u}", t.server_uid);
    close(t.fd);
    t.fd = -1;

    packet_session(&t, true);
    g_assert_true(moves(&t, 0));

    /*
     * A JSON client that vanishes holding the core; the packet client
     * after it ends that session, and the next JSON client starts anew.
     */
    reconnect(&t);
    session_open(&t);
    run_ctl(&t, "mcd-stop", 1, true);
    trig_create(&t, 1, trig_simple(TRIG_IP, LOOP + 4, 0));
    close(t.fd);
    t.fd = -1;
    packet_session(&t, false);
    g_assert_true(counts(&t, 0, 1000));
    reconnect(&t);
    session_open(&t);
    g_assert_cmpuint(trig_count(&t, 1), ==, 0);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_RUNNING);
    check_vm_running(&t);
    json_end(&t);
}

/* Blanks first, requests back to back, a request byte by byte. */
static void test_framing(void)
{
    JsonTest t = { 0 };
    static const char servers[] = "{\"execute\":\"mcd-qry-servers\","
        "\"arguments\":{\"host\":\"\",\"running\":true,\"start-index\":0,"
        "\"num-servers\":0}}";
    static const char systems[] = "{\"execute\":\"mcd-qry-systems\","
        "\"arguments\":{\"start-index\":0,\"num-systems\":0}}";
    g_autofree char *two = g_strconcat(servers, systems, NULL);
    g_autoptr(QDict) reply = NULL;
    size_t i;

    json_start(&t, false, 1);

    /* white space before the first '{' */
    mcd_json_send(t.fd, "\r\n \t");
    mcd_json_send(t.fd, servers);
    reply = mcd_json_recv(t.fd);
    g_assert_cmpuint(mcd_json_uint(mcd_json_return(reply), "num-servers"),
                     ==, 1);
    qobject_unref(reply);
    session_open(&t);

    /* two requests in one write: two lines, in order */
    mcd_json_send(t.fd, two);
    reply = mcd_json_recv(t.fd);
    g_assert_cmpuint(mcd_json_uint(mcd_json_return(reply), "num-servers"),
                     ==, 1);
    qobject_unref(reply);
    reply = mcd_json_recv(t.fd);
    g_assert_cmpuint(mcd_json_uint(mcd_json_return(reply), "num-systems"),
                     ==, 1);
    qobject_unref(reply);

    /* one byte at a time */
    for (i = 0; i < strlen(systems); i++) {
        mcd_send_raw(t.fd, &systems[i], 1);
    }
    reply = mcd_json_recv(t.fd);
    g_assert_cmpuint(mcd_json_uint(mcd_json_return(reply), "num-systems"),
                     ==, 1);
    g_assert_cmpuint(state_of(&t, 1), ==, STATE_DEBUG);
    json_end(&t);
}

/* Send @text; its reply is one line of compact JSON. */
static void check_one_line_reply(JsonTest *t, const char *text)
{
    g_autofree char *line = NULL;
    QObject *obj;

    mcd_json_send(t->fd, text);
    line = mcd_json_recv_line(t->fd);
    g_test_message("reply: %.200s", line);
    obj = qobject_from_json(line, &error_abort);
    g_assert_nonnull(qobject_to(QDict, obj));
    qobject_unref(obj);
}

/*
 * Replies, results and errors alike, are one line of JSON each (written
 * by QEMU's JSON writer, as QMP's and the 2025 server's were, with a
 * blank after each ':' and ',').
 */
static void test_one_line_replies(void)
{
    JsonTest t = { 0 };

    json_start(&t, false, 1);
    check_one_line_reply(&t, "{\"execute\":\"mcd-qry-servers\","
                        "\"arguments\":{\"host\":\"\",\"running\":true,"
                        "\"start-index\":0,\"num-servers\":1}}");
    check_one_line_reply(&t, "{\"execute\":\"mcd-frobnicate\"}");
    json_end(&t);
}

/* A request that works whatever came before it. */
static const char probe[] = "{\"execute\":\"mcd-qry-state\","
    "\"arguments\":{\"core-uid\":1}}";

/*
 * Send the bad input @text, then a valid request: the first reply is an
 * error (QMP's {"error": ...}) or, with @either, an error or a failed MCD
 * call; the valid request is answered after it, and the guest still
 * runs.  Returns how many more error replies came in between.
 */
static int rejected(JsonTest *t, const char *text, bool either)
{
    g_autoptr(QDict) reply = NULL;
    QDict *ret;
    int extra = 0;

    mcd_json_send(t->fd, text);
    mcd_json_send(t->fd, probe);
    reply = mcd_json_recv(t->fd);
    if (qdict_haskey(reply, "error")) {
        QDict *err = mcd_json_dict(reply, "error");

        g_test_message("rejected: %s: %.200s", mcd_json_str(err, "class"),
                       mcd_json_str(err, "desc"));
        g_assert_false(qdict_haskey(reply, "return"));
    } else {
        if (!either) {
            g_autofree char *got = mcd_json_compact(QOBJECT(reply));

            g_test_message("not an error: %.200s", got);
        }
        g_assert_true(either);
        g_assert_cmpuint(status_of(mcd_json_return(reply)), ==,
                         RET_ACT_HANDLE_ERROR);
        g_test_message("failed MCD call");
    }
    for (;;) {
        qobject_unref(reply);
        reply = mcd_json_recv(t->fd);
        if (!qdict_haskey(reply, "error")) {
            break;
        }
        g_test_message("one more error: %.200s",
                       mcd_json_str(mcd_json_dict(reply, "error"), "desc"));
        extra++;
    }
    ret = mcd_json_return(reply);
    g_assert_cmpuint(status_of(ret), ==, RET_ACT_NONE);
    g_assert_cmpuint(mcd_json_uint(mcd_json_dict(ret, "state"), "state"), ==,
                     STATE_RUNNING);
    return extra;
}

/* Exactly one reply for @text, an error (or with @either, a failure). */
static void check_rejected(JsonTest *t, const char *text, bool either)
{
    g_assert_cmpint(rejected(t, text, either), ==, 0);
}

/* Start a guest that runs, with core 1 open. */
static void malformed_start(JsonTest *t)
{
    json_start(t, true, 1);
    session_open(t);
    guest_run(t);
}

static void malformed_end(JsonTest *t)
{
    g_assert_true(moves(t, 0));
    check_vm_running(t);
    json_end(t);
}

/* Bad input of every kind: an error each, and the session goes on. */
static void test_malformed(void)
{
    JsonTest t = { 0 };
    static const char head[] = "{\"execute\":\"mcd-qry-servers\","
        "\"arguments\":{\"host\":\"\",\"run";
    static const char tail[] = "ning\":true,\"start-index\":0,"
        "\"num-servers\":0}}";
    g_autoptr(QDict) reply = NULL;
    g_autoptr(GString) big = g_string_new(NULL);

    malformed_start(&t);

    /* a truncated object: nothing until it is complete */
    mcd_json_send(t.fd, head);
    mcd_json_check_silent(t.fd, 300);
    mcd_json_send(t.fd, tail);
    reply = mcd_json_recv(t.fd);
    g_assert_cmpuint(mcd_json_uint(mcd_json_return(reply), "num-servers"),
                     ==, 1);

    /* not JSON, not an object, not a command */
    check_rejected(&t, "@#!", false);
    check_rejected(&t, "[1,2]", false);
    check_rejected(&t, "\"mcd-qry-state\"", false);
    check_rejected(&t, "{}", false);
    check_rejected(&t, "{\"execute\":1}", false);
    check_rejected(&t, "{\"arguments\":{}}", false);
    check_rejected(&t, "{\"execute\":\"mcd-frobnicate\"}", false);
    check_rejected(&t, "{\"execute\":\"query-status\"}", false);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"execute\":"
                   "\"mcd-qry-state\"}", false);

    /* unknown members */
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                   "{\"core-uid\":1,\"bogus\":1}}", false);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                   "{\"core-uid\":1},\"bogus\":1}", false);

    /* wrong types and values, missing members */
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                   "{\"core-uid\":\"1\"}}", true);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                   "{\"core-uid\":-1}}", true);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                   "{\"core-uid\":4294967296}}", true);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                   "{\"core-uid\":1.5}}", true);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":[]}",
                   true);
    check_rejected(&t, "{\"execute\":\"mcd-qry-state\",\"arguments\":{}}",
                   true);
    check_rejected(&t, "{\"execute\":\"mcd-execute-txlist\",\"arguments\":"
                   "{\"core-uid\":1,\"txlist\":{\"tx\":[{\"addr\":1}],"
                   "\"num-tx\":1,\"num-tx-ok\":0}}}", true);
    check_rejected(&t, "{\"execute\":\"mcd-execute-txlist\",\"arguments\":"
                   "{\"core-uid\":1,\"txlist\":{\"tx\":[{\"addr\":"
                   "{\"address\":1073741824,\"mem-space-id\":1,"
                   "\"addr-space-id\":0,\"addr-space-type\":0},"
                   "\"access-type\":1,\"options\":0,\"access-width\":4,"
                   "\"core-mode\":0,\"data\":[256,-1],\"num-bytes\":4,"
                   "\"num-bytes-ok\":0}],\"num-tx\":1,\"num-tx-ok\":0}}}",
                   true);

    /* a string of 1 MiB, as a command name and as an argument */
    g_string_append(big, "{\"execute\":\"");
    while (big->len < (1 << 20)) {
        g_string_append(big, "mcd-qry-state-");
    }
    g_string_append(big, "\"}");
    check_rejected(&t, big->str, false);
    g_string_truncate(big, 0);
    g_string_append(big, "{\"execute\":\"mcd-qry-state\",\"arguments\":"
                    "{\"core-uid\":\"");
    while (big->len < (1 << 20)) {
        g_string_append(big, "0123456789abcdef");
    }
    g_string_append(big, "\"}}");
    check_rejected(&t, big->str, true);

    malformed_end(&t);
}

/*
 * Garbage inside an object: QEMU's JSON streamer, as for QMP, answers
 * the stray '@' and then the '}' it resynchronizes at, with an error
 * each; the request after them is answered as usual.
 */
static void test_malformed_garbage(void)
{
    JsonTest t = { 0 };

    malformed_start(&t);
    g_assert_cmpint(rejected(&t, "{\"execute\":@#!}", false), <=, 1);
    malformed_end(&t);
}

/*
 * 2000 '[': deeper than the parser goes.  The error is answered; the
 * '[' after the limit still open arrays, as for QMP, so the client's
 * next request would be part of them: it connects again, and its
 * session goes on.
 */
static void test_malformed_nesting(void)
{
    JsonTest t = { 0 };
    g_autofree char *deep = g_strnfill(2000, '[');
    g_autoptr(QDict) reply = NULL;

    malformed_start(&t);
    mcd_json_send(t.fd, deep);
    reply = mcd_json_recv(t.fd);
    g_assert_true(qdict_haskey(reply, "error"));
    reconnect(&t);
    check_rejected(&t, "{\"execute\":\"mcd-frobnicate\"}", false);
    malformed_end(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/json/discovery", test_discovery);
    qtest_add_func("/mcd/json/discovery-plain", test_discovery_plain);
    qtest_add_func("/mcd/json/framing", test_framing);
    qtest_add_func("/mcd/json/memory", test_memory);
    qtest_add_func("/mcd/json/run-control", test_run_control);
    qtest_add_func("/mcd/json/triggers", test_triggers);
    qtest_add_func("/mcd/json/reset", test_reset);
    qtest_add_func("/mcd/json/error-info", test_error_info);
    qtest_add_func("/mcd/json/grace-reconnect", test_grace_reconnect);
    qtest_add_func("/mcd/json/grace-expired", test_grace_expired);
    qtest_add_func("/mcd/json/packet-and-json", test_packet_and_json);
    qtest_add_func("/mcd/json/malformed", test_malformed);
    qtest_add_func("/mcd/json/compact-replies", test_one_line_replies);
    qtest_add_func("/mcd/json/malformed-garbage", test_malformed_garbage);
    qtest_add_func("/mcd/json/malformed-nesting", test_malformed_nesting);

    return g_test_run();
}
