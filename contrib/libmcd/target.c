/* SPDX-License-Identifier: MIT */
/*
 * libmcd target access: transaction lists (memory with m/M, registers
 * with p/P), run control (C, b, c and the core state), triggers (t/T)
 * and resets (r).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libmcd-int.h"

/* The protocol's trigger types. */
#define PT_BREAKPOINT 1
#define PT_READ 2
#define PT_WRITE 3
#define PT_ACCESS 4

/* Era-1 watchpoints always cover 4 bytes. */
#define ERA1_WATCH_LEN 4

/* The largest register libmcd moves, in bytes. */
#define MAX_REG_BYTES 4096

/*
 * Registers: the address of a register in its register memory space is
 * its id.  A transaction of more bytes than the register continues with
 * the registers of the following ids; one of fewer bytes reads or
 * writes the low-order bytes (register data is little-endian).
 */

static const mcd_register_info_st *find_reg(LmCore *c, uint32_t space,
                                            uint64_t id)
{
    uint32_t i;

    /* the ids are often the indexes too */
    if (id < c->n_regs && c->regs[id].addr.address == id &&
        c->regs[id].addr.mem_space_id == space) {
        return &c->regs[id];
    }
    for (i = 0; i < c->n_regs; i++) {
        if (c->regs[i].addr.address == id &&
            c->regs[i].addr.mem_space_id == space) {
            return &c->regs[i];
        }
    }
    return NULL;
}

static mcd_return_et reg_read(LmCore *c, const mcd_register_info_st *r,
                              uint8_t *buf, uint32_t len)
{
    LmServer *s = c->srv;
    mcd_return_et ret;

    ret = lm_cmd_reply(s, &c->err, MCD_ERR_TXLIST_READ, "p%u;%" PRIu64,
                       c->index, r->addr.address);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    if (!lm_hex_decode(s->reply, s->reply_len, buf, len)) {
        return lm_fail(&c->err, MCD_ERR_TXLIST_READ, "malformed value of "
                       "register %s", r->regname);
    }
    return MCD_RET_ACT_NONE;
}

static mcd_return_et reg_write(LmCore *c, const mcd_register_info_st *r,
                               const uint8_t *buf, uint32_t len)
{
    LmServer *s = c->srv;
    int n;
    mcd_return_et ret;

    n = snprintf(s->cmd, LM_MAX_COMMAND, "P%u;%" PRIu64 ";%u;", c->index,
                 r->addr.address, len);
    lm_hex_encode(buf, len, s->cmd + n);
    ret = lm_cmd_reply_raw(s, &c->err, MCD_ERR_TXLIST_WRITE,
                           n + 2 * (size_t)len);
    if (ret == MCD_RET_ACT_NONE && strcmp(s->reply, "success") != 0) {
        ret = lm_fail(&c->err, MCD_ERR_TXLIST_WRITE, "unexpected reply "
                      "'%.40s' to a write of register %s", s->reply,
                      r->regname);
    }
    return ret;
}

/* One register of a transaction: @part of its @size bytes at @data. */
static mcd_return_et reg_access(LmCore *c, const mcd_register_info_st *r,
                                mcd_tx_access_type_et type, uint8_t *data,
                                uint32_t part, uint32_t size)
{
    uint8_t old[MAX_REG_BYTES];
    uint8_t val[MAX_REG_BYTES];
    mcd_return_et ret = MCD_RET_ACT_NONE;

    if (type == MCD_TX_AT_R || type == MCD_TX_AT_RW || part < size) {
        ret = reg_read(c, r, old, size);
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
    }
    if (type == MCD_TX_AT_R) {
        memcpy(data, old, part);
        return MCD_RET_ACT_NONE;
    }
    if (part < size) {
        memcpy(val, old, size);
    }
    memcpy(val, data, part);
    ret = reg_write(c, r, val, size);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    if (type == MCD_TX_AT_RW) {
        memcpy(data, old, part);
    } else if (type == MCD_TX_AT_WR) {
        ret = reg_read(c, r, val, size);
        if (ret == MCD_RET_ACT_NONE) {
            memcpy(data, val, part);
        }
    }
    return ret;
}

static mcd_return_et reg_tx(LmCore *c, mcd_tx_st *tx)
{
    const mcd_register_info_st *r;
    uint64_t id = tx->addr.address;
    uint32_t size, part;
    mcd_return_et ret;

    if (tx->access_type < MCD_TX_AT_R || tx->access_type > MCD_TX_AT_WR) {
        return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "unknown access type %u",
                       tx->access_type);
    }
    while (tx->num_bytes_ok < tx->num_bytes) {
        r = find_reg(c, tx->addr.mem_space_id, id);
        if (!r) {
            return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "memory space %u has "
                           "no register %" PRIu64, tx->addr.mem_space_id,
                           id);
        }
        size = (r->regsize + 7) / 8;
        part = tx->num_bytes - tx->num_bytes_ok;
        if (part > size) {
            part = size;
        }
        ret = reg_access(c, r, tx->access_type,
                         tx->data + tx->num_bytes_ok, part, size);
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        tx->num_bytes_ok += part;
        id++;
    }
    return MCD_RET_ACT_NONE;
}

static const mcd_memspace_st *find_space(LmCore *c, uint32_t id)
{
    uint32_t i;

    for (i = 0; i < c->n_spaces; i++) {
        if (c->spaces[i].mem_space_id == id) {
            return &c->spaces[i];
        }
    }
    return NULL;
}


/*
 * Stop registers (stopregs)
 *
 * A debugger reads the same registers after every stop, and libmcd
 * learns which: the registers of a transaction list that reads nothing
 * but registers, within LM_SR_FRESH_MS of mcd_qry_state_f reporting a
 * stop that a notification told, join those the stub's stop
 * notifications of the core carry (E), up to LM_SR_MAX_REGS registers
 * of LM_SR_MAX_BYTES.  After a stop whose notification
 * carried them, such a list is answered from those values without a
 * packet, until libmcd does something that may change them (a run, a
 * step, a reset, a register write) and for LM_SR_FRESH_MS after the
 * notification came or mcd_qry_state_f reported the stop: gdb or the
 * monitor may change registers behind libmcd's back, as they may let
 * the core run.
 */
#define LM_SR_MAX_REGS 256
#define LM_SR_MAX_BYTES 2048
#define LM_SR_FRESH_MS 50

void lm_stop_regs_note(LmCore *c, const char *hex, size_t len,
                       uint64_t acks)
{
    c->sr_valid = false;
    if (!hex || !c->n_sr || acks < c->sr_seq ||
        len != 2 * (size_t)c->sr_bytes ||
        !lm_hex_decode(hex, len, c->sr_val, c->sr_bytes)) {
        return;
    }
    c->sr_valid = true;
    c->sr_ms = lm_now_ms();
}

