/*
 * test_misuse.c — misuse from C of objects Rust made. Each misuse must come
 * back as a status with a message naming the operation, the type, the kind
 * and the sites (C sites are "<this file>:<line>", Rust sites end in
 * "fixtures/src/lib.rs:<line>" or "fixtures_b/src/lib.rs:<line>"), change
 * nothing, and never crash. Null out-pointers to the fixture functions give
 * FERRY_E_NULL.
 */
#include "mixed_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define RUST_A "fixtures/src/lib.rs"
#define RUST_B "fixtures_b/src/lib.rs"

static const ferry_type *counter_t(void) { return mx_type(MX_COUNTER); }

/* ------------------------------------------------------------------ */
/* Double drop                                                        */
/* ------------------------------------------------------------------ */

START_TEST(misuse_double_drop_from_c_is_stale_and_names_the_release) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h, c;
    expect_ok(fixture_counter_new(1, &h));
    int clone_line = __LINE__ + 1;
    expect_ok(ferry_clone_as(Counter, h, &c));
    int drop_line = __LINE__ + 1;
    expect_ok(ferry_drop_as(Counter, c));

    expect_status(ferry_drop_as(Counter, c), FERRY_E_STALE);
    msg_assert_starts("FERRY_E_STALE: ferry_drop");
    msg_assert_has("type fixture.Counter");
    msg_assert_has("kind shared");
    msg_assert_c_site("released at", drop_line);
    msg_assert_c_site("created at", clone_line);

    /* The second drop did not steal h's reference. */
    ck_assert_uint_eq(mx_strong(h), 1);
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER]);

    /* The stale clone is refused by Rust too, naming C's release site. */
    int64_t v = -1;
    expect_status(fixture_counter_add(c, 1, &v), FERRY_E_STALE);
    ck_assert_int_eq(v, -1);
    msg_assert_c_site("released at", drop_line);
    msg_assert_c_site("created at", clone_line);
    expect_status(fixture_counter_drop(c), FERRY_E_STALE);
    msg_assert_has("released at");
    expect_status(fixture_counter_take(c, &v), FERRY_E_STALE);
    expect_status(fixture_b_counter_drop(c), FERRY_E_STALE);

    expect_ok(fixture_counter_take(h, &v));
    ck_assert_int_eq(v, 1);
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .cloned = 1 + 1, .taken = 1 + 1, .by_c = 1,
                      .by_rust = 0, .borrows = 0, .handoffs = 0, .rust_drops = 1,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(misuse_double_drop_from_rust_is_stale_with_rust_sites) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h;
    int64_t v;
    expect_ok(fixture_counter_new(2, &h));
    expect_ok(fixture_counter_drop(h));
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);

    expect_status(fixture_counter_drop(h), FERRY_E_STALE);
    msg_assert_has("type fixture.Counter");
    msg_assert_site("created at", RUST_A);
    msg_assert_site("released at", RUST_A);
    /* C's drop of the same handle: stale, not a second free. */
    expect_status(ferry_drop_as(Counter, h), FERRY_E_STALE);
    msg_assert_starts("FERRY_E_STALE: ferry_drop");
    msg_assert_site("created at", RUST_A);
    msg_assert_site("released at", RUST_A);
    expect_status(fixture_counter_take(h, &v), FERRY_E_STALE);
    expect_status(fixture_b_counter_drop(h), FERRY_E_STALE);
    msg_assert_site("released at", RUST_A);
    const void *p = NULL;
    expect_status(ferry_borrow(Counter_untyped(h), counter_t(), &p), FERRY_E_STALE);
    ck_assert_ptr_null(p);

    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .by_rust = 1, .borrows = 0, .handoffs = 0,
                      .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Wrong type                                                         */
/* ------------------------------------------------------------------ */

