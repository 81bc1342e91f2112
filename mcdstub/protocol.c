/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub command and query tables.
 *
 * A command payload is one command letter followed directly by its
 * parameters, separated by ';'.  Numbers are decimal.  The query command
 * 'q' carries a query name followed directly by the query's parameters.
 * Replies are bare strings, hex data or records of "key=value." items;
 * list queries are paginated.  See docs/interop/mcd.rst.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/timer.h"
#include "core.h"
#include "internals.h"
#include "trace.h"

/* Replies of the era-1 protocol. */
#define MCD_REPLY_HANDSHAKE "shaking your hand"
#define MCD_REPLY_SYSTEM "qemu-system"
#define MCD_REPLY_SUCCESS "success"
#define MCD_REPLY_ERROR "error"

/* The most bytes one memory read or write moves. */
#define MCD_MAX_DATA (16 * 1024)

/* The most bytes one binary memory read or write ("x", "X") moves. */
#define MCD_MAX_BINARY (1024 * 1024)

/* The escape of binary data: the next byte is XORed with 0x20. */
#define MCD_BINARY_ESCAPE '}'
#define MCD_BINARY_XOR 0x20

/* The protocol version this stub speaks; the era-1 protocol is 1. */
#define MCD_PROTOCOL_VERSION 2

/* Extensions a client can enable with the "protocol" query. */
static const struct {
    const char *name;
    MCDExtension bit;
} mcd_extensions[] = {
    { "errors", MCD_EXT_ERRORS },
    { "steps", MCD_EXT_STEPS },
    { "wplen", MCD_EXT_WPLEN },
    { "resethalt", MCD_EXT_RESETHALT },
    { "stepirq", MCD_EXT_STEPIRQ },
    { "notify", MCD_EXT_NOTIFY },
    { "stoprec", MCD_EXT_STOPREC },
    { "txopt", MCD_EXT_TXOPT },
    { "lists", MCD_EXT_LISTS },
    { "regs", MCD_EXT_REGS },
    { "binary", MCD_EXT_BINARY },
    { "coreinfo", MCD_EXT_COREINFO },
    { "stopregs", MCD_EXT_STOPREGS },
};

/* What the era-1 trigger query reports: MCD_MAX_TRIGGERS per core. */
#define MCD_TRIGGER_INFO \
    "nr_trigger=16.type=1,2,3,4.option=break_on_trigger." \
    "action=check_data_value."

/*
 * Replies
 */

static void mcd_reply(MCDServer *s, const char *str)
{
    trace_mcd_reply(str);
    mcd_packet_send(&s->packet, str, strlen(str));
}

/*
 * Send the reply built in @out by mcd_packet_begin(), traced as
 * mcd_reply() does.
 */
static void mcd_reply_end(MCDServer *s, GString *out)
{
    trace_mcd_reply(out->str + 1);
    mcd_packet_end(&s->packet);
}

/* The empty packet: the reply to unknown and malformed commands. */
static void mcd_reply_empty(MCDServer *s)
{
    mcd_reply(s, "");
}

#define HEX_ROW(h) \
    h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" \
    h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"

/* The two hex digits of each byte value: one copy per byte. */
static const char hex_pairs[] =
    HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3")
    HEX_ROW("4") HEX_ROW("5") HEX_ROW("6") HEX_ROW("7")
    HEX_ROW("8") HEX_ROW("9") HEX_ROW("a") HEX_ROW("b")
    HEX_ROW("c") HEX_ROW("d") HEX_ROW("e") HEX_ROW("f");

/* Eight 16-bit lanes: the compiler uses vector registers where it can. */
typedef int16_t MCDHexLanes __attribute__((vector_size(16)));

/* The digits of the nibbles in @n: '0' to '9', 'a' to 'f'. */
static inline MCDHexLanes hex_digits(MCDHexLanes n)
{
    return n + '0' + ((n > 9) & ('a' - '0' - 10));
}

/* The 16 hex digits of the 8 bytes at @src, at @dst. */
static void hex_encode8(char *dst, const uint8_t *src)
{
    MCDHexLanes b = {
        src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[7]
    };
    MCDHexLanes hi = hex_digits(b >> 4);
    MCDHexLanes lo = hex_digits(b & 15);
    /* the high nibble's digit first in memory */
#if HOST_BIG_ENDIAN
    MCDHexLanes pairs = hi << 8 | lo;
#else
    MCDHexLanes pairs = lo << 8 | hi;
#endif

    memcpy(dst, &pairs, sizeof(pairs));
}

/* Append @len bytes at @buf in hex to @out, sized once. */
static void append_hex(GString *out, const uint8_t *buf, size_t len)
{
    size_t start = out->len;
    char *hex;
    size_t i;

    g_string_set_size(out, start + len * 2);
    hex = out->str + start;
    for (i = 0; i + 8 <= len; i += 8) {
        hex_encode8(hex + 2 * i, buf + i);
    }
    for (; i < len; i++) {
        memcpy(hex + 2 * i, hex_pairs + 2 * buf[i], 2);
    }
}

/* A reply of hex data, built in the packet buffer. */
static void mcd_reply_hex(MCDServer *s, const uint8_t *buf, size_t len)
{
    append_hex(mcd_packet_begin(&s->packet), buf, len);
    mcd_packet_end(&s->packet);
}

/* The bytes that binary data escapes: they frame packets, or escape. */
static bool binary_escaped(uint8_t byte)
{
    return byte == MCD_PACKET_END || byte == MCD_PACKET_START ||
           byte == MCD_PACKET_NOTIFY || byte == MCD_BINARY_ESCAPE;
}

/* A reply of binary data, escaped into the packet buffer in one pass. */
static void mcd_reply_binary(MCDServer *s, const uint8_t *buf, size_t len)
{
    static bool escaped[256];
    GString *out = mcd_packet_begin(&s->packet);
    size_t start = out->len;
    char *dst;
    size_t i;

    if (!escaped[MCD_BINARY_ESCAPE]) {
        for (i = 0; i < ARRAY_SIZE(escaped); i++) {
            escaped[i] = binary_escaped(i);
        }
    }
    /* room for the worst case, every byte escaped; trimmed below */
    g_string_set_size(out, start + 2 * len);
    dst = out->str + start;
    for (i = 0; i < len; i++) {
        if (unlikely(escaped[buf[i]])) {
            *dst++ = MCD_BINARY_ESCAPE;
            *dst++ = buf[i] ^ MCD_BINARY_XOR;
        } else {
            *dst++ = buf[i];
        }
    }
    g_string_truncate(out, dst - out->str);
    mcd_packet_end(&s->packet);
}

/*
 * Write "key=value." at @p with @value made safe for a record value:
 * the wire is printable ASCII, '.' ends a value, ';' a record of a
 * list, and '#', '$', '%', '|' and '~' frame packets.  Values may echo
 * what a client sent.  Writes strlen(@key) + strlen(@value) + 2 bytes;
 * returns the end.
 */
static char *put_str(char *p, const char *key, const char *value)
{
    /* each character as a value holds it: '_' for those it may not */
    static char safe[256];
    size_t key_len = strlen(key);
    int i;

    if (!safe['a']) {
        for (i = 0; i < ARRAY_SIZE(safe); i++) {
            safe[i] = i < 0x20 || i >= 0x7f || strchr(".#$%|~;", i) ? '_'
                                                                    : i;
        }
    }
    memcpy(p, key, key_len);
    p += key_len;
    *p++ = '=';
    for (; *value; value++) {
        *p++ = safe[(uint8_t)*value];
    }
    *p++ = '.';
    return p;
}

