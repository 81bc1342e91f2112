/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: an interactive and scriptable command line client of the MCD
 * API, linked with libmcd, for QEMU's MCD stub.
 *
 * libmcd and mcd-cli are MIT licensed, so that proprietary debuggers may
 * load the library.
 *
 *   mcd-cli [-c host:port] [-k] [-x] [-e 'cmd; cmd' ...] [-f script ...]
 *
 * mcd-cli uses only the public MCD API of mcd_api.h: it is as much an
 * example of driving the API as a tool.  "help" lists the commands.
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "mcd_api.h"

#define CLI_VERSION "1.0.0"
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define MAX_LINE 8192
#define MAX_ARGS 256
/* The most bytes one read or write moves. */
#define MAX_MEM_LEN (1024 * 1024)
/* The default of "wait", in seconds. */
#define DEFAULT_WAIT_S 10.0

/*
 * The session: the server, the open core and what was read of it.
 */
static struct {
    bool initialized;
    mcd_impl_version_info_st impl;
    bool echo;                          /* -x: print each command */
    int quiet;                          /* > 0: fail() prints nothing */
    char failed[256];                   /* the command run last */
    const char *default_target;         /* -c, for "connect" */

    mcd_server_st *server;
    char target[512];                   /* the connection string used */
    mcd_core_con_info_st system;
    mcd_core_con_info_st device;
    mcd_core_con_info_st *cores;
    uint32_t n_cores;

    mcd_core_st *core;                  /* the open core, or NULL */
    uint32_t core_index;
    mcd_memspace_st *spaces;
    uint32_t n_spaces;
    mcd_register_group_st *groups;
    uint32_t n_groups;
    mcd_register_info_st *regs;
    uint32_t n_regs;
    bool have_regs;
    uint32_t default_space;             /* 0 until chosen */
    uint32_t max_payload;
} cli;

/*
 * Errors: each failing command prints one "error: ..." line to stderr
 * and returns false.
 */

static bool fail(const char *fmt, ...) CLI_PRINTF(1, 2);

static bool fail(const char *fmt, ...)
{
    va_list ap;

    if (cli.quiet) {
        return false;
    }
    fflush(stdout);
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return false;
}

/* An MCD API call failed: print the library's error for @core. */
static bool api_fail(const mcd_core_st *core, const char *fn)
{
    mcd_error_info_st e;

    memset(&e, 0, sizeof(e));
    mcd_qry_error_info_f(core, &e);
    return fail("%s (code 0x%x)", e.error_str[0] ? e.error_str : fn,
                e.error_code);
}

/*
 * Numbers: 0x hex or decimal.
 */

static int digit_value(char c, unsigned int base)
{
    int d;

    if (c >= '0' && c <= '9') {
        d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
    } else {
        return -1;
    }
    return d < (int)base ? d : -1;
}

static bool parse_u64(const char *text, uint64_t *value)
{
    unsigned int base = 10;
    const char *p = text;
    uint64_t v = 0;
    int d;

    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p) {
        return false;
    }
    for (; *p; p++) {
        d = digit_value(*p, base);
        if (d < 0 || v > (UINT64_MAX - d) / base) {
            return false;
        }
        v = v * base + d;
    }
    *value = v;
    return true;
}

static bool parse_u32(const char *text, uint32_t *value)
{
    uint64_t v;

    if (!parse_u64(text, &v) || v > UINT32_MAX) {
        return false;
    }
    *value = v;
    return true;
}

static bool number_arg(const char *text, const char *what, uint64_t *value)
{
    if (!parse_u64(text, value)) {
        return fail("bad %s '%s': expected a number (decimal or 0x hex)",
                    what, text);
    }
    return true;
}

/*
 * A value for a register of @len bytes, little-endian into @buf: 0x hex
 * of any length up to the register's size, or a decimal number,
 * negative ones in two's complement.
 */
static bool parse_value(const char *text, uint8_t *buf, size_t len)
{
    const char *p;
    size_t digits, i;
    uint64_t v;
    bool neg = false;
    int d;

    memset(buf, 0, len);
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        p = text + 2;
        digits = strlen(p);
        if (digits == 0) {
            return false;
        }
        while (digits > 2 * len && *p == '0') {
            p++;
            digits--;
        }
        if (digits > 2 * len) {
            return false;
        }
        for (i = 0; i < digits; i++) {
            d = digit_value(p[digits - 1 - i], 16);
            if (d < 0) {
                return false;
            }
            buf[i / 2] |= d << (4 * (i % 2));
        }
        return true;
    }
    if (text[0] == '-') {
        neg = true;
        text++;
    }
    if (!isdigit((unsigned char)text[0]) || !parse_u64(text, &v)) {
        return false;
    }
    if (neg) {
        /* down to -2^(bits - 1) */
        if (v > (len < 8 ? 1ULL << (8 * len - 1) : 1ULL << 63)) {
            return false;
        }
        v = -v;
    } else if (len < 8 && (v >> (8 * len)) != 0) {
        return false;
    }
    for (i = 0; i < len; i++) {
        buf[i] = i < 8 ? v >> (8 * i) : (neg && v ? 0xff : 0);
    }
    return true;
}

/* A little-endian value of @len bytes as 0x hex. */
static void format_value(const uint8_t *buf, size_t len, char *out,
                         size_t size)
{
    size_t i, n = 2;

    snprintf(out, size, "0x");
    for (i = len; i > 0 && n + 3 <= size; i--) {
        snprintf(out + n, size - n, "%02x", buf[i - 1]);
        n += 2;
    }
}

static uint64_t le_value(const uint8_t *buf, size_t len)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < len && i < 8; i++) {
        v |= (uint64_t)buf[i] << (8 * i);
    }
    return v;
}

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does @text contain @word, in any case? */
static bool contains_word(const char *text, const char *word)
{
    size_t len = strlen(word);

    for (; *text; text++) {
        if (strncasecmp(text, word, len) == 0) {
            return true;
        }
    }
    return false;
}

/* Add @name to the comma separated @list of names that matched. */
static void add_match(char *list, size_t size, const char *name)
{
    size_t n = strlen(list);

    snprintf(list + n, size - n, "%s'%s'", n ? ", " : "", name);
}

/*
 * The library and the server
 */

static bool initialize(void)
{
    mcd_api_version_st want;

    if (cli.initialized) {
        return true;
    }
    memset(&want, 0, sizeof(want));
    want.v_api_major = MCD_API_VER_MAJOR;
    want.v_api_minor = MCD_API_VER_MINOR;
    snprintf(want.author, sizeof(want.author), "mcd-cli");
    if (mcd_initialize_f(&want, &cli.impl) != MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_initialize_f");
    }
    cli.initialized = true;
    return true;
}

static void forget_core(void)
{
    free(cli.spaces);
    free(cli.groups);
    free(cli.regs);
    cli.spaces = NULL;
    cli.groups = NULL;
    cli.regs = NULL;
    cli.n_spaces = cli.n_groups = cli.n_regs = 0;
    cli.have_regs = false;
    cli.default_space = 0;
    cli.max_payload = 0;
    cli.core = NULL;
}

static bool close_core(void)
{
    bool ok = true;

    if (cli.core && mcd_close_core_f(cli.core) != MCD_RET_ACT_NONE) {
        ok = api_fail(NULL, "mcd_close_core_f");
    }
    forget_core();
    return ok;
}

static bool disconnect(void)
{
    bool ok = close_core();

    if (cli.server && mcd_close_server_f(cli.server) != MCD_RET_ACT_NONE) {
        ok = api_fail(NULL, "mcd_close_server_f");
    }
    cli.server = NULL;
    free(cli.cores);
    cli.cores = NULL;
    cli.n_cores = 0;
    cli.target[0] = '\0';
    return ok;
}