START_TEST(misuse_wrong_type_through_untyped_cast_is_refused) {
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_CellBox cell;
    Handle_Counter h;
    expect_ok(fixture_cell_new(11, &cell));
    expect_ok(fixture_counter_new(5, &h));
    mx_balance b1;
    mx_balance_take(&b1);

    /* A CellBox's bits passed where Rust wants a Counter. */
    Handle_Counter fake = {.bits = cell.bits};
    int64_t v = -1;
    expect_status(fixture_counter_add(fake, 1, &v), FERRY_E_TYPE);
    ck_assert_int_eq(v, -1);
    msg_assert_has("fixture.Counter");
    msg_assert_has("fixture.CellBox");
    msg_assert_has("kind unique");
    msg_assert_site("created at", RUST_A);
    expect_status(fixture_b_counter_get(fake, &v), FERRY_E_TYPE);
    msg_assert_has("fixture.Counter");
    msg_assert_has("fixture.CellBox");
    ck_assert_int_eq(v, -1);

    /* A Counter's bits where Rust wants a CellBox. */
    Handle_CellBox fake_cell = {.bits = h.bits};
    expect_status(fixture_cell_add(fake_cell, 1, &v), FERRY_E_TYPE);
    msg_assert_has("expected type fixture.CellBox");
    msg_assert_has("fixture.Counter");
    ck_assert_int_eq(v, -1);

    /* C borrows with the wrong ferry_type. */
    const void *p = NULL;
    expect_status(ferry_borrow(Counter_untyped(h), mx_type(MX_LOCKED), &p), FERRY_E_TYPE);
    msg_assert_starts("FERRY_E_TYPE: ferry_borrow");
    msg_assert_has("fixture.Locked");
    msg_assert_has("fixture.Counter");
    ck_assert_ptr_null(p);
    void *pm = NULL;
    expect_status(ferry_borrow_mut(Cell_untyped(cell), counter_t(), &pm), FERRY_E_TYPE);
    msg_assert_has("fixture.CellBox");
    ck_assert_ptr_null(pm);
    expect_status(ferry_check(Cell_untyped(cell), counter_t()), FERRY_E_TYPE);
    /* The failed borrows left nothing outstanding. */
    expect_status(ferry_unborrow(Counter_untyped(h)), FERRY_E_BORROWED);
    expect_status(ferry_unborrow(Cell_untyped(cell)), FERRY_E_BORROWED);

    mx_balance_unchanged(&b1);

    /* Both objects are intact and end normally. */
    expect_ok(fixture_cell_take(cell, &v));
    ck_assert_int_eq(v, 11);
    expect_ok(fixture_counter_take(h, &v));
    ck_assert_int_eq(v, 5);
    ck_assert_uint_eq(fixture_count(MX_CELL), b0.rust[MX_CELL] + 1);
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);
    ck_assert_uint_eq(ferry_live(), b0.live);
}
END_TEST

/* Every library function typed for a Counter must refuse a handle of
 * another type and change nothing: a unique CellBox, and a shared Locked
 * (the same kind as Counter, so only the type tells them apart). Each call
 * gets a fresh object, and the results are collected so that one report
 * lists every function that got it wrong. */
typedef ferry_status (*counter_fn)(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out);
static ferry_status call_add(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)n, (void)out;
    return fixture_counter_add(f, 1, val);
}
static ferry_status call_strong(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)val, (void)out;
    return fixture_counter_strong_count(f, n);
}
static ferry_status call_take(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)n, (void)out;
    return fixture_counter_take(f, val);
}
static ferry_status call_dup(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)val, (void)n;
    return fixture_counter_duplicate(f, out);
}
static ferry_status call_drop(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)val, (void)n, (void)out;
    return fixture_counter_drop(f);
}
static ferry_status call_b_get(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)n, (void)out;
    return fixture_b_counter_get(f, val);
}
static ferry_status call_b_drop(Handle_Counter f, int64_t *val, size_t *n, Handle_Counter *out) {
    (void)val, (void)n, (void)out;
    return fixture_b_counter_drop(f);
}

