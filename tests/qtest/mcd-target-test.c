/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub on the targets other than ARM: RISC-V
 * (qemu-system-riscv64, qemu-system-riscv32) and x86 (qemu-system-i386,
 * qemu-system-x86_64).
 *
 * What the ARM test checks on ARM, checked here on these: the memory
 * spaces, register groups and registers (with RISC-V's CSRs and x86's
 * control registers), register writes, memory accesses through every
 * space, breakpoints, watchpoints, single steps, run control, resets
 * and detach.  Then what only these have: on RISC-V, the Supervisor and
 * User views of an Sv39 page table, per-hart run control and an RV32
 * hart; on x86, the Linear space with paging on, the SMRAM space, and a
 * CPU plugged in with device_add.
 *
 * Each test starts QEMU with a tiny guest as its firmware (-bios) and
 * talks the packet protocol of docs/interop/mcd.rst to the stub:
 *
 * - RISC-V: every hart jumps from the reset vector (0x1000) to the
 *   guest at 0x80000000 and counts, in M-mode, at 0x80002000 + 8 *
 *   mhartid;
 * - x86: 64 KiB mapped at 0xffff0000 that jump from the reset vector
 *   (linear 0xfffffff0) to the start and count the dword at 0x2000,
 *   in real mode.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "mcd-util.h"

/* The extensions every test enables */
#define EXTENSIONS "errors,steps,wplen,resethalt,notify,stoprec"

/* The reply to "qprotocol" with the extensions @enabled */
#define PROTOCOL(enabled) MCD_PROTOCOL_REPLY(enabled)

/* MCD error codes of the replies */
#define ERR_UNIMPL      256
#define ERR_USAGE       257
#define ERR_PARAM       258
#define ERR_MEM_SPACE   5136
#define ERR_READ        8448
#define ERR_WRITE       8449
#define ERR_TRIG_CREATE 12800
#define ERR_TRIG_ACCESS 12801

/*
 * The RISC-V guest, at 0x80000000: t1 = 0x80002000 + 8 * mhartid, then
 * loop: t2 = [t1]; t2++; [t1] = t2.
 */
#define RV_BASE         0x80000000ULL
#define RV_LOOP         (RV_BASE + 0x10)
#define RV_COUNTERS     0x80002000ULL
#define RV_RESET        0x1000ULL
/* the 128 MiB of RAM of virt */
#define RV_RAM_END      0x88000000ULL
#define RV_SCRATCH      0x80100000ULL

static const uint32_t guest_rv[] = {
    0x00002317, /* auipc t1, 2 */
    0xf14022f3, /* csrr t0, mhartid */
    0x00329293, /* slli t0, t0, 3 */
    0x00530333, /* add t1, t1, t0 */
    0x00033383, /* loop: ld t2, 0(t1) */
    0x00138393, /* addi t2, t2, 1 */
    0x00733023, /* sd t2, 0(t1) */
    0xff5ff06f, /* j loop */
};

/* The same for an RV32 hart (-cpu rv32): a 32-bit counter, lw and sw. */
static const uint32_t guest_rv32[] = {
    0x00002317, /* auipc t1, 2 */
    0xf14022f3, /* csrr t0, mhartid */
    0x00329293, /* slli t0, t0, 3 */
    0x00530333, /* add t1, t1, t0 */
    0x00032383, /* loop: lw t2, 0(t1) */
    0x00138393, /* addi t2, t2, 1 */
    0x00732023, /* sw t2, 0(t1) */
    0xff5ff06f, /* j loop */
};

/*
 * The x86 guest: 64 KiB at 0xffff0000 (CS base in real mode), all nop
 * but for ds = 0, bx = 0x2000, loop: inc dword [bx]; jmp loop, and the
 * jump there from the reset vector.
 */
#define X86_BASE        0xffff0000ULL
#define X86_SIZE        0x10000
#define X86_LOOP_IP     0x7
#define X86_JMP_IP      0xa
#define X86_COUNTER     0x2000ULL
#define X86_RESET       0xfffffff0ULL
/* the 128 MiB of RAM of q35 */
#define X86_RAM_END     0x8000000ULL
#define X86_SCRATCH     0x100000ULL

static const uint8_t guest_x86[] = {
    0x31, 0xc0,                 /* xor ax, ax */
    0x8e, 0xd8,                 /* mov ds, ax */
    0xbb, 0x00, 0x20,           /* mov bx, 0x2000 */
    0x66, 0xff, 0x07,           /* loop: inc dword [bx] */
    0xeb, 0xfb,                 /* jmp loop */
};
static const uint8_t guest_x86_reset[] = {
    0xe9, 0x0d, 0x00,           /* at 0xfff0: jmp near 0 */
};

typedef struct Target {
    QTestState *qts;
    int fd;
    char *dir;
    char *bios;
    GPtrArray *spaces;
    GPtrArray *regs;
    bool rv32;          /* an RV32 hart on qemu-system-riscv64 */
} Target;

/*
 * The architecture
 */

static bool is_riscv(void)
{
    return g_str_equal(qtest_get_arch(), "riscv64") ||
           g_str_equal(qtest_get_arch(), "riscv32");
}

/* qemu-system-riscv32, whose harts are all RV32 */
static bool is_riscv32(void)
{
    return g_str_equal(qtest_get_arch(), "riscv32");
}

static bool is_x86_64(void)
{
    return g_str_equal(qtest_get_arch(), "x86_64");
}

/* The name of the PC register: an offset in CS on x86. */
static const char *pc_name(void)
{
    return is_riscv() ? "pc" : is_x86_64() ? "rip" : "eip";
}

/* The register that holds the counter's address. */
static const char *ptr_name(void)
{
    return is_riscv() ? "t1" : is_x86_64() ? "rbx" : "ebx";
}

/* The PC register's value for code at a linear address of the guest. */
static uint64_t pc_reg_of(uint64_t addr)
{
    return is_riscv() ? addr : addr - X86_BASE;
}

static uint64_t counter_addr(int core)
{
    return is_riscv() ? RV_COUNTERS + 8 * core : X86_COUNTER;
}

/* Another place for the counter: bx is 16 bits wide on x86. */
static uint64_t alt_counter(void)
{
    return is_riscv() ? RV_SCRATCH : 0x3000;
}

static uint64_t reset_vector(void)
{
    return is_riscv() ? RV_RESET : X86_RESET;
}

static uint64_t ram_end(void)
{
    return is_riscv() ? RV_RAM_END : X86_RAM_END;
}

static uint64_t scratch(void)
{
    return is_riscv() ? RV_SCRATCH : X86_SCRATCH;
}

/* The logical space of the code the guest runs. */
static const char *logical_name(void)
{
    return is_riscv() ? "Supervisor" : "Linear";
}

/*
 * The loop of the guest, instruction by instruction: the linear
 * address, and whether it stores the counter.
 */
typedef struct Insn {
    uint64_t addr;
    bool store;
} Insn;

static const Insn loop_rv[] = {
    { RV_LOOP, false }, { RV_LOOP + 4, false }, { RV_LOOP + 8, true },
    { RV_LOOP + 12, false },
};
static const Insn loop_x86[] = {
    { X86_BASE + X86_LOOP_IP, true }, { X86_BASE + X86_JMP_IP, false },
};

static const Insn *guest_loop(size_t *n)
{
    *n = is_riscv() ? ARRAY_SIZE(loop_rv) : ARRAY_SIZE(loop_x86);
    return is_riscv() ? loop_rv : loop_x86;
}

/* The instruction that stores the counter, and the one after it. */
static uint64_t store_insn(void)
{
    return is_riscv() ? RV_LOOP + 8 : X86_BASE + X86_LOOP_IP;
}

static uint64_t after_store(void)
{
    return is_riscv() ? RV_LOOP + 12 : X86_BASE + X86_JMP_IP;
}

/*
 * Helpers
 */

static char *to_hex(const void *buf, size_t len)
{
    GString *s = g_string_sized_new(len * 2 + 1);
    size_t i;

    for (i = 0; i < len; i++) {
        g_string_append_printf(s, "%02x", ((const uint8_t *)buf)[i]);
    }
    return g_string_free(s, false);
}

/* The reply is an error record with the MCD error code @code. */
static void check_error(const char *reply, int code)
{
    g_autofree char *prefix = g_strdup_printf("error=%d.text=", code);

    if (!g_str_has_prefix(reply, prefix)) {
        g_test_message("expected error %d, got \"%s\"", code, reply);
    }
    g_assert_true(g_str_has_prefix(reply, prefix));
}

static void check_cmd_error(Target *t, const char *cmd, int code)
{
    g_autofree char *reply = mcd_query(t->fd, cmd);

    check_error(reply, code);
}

/* Write the guest for this architecture to a file of a new directory. */
static void write_guest(Target *t)
{
    g_autofree uint8_t *img = NULL;
    size_t len, i;

    t->dir = g_dir_make_tmp("mcd-target-XXXXXX", NULL);
    g_assert_nonnull(t->dir);
    t->bios = g_build_filename(t->dir, "guest.bin", NULL);
    if (is_riscv()) {
        const uint32_t *guest = t->rv32 || is_riscv32() ? guest_rv32
                                                        : guest_rv;

        len = sizeof(guest_rv);
        img = g_malloc(len);
        for (i = 0; i < ARRAY_SIZE(guest_rv); i++) {
            stl_le_p(img + 4 * i, guest[i]);
        }
    } else {
        len = X86_SIZE;
        img = g_malloc(len);
        memset(img, 0x90, len);
        memcpy(img, guest_x86, sizeof(guest_x86));
        memcpy(img + (X86_RESET - X86_BASE), guest_x86_reset,
               sizeof(guest_x86_reset));
    }
    g_assert_true(g_file_set_contents(t->bios, (char *)img, len, NULL));
}