/* Read the system, its device and its cores. */
static bool read_cores(void)
{
    uint32_t n;

    memset(&cli.system, 0, sizeof(cli.system));
    memset(&cli.device, 0, sizeof(cli.device));
    n = 1;
    if (mcd_qry_systems_f(0, &n, &cli.system) != MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_qry_systems_f");
    }
    n = 1;
    if (mcd_qry_devices_f(&cli.system, 0, &n, &cli.device) !=
        MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_qry_devices_f");
    }
    n = 0;
    if (mcd_qry_cores_f(&cli.device, 0, &n, NULL) != MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_qry_cores_f");
    }
    free(cli.cores);
    cli.cores = calloc(n ? n : 1, sizeof(*cli.cores));
    cli.n_cores = 0;
    if (!cli.cores) {
        return fail("out of memory");
    }
    if (n && mcd_qry_cores_f(&cli.device, 0, &n, cli.cores) !=
        MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_qry_cores_f");
    }
    cli.n_cores = n;
    return true;
}

static bool connect_to(const char *target)
{
    if (!initialize()) {
        return false;
    }
    if (cli.server) {
        return fail("connected to %s already: disconnect first",
                    cli.target);
    }
    if (mcd_open_server_f("", target, &cli.server) != MCD_RET_ACT_NONE) {
        cli.server = NULL;
        return api_fail(NULL, "mcd_open_server_f");
    }
    snprintf(cli.target, sizeof(cli.target), "%s",
             target[0] ? target : "127.0.0.1:1235");
    if (!read_cores()) {
        disconnect();
        return false;
    }
    return true;
}

static bool need_server(void)
{
    if (!cli.server) {
        return fail("not connected: use 'connect [host:port]' first");
    }
    return true;
}

static bool open_core(uint32_t index)
{
    mcd_core_st *core = NULL;

    if (!need_server()) {
        return false;
    }
    if (index >= cli.n_cores) {
        return fail("no core %u: the system has %u", index, cli.n_cores);
    }
    if (cli.core && cli.core_index == index) {
        return true;
    }
    if (!close_core()) {
        return false;
    }
    if (mcd_open_core_f(&cli.cores[index], &core) != MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_open_core_f");
    }
    cli.core = core;
    cli.core_index = index;
    return true;
}

/* Commands that need a core open core 0 if none is. */
static bool need_core(void)
{
    if (!need_server()) {
        return false;
    }
    return cli.core ? true : open_core(0);
}

static bool read_spaces(void)
{
    uint32_t n = 0;

    if (cli.spaces) {
        return true;
    }
    if (mcd_qry_mem_spaces_f(cli.core, 0, &n, NULL) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_mem_spaces_f");
    }
    cli.spaces = calloc(n ? n : 1, sizeof(*cli.spaces));
    if (!cli.spaces) {
        return fail("out of memory");
    }
    if (n && mcd_qry_mem_spaces_f(cli.core, 0, &n, cli.spaces) !=
        MCD_RET_ACT_NONE) {
        free(cli.spaces);
        cli.spaces = NULL;
        return api_fail(cli.core, "mcd_qry_mem_spaces_f");
    }
    cli.n_spaces = n;
    return true;
}

static bool read_groups(void)
{
    uint32_t n = 0;

    if (cli.groups) {
        return true;
    }
    if (mcd_qry_reg_groups_f(cli.core, 0, &n, NULL) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_reg_groups_f");
    }
    cli.groups = calloc(n ? n : 1, sizeof(*cli.groups));
    if (!cli.groups) {
        return fail("out of memory");
    }
    if (n && mcd_qry_reg_groups_f(cli.core, 0, &n, cli.groups) !=
        MCD_RET_ACT_NONE) {
        free(cli.groups);
        cli.groups = NULL;
        return api_fail(cli.core, "mcd_qry_reg_groups_f");
    }
    cli.n_groups = n;
    return true;
}

/* Every register: the map of group 0. */
static bool read_regs(void)
{
    uint32_t n = 0;

    if (cli.have_regs) {
        return true;
    }
    if (mcd_qry_reg_map_f(cli.core, 0, 0, &n, NULL) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_reg_map_f");
    }
    free(cli.regs);
    cli.regs = calloc(n ? n : 1, sizeof(*cli.regs));
    if (!cli.regs) {
        return fail("out of memory");
    }
    if (n && mcd_qry_reg_map_f(cli.core, 0, 0, &n, cli.regs) !=
        MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_reg_map_f");
    }
    cli.n_regs = n;
    cli.have_regs = true;
    return true;
}

static const mcd_memspace_st *space_by_id(uint32_t id)
{
    uint32_t i;

    for (i = 0; i < cli.n_spaces; i++) {
        if (cli.spaces[i].mem_space_id == id) {
            return &cli.spaces[i];
        }
    }
    return NULL;
}

static const char *space_name(uint32_t id)
{
    const mcd_memspace_st *ms = space_by_id(id);

    return ms ? ms->mem_space_name : "?";
}

static const char *group_name(uint32_t id)
{
    uint32_t i;

    for (i = 0; i < cli.n_groups; i++) {
        if (cli.groups[i].reg_group_id == id) {
            return cli.groups[i].reg_group_name;
        }
    }
    return "?";
}

/*
 * The default memory space: the first that does not hold registers,
 * passing over the Secure ones if there is another ("Non Secure" on
 * ARM, where the Secure spaces come first).
 */
static bool default_space(uint32_t *id)
{
    uint32_t i, first = 0;

    if (!read_spaces()) {
        return false;
    }
    if (cli.default_space) {
        *id = cli.default_space;
        return true;
    }
    for (i = 0; i < cli.n_spaces; i++) {
        if (cli.spaces[i].mem_type & MCD_MEM_SPACE_IS_REGISTERS) {
            continue;
        }
        if (!first) {
            first = cli.spaces[i].mem_space_id;
        }
        if (strncasecmp(cli.spaces[i].mem_space_name, "Secure", 6) != 0) {
            cli.default_space = cli.spaces[i].mem_space_id;
            break;
        }
    }
    if (!cli.default_space) {
        cli.default_space = first;
    }
    if (!cli.default_space) {
        return fail("core %u has no memory space for memory",
                    cli.core_index);
    }
    *id = cli.default_space;
    return true;
}

/* A memory space by id, or by a case-insensitive prefix of its name. */
static bool find_space(const char *text, uint32_t *id)
{
    uint32_t i, v, found = 0, matches = 0;
    size_t len = strlen(text);
    char list[256] = "";
    bool prefix;

    if (!read_spaces()) {
        return false;
    }
    if (parse_u32(text, &v)) {
        if (!space_by_id(v)) {
            return fail("core %u has no memory space %u (see 'spaces')",
                        cli.core_index, v);
        }
        *id = v;
        return true;
    }
    for (i = 0; i < cli.n_spaces; i++) {
        if (strcasecmp(cli.spaces[i].mem_space_name, text) == 0) {
            *id = cli.spaces[i].mem_space_id;
            return true;
        }
    }
    for (i = 0; i < cli.n_spaces; i++) {
        if (len && strncasecmp(cli.spaces[i].mem_space_name, text, len) ==
            0) {
            found = cli.spaces[i].mem_space_id;
            matches++;
            add_match(list, sizeof(list), cli.spaces[i].mem_space_name);
        }
    }
    /* no prefix matches: part of a name */
    prefix = matches > 0;
    for (i = 0; !prefix && i < cli.n_spaces; i++) {
        if (len && contains_word(cli.spaces[i].mem_space_name, text)) {
            found = cli.spaces[i].mem_space_id;
            matches++;
            add_match(list, sizeof(list), cli.spaces[i].mem_space_name);
        }
    }
    if (matches == 1) {
        *id = found;
        return true;
    }
    if (matches) {
        return fail("ambiguous memory space '%s': %s (quote names with "
                    "blanks: \"Non Secure\":0x1000)", text, list);
    }
    return fail("no memory space '%s' (see 'spaces')", text);
}

