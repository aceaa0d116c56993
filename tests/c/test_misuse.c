/* test_misuse.c — every row of DESIGN.md's misuse table that applies to the
 * core: NULL, INVALID, STALE, TYPE, KIND, BORROWED, THREAD, EXPIRED, LIMIT.
 * Each case checks the status and the message's "<STATUS>: <op>" prefix and
 * the details the contract promises. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>

#define SS (FERRY_SEND | FERRY_SYNC)

/* ---------------------------------------------------------------- NULL */

START_TEST(misuse_null_handle_every_operation) {
    fx f;
    fx_init(&f, "null_handle", SS, FX_ALL);
    for (op o = 0; o < OP_COUNT; o++) {
        ferry_handle out = {0x77};
        void *obj = (void *)&out;
        ferry_status s = run_op(o, FERRY_NULL_HANDLE, f.type, &out, &obj);
        ck_assert_msg(s == FERRY_E_NULL, "%s(null): %s", op_name(o), ferry_status_name(s));
        msg_assert_prefix(FERRY_E_NULL, op_name(o));
        msg_assert_has("null handle");
        ck_assert_uint_eq(out.bits, 0x77);
        ck_assert_ptr_eq(obj, (void *)&out);
    }
    /* also with no type */
    expect_fail(ferry_check(FERRY_NULL_HANDLE, NULL), FERRY_E_NULL, "ferry_check");
    msg_assert_has("null handle");
}
END_TEST

START_TEST(misuse_null_out_pointers) {
    fx f;
    fx_init(&f, "null_out", SS, FX_ALL);
    fx_obj *o = fx_new(&f, 0);
    ferry_handle s, w, u;
    expect_ok(ferry_share(f.type, o, &s));
    expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_box(f.type, fx_new(&f, 1), &u));

    expect_fail(ferry_clone(s, NULL), FERRY_E_NULL, "ferry_clone");
    expect_fail(ferry_downgrade(s, NULL), FERRY_E_NULL, "ferry_downgrade");
    expect_fail(ferry_upgrade(w, NULL), FERRY_E_NULL, "ferry_upgrade");
    expect_fail(ferry_take(s, f.type, NULL), FERRY_E_NULL, "ferry_take");
    expect_fail(ferry_borrow(s, f.type, NULL), FERRY_E_NULL, "ferry_borrow");
    expect_fail(ferry_borrow_mut(u, f.type, NULL), FERRY_E_NULL, "ferry_borrow_mut");
    expect_fail(ferry_ledger(f.type, NULL), FERRY_E_NULL, "ferry_ledger");
    expect_fail(ferry_ledger(NULL, NULL), FERRY_E_NULL, "ferry_ledger");

    /* the handles were not touched */
    expect_ok(ferry_drop(u));
    expect_ok(ferry_drop(w));
    expect_ok(ferry_drop(s));
    ck_assert_int_eq(fx_count(&f.released), 2);
    ck_assert_int_eq(fx_count(&f.retained), 0);
}
END_TEST

START_TEST(misuse_null_create_arguments) {
    fx f;
    fx_init(&f, "null_create", SS, FX_ALL);
    fx_obj *o = fx_new(&f, 0);
    ferry_handle h = {0x99};
    expect_fail(ferry_box(NULL, o, &h), FERRY_E_NULL, "ferry_box");
    expect_fail(ferry_box(f.type, NULL, &h), FERRY_E_NULL, "ferry_box");
    expect_fail(ferry_box(f.type, o, NULL), FERRY_E_NULL, "ferry_box");
    expect_fail(ferry_share(NULL, o, &h), FERRY_E_NULL, "ferry_share");
    expect_fail(ferry_share(f.type, NULL, &h), FERRY_E_NULL, "ferry_share");
    expect_fail(ferry_share(f.type, o, NULL), FERRY_E_NULL, "ferry_share");
    expect_fail(ferry_local(NULL, o, &h), FERRY_E_NULL, "ferry_local");
    expect_fail(ferry_local(f.type, NULL, &h), FERRY_E_NULL, "ferry_local");
    expect_fail(ferry_local(f.type, o, NULL), FERRY_E_NULL, "ferry_local");
    expect_fail(ferry_lend(NULL, o, &h), FERRY_E_NULL, "ferry_lend");
    expect_fail(ferry_lend(f.type, NULL, &h), FERRY_E_NULL, "ferry_lend");
    expect_fail(ferry_lend(f.type, o, NULL), FERRY_E_NULL, "ferry_lend");
    expect_fail(ferry_lend_mut(NULL, o, &h), FERRY_E_NULL, "ferry_lend_mut");
    expect_fail(ferry_lend_mut(f.type, NULL, &h), FERRY_E_NULL, "ferry_lend_mut");
    expect_fail(ferry_lend_mut(f.type, o, NULL), FERRY_E_NULL, "ferry_lend_mut");
    ck_assert_uint_eq(h.bits, 0x99);
    ck_assert_int_eq(fx_count(&f.released), 0);
    fx_release(o);
}
END_TEST

