/* test_limits.c — slot retirement at generation wrap, FERRY_E_LIMIT for a
 * full table and for the borrow counter, type name length. Uses the hooks of
 * ferry_testing.h. */
#include "support.h"

#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)

START_TEST(limits_retired_slot_never_handed_out_again) {
    fx f;
    fx_init(&f, "lim_retire", SS, FX_PLAIN);
    size_t live0 = ferry_live();
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    uint32_t idx = ferry__test_slot_index(h);
    size_t retired0 = ferry__test_retired_slots();

    ferry_handle aged = ferry__test_age_slot(h);
    ck_assert_uint_ne(aged.bits, 0);
    ck_assert_uint_ne(aged.bits, h.bits);
    ck_assert_uint_eq(ferry__test_slot_index(aged), idx);
    ferry_status s = ferry_check(h, NULL);
    ck_assert_msg(s == FERRY_E_STALE || s == FERRY_E_INVALID, "old bits after aging: %s",
                  ferry_status_name(s));
    expect_ok(ferry_check(aged, f.type));
    ck_assert_uint_eq(ferry_live(), live0 + 1);
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0);

    expect_ok(ferry_drop(aged));
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0 + 1);
    ck_assert_uint_eq(ferry_live(), live0);
    expect_fail(ferry_drop(aged), FERRY_E_STALE, "ferry_drop");

    /* >= 100000 creates, in batches that are live together and then freed,
     * never get the retired index */
    enum { BATCH = 1000, ROUNDS = 100 };
    static ferry_handle batch[BATCH];
    long creates = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int n = (r % 2) ? BATCH : 1 + r; /* vary the depth of the free list */
        for (int i = 0; i < n; i++) {
            fx_obj *o = fx_new(&f, i);
            ferry_status st = (i % 3 == 0) ? ferry_share(f.type, o, &batch[i])
                                           : ferry_box(f.type, o, &batch[i]);
            require(st == FERRY_OK, "create %ld: %s", creates, ferry_status_name(st));
            require(ferry__test_slot_index(batch[i]) != idx,
                    "retired slot %u handed out again at create %ld", idx, creates);
            creates++;
        }
        for (int i = 0; i < n; i++)
            require(ferry_drop(batch[i]) == FERRY_OK, "drop %d of round %d", i, r);
    }
    for (long i = creates; i < 100000; i++) {
        ferry_handle x;
        require(ferry_box(f.type, fx_new(&f, 0), &x) == FERRY_OK, "create");
        require(ferry__test_slot_index(x) != idx, "retired slot handed out again");
        require(ferry_drop(x) == FERRY_OK, "drop");
        creates++;
    }
    ck_assert_int_ge(creates, 100000);
    ck_assert_int_eq(fx_count(&f.released), creates + 1);
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0 + 1);
    s = ferry_check(aged, NULL);
    ck_assert_msg(s == FERRY_E_STALE || s == FERRY_E_INVALID, "retired handle: %s",
                  ferry_status_name(s));
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(limits_retired_on_every_way_of_ending) {
    fx f;
    fx_init(&f, "lim_retire_end", SS, FX_ALL);
    size_t retired0 = ferry__test_retired_slots();
    ferry_handle s, w, l;
    void *unit;
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);

    /* take */
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &s));
    s = ferry__test_age_slot(s);
    ck_assert_uint_ne(s.bits, 0);
    expect_ok(ferry_take(s, f.type, &unit));
    fx_release(unit);
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0 + 1);

    /* revoke */
    expect_ok(ferry_lend(f.type, &lent, &l));
    l = ferry__test_age_slot(l);
    ck_assert_uint_ne(l.bits, 0);
    const void *p;
    expect_ok(ferry_borrow(l, f.type, &p));
    ck_assert_ptr_eq(p, &lent);
    expect_ok(ferry_unborrow(l));
    expect_ok(ferry_revoke(l));
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0 + 2);

    /* drop of a weak handle, by Rust */
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_downgrade(s, &w));
    w = ferry__test_age_slot(w);
    ck_assert_uint_ne(w.bits, 0);
    ferry_handle up;
    expect_ok(ferry_upgrade(w, &up));
    expect_ok(ferry_drop(up));
    expect_ok(ferry_drop_at(w, FERRY_BY_RUST, FERRY_SITE));
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0 + 3);
    expect_ok(ferry_drop(s));
    ck_assert_uint_eq(ferry__test_retired_slots(), retired0 + 3);
    ck_assert_int_eq(fx_count(&f.freed), 2);
}
END_TEST

