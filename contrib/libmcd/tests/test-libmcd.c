/* SPDX-License-Identifier: MIT */
/*
 * Test of libmcd, loaded with dlopen() as a debugger loads it, against
 * QEMU's MCD stub in qemu-system-arm (cortex-a15, TrustZone) and
 * qemu-system-aarch64 (cortex-a53).  Drives the sequence a debugger such
 * as TRACE32 uses: initialize, open the server, enumerate the system,
 * open the cores, read the memory spaces, register groups and registers,
 * load a tiny guest, set a breakpoint, run, step, watch, reset, close.
 * Output is TAP.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 *   test-libmcd [--threads] [path/to/libmcd.so]
 *
 * The last part drives the library from several threads at once (state
 * polling, memory reads, steps, a stop from another thread); --threads
 * runs that part alone, for the build with ThreadSanitizer.
 *
 * The library path may also come from LIBMCD; the emulators from
 * QEMU_SYSTEM_ARM and QEMU_SYSTEM_AARCH64.  With LIBMCD_QEMU_CONTROL
 * set to host:port, the driver listening there starts and stops QEMU
 * (tests/qemu-control.py): so the Windows build of the test, run under
 * wine, drives the Linux emulators.  What the stub does not offer
 * yet (the steps, wplen, resethalt and stoprec extensions, steps and
 * resets themselves; lists, regs, binary and notify) is skipped; what it
 * offers is checked strictly.  The checks of the fast paths watch the
 * packets libmcd sends through a proxy between libmcd and QEMU.
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "test-os.h"
#ifndef _WIN32
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#endif
#include "mcd_api.h"
#include "mcd-layout-check.h"

#ifndef QEMU_BUILD_DIR
#define QEMU_BUILD_DIR "/work/main/build/qemu/build"
#endif

#define GUEST_BASE      0x40200000ULL
#define BREAK_ADDR      (GUEST_BASE + 4)
#define STORE_ADDR      (GUEST_BASE + 8)
#define SCRATCH         0x40300000ULL
#define WATCH_ADDR      (SCRATCH + 0x100)
#define WIDE_WATCH      (SCRATCH + 0x200)
#define BIG_SIZE        (64 * 1024)
#define UNMAPPED        0xffffff00ULL
#define UART_DR         0x09000000ULL   /* the PL011's data register */
#define FLASH_END       0x08000000ULL   /* the GIC distributor follows */
#define BIN_ADDR        0x40400000ULL   /* every byte value, with x and X */
#define BIN_SIZE        4096
#define HUGE_ADDR       0x40500000ULL   /* more than 1 MiB at once */
#define HUGE_SIZE       (3 * 1024 * 1024 + 4097)
#define STOP_TIMEOUT_MS 10000

/*
 * TAP
 */

static int tap_count;
static int tap_failed;

static bool ok(bool cond, const char *fmt, ...)
    TEST_PRINTF(2, 3);

