/*
 * bench_core.c — ferry_bench: the cost of libferry's core operations against
 * the raw operation each one stands for (its "floor"), in one run.
 *
 *   1. borrow+unborrow of a unique Send+Sync handle  vs  CAS increment +
 *      fetch_sub on one word                                  target <= 1.5x
 *   2. box+drop of an existing object (no-op release)  vs  malloc(32)+free
 *                                                             target <= 1.0x
 *   3. clone+drop of a shared handle (atomic refcount)  vs  fetch_add +
 *      fetch_sub on one word                                  target <= 3x
 *   4. the same with two threads, on distinct handles (scaling) and on one
 *      shared handle (against the floor on one shared word); report only
 *   5. table growth from 0 to 10^7 live handles (10^6 with --quick), points
 *      at 1, 2 and 5 per decade from 10^3: time per insert while the table
 *      grows, and resident memory per live handle from the process's RSS;
 *      at 10^6 and 10^7                                       target <= 48 B
 *   6. the cost of reading the ledger: ferry_ledger(NULL, ...), ferry_ledger(t,
 *      ...) and ferry_live(); report only. (The ledger's per-operation
 *      counting cannot be switched off in the product, so its cost is given
 *      in docs/performance.md from instruction counts of a build without it.)
 *
 * Every figure is the best of several repetitions (default 7), each sized to
 * take about 30 ms (3 ms with --quick); ferry and its floor are measured in
 * alternation so both see the same machine. ns/op is per operation pair
 * (borrow+unborrow, box+drop, ...) and, with two threads, per thread.
 *
 * Two-thread runs pin the main thread and the second thread to two different
 * CPUs: left to itself, the scheduler often starts the new thread on the
 * main thread's CPU and the two then run one after the other, which
 * measures neither scaling nor contention. Repetitions where the threads
 * still did not run together (a busy machine) are discarded; see run_once().
 * FERRY_BENCH_DEBUG=1 prints every repetition's time and overlap.
 *
 * Usage: ferry_bench [--quick] [--markdown FILE] [--csv FILE] [--reps N]
 * The tables go to stdout (and the Markdown FILE); progress goes to stderr.
 * --csv FILE writes the growth curve of item 5 (`./build.sh bench` keeps it
 * in docs/perf-growth.csv), one header line and one line per point:
 *
 *   live_handles,insert_ns,rss_bytes_per_handle,vmrss_bytes_per_handle
 *   1000,39.56,40.96,40.96
 *
 * live_handles: handles live at the point (1000 ... 10000000); insert_ns:
 * ns per ferry_box of the handles added since the previous point (the table
 * growing meanwhile); rss_bytes_per_handle / vmrss_bytes_per_handle: growth
 * of the resident set (/proc/self/statm, VmRSS of /proc/self/status) since
 * no bench handle was live, divided by live_handles. Decimal points, no
 * quoting, comma-separated, so gnuplot reads it with `set datafile
 * separator ","` and skips the header with `every ::1`. The exit
 * status is 0 even when a target is missed: a "MISS:" line names each one.
 * Not part of the CTest suite on purpose (timings would make it flaky).
 */
#define _GNU_SOURCE /* pthread_attr_setaffinity_np, CPU_SET */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry.h"
#include "report.h"

#ifndef FERRY_BENCH_BUILD_TYPE
#define FERRY_BENCH_BUILD_TYPE "unknown"
#endif

/* ------------------------------------------------------------------------ */
/* Options and output                                                       */
/* ------------------------------------------------------------------------ */

static bool opt_quick;
static int opt_reps = 7;
static double rep_target_ns = 30e6; /* one repetition; 10x less with --quick */

/* ------------------------------------------------------------------------ */
/* Types and objects                                                        */
/* ------------------------------------------------------------------------ */

/* A unique object that is never freed: release does nothing. */
static void noop_release(void *obj)
{
    (void)obj;
}

/* A shared object with an Arc-like count (relaxed increment, release
 * decrement; the count never reaches zero here, so no acquire fence). */
typedef struct rc_obj {
    _Alignas(64) _Atomic long rc;
} rc_obj;

static void *rc_retain(void *obj)
{
    atomic_fetch_add_explicit(&((rc_obj *)obj)->rc, 1, memory_order_relaxed);
    return obj;
}
static void rc_release(void *obj)
{
    atomic_fetch_sub_explicit(&((rc_obj *)obj)->rc, 1, memory_order_release);
}

static const ferry_type *t_unique, *t_shared, *t_pinned;
static int static_objs[64]; /* the objects unique handles box */
static rc_obj shared_objs[2];

/* One 64-byte line per floor word, so distinct words never share a line. */
typedef struct word {
    _Alignas(64) _Atomic uint64_t v;
} word;
static word words[2];

/* ------------------------------------------------------------------------ */
/* Loops                                                                    */
/* ------------------------------------------------------------------------ */

/* What one thread works on; one cache line (or more) of its own. The
 * volatile sink keeps every result observable, so no loop can be dropped. */
typedef struct worker {
    _Alignas(64) ferry_handle h;
    const ferry_type *t;
    void *obj;
    _Atomic uint64_t *word;
    volatile uintptr_t sink;
    unsigned status; /* OR of every status the loop saw; 0 = all FERRY_OK */
} worker;

