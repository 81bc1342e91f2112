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
#define MCD_ERR_CONNECTION          0x0200
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
#define MCD_ERR_TXLIST_TX           0x2102

/* MCD memory space types (mcd_mem_type_et), bit flags */
#define MCD_MEM_SPACE_IS_REGISTERS  0x01
#define MCD_MEM_SPACE_IS_PROGRAM    0x02
#define MCD_MEM_SPACE_IS_PHYSICAL   0x10
#define MCD_MEM_SPACE_IS_LOGICAL    0x20
/* a custom type: the space of the secure state (MCD_MEM_SPACE_CUSTOM_LO) */
#define MCD_MEM_SPACE_IS_SECURE     0x10000

/* MCD transaction access options (mcd_tx_access_opt_et) the stub knows */
#define MCD_TX_OPT_SIDE_EFFECTS     0x1
#define MCD_TX_OPT_NO_SIDE_EFFECTS  0x2

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

typedef struct MCDSession MCDSession;

/**
 * typedef MCDModel - how an opened core is described
 * @MCD_MODEL_ARCH: by its architecture's description (memory spaces per
 *                  security state and translation, register groups and
 *                  system registers the architecture's way); the packet
 *                  protocol's model
 * @MCD_MODEL_QEMU: by QEMU's own structure, as the 2025 series presented
 *                  it: for each address space of the CPU a physical space
 *                  named after its root memory region and a logical space
 *                  named after the address space (the secure ones flagged
 *                  MCD_MEM_SPACE_IS_SECURE), then "GDB Registers" with
 *                  every register; one register group per gdb feature,
 *                  named after it.  Logical spaces translate in the regime
 *                  the core is in now.
 */
typedef enum MCDModel {
    MCD_MODEL_ARCH,
    MCD_MODEL_QEMU,
} MCDModel;

/**
 * typedef MCDCore - a core the debugger has opened
 * @index: the core number (QEMU's cpu_index)
 * @model: how it is described
 * @session: the debug session that opened it
 * @arch: the description of its architecture, found once when it is
 *        opened; %NULL for the generic one
 * @memspaces: its memory spaces (MCDMemSpace)
 * @reggroups: its register groups (MCDRegGroup)
 * @regs: its registers (MCDRegister); they do not change once the core
 *        is open
 * @reg_index: @regs by id, made by the first mcd_core_find_register_by_id()
 *             that needs it
 */
typedef struct MCDArchOps MCDArchOps;

typedef struct MCDCore {
    uint32_t index;
    MCDModel model;
    MCDSession *session;
    const MCDArchOps *arch;
    GArray *memspaces;
    GArray *reggroups;
    GArray *regs;
    GHashTable *reg_index;
} MCDCore;

/**
 * mcd_target_init() - start watching the target
 *
 * Called once when the stub starts, before the guest runs.
 */
void mcd_target_init(void);

/**
 * mcd_accel_usable() - whether the stub can debug with an accelerator
 * @accel: the accelerator's name, as current_accel_name() gives it
 * @errp: set when it cannot
 *
 * The stub's breakpoints, watchpoints and single steps are TCG's.
 *
 * Returns: true for an accelerator the stub works with.
 */
bool mcd_accel_usable(const char *accel, Error **errp);

/**
 * typedef MCDSessionOps - what the target tells the debug session
 * @stopped: a core stopped by itself: it hit a trigger, finished its
 *           steps, or was halted by a reset.  Called from a bottom half,
 *           never from inside a run state change.
 * @reset_done: the system reset that the session requested has
 *              happened (see mcd_target_reset()).  Called from a bottom
 *              half.
 */
typedef struct MCDSessionOps {
    void (*stopped)(void *opaque, uint32_t core);
    void (*reset_done)(void *opaque);
} MCDSessionOps;

/**
 * mcd_session_new() - start a debug session
 * @ops: how to tell the session about events
 * @opaque: passed to @ops
 *
 * There is at most one session at a time.  It owns everything the
 * debugger sets in the target: held cores, triggers, steps under way and
 * stop records.
 *
 * Returns: the session; end it with mcd_session_free().
 */
MCDSession *mcd_session_new(const MCDSessionOps *ops, void *opaque);