static bool ok(bool cond, const char *fmt, ...)
{
    va_list ap;

    tap_count++;
    if (!cond) {
        tap_failed++;
    }
    printf("%sok %d - ", cond ? "" : "not ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

static void skip(const char *reason, const char *fmt, ...)
    TEST_PRINTF(2, 3);

static void skip(const char *reason, const char *fmt, ...)
{
    va_list ap;

    tap_count++;
    printf("ok %d - ", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" # SKIP %s\n", reason);
    fflush(stdout);
}

static void diag(const char *fmt, ...) TEST_PRINTF(1, 2);

static void diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/*
 * The library, loaded with dlopen()
 */

#define API_FUNCTIONS(F) \
    F(mcd_initialize_f) F(mcd_exit_f) F(mcd_qry_servers_f) \
    F(mcd_open_server_f) F(mcd_close_server_f) F(mcd_set_server_config_f) \
    F(mcd_qry_server_config_f) F(mcd_qry_systems_f) F(mcd_qry_devices_f) \
    F(mcd_qry_cores_f) F(mcd_qry_core_modes_f) F(mcd_open_core_f) \
    F(mcd_close_core_f) F(mcd_qry_error_info_f) \
    F(mcd_qry_device_description_f) F(mcd_qry_max_payload_size_f) \
    F(mcd_qry_input_handle_f) F(mcd_qry_mem_spaces_f) \
    F(mcd_qry_mem_blocks_f) F(mcd_qry_active_overlays_f) \
    F(mcd_qry_reg_groups_f) F(mcd_qry_reg_map_f) F(mcd_qry_reg_compound_f) \
    F(mcd_qry_trig_info_f) F(mcd_qry_ctrigs_f) F(mcd_create_trig_f) \
    F(mcd_qry_trig_f) F(mcd_remove_trig_f) F(mcd_qry_trig_state_f) \
    F(mcd_activate_trig_set_f) F(mcd_remove_trig_set_f) \
    F(mcd_qry_trig_set_f) F(mcd_qry_trig_set_state_f) \
    F(mcd_execute_txlist_f) F(mcd_run_f) F(mcd_stop_f) F(mcd_run_until_f) \
    F(mcd_qry_current_time_f) F(mcd_step_f) F(mcd_set_global_f) \
    F(mcd_qry_state_f) F(mcd_execute_command_f) F(mcd_qry_rst_classes_f) \
    F(mcd_qry_rst_class_info_f) F(mcd_rst_f) F(mcd_chl_open_f) \
    F(mcd_send_msg_f) F(mcd_receive_msg_f) F(mcd_chl_reset_f) \
    F(mcd_chl_close_f) F(mcd_qry_traces_f) F(mcd_qry_trace_state_f) \
    F(mcd_set_trace_state_f) F(mcd_read_trace_f)

static struct {
#define DECLARE(fn) __typeof__(fn) *fn;
    API_FUNCTIONS(DECLARE)
#undef DECLARE
} api;

static bool load_library(const char *path)
{
    char err[512];
    void *lib = lib_open(path, err, sizeof(err));
    int found = 0, total = 0;

    if (!ok(lib != NULL, "dlopen %s", path)) {
        diag("%s", err);
        return false;
    }
#define LOAD(fn) \
    total++; \
    *(void **)&api.fn = lib_sym(lib, #fn); \
    if (api.fn) { \
        found++; \
    } else { \
        diag("missing %s", #fn); \
    }
    API_FUNCTIONS(LOAD)
#undef LOAD
    return ok(found == total && total == 54, "dlsym finds all 54 MCD API "
              "functions (%d)", found);
}

/* The last error, for diagnostics. */
static mcd_error_info_st last_error(const mcd_core_st *core)
{
    mcd_error_info_st e;

    memset(&e, 0, sizeof(e));
    api.mcd_qry_error_info_f(core, &e);
    return e;
}

/* ok() on an API call; prints the error when it failed. */
static bool ok_call(mcd_return_et ret, const mcd_core_st *core,
                    const char *fmt, ...)
    TEST_PRINTF(3, 4);

static bool ok_call(mcd_return_et ret, const mcd_core_st *core,
                    const char *fmt, ...)
{
    char name[256];
    va_list ap;
    mcd_error_info_st e;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    if (!ok(ret == MCD_RET_ACT_NONE, "%s", name)) {
        e = last_error(core);
        diag("returned %u, error 0x%x: %s", ret, e.error_code, e.error_str);
        return false;
    }
    return true;
}

/* The target of the tests, for the names of the tests. */
static const char *tap_prefix = "";

/* Did the call fail with @code and a text? */
static bool expect_error(mcd_return_et ret, const mcd_core_st *core,
                         mcd_error_code_et code, const char *what)
{
    mcd_error_info_st e = last_error(core);
    bool good = ret == MCD_RET_ACT_HANDLE_ERROR && e.error_code == code &&
                e.return_status == MCD_RET_ACT_HANDLE_ERROR &&
                e.error_str[0] != '\0';

    if (!ok(good, "%s%s%s fails with error 0x%x and a text", tap_prefix,
            *tap_prefix ? ": " : "", what, code)) {
        diag("returned %u, error 0x%x: '%s'", ret, e.error_code,
             e.error_str);
    } else {
        diag("%s: %s", what, e.error_str);
    }
    return good;
}

/*
 * QEMU
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
        sock_close(fd);
    }
    return port;
}

/* A socket listening on a free loopback port; -1 on failure. */
static int listen_loopback(int *port)
{
    struct sockaddr_in sa = { 0 };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0) {
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        sock_close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A connection to @port on the loopback address; -1 on failure. */
static int connect_loopback(int port)
{
    struct sockaddr_in sa = { 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        sock_close(fd);
        fd = -1;
    }
    return fd;
}

static bool port_accepts(int port)
{
    int fd = connect_loopback(port);

    if (fd >= 0) {
        sock_close(fd);
    }
    return fd >= 0;
}

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * QEMU's process: started here with fork() and exec(), or by the driver
 * that LIBMCD_QEMU_CONTROL names.  Its requests and answers are a line
 * each: "start" and the arguments, tab separated, answered "ok" once it
 * runs; "status", answered "running" or "exited <status>"; "stop",
 * answered "ok" once it is gone.  The driver stops it when the
 * connection ends.
 */
static bool qemu_running;
static int control_fd = -1;

static bool control_ask(const char *request, char *answer, size_t size)
{
    const char *spec = getenv("LIBMCD_QEMU_CONTROL");
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    size_t len = 0, n = strlen(request);
    ssize_t r;

    answer[0] = '\0';
    if (control_fd < 0 && colon) {
        control_fd = connect_loopback(atoi(colon + 1));
    }
    if (control_fd < 0) {
        diag("no QEMU control at '%s'", spec ? spec : "");
        return false;
    }
    if (sock_write(control_fd, request, n) != (ssize_t)n ||
        sock_write(control_fd, "\n", 1) != 1) {
        return false;
    }
    while (len < size - 1) {
        r = sock_read(control_fd, answer + len, 1);
        if (r <= 0) {
            return false;
        }
        if (answer[len] == '\n') {
            break;
        }
        len++;
    }
    answer[len] = '\0';
    return true;
}

#ifndef _WIN32
static pid_t qemu_pid;
static pid_t qemu_pid_other;        /* a second QEMU (see qemu_swap()) */

static void on_signal(int sig)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };

    if (qemu_pid > 0) {
        kill(qemu_pid, SIGKILL);
    }
    if (qemu_pid_other > 0) {
        kill(qemu_pid_other, SIGKILL);
    }
    sigaction(sig, &sa, NULL);
    raise(sig);
}
#endif

/* Start QEMU with @argv (NULL-terminated). */
static bool qemu_spawn(char *const *argv)
{
    char request[1024], answer[256];
    size_t len = 0;
    int i;

    if (getenv("LIBMCD_QEMU_CONTROL")) {
        len = snprintf(request, sizeof(request), "start");
        for (i = 0; argv[i] && len < sizeof(request); i++) {
            len += snprintf(request + len, sizeof(request) - len, "\t%s",
                            argv[i]);
        }
        if (len >= sizeof(request) ||
            !control_ask(request, answer, sizeof(answer)) ||
            strncmp(answer, "ok", 2) != 0) {
            diag("the QEMU control answers '%s'", answer);
            return false;
        }
        qemu_running = true;
        return true;
    }
#ifdef _WIN32
    diag("the Windows build starts QEMU through LIBMCD_QEMU_CONTROL");
    return false;
#else
    /* the emulator may be rebuilt right now: give it a moment */
    long long deadline = now_ms() + 60000;

    while (access(argv[0], X_OK) != 0 && now_ms() < deadline) {
        sleep_ms(500);
    }
    fflush(stdout);
    qemu_pid = fork();
    if (qemu_pid < 0) {
        qemu_pid = 0;
        return false;
    }
    if (qemu_pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        /* QEMU's stdout must not mix with the TAP output */
        dup2(2, 1);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    qemu_running = true;
    return true;
#endif
}

/* Has QEMU exited?  Its status then. */
static bool qemu_exited(int *status)
{
    char answer[256];

    *status = 0;
    if (!qemu_running) {
        return true;
    }
    if (control_fd >= 0) {
        if (!control_ask("status", answer, sizeof(answer))) {
            return false;
        }
        if (strncmp(answer, "exited ", 7) != 0) {
            return false;
        }
        *status = atoi(answer + 7);
        qemu_running = false;
        return true;
    }
#ifndef _WIN32
    if (waitpid(qemu_pid, status, WNOHANG) == qemu_pid) {
        qemu_pid = 0;
        qemu_running = false;
        return true;
    }
#endif
    return false;
}

static void qemu_kill(void)
{
    char answer[256];

    if (!qemu_running) {
        return;
    }
    if (control_fd >= 0) {
        if (!control_ask("stop", answer, sizeof(answer)) ||
            strcmp(answer, "ok") != 0) {
            diag("the QEMU control answers '%s' to stop", answer);
        }
        qemu_running = false;
        return;
    }
#ifndef _WIN32
    int i, status;

    kill(qemu_pid, SIGTERM);
    for (i = 0; i < 100; i++) {
        if (waitpid(qemu_pid, &status, WNOHANG) == qemu_pid) {
            qemu_pid = 0;
            qemu_running = false;
            return;
        }
        sleep_ms(20);
    }
    kill(qemu_pid, SIGKILL);
    waitpid(qemu_pid, &status, 0);
    qemu_pid = 0;
#endif
    qemu_running = false;
}

/*
 * Start @binary with @machine and @cpu, the stub on @port, and QMP on
 * @qmp_port unless it is 0.
 */
static bool qemu_start(const char *binary, const char *machine,
                       const char *cpu, int port, int qmp_port)
{
    char mcd[64], qmp[64];
    char *argv[] = {
        (char *)binary, "-M", (char *)machine, "-cpu", (char *)cpu, "-S",
        "-display", "none", "-monitor", "none", "-serial", "none",
        "-nic", "none", "-mcd", mcd, "-qmp", qmp, NULL,
    };
    long long deadline;
    int status;

    snprintf(mcd, sizeof(mcd), "tcp:127.0.0.1:%d", port);
    snprintf(qmp, sizeof(qmp), "tcp:127.0.0.1:%d,server=on,wait=off",
             qmp_port);
    if (!qmp_port) {
        argv[16] = NULL;
    }
    if (!qemu_spawn(argv)) {
        return false;
    }
    deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        if (qemu_exited(&status)) {
            diag("QEMU exited with status 0x%x", status);
            return false;
        }
        if (port_accepts(port)) {
            return true;
        }
        sleep_ms(50);
    }
    diag("QEMU does not listen on port %d", port);
    qemu_kill();
    return false;
}

/*
 * The targets
 */

typedef struct Target {
    const char *name;
    const char *env;
    const char *binary;
    const char *machine;
    const char *cpu;
    bool secure;                /* has the Secure memory spaces */
    unsigned int reg_bytes;     /* of the general registers */
    uint32_t pc_id;
    const char *r0;
    const char *r1;
    uint32_t guest[4];          /* add; b .-4; str r0/x0, [r1/x1]; b . */
    uint32_t elf_machine;
    bool host_port_config;      /* "host:port", else McdHostName= */
} Target;

static const Target targets[] = {
    {
        .name = "arm", .env = "QEMU_SYSTEM_ARM",
        .binary = QEMU_BUILD_DIR "/qemu-system-arm",
        .machine = "virt,secure=on", .cpu = "cortex-a15", .secure = true,
        .reg_bytes = 4, .pc_id = 15, .r0 = "r0", .r1 = "r1",
        .guest = { 0xe2800001, 0xeafffffd, 0xe5810000, 0xeafffffe },
        .elf_machine = 40, .host_port_config = true,
    }, {
        .name = "aarch64", .env = "QEMU_SYSTEM_AARCH64",
        .binary = QEMU_BUILD_DIR "/qemu-system-aarch64",
        .machine = "virt", .cpu = "cortex-a53", .secure = false,
        .reg_bytes = 8, .pc_id = 32, .r0 = "x0", .r1 = "x1",
        .guest = { 0x91000400, 0x17ffffff, 0xf9000020, 0x14000000 },
        .elf_machine = 183, .host_port_config = false,
    },
};

typedef struct Session {
    const Target *t;
    char name[32];                  /* the target and the protocol */
    mcd_server_st *server;
    mcd_core_st *cores[8];
    uint32_t nr_cores;
    mcd_core_st *core;              /* core 0 */
    uint32_t ns_space;              /* "Non Secure" */
    uint32_t phys_space;            /* "Physical (Non Secure)" */
    mcd_register_info_st pc, r0, r1;
    char extensions[256];           /* enabled by libmcd */
    char offered[256];              /* offered by the stub */
} Session;

static mcd_return_et mem_access(Session *s, uint32_t space, uint64_t addr,
                                void *buf, uint32_t len, bool write)
{
    mcd_tx_st tx = { 0 };
    mcd_txlist_st list = { &tx, 1, 0 };

    tx.addr.address = addr;
    tx.addr.mem_space_id = space;
    tx.access_type = write ? MCD_TX_AT_W : MCD_TX_AT_R;
    tx.data = buf;
    tx.num_bytes = len;
    return api.mcd_execute_txlist_f(s->core, &list);
}

static mcd_return_et reg_access(Session *s, const mcd_register_info_st *r,
                                uint64_t *value, bool write)
{
    uint8_t buf[8] = { 0 };
    uint32_t n = r->regsize / 8;
    mcd_tx_st tx = { 0 };
    mcd_txlist_st list = { &tx, 1, 0 };
    mcd_return_et ret;
    uint32_t i;

    if (n > 8) {
        return MCD_RET_ACT_HANDLE_ERROR;
    }
    if (write) {
        for (i = 0; i < n; i++) {
            buf[i] = *value >> (8 * i);
        }
    }
    tx.addr = r->addr;
    tx.access_type = write ? MCD_TX_AT_W : MCD_TX_AT_R;
    tx.data = buf;
    tx.num_bytes = n;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    if (!write) {
        *value = 0;
        for (i = 0; i < n; i++) {
            *value |= (uint64_t)buf[i] << (8 * i);
        }
    }
    return ret;
}

static uint64_t read_reg(Session *s, const mcd_register_info_st *r)
{
    uint64_t v = 0;

    if (reg_access(s, r, &v, false) != MCD_RET_ACT_NONE) {
        diag("cannot read %s: %s", r->regname, last_error(s->core).error_str);
    }
    return v;
}

/* Poll the state of core 0 until it is @want; false on a time-out. */
static bool wait_state(Session *s, mcd_core_state_et want,
                       mcd_core_state_st *st)
{
    long long deadline = now_ms() + STOP_TIMEOUT_MS;

    do {
        if (api.mcd_qry_state_f(s->core, st) != MCD_RET_ACT_NONE) {
            return false;
        }
        if (st->state == want) {
            return true;
        }
        sleep_ms(5);
    } while (now_ms() < deadline);
    return false;
}

static bool list_has(const char *list, const char *name)
{
    size_t len = strlen(name);
    const char *p = list;

    while ((p = strstr(p, name))) {
        if ((p == list || p[-1] == ',') &&
            (p[len] == ',' || p[len] == '\0')) {
            return true;
        }
        p += len;
    }
    return false;
}

static bool has_ext(Session *s, const char *name)
{
    return list_has(s->extensions, name);
}

/*
 * The extensions the stub offers, asked directly over a second
 * connection is not possible (one client at a time), so the test asks
 * before the library connects.
 */
static void probe_extensions(int port, char *out, size_t size)
{
    char buf[1024];
    size_t len = 0;
    ssize_t n;
    char *p, *end;
    int fd = connect_loopback(port);

    out[0] = '\0';
    if (fd < 0) {
        goto out;
    }
    sock_timeout(fd, 5);
    if (sock_write(fd, "$qprotocol#|", 12) != 12) {
        goto out;
    }
    while (len < sizeof(buf) - 1) {
        n = sock_read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += n;
        buf[len] = '\0';
        if (strstr(buf, "#|") || (strchr(buf, '$') &&
                                  strchr(strchr(buf, '$'), '#'))) {
            break;
        }
    }
    buf[len] = '\0';
    p = strstr(buf, "extensions=");
    if (p) {
        p += strlen("extensions=");
        end = strchr(p, '.');
        if (end && (size_t)(end - p) < size) {
            memcpy(out, p, end - p);
            out[end - p] = '\0';
        }
    }
out:
    if (fd >= 0) {
        sock_close(fd);
    }
}

/*
 * The debugger's sequence
 */

static bool discover(Session *s, int port)
{
    const Target *t = s->t;
    char config[128];
    char buf[256];
    uint32_t len, n, i;
    mcd_core_con_info_st sys, dev, cores[8];
    mcd_server_st *other = NULL;
    mcd_memspace_st spaces[16], part[2];
    mcd_register_group_st groups[32];
    mcd_register_info_st *regs;
    mcd_trig_info_st ti;
    uint32_t nregs, ngroups, nspaces, group1 = 0;
    mcd_return_et ret;
    bool good;

    if (t->host_port_config) {
        snprintf(config, sizeof(config), "127.0.0.1:%d", port);
    } else {
        snprintf(config, sizeof(config), "McdHostName=\"127.0.0.1\" "
                 "McdServerPort=\"%d\" McdTimeout=\"20000\"", port);
    }
    if (!ok_call(api.mcd_open_server_f("", config, &s->server), NULL,
                 "%s: mcd_open_server_f with '%s'", s->name, config)) {
        return false;
    }
    ret = api.mcd_open_server_f("", config, &other);
    expect_error(ret, NULL, MCD_ERR_SERVER_LOCKED, "a second server");
    if (!t->host_port_config) {
        /* another name of the same QEMU: it serves one debugger at once */
        snprintf(config, sizeof(config), "McdHostName=localhost "
                 "McdServerPort=%d McdTimeout=300", port);
        ret = api.mcd_open_server_f("", config, &other);
        expect_error(ret, NULL, MCD_ERR_TIMED_OUT, "the server as localhost");
        ok(strstr(last_error(NULL).error_str, "is another one connected"),
           "%s: ... the error says that another debugger may be connected",
           s->name);
    }
    len = sizeof(buf);
    ret = api.mcd_qry_server_config_f(s->server, &len, buf);
    snprintf(config, sizeof(config), "McdServerPort=\"%d\"", port);
    ok(ret == MCD_RET_ACT_NONE && strstr(buf, config) != NULL &&
       strstr(buf, t->host_port_config ? "McdTimeout=\"15000\"" :
                                         "McdTimeout=\"20000\"") != NULL &&
       strstr(buf, "McdEra1ErrorWait=\"100\"") != NULL,
       "%s: mcd_qry_server_config_f: %s", s->name, buf);

    /* systems, devices, cores: count first, then the items */
    n = 0;
    ret = api.mcd_qry_systems_f(0, &n, NULL);
    ok(ret == MCD_RET_ACT_NONE && n == 1, "%s: one system", s->name);
    n = 1;
    ret = api.mcd_qry_systems_f(0, &n, &sys);
    ok(ret == MCD_RET_ACT_NONE && n == 1 && sys.system[0],
       "%s: system '%s'", s->name, sys.system);
    n = 0;
    ret = api.mcd_qry_devices_f(&sys, 0, &n, NULL);
    ok(ret == MCD_RET_ACT_NONE && n == 1, "%s: one device", s->name);
    n = 1;
    ret = api.mcd_qry_devices_f(&sys, 0, &n, &dev);
    ok(ret == MCD_RET_ACT_NONE && strcmp(dev.device, "virt") == 0,
       "%s: device '%s'", s->name, dev.device);
    n = 0;
    ret = api.mcd_qry_cores_f(&dev, 0, &n, NULL);
    if (!ok(ret == MCD_RET_ACT_NONE && n >= 1 && n <= 8, "%s: %u cores",
            s->name, n)) {
        return false;
    }
    s->nr_cores = n;
    ret = api.mcd_qry_cores_f(&dev, 0, &n, cores);
    good = ret == MCD_RET_ACT_NONE && n == s->nr_cores;
    for (i = 0; good && i < n; i++) {
        good = cores[i].core_id == i && cores[i].core[0] &&
               cores[i].core_type == t->elf_machine;
    }
    ok(good, "%s: core 0 '%s', ELF machine %u", s->name, cores[0].core,
       cores[0].core_type);

    /* open every core */
    good = true;
    for (i = 0; i < s->nr_cores; i++) {
        ret = api.mcd_open_core_f(&cores[i], &s->cores[i]);
        good &= ret == MCD_RET_ACT_NONE && s->cores[i] &&
                s->cores[i]->core_con_info->core_id == i;
    }
    if (!ok(good, "%s: mcd_open_core_f on every core", s->name)) {
        return false;
    }
    s->core = s->cores[0];
    {
        mcd_core_st *again = NULL;

        ret = api.mcd_open_core_f(&cores[0], &again);
        expect_error(ret, NULL, MCD_ERR_DEVICE_LOCKED,
                     "opening an open core");
        cores[0].core_id = 99;
        ret = api.mcd_open_core_f(&cores[0], &again);
        expect_error(ret, NULL, MCD_ERR_PARAM, "opening core 99");
    }

    /* memory spaces */
    nspaces = 0;
    ret = api.mcd_qry_mem_spaces_f(s->core, 0, &nspaces, NULL);
    ok(ret == MCD_RET_ACT_NONE && nspaces == (t->secure ? 6u : 4u),
       "%s: %u memory spaces", s->name, nspaces);
    if (nspaces > 16) {
        nspaces = 16;
    }
    ret = api.mcd_qry_mem_spaces_f(s->core, 0, &nspaces, spaces);
    for (i = 0; ret == MCD_RET_ACT_NONE && i < nspaces; i++) {
        if (strcmp(spaces[i].mem_space_name, "Non Secure") == 0 &&
            (spaces[i].mem_type & MCD_MEM_SPACE_IS_LOGICAL)) {
            s->ns_space = spaces[i].mem_space_id;
        }
        if (strcmp(spaces[i].mem_space_name, "Physical (Non Secure)") == 0) {
            s->phys_space = spaces[i].mem_space_id;
        }
    }
    ok(s->ns_space != 0 && s->phys_space != 0 &&
       spaces[0].mem_space_id == 1 && spaces[0].max_addr == UINT64_MAX &&
       spaces[0].bits_per_mau == 8 && spaces[0].endian == MCD_ENDIAN_LITTLE,
       "%s: the Non Secure spaces are %u and %u", s->name, s->ns_space,
       s->phys_space);
    if (list_has(s->offered, "txopt")) {
        /* with txopt, what the stub offers; else only the default */
        uint32_t want = has_ext(s, "txopt") ? 3 : 1;

        good = ret == MCD_RET_ACT_NONE;
        for (i = 0; good && i < nspaces; i++) {
            good = spaces[i].supported_access_options ==
                   (spaces[i].mem_type & MCD_MEM_SPACE_IS_REGISTERS ? 0
                                                                    : want);
        }
        ok(good, "%s: the memory spaces support the access options 0x%x, "
           "register spaces none", s->name, want);
    } else {
        skip("the stub does not offer txopt", "%s: access options of the "
             "memory spaces", s->name);
    }
    n = 2;
    ret = api.mcd_qry_mem_spaces_f(s->core, 1, &n, part);
    ok(ret == MCD_RET_ACT_NONE && n == 2 &&
       memcmp(part, &spaces[1], sizeof(part)) == 0,
       "%s: two memory spaces from index 1", s->name);

    /* register groups and the register map */
    ngroups = 0;
    ret = api.mcd_qry_reg_groups_f(s->core, 0, &ngroups, NULL);
    ok(ret == MCD_RET_ACT_NONE && ngroups >= 2, "%s: %u register groups",
       s->name, ngroups);
    if (ngroups > 32) {
        ngroups = 32;
    }
    ret = api.mcd_qry_reg_groups_f(s->core, 0, &ngroups, groups);
    good = ret == MCD_RET_ACT_NONE;
    for (i = 0; good && i < ngroups; i++) {
        good = groups[i].reg_group_id != 0 && groups[i].n_registers > 0;
        if (strcmp(groups[i].reg_group_name, "Core Registers") == 0) {
            group1 = groups[i].reg_group_id;
        }
    }
    ok(good && group1 != 0, "%s: every group has registers, '%s' first",
       s->name, groups[0].reg_group_name);
    nregs = 0;
    ret = api.mcd_qry_reg_map_f(s->core, 0, 0, &nregs, NULL);
    ok(ret == MCD_RET_ACT_NONE && nregs > 30, "%s: %u registers", s->name,
       nregs);
    regs = calloc(nregs ? nregs : 1, sizeof(*regs));
    ret = api.mcd_qry_reg_map_f(s->core, 0, 0, &nregs, regs);
    for (i = 0; ret == MCD_RET_ACT_NONE && i < nregs; i++) {
        if (strcmp(regs[i].regname, "pc") == 0) {
            s->pc = regs[i];
        } else if (strcmp(regs[i].regname, t->r0) == 0) {
            s->r0 = regs[i];
        } else if (strcmp(regs[i].regname, t->r1) == 0) {
            s->r1 = regs[i];
        }
    }
    free(regs);
    ok(s->pc.addr.address == t->pc_id && s->pc.regsize == 8 * t->reg_bytes &&
       s->r0.regsize == 8 * t->reg_bytes && s->r1.regname[0] &&
       s->pc.addr.mem_space_id == s->r0.addr.mem_space_id &&
       s->pc.reg_group_id == group1,
       "%s: pc is register %llu in memory space %u, %u bits", s->name,
       (unsigned long long)s->pc.addr.address, s->pc.addr.mem_space_id,
       s->pc.regsize);
    n = 0;
    ret = api.mcd_qry_reg_map_f(s->core, group1, 0, &n, NULL);
    ok(ret == MCD_RET_ACT_NONE && n > 0 && n < nregs,
       "%s: %u registers in group %u", s->name, n, group1);
    n = 0;
    ret = api.mcd_qry_reg_map_f(s->core, 999, 0, &n, NULL);
    expect_error(ret, s->core, MCD_ERR_REG_GROUP_ID, "register group 999");

    /* triggers and resets the target offers */
    ret = api.mcd_qry_trig_info_f(s->core, &ti);
    ok(ret == MCD_RET_ACT_NONE && ti.trig_number == 16 &&
       (ti.type & MCD_TRIG_TYPE_IP) && (ti.type & MCD_TRIG_TYPE_WRITE) &&
       (ti.type & MCD_TRIG_TYPE_RW), "%s: %u triggers of types 0x%x",
       s->name, ti.trig_number, ti.type);
    return true;
}

static void check_memory(Session *s)
{
    const Target *t = s->t;
    uint8_t guest[16], back[16];
    uint8_t *big = malloc(BIG_SIZE), *big_back = malloc(BIG_SIZE);
    mcd_tx_st tx[2];
    mcd_txlist_st list = { tx, 2, 0 };
    mcd_return_et ret;
    uint32_t i;

    for (i = 0; i < 4; i++) {
        guest[4 * i] = t->guest[i];
        guest[4 * i + 1] = t->guest[i] >> 8;
        guest[4 * i + 2] = t->guest[i] >> 16;
        guest[4 * i + 3] = t->guest[i] >> 24;
    }
    ok_call(mem_access(s, s->ns_space, GUEST_BASE, guest, sizeof(guest),
                       true), s->core,
            "%s: write the guest at 0x%llx", s->name, GUEST_BASE);
    memset(back, 0, sizeof(back));
    ret = mem_access(s, s->phys_space, GUEST_BASE, back, sizeof(back),
                     false);
    ok(ret == MCD_RET_ACT_NONE && memcmp(guest, back, sizeof(back)) == 0,
       "%s: read it back through the physical space", s->name);

    /* 64 KiB written and read back in one transaction list */
    for (i = 0; i < BIG_SIZE; i++) {
        big[i] = (i * 7 + (i >> 8)) ^ 0x5a;
    }
    memset(big_back, 0, BIG_SIZE);
    memset(tx, 0, sizeof(tx));
    tx[0].addr.address = SCRATCH;
    tx[0].addr.mem_space_id = s->ns_space;
    tx[0].access_type = MCD_TX_AT_W;
    tx[0].data = big;
    tx[0].num_bytes = BIG_SIZE;
    tx[1] = tx[0];
    tx[1].access_type = MCD_TX_AT_R;
    tx[1].data = big_back;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 2 &&
       tx[0].num_bytes_ok == BIG_SIZE && tx[1].num_bytes_ok == BIG_SIZE &&
       memcmp(big, big_back, BIG_SIZE) == 0,
       "%s: write and read back 64 KiB in one transaction list", s->name);

    /* an unmapped address is an error, not zeros */
    tx[0] = tx[1];
    tx[0].addr.address = UNMAPPED;
    tx[0].addr.mem_space_id = s->phys_space;
    tx[0].num_bytes = 16;
    list.num_tx = 2;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    expect_error(ret, s->core, MCD_ERR_TXLIST_READ, "a read of an unmapped "
                 "address");
    ok(list.num_tx_ok == 0 && tx[0].num_bytes_ok == 0,
       "%s: the failed transaction list stops at its first transaction",
       s->name);
    ret = mem_access(s, 99, GUEST_BASE, back, 4, false);
    expect_error(ret, s->core, MCD_ERR_TXLIST_TX, "memory space 99");
    free(big);
    free(big_back);
}

/* A read of @len bytes at @addr with the access options @opts. */
static mcd_return_et read_opts(Session *s, uint32_t space, uint64_t addr,
                               void *buf, uint32_t len, uint32_t opts,
                               mcd_tx_st *tx)
{
    mcd_txlist_st list = { tx, 1, 0 };

    memset(tx, 0, sizeof(*tx));
    tx->addr.address = addr;
    tx->addr.mem_space_id = space;
    tx->access_type = MCD_TX_AT_R;
    tx->options = opts;
    tx->data = buf;
    tx->num_bytes = len;
    return api.mcd_execute_txlist_f(s->core, &list);
}

/*
 * Reads without side effects (MCD_TX_OPT_NO_SIDE_EFFECTS): with txopt
 * the stub reads RAM and ROM but refuses devices, on every packet of a
 * read; without it libmcd refuses them all, rather than read with side
 * effects.  Writes take no options.  check_memory() wrote the guest.
 */
static void check_side_effects(Session *s)
{
    const Target *t = s->t;
    uint8_t guest[16], back[16], word[4] = { 1, 2, 3, 4 };
    uint8_t *big;
    uint32_t i, max = 0;
    mcd_tx_st tx;
    mcd_txlist_st list = { &tx, 1, 0 };
    mcd_error_info_st e;
    mcd_return_et ret;

    if (!list_has(s->offered, "txopt")) {
        skip("the stub does not offer txopt", "%s: reads without side "
             "effects", s->name);
        return;
    }
    for (i = 0; i < 4; i++) {
        guest[4 * i] = t->guest[i];
        guest[4 * i + 1] = t->guest[i] >> 8;
        guest[4 * i + 2] = t->guest[i] >> 16;
        guest[4 * i + 3] = t->guest[i] >> 24;
    }
    if (!has_ext(s, "txopt")) {
        ret = read_opts(s, s->phys_space, UART_DR, back, 4,
                        MCD_TX_OPT_NO_SIDE_EFFECTS, &tx);
        expect_error(ret, s->core, MCD_ERR_TXLIST_TX, "without txopt, a "
                     "read of the PL011 without side effects");
        ret = read_opts(s, s->phys_space, GUEST_BASE, back, sizeof(back),
                        MCD_TX_OPT_NO_SIDE_EFFECTS, &tx);
        expect_error(ret, s->core, MCD_ERR_TXLIST_TX, "without txopt, a "
                     "read of RAM without side effects");
    } else {
        ret = read_opts(s, s->phys_space, UART_DR, back, 4,
                        MCD_TX_OPT_NO_SIDE_EFFECTS, &tx);
        e = last_error(s->core);
        expect_error(ret, s->core, MCD_ERR_TXLIST_READ, "a read of the "
                     "PL011 data register without side effects");
        ok(tx.num_bytes_ok == 0 && strstr(e.error_str, "pl011") &&
           strstr(e.error_str, "side effects"),
           "%s: nothing read, the stub names the device", s->name);
        ret = read_opts(s, s->ns_space, UART_DR, back, 4,
                        MCD_TX_OPT_NO_SIDE_EFFECTS |
                        MCD_TX_OPT_SIDE_EFFECTS, &tx);
        expect_error(ret, s->core, MCD_ERR_TXLIST_READ, "a logical read "
                     "of the PL011 with both side effect options");
        memset(back, 0, sizeof(back));
        ret = read_opts(s, s->phys_space, GUEST_BASE, back, sizeof(back),
                        MCD_TX_OPT_NO_SIDE_EFFECTS, &tx);
        ok(ret == MCD_RET_ACT_NONE && tx.num_bytes_ok == sizeof(back) &&
           memcmp(back, guest, sizeof(back)) == 0,
           "%s: RAM reads without side effects, physical", s->name);
        memset(back, 0, sizeof(back));
        ret = read_opts(s, s->ns_space, GUEST_BASE, back, sizeof(back),
                        MCD_TX_OPT_NO_SIDE_EFFECTS, &tx);
        ok(ret == MCD_RET_ACT_NONE && memcmp(back, guest, sizeof(back)) == 0,
           "%s: and logical", s->name);
        /*
         * A packet of flash (ROM), then one of the GIC distributor's
         * first register: the second packet is refused too.
         */
        api.mcd_qry_max_payload_size_f(s->core, &max);
        big = malloc((size_t)max + 4);
        ret = read_opts(s, s->phys_space, FLASH_END - max, big, max + 4,
                        MCD_TX_OPT_NO_SIDE_EFFECTS, &tx);
        e = last_error(s->core);
        ok(ret == MCD_RET_ACT_HANDLE_ERROR &&
           e.error_code == MCD_ERR_TXLIST_READ && tx.num_bytes_ok == max &&
           strstr(e.error_str, "gic"),
           "%s: a read of %u bytes of flash and 4 of the GIC stops after "
           "the flash: %u bytes read (%s)", s->name, max, tx.num_bytes_ok,
           e.error_str);
        free(big);
    }
    /* the default reads the device, with its side effects */
    ret = read_opts(s, s->phys_space, UART_DR, back, 4,
                    MCD_TX_OPT_SIDE_EFFECTS, &tx);
    ok_call(ret, s->core, "%s: the PL011 reads with side effects",
            s->name);
    /* writes ignore the option */
    memset(&tx, 0, sizeof(tx));
    tx.addr.address = SCRATCH;
    tx.addr.mem_space_id = s->phys_space;
    tx.access_type = MCD_TX_AT_W;
    tx.options = MCD_TX_OPT_NO_SIDE_EFFECTS;
    tx.data = word;
    tx.num_bytes = sizeof(word);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    memset(back, 0, sizeof(back));
    ok(ret == MCD_RET_ACT_NONE &&
       mem_access(s, s->phys_space, SCRATCH, back, 4, false) ==
       MCD_RET_ACT_NONE && memcmp(back, word, 4) == 0,
       "%s: a write with MCD_TX_OPT_NO_SIDE_EFFECTS writes", s->name);
}

static uint64_t check_registers(Session *s)
{
    const Target *t = s->t;
    uint8_t buf[2 * 8];
    mcd_tx_st tx[2];
    mcd_txlist_st list = { tx, 2, 0 };
    uint64_t reset_pc = 0, pc, r0;
    uint8_t low[2];
    mcd_return_et ret;
    unsigned int i, n = t->reg_bytes;

    ok_call(reg_access(s, &s->pc, &reset_pc, false), s->core,
            "%s: read the pc at start: 0x%llx", s->name,
            (unsigned long long)reset_pc);

    /* pc and r0 written in one list, read back in another */
    pc = GUEST_BASE;
    r0 = 0;
    memset(tx, 0, sizeof(tx));
    memset(buf, 0, sizeof(buf));
    for (i = 0; i < n; i++) {
        buf[i] = pc >> (8 * i);
    }
    tx[0].addr = s->pc.addr;
    tx[0].access_type = MCD_TX_AT_W;
    tx[0].data = buf;
    tx[0].num_bytes = n;
    tx[1].addr = s->r0.addr;
    tx[1].access_type = MCD_TX_AT_W;
    tx[1].data = buf + 8;
    tx[1].num_bytes = n;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok_call(ret, s->core, "%s: write pc = 0x%llx and %s = 0 in one list",
            s->name, GUEST_BASE, t->r0);
    memset(buf, 0xaa, sizeof(buf));
    tx[0].access_type = MCD_TX_AT_R;
    tx[1].access_type = MCD_TX_AT_R;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    pc = r0 = 0;
    for (i = 0; i < n; i++) {
        pc |= (uint64_t)buf[i] << (8 * i);
        r0 |= (uint64_t)buf[8 + i] << (8 * i);
    }
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 2 && pc == GUEST_BASE &&
       r0 == 0, "%s: read them back: pc 0x%llx, %s %llu", s->name,
       (unsigned long long)pc, t->r0, (unsigned long long)r0);

    /* part of a register: its low-order bytes */
    list.num_tx = 1;
    tx[0].data = low;
    tx[0].num_bytes = 2;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && low[0] == (GUEST_BASE & 0xff) &&
       low[1] == ((GUEST_BASE >> 8) & 0xff),
       "%s: read the 2 low bytes of pc", s->name);
    return reset_pc;
}

/*
 * After the first state query that reported a stop by trigger @id in
 * @first: the trigger is captured, and a second query names it again
 * with stoprec (the stub keeps the stop until the core runs), or
 * reports nothing more without it (reported once); only the first has
 * MCD_CORE_EVENT_STOPPED.
 */
