/* test_lifecycle.c — each kind's whole life, and type registration. */
#include "support.h"

#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)

START_TEST(lifecycle_unique_box_borrow_drop_releases_once) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "unique", SS, FX_PLAIN);
    fx_obj *o = fx_new(&f, 7);
    ferry_handle h = FERRY_NULL_HANDLE;
    expect_ok(ferry_box(f.type, o, &h));
    ck_assert_uint_ne(h.bits, 0);
    ck_assert_uint_eq(ferry_live(), live0 + 1);
    expect_ok(ferry_check(h, f.type));
    expect_ok(ferry_check(h, NULL));

    const void *ro = NULL;
    expect_ok(ferry_borrow(h, f.type, &ro));
    ck_assert_ptr_eq(ro, o);
    ck_assert_int_eq(((const fx_obj *)ro)->value, 7);
    expect_ok(ferry_unborrow(h));

    void *rw = NULL;
    expect_ok(ferry_borrow_mut(h, f.type, &rw));
    ck_assert_ptr_eq(rw, o);
    ((fx_obj *)rw)->value = 8;
    expect_ok(ferry_unborrow(h));
    expect_ok(ferry_borrow(h, f.type, &ro));
    ck_assert_int_eq(((const fx_obj *)ro)->value, 8);
    expect_ok(ferry_unborrow(h));

    ck_assert_int_eq(fx_count(&f.released), 0);
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.freed), 1);
    ck_assert_uint_eq(ferry_live(), live0);
    expect_status(ferry_check(h, f.type), FERRY_E_STALE);
    expect_status(ferry_drop(h), FERRY_E_STALE);
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

START_TEST(lifecycle_unique_take_moves_unit_out) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "unique_take", SS, FX_PLAIN);
    fx_obj *o = fx_new(&f, 1);
    ferry_handle h;
    expect_ok(ferry_box(f.type, o, &h));
    void *got = NULL;
    expect_ok(ferry_take(h, f.type, &got));
    ck_assert_ptr_eq(got, o);
    ck_assert_int_eq(fx_count(&f.released), 0); /* the unit moved out, not released */
    ck_assert_uint_eq(ferry_live(), live0);
    expect_status(ferry_check(h, NULL), FERRY_E_STALE);
    expect_status(ferry_take(h, f.type, &got), FERRY_E_STALE);
    expect_status(ferry_drop(h), FERRY_E_STALE);
    ck_assert_int_eq(fx_count(&f.released), 0);
    fx_release(got); /* the caller owns it now */
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
}
END_TEST

START_TEST(lifecycle_shared_clone_is_new_handle_and_units_balance) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "shared", SS, FX_RETAIN);
    fx_obj *o = fx_new(&f, 3);
    ferry_handle a, b, c;
    expect_ok(ferry_share(f.type, o, &a));
    expect_ok(ferry_clone(a, &b));
    expect_ok(ferry_clone(b, &c));
    ck_assert_uint_ne(a.bits, b.bits);
    ck_assert_uint_ne(a.bits, c.bits);
    ck_assert_uint_ne(b.bits, c.bits);
    ck_assert_int_eq(fx_count(&f.retained), 2);
    ck_assert_int_eq(atomic_load(&o->strong), 3);
    ck_assert_uint_eq(ferry_live(), live0 + 3);

    const void *p1, *p2;
    expect_ok(ferry_borrow(a, f.type, &p1));
    expect_ok(ferry_borrow(c, f.type, &p2));
    ck_assert_ptr_eq(p1, o);
    ck_assert_ptr_eq(p2, o);
    expect_ok(ferry_unborrow(a));
    expect_ok(ferry_unborrow(c));

    expect_ok(ferry_drop(a));
    ck_assert_int_eq(fx_count(&f.released), 1);
    ck_assert_int_eq(fx_count(&f.destroyed), 0);
    /* a is gone, b and c are not */
    expect_status(ferry_drop(a), FERRY_E_STALE);
    ck_assert_int_eq(fx_count(&f.released), 1);
    expect_ok(ferry_check(b, f.type));
    expect_ok(ferry_check(c, f.type));

    void *unit = NULL;
    expect_ok(ferry_take(b, f.type, &unit));
    ck_assert_ptr_eq(unit, o);
    ck_assert_int_eq(fx_count(&f.released), 1);
    expect_ok(ferry_drop(c));
    ck_assert_int_eq(fx_count(&f.released), 2);
    ck_assert_int_eq(fx_count(&f.destroyed), 0); /* the taken unit still holds it */
    ck_assert_uint_eq(ferry_live(), live0);
    fx_release(unit);
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