/* [SPACE:]ADDR */
static bool parse_address(const char *text, uint32_t *space, uint64_t *addr)
{
    const char *colon = strrchr(text, ':');
    char name[256];
    size_t n;

    if (colon) {
        n = colon - text;
        if (n == 0 || n >= sizeof(name)) {
            return fail("bad address '%s': expected [SPACE:]ADDR", text);
        }
        memcpy(name, text, n);
        name[n] = '\0';
        if (!find_space(name, space)) {
            return false;
        }
        text = colon + 1;
    } else if (!default_space(space)) {
        return false;
    }
    return number_arg(text, "address", addr);
}

/* A register by name (any case) or by id. */
static bool find_reg(const char *text, const mcd_register_info_st **reg)
{
    uint64_t id;
    uint32_t i;

    if (!read_regs()) {
        return false;
    }
    for (i = 0; i < cli.n_regs; i++) {
        if (strcasecmp(cli.regs[i].regname, text) == 0) {
            *reg = &cli.regs[i];
            return true;
        }
    }
    if (parse_u64(text, &id)) {
        for (i = 0; i < cli.n_regs; i++) {
            if (cli.regs[i].addr.address == id) {
                *reg = &cli.regs[i];
                return true;
            }
        }
    }
    return fail("core %u has no register '%s' (see 'regs')",
                cli.core_index, text);
}

/*
 * Transactions
 */

static bool execute(mcd_tx_st *tx, uint32_t n)
{
    mcd_txlist_st list;

    list.tx = tx;
    list.num_tx = n;
    list.num_tx_ok = 0;
    if (mcd_execute_txlist_f(cli.core, &list) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_execute_txlist_f");
    }
    if (list.num_tx_ok != n) {
        return fail("%u of %u transactions done", list.num_tx_ok, n);
    }
    return true;
}

static uint32_t chunk_size(void)
{
    uint32_t max = 0;

    if (!cli.max_payload) {
        if (mcd_qry_max_payload_size_f(cli.core, &max) != MCD_RET_ACT_NONE ||
            max < 256) {
            max = MCD_GUARANTEED_MIN_PAYLOAD;
        }
        cli.max_payload = max;
    }
    return cli.max_payload;
}

/* Read or write @len bytes of memory, a transaction list per chunk. */
static bool mem_access(uint32_t space, uint64_t addr, uint8_t *buf,
                       uint32_t len, mcd_tx_access_type_et type)
{
    uint32_t done = 0, chunk = chunk_size();
    mcd_tx_st tx;

    while (done < len) {
        memset(&tx, 0, sizeof(tx));
        tx.addr.address = addr + done;
        tx.addr.mem_space_id = space;
        tx.access_type = type;
        tx.data = buf + done;
        tx.num_bytes = len - done < chunk ? len - done : chunk;
        if (!execute(&tx, 1)) {
            return false;
        }
        done += tx.num_bytes;
    }
    return true;
}

static size_t reg_bytes(const mcd_register_info_st *r)
{
    return (r->regsize + 7) / 8;
}

/* Whether register @r travels big-endian: its memory space says. */
static bool reg_big_endian(const mcd_register_info_st *r)
{
    uint32_t i;

    if (!read_spaces()) {
        return false;
    }
    for (i = 0; i < cli.n_spaces; i++) {
        if (cli.spaces[i].mem_space_id == r->addr.mem_space_id) {
            return cli.spaces[i].endian == MCD_ENDIAN_BIG;
        }
    }
    return false;
}

static void reverse_bytes(uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len / 2; i++) {
        uint8_t b = buf[i];

        buf[i] = buf[len - 1 - i];
        buf[len - 1 - i] = b;
    }
}

/*
 * Read or write register @r; @buf holds its value little-endian, as
 * the rest of the CLI works, whatever the target's byte order.
 */
static bool reg_access(const mcd_register_info_st *r, uint8_t *buf,
                       mcd_tx_access_type_et type)
{
    bool big = reg_big_endian(r);
    mcd_tx_st tx;
    bool ok;

    memset(&tx, 0, sizeof(tx));
    tx.addr = r->addr;
    tx.access_type = type;
    tx.data = buf;
    tx.num_bytes = reg_bytes(r);
    if (big && type != MCD_TX_AT_R) {
        reverse_bytes(buf, tx.num_bytes);
    }
    ok = execute(&tx, 1);
    if (big && (ok || type != MCD_TX_AT_R)) {
        reverse_bytes(buf, tx.num_bytes);
    }
    return ok;
}

/* The pc, if the core has a register of that name; quietly. */
static bool read_pc(uint64_t *pc)
{
    uint8_t buf[8] = { 0 };
    uint32_t i;
    bool ok = false;

    cli.quiet++;
    if (read_regs()) {
        for (i = 0; i < cli.n_regs; i++) {
            if (strcasecmp(cli.regs[i].regname, "pc") == 0 &&
                reg_bytes(&cli.regs[i]) <= sizeof(buf)) {
                ok = reg_access(&cli.regs[i], buf, MCD_TX_AT_R);
                *pc = le_value(buf, reg_bytes(&cli.regs[i]));
                break;
            }
        }
    }
    cli.quiet--;
    return ok;
}

/*
 * Output helpers
 */

static const char *state_name(mcd_core_state_et state)
{
    switch (state) {
    case MCD_CORE_STATE_RUNNING:
        return "running";
    case MCD_CORE_STATE_HALTED:
        return "halted";
    case MCD_CORE_STATE_DEBUG:
        return "debug";
    default:
        return "unknown";
    }
}

/* "core 0: debug, pc 0x40200004; stopped at ... (trigger 1); info" */
static void print_state(const mcd_core_state_st *st)
{
    uint64_t pc;

    printf("core %u: %s", cli.core_index, state_name(st->state));
    if (read_pc(&pc)) {
        printf(", pc 0x%" PRIx64, pc);
    }
    if (st->stop_str[0]) {
        printf("; %s", st->stop_str);
    }
    if (st->trig_id) {
        printf(" (trigger %u)", st->trig_id);
    }
    if (st->info_str[0]) {
        printf("; %s", st->info_str);
    }
    printf("\n");
}

static bool query_state(mcd_core_state_st *st)
{
    memset(st, 0, sizeof(*st));
    if (mcd_qry_state_f(cli.core, st) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_state_f");
    }
    return true;
}

static bool show_state(void)
{
    mcd_core_state_st st;

    if (!query_state(&st)) {
        return false;
    }
    print_state(&st);
    return true;
}

static void hexdump(uint64_t addr, const uint8_t *buf, uint32_t len)
{
    int width = addr + (len - 1) > 0xffffffffULL ? 16 : 8;
    uint32_t off, i;

    for (off = 0; off < len; off += 16) {
        printf("%0*" PRIx64 ":", width, addr + off);
        for (i = 0; i < 16; i++) {
            if (off + i < len) {
                printf(" %02x", buf[off + i]);
            } else {
                printf("   ");
            }
        }
        printf("  ");
        for (i = 0; i < 16 && off + i < len; i++) {
            putchar(isprint(buf[off + i]) ? buf[off + i] : '.');
        }
        putchar('\n');
    }
}

static void mem_type_text(mcd_mem_type_et type, char *out, size_t size)
{
    static const struct {
        mcd_mem_type_et bit;
        const char *name;
    } bits[] = {
        { MCD_MEM_SPACE_IS_REGISTERS, "registers" },
        { MCD_MEM_SPACE_IS_PROGRAM, "program" },
        { MCD_MEM_SPACE_IS_VIRTUAL, "virtual" },
        { MCD_MEM_SPACE_IS_CACHE, "cache" },
        { MCD_MEM_SPACE_IS_PHYSICAL, "physical" },
        { MCD_MEM_SPACE_IS_LOGICAL, "logical" },
    };
    size_t i, n = 0;

    out[0] = '\0';
    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if ((type & bits[i].bit) && n < size) {
            n += snprintf(out + n, size - n, "%s%s", n ? "," : "",
                          bits[i].name);
        }
    }
    if (type & ~(MCD_MEM_SPACE_RESERVED_LO - 1) && n < size) {
        snprintf(out + n, size - n, "%sother", n ? "," : "");
    }
    if (!out[0]) {
        snprintf(out, size, "default");
    }
}

