/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub core: the debug target as MCD sees it.
 *
 * Target independent and free of packet strings: the protocol layer
 * (protocol.c) talks to the target only through this interface, in MCD
 * terms (system, core, memory space, register group, register), so that
 * another front-end could sit beside it.  core.c implements it on top of
 * QEMU's CPUs and gdbstub register API.
 */

#ifndef MCDSTUB_CORE_H
#define MCDSTUB_CORE_H

/* MCD API error codes (mcd_error_code_et) that the stub reports. */
#define MCD_ERR_NONE                0x0000
#define MCD_ERR_FN_UNIMPLEMENTED    0x0100
#define MCD_ERR_USAGE               0x0101
#define MCD_ERR_PARAM               0x0102
#define MCD_ERR_GENERAL             0x0F00
#define MCD_ERR_DEVICE_ACCESS       0x1900
#define MCD_ERR_NO_MEM_SPACES       0x1401
#define MCD_ERR_MEM_SPACE_ID        0x1410
#define MCD_ERR_NO_REG_GROUPS       0x1440
#define MCD_ERR_REG_GROUP_ID        0x1441
#define MCD_ERR_TRIG_CREATE         0x3200
#define MCD_ERR_TRIG_ACCESS         0x3201
#define MCD_ERR_TXLIST_READ         0x2100
#define MCD_ERR_TXLIST_WRITE        0x2101

/* MCD memory space types (mcd_mem_type_et), bit flags */
#define MCD_MEM_SPACE_IS_REGISTERS  0x01
#define MCD_MEM_SPACE_IS_PROGRAM    0x02
#define MCD_MEM_SPACE_IS_PHYSICAL   0x10
#define MCD_MEM_SPACE_IS_LOGICAL    0x20

/* MCD endianness (mcd_endian_et) */
#define MCD_ENDIAN_LITTLE           1
#define MCD_ENDIAN_BIG              2

/**
 * typedef MCDSystemInfo - what the debugger sees of the machine
 * @device: the device name (the machine type)
 * @core_model: the CPU model of the first core (its QOM type)
 * @nr_cores: how many cores (vCPUs) there are
 */
typedef struct MCDSystemInfo {
    char *device;
    char *core_model;
    uint32_t nr_cores;
} MCDSystemInfo;

/**
 * typedef MCDMemSpace - an MCD memory space of a core
 * @id: the memory space id, from 1 up, contiguous
 * @name: its name
 * @type: MCD_MEM_SPACE_IS_* bits
 * @bits_per_mau: bits per minimal addressable unit
 * @invariance: bytes per invariant unit
 * @endian: MCD_ENDIAN_*
 * @min_addr: lowest address
 * @max_addr: highest address
 * @access_options: supported MCD access options
 * @arch_flags: private to the architecture description
 */
typedef struct MCDMemSpace {
    uint32_t id;
    const char *name;
    uint32_t type;
    uint32_t bits_per_mau;
    uint32_t invariance;
    uint32_t endian;
    uint64_t min_addr;
    uint64_t max_addr;
    uint32_t access_options;
    uint32_t arch_flags;
} MCDMemSpace;

/**
 * typedef MCDRegGroup - an MCD register group of a core
 * @id: the group id, from 1 up, contiguous
 * @name: its name
 */
typedef struct MCDRegGroup {
    uint32_t id;
    char *name;
} MCDRegGroup;

/**
 * typedef MCDRegister - one register of a core
 * @id: the register id: QEMU's gdb register number
 * @name: the register name, as gdbstub knows it
 * @bits: its size in bits
 * @group_id: the register group it belongs to
 * @memspace_id: the register memory space it is accessed through
 * @opcode: an architecture's access opcode for it, or 0
 * @sysreg: the index of a system register in the architecture's
 *          description, or -1 for the others
 */
typedef struct MCDRegister {
    uint64_t id;
    const char *name;
    uint32_t bits;
    uint32_t group_id;
    uint32_t memspace_id;
    uint32_t opcode;
    int sysreg;
} MCDRegister;

/**
 * typedef MCDResetClass - a reset the debugger can ask for
 * @id: the reset class id, 0 to 31
 * @name: its name
 */
typedef struct MCDResetClass {
    uint32_t id;
    const char *name;
} MCDResetClass;

