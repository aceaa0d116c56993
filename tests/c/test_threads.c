/* test_threads.c — racing threads on one table. Iteration counts are divided
 * by FERRY_TEST_SCALE. Worker threads never call Check's assertions: they
 * record what they saw and the main thread asserts. */
#include "support.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)
#define NTHREADS 4

/* What a racing thread saw that it should not have. */
typedef struct verdict {
    long bad;             /* how many unexpected results */
    ferry_status first;   /* the first unexpected status */
    int first_step;       /* where in the loop */
    long iter;            /* at which iteration */
    char msg[512];        /* its message */
} verdict;

static void verdict_note(verdict *v, ferry_status s, int step, long iter) {
    if (v->bad++ == 0) {
        v->first = s;
        v->first_step = step;
        v->iter = iter;
        snprintf(v->msg, sizeof v->msg, "%s", s == FERRY_OK ? "" : ferry_last_error());
    }
}

static void verdict_assert(const verdict *v, const char *who) {
    ck_assert_msg(v->bad == 0, "%s: %ld unexpected results; first %s at step %d, iteration %ld (%s)",
                  who, v->bad, ferry_status_name(v->first), v->first_step, v->iter, v->msg);
}

static void run_threads(int n, void *(*fn)(void *), void *args, size_t arg_size) {
    pthread_t th[16];
    ck_assert_int_le(n, 16);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, fn, (char *)args + (size_t)i * arg_size), 0);
    for (int i = 0; i < n; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
}

/* ------------------------------------------------------------------ */
/* clone / borrow / unborrow / drop on one shared handle               */
/* ------------------------------------------------------------------ */

typedef struct clone_race {
    ferry_handle h;
    const ferry_type *t;
    fx_obj *obj;
    long iters;
    verdict v;
} clone_race;

static void *clone_race_thread(void *arg) {
    clone_race *r = arg;
    for (long i = 0; i < r->iters; i++) {
        ferry_handle c;
        const void *p = NULL;
        ferry_status s;
        if ((s = ferry_clone(r->h, &c)) != FERRY_OK) {
            verdict_note(&r->v, s, 0, i);
            continue;
        }
        if ((s = ferry_borrow(c, r->t, &p)) != FERRY_OK || p != r->obj) verdict_note(&r->v, s, 1, i);
        else if ((s = ferry_unborrow(c)) != FERRY_OK) verdict_note(&r->v, s, 2, i);
        if ((s = ferry_borrow(r->h, r->t, &p)) != FERRY_OK || p != r->obj) verdict_note(&r->v, s, 3, i);
        else if ((s = ferry_unborrow(r->h)) != FERRY_OK) verdict_note(&r->v, s, 4, i);
        if ((s = ferry_check(c, r->t)) != FERRY_OK) verdict_note(&r->v, s, 5, i);
        if ((s = ferry_drop(c)) != FERRY_OK) verdict_note(&r->v, s, 6, i);
        if ((s = ferry_check(c, r->t)) != FERRY_E_STALE) verdict_note(&r->v, s, 7, i);
    }
    return NULL;
}

START_TEST(threads_race_clone_borrow_drop_one_shared_handle) {
    fx f;
    fx_init(&f, "t_clone_race", SS, FX_RETAIN);
    size_t live0 = ferry_live();
    fx_obj *o = fx_new(&f, 0);
    ferry_handle h;
    expect_ok(ferry_share(f.type, o, &h));
    long iters = scaled(20000);
    clone_race r[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        r[i] = (clone_race){.h = h, .t = f.type, .obj = o, .iters = iters};
    run_threads(NTHREADS, clone_race_thread, r, sizeof r[0]);
    for (int i = 0; i < NTHREADS; i++) verdict_assert(&r[i].v, "clone race");
    long n = NTHREADS * iters;
    ck_assert_int_eq(fx_count(&f.retained), n);
    ck_assert_int_eq(fx_count(&f.released), n);
    ck_assert_int_eq(fx_count(&f.destroyed), 0);
    ck_assert_int_eq(atomic_load(&o->strong), 1);
    ck_assert_uint_eq(ferry_live(), live0 + 1);
    ferry_counts c = ledger_of(f.type);
    ck_assert_uint_eq(c.created, 1);
    ck_assert_uint_eq(c.cloned, (uint64_t)n);
    ck_assert_uint_eq(c.borrows, 2 * (uint64_t)n);
    ck_assert_uint_eq(c.dropped_by_c, (uint64_t)n);
    ck_assert_uint_eq(c.live, 1);
    counts_assert_identity(&c);
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.freed), 1);
    ck_assert_uint_eq(ferry_live(), live0);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* racing double drops: exactly one wins                               */
