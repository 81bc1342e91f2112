/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mcd-bench: QEMU's MCD stub against its gdbstub, on one QEMU.
 *
 * Starts qemu-system-aarch64 -M virt with both stubs (-gdb and -mcd) and
 * a QMP socket, and a guest of its own: a run of GUEST_NOPS NOPs at
 * GUEST_BASE followed by a branch to itself, so that single steps and a
 * run to a breakpoint 1,023 instructions ahead are possible and the PC
 * can be set back between repetitions.  It then times the same debugger
 * operations through three clients:
 *
 *   gdb      a client of gdbstub that sends what gdb sends: m and M in
 *            the largest chunks gdbstub's PacketSize allows, g, s, Z0/c
 *   MCD raw  a client of the MCD stub's packet protocol that enables the
 *            extensions the stub offers (errors, notify, lists, regs,
 *            binary) and uses the best commands it has; with an older
 *            stub it falls back to m/M, p and one list item per query
 *   libmcd   contrib/libmcd through the MCD API, as TRACE32 calls it
 *
 * and, for the era-1 client, steps polled with qstate.  The clients run
 * in blocks, one after the other (gdb, MCD raw, libmcd, then the next
 * block), so that slow drifts of the machine hit every client alike;
 * every repetition is timed on its own with CLOCK_MONOTONIC, and the
 * report gives the median, the 10th and 90th percentile and the ratio
 * gdb median / MCD median (above 1: the MCD client is faster).
 *
 * Pinning: QEMU's main thread (which runs both stubs), this program and
 * its loopback echo thread share the first CPU, the vCPU thread gets the
 * second one.  On a machine with two CPUs, unpinned round trips are
 * dominated by wake-ups of a thread on the other CPU, and which CPU the
 * scheduler picks changes from run to run; pinned, a request and its
 * reply are two wake-ups on the same CPU, as the loopback floor (a TCP
 * echo thread on that CPU) measures.  With one CPU nothing is pinned.
 * The floor is sampled between the small round trips of every client,
 * so that it and they see the same machine.
 *
 * Both stubs drive one VM, so each client's turn starts from a VM that
 * is stopped and ends leaving it so:
 *   - gdb connects afresh for each turn (gdbstub stops the VM when a
 *     client connects) and closes without detaching, which leaves the VM
 *     stopped; its step and continue resume the VM as a whole, which
 *     also lets go of the cores the MCD debugger held;
 *   - an MCD session breaks the whole system first (b1;0); the cores it
 *     steps or stops stay held until it detaches, and a detach lets a VM
 *     that the MCD debugger stopped run again, so the bench stops the VM
 *     with QMP's "stop" after every MCD session;
 *   - only one client at a time is connected to a stub while anything
 *     is timed, so that no stop reply or %stop notification of one
 *     client lands in another's measurement.
 * At the start and the end of every MCD session, a short gdb connection
 * reads the registers and compares x0..x30, sp and pc with what the MCD
 * client reads; each client writes its own pattern into x0..x30, which
 * the next one checks, and every 64 MiB read is compared with what the
 * previous client wrote.
 *
 * The register map (operation 4) is timed for a second CPU model too
 * (--map-cpu, default max) on a second QEMU, started for that operation
 * only once the first one has ended.
 *
 * Run by `make bench` (buildsys/bench.sh); `mcd-bench --help` lists the
 * options.  Progress goes to stderr, the report to stdout.  The exit
 * status is 0, 1 if a consistency check failed or the benchmark could
 * not go on, 2 for bad options.  QEMU is ended on every way out,
 * signals included.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "mcd_api.h"

/* The guest: NOPs, then a branch to itself. */
#define GUEST_BASE      0x40200000ULL
#define GUEST_NOPS      2048
#define A64_NOP         0xd503201fu
#define A64_B_SELF      0x14000000u
#define BP_AHEAD        1023
#define BP_ADDR         (GUEST_BASE + 4 * BP_AHEAD)

/* The memory read and written: the upper half of the 128 MiB of RAM. */
#define MEM_BASE        0x44000000ULL
#define MEM_SIZE        (64u << 20)
#define LIB_CHUNK       (1u << 20)      /* bytes per libmcd transaction */

/* gdb's register numbers on AArch64: x0..x30, sp, pc, cpsr. */
#define NR_CMP_REGS     33              /* x0..x30, sp, pc */
#define GDB_PC          32

#define IO_TIMEOUT_MS   30000

enum { GDB, RAW, LIB, NR_STUBS };

enum {
    OP_RTT, OP_READ, OP_WRITE, OP_MAP, OP_MAP2, OP_REGS, OP_STEP,
    OP_STEP_REGS, OP_BP, OP_BP_KEPT, OP_ERA1, NR_OPS
};


/*
 * Options and repetitions
 */

typedef struct Reps {
    int floor;      /* loopback round trips before every floor-th rtt */
    int rtt;        /* small round trips */
    int mem;        /* 64 MiB reads and writes */
    int map;        /* register maps from a fresh connection */
    int regs;       /* reads of all core registers */
    int step;       /* steps; also steps with registers and era-1 steps */
    int bp;         /* runs to the breakpoint */
} Reps;

static const Reps full_reps = { 50, 500, 1, 10, 200, 100, 20 };
static const Reps quick_reps = { 25, 100, 1, 1, 40, 20, 5 };

static const char *opt_qemu;
static const char *opt_cpu = "cortex-a53";
static const char *opt_map_cpu = "max";
static const char *opt_extensions;      /* NULL: all the bench knows */
static int opt_blocks = 10;
static bool opt_quick;
static Reps reps;

/*
 * Utilities
 */

static int checks;
static int failures;

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "mcd-bench: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

/* A consistency check: count it, report it if it failed. */
static bool check(bool cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool check(bool cond, const char *fmt, ...)
{
    va_list ap;

    checks++;
    if (!cond) {
        failures++;
        fflush(stdout);
        fprintf(stderr, "mcd-bench: CHECK FAILED: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\n");
    }
    return cond;
}

static void progress(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void progress(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);

    if (!p) {
        die("out of memory (%zu bytes)", size);
    }
    return p;
}

static void *xzalloc(size_t size)
{
    void *p = xmalloc(size);

    memset(p, 0, size);
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (!p) {
        die("out of memory (%zu bytes)", size);
    }
    return p;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        /* go on */
    }
}

static const char hex_digits[] = "0123456789abcdef";
static int8_t hex_value[256];

static void hex_init(void)
{
    int i;

    memset(hex_value, -1, sizeof(hex_value));
    for (i = 0; i < 10; i++) {
        hex_value['0' + i] = i;
    }
    for (i = 0; i < 6; i++) {
        hex_value['a' + i] = 10 + i;
        hex_value['A' + i] = 10 + i;
    }
}

/* An unsigned number in @base (10 or 16) at @s; 0 if there is none. */
static unsigned long parse_num(const char *s, int base)
{
    unsigned long v = 0;
    int d;

    while ((d = hex_value[(uint8_t)*s]) >= 0 && d < base) {
        v = v * base + d;
        s++;
    }
    return v;
}

static void hex_encode(char *dst, const uint8_t *src, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = hex_digits[src[i] >> 4];
        dst[2 * i + 1] = hex_digits[src[i] & 15];
    }
}

static bool hex_decode(uint8_t *dst, const char *src, size_t n)
{
    size_t i;
    int hi, lo;

    for (i = 0; i < n; i++) {
        hi = hex_value[(uint8_t)src[2 * i]];
        lo = hex_value[(uint8_t)src[2 * i + 1]];
        if (hi < 0 || lo < 0) {
            return false;
        }
        dst[i] = hi << 4 | lo;
    }
    return true;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[i] = v >> (8 * i);
    }
}

/* Is @name an item of the comma separated @list? */
static bool list_has(const char *list, const char *name)
{
    size_t len = strlen(name);
    const char *p = list;

    while ((p = strstr(p, name))) {
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0')) {
            return true;
        }
        p += len;
    }
    return false;
}

/*
 * The value of @key in a record of the MCD stub ("key=value.key=value."),
 * copied to @out; false if the record has no such key.
 */
static bool rec_get(const char *rec, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    const char *p = rec;
    size_t n;

    while (p && *p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            p += klen + 1;
            n = strcspn(p, ".");
            if (n >= size) {
                n = size - 1;
            }
            memcpy(out, p, n);
            out[n] = '\0';
            return true;
        }
        p = strchr(p, '.');
        if (p) {
            p++;
        }
    }
    return false;
}

static unsigned long rec_num(const char *rec, const char *key)
{
    char v[32];

    return rec_get(rec, key, v, sizeof(v)) ? parse_num(v, 10) : 0;
}

/*
 * Samples and statistics
 */

typedef struct Samples {
    double *v;
    size_t n;
    size_t size;
} Samples;

static Samples samples[NR_OPS][NR_STUBS];
static Samples floor_samples;
static Samples era1_polls;

static void add_sample(Samples *s, double v)
{
    if (s->n == s->size) {
        s->size = s->size ? 2 * s->size : 256;
        s->v = xrealloc(s->v, s->size * sizeof(double));
    }
    s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The quantile @q (0..1) of @s, interpolated; NaN if it is empty. */
static double quantile(const Samples *s, double q)
{
    double *v, pos, r;
    size_t i;

    if (s->n == 0) {
        return NAN;
    }
    v = xmalloc(s->n * sizeof(double));
    memcpy(v, s->v, s->n * sizeof(double));
    qsort(v, s->n, sizeof(double), cmp_double);
    pos = q * (s->n - 1);
    i = (size_t)pos;
    r = i + 1 < s->n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
    free(v);
    return r;
}

static double median(const Samples *s)
{
    return quantile(s, 0.5);
}

/* Time one repetition of an operation. */
#define TIMED(op, stub, ...) \
    do { \
        uint64_t t0_ = now_ns(); \
        __VA_ARGS__; \
        add_sample(&samples[op][stub], (double)(now_ns() - t0_)); \
    } while (0)

/*
 * Child processes and temporary files, cleaned up on every exit path
 */

#define MAX_CHILDREN 4
#define MAX_TMP_FILES 8

/* volatile: on_signal() reads it */
static volatile pid_t children[MAX_CHILDREN];
static char tmp_dir[128];
static char tmp_files[MAX_TMP_FILES][256];

static void add_child(pid_t pid)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] <= 0) {
            children[i] = pid;
            return;
        }
    }
    kill(pid, SIGKILL);
    die("too many child processes");
}

/* waitpid() without blocking; a child that ended leaves children[]. */
static pid_t reap_child(pid_t pid, int *status)
{
    pid_t r = waitpid(pid, status, WNOHANG);
    int i;

    if (r == pid) {
        for (i = 0; i < MAX_CHILDREN; i++) {
            if (children[i] == pid) {
                children[i] = 0;
            }
        }
    }
    return r;
}

/*
 * End a child: SIGTERM, then SIGKILL if it does not go within 2 s.  Only
 * a child that waitpid() says still runs is signalled: one that was
 * reaped already is gone, and its pid may be another process's by now.
 */
static void end_child(pid_t pid)
{
    int i, status;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == pid) {
            children[i] = 0;
        }
    }
    if (pid <= 0 || waitpid(pid, &status, WNOHANG) != 0) {
        return;
    }
    kill(pid, SIGTERM);
    for (i = 0; i < 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return;
        }
        sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static const char *tmp_file(const char *name)
{
    int i;

    for (i = 0; i < MAX_TMP_FILES; i++) {
        if (!tmp_files[i][0]) {
            snprintf(tmp_files[i], sizeof(tmp_files[i]), "%s/%s", tmp_dir,
                     name);
            return tmp_files[i];
        }
    }
    die("too many temporary files");
}

static void remove_tmp_files(void)
{
    int i;

    for (i = 0; i < MAX_TMP_FILES; i++) {
        if (tmp_files[i][0]) {
            unlink(tmp_files[i]);
        }
    }
    if (tmp_dir[0]) {
        rmdir(tmp_dir);
    }
}

static void cleanup(void)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            end_child(children[i]);
        }
    }
    remove_tmp_files();
}

static void on_signal(int sig)
{
    int i;

    for (i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
        }
    }
    remove_tmp_files();
    signal(sig, SIG_DFL);
    raise(sig);
}

/*
 * Pinning
 */

static bool pinned;
static int cpu_main;            /* QEMU's main thread, the bench, the echo */
static int cpu_vcpu;            /* the vCPU thread */
static int nr_cpus_online;

static void pin_setup(void)
{
    cpu_set_t set;
    int i, found = 0;

    nr_cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) {
        return;
    }
    for (i = 0; i < CPU_SETSIZE && found < 2; i++) {
        if (CPU_ISSET(i, &set)) {
            if (found++ == 0) {
                cpu_main = i;
            } else {
                cpu_vcpu = i;
            }
        }
    }
    pinned = found == 2;
}

static void pin_tid(pid_t tid, int cpu, const char *what)
{
    cpu_set_t set;

    if (!pinned) {
        return;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(tid, sizeof(set), &set) != 0) {
        die("cannot pin %s (tid %d) to CPU %d: %s", what, (int)tid, cpu,
            strerror(errno));
    }
}

/*
 * TCP
 */

static int free_port(void)
{
    struct sockaddr_in sa = { 0 };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (port < 0) {
        die("no free TCP port: %s", strerror(errno));
    }
    return port;
}

static void sock_setup(int fd)
{
    struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int tcp_connect(int port)
{
    struct sockaddr_in sa = { 0 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        die("socket: %s", strerror(errno));
    }
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        die("cannot connect to 127.0.0.1:%d: %s", port, strerror(errno));
    }
    sock_setup(fd);
    return fd;
}

static int tcp_listen(int *port)
{
    struct sockaddr_in sa = { 0 };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        die("cannot listen on the loopback interface: %s", strerror(errno));
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static void write_all(int fd, const void *data, size_t len, const char *what)
{
    const char *p = data;
    ssize_t n;

    while (len > 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            die("%s: cannot send: %s", what, n < 0 ? strerror(errno)
                                                   : "closed");
        }
        p += n;
        len -= n;
    }
}

/*
 * A connection to a stub: received bytes and the packet being sent
 */

