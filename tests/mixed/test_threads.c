/*
 * test_threads.c — Counter handles handed between C pthreads and the Rust
 * relay thread of library A, and an Arc<Mutex> (Locked) shared by several
 * threads. Iteration counts are divided by FERRY_TEST_SCALE.
 *
 * Every handoff here is a use of a handle on another thread than its
 * previous use, which the ledger counts; the cases compute how many they
 * cause and compare. Worker threads never call Check's assertions: they
 * record what they saw and the case's thread asserts after joining them.
 */
#include "mixed_support.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4

/* What a worker saw that it should not have. */
typedef struct verdict {
    long bad;
    ferry_status first;
    const char *what;
    long iter;
    char msg[512];
} verdict;

static void verdict_note(verdict *v, ferry_status s, const char *what, long iter) {
    if (v->bad++ == 0) {
        v->first = s;
        v->what = what;
        v->iter = iter;
        snprintf(v->msg, sizeof v->msg, "%s", s == FERRY_OK ? "(status OK)" : ferry_last_error());
    }
}

#define verdict_assert(v, who)                                                               \
    ck_assert_msg((v)->bad == 0, "%s: %ld unexpected results; first: %s -> %s at %ld (%s)",  \
                  (who), (v)->bad, (v)->what, ferry_status_name((v)->first), (v)->iter,      \
                  (v)->msg)

static void run_threads(int n, void *(*fn)(void *), void *args, size_t arg_size) {
    pthread_t th[NTHREADS];
    ck_assert_int_le(n, NTHREADS);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, fn, (char *)args + (size_t)i * arg_size), 0);
    for (int i = 0; i < n; i++) ck_assert_int_eq(pthread_join(th[i], NULL), 0);
}

/* ------------------------------------------------------------------ */
/* A ring of C threads                                                */
/* ------------------------------------------------------------------ */

#define RING_TOKENS 8

typedef struct ring ring;

typedef struct ring_worker {
    ring *r;
    int index;
    long hops, clones, c_drops, a_drops, b_drops, b_gets;
    verdict v;
} ring_worker;

struct ring {
    pthread_mutex_t mu;
    pthread_cond_t cv[NTHREADS];
    Handle_Counter q[NTHREADS][RING_TOKENS]; /* per-thread FIFO */
    int head[NTHREADS], count[NTHREADS];
    long remaining; /* hops still to make */
    Handle_Counter finished[RING_TOKENS];
    int done;
    bool stop;
    ring_worker w[NTHREADS];
};

static void ring_push(ring *r, int to, Handle_Counter h) {
    int tail = (r->head[to] + r->count[to]) % RING_TOKENS;
    r->q[to][tail] = h;
    r->count[to]++;
    pthread_cond_signal(&r->cv[to]);
}

/* One use of a token on this thread: Rust adds 1 through a borrow; every
 * 16th hop C also clones it, library B reads the clone, and one of C,
 * library A or library B drops the clone. */
static void ring_use(ring_worker *w, Handle_Counter h) {
    int64_t v = 0;
    ferry_status s = fixture_counter_add(h, 1, &v);
    if (s != FERRY_OK || v < 1) verdict_note(&w->v, s, "fixture_counter_add", w->hops);
    if (w->hops % 16 == 0) {
        Handle_Counter c;
        s = ferry_clone_as(Counter, h, &c);
        if (s != FERRY_OK) {
            verdict_note(&w->v, s, "ferry_clone", w->hops);
        } else {
            w->clones++;
            int64_t got = 0;
            s = fixture_b_counter_get(c, &got);
            w->b_gets++;
            if (s != FERRY_OK || got < v) verdict_note(&w->v, s, "fixture_b_counter_get", w->hops);
            switch ((w->hops / 16) % 3) {
            case 0:
                s = ferry_drop_as(Counter, c);
                w->c_drops++;
                break;
            case 1:
                s = fixture_counter_drop(c);
                w->a_drops++;
                break;
            default:
                s = fixture_b_counter_drop(c);
                w->b_drops++;
                break;
            }
            if (s != FERRY_OK) verdict_note(&w->v, s, "drop of a clone", w->hops);
        }
    }
    w->hops++;
}