static const LmStopReg *sr_find(const LmCore *c, uint64_t id)
{
    uint32_t lo = 0, hi = c->n_sr, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (c->sr[mid].id == id) {
            return &c->sr[mid];
        }
        if (c->sr[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/*
 * A register that a transaction list reads: bytes [@off, @off + @part)
 * of transaction @tx are register @id, of @size bytes.
 */
typedef bool RegReadFn(void *opaque, mcd_tx_st *tx, uint32_t off,
                       uint32_t part, uint64_t id, uint32_t size);

/*
 * Call @fn for each register @txlist reads, if it reads nothing but
 * registers libmcd knows (a debugger's list after a stop); false if it
 * does anything else, or when @fn returns false.
 */
static bool reg_reads(LmCore *c, mcd_txlist_st *txlist, RegReadFn *fn,
                      void *opaque)
{
    const mcd_register_info_st *r;
    const mcd_memspace_st *ms;
    uint32_t i, done, size, part;
    uint64_t id;

    if (!c->have_regs || !txlist->num_tx) {
        return false;
    }
    for (i = 0; i < txlist->num_tx; i++) {
        mcd_tx_st *tx = &txlist->tx[i];

        ms = find_space(c, tx->addr.mem_space_id);
        if (tx->access_type != MCD_TX_AT_R || !ms ||
            !(ms->mem_type & MCD_MEM_SPACE_IS_REGISTERS) ||
            (tx->num_bytes && !tx->data)) {
            return false;
        }
        id = tx->addr.address;
        for (done = 0; done < tx->num_bytes; done += part, id++) {
            r = find_reg(c, tx->addr.mem_space_id, id);
            if (!r || r->regsize == 0) {
                return false;
            }
            size = (r->regsize + 7) / 8;
            part = tx->num_bytes - done < size ? tx->num_bytes - done : size;
            if (!fn(opaque, tx, done, part, id, size)) {
                return false;
            }
        }
    }
    return true;
}

/* Write @n register ids at @out as "0-33,66"; returns the length. */
static size_t put_ids(char *out, const uint64_t *ids, uint32_t n)
{
    size_t len = 0;
    uint32_t i, j;

    for (i = 0; i < n; i = j + 1) {
        for (j = i; j + 1 < n && ids[j + 1] == ids[j] + 1; j++) {
            continue;
        }
        if (i) {
            out[len++] = ',';
        }
        len += lm_put_u64(out + len, ids[i]);
        if (j > i) {
            out[len++] = '-';
            len += lm_put_u64(out + len, ids[j]);
        }
    }
    return len;
}

typedef enum SrList {
    SR_OTHER,           /* the list does more than read registers */
    SR_REGS,            /* it only reads registers */
    SR_HELD,            /* ... and the stop registers hold them all */
} SrList;

typedef struct SrWalk {
    LmCore *c;
    bool copy;
    bool held;
} SrWalk;

static bool sr_reg(void *opaque, mcd_tx_st *tx, uint32_t off, uint32_t part,
                   uint64_t id, uint32_t size)
{
    SrWalk *w = opaque;
    const LmStopReg *sr = sr_find(w->c, id);

    if (!sr || sr->size != size) {
        w->held = false;
    } else if (w->copy) {
        memcpy(tx->data + off, w->c->sr_val + sr->off, part);
    }
    return true;
}

/*
 * What @txlist does, as the stop registers see it; with @copy, for
 * SR_HELD, copy their values into it.
 */
static SrList sr_list(LmCore *c, mcd_txlist_st *txlist, bool copy)
{
    SrWalk w = { c, copy, true };

    if (!reg_reads(c, txlist, sr_reg, &w)) {
        return SR_OTHER;
    }
    return w.held ? SR_HELD : SR_REGS;
}

/* Answer a list that only reads registers from the stop registers. */
static bool sr_serve(LmCore *c, mcd_txlist_st *txlist)
{
    uint32_t i;

    if (!c->sr_valid) {
        return false;
    }
    if (lm_now_ms() - c->sr_ms >= LM_SR_FRESH_MS) {
        c->sr_valid = false;
        return false;
    }
    if (sr_list(c, txlist, false) != SR_HELD) {
        return false;
    }
    sr_list(c, txlist, true);
    for (i = 0; i < txlist->num_tx; i++) {
        txlist->tx[i].num_bytes_ok = txlist->tx[i].num_bytes;
    }
    txlist->num_tx_ok = txlist->num_tx;
    return true;
}

static int sr_cmp(const void *a, const void *b)
{
    const LmStopReg *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Is this the moment to learn what a debugger reads after a stop? */
static bool sr_may_learn(LmCore *c)
{
    return c->srv->ext_stopregs && !c->started && c->stop_note_ms &&
           lm_now_ms() - c->stop_note_ms < LM_SR_FRESH_MS;
}

/* The registers of a list that the stop registers lack, to learn. */
typedef struct SrLearn {
    LmCore *c;
    LmStopReg *all;
    uint32_t n, bytes;
} SrLearn;

static bool sr_new_reg(void *opaque, mcd_tx_st *tx, uint32_t off,
                       uint32_t part, uint64_t id, uint32_t size)
{
    SrLearn *l = opaque;

    (void)tx;
    (void)off;
    (void)part;
    if (sr_find(l->c, id)) {
        return true;
    }
    if (l->n == LM_SR_MAX_REGS || l->bytes + size > LM_SR_MAX_BYTES) {
        return false;
    }
    l->all[l->n++] = (LmStopReg){ id, 0, size };
    l->bytes += size;
    return true;
}

/*
 * After a list of register reads of a stopped core: let its stop
 * notifications carry these registers too, if they fit.
 */
static void sr_learn(LmCore *c, mcd_txlist_st *txlist)
{
    LmServer *s = c->srv;
    SrLearn l = { .c = c };
    uint64_t *ids = NULL, seq;
    uint32_t i, n;
    uint8_t *val = NULL;
    char *cmd = NULL;
    size_t len;
    LmError e;

    l.all = malloc(LM_SR_MAX_REGS * sizeof(*l.all));
    if (!l.all) {
        return;
    }
    memcpy(l.all, c->sr, c->n_sr * sizeof(*l.all));
    l.n = c->n_sr;
    l.bytes = c->sr_bytes;
    if (!reg_reads(c, txlist, sr_new_reg, &l) || l.n == c->n_sr) {
        goto out;
    }
    qsort(l.all, l.n, sizeof(*l.all), sr_cmp);
    /* one id twice (two transactions of the same new register) once */
    for (i = 1, n = 1; i < l.n; i++) {
        if (l.all[i].id != l.all[n - 1].id) {
            l.all[n++] = l.all[i];
        }
    }
    ids = malloc(n * sizeof(*ids));
    for (i = 0, l.bytes = 0; i < n; i++) {
        l.all[i].off = l.bytes;
        l.bytes += l.all[i].size;
        if (ids) {
            ids[i] = l.all[i].id;
        }
    }
    val = malloc(l.bytes);
    cmd = malloc(32 + 43 * (size_t)n);
    if (!ids || !val || !cmd) {
        goto out;
    }
    len = snprintf(cmd, 32, "E%u;", c->index);
    len += put_ids(cmd + len, ids, n);
    cmd[len] = '\0';
    seq = lm_conn_next_ack(&s->conn);
    if (lm_cmd_success(s, &e, MCD_ERR_GENERAL, "%s", cmd) !=
        MCD_RET_ACT_NONE) {
        /* the stub keeps the list it had, or none */
        goto out;
    }
    free(c->sr);
    free(c->sr_val);
    c->sr = l.all;
    c->n_sr = n;
    c->sr_bytes = l.bytes;
    c->sr_val = val;
    c->sr_seq = seq;
    c->sr_valid = false;
    l.all = NULL;
    val = NULL;
out:
    free(ids);
    free(val);
    free(cmd);
    free(l.all);
}

/*
 * Transaction lists
 *
 * The packets of a transaction list go out back to back, and their
 * replies are read afterwards, in order (at most PIPE_MAX_OPS packets
 * and PIPE_MAX_BYTES bytes of data in flight; one at a time with era-1
 * stubs).  Memory moves in packets of max_data bytes with m and M, or of
 * max_binary bytes with x and X (binary extension).  Register reads
 * and writes of whole registers that follow each other become one g or
 * G (regs extension), else one p or P per register.  A g or G that
 * fails is done again register by register, so that a register that
 * cannot be read or written fails only its own transaction.  Other
 * register transactions (partial writes, RW and WR) wait for the
 * packets before them and go one packet at a time.
 *
 * When every transaction succeeds the target sees what it would see
 * with one packet at a time: a write whose data a read before it in the
 * list fills waits for that read, and no register write goes out while
 * a g that may have to be done again is in flight (no register access
 * at all while such a G is).  When a transaction fails, the list stops
 * there (num_tx_ok counts the ones before it), but packets of later
 * transactions that were in flight already have been executed.
 */

#define PIPE_MAX_OPS 64
#define PIPE_MAX_BYTES (8 * 1024 * 1024)
/* The most registers one g or G names. */
#define MAX_REG_LIST 4096

/* A register of a register transaction. */
typedef struct RegSlot {
    const mcd_register_info_st *r;
    uint32_t tx;
    uint32_t off;               /* of its bytes in the transaction's data */
    uint32_t part;              /* how many of them */
    uint32_t size;              /* of the register, in bytes */
} RegSlot;

typedef enum OpKind {
    OP_MEM_READ,                /* m or x */
    OP_MEM_WRITE,               /* M or X */
    OP_REG_READ,                /* g, or p for one register */
    OP_REG_WRITE,               /* G, or P for one register */
} OpKind;

/* A packet in flight, and what its reply completes. */
typedef struct Op {
    OpKind kind;
    char letter;
    uint32_t tx;
    uint64_t seq;               /* in the order sent */
    uint64_t addr;              /* memory: of this packet */
    uint32_t len;               /* memory: bytes */
    uint8_t *dst;               /* memory read: where the data goes */
    int64_t done;               /* num_bytes_ok when done, -1: unchanged */
    uint32_t fail_done;         /* num_bytes_ok if it fails */
    uint8_t *old;               /* RW: the old data, returned when done */
    uint32_t first, count;      /* registers: the slots */
    uint32_t bytes;             /* registers: of their values */
    size_t ids_len;             /* registers: of their id list */
    uint64_t range_start;       /* registers: the id the last range starts */
    size_t cost;                /* bytes of data in flight */
    uintptr_t lo, hi;           /* client memory the reply fills */
} Op;

typedef struct Pipe {
    LmCore *c;
    LmServer *s;
    mcd_txlist_st *txlist;
    uint32_t head, n, max_ops;
    size_t bytes;
    uint32_t in_g, in_G;        /* g and G in flight */
    uint64_t seq;
    RegSlot *slots;             /* of every register transaction so far */
    uint32_t n_slots, slots_size;
    Op open;                    /* register slots not sent yet */
    bool have_open;
    uint32_t n_deferred;
    uint8_t **olds;             /* RW buffers */
    uint32_t n_olds, olds_size;
    bool no_batch;              /* a p or P per register, no g or G */
    bool stop;                  /* a transaction failed: send no more */
    bool dead;                  /* no more replies will come */
    bool failed;
    uint32_t fail_tx;
    uint64_t fail_seq;
    LmError err;
    /* left uninitialized until used: */
    uint8_t reg_buf[4096];      /* the values of a g */
    Op ops[PIPE_MAX_OPS];
    Op deferred[PIPE_MAX_OPS];  /* g and G to do again register by register */
} Pipe;

/* A short name of the packet, for messages: "m0", "g0" */
static const char *op_name(const Pipe *p, const Op *op, char *buf,
                           size_t size)
{
    snprintf(buf, size, "%c%u", op->letter, p->c->index);
    return buf;
}

/*
 * Transaction @tx fails with @e; the first failure in the list counts.
 * @done is how many of its bytes were moved before.
 */
static void pipe_fail(Pipe *p, uint32_t tx, uint64_t seq, uint32_t done,
                      const LmError *e)
{
    p->stop = true;
    if (p->failed && (tx > p->fail_tx || (tx == p->fail_tx &&
                                           seq > p->fail_seq))) {
        return;
    }
    p->failed = true;
    p->fail_tx = tx;
    p->fail_seq = seq;
    p->err = *e;
    p->txlist->tx[tx].num_bytes_ok = done;
}

/* Does a reply of (@tx, @seq) still count, after a failure? */
static bool pipe_counts(const Pipe *p, uint32_t tx, uint64_t seq)
{
    return !p->failed || tx < p->fail_tx ||
           (tx == p->fail_tx && seq < p->fail_seq);
}

static void set_done(mcd_tx_st *tx, uint32_t done)
{
    if (done > tx->num_bytes_ok) {
        tx->num_bytes_ok = done;
    }
}

/* The register ids of slots [@first, @first + @count) as "0-33,66". */
static size_t format_ids(const Pipe *p, uint32_t first, uint32_t count,
                         char *out, size_t size)
{
    size_t n = 0;
    uint64_t lo, hi;
    uint32_t i = first, end = first + count;

    /* room for one more range: ",<20 digits>-<20 digits>" */
    while (i < end && n + 43 <= size) {
        lo = hi = p->slots[i].r->addr.address;
        for (i++; i < end && p->slots[i].r->addr.address == hi + 1; i++) {
            hi++;
        }
        if (n) {
            out[n++] = ',';
        }
        n += lm_put_u64(out + n, lo);
        if (lo != hi) {
            out[n++] = '-';
            n += lm_put_u64(out + n, hi);
        }
    }
    return i < end ? size : n;
}

/* Build the packet of @op in the send buffer; its length, 0 if none. */
static size_t build_op(Pipe *p, const Op *op)
{
    LmServer *s = p->s;
    const mcd_tx_st *tx = &p->txlist->tx[op->tx];
    const RegSlot *slot;
    size_t room, n;
    char *out = lm_conn_payload(&s->conn, &room);
    uint32_t space = tx->addr.mem_space_id, i;
    int k;

    switch (op->letter) {
    case 'm':
    case 'x':
        if (tx->options & MCD_TX_OPT_NO_SIDE_EFFECTS) {
            k = snprintf(out, room, "%c%u;%u;%" PRIu64 ";%u;%u", op->letter,
                         p->c->index, space, op->addr, op->len,
                         (unsigned int)MCD_TX_OPT_NO_SIDE_EFFECTS);
        } else {
            k = snprintf(out, room, "%c%u;%u;%" PRIu64 ";%u", op->letter,
                         p->c->index, space, op->addr, op->len);
        }
        return k > 0 && (size_t)k < room ? (size_t)k : 0;
    case 'M':
    case 'X':
        k = snprintf(out, room, "%c%u;%u;%" PRIu64 ";%u;", op->letter,
                     p->c->index, space, op->addr, op->len);
        if (k <= 0 || (size_t)k + 2 * (size_t)op->len >= room) {
            return 0;
        }
        if (op->letter == 'X') {
            return k + lm_bin_encode(tx->data + (op->addr - tx->addr.address),
                                     op->len, out + k);
        }
        lm_hex_encode(tx->data + (op->addr - tx->addr.address), op->len,
                      out + k);
        return k + 2 * (size_t)op->len;
    case 'p':
        slot = &p->slots[op->first];
        k = snprintf(out, room, "p%u;%" PRIu64, p->c->index,
                     slot->r->addr.address);
        return k > 0 && (size_t)k < room ? (size_t)k : 0;
    case 'P':
        slot = &p->slots[op->first];
        k = snprintf(out, room, "P%u;%" PRIu64 ";%u;", p->c->index,
                     slot->r->addr.address, slot->size);
        if (k <= 0 || (size_t)k + 2 * (size_t)slot->size >= room) {
            return 0;
        }
        lm_hex_encode(p->txlist->tx[slot->tx].data + slot->off, slot->size,
                      out + k);
        return k + 2 * (size_t)slot->size;
    case 'g':
    case 'G':
        if (room < 32) {
            return 0;
        }
        out[0] = op->letter;
        k = 1 + lm_put_u64(out + 1, p->c->index);
        out[k++] = ';';
        n = k + format_ids(p, op->first, op->count, out + k, room - k);
        if (op->letter == 'g') {
            return n + 1 < room ? n : 0;
        }
        if (n + 1 + 2 * (size_t)op->bytes >= room) {
            return 0;
        }
        out[n++] = ';';
        for (i = op->first; i < op->first + op->count; i++) {
            slot = &p->slots[i];
            lm_hex_encode(p->txlist->tx[slot->tx].data + slot->off,
                          slot->size, out + n);
            n += 2 * (size_t)slot->size;
        }
        return n;
    }
    return 0;
}

/* The client memory @op reads before it is sent. */
static void op_source(const Pipe *p, const Op *op, uintptr_t *lo,
                      uintptr_t *hi)
{
    const mcd_tx_st *tx = &p->txlist->tx[op->tx];
    uint32_t i;

    *lo = *hi = 0;
    if (op->kind == OP_MEM_WRITE) {
        *lo = (uintptr_t)(tx->data + (op->addr - tx->addr.address));
        *hi = *lo + op->len;
    } else if (op->kind == OP_REG_WRITE) {
        for (i = op->first; i < op->first + op->count; i++) {
            uintptr_t a = (uintptr_t)(p->txlist->tx[p->slots[i].tx].data +
                                      p->slots[i].off);

            if (!*hi || a < *lo) {
                *lo = a;
            }
            if (a + p->slots[i].size > *hi) {
                *hi = a + p->slots[i].size;
            }
        }
    }
}

/* Must @op wait for the packets in flight? */
static bool op_blocked(const Pipe *p, const Op *op)
{
    uintptr_t lo, hi;
    uint32_t i;
    bool reg = op->kind == OP_REG_READ || op->kind == OP_REG_WRITE;

    if (p->in_G && reg) {
        return true;
    }
    if (p->in_g && op->kind == OP_REG_WRITE) {
        return true;
    }
    op_source(p, op, &lo, &hi);
    for (i = 0; hi && i < p->n; i++) {
        const Op *o = &p->ops[(p->head + i) % PIPE_MAX_OPS];

        if (o->hi && o->lo < hi && lo < o->hi) {
            return true;
        }
    }
    return false;
}

/* Decode register values in hex for slots [@first, @first + @count). */
static bool apply_regs(Pipe *p, const Op *op, const char *hex, size_t len)
{
    uint8_t *val = p->reg_buf;
    const RegSlot *slot;
    mcd_tx_st *tx;
    size_t pos = 0;
    uint32_t i;

    if (len != 2 * (size_t)op->bytes) {
        return false;
    }
    if (op->bytes > sizeof(p->reg_buf)) {
        val = malloc(op->bytes);
        if (!val) {
            return false;
        }
    }
    if (!lm_hex_decode(hex, len, val, op->bytes)) {
        if (val != p->reg_buf) {
            free(val);
        }
        return false;
    }
    for (i = op->first; i < op->first + op->count; i++) {
        slot = &p->slots[i];
        tx = &p->txlist->tx[slot->tx];
        if (pipe_counts(p, slot->tx, op->seq)) {
            memcpy(tx->data + slot->off, val + pos, slot->part);
            set_done(tx, slot->off + slot->part);
        }
        pos += slot->size;
    }
    if (val != p->reg_buf) {
        free(val);
    }
    return true;
}

/* "error=<code>.text=<text>." exactly, as the errors extension sends. */
static bool is_error_record(const char *d, size_t n)
{
    size_t i = 6;

    if (n < 14 || memcmp(d, "error=", 6) != 0) {
        return false;
    }
    while (i < n && d[i] >= '0' && d[i] <= '9') {
        i++;
    }
    if (i == 6 || n - i < 7 || memcmp(d + i, ".text=", 6) != 0) {
        return false;
    }
    return memchr(d + i + 6, '.', n - i - 6) == d + n - 1;
}

/* The reply in s->reply, for the error records and messages. */
static void copy_reply(LmServer *s, const char *data, size_t len)
{
    if (len > LM_MAX_REPLY) {
        len = LM_MAX_REPLY;
    }
    memcpy(s->reply, data, len);
    s->reply[len] = '\0';
    s->reply_len = len;
}

/* The reply of the oldest packet in flight. */
static void pipe_complete(Pipe *p)
{
    LmServer *s = p->s;
    Op op = p->ops[p->head];
    mcd_tx_st *tx = &p->txlist->tx[op.tx];
    mcd_error_code_et code;
    const char *data = NULL;
    bool counts, good;
    char name[16];
    size_t len = 0;
    LmError e;
    LmIoResult r;

    p->head = (p->head + 1) % PIPE_MAX_OPS;
    p->n--;
    p->bytes -= op.cost;
    p->in_g -= op.letter == 'g';
    p->in_G -= op.letter == 'G';
    if (p->dead) {
        return;
    }
    code = op.kind == OP_MEM_READ || op.kind == OP_REG_READ
           ? MCD_ERR_TXLIST_READ : MCD_ERR_TXLIST_WRITE;
    r = lm_conn_reply(&s->conn, &data, &len, s->conn.reply_ms);
    if (r != LM_IO_OK) {
        lm_io_fail(s, &e, r, op_name(p, &op, name, sizeof(name)));
        pipe_fail(p, op.tx, op.seq, op.fail_done, &e);
        /* after a time-out or with the connection gone, stop waiting */
        p->dead = r != LM_IO_PROTOCOL || !lm_conn_is_open(&s->conn);
        return;
    }
    counts = pipe_counts(p, op.tx, op.seq);
    switch (op.kind) {
    case OP_MEM_READ:
        if (op.letter == 'x') {
            /* without errors, a failed x answers "error" */
            good = !(s->ext_errors ? is_error_record(data, len)
                                   : len == 5 && !memcmp(data, "error", 5)) &&
                   lm_bin_decode(data, len, op.dst, op.len);
        } else {
            good = lm_hex_decode(data, len, op.dst, op.len);
        }
        if (good) {
            if (counts && op.done >= 0) {
                set_done(tx, op.done);
            }
            return;
        }
        copy_reply(s, data, len);
        if (!lm_reply_failed(s, &e, code,
                             op_name(p, &op, name, sizeof(name)))) {
            lm_fail(&e, code, "malformed data for %u bytes at 0x%" PRIx64,
                    op.len, op.addr);
        }
        break;
    case OP_MEM_WRITE:
        if (len == 7 && memcmp(data, "success", 7) == 0) {
            if (counts && op.old) {
                /* RW: the old data, now that the new is written */
                memcpy(tx->data, op.old, tx->num_bytes);
            }
            if (counts && op.done >= 0) {
                set_done(tx, op.done);
            }
            return;
        }
        copy_reply(s, data, len);
        if (!lm_reply_failed(s, &e, code,
                             op_name(p, &op, name, sizeof(name)))) {
            lm_fail(&e, code, "unexpected reply '%.40s' to a write at 0x%"
                    PRIx64, s->reply, op.addr);
        }
        break;
    case OP_REG_READ:
        if (apply_regs(p, &op, data, len)) {
            return;
        }
        if (op.letter == 'g') {
            if (len == 0) {
                s->ext_regs = false;        /* the stub does not know g */
            }
            p->deferred[p->n_deferred++] = op;
            return;
        }
        copy_reply(s, data, len);
        if (!lm_reply_failed(s, &e, code,
                             op_name(p, &op, name, sizeof(name)))) {
            lm_fail(&e, code, "malformed value of register %s",
                    p->slots[op.first].r->regname);
        }
        break;
    case OP_REG_WRITE:
        if (len == 7 && memcmp(data, "success", 7) == 0) {
            uint32_t i;

            for (i = op.first; i < op.first + op.count; i++) {
                if (pipe_counts(p, p->slots[i].tx, op.seq)) {
                    set_done(&p->txlist->tx[p->slots[i].tx],
                             p->slots[i].off + p->slots[i].part);
                }
            }
            return;
        }
        if (op.letter == 'G') {
            if (len == 0) {
                s->ext_regs = false;
            }
            p->deferred[p->n_deferred++] = op;
            return;
        }
        copy_reply(s, data, len);
        if (!lm_reply_failed(s, &e, code,
                             op_name(p, &op, name, sizeof(name)))) {
            lm_fail(&e, code, "unexpected reply '%.40s' to a write of "
                    "register %s", s->reply, p->slots[op.first].r->regname);
        }
        break;
    }
    pipe_fail(p, op.tx, op.seq, op.fail_done, &e);
}

/*
 * A g or G that failed, register by register: read (or write) each
 * with p (or P) until one fails, which fails its transaction.
 */
static void pipe_redo(Pipe *p, const Op *op)
{
    LmCore *c = p->c;
    uint8_t val[MAX_REG_BYTES];
    const RegSlot *slot;
    mcd_tx_st *tx;
    mcd_return_et ret;
    uint32_t i;

    for (i = op->first; i < op->first + op->count; i++) {
        slot = &p->slots[i];
        tx = &p->txlist->tx[slot->tx];
        if (!pipe_counts(p, slot->tx, op->seq)) {
            return;
        }
        if (op->kind == OP_REG_READ) {
            ret = reg_read(c, slot->r, val, slot->size);
            if (ret == MCD_RET_ACT_NONE) {
                memcpy(tx->data + slot->off, val, slot->part);
            }
        } else {
            ret = reg_write(c, slot->r, tx->data + slot->off, slot->size);
        }
        if (ret != MCD_RET_ACT_NONE) {
            pipe_fail(p, slot->tx, op->seq, slot->off, &c->err);
            return;
        }
        set_done(tx, slot->off + slot->part);
    }
}

/* Take every reply in flight, then do again what failed as a whole. */
static void pipe_drain(Pipe *p)
{
    uint32_t i;

    while (p->n > 0) {
        pipe_complete(p);
    }
    for (i = 0; i < p->n_deferred && !p->dead; i++) {
        pipe_redo(p, &p->deferred[i]);
    }
    p->n_deferred = 0;
}

/* Send @op once there is room and nothing it must wait for. */
static void pipe_send(Pipe *p, Op *op)
{
    LmServer *s = p->s;
    char name[16];
    size_t len;
    LmError e;
    LmIoResult r;

    for (;;) {
        if (p->n_deferred) {
            pipe_drain(p);
        }
        if (p->stop || p->dead) {
            return;
        }
        if (p->n == 0 || (p->n < p->max_ops &&
                          p->bytes + op->cost <= PIPE_MAX_BYTES &&
                          !op_blocked(p, op))) {
            break;
        }
        pipe_complete(p);
    }
    op->seq = p->seq++;
    len = build_op(p, op);
    if (len == 0) {
        lm_fail(&e, MCD_ERR_TXLIST_TX, "the command '%s' does not fit in a "
                "packet", op_name(p, op, name, sizeof(name)));
        pipe_fail(p, op->tx, op->seq, op->fail_done, &e);
        return;
    }
    if (p->n == 0) {
        lm_conn_begin(&s->conn);
    }
    r = lm_conn_write(&s->conn, len);
    if (r != LM_IO_OK) {
        lm_io_fail(s, &e, r, op_name(p, op, name, sizeof(name)));
        pipe_fail(p, op->tx, op->seq, op->fail_done, &e);
        p->dead = true;
        return;
    }
    p->ops[(p->head + p->n) % PIPE_MAX_OPS] = *op;
    p->n++;
    p->bytes += op->cost;
    p->in_g += op->letter == 'g';
    p->in_G += op->letter == 'G';
}

/* A transaction fails before anything of it is sent. */
static void pipe_local_fail(Pipe *p, uint32_t tx, uint32_t done,
                            mcd_error_code_et code, const char *fmt, ...)
    LM_PRINTF(5, 6);

static void pipe_flush(Pipe *p);

static void pipe_local_fail(Pipe *p, uint32_t tx, uint32_t done,
                            mcd_error_code_et code, const char *fmt, ...)
{
    LmError e;
    va_list ap;

    pipe_flush(p);
    lm_clear(&e);
    e.ret = MCD_RET_ACT_HANDLE_ERROR;
    e.code = code;
    va_start(ap, fmt);
    vsnprintf(e.text, sizeof(e.text), fmt, ap);
    va_end(ap);
    pipe_fail(p, tx, p->seq++, done, &e);
}

static unsigned int digits(uint64_t v)
{
    uint64_t p = 10;
    unsigned int n = 1;

    while (n < 20 && v >= p) {
        p *= 10;
        n++;
    }
    return n;
}

/* The id list of the slots of @o grown by @id: "0-33,66" */
static size_t ids_len_with(const Pipe *p, const Op *o, uint64_t id)
{
    uint64_t last;

    if (!o->count) {
        return digits(id);
    }
    last = p->slots[o->first + o->count - 1].r->addr.address;
    if (id != last + 1) {
        return o->ids_len + 1 + digits(id);
    }
    /* the range that ends at @last goes on to @id */
    return o->ids_len - (o->range_start == last ? 0 : 1 + digits(last)) +
           1 + digits(id);
}

/* Send the register slots collected. */
static void pipe_flush(Pipe *p)
{
    Op op;

    if (p->have_open) {
        p->have_open = false;
        op = p->open;
        pipe_send(p, &op);
    }
}

/*
 * Add a register of a transaction: to the g or G being collected, or as
 * a p or P of its own.
 */
static bool pipe_add_reg(Pipe *p, bool write, const mcd_register_info_st *r,
                         uint32_t tx, uint32_t off, uint32_t part)
{
    LmServer *s = p->s;
    uint32_t size = (r->regsize + 7) / 8;
    OpKind kind = write ? OP_REG_WRITE : OP_REG_READ;
    const mcd_tx_st *t = &p->txlist->tx[tx];
    uintptr_t dst = (uintptr_t)(t->data + off);
    RegSlot *slots;
    Op *o = &p->open;
    bool batch = s->ext_regs && !p->no_batch && size <= s->max_data;
    size_t ids_len;

    if (p->n_slots == p->slots_size) {
        uint32_t n = p->slots_size ? 2 * p->slots_size : 64;

        slots = realloc(p->slots, n * sizeof(*slots));
        if (!slots) {
            return false;
        }
        p->slots = slots;
        p->slots_size = n;
    }
    /*
     * A g or G names at most MAX_REG_LIST registers of max_data bytes,
     * and its packet, the ids and for G the values in hex, must fit.
     */
    ids_len = p->have_open ? ids_len_with(p, o, r->addr.address) : 0;
    if (p->have_open && (!batch || o->kind != kind ||
                         o->count == MAX_REG_LIST ||
                         o->bytes + size > s->max_data ||
                         ids_len + (write ? 2 * (size_t)(o->bytes + size)
                                          : 0) + 64 > s->max_payload)) {
        pipe_flush(p);
    }
    p->slots[p->n_slots] = (RegSlot){ r, tx, off, part, size };
    if (!p->have_open) {
        memset(o, 0, sizeof(*o));
        o->kind = kind;
        o->letter = batch ? (write ? 'G' : 'g') : (write ? 'P' : 'p');
        o->tx = tx;
        o->done = -1;
        o->fail_done = off;
        o->first = p->n_slots;
        p->have_open = true;
    }
    o->ids_len = o->count ? ids_len : digits(r->addr.address);
    if (!o->count ||
        r->addr.address != p->slots[p->n_slots - 1].r->addr.address + 1) {
        o->range_start = r->addr.address;
    }
    o->count++;
    o->bytes += size;
    o->cost += 2 * (size_t)size + 24;
    if (!write) {
        if (!o->hi || dst < o->lo) {
            o->lo = dst;
        }
        if (dst + part > o->hi) {
            o->hi = dst + part;
        }
    }
    p->n_slots++;
    if (!batch) {
        pipe_flush(p);
    }
    return true;
}

/* The packets of memory transaction @i. */
static void pipe_mem(Pipe *p, uint32_t i, const mcd_memspace_st *ms)
{
    LmServer *s = p->s;
    mcd_tx_st *tx = &p->txlist->tx[i];
    uint32_t len = tx->num_bytes;
    bool nse = tx->options & MCD_TX_OPT_NO_SIDE_EFFECTS;
    bool binary = s->ext_binary;
    uint32_t chunk = binary ? s->max_binary : s->max_data;
    uint8_t *old = NULL, **olds;
    uint32_t phase, off, n;
    Op op;

    if (nse && (tx->access_type == MCD_TX_AT_R ||
                tx->access_type == MCD_TX_AT_RW ||
                tx->access_type == MCD_TX_AT_WR) &&
        !(ms->supported_access_options & MCD_TX_OPT_NO_SIDE_EFFECTS)) {
        pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "transaction %u: %s", i,
                        s->ext_txopt
                        ? "the memory space does not support reads without "
                          "side effects"
                        : "the MCD stub cannot read without side effects "
                          "(no txopt extension)");
        return;
    }
    if (tx->access_type < MCD_TX_AT_R || tx->access_type > MCD_TX_AT_WR) {
        pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "unknown access type %u",
                        tx->access_type);
        return;
    }
    if (tx->access_type == MCD_TX_AT_RW && len) {
        /* read the old data, write the new, return the old */
        if (p->n_olds == p->olds_size) {
            olds = realloc(p->olds, (p->olds_size + 16) * sizeof(*olds));
            if (!olds) {
                pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "out of memory");
                return;
            }
            p->olds = olds;
            p->olds_size += 16;
        }
        old = malloc(len);
        if (!old) {
            pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "out of memory");
            return;
        }
        p->olds[p->n_olds++] = old;
    }
    /* the phases: a read, a write, or both in the order of the type */
    for (phase = 0; phase < 2; phase++) {
        bool write;

        switch (tx->access_type) {
        case MCD_TX_AT_R:
            if (phase) {
                return;
            }
            write = false;
            break;
        case MCD_TX_AT_W:
            if (phase) {
                return;
            }
            write = true;
            break;
        case MCD_TX_AT_RW:
            write = phase == 1;
            break;
        default:
            write = phase == 0;
            break;
        }
        if (phase) {
            /*
             * The second half of RW or WR only once the first half
             * succeeded: a refused read (a device with no side effects
             * asked for) must not be followed by the write.
             */
            pipe_drain(p);
        }
        for (off = 0; off < len && !p->stop; off += n) {
            n = len - off < chunk ? len - off : chunk;
            memset(&op, 0, sizeof(op));
            op.kind = write ? OP_MEM_WRITE : OP_MEM_READ;
            op.letter = write ? (binary ? 'X' : 'M') : (binary ? 'x' : 'm');
            op.tx = i;
            op.addr = tx->addr.address + off;
            op.len = n;
            op.cost = 2 * (size_t)n + 64;
            op.done = -1;
            op.fail_done = 0;
            if (tx->access_type == MCD_TX_AT_RW) {
                if (!write) {
                    op.dst = old + off;
                } else if (off + n == len) {
                    /* the last write returns the old data */
                    op.old = old;
                    op.done = len;
                    op.lo = (uintptr_t)tx->data;
                    op.hi = op.lo + len;
                }
            } else if (!write) {
                op.dst = tx->data + off;
                op.done = off + n;
                op.fail_done = off;
                op.lo = (uintptr_t)op.dst;
                op.hi = op.lo + n;
            } else if (tx->access_type == MCD_TX_AT_W) {
                op.done = off + n;
                op.fail_done = off;
            }
            pipe_send(p, &op);
        }
    }
}

