/* SPDX-License-Identifier: MIT */
/*
 * libmcd internals: the connection to the MCD stub, records, and the
 * state of the open server and cores.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#ifndef LIBMCD_INT_H
#define LIBMCD_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mcd_api.h"

#ifdef __MINGW_PRINTF_FORMAT
/* mingw-w64's C99 printf() (__USE_MINGW_ANSI_STDIO) */
#define LM_PRINTF(a, b) __attribute__((format(__MINGW_PRINTF_FORMAT, a, b)))
#else
#define LM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#endif

/* The largest reply copied into a buffer; the stub sends at most 33 KiB. */
#define LM_MAX_REPLY (128 * 1024)
/* Room for the largest command but x/X: a memory write of max_data bytes. */
#define LM_MAX_COMMAND (128 * 1024)
/* The most bytes one x or X moves, whatever the stub offers. */
#define LM_MAX_BINARY (1024 * 1024)
/* The longest packet received: an x reply of LM_MAX_BINARY bytes, escaped. */
#define LM_MAX_PACKET (2 * LM_MAX_BINARY + 4096)
/* A stop notification and its state record, at most. */
#define LM_NOTE_MAX 1024

/*
 * Time limits, in milliseconds, by default; the configuration string
 * sets them per server (McdConnectTimeout, McdTimeout, McdStepTimeout,
 * McdEra1ErrorWait).
 */
#define LM_CONNECT_TIMEOUT 5000
#define LM_REPLY_TIMEOUT 15000
/* How long an era-1 server is given to answer "error" to i and d. */
#define LM_ERA1_ERROR_WAIT 100
/*
 * McdStepTimeout: how long a step could take when steps waited for
 * their end; accepted and reported, but steps return once they started.
 */
#define LM_STEP_TIMEOUT 10000
/*
 * The slices in which the platform's socket waits (transport-posix.c:
 * one blocking recv() each); libmcd checks between them whether another
 * thread waits for the call lock when it waits for a notification.
 */
#define LM_RECV_SLICE_MS 5
/* The largest time limit the configuration string may set: an hour */
#define LM_MAX_TIMEOUT 3600000

/*
 * transport.c: one TCP connection to the stub and the packet framing
 * "$payload#|" (replies may also end gdb-style with "#xx"), over the
 * sockets of the platform.
 *
 * Requests may be pipelined: lm_conn_write() sends a packet without
 * waiting, and lm_conn_reply() returns the replies in the order of the
 * requests.  The stub acknowledges each packet with '+' and then answers
 * it, so a packet that arrives before the '+' of a request is not its
 * reply (a late one of an earlier request): it is skipped.
 * Notifications ("%stop=<core>....") are handed to the note callback
 * wherever they arrive.
 */

typedef enum LmIoResult {
    LM_IO_OK = 0,
    LM_IO_TIMEOUT = -1,     /* nothing arrived in time */
    LM_IO_CLOSED = -2,      /* the connection is gone */
    LM_IO_PROTOCOL = -3,    /* an oversized or malformed packet */
} LmIoResult;

/*
 * A notification's payload without its '%' (not NUL-terminated), and
 * the number of '+' received before it: requests acknowledged after
 * that were acted on after the notification was sent.
 */
typedef void (*LmNoteFn)(void *opaque, const char *payload, size_t len,
                         uint64_t acks);

/*
 * A TCP socket of the platform (transport-posix.c, transport-win32.c;
 * their interface is transport-os.h).
 */
typedef struct LmSocket {
    intptr_t fd;            /* -1 when closed (INVALID_SOCKET on Windows) */
    uint32_t wait_ms;       /* the receive time-out set on it, 0 before */
} LmSocket;

typedef struct LmConn {
    LmSocket sock;
    uint32_t connect_ms;    /* time limits */
    uint32_t reply_ms;
    uint8_t *rx;            /* received bytes not consumed yet */
    size_t rx_pos;
    size_t rx_len;
    size_t rx_size;
    char *tx;               /* the packet being built or sent last */
    size_t tx_size;
    size_t tx_len;          /* of the framed packet in tx */
    bool batching;          /* lm_conn_write() collects packets in batch */
    char *batch;            /* framed packets not sent yet */
    size_t batch_len;
    size_t batch_size;
    uint32_t unacked;       /* packets sent whose '+' has not arrived */
    uint32_t skip_acks;     /* of those, requests nobody waits for */
    uint32_t replies;       /* requests acknowledged, reply not taken */
    uint64_t acks;          /* every '+' received */
    LmNoteFn note_fn;
    void *note_opaque;
} LmConn;