START_TEST(misuse_wrong_type_every_counter_function_refuses) {
    static const struct {
        const char *name;
        counter_fn fn;
    } calls[] = {
        {"fixture_counter_add", call_add},       {"fixture_counter_strong_count", call_strong},
        {"fixture_counter_take", call_take},     {"fixture_counter_duplicate", call_dup},
        {"fixture_counter_drop", call_drop},     {"fixture_b_counter_get", call_b_get},
        {"fixture_b_counter_drop", call_b_drop},
    };
    char report[8192] = "";
    size_t len = 0;
    int wrong = 0;
#define NOTE(...)                                                                            \
    do {                                                                                     \
        wrong++;                                                                             \
        if (len < sizeof report - 1) {                                                       \
            int w_ = snprintf(report + len, sizeof report - len, __VA_ARGS__);               \
            if (w_ > 0) len += (size_t)w_;                                                   \
            if (len >= sizeof report) len = sizeof report - 1;                               \
        }                                                                                    \
    } while (0)
    for (size_t j = 0; j < sizeof calls / sizeof calls[0]; j++) {
        for (int kind = 0; kind < 2; kind++) {
            const char *tname = kind == 0 ? "fixture.CellBox" : "fixture.Locked";
            Handle_CellBox cell = {0};
            Handle_Locked lk = {0};
            if (kind == 0)
                expect_ok(fixture_cell_new(11, &cell));
            else
                expect_ok(fixture_locked_new(12, &lk));
            Handle_Counter f = {.bits = kind == 0 ? cell.bits : lk.bits};
            mx_balance b1;
            mx_balance_take(&b1);
            int64_t val = -1;
            size_t n = 0;
            Handle_Counter out = {0};
            ferry_status st = calls[j].fn(f, &val, &n, &out);
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", ferry_last_error());
            char diff[2048];
            int nd = mx_balance_diff(&b1, diff, sizeof diff);
            if (st != FERRY_E_TYPE)
                NOTE("\n  %s(%s as Counter): expected FERRY_E_TYPE, got %s (%s)", calls[j].name,
                     tname, ferry_status_name(st), st == FERRY_OK ? "" : msg);
            else if (!strstr(msg, "fixture.Counter") || !strstr(msg, tname))
                NOTE("\n  %s(%s as Counter): message should name both types: %s",
                     calls[j].name, tname, msg);
            if (val != -1 || n != 0 || out.bits != 0)
                NOTE("\n  %s(%s as Counter): an out-parameter was written", calls[j].name, tname);
            if (nd)
                NOTE("\n  %s(%s as Counter): the failed call changed things:%s", calls[j].name,
                     tname, diff);
            /* end the object if the call left it alive */
            int64_t v = -1;
            ferry_status end = kind == 0 ? fixture_cell_take(cell, &v)
                                         : ferry_drop_as(Locked, lk);
            if (end != FERRY_OK)
                NOTE("\n  %s(%s as Counter): the object is gone afterwards (%s)", calls[j].name,
                     tname, ferry_status_name(end));
            else if (kind == 0 && v != 11)
                NOTE("\n  %s(%s as Counter): the object changed", calls[j].name, tname);
        }
    }
#undef NOTE
    ck_assert_msg(wrong == 0, "%d wrong results:%s", wrong, report);
}
END_TEST

static void noop_cb(void *ctx) { (void)ctx; }

