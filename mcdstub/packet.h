/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub packet layer: framing, acknowledgements and retransmission.
 *
 * Independent of CPUs and of the character device, so that it can be
 * unit-tested and fuzzed on its own.  The protocol is described in
 * docs/interop/mcd.rst.
 */

#ifndef MCDSTUB_PACKET_H
#define MCDSTUB_PACKET_H

/*
 * The largest payload accepted in one packet: 33 KiB, enough for a
 * 16 KiB memory write in hex with its parameters.  The era-1 client never
 * sends more than 1020 bytes of payload; a longer packet is consumed,
 * acknowledged and answered with an error reply.
 */
#define MCD_PACKET_MAX_PAYLOAD (33 * 1024)

/* Framing characters of the mcdstub protocol. */
#define MCD_PACKET_START '$'
/* The start of an asynchronous notification from QEMU */
#define MCD_PACKET_NOTIFY '%'
#define MCD_PACKET_END '#'
#define MCD_PACKET_LAST '|'
#define MCD_PACKET_MORE '~'
#define MCD_PACKET_ACK '+'
#define MCD_PACKET_NAK '-'

/**
 * typedef MCDPacketFraming - how a packet was (or is to be) terminated
 * @MCD_FRAMING_PLAIN: ``$payload#|`` (or ``#~``), the era-1 framing
 * @MCD_FRAMING_CHECKSUM: ``$payload#xx`` with a gdb-style modulo-256
 *                        checksum in two hex digits
 */
typedef enum MCDPacketFraming {
    MCD_FRAMING_PLAIN,
    MCD_FRAMING_CHECKSUM,
} MCDPacketFraming;

/**
 * typedef MCDPacketOps - what the packet layer needs from its user
 * @write: send raw bytes to the peer
 * @packet: a complete, acknowledged packet has arrived; @payload is
 *          NUL-terminated and @len bytes long.  When @oversized is true
 *          the payload exceeded %MCD_PACKET_MAX_PAYLOAD and was
 *          discarded (@payload is then empty).
 * @resumed: optional: mcd_packet_resume() executed what was held back
 *           and takes input again
 */
/**
 * typedef MCDPacketPause - why packets wait (bits)
 * @MCD_PAUSE_COMMAND: a command's effect is not complete yet (a system
 *                     reset)
 * @MCD_PAUSE_OUTPUT: the peer has not taken the replies so far
 * @MCD_PAUSE_STATE: a state query waits for its core to stop
 */
typedef enum MCDPacketPause {
    MCD_PAUSE_COMMAND = 1 << 0,
    MCD_PAUSE_OUTPUT = 1 << 1,
    MCD_PAUSE_STATE = 1 << 2,
} MCDPacketPause;

/*
 * Replies are collected while input is processed and written in one go;
 * past this many bytes they are written at once, so that the user can
 * pause (MCD_PAUSE_OUTPUT) before more replies pile up.
 */
#define MCD_PACKET_TX_BATCH (64 * 1024)

typedef struct MCDPacketOps {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void (*packet)(void *opaque, const char *payload, size_t len,
                   bool oversized);
    void (*resumed)(void *opaque);
} MCDPacketOps;

typedef enum MCDPacketState {
    MCD_RX_IDLE,        /* waiting for '$' */
    MCD_RX_PAYLOAD,     /* collecting the payload until '#' */
    MCD_RX_TERMINATOR,  /* the byte after '#' */
    MCD_RX_CHECKSUM,    /* the second checksum digit */
} MCDPacketState;

/*
 * The largest payload once the client enabled binary memory accesses:
 * a 1 MiB write, every byte escaped, with its parameters.
 */
#define MCD_PACKET_MAX_BINARY_PAYLOAD (2 * 1024 * 1024 + 256)

/**
 * typedef MCDPacketLayer - state of one connection's packet layer
 *
 * All fields are private to packet.c.
 */
typedef struct MCDPacketLayer {
    const MCDPacketOps *ops;
    void *opaque;
    MCDPacketState state;
    GString *payload;
    size_t max_payload;
    bool oversized;
    uint8_t sum;
    uint8_t checksum_hi;
    MCDPacketFraming framing;
    /* the last packet sent, framed, kept until acknowledged */
    GString *unacked;
    /* output held back while input is processed, sent in one write */
    GString *tx;
    bool in_input;
    /* the peer sent '-': send the unacknowledged packet again */
    bool resend;
    /* why packets wait (MCDPacketPause), or 0 */
    unsigned paused;
    /* the input that arrived meanwhile */
    GByteArray *backlog;
    /* resumed during input: call MCDPacketOps.resumed at its end */
    bool resume_pending;
} MCDPacketLayer;

