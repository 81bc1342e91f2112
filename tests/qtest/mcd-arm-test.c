/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QTest for the MCD stub's ARM description: memory spaces (secure and
 * non-secure, logical and physical), register groups, registers and
 * system register opcodes, and the p, P, m and M commands, on
 * qemu-system-arm (cortex-a15) and qemu-system-aarch64 (cortex-a57),
 * with and without TrustZone (-M virt,secure=on).
 *
 * A tiny guest, written here as instruction words, puts known values in
 * its registers, then loops reading VBAR into memory and counting.
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "mcd-util.h"

/* Above the device tree that QEMU writes at the start of RAM. */
#define GUEST_BASE      0x40200000
/* The guest stores VBAR here and its counter after it. */
#define GUEST_RESULT    0x40201000
/* Free RAM for the memory tests. */
#define SCRATCH         0x40300000
/* The end of the 128 MiB of RAM of virt. */
#define RAM_END         0x48000000
/* The GICv2 distributor of virt. */
#define GICD_BASE       0x08000000
/* and its CPU interface */
#define GICC_BASE       0x08010000
/* virt's secure-only RAM (secure=on) */
#define SECURE_RAM      0x0e000000
/* A new vector base for both profiles (2 KiB aligned). */
#define NEW_VBAR        0x40380800

/*
 * AArch64: x0-x27 = 0x1000 + n, x28 = GUEST_RESULT, then
 * loop: x29 = VBAR_EL1, [x28] = x29, x30++, [x28 + 8] = x30.
 */
static const uint32_t guest_a64[] = {
    0xd2820000, /* mov x0, #0x1000 */
    0xd2820021, /* mov x1, #0x1001 */
    0xd2820042, /* mov x2, #0x1002 */
    0xd2820063, /* mov x3, #0x1003 */
    0xd2820084, /* mov x4, #0x1004 */
    0xd28200a5, /* mov x5, #0x1005 */
    0xd28200c6, /* mov x6, #0x1006 */
    0xd28200e7, /* mov x7, #0x1007 */
    0xd2820108, /* mov x8, #0x1008 */
    0xd2820129, /* mov x9, #0x1009 */
    0xd282014a, /* mov x10, #0x100a */
    0xd282016b, /* mov x11, #0x100b */
    0xd282018c, /* mov x12, #0x100c */
    0xd28201ad, /* mov x13, #0x100d */
    0xd28201ce, /* mov x14, #0x100e */
    0xd28201ef, /* mov x15, #0x100f */
    0xd2820210, /* mov x16, #0x1010 */
    0xd2820231, /* mov x17, #0x1011 */
    0xd2820252, /* mov x18, #0x1012 */
    0xd2820273, /* mov x19, #0x1013 */
    0xd2820294, /* mov x20, #0x1014 */
    0xd28202b5, /* mov x21, #0x1015 */
    0xd28202d6, /* mov x22, #0x1016 */
    0xd28202f7, /* mov x23, #0x1017 */
    0xd2820318, /* mov x24, #0x1018 */
    0xd2820339, /* mov x25, #0x1019 */
    0xd282035a, /* mov x26, #0x101a */
    0xd282037b, /* mov x27, #0x101b */
    0xd2a8041c, /* mov x28, #0x40200000 */
    0xf282001c, /* movk x28, #0x1000 */
    0xd280001e, /* mov x30, #0x0 */
    0xd538c01d, /* loop: mrs x29, vbar_el1 */
    0xf900039d, /* str x29, [x28] */
    0x910007de, /* add x30, x30, #0x1 */
    0xf900079e, /* str x30, [x28, #8] */
    0x17fffffc, /* b loop */
};
#define LOOP_A64 (GUEST_BASE + 31 * 4)

/*
 * AArch32: r0-r9 = 0x1000 + n, r11 = GUEST_RESULT, sp = 0x100d,
 * lr = 0x100e, then loop: r12 = VBAR, [r11] = r12, r10++, [r11 + 4] = r10.
 */
static const uint32_t guest_a32[] = {
    0xe3010000, /* movw r0, #4096 */
    0xe3011001, /* movw r1, #4097 */
    0xe3012002, /* movw r2, #4098 */
    0xe3013003, /* movw r3, #4099 */
    0xe3014004, /* movw r4, #4100 */
    0xe3015005, /* movw r5, #4101 */
    0xe3016006, /* movw r6, #4102 */
    0xe3017007, /* movw r7, #4103 */
    0xe3018008, /* movw r8, #4104 */
    0xe3019009, /* movw r9, #4105 */
    0xe301b000, /* movw fp, #4096 */
    0xe344b020, /* movt fp, #16416 */
    0xe301d00d, /* movw sp, #4109 */
    0xe301e00e, /* movw lr, #4110 */
    0xe3a0a000, /* mov sl, #0 */
    0xee1ccf10, /* loop: mrc p15, 0, r12, c12, c0, 0 (VBAR) */
    0xe58bc000, /* str ip, [fp] */
    0xe28aa001, /* add sl, sl, #1 */
    0xe58ba004, /* str sl, [fp, #4] */
    0xeafffffa, /* b loop */
};
#define LOOP_A32 (GUEST_BASE + 15 * 4)

/*
 * AArch64 at EL3: make EL1 AArch32 and non-secure, and return to the
 * AArch32 guest above, placed right after this, in SVC mode.
 */
static const uint32_t guest_el3_to_a32[] = {
    0xd2800620, /* mov x0, #0x31 (SCR_EL3: NS, RW = 0) */
    0xd51e1100, /* msr scr_el3, x0 */
    0xd2803a60, /* mov x0, #0x1d3 (AArch32 SVC, A, I, F masked) */
    0xd51e4000, /* msr spsr_el3, x0 */
    0x10000060, /* adr x0, a32 */
    0xd51e4020, /* msr elr_el3, x0 */
    0xd69f03e0, /* eret */
};

typedef struct ArmTest {
    QTestState *qts;
    int fd;
    bool aa64;
    bool secure;
    GPtrArray *spaces;
    GPtrArray *regs;
} ArmTest;

static bool is_aa64(void)
{
    return g_str_equal(qtest_get_arch(), "aarch64");
}

static uint64_t guest_counter(ArmTest *t)
{
    return t->aa64 ? qtest_readq(t->qts, GUEST_RESULT + 8)
                   : qtest_readl(t->qts, GUEST_RESULT + 4);
}

static uint64_t guest_vbar(ArmTest *t)
{
    return t->aa64 ? qtest_readq(t->qts, GUEST_RESULT)
                   : qtest_readl(t->qts, GUEST_RESULT);
}

static void vm_stop(ArmTest *t)
{
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'stop' }");
}

static void vm_cont(ArmTest *t)
{
    qtest_qmp_assert_success(t->qts, "{ 'execute': 'cont' }");
}

/* Let the guest run until @done says so, for at most 20 s. */
static void run_until(ArmTest *t, bool (*done)(ArmTest *t))
{
    int i;

    vm_cont(t);
    for (i = 0; i < 2000 && !done(t); i++) {
        g_usleep(10 * 1000);
    }
    vm_stop(t);
    g_assert_true(done(t));
}

static bool counter_moved(ArmTest *t)
{
    return guest_counter(t) > 10;
}

/*
 * Start QEMU with the guest loaded and let it run into its loop; stop
 * it, open the session and core 0 and read the core's lists.
 */
static void arm_start_cpu(ArmTest *t, const char *cpu, const char *machine,
                          const char *extra)
{
    g_autofree char *args = g_strdup_printf(
        "-M virt%s -cpu %s -S -device loader,addr=0x%x,cpu-num=0 %s",
        machine, cpu, GUEST_BASE,
        g_str_equal(extra, "el1-aarch32") ? "" : extra);

    t->aa64 = !g_str_equal(cpu, "cortex-a15");
    t->secure = strstr(machine, "secure=on");
    t->qts = mcd_start_with_client(args, &t->fd);
    if (g_str_equal(extra, "el1-aarch32")) {
        /* an AArch64 CPU that runs the AArch32 guest at EL1 */
        qtest_memwrite(t->qts, GUEST_BASE, guest_el3_to_a32,
                       sizeof(guest_el3_to_a32));
        qtest_memwrite(t->qts, GUEST_BASE + sizeof(guest_el3_to_a32),
                       guest_a32, sizeof(guest_a32));
        t->aa64 = false;
    } else if (t->aa64) {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a64, sizeof(guest_a64));
    } else {
        qtest_memwrite(t->qts, GUEST_BASE, guest_a32, sizeof(guest_a32));
    }
    run_until(t, counter_moved);

    mcd_check_reply(t->fd, "I", "shaking your hand");
    mcd_check_ack_only(t->fd, "i0");
    t->spaces = mcd_query_list(t->fd, "qmemoryf0", "qmemoryc");
    t->regs = mcd_query_list(t->fd, "qregf0", "qregc");
}

static void arm_start(ArmTest *t, bool secure, const char *extra)
{
    arm_start_cpu(t, is_aa64() ? "cortex-a57" : "cortex-a15",
                  secure ? ",secure=on" : "", extra);
}

static void arm_end(ArmTest *t)
{
    mcd_check_ack_only(t->fd, "D");
    close(t->fd);
    qtest_quit(t->qts);
    g_ptr_array_free(t->spaces, true);
    g_ptr_array_free(t->regs, true);
}

static uint64_t space_id(ArmTest *t, const char *name)
{
    return mcd_rec_get_u64(mcd_get_named(t->spaces, "memory space", name),
                           "id");
}

static const char *reg_rec(ArmTest *t, const char *name)
{
    return mcd_get_named(t->regs, "register", name);
}

static uint64_t reg_id(ArmTest *t, const char *name)
{
    return mcd_rec_get_u64(reg_rec(t, name), "id");
}

static char *to_hex(const uint8_t *buf, size_t len)
{
    GString *s = g_string_sized_new(len * 2 + 1);
    size_t i;

    for (i = 0; i < len; i++) {
        g_string_append_printf(s, "%02x", buf[i]);
    }
    return g_string_free(s, false);
}