START_TEST(misuse_wrong_type_while_borrowed_refuses_before_calling_back) {
    Handle_CellBox cell;
    int64_t v;
    expect_ok(fixture_cell_new(3, &cell));
    mx_balance b1;
    mx_balance_take(&b1);
    Handle_Counter fake = {.bits = cell.bits};
    expect_status(fixture_while_borrowed(fake, noop_cb, NULL), FERRY_E_TYPE);
    msg_assert_has("fixture.CellBox");
    mx_balance_unchanged(&b1);
    expect_ok(fixture_cell_take(cell, &v));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Wrong thread                                                       */
/* ------------------------------------------------------------------ */

typedef struct node_job {
    Handle_Node n;
    const ferry_type *t;
    ferry_status get_st, drop_st, clone_st, check_st, borrow_st;
    int64_t value;
    char get_msg[1024], drop_msg[1024];
} node_job;

static void *node_other_thread(void *arg) {
    node_job *j = arg;
    j->value = -1;
    j->get_st = fixture_node_get(j->n, &j->value);
    snprintf(j->get_msg, sizeof j->get_msg, "%s", ferry_last_error());
    j->drop_st = ferry_drop_as(Node, j->n);
    snprintf(j->drop_msg, sizeof j->drop_msg, "%s", ferry_last_error());
    Handle_Node c = {0};
    j->clone_st = ferry_clone_as(Node, j->n, &c);
    if (j->clone_st == FERRY_OK) ferry_drop_as(Node, c); /* tidy up if the check failed */
    j->check_st = ferry_check(Node_untyped(j->n), j->t);
    const void *p;
    j->borrow_st = ferry_borrow(Node_untyped(j->n), j->t, &p);
    if (j->borrow_st == FERRY_OK) ferry_unborrow(Node_untyped(j->n));
    return NULL;
}

START_TEST(misuse_rc_node_used_from_another_thread_is_refused) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Node n;
    int64_t v;
    expect_ok(fixture_node_new(9, &n));
    node_job j = {.n = n, .t = mx_type(MX_NODE)};
    run_on_thread(node_other_thread, &j);

    ck_assert_msg(j.get_st == FERRY_E_THREAD, "fixture_node_get on another thread: %s (%s)",
                  ferry_status_name(j.get_st), j.get_msg);
    text_assert_has(j.get_msg, "FERRY_E_THREAD");
    text_assert_has(j.get_msg, "type fixture.Node");
    text_assert_has(j.get_msg, "kind local");
    text_assert_has(j.get_msg, "lib.rs:");
    ck_assert_msg(text_has_site(j.get_msg, "created at", RUST_A), "%s", j.get_msg);
    ck_assert_int_eq(j.value, -1);
    ck_assert_msg(j.drop_st == FERRY_E_THREAD, "ferry_drop on another thread: %s (%s)",
                  ferry_status_name(j.drop_st), j.drop_msg);
    text_assert_has(j.drop_msg, "FERRY_E_THREAD: ferry_drop");
    text_assert_has(j.drop_msg, "fixture.Node");
    ck_assert_int_eq(j.clone_st, FERRY_E_THREAD);
    ck_assert_int_eq(j.check_st, FERRY_E_THREAD);
    ck_assert_int_eq(j.borrow_st, FERRY_E_THREAD);
    /* nothing happened to the node */
    ck_assert_uint_eq(fixture_count(MX_NODE), b0.rust[MX_NODE]);

    /* On its own thread it works and ends normally. */
    expect_ok(fixture_node_get(n, &v));
    ck_assert_int_eq(v, 9);
    expect_ok(ferry_drop_as(Node, n));

    /* The failed uses on the other thread were no handoffs. */
    mx_balance_expect(&b0, MX_NODE, .created = 1, .by_c = 1, .borrows = 1, .handoffs = 0,
                      .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* A thread that holds a C borrow of a handle until told to let go. */
typedef struct holder {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ferry_handle h;
    const ferry_type *t;
    int state; /* 0 start, 1 holding, 2 release asked, 3 done */
    ferry_status borrow_st, unborrow_st;
} holder;

static void *holder_main(void *arg) {
    holder *hd = arg;
    const void *p = NULL;
    ferry_status st = ferry_borrow(hd->h, hd->t, &p);
    pthread_mutex_lock(&hd->mu);
    hd->borrow_st = st;
    hd->state = 1;
    pthread_cond_broadcast(&hd->cv);
    while (hd->state != 2) pthread_cond_wait(&hd->cv, &hd->mu);
    pthread_mutex_unlock(&hd->mu);
    st = st == FERRY_OK ? ferry_unborrow(hd->h) : FERRY_OK;
    pthread_mutex_lock(&hd->mu);
    hd->unborrow_st = st;
    hd->state = 3;
    pthread_mutex_unlock(&hd->mu);
    return NULL;
}

static void holder_start(holder *hd, ferry_handle h, const ferry_type *t) {
    memset(hd, 0, sizeof *hd);
    hd->h = h;
    hd->t = t;
    pthread_mutex_init(&hd->mu, NULL);
    pthread_cond_init(&hd->cv, NULL);
    ck_assert_int_eq(pthread_create(&hd->th, NULL, holder_main, hd), 0);
    pthread_mutex_lock(&hd->mu);
    while (hd->state != 1) pthread_cond_wait(&hd->cv, &hd->mu);
    pthread_mutex_unlock(&hd->mu);
}

static void holder_stop(holder *hd) {
    pthread_mutex_lock(&hd->mu);
    hd->state = 2;
    pthread_cond_broadcast(&hd->cv);
    pthread_mutex_unlock(&hd->mu);
    ck_assert_int_eq(pthread_join(hd->th, NULL), 0);
    pthread_mutex_destroy(&hd->mu);
    pthread_cond_destroy(&hd->cv);
}

typedef struct cell_job {
    Handle_CellBox c;
    int64_t delta, value;
    ferry_status st;
    char msg[1024];
} cell_job;

static void *cell_add_thread(void *arg) {
    cell_job *j = arg;
    j->value = -1;
    j->st = fixture_cell_add(j->c, j->delta, &j->value);
    snprintf(j->msg, sizeof j->msg, "%s", j->st == FERRY_OK ? "" : ferry_last_error());
    return NULL;
}

START_TEST(misuse_send_not_sync_cell_borrowed_on_two_threads_is_refused) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);
    const ferry_type *t = mx_type(MX_CELL);
    const ferry_type_desc *desc = ferry_type_descriptor(t);
    ck_assert_uint_eq(desc->flags, FERRY_SEND); /* Send, !Sync, detected by Rust */

    Handle_CellBox c;
    int64_t v;
    expect_ok(fixture_cell_new(1, &c));

    /* This thread borrows from C; Rust on another thread may not. */
    const void *p = NULL;
    expect_ok(ferry_borrow(Cell_untyped(c), t, &p));
    cell_job j = {.c = c, .delta = 1};
    run_on_thread(cell_add_thread, &j);
    ck_assert_msg(j.st == FERRY_E_THREAD, "fixture_cell_add while borrowed elsewhere: %s (%s)",
                  ferry_status_name(j.st), j.msg);
    text_assert_has(j.msg, "FERRY_E_THREAD");
    text_assert_has(j.msg, "type fixture.CellBox");
    text_assert_has(j.msg, "kind unique");
    ck_assert_int_eq(j.value, -1);
    /* The same thread may borrow again (borrows nest). */
    expect_ok(fixture_cell_add(c, 0, &v));
    ck_assert_int_eq(v, 1);
    expect_ok(ferry_unborrow(Cell_untyped(c)));

    /* Borrow released: the unique handle of a Send type moves freely. */
    run_on_thread(cell_add_thread, &j);
    ck_assert_msg(j.st == FERRY_OK, "fixture_cell_add after the borrow ended: %s (%s)",
                  ferry_status_name(j.st), j.msg);
    ck_assert_int_eq(j.value, 2);

    /* Another thread holds a C borrow; Rust here may not borrow, and this
     * thread cannot end the other's borrow or drop the box. */
    holder hd;
    holder_start(&hd, Cell_untyped(c), t);
    ck_assert_int_eq(hd.borrow_st, FERRY_OK);
    v = -1;
    expect_status(fixture_cell_add(c, 1, &v), FERRY_E_THREAD);
    msg_assert_has("fixture.CellBox");
    ck_assert_int_eq(v, -1);
    expect_status(ferry_unborrow(Cell_untyped(c)), FERRY_E_THREAD);
    expect_status(fixture_cell_take(c, &v), FERRY_E_BORROWED);
    holder_stop(&hd);
    ck_assert_int_eq(hd.unborrow_st, FERRY_OK);

    expect_ok(fixture_cell_take(c, &v));
    ck_assert_int_eq(v, 2);

    /* borrows: C borrow, add, other-thread add, holder borrow.
     * handoffs: this thread -> other (add) -> holder -> this thread (take). */
    mx_balance_expect(&b0, MX_CELL, .created = 1, .taken = 1, .borrows = 4, .handoffs = 3,
                      .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Drop while Rust holds a borrow guard                               */
/* ------------------------------------------------------------------ */

typedef struct guard_seen {
    Handle_Counter h;
    ferry_status c_drop, r_drop, b_drop, take, add;
    int64_t taken, added;
    char c_drop_msg[1024], r_drop_msg[1024];
    int calls;
} guard_seen;

static void while_borrowed_cb(void *ctx) {
    guard_seen *s = ctx;
    s->calls++;
    s->c_drop = ferry_drop_as(Counter, s->h);
    snprintf(s->c_drop_msg, sizeof s->c_drop_msg, "%s", ferry_last_error());
    s->r_drop = fixture_counter_drop(s->h);
    snprintf(s->r_drop_msg, sizeof s->r_drop_msg, "%s", ferry_last_error());
    s->b_drop = fixture_b_counter_drop(s->h);
    s->take = fixture_counter_take(s->h, &s->taken);
    /* Shared borrows nest: using it is fine. (No ferry_unborrow here:
     * borrows are counted, not owned, so C could end Rust's borrow for it;
     * ferry.h makes that the caller's responsibility.) */
    s->add = fixture_counter_add(s->h, 1, &s->added);
}

START_TEST(misuse_drop_while_rust_guard_alive_is_borrowed_and_object_survives) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h;
    int64_t v;
    expect_ok(fixture_counter_new(4, &h));
    guard_seen s = {.h = h, .taken = -1, .added = -1};
    expect_ok(fixture_while_borrowed(h, while_borrowed_cb, &s));
    ck_assert_int_eq(s.calls, 1);
    ck_assert_msg(s.c_drop == FERRY_E_BORROWED, "ferry_drop under a Rust guard: %s (%s)",
                  ferry_status_name(s.c_drop), s.c_drop_msg);
    text_assert_has(s.c_drop_msg, "FERRY_E_BORROWED: ferry_drop");
    text_assert_has(s.c_drop_msg, "1 borrow outstanding");
    text_assert_has(s.c_drop_msg, "type fixture.Counter");
    text_assert_has(s.c_drop_msg, "kind shared");
    ck_assert_msg(text_has_site(s.c_drop_msg, "created at", RUST_A), "%s", s.c_drop_msg);
    ck_assert_msg(s.r_drop == FERRY_E_BORROWED, "fixture_counter_drop under a Rust guard: %s (%s)",
                  ferry_status_name(s.r_drop), s.r_drop_msg);
    text_assert_has(s.r_drop_msg, "FERRY_E_BORROWED");
    ck_assert_int_eq(s.b_drop, FERRY_E_BORROWED);
    ck_assert_int_eq(s.take, FERRY_E_BORROWED);
    ck_assert_int_eq(s.taken, -1);
    ck_assert_int_eq(s.add, FERRY_OK);
    ck_assert_int_eq(s.added, 5);

    /* The object survived, and the guard is gone now. */
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER]);
    ck_assert_uint_eq(mx_strong(h), 1);
    expect_ok(fixture_b_counter_get(h, &v));
    ck_assert_int_eq(v, 5);
    expect_status(ferry_unborrow(Counter_untyped(h)), FERRY_E_BORROWED);
    expect_ok(ferry_drop_as(Counter, h));
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);

    /* borrows: the guard, add inside, get after */
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .cloned = 1, .taken = 1, .by_c = 1,
                      .by_rust = 0, .borrows = 3, .handoffs = 0, .rust_drops = 1,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Use after the lend returned                                        */
