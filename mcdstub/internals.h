/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub internals shared by the files of mcdstub/.
 */

#ifndef MCDSTUB_INTERNALS_H
#define MCDSTUB_INTERNALS_H

#include "core.h"
#include "packet.h"

/* The most registers one "g" or "G" names. */
#define MCD_MAX_REG_LIST 4096

/* The most parameters a command or query takes. */
#define MCD_MAX_ARGS 7

/* Parameter separator inside a command payload. */
#define MCD_ARG_SEPARATOR ';'

/**
 * typedef MCDCmdArg - one parsed parameter
 * @u32: for schema letters ``q`` (list index), ``d`` (number), ``c`` (core)
 * @u64: for schema letter ``l`` (addresses, register ids)
 * @str: for schema letter ``s`` (the rest of the payload)
 */
typedef union MCDCmdArg {
    uint32_t u32;
    uint64_t u64;
    const char *str;
} MCDCmdArg;

/**
 * typedef MCDCmdArgs - the parameters of one command
 * @arg: parameters in schema order
 * @data: the bytes of a ``h`` (hex data) or ``b`` (binary data)
 *        parameter, or %NULL
 * @ids: the register ids of an ``r`` parameter (uint64_t), or %NULL
 * @count: how many parameters the command had
 */
typedef struct MCDCmdArgs {
    MCDCmdArg arg[MCD_MAX_ARGS];
    GByteArray *data;
    GArray *ids;
    unsigned count;
} MCDCmdArgs;

typedef struct MCDServer MCDServer;

/**
 * typedef MCDEra1Fail - how a failed command answers an era-1 client
 * @MCD_ERA1_ERROR: with ``error``
 * @MCD_ERA1_EMPTY: with the empty packet, as queries and ``p`` do
 * @MCD_ERA1_SILENT: with nothing: the era-1 client reads no reply to
 *                   these run control commands and would take a reply
 *                   for the answer to its next command
 *
 * Clients that enabled the errors extension always get an error record.
 */
typedef enum MCDEra1Fail {
    MCD_ERA1_ERROR,
    MCD_ERA1_EMPTY,
    MCD_ERA1_SILENT,
} MCDEra1Fail;

/**
 * typedef MCDExtension - the protocol extensions a client can enable
 * @MCD_EXT_ERRORS: every command answers, failures with an MCD error
 * @MCD_EXT_STEPS: ``c`` takes a count of instructions
 * @MCD_EXT_WPLEN: ``t`` and ``T`` take the length of a watchpoint
 * @MCD_EXT_RESETHALT: ``r`` takes a core and whether to halt it
 * @MCD_EXT_STEPIRQ: steps let interrupts and timers in
 * @MCD_EXT_NOTIFY: QEMU tells when a core stops by itself
 * @MCD_EXT_STOPREC: state records keep the stop until the core runs
 *                   again and name the trigger, the PC and the data
 *                   address
 * @MCD_EXT_TXOPT: ``m`` takes MCD access options (no side effects)
 * @MCD_EXT_LISTS: list queries answer as many items as fit
 * @MCD_EXT_REGS: ``g`` and ``G`` access several registers
 * @MCD_EXT_BINARY: ``x`` and ``X`` move memory as binary data
 * @MCD_EXT_COREINFO: ``qcoreinfo`` tells what each core is
 * @MCD_EXT_STOPREGS: ``E`` names registers whose values the stop
 *                    notifications of a core carry
 */
typedef enum MCDExtension {
    MCD_EXT_ERRORS = 1 << 0,
    MCD_EXT_STEPS = 1 << 1,
    MCD_EXT_WPLEN = 1 << 2,
    MCD_EXT_RESETHALT = 1 << 3,
    MCD_EXT_STEPIRQ = 1 << 4,
    MCD_EXT_NOTIFY = 1 << 5,
    MCD_EXT_STOPREC = 1 << 6,
    MCD_EXT_TXOPT = 1 << 7,
    MCD_EXT_LISTS = 1 << 8,
    MCD_EXT_REGS = 1 << 9,
    MCD_EXT_BINARY = 1 << 10,
    MCD_EXT_COREINFO = 1 << 11,
    MCD_EXT_STOPREGS = 1 << 12,
} MCDExtension;

typedef void (*MCDCmdHandler)(MCDServer *s, const MCDCmdArgs *args);