typedef struct Conn {
    const char *name;
    int fd;
    char *buf;
    size_t size;
    size_t pos;             /* first byte not parsed */
    size_t len;             /* bytes in buf */
    size_t scanned;         /* bytes after pos searched for '#' */
    char *out;
    size_t out_size;
    unsigned long sent;     /* packets sent */
    /* MCD */
    int acks;               /* '+' still to come */
    unsigned stops;         /* %stop notifications seen */
    bool era1;              /* pad packets to 1024 bytes, as era 1 did */
    bool errors, notify, lists, regs, binary, stopregs;
    /* stopregs: the registers of the last %stop, in hex, or "" */
    char stop_regs[8192];
} Conn;

static void conn_init(Conn *c, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->name = name;
    c->fd = -1;
    c->size = 4u << 20;
    c->buf = xmalloc(c->size);
    c->out_size = 3u << 20;
    c->out = xmalloc(c->out_size);
}

static void conn_connect(Conn *c, int port)
{
    c->fd = tcp_connect(port);
    c->pos = c->len = c->scanned = 0;
    c->acks = 0;
    c->stops = 0;
    c->sent = 0;
    c->era1 = c->errors = c->notify = c->lists = c->regs = c->binary = false;
    c->stopregs = false;
}

static void conn_close(Conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
}

