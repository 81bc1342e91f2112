/* SPDX-License-Identifier: MIT */
/*
 * libmcd target access: transaction lists (memory with m/M, registers
 * with p/P), run control (C, b, c and the core state), triggers (t/T)
 * and resets (r).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Memory
 */

/*
 * Read @len bytes in packets of max_data bytes.  With @no_side_effects
 * (only with txopt) every packet asks for MCD_TX_OPT_NO_SIDE_EFFECTS:
 * the stub then refuses to read anything but RAM and ROM.
 */
static mcd_return_et mem_read(LmCore *c, uint32_t space, uint64_t addr,
                              uint8_t *buf, uint32_t len, uint32_t *done,
                              bool no_side_effects)
{
    LmServer *s = c->srv;
    uint32_t chunk;
    mcd_return_et ret;

    while (*done < len) {
        chunk = len - *done < s->max_data ? len - *done : s->max_data;
        if (no_side_effects) {
            ret = lm_cmd_reply(s, &c->err, MCD_ERR_TXLIST_READ,
                               "m%u;%u;%" PRIu64 ";%u;%u", c->index, space,
                               addr + *done, chunk,
                               (unsigned int)MCD_TX_OPT_NO_SIDE_EFFECTS);
        } else {
            ret = lm_cmd_reply(s, &c->err, MCD_ERR_TXLIST_READ,
                               "m%u;%u;%" PRIu64 ";%u", c->index, space,
                               addr + *done, chunk);
        }
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        if (!lm_hex_decode(s->reply, s->reply_len, buf + *done, chunk)) {
            return lm_fail(&c->err, MCD_ERR_TXLIST_READ, "malformed data "
                           "for %u bytes at 0x%" PRIx64, chunk,
                           addr + *done);
        }
        *done += chunk;
    }
    return MCD_RET_ACT_NONE;
}

static mcd_return_et mem_write(LmCore *c, uint32_t space, uint64_t addr,
                               const uint8_t *buf, uint32_t len,
                               uint32_t *done)
{
    LmServer *s = c->srv;
    uint32_t chunk;
    int n;
    mcd_return_et ret;

    while (*done < len) {
        chunk = len - *done < s->max_data ? len - *done : s->max_data;
        n = snprintf(s->cmd, LM_MAX_COMMAND, "M%u;%u;%" PRIu64 ";%u;",
                     c->index, space, addr + *done, chunk);
        lm_hex_encode(buf + *done, chunk, s->cmd + n);
        ret = lm_cmd_reply_raw(s, &c->err, MCD_ERR_TXLIST_WRITE,
                               n + 2 * (size_t)chunk);
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        if (strcmp(s->reply, "success") != 0) {
            return lm_fail(&c->err, MCD_ERR_TXLIST_WRITE, "unexpected reply "
                           "'%.40s' to a write at 0x%" PRIx64, s->reply,
                           addr + *done);
        }
        *done += chunk;
    }
    return MCD_RET_ACT_NONE;
}

/*
 * A memory transaction.  MCD_TX_OPT_NO_SIDE_EFFECTS applies to its
 * reads (R, and the read of RW and WR): they need the txopt extension
 * and a memory space that supports the option, or the transaction fails
 * before anything is sent.  Writes take no options: what a write does
 * is its purpose, so a write goes to RAM and devices alike.  Other
 * options are ignored; MCD_TX_OPT_NO_SIDE_EFFECTS wins over
 * MCD_TX_OPT_SIDE_EFFECTS.
 */
