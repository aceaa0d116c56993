/* test_ledger.c — ledger arithmetic, per type and for all types:
 *   live = created + cloned - taken - dropped_by_c - dropped_by_rust
 * (a revoke counts as a drop and, besides, as revoked)
 * peak_live exact for single-thread use, borrows and handoffs counted,
 * ferry_drop_at(h, FERRY_BY_RUST, site) counted as dropped_by_rust. */
#include "support.h"

#include <inttypes.h>

#define SS (FERRY_SEND | FERRY_SYNC)

typedef struct expect_counts {
    uint64_t created, cloned, borrows, handoffs, taken, by_c, by_rust, live, peak, revoked;
} expect_counts;

static void assert_counts_at(const ferry_type *t, const expect_counts *e, const char *file,
                             int line) {
    ferry_counts c = ledger_of(t);
#define F(field, want)                                                                       \
    ck_assert_msg(c.field == (want), "%s:%d: %s = %" PRIu64 ", expected %" PRIu64, file, line, \
                  #field, c.field, (uint64_t)(want))
    F(created, e->created);
    F(cloned, e->cloned);
    F(borrows, e->borrows);
    F(handoffs, e->handoffs);
    F(taken, e->taken);
    F(dropped_by_c, e->by_c);
    F(dropped_by_rust, e->by_rust);
    F(live, e->live);
    F(peak_live, e->peak);
    F(revoked, e->revoked);
#undef F
    counts_assert_identity_at(&c, file, line);
}
#define assert_counts(t, ...)                                                                \
    do {                                                                                     \
        expect_counts e_ = __VA_ARGS__;                                                      \
        assert_counts_at((t), &e_, __FILE__, __LINE__);                                      \
    } while (0)

/* The all-types ledger moved by exactly the same amounts as the type's
 * (single-threaded: nothing else is creating or dropping). */
static void assert_all_moved_like_type(const ferry_counts *all0, const ferry_counts *type0,
                                       const ferry_type *t) {
    ferry_counts all1 = ledger_of(NULL), type1 = ledger_of(t);
#define D(field)                                                                             \
    ck_assert_msg(all1.field - all0->field == type1.field - type0->field,                    \
                  "all-types %s moved by %" PRIu64 ", type's by %" PRIu64, #field,           \
                  all1.field - all0->field, type1.field - type0->field)
    D(created);
    D(cloned);
    D(borrows);
    D(handoffs);
    D(taken);
    D(dropped_by_c);
    D(dropped_by_rust);
    D(live);
    D(revoked);
#undef D
    counts_assert_identity(&all1);
    ck_assert_uint_eq(all1.live, ferry_live());
}

START_TEST(ledger_fresh_type_counts_zero) {
    fx f;
    fx_init(&f, "l_fresh", SS, FX_ALL);
    assert_counts(f.type, {0});
    ferry_counts all = ledger_of(NULL);
    counts_assert_identity(&all);
    ck_assert_uint_eq(all.live, ferry_live());
}
END_TEST

START_TEST(ledger_counts_every_operation) {
    fx f;
    fx_init(&f, "l_every", SS, FX_ALL);
    ferry_counts all0 = ledger_of(NULL), type0 = ledger_of(f.type);
    size_t live0 = ferry_live();
    fx_obj lent, lent_mut;
    fx_obj_init_lent(&lent, &f, 0);
    fx_obj_init_lent(&lent_mut, &f, 0);
    ferry_handle u1, u2, s, c1, c2, w, s2, l, lm;
    const void *p;
    void *m, *unit;

    expect_ok(ferry_box(f.type, fx_new(&f, 1), &u1));
    expect_ok(ferry_box(f.type, fx_new(&f, 2), &u2));
    assert_counts(f.type, {.created = 2, .live = 2, .peak = 2});
    expect_ok(ferry_share(f.type, fx_new(&f, 3), &s));
    expect_ok(ferry_clone(s, &c1));
    expect_ok(ferry_clone(c1, &c2));
    assert_counts(f.type, {.created = 3, .cloned = 2, .live = 5, .peak = 5});
    expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_upgrade(w, &s2));
    assert_counts(f.type, {.created = 5, .cloned = 2, .live = 7, .peak = 7});
    expect_ok(ferry_lend(f.type, &lent, &l));
    expect_ok(ferry_lend_mut(f.type, &lent_mut, &lm));
    assert_counts(f.type, {.created = 7, .cloned = 2, .live = 9, .peak = 9});
    ck_assert_uint_eq(ferry_live(), live0 + 9);

    expect_ok(ferry_borrow(u1, f.type, &p));
    expect_ok(ferry_unborrow(u1));
    expect_ok(ferry_borrow_mut(u2, f.type, &m));
    expect_ok(ferry_unborrow(u2));
    expect_ok(ferry_borrow(l, f.type, &p));
    expect_ok(ferry_borrow(l, f.type, &p));
    expect_ok(ferry_unborrow(l));
    expect_ok(ferry_unborrow(l));
    expect_ok(ferry_borrow_mut(lm, f.type, &m));
    expect_ok(ferry_unborrow(lm));
    expect_ok(ferry_check(s, f.type)); /* not a borrow */
    /* failed borrows are not counted */
    expect_status(ferry_borrow(w, f.type, &p), FERRY_E_KIND);
    expect_status(ferry_borrow_mut(s, f.type, &m), FERRY_E_KIND);
    assert_counts(f.type, {.created = 7, .cloned = 2, .borrows = 5, .live = 9, .peak = 9});

    expect_ok(ferry_take(u1, f.type, &unit));
    fx_release(unit);
    expect_ok(ferry_drop(u2));
    expect_ok(ferry_drop_at(c1, FERRY_BY_RUST, FERRY_SITE));
    assert_counts(f.type, {.created = 7, .cloned = 2, .borrows = 5, .taken = 1, .by_c = 1,
                           .by_rust = 1, .live = 6, .peak = 9});
    expect_ok(ferry_revoke(l));
    expect_ok(ferry_revoke_at(lm, FERRY_BY_C, FERRY_SITE));
    assert_counts(f.type, {.created = 7, .cloned = 2, .borrows = 5, .taken = 1, .by_c = 3,
                           .by_rust = 1, .live = 4, .peak = 9, .revoked = 2});
    /* failed ends are not counted */
    expect_status(ferry_drop(u2), FERRY_E_STALE);
    expect_status(ferry_revoke(l), FERRY_E_STALE);
    expect_ok(ferry_drop(c2));
    expect_ok(ferry_drop(s2));
    expect_ok(ferry_drop(s));
    expect_ok(ferry_drop(w));
    assert_counts(f.type, {.created = 7, .cloned = 2, .borrows = 5, .taken = 1, .by_c = 7,
                           .by_rust = 1, .live = 0, .peak = 9, .revoked = 2});
    assert_all_moved_like_type(&all0, &type0, f.type);
    ck_assert_uint_eq(ferry_live(), live0);
    ck_assert_int_eq(fx_count(&f.destroyed), 3);
    ck_assert_int_eq(fx_count(&f.freed), 3);
}
END_TEST

