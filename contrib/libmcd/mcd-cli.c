/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: an interactive and scriptable command line client of the MCD
 * API, linked with libmcd, for QEMU's MCD stub.
 *
 * libmcd and mcd-cli are MIT licensed, so that proprietary debuggers may
 * load the library.
 *
 *   mcd-cli [-c host:port] [--elf FILE] [-k] [-x] [-e 'cmd; cmd' ...]
 *           [-f script ...]
 *
 * mcd-cli uses only the public MCD API of mcd_api.h: it is as much an
 * example of driving the API as a tool.  "help" lists the commands.
 * Besides the MCD API it has symbols and loadable segments of ELF files
 * (cli-elf.c), disassembly (cli-disas.c, capstone), line editing and
 * history on a terminal (cli-line.c, libedit) and progress bars for
 * big transfers (cli-progress.c).
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "mcd_api.h"
#include "cli-disas.h"
#include "cli-elf.h"
#include "cli-line.h"
#include "cli-progress.h"

#define CLI_VERSION "1.1.0"
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define MAX_LINE 8192
#define MAX_ARGS 256
/* The most bytes one read or write moves. */
#define MAX_MEM_LEN (1024 * 1024)
/* The default of "wait", in seconds. */
#define DEFAULT_WAIT_S 10.0
/* The bytes of one transaction list of dump, restore and load. */
#define TRANSFER_CHUNK (1024 * 1024)
/* The most instructions one disas shows. */
#define MAX_DISAS 1024

/* The instruction sets of the cores that mcd-cli knows. */
typedef enum Family {
    FAMILY_NONE,
    FAMILY_ARM64,               /* x0...: AArch64, maybe in AArch32 state */
    FAMILY_ARM,                 /* r0... and cpsr */
    FAMILY_M68K,                /* d0... and a0... */
} Family;

/* Set by SIGINT during long commands: stop waiting or transferring. */
static volatile sig_atomic_t interrupted;

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
    bool have_family;
    Family family;

    CliElf *elf;                        /* symbols, or NULL */

    /* where "x" without an address goes on, in which unit */
    bool x_valid;
    uint32_t x_space;
    uint64_t x_next;
    unsigned int x_unit;
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
    return cli_now();
}

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/*
 * Ctrl-C during a long command (wait, dump, restore, load) ends the
 * command instead of mcd-cli: catch SIGINT while it runs.  signal(), as
 * on Windows too; a library call under way finishes first.
 */
