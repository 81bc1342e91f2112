/* SPDX-License-Identifier: MIT */
/*
 * libmcd transport: a TCP connection to QEMU's MCD stub and the packet
 * framing of its protocol (docs/interop/mcd.rst).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * A packet is "$payload#|".  The stub acknowledges each packet with '+'
 * before its reply, and answers '-' to a packet it could not read, which
 * is then sent again.  Replies end with "#|" (or "#~"), or gdb-style with
 * a two digit checksum "#xx" if the stub chose that framing; a reply with
 * a wrong checksum is rejected with '-' so that the stub sends it again.
 * Packets that start with '%' (or whose payload does) are asynchronous
 * notifications: they go to the note callback.
 *
 * Received bytes wait in one buffer, where packets are found with
 * memchr() and handed on in place.  Packets are sent with one send()
 * each, or a batch of them with one send().  Requests may be pipelined;
 * the counts of acknowledgements and replies due tell a reply from a
 * late one that nobody waits for, so nothing needs to be drained before
 * a request.  While a packet waits to be sent, what the stub sends
 * meanwhile is read, so that pipelined requests cannot dead-lock.
 *
 * The socket and the clock are the platform's: transport-posix.c or
 * transport-win32.c (transport-os.h).
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "libmcd-int.h"
#include "transport-os.h"

#define RX_CHUNK 65536
/*
 * The receive buffer grows to hold the longest packet, and the replies
 * that arrive while a pipelined request waits to be sent.
 */
#define RX_MAX (4 * LM_MAX_PACKET + 8 * 1024 * 1024)
/* How often a packet is sent again after a '-' before giving up. */
#define MAX_RESENDS 5

void lm_conn_init(LmConn *c)
{
    memset(c, 0, sizeof(*c));
    lm_sock_init(&c->sock);
    c->connect_ms = LM_CONNECT_TIMEOUT;
    c->reply_ms = LM_REPLY_TIMEOUT;
}

bool lm_conn_is_open(const LmConn *c)
{
    return lm_sock_is_open(&c->sock);
}

void lm_conn_close(LmConn *c)
{
    lm_sock_close(&c->sock);
    free(c->rx);
    c->rx = NULL;
    c->rx_pos = c->rx_len = c->rx_size = 0;
    free(c->tx);
    c->tx = NULL;
    c->tx_size = c->tx_len = 0;
    free(c->batch);
    c->batch = NULL;
    c->batch_len = c->batch_size = 0;
    c->batching = false;
    c->unacked = c->skip_acks = c->replies = 0;
}

const char *lm_io_strerror(LmIoResult r)
{
    switch (r) {
    case LM_IO_OK:
        return "no error";
    case LM_IO_TIMEOUT:
        return "the MCD stub did not answer in time";
    case LM_IO_CLOSED:
        return "the connection to the MCD stub is closed";
    case LM_IO_PROTOCOL:
        return "the MCD stub sent a malformed or oversized packet";
    }
    return "unknown transport error";
}