static void check_stop_again(Session *s, const char *what, uint32_t id,
                             const mcd_core_state_st *first)
{
    mcd_trig_state_st ts;
    mcd_core_state_st st = { 0 };
    mcd_return_et ret;

    memset(&ts, 0, sizeof(ts));
    ret = api.mcd_qry_trig_state_f(s->core, id, &ts);
    ok(ret == MCD_RET_ACT_NONE && ts.captured && ts.captured_valid,
       "%s: %s %u is captured", s->name, what, id);
    ret = api.mcd_qry_state_f(s->core, &st);
    if (has_ext(s, "stoprec")) {
        ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG &&
           st.trig_id == id && !(st.event & MCD_CORE_EVENT_STOPPED) &&
           strcmp(st.stop_str, first->stop_str) == 0,
           "%s: stoprec: a second query names trigger %u again, without "
           "the event (event 0x%x, trigger %u, '%s')", s->name, id,
           st.event, st.trig_id, st.stop_str);
    } else {
        ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG &&
           st.trig_id == 0 && st.event == 0 && st.stop_str[0] == '\0',
           "%s: without stoprec a second query reports the stop no more "
           "(event 0x%x, trigger %u, '%s')", s->name, st.event, st.trig_id,
           st.stop_str);
    }
}

static void check_breakpoint(Session *s)
{
    const Target *t = s->t;
    mcd_trig_simple_core_st trig, back;
    mcd_core_state_st st = { 0 };
    uint32_t id = 0, n, ids[4];
    bool stopped;
    mcd_return_et ret;
    uint64_t pc;

    memset(&trig, 0, sizeof(trig));
    trig.struct_size = sizeof(trig);
    trig.type = MCD_TRIG_TYPE_IP;
    trig.action = MCD_TRIG_ACTION_DBG_DEBUG;
    trig.addr_start.address = BREAK_ADDR;
    trig.addr_start.mem_space_id = s->ns_space;
    ret = api.mcd_create_trig_f(s->core, &trig, &id);
    ok(ret == MCD_RET_ACT_NONE && id != 0 && !trig.modified,
       "%s: create a breakpoint at 0x%llx: trigger %u", s->name, BREAK_ADDR,
       id);
    ok_call(api.mcd_activate_trig_set_f(s->core), s->core,
            "%s: activate the trigger set", s->name);
    n = 4;
    ret = api.mcd_qry_trig_set_f(s->core, 0, &n, ids);
    memset(&back, 0, sizeof(back));
    ok(ret == MCD_RET_ACT_NONE && n == 1 && ids[0] == id &&
       api.mcd_qry_trig_f(s->core, id, sizeof(back), &back) ==
       MCD_RET_ACT_NONE && back.addr_start.address == BREAK_ADDR,
       "%s: the trigger set holds it", s->name);

    ok_call(api.mcd_run_f(s->core, FALSE), s->core, "%s: run", s->name);
    stopped = wait_state(s, MCD_CORE_STATE_DEBUG, &st);
    if (!ok(stopped, "%s: the core stops (state %u)", s->name, st.state)) {
        api.mcd_stop_f(s->core, TRUE);
    }
    ok(strstr(st.stop_str, "breakpoint") != NULL && st.trig_id == id,
       "%s: stopped by trigger %u: '%s'", s->name, st.trig_id, st.stop_str);
    ok(st.event == MCD_CORE_EVENT_STOPPED, "%s: the first query after the "
       "stop has the event STOPPED (0x%x)", s->name, st.event);
    check_stop_again(s, "breakpoint", id, &st);
    pc = read_reg(s, &s->pc);
    ok(pc == BREAK_ADDR && read_reg(s, &s->r0) == 1,
       "%s: pc 0x%llx at the breakpoint, %s 1", s->name,
       (unsigned long long)pc, t->r0);
    ok_call(api.mcd_remove_trig_f(s->core, id), s->core,
            "%s: remove the breakpoint", s->name);
    n = 0;
    ret = api.mcd_qry_trig_set_f(s->core, 0, &n, NULL);
    ok(ret == MCD_RET_ACT_NONE && n == 0, "%s: the trigger set is empty",
       s->name);
    ret = api.mcd_remove_trig_f(s->core, id);
    expect_error(ret, s->core, MCD_ERR_TRIG_ACCESS,
                 "removing a removed trigger");
}

static void check_steps(Session *s)
{
    const Target *t = s->t;
    bool claimed = has_ext(s, "steps");
    mcd_error_info_st e;
    mcd_core_state_st st;
    mcd_return_et ret;
    uint64_t pc, r0;
    bool stopped;

    if (!list_has(s->offered, "steps") && !has_ext(s, "errors")) {
        /* era-1 steps answer nothing: a stub that cannot step is silent */
        skip("no steps in the stub, no errors", "%s: step 1 instruction",
             s->name);
        skip("no steps in the stub, no errors", "%s: the stop after the "
             "step", s->name);
        skip("no steps in the stub, no errors", "%s: step 3 instructions",
             s->name);
        skip("no steps in the stub, no errors", "%s: a global step",
             s->name);
        return;
    }
    /* at the breakpoint: b .-4 goes back to the add */
    ret = api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1);
    e = last_error(s->core);
    if (ret != MCD_RET_ACT_NONE && !claimed &&
        e.error_code == MCD_ERR_FN_UNIMPLEMENTED) {
        skip("the stub does not step yet", "%s: step 1 instruction",
             s->name);
        skip("the stub does not step yet", "%s: the stop after the step",
             s->name);
        skip("the stub does not step yet", "%s: step 3 instructions",
             s->name);
        skip("the stub does not step yet", "%s: a global step", s->name);
        return;
    }
    /* the step returns once it started: the state tells its end */
    memset(&st, 0, sizeof(st));
    stopped = ret == MCD_RET_ACT_NONE &&
              wait_state(s, MCD_CORE_STATE_DEBUG, &st);
    pc = read_reg(s, &s->pc);
    if (!ok(stopped && pc == GUEST_BASE,
            "%s: step 1 instruction: pc 0x%llx -> 0x%llx%s", s->name,
            BREAK_ADDR, (unsigned long long)pc,
            claimed ? "" : " (without the steps extension)")) {
        diag("error 0x%x: %s", e.error_code, e.error_str);
    }
    /* the first query that sees the stop reports it */
    ok(stopped && st.event == MCD_CORE_EVENT_STOPPED && st.trig_id == 0 &&
       strstr(st.stop_str, "step") != NULL, "%s: the stop after the step: "
       "event 0x%x, trigger %u, '%s'", s->name, st.event, st.trig_id,
       st.stop_str);
    ret = api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 3);
    e = last_error(s->core);
    stopped = ret == MCD_RET_ACT_NONE &&
              wait_state(s, MCD_CORE_STATE_DEBUG, &st);
    pc = read_reg(s, &s->pc);
    r0 = read_reg(s, &s->r0);
    if (!ok(stopped && pc == BREAK_ADDR && r0 == 3,
            "%s: step 3 instructions: pc 0x%llx, %s %llu", s->name,
            (unsigned long long)pc, t->r0, (unsigned long long)r0)) {
        diag("error 0x%x: %s", e.error_code, e.error_str);
    }
    /* one core: a global step steps it */
    ret = api.mcd_step_f(s->core, TRUE, MCD_CORE_STEP_TYPE_INSTR, 1);
    e = last_error(s->core);
    stopped = ret == MCD_RET_ACT_NONE &&
              wait_state(s, MCD_CORE_STATE_DEBUG, &st);
    pc = read_reg(s, &s->pc);
    if (!ok(stopped && pc == GUEST_BASE,
            "%s: a global step: pc 0x%llx", s->name,
            (unsigned long long)pc)) {
        diag("error 0x%x: %s", e.error_code, e.error_str);
    }
}

static void check_watchpoints(Session *s)
{
    bool wplen = has_ext(s, "wplen");
    mcd_trig_simple_core_st trig;
    mcd_core_state_st st = { 0 };
    uint64_t v;
    uint32_t id = 0;
    mcd_return_et ret;
    bool stopped;

    /* the store at STORE_ADDR writes r0 to [r1] */
    v = STORE_ADDR;
    reg_access(s, &s->pc, &v, true);
    v = WATCH_ADDR;
    reg_access(s, &s->r1, &v, true);
    memset(&trig, 0, sizeof(trig));
    trig.struct_size = sizeof(trig);
    trig.type = MCD_TRIG_TYPE_WRITE;
    trig.action = MCD_TRIG_ACTION_DBG_DEBUG;
    trig.addr_start.address = WATCH_ADDR;
    trig.addr_start.mem_space_id = s->ns_space;
    trig.addr_range = 3;
    ret = api.mcd_create_trig_f(s->core, &trig, &id);
    ok_call(ret, s->core, "%s: create a 4-byte write watchpoint", s->name);
    ok_call(api.mcd_run_f(s->core, TRUE), s->core, "%s: run (global)",
            s->name);
    stopped = wait_state(s, MCD_CORE_STATE_DEBUG, &st);
    ok(stopped && strstr(st.stop_str, "watchpoint") != NULL &&
       st.trig_id == id && st.event == MCD_CORE_EVENT_STOPPED,
       "%s: stopped by watchpoint %u: '%s'", s->name, st.trig_id,
       st.stop_str);
    check_stop_again(s, "watchpoint", id, &st);
    ok_call(api.mcd_remove_trig_f(s->core, id), s->core,
            "%s: remove the watchpoint", s->name);

    /* a watchpoint of 16 bytes, hit at its 9th */
    memset(&trig, 0, sizeof(trig));
    trig.struct_size = sizeof(trig);
    trig.type = MCD_TRIG_TYPE_WRITE;
    trig.action = MCD_TRIG_ACTION_DBG_DEBUG;
    trig.addr_start.address = WIDE_WATCH;
    trig.addr_start.mem_space_id = s->ns_space;
    trig.addr_range = 15;
    ret = api.mcd_create_trig_f(s->core, &trig, &id);
    if (!wplen) {
        ok(ret == MCD_RET_ACT_NONE && trig.modified && trig.addr_range == 3,
           "%s: without wplen a 16-byte watchpoint becomes 4 bytes "
           "(modified)", s->name);
        api.mcd_remove_trig_f(s->core, id);
        skip("wplen is not enabled", "%s: a 16-byte watchpoint "
             "hit at its 9th byte", s->name);
        return;
    }
    ok(ret == MCD_RET_ACT_NONE && !trig.modified && trig.addr_range == 15,
       "%s: create a 16-byte write watchpoint", s->name);
    v = STORE_ADDR;
    reg_access(s, &s->pc, &v, true);
    v = WIDE_WATCH + 8;
    reg_access(s, &s->r1, &v, true);
    api.mcd_run_f(s->core, FALSE);
    stopped = wait_state(s, MCD_CORE_STATE_DEBUG, &st);
    ok(stopped && strstr(st.stop_str, "watchpoint") != NULL &&
       st.trig_id == id, "%s: a 16-byte watchpoint hit at its 9th byte: "
       "'%s'", s->name, st.stop_str);
    api.mcd_stop_f(s->core, TRUE);
    api.mcd_remove_trig_f(s->core, id);
}

static void check_resets(Session *s, uint64_t reset_pc)
{
    bool claimed = has_ext(s, "resethalt");
    mcd_rst_info_st info;
    mcd_core_state_st st;
    mcd_error_info_st e;
    uint32_t vector = 0, k;
    mcd_return_et ret;
    uint64_t pc;

    ret = api.mcd_qry_rst_classes_f(s->core, &vector);
    ok(ret == MCD_RET_ACT_NONE && (vector & 1),
       "%s: reset classes 0x%x", s->name, vector);
    ret = api.mcd_qry_rst_class_info_f(s->core, 0, &info);
    ok(ret == MCD_RET_ACT_NONE && info.class_vector == 1 &&
       strcmp(info.info_str, "full_system_reset") == 0,
       "%s: reset class 0 is '%s'", s->name, info.info_str);
    ret = api.mcd_qry_rst_class_info_f(s->core, 30, &info);
    expect_error(ret, s->core, MCD_ERR_PARAM, "reset class 30");

    for (k = 0; k < 2; k++) {
        if (!(vector & (1u << k))) {
            continue;
        }
        /* move away from the reset vector first */
        pc = GUEST_BASE;
        reg_access(s, &s->pc, &pc, true);
        ret = api.mcd_rst_f(s->core, 1u << k, TRUE);
        e = last_error(s->core);
        if (ret != MCD_RET_ACT_NONE && !claimed &&
            e.error_code == MCD_ERR_FN_UNIMPLEMENTED) {
            skip("the stub does not reset yet", "%s: reset class %u and "
                 "halt", s->name, k);
            continue;
        }
        if (!ok(ret == MCD_RET_ACT_NONE, "%s: reset class %u and halt%s",
                s->name, k, claimed ? "" : " (reset, then break)")) {
            diag("error 0x%x: %s", e.error_code, e.error_str);
            continue;
        }
        ret = api.mcd_qry_state_f(s->core, &st);
        pc = read_reg(s, &s->pc);
        if (claimed || (pc == reset_pc && st.state != MCD_CORE_STATE_RUNNING)) {
            ok(ret == MCD_RET_ACT_NONE && st.state != MCD_CORE_STATE_RUNNING &&
               pc == reset_pc, "%s: halted at the reset vector 0x%llx "
               "(pc 0x%llx, state %u)", s->name,
               (unsigned long long)reset_pc, (unsigned long long)pc,
               st.state);
        } else {
            skip("no resethalt: reset then break need not stop at the vector",
                 "%s: halted at the reset vector (pc 0x%llx)", s->name,
                 (unsigned long long)pc);
        }
    }
    ret = api.mcd_rst_f(s->core, 1u << 20, FALSE);
    expect_error(ret, s->core, MCD_ERR_PARAM, "reset class 20");
}

static void check_misc(Session *s)
{
    mcd_core_st fake = { 0 };
    mcd_core_state_st st;
    uint64_t time;
    uint32_t max = 0;
    mcd_return_et ret;

    ret = api.mcd_qry_current_time_f(s->core, &time);
    expect_error(ret, s->core, MCD_ERR_FN_UNIMPLEMENTED,
                 "an unimplemented function");
    ret = api.mcd_qry_state_f(&fake, &st);
    expect_error(ret, NULL, MCD_ERR_PARAM, "a core that was never opened");
    ret = api.mcd_qry_max_payload_size_f(s->core, &max);
    ok(ret == MCD_RET_ACT_NONE && max >= MCD_GUARANTEED_MIN_PAYLOAD,
       "%s: max payload %u", s->name, max);
    ret = api.mcd_step_f(s->core, FALSE, 0x100, 1);
    expect_error(ret, s->core, MCD_ERR_PARAM, "a custom step type");
}

/*
 * Run the sequence on target @t; @limit restricts the extensions libmcd
 * enables ("era1": none, not even the negotiation), to check that it
 * degrades as it should on older stubs.
 */
static void run_target(const Target *t, const char *limit)
{
    const char *binary = getenv(t->env) ? getenv(t->env) : t->binary;
    Session s = { .t = t };
    char offered[256];
    const char *p, *end;
    mcd_api_version_st req = { 1, 1, "test-libmcd" };
    mcd_impl_version_info_st impl;
    uint64_t reset_pc = 0;
    mcd_core_state_st st;
    mcd_return_et ret;
    uint32_t n, i;
    int port = free_port();

    snprintf(s.name, sizeof(s.name), "%s%s%s", t->name, limit ? "/" : "",
             limit ? limit : "");
    if (!ok(qemu_start(binary, t->machine, t->cpu, port, 0),
            "%s: start %s -M %s -cpu %s -S -mcd tcp:127.0.0.1:%d", s.name,
            binary, t->machine, t->cpu, port)) {
        return;
    }
    probe_extensions(port, offered, sizeof(offered));
    snprintf(s.offered, sizeof(s.offered), "%s", offered);
    diag("%s: the stub offers the extensions '%s'", s.name, offered);
    /* what libmcd will enable */
    if (!limit) {
        snprintf(s.extensions, sizeof(s.extensions), "%s", offered);
        env_set("LIBMCD_EXTENSIONS", NULL);
    } else {
        for (p = offered; *p; p = *end ? end + 1 : end) {
            end = strchr(p, ',');
            end = end ? end : p + strlen(p);
            if (strstr(limit, "errors") && end - p == 6 &&
                strncmp(p, "errors", 6) == 0) {
                snprintf(s.extensions, sizeof(s.extensions), "errors");
            }
        }
        env_set("LIBMCD_EXTENSIONS", limit);
    }

    tap_prefix = s.name;
    ret = api.mcd_initialize_f(&req, &impl);
    ok_call(ret, NULL, "%s: mcd_initialize_f 1.1: %s, API %u.%u", s.name,
            impl.vendor, impl.v_api.v_api_major, impl.v_api.v_api_minor);
    if (!discover(&s, port)) {
        goto out;
    }
    ret = api.mcd_qry_state_f(s.core, &st);
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_HALTED &&
       strcmp(st.info_str, "vm halted since boot") == 0,
       "%s: the core is halted since boot: '%s'", s.name, st.info_str);

    check_memory(&s);
    check_side_effects(&s);
    reset_pc = check_registers(&s);
    check_breakpoint(&s);
    check_steps(&s);
    check_watchpoints(&s);
    check_resets(&s, reset_pc);
    check_misc(&s);

    for (i = 0; i < s.nr_cores; i++) {
        ret = api.mcd_close_core_f(s.cores[i]);
        ok_call(ret, NULL, "%s: close core %u", s.name, i);
    }
    ok_call(api.mcd_close_server_f(s.server), NULL, "%s: close the server",
            s.name);
    n = 0;
    ret = api.mcd_qry_systems_f(0, &n, NULL);
    expect_error(ret, NULL, MCD_ERR_USAGE, "a query after closing");
out:
    api.mcd_exit_f();
    qemu_kill();
    ok(!qemu_running, "%s: QEMU stopped", s.name);
    tap_prefix = "";
}

/*
 * Threads: the library driven from several threads at once, as the MCD
 * API allows.  One thread polls the state, one reads memory, the main
 * thread steps, and a step count of LONG_STEPS instructions is ended by
 * mcd_stop_f from yet another thread.  The build with ThreadSanitizer
 * runs this part alone (test-libmcd --threads).
 */

#define THREAD_BUF      4096
#define THREAD_DATA     (SCRATCH + 0x1000)
#define LONG_STEPS      1000000u
/* The goal: a stop ends a running step count within this. */
#define STOP_GOAL_MS    100
/* How often the stop is tried before the goal counts as missed. */
#define STOP_TRIES      3

typedef struct Threads {
    Session *s;
    int quit;                       /* atomic: the helpers end */
    /* the poller */
    unsigned long polls, poll_fail, poll_odd, poll_running;
    int poll_state;                 /* the last state it saw */
    char poll_err[MCD_INFO_STR_LEN];
    /* the reader */
    unsigned long reads, read_fail, read_bad;
    char read_err[MCD_INFO_STR_LEN];
    uint8_t pattern[THREAD_BUF];
    /* the stopper */
    long long stop_call_ms, stop_ms;
    mcd_return_et stop_ret;
    /* the thread that checks that its error info is its own */
    mcd_error_info_st other_err;
    mcd_return_et other_ret;
} Threads;

