/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: a progress bar for long transfers, on stdout when it is a
 * terminal.  The bar is one line, redrawn with a carriage return at
 * most ten times a second, and erased at the end.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "cli-progress.h"

#define BAR_WIDTH 24
#define DEFAULT_DELAY_S 1.0

double cli_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_format_size(uint64_t bytes, char *out, size_t size)
{
    if (bytes >= 1024 * 1024 * 1024) {
        snprintf(out, size, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    } else if (bytes >= 1024 * 1024) {
        snprintf(out, size, "%.1f MiB", bytes / (1024.0 * 1024));
    } else if (bytes >= 1024) {
        snprintf(out, size, "%.1f KiB", bytes / 1024.0);
    } else {
        snprintf(out, size, "%" PRIu64 " byte%s", bytes,
                 bytes == 1 ? "" : "s");
    }
}

void cli_progress_start(CliProgress *p, const char *what, uint64_t total)
{
    const char *env = getenv("MCD_CLI_PROGRESS_DELAY");
    char *end;

    p->what = what;
    p->total = total;
    p->start = cli_now();
    p->drawn = 0;
    p->shown = false;
    p->tty = isatty(STDOUT_FILENO);
    p->delay = DEFAULT_DELAY_S;
    if (env && *env) {
        p->delay = strtod(env, &end);
        if (*end || !(p->delay >= 0)) {
            p->delay = DEFAULT_DELAY_S;
        }
    }
}

static void draw(CliProgress *p, uint64_t done, double now)
{
    char bar[BAR_WIDTH + 1], sofar[24], all[24];
    double elapsed = now - p->start;
    unsigned int fill, i;

    fill = p->total ? (unsigned int)(BAR_WIDTH * (double)done / p->total)
                    : BAR_WIDTH;
    for (i = 0; i < BAR_WIDTH; i++) {
        bar[i] = i < fill ? '#' : '-';
    }
    bar[BAR_WIDTH] = '\0';
    cli_format_size(done, sofar, sizeof(sofar));
    cli_format_size(p->total, all, sizeof(all));
    printf("\r%-7s [%s] %3u%%  %s of %s", p->what, bar,
           p->total ? (unsigned int)(100.0 * done / p->total) : 100,
           sofar, all);
    if (elapsed > 0) {
        printf(", %.1f MiB/s", done / elapsed / (1024 * 1024));
    }
    printf("\033[K");
    fflush(stdout);
    p->drawn = now;
    p->shown = true;
}

void cli_progress_update(CliProgress *p, uint64_t done)
{
    double now, elapsed;

    if (!p->tty) {
        return;
    }
    now = cli_now();
    elapsed = now - p->start;
    if (!p->shown) {
        /* long already, or going to be */
        if (elapsed < p->delay &&
            !(done && elapsed >= p->delay / 4 &&
              elapsed * p->total / done >= p->delay)) {
            return;
        }
    } else if (now - p->drawn < 0.1 && done < p->total) {
        return;
    }
    draw(p, done, now);
}

double cli_progress_end(CliProgress *p)
{
    if (p->shown) {
        printf("\r\033[K");
        fflush(stdout);
        p->shown = false;
    }
    return cli_now() - p->start;
}