void lm_conn_init(LmConn *c);
int lm_conn_open(LmConn *c, const char *host, uint32_t port, char *err,
                 size_t err_size);
void lm_conn_close(LmConn *c);
bool lm_conn_is_open(const LmConn *c);
/* Room for a payload of @len bytes in the send buffer. */
bool lm_conn_reserve(LmConn *c, size_t len);
/* Where to build the payload of the next packet, and how much fits. */
char *lm_conn_payload(LmConn *c, size_t *room);
/* Send one packet and wait for its '+'. */
LmIoResult lm_conn_send(LmConn *c, const char *payload, size_t len);
/*
 * Pipelining: forget the replies of earlier requests, then send the
 * packet built in lm_conn_payload() (@len bytes) without waiting.
 */
void lm_conn_begin(LmConn *c);
LmIoResult lm_conn_write(LmConn *c, size_t len);
/*
 * Batching: after lm_conn_batch(), lm_conn_write() collects the packets
 * until lm_conn_flush() sends them all with one send(); waiting for a
 * reply flushes them too.
 */
void lm_conn_batch(LmConn *c);
LmIoResult lm_conn_flush(LmConn *c);
/* The number the '+' of the next packet sent will have. */
uint64_t lm_conn_next_ack(const LmConn *c);
/*
 * The reply of the oldest request that has none yet.  *@data points
 * into the receive buffer until the next call on @c.
 */
LmIoResult lm_conn_reply(LmConn *c, const char **data, size_t *len,
                         int timeout_ms);
/*
 * The same for a request that may get only its '+' (i and d of an
 * era-1 session): it has no reply if the '+' of the request after it
 * comes first, so it must not be the last request in flight.  *@got
 * tells whether there was one.
 */
LmIoResult lm_conn_reply_opt(LmConn *c, const char **data, size_t *len,
                             bool *got, int timeout_ms);
/*
 * The next reply into @buf (NUL-terminated, at most @size - 1 bytes);
 * LM_IO_PROTOCOL if it is longer.
 */
LmIoResult lm_conn_recv(LmConn *c, char *buf, size_t size, size_t *len,
                        int timeout_ms);
/* Hand on the notifications that arrived, without waiting for more. */
LmIoResult lm_conn_poll(LmConn *c);
/* Wait until a notification arrives, at most @timeout_ms. */
LmIoResult lm_conn_wait_note(LmConn *c, int timeout_ms);
const char *lm_io_strerror(LmIoResult r);

/*
 * records.c: "key=value." records, "<next>!" pagination and hex data.
 */

#define LM_RECORD_MAX_ITEMS 64

typedef struct LmRecord {
    bool paginated;         /* it started with "<next>!" */
    uint32_t next;          /* the index of the next item, 0 after the last */
    unsigned int count;
    const char *key[LM_RECORD_MAX_ITEMS];
    const char *value[LM_RECORD_MAX_ITEMS];
} LmRecord;

/* Parse @text in place; false if it is malformed. */
bool lm_record_parse(char *text, LmRecord *rec);
/*
 * The same for an item of a list reply, whose records are separated by
 * ';': *@rest is set to the next one, or NULL after the last.
 */
bool lm_record_parse_item(char *text, LmRecord *rec, char **rest);
const char *lm_record_get(const LmRecord *rec, const char *key);
bool lm_record_u64(const LmRecord *rec, const char *key, uint64_t *value);
bool lm_record_u32(const LmRecord *rec, const char *key, uint32_t *value);
/*
 * The values of @n @keys (NULL for those missing) in one go, quicker
 * than one lm_record_get() each when they are in the record's order.
 */
void lm_record_find(const LmRecord *rec, const char *const *keys,
                    unsigned int n, const char **values);