/*
 * Start QEMU stopped, with the guest and @extra arguments; open the
 * session with EXTENSIONS and core 0, and read its lists.
 */
static void target_start_accel(Target *t, const char *accel,
                               const char *extra)
{
    g_autofree char *args = NULL;

    write_guest(t);
    args = g_strdup_printf("-bios %s -S %s", t->bios, extra);
    t->qts = mcd_start_accel(accel, args, &t->fd);
    mcd_drop_notifications();
    mcd_check_handshake(t->fd);
    mcd_check_reply(t->fd, "qprotocol" EXTENSIONS, PROTOCOL(EXTENSIONS));
    mcd_check_reply(t->fd, "i0", "success");
    t->spaces = mcd_query_list(t->fd, "qmemoryf0", "qmemoryc");
    t->regs = mcd_query_list(t->fd, "qregf0", "qregc");
}

static void target_start(Target *t, const char *extra)
{
    target_start_accel(t, "tcg", extra);
}

/* Close QEMU and remove the guest; the session must be over. */
static void target_quit(Target *t)
{
    close(t->fd);
    qtest_quit(t->qts);
    g_ptr_array_free(t->spaces, true);
    g_ptr_array_free(t->regs, true);
    unlink(t->bios);
    rmdir(t->dir);
    g_free(t->bios);
    g_free(t->dir);
}

/* Detach, check that the guest runs, and quit. */
static void target_end(Target *t)
{
    mcd_check_reply(t->fd, "D", "success");
    mcd_check_running(t->qts);
    target_quit(t);
}

static uint64_t counter(Target *t, int core)
{
    return is_riscv() ? qtest_readq(t->qts, counter_addr(core))
                      : qtest_readl(t->qts, counter_addr(core));
}

/* Whether the counter at @addr moves by @n within 5 seconds. */
static bool counter_at_moves(Target *t, uint64_t addr, uint64_t n)
{
    return mcd_word_grows(t->qts, addr, n, 5000);
}

static bool counter_moves(Target *t, int core)
{
    return counter_at_moves(t, counter_addr(core), 1000);
}

/* Whether the counter of @core stays where it is for 100 ms. */
static bool counter_stays(Target *t, int core)
{
    uint64_t before = counter(t, core);

    g_usleep(100 * 1000);
    return counter(t, core) == before;
}

/*
 * Let the guest run into its loop (on @ncores cores) and stop it as a
 * whole with the stub: every core is then held.
 */
static void run_into_loop(Target *t, int ncores)
{
    int i;

    mcd_check_reply(t->fd, "C1;0", "success");
    for (i = 0; i < ncores; i++) {
        g_assert_true(counter_moves(t, i));
    }
    mcd_check_reply(t->fd, "b1;0", "success");
}

static uint64_t space_id(Target *t, const char *name)
{
    return mcd_rec_get_u64(mcd_get_named(t->spaces, "memory space", name),
                           "id");
}

static const char *reg_rec(Target *t, const char *name)
{
    return mcd_get_named(t->regs, "register", name);
}

static uint64_t reg_id(Target *t, const char *name)
{
    return mcd_rec_get_u64(reg_rec(t, name), "id");
}

static size_t reg_bytes(Target *t, const char *name)
{
    return mcd_rec_get_u64(reg_rec(t, name), "size") / 8;
}

/* Read a register of @core as a number (little-endian on the wire). */
static uint64_t read_reg(Target *t, int core, const char *name)
{
    g_autofree char *cmd = g_strdup_printf("p%d;%" PRIu64, core,
                                           reg_id(t, name));
    g_autofree char *hex = mcd_query(t->fd, cmd);
    uint64_t v = 0;
    int i;

    if (strlen(hex) != reg_bytes(t, name) * 2) {
        g_test_message("%s: %s", cmd, hex);
    }
    g_assert_cmpuint(strlen(hex), ==, reg_bytes(t, name) * 2);
    for (i = strlen(hex) / 2 - 1; i >= 0; i--) {
        unsigned byte;

        g_assert_cmpint(sscanf(hex + i * 2, "%2x", &byte), ==, 1);
        v = v << 8 | byte;
    }
    return v;
}

/* Write @bytes bytes of @value to a register of @core; the reply. */
static char *write_reg_len(Target *t, int core, const char *name,
                           size_t bytes, uint64_t value)
{
    uint8_t le[8];
    g_autofree char *hex = NULL;
    g_autofree char *cmd = NULL;

    stq_le_p(le, value);
    hex = to_hex(le, bytes);
    cmd = g_strdup_printf("P%d;%" PRIu64 ";%zu;%s", core, reg_id(t, name),
                          bytes, hex);
    return mcd_query(t->fd, cmd);
}

static char *write_reg(Target *t, int core, const char *name, uint64_t value)
{
    return write_reg_len(t, core, name, reg_bytes(t, name), value);
}

/* Write a register of core 0, which must succeed, and read it back. */
static void set_reg(Target *t, const char *name, uint64_t value)
{
    g_autofree char *reply = write_reg(t, 0, name, value);

    g_assert_cmpstr(reply, ==, "success");
    g_assert_cmphex(read_reg(t, 0, name), ==, value);
}

/* Read @len bytes of memory space @space of @core: the reply. */
static char *mem_read(Target *t, int core, const char *space, uint64_t addr,
                      size_t len)
{
    g_autofree char *cmd = g_strdup_printf("m%d;%" PRIu64 ";%" PRIu64 ";%zu",
                                           core, space_id(t, space), addr,
                                           len);

    return mcd_query(t->fd, cmd);
}

/* Write @len bytes to memory space @space of core 0: the reply. */
static char *mem_write(Target *t, const char *space, uint64_t addr,
                       const void *buf, size_t len)
{
    g_autofree char *hex = to_hex(buf, len);
    g_autofree char *cmd = g_strdup_printf("M0;%" PRIu64 ";%" PRIu64 ";%zu;%s",
                                           space_id(t, space), addr, len, hex);

    return mcd_query(t->fd, cmd);
}

/* Read @len bytes of @space at @addr; they must be those of @expected. */
static void check_view(Target *t, const char *space, uint64_t addr,
                       const char *expected)
{
    g_autofree char *got = mem_read(t, 0, space, addr, strlen(expected) / 2);

    if (!g_str_equal(got, expected)) {
        g_test_message("%s 0x%" PRIx64 ": %s", space, addr, got);
    }
    g_assert_cmpstr(got, ==, expected);
}

/* The 4 bytes of RAM at @addr as the hex of a read. */
static char *ram_hex(Target *t, uint64_t addr)
{
    uint8_t buf[4];

    qtest_memread(t->qts, addr, buf, sizeof(buf));
    return to_hex(buf, sizeof(buf));
}

/*
 * Wait for the notification that @core stopped by itself and check that
 * it carries the first stop record after the stop; return it.
 */
static char *wait_stop(Target *t, int core)
{
    char *note = mcd_recv_notification(t->fd);
    g_autofree char *prefix = g_strdup_printf("stop=%d.state=debug."
                                              "event=16.", core);

    if (!g_str_has_prefix(note, prefix)) {
        g_test_message("notification: %s", note);
    }
    g_assert_true(g_str_has_prefix(note, prefix));
    return note;
}

/*
 * After a reset and halt that stopped @n cores: their stop records, from
 * their notifications, which come in any order; @st[core] for each.
 */
static void reset_stops(Target *t, char **st, int n)
{
    int i, core;

    for (i = 0; i < n; i++) {
        char *note = mcd_recv_notification(t->fd);

        g_assert_cmpint(sscanf(note, "stop=%d.", &core), ==, 1);
        g_assert_true(core >= 0 && core < n && !st[core]);
        g_assert_true(g_str_has_prefix(strchr(note, '.') + 1,
                                       "state=debug.event=16."));
        g_assert_nonnull(strstr(note, "stop_str=stopped at the reset "
                                "vector"));
        st[core] = note;
    }
}

/* The stop record of core 0 after a reset and halt of one core. */
static char *reset_stop(Target *t)
{
    char *st[1] = { NULL };

    reset_stops(t, st, 1);
    return st[0];
}

/* Check the stop record @rec: why the core stopped and where. */
static void check_stop(const char *rec, const char *stop_str, uint64_t type,
                       uint64_t trig_id, uint64_t pc, uint64_t data_addr)
{
    g_autofree char *got = mcd_rec_get(rec, "stop_str");

    g_assert_cmpstr(got, ==, stop_str);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "type"), ==, type);
    g_assert_cmpuint(mcd_rec_get_u64(rec, "trig_id"), ==, trig_id);
    g_assert_cmphex(mcd_rec_get_u64(rec, "pc"), ==, pc);
    g_assert_cmphex(mcd_rec_get_u64(rec, "data_addr"), ==, data_addr);
    g_assert_cmphex(mcd_rec_get_u64(rec, "address"), ==, data_addr);
}

/*
 * Discovery
 */

typedef struct SpaceDesc {
    const char *name;
    uint64_t type;
} SpaceDesc;

static const SpaceDesc spaces_rv[] = {
    { "Supervisor", 0x22 }, { "User", 0x22 }, { "Physical", 0x12 },
    { "GPR Registers", 1 }, { "CSR Registers", 1 },
};
/* SMRAM: MCD_MEM_SPACE_IS_SECURE */
static const SpaceDesc spaces_x86[] = {
    { "Linear", 0x22 }, { "Physical", 0x12 }, { "SMRAM", 0x10012 },
    { "GPR Registers", 1 },
};