/* ------------------------------------------------------------------ */

typedef struct drop_race {
    pthread_barrier_t *start, *end;
    ferry_handle *target;
    long rounds;
    ferry_status *results; /* [rounds] */
} drop_race;

static void *drop_race_thread(void *arg) {
    drop_race *d = arg;
    for (long i = 0; i < d->rounds; i++) {
        pthread_barrier_wait(d->start);
        d->results[i] = ferry_drop(*d->target);
        pthread_barrier_wait(d->end);
    }
    return NULL;
}

START_TEST(threads_race_double_drop_exactly_one_ok) {
    fx f;
    fx_init(&f, "t_drop_race", SS, FX_RETAIN);
    size_t live0 = ferry_live();
    long rounds = scaled(2000);
    pthread_barrier_t start, end;
    pthread_barrier_init(&start, NULL, NTHREADS + 1);
    pthread_barrier_init(&end, NULL, NTHREADS + 1);
    ferry_handle target;
    drop_race d[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        d[i] = (drop_race){.start = &start, .end = &end, .target = &target, .rounds = rounds};
        d[i].results = calloc((size_t)rounds, sizeof(ferry_status));
        ck_assert_ptr_nonnull(d[i].results);
    }
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, drop_race_thread, &d[i]), 0);

    long bad_rounds = 0, first_bad = -1;
    int first_ok = 0, first_stale = 0, first_other = 0;
    for (long r = 0; r < rounds; r++) {
        ferry_handle keep = FERRY_NULL_HANDLE;
        fx_obj *o = fx_new(&f, (int)r);
        if (r % 2 == 0) {
            /* unique */
            require(ferry_box(f.type, o, &target) == FERRY_OK, "box");
        } else {
            /* shared with another clone that must survive the race */
            require(ferry_share(f.type, o, &target) == FERRY_OK, "share");
            require(ferry_clone(target, &keep) == FERRY_OK, "clone");
        }
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&end);
        int ok = 0, stale = 0, other = 0;
        for (int i = 0; i < NTHREADS; i++) {
            if (d[i].results[r] == FERRY_OK) ok++;
            else if (d[i].results[r] == FERRY_E_STALE) stale++;
            else other++;
        }
        if (ok != 1 || stale != NTHREADS - 1 || other != 0) {
            if (bad_rounds++ == 0) {
                first_bad = r;
                first_ok = ok;
                first_stale = stale;
                first_other = other;
            }
        }
        if (keep.bits) {
            require(atomic_load(&o->strong) == 1, "round %ld: the surviving clone's unit was taken", r);
            const void *p = NULL;
            require(ferry_borrow(keep, f.type, &p) == FERRY_OK && p == o, "round %ld: clone unusable", r);
            require(ferry_unborrow(keep) == FERRY_OK, "unborrow");
            require(ferry_drop(keep) == FERRY_OK, "drop keep");
        }
    }
    for (int i = 0; i < NTHREADS; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_msg(bad_rounds == 0,
                  "%ld of %ld rounds did not end with exactly one FERRY_OK and %d FERRY_E_STALE; "
                  "first: round %ld had %d OK, %d STALE, %d other",
                  bad_rounds, rounds, NTHREADS - 1, first_bad, first_ok, first_stale, first_other);
    ck_assert_int_eq(fx_count(&f.released), rounds + rounds / 2);
    ck_assert_int_eq(fx_count(&f.destroyed), rounds);
    ck_assert_int_eq(fx_count(&f.freed), rounds);
    ck_assert_int_eq(fx_count(&f.bad), 0);
    ck_assert_uint_eq(ferry_live(), live0);
    ferry_counts c = ledger_of(f.type);
    ck_assert_uint_eq(c.dropped_by_c, (uint64_t)(rounds + rounds / 2));
    ck_assert_uint_eq(c.live, 0);
    counts_assert_identity(&c);
    for (int i = 0; i < NTHREADS; i++) free(d[i].results);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&end);
}
END_TEST