/* Read a register of core @core as a number (little-endian on the wire). */
static uint64_t read_reg(ArmTest *t, int core, const char *name)
{
    g_autofree char *cmd = g_strdup_printf("p%d;%" PRIu64, core,
                                           reg_id(t, name));
    g_autofree char *hex = mcd_query(t->fd, cmd);
    uint64_t v = 0;
    int i;

    g_assert_cmpuint(strlen(hex), ==,
                     mcd_rec_get_u64(reg_rec(t, name), "size") / 4);
    for (i = strlen(hex) / 2 - 1; i >= 0; i--) {
        unsigned byte;

        g_assert_cmpint(sscanf(hex + i * 2, "%2x", &byte), ==, 1);
        v = v << 8 | byte;
    }
    return v;
}

/* Write a register; return the reply. */
static char *write_reg(ArmTest *t, const char *name, uint64_t value)
{
    size_t bytes = mcd_rec_get_u64(reg_rec(t, name), "size") / 8;
    uint64_t le = cpu_to_le64(value);
    g_autofree char *hex = to_hex((uint8_t *)&le, bytes);
    g_autofree char *cmd = g_strdup_printf("P0;%" PRIu64 ";%zu;%s",
                                           reg_id(t, name), bytes, hex);

    return mcd_query(t->fd, cmd);
}

static const char *const spaces_plain[] = {
    "Non Secure", "Physical (Non Secure)", "GPR Registers", NULL,
};
static const char *const spaces_secure[] = {
    "Secure", "Non Secure", "Physical (Secure)", "Physical (Non Secure)",
    "GPR Registers", NULL,
};

static void check_lists(bool secure)
{
    ArmTest t = { 0 };
    const char *const *names;
    const char *sys_space_name;
    g_autoptr(GPtrArray) groups = NULL;
    uint64_t gpr, sys;
    size_t i;

    arm_start(&t, secure, "");
    names = secure ? spaces_secure : spaces_plain;
    sys_space_name = t.aa64 ? "CP Registers" : "CP15 Registers";

    /* memory spaces: in this order, ids from 1, the CP space last */
    for (i = 0; names[i]; i++) {
        const char *rec = g_ptr_array_index(t.spaces, i);
        g_autofree char *name = mcd_rec_get(rec, "name");

        g_assert_cmpstr(name, ==, names[i]);
        g_assert_cmpuint(mcd_rec_get_u64(rec, "id"), ==, i + 1);
    }
    g_assert_cmpuint(t.spaces->len, ==, i + 1);
    g_assert_cmpuint(space_id(&t, sys_space_name), ==, i + 1);
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(t.spaces, "Non Secure"),
                                     "type"), ==, 0x22);
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(t.spaces,
                                                    "Physical (Non Secure)"),
                                     "type"), ==, 0x12);
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(t.spaces,
                                                    "GPR Registers"),
                                     "type"), ==, 1);
    gpr = space_id(&t, "GPR Registers");
    sys = space_id(&t, sys_space_name);

    /* register groups: one per gdb feature */
    groups = mcd_query_list(t.fd, "qreggroupf0", "qreggroupc");
    g_assert_nonnull(mcd_find_named(groups, "Core Registers"));
    g_assert_nonnull(mcd_find_named(groups, "System Registers"));
    g_assert_nonnull(mcd_find_named(groups, t.aa64 ? "FP/SIMD Registers"
                                                   : "VFP Registers"));

    /* core registers: gdb numbers and sizes, in the GPR space */
    g_assert_cmpuint(reg_id(&t, "pc"), ==, t.aa64 ? 32 : 15);
    g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "pc"), "size"), ==,
                     t.aa64 ? 64 : 32);
    g_assert_cmpuint(reg_id(&t, "cpsr"), ==, t.aa64 ? 33 : 25);
    g_assert_cmpuint(reg_id(&t, t.aa64 ? "x0" : "r0"), ==, 0);
    g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "pc"), "memspaceid"), ==,
                     gpr);
    g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "pc"), "opcode"), ==, 0);

    /* system registers: architectural encodings, in the CP space */
    if (t.aa64) {
        /* op0 << 19 | op1 << 16 | CRn << 12 | CRm << 8 | op2 << 5 */
        g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "SCTLR"), "opcode"),
                         ==, 3 << 19 | 0 << 16 | 1 << 12 | 0 << 8 | 0 << 5);
        g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "VBAR"), "opcode"),
                         ==, 3 << 19 | 0 << 16 | 12 << 12 | 0 << 8 | 0 << 5);
        g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "SCTLR"), "size"),
                         ==, 64);
    } else {
        /* opc1 << 14 | opc2 << 10 | CRm << 7 | CRn << 3 */
        g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "SCTLR"), "opcode"),
                         ==, 1 << 3);
        g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "VBAR"), "opcode"),
                         ==, 12 << 3);
        g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "SCTLR"), "size"),
                         ==, 32);
        if (secure) {
            /* the Secure copy of a banked register: bit 2 */
            g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "VBAR_S"),
                                             "opcode"), ==, 12 << 3 | 4);
        }
    }
    g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "VBAR"), "memspaceid"), ==,
                     sys);
    g_assert_cmpuint(mcd_rec_get_u64(reg_rec(&t, "VBAR"), "reggroupid"), ==,
                     mcd_rec_get_u64(mcd_find_named(groups, "System Registers"),
                                     "id"));
    arm_end(&t);
}

static void test_lists(void)
{
    check_lists(false);
}

static void test_lists_secure(void)
{
    check_lists(true);
}

/* The values the guest put in its registers. */
static void check_registers(bool secure)
{
    ArmTest t = { 0 };
    g_autofree char *name = NULL;
    uint64_t pc, counter;
    int i;

    arm_start(&t, secure, "");
    pc = read_reg(&t, 0, "pc");
    counter = guest_counter(&t);
    if (t.aa64) {
        for (i = 0; i < 28; i++) {
            g_free(name);
            name = g_strdup_printf("x%d", i);
            g_assert_cmphex(read_reg(&t, 0, name), ==, 0x1000 + i);
        }
        g_assert_cmphex(read_reg(&t, 0, "x28"), ==, GUEST_RESULT);
        g_assert_cmphex(read_reg(&t, 0, "x29"), ==, guest_vbar(&t));
        /* stopped before or after the store of the counter */
        g_assert_cmpuint(read_reg(&t, 0, "x30") - counter, <=, 1);
        g_assert_cmphex(pc, >=, LOOP_A64);
        g_assert_cmphex(pc, <, LOOP_A64 + 5 * 4);
        /* PSTATE: EL1h, or EL3h with EL3 */
        g_assert_cmphex(read_reg(&t, 0, "cpsr") & 0xf, ==, secure ? 0xd : 0x5);
    } else {
        for (i = 0; i < 10; i++) {
            g_free(name);
            name = g_strdup_printf("r%d", i);
            g_assert_cmphex(read_reg(&t, 0, name), ==, 0x1000 + i);
        }
        g_assert_cmpuint(read_reg(&t, 0, "r10") - counter, <=, 1);
        g_assert_cmphex(read_reg(&t, 0, "r11"), ==, GUEST_RESULT);
        g_assert_cmphex(read_reg(&t, 0, "r12"), ==, guest_vbar(&t));
        g_assert_cmphex(read_reg(&t, 0, "sp"), ==, 0x100d);
        g_assert_cmphex(read_reg(&t, 0, "lr"), ==, 0x100e);
        g_assert_cmphex(pc, >=, LOOP_A32);
        g_assert_cmphex(pc, <, LOOP_A32 + 5 * 4);
        /* CPSR: SVC mode, ARM state */
        g_assert_cmphex(read_reg(&t, 0, "cpsr") & 0x3f, ==, 0x13);
    }
    arm_end(&t);
}

static void test_registers(void)
{
    check_registers(false);
}

static void test_registers_secure(void)
{
    check_registers(true);
}

static bool counter_jumped(ArmTest *t)
{
    return guest_counter(t) > 1000000;
}

static bool guest_saw_new_vbar(ArmTest *t)
{
    return guest_vbar(t) == NEW_VBAR;
}

/* A VBAR written through the stub is what the guest then reads. */
static void check_sysreg_write(bool secure)
{
    ArmTest t = { 0 };
    /* the bank the guest reads: AArch32 Secure SVC reads VBAR_S */
    const char *vbar = !is_aa64() && secure ? "VBAR_S" : "VBAR";
    g_autofree char *reply = NULL;

    arm_start(&t, secure, "");
    g_assert_cmphex(guest_vbar(&t), ==, 0);

    reply = write_reg(&t, vbar, NEW_VBAR);
    g_assert_cmpstr(reply, ==, "success");
    g_assert_cmphex(read_reg(&t, 0, vbar), ==, NEW_VBAR);
    run_until(&t, guest_saw_new_vbar);

    /* a core register write too: the guest's counter register */
    g_clear_pointer(&reply, g_free);
    reply = write_reg(&t, t.aa64 ? "x30" : "r10", 1000000);
    g_assert_cmpstr(reply, ==, "success");
    run_until(&t, counter_jumped);

    /* a read-only register refuses */
    g_clear_pointer(&reply, g_free);
    reply = write_reg(&t, t.aa64 ? "ID_AA64ISAR0_EL1" : "MIDR", 0);
    g_assert_cmpstr(reply, ==, "error");

    /* so does a running core */
    vm_cont(&t);
    g_clear_pointer(&reply, g_free);
    reply = write_reg(&t, vbar, 0);
    g_assert_cmpstr(reply, ==, "error");
    vm_stop(&t);
    g_assert_cmphex(read_reg(&t, 0, vbar), ==, NEW_VBAR);

    /* the size must be the register's */
    mcd_check_reply(t.fd, "P0;15;2;0000", "error");
    arm_end(&t);
}

static void test_sysreg_write(void)
{
    check_sysreg_write(false);
}

static void test_sysreg_write_secure(void)
{
    check_sysreg_write(true);
}