START_TEST(lifecycle_local_clone_downgrade_upgrade_on_owner_thread) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "local", SS, FX_ALL);
    fx_obj *o = fx_new(&f, 4);
    ferry_handle a, b, w, u;
    expect_ok(ferry_local(f.type, o, &a));
    expect_ok(ferry_clone(a, &b));
    expect_ok(ferry_downgrade(b, &w));
    expect_ok(ferry_upgrade(w, &u));
    ck_assert_uint_eq(ferry_live(), live0 + 4);
    const void *p;
    expect_ok(ferry_borrow(u, f.type, &p));
    ck_assert_ptr_eq(p, o);
    expect_ok(ferry_unborrow(u));
    void *m = NULL;
    expect_status(ferry_borrow_mut(a, f.type, &m), FERRY_E_KIND);
    ck_assert_ptr_null(m);
    expect_ok(ferry_drop(a));
    expect_ok(ferry_drop(b));
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.freed), 0);
    ferry_handle dead = {0x5a5a5a5a5a5a5a5aull};
    expect_status(ferry_upgrade(w, &dead), FERRY_E_EXPIRED);
    ck_assert_uint_eq(dead.bits, 0x5a5a5a5a5a5a5a5aull);
    expect_ok(ferry_drop(w));
    ck_assert_int_eq(fx_count(&f.weak_released), 1);
    ck_assert_int_eq(fx_count(&f.freed), 1);
    ck_assert_uint_eq(ferry_live(), live0);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

START_TEST(lifecycle_weak_downgrade_upgrade_expire) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "weak", SS, FX_ALL);
    fx_obj *o = fx_new(&f, 5);
    ferry_handle s, w, w2, s2;
    expect_ok(ferry_share(f.type, o, &s));
    expect_ok(ferry_downgrade(s, &w));
    ck_assert_uint_ne(w.bits, s.bits);
    ck_assert_int_eq(fx_count(&f.downgraded), 1);
    expect_ok(ferry_check(w, f.type));

    /* a weak handle cannot be borrowed, cloned or downgraded */
    const void *p = NULL;
    expect_status(ferry_borrow(w, f.type, &p), FERRY_E_KIND);
    expect_status(ferry_clone(w, &w2), FERRY_E_KIND);
    expect_status(ferry_downgrade(w, &w2), FERRY_E_KIND);

    expect_ok(ferry_upgrade(w, &s2));
    ck_assert_uint_ne(s2.bits, s.bits);
    ck_assert_uint_ne(s2.bits, w.bits);
    ck_assert_int_eq(fx_count(&f.upgraded), 1);
    expect_ok(ferry_borrow(s2, f.type, &p));
    ck_assert_ptr_eq(p, o);
    expect_ok(ferry_unborrow(s2));
    ck_assert_uint_eq(ferry_live(), live0 + 3);

    expect_ok(ferry_drop(s));
    expect_ok(ferry_upgrade(w, &w2)); /* s2 still holds a strong unit */
    expect_ok(ferry_drop(w2));
    expect_ok(ferry_drop(s2));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.released), 3);

    expect_status(ferry_upgrade(w, &s2), FERRY_E_EXPIRED);
    expect_status(ferry_upgrade(w, &s2), FERRY_E_EXPIRED);
    expect_ok(ferry_check(w, f.type)); /* the weak handle itself is live */
    ck_assert_int_eq(fx_count(&f.freed), 0);
    expect_ok(ferry_drop(w));
    ck_assert_int_eq(fx_count(&f.weak_released), 1);
    ck_assert_int_eq(fx_count(&f.freed), 1);
    ck_assert_uint_eq(ferry_live(), live0);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