/* ------------------------------------------------------------------ */
/* create/drop churn with slots reused across threads                  */
/* ------------------------------------------------------------------ */

enum { CHURN_CELLS = 64 };

typedef struct churn {
    _Atomic uint64_t *cells;
    fx *f;
    long iters;
    uint64_t seed;
    long created;
    verdict v;
} churn;

static void *churn_thread(void *arg) {
    churn *c = arg;
    uint64_t last_dropped = 0;
    for (long i = 0; i < c->iters; i++) {
        ferry_handle h;
        ferry_status s = ferry_box(c->f->type, fx_new(c->f, (int)i), &h);
        if (s != FERRY_OK) {
            verdict_note(&c->v, s, 0, i);
            continue;
        }
        c->created++;
        unsigned cell = (unsigned)(rng_next(&c->seed) % CHURN_CELLS);
        /* the exchange hands this thread sole ownership of the old handle,
         * most often made by another thread */
        uint64_t old = atomic_exchange(&c->cells[cell], h.bits);
        if (old) {
            ferry_handle oh = {old};
            if ((s = ferry_check(oh, c->f->type)) != FERRY_OK) verdict_note(&c->v, s, 1, i);
            if ((s = ferry_drop(oh)) != FERRY_OK) verdict_note(&c->v, s, 2, i);
            if ((s = ferry_drop(oh)) != FERRY_E_STALE) verdict_note(&c->v, s, 3, i);
            last_dropped = old;
        }
        if (last_dropped) {
            ferry_handle dh = {last_dropped};
            /* its slot may have been reused since: still not usable */
            if ((s = ferry_check(dh, NULL)) != FERRY_E_STALE) verdict_note(&c->v, s, 4, i);
        }
    }
    return NULL;
}

START_TEST(threads_churn_create_drop_slot_reuse) {
    fx f;
    fx_init(&f, "t_churn", SS, FX_PLAIN);
    size_t live0 = ferry_live();
    uint32_t issued0 = ferry__test_slots_issued();
    static _Atomic uint64_t cells[CHURN_CELLS];
    for (int i = 0; i < CHURN_CELLS; i++) atomic_init(&cells[i], 0);
    long iters = scaled(50000);
    churn c[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        c[i] = (churn){.cells = cells, .f = &f, .iters = iters, .seed = 1234u + (uint64_t)i};
    run_threads(NTHREADS, churn_thread, c, sizeof c[0]);
    long created = 0;
    for (int i = 0; i < NTHREADS; i++) {
        verdict_assert(&c[i].v, "churn");
        created += c[i].created;
    }
    ck_assert_int_eq(created, NTHREADS * iters);
    long remaining = 0;
    for (int i = 0; i < CHURN_CELLS; i++) {
        uint64_t b = atomic_load(&cells[i]);
        if (b) {
            expect_ok(ferry_drop((ferry_handle){b}));
            remaining++;
        }
    }
    ck_assert_int_eq(fx_count(&f.released), created);
    ck_assert_int_eq(fx_count(&f.destroyed), created);
    ck_assert_int_eq(fx_count(&f.bad), 0);
    ck_assert_uint_eq(ferry_live(), live0);
    ferry_counts lc = ledger_of(f.type);
    ck_assert_uint_eq(lc.created, (uint64_t)created);
    ck_assert_uint_eq(lc.dropped_by_c, (uint64_t)created);
    ck_assert_uint_eq(lc.live, 0);
    /* slots were reused: far fewer fresh slots than creates */
    uint32_t fresh = ferry__test_slots_issued() - issued0;
    if (created >= 10000)
        ck_assert_msg((long)fresh * 4 < created, "%u fresh slots for %ld creates", fresh, created);
    (void)remaining;
}
END_TEST

/* ------------------------------------------------------------------ */
/* pinned objects: local kind, types without FERRY_SEND                */
/* ------------------------------------------------------------------ */

static void assert_thread_refused(ferry_handle h, const ferry_type *t, const op *ops, size_t n,
                                  const char *what) {
    char msg[1024];
    for (size_t i = 0; i < n; i++) {
        ferry_handle out = {0x77};
        ferry_status s = run_op_on_thread(ops[i], h, t, &out, msg, sizeof msg);
        ck_assert_msg(s == FERRY_E_THREAD, "%s: %s on another thread gave %s (%s)", what,
                      op_name(ops[i]), ferry_status_name(s), msg);
        ck_assert_msg(strstr(msg, "thread") != NULL, "%s: message %s", what, msg);
        ck_assert_uint_eq(out.bits, 0x77);
    }
}

START_TEST(threads_local_kind_pinned_to_creating_thread) {
    fx f;
    fx_init(&f, "t_local", SS, FX_ALL);
    ferry_handle l, lc, lw, lu;
    expect_ok(ferry_local(f.type, fx_new(&f, 0), &l));
    expect_ok(ferry_clone(l, &lc));
    expect_ok(ferry_downgrade(l, &lw));
    expect_ok(ferry_upgrade(lw, &lu)); /* a local handle again */
    const op strong_ops[] = {OP_CHECK, OP_BORROW, OP_CLONE, OP_DOWNGRADE, OP_DROP, OP_TAKE};
    const op weak_ops[] = {OP_CHECK, OP_UPGRADE, OP_DROP, OP_TAKE};
    assert_thread_refused(l, f.type, strong_ops, 6, "local");
    assert_thread_refused(lc, f.type, strong_ops, 6, "clone of local");
    assert_thread_refused(lu, f.type, strong_ops, 6, "upgrade of local's weak");
    assert_thread_refused(lw, f.type, weak_ops, 4, "weak of local");
    ck_assert_int_eq(fx_count(&f.released), 0);
    ck_assert_int_eq(fx_count(&f.retained), 1);
    ck_assert_int_eq(fx_count(&f.upgraded), 1);
    /* the owner thread still uses them all */
    const void *p;
    expect_ok(ferry_borrow(lu, f.type, &p));
    expect_ok(ferry_unborrow(lu));
    expect_ok(ferry_drop(l));
    expect_ok(ferry_drop(lc));
    expect_ok(ferry_drop(lu));
    expect_ok(ferry_drop(lw));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.freed), 1);
}
END_TEST

