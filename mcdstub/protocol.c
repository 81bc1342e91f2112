/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub command and query tables.
 *
 * A command payload is one command letter followed directly by its
 * parameters, separated by ';'.  Numbers are decimal.  The query command
 * 'q' carries a query name followed directly by the query's parameters.
 * See docs/interop/mcd.rst.
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "internals.h"
#include "trace.h"

/* Replies of the era-1 protocol. */
#define MCD_REPLY_HANDSHAKE "shaking your hand"
#define MCD_REPLY_SYSTEM "qemu-system"
#define MCD_REPLY_ERROR "error"

static void mcd_reply(MCDServer *s, const char *str)
{
    trace_mcd_reply(str);
    mcd_packet_send(&s->packet, str, strlen(str));
}

/* The empty packet: the reply to unknown and malformed commands. */
static void mcd_reply_empty(MCDServer *s)
{
    mcd_reply(s, "");
}

/*
 * Parameter parsing
 */

static bool parse_u32(const char **p, uint32_t *out)
{
    unsigned int v;

    /* qemu_strtoui() would also take white space and a sign */
    if (!g_ascii_isdigit(**p) || qemu_strtoui(*p, p, 10, &v) < 0) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_u64(const char **p, uint64_t *out)
{
    return g_ascii_isdigit(**p) && qemu_strtou64(*p, p, 10, out) == 0;
}

static bool parse_hex(const char **p, GByteArray **out)
{
    const char *hex = *p;
    size_t len = strlen(hex);
    g_autoptr(GByteArray) data = NULL;
    size_t i;

    if (len % 2) {
        return false;
    }
    data = g_byte_array_sized_new(len / 2);
    for (i = 0; i < len; i += 2) {
        int hi = g_ascii_xdigit_value(hex[i]);
        int lo = g_ascii_xdigit_value(hex[i + 1]);
        uint8_t byte;

        if (hi < 0 || lo < 0) {
            return false;
        }
        byte = (hi << 4) | lo;
        g_byte_array_append(data, &byte, 1);
    }
    *p = hex + len;
    *out = g_steal_pointer(&data);
    return true;
}

/*
 * Parse @p according to @schema into @args.  Every parameter must be
 * well-formed and nothing may follow the last one.
 */
static bool parse_args(const char *schema, const char *p, MCDCmdArgs *args)
{
    size_t i;

    g_assert(strlen(schema) <= MCD_MAX_ARGS);
    for (i = 0; schema[i]; i++) {
        if (i > 0) {
            if (*p != MCD_ARG_SEPARATOR) {
                return false;
            }
            p++;
        }
        switch (schema[i]) {
        case 'q':
        case 'd':
        case 'c':
            if (!parse_u32(&p, &args->arg[i].u32)) {
                return false;
            }
            break;
        case 'l':
            if (!parse_u64(&p, &args->arg[i].u64)) {
                return false;
            }
            break;
        case 's':
            args->arg[i].str = p;
            p += strlen(p);
            break;
        case 'h':
            if (!parse_hex(&p, &args->data)) {
                return false;
            }
            break;
        default:
            g_assert_not_reached();
        }
    }
    return *p == '\0';
}

static const MCDCmd *find_cmd(const MCDCmd *table, size_t n, const char *str)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (g_str_has_prefix(str, table[i].name)) {
            return &table[i];
        }
    }
    return NULL;
}

static void run_cmd(MCDServer *s, const MCDCmd *table, size_t n,
                    const char *str)
{
    const MCDCmd *cmd = find_cmd(table, n, str);
    MCDCmdArgs args = { 0 };

    if (!cmd) {
        trace_mcd_unknown_command(str);
        mcd_reply_empty(s);
        return;
    }
    if (!parse_args(cmd->schema, str + strlen(cmd->name), &args)) {
        trace_mcd_bad_arguments(cmd->name, str);
        mcd_reply_empty(s);
    } else {
        cmd->handler(s, &args);
    }
    if (args.data) {
        g_byte_array_unref(args.data);
    }
}

/*
 * Queries
 */

static void handle_query_system(MCDServer *s, const MCDCmdArgs *args)
{
    mcd_reply(s, MCD_REPLY_SYSTEM);
}

static const MCDCmd mcd_queries[] = {
    { "system", "", handle_query_system },
};

/*
 * Commands
 */

static void handle_open_server(MCDServer *s, const MCDCmdArgs *args)
{
    s->session_open = true;
    mcd_reply(s, MCD_REPLY_HANDSHAKE);
}

static void handle_detach(MCDServer *s, const MCDCmdArgs *args)
{
    mcd_session_close(s);
}

static void handle_query(MCDServer *s, const MCDCmdArgs *args)
{
    run_cmd(s, mcd_queries, ARRAY_SIZE(mcd_queries), args->arg[0].str);
}

static const MCDCmd mcd_commands[] = {
    { "I", "", handle_open_server },
    { "D", "", handle_detach },
    { "q", "s", handle_query },
};

void mcd_handle_packet(MCDServer *s, const char *payload, size_t len,
                       bool oversized)
{
    if (oversized) {
        trace_mcd_packet_oversized(MCD_PACKET_MAX_PAYLOAD);
        mcd_reply(s, MCD_REPLY_ERROR);
        return;
    }
    trace_mcd_packet(payload);
    if (strlen(payload) != len) {
        /* a NUL inside the payload */
        mcd_reply_empty(s);
        return;
    }
    run_cmd(s, mcd_commands, ARRAY_SIZE(mcd_commands), payload);
}