/*
 * The commands
 */

typedef bool (*CmdFn)(int argc, char **argv);

typedef struct Command {
    const char *name;
    CmdFn fn;
    int min_args;
    int max_args;               /* -1: any number */
    const char *usage;
    const char *help;
} Command;

static bool cmd_connect(int argc, char **argv)
{
    char target[512] = "";
    size_t n = 0;
    int i;

    /* the words of a config string with blanks, such as McdHostName=... */
    for (i = 1; i < argc; i++) {
        n += snprintf(target + n, n < sizeof(target) ? sizeof(target) - n
                                                     : 0,
                      "%s%s", i > 1 ? " " : "", argv[i]);
    }
    if (n >= sizeof(target)) {
        return fail("connection string too long");
    }
    if (argc == 1 && cli.default_target) {
        snprintf(target, sizeof(target), "%s", cli.default_target);
    }
    if (!connect_to(target)) {
        return false;
    }
    printf("connected to %s: %s, %s, %u core%s\n", cli.target,
           cli.system.system, cli.device.device, cli.n_cores,
           cli.n_cores == 1 ? "" : "s");
    return true;
}

static bool cmd_disconnect(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!need_server()) {
        return false;
    }
    if (!disconnect()) {
        return false;
    }
    printf("disconnected\n");
    return true;
}

static bool cmd_cores(int argc, char **argv)
{
    uint32_t i;

    (void)argc, (void)argv;
    if (!need_server() || !read_cores()) {
        return false;
    }
    printf("system: %s (%s)\n", cli.system.system,
           cli.system.system_instance);
    printf("device: %s\n", cli.device.device);
    for (i = 0; i < cli.n_cores; i++) {
        printf("core %u: %s, core type %u%s\n", cli.cores[i].core_id,
               cli.cores[i].core, cli.cores[i].core_type,
               cli.core && cli.core_index == i ? " (open)" : "");
    }
    return true;
}

static bool cmd_core(int argc, char **argv)
{
    uint32_t index;

    if (argc < 2) {
        if (!cli.core) {
            return fail("no core is open: use 'core N'");
        }
        printf("core %u: %s\n", cli.core_index,
               cli.cores[cli.core_index].core);
        return true;
    }
    if (!parse_u32(argv[1], &index)) {
        return fail("bad core number '%s'", argv[1]);
    }
    if (!open_core(index)) {
        return false;
    }
    printf("core %u: %s, open\n", index, cli.cores[index].core);
    return true;
}

static bool cmd_spaces(int argc, char **argv)
{
    char type[96];
    uint32_t i, def = 0;

    (void)argc, (void)argv;
    if (!need_core() || !read_spaces()) {
        return false;
    }
    default_space(&def);
    printf("%3s  %-24s %-6s %-20s %s\n", "id", "name", "type", "",
           "endian");
    for (i = 0; i < cli.n_spaces; i++) {
        const mcd_memspace_st *ms = &cli.spaces[i];
        char hex[16];

        mem_type_text(ms->mem_type, type, sizeof(type));
        snprintf(hex, sizeof(hex), "0x%x", ms->mem_type);
        printf("%3u  %-24s %-6s %-20s %-6s%s\n", ms->mem_space_id,
               ms->mem_space_name, hex, type,
               ms->endian == MCD_ENDIAN_BIG ? "big" : "little",
               ms->mem_space_id == def ? "  default" : "");
    }
    return true;
}

static bool cmd_space(int argc, char **argv)
{
    uint32_t id;

    if (!need_core()) {
        return false;
    }
    if (argc > 1) {
        if (!find_space(argv[1], &id)) {
            return false;
        }
        cli.default_space = id;
    } else if (!default_space(&id)) {
        return false;
    }
    printf("default memory space: %u %s\n", id, space_name(id));
    return true;
}

static bool cmd_groups(int argc, char **argv)
{
    uint32_t i;

    (void)argc, (void)argv;
    if (!need_core() || !read_groups()) {
        return false;
    }
    printf("%3s  %-28s %s\n", "id", "name", "registers");
    for (i = 0; i < cli.n_groups; i++) {
        printf("%3u  %-28s %u\n", cli.groups[i].reg_group_id,
               cli.groups[i].reg_group_name, cli.groups[i].n_registers);
    }
    return true;
}

/* A register group by id or by a case-insensitive prefix of its name. */
static bool find_group(const char *text, uint32_t *id)
{
    uint32_t i, v, found = 0, matches = 0;
    size_t len = strlen(text);
    char list[256] = "";
    bool prefix;

    if (!read_groups()) {
        return false;
    }
    if (parse_u32(text, &v)) {
        for (i = 0; i < cli.n_groups; i++) {
            if (cli.groups[i].reg_group_id == v) {
                *id = v;
                return true;
            }
        }
        return fail("core %u has no register group %u (see 'groups')",
                    cli.core_index, v);
    }
    for (i = 0; i < cli.n_groups; i++) {
        if (strcasecmp(cli.groups[i].reg_group_name, text) == 0) {
            *id = cli.groups[i].reg_group_id;
            return true;
        }
        if (strncasecmp(cli.groups[i].reg_group_name, text, len) == 0) {
            found = cli.groups[i].reg_group_id;
            matches++;
            add_match(list, sizeof(list), cli.groups[i].reg_group_name);
        }
    }
    /* no prefix matches: part of a name */
    prefix = matches > 0;
    for (i = 0; !prefix && i < cli.n_groups; i++) {
        if (contains_word(cli.groups[i].reg_group_name, text)) {
            found = cli.groups[i].reg_group_id;
            matches++;
            add_match(list, sizeof(list), cli.groups[i].reg_group_name);
        }
    }
    if (matches == 1) {
        *id = found;
        return true;
    }
    if (matches) {
        return fail("ambiguous register group '%s': %s", text, list);
    }
    return fail("no register group '%s' (see 'groups')", text);
}

static bool cmd_regs(int argc, char **argv)
{
    mcd_register_info_st *regs;
    uint32_t group = 0, n = 0, i;
    int width = 4;
    bool ok = false;

    if (!need_core() || !read_groups()) {
        return false;
    }
    if (argc > 1 && !find_group(argv[1], &group)) {
        return false;
    }
    /* the register map of the group, as the API gives it */
    if (mcd_qry_reg_map_f(cli.core, group, 0, &n, NULL) !=
        MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_reg_map_f");
    }
    regs = calloc(n ? n : 1, sizeof(*regs));
    if (!regs) {
        return fail("out of memory");
    }
    if (n && mcd_qry_reg_map_f(cli.core, group, 0, &n, regs) !=
        MCD_RET_ACT_NONE) {
        api_fail(cli.core, "mcd_qry_reg_map_f");
        goto out;
    }
    for (i = 0; i < n; i++) {
        if ((int)strlen(regs[i].regname) > width) {
            width = strlen(regs[i].regname);
        }
    }
    printf("%-*s %6s %5s  %s\n", width, "name", "id", "bits", "group");
    for (i = 0; i < n; i++) {
        printf("%-*s %6" PRIu64 " %5u  %s\n", width, regs[i].regname,
               regs[i].addr.address, regs[i].regsize,
               group_name(regs[i].reg_group_id));
    }
    printf("%u register%s\n", n, n == 1 ? "" : "s");
    ok = true;
out:
    free(regs);
    return ok;
}

static bool cmd_reg(int argc, char **argv)
{
    const mcd_register_info_st *r = NULL;
    uint8_t *buf;
    size_t len;
    char text[2 * 4096 + 8];
    bool ok = false;

    if (!need_core() || !find_reg(argv[1], &r)) {
        return false;
    }
    len = reg_bytes(r);
    if (len > 4096) {
        return fail("register %s is too wide", r->regname);
    }
    buf = calloc(1, len);
    if (!buf) {
        return fail("out of memory");
    }
    if (argc > 2) {
        if (!parse_value(argv[2], buf, len)) {
            fail("bad value '%s' for the %u-bit register %s", argv[2],
                 r->regsize, r->regname);
            goto out;
        }
        /* write, then read back what the core holds */
        if (!reg_access(r, buf, MCD_TX_AT_WR)) {
            goto out;
        }
    } else if (!reg_access(r, buf, MCD_TX_AT_R)) {
        goto out;
    }
    format_value(buf, len, text, sizeof(text));
    printf("%s = %s\n", r->regname, text);
    ok = true;
out:
    free(buf);
    return ok;
}