/* A decimal number, optionally negative (two's complement). */
bool lm_parse_u64(const char *text, uint64_t *value);
/* An unsigned decimal number of exactly @len digits, at most 64 bits. */
bool lm_parse_digits(const char *text, size_t len, uint64_t *value);
/*
 * Write @v in decimal at @out (at most 20 characters, no NUL); returns
 * how many: quicker than snprintf() for the commands sent most.
 */
size_t lm_put_u64(char *out, uint64_t v);
/* An unsigned decimal number of 32 bits; false for NULL. */
bool lm_parse_u32(const char *text, uint32_t *value);
/* Is @name one of the comma separated items of @list? */
bool lm_list_has(const char *list, const char *name);
void lm_hex_encode(const uint8_t *data, size_t len, char *out);
/* Decode exactly @len bytes from @hex, which must be 2 * @len digits. */
bool lm_hex_decode(const char *hex, size_t hex_len, uint8_t *out,
                   size_t len);
/*
 * Binary data of x and X: '#', '$', '%' and '}' are sent as '}' and the
 * byte XOR 0x20.  lm_bin_encode() writes at most 2 * @len bytes to @out
 * and returns how many; lm_bin_decode() decodes exactly @len bytes.
 */
size_t lm_bin_encode(const uint8_t *data, size_t len, char *out);
bool lm_bin_decode(const char *bin, size_t bin_len, uint8_t *out,
                   size_t len);
/* Copy @src into @dst of @size bytes, truncated and NUL-terminated. */
void lm_strlcpy(char *dst, const char *src, size_t size);

/*
 * libmcd.c and target.c: the server, its cores and the API.
 */

typedef struct LmError {
    mcd_return_et ret;
    mcd_error_code_et code;
    mcd_error_event_et events;
    char text[MCD_INFO_STR_LEN];
} LmError;

typedef struct LmTrigger {
    bool used;
    bool set;               /* set in the stub */
    bool captured;          /* it stopped the core last */
    uint32_t type;          /* the protocol's trigger type, 1 to 4 */
    uint64_t addr;
    uint64_t len;           /* watchpoint length in bytes */
    uint32_t size;          /* of the stored structure */
    union {
        mcd_trig_simple_core_st simple;
        mcd_trig_complex_core_st complex;
    } u;
} LmTrigger;

/* stopregs: a register the stop notifications of a core carry */
typedef struct LmStopReg {
    uint64_t id;
    uint32_t off;                   /* of its value in LmCore.sr_val */
    uint32_t size;                  /* in bytes */
} LmStopReg;

typedef struct LmResetClass {
    uint32_t id;
    char name[MCD_INFO_STR_LEN];
} LmResetClass;

struct LmServer;

typedef struct LmCore {
    mcd_core_st pub;
    mcd_core_con_info_st con;
    struct LmServer *srv;
    uint32_t index;
    uint64_t serial;                /* unique among the cores ever opened */
    LmError err;                    /* of the call in progress */
    bool have_spaces;
    mcd_memspace_st *spaces;
    uint32_t n_spaces;
    bool have_groups;
    mcd_register_group_st *groups;
    uint32_t n_groups;
    bool have_regs;
    mcd_register_info_st *regs;
    uint32_t n_regs;
    LmTrigger trigs[MCD_MAX_TRIGS];     /* trigger id = index + 1 */
    /* a stop not reported by mcd_qry_state_f yet */
    bool stop_pending;
    uint32_t stop_type;
    /* without stoprec, what the stub reports of it only once */
    char stop_str[MCD_INFO_STR_LEN];
    uint64_t stop_addr;
    /* notify: the last stop notification, not reported yet */
    bool note_valid;
    int64_t note_ms;                /* when it came */
    char note[LM_NOTE_MAX];         /* its state record, "" without stoprec */
    uint64_t run_seq;               /* the '+' of the command that let it run */
    /* libmcd let the core run (run or step) and has seen no stop since */
    bool started;
    /*
     * a step libmcd started (mcd_step_f returns once the stub took it),
     * at step_ms; without the steps extension, steps_left more single
     * steps follow, each started by the state query that sees the core
     * stop (step_global: of the system)
     */
    bool stepping;
    int64_t step_ms;
    uint32_t steps_left;
    bool step_global;
    int64_t run_ms;                 /* when libmcd let it run (a go) */
    bool have_running;              /* the stub said so at running_ms: */
    int64_t running_ms;
    mcd_core_state_st running;
    int64_t query_us;               /* of the last state query */
    /*
     * stopregs (target.c): the registers named with E, by id, and their
     * values at the last stop, from its notification
     */
    LmStopReg *sr;
    uint32_t n_sr;
    uint32_t sr_bytes;
    uint64_t sr_seq;                /* the '+' of that E */
    uint8_t *sr_val;
    bool sr_valid;                  /* sr_val holds the values of this stop */
    int64_t sr_ms;                  /* when it came or was reported */
    int64_t stop_note_ms;           /* a stop from a notification reported */
    /* the g of the last register-only list read (target.c) */
    struct LmDirectPlan *direct_plan;
} LmCore;