static unsigned long atomic_get(unsigned long *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void atomic_inc(unsigned long *p)
{
    __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

/* Count a failed call of a thread; keep the library's text of the first. */
static void thread_failed(Threads *th, unsigned long *count, char *err,
                          size_t size)
{
    if (atomic_get(count) == 0) {
        mcd_error_info_st e = last_error(th->s->core);

        snprintf(err, size, "%s", e.error_str);
    }
    atomic_inc(count);
}

static void *poll_thread(void *opaque)
{
    Threads *th = opaque;
    mcd_core_state_st st;
    mcd_return_et ret;

    while (!__atomic_load_n(&th->quit, __ATOMIC_SEQ_CST)) {
        memset(&st, 0, sizeof(st));
        ret = api.mcd_qry_state_f(th->s->core, &st);
        if (ret != MCD_RET_ACT_NONE) {
            thread_failed(th, &th->poll_fail, th->poll_err, sizeof(th->poll_err));
        } else {
            atomic_inc(&th->polls);
            if (st.state == MCD_CORE_STATE_RUNNING) {
                atomic_inc(&th->poll_running);
            } else if (st.state != MCD_CORE_STATE_DEBUG) {
                if (atomic_get(&th->poll_odd) == 0) {
                    snprintf(th->poll_err, sizeof(th->poll_err), "state "
                             "%u after %lu queries: '%.160s'", st.state,
                             atomic_get(&th->polls), st.info_str);
                }
                atomic_inc(&th->poll_odd);
            }
            __atomic_store_n(&th->poll_state, (int)st.state,
                             __ATOMIC_SEQ_CST);
        }
        /* as fast as it can: the other threads still get their turns */
    }
    return NULL;
}

static void *read_thread(void *opaque)
{
    Threads *th = opaque;
    uint8_t *buf = malloc(THREAD_BUF);
    mcd_return_et ret;

    while (buf && !__atomic_load_n(&th->quit, __ATOMIC_SEQ_CST)) {
        memset(buf, 0, THREAD_BUF);
        ret = mem_access(th->s, th->s->ns_space, THREAD_DATA, buf,
                         THREAD_BUF, false);
        if (ret != MCD_RET_ACT_NONE) {
            thread_failed(th, &th->read_fail, th->read_err, sizeof(th->read_err));
        } else {
            atomic_inc(&th->reads);
            if (memcmp(buf, th->pattern, THREAD_BUF) != 0) {
                atomic_inc(&th->read_bad);
            }
        }
        sleep_ms(1);
    }
    free(buf);
    return NULL;
}

/* Stop the core, and poll its state until it is stopped. */
static void *stop_thread(void *opaque)
{
    Threads *th = opaque;
    mcd_core_state_st st;
    long long start = now_ms(), deadline = start + STOP_TIMEOUT_MS;
    mcd_return_et ret;

    th->stop_ret = api.mcd_stop_f(th->s->core, FALSE);
    th->stop_call_ms = now_ms() - start;
    th->stop_ms = -1;
    do {
        memset(&st, 0, sizeof(st));
        ret = api.mcd_qry_state_f(th->s->core, &st);
        if (ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG) {
            th->stop_ms = now_ms() - start;
            break;
        }
    } while (ret == MCD_RET_ACT_NONE && now_ms() < deadline);
    return NULL;
}

/* A call that succeeds on the core, then this thread's error info. */
static void *other_thread(void *opaque)
{
    Threads *th = opaque;
    mcd_core_state_st st;

    th->other_ret = api.mcd_qry_state_f(th->s->core, &st);
    th->other_err = last_error(th->s->core);
    return NULL;
}

/* Poll from this thread until the core is in debug state. */
static bool wait_debug(Session *s)
{
    mcd_core_state_st st;
    long long deadline = now_ms() + STOP_TIMEOUT_MS;

    do {
        if (api.mcd_qry_state_f(s->core, &st) != MCD_RET_ACT_NONE) {
            return false;
        }
        if (st.state == MCD_CORE_STATE_DEBUG) {
            return true;
        }
        sleep_ms(1);
    } while (now_ms() < deadline);
    return false;
}

/*
 * Initialize libmcd, open the server at @port and core 0 of it, and find
 * the Non Secure space.
 */
static bool open_core0(Session *s, int port)
{
    mcd_api_version_st req = { 1, 1, "test-libmcd" };
    mcd_impl_version_info_st impl;
    mcd_core_con_info_st sel, core;
    mcd_memspace_st spaces[16];
    char config[64];
    uint32_t n = 1, i;

    api.mcd_initialize_f(&req, &impl);
    snprintf(config, sizeof(config), "127.0.0.1:%d", port);
    memset(&sel, 0, sizeof(sel));
    if (api.mcd_open_server_f("", config, &s->server) != MCD_RET_ACT_NONE ||
        api.mcd_qry_cores_f(&sel, 0, &n, &core) != MCD_RET_ACT_NONE ||
        api.mcd_open_core_f(&core, &s->core) != MCD_RET_ACT_NONE) {
        diag("%s: %s", s->name, last_error(NULL).error_str);
        return false;
    }
    n = 16;
    if (api.mcd_qry_mem_spaces_f(s->core, 0, &n, spaces) ==
        MCD_RET_ACT_NONE) {
        for (i = 0; i < n; i++) {
            if (strcmp(spaces[i].mem_space_name, "Non Secure") == 0) {
                s->ns_space = spaces[i].mem_space_id;
            }
        }
    }
    return true;
}

/* Open the server and core 0, and find the Non Secure space, pc and r0. */
static bool threads_open(Session *s, int port)
{
    mcd_register_info_st *regs;
    uint32_t n, i;

    if (!open_core0(s, port)) {
        return false;
    }
    n = 0;
    if (api.mcd_qry_reg_map_f(s->core, 0, 0, &n, NULL) != MCD_RET_ACT_NONE) {
        return false;
    }
    regs = calloc(n, sizeof(*regs));
    if (regs &&
        api.mcd_qry_reg_map_f(s->core, 0, 0, &n, regs) == MCD_RET_ACT_NONE) {
        for (i = 0; i < n; i++) {
            if (regs[i].addr.address == s->t->pc_id) {
                s->pc = regs[i];
            }
            if (strcmp(regs[i].regname, s->t->r0) == 0) {
                s->r0 = regs[i];
            }
        }
    }
    free(regs);
    return s->ns_space && s->pc.regsize && s->r0.regsize;
}

/*
 * Steps of the main thread while the others poll and read: each ends
 * where it should, seen by the main thread's own state queries.
 */
static void threads_steps(Session *s)
{
    unsigned int i, bad = 0;
    uint64_t pc, r0, want_r0 = 0;
    mcd_return_et ret;
    bool good = true;

    for (i = 0; i < 20 && good; i++) {
        ret = api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1);
        good = ret == MCD_RET_ACT_NONE && wait_debug(s);
        pc = read_reg(s, &s->pc);
        r0 = read_reg(s, &s->r0);
        /* add, then b .-4 */
        want_r0 += i % 2 == 0;
        if (pc != GUEST_BASE + (i % 2 == 0 ? 4 : 0) || r0 != want_r0) {
            if (!bad++) {
                diag("%s: step %u: pc 0x%llx, %s %llu", s->name, i,
                     (unsigned long long)pc, s->t->r0,
                     (unsigned long long)r0);
            }
        }
    }
    if (!good) {
        diag("%s: step %u: %s", s->name, i, last_error(s->core).error_str);
    }
    ok(good && bad == 0, "%s: 20 single steps while other threads poll "
       "and read: each ends where it should (%u wrong)", s->name, bad);
    ret = api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1000);
    good = ret == MCD_RET_ACT_NONE && wait_debug(s);
    pc = read_reg(s, &s->pc);
    r0 = read_reg(s, &s->r0);
    ok(good && pc == GUEST_BASE && r0 == want_r0 + 500,
       "%s: a count of 1000 steps: pc 0x%llx, %s %llu (+%llu)", s->name,
       (unsigned long long)pc, s->t->r0, (unsigned long long)r0,
       (unsigned long long)(r0 - want_r0));
}

/*
 * A step count of LONG_STEPS returns at once, runs, and mcd_stop_f from
 * another thread ends it within STOP_GOAL_MS.
 */
static void threads_stop(Session *s, Threads *th)
{
    long long start, took, best = -1;
    mcd_return_et ret = MCD_RET_ACT_NONE;
    unsigned int try, cut = 0;
    uint64_t r0, r0_start;
    pthread_t thread;
    bool started = true;

    for (try = 0; try < STOP_TRIES; try++) {
        r0_start = read_reg(s, &s->r0);
        start = now_ms();
        ret = api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR,
                             LONG_STEPS);
        took = now_ms() - start;
        if (ret != MCD_RET_ACT_NONE || took > 1000) {
            diag("%s: the step count returned after %lld ms: %s", s->name,
                 took, ret ? last_error(s->core).error_str : "no error");
            started = false;
            break;
        }
        /* it runs a moment (QEMU steps about 10 million a second) */
        sleep_ms(10);
        if (pthread_create(&thread, NULL, stop_thread, th) != 0) {
            started = false;
            break;
        }
        pthread_join(thread, NULL);
        r0 = read_reg(s, &s->r0);
        cut += th->stop_ret == MCD_RET_ACT_NONE && th->stop_ms >= 0 &&
               r0 > r0_start && r0 - r0_start < LONG_STEPS / 2;
        diag("%s: stop %u: mcd_stop_f took %lld ms, the state says debug "
             "after %lld ms, %llu instructions done", s->name, try + 1,
             th->stop_call_ms, th->stop_ms,
             2 * (unsigned long long)(r0 - r0_start));
        if (th->stop_ms >= 0 && (best < 0 || th->stop_ms < best)) {
            best = th->stop_ms;
        }
        if (best >= 0 && best < STOP_GOAL_MS) {
            try++;
            break;
        }
    }
    ok(started, "%s: a count of %u steps returns once it started", s->name,
       LONG_STEPS);
    ok(started && cut == try, "%s: mcd_stop_f from another thread ends it "
       "before its end", s->name);
    ok(started && best >= 0 && best < STOP_GOAL_MS, "%s: ... within %d ms: "
       "%lld ms", s->name, STOP_GOAL_MS, best);
}

static void run_threads(const Target *t, const char *limit)
{
    const char *binary = getenv(t->env) ? getenv(t->env) : t->binary;
    Threads *th = calloc(1, sizeof(*th));
    Session s = { .t = t };
    pthread_t poller, reader, other;
    bool have_poller = false, have_reader = false;
    unsigned long polls, reads;
    mcd_error_info_st e;
    uint8_t guest[16], junk[4];
    uint64_t v;
    long long deadline;
    unsigned int i;
    int port = free_port();

    snprintf(s.name, sizeof(s.name), "%s/threads%s%s", t->name,
             limit ? "/" : "", limit ? limit : "");
    tap_prefix = s.name;
    if (!th || !ok(qemu_start(binary, t->machine, t->cpu, port, 0),
                   "%s: start %s", s.name, binary)) {
        goto out;
    }
    env_set("LIBMCD_EXTENSIONS", limit);
    if (!ok(threads_open(&s, port), "%s: open the server and core 0",
            s.name)) {
        goto close;
    }
    th->s = &s;
    /* the guest: add; b .-4 at GUEST_BASE; a pattern to read */
    for (i = 0; i < 4; i++) {
        guest[4 * i] = t->guest[i];
        guest[4 * i + 1] = t->guest[i] >> 8;
        guest[4 * i + 2] = t->guest[i] >> 16;
        guest[4 * i + 3] = t->guest[i] >> 24;
    }
    for (i = 0; i < THREAD_BUF; i++) {
        th->pattern[i] = (uint8_t)(i * 7 + 3);
    }
    /* a step first: the core is in debug state then, not halted (-S) */
    v = GUEST_BASE;
    ok(mem_access(&s, s.ns_space, GUEST_BASE, guest, sizeof(guest), true) ==
       MCD_RET_ACT_NONE &&
       mem_access(&s, s.ns_space, THREAD_DATA, th->pattern, THREAD_BUF,
                  true) == MCD_RET_ACT_NONE &&
       reg_access(&s, &s.pc, &v, true) == MCD_RET_ACT_NONE &&
       api.mcd_step_f(s.core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1) ==
       MCD_RET_ACT_NONE && wait_debug(&s) &&
       reg_access(&s, &s.pc, &v, true) == MCD_RET_ACT_NONE &&
       reg_access(&s, &s.r0, &(uint64_t){ 0 }, true) == MCD_RET_ACT_NONE,
       "%s: load the guest and the data, step once", s.name);

    have_poller = pthread_create(&poller, NULL, poll_thread, th) == 0;
    have_reader = pthread_create(&reader, NULL, read_thread, th) == 0;
    ok(have_poller && have_reader, "%s: a thread polls the state, another "
       "reads memory", s.name);

    threads_steps(&s);

    /* errors are per thread: another thread's success leaves ours */
    mem_access(&s, s.ns_space, UNMAPPED, junk, sizeof(junk), false);
    sleep_ms(20);
    e = last_error(s.core);
    if (pthread_create(&other, NULL, other_thread, th) == 0) {
        pthread_join(other, NULL);
    }
    ok(e.error_code == MCD_ERR_TXLIST_READ &&
       last_error(s.core).error_code == MCD_ERR_TXLIST_READ &&
       th->other_ret == MCD_RET_ACT_NONE && th->other_err.error_code == 0,
       "%s: the error of a failed read stays this thread's while the "
       "others succeed (0x%x, another thread's 0x%x)", s.name, e.error_code,
       th->other_err.error_code);

    threads_stop(&s, th);

    /* the poller sees the stop too */
    deadline = now_ms() + STOP_TIMEOUT_MS;
    polls = atomic_get(&th->polls);
    while ((__atomic_load_n(&th->poll_state, __ATOMIC_SEQ_CST) !=
            MCD_CORE_STATE_DEBUG || atomic_get(&th->polls) < polls + 2) &&
           now_ms() < deadline) {
        sleep_ms(5);
    }
    reads = atomic_get(&th->reads);
    deadline = now_ms() + STOP_TIMEOUT_MS;
    while (atomic_get(&th->reads) < reads + 2 && now_ms() < deadline) {
        sleep_ms(5);
    }
    __atomic_store_n(&th->quit, 1, __ATOMIC_SEQ_CST);
    if (have_poller) {
        pthread_join(poller, NULL);
    }
    if (have_reader) {
        pthread_join(reader, NULL);
    }
    if (th->poll_fail || th->poll_odd) {
        diag("%s: the poller: %s", s.name, th->poll_err);
    }
    ok(th->polls > 0 && th->poll_fail == 0 && th->poll_odd == 0 &&
       th->poll_running > 0 && th->poll_state == MCD_CORE_STATE_DEBUG,
       "%s: the poller: %lu queries, running %lu times, then debug, none "
       "failed (%lu) or odd (%lu)", s.name, th->polls, th->poll_running,
       th->poll_fail, th->poll_odd);
    if (th->read_fail) {
        diag("%s: the reader: %s", s.name, th->read_err);
    }
    ok(th->reads > 0 && th->read_fail == 0 && th->read_bad == 0,
       "%s: the reader: %lu reads of %d bytes, all right (failed %lu, "
       "wrong %lu)", s.name, th->reads, THREAD_BUF, th->read_fail,
       th->read_bad);
close:
    ok_call(api.mcd_close_server_f(s.server), NULL, "%s: close the server",
            s.name);
    api.mcd_exit_f();
    env_set("LIBMCD_EXTENSIONS", NULL);
    qemu_kill();
out:
    free(th);
    tap_prefix = "";
}

/*
 * The fast paths: lists, regs, binary and notify
 */

/*
 * A proxy between libmcd and QEMU that logs the packets libmcd sends,
 * a line each (their first bytes, non-printable ones as '.'), and counts
 * the notifications QEMU sends.  It serves one connection after another.
 */
typedef struct Proxy {
    int listen_fd;
    int port;
    int target;                 /* QEMU's port */
    pthread_t thread;
    pthread_mutex_t lock;
    char log[256 * 1024];
    size_t log_len;
    unsigned int notes;         /* "%stop=..." from QEMU */
    /*
     * round trips: the times libmcd sent something after QEMU did (or
     * first on a connection)
     */
    unsigned int turns;
    /* connections libmcd closed, the last one after QEMU's last bytes */
    unsigned int ends;
    bool end_after_answer;
} Proxy;

/* Where a direction of the stream is: between packets, in one, after it. */
typedef struct ProxyParse {
    int state;                  /* 0 between, 1 payload, 2 terminator */
    bool note;
    char line[128];
    size_t len;
} ProxyParse;

static void proxy_parse(Proxy *px, ProxyParse *pp, const uint8_t *buf,
                        size_t len, bool from_client)
{
    size_t i;

    for (i = 0; i < len; i++) {
        uint8_t b = buf[i];

        switch (pp->state) {
        case 0:
            if (b == '$' || b == '%') {
                pp->state = 1;
                pp->note = b == '%';
                pp->len = 0;
            }
            break;
        case 1:
            if (b == '#') {
                pp->state = 2;
                pthread_mutex_lock(&px->lock);
                if (!from_client) {
                    px->notes += pp->note ||
                                 (pp->len && pp->line[0] == '%');
                } else if (px->log_len + pp->len + 2 < sizeof(px->log)) {
                    memcpy(px->log + px->log_len, pp->line, pp->len);
                    px->log_len += pp->len;
                    px->log[px->log_len++] = '\n';
                    px->log[px->log_len] = '\0';
                }
                pthread_mutex_unlock(&px->lock);
            } else if (pp->len < sizeof(pp->line) - 1) {
                pp->line[pp->len++] = b >= 0x20 && b < 0x7f ? b : '.';
            }
            break;
        default:
            /* "|", or a checksum: libmcd and QEMU use "|" */
            pp->state = 0;
            break;
        }
    }
}

static void *proxy_thread(void *opaque)
{
    Proxy *px = opaque;
    struct pollfd pfd[2];
    ProxyParse pp[2];
    uint8_t buf[65536];
    ssize_t n, w, done;
    int fd[2], i, k;
    bool server_last;

    for (;;) {
        fd[0] = accept(px->listen_fd, NULL, NULL);
        if (fd[0] < 0) {
            return NULL;
        }
        fd[1] = connect_loopback(px->target);
        if (fd[1] < 0) {
            sock_close(fd[0]);
            continue;
        }
        memset(pp, 0, sizeof(pp));
        server_last = true;
        for (i = 0; i < 2; i++) {
            /* small packets at once, as libmcd and QEMU send them */
            sock_nodelay(fd[i]);
        }
        for (;;) {
            for (i = 0; i < 2; i++) {
                pfd[i].fd = fd[i];
                pfd[i].events = POLLIN;
            }
            if (poll(pfd, 2, -1) < 0) {
                break;
            }
            for (i = 0; i < 2; i++) {
                if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                    continue;
                }
                n = sock_read(fd[i], buf, sizeof(buf));
                if (n <= 0 && i == 0) {
                    pthread_mutex_lock(&px->lock);
                    px->ends++;
                    px->end_after_answer = server_last;
                    pthread_mutex_unlock(&px->lock);
                }
                if (n <= 0) {
                    goto next;
                }
                proxy_parse(px, &pp[i], buf, n, i == 0);
                if (i == 0 && server_last) {
                    pthread_mutex_lock(&px->lock);
                    px->turns++;
                    pthread_mutex_unlock(&px->lock);
                }
                server_last = i == 1;
                for (done = 0; done < n; done += w) {
                    w = sock_write(fd[1 - i], buf + done, n - done);
                    if (w <= 0) {
                        goto next;
                    }
                }
            }
        }
next:
        for (k = 0; k < 2; k++) {
            sock_close(fd[k]);
        }
    }
}

static bool proxy_start(Proxy *px, int target)
{
    memset(px, 0, sizeof(*px));
    pthread_mutex_init(&px->lock, NULL);
    px->target = target;
    px->listen_fd = listen_loopback(&px->port);
    return px->listen_fd >= 0 && pthread_create(&px->thread, NULL, proxy_thread, px) == 0;
}

static void proxy_stop(Proxy *px)
{
    shutdown(px->listen_fd, SHUT_RDWR);
    sock_close(px->listen_fd);
    pthread_join(px->thread, NULL);
}

/* The end of the log so far, and the notifications so far. */
static size_t proxy_mark(Proxy *px, unsigned int *notes)
{
    size_t len;

    /* the packets libmcd sent have reached the proxy: it read them */
    sleep_ms(5);
    pthread_mutex_lock(&px->lock);
    len = px->log_len;
    if (notes) {
        *notes = px->notes;
    }
    pthread_mutex_unlock(&px->lock);
    return len;
}

/*
 * Wait until libmcd has closed @ends connections in all; did it close
 * the last one after the last bytes QEMU sent?
 */
static bool proxy_end_after_answer(Proxy *px, unsigned int ends)
{
    long long deadline = now_ms() + 2000;
    bool after = false, ended = false;

    while (!ended && now_ms() < deadline) {
        sleep_ms(1);
        pthread_mutex_lock(&px->lock);
        ended = px->ends >= ends;
        after = px->end_after_answer;
        pthread_mutex_unlock(&px->lock);
    }
    return ended && after;
}

/* The round trips so far. */
static unsigned int proxy_turns(Proxy *px)
{
    unsigned int turns;

    sleep_ms(5);
    pthread_mutex_lock(&px->lock);
    turns = px->turns;
    pthread_mutex_unlock(&px->lock);
    return turns;
}

/* How many packets since @from start with @prefix. */
static unsigned int proxy_count(Proxy *px, size_t from, const char *prefix)
{
    unsigned int n = 0;
    const char *p, *end;

    sleep_ms(5);
    pthread_mutex_lock(&px->lock);
    for (p = px->log + from; p < px->log + px->log_len; p = end + 1) {
        end = strchr(p, '\n');
        if (!end) {
            break;
        }
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    }
    pthread_mutex_unlock(&px->lock);
    return n;
}

