/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the MCD stub packet layer (mcdstub/packet.c): framing,
 * acknowledgements, retransmission, checksums, noise and size limits.
 */

#include "qemu/osdep.h"
#include "mcdstub/packet.h"

typedef struct Peer {
    MCDPacketLayer p;
    GString *out;           /* everything the layer wrote */
    GPtrArray *packets;     /* payloads delivered, "!" for oversized */
} Peer;

static void peer_write(void *opaque, const uint8_t *buf, size_t len)
{
    Peer *peer = opaque;

    g_string_append_len(peer->out, (const char *)buf, len);
}

static void peer_packet(void *opaque, const char *payload, size_t len,
                        bool oversized)
{
    Peer *peer = opaque;

    g_assert_cmpint(strlen(payload), ==, oversized ? 0 : len);
    g_ptr_array_add(peer->packets, g_strdup(oversized ? "!" : payload));
}

static const MCDPacketOps peer_ops = {
    .write = peer_write,
    .packet = peer_packet,
};

static Peer *peer_new(void)
{
    Peer *peer = g_new0(Peer, 1);

    peer->out = g_string_new(NULL);
    peer->packets = g_ptr_array_new_with_free_func(g_free);
    mcd_packet_init(&peer->p, &peer_ops, peer);
    return peer;
}

static void peer_free(Peer *peer)
{
    mcd_packet_destroy(&peer->p);
    g_string_free(peer->out, true);
    g_ptr_array_free(peer->packets, true);
    g_free(peer);
}

static void feed(Peer *peer, const char *bytes, size_t len)
{
    mcd_packet_input(&peer->p, (const uint8_t *)bytes, len);
}

static void feed_str(Peer *peer, const char *bytes)
{
    feed(peer, bytes, strlen(bytes));
}

/* Check what was written since the last check, and forget it. */
static void check_out(Peer *peer, const char *expected)
{
    g_assert_cmpstr(peer->out->str, ==, expected);
    g_string_truncate(peer->out, 0);
}

/* Check the payloads delivered since the last check, and forget them. */
static void G_GNUC_NULL_TERMINATED check_packets(Peer *peer, ...)
{
    const char *expected;
    size_t i = 0;
    va_list ap;

    va_start(ap, peer);
    while ((expected = va_arg(ap, const char *))) {
        g_assert_cmpuint(i, <, peer->packets->len);
        g_assert_cmpstr(g_ptr_array_index(peer->packets, i), ==, expected);
        i++;
    }
    va_end(ap);
    g_assert_cmpuint(i, ==, peer->packets->len);
    g_ptr_array_set_size(peer->packets, 0);
}

static void test_plain(void)
{
    Peer *peer = peer_new();

    feed_str(peer, "$qsystem#|");
    check_out(peer, "+");
    check_packets(peer, "qsystem", NULL);

    /* "#~" (more packets follow) is accepted the same way */
    feed_str(peer, "$I#~");
    check_out(peer, "+");
    check_packets(peer, "I", NULL);

    /* the empty packet */
    feed_str(peer, "$#|");
    check_out(peer, "+");
    check_packets(peer, "", NULL);
    peer_free(peer);
}

static void test_split_bytes(void)
{
    Peer *peer = peer_new();
    const char *pkt = "$p0;15#|";
    size_t i;

    for (i = 0; pkt[i]; i++) {
        check_packets(peer, NULL);
        feed(peer, &pkt[i], 1);
    }
    check_out(peer, "+");
    check_packets(peer, "p0;15", NULL);
    peer_free(peer);
}

static void test_several_in_one_read(void)
{
    Peer *peer = peer_new();

    feed_str(peer, "$I#|$qsystem#|$qcores#|");
    check_out(peer, "+++");
    check_packets(peer, "I", "qsystem", "qcores", NULL);
    peer_free(peer);
}

static void test_nul_padding(void)
{
    Peer *peer = peer_new();
    char buf[1024] = "$I#|";

    /* the era-1 client pads every packet with NULs to 1024 bytes */
    feed(peer, buf, sizeof(buf));
    memcpy(buf, "$qsystem#|", 10);
    feed(peer, buf, sizeof(buf));
    check_out(peer, "++");
    check_packets(peer, "I", "qsystem", NULL);
    peer_free(peer);
}

