/* test_unchanged.c — "a failed operation changes nothing": after each failing
 * call the ledgers (per type and all types), ferry_live(), the fixture's
 * destructor counters, the handle's borrow state and usability are exactly as
 * before, and the out-parameter is untouched. */
#include "support.h"

#include <pthread.h>
#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)
#define SENTINEL_BITS 0x5a5a5a5a5a5a5a5aull
#define SENTINEL_PTR ((void *)(uintptr_t)0x5a5a5a50u)

/* Runs the failing call with sentinel outputs and asserts the status and
 * that nothing moved. */
#define expect_unchanged(fxp, call, expect)                                                  \
    do {                                                                                     \
        snap before_, after_;                                                                \
        snap_take(&before_, (fxp));                                                          \
        expect_status((call), (expect));                                                     \
        snap_take(&after_, (fxp));                                                           \
        snap_assert_eq(&before_, &after_);                                                   \
        ck_assert_uint_eq(out_h.bits, SENTINEL_BITS);                                        \
        ck_assert_ptr_eq(out_p, SENTINEL_PTR);                                               \
        ck_assert_ptr_eq(out_c, (const void *)SENTINEL_PTR);                                 \
    } while (0)

#define OUTS                                                                                 \
    ferry_handle out_h = {SENTINEL_BITS};                                                    \
    void *out_p = SENTINEL_PTR;                                                              \
    const void *out_c = SENTINEL_PTR;                                                        \
    (void)out_h;                                                                             \
    (void)out_p;                                                                             \
    (void)out_c

/* Exactly n shared borrows are outstanding on h (of a kind that allows
 * borrow): n unborrows succeed and the next one fails. Leaves none. */
static void assert_borrows_then_clear(ferry_handle h, int n) {
    for (int i = 0; i < n; i++) expect_ok(ferry_unborrow(h));
    expect_status(ferry_unborrow(h), FERRY_E_BORROWED);
}