START_TEST(lifecycle_weak_take_moves_weak_unit_out) {
    fx f;
    fx_init(&f, "weak_take", SS, FX_ALL);
    fx_obj *o = fx_new(&f, 5);
    ferry_handle s, w;
    expect_ok(ferry_share(f.type, o, &s));
    expect_ok(ferry_downgrade(s, &w));
    void *unit = NULL;
    expect_ok(ferry_take(w, f.type, &unit));
    ck_assert_ptr_eq(unit, o);
    ck_assert_int_eq(fx_count(&f.weak_released), 0);
    expect_status(ferry_upgrade(w, &s), FERRY_E_STALE);
    expect_ok(ferry_drop(s));
    ck_assert_int_eq(fx_count(&f.destroyed), 1);
    ck_assert_int_eq(fx_count(&f.freed), 0);
    fx_release_weak(unit);
    ck_assert_int_eq(fx_count(&f.freed), 1);
}
END_TEST

START_TEST(lifecycle_lent_borrow_then_revoke) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "lent", SS, FX_ALL);
    fx_obj o;
    fx_obj_init_lent(&o, &f, 11);
    ferry_handle h, x;
    expect_ok(ferry_lend(f.type, &o, &h));
    ck_assert_uint_eq(ferry_live(), live0 + 1);
    const void *p = NULL;
    expect_ok(ferry_borrow(h, f.type, &p));
    ck_assert_ptr_eq(p, &o);
    expect_ok(ferry_borrow(h, f.type, &p)); /* borrows nest */
    expect_ok(ferry_unborrow(h));
    expect_ok(ferry_unborrow(h));
    void *m = NULL;
    expect_status(ferry_borrow_mut(h, f.type, &m), FERRY_E_KIND);
    expect_status(ferry_clone(h, &x), FERRY_E_KIND);
    expect_status(ferry_drop(h), FERRY_E_KIND);
    expect_status(ferry_take(h, f.type, &m), FERRY_E_KIND);
    expect_ok(ferry_revoke(h));
    ck_assert_uint_eq(ferry_live(), live0);
    expect_status(ferry_borrow(h, f.type, &p), FERRY_E_STALE);
    expect_status(ferry_revoke(h), FERRY_E_STALE);
    /* ferry never gave up a unit of a lent object */
    ck_assert_int_eq(fx_count(&f.released), 0);
    ck_assert_int_eq(fx_count(&f.retained), 0);
    ck_assert_int_eq(o.value, 11);
}
END_TEST

START_TEST(lifecycle_lent_mut_borrow_mut_then_revoke) {
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "lent_mut", SS, FX_ALL);
    fx_obj o;
    fx_obj_init_lent(&o, &f, 1);
    ferry_handle h, x;
    expect_ok(ferry_lend_mut(f.type, &o, &h));
    void *m = NULL;
    expect_ok(ferry_borrow_mut(h, f.type, &m));
    ck_assert_ptr_eq(m, &o);
    ((fx_obj *)m)->value = 2;
    expect_ok(ferry_unborrow(h));
    const void *p = NULL;
    expect_ok(ferry_borrow(h, f.type, &p));
    ck_assert_ptr_eq(p, &o);
    expect_ok(ferry_unborrow(h));
    expect_status(ferry_clone(h, &x), FERRY_E_KIND);
    expect_status(ferry_downgrade(h, &x), FERRY_E_KIND);
    expect_status(ferry_drop(h), FERRY_E_KIND);
    expect_status(ferry_take(h, f.type, &m), FERRY_E_KIND);
    expect_ok(ferry_revoke(h));
    expect_status(ferry_borrow_mut(h, f.type, &m), FERRY_E_STALE);
    ck_assert_uint_eq(ferry_live(), live0);
    ck_assert_int_eq(o.value, 2);
    ck_assert_int_eq(fx_count(&f.released), 0);
}
END_TEST

