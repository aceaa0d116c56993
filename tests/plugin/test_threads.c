/*
 * test_threads.c — the plugin host under concurrency.
 *
 * Four threads calling the C plugin at once (scalars; counters created and
 * freed; host buffers dropped by the plugin) with exact counts; concurrent
 * opens of one file; and close racing with calls: workers create and drop
 * c.Counter handles through the plugin while the main thread keeps trying
 * ferry_plugin_close, which must answer FERRY_E_BUSY until the last handle
 * is gone and the last call has returned, and then FERRY_OK; and calls
 * through one `ferry_plugin *` while the main thread closes and reopens the
 * file (the reopen refills the same record).
 *
 * Worker threads never call Check assertions: they count what went wrong
 * and keep the first message; the case's thread asserts afterwards.
 * FERRY_TEST_SCALE divides the iteration counts (valgrind, sanitizers).
 */
#include "plugin_support.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4

typedef struct worker {
    pthread_t thread;
    int id;
    ferry_plugin *p;
    long iterations;
    long ok;     /* calls that succeeded */
    long errors; /* anything unexpected */
    char first_error[512];
    ferry_handle *handles; /* for the buffer-drop case */
    struct race *race;
    struct reopen_race *reopen;
} worker;

static void worker_error(worker *w, const char *what, ferry_status s)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "thread %d: %s: %s (%s)", w->id, what,
                 ferry_status_name(s), ferry_last_error());
}

static void start_workers(worker *ws, void *(*fn)(void *), ferry_plugin *p, long iterations)
{
    for (int i = 0; i < NTHREADS; i++) {
        ws[i].id = i;
        ws[i].p = p;
        ws[i].iterations = iterations;
        ck_assert_int_eq(pthread_create(&ws[i].thread, NULL, fn, &ws[i]), 0);
    }
}

static void join_workers(worker *ws)
{
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(ws[i].thread, NULL);
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_msg(ws[i].errors == 0, "%ld errors; first: %s", ws[i].errors, ws[i].first_error);
}

/* ------------------------------------------------------------------ */
/* Calls from four threads                                             */
/* ------------------------------------------------------------------ */

static void *sum3_worker(void *arg)
{
    worker *w = arg;
    for (long i = 0; i < w->iterations; i++) {
        int32_t a = (int32_t)(i * 7 + w->id), b = -(int32_t)i, c = w->id * 1000;
        ferry_value r;
        ferry_status s = ferry_plugin_call(
            w->p, "sum3", ARGS(ferry_value_i32(a), ferry_value_i32(b), ferry_value_i32(c)), &r);
        if (s != FERRY_OK)
            worker_error(w, "sum3", s);
        else if (r.kind != FERRY_VALUE_I64 || r.as.i64 != (int64_t)a + b + c)
            worker_error(w, "sum3 result", FERRY_OK);
        else
            w->ok++;
    }
    return NULL;
}

START_TEST(threads_sum3)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    long n = scaled(20000);
    worker ws[NTHREADS];
    memset(ws, 0, sizeof ws);
    start_workers(ws, sum3_worker, p, n);
    join_workers(ws);
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(ws[i].ok, n);
    plug_close(p);
}
END_TEST

static void *counter_worker(void *arg)
{
    worker *w = arg;
    for (long i = 0; i < w->iterations; i++) {
        int64_t v = (int64_t)w->id * 1000000 + i;
        ferry_value r;
        ferry_status s = ferry_plugin_call(w->p, "counter_new", ARGS(ferry_value_i64(v)), &r);
        if (s != FERRY_OK) {
            worker_error(w, "counter_new", s);
            continue;
        }
        ferry_handle h = r.as.handle;
        s = ferry_plugin_call(w->p, "counter_add",
                              ARGS(ferry_value_borrowed(h), ferry_value_i64(1)), NULL);
        if (s != FERRY_OK)
            worker_error(w, "counter_add", s);
        s = ferry_plugin_call(w->p, "counter_get", ARGS(ferry_value_borrowed(h)), &r);
        if (s != FERRY_OK)
            worker_error(w, "counter_get", s);
        else if (r.as.i64 != v + 1)
            worker_error(w, "counter_get result", FERRY_OK);
        s = ferry_plugin_call(w->p, "counter_free", ARGS(ferry_value_owned(h)), NULL);
        if (s != FERRY_OK)
            worker_error(w, "counter_free", s);
        else
            w->ok++;
        /* moved: the second free is refused before the call */
        if (i % 64 == 0) {
            s = ferry_plugin_call(w->p, "counter_free", ARGS(ferry_value_owned(h)), NULL);
            if (s != FERRY_E_STALE)
                worker_error(w, "second counter_free", s);
        }
    }
    return NULL;
}