static const char *const groups_rv[] = {
    "Core Registers", "FPU Registers", "Privilege", "CSR Registers", NULL,
};
static const char *const groups_x86[] = {
    "General Registers", "Segment Registers", "Control Registers",
    "FPU Registers", "SSE Registers", NULL,
};

typedef struct RegDesc {
    const char *name;
    uint64_t id;
    uint64_t bits;
    const char *group;
    const char *space;
    uint64_t opcode;
} RegDesc;

/* gdb's numbers; the CSRs are 66 + their number */
#define CSR(name, num) \
    { name, 66 + (num), 64, "CSR Registers", "CSR Registers", num }
static const RegDesc regs_rv[] = {
    { "zero", 0, 64, "Core Registers", "GPR Registers", 0 },
    { "ra", 1, 64, "Core Registers", "GPR Registers", 0 },
    { "sp", 2, 64, "Core Registers", "GPR Registers", 0 },
    { "t0", 5, 64, "Core Registers", "GPR Registers", 0 },
    { "t1", 6, 64, "Core Registers", "GPR Registers", 0 },
    { "t2", 7, 64, "Core Registers", "GPR Registers", 0 },
    { "t6", 31, 64, "Core Registers", "GPR Registers", 0 },
    { "pc", 32, 64, "Core Registers", "GPR Registers", 0 },
    { "ft0", 33, 64, "FPU Registers", "GPR Registers", 0 },
    { "priv", 65, 64, "Privilege", "GPR Registers", 0 },
    CSR("satp", 0x180),
    CSR("mstatus", 0x300),
    CSR("misa", 0x301),
    CSR("mtvec", 0x305),
    CSR("mscratch", 0x340),
    CSR("mhartid", 0xf14),
    { NULL }
};

#define X86_REG(name, id, bits, group) \
    { name, id, bits, group " Registers", "GPR Registers", 0 }
static const RegDesc regs_i386[] = {
    X86_REG("eax", 0, 32, "General"),
    X86_REG("ebx", 3, 32, "General"),
    X86_REG("eip", 8, 32, "General"),
    X86_REG("eflags", 9, 32, "General"),
    X86_REG("cs", 10, 32, "Segment"),
    X86_REG("ds", 12, 32, "Segment"),
    X86_REG("fs_base", 16, 32, "Segment"),
    X86_REG("cr0", 19, 32, "Control"),
    X86_REG("cr2", 20, 32, "Control"),
    X86_REG("cr3", 21, 32, "Control"),
    X86_REG("cr4", 22, 32, "Control"),
    X86_REG("efer", 24, 32, "Control"),
    X86_REG("st0", 25, 80, "FPU"),
    { NULL }
};
static const RegDesc regs_x86_64[] = {
    X86_REG("rax", 0, 64, "General"),
    X86_REG("rbx", 1, 64, "General"),
    X86_REG("r15", 15, 64, "General"),
    X86_REG("rip", 16, 64, "General"),
    X86_REG("eflags", 17, 32, "General"),
    X86_REG("cs", 18, 32, "Segment"),
    X86_REG("ds", 20, 32, "Segment"),
    X86_REG("fs_base", 24, 64, "Segment"),
    X86_REG("cr0", 27, 64, "Control"),
    X86_REG("cr2", 28, 64, "Control"),
    X86_REG("cr3", 29, 64, "Control"),
    X86_REG("cr4", 30, 64, "Control"),
    X86_REG("efer", 32, 64, "Control"),
    X86_REG("st0", 33, 80, "FPU"),
    { NULL }
};

/*
 * The size of a register of the table: on qemu-system-riscv32 those
 * XLEN wide are 32 bits (the FPU registers are D's, 64 bits).
 */
static uint64_t reg_bits(const RegDesc *r)
{
    return is_riscv32() && r->bits == 64 &&
           !g_str_equal(r->group, "FPU Registers") ? 32 : r->bits;
}

/* Memory spaces, register groups and registers, with their ids. */
static void test_lists(void)
{
    Target t = { 0 };
    const SpaceDesc *spaces = is_riscv() ? spaces_rv : spaces_x86;
    size_t nspaces = is_riscv() ? ARRAY_SIZE(spaces_rv)
                                : ARRAY_SIZE(spaces_x86);
    const char *const *groups = is_riscv() ? groups_rv : groups_x86;
    const RegDesc *regs = is_riscv() ? regs_rv :
                          is_x86_64() ? regs_x86_64 : regs_i386;
    g_autoptr(GPtrArray) grecs = NULL;
    g_autofree char *expected = NULL;
    size_t i;

    target_start(&t, "");
    expected = g_strdup_printf("device=%s.core=%s.nr_cores=1.",
                               is_riscv() ? "virt" : "q35", mcd_cpu_type());
    mcd_check_reply(t.fd, "qcores", expected);

    /* memory spaces: in this order, ids from 1 */
    g_assert_cmpuint(t.spaces->len, ==, nspaces);
    for (i = 0; i < nspaces; i++) {
        const char *rec = g_ptr_array_index(t.spaces, i);
        g_autofree char *name = mcd_rec_get(rec, "name");
        bool regspace = spaces[i].type & 1;

        g_assert_cmpstr(name, ==, spaces[i].name);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, i + 1);
        g_assert_cmphex(mcd_rec_get_u64(rec, "type"), ==, spaces[i].type);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "bpm"), ==, 8);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "e"), ==, 1);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "sao"), ==, regspace ? 0 : 3);
    }

    /* register groups: in this order, ids from 1 */
    grecs = mcd_query_list(t.fd, "qreggroupf0", "qreggroupc");
    for (i = 0; groups[i]; i++) {
        const char *rec = mcd_find_named(grecs, groups[i]);

        if (!rec) {
            g_test_message("no register group %s", groups[i]);
        }
        g_assert_nonnull(rec);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, i + 1);
    }
    g_assert_cmpuint(grecs->len, ==, i);

    /* every register in a group and in a register space */
    for (i = 0; i < t.regs->len; i++) {
        const char *rec = g_ptr_array_index(t.regs, i);
        uint64_t space = mcd_rec_get_u64(rec, "memspaceid");

        g_assert_cmpuint(mcd_rec_get_u64(rec, "reggroupid"), >=, 1);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "reggroupid"), <=, grecs->len);
        g_assert_cmpuint(space, >=, 1);
        g_assert_cmpuint(space, <=, nspaces);
        g_assert_true(spaces[space - 1].type & 1);
    }

    /* these ones: gdb's numbers and sizes, groups, spaces, opcodes */
    for (i = 0; regs[i].name; i++) {
        const char *rec = reg_rec(&t, regs[i].name);

        g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, regs[i].id);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "size"), ==, reg_bits(&regs[i]));
        g_assert_cmpuint(mcd_rec_get_u64(rec, "reggroupid"), ==,
                         mcd_rec_get_u64(mcd_find_named(grecs,
                                                        regs[i].group),
                                         "id"));
        g_assert_cmpuint(mcd_rec_get_u64(rec, "memspaceid"), ==,
                         space_id(&t, regs[i].space));
        g_assert_cmphex(mcd_rec_get_u64(rec, "opcode"), ==, regs[i].opcode);
    }
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    target_end(&t);
}

/*
 * Registers
 */