/* Append "key=value." to @rec, @value made safe as put_str() does. */
static void rec_str(GString *rec, const char *key, const char *value)
{
    size_t start = rec->len;

    /* sized once, written in place */
    g_string_set_size(rec, start + strlen(key) + strlen(value) + 2);
    put_str(rec->str + start, key, value);
}

/* The most digits a 64-bit number has in decimal */
#define MCD_U64_DIGITS 20

/*
 * Write @value in decimal at @p, without a printf; returns the end (at
 * most MCD_U64_DIGITS characters on).
 */
static char *put_u64(char *p, uint64_t value)
{
    char digits[MCD_U64_DIGITS];
    size_t n = 0;

    if (value < 10) {
        /* most numbers of a record: ids, flags, small counts */
        *p = '0' + value;
        return p + 1;
    }
    do {
        digits[n++] = '0' + value % 10;
        value /= 10;
    } while (value);
    while (n) {
        *p++ = digits[--n];
    }
    return p;
}

static char *put_dot(char *p)
{
    *p = '.';
    return p + 1;
}

/*
 * Write "key=<decimal>." at @p for a literal @key, copied as a whole;
 * evaluates to the end.
 */
#define PUT_FIELD(p, key, value) \
    (memcpy((p), key "=", sizeof(key)), \
     put_dot(put_u64((p) + sizeof(key), (value))))

static void rec_number(GString *rec, const char *key, uint64_t value,
                       bool negative)
{
    size_t key_len = strlen(key);
    size_t start = rec->len;
    char *p;

    /* room for "<key>=-<digits>.", written in place */
    g_string_set_size(rec, start + key_len + 3 + MCD_U64_DIGITS);
    p = rec->str + start;
    memcpy(p, key, key_len);
    p += key_len;
    *p++ = '=';
    if (negative) {
        *p++ = '-';
    }
    p = put_dot(put_u64(p, value));
    g_string_truncate(rec, p - rec->str);
}

static void rec_u64(GString *rec, const char *key, uint64_t value)
{
    rec_number(rec, key, value, false);
}

/* The era-1 protocol prints addresses signed: all-ones is "-1". */
static void rec_i64(GString *rec, const char *key, uint64_t value)
{
    if ((int64_t)value < 0) {
        rec_number(rec, key, -value, true);
    } else {
        rec_number(rec, key, value, false);
    }
}

/*
 * Report a failure.  Clients that enabled the errors extension get the
 * MCD error code and a text; era-1 clients get "error" for commands and
 * the empty packet for queries, as the original stub answered.
 */
static void G_GNUC_PRINTF(3, 4)
mcd_reply_error(MCDServer *s, uint32_t code, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    va_list ap;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_mcd_error(code, text);

    if (s->ext & MCD_EXT_ERRORS) {
        g_autoptr(GString) rec = g_string_new(NULL);

        rec_u64(rec, "error", code);
        rec_str(rec, "text", text);
        mcd_reply(s, rec->str);
    } else if (s->era1_fail == MCD_ERA1_EMPTY) {
        mcd_reply_empty(s);
    } else if (s->era1_fail == MCD_ERA1_SILENT) {
        /* only the trace tells */
    } else {
        mcd_reply(s, MCD_REPLY_ERROR);
    }
}

/*
 * A command that succeeded and has no reply of its own: era-1 clients
 * only get the '+', clients that enabled the errors extension a reply.
 */
static void mcd_reply_done(MCDServer *s)
{
    if (s->ext & MCD_EXT_ERRORS) {
        mcd_reply(s, MCD_REPLY_SUCCESS);
    }
}

/*
 * Answer the result of a core operation: @ok on success (with %NULL, as
 * mcd_reply_done()), the error otherwise, which is freed.
 */
static void reply_result(MCDServer *s, uint32_t code, Error *err,
                         const char *ok)
{
    if (code != MCD_ERR_NONE) {
        mcd_reply_error(s, code, "%s", error_get_pretty(err));
        error_free(err);
    } else if (ok) {
        mcd_reply(s, ok);
    } else {
        mcd_reply_done(s);
    }
}

typedef void (*MCDListItemFn)(GString *rec, const void *item);

/*
 * Reply with item @index of a list of @count items of @size bytes at
 * @items: "<next>!<record>", where <next> is the index of the next item,
 * or 0 after the last one.  An empty list is "0!".  With the lists
 * extension, the items from @index on follow each other, separated by
 * ';', as many as fit in MCD_PACKET_MAX_PAYLOAD; <next> is then the
 * first item not sent.
 */
