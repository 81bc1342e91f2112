/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MCD stub: the JSON front-end, the MCD API as JSON commands.
 *
 * The protocol of the 2025 "MCD API support" series, which the MCD
 * client library Lauterbach publishes today speaks: each MCD API
 * function is a command of the QAPI schema qapi/mcd.json, sent as a
 * compact JSON object; each reply is one line.  See docs/interop/mcd.rst.
 */

#ifndef MCDSTUB_JSON_H
#define MCDSTUB_JSON_H

typedef struct MCDJsonServer MCDJsonServer;

/**
 * typedef MCDJsonOps - what the JSON front-end needs from its connection
 * @write: send bytes to the client; never blocks
 * @resumed: the front-end takes input again (see mcd_json_busy())
 */
typedef struct MCDJsonOps {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
    void (*resumed)(void *opaque);
} MCDJsonOps;

/**
 * mcd_json_server_new() - the JSON front-end of the stub
 * @ops: its connection
 * @opaque: passed to @ops
 *
 * Returns: the front-end; it serves one connection at a time.
 */
MCDJsonServer *mcd_json_server_new(const MCDJsonOps *ops, void *opaque);

/**
 * mcd_json_connect() - a client connected and speaks JSON
 * @j: the front-end
 *
 * A session that outlived the client's last connection goes on.
 */
void mcd_json_connect(MCDJsonServer *j);

/**
 * mcd_json_input() - bytes from the client
 * @j: the front-end
 * @buf: the bytes
 * @len: how many
 *
 * Every complete JSON object is executed and answered at once.
 */
void mcd_json_input(MCDJsonServer *j, const uint8_t *buf, size_t len);

/**
 * mcd_json_busy() - whether input should wait
 * @j: the front-end
 *
 * A call whose reply comes when its effect is complete (a step, a system
 * reset) holds up the requests after it; feed no more input until
 * &MCDJsonOps.resumed.
 *
 * Returns: true while requests wait.
 */
bool mcd_json_busy(MCDJsonServer *j);

/**
 * mcd_json_set_grace() - how long a session outlives its connection
 * @j: the front-end
 * @ms: milliseconds
 */
void mcd_json_set_grace(MCDJsonServer *j, uint32_t ms);

/**
 * mcd_json_disconnect() - the client's connection closed
 * @j: the front-end
 *
 * The session (an open server, its cores, triggers and held cores) is
 * kept for the grace period, for a client that reconnects, and ended
 * after it.
 */
void mcd_json_disconnect(MCDJsonServer *j);

/**
 * mcd_json_end_session() - end the session now
 * @j: the front-end
 *
 * Removes everything the session set and releases the cores it holds,
 * as a detach of the packet protocol does.
 */
void mcd_json_end_session(MCDJsonServer *j);

#endif /* MCDSTUB_JSON_H */
