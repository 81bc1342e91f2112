/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the MCD stub qtests: start QEMU with the stub on a socket
 * the test owns, and talk the packet protocol of docs/interop/mcd.rst the
 * way the era-1 client library does.  Every helper asserts: a reply that
 * is not the expected one, or none within a timeout, fails the test.
 */

#ifndef TESTS_QTEST_MCD_UTIL_H
#define TESTS_QTEST_MCD_UTIL_H

#include "libqtest.h"

/*
 * Machine options: virt (q35 for x86) with a CPU model of the binary's
 * architecture, always under TCG (the qtest accelerator cannot debug
 * guests).
 */
const char *mcd_machine_args(void);

/* A listening TCP socket on a free loopback port, for QEMU to inherit. */
int mcd_listen_tcp(void);

int mcd_tcp_port_of(int fd);

int mcd_connect_tcp(int port);

int mcd_connect_unix(const char *path);

void mcd_send_raw(int fd, const void *buf, size_t len);

/*
 * Send a packet as the era-1 client does: framed, then NUL padding to
 * 1024 bytes; longer packets go out without padding.
 */
void mcd_send_packet(int fd, const char *payload);

char mcd_recv_byte(int fd);

/* Receive one "$payload#|" packet and return the payload. */
char *mcd_recv_packet(int fd);

/*
 * Send @cmd (@len bytes, binary data allowed) as a packet and return the
 * reply with its binary data decoded (the "binary" extension's escapes).
 */
GByteArray *mcd_query_binary(int fd, const void *cmd, size_t len);

/* The reply to "qprotocol<enabled>" while "binary" is not enabled */
#define MCD_PROTOCOL_REPLY(enabled) \
    "version=2.max_payload=33792.max_data=16384.max_binary=1048576." \
    "extensions=errors,steps,wplen,resethalt,stepirq,notify,stoprec," \
    "txopt,lists,regs,binary,coreinfo,stopregs.enabled=" enabled "."


/* Append @len bytes of @data to @out, escaped as binary data. */
void mcd_binary_escape(GByteArray *out, const uint8_t *data, size_t len);

/*
 * Receive a "%payload#|" notification, or take the next one that came
 * while a reply was awaited; return the payload.
 */
char *mcd_recv_notification(int fd);

/* Forget the notifications of an earlier connection. */
void mcd_drop_notifications(void);

/* Send a command and check the ack and the reply. */
void mcd_check_reply(int fd, const char *cmd, const char *reply);

void mcd_check_handshake(int fd);

/* Send a command that only gets the '+' from an era-1 session. */
void mcd_check_ack_only(int fd, const char *cmd);

/* Send a command and return its reply. */
char *mcd_query(int fd, const char *cmd);

/* The value of @key in a "key=value." record, or NULL. */
char *mcd_rec_get(const char *rec, const char *key);

uint64_t mcd_rec_get_u64(const char *rec, const char *key);

/*
 * Walk a paginated list: "<first>" answers "<next>!<record>", then
 * "<next><k>" until a reply starts with "0!".  Returns the records.
 */
GPtrArray *mcd_query_list(int fd, const char *first, const char *next);

/* QEMU is alive and its guest still runs. */
void mcd_check_running(QTestState *qts);

/*
 * Whether the 32-bit word at @addr of guest memory (a guest's counter)
 * grows by @n within @timeout_ms milliseconds.
 */
bool mcd_word_grows(QTestState *qts, uint64_t addr, uint32_t n,
                    int timeout_ms);

/* Whether the 32-bit word at @addr stays the same for @ms milliseconds. */
bool mcd_word_stays(QTestState *qts, uint64_t addr, int ms);

/* Start QEMU with the stub on an inherited TCP socket; connect to it. */
QTestState *mcd_start_with_client(const char *extra, int *fd);

/* The same with another -accel than plain tcg ("tcg,thread=single"). */
QTestState *mcd_start_accel(const char *accel, const char *extra, int *fd);