/* ------------------------------------------------------------------ */

typedef struct lent_seen {
    ferry_handle h;
    ferry_kind kind;
    ferry_status kind_st, borrow_st, unborrow_st, add_st, drop_st, clone_st, take_st, r_drop_st,
        b_drop_st, borrow_mut_st;
    int64_t read, added, taken;
    char drop_msg[1024], take_msg[1024];
} lent_seen;

static void lent_cb(Handle_Counter h, void *ctx) {
    lent_seen *s = ctx;
    s->h = Counter_untyped(h);
    const ferry_type *t = ferry_type_find("fixture.Counter");
    s->kind_st = ferry_kind_of(s->h, &s->kind);
    const void *p = NULL;
    s->borrow_st = ferry_borrow(s->h, t, &p);
    if (s->borrow_st == FERRY_OK) {
        s->read = __atomic_load_n((const int64_t *)p, __ATOMIC_SEQ_CST);
        s->unborrow_st = ferry_unborrow(s->h);
    }
    s->add_st = fixture_counter_add(h, 1, &s->added);
    /* Ending a lent handle is the lender's business. If any of these
     * succeeded the lend scope would find its handle gone and abort: the
     * test would crash, which is the failure report. */
    s->drop_st = ferry_drop(s->h);
    snprintf(s->drop_msg, sizeof s->drop_msg, "%s", ferry_last_error());
    ferry_handle c = {0};
    s->clone_st = ferry_clone(s->h, &c);
    s->take_st = fixture_counter_take(h, &s->taken);
    snprintf(s->take_msg, sizeof s->take_msg, "%s", ferry_last_error());
    s->r_drop_st = fixture_counter_drop(h);
    s->b_drop_st = fixture_b_counter_drop(h);
    void *pm = NULL;
    s->borrow_mut_st = ferry_borrow_mut(s->h, t, &pm);
    if (s->borrow_mut_st == FERRY_OK) ferry_unborrow(s->h);
    /* (No ferry_revoke here: ferry cannot tell the lender's revoke from the
     * borrower's, and a revoke by the borrower makes the lend scope abort by
     * design — ferry/src/lend.rs.) */
}