/**
 * typedef MCDCore - a core the debugger has opened
 * @index: the core number (QEMU's cpu_index)
 * @memspaces: its memory spaces (MCDMemSpace)
 * @reggroups: its register groups (MCDRegGroup)
 * @regs: its registers (MCDRegister)
 */
typedef struct MCDCore {
    uint32_t index;
    GArray *memspaces;
    GArray *reggroups;
    GArray *regs;
} MCDCore;

/**
 * mcd_target_init() - start watching the target
 *
 * Called once when the stub starts, before the guest runs.
 */
void mcd_target_init(void);

/**
 * mcd_system_info() - describe the machine
 *
 * Returns: a new MCDSystemInfo; free it with mcd_system_info_free().
 */
MCDSystemInfo *mcd_system_info(void);

/**
 * mcd_system_info_free() - free what mcd_system_info() returned
 * @info: the description
 */
void mcd_system_info_free(MCDSystemInfo *info);

/**
 * mcd_reset_classes() - the reset classes the target offers
 * @count: set to how many there are
 *
 * Returns: a static array of @count reset classes.
 */
const MCDResetClass *mcd_reset_classes(size_t *count);

/**
 * mcd_core_open() - open a core and describe it
 * @index: the core number
 * @errp: set when there is no such core
 *
 * Returns: the new core, or %NULL on error; free it with mcd_core_close().
 */
MCDCore *mcd_core_open(uint32_t index, Error **errp);

/**
 * mcd_core_new() - a core description with empty lists
 * @index: the core number
 *
 * For implementations of mcd_core_open().
 *
 * Returns: the new core; free it with mcd_core_close().
 */
MCDCore *mcd_core_new(uint32_t index);

/**
 * mcd_core_close() - forget an opened core
 * @core: the core, may be %NULL
 */
void mcd_core_close(MCDCore *core);

/**
 * mcd_core_find_register() - look up a register of a core
 * @core: the core
 * @id: the register id
 *
 * Returns: the register, or %NULL if the core has none with that id.
 */
const MCDRegister *mcd_core_find_register(MCDCore *core, uint64_t id);

/**
 * mcd_core_find_memspace() - look up a memory space of a core
 * @core: the core
 * @id: the memory space id
 *
 * Returns: the memory space, or %NULL if the core has none with that id.
 */
const MCDMemSpace *mcd_core_find_memspace(MCDCore *core, uint32_t id);

/**
 * mcd_core_read_register() - read a register
 * @core: the core
 * @reg: the register, from mcd_core_find_register()
 * @buf: the value is appended here, in target byte order
 * @errp: set on failure
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_read_register(MCDCore *core, const MCDRegister *reg,
                                GByteArray *buf, Error **errp);

/**
 * mcd_core_write_register() - write a register
 * @core: the core
 * @reg: the register, from mcd_core_find_register()
 * @data: the new value, in target byte order, @reg->bits / 8 bytes
 * @errp: set on failure, such as a register the architecture does not
 *        let the debugger write, or a core that is running
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_write_register(MCDCore *core, const MCDRegister *reg,
                                 const uint8_t *data, Error **errp);

/**
 * mcd_core_access_memory() - read or write memory through a memory space
 * @core: the core
 * @ms: the memory space, from mcd_core_find_memspace(); not a register
 *      space
 * @addr: the first address
 * @buf: the data to write, or where to read to
 * @len: how many bytes
 * @is_write: write rather than read
 * @errp: set on failure: nothing mapped at some address of the range, a
 *        translation fault, or a bus error
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_access_memory(MCDCore *core, const MCDMemSpace *ms,
                                uint64_t addr, uint8_t *buf, size_t len,
                                bool is_write, Error **errp);

/* Trigger types of the era-1 protocol */
#define MCD_TRIG_BREAKPOINT     1
#define MCD_TRIG_READ           2
#define MCD_TRIG_WRITE          3
#define MCD_TRIG_ACCESS         4

/* How many triggers a core can have at once. */
#define MCD_MAX_TRIGGERS        16

/* The length of an era-1 watchpoint. */
#define MCD_WATCH_LEN           4