/**
 * typedef MCDCmd - an entry of the command or query table
 * @name: the command letter, or the query name; it is matched as a
 *        prefix of the payload and the parameters follow directly
 * @schema: one letter per parameter, separated by ``;`` on the wire:
 *          ``q`` list index, ``d`` 32-bit number, ``c`` core number,
 *          ``l`` 64-bit number (all decimal), ``r`` a list of register
 *          ids and ranges (``0-33,66``), ``s`` the rest of the payload,
 *          ``h`` hex data, ``b`` binary data (``s``, ``h`` and ``b``
 *          only last); the parameters after a ``?`` may be left out,
 *          all together
 * @handler: called with the parsed parameters; it sends the reply, if
 *           the command has one
 * @era1_fail: how a failure is answered in era-1 sessions
 * @ext: the MCDExtension the command belongs to, or 0; until the client
 *       enables it the command is unknown
 */
typedef struct MCDCmd {
    const char *name;
    const char *schema;
    MCDCmdHandler handler;
    MCDEra1Fail era1_fail;
    unsigned ext;
} MCDCmd;

/**
 * struct MCDServer - the state of the stub and its one connection
 * @packet: the packet layer of the connection
 * @session_open: the client has sent ``I``
 * @session: the MCD core's session of this connection, or %NULL
 * @cores: the cores the client opened, by core number (MCDCore)
 * @stops_seen: the stop_seq of the stop last reported, by core number
 * @stop_regs: the registers the stop notifications of a core carry, by
 *             core number (a GPtrArray of the core's MCDRegister)
 * @list_core: the core of the last ``q...f`` list query, which the
 *             ``q...c`` continuation queries refer to
 * @ext: the extensions the client enabled (MCDExtension)
 * @era1_fail: &MCDCmd.era1_fail of the command being executed
 * @state_wait_ms: how long a state query of a running core waits for
 *                 it to stop (0: it does not wait)
 * @state_timer: ends that wait
 * @state_waiting: a state query waits, for the core @state_core
 * @reg_values: where ``g`` reads register values, kept between commands
 */
struct MCDServer {
    MCDPacketLayer packet;
    bool session_open;
    MCDSession *session;
    GHashTable *cores;
    GHashTable *stops_seen;
    GHashTable *stop_regs;
    uint32_t list_core;
    unsigned ext;
    MCDEra1Fail era1_fail;
    uint32_t state_wait_ms;
    QEMUTimer *state_timer;
    bool state_waiting;
    uint32_t state_core;
    GByteArray *reg_values;
};

/**
 * mcd_server_init() - set up the protocol state of a server
 * @s: the server
 * @ops: the packet layer callbacks
 * @opaque: passed to them
 */
void mcd_server_init(MCDServer *s, const MCDPacketOps *ops, void *opaque);

/**
 * mcd_server_set_state_wait() - let state queries wait for a stop
 * @s: the server
 * @ms: how long a ``qstate`` of a core that runs or steps waits for the
 *      core to stop before it answers; the packets after it wait too
 *
 * Needs QEMU's main loop (a timer).
 */
void mcd_server_set_state_wait(MCDServer *s, uint32_t ms);

/**
 * mcd_server_destroy() - end the session and free a server's state
 * @s: the server, set up by mcd_server_init()
 */
void mcd_server_destroy(MCDServer *s);

/**
 * mcd_parse_args() - parse the parameters of a command
 * @schema: the schema of the command (see &MCDCmd)
 * @p: the parameters
 * @len: their length; binary data may hold NUL bytes, the rest may not
 * @args: filled in; the caller unrefs @args->data and @args->ids if set
 *
 * Every parameter must be well-formed (decimal digits only, no sign or
 * white space, in range; hex data of even length) and nothing may follow
 * the last one.
 *
 * Returns: true on success.
 */
bool mcd_parse_args(const char *schema, const char *p, size_t len,
                    MCDCmdArgs *args);

/**
 * mcd_handle_packet() - execute one received packet
 * @s: the server
 * @payload: the payload, NUL-terminated
 * @len: the payload length
 * @oversized: the packet was longer than %MCD_PACKET_MAX_PAYLOAD
 */
void mcd_handle_packet(MCDServer *s, const char *payload, size_t len,
                       bool oversized);

/**
 * mcd_server_stop_notify() - a core stopped by itself
 * @opaque: the server (MCDServer)
 * @core: the core
 *
 * Tells a client that enabled the ``notify`` extension.
 */
void mcd_server_stop_notify(void *opaque, uint32_t core);

/**
 * mcd_server_reset_done() - the system reset the client asked for is done
 * @opaque: the server (MCDServer)
 *
 * Input that arrived meanwhile is executed now.
 */
void mcd_server_reset_done(void *opaque);

/**
 * mcd_session_close() - end the debug session
 * @s: the server
 *
 * Called for a detach command and when the client disconnects.
 */
void mcd_session_close(MCDServer *s);

#endif /* MCDSTUB_INTERNALS_H */
