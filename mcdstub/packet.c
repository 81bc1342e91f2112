/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub packet layer: framing, acknowledgements and retransmission.
 *
 * Receive state machine:
 *
 *   IDLE --'$'--> PAYLOAD --'#'--> TERMINATOR --'|' or '~'--> packet
 *                                            \--hex digit--> CHECKSUM
 *                                                 --hex digit--> packet
 *
 * A packet is acknowledged with '+' before it is handed on, so the ack
 * always precedes the reply.  A bad terminator or checksum gets '-' and
 * the peer is expected to send the packet again.
 */

#include "qemu/osdep.h"
#include "packet.h"

void mcd_packet_init(MCDPacketLayer *p, const MCDPacketOps *ops,
                     void *opaque)
{
    p->ops = ops;
    p->opaque = opaque;
    p->payload = g_string_sized_new(256);
    p->unacked = g_string_sized_new(256);
    p->tx = g_string_sized_new(256);
    p->backlog = g_byte_array_new();
    mcd_packet_reset(p);
}

void mcd_packet_destroy(MCDPacketLayer *p)
{
    g_string_free(p->payload, true);
    g_string_free(p->unacked, true);
    g_string_free(p->tx, true);
    g_byte_array_unref(p->backlog);
    p->backlog = NULL;
    p->payload = NULL;
    p->unacked = NULL;
    p->tx = NULL;
}

void mcd_packet_reset(MCDPacketLayer *p)
{
    p->state = MCD_RX_IDLE;
    p->max_payload = MCD_PACKET_MAX_PAYLOAD;
    p->oversized = false;
    p->framing = MCD_FRAMING_PLAIN;
    g_string_truncate(p->payload, 0);
    g_string_truncate(p->unacked, 0);
    g_string_truncate(p->tx, 0);
    p->resend = false;
    p->paused = 0;
    p->resume_pending = false;
    g_byte_array_set_size(p->backlog, 0);
}

void mcd_packet_set_max_payload(MCDPacketLayer *p, size_t max)
{
    p->max_payload = MAX(max, MCD_PACKET_MAX_PAYLOAD);
}

size_t mcd_packet_max_payload(MCDPacketLayer *p)
{
    return p->max_payload;
}

/* Write out what waits in @tx. */
static void flush_tx(MCDPacketLayer *p)
{
    if (p->tx->len) {
        p->ops->write(p->opaque, (const uint8_t *)p->tx->str, p->tx->len);
        g_string_truncate(p->tx, 0);
    }
}

/* Small writes during input wait in @tx; long ones go out at once. */
static void write_bytes(MCDPacketLayer *p, const char *buf, size_t len)
{
    if (p->in_input && len < MCD_PACKET_TX_BATCH) {
        g_string_append_len(p->tx, buf, len);
    } else {
        flush_tx(p);
        p->ops->write(p->opaque, (const uint8_t *)buf, len);
    }
}

static void write_byte(MCDPacketLayer *p, char byte)
{
    write_bytes(p, &byte, 1);
}

/* Send the last packet again if the peer asked for it. */
static void flush_resend(MCDPacketLayer *p)
{
    if (p->resend) {
        p->resend = false;
        write_bytes(p, p->unacked->str, p->unacked->len);
    }
}

static void start_packet(MCDPacketLayer *p)
{
    p->state = MCD_RX_PAYLOAD;
    p->oversized = false;
    p->sum = 0;
    g_string_truncate(p->payload, 0);
}

static void deliver_packet(MCDPacketLayer *p, MCDPacketFraming framing)
{
    bool oversized = p->oversized;

    p->state = MCD_RX_IDLE;
    p->framing = framing;
    write_byte(p, MCD_PACKET_ACK);
    if (oversized) {
        g_string_truncate(p->payload, 0);
    }
    p->ops->packet(p->opaque, p->payload->str, p->payload->len, oversized);
    if (p->in_input && p->tx->len >= MCD_PACKET_TX_BATCH) {
        flush_tx(p);
    }
}

static void reject_packet(MCDPacketLayer *p)
{
    p->state = MCD_RX_IDLE;
    write_byte(p, MCD_PACKET_NAK);
}

static void idle_byte(MCDPacketLayer *p, uint8_t byte)
{
    switch (byte) {
    case MCD_PACKET_START:
        /* a new request implicitly acknowledges our last reply */
        flush_resend(p);
        g_string_truncate(p->unacked, 0);
        start_packet(p);
        break;
    case MCD_PACKET_ACK:
        p->resend = false;
        g_string_truncate(p->unacked, 0);
        break;
    case MCD_PACKET_NAK:
        /* however many '-' arrive at once, the reply goes out once */
        p->resend = p->unacked->len > 0;
        break;
    default:
        /* NUL padding and noise between packets */
        break;
    }
}

/*
 * Take payload bytes from @buf up to the end of the packet, at once.
 * Returns: how many bytes of @buf were consumed, the '#' included.
 */
static size_t payload_bytes(MCDPacketLayer *p, const uint8_t *buf,
                            size_t len)
{
    const uint8_t *end = memchr(buf, MCD_PACKET_END, len);
    size_t n = end ? end - buf : len;
    size_t room = p->max_payload - MIN(p->payload->len, p->max_payload);
    size_t i;

    if (n > room) {
        /*
         * Keep consuming until the end of the packet, then report it.
         * The checksum of what is kept is computed only if there is one.
         */
        p->oversized = true;
        for (i = room; i < n; i++) {
            p->sum += buf[i];
        }
    }
    g_string_append_len(p->payload, (const char *)buf, MIN(n, room));
    if (!end) {
        return n;
    }
    p->state = MCD_RX_TERMINATOR;
    return n + 1;
}