/* 4 KiB written and read back through every memory space. */
static void check_memory(bool secure)
{
    ArmTest t = { 0 };
    uint8_t buf[4096], back[4096];
    size_t i, j;
    int n = 0;

    arm_start(&t, secure, "");
    for (i = 0; i < t.spaces->len; i++) {
        const char *rec = g_ptr_array_index(t.spaces, i);
        uint64_t id = mcd_rec_get_u64(rec, "id");
        uint64_t addr = SCRATCH + i * sizeof(buf);
        g_autofree char *name = mcd_rec_get(rec, "name");
        g_autofree char *hex = NULL;
        g_autofree char *cmd = NULL;
        g_autofree char *reply = NULL;

        if (mcd_rec_get_u64(rec, "type") & 1) {
            /* a register space: no memory commands */
            cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4", id, SCRATCH);
            mcd_check_reply(t.fd, cmd, "error");
            continue;
        }
        for (j = 0; j < sizeof(buf); j++) {
            buf[j] = j * 7 + i;
        }
        hex = to_hex(buf, sizeof(buf));
        cmd = g_strdup_printf("M0;%" PRIu64 ";%" PRIu64 ";%zu;%s", id, addr,
                              sizeof(buf), hex);
        if (secure && t.aa64 && g_str_equal(name, "Non Secure")) {
            /*
             * The core is at AArch64 EL3 on its way to Secure EL1: the
             * EL1 translation registers are not the Non-secure ones.
             */
            mcd_check_reply(t.fd, cmd, "error");
            continue;
        }
        mcd_check_reply(t.fd, cmd, "success");
        g_free(cmd);
        cmd = g_strdup_printf("m0;%" PRIu64 ";%" PRIu64 ";%zu", id, addr,
                              sizeof(buf));
        mcd_check_reply(t.fd, cmd, hex);
        /* what QEMU itself sees there */
        qtest_memread(t.qts, addr, back, sizeof(back));
        g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
        n++;
    }
    g_assert_cmpint(n, ==, !secure ? 2 : t.aa64 ? 3 : 4);

    /* nothing there: an error, not zeros */
    mcd_check_reply(t.fd, "m0;1;4294967040;16", "error");

    /* a write across the end of RAM is refused and writes nothing */
    for (i = 0; i < t.spaces->len; i++) {
        const char *rec = g_ptr_array_index(t.spaces, i);
        static const uint8_t last[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        g_autofree char *cmd = NULL;

        if (mcd_rec_get_u64(rec, "type") & 1) {
            continue;
        }
        qtest_memwrite(t.qts, RAM_END - 8, last, sizeof(last));
        cmd = g_strdup_printf("M0;%" PRIu64 ";%d;16;%032x",
                              mcd_rec_get_u64(rec, "id"), RAM_END - 8, 0);
        mcd_check_reply(t.fd, cmd, "error");
        qtest_memread(t.qts, RAM_END - 8, back, sizeof(last));
        g_assert_cmpmem(back, sizeof(last), last, sizeof(last));
    }

    /* more than max_data (16 KiB) at once is refused */
    {
        g_autofree uint8_t *big = g_malloc0(16 * 1024 + 1);
        g_autofree char *hex = to_hex(big, 16 * 1024 + 1);
        g_autofree char *cmd = g_strdup_printf("M0;1;%d;%d;%s", SCRATCH,
                                               16 * 1024 + 1, hex);

        mcd_check_reply(t.fd, cmd, "error");
    }
    arm_end(&t);
}

static void test_memory(void)
{
    check_memory(false);
}

static void test_memory_secure(void)
{
    check_memory(true);
}

/* Secure-only RAM: readable through the secure spaces only. */
static void test_secure_ram(void)
{
    ArmTest t = { 0 };
    static const char *const secure_spaces[] = {
        "Secure", "Physical (Secure)",
    };
    static const char *const ns_spaces[] = {
        "Non Secure", "Physical (Non Secure)",
    };
    size_t i;

    arm_start(&t, true, "");
    for (i = 0; i < ARRAY_SIZE(secure_spaces); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "M0;%" PRIu64 ";%d;4;%s", space_id(&t, secure_spaces[i]),
            SECURE_RAM + 16 * (int)i, "5ec0e7a1");
        mcd_check_reply(t.fd, cmd, "success");
        g_free(cmd);
        cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4",
                              space_id(&t, secure_spaces[i]),
                              SECURE_RAM + 16 * (int)i);
        mcd_check_reply(t.fd, cmd, "5ec0e7a1");
    }
    for (i = 0; i < ARRAY_SIZE(ns_spaces); i++) {
        g_autofree char *cmd = g_strdup_printf(
            "m0;%" PRIu64 ";%d;4", space_id(&t, ns_spaces[i]), SECURE_RAM);
        mcd_check_reply(t.fd, cmd, "error");
        g_free(cmd);
        cmd = g_strdup_printf("M0;%" PRIu64 ";%d;4;00000000",
                              space_id(&t, ns_spaces[i]), SECURE_RAM);
        mcd_check_reply(t.fd, cmd, "error");
    }
    arm_end(&t);
}

/*
 * Every CPU and machine configuration the stub supports: the lists, a
 * register and memory through the non-secure spaces.
 */
static void test_cpus(void)
{
    static const char *const cpus_aa64[] = {
        "cortex-a53", "cortex-a57", "max", "cortex-a15",
    };
    static const char *const cpus_aa32[] = { "cortex-a15" };
    static const char *const machines[] = {
        "", ",secure=on", ",virtualization=on",
        ",secure=on,virtualization=on",
    };
    const char *const *cpus = is_aa64() ? cpus_aa64 : cpus_aa32;
    size_t ncpus = is_aa64() ? ARRAY_SIZE(cpus_aa64) : ARRAY_SIZE(cpus_aa32);
    size_t c, m;

    for (c = 0; c < ncpus; c++) {
        for (m = 0; m < ARRAY_SIZE(machines); m++) {
            ArmTest t = { 0 };
            g_autoptr(GPtrArray) groups = NULL;
            g_autofree char *cmd = NULL;
            const char *const *names;
            size_t i;

            g_test_message("-cpu %s -M virt%s", cpus[c], machines[m]);
            arm_start_cpu(&t, cpus[c], machines[m], "");
            names = t.secure ? spaces_secure : spaces_plain;
            for (i = 0; names[i]; i++) {
                g_autofree char *name =
                    mcd_rec_get(g_ptr_array_index(t.spaces, i), "name");

                g_assert_cmpstr(name, ==, names[i]);
            }
            g_assert_cmpuint(t.spaces->len, ==, i + 1);
            groups = mcd_query_list(t.fd, "qreggroupf0", "qreggroupc");
            g_assert_nonnull(mcd_find_named(groups, "Core Registers"));
            g_assert_nonnull(mcd_find_named(groups, "System Registers"));
            g_assert_nonnull(mcd_find_named(t.regs, "SCTLR"));
            g_assert_cmphex(read_reg(&t, 0, "pc"), >=,
                            t.aa64 ? LOOP_A64 : LOOP_A32);

            cmd = g_strdup_printf("M0;%" PRIu64 ";%d;4;a5a5a5a5",
                                  space_id(&t, "Non Secure"), SCRATCH);
            if (t.secure && t.aa64) {
                /* at AArch64 EL3: through EL3's regime, not EL1's */
                mcd_check_reply(t.fd, cmd, "error");
                g_free(cmd);
                cmd = g_strdup_printf("M0;%" PRIu64 ";%d;4;a5a5a5a5",
                                      space_id(&t, "Secure"), SCRATCH);
            }
            mcd_check_reply(t.fd, cmd, "success");
            g_free(cmd);
            cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4",
                                  space_id(&t, "Physical (Non Secure)"),
                                  SCRATCH);
            mcd_check_reply(t.fd, cmd, "a5a5a5a5");
            arm_end(&t);
        }
    }
}

/*
 * An AArch64 CPU running AArch32 code at EL1: X0-X30 and PC show the
 * AArch32 registers as an exception to AArch64 would map them, and
 * writes reach the AArch32 state.
 */
static void test_el1_aarch32(void)
{
    ArmTest t = { 0 };
    uint64_t loop = LOOP_A32 + sizeof(guest_el3_to_a32);
    g_autofree char *name = NULL;
    g_autofree char *reply = NULL;
    uint64_t pc;
    int i;

    arm_start_cpu(&t, "cortex-a57", ",secure=on", "el1-aarch32");
    pc = read_reg(&t, 0, "pc");
    g_assert_cmphex(pc, >=, loop);
    g_assert_cmphex(pc, <, loop + 5 * 4);
    for (i = 0; i < 10; i++) {
        g_free(name);
        name = g_strdup_printf("x%d", i);
        g_assert_cmphex(read_reg(&t, 0, name), ==, 0x1000 + i);
    }
    g_assert_cmphex(read_reg(&t, 0, "x11"), ==, GUEST_RESULT);
    /* SVC mode's SP and LR are X19 and X18 */
    g_assert_cmphex(read_reg(&t, 0, "x19"), ==, 0x100d);
    g_assert_cmphex(read_reg(&t, 0, "x18"), ==, 0x100e);

    reply = write_reg(&t, "x10", 1000000);
    g_assert_cmpstr(reply, ==, "success");
    run_until(&t, counter_jumped);
    arm_end(&t);
}

static char *state_of(ArmTest *t)
{
    return mcd_query(t->fd, "qstate0");
}