static mcd_return_et mem_tx(LmCore *c, const mcd_memspace_st *ms,
                            uint32_t index, mcd_tx_st *tx)
{
    uint32_t space = tx->addr.mem_space_id;
    uint64_t addr = tx->addr.address;
    uint32_t len = tx->num_bytes;
    uint32_t done = 0;
    bool nse = tx->options & MCD_TX_OPT_NO_SIDE_EFFECTS;
    uint8_t *old;
    mcd_return_et ret;

    if (nse && (tx->access_type == MCD_TX_AT_R ||
                tx->access_type == MCD_TX_AT_RW ||
                tx->access_type == MCD_TX_AT_WR) &&
        !(ms->supported_access_options & MCD_TX_OPT_NO_SIDE_EFFECTS)) {
        return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "transaction %u: %s",
                       index, c->srv->ext_txopt
                       ? "the memory space does not support reads without "
                         "side effects"
                       : "the MCD stub cannot read without side effects "
                         "(no txopt extension)");
    }
    switch (tx->access_type) {
    case MCD_TX_AT_R:
        ret = mem_read(c, space, addr, tx->data, len, &tx->num_bytes_ok,
                       nse);
        break;
    case MCD_TX_AT_W:
        ret = mem_write(c, space, addr, tx->data, len, &tx->num_bytes_ok);
        break;
    case MCD_TX_AT_RW:
        /* read the old data, write the new, return the old */
        old = malloc(len);
        if (!old) {
            return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "out of memory");
        }
        ret = mem_read(c, space, addr, old, len, &done, nse);
        done = 0;
        if (ret == MCD_RET_ACT_NONE) {
            ret = mem_write(c, space, addr, tx->data, len, &done);
        }
        if (ret == MCD_RET_ACT_NONE) {
            memcpy(tx->data, old, len);
            tx->num_bytes_ok = len;
        }
        free(old);
        break;
    case MCD_TX_AT_WR:
        /* write, then read back what the target holds */
        ret = mem_write(c, space, addr, tx->data, len, &done);
        if (ret == MCD_RET_ACT_NONE) {
            ret = mem_read(c, space, addr, tx->data, len, &tx->num_bytes_ok,
                           nse);
        }
        break;
    default:
        ret = lm_fail(&c->err, MCD_ERR_TXLIST_TX, "unknown access type %u",
                      tx->access_type);
        break;
    }
    return ret;
}

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

mcd_return_et lm_execute_txlist(LmCore *c, mcd_txlist_st *txlist)
{
    const mcd_memspace_st *ms;
    mcd_tx_st *tx;
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
    for (i = 0; i < txlist->num_tx; i++) {
        tx = &txlist->tx[i];
        tx->num_bytes_ok = 0;
        if (tx->num_bytes && !tx->data) {
            return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "transaction %u has "
                           "no data buffer", i);
        }
        ms = find_space(c, tx->addr.mem_space_id);
        if (!ms) {
            return lm_fail(&c->err, MCD_ERR_TXLIST_TX, "transaction %u: "
                           "core %u has no memory space %u", i, c->index,
                           tx->addr.mem_space_id);
        }
        if (ms->mem_type & MCD_MEM_SPACE_IS_REGISTERS) {
            ret = lm_core_regs(c);
            if (ret == MCD_RET_ACT_NONE) {
                ret = reg_tx(c, tx);
            }
        } else {
            ret = mem_tx(c, ms, i, tx);
        }
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        txlist->num_tx_ok++;
    }
    return MCD_RET_ACT_NONE;
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

mcd_return_et lm_run(LmCore *c, bool global)
{
    mcd_return_et ret = arm_triggers(c);

    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    return lm_cmd_done(c->srv, &c->err, MCD_ERR_GENERAL, false, "C%u;%u",
                       global ? 1 : 0, global ? 0 : c->index);
}