/* ------------------------------------------------------------- INVALID */

static void expect_invalid_everywhere(ferry_handle forged, const ferry_type *t) {
    for (op o = 0; o < OP_COUNT; o++) {
        ferry_handle out = {0x77};
        ferry_status s = run_op(o, forged, t, &out, NULL);
        ck_assert_msg(s == FERRY_E_INVALID, "%s(%#llx): expected FERRY_E_INVALID, got %s (%s)",
                      op_name(o), (unsigned long long)forged.bits, ferry_status_name(s),
                      ferry_last_error());
        msg_assert_prefix(FERRY_E_INVALID, op_name(o));
        ck_assert_uint_eq(out.bits, 0x77);
    }
}

START_TEST(misuse_invalid_foreign_tag) {
    fx f;
    fx_init(&f, "invalid_tag", SS, FX_ALL);
    ferry_handle h;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &h));
    for (int bit = 56; bit < 64; bit++) {
        ferry_handle forged = {h.bits ^ (1ull << bit)};
        expect_invalid_everywhere(forged, f.type);
    }
    ferry_handle all = {h.bits ^ 0xff00000000000000ull};
    expect_invalid_everywhere(all, f.type);
    expect_ok(ferry_check(h, f.type));
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(misuse_invalid_index_never_issued) {
    fx f;
    fx_init(&f, "invalid_index", SS, FX_ALL);
    ferry_handle h;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &h));
    ck_assert_uint_eq(ferry__test_slot_index(h), (uint32_t)(h.bits & 0x0fffffffu));
    uint32_t issued = ferry__test_slots_issued();
    ck_assert_uint_lt(issued, 0x0ffffff0u);
    uint64_t high = h.bits & ~(uint64_t)0x0fffffff;
    uint32_t idx[] = {0x0fffffffu, 0x0ffffff0u, issued + 1000u, issued + 1u};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        ferry_handle forged = {high | idx[i]};
        expect_invalid_everywhere(forged, f.type);
    }
    expect_ok(ferry_drop(h));
}
END_TEST

START_TEST(misuse_invalid_made_up_values) {
    fx f;
    fx_init(&f, "invalid_made_up", SS, FX_ALL);
    uint64_t made_up[] = {0xdeadbeefcafebabeull, 0xffffffffffffffffull, 0x0fffffffull,
                          0x8000000000000000ull | 0x0ffffffeull};
    for (size_t i = 0; i < sizeof made_up / sizeof made_up[0]; i++) {
        ferry_handle forged = {made_up[i]};
        expect_invalid_everywhere(forged, f.type);
    }
}
END_TEST

/* --------------------------------------------------------------- STALE */

