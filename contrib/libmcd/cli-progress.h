/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: a progress bar for long transfers, drawn on stdout only when
 * it is a terminal and the transfer takes more than about a second.
 * No MCD in here.
 */

#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct CliProgress {
    const char *what;           /* "dump", "restore", "load" */
    uint64_t total;             /* bytes */
    double start;               /* seconds, monotonic */
    double drawn;               /* when the bar was drawn last */
    double delay;               /* show the bar after this many seconds */
    bool tty;                   /* stdout is a terminal */
    bool shown;                 /* the bar is on the screen */
} CliProgress;

/* Seconds on a monotonic clock. */
double cli_now(void);

/*
 * Start a transfer of @total bytes.  The bar shows once it has taken
 * more than a second (MCD_CLI_PROGRESS_DELAY=seconds changes that),
 * never when stdout is not a terminal.
 */
void cli_progress_start(CliProgress *p, const char *what, uint64_t total);

/* @done bytes of the total are done: redraw the bar now and then. */
void cli_progress_update(CliProgress *p, uint64_t done);

/* The transfer ended: erase the bar.  Returns the seconds it took. */
double cli_progress_end(CliProgress *p);

/* "16.0 MiB", "512 bytes": @bytes for people, into @out. */
void cli_format_size(uint64_t bytes, char *out, size_t size);

#endif
