/* SPDX-License-Identifier: MIT */
/*
 * A send of libmcd's POSIX transport to a connection the peer closed is
 * an error, and never a SIGPIPE that kills the debugger's process.  Built
 * twice: as it is, with MSG_NOSIGNAL, and with LIBMCD_NO_MSG_NOSIGNAL,
 * the way of the platforms without it.  SIGPIPE keeps its default action
 * here, as in a debugger that does not ignore it.  Output is TAP.
 *
 * libmcd is MIT licensed, so that proprietary debuggers may load it.
 */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "transport-os.h"

static int tests, failed;

static void ok(bool cond, const char *what)
{
    tests++;
    failed += !cond;
    printf("%sok %d - %s\n", cond ? "" : "not ", tests, what);
    fflush(stdout);
}

int main(void)
{
    struct sigaction sa = { .sa_handler = SIG_DFL };
    struct timespec pause = { 0, 100 * 1000 * 1000 };
    struct sockaddr_in addr = { 0 };
    socklen_t len = sizeof(addr);
    ptrdiff_t sent[3];
    sigset_t pending;
    char err[256];
    LmSocket s;
    int lfd, fd, i;

    sigaction(SIGPIPE, &sa, NULL);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) != 0) {
        printf("Bail out! no loopback listener\n");
        return 1;
    }
    lm_sock_init(&s);
    ok(lm_sock_connect(&s, "127.0.0.1", ntohs(addr.sin_port), 2000, err,
                       sizeof(err)) == 0, "connect");
    fd = accept(lfd, NULL, NULL);
    ok(fd >= 0, "the peer takes the connection, then closes it");
    close(fd);
    nanosleep(&pause, NULL);
    /* the first send gets the peer's reset, the next ones EPIPE */
    for (i = 0; i < 3; i++) {
        sent[i] = lm_sock_send(&s, "$qprotocol#|", 12);
        nanosleep(&pause, NULL);
    }
    ok(sent[1] == LM_IO_CLOSED && sent[2] == LM_IO_CLOSED,
       "sends to the closed connection fail");
    sigpending(&pending);
    ok(!sigismember(&pending, SIGPIPE),
       "... the process is alive, no SIGPIPE left pending");
    lm_sock_close(&s);
    close(lfd);
    printf("1..%d\n", tests);
    return failed ? 1 : 0;
}