/* The packets of register transaction @i, or the transaction itself. */
static void pipe_regs(Pipe *p, uint32_t i)
{
    LmCore *c = p->c;
    mcd_tx_st *tx = &p->txlist->tx[i];
    const mcd_register_info_st *r;
    uint64_t id = tx->addr.address;
    uint32_t done = 0, size, part;
    bool whole = true;
    mcd_return_et ret;

    if (tx->access_type < MCD_TX_AT_R || tx->access_type > MCD_TX_AT_WR) {
        pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "unknown access type %u",
                        tx->access_type);
        return;
    }
    if (tx->access_type == MCD_TX_AT_W) {
        /* writes of whole registers only; the rest reads first */
        for (done = 0; done < tx->num_bytes; done += size, id++) {
            r = find_reg(c, tx->addr.mem_space_id, id);
            if (!r) {
                whole = false;
                break;
            }
            size = (r->regsize + 7) / 8;
            if (tx->num_bytes - done < size) {
                whole = false;
                break;
            }
        }
        id = tx->addr.address;
    }
    if (tx->access_type != MCD_TX_AT_R && (tx->access_type != MCD_TX_AT_W ||
                                            !whole)) {
        /* one packet at a time, after everything before it */
        pipe_flush(p);
        pipe_drain(p);
        if (p->stop || p->dead) {
            return;
        }
        ret = reg_tx(c, tx);
        if (ret != MCD_RET_ACT_NONE) {
            pipe_fail(p, i, p->seq++, tx->num_bytes_ok, &c->err);
        }
        return;
    }
    for (done = 0; done < tx->num_bytes && !p->stop; done += part, id++) {
        r = find_reg(c, tx->addr.mem_space_id, id);
        if (!r) {
            pipe_local_fail(p, i, done, MCD_ERR_TXLIST_TX, "memory space %u "
                            "has no register %" PRIu64,
                            tx->addr.mem_space_id, id);
            return;
        }
        size = (r->regsize + 7) / 8;
        part = tx->num_bytes - done < size ? tx->num_bytes - done : size;
        if (!pipe_add_reg(p, tx->access_type == MCD_TX_AT_W, r, i, done,
                          part)) {
            pipe_local_fail(p, i, done, MCD_ERR_TXLIST_TX, "out of memory");
            return;
        }
    }
}