static void terminator_byte(MCDPacketLayer *p, uint8_t byte)
{
    size_t i;
    int hi;

    if (byte == MCD_PACKET_LAST || byte == MCD_PACKET_MORE) {
        deliver_packet(p, MCD_FRAMING_PLAIN);
        return;
    }
    hi = g_ascii_xdigit_value(byte);
    if (hi < 0) {
        reject_packet(p);
        return;
    }
    for (i = 0; i < p->payload->len; i++) {
        p->sum += (uint8_t)p->payload->str[i];
    }
    p->checksum_hi = hi;
    p->state = MCD_RX_CHECKSUM;
}

static void checksum_byte(MCDPacketLayer *p, uint8_t byte)
{
    int lo = g_ascii_xdigit_value(byte);

    if (lo < 0 || ((p->checksum_hi << 4) | lo) != p->sum) {
        reject_packet(p);
        return;
    }
    deliver_packet(p, MCD_FRAMING_CHECKSUM);
}

/* Execute the input that waited. */
static void drain_backlog(MCDPacketLayer *p)
{
    g_autoptr(GByteArray) backlog = p->backlog;

    p->backlog = g_byte_array_new();
    mcd_packet_input(p, backlog->data, backlog->len);
}

void mcd_packet_input(MCDPacketLayer *p, const uint8_t *buf, size_t len)
{
    size_t i;

    if (p->paused || p->backlog->len) {
        /* after what waits already */
        g_byte_array_append(p->backlog, buf, len);
        if (!p->paused && !p->in_input) {
            drain_backlog(p);
        }
        return;
    }
    p->in_input = true;
    for (i = 0; i < len; i++) {
        if (p->paused) {
            g_byte_array_append(p->backlog, buf + i, len - i);
            break;
        }
        switch (p->state) {
        case MCD_RX_IDLE:
            idle_byte(p, buf[i]);
            break;
        case MCD_RX_PAYLOAD:
            i += payload_bytes(p, buf + i, len - i) - 1;
            break;
        case MCD_RX_TERMINATOR:
            terminator_byte(p, buf[i]);
            break;
        case MCD_RX_CHECKSUM:
            checksum_byte(p, buf[i]);
            break;
        }
    }
    flush_resend(p);
    p->in_input = false;
    flush_tx(p);
    if (!p->paused && p->backlog->len) {
        /* resumed while the replies were written */
        drain_backlog(p);
    }
    if (!p->paused && p->resume_pending) {
        p->resume_pending = false;
        if (p->ops->resumed) {
            p->ops->resumed(p->opaque);
        }
    }
}

/* End the packet in @out (its start character and payload) as framed. */
static void frame_end(MCDPacketLayer *p, GString *out)
{
    uint8_t sum = 0;
    size_t i;

    if (p->framing == MCD_FRAMING_CHECKSUM) {
        for (i = 1; i < out->len; i++) {
            sum += (uint8_t)out->str[i];
        }
        g_string_append_printf(out, "%c%02x", MCD_PACKET_END, sum);
    } else {
        g_string_append_c(out, MCD_PACKET_END);
        g_string_append_c(out, MCD_PACKET_LAST);
    }
}

/* Frame @payload after @start into @out, in the framing of the peer. */
static void frame(MCDPacketLayer *p, GString *out, char start,
                  const char *payload, size_t len)
{
    g_string_truncate(out, 0);
    g_string_append_c(out, start);
    g_string_append_len(out, payload, len);
    frame_end(p, out);
}

void mcd_packet_pause(MCDPacketLayer *p, unsigned why)
{
    p->paused |= why;
}

bool mcd_packet_paused(MCDPacketLayer *p)
{
    return p->paused;
}

void mcd_packet_resume(MCDPacketLayer *p, unsigned why)
{
    if (!(p->paused & why)) {
        return;
    }
    p->paused &= ~why;
    if (p->paused) {
        return;
    }
    if (p->in_input) {
        /* mcd_packet_input() goes on, and tells at its end */
        p->resume_pending = true;
        return;
    }
    if (p->backlog->len) {
        drain_backlog(p);
    }
    if (!p->paused && p->ops->resumed) {
        p->ops->resumed(p->opaque);
    }
}

void mcd_packet_send(MCDPacketLayer *p, const char *payload, size_t len)
{
    frame(p, p->unacked, MCD_PACKET_START, payload, len);
    write_bytes(p, p->unacked->str, p->unacked->len);
}

GString *mcd_packet_begin(MCDPacketLayer *p)
{
    g_string_truncate(p->unacked, 0);
    g_string_append_c(p->unacked, MCD_PACKET_START);
    return p->unacked;
}

void mcd_packet_end(MCDPacketLayer *p)
{
    frame_end(p, p->unacked);
    write_bytes(p, p->unacked->str, p->unacked->len);
}

void mcd_packet_notify(MCDPacketLayer *p, const char *payload, size_t len)
{
    g_autoptr(GString) out = g_string_new(NULL);

    /* not the last packet: a '-' still asks for the last reply */
    frame(p, out, MCD_PACKET_NOTIFY, payload, len);
    write_bytes(p, out->str, out->len);
}
