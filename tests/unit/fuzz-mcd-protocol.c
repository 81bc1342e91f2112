/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the MCD stub packet layer and command tables
 * (mcdstub/packet.c, mcdstub/protocol.c) on the fake target of
 * mcd-fake-core.c.  Built and run with clang by buildsys/fuzz.sh
 * ("make fuzz"), not by meson.
 *
 * The first byte of the input chooses how the rest is cut into reads,
 * so that packets are also split across reads.  Every byte written back
 * must be an ack, a nak or a well-formed packet.
 */

#include "qemu/osdep.h"
#include "mcdstub/internals.h"
#include "mcd-fake-core.h"

static GString *fuzz_out;

static void fuzz_write(void *opaque, const uint8_t *buf, size_t len)
{
    g_string_append_len(fuzz_out, (const char *)buf, len);
}

static void fuzz_packet(void *opaque, const char *payload, size_t len,
                        bool oversized)
{
    mcd_handle_packet(opaque, payload, len, oversized);
}

static const MCDPacketOps fuzz_ops = {
    .write = fuzz_write,
    .packet = fuzz_packet,
};

/* What the stub wrote: '+', '-' and "$payload#|" or "$payload#xx". */
static void check_output(const GString *out)
{
    const char *p = out->str;
    const char *end = out->str + out->len;

    while (p < end) {
        if (*p == '+' || *p == '-') {
            p++;
            continue;
        }
        g_assert(*p == '$');
        p = memchr(p, '#', end - p);
        g_assert(p);
        g_assert(end - p >= 2);
        if (p[1] == '|') {
            p += 2;
        } else {
            g_assert(end - p >= 3);
            g_assert(g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]));
            p += 3;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MCDServer s = { 0 };
    size_t chunk, off;

    if (size == 0) {
        return 0;
    }
    chunk = data[0] ? data[0] : size;
    data++;
    size--;

    fuzz_out = g_string_new(NULL);
    mcd_server_init(&s, &fuzz_ops, &s);
    for (off = 0; off < size; off += chunk) {
        mcd_packet_input(&s.packet, data + off, MIN(chunk, size - off));
    }
    /* the client goes away */
    mcd_packet_reset(&s.packet);
    mcd_session_close(&s);
    check_output(fuzz_out);

    mcd_server_destroy(&s);
    g_string_free(fuzz_out, true);
    return 0;
}