/* The most registers the direct read below takes, and their bytes. */
#define DIRECT_MAX_REGS 256
#define DIRECT_MAX_BYTES 4096

/*
 * The g of a register-only list, as regs_read_direct() sends it: a
 * debugger reads the same registers again and again, so the walk
 * through the register map and the id list are kept (LmCore.direct_plan)
 * for the next list of the same shape, which reads the same registers:
 * the same number of transactions with the same addresses, spaces and
 * sizes.
 */
typedef struct LmDirectAt {
    uint32_t tx;                /* bytes [off, off + part) of tx */
    uint32_t off, part;
    uint32_t size;              /* the register's bytes in the reply */
} LmDirectAt;

typedef struct LmDirectPlan {
    uint32_t num_tx;
    uint32_t n, bytes;          /* registers, and their bytes */
    struct {
        uint64_t addr;
        uint32_t space, num_bytes;
    } *key;                     /* num_tx: the list's shape */
    LmDirectAt *at;             /* n: where each register goes */
    char *cmd;                  /* the g, cmd_len bytes */
    size_t cmd_len;
} LmDirectPlan;

typedef enum Direct {
    DIRECT_NOT,         /* not such a list: nothing sent */
    DIRECT_DONE,
    DIRECT_FAILED,      /* the g failed */
} Direct;