static bool cmd_read(int argc, char **argv)
{
    uint32_t space;
    uint64_t addr, len;
    uint8_t *buf;
    bool ok;

    (void)argc;
    if (!need_core() || !parse_address(argv[1], &space, &addr) ||
        !number_arg(argv[2], "length", &len)) {
        return false;
    }
    if (len == 0 || len > MAX_MEM_LEN) {
        return fail("bad length %" PRIu64 ": 1 to %u bytes", len,
                    MAX_MEM_LEN);
    }
    buf = malloc(len);
    if (!buf) {
        return fail("out of memory");
    }
    ok = mem_access(space, addr, buf, len, MCD_TX_AT_R);
    if (ok) {
        hexdump(addr, buf, len);
    }
    free(buf);
    return ok;
}

static bool cmd_write(int argc, char **argv)
{
    uint32_t space;
    uint64_t addr;
    uint8_t *buf;
    size_t len = 0, total = 0, i;
    const char *p;
    int hi, lo;
    bool ok;
    int k;

    if (!need_core() || !parse_address(argv[1], &space, &addr)) {
        return false;
    }
    for (k = 2; k < argc; k++) {
        p = argv[k];
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            p += 2;
        }
        total += strlen(p);
    }
    if (total == 0 || total / 2 > MAX_MEM_LEN) {
        return fail("bad data: 1 to %u bytes in hex", MAX_MEM_LEN);
    }
    buf = malloc(total / 2 + 1);
    if (!buf) {
        return fail("out of memory");
    }
    for (k = 2; k < argc; k++) {
        p = argv[k];
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            p += 2;
        }
        if (strlen(p) % 2) {
            free(buf);
            return fail("bad data '%s': two hex digits per byte", argv[k]);
        }
        for (i = 0; p[i]; i += 2) {
            hi = digit_value(p[i], 16);
            lo = digit_value(p[i + 1], 16);
            if (hi < 0 || lo < 0) {
                free(buf);
                return fail("bad data '%s': two hex digits per byte",
                            argv[k]);
            }
            buf[len++] = hi << 4 | lo;
        }
    }
    ok = mem_access(space, addr, buf, len, MCD_TX_AT_W);
    if (ok) {
        printf("wrote %zu byte%s at %s:0x%" PRIx64 "\n", len,
               len == 1 ? "" : "s", space_name(space), addr);
    }
    free(buf);
    return ok;
}

static bool cmd_writew(int argc, char **argv)
{
    uint32_t space, word;
    uint64_t addr;
    uint8_t buf[4 * MAX_ARGS];
    size_t len = 0;
    int k;

    if (!need_core() || !parse_address(argv[1], &space, &addr)) {
        return false;
    }
    for (k = 2; k < argc; k++) {
        if (!parse_u32(argv[k], &word)) {
            return fail("bad word '%s': a 32-bit number", argv[k]);
        }
        buf[len++] = word;
        buf[len++] = word >> 8;
        buf[len++] = word >> 16;
        buf[len++] = word >> 24;
    }
    if (!mem_access(space, addr, buf, len, MCD_TX_AT_W)) {
        return false;
    }
    printf("wrote %d word%s at %s:0x%" PRIx64 "\n", argc - 2,
           argc == 3 ? "" : "s", space_name(space), addr);
    return true;
}

/* "all" as the only argument: a global run, stop or step. */
static bool global_arg(int argc, char **argv, bool *global)
{
    *global = false;
    if (argc > 1) {
        if (strcasecmp(argv[1], "all") != 0) {
            return fail("bad argument '%s': expected 'all'", argv[1]);
        }
        *global = true;
    }
    return true;
}

static bool cmd_go(int argc, char **argv)
{
    bool global;

    if (!need_core() || !global_arg(argc, argv, &global)) {
        return false;
    }
    if (mcd_run_f(cli.core, global ? TRUE : FALSE) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_run_f");
    }
    /* no state query here: it would take the stop reason from "wait" */
    if (global) {
        printf("all cores: running\n");
    } else {
        printf("core %u: running\n", cli.core_index);
    }
    return true;
}

static bool cmd_stop(int argc, char **argv)
{
    bool global;

    if (!need_core() || !global_arg(argc, argv, &global)) {
        return false;
    }
    if (mcd_stop_f(cli.core, global ? TRUE : FALSE) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_stop_f");
    }
    return show_state();
}

static bool cmd_step(int argc, char **argv)
{
    uint32_t n = 1;

    if (!need_core()) {
        return false;
    }
    if (argc > 1 && (!parse_u32(argv[1], &n) || n == 0)) {
        return fail("bad step count '%s'", argv[1]);
    }
    if (mcd_step_f(cli.core, FALSE, MCD_CORE_STEP_TYPE_INSTR, n) !=
        MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_step_f");
    }
    return show_state();
}

static bool cmd_state(int argc, char **argv)
{
    (void)argc, (void)argv;
    return need_core() && show_state();
}

static bool cmd_wait(int argc, char **argv)
{
    double timeout = DEFAULT_WAIT_S, deadline;
    unsigned int delay = 1;
    mcd_core_state_st st;
    char *end;

    if (!need_core()) {
        return false;
    }
    if (argc > 1) {
        errno = 0;
        timeout = strtod(argv[1], &end);
        if (errno || *end || end == argv[1] || !(timeout >= 0) ||
            timeout > 1e6) {
            return fail("bad timeout '%s': seconds", argv[1]);
        }
    }
    deadline = now_s() + timeout;
    for (;;) {
        if (!query_state(&st)) {
            return false;
        }
        if (st.state != MCD_CORE_STATE_RUNNING) {
            print_state(&st);
            return true;
        }
        if (now_s() >= deadline) {
            return fail("core %u still running after %g s", cli.core_index,
                        timeout);
        }
        sleep_ms(delay);
        delay = delay < 50 ? delay * 2 : 50;
    }
}

static bool create_trigger(mcd_trig_type_et type, uint32_t space,
                           uint64_t addr, uint64_t len)
{
    mcd_trig_simple_core_st trig;
    uint32_t id = 0;

    memset(&trig, 0, sizeof(trig));
    trig.struct_size = sizeof(trig);
    trig.type = type;
    trig.option = MCD_TRIG_OPT_DEFAULT;
    trig.action = MCD_TRIG_ACTION_DBG_DEBUG;
    trig.addr_start.address = addr;
    trig.addr_start.mem_space_id = space;
    trig.addr_range = len ? len - 1 : 0;
    if (mcd_create_trig_f(cli.core, &trig, &id) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_create_trig_f");
    }
    /* set it in the target now, so that errors show here */
    if (mcd_activate_trig_set_f(cli.core) != MCD_RET_ACT_NONE) {
        api_fail(cli.core, "mcd_activate_trig_set_f");
        mcd_remove_trig_f(cli.core, id);
        return false;
    }
    if (type == MCD_TRIG_TYPE_IP) {
        printf("breakpoint %u at %s:0x%" PRIx64 "\n", id, space_name(space),
               addr);
    } else {
        printf("watchpoint %u (%s) at %s:0x%" PRIx64 ", %" PRIu64
               " byte%s%s\n", id,
               type == MCD_TRIG_TYPE_READ ? "read"
               : type == MCD_TRIG_TYPE_WRITE ? "write" : "read/write",
               space_name(space), addr, trig.addr_range + 1,
               trig.addr_range ? "s" : "",
               trig.modified ? " (changed by the library)" : "");
    }
    return true;
}