/**
 * mcd_session_free() - end a debug session and undo what it did
 * @s: the session, may be %NULL
 *
 * Removes its triggers, ends its steps and lets the cores it holds run
 * again: a guest that the debugger stopped runs on.  Close the session's
 * cores first.
 */
void mcd_session_free(MCDSession *s);

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

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MCDSystemInfo, mcd_system_info_free)

/**
 * mcd_core_model() - the model of a core
 * @index: the core number
 *
 * Returns: the core's CPU model (its QOM type), or %NULL if there is no
 * such core; free it with g_free().
 */
char *mcd_core_model(uint32_t index);

/**
 * mcd_core_arch() - the architecture of a core
 * @index: the core number
 * @elf_machine: set to the ELF machine number (``EM_*``) of the
 *               architecture, 0 if unknown
 *
 * Returns: the architecture as gdb names it (the CPU class's
 * gdb_arch_name(), for example ``aarch64`` or ``i386:x86-64``), else
 * QEMU's target name; %NULL if there is no such core.
 */
const char *mcd_core_arch(uint32_t index, uint32_t *elf_machine);

/**
 * mcd_reset_classes() - the reset classes the target offers
 * @count: set to how many there are
 *
 * Returns: a static array of @count reset classes.
 */
const MCDResetClass *mcd_reset_classes(size_t *count);

/**
 * mcd_core_open() - open a core and describe it
 * @s: the session that opens it
 * @index: the core number
 * @model: how to describe it
 * @errp: set when there is no such core
 *
 * Returns: the new core, or %NULL on error; free it with mcd_core_close().
 */
MCDCore *mcd_core_open(MCDSession *s, uint32_t index, MCDModel model,
                       Error **errp);

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
 *
 * Removes the triggers the session set on it.
 */
void mcd_core_close(MCDCore *core);

/**
 * mcd_core_remove_triggers() - remove every trigger of a core
 * @core: the core
 */
void mcd_core_remove_triggers(MCDCore *core);

/**
 * mcd_core_find_register_by_id() - look up a register of a core by id
 * @core: the core
 * @id: the register id
 *
 * The general case of mcd_core_find_register().
 *
 * Returns: the register, or %NULL if the core has none with that id.
 */
const MCDRegister *mcd_core_find_register_by_id(MCDCore *core, uint64_t id);

/**
 * mcd_core_find_register() - look up a register of a core
 * @core: the core
 * @id: the register id
 *
 * The ids are gdb's register numbers, most often their indexes in
 * @core->regs too: those are found inline.
 *
 * Returns: the register, or %NULL if the core has none with that id.
 */
static inline const MCDRegister *mcd_core_find_register(MCDCore *core,
                                                        uint64_t id)
{
    if (id < core->regs->len) {
        const MCDRegister *r = &g_array_index(core->regs, MCDRegister, id);

        if (r->id == id) {
            return r;
        }
    }
    return mcd_core_find_register_by_id(core, id);
}

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
 * mcd_core_read_registers() - read several registers
 * @core: the core
 * @regs: the registers, from mcd_core_find_register()
 * @n: how many
 * @buf: their values are appended here one after another, in target
 *       byte order; on failure, those read before the one that failed
 * @errp: set on failure
 *
 * The same as mcd_core_read_register() for each, with the CPU state
 * brought up to date once.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the first failure.
 */
