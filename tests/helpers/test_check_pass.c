/* test_check_pass.c — ferry/check.h's assertions on code that is right:
 * each must pass. Registered with ferry_add_test (leak check and abort on),
 * and run in both of Check's modes. */
#include "helpers_types.h"

#include <stdlib.h>

START_TEST(balanced_after_box_and_drop)
{
    const ferry_type *t = helpers_type("helpers.pass.Box", 0);
    ferry_mark all, one;
    ferry_ledger_mark(&all);
    ferry_ledger_mark_type(&one, t);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ck_assert_ferry_ok(ferry_drop(h));
    ferry_assert_balanced(&all);
    ferry_assert_balanced(&one);
}
END_TEST

START_TEST(balanced_after_clone_and_take)
{
    const ferry_type *t = helpers_type("helpers.pass.Shared", 1);
    ferry_mark m;
    ferry_ledger_mark_type(&m, t);
    ferry_handle a, b;
    void *obj = NULL;
    ck_assert_ferry_ok(ferry_share(t, &helpers_object, &a));
    ck_assert_ferry_ok(ferry_clone(a, &b));
    ck_assert_ferry_ok(ferry_take(a, t, &obj));
    ck_assert_ptr_eq(obj, &helpers_object);
    ck_assert_ferry_ok(ferry_drop(b));
    ferry_assert_balanced(&m);
}
END_TEST

/* A mark of one type ignores handles of every other type. */
START_TEST(type_mark_ignores_other_types)
{
    const ferry_type *mine = helpers_type("helpers.pass.Mine", 0);
    const ferry_type *other = helpers_type("helpers.pass.Other", 0);
    ferry_mark m;
    ferry_ledger_mark_type(&m, mine);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(other, &helpers_object, &h));
    ferry_assert_balanced(&m);
    ck_assert_ferry_ok(ferry_drop(h));
}
END_TEST

START_TEST(live_change_counts_handles_left_on_purpose)
{
    const ferry_type *t = helpers_type("helpers.pass.Kept", 0);
    ferry_mark m;
    ferry_ledger_mark_type(&m, t);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ferry_assert_live_change(&m, 1);
    ferry_mark after;
    ferry_ledger_mark_type(&after, t);
    ck_assert_ferry_ok(ferry_drop(h));
    ferry_assert_live_change(&after, -1);
    ferry_assert_balanced(&m);
}
END_TEST

/* A deliberate misuse under FERRY_ON_ERROR=abort: the test switches the
 * policy to return around it, as docs/testing.md says. */
START_TEST(status_of_a_deliberate_misuse)
{
    const ferry_type *t = helpers_type("helpers.pass.Stale", 0);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ck_assert_ferry_ok(ferry_drop(h));
    ferry_error_policy old = ferry_set_error_policy(FERRY_POLICY_RETURN);
    ck_assert_ferry_status(ferry_drop(h), FERRY_E_STALE);
    ck_assert_ferry_status(ferry_check(FERRY_NULL_HANDLE, t), FERRY_E_NULL);
    ferry_set_error_policy(old);
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ck_assert_ferry_status(ferry_check(h, t), FERRY_OK);
    ck_assert_ferry_ok(ferry_drop(h));
}
END_TEST

START_TEST(fixture_wraps_a_balanced_test)
{
    const ferry_type *t = helpers_type("helpers.pass.Fixture", 0);
    ferry_handle h;
    ck_assert_ferry_ok(ferry_box(t, &helpers_object, &h));
    ck_assert_ferry_ok(ferry_drop(h));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("helpers.check_pass");
    TCase *tc = tcase_create("assertions");
    tcase_add_test(tc, balanced_after_box_and_drop);
    tcase_add_test(tc, balanced_after_clone_and_take);
    tcase_add_test(tc, type_mark_ignores_other_types);
    tcase_add_test(tc, live_change_counts_handles_left_on_purpose);
    tcase_add_test(tc, status_of_a_deliberate_misuse);
    suite_add_tcase(s, tc);
    TCase *fx = tcase_create("fixture");
    tcase_add_checked_fixture(fx, ferry_ck_mark_setup, ferry_ck_balanced_teardown);
    tcase_add_test(fx, fixture_wraps_a_balanced_test);
    suite_add_tcase(s, fx);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