/*
 * A list that only reads whole or partial registers, the most common
 * list of a debugger (the registers after a stop): one g, sent and
 * decoded without the pipeline.  If the g fails, the pipeline does the
 * list again with a p per register, to find the register that failed.
 */
typedef struct DirectRegs {
    LmServer *s;
    mcd_tx_st *tx0;
    uint32_t n, bytes;
    uint64_t ids[DIRECT_MAX_REGS];
    LmDirectAt at[DIRECT_MAX_REGS];
} DirectRegs;

static bool direct_reg(void *opaque, mcd_tx_st *tx, uint32_t off,
                       uint32_t part, uint64_t id, uint32_t size)
{
    DirectRegs *d = opaque;

    if (d->n == DIRECT_MAX_REGS || d->bytes + size > DIRECT_MAX_BYTES ||
        d->bytes + size > d->s->max_data) {
        return false;
    }
    d->ids[d->n] = id;
    d->at[d->n].tx = tx - d->tx0;
    d->at[d->n].off = off;
    d->at[d->n].part = part;
    d->at[d->n].size = size;
    d->n++;
    d->bytes += size;
    return true;
}

/* Whether @txlist has the shape the plan @p was made for. */
static bool plan_fits(const LmDirectPlan *p, const mcd_txlist_st *txlist)
{
    const mcd_tx_st *tx;
    uint32_t i;

    if (!p || p->num_tx != txlist->num_tx) {
        return false;
    }
    for (i = 0; i < p->num_tx; i++) {
        tx = &txlist->tx[i];
        if (tx->addr.address != p->key[i].addr ||
            tx->addr.mem_space_id != p->key[i].space ||
            tx->num_bytes != p->key[i].num_bytes ||
            tx->access_type != MCD_TX_AT_R ||
            (tx->num_bytes && !tx->data)) {
            return false;
        }
    }
    return true;
}

/*
 * The plan of a g for @txlist, made from the register map, kept as the
 * core's plan; NULL if @txlist is no list for a g.
 */
static const LmDirectPlan *plan_new(LmCore *c, mcd_txlist_st *txlist)
{
    LmServer *s = c->srv;
    DirectRegs d;       /* its arrays are filled as far as used */
    LmDirectPlan *p;
    size_t len, size;
    uint32_t i;

    d.s = s;
    d.tx0 = txlist->tx;
    d.n = 0;
    d.bytes = 0;
    if (!reg_reads(c, txlist, direct_reg, &d) || !d.n) {
        return NULL;
    }
    /* "g<core>;<ids>", the ids as ranges: fits, with 43 bytes a range */
    if (32 + 43 * (size_t)d.n > s->max_payload) {
        return NULL;
    }
    len = 0;
    s->cmd[len++] = 'g';
    len += lm_put_u64(s->cmd + len, c->index);
    s->cmd[len++] = ';';
    len += put_ids(s->cmd + len, d.ids, d.n);

    size = sizeof(*p) + txlist->num_tx * sizeof(p->key[0]) +
           d.n * sizeof(p->at[0]) + len;
    p = malloc(size);
    if (!p) {
        return NULL;
    }
    p->num_tx = txlist->num_tx;
    p->n = d.n;
    p->bytes = d.bytes;
    p->key = (void *)(p + 1);
    p->at = (void *)(p->key + p->num_tx);
    p->cmd = (char *)(p->at + p->n);
    p->cmd_len = len;
    for (i = 0; i < p->num_tx; i++) {
        p->key[i].addr = txlist->tx[i].addr.address;
        p->key[i].space = txlist->tx[i].addr.mem_space_id;
        p->key[i].num_bytes = txlist->tx[i].num_bytes;
    }
    memcpy(p->at, d.at, d.n * sizeof(p->at[0]));
    memcpy(p->cmd, s->cmd, len);
    free(c->direct_plan);
    c->direct_plan = p;
    return p;
}

static Direct regs_read_direct(LmCore *c, mcd_txlist_st *txlist)
{
    LmServer *s = c->srv;
    const LmDirectPlan *p;
    uint8_t val[DIRECT_MAX_BYTES];
    uint32_t i, pos;

    if (!s->ext_regs) {
        return DIRECT_NOT;
    }
    p = c->direct_plan;
    if (!plan_fits(p, txlist)) {
        p = plan_new(c, txlist);
        if (!p) {
            return DIRECT_NOT;
        }
    }
    memcpy(s->cmd, p->cmd, p->cmd_len);
    if (lm_cmd_reply_raw(s, &c->err, MCD_ERR_TXLIST_READ, p->cmd_len) !=
        MCD_RET_ACT_NONE ||
        !lm_hex_decode(s->reply, s->reply_len, val, p->bytes)) {
        if (s->reply_len == 0 && lm_conn_is_open(&s->conn)) {
            s->ext_regs = false;        /* the stub does not know g */
        }
        lm_clear(&c->err);
        return DIRECT_FAILED;
    }
    for (i = 0, pos = 0; i < p->n; i++) {
        memcpy(txlist->tx[p->at[i].tx].data + p->at[i].off, val + pos,
               p->at[i].part);
        pos += p->at[i].size;
    }
    for (i = 0; i < txlist->num_tx; i++) {
        txlist->tx[i].num_bytes_ok = txlist->tx[i].num_bytes;
    }
    txlist->num_tx_ok = txlist->num_tx;
    return DIRECT_DONE;
}

mcd_return_et lm_execute_txlist(LmCore *c, mcd_txlist_st *txlist)
{
    const mcd_memspace_st *ms;
    mcd_tx_st *tx;
    SrList kind;
    Direct direct;
    Pipe *p;
    uint32_t i;
    mcd_return_et ret;

    if (!txlist || (txlist->num_tx && !txlist->tx)) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "no transaction list");
    }
    txlist->num_tx_ok = 0;
    ret = lm_core_spaces(c);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    if (!lm_conn_is_open(&c->srv->conn)) {
        return lm_fail(&c->err, MCD_ERR_CONNECTION, "not connected to the "
                       "MCD stub at %s:%u", c->srv->host, c->srv->port);
    }
    if (sr_serve(c, txlist)) {
        return MCD_RET_ACT_NONE;
    }
    kind = c->sr_valid || sr_may_learn(c) ? sr_list(c, txlist, false)
                                          : SR_OTHER;
    if (kind == SR_OTHER) {
        /* it may write registers */
        c->sr_valid = false;
    }
    direct = regs_read_direct(c, txlist);
    if (direct == DIRECT_DONE) {
        if (kind != SR_OTHER && sr_may_learn(c)) {
            sr_learn(c, txlist);
        }
        return MCD_RET_ACT_NONE;
    }
    p = malloc(sizeof(*p));
    if (!p) {
        return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "out of memory");
    }
    memset(p, 0, offsetof(Pipe, reg_buf));
    p->c = c;
    p->s = c->srv;
    p->txlist = txlist;
    /* an era-1 stub gets one packet at a time */
    p->max_ops = c->srv->era1 ? 1 : PIPE_MAX_OPS;
    /* after a g that failed: a p per register, one at a time */
    p->no_batch = direct == DIRECT_FAILED;
    if (p->no_batch) {
        p->max_ops = 1;
    }
    for (i = 0; i < txlist->num_tx && !p->stop && !p->dead; i++) {
        tx = &txlist->tx[i];
        tx->num_bytes_ok = 0;
        if (tx->num_bytes && !tx->data) {
            pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "transaction %u has "
                            "no data buffer", i);
            break;
        }
        ms = find_space(c, tx->addr.mem_space_id);
        if (!ms) {
            pipe_local_fail(p, i, 0, MCD_ERR_TXLIST_TX, "transaction %u: "
                            "core %u has no memory space %u", i, c->index,
                            tx->addr.mem_space_id);
            break;
        }
        if (!(ms->mem_type & MCD_MEM_SPACE_IS_REGISTERS)) {
            pipe_flush(p);
            pipe_mem(p, i, ms);
            continue;
        }
        if (!c->have_regs) {
            /* the register list first, with nothing in flight */
            pipe_flush(p);
            pipe_drain(p);
            if (p->stop || p->dead) {
                break;
            }
            if (lm_core_regs(c) != MCD_RET_ACT_NONE) {
                pipe_fail(p, i, p->seq++, 0, &c->err);
                break;
            }
        }
        pipe_regs(p, i);
    }
    pipe_flush(p);
    pipe_drain(p);
    for (i = 0; i < p->n_olds; i++) {
        free(p->olds[i]);
    }
    free(p->olds);
    free(p->slots);
    if (p->failed) {
        c->err = p->err;
        txlist->num_tx_ok = p->fail_tx;
        ret = MCD_RET_ACT_HANDLE_ERROR;
    } else {
        txlist->num_tx_ok = txlist->num_tx;
        ret = MCD_RET_ACT_NONE;
    }
    free(p);
    if (ret == MCD_RET_ACT_NONE && kind != SR_OTHER && sr_may_learn(c)) {
        sr_learn(c, txlist);
    }
    return ret;
}

