/*
 * report.c — every failure of the tool is exactly one line on stderr, so a
 * script can show it as is; ferry's messages may span lines (a busy close
 * lists the live handles), so they are folded.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout); /* what was printed before the failure comes first */
    fputs("ferry: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* Writes msg with each run of line breaks, and the indentation after it,
 * turned into "; "; a break at the end is left out. */
static void put_folded(const char *msg)
{
    bool line_start = false;
    for (const char *c = msg; *c; c++) {
        if (*c == '\n' || *c == '\r') {
            line_start = true;
        } else if (!(line_start && (*c == ' ' || *c == '\t'))) {
            if (line_start)
                fputs("; ", stderr);
            line_start = false;
            fputc(*c, stderr);
        }
    }
}

int cli_fail_ferry(ferry_status s, const char *what)
{
    const char *msg = ferry_last_error();
    const char *name = ferry_status_name(s);
    fflush(stdout);
    /* ferry's messages name the status and the operation already. A plugin
     * may return a status without reporting one, though; then the last
     * error belongs to an earlier failure and must not be shown. */
    if (strncmp(msg, name, strlen(name)) == 0) {
        fputs("ferry: ", stderr);
        put_folded(msg);
        fputc('\n', stderr);
    } else {
        fprintf(stderr, "ferry: %s: %s: %s\n", what, name, ferry_status_text(s));
    }
    return CLI_FAILED;
}