/* What the guest put in its registers; writes that the guest sees. */
static void test_registers(void)
{
    Target t = { 0 };
    g_autofree char *reply = NULL;
    uint64_t pc, c;

    target_start(&t, "");
    run_into_loop(&t, 1);
    pc = read_reg(&t, 0, pc_name());
    c = counter(&t, 0);
    g_assert_cmphex(read_reg(&t, 0, ptr_name()), ==, counter_addr(0));
    if (is_riscv()) {
        /* stopped before or after the store of t2 */
        g_assert_cmpuint(read_reg(&t, 0, "t2") - c, <=, 1);
        g_assert_cmphex(read_reg(&t, 0, "t0"), ==, 0);
        g_assert_cmphex(pc, >=, RV_LOOP);
        g_assert_cmphex(pc, <, RV_LOOP + 16);
        g_assert_cmphex(read_reg(&t, 0, "mhartid"), ==, 0);
        /* RV64 (MXL 2) or RV32 (MXL 1), with I and S */
        if (is_riscv32()) {
            g_assert_cmphex(read_reg(&t, 0, "misa") >> 30, ==, 1);
        } else {
            g_assert_cmphex(read_reg(&t, 0, "misa") >> 62, ==, 2);
        }
        g_assert_cmphex(read_reg(&t, 0, "misa") & (1 << 8 | 1 << 18), ==,
                        1 << 8 | 1 << 18);
        /* M-mode */
        g_assert_cmphex(read_reg(&t, 0, "priv"), ==, 3);
    } else {
        g_assert_cmphex(read_reg(&t, 0, is_x86_64() ? "rax" : "eax"), ==, 0);
        g_assert_cmphex(read_reg(&t, 0, "ds"), ==, 0);
        g_assert_cmphex(read_reg(&t, 0, "cs"), ==, 0xf000);
        g_assert_true(pc == X86_LOOP_IP || pc == X86_JMP_IP);
        /* real mode: PE clear; CD, NW, ET as at reset */
        g_assert_cmphex(read_reg(&t, 0, "cr0"), ==, 0x60000010);
    }

    /* the guest counts where a register write tells it to */
    set_reg(&t, ptr_name(), alt_counter());
    qtest_writel(t.qts, alt_counter(), 0);
    c = counter(&t, 0);
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_at_moves(&t, alt_counter(), 1000));
    mcd_check_reply(t.fd, "b1;0", "success");
    g_assert_cmpuint(counter(&t, 0), ==, c);
    set_reg(&t, ptr_name(), counter_addr(0));

    if (is_riscv()) {
        /* a CSR, through its write function */
        set_reg(&t, "mscratch", is_riscv32() ? 0x89abcdef
                                             : 0x0123456789abcdefULL);
        set_reg(&t, "mtvec", RV_SCRATCH);
        /* WARL: mtvec's mode 3 is reserved, the write keeps mode 0 */
        g_free(reply);
        reply = write_reg(&t, 0, "mtvec", RV_SCRATCH | 3);
        g_assert_cmpstr(reply, ==, "success");
        g_assert_cmphex(read_reg(&t, 0, "mtvec") & 3, ==, 0);
        /* read-only CSRs refuse, and keep their value */
        g_free(reply);
        reply = write_reg(&t, 0, "mhartid", 5);
        check_error(reply, ERR_WRITE);
        g_assert_cmphex(read_reg(&t, 0, "mhartid"), ==, 0);
    } else {
        /* a control register: WP in cr0, and cr3 */
        set_reg(&t, "cr0", 0x60010010);
        set_reg(&t, "cr3", 0x5000);
        if (is_x86_64()) {
            /*
             * Outside 64-bit mode cr3 takes 4 bytes: upper bytes that
             * are not zero are refused and change nothing.
             */
            g_free(reply);
            reply = write_reg(&t, 0, "cr3", 0x100006000ULL);
            check_error(reply, ERR_WRITE);
            g_assert_nonnull(strstr(reply, "has 32 bits outside 64-bit "
                                    "mode"));
            g_assert_cmphex(read_reg(&t, 0, "cr3"), ==, 0x5000);
            set_reg(&t, "cr3", 0x6000);
            /* the same for the general registers; r8-r15 do not exist */
            set_reg(&t, "rax", 0x12345678);
            g_free(reply);
            reply = write_reg(&t, 0, "rax", 0x112345678ULL);
            check_error(reply, ERR_WRITE);
            g_assert_cmphex(read_reg(&t, 0, "rax"), ==, 0x12345678);
            g_free(reply);
            reply = write_reg(&t, 0, "r8", 1);
            check_error(reply, ERR_WRITE);
            g_assert_nonnull(strstr(reply, "64-bit mode only"));
        } else {
            /* 32 bits wide: 8 bytes are the wrong size */
            g_free(reply);
            reply = write_reg_len(&t, 0, "cr3", 8, 0x6000);
            check_error(reply, ERR_PARAM);
            g_assert_cmphex(read_reg(&t, 0, "cr3"), ==, 0x5000);
        }
        set_reg(&t, "cr3", 0);
        set_reg(&t, "cr0", 0x60000010);
    }

    /* the size must be the register's */
    g_free(reply);
    reply = write_reg_len(&t, 0, pc_name(), 2, pc);
    check_error(reply, ERR_PARAM);
    g_assert_cmphex(read_reg(&t, 0, pc_name()), ==, pc);

    /* a running core's registers can be read but not written */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_cmphex(read_reg(&t, 0, ptr_name()), ==, counter_addr(0));
    g_free(reply);
    reply = write_reg(&t, 0, ptr_name(), 0);
    check_error(reply, ERR_WRITE);
    g_assert_true(counter_moves(&t, 0));
    target_end(&t);
}

/*
 * Memory
 */

/*
 * 4 KiB written and read back through every memory space; reads and
 * writes across the end of RAM or to nothing fail and change nothing.
 */
static void test_memory(void)
{
    Target t = { 0 };
    static const uint8_t last[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    uint8_t buf[4096], back[4096];
    g_autofree char *reply = NULL;
    size_t i, j;
    int n = 0;

    target_start(&t, "");
    run_into_loop(&t, 1);
    for (i = 0; i < t.spaces->len; i++) {
        const char *rec = g_ptr_array_index(t.spaces, i);
        g_autofree char *name = mcd_rec_get(rec, "name");
        uint64_t addr = scratch() + i * sizeof(buf);
        g_autofree char *hex = NULL;

        g_free(reply);
        if (mcd_rec_get_u64(rec, "type") & 1) {
            /* a register space: no memory commands */
            reply = mem_read(&t, 0, name, scratch(), 4);
            check_error(reply, ERR_MEM_SPACE);
            continue;
        }
        g_test_message("memory space %s", name);
        for (j = 0; j < sizeof(buf); j++) {
            buf[j] = j * 7 + i;
        }
        reply = mem_write(&t, name, addr, buf, sizeof(buf));
        g_assert_cmpstr(reply, ==, "success");
        g_free(reply);
        reply = mem_read(&t, 0, name, addr, sizeof(buf));
        hex = to_hex(buf, sizeof(buf));
        g_assert_cmpstr(reply, ==, hex);
        /* what QEMU itself sees there */
        qtest_memread(t.qts, addr, back, sizeof(back));
        g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));

        /* the counter, as the guest left it */
        g_free(reply);
        g_free(hex);
        reply = mem_read(&t, 0, name, counter_addr(0), 4);
        hex = ram_hex(&t, counter_addr(0));
        g_assert_cmpstr(reply, ==, hex);

        /* across the end of RAM: refused, and nothing written */
        qtest_memwrite(t.qts, ram_end() - 8, last, sizeof(last));
        memset(buf, 0, 16);
        g_free(reply);
        reply = mem_write(&t, name, ram_end() - 8, buf, 16);
        check_error(reply, ERR_WRITE);
        qtest_memread(t.qts, ram_end() - 8, back, sizeof(last));
        g_assert_cmpmem(back, sizeof(last), last, sizeof(last));
        g_free(reply);
        reply = mem_read(&t, 0, name, ram_end() - 8, 16);
        check_error(reply, ERR_READ);
        /* the last bytes of RAM read as they are */
        g_free(reply);
        g_free(hex);
        reply = mem_read(&t, 0, name, ram_end() - 8, 8);
        hex = to_hex(last, sizeof(last));
        g_assert_cmpstr(reply, ==, hex);
        n++;
    }
    g_assert_cmpint(n, ==, 3);

    /* the guest's code, through the logical space */
    g_free(reply);
    reply = mem_read(&t, 0, logical_name(), store_insn(), 4);
    g_assert_cmpstr(reply, ==, is_riscv32() ? "23207300" :
                               is_riscv() ? "23307300" : "66ff07eb");
    g_free(reply);
    reply = mem_read(&t, 0, logical_name(), reset_vector(), 4);
    g_assert_cmpstr(reply, ==, is_riscv() ? "97020000" : "e90d0090");

    /* nothing there: an error, not zeros */
    g_free(reply);
    reply = mem_read(&t, 0, "Physical", 0x100000000ULL + ram_end(), 4);
    check_error(reply, ERR_READ);

    /* more than max_data (16 KiB) at once is refused */
    g_free(reply);
    reply = mem_read(&t, 0, "Physical", scratch(), 16 * 1024 + 1);
    check_error(reply, ERR_PARAM);

    /* the guest ran on */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    target_end(&t);
}

/*
 * Triggers, steps, run control, resets
 */

/* A breakpoint stops the core before the instruction, at its address. */
static void test_breakpoint(void)
{
    Target t = { 0 };
    uint64_t bp = store_insn();
    g_autofree char *set = g_strdup_printf("t0;1;%" PRIu64 ";7", bp);
    g_autofree char *clear = g_strdup_printf("T0;1;%" PRIu64 ";7", bp);
    g_autofree char *stop_str = g_strdup_printf("stopped at a breakpoint "
                                                "at 0x%" PRIx64, bp);
    g_autofree char *st = NULL;
    uint64_t c;

    target_start(&t, "");
    run_into_loop(&t, 1);
    mcd_check_reply(t.fd, set, "success");
    /* set already */
    check_cmd_error(&t, set, ERR_TRIG_CREATE);

    mcd_check_reply(t.fd, "C1;0", "success");
    st = wait_stop(&t, 0);
    check_stop(st, stop_str, 1, 7, bp, 0);
    g_assert_cmphex(read_reg(&t, 0, pc_name()), ==, pc_reg_of(bp));
    /* the record stays, without the event */
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=0."));
    check_stop(st, stop_str, 1, 7, bp, 0);

    /* go steps off it: the loop goes round once and stops there again */
    c = counter(&t, 0);
    mcd_check_reply(t.fd, "C0;0", "success");
    g_free(st);
    st = wait_stop(&t, 0);
    check_stop(st, stop_str, 1, 7, bp, 0);
    g_assert_cmpuint(counter(&t, 0), ==, c + 1);

    /* removed, the guest runs past */
    mcd_check_reply(t.fd, clear, "success");
    check_cmd_error(&t, clear, ERR_TRIG_ACCESS);
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=running."));
    target_end(&t);
}