START_TEST(lifecycle_borrows_nest_and_count) {
    fx f;
    fx_init(&f, "nest", SS, FX_PLAIN);
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    const void *p;
    for (int i = 0; i < 5; i++) expect_ok(ferry_borrow(h, f.type, &p));
    for (int i = 0; i < 5; i++) {
        expect_status(ferry_drop(h), FERRY_E_BORROWED);
        expect_ok(ferry_unborrow(h));
    }
    expect_status(ferry_unborrow(h), FERRY_E_BORROWED);
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(lifecycle_plain_functions_bypass_macros) {
    /* The functions stay callable through a pointer and by parenthesised
     * name, without a site. */
    ferry_status (*box_fn)(const ferry_type *, void *, ferry_handle *) = &ferry_box;
    ferry_status (*drop_fn)(ferry_handle) = &ferry_drop;
    fx f;
    fx_init(&f, "plain", SS, FX_RETAIN | FX_WEAK);
    ferry_handle a, b, c, w, u;
    expect_ok(box_fn(f.type, fx_new(&f, 1), &a));
    expect_ok((ferry_share)(f.type, fx_new(&f, 2), &b));
    expect_ok((ferry_local)(f.type, fx_new(&f, 3), &c));
    ferry_handle b2, l;
    expect_ok((ferry_clone)(b, &b2));
    expect_ok((ferry_downgrade)(b, &w));
    expect_ok((ferry_upgrade)(w, &u));
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    expect_ok((ferry_lend)(f.type, &lent, &l));
    expect_ok((ferry_revoke)(l));
    expect_ok((ferry_lend_mut)(f.type, &lent, &l));
    expect_ok((ferry_revoke)(l));
    void *unit;
    expect_ok((ferry_take)(a, f.type, &unit));
    fx_release(unit);
    expect_ok(drop_fn(b));
    expect_ok((ferry_drop)(b2));
    expect_ok((ferry_drop)(c));
    expect_ok((ferry_drop)(u));
    expect_ok((ferry_drop)(w));
    expect_status(drop_fn(b), FERRY_E_STALE);
    msg_assert_prefix(FERRY_E_STALE, "ferry_drop");
    ck_assert_int_eq(fx_count(&f.destroyed), 3);
    ck_assert_int_eq(fx_count(&f.freed), 3);
}
END_TEST

START_TEST(lifecycle_type_register_same_desc_returns_same_type) {
    fx f;
    fx_init(&f, "reg", FERRY_SEND, FX_ALL);
    ferry_type_desc d = fx_desc(&f);
    /* a different buffer holding the same name */
    char name_copy[96];
    strcpy(name_copy, f.name);
    d.name = name_copy;
    const ferry_type *t2 = NULL;
    expect_ok(ferry_type_register(&d, &t2));
    ck_assert_ptr_eq(t2, f.type);
    ck_assert_ptr_eq(ferry_type_find(f.name), f.type);
    ck_assert_str_eq(ferry_type_name(f.type), f.name);
    /* ferry copied the name */
    memset(name_copy, 'x', sizeof name_copy - 1);
    ck_assert_str_eq(ferry_type_name(f.type), f.name);
    ck_assert_ptr_eq(ferry_type_find(f.name), f.type);
}
END_TEST

START_TEST(lifecycle_type_register_conflicting_desc_fails) {
    fx f;
    fx_init(&f, "conflict", FERRY_SEND, FX_RETAIN);
    const ferry_type *t2 = NULL;

    ferry_type_desc d = fx_desc(&f);
    d.flags = FERRY_SEND | FERRY_SYNC;
    expect_status(ferry_type_register(&d, &t2), FERRY_E_TYPE);
    d = fx_desc(&f);
    d.release = fx_release_alt;
    expect_status(ferry_type_register(&d, &t2), FERRY_E_TYPE);
    d = fx_desc(&f);
    d.retain = NULL;
    expect_status(ferry_type_register(&d, &t2), FERRY_E_TYPE);
    d = fx_desc(&f);
    d.size = 12345;
    expect_status(ferry_type_register(&d, &t2), FERRY_E_TYPE);
    ck_assert_ptr_null(t2);
    msg_assert_prefix(FERRY_E_TYPE, "ferry_type_register");
    ck_assert_ptr_eq(ferry_type_find(f.name), f.type);
}
END_TEST

START_TEST(lifecycle_type_register_null_arguments) {
    const ferry_type *t = NULL;
    ferry_type_desc d = {.name = "test.lifecycle.nulls", .release = fx_release};
    expect_status(ferry_type_register(NULL, &t), FERRY_E_NULL);
    expect_status(ferry_type_register(&d, NULL), FERRY_E_NULL);
    d.name = NULL;
    expect_status(ferry_type_register(&d, &t), FERRY_E_NULL);
    d.name = "test.lifecycle.nulls";
    d.release = NULL;
    expect_status(ferry_type_register(&d, &t), FERRY_E_NULL);
    d.release = fx_release;
    /* weak functions given incompletely */
    d.downgrade = fx_downgrade;
    expect_status(ferry_type_register(&d, &t), FERRY_E_NULL);
    d.upgrade = fx_upgrade;
    expect_status(ferry_type_register(&d, &t), FERRY_E_NULL);
    d.downgrade = NULL;
    d.release_weak = fx_release_weak;
    expect_status(ferry_type_register(&d, &t), FERRY_E_NULL);
    ck_assert_ptr_null(t);
    ck_assert_ptr_null(ferry_type_find("test.lifecycle.nulls"));
    /* and the complete descriptor registers */
    d.downgrade = fx_downgrade;
    expect_ok(ferry_type_register(&d, &t));
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_eq(ferry_type_find("test.lifecycle.nulls"), t);
}
END_TEST

START_TEST(lifecycle_type_find_unknown_and_null) {
    ck_assert_ptr_null(ferry_type_find("test.no.such.type"));
    ck_assert_ptr_null(ferry_type_find(NULL));
    ck_assert_ptr_null(ferry_type_name(NULL));
}
END_TEST

START_TEST(lifecycle_check_any_type_and_specific_type) {
    fx f, g;
    fx_init(&f, "check_f", SS, FX_PLAIN);
    fx_init(&g, "check_g", SS, FX_PLAIN);
    ferry_handle h;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    expect_ok(ferry_check(h, NULL));
    expect_ok(ferry_check(h, f.type));
    expect_status(ferry_check(h, g.type), FERRY_E_TYPE);
    expect_ok(ferry_drop(h));
    expect_status(ferry_check(h, NULL), FERRY_E_STALE);
    expect_status(ferry_check(FERRY_NULL_HANDLE, NULL), FERRY_E_NULL);
}
END_TEST

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(lifecycle_many_handles_all_distinct) {
    enum { N = 3000 };
    size_t live0 = ferry_live();
    fx f;
    fx_init(&f, "many", SS, FX_ALL);
    static ferry_handle hs[N];
    static uint64_t bits[N];
    for (int i = 0; i < N; i += 3) {
        expect_ok(ferry_share(f.type, fx_new(&f, i), &hs[i]));
        expect_ok(ferry_clone(hs[i], &hs[i + 1]));
        expect_ok(ferry_downgrade(hs[i + 1], &hs[i + 2]));
    }
    ck_assert_uint_eq(ferry_live(), live0 + N);
    for (int i = 0; i < N; i++) bits[i] = hs[i].bits;
    qsort(bits, N, sizeof bits[0], cmp_u64);
    for (int i = 1; i < N; i++) ck_assert_uint_ne(bits[i - 1], bits[i]);
    for (int i = 0; i < N; i++) expect_ok(ferry_drop(hs[i]));
    ck_assert_uint_eq(ferry_live(), live0);
    ck_assert_int_eq(fx_count(&f.released), 2 * N / 3);
    ck_assert_int_eq(fx_count(&f.weak_released), N / 3);
    ck_assert_int_eq(fx_count(&f.destroyed), N / 3);
    ck_assert_int_eq(fx_count(&f.freed), N / 3);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

START_TEST(lifecycle_kind_of_every_kind_and_descriptor_copy) {
    fx f;
    fx_init(&f, "kind_of", SS, FX_ALL);
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    ferry_handle u, s, l, w, le, lm;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_local(f.type, fx_new(&f, 0), &l));
    expect_ok(ferry_downgrade(l, &w));
    expect_ok(ferry_lend(f.type, &lent, &le));
    expect_ok(ferry_lend_mut(f.type, &lent, &lm));
    ferry_handle hs[] = {u, s, l, w, le, lm};
    ferry_kind want[] = {FERRY_KIND_UNIQUE, FERRY_KIND_SHARED, FERRY_KIND_LOCAL,
                         FERRY_KIND_WEAK,   FERRY_KIND_LENT,   FERRY_KIND_LENT_MUT};
    for (int i = 0; i < 6; i++) {
        ferry_kind k = (ferry_kind)0;
        expect_ok(ferry_kind_of(hs[i], &k));
        ck_assert_int_eq(k, want[i]);
    }
    ck_assert_int_eq(ferry_kind_of(u, NULL), FERRY_E_NULL);
    expect_ok(ferry_drop(u));
    ferry_kind k = (ferry_kind)0;
    ck_assert_int_eq(ferry_kind_of(u, &k), FERRY_E_STALE);
    ck_assert_int_eq(k, 0);

    const ferry_type_desc *d = ferry_type_descriptor(f.type);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->name, ferry_type_name(f.type));
    ck_assert_ptr_eq(d->release, fx_release);
    ck_assert_uint_eq(d->flags, SS);
    ck_assert_ptr_null(ferry_type_descriptor(NULL));

    expect_ok(ferry_revoke(le));
    expect_ok(ferry_revoke(lm));
    expect_ok(ferry_drop(w));
    expect_ok(ferry_drop(l));
    expect_ok(ferry_drop(s));
}
END_TEST