START_TEST(misuse_lent_handle_cannot_be_ended_and_is_stale_after_the_lend) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    lent_seen s = {.read = -1, .added = -1, .taken = -1};
    expect_ok(fixture_with_lent_counter(42, lent_cb, &s));

    /* Inside the call: borrow works and sees the value. */
    ck_assert_int_eq(s.kind_st, FERRY_OK);
    ck_assert_int_eq(s.kind, FERRY_KIND_LENT);
    ck_assert_int_eq(s.borrow_st, FERRY_OK);
    ck_assert_int_eq(s.read, 42);
    ck_assert_int_eq(s.unborrow_st, FERRY_OK);
    ck_assert_int_eq(s.add_st, FERRY_OK);
    ck_assert_int_eq(s.added, 43);
    /* ...but nothing may end it. */
    ck_assert_msg(s.drop_st == FERRY_E_KIND, "ferry_drop of a lent handle: %s (%s)",
                  ferry_status_name(s.drop_st), s.drop_msg);
    text_assert_has(s.drop_msg, "FERRY_E_KIND: ferry_drop");
    text_assert_has(s.drop_msg, "kind lent");
    text_assert_has(s.drop_msg, "type fixture.Counter");
    ck_assert_msg(text_has_site(s.drop_msg, "created at", RUST_A), "%s", s.drop_msg);
    ck_assert_int_eq(s.clone_st, FERRY_E_KIND);
    ck_assert_msg(s.take_st == FERRY_E_KIND, "fixture_counter_take of a lent handle: %s (%s)",
                  ferry_status_name(s.take_st), s.take_msg);
    ck_assert_int_eq(s.taken, -1);
    ck_assert_int_eq(s.r_drop_st, FERRY_E_KIND);
    ck_assert_int_eq(s.b_drop_st, FERRY_E_KIND);
    ck_assert_int_eq(s.borrow_mut_st, FERRY_E_KIND);

    /* After the call: the saved handle is stale, naming Rust's revoke. */
    const void *p = NULL;
    expect_status(ferry_borrow(s.h, counter_t(), &p), FERRY_E_STALE);
    msg_assert_starts("FERRY_E_STALE: ferry_borrow");
    msg_assert_has("type fixture.Counter");
    msg_assert_has("kind lent");
    msg_assert_site("created at", RUST_A);
    msg_assert_site("released at", RUST_A);
    ck_assert_ptr_null(p);
    expect_status(ferry_check(s.h, counter_t()), FERRY_E_STALE);
    msg_assert_has("released at");
    int64_t v = -1;
    expect_status(fixture_counter_add(Counter_typed(s.h), 1, &v), FERRY_E_STALE);
    ck_assert_int_eq(v, -1);
    expect_status(ferry_drop(s.h), FERRY_E_STALE);

    /* The stack Counter was dropped once, by Rust, when the call returned. */
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .by_rust = 1, .revoked = 1, .borrows = 2,
                      .handoffs = 0, .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Forged and null handles                                            */