/* Watchpoints stop the core after the access, with the data address. */
static void test_watchpoint(void)
{
    Target t = { 0 };
    uint64_t data = counter_addr(0);
    size_t len = is_riscv() && !is_riscv32() ? 8 : 4;
    g_autofree char *set = g_strdup_printf("t0;3;%" PRIu64 ";9;%zu", data, len);
    g_autofree char *clear = g_strdup_printf("T0;3;%" PRIu64 ";9;%zu",
                                             data, len);
    g_autofree char *stop_str = NULL;
    g_autofree char *st = NULL;
    uint64_t c, read_pc;

    target_start(&t, "");
    run_into_loop(&t, 1);

    /* a write watchpoint: the store is done, the PC after it */
    mcd_check_reply(t.fd, set, "success");
    c = counter(&t, 0);
    mcd_check_reply(t.fd, "C1;0", "success");
    st = wait_stop(&t, 0);
    stop_str = g_strdup_printf("stopped by a write watchpoint hit at 0x%" PRIx64
                               " (pc 0x%" PRIx64 ")", data, after_store());
    check_stop(st, stop_str, 3, 9, after_store(), data);
    g_assert_cmphex(read_reg(&t, 0, pc_name()), ==, pc_reg_of(after_store()));
    g_assert_cmpuint(counter(&t, 0), ==, c + 1);
    if (is_riscv()) {
        g_assert_cmpuint(read_reg(&t, 0, "t2"), ==, c + 1);
    }
    /* once more round the loop */
    mcd_check_reply(t.fd, "C0;0", "success");
    g_free(st);
    st = wait_stop(&t, 0);
    check_stop(st, stop_str, 3, 9, after_store(), data);
    g_assert_cmpuint(counter(&t, 0), ==, c + 2);
    mcd_check_reply(t.fd, clear, "success");

    /* a read watchpoint on the second half of the counter */
    g_free(set);
    g_free(clear);
    set = g_strdup_printf("t0;2;%" PRIu64 ";3;2", data + 2);
    clear = g_strdup_printf("T0;2;%" PRIu64 ";3;2", data + 2);
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_free(st);
    st = wait_stop(&t, 0);
    /* the load: ld on RISC-V, the read of inc on x86 */
    read_pc = is_riscv() ? RV_LOOP + 4 : after_store();
    g_free(stop_str);
    stop_str = g_strdup_printf("stopped by a read watchpoint hit at 0x%" PRIx64
                               " (pc 0x%" PRIx64 ")", data + 2, read_pc);
    check_stop(st, stop_str, 2, 3, read_pc, data + 2);
    mcd_check_reply(t.fd, clear, "success");

    /* a watchpoint elsewhere does not fire */
    g_free(set);
    set = g_strdup_printf("t0;4;%" PRIu64 ";0;4", data + 64);
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=running."));
    target_end(&t);
}

/*
 * Step @cmd from the instruction @from of the loop: the core must stop
 * after @n instructions, at the one @n further, with the counter
 * stored as often as the loop says.
 */
