/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: the -mcd option, the character device and the session.
 *
 * The stub serves one debugger connection at a time on a QEMU character
 * device, so TCP, Unix sockets and TLS come from the chardev layer.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/accel.h"
#include "qemu/cutils.h"
#include "qemu/option.h"
#include "chardev/char.h"
#include "chardev/char-fe.h"
#include "hw/core/cpu.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "mcdstub/mcdstub.h"
#include "core.h"
#include "internals.h"
#include "json.h"
#include "trace.h"

/*
 * Replies are never written with a blocking write: QEMU, the monitor
 * and the guest must not wait for a debugger.  What the client has not
 * taken yet waits in @out; past MCD_OUT_HIGH bytes no more packets are
 * executed (and no more input is read) until it has taken them all, and
 * a client that takes nothing for @stall_ms is disconnected, which ends
 * its session as a detach does.
 */
#define MCD_OUT_HIGH (64 * 1024)
#define MCD_STALL_MS_DEFAULT 10000

/* How long a state query of a running core waits for it to stop. */
#define MCD_STATE_WAIT_MS 2

/*
 * @close_bh: ends the session of a connection that closed, outside of
 * whatever noticed it (a failed write can raise the chardev's CLOSED
 * event in the middle of a reply)
 */
/* The protocol of a connection, picked by its first byte. */
typedef enum MCDWire {
    MCD_WIRE_UNKNOWN,
    MCD_WIRE_PACKET,        /* the 2023 packet protocol */
    MCD_WIRE_JSON,          /* the MCD API as JSON commands */
} MCDWire;

/* JSON input is fed in pieces this large, so that replies can pause it. */
#define MCD_JSON_CHUNK 512

typedef struct MCDSystemState {
    MCDServer server;
    MCDJsonServer *json;
    MCDWire wire;
    GByteArray *json_in;    /* JSON input waiting for the replies to go */
    bool json_feeding;
    bool json_refused;      /* mcd_chr_can_receive() said 0 for json_in */
    CharBackend chr;
    QEMUBH *close_bh;
    bool close_pending;
    bool started;
    GByteArray *out;
    guint out_watch;
    bool flushing;
    QEMUTimer *stall_timer;
    uint32_t stall_ms;
    int64_t grace_ms;       /* of a JSON session, or -1 for the default */
} MCDSystemState;

static MCDSystemState mcd_state;

/* The chardev label of a connection that -mcd creates itself. */
#define MCD_CHARDEV_LABEL "mcd"

static void mcd_out_drop(MCDSystemState *st)
{
    g_byte_array_set_size(st->out, 0);
    if (st->out_watch) {
        g_source_remove(st->out_watch);
        st->out_watch = 0;
    }
    timer_del(st->stall_timer);
}

static gboolean mcd_chr_writable(void *do_not_use, GIOCondition cond,
                                 void *opaque);
static void mcd_json_feed(MCDSystemState *st);

/* Write what the client takes without blocking; wait for the rest. */
static void mcd_out_flush(MCDSystemState *st)
{
    bool progress = false;
    int n;

    if (st->flushing) {
        return;
    }
    st->flushing = true;
    while (st->out->len) {
        n = qemu_chr_fe_write(&st->chr, st->out->data, st->out->len);
        if (n <= 0) {
            /* EAGAIN, or the peer is gone (and the CLOSED event dropped it) */
            break;
        }
        g_byte_array_remove_range(st->out, 0, n);
        progress = true;
    }
    st->flushing = false;
    if (!st->out->len) {
        /* timer_del() takes a lock: not after every reply */
        if (timer_pending(st->stall_timer)) {
            timer_del(st->stall_timer);
        }
        /* the client took everything: its next packets may run */
        mcd_packet_resume(&st->server.packet, MCD_PAUSE_OUTPUT);
        mcd_json_feed(st);
        return;
    }
    if (!st->out_watch) {
        st->out_watch = qemu_chr_fe_add_watch(&st->chr, G_IO_OUT | G_IO_HUP,
                                              mcd_chr_writable, st);
    }
    if (st->stall_ms && (progress || !timer_pending(st->stall_timer))) {
        timer_mod(st->stall_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                  st->stall_ms);
    }
    if (st->out->len >= MCD_OUT_HIGH) {
        mcd_packet_pause(&st->server.packet, MCD_PAUSE_OUTPUT);
    }
}

static gboolean mcd_chr_writable(void *do_not_use, GIOCondition cond,
                                 void *opaque)
{
    MCDSystemState *st = opaque;

    st->out_watch = 0;
    mcd_out_flush(st);
    return G_SOURCE_REMOVE;
}

/* A client that took nothing for stall_ms: as if it had gone away. */
static void mcd_stall_timeout(void *opaque)
{
    MCDSystemState *st = opaque;

    trace_mcd_stalled(st->out->len);
    mcd_out_drop(st);
    mcd_packet_reset(&st->server.packet);
    qemu_chr_fe_disconnect(&st->chr);
    st->close_pending = true;
    qemu_bh_schedule(st->close_bh);
}