START_TEST(misuse_stale_double_drop_names_type_kind_and_sites) {
    fx f;
    fx_init(&f, "stale_drop", SS, FX_PLAIN);
    ferry_handle h;
    int created = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    int released = __LINE__; expect_ok(ferry_drop(h));
    expect_fail(ferry_drop(h), FERRY_E_STALE, "ferry_drop");
    char want[160];
    snprintf(want, sizeof want, "type %s", f.name);
    msg_assert_has(want);
    msg_assert_has("kind unique");
    msg_assert_site("created at", created);
    msg_assert_site("released at", released);
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(misuse_stale_after_take_names_release_site) {
    fx f;
    fx_init(&f, "stale_take", SS, FX_RETAIN);
    ferry_handle h;
    void *unit = NULL;
    int created = __LINE__; expect_ok(ferry_share(f.type, fx_new(&f, 0), &h));
    int taken = __LINE__; expect_ok(ferry_take(h, f.type, &unit));
    const void *p = NULL;
    expect_fail(ferry_borrow(h, f.type, &p), FERRY_E_STALE, "ferry_borrow");
    char want[160];
    snprintf(want, sizeof want, "type %s", f.name);
    msg_assert_has(want);
    msg_assert_has("kind shared");
    msg_assert_site("created at", created);
    msg_assert_site("released at", taken);
    ck_assert_ptr_null(p);
    fx_release(unit);
}
END_TEST

START_TEST(misuse_stale_after_revoke_names_release_site) {
    fx f;
    fx_init(&f, "stale_revoke", SS, FX_PLAIN);
    fx_obj o;
    fx_obj_init_lent(&o, &f, 0);
    ferry_handle h;
    int created = __LINE__; expect_ok(ferry_lend_mut(f.type, &o, &h));
    int revoked = __LINE__; expect_ok(ferry_revoke(h));
    void *p = NULL;
    expect_fail(ferry_borrow_mut(h, f.type, &p), FERRY_E_STALE, "ferry_borrow_mut");
    msg_assert_has("kind lent mut");
    msg_assert_site("created at", created);
    msg_assert_site("released at", revoked);
    ck_assert_ptr_null(p);
}
END_TEST

START_TEST(misuse_stale_every_operation) {
    fx f;
    fx_init(&f, "stale_all", SS, FX_ALL);
    ferry_handle s, w, b, l;
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &b));
    expect_ok(ferry_lend(f.type, &lent, &l));
    expect_ok(ferry_drop(w));
    expect_ok(ferry_drop(s));
    expect_ok(ferry_drop_at(b, FERRY_BY_RUST, FERRY_SITE));
    expect_ok(ferry_revoke(l));
    ferry_handle dead[] = {s, w, b, l};
    for (size_t i = 0; i < 4; i++) {
        for (op o = 0; o < OP_COUNT; o++) {
            ferry_handle out = {0x77};
            ferry_status st = run_op(o, dead[i], f.type, &out, NULL);
            ck_assert_msg(st == FERRY_E_STALE, "%s(dead %zu): expected STALE, got %s (%s)",
                          op_name(o), i, ferry_status_name(st), ferry_last_error());
            msg_assert_prefix(FERRY_E_STALE, op_name(o));
            ck_assert_uint_eq(out.bits, 0x77);
        }
    }
    ck_assert_int_eq(fx_count(&f.released), 2);
    ck_assert_int_eq(fx_count(&f.weak_released), 1);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

/* ---------------------------------------------------------------- TYPE */

START_TEST(misuse_type_mismatch_names_both_types) {
    fx f, g;
    fx_init(&f, "type_actual", SS, FX_ALL);
    fx_init(&g, "type_expected", SS, FX_ALL);
    ferry_handle h;
    int created = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &h));
    const op ops[] = {OP_CHECK, OP_BORROW, OP_BORROW_MUT, OP_TAKE};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        void *obj = (void *)&h;
        ferry_status st = run_op(ops[i], h, g.type, NULL, &obj);
        ck_assert_msg(st == FERRY_E_TYPE, "%s: %s", op_name(ops[i]), ferry_status_name(st));
        msg_assert_prefix(FERRY_E_TYPE, op_name(ops[i]));
        msg_assert_has(f.name);
        msg_assert_has(g.name);
        msg_assert_has("kind unique");
        msg_assert_site("created at", created);
        ck_assert_ptr_eq(obj, (void *)&h);
    }
    expect_ok(ferry_check(h, f.type));
    expect_ok(ferry_drop(h));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

/* ---------------------------------------------------------------- KIND */

typedef struct kind_case {
    op o;
    int handle; /* index into the handles below */
    const char *kind;
} kind_case;