static size_t check_step(Target *t, const char *cmd, size_t from, size_t n)
{
    size_t len, i, stores = 0;
    const Insn *loop = guest_loop(&len);
    size_t to = (from + n) % len;
    uint64_t c = counter(t, 0);
    g_autofree char *st = NULL;
    g_autofree char *stop_str = g_strdup_printf("stopped after a step at 0x%"
                                                PRIx64, loop[to].addr);

    for (i = 0; i < n; i++) {
        stores += loop[(from + i) % len].store;
    }
    mcd_check_reply(t->fd, cmd, "success");
    st = wait_stop(t, 0);
    check_stop(st, stop_str, 0, 0, loop[to].addr, 0);
    g_assert_cmphex(read_reg(t, 0, pc_name()), ==, pc_reg_of(loop[to].addr));
    g_assert_cmpuint(counter(t, 0), ==, c + stores);
    g_free(st);
    st = mcd_query(t->fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=0."));
    return to;
}

/* A step executes one instruction; a count of them, that many. */
static void test_step(void)
{
    Target t = { 0 };
    size_t len, at;
    const Insn *loop = guest_loop(&len);
    g_autofree char *reply = NULL;

    target_start(&t, "");
    run_into_loop(&t, 1);
    /* from the start of the loop */
    set_reg(&t, pc_name(), pc_reg_of(loop[0].addr));
    at = check_step(&t, "c0;0", 0, 1);
    at = check_step(&t, "c0;0", at, 1);
    at = check_step(&t, "c0;0;1", at, 1);
    at = check_step(&t, "c0;0;2", at, 2);
    at = check_step(&t, "c0;0;5", at, 5);
    at = check_step(&t, "c0;0;100", at, 100);
    check_step(&t, "c0;0", at, 1);
    check_cmd_error(&t, "c0;0;0", ERR_PARAM);
    check_cmd_error(&t, "c1;0", ERR_UNIMPL);

    /* a running core cannot step */
    mcd_check_reply(t.fd, "C0;0", "success");
    check_cmd_error(&t, "c0;0", ERR_USAGE);
    g_assert_true(counter_moves(&t, 0));
    target_end(&t);
}

/* Go and break, for the whole system and for the core. */
static void test_run_control(void)
{
    Target t = { 0 };
    g_autofree char *st = NULL;
    uint64_t pc;

    target_start(&t, "");
    /* -S: the guest never ran */
    st = mcd_query(t.fd, "qstate0");
    g_assert_cmpstr(st, ==, "state=halted.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=vm halted since boot."
                    "trig_id=0.pc=0.data_addr=0.");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_cmpstr(st, ==, "state=running.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=vm running since boot."
                    "trig_id=0.pc=0.data_addr=0.");

    /* a global break: stopped on request, in the loop */
    mcd_check_reply(t.fd, "b1;0", "success");
    g_assert_true(counter_stays(&t, 0));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=16."));
    pc = mcd_rec_get_u64(st, "pc");
    g_assert_cmphex(pc_reg_of(pc), ==, read_reg(&t, 0, pc_name()));
    g_assert_cmphex(pc, >=, is_riscv() ? RV_LOOP : X86_BASE + X86_LOOP_IP);
    g_assert_cmphex(pc, <=, is_riscv() ? RV_LOOP + 12 : X86_BASE + X86_JMP_IP);
    g_assert_nonnull(strstr(st, ".stop_str=stopped on request."
                            "info_str=core 0 stopped by the debugger."));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=0."));
    /* the VM as a whole: the run state debug */
    g_free(st);
    st = mcd_run_state(t.qts);
    g_assert_cmpstr(st, ==, "debug");

    /* the core alone */
    mcd_check_reply(t.fd, "C0;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_check_running(t.qts);
    mcd_check_reply(t.fd, "b0;0", "success");
    g_assert_true(counter_stays(&t, 0));

    /* detaching lets the guest the debugger stopped run again */
    mcd_check_reply(t.fd, "D", "success");
    mcd_check_running(t.qts);
    g_assert_true(counter_moves(&t, 0));
    target_quit(&t);
}

/* Resets really happen; with halt the core stops at its reset vector. */
static void test_reset(void)
{
    Target t = { 0 };
    g_autofree char *st = NULL;
    g_autofree char *stop_str = g_strdup_printf("stopped at the reset vector "
                                                "0x%" PRIx64, reset_vector());
    uint64_t first = is_riscv() ? RV_RESET + 4 : X86_BASE;
    QDict *ev;

    target_start(&t, "");
    run_into_loop(&t, 1);

    /* a system reset and halt: before the first instruction */
    mcd_check_reply(t.fd, "r0;0;1", "success");
    st = reset_stop(&t);
    check_stop(st, stop_str, 0, 0, reset_vector(), 0);
    g_assert_cmphex(read_reg(&t, 0, pc_name()), ==,
                    is_riscv() ? RV_RESET : 0xfff0);
    if (is_riscv()) {
        g_assert_cmphex(read_reg(&t, 0, "priv"), ==, 3);
    } else {
        g_assert_cmphex(read_reg(&t, 0, "cs"), ==, 0xf000);
        g_assert_cmphex(read_reg(&t, 0, ptr_name()), ==, 0);
        g_assert_cmphex(read_reg(&t, 0, "cr0"), ==, 0x60000010);
    }
    g_assert_true(counter_stays(&t, 0));
    /* QEMU's own reset, asked for by a user at the host */
    ev = qtest_qmp_eventwait_ref(t.qts, "RESET");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"), ==,
                    "host-ui");
    qobject_unref(ev);
    /* the first instruction: the MROM's, or the jump to the guest */
    g_free(stop_str);
    stop_str = g_strdup_printf("stopped after a step at 0x%" PRIx64, first);
    mcd_check_reply(t.fd, "c0;0", "success");
    g_free(st);
    st = wait_stop(&t, 0);
    check_stop(st, stop_str, 0, 0, first, 0);

    /*
     * A system reset without halt, of a running guest: it starts again
     * and counts where it did at first, not where a register write
     * made it count since.
     */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_check_reply(t.fd, "b1;0", "success");
    set_reg(&t, ptr_name(), alt_counter());
    qtest_writel(t.qts, alt_counter(), 0);
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_at_moves(&t, alt_counter(), 1000));
    g_assert_true(counter_stays(&t, 0));
    mcd_check_reply(t.fd, "r0;0;0", "success");
    mcd_check_running(t.qts);
    g_assert_true(counter_moves(&t, 0));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=running."));

    /* a core reset and halt: the CPU's reset vector */
    mcd_check_reply(t.fd, "r1;0;1", "success");
    g_free(st);
    st = reset_stop(&t);
    g_free(stop_str);
    stop_str = g_strdup_printf("stopped at the reset vector 0x%" PRIx64,
                               reset_vector());
    check_stop(st, stop_str, 0, 0, reset_vector(), 0);
    g_assert_cmphex(read_reg(&t, 0, pc_name()), ==,
                    is_riscv() ? RV_RESET : 0xfff0);
    g_assert_true(counter_stays(&t, 0));

    /* a system reset of a guest the debugger stopped leaves it stopped */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_check_reply(t.fd, "b1;0", "success");
    mcd_check_reply(t.fd, "r0;0;0", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug."));
    g_assert_true(counter_stays(&t, 0));
    check_cmd_error(&t, "r2;0;1", ERR_PARAM);

    /* detaching lets it run */
    mcd_check_reply(t.fd, "D", "success");
    mcd_check_running(t.qts);
    g_assert_true(counter_moves(&t, 0));
    target_quit(&t);
}

/*
 * With "notify", a reset and halt sends "%stop=<core>." for each core
 * it halts, as a trigger hit or the end of steps does.
 */
static void test_reset_notify(void)
{
    Target t = { 0 };
    g_autofree char *note = NULL;
    g_autofree char *stop_str = g_strdup_printf("stopped at the reset vector "
                                                "0x%" PRIx64, reset_vector());

    target_start(&t, "");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_drop_notifications();

    /* a system reset and halt of the running guest */
    mcd_check_reply(t.fd, "r0;0;1", "success");
    note = reset_stop(&t);
    check_stop(note, stop_str, 0, 0, reset_vector(), 0);

    /* a core reset and halt of the running core */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_check_reply(t.fd, "r1;0;1", "success");
    g_free(note);
    note = reset_stop(&t);
    check_stop(note, stop_str, 0, 0, reset_vector(), 0);
    target_end(&t);
}

/*
 * Detaching from a core stopped at a breakpoint lets the guest run, and
 * removes every trigger: the guest runs through them.
 */
static void test_detach(void)
{
    Target t = { 0 };
    g_autofree char *bp = g_strdup_printf("t0;1;%" PRIu64 ";1", store_insn());
    g_autofree char *wp = g_strdup_printf("t0;3;%" PRIu64 ";2;4",
                                          counter_addr(0));
    g_autofree char *st = NULL;
    g_autofree char *stop_str = g_strdup_printf("stopped at a breakpoint "
                                                "at 0x%" PRIx64, store_insn());

    target_start(&t, "");
    mcd_check_reply(t.fd, bp, "success");
    mcd_check_reply(t.fd, wp, "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    /* the breakpoint comes before the store */
    st = wait_stop(&t, 0);
    check_stop(st, stop_str, 1, 1, store_insn(), 0);
    g_free(st);
    st = mcd_run_state(t.qts);
    g_assert_cmpstr(st, ==, "debug");

    mcd_check_reply(t.fd, "D", "success");
    mcd_check_running(t.qts);
    g_assert_true(counter_moves(&t, 0));
    mcd_check_running(t.qts);

    /* a new session finds the core running and no trigger set */
    mcd_check_handshake(t.fd);
    mcd_check_reply(t.fd, "qprotocol" EXTENSIONS, PROTOCOL(EXTENSIONS));
    mcd_check_reply(t.fd, "i0", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=running."));
    bp[0] = 'T';
    wp[0] = 'T';
    check_cmd_error(&t, bp, ERR_TRIG_ACCESS);
    check_cmd_error(&t, wp, ERR_TRIG_ACCESS);
    /* and nothing stopped meanwhile */
    g_assert_cmpuint(mcd_drain(t.fd), ==, 0);
    target_end(&t);
}

/*
 * RISC-V
 */

/* Each hart is held, stepped, stopped by its triggers, released alone. */
static void test_riscv_smp(void)
{
    Target t = { 0 };
    g_autofree char *st = NULL;
    g_autofree char *bp = g_strdup_printf("t1;1;%" PRIu64 ";4", store_insn());
    g_autofree char *stop_str = NULL;
    char *sts[2] = { NULL, NULL };
    uint64_t pc;

    target_start(&t, "-smp 2");
    mcd_check_reply(t.fd, "i1", "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    g_assert_true(counter_moves(&t, 1));

    /* holding hart 1 leaves hart 0 running */
    mcd_check_reply(t.fd, "b0;1", "success");
    st = mcd_query(t.fd, "qstate1");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=16."));
    g_assert_nonnull(strstr(st, "stop_str=stopped on request.info_str=core "
                            "1 stopped by the debugger."));
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=running."));
    g_assert_true(counter_stays(&t, 1));
    g_assert_true(counter_moves(&t, 0));
    g_free(st);
    st = mcd_run_state(t.qts);
    g_assert_cmpstr(st, ==, "running");

    /* hart 1's own registers */
    g_assert_cmphex(read_reg(&t, 1, "mhartid"), ==, 1);
    g_assert_cmphex(read_reg(&t, 1, "t0"), ==, 8);
    g_assert_cmphex(read_reg(&t, 1, "t1"), ==, counter_addr(1));

    /* hart 1 steps while hart 0 runs on */
    pc = read_reg(&t, 1, "pc");
    mcd_check_reply(t.fd, "c0;1", "success");
    g_free(st);
    st = wait_stop(&t, 1);
    pc = pc == RV_LOOP + 12 ? RV_LOOP : pc + 4;
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), ==, pc);
    g_assert_cmphex(read_reg(&t, 1, "pc"), ==, pc);
    g_assert_true(counter_moves(&t, 0));

    /* released, it counts again */
    mcd_check_reply(t.fd, "C0;1", "success");
    g_assert_true(counter_moves(&t, 1));
    g_assert_true(counter_moves(&t, 0));

    /* a breakpoint of hart 1 stops hart 1, then the VM */
    mcd_check_reply(t.fd, bp, "success");
    g_free(st);
    st = wait_stop(&t, 1);
    stop_str = g_strdup_printf("stopped at a breakpoint at 0x%" PRIx64,
                               store_insn());
    check_stop(st, stop_str, 1, 4, store_insn(), 0);
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_nonnull(strstr(st, "stop_str=stopped because core 1 stopped."));
    g_assert_true(counter_stays(&t, 0));
    g_assert_true(counter_stays(&t, 1));
    bp[0] = 'T';
    mcd_check_reply(t.fd, bp, "success");

    /* hart 0 goes alone */
    mcd_check_reply(t.fd, "C0;0", "success");
    g_assert_true(counter_moves(&t, 0));
    g_assert_true(counter_stays(&t, 1));

    /* a system reset and halt stops both at the reset vector */
    mcd_check_reply(t.fd, "r0;0;1", "success");
    g_free(stop_str);
    stop_str = g_strdup_printf("stopped at the reset vector 0x%" PRIx64,
                               reset_vector());
    reset_stops(&t, sts, 2);
    check_stop(sts[0], stop_str, 0, 0, RV_RESET, 0);
    check_stop(sts[1], stop_str, 0, 0, RV_RESET, 0);
    g_free(sts[0]);
    g_free(sts[1]);
    g_assert_cmphex(read_reg(&t, 1, "pc"), ==, RV_RESET);
    g_assert_true(counter_stays(&t, 0));

    /* detaching lets both run */
    mcd_check_reply(t.fd, "D", "success");
    g_assert_true(counter_moves(&t, 0));
    g_assert_true(counter_moves(&t, 1));
    mcd_check_running(t.qts);
    target_quit(&t);
}

/* Sv39: a root table of 1 GiB leaves */
#define RV_PT_ROOT      0x80010000ULL
#define PTE_V           0x01
#define PTE_R           0x02
#define PTE_W           0x04
#define PTE_X           0x08
#define PTE_U           0x10
#define PTE_A           0x40
#define PTE_D           0x80
#define PTE_LEAF(pa, flags) \
    ((uint64_t)(pa) >> 12 << 10 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | \
     PTE_D | (flags))
#define SATP_SV39       (8ULL << 60)
/* pmpcfg0's entry 0: NAPOT, R, W, X */
#define PMP_NAPOT_RWX   0x1f

/*
 * Single-threaded TCG: with hart 0 held before the machine ever ran,
 * hart 1 runs alone when it is started, and hart 0 later.
 */
static void test_riscv_single_thread(void)
{
    Target t = { 0 };

    target_start_accel(&t, "tcg,thread=single", "-smp 2");
    mcd_check_reply(t.fd, "i1", "success");
    mcd_check_reply(t.fd, "b0;0", "success");
    mcd_check_reply(t.fd, "C0;1", "success");
    g_assert_true(counter_moves(&t, 1));
    g_assert_true(counter_stays(&t, 0));
    g_assert_cmpuint(counter(&t, 0), ==, 0);
    mcd_check_reply(t.fd, "C0;0", "success");
    g_assert_true(counter_moves(&t, 0));
    g_assert_true(counter_moves(&t, 1));
    target_end(&t);
}

/*
 * An RV32 hart (qemu-system-riscv64 -cpu rv32, or any hart of
 * qemu-system-riscv32): 32-bit registers, breakpoints, steps and memory
 * through its spaces, which end at 4 GiB.
 */
static void test_riscv_rv32(void)
{
    Target t = { .rv32 = true };
    g_autofree char *reply = NULL;
    g_autofree char *note = NULL;
    g_autofree char *code = NULL;
    g_autofree char *cmd = NULL;
    uint8_t le[sizeof(guest_rv32)];
    uint64_t pc;
    size_t i;

    target_start(&t, "-cpu rv32");
    g_assert_cmpuint(reg_bytes(&t, "pc"), ==, 4);
    g_assert_cmpuint(reg_bytes(&t, "t1"), ==, 4);
    /*
     * gdbstub reads CSRs as target_ulong: in qemu-system-riscv64 64 bits
     * wide also for an RV32 hart, and the stub takes the width it reads.
     */
    g_assert_cmpuint(reg_bytes(&t, "misa"), ==, is_riscv32() ? 4 : 8);

    run_into_loop(&t, 1);
    pc = read_reg(&t, 0, "pc");
    g_assert_cmphex(pc, >=, RV_LOOP);
    g_assert_cmphex(pc, <, RV_LOOP + 16);
    g_assert_cmphex(read_reg(&t, 0, "t1"), ==, RV_COUNTERS);
    /* MXL 1: RV32 */
    g_assert_cmphex(read_reg(&t, 0, "misa") >> 30, ==, 1);
    set_reg(&t, "t2", 0x89abcdef);

    /* a breakpoint, and a step after it */
    cmd = g_strdup_printf("t0;1;%llu;3", RV_LOOP + 4);
    mcd_check_reply(t.fd, cmd, "success");
    mcd_check_reply(t.fd, "C0;0", "success");
    note = wait_stop(&t, 0);
    g_assert_cmphex(mcd_rec_get_u64(note, "pc"), ==, RV_LOOP + 4);
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, RV_LOOP + 4);
    cmd[0] = 'T';
    mcd_check_reply(t.fd, cmd, "success");
    mcd_check_reply(t.fd, "c0;0", "success");
    g_free(note);
    note = wait_stop(&t, 0);
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, RV_LOOP + 8);

    /* the code through the Supervisor space (satp is bare) */
    for (i = 0; i < ARRAY_SIZE(guest_rv32); i++) {
        stl_le_p(le + 4 * i, guest_rv32[i]);
    }
    code = to_hex(le, sizeof(le));
    check_view(&t, "Supervisor", RV_BASE, code);
    check_view(&t, "Physical", RV_BASE, code);
    /* the logical spaces end at 4 GiB, the physical one does not */
    reply = mem_read(&t, 0, "Supervisor", 0xfffffffcULL, 8);
    check_error(reply, ERR_READ);
    g_assert_nonnull(strstr(reply, "beyond the 32-bit address space"));
    target_end(&t);
}