uint32_t mcd_core_read_registers(MCDCore *core, const MCDRegister **regs,
                                 size_t n, GByteArray *buf, Error **errp);

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
 * @options: MCD_TX_OPT_* bits; by default (0, or SIDE_EFFECTS) device
 *           registers are accessed as the core would, with their side
 *           effects; with MCD_TX_OPT_NO_SIDE_EFFECTS a range with
 *           anything but RAM or ROM in it is refused and not touched
 * @errp: set on failure: nothing mapped at some address of the range, a
 *        translation fault, a bus error, or a device with
 *        MCD_TX_OPT_NO_SIDE_EFFECTS.  A write that fails writes nothing.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_access_memory(MCDCore *core, const MCDMemSpace *ms,
                                uint64_t addr, uint8_t *buf, size_t len,
                                bool is_write, uint32_t options,
                                Error **errp);

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
 * @core: the core; the trigger stops this core, and then the system
 * @type: MCD_TRIG_*
 * @addr: the instruction address, or the first watched data address
 * @len: how many bytes a watchpoint watches; ignored for breakpoints
 * @id: the MCD trigger id for a new trigger, which stop records name;
 *      0 lets the stub choose one that is free.  Ignored for a removal.
 * @insert: set rather than remove
 * @errp: set on failure: an unknown type, too many triggers, a trigger
 *        that is already set, or a trigger that is not set
 *
 * The triggers are QEMU breakpoints and watchpoints of the MCD stub's
 * own kind (BP_MCD): no other debug stub sees or removes them.  A hit
 * stops the core, then every other core; mcd_core_get_state() reports
 * it.  A running core is paused for a moment, not the VM.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_set_trigger(MCDCore *core, uint32_t type, uint64_t addr,
                              uint64_t len, uint32_t id, bool insert,
                              Error **errp);

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
 * typedef MCDStateRecord - the state of a core and its last stop
 * @state: the run state
 * @idle: MCD_RUN_HALTED because the core waits for an interrupt or is
 *        powered off, in a VM that runs
 * @stop_seq: a number that changes with every stop of the core, 0 if
 *            it has none; front-ends tell new stops from known ones
 * @trig_id: the MCD id of the trigger that stopped the core, or 0
 * @trig_type: that trigger's MCD_TRIG_* type, or 0
 * @pc: where the stopped core is (meaningful in MCD_RUN_DEBUG)
 * @data_addr: the data address a watchpoint hit, or 0
 * @stop_reason: why the core stopped, or empty
 * @info: a description of the state
 *
 * The stop fields stay until the core runs again.
 */
typedef struct MCDStateRecord {
    MCDRunState state;
    bool idle;
    uint32_t stop_seq;
    uint32_t trig_id;
    uint32_t trig_type;
    uint64_t pc;
    uint64_t data_addr;
    char *stop_reason;
    char *info;
} MCDStateRecord;

/**
 * mcd_core_get_state() - the state of a core
 * @core: the core
 * @st: filled in; free the strings with g_free()
 */
void mcd_core_get_state(MCDCore *core, MCDStateRecord *st);

/**
 * mcd_core_go() - let a core or the whole system run
 * @s: the session
 * @core: the core, or %NULL for every core
 * @errp: set on failure: the guest must be reset first, or a step is
 *        under way
 *
 * A core that stopped on one of its breakpoints is first stepped off
 * it.  When the VM was stopped, the cores that are not to run stay held.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_go(MCDSession *s, MCDCore *core, Error **errp);

/**
 * mcd_core_break() - stop a core or the whole system
 * @s: the session
 * @core: the core, or %NULL for the whole system
 * @errp: set on failure
 *
 * A core stops before this returns and is held: the other cores keep
 * running, and the VM's run state changes only when every core is
 * held.  Stopping a guest that does not run ends steps and does nothing
 * else.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_core_break(MCDSession *s, MCDCore *core, Error **errp);

/**
 * mcd_core_step() - execute instructions on a stopped core
 * @core: the core
 * @count: how many instructions, at least 1
 * @irqs: let interrupts and timers in during the steps
 * @errp: set on failure: the core runs, waits for an interrupt or is
 *        powered off, or is stepping already
 *
 * The steps happen after this returns, without stopping the VM between
 * them; the core state reports the end.  Other cores that run keep
 * running.
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
 * @s: the session
 * @rst_class: MCD_RESET_SYSTEM (QEMU's system reset) or MCD_RESET_CORE
 *             (the core's own reset)
 * @core: the core to halt, and the one MCD_RESET_CORE resets; may be
 *        %NULL for a system reset
 * @halt: stop @core (every core for a system reset) before it executes
 *        anything after the reset
 * @pending: set to true when the reset happens after this returns: a
 *           system reset is a request that the main loop carries out,
 *           and MCDSessionOps.reset_done tells when it is done
 * @errp: set on failure
 *
 * Cores that ran before run on after the reset, except what @halt
 * stops; held cores stay held.
 *
 * Returns: MCD_ERR_NONE, or the MCD error code of the failure.
 */
uint32_t mcd_target_reset(MCDSession *s, uint32_t rst_class, MCDCore *core,
                          bool halt, bool *pending, Error **errp);

#endif /* MCDSTUB_CORE_H */