/* Go and break, for the whole system and for the core, and the state. */
static void test_run_control(void)
{
    ArmTest t = { 0 };
    g_autofree char *st = NULL;
    uint64_t counter;
    int i;

    arm_start(&t, false, "");
    /* stopped, but not by the debugger */
    st = state_of(&t);
    g_assert_cmpstr(st, ==, "state=halted.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=vm paused.");

    mcd_check_ack_only(t.fd, "C1;0");
    counter = guest_counter(&t);
    for (i = 0; i < 2000 && guest_counter(&t) == counter; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(guest_counter(&t), >, counter);
    g_free(st);
    st = state_of(&t);
    g_assert_cmpstr(st, ==, "state=running.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=vm running since boot.");

    mcd_check_ack_only(t.fd, "b1;0");
    counter = guest_counter(&t);
    g_usleep(50 * 1000);
    g_assert_cmpuint(guest_counter(&t), ==, counter);
    /* the stop reason is reported once */
    g_free(st);
    st = state_of(&t);
    g_assert_cmpstr(st, ==, "state=debug.event=0.thread=0.type=0.address=0."
                    "stop_str=stopped on request."
                    "info_str=core 0 stopped by the debugger.");
    g_free(st);
    st = state_of(&t);
    g_assert_cmpstr(st, ==, "state=debug.event=0.thread=0.type=0.address=0."
                    "stop_str=.info_str=core 0 stopped by the debugger.");

    mcd_check_ack_only(t.fd, "C0;0");
    mcd_check_running(t.qts);
    mcd_check_ack_only(t.fd, "b0;0");
    counter = guest_counter(&t);
    g_usleep(50 * 1000);
    g_assert_cmpuint(guest_counter(&t), ==, counter);

    /* detaching lets the guest the debugger stopped run again */
    mcd_check_ack_only(t.fd, "D");
    mcd_check_running(t.qts);
    close(t.fd);
    qtest_quit(t.qts);
    g_ptr_array_free(t.spaces, true);
    g_ptr_array_free(t.regs, true);
}

/* Wait until qstate0 says the core stopped; return that state record. */
static char *wait_for_debug(ArmTest *t)
{
    int i;

    char *st = NULL;

    for (i = 0; i < 2000; i++) {
        g_free(st);
        st = state_of(t);
        if (g_str_has_prefix(st, "state=debug.")) {
            return st;
        }
        g_usleep(10 * 1000);
    }
    g_assert_cmpstr(st, ==, "state=debug.");
    return st;
}

/* Breakpoints and watchpoints stop the guest where they should. */
static void test_triggers(void)
{
    ArmTest t = { 0 };
    uint64_t store, counter_addr, counter;
    g_autofree char *st = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *set = NULL;
    g_autofree char *clear = NULL;
    int i;

    arm_start(&t, false, "");
    /* the store of the counter */
    store = t.aa64 ? LOOP_A64 + 12 : LOOP_A32 + 12;
    counter_addr = GUEST_RESULT + (t.aa64 ? 8 : 4);

    /* a breakpoint on the store stops with the PC there */
    set = g_strdup_printf("t0;1;%" PRIu64 ";1", store);
    clear = g_strdup_printf("T0;1;%" PRIu64 ";1", store);
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, set, "error");            /* already set */
    mcd_check_ack_only(t.fd, "C1;0");
    st = wait_for_debug(&t);
    expected = g_strdup_printf("state=debug.event=0.thread=0.type=1.address=0."
                               "stop_str=stopped at a breakpoint at 0x%" PRIx64
                               ".info_str=core 0 stopped by the debugger.",
                               store);
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, store);
    /* reported once */
    g_free(st);
    st = state_of(&t);
    g_assert_cmpstr(st, ==, "state=debug.event=0.thread=0.type=0.address=0."
                    "stop_str=.info_str=core 0 stopped by the debugger.");
    /* go steps off the breakpoint: the loop goes round once more */
    counter = guest_counter(&t);
    mcd_check_ack_only(t.fd, "C0;0");
    g_free(st);
    st = wait_for_debug(&t);
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmpuint(guest_counter(&t), ==, counter + 1);
    mcd_check_reply(t.fd, clear, "success");
    mcd_check_reply(t.fd, clear, "error");          /* not set any more */

    /* a write watchpoint on the counter stops with the address hit */
    g_free(set);
    g_free(clear);
    set = g_strdup_printf("t0;3;%" PRIu64 ";2", counter_addr);
    clear = g_strdup_printf("T0;3;%" PRIu64 ";2", counter_addr);
    mcd_check_reply(t.fd, set, "success");
    counter = guest_counter(&t);
    mcd_check_ack_only(t.fd, "C1;0");
    g_free(st);
    st = wait_for_debug(&t);
    g_free(expected);
    /* the store completes: the PC is at the next instruction */
    expected = g_strdup_printf("state=debug.event=0.thread=0.type=3.address=%"
                               PRIu64 ".stop_str=stopped by a write watchpoint "
                               "hit at 0x%" PRIx64 " (pc 0x%" PRIx64
                               ").info_str=core 0 stopped by the debugger.",
                               counter_addr, counter_addr, store + 4);
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmpuint(guest_counter(&t) - counter, <=, 1);
    mcd_check_reply(t.fd, clear, "success");

    /* bad triggers, and the limit */
    mcd_check_reply(t.fd, "t0;5;0;1", "error");
    mcd_check_reply(t.fd, "t7;1;0;1", "error");
    for (i = 0; i < 16; i++) {
        g_autofree char *c = g_strdup_printf("t0;1;%d;1", 0x40400000 + 4 * i);

        mcd_check_reply(t.fd, c, "success");
    }
    mcd_check_reply(t.fd, "t0;1;1077936192;1", "error");   /* the 17th */
    mcd_check_reply(t.fd, "T0;1;1077936128;1", "success");

    /* an era-1 watchpoint has 4 bytes; the wplen extension sets more */
    g_free(set);
    g_free(clear);
    set = g_strdup_printf("t0;3;%d;2;16", GUEST_RESULT - 8);
    clear = g_strdup_printf("T0;3;%d;2;16", GUEST_RESULT - 8);
    mcd_check_reply(t.fd, set, "error");
    mcd_check_reply(t.fd, "qprotocolwplen,errors",
                    MCD_PROTOCOL_REPLY("errors,wplen"));
    mcd_check_reply(t.fd, "t0;3;1075843064;2;0", "error=12800.text=cannot "
                    "watch 0 bytes at 0x40200ff8.");
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_free(st);
    st = wait_for_debug(&t);
    /* the first store the range sees: VBAR at GUEST_RESULT */
    g_assert_cmpuint(mcd_rec_get_u64(st, "address"), ==, GUEST_RESULT);
    g_assert_cmpuint(mcd_rec_get_u64(st, "type"), ==, 3);
    mcd_check_reply(t.fd, clear, "success");

    /* opening it again keeps it as it is, triggers included */
    g_free(set);
    set = g_strdup_printf("t0;1;%" PRIu64 ";1", store);
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, "i0", "success");
    g_free(clear);
    clear = g_strdup_printf("T0;1;%" PRIu64 ";1", store);
    mcd_check_reply(t.fd, clear, "success");

    /* closing the core removes its triggers: the guest runs past */
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, "d0", "success");
    mcd_check_reply(t.fd, "i0", "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    counter = guest_counter(&t);
    for (i = 0; i < 2000 && guest_counter(&t) < counter + 1000; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(guest_counter(&t), >=, counter + 1000);
    g_free(st);
    st = state_of(&t);
    g_assert_true(g_str_has_prefix(st, "state=running."));

    /*
     * Detaching removes them all, here with a breakpoint in the loop, and
     * lets the guest run undisturbed.
     */
    g_free(set);
    set = g_strdup_printf("t0;1;%" PRIu64 ";1", store);
    mcd_check_reply(t.fd, set, "success");
    mcd_check_reply(t.fd, "D", "success");
    mcd_check_running(t.qts);
    counter = guest_counter(&t);
    for (i = 0; i < 2000 && guest_counter(&t) < counter + 1000; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(guest_counter(&t), >=, counter + 1000);
    mcd_check_running(t.qts);
    close(t.fd);
    qtest_quit(t.qts);
    g_ptr_array_free(t.spaces, true);
    g_ptr_array_free(t.regs, true);
}

/* The reply to "qprotocol" with the extensions @enabled */
#define PROTOCOL(enabled) MCD_PROTOCOL_REPLY(enabled)

/* Wait until qstate<core> is not "running"; return that state record. */
static char *wait_stopped(ArmTest *t, int core)
{
    g_autofree char *cmd = g_strdup_printf("qstate%d", core);
    int i;

    for (i = 0; i < 2000; i++) {
        char *st = mcd_query(t->fd, cmd);

        if (!g_str_has_prefix(st, "state=running.")) {
            return st;
        }
        g_free(st);
        g_usleep(10 * 1000);
    }
    g_assert_not_reached();
}

static void write_pc(ArmTest *t, uint64_t pc)
{
    g_autofree char *reply = write_reg(t, "pc", pc);

    g_assert_cmpstr(reply, ==, "success");
}

/* Step core 0 and check that it stopped after the step at @pc. */
static void check_step(ArmTest *t, const char *cmd, uint64_t pc)
{
    g_autofree char *st = NULL;
    g_autofree char *expected = NULL;

    mcd_check_reply(t->fd, cmd, "success");
    st = wait_stopped(t, 0);
    expected = g_strdup_printf("state=debug.event=0.thread=0.type=0."
                               "address=0.stop_str=stopped after a step at "
                               "0x%" PRIx64 ".info_str=core 0 stopped by "
                               "the debugger.", pc);
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmphex(read_reg(t, 0, "pc"), ==, pc);
}

/* Thumb: adds r0, #1 (16 bits); movw r1, #0 (32 bits); b . */
static const uint16_t guest_thumb[] = { 0x3001, 0xf240, 0x0100, 0xe7fe };

/* A step executes one instruction; the steps extension several. */
static void test_step(void)
{
    ArmTest t = { 0 };
    uint64_t loop = is_aa64() ? LOOP_A64 : LOOP_A32;
    g_autofree char *st = NULL;
    uint64_t counter;

    arm_start(&t, false, "");
    mcd_check_reply(t.fd, "qprotocolerrors,steps",
                    PROTOCOL("errors,steps"));
    write_pc(&t, loop);
    counter = guest_counter(&t);
    check_step(&t, "c0;0", loop + 4);
    check_step(&t, "c0;0;1", loop + 8);
    /* the increment and its store */
    check_step(&t, "c0;0;2", loop + 16);
    g_assert_cmpuint(guest_counter(&t), ==, counter + 1);
    /* the branch back */
    check_step(&t, "c0;0", loop);
    check_step(&t, "c0;0;5", loop);
    g_assert_cmpuint(guest_counter(&t), ==, counter + 2);
    mcd_check_reply(t.fd, "c0;0;0", "error=258.text=cannot step 0 "
                    "instructions.");
    mcd_check_reply(t.fd, "c1;0", "error=256.text=global steps are not "
                    "supported: step one core.");

    /* a running core cannot step */
    mcd_check_reply(t.fd, "C0;0", "success");
    mcd_check_reply(t.fd, "c0;0", "error=257.text=core 0 is running: stop "
                    "it first.");

    /* a breakpoint hit is notified at once, before any query */
    mcd_check_reply(t.fd, "qprotocolnotify", PROTOCOL("errors,steps,notify"));
    st = g_strdup_printf("t0;1;%" PRIu64 ";1", loop + 8);
    mcd_check_reply(t.fd, st, "success");
    g_free(st);
    st = mcd_recv_notification(t.fd);
    g_assert_cmpstr(st, ==, "stop=0.");
    g_free(st);
    st = wait_for_debug(&t);
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, loop + 8);
    /* a step from the breakpoint moves off it */
    check_step(&t, "c0;0", loop + 12);
    g_free(st);
    st = mcd_recv_notification(t.fd);
    g_assert_cmpstr(st, ==, "stop=0.");

    if (!t.aa64) {
        /* Thumb instructions are 2 or 4 bytes */
        uint64_t cpsr = read_reg(&t, 0, "cpsr");
        g_autofree char *reply = write_reg(&t, "cpsr", cpsr | 0x20);

        g_assert_cmpstr(reply, ==, "success");
        qtest_memwrite(t.qts, SCRATCH, guest_thumb, sizeof(guest_thumb));
        write_pc(&t, SCRATCH);
        check_step(&t, "c0;0", SCRATCH + 2);
        check_step(&t, "c0;0", SCRATCH + 6);
        check_step(&t, "c0;0", SCRATCH + 6);
        g_assert_cmphex(read_reg(&t, 0, "cpsr") & 0x20, ==, 0x20);
    }
    mcd_check_reply(t.fd, "D", "success");
    close(t.fd);
    qtest_quit(t.qts);
    g_ptr_array_free(t.spaces, true);
    g_ptr_array_free(t.regs, true);
}

/*
 * Two cores, each counting at SMP_COUNTERS + 8 * core: core 0 powers on
 * core 1 with PSCI CPU_ON over HVC, then both run the same loop.
 */
#define SMP_COUNTERS    0x40202000

static const uint32_t guest_smp_a64[] = {
    0xd2800060, /* mov x0, #0x3 */
    0xf2b88000, /* movk x0, #0xc400, lsl #16 (CPU_ON64) */
    0xd2800021, /* mov x1, #1 */
    0x10000062, /* adr x2, common */
    0xd2800003, /* mov x3, #0 */
    0xd4000002, /* hvc #0 */
    0xd53800a1, /* common: mrs x1, mpidr_el1 */
    0x92401c21, /* and x1, x1, #0xff */
    0xd2840005, /* mov x5, #0x2000 */
    0xf2a80405, /* movk x5, #0x4020, lsl #16 */
    0x8b010ca5, /* add x5, x5, x1, lsl #3 */
    0xf94000a2, /* loop: ldr x2, [x5] */
    0x91000442, /* add x2, x2, #1 */
    0xf90000a2, /* str x2, [x5] */
    0x17fffffd, /* b loop */
};

static const uint32_t guest_smp_a32[] = {
    0xe3000003, /* movw r0, #3 */
    0xe3480400, /* movt r0, #0x8400 (CPU_ON) */
    0xe3a01001, /* mov r1, #1 */
    0xe28f2004, /* adr r2, common */
    0xe3a03000, /* mov r3, #0 */
    0xe1400070, /* hvc #0 */
    0xee101fb0, /* common: mrc p15, 0, r1, c0, c0, 5 (MPIDR) */
    0xe20110ff, /* and r1, r1, #0xff */
    0xe3025000, /* movw r5, #0x2000 */
    0xe3445020, /* movt r5, #0x4020 */
    0xe0855181, /* add r5, r5, r1, lsl #3 */
    0xe5952000, /* loop: ldr r2, [r5] */
    0xe2822001, /* add r2, r2, #1 */
    0xe5852000, /* str r2, [r5] */
    0xeafffffb, /* b loop */
};

static uint32_t smp_counter(ArmTest *t, int core)
{
    return qtest_readl(t->qts, SMP_COUNTERS + 8 * core);
}

/* Whether the counter of @core moves within two seconds. */
static bool smp_moves(ArmTest *t, int core)
{
    uint32_t before = smp_counter(t, core);
    int i;

    for (i = 0; i < 200; i++) {
        g_usleep(10 * 1000);
        if (smp_counter(t, core) != before) {
            return true;
        }
    }
    return false;
}

static bool smp_stays(ArmTest *t, int core)
{
    uint32_t before = smp_counter(t, core);

    g_usleep(100 * 1000);
    return smp_counter(t, core) == before;
}

/* Run control of one core leaves the other core alone. */
static void test_smp_run(void)
{
    ArmTest t = { 0 };
    g_autofree char *args = g_strdup_printf(
        "-M virt -cpu %s -smp 2 -S -device loader,addr=0x%x,cpu-num=0",
        is_aa64() ? "cortex-a57" : "cortex-a15", GUEST_BASE);
    g_autofree char *st = NULL;
    uint64_t pc;

    t.aa64 = is_aa64();
    t.qts = mcd_start_with_client(args, &t.fd);
    if (t.aa64) {
        qtest_memwrite(t.qts, GUEST_BASE, guest_smp_a64,
                       sizeof(guest_smp_a64));
    } else {
        qtest_memwrite(t.qts, GUEST_BASE, guest_smp_a32,
                       sizeof(guest_smp_a32));
    }
    mcd_check_reply(t.fd, "I", "shaking your hand");
    mcd_check_reply(t.fd, "qprotocolerrors", PROTOCOL("errors"));
    mcd_check_reply(t.fd, "i0", "success");
    mcd_check_reply(t.fd, "i1", "success");
    t.regs = mcd_query_list(t.fd, "qregf0", "qregc");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_assert_true(smp_moves(&t, 0));
    g_assert_true(smp_moves(&t, 1));

    /* stopping core 1 leaves core 0 running */
    mcd_check_reply(t.fd, "b0;1", "success");
    st = mcd_query(t.fd, "qstate1");
    g_assert_cmpstr(st, ==, "state=debug.event=0.thread=0.type=0.address=0."
                    "stop_str=stopped on request.info_str=core 1 stopped "
                    "by the debugger.");
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=running."));
    g_assert_true(smp_stays(&t, 1));
    g_assert_true(smp_moves(&t, 0));
    mcd_check_running(t.qts);
    /* QEMU knows: the monitor shows the held core */
    g_free(st);
    st = qtest_hmp(t.qts, "info cpus");
    g_assert_nonnull(strstr(st, "CPU #1: thread_id="));
    g_assert_true(g_regex_match_simple("CPU #1: thread_id=[0-9]+ \\(held by "
                                       "a debugger\\)", st, 0, 0));
    g_assert_false(g_regex_match_simple("CPU #0: [^\\n]*held", st, 0, 0));

    /* core 1 steps while core 0 runs on */
    pc = read_reg(&t, 1, "pc");
    mcd_check_reply(t.fd, "c0;1", "success");
    g_free(st);
    st = wait_stopped(&t, 1);
    g_assert_true(g_str_has_prefix(st, "state=debug."));
    g_assert_true(strstr(st, "stopped after a step"));
    pc = read_reg(&t, 1, "pc") - pc;
    g_assert_true(pc == 4 || pc == (uint64_t)-12);
    g_assert_true(smp_moves(&t, 0));
    g_assert_true(smp_stays(&t, 1));

    /* and goes again */
    mcd_check_reply(t.fd, "C0;1", "success");
    g_assert_true(smp_moves(&t, 1));
    g_assert_true(smp_moves(&t, 0));

    /* a global stop stops both; then core 0 goes alone */
    mcd_check_reply(t.fd, "b1;0", "success");
    g_assert_true(smp_stays(&t, 0));
    g_assert_true(smp_stays(&t, 1));
    mcd_check_reply(t.fd, "C0;0", "success");
    g_assert_true(smp_moves(&t, 0));
    g_assert_true(smp_stays(&t, 1));
    g_free(st);
    st = mcd_query(t.fd, "qstate1");
    g_assert_true(g_str_has_prefix(st, "state=debug."));

    /* detaching lets both run */
    mcd_check_reply(t.fd, "D", "success");
    g_assert_true(smp_moves(&t, 1));
    g_assert_true(smp_moves(&t, 0));
    close(t.fd);
    qtest_quit(t.qts);
    g_ptr_array_free(t.regs, true);
}

/* Resets really happen; with halt the core stops at its reset vector. */
static void test_reset(void)
{
    ArmTest t = { 0 };
    QDict *ev;
    g_autofree char *st = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *reply = NULL;
    uint64_t counter;
    int i;

    arm_start(&t, false, "");
    st = mcd_query(t.fd, "qresetf0");
    g_assert_cmpstr(st, ==, "1!name=full_system_reset.id=0.");
    g_free(st);
    st = mcd_query(t.fd, "qresetc1");
    g_assert_cmpstr(st, ==, "0!name=core_reset.id=1.");
    mcd_check_reply(t.fd, "qprotocolerrors,resethalt",
                    PROTOCOL("errors,resethalt"));
    mcd_check_reply(t.fd, "C1;0", "success");
    mcd_check_running(t.qts);

    /* a system reset and halt: the loader's entry is the reset vector */
    mcd_check_reply(t.fd, "r0;0;1", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    expected = g_strdup_printf("state=debug.event=0.thread=0.type=0."
                               "address=0.stop_str=stopped at the reset "
                               "vector 0x%x.info_str=core 0 stopped by the "
                               "debugger.", GUEST_BASE);
    g_assert_cmpstr(st, ==, expected);
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, GUEST_BASE);
    /* nothing executed: the registers have their reset values */
    g_assert_cmphex(read_reg(&t, 0, t.aa64 ? "x0" : "r0"), ==, 0);
    /* QEMU's own reset, not one of the monitor */
    ev = qtest_qmp_eventwait_ref(t.qts, "RESET");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "reason"), ==,
                    "host-ui");
    qobject_unref(ev);

    /*
     * A system reset without halt: the guest starts again and runs on.
     * Its counter register starts high here; after the reset the guest
     * counts from 0 again, far below that.
     */
    counter = guest_counter(&t);
    mcd_check_reply(t.fd, "C1;0", "success");
    /* the guest is in its loop once the counter moves */
    for (i = 0; i < 2000 && guest_counter(&t) == counter; i++) {
        g_usleep(1000);
    }
    mcd_check_reply(t.fd, "b1;0", "success");
    reply = write_reg(&t, t.aa64 ? "x30" : "r10", 0xf0000000);
    g_assert_cmpstr(reply, ==, "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    for (i = 0; i < 2000 && guest_counter(&t) < 0xf0000000; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(guest_counter(&t), >=, 0xf0000000);
    mcd_check_reply(t.fd, "r0;0;0", "success");
    mcd_check_running(t.qts);
    for (i = 0; i < 2000 && guest_counter(&t) >= 0xf0000000; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(guest_counter(&t), <, 0xf0000000);

    /*
     * A reset of a guest the debugger stopped leaves it stopped (the
     * run state is then "prelaunch"); detaching lets it run again.
     */
    mcd_check_reply(t.fd, "b1;0", "success");
    mcd_check_reply(t.fd, "r0;0;0", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(st, "state=debug."));
    mcd_check_reply(t.fd, "D", "success");
    mcd_check_running(t.qts);
    mcd_check_reply(t.fd, "I", "shaking your hand");
    mcd_check_reply(t.fd, "qprotocolerrors,resethalt",
                    PROTOCOL("errors,resethalt"));
    mcd_check_reply(t.fd, "i0", "success");

    /* a core reset and halt: the CPU's own reset vector, 0 on virt */
    mcd_check_reply(t.fd, "r1;0;1", "success");
    g_free(st);
    st = mcd_query(t.fd, "qstate0");
    g_assert_cmpstr(st, ==, "state=debug.event=0.thread=0.type=0.address=0."
                    "stop_str=stopped at the reset vector 0x0.info_str="
                    "core 0 stopped by the debugger.");
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, 0);
    mcd_check_reply(t.fd, "r2;0;1", "error=258.text=unknown reset class 2.");
    mcd_check_reply(t.fd, "D", "success");
    close(t.fd);
    qtest_quit(t.qts);
    g_ptr_array_free(t.spaces, true);
    g_ptr_array_free(t.regs, true);
}