/* The Supervisor and User spaces walk satp's tables as a load would. */
static void test_riscv_mmu(void)
{
    Target t = { 0 };
    /*
     * The user page has A and D clear: a load or store of the hart would
     * set them (Svadu), the debugger's walk must not.
     */
    uint64_t root[4] = {
        0, PTE_LEAF(0x80000000, PTE_U) & ~(uint64_t)(PTE_A | PTE_D),
        PTE_LEAF(0x80000000, 0), 0,
    };
    static const uint8_t pattern[8] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };
    g_autofree char *counter_hex = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *st = NULL;
    size_t i;

    target_start(&t, "");
    run_into_loop(&t, 1);
    for (i = 0; i < ARRAY_SIZE(root); i++) {
        root[i] = cpu_to_le64(root[i]);
    }
    qtest_memwrite(t.qts, RV_PT_ROOT, root, sizeof(root));

    /* Bare first: the logical spaces are the physical one */
    counter_hex = mem_read(&t, 0, "Physical", RV_COUNTERS, 16);
    g_assert_cmpuint(strlen(counter_hex), ==, 32);
    check_view(&t, "Supervisor", RV_COUNTERS, counter_hex);
    check_view(&t, "User", RV_COUNTERS, counter_hex);

    /* Sv39, written through the stub: the hart stays in M-mode */
    set_reg(&t, "satp", SATP_SV39 | RV_PT_ROOT >> 12);
    /*
     * As a load in S-mode: the hart has PMP and no entry yet, so S-mode
     * may not even read the page tables (mcdstub applies the PMP to the
     * walk's PTE reads, as the hart does).
     */
    g_free(reply);
    reply = mem_read(&t, 0, "Supervisor", 0x40002000, 4);
    check_error(reply, ERR_READ);
    /* what firmware such as OpenSBI does: all memory for S and U */
    set_reg(&t, "pmpaddr0", ~0ULL >> 10);
    set_reg(&t, "pmpcfg0", PMP_NAPOT_RWX);
    /* a user page: both see it (SUM for the supervisor) */
    check_view(&t, "Supervisor", 0x40002000, counter_hex);
    check_view(&t, "User", 0x40002000, counter_hex);
    /* a supervisor page: not for the user */
    check_view(&t, "Supervisor", 0x80002000, counter_hex);
    g_free(reply);
    reply = mem_read(&t, 0, "User", 0x80002000, 4);
    check_error(reply, ERR_READ);
    /* not mapped at all */
    g_free(reply);
    reply = mem_read(&t, 0, "Supervisor", 0xc0000000, 4);
    check_error(reply, ERR_READ);
    g_free(reply);
    reply = mem_read(&t, 0, "Supervisor", 0x40000000ULL << 8, 4);
    check_error(reply, ERR_READ);

    /* a write through a mapping lands where it maps to */
    g_free(reply);
    reply = mem_write(&t, "Supervisor", 0x40000000 + 0x100000, pattern,
                      sizeof(pattern));
    g_assert_cmpstr(reply, ==, "success");
    g_assert_cmphex(qtest_readq(t.qts, RV_SCRATCH), ==,
                    ldq_le_p(pattern));
    g_free(reply);
    reply = mem_write(&t, "User", 0x40000000 + 0x100008, pattern,
                      sizeof(pattern));
    g_assert_cmpstr(reply, ==, "success");
    g_assert_cmphex(qtest_readq(t.qts, RV_SCRATCH + 8), ==,
                    ldq_le_p(pattern));
    /* and one that is not allowed or not mapped writes nothing */
    qtest_writeq(t.qts, RV_SCRATCH + 16, 0);
    g_free(reply);
    reply = mem_write(&t, "User", 0x80000000 + 0x100010, pattern,
                      sizeof(pattern));
    check_error(reply, ERR_WRITE);
    g_free(reply);
    reply = mem_write(&t, "Supervisor", 0xc0000000, pattern,
                      sizeof(pattern));
    check_error(reply, ERR_WRITE);
    /* across the end of the mapping: all or nothing */
    g_free(reply);
    reply = mem_write(&t, "Supervisor", 0xbffffffc, pattern,
                      sizeof(pattern));
    check_error(reply, ERR_WRITE);
    g_assert_cmphex(qtest_readq(t.qts, RV_SCRATCH + 16), ==, 0);

    /* the walk changed nothing: no A/D updates, same tables */
    for (i = 0; i < ARRAY_SIZE(root); i++) {
        g_assert_cmphex(qtest_readq(t.qts, RV_PT_ROOT + 8 * i), ==,
                        le64_to_cpu(root[i]));
    }

    /* the hart runs on in M-mode, untranslated */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_check_reply(t.fd, "b1;0", "success");
    st = mcd_query(t.fd, "qstate0");
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), >=, RV_LOOP);
    g_assert_cmphex(mcd_rec_get_u64(st, "pc"), <, RV_LOOP + 16);

    /* Bare again */
    set_reg(&t, "satp", 0);
    g_free(counter_hex);
    counter_hex = mem_read(&t, 0, "Physical", RV_COUNTERS, 16);
    check_view(&t, "Supervisor", 0x80002000, counter_hex);
    check_view(&t, "User", 0x80002000, counter_hex);
    mcd_check_reply(t.fd, "C1;0", "success");
    target_end(&t);
}

/*
 * x86
 */

/* 32-bit paging with 4 MiB pages (PSE) */
#define X86_PD          0x10000ULL
#define PDE_4M(pa)      ((uint32_t)(pa) | 0x83)     /* P, RW, PS */
#define CR0_PE          0x1
#define CR0_PG          0x80000000
#define CR4_PSE         0x10

/*
 * The Linear space with paging on: the guest's linear 0x400000 is
 * physical 0, 0x800000 is not mapped; the guest runs on with paging.
 */
static void test_x86_paging(void)
{
    Target t = { 0 };
    static const uint8_t pattern[8] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4 };
    g_autofree char *counter_hex = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *st = NULL;
    uint64_t pc;

    target_start(&t, "");
    run_into_loop(&t, 1);
    qtest_memset(t.qts, X86_PD, 0, 4096);
    qtest_writel(t.qts, X86_PD, PDE_4M(0));
    qtest_writel(t.qts, X86_PD + 4, PDE_4M(0));
    qtest_writel(t.qts, X86_PD + 4 * 1023, PDE_4M(0xffc00000));
    set_reg(&t, "cr3", X86_PD);
    set_reg(&t, "cr4", CR4_PSE);
    set_reg(&t, "cr0", 0x60000010 | CR0_PG | CR0_PE);

    counter_hex = mem_read(&t, 0, "Physical", X86_COUNTER, 4);
    check_view(&t, "Linear", 0x400000 + X86_COUNTER, counter_hex);
    check_view(&t, "Linear", X86_COUNTER, counter_hex);
    check_view(&t, "Linear", X86_RESET, "e90d0090");
    g_free(reply);
    reply = mem_read(&t, 0, "Linear", 0x800000, 4);
    check_error(reply, ERR_READ);

    /* writes: through the mapping, and none to what is not mapped */
    g_free(reply);
    reply = mem_write(&t, "Linear", 0x400000 + 0x3000, pattern,
                      sizeof(pattern));
    g_assert_cmpstr(reply, ==, "success");
    g_assert_cmphex(qtest_readq(t.qts, 0x3000), ==, ldq_le_p(pattern));
    qtest_writeq(t.qts, 0x3ffffc, 0);
    g_free(reply);
    reply = mem_write(&t, "Linear", 0x7ffffc, pattern, sizeof(pattern));
    check_error(reply, ERR_WRITE);
    g_assert_cmphex(qtest_readq(t.qts, 0x3ffffc), ==, 0);
    g_free(reply);
    reply = mem_write(&t, "Linear", 0x800000, pattern, sizeof(pattern));
    check_error(reply, ERR_WRITE);

    /* the guest runs on with paging; its PC is still linear */
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    mcd_check_reply(t.fd, "b1;0", "success");
    st = mcd_query(t.fd, "qstate0");
    pc = mcd_rec_get_u64(st, "pc");
    g_assert_true(pc == X86_BASE + X86_LOOP_IP || pc == X86_BASE + X86_JMP_IP);
    g_assert_cmphex(read_reg(&t, 0, "cr0"), ==, 0x60000010 | CR0_PG | CR0_PE);

    /* paging off: linear is physical again */
    set_reg(&t, "cr0", 0x60000010);
    qtest_writel(t.qts, 0x403000, 0x55667788);
    check_view(&t, "Linear", 0x403000, "88776655");
    check_view(&t, "Linear", 0x3000, "deadbeef");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    target_end(&t);
}