START_TEST(unchanged_drop_take_while_borrowed) {
    fx f;
    fx_init(&f, "u_drop_borrowed", SS, FX_ALL);
    OUTS;
    ferry_handle u;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_ok(ferry_borrow(u, f.type, &out_c));
    out_c = SENTINEL_PTR;
    expect_unchanged(&f, ferry_drop(u), FERRY_E_BORROWED);
    expect_unchanged(&f, ferry_drop_at(u, FERRY_BY_RUST, FERRY_SITE), FERRY_E_BORROWED);
    expect_unchanged(&f, ferry_take(u, f.type, &out_p), FERRY_E_BORROWED);
    expect_unchanged(&f, ferry_borrow_mut(u, f.type, &out_p), FERRY_E_BORROWED);
    assert_borrows_then_clear(u, 1);
    expect_ok(ferry_check(u, f.type));
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(unchanged_borrow_conflicts_keep_borrow_state) {
    fx f;
    fx_init(&f, "u_borrow_conflicts", SS, FX_ALL);
    OUTS;
    ferry_handle u;
    const void *p;
    void *m;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    /* two shared borrows: exclusive borrow fails, count stays two */
    expect_ok(ferry_borrow(u, f.type, &p));
    expect_ok(ferry_borrow(u, f.type, &p));
    expect_unchanged(&f, ferry_borrow_mut(u, f.type, &out_p), FERRY_E_BORROWED);
    assert_borrows_then_clear(u, 2);
    /* exclusive borrow: shared and exclusive borrows fail, one unborrow ends it */
    expect_ok(ferry_borrow_mut(u, f.type, &m));
    expect_unchanged(&f, ferry_borrow(u, f.type, &out_c), FERRY_E_BORROWED);
    expect_unchanged(&f, ferry_borrow_mut(u, f.type, &out_p), FERRY_E_BORROWED);
    assert_borrows_then_clear(u, 1);
    /* none: unborrow fails and nothing is left half-borrowed */
    expect_unchanged(&f, ferry_unborrow(u), FERRY_E_BORROWED);
    expect_ok(ferry_borrow_mut(u, f.type, &m));
    expect_ok(ferry_unborrow(u));
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(unchanged_revoke_while_borrowed) {
    fx f;
    fx_init(&f, "u_revoke", SS, FX_ALL);
    OUTS;
    fx_obj o;
    fx_obj_init_lent(&o, &f, 0);
    ferry_handle l;
    const void *p;
    expect_ok(ferry_lend_mut(f.type, &o, &l));
    expect_ok(ferry_borrow(l, f.type, &p));
    expect_unchanged(&f, ferry_revoke(l), FERRY_E_BORROWED);
    assert_borrows_then_clear(l, 1);
    expect_ok(ferry_revoke(l));
}
END_TEST

START_TEST(unchanged_double_drop_never_touches_other_clone) {
    fx f;
    fx_init(&f, "u_double_drop", SS, FX_ALL);
    OUTS;
    fx_obj *o = fx_new(&f, 0);
    ferry_handle a, b;
    expect_ok(ferry_share(f.type, o, &a));
    expect_ok(ferry_clone(a, &b));
    expect_ok(ferry_drop(a));
    ck_assert_int_eq(atomic_load(&o->strong), 1);
    for (int i = 0; i < 3; i++) {
        expect_unchanged(&f, ferry_drop(a), FERRY_E_STALE);
        expect_unchanged(&f, ferry_drop_at(a, FERRY_BY_RUST, FERRY_SITE), FERRY_E_STALE);
        expect_unchanged(&f, ferry_take(a, f.type, &out_p), FERRY_E_STALE);
        expect_unchanged(&f, ferry_clone(a, &out_h), FERRY_E_STALE);
        expect_unchanged(&f, ferry_borrow(a, f.type, &out_c), FERRY_E_STALE);
    }
    ck_assert_int_eq(atomic_load(&o->strong), 1);
    ck_assert_int_eq(fx_count(&f.destroyed), 0);
    const void *p;
    expect_ok(ferry_borrow(b, f.type, &p));
    ck_assert_ptr_eq(p, o);
    expect_ok(ferry_unborrow(b));
    expect_ok(ferry_drop(b));
    ck_assert_int_eq(fx_count(&f.released), 2);
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
}
END_TEST

START_TEST(unchanged_type_mismatch) {
    fx f, g;
    fx_init(&f, "u_type_f", SS, FX_ALL);
    fx_init(&g, "u_type_g", SS, FX_ALL);
    OUTS;
    ferry_handle u;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_unchanged(&f, ferry_borrow(u, g.type, &out_c), FERRY_E_TYPE);
    expect_unchanged(&f, ferry_borrow_mut(u, g.type, &out_p), FERRY_E_TYPE);
    expect_unchanged(&f, ferry_take(u, g.type, &out_p), FERRY_E_TYPE);
    expect_unchanged(&f, ferry_check(u, g.type), FERRY_E_TYPE);
    expect_unchanged(&g, ferry_borrow(u, g.type, &out_c), FERRY_E_TYPE);
    /* no borrow was left behind */
    expect_status(ferry_unborrow(u), FERRY_E_BORROWED);
    void *m;
    expect_ok(ferry_borrow_mut(u, f.type, &m));
    expect_ok(ferry_unborrow(u));
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_int_eq(fx_count(&g.released), 0);
}
END_TEST

START_TEST(unchanged_kind_failures) {
    fx f;
    fx_init(&f, "u_kind", SS, FX_ALL);
    OUTS;
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    ferry_handle u, s, w, l;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_lend(f.type, &lent, &l));

    expect_unchanged(&f, ferry_clone(u, &out_h), FERRY_E_KIND);
    expect_unchanged(&f, ferry_downgrade(u, &out_h), FERRY_E_KIND);
    expect_unchanged(&f, ferry_upgrade(u, &out_h), FERRY_E_KIND);
    expect_unchanged(&f, ferry_revoke(u), FERRY_E_KIND);
    expect_unchanged(&f, ferry_upgrade(s, &out_h), FERRY_E_KIND);
    expect_unchanged(&f, ferry_borrow_mut(s, f.type, &out_p), FERRY_E_KIND);
    expect_unchanged(&f, ferry_revoke(s), FERRY_E_KIND);
    expect_unchanged(&f, ferry_borrow(w, f.type, &out_c), FERRY_E_KIND);
    expect_unchanged(&f, ferry_clone(w, &out_h), FERRY_E_KIND);
    expect_unchanged(&f, ferry_revoke(w), FERRY_E_KIND);
    expect_unchanged(&f, ferry_drop(l), FERRY_E_KIND);
    expect_unchanged(&f, ferry_take(l, f.type, &out_p), FERRY_E_KIND);
    expect_unchanged(&f, ferry_clone(l, &out_h), FERRY_E_KIND);
    expect_unchanged(&f, ferry_borrow_mut(l, f.type, &out_p), FERRY_E_KIND);

    /* all four are still fully usable */
    void *m;
    const void *p;
    expect_ok(ferry_borrow_mut(u, f.type, &m));
    expect_ok(ferry_unborrow(u));
    expect_ok(ferry_borrow(s, f.type, &p));
    expect_ok(ferry_unborrow(s));
    expect_ok(ferry_borrow(l, f.type, &p));
    expect_ok(ferry_unborrow(l));
    ferry_handle s2;
    expect_ok(ferry_upgrade(w, &s2));
    expect_ok(ferry_drop(s2));
    expect_ok(ferry_drop(u));
    expect_ok(ferry_drop(s));
    expect_ok(ferry_drop(w));
    expect_ok(ferry_revoke(l));
    ck_assert_int_eq(fx_count(&f.destroyed), 2);
    ck_assert_int_eq(fx_count(&f.freed), 2);
}
END_TEST

START_TEST(unchanged_upgrade_expired) {
    fx f;
    fx_init(&f, "u_expired", SS, FX_ALL);
    OUTS;
    ferry_handle s, w;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_drop(s));
    /* the type's upgrade is called and answers NULL; nothing else moves */
    snap before, after;
    snap_take(&before, &f);
    expect_status(ferry_upgrade(w, &out_h), FERRY_E_EXPIRED);
    snap_take(&after, &f);
    ck_assert_int_eq(after.upgrade_failed, before.upgrade_failed + 1);
    after.upgrade_failed = before.upgrade_failed;
    snap_assert_eq(&before, &after);
    ck_assert_uint_eq(out_h.bits, SENTINEL_BITS);
    expect_ok(ferry_check(w, f.type));
    expect_ok(ferry_drop(w));
    ck_assert_int_eq(fx_count(&f.freed), 1);
}
END_TEST

