/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core on top of QEMU: machine, CPUs, address spaces and the
 * gdbstub register API.
 *
 * An architecture description (arch.h) supplies the memory spaces,
 * register group names and system registers of its CPUs; CPUs without
 * one get the generic description: the CPU's address spaces as physical
 * memory spaces, one register group per gdb feature.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "exec/gdbstub.h"
#include "exec/memory.h"
#include "exec/target_page.h"
#include "exec/tswap.h"
#include "elf.h"
#include "qemu/cutils.h"
#include "qemu/rcu.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "system/cpu-timers.h"
#include "system/hw_accel.h"
#include "arch.h"
#include "trace.h"

static GPtrArray *mcd_archs;

void mcd_arch_register(const MCDArchOps *ops)
{
    if (!mcd_archs) {
        mcd_archs = g_ptr_array_new();
    }
    g_ptr_array_add(mcd_archs, (gpointer)ops);
}

static const MCDArchOps *mcd_arch_of(CPUState *cpu)
{
    size_t i;

    for (i = 0; mcd_archs && i < mcd_archs->len; i++) {
        const MCDArchOps *ops = g_ptr_array_index(mcd_archs, i);

        if (object_dynamic_cast(OBJECT(cpu), ops->cpu_type)) {
            return ops;
        }
    }
    return NULL;
}

char *mcd_core_model(uint32_t index)
{
    CPUState *cpu = index <= INT_MAX ? qemu_get_cpu(index) : NULL;

    return cpu ? g_strdup(object_get_typename(OBJECT(cpu))) : NULL;
}

/* ELF machines by gdb's architecture names, then by QEMU's target names. */
static const struct {
    const char *prefix;
    uint32_t machine;
} mcd_elf_machines[] = {
    { "aarch64", EM_AARCH64 },
    { "arm", EM_ARM },
    { "iwmmxt", EM_ARM },
    { "i386:x86-64", EM_X86_64 },
    { "x86_64", EM_X86_64 },
    { "i386", EM_386 },
    { "riscv", EM_RISCV },
    { "powerpc:common64", EM_PPC64 },
    { "ppc64", EM_PPC64 },
    { "powerpc", EM_PPC },
    { "ppc", EM_PPC },
    { "s390", EM_S390 },
    { "loongarch", EM_LOONGARCH },
    { "tricore", EM_TRICORE },
    { "m68k", EM_68K },
    { "mips", EM_MIPS },
    { "sparc64", EM_SPARCV9 },
    { "sparc", EM_SPARC },
    { "or1k", EM_OPENRISC },
    { "xtensa", EM_XTENSA },
    { "hppa", EM_PARISC },
    { "microblaze", EM_MICROBLAZE },
    { "sh4", EM_SH },
    { "avr", EM_AVR },
    { "alpha", EM_ALPHA },
    { "rx", EM_RX },
    { "hexagon", EM_HEXAGON },
};

const char *mcd_core_arch(uint32_t index, uint32_t *elf_machine)
{
    CPUState *cpu = index <= INT_MAX ? qemu_get_cpu(index) : NULL;
    const char *arch;
    size_t i;

    *elf_machine = EM_NONE;
    if (!cpu) {
        return NULL;
    }
    arch = cpu->cc->gdb_arch_name ? cpu->cc->gdb_arch_name(cpu) : NULL;
    if (!arch) {
        arch = target_name();
    }
    for (i = 0; i < ARRAY_SIZE(mcd_elf_machines); i++) {
        if (g_str_has_prefix(arch, mcd_elf_machines[i].prefix)) {
            *elf_machine = mcd_elf_machines[i].machine;
            break;
        }
    }
    return arch;
}

MCDSystemInfo *mcd_system_info(void)
{
    MachineClass *mc = MACHINE_GET_CLASS(current_machine);
    MCDSystemInfo *info = g_new0(MCDSystemInfo, 1);
    CPUState *cpu;

    info->device = g_strdup(mc->alias ?: mc->name);
    info->core_model = g_strdup(first_cpu ?
                                object_get_typename(OBJECT(first_cpu)) : "");
    CPU_FOREACH(cpu) {
        info->nr_cores++;
    }
    return info;
}