START_TEST(ledger_peak_live_exact_single_thread) {
    fx f;
    fx_init(&f, "l_peak", SS, FX_PLAIN);
    ferry_handle h[8];
    for (int i = 0; i < 5; i++) expect_ok(ferry_box(f.type, fx_new(&f, i), &h[i]));
    for (int i = 0; i < 3; i++) expect_ok(ferry_drop(h[i]));
    expect_ok(ferry_box(f.type, fx_new(&f, 5), &h[0]));
    assert_counts(f.type, {.created = 6, .by_c = 3, .live = 3, .peak = 5});
    for (int i = 1; i < 3; i++) expect_ok(ferry_box(f.type, fx_new(&f, i), &h[i]));
    assert_counts(f.type, {.created = 8, .by_c = 3, .live = 5, .peak = 5});
    for (int i = 5; i < 8; i++) expect_ok(ferry_box(f.type, fx_new(&f, i), &h[i]));
    assert_counts(f.type, {.created = 11, .by_c = 3, .live = 8, .peak = 8});
    for (int i = 0; i < 8; i++) expect_ok(ferry_drop(h[i]));
    assert_counts(f.type, {.created = 11, .by_c = 11, .live = 0, .peak = 8});
    ferry_counts all = ledger_of(NULL);
    ck_assert_uint_ge(all.peak_live, 8);
}
END_TEST

/* Threads that each make and end their own handles, one after another: the
 * per-thread peaks give the exact peak without a shared counter. */
static void *box_and_drop_batch(void *arg) {
    fx *f = arg;
    ferry_handle h[100];
    for (int i = 0; i < 100; i++) expect_ok(ferry_box(f->type, fx_new(f, i), &h[i]));
    for (int i = 0; i < 100; i++) expect_ok(ferry_drop(h[i]));
    return NULL;
}