START_TEST(unchanged_create_failures_leave_object_with_caller) {
    fx f;
    fx_init(&f, "u_create", SS, FX_ALL);
    OUTS;
    fx_obj *o = fx_new(&f, 0);
    expect_unchanged(&f, ferry_box(NULL, o, &out_h), FERRY_E_NULL);
    expect_unchanged(&f, ferry_box(f.type, NULL, &out_h), FERRY_E_NULL);
    expect_unchanged(&f, ferry_share(NULL, o, &out_h), FERRY_E_NULL);
    expect_unchanged(&f, ferry_local(NULL, o, &out_h), FERRY_E_NULL);
    expect_unchanged(&f, ferry_lend(NULL, o, &out_h), FERRY_E_NULL);
    expect_unchanged(&f, ferry_lend_mut(f.type, NULL, &out_h), FERRY_E_NULL);
    ck_assert_int_eq(atomic_load(&o->strong), 1);
    fx_release(o);
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
}
END_TEST

START_TEST(unchanged_invalid_and_null_handles) {
    fx f;
    fx_init(&f, "u_invalid", SS, FX_ALL);
    OUTS;
    ferry_handle s;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    ferry_handle forged = {s.bits ^ 0xff00000000000000ull};
    expect_unchanged(&f, ferry_drop(forged), FERRY_E_INVALID);
    expect_unchanged(&f, ferry_clone(forged, &out_h), FERRY_E_INVALID);
    expect_unchanged(&f, ferry_borrow(forged, f.type, &out_c), FERRY_E_INVALID);
    expect_unchanged(&f, ferry_take(forged, f.type, &out_p), FERRY_E_INVALID);
    expect_unchanged(&f, ferry_drop(FERRY_NULL_HANDLE), FERRY_E_NULL);
    expect_unchanged(&f, ferry_clone(FERRY_NULL_HANDLE, &out_h), FERRY_E_NULL);
    expect_unchanged(&f, ferry_clone(s, NULL), FERRY_E_NULL);
    expect_unchanged(&f, ferry_borrow(s, f.type, NULL), FERRY_E_NULL);
    expect_status(ferry_unborrow(s), FERRY_E_BORROWED);
    expect_ok(ferry_drop(s));
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_int_eq(fx_count(&f.retained), 0);
}
END_TEST

