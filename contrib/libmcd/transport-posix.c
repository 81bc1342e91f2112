/* SPDX-License-Identifier: MIT */
/*
 * libmcd transport on POSIX systems: BSD sockets, poll() and the
 * monotonic clock (transport-os.h).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * The socket blocks, with a receive time-out (SO_RCVTIMEO) of
 * RECV_SLICE_MS, so that a reply costs one recv() and time limits hold
 * to that slice; shorter waits poll() first, as SO_RCVTIMEO counts in
 * the kernel's ticks.  Sends never block (MSG_DONTWAIT).
 *
 * A send to a connection the stub closed must not raise SIGPIPE, which
 * would kill the debugger: MSG_NOSIGNAL says so where it exists (Linux,
 * the BSDs), SO_NOSIGPIPE where it does not (macOS), and elsewhere
 * SIGPIPE is blocked in the sending thread and a SIGPIPE of the send
 * taken before it is unblocked.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "transport-os.h"

/*
 * The longest a blocking recv() waits before the caller's deadline, or
 * its check whether another thread waits for the call lock: a wait for
 * a step's stop notification is one recv() of this slice, which wakes
 * quicker than a poll() and a recv() (libmcd-int.h).
 */
#define RECV_SLICE_MS LM_RECV_SLICE_MS

/*
 * How a send keeps SIGPIPE away.  LIBMCD_NO_MSG_NOSIGNAL builds the
 * way of a platform without MSG_NOSIGNAL, to test it on one with it.
 */
#if defined(MSG_NOSIGNAL) && !defined(LIBMCD_NO_MSG_NOSIGNAL)
#define SEND_FLAGS (MSG_NOSIGNAL | MSG_DONTWAIT)
#else
#define SEND_FLAGS MSG_DONTWAIT
#if !defined(SO_NOSIGPIPE)
#define BLOCK_SIGPIPE 1
#endif
#endif

int64_t lm_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lm_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void lm_sock_init(LmSocket *s)
{
    s->fd = -1;
    s->wait_ms = 0;
}

bool lm_sock_is_open(const LmSocket *s)
{
    return s->fd >= 0;
}

void lm_sock_close(LmSocket *s)
{
    if (s->fd >= 0) {
        close((int)s->fd);
    }
    lm_sock_init(s);
}

/* Connect one address with a time limit; the socket then blocks. */
static int connect_addr(const struct addrinfo *ai, uint32_t timeout_ms,
                        int *err)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1;
    struct pollfd pfd;
    socklen_t len;
    int r;

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
#if defined(SO_NOSIGPIPE)
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r < 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return -1;
    }
    if (r < 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        do {
            r = poll(&pfd, 1, timeout_ms);
        } while (r < 0 && errno == EINTR);
        if (r <= 0) {
            *err = r == 0 ? ETIMEDOUT : errno;
            close(fd);
            return -1;
        }
        len = sizeof(*err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) < 0 || *err) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* recv() waits with SO_RCVTIMEO, send() uses MSG_DONTWAIT */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int lm_sock_connect(LmSocket *s, const char *host, uint32_t port,
                    uint32_t timeout_ms, char *err, size_t err_size)
{
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    const struct addrinfo *ai;
    char service[16];
    int fd = -1;
    int e = 0;
    int r;

    lm_sock_close(s);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", port);
    r = getaddrinfo(host, service, &hints, &res);
    if (r != 0) {
        snprintf(err, err_size, "cannot resolve %s: %s", host,
                 gai_strerror(r));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = connect_addr(ai, timeout_ms, &e);
        if (fd >= 0) {
            break;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, err_size, "cannot connect to %s:%u: %s", host, port,
                 strerror(e ? e : ECONNREFUSED));
        return -1;
    }
    s->fd = fd;
    return 0;
}

/* Let a blocking recv() wait at most RECV_SLICE_MS, set once. */
static void set_rcvtimeo(LmSocket *s)
{
    struct timeval tv = { 0, RECV_SLICE_MS * 1000 };

    if (s->wait_ms != RECV_SLICE_MS &&
        setsockopt((int)s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                   sizeof(tv)) == 0) {
        s->wait_ms = RECV_SLICE_MS;
    }
}

ptrdiff_t lm_sock_recv(LmSocket *s, void *buf, size_t size, int wait_ms)
{
    struct pollfd pfd = { .fd = (int)s->fd, .events = POLLIN };
    bool wait = wait_ms > 0;
    ssize_t n;
    int r;

    if (wait && wait_ms < RECV_SLICE_MS) {
        r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno != EINTR) {
            return LM_IO_CLOSED;
        }
        if (r <= 0) {
            return LM_IO_TIMEOUT;
        }
        wait = false;
    } else if (wait) {
        set_rcvtimeo(s);
    }
    n = recv((int)s->fd, buf, size, wait ? 0 : MSG_DONTWAIT);
    if (n > 0) {
        return n;
    }
    if (n == 0) {
        return LM_IO_CLOSED;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        return LM_IO_TIMEOUT;
    }
    return LM_IO_CLOSED;
}

#ifdef BLOCK_SIGPIPE
/*
 * A send with SIGPIPE blocked in this thread; a SIGPIPE it raised is
 * taken while still blocked, one that was pending before is left.
 */
static ssize_t send_nosignal(int fd, const void *buf, size_t len)
{
    static const struct timespec zero = { 0, 0 };
    sigset_t pipe, old, pending;
    bool was_pending;
    ssize_t n;
    int e, r;

    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE);
    n = send(fd, buf, len, SEND_FLAGS);
    e = errno;
    if (n < 0 && e == EPIPE && !was_pending) {
        do {
            r = sigtimedwait(&pipe, NULL, &zero);
        } while (r < 0 && errno == EINTR);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return n;
}
#else
static ssize_t send_nosignal(int fd, const void *buf, size_t len)
{
    return send(fd, buf, len, SEND_FLAGS);
}
#endif

ptrdiff_t lm_sock_send(LmSocket *s, const void *buf, size_t len)
{
    ssize_t n;

    do {
        n = send_nosignal((int)s->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        return n;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
    }
    return LM_IO_CLOSED;
}

int lm_sock_wait(LmSocket *s, bool read, int timeout_ms)
{
    struct pollfd pfd = { .fd = (int)s->fd };
    int r, ready = 0;

    pfd.events = POLLOUT | (read ? POLLIN : 0);
    r = poll(&pfd, 1, timeout_ms);
    if (r < 0) {
        return errno == EINTR ? 0 : LM_IO_CLOSED;
    }
    if (r > 0 && (pfd.revents & POLLOUT)) {
        ready |= LM_SOCK_WRITABLE;
    }
    if (r > 0 && read && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
        ready |= LM_SOCK_READABLE;
    }
    return ready;
}
