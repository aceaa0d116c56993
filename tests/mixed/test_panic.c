/*
 * test_panic.c — a Rust panic behind the boundary becomes FERRY_E_PANIC with
 * the panic's text in ferry_last_error(); the process goes on, the borrow
 * guard the panicking code held is released by unwinding, and the object
 * stays usable and is dropped exactly once.
 *
 * Rust's default panic hook prints "thread ... panicked at ..." to stderr
 * for every panic here; that output is expected.
 */
#include "mixed_support.h"

#include <stdio.h>

START_TEST(panic_poke_explodes_returns_panic_and_process_goes_on) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    Handle_Panicky p;
    uint64_t pokes = 0;
    expect_ok(fixture_panicky_new(&p));
    expect_ok(fixture_panicky_poke(p, false, &pokes));
    ck_assert_uint_eq(pokes, 1);

    pokes = 12345;
    expect_status(fixture_panicky_poke(p, true, &pokes), FERRY_E_PANIC);
    msg_assert_starts("FERRY_E_PANIC");
    msg_assert_has("asked to explode after 1 pokes");
    msg_assert_has("panicked");
    msg_assert_has("lib.rs:");
    ck_assert_uint_eq(pokes, 12345); /* not written */

    /* The guard of the panicking call's borrow_mut was released while
     * unwinding: an exclusive borrow works again, and nothing is left to
     * unborrow. */
    expect_ok(fixture_panicky_poke(p, false, &pokes));
    ck_assert_uint_eq(pokes, 2);
    expect_status(ferry_unborrow(Panicky_untyped(p)), FERRY_E_BORROWED);
    void *obj = NULL;
    expect_ok(ferry_borrow_mut(Panicky_untyped(p), mx_type(MX_PANICKY), &obj));
    expect_ok(ferry_unborrow(Panicky_untyped(p)));

    /* Several more panics in a row change nothing either. */
    for (int i = 0; i < 5; i++) {
        expect_status(fixture_panicky_poke(p, true, &pokes), FERRY_E_PANIC);
        msg_assert_has("asked to explode after 2 pokes");
    }
    expect_ok(fixture_panicky_poke(p, false, &pokes));
    ck_assert_uint_eq(pokes, 3);

    ck_assert_uint_eq(fixture_count(MX_PANICKY), b0.rust[MX_PANICKY]);
    expect_ok(ferry_drop_as(Panicky, p));
    ck_assert_uint_eq(fixture_count(MX_PANICKY), b0.rust[MX_PANICKY] + 1);
    expect_status(ferry_drop_as(Panicky, p), FERRY_E_STALE);

    /* borrow_mut: 3 good pokes, 6 panicking ones (the borrow succeeded, the
     * method panicked), 1 from C */
    mx_balance_expect(&b0, MX_PANICKY, .created = 1, .by_c = 1, .borrows = 10, .handoffs = 0,
                      .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

typedef struct panic_job {
    Handle_Panicky p;
    ferry_status st, ok_st;
    uint64_t pokes;
    char msg[1024];
} panic_job;

static void *panic_thread(void *arg) {
    panic_job *j = arg;
    j->st = fixture_panicky_poke(j->p, true, &j->pokes);
    snprintf(j->msg, sizeof j->msg, "%s", ferry_last_error());
    j->ok_st = fixture_panicky_poke(j->p, false, &j->pokes);
    return NULL;
}

START_TEST(panic_on_another_thread_reports_there_only) {
    size_t live0 = ferry_live();
    mx_balance b0;
    mx_balance_take(&b0);

    /* This thread's last error is something else; the other thread's panic
     * must not overwrite it (the message is thread-local). */
    Handle_Counter null_h = {0};
    int64_t v;
    expect_status(fixture_counter_add(null_h, 1, &v), FERRY_E_NULL);

    Handle_Panicky p;
    expect_ok(fixture_panicky_new(&p));
    panic_job j = {.p = p, .pokes = 777};
    run_on_thread(panic_thread, &j);
    ck_assert_msg(j.st == FERRY_E_PANIC, "poke(explode) on another thread: %s (%s)",
                  ferry_status_name(j.st), j.msg);
    text_assert_has(j.msg, "FERRY_E_PANIC");
    text_assert_has(j.msg, "asked to explode after 0 pokes");
    ck_assert_int_eq(j.ok_st, FERRY_OK);
    ck_assert_uint_eq(j.pokes, 1);
    msg_assert_starts("FERRY_E_NULL");

    /* Back on this thread (a unique handle of a Send type moves freely). */
    uint64_t pokes;
    expect_ok(fixture_panicky_poke(p, false, &pokes));
    ck_assert_uint_eq(pokes, 2);
    expect_ok(ferry_drop_as(Panicky, p));

    /* borrows: 3 borrow_muts; handoffs: to the thread and back */
    mx_balance_expect(&b0, MX_PANICKY, .created = 1, .by_c = 1, .borrows = 3, .handoffs = 2,
                      .rust_drops = 1, .rust_clones = 0);
    ck_assert_uint_eq(ferry_live(), live0);
}
END_TEST

START_TEST(panic_policy_log_still_returns_panic) {
    /* FERRY_ON_ERROR=log prints the report and goes on; the status is the
     * same. (abort is not tested here: it would end the process.) */
    Handle_Panicky p;
    uint64_t pokes = 0;
    expect_ok(fixture_panicky_new(&p));
    ferry_error_policy old = ferry_set_error_policy(FERRY_POLICY_LOG);
    ferry_status st = fixture_panicky_poke(p, true, &pokes);
    ferry_set_error_policy(old);
    ck_assert_int_eq(st, FERRY_E_PANIC);
    msg_assert_has("asked to explode");
    expect_ok(fixture_panicky_poke(p, false, &pokes));
    ck_assert_uint_eq(pokes, 1);
    expect_ok(ferry_drop_as(Panicky, p));
}
END_TEST

int main(void) {
    Suite *s = suite_create("mixed.panic");
    ADD_CASE(s, panic_poke_explodes_returns_panic_and_process_goes_on, 60);
    ADD_CASE(s, panic_on_another_thread_reports_there_only, 60);
    ADD_CASE(s, panic_policy_log_still_returns_panic, 60);
    return run_suite(s);
}