/* --- other threads --------------------------------------------------- */

START_TEST(unchanged_thread_failures) {
    fx f, n;
    fx_init(&f, "u_thread_local", SS, FX_ALL);
    fx_init(&n, "u_thread_nosend", 0, FX_ALL);
    ferry_handle l, u;
    expect_ok(ferry_local(f.type, fx_new(&f, 0), &l));
    expect_ok(ferry_box(n.type, fx_new(&n, 0), &u));
    const op ops[] = {OP_CHECK, OP_BORROW, OP_CLONE, OP_DOWNGRADE, OP_DROP, OP_TAKE};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        snap bf, af, bn, an;
        snap_take(&bf, &f);
        snap_take(&bn, &n);
        ferry_handle out = {SENTINEL_BITS};
        expect_status(run_op_on_thread(ops[i], l, f.type, &out, NULL, 0), FERRY_E_THREAD);
        ck_assert_uint_eq(out.bits, SENTINEL_BITS);
        expect_status(run_op_on_thread(ops[i], u, n.type, &out, NULL, 0), FERRY_E_THREAD);
        ck_assert_uint_eq(out.bits, SENTINEL_BITS);
        snap_take(&af, &f);
        snap_take(&an, &n);
        snap_assert_eq(&bf, &af); /* handoffs included: a refused use is no use */
        snap_assert_eq(&bn, &an);
    }
    /* usable as before on the owning thread, with no borrow left behind */
    expect_status(ferry_unborrow(l), FERRY_E_BORROWED);
    expect_status(ferry_unborrow(u), FERRY_E_BORROWED);
    void *m;
    expect_ok(ferry_borrow_mut(u, n.type, &m));
    expect_ok(ferry_unborrow(u));
    expect_ok(ferry_drop(l));
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_int_eq(fx_count(&n.released), 1);
}
END_TEST

typedef struct nosync_job {
    ferry_handle h;
    const ferry_type *t;
    ferry_status st;
} nosync_job;

static void *nosync_borrow(void *arg) {
    nosync_job *j = arg;
    const void *p = SENTINEL_PTR;
    j->st = ferry_borrow(j->h, j->t, &p);
    if (j->st != FERRY_OK && p != SENTINEL_PTR) j->st = (ferry_status)-2; /* out written */
    if (j->st == FERRY_OK) ferry_unborrow(j->h);
    return NULL;
}