typedef void (*loop_fn)(worker *w, uint64_t n);

static void loop_borrow(worker *w, uint64_t n)
{
    ferry_handle h = w->h;
    const ferry_type *t = w->t;
    unsigned st = 0;
    for (uint64_t i = 0; i < n; i++) {
        const void *p = NULL;
        st |= (unsigned)ferry_borrow(h, t, &p);
        w->sink = (uintptr_t)p;
        st |= (unsigned)ferry_unborrow(h);
    }
    w->status |= st;
}

static void loop_floor_borrow(worker *w, uint64_t n)
{
    _Atomic uint64_t *a = w->word;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = atomic_load_explicit(a, memory_order_relaxed);
        while (!atomic_compare_exchange_weak(a, &v, v + 1))
            ;
        w->sink = (uintptr_t)v;
        atomic_fetch_sub(a, 1);
    }
}

static void loop_box(worker *w, uint64_t n)
{
    const ferry_type *t = w->t;
    void *obj = w->obj;
    unsigned st = 0;
    for (uint64_t i = 0; i < n; i++) {
        ferry_handle h = FERRY_NULL_HANDLE;
        st |= (unsigned)ferry_box(t, obj, &h);
        w->sink = (uintptr_t)h.bits;
        st |= (unsigned)ferry_drop(h);
    }
    w->status |= st;
}

static void loop_floor_box(worker *w, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        void *p = malloc(32);
        w->sink = (uintptr_t)p; /* escapes: the malloc/free pair cannot be elided */
        free(p);
    }
}

static void loop_clone(worker *w, uint64_t n)
{
    ferry_handle h = w->h;
    unsigned st = 0;
    for (uint64_t i = 0; i < n; i++) {
        ferry_handle c = FERRY_NULL_HANDLE;
        st |= (unsigned)ferry_clone(h, &c);
        w->sink = (uintptr_t)c.bits;
        st |= (unsigned)ferry_drop(c);
    }
    w->status |= st;
}