START_TEST(threads_type_without_send_pinned) {
    fx f;
    fx_init(&f, "t_nosend", 0, FX_ALL); /* neither Send nor Sync */
    ferry_handle u, s;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    const op unique_ops[] = {OP_CHECK, OP_BORROW, OP_BORROW_MUT, OP_DROP, OP_TAKE};
    const op shared_ops[] = {OP_CHECK, OP_CLONE, OP_DROP, OP_TAKE};
    assert_thread_refused(u, f.type, unique_ops, 5, "!Send unique");
    assert_thread_refused(s, f.type, shared_ops, 4, "!Send shared");
    ck_assert_int_eq(fx_count(&f.released), 0);
    expect_ok(ferry_drop(u));
    expect_ok(ferry_drop(s));
    ck_assert_int_eq(fx_count(&f.destroyed), 2);
}
END_TEST

START_TEST(threads_send_unique_moves_between_threads) {
    fx f;
    fx_init(&f, "t_send", FERRY_SEND, FX_PLAIN);
    worker *a = worker_start(), *b = worker_start();
    fx_obj *o = fx_new(&f, 0);
    ferry_handle u;
    expect_ok(ferry_box(f.type, o, &u));
    void *obj = NULL;
    expect_ok(worker_run(a, OP_BORROW_MUT, u, f.type, NULL, &obj, NULL, 0));
    ck_assert_ptr_eq(obj, o);
    expect_ok(worker_run(a, OP_UNBORROW, u, f.type, NULL, NULL, NULL, 0));
    expect_ok(worker_run(b, OP_CHECK, u, f.type, NULL, NULL, NULL, 0));
    obj = NULL;
    expect_ok(worker_run(b, OP_TAKE, u, f.type, NULL, &obj, NULL, 0));
    ck_assert_ptr_eq(obj, o);
    expect_status(ferry_check(u, NULL), FERRY_E_STALE);
    ck_assert_int_eq(fx_count(&f.released), 0);
    fx_release(obj);
    worker_stop(a);
    worker_stop(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* FERRY_SEND without FERRY_SYNC: one borrowing thread at a time        */
/* ------------------------------------------------------------------ */

START_TEST(threads_send_not_sync_borrowed_by_one_thread_at_a_time) {
    fx f;
    fx_init(&f, "t_not_sync", FERRY_SEND, FX_PLAIN);
    worker *a = worker_start(), *b = worker_start();
    fx_obj *o = fx_new(&f, 0);
    ferry_handle h;
    expect_ok(ferry_box(f.type, o, &h));
    char msg[1024];
    void *obj = NULL;
    ferry_counts c0 = ledger_of(f.type);

    /* A borrows and holds; B's borrow is refused */
    expect_ok(worker_run(a, OP_BORROW, h, f.type, NULL, &obj, NULL, 0));
    ck_assert_ptr_eq(obj, o);
    obj = NULL;
    ferry_status s = worker_run(b, OP_BORROW, h, f.type, NULL, &obj, msg, sizeof msg);
    ck_assert_msg(s == FERRY_E_THREAD, "B's borrow while A holds one: %s (%s)",
                  ferry_status_name(s), msg);
    ck_assert_msg(strncmp(msg, "FERRY_E_THREAD: ferry_borrow", 28) == 0, "message: %s", msg);
    ck_assert_msg(strstr(msg, "thread") != NULL, "message: %s", msg);
    ck_assert_ptr_null(obj);
    /* B may look, not borrow; and may not drop what A is borrowing */
    expect_ok(worker_run(b, OP_CHECK, h, f.type, NULL, NULL, NULL, 0));
    expect_status(worker_run(b, OP_DROP, h, f.type, NULL, NULL, NULL, 0), FERRY_E_BORROWED);
    /* A's borrows nest */
    expect_ok(worker_run(a, OP_BORROW, h, f.type, NULL, &obj, NULL, 0));
    expect_status(worker_run(b, OP_BORROW, h, f.type, NULL, &obj, NULL, 0), FERRY_E_THREAD);
    expect_ok(worker_run(a, OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0));
    expect_status(worker_run(b, OP_BORROW, h, f.type, NULL, &obj, NULL, 0), FERRY_E_THREAD);
    expect_ok(worker_run(a, OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0));

    /* A let go: now B can borrow, and A is refused */
    obj = NULL;
    expect_ok(worker_run(b, OP_BORROW, h, f.type, NULL, &obj, NULL, 0));
    ck_assert_ptr_eq(obj, o);
    expect_status(worker_run(a, OP_BORROW, h, f.type, NULL, &obj, NULL, 0), FERRY_E_THREAD);
    expect_ok(worker_run(b, OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0));
    expect_ok(ferry_check(h, f.type));

    ferry_counts c1 = ledger_of(f.type);
    ck_assert_uint_eq(c1.borrows - c0.borrows, 3);
    ck_assert_int_eq(fx_count(&f.released), 0);
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    worker_stop(a);
    worker_stop(b);
}
END_TEST

/* A Send + !Sync object reached through several handles (clones): its shared
 * borrows come from one thread at a time, whichever handle each uses. */
START_TEST(threads_send_not_sync_claim_spans_clones) {
    fx f;
    fx_init(&f, "t_not_sync_shared", FERRY_SEND, FX_ALL);
    worker *a = worker_start(), *b = worker_start();
    fx_obj *o = fx_new(&f, 0);
    ferry_handle h, c;
    expect_ok(ferry_share(f.type, o, &h));
    expect_ok(ferry_clone(h, &c));
    char msg[1024];
    void *got = NULL;

    /* A borrows through h; B through the clone is refused, and so is main */
    expect_ok(worker_run(a, OP_BORROW, h, f.type, NULL, &got, NULL, 0));
    ck_assert_ptr_eq(got, o);
    got = NULL;
    ferry_status s = worker_run(b, OP_BORROW, c, f.type, NULL, &got, msg, sizeof msg);
    ck_assert_msg(s == FERRY_E_THREAD, "B through the clone: %s (%s)", ferry_status_name(s), msg);
    ck_assert_msg(strncmp(msg, "FERRY_E_THREAD: ferry_borrow", 28) == 0, "message: %s", msg);
    ck_assert_msg(strstr(msg, "thread") != NULL, "message: %s", msg);
    ck_assert_ptr_null(got);
    const void *p;
    expect_status(ferry_borrow(c, f.type, &p), FERRY_E_THREAD);
    /* A's borrows nest across handles; B may not end them */
    expect_ok(worker_run(a, OP_BORROW, c, f.type, NULL, &got, NULL, 0));
    expect_status(worker_run(b, OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0), FERRY_E_THREAD);
    expect_ok(worker_run(a, OP_UNBORROW, c, f.type, NULL, NULL, NULL, 0));
    expect_ok(worker_run(a, OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0));

    /* A let go of every handle: now B can borrow, and A is refused */
    expect_ok(worker_run(b, OP_BORROW, c, f.type, NULL, &got, NULL, 0));
    expect_status(worker_run(a, OP_BORROW, h, f.type, NULL, &got, NULL, 0), FERRY_E_THREAD);
    /* an unborrow of a handle B did not borrow is refused, not misapplied */
    expect_status(worker_run(b, OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0), FERRY_E_BORROWED);
    expect_ok(worker_run(b, OP_UNBORROW, c, f.type, NULL, NULL, NULL, 0));
    /* the handles themselves move freely: B drops one, main the other */
    expect_ok(worker_run(b, OP_DROP, c, f.type, NULL, NULL, NULL, 0));
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    worker_stop(a);
    worker_stop(b);
}
END_TEST

/* Four threads borrow one Send + !Sync object through four clones as fast as
 * they can: a counter inside the object must never see two at once. */
typedef struct claim_race {
    ferry_handle h;
    const ferry_type *t;
    atomic_int *inside;
    atomic_long *overlaps, *refused;
    long rounds;
} claim_race;

static void *claim_race_worker(void *arg) {
    claim_race *r = arg;
    for (long i = 0; i < r->rounds; i++) {
        const void *p;
        ferry_status s = ferry_borrow(r->h, r->t, &p);
        if (s == FERRY_E_THREAD) {
            atomic_fetch_add(r->refused, 1);
            continue;
        }
        ck_assert_int_eq(s, FERRY_OK);
        if (atomic_fetch_add(r->inside, 1) != 0) atomic_fetch_add(r->overlaps, 1);
        atomic_fetch_sub(r->inside, 1);
        ck_assert_int_eq(ferry_unborrow(r->h), FERRY_OK);
    }
    return NULL;
}

START_TEST(threads_send_not_sync_claim_never_overlaps) {
    fx f;
    fx_init(&f, "t_claim_race", FERRY_SEND, FX_RETAIN);
    ferry_handle hs[4];
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &hs[0]));
    for (int i = 1; i < 4; i++) expect_ok(ferry_clone(hs[0], &hs[i]));
    atomic_int inside = 0;
    atomic_long overlaps = 0, refused = 0;
    claim_race r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (claim_race){hs[i], f.type, &inside, &overlaps, &refused, scaled(100000)};
        ck_assert_int_eq(pthread_create(&th[i], NULL, claim_race_worker, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&overlaps), 0);
    for (int i = 0; i < 4; i++) expect_ok(ferry_drop(hs[i]));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
}
END_TEST

