/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: reading command lines on a terminal, with line editing and
 * history through libedit when mcd-cli is built with it.  No MCD in
 * here.
 */

#ifndef CLI_LINE_H
#define CLI_LINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The words that complete the word under the cursor: the @i-th one, or
 * NULL after the last.  @first: the word is the first of the command.
 */
typedef const char *(*CliWordFn)(size_t i, bool first);

/* Whether line editing is built in: "libedit" or "none". */
const char *cli_line_editor(void);

/*
 * Start reading lines interactively: load the history from @history
 * (a file name, or NULL for none) and complete words with @words.
 */
void cli_line_open(const char *history, CliWordFn words);

/*
 * Show @prompt and read a line, with editing when built in.  Returns a
 * line to free(), without its newline, or NULL at the end of input.
 */
char *cli_line_read(const char *prompt);

/* Save the history and stop. */
void cli_line_close(void);

#endif