static void catch_sigint(bool on)
{
    static void (*old)(int);
    static bool caught;

    if (on && !caught) {
        interrupted = 0;
        old = signal(SIGINT, on_sigint);
        caught = old != SIG_ERR;
    } else if (!on && caught) {
        signal(SIGINT, old);
        caught = false;
    }
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
    cli.have_family = false;
    cli.x_valid = false;
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

static bool eval_expr(const char *text, uint64_t *value);

/* [SPACE:]ADDR, where ADDR is an expression (see eval_expr) */
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
    return eval_expr(text, addr);
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

/*
 * Read or write @len bytes of memory in one transaction list, of
 * transactions of the max payload at most; libmcd pipelines them.
 */
static bool mem_access(uint32_t space, uint64_t addr, uint8_t *buf,
                       uint32_t len, mcd_tx_access_type_et type)
{
    uint32_t chunk = chunk_size(), n = len / chunk + 1, i, done = 0;
    mcd_tx_st *tx;
    bool ok;

    tx = calloc(n, sizeof(*tx));
    if (!tx) {
        return fail("out of memory");
    }
    for (i = 0; done < len; i++) {
        tx[i].addr.address = addr + done;
        tx[i].addr.mem_space_id = space;
        tx[i].access_type = type;
        tx[i].data = buf + done;
        tx[i].num_bytes = len - done < chunk ? len - done : chunk;
        done += tx[i].num_bytes;
    }
    ok = execute(tx, i);
    free(tx);
    return ok;
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

/* A register by name, quietly: NULL if the core has none. */
static const mcd_register_info_st *reg_named(const char *name)
{
    uint32_t i;

    for (i = 0; i < cli.n_regs; i++) {
        if (strcasecmp(cli.regs[i].regname, name) == 0) {
            return &cli.regs[i];
        }
    }
    return NULL;
}

/* The value of register @name (at most 64 bits), quietly. */
static bool read_reg_value(const char *name, uint64_t *value)
{
    const mcd_register_info_st *r;
    uint8_t buf[8] = { 0 };
    bool ok = false;

    cli.quiet++;
    r = read_regs() ? reg_named(name) : NULL;
    if (r && reg_bytes(r) <= sizeof(buf)) {
        ok = reg_access(r, buf, MCD_TX_AT_R);
        *value = le_value(buf, reg_bytes(r));
    }
    cli.quiet--;
    return ok;
}

/*
 * Symbols and instruction sets
 */

/* " <func+0x10>" for @addr if a symbol has it, else "". */
static const char *sym_suffix(uint64_t addr, char *out, size_t size)
{
    const CliSym *sym;
    uint64_t off = 0;

    out[0] = '\0';
    sym = cli.elf ? cli_elf_lookup(cli.elf, addr, &off) : NULL;
    if (sym) {
        if (off) {
            snprintf(out, size, " <%s+0x%" PRIx64 ">", sym->name, off);
        } else {
            snprintf(out, size, " <%s>", sym->name);
        }
    }
    return out;
}

/* What the core's register names say about its instruction set. */
static Family core_family(void)
{
    const mcd_register_info_st *pc;

    if (cli.have_family) {
        return cli.family;
    }
    cli.family = FAMILY_NONE;
    cli.quiet++;
    if (read_regs()) {
        pc = reg_named("pc");
        if (reg_named("x0") || (pc && pc->regsize == 64 &&
                                reg_named("cpsr"))) {
            cli.family = FAMILY_ARM64;
        } else if (reg_named("r0") && reg_named("cpsr")) {
            cli.family = FAMILY_ARM;
        } else if (reg_named("d0") && reg_named("a0")) {
            cli.family = FAMILY_M68K;
        } else {
            cli.family = FAMILY_NONE;
        }
        cli.have_family = true;
    }
    cli.quiet--;
    return cli.family;
}

/*
 * The instruction set the core runs now: AArch64, or in AArch32 (an
 * AArch64 core with PSTATE.nRW set, or an ARM core) the CPSR's T bit
 * tells ARM from Thumb.
 */
static CliIsa current_isa(void)
{
    uint64_t cpsr = 0;

    switch (core_family()) {
    case FAMILY_ARM64:
        if (read_reg_value("cpsr", &cpsr) && (cpsr & 0x10)) {
            return cpsr & 0x20 ? CLI_ISA_THUMB : CLI_ISA_ARM;
        }
        return CLI_ISA_A64;
    case FAMILY_ARM:
        if (read_reg_value("cpsr", &cpsr) && (cpsr & 0x20)) {
            return CLI_ISA_THUMB;
        }
        return CLI_ISA_ARM;
    case FAMILY_M68K:
        return CLI_ISA_M68K;
    default:
        return CLI_ISA_NONE;
    }
}

/*
 * What the ELF file says about the code at @addr: the ARM mapping
 * symbols, else a Thumb function around it.  CLI_ISA_NONE: nothing;
 * *data: the mapping symbols say data.
 */
static CliIsa elf_isa(uint64_t addr, bool *data)
{
    const CliSym *sym;
    uint64_t off;
    Family family = core_family();
    uint16_t machine;

    *data = false;
    if (!cli.elf || (family != FAMILY_ARM && family != FAMILY_ARM64)) {
        return CLI_ISA_NONE;
    }
    machine = cli_elf_machine(cli.elf);
    if (machine != CLI_EM_ARM &&
        (machine != CLI_EM_AARCH64 || family != FAMILY_ARM64)) {
        return CLI_ISA_NONE;
    }
    switch (cli_elf_mapping(cli.elf, addr)) {
    case 'a':
        return CLI_ISA_ARM;
    case 't':
        return CLI_ISA_THUMB;
    case 'x':
        return CLI_ISA_A64;
    case 'd':
        *data = true;
        return CLI_ISA_NONE;
    }
    sym = cli_elf_lookup(cli.elf, addr, &off);
    if (sym && sym->thumb) {
        return CLI_ISA_THUMB;
    }
    return CLI_ISA_NONE;
}

/*
 * Expressions: terms joined by + and -, without blanks.  A term is a
 * number (decimal or 0x hex), a symbol of the ELF file, or $REG, the
 * value of a register.  "main+0x10", "$sp-16", "counter".
 */
static bool eval_term(const char *text, size_t len, uint64_t *value)
{
    char term[256];
    const CliSym *sym;

    if (len == 0 || len >= sizeof(term)) {
        return fail("bad address: expected a number, a symbol or $REG");
    }
    memcpy(term, text, len);
    term[len] = '\0';
    if (isdigit((unsigned char)term[0])) {
        return number_arg(term, "number", value);
    }
    if (term[0] == '$') {
        const mcd_register_info_st *r;
        uint8_t buf[8] = { 0 };

        if (!need_core() || !find_reg(term + 1, &r)) {
            return false;
        }
        if (reg_bytes(r) > sizeof(buf)) {
            return fail("register %s is wider than 64 bits", r->regname);
        }
        if (!reg_access(r, buf, MCD_TX_AT_R)) {
            return false;
        }
        *value = le_value(buf, reg_bytes(r));
        return true;
    }
    if (!cli.elf) {
        return fail("no symbol '%s': no symbols loaded (use 'file ELF' or "
                    "--elf; numbers are decimal or 0x hex)", term);
    }
    sym = cli_elf_find(cli.elf, term);
    if (!sym) {
        return fail("no symbol '%s' in %s (see 'syms')", term,
                    cli_elf_path(cli.elf));
    }
    *value = sym->addr;
    return true;
}

static bool eval_expr(const char *text, uint64_t *value)
{
    const char *p = text, *end;
    uint64_t v, sum = 0;
    bool minus = false;

    for (;;) {
        end = p + strcspn(p, "+-");
        if (!eval_term(p, end - p, &v)) {
            return false;
        }
        sum = minus ? sum - v : sum + v;
        if (*end == '\0') {
            break;
        }
        minus = *end == '-';
        p = end + 1;
    }
    *value = sum;
    return true;
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

/* Whether memory space @id holds big-endian data. */
static bool space_big_endian(uint32_t id)
{
    const mcd_memspace_st *ms = space_by_id(id);

    return ms && ms->endian == MCD_ENDIAN_BIG;
}

/* An address as "0x40200000", 8 hex digits below 4 GiB, else 16. */
static void format_addr(uint64_t addr, char *out, size_t size)
{
    snprintf(out, size, "0x%0*" PRIx64, addr > 0xffffffffULL ? 16 : 8,
             addr);
}

/* The unit of @size bytes at @p in byte order @big. */
static uint64_t unit_value(const uint8_t *p, unsigned int size, bool big)
{
    uint64_t v = 0;
    unsigned int i;

    for (i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * (big ? size - 1 - i : i));
    }
    return v;
}

/*
 * One line of disassembly of the instruction in @buf (@len bytes) at
 * @addr: "=> 0x40200004 <main+0x4>:  17ffffff  b       #0x40200000
 * <main>", with "=>" if @at_pc.  @data: the mapping symbols say data.
 * Returns the bytes it took.
 */
static unsigned int print_insn(CliIsa isa, bool big, bool data,
                               uint64_t addr, const uint8_t *buf, size_t len,
                               bool at_pc, int label_width)
{
    unsigned int unit = cli_isa_min_size(isa), width, size, i, col = 0;
    char where[32], sym[300], target[300], bytes[40], label[340];
    CliInsn insn;
    bool ok;

    ok = !data && cli_disas_one(isa, big, addr, buf, len, &insn);
    size = ok ? insn.size : unit;
    if (size > len) {
        size = len;
    }
    /* the instruction in units of the instruction set, as manuals show */
    width = isa == CLI_ISA_M68K ? 24 : isa == CLI_ISA_THUMB ? 9 : 8;
    bytes[0] = '\0';
    for (i = 0; i + unit <= size && col + 2 * unit + 1 < sizeof(bytes);
         i += unit) {
        col += snprintf(bytes + col, sizeof(bytes) - col, "%s%0*" PRIx64,
                        i ? " " : "", 2 * unit,
                        unit_value(buf + i, unit, big));
    }
    format_addr(addr, where, sizeof(where));
    snprintf(label, sizeof(label), "%s%s:", where,
             sym_suffix(addr, sym, sizeof(sym)));
    printf("%s%-*s  %-*s", at_pc ? "=> " : "   ", label_width, label,
           (int)width, bytes);
    if (ok) {
        target[0] = '\0';
        if (insn.has_target) {
            sym_suffix(insn.target, target, sizeof(target));
        }
        if (insn.operands[0]) {
            printf("  %-7s %s%s", insn.mnemonic, insn.operands, target);
        } else {
            printf("  %s", insn.mnemonic);
        }
    } else if (cli_disas_available() || data) {
        printf("  %-7s 0x%0*" PRIx64, unit == 2 ? ".hword" : ".word",
               2 * unit, unit_value(buf, unit, big));
    }
    printf("\n");
    return size;
}

/*
 * Disassemble @n instructions from @addr in memory space @space; mark
 * the one at @pc.  @isa: the instruction set, else (CLI_ISA_NONE)
 * what the ELF file says at each address and the core runs.
 */
static bool disassemble(uint32_t space, uint64_t addr, uint32_t n,
                        CliIsa isa, bool have_pc, uint64_t pc);

/* The pc and its instruction, after a stop: "=> 0x...: insn". */
static void print_pc_insn(void)
{
    uint32_t space;
    uint64_t pc;
    CliIsa isa;

    cli.quiet++;
    if (read_pc(&pc) && default_space(&space)) {
        isa = current_isa();
        if (isa != CLI_ISA_NONE) {
            disassemble(space, pc, 1, isa, true, pc);
        }
    }
    cli.quiet--;
}

/*
 * "core 0: debug, pc 0x40200004 <main+0x4>; stopped at ... (trigger
 * 1); info", and when the core does not run, the instruction at the pc.
 */
static void print_state(const mcd_core_state_st *st)
{
    char sym[300];
    uint64_t pc;
    bool have_pc;

    printf("core %u: %s", cli.core_index, state_name(st->state));
    have_pc = read_pc(&pc);
    if (have_pc) {
        printf(", pc 0x%" PRIx64 "%s", pc, sym_suffix(pc, sym, sizeof(sym)));
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
    if (have_pc && st->state != MCD_CORE_STATE_RUNNING) {
        print_pc_insn();
    }
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
    const char *brief;          /* for --help */
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

/* Registers whose values are code addresses: shown as symbols too. */
static bool code_reg(const char *name)
{
    return strcasecmp(name, "pc") == 0 || strcasecmp(name, "lr") == 0 ||
           strcasecmp(name, "x30") == 0;
}

/*
 * Read the values of the @n registers @regs into @buf, register i at
 * @offset[i], little-endian, in one transaction list; after a register
 * that cannot be read (its @err set), on with the next one.
 */
static void read_reg_values(const mcd_register_info_st *regs, uint32_t n,
                            uint8_t *buf, const size_t *offset, char **err)
{
    mcd_error_info_st e;
    mcd_txlist_st list;
    mcd_tx_st *tx;
    uint32_t i, k = 0;

    tx = calloc(n ? n : 1, sizeof(*tx));
    if (!tx) {
        for (i = 0; i < n; i++) {
            err[i] = strdup("out of memory");
        }
        return;
    }
    for (i = 0; i < n; i++) {
        tx[i].addr = regs[i].addr;
        tx[i].access_type = MCD_TX_AT_R;
        tx[i].data = buf + offset[i];
        tx[i].num_bytes = reg_bytes(&regs[i]);
    }
    while (k < n) {
        list.tx = tx + k;
        list.num_tx = n - k;
        list.num_tx_ok = 0;
        if (mcd_execute_txlist_f(cli.core, &list) == MCD_RET_ACT_NONE &&
            list.num_tx_ok == n - k) {
            break;
        }
        k += list.num_tx_ok;
        if (k >= n) {
            break;
        }
        memset(&e, 0, sizeof(e));
        mcd_qry_error_info_f(cli.core, &e);
        err[k] = strdup(e.error_str[0] ? e.error_str : "cannot read");
        k++;
    }
    for (i = 0; i < n; i++) {
        if (!err[i] && reg_big_endian(&regs[i])) {
            reverse_bytes(buf + offset[i], reg_bytes(&regs[i]));
        }
    }
    free(tx);
}

static bool cmd_regs(int argc, char **argv)
{
    mcd_register_info_st *regs = NULL;
    uint32_t group = 0, n = 0, i;
    int width = 4, gwidth = 5;
    size_t *offset = NULL, total = 0, len, text_size;
    uint8_t *buf = NULL;
    char **err = NULL, *text = NULL, sym[300];
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
    offset = calloc(n ? n : 1, sizeof(*offset));
    err = calloc(n ? n : 1, sizeof(*err));
    if (!regs || !offset || !err) {
        fail("out of memory");
        goto out;
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
        if ((int)strlen(group_name(regs[i].reg_group_id)) > gwidth) {
            gwidth = strlen(group_name(regs[i].reg_group_id));
        }
        offset[i] = total;
        total += reg_bytes(&regs[i]);
    }
    buf = calloc(total ? total : 1, 1);
    text_size = 2 * total + MCD_INFO_STR_LEN + 8;
    text = malloc(text_size);
    if (!buf || !text) {
        fail("out of memory");
        goto out;
    }
    /* every value in one transaction list */
    read_reg_values(regs, n, buf, offset, err);
    printf("%-*s %6s %5s  %-*s  %s\n", width, "name", "id", "bits", gwidth,
           "group", "value");
    for (i = 0; i < n; i++) {
        len = reg_bytes(&regs[i]);
        if (err[i]) {
            snprintf(text, text_size, "<%s>", err[i]);
        } else {
            format_value(buf + offset[i], len, text, text_size);
        }
        sym[0] = '\0';
        if (!err[i] && code_reg(regs[i].regname)) {
            sym_suffix(le_value(buf + offset[i], len), sym, sizeof(sym));
        }
        printf("%-*s %6" PRIu64 " %5u  %-*s  %s%s\n", width, regs[i].regname,
               regs[i].addr.address, regs[i].regsize, gwidth,
               group_name(regs[i].reg_group_id), text, sym);
    }
    printf("%u register%s\n", n, n == 1 ? "" : "s");
    ok = true;
out:
    for (i = 0; err && i < n; i++) {
        free(err[i]);
    }
    free(err);
    free(offset);
    free(buf);
    free(text);
    free(regs);
    return ok;
}

static bool cmd_reg(int argc, char **argv)
{
    const mcd_register_info_st *r = NULL;
    uint8_t *buf;
    size_t len;
    char text[2 * 4096 + 8], sym[300];
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
    sym[0] = '\0';
    if (code_reg(r->regname)) {
        sym_suffix(le_value(buf, len), sym, sizeof(sym));
    }
    printf("%s = %s%s\n", r->regname, text, sym);
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

static bool wait_stop(double timeout);

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
    /* the step returns once it started: wait for its end */
    if (wait_stop(10.0 + n / 1e6)) {
        return true;
    }
    /* the library does not end steps that take too long: end them */
    if (mcd_stop_f(cli.core, FALSE) == MCD_RET_ACT_NONE) {
        fprintf(stderr, "core %u: its steps stopped\n", cli.core_index);
    }
    return false;
}

static bool cmd_state(int argc, char **argv)
{
    (void)argc, (void)argv;
    return need_core() && show_state();
}

/*
 * Wait until the core no longer runs, @timeout seconds at most (< 0:
 * for ever), and show where it stopped.  Ctrl-C stops the core.
 */
static bool wait_stop(double timeout)
{
    double deadline = now_s() + timeout;
    unsigned int delay = 1;
    mcd_core_state_st st;
    bool ok = false;

    catch_sigint(true);
    for (;;) {
        if (!query_state(&st)) {
            break;
        }
        if (st.state != MCD_CORE_STATE_RUNNING) {
            print_state(&st);
            ok = true;
            break;
        }
        if (interrupted) {
            interrupted = 0;
            printf("interrupted: stopping core %u\n", cli.core_index);
            if (mcd_stop_f(cli.core, FALSE) != MCD_RET_ACT_NONE) {
                api_fail(cli.core, "mcd_stop_f");
                break;
            }
            continue;
        }
        if (timeout >= 0 && now_s() >= deadline) {
            fail("core %u still running after %g s", cli.core_index,
                 timeout);
            break;
        }
        sleep_ms(delay);
        delay = delay < 50 ? delay * 2 : 50;
    }
    catch_sigint(false);
    return ok;
}

static bool timeout_arg(const char *text, double *timeout)
{
    char *end;

    errno = 0;
    *timeout = strtod(text, &end);
    if (errno || *end || end == text || !(*timeout >= 0) ||
        *timeout > 1e6) {
        return fail("bad timeout '%s': seconds", text);
    }
    return true;
}

static bool cmd_wait(int argc, char **argv)
{
    double timeout = DEFAULT_WAIT_S;

    if (!need_core() || (argc > 1 && !timeout_arg(argv[1], &timeout))) {
        return false;
    }
    return wait_stop(timeout);
}

static bool cmd_continue(int argc, char **argv)
{
    double timeout = -1;

    if (!need_core() || (argc > 1 && !timeout_arg(argv[1], &timeout))) {
        return false;
    }
    if (mcd_run_f(cli.core, FALSE) != MCD_RET_ACT_NONE) {
        return api_fail(cli.core, "mcd_run_f");
    }
    printf("core %u: running\n", cli.core_index);
    return wait_stop(timeout);
}

static bool create_trigger(mcd_trig_type_et type, uint32_t space,
                           uint64_t addr, uint64_t len)
{
    mcd_trig_simple_core_st trig;
    uint32_t id = 0;
    char sym[300];

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
        printf("breakpoint %u at %s:0x%" PRIx64 "%s\n", id,
               space_name(space), addr, sym_suffix(addr, sym, sizeof(sym)));
    } else {
        printf("watchpoint %u (%s) at %s:0x%" PRIx64 "%s, %" PRIu64
               " byte%s%s\n", id,
               type == MCD_TRIG_TYPE_READ ? "read"
               : type == MCD_TRIG_TYPE_WRITE ? "write" : "read/write",
               space_name(space), addr, sym_suffix(addr, sym, sizeof(sym)),
               trig.addr_range + 1,
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
    char where[MCD_MEM_SPACE_NAME_LEN + 24 + 300];
    char sym[300];

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
        snprintf(where, sizeof(where), "%s:0x%" PRIx64 "%s",
                 space_name(trig.simple.addr_start.mem_space_id),
                 trig.simple.addr_start.address,
                 sym_suffix(trig.simple.addr_start.address, sym,
                            sizeof(sym)));
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

/*
 * Memory display, disassembly, symbols, transfers
 */

static bool disassemble(uint32_t space, uint64_t addr, uint32_t n,
                        CliIsa isa, bool have_pc, uint64_t pc)
{
    CliIsa base = isa, *isas = NULL;
    uint64_t len, off;
    bool big = space_big_endian(space), *data = NULL;
    char where[32], sym[300], label[340];
    uint32_t i, *offs = NULL;
    int width = 0, w;
    uint8_t *buf;
    CliInsn insn;

    if (base == CLI_ISA_NONE) {
        bool d;

        base = elf_isa(addr, &d);
        if (base == CLI_ISA_NONE) {
            base = current_isa();
        }
    }
    if (base == CLI_ISA_NONE) {
        return fail("no disassembly for core %u (%s): mcd-cli knows "
                    "AArch64, ARM, Thumb and m68k", cli.core_index,
                    cli.cores[cli.core_index].core);
    }
    len = (uint64_t)n * cli_isa_max_size(base);
    buf = malloc(len);
    offs = calloc(n, sizeof(*offs));
    isas = calloc(n, sizeof(*isas));
    data = calloc(n, sizeof(*data));
    if (!buf || !offs || !isas || !data) {
        free(buf);
        free(offs);
        free(isas);
        free(data);
        return fail("out of memory");
    }
    if (!mem_access(space, addr, buf, len, MCD_TX_AT_R)) {
        n = 0;
    }
    /* where each instruction starts, in which instruction set */
    for (i = 0, off = 0; i < n && off < len; i++) {
        offs[i] = off;
        isas[i] = base;
        if (isa == CLI_ISA_NONE) {
            CliIsa e = elf_isa(addr + off, &data[i]);

            if (e != CLI_ISA_NONE) {
                isas[i] = e;
            }
        }
        if (!data[i] && cli_disas_one(isas[i], big, addr + off, buf + off,
                                      len - off, &insn)) {
            off += insn.size;
        } else {
            off += cli_isa_min_size(isas[i]);
        }
        format_addr(addr + offs[i], where, sizeof(where));
        w = snprintf(label, sizeof(label), "%s%s:", where,
                     sym_suffix(addr + offs[i], sym, sizeof(sym)));
        width = w > width ? w : width;
    }
    n = i;
    /* the lines, their labels lined up */
    for (i = 0; i < n; i++) {
        print_insn(isas[i], big, data[i], addr + offs[i], buf + offs[i],
                   len - offs[i], have_pc && pc == addr + offs[i], width);
    }
    free(buf);
    free(offs);
    free(isas);
    free(data);
    return n > 0;
}

/* disas [ADDR] [N] */
static bool cmd_disas(int argc, char **argv)
{
    uint64_t addr, pc = 0, n = 8;
    uint32_t space;
    bool have_pc;

    if (!cli_disas_available()) {
        return fail("no disassembly: mcd-cli was built without capstone "
                    "(install libcapstone-dev and rebuild)");
    }
    if (!need_core()) {
        return false;
    }
    have_pc = read_pc(&pc);
    if (argc > 1) {
        if (!parse_address(argv[1], &space, &addr)) {
            return false;
        }
    } else if (!default_space(&space)) {
        return false;
    } else if (!have_pc) {
        return fail("cannot read the pc: give an address");
    } else {
        addr = pc;
    }
    if (argc > 2) {
        if (!number_arg(argv[2], "count", &n)) {
            return false;
        }
        if (n == 0 || n > MAX_DISAS) {
            return fail("bad count %" PRIu64 ": 1 to %u", n, MAX_DISAS);
        }
    }
    return disassemble(space, addr, n, CLI_ISA_NONE, have_pc, pc);
}

/* "/NU" of x: a count and a unit b, h, w or g */
static bool x_format(const char *text, uint64_t *count, unsigned int *unit)
{
    const char *p = text + 1;
    char *end;

    *count = 0;
    if (isdigit((unsigned char)*p)) {
        errno = 0;
        *count = strtoull(p, &end, 10);
        if (errno || *count == 0) {
            return fail("bad count in '%s'", text);
        }
        p = end;
    }
    if (*p) {
        const char *units = "bhwg", *u = strchr(units, *p);

        if (!u) {
            p = "?";            /* bad */
        } else {
            *unit = 1u << (u - units);
            p++;
        }
    }
    if (*p || p == text + 1) {
        return fail("bad format '%s': /N, /U or /NU with a count N and a "
                    "unit U of b (bytes), h (halfwords), w (words) or g "
                    "(8 bytes)", text);
    }
    return true;
}

/* The lines of x: "0x40200000 <main>:  ...", 16 bytes a line. */
static void print_units(uint32_t space, uint64_t addr, const uint8_t *buf,
                        uint32_t len, unsigned int unit)
{
    bool big = space_big_endian(space);
    uint32_t off, i, lines = (len + 15) / 16;
    char where[32], sym[300], label[340];
    int width = 0, w;

    /* the labels line up */
    for (off = 0; off < len; off += 16) {
        format_addr(addr + off, where, sizeof(where));
        w = snprintf(label, sizeof(label), "%s%s:", where,
                     sym_suffix(addr + off, sym, sizeof(sym)));
        width = w > width ? w : width;
    }
    for (off = 0; lines--; off += 16) {
        format_addr(addr + off, where, sizeof(where));
        snprintf(label, sizeof(label), "%s%s:", where,
                 sym_suffix(addr + off, sym, sizeof(sym)));
        printf("%-*s", width, label);
        for (i = 0; i < 16 && off + i + unit <= len; i += unit) {
            if (unit == 1) {
                printf(" %02x", buf[off + i]);
            } else {
                printf(" 0x%0*" PRIx64, 2 * unit,
                       unit_value(buf + off + i, unit, big));
            }
        }
        if (unit == 1) {
            printf("%*s  ", 3 * (16 - i), "");
            for (i = 0; i < 16 && off + i < len; i++) {
                putchar(isprint(buf[off + i]) ? buf[off + i] : '.');
            }
        }
        putchar('\n');
    }
}

/* x[/NU] [ADDR]: N units of U bytes */
static bool cmd_x(int argc, char **argv)
{
    unsigned int unit = cli.x_valid ? cli.x_unit : 4;
    uint64_t count = 0, addr;
    uint32_t space;
    uint8_t *buf;
    int a = 1;

    if (!need_core()) {
        return false;
    }
    if (a < argc && argv[a][0] == '/') {
        if (!x_format(argv[a], &count, &unit)) {
            return false;
        }
        a++;
    }
    if (a < argc) {
        if (!parse_address(argv[a++], &space, &addr)) {
            return false;
        }
    } else if (cli.x_valid) {
        space = cli.x_space;
        addr = cli.x_next;
    } else {
        return fail("usage: x[/NU] ADDR");
    }
    if (a < argc) {
        return fail("usage: x[/NU] ADDR");
    }
    if (!count) {
        count = 64 / unit;
    }
    if (count > MAX_MEM_LEN / unit) {
        return fail("bad count %" PRIu64 ": at most %u bytes", count,
                    MAX_MEM_LEN);
    }
    buf = malloc(count * unit);
    if (!buf) {
        return fail("out of memory");
    }
    if (!mem_access(space, addr, buf, count * unit, MCD_TX_AT_R)) {
        free(buf);
        return false;
    }
    print_units(space, addr, buf, count * unit, unit);
    free(buf);
    cli.x_valid = true;
    cli.x_space = space;
    cli.x_next = addr + count * unit;
    cli.x_unit = unit;
    return true;
}

/* print EXPR */
static bool cmd_print(int argc, char **argv)
{
    char sym[300];
    uint64_t v;

    (void)argc;
    if (!eval_expr(argv[1], &v)) {
        return false;
    }
    printf("%s = 0x%" PRIx64 " (%" PRIu64 ")%s\n", argv[1], v, v,
           sym_suffix(v, sym, sizeof(sym)));
    return true;
}

/* A summary of @elf: "AArch64 ELF64 little-endian, 7 symbols, ..." */
static void print_elf(const CliElf *elf)
{
    char sym[300];

    printf("%s: %s ELF%d %s-endian, %zu symbol%s, %zu loadable segment%s, "
           "entry 0x%" PRIx64 "%s\n", cli_elf_path(elf),
           cli_elf_machine_name(elf), cli_elf_is64(elf) ? 64 : 32,
           cli_elf_big_endian(elf) ? "big" : "little", cli_elf_n_syms(elf),
           cli_elf_n_syms(elf) == 1 ? "" : "s", cli_elf_n_segs(elf),
           cli_elf_n_segs(elf) == 1 ? "" : "s", cli_elf_entry(elf),
           sym_suffix(cli_elf_entry(elf), sym, sizeof(sym)));
}

static bool open_elf(const char *path, CliElf **elf)
{
    char err[600];

    *elf = cli_elf_open(path, err, sizeof(err));
    return *elf ? true : fail("%s", err);
}

/* file [FILE]: the ELF file of the symbols */
static bool cmd_file(int argc, char **argv)
{
    CliElf *elf;

    if (argc < 2) {
        if (!cli.elf) {
            printf("no ELF file (use 'file FILE')\n");
        } else {
            print_elf(cli.elf);
        }
        return true;
    }
    if (!open_elf(argv[1], &elf)) {
        return false;
    }
    cli_elf_free(cli.elf);
    cli.elf = elf;
    print_elf(elf);
    return true;
}

static const char *sym_type_name(const CliSym *s)
{
    static const char *const names[] = { "notype", "object", "func",
                                         "section", "file", "common",
                                         "tls" };

    return s->type < sizeof(names) / sizeof(names[0]) ? names[s->type]
                                                      : "other";
}

/* syms [PATTERN] */
static bool cmd_syms(int argc, char **argv)
{
    const CliSym *s;
    char where[32];
    size_t i, n = 0;

    if (!cli.elf) {
        return fail("no symbols loaded (use 'file ELF' or --elf)");
    }
    for (i = 0; i < cli_elf_n_syms(cli.elf); i++) {
        s = cli_elf_sym(cli.elf, i);
        if (argc > 1 && !strstr(s->name, argv[1])) {
            continue;
        }
        format_addr(s->addr, where, sizeof(where));
        printf("%s %8" PRIu64 "  %-6s  %-6s  %s%s%s\n", where, s->size,
               sym_type_name(s), s->bind == 0 ? "local"
               : s->bind == 1 ? "global" : s->bind == 2 ? "weak" : "other",
               s->name, s->thumb ? " (thumb)" : "",
               s->abs ? " (constant)" : "");
        n++;
    }
    printf("%zu symbol%s\n", n, n == 1 ? "" : "s");
    return true;
}

/* A length: a number with an optional K, M or G (binary) suffix. */
static bool size_arg(const char *text, uint64_t *len)
{
    char num[64];
    size_t n = strlen(text);
    unsigned int shift = 0;

    if (n && n < sizeof(num) && strchr("kKmMgG", text[n - 1])) {
        shift = strchr("kK", text[n - 1]) ? 10
                : strchr("mM", text[n - 1]) ? 20 : 30;
        memcpy(num, text, n - 1);
        num[n - 1] = '\0';
        text = num;
    }
    if (!parse_u64(text, len) || *len == 0 || (*len << shift) >> shift !=
        *len) {
        return fail("bad length '%s': a number of bytes, with K, M or G "
                    "for KiB, MiB or GiB", text);
    }
    *len <<= shift;
    return true;
}

/* "16.0 MiB (16777216 bytes)", or "20 bytes" */
static void bytes_text(uint64_t bytes, char *out, size_t size)
{
    char text[24];

    cli_format_size(bytes, text, sizeof(text));
    if (bytes >= 1024) {
        snprintf(out, size, "%s (%" PRIu64 " bytes)", text, bytes);
    } else {
        snprintf(out, size, "%s", text);
    }
}

/* " in 1.20 s (13.3 MiB/s)" of "dumped 16.0 MiB ...", if it took time */
static void print_rate(uint64_t bytes, double seconds)
{
    if (seconds >= 0.01) {
        printf(" in %.2f s (%.1f MiB/s)", seconds,
               bytes / seconds / (1024 * 1024));
    }
    printf("\n");
}

/*
 * Move @len bytes between memory at @addr and a file, in transaction
 * lists of TRANSFER_CHUNK bytes: read memory into @f (@write false) or
 * write @f, or @data if not NULL, into memory.  Shows the progress in
 * @p and stops at Ctrl-C.
 */
static bool transfer(uint32_t space, uint64_t addr, uint64_t len, bool write,
                     FILE *f, const uint8_t *data, const char *file,
                     CliProgress *p, uint64_t *done)
{
    uint8_t *buf = NULL;
    uint64_t off;
    uint32_t n;
    bool ok = false;

    if (!data) {
        buf = malloc(TRANSFER_CHUNK);
        if (!buf) {
            return fail("out of memory");
        }
    }
    catch_sigint(true);
    for (off = 0; off < len; off += n) {
        n = len - off < TRANSFER_CHUNK ? len - off : TRANSFER_CHUNK;
        if (write && data) {
            if (!mem_access(space, addr + off, (uint8_t *)data + off, n,
                            MCD_TX_AT_W)) {
                goto out;
            }
        } else if (write) {
            if (fread(buf, 1, n, f) != n) {
                fail("cannot read %s: %s", file,
                     ferror(f) ? strerror(errno) : "file shrank");
                goto out;
            }
            if (!mem_access(space, addr + off, buf, n, MCD_TX_AT_W)) {
                goto out;
            }
        } else {
            if (!mem_access(space, addr + off, buf, n, MCD_TX_AT_R)) {
                goto out;
            }
            if (fwrite(buf, 1, n, f) != n) {
                fail("cannot write %s: %s", file, strerror(errno));
                goto out;
            }
        }
        *done += n;
        cli_progress_update(p, *done);
        if (interrupted) {
            fail("interrupted after %" PRIu64 " of %" PRIu64 " bytes",
                 off + n, len);
            goto out;
        }
    }
    ok = true;
out:
    catch_sigint(false);
    free(buf);
    return ok;
}

/* dump [SPACE:]ADDR LEN FILE */
static bool cmd_dump(int argc, char **argv)
{
    char size[64], sym[300];
    uint64_t addr, len, done = 0;
    uint32_t space;
    CliProgress p;
    double took;
    FILE *f;
    bool ok;

    (void)argc;
    if (!need_core() || !parse_address(argv[1], &space, &addr) ||
        !size_arg(argv[2], &len)) {
        return false;
    }
    f = fopen(argv[3], "wb");
    if (!f) {
        return fail("cannot create %s: %s", argv[3], strerror(errno));
    }
    cli_progress_start(&p, "dump", len);
    ok = transfer(space, addr, len, false, f, NULL, argv[3], &p, &done);
    took = cli_progress_end(&p);
    if (fclose(f) != 0 && ok) {
        ok = fail("cannot write %s: %s", argv[3], strerror(errno));
    }
    if (!ok) {
        fprintf(stderr, "%s: %" PRIu64 " bytes written\n", argv[3], done);
        return false;
    }
    bytes_text(len, size, sizeof(size));
    printf("dumped %s from %s:0x%" PRIx64 "%s to %s", size,
           space_name(space), addr, sym_suffix(addr, sym, sizeof(sym)),
           argv[3]);
    print_rate(len, took);
    return true;
}

/* restore FILE [SPACE:]ADDR */
static bool cmd_restore(int argc, char **argv)
{
    char size[64], sym[300];
    uint64_t addr, len, done = 0;
    uint32_t space;
    CliProgress p;
    double took;
    long end;
    FILE *f;
    bool ok;

    (void)argc;
    if (!need_core() || !parse_address(argv[2], &space, &addr)) {
        return false;
    }
    f = fopen(argv[1], "rb");
    if (!f) {
        return fail("cannot open %s: %s", argv[1], strerror(errno));
    }
    end = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (end < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return fail("cannot read %s: %s", argv[1], strerror(errno));
    }
    len = end;
    if (len == 0) {
        fclose(f);
        return fail("%s is empty", argv[1]);
    }
    cli_progress_start(&p, "restore", len);
    ok = transfer(space, addr, len, true, f, NULL, argv[1], &p, &done);
    took = cli_progress_end(&p);
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%" PRIu64 " bytes of %s restored\n", done, argv[1]);
        return false;
    }
    bytes_text(len, size, sizeof(size));
    printf("restored %s from %s to %s:0x%" PRIx64 "%s", size, argv[1],
           space_name(space), addr, sym_suffix(addr, sym, sizeof(sym)));
    print_rate(len, took);
    return true;
}

/* Set the pc to @value, if the core is stopped. */
static bool set_pc(uint64_t value)
{
    const mcd_register_info_st *r;
    uint8_t buf[8];
    size_t i;

    if (!find_reg("pc", &r)) {
        return false;
    }
    if (reg_bytes(r) > sizeof(buf)) {
        return fail("the pc is wider than 64 bits");
    }
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = value >> (8 * i);
    }
    return reg_access(r, buf, MCD_TX_AT_WR);
}

/* load [FILE]: the PT_LOAD segments into memory, the pc to the entry */
static bool cmd_load(int argc, char **argv)
{
    CliElf *elf = cli.elf;
    const CliSeg *seg;
    mcd_core_state_st st;
    char size[64], sym[300], where[32];
    uint64_t total = 0, done = 0, entry;
    uint32_t space;
    size_t i, n = 0;
    CliProgress p;
    double took;
    bool ok = true;

    if (!need_core() || !default_space(&space)) {
        return false;
    }
    if (argc > 1 && !open_elf(argv[1], &elf)) {
        return false;
    }
    if (!elf) {
        return fail("no ELF file: 'load FILE', or 'file FILE' first");
    }
    for (i = 0; i < cli_elf_n_segs(elf); i++) {
        total += cli_elf_seg(elf, i)->filesz;
    }
    cli_progress_start(&p, "load", total);
    for (i = 0; ok && i < cli_elf_n_segs(elf); i++) {
        seg = cli_elf_seg(elf, i);
        if (!seg->filesz) {
            continue;
        }
        ok = transfer(space, seg->paddr, seg->filesz, true, NULL,
                      cli_elf_seg_data(elf, seg), cli_elf_path(elf), &p,
                      &done);
        if (ok) {
            cli_progress_end(&p);
            format_addr(seg->paddr, where, sizeof(where));
            printf("segment %zu: %s%s, %" PRIu64 " bytes%s\n", i, where,
                   sym_suffix(seg->paddr, sym, sizeof(sym)), seg->filesz,
                   seg->memsz > seg->filesz ? " (and bss, not cleared)"
                                            : "");
            n++;
        }
    }
    took = cli_progress_end(&p);
    if (ok) {
        bytes_text(total, size, sizeof(size));
        printf("loaded %s in %zu segment%s of %s to %s", size, n,
               n == 1 ? "" : "s", cli_elf_path(elf), space_name(space));
        print_rate(total, took);
        entry = cli_elf_entry(elf);
        if (cli_elf_machine(elf) == CLI_EM_ARM) {
            entry &= ~(uint64_t)1;
        }
        if (!query_state(&st)) {
            ok = false;
        } else if (st.state == MCD_CORE_STATE_RUNNING) {
            printf("core %u runs: the pc stays\n", cli.core_index);
        } else if (set_pc(entry)) {
            printf("pc = 0x%" PRIx64 "%s\n", entry,
                   sym_suffix(entry, sym, sizeof(sym)));
        } else {
            ok = false;
        }
    }
    if (elf != cli.elf) {
        if (!cli.elf) {
            /* the symbols of the file that runs now */
            cli.elf = elf;
        } else {
            cli_elf_free(elf);
        }
    }
    return ok;
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
      "connect to the MCD stub",
      "connect to QEMU's MCD stub (default 127.0.0.1:1235, or the -c\n"
      "argument); also McdHostName=\"host\" McdServerPort=\"port\"" },
    { "disconnect", cmd_disconnect, 0, 0, "disconnect",
      "close the connection",
      "close the core and the connection (the stub lets the guest run)" },
    { "cores", cmd_cores, 0, 0, "cores",
      "list the system and its cores",
      "list the system, its device and its cores" },
    { "core", cmd_core, 0, 1, "core [N]",
      "open core N",
      "open core N and make it the current core (commands that need a\n"
      "core open core 0 if none is open)" },
    { "spaces", cmd_spaces, 0, 0, "spaces",
      "list the memory spaces",
      "list the memory spaces of the core: id, name, type, endianness" },
    { "space", cmd_space, 0, 1, "space [SPACE]",
      "show or set the default memory space",
      "show or set the default memory space of read, write, break..." },
    { "groups", cmd_groups, 0, 0, "groups",
      "list the register groups",
      "list the register groups of the core" },
    { "regs", cmd_regs, 0, 1, "regs [GROUP]",
      "all registers with their values",
      "list the registers (of a group, by id or name prefix) with their\n"
      "values, read in one transaction list: name, id, bits, group, value" },
    { "reg", cmd_reg, 1, 2, "reg NAME|ID [VALUE]",
      "read or write a register",
      "read a register, or write VALUE (0x hex of any width, or decimal)\n"
      "and read it back" },
    { "read", cmd_read, 2, 2, "read [SPACE:]ADDR LEN",
      "hex dump of memory",
      "read LEN bytes of memory and dump them in hex and ASCII" },
    { "x", cmd_x, 0, 2, "x[/NU] [SPACE:]ADDR",
      "show memory in bytes, halfwords, words",
      "show N units of memory: U is b (bytes, with ASCII), h (16 bits),\n"
      "w (32 bits, the first default) or g (64 bits), in the byte order\n"
      "of the memory space; N defaults to 64 bytes' worth, U to the last\n"
      "one.  Without ADDR: on after the last x.  x/16b main, x/4w $sp" },
    { "write", cmd_write, 2, -1, "write [SPACE:]ADDR HEXBYTES...",
      "write bytes",
      "write bytes given in hex, two digits a byte (\"0102ff\" or \"01 02\")" },
    { "writew", cmd_writew, 2, MAX_ARGS - 2,
      "writew [SPACE:]ADDR VALUE32...",
      "write 32-bit words",
      "write 32-bit words, little-endian (handy for instructions)" },
    { "disas", cmd_disas, 0, 2, "disas [[SPACE:]ADDR] [N]",
      "disassemble",
      "disassemble N instructions (default 8) at ADDR (default: the pc,\n"
      "marked =>): AArch64, ARM or Thumb (the CPSR's T bit, or the ELF\n"
      "file's mapping symbols), m68k; needs capstone" },
    { "go", cmd_go, 0, 1, "go [all]",
      "let the core run",
      "let the core run (all: every core), and return at once" },
    { "continue", cmd_continue, 0, 1, "continue [TIMEOUT_S]",
      "run until the core stops",
      "let the core run and wait until it stops (for ever, or TIMEOUT_S\n"
      "seconds); Ctrl-C stops the core" },
    { "stop", cmd_stop, 0, 1, "stop [all]",
      "stop the core",
      "stop the core (all: every core) and show its state" },
    { "step", cmd_step, 0, 1, "step [N]",
      "step N instructions",
      "step N instructions (default 1), wait for the end and show the state" },
    { "state", cmd_state, 0, 0, "state",
      "state, pc and stop reason",
      "show the core state, the pc and why the core stopped; when it does\n"
      "not run, the instruction at the pc" },
    { "wait", cmd_wait, 0, 1, "wait [TIMEOUT_S]",
      "wait until the core stops",
      "wait until the core no longer runs (default 10 s), show the state\n"
      "and the stop reason; fails on timeout; Ctrl-C stops the core" },
    { "break", cmd_break, 1, 1, "break [SPACE:]ADDR",
      "set a breakpoint",
      "set a breakpoint (break main, break main+0x10)" },
    { "watch", cmd_watch, 1, 3, "watch [r|w|rw] [SPACE:]ADDR [LEN]",
      "set a watchpoint",
      "set a read, write (default) or read/write watchpoint of LEN bytes\n"
      "(default 4)" },
    { "triggers", cmd_triggers, 0, 0, "triggers",
      "list breakpoints and watchpoints",
      "list the breakpoints and watchpoints of this session with their ids" },
    { "delete", cmd_delete, 1, 1, "delete ID|all",
      "delete a trigger",
      "delete a trigger, or all of them" },
    { "file", cmd_file, 0, 1, "file [ELF]",
      "load symbols from an ELF file",
      "take the symbols of an ELF file (ELF32 or ELF64): addresses may be\n"
      "symbols then, and output shows addresses as func+0x10; without\n"
      "ELF: show the file" },
    { "syms", cmd_syms, 0, 1, "syms [PATTERN]",
      "list symbols",
      "list the symbols (whose names contain PATTERN): address, size,\n"
      "type, binding, name" },
    { "load", cmd_load, 0, 1, "load [ELF]",
      "load an ELF file into memory",
      "write the loadable segments (PT_LOAD) of ELF (default: that of\n"
      "'file') at their load addresses into the default memory space,\n"
      "and set the pc to the entry point if the core is stopped" },
    { "dump", cmd_dump, 3, 3, "dump [SPACE:]ADDR LEN FILE",
      "save memory to a file",
      "save LEN bytes of memory (K, M, G: KiB, MiB, GiB) to FILE, in\n"
      "big transaction lists, with a progress bar on a terminal" },
    { "restore", cmd_restore, 2, 2, "restore FILE [SPACE:]ADDR",
      "load a file into memory",
      "write the bytes of FILE into memory at ADDR, with a progress bar\n"
      "on a terminal" },
    { "print", cmd_print, 1, 1, "print EXPR",
      "evaluate an address",
      "show the value of an address expression, and its symbol" },
    { "resets", cmd_resets, 0, 0, "resets",
      "list the reset classes",
      "list the reset classes" },
    { "reset", cmd_reset, 0, 2, "reset [system|core|CLASS] [halt]",
      "reset",
      "reset the system (default) or the core; halt: stop at the reset\n"
      "vector" },
    { "info", cmd_info, 0, 0, "info",
      "library, server, core",
      "show the library, the server, the core and its trigger resources" },
    { "help", cmd_help, 0, 1, "help [COMMAND]",
      "list the commands, or explain one",
      "list the commands, or explain one" },
    { "quit", cmd_quit, 0, 0, "quit",
      "end the session",
      "close the connection and exit (also 'exit' and end of input)" },
    { NULL, NULL, 0, 0, NULL, NULL, NULL },
};

/* Short names of commands, as gdb has them. */
static const struct {
    const char *alias;
    const char *name;
} aliases[] = {
    { "exit", "quit" },
    { "q", "quit" },
    { "c", "continue" },
    { "cont", "continue" },
    { "s", "step" },
    { "si", "step" },
    { "b", "break" },
    { "p", "print" },
    { "disassemble", "disas" },
    { NULL, NULL },
};

static const Command *find_command(const char *name)
{
    const Command *c;
    int i;

    for (i = 0; aliases[i].alias; i++) {
        if (strcmp(name, aliases[i].alias) == 0) {
            name = aliases[i].name;
            break;
        }
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
    int i;

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
    printf("Short names: ");
    for (i = 0; aliases[i].alias; i++) {
        printf("%s%s = %s", i ? ", " : "", aliases[i].alias,
               aliases[i].name);
    }
    printf(".\n");
    printf("Numbers are decimal or 0x hex.  An address ADDR is a number, a "
           "symbol of\nthe ELF file ('file'), or $REG, the value of a "
           "register, with + and -\nterms: main+0x10, $sp-16.  SPACE is a "
           "memory space id or a\ncase-insensitive prefix of its name, "
           "quoted if it has blanks:\n\"Non Secure\":0x40000000.  Without "
           "SPACE, the default space (see 'space').\n");
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
    char *argv[MAX_ARGS + 2], format[64], *slash;
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
    /* x/16b ADDR: the format is the first argument */
    slash = strchr(argv[0], '/');
    if (slash && slash != argv[0]) {
        snprintf(format, sizeof(format), "%s", slash);
        *slash = '\0';
        memmove(&argv[2], &argv[1], argc * sizeof(*argv));
        argv[1] = format;
        argc++;
    }
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

/* Words to complete: commands first in a command, else symbols. */
static const char *complete_word(size_t i, bool first)
{
    static char reg[MCD_REG_NAME_LEN + 2];
    size_t n = 0;

    if (first) {
        for (n = 0; commands[n].name; n++) {
            if (i == n) {
                return commands[n].name;
            }
        }
        return NULL;
    }
    if (cli.elf) {
        n = cli_elf_n_syms(cli.elf);
        if (i < n) {
            return cli_elf_sym(cli.elf, i)->name;
        }
    }
    if (cli.core && cli.have_regs && i - n < cli.n_regs) {
        snprintf(reg, sizeof(reg), "$%s", cli.regs[i - n].regname);
        return reg;
    }
    return NULL;
}

/*
 * Commands typed on a terminal: line editing and a history kept in
 * $MCD_CLI_HISTORY (default ~/.mcd_cli_history; empty: none) when
 * built with libedit.  A failing command does not end the session.
 */
static void run_interactive(bool *any_failed)
{
    const char *env = getenv("MCD_CLI_HISTORY"), *home = getenv("HOME");
    char history[4096] = "";
    char *line;

    if (env) {
        snprintf(history, sizeof(history), "%s", env);
    } else if (home && *home) {
        snprintf(history, sizeof(history), "%s/.mcd_cli_history", home);
    }
    cli_line_open(history[0] ? history : NULL, complete_word);
    for (;;) {
        line = cli_line_read("mcd> ");
        if (!line) {
            printf("\n");
            break;
        }
        if (run_line(line, true, any_failed) == OUT_QUIT) {
            free(line);
            break;
        }
        free(line);
    }
    cli_line_close();
}

typedef struct Source {
    char kind;                  /* 'e' or 'f' */
    const char *text;           /* the commands, or the file name */
} Source;

/* Read and run the lines of the script @f. */
static Outcome run_stream(FILE *f, const char *name, bool keep_going,
                          bool *any_failed)
{
    char line[MAX_LINE];
    unsigned int lineno = 0;
    size_t len;
    Outcome r;

    for (;;) {
        if (!fgets(line, sizeof(line), f)) {
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
            if (!keep_going) {
                return OUT_FAILED;
            }
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        r = run_line(line, keep_going, any_failed);
        if (r == OUT_QUIT) {
            return r;
        }
        if (r == OUT_FAILED) {
            fprintf(stderr, "mcd-cli: stopped at %s:%u: %s\n", name, lineno,
                    cli.failed);
            return r;
        }
    }
}

static void usage(FILE *out)
{
    const Command *c;

    fprintf(out,
            "Usage: mcd-cli [OPTION]...\n"
            "A command line client of QEMU's MCD stub through the MCD API "
            "(libmcd).\n"
            "\n"
            "  -c, --connect HOST:PORT  connect first (also the default of "
            "'connect')\n"
            "      --elf FILE           take the symbols of the ELF FILE "
            "(as 'file')\n"
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
            "a prompt,\n"
            "line editing and history on a terminal.  Exit status: 0 if "
            "every command\n"
            "succeeded, 1 if one failed, 2 for bad options.\n"
            "\n"
            "Commands ('help COMMAND' explains one; ADDR may be a symbol, "
            "main+0x10):\n");
    for (c = commands; c->name; c++) {
        fprintf(out, "  %-34s %s\n", c->usage, c->brief);
    }
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
        if (isatty(STDIN_FILENO)) {
            run_interactive(&any_failed);
        } else {
            run_stream(stdin, "stdin", keep_going, &any_failed);
        }
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
            r = run_stream(stdin, "stdin", keep_going, &any_failed);
        } else {
            f = fopen(sources[i].text, "r");
            if (!f) {
                fail("cannot open %s: %s", sources[i].text, strerror(errno));
                r = OUT_FAILED;
                any_failed = true;
            } else {
                r = run_stream(f, sources[i].text, keep_going, &any_failed);
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
        { "elf", required_argument, NULL, 'E' },
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
    const char *target = NULL, *elf = NULL;
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
        case 'E':
            elf = optarg;
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
            printf("disassembly: %s; line editing: %s\n",
                   cli_disas_version(), cli_line_editor());
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
    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);

    if (!initialize()) {
        status = 1;
        goto out;
    }
    if (elf) {
        CliElf *e;

        if (!open_elf(elf, &e)) {
            status = 1;
            goto out;
        }
        cli.elf = e;
        print_elf(e);
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
    cli_elf_free(cli.elf);
    cli_disas_close();
    return status;
}
