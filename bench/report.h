/*
 * report.h — what every ferry benchmark program shares: a clock, the
 * tables written to stdout and optionally a Markdown file, and the list of
 * missed targets printed at the end.
 */
#ifndef FERRY_BENCH_REPORT_H
#define FERRY_BENCH_REPORT_H

#include <stdbool.h>

#include "ferry.h"

#if defined(__GNUC__) || defined(__clang__)
#define REPORT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define REPORT_PRINTF(f, a)
#endif

/* The program's name, for messages on stderr ("ferry_bench"). */
extern const char *report_program;

/* Monotonic time in nanoseconds. */
double now_ns(void);

/* Also writes the tables to path; false (with a message) when it cannot. */
bool report_markdown(const char *path);

/* Writes to stdout and, after report_markdown, to the file. */
void emit(const char *fmt, ...) REPORT_PRINTF(1, 2);

/* One line on stderr saying what is being measured. */
void progress(const char *what);

/* "PASS", or "**MISS**" after recording the formatted miss for the summary. */
const char *verdict(bool pass, const char *fmt, ...) REPORT_PRINTF(2, 3);

/* Prints a failed ferry call and exits with status 2. */
void die(const char *what, ferry_status s);

/* Emits the "Targets" summary (one MISS line per miss) and closes the file. */
void report_finish(void);

#endif /* FERRY_BENCH_REPORT_H */