/**
 * mcd_packet_init() - set up a packet layer
 * @p: the packet layer
 * @ops: callbacks
 * @opaque: passed to the callbacks
 */
void mcd_packet_init(MCDPacketLayer *p, const MCDPacketOps *ops,
                     void *opaque);

/**
 * mcd_packet_destroy() - free what mcd_packet_init() allocated
 * @p: the packet layer
 */
void mcd_packet_destroy(MCDPacketLayer *p);

/**
 * mcd_packet_reset() - forget any partial packet and unacknowledged reply
 * @p: the packet layer
 *
 * Called when a connection opens or closes.
 */
void mcd_packet_reset(MCDPacketLayer *p);

/**
 * mcd_packet_set_max_payload() - change the longest payload accepted
 * @p: the packet layer
 * @max: the new limit, at least %MCD_PACKET_MAX_PAYLOAD; it lasts until
 *       mcd_packet_reset()
 */
void mcd_packet_set_max_payload(MCDPacketLayer *p, size_t max);

/**
 * mcd_packet_max_payload() - the longest payload accepted now
 * @p: the packet layer
 *
 * Returns: %MCD_PACKET_MAX_PAYLOAD, or what mcd_packet_set_max_payload()
 * set.
 */
size_t mcd_packet_max_payload(MCDPacketLayer *p);

/**
 * mcd_packet_input() - feed bytes received from the peer
 * @p: the packet layer
 * @buf: the bytes
 * @len: how many
 *
 * Bytes may arrive split anywhere; complete packets are acknowledged
 * with ``+`` and then passed to the @packet callback, one at a time and
 * in order.  What the layer sends meanwhile, acks and replies, goes out
 * in one write at the end, so that an ack and its reply share a TCP
 * segment.  Bytes outside a packet, such as the NUL padding the era-1
 * client sends, are ignored, except for ``+`` and ``-`` which acknowledge
 * or reject the last packet sent.
 */
void mcd_packet_input(MCDPacketLayer *p, const uint8_t *buf, size_t len);

/**
 * mcd_packet_send() - send one packet
 * @p: the packet layer
 * @payload: the payload; it must not contain ``#``
 * @len: its length
 *
 * The packet is framed like the last packet received and kept until
 * the peer acknowledges it, so that a ``-`` makes it go out again.
 */
void mcd_packet_send(MCDPacketLayer *p, const char *payload, size_t len);

/**
 * mcd_packet_begin() - start a packet to be built in place
 * @p: the packet layer
 *
 * For long replies: the caller appends the payload to the returned
 * buffer (which holds the start character already) and then calls
 * mcd_packet_end(); nothing else may be sent in between.  This costs no
 * copy of the payload.
 *
 * Returns: the buffer of the packet.
 */
GString *mcd_packet_begin(MCDPacketLayer *p);

/**
 * mcd_packet_end() - frame and send the packet built in place
 * @p: the packet layer
 *
 * As mcd_packet_send() for what was appended since mcd_packet_begin().
 */
void mcd_packet_end(MCDPacketLayer *p);

/**
 * mcd_packet_notify() - send an asynchronous notification
 * @p: the packet layer
 * @payload: the payload; it must not contain ``#``
 * @len: its length
 *
 * A notification starts with ``%`` instead of ``$`` and is framed like
 * a packet.  It can come between a command and its reply; it is not
 * acknowledged and never sent again.
 */
void mcd_packet_notify(MCDPacketLayer *p, const char *payload, size_t len);

/**
 * mcd_packet_pause() - execute no more packets until resumed
 * @p: the packet layer
 * @why: MCDPacketPause bits
 *
 * For a command whose effect happens later (a system reset) or a peer
 * that does not take its replies: the packets after the current one
 * wait, received bytes are kept.
 */
void mcd_packet_pause(MCDPacketLayer *p, unsigned why);

/**
 * mcd_packet_paused() - whether packets wait
 * @p: the packet layer
 *
 * Returns: true between mcd_packet_pause() and mcd_packet_resume().
 */
bool mcd_packet_paused(MCDPacketLayer *p);

/**
 * mcd_packet_resume() - end a reason to wait
 * @p: the packet layer
 * @why: the MCDPacketPause bits that no longer hold
 *
 * When no reason is left, executes the packets that waited and calls
 * &MCDPacketOps.resumed, unless a waiting packet paused again.
 */
void mcd_packet_resume(MCDPacketLayer *p, unsigned why);

#endif /* MCDSTUB_PACKET_H */