static void test_garbage_before_start(void)
{
    Peer *peer = peer_new();

    feed_str(peer, "hello\r\n#|~ 12");
    check_out(peer, "");
    check_packets(peer, NULL);
    feed_str(peer, "xx$I#|");
    check_out(peer, "+");
    check_packets(peer, "I", NULL);
    peer_free(peer);
}

static void test_bad_terminator(void)
{
    Peer *peer = peer_new();

    feed_str(peer, "$I#x");
    check_out(peer, "-");
    check_packets(peer, NULL);
    /* the client sends it again */
    feed_str(peer, "$I#|");
    check_out(peer, "+");
    check_packets(peer, "I", NULL);
    peer_free(peer);
}

static void test_checksum(void)
{
    Peer *peer = peer_new();

    /* 'q'+'s'+'y'+'s'+'t'+'e'+'m' = 0x316 */
    feed_str(peer, "$qsystem#16");
    check_out(peer, "+");
    check_packets(peer, "qsystem", NULL);

    /* the reply comes in the same framing */
    mcd_packet_send(&peer->p, "qemu-system", 11);
    check_out(peer, "$qemu-system#8a");

    /* upper-case hex digits are fine too */
    feed_str(peer, "$I#49");
    feed_str(peer, "$qcores#8D");
    check_out(peer, "++");
    check_packets(peer, "I", "qcores", NULL);

    /* back to the plain framing */
    feed_str(peer, "$I#|");
    check_out(peer, "+");
    mcd_packet_send(&peer->p, "x", 1);
    check_out(peer, "$x#|");
    check_packets(peer, "I", NULL);
    peer_free(peer);
}

static void test_bad_checksum(void)
{
    Peer *peer = peer_new();

    feed_str(peer, "$qsystem#17");
    check_out(peer, "-");
    feed_str(peer, "$qsystem#1g");
    check_out(peer, "-");
    check_packets(peer, NULL);
    peer_free(peer);
}

static void test_oversized(void)
{
    Peer *peer = peer_new();
    g_autoptr(GString) big = g_string_new("$");
    g_autofree char *max = g_strnfill(MCD_PACKET_MAX_PAYLOAD, 'a');

    g_string_append_len(big, max, MCD_PACKET_MAX_PAYLOAD);
    g_string_append(big, "#|");
    /* exactly the maximum is fine */
    feed(peer, big->str, big->len);
    check_out(peer, "+");
    g_assert_cmpuint(peer->packets->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(peer->packets, 0), ==, max);
    g_ptr_array_set_size(peer->packets, 0);

    /* one more byte is reported, consumed to its end and acknowledged */
    g_string_insert_c(big, 1, 'b');
    feed(peer, big->str, big->len);
    check_out(peer, "+");
    check_packets(peer, "!", NULL);

    /* and the next packet is fine */
    feed_str(peer, "$I#|");
    check_out(peer, "+");
    check_packets(peer, "I", NULL);
    peer_free(peer);
}

static void test_retransmit(void)
{
    Peer *peer = peer_new();
    g_autofree char *flood = g_strnfill(10000, '-');

    feed_str(peer, "$qsystem#|");
    mcd_packet_send(&peer->p, "qemu-system", 11);
    check_out(peer, "+$qemu-system#|");

    /* '-' repeats the last packet, as often as needed */
    feed_str(peer, "-");
    check_out(peer, "$qemu-system#|");
    feed_str(peer, "-");
    check_out(peer, "$qemu-system#|");

    /* but a flood of '-' in one read gets it once, not once per byte */
    feed_str(peer, flood);
    check_out(peer, "$qemu-system#|");

    /* '+' acknowledges it: nothing more to repeat */
    feed_str(peer, "+");
    feed_str(peer, "-");
    check_out(peer, "");

    /* a new packet acknowledges the last reply too */
    mcd_packet_send(&peer->p, "x", 1);
    check_out(peer, "$x#|");
    feed_str(peer, "$I#|-");
    check_out(peer, "+");
    peer_free(peer);
}