START_TEST(misuse_kind_operation_not_allowed) {
    fx f;
    fx_init(&f, "kind", SS, FX_ALL);
    fx_obj lent, lent_mut;
    fx_obj_init_lent(&lent, &f, 0);
    fx_obj_init_lent(&lent_mut, &f, 0);
    enum { U, S, L, W, LT, LM, NH };
    ferry_handle h[NH];
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &h[U]));
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &h[S]));
    expect_ok(ferry_local(f.type, fx_new(&f, 0), &h[L]));
    expect_ok(ferry_downgrade(h[S], &h[W]));
    expect_ok(ferry_lend(f.type, &lent, &h[LT]));
    expect_ok(ferry_lend_mut(f.type, &lent_mut, &h[LM]));
    snap before;
    snap_take(&before, &f);

    const kind_case cases[] = {
        {OP_CLONE, U, "unique"},      {OP_CLONE, W, "weak"},       {OP_CLONE, LT, "lent"},
        {OP_CLONE, LM, "lent mut"},   {OP_DOWNGRADE, U, "unique"}, {OP_DOWNGRADE, W, "weak"},
        {OP_DOWNGRADE, LT, "lent"},   {OP_DOWNGRADE, LM, "lent mut"},
        {OP_UPGRADE, U, "unique"},    {OP_UPGRADE, S, "shared"},   {OP_UPGRADE, L, "local"},
        {OP_UPGRADE, LT, "lent"},     {OP_UPGRADE, LM, "lent mut"},
        {OP_BORROW, W, "weak"},       {OP_BORROW_MUT, S, "shared"}, {OP_BORROW_MUT, L, "local"},
        {OP_BORROW_MUT, W, "weak"},   {OP_BORROW_MUT, LT, "lent"},
        {OP_DROP, LT, "lent"},        {OP_DROP, LM, "lent mut"},   {OP_DROP_RUST, LT, "lent"},
        {OP_TAKE, LT, "lent"},        {OP_TAKE, LM, "lent mut"},
        {OP_REVOKE, U, "unique"},     {OP_REVOKE, S, "shared"},    {OP_REVOKE, L, "local"},
        {OP_REVOKE, W, "weak"},
    };
    char want[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ferry_handle out = {0x77};
        void *obj = (void *)&out;
        ferry_status st = run_op(cases[i].o, h[cases[i].handle], f.type, &out, &obj);
        ck_assert_msg(st == FERRY_E_KIND, "%s on %s: expected FERRY_E_KIND, got %s (%s)",
                      op_name(cases[i].o), cases[i].kind, ferry_status_name(st),
                      ferry_last_error());
        msg_assert_prefix(FERRY_E_KIND, op_name(cases[i].o));
        snprintf(want, sizeof want, "kind %s", cases[i].kind);
        msg_assert_has(want);
        msg_assert_has(f.name);
        ck_assert_uint_eq(out.bits, 0x77);
        ck_assert_ptr_eq(obj, (void *)&out);
    }
    snap after;
    snap_take(&after, &f);
    snap_assert_eq(&before, &after);

    expect_ok(ferry_drop(h[U]));
    expect_ok(ferry_drop(h[W]));
    expect_ok(ferry_drop(h[S]));
    expect_ok(ferry_drop(h[L]));
    expect_ok(ferry_revoke(h[LT]));
    expect_ok(ferry_revoke(h[LM]));
    ck_assert_int_eq(fx_count(&f.destroyed), 3);
}
END_TEST

START_TEST(misuse_kind_type_lacks_function) {
    fx plain;
    fx_init(&plain, "kind_plain", SS, FX_PLAIN); /* no retain, no weak functions */
    fx noweak;
    fx_init(&noweak, "kind_noweak", SS, FX_RETAIN);
    ferry_handle s, l, out = {0x77};

    expect_ok(ferry_share(noweak.type, fx_new(&noweak, 0), &s));
    expect_ok(ferry_local(noweak.type, fx_new(&noweak, 0), &l));
    expect_fail(ferry_downgrade(s, &out), FERRY_E_KIND, "ferry_downgrade");
    expect_fail(ferry_downgrade(l, &out), FERRY_E_KIND, "ferry_downgrade");
    ck_assert_uint_eq(out.bits, 0x77);
    expect_ok(ferry_drop(s));
    expect_ok(ferry_drop(l));
    ck_assert_int_eq(fx_count(&noweak.downgraded), 0);

    /* a shared handle of a type without retain cannot be cloned (if the
     * type may be shared at all) */
    fx_obj *o = fx_new(&plain, 0);
    ferry_status st = ferry_share(plain.type, o, &s);
    if (st == FERRY_OK) {
        expect_fail(ferry_clone(s, &out), FERRY_E_KIND, "ferry_clone");
        ck_assert_uint_eq(out.bits, 0x77);
        expect_ok(ferry_drop(s));
        ck_assert_int_eq(fx_count(&plain.released), 1);
    } else {
        ck_assert_int_eq(st, FERRY_E_KIND);
        msg_assert_prefix(FERRY_E_KIND, "ferry_share");
        ck_assert_int_eq(fx_count(&plain.released), 0);
        fx_release(o);
    }
}
END_TEST