START_TEST(threads_counter_new_free)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_type *t = ferry_type_find(COUNTER_NAME);
    uint64_t released = cplug_released(p);
    size_t live = ferry_live();
    ferry_counts before = ledger_of(t);
    long n = scaled(12000);
    worker ws[NTHREADS];
    memset(ws, 0, sizeof ws);
    start_workers(ws, counter_worker, p, n);
    join_workers(ws);
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(ws[i].ok, n);
    ck_assert_uint_eq(cplug_released(p), released + (uint64_t)(NTHREADS * n));
    ck_assert_uint_eq(ferry_live(), live);
    ferry_counts after = ledger_of(t);
    ck_assert_uint_eq(after.live, before.live);
    ck_assert_uint_ge(after.created - before.created, (uint64_t)(NTHREADS * n));
    ck_assert_uint_ge(after.borrows - before.borrows, (uint64_t)(2 * NTHREADS * n));
    counts_assert_balanced(&after);
    ledger_assert_balanced();
    plug_close(p);
}
END_TEST

static void *buffer_drop_worker(void *arg)
{
    worker *w = arg;
    for (long i = 0; i < w->iterations; i++) {
        ferry_handle h = w->handles[i];
        ferry_value r;
        ferry_status s =
            ferry_plugin_call(w->p, "host_buffer_len", ARGS(ferry_value_borrowed(h)), &r);
        if (s != FERRY_OK || r.as.u32 != (uint32_t)(i % 61))
            worker_error(w, "host_buffer_len", s);
        s = ferry_plugin_call(w->p, "host_buffer_drop", ARGS(ferry_value_owned(h)), NULL);
        if (s != FERRY_OK)
            worker_error(w, "host_buffer_drop", s);
        else
            w->ok++;
    }
    return NULL;
}