static void loop_floor_clone(worker *w, uint64_t n)
{
    _Atomic uint64_t *a = w->word;
    for (uint64_t i = 0; i < n; i++) {
        w->sink = (uintptr_t)atomic_fetch_add_explicit(a, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(a, 1, memory_order_release);
    }
}

static void loop_ledger_all(worker *w, uint64_t n)
{
    unsigned st = 0;
    for (uint64_t i = 0; i < n; i++) {
        ferry_counts c;
        st |= (unsigned)ferry_ledger(NULL, &c);
        w->sink = (uintptr_t)c.live;
    }
    w->status |= st;
}

static void loop_ledger_type(worker *w, uint64_t n)
{
    unsigned st = 0;
    for (uint64_t i = 0; i < n; i++) {
        ferry_counts c;
        st |= (unsigned)ferry_ledger(w->t, &c);
        w->sink = (uintptr_t)c.live;
    }
    w->status |= st;
}

static void loop_live(worker *w, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        w->sink = (uintptr_t)ferry_live();
}

/* ------------------------------------------------------------------------ */
/* Runner                                                                   */
/* ------------------------------------------------------------------------ */

/* A measurement: fn run by one thread on w[0], or by two at once on w[0]
 * (the main thread) and w[1] (a thread started for the repetition). */
typedef struct bench {
    const char *name;
    loop_fn fn;
    worker *w[2];
    int threads;
    uint64_t n; /* iterations per thread per repetition, from calibration */
} bench;

static _Atomic unsigned start_count;

/* The CPUs two-thread runs pin to (-1: fewer than two allowed; no pinning). */
static int cpu_main = -1, cpu_other = -1;
static cpu_set_t cpus_allowed;

static void pick_cpus(void)
{
    CPU_ZERO(&cpus_allowed);
    if (sched_getaffinity(0, sizeof cpus_allowed, &cpus_allowed) != 0)
        return;
    for (int c = 0; c < CPU_SETSIZE && cpu_other < 0; c++)
        if (CPU_ISSET(c, &cpus_allowed)) {
            if (cpu_main < 0)
                cpu_main = c;
            else
                cpu_other = c;
        }
    if (cpu_other < 0)
        cpu_main = -1;
}

/* Pins the main thread to cpu_main (on) or gives it back every allowed CPU. */
static void pin_main(bool on)
{
    if (cpu_other < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu_main, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, on ? &set : &cpus_allowed);
}

typedef struct job {
    const bench *b;
    worker *w;
    uint64_t n;
    double t0, t1;     /* wall clock */
    double cpu0, cpu1; /* this thread's CPU time */
} job;

static double thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *job_run(void *arg)
{
    job *j = arg;
    /* Start together: both threads spin until both arrived. */
    atomic_fetch_add(&start_count, 1);
    while (atomic_load(&start_count) < 2)
        ;
    j->cpu0 = thread_cpu_ns();
    j->t0 = now_ns();
    j->b->fn(j->w, j->n);
    j->t1 = now_ns();
    j->cpu1 = thread_cpu_ns();
    return NULL;
}

/*
 * One repetition; the elapsed time of the slower thread, in ns. *overlap
 * (may be NULL) receives how much of that time both threads were running:
 * the smaller of the two threads' CPU time / wall time, less the skew of
 * their starts. A thread descheduled by another process on a busy machine
 * lowers it; a thread that is merely slower (losing a contended line) does
 * not.
 */
static double run_once(const bench *b, uint64_t n, double *overlap)
{
    if (overlap)
        *overlap = 1;
    if (b->threads == 1) {
        double t0 = now_ns();
        b->fn(b->w[0], n);
        return now_ns() - t0;
    }
    atomic_store(&start_count, 0);
    job j0 = {b, b->w[0], n, 0, 0, 0, 0}, j1 = {b, b->w[1], n, 0, 0, 0, 0};
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (cpu_other >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu_other, &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    int e = pthread_create(&th, &attr, job_run, &j1);
    pthread_attr_destroy(&attr);
    if (e != 0) {
        fprintf(stderr, "ferry_bench: pthread_create: %s\n", strerror(e));
        exit(2);
    }
    job_run(&j0);
    pthread_join(th, NULL);
    double ns0 = j0.t1 - j0.t0, ns1 = j1.t1 - j1.t0, ns = ns0 > ns1 ? ns0 : ns1;
    if (overlap && ns0 > 0 && ns1 > 0) {
        double on0 = (j0.cpu1 - j0.cpu0) / ns0, on1 = (j1.cpu1 - j1.cpu0) / ns1;
        double skew = j0.t0 > j1.t0 ? j0.t0 - j1.t0 : j1.t0 - j0.t0;
        *overlap = (on0 < on1 ? on0 : on1) - skew / ns;
    }
    return ns;
}

/* Finds n so that one repetition takes about rep_target_ns (also warms up). */
static void calibrate(bench *b)
{
    uint64_t n = 256;
    double min_ns = rep_target_ns / 16;
    for (;;) {
        double ns = run_once(b, n, NULL);
        if (ns >= min_ns || n >= ((uint64_t)1 << 36)) {
            double want = rep_target_ns * (double)n / (ns > 1 ? ns : 1);
            b->n = want < 64 ? 64 : (uint64_t)want;
            return;
        }
        n *= ns < min_ns / 64 ? 16 : 4;
    }
}

static void check_status(const bench *b)
{
    for (int i = 0; i < b->threads; i++)
        if (b->w[i]->status != 0) {
            fprintf(stderr, "ferry_bench: %s: a ferry call failed (status bits 0x%x): %s\n",
                    b->name, b->w[i]->status, ferry_last_error());
            exit(2);
        }
}

#define MIN_OVERLAP 0.9
#define MAX_BENCHES 4

/*
 * Best-of-reps ns/op (per thread) of several benches, measured in
 * alternation so that a noisy moment hurts all of them alike. With two
 * threads only repetitions where they ran together (MIN_OVERLAP) count;
 * up to 3x the repetitions are run to get opt_reps such ones. If a bench
 * never gets one, its best repetition is kept and low[i] is set (when low
 * is not NULL) so the table can flag it.
 */
static void measure(bench **bs, int count, double *ns_op, bool *low)
{
    double any[MAX_BENCHES];
    int good[MAX_BENCHES];
    if (count > MAX_BENCHES) {
        fprintf(stderr, "ferry_bench: measure: more than %d benches\n", MAX_BENCHES);
        exit(2);
    }
    for (int i = 0; i < count; i++) {
        calibrate(bs[i]);
        ns_op[i] = any[i] = 1e300;
        good[i] = 0;
    }
    for (int r = 0; r < 3 * opt_reps; r++) {
        bool done = true;
        for (int i = 0; i < count; i++)
            done = done && good[i] >= opt_reps;
        if (done)
            break;
        for (int i = 0; i < count; i++) {
            double overlap;
            double ns = run_once(bs[i], bs[i]->n, &overlap) / (double)bs[i]->n;
            if (ns < any[i])
                any[i] = ns;
            if (getenv("FERRY_BENCH_DEBUG"))
                fprintf(stderr, "  %s: rep %d: %.2f ns/op, overlap %.3f\n", bs[i]->name, r, ns,
                        overlap);
            if (overlap >= MIN_OVERLAP) {
                good[i]++;
                if (ns < ns_op[i])
                    ns_op[i] = ns;
            }
        }
    }
    for (int i = 0; i < count; i++) {
        check_status(bs[i]);
        if (low)
            low[i] = good[i] == 0;
        if (good[i] == 0)
            ns_op[i] = any[i];
    }
}

/* A marker for figures whose threads never ran together. */
static bool any_low;
static const char *flag(bool low)
{
    if (low)
        any_low = true;
    return low ? " †" : "";
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */
/* ------------------------------------------------------------------------ */

static void register_types(void)
{
    ferry_type_desc du = {
        .name = "bench.Unique", .flags = FERRY_SEND | FERRY_SYNC, .release = noop_release};
    ferry_status s = ferry_type_register(&du, &t_unique);
    if (s != FERRY_OK)
        die("ferry_type_register(bench.Unique)", s);
    ferry_type_desc ds = {.name = "bench.Shared",
                          .flags = FERRY_SEND | FERRY_SYNC,
                          .release = rc_release,
                          .retain = rc_retain};
    s = ferry_type_register(&ds, &t_shared);
    if (s != FERRY_OK)
        die("ferry_type_register(bench.Shared)", s);
    /* !Send: its handles are pinned to the creating thread, which ends them
     * with a plain store instead of a CAS (docs/design.md). */
    ferry_type_desc dp = {.name = "bench.Pinned", .flags = 0, .release = noop_release};
    s = ferry_type_register(&dp, &t_pinned);
    if (s != FERRY_OK)
        die("ferry_type_register(bench.Pinned)", s);
}

/* The slot index of a handle (documented bit layout: tag 8 | gen 28 | index 28). */
static uint32_t slot_index(ferry_handle h)
{
    return (uint32_t)(h.bits & ((1u << 28) - 1));
}

/* Handles kept alive during the timed sections, so that slots the benches
 * use are far apart (48-byte slots: neighbours share cache lines). */
#define MAX_KEEP 256
static ferry_handle keep[MAX_KEEP];
static int nkeep;

static ferry_handle keep_box(void)
{
    if (nkeep == MAX_KEEP) {
        fprintf(stderr, "ferry_bench: too many kept handles\n");
        exit(2);
    }
    ferry_status s = ferry_box(t_unique, &static_objs[nkeep % 64], &keep[nkeep]);
    if (s != FERRY_OK)
        die("ferry_box", s);
    return keep[nkeep++];
}

static void spacers(int n)
{
    for (int i = 0; i < n; i++)
        keep_box();
}

static void drop_kept(void)
{
    for (int i = 0; i < nkeep; i++) {
        ferry_status s = ferry_drop(keep[i]);
        if (s != FERRY_OK)
            die("ferry_drop(kept)", s);
    }
    nkeep = 0;
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

static long statm_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* A "Key: value kB" line of /proc/self/status or /proc/meminfo, in bytes. */
static long proc_kb_field(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtol(line + klen + 1, NULL, 10) * 1024;
            break;
        }
    fclose(f);
    return v;
}

/* One point of the growth curve: the table grown from 0 to `handles` live
 * handles; insert_ns is the time per ferry_box of the handles added since the
 * previous point (the table growing meanwhile), the growth figures are since
 * the baseline taken with no bench handle live. */
typedef struct mem_row {
    size_t handles;
    long statm_growth, vmrss_growth;
    double create_ns, per_handle_statm, per_handle_vmrss;
    bool done;
} mem_row;

/* Boxes handles [from, to) into hs; fills the row with the growth since
 * the baseline (which was taken with zero live bench handles). */
static void mem_fill(ferry_handle *hs, size_t from, size_t to, long base_statm, long base_vmrss,
                     mem_row *row)
{
    double t0 = now_ns();
    for (size_t i = from; i < to; i++) {
        ferry_status s = ferry_box(t_unique, &static_objs[i & 63], &hs[i]);
        if (s != FERRY_OK)
            die("ferry_box (memory)", s);
    }
    double t1 = now_ns();
    long st = statm_resident_bytes(), vm = proc_kb_field("/proc/self/status", "VmRSS");
    row->handles = to;
    row->statm_growth = st - base_statm;
    row->vmrss_growth = vm - base_vmrss;
    row->create_ns = (t1 - t0) / (double)(to - from);
    row->per_handle_statm = (double)row->statm_growth / (double)to;
    row->per_handle_vmrss = (double)row->vmrss_growth / (double)to;
    row->done = true;
}

/* The growth curve's points: 1, 2 and 5 per decade from 10^3 to 10^7. */
#define MEM_POINTS 13
static const size_t mem_points[MEM_POINTS] = {1000,    2000,    5000,    10000,  20000,
                                              50000,   100000,  200000,  500000, 1000000,
                                              2000000, 5000000, 10000000};

/* Writes the growth curve as CSV (format in this file's header comment). */
static bool write_growth_csv(const char *path, const mem_row *rows, int n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ferry_bench: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    fprintf(f, "live_handles,insert_ns,rss_bytes_per_handle,vmrss_bytes_per_handle\n");
    for (int i = 0; i < n; i++)
        if (rows[i].done)
            fprintf(f, "%zu,%.2f,%.2f,%.2f\n", rows[i].handles, rows[i].create_ns,
                    rows[i].per_handle_statm, rows[i].per_handle_vmrss);
    bool ok = fclose(f) == 0;
    if (!ok)
        fprintf(stderr, "ferry_bench: cannot write %s\n", path);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* Report helpers                                                           */
/* ------------------------------------------------------------------------ */

static void header(void)
{
    char cpu[128] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                const char *c = strchr(line, ':');
                if (c) {
                    c += 1 + (c[1] == ' ');
                    snprintf(cpu, sizeof cpu, "%s", c);
                    cpu[strcspn(cpu, "\n")] = 0;
                }
                break;
            }
        fclose(f);
    }
    char load[64] = "?";
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = 0;
        fclose(f);
    }
    char when[64] = "?";
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);

    emit("# ferry_bench — libferry %s core operations vs raw floors\n\n", FERRY_VERSION_STRING);
    emit("- when: %s; mode: %s; best of %d repetitions of ~%.0f ms each\n", when,
         opt_quick ? "quick (10x fewer iterations)" : "full", opt_reps, rep_target_ns / 1e6);
    emit("- build: %s, compiler %s%s\n", FERRY_BENCH_BUILD_TYPE,
#if defined(__VERSION__)
         __VERSION__,
#else
         "?",
#endif
#if defined(__OPTIMIZE__)
         ""
#else
         " — **not optimised: numbers are meaningless**"
#endif
    );
    emit("- machine: %s, %ld online CPUs, load average %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
         load);
    if (cpu_other >= 0)
        emit("- two-thread runs: pinned to CPUs %d and %d; repetitions where a thread was off "
             "its CPU more than %.0f%% of the time are discarded\n\n",
             cpu_main, cpu_other, (1 - MIN_OVERLAP) * 100);
    else
        emit("- two-thread runs: **only one CPU allowed**, the threads share it\n\n");
    emit("ns/op is per operation pair (borrow+unborrow, box+drop, clone+drop) and, with two "
         "threads, per thread. ratio = ferry / floor.\n\n");
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(FILE *to)
{
    fprintf(to, "usage: ferry_bench [--quick] [--markdown FILE] [--csv FILE] [--reps N]\n"
                "  --quick          about 10x fewer iterations (smoke test), growth to 10^6\n"
                "  --markdown FILE  also write the tables to FILE\n"
                "  --csv FILE       write the table-growth curve to FILE (CSV)\n"
                "  --reps N         repetitions per measurement, best kept (default 7, min 5)\n");
}

int main(int argc, char **argv)
{
    const char *md_path = NULL, *csv_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            opt_quick = true;
        } else if (strcmp(argv[i], "--markdown") == 0 && i + 1 < argc) {
            md_path = argv[++i];
        } else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv_path = argv[++i];
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            opt_reps = atoi(argv[++i]);
            if (opt_reps < 5)
                opt_reps = 5;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (opt_quick)
        rep_target_ns /= 10;
    if (md_path && !report_markdown(md_path))
        return 2;

    pick_cpus();
    register_types();
    for (int i = 0; i < 2; i++)
        atomic_store(&shared_objs[i].rc, 1);

    /* Handles the benches use, each followed by spacers so that no two of
     * them (nor the slot a clone or box lands in next) share a cache line. */
    spacers(8);
    ferry_handle u0 = keep_box();
    spacers(8);
    ferry_handle u1 = keep_box();
    spacers(8);
    ferry_handle s0, s1;
    ferry_status s = ferry_share(t_shared, &shared_objs[0], &s0);
    if (s != FERRY_OK)
        die("ferry_share", s);
    spacers(8);
    s = ferry_share(t_shared, &shared_objs[1], &s1);
    if (s != FERRY_OK)
        die("ferry_share", s);
    spacers(8);
    /* Two neighbouring slots for the false-sharing row: i and i+1 with
     * i % 4 == 2 share a 64-byte line for any 16-byte aligned chunk base
     * other than 48 mod 64 (glibc's mmapped calloc gives 16). */
    ferry_handle adj[2] = {FERRY_NULL_HANDLE, FERRY_NULL_HANDLE};
    {
        ferry_handle run[8];
        for (int i = 0; i < 8; i++)
            run[i] = keep_box();
        for (int i = 0; i + 1 < 8 && !adj[0].bits; i++)
            if (slot_index(run[i]) % 4 == 2 && slot_index(run[i + 1]) == slot_index(run[i]) + 1) {
                adj[0] = run[i];
                adj[1] = run[i + 1];
            }
    }
    spacers(40); /* past the thread's slot cache batch */

    worker *w = aligned_alloc(64, 8 * sizeof(worker));
    if (!w) {
        fprintf(stderr, "ferry_bench: out of memory\n");
        return 2;
    }
    memset(w, 0, 8 * sizeof(worker));
    /* w[0], w[1]: main / second thread on distinct things; w[2], w[3]: both
     * on the shared things; w[4], w[5]: adjacent slots. */
    for (int i = 0; i < 8; i++)
        w[i].status = 0;

    header();

    /* ---- 1 thread ---------------------------------------------------- */
    progress("single thread");
    double borrow1, fborrow1, box1, fbox1, clone1, fclone1, pbox1, pfbox1;
    {
        bench bb = {"borrow+unborrow", loop_borrow, {&w[0], NULL}, 1, 0};
        bench fb = {"floor CAS+fetch_sub", loop_floor_borrow, {&w[0], NULL}, 1, 0};
        bench bx = {"box+drop", loop_box, {&w[0], NULL}, 1, 0};
        bench fx = {"malloc+free", loop_floor_box, {&w[0], NULL}, 1, 0};
        bench cl = {"clone+drop", loop_clone, {&w[1], NULL}, 1, 0};
        bench fc = {"floor fetch_add+fetch_sub", loop_floor_clone, {&w[1], NULL}, 1, 0};
        w[0].h = u0;
        w[0].t = t_unique;
        w[0].obj = &static_objs[0];
        w[0].word = &words[0].v;
        w[1].h = s0;
        w[1].t = t_shared;
        w[1].word = &words[0].v;
        double r[2];
        bench *p1[2] = {&bb, &fb};
        measure(p1, 2, r, NULL);
        borrow1 = r[0];
        fborrow1 = r[1];
        bench *p2[2] = {&bx, &fx};
        measure(p2, 2, r, NULL);
        box1 = r[0];
        fbox1 = r[1];
        bench *p3[2] = {&cl, &fc};
        measure(p3, 2, r, NULL);
        clone1 = r[0];
        fclone1 = r[1];
        w[2].t = t_pinned;
        w[2].obj = &static_objs[1];
        bench px = {"box+drop (!Send)", loop_box, {&w[2], NULL}, 1, 0};
        bench pf = {"malloc+free", loop_floor_box, {&w[2], NULL}, 1, 0};
        bench *p4[2] = {&px, &pf};
        measure(p4, 2, r, NULL);
        pbox1 = r[0];
        pfbox1 = r[1];
        w[2].t = NULL;
        w[2].obj = NULL;
    }
    emit("## 1 thread\n\n");
    emit("| operation | ferry ns/op | floor | floor ns/op | ratio | target | result |\n");
    emit("|---|---:|---|---:|---:|---:|:---:|\n");
    emit("| borrow+unborrow (unique, Send+Sync) | %.1f | CAS increment + fetch_sub | %.1f | "
         "%.2fx | <= 1.5x | %s |\n",
         borrow1, fborrow1, borrow1 / fborrow1,
         verdict(borrow1 / fborrow1 <= 1.5,
                 "borrow+unborrow: %.2fx the floor (%.1f vs %.1f ns), "
                 "target <= 1.5x",
                 borrow1 / fborrow1, borrow1, fborrow1));
    emit("| box+drop (no-op release) | %.1f | malloc(32) + free | %.1f | %.2fx | <= 1.0x | %s |\n",
         box1, fbox1, box1 / fbox1,
         verdict(box1 / fbox1 <= 1.0, "box+drop: %.2fx the floor (%.1f vs %.1f ns), target <= 1.0x",
                 box1 / fbox1, box1, fbox1));
    emit("| clone+drop (shared, atomic refcount) | %.1f | fetch_add + fetch_sub | %.1f | %.2fx | "
         "<= 3x | %s |\n\n",
         clone1, fclone1, clone1 / fclone1,
         verdict(clone1 / fclone1 <= 3.0,
                 "clone+drop: %.2fx the floor (%.1f vs %.1f ns), target <= 3x", clone1 / fclone1,
                 clone1, fclone1));
    emit("Report only: box+drop of a !Send type (handles pinned to their thread, so the drop "
         "ends the slot with a plain store, no CAS): %.1f ns, malloc(32)+free %.1f ns, "
         "%.2fx.\n\n",
         pbox1, pfbox1, pbox1 / pfbox1);
    fflush(stdout);

    /* ---- 2 threads, distinct handles ----------------------------------- */
    progress("two threads, distinct handles");
    pin_main(true);
    double d[6], adjb = 0, adjf = 0;
    bool dlow[6], adjlow = false;
    bool have_adj = adj[0].bits != 0;
    {
        for (int i = 0; i < 2; i++) {
            w[i].t = t_unique;
            w[i].obj = &static_objs[i];
            w[i].word = &words[i].v;
        }
        w[0].h = u0;
        w[1].h = u1;
        w[2].h = s0;
        w[3].h = s1;
        w[2].t = w[3].t = t_shared;
        w[2].word = &words[0].v;
        w[3].word = &words[1].v;
        bench bb = {"2T borrow+unborrow", loop_borrow, {&w[0], &w[1]}, 2, 0};
        bench fb = {"2T floor CAS+fetch_sub", loop_floor_borrow, {&w[0], &w[1]}, 2, 0};
        bench bx = {"2T box+drop", loop_box, {&w[0], &w[1]}, 2, 0};
        bench fx = {"2T malloc+free", loop_floor_box, {&w[0], &w[1]}, 2, 0};
        bench cl = {"2T clone+drop", loop_clone, {&w[2], &w[3]}, 2, 0};
        bench fc = {"2T floor fetch_add+fetch_sub", loop_floor_clone, {&w[2], &w[3]}, 2, 0};
        bench *p1[2] = {&bb, &fb}, *p2[2] = {&bx, &fx}, *p3[2] = {&cl, &fc};
        measure(p1, 2, &d[0], &dlow[0]);
        measure(p2, 2, &d[2], &dlow[2]);
        measure(p3, 2, &d[4], &dlow[4]);
        if (have_adj) {
            w[4].h = adj[0];
            w[5].h = adj[1];
            w[4].t = w[5].t = t_unique;
            bench ab = {"2T borrow+unborrow adjacent", loop_borrow, {&w[4], &w[5]}, 2, 0};
            bench *p4[1] = {&ab};
            measure(p4, 1, &adjb, &adjlow);
            adjf = d[1];
        }
    }
    emit("## 2 threads, distinct handles\n\n");
    emit("Each thread works on its own handle (own object, own floor word). "
         "scaling = throughput of 2 threads / throughput of 1 (ideal 2.00).\n\n");
    emit("| operation | ferry ns/op per thread | ferry scaling | floor | floor ns/op per thread | "
         "floor scaling | ratio |\n");
    emit("|---|---:|---:|---|---:|---:|---:|\n");
    emit("| borrow+unborrow | %.1f%s | %.2f | CAS + fetch_sub, own word | %.1f%s | %.2f | %.2fx "
         "|\n",
         d[0], flag(dlow[0]), 2 * borrow1 / d[0], d[1], flag(dlow[1]), 2 * fborrow1 / d[1],
         d[0] / d[1]);
    emit("| box+drop | %.1f%s | %.2f | malloc(32) + free | %.1f%s | %.2f | %.2fx |\n", d[2],
         flag(dlow[2]), 2 * box1 / d[2], d[3], flag(dlow[3]), 2 * fbox1 / d[3], d[2] / d[3]);
    emit("| clone+drop | %.1f%s | %.2f | fetch_add + fetch_sub, own word | %.1f%s | %.2f | %.2fx "
         "|\n",
         d[4], flag(dlow[4]), 2 * clone1 / d[4], d[5], flag(dlow[5]), 2 * fclone1 / d[5],
         d[4] / d[5]);
    if (have_adj)
        emit("| borrow+unborrow, handles in neighbouring slots (false sharing) | %.1f%s | %.2f | "
             "CAS + fetch_sub, own word | %.1f%s | %.2f | %.2fx |\n",
             adjb, flag(adjlow), 2 * borrow1 / adjb, adjf, flag(dlow[1]), 2 * fborrow1 / adjf,
             adjb / adjf);
    emit("\n");
    fflush(stdout);

    /* ---- 2 threads, one shared handle ---------------------------------- */
    progress("two threads, one shared handle");
    double sh[4];
    bool shlow[4];
    {
        w[0].h = w[1].h = u0;
        w[0].t = w[1].t = t_unique;
        w[0].word = w[1].word = &words[0].v;
        w[2].h = w[3].h = s0;
        w[2].t = w[3].t = t_shared;
        w[2].word = w[3].word = &words[1].v;
        bench bb = {"2T shared borrow+unborrow", loop_borrow, {&w[0], &w[1]}, 2, 0};
        bench fb = {"2T shared floor CAS+fetch_sub", loop_floor_borrow, {&w[0], &w[1]}, 2, 0};
        bench cl = {"2T shared clone+drop", loop_clone, {&w[2], &w[3]}, 2, 0};
        bench fc = {"2T shared floor fetch_add+fetch_sub", loop_floor_clone, {&w[2], &w[3]}, 2, 0};
        bench *p1[2] = {&bb, &fb}, *p2[2] = {&cl, &fc};
        measure(p1, 2, &sh[0], &shlow[0]);
        measure(p2, 2, &sh[2], &shlow[2]);
    }
    emit("## 2 threads, one shared handle\n\n");
    emit("Both threads borrow/unborrow (or clone/drop) the same handle; the floor runs on one "
         "word shared by both threads. slowdown = ns/op per thread / ns/op with 1 thread.\n\n");
    emit("| operation | ferry ns/op per thread | ferry slowdown | floor | floor ns/op per thread | "
         "floor slowdown | ratio |\n");
    emit("|---|---:|---:|---|---:|---:|---:|\n");
    emit("| borrow+unborrow | %.1f%s | %.2fx | CAS + fetch_sub, shared word | %.1f%s | %.2fx | "
         "%.2fx |\n",
         sh[0], flag(shlow[0]), sh[0] / borrow1, sh[1], flag(shlow[1]), sh[1] / fborrow1,
         sh[0] / sh[1]);
    emit("| clone+drop | %.1f%s | %.2fx | fetch_add + fetch_sub, shared word | %.1f%s | %.2fx | "
         "%.2fx |\n",
         sh[2], flag(shlow[2]), sh[2] / clone1, sh[3], flag(shlow[3]), sh[3] / fclone1,
         sh[2] / sh[3]);
    emit("| box+drop | n/a | | (a box makes a new handle: nothing to share) | | | |\n\n");
    if (any_low)
        emit("† in no repetition were both threads on a CPU for %.0f%% of the time (the machine "
             "was busy): the figure is the best repetition anyway and may understate "
             "contention.\n\n",
             MIN_OVERLAP * 100);
    fflush(stdout);

    /* ---- Ledger -------------------------------------------------------- */
    pin_main(false);
    progress("ledger");
    double lg[3];
    {
        w[0].t = t_unique;
        bench la = {"ferry_ledger(NULL)", loop_ledger_all, {&w[0], NULL}, 1, 0};
        bench lt = {"ferry_ledger(t)", loop_ledger_type, {&w[0], NULL}, 1, 0};
        bench lv = {"ferry_live()", loop_live, {&w[0], NULL}, 1, 0};
        bench *p[3] = {&la, &lt, &lv};
        measure(p, 3, lg, NULL);
    }
    emit("## Ledger reads\n\n");
    emit("With 1 attached thread (the others have exited) and %d live handles.\n\n",
         (int)ferry_live());
    emit("| call | ns/call |\n|---|---:|\n");
    emit("| ferry_ledger(NULL, &c) | %.1f |\n", lg[0]);
    emit("| ferry_ledger(t, &c) | %.1f |\n", lg[1]);
    emit("| ferry_live() | %.1f |\n\n", lg[2]);
    fflush(stdout);

    /* Every bench handle ends here; the counts must balance. */
    ferry_status e0 = ferry_drop(s0), e1 = ferry_drop(s1);
    if (e0 != FERRY_OK || e1 != FERRY_OK)
        die("ferry_drop(shared)", e0 != FERRY_OK ? e0 : e1);
    drop_kept();
    if (ferry_live() != 0 || atomic_load(&shared_objs[0].rc) != 0 ||
        atomic_load(&shared_objs[1].rc) != 0) {
        fprintf(stderr, "ferry_bench: unbalanced: %zu live handles, refcounts %ld %ld\n",
                ferry_live(), atomic_load(&shared_objs[0].rc), atomic_load(&shared_objs[1].rc));
        return 2;
    }

    /* ---- Memory and table growth --------------------------------------- */
    progress("table growth and memory per live handle");
    size_t n_max = opt_quick ? 1000000 : 10000000;
    mem_row rows[MEM_POINTS];
    memset(rows, 0, sizeof rows);
    const char *skip = NULL;
    long avail = proc_kb_field("/proc/meminfo", "MemAvailable");
    /* The handle array is written before the baseline so it is not counted
     * (with a non-zero byte: GCC turns malloc + memset 0 into calloc, which
     * would leave the pages untouched until the handles are stored). */
    ferry_handle *hs = malloc(n_max * sizeof *hs);
    if (!hs) {
        fprintf(stderr, "ferry_bench: out of memory for the handle array\n");
        return 2;
    }
    memset(hs, 0xA5, n_max * sizeof *hs);
    (void)statm_resident_bytes();
    (void)proc_kb_field("/proc/self/status", "VmRSS");
    long base_statm = statm_resident_bytes();
    long base_vmrss = proc_kb_field("/proc/self/status", "VmRSS");
    size_t made = 0;
    int npoints = 0;
    for (int i = 0; i < MEM_POINTS && mem_points[i] <= n_max; i++) {
        size_t to = mem_points[i];
        if (avail >= 0 && (double)avail < (double)to * 48 * 2) {
            skip = "not enough available memory";
            break;
        }
        if (i > 0 && rows[i - 1].create_ns * (double)(to - made) > 20e9) {
            skip = "would take more than 20 s";
            break;
        }
        mem_fill(hs, made, to, base_statm, base_vmrss, &rows[i]);
        made = to;
        npoints = i + 1;
    }
    size_t live_at_peak = ferry_live();
    double t0 = now_ns();
    for (size_t i = 0; i < made; i++) {
        s = ferry_drop(hs[i]);
        if (s != FERRY_OK)
            die("ferry_drop (memory)", s);
    }
    double drop_ns = (now_ns() - t0) / (double)made;
    free(hs);

    emit("## Table growth and memory per live handle\n\n");
    emit("One run grows the table from 0 to %zu live unique handles (boxing static objects) "
         "and stops at each point: insert ns is the time per `ferry_box` of the handles added "
         "since the previous point, while the table grows (fresh chunks mapped, fresh pages "
         "touched); RSS growth is from /proc/self/statm resident pages (and VmRSS from "
         "/proc/self/status) since no bench handle was live. Below about 10^4 handles the "
         "slots reuse pages earlier benches touched, so the growth understates. "
         "%zu handles were live at the peak.\n\n",
         made, live_at_peak);
    emit("| live handles | insert ns/handle (growing) | RSS growth (statm) | bytes/handle (statm) "
         "| bytes/handle (VmRSS) | target | result |\n");
    emit("|---:|---:|---:|---:|---:|---:|:---:|\n");
    for (int i = 0; i < npoints; i++) {
        mem_row *m = &rows[i];
        bool gated = m->handles >= 1000000; /* the target is about large tables */
        emit("| %zu | %.1f | %.2f MiB | %.2f | %.2f | %s | %s |\n", m->handles, m->create_ns,
             (double)m->statm_growth / 1048576.0, m->per_handle_statm, m->per_handle_vmrss,
             gated ? "<= 48" : "",
             gated ? verdict(m->per_handle_statm <= 48.0,
                             "memory: %.2f bytes per live handle at %zu handles, target <= 48",
                             m->per_handle_statm, m->handles)
                   : "");
    }
    if (skip)
        emit("| %zu and above | skipped: %s | | | | <= 48 | |\n", mem_points[npoints], skip);
    emit("\nDropping all %zu handles: %.1f ns/handle.\n\n", made, drop_ns);
    if (csv_path && !write_growth_csv(csv_path, rows, npoints))
        return 2;

    /* ---- Summary ------------------------------------------------------- */
    report_finish();
    free(w);
    return 0;
}