/* Is there a packet since @from that starts with @prefix and has @part? */
static bool proxy_has(Proxy *px, size_t from, const char *prefix,
                      const char *part)
{
    bool found = false;
    const char *p, *end;

    pthread_mutex_lock(&px->lock);
    for (p = px->log + from; !found && p < px->log + px->log_len;
         p = end + 1) {
        end = strchr(p, '\n');
        if (!end) {
            break;
        }
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            char line[128];
            size_t n = end - p < 127 ? (size_t)(end - p) : 127;

            memcpy(line, p, n);
            line[n] = '\0';
            found = !part || strstr(line, part);
        }
    }
    pthread_mutex_unlock(&px->lock);
    return found;
}

/* A QMP command, as the monitor would send it; its answer in @out. */
static bool qmp_command(int port, const char *command, char *out,
                        size_t size)
{
    char buf[4096], cmd[128];
    size_t len = 0;
    ssize_t n;
    int fd = connect_loopback(port);
    int step = 0;
    bool good = false;

    if (fd < 0) {
        goto out;
    }
    sock_timeout(fd, 5);
    /* the greeting, the capabilities, the command: each answers a line */
    while (step < 3) {
        n = sock_read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            goto out;
        }
        len += n;
        buf[len] = '\0';
        while (step < 3 && strchr(buf, '\n')) {
            char *nl = strchr(buf, '\n');
            bool answer = step == 0 ? strstr(buf, "QMP") != NULL
                                    : strstr(buf, "\"return\"") != NULL;

            if (step > 0 && strstr(buf, "\"error\"") &&
                strstr(buf, "\"error\"") < nl) {
                goto out;
            }
            if (answer && step == 2 && out) {
                snprintf(out, size, "%.*s", (int)(nl - buf), buf);
            }
            memmove(buf, nl + 1, len - (nl + 1 - buf) + 1);
            len -= nl + 1 - buf;
            if (!answer) {
                continue;       /* an event */
            }
            step++;
            snprintf(cmd, sizeof(cmd), "{\"execute\": \"%s\"}\n",
                     step == 1 ? "qmp_capabilities" : command);
            if (step < 3 && sock_write(fd, cmd, strlen(cmd)) < 0) {
                goto out;
            }
        }
    }
    good = true;
out:
    if (fd >= 0) {
        sock_close(fd);
    }
    return good;
}

/* What a session sees of the target, to compare sessions. */
typedef struct Snapshot {
    uint32_t n_spaces;
    mcd_memspace_st spaces[16];
    uint32_t n_groups;
    mcd_register_group_st groups[32];
    uint32_t n_regs;
    mcd_register_info_st *regs;
    uint32_t reg_bytes;         /* the largest register */
    uint8_t *values;            /* reg_bytes for each register */
    uint32_t regs_ok;           /* registers read */
    uint32_t resets;
} Snapshot;

static void snapshot_free(Snapshot *sn)
{
    free(sn->regs);
    free(sn->values);
    memset(sn, 0, sizeof(*sn));
}

/* A transaction list of all registers (@first, @n of them), reads. */
static mcd_return_et read_regs(Session *s, Snapshot *sn, uint32_t first,
                               uint32_t n, uint8_t *values, uint32_t *n_ok)
{
    mcd_tx_st *tx = calloc(n ? n : 1, sizeof(*tx));
    mcd_txlist_st list = { tx, n, 0 };
    mcd_return_et ret;
    uint32_t i;

    for (i = 0; i < n; i++) {
        tx[i].addr = sn->regs[first + i].addr;
        tx[i].access_type = MCD_TX_AT_R;
        tx[i].data = values + (size_t)(first + i) * sn->reg_bytes;
        tx[i].num_bytes = (sn->regs[first + i].regsize + 7) / 8;
    }
    ret = api.mcd_execute_txlist_f(s->core, &list);
    *n_ok = list.num_tx_ok;
    free(tx);
    return ret;
}

/* The lists of core 0 and its registers: in one list, or one by one. */
static bool take_snapshot(Session *s, Snapshot *sn, bool one_list)
{
    uint32_t i, n = 0;
    mcd_return_et ret;

    memset(sn, 0, sizeof(*sn));
    sn->n_spaces = 16;
    sn->n_groups = 32;
    if (api.mcd_qry_mem_spaces_f(s->core, 0, &sn->n_spaces, sn->spaces) ||
        api.mcd_qry_reg_groups_f(s->core, 0, &sn->n_groups, sn->groups) ||
        api.mcd_qry_reg_map_f(s->core, 0, 0, &sn->n_regs, NULL) ||
        api.mcd_qry_rst_classes_f(s->core, &sn->resets)) {
        return false;
    }
    sn->regs = calloc(sn->n_regs, sizeof(*sn->regs));
    if (api.mcd_qry_reg_map_f(s->core, 0, 0, &sn->n_regs, sn->regs)) {
        return false;
    }
    for (i = 0; i < sn->n_regs; i++) {
        if ((sn->regs[i].regsize + 7) / 8 > sn->reg_bytes) {
            sn->reg_bytes = (sn->regs[i].regsize + 7) / 8;
        }
        if (strcmp(sn->regs[i].regname, "pc") == 0) {
            s->pc = sn->regs[i];
        } else if (strcmp(sn->regs[i].regname, s->t->r0) == 0) {
            s->r0 = sn->regs[i];
        } else if (strcmp(sn->regs[i].regname, s->t->r1) == 0) {
            s->r1 = sn->regs[i];
        }
    }
    for (i = 0; i < sn->n_spaces; i++) {
        if (strcmp(sn->spaces[i].mem_space_name, "Non Secure") == 0) {
            s->ns_space = sn->spaces[i].mem_space_id;
        }
    }
    sn->values = calloc(sn->n_regs, sn->reg_bytes);
    if (one_list) {
        read_regs(s, sn, 0, sn->n_regs, sn->values, &sn->regs_ok);
        return true;
    }
    for (i = 0; i < sn->n_regs; i++) {
        ret = read_regs(s, sn, i, 1, sn->values, &n);
        if (ret != MCD_RET_ACT_NONE) {
            break;
        }
    }
    sn->regs_ok = i;
    return true;
}

/* Register @i that differs between @a and @b, or -1. */
static int snapshot_diff(const Snapshot *a, const Snapshot *b)
{
    uint32_t i;

    for (i = 0; i < a->n_regs && i < b->n_regs; i++) {
        if (memcmp(a->values + (size_t)i * a->reg_bytes,
                   b->values + (size_t)i * b->reg_bytes,
                   (a->regs[i].regsize + 7) / 8) != 0) {
            return i;
        }
    }
    return -1;
}

/* A session of libmcd with the extensions @limit, through the proxy. */
static bool fast_open(Session *s, const Target *t, int port,
                      const char *limit)
{
    memset(s, 0, sizeof(*s));
    s->t = t;
    snprintf(s->name, sizeof(s->name), "%s/fast%s%s", t->name,
             limit ? "/" : "", limit ? "ref" : "");
    if (limit) {
        env_set("LIBMCD_EXTENSIONS", limit);
    } else {
        env_set("LIBMCD_EXTENSIONS", NULL);
    }
    if (!open_core0(s, port)) {
        api.mcd_exit_f();
        return false;
    }
    s->cores[0] = s->core;
    s->nr_cores = 1;
    return true;
}

static void fast_close(Session *s)
{
    api.mcd_close_server_f(s->server);
    api.mcd_exit_f();
    env_set("LIBMCD_EXTENSIONS", NULL);
}

/* The bytes of the binary test: every value, the framing's in runs. */
static void binary_pattern(uint8_t *buf, size_t len, unsigned int seed)
{
    static const uint8_t special[] = { '#', '$', '%', '}', 0, '|', '~',
                                       '+', '-', 0x7f, 0x80, 0xff, ';' };
    size_t i;

    for (i = 0; i < len; i++) {
        if (i < 256) {
            buf[i] = i;
        } else if (i < 512) {
            buf[i] = special[(i / 3) % sizeof(special)];
        } else {
            buf[i] = (i * 167 + (i >> 9) + seed) ^ (i >> 3);
        }
    }
}

/* A transaction of @len bytes at @addr of type @type. */
static void mem_tx(mcd_tx_st *tx, uint32_t space, uint64_t addr, void *buf,
                   uint32_t len, mcd_tx_access_type_et type)
{
    memset(tx, 0, sizeof(*tx));
    tx->addr.address = addr;
    tx->addr.mem_space_id = space;
    tx->access_type = type;
    tx->data = buf;
    tx->num_bytes = len;
}

/* Lists: as many items per query as fit, the same items as one by one. */
static void check_fast_lists(Session *s, Proxy *px, size_t mark,
                             const Snapshot *ref, const Snapshot *sn,
                             bool lists)
{
    uint32_t i;
    bool same;

    if (!lists) {
        skip("the stub does not offer lists", "%s: the lists in one "
             "query each", s->name);
        skip("the stub does not offer lists", "%s: ... the same items as "
             "one per query", s->name);
        return;
    }
    ok(proxy_count(px, mark, "qmemoryf0") == 1 &&
       proxy_count(px, mark, "qmemoryc") == 0 &&
       proxy_count(px, mark, "qreggroupf0") == 1 &&
       proxy_count(px, mark, "qreggroupc") == 0 &&
       proxy_count(px, mark, "qregf0") == 1 &&
       proxy_count(px, mark, "qregc") == 0 &&
       proxy_count(px, mark, "qresetf0") == 1 &&
       proxy_count(px, mark, "qresetc") == 0,
       "%s: %u memory spaces, %u groups, %u registers and 0x%x reset "
       "classes in one query each (the registers with the core type "
       "probe)", s->name, sn->n_spaces, sn->n_groups, sn->n_regs,
       sn->resets);
    same = sn->n_spaces == ref->n_spaces && sn->n_groups == ref->n_groups &&
           sn->n_regs == ref->n_regs && sn->resets == ref->resets &&
           memcmp(sn->spaces, ref->spaces,
                  sn->n_spaces * sizeof(sn->spaces[0])) == 0 &&
           memcmp(sn->groups, ref->groups,
                  sn->n_groups * sizeof(sn->groups[0])) == 0;
    for (i = 0; same && i < sn->n_regs; i++) {
        same = memcmp(&sn->regs[i], &ref->regs[i], sizeof(sn->regs[i])) == 0;
    }
    ok(same && proxy_count(px, 0, "qregc") > 0,
       "%s: ... the same items as one per query", s->name);
}

/* regs: a list of every register is one g, and what p reads one by one. */
static void check_fast_regs(Session *s, Proxy *px, const Snapshot *ref,
                            const Snapshot *sn, bool regs)
{
    Snapshot one = *sn;
    uint8_t vals[4][8], back[8];
    mcd_tx_st tx[4];
    mcd_txlist_st list = { tx, 4, 0 };
    size_t mark;
    uint32_t i, n_ok = 0, n = s->t->reg_bytes, first = 0;
    int diff;
    mcd_return_et ret;

    if (!regs) {
        for (i = 0; i < 5; i++) {
            skip("the stub does not offer regs", "%s: registers with g "
                 "and G (%u)", s->name, i);
        }
        return;
    }
    diff = snapshot_diff(ref, sn);
    ok(sn->regs_ok == sn->n_regs && ref->regs_ok == ref->n_regs &&
       diff < 0 && proxy_count(px, 0, "g0;") >= 1 &&
       proxy_count(px, 0, "g0;") <= 3,
       "%s: a list of all %u registers is read with %u g and equals "
       "what p reads one by one%s%s", s->name, sn->n_regs,
       proxy_count(px, 0, "g0;"), diff >= 0 ? ": differs at " : "",
       diff >= 0 ? sn->regs[diff].regname : "");
    /* one list per register: a g of one register each */
    one.values = calloc(one.n_regs, one.reg_bytes);
    mark = proxy_mark(px, NULL);
    for (i = 0; i < one.n_regs; i++) {
        if (read_regs(s, &one, i, 1, one.values, &n_ok) !=
            MCD_RET_ACT_NONE) {
            break;
        }
    }
    diff = snapshot_diff(sn, &one);
    ok(i == one.n_regs && diff < 0 &&
       proxy_count(px, mark, "g0;") == one.n_regs &&
       proxy_count(px, mark, "p0;") == 0,
       "%s: ... and what a g of each register reads", s->name);
    free(one.values);

    /* the core registers written back in one G */
    for (i = 0; i < sn->n_regs; i++) {
        if (sn->regs[i].addr.address == s->r0.addr.address) {
            first = i;
        }
    }
    memset(tx, 0, sizeof(tx));
    for (i = 0; i < 4; i++) {
        memset(vals[i], 0, sizeof(vals[i]));
        vals[i][0] = 0x11 * (i + 1);
        vals[i][n - 1] = 0x80 | i;
        tx[i].addr = sn->regs[first + i].addr;
        tx[i].access_type = MCD_TX_AT_W;
        tx[i].data = vals[i];
        tx[i].num_bytes = n;
    }
    mark = proxy_mark(px, NULL);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 4 &&
       proxy_count(px, mark, "G0;") == 1 &&
       proxy_count(px, mark, "P0;") == 0,
       "%s: four registers written with one G", s->name);
    for (i = 0; i < 4; i++) {
        uint64_t v = 0;
        uint32_t k;

        reg_access(s, &sn->regs[first + i], &v, false);
        for (k = 0; k < n; k++) {
            back[k] = v >> (8 * k);
        }
        if (memcmp(back, vals[i], n) != 0) {
            break;
        }
    }
    ok(i == 4, "%s: ... they read back one by one", s->name);
    /* back as they were: the core registers in one G */
    for (i = 0; i < 4; i++) {
        memcpy(vals[i], sn->values + (size_t)(first + i) * sn->reg_bytes, n);
    }
    mark = proxy_mark(px, NULL);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && proxy_count(px, mark, "G0;") == 1,
       "%s: ... and back with one G", s->name);
}

/* binary: every byte value through x and X, and more than 1 MiB at once. */
static void check_fast_binary(Session *s, Proxy *px, bool binary)
{
    uint8_t *pat = malloc(BIN_SIZE), *back = malloc(BIN_SIZE);
    uint8_t *huge = malloc(HUGE_SIZE), *huge_back = malloc(HUGE_SIZE);
    uint8_t *huge2 = malloc(HUGE_SIZE);
    mcd_tx_st tx[3];
    mcd_txlist_st list = { tx, 2, 0 };
    uint32_t max = 0, packets;
    size_t mark;
    mcd_return_et ret;

    if (!binary) {
        for (packets = 0; packets < 4; packets++) {
            skip("the stub does not offer binary", "%s: memory with x and "
                 "X (%u)", s->name, packets);
        }
        goto out;
    }
    api.mcd_qry_max_payload_size_f(s->core, &max);
    binary_pattern(pat, BIN_SIZE, 0);
    memset(back, 0xaa, BIN_SIZE);
    mem_tx(&tx[0], s->ns_space, BIN_ADDR, pat, BIN_SIZE, MCD_TX_AT_W);
    mem_tx(&tx[1], s->ns_space, BIN_ADDR, back, BIN_SIZE, MCD_TX_AT_R);
    mark = proxy_mark(px, NULL);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 2 &&
       memcmp(pat, back, BIN_SIZE) == 0 &&
       proxy_count(px, mark, "X0;") == 1 &&
       proxy_count(px, mark, "x0;") == 1 &&
       proxy_count(px, mark, "M0;") == 0 &&
       proxy_count(px, mark, "m0;") == 0,
       "%s: every byte value, '#', '$', '%%', '}' and NUL among them, "
       "written with X and read back with x at 0x%llx", s->name, BIN_ADDR);

    /* more than 1 MiB each way, in packets of max_binary bytes */
    binary_pattern(huge, HUGE_SIZE, 1);
    memset(huge_back, 0, HUGE_SIZE);
    mem_tx(&tx[0], s->ns_space, HUGE_ADDR, huge, HUGE_SIZE, MCD_TX_AT_W);
    mem_tx(&tx[1], s->ns_space, HUGE_ADDR, huge_back, HUGE_SIZE,
           MCD_TX_AT_R);
    packets = (HUGE_SIZE + max - 1) / (max ? max : 1);
    mark = proxy_mark(px, NULL);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && tx[0].num_bytes_ok == HUGE_SIZE &&
       tx[1].num_bytes_ok == HUGE_SIZE &&
       memcmp(huge, huge_back, HUGE_SIZE) == 0 && max == 1024 * 1024 &&
       proxy_count(px, mark, "X0;") == packets &&
       proxy_count(px, mark, "x0;") == packets,
       "%s: %u bytes written and read back in one list, %u X and %u x of "
       "at most %u bytes", s->name, HUGE_SIZE, packets, packets, max);

    /* read the old data and write the new (RW), then read it (R) */
    binary_pattern(huge2, HUGE_SIZE, 2);
    memcpy(huge_back, huge2, HUGE_SIZE);
    mem_tx(&tx[0], s->ns_space, HUGE_ADDR, huge_back, HUGE_SIZE,
           MCD_TX_AT_RW);
    mem_tx(&tx[1], s->ns_space, HUGE_ADDR + 1, back, BIN_SIZE, MCD_TX_AT_R);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && memcmp(huge_back, huge, HUGE_SIZE) == 0 &&
       memcmp(back, huge2 + 1, BIN_SIZE) == 0,
       "%s: a read/write of %u bytes returns the old data, a read after "
       "it in the list sees the new", s->name, HUGE_SIZE);

    /* the read fills the buffer that the write after it sends */
    mem_tx(&tx[0], s->ns_space, BIN_ADDR, huge_back, BIN_SIZE, MCD_TX_AT_R);
    mem_tx(&tx[1], s->ns_space, HUGE_ADDR, huge_back, BIN_SIZE, MCD_TX_AT_W);
    mem_tx(&tx[2], s->ns_space, HUGE_ADDR, huge2, BIN_SIZE, MCD_TX_AT_R);
    list.num_tx = 3;
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && memcmp(huge2, pat, BIN_SIZE) == 0,
       "%s: a write sends what a read before it in the list read", s->name);
out:
    free(pat);
    free(back);
    free(huge);
    free(huge_back);
    free(huge2);
}

/* notify: a step ends with a notification, whose record is the state. */
static void check_fast_step(Session *s, Proxy *px, bool notify)
{
    mcd_core_state_st st;
    unsigned int notes0, notes1, asked, polls, i;
    long long start, took;
    uint8_t guest[16];
    uint64_t pc = GUEST_BASE;
    size_t mark;
    mcd_return_et ret;

    if (!notify) {
        skip("the stub does not offer notify", "%s: a step ends with a "
             "notification", s->name);
        skip("the stub does not offer notify", "%s: ... whose record is "
             "the state", s->name);
        return;
    }
    /* the guest: add; b .-4 */
    for (i = 0; i < 4; i++) {
        guest[4 * i] = s->t->guest[i];
        guest[4 * i + 1] = s->t->guest[i] >> 8;
        guest[4 * i + 2] = s->t->guest[i] >> 16;
        guest[4 * i + 3] = s->t->guest[i] >> 24;
    }
    mem_access(s, s->ns_space, GUEST_BASE, guest, sizeof(guest), true);
    reg_access(s, &s->pc, &pc, true);
    mark = proxy_mark(px, &notes0);
    start = now_ms();
    ret = api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1);
    /*
     * The step returns once it started; the query right after it waits
     * for QEMU's notification, and asks (qstate) only if none came for
     * 10 ms.
     */
    memset(&st, 0, sizeof(st));
    polls = 0;
    while (ret == MCD_RET_ACT_NONE && now_ms() - start < STOP_TIMEOUT_MS) {
        ret = api.mcd_qry_state_f(s->core, &st);
        polls++;
        if (st.state != MCD_CORE_STATE_RUNNING) {
            break;
        }
    }
    took = now_ms() - start;
    proxy_mark(px, &notes1);
    asked = proxy_count(px, mark, "qstate");
    ok(ret == MCD_RET_ACT_NONE && notes1 == notes0 + 1 &&
       proxy_count(px, mark, "c0;") == 1 && asked <= took / 10,
       "%s: a step and the query after it take QEMU's notification, "
       "without polling (%lld ms, %u queries, %u qstate)", s->name, took,
       polls, asked);
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG &&
       st.event == MCD_CORE_EVENT_STOPPED && strstr(st.stop_str, "step"),
       "%s: ... whose record is the state: event 0x%x, '%s'", s->name,
       st.event, st.stop_str);
    ret = api.mcd_qry_state_f(s->core, &st);
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG &&
       st.event == 0 && proxy_count(px, mark, "qstate0") == asked + 1,
       "%s: the next query asks QEMU: event 0x%x", s->name, st.event);
}

/* A single step of core 0, until the state query reports its end. */
static bool step_one(Session *s)
{
    mcd_core_state_st st;

    return api.mcd_step_f(s->core, FALSE, MCD_CORE_STEP_TYPE_INSTR, 1) ==
           MCD_RET_ACT_NONE &&
           wait_state(s, MCD_CORE_STATE_DEBUG, &st);
}

static uint64_t le_value(const uint8_t *buf, uint32_t n)
{
    uint64_t v = 0;

    while (n--) {
        v = v << 8 | buf[n];
    }
    return v;
}

