/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: per-architecture descriptions.
 *
 * An architecture describes its memory spaces, names its register
 * groups, marks its system registers and gives their opcodes: data and
 * small hooks.  Registers are read and written through gdbstub; only
 * system registers, which gdbstub does not write, have a write hook.
 */

#ifndef MCDSTUB_ARCH_H
#define MCDSTUB_ARCH_H

#include "core.h"

/**
 * struct MCDArchOps - the description of an architecture
 * @cpu_type: the QOM type of its CPUs
 * @add_memspaces: add the memory spaces of @cpu to @core, memory spaces
 *                 first; set *@gpr_space and *@sys_space to the ids of
 *                 the spaces of the gdb registers and of the system
 *                 registers
 * @group_name: a register group name for register @reg of the gdb
 *              feature @feature, or %NULL for the generic one
 * @sysreg: optional; is register @index of the gdb feature @feature a
 *          system register?  If so set *@opcode to its access opcode
 * @write_sysreg: optional; write system register @index of the system
 *                register feature from @data (@len bytes, target byte
 *                order); returns an MCD error code and sets @errp on
 *                failure.  Without it gdbstub writes them.
 * @check_write: optional; whether @data (@len bytes, target byte order)
 *               can be written to register @id (a gdb register number)
 *               as it is, before anything is written: a register that
 *               takes fewer bytes in the CPU's current mode refuses a
 *               value that does not fit, with @errp set
 * @access_memory: as mcd_core_access_memory()
 * @sync_registers: optional; bring the registers gdbstub reads up to
 *                  date before a register access (@to_cpu false), or
 *                  the CPU's state up to date after a write (@to_cpu
 *                  true)
 */
struct MCDArchOps {
    const char *cpu_type;
    void (*add_memspaces)(MCDCore *core, CPUState *cpu,
                          uint32_t *gpr_space, uint32_t *sys_space);
    const char *(*group_name)(const char *feature, const char *reg);
    bool (*sysreg)(CPUState *cpu, const char *feature, int index,
                   uint32_t *opcode);
    uint32_t (*write_sysreg)(CPUState *cpu, int index, const uint8_t *data,
                             size_t len, Error **errp);
    bool (*check_write)(CPUState *cpu, int id, const uint8_t *data,
                        size_t len, Error **errp);
    uint32_t (*access_memory)(CPUState *cpu, const MCDMemSpace *ms,
                              uint64_t addr, uint8_t *buf, size_t len,
                              bool is_write, uint32_t options, Error **errp);
    void (*sync_registers)(CPUState *cpu, bool to_cpu);
};

/**
 * mcd_arch_register() - make an architecture description known
 * @ops: the description, which must stay valid
 *
 * Called by the target's code at start-up (type_init).
 */
void mcd_arch_register(const MCDArchOps *ops);

/**
 * mcd_add_memspace() - append a memory space to a core
 * @core: the core
 * @name: its name, a static string
 * @type: MCD_MEM_SPACE_IS_* bits
 * @arch_flags: private to the architecture
 *
 * The id is the next free one; 8-bit bytes in target byte order from
 * address 0 to all-ones.
 *
 * Returns: the id.
 */
uint32_t mcd_add_memspace(MCDCore *core, const char *name, uint32_t type,
                          uint32_t arch_flags);

/**
 * mcd_check_physical() - whether a range of an address space is mapped
 * @as: the address space
 * @attrs: the transaction attributes
 * @addr: the first address
 * @len: how many bytes
 * @is_write: for a write
 * @options: MCD_TX_OPT_* bits: with MCD_TX_OPT_NO_SIDE_EFFECTS only RAM
 *           and ROM pass
 * @errp: set when some address of the range is not mapped
 *
 * Touches no device: for checking a whole range before accessing any of
 * it.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_check_physical(AddressSpace *as, MemTxAttrs attrs,
                            uint64_t addr, size_t len, bool is_write,
                            uint32_t options, Error **errp);

/**
 * mcd_access_physical() - read or write memory in an address space
 * @cpu: the core whose view of banked device registers applies
 * @as: the address space
 * @attrs: the transaction attributes
 * @addr: the first address
 * @buf: the data to write, or where to read to
 * @len: how many bytes
 * @is_write: write rather than read
 * @options: MCD_TX_OPT_* bits, as for mcd_core_access_memory()
 * @errp: set on failure
 *
 * Writes to ROM change it, as a debugger expects; writes to devices are
 * device writes.  Unmapped addresses are an error, and a write with one
 * in its range writes nothing.  Devices see the access as one of @cpu
 * (current_cpu), as they would see that core's own.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_access_physical(CPUState *cpu, AddressSpace *as,
                             MemTxAttrs attrs, uint64_t addr, uint8_t *buf,
                             size_t len, bool is_write, uint32_t options,
                             Error **errp);

/**
 * typedef MCDTranslateFn - translate a page of a logical memory space
 * @cpu: the core
 * @ms: the logical space
 * @page: the virtual address of the page
 * @attrs: set to the attributes of the access; they select the address
 *         space (cpu_asidx_from_attrs())
 *
 * A debugger's translation: no side effects on the TLB or the page
 * tables.
 *
 * Returns: the physical address of the page, or -1 if it is not mapped.
 */
typedef hwaddr (*MCDTranslateFn)(CPUState *cpu, const MCDMemSpace *ms,
                                 uint64_t page, MemTxAttrs *attrs);

/**
 * mcd_translate_current() - translate in the regime the core is in now
 * @cpu: the core
 * @ms: the logical space
 * @page: the virtual address of the page
 * @attrs: set to the attributes of the access
 *
 * An MCDTranslateFn: QEMU's debug translation of the CPU
 * (cpu_get_phys_page_attrs_debug()).
 *
 * Returns: the physical address of the page, or -1 if it is not mapped.
 */
hwaddr mcd_translate_current(CPUState *cpu, const MCDMemSpace *ms,
                             uint64_t page, MemTxAttrs *attrs);

/**
 * mcd_access_logical() - read or write memory in a logical space
 * @cpu: the core
 * @ms: the logical space
 * @translate: how its pages translate
 * @addr: the first address
 * @buf: the data to write, or where to read to
 * @len: how many bytes
 * @is_write: write rather than read
 * @options: MCD_TX_OPT_* bits, as for mcd_core_access_memory()
 * @errp: set on failure
 *
 * Translates and accesses page by page, as mcd_access_physical() does;
 * a write, or a read without side effects, is all or nothing: every page
 * is translated and checked first.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_access_logical(CPUState *cpu, const MCDMemSpace *ms,
                            MCDTranslateFn translate, uint64_t addr,
                            uint8_t *buf, size_t len, bool is_write,
                            uint32_t options, Error **errp);

#endif /* MCDSTUB_ARCH_H */