static void mcd_reply_list(MCDServer *s, const void *items, size_t size,
                           size_t count, size_t index, MCDListItemFn fn)
{
    /* sized once for the records of a whole packet, or for one */
    g_autoptr(GString) recs = g_string_sized_new(s->ext & MCD_EXT_LISTS ?
                                                 MCD_PACKET_MAX_PAYLOAD :
                                                 1024);
    size_t next = index, mark, start;
    GString *out;
    char *p;

    if (count == 0 && index == 0) {
        mcd_reply(s, "0!");
        return;
    }
    if (index >= count) {
        mcd_reply_error(s, MCD_ERR_PARAM, "no list item %zu, the list has %zu",
                        index, count);
        return;
    }
    do {
        mark = recs->len;
        if (next > index) {
            g_string_append_c(recs, ';');
        }
        fn(recs, (const char *)items + next * size);
        /* the records and "<next>!" before them fit one packet */
        if (next > index &&
            recs->len + MCD_U64_DIGITS + 1 > MCD_PACKET_MAX_PAYLOAD) {
            g_string_truncate(recs, mark);
            break;
        }
        next++;
    } while ((s->ext & MCD_EXT_LISTS) && next < count);
    /* the records are long lists: built once, copied once */
    out = mcd_packet_begin(&s->packet);
    start = out->len;
    g_string_set_size(out, start + MCD_U64_DIGITS + 1 + recs->len);
    p = put_u64(out->str + start, next < count ? next : 0);
    *p++ = '!';
    memcpy(p, recs->str, recs->len);
    g_string_truncate(out, p + recs->len - out->str);
    mcd_reply_end(s, out);
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

/* The value of each hex digit, -1 for other characters. */
static int8_t hex_values[256];

static void init_hex_values(void)
{
    int i;

    if (hex_values[0]) {
        return;
    }
    for (i = 0; i < ARRAY_SIZE(hex_values); i++) {
        hex_values[i] = g_ascii_xdigit_value(i);
    }
}

/* Hex data from *@p to @end, into a buffer sized once. */
static bool parse_hex(const char **p, const char *end, GByteArray **out)
{
    const uint8_t *hex = (const uint8_t *)*p;
    size_t len = end - *p;
    g_autoptr(GByteArray) data = NULL;
    size_t i;

    if (len % 2) {
        return false;
    }
    init_hex_values();
    data = g_byte_array_sized_new(len / 2);
    g_byte_array_set_size(data, len / 2);
    for (i = 0; i < len / 2; i++) {
        int hi = hex_values[hex[2 * i]];
        int lo = hex_values[hex[2 * i + 1]];

        if ((hi | lo) < 0) {
            return false;
        }
        data->data[i] = (hi << 4) | lo;
    }
    *p = end;
    *out = g_steal_pointer(&data);
    return true;
}

/* Escaped binary data from *@p to @end (see mcd_reply_binary()). */
static bool parse_binary(const char **p, const char *end, GByteArray **out)
{
    const char *src = *p;
    g_autoptr(GByteArray) data = g_byte_array_sized_new(end - src);
    uint8_t *dst;

    g_byte_array_set_size(data, end - src);
    dst = data->data;
    while (src < end) {
        const char *esc = memchr(src, MCD_BINARY_ESCAPE, end - src);
        size_t n = (esc ? esc : end) - src;

        memcpy(dst, src, n);
        dst += n;
        src += n;
        if (esc) {
            if (esc + 1 == end) {
                return false;
            }
            *dst++ = esc[1] ^ MCD_BINARY_XOR;
            src = esc + 2;
        }
    }
    g_byte_array_set_size(data, dst - data->data);
    *p = end;
    *out = g_steal_pointer(&data);
    return true;
}

/*
 * A list of register ids and ranges, "0-33,66", up to the next ';':
 * at most MCD_MAX_REG_LIST ids.
 */
static bool parse_reg_list(const char **p, GArray **out)
{
    g_autoptr(GArray) ids = g_array_sized_new(false, false,
                                              sizeof(uint64_t), 64);
    uint64_t first, last, k;
    guint at;

    for (;;) {
        if (!parse_u64(p, &first)) {
            return false;
        }
        last = first;
        if (**p == '-') {
            (*p)++;
            if (!parse_u64(p, &last) || last < first) {
                return false;
            }
        }
        if (last - first >= MCD_MAX_REG_LIST - ids->len) {
            return false;
        }
        /* a range grows the array once */
        at = ids->len;
        g_array_set_size(ids, at + (last - first) + 1);
        for (k = 0; k <= last - first; k++) {
            g_array_index(ids, uint64_t, at + k) = first + k;
        }
        if (**p != ',') {
            break;
        }
        (*p)++;
    }
    *out = g_steal_pointer(&ids);
    return true;
}

bool mcd_parse_args(const char *schema, const char *p, size_t len,
                    MCDCmdArgs *args)
{
    const char *end = p + len;
    bool binary = strchr(schema, 'b');
    unsigned n = 0;
    size_t i;

    if (!binary && memchr(p, '\0', len)) {
        return false;
    }

    g_assert(strlen(schema) <= MCD_MAX_ARGS);
    args->count = 0;
    for (i = 0; schema[i]; i++) {
        if (schema[i] == '?') {
            if (p == end) {
                break;
            }
            continue;
        }
        if (n > 0) {
            if (*p != MCD_ARG_SEPARATOR) {
                return false;
            }
            p++;
        }
        n++;
        switch (schema[i]) {
        case 'q':
        case 'd':
        case 'c':
            if (!parse_u32(&p, &args->arg[n - 1].u32)) {
                return false;
            }
            break;
        case 'l':
            if (!parse_u64(&p, &args->arg[n - 1].u64)) {
                return false;
            }
            break;
        case 'r':
            if (!parse_reg_list(&p, &args->ids)) {
                return false;
            }
            break;
        case 's':
            args->arg[n - 1].str = p;
            p = end;
            break;
        case 'h':
            if (!parse_hex(&p, end, &args->data)) {
                return false;
            }
            break;
        case 'b':
            if (!parse_binary(&p, end, &args->data)) {
                return false;
            }
            break;
        default:
            g_assert_not_reached();
        }
        args->count = n;
    }
    return p == end;
}

/* The command @str starts with; commands of extensions once enabled */
static const MCDCmd *find_cmd(MCDServer *s, const MCDCmd *table, size_t n,
                              const char *str)
{
    size_t i;

    for (i = 0; i < n; i++) {
        /* the first character alone rules out most */
        if (str[0] == table[i].name[0] &&
            g_str_has_prefix(str, table[i].name) &&
            (s->ext & table[i].ext) == table[i].ext) {
            return &table[i];
        }
    }
    return NULL;
}

/* Execute @str, @len bytes long (binary data may hold NUL bytes). */
static void run_cmd(MCDServer *s, const MCDCmd *table, size_t n,
                    const char *str, size_t len)
{
    const MCDCmd *cmd = find_cmd(s, table, n, str);
    size_t name_len = cmd ? strlen(cmd->name) : 0;
    MCDCmdArgs args = { 0 };

    if (!cmd) {
        trace_mcd_unknown_command(str);
        mcd_reply_empty(s);
        return;
    }
    s->era1_fail = cmd->era1_fail;
    if (!mcd_parse_args(cmd->schema, str + name_len, len - name_len,
                        &args)) {
        trace_mcd_bad_arguments(cmd->name, str);
        mcd_reply_error(s, MCD_ERR_PARAM, "malformed parameters for '%s'",
                        cmd->name);
    } else {
        cmd->handler(s, &args);
    }
    s->era1_fail = MCD_ERA1_ERROR;
    if (args.data) {
        g_byte_array_unref(args.data);
    }
    if (args.ids) {
        g_array_unref(args.ids);
    }
}

/*
 * Cores
 */

static MCDCore *open_core(MCDServer *s, uint32_t index)
{
    MCDCore *core = g_hash_table_lookup(s->cores, GUINT_TO_POINTER(index));

    if (!core) {
        mcd_reply_error(s, MCD_ERR_USAGE, "core %" PRIu32 " is not open",
                        index);
    }
    return core;
}

/*
 * Queries
 */

static void handle_query_system(MCDServer *s, const MCDCmdArgs *args)
{
    mcd_reply(s, MCD_REPLY_SYSTEM);
}

static void handle_query_cores(MCDServer *s, const MCDCmdArgs *args)
{
    MCDSystemInfo *info = mcd_system_info();
    g_autoptr(GString) rec = g_string_new(NULL);

    rec_str(rec, "device", info->device);
    rec_str(rec, "core", info->core_model);
    rec_u64(rec, "nr_cores", info->nr_cores);
    mcd_system_info_free(info);
    mcd_reply(s, rec->str);
}

/*
 * "qcoreinfo<core>": what a core is, open or not: its model, its
 * architecture and that architecture's ELF machine number (the MCD
 * API's core_type).
 */
static void handle_query_coreinfo(MCDServer *s, const MCDCmdArgs *args)
{
    g_autoptr(GString) rec = g_string_new(NULL);
    g_autofree char *model = mcd_core_model(args->arg[0].u32);
    uint32_t machine;
    const char *arch = mcd_core_arch(args->arg[0].u32, &machine);

    if (!model || !arch) {
        mcd_reply_error(s, MCD_ERR_PARAM, "there is no core %" PRIu32,
                        args->arg[0].u32);
        return;
    }
    rec_u64(rec, "core", args->arg[0].u32);
    rec_str(rec, "model", model);
    rec_str(rec, "arch", arch);
    rec_u64(rec, "core_type", machine);
    mcd_reply(s, rec->str);
}

static void reset_record(GString *rec, const void *item)
{
    const MCDResetClass *rst = item;

    rec_str(rec, "name", rst->name);
    rec_u64(rec, "id", rst->id);
}

static void reply_resets(MCDServer *s, size_t index)
{
    size_t count;
    const MCDResetClass *resets = mcd_reset_classes(&count);

    mcd_reply_list(s, resets, sizeof(*resets), count, index, reset_record);
}

static void handle_query_reset_first(MCDServer *s, const MCDCmdArgs *args)
{
    /* the same for every core; an era-1 core reset resets this core */
    s->list_core = args->arg[0].u32;
    reply_resets(s, 0);
}

static void handle_query_reset_next(MCDServer *s, const MCDCmdArgs *args)
{
    reply_resets(s, args->arg[0].u32);
}

static void handle_query_trigger(MCDServer *s, const MCDCmdArgs *args)
{
    mcd_reply(s, MCD_TRIGGER_INFO);
}

static void memspace_record(GString *rec, const void *item)
{
    const MCDMemSpace *ms = item;

    rec_str(rec, "name", ms->name);
    rec_u64(rec, "id", ms->id);
    rec_u64(rec, "type", ms->type);
    rec_u64(rec, "bpm", ms->bits_per_mau);
    rec_u64(rec, "i", ms->invariance);
    rec_u64(rec, "e", ms->endian);
    rec_i64(rec, "min", ms->min_addr);
    rec_i64(rec, "max", ms->max_addr);
    rec_u64(rec, "sao", ms->access_options);
}

static void reggroup_record(GString *rec, const void *item)
{
    const MCDRegGroup *g = item;

    rec_u64(rec, "id", g->id);
    rec_str(rec, "name", g->name);
}

/* The keys of a register record, and room for its 7 numbers */
#define REG_RECORD_ROOM \
    (sizeof("id=.name=.size=.reggroupid=.memspaceid=.type=.thread=.opcode=.") \
     - 1 + 7 * MCD_U64_DIGITS)

static void reg_record(GString *rec, const void *item)
{
    const MCDRegister *r = item;
    size_t start = rec->len;
    char *p;

    /* the lists of registers are long: each record is written in place */
    g_string_set_size(rec, start + strlen(r->name) + REG_RECORD_ROOM);
    p = PUT_FIELD(rec->str + start, "id", r->id);
    p = put_str(p, "name", r->name);
    p = PUT_FIELD(p, "size", r->bits);
    p = PUT_FIELD(p, "reggroupid", r->group_id);
    p = PUT_FIELD(p, "memspaceid", r->memspace_id);
    p = PUT_FIELD(p, "type", 0);        /* MCD_REG_TYPE_SIMPLE */
    p = PUT_FIELD(p, "thread", 0);
    p = PUT_FIELD(p, "opcode", r->opcode);
    g_string_truncate(rec, p - rec->str);
}

/* The lists of a core, in the order of enum MCDCoreList. */
typedef enum MCDCoreList {
    MCD_LIST_MEMSPACES,
    MCD_LIST_REGGROUPS,
    MCD_LIST_REGS,
} MCDCoreList;

static void reply_core_list(MCDServer *s, uint32_t index, MCDCoreList list,
                            size_t item)
{
    MCDCore *core = open_core(s, index);

    if (!core) {
        return;
    }
    switch (list) {
    case MCD_LIST_MEMSPACES:
        mcd_reply_list(s, core->memspaces->data, sizeof(MCDMemSpace),
                       core->memspaces->len, item, memspace_record);
        break;
    case MCD_LIST_REGGROUPS:
        mcd_reply_list(s, core->reggroups->data, sizeof(MCDRegGroup),
                       core->reggroups->len, item, reggroup_record);
        break;
    case MCD_LIST_REGS:
        mcd_reply_list(s, core->regs->data, sizeof(MCDRegister),
                       core->regs->len, item, reg_record);
        break;
    }
}

/* "q<list>f<core>": the first item; later "q<list>c<k>" use that core */
static void query_first(MCDServer *s, const MCDCmdArgs *args,
                        MCDCoreList list)
{
    s->list_core = args->arg[0].u32;
    reply_core_list(s, s->list_core, list, 0);
}

static void handle_query_memory_first(MCDServer *s, const MCDCmdArgs *args)
{
    query_first(s, args, MCD_LIST_MEMSPACES);
}

static void handle_query_memory_next(MCDServer *s, const MCDCmdArgs *args)
{
    reply_core_list(s, s->list_core, MCD_LIST_MEMSPACES, args->arg[0].u32);
}

static void handle_query_reggroup_first(MCDServer *s, const MCDCmdArgs *args)
{
    query_first(s, args, MCD_LIST_REGGROUPS);
}

static void handle_query_reggroup_next(MCDServer *s, const MCDCmdArgs *args)
{
    reply_core_list(s, s->list_core, MCD_LIST_REGGROUPS, args->arg[0].u32);
}

static void handle_query_reg_first(MCDServer *s, const MCDCmdArgs *args)
{
    query_first(s, args, MCD_LIST_REGS);
}

static void handle_query_reg_next(MCDServer *s, const MCDCmdArgs *args)
{
    reply_core_list(s, s->list_core, MCD_LIST_REGS, args->arg[0].u32);
}

static const char *const mcd_run_state_names[] = {
    [MCD_RUN_RUNNING] = "running",
    [MCD_RUN_HALTED] = "halted",
    [MCD_RUN_DEBUG] = "debug",
};

/* MCD_CORE_EVENT_STOPPED: the core stopped since the last state query */
#define MCD_CORE_EVENT_STOPPED 0x10

/*
 * The fixed part of the longest state record: its keys with '=' and
 * '.', and 7 numbers of at most MCD_U64_DIGITS digits.
 */
#define STATE_RECORD_MAX \
    (sizeof("state=.event=.thread=.type=.address=.stop_str=.info_str=." \
            "trig_id=.pc=.data_addr=.") + 7 * MCD_U64_DIGITS)

/*
 * The state record of a core.  Era-1 clients get the stop reason and
 * trigger once after each stop; clients that enabled the stoprec
 * extension get it until the core runs again, with the id of the trigger
 * that hit, the PC and the watchpoint's data address, and the event
 * MCD_CORE_EVENT_STOPPED once after each stop.
 */
static void state_record_of(MCDServer *s, MCDCore *core, MCDStateRecord *stp,
                            GString *rec)
{
    gpointer key = GUINT_TO_POINTER(core->index);
    uint32_t seen = GPOINTER_TO_UINT(g_hash_table_lookup(s->stops_seen,
                                                         key));
    MCDStateRecord st = *stp;
    size_t start;
    bool is_new;
    char *p;

    is_new = st.stop_seq != seen;
    if (is_new) {
        g_hash_table_insert(s->stops_seen, key,
                            GUINT_TO_POINTER(st.stop_seq));
    }
    if (!is_new && !(s->ext & MCD_EXT_STOPREC)) {
        /* era-1: reported once */
        st.stop_reason[0] = '\0';
        st.trig_type = 0;
        st.data_addr = 0;
    }
    /* sized once for the longest record, written in place */
    start = rec->len;
    g_string_set_size(rec, start + STATE_RECORD_MAX +
                      strlen(mcd_run_state_names[st.state]) +
                      strlen(st.stop_reason) + strlen(st.info));
    p = put_str(rec->str + start, "state", mcd_run_state_names[st.state]);
    p = PUT_FIELD(p, "event", (s->ext & MCD_EXT_STOPREC) && is_new &&
                  st.stop_seq ? MCD_CORE_EVENT_STOPPED : 0);
    p = PUT_FIELD(p, "thread", 0);
    p = PUT_FIELD(p, "type", st.trig_type);
    p = PUT_FIELD(p, "address", st.data_addr);
    p = put_str(p, "stop_str", st.stop_reason);
    p = put_str(p, "info_str", st.info);
    if (s->ext & MCD_EXT_STOPREC) {
        p = PUT_FIELD(p, "trig_id", st.trig_id);
        p = PUT_FIELD(p, "pc", st.state == MCD_RUN_DEBUG ? st.pc : 0);
        p = PUT_FIELD(p, "data_addr", st.data_addr);
    }
    g_string_truncate(rec, p - rec->str);
}

/* The state record of a core as it is now. */
static void state_record(MCDServer *s, MCDCore *core, GString *rec)
{
    MCDStateRecord st;

    mcd_core_get_state(core, &st);
    state_record_of(s, core, &st, rec);
    g_free(st.stop_reason);
    g_free(st.info);
}

/*
 * Answer a state query of @core with its state of the moment, read
 * once; unless @wait and the core runs or steps: then answer nothing
 * and return false.
 */
static bool reply_state(MCDServer *s, MCDCore *core, bool wait)
{
    MCDStateRecord st;
    GString *out;
    bool runs;

    mcd_core_get_state(core, &st);
    runs = wait && st.state == MCD_RUN_RUNNING;
    if (!runs) {
        /* built in the packet */
        out = mcd_packet_begin(&s->packet);
        state_record_of(s, core, &st, out);
        mcd_reply_end(s, out);
    }
    g_free(st.stop_reason);
    g_free(st.info);
    return !runs;
}

/*
 * "qstate<core>": the state record.  For a core that runs or steps the
 * reply waits until it stops, up to state_wait_ms: a client that polls
 * gets the end of a step at once, and its polls do not keep the main
 * loop from letting the vCPU finish.
 */
static void handle_query_state(MCDServer *s, const MCDCmdArgs *args)
{
    MCDCore *core = open_core(s, args->arg[0].u32);

    if (!core || reply_state(s, core, s->state_wait_ms)) {
        return;
    }
    s->state_waiting = true;
    s->state_core = core->index;
    timer_mod(s->state_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
              s->state_wait_ms);
    mcd_packet_pause(&s->packet, MCD_PAUSE_STATE);
}

/* Answer the state query that waits, if its core stopped or @timeout. */
static void state_wait_end(MCDServer *s, bool timeout)
{
    MCDCore *core = g_hash_table_lookup(s->cores,
                                        GUINT_TO_POINTER(s->state_core));

    if (!s->state_waiting || (core && !reply_state(s, core, !timeout))) {
        return;
    }
    s->state_waiting = false;
    timer_del(s->state_timer);
    if (!core) {
        mcd_reply_error(s, MCD_ERR_USAGE, "core %" PRIu32 " is not open",
                        s->state_core);
    }
    mcd_packet_resume(&s->packet, MCD_PAUSE_STATE);
}

static void state_wait_timeout(void *opaque)
{
    state_wait_end(opaque, true);
}

/* Append @name to the comma-separated list @list. */
static void list_append(GString *list, const char *name)
{
    if (list->len) {
        g_string_append_c(list, ',');
    }
    g_string_append(list, name);
}

/*
 * "qprotocol" reports the protocol version, the largest payload and the
 * extensions; "qprotocol<ext>,<ext>..." also enables those extensions
 * for this connection.  Era-1 clients never send it and so keep the
 * era-1 behaviour.
 */
static void handle_query_protocol(MCDServer *s, const MCDCmdArgs *args)
{
    g_autoptr(GString) rec = g_string_new(NULL);
    g_autoptr(GString) offered = g_string_new(NULL);
    g_autoptr(GString) enabled = g_string_new(NULL);
    g_auto(GStrv) names = NULL;
    unsigned ext = 0;
    size_t i, j;

    if (*args->arg[0].str) {
        names = g_strsplit(args->arg[0].str, ",", -1);
        for (i = 0; names[i]; i++) {
            for (j = 0; j < ARRAY_SIZE(mcd_extensions); j++) {
                if (g_str_equal(names[i], mcd_extensions[j].name)) {
                    ext |= mcd_extensions[j].bit;
                    break;
                }
            }
            if (j == ARRAY_SIZE(mcd_extensions)) {
                mcd_reply_error(s, MCD_ERR_PARAM, "unknown extension '%s'",
                                names[i]);
                return;
            }
        }
    }
    s->ext |= ext;

    for (j = 0; j < ARRAY_SIZE(mcd_extensions); j++) {
        list_append(offered, mcd_extensions[j].name);
        if (s->ext & mcd_extensions[j].bit) {
            list_append(enabled, mcd_extensions[j].name);
        }
    }
    if (s->ext & MCD_EXT_BINARY) {
        mcd_packet_set_max_payload(&s->packet, MCD_PACKET_MAX_BINARY_PAYLOAD);
    }
    rec_u64(rec, "version", MCD_PROTOCOL_VERSION);
    rec_u64(rec, "max_payload", mcd_packet_max_payload(&s->packet));
    rec_u64(rec, "max_data", MCD_MAX_DATA);
    rec_u64(rec, "max_binary", MCD_MAX_BINARY);
    rec_str(rec, "extensions", offered->str);
    rec_str(rec, "enabled", enabled->str);
    mcd_reply(s, rec->str);
}

/*
 * The names are matched as prefixes, in this order; the parameters
 * follow the name directly.  Failed queries answer the empty packet in
 * era-1 sessions.
 */
static const MCDCmd mcd_queries[] = {
    { "system", "", handle_query_system, MCD_ERA1_EMPTY },
    { "cores", "", handle_query_cores, MCD_ERA1_EMPTY },
    { "coreinfo", "d", handle_query_coreinfo, MCD_ERA1_EMPTY,
      MCD_EXT_COREINFO },
    { "resetf", "c", handle_query_reset_first, MCD_ERA1_EMPTY },
    { "resetc", "q", handle_query_reset_next, MCD_ERA1_EMPTY },
    { "trigger", "", handle_query_trigger, MCD_ERA1_EMPTY },
    { "memoryf", "c", handle_query_memory_first, MCD_ERA1_EMPTY },
    { "memoryc", "q", handle_query_memory_next, MCD_ERA1_EMPTY },
    { "reggroupf", "c", handle_query_reggroup_first, MCD_ERA1_EMPTY },
    { "reggroupc", "q", handle_query_reggroup_next, MCD_ERA1_EMPTY },
    { "regf", "c", handle_query_reg_first, MCD_ERA1_EMPTY },
    { "regc", "q", handle_query_reg_next, MCD_ERA1_EMPTY },
    { "state", "c", handle_query_state, MCD_ERA1_EMPTY },
    { "protocol", "s", handle_query_protocol, MCD_ERA1_EMPTY },
};

/*
 * Commands
 */

static const MCDSessionOps mcd_session_ops = {
    .stopped = mcd_server_stop_notify,
    .reset_done = mcd_server_reset_done,
};

/* The session of the connection, made when first needed. */
static MCDSession *server_session(MCDServer *s)
{
    if (!s->session) {
        s->session = mcd_session_new(&mcd_session_ops, s);
    }
    return s->session;
}

static void handle_open_server(MCDServer *s, const MCDCmdArgs *args)
{
    server_session(s);
    s->session_open = true;
    mcd_reply(s, MCD_REPLY_HANDSHAKE);
}

static void handle_detach(MCDServer *s, const MCDCmdArgs *args)
{
    /* closing the session ends the extensions, but not for this reply */
    bool ext_errors = s->ext & MCD_EXT_ERRORS;

    mcd_session_close(s);
    if (ext_errors) {
        mcd_reply(s, MCD_REPLY_SUCCESS);
    }
}

static void handle_query(MCDServer *s, const MCDCmdArgs *args)
{
    const char *query = args->arg[0].str;

    run_cmd(s, mcd_queries, ARRAY_SIZE(mcd_queries), query, strlen(query));
}

static void handle_open_core(MCDServer *s, const MCDCmdArgs *args)
{
    uint32_t index = args->arg[0].u32;
    Error *err = NULL;
    MCDCore *core;

    if (g_hash_table_contains(s->cores, GUINT_TO_POINTER(index))) {
        /* open already: it stays as it is, with its triggers */
        mcd_reply_done(s);
        return;
    }
    core = mcd_core_open(server_session(s), index, MCD_MODEL_ARCH, &err);

    if (!core) {
        mcd_reply_error(s, MCD_ERR_PARAM, "%s", error_get_pretty(err));
        error_free(err);
        return;
    }
    g_hash_table_replace(s->cores, GUINT_TO_POINTER(index), core);
    mcd_reply_done(s);
}

static void handle_close_core(MCDServer *s, const MCDCmdArgs *args)
{
    uint32_t index = args->arg[0].u32;

    if (!open_core(s, index)) {
        return;
    }
    g_hash_table_remove(s->cores, GUINT_TO_POINTER(index));
    g_hash_table_remove(s->stop_regs, GUINT_TO_POINTER(index));
    mcd_reply_done(s);
}

static const MCDRegister *find_register(MCDServer *s, MCDCore *core,
                                        uint64_t id)
{
    const MCDRegister *reg = mcd_core_find_register(core, id);

    if (!reg) {
        mcd_reply_error(s, MCD_ERR_PARAM, "core %" PRIu32 " has no register "
                        "%" PRIu64, core->index, id);
    }
    return reg;
}

/* "p<core>;<register id>": the register's bytes in hex */
static void handle_read_register(MCDServer *s, const MCDCmdArgs *args)
{
    MCDCore *core;
    const MCDRegister *reg;
    g_autoptr(GByteArray) buf = g_byte_array_new();
    Error *err = NULL;
    uint32_t code;

    core = open_core(s, args->arg[0].u32);
    reg = core ? find_register(s, core, args->arg[1].u64) : NULL;
    if (reg) {
        code = mcd_core_read_register(core, reg, buf, &err);
        if (code != MCD_ERR_NONE) {
            mcd_reply_error(s, code, "%s", error_get_pretty(err));
            error_free(err);
        } else {
            mcd_reply_hex(s, buf->data, buf->len);
        }
    }
}

/* "P<core>;<register id>;<bytes>;<hex>" */
static void handle_write_register(MCDServer *s, const MCDCmdArgs *args)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    const MCDRegister *reg = core ? find_register(s, core, args->arg[1].u64)
                                  : NULL;
    uint32_t len = args->arg[2].u32;
    Error *err = NULL;
    uint32_t code;

    if (!reg) {
        return;
    }
    if (len != args->data->len || len != reg->bits / 8) {
        mcd_reply_error(s, MCD_ERR_PARAM, "register %s takes %u bytes, "
                        "not %" PRIu32 " with %u of data", reg->name,
                        reg->bits / 8, len, args->data->len);
        return;
    }
    code = mcd_core_write_register(core, reg, args->data->data, &err);
    reply_result(s, code, err, MCD_REPLY_SUCCESS);
}

