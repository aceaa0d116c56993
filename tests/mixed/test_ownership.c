/*
 * test_ownership.c — objects made by Rust, passed through C and back, with
 * the C ledger, Rust's drop counters and Arc::strong_count agreeing exactly
 * after every scenario. Library A (rust/fixtures) makes Counters; library B
 * (rust/fixtures_b), a second static library in the same program, reads and
 * drops them through the one table libferry keeps.
 *
 * Every mx_balance_expect call checks, for the whole process: the type's
 * ledger deltas (created, cloned, taken, dropped by C, dropped by Rust,
 * borrows, handoffs, live), the Rust drop and clone counters, that no other
 * fixture type moved, and that ferry_live() moved by the ledgers' live delta.
 *
 * Accounting notes for the expected deltas:
 *  - fixture_counter_strong_count clones the handle in Rust and takes the
 *    clone back as an Arc: +1 cloned, +1 taken per call (mx_strong).
 *  - fixture_counter_add, fixture_b_counter_get and fixture_counter_duplicate
 *    borrow once each; ferry_clone, ferry_drop and takes are not borrows.
 */
#include "mixed_support.h"

#include <stdlib.h>

static const ferry_type *counter_t(void) { return mx_type(MX_COUNTER); }

/* Reads a Counter's value from C through a borrow (Counter is one AtomicI64,
 * 8 bytes, as its descriptor says). */
static int64_t c_read_counter(Handle_Counter h) {
    const void *p = NULL;
    expect_ok(ferry_borrow(Counter_untyped(h), counter_t(), &p));
    int64_t v = __atomic_load_n((const int64_t *)p, __ATOMIC_SEQ_CST);
    expect_ok(ferry_unborrow(Counter_untyped(h)));
    return v;
}

/* ------------------------------------------------------------------ */