START_TEST(unchanged_not_sync_second_thread_borrow) {
    fx f;
    fx_init(&f, "u_nosync", FERRY_SEND, FX_ALL);
    ferry_handle s;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    const void *p;
    expect_ok(ferry_borrow(s, f.type, &p));
    snap before, after;
    snap_take(&before, &f);
    nosync_job j = {.h = s, .t = f.type};
    run_on_thread(nosync_borrow, &j);
    ck_assert_msg(j.st == FERRY_E_THREAD, "second thread's borrow: %s",
                  ferry_status_name(j.st));
    snap_take(&after, &f);
    snap_assert_eq(&before, &after);
    assert_borrows_then_clear(s, 1);
    expect_ok(ferry_drop(s));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

/* --- limits and registration ----------------------------------------- */

/* A table capped and filled (with handles of another type), for the
 * FERRY_E_LIMIT cases. */
typedef struct full_table {
    fx filler;
    ferry_handle *hs;
    size_t n;
} full_table;

static void fill_table(full_table *ft) {
    fx_init(&ft->filler, "u_limit_filler", SS, FX_PLAIN);
    ferry__test_set_slot_limit(ferry__test_slots_issued() + 2);
    size_t cap = 1u << 20;
    ft->hs = calloc(cap, sizeof *ft->hs);
    ck_assert_ptr_nonnull(ft->hs);
    ft->n = 0;
    fx_obj *o = fx_new(&ft->filler, 0);
    ferry_status st = FERRY_OK;
    while (ft->n < cap && (st = ferry_box(ft->filler.type, o, &ft->hs[ft->n])) == FERRY_OK) {
        ft->n++;
        o = fx_new(&ft->filler, 0);
    }
    ck_assert_int_eq(st, FERRY_E_LIMIT);
    fx_release(o);
}

static void empty_table(full_table *ft) {
    for (size_t i = 0; i < ft->n; i++) expect_ok(ferry_drop(ft->hs[i]));
    ferry__test_set_slot_limit(0);
    free(ft->hs);
    ck_assert_int_eq(fx_count(&ft->filler.destroyed), (long)ft->n + 1);
}

START_TEST(unchanged_limit_create_leaves_object_with_caller) {
    fx f;
    fx_init(&f, "u_limit_create", SS, FX_ALL);
    OUTS;
    full_table ft;
    fill_table(&ft);
    fx_obj *o = fx_new(&f, 1);
    for (int i = 0; i < 3; i++) {
        expect_unchanged(&f, ferry_box(f.type, o, &out_h), FERRY_E_LIMIT);
        expect_unchanged(&f, ferry_share(f.type, o, &out_h), FERRY_E_LIMIT);
        expect_unchanged(&f, ferry_local(f.type, o, &out_h), FERRY_E_LIMIT);
        expect_unchanged(&f, ferry_lend(f.type, o, &out_h), FERRY_E_LIMIT);
        expect_unchanged(&f, ferry_lend_mut(f.type, o, &out_h), FERRY_E_LIMIT);
    }
    ck_assert_int_eq(atomic_load(&o->strong), 1);
    empty_table(&ft);
    fx_release(o);
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
}
END_TEST

/* clone, downgrade or upgrade into a full table: the type's functions are
 * not called (or their effect is not visible): no retain/release pair, no
 * downgrade/release_weak pair, no upgrade/release pair. */
static void limit_derive_case(op o) {
    fx f;
    fx_init(&f, "u_limit_derive", SS, FX_ALL);
    OUTS;
    ferry_handle s, w;
    fx_obj *obj = fx_new(&f, 0);
    expect_ok(ferry_share(f.type, obj, &s));
    expect_ok(ferry_downgrade(s, &w));
    full_table ft;
    fill_table(&ft);
    ferry_handle src = o == OP_UPGRADE ? w : s;
    for (int i = 0; i < 3; i++)
        expect_unchanged(&f, run_op(o, src, f.type, &out_h, NULL), FERRY_E_LIMIT);
    msg_assert_prefix(FERRY_E_LIMIT, op_name(o));
    ck_assert_int_eq(atomic_load(&obj->strong), 1);
    ck_assert_int_eq(atomic_load(&obj->weak), 2);
    empty_table(&ft);
    expect_ok(ferry_drop(s));
    expect_ok(ferry_drop(w));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.freed), 1);
}