/* ------------------------------------------------------------ BORROWED */

START_TEST(misuse_borrowed_conflicts) {
    fx f;
    fx_init(&f, "borrowed", SS, FX_ALL);
    ferry_handle u, lm;
    fx_obj lent;
    fx_obj_init_lent(&lent, &f, 0);
    int created = __LINE__; expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    expect_ok(ferry_lend_mut(f.type, &lent, &lm));
    const void *p;
    void *m, *unit = NULL;
    char want[160];

    /* shared borrow outstanding: no drop, take, revoke or exclusive borrow */
    expect_ok(ferry_borrow(u, f.type, &p));
    expect_fail(ferry_drop(u), FERRY_E_BORROWED, "ferry_drop");
    snprintf(want, sizeof want, "type %s", f.name);
    msg_assert_has(want);
    msg_assert_has("kind unique");
    msg_assert_site("created at", created);
    expect_fail(ferry_drop_at(u, FERRY_BY_RUST, FERRY_SITE), FERRY_E_BORROWED, "ferry_drop");
    expect_fail(ferry_take(u, f.type, &unit), FERRY_E_BORROWED, "ferry_take");
    ck_assert_ptr_null(unit);
    expect_fail(ferry_borrow_mut(u, f.type, &m), FERRY_E_BORROWED, "ferry_borrow_mut");
    expect_ok(ferry_unborrow(u));

    /* exclusive borrow outstanding: no shared or second exclusive borrow */
    expect_ok(ferry_borrow_mut(u, f.type, &m));
    expect_fail(ferry_borrow(u, f.type, &p), FERRY_E_BORROWED, "ferry_borrow");
    expect_fail(ferry_borrow_mut(u, f.type, &m), FERRY_E_BORROWED, "ferry_borrow_mut");
    expect_fail(ferry_drop(u), FERRY_E_BORROWED, "ferry_drop");
    expect_fail(ferry_take(u, f.type, &unit), FERRY_E_BORROWED, "ferry_take");
    expect_ok(ferry_unborrow(u));

    /* unborrow with none outstanding */
    expect_fail(ferry_unborrow(u), FERRY_E_BORROWED, "ferry_unborrow");

    /* lends */
    expect_ok(ferry_borrow(lm, f.type, &p));
    expect_fail(ferry_revoke(lm), FERRY_E_BORROWED, "ferry_revoke");
    msg_assert_has("kind lent mut");
    expect_fail(ferry_borrow_mut(lm, f.type, &m), FERRY_E_BORROWED, "ferry_borrow_mut");
    expect_ok(ferry_unborrow(lm));
    expect_ok(ferry_borrow_mut(lm, f.type, &m));
    expect_fail(ferry_revoke(lm), FERRY_E_BORROWED, "ferry_revoke");
    expect_fail(ferry_borrow(lm, f.type, &p), FERRY_E_BORROWED, "ferry_borrow");
    expect_ok(ferry_unborrow(lm));
    expect_fail(ferry_unborrow(lm), FERRY_E_BORROWED, "ferry_unborrow");

    expect_ok(ferry_revoke(lm));
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(misuse_borrowed_shared_handles) {
    fx f;
    fx_init(&f, "borrowed_shared", SS, FX_ALL);
    ferry_handle s, l, c;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    expect_ok(ferry_local(f.type, fx_new(&f, 0), &l));
    const void *p;
    void *unit = NULL;
    expect_ok(ferry_borrow(s, f.type, &p));
    expect_ok(ferry_borrow(l, f.type, &p));
    expect_fail(ferry_drop(s), FERRY_E_BORROWED, "ferry_drop");
    msg_assert_has("kind shared");
    expect_fail(ferry_drop(l), FERRY_E_BORROWED, "ferry_drop");
    msg_assert_has("kind local");
    expect_fail(ferry_take(s, f.type, &unit), FERRY_E_BORROWED, "ferry_take");
    /* a borrow of one handle does not stop its clone from being dropped */
    expect_ok(ferry_clone(s, &c));
    expect_ok(ferry_drop(c));
    expect_ok(ferry_unborrow(s));
    expect_ok(ferry_unborrow(l));
    expect_ok(ferry_drop(s));
    expect_ok(ferry_drop(l));
    ck_assert_int_eq(fx_count(&f.destroyed), 2);
}
END_TEST

/* -------------------------------------------------------------- THREAD */

START_TEST(misuse_thread_local_used_from_other_thread) {
    fx f;
    fx_init(&f, "thread_local", SS, FX_ALL);
    ferry_handle l;
    int created = __LINE__; expect_ok(ferry_local(f.type, fx_new(&f, 0), &l));
    const op ops[] = {OP_CHECK, OP_BORROW, OP_CLONE, OP_DOWNGRADE, OP_DROP, OP_TAKE};
    char msg[1024];
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        ferry_handle out = {0x77};
        ferry_status st = run_op_on_thread(ops[i], l, f.type, &out, msg, sizeof msg);
        ck_assert_msg(st == FERRY_E_THREAD, "%s on another thread: %s (%s)", op_name(ops[i]),
                      ferry_status_name(st), msg);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "FERRY_E_THREAD: %s", op_name(ops[i]));
        ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "message: %s", msg);
        ck_assert_msg(strstr(msg, "thread") != NULL, "message: %s", msg);
        ck_assert_msg(strstr(msg, "kind local") != NULL, "message: %s", msg);
        ck_assert_msg(strstr(msg, f.name) != NULL, "message: %s", msg);
        ck_assert_msg(text_has_site(msg, "created at", __FILE__, created), "message: %s", msg);
        ck_assert_uint_eq(out.bits, 0x77);
    }
    ck_assert_int_eq(fx_count(&f.released), 0);
    ck_assert_int_eq(fx_count(&f.retained), 0);
    expect_ok(ferry_drop(l));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