/* What qcoreinfo<core> told of a core (coreinfo extension). */
typedef struct LmCoreInfo {
    bool known;                     /* asked, and answered */
    bool asked;
    uint32_t core_type;             /* ELF machine */
    char model[MCD_UNIQUE_NAME_LEN];
} LmCoreInfo;

typedef struct LmServer {
    mcd_server_st pub;
    struct LmServer *next;          /* in the list of open servers */
    LmConn conn;
    char host[MCD_HOSTNAME_LEN];
    uint32_t port;
    char system_key[MCD_KEY_LEN];
    char config[2 * MCD_HOSTNAME_LEN + 192];
    char system[MCD_UNIQUE_NAME_LEN];
    char device[MCD_UNIQUE_NAME_LEN];
    char core_model[MCD_UNIQUE_NAME_LEN];
    uint32_t nr_cores;
    uint32_t core_type;             /* guessed ELF machine, 0 if unknown */
    LmCoreInfo *info;               /* nr_cores, with coreinfo */
    uint32_t step_ms;               /* McdStepTimeout: kept, unused */
    uint32_t era1_wait_ms;
    LmCore **cores;
    /* negotiated protocol */
    bool era1;
    uint32_t version;
    uint32_t max_payload;
    uint32_t max_data;
    bool ext_errors;
    bool ext_steps;
    bool ext_wplen;
    bool ext_resethalt;
    bool ext_stoprec;
    bool ext_txopt;                 /* m takes MCD access options */
    bool ext_notify;                /* %stop notifications */
    bool ext_lists;                 /* many list items per reply */
    bool ext_regs;                  /* g and G */
    bool ext_binary;                /* x and X */
    bool ext_coreinfo;              /* qcoreinfo<core> */
    bool ext_stopregs;              /* E, and registers in %stop */
    uint32_t max_binary;            /* the most bytes of one x or X */
    char extensions[256];           /* as offered */
    /*
     * core 0, open in the stub since the connection (and with the lists
     * that came then) until mcd_open_core_f takes it
     */
    struct LmCore *spare;
    /*
     * the session let cores run, stopped, stepped or reset them or set
     * triggers: its detach lets something go
     */
    bool touched;
    /* reset classes, read once */
    bool have_resets;
    uint32_t n_resets;
    LmResetClass resets[32];
    /* buffers */
    char *cmd;
    char *reply;
    size_t reply_len;
} LmServer;

/*
 * Threads (libmcd.c): every API function that uses the server or a core
 * holds the call lock while it runs, which serializes the requests on
 * the connection; it is first come, first served.  No call holds it
 * while it waits for a core to stop, only for its own requests.  True if
 * another thread waits for it: a call that waits for something that may
 * not come (a notification) lets it have the lock instead.
 */
bool lm_call_contended(void);

/* Record an error in @e; returns MCD_RET_ACT_HANDLE_ERROR. */
mcd_return_et lm_fail(LmError *e, mcd_error_code_et code, const char *fmt,
                      ...) LM_PRINTF(3, 4);
void lm_clear(LmError *e);

/*
 * Commands.  Each sends one packet and reads what the stub answers;
 * on failure the error is in @e, with @code unless the stub sent its
 * own (errors extension).
 */

/* A command that era-1 stubs only acknowledge: i, d, C, b, c, r, D. */
mcd_return_et lm_cmd_done(LmServer *s, LmError *e, mcd_error_code_et code,
                          bool era1_may_fail, const char *fmt, ...)
    LM_PRINTF(5, 6);