/* -gdb and -mcd together: both work and neither crashes the other. */
static void test_with_gdbstub(void)
{
    ArmTest t = { 0 };
    g_autofree char *path = g_strdup_printf("/tmp/mcd-gdb-%d.sock",
                                            getpid());
    g_autofree char *extra = g_strdup_printf("-gdb unix:%s,server=on,"
                                             "wait=off", path);
    uint64_t loop = is_aa64() ? LOOP_A64 : LOOP_A32;
    g_autofree char *st = NULL;
    g_autofree char *reply = NULL;
    int gdb;

    arm_start(&t, false, extra);
    gdb = mcd_connect_unix(path);
    reply = mcd_gdb_query(gdb, "?");
    g_assert_true(g_str_has_prefix(reply, "T"));
    mcd_check_reply(t.fd, "qprotocolerrors", PROTOCOL("errors"));

    /* the MCD debugger's breakpoint and step, with gdb attached */
    st = g_strdup_printf("t0;1;%" PRIu64 ";1", loop + 8);
    mcd_check_reply(t.fd, st, "success");
    mcd_check_reply(t.fd, "C1;0", "success");
    g_free(st);
    st = wait_for_debug(&t);
    g_assert_true(strstr(st, "stopped at a breakpoint"));
    check_step(&t, "c0;0", loop + 12);
    g_free(st);
    st = g_strdup_printf("T0;1;%" PRIu64 ";1", loop + 8);
    mcd_check_reply(t.fd, st, "success");

    /* gdb reads the registers the MCD debugger stopped */
    g_free(reply);
    reply = mcd_gdb_query(gdb, "g");
    g_assert_cmpuint(strlen(reply), >=, 16 * 8);

    /* a gdb breakpoint stops the VM: the MCD debugger sees "debug" */
    g_free(reply);
    g_free(st);
    st = g_strdup_printf("Z0,%" PRIx64 ",4", loop + 4);
    reply = mcd_gdb_query(gdb, st);
    g_assert_cmpstr(reply, ==, "OK");
    g_free(reply);
    reply = mcd_gdb_query(gdb, "c");
    g_assert_true(g_str_has_prefix(reply, "T05"));
    g_free(st);
    st = wait_for_debug(&t);
    g_assert_cmphex(read_reg(&t, 0, "pc"), ==, loop + 4);
    g_free(st);
    g_free(reply);
    st = g_strdup_printf("z0,%" PRIx64 ",4", loop + 4);
    reply = mcd_gdb_query(gdb, st);
    g_assert_cmpstr(reply, ==, "OK");

    /* the MCD debugger lets it go and detaches; gdb is still served */
    mcd_check_reply(t.fd, "C1;0", "success");
    mcd_check_reply(t.fd, "D", "success");
    mcd_check_running(t.qts);
    close(gdb);
    close(t.fd);
    qtest_quit(t.qts);
    unlink(path);
    g_ptr_array_free(t.spaces, true);
    g_ptr_array_free(t.regs, true);
}