/*
 * stopregs: libmcd has the stub send the registers a debugger reads
 * right after each stop with the stop notification, and answers those
 * reads without a packet, with the values QEMU has, until something may
 * change them: a register write, a run or step, or time.
 */
static void check_stop_regs(Session *s, Proxy *px, bool stopregs)
{
    static const char *const what[] = {
        "after the first read, the reads after each step need no packet",
        "... and have the values of the step",
        "a register write drops them: the next read asks QEMU",
        "... which has the same values",
        "they serve for a moment only: a read 60 ms after the stop asks",
    };
    const mcd_register_info_st *regs[3] = { &s->r0, &s->r1, &s->pc };
    uint8_t vals[3][8], before[3][8];
    mcd_tx_st tx[3];
    mcd_txlist_st list = { tx, 3, 0 };
    uint64_t pc = GUEST_BASE, zero = 0, r1 = 0x5a;
    unsigned int i, k, served = 0, right = 0;
    size_t mark, m;
    uint32_t n = s->t->reg_bytes;
    mcd_return_et ret;

    if (!stopregs) {
        for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
            skip("the stub does not offer stopregs", "%s: %s", s->name,
                 what[i]);
        }
        return;
    }
    memset(tx, 0, sizeof(tx));
    for (i = 0; i < 3; i++) {
        tx[i].addr = regs[i]->addr;
        tx[i].access_type = MCD_TX_AT_R;
        tx[i].data = vals[i];
        tx[i].num_bytes = n;
    }
    reg_access(s, &s->pc, &pc, true);
    reg_access(s, &s->r0, &zero, true);
    mark = proxy_mark(px, NULL);
    /* the guest: add r0, r0, #1; b .-4 */
    for (k = 0; k < 6; k++) {
        m = proxy_mark(px, NULL);
        memset(vals, 0xee, sizeof(vals));
        ret = step_one(s) ? api.mcd_execute_txlist_f(s->core, &list)
                          : MCD_RET_ACT_HANDLE_ERROR;
        served += k > 0 && ret == MCD_RET_ACT_NONE &&
                  proxy_count(px, m, "g0;") == 0 &&
                  proxy_count(px, m, "p0;") == 0;
        right += ret == MCD_RET_ACT_NONE &&
                 le_value(vals[0], n) == k / 2 + 1 &&
                 le_value(vals[2], n) == GUEST_BASE + (k % 2 ? 0 : 4);
    }
    ok(served == 5 && proxy_count(px, mark, "E0;") == 1,
       "%s: %s (%u of 5, %u E)", s->name, what[0], served,
       proxy_count(px, mark, "E0;"));
    ok(right == 6, "%s: %s (%u of 6)", s->name, what[1], right);

    memcpy(before, vals, sizeof(vals));
    reg_access(s, &s->r1, &r1, true);
    m = proxy_mark(px, NULL);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && proxy_count(px, m, "g0;") == 1,
       "%s: %s", s->name, what[2]);
    ok(ret == MCD_RET_ACT_NONE && !memcmp(vals[0], before[0], n) &&
       !memcmp(vals[2], before[2], n) && le_value(vals[1], n) == r1,
       "%s: %s", s->name, what[3]);

    ok(step_one(s), "%s: step", s->name);
    sleep_ms(60);
    m = proxy_mark(px, NULL);
    ret = api.mcd_execute_txlist_f(s->core, &list);
    ok(ret == MCD_RET_ACT_NONE && proxy_count(px, m, "g0;") == 1 &&
       le_value(vals[2], n) == GUEST_BASE + 4, "%s: %s", s->name, what[4]);
}

/*
 * notify: the state of a core libmcd let run comes from the last query
 * for a moment, but QEMU is asked again soon, so that a stop by the
 * monitor shows.
 */
static void check_fast_running(Session *s, Proxy *px, int qmp_port,
                               bool notify)
{
    mcd_core_state_st st;
    uint8_t vals[2][8];
    mcd_tx_st tx[2];
    mcd_txlist_st list = { tx, 2, 0 };
    uint64_t pc = GUEST_BASE;
    unsigned int running = 0, asked, i;
    long long start, took;
    size_t mark;
    mcd_return_et ret;

    if (!notify) {
        for (i = 0; i < 4; i++) {
            skip("the stub does not offer notify", "%s: the state of a "
                 "running core (%u)", s->name, i);
        }
        return;
    }
    reg_access(s, &s->pc, &pc, true);
    ok_call(api.mcd_run_f(s->core, FALSE), s->core, "%s: run", s->name);
    mark = proxy_mark(px, NULL);
    start = now_ms();
    for (i = 0; i < 200; i++) {
        ret = api.mcd_qry_state_f(s->core, &st);
        running += ret == MCD_RET_ACT_NONE &&
                   st.state == MCD_CORE_STATE_RUNNING;
    }
    took = now_ms() - start;
    asked = proxy_count(px, mark, "qstate0");
    ok(running == 200 && asked >= 1 && asked <= took / 40 + 2,
       "%s: 200 queries of a running core in %lld ms ask QEMU %u times",
       s->name, took, asked);
    sleep_ms(120);
    mark = proxy_mark(px, NULL);
    ret = api.mcd_qry_state_f(s->core, &st);
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_RUNNING &&
       proxy_count(px, mark, "qstate0") == 1,
       "%s: ... and again after 120 ms", s->name);

    /* registers of a running core cannot be written: G, then P fails */
    memset(tx, 0, sizeof(tx));
    for (i = 0; i < 2; i++) {
        memset(vals[i], 0, sizeof(vals[i]));
        tx[i].addr = i ? s->r1.addr : s->r0.addr;
        tx[i].access_type = MCD_TX_AT_W;
        tx[i].data = vals[i];
        tx[i].num_bytes = s->t->reg_bytes;
    }
    if (s->r1.addr.address == s->r0.addr.address + 1) {
        mark = proxy_mark(px, NULL);
        ret = api.mcd_execute_txlist_f(s->core, &list);
        ok(ret == MCD_RET_ACT_HANDLE_ERROR && list.num_tx_ok == 0 &&
           proxy_count(px, mark, "G0;") == 1 &&
           proxy_count(px, mark, "P0;") == 1,
           "%s: a G that fails is done again with P: the first fails (%s)",
           s->name, last_error(s->core).error_str);
    } else {
        skip("r0 and r1 are not neighbours", "%s: a G that fails", s->name);
    }

    /* the monitor stops the VM: libmcd tells within a moment */
    if (!ok(qmp_command(qmp_port, "stop", NULL, 0), "%s: the monitor stops "
            "the VM",
            s->name)) {
        api.mcd_stop_f(s->core, TRUE);
        return;
    }
    start = now_ms();
    do {
        ret = api.mcd_qry_state_f(s->core, &st);
    } while (ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_RUNNING &&
             now_ms() - start < 2000);
    took = now_ms() - start;
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_HALTED &&
       took < 500, "%s: ... the state says so after %lld ms: '%s'",
       s->name, took, st.info_str);
    api.mcd_stop_f(s->core, TRUE);
}

/*
 * What a debugger does first: open the server, find the cores, open
 * core 0 and read its memory spaces, register groups and registers.
 * With the extensions of the stub (errors and lists), that is one round
 * trip of 9 packets after the connect: I, qprotocol, qsystem, qcores,
 * qcoreinfo0, i0, qmemoryf0, qreggroupf0, qregf0.  A core opened again
 * gets its lists in one round trip of 4 packets.
 */
static void check_fast_connect(Proxy *px, bool lists)
{
    mcd_api_version_st req = { 1, 1, "test-libmcd" };
    mcd_impl_version_info_st impl;
    mcd_core_con_info_st sel, sys, dev, core;
    mcd_memspace_st spaces[16];
    mcd_register_group_st groups[32];
    mcd_register_info_st *regs = NULL, *again = NULL;
    mcd_server_st *server = NULL;
    mcd_core_st *c = NULL;
    uint32_t n, nspaces = 16, ngroups = 32, nregs = 0, nregs2 = 0;
    unsigned int turns, packets;
    char config[64];
    size_t mark;
    bool good;
    const char *name = tap_prefix;

    env_set("LIBMCD_EXTENSIONS", NULL);
    api.mcd_initialize_f(&req, &impl);
    snprintf(config, sizeof(config), "127.0.0.1:%d", px->port);
    memset(&sel, 0, sizeof(sel));
    mark = proxy_mark(px, NULL);
    turns = proxy_turns(px);
    n = 1;
    good = api.mcd_open_server_f("", config, &server) == MCD_RET_ACT_NONE &&
           api.mcd_qry_systems_f(0, &n, &sys) == MCD_RET_ACT_NONE &&
           api.mcd_qry_devices_f(&sys, 0, &n, &dev) == MCD_RET_ACT_NONE &&
           api.mcd_qry_cores_f(&dev, 0, &n, &core) == MCD_RET_ACT_NONE &&
           api.mcd_open_core_f(&core, &c) == MCD_RET_ACT_NONE &&
           api.mcd_qry_mem_spaces_f(c, 0, &nspaces, spaces) ==
           MCD_RET_ACT_NONE &&
           api.mcd_qry_reg_groups_f(c, 0, &ngroups, groups) ==
           MCD_RET_ACT_NONE &&
           api.mcd_qry_reg_map_f(c, 0, 0, &nregs, NULL) == MCD_RET_ACT_NONE;
    if (good) {
        regs = calloc(nregs, sizeof(*regs));
        good = regs && api.mcd_qry_reg_map_f(c, 0, 0, &nregs, regs) ==
                       MCD_RET_ACT_NONE;
    }
    if (!ok(good, "%s: open the server and core 0, %u memory spaces, %u "
            "register groups, %u registers", name, nspaces, ngroups,
            nregs)) {
        diag("%s: %s", name, last_error(c).error_str);
        goto out;
    }
    packets = proxy_count(px, mark, "");
    turns = proxy_turns(px) - turns;
    if (lists) {
        ok(packets == 9 && turns == 1 &&
           proxy_count(px, mark, "qregf0") == 1 &&
           proxy_count(px, mark, "qcoreinfo0") == 1 &&
           proxy_count(px, mark, "i0") == 1,
           "%s: ... %u packets in %u round trip(s) after the connect",
           name, packets, turns);
    } else {
        skip("the stub does not offer lists", "%s: ... in one round trip",
             name);
    }

    /* opened again: i0 and its lists in one round trip */
    mark = proxy_mark(px, NULL);
    turns = proxy_turns(px);
    good = api.mcd_close_core_f(c) == MCD_RET_ACT_NONE;
    c = NULL;
    nspaces = 16;
    ngroups = 32;
    good = good && api.mcd_open_core_f(&core, &c) == MCD_RET_ACT_NONE &&
           api.mcd_qry_mem_spaces_f(c, 0, &nspaces, spaces) ==
           MCD_RET_ACT_NONE &&
           api.mcd_qry_reg_groups_f(c, 0, &ngroups, groups) ==
           MCD_RET_ACT_NONE &&
           api.mcd_qry_reg_map_f(c, 0, 0, &nregs2, NULL) ==
           MCD_RET_ACT_NONE && nregs2 == nregs;
    if (good) {
        again = calloc(nregs, sizeof(*again));
        good = again && api.mcd_qry_reg_map_f(c, 0, 0, &nregs2, again) ==
                        MCD_RET_ACT_NONE &&
               memcmp(regs, again, nregs * sizeof(*regs)) == 0;
    }
    packets = proxy_count(px, mark, "");
    turns = proxy_turns(px) - turns;
    ok(good && (!lists || (packets == 5 && turns == 2 &&
                           proxy_count(px, mark, "d0") == 1)),
       "%s: core 0 closed and opened again: the same %u registers, %u "
       "packets in %u round trips with d0", name, nregs2, packets, turns);
out:
    free(regs);
    free(again);
    if (server) {
        api.mcd_close_server_f(server);
    }
    api.mcd_exit_f();
}

/* The state of the VM, as QMP's query-status says it. */
static bool qmp_status(int port, char *status, size_t size)
{
    char answer[512];
    const char *p, *end;

    if (!qmp_command(port, "query-status", answer, sizeof(answer))) {
        return false;
    }
    p = strstr(answer, "\"status\": \"");
    if (!p) {
        return false;
    }
    p += strlen("\"status\": \"");
    end = strchr(p, '"');
    if (!end) {
        return false;
    }
    snprintf(status, size, "%.*s", (int)(end - p), p);
    return true;
}

/*
 * The close of a session that stopped the VM returns when the stub has
 * let it run again: libmcd waits for the answer to D then (only then: a
 * session that did not touch run control or triggers does not wait).
 * Leaves the VM running.
 */
static void check_fast_detach(const Target *t, Proxy *px, int qmp_port)
{
    char status[64] = "";
    unsigned int ends, detached;
    size_t mark;
    bool after;
    Session s;

    if (!fast_open(&s, t, px->port, NULL)) {
        ok(false, "%s: a session that stops the VM", t->name);
        return;
    }
    /* the proxy serves this connection: it has counted the one before */
    pthread_mutex_lock(&px->lock);
    ends = px->ends + 1;
    pthread_mutex_unlock(&px->lock);
    mark = proxy_mark(px, NULL);
    ok(api.mcd_run_f(s.core, TRUE) == MCD_RET_ACT_NONE &&
       api.mcd_stop_f(s.core, TRUE) == MCD_RET_ACT_NONE &&
       qmp_status(qmp_port, status, sizeof(status)) &&
       strcmp(status, "debug") == 0,
       "%s: a session lets the VM run and stops it: %s", s.name, status);
    fast_close(&s);
    after = proxy_end_after_answer(px, ends);
    detached = proxy_count(px, mark, "D");
    if (!qmp_status(qmp_port, status, sizeof(status))) {
        snprintf(status, sizeof(status), "no QMP status");
    }
    ok(after && detached == 1 && strcmp(status, "running") == 0,
       "%s: ... its close waits for the answer to D, which let it run: %s",
       s.name, status);
    if (!after || detached != 1) {
        diag("%s: %u D sent, the connection closed %s", s.name, detached,
             after ? "after the answer" : "before the answer, or not");
    }
}

/*
 * The fast paths on target @t: a session with the extensions of before
 * (lists, regs, binary and notify off) reads what the target has one by
 * one, a session with them reads it again and moves memory, steps and
 * runs; what they send is checked through a proxy.
 */
static void run_fast(const Target *t)
{
    static const char *const older =
        "errors,steps,wplen,resethalt,stoprec,txopt";
    const char *binary = getenv(t->env) ? getenv(t->env) : t->binary;
    char offered[256], name[32];
    int port = free_port(), qmp_port = free_port();
    bool lists, regs, bin, notify, good;
    Snapshot ref, sn;
    uint8_t *pat = malloc(BIN_SIZE), *back = malloc(BIN_SIZE);
    size_t mark;
    Session s;
    Proxy px;

    memset(&ref, 0, sizeof(ref));
    memset(&sn, 0, sizeof(sn));
    snprintf(name, sizeof(name), "%s/fast", t->name);
    tap_prefix = name;
    if (!ok(qemu_start(binary, t->machine, t->cpu, port, qmp_port),
            "%s: start %s with QMP", name, binary)) {
        goto out;
    }
    probe_extensions(port, offered, sizeof(offered));
    lists = list_has(offered, "lists");
    regs = list_has(offered, "regs");
    bin = list_has(offered, "binary");
    notify = list_has(offered, "notify") && list_has(offered, "stoprec") &&
             list_has(offered, "steps");
    if (!lists || !regs || !bin || !notify) {
        diag("%s: the stub offers '%s': what it lacks is skipped", name,
             offered);
    }
    if (!ok(proxy_start(&px, port), "%s: a proxy logs the packets", name)) {
        goto out;
    }
    check_fast_connect(&px, lists && list_has(offered, "errors"));

    /* the reference: the extensions of before */
    if (!ok(fast_open(&s, t, px.port, older), "%s: a session without "
            "lists, regs, binary and notify", name)) {
        goto stop;
    }
    good = take_snapshot(&s, &ref, true);
    ok(good && ref.n_regs > 30 && proxy_count(&px, 0, "g0;") == 0 &&
       proxy_count(&px, 0, "p0;") == ref.n_regs &&
       proxy_count(&px, 0, "qregc") > 0,
       "%s: it reads %u registers with p, the lists an item per query",
       name, ref.n_regs);
    fast_close(&s);

    /* the same with every extension libmcd knows */
    mark = proxy_mark(&px, NULL);
    if (!ok(fast_open(&s, t, px.port, NULL), "%s: a session with every "
            "extension", name)) {
        goto stop;
    }
    ok(proxy_has(&px, mark, "qprotocol", lists ? "lists" : NULL) &&
       proxy_has(&px, mark, "qprotocol", regs ? "regs" : NULL) &&
       proxy_has(&px, mark, "qprotocol", bin ? "binary" : NULL) &&
       proxy_has(&px, mark, "qprotocol", notify ? "notify" : NULL),
       "%s: libmcd enables what the stub offers of lists, regs, binary "
       "and notify", name);
    if (take_snapshot(&s, &sn, true)) {
        check_fast_lists(&s, &px, mark, &ref, &sn, lists);
        check_fast_regs(&s, &px, &ref, &sn, regs);
    }
    check_fast_binary(&s, &px, bin);
    check_fast_step(&s, &px, notify);
    check_stop_regs(&s, &px, notify && regs &&
                    list_has(offered, "stopregs"));
    check_fast_running(&s, &px, qmp_port, notify);
    fast_close(&s);

    /* what x and X moved, as m reads it */
    if (bin && fast_open(&s, t, px.port, older)) {
        binary_pattern(pat, BIN_SIZE, 0);
        ok(mem_access(&s, s.ns_space, BIN_ADDR, back, BIN_SIZE, false) ==
           MCD_RET_ACT_NONE && memcmp(pat, back, BIN_SIZE) == 0,
           "%s: m reads the bytes X wrote", name);
        fast_close(&s);
    } else {
        skip("the stub does not offer binary", "%s: m reads the bytes X "
             "wrote", name);
    }
    check_fast_detach(t, &px, qmp_port);
stop:
    proxy_stop(&px);
out:
    snapshot_free(&ref);
    snapshot_free(&sn);
    free(pat);
    free(back);
    qemu_kill();
    tap_prefix = "";
}

/*
 * A scripted stub, for what QEMU does not show: an era-1 stub that does
 * not know qprotocol, an older errors-only stub with a small max_payload,
 * stops that name no trigger (no stoprec), checksum framing,
 * notifications, noise, and short or malformed replies, which must be
 * errors and never crashes.
 */

typedef struct Fake {
    int listen_fd;
    int port;
    bool errors;                /* the stub of the errors extension */
    bool modern;                /* lists, regs, notify and stoprec too */
    int stops;                  /* state records since the run, -1 before */
    char log[16384];            /* the commands received, one per line */
    pthread_t thread;
} Fake;

/* "$payload#xx" with the gdb checksum. */
static void frame_sum(char *out, size_t size, const char *payload)
{
    unsigned int sum = 0;
    const char *p;

    for (p = payload; *p; p++) {
        sum += (unsigned char)*p;
    }
    snprintf(out, size, "$%s#%02x", payload, sum & 0xff);
}

#define FAKE_EXTS "errors,stoprec,notify,lists,regs,coreinfo"
/* What libmcd asks for first: every extension it knows */
#define ALL_EXTS "errors,steps,wplen,resethalt,stoprec,txopt,notify,lists," \
    "regs,binary,coreinfo,stopregs"
#define FAKE_STOP "state=debug.event=%s.thread=0.type=1.address=0.stop_str=" \
    "stopped at a breakpoint at 0x40200004.info_str=core 0 stopped by the " \
    "debugger.trig_id=0.pc=1075838980.data_addr=0."

/*
 * The replies of a stub with lists, regs, notify and stoprec, where
 * register r2 cannot be read and G is refused; false for the others.
 */