/*
 * The registers of an id list, checked: every id known, at most
 * MCD_MAX_DATA bytes of values.  Sets *@size to that many bytes.
 */
static bool find_registers(MCDServer *s, MCDCore *core, const GArray *ids,
                           const MCDRegister **regs, size_t *size)
{
    size_t i;

    *size = 0;
    for (i = 0; i < ids->len; i++) {
        regs[i] = find_register(s, core, g_array_index(ids, uint64_t, i));
        if (!regs[i]) {
            return false;
        }
        *size += regs[i]->bits / 8;
    }
    if (*size > MCD_MAX_DATA) {
        mcd_reply_error(s, MCD_ERR_PARAM, "the registers hold %zu bytes, "
                        "more than %d", *size, MCD_MAX_DATA);
        return false;
    }
    return true;
}

/* "g<core>;<register ids>": the registers' bytes in hex, one after another */
static void handle_read_registers(MCDServer *s, const MCDCmdArgs *args)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    g_autofree const MCDRegister **regs = NULL;
    GByteArray *buf = s->reg_values;
    Error *err = NULL;
    size_t size;
    uint32_t code;

    if (!core) {
        return;
    }
    regs = g_new(const MCDRegister *, args->ids->len);
    if (!find_registers(s, core, args->ids, regs, &size)) {
        return;
    }
    g_byte_array_set_size(buf, 0);
    code = mcd_core_read_registers(core, regs, args->ids->len, buf, &err);
    if (code != MCD_ERR_NONE) {
        mcd_reply_error(s, code, "%s", error_get_pretty(err));
        error_free(err);
        return;
    }
    mcd_reply_hex(s, buf->data, buf->len);
}