START_TEST(ledger_peak_exact_across_sequential_threads) {
    fx f;
    fx_init(&f, "l_peak_threads", SS, FX_PLAIN);
    for (int k = 0; k < 3; k++) run_on_thread(box_and_drop_batch, &f);
    assert_counts(f.type, {.created = 300, .by_c = 300, .live = 0, .peak = 100});
    ferry_handle h[150];
    for (int i = 0; i < 150; i++) expect_ok(ferry_box(f.type, fx_new(&f, i), &h[i]));
    for (int i = 0; i < 150; i++) expect_ok(ferry_drop(h[i]));
    assert_counts(f.type, {.created = 450, .by_c = 450, .live = 0, .peak = 150});
    ck_assert_int_eq(fx_count(&f.released), 450);
}
END_TEST

START_TEST(ledger_drop_by_rust_counted_per_kind) {
    fx f;
    fx_init(&f, "l_by_rust", SS, FX_ALL);
    ferry_counts all0 = ledger_of(NULL), type0 = ledger_of(f.type);
    ferry_handle u, s, l, w;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_local(f.type, fx_new(&f, 0), &l));
    expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_drop_at(w, FERRY_BY_RUST, "rust/src/lib.rs:1"));
    expect_ok(ferry_drop_at(u, FERRY_BY_RUST, "rust/src/lib.rs:2"));
    expect_ok(ferry_drop_at(s, FERRY_BY_RUST, "rust/src/lib.rs:3"));
    expect_ok(ferry_drop_at(l, FERRY_BY_C, "host.c:4"));
    assert_counts(f.type, {.created = 4, .by_c = 1, .by_rust = 3, .live = 0, .peak = 4});
    assert_all_moved_like_type(&all0, &type0, f.type);
    ck_assert_int_eq(fx_count(&f.released), 3);
    ck_assert_int_eq(fx_count(&f.weak_released), 1);
    /* a second drop by either side is refused and not counted */
    expect_status(ferry_drop_at(u, FERRY_BY_RUST, "rust/src/lib.rs:5"), FERRY_E_STALE);
    msg_assert_has("released at rust/src/lib.rs:2");
    msg_assert_has("created at ");
    assert_counts(f.type, {.created = 4, .by_c = 1, .by_rust = 3, .live = 0, .peak = 4});
    /* a lend ended by Rust's lend scope: a drop by Rust that is also a revoke */
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    ferry_handle lh;
    expect_ok(ferry_lend(f.type, &lent, &lh));
    expect_ok(ferry_revoke_at(lh, FERRY_BY_RUST, "rust/src/lend.rs:9"));
    assert_counts(f.type,
                  {.created = 5, .by_c = 1, .by_rust = 4, .live = 0, .peak = 4, .revoked = 1});
    expect_status(ferry_revoke_at(lh, FERRY_BY_RUST, "rust/src/lend.rs:10"), FERRY_E_STALE);
    msg_assert_has("released at rust/src/lend.rs:9");
}
END_TEST

START_TEST(ledger_all_types_is_sum_of_types) {
    fx f, g;
    fx_init(&f, "l_sum_f", SS, FX_ALL);
    fx_init(&g, "l_sum_g", SS, FX_ALL);
    ferry_counts all0 = ledger_of(NULL);
    ferry_handle a, b, c, d;
    const void *p;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &a));
    expect_ok(ferry_clone(a, &b));
    expect_ok(ferry_box(g.type, fx_new(&g, 0), &c));
    expect_ok(ferry_local(g.type, fx_new(&g, 0), &d));
    expect_ok(ferry_borrow(c, g.type, &p));
    expect_ok(ferry_unborrow(c));
    expect_ok(ferry_drop(a));
    expect_ok(ferry_drop_at(c, FERRY_BY_RUST, FERRY_SITE));
    ferry_counts all1 = ledger_of(NULL), cf = ledger_of(f.type), cg = ledger_of(g.type);
    ck_assert_uint_eq(all1.created - all0.created, cf.created + cg.created);
    ck_assert_uint_eq(all1.cloned - all0.cloned, cf.cloned + cg.cloned);
    ck_assert_uint_eq(all1.borrows - all0.borrows, cf.borrows + cg.borrows);
    ck_assert_uint_eq(all1.dropped_by_c - all0.dropped_by_c, cf.dropped_by_c + cg.dropped_by_c);
    ck_assert_uint_eq(all1.dropped_by_rust - all0.dropped_by_rust,
                      cf.dropped_by_rust + cg.dropped_by_rust);
    ck_assert_uint_eq(all1.live - all0.live, cf.live + cg.live);
    ck_assert_uint_eq(cf.live, 1);
    ck_assert_uint_eq(cg.live, 1);
    ck_assert_uint_eq(all1.live, ferry_live());
    counts_assert_identity(&all1);
    expect_ok(ferry_drop(b));
    expect_ok(ferry_drop(d));
    ck_assert_uint_eq(ferry_live(), all0.live);
}
END_TEST