/* A shared lend of a !Sync object stays on the lender's thread (&T is not
 * Send when T is not Sync: the lender may read the object meanwhile). */
START_TEST(threads_lent_not_sync_is_pinned) {
    fx f;
    fx_init(&f, "t_lent_not_sync", FERRY_SEND, FX_PLAIN);
    worker *b = worker_start();
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    ferry_handle l;
    expect_ok(ferry_lend(f.type, &lent, &l));
    void *got = NULL;
    expect_status(worker_run(b, OP_BORROW, l, f.type, NULL, &got, NULL, 0), FERRY_E_THREAD);
    const void *p;
    expect_ok(ferry_borrow(l, f.type, &p));
    expect_ok(ferry_unborrow(l));
    expect_ok(ferry_revoke(l));
    worker_stop(b);
}
END_TEST

START_TEST(threads_sync_type_borrowed_by_many_threads_at_once) {
    fx f;
    fx_init(&f, "t_sync", SS, FX_RETAIN);
    worker *w[3] = {worker_start(), worker_start(), worker_start()};
    ferry_handle h;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &h));
    void *obj;
    const void *p;
    for (int i = 0; i < 3; i++) expect_ok(worker_run(w[i], OP_BORROW, h, f.type, NULL, &obj, NULL, 0));
    expect_ok(ferry_borrow(h, f.type, &p));
    expect_status(ferry_drop(h), FERRY_E_BORROWED);
    expect_ok(ferry_unborrow(h));
    for (int i = 0; i < 3; i++) {
        expect_status(ferry_drop(h), FERRY_E_BORROWED);
        expect_ok(worker_run(w[i], OP_UNBORROW, h, f.type, NULL, NULL, NULL, 0));
    }
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
    for (int i = 0; i < 3; i++) worker_stop(w[i]);
}
END_TEST