static void test_reset_mid_packet(void)
{
    Peer *peer = peer_new();

    /* a client disconnects in the middle of a packet... */
    feed_str(peer, "$qsys");
    mcd_packet_reset(&peer->p);
    /* ...and the next one starts clean */
    feed_str(peer, "tem#|");
    check_out(peer, "");
    check_packets(peer, NULL);
    feed_str(peer, "$I#|");
    check_out(peer, "+");
    check_packets(peer, "I", NULL);

    /* nor is an old reply repeated after a reset */
    mcd_packet_send(&peer->p, "x", 1);
    g_string_truncate(peer->out, 0);
    mcd_packet_reset(&peer->p);
    feed_str(peer, "-");
    check_out(peer, "");
    peer_free(peer);
}

/* A raised limit takes longer packets until the layer is reset. */
static void test_max_payload(void)
{
    Peer *peer = peer_new();
    size_t max = MCD_PACKET_MAX_BINARY_PAYLOAD;
    g_autoptr(GString) big = g_string_new("$");
    g_autofree char *fill = g_strnfill(max, 'a');
    size_t i;

    g_string_append_len(big, fill, max);
    g_string_append(big, "#|");
    g_assert_cmpuint(mcd_packet_max_payload(&peer->p), ==,
                     MCD_PACKET_MAX_PAYLOAD);
    mcd_packet_set_max_payload(&peer->p, max);
    g_assert_cmpuint(mcd_packet_max_payload(&peer->p), ==, max);
    /* in pieces of 4 KiB, as QEMU's socket chardev hands them over */
    for (i = 0; i < big->len; i += 4096) {
        feed(peer, big->str + i, MIN(4096, big->len - i));
    }
    check_out(peer, "+");
    g_assert_cmpuint(peer->packets->len, ==, 1);
    g_assert_cmpuint(strlen(g_ptr_array_index(peer->packets, 0)), ==, max);
    g_ptr_array_set_size(peer->packets, 0);

    mcd_packet_reset(&peer->p);
    g_assert_cmpuint(mcd_packet_max_payload(&peer->p), ==,
                     MCD_PACKET_MAX_PAYLOAD);
    feed(peer, big->str, big->len);
    check_packets(peer, "!", NULL);
    peer_free(peer);
}

/* A packet built in place is framed as mcd_packet_send() frames it. */
static void test_in_place(void)
{
    Peer *peer = peer_new();
    GString *buf;

    buf = mcd_packet_begin(&peer->p);
    g_string_append(buf, "qemu-system");
    mcd_packet_end(&peer->p);
    check_out(peer, "$qemu-system#|");

    feed_str(peer, "$qsystem#16");
    check_out(peer, "+");
    buf = mcd_packet_begin(&peer->p);
    g_string_append(buf, "qemu-system");
    mcd_packet_end(&peer->p);
    check_out(peer, "$qemu-system#8a");
    /* and it is the packet a '-' asks for again */
    feed_str(peer, "-");
    check_out(peer, "$qemu-system#8a");
    check_packets(peer, "qsystem", NULL);
    peer_free(peer);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/mcd/packet/plain", test_plain);
    g_test_add_func("/mcd/packet/split-bytes", test_split_bytes);
    g_test_add_func("/mcd/packet/several-in-one-read",
                    test_several_in_one_read);
    g_test_add_func("/mcd/packet/nul-padding", test_nul_padding);
    g_test_add_func("/mcd/packet/garbage-before-start",
                    test_garbage_before_start);
    g_test_add_func("/mcd/packet/bad-terminator", test_bad_terminator);
    g_test_add_func("/mcd/packet/checksum", test_checksum);
    g_test_add_func("/mcd/packet/bad-checksum", test_bad_checksum);
    g_test_add_func("/mcd/packet/oversized", test_oversized);
    g_test_add_func("/mcd/packet/retransmit", test_retransmit);
    g_test_add_func("/mcd/packet/reset-mid-packet", test_reset_mid_packet);
    g_test_add_func("/mcd/packet/max-payload", test_max_payload);
    g_test_add_func("/mcd/packet/in-place", test_in_place);

    return g_test_run();
}