static bool fake_modern_reply(const char *cmd, char *out, size_t size)
{
#define REPLY(str) snprintf(out, size, "$%s#|", str)
    if (strcmp(cmd, "qprotocol") == 0) {
        REPLY("version=2.max_payload=33792.max_data=16384.extensions="
              FAKE_EXTS ".enabled=.");
    } else if (strcmp(cmd, "qprotocol" FAKE_EXTS) == 0) {
        REPLY("version=2.max_payload=33792.max_data=16384.extensions="
              FAKE_EXTS ".enabled=" FAKE_EXTS ".");
    } else if (strcmp(cmd, "qcores") == 0) {
        REPLY("device=fakeboard.core=fake-cpu.nr_cores=1.");
    } else if (strcmp(cmd, "qcoreinfo0") == 0) {
        /* not what the register names would make libmcd guess (ARM) */
        REPLY("core=0.model=fake-rv.arch=riscv:rv64.core_type=243.");
    } else if (strcmp(cmd, "qregf0") == 0) {
        /* items as QEMU sends them, and others (see reg_item_fast()) */
        REPLY("0!id=0.name=r0.size=32.reggroupid=1.memspaceid=2.;"
              "id=1.name=r1.size=32.reggroupid=1.memspaceid=2.type=2."
              "thread=1.opcode=0.;"
              "id=2.name=r2.size=32.reggroupid=1.memspaceid=2.thread=3."
              "type=4.;"
              "id=3.name=r3.size=32.reggroupid=1.memspaceid=2.type=0."
              "thread=0.x=a;b.y=.;"
              "id=7.name=sp.size=32.reggroupid=2.memspaceid=2.type=-1."
              "thread=0.;"
              "id=18446744073709551615.name=big.size=8.reggroupid=2."
              "memspaceid=2.type=0.thread=0.opcode=0.;"
              "id=9.name=a;b.size=8.reggroupid=2.memspaceid=2.");
    } else if (strcmp(cmd, "qmemoryf0") == 0) {
        REPLY("0!name=Mem.id=1.type=34.bpm=8.i=1.e=1.min=0.max=-1.sao=3.;"
              "name=Regs.id=2.type=1.bpm=8.i=1.e=1.min=0.max=-1.sao=0.");
    } else if (strcmp(cmd, "qreggroupf0") == 0) {
        REPLY("0!id=1.name=Core.;id=2.name=Other.");
    } else if (strcmp(cmd, "g0;0-3") == 0 || strcmp(cmd, "p0;2") == 0) {
        REPLY("error=8448.text=r2 cannot be read.");
    } else if (strcmp(cmd, "g0;0-1,7") == 0) {
        REPLY("010000000200000008000000");
    } else if (strcmp(cmd, "g0;7,0-1") == 0) {
        REPLY("080000000100000002000000");
    } else if (strncmp(cmd, "p0;", 3) == 0 && cmd[3] >= '0' &&
               cmd[3] <= '3' && !cmd[4]) {
        snprintf(out, size, "$0%c000000#|", cmd[3] + 1);
    } else if (strncmp(cmd, "G0;", 3) == 0) {
        REPLY("error=258.text=no G today.");
    } else if (strncmp(cmd, "P0;", 3) == 0) {
        REPLY("success");
    } else if (strcmp(cmd, "C0;0") == 0) {
        /* the core stops at once: the notification before the reply */
        snprintf(out, size, "%%stop=0." FAKE_STOP "#|$success#|", "16");
    } else if (strcmp(cmd, "qstate0") == 0) {
        snprintf(out, size, "$" FAKE_STOP "#|", "0");
    } else {
        return false;
    }
    return true;
#undef REPLY
}

/* The reply to @cmd, framed, after the '+'; "" for none. */
static void fake_reply(Fake *f, const char *cmd, char *out, size_t size)
{
    unsigned long long addr;
    unsigned int len, i;
    char payload[4096];
    char *p;

#define REPLY(str) snprintf(out, size, "$%s#|", str)
    out[0] = '\0';
    if (f->modern && fake_modern_reply(cmd, out, size)) {
        return;
    }
    if (strcmp(cmd, "I") == 0) {
        REPLY("shaking your hand");
    } else if (strcmp(cmd, "qprotocol") == 0) {
        if (f->errors) {
            REPLY("version=2.max_payload=2048.extensions=errors,future."
                  "enabled=.");
        } else {
            REPLY("");
        }
    } else if (strcmp(cmd, "qprotocolerrors") == 0 && f->errors) {
        REPLY("version=2.max_payload=2048.extensions=errors,future."
              "enabled=errors.");
    } else if (strcmp(cmd, "qsystem") == 0) {
        /* a notification and noise first, then a checksummed reply */
        frame_sum(payload, sizeof(payload), "qemu-system");
        snprintf(out, size, "%%stop=0.#|xx%s", payload);
    } else if (strcmp(cmd, "qcores") == 0) {
        REPLY("device=fakeboard.core=fake-cpu.nr_cores=2.");
    } else if (strcmp(cmd, "i0") == 0 || strcmp(cmd, "d0") == 0 ||
               strcmp(cmd, "D") == 0) {
        if (f->errors) {
            REPLY("success");
        }
    } else if (strcmp(cmd, "i1") == 0) {
        REPLY(f->errors ? "error=258.text=no core 1." : "error");
    } else if (strcmp(cmd, "qregf0") == 0) {
        REPLY("0!id=0.name=r0.size=32.reggroupid=1.memspaceid=2.type=0."
              "thread=0.opcode=0.");
    } else if (strcmp(cmd, "qmemoryf0") == 0) {
        /* like QEMU, the newer stub offers options that need txopt */
        REPLY(f->errors
              ? "1!name=Mem.id=1.type=34.bpm=8.i=1.e=1.min=0.max=-1.sao=3."
              : "1!name=Mem.id=1.type=34.bpm=8.i=1.e=1.min=0.max=-1.sao=0.");
    } else if (strcmp(cmd, "qmemoryc1") == 0) {
        REPLY("0!name=Regs.id=2.type=1.bpm=8.i=1.e=1.min=0.max=-1.sao=0.");
    } else if (sscanf(cmd, "m0;1;%llu;%u", &addr, &len) == 2) {
        if (addr == 0xdead) {
            REPLY("12");                        /* too short */
        } else if (addr == 0xbeef) {
            REPLY(f->errors ? "error=8448.text=nothing at 0xbeef."
                            : "error");
        } else if (len <= 1024) {
            for (i = 0, p = payload; i < len; i++, p += 2) {
                sprintf(p, "%02x", (unsigned int)((addr + i) & 0xff));
            }
            *p = '\0';
            REPLY(payload);
        }
    } else if (strcmp(cmd, "p0;0") == 0) {
        REPLY("");                              /* era-1 failure */
    } else if (strncmp(cmd, "t0;", 3) == 0 || strncmp(cmd, "T0;", 3) == 0) {
        REPLY("success");
    } else if (strcmp(cmd, "C0;0") == 0) {
        /* the core hits the breakpoint at 0x40200004 right away */
        f->stops = 0;
        if (f->errors) {
            REPLY("success");
        }
    } else if (strcmp(cmd, "qstate0") == 0 && f->stops < 0) {
        REPLY("state=debug.stop_str");          /* malformed */
    } else if (strcmp(cmd, "qstate0") == 0 && f->stops++ == 0) {
        /* era 1: why the core stopped, once, without the trigger id */
        REPLY("state=debug.event=0.thread=0.type=1.address=0.stop_str="
              "stopped at a breakpoint at 0x40200004.info_str=core 0 "
              "stopped by the debugger.");
    } else if (strcmp(cmd, "qstate0") == 0) {
        REPLY("state=debug.event=0.thread=0.type=0.address=0.stop_str=."
              "info_str=core 0 stopped by the debugger.");
    } else if (strcmp(cmd, "qreggroupf0") == 0) {
        REPLY("garbage");
    } else if (strcmp(cmd, "qtrigger") == 0) {
        REPLY("nr_trigger=lots.");
    } else if (strcmp(cmd, "qresetf0") == 0) {
        REPLY("5!name=a.id=0.");
    } else if (strcmp(cmd, "qresetc5") == 0) {
        REPLY("3!name=b.id=1.");                /* goes backwards */
    } else {
        REPLY("");
    }
#undef REPLY
}

static void *fake_thread(void *opaque)
{
    Fake *f = opaque;
    char buf[65536], cmd[4096], out[8192];
    size_t len = 0, n;
    char *start, *end;
    ssize_t r;
    int fd = accept(f->listen_fd, NULL, NULL);

    if (fd < 0) {
        return NULL;
    }
    for (;;) {
        r = sock_read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0) {
            break;
        }
        len += r;
        buf[len] = '\0';
        /* complete packets "$...#|" */
        while ((start = memchr(buf, '$', len)) &&
               (end = memchr(start, '#', len - (start - buf))) &&
               end + 1 < buf + len) {
            n = end - start - 1;
            if (n >= sizeof(cmd)) {
                n = sizeof(cmd) - 1;
            }
            memcpy(cmd, start + 1, n);
            cmd[n] = '\0';
            if (strlen(f->log) + n + 2 < sizeof(f->log)) {
                strcat(f->log, cmd);
                strcat(f->log, "\n");
            }
            fake_reply(f, cmd, out + 1, sizeof(out) - 1);
            out[0] = '+';
            if (sock_write(fd, out, strlen(out)) < 0) {
                break;
            }
            n = end + 2 - buf;
            memmove(buf, buf + n, len - n);
            len -= n;
        }
    }
    sock_close(fd);
    return NULL;
}

static bool fake_start(Fake *f, bool errors)
{
    memset(f, 0, sizeof(*f));
    f->errors = errors;
    f->stops = -1;
    f->listen_fd = listen_loopback(&f->port);
    return f->listen_fd >= 0 && pthread_create(&f->thread, NULL, fake_thread, f) == 0;
}

static void fake_stop(Fake *f)
{
    pthread_join(f->thread, NULL);
    sock_close(f->listen_fd);
}

/* How many lines of the fake stub's log are @line. */
static unsigned int fake_count(Fake *f, const char *line)
{
    unsigned int n = 0;
    size_t len = strlen(line);
    const char *p = f->log;

    while ((p = strstr(p, line))) {
        n += (p == f->log || p[-1] == '\n') && p[len] == '\n';
        p += len;
    }
    return n;
}

/*
 * A stub without stoprec names no trigger: libmcd finds the one that
 * stopped the core from the type and the address in the stop text.
 */
static void check_fake_hit(const char *name, mcd_core_st *core, Fake *f)
{
    mcd_trig_simple_core_st trig;
    mcd_trig_state_st ts[2];
    mcd_core_state_st st;
    uint32_t id[2] = { 0, 0 }, i;
    char sent[64];
    mcd_return_et ret;

    for (i = 0; i < 2; i++) {
        memset(&trig, 0, sizeof(trig));
        trig.struct_size = sizeof(trig);
        trig.type = MCD_TRIG_TYPE_IP;
        trig.action = MCD_TRIG_ACTION_DBG_DEBUG;
        trig.addr_start.address = GUEST_BASE + 4 * i;
        trig.addr_start.mem_space_id = 1;
        api.mcd_create_trig_f(core, &trig, &id[i]);
    }
    ret = api.mcd_run_f(core, FALSE);
    snprintf(sent, sizeof(sent), "\nt0;1;%llu;%u\n", BREAK_ADDR, id[1]);
    ok(ret == MCD_RET_ACT_NONE && id[0] && id[1] &&
       strstr(f->log, sent) != NULL && strstr(f->log, "\nC0;0\n") != NULL,
       "%s: two breakpoints set with libmcd's trigger ids, run", name);
    memset(&st, 0, sizeof(st));
    ret = api.mcd_qry_state_f(core, &st);
    memset(ts, 0, sizeof(ts));
    api.mcd_qry_trig_state_f(core, id[0], &ts[0]);
    api.mcd_qry_trig_state_f(core, id[1], &ts[1]);
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG &&
       st.event == MCD_CORE_EVENT_STOPPED && st.trig_id == id[1] &&
       ts[1].captured && !ts[0].captured,
       "%s: the breakpoint hit is trigger %u, found from the stop text "
       "'%s'", name, st.trig_id, st.stop_str);
    ret = api.mcd_qry_state_f(core, &st);
    ok(ret == MCD_RET_ACT_NONE && st.event == 0 && st.trig_id == 0 &&
       st.stop_str[0] == '\0', "%s: the stop is reported once", name);
    api.mcd_remove_trig_set_f(core);
}

static void check_fake_stub(bool errors)
{
    const char *name = errors ? "fake errors-only stub" : "fake era-1 stub";
    mcd_api_version_st req = { 1, 1, "test-libmcd" };
    mcd_impl_version_info_st impl;
    mcd_server_st *server = NULL;
    mcd_core_con_info_st cores[2];
    mcd_core_st *core = NULL, *core1 = NULL;
    mcd_core_state_st st;
    mcd_trig_info_st ti;
    mcd_register_group_st groups[2];
    uint8_t buf[2000];
    char config[64];
    uint32_t n, vector, i, chunk = errors ? 992 : 256;
    bool good, closed = false;
    mcd_return_et ret;
    Fake f;

    tap_prefix = name;
    if (!ok(fake_start(&f, errors), "%s: listens", name)) {
        return;
    }
    api.mcd_initialize_f(&req, &impl);
    snprintf(config, sizeof(config), "localhost:%d", f.port);
    ret = api.mcd_open_server_f("", config, &server);
    ok_call(ret, NULL, "%s: open the server through a notification, "
            "noise and a checksummed reply", name);
    if (ret != MCD_RET_ACT_NONE) {
        goto out;
    }
    n = 2;
    memset(cores, 0, sizeof(cores));
    ret = api.mcd_qry_cores_f(&cores[0], 0, &n, cores);
    ok(ret == MCD_RET_ACT_NONE && n == 2 &&
       strcmp(cores[0].device, "fakeboard") == 0 &&
       strcmp(cores[1].core, "fake-cpu #1") == 0 &&
       cores[0].core_type == 40, "%s: two cores of '%s'", name,
       cores[0].device);
    ok_call(api.mcd_open_core_f(&cores[0], &core), NULL,
            "%s: open core 0", name);
    ret = api.mcd_open_core_f(&cores[1], &core1);
    expect_error(ret, NULL, MCD_ERR_PARAM, "a core the stub refuses");
    if (!core) {
        goto out;
    }

    /* memory in chunks of the negotiated size */
    ret = mem_access(&(Session){ .core = core }, 1, 4096, buf, 1200, false);
    good = ret == MCD_RET_ACT_NONE;
    for (i = 0; good && i < 1200; i++) {
        good = buf[i] == ((4096 + i) & 0xff);
    }
    snprintf(config, sizeof(config), "m0;1;%u;%u\n", 4096 + chunk,
             1200 - chunk < chunk ? 1200 - chunk : chunk);
    ok(good && strstr(f.log, config) != NULL,
       "%s: 1200 bytes read in chunks of %u bytes", name, chunk);
    ret = mem_access(&(Session){ .core = core }, 1, 0xdead, buf, 4, false);
    expect_error(ret, core, MCD_ERR_TXLIST_READ, "a short read reply");
    ret = mem_access(&(Session){ .core = core }, 1, 0xbeef, buf, 4, false);
    expect_error(ret, core, MCD_ERR_TXLIST_READ, "a failed read");
    {
        /* without txopt: no reads without side effects, no m sent */
        mcd_memspace_st ms[2];
        mcd_tx_st tx[2];
        mcd_txlist_st list = { tx, 2, 0 };

        n = 2;
        ret = api.mcd_qry_mem_spaces_f(core, 0, &n, ms);
        ok(ret == MCD_RET_ACT_NONE && n == 2 &&
           ms[0].supported_access_options == (errors ? 1u : 0u) &&
           ms[1].supported_access_options == 0,
           "%s: access options 0x%x (the stub offers 0x%x)", name,
           ms[0].supported_access_options, errors ? 3 : 0);
        memset(tx, 0, sizeof(tx));
        tx[0].addr.address = 4096;
        tx[0].addr.mem_space_id = 1;
        tx[0].access_type = MCD_TX_AT_R;
        tx[0].data = buf;
        tx[0].num_bytes = 4;
        tx[1] = tx[0];
        tx[1].addr.address = 0x5eed;
        tx[1].options = MCD_TX_OPT_NO_SIDE_EFFECTS;
        tx[1].data = buf + 4;
        ret = api.mcd_execute_txlist_f(core, &list);
        expect_error(ret, core, MCD_ERR_TXLIST_TX, "a read without side "
                     "effects");
        ok(list.num_tx_ok == 1 && tx[0].num_bytes_ok == 4 &&
           tx[1].num_bytes_ok == 0 && strstr(f.log, "m0;1;4096;4\n") &&
           !strstr(f.log, "m0;1;24301;"),
           "%s: the read before it is done, no m is sent for it", name);
        tx[1].access_type = MCD_TX_AT_RW;
        list.tx = &tx[1];
        list.num_tx = 1;
        ret = api.mcd_execute_txlist_f(core, &list);
        expect_error(ret, core, MCD_ERR_TXLIST_TX, "a read/write without "
                     "side effects");
        ok(!strstr(f.log, "m0;1;24301;") && !strstr(f.log, "M0;1;24301;"),
           "%s: it sends neither m nor M", name);
    }
    {
        mcd_register_info_st r0 = { 0 };
        uint64_t v;

        r0.addr.address = 0;
        r0.addr.mem_space_id = 2;
        r0.regsize = 32;
        ret = reg_access(&(Session){ .core = core }, &r0, &v, false);
        expect_error(ret, core, MCD_ERR_TXLIST_READ, "an empty register "
                     "reply");
    }
    ret = api.mcd_qry_state_f(core, &st);
    expect_error(ret, core, MCD_ERR_GENERAL, "a malformed state");
    ok(strstr(last_error(core).error_str, "'state=debug.stop_str'") != NULL,
       "%s: ... the error shows the reply as it came", name);
    check_fake_hit(name, core, &f);
    n = 2;
    ret = api.mcd_qry_reg_groups_f(core, 0, &n, groups);
    expect_error(ret, core, MCD_ERR_NO_REG_GROUPS, "a malformed group list");
    ret = api.mcd_qry_trig_info_f(core, &ti);
    expect_error(ret, core, MCD_ERR_GENERAL, "a malformed trigger record");
    ret = api.mcd_qry_rst_classes_f(core, &vector);
    expect_error(ret, core, MCD_ERR_GENERAL, "a list that goes backwards");
    ok(strncmp(f.log, "I\nqprotocol" ALL_EXTS "\nqsystem\nqcores\n"
               "qcoreinfo0\ni0\nqmemoryf0\nqreggroupf0\nqregf0\nqprotocol\n",
               strlen("I\nqprotocol" ALL_EXTS "\nqsystem\nqcores\n"
                      "qcoreinfo0\ni0\nqmemoryf0\nqreggroupf0\nqregf0\n"
                      "qprotocol\n")) == 0 &&
       fake_count(&f, "qprotocol") == 1 &&
       fake_count(&f, "qprotocolerrors") == (errors ? 1u : 0u) &&
       fake_count(&f, "i0") == 1,
       "%s: one round trip asks for every extension and opens core 0, "
       "then %s", name, errors ? "only the known extension is enabled"
                               : "nothing is negotiated");
    ok_call(api.mcd_close_server_f(server), NULL, "%s: close the server",
            name);
    closed = true;
out:
    api.mcd_exit_f();
    fake_stop(&f);
    if (closed) {
        /* D is not waited for: the stub has it once it has ended */
        ok(strstr(f.log, "\nD\n") != NULL, "%s: detach with D", name);
    }
    tap_prefix = "";
}

/*
 * A stub with lists, regs, notify and stoprec: several items per list
 * reply, a g that fails done again with p until the register that
 * fails, a G that fails done again with P, and a notification between
 * a command and its reply.
 */