/* Receive more bytes; pointers into the buffer may move. */
static void conn_fill(Conn *c)
{
    ssize_t n;

    if (c->size - c->len < 65536) {
        if (c->pos > 0) {
            memmove(c->buf, c->buf + c->pos, c->len - c->pos);
            c->len -= c->pos;
            c->pos = 0;
        }
        if (c->size - c->len < 65536) {
            c->size *= 2;
            c->buf = xrealloc(c->buf, c->size);
        }
    }
    do {
        n = recv(c->fd, c->buf + c->len, c->size - c->len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        die("%s: no answer for %d s", c->name, IO_TIMEOUT_MS / 1000);
    }
    if (n <= 0) {
        die("%s: connection closed by QEMU%s%s", c->name, n ? ": " : "",
            n ? strerror(errno) : "");
    }
    c->len += n;
}

static void conn_room(Conn *c, size_t need)
{
    if (need > c->out_size) {
        c->out_size = need;
        c->out = xrealloc(c->out, c->out_size);
    }
}

/* Decode '}'-escaped binary data (x ^ 0x20) in place; the new length. */
static size_t unescape(char *p, size_t len)
{
    char *end = p + len, *dst, *esc;

    esc = memchr(p, '}', len);
    if (!esc) {
        return len;
    }
    dst = esc;
    while (esc < end) {
        char *next;

        if (esc + 1 < end) {
            *dst++ = esc[1] ^ 0x20;
        }
        esc += 2;
        if (esc >= end) {
            break;
        }
        next = memchr(esc, '}', end - esc);
        if (!next) {
            next = end;
        }
        memmove(dst, esc, next - esc);
        dst += next - esc;
        esc = next;
    }
    return dst - p;
}

/*
 * The gdb client
 */

/* Send the payload at c->out + 2; the ack of the last reply rides along. */
static void gdb_finish(Conn *c, size_t len)
{
    uint8_t sum = 0;
    size_t i;

    conn_room(c, len + 6);
    c->out[0] = '+';
    c->out[1] = '$';
    for (i = 0; i < len; i++) {
        sum += (uint8_t)c->out[2 + i];
    }
    c->out[2 + len] = '#';
    c->out[3 + len] = hex_digits[sum >> 4];
    c->out[4 + len] = hex_digits[sum & 15];
    c->sent++;
    write_all(c->fd, c->out, len + 5, c->name);
}

/* The next packet: its payload, unescaped and NUL-terminated in place. */
static char *gdb_recv(Conn *c, size_t *plen)
{
    char *p, *hash;
    size_t len;

    for (;;) {
        while (c->pos < c->len && c->buf[c->pos] != '$') {
            c->pos++;           /* acks */
            c->scanned = 0;
        }
        if (c->pos < c->len) {
            p = c->buf + c->pos;
            hash = memchr(p + 1 + c->scanned, '#',
                          c->len - c->pos - 1 - c->scanned);
            if (hash && hash + 3 <= c->buf + c->len) {
                len = unescape(p + 1, hash - p - 1);
                p[1 + len] = '\0';
                c->pos = hash + 3 - c->buf;
                c->scanned = 0;
                if (plen) {
                    *plen = len;
                }
                return p + 1;
            }
            if (!hash) {
                c->scanned = c->len - c->pos - 1;
            }
        }
        conn_fill(c);
    }
}

static char *gdb_cmd(Conn *c, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *gdb_cmd(Conn *c, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(c->out + 2, c->out_size - 8, fmt, ap);
    va_end(ap);
    gdb_finish(c, n);
    return gdb_recv(c, len);
}

static void gdb_ok(Conn *c, const char *what, char *reply)
{
    if (strcmp(reply, "OK") != 0) {
        die("gdb: %s answered '%.60s'", what, reply);
    }
}

/* s or c: the stop reply (T or S packet), after console output (O). */
static void gdb_resume(Conn *c, const char *cmd)
{
    char *r = gdb_cmd(c, NULL, "%s", cmd);

    while (r[0] == 'O' && r[1]) {
        r = gdb_recv(c, NULL);
    }
    if (r[0] != 'T' && r[0] != 'S') {
        die("gdb: %s answered '%.60s', not a stop reply", cmd, r);
    }
}

/* gdb's qSupported, as gdb 13 sends it; returns PacketSize. */
static unsigned gdb_supported(Conn *c)
{
    char *r = gdb_cmd(c, NULL, "qSupported:multiprocess+;swbreak+;"
                      "hwbreak+;qRelocInsn+;fork-events+;vfork-events+;"
                      "exec-events+;vContSupported+;QThreadEvents+;"
                      "no-resumed+;memory-tagging+;xmlRegisters=i386");
    char *ps = strstr(r, "PacketSize=");

    return ps ? parse_num(ps + 11, 16) : 400;
}

static void gdb_open(Conn *c, int port)
{
    conn_connect(c, port);
}

/* gdb's g: the registers, as bytes; their number of bytes. */
static size_t gdb_read_regs(Conn *c, uint8_t *regs, size_t size)
{
    size_t len;
    char *r = gdb_cmd(c, &len, "g");

    if (len % 2 || len / 2 > size || !hex_decode(regs, r, len / 2)) {
        die("gdb: bad reply to g: '%.60s'", r);
    }
    return len / 2;
}

static void gdb_set_reg(Conn *c, int regnum, uint64_t value)
{
    uint8_t b[8];
    char hex[17];

    put_le64(b, value);
    hex_encode(hex, b, 8);
    hex[16] = '\0';
    gdb_ok(c, "P", gdb_cmd(c, NULL, "P%x=%s", regnum, hex));
}

static uint64_t gdb_get_pc(Conn *c)
{
    uint8_t b[8];
    size_t len;
    char *r = gdb_cmd(c, &len, "p%x", GDB_PC);

    if (len != 16 || !hex_decode(b, r, 8)) {
        die("gdb: bad reply to p%x: '%.60s'", GDB_PC, r);
    }
    return le64(b);
}

/* Read the registers through a connection of their own: x0..x30, sp, pc. */
static void gdb_peek_regs(int port, Conn *c, uint8_t *regs)
{
    uint8_t all[4096];

    gdb_open(c, port);
    if (gdb_read_regs(c, all, sizeof(all)) < NR_CMP_REGS * 8) {
        die("gdb: g is too short");
    }
    memcpy(regs, all, NR_CMP_REGS * 8);
    conn_close(c);
}

/*
 * The MCD raw client
 */

static void mcd_sendv(Conn *c, const char *fmt, va_list ap)
{
    size_t len;
    int n;

    n = vsnprintf(c->out + 1, c->out_size - 4, fmt, ap);
    c->out[0] = '$';
    memcpy(c->out + 1 + n, "#|", 2);
    len = n + 3;
    if (c->era1 && len < 1024) {
        memset(c->out + len, 0, 1024 - len);
        len = 1024;
    }
    c->acks++;
    c->sent++;
    write_all(c->fd, c->out, len, c->name);
}

/*
 * Packets to send back to back: mcd_queue() adds one to the buffer,
 * mcd_flush() sends them with one write.
 */
static void mcd_queue(Conn *c, size_t *queued, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void mcd_queue(Conn *c, size_t *queued, const char *fmt, ...)
{
    va_list ap;
    int n;

    conn_room(c, *queued + 1024);
    va_start(ap, fmt);
    n = vsnprintf(c->out + *queued + 1, 1000, fmt, ap);
    va_end(ap);
    c->out[*queued] = '$';
    memcpy(c->out + *queued + 1 + n, "#|", 2);
    *queued += n + 3;
    c->acks++;
    c->sent++;
}

static void mcd_flush(Conn *c, size_t *queued)
{
    write_all(c->fd, c->out, *queued, c->name);
    *queued = 0;
}

enum { EV_ACK, EV_PACKET, EV_NOTIFY };

/* The "regs=<hex>." field of a %stop (at @field, or NULL), kept. */
static void take_stop_regs(Conn *c, const char *field)
{
    size_t n = field ? strlen(field + 6) : 0;

    c->stop_regs[0] = '\0';
    if (n > 0 && n <= sizeof(c->stop_regs) && field[6 + n - 1] == '.') {
        memcpy(c->stop_regs, field + 6, n - 1);
        c->stop_regs[n - 1] = '\0';
    }
}

/*
 * The next thing from the stub: an ack, a packet or a notification;
 * a packet's payload is NUL-terminated in place (not unescaped).
 */
static int mcd_event(Conn *c, char **payload, size_t *plen)
{
    char *p, *hash;
    size_t tail;
    char ch;

    for (;;) {
        while (c->pos < c->len) {
            ch = c->buf[c->pos];
            if (ch == '+') {
                c->pos++;
                c->acks--;
                return EV_ACK;
            }
            if (ch == '$' || ch == '%') {
                break;
            }
            if (ch == '-') {
                die("%s: the stub could not read a packet", c->name);
            }
            c->pos++;
        }
        if (c->pos < c->len) {
            p = c->buf + c->pos;
            hash = memchr(p + 1 + c->scanned, '#',
                          c->len - c->pos - 1 - c->scanned);
            if (hash && hash + 1 < c->buf + c->len) {
                tail = hash[1] == '|' || hash[1] == '~' ? 2 : 3;
                if (hash + tail <= c->buf + c->len) {
                    *hash = '\0';
                    *payload = p + 1;
                    *plen = hash - p - 1;
                    c->pos = hash + tail - c->buf;
                    c->scanned = 0;
                    if (p[0] == '%' || p[1] == '%') {
                        if (strstr(p, "stop=")) {
                            c->stops++;
                            take_stop_regs(c, strstr(p, ".regs="));
                        }
                        return EV_NOTIFY;
                    }
                    return EV_PACKET;
                }
            } else if (!hash) {
                c->scanned = c->len - c->pos - 1;
            }
        }
        conn_fill(c);
    }
}

/* The reply to the packet sent: its '+' and the packet after it. */
static char *mcd_reply(Conn *c, size_t *len)
{
    char *p;
    size_t n;

    for (;;) {
        if (mcd_event(c, &p, &n) == EV_PACKET) {
            if (len) {
                *len = n;
            }
            return p;
        }
    }
}

/* Wait for the '+' of every packet sent. */
static void mcd_ack(Conn *c)
{
    char *p;
    size_t n;

    while (c->acks > 0) {
        if (mcd_event(c, &p, &n) == EV_PACKET) {
            die("%s: unexpected reply '%.60s'", c->name, p);
        }
    }
}

static char *mcd_cmd(Conn *c, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *mcd_cmd(Conn *c, size_t *len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    mcd_sendv(c, fmt, ap);
    va_end(ap);
    return mcd_reply(c, len);
}

/* A command that answers "success" (P, M, X, t, T). */
static void mcd_ok(Conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void mcd_ok(Conn *c, const char *fmt, ...)
{
    va_list ap;
    char *r;

    va_start(ap, fmt);
    mcd_sendv(c, fmt, ap);
    va_end(ap);
    r = mcd_reply(c, NULL);
    if (strcmp(r, "success") != 0) {
        die("%s: '%.*s' answered '%.80s'", c->name, 20, c->out + 1, r);
    }
}

/* A command that answers only '+', or "success" with errors (i, d, b...) */
static void mcd_run(Conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void mcd_run(Conn *c, const char *fmt, ...)
{
    va_list ap;
    char *r;

    va_start(ap, fmt);
    mcd_sendv(c, fmt, ap);
    va_end(ap);
    if (!c->errors) {
        mcd_ack(c);
        return;
    }
    r = mcd_reply(c, NULL);
    if (strcmp(r, "success") != 0) {
        die("%s: '%.*s' answered '%.80s'", c->name, 20, c->out + 1, r);
    }
}

/*
 * A list from @r, the reply to q<list>f<core>, then q<list>c<k> until the
 * reply starts with "0!"; with lists, several records per reply,
 * separated by ';'.  @fn gets each record; returns the number of records.
 */
typedef void RecFn(void *opaque, const char *rec);

static int mcd_list_from(Conn *c, const char *list, char *r, RecFn *fn,
                         void *opaque)
{
    unsigned long next;
    char *rec, *semi, *bang;
    int n = 0, queries = 0;

    for (;;) {
        bang = strchr(r, '!');
        if (!bang || !isdigit((unsigned char)r[0])) {
            die("%s: bad reply to the %s list: '%.60s'", c->name, list, r);
        }
        next = parse_num(r, 10);
        for (rec = bang + 1; *rec; rec = semi + 1) {
            semi = strchr(rec, ';');
            if (semi) {
                *semi = '\0';
            }
            if (*rec) {
                if (fn) {
                    fn(opaque, rec);
                }
                n++;
            }
            if (!semi) {
                break;
            }
        }
        if (next == 0) {
            return n;
        }
        if (++queries > 100000) {
            die("%s: the %s list does not end", c->name, list);
        }
        r = mcd_cmd(c, NULL, "q%sc%lu", list, next);
    }
}

/* The same from its first query. */
static int mcd_list(Conn *c, const char *list, RecFn *fn, void *opaque)
{
    return mcd_list_from(c, list, mcd_cmd(c, NULL, "q%sf0", list), fn,
                         opaque);
}

/* What the stub offers, from the first qprotocol. */
static char mcd_offered[256];
static char mcd_enabled[256];
static bool mcd_era1_stub;
static unsigned long mcd_version = 1;
static unsigned long mcd_max_data = 256;
static unsigned long mcd_max_binary;

/*
 * The extensions the bench uses, limited by --extensions, of those
 * @offered (if not NULL).
 */
static void mcd_wanted(const char *offered, char *want, size_t size)
{
    static const char *const wanted[] = {
        "errors", "notify", "lists", "regs", "binary", "stopregs",
    };
    size_t i, len = 0;

    want[0] = '\0';
    for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        if ((!offered || list_has(offered, wanted[i])) &&
            (!opt_extensions || list_has(opt_extensions, wanted[i]))) {
            len += snprintf(want + len, size - len, "%s%s", len ? "," : "",
                            wanted[i]);
        }
    }
}

/* What a reply to qprotocol<ext> enabled. */
static void mcd_enabled_by(Conn *c, const char *r)
{
    char v[256];

    if (!rec_get(r, "enabled", v, sizeof(v))) {
        v[0] = '\0';
    }
    snprintf(mcd_enabled, sizeof(mcd_enabled), "%s", v);
    c->errors = list_has(v, "errors");
    c->notify = list_has(v, "notify");
    c->lists = list_has(v, "lists");
    c->regs = list_has(v, "regs");
    c->binary = list_has(v, "binary") && mcd_max_binary > 0;
    c->stopregs = list_has(v, "stopregs") && c->notify && c->regs;
}

/* The stub's limits and offer, from a reply to qprotocol; false: none. */
static bool mcd_offer(const char *r)
{
    if (!strstr(r, "version=")) {
        return false;
    }
    mcd_version = rec_num(r, "version");
    if (rec_num(r, "max_data")) {
        mcd_max_data = rec_num(r, "max_data");
    }
    mcd_max_binary = rec_num(r, "max_binary");
    if (!rec_get(r, "extensions", mcd_offered, sizeof(mcd_offered))) {
        mcd_offered[0] = '\0';
    }
    return true;
}

/* I, then (unless era-1) qprotocol and the extensions the bench uses. */
static void mcd_handshake(Conn *c, bool negotiate)
{
    char want[128];
    char *r;

    r = mcd_cmd(c, NULL, "I");
    if (strcmp(r, "shaking your hand") != 0) {
        die("%s: I answered '%.60s'", c->name, r);
    }
    if (!negotiate) {
        return;
    }
    r = mcd_cmd(c, NULL, "qprotocol");
    if (!mcd_offer(r)) {
        mcd_era1_stub = true;
        return;
    }
    mcd_wanted(mcd_offered, want, sizeof(want));
    if (!want[0]) {
        return;
    }
    r = mcd_cmd(c, NULL, "qprotocol%s", want);
    if (!strstr(r, "version=") && list_has(want, "errors")) {
        r = mcd_cmd(c, NULL, "qprotocolerrors");
    }
    mcd_enabled_by(c, r);
}

/* A register of the MCD stub's list. */
typedef struct McdReg {
    unsigned id;
    unsigned bits;
    unsigned group;
    char name[32];
} McdReg;

typedef struct RegList {
    McdReg *r;
    int n;
    int size;
} RegList;

static void reg_item(void *opaque, const char *rec)
{
    RegList *l = opaque;
    McdReg *r;

    if (l->n == l->size) {
        l->size = l->size ? 2 * l->size : 64;
        l->r = xrealloc(l->r, l->size * sizeof(*r));
    }
    r = &l->r[l->n++];
    memset(r, 0, sizeof(*r));
    r->id = rec_num(rec, "id");
    r->bits = rec_num(rec, "size");
    r->group = rec_num(rec, "reggroupid");
    rec_get(rec, "name", r->name, sizeof(r->name));
}

static void space_item(void *opaque, const char *rec)
{
    unsigned *ns = opaque;
    char name[64];

    if (rec_get(rec, "name", name, sizeof(name)) &&
        strcmp(name, "Non Secure") == 0) {
        *ns = rec_num(rec, "id");
    }
}

/* What the raw client knows of core 0. */
typedef struct RawCore {
    unsigned ns_space;              /* "Non Secure" */
    RegList regs;                   /* every register */
    char core_ids[512];             /* the Core Registers group, for g */
    unsigned core_ids_n;
    unsigned core_bytes;
    unsigned pc_id;
    unsigned cmp_id[NR_CMP_REGS];   /* x0..x30, sp, pc */
    unsigned cmp_off[NR_CMP_REGS];  /* their offsets in the core group */
} RawCore;

static RawCore raw_core;

static const char *cmp_name(int i, char *buf)
{
    if (i < 31) {
        sprintf(buf, "x%d", i);
    } else {
        strcpy(buf, i == 31 ? "sp" : "pc");
    }
    return buf;
}

/* Learn the memory spaces and registers of core 0 (once). */
static void raw_learn(Conn *c)
{
    RawCore *k = &raw_core;
    unsigned off = 0, first = 0, last = 0;
    char name[8];
    bool run = false;
    size_t used = 0;
    int i, j;

    if (k->regs.n) {
        return;
    }
    mcd_list(c, "memory", space_item, &k->ns_space);
    if (!k->ns_space) {
        die("MCD: no memory space 'Non Secure'");
    }
    mcd_list(c, "reg", reg_item, &k->regs);
    for (i = 0; i < NR_CMP_REGS; i++) {
        k->cmp_id[i] = UINT32_MAX;
    }
    /* the Core Registers group (id 1), as ids and ranges for g */
    for (i = 0; i < k->regs.n; i++) {
        McdReg *r = &k->regs.r[i];

        if (r->group != 1) {
            continue;
        }
        for (j = 0; j < NR_CMP_REGS; j++) {
            if (strcmp(r->name, cmp_name(j, name)) == 0) {
                k->cmp_id[j] = r->id;
                k->cmp_off[j] = off;
            }
        }
        off += r->bits / 8;
        k->core_ids_n++;
        if (run && r->id == last + 1) {
            last = r->id;
            continue;
        }
        if (run) {
            used += snprintf(k->core_ids + used, sizeof(k->core_ids) - used,
                             first == last ? "%u," : "%u-%u,", first, last);
        }
        first = last = r->id;
        run = true;
    }
    if (run) {
        used += snprintf(k->core_ids + used, sizeof(k->core_ids) - used,
                         first == last ? "%u" : "%u-%u", first, last);
    }
    k->core_bytes = off;
    for (j = 0; j < NR_CMP_REGS; j++) {
        if (k->cmp_id[j] == UINT32_MAX) {
            die("MCD: register %s is not in the Core Registers group",
                cmp_name(j, name));
        }
    }
    k->pc_id = k->cmp_id[32];
}

/* Open a session on core 0: the handshake, i0, the lists once. */
static void raw_open(Conn *c, int port)
{
    conn_connect(c, port);
    mcd_handshake(c, true);
    mcd_run(c, "i0");
    raw_learn(c);
}

static void raw_close(Conn *c)
{
    mcd_run(c, "D");
    conn_close(c);
}

/* All core registers, into @out (raw_core.core_bytes bytes). */
static void raw_read_core_regs(Conn *c, uint8_t *out)
{
    RawCore *k = &raw_core;
    size_t len, off = 0;
    char *r;
    int i;

    if (c->stop_regs[0]) {
        /* E named them: the %stop carried them */
        if (strlen(c->stop_regs) != 2 * k->core_bytes ||
            !hex_decode(out, c->stop_regs, k->core_bytes)) {
            die("MCD: bad registers in %%stop: '%.60s'", c->stop_regs);
        }
        c->stop_regs[0] = '\0';
        return;
    }
    if (c->regs) {
        r = mcd_cmd(c, &len, "g0;%s", k->core_ids);
        if (len != 2 * k->core_bytes || !hex_decode(out, r, k->core_bytes)) {
            die("MCD: bad reply to g0;%s: '%.60s'", k->core_ids, r);
        }
        return;
    }
    for (i = 0; i < k->regs.n; i++) {
        McdReg *reg = &k->regs.r[i];

        if (reg->group != 1) {
            continue;
        }
        r = mcd_cmd(c, &len, "p0;%u", reg->id);
        if (len != reg->bits / 4 || !hex_decode(out + off, r, reg->bits / 8)) {
            die("MCD: bad reply to p0;%u: '%.60s'", reg->id, r);
        }
        off += reg->bits / 8;
    }
}

/* x0..x30, sp, pc as 8-byte values, as gdb's g has them. */
static void raw_cmp_regs(Conn *c, uint8_t *cmp)
{
    uint8_t core[4096];
    int i;

    raw_read_core_regs(c, core);
    for (i = 0; i < NR_CMP_REGS; i++) {
        memcpy(cmp + 8 * i, core + raw_core.cmp_off[i], 8);
    }
}

static void raw_set_reg(Conn *c, unsigned id, uint64_t value)
{
    uint8_t b[8];
    char hex[17];

    put_le64(b, value);
    hex_encode(hex, b, 8);
    hex[16] = '\0';
    mcd_ok(c, "P0;%u;8;%s", id, hex);
}

static uint64_t raw_get_pc(Conn *c)
{
    uint8_t b[8];
    size_t len;
    char *r = mcd_cmd(c, &len, "p0;%u", raw_core.pc_id);

    if (len != 16 || !hex_decode(b, r, 8)) {
        die("MCD: bad reply to p0;%u: '%.60s'", raw_core.pc_id, r);
    }
    return le64(b);
}

/* Poll qstate0 until the core is in debug state; the number of polls. */
static int raw_poll_debug(Conn *c)
{
    int polls = 0;
    char *r;

    do {
        r = mcd_cmd(c, NULL, "qstate0");
        polls++;
        if (polls > 1000000) {
            die("%s: the core does not stop: '%.80s'", c->name, r);
        }
    } while (strncmp(r, "state=debug.", 12) != 0);
    return polls;
}

/* Wait until the core stopped: a %stop with notify, else qstate. */
static void raw_wait_stop(Conn *c, unsigned stops)
{
    char *p;
    size_t n;

    if (!c->notify) {
        raw_poll_debug(c);
        return;
    }
    while (c->stops == stops) {
        if (mcd_event(c, &p, &n) == EV_PACKET) {
            die("%s: unexpected reply '%.60s'", c->name, p);
        }
    }
}

static void raw_step(Conn *c)
{
    unsigned stops = c->stops;

    mcd_run(c, "c0;0");
    raw_wait_stop(c, stops);
}

static void raw_read_mem(Conn *c, uint64_t addr, uint8_t *dst, size_t size)
{
    size_t off, n, len, chunk;
    char *r;

    chunk = c->binary ? mcd_max_binary : mcd_max_data;
    for (off = 0; off < size; off += n) {
        n = size - off < chunk ? size - off : chunk;
        if (c->binary) {
            r = mcd_cmd(c, &len, "x0;%u;%" PRIu64 ";%zu", raw_core.ns_space,
                        addr + off, n);
            len = unescape(r, len);
            if (len != n) {
                die("MCD: x0;%u;%" PRIu64 ";%zu answered %zu bytes: '%.60s'",
                    raw_core.ns_space, addr + off, n, len, r);
            }
            memcpy(dst + off, r, n);
        } else {
            r = mcd_cmd(c, &len, "m0;%u;%" PRIu64 ";%zu", raw_core.ns_space,
                        addr + off, n);
            if (len != 2 * n || !hex_decode(dst + off, r, n)) {
                die("MCD: bad reply to m0;%u;%" PRIu64 ";%zu: '%.60s'",
                    raw_core.ns_space, addr + off, n, r);
            }
        }
    }
}

static void raw_write_mem(Conn *c, uint64_t addr, const uint8_t *src,
                          size_t size)
{
    size_t off, n, i, len;
    char *p, *r;
    uint8_t b;

    if (!c->binary) {
        for (off = 0; off < size; off += n) {
            n = size - off < mcd_max_data ? size - off : mcd_max_data;
            conn_room(c, 2 * n + 128);
            len = sprintf(c->out, "$M0;%u;%" PRIu64 ";%zu;",
                          raw_core.ns_space, addr + off, n);
            hex_encode(c->out + len, src + off, n);
            len += 2 * n;
            memcpy(c->out + len, "#|", 2);
            c->acks++;
            c->sent++;
            write_all(c->fd, c->out, len + 2, c->name);
            r = mcd_reply(c, NULL);
            if (strcmp(r, "success") != 0) {
                die("MCD: M answered '%.60s'", r);
            }
        }
        return;
    }
    for (off = 0; off < size; off += n) {
        n = size - off < mcd_max_binary ? size - off : mcd_max_binary;
        conn_room(c, 2 * n + 128);
        len = sprintf(c->out, "$X0;%u;%" PRIu64 ";%zu;", raw_core.ns_space,
                      addr + off, n);
        p = c->out + len;
        for (i = 0; i < n; i++) {
            b = src[off + i];
            if (b == '#' || b == '$' || b == '%' || b == '}') {
                *p++ = '}';
                *p++ = b ^ 0x20;
            } else {
                *p++ = b;
            }
        }
        memcpy(p, "#|", 2);
        c->acks++;
        c->sent++;
        write_all(c->fd, c->out, p + 2 - c->out, c->name);
        r = mcd_reply(c, NULL);
        if (strcmp(r, "success") != 0) {
            die("MCD: X answered '%.60s'", r);
        }
    }
}

/*
 * QMP
 */

typedef struct Qmp {
    int fd;
    char buf[65536];
    size_t len;
} Qmp;

/* The next line from QMP, NUL-terminated, in @line. */
static void qmp_line(Qmp *m, char *line, size_t size)
{
    char *nl;
    size_t n;
    ssize_t r;

    for (;;) {
        nl = memchr(m->buf, '\n', m->len);
        if (nl) {
            n = nl - m->buf;
            if (n >= size) {
                n = size - 1;
            }
            memcpy(line, m->buf, n);
            line[n] = '\0';
            m->len -= nl + 1 - m->buf;
            memmove(m->buf, nl + 1, m->len);
            return;
        }
        if (m->len == sizeof(m->buf)) {
            die("QMP: line too long");
        }
        do {
            r = recv(m->fd, m->buf + m->len, sizeof(m->buf) - m->len, 0);
        } while (r < 0 && errno == EINTR);
        if (r <= 0) {
            die("QMP: %s", r ? strerror(errno) : "connection closed");
        }
        m->len += r;
    }
}

/* Run a QMP command; its "return" (or "error") line in @out. */
static void qmp_cmd(Qmp *m, const char *cmd, char *out, size_t size)
{
    char req[256];

    snprintf(req, sizeof(req), "{\"execute\":\"%s\"}\n", cmd);
    write_all(m->fd, req, strlen(req), "QMP");
    for (;;) {
        qmp_line(m, out, size);
        if (strstr(out, "\"return\"") || strstr(out, "\"error\"")) {
            return;
        }
    }
}

/* Connect and negotiate; false if QEMU does not listen yet. */
static bool qmp_open(Qmp *m, const char *path)
{
    struct sockaddr_un sa = { 0 };
    struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
    char line[4096];

    m->len = 0;
    m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m->fd < 0) {
        die("socket: %s", strerror(errno));
    }
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(m->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(m->fd);
        m->fd = -1;
        return false;
    }
    setsockopt(m->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    qmp_line(m, line, sizeof(line));
    if (!strstr(line, "QMP")) {
        die("QMP: no greeting: %.80s", line);
    }
    qmp_cmd(m, "qmp_capabilities", line, sizeof(line));
    return true;
}

static void qmp_close(Qmp *m)
{
    close(m->fd);
    m->fd = -1;
}

/*
 * QEMU
 */

/* A QEMU process with its ports. */
typedef struct Vm {
    pid_t pid;
    pid_t vcpu_tid;
    int gdb_port;
    int mcd_port;
    const char *cpu;
    const char *qmp_path;
    char version[64];
} Vm;

static const char *guest_path;

static void write_guest(void)
{
    uint8_t code[4 * (GUEST_NOPS + 1)];
    FILE *f;
    int i;

    for (i = 0; i < GUEST_NOPS; i++) {
        memcpy(code + 4 * i, &(uint32_t){ htole32(A64_NOP) }, 4);
    }
    memcpy(code + 4 * i, &(uint32_t){ htole32(A64_B_SELF) }, 4);
    guest_path = tmp_file("guest.bin");
    f = fopen(guest_path, "wb");
    if (!f || fwrite(code, sizeof(code), 1, f) != 1 || fclose(f) != 0) {
        die("cannot write %s: %s", guest_path, strerror(errno));
    }
}

static bool json_num(const char *json, const char *key, long *v)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    p = strstr(json, pat);
    if (!p) {
        return false;
    }
    *v = parse_num(p + strlen(pat), 10);
    return true;
}

static void qemu_start(Vm *q, const char *cpu, const char *sock)
{
    char gdb[64], mcd[64], qmp[300], loader[300], line[4096];
    long major = 0, minor = 0, micro = 0, tid;
    uint64_t deadline;
    int attempt, status;
    Qmp m;

    memset(q, 0, sizeof(*q));
    q->cpu = cpu;
    q->qmp_path = tmp_file(sock);
    for (attempt = 1;; attempt++) {
        q->gdb_port = free_port();
        do {
            q->mcd_port = free_port();
        } while (q->mcd_port == q->gdb_port);
        snprintf(gdb, sizeof(gdb), "tcp:127.0.0.1:%d", q->gdb_port);
        snprintf(mcd, sizeof(mcd), "tcp:127.0.0.1:%d", q->mcd_port);
        snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off",
                 q->qmp_path);
        snprintf(loader, sizeof(loader), "loader,file=%s,addr=0x%llx",
                 guest_path, GUEST_BASE);
        unlink(q->qmp_path);
        fflush(NULL);
        q->pid = fork();
        if (q->pid < 0) {
            die("fork: %s", strerror(errno));
        }
        if (q->pid == 0) {
            char pc[64];

            prctl(PR_SET_PDEATHSIG, SIGKILL);
            snprintf(pc, sizeof(pc), "loader,addr=0x%llx,cpu-num=0",
                     GUEST_BASE);
            dup2(2, 1);
            execl(opt_qemu, opt_qemu, "-M", "virt", "-cpu", cpu, "-S",
                  "-display", "none", "-nodefaults", "-gdb", gdb,
                  "-mcd", mcd, "-qmp", qmp, "-device", loader,
                  "-device", pc, (char *)NULL);
            fprintf(stderr, "mcd-bench: cannot run %s: %s\n", opt_qemu,
                    strerror(errno));
            _exit(127);
        }
        add_child(q->pid);
        deadline = now_ns() + 60 * 1000000000ULL;
        while (!qmp_open(&m, q->qmp_path)) {
            if (reap_child(q->pid, &status) == q->pid) {
                break;
            }
            if (now_ns() > deadline) {
                die("QEMU does not open its QMP socket");
            }
            sleep_ms(20);
        }
        if (m.fd >= 0) {
            break;
        }
        end_child(q->pid);
        if (attempt == 3 || (WIFEXITED(status) && WEXITSTATUS(status) == 127)) {
            die("QEMU exited at start-up (status 0x%x)", status);
        }
        /* another program may have taken one of the ports meanwhile */
    }
    qmp_cmd(&m, "query-cpus-fast", line, sizeof(line));
    if (!json_num(line, "thread-id", &tid)) {
        die("QMP: no thread-id in %.80s", line);
    }
    q->vcpu_tid = tid;
    qmp_cmd(&m, "query-version", line, sizeof(line));
    json_num(line, "major", &major);
    json_num(line, "minor", &minor);
    json_num(line, "micro", &micro);
    snprintf(q->version, sizeof(q->version), "%ld.%ld.%ld", major, minor,
             micro);
    qmp_close(&m);
    pin_tid(q->pid, cpu_main, "QEMU's main thread");
    pin_tid(q->vcpu_tid, cpu_vcpu, "the vCPU thread");
}

/* End QEMU with QMP's quit; signals only if that does not work. */
static void qemu_stop(Vm *q)
{
    static const char quit[] = "{\"execute\":\"quit\"}\n";
    int i, status;
    Qmp m;

    if (qmp_open(&m, q->qmp_path)) {
        if (send(m.fd, quit, sizeof(quit) - 1, MSG_NOSIGNAL) > 0) {
            for (i = 0; i < 250; i++) {
                if (reap_child(q->pid, &status) == q->pid) {
                    break;
                }
                sleep_ms(20);
            }
        }
        qmp_close(&m);
    }
    end_child(q->pid);
    q->pid = 0;
}

/*
 * Stop the VM with QMP: after an MCD session, whose detach lets a VM
 * that the MCD debugger stopped run again.
 */
static void qmp_stop_vm(Vm *q)
{
    char line[4096];
    Qmp m;
    int i;

    if (!qmp_open(&m, q->qmp_path)) {
        die("QMP: cannot connect");
    }
    for (i = 0; i < 100; i++) {
        qmp_cmd(&m, "query-status", line, sizeof(line));
        if (strstr(line, "\"running\": false")) {
            break;
        }
        qmp_cmd(&m, "stop", line, sizeof(line));
    }
    qmp_close(&m);
}

/*
 * The loopback floor: a TCP echo thread on QEMU's CPU
 */

static int echo_port;
static int echo_fd = -1;

static void *echo_main(void *opaque)
{
    int lfd = (intptr_t)opaque;
    char buf[256];
    ssize_t n;
    int fd = accept(lfd, NULL, NULL);

    close(lfd);
    if (fd < 0) {
        return NULL;
    }
    sock_setup(fd);
    for (;;) {
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0 || send(fd, buf, n, MSG_NOSIGNAL) != n) {
            break;
        }
    }
    close(fd);
    return NULL;
}

static void echo_start(void)
{
    pthread_t thread;
    int lfd = tcp_listen(&echo_port);

    if (pthread_create(&thread, NULL, echo_main, (void *)(intptr_t)lfd)) {
        die("cannot start the echo thread");
    }
    pthread_detach(thread);
    echo_fd = tcp_connect(echo_port);
}

static void echo_round_trip(void)
{
    static const char req[] = "$qsystem#|";
    char buf[64];
    size_t got = 0;
    ssize_t n;

    write_all(echo_fd, req, sizeof(req) - 1, "echo");
    while (got < sizeof(req) - 1) {
        n = recv(echo_fd, buf + got, sizeof(buf) - got, 0);
        if (n <= 0) {
            die("echo: %s", n ? strerror(errno) : "closed");
        }
        got += n;
    }
}

/*
 * The floor is sampled in runs of reps.floor round trips between the
 * small round trips of every client (before its i-th, for every
 * reps.floor-th i), so that the load of the machine weighs on both
 * alike.
 */
static void floor_between(int i)
{
    int k;

    if (i % reps.floor) {
        return;
    }
    for (k = 0; k < reps.floor; k++) {
        uint64_t t0 = now_ns();

        echo_round_trip();
        add_sample(&floor_samples, (double)(now_ns() - t0));
    }
}

/*
 * libmcd
 */

typedef struct Lib {
    mcd_server_st *server;
    mcd_core_st *core;
    uint32_t ns_space;
    mcd_register_info_st *regs;     /* the Core Registers group */
    uint32_t n_regs;
    uint8_t *reg_data;
    mcd_tx_st *reg_tx;
    int cmp[NR_CMP_REGS];           /* x0..x30, sp, pc in regs */
    unsigned cmp_off[NR_CMP_REGS];
    uint32_t n_all_regs;
} Lib;

static void lib_check(mcd_return_et ret, const mcd_core_st *core,
                      const char *what)
{
    mcd_error_info_st e;

    if (ret == MCD_RET_ACT_NONE) {
        return;
    }
    memset(&e, 0, sizeof(e));
    mcd_qry_error_info_f(core, &e);
    die("libmcd: %s failed: %s (error 0x%x)", what, e.error_str,
        e.error_code);
}

/* mcd_open_server_f, the system, device and cores, mcd_open_core_f */
static void lib_open(Lib *l, int port)
{
    mcd_core_con_info_st sys, dev, core;
    char config[64];
    uint32_t n;

    memset(l, 0, sizeof(*l));
    snprintf(config, sizeof(config), "127.0.0.1:%d", port);
    lib_check(mcd_open_server_f("", config, &l->server), NULL,
              "mcd_open_server_f");
    n = 1;
    lib_check(mcd_qry_systems_f(0, &n, &sys), NULL, "mcd_qry_systems_f");
    n = 1;
    lib_check(mcd_qry_devices_f(&sys, 0, &n, &dev), NULL,
              "mcd_qry_devices_f");
    n = 1;
    lib_check(mcd_qry_cores_f(&dev, 0, &n, &core), NULL, "mcd_qry_cores_f");
    lib_check(mcd_open_core_f(&core, &l->core), NULL, "mcd_open_core_f");
}

static void lib_close(Lib *l)
{
    lib_check(mcd_close_core_f(l->core), NULL, "mcd_close_core_f");
    lib_check(mcd_close_server_f(l->server), NULL, "mcd_close_server_f");
    free(l->regs);
    free(l->reg_data);
    free(l->reg_tx);
    memset(l, 0, sizeof(*l));
}

/* The register groups and every register: what a debugger asks first. */
static uint32_t lib_reg_map(Lib *l)
{
    mcd_register_group_st groups[64];
    mcd_register_info_st *all;
    uint32_t n = 64, nregs = 0;

    lib_check(mcd_qry_reg_groups_f(l->core, 0, &n, groups), l->core,
              "mcd_qry_reg_groups_f");
    lib_check(mcd_qry_reg_map_f(l->core, 0, 0, &nregs, NULL), l->core,
              "mcd_qry_reg_map_f");
    all = xmalloc((nregs ? nregs : 1) * sizeof(*all));
    lib_check(mcd_qry_reg_map_f(l->core, 0, 0, &nregs, all), l->core,
              "mcd_qry_reg_map_f");
    free(all);
    return nregs;
}

/* The memory space and the core registers, a transaction for each. */
static void lib_learn(Lib *l)
{
    mcd_memspace_st spaces[16];
    uint32_t n = 16, i, off = 0;
    char name[8];
    int j;

    lib_check(mcd_qry_mem_spaces_f(l->core, 0, &n, spaces), l->core,
              "mcd_qry_mem_spaces_f");
    for (i = 0; i < n; i++) {
        if (strcmp(spaces[i].mem_space_name, "Non Secure") == 0) {
            l->ns_space = spaces[i].mem_space_id;
        }
    }
    if (!l->ns_space) {
        die("libmcd: no memory space 'Non Secure'");
    }
    l->n_all_regs = lib_reg_map(l);
    n = 0;
    lib_check(mcd_qry_reg_map_f(l->core, 1, 0, &n, NULL), l->core,
              "mcd_qry_reg_map_f (group 1)");
    l->regs = xmalloc((n ? n : 1) * sizeof(*l->regs));
    lib_check(mcd_qry_reg_map_f(l->core, 1, 0, &n, l->regs), l->core,
              "mcd_qry_reg_map_f (group 1)");
    l->n_regs = n;
    l->reg_tx = xzalloc((n ? n : 1) * sizeof(*l->reg_tx));
    for (j = 0; j < NR_CMP_REGS; j++) {
        l->cmp[j] = -1;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < NR_CMP_REGS; j++) {
            if (strcmp(l->regs[i].regname, cmp_name(j, name)) == 0) {
                l->cmp[j] = i;
                l->cmp_off[j] = off;
            }
        }
        off += l->regs[i].regsize / 8;
    }
    l->reg_data = xmalloc(off ? off : 1);
    for (i = 0, off = 0; i < n; i++) {
        l->reg_tx[i].addr = l->regs[i].addr;
        l->reg_tx[i].access_type = MCD_TX_AT_R;
        l->reg_tx[i].data = l->reg_data + off;
        l->reg_tx[i].num_bytes = l->regs[i].regsize / 8;
        off += l->regs[i].regsize / 8;
    }
    for (j = 0; j < NR_CMP_REGS; j++) {
        if (l->cmp[j] < 0 || l->regs[l->cmp[j]].regsize != 64) {
            die("libmcd: no 64-bit register %s in group 1", cmp_name(j, name));
        }
    }
}

/* All core registers: one transaction list, a transaction per register. */
static void lib_read_core_regs(Lib *l)
{
    mcd_txlist_st list = { l->reg_tx, l->n_regs, 0 };

    lib_check(mcd_execute_txlist_f(l->core, &list), l->core,
              "mcd_execute_txlist_f (registers)");
    if (list.num_tx_ok != l->n_regs) {
        die("libmcd: %u of %u register transactions done", list.num_tx_ok,
            l->n_regs);
    }
}

static void lib_cmp_regs(Lib *l, uint8_t *cmp)
{
    int i;

    lib_read_core_regs(l);
    for (i = 0; i < NR_CMP_REGS; i++) {
        memcpy(cmp + 8 * i, l->reg_data + l->cmp_off[i], 8);
    }
}

static void lib_write_reg(Lib *l, int cmp, uint64_t value)
{
    uint8_t b[8];
    mcd_tx_st tx = { 0 };
    mcd_txlist_st list = { &tx, 1, 0 };

    put_le64(b, value);
    tx.addr = l->regs[l->cmp[cmp]].addr;
    tx.access_type = MCD_TX_AT_W;
    tx.data = b;
    tx.num_bytes = 8;
    lib_check(mcd_execute_txlist_f(l->core, &list), l->core,
              "mcd_execute_txlist_f (register write)");
}

static uint64_t lib_get_pc(Lib *l)
{
    uint8_t b[8];
    mcd_tx_st tx = { 0 };
    mcd_txlist_st list = { &tx, 1, 0 };

    tx.addr = l->regs[l->cmp[32]].addr;
    tx.access_type = MCD_TX_AT_R;
    tx.data = b;
    tx.num_bytes = 8;
    lib_check(mcd_execute_txlist_f(l->core, &list), l->core,
              "mcd_execute_txlist_f (pc)");
    return le64(b);
}

static void lib_mem(Lib *l, uint64_t addr, uint8_t *buf, size_t size,
                    bool write)
{
    mcd_tx_st tx;
    mcd_txlist_st list;
    size_t off;

    for (off = 0; off < size; off += LIB_CHUNK) {
        memset(&tx, 0, sizeof(tx));
        tx.addr.address = addr + off;
        tx.addr.mem_space_id = l->ns_space;
        tx.access_type = write ? MCD_TX_AT_W : MCD_TX_AT_R;
        tx.data = buf + off;
        tx.num_bytes = size - off < LIB_CHUNK ? size - off : LIB_CHUNK;
        list.tx = &tx;
        list.num_tx = 1;
        list.num_tx_ok = 0;
        lib_check(mcd_execute_txlist_f(l->core, &list), l->core,
                  write ? "mcd_execute_txlist_f (write)"
                        : "mcd_execute_txlist_f (read)");
        if (list.num_tx_ok != 1 || tx.num_bytes_ok != tx.num_bytes) {
            die("libmcd: %u of %u bytes done at 0x%" PRIx64,
                tx.num_bytes_ok, tx.num_bytes, addr + off);
        }
    }
}

/* Poll the state as fast as possible until the core is in debug state. */
static void lib_wait_debug(Lib *l)
{
    mcd_core_state_st st;
    long polls = 0;

    do {
        lib_check(mcd_qry_state_f(l->core, &st), l->core, "mcd_qry_state_f");
        if (++polls > 1000000) {
            die("libmcd: the core does not stop (state %u)", st.state);
        }
    } while (st.state != MCD_CORE_STATE_DEBUG);
}

static void lib_step(Lib *l)
{
    lib_check(mcd_step_f(l->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1),
              l->core, "mcd_step_f");
    lib_wait_debug(l);
}

/* Set the breakpoint at BP_ADDR; returns its trigger id. */
static uint32_t lib_set_bp(Lib *l)
{
    mcd_trig_simple_core_st trig;
    uint32_t id = 0;

    memset(&trig, 0, sizeof(trig));
    trig.struct_size = sizeof(trig);
    trig.type = MCD_TRIG_TYPE_IP;
    trig.action = MCD_TRIG_ACTION_DBG_DEBUG;
    trig.addr_start.address = BP_ADDR;
    trig.addr_start.mem_space_id = l->ns_space;
    lib_check(mcd_create_trig_f(l->core, &trig, &id), l->core,
              "mcd_create_trig_f");
    return id;
}

static void lib_run_to_bp(Lib *l)
{
    lib_check(mcd_run_f(l->core, FALSE), l->core, "mcd_run_f");
    lib_wait_debug(l);
}

static void lib_bp(Lib *l)
{
    uint32_t id = lib_set_bp(l);

    lib_run_to_bp(l);
    lib_check(mcd_remove_trig_f(l->core, id), l->core, "mcd_remove_trig_f");
}

/*
 * A transparent proxy between libmcd and the stub, for one untimed
 * session that shows what libmcd sends: the extensions it enables and
 * the packets of some calls.
 */

typedef struct Proxy {
    int listen_fd;
    int port;
    int target_port;
    pthread_t thread;
    unsigned long packets;          /* '$' from libmcd (__atomic) */
    char log[16384];                /* libmcd's first bytes */
    size_t log_len;
} Proxy;

static void *proxy_main(void *opaque)
{
    Proxy *p = opaque;
    struct pollfd pfd[2];
    char *buf = xmalloc(1 << 20);
    int cfd, sfd, i, j;
    ssize_t n;

    cfd = accept(p->listen_fd, NULL, NULL);
    if (cfd < 0) {
        free(buf);
        return NULL;
    }
    sfd = tcp_connect(p->target_port);
    sock_setup(cfd);
    pfd[0].fd = cfd;
    pfd[1].fd = sfd;
    pfd[0].events = pfd[1].events = POLLIN;
    for (;;) {
        if (poll(pfd, 2, IO_TIMEOUT_MS) <= 0) {
            break;
        }
        for (i = 0; i < 2; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            n = recv(pfd[i].fd, buf, 1 << 20, 0);
            if (n <= 0) {
                goto out;
            }
            if (i == 0) {
                for (j = 0; j < n; j++) {
                    if (buf[j] == '$') {
                        __atomic_add_fetch(&p->packets, 1, __ATOMIC_SEQ_CST);
                    }
                }
                if (p->log_len + n < sizeof(p->log)) {
                    memcpy(p->log + p->log_len, buf, n);
                    p->log_len += n;
                }
            }
            write_all(pfd[!i].fd, buf, n, "proxy");
        }
    }
out:
    close(cfd);
    close(sfd);
    free(buf);
    return NULL;
}

static unsigned long proxy_count(Proxy *p)
{
    return __atomic_load_n(&p->packets, __ATOMIC_SEQ_CST);
}

/* What libmcd does, seen through the proxy. */
static char lib_asked[256];
static unsigned long lib_pk_open, lib_pk_map, lib_pk_read, lib_pk_regs;
static unsigned long lib_pk_step, lib_pk_state, lib_pk_bp;

static void lib_probe(Vm *q)
{
    Proxy *p = xzalloc(sizeof(*p));
    uint8_t *buf = xmalloc(LIB_CHUNK);
    unsigned long k;
    mcd_core_state_st st;
    char *s, *e;
    Lib l;
    int i;

    p->listen_fd = tcp_listen(&p->port);
    p->target_port = q->mcd_port;
    if (pthread_create(&p->thread, NULL, proxy_main, p)) {
        die("cannot start the proxy thread");
    }
    lib_open(&l, p->port);
    lib_pk_open = proxy_count(p);
    lib_learn(&l);
    lib_pk_map = proxy_count(p) - lib_pk_open;
    lib_check(mcd_stop_f(l.core, TRUE), l.core, "mcd_stop_f");
    /* as in operation 1: state queries of the stopped core */
    k = proxy_count(p);
    for (i = 0; i < 4; i++) {
        lib_check(mcd_qry_state_f(l.core, &st), l.core, "mcd_qry_state_f");
    }
    lib_pk_state = (proxy_count(p) - k) / 4;
    k = proxy_count(p);
    lib_mem(&l, MEM_BASE, buf, LIB_CHUNK, false);
    lib_pk_read = proxy_count(p) - k;
    k = proxy_count(p);
    lib_read_core_regs(&l);
    lib_pk_regs = proxy_count(p) - k;
    lib_write_reg(&l, 32, GUEST_BASE);
    /* as in operations 6 and 8 */
    k = proxy_count(p);
    lib_step(&l);
    lib_pk_step = proxy_count(p) - k;
    lib_write_reg(&l, 32, GUEST_BASE);
    k = proxy_count(p);
    lib_bp(&l);
    lib_pk_bp = proxy_count(p) - k;
    lib_close(&l);
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
    /* the last qprotocol with extensions is what libmcd asked for */
    p->log[p->log_len] = '\0';
    for (s = p->log; (s = memmem(s, p->log + p->log_len - s,
                                 "$qprotocol", 10)); s += 10) {
        if (s[10] != '#') {
            e = strchr(s, '#');
            snprintf(lib_asked, sizeof(lib_asked), "%.*s",
                     e ? (int)(e - s - 10) : 0, s + 10);
        }
    }
    free(buf);
    free(p);
    qmp_stop_vm(q);
}

/*
 * The memory pattern: what the last write wrote, which the next read of
 * another client must find
 */

static uint8_t *mem_expect;     /* MEM_SIZE bytes */
static uint8_t *mem_read;       /* MEM_SIZE bytes */
static uint64_t mem_seed;

static void pattern_fill(uint8_t *buf, size_t size, uint64_t seed)
{
    uint64_t x = seed | 1;
    size_t i;

    for (i = 0; i < size; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
}

/* A new pattern for the next write, as the client of @stub writes it. */
static void pattern_next(int block, int stub)
{
    mem_seed = 0x9e3779b97f4a7c15ULL * (3 * block + stub + 1);
    pattern_fill(mem_expect, MEM_SIZE, mem_seed);
}

static void check_mem(const char *who, int block)
{
    size_t i;

    if (memcmp(mem_read, mem_expect, MEM_SIZE) == 0) {
        check(true, "memory");
        return;
    }
    for (i = 0; i < MEM_SIZE && mem_read[i] == mem_expect[i]; i++) {
        /* find the first difference */
    }
    check(false, "block %d: %s read 0x%02x at 0x%llx, 0x%02x was written",
          block, who, mem_read[i], (unsigned long long)(MEM_BASE + i),
          mem_expect[i]);
}

/*
 * The registers: each client writes its own values into x0..x30, which
 * the next one checks; gdb and the MCD clients must agree on x0..x30,
 * sp and pc whenever both look.
 */

static uint64_t reg_expect[31];
static bool reg_expect_valid;
static const char *reg_writer = "";

static uint64_t reg_pattern(int block, int stub, int i)
{
    return 0x5100000000000000ULL | (uint64_t)(stub + 1) << 48 |
           (uint64_t)block << 16 | i;
}

static void check_regs_expect(const uint8_t *cmp, const char *who,
                              int block)
{
    int i;

    if (!reg_expect_valid) {
        return;
    }
    for (i = 0; i < 31; i++) {
        if (le64(cmp + 8 * i) != reg_expect[i]) {
            check(false, "block %d: %s reads x%d = 0x%" PRIx64 ", %s wrote "
                  "0x%" PRIx64, block, who, i, le64(cmp + 8 * i), reg_writer,
                  reg_expect[i]);
            return;
        }
    }
    check(true, "registers");
}

static void check_regs_same(const uint8_t *gdb, const uint8_t *mcd,
                            const char *who, const char *when, int block)
{
    char name[8];
    int i;

    for (i = 0; i < NR_CMP_REGS; i++) {
        if (memcmp(gdb + 8 * i, mcd + 8 * i, 8) != 0) {
            check(false, "block %d, %s: gdb reads %s = 0x%" PRIx64 ", %s "
                  "0x%" PRIx64, block, when, cmp_name(i, name),
                  le64(gdb + 8 * i), who, le64(mcd + 8 * i));
            return;
        }
    }
    check(true, "registers");
}

static void check_pc(uint64_t pc, uint64_t want, const char *who,
                     const char *what, int block)
{
    check(pc == want, "block %d: %s: pc 0x%" PRIx64 " after %s, not 0x%"
          PRIx64, block, who, pc, what, want);
}

/*
 * What the map op learnt, for the report
 */

typedef struct MapInfo {
    int xml_files;
    size_t xml_bytes;
    int gdb_regs;
    unsigned long gdb_packets;
    int raw_groups;
    int raw_regs;
    unsigned long raw_packets;
    uint32_t lib_regs;
} MapInfo;

static MapInfo map_info[2];     /* the main CPU, the second QEMU's */

/*
 * gdb: connect, qSupported, qXfer:features:read of every XML file.  The
 * connection stays open: closing it is not timed (see map_reps()).
 */
static void gdb_map(Conn *c, int port, MapInfo *mi)
{
    char names[32][64];
    int n_names = 1, i, regs = 0;
    unsigned ps, want;
    size_t len, total = 0, doc_len, doc_size = 65536;
    char *doc = xmalloc(doc_size), *r, *p, *q;

    gdb_open(c, port);
    ps = gdb_supported(c);
    want = ps > 5 ? ps - 5 : ps;
    strcpy(names[0], "target.xml");
    for (i = 0; i < n_names; i++) {
        doc_len = 0;
        for (;;) {
            r = gdb_cmd(c, &len, "qXfer:features:read:%s:%zx,%x", names[i],
                        doc_len, want);
            if (len == 0 || (r[0] != 'm' && r[0] != 'l')) {
                die("gdb: qXfer of %s answered '%.60s'", names[i], r);
            }
            if (doc_len + len >= doc_size) {
                doc_size = 2 * (doc_len + len);
                doc = xrealloc(doc, doc_size);
            }
            memcpy(doc + doc_len, r + 1, len - 1);
            doc_len += len - 1;
            if (r[0] == 'l') {
                break;
            }
        }
        doc[doc_len] = '\0';
        total += doc_len;
        for (p = doc; (p = strstr(p, "<reg ")); p++) {
            regs++;
        }
        for (p = doc; (p = strstr(p, "href=\"")); p = q) {
            p += 6;
            q = strchr(p, '"');
            if (!q || n_names == 32) {
                break;
            }
            snprintf(names[n_names++], sizeof(names[0]), "%.*s",
                     (int)(q - p), p);
        }
    }
    mi->gdb_packets = c->sent;
    mi->xml_files = n_names;
    mi->xml_bytes = total;
    mi->gdb_regs = regs;
    free(doc);
}

/*
 * MCD raw: the packets that libmcd's calls of the map op send, as it
 * sends them: I, qprotocol with the extensions the bench uses, qsystem,
 * qcores, i0 and the lists of core 0, with one write.  If the stub
 * enables the extensions, each list comes whole and the map is one round
 * trip; if not, i0 answers only a failure, a list query one item, and
 * the lists go on one item per query.  The session stays open: its D is
 * not timed (see map_reps()).
 */
static char raw_map_asked[128];     /* the extensions of its qprotocol */
static bool raw_map_refused;

static void raw_map(Conn *c, int port, MapInfo *mi)
{
    static const char *const lists[] = { "memory", "reggroup", "reg" };
    char *first[3], *want = raw_map_asked, *r;
    size_t queued = 0;
    int i, n[3];

    conn_connect(c, port);
    mcd_wanted(NULL, want, sizeof(raw_map_asked));
    mcd_queue(c, &queued, "I");
    mcd_queue(c, &queued, "qprotocol%s", want);
    mcd_queue(c, &queued, "qsystem");
    mcd_queue(c, &queued, "qcores");
    mcd_queue(c, &queued, "i0");
    for (i = 0; i < 3; i++) {
        mcd_queue(c, &queued, "q%sf0", lists[i]);
    }
    mcd_flush(c, &queued);
    r = mcd_reply(c, NULL);
    if (strcmp(r, "shaking your hand") != 0) {
        die("%s: I answered '%.60s'", c->name, r);
    }
    /* refused: nothing is enabled */
    r = mcd_reply(c, NULL);
    raw_map_refused = !strstr(r, "version=");
    c->errors = c->notify = c->lists = c->regs = c->binary = false;
    c->stopregs = false;
    if (!raw_map_refused) {
        mcd_offer(r);
        mcd_enabled_by(c, r);
    }
    mcd_reply(c, NULL);
    r = mcd_reply(c, NULL);
    if (rec_num(r, "nr_cores") < 1) {
        die("MCD: qcores answered '%.60s'", r);
    }
    if (c->errors) {
        r = mcd_reply(c, NULL);
        if (strcmp(r, "success") != 0) {
            die("%s: i0 answered '%.60s'", c->name, r);
        }
    }
    for (i = 0; i < 3; i++) {
        first[i] = strdup(mcd_reply(c, NULL));
        if (!first[i]) {
            die("out of memory");
        }
    }
    for (i = 0; i < 3; i++) {
        n[i] = mcd_list_from(c, lists[i], first[i], NULL, NULL);
        free(first[i]);
    }
    mi->raw_groups = n[1];
    mi->raw_regs = n[2];
    mi->raw_packets = c->sent;
}

/*
 * libmcd: open, the cores, open core 0, its groups and registers; the
 * session stays open (see map_reps()).
 */
static void lib_map(Lib *l, int port, MapInfo *mi)
{
    lib_open(l, port);
    mi->lib_regs = lib_reg_map(l);
}

/*
 * The turns of the clients in a block
 */

static Conn gdb_conn, gdb_peek, mcd_conn;

/*
 * The map op, timed from the connect until the client has the register
 * map; the end of the session is not timed, for any of the clients:
 * gdb closes the connection, MCD raw sends D and closes it, libmcd
 * closes the core and the server.
 */
static void map_reps(Vm *q, int op, MapInfo *mi, int stub)
{
    Lib l;
    int i;

    for (i = 0; i < reps.map; i++) {
        /* let QEMU take the end of the last connection first */
        sleep_ms(2);
        switch (stub) {
        case GDB:
            TIMED(op, GDB, gdb_map(&gdb_conn, q->gdb_port, mi));
            conn_close(&gdb_conn);
            break;
        case RAW:
            TIMED(op, RAW, raw_map(&mcd_conn, q->mcd_port, mi));
            raw_close(&mcd_conn);
            break;
        default:
            TIMED(op, LIB, lib_map(&l, q->mcd_port, mi));
            lib_close(&l);
            break;
        }
    }
}

static unsigned gdb_packet_size;
static size_t gdb_read_chunk, gdb_write_chunk;
static bool gdb_has_x;

static void gdb_read_mem(Conn *c, uint64_t addr, uint8_t *dst, size_t size)
{
    size_t off, n, len;
    char *r;

    for (off = 0; off < size; off += n) {
        n = size - off < gdb_read_chunk ? size - off : gdb_read_chunk;
        r = gdb_cmd(c, &len, "m%" PRIx64 ",%zx", addr + off, n);
        if (len != 2 * n || !hex_decode(dst + off, r, n)) {
            die("gdb: bad reply to m%" PRIx64 ",%zx: '%.60s'", addr + off,
                n, r);
        }
    }
}

static void gdb_write_mem(Conn *c, uint64_t addr, const uint8_t *src,
                          size_t size)
{
    size_t off, n, len, i;
    char *p;
    uint8_t b;

    for (off = 0; off < size; off += n) {
        n = size - off < gdb_write_chunk ? size - off : gdb_write_chunk;
        conn_room(c, 2 * n + 64);
        len = sprintf(c->out + 2, "%c%" PRIx64 ",%zx:", gdb_has_x ? 'X' : 'M',
                      addr + off, n);
        p = c->out + 2 + len;
        if (gdb_has_x) {
            for (i = 0; i < n; i++) {
                b = src[off + i];
                if (b == '#' || b == '$' || b == '}' || b == '*') {
                    *p++ = '}';
                    *p++ = b ^ 0x20;
                } else {
                    *p++ = b;
                }
            }
        } else {
            hex_encode(p, src + off, n);
            p += 2 * n;
        }
        gdb_finish(c, p - c->out - 2);
        gdb_ok(c, "M", gdb_recv(c, NULL));
    }
}

static void turn_gdb(Vm *q, int block)
{
    Conn *c = &gdb_conn;
    uint8_t regs[4096];
    size_t n;
    char *r;
    int i;

    map_reps(q, OP_MAP, &map_info[0], GDB);

    gdb_open(c, q->gdb_port);
    gdb_packet_size = gdb_supported(c);
    /* what gdb sends: m of PacketSize / 2, M of what fits, 16-aligned */
    gdb_read_chunk = gdb_packet_size / 2;
    gdb_write_chunk = ((gdb_packet_size - 32) / 2) & ~(size_t)15;
    r = gdb_cmd(c, NULL, "X%" PRIx64 ",0:", (uint64_t)MEM_BASE);
    gdb_has_x = strcmp(r, "OK") == 0;
    gdb_cmd(c, NULL, "?");

    n = gdb_read_regs(c, regs, sizeof(regs));
    check_regs_expect(regs, "gdb", block);

    for (i = 0; i < reps.rtt; i++) {
        floor_between(i);
        TIMED(OP_RTT, GDB, r = gdb_cmd(c, NULL, "qAttached"));
    }
    for (i = 0; i < reps.mem; i++) {
        TIMED(OP_READ, GDB, gdb_read_mem(c, MEM_BASE, mem_read, MEM_SIZE));
        check_mem("gdb", block);
    }
    pattern_next(block, GDB);
    for (i = 0; i < reps.mem; i++) {
        TIMED(OP_WRITE, GDB, gdb_write_mem(c, MEM_BASE, mem_expect,
                                           MEM_SIZE));
    }
    for (i = 0; i < reps.regs; i++) {
        TIMED(OP_REGS, GDB, n = gdb_read_regs(c, regs, sizeof(regs)));
    }

    gdb_set_reg(c, GDB_PC, GUEST_BASE);
    for (i = 0; i < reps.step; i++) {
        TIMED(OP_STEP, GDB, gdb_resume(c, "s"));
    }
    check_pc(gdb_get_pc(c), GUEST_BASE + 4 * reps.step, "gdb", "steps",
             block);
    gdb_set_reg(c, GDB_PC, GUEST_BASE);
    for (i = 0; i < reps.step; i++) {
        TIMED(OP_STEP_REGS, GDB, {
            gdb_resume(c, "s");
            n = gdb_read_regs(c, regs, sizeof(regs));
        });
    }
    check_pc(le64(regs + 8 * GDB_PC), GUEST_BASE + 4 * reps.step, "gdb",
             "steps with g", block);
    for (i = 0; i < reps.bp; i++) {
        gdb_set_reg(c, GDB_PC, GUEST_BASE);
        TIMED(OP_BP, GDB, {
            gdb_ok(c, "Z0", gdb_cmd(c, NULL, "Z0,%llx,4", BP_ADDR));
            gdb_resume(c, "c");
            gdb_ok(c, "z0", gdb_cmd(c, NULL, "z0,%llx,4", BP_ADDR));
        });
    }
    check_pc(gdb_get_pc(c), BP_ADDR, "gdb", "the breakpoint", block);
    gdb_ok(c, "Z0", gdb_cmd(c, NULL, "Z0,%llx,4", BP_ADDR));
    for (i = 0; i < reps.bp; i++) {
        gdb_set_reg(c, GDB_PC, GUEST_BASE);
        TIMED(OP_BP_KEPT, GDB, gdb_resume(c, "c"));
    }
    gdb_ok(c, "z0", gdb_cmd(c, NULL, "z0,%llx,4", BP_ADDR));
    check_pc(gdb_get_pc(c), BP_ADDR, "gdb", "the kept breakpoint", block);

    /* x0..x30 for the MCD client to find */
    n = gdb_read_regs(c, regs, sizeof(regs));
    for (i = 0; i < 31; i++) {
        reg_expect[i] = reg_pattern(block, GDB, i);
        put_le64(regs + 8 * i, reg_expect[i]);
    }
    conn_room(c, 2 * n + 16);
    c->out[2] = 'G';
    hex_encode(c->out + 3, regs, n);
    gdb_finish(c, 1 + 2 * n);
    gdb_ok(c, "G", gdb_recv(c, NULL));
    reg_expect_valid = true;
    reg_writer = "gdb";
    /* closing without a detach leaves the VM stopped */
    conn_close(c);
}

/* The era-1 client: no qprotocol, steps polled with qstate. */
static void turn_era1(Vm *q, int block)
{
    Conn *c = &mcd_conn;
    uint64_t t0;
    int i, polls;

    conn_connect(c, q->mcd_port);
    c->era1 = true;
    mcd_handshake(c, false);
    mcd_run(c, "i0");
    mcd_run(c, "b1;0");
    raw_set_reg(c, raw_core.pc_id, GUEST_BASE);
    for (i = 0; i < reps.step; i++) {
        t0 = now_ns();
        mcd_run(c, "c0;0");
        polls = raw_poll_debug(c);
        add_sample(&samples[OP_ERA1][RAW], (double)(now_ns() - t0));
        add_sample(&era1_polls, polls);
    }
    check_pc(raw_get_pc(c), GUEST_BASE + 4 * reps.step, "era-1 client",
             "steps", block);
    raw_close(c);
    qmp_stop_vm(q);
}

static void turn_raw(Vm *q, int block)
{
    Conn *c = &mcd_conn;
    uint8_t regs[4096], mine[NR_CMP_REGS * 8], gdbs[NR_CMP_REGS * 8];
    unsigned stops;
    int i;

    map_reps(q, OP_MAP, &map_info[0], RAW);

    raw_open(c, q->mcd_port);
    raw_cmp_regs(c, mine);
    gdb_peek_regs(q->gdb_port, &gdb_peek, gdbs);
    check_regs_same(gdbs, mine, "MCD raw", "MCD raw session start", block);
    check_regs_expect(mine, "MCD raw", block);
    mcd_run(c, "b1;0");

    for (i = 0; i < reps.rtt; i++) {
        floor_between(i);
        TIMED(OP_RTT, RAW, mcd_cmd(c, NULL, "qsystem"));
    }
    for (i = 0; i < reps.mem; i++) {
        TIMED(OP_READ, RAW, raw_read_mem(c, MEM_BASE, mem_read, MEM_SIZE));
        check_mem("MCD raw", block);
    }
    pattern_next(block, RAW);
    for (i = 0; i < reps.mem; i++) {
        TIMED(OP_WRITE, RAW, raw_write_mem(c, MEM_BASE, mem_expect,
                                           MEM_SIZE));
    }
    for (i = 0; i < reps.regs; i++) {
        TIMED(OP_REGS, RAW, raw_read_core_regs(c, regs));
    }

    raw_set_reg(c, raw_core.pc_id, GUEST_BASE);
    for (i = 0; i < reps.step; i++) {
        TIMED(OP_STEP, RAW, raw_step(c));
    }
    check_pc(raw_get_pc(c), GUEST_BASE + 4 * reps.step, "MCD raw", "steps",
             block);
    raw_set_reg(c, raw_core.pc_id, GUEST_BASE);
    if (c->stopregs) {
        /* the stop notifications carry the core registers */
        mcd_ok(c, "E0;%s", raw_core.core_ids);
    }
    for (i = 0; i < reps.step; i++) {
        TIMED(OP_STEP_REGS, RAW, {
            c->stop_regs[0] = '\0';
            raw_step(c);
            raw_read_core_regs(c, regs);
        });
    }
    if (c->stopregs) {
        mcd_ok(c, "E0");
    }
    check_pc(le64(regs + raw_core.cmp_off[32]), GUEST_BASE + 4 * reps.step,
             "MCD raw", "steps with g", block);
    for (i = 0; i < reps.bp; i++) {
        raw_set_reg(c, raw_core.pc_id, GUEST_BASE);
        TIMED(OP_BP, RAW, {
            mcd_ok(c, "t0;1;%llu;0", BP_ADDR);
            stops = c->stops;
            mcd_run(c, "C0;0");
            raw_wait_stop(c, stops);
            mcd_ok(c, "T0;1;%llu;0", BP_ADDR);
        });
    }
    check_pc(raw_get_pc(c), BP_ADDR, "MCD raw", "the breakpoint", block);
    mcd_ok(c, "t0;1;%llu;0", BP_ADDR);
    for (i = 0; i < reps.bp; i++) {
        raw_set_reg(c, raw_core.pc_id, GUEST_BASE);
        TIMED(OP_BP_KEPT, RAW, {
            stops = c->stops;
            mcd_run(c, "C0;0");
            raw_wait_stop(c, stops);
        });
    }
    mcd_ok(c, "T0;1;%llu;0", BP_ADDR);
    check_pc(raw_get_pc(c), BP_ADDR, "MCD raw", "the kept breakpoint", block);

    for (i = 0; i < 31; i++) {
        reg_expect[i] = reg_pattern(block, RAW, i);
        raw_set_reg(c, raw_core.cmp_id[i], reg_expect[i]);
    }
    reg_writer = "MCD raw";
    raw_cmp_regs(c, mine);
    gdb_peek_regs(q->gdb_port, &gdb_peek, gdbs);
    check_regs_same(gdbs, mine, "MCD raw", "MCD raw session end", block);
    check_regs_expect(gdbs, "gdb", block);
    raw_close(c);
    qmp_stop_vm(q);

    turn_era1(q, block);
}

static void turn_lib(Vm *q, int block)
{
    uint8_t mine[NR_CMP_REGS * 8], gdbs[NR_CMP_REGS * 8];
    mcd_core_state_st st;
    uint32_t bp_id;
    Lib l;
    int i;

    map_reps(q, OP_MAP, &map_info[0], LIB);

    lib_open(&l, q->mcd_port);
    lib_learn(&l);
    lib_cmp_regs(&l, mine);
    gdb_peek_regs(q->gdb_port, &gdb_peek, gdbs);
    check_regs_same(gdbs, mine, "libmcd", "libmcd session start", block);
    check_regs_expect(mine, "libmcd", block);
    lib_check(mcd_stop_f(l.core, TRUE), l.core, "mcd_stop_f");

    for (i = 0; i < reps.rtt; i++) {
        floor_between(i);
        TIMED(OP_RTT, LIB, lib_check(mcd_qry_state_f(l.core, &st), l.core,
                                     "mcd_qry_state_f"));
    }
    for (i = 0; i < reps.mem; i++) {
        TIMED(OP_READ, LIB, lib_mem(&l, MEM_BASE, mem_read, MEM_SIZE, false));
        check_mem("libmcd", block);
    }
    pattern_next(block, LIB);
    for (i = 0; i < reps.mem; i++) {
        TIMED(OP_WRITE, LIB, lib_mem(&l, MEM_BASE, mem_expect, MEM_SIZE,
                                     true));
    }
    for (i = 0; i < reps.regs; i++) {
        TIMED(OP_REGS, LIB, lib_read_core_regs(&l));
    }

    lib_write_reg(&l, 32, GUEST_BASE);
    for (i = 0; i < reps.step; i++) {
        TIMED(OP_STEP, LIB, lib_step(&l));
    }
    check_pc(lib_get_pc(&l), GUEST_BASE + 4 * reps.step, "libmcd", "steps",
             block);
    lib_write_reg(&l, 32, GUEST_BASE);
    for (i = 0; i < reps.step; i++) {
        TIMED(OP_STEP_REGS, LIB, {
            lib_step(&l);
            lib_read_core_regs(&l);
        });
    }
    check_pc(le64(l.reg_data + l.cmp_off[32]), GUEST_BASE + 4 * reps.step,
             "libmcd", "steps with registers", block);
    for (i = 0; i < reps.bp; i++) {
        lib_write_reg(&l, 32, GUEST_BASE);
        TIMED(OP_BP, LIB, lib_bp(&l));
    }
    check_pc(lib_get_pc(&l), BP_ADDR, "libmcd", "the breakpoint", block);
    bp_id = lib_set_bp(&l);
    for (i = 0; i < reps.bp; i++) {
        lib_write_reg(&l, 32, GUEST_BASE);
        TIMED(OP_BP_KEPT, LIB, lib_run_to_bp(&l));
    }
    lib_check(mcd_remove_trig_f(l.core, bp_id), l.core, "mcd_remove_trig_f");
    check_pc(lib_get_pc(&l), BP_ADDR, "libmcd", "the kept breakpoint", block);

    for (i = 0; i < 31; i++) {
        reg_expect[i] = reg_pattern(block, LIB, i);
        lib_write_reg(&l, i, reg_expect[i]);
    }
    reg_writer = "libmcd";
    lib_cmp_regs(&l, mine);
    gdb_peek_regs(q->gdb_port, &gdb_peek, gdbs);
    check_regs_same(gdbs, mine, "libmcd", "libmcd session end", block);
    check_regs_expect(gdbs, "gdb", block);
    lib_close(&l);
    qmp_stop_vm(q);
}

/*
 * The report
 */

/* Column widths: label, unit, median, p10..p90, ratio */
#define W_LABEL 28
#define W_UNIT  4
#define W_MED   6
#define W_SPREAD 11
#define W_RATIO 5

static const char *const op_names[NR_OPS] = {
    [OP_RTT] = "1. small round trip",
    [OP_READ] = "2. read 64 MiB",
    [OP_WRITE] = "3. write 64 MiB",
    [OP_MAP] = "4. register map",
    [OP_MAP2] = "4. register map",
    [OP_REGS] = "5. all core registers",
    [OP_STEP] = "6. one step",
    [OP_STEP_REGS] = "7. step + core registers",
    [OP_BP] = "8. run to a breakpoint",
    [OP_BP_KEPT] = "8b. ... that stays set",
    [OP_ERA1] = "9. era-1 step (gdb: 6.)",
};

/* printf a line without the blanks at its end. */
static void print_line(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void print_line(const char *fmt, ...)
{
    char line[512];
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (n = strlen(line); n > 0 && line[n - 1] == ' '; n--) {
        /* trim */
    }
    printf("%.*s\n", (int)n, line);
}

/* Three significant digits, at most. */
static void fmt_num(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(buf, size, "-");
    } else if (v < 10) {
        snprintf(buf, size, "%.2f", v);
    } else if (v < 100) {
        snprintf(buf, size, "%.1f", v);
    } else {
        snprintf(buf, size, "%.0f", v);
    }
}

/* median and p10..p90 of @s in @unit (ns per unit), or as MB/s. */
static void fmt_cell(char *buf, size_t size, const Samples *s, double unit,
                     bool mbs)
{
    char m[32], lo[80], hi[32];
    double vm = median(s), v10 = quantile(s, 0.1), v90 = quantile(s, 0.9);

    if (s->n == 0) {
        snprintf(buf, size, "%*s %-*s", W_MED, "-", W_SPREAD, "");
        return;
    }
    if (mbs) {
        /* the 10th percentile of the time is the 90th of the rate */
        fmt_num(m, sizeof(m), MEM_SIZE / vm * 1e3);
        fmt_num(lo, sizeof(lo), MEM_SIZE / v90 * 1e3);
        fmt_num(hi, sizeof(hi), MEM_SIZE / v10 * 1e3);
    } else {
        fmt_num(m, sizeof(m), vm / unit);
        fmt_num(lo, sizeof(lo), v10 / unit);
        fmt_num(hi, sizeof(hi), v90 / unit);
    }
    snprintf(lo + strlen(lo), sizeof(lo) - strlen(lo), "..%s", hi);
    snprintf(buf, size, "%*s %-*s", W_MED, m, W_SPREAD, lo);
}

/* gdb's median time / the MCD client's; blank for rows of MB/s */
static void fmt_ratio(char *buf, size_t size, double gdb, double mcd,
                      bool blank)
{
    if (blank || isnan(gdb) || isnan(mcd) || gdb <= 0 || mcd <= 0) {
        snprintf(buf, size, "%*s", W_RATIO, "");
    } else if (gdb / mcd < 0.1) {
        snprintf(buf, size, "%*.3f", W_RATIO, gdb / mcd);
    } else if (gdb / mcd < 10) {
        snprintf(buf, size, "%*.2f", W_RATIO, gdb / mcd);
    } else {
        snprintf(buf, size, "%*.1f", W_RATIO, gdb / mcd);
    }
}

/*
 * A row: @op's samples of the three clients; for era-1 steps (@gdb_op
 * other than @op), gdb's cell and the ratios are those of @gdb_op.
 */
static void print_row(const char *name, int op, int gdb_op, bool mbs)
{
    const Samples *s = samples[op];
    double unit, least = INFINITY, gm;
    const char *uname;
    char cell[NR_STUBS][96], ratio[2][16];
    int i;

    for (i = 0; i < NR_STUBS; i++) {
        if (s[i].n && median(&s[i]) < least) {
            least = median(&s[i]);
        }
    }
    if (mbs) {
        unit = 1;
        uname = "MB/s";
    } else if (least < 1e6) {
        unit = 1e3;
        uname = "us";
    } else if (least < 1e9) {
        unit = 1e6;
        uname = "ms";
    } else {
        unit = 1e9;
        uname = "s";
    }
    for (i = 0; i < NR_STUBS; i++) {
        fmt_cell(cell[i], sizeof(cell[i]), &s[i], unit, mbs);
    }
    if (gdb_op != op) {
        fmt_cell(cell[GDB], sizeof(cell[GDB]), &samples[gdb_op][GDB], unit,
                 false);
    }
    gm = median(&samples[gdb_op][GDB]);
    fmt_ratio(ratio[0], sizeof(ratio[0]), gm, median(&s[RAW]), mbs);
    fmt_ratio(ratio[1], sizeof(ratio[1]), gm, median(&s[LIB]), mbs);
    print_line("%-*s %-*s %s  %s %s  %s %s", W_LABEL, name, W_UNIT, uname,
               cell[GDB], cell[RAW], ratio[0], cell[LIB], ratio[1]);
}

static void print_table(void)
{
    int c1 = W_LABEL + 1 + W_UNIT + 1;
    int wc = W_MED + 1 + W_SPREAD;
    char buf[96], lo[96], hi[32], name[64];
    int i;

    printf("%*s%-*s  %-*s  %s\n", c1, "", wc, "gdb", wc + 1 + W_RATIO,
           "MCD raw", "libmcd (MCD API)");
    printf("%-*s %-*s %*s %-*s  %*s %-*s %*s  %*s %-*s %*s\n", W_LABEL,
           "operation", W_UNIT, "unit", W_MED, "median", W_SPREAD,
           "p10..p90", W_MED, "median", W_SPREAD, "p10..p90", W_RATIO,
           "gdb/", W_MED, "median", W_SPREAD, "p10..p90", W_RATIO, "gdb/");
    fmt_num(buf, sizeof(buf), median(&floor_samples) / 1e3);
    fmt_num(lo, sizeof(lo), quantile(&floor_samples, 0.1) / 1e3);
    fmt_num(hi, sizeof(hi), quantile(&floor_samples, 0.9) / 1e3);
    snprintf(lo + strlen(lo), sizeof(lo) - strlen(lo), "..%s", hi);
    print_line("%-*s %-*s %*s %-*s", W_LABEL, "0. loopback echo (floor)",
               W_UNIT, "us", W_MED, buf, W_SPREAD, lo);
    for (i = 0; i < NR_OPS; i++) {
        switch (i) {
        case OP_MAP:
            snprintf(name, sizeof(name), "%s, %s", op_names[i], opt_cpu);
            print_row(name, i, i, false);
            break;
        case OP_MAP2:
            if (samples[i][GDB].n) {
                snprintf(name, sizeof(name), "%s, %s", op_names[i],
                         opt_map_cpu);
                print_row(name, i, i, false);
            }
            break;
        case OP_READ:
        case OP_WRITE:
            print_row(op_names[i], i, i, false);
            print_row(i == OP_READ ? "   read (1 MB = 10^6 bytes)"
                                   : "   write", i, i, true);
            break;
        case OP_ERA1:
            print_row(op_names[i], i, OP_STEP, false);
            break;
        default:
            print_row(op_names[i], i, i, false);
            break;
        }
    }
}

static void cpu_model(char *buf, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512], *p;

    snprintf(buf, size, "unknown CPU");
    while (f && fgets(line, sizeof(line), f)) {
        p = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && p) {
            p += strspn(p + 1, " \t") + 1;
            p[strcspn(p, "\n")] = '\0';
            snprintf(buf, size, "%s", p);
            break;
        }
    }
    if (f) {
        fclose(f);
    }
}