START_TEST(limits_age_slot_of_dead_or_forged_is_null) {
    fx f;
    fx_init(&f, "lim_age_null", SS, FX_PLAIN);
    ck_assert_uint_eq(ferry__test_age_slot(FERRY_NULL_HANDLE).bits, 0);
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    ferry_handle forged = {h.bits ^ 0xff00000000000000ull};
    ck_assert_uint_eq(ferry__test_age_slot(forged).bits, 0);
    expect_ok(ferry_drop(h));
    ck_assert_uint_eq(ferry__test_age_slot(h).bits, 0);
}
END_TEST

/* Creates shared handles until the table refuses; returns how many. */
static size_t fill(fx *f, ferry_handle *hs, size_t cap, ferry_status *last) {
    size_t n = 0;
    fx_obj *o = fx_new(f, 0);
    *last = FERRY_OK;
    while (n < cap) {
        ferry_status st = ferry_share(f->type, o, &hs[n]);
        if (st != FERRY_OK) {
            *last = st;
            break;
        }
        n++;
        o = fx_new(f, (int)n);
    }
    fx_release(o); /* the one the table refused stays ours */
    return n;
}

START_TEST(limits_slot_limit_gives_limit_until_a_drop) {
    enum { N = 16 };
    fx f;
    fx_init(&f, "lim_full", SS, FX_RETAIN);
    size_t live0 = ferry_live();
    size_t cap = 1u << 20;
    ferry_handle *hs = calloc(cap, sizeof *hs);
    ck_assert_ptr_nonnull(hs);

    uint32_t issued0 = ferry__test_slots_issued();
    ferry__test_set_slot_limit(issued0 + N);
    ferry_status last;
    size_t n = fill(&f, hs, cap, &last);
    ck_assert_msg(last == FERRY_E_LIMIT, "after %zu creates: %s", n, ferry_status_name(last));
    msg_assert_prefix(FERRY_E_LIMIT, "ferry_share");
    ck_assert_uint_ge(n, N);
    ck_assert_uint_le(ferry__test_slots_issued(), issued0 + N);
    ck_assert_uint_eq(ferry_live(), live0 + n);

    /* every kind of creation is refused */
    fx_obj *o = fx_new(&f, 0);
    ferry_handle out = {0x77};
    expect_fail(ferry_box(f.type, o, &out), FERRY_E_LIMIT, "ferry_box");
    expect_fail(ferry_local(f.type, o, &out), FERRY_E_LIMIT, "ferry_local");
    expect_fail(ferry_lend_mut(f.type, o, &out), FERRY_E_LIMIT, "ferry_lend_mut");
    expect_fail(ferry_clone(hs[0], &out), FERRY_E_LIMIT, "ferry_clone");
    ck_assert_uint_eq(out.bits, 0x77);

    /* a drop frees one slot: one create works, the next is refused */
    expect_ok(ferry_drop(hs[n - 1]));
    expect_ok(ferry_box(f.type, o, &hs[n - 1]));
    fx_obj *o2 = fx_new(&f, 0);
    expect_fail(ferry_box(f.type, o2, &out), FERRY_E_LIMIT, "ferry_box");
    expect_ok(ferry_drop(hs[n - 1]));
    expect_ok(ferry_clone(hs[0], &hs[n - 1]));
    expect_fail(ferry_clone(hs[0], &out), FERRY_E_LIMIT, "ferry_clone");

    /* all handles still work */
    for (size_t i = 0; i < n; i++) expect_ok(ferry_check(hs[i], f.type));
    for (size_t i = 0; i < n; i++) expect_ok(ferry_drop(hs[i]));
    ck_assert_uint_eq(ferry_live(), live0);

    /* a limit below what was issued: issued slots stay usable */
    ferry__test_set_slot_limit(1);
    size_t m = fill(&f, hs, cap, &last);
    ck_assert_int_eq(last, FERRY_E_LIMIT);
    ck_assert_uint_ge(m, n);
    for (size_t i = 0; i < m; i++) expect_ok(ferry_drop(hs[i]));

    /* restored: more handles than ever before fit */
    ferry__test_set_slot_limit(0);
    size_t want = m + 2 * N;
    for (size_t i = 0; i < want; i++) expect_ok(ferry_box(f.type, fx_new(&f, 0), &hs[i]));
    ck_assert_uint_gt(ferry__test_slots_issued(), issued0 + N);
    for (size_t i = 0; i < want; i++) expect_ok(ferry_drop(hs[i]));
    ck_assert_uint_eq(ferry_live(), live0);
    fx_release(o2);
    /* every object ended: one release per object plus one per retain */
    ck_assert_int_eq(fx_count(&f.destroyed), fx_count(&f.released) - fx_count(&f.retained));
    ck_assert_int_eq(fx_count(&f.freed), fx_count(&f.destroyed));
    ck_assert_int_eq(fx_count(&f.bad), 0);
    free(hs);
}
END_TEST

