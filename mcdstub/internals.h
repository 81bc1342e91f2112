/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub internals shared by the files of mcdstub/.
 */

#ifndef MCDSTUB_INTERNALS_H
#define MCDSTUB_INTERNALS_H

#include "packet.h"

/* The most parameters a command or query takes. */
#define MCD_MAX_ARGS 6

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
 * @data: the bytes of a ``h`` (hex data) parameter, or %NULL
 */
typedef struct MCDCmdArgs {
    MCDCmdArg arg[MCD_MAX_ARGS];
    GByteArray *data;
} MCDCmdArgs;

typedef struct MCDServer MCDServer;

typedef void (*MCDCmdHandler)(MCDServer *s, const MCDCmdArgs *args);

/**
 * typedef MCDCmd - an entry of the command or query table
 * @name: the command letter, or the query name; it is matched as a
 *        prefix of the payload and the parameters follow directly
 * @schema: one letter per parameter, separated by ``;`` on the wire:
 *          ``q`` list index, ``d`` 32-bit number, ``c`` core number,
 *          ``l`` 64-bit number (all decimal), ``s`` the rest of the
 *          payload, ``h`` hex data (``s`` and ``h`` only last)
 * @handler: called with the parsed parameters; it sends the reply, if
 *           the command has one
 * @empty_error: in era-1 sessions a failure is answered with the empty
 *               packet (as for queries) rather than with ``error``
 */
typedef struct MCDCmd {
    const char *name;
    const char *schema;
    MCDCmdHandler handler;
    bool empty_error;
} MCDCmd;

/**
 * struct MCDServer - the state of the stub and its one connection
 * @packet: the packet layer of the connection
 * @session_open: the client has sent ``I``
 * @cores: the cores the client opened, by core number (MCDCore)
 * @list_core: the core of the last ``q...f`` list query, which the
 *             ``q...c`` continuation queries refer to
 * @ext_errors: the client enabled the ``errors`` extension
 * @empty_error: the command being executed has &MCDCmd.empty_error set
 */
struct MCDServer {
    MCDPacketLayer packet;
    bool session_open;
    GHashTable *cores;
    uint32_t list_core;
    bool ext_errors;
    bool empty_error;
};

/**
 * mcd_server_init() - set up the protocol state of a server
 * @s: the server
 * @ops: the packet layer callbacks
 * @opaque: passed to them
 */
void mcd_server_init(MCDServer *s, const MCDPacketOps *ops, void *opaque);

/**
 * mcd_parse_args() - parse the parameters of a command
 * @schema: the schema of the command (see &MCDCmd)
 * @p: the parameters, NUL-terminated
 * @args: filled in; the caller unrefs @args->data if it is set
 *
 * Every parameter must be well-formed (decimal digits only, no sign or
 * white space, in range; hex data of even length) and nothing may follow
 * the last one.
 *
 * Returns: true on success.
 */
bool mcd_parse_args(const char *schema, const char *p, MCDCmdArgs *args);

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
 * mcd_session_close() - end the debug session
 * @s: the server
 *
 * Called for a detach command and when the client disconnects.
 */
void mcd_session_close(MCDServer *s);

#endif /* MCDSTUB_INTERNALS_H */
