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
#ifndef _WIN32
#include <signal.h>
#endif
#include "cli-line.h"

/*
 * Ctrl-C at the prompt drops the line typed so far and prompts again, as
 * in gdb and shells, instead of ending mcd-cli: SIGINT is caught while a
 * line is read, without SA_RESTART, so that the read returns.  (libedit
 * puts the terminal back, restores this handler and raises SIGINT
 * again.)  On Windows the console's Ctrl-C is left as it is.
 */
#ifndef _WIN32
static volatile sig_atomic_t line_sigint;
static struct sigaction line_old_sigint;

static void on_line_sigint(int sig)
{
    (void)sig;
    line_sigint = 1;
}

static void catch_line_sigint(bool on)
{
    struct sigaction sa;

    if (on) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_line_sigint;
        sigemptyset(&sa.sa_mask);
        line_sigint = 0;
        sigaction(SIGINT, &sa, &line_old_sigint);
    } else {
        sigaction(SIGINT, &line_old_sigint, NULL);
    }
}

/*
 * Whether the read of a line ended with Ctrl-C: then @show (the "^C" a
 * terminal does not echo while libedit edits) and a new line.
 */
static bool line_interrupted(const char *show)
{
    if (!line_sigint) {
        return false;
    }
    printf("%s\n", show);
    return true;
}
#else
static void catch_line_sigint(bool on)
{
    (void)on;
}

static bool line_interrupted(const char *show)
{
    (void)show;
    return false;
}
#endif

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
    do {
        catch_line_sigint(true);
        line = readline(prompt);
        catch_line_sigint(false);
    } while (!line && line_interrupted("^C"));
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
    bool got;

    fputs(prompt, stdout);
    fflush(stdout);
    /* a line of any length: fgets() until its newline */
    while (line) {
        catch_line_sigint(true);
        got = fgets(line + len, size - len, stdin) != NULL;
        catch_line_sigint(false);
        if (!got) {
            if (!line_interrupted("")) {
                break;
            }
            /* Ctrl-C: drop what was typed, prompt again */
            clearerr(stdin);
            len = 0;
            fputs(prompt, stdout);
            fflush(stdout);
            continue;
        }
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