uint32_t mcd_add_memspace(MCDCore *core, const char *name, uint32_t type,
                          uint32_t arch_flags)
{
    MCDMemSpace ms = {
        .id = core->memspaces->len + 1,
        .access_options = type & MCD_MEM_SPACE_IS_REGISTERS ? 0 :
                          MCD_TX_OPT_SIDE_EFFECTS |
                          MCD_TX_OPT_NO_SIDE_EFFECTS,
        .name = name,
        .type = type,
        .bits_per_mau = 8,
        .invariance = 1,
        .endian = target_words_bigendian() ? MCD_ENDIAN_BIG
                                           : MCD_ENDIAN_LITTLE,
        .min_addr = 0,
        .max_addr = UINT64_MAX,
        .arch_flags = arch_flags,
    };

    g_array_append_val(core->memspaces, ms);
    return ms.id;
}

/* Generic memory spaces: each address space of the CPU, physical. */
static void generic_memspaces(MCDCore *core, CPUState *cpu,
                              uint32_t *gpr_space, uint32_t *sys_space)
{
    int i;

    for (i = 0; i < cpu->num_ases; i++) {
        AddressSpace *as = cpu_get_address_space(cpu, i);

        mcd_add_memspace(core, i == 0 ? "Physical" : as->name,
                         MCD_MEM_SPACE_IS_PHYSICAL | MCD_MEM_SPACE_IS_PROGRAM,
                         i);
    }
    *gpr_space = mcd_add_memspace(core, "GPR Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
    *sys_space = *gpr_space;
}

/* The id of the register group @name, adding it if it is new. */
static uint32_t reggroup_id(MCDCore *core, const char *name)
{
    MCDRegGroup group;
    size_t i;

    for (i = 0; i < core->reggroups->len; i++) {
        MCDRegGroup *g = &g_array_index(core->reggroups, MCDRegGroup, i);

        if (g_str_equal(g->name, name)) {
            return g->id;
        }
    }
    group.id = core->reggroups->len + 1;
    group.name = g_strdup(name);
    g_array_append_val(core->reggroups, group);
    return group.id;
}

/*
 * QEMU's own structure: per address space a physical and a logical
 * space, the secure ones flagged, then every register in one space.
 * arch_flags: the address space index, | MCD_QEMU_LOGICAL.
 */
#define MCD_QEMU_LOGICAL 0x100

static void qemu_memspaces(MCDCore *core, CPUState *cpu, uint32_t *reg_space)
{
    MemTxAttrs secure_attrs = { .secure = 1 };
    int secure = cpu->num_ases > 1 ? cpu_asidx_from_attrs(cpu, secure_attrs)
                                   : -1;
    int i;

    for (i = 0; i < cpu->num_ases; i++) {
        AddressSpace *as = cpu_get_address_space(cpu, i);
        uint32_t flag = i == secure ? MCD_MEM_SPACE_IS_SECURE : 0;

        mcd_add_memspace(core, memory_region_name(as->root),
                         MCD_MEM_SPACE_IS_PHYSICAL | flag, i);
        mcd_add_memspace(core, as->name, MCD_MEM_SPACE_IS_LOGICAL | flag,
                         i | MCD_QEMU_LOGICAL);
    }
    *reg_space = mcd_add_memspace(core, "GDB Registers",
                                  MCD_MEM_SPACE_IS_REGISTERS, 0);
}

/* A group name for a gdb feature: "org.gnu.gdb.arm.core" -> "arm core" */
static char *generic_group_name(const char *feature)
{
    const char *short_name = feature;

    if (!strstart(feature, "org.gnu.gdb.", &short_name)) {
        strstart(feature, "org.qemu.gdb.", &short_name);
    }
    return g_strdelimit(g_strdup(short_name), ".", ' ');
}

static void build_registers(MCDCore *core, CPUState *cpu,
                            const MCDArchOps *arch,
                            uint32_t gpr_space, uint32_t sys_space)
{
    g_autoptr(GArray) descs = gdb_get_register_list(cpu);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    const char *feature = NULL;
    int feature_base = 0;
    size_t i, n = core->regs->len;

    /* at most one register per description: sized once, trimmed below */
    g_array_set_size(core->regs, n + descs->len);

    for (i = 0; i < descs->len; i++) {
        GDBRegDesc *d = &g_array_index(descs, GDBRegDesc, i);
        const char *fname = d->feature_name ?: "registers";
        const char *gname;
        g_autofree char *generic = NULL;
        MCDRegister reg = { .sysreg = -1 };
        int size;

        /* the registers of a feature are numbered from its base */
        if (!feature || !g_str_equal(feature, fname)) {
            feature = fname;
            feature_base = d->gdb_reg;
        }
        if (!d->name) {
            continue;
        }
        gname = arch && core->model == MCD_MODEL_ARCH ?
                arch->group_name(fname, d->name) : NULL;
        g_byte_array_set_size(buf, 0);
        size = gdb_read_register(cpu, buf, d->gdb_reg);
        if (size <= 0) {
            continue;
        }
        if (!gname && core->model == MCD_MODEL_QEMU) {
            /* the feature's name, as short as the MCD API's names */
            gname = generic = g_strndup(fname, 31);
        } else if (!gname) {
            gname = generic = generic_group_name(fname);
        }
        reg.id = d->gdb_reg;
        reg.name = d->name;
        reg.bits = size * 8;
        reg.group_id = reggroup_id(core, gname);
        reg.memspace_id = gpr_space;
        if (arch && arch->sysreg &&
            arch->sysreg(cpu, fname, d->gdb_reg - feature_base,
                         &reg.opcode)) {
            reg.sysreg = d->gdb_reg - feature_base;
            reg.memspace_id = sys_space;
        }
        g_array_index(core->regs, MCDRegister, n++) = reg;
    }
    g_array_set_size(core->regs, n);
}

MCDCore *mcd_core_open(MCDSession *s, uint32_t index, MCDModel model,
                       Error **errp)
{
    CPUState *cpu = index <= INT_MAX ? qemu_get_cpu(index) : NULL;
    const MCDArchOps *arch;
    uint32_t gpr_space, sys_space;
    MCDCore *core;

    if (!cpu) {
        error_setg(errp, "no core %" PRIu32, index);
        return NULL;
    }
    arch = mcd_arch_of(cpu);
    core = mcd_core_new(index);
    core->session = s;
    core->model = model;
    core->arch = arch;
    if (model == MCD_MODEL_QEMU) {
        qemu_memspaces(core, cpu, &gpr_space);
        sys_space = gpr_space;
    } else if (arch) {
        arch->add_memspaces(core, cpu, &gpr_space, &sys_space);
    } else {
        generic_memspaces(core, cpu, &gpr_space, &sys_space);
    }
    build_registers(core, cpu, arch, gpr_space, sys_space);

    trace_mcd_core_open(index, core->memspaces->len, core->reggroups->len,
                        core->regs->len);
    return core;
}

/* The CPU of an opened core, unless it was unplugged since. */
static CPUState *core_cpu(MCDCore *core, Error **errp)
{
    CPUState *cpu = qemu_get_cpu(core->index);

    if (!cpu) {
        error_setg(errp, "core %" PRIu32 " is gone", core->index);
    }
    return cpu;
}

uint32_t mcd_core_read_registers(MCDCore *core, const MCDRegister **regs,
                                 size_t n, GByteArray *buf, Error **errp)
{
    CPUState *cpu = core_cpu(core, errp);
    const MCDArchOps *arch = core->arch;
    size_t i;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    cpu_synchronize_state(cpu);
    /* the vCPU thread owns the state of a running core: read as it is */
    if (arch && arch->sync_registers && cpu_is_stopped(cpu)) {
        arch->sync_registers(cpu, false);
    }
    for (i = 0; i < n; i++) {
        if (gdb_read_register(cpu, buf, regs[i]->id) != regs[i]->bits / 8) {
            error_setg(errp, "cannot read register %s", regs[i]->name);
            return MCD_ERR_TXLIST_READ;
        }
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_core_read_register(MCDCore *core, const MCDRegister *reg,
                                GByteArray *buf, Error **errp)
{
    return mcd_core_read_registers(core, &reg, 1, buf, errp);
}

/* More than any gdbstub write function takes beyond a register's size */
#define MCD_REG_SLACK   16

uint32_t mcd_core_write_register(MCDCore *core, const MCDRegister *reg,
                                 const uint8_t *data, Error **errp)
{
    CPUState *cpu = core_cpu(core, errp);
    const MCDArchOps *arch = core->arch;
    int size = reg->bits / 8;
    g_autoptr(GByteArray) old = g_byte_array_sized_new(size + MCD_REG_SLACK);
    g_autofree uint8_t *copy = NULL;
    size_t read;
    int done;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    /* the vCPU thread owns the registers of a running core */
    if (!cpu_is_stopped(cpu)) {
        error_setg(errp, "core %" PRIu32 " is running", core->index);
        return MCD_ERR_TXLIST_WRITE;
    }
    cpu_synchronize_state(cpu);
    if (reg->sysreg >= 0 && arch && arch->write_sysreg) {
        return arch->write_sysreg(cpu, reg->sysreg, data, size, errp);
    }
    if (arch && arch->sync_registers) {
        arch->sync_registers(cpu, false);
    }
    if (arch && arch->check_write &&
        !arch->check_write(cpu, reg->id, data, size, errp)) {
        return MCD_ERR_TXLIST_WRITE;
    }
    /*
     * gdbstub's write functions may take more bytes than the register
     * reads as (RISC-V's F registers without D): give them zeros, never
     * bytes beyond the buffer.
     */
    copy = g_malloc0(size + MCD_REG_SLACK);
    memcpy(copy, data, size);
    gdb_read_register(cpu, old, reg->id);
    read = old->len;
    g_byte_array_set_size(old, size + MCD_REG_SLACK);
    memset(old->data + read, 0, old->len - read);
    done = gdb_write_register(cpu, copy, reg->id);
    /*
     * Some registers take fewer bytes in some modes (x86's control
     * registers outside 64-bit mode take 4; check_write refused values
     * that do not fit); anything else put the old value back.
     */
    if (done <= 0 || done > size ||
        (done < size && !buffer_is_zero(data + done, size - done))) {
        if (done > 0) {
            gdb_write_register(cpu, old->data, reg->id);
        }
        error_setg(errp, "register %s cannot be written", reg->name);
        return MCD_ERR_TXLIST_WRITE;
    }
    if (arch && arch->sync_registers) {
        arch->sync_registers(cpu, true);
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_check_physical(AddressSpace *as, MemTxAttrs attrs,
                            uint64_t addr, size_t len, bool is_write,
                            uint32_t options, Error **errp)
{
    uint32_t err = is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;

    /* a ROM takes the debugger's writes (address_space_write_rom()) */
    if (len && !address_space_access_valid(as, addr, len, false, attrs)) {
        error_setg(errp, "cannot %s 0x%" PRIx64 "..0x%" PRIx64 " in %s: "
                   "not all of it is mapped", is_write ? "write" : "read",
                   addr, addr + len - 1, as->name);
        return err;
    }
    if (!(options & MCD_TX_OPT_NO_SIDE_EFFECTS)) {
        return MCD_ERR_NONE;
    }
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr;

        RCU_READ_LOCK_GUARD();
        mr = address_space_translate(as, addr, &xlat, &l, is_write, attrs);
        if (!memory_region_is_ram(mr) && !memory_region_is_romd(mr)) {
            error_setg(errp, "0x%" PRIx64 " in %s is a device (%s): no "
                       "access without side effects", addr, as->name,
                       memory_region_name(mr));
            return err;
        }
        addr += l;
        len -= l;
    }
    return MCD_ERR_NONE;
}

static uint32_t access_physical(AddressSpace *as, MemTxAttrs attrs,
                                uint64_t addr, uint8_t *buf, size_t len,
                                bool is_write, Error **errp)
{
    MemTxResult res;

    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr;
        bool rom;

        RCU_READ_LOCK_GUARD();
        mr = address_space_translate(as, addr, &xlat, &l, is_write, attrs);
        rom = memory_region_is_rom(mr) || memory_region_is_romd(mr);
        if (!is_write) {
            res = address_space_read_full(as, addr, attrs, buf, l);
        } else if (rom) {
            /* as a debugger expects: a ROM write changes the ROM */
            res = address_space_write_rom(as, addr, attrs, buf, l);
        } else {
            res = address_space_write(as, addr, attrs, buf, l);
        }
        if (res != MEMTX_OK) {
            error_setg(errp, "cannot %s 0x%" PRIx64 " in %s",
                       is_write ? "write" : "read", addr, as->name);
            return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
        }
        addr += l;
        buf += l;
        len -= l;
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_access_physical(CPUState *cpu, AddressSpace *as,
                             MemTxAttrs attrs, uint64_t addr, uint8_t *buf,
                             size_t len, bool is_write, uint32_t options,
                             Error **errp)
{
    CPUState *saved = current_cpu;
    uint32_t ret;

    if (is_write || (options & MCD_TX_OPT_NO_SIDE_EFFECTS)) {
        ret = mcd_check_physical(as, attrs, addr, len, is_write, options,
                                 errp);
        if (ret != MCD_ERR_NONE) {
            return ret;
        }
    }
    /*
     * Banked device registers (the GIC's CPU interface, say) answer for
     * current_cpu: the named core's, not none at all.  Not with icount,
     * whose clock must not read another thread's vCPU from here.
     */
    if (!icount_enabled()) {
        current_cpu = cpu;
    }
    ret = access_physical(as, attrs, addr, buf, len, is_write, errp);
    current_cpu = saved;
    return ret;
}

/*
 * Access a range of a logical space page by page, or with @buf %NULL
 * only check it.
 */
static uint32_t access_logical(CPUState *cpu, const MCDMemSpace *ms,
                               MCDTranslateFn translate, uint64_t addr,
                               uint8_t *buf, size_t len, bool is_write,
                               uint32_t options, Error **errp)
{
    uint64_t page_size = qemu_target_page_size();

    while (len) {
        uint64_t page = addr & ~(page_size - 1);
        size_t chunk = MIN(len, page + page_size - addr);
        MemTxAttrs attrs = {};
        AddressSpace *as;
        hwaddr phys;
        uint32_t ret;

        phys = translate(cpu, ms, page, &attrs);
        if (phys == -1) {
            error_setg(errp, "0x%" PRIx64 " is not mapped in the %s space",
                       addr, ms->name);
            return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
        }
        as = cpu_get_address_space(cpu, cpu_asidx_from_attrs(cpu, attrs));
        phys += addr - page;
        if (buf) {
            ret = mcd_access_physical(cpu, as, attrs, phys, buf, chunk,
                                      is_write, options, errp);
            buf += chunk;
        } else {
            ret = mcd_check_physical(as, attrs, phys, chunk, is_write,
                                     options, errp);
        }
        if (ret != MCD_ERR_NONE) {
            return ret;
        }
        addr += chunk;
        len -= chunk;
    }
    return MCD_ERR_NONE;
}

uint32_t mcd_access_logical(CPUState *cpu, const MCDMemSpace *ms,
                            MCDTranslateFn translate, uint64_t addr,
                            uint8_t *buf, size_t len, bool is_write,
                            uint32_t options, Error **errp)
{
    uint32_t ret;

    /* all or nothing: every page is checked first */
    if (is_write || (options & MCD_TX_OPT_NO_SIDE_EFFECTS)) {
        ret = access_logical(cpu, ms, translate, addr, NULL, len, is_write,
                             options, errp);
        if (ret != MCD_ERR_NONE) {
            return ret;
        }
    }
    return access_logical(cpu, ms, translate, addr, buf, len, is_write,
                          options, errp);
}

hwaddr mcd_translate_current(CPUState *cpu, const MCDMemSpace *ms,
                             uint64_t page, MemTxAttrs *attrs)
{
    return cpu_get_phys_page_attrs_debug(cpu, page, attrs);
}

/* A memory space of QEMU's model. */
static uint32_t qemu_access_memory(CPUState *cpu, const MCDMemSpace *ms,
                                   uint64_t addr, uint8_t *buf, size_t len,
                                   bool is_write, uint32_t options,
                                   Error **errp)
{
    int asidx = ms->arch_flags & ~MCD_QEMU_LOGICAL;
    MemTxAttrs attrs = {
        .secure = !!(ms->type & MCD_MEM_SPACE_IS_SECURE),
    };

    if (!(ms->arch_flags & MCD_QEMU_LOGICAL)) {
        return mcd_access_physical(cpu, cpu_get_address_space(cpu, asidx),
                                   attrs, addr, buf, len, is_write, options,
                                   errp);
    }
    return mcd_access_logical(cpu, ms, mcd_translate_current, addr, buf,
                              len, is_write, options, errp);
}

uint32_t mcd_core_access_memory(MCDCore *core, const MCDMemSpace *ms,
                                uint64_t addr, uint8_t *buf, size_t len,
                                bool is_write, uint32_t options,
                                Error **errp)
{
    CPUState *cpu = core_cpu(core, errp);
    const MCDArchOps *arch = core->arch;

    if (!cpu) {
        return MCD_ERR_USAGE;
    }
    if (addr + len - 1 < addr && len) {
        error_setg(errp, "address range wraps around");
        return is_write ? MCD_ERR_TXLIST_WRITE : MCD_ERR_TXLIST_READ;
    }
    if (core->model == MCD_MODEL_QEMU) {
        return qemu_access_memory(cpu, ms, addr, buf, len, is_write, options,
                                  errp);
    }
    if (arch) {
        return arch->access_memory(cpu, ms, addr, buf, len, is_write,
                                   options, errp);
    }
    /* generic: arch_flags holds the address space index */
    return mcd_access_physical(cpu, cpu_get_address_space(cpu,
                                                          ms->arch_flags),
                               MEMTXATTRS_UNSPECIFIED, addr, buf, len,
                               is_write, options, errp);
}