/**
 * mcd_core_set_trigger() - set or remove a breakpoint or watchpoint
 * @core: the core; the trigger stops this core only
 * @type: MCD_TRIG_*
 * @addr: the instruction address, or the first watched data address
 * @len: how many bytes a watchpoint watches; ignored for breakpoints
 * @insert: set rather than remove
 * @errp: set on failure: an unknown type, too many triggers, a trigger
 *        that is already set, or that is not set
 *
 * A hit stops the VM; mcd_core_get_state() then reports it.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_set_trigger(MCDCore *core, uint32_t type, uint64_t addr,
                              uint64_t len, bool insert, Error **errp);

/**
 * typedef MCDRunState - the run state of a core, as MCD reports it
 * @MCD_RUN_RUNNING: executing
 * @MCD_RUN_HALTED: not executing, and not stopped by the debugger
 * @MCD_RUN_DEBUG: stopped by the debugger
 */
typedef enum MCDRunState {
    MCD_RUN_RUNNING,
    MCD_RUN_HALTED,
    MCD_RUN_DEBUG,
} MCDRunState;

/**
 * typedef MCDCoreState - the state of a core and why it stopped
 * @state: the run state
 * @trig_type: the MCD_TRIG_* type of the trigger that stopped the core,
 *             or 0
 * @trig_addr: the data address a watchpoint hit, or 0
 * @stop_reason: why the core stopped, reported once after each stop,
 *               else empty
 * @info: a description of the state
 *
 * The trigger fields too are reported once.
 */
typedef struct MCDCoreState {
    MCDRunState state;
    uint32_t trig_type;
    uint64_t trig_addr;
    char *stop_reason;
    char *info;
} MCDCoreState;

/**
 * mcd_core_get_state() - the state of a core
 * @core: the core
 * @st: filled in; free the strings with g_free()
 */
void mcd_core_get_state(MCDCore *core, MCDCoreState *st);

/**
 * mcd_core_go() - let a core or the whole system run
 * @core: the core, or %NULL for every core
 * @errp: set on failure: the guest must be reset first, or a step is
 *        under way
 *
 * A core that the debugger stopped at one of its breakpoints is first
 * stepped off it.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_go(MCDCore *core, Error **errp);

/**
 * mcd_core_break() - stop a core or the whole system
 * @core: the core, or %NULL for the whole VM
 * @errp: set on failure
 *
 * A core stops before this returns; the other cores keep running.
 * Stopping a guest that does not run does nothing.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_break(MCDCore *core, Error **errp);

/**
 * mcd_core_step() - execute instructions on a stopped core
 * @core: the core
 * @count: how many instructions, at least 1
 * @irqs: let interrupts and timers in during the steps
 * @errp: set on failure: the core runs, waits for an interrupt or is
 *        powered off, or another step is under way
 *
 * The steps happen after this returns; the core state reports the end.
 * Other cores that run keep running.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_step(MCDCore *core, uint32_t count, bool irqs,
                       Error **errp);

/* The reset classes, as mcd_reset_classes() lists them. */
#define MCD_RESET_SYSTEM        0
#define MCD_RESET_CORE          1

/**
 * mcd_target_reset() - reset the system or a core
 * @rst_class: MCD_RESET_SYSTEM (as the monitor's system_reset) or
 *             MCD_RESET_CORE
 * @core: the core to halt, and the one MCD_RESET_CORE resets; may be
 *        %NULL for a system reset
 * @halt: stop @core (every core for a system reset) at its reset
 *        vector before it executes anything
 * @errp: set on failure
 *
 * A guest that ran before runs on after the reset, except what @halt
 * stops.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_target_reset(uint32_t rst_class, MCDCore *core, bool halt,
                          Error **errp);

/**
 * typedef MCDStopNotify - called when a core stops by itself
 * @core: the core that hit a trigger or finished its steps
 */
typedef void (*MCDStopNotify)(uint32_t core);

/**
 * mcd_target_set_stop_notify() - learn about stops as they happen
 * @notify: the function to call, or %NULL
 */
void mcd_target_set_stop_notify(MCDStopNotify notify);

/**
 * mcd_target_detach() - the debugger went away: undo what it did
 *
 * Removes everything the debugger set in the target and lets a guest
 * that the debugger stopped run again.
 */
void mcd_target_detach(void);

#endif /* MCDSTUB_CORE_H */