START_TEST(misuse_thread_not_send_used_from_other_thread) {
    fx f;
    fx_init(&f, "thread_nosend", 0, FX_ALL);
    ferry_handle u;
    expect_ok(ferry_box(f.type, fx_new(&f, 0), &u));
    const op ops[] = {OP_CHECK, OP_BORROW, OP_BORROW_MUT, OP_DROP, OP_TAKE};
    char msg[1024];
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        ferry_status st = run_op_on_thread(ops[i], u, f.type, NULL, msg, sizeof msg);
        ck_assert_msg(st == FERRY_E_THREAD, "%s on another thread: %s (%s)", op_name(ops[i]),
                      ferry_status_name(st), msg);
        ck_assert_msg(strstr(msg, "thread") != NULL, "message: %s", msg);
        ck_assert_msg(strstr(msg, "kind unique") != NULL, "message: %s", msg);
    }
    ck_assert_int_eq(fx_count(&f.released), 0);
    expect_ok(ferry_drop(u));
    ck_assert_int_eq(fx_count(&f.released), 1);
}
END_TEST

/* ------------------------------------------------------------- EXPIRED */

START_TEST(misuse_expired_upgrade_after_last_strong) {
    fx f;
    fx_init(&f, "expired", SS, FX_ALL);
    ferry_handle s, w, out = {0x77};
    int created = __LINE__; expect_ok(ferry_share(f.type, fx_new(&f, 0), &s));
    int weak_created = __LINE__; expect_ok(ferry_downgrade(s, &w));
    expect_ok(ferry_drop(s));
    expect_fail(ferry_upgrade(w, &out), FERRY_E_EXPIRED, "ferry_upgrade");
    char want[160];
    snprintf(want, sizeof want, "type %s", f.name);
    msg_assert_has(want);
    msg_assert_has("kind weak");
    msg_assert_site("created at", weak_created);
    (void)created;
    ck_assert_uint_eq(out.bits, 0x77);
    ck_assert_int_eq(fx_count(&f.upgrade_failed), 1);
    expect_ok(ferry_drop(w));
    ck_assert_int_eq(fx_count(&f.freed), 1);
}
END_TEST

