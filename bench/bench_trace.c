/*
 * bench_trace.c — ferry_bench_trace: what FERRY_TRACE costs, off and on.
 *
 * The same loops run in three processes, alternated round by round so all
 * three see the same machine:
 *   baseline  ferry_bench_trace_baseline: libferry built with the trace
 *             check compiled out (FERRY_TRACE_COMPILED_OUT)
 *   off       this program, FERRY_TRACE unset (the default)
 *   on        this program, FERRY_TRACE=1
 * "off / baseline" is the price every user pays for the feature existing
 * (target: 1.00, within noise); "on / off" is the price of turning it on.
 * Loops: box+drop and clone+drop (each makes and ends a handle, so each
 * records two backtraces when on), and borrow+unborrow (no trace hook: a
 * control that should read 1.00 everywhere).
 *
 * Usage: ferry_bench_trace --baseline PROGRAM [--markdown FILE] [--rounds N]
 *        ferry_bench_trace --loops [N]   (one process's figures: "name ns" lines;
 *                                         N: N iterations each, for callgrind)
 * Every figure is the best of the rounds (default 7). Not part of CTest.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry.h"
#include "report.h"

#define LOOPS 3
static const char *const loop_names[LOOPS] = {"box+drop", "clone+drop", "borrow+unborrow"};

typedef struct counted {
    atomic_long refs;
} counted;

static void release_nothing(void *obj)
{
    (void)obj;
}

static void *retain_counted(void *obj)
{
    atomic_fetch_add_explicit(&((counted *)obj)->refs, 1, memory_order_relaxed);
    return obj;
}

static void release_counted(void *obj)
{
    atomic_fetch_sub_explicit(&((counted *)obj)->refs, 1, memory_order_relaxed);
}

static const ferry_type *plain_type, *shared_type;

static void check(ferry_status s, const char *what)
{
    if (s != FERRY_OK)
        die(what, s);
}

/* Runs n iterations of loop `which`. */
static void run_loop(int which, long n, ferry_handle shared)
{
    static counted obj;
    ferry_handle h;
    const void *p;
    for (long i = 0; i < n; i++) {
        switch (which) {
        case 0:
            check(ferry_box(plain_type, &obj, &h), "ferry_box");
            check(ferry_drop(h), "ferry_drop");
            break;
        case 1:
            check(ferry_clone(shared, &h), "ferry_clone");
            check(ferry_drop(h), "ferry_drop");
            break;
        default:
            check(ferry_borrow(shared, shared_type, &p), "ferry_borrow");
            check(ferry_unborrow(shared), "ferry_unborrow");
        }
    }
}

/* ns per iteration of loop `which`: batches until 30 ms have passed. */
static double time_loop(int which, ferry_handle shared)
{
    long batch = 1000, done = 0;
    double start = now_ns(), elapsed;
    do {
        run_loop(which, batch, shared);
        done += batch;
        elapsed = now_ns() - start;
    } while (elapsed < 30e6);
    return elapsed / (double)done;
}

/* fixed: iterations per loop, for instruction counts (callgrind); 0 = timed */
static int print_loops(long fixed)
{
    ferry_type_desc plain = {
        .name = "bench.trace.Plain", .flags = FERRY_SEND | FERRY_SYNC, .release = release_nothing};
    ferry_type_desc shared = {.name = "bench.trace.Shared",
                              .flags = FERRY_SEND | FERRY_SYNC,
                              .release = release_counted,
                              .retain = retain_counted};
    check(ferry_type_register(&plain, &plain_type), "ferry_type_register");
    check(ferry_type_register(&shared, &shared_type), "ferry_type_register");
    static counted obj = {1};
    ferry_handle h;
    check(ferry_share(shared_type, &obj, &h), "ferry_share");
    for (int i = 0; i < LOOPS; i++)
        run_loop(i, 10000, h); /* warm up: table, caches, unwinder */
    for (int i = 0; i < LOOPS; i++) {
        if (fixed > 0) {
            double start = now_ns();
            run_loop(i, fixed, h);
            printf("%s %.3f\n", loop_names[i], (now_ns() - start) / (double)fixed);
        } else {
            printf("%s %.3f\n", loop_names[i], time_loop(i, h));
        }
    }
    check(ferry_drop(h), "ferry_drop");
    return 0;
}

/* Runs `program --loops` with FERRY_TRACE set to trace (NULL: unset) and
 * folds its figures into best[]. */
static void run_child(const char *program, const char *trace, double best[LOOPS])
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        if (trace)
            setenv("FERRY_TRACE", trace, 1);
        else
            unsetenv("FERRY_TRACE");
        execl(program, program, "--loops", (char *)NULL);
        perror(program);
        _exit(127);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char name[64];
    double ns;
    int got = 0;
    while (in && fscanf(in, "%63s %lf", name, &ns) == 2) {
        for (int i = 0; i < LOOPS; i++) {
            if (strcmp(name, loop_names[i]) == 0) {
                if (best[i] == 0 || ns < best[i])
                    best[i] = ns;
                got++;
            }
        }
    }
    if (in)
        fclose(in);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        got != LOOPS) {
        fprintf(stderr, "ferry_bench_trace: %s (FERRY_TRACE=%s) failed\n", program,
                trace ? trace : "unset");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    report_program = "ferry_bench_trace";
    const char *baseline = NULL;
    int rounds = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--loops") == 0)
            return print_loops(i + 1 < argc ? atol(argv[i + 1]) : 0);
        if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc)
            baseline = argv[++i];
        else if (strcmp(argv[i], "--markdown") == 0 && i + 1 < argc) {
            if (!report_markdown(argv[++i]))
                return 2;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s --baseline PROGRAM [--markdown FILE] [--rounds N]\n"
                    "       %s --loops [ITERATIONS]\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    if (!baseline || rounds < 1) {
        fprintf(stderr, "%s: --baseline PROGRAM is required\n", argv[0]);
        return 2;
    }
    double base[LOOPS] = {0}, off[LOOPS] = {0}, on[LOOPS] = {0};
    for (int r = 0; r < rounds; r++) {
        progress("round");
        /* Rotate the order so no configuration always runs first. */
        for (int k = 0; k < 3; k++) {
            switch ((r + k) % 3) {
            case 0:
                run_child(baseline, NULL, base);
                break;
            case 1:
                run_child("/proc/self/exe", NULL, off);
                break;
            default:
                run_child("/proc/self/exe", "1", on);
            }
        }
    }
    emit("# FERRY_TRACE: cost off and on\n\n");
    emit("`ferry_bench_trace`, best of %d rounds, the three configurations alternated in "
         "each round. ns per iteration (one create and one end, or one borrow and "
         "unborrow). *baseline*: libferry with the trace check compiled out; *off*: "
         "the shipped library, `FERRY_TRACE` unset; *on*: `FERRY_TRACE=1`.\n\n",
         rounds);
    emit("| loop | baseline ns | off ns | off / baseline | on ns | on / off |\n");
    emit("|---|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < LOOPS; i++)
        emit("| %s | %.2f | %.2f | %.3f | %.1f | %.1f |\n", loop_names[i], base[i], off[i],
             off[i] / base[i], on[i], on[i] / off[i]);
    emit("\n");
    return 0;
}