/*
 * Triggers
 */

static LmTrigger *find_trig(LmCore *c, uint32_t id)
{
    if (id == 0 || id > MCD_MAX_TRIGS || !c->trigs[id - 1].used) {
        return NULL;
    }
    return &c->trigs[id - 1];
}

/* t or T for trigger @id. */
static mcd_return_et send_trig(LmCore *c, uint32_t id, bool set)
{
    LmTrigger *t = &c->trigs[id - 1];
    LmServer *s = c->srv;

    if (s->ext_wplen) {
        return lm_cmd_success(s, &c->err, MCD_ERR_TRIG_ACCESS,
                              "%c%u;%u;%" PRIu64 ";%u;%" PRIu64,
                              set ? 't' : 'T', c->index, t->type, t->addr,
                              id, t->len);
    }
    return lm_cmd_success(s, &c->err, MCD_ERR_TRIG_ACCESS,
                          "%c%u;%u;%" PRIu64 ";%u", set ? 't' : 'T',
                          c->index, t->type, t->addr, id);
}

mcd_return_et lm_qry_trig_info(LmCore *c, mcd_trig_info_st *info)
{
    LmServer *s = c->srv;
    LmRecord rec;
    const char *types;
    mcd_return_et ret;

    if (!info) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "trig_info is NULL");
    }
    ret = lm_cmd_reply(s, &c->err, MCD_ERR_GENERAL, "qtrigger");
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    memset(info, 0, sizeof(*info));
    if (!lm_record_parse(s->reply, &rec) ||
        !lm_record_u32(&rec, "nr_trigger", &info->trig_number)) {
        return lm_fail(&c->err, MCD_ERR_GENERAL, "malformed reply to "
                       "qtrigger: '%.60s'", s->reply);
    }
    types = lm_record_get(&rec, "type");
    if (lm_list_has(types, "1")) {
        info->type |= MCD_TRIG_TYPE_IP;
    }
    if (lm_list_has(types, "2")) {
        info->type |= MCD_TRIG_TYPE_READ;
    }
    if (lm_list_has(types, "3")) {
        info->type |= MCD_TRIG_TYPE_WRITE;
    }
    if (lm_list_has(types, "4")) {
        info->type |= MCD_TRIG_TYPE_RW;
    }
    if (info->trig_number > MCD_MAX_TRIGS) {
        info->trig_number = MCD_MAX_TRIGS;
    }
    info->option = MCD_TRIG_OPT_IMPL_HARDWARE;
    info->action = MCD_TRIG_ACTION_DBG_DEBUG;
    info->state_number = 0;
    info->counter_number = 0;
    info->sw_breakpoints = FALSE;
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_create_trig(LmCore *c, void *trig, uint32_t *trig_id)
{
    mcd_trig_simple_core_st *hdr;
    LmTrigger *t = NULL;
    uint32_t size, type, i;
    uint64_t len = 0;
    bool modified = false;

    if (!trig || !trig_id) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "no trigger or no place for "
                       "its id");
    }
    memcpy(&size, trig, sizeof(size));
    if (size != sizeof(mcd_trig_simple_core_st) &&
        size != sizeof(mcd_trig_complex_core_st)) {
        return lm_fail(&c->err, MCD_ERR_TRIG_CREATE, "libmcd supports simple "
                       "and complex core triggers, not a trigger structure "
                       "of %u bytes", size);
    }
    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        if (!c->trigs[i].used) {
            t = &c->trigs[i];
            break;
        }
    }
    if (!t) {
        return lm_fail(&c->err, MCD_ERR_TRIG_CREATE, "core %u has %d "
                       "triggers already", c->index, MCD_MAX_TRIGS);
    }
    memset(t, 0, sizeof(*t));
    memcpy(&t->u, trig, size);
    t->size = size;
    /* both structures start alike, up to addr_range */
    hdr = &t->u.simple;
    switch (hdr->type) {
    case MCD_TRIG_TYPE_IP:
        type = PT_BREAKPOINT;
        break;
    case MCD_TRIG_TYPE_READ:
        type = PT_READ;
        break;
    case MCD_TRIG_TYPE_WRITE:
        type = PT_WRITE;
        break;
    case MCD_TRIG_TYPE_RW:
        type = PT_ACCESS;
        break;
    default:
        return lm_fail(&c->err, MCD_ERR_TRIG_CREATE, "trigger type 0x%x: "
                       "libmcd supports one of IP, READ, WRITE and RW",
                       hdr->type);
    }
    if (type == PT_BREAKPOINT) {
        if (hdr->addr_range != 0) {
            hdr->addr_range = 0;
            modified = true;
        }
        len = 4;
    } else {
        if (hdr->addr_range == UINT64_MAX) {
            return lm_fail(&c->err, MCD_ERR_TRIG_CREATE, "a watchpoint "
                           "cannot cover the whole address space");
        }
        len = hdr->addr_range + 1;
        if (!c->srv->ext_wplen && len != ERA1_WATCH_LEN) {
            /* the era-1 protocol watches 4 bytes */
            len = ERA1_WATCH_LEN;
            hdr->addr_range = ERA1_WATCH_LEN - 1;
            modified = true;
        }
    }
    /* no conditions: only where the trigger is implemented is kept */
    if (hdr->option & ~(MCD_TRIG_OPT_IMPL_HARDWARE |
                        MCD_TRIG_OPT_IMPL_SOFTWARE)) {
        hdr->option &= MCD_TRIG_OPT_IMPL_HARDWARE |
                       MCD_TRIG_OPT_IMPL_SOFTWARE;
        modified = true;
    }
    /* a hit stops the target */
    if (hdr->action != MCD_TRIG_ACTION_DBG_DEBUG &&
        hdr->action != MCD_TRIG_ACTION_DBG_GLOBAL) {
        hdr->action = MCD_TRIG_ACTION_DBG_DEBUG;
        modified = true;
    }
    hdr->modified = modified ? TRUE : FALSE;
    t->type = type;
    t->addr = hdr->addr_start.address;
    t->len = len;
    t->used = true;
    memcpy(trig, &t->u, size);
    *trig_id = (uint32_t)(t - c->trigs) + 1;
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_qry_trig(LmCore *c, uint32_t trig_id, uint32_t max_size,
                          void *trig)
{
    LmTrigger *t = find_trig(c, trig_id);

    if (!t) {
        return lm_fail(&c->err, MCD_ERR_TRIG_ACCESS, "core %u has no "
                       "trigger %u", c->index, trig_id);
    }
    if (!trig || max_size < t->size) {
        return lm_fail(&c->err, MCD_ERR_RESULT_TOO_LONG, "trigger %u needs "
                       "%u bytes", trig_id, t->size);
    }
    memcpy(trig, &t->u, t->size);
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_remove_trig(LmCore *c, uint32_t trig_id)
{
    LmTrigger *t = find_trig(c, trig_id);
    mcd_return_et ret = MCD_RET_ACT_NONE;

    if (!t) {
        return lm_fail(&c->err, MCD_ERR_TRIG_ACCESS, "core %u has no "
                       "trigger %u", c->index, trig_id);
    }
    if (t->set) {
        ret = send_trig(c, trig_id, false);
    }
    /* gone from libmcd's trigger set even if the stub refused */
    memset(t, 0, sizeof(*t));
    return ret;
}

mcd_return_et lm_qry_trig_state(LmCore *c, uint32_t trig_id,
                                mcd_trig_state_st *state)
{
    LmTrigger *t = find_trig(c, trig_id);

    if (!t || !state) {
        return lm_fail(&c->err, MCD_ERR_TRIG_ACCESS, "core %u has no "
                       "trigger %u", c->index, trig_id);
    }
    memset(state, 0, sizeof(*state));
    state->active = t->set ? TRUE : FALSE;
    state->captured = t->captured ? TRUE : FALSE;
    state->captured_valid = TRUE;
    state->count_valid = FALSE;
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_activate_trig_set(LmCore *c)
{
    uint32_t i;
    mcd_return_et ret;

    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        if (c->trigs[i].used && !c->trigs[i].set) {
            ret = send_trig(c, i + 1, true);
            if (ret != MCD_RET_ACT_NONE) {
                return ret;
            }
            c->trigs[i].set = true;
        }
    }
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_remove_trig_set(LmCore *c)
{
    mcd_return_et ret = MCD_RET_ACT_NONE;
    mcd_return_et r;
    uint32_t i;

    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        if (c->trigs[i].used) {
            r = lm_remove_trig(c, i + 1);
            if (ret == MCD_RET_ACT_NONE) {
                ret = r;
            }
        }
    }
    return ret;
}

mcd_return_et lm_qry_trig_set(LmCore *c, uint32_t start, uint32_t *num,
                              uint32_t *ids)
{
    uint32_t total = 0, first, n, i, k;
    mcd_return_et ret;

    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        total += c->trigs[i].used;
    }
    ret = lm_list_range(&c->err, total, start, num, ids, &first, &n);
    for (i = 0, k = 0; ret == MCD_RET_ACT_NONE && i < MCD_MAX_TRIGS && n;
         i++) {
        if (c->trigs[i].used && k++ >= first) {
            *ids++ = i + 1;
            n--;
        }
    }
    return ret;
}

mcd_return_et lm_qry_trig_set_state(LmCore *c, mcd_trig_set_state_st *st)
{
    uint32_t i;

    if (!st) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "trig_state is NULL");
    }
    memset(st, 0, sizeof(*st));
    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        if (c->trigs[i].set) {
            st->active = TRUE;
        }
    }
    return MCD_RET_ACT_NONE;
}