/*
 * "E<core>;<register ids>": the stop notifications of the core carry
 * these registers' values from now on (regs=<hex>, as g answers them);
 * "E<core>" alone ends that.
 */
static void handle_stop_registers(MCDServer *s, const MCDCmdArgs *args)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    gpointer key = GUINT_TO_POINTER(args->arg[0].u32);
    g_autofree const MCDRegister **regs = NULL;
    size_t size;

    if (!core) {
        return;
    }
    if (!args->ids) {
        g_hash_table_remove(s->stop_regs, key);
        mcd_reply(s, MCD_REPLY_SUCCESS);
        return;
    }
    regs = g_new(const MCDRegister *, args->ids->len);
    if (!find_registers(s, core, args->ids, regs, &size)) {
        return;
    }
    g_hash_table_replace(s->stop_regs, key, g_array_ref(args->ids));
    mcd_reply(s, MCD_REPLY_SUCCESS);
}

/*
 * The values of the registers @ids of @core in hex, appended to @rec as
 * "regs=<hex>.", or nothing if one cannot be read now.
 */
static void rec_regs(GString *rec, MCDCore *core, const GArray *ids)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    g_autofree const MCDRegister **regs = g_new(const MCDRegister *,
                                                ids->len);
    Error *err = NULL;
    size_t i;

    for (i = 0; i < ids->len; i++) {
        regs[i] = mcd_core_find_register(core,
                                         g_array_index(ids, uint64_t, i));
        if (!regs[i]) {
            return;
        }
    }
    if (mcd_core_read_registers(core, regs, ids->len, buf, &err) !=
        MCD_ERR_NONE) {
        error_free(err);
        return;
    }
    g_string_append(rec, "regs=");
    append_hex(rec, buf->data, buf->len);
    g_string_append_c(rec, '.');
}