/* ------------------------------------------------------------------ */
/* exclusive vs shared borrows racing on one unique handle             */
/* ------------------------------------------------------------------ */

typedef struct rw_race {
    ferry_handle h;
    const ferry_type *t;
    fx_obj *obj;
    int writer;
    long iters;
    long got;        /* successful borrows */
    long violations; /* exclusivity broken */
    verdict v;
} rw_race;

static void *rw_race_thread(void *arg) {
    rw_race *r = arg;
    fx_obj *o = r->obj;
    for (long i = 0; i < r->iters; i++) {
        ferry_status s;
        if (r->writer) {
            void *m = NULL;
            s = ferry_borrow_mut(r->h, r->t, &m);
            if (s == FERRY_OK) {
                r->got++;
                if (m != o) r->violations++;
                if (atomic_fetch_add(&o->writers, 1) != 0) r->violations++;
                if (atomic_load(&o->readers) != 0) r->violations++;
                o->value++;
                atomic_fetch_sub(&o->writers, 1);
                if ((s = ferry_unborrow(r->h)) != FERRY_OK) verdict_note(&r->v, s, 1, i);
            } else if (s != FERRY_E_BORROWED) {
                verdict_note(&r->v, s, 0, i);
            }
        } else {
            const void *p = NULL;
            s = ferry_borrow(r->h, r->t, &p);
            if (s == FERRY_OK) {
                r->got++;
                if (p != o) r->violations++;
                atomic_fetch_add(&o->readers, 1);
                if (atomic_load(&o->writers) != 0) r->violations++;
                atomic_fetch_sub(&o->readers, 1);
                if ((s = ferry_unborrow(r->h)) != FERRY_OK) verdict_note(&r->v, s, 3, i);
            } else if (s != FERRY_E_BORROWED) {
                verdict_note(&r->v, s, 2, i);
            }
        }
    }
    return NULL;
}