START_TEST(limits_borrow_count_limit) {
    fx f;
    fx_init(&f, "lim_borrows", SS, FX_PLAIN);
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    const long max = (1L << 20) - 1;
    const void *p = NULL;
    for (long i = 0; i < max; i++) {
        ferry_status s = ferry_borrow(h, f.type, &p);
        require(s == FERRY_OK, "borrow %ld: %s", i, ferry_status_name(s));
    }
    const void *q = (const void *)&h;
    expect_fail(ferry_borrow(h, f.type, &q), FERRY_E_LIMIT, "ferry_borrow");
    ck_assert_ptr_eq(q, (const void *)&h);
    expect_fail(ferry_drop(h), FERRY_E_BORROWED, "ferry_drop");
    ck_assert_uint_eq(ledger_of(f.type).borrows, (uint64_t)max);
    for (long i = 0; i < max; i++) {
        ferry_status s = ferry_unborrow(h);
        require(s == FERRY_OK, "unborrow %ld: %s", i, ferry_status_name(s));
    }
    expect_status(ferry_unborrow(h), FERRY_E_BORROWED);
    void *m;
    expect_ok(ferry_borrow_mut(h, f.type, &m));
    expect_ok(ferry_unborrow(h));
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(limits_type_name_length) {
    char name[300];
    const ferry_type *t = NULL;
    ferry_type_desc d = {.name = name, .flags = SS, .release = fx_release};
    memset(name, 'n', 255);
    memcpy(name, "test.lim.", 9);
    name[255] = '\0';
    expect_ok(ferry_type_register(&d, &t));
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(ferry_type_name(t), name);
    memset(name, 'm', 256);
    memcpy(name, "test.lim.", 9);
    name[256] = '\0';
    const ferry_type *t2 = NULL;
    expect_fail(ferry_type_register(&d, &t2), FERRY_E_LIMIT, "ferry_type_register");
    ck_assert_ptr_null(t2);
    ck_assert_ptr_null(ferry_type_find(name));
}
END_TEST

int main(void) {
    Suite *s = suite_create("limits");
    ADD_CASE(s, limits_retired_slot_never_handed_out_again, 120);
    ADD_CASE(s, limits_retired_on_every_way_of_ending, 30);
    ADD_CASE(s, limits_age_slot_of_dead_or_forged_is_null, 30);
    ADD_CASE(s, limits_slot_limit_gives_limit_until_a_drop, 60);
    ADD_CASE(s, limits_borrow_count_limit, 120);
    ADD_CASE(s, limits_type_name_length, 30);
    return run_suite(s);
}