/* --------------------------------------------------------------- LIMIT */

START_TEST(misuse_limit_table_full) {
    fx f;
    fx_init(&f, "limit", SS, FX_ALL);
    size_t live0 = ferry_live();
    ferry_handle weak_src, weak;
    expect_ok(ferry_share(f.type, fx_new(&f, 0), &weak_src));
    expect_ok(ferry_downgrade(weak_src, &weak));
    ferry__test_set_slot_limit(ferry__test_slots_issued() + 4);
    size_t cap = 1u << 20, n = 0;
    ferry_handle *hs = calloc(cap, sizeof *hs);
    ck_assert_ptr_nonnull(hs);
    ferry_status st = FERRY_OK;
    fx_obj *o = fx_new(&f, 0);
    while (n < cap) {
        st = ferry_share(f.type, o, &hs[n]);
        if (st != FERRY_OK) break;
        o = fx_new(&f, 0);
        n++;
    }
    ck_assert_msg(st == FERRY_E_LIMIT, "expected FERRY_E_LIMIT after %zu creates, got %s", n,
                  ferry_status_name(st));
    msg_assert_prefix(FERRY_E_LIMIT, "ferry_share");
    ck_assert_uint_ge(n, 4);
    ferry_handle out = {0x77};
    expect_fail(ferry_clone(hs[0], &out), FERRY_E_LIMIT, "ferry_clone");
    expect_fail(ferry_downgrade(hs[0], &out), FERRY_E_LIMIT, "ferry_downgrade");
    expect_fail(ferry_box(f.type, o, &out), FERRY_E_LIMIT, "ferry_box");
    expect_fail(ferry_lend(f.type, o, &out), FERRY_E_LIMIT, "ferry_lend");
    expect_fail(ferry_upgrade(weak, &out), FERRY_E_LIMIT, "ferry_upgrade");
    ck_assert_uint_eq(out.bits, 0x77);
    /* (that nothing else moved is test_unchanged's business) */
    for (size_t i = 0; i < n; i++) expect_ok(ferry_drop(hs[i]));
    ferry__test_set_slot_limit(0);
    expect_ok(ferry_drop(weak));
    expect_ok(ferry_drop(weak_src));
    ck_assert_uint_eq(ferry_live(), live0);
    fx_release(o);
    free(hs);
    ck_assert_int_eq(fx_count(&f.destroyed), (long)n + 2);
    ck_assert_int_eq(fx_count(&f.freed), (long)n + 2);
    ck_assert_int_eq(fx_count(&f.bad), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("misuse");
    ADD_CASE(s, misuse_null_handle_every_operation, 30);
    ADD_CASE(s, misuse_null_out_pointers, 30);
    ADD_CASE(s, misuse_null_create_arguments, 30);
    ADD_CASE(s, misuse_invalid_foreign_tag, 30);
    ADD_CASE(s, misuse_invalid_index_never_issued, 30);
    ADD_CASE(s, misuse_invalid_made_up_values, 30);
    ADD_CASE(s, misuse_stale_double_drop_names_type_kind_and_sites, 30);
    ADD_CASE(s, misuse_stale_after_take_names_release_site, 30);
    ADD_CASE(s, misuse_stale_after_revoke_names_release_site, 30);
    ADD_CASE(s, misuse_stale_every_operation, 30);
    ADD_CASE(s, misuse_type_mismatch_names_both_types, 30);
    ADD_CASE(s, misuse_kind_operation_not_allowed, 30);
    ADD_CASE(s, misuse_kind_type_lacks_function, 30);
    ADD_CASE(s, misuse_borrowed_conflicts, 30);
    ADD_CASE(s, misuse_borrowed_shared_handles, 30);
    ADD_CASE(s, misuse_thread_local_used_from_other_thread, 30);
    ADD_CASE(s, misuse_thread_not_send_used_from_other_thread, 30);
    ADD_CASE(s, misuse_expired_upgrade_after_last_strong, 30);
    ADD_CASE(s, misuse_limit_table_full, 60);
    return run_suite(s);
}