START_TEST(threads_race_borrow_mut_is_exclusive) {
    fx f;
    fx_init(&f, "t_rw", SS, FX_PLAIN);
    fx_obj *o = fx_new(&f, 0);
    ferry_handle h;
    expect_ok(ferry_box(f.type, o, &h));
    long iters = scaled(50000);
    rw_race r[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        r[i] = (rw_race){.h = h, .t = f.type, .obj = o, .writer = i % 2, .iters = iters};
    run_threads(NTHREADS, rw_race_thread, r, sizeof r[0]);
    long writes = 0, got = 0;
    for (int i = 0; i < NTHREADS; i++) {
        verdict_assert(&r[i].v, r[i].writer ? "writer" : "reader");
        ck_assert_msg(r[i].violations == 0, "thread %d saw %ld exclusivity violations", i,
                      r[i].violations);
        if (r[i].writer) writes += r[i].got;
        got += r[i].got;
    }
    ck_assert_int_eq(o->value, writes);
    ck_assert_uint_eq(ledger_of(f.type).borrows, (uint64_t)got);
    expect_status(ferry_unborrow(h), FERRY_E_BORROWED); /* none left */
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* drop racing with borrows                                            */
/* ------------------------------------------------------------------ */

typedef struct drop_vs_borrow {
    ferry_handle h;
    const ferry_type *t;
    long borrows;
    verdict v;
    _Atomic int *go;
} drop_vs_borrow;

static void *borrower_thread(void *arg) {
    drop_vs_borrow *d = arg;
    while (!atomic_load(d->go)) sched_yield();
    for (long i = 0;; i++) {
        const void *p;
        ferry_status s = ferry_borrow(d->h, d->t, &p);
        if (s == FERRY_E_STALE) break;
        if (s != FERRY_OK) {
            verdict_note(&d->v, s, 0, i);
            break;
        }
        d->borrows++;
        if ((s = ferry_unborrow(d->h)) != FERRY_OK) verdict_note(&d->v, s, 1, i);
    }
    return NULL;
}

START_TEST(threads_drop_racing_borrows_waits_for_them) {
    fx f;
    fx_init(&f, "t_drop_vs_borrow", SS, FX_PLAIN);
    long rounds = scaled(300);
    for (long r = 0; r < rounds; r++) {
        ferry_handle h;
        expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
        _Atomic int go = 0;
        drop_vs_borrow d[2] = {{.h = h, .t = f.type, .go = &go}, {.h = h, .t = f.type, .go = &go}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_create(&th[i], NULL, borrower_thread, &d[i]), 0);
        atomic_store(&go, 1);
        long refused = 0;
        ferry_status s;
        while ((s = ferry_drop(h)) == FERRY_E_BORROWED) {
            refused++;
            sched_yield();
        }
        for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_msg(s == FERRY_OK, "round %ld: drop gave %s", r, ferry_status_name(s));
        for (int i = 0; i < 2; i++) verdict_assert(&d[i].v, "borrower");
        ck_assert_int_eq(fx_count(&f.released), r + 1);
    }
    ck_assert_int_eq(fx_count(&f.destroyed), rounds);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* upgrade racing with the last strong drop                            */
/* ------------------------------------------------------------------ */

typedef struct upgrader {
    ferry_handle w;
    long upgrades;
    verdict v;
    _Atomic int *go;
} upgrader;

static void *upgrader_thread(void *arg) {
    upgrader *u = arg;
    while (!atomic_load(u->go)) sched_yield();
    for (long i = 0;; i++) {
        ferry_handle s;
        ferry_status st = ferry_upgrade(u->w, &s);
        if (st == FERRY_E_EXPIRED) break;
        if (st != FERRY_OK) {
            verdict_note(&u->v, st, 0, i);
            break;
        }
        u->upgrades++;
        if ((st = ferry_drop(s)) != FERRY_OK) verdict_note(&u->v, st, 1, i);
    }
    return NULL;
}

START_TEST(threads_upgrade_racing_last_drop) {
    fx f;
    fx_init(&f, "t_upgrade_race", SS, FX_ALL);
    size_t live0 = ferry_live();
    long rounds = scaled(300), upgrades = 0;
    for (long r = 0; r < rounds; r++) {
        ferry_handle s, w;
        expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
        expect_ok(ferry_downgrade(s, &w));
        _Atomic int go = 0;
        upgrader u[2] = {{.w = w, .go = &go}, {.w = w, .go = &go}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_create(&th[i], NULL, upgrader_thread, &u[i]), 0);
        atomic_store(&go, 1);
        sched_yield();
        expect_ok(ferry_drop(s));
        for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        for (int i = 0; i < 2; i++) {
            verdict_assert(&u[i].v, "upgrader");
            upgrades += u[i].upgrades;
        }
        expect_ok(ferry_drop(w));
    }
    ck_assert_int_eq(fx_count(&f.upgraded), upgrades);
    ck_assert_int_eq(fx_count(&f.released), rounds + upgrades);
    ck_assert_int_eq(fx_count(&f.destroyed), rounds);
    ck_assert_int_eq(fx_count(&f.freed), rounds);
    ck_assert_int_eq(fx_count(&f.bad), 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("threads");
    ADD_CASE(s, threads_race_clone_borrow_drop_one_shared_handle, 300);
    ADD_CASE(s, threads_race_double_drop_exactly_one_ok, 300);
    ADD_CASE(s, threads_churn_create_drop_slot_reuse, 300);
    ADD_CASE(s, threads_local_kind_pinned_to_creating_thread, 60);
    ADD_CASE(s, threads_type_without_send_pinned, 60);
    ADD_CASE(s, threads_send_unique_moves_between_threads, 60);
    ADD_CASE(s, threads_send_not_sync_claim_spans_clones, 60);
    ADD_CASE(s, threads_lent_not_sync_is_pinned, 60);
    ADD_CASE(s, threads_send_not_sync_claim_never_overlaps, 120);
    ADD_CASE(s, threads_send_not_sync_borrowed_by_one_thread_at_a_time, 60);
    ADD_CASE(s, threads_sync_type_borrowed_by_many_threads_at_once, 60);
    ADD_CASE(s, threads_race_borrow_mut_is_exclusive, 300);
    ADD_CASE(s, threads_drop_racing_borrows_waits_for_them, 300);
    ADD_CASE(s, threads_upgrade_racing_last_drop, 300);
    return run_suite(s);
}