static void load_avg(char *buf, size_t size)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b = 0, c = 0;

    if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3) {
        snprintf(buf, size, "%.2f %.2f %.2f", a, b, c);
    } else {
        snprintf(buf, size, "unknown");
    }
    if (f) {
        fclose(f);
    }
}

/*
 * Print @text after @tag (padded to @indent columns), wrapped at 78
 * columns after a blank or a comma, the lines after the first indented
 * by @indent.
 */
static void wrap(const char *tag, int indent, const char *text)
{
    const char *p = text, *brk;
    int col, n;

    col = printf("%-*s", indent, tag);
    while (*p) {
        /* the longest piece that fits, ending after ' ' or ',' */
        brk = NULL;
        for (n = 0; p[n] && col + n < 78; n++) {
            if (p[n] == ' ' || p[n] == ',') {
                brk = p + n + 1;
            }
        }
        if (!p[n] || !brk) {
            brk = p + n;
        }
        n = brk - p;
        while (n > 0 && p[n - 1] == ' ') {
            n--;
        }
        printf("%.*s", n, p);
        for (p = brk; *p == ' '; p++) {
            /* no blanks at the start of a line */
        }
        if (*p) {
            col = printf("\n%*s", indent, "") - 1;
        }
    }
    printf("\n");
}