int main(void) {
    Suite *s = suite_create("lifecycle");
    ADD_CASE(s, lifecycle_unique_box_borrow_drop_releases_once, 30);
    ADD_CASE(s, lifecycle_unique_take_moves_unit_out, 30);
    ADD_CASE(s, lifecycle_shared_clone_is_new_handle_and_units_balance, 30);
    ADD_CASE(s, lifecycle_local_clone_downgrade_upgrade_on_owner_thread, 30);
    ADD_CASE(s, lifecycle_weak_downgrade_upgrade_expire, 30);
    ADD_CASE(s, lifecycle_weak_take_moves_weak_unit_out, 30);
    ADD_CASE(s, lifecycle_lent_borrow_then_revoke, 30);
    ADD_CASE(s, lifecycle_lent_mut_borrow_mut_then_revoke, 30);
    ADD_CASE(s, lifecycle_borrows_nest_and_count, 30);
    ADD_CASE(s, lifecycle_plain_functions_bypass_macros, 30);
    ADD_CASE(s, lifecycle_type_register_same_desc_returns_same_type, 30);
    ADD_CASE(s, lifecycle_type_register_conflicting_desc_fails, 30);
    ADD_CASE(s, lifecycle_type_register_null_arguments, 30);
    ADD_CASE(s, lifecycle_type_find_unknown_and_null, 30);
    ADD_CASE(s, lifecycle_check_any_type_and_specific_type, 30);
    ADD_CASE(s, lifecycle_many_handles_all_distinct, 30);
    ADD_CASE(s, lifecycle_kind_of_every_kind_and_descriptor_copy, 30);
    return run_suite(s);
}
