/* SPDX-License-Identifier: MIT */
/*
 * What test-libmcd needs of the platform beyond standard C and pthreads
 * (winpthreads on Windows): sockets, loading the library, the
 * environment.  POSIX, or Windows (mingw-w64, run under wine).
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 *
 * Sockets are ints on both: Winsock's handles are small numbers, and
 * INVALID_SOCKET becomes -1.
 */

#ifndef TEST_OS_H
#define TEST_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#ifdef _WIN32

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#define poll WSAPoll
#define SHUT_RDWR SD_BOTH
/* printf() is mingw-w64's C99 one (__USE_MINGW_ANSI_STDIO) */
#define TEST_PRINTF(fmt, args) \
    __attribute__((format(__MINGW_PRINTF_FORMAT, fmt, args)))

static inline bool os_init(void)
{
    WSADATA wsa;

    /* no message box when a test crashes: an exit status for the TAP */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    return WSAStartup(MAKEWORD(2, 2), &wsa) == 0;
}

static inline void sock_close(int fd)
{
    closesocket((SOCKET)fd);
}

static inline ssize_t sock_read(int fd, void *buf, size_t len)
{
    return recv((SOCKET)fd, buf, (int)len, 0);
}

static inline ssize_t sock_write(int fd, const void *buf, size_t len)
{
    return send((SOCKET)fd, buf, (int)len, 0);
}

/* A receive time-out of @seconds. */
static inline void sock_timeout(int fd, int seconds)
{
    DWORD ms = seconds * 1000;

    setsockopt((SOCKET)fd, SOL_SOCKET, SO_RCVTIMEO, (const char *)&ms,
               sizeof(ms));
}

static inline void sock_nodelay(int fd)
{
    int one = 1;

    setsockopt((SOCKET)fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one,
               sizeof(one));
}

static inline void *lib_open(const char *path, char *err, size_t size)
{
    HMODULE lib = LoadLibraryA(path);

    if (!lib) {
        snprintf(err, size, "LoadLibrary: error %lu", GetLastError());
    }
    return (void *)lib;
}

static inline void *lib_sym(void *lib, const char *name)
{
    FARPROC fn = GetProcAddress((HMODULE)lib, name);
    void *p;

    memcpy(&p, &fn, sizeof(p));
    return p;
}

/* Set @name to @value, or remove it with NULL; libmcd.dll sees it. */
static inline void env_set(const char *name, const char *value)
{
    _putenv_s(name, value ? value : "");
}

#else /* POSIX */

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#define TEST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

static inline bool os_init(void)
{
    struct sigaction sa = { .sa_handler = SIG_IGN };

    /* the test's own sockets; libmcd must not need this */
    return sigaction(SIGPIPE, &sa, NULL) == 0;
}

static inline void sock_close(int fd)
{
    close(fd);
}

static inline ssize_t sock_read(int fd, void *buf, size_t len)
{
    return read(fd, buf, len);
}

static inline ssize_t sock_write(int fd, const void *buf, size_t len)
{
    return write(fd, buf, len);
}

static inline void sock_timeout(int fd, int seconds)
{
    struct timeval tv = { seconds, 0 };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static inline void sock_nodelay(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static inline void *lib_open(const char *path, char *err, size_t size)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);

    if (!lib) {
        snprintf(err, size, "%s", dlerror());
    }
    return lib;
}

static inline void *lib_sym(void *lib, const char *name)
{
    return dlsym(lib, name);
}

static inline void env_set(const char *name, const char *value)
{
    if (value) {
        setenv(name, value, 1);
    } else {
        unsetenv(name);
    }
}

#endif

#endif /* TEST_OS_H */