static void *ring_main(void *arg) {
    ring_worker *w = arg;
    ring *r = w->r;
    int me = w->index, next = (w->index + 1) % NTHREADS;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->count[me] == 0 && !r->stop) pthread_cond_wait(&r->cv[me], &r->mu);
        if (r->count[me] == 0) break; /* stop */
        Handle_Counter h = r->q[me][r->head[me]];
        r->head[me] = (r->head[me] + 1) % RING_TOKENS;
        r->count[me]--;
        if (r->remaining > 0) {
            r->remaining--;
            pthread_mutex_unlock(&r->mu);
            ring_use(w, h);
            pthread_mutex_lock(&r->mu);
            ring_push(r, next, h);
        } else {
            r->finished[r->done++] = h;
            if (r->done == RING_TOKENS) {
                r->stop = true;
                for (int i = 0; i < NTHREADS; i++) pthread_cond_broadcast(&r->cv[i]);
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

START_TEST(threads_ring_c_threads_hand_counters_to_each_other) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    ring *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    pthread_mutex_init(&r->mu, NULL);
    for (int i = 0; i < NTHREADS; i++) pthread_cond_init(&r->cv[i], NULL);
    long hops = scaled(64000);
    if (hops < RING_TOKENS) hops = RING_TOKENS;
    r->remaining = hops;
    for (int k = 0; k < RING_TOKENS; k++) {
        Handle_Counter h;
        expect_ok(fixture_counter_new(0, &h));
        ring_push(r, k % NTHREADS, h);
    }
    for (int i = 0; i < NTHREADS; i++) r->w[i] = (ring_worker){.r = r, .index = i};
    run_threads(NTHREADS, ring_main, r->w, sizeof r->w[0]);

    long made = 0, clones = 0, c_drops = 0, a_drops = 0, b_drops = 0, b_gets = 0;
    for (int i = 0; i < NTHREADS; i++) {
        char who[32];
        snprintf(who, sizeof who, "ring thread %d", i);
        verdict_assert(&r->w[i].v, who);
        made += r->w[i].hops;
        clones += r->w[i].clones;
        c_drops += r->w[i].c_drops;
        a_drops += r->w[i].a_drops;
        b_drops += r->w[i].b_drops;
        b_gets += r->w[i].b_gets;
    }
    ck_assert_int_eq(made, hops);
    ck_assert_int_eq(r->done, RING_TOKENS);

    /* Every token is back with one strong reference; their values add up
     * to one per hop; Rust drops each object exactly once. */
    int64_t sum = 0;
    for (int k = 0; k < RING_TOKENS; k++) ck_assert_uint_eq(mx_strong(r->finished[k]), 1);
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER]);
    for (int k = 0; k < RING_TOKENS; k++) {
        int64_t v;
        expect_ok(fixture_counter_take(r->finished[k], &v));
        sum += v;
    }
    ck_assert_int_eq(sum, hops);

    /* handoffs: every hop is a first use on a new thread (the token came
     * from the previous thread of the ring, or from this thread at the
     * start), and each strong-count call here is the first use back on this
     * thread. Clones are made, read and dropped on one thread. */
    mx_balance_expect(&b0, MX_COUNTER, .created = RING_TOKENS, .cloned = clones + RING_TOKENS,
                      .taken = 2 * RING_TOKENS, .by_c = c_drops, .by_rust = a_drops + b_drops,
                      .borrows = hops + b_gets, .handoffs = hops + RING_TOKENS,
                      .rust_drops = RING_TOKENS, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);

    for (int i = 0; i < NTHREADS; i++) pthread_cond_destroy(&r->cv[i]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Through the Rust relay thread                                      */
/* ------------------------------------------------------------------ */

#define RELAY_PER_THREAD 2

typedef struct relay_worker {
    Handle_Counter held[RELAY_PER_THREAD];
    long rounds, passes;
    verdict v;
} relay_worker;

static void *relay_main(void *arg) {
    relay_worker *w = arg;
    for (long i = 0; i < w->rounds; i++) {
        for (int k = 0; k < RELAY_PER_THREAD; k++) {
            ferry_status s = fixture_relay_send(w->held[k]);
            if (s != FERRY_OK) {
                verdict_note(&w->v, s, "fixture_relay_send", i);
                return NULL; /* the handle stays held: the case can still end it */
            }
            w->held[k].bits = 0;
        }
        /* Received handles may be other threads' tokens. */
        for (int k = 0; k < RELAY_PER_THREAD; k++) {
            ferry_status s = fixture_relay_recv(&w->held[k]);
            if (s != FERRY_OK) {
                verdict_note(&w->v, s, "fixture_relay_recv", i);
                return NULL;
            }
            w->passes++;
            int64_t v = 0;
            s = fixture_counter_add(w->held[k], 1, &v);
            if (s != FERRY_OK || v < 2) verdict_note(&w->v, s, "fixture_counter_add", i);
        }
    }
    return NULL;
}

START_TEST(threads_relay_rust_thread_and_c_threads_pass_counters) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);
    const int tokens = NTHREADS * RELAY_PER_THREAD;

    expect_ok(fixture_relay_start());
    relay_worker w[NTHREADS];
    memset(w, 0, sizeof w);
    long rounds = scaled(3000);
    for (int i = 0; i < NTHREADS; i++) {
        w[i].rounds = rounds;
        for (int k = 0; k < RELAY_PER_THREAD; k++) expect_ok(fixture_counter_new(0, &w[i].held[k]));
    }
    run_threads(NTHREADS, relay_main, w, sizeof w[0]);
    expect_ok(fixture_relay_stop());

    long passes = 0;
    for (int i = 0; i < NTHREADS; i++) {
        char who[32];
        snprintf(who, sizeof who, "relay client %d", i);
        verdict_assert(&w[i].v, who);
        passes += w[i].passes;
    }
    ck_assert_int_eq(passes, (long)tokens * rounds);

    /* Each pass: the relay thread adds 1, the receiving C thread adds 1. */
    int64_t sum = 0;
    for (int i = 0; i < NTHREADS; i++)
        for (int k = 0; k < RELAY_PER_THREAD; k++) {
            int64_t v;
            ck_assert_uint_ne(w[i].held[k].bits, 0);
            expect_ok(fixture_counter_take(w[i].held[k], &v));
            sum += v;
        }
    ck_assert_int_eq(sum, 2 * passes);

    /* handoffs: per pass, C thread -> relay thread (its borrow) -> a C
     * thread (its add); then each token's take back on this thread. */
    mx_balance_expect(&b0, MX_COUNTER, .created = tokens, .taken = tokens, .borrows = 2 * passes,
                      .handoffs = 2 * passes + tokens, .rust_drops = tokens, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A ring with detours through the relay                              */
/* ------------------------------------------------------------------ */

typedef struct detour_worker {
    int index;
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    Handle_Counter *slot; /* slot[i]: the token waiting for thread i */
    long *remaining;
    long uses, relayed;
    bool *stop;
    verdict v;
} detour_worker;

/* One token circulates between the C threads (slot by slot); every 4th hop
 * the holder sends it through the Rust relay first. One token at a time
 * keeps the relay's receiver free for the sender. */
static void *detour_main(void *arg) {
    detour_worker *w = arg;
    int me = w->index, next = (w->index + 1) % NTHREADS;
    pthread_mutex_lock(w->mu);
    for (;;) {
        while (w->slot[me].bits == 0 && !*w->stop) pthread_cond_wait(w->cv, w->mu);
        if (w->slot[me].bits == 0) break;
        Handle_Counter h = w->slot[me];
        w->slot[me].bits = 0;
        if (*w->remaining <= 0) {
            *w->stop = true;
            w->slot[me] = h; /* left for the case to take */
            pthread_cond_broadcast(w->cv);
            break;
        }
        long left = --*w->remaining;
        pthread_mutex_unlock(w->mu);
        int64_t v;
        ferry_status s = fixture_counter_add(h, 1, &v);
        if (s != FERRY_OK) verdict_note(&w->v, s, "fixture_counter_add", left);
        w->uses++;
        if (left % 4 == 0) {
            Handle_Counter back = {0};
            s = fixture_relay_send(h);
            if (s == FERRY_OK) s = fixture_relay_recv(&back);
            if (s != FERRY_OK || back.bits != h.bits) {
                verdict_note(&w->v, s, "relay detour", left);
            } else {
                w->relayed++;
                /* used again here after the relay thread's use */
                s = fixture_counter_add(h, 1, &v);
                if (s != FERRY_OK) verdict_note(&w->v, s, "fixture_counter_add", left);
                w->uses++;
            }
        }
        pthread_mutex_lock(w->mu);
        w->slot[next] = h;
        pthread_cond_broadcast(w->cv);
    }
    pthread_mutex_unlock(w->mu);
    return NULL;
}

START_TEST(threads_ring_with_detours_through_the_relay) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    Handle_Counter slot[NTHREADS] = {{0}};
    long hops = scaled(8000);
    long remaining = hops;
    bool stop = false;
    detour_worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        w[i] = (detour_worker){.index = i, .mu = &mu, .cv = &cv, .slot = slot,
                               .remaining = &remaining, .stop = &stop};
    expect_ok(fixture_relay_start());
    expect_ok(fixture_counter_new(0, &slot[0]));
    run_threads(NTHREADS, detour_main, w, sizeof w[0]);
    expect_ok(fixture_relay_stop());

    long uses = 0, relayed = 0;
    for (int i = 0; i < NTHREADS; i++) {
        verdict_assert(&w[i].v, "detour thread");
        uses += w[i].uses;
        relayed += w[i].relayed;
    }
    Handle_Counter h = {0};
    for (int i = 0; i < NTHREADS; i++)
        if (slot[i].bits) h = slot[i];
    ck_assert_uint_ne(h.bits, 0);
    ck_assert_int_eq(uses, hops + relayed);
    ck_assert_int_eq(relayed, (hops + 3) / 4);
    int64_t v;
    expect_ok(fixture_counter_take(h, &v));
    ck_assert_int_eq(v, uses + relayed);

    /* handoffs: each hop's first add is on a new thread; each detour adds
     * two (to the relay thread and back); the take back here one. */
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .taken = 1, .borrows = uses + relayed,
                      .handoffs = hops + 2 * relayed + 1, .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Arc<Mutex> from several threads                                    */
/* ------------------------------------------------------------------ */

typedef struct locked_worker {
    Handle_Locked h;
    bool own_clone; /* drop h at the end (a clone made for this thread) */
    int64_t delta;
    long iters;
    verdict v;
} locked_worker;

static void *locked_main(void *arg) {
    locked_worker *w = arg;
    int64_t last = INT64_MIN;
    for (long i = 0; i < w->iters; i++) {
        int64_t v = 0;
        ferry_status s = fixture_locked_add(w->h, w->delta, &v);
        if (s != FERRY_OK || v <= last) verdict_note(&w->v, s, "fixture_locked_add", i);
        last = v;
    }
    if (w->own_clone) {
        ferry_status s = ferry_drop_as(Locked, w->h);
        if (s != FERRY_OK) verdict_note(&w->v, s, "ferry_drop of the clone", w->iters);
    }
    return NULL;
}

START_TEST(threads_locked_arc_mutex_from_several_threads_exact_total) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Locked l;
    expect_ok(fixture_locked_new(1000, &l));
    long iters = scaled(25000);
    locked_worker w[NTHREADS];
    memset(w, 0, sizeof w);
    int64_t expect = 1000;
    for (int i = 0; i < NTHREADS; i++) {
        w[i].delta = i + 1;
        w[i].iters = iters;
        /* two threads share the original handle, two get their own clone */
        w[i].own_clone = i >= 2;
        if (w[i].own_clone)
            expect_ok(ferry_clone_as(Locked, l, &w[i].h));
        else
            w[i].h = l;
        expect += w[i].delta * iters;
    }
    run_threads(NTHREADS, locked_main, w, sizeof w[0]);
    for (int i = 0; i < NTHREADS; i++) verdict_assert(&w[i].v, "locked thread");

    int64_t v;
    expect_ok(fixture_locked_add(l, 0, &v));
    ck_assert_int_eq(v, expect);
    ck_assert_uint_eq(fixture_count(MX_LOCKED), b0.rust[MX_LOCKED]);
    expect_ok(ferry_drop_as(Locked, l));
    ck_assert_uint_eq(fixture_count(MX_LOCKED), b0.rust[MX_LOCKED] + 1);

    /* handoffs depend on the interleaving of the two threads sharing l:
     * at least main -> thread for each clone and for l, one more for the
     * second sharer, and back to main; checked separately below. */
    mx_balance_expect(&b0, MX_LOCKED, .created = 1, .cloned = 2, .by_c = 3,
                      .borrows = NTHREADS * iters + 1, .handoffs = MX_ANY, .rust_drops = 1,
                      .rust_clones = 0);
    ferry_counts c;
    expect_ok(ferry_ledger(mx_type(MX_LOCKED), &c));
    ck_assert_uint_ge(c.handoffs - b0.type[MX_LOCKED].handoffs, 5);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("mixed.threads");
    ADD_CASE(s, threads_ring_c_threads_hand_counters_to_each_other, 300);
    ADD_CASE(s, threads_relay_rust_thread_and_c_threads_pass_counters, 300);
    ADD_CASE(s, threads_ring_with_detours_through_the_relay, 300);
    ADD_CASE(s, threads_locked_arc_mutex_from_several_threads_exact_total, 300);
    return run_suite(s);
}