/* With -smp 2 each core is opened and read on its own. */
static void test_smp(void)
{
    ArmTest t = { 0 };
    g_autoptr(GPtrArray) spaces1 = NULL;
    g_autofree char *cmd = NULL;
    g_autofree char *reply = NULL;

    arm_start(&t, false, "-smp 2 -machine gic-version=2");
    mcd_check_ack_only(t.fd, "i1");
    spaces1 = mcd_query_list(t.fd, "qmemoryf1", "qmemoryc");
    g_assert_cmpuint(spaces1->len, ==, t.spaces->len);
    /* core 0 runs the guest; core 1 was never started (PSCI off) */
    g_assert_cmphex(read_reg(&t, 0, "pc"), >=, GUEST_BASE);
    cmd = g_strdup_printf("p1;%" PRIu64, reg_id(&t, "pc"));
    reply = mcd_query(t.fd, cmd);
    g_assert_cmpuint(strlen(reply), ==, t.aa64 ? 16 : 8);
    /* a powered off core is "halted" while the VM runs, and cannot step */
    mcd_check_ack_only(t.fd, "C1;0");
    g_free(reply);
    reply = mcd_query(t.fd, "qstate1");
    g_assert_cmpstr(reply, ==, "state=halted.event=0.thread=0.type=0."
                    "address=0.stop_str=.info_str=core 1 waits for an "
                    "interrupt or is powered off.");
    g_free(reply);
    reply = mcd_query(t.fd, "qstate0");
    g_assert_true(g_str_has_prefix(reply, "state=running."));
    mcd_check_ack_only(t.fd, "b1;0");
    mcd_check_reply(t.fd, "qprotocolerrors", PROTOCOL("errors"));
    mcd_check_reply(t.fd, "c0;1", "error=6400.text=core 1 waits for an "
                    "interrupt or is powered off: it cannot step.");

    /*
     * The GIC's banked registers as each core sees them: GICD_ITARGETSR0
     * reads as the bit of the reading CPU in every byte.
     */
    g_free(cmd);
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4",
                          space_id(&t, "Physical (Non Secure)"), GICD_BASE +
                          0x800);
    mcd_check_reply(t.fd, cmd, "01010101");
    cmd[1] = '1';
    mcd_check_reply(t.fd, cmd, "02020202");
    /* and the CPU interface: each core's priority mask (GICC_PMR) */
    g_free(cmd);
    cmd = g_strdup_printf("M0;%" PRIu64 ";%d;4;f0000000",
                          space_id(&t, "Physical (Non Secure)"),
                          GICC_BASE + 4);
    mcd_check_reply(t.fd, cmd, "success");
    cmd[1] = '1';
    memcpy(strstr(cmd, ";f0"), ";80", 3);
    mcd_check_reply(t.fd, cmd, "success");
    g_free(cmd);
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4",
                          space_id(&t, "Physical (Non Secure)"),
                          GICC_BASE + 4);
    mcd_check_reply(t.fd, cmd, "f0000000");
    cmd[1] = '1';
    mcd_check_reply(t.fd, cmd, "80000000");
    g_free(cmd);
    cmd = g_strdup_printf("p1;%" PRIu64, reg_id(&t, "pc"));
    mcd_check_reply(t.fd, "d1", "success");
    g_free(reply);
    reply = mcd_query(t.fd, cmd);
    g_assert_cmpstr(reply, ==, "error=257.text=core 1 is not open.");
    mcd_check_reply(t.fd, "D", "success");
    close(t.fd);
    qtest_quit(t.qts);
    g_ptr_array_free(t.spaces, true);
    g_ptr_array_free(t.regs, true);
}

/*
 * A guest that counts at SMP_COUNTERS and writes every count to the
 * PL011's data register: MMIO, which needs QEMU's main loop to be free.
 */
static const uint32_t guest_mmio_a64[] = {
    0xd2840005, /* mov x5, #0x2000 */
    0xf2a80405, /* movk x5, #0x4020, lsl #16 */
    0xd2a12006, /* mov x6, #0x09000000 (PL011) */
    0xf94000a2, /* loop: ldr x2, [x5] */
    0x91000442, /* add x2, x2, #1 */
    0xf90000a2, /* str x2, [x5] */
    0xb90000c2, /* str w2, [x6] */
    0x17fffffc, /* b loop */
};

static const uint32_t guest_mmio_a32[] = {
    0xe3025000, /* movw r5, #0x2000 */
    0xe3445020, /* movt r5, #0x4020 */
    0xe3006000, /* movw r6, #0 */
    0xe3406900, /* movt r6, #0x0900 (PL011) */
    0xe5952000, /* loop: ldr r2, [r5] */
    0xe2822001, /* add r2, r2, #1 */
    0xe5852000, /* str r2, [r5] */
    0xe5862000, /* str r2, [r6] */
    0xeafffffa, /* b loop */
};

/* The resident memory of QEMU, in KiB. */
static uint64_t rss_kib(QTestState *qts)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status",
                                            qtest_pid(qts));
    g_autofree char *status = NULL;
    const char *p;

    g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
    p = strstr(status, "VmRSS:");
    g_assert_nonnull(p);
    return g_ascii_strtoull(p + strlen("VmRSS:"), NULL, 10);
}

/*
 * A client that asks for 100 MiB and reads nothing: QEMU takes no more
 * input once the replies back up, but the monitor answers and the guest
 * runs on (doing MMIO) all along; after the stall timeout the client is
 * dropped as if it had detached, and the next one is served.
 */
