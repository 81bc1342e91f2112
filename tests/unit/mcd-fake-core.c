/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake MCD stub core (mcdstub/core.h) for testing and fuzzing the
 * protocol layer without QEMU's CPUs.
 *
 * Core 0 has two memory spaces, two register groups and three registers;
 * core 1 has empty lists; there is no core 2.  Memory space 1 is 64 KiB
 * of RAM from address 0x1000; the register "sys.reg" is read-only.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "mcdstub/core.h"
#include "mcd-fake-core.h"

unsigned mcd_fake_detach_count;

#define FAKE_RAM_BASE 0x1000
#define FAKE_RAM_SIZE 0x10000

static uint8_t fake_ram[FAKE_RAM_SIZE];
static uint64_t fake_reg_values[3];

static const MCDResetClass fake_resets[] = {
    { 0, "full_system_reset" },
    { 1, "core_reset" },
};

static const MCDMemSpace fake_memspaces[] = {
    { 1, "Physical", MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM,
      8, 1, MCD_ENDIAN_LITTLE, 0, UINT64_MAX, 0 },
    { 2, "GPR Registers", MCD_MEM_SPACE_IS_REGISTERS,
      8, 1, MCD_ENDIAN_LITTLE, 0, UINT64_MAX, 0 },
};

static const MCDRegister fake_regs[] = {
    { 0, "r0", 32, 1, 2, 0, -1 },
    { 15, "pc", 32, 1, 2, 0, -1 },
    { 100, "sys.reg", 64, 2, 2, 0x1234, 0 },
};

void mcd_target_init(void)
{
}

struct MCDSession {
    const MCDSessionOps *ops;
    void *opaque;
};

static MCDSession *fake_session;

MCDSession *mcd_session_new(const MCDSessionOps *ops, void *opaque)
{
    MCDSession *s = g_new0(MCDSession, 1);

    s->ops = ops;
    s->opaque = opaque;
    fake_session = s;
    return s;
}

void mcd_fake_stop(uint32_t core)
{
    if (fake_session) {
        fake_session->ops->stopped(fake_session->opaque, core);
    }
}

char *mcd_core_model(uint32_t index)
{
    return index < MCD_FAKE_NR_CORES ? g_strdup("fake-cpu") : NULL;
}

const char *mcd_core_arch(uint32_t index, uint32_t *elf_machine)
{
    *elf_machine = 0;
    return index < MCD_FAKE_NR_CORES ? "fake" : NULL;
}

static bool fake_running = true;

void mcd_session_free(MCDSession *s)
{
    if (s) {
        fake_running = true;
        mcd_fake_detach_count++;
        if (fake_session == s) {
            fake_session = NULL;
        }
        g_free(s);
    }
}

MCDSystemInfo *mcd_system_info(void)
{
    MCDSystemInfo *info = g_new0(MCDSystemInfo, 1);

    info->device = g_strdup("fake-1.0");
    info->core_model = g_strdup("fake-cpu");
    info->nr_cores = MCD_FAKE_NR_CORES;
    return info;
}

const MCDResetClass *mcd_reset_classes(size_t *count)
{
    *count = ARRAY_SIZE(fake_resets);
    return fake_resets;
}

MCDCore *mcd_core_open(MCDSession *s, uint32_t index, MCDModel model,
                       Error **errp)
{
    MCDCore *core;
    MCDRegGroup g;

    if (index >= MCD_FAKE_NR_CORES) {
        error_setg(errp, "no core %" PRIu32, index);
        return NULL;
    }
    core = mcd_core_new(index);
    core->session = s;
    if (index == 0) {
        g_array_append_vals(core->memspaces, fake_memspaces,
                            ARRAY_SIZE(fake_memspaces));
        g = (MCDRegGroup) { 1, g_strdup("core") };
        g_array_append_val(core->reggroups, g);
        g = (MCDRegGroup) { 2, g_strdup("system") };
        g_array_append_val(core->reggroups, g);
        g_array_append_vals(core->regs, fake_regs, ARRAY_SIZE(fake_regs));
    }
    return core;
}

static uint64_t *fake_reg(const MCDRegister *reg)
{
    return &fake_reg_values[reg->id == 0 ? 0 : reg->id == 15 ? 1 : 2];
}

uint32_t mcd_core_read_register(MCDCore *core, const MCDRegister *reg,
                                GByteArray *buf, Error **errp)
{
    uint64_t v = cpu_to_le64(*fake_reg(reg));

    g_byte_array_append(buf, (uint8_t *)&v, reg->bits / 8);
    return MCD_ERR_NONE;
}

