/* SPDX-License-Identifier: MIT */
/*
 * libmcd: what transport.c needs of the platform, a TCP socket and a
 * clock.  transport-posix.c implements it with BSD sockets and poll(),
 * transport-win32.c with Winsock; the packet framing above it is the
 * same everywhere.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * None of these calls raises a signal: a write to a connection the stub
 * closed is an error, never SIGPIPE in the debugger's process.
 */

#ifndef LIBMCD_TRANSPORT_OS_H
#define LIBMCD_TRANSPORT_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "libmcd-int.h"

/* lm_sock_wait() results, or'ed */
#define LM_SOCK_READABLE 1
#define LM_SOCK_WRITABLE 2

/* A socket that is not open. */
void lm_sock_init(LmSocket *s);
bool lm_sock_is_open(const LmSocket *s);

/*
 * Connect to @host:@port within @timeout_ms, trying each address the
 * name resolves to; TCP_NODELAY.  0 on success, else -1 and a message
 * in @err.
 */
int lm_sock_connect(LmSocket *s, const char *host, uint32_t port,
                    uint32_t timeout_ms, char *err, size_t err_size);
void lm_sock_close(LmSocket *s);

/*
 * Receive at most @size bytes: what has arrived, waiting up to @wait_ms
 * for something if nothing has (0: do not wait).  It may return sooner
 * without data: the caller checks its deadline and calls again.  The
 * number of bytes, LM_IO_TIMEOUT if none came, or LM_IO_CLOSED if the
 * connection ended or failed.
 */
ptrdiff_t lm_sock_recv(LmSocket *s, void *buf, size_t size, int wait_ms);

/*
 * Send what the socket takes of @len bytes without waiting: the number
 * of bytes (0 if it takes none now), or LM_IO_CLOSED.
 */
ptrdiff_t lm_sock_send(LmSocket *s, const void *buf, size_t len);

/*
 * Wait up to @timeout_ms until the socket can take bytes or, with
 * @read, has bytes (or an end) to read: LM_SOCK_WRITABLE and
 * LM_SOCK_READABLE, 0 after the time-out, LM_IO_CLOSED on failure.
 */
int lm_sock_wait(LmSocket *s, bool read, int timeout_ms);

#endif /* LIBMCD_TRANSPORT_OS_H */