static bool cmd_break(int argc, char **argv)
{
    uint32_t space;
    uint64_t addr;

    (void)argc;
    if (!need_core() || !parse_address(argv[1], &space, &addr)) {
        return false;
    }
    return create_trigger(MCD_TRIG_TYPE_IP, space, addr, 0);
}

static bool cmd_watch(int argc, char **argv)
{
    mcd_trig_type_et type = MCD_TRIG_TYPE_WRITE;
    uint32_t space;
    uint64_t addr, len = 4;
    int a = 1;

    if (!need_core()) {
        return false;
    }
    if (strcasecmp(argv[1], "r") == 0) {
        type = MCD_TRIG_TYPE_READ;
        a++;
    } else if (strcasecmp(argv[1], "w") == 0) {
        a++;
    } else if (strcasecmp(argv[1], "rw") == 0) {
        type = MCD_TRIG_TYPE_RW;
        a++;
    }
    if (a >= argc || argc - a > 2) {
        return fail("usage: %s", "watch [r|w|rw] [SPACE:]ADDR [LEN]");
    }
    if (!parse_address(argv[a], &space, &addr)) {
        return false;
    }
    if (a + 1 < argc && (!number_arg(argv[a + 1], "length", &len) ||
                         len == 0)) {
        return len == 0 ? fail("bad length 0") : false;
    }
    return create_trigger(type, space, addr, len);
}

static bool cmd_triggers(int argc, char **argv)
{
    union {
        mcd_trig_simple_core_st simple;
        mcd_trig_complex_core_st complex;
    } trig;
    mcd_trig_set_state_st set_state;
    mcd_trig_state_st state;
    uint32_t ids[MCD_MAX_TRIGS];
    uint32_t n, i;
    const char *type;
    char length[24];
    char where[MCD_MEM_SPACE_NAME_LEN + 24];

    (void)argc, (void)argv;
    if (!need_core() || !read_spaces()) {
        return false;
    }
    n = 0;
    if (mcd_qry_trig_set_f(cli.core, 0, &n, NULL) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_trig_set_f");
    }
    if (n == 0) {
        printf("no triggers\n");
        return true;
    }
    if (n > MCD_MAX_TRIGS) {
        n = MCD_MAX_TRIGS;
    }
    if (mcd_qry_trig_set_f(cli.core, 0, &n, ids) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_trig_set_f");
    }
    /* sample the states, then read each trigger */
    memset(&set_state, 0, sizeof(set_state));
    if (mcd_qry_trig_set_state_f(cli.core, &set_state) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_trig_set_state_f");
    }
    printf("%3s  %-11s %-32s %6s  %s\n", "id", "type", "address", "length",
           "state");
    for (i = 0; i < n; i++) {
        memset(&trig, 0, sizeof(trig));
        if (mcd_qry_trig_f(cli.core, ids[i], sizeof(trig), &trig) !=
            MCD_RET_ACT_NONE) {
            return api_fail(cli.core, "mcd_qry_trig_f");
        }
        memset(&state, 0, sizeof(state));
        if (mcd_qry_trig_state_f(cli.core, ids[i], &state) !=
            MCD_RET_ACT_NONE) {
            return api_fail(cli.core, "mcd_qry_trig_state_f");
        }
        switch (trig.simple.type) {
        case MCD_TRIG_TYPE_IP:
            type = "breakpoint";
            break;
        case MCD_TRIG_TYPE_READ:
            type = "read";
            break;
        case MCD_TRIG_TYPE_WRITE:
            type = "write";
            break;
        case MCD_TRIG_TYPE_RW:
            type = "read/write";
            break;
        default:
            type = "other";
            break;
        }
        if (trig.simple.type == MCD_TRIG_TYPE_IP) {
            snprintf(length, sizeof(length), "-");
        } else {
            snprintf(length, sizeof(length), "%" PRIu64,
                     trig.simple.addr_range + 1);
        }
        snprintf(where, sizeof(where), "%s:0x%" PRIx64,
                 space_name(trig.simple.addr_start.mem_space_id),
                 trig.simple.addr_start.address);
        printf("%3u  %-11s %-32s %6s  %s%s\n", ids[i], type, where, length,
               state.active ? "active" : "inactive",
               state.captured_valid && state.captured ? ", hit" : "");
    }
    return true;
}

static bool cmd_delete(int argc, char **argv)
{
    uint32_t id;

    (void)argc;
    if (!need_core()) {
        return false;
    }
    if (strcasecmp(argv[1], "all") == 0) {
        if (mcd_remove_trig_set_f(cli.core) != MCD_RET_ACT_NONE) {
            return api_fail(cli.core, "mcd_remove_trig_set_f");
        }
        printf("deleted all triggers\n");
        return true;
    }
    if (!parse_u32(argv[1], &id)) {
        return fail("bad trigger id '%s' (see 'triggers')", argv[1]);
    }
    if (mcd_remove_trig_f(cli.core, id) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_remove_trig_f");
    }
    printf("deleted trigger %u\n", id);
    return true;
}

static bool reset_classes(uint32_t *vector)
{
    *vector = 0;
    if (mcd_qry_rst_classes_f(cli.core, vector) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_rst_classes_f");
    }
    return true;
}

static bool cmd_resets(int argc, char **argv)
{
    mcd_rst_info_st info;
    uint32_t vector, i;

    (void)argc, (void)argv;
    if (!need_core() || !reset_classes(&vector)) {
        return false;
    }
    for (i = 0; i < 32; i++) {
        if (!(vector & (1u << i))) {
            continue;
        }
        memset(&info, 0, sizeof(info));
        if (mcd_qry_rst_class_info_f(cli.core, i, &info) !=
            MCD_RET_ACT_NONE) {
            return api_fail(cli.core, "mcd_qry_rst_class_info_f");
        }
        printf("%2u  %s\n", i, info.info_str);
    }
    if (!vector) {
        printf("no reset classes\n");
    }
    return true;
}

/* The reset class whose description contains @word. */
static bool find_reset(uint32_t vector, const char *word, uint32_t *cls)
{
    mcd_rst_info_st info;
    uint32_t i;

    for (i = 0; i < 32; i++) {
        if (!(vector & (1u << i))) {
            continue;
        }
        memset(&info, 0, sizeof(info));
        if (mcd_qry_rst_class_info_f(cli.core, i, &info) !=
            MCD_RET_ACT_NONE) {
            return api_fail(cli.core, "mcd_qry_rst_class_info_f");
        }
        if (contains_word(info.info_str, word)) {
            *cls = i;
            return true;
        }
    }
    return fail("no %s reset class (see 'resets')", word);
}

static bool cmd_reset(int argc, char **argv)
{
    const char *kind = "system";
    uint32_t vector, cls = 32;
    bool halt = false;
    int i;

    if (!need_core() || !reset_classes(&vector)) {
        return false;
    }
    for (i = 1; i < argc; i++) {
        if (strcasecmp(argv[i], "halt") == 0) {
            halt = true;
        } else if (strcasecmp(argv[i], "system") == 0 ||
                   strcasecmp(argv[i], "core") == 0) {
            kind = strcasecmp(argv[i], "core") == 0 ? "core" : "system";
        } else if (parse_u32(argv[i], &cls) && cls < 32) {
            kind = NULL;
        } else {
            return fail("bad argument '%s': expected system, core, a class "
                        "number or halt", argv[i]);
        }
    }
    if (kind && !find_reset(vector, kind, &cls)) {
        return false;
    }
    if (mcd_rst_f(cli.core, 1u << cls, halt ? TRUE : FALSE) !=
        MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_rst_f");
    }
    return show_state();
}