uint32_t mcd_core_read_registers(MCDCore *core, const MCDRegister **regs,
                                 size_t n, GByteArray *buf, Error **errp)
{
    size_t i;

    for (i = 0; i < n; i++) {
        mcd_core_read_register(core, regs[i], buf, errp);
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_core_write_register(MCDCore *core, const MCDRegister *reg,
                                 const uint8_t *data, Error **errp)
{
    uint64_t v = 0;

    if (reg->sysreg >= 0) {
        error_setg(errp, "system register %s is read-only", reg->name);
        return MCD_ERR_TXLIST_WRITE;
    }
    memcpy(&v, data, reg->bits / 8);
    *fake_reg(reg) = le64_to_cpu(v);
    return MCD_ERR_NONE;
}

uint32_t mcd_core_access_memory(MCDCore *core, const MCDMemSpace *ms,
                                uint64_t addr, uint8_t *buf, size_t len,
                                bool is_write, uint32_t options,
                                Error **errp)
{
    if (addr < FAKE_RAM_BASE || addr - FAKE_RAM_BASE > FAKE_RAM_SIZE ||
        len > FAKE_RAM_SIZE - (addr - FAKE_RAM_BASE)) {
        error_setg(errp, "cannot %s 0x%" PRIx64, is_write ? "write" : "read",
                   addr);
        return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
    }
    if (!len) {
        /* nothing to move; @buf may be NULL */
        return MCD_ERR_NONE;
    }
    if (is_write) {
        memcpy(fake_ram + (addr - FAKE_RAM_BASE), buf, len);
    } else {
        memcpy(buf, fake_ram + (addr - FAKE_RAM_BASE), len);
    }
    return MCD_ERR_NONE;
}

static uint32_t fake_stop_seq;

void mcd_core_get_state(MCDCore *core, MCDStateRecord *st)
{
    memset(st, 0, sizeof(*st));
    st->state = fake_running ? MCD_RUN_RUNNING : MCD_RUN_DEBUG;
    st->stop_seq = fake_running ? 0 : fake_stop_seq;
    st->stop_reason = g_strdup(fake_running ? "" : "stopped on request");
    st->info = g_strdup_printf("core %" PRIu32 " %s", core->index,
                               fake_running ? "running" : "stopped");
}

uint32_t mcd_core_go(MCDSession *s, MCDCore *core, Error **errp)
{
    fake_running = true;
    return MCD_ERR_NONE;
}

uint32_t mcd_core_break(MCDSession *s, MCDCore *core, Error **errp)
{
    if (fake_running) {
        fake_stop_seq++;
    }
    fake_running = false;
    return MCD_ERR_NONE;
}

unsigned mcd_fake_steps;
bool mcd_fake_step_irqs;

uint32_t mcd_core_step(MCDCore *core, uint32_t count, bool irqs,
                       Error **errp)
{
    if (fake_running) {
        error_setg(errp, "core %" PRIu32 " is running", core->index);
        return MCD_ERR_USAGE;
    }
    mcd_fake_steps += count;
    mcd_fake_step_irqs = irqs;
    return MCD_ERR_NONE;
}

int mcd_fake_reset_class = -1;
int mcd_fake_reset_core = -1;
bool mcd_fake_reset_halt;

uint32_t mcd_target_reset(MCDSession *s, uint32_t rst_class, MCDCore *core,
                          bool halt, bool *pending, Error **errp)
{
    *pending = false;
    if (rst_class > 1) {
        error_setg(errp, "unknown reset class %" PRIu32, rst_class);
        return MCD_ERR_PARAM;
    }
    mcd_fake_reset_class = rst_class;
    mcd_fake_reset_core = core ? core->index : -1;
    mcd_fake_reset_halt = halt;
    return MCD_ERR_NONE;
}

uint64_t mcd_fake_trigger_len;

uint32_t mcd_core_set_trigger(MCDCore *core, uint32_t type, uint64_t addr,
                              uint64_t len, uint32_t id, bool insert,
                              Error **errp)
{
    if (type < MCD_TRIG_BREAKPOINT || type > MCD_TRIG_ACCESS) {
        error_setg(errp, "unknown trigger type %" PRIu32, type);
        return MCD_ERR_TRIG_CREATE;
    }
    mcd_fake_trigger_len = len;
    return MCD_ERR_NONE;
}

void mcd_core_remove_triggers(MCDCore *core)
{
}