START_TEST(threads_host_buffers_dropped_by_plugin)
{
    /* the main thread makes the buffers, four threads hand them to the
     * plugin, which drops them: each destructor runs exactly once */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    long n = scaled(10000);
    long destroyed = host_buffers_destroyed();
    size_t live = ferry_live();
    worker ws[NTHREADS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < NTHREADS; i++) {
        ws[i].handles = malloc((size_t)n * sizeof(ferry_handle));
        ck_assert_ptr_nonnull(ws[i].handles);
        for (long j = 0; j < n; j++)
            ws[i].handles[j] = host_buffer_handle((uint32_t)(j % 61));
    }
    ck_assert_uint_eq(ferry_live(), live + (size_t)(NTHREADS * n));
    start_workers(ws, buffer_drop_worker, p, n);
    join_workers(ws);
    for (int i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(ws[i].ok, n);
        free(ws[i].handles);
    }
    ck_assert_int_eq(host_buffers_destroyed(), destroyed + NTHREADS * n);
    ck_assert_int_eq(host_buffers_bad(), 0);
    ck_assert_uint_eq(ferry_live(), live);
    ferry_counts c = ledger_of(host_buffer_type());
    counts_assert_balanced(&c);
    ledger_assert_balanced();
    plug_close(p);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Two owned arguments while another thread borrows the second          */
/* ------------------------------------------------------------------ */

/* Review regression (host2.c): the first argument's unit used to move, the
 * second's move then failed (borrowed meanwhile), and the call failed with
 * the first unit released. Now a call either moves both or neither. */
typedef struct borrower {
    pthread_t thread;
    _Atomic uint64_t target;
    atomic_bool stop;
    atomic_bool started;
    long borrowed; /* successful borrows of a target */
    long unborrow_failed;
} borrower;

static void *borrow_worker(void *arg)
{
    borrower *b = arg;
    const ferry_type *bt = host_buffer_type();
    atomic_store(&b->started, true);
    while (!atomic_load(&b->stop)) {
        ferry_handle h = {atomic_load(&b->target)};
        if (h.bits == 0)
            continue;
        const void *o;
        if (ferry_borrow(h, bt, &o) == FERRY_OK) {
            b->borrowed++;
            if (ferry_unborrow(h) != FERRY_OK)
                b->unborrow_failed++;
        }
    }
    return NULL;
}

START_TEST(threads_two_owned_args_race_a_borrower)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    const ferry_type *bt = host_buffer_type();
    long n = scaled(20000);
    long destroyed0 = host_buffers_destroyed();
    size_t live0 = ferry_live();
    borrower br;
    memset(&br, 0, sizeof br);
    atomic_init(&br.target, 0);
    atomic_init(&br.stop, false);
    atomic_init(&br.started, false);
    ck_assert_int_eq(pthread_create(&br.thread, NULL, borrow_worker, &br), 0);
    while (!atomic_load(&br.started))
        sched_yield();

    long ok = 0, refused = 0, lost = 0, errors = 0;
    char first[768] = "";
    for (long i = 0; i < n; i++) {
        ferry_handle a = host_buffer_handle(1), b = host_buffer_handle(2);
        atomic_store(&br.target, b.bits);
        long d0 = host_buffers_destroyed();
        ferry_status s =
            ferry_plugin_call(p, "take2", ARGS(ferry_value_owned(a), ferry_value_owned(b)), NULL);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", s == FERRY_OK ? "" : ferry_last_error());
        if (s == FERRY_OK) {
            /* both units reached the callee, which dropped them */
            ferry_status ca = ferry_check(a, bt), cb = ferry_check(b, bt);
            long d = host_buffers_destroyed() - d0;
            if (ca != FERRY_E_STALE || cb != FERRY_E_STALE || d != 2) {
                if (errors++ == 0)
                    snprintf(first, sizeof first,
                             "iteration %ld: call ok but a: %s, b: %s, %ld destroyed", i,
                             ferry_status_name(ca), ferry_status_name(cb), d);
            }
            ok++;
            continue;
        }
        if (s != FERRY_E_BORROWED) {
            if (errors++ == 0)
                snprintf(first, sizeof first, "iteration %ld: call failed with %s: %s", i,
                         ferry_status_name(s), msg);
        } else {
            refused++;
        }
        /* refused before anything moved: both handles live, nothing released */
        ferry_status ca = ferry_check(a, bt), cb = ferry_check(b, bt);
        long d = host_buffers_destroyed() - d0;
        if (ca != FERRY_OK || cb != FERRY_OK || d != 0) {
            if (lost++ == 0)
                snprintf(first, sizeof first,
                         "iteration %ld: call failed with %s (%s) but a: %s, b: %s, %ld "
                         "destroyed",
                         i, ferry_status_name(s), msg, ferry_status_name(ca),
                         ferry_status_name(cb), d);
        }
        atomic_store(&br.target, 0);
        if (ca == FERRY_OK && ferry_drop(a) != FERRY_OK && errors++ == 0)
            snprintf(first, sizeof first, "iteration %ld: drop(a): %s", i, ferry_last_error());
        if (cb == FERRY_OK) {
            ferry_status ds;
            while ((ds = ferry_drop(b)) == FERRY_E_BORROWED)
                sched_yield();
            if (ds != FERRY_OK && errors++ == 0)
                snprintf(first, sizeof first, "iteration %ld: drop(b): %s", i,
                         ferry_last_error());
        }
    }
    atomic_store(&br.stop, true);
    pthread_join(br.thread, NULL);

    ck_assert_msg(lost == 0, "lost == %ld (ok %ld, refused %ld); first: %s", lost, ok, refused,
                  first);
    ck_assert_msg(errors == 0, "%ld errors; first: %s", errors, first);
    ck_assert_int_eq(ok + refused, n);
    ck_assert_int_eq(br.unborrow_failed, 0);
    /* every buffer destroyed exactly once: by the callee or by the cleanup */
    ck_assert_int_eq(host_buffers_destroyed(), destroyed0 + 2 * n);
    ck_assert_int_eq(host_buffers_bad(), 0);
    ck_assert_uint_eq(ferry_live(), live0);
    ferry_counts c = ledger_of(bt);
    counts_assert_balanced(&c);
    ledger_assert_balanced();
    plug_close(p);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Opens of one file at once                                           */
/* ------------------------------------------------------------------ */

typedef struct opener {
    pthread_t thread;
    atomic_int *go;
    ferry_plugin *p;
    ferry_status status;
    char message[512];
} opener;

static void *open_worker(void *arg)
{
    opener *o = arg;
    while (!atomic_load(o->go))
        sched_yield();
    o->status = ferry_plugin_open(PLUG_CPLUG, &o->p);
    snprintf(o->message, sizeof o->message, "%s", o->status == FERRY_OK ? "" : ferry_last_error());
    return NULL;
}

START_TEST(threads_concurrent_open)
{
    long rounds = scaled(40);
    for (long r = 0; r < rounds; r++) {
        atomic_int go;
        atomic_init(&go, 0);
        opener os[NTHREADS];
        memset(os, 0, sizeof os);
        for (int i = 0; i < NTHREADS; i++) {
            os[i].go = &go;
            ck_assert_int_eq(pthread_create(&os[i].thread, NULL, open_worker, &os[i]), 0);
        }
        atomic_store(&go, 1);
        int opened = -1;
        for (int i = 0; i < NTHREADS; i++)
            pthread_join(os[i].thread, NULL);
        for (int i = 0; i < NTHREADS; i++) {
            if (os[i].status == FERRY_OK) {
                ck_assert_msg(opened < 0, "round %ld: two opens of one file succeeded", r);
                opened = i;
            } else {
                ck_assert_msg(os[i].status == FERRY_E_BUSY,
                              "round %ld: a concurrent open got %s (%s), expected FERRY_E_BUSY", r,
                              ferry_status_name(os[i].status), os[i].message);
                ck_assert_msg(strncmp(os[i].message, "FERRY_E_BUSY: ", 14) == 0,
                              "round %ld: message \"%s\"", r, os[i].message);
            }
        }
        ck_assert_msg(opened >= 0, "round %ld: no open succeeded", r);
        ferry_handle h = cplug_counter(os[opened].p, r);
        ck_assert_int_eq(cplug_get(os[opened].p, h), r);
        expect_ok(ferry_drop(h));
        expect_ok(ferry_plugin_close(os[opened].p));
        ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Close racing with calls                                             */
/* ------------------------------------------------------------------ */

typedef struct race {
    atomic_int anchored;      /* workers holding their anchor handle */
    atomic_int go;            /* set once main has seen a close refused */
    atomic_int final_started; /* workers that began their last call */
} race;

/*
 * Each worker holds an "anchor" c.Counter handle while it works, so the
 * plugin cannot close under it; its last call frees the anchor, and it never
 * touches the plugin again. Meanwhile it creates and frees counters through
 * the plugin and drops some itself, so handles come and go all the time.
 */
static void *race_worker(void *arg)
{
    worker *w = arg;
    race *rc = w->race;
    ferry_value r;
    ferry_status s = ferry_plugin_call(w->p, "counter_new", ARGS(ferry_value_i64(-1)), &r);
    ferry_handle anchor = r.as.handle;
    if (s != FERRY_OK) {
        worker_error(w, "anchor counter_new", s);
        anchor.bits = 0;
    }
    atomic_fetch_add(&rc->anchored, 1);
    /* Wait for main's first close, which the anchors must make BUSY: on a
     * loaded machine the work could otherwise end before main closes. */
    while (!atomic_load(&rc->go))
        sched_yield();
    for (long i = 0; i < w->iterations; i++) {
        s = ferry_plugin_call(w->p, "counter_new", ARGS(ferry_value_i64(i)), &r);
        if (s != FERRY_OK) {
            worker_error(w, "counter_new", s);
            continue;
        }
        ferry_handle h = r.as.handle;
        if (i % 3 == 0)
            s = ferry_drop(h);
        else
            s = ferry_plugin_call(w->p, "counter_free", ARGS(ferry_value_owned(h)), NULL);
        if (s != FERRY_OK)
            worker_error(w, "free", s);
        else
            w->ok++;
    }
    atomic_fetch_add(&rc->final_started, 1);
    if (anchor.bits) {
        s = ferry_plugin_call(w->p, "counter_free", ARGS(ferry_value_owned(anchor)), NULL);
        if (s != FERRY_OK)
            worker_error(w, "anchor counter_free", s);
    }
    return NULL;
}

START_TEST(threads_close_races_with_calls)
{
    long rounds = scaled(8);
    long n = scaled(10000);
    for (long round = 0; round < rounds; round++) {
        ferry_plugin *p = plug_open(PLUG_CPLUG);
        const ferry_type *t = ferry_type_find(COUNTER_NAME);
        ferry_counts before = ledger_of(t);
        size_t live = ferry_live();
        race rc;
        atomic_init(&rc.anchored, 0);
        atomic_init(&rc.go, 0);
        atomic_init(&rc.final_started, 0);
        worker ws[NTHREADS];
        memset(ws, 0, sizeof ws);
        for (int i = 0; i < NTHREADS; i++)
            ws[i].race = &rc;
        start_workers(ws, race_worker, p, n);
        while (atomic_load(&rc.anchored) < NTHREADS)
            sched_yield();
        long busy = 0, bad_status = 0, bad_message = 0;
        ferry_status first = ferry_plugin_close(p);
        atomic_store(&rc.go, 1); /* before asserting, so no worker waits forever */
        ck_assert_int_eq(first, FERRY_E_BUSY);
        busy++;

        int final_at_close = -1;
        char first_bad[512] = "";
        for (;;) {
            ferry_status s = ferry_plugin_close(p);
            if (s == FERRY_OK) {
                final_at_close = atomic_load(&rc.final_started);
                break;
            }
            if (s == FERRY_E_BUSY) {
                busy++;
                if (strncmp(ferry_last_error(), "FERRY_E_BUSY: ferry_plugin_close", 32) != 0 &&
                    bad_message++ == 0)
                    snprintf(first_bad, sizeof first_bad, "%s", ferry_last_error());
            } else if (bad_status++ == 0) {
                snprintf(first_bad, sizeof first_bad, "%s", ferry_last_error());
                break; /* the plugin's state is unknown: stop trying */
            }
        }
        join_workers(ws);
        ck_assert_msg(bad_status == 0, "close answered neither OK nor BUSY: %s", first_bad);
        ck_assert_msg(bad_message == 0, "%ld BUSY messages without the op: %s", bad_message,
                      first_bad);
        /* close went through only once every worker was on its last call
         * (and so, with its anchor dropped and the call returned, done) */
        ck_assert_int_eq(final_at_close, NTHREADS);
        ck_assert_int_gt(busy, 0);
        plug_forget(p);
        for (int i = 0; i < NTHREADS; i++)
            ck_assert_int_eq(ws[i].ok, n);

        /* exact counts: every counter made was ended, nothing is live */
        ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
        ck_assert_uint_eq(ferry_live(), live);
        ferry_counts after = ledger_of(t);
        ck_assert_uint_eq(after.live, before.live);
        ck_assert_uint_ge(after.created - before.created, (uint64_t)(NTHREADS * (n + 1)));
        ck_assert_uint_eq(after.dropped_by_rust, before.dropped_by_rust);
        counts_assert_balanced(&after);
    }
    ledger_assert_balanced();
}
END_TEST

/* ------------------------------------------------------------------ */
/* A plugin pointer used while its file is closed and reopened         */
/* ------------------------------------------------------------------ */

typedef struct reopen_race {
    atomic_int running; /* workers not done yet */
    atomic_long stale;  /* refusals seen: the plugin was closed */
} reopen_race;

/* Calls and inspects through p while main closes and reopens it: each
 * answer is the open plugin's or a refusal of a closed one, never a mix. */
static void *stale_worker(void *arg)
{
    worker *w = arg;
    reopen_race *rr = w->reopen;
    for (long i = 0; i < w->iterations; i++) {
        ferry_value r;
        ferry_status s = ferry_plugin_call(
            w->p, "sum3", ARGS(ferry_value_i32(w->id), ferry_value_i32(2), ferry_value_i32(3)), &r);
        if (s == FERRY_OK && r.kind == FERRY_VALUE_I64 && r.as.i64 == w->id + 5)
            w->ok++;
        else if (s == FERRY_E_STALE && strstr(ferry_last_error(), "plugin \"cplug\" is closed"))
            atomic_fetch_add(&rr->stale, 1);
        else
            worker_error(w, "sum3", s);
        const ferry_plugin_function *f = ferry_plugin_find(w->p, "sum3");
        if (f && strcmp(f->name, "sum3") != 0)
            worker_error(w, "ferry_plugin_find", FERRY_OK);
        const char *path = ferry_plugin_path(w->p);
        if (path && strcmp(path, PLUG_CPLUG) != 0)
            worker_error(w, "ferry_plugin_path", FERRY_OK);
    }
    atomic_fetch_sub(&rr->running, 1);
    return NULL;
}

START_TEST(threads_stale_pointer_races_reopen)
{
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    reopen_race rr;
    atomic_init(&rr.running, NTHREADS);
    atomic_init(&rr.stale, 0);
    worker ws[NTHREADS];
    memset(ws, 0, sizeof ws);
    for (int i = 0; i < NTHREADS; i++)
        ws[i].reopen = &rr;
    start_workers(ws, stale_worker, p, scaled(20000));
    long cycles = 0, bad = 0;
    char first_bad[512] = "";
    bool open = true;
    /* at least one close and reopen, also where the workers finish first
     * (valgrind runs one thread at a time) */
    while (atomic_load(&rr.running) > 0 || cycles < 2) {
        ferry_plugin *q = NULL;
        ferry_status s = open ? ferry_plugin_close(p) : ferry_plugin_open(PLUG_CPLUG, &q);
        if (s == FERRY_OK && !open && q != p)
            s = FERRY_E_INVALID; /* the reopen made another record */
        if (s == FERRY_OK) {
            open = !open;
            cycles++;
        } else if (!(open && s == FERRY_E_BUSY) && bad++ == 0) {
            snprintf(first_bad, sizeof first_bad, "%s: %s", ferry_status_name(s),
                     ferry_last_error());
        }
    }
    if (open)
        expect_ok(ferry_plugin_close(p));
    plug_forget(p);
    join_workers(ws);
    ck_assert_msg(bad == 0, "%ld unexpected answers from close/open; first: %s", bad, first_bad);
    long ok = 0;
    for (int i = 0; i < NTHREADS; i++)
        ok += ws[i].ok;
    ck_assert_int_eq(ok + atomic_load(&rr.stale), NTHREADS * scaled(20000));
    ck_assert_ptr_null(ferry_type_find(COUNTER_NAME));
}
END_TEST

typedef struct gate_caller {
    pthread_t thread;
    ferry_plugin *p;
    ferry_status status;
} gate_caller;

static void *gate_worker(void *arg)
{
    gate_caller *g = arg;
    g->status = ferry_plugin_call(g->p, "gate_wait", NOARGS, NULL);
    return NULL;
}

START_TEST(threads_close_waits_for_every_running_call)
{
    /* several calls running at once, no handle live: close is refused until
     * the last one has returned */
    ferry_plugin *p = plug_open(PLUG_CPLUG);
    call_ok(p, "gate_close", NOARGS);
    gate_caller gs[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        gs[i].p = p;
        gs[i].status = FERRY_E_LIMIT;
        ck_assert_int_eq(pthread_create(&gs[i].thread, NULL, gate_worker, &gs[i]), 0);
    }
    for (int i = 0; i < 60000; i++) {
        if (value_u32(call_ok(p, "gate_state", NOARGS)) == NTHREADS)
            break;
        sleep_ms(1);
    }
    ck_assert_uint_eq(value_u32(call_ok(p, "gate_state", NOARGS)), NTHREADS);
    for (int i = 0; i < 5; i++)
        expect_fail(ferry_plugin_close(p), FERRY_E_BUSY, "ferry_plugin_close");
    call_ok(p, "gate_open", NOARGS);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(gs[i].thread, NULL);
        ck_assert_msg(gs[i].status == FERRY_OK, "gate_wait: %s", ferry_status_name(gs[i].status));
    }
    plug_close(p);
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("plugin.threads");
    ADD_CASE(s, threads_sum3, 600);
    ADD_CASE(s, threads_counter_new_free, 600);
    ADD_CASE(s, threads_host_buffers_dropped_by_plugin, 600);
    ADD_CASE(s, threads_two_owned_args_race_a_borrower, 600);
    ADD_CASE(s, threads_concurrent_open, 600);
    ADD_CASE(s, threads_close_races_with_calls, 600);
    ADD_CASE(s, threads_close_waits_for_every_running_call, 600);
    ADD_CASE(s, threads_stale_pointer_races_reopen, 600);
    return s;
}

int main(void)
{
    return run_suite(threads_suite());
}