static void mcd_chr_write(void *opaque, const uint8_t *buf, size_t len)
{
    MCDSystemState *st = opaque;
    int n;

    if (!st->out->len && !st->flushing) {
        /* what the client takes at once needs no copy */
        n = qemu_chr_fe_write(&st->chr, buf, len);
        if (n > 0) {
            buf += n;
            len -= n;
        }
    }
    g_byte_array_append(st->out, buf, len);
    mcd_out_flush(st);
}

static void mcd_chr_json_resumed(void *opaque)
{
    mcd_json_feed(opaque);
}

static const MCDJsonOps mcd_chr_json_ops = {
    .write = mcd_chr_write,
    .resumed = mcd_chr_json_resumed,
};

/*
 * Execute the JSON input that waits, a piece at a time, until replies
 * back up.
 */
static void mcd_json_feed(MCDSystemState *st)
{
    size_t n;

    if (st->json_feeding) {
        /* a reply went out in the middle of a command: go on after it */
        return;
    }
    st->json_feeding = true;
    while (st->wire == MCD_WIRE_JSON && st->json_in->len &&
           st->out->len < MCD_OUT_HIGH && !mcd_json_busy(st->json)) {
        g_autoptr(GByteArray) piece = g_byte_array_new();

        n = MIN(st->json_in->len, MCD_JSON_CHUNK);
        g_byte_array_append(piece, st->json_in->data, n);
        g_byte_array_remove_range(st->json_in, 0, n);
        mcd_json_input(st->json, piece->data, piece->len);
    }
    st->json_feeding = false;
    if (st->json_refused && !st->json_in->len) {
        /* mcd_chr_can_receive() turned input away while this waited */
        st->json_refused = false;
        qemu_chr_fe_accept_input(&st->chr);
    }
}

static void mcd_chr_packet(void *opaque, const char *payload, size_t len,
                           bool oversized)
{
    MCDSystemState *st = opaque;

    mcd_handle_packet(&st->server, payload, len, oversized);
}

static void mcd_chr_resumed(void *opaque)
{
    MCDSystemState *st = opaque;

    qemu_chr_fe_accept_input(&st->chr);
}

static const MCDPacketOps mcd_chr_packet_ops = {
    .write = mcd_chr_write,
    .packet = mcd_chr_packet,
    .resumed = mcd_chr_resumed,
};

static int mcd_chr_can_receive(void *opaque)
{
    MCDSystemState *st = opaque;

    if (st->wire == MCD_WIRE_JSON) {
        if (st->json_in->len) {
            st->json_refused = true;
            return 0;
        }
        return MCD_PACKET_MAX_PAYLOAD;
    }
    return mcd_packet_paused(&st->server.packet) ? 0 : MCD_PACKET_MAX_PAYLOAD;
}

/* The first byte of a connection that is not white space picks its protocol. */
static void mcd_pick_wire(MCDSystemState *st, uint8_t first)
{
    if (first == '{') {
        st->wire = MCD_WIRE_JSON;
        if (!st->json) {
            st->json = mcd_json_server_new(&mcd_chr_json_ops, st);
            if (st->grace_ms >= 0) {
                mcd_json_set_grace(st->json, st->grace_ms);
            }
        }
        mcd_json_connect(st->json);
    } else {
        st->wire = MCD_WIRE_PACKET;
        /* a packet client ends a JSON session that outlived its link */
        if (st->json) {
            mcd_json_end_session(st->json);
        }
    }
    trace_mcd_protocol(st->wire == MCD_WIRE_JSON ? "json" : "packet");
}

static void mcd_chr_receive(void *opaque, const uint8_t *buf, int size)
{
    MCDSystemState *st = opaque;

    if (st->wire == MCD_WIRE_UNKNOWN) {
        while (size && g_ascii_isspace(*buf)) {
            buf++;
            size--;
        }
        if (!size) {
            return;
        }
        mcd_pick_wire(st, *buf);
    }
    if (st->wire == MCD_WIRE_JSON) {
        g_byte_array_append(st->json_in, buf, size);
        mcd_json_feed(st);
    } else {
        mcd_packet_input(&st->server.packet, buf, size);
    }
}

/*
 * A packet client that just goes away is treated as a detach; a JSON
 * client's session may outlive its connection.
 */
static void mcd_close_session(MCDSystemState *st)
{
    if (st->close_pending) {
        st->close_pending = false;
        mcd_session_close(&st->server);
        if (st->json) {
            mcd_json_disconnect(st->json);
        }
    }
}

static void mcd_close_bh(void *opaque)
{
    mcd_close_session(opaque);
}

static void mcd_chr_event(void *opaque, QEMUChrEvent event)
{
    MCDSystemState *st = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        trace_mcd_connect();
        /* the last client's session ends before the new one starts */
        mcd_close_session(st);
        mcd_out_drop(st);
        mcd_packet_reset(&st->server.packet);
        st->wire = MCD_WIRE_UNKNOWN;
        g_byte_array_set_size(st->json_in, 0);
        st->json_refused = false;
        break;
    case CHR_EVENT_CLOSED:
        trace_mcd_disconnect();
        mcd_out_drop(st);
        mcd_packet_reset(&st->server.packet);
        st->wire = MCD_WIRE_UNKNOWN;
        g_byte_array_set_size(st->json_in, 0);
        st->json_refused = false;
        st->close_pending = true;
        qemu_bh_schedule(st->close_bh);
        break;
    default:
        break;
    }
}