/*
 * The trigger that stopped the core, from a state record without
 * stoprec: by type, and by address (for breakpoints the one in the
 * stop text); if that fails the only trigger set of that type.
 */
static uint32_t stopping_trig(LmCore *c, uint32_t type, uint64_t addr,
                              const char *stop_str)
{
    const char *hex;
    uint32_t i, found = 0, candidates = 0;
    LmTrigger *t;

    if (type == PT_BREAKPOINT && addr == 0 && stop_str) {
        /* the breakpoint's address is in the text: "... at 0x40200048" */
        hex = strstr(stop_str, "0x");
        if (hex) {
            addr = strtoull(hex + 2, NULL, 16);
        }
    }
    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        t = &c->trigs[i];
        if (!t->set || t->type != type) {
            continue;
        }
        candidates++;
        if (type == PT_BREAKPOINT ? addr == t->addr
            : addr >= t->addr && addr - t->addr < t->len) {
            found = i + 1;
        }
    }
    if (!found && candidates == 1) {
        for (i = 0; i < MCD_MAX_TRIGS; i++) {
            if (c->trigs[i].set && c->trigs[i].type == type) {
                found = i + 1;
            }
        }
    }
    return found;
}

/*
 * Run control
 */

static void forget_stop(LmCore *c)
{
    uint32_t i;

    c->stop_pending = false;
    for (i = 0; i < MCD_MAX_TRIGS; i++) {
        c->trigs[i].captured = false;
    }
}

/* Before the target runs: the triggers not set yet, on every core. */
static mcd_return_et arm_triggers(LmCore *c)
{
    LmServer *s = c->srv;
    uint32_t i;
    mcd_return_et ret;

    for (i = 0; i < s->nr_cores; i++) {
        if (s->cores[i]) {
            forget_stop(s->cores[i]);
            ret = lm_activate_trig_set(s->cores[i]);
            if (ret != MCD_RET_ACT_NONE) {
                if (s->cores[i] != c) {
                    c->err = s->cores[i]->err;
                }
                return ret;
            }
        }
    }
    return MCD_RET_ACT_NONE;
}

/*
 * A run or a step returns once the stub took it; its end is seen by
 * mcd_qry_state_f.  With notify, QEMU tells when a core stops by itself
 * (a trigger, the end of its steps, a reset that halts it), with the
 * state record when stoprec is on too: that record answers the next
 * state query of the core.  The state of a core libmcd let run, of which
 * no stop notification came, is served from the last real query for
 * LM_STATE_REFRESH_MS: the monitor or gdb can stop the VM without a
 * notification.  A state query soon after a step waits a moment for the
 * step's notification, so that a debugger that asks right after the
 * step, as TRACE32 does, has the stop in that query.
 *
 * Without the steps extension a step count is one c per step:
 * mcd_step_f sends the first, and each state query that sees the core
 * stopped after one of them sends the next and answers "running", until
 * the count is done, something else stopped the core (a trigger) or
 * mcd_stop_f ended it.
 *
 * These waits hold the call lock (libmcd.c), but give up when another
 * thread waits for it (checked between slices of a few milliseconds):
 * mcd_stop_f from another thread goes out within them.
 */

/* How long a "running" from the stub holds for a core libmcd let run. */
#define LM_STATE_REFRESH_MS 50
/*
 * A state query that follows the last one within LM_STATE_BUSY_US waits
 * up to LM_STATE_BUSY_WAIT_MS for a notification before it answers
 * "running": a debugger that asks as fast as it can then sleeps until
 * the stop rather than spin, which would take the CPU from QEMU.
 */
#define LM_STATE_BUSY_US 1000
#define LM_STATE_BUSY_WAIT_MS 2
/*
 * A state query within LM_STEP_WAIT_MS of the start of a step waits for
 * the step's notification until then (a single step takes far less), in
 * slices of LM_RECV_SLICE_MS between which other threads may go first.
 */
#define LM_STEP_WAIT_MS 10

/*
 * The cores that @c and @global name are let run by the command whose
 * '+' will be @seq: notifications sent before it are old news, and a
 * step count in progress is over.
 */
static void let_run(LmCore *c, bool global, uint64_t seq)
{
    LmServer *s = c->srv;
    uint32_t i;

    for (i = 0; i < s->nr_cores; i++) {
        LmCore *k = s->cores[i];

        if (k && (global || k == c)) {
            k->note_valid = false;
            k->sr_valid = false;
            k->stop_note_ms = 0;
            k->run_seq = seq;
            k->started = false;
            k->have_running = false;
            k->stepping = false;
            k->steps_left = 0;
        }
    }
}

/* After the command: they run (or stopped running) as libmcd knows. */
static void set_started(LmCore *c, bool global, bool started)
{
    LmServer *s = c->srv;
    uint32_t i;

    for (i = 0; i < s->nr_cores; i++) {
        LmCore *k = s->cores[i];

        if (k && (global || k == c)) {
            k->started = started;
            k->have_running = false;
            if (!started) {
                k->stepping = false;
                k->steps_left = 0;
            }
        }
    }
}

mcd_return_et lm_run(LmCore *c, bool global)
{
    mcd_return_et ret = arm_triggers(c);

    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    let_run(c, global, lm_conn_next_ack(&c->srv->conn));
    ret = lm_cmd_done(c->srv, &c->err, MCD_ERR_GENERAL, false, "C%u;%u",
                      global ? 1 : 0, global ? 0 : c->index);
    set_started(c, global, ret == MCD_RET_ACT_NONE);
    c->run_ms = lm_now_ms();
    return ret;
}

mcd_return_et lm_stop(LmCore *c, bool global)
{
    mcd_return_et ret;

    /* the break ends a step count, also one of single steps (no steps) */
    ret = lm_cmd_done(c->srv, &c->err, MCD_ERR_GENERAL, false, "b%u;%u",
                      global ? 1 : 0, global ? 0 : c->index);
    set_started(c, global, false);
    return ret;
}

typedef struct StateRecord {
    mcd_core_state_et state;
    uint32_t event;
    uint32_t thread;
    uint32_t type;
    uint64_t addr;
    const char *stop_str;
    const char *info_str;
    uint32_t trig_id;           /* with stoprec */
} StateRecord;

/* A state record in @text, parsed in place: @st points into it. */
static mcd_return_et parse_state(LmCore *c, char *text, StateRecord *st)
{
    /* the keys in the order of the record */
    static const char *const keys[] = {
        "state", "event", "thread", "type", "address", "stop_str",
        "info_str", "trig_id",
    };
    const char *v[sizeof(keys) / sizeof(keys[0])];
    LmServer *s = c->srv;
    LmRecord rec;
    LmTrigger *t;
    const char *state;

    if (!lm_record_parse(text, &rec)) {
        v[0] = NULL;
    } else {
        lm_record_find(&rec, keys, sizeof(keys) / sizeof(keys[0]), v);
    }
    state = v[0];
    if (!state) {
        return lm_fail(&c->err, MCD_ERR_GENERAL, "malformed reply to "
                       "qstate: '%.60s'", text);
    }
    memset(st, 0, sizeof(*st));
    if (strcmp(state, "running") == 0) {
        st->state = MCD_CORE_STATE_RUNNING;
    } else if (strcmp(state, "halted") == 0) {
        st->state = MCD_CORE_STATE_HALTED;
    } else if (strcmp(state, "debug") == 0) {
        st->state = MCD_CORE_STATE_DEBUG;
    } else {
        st->state = MCD_CORE_STATE_UNKNOWN;
    }
    lm_parse_u32(v[1], &st->event);
    lm_parse_u32(v[2], &st->thread);
    lm_parse_u32(v[3], &st->type);
    lm_parse_u64(v[4], &st->addr);
    st->stop_str = v[5];
    st->info_str = v[6];
    if (!st->stop_str) {
        st->stop_str = "";
    }
    if (!st->info_str) {
        st->info_str = "";
    }
    if (s->ext_stoprec) {
        /*
         * The stub keeps the stop until the core runs again, names the
         * trigger that hit, and sets MCD_CORE_EVENT_STOPPED in the first
         * record after the stop: keep that event if libmcd saw it first.
         */
        lm_parse_u32(v[7], &st->trig_id);
        if (st->event & MCD_CORE_EVENT_STOPPED) {
            c->stop_pending = true;
            c->stop_type = st->type;
        }
        t = st->state != MCD_CORE_STATE_RUNNING ? find_trig(c, st->trig_id)
                                                : NULL;
        if (t && t->set) {
            t->captured = true;
        }
        return MCD_RET_ACT_NONE;
    }
    /* the stub reports why a core stopped only once: keep it */
    if (st->stop_str[0]) {
        c->stop_pending = true;
        lm_strlcpy(c->stop_str, st->stop_str, sizeof(c->stop_str));
        c->stop_type = st->type;
        c->stop_addr = st->addr;
    }
    return MCD_RET_ACT_NONE;
}

/*
 * Ask the stub for the state.  A stop notification that arrives before
 * the reply was the first record after the stop: the stop is reported
 * now.
 */
static mcd_return_et read_state(LmCore *c, StateRecord *st)
{
    LmServer *s = c->srv;
    bool had_note = c->note_valid;
    mcd_return_et ret;

    /* "qstate<core>", the query sent most */
    memcpy(s->cmd, "qstate", 6);
    ret = lm_cmd_reply_raw(s, &c->err, MCD_ERR_GENERAL,
                           6 + lm_put_u64(s->cmd + 6, c->index));
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    ret = parse_state(c, s->reply, st);
    if (ret != MCD_RET_ACT_NONE || !c->note_valid || had_note) {
        return ret;
    }
    c->note_valid = false;
    if (c->note[0] && s->ext_stoprec &&
        st->state != MCD_CORE_STATE_RUNNING) {
        c->stop_pending = true;
        c->stop_type = st->type;
    }
    return ret;
}

/*
 * Wait about @ms for a stop notification of core @c, in slices of
 * @slice ms, and give up between two slices if another thread waits for
 * the call lock; take the notifications that came in any case.  A slice
 * of LM_RECV_SLICE_MS is one blocking receive, which wakes quickest
 * when the notification comes.
 */
static void wait_own_note(LmCore *c, int64_t ms, int slice)
{
    LmConn *conn = &c->srv->conn;
    int64_t deadline = lm_now_ms() + ms;

    for (;;) {
        if (deadline - lm_now_ms() <= 0 || lm_call_contended()) {
            lm_conn_poll(conn);
            return;
        }
        if (lm_conn_wait_note(conn, slice) == LM_IO_CLOSED ||
            c->note_valid) {
            return;
        }
    }
}

