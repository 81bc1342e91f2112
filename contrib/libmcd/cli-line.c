/* SPDX-License-Identifier: MIT */
/*
 * mcd-cli: command lines on a terminal.  With libedit (BSD licensed,
 * CLI_HAVE_LIBEDIT) through its readline-compatible interface: line
 * editing, a history kept in a file, completion of command and symbol
 * names.  Without it: a prompt and a plain read of stdin.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli-line.h"

#ifdef CLI_HAVE_LIBEDIT
#include <editline/readline.h>

#define HISTORY_LINES 1000

static char *history_file;
static CliWordFn complete_words;
static char *last_line;

const char *cli_line_editor(void)
{
    return "libedit";
}

/* rl_completion_matches() asks for the next word that starts with @text */
static char *next_word(const char *text, int state)
{
    static size_t i, len;
    static bool first;
    const char *w;

    if (state == 0) {
        size_t pos = rl_point > 0 ? (size_t)rl_point : 0;
        size_t k = pos;

        i = 0;
        len = strlen(text);
        /* the first word of a command: nothing but blanks before it */
        while (k > 0 && !isspace((unsigned char)rl_line_buffer[k - 1]) &&
               rl_line_buffer[k - 1] != ';') {
            k--;
        }
        while (k > 0 && isspace((unsigned char)rl_line_buffer[k - 1])) {
            k--;
        }
        first = k == 0 || rl_line_buffer[k - 1] == ';';
    }
    while ((w = complete_words(i++, first)) != NULL) {
        if (strncmp(w, text, len) == 0) {
            return strdup(w);
        }
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start, (void)end;
    /* no file names instead when nothing matches */
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, next_word);
}

void cli_line_open(const char *history, CliWordFn words)
{
    rl_readline_name = "mcd-cli";
    complete_words = words;
    if (words) {
        rl_attempted_completion_function = complete;
    }
    using_history();
    stifle_history(HISTORY_LINES);
    if (history) {
        history_file = strdup(history);
        read_history(history);
    }
}

char *cli_line_read(const char *prompt)
{
    char *line;

    fflush(stdout);
    line = readline(prompt);
    if (line && line[strspn(line, " \t")] != '\0' &&
        (!last_line || strcmp(line, last_line) != 0)) {
        add_history(line);
        free(last_line);
        last_line = strdup(line);
    }
    return line;
}

void cli_line_close(void)
{
    if (history_file) {
        write_history(history_file);
        history_truncate_file(history_file, HISTORY_LINES);
    }
    free(history_file);
    free(last_line);
    history_file = last_line = NULL;
}

#else /* !CLI_HAVE_LIBEDIT */

const char *cli_line_editor(void)
{
    return "none";
}

void cli_line_open(const char *history, CliWordFn words)
{
    (void)history, (void)words;
}

char *cli_line_read(const char *prompt)
{
    size_t size = 256, len = 0;
    char *line = malloc(size), *bigger;

    fputs(prompt, stdout);
    fflush(stdout);
    /* a line of any length: fgets() until its newline */
    while (line && fgets(line + len, size - len, stdin)) {
        len += strlen(line + len);
        if (len && line[len - 1] == '\n') {
            break;
        }
        if (len == size - 1) {
            bigger = realloc(line, 2 * size);
            if (!bigger) {
                break;
            }
            line = bigger;
            size *= 2;
        }
    }
    if (!line || len == 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

void cli_line_close(void)
{
}

#endif