mcd_return_et lm_stop(LmCore *c, bool global)
{
    return lm_cmd_done(c->srv, &c->err, MCD_ERR_GENERAL, false, "b%u;%u",
                       global ? 1 : 0, global ? 0 : c->index);
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

static mcd_return_et read_state(LmCore *c, StateRecord *st)
{
    LmServer *s = c->srv;
    LmRecord rec;
    LmTrigger *t;
    const char *state;
    mcd_return_et ret;

    ret = lm_cmd_reply(s, &c->err, MCD_ERR_GENERAL, "qstate%u", c->index);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    state = lm_record_parse(s->reply, &rec) ? lm_record_get(&rec, "state")
                                            : NULL;
    if (!state) {
        return lm_fail(&c->err, MCD_ERR_GENERAL, "malformed reply to "
                       "qstate: '%.60s'", s->reply);
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
    lm_record_u32(&rec, "event", &st->event);
    lm_record_u32(&rec, "thread", &st->thread);
    lm_record_u32(&rec, "type", &st->type);
    lm_record_u64(&rec, "address", &st->addr);
    st->stop_str = lm_record_get(&rec, "stop_str");
    st->info_str = lm_record_get(&rec, "info_str");
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
        lm_record_u32(&rec, "trig_id", &st->trig_id);
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
 * Poll the state until the core no longer runs, after @n steps: allow
 * the step time limit plus a millisecond per thousand instructions.
 */
static mcd_return_et wait_stopped(LmCore *c, uint32_t n)
{
    int64_t deadline = now_ms() + c->srv->step_ms + n / 1000;
    unsigned int delay = 0;
    StateRecord st;
    mcd_return_et ret;

    for (;;) {
        ret = read_state(c, &st);
        if (ret != MCD_RET_ACT_NONE || st.state != MCD_CORE_STATE_RUNNING) {
            return ret;
        }
        if (now_ms() > deadline) {
            return lm_fail(&c->err, MCD_ERR_TIMED_OUT, "core %u did not "
                           "stop after the step", c->index);
        }
        sleep_ms(delay);
        delay = delay < 16 ? delay + 1 : 16;
    }
}

mcd_return_et lm_step(LmCore *c, bool global, mcd_core_step_type_et type,
                      uint32_t n)
{
    LmServer *s = c->srv;
    uint32_t g, core, i;
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
    if (s->ext_steps) {
        ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "c%u;%u;%u",
                          g, core, n);
        return ret != MCD_RET_ACT_NONE ? ret : wait_stopped(c, n);
    }
    for (i = 0; i < n; i++) {
        ret = lm_cmd_done(s, &c->err, MCD_ERR_GENERAL, false, "c%u;%u",
                          g, core);
        if (ret == MCD_RET_ACT_NONE) {
            ret = wait_stopped(c, 1);
        }
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        /* a trigger hit ends the steps */
        if (c->stop_pending && c->stop_type != 0) {
            break;
        }
    }
    return MCD_RET_ACT_NONE;
}

mcd_return_et lm_qry_state(LmCore *c, mcd_core_state_st *state)
{
    StateRecord st;
    LmTrigger *t;
    mcd_return_et ret;

    if (!state) {
        return lm_fail(&c->err, MCD_ERR_PARAM, "state is NULL");
    }
    ret = read_state(c, &st);
    if (ret != MCD_RET_ACT_NONE) {
        return ret;
    }
    memset(state, 0, sizeof(*state));
    state->state = st.state;
    state->event = st.event;
    state->hw_thread_id = st.thread;
    lm_strlcpy(state->info_str, st.info_str, sizeof(state->info_str));
    if (c->srv->ext_stoprec) {
        /* the stop record as the stub keeps it */
        lm_strlcpy(state->stop_str, st.stop_str, sizeof(state->stop_str));
        state->trig_id = st.trig_id;
        if (c->stop_pending && st.state != MCD_CORE_STATE_RUNNING) {
            /* a stop not reported yet, maybe seen while stepping */
            state->event |= MCD_CORE_EVENT_STOPPED;
            c->stop_pending = false;
        }
    } else if (c->stop_pending && st.state != MCD_CORE_STATE_RUNNING) {
        /* a stop not reported yet, maybe seen while stepping */
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
    LmRecord rec;
    uint32_t index = 0;
    unsigned int guard = 0;

    if (s->have_resets) {
        return MCD_RET_ACT_NONE;
    }
    s->n_resets = 0;
    ret = lm_cmd_reply(s, &c->err, MCD_ERR_GENERAL, "qresetf%u", c->index);
    for (;;) {
        if (ret != MCD_RET_ACT_NONE) {
            return ret;
        }
        if (!lm_record_parse(s->reply, &rec) || !rec.paginated ||
            (rec.count && !reset_item(s, &rec))) {
            return lm_fail(&c->err, MCD_ERR_GENERAL, "malformed reset "
                           "class %u", index);
        }
        if (rec.next == 0) {
            break;
        }
        if (rec.next <= index || ++guard > 32) {
            return lm_fail(&c->err, MCD_ERR_GENERAL, "the list of reset "
                           "classes does not end");
        }
        index = rec.next;
        ret = lm_cmd_reply(s, &c->err, MCD_ERR_GENERAL, "qresetc%u", index);
    }
    s->have_resets = true;
    return MCD_RET_ACT_NONE;
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