/* The MCH's SMRAM and ESMRAMC registers (config space of 0:0.0) */
#define MCH_SMRAM       0x9d
#define SMRAM_G_SMRAME  0x08
#define SMRAM_C_BASE    0x02
#define MCH_ESMRAMC     0x9e
#define ESMRAMC_DEFAULT 0x38
#define ESMRAMC_T_EN    0x01        /* with TSEG_SZ 0: 1 MiB */
/* TSEG: the last MiB of RAM below 4 GiB */
#define X86_TSEG        (X86_RAM_END - 0x100000)

static void mch_write(Target *t, uint8_t reg, uint8_t value)
{
    qtest_outl(t->qts, 0xcf8, 0x80000000 | (reg & ~3));
    qtest_outb(t->qts, 0xcfc + (reg & 3), value);
}

/*
 * The SMRAM space: with TSEG enabled, the last MiB of RAM is SMRAM that
 * only SMM sees; outside SMM it is a black hole (reads all ones, writes
 * ignored).
 */
static void test_x86_smram(void)
{
    Target t = { 0 };
    g_autofree char *reply = NULL;

    target_start(&t, "");
    run_into_loop(&t, 1);
    qtest_writel(t.qts, X86_TSEG, 0x11223344);
    check_view(&t, "SMRAM", X86_TSEG, "44332211");
    check_view(&t, "Physical", X86_TSEG, "44332211");

    mch_write(&t, MCH_ESMRAMC, ESMRAMC_DEFAULT | ESMRAMC_T_EN);
    mch_write(&t, MCH_SMRAM, SMRAM_G_SMRAME | SMRAM_C_BASE);
    check_view(&t, "SMRAM", X86_TSEG, "44332211");
    check_view(&t, "Physical", X86_TSEG, "ffffffff");
    check_view(&t, "Linear", X86_TSEG, "ffffffff");
    reply = mem_write(&t, "SMRAM", X86_TSEG, "\x5a\x5a\xa5\xa5", 4);
    g_assert_cmpstr(reply, ==, "success");
    check_view(&t, "SMRAM", X86_TSEG, "5a5aa5a5");
    check_view(&t, "Physical", X86_TSEG, "ffffffff");
    /* a write outside SMM goes to the black hole */
    g_free(reply);
    reply = mem_write(&t, "Physical", X86_TSEG, "\0\0\0\0", 4);
    g_assert_cmpstr(reply, ==, "success");
    check_view(&t, "SMRAM", X86_TSEG, "5a5aa5a5");
    /* below TSEG, both see the same RAM */
    g_free(reply);
    reply = mem_read(&t, 0, "Physical", X86_COUNTER, 4);
    check_view(&t, "SMRAM", X86_COUNTER, reply);
    g_free(reply);
    reply = mem_read(&t, 0, "Physical", X86_TSEG - 4, 4);
    check_view(&t, "SMRAM", X86_TSEG - 4, reply);
    /* a range across the start of TSEG: RAM, then the black hole */
    qtest_writel(t.qts, X86_TSEG - 4, 0x04030201);
    check_view(&t, "Physical", X86_TSEG - 4, "01020304ffffffff");
    check_view(&t, "SMRAM", X86_TSEG - 4, "010203045a5aa5a5");

    /* TSEG off: the RAM has what the debugger wrote in SMM's view */
    mch_write(&t, MCH_SMRAM, SMRAM_C_BASE);
    mch_write(&t, MCH_ESMRAMC, ESMRAMC_DEFAULT);
    g_assert_cmphex(qtest_readl(t.qts, X86_TSEG), ==, 0xa5a55a5a);
    check_view(&t, "Physical", X86_TSEG, "5a5aa5a5");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));
    target_end(&t);
}

/*
 * A CPU plugged in with device_add: a core from then on, which can be
 * opened, read, held and released; QEMU survives it all.
 */
static void test_x86_hotplug(void)
{
    Target t = { 0 };
    g_autofree char *expected = NULL;
    g_autofree char *st = NULL;
    g_autoptr(GPtrArray) spaces1 = NULL;
    g_autoptr(GPtrArray) regs1 = NULL;
    QDict *rsp, *props = NULL;
    QList *list;
    const QListEntry *e;

    target_start(&t, "-smp 1,maxcpus=2");
    expected = g_strdup_printf("device=q35.core=%s.nr_cores=1.",
                               mcd_cpu_type());
    mcd_check_reply(t.fd, "qcores", expected);
    check_cmd_error(&t, "i1", ERR_PARAM);
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));

    /* the free slot */
    rsp = qtest_qmp(t.qts, "{ 'execute': 'query-hotpluggable-cpus' }");
    list = qdict_get_qlist(rsp, "return");
    g_assert_nonnull(list);
    QLIST_FOREACH_ENTRY(list, e) {
        QDict *cpu = qobject_to(QDict, qlist_entry_obj(e));

        if (!qdict_haskey(cpu, "qom-path")) {
            props = qdict_get_qdict(cpu, "props");
        }
    }
    g_assert_nonnull(props);
    g_assert_cmpint(qdict_get_int(props, "socket-id"), ==, 0);
    g_assert_cmpint(qdict_get_int(props, "core-id"), ==, 1);
    g_assert_cmpint(qdict_get_int(props, "thread-id"), ==, 0);
    qobject_unref(rsp);
    qtest_qmp_assert_success(t.qts, "{ 'execute': 'device_add', "
                             "'arguments': { 'driver': %s, 'id': 'cpu1', "
                             "'socket-id': 0, 'core-id': 1, "
                             "'thread-id': 0 } }", mcd_cpu_type());

    /* a core from now on */
    g_free(expected);
    expected = g_strdup_printf("device=q35.core=%s.nr_cores=2.",
                               mcd_cpu_type());
    mcd_check_reply(t.fd, "qcores", expected);
    mcd_check_reply(t.fd, "i1", "success");
    spaces1 = mcd_query_list(t.fd, "qmemoryf1", "qmemoryc");
    g_assert_cmpuint(spaces1->len, ==, t.spaces->len);
    regs1 = mcd_query_list(t.fd, "qregf1", "qregc");
    g_assert_cmpuint(regs1->len, ==, t.regs->len);
    /* an AP waiting for its start-up IPI, with its reset registers */
    st = mcd_query(t.fd, "qstate1");
    g_assert_cmpstr(st, ==, "state=halted.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=core 1 waits for an "
                    "interrupt or is powered off.trig_id=0.pc=0."
                    "data_addr=0.");
    g_assert_cmphex(read_reg(&t, 1, pc_name()), ==, 0xfff0);
    g_assert_cmphex(read_reg(&t, 1, "cs"), ==, 0xf000);
    g_assert_cmphex(read_reg(&t, 1, "cr0"), ==, 0x60000010);
    /* its view of memory */
    g_free(st);
    st = mem_read(&t, 1, "Linear", X86_RESET, 4);
    g_assert_cmpstr(st, ==, "e90d0090");

    /* held and released while core 0 runs on */
    mcd_check_reply(t.fd, "b0;1", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate1");
    g_assert_true(g_str_has_prefix(st, "state=debug.event=16."));
    g_assert_nonnull(strstr(st, "stop_str=stopped on request.info_str=core "
                            "1 stopped by the debugger."));
    g_assert_true(counter_moves(&t, 0));
    g_free(st);
    st = mcd_run_state(t.qts);
    g_assert_cmpstr(st, ==, "running");
    mcd_check_reply(t.fd, "C0;1", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate1");
    g_assert_true(g_str_has_prefix(st, "state=halted."));
    g_assert_true(counter_moves(&t, 0));

    /* a global stop holds both, a go lets both go */
    mcd_check_reply(t.fd, "b1;0", "success");
    g_assert_true(counter_stays(&t, 0));
    g_free(st);
    st = mcd_query(t.fd, "qstate1");
    g_assert_true(g_str_has_prefix(st, "state=debug."));
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(counter_moves(&t, 0));

    /* QEMU has both CPUs and runs on after the session */
    mcd_check_reply(t.fd, "D", "success");
    rsp = qtest_qmp(t.qts, "{ 'execute': 'query-cpus-fast' }");
    g_assert_cmpuint(qlist_size(qdict_get_qlist(rsp, "return")), ==, 2);
    qobject_unref(rsp);
    mcd_check_running(t.qts);
    g_assert_true(counter_moves(&t, 0));
    target_quit(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/target/lists", test_lists);
    qtest_add_func("/mcd/target/registers", test_registers);
    qtest_add_func("/mcd/target/memory", test_memory);
    qtest_add_func("/mcd/target/breakpoint", test_breakpoint);
    qtest_add_func("/mcd/target/watchpoint", test_watchpoint);
    qtest_add_func("/mcd/target/step", test_step);
    qtest_add_func("/mcd/target/run-control", test_run_control);
    qtest_add_func("/mcd/target/reset", test_reset);
    qtest_add_func("/mcd/target/detach", test_detach);
    if (is_riscv()) {
        qtest_add_func("/mcd/target/riscv/smp", test_riscv_smp);
        if (!is_riscv32()) {
            /* an Sv39 page table */
            qtest_add_func("/mcd/target/riscv/mmu", test_riscv_mmu);
        }
        qtest_add_func("/mcd/target/riscv/rv32", test_riscv_rv32);
        qtest_add_func("/mcd/target/riscv/single-thread",
                       test_riscv_single_thread);
    } else {
        qtest_add_func("/mcd/target/x86/paging", test_x86_paging);
        qtest_add_func("/mcd/target/x86/smram", test_x86_smram);
        qtest_add_func("/mcd/target/x86/hotplug", test_x86_hotplug);
    }
    qtest_add_func("/mcd/target/reset-notify", test_reset_notify);

    return g_test_run();
}