mcd_return_et lm_step(LmCore *c, bool global, mcd_core_step_type_et type,
                      uint32_t n)
{
    LmServer *s = c->srv;
    uint32_t g, core;
    mcd_return_et ret;

    /* QEMU has no cycles: a cycle counts as one instruction */
    if (type != MCD_CORE_STEP_TYPE_INSTR &&
        type != MCD_CORE_STEP_TYPE_CYCLES) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "step type %u: libmcd steps "
                       "instructions", type);
    }
    if (n == 0) {
        return MCD_RET_ACT_NONE;
    }
    /* one core: a global step is a step of the core, which any stub takes */
    if (s->nr_cores == 1) {
        global = false;
    }
    g = global ? 1 : 0;
    core = global ? 0 : c->index;
    ret = arm_triggers(c);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    let_run(c, false, lm_conn_next_ack(&s->conn));
    if (s->ext_steps) {
        ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "c%u;%u;%u",
                          g, core, n);
    } else {
        ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "c%u;%u",
                          g, core);
    }
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    /* started: its end is seen by the state queries */
    set_started(c, false, true);
    c->stepping = true;
    c->step_ms = lm_now_ms();
    c->steps_left = s->ext_steps ? 0 : n - 1;
    c->step_global = global;
    return MCD_RET_ACT_NONE;
}

/*
 * Without the steps extension: the core stopped after a step of a count
 * with @st; if the count goes on, start the next step and report the
 * core as running in @state.  False if the count is over: a trigger or
 * something else than the step stopped the core, or the step failed.
 */
static bool next_step(LmCore *c, const StateRecord *st,
                      mcd_core_state_st *state)
{
    LmServer *s = c->srv;
    uint32_t left = c->steps_left;
    bool global = c->step_global;
    mcd_return_et ret;

    if (st->state != MCD_CORE_STATE_DEBUG || st->type != 0) {
        return false;
    }
    let_run(c, false, lm_conn_next_ack(&s->conn));
    ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "c%u;%u",
                      global ? 1 : 0, global ? 0 : c->index);
    if (ret != MCD_RET_ACT_NONE) {
        /* the count ends where it is; the stop is the state */
        lm_clear(&c->err);
        return false;
    }
    set_started(c, false, true);
    c->stepping = true;
    c->step_ms = lm_now_ms();
    c->steps_left = left - 1;
    c->step_global = global;
    /* the stop between two steps of the count is not one to report */
    c->stop_pending = false;
    memset(state, 0, sizeof(*state));
    state->state = MCD_CORE_STATE_RUNNING;
    snprintf(state->info_str, sizeof(state->info_str), "core %u steps "
             "(libmcd: %u more)", c->index, left - 1);
    return true;
}

mcd_return_et lm_qry_state(LmCore *c, mcd_core_state_st *state)
{
    LmServer *s = c->srv;
    StateRecord st;
    LmTrigger *t;
    bool from_note = false, busy, fresh;
    int64_t now_us, since;
    mcd_return_et ret;

    if (!state) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "state is NULL");
    }
    now_us = lm_now_us();
    busy = now_us - c->query_us < LM_STATE_BUSY_US;
    c->query_us = now_us;
    if (s->ext_notify && c->started && !c->note_valid) {
        fresh = c->have_running &&
                lm_now_ms() - c->running_ms < LM_STATE_REFRESH_MS;
        since = lm_now_ms() - c->step_ms;
        if (c->stepping && since < LM_STEP_WAIT_MS) {
            /* a step that just started: its notification comes soon */
            wait_own_note(c, LM_STEP_WAIT_MS - since, LM_RECV_SLICE_MS);
        } else if (!c->stepping && !c->have_running &&
                   lm_now_ms() - c->run_ms < LM_STATE_BUSY_WAIT_MS) {
            /*
             * The first query after a go: a stop soon after it comes as
             * a notification.  A query QEMU answered meanwhile would take
             * QEMU's main thread, and with it the lock the core needs to
             * start running, from the core.
             */
            wait_own_note(c, LM_STATE_BUSY_WAIT_MS -
                          (lm_now_ms() - c->run_ms), LM_STATE_BUSY_WAIT_MS);
        } else if (fresh) {
            /* a notification that came meanwhile, or soon if asked at once */
            wait_own_note(c, busy ? LM_STATE_BUSY_WAIT_MS : 0,
                          LM_STATE_BUSY_WAIT_MS);
        }
        if (fresh && !c->note_valid && lm_conn_is_open(&s->conn)) {
            /* it runs, as the stub said a moment ago, and did not stop */
            *state = c->running;
            return MCD_RET_ACT_NONE;
        }
    }
    if (c->note_valid && c->note[0]) {
        /*
         * The stop notification's record: the first after the stop.  An
         * old one holds only if the core is still stopped (the monitor
         * or gdb may have let it run since).
         */
        bool fresh_note = lm_now_ms() - c->note_ms < LM_STATE_REFRESH_MS;

        c->note_valid = false;
        if (fresh_note || (read_state(c, &st) == MCD_RET_ACT_NONE &&
                           st.state == MCD_CORE_STATE_DEBUG)) {
            from_note = parse_state(c, c->note, &st) == MCD_RET_ACT_NONE;
        }
        lm_clear(&c->err);
    }
    if (!from_note) {
        c->note_valid = false;
        ret = read_state(c, &st);
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
    }
    memset(state, 0, sizeof(*state));
    state->state = st.state;
    state->event = st.event;
    state->hw_thread_id = st.thread;
    lm_strlcpy(state->info_str, st.info_str, sizeof(state->info_str));
    if (s->ext_stoprec) {
        /* the stop record as the stub keeps it */
        lm_strlcpy(state->stop_str, st.stop_str, sizeof(state->stop_str));
        state->trig_id = st.trig_id;
        if (c->stop_pending && st.state != MCD_CORE_STATE_RUNNING) {
            /* a stop not reported yet */
            state->event |= MCD_CORE_EVENT_STOPPED;
            c->stop_pending = false;
        }
    } else if (c->stop_pending && st.state != MCD_CORE_STATE_RUNNING) {
        /* a stop not reported yet */
        lm_strlcpy(state->stop_str, c->stop_str, sizeof(state->stop_str));
        state->event |= MCD_CORE_EVENT_STOPPED;
        if (c->stop_type) {
            state->trig_id = stopping_trig(c, c->stop_type, c->stop_addr,
                                           c->stop_str);
            t = find_trig(c, state->trig_id);
            if (t) {
                t->captured = true;
            }
        }
        c->stop_pending = false;
    }
    if (st.state != MCD_CORE_STATE_DEBUG) {
        c->sr_valid = false;
        c->stop_note_ms = 0;
    } else if (from_note) {
        /* the debugger reads the registers of the stop now */
        c->sr_ms = c->stop_note_ms = lm_now_ms();
    }
    if (st.state != MCD_CORE_STATE_RUNNING) {
        if (c->steps_left > 0 && next_step(c, &st, state)) {
            return MCD_RET_ACT_NONE;
        }
        c->started = false;
        c->have_running = false;
        c->stepping = false;
        c->steps_left = 0;
    } else if (c->started && s->ext_notify && !from_note) {
        c->running = *state;
        c->have_running = true;
        c->running_ms = lm_now_ms();
    }
    return MCD_RET_ACT_NONE;
}

/*
 * Resets
 */

static bool reset_item(void *ctx, const LmRecord *rec)
{
    LmServer *s = ctx;
    const char *name = lm_record_get(rec, "name");
    uint32_t id;

    if (!name || !lm_record_u32(rec, "id", &id) || id > 31 ||
        s->n_resets == 32) {
        return false;
    }
    s->resets[s->n_resets].id = id;
    lm_strlcpy(s->resets[s->n_resets].name, name,
               sizeof(s->resets[s->n_resets].name));
    s->n_resets++;
    return true;
}

static mcd_return_et read_resets(LmCore *c)
{
    LmServer *s = c->srv;
    mcd_return_et ret;

    if (s->have_resets) {
        return MCD_RET_ACT_NONE;
    }
    s->n_resets = 0;
    ret = lm_fetch_list(s, &c->err, MCD_ERR_GENERAL, "reset", c->index,
                        reset_item, s);
    s->have_resets = ret == MCD_RET_ACT_NONE;
    return ret;
}

static uint32_t reset_vector(LmServer *s)
{
    uint32_t v = 0, i;

    for (i = 0; i < s->n_resets; i++) {
        v |= 1u << s->resets[i].id;
    }
    return v;
}

mcd_return_et lm_qry_rst_classes(LmCore *c, uint32_t *vector)
{
    mcd_return_et ret;

    if (!vector) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "rst_class_vector is NULL");
    }
    ret = read_resets(c);
    if (ret == MCD_RET_ACT_NONE) {
        *vector = reset_vector(c->srv);
    }
    return ret;
}

mcd_return_et lm_qry_rst_class_info(LmCore *c, uint8_t rst_class,
                                    mcd_rst_info_st *info)
{
    LmServer *s = c->srv;
    uint32_t i;
    mcd_return_et ret;

    if (!info) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "rst_info is NULL");
    }
    ret = read_resets(c);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    for (i = 0; i < s->n_resets; i++) {
        if (s->resets[i].id == rst_class) {
            memset(info, 0, sizeof(*info));
            info->class_vector = 1u << rst_class;
            lm_strlcpy(info->info_str, s->resets[i].name,
                       sizeof(info->info_str));
            return MCD_RET_ACT_NONE;
        }
    }
    return lm_fail(&c->err, MCD_ERR_PARAM, "no reset class %u", rst_class);
}

mcd_return_et lm_rst(LmCore *c, uint32_t vector, bool halt)
{
    LmServer *s = c->srv;
    uint32_t i;
    mcd_return_et ret;

    ret = read_resets(c);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    if (vector == 0 || (vector & ~reset_vector(s))) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "reset class vector 0x%x, "
                       "but the classes are 0x%x", vector, reset_vector(s));
    }
    forget_stop(c);
    /* a reset stops or restarts cores: what was known of them is old */
    let_run(c, true, lm_conn_next_ack(&s->conn));
    if (!s->ext_resethalt) {
        /* an era-1 reset of a core resets the core of the last qresetf */
        ret = lm_cmd_reply(s, &c->err, MCD_ERR_GENERAL, "qresetf%u",
                           c->index);
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
    }
    for (i = 0; i < 32; i++) {
        if (!(vector & (1u << i))) {
            continue;
        }
        if (s->ext_resethalt) {
            ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false,
                              "r%u;%u;%u", i, c->index, halt ? 1 : 0);
        } else {
            ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "r%u", i);
        }
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
    }
    if (halt && !s->ext_resethalt) {
        /* era-1: stop right after the reset */
        return lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "b0;%u",
                           c->index);
    }
    return MCD_RET_ACT_NONE;
}