/* The QOM type of the CPUs of mcd_machine_args(). */
const char *mcd_cpu_type(void);

/* Find the record whose "name" is @name. */
const char *mcd_find_named(GPtrArray *recs, const char *name);

/*
 * The record whose "name" is @name, which must be there: the test fails
 * with a message naming the @what (a memory space, a register) if not.
 */
const char *mcd_get_named(GPtrArray *recs, const char *what,
                          const char *name);

/*
 * Send a gdb remote protocol packet to a gdbstub client socket and
 * return the payload of the reply.
 */
char *mcd_gdb_query(int fd, const char *payload);

/*
 * The JSON protocol: the MCD API as JSON commands (qapi/mcd.json), one
 * reply line per command.
 */

/* Send @text as it is. */
void mcd_json_send(int fd, const char *text);

/* @obj as compact JSON: no blanks outside strings. */
char *mcd_json_compact(QObject *obj);

/* Send @req as one compact JSON object, without a newline. */
void mcd_json_send_obj(int fd, QDict *req);

/*
 * Receive one reply line and return it without its '\n'; fail the test
 * if none comes within the timeout.
 */
char *mcd_json_recv_line(int fd);

/* Receive one reply line and parse it: a JSON object. */
QDict *mcd_json_recv(int fd);

/* Nothing arrives on @fd for @ms milliseconds. */
void mcd_json_check_silent(int fd, int ms);

/*
 * Execute @command with the arguments @args (taken; NULL for none) and
 * return the whole reply, "return" or "error".
 */
QDict *mcd_json_exec(int fd, const char *command, QDict *args);

/*
 * The same with the arguments written as a JSON object in the format
 * of qdict_from_jsonf_nofail(): %u, %s, %p for a QObject that it takes,
 * and so on; NULL for none.
 */
QDict *mcd_json_execf(int fd, const char *command, const char *args_fmt,
                      ...) G_GNUC_PRINTF(3, 4);

/* Member @key of @d: an unsigned integer, which must be there. */
uint64_t mcd_json_uint(const QDict *d, const char *key);

/* Member @key of @d: a string, which must be there. */
const char *mcd_json_str(const QDict *d, const char *key);

/* Member @key of @d: an object, which must be there. */
QDict *mcd_json_dict(const QDict *d, const char *key);

/* Member @key of @d: an array, which must be there. */
QList *mcd_json_list(const QDict *d, const char *key);

/* Element @i of @list: an object. */
QDict *mcd_json_list_dict(QList *list, size_t i);

/* The "return" of @reply, which must have one. */
QDict *mcd_json_return(QDict *reply);

/*
 * Clients that go away abruptly
 */

/*
 * Receive the '+' of a command and then its reply packet, skipping the
 * notifications that come meanwhile; return the reply's payload.
 */
char *mcd_recv_ack_reply(int fd);

/* Take and drop whatever has arrived on @fd, without waiting. */
size_t mcd_drain(int fd);

/*
 * Send @len bytes of @buf without blocking on a full socket: while the
 * peer does not take them, take its replies and drop them.  Fails the
 * test if the peer closes the connection.
 */
void mcd_send_draining(int fd, const void *buf, size_t len);

/*
 * Close with a FIN: end the sending side, take the replies until the
 * peer closes too (at most @timeout_ms), close.  Returns whether the
 * peer closed in time.
 */
bool mcd_close_fin(int fd, int timeout_ms);

/* Close with a RST: SO_LINGER on with a timeout of 0, then close. */
void mcd_close_rst(int fd);

/* The QMP run state of the VM: "running", "debug", "paused"... */
char *mcd_run_state(QTestState *qts);

/*
 * Whether the socket chardev @label has a client, from the filename
 * that query-chardev reports ("disconnected:..." when it has none).
 */
bool mcd_chardev_connected(QTestState *qts, const char *label);

#endif /* TESTS_QTEST_MCD_UTIL_H */