/* ------------------------------------------------------------------ */

START_TEST(misuse_null_and_forged_handles_are_refused) {
    mx_balance b0;
    mx_balance_take(&b0);
    int64_t v = -1;
    Handle_Counter null_h = {0};
    expect_status(fixture_counter_add(null_h, 1, &v), FERRY_E_NULL);
    msg_assert_has("null handle");
    expect_status(fixture_b_counter_get(null_h, &v), FERRY_E_NULL);
    expect_status(fixture_counter_drop(null_h), FERRY_E_NULL);
    expect_status(fixture_b_counter_drop(null_h), FERRY_E_NULL);
    expect_status(fixture_counter_take(null_h, &v), FERRY_E_NULL);

    Handle_Counter forged = {.bits = 0x5a5a5a5a12345678ull};
    expect_status(fixture_counter_add(forged, 1, &v), FERRY_E_INVALID);
    msg_assert_has("never issued");
    expect_status(fixture_b_counter_drop(forged), FERRY_E_INVALID);
    expect_status(fixture_counter_take(forged, &v), FERRY_E_INVALID);
    ck_assert_int_eq(v, -1);
    mx_balance_unchanged(&b0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Null out-pointers                                                  */
/* ------------------------------------------------------------------ */

/* Each call with a NULL out-pointer (or callback) must return FERRY_E_NULL
 * with a message saying what was null, and change nothing: no handle made or
 * ended, no borrow counted, no object touched. All calls run; one report
 * lists every one that got it wrong. */
typedef struct null_ctx {
    char report[8192];
    size_t len;
    int wrong;
    mx_balance before;
} null_ctx;

static void null_note(null_ctx *c, const char *fmt, const char *call, const char *detail) {
    c->wrong++;
    if (c->len < sizeof c->report - 1) {
        int w = snprintf(c->report + c->len, sizeof c->report - c->len, fmt, call, detail);
        if (w > 0) c->len += (size_t)w;
        if (c->len >= sizeof c->report) c->len = sizeof c->report - 1;
    }
}

static void null_check(null_ctx *c, const char *call, ferry_status st) {
    char msg[1024], diff[2048];
    snprintf(msg, sizeof msg, "%s", ferry_last_error());
    int nd = mx_balance_diff(&c->before, diff, sizeof diff);
    if (st != FERRY_E_NULL)
        null_note(c, "\n  %s: expected FERRY_E_NULL, got %s", call, ferry_status_name(st));
    else if (strncmp(msg, "FERRY_E_NULL:", 13) != 0 || !strstr(msg, "null"))
        null_note(c, "\n  %s: message should start FERRY_E_NULL and say what is null: %s", call,
                  msg);
    if (nd) null_note(c, "\n  %s: the failed call changed things:%s", call, diff);
    mx_balance_take(&c->before); /* report each call's own changes only */
}

#define NULL_CALL(ctx, call) null_check((ctx), #call, (call))

START_TEST(misuse_null_out_pointers_give_null_and_change_nothing) {
    Handle_Counter h;
    Handle_CellBox c;
    Handle_Node n;
    Handle_Locked l;
    Handle_Panicky p;
    expect_ok(fixture_counter_new(6, &h));
    expect_ok(fixture_cell_new(7, &c));
    expect_ok(fixture_node_new(8, &n));
    expect_ok(fixture_locked_new(9, &l));
    expect_ok(fixture_panicky_new(&p));
    mx_balance b1;
    mx_balance_take(&b1);

    null_ctx *x = calloc(1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    mx_balance_take(&x->before);
    NULL_CALL(x, fixture_counter_new(1, NULL));
    NULL_CALL(x, fixture_counter_add(h, 1, NULL));
    NULL_CALL(x, fixture_counter_strong_count(h, NULL));
    NULL_CALL(x, fixture_counter_take(h, NULL));
    NULL_CALL(x, fixture_counter_duplicate(h, NULL));
    NULL_CALL(x, fixture_with_lent_counter(1, NULL, NULL));
    NULL_CALL(x, fixture_while_borrowed(h, NULL, NULL));
    NULL_CALL(x, fixture_b_counter_get(h, NULL));
    NULL_CALL(x, fixture_cell_new(1, NULL));
    NULL_CALL(x, fixture_cell_add(c, 1, NULL));
    NULL_CALL(x, fixture_cell_take(c, NULL));
    NULL_CALL(x, fixture_node_new(1, NULL));
    NULL_CALL(x, fixture_node_get(n, NULL));
    NULL_CALL(x, fixture_locked_new(1, NULL));
    NULL_CALL(x, fixture_locked_add(l, 1, NULL));
    NULL_CALL(x, fixture_panicky_new(NULL));
    NULL_CALL(x, fixture_panicky_poke(p, false, NULL));
    NULL_CALL(x, fixture_panicky_poke(p, true, NULL)); /* refused before it could panic */
    NULL_CALL(x, fixture_relay_recv(NULL));
    /* libferry's own out-pointers */
    NULL_CALL(x, ferry_clone(Counter_untyped(h), NULL));
    NULL_CALL(x, ferry_borrow(Counter_untyped(h), mx_type(MX_COUNTER), NULL));
    NULL_CALL(x, ferry_borrow_mut(Cell_untyped(c), mx_type(MX_CELL), NULL));
    NULL_CALL(x, ferry_kind_of(Counter_untyped(h), NULL));
    NULL_CALL(x, ferry_ledger(mx_type(MX_COUNTER), NULL));

    /* The objects are intact; end the ones still alive. */
    int64_t v = -1;
    uint64_t pokes = 0;
    ferry_status st = fixture_counter_take(h, &v);
    if (st != FERRY_OK || v != 6) null_note(x, "\n  %s: %s", "the Counter is gone or changed",
                                           ferry_status_name(st));
    st = fixture_cell_take(c, &v);
    if (st != FERRY_OK || v != 7) null_note(x, "\n  %s: %s", "the CellBox is gone or changed",
                                           ferry_status_name(st));
    st = fixture_node_get(n, &v);
    if (st != FERRY_OK || v != 8) null_note(x, "\n  %s: %s", "the Node is gone or changed",
                                           ferry_status_name(st));
    ferry_drop_as(Node, n);
    st = fixture_locked_add(l, 0, &v);
    if (st != FERRY_OK || v != 9) null_note(x, "\n  %s: %s", "the Locked is gone or changed",
                                           ferry_status_name(st));
    ferry_drop_as(Locked, l);
    st = fixture_panicky_poke(p, false, &pokes);
    if (st != FERRY_OK || pokes != 1) null_note(x, "\n  %s: %s", "the Panicky is gone or changed",
                                               ferry_status_name(st));
    ferry_drop_as(Panicky, p);
    if (ferry_live() != b1.live - 5) {
        char live[64];
        snprintf(live, sizeof live, "%zu, expected %zu", ferry_live(), b1.live - 5);
        null_note(x, "\n  %s: %s", "live handles afterwards", live);
    }
    char report[sizeof x->report];
    memcpy(report, x->report, sizeof report);
    int wrong = x->wrong;
    free(x);
    ck_assert_msg(wrong == 0, "%d wrong results:%s", wrong, report);
}
END_TEST

int main(void) {
    Suite *s = suite_create("mixed.misuse");
    ADD_CASE(s, misuse_double_drop_from_c_is_stale_and_names_the_release, 60);
    ADD_CASE(s, misuse_double_drop_from_rust_is_stale_with_rust_sites, 60);
    ADD_CASE(s, misuse_wrong_type_through_untyped_cast_is_refused, 60);
    ADD_CASE(s, misuse_wrong_type_every_counter_function_refuses, 60);
    ADD_CASE(s, misuse_wrong_type_while_borrowed_refuses_before_calling_back, 60);
    ADD_CASE(s, misuse_rc_node_used_from_another_thread_is_refused, 60);
    ADD_CASE(s, misuse_send_not_sync_cell_borrowed_on_two_threads_is_refused, 60);
    ADD_CASE(s, misuse_drop_while_rust_guard_alive_is_borrowed_and_object_survives, 60);
    ADD_CASE(s, misuse_lent_handle_cannot_be_ended_and_is_stale_after_the_lend, 60);
    ADD_CASE(s, misuse_null_and_forged_handles_are_refused, 60);
    ADD_CASE(s, misuse_null_out_pointers_give_null_and_change_nothing, 60);
    return run_suite(s);
}