START_TEST(unchanged_limit_clone_calls_no_retain_release) { limit_derive_case(OP_CLONE); }
END_TEST

START_TEST(unchanged_limit_downgrade_calls_no_downgrade_release_weak) {
    limit_derive_case(OP_DOWNGRADE);
}
END_TEST

START_TEST(unchanged_limit_upgrade_calls_no_upgrade_release) { limit_derive_case(OP_UPGRADE); }
END_TEST

START_TEST(unchanged_type_register_conflict) {
    fx f;
    fx_init(&f, "u_register", SS, FX_ALL);
    ferry_type_desc d = fx_desc(&f);
    d.flags = FERRY_SEND;
    const ferry_type *t = (const ferry_type *)SENTINEL_PTR;
    expect_status(ferry_type_register(&d, &t), FERRY_E_TYPE);
    ck_assert_ptr_eq(t, (const ferry_type *)SENTINEL_PTR);
    ck_assert_ptr_eq(ferry_type_find(f.name), f.type);
    /* the registered type still works with its own flags (SYNC borrow
     * from another thread while this one holds a borrow) */
    ferry_handle s;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    const void *p;
    expect_ok(ferry_borrow(s, f.type, &p));
    nosync_job j = {.h = s, .t = f.type};
    run_on_thread(nosync_borrow, &j);
    ck_assert_int_eq(j.st, FERRY_OK);
    expect_ok(ferry_unborrow(s));
    expect_ok(ferry_drop(s));
}
END_TEST

START_TEST(unchanged_success_keeps_last_error) {
    fx f;
    fx_init(&f, "u_last_error", SS, FX_ALL);
    ferry_handle s, c;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_status(ferry_unborrow(s), FERRY_E_BORROWED);
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", ferry_last_error());
    ck_assert_uint_gt(strlen(saved), 0);
    const void *p;
    expect_ok(ferry_clone(s, &c));
    expect_ok(ferry_borrow(c, f.type, &p));
    expect_ok(ferry_unborrow(c));
    expect_ok(ferry_check(s, NULL));
    expect_ok(ferry_drop(c));
    ferry_counts counts;
    expect_ok(ferry_ledger(NULL, &counts));
    ck_assert_str_eq(ferry_last_error(), saved);
    expect_ok(ferry_drop(s));
    ck_assert_str_eq(ferry_last_error(), saved);
}
END_TEST

int main(void) {
    Suite *s = suite_create("unchanged");
    ADD_CASE(s, unchanged_drop_take_while_borrowed, 30);
    ADD_CASE(s, unchanged_borrow_conflicts_keep_borrow_state, 30);
    ADD_CASE(s, unchanged_revoke_while_borrowed, 30);
    ADD_CASE(s, unchanged_double_drop_never_touches_other_clone, 30);
    ADD_CASE(s, unchanged_type_mismatch, 30);
    ADD_CASE(s, unchanged_kind_failures, 30);
    ADD_CASE(s, unchanged_upgrade_expired, 30);
    ADD_CASE(s, unchanged_create_failures_leave_object_with_caller, 30);
    ADD_CASE(s, unchanged_invalid_and_null_handles, 30);
    ADD_CASE(s, unchanged_thread_failures, 30);
    ADD_CASE(s, unchanged_not_sync_second_thread_borrow, 30);
    ADD_CASE(s, unchanged_limit_create_leaves_object_with_caller, 60);
    ADD_CASE(s, unchanged_limit_clone_calls_no_retain_release, 60);
    ADD_CASE(s, unchanged_limit_downgrade_calls_no_downgrade_release_weak, 60);
    ADD_CASE(s, unchanged_limit_upgrade_calls_no_upgrade_release, 60);
    ADD_CASE(s, unchanged_type_register_conflict, 30);
    ADD_CASE(s, unchanged_success_keeps_last_error, 30);
    return run_suite(s);
}