static bool cmd_info(int argc, char **argv)
{
    mcd_trig_info_st ti;
    char config[512];
    uint32_t len = sizeof(config), max;

    (void)argc, (void)argv;
    if (!initialize()) {
        return false;
    }
    printf("mcd-cli %s\n", CLI_VERSION);
    printf("library: %s %u.%u.%u (%s), MCD API %u.%u (%s)\n",
           cli.impl.vendor, cli.impl.v_imp_major, cli.impl.v_imp_minor,
           cli.impl.v_imp_build, cli.impl.date,
           cli.impl.v_api.v_api_major, cli.impl.v_api.v_api_minor,
           cli.impl.v_api.author);
    if (!cli.server) {
        printf("not connected\n");
        return true;
    }
    if (mcd_qry_server_config_f(cli.server, &len, config) !=
        MCD_RET_ACT_NONE) {
        return api_fail(NULL, "mcd_qry_server_config_f");
    }
    printf("server: %s\n", config);
    printf("system: %s (%s), device %s, %u core%s\n", cli.system.system,
           cli.system.system_instance, cli.device.device, cli.n_cores,
           cli.n_cores == 1 ? "" : "s");
    if (!cli.core) {
        printf("no core open\n");
        return true;
    }
    printf("core %u: %s, core type %u\n", cli.core_index,
           cli.cores[cli.core_index].core,
           cli.cores[cli.core_index].core_type);
    if (mcd_qry_max_payload_size_f(cli.core, &max) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_max_payload_size_f");
    }
    printf("max payload: %u bytes per transaction list\n", max);
    memset(&ti, 0, sizeof(ti));
    if (mcd_qry_trig_info_f(cli.core, &ti) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_qry_trig_info_f");
    }
    printf("triggers: %u, types%s%s%s%s\n", ti.trig_number,
           ti.type & MCD_TRIG_TYPE_IP ? " breakpoint" : "",
           ti.type & MCD_TRIG_TYPE_READ ? " read" : "",
           ti.type & MCD_TRIG_TYPE_WRITE ? " write" : "",
           ti.type & MCD_TRIG_TYPE_RW ? " read/write" : "");
    return true;
}

static bool cmd_help(int argc, char **argv);

/* quit: handled by the command loop */
static bool cmd_quit(int argc, char **argv)
{
    (void)argc, (void)argv;
    return true;
}

static const Command commands[] = {
    { "connect", cmd_connect, 0, -1, "connect [host:port]",
      "connect to QEMU's MCD stub (default 127.0.0.1:1235, or the -c\n"
      "argument); also McdHostName=\"host\" McdServerPort=\"port\"" },
    { "disconnect", cmd_disconnect, 0, 0, "disconnect",
      "close the core and the connection (the stub lets the guest run)" },
    { "cores", cmd_cores, 0, 0, "cores",
      "list the system, its device and its cores" },
    { "core", cmd_core, 0, 1, "core [N]",
      "open core N and make it the current core (commands that need a\n"
      "core open core 0 if none is open)" },
    { "spaces", cmd_spaces, 0, 0, "spaces",
      "list the memory spaces of the core: id, name, type, endianness" },
    { "space", cmd_space, 0, 1, "space [SPACE]",
      "show or set the default memory space of read, write, break..." },
    { "groups", cmd_groups, 0, 0, "groups",
      "list the register groups of the core" },
    { "regs", cmd_regs, 0, 1, "regs [GROUP]",
      "list the registers (of a group, by id or name prefix): name, id,\n"
      "bits, group" },
    { "reg", cmd_reg, 1, 2, "reg NAME|ID [VALUE]",
      "read a register, or write VALUE (0x hex of any width, or decimal)\n"
      "and read it back" },
    { "read", cmd_read, 2, 2, "read [SPACE:]ADDR LEN",
      "read LEN bytes of memory and dump them in hex and ASCII" },
    { "write", cmd_write, 2, -1, "write [SPACE:]ADDR HEXBYTES...",
      "write bytes given in hex, two digits a byte (\"0102ff\" or \"01 02\")" },
    { "writew", cmd_writew, 2, MAX_ARGS - 2,
      "writew [SPACE:]ADDR VALUE32...",
      "write 32-bit words, little-endian (handy for instructions)" },
    { "go", cmd_go, 0, 1, "go [all]",
      "let the core run (all: every core)" },
    { "stop", cmd_stop, 0, 1, "stop [all]",
      "stop the core (all: every core) and show its state" },
    { "step", cmd_step, 0, 1, "step [N]",
      "step N instructions (default 1) and show the state" },
    { "state", cmd_state, 0, 0, "state",
      "show the core state, the pc and why the core stopped" },
    { "wait", cmd_wait, 0, 1, "wait [TIMEOUT_S]",
      "wait until the core no longer runs (default 10 s), show the state\n"
      "and the stop reason; fails on timeout" },
    { "break", cmd_break, 1, 1, "break [SPACE:]ADDR",
      "set a breakpoint" },
    { "watch", cmd_watch, 1, 3, "watch [r|w|rw] [SPACE:]ADDR [LEN]",
      "set a read, write (default) or read/write watchpoint of LEN bytes\n"
      "(default 4)" },
    { "triggers", cmd_triggers, 0, 0, "triggers",
      "list the breakpoints and watchpoints of this session with their ids" },
    { "delete", cmd_delete, 1, 1, "delete ID|all",
      "delete a trigger, or all of them" },
    { "resets", cmd_resets, 0, 0, "resets",
      "list the reset classes" },
    { "reset", cmd_reset, 0, 2, "reset [system|core|CLASS] [halt]",
      "reset the system (default) or the core; halt: stop at the reset\n"
      "vector" },
    { "info", cmd_info, 0, 0, "info",
      "show the library, the server, the core and its trigger resources" },
    { "help", cmd_help, 0, 1, "help [COMMAND]",
      "list the commands, or explain one" },
    { "quit", cmd_quit, 0, 0, "quit",
      "close the connection and exit (also 'exit' and end of input)" },
    { NULL, NULL, 0, 0, NULL, NULL },
};

