/* SPDX-License-Identifier: MIT */
/*
 * libmcd transport on Windows: Winsock 2 and the performance counter
 * (transport-os.h).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * Each open socket holds a reference on Winsock (WSAStartup() when it
 * is opened, WSACleanup() when it is closed), so that the library needs
 * no set-up of its own and leaves none behind.  The socket does not
 * block: WSAPoll() waits for it.  Windows has no SIGPIPE: a send to a
 * closed connection is an error.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include "transport-os.h"

int64_t lm_now_us(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    int64_t sec, rest;

    if (freq.QuadPart == 0) {
        /* the same on every call: a race only writes it twice */
        QueryPerformanceFrequency(&freq);
    }
    QueryPerformanceCounter(&now);
    sec = now.QuadPart / freq.QuadPart;
    rest = now.QuadPart % freq.QuadPart;
    return sec * 1000000 + rest * 1000000 / freq.QuadPart;
}

int64_t lm_now_ms(void)
{
    return lm_now_us() / 1000;
}

void lm_sock_init(LmSocket *s)
{
    s->fd = (intptr_t)INVALID_SOCKET;
    s->wait_ms = 0;
}

bool lm_sock_is_open(const LmSocket *s)
{
    return (SOCKET)s->fd != INVALID_SOCKET;
}

void lm_sock_close(LmSocket *s)
{
    if (lm_sock_is_open(s)) {
        closesocket((SOCKET)s->fd);
        WSACleanup();
    }
    lm_sock_init(s);
}

/* The text of a Winsock error, without its line break. */
static void error_text(int e, char *buf, size_t size)
{
    size_t len;

    if (!FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
                        FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)e, 0,
                        buf, (DWORD)size, NULL)) {
        snprintf(buf, size, "Winsock error %d", e);
        return;
    }
    len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                       buf[len - 1] == '.' || buf[len - 1] == ' ')) {
        buf[--len] = '\0';
    }
}

/* Connect one address with a time limit; the socket does not block. */
static SOCKET connect_addr(const struct addrinfo *ai, uint32_t timeout_ms,
                           int *err)
{
    SOCKET fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    u_long nonblock = 1;
    struct timeval tv;
    fd_set wfds, efds;
    int one = 1, len;
    int r;

    if (fd == INVALID_SOCKET) {
        *err = WSAGetLastError();
        return INVALID_SOCKET;
    }
    /* not inherited by processes the debugger starts */
    SetHandleInformation((HANDLE)fd, HANDLE_FLAG_INHERIT, 0);
    if (ioctlsocket(fd, FIONBIO, &nonblock) != 0) {
        *err = WSAGetLastError();
        closesocket(fd);
        return INVALID_SOCKET;
    }
    r = connect(fd, ai->ai_addr, (int)ai->ai_addrlen);
    if (r != 0 && WSAGetLastError() != WSAEWOULDBLOCK) {
        *err = WSAGetLastError();
        closesocket(fd);
        return INVALID_SOCKET;
    }
    if (r != 0) {
        /* select(), as WSAPoll() does not report a failed connect */
        FD_ZERO(&wfds);
        FD_ZERO(&efds);
        FD_SET(fd, &wfds);
        FD_SET(fd, &efds);
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
        r = select(0, NULL, &wfds, &efds, &tv);
        if (r <= 0) {
            *err = r == 0 ? WSAETIMEDOUT : WSAGetLastError();
            closesocket(fd);
            return INVALID_SOCKET;
        }
        len = sizeof(*err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)err, &len) != 0 ||
            *err || !FD_ISSET(fd, &wfds)) {
            *err = *err ? *err : WSAECONNREFUSED;
            closesocket(fd);
            return INVALID_SOCKET;
        }
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one,
               sizeof(one));
    return fd;
}

int lm_sock_connect(LmSocket *s, const char *host, uint32_t port,
                    uint32_t timeout_ms, char *err, size_t err_size)
{
    struct addrinfo hints = { 0 };
    struct addrinfo *res = NULL;
    const struct addrinfo *ai;
    SOCKET fd = INVALID_SOCKET;
    char service[16], text[256];
    WSADATA wsa;
    int e = 0;
    int r;

    lm_sock_close(s);
    r = WSAStartup(MAKEWORD(2, 2), &wsa);
    if (r != 0) {
        error_text(r, text, sizeof(text));
        snprintf(err, err_size, "cannot start Winsock: %s", text);
        return -1;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%u", port);
    r = getaddrinfo(host, service, &hints, &res);
    if (r != 0) {
        error_text(r, text, sizeof(text));
        snprintf(err, err_size, "cannot resolve %s: %s", host, text);
        WSACleanup();
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = connect_addr(ai, timeout_ms, &e);
        if (fd != INVALID_SOCKET) {
            break;
        }
    }
    freeaddrinfo(res);
    if (fd == INVALID_SOCKET) {
        error_text(e ? e : WSAECONNREFUSED, text, sizeof(text));
        snprintf(err, err_size, "cannot connect to %s:%u: %s", host, port,
                 text);
        WSACleanup();
        return -1;
    }
    s->fd = (intptr_t)fd;
    return 0;
}

/* Wait up to @timeout_ms for @events; the revents, or -1. */
static int wait_for(LmSocket *s, short events, int timeout_ms)
{
    WSAPOLLFD pfd;
    int r;

    pfd.fd = (SOCKET)s->fd;
    pfd.events = events;
    pfd.revents = 0;
    r = WSAPoll(&pfd, 1, timeout_ms);
    if (r < 0) {
        return -1;
    }
    return r > 0 ? pfd.revents : 0;
}

ptrdiff_t lm_sock_recv(LmSocket *s, void *buf, size_t size, int wait_ms)
{
    int r, n;

    if (wait_ms > 0) {
        r = wait_for(s, POLLRDNORM, wait_ms);
        if (r < 0) {
            return LM_IO_CLOSED;
        }
        if (r == 0) {
            return LM_IO_TIMEOUT;
        }
    }
    n = recv((SOCKET)s->fd, buf, size > INT_MAX ? INT_MAX : (int)size, 0);
    if (n > 0) {
        return n;
    }
    if (n == 0) {
        return LM_IO_CLOSED;
    }
    r = WSAGetLastError();
    if (r == WSAEWOULDBLOCK || r == WSAEINTR) {
        return LM_IO_TIMEOUT;
    }
    return LM_IO_CLOSED;
}

ptrdiff_t lm_sock_send(LmSocket *s, const void *buf, size_t len)
{
    int n = send((SOCKET)s->fd, buf, len > INT_MAX ? INT_MAX : (int)len, 0);

    if (n >= 0) {
        return n;
    }
    n = WSAGetLastError();
    if (n == WSAEWOULDBLOCK || n == WSAEINTR) {
        return 0;
    }
    return LM_IO_CLOSED;
}

int lm_sock_wait(LmSocket *s, bool read, int timeout_ms)
{
    int r = wait_for(s, POLLWRNORM | (read ? POLLRDNORM : 0), timeout_ms);
    int ready = 0;

    if (r < 0) {
        return LM_IO_CLOSED;
    }
    if (r & POLLWRNORM) {
        ready |= LM_SOCK_WRITABLE;
    }
    if (read && (r & (POLLRDNORM | POLLHUP | POLLERR))) {
        ready |= LM_SOCK_READABLE;
    }
    return ready;
}