static void test_slow_reader(void)
{
    int lfd = mcd_listen_tcp();
    int port = mcd_tcp_port_of(lfd);
    QTestState *qts;
    g_autofree char *req = NULL;
    uint32_t counter;
    int64_t start, t0, worst = 0;
    size_t sent = 0, i;
    uint64_t rss;
    char buf[4096];
    ssize_t n;
    int fd;

    qts = qtest_initf("%s -S -device loader,addr=0x%x,cpu-num=0 "
                      "-chardev socket,id=mcd0,fd=%d,server=on,wait=off "
                      "-mcd chardev:mcd0,stall-timeout=3",
                      mcd_machine_args(), GUEST_BASE, lfd);
    close(lfd);
    if (is_aa64()) {
        qtest_memwrite(qts, GUEST_BASE, guest_mmio_a64,
                       sizeof(guest_mmio_a64));
    } else {
        qtest_memwrite(qts, GUEST_BASE, guest_mmio_a32,
                       sizeof(guest_mmio_a32));
    }
    qtest_qmp_assert_success(qts, "{ 'execute': 'cont' }");
    rss = rss_kib(qts);
    fd = mcd_connect_tcp(port);
    mcd_check_reply(fd, "I", "shaking your hand");
    mcd_check_ack_only(fd, "i0");

    /* 6400 reads of 16 KiB, sent as long as QEMU takes them */
    req = g_strdup_printf("$m0;1;%d;16384#|", GUEST_BASE);
    g_assert_cmpint(fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
    start = g_get_monotonic_time();
    for (i = 0; i < 6400 && g_get_monotonic_time() - start < 2000000; ) {
        n = send(fd, req + sent, strlen(req) - sent, 0);
        if (n < 0) {
            g_assert_cmpint(errno, ==, EAGAIN);
            g_usleep(1000);
            continue;
        }
        sent += n;
        if (sent == strlen(req)) {
            sent = 0;
            i++;
        }
    }
    /*
     * Whatever the socket buffers took, QEMU did not make 100 MiB of
     * replies nobody reads: it stops executing requests once 64 KiB wait.
     */
    g_assert_cmpuint(rss_kib(qts), <, rss + 32 * 1024);

    /* meanwhile the monitor answers and the guest runs */
    counter = qtest_readl(qts, SMP_COUNTERS);
    start = g_get_monotonic_time();
    while (g_get_monotonic_time() - start < 1500000) {
        t0 = g_get_monotonic_time();
        mcd_check_running(qts);
        worst = MAX(worst, g_get_monotonic_time() - t0);
        g_usleep(50 * 1000);
    }
    g_test_message("slowest query-status: %" PRId64 " us", worst);
    /* generous: a blocked main loop would take until the stall timeout */
    g_assert_cmpint(worst, <, 1000000);
    g_assert_cmpuint(qtest_readl(qts, SMP_COUNTERS), >, counter + 1000);

    /* after the stall timeout QEMU drops the client: it reads an end */
    start = g_get_monotonic_time();
    do {
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EAGAIN) {
            g_usleep(10 * 1000);
        }
    } while (n != 0 && !(n < 0 && errno != EAGAIN) &&
             g_get_monotonic_time() - start < 20000000);
    g_assert_cmpint(n, <=, 0);
    close(fd);

    /* the next client gets a session of its own */
    fd = mcd_connect_tcp(port);
    mcd_check_reply(fd, "I", "shaking your hand");
    mcd_check_ack_only(fd, "D");
    close(fd);
    mcd_check_running(qts);
    qtest_quit(qts);
}

/*
 * A guest that enables the PL011 and copies every character it receives
 * to SMP_COUNTERS.
 */
static const uint32_t guest_uart_a64[] = {
    0xd2a12006, /* mov x6, #0x09000000 (PL011) */
    0x52806021, /* mov w1, #0x301 (UARTEN, TXE, RXE) */
    0xb90030c1, /* str w1, [x6, #0x30] (UARTCR) */
    0xd2840005, /* mov x5, #0x2000 */
    0xf2a80405, /* movk x5, #0x4020, lsl #16 */
    0xb94018c2, /* loop: ldr w2, [x6, #0x18] (UARTFR) */
    0x3727ffe2, /* tbnz w2, #4, loop (RXFE) */
    0xb94000c3, /* ldr w3, [x6] (UARTDR) */
    0xb90000a3, /* str w3, [x5] */
    0x17fffffc, /* b loop */
};

static const uint32_t guest_uart_a32[] = {
    0xe3006000, /* movw r6, #0 */
    0xe3406900, /* movt r6, #0x0900 (PL011) */
    0xe3001301, /* movw r1, #0x301 (UARTEN, TXE, RXE) */
    0xe5861030, /* str r1, [r6, #0x30] (UARTCR) */
    0xe3025000, /* movw r5, #0x2000 */
    0xe3445020, /* movt r5, #0x4020 */
    0xe5962018, /* loop: ldr r2, [r6, #0x18] (UARTFR) */
    0xe3120010, /* tst r2, #0x10 (RXFE) */
    0x1afffffc, /* bne loop */
    0xe5963000, /* ldr r3, [r6] (UARTDR) */
    0xe5853000, /* str r3, [r5] */
    0xeafffff9, /* b loop */
};

#define UART_BASE       0x09000000

/*
 * A read without side effects (txopt, MCD_TX_OPT_NO_SIDE_EFFECTS) of a
 * device is refused, through physical and logical spaces, and leaves the
 * received character to the guest; RAM reads as usual.
 */
static void test_no_side_effects(void)
{
    g_autofree char *path = g_strdup_printf("/tmp/mcd-uart-%d.sock",
                                            getpid());
    g_autofree char *args = g_strdup_printf(
        "-M virt -cpu %s -S -device loader,addr=0x%x,cpu-num=0 "
        "-chardev socket,id=ser0,path=%s,server=on,wait=off "
        "-serial chardev:ser0", is_aa64() ? "cortex-a57" : "cortex-a15",
        GUEST_BASE, path);
    g_autofree char *cmd = NULL;
    g_autofree char *reply = NULL;
    g_autoptr(GPtrArray) spaces = NULL;
    uint64_t phys, logical;
    int fd, ser, i;

    QTestState *qts = mcd_start_with_client(args, &fd);
    if (is_aa64()) {
        qtest_memwrite(qts, GUEST_BASE, guest_uart_a64,
                       sizeof(guest_uart_a64));
    } else {
        qtest_memwrite(qts, GUEST_BASE, guest_uart_a32,
                       sizeof(guest_uart_a32));
    }
    qtest_writel(qts, SMP_COUNTERS, 0);
    ser = mcd_connect_unix(path);
    qtest_qmp_assert_success(qts, "{ 'execute': 'cont' }");
    mcd_check_reply(fd, "I", "shaking your hand");
    mcd_check_reply(fd, "qprotocolerrors,txopt", PROTOCOL("errors,txopt"));
    mcd_check_reply(fd, "i0", "success");
    spaces = mcd_query_list(fd, "qmemoryf0", "qmemoryc");
    phys = mcd_rec_get_u64(mcd_find_named(spaces, "Physical (Non Secure)"),
                           "id");
    logical = mcd_rec_get_u64(mcd_find_named(spaces, "Non Secure"), "id");
    /* memory spaces offer both options, register spaces none */
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(spaces, "Non Secure"),
                                     "sao"), ==, 3);
    g_assert_cmpuint(mcd_rec_get_u64(mcd_find_named(spaces,
                                                    "GPR Registers"),
                                     "sao"), ==, 0);

    /* the guest waits for a character with the UART enabled */
    for (i = 0; i < 2000 && !(qtest_readl(qts, UART_BASE + 0x30) & 1); i++) {
        g_usleep(1000);
    }
    mcd_check_reply(fd, "b0;0", "success");
    mcd_send_raw(ser, "A", 1);
    for (i = 0; i < 2000 && (qtest_readl(qts, UART_BASE + 0x18) & 0x10);
         i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(qtest_readl(qts, UART_BASE + 0x18) & 0x10, ==, 0);

    /* refused, in both kinds of space, and nothing read */
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4;2", phys, UART_BASE);
    reply = mcd_query(fd, cmd);
    g_assert_true(g_str_has_prefix(reply, "error=8448.text=0x9000000 "));
    g_assert_nonnull(strstr(reply, "no access without side effects"));
    g_free(cmd);
    g_free(reply);
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4;2", logical, UART_BASE);
    reply = mcd_query(fd, cmd);
    g_assert_true(g_str_has_prefix(reply, "error=8448."));
    g_assert_cmphex(qtest_readl(qts, UART_BASE + 0x18) & 0x10, ==, 0);
    /* RAM reads as always; unknown or contradicting options do not */
    g_free(cmd);
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4;2", phys, GUEST_BASE);
    mcd_check_reply(fd, cmd, is_aa64() ? "0620a1d2" : "006000e3");
    g_free(cmd);
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4;3", phys, GUEST_BASE);
    reply = mcd_query(fd, cmd);
    g_assert_true(g_str_has_prefix(reply, "error=258."));

    /* the guest gets its character */
    mcd_check_reply(fd, "C0;0", "success");
    for (i = 0; i < 2000 && qtest_readl(qts, SMP_COUNTERS) != 'A'; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(qtest_readl(qts, SMP_COUNTERS), ==, 'A');

    /* by default a read is the core's own: it takes the character */
    mcd_check_reply(fd, "b0;0", "success");
    mcd_send_raw(ser, "B", 1);
    for (i = 0; i < 2000 && (qtest_readl(qts, UART_BASE + 0x18) & 0x10);
         i++) {
        g_usleep(1000);
    }
    g_free(cmd);
    cmd = g_strdup_printf("m0;%" PRIu64 ";%d;4", phys, UART_BASE);
    mcd_check_reply(fd, cmd, "42000000");
    mcd_check_reply(fd, "C0;0", "success");
    g_usleep(100 * 1000);
    g_assert_cmphex(qtest_readl(qts, SMP_COUNTERS), ==, 'A');
    mcd_check_reply(fd, "D", "success");
    close(ser);
    close(fd);
    qtest_quit(qts);
    unlink(path);
}

/*
 * With -no-reboot a system reset would end QEMU: the debugger's is
 * refused, and QEMU and the guest go on; a core reset still works.
 */
static void test_reset_no_reboot(void)
{
    ArmTest t = { 0 };
    QDict *rsp;

    arm_start(&t, false, "-no-reboot");
    mcd_check_reply(t.fd, "qprotocolerrors,resethalt",
                    PROTOCOL("errors,resethalt"));
    mcd_check_reply(t.fd, "r0;0;0", "error=6400.text=QEMU runs with "
                    "-no-reboot or -action reboot=shutdown: a system reset "
                    "would not happen.");
    mcd_check_reply(t.fd, "C1;0", "success");
    mcd_check_running(t.qts);
    /* a core reset and halt of the only core stops the VM as a whole */
    mcd_check_reply(t.fd, "r1;0;1", "success");
    rsp = qtest_qmp(t.qts, "{ 'execute': 'query-status' }");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "status"),
                    ==, "debug");
    qobject_unref(rsp);
    arm_end(&t);
}