static const Command *find_command(const char *name)
{
    const Command *c;

    if (strcmp(name, "exit") == 0) {
        name = "quit";
    }
    for (c = commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

static void print_help_text(const char *text)
{
    const char *p = text, *nl;

    while (*p) {
        nl = strchr(p, '\n');
        if (!nl) {
            nl = p + strlen(p);
        }
        printf("    %.*s\n", (int)(nl - p), p);
        p = *nl ? nl + 1 : nl;
    }
}

static bool cmd_help(int argc, char **argv)
{
    const Command *c;

    if (argc > 1) {
        c = find_command(argv[1]);
        if (!c) {
            return fail("unknown command '%s' (try 'help')", argv[1]);
        }
        printf("%s\n", c->usage);
        print_help_text(c->help);
        return true;
    }
    printf("Commands (one per line, or separated by ';'; '#' starts a "
           "comment):\n");
    for (c = commands; c->name; c++) {
        printf("  %s\n", c->usage);
        print_help_text(c->help);
    }
    printf("Numbers are decimal or 0x hex.  SPACE is a memory space id or "
           "a\ncase-insensitive prefix of its name, quoted if it has "
           "blanks:\n\"Non Secure\":0x40000000.  Without SPACE, the default "
           "space (see 'space').\n");
    return true;
}

/*
 * Command lines
 */

typedef enum Outcome {
    OUT_OK,
    OUT_FAILED,
    OUT_QUIT,
} Outcome;

/* Split one command into words; quotes group words. */
static bool split_words(char *cmd, int *argc, char **argv)
{
    char *in = cmd, *out = cmd;
    bool quoted = false, in_word = false;

    *argc = 0;
    for (;; in++) {
        char ch = *in;

        if (ch == '\0' || (!quoted && isspace((unsigned char)ch))) {
            if (in_word) {
                *out++ = '\0';
                in_word = false;
            }
            if (ch == '\0') {
                break;
            }
            continue;
        }
        if (!in_word) {
            if (*argc == MAX_ARGS) {
                return fail("too many words in a command");
            }
            argv[(*argc)++] = out;
            in_word = true;
        }
        if (ch == '"') {
            quoted = !quoted;
        } else {
            *out++ = ch;
        }
    }
    if (quoted) {
        return fail("unterminated quote");
    }
    return true;
}

static Outcome run_command(char *cmd)
{
    char *argv[MAX_ARGS + 1];
    const Command *c;
    size_t len;
    int argc;

    while (isspace((unsigned char)*cmd)) {
        cmd++;
    }
    len = strlen(cmd);
    while (len && isspace((unsigned char)cmd[len - 1])) {
        cmd[--len] = '\0';
    }
    if (!len) {
        return OUT_OK;
    }
    snprintf(cli.failed, sizeof(cli.failed), "%s", cmd);
    if (cli.echo) {
        printf("mcd> %s\n", cmd);
    }
    if (!split_words(cmd, &argc, argv)) {
        return OUT_FAILED;
    }
    argv[argc] = NULL;
    c = find_command(argv[0]);
    if (!c) {
        fail("unknown command '%s' (try 'help')", argv[0]);
        return OUT_FAILED;
    }
    if (argc - 1 < c->min_args ||
        (c->max_args >= 0 && argc - 1 > c->max_args)) {
        fail("usage: %s", c->usage);
        return OUT_FAILED;
    }
    if (c->fn == cmd_quit) {
        return OUT_QUIT;
    }
    return c->fn(argc, argv) ? OUT_OK : OUT_FAILED;
}

/*
 * A line: commands separated by ';' outside quotes, '#' starts a
 * comment.  Stops at the first failure unless @keep_going.
 */
static Outcome run_line(char *line, bool keep_going, bool *any_failed)
{
    char *start = line, *p;
    bool quoted = false, end;
    Outcome r;

    for (p = line;; p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (*p != '\0' && (quoted || (*p != ';' && *p != '#'))) {
            continue;
        }
        end = *p == '\0' || *p == '#';

        *p = '\0';
        r = run_command(start);
        fflush(stdout);
        if (r == OUT_QUIT) {
            return r;
        }
        if (r == OUT_FAILED) {
            *any_failed = true;
            if (!keep_going) {
                return r;
            }
        }
        if (end) {
            return OUT_OK;
        }
        start = p + 1;
    }
}

typedef struct Source {
    char kind;                  /* 'e' or 'f' */
    const char *text;           /* the commands, or the file name */
} Source;

/* Read and run the lines of @f; @interactive prompts. */
static Outcome run_stream(FILE *f, const char *name, bool interactive,
                          bool keep_going, bool *any_failed)
{
    char line[MAX_LINE];
    unsigned int lineno = 0;
    size_t len;
    Outcome r;

    for (;;) {
        if (interactive) {
            printf("mcd> ");
            fflush(stdout);
        }
        if (!fgets(line, sizeof(line), f)) {
            if (interactive) {
                printf("\n");
            }
            return OUT_OK;
        }
        lineno++;
        len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            int ch;

            while ((ch = fgetc(f)) != EOF && ch != '\n') {
                /* drop the rest of the line */
            }
            fail("%s:%u: line too long", name, lineno);
            *any_failed = true;
            if (!interactive && !keep_going) {
                return OUT_FAILED;
            }
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        r = run_line(line, keep_going || interactive, any_failed);
        if (r == OUT_QUIT) {
            return r;
        }
        if (r == OUT_FAILED && !interactive) {
            fprintf(stderr, "mcd-cli: stopped at %s:%u: %s\n", name, lineno,
                    cli.failed);
            return r;
        }
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mcd-cli [OPTION]...\n"
            "A command line client of QEMU's MCD stub through the MCD API "
            "(libmcd).\n"
            "\n"
            "  -c, --connect HOST:PORT  connect first (also the default of "
            "'connect')\n"
            "  -e, --execute 'CMD; CMD' run these commands (repeatable)\n"
            "  -f, --file SCRIPT        run the commands of SCRIPT, '-' for "
            "stdin\n"
            "                           (repeatable)\n"
            "  -k, --keep-going         do not stop at the first failing "
            "command\n"
            "  -x, --echo               print each command before its "
            "output\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "Without -e and -f, commands come from stdin: interactively with "
            "a prompt\n"
            "on a terminal.  'help' lists the commands.  Exit status: 0 if "
            "every command\n"
            "succeeded, 1 if one failed, 2 for bad options.\n");
}

/* Run the commands of -e and -f, or of stdin; false if one failed. */
static bool run_sources(const Source *sources, int n_sources,
                        bool keep_going)
{
    bool any_failed = false;
    Outcome r = OUT_OK;
    char *line;
    FILE *f;
    int i;

    if (n_sources == 0) {
        run_stream(stdin, "stdin", isatty(STDIN_FILENO), keep_going,
                   &any_failed);
        return !any_failed;
    }
    for (i = 0; i < n_sources && r != OUT_QUIT; i++) {
        if (sources[i].kind == 'e') {
            line = strdup(sources[i].text);
            if (!line) {
                return fail("out of memory");
            }
            r = run_line(line, keep_going, &any_failed);
            free(line);
            if (r == OUT_FAILED) {
                fprintf(stderr, "mcd-cli: stopped at -e: %s\n", cli.failed);
            }
        } else if (strcmp(sources[i].text, "-") == 0) {
            r = run_stream(stdin, "stdin", false, keep_going, &any_failed);
        } else {
            f = fopen(sources[i].text, "r");
            if (!f) {
                fail("cannot open %s: %s", sources[i].text, strerror(errno));
                r = OUT_FAILED;
                any_failed = true;
            } else {
                r = run_stream(f, sources[i].text, false, keep_going,
                               &any_failed);
                fclose(f);
            }
        }
        if (r == OUT_FAILED && !keep_going) {
            break;
        }
    }
    return !any_failed;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        { "connect", required_argument, NULL, 'c' },
        { "execute", required_argument, NULL, 'e' },
        { "file", required_argument, NULL, 'f' },
        { "keep-going", no_argument, NULL, 'k' },
        { "echo", no_argument, NULL, 'x' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    Source *sources;
    int n_sources = 0, opt, i, status = 0;
    const char *target = NULL;
    bool keep_going = false;
    char cmd[600];

    sources = calloc(argc, sizeof(*sources));
    if (!sources) {
        return 1;
    }
    while ((opt = getopt_long(argc, argv, "c:e:f:kxhV", options, NULL)) !=
           -1) {
        switch (opt) {
        case 'c':
            target = optarg;
            cli.default_target = optarg;
            break;
        case 'e':
        case 'f':
            sources[n_sources].kind = opt;
            sources[n_sources].text = optarg;
            n_sources++;
            break;
        case 'k':
            keep_going = true;
            break;
        case 'x':
            cli.echo = true;
            break;
        case 'h':
            usage(stdout);
            goto out;
        case 'V':
            if (!initialize()) {
                status = 1;
                goto out;
            }
            printf("mcd-cli %s, with %s %u.%u.%u (MCD API %u.%u)\n",
                   CLI_VERSION, cli.impl.vendor, cli.impl.v_imp_major,
                   cli.impl.v_imp_minor, cli.impl.v_imp_build,
                   cli.impl.v_api.v_api_major, cli.impl.v_api.v_api_minor);
            goto out;
        default:
            usage(stderr);
            status = 2;
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mcd-cli: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        status = 2;
        goto out;
    }
    for (i = 0; i < n_sources; i++) {
        if (sources[i].kind == 'f' && strcmp(sources[i].text, "-") != 0 &&
            access(sources[i].text, R_OK) != 0) {
            fprintf(stderr, "mcd-cli: cannot read %s: %s\n",
                    sources[i].text, strerror(errno));
            status = 2;
            goto out;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (!initialize()) {
        status = 1;
        goto out;
    }
    if (target) {
        snprintf(cmd, sizeof(cmd), "connect %s", target);
        if (run_command(cmd) != OUT_OK) {
            status = 1;
            goto out;
        }
    }
    if (!run_sources(sources, n_sources, keep_going)) {
        status = 1;
    }
    if (!disconnect()) {
        status = 1;
    }
out:
    if (cli.initialized) {
        mcd_exit_f();
    }
    free(cli.cores);
    free(sources);
    return status;
}
