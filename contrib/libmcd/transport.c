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
 * notifications, which libmcd does not use: they are skipped.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "libmcd-int.h"

#define RX_CHUNK 65536
/* How often a packet is sent again after a '-' before giving up. */
#define MAX_RESENDS 5

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lm_conn_init(LmConn *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->connect_ms = LM_CONNECT_TIMEOUT;
    c->reply_ms = LM_REPLY_TIMEOUT;
}

bool lm_conn_is_open(const LmConn *c)
{
    return c->fd >= 0;
}

void lm_conn_close(LmConn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    free(c->rx);
    c->rx = NULL;
    c->rx_pos = c->rx_len = c->rx_size = 0;
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

/* Connect one address with a time limit; the socket stays non-blocking. */
static int connect_addr(const struct addrinfo *ai, uint32_t timeout_ms,
                        int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1;
    struct pollfd pfd;
    socklen_t len;
    int r;

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r < 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return -1;
    }
    if (r < 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        do {
            r = poll(&pfd, 1, timeout_ms);
        } while (r < 0 && errno == EINTR);
        if (r <= 0) {
            *err = r == 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        len = sizeof(*err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) < 0 || *err) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int lm_conn_open(LmConn *c, const char *host, uint32_t port, char *err,
                 size_t err_size)
{
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    const struct addrinfo *ai;
    char service[16];
    int e = 0;
    int r;

    lm_conn_close(c);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", port);
    r = getaddrinfo(host, service, &hints, &res);
    if (r != 0) {
        snprintf(err, err_size, "cannot resolve %s: %s", host,
                 gai_strerror(r));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        c->fd = connect_addr(ai, c->connect_ms, &e);
        if (c->fd >= 0) {
            break;
        }
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        snprintf(err, err_size, "cannot connect to %s:%u: %s", host, port,
                 strerror(e ? e : ECONNREFUSED));
        return -1;
    }
    c->rx_size = RX_CHUNK;
    c->rx = malloc(c->rx_size);
    if (!c->rx) {
        lm_conn_close(c);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

/* Wait until the socket is readable (POLLIN) or writable, or the deadline. */
static LmIoResult wait_fd(LmConn *c, short events, int64_t deadline)
{
    struct pollfd pfd = { .fd = c->fd, .events = events };
    int64_t left;
    int r;

    for (;;) {
        left = deadline - now_ms();
        if (left < 0) {
            left = 0;
        }
        r = poll(&pfd, 1, (int)left);
        if (r > 0) {
            return LM_IO_OK;
        }
        if (r == 0) {
            return LM_IO_TIMEOUT;
        }
        if (errno != EINTR) {
            return LM_IO_CLOSED;
        }
    }
}

/* Read more bytes into the receive buffer. */
static LmIoResult fill(LmConn *c, int64_t deadline)
{
    LmIoResult r;
    ssize_t n;

    if (c->rx_pos == c->rx_len) {
        c->rx_pos = c->rx_len = 0;
    }
    if (c->rx_len == c->rx_size) {
        memmove(c->rx, c->rx + c->rx_pos, c->rx_len - c->rx_pos);
        c->rx_len -= c->rx_pos;
        c->rx_pos = 0;
    }
    for (;;) {
        n = recv(c->fd, c->rx + c->rx_len, c->rx_size - c->rx_len, 0);
        if (n > 0) {
            c->rx_len += n;
            return LM_IO_OK;
        }
        if (n == 0) {
            return LM_IO_CLOSED;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return LM_IO_CLOSED;
        }
        r = wait_fd(c, POLLIN, deadline);
        if (r != LM_IO_OK) {
            return r;
        }
    }
}

static LmIoResult get_byte(LmConn *c, int64_t deadline, uint8_t *byte)
{
    LmIoResult r;

    if (c->rx_pos == c->rx_len) {
        r = fill(c, deadline);
        if (r != LM_IO_OK) {
            return r;
        }
    }
    *byte = c->rx[c->rx_pos++];
    return LM_IO_OK;
}

static LmIoResult write_all(LmConn *c, const char *buf, size_t len)
{
    int64_t deadline = now_ms() + c->reply_ms;
    LmIoResult r;
    ssize_t n;

    while (len > 0) {
        n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            r = wait_fd(c, POLLOUT, deadline);
            if (r != LM_IO_OK) {
                return r;
            }
            continue;
        }
        return LM_IO_CLOSED;
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
} Item;

/*
 * The next item from the stub: an ack, a nak or a packet, whose payload
 * goes to @buf.  Notifications and packets with a bad checksum (which
 * get a '-') are skipped.
 */
static LmIoResult next_item(LmConn *c, Item *item, char *buf, size_t size,
                            size_t *len, int64_t deadline)
{
    uint8_t byte, start, sum;
    bool oversized;
    size_t n;
    int hi, lo;
    LmIoResult r;

    for (;;) {
        r = get_byte(c, deadline, &byte);
        if (r != LM_IO_OK) {
            return r;
        }
        if (byte == '+') {
            *item = ITEM_ACK;
            return LM_IO_OK;
        }
        if (byte == '-') {
            *item = ITEM_NAK;
            return LM_IO_OK;
        }
        if (byte != '$' && byte != '%') {
            continue;           /* noise between packets */
        }
        start = byte;
        n = 0;
        sum = 0;
        oversized = false;
        for (;;) {
            r = get_byte(c, deadline, &byte);
            if (r != LM_IO_OK) {
                return r;
            }
            if (byte == '#') {
                break;
            }
            sum += byte;
            if (n + 1 < size) {
                buf[n++] = byte;
            } else {
                oversized = true;
            }
        }
        buf[n] = '\0';
        r = get_byte(c, deadline, &byte);
        if (r != LM_IO_OK) {
            return r;
        }
        if (byte != '|' && byte != '~') {
            hi = hex_value(byte);
            r = get_byte(c, deadline, &byte);
            if (r != LM_IO_OK) {
                return r;
            }
            lo = hex_value(byte);
            if (hi < 0 || lo < 0 || ((hi << 4) | lo) != sum) {
                /* ask for it again */
                r = write_all(c, "-", 1);
                if (r != LM_IO_OK) {
                    return r;
                }
                continue;
            }
        }
        if (start == '%' || buf[0] == '%') {
            continue;           /* an asynchronous notification */
        }
        if (oversized) {
            return LM_IO_PROTOCOL;
        }
        *item = ITEM_PACKET;
        *len = n;
        return LM_IO_OK;
    }
}

/* Forget whatever arrived before this request: stale replies. */
static void drain(LmConn *c)
{
    uint8_t junk[4096];
    ssize_t n;

    c->rx_pos = c->rx_len = 0;
    do {
        n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
    } while (n > 0 || (n < 0 && errno == EINTR));
}

LmIoResult lm_conn_send(LmConn *c, const char *payload, size_t len)
{
    char *frame;
    char scratch[64];
    size_t scratch_len;
    int64_t deadline;
    int resends = 0;
    Item item;
    LmIoResult r;

    if (c->fd < 0) {
        return LM_IO_CLOSED;
    }
    frame = malloc(len + 4);
    if (!frame) {
        return LM_IO_PROTOCOL;
    }
    frame[0] = '$';
    memcpy(frame + 1, payload, len);
    memcpy(frame + 1 + len, "#|", 2);
    drain(c);
    r = write_all(c, frame, len + 3);
    deadline = now_ms() + c->reply_ms;
    while (r == LM_IO_OK) {
        r = next_item(c, &item, scratch, sizeof(scratch), &scratch_len,
                      deadline);
        if (r == LM_IO_PROTOCOL) {
            r = LM_IO_OK;       /* a stray long packet: not our ack */
            continue;
        }
        if (r != LM_IO_OK || item == ITEM_ACK) {
            break;
        }
        if (item == ITEM_NAK) {
            if (++resends > MAX_RESENDS) {
                r = LM_IO_PROTOCOL;
                break;
            }
            r = write_all(c, frame, len + 3);
        }
        /* a packet before the ack cannot be the reply: skip it */
    }
    free(frame);
    if (r != LM_IO_OK && r != LM_IO_PROTOCOL) {
        lm_conn_close(c);
    }
    return r;
}

LmIoResult lm_conn_recv(LmConn *c, char *buf, size_t size, size_t *len,
                        int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    Item item;
    LmIoResult r;

    if (c->fd < 0) {
        return LM_IO_CLOSED;
    }
    do {
        r = next_item(c, &item, buf, size, len, deadline);
    } while (r == LM_IO_OK && item != ITEM_PACKET);
    if (r == LM_IO_CLOSED) {
        lm_conn_close(c);
    }
    return r;
}