/* --- handoffs ------------------------------------------------------- */

/* Several uses of h on worker w: check, borrow, unborrow, check. */
static void uses_on(worker *w, ferry_handle h, const ferry_type *t) {
    void *obj = NULL;
    expect_ok(worker_run(w, OP_CHECK, h, t, NULL, NULL, NULL, 0));
    expect_ok(worker_run(w, OP_BORROW, h, t, NULL, &obj, NULL, 0));
    expect_ok(worker_run(w, OP_UNBORROW, h, t, NULL, NULL, NULL, 0));
    expect_ok(worker_run(w, OP_CHECK, h, NULL, NULL, NULL, NULL, 0));
}

START_TEST(ledger_handoffs_counted_per_change_of_thread) {
    fx f;
    fx_init(&f, "l_handoff", SS, FX_ALL);
    ferry_counts all0 = ledger_of(NULL), type0 = ledger_of(f.type);
    /* two threads alive for the whole test, so they are surely distinct */
    worker *w1 = worker_start(), *w2 = worker_start();
    ferry_handle a, b;
    const void *p;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &a));
    expect_ok(ferry_clone(a, &b));
    /* uses on the creating thread are no handoff */
    expect_ok(ferry_check(a, f.type));
    expect_ok(ferry_borrow(a, f.type, &p));
    expect_ok(ferry_unborrow(a));
    ck_assert_uint_eq(ledger_of(f.type).handoffs, 0);

    /* a on w1: one handoff however many uses there */
    uses_on(w1, a, f.type);
    ck_assert_uint_eq(ledger_of(f.type).handoffs, 1);
    /* a on w2: one more */
    uses_on(w2, a, f.type);
    ck_assert_uint_eq(ledger_of(f.type).handoffs, 2);
    /* back on the main thread: one more */
    expect_ok(ferry_check(a, NULL));
    expect_ok(ferry_check(a, f.type));
    ck_assert_uint_eq(ledger_of(f.type).handoffs, 3);
    /* both handles on w1: one each (b's first move) */
    uses_on(w1, a, f.type);
    uses_on(w1, b, f.type);
    ck_assert_uint_eq(ledger_of(f.type).handoffs, 5);
    /* a drop on w2 is a use there too */
    expect_ok(worker_run(w2, OP_DROP, a, f.type, NULL, NULL, NULL, 0));
    expect_ok(worker_run(w2, OP_DROP, b, f.type, NULL, NULL, NULL, 0));
    ferry_counts c = ledger_of(f.type);
    ck_assert_uint_eq(c.handoffs, 7);
    ck_assert_uint_eq(c.live, 0);
    ck_assert_uint_eq(c.dropped_by_c, 2);
    ck_assert_uint_eq(c.borrows, 5);
    assert_all_moved_like_type(&all0, &type0, f.type);
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    worker_stop(w1);
    worker_stop(w2);
}
END_TEST

START_TEST(ledger_ferry_ledger_null_out_and_any_type) {
    expect_fail(ferry_ledger(NULL, NULL), FERRY_E_NULL, "ferry_ledger");
    ferry_counts c;
    expect_ok(ferry_ledger(NULL, &c));
    counts_assert_identity(&c);
    ck_assert_uint_eq(c.live, ferry_live());
}
END_TEST

int main(void) {
    Suite *s = suite_create("ledger");
    ADD_CASE(s, ledger_fresh_type_counts_zero, 30);
    ADD_CASE(s, ledger_counts_every_operation, 30);
    ADD_CASE(s, ledger_peak_live_exact_single_thread, 30);
    ADD_CASE(s, ledger_peak_exact_across_sequential_threads, 30);
    ADD_CASE(s, ledger_drop_by_rust_counted_per_kind, 30);
    ADD_CASE(s, ledger_all_types_is_sum_of_types, 30);
    ADD_CASE(s, ledger_handoffs_counted_per_change_of_thread, 30);
    ADD_CASE(s, ledger_ferry_ledger_null_out_and_any_type, 30);
    return run_suite(s);
}
