/*
 * cli.h — the parts of the `ferry` command-line tool, one file each:
 * main.c (commands), report.c (the one error line), inspect.c, call.c,
 * args.c (command-line text to a typed value), print.c (values and the
 * ledger as text).
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <ferry.h>

#include <stddef.h>

/* Exit statuses. Arguments that do not fit a function's signature are
 * usage errors too: the command line was wrong, not the plugin. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* Prints "ferry: <message>" as the one line on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The failure of a ferry call that returned s: "ferry: " and its
 * ferry_last_error() on one line, or "ferry: <what>: " and the status when
 * the call left no message. Returns CLI_FAILED. */
int cli_fail_ferry(ferry_status s, const char *what);

int cli_inspect(const char *path);
int cli_call(const char *path, const char *function, char *const args[], size_t nargs);

/* Parses text as a value for parameter p into *out. On failure writes why
 * into the reason buffer and returns false. Handle parameters always fail. */
bool cli_parse_arg(const ferry_param *p, const char *text, ferry_value *out, char *reason,
                   size_t reason_size);

/* The parameter as a signature spells it: "u8", "str", "own<img.Image>". */
const char *cli_param_spelling(const ferry_param *p, char *buf, size_t size);

/* Prints a call's result on one line; an own<T> result names result's T. */
void cli_print_value(const ferry_value *v, const ferry_param *result);

/* Prints the counters that changed between two ledger reads, and live. */
void cli_print_ledger_delta(const ferry_counts *before, const ferry_counts *after);

#endif /* FERRY_CLI_H */