/*
 * The logical spaces walk the tables of the regime they stand for, with
 * the MMU on.  The tables map 1 GiB blocks (4 KiB granule, 39-bit
 * addresses, level 1): EL3's map 0x40000000 flat (the guest's code) and
 * 0xc0000000 to 0x40000000; EL1's map 0x40000000 flat, 0x80000000 to
 * 0x40000000 and 0x00000000 to 0x40000000 read-only.  The guest runs at
 * EL3 with EL3's MMU on, then in Non-secure EL1 with EL1's.
 */
#define MMU_TABLES_EL3  0x40400000
#define MMU_TABLES_EL1  0x40401000
#define MMU_TCR         (25 | 1 << 8 | 1 << 10 | 3 << 12)
#define MMU_BLOCK(pa)   ((uint64_t)(pa) | 1 << 10 | 3 << 8 | 1)
#define MMU_RO          (2 << 6)
#define GIB(n)          ((uint64_t)(n) << 30)

/* Read 4 bytes of space @space at @addr: the hex, or "error". */
static char *mmu_read(ArmTest *t, const char *space, uint64_t addr)
{
    g_autofree char *cmd = g_strdup_printf("m0;%" PRIu64 ";%" PRIu64 ";4",
                                           space_id(t, space), addr);

    return mcd_query(t->fd, cmd);
}

static void mmu_check_read(ArmTest *t, const char *space, uint64_t addr,
                           const char *expected)
{
    g_autofree char *got = mmu_read(t, space, addr);

    g_test_message("%s 0x%" PRIx64 ": %s", space, addr, got);
    g_assert_cmpstr(got, ==, expected);
}

static void mmu_write_sysreg(ArmTest *t, const char *name, uint64_t value)
{
    g_autofree char *reply = write_reg(t, name, value);

    g_assert_cmpstr(reply, ==, "success");
    g_assert_cmphex(read_reg(t, 0, name), ==, value);
}

/* The guest counts on for a while, then the VM is stopped again. */
static void mmu_check_guest_runs(ArmTest *t)
{
    uint64_t counter = guest_counter(t);
    int i;

    vm_cont(t);
    for (i = 0; i < 2000 && guest_counter(t) <= counter + 10; i++) {
        g_usleep(10 * 1000);
    }
    vm_stop(t);
    g_assert_cmpuint(guest_counter(t), >, counter + 10);
}

static void test_mmu(void)
{
    ArmTest t = { 0 };
    uint64_t el3[4] = { 0, MMU_BLOCK(0x40000000), 0, MMU_BLOCK(0x40000000) };
    uint64_t el1[4] = {
        MMU_BLOCK(0x40000000) | MMU_RO, MMU_BLOCK(0x40000000),
        MMU_BLOCK(0x40000000), 0,
    };
    g_autofree char *cmd = NULL;
    int i;

    arm_start(&t, true, "");
    for (i = 0; i < 4; i++) {
        el3[i] = cpu_to_le64(el3[i]);
        el1[i] = cpu_to_le64(el1[i]);
    }
    qtest_memwrite(t.qts, MMU_TABLES_EL3, el3, sizeof(el3));
    qtest_memwrite(t.qts, MMU_TABLES_EL1, el1, sizeof(el1));
    qtest_writel(t.qts, SCRATCH, cpu_to_le32(0x12345678));

    /*
     * At EL3 with SCR_EL3.NS clear, the EL1 registers are the Secure
     * world's: no Non-secure view of logical memory.
     */
    g_assert_cmphex(read_reg(&t, 0, "cpsr") & 0xc, ==, 0xc);
    mmu_check_read(&t, "Non Secure", SCRATCH, "error");

    /* EL3's MMU on: the Secure space is EL3's regime */
    mmu_write_sysreg(&t, "MAIR_EL3", 0xff);
    mmu_write_sysreg(&t, "TCR_EL3", MMU_TCR | 2 << 16);
    mmu_write_sysreg(&t, "TTBR0_EL3", MMU_TABLES_EL3);
    mmu_write_sysreg(&t, "SCTLR_EL3", read_reg(&t, 0, "SCTLR_EL3") | 1);
    mmu_check_read(&t, "Secure", SCRATCH, "78563412");
    mmu_check_read(&t, "Secure", SCRATCH + GIB(2), "78563412");
    mmu_check_read(&t, "Secure", SCRATCH + GIB(1), "error");
    mmu_check_read(&t, "Secure", SCRATCH - GIB(1), "error");
    /* a write through the alias lands in physical memory */
    cmd = g_strdup_printf("M0;%" PRIu64 ";%" PRIu64 ";4;aabbccdd",
                          space_id(&t, "Secure"), SCRATCH + GIB(2));
    mcd_check_reply(t.fd, cmd, "success");
    mmu_check_read(&t, "Physical (Secure)", SCRATCH, "aabbccdd");
    g_free(cmd);
    /* and one to an unmapped address changes nothing */
    cmd = g_strdup_printf("M0;%" PRIu64 ";%" PRIu64 ";4;00000000",
                          space_id(&t, "Secure"), SCRATCH + GIB(1));
    mcd_check_reply(t.fd, cmd, "error");
    mmu_check_read(&t, "Physical (Secure)", SCRATCH, "aabbccdd");

    /* the guest runs with EL3's MMU on */
    mmu_check_guest_runs(&t);

    /*
     * EL1's tables, and SCR_EL3.NS set: at EL3 about to return to
     * Non-secure, the Non Secure space is the EL1&0 regime.
     */
    mmu_write_sysreg(&t, "MAIR_EL1", 0xff);
    mmu_write_sysreg(&t, "TCR_EL1", MMU_TCR | 1 << 23 | 2ULL << 32);
    mmu_write_sysreg(&t, "TTBR0_EL1", MMU_TABLES_EL1);
    /* SCTLR_EL1 is named after its AArch32 view */
    mmu_write_sysreg(&t, "SCTLR", read_reg(&t, 0, "SCTLR") | 1);
    mmu_write_sysreg(&t, "SCR_EL3", read_reg(&t, 0, "SCR_EL3") | 0x401);
    mmu_check_read(&t, "Non Secure", SCRATCH + GIB(1), "aabbccdd");
    mmu_check_read(&t, "Non Secure", SCRATCH + GIB(2), "error");

    /* into Non-secure EL1h: each space keeps its regime */
    g_free(cmd);
    cmd = write_reg(&t, "cpsr", (read_reg(&t, 0, "cpsr") & ~0xfULL) | 0x5);
    g_assert_cmpstr(cmd, ==, "success");
    mmu_check_read(&t, "Non Secure", SCRATCH, "aabbccdd");
    mmu_check_read(&t, "Non Secure", SCRATCH + GIB(1), "aabbccdd");
    mmu_check_read(&t, "Non Secure", SCRATCH + GIB(2), "error");
    /* read-only for EL1, not for a debugger */
    mmu_check_read(&t, "Non Secure", SCRATCH - GIB(1), "aabbccdd");
    g_free(cmd);
    cmd = g_strdup_printf("M0;%" PRIu64 ";%" PRIu64 ";4;01020304",
                          space_id(&t, "Non Secure"),
                          SCRATCH - GIB(1));
    mcd_check_reply(t.fd, cmd, "success");
    mmu_check_read(&t, "Physical (Non Secure)", SCRATCH, "01020304");
    /* Secure from Non-secure: EL3's tables, not EL1's */
    mmu_check_read(&t, "Secure", SCRATCH + GIB(2), "01020304");
    mmu_check_read(&t, "Secure", SCRATCH + GIB(1), "error");

    /* the guest runs in Non-secure EL1 with EL1's MMU on */
    mmu_check_guest_runs(&t);
    g_assert_cmphex(read_reg(&t, 0, "cpsr") & 0xc, ==, 0x4);
    arm_end(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/mcd/arm/lists", test_lists);
    qtest_add_func("/mcd/arm/lists-secure", test_lists_secure);
    qtest_add_func("/mcd/arm/registers", test_registers);
    qtest_add_func("/mcd/arm/registers-secure", test_registers_secure);
    qtest_add_func("/mcd/arm/sysreg-write", test_sysreg_write);
    qtest_add_func("/mcd/arm/sysreg-write-secure", test_sysreg_write_secure);
    qtest_add_func("/mcd/arm/memory", test_memory);
    qtest_add_func("/mcd/arm/memory-secure", test_memory_secure);
    qtest_add_func("/mcd/arm/secure-ram", test_secure_ram);
    qtest_add_func("/mcd/arm/smp", test_smp);
    qtest_add_func("/mcd/arm/cpus", test_cpus);
    qtest_add_func("/mcd/arm/run-control", test_run_control);
    qtest_add_func("/mcd/arm/triggers", test_triggers);
    qtest_add_func("/mcd/arm/step", test_step);
    qtest_add_func("/mcd/arm/smp-run-control", test_smp_run);
    qtest_add_func("/mcd/arm/reset", test_reset);
    qtest_add_func("/mcd/arm/reset-no-reboot", test_reset_no_reboot);
    qtest_add_func("/mcd/arm/with-gdbstub", test_with_gdbstub);
    qtest_add_func("/mcd/arm/slow-reader", test_slow_reader);
    qtest_add_func("/mcd/arm/no-side-effects", test_no_side_effects);
    if (is_aa64()) {
        qtest_add_func("/mcd/arm/el1-aarch32", test_el1_aarch32);
        qtest_add_func("/mcd/arm/mmu", test_mmu);
    }

    return g_test_run();
}