static void check_fake_modern(void)
{
    const char *name = "fake modern stub";
    mcd_api_version_st req = { 1, 1, "test-libmcd" };
    mcd_impl_version_info_st impl;
    mcd_server_st *server = NULL;
    mcd_core_con_info_st info;
    mcd_core_st *core = NULL;
    mcd_register_info_st regs[8];
    mcd_memspace_st spaces[4];
    mcd_core_state_st st;
    uint32_t val[8], n, i;
    mcd_tx_st tx[4];
    mcd_txlist_st list = { tx, 4, 0 };
    char config[64];
    mcd_return_et ret;
    Fake f;

    tap_prefix = name;
    if (!ok(fake_start(&f, true), "%s: listens", name)) {
        return;
    }
    f.modern = true;
    api.mcd_initialize_f(&req, &impl);
    snprintf(config, sizeof(config), "localhost:%d", f.port);
    ret = api.mcd_open_server_f("", config, &server);
    memset(&info, 0, sizeof(info));
    n = 1;
    if (ret == MCD_RET_ACT_NONE) {
        ret = api.mcd_qry_cores_f(&info, 0, &n, &info);
    }
    if (ret == MCD_RET_ACT_NONE) {
        ret = api.mcd_open_core_f(&info, &core);
    }
    if (!ok_call(ret, NULL, "%s: open the server and core 0, enable "
                 FAKE_EXTS, name) ||
        !ok(strstr(f.log, "\nqprotocol" FAKE_EXTS "\n") != NULL,
            "%s: ... all of them", name)) {
        goto out;
    }
    /* asked in the connect round trip, and again once enabled */
    ok(info.core_type == 243 && strcmp(info.core, "fake-rv #0") == 0 &&
       fake_count(&f, "qcoreinfo0") == 2,
       "%s: core type %u and core '%s' from qcoreinfo", name,
       info.core_type, info.core);
    n = 4;
    ret = api.mcd_qry_mem_spaces_f(core, 0, &n, spaces);
    ok(ret == MCD_RET_ACT_NONE && n == 2 &&
       spaces[1].mem_space_id == 2 && fake_count(&f, "qmemoryf0") == 1,
       "%s: two memory spaces in one reply", name);
    n = 8;
    ret = api.mcd_qry_reg_map_f(core, 0, 0, &n, regs);
    ok(ret == MCD_RET_ACT_NONE && n == 7 &&
       strcmp(regs[4].regname, "sp") == 0 && regs[4].addr.address == 7 &&
       fake_count(&f, "qregf0") == 1,
       "%s: seven registers in the reply to the core type probe", name);
    ok(n == 7 && regs[1].reg_type == 2 && regs[1].hw_thread_id == 1 &&
       regs[2].reg_type == 4 && regs[2].hw_thread_id == 3 &&
       regs[3].addr.address == 3 && regs[3].regsize == 32 &&
       regs[4].reg_type == MCD_REG_TYPE_SIMPLE && regs[4].reg_group_id == 2,
       "%s: ... their fields, in the order QEMU sends them or not", name);
    /* a number of 20 digits, the largest there is */
    ok(n == 7 && regs[5].addr.address == UINT64_MAX &&
       strcmp(regs[5].regname, "big") == 0 && regs[5].regsize == 8,
       "%s: a register id of 20 digits", name);
    /* a ';' in the last item's name, not the end of the item */
    ok(n == 7 && regs[6].addr.address == 9 &&
       strcmp(regs[6].regname, "a;b") == 0 && regs[6].regsize == 8,
       "%s: a register name with a ';'", name);

    /* r0 to r3: the g fails, p reads r0 and r1, and fails r2 */
    memset(tx, 0, sizeof(tx));
    memset(val, 0, sizeof(val));
    for (i = 0; i < 4; i++) {
        tx[i].addr = regs[i].addr;
        tx[i].access_type = MCD_TX_AT_R;
        tx[i].data = (uint8_t *)&val[i];
        tx[i].num_bytes = 4;
    }
    ret = api.mcd_execute_txlist_f(core, &list);
    expect_error(ret, core, 8448, "a list of four registers, the third "
                 "unreadable");
    ok(list.num_tx_ok == 2 && tx[2].num_bytes_ok == 0 && val[0] == 1 &&
       val[1] == 2 && fake_count(&f, "g0;0-3") == 1 &&
       fake_count(&f, "p0;1") == 1 && fake_count(&f, "p0;2") == 1 &&
       fake_count(&f, "p0;3") == 0,
       "%s: ... the g is done again with p up to that register", name);
    /* r0, r1 and sp: one g */
    tx[2].addr = regs[4].addr;
    list.num_tx = 3;
    ret = api.mcd_execute_txlist_f(core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 3 && val[0] == 1 &&
       val[1] == 2 && val[2] == 8 && fake_count(&f, "g0;0-1,7") == 1 &&
       fake_count(&f, "p0;0") == 1,
       "%s: r0, r1 and sp read with one g", name);
    /* the same list into other buffers, then other sizes, other order */
    for (i = 0; i < 3; i++) {
        tx[i].data = (uint8_t *)&val[4 + i];
    }
    memset(val, 0xee, sizeof(val));
    ret = api.mcd_execute_txlist_f(core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 3 && val[4] == 1 &&
       val[5] == 2 && val[6] == 8 && val[0] == 0xeeeeeeee &&
       fake_count(&f, "g0;0-1,7") == 2,
       "%s: the same registers again, into other buffers", name);
    tx[1].num_bytes = 2;
    memset(val, 0xee, sizeof(val));
    ret = api.mcd_execute_txlist_f(core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 3 &&
       tx[1].num_bytes_ok == 2 && val[4] == 1 && val[5] == 0xeeee0002 &&
       val[6] == 8 && fake_count(&f, "g0;0-1,7") == 3,
       "%s: ... the low half of r1", name);
    tx[1].num_bytes = 4;
    tx[0].addr = regs[4].addr;
    tx[1].addr = regs[0].addr;
    tx[2].addr = regs[1].addr;
    ret = api.mcd_execute_txlist_f(core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 3 && val[4] == 8 &&
       val[5] == 1 && val[6] == 2 && fake_count(&f, "g0;7,0-1") == 1 &&
       fake_count(&f, "g0;0-1,7") == 3,
       "%s: ... sp, r0 and r1", name);
    /* the same addresses and sizes written: a G (refused, then P), no g */
    for (i = 0; i < 3; i++) {
        tx[i].access_type = MCD_TX_AT_W;
        val[4 + i] = 0x11 + i;
    }
    ret = api.mcd_execute_txlist_f(core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 3 &&
       fake_count(&f, "G0;7,0-1;110000001200000013000000") == 1 &&
       fake_count(&f, "P0;7;4;11000000") == 1 &&
       fake_count(&f, "g0;7,0-1") == 1,
       "%s: ... the same list written: a G, not the g of the read", name);
    for (i = 0; i < 3; i++) {
        tx[i].access_type = MCD_TX_AT_R;
    }
    for (i = 0; i < 4; i++) {
        tx[i].addr = regs[i].addr;
        tx[i].data = (uint8_t *)&val[i];
        val[i] = i + 1;
    }
    /* a G refused as a whole: P writes them one by one */
    for (i = 0; i < 2; i++) {
        tx[i].access_type = MCD_TX_AT_W;
    }
    list.num_tx = 2;
    ret = api.mcd_execute_txlist_f(core, &list);
    ok(ret == MCD_RET_ACT_NONE && list.num_tx_ok == 2 &&
       fake_count(&f, "G0;0-1;0100000002000000") == 1 &&
       fake_count(&f, "P0;0;4;01000000") == 1 &&
       fake_count(&f, "P0;1;4;02000000") == 1,
       "%s: a G refused is done again with P", name);

    /* the notification between the '+' and the reply of C */
    ret = api.mcd_run_f(core, FALSE);
    memset(&st, 0, sizeof(st));
    if (ret == MCD_RET_ACT_NONE) {
        ret = api.mcd_qry_state_f(core, &st);
    }
    ok(ret == MCD_RET_ACT_NONE && st.state == MCD_CORE_STATE_DEBUG &&
       st.event == MCD_CORE_EVENT_STOPPED &&
       strstr(st.stop_str, "breakpoint") && fake_count(&f, "qstate0") == 0,
       "%s: a notification before the reply to C is the state: event "
       "0x%x, '%s'", name, st.event, st.stop_str);
    ret = api.mcd_qry_state_f(core, &st);
    ok(ret == MCD_RET_ACT_NONE && st.event == 0 &&
       fake_count(&f, "qstate0") == 1, "%s: the next query asks", name);
    ok_call(api.mcd_close_server_f(server), NULL, "%s: close the server",
            name);
out:
    api.mcd_exit_f();
    fake_stop(&f);
    tap_prefix = "";
}

/*
 * Without QEMU
 */

static void check_layout(void)
{
#ifdef MCD_LAYOUT_HOST
    int sizes = 0, bad_sizes = 0, offs = 0, bad_offs = 0;

#define RT_SIZE(type, size) \
    sizes++; \
    if (sizeof(type) != (size)) { \
        bad_sizes++; \
        diag("sizeof(%s) is %zu, not %d", #type, sizeof(type), size); \
    }
#define RT_OFF(type, field, off) \
    offs++; \
    if (offsetof(type, field) != (off)) { \
        bad_offs++; \
        diag("offsetof(%s, %s) is %zu, not %d", #type, #field, \
             offsetof(type, field), off); \
    }
    MCD_LAYOUT_LIST(RT_SIZE, RT_OFF)
#undef RT_SIZE
#undef RT_OFF
    ok(bad_sizes == 0, "layout: the sizes of %d structures match the API "
       "1.1 ABI of %s", sizes, MCD_LAYOUT_HOST);
    ok(bad_offs == 0, "layout: the offsets of %d fields match the API 1.1 "
       "ABI of %s", offs, MCD_LAYOUT_HOST);
    ok(sizeof(mcd_bool_t) == MCD_LAYOUT_BOOL_SIZE,
       "layout: mcd_bool_t is %d bits", MCD_LAYOUT_BOOL_SIZE * 8);
    ok(sizeof(mcd_core_con_info_st) == 596 &&
       offsetof(mcd_core_con_info_st, core_id) == 592,
       "layout: mcd_core_con_info_st is 596 bytes, core_id at 592");
    ok(sizeof(mcd_register_info_st) == 88 &&
       offsetof(mcd_register_info_st, has_side_effects_write) ==
       MCD_LAYOUT_ABI(73, 76) &&
       offsetof(mcd_register_info_st, reg_type) == MCD_LAYOUT_ABI(76, 80),
       "layout: mcd_register_info_st is 88 bytes, reg_type at %d",
       MCD_LAYOUT_ABI(76, 80));
    ok(sizeof(mcd_tx_st) == 56 && offsetof(mcd_tx_st, data) == 40 &&
       offsetof(mcd_tx_st, num_bytes_ok) == 52,
       "layout: mcd_tx_st is 56 bytes, data at 40");
    ok(sizeof(mcd_core_state_st) == 528 &&
       offsetof(mcd_core_state_st, info_str) == 272,
       "layout: mcd_core_state_st is 528 bytes, info_str at 272");
#else
    skip("neither LP64 Linux nor 64-bit Windows",
         "layout: the API 1.1 ABI of LP64 Linux or 64-bit Windows");
#endif
}

/*
 * The time limits of the configuration string: checked, and a server
 * that never answers fails the open after McdTimeout, not the default
 * 15 s.
 */
static void check_timeouts(void)
{
    static const char *const bad[] = {
        "McdTimeout=0", "McdTimeout=abc", "mcdsteptimeout=\"-1\"",
        "McdConnectTimeout=3600001", "McdEra1ErrorWait=",
    };
    struct sockaddr_in sa = { 0 };
    socklen_t len = sizeof(sa);
    mcd_server_st *server = NULL;
    mcd_return_et ret;
    char config[128];
    long long start;
    size_t i;
    int fd;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ret = api.mcd_open_server_f("", bad[i], &server);
        expect_error(ret, NULL, MCD_ERR_PARAM, bad[i]);
    }

    /* a socket that takes connections and says nothing */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!ok(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            listen(fd, 1) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &len) == 0,
            "a silent server listens")) {
        return;
    }
    snprintf(config, sizeof(config), "McdHostName=127.0.0.1 "
             "McdServerPort=%d McdTimeout=300", ntohs(sa.sin_port));
    start = now_ms();
    ret = api.mcd_open_server_f("", config, &server);
    expect_error(ret, NULL, MCD_ERR_TIMED_OUT, "a server that never answers, "
                 "McdTimeout=300");
    ok(now_ms() - start < 3000 &&
       strstr(last_error(NULL).error_str, "one debugger at a time"),
       "... gives up after %lld ms, and says why it may be",
       now_ms() - start);
    sock_close(fd);
}

static void check_without_server(void)
{
    mcd_api_version_st req = { 2, 0, "test-libmcd" };
    mcd_impl_version_info_st impl;
    mcd_server_st *server = NULL;
    mcd_return_et ret;
    char config[64];
    int port;

    ret = api.mcd_open_server_f("", "", &server);
    expect_error(ret, NULL, MCD_ERR_USAGE, "mcd_open_server_f before "
                 "mcd_initialize_f");
    ret = api.mcd_initialize_f(&req, &impl);
    expect_error(ret, NULL, MCD_ERR_GENERAL, "API version 2.0");
    req.v_api_major = 1;
    req.v_api_minor = 2;
    ret = api.mcd_initialize_f(&req, &impl);
    expect_error(ret, NULL, MCD_ERR_GENERAL, "API version 1.2");
    req.v_api_minor = 0;
    ret = api.mcd_initialize_f(&req, &impl);
    ok(ret == MCD_RET_ACT_NONE && strcmp(impl.vendor, "QEMU") == 0 &&
       impl.v_api.v_api_major == 1 && impl.v_api.v_api_minor == 1,
       "mcd_initialize_f accepts API 1.0: vendor %s, API %u.%u, built %s",
       impl.vendor, impl.v_api.v_api_major, impl.v_api.v_api_minor,
       impl.date);
    ret = api.mcd_open_server_f("", "McdServerPort=\"99999\"", &server);
    expect_error(ret, NULL, MCD_ERR_PARAM, "port 99999");
    port = free_port();
    snprintf(config, sizeof(config), "mcdhostname=127.0.0.1 "
             "MCDSERVERPORT=%d", port);
    ret = api.mcd_open_server_f("", config, &server);
    expect_error(ret, NULL, MCD_ERR_CONNECTION, "a port nobody listens on");
    ret = api.mcd_qry_servers_f("localhost", TRUE, 0, &(uint32_t){ 0 },
                                NULL);
    expect_error(ret, NULL, MCD_ERR_FN_UNIMPLEMENTED, "mcd_qry_servers_f");
    check_timeouts();
    api.mcd_exit_f();
}

#ifndef _WIN32
/*
 * Swap the QEMU that qemu_start(), qemu_exited() and qemu_kill() work on
 * with the other one: two QEMUs at once (POSIX only).
 */
static void qemu_swap(void)
{
    static bool other_running;
    pid_t pid = qemu_pid;
    bool running = qemu_running;

    qemu_pid = qemu_pid_other;
    qemu_running = other_running;
    qemu_pid_other = pid;
    other_running = running;
}

/* The id of the physical non-secure memory space of @core, 0 if none. */
static uint32_t phys_space_of(mcd_core_st *core)
{
    mcd_memspace_st spaces[16];
    uint32_t n = 16, i;

    if (api.mcd_qry_mem_spaces_f(core, 0, &n, spaces) != MCD_RET_ACT_NONE) {
        return 0;
    }
    for (i = 0; i < n && i < 16; i++) {
        if (strcmp(spaces[i].mem_space_name, "Physical (Non Secure)") == 0) {
            return spaces[i].mem_space_id;
        }
    }
    return 0;
}

/*
 * Two servers at once: an arm and an aarch64 QEMU, a core of each, a
 * different word written into each guest's RAM; one server closed, the
 * other still works.
 */
static void check_two_servers(void)
{
    static const uint32_t words[2] = { 0x11112222, 0x33334444 };
    mcd_api_version_st req = { 1, 1, "test-libmcd" };
    mcd_impl_version_info_st impl;
    mcd_core_con_info_st sys[3], dev, info[2];
    mcd_server_st *server[2] = { NULL, NULL }, *again = NULL;
    mcd_core_st *core[2] = { NULL, NULL };
    Session s[2];
    uint32_t space[2] = { 0, 0 }, val, n;
    int port[2], k;
    char config[96];
    mcd_return_et ret;
    bool good, started[2] = { false, false };
    const char *name = "two servers";

    tap_prefix = name;
    if (getenv("LIBMCD_QEMU_CONTROL")) {
        skip("the QEMU control runs one QEMU", "%s", name);
        tap_prefix = "";
        return;
    }
    memset(s, 0, sizeof(s));
    for (k = 0; k < 2; k++) {
        const Target *t = &targets[k];
        const char *binary = getenv(t->env) ? getenv(t->env) : t->binary;

        port[k] = free_port();
        if (k) {
            qemu_swap();
        }
        started[k] = qemu_start(binary, t->machine, t->cpu, port[k], 0);
        if (!ok(started[k], "%s: %s listens on %d", name, t->name,
                port[k])) {
            goto out;
        }
    }
    env_set("LIBMCD_EXTENSIONS", NULL);
    api.mcd_initialize_f(&req, &impl);
    snprintf(config, sizeof(config), "127.0.0.1:%d", port[0]);
    ret = api.mcd_open_server_f("", config, &server[0]);
    snprintf(config, sizeof(config), "McdHostName=\"127.0.0.1\" "
             "McdServerPort=\"%d\"", port[1]);
    if (ret == MCD_RET_ACT_NONE) {
        ret = api.mcd_open_server_f("", config, &server[1]);
    }
    if (!ok_call(ret, NULL, "%s: both open", name)) {
        goto out;
    }
    ret = api.mcd_open_server_f("", config, &again);
    expect_error(ret, NULL, MCD_ERR_SERVER_LOCKED, "the second server again");
    n = 3;
    ret = api.mcd_qry_systems_f(0, &n, sys);
    ok(ret == MCD_RET_ACT_NONE && n == 2 &&
       sys[0].server_port == (uint32_t)port[0] &&
       sys[1].server_port == (uint32_t)port[1],
       "%s: two systems, in the order opened", name);

    /* a core of each, found through its system and device */
    good = ret == MCD_RET_ACT_NONE && n == 2;
    for (k = 0; good && k < 2; k++) {
        n = 1;
        good = api.mcd_qry_devices_f(&sys[k], 0, &n, &dev) ==
               MCD_RET_ACT_NONE && dev.server_port == (uint32_t)port[k];
        n = 1;
        good = good && api.mcd_qry_cores_f(&dev, 0, &n, &info[k]) ==
                       MCD_RET_ACT_NONE &&
               info[k].server_port == (uint32_t)port[k] &&
               info[k].core_type == targets[k].elf_machine;
        good = good && api.mcd_open_core_f(&info[k], &core[k]) ==
                       MCD_RET_ACT_NONE &&
               core[k]->core_con_info->server_port == (uint32_t)port[k];
        space[k] = good ? phys_space_of(core[k]) : 0;
        good = good && space[k] != 0;
        s[k].core = core[k];
    }
    if (!ok(good, "%s: core 0 of each open (ELF machines %u and %u)", name,
            info[0].core_type, info[1].core_type)) {
        diag("%s: %s", name, last_error(NULL).error_str);
        goto out;
    }

    /* a different word in each guest's RAM */
    good = true;
    for (k = 0; k < 2; k++) {
        val = words[k];
        good &= mem_access(&s[k], space[k], 0x40200000, &val, 4, true) ==
                MCD_RET_ACT_NONE;
    }
    for (k = 0; k < 2; k++) {
        val = 0;
        good &= mem_access(&s[k], space[k], 0x40200000, &val, 4, false) ==
                MCD_RET_ACT_NONE && val == words[k];
    }
    ok(good, "%s: each guest has its own word at 0x40200000", name);

    /* the first closed: its core is gone, the second works on */
    ok_call(api.mcd_close_server_f(server[0]), NULL, "%s: close the %s "
            "server", name, targets[0].name);
    server[0] = NULL;
    ret = mem_access(&s[0], space[0], 0x40200000, &val, 4, false);
    expect_error(ret, NULL, MCD_ERR_PARAM, "a core of the closed server");
    val = 0;
    ret = mem_access(&s[1], space[1], 0x40200000, &val, 4, false);
    n = 0;
    ok(ret == MCD_RET_ACT_NONE && val == words[1] &&
       api.mcd_qry_systems_f(0, &n, NULL) == MCD_RET_ACT_NONE && n == 1,
       "%s: the %s server works on, alone", name, targets[1].name);
    ret = api.mcd_open_core_f(&info[0], &core[0]);
    expect_error(ret, NULL, MCD_ERR_PARAM, "a core of the closed server");
out:
    api.mcd_exit_f();
    /* the aarch64 QEMU is the current one once the arm one started */
    qemu_kill();
    if (started[0]) {
        qemu_swap();
        qemu_kill();
    }
    tap_prefix = "";
}
#endif

int main(int argc, char **argv)
{
    /* --threads: only the threads part (for the ThreadSanitizer build) */
    bool only_threads = argc > 1 && strcmp(argv[1], "--threads") == 0;
    const char *lib = argc > 1 + only_threads ? argv[1 + only_threads]
                                              : getenv("LIBMCD");
#ifndef _WIN32
    struct sigaction sa = { .sa_handler = on_signal };

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
#endif

    setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    atexit(qemu_kill);
    if (!os_init()) {
        printf("Bail out! no sockets\n");
        return 1;
    }

    if (!only_threads) {
        check_layout();
    }
    if (!lib) {
        lib = "./libmcd.so";
    }
    if (load_library(lib)) {
        if (!only_threads) {
            check_without_server();
            check_fake_stub(false);
            check_fake_stub(true);
            check_fake_modern();
            /* the stub as it is, then as older stubs would be */
            run_target(&targets[0], NULL);
            run_target(&targets[1], NULL);
            run_target(&targets[0], "era1");
            run_target(&targets[1], "errors");
            /* lists, regs, binary and notify, against libmcd before them */
            run_fast(&targets[0]);
            run_fast(&targets[1]);
#ifndef _WIN32
            check_two_servers();
#endif
        }
        /* several threads at once, with notifications and by polling */
        run_threads(&targets[0], NULL);
        run_threads(&targets[1], NULL);
        run_threads(&targets[0], "era1");
    }
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}