/*
 * "G<core>;<register ids>;<hex>": all values are checked first; if a
 * write fails, the registers written before it get their values back.
 */
static void handle_write_registers(MCDServer *s, const MCDCmdArgs *args)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    g_autofree const MCDRegister **regs = NULL;
    g_autoptr(GByteArray) old = NULL;
    const uint8_t *data = args->data->data;
    Error *err = NULL;
    size_t i, size, pos;
    uint32_t code = MCD_ERR_NONE;

    if (!core) {
        return;
    }
    regs = g_new(const MCDRegister *, args->ids->len);
    if (!find_registers(s, core, args->ids, regs, &size)) {
        return;
    }
    if (size != args->data->len) {
        mcd_reply_error(s, MCD_ERR_PARAM, "the registers take %zu bytes, "
                        "not %u", size, args->data->len);
        return;
    }
    old = g_byte_array_sized_new(size);
    for (i = 0; i < args->ids->len && code == MCD_ERR_NONE; i++) {
        code = mcd_core_read_register(core, regs[i], old, &err);
    }
    for (i = 0, pos = 0; i < args->ids->len && code == MCD_ERR_NONE; i++) {
        code = mcd_core_write_register(core, regs[i], data + pos, &err);
        pos += regs[i]->bits / 8;
    }
    if (code != MCD_ERR_NONE && old->len == size) {
        /* put back what was written before the failure */
        size_t failed = i - 1;

        for (i = 0, pos = 0; i < failed; i++) {
            mcd_core_write_register(core, regs[i], old->data + pos, NULL);
            pos += regs[i]->bits / 8;
        }
    }
    reply_result(s, code, err, MCD_REPLY_SUCCESS);
}