START_TEST(ownership_rust_creates_c_clones_borrows_drops_rust_takes_back) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h;
    expect_ok(fixture_counter_new(5, &h));
    ck_assert_uint_ne(h.bits, 0);

    /* C finds the Rust type by name and borrows the Rust object through it. */
    const ferry_type *t = counter_t();
    ck_assert_str_eq(ferry_type_name(t), "fixture.Counter");
    const ferry_type_desc *desc = ferry_type_descriptor(t);
    ck_assert_ptr_nonnull(desc);
    ck_assert_uint_eq(desc->size, sizeof(int64_t));
    ck_assert_uint_eq(desc->flags, FERRY_SEND | FERRY_SYNC);
    ck_assert_ptr_nonnull(desc->retain);
    ferry_kind k = 0;
    expect_ok(ferry_kind_of(Counter_untyped(h), &k));
    ck_assert_int_eq(k, FERRY_KIND_SHARED);
    expect_ok(ferry_check_as(Counter, h));

    const void *p = NULL;
    expect_ok(ferry_borrow(Counter_untyped(h), t, &p));
    ck_assert_int_eq(__atomic_load_n((const int64_t *)p, __ATOMIC_SEQ_CST), 5);
    /* While C borrows, neither side can end the handle. */
    expect_status(ferry_drop_as(Counter, h), FERRY_E_BORROWED);
    int64_t v = -1;
    expect_status(fixture_counter_take(h, &v), FERRY_E_BORROWED);
    ck_assert_int_eq(v, -1);
    expect_status(fixture_counter_drop(h), FERRY_E_BORROWED);
    /* Rust sees what C sees, and C sees Rust's write through its pointer. */
    expect_ok(fixture_counter_add(h, 1, &v));
    ck_assert_int_eq(v, 6);
    ck_assert_int_eq(__atomic_load_n((const int64_t *)p, __ATOMIC_SEQ_CST), 6);
    expect_ok(ferry_unborrow(Counter_untyped(h)));
    expect_status(ferry_unborrow(Counter_untyped(h)), FERRY_E_BORROWED);

    /* C clones: a new handle, one more strong reference in Rust's Arc. */
    ck_assert_uint_eq(mx_strong(h), 1);
    Handle_Counter c;
    expect_ok(ferry_clone_as(Counter, h, &c));
    ck_assert_uint_ne(c.bits, h.bits);
    ck_assert_uint_eq(mx_strong(h), 2);
    ck_assert_uint_eq(mx_strong(c), 2);
    expect_ok(fixture_counter_add(c, 2, &v));
    ck_assert_int_eq(v, 8);
    ck_assert_int_eq(c_read_counter(h), 8);

    /* C drops its clone: the object lives on in h. */
    expect_ok(ferry_drop_as(Counter, c));
    ck_assert_uint_eq(mx_strong(h), 1);
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER]);

    /* Rust takes the last handle back as its Arc and drops the object. */
    expect_ok(fixture_counter_take(h, &v));
    ck_assert_int_eq(v, 8);
    expect_status(ferry_check_as(Counter, h), FERRY_E_STALE);

    /* borrows: C borrow x2 (one in c_read_counter), add x2 */
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .cloned = 1 + 4, .taken = 1 + 4, .by_c = 1,
                      .by_rust = 0, .borrows = 4, .handoffs = 0, .rust_drops = 1,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(ownership_c_clones_rust_drops_every_handle) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h, c1, c2, c3;
    expect_ok(fixture_counter_new(100, &h));
    expect_ok(ferry_clone_as(Counter, h, &c1));
    expect_ok(ferry_clone_as(Counter, c1, &c2)); /* a clone of a clone */
    expect_ok(ferry_clone_as(Counter, h, &c3));
    ck_assert_uint_eq(mx_strong(h), 4);

    /* C drives, Rust drops: library A, library B, then A again. */
    expect_ok(fixture_counter_drop(c1));
    ck_assert_uint_eq(mx_strong(c2), 3);
    expect_ok(fixture_b_counter_drop(c2));
    ck_assert_uint_eq(mx_strong(h), 2);
    expect_ok(ferry_drop_as(Counter, c3)); /* one by C, for the ledger's sides */
    ck_assert_uint_eq(mx_strong(h), 1);
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER]);
    expect_ok(fixture_counter_drop(h));
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);

    /* Every handle is stale now, whoever ended it. */
    Handle_Counter all[] = {h, c1, c2, c3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        expect_status(ferry_check_as(Counter, all[i]), FERRY_E_STALE);

    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .cloned = 3 + 4, .taken = 4, .by_c = 1,
                      .by_rust = 3, .borrows = 0, .handoffs = 0, .rust_drops = 1,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(ownership_duplicate_is_a_separate_object) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h, d;
    int64_t v;
    expect_ok(fixture_counter_new(10, &h));
    expect_ok(fixture_counter_duplicate(h, &d));
    ck_assert_uint_eq(fixture_count(MX_COUNTER_CLONES), b0.rust[MX_COUNTER_CLONES] + 1);
    expect_ok(fixture_counter_add(d, 5, &v));
    ck_assert_int_eq(v, 15);
    ck_assert_int_eq(c_read_counter(h), 10);
    ck_assert_uint_eq(mx_strong(h), 1);
    ck_assert_uint_eq(mx_strong(d), 1);
    /* One object dropped from C, the other taken back by Rust. */
    expect_ok(ferry_drop_as(Counter, d));
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);
    expect_ok(fixture_counter_take(h, &v));
    ck_assert_int_eq(v, 10);

    /* borrows: duplicate, add, c_read */
    mx_balance_expect(&b0, MX_COUNTER, .created = 2, .cloned = 2, .taken = 1 + 2, .by_c = 1,
                      .by_rust = 0, .borrows = 3, .handoffs = 0, .rust_drops = 2,
                      .rust_clones = 1);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(ownership_weak_from_c_expires_when_rust_takes_last) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h;
    int64_t v;
    expect_ok(fixture_counter_new(1, &h));
    ferry_handle w, s;
    expect_ok(ferry_downgrade(Counter_untyped(h), &w));
    ferry_kind k = 0;
    expect_ok(ferry_kind_of(w, &k));
    ck_assert_int_eq(k, FERRY_KIND_WEAK);
    ck_assert_uint_eq(mx_strong(h), 1); /* a weak handle is no strong reference */
    /* Rust refuses to turn a weak handle into an Arc. */
    expect_status(fixture_counter_take(Counter_typed(w), &v), FERRY_E_KIND);

    expect_ok(ferry_upgrade(w, &s));
    ck_assert_uint_eq(mx_strong(h), 2);
    expect_ok(fixture_counter_add(Counter_typed(s), 1, &v));
    ck_assert_int_eq(v, 2);
    expect_ok(fixture_counter_drop(Counter_typed(s)));

    expect_ok(fixture_counter_take(h, &v));
    ck_assert_int_eq(v, 2);
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);
    ferry_handle none = {0};
    expect_status(ferry_upgrade(w, &none), FERRY_E_EXPIRED);
    ck_assert_uint_eq(none.bits, 0);
    expect_ok(ferry_drop(w));

    /* created: new, downgrade, upgrade */
    mx_balance_expect(&b0, MX_COUNTER, .created = 3, .cloned = 2, .taken = 1 + 2, .by_c = 1,
                      .by_rust = 1, .borrows = 1, .handoffs = 0, .rust_drops = 1,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Two static libraries, one table                                    */
/* ------------------------------------------------------------------ */

START_TEST(ownership_library_b_reads_and_drops_library_a_handles) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Counter h, c;
    int64_t v = -1;
    expect_ok(fixture_counter_new(7, &h));
    expect_ok(fixture_b_counter_get(h, &v));
    ck_assert_int_eq(v, 7);
    expect_ok(fixture_counter_add(h, 3, &v));
    ck_assert_int_eq(v, 10);
    expect_ok(fixture_b_counter_get(h, &v));
    ck_assert_int_eq(v, 10);

    /* A clone made by C is just as good to B. */
    expect_ok(ferry_clone_as(Counter, h, &c));
    expect_ok(fixture_b_counter_get(c, &v));
    ck_assert_int_eq(v, 10);
    expect_ok(fixture_b_counter_drop(c));
    ck_assert_uint_eq(mx_strong(h), 1);

    /* B drops the last handle A made: A's object goes, exactly once. */
    expect_ok(fixture_b_counter_drop(h));
    ck_assert_uint_eq(fixture_count(MX_COUNTER), b0.rust[MX_COUNTER] + 1);

    /* A sees B's release, with B's site. */
    v = -1;
    expect_status(fixture_counter_add(h, 1, &v), FERRY_E_STALE);
    ck_assert_int_eq(v, -1);
    msg_assert_has("fixture.Counter");
    msg_assert_site("created at", "fixtures/src/lib.rs");
    msg_assert_site("released at", "fixtures_b/src/lib.rs");
    /* and B sees it too */
    expect_status(fixture_b_counter_get(h, &v), FERRY_E_STALE);
    msg_assert_site("released at", "fixtures_b/src/lib.rs");
    expect_status(fixture_b_counter_drop(h), FERRY_E_STALE);
    msg_assert_has("released at");

    /* Now the other way: A drops, B sees A's release. */
    Handle_Counter a;
    expect_ok(fixture_counter_new(1, &a));
    expect_ok(fixture_counter_drop(a));
    expect_status(fixture_b_counter_get(a, &v), FERRY_E_STALE);
    msg_assert_site("released at", "fixtures/src/lib.rs");

    /* borrows: 3 gets + 1 add on h/c */
    mx_balance_expect(&b0, MX_COUNTER, .created = 2, .cloned = 1 + 1, .taken = 1, .by_c = 0,
                      .by_rust = 3, .borrows = 4, .handoffs = 0, .rust_drops = 2,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(ownership_library_b_sees_the_same_type) {
    /* Both libraries use one registered type: a handle A makes passes B's
     * type check, and C finds exactly one "fixture.Counter". */
    Handle_Counter h;
    int64_t v;
    expect_ok(fixture_counter_new(3, &h));
    const ferry_type *t = counter_t();
    expect_ok(ferry_check(Counter_untyped(h), t));
    expect_ok(fixture_b_counter_get(h, &v));
    ck_assert_int_eq(v, 3);
    ck_assert_ptr_eq(ferry_type_find("fixture.Counter"), t);
    expect_ok(fixture_counter_take(h, &v));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rust lends, C borrows inside the lend                              */
/* ------------------------------------------------------------------ */

typedef struct lend_seen {
    ferry_status borrow_st, b_get_st, add_st, unborrow_st;
    int64_t read, b_value, added;
    ferry_handle h;
} lend_seen;

static void lend_cb(Handle_Counter h, void *ctx) {
    lend_seen *s = ctx;
    s->h = Counter_untyped(h);
    const void *p = NULL;
    s->borrow_st = ferry_borrow(s->h, ferry_type_find("fixture.Counter"), &p);
    if (s->borrow_st == FERRY_OK) {
        s->read = __atomic_load_n((const int64_t *)p, __ATOMIC_SEQ_CST);
        s->unborrow_st = ferry_unborrow(s->h);
    }
    s->add_st = fixture_counter_add(h, 8, &s->added);
    s->b_get_st = fixture_b_counter_get(h, &s->b_value);
}

START_TEST(ownership_rust_lends_c_borrows_within_the_call) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    lend_seen s = {.read = -1, .b_value = -1, .added = -1};
    expect_ok(fixture_with_lent_counter(34, lend_cb, &s));
    ck_assert_int_eq(s.borrow_st, FERRY_OK);
    ck_assert_int_eq(s.unborrow_st, FERRY_OK);
    ck_assert_int_eq(s.read, 34);
    ck_assert_int_eq(s.add_st, FERRY_OK);
    ck_assert_int_eq(s.added, 42);
    ck_assert_int_eq(s.b_get_st, FERRY_OK);
    ck_assert_int_eq(s.b_value, 42);
    expect_status(ferry_check(s.h, counter_t()), FERRY_E_STALE);

    /* The lend is a created handle that Rust revoked; the stack Counter was
     * dropped by Rust when the call returned. */
    mx_balance_expect(&b0, MX_COUNTER, .created = 1, .cloned = 0, .taken = 0, .by_c = 0,
                      .by_rust = 1, .revoked = 1, .borrows = 3, .handoffs = 0, .rust_drops = 1,
                      .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The other fixture types' round trips                               */
/* ------------------------------------------------------------------ */

START_TEST(ownership_box_cell_rust_creates_c_borrows_rust_takes) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_CellBox c;
    int64_t v;
    expect_ok(fixture_cell_new(20, &c));
    ferry_kind k = 0;
    expect_ok(ferry_kind_of(Cell_untyped(c), &k));
    ck_assert_int_eq(k, FERRY_KIND_UNIQUE);
    /* A unique handle cannot be cloned. */
    ferry_handle none = {0};
    expect_status(ferry_clone(Cell_untyped(c), &none), FERRY_E_KIND);
    /* C borrows it mutably: the CellBox starts with its i64 Cell. */
    void *p = NULL;
    expect_ok(ferry_borrow_mut(Cell_untyped(c), mx_type(MX_CELL), &p));
    ck_assert_int_eq(*(int64_t *)p, 20);
    *(int64_t *)p = 21;
    expect_status(fixture_cell_add(c, 1, &v), FERRY_E_BORROWED);
    expect_ok(ferry_unborrow(Cell_untyped(c)));
    expect_ok(fixture_cell_add(c, 1, &v));
    ck_assert_int_eq(v, 22);
    expect_ok(fixture_cell_take(c, &v));
    ck_assert_int_eq(v, 22);

    mx_balance_expect(&b0, MX_CELL, .created = 1, .taken = 1, .borrows = 2, .handoffs = 0,
                      .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(ownership_rc_node_c_clones_and_drops_on_its_thread) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Node n, n2;
    int64_t v;
    expect_ok(fixture_node_new(9, &n));
    ferry_kind k = 0;
    expect_ok(ferry_kind_of(Node_untyped(n), &k));
    ck_assert_int_eq(k, FERRY_KIND_LOCAL);
    expect_ok(ferry_clone_as(Node, n, &n2));
    expect_ok(fixture_node_get(n2, &v));
    ck_assert_int_eq(v, 9);
    expect_ok(ferry_drop_as(Node, n));
    ck_assert_uint_eq(fixture_count(MX_NODE), b0.rust[MX_NODE]);
    expect_ok(fixture_node_get(n2, &v));
    expect_ok(ferry_drop_as(Node, n2));
    ck_assert_uint_eq(fixture_count(MX_NODE), b0.rust[MX_NODE] + 1);

    mx_balance_expect(&b0, MX_NODE, .created = 1, .cloned = 1, .by_c = 2, .borrows = 2,
                      .handoffs = 0, .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("mixed.ownership");
    ADD_CASE(s, ownership_rust_creates_c_clones_borrows_drops_rust_takes_back, 60);
    ADD_CASE(s, ownership_c_clones_rust_drops_every_handle, 60);
    ADD_CASE(s, ownership_duplicate_is_a_separate_object, 60);
    ADD_CASE(s, ownership_weak_from_c_expires_when_rust_takes_last, 60);
    ADD_CASE(s, ownership_library_b_reads_and_drops_library_a_handles, 60);
    ADD_CASE(s, ownership_library_b_sees_the_same_type, 60);
    ADD_CASE(s, ownership_rust_lends_c_borrows_within_the_call, 60);
    ADD_CASE(s, ownership_box_cell_rust_creates_c_borrows_rust_takes, 60);
    ADD_CASE(s, ownership_rc_node_c_clones_and_drops_on_its_thread, 60);
    return run_suite(s);
}
