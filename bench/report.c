/*
 * report.c — the shared clock and report of the benchmark programs.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *report_program = "ferry_bench";

static FILE *md_file;

#define MAX_MISSES 16
static char misses[MAX_MISSES][200];
static int nmisses;

double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

bool report_markdown(const char *path)
{
    md_file = fopen(path, "w");
    if (!md_file)
        fprintf(stderr, "%s: cannot write %s: %s\n", report_program, path, strerror(errno));
    return md_file != NULL;
}

void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    if (md_file) {
        va_start(ap, fmt);
        vfprintf(md_file, fmt, ap);
        va_end(ap);
    }
}

void progress(const char *what)
{
    fprintf(stderr, "%s: %s...\n", report_program, what);
    fflush(stderr);
}

const char *verdict(bool pass, const char *fmt, ...)
{
    if (pass)
        return "PASS";
    if (nmisses < MAX_MISSES) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(misses[nmisses++], sizeof misses[0], fmt, ap);
        va_end(ap);
    }
    return "**MISS**";
}

void die(const char *what, ferry_status s)
{
    fprintf(stderr, "%s: %s failed: %s: %s\n", report_program, what, ferry_status_name(s),
            ferry_last_error());
    exit(2);
}

void report_finish(void)
{
    emit("## Targets\n\n");
    if (nmisses == 0)
        emit("All targets met.\n");
    for (int i = 0; i < nmisses; i++)
        emit("MISS: %s\n", misses[i]);
    if (md_file)
        fclose(md_file);
    md_file = NULL;
}