static const MCDMemSpace *find_memory(MCDServer *s, MCDCore *core,
                                      uint32_t id)
{
    const MCDMemSpace *ms = mcd_core_find_memspace(core, id);

    if (!ms) {
        mcd_reply_error(s, MCD_ERR_MEM_SPACE_ID, "core %" PRIu32 " has no "
                        "memory space %" PRIu32, core->index, id);
    } else if (ms->type & MCD_MEM_SPACE_IS_REGISTERS) {
        mcd_reply_error(s, MCD_ERR_MEM_SPACE_ID, "memory space %" PRIu32
                        " holds registers: use p and P", id);
        ms = NULL;
    }
    return ms;
}

/*
 * "m<core>;<memory space id>;<address>;<length>": the bytes in hex; with
 * the txopt extension "...;<access options>" (MCD_TX_OPT_* bits).
 * "x..." the same in binary, up to MCD_MAX_BINARY bytes.
 */
static void read_memory(MCDServer *s, const MCDCmdArgs *args, bool binary)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    const MCDMemSpace *ms = core ? find_memory(s, core, args->arg[1].u32)
                                 : NULL;
    uint32_t len = args->arg[3].u32;
    uint32_t options = args->count > 4 ? args->arg[4].u32 : 0;
    g_autofree uint8_t *buf = NULL;
    Error *err = NULL;
    uint32_t code;

    if (!ms) {
        return;
    }
    if (args->count > 4 && !(s->ext & MCD_EXT_TXOPT) && !binary) {
        mcd_reply_error(s, MCD_ERR_PARAM, "enable the txopt extension first");
        return;
    }
    if (options & ~ms->access_options ||
        options == (MCD_TX_OPT_SIDE_EFFECTS | MCD_TX_OPT_NO_SIDE_EFFECTS)) {
        mcd_reply_error(s, MCD_ERR_PARAM, "access options 0x%" PRIx32
                        " not supported by memory space %" PRIu32, options,
                        ms->id);
        return;
    }
    if (len > (binary ? MCD_MAX_BINARY : MCD_MAX_DATA)) {
        mcd_reply_error(s, MCD_ERR_PARAM, "cannot read more than %d bytes "
                        "at once", binary ? MCD_MAX_BINARY : MCD_MAX_DATA);
        return;
    }
    buf = g_malloc(len);
    code = mcd_core_access_memory(core, ms, args->arg[2].u64, buf, len,
                                  false, options, &err);
    if (code != MCD_ERR_NONE) {
        mcd_reply_error(s, code, "%s", error_get_pretty(err));
        error_free(err);
        return;
    }
    if (binary) {
        mcd_reply_binary(s, buf, len);
    } else {
        mcd_reply_hex(s, buf, len);
    }
}

static void handle_read_memory(MCDServer *s, const MCDCmdArgs *args)
{
    read_memory(s, args, false);
}

static void handle_read_binary(MCDServer *s, const MCDCmdArgs *args)
{
    read_memory(s, args, true);
}

/*
 * "M<core>;<memory space id>;<address>;<length>;<hex>", and "X..." with
 * binary data, up to MCD_MAX_BINARY bytes
 */
static void write_memory(MCDServer *s, const MCDCmdArgs *args, bool binary)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    const MCDMemSpace *ms = core ? find_memory(s, core, args->arg[1].u32)
                                 : NULL;
    uint32_t len = args->arg[3].u32;
    Error *err = NULL;
    uint32_t code;

    if (!ms) {
        return;
    }
    if (len > (binary ? MCD_MAX_BINARY : MCD_MAX_DATA)) {
        mcd_reply_error(s, MCD_ERR_PARAM, "cannot write more than %d bytes "
                        "at once", binary ? MCD_MAX_BINARY : MCD_MAX_DATA);
        return;
    }
    if (len != args->data->len) {
        mcd_reply_error(s, MCD_ERR_PARAM, "length %" PRIu32 " but %u bytes "
                        "of data", len, args->data->len);
        return;
    }
    code = mcd_core_access_memory(core, ms, args->arg[2].u64,
                                  args->data->data, len, true, 0, &err);
    reply_result(s, code, err, MCD_REPLY_SUCCESS);
}

static void handle_write_memory(MCDServer *s, const MCDCmdArgs *args)
{
    write_memory(s, args, false);
}

static void handle_write_binary(MCDServer *s, const MCDCmdArgs *args)
{
    write_memory(s, args, true);
}

/*
 * Run control: "<letter><global>;<core>", global 1 for the whole system
 * (the core is then ignored), 0 for the named open core.  Sets *core to
 * NULL for the whole system.
 */
static bool run_control_args(MCDServer *s, const MCDCmdArgs *args,
                             MCDCore **core)
{
    uint32_t global = args->arg[0].u32;

    *core = NULL;
    if (global > 1) {
        mcd_reply_error(s, MCD_ERR_PARAM, "global must be 0 or 1, not %"
                        PRIu32, global);
        return false;
    }
    if (!global) {
        *core = open_core(s, args->arg[1].u32);
    }
    return global || *core;
}

/* A parameter of an extension the client did not enable. */
static bool need_extension(MCDServer *s, const MCDCmdArgs *args,
                           unsigned count, MCDExtension ext,
                           const char *name)
{
    if (args->count > count && !(s->ext & ext)) {
        mcd_reply_error(s, MCD_ERR_PARAM, "enable the %s extension first",
                        name);
        return false;
    }
    return true;
}

static void handle_go(MCDServer *s, const MCDCmdArgs *args)
{
    Error *err = NULL;
    MCDCore *core;

    if (run_control_args(s, args, &core)) {
        uint32_t code = mcd_core_go(server_session(s), core, &err);

        reply_result(s, code, err, NULL);
    }
}

static void handle_break(MCDServer *s, const MCDCmdArgs *args)
{
    Error *err = NULL;
    MCDCore *core;

    if (run_control_args(s, args, &core)) {
        uint32_t code = mcd_core_break(server_session(s), core, &err);

        reply_result(s, code, err, NULL);
    }
}

/* "c<global>;<core>" and, with the steps extension, "...;<count>" */
static void handle_step(MCDServer *s, const MCDCmdArgs *args)
{
    uint32_t count = args->count > 2 ? args->arg[2].u32 : 1;
    Error *err = NULL;
    MCDCore *core;
    uint32_t code;

    if (!need_extension(s, args, 2, MCD_EXT_STEPS, "steps") ||
        !run_control_args(s, args, &core)) {
        return;
    }
    if (!core) {
        mcd_reply_error(s, MCD_ERR_FN_UNIMPLEMENTED, "global steps are not "
                        "supported: step one core");
        return;
    }
    code = mcd_core_step(core, count, s->ext & MCD_EXT_STEPIRQ, &err);
    reply_result(s, code, err, NULL);
}

/*
 * "r<reset class>" and, with the resethalt extension,
 * "r<reset class>;<core>;<halt>".  The era-1 form resets the core of the
 * last "qresetf<core>" for a core reset, and halts nothing.
 */