int lm_conn_open(LmConn *c, const char *host, uint32_t port, char *err,
                 size_t err_size)
{
    lm_conn_close(c);
    if (lm_sock_connect(&c->sock, host, port, c->connect_ms, err,
                        err_size) != 0) {
        return -1;
    }
    c->rx_size = RX_CHUNK;
    c->rx = malloc(c->rx_size);
    c->tx_size = LM_MAX_COMMAND + 8;
    c->tx = malloc(c->tx_size);
    if (!c->rx || !c->tx) {
        lm_conn_close(c);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

bool lm_conn_reserve(LmConn *c, size_t len)
{
    char *tx;

    if (len + 8 <= c->tx_size) {
        return true;
    }
    tx = realloc(c->tx, len + 8);
    if (!tx) {
        return false;
    }
    c->tx = tx;
    c->tx_size = len + 8;
    return true;
}

char *lm_conn_payload(LmConn *c, size_t *room)
{
    /* "$" before, "#|" after */
    *room = c->tx_size > 4 ? c->tx_size - 4 : 0;
    return c->tx + 1;
}

uint64_t lm_conn_next_ack(const LmConn *c)
{
    return c->acks + c->unacked + 1;
}

/* Room at the end of the receive buffer for @want more bytes, if it can. */
static bool rx_room(LmConn *c, size_t want)
{
    size_t size;
    uint8_t *rx;

    if (c->rx_pos == c->rx_len) {
        c->rx_pos = c->rx_len = 0;
    }
    if (c->rx_size - c->rx_len >= want) {
        return true;
    }
    if (c->rx_pos > 0) {
        memmove(c->rx, c->rx + c->rx_pos, c->rx_len - c->rx_pos);
        c->rx_len -= c->rx_pos;
        c->rx_pos = 0;
        if (c->rx_size - c->rx_len >= want) {
            return true;
        }
    }
    if (c->rx_size >= RX_MAX) {
        return c->rx_len < c->rx_size;
    }
    size = c->rx_size * 2 < RX_MAX ? c->rx_size * 2 : RX_MAX;
    rx = realloc(c->rx, size);
    if (!rx) {
        return c->rx_len < c->rx_size;
    }
    c->rx = rx;
    c->rx_size = size;
    return true;
}

/*
 * Read more bytes into the receive buffer: what is there with @nowait,
 * else wait until the deadline.  Bytes from rx_pos on are kept (their
 * offset from rx_pos stays the same).
 */
static LmIoResult fill(LmConn *c, int64_t deadline, bool nowait)
{
    int64_t left;
    ptrdiff_t n;
    int wait = 0;

    if (!rx_room(c, RX_CHUNK / 4)) {
        return LM_IO_CLOSED;    /* no memory for what the stub sends */
    }
    for (;;) {
        if (!nowait) {
            left = deadline - lm_now_ms();
            if (left <= 0) {
                return LM_IO_TIMEOUT;
            }
            wait = left < INT_MAX ? (int)left : INT_MAX;
        }
        n = lm_sock_recv(&c->sock, c->rx + c->rx_len,
                         c->rx_size - c->rx_len, wait);
        if (n > 0) {
            c->rx_len += n;
            return LM_IO_OK;
        }
        if (n != LM_IO_TIMEOUT) {
            return LM_IO_CLOSED;
        }
        if (nowait) {
            return LM_IO_TIMEOUT;
        }
    }
}

/*
 * Send @len bytes.  While the stub does not take them, take what it
 * sends meanwhile (replies of pipelined requests), so that neither side
 * waits for the other.
 */
static LmIoResult write_all(LmConn *c, const char *buf, size_t len)
{
    int64_t deadline = lm_now_ms() + c->reply_ms;
    int64_t left;
    ptrdiff_t n;
    int r;

    while (len > 0) {
        n = lm_sock_send(&c->sock, buf, len);
        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (n < 0) {
            return LM_IO_CLOSED;
        }
        left = deadline - lm_now_ms();
        if (left <= 0) {
            return LM_IO_TIMEOUT;
        }
        r = lm_sock_wait(&c->sock, rx_room(c, 1),
                         left < INT_MAX ? (int)left : INT_MAX);
        if (r < 0) {
            return LM_IO_CLOSED;
        }
        if (r & LM_SOCK_READABLE) {
            n = lm_sock_recv(&c->sock, c->rx + c->rx_len,
                             c->rx_size - c->rx_len, 0);
            if (n == LM_IO_CLOSED) {
                return LM_IO_CLOSED;
            }
            if (n > 0) {
                c->rx_len += n;
            }
        }
    }
    return LM_IO_OK;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

typedef enum Item {
    ITEM_ACK,
    ITEM_NAK,
    ITEM_PACKET,
    ITEM_NOTE,
} Item;

/*
 * The next item from the stub: an ack, a nak, a notification (handed to
 * the note callback) or a packet, whose payload *@data points to in the
 * receive buffer.  Packets with a bad checksum get a '-' and are
 * skipped.  A packet longer than LM_MAX_PACKET is consumed and reported
 * as LM_IO_PROTOCOL.  With @nowait only what can be read at once.
 */
static LmIoResult next_item(LmConn *c, Item *item, const char **data,
                            size_t *len, int64_t deadline, bool nowait)
{
    bool oversized = false;
    size_t scan, hash, end, n, i;
    uint8_t *p, *payload, sum;
    int hi, lo;
    LmIoResult r;

    for (;;) {
        /* bytes between packets are noise */
        while (c->rx_pos < c->rx_len) {
            uint8_t byte = c->rx[c->rx_pos];

            if (byte == '$' || byte == '%') {
                break;
            }
            c->rx_pos++;
            if (byte == '+' || byte == '-') {
                *item = byte == '+' ? ITEM_ACK : ITEM_NAK;
                return LM_IO_OK;
            }
        }
        if (c->rx_pos == c->rx_len) {
            r = fill(c, deadline, nowait);
            if (r != LM_IO_OK) {
                return r;
            }
            continue;
        }
        /* a packet from rx_pos: find its '#' and the framing after it */
        scan = c->rx_pos + 1;
        for (;;) {
            p = memchr(c->rx + scan, '#', c->rx_len - scan);
            if (p) {
                hash = p - c->rx;
                if (hash + 1 < c->rx_len &&
                    (c->rx[hash + 1] == '|' || c->rx[hash + 1] == '~')) {
                    end = hash + 2;
                    break;
                }
                if (hash + 2 < c->rx_len && c->rx[hash + 1] != '|' &&
                    c->rx[hash + 1] != '~') {
                    end = hash + 3;
                    break;
                }
                scan = hash;
            } else {
                scan = c->rx_len;
            }
            if (scan - c->rx_pos > LM_MAX_PACKET) {
                /* too long: drop what there is, go on to its end */
                oversized = true;
                c->rx_pos = c->rx_len = 0;
                c->rx[c->rx_len++] = '$';
                scan = 1;
            }
            scan -= c->rx_pos;
            r = fill(c, deadline, nowait);
            scan += c->rx_pos;
            if (r != LM_IO_OK) {
                if (oversized) {
                    c->rx_pos = c->rx_len;  /* resynchronize on noise */
                }
                return r;
            }
        }
        payload = c->rx + c->rx_pos + 1;
        n = hash - c->rx_pos - 1;
        c->rx_pos = end;
        if (end == hash + 3) {
            /* the checksum is computed only when the framing has one */
            hi = hex_value(c->rx[hash + 1]);
            lo = hex_value(c->rx[hash + 2]);
            sum = 0;
            for (i = 0; i < n; i++) {
                sum += payload[i];
            }
            if (!oversized && (hi < 0 || lo < 0 || ((hi << 4) | lo) != sum)) {
                /* ask for it again */
                r = write_all(c, "-", 1);
                if (r != LM_IO_OK) {
                    return r;
                }
                continue;
            }
        }
        if (oversized) {
            return LM_IO_PROTOCOL;
        }
        if (payload[-1] == '%' || (n > 0 && payload[0] == '%')) {
            /* an asynchronous notification */
            if (payload[-1] != '%') {
                payload++;
                n--;
            }
            if (c->note_fn) {
                c->note_fn(c->note_opaque, (const char *)payload, n, c->acks);
            }
            *item = ITEM_NOTE;
            return LM_IO_OK;
        }
        *item = ITEM_PACKET;
        *data = (const char *)payload;
        *len = n;
        return LM_IO_OK;
    }
}

/* Account for a '+': of a request nobody waits for, or the next one's. */
static void got_ack(LmConn *c)
{
    if (c->unacked == 0) {
        return;                 /* a stray '+' */
    }
    c->unacked--;
    c->acks++;
    if (c->skip_acks > 0) {
        c->skip_acks--;
    } else {
        c->replies++;
    }
}

/*
 * A '-': the stub could not read the oldest packet not acknowledged.
 * Only the last packet sent can go again, and only if it is that one.
 */
static LmIoResult got_nak(LmConn *c, int *resends)
{
    if (c->unacked == 0) {
        return LM_IO_OK;        /* a stray '-' */
    }
    if (c->skip_acks > 0) {
        c->unacked--;
        c->skip_acks--;
        return LM_IO_OK;
    }
    if (c->unacked != 1 || ++*resends > MAX_RESENDS) {
        c->unacked--;           /* it will never be acknowledged */
        return LM_IO_PROTOCOL;
    }
    return write_all(c, c->tx, c->tx_len);
}

static LmIoResult failed(LmConn *c, LmIoResult r)
{
    if (r == LM_IO_CLOSED) {
        lm_conn_close(c);
    }
    return r;
}

void lm_conn_begin(LmConn *c)
{
    /* the replies of earlier requests are not waited for any more */
    c->skip_acks = c->unacked;
    c->replies = 0;
}

void lm_conn_batch(LmConn *c)
{
    c->batching = true;
}

LmIoResult lm_conn_flush(LmConn *c)
{
    LmIoResult r = LM_IO_OK;

    c->batching = false;
    if (c->batch_len > 0) {
        r = !lm_sock_is_open(&c->sock) ? LM_IO_CLOSED
                                       : write_all(c, c->batch, c->batch_len);
        c->batch_len = 0;
        if (r != LM_IO_OK) {
            lm_conn_close(c);
        }
    }
    return r;
}

/* Add the packet in tx to the batch; false if there is no room. */
static bool batch_add(LmConn *c)
{
    size_t size = c->batch_size ? c->batch_size : 4096;
    char *batch;

    while (size - c->batch_len < c->tx_len) {
        size *= 2;
    }
    if (size != c->batch_size) {
        batch = realloc(c->batch, size);
        if (!batch) {
            return false;
        }
        c->batch = batch;
        c->batch_size = size;
    }
    memcpy(c->batch + c->batch_len, c->tx, c->tx_len);
    c->batch_len += c->tx_len;
    return true;
}

LmIoResult lm_conn_write(LmConn *c, size_t len)
{
    LmIoResult r;

    if (!lm_sock_is_open(&c->sock)) {
        return LM_IO_CLOSED;
    }
    if (len + 4 > c->tx_size) {
        return LM_IO_PROTOCOL;
    }
    c->tx[0] = '$';
    c->tx[len + 1] = '#';
    c->tx[len + 2] = '|';
    c->tx_len = len + 3;
    if (c->batching && batch_add(c)) {
        c->unacked++;
        return LM_IO_OK;
    }
    /* without room for it in the batch: the batch, then the packet */
    r = lm_conn_flush(c);
    if (r != LM_IO_OK) {
        return r;
    }
    r = write_all(c, c->tx, c->tx_len);
    if (r != LM_IO_OK) {
        /* a packet sent in part cannot be taken back */
        lm_conn_close(c);
        return r;
    }
    c->unacked++;
    return LM_IO_OK;
}

LmIoResult lm_conn_send(LmConn *c, const char *payload, size_t len)
{
    int64_t deadline;
    int resends = 0;
    const char *data;
    size_t data_len;
    Item item;
    LmIoResult r;

    if (!lm_sock_is_open(&c->sock)) {
        return LM_IO_CLOSED;
    }
    if (len + 4 > c->tx_size) {
        return LM_IO_PROTOCOL;
    }
    r = lm_conn_flush(c);
    if (r != LM_IO_OK) {
        return r;
    }
    lm_conn_begin(c);
    if (payload != c->tx + 1) {
        memcpy(c->tx + 1, payload, len);
    }
    r = lm_conn_write(c, len);
    deadline = lm_now_ms() + c->reply_ms;
    while (r == LM_IO_OK && c->unacked > 0) {
        r = next_item(c, &item, &data, &data_len, deadline, false);
        if (r == LM_IO_PROTOCOL) {
            r = LM_IO_OK;       /* a stray long packet: not our ack */
            continue;
        }
        if (r != LM_IO_OK) {
            break;
        }
        if (item == ITEM_ACK) {
            got_ack(c);
        } else if (item == ITEM_NAK) {
            r = got_nak(c, &resends);
        } else if (item == ITEM_PACKET && c->replies > 0) {
            c->replies--;       /* a late reply of an earlier request */
        }
        /* a packet before the ack cannot be the reply: skip it */
    }
    if (r != LM_IO_OK && r != LM_IO_PROTOCOL) {
        lm_conn_close(c);
    }
    return r;
}

/* Before waiting for items: the connection is open, the batch sent. */
static LmIoResult flush_open(LmConn *c)
{
    return lm_sock_is_open(&c->sock) ? lm_conn_flush(c) : LM_IO_CLOSED;
}

/*
 * The reply of the oldest request; with @got, none if the '+' of the
 * request after it comes first.
 */
static LmIoResult reply_of(LmConn *c, const char **data, size_t *len,
                           bool *got, int timeout_ms)
{
    int64_t deadline = lm_now_ms() + timeout_ms;
    int resends = 0;
    Item item;
    LmIoResult r;

    r = flush_open(c);
    if (r != LM_IO_OK) {
        return r;
    }
    for (;;) {
        if (got && c->replies > 1) {
            /* the next request was acknowledged: this one had only '+' */
            c->replies--;
            *got = false;
            return LM_IO_OK;
        }
        r = next_item(c, &item, data, len, deadline, false);
        if (r == LM_IO_PROTOCOL && c->replies == 0) {
            continue;           /* a stray long packet */
        }
        if (r == LM_IO_PROTOCOL) {
            c->replies--;       /* our reply, too long */
            return r;
        }
        if (r != LM_IO_OK) {
            return failed(c, r);
        }
        if (item == ITEM_ACK) {
            got_ack(c);
        } else if (item == ITEM_NAK) {
            r = got_nak(c, &resends);
            if (r != LM_IO_OK) {
                /* a pipelined packet cannot go again: out of step */
                lm_conn_close(c);
                return r == LM_IO_CLOSED ? r : LM_IO_PROTOCOL;
            }
        } else if (item == ITEM_PACKET && c->replies > 0) {
            c->replies--;
            if (got) {
                *got = true;
            }
            return LM_IO_OK;
        }
        /* a packet before any '+' is a late reply: skip it */
    }
}

LmIoResult lm_conn_reply(LmConn *c, const char **data, size_t *len,
                         int timeout_ms)
{
    return reply_of(c, data, len, NULL, timeout_ms);
}

LmIoResult lm_conn_reply_opt(LmConn *c, const char **data, size_t *len,
                             bool *got, int timeout_ms)
{
    *got = false;
    return reply_of(c, data, len, got, timeout_ms);
}

LmIoResult lm_conn_recv(LmConn *c, char *buf, size_t size, size_t *len,
                        int timeout_ms)
{
    const char *data;
    size_t n;
    LmIoResult r;

    r = lm_conn_reply(c, &data, &n, timeout_ms);
    if (r == LM_IO_OK && n + 1 > size) {
        r = LM_IO_PROTOCOL;
    }
    if (r != LM_IO_OK) {
        return r;
    }
    memcpy(buf, data, n);
    buf[n] = '\0';
    *len = n;
    return LM_IO_OK;
}

/* Take items until a notification arrived, or without waiting. */
static LmIoResult take_notes(LmConn *c, int64_t deadline, bool nowait)
{
    const char *data;
    size_t len;
    Item item;
    LmIoResult r;

    r = flush_open(c);
    if (r != LM_IO_OK) {
        return r;
    }
    for (;;) {
        r = next_item(c, &item, &data, &len, deadline, nowait);
        if (r == LM_IO_PROTOCOL) {
            continue;
        }
        if (r != LM_IO_OK) {
            return failed(c, r);
        }
        if (item == ITEM_ACK) {
            got_ack(c);
        } else if (item == ITEM_PACKET && c->replies > 0) {
            c->replies--;       /* a late reply nobody waits for */
        } else if (item == ITEM_NOTE && !nowait) {
            return LM_IO_OK;
        }
    }
}

LmIoResult lm_conn_poll(LmConn *c)
{
    LmIoResult r = take_notes(c, 0, true);

    return r == LM_IO_TIMEOUT ? LM_IO_OK : r;
}

LmIoResult lm_conn_wait_note(LmConn *c, int timeout_ms)
{
    return take_notes(c, lm_now_ms() + timeout_ms, false);
}