/*
 * Take the stub's own options out of the -mcd argument: what is left is
 * the device.  "stall-timeout=<seconds>" (0: never) and
 * "session-grace=<seconds>".
 */
static char *mcd_take_options(MCDSystemState *st, const char *arg,
                              Error **errp)
{
    g_auto(GStrv) items = g_strsplit(arg, ",", -1);
    g_autoptr(GString) device = g_string_new(NULL);
    const char *value;
    unsigned int secs;
    size_t i;

    st->stall_ms = MCD_STALL_MS_DEFAULT;
    st->grace_ms = -1;
    for (i = 0; items[i]; i++) {
        const char *name = "stall-timeout";

        if (!strstart(items[i], "stall-timeout=", &value) &&
            !strstart(items[i], "session-grace=", &value)) {
            g_string_append_printf(device, "%s%s", i ? "," : "", items[i]);
            continue;
        }
        if (g_str_has_prefix(items[i], "session-grace=")) {
            name = "session-grace";
        }
        if (qemu_strtoui(value, NULL, 10, &secs) < 0 ||
            secs > UINT32_MAX / 1000) {
            error_setg(errp, "mcdstub: %s takes seconds, not '%s'", name,
                       value);
            return NULL;
        }
        if (g_str_equal(name, "stall-timeout")) {
            st->stall_ms = secs * 1000;
        } else {
            st->grace_ms = secs * 1000;
        }
    }
    return g_string_free(g_steal_pointer(&device), false);
}

/*
 * Turn the -mcd argument into a character device.  Returns NULL with
 * *errp unset for "none".
 */
static Chardev *mcd_open_chardev(const char *device, Error **errp)
{
    ERRP_GUARD();
    g_autofree char *spec = NULL;
    const char *id;
    QemuOpts *opts;
    Chardev *chr;

    if (g_str_equal(device, "none")) {
        return NULL;
    }
    if (g_str_equal(device, "default")) {
        device = MCD_DEFAULT_DEVICE;
    }
    if (strstart(device, "chardev:", &id)) {
        chr = qemu_chr_find(id);
        if (!chr) {
            error_setg(errp, "mcdstub: no chardev with id '%s'", id);
        }
        return chr;
    }
    if (strstart(device, "tcp:", NULL)) {
        /* a server that does not wait for the client, as gdbstub does */
        spec = g_strdup_printf("%s,server=on,wait=off,nodelay=on", device);
    } else if (strstart(device, "unix:", NULL)) {
        spec = g_strdup_printf("%s,server=on,wait=off", device);
    } else {
        error_setg(errp, "mcdstub: unusable device '%s'", device);
        error_append_hint(errp, "Use default, tcp:[host]:port, unix:path, "
                          "chardev:id or none.\n");
        return NULL;
    }

    opts = qemu_chr_parse_compat(MCD_CHARDEV_LABEL, spec, false);
    if (!opts) {
        error_setg(errp, "mcdstub: cannot parse device '%s'", device);
        return NULL;
    }
    chr = qemu_chr_new_from_opts(opts, NULL, errp);
    qemu_opts_del(opts);
    if (!chr) {
        error_prepend(errp, "mcdstub: cannot open '%s': ", device);
    }
    return chr;
}

bool mcdserver_start(const char *device, Error **errp)
{
    ERRP_GUARD();
    MCDSystemState *st = &mcd_state;
    g_autofree char *dev = NULL;
    Chardev *chr;

    if (st->started) {
        error_setg(errp, "mcdstub: only one -mcd option is supported");
        return false;
    }
    if (!first_cpu) {
        error_setg(errp, "mcdstub: meaningless to attach a debugger to a "
                   "machine without any CPU");
        return false;
    }
    if (!mcd_accel_usable(current_accel_name(), errp)) {
        return false;
    }

    trace_mcd_start(device);
    dev = mcd_take_options(st, device, errp);
    if (!dev) {
        return false;
    }
    chr = mcd_open_chardev(dev, errp);
    if (*errp) {
        return false;
    }
    if (chr && !qemu_chr_fe_init(&st->chr, chr, errp)) {
        error_prepend(errp, "mcdstub: ");
        return false;
    }

    mcd_server_init(&st->server, &mcd_chr_packet_ops, st);
    mcd_server_set_state_wait(&st->server, MCD_STATE_WAIT_MS);
    mcd_target_init();
    st->close_bh = qemu_bh_new(mcd_close_bh, st);
    st->out = g_byte_array_new();
    st->json_in = g_byte_array_new();
    st->stall_timer = timer_new_ms(QEMU_CLOCK_REALTIME, mcd_stall_timeout, st);
    if (chr) {
        qemu_chr_fe_set_handlers(&st->chr, mcd_chr_can_receive,
                                 mcd_chr_receive, mcd_chr_event,
                                 NULL, st, NULL, true);
    }
    st->started = true;
    return true;
}