static void handle_reset(MCDServer *s, const MCDCmdArgs *args)
{
    uint32_t index = args->count > 1 ? args->arg[1].u32 : s->list_core;
    bool halt = args->count > 2 && args->arg[2].u32;
    Error *err = NULL;
    MCDCore *core = NULL;
    bool pending;
    uint32_t code;

    if (!need_extension(s, args, 1, MCD_EXT_RESETHALT, "resethalt")) {
        return;
    }
    if (args->count > 2 && args->arg[2].u32 > 1) {
        mcd_reply_error(s, MCD_ERR_PARAM, "halt must be 0 or 1");
        return;
    }
    if (args->count > 1 || args->arg[0].u32 == MCD_RESET_CORE) {
        core = open_core(s, index);
        if (!core) {
            return;
        }
    }
    code = mcd_target_reset(server_session(s), args->arg[0].u32, core, halt,
                            &pending, &err);
    reply_result(s, code, err, NULL);
    if (pending) {
        /* later commands see the guest after the reset */
        mcd_packet_pause(&s->packet, MCD_PAUSE_COMMAND);
    }
}

/*
 * "t<core>;<type>;<address>;<trigger id>" sets a trigger, "T..." removes
 * it.  The client's trigger id is the MCD trigger id that stop records
 * name (0: the stub chooses one); a removal finds the trigger by type and
 * address.  With the wplen extension a length may follow: watchpoints of
 * era-1 clients watch 4 bytes.
 */
static void set_trigger(MCDServer *s, const MCDCmdArgs *args, bool insert)
{
    MCDCore *core = open_core(s, args->arg[0].u32);
    uint64_t len = args->count > 4 ? args->arg[4].u64 : MCD_WATCH_LEN;
    Error *err = NULL;
    uint32_t code;

    if (!core || !need_extension(s, args, 4, MCD_EXT_WPLEN, "wplen")) {
        return;
    }
    code = mcd_core_set_trigger(core, args->arg[1].u32, args->arg[2].u64,
                                len, args->arg[3].u32, insert, &err);
    reply_result(s, code, err, MCD_REPLY_SUCCESS);
}

static void handle_insert_trigger(MCDServer *s, const MCDCmdArgs *args)
{
    set_trigger(s, args, true);
}

static void handle_remove_trigger(MCDServer *s, const MCDCmdArgs *args)
{
    set_trigger(s, args, false);
}

static const MCDCmd mcd_commands[] = {
    { "I", "", handle_open_server },
    { "D", "", handle_detach },
    { "q", "s", handle_query, MCD_ERA1_EMPTY },
    { "i", "c", handle_open_core },
    { "d", "c", handle_close_core },
    /* the era-1 stub answered a failed read with no data */
    { "p", "cl", handle_read_register, MCD_ERA1_EMPTY },
    { "P", "cldh", handle_write_register },
    { "m", "cdld?d", handle_read_memory },
    { "M", "cdldh", handle_write_memory },
    { "g", "cr", handle_read_registers, MCD_ERA1_ERROR, MCD_EXT_REGS },
    { "G", "crh", handle_write_registers, MCD_ERA1_ERROR, MCD_EXT_REGS },
    { "E", "c?r", handle_stop_registers, MCD_ERA1_ERROR, MCD_EXT_STOPREGS },
    { "x", "cdld?d", handle_read_binary, MCD_ERA1_ERROR, MCD_EXT_BINARY },
    { "X", "cdldb", handle_write_binary, MCD_ERA1_ERROR, MCD_EXT_BINARY },
    { "C", "dc", handle_go, MCD_ERA1_SILENT },
    { "b", "dc", handle_break, MCD_ERA1_SILENT },
    { "c", "dc?d", handle_step, MCD_ERA1_SILENT },
    { "r", "d?cd", handle_reset, MCD_ERA1_SILENT },
    { "t", "cdld?l", handle_insert_trigger },
    { "T", "cdld?l", handle_remove_trigger },
};

void mcd_handle_packet(MCDServer *s, const char *payload, size_t len,
                       bool oversized)
{
    size_t max = mcd_packet_max_payload(&s->packet);

    if (oversized) {
        trace_mcd_packet_oversized(max);
        mcd_reply_error(s, MCD_ERR_PARAM, "packet longer than %zu bytes",
                        max);
        return;
    }
    trace_mcd_packet(payload);
    if (strlen(payload) != len && !(payload[0] == 'X' &&
                                    (s->ext & MCD_EXT_BINARY))) {
        /* a NUL inside the payload, where only binary data may have one */
        mcd_reply_empty(s);
        return;
    }
    run_cmd(s, mcd_commands, ARRAY_SIZE(mcd_commands), payload, len);
}

void mcd_session_close(MCDServer *s)
{
    if (s->state_waiting) {
        s->state_waiting = false;
        timer_del(s->state_timer);
        mcd_packet_resume(&s->packet, MCD_PAUSE_STATE);
    }
    /* the cores first: closing one removes its triggers */
    g_hash_table_remove_all(s->cores);
    g_hash_table_remove_all(s->stops_seen);
    g_hash_table_remove_all(s->stop_regs);
    mcd_session_free(s->session);
    s->session = NULL;
    mcd_packet_resume(&s->packet, MCD_PAUSE_COMMAND);
    s->session_open = false;
    s->ext = 0;
    s->list_core = 0;
    mcd_packet_set_max_payload(&s->packet, MCD_PACKET_MAX_PAYLOAD);
}

static void core_free(gpointer core)
{
    mcd_core_close(core);
}

void mcd_server_stop_notify(void *opaque, uint32_t index)
{
    MCDServer *s = opaque;
    g_autoptr(GString) rec = NULL;
    const GArray *ids;
    MCDCore *core;

    if (!s->session_open || !(s->ext & MCD_EXT_NOTIFY)) {
        state_wait_end(s, false);
        return;
    }
    rec = g_string_new(NULL);
    rec_u64(rec, "stop", index);
    core = g_hash_table_lookup(s->cores, GUINT_TO_POINTER(index));
    if (core && (s->ext & MCD_EXT_STOPREC)) {
        /* the state record, as "qstate" would answer it now */
        state_record(s, core, rec);
    }
    ids = core ? g_hash_table_lookup(s->stop_regs, GUINT_TO_POINTER(index))
               : NULL;
    if (ids) {
        rec_regs(rec, core, ids);
    }
    trace_mcd_notify(rec->str);
    mcd_packet_notify(&s->packet, rec->str, rec->len);
    state_wait_end(s, false);
}

void mcd_server_reset_done(void *opaque)
{
    MCDServer *s = opaque;

    mcd_packet_resume(&s->packet, MCD_PAUSE_COMMAND);
}

void mcd_server_init(MCDServer *s, const MCDPacketOps *ops, void *opaque)
{
    mcd_packet_init(&s->packet, ops, opaque);
    s->cores = g_hash_table_new_full(NULL, NULL, NULL, core_free);
    s->stops_seen = g_hash_table_new(NULL, NULL);
    s->stop_regs = g_hash_table_new_full(NULL, NULL, NULL,
                                         (GDestroyNotify)g_array_unref);
    s->reg_values = g_byte_array_sized_new(MCD_MAX_DATA);
}

void mcd_server_set_state_wait(MCDServer *s, uint32_t ms)
{
    s->state_wait_ms = ms;
    if (!s->state_timer) {
        s->state_timer = timer_new_ms(QEMU_CLOCK_REALTIME, state_wait_timeout,
                                      s);
    }
}

void mcd_server_destroy(MCDServer *s)
{
    mcd_session_close(s);
    if (s->state_timer) {
        timer_free(s->state_timer);
        s->state_timer = NULL;
    }
    g_hash_table_destroy(s->cores);
    g_hash_table_destroy(s->stops_seen);
    g_hash_table_destroy(s->stop_regs);
    g_byte_array_unref(s->reg_values);
    mcd_packet_destroy(&s->packet);
}