static void say(const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const char *tag, const char *fmt, ...)
{
    char text[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    wrap(tag, 10, text);
}

static void note(const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const char *tag, const char *fmt, ...)
{
    char text[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    wrap(tag, 3, text);
}

static void report(Vm *q, const char *load_start, double seconds,
                   const mcd_impl_version_info_st *impl)
{
    char cpu[256], load[64];
    struct utsname u;
    Dl_info dl;
    MapInfo *m0 = &map_info[0], *m1 = &map_info[1];
    double fl = median(&floor_samples);
    const char *stop;

    cpu_model(cpu, sizeof(cpu));
    uname(&u);
    load_avg(load, sizeof(load));
    printf("MCD stub benchmark (make bench: bench/mcd-bench.c)\n");
    say("machine:", "%s, %d CPUs online, %s %s %s", cpu, nr_cpus_online,
        u.sysname, u.release, u.machine);
    say("load:", "%s at the start, %s at the end", load_start, load);
    say("qemu:", "%s (%s), -M virt -cpu %s, 128 MiB, TCG", opt_qemu,
        q->version, opt_cpu);
    if (pinned) {
        say("pinning:", "CPU %d: QEMU's main thread (both stubs), the "
            "bench, its echo thread; CPU %d: the vCPU thread.  On a 2-CPU "
            "machine cross-CPU wake-ups dominate unpinned round trips.",
            cpu_main, cpu_vcpu);
    } else {
        say("pinning:", "none: only one CPU is available, so everything "
            "runs unpinned on it");
    }
    say("gdbstub:", "PacketSize=0x%x: m of %zu bytes, %s of %zu bytes per "
        "packet, %s", gdb_packet_size, gdb_read_chunk,
        gdb_has_x ? "X" : "M", gdb_write_chunk,
        gdb_has_x ? "binary writes" : "hex (no X)");
    if (mcd_era1_stub) {
        say("MCD stub:", "era 1 (no qprotocol): m/M of %lu bytes, p per "
            "register, one list item per query, qstate polling",
            mcd_max_data);
    } else {
        say("MCD stub:", "version %lu, offers %s", mcd_version,
            mcd_offered[0] ? mcd_offered : "no extensions");
        say("MCD raw:", "enables %s: %s, %s, %s, %s",
            mcd_enabled[0] ? mcd_enabled : "nothing",
            list_has(mcd_enabled, "binary") ? "x/X of 1 MiB (binary)"
                                            : "m/M of 16 KiB (hex)",
            list_has(mcd_enabled, "regs") ? "g0;<ids>" : "p per register",
            list_has(mcd_enabled, "lists") ? "lists" : "one list item per "
            "query",
            list_has(mcd_enabled, "notify") ? "%stop notifications"
                                            : "qstate polling");
    }
    if (dladdr((void *)mcd_initialize_f, &dl) && dl.dli_fname) {
        say("libmcd:", "%s (%s %u.%u.%u, %s)", dl.dli_fname, impl->vendor,
            impl->v_imp_major, impl->v_imp_minor, impl->v_imp_build,
            impl->date);
    }
    say("", "enables %s; packets: open server %lu, memory spaces and "
        "register map %lu, state of a stopped core %lu, 1 MiB read %lu, "
        "core registers %lu, step and state %lu, run to a breakpoint and "
        "state until stopped %lu", lib_asked[0] ? lib_asked : "nothing",
        lib_pk_open, lib_pk_map, lib_pk_state, lib_pk_read, lib_pk_regs,
        lib_pk_step, lib_pk_bp);
    say("runs:", "%d blocks, each gdb, MCD raw + era-1 client, libmcd; per "
        "block and client: round trips %d, reads and writes %d, register "
        "maps %d, register reads %d, steps %d, steps + registers %d, "
        "breakpoint runs %d; %.0f s in all", opt_blocks, reps.rtt, reps.mem,
        reps.map, reps.regs, reps.step, reps.step, reps.bp, seconds);
    printf("\n");
    print_table();
    stop = list_has(mcd_enabled, "notify") ? "%stop" : "qstate0 until debug";
    printf("\n");
    note("", "gdb/: gdb's median time / the MCD client's (above 1: the MCD "
         "client is faster).  p10..p90: the 10th and 90th percentile of "
         "the repetitions (for MB/s, of the rates).");
    printf("\n");
    note("1.", "gdb qAttached; MCD raw qsystem; libmcd mcd_qry_state_f on "
         "the stopped core (%s).  Above the floor: gdb %+.1f us, MCD raw "
         "%+.1f us, libmcd %+.1f us.", lib_pk_state == 1 ? "one qstate" :
         lib_pk_state == 0 ? "NOT a round trip: libmcd sent no packet" :
         "more than one packet",
         (median(&samples[OP_RTT][GDB]) - fl) / 1e3,
         (median(&samples[OP_RTT][RAW]) - fl) / 1e3,
         (median(&samples[OP_RTT][LIB]) - fl) / 1e3);
    note("2.", "3. at 0x%llx, through the CPU's view (gdb) and the \"Non "
         "Secure\" memory space (MCD); libmcd: one transaction of 1 MiB per "
         "mcd_execute_txlist_f call.  Each read is compared with the "
         "pattern the client before it wrote.", MEM_BASE);
    note("4.", "A new connection each time, timed from the connect until "
         "the client has the register map; the end of the session (gdb: "
         "close; MCD: D, close) is not timed, for any client.  gdb: "
         "qSupported, qXfer:features:read of %d XML files (%zu bytes, %d "
         "registers), %lu packets; MCD raw: I, qprotocol%s%s, qsystem, "
         "qcores, i0 and the lists of memory spaces, register groups (%d) "
         "and registers (%d) with one write, %lu packets in all; libmcd: "
         "mcd_open_server_f, the cores, mcd_open_core_f, the groups, "
         "mcd_qry_reg_map_f (%u registers).", m0->xml_files, m0->xml_bytes,
         m0->gdb_regs, m0->gdb_packets, raw_map_asked,
         raw_map_refused ? " (REFUSED: one item per list query)" : "",
         m0->raw_groups, m0->raw_regs, m0->raw_packets, m0->lib_regs);
    if (samples[OP_MAP2][GDB].n) {
        note("", "-cpu %s, on a QEMU of its own started for this only "
             "(pinned alike): gdb %d XML files, %zu bytes, %d registers, "
             "%lu packets; MCD raw %d registers, %lu packets; libmcd %u "
             "registers.", opt_map_cpu, m1->xml_files, m1->xml_bytes,
             m1->gdb_regs, m1->gdb_packets, m1->raw_regs, m1->raw_packets,
             m1->lib_regs);
    }
    note("5.", "The %u registers of \"Core Registers\": gdb g; MCD raw %s; "
         "libmcd one transaction list with a transaction per register.",
         raw_core.core_ids_n, list_has(mcd_enabled, "regs") ?
         "g0;<ids>" : "p0;<id> per register");
    note("6.", "7. gdb s, then the stop reply; MCD raw c0;0, then %s; "
         "libmcd mcd_step_f, then mcd_qry_state_f until the core is in "
         "debug state.  7. then reads the registers of 5.; %s", stop,
         list_has(mcd_enabled, "stopregs")
         ? "MCD raw has them in the %stop after E0;<ids> (stopregs), and "
           "libmcd, which learns from the first read after a stop which "
           "registers a debugger reads, answers the list from its %stop."
         : "without stopregs, as in 5.");
    note("8.", "Breakpoint 1,023 instructions ahead; the PC is set back "
         "before each run (not timed).  gdb Z0, c, stop reply, z0; MCD raw "
         "t, C0;0, %s, T; libmcd mcd_create_trig_f, mcd_run_f, "
         "mcd_qry_state_f until debug, mcd_remove_trig_f.", stop);
    note("8b.", "The same breakpoint set once before the runs and removed "
         "after them, as debuggers that keep breakpoints across runs do "
         "(TRACE32; gdb with breakpoint always-inserted): gdb c and the stop "
         "reply (gdbstub empties the translation cache at every breakpoint "
         "hit, which both ops pay); MCD raw C0;0 and %s; libmcd mcd_run_f "
         "and mcd_qry_state_f until debug.  The MCD stub keeps translated "
         "code when it sets or removes a breakpoint.", stop);
    note("9.", "A client that never sends qprotocol (packets padded to "
         "1024 bytes, as era 1 did): c0;0, then qstate0 until state=debug; "
         "polls per step: median %.0f (%.0f..%.0f).", median(&era1_polls),
         quantile(&era1_polls, 0), quantile(&era1_polls, 1));
    printf("\n");
    note("", "Consistency checks (every 64 MiB read against the last "
         "write of another client, x0..x30, sp and pc as gdb and the MCD "
         "clients see them at every hand-over, PCs after steps and "
         "breakpoints): %d, %s.", checks, failures ? "SOME FAILED"
                                                   : "all passed");
    if (failures) {
        printf("%d consistency checks FAILED (see the messages above)\n",
               failures);
    }
}

/* One goal's line of report_goals(); counts it in *@met of *@all. */
static void goal_line(const char *what, double value, int prec, double goal,
                      bool ok, int *met, int *all)
{
    *met += ok;
    (*all)++;
    printf("  %-44s %5.*f  goal %4.*f  %s\n", what, prec, value, prec ? 1 : 0,
           goal, ok ? "met" : "MISSED");
}

/*
 * Issue 13's goals, each a ratio of this run's medians through libmcd
 * (gdb's over libmcd's; the small round trip libmcd's over the floor's,
 * era-1 polls a count).  Figures a run did not take (an option skipped
 * them) are left out.
 */
static void report_goals(void)
{
    static const struct {
        const char *what;
        int op;             /* gdb's median over libmcd's */
        double goal;        /* at least */
    } goals[] = {
        { "read 64 MiB", OP_READ, 10 },
        { "write 64 MiB", OP_WRITE, 10 },
        { "register map, the --cpu model", OP_MAP, 2 },
        { "register map, the --map-cpu model", OP_MAP2, 2 },
        { "all core registers", OP_REGS, 1.5 },
        { "one step", OP_STEP, 2 },
        { "step + core registers", OP_STEP_REGS, 2.5 },
        { "run to a breakpoint (op 8)", OP_BP, 10 },
        { "run to a breakpoint that stays set (op 8b)", OP_BP_KEPT, 10 },
    };
    double lib, r, fl = median(&floor_samples), polls = median(&era1_polls);
    int i, met = 0, all = 0;

    printf("\ngoals (issue 13; gdb's median over libmcd's, at least):\n");
    for (i = 0; i < (int)(sizeof(goals) / sizeof(goals[0])); i++) {
        const Samples *s = samples[goals[i].op];

        lib = median(&s[LIB]);
        if (!s[GDB].n || !s[LIB].n || !(lib > 0)) {
            continue;
        }
        r = median(&s[GDB]) / lib;
        goal_line(goals[i].what, r, 2, goals[i].goal, r >= goals[i].goal,
                  &met, &all);
    }
    lib = median(&samples[OP_RTT][LIB]);
    if (samples[OP_RTT][LIB].n && fl > 0) {
        goal_line("small round trip / floor (at most)", lib / fl, 2, 1.3,
                  lib / fl <= 1.3, &met, &all);
    }
    if (era1_polls.n) {
        goal_line("era-1 polls per step (median, at most)", polls, 0, 3,
                  polls <= 3, &met, &all);
    }
    printf("  %d of %d goals met in this run\n", met, all);
}

/*
 * main
 */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mcd-bench --qemu PATH [--blocks N] [--quick] "
            "[--cpu MODEL]\n"
            "                 [--map-cpu MODEL|none] [--extensions LIST]\n"
            "  --qemu PATH         qemu-system-aarch64 built with the MCD "
            "stub\n"
            "  --blocks N          blocks of repetitions (default 10)\n"
            "  --quick             few repetitions and 2 blocks: a smoke "
            "run\n"
            "  --cpu MODEL         the CPU of the QEMU that runs everything, "
            "an AArch64\n"
            "                      one (default cortex-a53)\n"
            "  --map-cpu MODEL     the CPU of a second QEMU for the register "
            "map only\n"
            "                      (default max; none: no second QEMU)\n"
            "  --extensions LIST   the MCD extensions the raw client may "
            "enable, comma\n"
            "                      separated (default: errors,notify,lists,"
            "regs,binary,stopregs as\n"
            "                      offered; none: the fallbacks for an "
            "older stub);\n"
            "                      libmcd takes LIBMCD_EXTENSIONS from the "
            "environment\n");
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    mcd_api_version_st ver = { MCD_API_VER_MAJOR, MCD_API_VER_MINOR, "" };
    mcd_impl_version_info_st impl;
    char load_start[64];
    bool blocks_set = false;
    uint64_t t_start = now_ns();
    Vm q;
    int i, b, block;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--qemu") == 0 && i + 1 < argc) {
            opt_qemu = argv[++i];
        } else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc) {
            opt_blocks = atoi(argv[++i]);
            blocks_set = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            opt_quick = true;
        } else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc) {
            opt_cpu = argv[++i];
        } else if (strcmp(argv[i], "--map-cpu") == 0 && i + 1 < argc) {
            opt_map_cpu = argv[++i];
        } else if (strcmp(argv[i], "--extensions") == 0 && i + 1 < argc) {
            opt_extensions = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!opt_qemu || opt_blocks < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(opt_map_cpu, "none") == 0 ||
        strcmp(opt_map_cpu, opt_cpu) == 0) {
        opt_map_cpu = NULL;
    }
    reps = opt_quick ? quick_reps : full_reps;
    if (opt_quick && !blocks_set) {
        opt_blocks = 2;
    }
    load_avg(load_start, sizeof(load_start));
    hex_init();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/mcd-bench.XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        die("mkdtemp: %s", strerror(errno));
    }
    atexit(cleanup);
    write_guest();

    pin_setup();
    pin_tid(0, cpu_main, "the bench");
    snprintf(ver.author, sizeof(ver.author), "mcd-bench");
    if (mcd_initialize_f(&ver, &impl) != MCD_RET_ACT_NONE) {
        die("mcd_initialize_f failed");
    }
    mem_expect = xzalloc(MEM_SIZE);       /* the RAM starts zeroed */
    mem_read = xmalloc(MEM_SIZE);
    conn_init(&gdb_conn, "gdb");
    conn_init(&gdb_peek, "gdb");
    conn_init(&mcd_conn, "MCD");

    progress("mcd-bench: %s -M virt -cpu %s, %d blocks%s\n", opt_qemu,
             opt_cpu, opt_blocks, pinned ? "" : ", unpinned");
    qemu_start(&q, opt_cpu, "qmp.sock");
    echo_start();
    lib_probe(&q);

    for (block = 1; block <= opt_blocks; block++) {
        progress("block %d/%d: gdb", block, opt_blocks);
        turn_gdb(&q, block);
        progress(", MCD raw");
        turn_raw(&q, block);
        progress(", libmcd");
        turn_lib(&q, block);
        progress("\n");
    }
    /* the last write, read back by gdb (not timed) */
    gdb_open(&gdb_conn, q.gdb_port);
    gdb_read_mem(&gdb_conn, MEM_BASE, mem_read, MEM_SIZE);
    check_mem("gdb (after the last block)", opt_blocks);
    conn_close(&gdb_conn);
    close(echo_fd);
    qemu_stop(&q);

    if (opt_map_cpu) {
        Vm q2;

        progress("register map with -cpu %s:", opt_map_cpu);
        qemu_start(&q2, opt_map_cpu, "qmp-map.sock");
        for (b = 1; b <= opt_blocks; b++) {
            map_reps(&q2, OP_MAP2, &map_info[1], GDB);
            map_reps(&q2, OP_MAP2, &map_info[1], RAW);
            map_reps(&q2, OP_MAP2, &map_info[1], LIB);
            progress(" %d", b);
        }
        progress("\n");
        qemu_stop(&q2);
    }
    mcd_exit_f();

    report(&q, load_start, (now_ns() - t_start) / 1e9, &impl);
    report_goals();
    return failures ? 1 : 0;
}