/* A command with a reply, left in s->reply. */
mcd_return_et lm_cmd_reply(LmServer *s, LmError *e, mcd_error_code_et code,
                           const char *fmt, ...) LM_PRINTF(4, 5);
/* The same with a ready-made command in s->cmd of @len bytes. */
mcd_return_et lm_cmd_reply_raw(LmServer *s, LmError *e,
                               mcd_error_code_et code, size_t len);
/* Record the failure in a reply (s->reply) to the command @name. */
bool lm_reply_failed(LmServer *s, LmError *e, mcd_error_code_et code,
                     const char *name);
/* Record a transport failure of the command @name. */
mcd_return_et lm_io_fail(LmServer *s, LmError *e, LmIoResult r,
                         const char *name);
/* A command whose reply must be "success". */
mcd_return_et lm_cmd_success(LmServer *s, LmError *e, mcd_error_code_et code,
                             const char *fmt, ...) LM_PRINTF(4, 5);

/*
 * A paginated list, "q<list>f<core>" then "q<list>c<k>": @fn is called
 * for each item (several per reply with the lists extension).
 */
typedef bool (*LmListItemFn)(void *ctx, const LmRecord *rec);
mcd_return_et lm_fetch_list(LmServer *s, LmError *e, mcd_error_code_et code,
                            const char *list, uint32_t core, LmListItemFn fn,
                            void *ctx);
int64_t lm_now_ms(void);
int64_t lm_now_us(void);

/* The cached lists of a core, read from the stub the first time. */
mcd_return_et lm_core_spaces(LmCore *c);
mcd_return_et lm_core_regs(LmCore *c);

/* target.c */
mcd_return_et lm_execute_txlist(LmCore *c, mcd_txlist_st *txlist);

/**
 * lm_stop_regs_note() - take the registers of a stop notification
 * @c: the core that stopped
 * @hex: the value of its regs field, @len characters; %NULL if it has
 *       none
 * @acks: the '+' received before the notification
 */
void lm_stop_regs_note(LmCore *c, const char *hex, size_t len,
                       uint64_t acks);
mcd_return_et lm_run(LmCore *c, bool global);
mcd_return_et lm_stop(LmCore *c, bool global);
mcd_return_et lm_step(LmCore *c, bool global, mcd_core_step_type_et type,
                      uint32_t n);
mcd_return_et lm_qry_state(LmCore *c, mcd_core_state_st *state);
mcd_return_et lm_qry_trig_info(LmCore *c, mcd_trig_info_st *info);
mcd_return_et lm_create_trig(LmCore *c, void *trig, uint32_t *trig_id);
mcd_return_et lm_qry_trig(LmCore *c, uint32_t trig_id, uint32_t max_size,
                          void *trig);
mcd_return_et lm_remove_trig(LmCore *c, uint32_t trig_id);
mcd_return_et lm_qry_trig_state(LmCore *c, uint32_t trig_id,
                                mcd_trig_state_st *state);
mcd_return_et lm_activate_trig_set(LmCore *c);
mcd_return_et lm_remove_trig_set(LmCore *c);
mcd_return_et lm_qry_trig_set(LmCore *c, uint32_t start, uint32_t *num,
                              uint32_t *ids);
mcd_return_et lm_qry_trig_set_state(LmCore *c, mcd_trig_set_state_st *st);
mcd_return_et lm_qry_rst_classes(LmCore *c, uint32_t *vector);
mcd_return_et lm_qry_rst_class_info(LmCore *c, uint8_t rst_class,
                                    mcd_rst_info_st *info);
mcd_return_et lm_rst(LmCore *c, uint32_t vector, bool halt);

/*
 * The count-first convention of the list queries: with *@num 0 only the
 * count is returned; otherwise up to *@num items from @start, and *@num
 * is set to how many.  Sets *@first and *@n to the items to copy.
 */
mcd_return_et lm_list_range(LmError *e, uint32_t total, uint32_t start,
                            uint32_t *num, const void *buf, uint32_t *first,
                            uint32_t *n);

#endif /* LIBMCD_INT_H */
